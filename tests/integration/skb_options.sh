#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The capx skb options that the other skb tests do not exercise, each on
# traffic this test sends through its own veth pair:
# - --mark keeps exactly the datagrams whose skb->mark is the one given
#   (set with SO_MARK on the sender: __ip_make_skb() in net/ipv4/ip_output.c
#   copies the socket's mark into the sk_buff, which net_dev_start_xmit sees
#   on the sender's device before veth scrubs it: skb_scrub_packet() in
#   net/core/skbuff.c), in decimal and in hex; the others are counted as
#   filtered out in the per-probe summary line;
# - the exit summary: tcpdump's three lines, then one line per probe;
# - --stats: the live status line and the per-probe lines under it;
# - --print: one decoded line per packet with the probe and its metadata;
# - a lone packet reaches the file promptly although wakeups are batched;
# - --nano, -t, -C/-W, -G/-W: the shared output options behind capx skb.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump python3 ip
require_capx
W=$(work_dir)
make_pair skbo

PEER_IFINDEX=$(in_peer cat "/sys/class/net/$IF_PEER/ifindex")
TP=tp:net:net_dev_start_xmit
PROBE=net:net_dev_start_xmit # its name in the summary, pcapng and --print
failures=0

# send MARK COUNT PORT: COUNT UDP datagrams from the peer to the capture
# side, from a socket with SO_MARK MARK (0: none).
send() {
	in_peer python3 -c '
import socket, sys
mark, count, port = int(sys.argv[1], 0), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if mark:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
for i in range(count):
    s.sendto(b"mark %d #%d" % (mark, i), (sys.argv[4], port))
' "$1" "$2" "$3" "$IP_CAP"
}

# capx_skb NAME ARGS...: capx skb in the background at the peer's
# net_dev_start_xmit (its device, its namespace), stderr in $W/NAME.err.
capx_skb() {
	local name=$1
	shift
	start_in "$NS_CAP" "$CAPX" skb -f "$TP" -i "$PEER_IFINDEX" --netns "/run/netns/$NS_PEER" -B 256 "$@" \
		2>"$W/$name.err"
}

# stop PID NAME: SIGINT, and it must exit 0.
stop() {
	kill -INT "$1"
	wait_exit "$1" 20
	[ "$EXIT_STATUS" -eq 0 ] || not_ok "$2: exit $EXIT_STATUS: $(cat "$W/$2.err")"
}

# --- --mark -----------------------------------------------------------------
capx_skb mark_hex --mark 0x10 -w "$W/mark_hex.pcap" udp
MARK_HEX=$BG_PID
capx_skb mark_dec --mark 16 -w "$W/mark_dec.pcap" udp
MARK_DEC=$BG_PID
capx_skb mark_other --mark 0x11 -w "$W/mark_other.pcap" udp
MARK_OTHER=$BG_PID
capx_skb stats --stats -w "$W/stats.pcap" udp
STATS=$BG_PID
for p in "$MARK_HEX" "$MARK_DEC" "$MARK_OTHER" "$STATS"; do
	wait_attached "$p" 1
done
send 0x10 5 5000
send 0 4 5001
send 0x20 3 5002
sleep 2.5 # two status lines at least (one a second)
for p in "$MARK_HEX:mark_hex" "$MARK_DEC:mark_dec" "$MARK_OTHER:mark_other" "$STATS:stats"; do
	stop "${p%%:*}" "${p#*:}"
done
for name in mark_hex mark_dec; do
	n=$(packet_count "$W/$name.pcap")
	marked=$(packet_count "$W/$name.pcap" udp port 5000)
	if [ "$n" -eq 5 ] && [ "$marked" -eq 5 ]; then
		ok "$name: the 5 datagrams with mark 0x10, none other"
	else
		not_ok "$name: $n packets, $marked of them marked 0x10 (want 5 and 5)"
	fi
	# 12 datagrams passed the probe on that device; 7 had another mark.
	line=$(grep "^$PROBE: " "$W/$name.err")
	if [[ $line =~ hits\ ([0-9]+),\ filtered\ out\ ([0-9]+),\ captured\ 5, ]] &&
		[ "${BASH_REMATCH[1]}" -ge 12 ] && [ "${BASH_REMATCH[2]}" -eq $((BASH_REMATCH[1] - 5)) ]; then
		ok "$name: summary line '$line'"
	else
		not_ok "$name: summary line '$line'"
	fi
