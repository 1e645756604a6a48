#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/ring/run.sh: loss-free rate and CPU per packet of `capx ring` against
# tcpdump and netsniff-ng, on identical traffic from capx-gen, in the same run.
#
# For each frame size and each offered rate, every tool captures the same
# generator run (same count, rate, size, flows), one tool after the other,
# on a veth pair inside a network namespace this script makes and deletes.
# The generator and the capture are pinned to different CPUs. See
# bench/README.md (## ring) for what is measured and how to read the result.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

quick=0
tools="capx tcpdump netsniff-ng"
sizes="64 1500"
rates=
seconds=
ring_mb=4
budget=
sender=xdp
keep_climbing=0
bench_option --quick "" quick=1 "fewer rates, 1 s per run (about 1-2 minutes)"
bench_common_options build capx gen
bench_option --tools '"LIST"' tools "tools to run, from: capx tcpdump netsniff-ng floor floor-v (default: capx tcpdump netsniff-ng; floor is DIR/bench/ring/ring-floor, the least a ring capture to a file can do, floor-v the same writing straight from the ring with writev(2): see bench/ring/floor.c)"
bench_option --sizes '"LIST"' sizes 'frame sizes (default: "64 1500")'
bench_option --rates '"LIST"' rates "offered rates in pps for every size (default: a ladder per size up to what the generator reaches; 0 = unpaced)"
bench_option --sender 'xdp|sendmmsg' sender "how capx-gen sends (default xdp: the kernel sends, BPF_PROG_TEST_RUN live frames, ~2-3x sendmmsg's rate)"
bench_option --keep-climbing "" keep_climbing=1 "run every tool at every rate (default: a tool that lost at two rates in a row skips the higher paced rates)"
bench_option --seconds N seconds "traffic per run (default 3; --quick 1)"
bench_option --ring-mb N ring_mb "capture ring size for every tool (default 4)"
bench_common_options gen-cpu cap-cpu no-rt
bench_option --cpu-budget PCT budget "give each capture only PCT% of its CPU (a cgroup CPU quota, 10 ms period; below 10%, a 1 ms quota in a longer period): makes the capture, not the generator, the bottleneck, so loss-free rates differ"
bench_common_options out
bench_parse_options "$@"

capx=${capx:-$build/src/capx}
gen=${gen:-$build/tests/progs/capx-gen}
floor=$build/bench/ring/ring-floor
seconds=${seconds:-$([ $quick = 1 ] && echo 1 || echo 3)}

bench_require_root "network namespaces, AF_PACKET"
bench_require_built "$gen" capx-gen
for t in $tools; do
	case $t in
	capx) bench_require_built "$capx" capx ;;
	tcpdump|netsniff-ng) bench_require_commands "$t" ;;
	floor|floor-v) bench_require_built "$floor" ring-floor ;;
	*) die "unknown tool '$t'" ;;
	esac
done
case $sender in
xdp) gen_args=(--xdp) ;;
sendmmsg) gen_args=() ;;
*) die "--sender is xdp or sendmmsg" ;;
esac
bench_require_commands capinfos jq taskset ip

# --- the namespace, the veth pair, the scratch space -----------------------

ns=capxbench$$
tx=cxbt$$ # the generator sends here
rx=cxbr$$ # the captures listen here
bench_scratch capx-bench

cgroup=
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	[ -n "$cgroup" ] && rmdir "$cgroup" 2>/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_veth_pair "$ns" "$tx" "$rx"

# Same priority for generator and every tool, above the rest of the machine,
# so other work on the box does not decide who drops.
rt_prefix=()
[ $rt = 1 ] && rt_prefix=(chrt -f 10)
cap_prefix=("${rt_prefix[@]}")
cgroup_prefix=()

