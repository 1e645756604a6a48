#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# -C/-W rotation: several files, at most -W of them, each a valid pcap that
# tcpdump reads, and together no more packets than were captured.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump ping ip
require_capx
W=$(work_dir)
make_pair rot

start_in "$NS_CAP" "$CAPX" ring -i "$IF_CAP" -C 0.02 -W 3 -w "$W/rot.pcap" icmp
CAP=$BG_PID
wait_sockets "$NS_CAP" 1
# 40 echo pairs of ~1 KB: about 80 KB, four times the 20 KB file size.
in_peer ping -c 40 -i 0.01 -s 1000 -q "$IP_CAP" >/dev/null
sleep 0.5
kill -INT "$CAP"
wait_exit "$CAP" 10
[ "$EXIT_STATUS" -eq 0 ] || fail "capx exited $EXIT_STATUS"
files=("$W"/rot.pcap*)
note "files: ${files[*]##*/}"
[ "${#files[@]}" -ge 2 ] || fail "no rotation happened (${#files[@]} file)"
[ "${#files[@]}" -le 3 ] || fail "-W 3 left ${#files[@]} files"
total=0
for f in "${files[@]}"; do
	is_valid_pcap "$f" || fail "$f is not a valid pcap"
	size=$(stat -c %s "$f")
	[ "$size" -le 22000 ] || fail "$f has $size bytes, more than -C 0.02 allows (one packet over at most)"
	total=$((total + $(packet_count "$f")))
done
[ "$total" -gt 0 ] && [ "$total" -le 80 ] || fail "the files hold $total packets"
echo "PASS: ${#files[@]} rotated files, $total packets, all valid" >&2
