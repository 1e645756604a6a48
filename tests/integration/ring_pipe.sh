#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `capx ring -w - | tcpdump -r -` decodes while the capture runs: packets
# reach tcpdump before capx stops (-U), and the stream is a valid pcap.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump ping ip
require_capx
W=$(work_dir)
make_pair pipe

in_cap bash -c "'$CAPX' ring -i '$IF_CAP' -U -w - icmp 2>'$W/capx.err' | tcpdump -l -nn -r - >'$W/decoded.txt' 2>'$W/tcpdump.err'" &
PIPE=$!
LIB_PIDS+=("$PIPE")
wait_sockets "$NS_CAP" 1
in_peer ping -c 3 -i 0.2 -q "$IP_CAP" >/dev/null
# While capx still runs, tcpdump must already have printed the packets.
for i in $(seq 30); do
	[ "$(grep -c 'ICMP echo' "$W/decoded.txt")" -ge 6 ] && break
	sleep 0.1
done
n=$(grep -c 'ICMP echo' "$W/decoded.txt")
[ "$n" -eq 6 ] || fail "tcpdump decoded $n of 6 ICMP echoes while the capture ran"
pid=$(ip netns pids "$NS_CAP" | while read -r p; do
	[ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$CAPX")" ] && echo "$p"; done | head -1)
[ -n "$pid" ] || fail "capx is not running"
kill -INT "$pid"
wait_exit "$PIPE" 10
grep -q "^6 packets captured" "$W/capx.err" || fail "no summary: $(cat "$W/capx.err")"
if grep -v "^reading from file" "$W/tcpdump.err" | grep -q .; then
	fail "tcpdump complained: $(cat "$W/tcpdump.err")"
fi
echo "PASS: tcpdump decoded the stream live" >&2
