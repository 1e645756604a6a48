# The guest runs the kernel the runner fetched, and that kernel has what
# `capx skb` needs and this machine's kernel lacks: BTF, kprobes, ftrace
# (the fentry/fexit trampolines), and networking functions it may trace.
vm_expect_eq "$(uname -r)" "$(cat /etc/capx-vm/kernel-release)" "kernel release"
[ -s /sys/kernel/btf/vmlinux ] || vm_fail "no BTF at /sys/kernel/btf/vmlinux"
[ -e /sys/kernel/tracing/kprobe_events ] || vm_fail "no kprobe_events in tracefs"
[ -e /sys/bus/event_source/devices/kprobe/type ] || vm_fail "no kprobe PMU"
# One pass over each list: grep under TCG is slow.
wanted="ip_rcv __netif_receive_skb kfree_skb_reason __dev_queue_xmit"
traceable=$(grep -xE "$(echo $wanted | tr ' ' '|')" /sys/kernel/tracing/available_filter_functions | sort -u)
vm_expect_eq "$(echo $traceable)" "$(echo $wanted | tr ' ' '\n' | sort | xargs)" "traceable (available_filter_functions)"
