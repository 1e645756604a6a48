# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool
# vm-modules: veth
# kill -9 while capturing leaves nothing attached: capx's links are owned by
# its file descriptors, so the kernel detaches them when the process dies.
# Checked where the kernel keeps them, not through capx: bpftool (links,
# programs, maps by id), the kprobe list in debugfs, the ftrace functions
# with a BPF trampoline (enabled_functions), the tracefs kprobe events (a
# legacy kprobe would outlive its process). Each check first sees the live
# session, so it can see a leftover. Then a new session captures again.
vm_need_skb
vm_veth_pair
count() { "$@" | grep -c '^[0-9]*: ' || true; }
probes() {
	grep -w ip_local_deliver /sys/kernel/debug/kprobes/list || true
	grep -E '^(ip_rcv|eth_type_trans) ' /sys/kernel/tracing/enabled_functions || true
	cat /sys/kernel/tracing/kprobe_events
}
progs=$(count bpftool prog show) maps=$(count bpftool map show)
echo "before: $progs programs, $maps maps, no links"

vm_skb_start capx.err 3 -f ip_rcv -f fexit:eth_type_trans -f kprobe:ip_local_deliver -w killed.pcap
bpftool link show
probes >live
cat live
grep -q ip_local_deliver live || vm_fail "the kprobe on ip_local_deliver is not in kprobes/list"
grep -q '^ip_rcv ' live || vm_fail "ip_rcv has no trampoline in enabled_functions"
grep -q '^eth_type_trans ' live || vm_fail "eth_type_trans has no trampoline in enabled_functions"
[ "$(count bpftool prog show)" -gt "$progs" ] || vm_fail "bpftool shows no capx program"

ping -c 100 -i 0.1 10.200.1.2 >/dev/null &
traffic=$!
sleep 1
kill -9 "$vm_skb_pid"
vm_wait_exit "$vm_skb_pid" 30
vm_expect_eq "$vm_status" 137 "capx exit status (SIGKILL)"

# Programs and maps are freed after an RCU grace period: a few seconds' grace.
n=0
until [ "$(count bpftool link show)" = 0 ] && [ "$(count bpftool prog show)" = "$progs" ] &&
	[ "$(count bpftool map show)" = "$maps" ] && [ -z "$(probes)" ]; do
	n=$((n + 1))
	if [ "$n" -gt 20 ]; then
		bpftool link show; bpftool prog show; bpftool map show; probes
		vm_fail "capx's BPF objects are still in the kernel 10 s after kill -9"
	fi
	usleep 500000
done
echo "after kill -9: no link, $progs programs, $maps maps, no kprobe or trampoline (after $n checks)"
kill "$traffic" 2>/dev/null || true

vm_skb_start again.err 1 -f ip_rcv -c 2 -w again.pcap
ping -c 2 -i 0.2 10.200.1.2 >/dev/null
vm_wait_exit "$vm_skb_pid" 60
cat again.err
vm_expect_eq "$vm_status" 0 "exit status of the next session (-c 2)"
vm_expect_eq "$(vm_packets again.pcap | wc -l)" 2 "packets the next session captured"
