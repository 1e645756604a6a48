# SPDX-License-Identifier: GPL-2.0-only
# Host half of 06-ring-icmp: tcpdump reads what capx wrote inside the guest.
pcap=$VM_ARTEFACTS/ring.pcap
command -v tcpdump >/dev/null || { echo "no tcpdump on the host"; exit 77; }
[ -f "$pcap" ] || { echo "no ring.pcap came back"; exit 1; }
tcpdump -nn -r "$pcap" >decoded 2>/dev/null || { echo "tcpdump cannot read ring.pcap"; exit 1; }
cat decoded
# 4 packets, all ICMP echo of 56 data bytes (64 ICMP, 98 on the wire), and
# the file is exactly the pcap header plus 4 records of 16 + 98 bytes.
count=$(wc -l <decoded)
echo_lines=$(grep -c 'ICMP echo \(request\|reply\), id [0-9]*, seq [0-9]*, length 64$' decoded)
size=$(stat -c %s "$pcap")
echo "packets $count, ICMP echo lines $echo_lines, file $size bytes"
[ "$count" = 4 ] && [ "$echo_lines" = 4 ] && [ "$size" = $((24 + 4 * (16 + 98))) ]
