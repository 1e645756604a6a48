#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# capx mbuf against tests/progs/mbuf_app, a real DPDK application (EAL
# without hugepages or devices) that hands rte_mbufs to named functions and
# writes what it handed to each into an oracle pcap, and counts its calls:
#   - capx_test_one@1 (one mbuf), capx_test_burst@2@3 (bursts, empty ones
#     too), --ret capx_test_rx@2 (an array the call fills, its count the
#     return value): the capture equals the oracle, byte for byte, chained
#     multi-segment packets whole (every third packet is a chain of 2-16
#     segments, some with a first segment of a few bytes, later segments at
#     data offsets 0, 37 or the headroom); the bursts' packets in the
#     oracle's order (they come in one batch record per burst, split by
#     capx);
#   - the summary's numbers equal the app's counts exactly (hits, empty
#     bursts, mbufs, captured, filtered out; nothing lost, nothing
#     malformed);
#   - expressions on the bursts, against `tcpdump -r ORACLE EXPR`;
#   - -s 64: every record a 64-byte prefix with its full wire length;
#   - capx_test_not_mbuf@1 (random bytes and NULL) and capx_test_rx@2@3 at
#     entry (an array of NULLs): every one counted malformed, nothing
#     captured, and neither capx nor the app crashes;
#   - two probes in one pcapng: one interface per probe, each packet on its
#     probe's interface, comments with port (the mbuf's), pid, tid, comm and
#     the mbuf's address (read by tshark);
#   - the target exits while capx captures (after its last round, after
#     SIGTERM, after SIGKILL): capx says so, prints its summary, exits 0 by
#     itself, and tcpdump reads its file;
#   - LIB:0xOFFSET and LIB:SYMBOL with the executable's path;
#   - --binary: two processes started after capx attached are both
#     captured, told apart by pid.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump tshark python3 nm readelf
require_capx
require_mbuf_app
W=$(work_dir)

failures=0

# capx_mbuf NAME ARGS...: capx mbuf ARGS in the background, its stderr in
# $W/NAME.err; its pid in CAPX_PID[NAME].
declare -A CAPX_PID
capx_mbuf() {
	local name=$1
	shift
	start_bg "$CAPX" mbuf -B 1024 "$@" 2>"$W/$name.err"
	CAPX_PID[$name]=$BG_PID
}

# ended NAME PID: capx NAME ended by itself (30 s at most) after process PID
# exited, with status 0 and the message saying so.
ended() {
	local name=$1 pid=$2 i
	for i in $(seq 300); do
		kill -0 "${CAPX_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "${CAPX_PID[$name]}" 2>/dev/null; then
		not_ok "$name: capx still runs 30 s after process $pid exited"
		kill -INT "${CAPX_PID[$name]}"
		wait "${CAPX_PID[$name]}"
		return 1
	fi
	wait "${CAPX_PID[$name]}"
	local rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "$name: capx exit $rc: $(tail -3 "$W/$name.err")"
		return 1
	fi
	grep -q "^capx: process $pid exited" "$W/$name.err" ||
		{ not_ok "$name: no 'capx: process $pid exited' line: $(head -3 "$W/$name.err")"; return 1; }
	return 0
}

# expect NAME PROBE FIELD=VALUE...: fields of the summary line of PROBE in
# $W/NAME.err.
expect() {
	local name=$1 probe=$2 kv got bad=""
	shift 2
	for kv in "$@"; do
		got=$(mbuf_summary "$W/$name.err" "$probe" "${kv%=*}")
		[ "$got" = "${kv#*=}" ] || bad+=" ${kv%=*} $got (want ${kv#*=})"
	done
	if [ -z "$bad" ]; then
		ok "$name: $probe summary: $*"
	else
		not_ok "$name: $probe summary:$bad; stderr: $(grep -F "$probe" "$W/$name.err" | grep hits)"
	fi
}

