# SPDX-License-Identifier: GPL-2.0-only
# The kernel engine of `capx filter` (the translated eBPF injected into a
# BPF program and run by BPF_PROG_TEST_RUN, in packet and in buffer access)
# agrees with the user-space executor inside each guest kernel, whose
# verifier is not this machine's (6.1's is older): the same packets kept,
# byte for byte, for expressions that exercise indexed loads, the IP header
# length idiom, arithmetic, IPv6, and length tests, on traffic captured
# here by capx ring.
# The host half checks the counts against tcpdump (libpcap) on the capture.
$CAPX filter --help >/dev/null 2>&1 || vm_skip "this capx has no filter subcommand"

$CAPX ring -i lo -w all.pcap 2>ring.err &
ring=$!
vm_wait_packet_sockets 1 60
ping -c 2 -i 0.2 127.0.0.1 >/dev/null
ping -c 1 -s 300 127.0.0.1 >/dev/null
ping6 -c 2 -i 0.2 ::1 >/dev/null
echo "hello capx" | nc -l -p 8080 >/dev/null &
server=$!
usleep 300000
echo "bye" | nc -w 2 127.0.0.1 8080 >/dev/null || true
vm_wait_exit "$server" 20
nc -w 1 127.0.0.1 9 </dev/null 2>/dev/null || true
nslookup capx.test 127.0.0.1 >/dev/null 2>&1 || true   # UDP, then ICMP unreachable
sleep 1
kill -INT "$ring"
vm_wait_exit "$ring" 30
[ "$vm_status" = 0 ] || vm_fail "capx ring exited with $vm_status"
total=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' ring.err)
echo "captured $total packets"

cat >expressions <<'END'
ip
icmp[icmptype] = icmp-echoreply
tcp port 8080
tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn
tcp[tcpflags] & tcp-rst != 0
(ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) > 0
udp port 53
ip6 and icmp6
icmp6[icmp6type] = icmp6-echoreply
greater 200
len % 3 = 0
ip[8] * 2 > 100 and not tcp
END
status=0
: >kept
while IFS= read -r expression; do
	$CAPX filter -r all.pcap -w user.pcap --engine user -e "$expression" 2>user.err ||
		vm_fail "user engine failed on '$expression': $(cat user.err)"
	$CAPX filter -r all.pcap -w kernel.pcap --engine kernel --mode both -e "$expression" 2>kernel.err ||
		vm_fail "kernel engine failed on '$expression': $(cat kernel.err)"
	kept=$(sed -n 's/.* read, \([0-9]*\) kept.*/\1/p' user.err)
	echo "$kept" >>kept
	if ! cmp -s user.pcap kernel.pcap; then
		echo "'$expression': the engines disagree ($(cat user.err) / $(cat kernel.err))"
		status=1
	elif [ "$kept" = 0 ] || [ "$kept" = "$total" ]; then
		echo "'$expression': kept $kept of $total, the traffic does not exercise it"
		status=1
	else
		echo "'$expression': $kept of $total kept by both engines"
	fi
done <expressions
[ "$status" = 0 ] || vm_fail "see above"
vm_export all.pcap
vm_export expressions
vm_export kept
