# SPDX-License-Identifier: GPL-2.0-only
# Host half of 08-filter-engines: libpcap (tcpdump -r) keeps as many packets
# of the guest's capture as both capx engines did, expression by expression.
command -v tcpdump >/dev/null || { echo "no tcpdump on the host"; exit 77; }
cd "$VM_ARTEFACTS" || exit 1
status=0
exec 3<kept
while IFS= read -r expression; do
	read -r kept <&3
	expected=$(tcpdump -nn -r all.pcap "$expression" 2>/dev/null | wc -l)
	if [ "$expected" = "$kept" ]; then
		echo "'$expression': $kept, as tcpdump"
	else
		echo "'$expression': capx kept $kept, tcpdump $expected"
		status=1
	fi
done <expressions
exit $status
