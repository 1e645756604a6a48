#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/skb/sender_profile.sh: where the flood's CPU goes with a program at
# tracepoint:net:netif_receive_skb, by code rather than by rate.
#
#   bench/skb/sender_profile.sh [--seconds N] BUILD SIZE MODE OUT.data
#     MODE: none | empty (bench/skb/empty_tp_btf.py) | capx-nomatch (udp port 1)
#
# Floods a veth pair as bench/skb/run.sh does (capx-gen pinned to CPU 0 at
# SCHED_FIFO 10, --seconds long; the receive softirq runs in its context) and records
# CPU 0 with `perf record -C 0 -g` (cpu-clock: this VM has no hardware
# counters). Then, e.g.:
#
#   perf report -i OUT.data --no-children --comm capx-gen --sort sym -q -g none \
#       --percentage relative | grep -E 'bpf|trace|thunk|netif_receive_skb|copy_from_kernel'
#
# The share of the generator's samples in the code the hook adds
# (bpf_trace_run1, the program, the retpoline thunk of its indirect call,
# the tracepoint call site in __netif_receive_skb_core) is the hook's cost
# as a part of the sender's CPU time per packet, without the rate's noise on
# a shared machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

secs=2
bench_args_usage="BUILD SIZE MODE OUT.data"
bench_args_help="BUILD: the meson build dir; SIZE: frame size; MODE: none | empty (bench/skb/empty_tp_btf.py) | capx-nomatch (udp port 1); OUT.data: the perf.data to write"
bench_option --seconds N secs "flood length (default 2)"
bench_parse_options "$@"
[ ${#bench_args[@]} = 4 ] || { bench_usage >&2; exit 2; }
b=${bench_args[0]} size=${bench_args[1]} mode=${bench_args[2]} out=${bench_args[3]}
case $mode in none | empty | capx-nomatch) ;; *) die "unknown mode '$mode'" ;; esac
bench_require_root "network namespaces, BPF, perf"
bench_require_commands perf taskset chrt ip
bench_require_built "$b/tests/progs/capx-gen" capx-gen
[ "$mode" != capx-nomatch ] || bench_require_built "$b/src/capx" capx

ns=capxskbprof$$ tx=cxpt$$ rx=cxpr$$ pid=
cleanup() {
	[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
	rm -f "/dev/shm/capx-skb-profile.$$.pcap"
}
trap cleanup EXIT
bench_veth_pair "$ns" "$tx" "$rx"
case $mode in
none) ;;
empty) taskset -c 1 python3 "$here/empty_tp_btf.py" netif_receive_skb >/dev/null & pid=$! ;;
capx-nomatch)
	taskset -c 1 "$b/src/capx" skb -f tracepoint:net:netif_receive_skb -B 8192 \
		-w "/dev/shm/capx-skb-profile.$$.pcap" udp port 1 2>/dev/null &
	pid=$! ;;
esac
sleep 2 # attached
# perf needs a moment to start; it records from before the flood to after.
perf record -q -o "$out" -C 0 -g -- sleep $((secs + 3)) 2>/dev/null &
perf_pid=$!
sleep 2
nsx taskset -c 0 chrt -f 10 "$b/tests/progs/capx-gen" -i "$tx" -s "$size" -d "$secs" --json
wait $perf_pid
