#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/skb/run.sh: what `capx skb -f tracepoint:net:netif_receive_skb` costs
# a UDP flood through a veth pair, and how it captures next to tcpdump.
#
# capx-gen floods one end of a veth pair (unpaced, pinned to one CPU); the
# other end receives in the sender's softirq (veth_xmit() -> netif_rx(), the
# backlog runs when the sender re-enables bottom halves), so everything the
# kernel does per packet, the BPF program at netif_receive_skb included,
# runs on the generator's CPU and shows as a lower flood rate. Per run:
# packets delivered per second at the receiver (its rx_packets over the
# generator's own duration); the sender CPU's time per delivered packet
# (the generator's task-clock from `perf stat`, which includes the softirq
# work done in its context on this kernel without IRQ_TIME_ACCOUNTING,
# plus ksoftirqd's on that CPU): steadier than the rate on a shared machine,
# since it does not depend on how much of the CPU the generator got; and
# for captures the share of sent packets in the file and the capture
# process's CPU. Modes, interleaved round by round
# so that drifting machine load hits all of them alike:
#   none            no capture
#   capx-nomatch    capx skb, a filter that matches nothing (every packet of
#                   the machine at netif_receive_skb runs the filter)
#   tcpdump-nomatch tcpdump with the same filter (cBPF on the packet socket)
#   capx-all        capx skb -i RX --netns NS, everything to a file on tmpfs
#   tcpdump-all     tcpdump -i RX -w FILE
#   empty-tp        a tp_btf program that does nothing at netif_receive_skb
#                   (empty_tp_btf.py): the floor of any program at that hook
# With --bpf-stats, kernel.bpf_stats_enabled is on during the runs and the
# program's own time per run (run_time_ns / run_cnt) is recorded as well.
# See bench/README.md (## skb) for how to read the result.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

quick=0 sizes='' rounds='' seconds=''
modes="none capx-nomatch tcpdump-nomatch capx-all tcpdump-all"
ring_mb=8
bpf_stats=0
nomatch="udp port 1"
bench_option --quick "" quick=1 "64-byte frames, 3 rounds of 1 s runs (about 1-2 minutes)"
bench_common_options build capx gen
bench_option --sizes '"LIST"' sizes 'frame sizes (default: "64 1500"; --quick: "64")'
bench_option --rounds N rounds "runs of every mode per size (default 5; --quick 3)"
bench_option --seconds N seconds "flood per run (default 3; --quick 1)"
bench_option --modes '"LIST"' modes "from: none capx-nomatch tcpdump-nomatch capx-all tcpdump-all empty-tp (default: all but empty-tp)"
bench_option --nomatch '"EXPR"' nomatch 'the filter of the -nomatch modes (default: "udp port 1")'
bench_option --bpf-stats "" bpf_stats=1 "record the BPF program's ns per run (kernel.bpf_stats_enabled)"
bench_option --ring-mb N ring_mb "capture buffer of capx (-B) and tcpdump (-B) (default 8)"
bench_common_options gen-cpu cap-cpu no-rt out
bench_parse_options "$@"
capx=${capx:-$build/src/capx}
gen=${gen:-$build/tests/progs/capx-gen}
sizes=${sizes:-$([ $quick = 1 ] && echo 64 || echo "64 1500")}
rounds=${rounds:-$([ $quick = 1 ] && echo 3 || echo 5)}
seconds=${seconds:-$([ $quick = 1 ] && echo 1 || echo 3)}

bench_require_root "network namespaces, BPF, AF_PACKET"
bench_require_built "$gen" capx-gen
bench_require_built "$capx" capx
bench_require_commands tcpdump capinfos jq taskset chrt ip awk
perf_prefix=()
if command -v perf >/dev/null; then
	perf_prefix=(perf stat -x, -e task-clock -o)
else
	echo "note: no perf: the sender's CPU per packet is not measured" >&2
fi
for m in $modes; do
	case $m in none|capx-nomatch|tcpdump-nomatch|capx-all|tcpdump-all|empty-tp) ;; *) die "unknown mode '$m'" ;; esac
done

# --- the namespace, the veth pair, the scratch space --------------------------

ns=capxskbbench$$
tx=cxst$$ # capx-gen sends here
rx=cxsr$$ # the receiving end, where the captures look
bench_scratch capx-skb-bench
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	sysctl -qw kernel.bpf_stats_enabled="$stats_was" || true
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_veth_pair "$ns" "$tx" "$rx"

