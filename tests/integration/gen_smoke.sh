#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# capx-gen sends exactly what it says: the frame count and byte count it
# prints, every frame of the size asked for, sequence numbers 0..N-1 once
# each, source ports cycling over the flows, the VLAN tag when asked, never
# faster than the rate; bad input is one line and exit 2. The oracle is
# tcpdump capturing on the far end of a veth pair in a namespace made here,
# and tshark decoding what it wrote.
set -uo pipefail

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, AF_PACKET)"
for c in ip tcpdump tshark jq; do
	command -v $c >/dev/null || skip "$c is not installed"
done
gen=${CAPX_GEN:-${CAPX_BUILD_ROOT:-}/tests/progs/capx-gen}
[ -x "$gen" ] || skip "no capx-gen at '$gen'"

ns=capxgen$$
tx=cxgt$$
rx=cxgr$$
work=$(mktemp -d)
cleanup() {
	[ -n "${tcpdump_pid:-}" ] && kill "$tcpdump_pid" 2>/dev/null
	[ -n "${hog_pid:-}" ] && kill "$hog_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns" || skip "cannot create a network namespace"
nsx() { ip netns exec "$ns" "$@"; }
# No IPv6, so the link carries nothing but capx-gen's frames.
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add "$tx" type veth peer name "$rx" || skip "cannot create a veth pair"
ip -n "$ns" link set "$tx" up
ip -n "$ns" link set "$rx" up

failures=0
check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		failures=$((failures + 1))
	fi
}

# Captures everything capx-gen sends with the given arguments into
# $work/NAME.pcap and its summary into $work/NAME.json; capx-gen runs
# under "${gen_prefix[@]}" (e.g. taskset).
gen_prefix=()
capture() { # name, capx-gen arguments...
	local name=$1
	shift
	# Not --immediate-mode: that retires a ring block every millisecond,
	# and a loaded machine that leaves tcpdump unscheduled for longer than
	# the ring's blocks last makes it drop. -Z root: write into our
	# root-owned dir.
	ip netns exec "$ns" tcpdump -i "$rx" -n -s 0 -B 16384 -Z root \
		-w "$work/$name.pcap" 2>"$work/$name.tcpdump" &
	tcpdump_pid=$!
	for _ in $(seq 100); do
		grep -q listening "$work/$name.tcpdump" && break
		sleep 0.05
	done
	sleep 0.2
	nsx "${gen_prefix[@]}" "$gen" -i "$tx" --json "$@" >"$work/$name.json"
	local rc=$?
	# libpcap hands over a TPACKET_V3 block when it is full or after its
	# timeout (tcpdump: 1000 ms), and tcpdump exits on SIGINT without
	# reading what is still in the ring.
	sleep 1.5
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid"
	tcpdump_pid=
	if [ $rc != 0 ]; then
		echo "FAIL: capx-gen $* exited $rc"
		failures=$((failures + 1))
		return 1
	fi
	# tshark: one line per frame: length, VLAN id, UDP source port, payload.
	tshark -r "$work/$name.pcap" -T fields -e frame.len -e vlan.id -e udp.srcport -e data.data \
		>"$work/$name.fields" 2>/dev/null
}

field() { jq -r ".$2" "$work/$1.json"; }
lines() { wc -l <"$work/$1.fields"; }
# Every payload starts with "CXG1" and the 64-bit sequence number.
sequences_are_0_to() { # name, count
	awk -F'\t' '{ print substr($4, 1, 8), substr($4, 9, 16) }' "$work/$1.fields" |
		awk -v n="$2" '
		$1 != "43584731" { bad++ }
		{ seen[$2]++ }
		END {
			for (i = 0; i < n; i++)
				if (seen[sprintf("%016x", i)] != 1)
					bad++
			exit bad != 0
		}'
}
all_lengths_are() { awk -F'\t' -v len="$2" '$1 != len { bad++ } END { exit bad != 0 }' "$work/$1.fields"; }
ports_cycle() { # name, flows: port of frame i is 10000 + i % flows
	awk -F'\t' -v f="$2" '{ seq = substr($4, 9, 16); p[seq] = $3 }
		END { for (s in p) { i = 0; for (k = 1; k <= 16; k++) i = i * 16 + index("0123456789abcdef", substr(s, k, 1)) - 1
			if (p[s] != 10000 + i % f) bad++ }; exit bad != 0 }' "$work/$1.fields"
}
no_kernel_drops() { grep -q '^0 packets dropped by kernel' "$work/$1.tcpdump"; }

