# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool
# vm-modules: veth
# `capx skb -f fexit:eth_type_trans`: the sk_buff as eth_type_trans leaves
# it (MAC header set at the frame's start, data pulled past it): every
# frame either end of the veth pair receives, as tcpdump saw it on skb-a.
# Not fexit:ip_rcv: ip_rcv hands the sk_buff on (NF_HOOK -> ip_rcv_finish
# -> delivery, which frees or queues it) before it returns, so at its exit
# the sk_buff may already be freed memory. An exit probe means something
# only where the function leaves the sk_buff alive, as eth_type_trans does
# for its callers (veth's __dev_forward_skb, loopback_xmit).
vm_need_skb
vm_veth_pair
vm_reference skb-a ref.pcap
vm_skb_start capx.err 1 -f fexit:eth_type_trans -w skb.pcap
bpftool link show >links
cat links
grep -q 'attach_type trace_fexit' links || vm_fail "eth_type_trans is not attached as fexit"
vm_traffic
vm_stop "$vm_skb_pid" "$vm_reference_pid"
cat capx.err
vm_packets ref.pcap >expected
vm_packets skb.pcap >got
vm_expect_at_least "$(wc -l <expected)" 12 "frames tcpdump saw"
vm_same_packets expected got "eth_type_trans (fexit)"