rt_prefix=()
[ $rt = 1 ] && rt_prefix=(chrt -f 10)
ring_kb=$((ring_mb * 1024))
# Port 1 is never the flood's (capx-gen sends to port 9), so the filter
# reads Ethernet, IP and UDP headers of every packet and says no.
[ $bpf_stats = 1 ] && sysctl -qw kernel.bpf_stats_enabled=1

# Sets cmd to the capture command of a mode (none: empty).
mode_command() { # mode file
	case $1 in
	none) cmd=() ;;
	capx-nomatch) cmd=("$capx" skb -f tracepoint:net:netif_receive_skb -B "$ring_kb" -w "$2" $nomatch) ;;
	capx-all) cmd=("$capx" skb -f tracepoint:net:netif_receive_skb -i "$rx" --netns "/run/netns/$ns" \
		-B "$ring_kb" -w "$2") ;;
	# -Z root: keep writing into the root-owned scratch dir.
	tcpdump-nomatch) cmd=(tcpdump -i "$rx" -n -B "$ring_kb" -Z root -w "$2" $nomatch) ;;
	tcpdump-all) cmd=(tcpdump -i "$rx" -n -B "$ring_kb" -Z root -w "$2") ;;
	empty-tp) cmd=(python3 "$here/empty_tp_btf.py" netif_receive_skb) ;;
	esac
}

