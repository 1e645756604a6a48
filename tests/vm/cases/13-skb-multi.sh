# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool
# vm-modules: veth
# Three probes in one session, two attach types, one ring buffer: pings
# across the veth pair are seen at __netif_receive_skb (fentry), ip_rcv
# (fentry) and ip_local_deliver (kprobe), each packet once at each, with the
# bytes tcpdump saw on skb-a (checked here). The pcapng goes to the host
# (13-skb-multi.host.sh), where tshark checks one interface per probe, and
# per packet the probe, the same sk_buff address at all three, the device
# and network namespace that received it.
vm_need_skb
vm_veth_pair
{
	stat -L -c %i /proc/self/ns/net
	ip netns exec skb-peer stat -L -c %i /proc/self/ns/net
	cat /sys/class/net/skb-a/ifindex
	ip netns exec skb-peer cat /sys/class/net/skb-b/ifindex
} >ids
echo "netns here, netns of the peer, ifindex of skb-a, of skb-b: $(echo $(cat ids))"

vm_reference skb-a ref.pcap
vm_skb_start capx.err 3 -f __netif_receive_skb,ip_rcv -f kprobe:ip_local_deliver --pcapng -w multi.pcapng icmp
ping -c 2 -i 0.2 10.200.1.2 >/dev/null
ip netns exec skb-peer ping -c 1 10.200.1.1 >/dev/null
nc -w 1 10.200.1.2 9 </dev/null 2>/dev/null || true   # not ICMP: filtered out
vm_stop "$vm_skb_pid" "$vm_reference_pid"
cat capx.err

vm_packets ref.pcap icmp >icmp
vm_expect_eq "$(wc -l <icmp)" 6 "ICMP packets tcpdump saw"
awk '{ print; print; print }' icmp | sort >expected
vm_packets multi.pcapng >got
vm_same_packets expected got "three probes"
vm_export multi.pcapng
vm_export ids
