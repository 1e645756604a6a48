# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool
# vm-modules: veth
# `capx skb -f ip_rcv`: a bare function name becomes fentry where the kernel
# allows it (this one does), and the sk_buff is found from BTF (the first of
# ip_rcv's four arguments). Every IPv4 packet crossing a veth pair, in
# either namespace, is captured at ip_rcv of the receiving end with the
# bytes tcpdump saw on skb-a, Ethernet header included.
vm_need_skb
vm_veth_pair
vm_reference skb-a ref.pcap
vm_skb_start capx.err 1 -f ip_rcv -w skb.pcap
bpftool link show >links
cat links
grep -q 'attach_type trace_fentry' links || vm_fail "ip_rcv is not attached as fentry"
vm_traffic
vm_stop "$vm_skb_pid" "$vm_reference_pid"
cat capx.err
vm_packets ref.pcap ip >expected
vm_packets skb.pcap >got
vm_expect_at_least "$(wc -l <expected)" 12 "IPv4 packets tcpdump saw"
vm_same_packets expected got "ip_rcv (fentry)"
