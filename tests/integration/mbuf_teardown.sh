#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Nothing of capx mbuf stays after it exits, however it exits (SIGINT,
# SIGKILL), and the DPDK application it probed runs on unharmed:
#   - the BPF links, programs (capx_mbuf_*) and maps it held (ids read from
#     /proc/PID/fdinfo while it runs) are gone from `bpftool link/prog/map
#     show`; its uprobes are perf events owned by its fds (libbpf's
#     perf_event_open_probe(), not tracefs uprobe_events), and
#     `bpftool perf show` lists none of its pid any more;
#   - the probed functions' first bytes in the application's memory are the
#     file's again: a uprobe is an int3 (0xcc) written into the process's
#     copy of the page (install_breakpoint() in kernel/events/uprobes.c),
#     checked to be there while capx runs, and put back when the last
#     uprobe on that address goes (remove_breakpoint());
#   - tracefs's uprobe_events (when mounted) names no uprobe on the app;
#   - the application keeps calling the functions and exits cleanly on
#     SIGTERM afterwards, its counts still rising.
# Entry probes (SYMBOL@N, SYMBOL@N@M) and --ret probes (an entry probe that
# stashes the arguments and a return probe) are both checked.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd bpftool jq python3 nm readelf tcpdump
require_capx
require_mbuf_app
W=$(work_dir)

failures=0

# perf_uprobes PID: the uprobes `bpftool perf show` lists for the process.
perf_uprobes() {
	bpftool perf show -j 2>/dev/null | jq -r --argjson pid "$1" \
		'.[] | select(.pid == $pid and (.fd_type == "uprobe" or .fd_type == "uretprobe")) | "\(.fd_type) \(.filename) \(.offset)"'
}
uprobe_events() {
	local d
	for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		[ -r "$d/uprobe_events" ] && { grep -F "$MBUF_APP" "$d/uprobe_events"; return 0; }
	done
	return 0
}

# progressing: the app's main thread still sleeps between rounds (its
# voluntary context switches, one per usleep, rise) half a second later.
progressing() {
	local a b
	a=$(awk '/^voluntary_ctxt_switches/ { print $2 }' /proc/"$APP"/task/"$APP"/status 2>/dev/null) || return 1
	sleep 0.5
	b=$(awk '/^voluntary_ctxt_switches/ { print $2 }' /proc/"$APP"/task/"$APP"/status 2>/dev/null) || return 1
	[ -n "$a" ] && [ -n "$b" ] && [ $((b - a)) -ge 10 ]
}

start_mbuf_app "$W/app" --rounds 0 --pace 500 --seed 3 --quiet
APP=$APP_PID
APP_REAL=$(realpath "$MBUF_APP")