# Ready: capx holds its BPF link (fdinfo with link_type), tcpdump's packet
# socket is bound and running on RX (/proc/net/packet: sk RefCnt Type Proto
# Iface R ...).
ready() { # mode pid
	case $1 in
	capx-*|empty-tp) grep -ql '^link_type:' /proc/"$2"/fdinfo/* 2>/dev/null ;;
	tcpdump-*) [ "$(bench_running_packet_sockets "$rx_index")" -ge 1 ] ;;
	esac
}

# ns per run of the BPF programs a process holds (prog_id in the fdinfo
# of its link and program fds), over all their runs so far; - without
# --bpf-stats or programs.
prog_ns_per_run() {
	[ $bpf_stats = 1 ] || { echo -; return; }
	local ids id t=0 c=0 j
	ids=$(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u)
	for id in $ids; do
		j=$(bpftool prog show id "$id" -j 2>/dev/null) || continue
		t=$((t + $(jq -r '.run_time_ns // 0' <<<"$j")))
		c=$((c + $(jq -r '.run_cnt // 0' <<<"$j")))
	done
	[ $c -gt 0 ] && awk -v t=$t -v c=$c 'BEGIN { printf "%.1f", t / c }' || echo -
}
rx_packets() { nsx cat /sys/class/net/"$rx"/statistics/rx_packets; }
ksoftirqd=$(pgrep -x "ksoftirqd/$gen_cpu" | head -1)
# Frames veth could not hand to the backlog (counted on the sending device)
# and frames the backlog refused (softnet_stat's 2nd column).
link_drops() {
	local total _ dropped _rest
	total=$(nsx cat /sys/class/net/"$tx"/statistics/tx_dropped)
	while read -r _ dropped _rest; do
		total=$((total + 16#$dropped))
	done < /proc/net/softnet_stat
	echo $total
}

bench_results_init size round mode sent gen_s delivered delivered_pps sender_ns_per_pkt captured share_pct cpu_ms \
	cpu_us_per_pkt tool_drops link_drops prog_ns_per_run

run_one() { # size round mode
	local size=$1 round=$2 mode=$3
	# At most ~2 GiB of pcap per run: tmpfs is memory.
	local count=$(( (2 << 30) / (size + 16) ))
	local tag=$mode-$size-$round file=$scratch/$mode-$size.pcap
	local err=$logs/$tag.err
	rm -f "$file"
	local cmd pid=
	mode_command "$mode" "$file"
	if [ ${#cmd[@]} -gt 0 ]; then
		# Not through nsx: $! must be the tool itself (ip netns exec,
		# taskset and chrt all exec).
		ip netns exec "$ns" taskset -c "$cap_cpu" "${rt_prefix[@]}" "${cmd[@]}" >/dev/null 2>"$err" &
		pid=$!
		local waited=0
		until ready "$mode" $pid; do
			sleep 0.05
			waited=$((waited + 1))
			if [ $waited -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
				kill -INT $pid 2>/dev/null || true
				wait $pid 2>/dev/null || true
				echo "$bench_name: $mode did not start:" >&2
				sed 's/^/  /' "$err" >&2
				return 1
			fi
		done
		sleep 0.3
	fi
	local rx0 drops0 cpu0=0 soft0=0
	rx0=$(rx_packets)
	drops0=$(link_drops)
	[ -n "$pid" ] && cpu0=$(cpu_ns $pid)
	[ -n "$ksoftirqd" ] && soft0=$(cpu_ns "$ksoftirqd")
	local genout perf_out=$scratch/perf.csv
	rm -f "$perf_out"
	genout=$(nsx "${perf_prefix[@]}" ${perf_prefix[0]:+"$perf_out" --} taskset -c "$gen_cpu" "${rt_prefix[@]}" \
		"$gen" -i "$tx" -s "$size" -d "$seconds" -c "$count" --json)
	local rx1 drops1 soft1=0
	rx1=$(rx_packets)
	drops1=$(link_drops)
	[ -n "$ksoftirqd" ] && soft1=$(cpu_ns "$ksoftirqd")
	# task-clock in ms (perf stat -x: value,unit,event,...)
	local gen_ms
	gen_ms=$(awk -F, '$3 == "task-clock" { print $1 }' "$perf_out" 2>/dev/null)
	local captured=0 cpu1=0 tool_drops=- prog_ns=-
	if [ -n "$pid" ]; then
		bench_wait_drained "$file"
		cpu1=$(cpu_ns $pid)
		prog_ns=$(prog_ns_per_run $pid)
		kill -INT $pid
		wait $pid || true
		case $mode in
		*-all) captured=$(bench_pcap_count "$file") ;;
		esac
		tool_drops=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$err" | tail -1)
		rm -f "$file"
	fi
	local sent gen_s
	sent=$(jq -r .frames <<<"$genout")
	gen_s=$(jq -r .duration_s <<<"$genout")
	awk -v s="$size" -v r="$round" -v m="$mode" -v sent="$sent" -v gs="$gen_s" -v d="$((rx1 - rx0))" \
		-v gms="${gen_ms:-}" -v soft="$((soft1 - soft0))" \
		-v c="$captured" -v cpu="$((cpu1 - cpu0))" -v td="${tool_drops:--}" -v ld="$((drops1 - drops0))" \
		-v pn="$prog_ns" 'BEGIN {
		printf "%s\t%s\t%s\t%s\t%.3f\t%s\t%.0f\t%s\t%s\t%.2f\t%.1f\t%.3f\t%s\t%s\t%s\n", s, r, m, sent, gs, d, d / gs,
			gms != "" && d ? sprintf("%.1f", (gms * 1e6 + soft) / d) : "-", c,
			sent ? 100 * c / sent : 0, cpu / 1e6, c ? cpu / 1e3 / c : 0, td, ld, pn
	}' >> "$results"
	tail -1 "$results" | awk -F'\t' '{
		printf "  %-16s sent %9d  delivered %9d = %8.0f pps  sender %6s ns/pkt", $3, $4, $6, $7, $8
		if ($3 ~ /-all$/) printf "  captured %9d (%6.2f%%)  cpu %7.1f ms  %6.3f us/pkt  drops %s", $9, $10, $11, $12, $13
		else if ($3 != "none") printf "  cpu %7.1f ms", $11
		if ($14 != 0) printf "  link drops %s", $14
		if ($15 != "-") printf "  prog %s ns/run", $15
		printf "\n" }'
}

round_heading() { echo "== $1 bytes, round $2"; } # size round

bench_load_average "before the runs"
echo "generator on CPU $gen_cpu, captures on CPU $cap_cpu$([ $rt = 1 ] && echo ", SCHED_FIFO"), buffers ${ring_mb} MiB, $seconds s per run, $rounds rounds, capx $("$capx" --version 2>/dev/null | head -1)"
bench_run_modes --heading round_heading run_one
bench_load_average "after the runs"

# --- the summary: medians over the rounds ---------------------------------------
awk -F'\t' -v modes="$modes" '
NR == 1 { next }
{ k = $1 SUBSEP $3; n[k]++; pps[k, n[k]] = $7; nspp[k, n[k]] = $8; share[k, n[k]] = $10; cpu[k, n[k]] = $11; upp[k, n[k]] = $12; pns[k, n[k]] = $15; sizes[$1] = 1 }
function median(arr, k, cnt,   i, j, t, v) {
	for (i = 1; i <= cnt; i++) v[i] = arr[k, i]
	for (i = 2; i <= cnt; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
}
function med(what, size, mode,   k) {
	k = size SUBSEP mode
	if (!(k in n)) return ""
	if (what == "pps") return median(pps, k, n[k])
	if (what == "nspp") return nspp[k, 1] == "-" ? "" : median(nspp, k, n[k])
	if (what == "share") return median(share, k, n[k])
	if (what == "cpu") return median(cpu, k, n[k])
	if (what == "pns") return pns[k, 1] == "-" || pns[k, 1] == "" ? "" : median(pns, k, n[k])
	return median(upp, k, n[k])
}
END {
	nm = split(modes, ml, " ")
	for (s in sizes) {
		printf "\n== %s-byte frames, medians of the rounds\n", s
		printf "  %-16s %14s %10s %14s %10s %12s %10s %12s %12s\n", "mode", "delivered pps", "vs none", "sender ns/pkt", "vs none",
			"captured", "cpu ms", "cpu us/pkt", "prog ns/run"
		base = med("pps", s, "none")
		nsbase = med("nspp", s, "none")
		for (i = 1; i <= nm; i++) {
			m = ml[i]
			p = med("pps", s, m)
			if (p == "") continue
			q = med("nspp", s, m)
			pn = med("pns", s, m)
			printf "  %-16s %14.0f %10s %14s %10s %12s %10s %12s %12s\n", m, p, base ? sprintf("%+.1f%%", 100 * (p - base) / base) : "-",
				q != "" ? sprintf("%.1f", q) : "-", q != "" && nsbase ? sprintf("%+.1f%%", 100 * (q - nsbase) / nsbase) : "-",
				m ~ /-all$/ ? sprintf("%.2f%%", med("share", s, m)) : "-",
				m != "none" ? sprintf("%.1f", med("cpu", s, m)) : "-",
				m ~ /-all$/ ? sprintf("%.3f", med("upp", s, m)) : "-", pn != "" ? pn : "-"
		}
		if (base && med("pps", s, "capx-nomatch") != "")
			printf "  non-matching filter: capx costs %.1f%% of the flood rate (target <= 5%%)%s\n",
				100 * (1 - med("pps", s, "capx-nomatch") / base),
				med("pps", s, "tcpdump-nomatch") != "" ? sprintf(", tcpdump %.1f%%", 100 * (1 - med("pps", s, "tcpdump-nomatch") / base)) : ""
		if (base && med("pps", s, "empty-tp") != "")
			printf "  floor, an empty tp_btf program at the hook: %.1f%% of the flood rate%s\n",
				100 * (1 - med("pps", s, "empty-tp") / base),
				nsbase && med("nspp", s, "empty-tp") != "" ? sprintf(", %.1f%% CPU-normalized", 100 * (1 - nsbase / med("nspp", s, "empty-tp"))) : ""
		# Rate at equal CPU = 1 / (time per packet): the loss of rate a
		# non-matching capture causes on a sender that gets its CPU whole.
		if (nsbase && med("nspp", s, "capx-nomatch") != "")
			printf "  non-matching filter, CPU-normalized: capx costs %.1f%% of the rate per sender CPU second (target <= 5%%)%s\n",
				100 * (1 - nsbase / med("nspp", s, "capx-nomatch")),
				med("nspp", s, "tcpdump-nomatch") != "" ? sprintf(", tcpdump %.1f%%", 100 * (1 - nsbase / med("nspp", s, "tcpdump-nomatch"))) : ""
		if (med("share", s, "capx-all") != "" && med("share", s, "tcpdump-all") != "") {
			printf "  capturing everything: capx kept %.2f%% of the sent packets, tcpdump %.2f%% (target: capx >= tcpdump)\n",
				med("share", s, "capx-all"), med("share", s, "tcpdump-all")
			printf "  capture CPU capx/tcpdump: %.2fx in total, %.2fx per captured packet (target <= 1x)\n",
				med("cpu", s, "tcpdump-all") ? med("cpu", s, "capx-all") / med("cpu", s, "tcpdump-all") : 0,
				med("upp", s, "tcpdump-all") ? med("upp", s, "capx-all") / med("upp", s, "tcpdump-all") : 0
			printf "  flood while capturing everything: capx %.0f pps, tcpdump %.0f pps (%+.1f%%)\n",
				med("pps", s, "capx-all"), med("pps", s, "tcpdump-all"),
				100 * (med("pps", s, "capx-all") - med("pps", s, "tcpdump-all")) / med("pps", s, "tcpdump-all")
		}
	}
}' "$results"
echo
bench_results_done capx-skb-bench
exit 0
