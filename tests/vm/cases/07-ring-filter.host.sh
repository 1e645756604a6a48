# Host half of 07-ring-filter: for each expression, tcpdump's verdict on the
# unfiltered capture equals what capx's filtered capture kept, packet for
# packet and byte for byte (timestamps aside: each socket stamps its own).
command -v tcpdump >/dev/null || { echo "no tcpdump on the host"; exit 77; }
cd "$VM_ARTEFACTS" || exit 1
decode() { tcpdump -nn -t -x -r "$@" 2>/dev/null; }
total=$(decode all.pcap | grep -c '^[^ 	]')
echo "unfiltered: $total packets"
[ "$total" -ge 12 ] || { echo "too little traffic to compare"; exit 1; }
status=0 n=0
while IFS= read -r expression; do
	n=$((n + 1))
	decode all.pcap "$expression" >expected-$n
	decode filtered-$n.pcap >got-$n
	kept=$(grep -c '^[^ 	]' got-$n)
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
