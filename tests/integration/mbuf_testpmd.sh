#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# capx mbuf inside Debian's stock dpdk-testpmd (stripped; DPDK as shared
# libraries): a net_pcap port replays a file (rx_pcap: each packet once, so
# the multiset is known), io forwarding hands every packet to the other
# net_pcap port, which writes it to a file (tx_pcap). capx's capture must
# equal the input, as a multiset of packet bytes, and with an expression
# equal `tcpdump -r INPUT EXPR`:
#   - --port 0 --rx (the driver's rx burst function found through
#     rte_eth_fp_ops, read at return) and --port 1 --tx, 14 expressions;
#   - symbol mode: rte_eth_call_rx_callbacks@3@4 and
#     rte_eth_call_tx_callbacks@3@4 (librte_ethdev), which rte_eth_rx_burst()
#     and rte_eth_tx_burst() call only while a port has rx/tx callbacks
#     (rte_ethdev.h, DPDK 22.11): testpmd's --latencystats=LCORE adds them
#     (rte_latencystats_init() registers one of each per queue); also as
#     LIB:SYMBOL and LIB:0xOFFSET;
#   - the summary: mbufs and captured equal the input count, filtered out
#     the rest, nothing lost or malformed;
#   - pcapng comments: port, queue, direction and testpmd's pid;
#   - testpmd's `quit` ends every capx by itself, exit 0.
# The input: seeded generated frames (IPv4/IPv6 UDP/TCP, ICMP, ARP, VLAN,
# runts, jumbo frames that net_pcap receives as chained mbufs) and, when
# ../shared/pcaps is there, the first whole packets of each of tcpdump's
# test captures.
#
# Timing: testpmd runs interactively (-i) with commands from a fifo, so capx
# attaches while its ports are up but idle; `start` comes after. testpmd
# drains the rx queues on `start` unless --no-flush-rx (flush_fwd_rx_queues()
# in app/test-pmd/testpmd.c), which would eat the input unseen.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump tshark python3 dpdk-testpmd stdbuf nm readelf
require_capx
require_mbuf_app # its --dump writes the generated input
[ "$(nproc)" -ge 2 ] || skip "testpmd needs two lcores (a main one and a forwarding one)"
ETHDEV=$(ldd "$(command -v dpdk-testpmd)" | awk '$1 ~ /^librte_ethdev\.so/ { print $3 }')
[ -n "$ETHDEV" ] || skip "dpdk-testpmd is not linked with a shared librte_ethdev"
ETHDEV=$(realpath "$ETHDEV") # the file as testpmd maps it
W=$(work_dir)

failures=0

