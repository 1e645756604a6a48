#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# ns per packet of libpcap's bpf_filter(), capx's executor (threaded and
# native engines) and the translated eBPF (BPF_PROG_TEST_RUN) on ten typical
# expressions. Root for the kernel columns.
#
# bench/filter/run.sh [--callgrind] [build-dir]: see --help.
# On a busy machine pin it and repeat it: taskset -c 1 bench/filter/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

callgrind=0
build=build
bench_option --callgrind "" callgrind=1 "instructions per packet of each user-space engine instead of times (valgrind's callgrind; independent of the machine's load)"
bench_option --build DIR build "meson build dir, relative to the repository or absolute (default: build; also the one positional argument)"
bench_args_usage="[build-dir]"
bench_parse_options "$@"
[ ${#bench_args[@]} -le 1 ] || die "one build dir at most"
build=${bench_args[0]:-$build}
[[ $build == /* ]] || build=$bench_root/$build
ninja -C "$build" bench/filter/filter-bench >/dev/null
bench=$build/bench/filter/filter-bench
if ((!callgrind)); then
	exec "$bench"
fi

bench_require_commands valgrind
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Only the marked loops are counted (filter-bench --instructions dumps one
# profile per expression and engine: 2000 rounds x 5 packets).
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out/cg" \
	"$bench" --instructions >/dev/null 2>"$out/log" || { cat "$out/log" >&2; exit 1; }
packets=$((2000 * 5))
for ((i = 1; ; i++)); do
	f=$out/cg.$i
	[[ -f $f ]] || break
	awk '/^desc: Trigger: Client Request: /{sub(/^desc: Trigger: Client Request: /, ""); label=$0}
	     /^summary: /{print label "|" $2}' "$f"
done | awk -F'|' -v packets="$packets" '
	{ ir[$1 "|" $2] = $3 / packets; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
	END {
		printf "%-42s %8s %8s %8s %8s %8s\n", "expression (instructions/packet)", "libpcap", "threaded", "native", "lib/thr", "lib/nat"
		for (i = 0; i < n; i++) {
			e = order[i]; l = ir[e "|libpcap"]; t = ir[e "|threaded"]; x = ir[e "|native"]
			printf "%-42s %8.1f %8.1f %8.1f %7.2fx %7.2fx\n", e, l, t, x, l / t, l / x
			if (e ~ /^\(empty/) continue
			st += l / t; sx += l / x; m++
			if (!lowest || l / x < lowest) lowest = l / x
		}
		printf "mean libpcap/executor instruction ratio: threaded %.2fx, native %.2fx (lowest native %.2fx)\n", st / m, sx / m, lowest
		print "(each row includes the benchmark loop; the empty expression shows it with the call)"
	}'