# 1. 64-byte frames, paced, 16 flows.
if capture small -s 64 -c 1000 -r 20000 --flows 16; then
	check "64 B: capx-gen reports 1000 frames, 64000 bytes" \
		test "$(field small frames)/$(field small bytes)" = 1000/64000
	check "64 B: tcpdump dropped nothing" no_kernel_drops small
	check "64 B: exactly 1000 frames on the wire" test "$(lines small)" = 1000
	check "64 B: every frame is 64 bytes" all_lengths_are small 64
	check "64 B: sequence numbers 0..999, each once" sequences_are_0_to small 1000
	check "64 B: source ports cycle over 16 flows" ports_cycle small 16
	# The pacer never sends a frame early: frame 999 is due at 999/20000 s.
	check "64 B: 20000 pps is not exceeded" \
		awk -v d="$(field small duration_s)" 'BEGIN { exit !(d >= 0.04995) }'
fi

# 2. 1500-byte frames, unpaced, VLAN-tagged.
if capture big -s 1500 -c 500 --vlan 7; then
	check "1500 B VLAN: capx-gen reports 500 frames, 750000 bytes" \
		test "$(field big frames)/$(field big bytes)" = 500/750000
	check "1500 B VLAN: tcpdump dropped nothing" no_kernel_drops big
	check "1500 B VLAN: exactly 500 frames on the wire" test "$(lines big)" = 500
	check "1500 B VLAN: every frame is 1500 bytes" all_lengths_are big 1500
	check "1500 B VLAN: every frame carries VLAN 7" \
		awk -F'\t' '$2 != 7 { bad++ } END { exit bad != 0 }' "$work/big.fields"
	check "1500 B VLAN: sequence numbers 0..499, each once" sequences_are_0_to big 500
fi

# 3. A duration instead of a count: what it says it sent is what arrived.
if capture timed -s 200 -d 0.5 -r 4000; then
	frames=$(field timed frames)
	# Each stall (the pacer found a frame more than 1 ms late and started
	# again from it) leaves its lateness unsent: frames + stall time × rate
	# is the 2000 of 0.5 s at 4000 pps.
	owed=$(jq -r '.stall_ms * 4 | floor' "$work/timed.json")
	check "duration: about 2000 frames in 0.5 s at 4000 pps, less $owed for stalls (got $frames)" \
		test $((frames + owed)) -ge 1900 -a "$frames" -le 2001
	check "duration: tcpdump dropped nothing" no_kernel_drops timed
	check "duration: every frame it reported arrived" test "$(lines timed)" = "$frames"
	check "duration: sequence numbers 0..$((frames - 1))" sequences_are_0_to timed "$frames"
fi

# 4. The XDP sender (--xdp): the same frames, stamped by its BPF program.
# More frames than the kernel's page pool holds (64 per batch), so pages are
# reused; tagged, so the receiver's untagging has rewritten them before.
if capture xdp_small --xdp -s 64 -c 1000 -r 20000 --flows 16; then
	check "xdp 64 B: capx-gen reports 1000 frames" test "$(field xdp_small frames)/$(field xdp_small method)" = 1000/xdp
	check "xdp 64 B: tcpdump dropped nothing" no_kernel_drops xdp_small
	check "xdp 64 B: exactly 1000 frames on the wire" test "$(lines xdp_small)" = 1000
	check "xdp 64 B: every frame is 64 bytes" all_lengths_are xdp_small 64
	check "xdp 64 B: sequence numbers 0..999, each once" sequences_are_0_to xdp_small 1000
	check "xdp 64 B: source ports cycle over 16 flows" ports_cycle xdp_small 16
	check "xdp 64 B: 20000 pps is not exceeded" \
		awk -v d="$(field xdp_small duration_s)" 'BEGIN { exit !(d >= 0.04995) }'
fi
if capture xdp_big --xdp -s 1500 -c 2000 --vlan 7; then
	check "xdp 1500 B VLAN: capx-gen reports 2000 frames" test "$(field xdp_big frames)" = 2000
	check "xdp 1500 B VLAN: tcpdump dropped nothing" no_kernel_drops xdp_big
	check "xdp 1500 B VLAN: exactly 2000 frames on the wire" test "$(lines xdp_big)" = 2000
	check "xdp 1500 B VLAN: every frame is 1500 bytes" all_lengths_are xdp_big 1500
	check "xdp 1500 B VLAN: every frame carries VLAN 7" \
		awk -F'\t' '$2 != 7 { bad++ } END { exit bad != 0 }' "$work/xdp_big.fields"
	check "xdp 1500 B VLAN: sequence numbers 0..1999, each once" sequences_are_0_to xdp_big 2000