done
n=$(packet_count "$W/mark_other.pcap")
[ "$n" -eq 0 ] && ok "--mark 0x11: nothing (no datagram had it)" || not_ok "--mark 0x11: $n packets"

# --- the exit summary and --stats -------------------------------------------
# tcpdump's three lines, then the probe's line, in this order.
summary=$(grep -v $'\033' "$W/mark_hex.err" | grep -v '^\r' | tail -4)
if [ "$(sed -n 1p <<<"$summary")" = "5 packets captured" ] &&
	[ "$(sed -n 2p <<<"$summary")" = "5 packets received by filter" ] &&
	[ "$(sed -n 3p <<<"$summary")" = "0 packets dropped by kernel" ] &&
	sed -n 4p <<<"$summary" | grep -q "^$PROBE: hits [0-9]*, filtered out [0-9]*, captured 5, lost (ring full) 0, truncated 0$"; then
	ok "exit summary: tcpdump's lines and the per-probe line"
else
	not_ok "exit summary: $(tr '\n' '|' <<<"$summary")"
fi
# The status line is redrawn in place (\r, ESC[K); the probe's line sits
# under it, each second.
status=$(tr '\r' '\n' <"$W/stats.err" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g')
live=$(grep -c '^[0-9]* packets captured, [0-9]* pkt/s, [0-9]* dropped$' <<<"$status")
probe_lines=$(grep -c "^$PROBE: hits [0-9]*, filtered out [0-9]*, captured [0-9]*, lost (ring full) 0, truncated 0$" <<<"$status")
# At least two live updates, each with its probe line, plus the summary's.
if [ "$live" -ge 2 ] && [ "$probe_lines" -ge $((live + 1)) ]; then
	ok "--stats: $live status lines, each with the per-probe line under it"
else
	not_ok "--stats: $live status lines, $probe_lines per-probe lines: $(tr '\n' '|' <<<"$status" | cut -c1-400)"
fi

# --- --print ----------------------------------------------------------------
# One decoded line per datagram, with the probe, the device and the skb.
capx_skb print --print -n -c 3 udp port 5000 >"$W/print.out"
PRINT=$BG_PID
wait_attached "$PRINT" 1
send 0x10 3 5000
wait_exit "$PRINT" 20
[ "$EXIT_STATUS" -eq 0 ] || not_ok "--print: exit $EXIT_STATUS: $(cat "$W/print.err")"
n=$(grep -c "$IP_PEER\.[0-9]* > $IP_CAP\.5000" "$W/print.out")
meta=$(grep -c " $PROBE IP .*\[dev=$PEER_IFINDEX netns=$(stat -L -c %i "/run/netns/$NS_PEER") cpu=[0-9]* pid=[0-9]* comm=python3[.0-9]* skb=0x[0-9a-f]*\]$" "$W/print.out")
if [ "$n" -eq 3 ] && [ "$meta" -eq 3 ]; then
	ok "--print: 3 decoded lines with the probe, dev and skb: $(head -1 "$W/print.out")"
else
	not_ok "--print: $n lines, $meta with metadata: $(head -3 "$W/print.out" | tr '\n' '|')"
fi

# --- --nano, -t, -C/-W ------------------------------------------------------
capx_skb nano --nano -c 2 -w "$W/nano.pcap" udp port 5000
NANO=$BG_PID
capx_skb tpipe -t "-nn -e" -c 2 udp port 5000 >"$W/tpipe.out"
TPIPE=$BG_PID
capx_skb rotate -C 0.0003 -W 3 -c 12 -w "$W/rot.pcap" udp port 5000
ROTATE=$BG_PID
for p in "$NANO" "$TPIPE" "$ROTATE"; do
	wait_attached "$p" 1
done
send 0 12 5000
for p in "$NANO:nano" "$TPIPE:tpipe" "$ROTATE:rotate"; do
	wait_exit "${p%%:*}" 20
	[ "$EXIT_STATUS" -eq 0 ] || not_ok "${p#*:}: exit $EXIT_STATUS: $(cat "$W/${p#*:}.err")"
done
magic=$(od -An -tx1 -N4 "$W/nano.pcap" | tr -d ' ')
if [ "$magic" = "4d3cb2a1" ] && [ "$(packet_count "$W/nano.pcap")" -eq 2 ] &&
	tcpdump -r "$W/nano.pcap" --nano -tt 2>/dev/null | head -1 | grep -q '^[0-9]*\.[0-9]\{9\} '; then
	ok "--nano: a nanosecond pcap (magic a1b23c4d) of 2 packets"
else
	not_ok "--nano: magic $magic, $(packet_count "$W/nano.pcap") packets"
fi
if [ "$(grep -c "$MAC_PEER > .*$IP_PEER\.[0-9]* > $IP_CAP\.5000: UDP" "$W/tpipe.out")" -eq 2 ]; then
	ok "-t '-nn -e': tcpdump decoded the 2 packets with their MACs"
else
	not_ok "-t: $(tr '\n' '|' <"$W/tpipe.out")"
fi
# -C 0.0003: a new file after 300 bytes (a few of these ~70-byte records),
# -W 3: the last three files kept, every one a valid pcap.
files=$(ls "$W"/rot.pcap* 2>/dev/null | wc -l)
total=0
for f in "$W"/rot.pcap*; do
	is_valid_pcap "$f" || not_ok "-C: $f is not a valid pcap"
	total=$((total + $(packet_count "$f")))
done
if [ "$files" -ge 2 ] && [ "$files" -le 3 ] && [ "$total" -le 12 ] && [ "$total" -gt 0 ]; then
	ok "-C 0.0003 -W 3: $files valid files, $total packets"
else
	not_ok "-C -W: $files files, $total packets"
fi

# --- latency bound -----------------------------------------------------------
# The BPF side wakes the reader only when the ring holds a batch of bytes
# (capx_wakeup_bytes in bpf/include/capx_capture.bpf.h); capx also reads
# the ring every 50 ms. So one lone datagram, with -U, is in the file well
# within a second (without the bound it would wait for a batch forever).
capx_skb latency -U -w "$W/lat.pcap" udp port 5004
LAT=$BG_PID
wait_attached "$LAT" 1
send 0 1 5004
t0=$(date +%s%N)
for i in $(seq 100); do
	[ "$(packet_count "$W/lat.pcap")" -ge 1 ] && break
	sleep 0.02
done
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$(packet_count "$W/lat.pcap")" -eq 1 ] && [ "$ms" -lt 1000 ]; then
	ok "one lone packet in the file within $ms ms (-U, batched wakeups, 50 ms read bound)"
else
	not_ok "one lone packet: $(packet_count "$W/lat.pcap") in the file after $ms ms"
fi
stop "$LAT" latency

# -G 1 -W 2: a new strftime-named file each second, and capx ends by itself
# (exit 0, "maximum file limit reached: 2" like tcpdump) when a packet
# would start a third.
capx_skb rotsec -G 1 -W 2 -w "$W/g-%H%M%S.pcap" udp port 5003
GROT=$BG_PID
wait_attached "$GROT" 1
for i in $(seq 10); do
	send 0 1 5003
	kill -0 "$GROT" 2>/dev/null || break
	sleep 0.5
done
wait_exit "$GROT" 20
gfiles=$(ls "$W"/g-*.pcap 2>/dev/null | wc -l)
gtotal=0
for f in "$W"/g-*.pcap; do
	is_valid_pcap "$f" && gtotal=$((gtotal + $(packet_count "$f")))
done
# (The first file opens at the start, as tcpdump's does, so on a slow
# machine it may stay empty: the packets are counted over both.)
if [ "$EXIT_STATUS" -eq 0 ] && [ "$gfiles" -eq 2 ] && [ "$gtotal" -ge 1 ] && [ "$i" -lt 10 ] &&
	grep -q "maximum file limit reached: 2" "$W/rotsec.err"; then
	ok "-G 1 -W 2: 2 files, $gtotal packets, ended by itself after $i sends"
else
	not_ok "-G 1 -W 2: exit $EXIT_STATUS, $gfiles files, $gtotal packets, $i sends: $(cat "$W/rotsec.err")"
fi

[ "$failures" -eq 0 ] || fail "$failures checks failed"
echo "PASS: --mark, the summary and --stats per-probe lines, --print, --nano, -t, -C/-W, -G/-W under capx skb" >&2
