#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every orderly stop ends with exit 0, tcpdump's summary on stderr and a
# complete pcap: SIGINT, SIGTERM, SIGHUP, and the reader of stdout going
# away (EPIPE: `capx ring -w - | head -c 100`).
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump ping ip head
require_capx
W=$(work_dir)
make_pair stop

start_in "$NS_PEER" ping -i 0.05 -q "$IP_CAP" >/dev/null
PING=$BG_PID

check_summary() {
	local err=$1
	grep -Eq '^[0-9]+ packets? captured$' "$err" &&
		grep -Eq '^[0-9]+ packets? received by filter$' "$err" &&
		grep -Eq '^[0-9]+ packets? dropped by kernel$' "$err" ||
		fail "no summary on stderr: $(cat "$err")"
	if grep -q '^capx:' "$err"; then
		fail "an error was reported: $(cat "$err")"
	fi
}

for sig in INT TERM HUP; do
	start_in "$NS_CAP" "$CAPX" ring -i "$IF_CAP" -w "$W/$sig.pcap" icmp 2>"$W/$sig.err"
	pid=$BG_PID
	wait_sockets "$NS_CAP" 1
	sleep 0.5
	kill -"$sig" "$pid"
	wait_exit "$pid" 10
	[ "$EXIT_STATUS" -eq 0 ] || fail "SIG$sig: exit $EXIT_STATUS"
	check_summary "$W/$sig.err"
	is_valid_pcap "$W/$sig.pcap" || fail "SIG$sig: the pcap is not complete"
	n=$(packet_count "$W/$sig.pcap")
	[ "$n" -gt 0 ] || fail "SIG$sig: nothing captured"
	grep -q "^$n packets captured" "$W/$sig.err" || fail "SIG$sig: the file has $n packets, the summary says otherwise"
	ok "SIG$sig: exit 0, summary, $n packets in a valid pcap"
done

# EPIPE: head takes 100 bytes and leaves; capx must notice and stop cleanly.
in_cap bash -c "'$CAPX' ring -i '$IF_CAP' -U -w - icmp 2>'$W/pipe.err' | head -c 100 >'$W/head.out'; echo \${PIPESTATUS[0]} >'$W/pipe.rc'" &
PIPE=$!
LIB_PIDS+=("$PIPE")
wait_exit "$PIPE" 20
[ "$(cat "$W/pipe.rc")" = 0 ] || fail "EPIPE: capx exited $(cat "$W/pipe.rc"): $(cat "$W/pipe.err")"
check_summary "$W/pipe.err"
[ "$(stat -c %s "$W/head.out")" -eq 100 ] || fail "head did not get 100 bytes"
ok "EPIPE: exit 0 and a summary"
kill "$PING"
echo "PASS: SIGINT, SIGTERM, SIGHUP and EPIPE stop capx cleanly" >&2