fi
# 4b. A stall of the sender's CPU does not turn into a burst: a busy loop on
# the generator's CPU takes it away for milliseconds at a time (the
# scheduler's slice), and each time the next frame is late the schedule
# starts again from it instead of sending what is owed back to back. So for
# any two frames i < j (by sequence number, so a drop changes nothing),
# seq_j - seq_i <= rate * (t_j - t_i) + rate * max_lag + 128 (the veth's NAPI
# takes the XDP sender's frames 64 at a time; tcpdump's time stamps are
# taken there). Catching up after a 3 ms stall at 200k pps would put 600
# frames within a fraction of a millisecond; the bound allows 228.
# (--max-lag 1000, i.e. catching up, fails this check here.)
never_faster_than() { # name, rate, max_lag_ms
	tshark -r "$work/$1.pcap" -T fields -e frame.time_relative -e data.data 2>/dev/null |
		awk -F'\t' -v r="$2" -v lag="$3" '
		function hex(s,   i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
		{
			x = hex(substr($2, 9, 16)) - r * $1
			if (NR > 1 && x - lo > worst) worst = x - lo
			if (NR == 1 || x < lo) lo = x
		}
		END {
			slack = r * lag / 1000 + 128
			printf "  most frames ahead of the rate: %.0f (bound %.0f)\n", worst, slack
			exit !(NR > 0 && worst <= slack)
		}'
}
stalls_counted() { # name, max_lag_ms
	jq -e --argjson lag "$2" '(.stalls | type) == "number" and .stalls > 0 and .stall_max_ms > $lag and .stall_ms >= .stall_max_ms' \
		"$work/$1.json" >/dev/null
}
hog() { taskset -c 0 sh -c 'while :; do :; done' & hog_pid=$!; }
unhog() { kill "$hog_pid"; wait "$hog_pid" 2>/dev/null; }
for method in xdp sendmmsg; do
	args=()
	[ $method = xdp ] && args=(--xdp)
	hog
	gen_prefix=(taskset -c 0)
	capture stall_$method "${args[@]}" -s 64 -c 200000 -r 200000 --max-lag 0.5
	ok=$?
	gen_prefix=()
	unhog
	if [ $ok = 0 ]; then
		check "$method stalled: stall counters in the summary ($(jq -c '{stalls, stall_ms, stall_max_ms}' "$work/stall_$method.json"))" \
			stalls_counted stall_$method 0.5
		check "$method stalled: never more than 0.5 ms of frames ahead of 200k pps" \
			never_faster_than stall_$method 200000 0.5
	fi
done

check "xdp: the peer's XDP program is gone after the run" \
	sh -c "! ip -n '$ns' link show '$rx' | grep -q xdp"

# 5. Bad input: one line on stderr, exit 2, nothing sent.
bad_input() { # description, arguments...
	local what=$1
	shift
	nsx "$gen" "$@" >"$work/bad.out" 2>"$work/bad.err"
	local rc=$?
	check "bad input ($what): exit 2 (got $rc)" test $rc = 2
	check "bad input ($what): one line on stderr" test "$(wc -l <"$work/bad.err")" = 1
	check "bad input ($what): nothing on stdout" test ! -s "$work/bad.out"
}
bad_input "frame too small" -i "$tx" -c 1 -s 63
bad_input "frame too big" -i "$tx" -c 1 -s 9001
bad_input "frame over the MTU" -i "$tx" -c 1 -s 1600
bad_input "no such interface" -i nosuchdev$$ -c 1
bad_input "VLAN id" -i "$tx" -c 1 --vlan 4096
bad_input "neither count nor duration" -i "$tx"
bad_input "unknown option" -i "$tx" -c 1 --frobnicate
bad_input "MAC address" -i "$tx" -c 1 --dst-mac 02:00:00:00:00
bad_input "rate" -i "$tx" -c 1 -r fast
bad_input "--xdp on a device that is not a veth" -i lo -c 1 --xdp
bad_input "--xdp with --batch" -i "$tx" -c 1 --xdp --batch 8
bad_input "--max-lag without a rate" -i "$tx" -c 1 --max-lag 2
bad_input "negative --max-lag" -i "$tx" -c 1 -r 10 --max-lag -1

if [ $failures != 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
