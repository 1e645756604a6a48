# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool
# vm-modules: veth
# Filter expressions where the packet starts at L2 and where it starts at
# L3, one capx session each, all on the same traffic; each keeps what
# tcpdump's filter keeps from the reference capture on skb-a.
#  - __netif_receive_skb sees received frames (MAC header set): the
#    Ethernet-compiled filter over the frame, an IP one and a MAC one.
#  - ip_output sees locally sent packets before any MAC header exists: the
#    RAW-compiled filter over the network bytes; the capture holds them
#    behind a made-up Ethernet header. An expression about Ethernet fields
#    cannot apply there and keeps nothing.
vm_need_skb
vm_veth_pair
vm_reference skb-a ref.pcap
# name hook expression, one session each
cat >sessions <<'END'
l2-icmp __netif_receive_skb icmp
l2-mac __netif_receive_skb ether src 02:00:00:00:01:0b
l3-icmp ip_output icmp
l3-ports ip_output udp port 53 or tcp[13] & 4 != 0
l3-mac ip_output ether src 02:00:00:00:01:0a
END
pids=
while read -r name hook expression; do
	vm_skb_start "$name.err" 1 -f "$hook" -w "$name.pcap" "$expression"
	pids="$pids $vm_skb_pid"
done <sessions
vm_traffic
vm_stop $pids "$vm_reference_pid"

vm_expect_eq "$(vm_packets ref.pcap ip | wc -l)" 12 "IPv4 packets tcpdump saw"
while read -r name hook expression; do
	echo "== $name: $hook '$expression'"
	cat "$name.err"
	case $name in
	l2-*)
		vm_packets ref.pcap "$expression" >"$name.expected"
		vm_packets "$name.pcap" >"$name.got"
		;;
	l3-mac)
		vm_expect_eq "$(vm_packets "$name.pcap" | wc -l)" 0 "$name: packets kept at L3"
		continue
		;;
	l3-*)
		vm_packets ref.pcap -x "$expression" >"$name.expected"
		vm_packets "$name.pcap" -x >"$name.got"
		vm_expect_eq "$(vm_packets "$name.pcap" | cut -c1-28 | sort -u)" \
			0000000000000000000000000800 "$name: made-up Ethernet headers"
		;;
	esac
	kept=$(wc -l <"$name.expected")
	[ "$kept" -gt 0 ] && [ "$kept" -lt 12 ] ||
		vm_fail "$name: tcpdump keeps $kept of 12: the traffic does not exercise '$expression'"
	vm_same_packets "$name.expected" "$name.got" "$name ($hook '$expression')"
done <sessions
