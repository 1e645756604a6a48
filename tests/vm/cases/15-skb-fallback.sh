# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool vm-attach-probe
# vm-modules: veth
# A bare FUNC falls back from fentry to kprobe when this kernel refuses the
# fentry. How it is refused here: ip_send_unicast_reply (which sends a TCP
# RST for an sk_buff that reached a closed port) has 9 arguments, and the
# x86-64 BPF trampoline of 6.1 takes at most 6 (arch_prepare_bpf_trampoline,
# arch/x86/net/bpf_jit_comp.c: -ENOTSUPP), so the fentry program loads but
# cannot attach, while a kprobe on the same function works. A real case
# (kernels before 6.6), not a knob that would also switch off the kprobe
# (ftrace_enabled) or the whole of BPF tracing. vm-attach-probe, capx-free,
# first proves that this kernel refuses it; a kernel that allows it skips.
# The capture: the SYNs to a closed port, as tcpdump saw them on skb-a.
vm_need_skb
vm_veth_pair
rst='nc -w 1 10.200.1.2 9 </dev/null 2>/dev/null; true'   # a SYN to a closed port
if vm-attach-probe fentry ip_send_unicast_reply -- sh -c "$rst" 2>fentry.err; then
	vm_skip "this kernel attaches fentry to ip_send_unicast_reply: nothing to fall back from"
fi
cat fentry.err
grep -q 'attaching' fentry.err || vm_fail "the fentry yardstick failed before attaching"
vm-attach-probe kprobe ip_send_unicast_reply -- sh -c "$rst"

vm_reference skb-a ref.pcap
vm_skb_start capx.err 1 -f ip_send_unicast_reply --pcapng -w fallback.pcapng
bpftool link show >links
bpftool prog show >progs
cat links progs
vm_expect_eq "$(grep -c '^[0-9]*: ' progs)" 1 "BPF programs left loaded (the refused fentry's is gone)"
vm_expect_eq "$(grep -c '^[0-9]*: kprobe ' progs)" 1 "kprobe programs"
nc -w 1 10.200.1.2 9 </dev/null 2>/dev/null || true
nc -w 1 10.200.1.2 10 </dev/null 2>/dev/null || true
ping -c 1 10.200.1.2 >/dev/null   # no RST: not seen
vm_stop "$vm_skb_pid" "$vm_reference_pid"
cat capx.err

strings fallback.pcapng | grep -x 'ip_send_unicast_reply@kprobe' ||
	vm_fail "no interface named ip_send_unicast_reply@kprobe in the pcapng"
vm_packets ref.pcap 'tcp[tcpflags] = tcp-syn' >expected
vm_expect_eq "$(wc -l <expected)" 2 "SYNs tcpdump saw"
vm_packets fallback.pcapng >got
vm_same_packets expected got "ip_send_unicast_reply (kprobe after fentry)"
