#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/ring/split.sh: where a ring capture's CPU goes, user space against
# kernel, and how much of it is the file write. For each tool, each frame
# size and each output (a file on tmpfs, /dev/null) it captures one
# generator run on a veth pair (as bench/ring/run.sh does: generator on CPU
# 0, capture on CPU 1, both SCHED_FIFO, 4 MiB rings) and prints the tool's
# CPU per captured packet split into user and system time.
#
# The total is schedstat's exact runtime. User and system time are
# /proc/PID/stat's utime and stime: tick-sampled (CONFIG_TICK_CPU_ACCOUNTING)
# and scaled to the exact runtime (cputime_adjust(), kernel/sched/cputime.c).
# A capture wakes up in step with the kernel, so the samples can land mostly
# in one mode: read the split over several runs, and the write's cost from
# tmpfs against /dev/null, which are exact totals.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

declare -A variants
add_variant() { variants[${1%%=*}]=${1#*=}; }
tools="capx tcpdump" sizes="64 1500" rate_list="1000000 300000" seconds=4 outputs="tmpfs null" rounds=1
bench_common_options build capx gen
bench_option --tools '"LIST"' tools "from: capx tcpdump floor floor-n floor-v (default: capx tcpdump; floor is DIR/bench/ring/ring-floor, see bench/ring/floor.c, floor-n and floor-v the same with -n and -v)"
bench_option --sizes '"LIST"' sizes 'frame sizes (default: "64 1500")'
bench_option --rate '"LIST"' rate_list 'offered pps per size, in the order of --sizes (default: "1000000 300000")'
bench_option --seconds N seconds "traffic per run (default 4)"
bench_option --outputs '"LIST"' outputs "from: tmpfs null (default: both)"
bench_option --repeat N rounds "runs of each combination (default 1), interleaved"
bench_option --variant NAME=PATH "add_variant()" "another capx binary, run as tool NAME (A/B in one run; add NAME to --tools); may be given more than once"
bench_parse_options "$@"
capx=${capx:-$build/src/capx}
gen=${gen:-$build/tests/progs/capx-gen}
bench_require_root "network namespaces, AF_PACKET"
bench_require_commands jq taskset ip tcpdump
bench_require_built "$gen" capx-gen
floor=$build/bench/ring/ring-floor
[[ " $tools " != *" floor"* ]] || bench_require_built "$floor" ring-floor
# A /dev/null that something deleted and a redirection then made again is a
# regular file (on this machine's devtmpfs): the "null" runs would write
# into it and measure a file write.
[[ " $outputs " != *" null "* ]] || [ -c /dev/null ] ||
	die "/dev/null is not a character device (mknod -m 666 /dev/null c 1 3)"

ns=capxsplit$$ tx=cxst$$ rx=cxsr$$
bench_scratch capx-split
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$scratch"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_veth_pair "$ns" "$tx" "$rx"

hz=$(getconf CLK_TCK)
# utime + stime of a process (all threads), in ms.
user_sys_ms() {
	awk -v hz="$hz" '{ sub(/.*\) /, ""); print $12 * 1000 / hz, $13 * 1000 / hz }' /proc/"$1"/stat
}

# The offered rate of each size: --rate's words in the order of --sizes.
declare -A rate_of
read -ra rate_words <<<"$rate_list"
i=0
for size in $sizes; do
	rate_of[$size]=${rate_words[$i]:-}
	[ -n "${rate_of[$size]}" ] || die "--rate has no rate for size $size"
	i=$((i + 1))
done

# A mode is OUTPUT/TOOL; each output runs every tool before the next.
run() { # size round output/tool
	local size=$1 mode=$3
	local output=${mode%%/*} tool=${mode#*/} rate=${rate_of[$1]} file cmd
	file=$scratch/$tool.pcap
	[ "$output" = null ] && file=/dev/null
	case $tool in
	tcpdump) cmd=(tcpdump -i "$rx" -n -s 262144 -B 4096 -Z root -w "$file") ;;
	# floor, floor-n, floor-v: ring-floor with no flag, -n, -v.
	floor|floor-n|floor-v) cmd=("$floor" ${tool#floor} -i "$rx" -B 4096 -w "$file") ;;
	*)
		local bin=$capx
		[ "$tool" = capx ] || bin=${variants[$tool]:-}
		[ -n "$bin" ] || die "unknown tool $tool"
		cmd=("$bin" ring -i "$rx" -s 262144 -B 4096 -w "$file")
		;;
	esac
	local err=$scratch/err
	ip netns exec "$ns" taskset -c 1 chrt -f 10 "${cmd[@]}" >/dev/null 2>"$err" &
	local pid=$! n=0
	until [ "$(bench_running_packet_sockets "$rx_index")" -ge 1 ]; do
		sleep 0.05
		n=$((n + 1))
		[ $n -gt 200 ] && die "$tool did not start: $(cat "$err")"
	done
	sleep 0.3
	local u0 s0 c0 u1 s1 c1 genout
	read -r u0 s0 < <(user_sys_ms $pid)
	c0=$(cpu_ns $pid)
	genout=$(nsx taskset -c 0 chrt -f 10 "$gen" --xdp -i "$tx" -s "$size" -r "$rate" -c $((rate * seconds)) --json)
	# Both tools have handed over every block by then (tcpdump's block
	# timeout is libpcap's 1000 ms).
	sleep 1.3
	read -r u1 s1 < <(user_sys_ms $pid)
	c1=$(cpu_ns $pid)
	kill -INT $pid
	wait $pid || true
	local captured sent
	captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured.*/\1/p' "$err" | tail -1)
	sent=$(jq -r .frames <<<"$genout")
	rm -f "$scratch/$tool.pcap"
	awk -v t="$tool" -v z="$size" -v o="$output" -v r="$rate" -v gp="$(jq -r .pps <<<"$genout")" -v sent="$sent" \
		-v c="${captured:-0}" -v u="$(awk -v a="$u0" -v b="$u1" 'BEGIN { print b - a }')" \
		-v s="$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" -v cpu="$((c1 - c0))" 'BEGIN {
		ns = c ? cpu / c : 0
		us = u + s
		printf "%-8s %5d %-6s %8d %8.0f %9d %9d %8.1f %8.1f %8.1f %7.1f %7.1f %7.1f\n", t, z, o, r, gp, sent, c,
			cpu / 1e6, u, s, ns, us ? ns * u / us : 0, us ? ns * s / us : 0
	}'
}

modes=
for output in $outputs; do
	for tool in $tools; do
		modes+=" $output/$tool"
	done
done
bench_load_average before
printf '%-8s %5s %-6s %8s %8s %9s %9s %8s %8s %8s %7s %7s %7s\n' tool size output rate gen_pps sent captured \
	cpu_ms user_ms sys_ms ns/pkt user_ns sys_ns
bench_run_modes run
bench_load_average after
