# SPDX-License-Identifier: GPL-2.0-only
# The guest runs the kernel the runner fetched, and that kernel has what
# `capx skb` needs and this machine's kernel lacks: BTF, kprobes, ftrace
# (the fentry/fexit trampolines), and networking functions it may trace.
vm_expect_eq "$(uname -r)" "$(cat /etc/capx-vm/kernel-release)" "kernel release"
[ -s /sys/kernel/btf/vmlinux ] || vm_fail "no BTF at /sys/kernel/btf/vmlinux"
[ -e /sys/kernel/tracing/kprobe_events ] || vm_fail "no kprobe_events in tracefs"
[ -e /sys/bus/event_source/devices/kprobe/type ] || vm_fail "no kprobe PMU"
# One pass over each list: grep under TCG is slow. The drop path's
# function differs by kernel: kfree_skb_reason (6.1) became an inline
# wrapper of sk_skb_reason_drop in 6.11 (6.12 and 7.x list only the latter);
# either name will do.
wanted="ip_rcv __netif_receive_skb __dev_queue_xmit"
drop="kfree_skb_reason sk_skb_reason_drop"
traceable=$(grep -xE "$(echo $wanted $drop | tr ' ' '|')" /sys/kernel/tracing/available_filter_functions | sort -u)
found=
for name in $wanted; do
	echo "$traceable" | grep -qx "$name" && found="$found $name"
done
vm_expect_eq "$(echo $found)" "$wanted" "traceable (available_filter_functions)"
dropper=$(echo "$traceable" | grep -xE "$(echo $drop | tr ' ' '|')" | head -n 1)
[ -n "$dropper" ] || vm_fail "neither of $drop is traceable: no drop path to probe"
echo "drop path: $dropper"
