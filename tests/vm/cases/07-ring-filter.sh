# SPDX-License-Identifier: GPL-2.0-only
# What you see is what you filter, in each guest kernel: capx ring with a
# filter (run by the kernel's socket filter on lo) keeps exactly the packets
# that tcpdump, on the host, keeps from an unfiltered capture of the same
# traffic (07-ring-filter.host.sh). Traffic: pings of two sizes, a TCP
# exchange with data, and SYNs to a closed port (answered by RST).
expressions="icmp[icmptype] = icmp-echoreply
tcp[tcpflags] & tcp-rst != 0
tcp and greater 70
less 100
ip and not icmp"
echo "$expressions" >expressions
$CAPX ring -i lo -w all.pcap 2>all.err &
pids=$!
i=0
while IFS= read -r expression; do
	i=$((i + 1))
	$CAPX ring -i lo -w "filtered-$i.pcap" -e "$expression" 2>"filtered-$i.err" &
	pids="$pids $!"
done <expressions
vm_wait_packet_sockets $((i + 1)) 90

ping -c 2 -i 0.2 127.0.0.1 >/dev/null
ping -c 1 -s 300 127.0.0.1 >/dev/null
echo "hello capx" | nc -l -p 8080 >received &
server=$!
usleep 300000
echo "bye" | nc -w 2 127.0.0.1 8080 >/dev/null || true
vm_wait_exit "$server" 20
nc -w 1 127.0.0.1 9 </dev/null || true
nc -w 1 127.0.0.1 10 </dev/null || true
sleep 1   # let the rings hand over their last blocks (--retire-timeout)

kill -INT $pids
for pid in $pids; do
	vm_wait_exit "$pid" 30
	[ "$vm_status" = 0 ] || vm_fail "capx ring (pid $pid) exited with $vm_status"
done
cat all.err
vm_expect_eq "$(cat received)" "bye" "TCP payload"
vm_export expressions
vm_export all.pcap
for n in $(seq "$i"); do
	vm_export "filtered-$n.pcap"
done
