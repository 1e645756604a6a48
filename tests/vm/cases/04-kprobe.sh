# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: vm-attach-probe
# A kprobe (through the kprobe PMU) on ip_rcv runs for each looped-back
# ping: this machine's kernel has no kprobes at all.
vm-attach-probe kprobe ip_rcv -- ping -c 2 -W 2 127.0.0.1
