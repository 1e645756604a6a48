# SPDX-License-Identifier: GPL-2.0-only
# Host half of 13-skb-multi: tshark reads the interfaces and the packet
# comments of the pcapng capx wrote in the guest; tcpdump the bytes.
command -v tshark >/dev/null || { echo "no tshark on the host"; exit 77; }
cd "$VM_ARTEFACTS" || exit 1
set -- $(cat ids)
netns_here=$1 netns_peer=$2 ifindex_a=$3 ifindex_b=$4
# One line per record, in file order: interface id, name, comment, bytes.
tshark -r multi.pcapng -T fields -E separator=/t -e frame.interface_id \
	-e frame.interface_name -e frame.comment 2>/dev/null >fields || { echo "tshark cannot read multi.pcapng"; exit 1; }
tcpdump -nn -t -xx -r multi.pcapng 2>/dev/null |
	awk '/^[ \t]/ { for (i = 2; i <= NF; i++) h = h $i; next } { if (n++) print h; h = "" } END { if (n) print h }' >bytes
paste fields bytes >records
head -n 3 records | cut -c1-200
awk -F '\t' -v here="$netns_here" -v peer="$netns_peer" -v a="$ifindex_a" -v b="$ifindex_b" '
BEGIN {
	want[0] = "__netif_receive_skb@fentry"; want[1] = "ip_rcv@fentry"; want[2] = "ip_local_deliver@kprobe"
}
function fail(why) { print "record " NR ": " why; bad = 1 }
{
	if ($2 != want[$1]) fail("interface " $1 " is named \"" $2 "\", expected \"" want[$1] "\"")
	if (!match($3, /skb=0x[0-9a-f]+/)) { fail("no skb= in comment \"" $3 "\""); next }
	skb = substr($3, RSTART + 4, RLENGTH - 4)
	dev = $3; sub(/.*dev=/, "", dev); sub(/[^0-9].*/, "", dev)
	ns = $3; sub(/.*netns=/, "", ns); sub(/[^0-9].*/, "", ns)
	# The IPv4 source (frame bytes 26-29) tells which end received it.
	src = substr($4, 53, 8)
	if (src == "0ac80101") { wantdev = b; wantns = peer } else { wantdev = a; wantns = here }
	if (dev != wantdev || ns != wantns)
		fail("a packet from " src " seen on dev " dev " netns " ns ", expected dev " wantdev " netns " wantns)
	# The same sk_buff, with the same bytes, goes through the probes in order.
	key = skb " " $4
	if (seen[key] != $1) fail("skb " skb " at probe " $1 " after " seen[key] " probes")
	seen[key] = $1 + 1
	records++
}
END {
	for (key in seen) {
		groups++
		if (seen[key] != 3) { print "skb " substr(key, 1, 18) " seen at " seen[key] " of 3 probes"; bad = 1 }
	}
	print records " records, " groups " packets each at the three probes in order, same skb address"
	if (records != 18 || groups != 6) { print "expected 18 records of 6 packets"; bad = 1 }
	exit bad
}' records
