# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool
# vm-modules: veth 8021q
# A VLAN tag the kernel holds in skb->vlan_tci is put back into the bytes.
# VLAN 7 devices on both ends of the pair: veth offers VLAN transmit
# offload, so the 8021q driver hands it the tag in vlan_tci beside untagged
# data, and the receiving end's __netif_receive_skb (fentry) still sees it
# there (skb_vlan_untag / vlan_do_receive run after it, in
# __netif_receive_skb_core). tcpdump on skb-a writes the tagged frames
# (libpcap puts back the tag from PACKET_AUXDATA); the filter `vlan 7 and
# icmp` must match the bytes with the tag.
vm_need_skb
vm_veth_pair
ip link add link skb-a name skb-a.7 address 02:00:00:00:07:0a type vlan id 7
ip -n skb-peer link add link skb-b name skb-b.7 address 02:00:00:00:07:0b type vlan id 7
echo 1 >/proc/sys/net/ipv6/conf/skb-a.7/disable_ipv6
ip netns exec skb-peer sh -c 'echo 1 >/proc/sys/net/ipv6/conf/skb-b.7/disable_ipv6'
ip addr add 10.200.7.1/24 dev skb-a.7
ip -n skb-peer addr add 10.200.7.2/24 dev skb-b.7
ip neigh add 10.200.7.2 lladdr 02:00:00:00:07:0b dev skb-a.7 nud permanent
ip -n skb-peer neigh add 10.200.7.1 lladdr 02:00:00:00:07:0a dev skb-b.7 nud permanent
ip link set skb-a.7 up
ip -n skb-peer link set skb-b.7 up

vm_reference skb-a ref.pcap
vm_skb_start capx.err 1 -f __netif_receive_skb -w vlan.pcap vlan 7 and icmp
ping -c 2 -i 0.2 10.200.7.2 >/dev/null
ping -c 1 10.200.1.2 >/dev/null   # untagged: filtered out
vm_stop "$vm_skb_pid" "$vm_reference_pid"
cat capx.err

vm_packets ref.pcap 'vlan 7 and icmp' >expected
vm_expect_eq "$(wc -l <expected)" 4 "tagged ICMP frames tcpdump saw"
vm_expect_eq "$(cut -c25-32 expected | sort -u)" 81000007 "their tag"
vm_packets vlan.pcap >got
vm_same_packets expected got "__netif_receive_skb, VLAN tag from vlan_tci"
