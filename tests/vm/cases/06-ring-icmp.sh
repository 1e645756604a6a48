# SPDX-License-Identifier: GPL-2.0-only
# capx ring captures pings on lo inside the guest kernel: -c stops it after
# exactly 4 packets, the filter keeps only ICMP (a TCP SYN to a closed port
# and its RST go first, and must not count), and the pcap goes to the host,
# where tcpdump reads it back (06-ring-icmp.host.sh).
$CAPX ring -i lo -c 4 -w ring.pcap icmp 2>capx.err &
capx=$!
vm_wait_packet_sockets 1 60
nc -w 1 127.0.0.1 9 </dev/null 2>/dev/null || true
ping -c 10 -i 0.2 127.0.0.1 >/dev/null &
vm_wait_exit "$capx" 60
kill $! 2>/dev/null || true
cat capx.err
[ "$vm_status" = 0 ] || vm_fail "capx ring exited with $vm_status"
vm_export ring.pcap