# same NAME FILE ORACLE... [-- EXPR]: capx's FILE holds exactly the packets
# of the ORACLE pcaps that EXPR keeps, whole.
same() {
	local name=$1 file=$2 o expr=() oracles=()
	shift 2
	while [ $# -gt 0 ]; do
		[ "$1" = -- ] && { shift; expr=("$@"); break; }
		oracles+=("$1")
		shift
	done
	is_valid_pcap "$file" || { not_ok "$name: tcpdump cannot read $file"; return; }
	for o in "${oracles[@]}"; do
		pcap_records "$o" "${expr[@]}"
	done | sort >"$W/$name.want"
	pcap_records "$file" >"$W/$name.got"
	local m
	if m=$(match_records "$W/$name.want" "$W/$name.got") && [ "${m#* }" = 0 ]; then
		ok "$name: $(grep -c . "$W/$name.got") packets, equal to the oracle${expr:+ filtered by '${expr[*]}'}"
	else
		not_ok "$name: capture differs from the oracle${expr:+ filtered by '${expr[*]}'} ($m)"
	fi
}

# in_order NAME FILE ORACLE: FILE's packets in the oracle's order (a burst's
# packets come in one batch record and are split in user space; a packet
# sent on its own comes after the batch of those before it).
in_order() {
	local name=$1 m
	if m=$(python3 - "$2" "$3" <<'PY'
import struct, sys
def packets(path):
    d = open(path, "rb").read()
    e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, off = [], 24
    while off + 16 <= len(d):
        incl = struct.unpack(e + "I", d[off + 8:off + 12])[0]
        out.append(d[off + 16:off + 16 + incl])
        off += 16 + incl
    return out
got, want = packets(sys.argv[1]), packets(sys.argv[2])
if got != want:
    first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    sys.exit(f"{len(got)} packets against {len(want)}, first difference at packet {first}")
print(len(got))
PY
	); then
		ok "$name: $m packets in the oracle's order"
	else
		not_ok "$name: not in the oracle's order"
	fi
}

# --- one application run, many captures at once --------------------------
# Every capture attaches before the app's first round (it waits for the go
# file); after its last round the app exits, which ends every capx.
EXPRS=("udp" "tcp port 80" "vlan" "greater 1000" "ip6 or arp" "less 60")
start_mbuf_app "$W/app" --rounds 80 --pace 1000 --seed 7 --count 150 --go "$W/go" --oracle "$W"
APP=$APP_PID
capx_mbuf one --pid "$APP" -f capx_test_one@1 -w "$W/one.pcap"
capx_mbuf burst --pid "$APP" -f capx_test_burst@2@3 -w "$W/burst.pcap"
capx_mbuf rx --pid "$APP" --ret -f capx_test_rx@2 -w "$W/rx.pcap"
capx_mbuf bad --pid "$APP" -f capx_test_not_mbuf@1 -w "$W/bad.pcap"
capx_mbuf rxentry --pid "$APP" -f capx_test_rx@2@3 -w "$W/rxentry.pcap"
capx_mbuf snap --pid "$APP" -f capx_test_one@1,capx_test_burst@2@3 -s 64 -w "$W/snap.pcap"
capx_mbuf multi --pid "$APP" -f capx_test_one@1 -f capx_test_burst@2@3 --pcapng -w "$W/multi.pcapng"
for i in "${!EXPRS[@]}"; do
	capx_mbuf "expr$i" --pid "$APP" -f capx_test_burst@2@3 -w "$W/expr$i.pcap" "${EXPRS[$i]}"
done
# The same functions named by file: LIB:0xOFFSET (no symbol needed) and
# LIB:SYMBOL with the executable's path.
APP_FILE=$(realpath "$MBUF_APP")
OFF=$(elf_file_offset "$APP_FILE" capx_test_one) || fail "no capx_test_one in $APP_FILE"
capx_mbuf offset --pid "$APP" -f "$APP_FILE:$OFF@1" -w "$W/offset.pcap"
capx_mbuf libsym --pid "$APP" -f "$APP_FILE:capx_test_burst@2@3" -w "$W/libsym.pcap"
for name in "${!CAPX_PID[@]}"; do
	wait_links_settled "${CAPX_PID[$name]}" "$W/$name.err"
done
[ "$(code_byte "$APP" "$MBUF_APP" capx_test_one | cut -d' ' -f1)" = cc ] ||
	not_ok "no uprobe (int3) at capx_test_one while capx is attached: $(code_byte "$APP" "$MBUF_APP" capx_test_one)"
touch "$W/go"
wait_exit "$APP" 120
[ "$EXIT_STATUS" -eq 0 ] && ok "app: $(app_count "$W/app" rounds) rounds, exit 0" ||
	not_ok "app: exit $EXIT_STATUS: $(tail -3 "$W/app.err")"
for name in "${!CAPX_PID[@]}"; do
	ended "$name" "$APP" && ok "$name: capx ended by itself when the app exited, exit 0"
done

c() { app_count "$W/app" "$1"; }
[ "$(c chained)" -gt 0 ] || not_ok "the app built no chained mbufs"
note "app: $(c packets) packets built, $(c chained) chained ($(c segments) segments)"

same one "$W/one.pcap" "$W/capx_test_one.pcap"
expect one capx_test_one "hits=$(c one_calls)" "empty bursts=0" "mbufs=$(c one_calls)" \
	"filtered out=0" "captured=$(c one_calls)" lost=0 malformed=0

same burst "$W/burst.pcap" "$W/capx_test_burst.pcap"
in_order burst "$W/burst.pcap" "$W/capx_test_burst.pcap"
[ "$(c burst_empty)" -gt 0 ] || not_ok "the app passed no empty burst"
expect burst capx_test_burst "hits=$(c burst_calls)" "empty bursts=$(c burst_empty)" \
	"mbufs=$(c burst_mbufs)" "filtered out=0" "captured=$(c burst_mbufs)" lost=0 malformed=0

same offset "$W/offset.pcap" "$W/capx_test_one.pcap"
expect offset "" "hits=$(c one_calls)" "captured=$(c one_calls)" lost=0 malformed=0
same libsym "$W/libsym.pcap" "$W/capx_test_burst.pcap"
expect libsym capx_test_burst "hits=$(c burst_calls)" "empty bursts=$(c burst_empty)" \
	"captured=$(c burst_mbufs)" lost=0 malformed=0

same rx "$W/rx.pcap" "$W/capx_test_rx.pcap"
in_order rx "$W/rx.pcap" "$W/capx_test_rx.pcap"
expect rx capx_test_rx "hits=$(c rx_calls)" "empty bursts=$(c rx_empty)" \
	"mbufs=$(c rx_mbufs)" "filtered out=0" "captured=$(c rx_mbufs)" lost=0 malformed=0

# Not an mbuf: random bytes (data_off + data_len > buf_len) and NULL, each
# one bad mbuf.
[ "$(count_records "$W/bad.pcap")" -eq 0 ] && is_valid_pcap "$W/bad.pcap" &&
	ok "bad: no packet from what is no mbuf" || not_ok "bad: $W/bad.pcap holds packets or is unreadable"
expect bad capx_test_not_mbuf "hits=$(c not_mbuf_calls)" "mbufs=$(c not_mbuf_calls)" \
	"captured=0" lost=0 "malformed=$(c not_mbuf_calls)"
# capx_test_rx read at entry: its array holds 32 NULLs (the count argument
# is its size, 32).
expect rxentry capx_test_rx "hits=$(c rx_calls)" "mbufs=$(($(c rx_calls) * 32))" \
	"captured=0" lost=0 "malformed=$(($(c rx_calls) * 32))"

# -s 64: a 64-byte prefix of each packet, with its full length.
same_prefix() {
	pcap_records "$W/capx_test_one.pcap" >"$W/snap.want"
	pcap_records "$W/capx_test_burst.pcap" >>"$W/snap.want"
	sort -o "$W/snap.want" "$W/snap.want"
	pcap_records "$W/snap.pcap" >"$W/snap.got"
	local m short
	short=$(awk '($1 > 64 && $2 != 64) || ($1 <= 64 && $2 != $1)' "$W/snap.got" | wc -l)
	if m=$(match_records "$W/snap.want" "$W/snap.got") && [ "$short" -eq 0 ]; then
		ok "snap: -s 64: $(grep -c . "$W/snap.got") records, 64-byte prefixes with their lengths ($m)"
	else
		not_ok "snap: -s 64: $short records of a wrong length, match: $m"
	fi
}
same_prefix
expect snap capx_test_one "captured=$(c one_calls)" lost=0 malformed=0
expect snap capx_test_burst "captured=$(c burst_mbufs)" lost=0 malformed=0

for i in "${!EXPRS[@]}"; do
	same "expr$i" "$W/expr$i.pcap" "$W/capx_test_burst.pcap" -- "${EXPRS[$i]}"
	want=$(count_records "$W/capx_test_burst.pcap" "${EXPRS[$i]}")
	[ "$want" -gt 0 ] || not_ok "expr$i: '${EXPRS[$i]}' keeps no packet of the oracle: a weak case"
	expect "expr$i" capx_test_burst "hits=$(c burst_calls)" "mbufs=$(c burst_mbufs)" \
		"filtered out=$(($(c burst_mbufs) - want))" "captured=$want" lost=0 malformed=0
done

# Two probes, one pcapng: an interface each, named after its probe; every
# packet on its probe's interface; the comment's fields.
same multi "$W/multi.pcapng" "$W/capx_test_one.pcap" "$W/capx_test_burst.pcap"
tshark -r "$W/multi.pcapng" -T fields -E separator='|' -e frame.interface_id -e frame.interface_name \
	-e frame.comment >"$W/multi.fields" 2>"$W/multi.tshark" || not_ok "multi: tshark: $(cat "$W/multi.tshark")"
per_if=$(awk -F'|' '{ n[$1 "|" $2]++ } END { for (k in n) print k "|" n[k] }' "$W/multi.fields" | sort)
one_if=$(awk -F'|' '$2 ~ /capx_test_one/ { print $1 "|" $3 }' <<<"$per_if")
burst_if=$(awk -F'|' '$2 ~ /capx_test_burst/ { print $1 "|" $3 }' <<<"$per_if")
if [ "$(grep -c . <<<"$per_if")" -eq 2 ] && [ "${one_if#*|}" = "$(c one_calls)" ] &&
	[ "${burst_if#*|}" = "$(c burst_mbufs)" ] && [ "${one_if%|*}" != "${burst_if%|*}" ]; then
	ok "multi: two interfaces, $(c one_calls) packets on capx_test_one's, $(c burst_mbufs) on capx_test_burst's"
else
	not_ok "multi: interfaces (id|name|packets) are: $(tr '\n' ' ' <<<"$per_if"), want capx_test_one's with $(c one_calls), capx_test_burst's with $(c burst_mbufs)"
fi
bad_comments=$(awk -F'|' -v pid="$APP" '
	!($3 ~ /(^| )port=3( |$)/ && $3 ~ ("(^| )pid=" pid "( |$)") && $3 ~ ("(^| )tid=" pid "( |$)") &&
	  $3 ~ /(^| )comm=mbuf_app( |$)/ && $3 ~ /(^| )mbuf=0x[0-9a-f]+( |$)/)' "$W/multi.fields")
if [ -z "$bad_comments" ]; then
	ok "multi: every comment has port=3 pid=$APP tid=$APP comm=mbuf_app mbuf=0x..."
else
	not_ok "multi: comments without port=3 pid=$APP tid=$APP comm=mbuf_app mbuf=0x...: $(head -2 <<<"$bad_comments")"
fi

# --- the target ends while capx captures ----------------------------------
for how in TERM KILL; do
	unset CAPX_PID
	declare -A CAPX_PID
	mkdir -p "$W/$how"
	start_mbuf_app "$W/$how/app" --rounds 0 --pace 2000 --seed 11 --go "$W/$how/go" --oracle "$W/$how"
	capx_mbuf "exit$how" --pid "$APP_PID" -f capx_test_burst@2@3 -w "$W/exit$how.pcap"
	wait_links_settled "${CAPX_PID[exit$how]}" "$W/exit$how.err"
	touch "$W/$how/go"
	sleep 1.5
	kill -"$how" "$APP_PID"
	wait_exit "$APP_PID" 20
	if ended "exit$how" "$APP_PID"; then
		ok "exit$how: capx ended by itself after the app's SIG$how, exit 0"
	fi
	is_valid_pcap "$W/exit$how.pcap" || not_ok "exit$how: tcpdump cannot read $W/exit$how.pcap"
	got=$(count_records "$W/exit$how.pcap")
	[ "$got" -gt 0 ] || not_ok "exit$how: nothing captured in 1.5 s of bursts"
	expect "exit$how" capx_test_burst "captured=$got" lost=0 malformed=0
	if [ "$how" = TERM ]; then
		# A clean exit: the app's oracle and counts are complete.
		[ "$EXIT_STATUS" -eq 0 ] || not_ok "exitTERM: the app's exit $EXIT_STATUS"
		same exitTERM "$W/exitTERM.pcap" "$W/TERM/capx_test_burst.pcap"
		expect exitTERM capx_test_burst "hits=$(app_count "$W/TERM/app" burst_calls)" \
			"mbufs=$(app_count "$W/TERM/app" burst_mbufs)" \
			"empty bursts=$(app_count "$W/TERM/app" burst_empty)"
	fi
done

# --- --binary: processes started after capx --------------------------------
unset CAPX_PID
declare -A CAPX_PID
capx_mbuf binary --binary "$MBUF_APP" -f capx_test_one@1,capx_test_burst@2@3 --pcapng -w "$W/binary.pcapng"
wait_links_settled "${CAPX_PID[binary]}" "$W/binary.err"
mkdir -p "$W/b1" "$W/b2"
start_mbuf_app "$W/b1/app" --rounds 40 --pace 2000 --seed 21 --oracle "$W/b1"
B1=$APP_PID
start_mbuf_app "$W/b2/app" --rounds 30 --pace 2000 --seed 22 --oracle "$W/b2"
B2=$APP_PID
wait_exit "$B1" 60
wait_exit "$B2" 60
# Whether capx --binary ends when the last process it saw exits is not
# settled by the contract; it must end cleanly on SIGINT either way.
sleep 1
kill -INT "${CAPX_PID[binary]}" 2>/dev/null
wait_exit "${CAPX_PID[binary]}" 20
[ "$EXIT_STATUS" -eq 0 ] || not_ok "binary: capx exit $EXIT_STATUS: $(tail -3 "$W/binary.err")"
same binary "$W/binary.pcapng" "$W/b1/capx_test_one.pcap" "$W/b1/capx_test_burst.pcap" \
	"$W/b2/capx_test_one.pcap" "$W/b2/capx_test_burst.pcap"
pids=$(tshark -r "$W/binary.pcapng" -T fields -e frame.comment 2>/dev/null |
	grep -oE '(^| )pid=[0-9]+' | sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' ')
want_pids=$(printf '%s\n' "pid=$B1 $(( $(app_count "$W/b1/app" one_calls) + $(app_count "$W/b1/app" burst_mbufs) ))" \
	"pid=$B2 $(( $(app_count "$W/b2/app" one_calls) + $(app_count "$W/b2/app" burst_mbufs) ))" |
	sort | awk '{ print $1 "x" $2 }' | tr '\n' ' ')
[ "$pids" = "$want_pids" ] && ok "binary: packets per process: $pids" ||
	not_ok "binary: packets per process: '$pids', want '$want_pids'"

[ "$failures" -eq 0 ] || fail "$failures checks failed"
echo "all checks passed" >&2