# A CPU budget is a CFS bandwidth quota, which does not apply to SCHED_FIFO
# tasks: the capture then runs at nice -20 instead, in a cgroup of the
# highest weight, so that it still gets its whole quota on a busy machine
# (nice only ranks tasks inside their cgroup; against other cgroups, e.g.
# other people's builds on the capture CPU, the cgroup's weight decides:
# with the default weight both tools waited 0.4-1.5 s per 3 s run for the
# CPU, and which one lost depended on that, not on the tool).
if [ -n "$budget" ]; then
	[[ "$budget" =~ ^[0-9]+$ ]] && [ "$budget" -ge 1 ] && [ "$budget" -le 100 ] ||
		die "--cpu-budget takes a percentage 1..100"
	# A 10 ms period; below 10% the quota would be under the kernel's
	# 1 ms minimum (min_cfs_quota_period, kernel/sched/core.c), so the
	# quota stays at 1 ms and the period grows instead.
	period_us=10000 quota_us=$((budget * 100))
	if [ "$budget" -lt 10 ]; then
		period_us=$((100000 / budget)) quota_us=1000
	fi
	if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then # cgroup v1
		cgroup=/sys/fs/cgroup/cpu/capxbench$$
		mkdir "$cgroup"
		echo "$period_us" > "$cgroup/cpu.cfs_period_us"
		echo "$quota_us" > "$cgroup/cpu.cfs_quota_us"
		echo 262144 > "$cgroup/cpu.shares" # the most v1 allows
	elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then # v2
		cgroup=/sys/fs/cgroup/capxbench$$
		mkdir "$cgroup"
		echo "$quota_us $period_us" > "$cgroup/cpu.max"
		echo 10000 > "$cgroup/cpu.weight" # the most v2 allows
	else
		die "--cpu-budget needs the cgroup cpu controller"
	fi
	cap_prefix=(nice -n -20)
	# Joins the cgroup, then becomes the tool (exec keeps the pid). Before
	# ip netns exec: that mounts the namespace's own /sys, hiding cgroupfs.
	cgroup_prefix=(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cgroup")
fi

# --- measuring one tool ------------------------------------------------------

ring_kb=$((ring_mb * 1024))
snaplen=262144

# capx ring takes -B like tcpdump if it has it.
capx_ring_args=()
if [[ " $tools " == *" capx "* ]]; then
	if "$capx" ring --help 2>/dev/null | grep -q -- '-B'; then
		capx_ring_args+=(-B "$ring_kb")
	else
		echo "note: capx ring has no -B; it runs with its default ring size" >&2
	fi
fi

# Sets cmd to the command line of a tool writing to a file.
tool_command() { # tool file
	case $1 in
	capx) cmd=("$capx" ring -i "$rx" -s "$snaplen" "${capx_ring_args[@]}" -w "$2") ;;
	# -Z root: keep writing to a root-owned scratch dir.
	tcpdump) cmd=(tcpdump -i "$rx" -n -s "$snaplen" -B "$ring_kb" -Z root -w "$2") ;;
	# -A/-Q: do not retune socket memory or IRQ affinity of the machine;
	# -T: plain tcpdump pcap, -b: the CPU taskset gives it anyway.
	netsniff-ng) cmd=(netsniff-ng --in "$rx" --out "$2" --silent -S "${ring_mb}MiB" -T 0xa1b2c3d4 -A -Q -b "$cap_cpu") ;;
	# floor, floor-v: ring-floor with no flag, -v.
	floor|floor-v) cmd=("$floor" ${1#floor} -i "$rx" -B "$ring_kb" -w "$2") ;;
	esac
}


# Time the process's threads were runnable but waited for a CPU (schedstat's
# second field, run_delay), in ns: a capture that waits loses frames with
# CPU time to spare.
wait_ns() {
	local total=0 f v w
	for f in /proc/"$1"/task/*/schedstat; do
		read -r v w _ < "$f" 2>/dev/null || continue
		total=$((total + w))
	done
	echo $total
}

# Time the --cpu-budget cgroup was held off by its quota, in ns (0 without
# a budget): cgroup v1 cpu.stat throttled_time, v2 throttled_usec.
throttled_ns() {
	[ -n "$cgroup" ] || { echo 0; return; }
	awk '$1 == "throttled_time" { print $2; exit } $1 == "throttled_usec" { print $2 * 1000; exit }' "$cgroup/cpu.stat"
}

# The drops a tool reports on exit, "-" when it says nothing we know.
tool_drops() { # tool stderr stdout
	local d
	case $1 in
	capx|tcpdump|floor|floor-v) d=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$2" | tail -1) ;;
	# netsniff-ng starts its summary lines with a carriage return.
	netsniff-ng) d=$(tr -d '\r' < "$3" | sed -n 's/^ *\([0-9]*\) *packets failed filter (out of space).*/\1/p' | tail -1) ;;
	esac
	echo "${d:--}"
}

bench_results_init size offered_pps tool sent gen_pps captured lost loss_pct cpu_ms cpu_us_per_pkt tool_drops \
	link_drops wait_ms throttled_ms gen_stalls gen_stall_ms gen_stall_max_ms

# softnet_stat's 2nd column: frames the backlog refused, before any tap saw
# them; veth's own rx and tx drops likewise. Any means the loss was not the
# tool's.
link_drops() {
	local total _ dropped _rest
	total=$(( $(nsx cat /sys/class/net/"$rx"/statistics/rx_dropped) + $(nsx cat /sys/class/net/"$tx"/statistics/tx_dropped) ))
	while read -r _ dropped _rest; do
		total=$((total + 16#$dropped))
	done < /proc/net/softnet_stat
	echo $total
}

run_one() { # tool size rate count
	local tool=$1 size=$2 rate=$3 count=$4
	local tag=$tool-$size-$rate file=$scratch/$tool-$size-$rate.pcap
	local err=$logs/$tag.err outf=$logs/$tag.out
	rm -f "$file"

	local cmd
	tool_command "$tool" "$file"
	# Not through nsx: a backgrounded function is a subshell, and $! must be
	# the tool itself (ip netns exec, taskset and chrt all exec).
	"${cgroup_prefix[@]}" ip netns exec "$ns" taskset -c "$cap_cpu" "${cap_prefix[@]}" "${cmd[@]}" >"$outf" 2>"$err" &
	local pid=$!
	local waited=0
	until [ "$(bench_running_packet_sockets "$rx_index")" -ge 1 ]; do
		sleep 0.05
		waited=$((waited + 1))
		if [ $waited -gt 200 ] || ! kill -0 $pid 2>/dev/null; then
			kill -INT $pid 2>/dev/null || true
			wait $pid 2>/dev/null || true
			echo "$bench_name: $tool did not start capturing on $rx:" >&2
			sed 's/^/  /' "$err" >&2
			return 1
		fi
	done
	sleep 0.3 # ring set up and mapped after the bind

	local drops_before; drops_before=$(link_drops)
	local arrived_before; arrived_before=$(nsx cat /sys/class/net/"$rx"/statistics/rx_packets)
	local cpu_before; cpu_before=$(cpu_ns $pid)
	local wait_before; wait_before=$(wait_ns $pid)
	local throttled_before; throttled_before=$(throttled_ns)
	local genout
	genout=$(nsx taskset -c "$gen_cpu" "${rt_prefix[@]}" "$gen" "${gen_args[@]}" -i "$tx" -s "$size" -r "$rate" -c "$count" --json)

	bench_wait_drained "$file"
	local cpu_after; cpu_after=$(cpu_ns $pid)
	local wait_after; wait_after=$(wait_ns $pid)
	local throttled_after; throttled_after=$(throttled_ns)
	kill -INT $pid
	wait $pid || true
	local drops_after; drops_after=$(link_drops)
	local arrived_after; arrived_after=$(nsx cat /sys/class/net/"$rx"/statistics/rx_packets)

	local sent gen_pps captured stalls
	sent=$(jq -r .frames <<<"$genout")
	gen_pps=$(jq -r .pps <<<"$genout")
	# The generator's stalls (its CPU taken for more than --max-lag, 1 ms;
	# it then starts its schedule again instead of catching up, so a stall
	# thins the traffic and never bursts): count, total and longest ms.
	stalls=$(jq -r '"\(.stalls)\t\(.stall_ms)\t\(.stall_max_ms)"' <<<"$genout")
	captured=$(bench_pcap_count "$file")
	rm -f "$file"

	local lost=$((sent - captured))
	# Frames the generator counted that never reached the capture device
	# count as link drops too (the XDP sender counts what it redirected).
	local missing=$((sent - (arrived_after - arrived_before)))
	[ $missing -lt 0 ] && missing=0
	awk -v s="$size" -v r="$rate" -v t="$tool" -v sent="$sent" -v gp="$gen_pps" -v c="$captured" \
		-v l="$lost" -v cpu="$((cpu_after - cpu_before))" -v td="$(tool_drops "$tool" "$err" "$outf")" \
		-v ld="$((drops_after - drops_before + missing))" -v wt="$((wait_after - wait_before))" \
		-v th="$((throttled_after - throttled_before))" -v st="$stalls" 'BEGIN {
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.1f\t%.3f\t%s\t%s\t%.1f\t%.1f\t%s\n", s, r, t, sent, gp, c, l,
			sent ? 100 * l / sent : 0, cpu / 1e6, c ? cpu / 1e3 / c : 0, td, ld, wt / 1e6, th / 1e6, st
	}' >> "$results"
	tail -1 "$results" | awk -F'\t' '{ printf "  %-11s sent %9d at %8d pps  captured %9d  lost %8d (%6.3f%%)  cpu %7.1f ms  %6.3f us/pkt  tool drops %s  link drops %s  waited %s ms  throttled %s ms  gen stalls %s (%s ms, longest %s)\n", $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 }'
}

# --- the generator's own ceiling ---------------------------------------------

# Unpaced, no capture attached: the most the generator can offer. With a
# capture the kernel also copies every frame into its ring on the
# generator's CPU (veth delivers in the sender's softirq), so the ceiling
# under capture is lower; gen_pps in the results is what each run got.
declare -A ceiling
echo "capx-gen ceiling ($sender, unpaced, no capture, CPU $gen_cpu, $seconds s):"
for size in $sizes; do
	line=$(nsx taskset -c "$gen_cpu" "${rt_prefix[@]}" "$gen" "${gen_args[@]}" -i "$tx" -s "$size" -d "$seconds" -c 100000000 --json)
	ceiling[$size]=$(jq -r '.pps | floor' <<<"$line")
	echo "  $size bytes: ${ceiling[$size]} pps"
done

ladder() { # size
	local all
	if [ -n "$rates" ]; then
		echo "$rates"
		return
	fi
	# Fine enough above 800k pps that a loss-free rate ratio of 1.5 can
	# show: steps of 20-25% where the tools start to lose.
	if [ $quick = 1 ]; then
		all="200000 800000 1000000 1250000 1500000 1800000 2200000 2600000 3000000"
	else
		all="50000 100000 200000 300000 400000 600000 800000 1000000 1250000 1500000 1800000 2200000 2600000 3000000 3500000 4000000"
	fi
	local r list=
	for r in $all; do
		# Rates the generator cannot reach even without a capture would
		# only repeat the unpaced run.
		[ "$r" -le $((ceiling[$1] * 9 / 10)) ] && list="$list $r"
	done
	echo "$list 0"
}

# --- the runs -------------------------------------------------------------------

declare -A lossy_in_row
# The frames of a step (rate x seconds) and its heading.
step_heading() { # size rate
	local size=$1 rate=$2
	count=$(( (rate ? rate : ceiling[$size]) * seconds ))
	# At most ~2 GiB of pcap per run: tmpfs is memory.
	local max_count=$(( (2 << 30) / (size + 16) ))
	[ $count -gt $max_count ] && count=$max_count
	if [ "$rate" = 0 ]; then
		echo "== $size bytes, unpaced, $count frames"
	else
		echo "== $size bytes, $rate pps, $count frames"
	fi
}
# A tool that lost at two paced rates in a row is past its loss-free rate:
# it sits out the higher paced rates (not the unpaced run), which saves
# most of a run's time.
past_loss_free() { # size rate tool
	[ $keep_climbing = 0 ] && [ "$2" != 0 ] && [ "${lossy_in_row[$1,$3]:-0}" -ge 2 ] || return 1
	echo "  $(printf '%-11s' "$3") skipped (lost at the two rates below)"
}
measure_tool() { # size rate tool
	local size=$1 rate=$2 tool=$3 row
	run_one "$tool" "$size" "$rate" "$count" || true
	# (Runs where the generator fell >10% short or stalled for >10% of
	# the run count neither way.)
	row=$(tail -1 "$results")
	if [ "$(cut -f3 <<<"$row")" = "$tool" ] && [ "$(cut -f2 <<<"$row")" = "$rate" ] &&
		awk -F'\t' '{ exit !($2 == 0 || ($5 >= 0.9 * $2 && !($5 > 0 && $16 > 100 * $4 / $5))) }' <<<"$row"; then
		if [ "$(cut -f7 <<<"$row")" = 0 ]; then
			lossy_in_row[$size,$tool]=0
		else
			lossy_in_row[$size,$tool]=$(( ${lossy_in_row[$size,$tool]:-0} + 1 ))
		fi
	fi
}

bench_load_average "before the runs"
echo "generator ($sender) on CPU $gen_cpu, captures on CPU $cap_cpu$([ $rt = 1 ] && echo ", SCHED_FIFO")$([ -n "$budget" ] && echo ", capture CPU budget $budget%"), ring ${ring_mb} MiB, snaplen $snaplen, $seconds s per run"
bench_run_modes --modes "$tools" --steps ladder --heading step_heading --skip past_loss_free measure_tool
bench_load_average "after the runs"

# --- the summary ------------------------------------------------------------------

# Highest loss-free rate: the highest rate the generator achieved (gen_pps)
# in a run where the tool captured every frame sent. CPU per packet is
# compared at the highest offered rate at which every tool was loss-free, so
# all tools handled the same packets.
awk -F'\t' -v tools="$tools" '
NR == 1 { next }
{
	key = $1 SUBSEP $3
	sizes[$1] = 1
	# A paced run in which the generator fell short of the offered rate
	# (by more than 10%: its CPU was taken by something else) says
	# nothing about the rate a tool keeps up with.
	short = $2 != 0 && $5 < 0.9 * $2
	if (short)
		shorts[$1] = shorts[$1] " " $3 "@" $2
	# A paced run in which the generator stalled for more than 10% of
	# its duration ($16 ms of $4 / $5 s): it does not catch up after a
	# stall, so a stall only thins the traffic, but the pauses let a
	# tool drain its ring and could hide a deficit of that size.
	stalled = $2 != 0 && $5 > 0 && $16 > 100 * $4 / $5
	if (stalled)
		stalleds[$1] = stalleds[$1] " " $3 "@" $2 "(" $16 "ms)"
	short = short || stalled
	if ($7 == 0 && !short && $5 > best[key])
		best[key] = $5
	# Loss-free even unpaced: the generator, not the tool, set the limit.
	if ($2 == 0 && $7 == 0)
		unpaced_ok[key] = $5
	lossy[$1, $2] += ($7 != 0)
	seen[$1, $2]++
	cpu[$1, $2, $3] = $10
	if ($2 != 0 && !(($1, $2) in listed)) {
		rates_of[$1] = rates_of[$1] " " $2
		listed[$1, $2] = 1
	}
}
function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "n/a" }
END {
	# Loss-free unpaced counts as "the generator set the limit" only if
	# that run reached about the best rate the tool was loss-free at.
	for (k in unpaced_ok)
		if (unpaced_ok[k] >= 0.9 * best[k]) {
			bound[k] = 1
			if (unpaced_ok[k] > best[k])
				best[k] = unpaced_ok[k]
		}
	n = split(tools, tl, " ")
	for (s in sizes) {
		common = -1
		nr = split(rates_of[s], rl, " ")
		for (i in rl)
			if (lossy[s, rl[i]] == 0 && seen[s, rl[i]] == n && rl[i] + 0 > common + 0)
				common = rl[i]
		printf "\n== %s-byte frames\n", s
		printf "  %-12s %16s %22s\n", "tool", "loss-free pps", (common > 0 ? "cpu us/pkt @ " common " pps" : "cpu us/pkt (no common loss-free rate)")
		for (i = 1; i <= n; i++) {
			t = tl[i]
			printf "  %-12s %16s %22s\n", t, ((s, t) in best ? ((s, t) in bound ? ">= " : "") best[s, t] : "none"), (common > 0 ? cpu[s, common, t] : "-")
		}
		if (index(" " tools " ", " capx ")) {
			for (i = 1; i <= n; i++) {
				t = tl[i]
				if (t == "capx") continue
				printf "  capx/%-11s loss-free rate %s%s (target >= 1.5x for tcpdump), cpu/pkt %s (target <= 0.7x for tcpdump)\n", t,
					ratio(best[s, "capx"], best[s, t]),
					((s, t) in bound || (s, "capx") in bound ? " generator-bound, try --cpu-budget" : ""),
					(common > 0 ? ratio(cpu[s, common, "capx"], cpu[s, common, t]) : "n/a")
				# CPU per packet at every paced rate, lossy or not: the
				# steadiest figure on a machine that is not idle.
				line = ""
				for (j = 1; j <= nr; j++)
					if ((s, rl[j], "capx") in cpu && (s, rl[j], t) in cpu)
						line = line sprintf(" %s:%s", rl[j], ratio(cpu[s, rl[j], "capx"], cpu[s, rl[j], t]))
				printf "  %17s cpu/pkt by offered pps:%s\n", "", line
			}
		}
		# The floor against tcpdump: the best CPU ratio any ring capture
		# to a file could show on this machine and traffic.
		if (index(" " tools " ", " floor ") && index(" " tools " ", " tcpdump ")) {
			line = ""
			for (j = 1; j <= nr; j++)
				if ((s, rl[j], "floor") in cpu && (s, rl[j], "tcpdump") in cpu)
					line = line sprintf(" %s:%s", rl[j], ratio(cpu[s, rl[j], "floor"], cpu[s, rl[j], "tcpdump"]))
			printf "  floor/tcpdump    loss-free rate %s, cpu/pkt by offered pps:%s\n", ratio(best[s, "floor"], best[s, "tcpdump"]), line
		}
		if (s in shorts)
			printf "  generator short of the offered rate (>10%%), not counted for loss-free rates:%s\n", shorts[s]
		if (s in stalleds)
			printf "  generator stalled for >10%% of the run, not counted for loss-free rates:%s\n", stalleds[s]
	}
}' "$results"
echo
bench_results_done capx-bench
exit 0
