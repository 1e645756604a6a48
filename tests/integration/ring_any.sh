#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# -i any: cooked capture written as LINUX_SLL2 (DLT 276). tcpdump decodes
# it, and the packets equal tcpdump's own `-i any -y LINUX_SLL2` capture of
# the same traffic byte for byte (SLL2 header included), unfiltered and
# with filters (which capx runs in user space on the SLL2 bytes).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ring_traffic.sh"
require_root
require_cmd tcpdump python3 ping ip
require_capx
W=$(work_dir)
make_pair any

EXPRS=("" "icmp" "tcp port 8080" "udp or arp" "inbound and icmp6" "outbound" "greater 1000")
start_in "$NS_CAP" tcpdump -i any -y LINUX_SLL2 -s 0 --immediate-mode -U -w "$W/full.pcap"
PIDS=("$BG_PID")
for i in "${!EXPRS[@]}"; do
	start_in "$NS_CAP" "$CAPX" ring -i any -B 512 --block-size 64 -w "$W/any$i.pcap" -e "${EXPRS[$i]}"
	PIDS+=("$BG_PID")
done
wait_sockets "$NS_CAP" "${#PIDS[@]}"

in_peer ping -c 3 -i 0.2 -q "$IP_CAP" >/dev/null
in_peer ping -c 1 -s 1200 -q "$IP_CAP" >/dev/null
in_peer ping -6 -c 2 -i 0.2 -q "$IP6_CAP" >/dev/null
in_peer bash -c "echo hello > /dev/udp/$IP_CAP/5000"
tcp_exchange
# Loopback traffic inside the capture namespace is part of "any" too.
in_cap ping -c 2 -i 0.2 -q 127.0.0.1 >/dev/null
sleep 1

kill -INT "${PIDS[@]}"
for p in "${PIDS[@]}"; do
	wait_exit "$p" 20
done

head=$(tcpdump -r "$W/any0.pcap" -nn 2>&1 | head -3)
printf '%s\n' "$head" | grep -q "link-type LINUX_SLL2" || fail "not LINUX_SLL2: $head"
printf '%s\n' "$head" | grep -Eq " (In|Out|M|B) " || fail "tcpdump did not decode the SLL2 header: $head"
failures=0
for i in "${!EXPRS[@]}"; do
	e=${EXPRS[$i]}
	keeps_what_tcpdump_keeps "$W/full.pcap" "$W/any$i.pcap" "-i any '$e'" $e || failures=$((failures + 1))
done
[ "$failures" -eq 0 ] || fail "$failures comparisons failed"
echo "PASS: -i any writes the SLL2 tcpdump writes, filters included" >&2
