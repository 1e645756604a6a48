# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool
# vm-modules: veth
# `kprobe:FUNC@N`: kprobes with the sk_buff's argument given. ip_rcv@1 sees
# what arrives (MAC header set: L2, as tcpdump saw it on skb-a);
# ip_finish_output2@3 (net, sk, skb) sees what this host and its peer send,
# before the neighbour layer writes a MAC header: L3, the network bytes as
# tcpdump saw them behind a made-up Ethernet header of zero addresses and
# type IPv4. A wrong @N is refused from BTF before anything is attached.
vm_need_skb
vm_veth_pair

if $CAPX skb -f kprobe:ip_rcv@2 -w wrong.pcap 2>wrong.err; then
	vm_fail "capx skb -f kprobe:ip_rcv@2 was accepted"
fi
cat wrong.err
grep -qF "argument 2 of ip_rcv is 'struct net_device *', not 'struct sk_buff *'" wrong.err ||
	vm_fail "no BTF error for kprobe:ip_rcv@2: $(cat wrong.err)"
vm_expect_eq "$(vm_bpf_links)" 0 "BPF links after the refused spec"

vm_reference skb-a ref.pcap
vm_skb_start in.err 1 -f kprobe:ip_rcv@1 -w in.pcap
receive=$vm_skb_pid
vm_skb_start out.err 1 -f kprobe:ip_finish_output2@3 -w out.pcap
send=$vm_skb_pid
bpftool prog show >progs
cat progs
vm_expect_eq "$(grep -c '^[0-9]*: kprobe ' progs)" 2 "kprobe programs"
vm_traffic
vm_stop "$receive" "$send" "$vm_reference_pid"
cat in.err out.err

vm_packets ref.pcap ip >expected
vm_expect_at_least "$(wc -l <expected)" 12 "IPv4 packets tcpdump saw"
vm_packets in.pcap >got
vm_same_packets expected got "ip_rcv@1 (kprobe)"

vm_packets ref.pcap -x ip >expected-l3
vm_packets out.pcap -x >got-l3
vm_same_packets expected-l3 got-l3 "ip_finish_output2@3 (kprobe), network bytes"
vm_packets out.pcap | cut -c1-28 | sort -u >headers
vm_expect_eq "$(cat headers)" 0000000000000000000000000800 "made-up Ethernet headers"
