# SPDX-License-Identifier: GPL-2.0-only
# Host half of 90-console-channel: the blob arrived, all of it.
size=$(stat -c %s "$VM_ARTEFACTS/blob" 2>/dev/null || echo missing)
echo "blob: $size bytes"
[ "$size" = 49152 ]
