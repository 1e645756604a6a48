#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# -c N: capx stops by itself after writing exactly N packets, exit 0, and
# the file is complete.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump ping ip
require_capx
W=$(work_dir)
make_pair cnt

start_in "$NS_CAP" "$CAPX" ring -i "$IF_CAP" -c 5 -w "$W/c.pcap" icmp
CAP=$BG_PID
wait_sockets "$NS_CAP" 1
start_in "$NS_PEER" ping -i 0.1 -c 100 -q "$IP_CAP" >/dev/null
PING=$BG_PID
wait_exit "$CAP" 15
[ "$EXIT_STATUS" -eq 0 ] || fail "capx -c 5 exited $EXIT_STATUS"
kill "$PING" 2>/dev/null
is_valid_pcap "$W/c.pcap" || fail "the pcap is not valid"
n=$(packet_count "$W/c.pcap")
[ "$n" -eq 5 ] || fail "-c 5 wrote $n packets"
[ "$(packet_count "$W/c.pcap" icmp)" -eq 5 ] || fail "the filter was not applied"
echo "PASS: -c 5 wrote 5 packets and exited 0" >&2
