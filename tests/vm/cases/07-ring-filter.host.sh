# SPDX-License-Identifier: GPL-2.0-only
# Host half of 07-ring-filter: for each expression, tcpdump's verdict on the
# unfiltered capture equals what capx's filtered capture kept, packet for
# packet and byte for byte (timestamps aside: each socket stamps its own;
# order aside between CPUs, see packets()).
command -v tcpdump >/dev/null || { echo "no tcpdump on the host"; exit 77; }
cd "$VM_ARTEFACTS" || exit 1
decode() { tcpdump -nn -t -x -r "$@" 2>/dev/null; }
# One line per packet (tcpdump's line and its hex), sorted: the guest has two
# CPUs, and each delivers its own packets to every packet socket in turn
# (__netif_receive_skb_core() and dev_queue_xmit_nit() walk ptype_all per
# packet on the CPU that handles it), so two sockets may record packets of
# different CPUs in a different order. Which packets, and their bytes, must
# still agree exactly.
packets() { awk '/^[^ \t]/ { if (p != "") print p; p = $0; next } { p = p " |" $0 } END { if (p != "") print p }' | LC_ALL=C sort; }
total=$(decode all.pcap | grep -c '^[^ 	]')
echo "unfiltered: $total packets"
[ "$total" -ge 12 ] || { echo "too little traffic to compare"; exit 1; }
status=0 n=0
while IFS= read -r expression; do
	n=$((n + 1))
	decode all.pcap "$expression" | packets >expected-$n
	decode filtered-$n.pcap | packets >got-$n
	kept=$(wc -l <got-$n)
	if cmp -s expected-$n got-$n; then
		echo "'$expression': $kept of $total, same as tcpdump"
	else
		echo "'$expression': differs from tcpdump:"
		diff expected-$n got-$n | head -20
		status=1
	fi
	# An expression that keeps nothing or everything proves little.
	if [ "$kept" = 0 ] || [ "$kept" = "$total" ]; then
		echo "'$expression' kept $kept of $total: the traffic does not exercise it"
		status=1
	fi
done <expressions
exit $status