# --- the input --------------------------------------------------------------
"$MBUF_APP" --dump "$W/gen.pcap" --count 400 --seed 42 || fail "mbuf_app --dump"
INPUTS=("$W/gen.pcap")
SHARED=${CAPX_SOURCE_ROOT:-$(dirname "$0")/../..}/../shared/pcaps/tcpdump-tests
if [ -d "$SHARED" ]; then
	# The first 8 packets of each capture, whole ones only, 9000 bytes at
	# most: net_pcap's tx writes at most RTE_ETH_PCAP_SNAPLEN (16128)
	# bytes, and mbuf_app's reader keeps only whole records.
	python3 - "$W/shared.pcap" "$SHARED"/*.pcap <<'PY'
import struct, sys
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    if len(data) < 24:
        continue
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        continue
    if struct.unpack(e + "I", data[20:24])[0] & 0xFFFF != 1:
        continue
    off, kept = 24, 0
    while off + 16 <= len(data) and kept < 8:
        sec, usec, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) != incl or incl != orig or incl == 0 or incl > 9000:
            continue
        out.write(struct.pack("<IIII", kept, 0, incl, incl) + pkt)
        kept += 1
PY
	[ $? -eq 0 ] || fail "cannot gather packets from $SHARED"
	INPUTS+=("$W/shared.pcap")
else
	note "no $SHARED: generated packets only"
fi
IN=$W/in.pcap
"$MBUF_APP" "${INPUTS[@]/#/--pcap=}" --dump "$IN" || fail "mbuf_app --dump of the input"
N=$(count_records "$IN")
pcap_records "$IN" >"$W/in.records"
note "input: $N packets, $(count_records "$IN" 'greater 2049') of them larger than one testpmd mbuf"

# --- testpmd ---------------------------------------------------------------
# tp_start NAME TESTPMD-ARGS...: testpmd reading commands from a fifo, its
# output in $W/NAME.log, once its ports are up; TP_PID, fd 3 its commands.
tp_start() {
	local name=$1
	shift
	mkfifo "$W/$name.fifo"
	new_dpdk_prefix tp
	TP_LOG=$W/$name.log
	TP_OUT=$W/$name.out.pcap
	# The shell's end opened read-write first: that open never blocks
	# (fifo(7)), so neither does testpmd's open for reading.
	exec 3<>"$W/$name.fifo"
	# stdbuf: testpmd's output line by line, not in 4 KiB blocks, so the
	# replies to the commands below show as they come.
	# Not start_bg: a command put in the background by a function would
	# read /dev/null, not the redirection made around the function call
	# (bash: without job control an asynchronous command's default
	# standard input is /dev/null).
	stdbuf -oL -eL dpdk-testpmd -l 0-1 --no-huge --no-pci -m 512 --file-prefix "$DPDK_PREFIX" \
		--vdev "net_pcap0,rx_pcap=$IN" --vdev "net_pcap1,tx_pcap=$TP_OUT" \
		-- -i --total-num-mbufs=4096 --forward-mode=io --no-flush-rx "$@" \
		<"$W/$name.fifo" >"$TP_LOG" 2>&1 3>&- &
	TP_PID=$!
	LIB_PIDS+=("$TP_PID")
	echo "show port summary all" >&3
	wait_line "$TP_LOG" '^Number of available ports: 2' 90 ||
		fail "testpmd did not come up: $(tail -5 "$TP_LOG")"
}

# tp_forward: starts forwarding, waits until port 1 sent the whole input,
# stops and quits testpmd.
tp_forward() {
	echo start >&3
	local i sent=0
	for i in $(seq 120); do
		sleep 0.5
		echo "show port stats 1" >&3
		sleep 0.2
		sent=$(awk '/TX-packets:/ { v = $2 } END { print v + 0 }' "$TP_LOG")
		[ "$sent" -ge "$N" ] && break
	done
	[ "$sent" -ge "$N" ] || not_ok "testpmd forwarded $sent of $N packets in 80 s"
	echo stop >&3
	echo quit >&3
	exec 3>&-
	wait_exit "$TP_PID" 60
	[ "$EXIT_STATUS" -eq 0 ] || not_ok "testpmd exit $EXIT_STATUS: $(tail -3 "$TP_LOG")"
	# The setup itself: what port 1 wrote is the input.
	pcap_records "$TP_OUT" >"$W/tp.out.records"
	if cmp -s "$W/in.records" "$W/tp.out.records"; then
		ok "testpmd forwarded the $N input packets unchanged"
	else
		not_ok "testpmd's output differs from its input: the comparisons below mean nothing"
	fi
}

declare -A CAPX_PID
capx_mbuf() { # NAME ARGS...
	local name=$1
	shift
	# 3>&-: testpmd's command fifo stays ours alone.
	start_bg "$CAPX" mbuf --pid "$TP_PID" -B 4096 "$@" 2>"$W/$name.err" 3>&-
	CAPX_PID[$name]=$BG_PID
}

attach_all() {
	local name
	for name in "${!CAPX_PID[@]}"; do
		wait_links_settled "${CAPX_PID[$name]}" "$W/$name.err"
	done
}

# ended NAME: capx NAME ended by itself after testpmd exited, exit 0.
ended() {
	local name=$1 i pid=${CAPX_PID[$1]}
	for i in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		not_ok "$name: capx still runs 30 s after testpmd exited"
		kill -INT "$pid"
		wait "$pid"
		return 1
	fi
	wait "$pid"
	local rc=$?
	[ "$rc" -eq 0 ] || { not_ok "$name: capx exit $rc: $(tail -3 "$W/$name.err")"; return 1; }
	grep -q "^capx: process $TP_PID exited" "$W/$name.err" ||
		{ not_ok "$name: no 'capx: process $TP_PID exited': $(head -3 "$W/$name.err")"; return 1; }
	ok "$name: capx ended by itself when testpmd exited, exit 0"
}

# check NAME FILE [EXPR]: the capture equals the input that EXPR keeps,
# and the summary says so.
check() {
	local name=$1 file=$2 expr=${3:-} want m
	ended "$name" || return
	is_valid_pcap "$file" || { not_ok "$name: tcpdump cannot read $file"; return; }
	if [ -n "$expr" ]; then
		pcap_records "$IN" "$expr" >"$W/$name.want"
	else
		cp "$W/in.records" "$W/$name.want"
	fi
	want=$(grep -c . "$W/$name.want")
	pcap_records "$file" >"$W/$name.got"
	if m=$(match_records "$W/$name.want" "$W/$name.got") && [ "${m#* }" = 0 ]; then
		ok "$name: $want packets, equal to the input${expr:+ filtered by '$expr'}"
	else
		not_ok "$name: capture differs from the input${expr:+ filtered by '$expr'} ($m)"
	fi
	[ -z "$expr" ] || [ "$want" -gt 0 ] || not_ok "$name: '$expr' keeps no input packet: a weak case"
	local kv got bad=""
	for kv in "mbufs=$N" "filtered out=$((N - want))" "captured=$want" lost=0 malformed=0; do
		got=$(mbuf_summary "$W/$name.err" "" "${kv%=*}")
		[ "$got" = "${kv#*=}" ] || bad+=" ${kv%=*} $got (want ${kv#*=})"
	done
	[ -z "$bad" ] && ok "$name: summary: mbufs $N, captured $want" ||
		not_ok "$name: summary:$bad: $(grep hits "$W/$name.err")"
}

# comments NAME FILE REGEX: every packet's pcapng direction flags and
# comment, as "FLAGS;COMMENT", match.
comments() {
	local name=$1 file=$2 re=$3 n bad
	tshark -r "$file" -T fields -E separator=';' -e frame.packet_flags_direction -e frame.comment \
		>"$W/$name.comments" 2>/dev/null
	n=$(grep -c . "$W/$name.comments")
	bad=$(grep -vcE "$re" "$W/$name.comments")
	if [ "$bad" -eq 0 ] && [ "$n" -eq "$N" ]; then
		ok "$name: $n comments match '$re'"
	else
		not_ok "$name: $bad of $n comments (want $N) do not match '$re': $(grep -vE "$re" "$W/$name.comments" | head -2)"
	fi
}

EXPRS=(
	"udp"
	"tcp"
	"icmp"
	"arp"
	"ip6"
	"vlan"
	"tcp port 80"
	"udp port 53"
	"host 10.1.0.1"
	"less 100"
	"greater 1000"
	"ether dst 02:00:00:00:00:01"
	"ip[8] == 64"
	"not ip and not ip6"
	"tcp[tcpflags] & tcp-syn != 0"
)

# --- 1. by port: the driver's burst functions -----------------------------
tp_start ports
capx_mbuf rx --port 0 --rx --pcapng -w "$W/rx.pcapng"
capx_mbuf tx --port 1 --tx --pcapng -w "$W/tx.pcapng"
capx_mbuf rxq --port 0 --queue 0 --rx -w "$W/rxq.pcap"
for i in "${!EXPRS[@]}"; do
	capx_mbuf "rx$i" --port 0 --rx -w "$W/rx$i.pcap" "${EXPRS[$i]}"
done
capx_mbuf tx_udp --port 1 --tx -w "$W/tx_udp.pcap" udp
capx_mbuf tx_vlan --port 1 --tx -w "$W/tx_vlan.pcap" vlan
# Without --latencystats no port has rx callbacks: rte_eth_rx_burst()
# never calls rte_eth_call_rx_callbacks(), so a probe there sees nothing.
capx_mbuf nocb -f rte_eth_call_rx_callbacks@3@4 -w "$W/nocb.pcap"
attach_all
tp_forward
check rx "$W/rx.pcapng"
comments rx "$W/rx.pcapng" "^0x00000001;port=0 queue=0 .*pid=$TP_PID "
check tx "$W/tx.pcapng"
comments tx "$W/tx.pcapng" "^0x00000002;port=1 queue=0 .*pid=$TP_PID "
check rxq "$W/rxq.pcap"
for i in "${!EXPRS[@]}"; do
	check "rx$i" "$W/rx$i.pcap" "${EXPRS[$i]}"
done
check tx_udp "$W/tx_udp.pcap" udp
check tx_vlan "$W/tx_vlan.pcap" vlan
if ended nocb; then
	h=$(mbuf_summary "$W/nocb.err" "" hits)
	[ "$h" = 0 ] && [ "$(count_records "$W/nocb.pcap")" = 0 ] &&
		ok "nocb: rte_eth_call_rx_callbacks is never called without rx callbacks (hits 0)" ||
		not_ok "nocb: hits '$h', $(count_records "$W/nocb.pcap") packets without --latencystats (want none)"
fi

# --- 2. by symbol: the rx/tx callback functions ----------------------------
unset CAPX_PID
declare -A CAPX_PID
tp_start callbacks --latencystats=1
capx_mbuf cb_rx -f rte_eth_call_rx_callbacks@3@4 -w "$W/cb_rx.pcap"
capx_mbuf cb_tx -f librte_ethdev:rte_eth_call_tx_callbacks@3@4 -w "$W/cb_tx.pcap"
OFF=$(elf_file_offset "$ETHDEV" rte_eth_call_rx_callbacks) || fail "no rte_eth_call_rx_callbacks in $ETHDEV"
capx_mbuf cb_off -f "$ETHDEV:$OFF@3@4" -w "$W/cb_off.pcap"
capx_mbuf cb_rx_udp -f rte_eth_call_rx_callbacks@3@4 -w "$W/cb_rx_udp.pcap" "udp or vlan"
capx_mbuf cb_rx_big -f rte_eth_call_rx_callbacks@3@4 -w "$W/cb_rx_big.pcap" "greater 2000"
attach_all
tp_forward
check cb_rx "$W/cb_rx.pcap"
check cb_tx "$W/cb_tx.pcap"
check cb_off "$W/cb_off.pcap"
check cb_rx_udp "$W/cb_rx_udp.pcap" "udp or vlan"
check cb_rx_big "$W/cb_rx_big.pcap" "greater 2000"
# Port 1 has nothing to receive: its rx callbacks run on empty bursts.
e=$(mbuf_summary "$W/cb_rx.err" "" "empty bursts")
[ -n "$e" ] && [ "$e" -gt 0 ] && ok "cb_rx: $e empty bursts counted" ||
	not_ok "cb_rx: empty bursts '$e' (port 1's rx burst is always empty)"

[ "$failures" -eq 0 ] || fail "$failures checks failed"
echo "all checks passed" >&2