# run_case NAME SIGNAL FUNCTIONS -- CAPX-ARGS...
run_case() {
	local name=$1 how=$2 funcs=() f
	shift 2
	while [ "$1" != -- ]; do funcs+=("$1"); shift; done
	shift
	start_bg "$CAPX" mbuf --pid "$APP" -B 256 -w "$W/$name.pcap" "$@" 2>"$W/$name.err"
	local pid=$BG_PID
	wait_links_settled "$pid" "$W/$name.err"
	local links progs maps names probes
	links=$(bpf_fd_ids "$pid" link_id)
	progs=$(bpf_fd_ids "$pid" prog_id)
	maps=$(bpf_fd_ids "$pid" map_id)
	names=$(bpftool prog show -j | jq -r --argjson ids "[$(echo $progs | tr ' ' ,)]" \
		'.[] | select(.id as $i | $ids | index($i)) | .name' | sort -u | tr '\n' ' ')
	if [ -n "$names" ] && [ -z "$(tr ' ' '\n' <<<"$names" | grep . | grep -v '^capx_mbuf')" ]; then
		ok "$name: holds $(echo $links | wc -w) links, programs $names$(echo $maps | wc -w) maps"
	else
		not_ok "$name: programs held are '$names' (want capx_mbuf_*)"
	fi
	[ -n "$(comm -12 <(echo "$links") <(bpf_live_ids link))" ] || not_ok "$name: bpftool does not show its links"
	probes=$(perf_uprobes "$pid")
	[ -n "$probes" ] && ok "$name: bpftool perf: $(tr '\n' ';' <<<"$probes")" ||
		not_ok "$name: bpftool perf shows no uprobe of capx ($pid)"
	for f in "${funcs[@]}"; do
		[ "$(code_byte "$APP" "$APP_REAL" "$f" | cut -d' ' -f1)" = cc ] ||
			not_ok "$name: no int3 at $f while capx is attached: $(code_byte "$APP" "$APP_REAL" "$f")"
	done
	sleep 1
	kill -"$how" "$pid"
	wait_exit "$pid" 20
	case $how in
	KILL) [ "$EXIT_STATUS" -eq 137 ] || not_ok "$name: exit $EXIT_STATUS after SIGKILL" ;;
	*)
		[ "$EXIT_STATUS" -eq 0 ] || not_ok "$name: exit $EXIT_STATUS: $(tail -3 "$W/$name.err")"
		is_valid_pcap "$W/$name.pcap" || not_ok "$name: tcpdump cannot read the capture"
		local h
		h=$(mbuf_summary "$W/$name.err" "" hits)
		[ -n "$h" ] && [ "$h" -gt 0 ] && ok "$name: summary after SIGINT, $h hits, $(count_records "$W/$name.pcap") packets" ||
			not_ok "$name: no summary with hits after SIGINT: $(tail -3 "$W/$name.err")"
		;;
	esac
	bpf_ids_gone link "$links" && ok "$name: no link left" ||
		not_ok "$name: links left: $(comm -12 <(echo "$links") <(bpf_live_ids link) | tr '\n' ' ')"
	bpf_ids_gone prog "$progs" && ok "$name: no program left" ||
		not_ok "$name: programs left: $(comm -12 <(echo "$progs") <(bpf_live_ids prog) | tr '\n' ' ')"
	bpf_ids_gone map "$maps" && ok "$name: no map left" ||
		not_ok "$name: maps left: $(comm -12 <(echo "$maps") <(bpf_live_ids map) | tr '\n' ' ')"
	[ -z "$(perf_uprobes "$pid")" ] || not_ok "$name: bpftool perf still lists: $(perf_uprobes "$pid")"
	local restored=1 b
	for f in "${funcs[@]}"; do
		b=$(code_byte "$APP" "$APP_REAL" "$f")
		[ "${b% *}" = "${b#* }" ] || { restored=0; not_ok "$name: $f's first byte in the app is $b (memory file)"; }
	done
	[ "$restored" -eq 1 ] && ok "$name: ${funcs[*]}: original code back in the app"
	[ -z "$(uprobe_events)" ] || not_ok "$name: uprobe_events names the app: $(uprobe_events)"
	progressing && ok "$name: the app runs on" || not_ok "$name: the app died or stopped its rounds"
}

run_case entry_int INT capx_test_one capx_test_burst -- -f capx_test_one@1,capx_test_burst@2@3
run_case entry_kill KILL capx_test_one capx_test_burst -- -f capx_test_one@1,capx_test_burst@2@3
run_case ret_int INT capx_test_rx -- --ret -f capx_test_rx@2
run_case ret_kill KILL capx_test_rx -- --ret -f capx_test_rx@2
run_case bad_kill KILL capx_test_not_mbuf -- -f capx_test_not_mbuf@1

# The app, probed and unprobed five times, still does its work and ends
# cleanly.
sleep 0.5
kill -TERM "$APP"
wait_exit "$APP" 20
rounds=$(app_count "$W/app" rounds)
if [ "$EXIT_STATUS" -eq 0 ] && [ -n "$rounds" ] && [ "$rounds" -gt 0 ]; then
	ok "the app exited cleanly after $rounds rounds"
else
	not_ok "the app: exit $EXIT_STATUS, rounds '$rounds': $(tail -3 "$W/app.err")"
fi

[ "$failures" -eq 0 ] || fail "$failures checks failed"
echo "all checks passed" >&2
