# SPDX-License-Identifier: GPL-2.0-only
# The channel later cases use to hand files to host-side oracles: 48 KiB of
# random bytes, base64 on the serial console; the runner checks size and
# sha256, the host half that the file arrived whole.
dd if=/dev/urandom of=blob bs=1024 count=48 2>/dev/null
vm_export blob
