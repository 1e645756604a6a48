#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench/mbuf/run.sh: what `capx mbuf` costs a running DPDK application,
# probing once per packet and once per burst.
#
# The application is stock dpdk-testpmd forwarding between two net_null
# ports (io mode, one forwarding lcore, 64-byte packets): net_null's rx
# burst hands out freshly allocated mbufs, its tx burst frees them, so the
# forwarding lcore spins at full speed and every nanosecond a probe adds per
# packet shows as a lower forwarding rate. Rate: the sum of both ports'
# Tx-pps lines testpmd prints every second (--stats-period 1), averaged over
# the window; ns/packet = 1e9 / rate (the lcore is always busy).
#
# The per-packet probe: with --mbcache=0 (no per-lcore mempool cache) every
# mbuf net_null's tx frees goes straight to the pool's ring through the
# mempool ops' enqueue (rte_pktmbuf_free() -> rte_mempool_put() ->
# rte_mempool_ops_enqueue_bulk(), inline in rte_mempool.h, calling
# ops->enqueue out of line: common_ring_mp_enqueue(mp, obj_table, n=1) in
# librte_mempool_ring, for the default "ring_mp_mc" ops). That is the one
# out-of-line function stock DPDK calls once per packet here; it has no
# symbol (static), so it is found in the process through the exported
# rte_mempool_ops_table and probed as LIB:0xOFFSET@2@3 (the object array
# and its count, 1). Every mode runs with --mbcache=0, so the baseline is
# the same application.
# The per-burst probe: net_null's rx burst eth_null_rx(q, bufs, nb) (no
# symbol either: found through rte_eth_fp_ops), at its return with the
# count it returned (--ret, @2@3): one hit per burst of up to 32 packets
# (placed past the function's NULL test, see past_null_test below).
#
# Modes, interleaved round by round so drifting machine load hits all alike:
#   none            no capture
#   packet-nomatch  per-packet probe, a filter matching nothing
#   packet-all      per-packet probe, everything to a file
#   burst-nomatch   per-burst probe, a filter matching nothing
#   burst-all       per-burst probe, everything to a file
#   burst-tx-nomatch, burst-tx-all  per burst at net_null's tx burst
#                   (entry only, no return probe; not in the default list)
#   alt-MODE        MODE (a capx mode) with the capx binary of --alt: an A/B
#                   of two builds in one run
#   burst-entry-nomatch  the per-burst probe at the function's first
#                   instruction, which the kernel single-steps (not in the
#                   default list; shows what that costs)
# The floor of the per-burst probe: build/bench/mbuf/mbuf-floor
# (bench/mbuf/floor.bpf.c) on the same two probes as burst-nomatch, no capx:
#   burst-empty     empty programs: the uprobe and uretprobe traps alone
#   burst-hdr       per mbuf one read of its header line (64 bytes)
#   burst-span      per mbuf one read of header, headroom and the filter's
#                   bytes, the span capx reads (--floor-span, default 320:
#                   the data 256 bytes in, 64 filter bytes)
#   burst-hdr-stack, burst-span-stack  burst-hdr and burst-span reading
#                   into a buffer on the BPF stack instead of the per-CPU map
#                   value (hardened usercopy checks a stack destination with
#                   check_stack_object() alone, a map value on to
#                   check_heap_object(): mm/usercopy.c, __check_object_size())
#   burst-hdr-same  burst-hdr reading the burst's first mbuf each time: the
#                   helper calls without each mbuf's own memory
#   burst-split     per mbuf the header line and the filter's bytes in two
#                   reads (skipping the headroom)
#   burst-tx-empty  empty program at the tx burst's entry (one trap)
#   burst-tx-hdr, burst-tx-span, burst-tx-split  burst-hdr, burst-span and
#                   burst-split at the tx burst's entry (the probe of
#                   burst-tx-nomatch)
# Target (issue 6): the per-burst probe's cost per packet <= 1/10 of the
# per-packet probe's. See bench/README.md (## mbuf).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

quick=0 alt='' rounds='' seconds='' nomatch="udp port 1"
floor_span=320 floor_data_at=256 floor_data=64
modes="none packet-nomatch packet-all burst-nomatch burst-all"
bench_option --quick "" quick=1 "3 rounds of 3 s windows"
bench_common_options build capx
bench_option --alt PATH alt "the capx binary of the alt-MODE modes (an A/B of two builds)"
bench_option --rounds N rounds "windows per mode (default 5; --quick 3)"
bench_option --seconds N seconds "measured seconds per window (default 5; --quick 3; at least 2: testpmd prints its rate once a second, and a shorter window can catch no line of it)"
bench_option --modes '"LIST"' modes "from: none packet-nomatch packet-all burst-nomatch burst-all burst-entry-nomatch burst-entry-all burst-tx-nomatch burst-tx-all burst-empty burst-hdr burst-hdr-stack burst-hdr-same burst-span burst-span-stack burst-split burst-tx-empty burst-tx-hdr burst-tx-span burst-tx-split, and alt-MODE for a capx MODE (default: the first five)"
bench_option --nomatch '"EXPR"' nomatch "the filter of the -nomatch modes (default: \"udp port 1\"; net_null's packets are all zeros)"
bench_option --floor-span N floor_span "bytes burst-span(-stack) reads per mbuf (default 320; -stack: <= 448)"
bench_option --floor-data-at N floor_data_at "where burst-split's second read starts (default 256)"
bench_option --floor-data N floor_data "bytes burst-split's second read takes (default 64)"
bench_common_options out
bench_option --out DIR out "keep results.tsv, summary.txt and logs here (default: a new /tmp/capx-bench-mbuf.* dir, kept)"
bench_parse_options "$@"
capx=${capx:-$build/src/capx}
rounds=${rounds:-$([ $quick = 1 ] && echo 3 || echo 5)}
seconds=${seconds:-$([ $quick = 1 ] && echo 3 || echo 5)}
bench_require_root "uprobes"
bench_require_built "$capx" capx
case " $modes " in
*" alt-"*) [ -n "$alt" ] && [ -x "$alt" ] || die "alt- modes need --alt PATH (a capx binary)" ;;
esac
floor=$build/bench/mbuf/mbuf-floor
case " $modes " in
*" burst-empty "* | *" burst-hdr "* | *" burst-hdr-stack "* | *" burst-hdr-same "* | *" burst-span "* | \
	*" burst-span-stack "* | *" burst-split "* | *" burst-tx-empty "* | *" burst-tx-hdr "* | *" burst-tx-span "* | \
	*" burst-tx-split "*)
	bench_require_built "$floor" mbuf-floor ;;
esac
bench_require_commands dpdk-testpmd

if [ -z "$out" ]; then
	out=$(mktemp -d /tmp/capx-bench-mbuf.XXXXXX)
fi
mkdir -p "$out"
capdir=$(mktemp -d /dev/shm/capx-bench-mbuf.XXXXXX)
prefix=capxbench$$
testpmd_pid=
capx_pid=

cleanup() {
	[ -n "$capx_pid" ] && kill -INT "$capx_pid" 2>/dev/null && wait "$capx_pid" 2>/dev/null || true
	[ -n "$testpmd_pid" ] && kill -INT "$testpmd_pid" 2>/dev/null && wait "$testpmd_pid" 2>/dev/null || true
	rm -rf "$capdir" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT

# testpmd: lcore 1 forwards, lcore 0 (main) prints the stats; capx runs on
# CPU 0 too, so its reading of the ring competes with testpmd's main lcore
# (idle but for the stats) and not with the forwarding lcore.
dpdk-testpmd -l 0,1 --no-huge --no-pci -m 512 --file-prefix "$prefix" \
	--vdev net_null0,size=64 --vdev net_null1,size=64 -- \
	--total-num-mbufs=8192 --mbcache=0 --forward-mode=io --nb-cores=1 \
	--stats-period 1 </dev/null >"$out/testpmd.log" 2>&1 &
testpmd_pid=$!
for _ in $(seq 100); do
	grep -q "Tx-pps" "$out/testpmd.log" 2>/dev/null && break
	kill -0 "$testpmd_pid" 2>/dev/null || { cat "$out/testpmd.log" >&2; exit 1; }
	sleep 0.2
done
grep -q "Tx-pps" "$out/testpmd.log" || die "testpmd prints no stats"

# The two probe locations, read from the process (see the top comment).
read -r per_packet per_burst burst_entry burst_tx < <(python3 - "$testpmd_pid" <<'EOF'
import os, re, struct, subprocess, sys
pid = int(sys.argv[1])
maps = []
for line in open(f"/proc/{pid}/maps"):
    f = line.split()
    if len(f) >= 6:
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        maps.append((lo, hi, f[1], int(f[2], 16), f[5]))
exe = os.readlink(f"/proc/{pid}/exe")
def base_of(path):
    for lo, hi, perm, off, p in maps:
        if p == path and off == 0:
            return lo
    sys.exit(f"bench/mbuf: {path} is not mapped")
def lib(prefix):
    for lo, hi, perm, off, path in maps:
        if os.path.basename(path).startswith(prefix) and off == 0:
            return path
    sys.exit(f"bench/mbuf: testpmd maps no {prefix}")
def defined(path, name):
    out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True).stdout
    for l in out.splitlines():
        f = l.split()
        if len(f) == 3 and f[2].split("@")[0] == name:
            return int(f[0], 16)
    return None
def variable(name, library):
    # An executable that uses a library's variable directly holds the copy
    # every object uses (a copy relocation: testpmd has rte_eth_fp_ops and
    # rte_mempool_ops_table in its own .bss); else the library's. Both are
    # PIE/DSOs whose first PT_LOAD has vaddr 0.
    for path in (exe, lib(library)):
        v = defined(path, name)
        if v is not None:
            return base_of(path) + v
    sys.exit(f"bench/mbuf: no {name}")
mem = open(f"/proc/{pid}/mem", "rb")
def read(addr, n):
    mem.seek(addr)
    return mem.read(n)
def location(addr):
    # A code address as LIB:0xOFFSET (the file offset of its mapping).
    for lo, hi, perm, off, path in maps:
        if lo <= addr < hi and "x" in perm:
            return f"{path}:{addr - lo + off:#x}"
    sys.exit(f"bench/mbuf: {addr:#x} is in no executable mapping")
# struct rte_mempool_ops_table (rte_mempool.h): ops[] at 64, 128 bytes each
# (cache aligned), name[32] then alloc, free, enqueue (at 48).
table = variable("rte_mempool_ops_table", "librte_mempool.so")
num = struct.unpack("<I", read(table + 4, 4))[0]
enqueue = None
for i in range(num):
    op = read(table + 64 + 128 * i, 128)
    if op[:32].split(b"\0")[0] == b"ring_mp_mc":
        enqueue = struct.unpack("<Q", op[48:56])[0]
if not enqueue:
    sys.exit("bench/mbuf: no ring_mp_mc mempool ops")
# struct rte_eth_fp_ops (rte_ethdev_core.h, 22.11): rx_pkt_burst first.
fp = variable("rte_eth_fp_ops", "librte_ethdev.so")
rx = struct.unpack("<Q", read(fp, 8))[0]
tx = struct.unpack("<Q", read(fp + 64, 8))[0]  # tx_pkt_burst
# net_null's burst functions start with a NULL test of the queue (test
# %rdi,%rdi; je) that the kernel cannot emulate, so a uprobe there is
# single-stepped out of line: a second trap per hit, which costs ~40 us on
# this VM against ~3 us for an emulated instruction (push, the first
# instruction of the enqueue; arch/x86/kernel/uprobes.c, push_setup_xol_ops()
# and branch_setup_xol_ops()). The per-burst probe therefore goes on the
# instruction after the test: the arguments are still in their registers
# and the return address still at (%rsp) (nothing pushed yet), so both the
# entry and the return probe see what they would at the entry. The entry
# itself is printed third, for the burst-entry modes.
def past_null_test(addr):
    for lo, hi, perm, off, path in maps:
        if lo <= addr < hi and "x" in perm:
            vaddr = addr - base_of(path)
            dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={vaddr:#x}",
                                  f"--stop-address={vaddr + 16:#x}", path], capture_output=True, text=True).stdout
            insns = [l.split(":", 1) for l in dis.splitlines() if re.match(r"^\s+[0-9a-f]+:\t", l)]
            if len(insns) >= 3 and insns[0][1].split()[:2] == ["test", "%rdi,%rdi"] and insns[1][1].split()[0] == "je":
                return base_of(path) + int(insns[2][0], 16)
            return addr
    return addr
print(location(enqueue), location(past_null_test(rx)), location(rx), location(past_null_test(tx)))
EOF
)
echo "per-packet probe: $per_packet@2@3 (mempool ring enqueue, n=1 per freed mbuf)" | tee "$out/probes.txt"
echo "per-burst probe:  $per_burst@2@3 --ret (net_null rx burst, past its NULL test)" | tee -a "$out/probes.txt"
echo "burst-entry-*:    $burst_entry@2@3 --ret (the same at the function's entry)" | tee -a "$out/probes.txt"
echo "burst-tx-*:       $burst_tx@2@3 (net_null tx burst past its NULL test, at entry: no return probe)" | tee -a "$out/probes.txt"

# Mean of the Tx-pps sums of both ports in the stats blocks testpmd printed
# after line $1 of its log.
rate_since() {
	tail -n +"$(($1 + 1))" "$out/testpmd.log" | awk '
		/Tx-pps:/ { for (i = 1; i <= NF; i++) if ($i == "Tx-pps:") { sum += $(i + 1); n++ } }
		END { if (n >= 2) printf "%.0f\n", sum / (n / 2); else print "" }'
}

# A floor mode: mbuf-floor on the per-burst probe (see the top comment).
start_floor() { # mode
	local args
	case $1 in
	burst-empty) args="--at $per_burst --ret --empty" ;;
	burst-hdr) args="--at $per_burst --ret --read 64" ;;
	burst-hdr-stack) args="--at $per_burst --ret --read 64 --stack" ;;
	burst-hdr-same) args="--at $per_burst --ret --read 64 --same" ;;
	burst-span) args="--at $per_burst --ret --read $floor_span" ;;
	burst-span-stack) args="--at $per_burst --ret --read $floor_span --stack" ;;
	burst-split) args="--at $per_burst --ret --read 64 --data-at $floor_data_at --data-len $floor_data" ;;
	burst-tx-empty) args="--at $burst_tx --empty" ;;
	burst-tx-hdr) args="--at $burst_tx --read 64" ;;
	burst-tx-span) args="--at $burst_tx --read $floor_span" ;;
	burst-tx-split) args="--at $burst_tx --read 64 --data-at $floor_data_at --data-len $floor_data" ;;
	esac
	taskset -c 0 "$floor" $args >"$out/floor-$1.out" 2>"$out/capx-$1.log" &
	capx_pid=$!
	for _ in $(seq 150); do
		kill -0 "$capx_pid" 2>/dev/null || { cat "$out/capx-$1.log" >&2; exit 1; }
		grep -q attached "$out/floor-$1.out" && { sleep 1; return 0; }
		sleep 0.1
	done
	die "mbuf-floor did not attach"
}

start_capx() { # mode
	local spec args=() bin=$capx mode=$1
	case $1 in
	alt-*) bin=$alt; set -- "${1#alt-}" ;;
	esac
	case $1 in
	burst-empty | burst-hdr | burst-hdr-stack | burst-hdr-same | burst-span | burst-span-stack | burst-split | \
		burst-tx-empty | burst-tx-hdr | burst-tx-span | burst-tx-split) start_floor "$1"; return ;;
	esac
	case $1 in
	packet-*) spec="$per_packet@2@3" ;;
	burst-entry-*) spec="$burst_entry@2@3"; args+=(--ret) ;;
	burst-tx-*) spec="$burst_tx@2@3" ;;
	burst-*) spec="$per_burst@2@3"; args+=(--ret) ;;
	esac
	case $1 in
	*-nomatch) args+=("$nomatch") ;;
	esac
	taskset -c 0 "$bin" mbuf --pid "$testpmd_pid" -f "$spec" -w "$capdir/cap.pcap" "${args[@]}" \
		2>"$out/capx-$mode.log" &
	capx_pid=$!
	# Attached when the process holds its BPF links (a uprobe each, two for --ret).
	for _ in $(seq 150); do
		kill -0 "$capx_pid" 2>/dev/null || { cat "$out/capx-$mode.log" >&2; exit 1; }
		if ls -l /proc/"$capx_pid"/fd 2>/dev/null | grep -q "bpf_link"; then
			sleep 1
			return 0
		fi
		sleep 0.1
	done
	die "capx did not attach"
}

stop_capx() {
	kill -INT "$capx_pid"
	wait "$capx_pid" || true
	capx_pid=
	rm -f "$capdir/cap.pcap"
}

# One measured window of a mode: capx (or mbuf-floor) attached, a second
# for testpmd's rate to settle, then the mean of the window's stats.
window() { # size round mode
	local r=$2 mode=$3 mark pps
	[ "$mode" = none ] || start_capx "$mode"
	sleep 1
	mark=$(wc -l <"$out/testpmd.log")
	sleep "$seconds"
	pps=$(rate_since "$mark")
	if [ "$mode" != none ]; then
		stop_capx # the summary comes at exit
		printf "round %s %s: %s\n" "$r" "$mode" "$(grep -h "hits" "$out/capx-$mode.log" | tail -1)" \
			>>"$out/capx-summaries.txt"
	fi
	bench_row "$r" "$mode" "$pps"
	printf "round %s %-15s %s pps\n" "$r" "$mode" "$pps"
}

logs=$out
bench_results_init round mode pps
# testpmd's packets are net_null's, 64 bytes: one size.
bench_run_modes --sizes 64 --rotate window

# Medians per mode; ns/packet; overhead over none; the burst/packet ratio.
python3 - "$results" <<'EOF' | tee "$out/summary.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = {}
for r in rows:
    if r["pps"]:
        by.setdefault(r["mode"], []).append(float(r["pps"]))
med = {m: statistics.median(v) for m, v in by.items()}
ns = {m: 1e9 / p for m, p in med.items()}
print(f"{'mode':16} {'Mpps':>8} {'ns/pkt':>8} {'+ns/pkt':>8}  (median of {max(len(v) for v in by.values())} rounds)")
for m in by:
    extra = ns[m] - ns["none"] if "none" in ns else float("nan")
    print(f"{m:16} {med[m] / 1e6:8.3f} {ns[m]:8.1f} {extra:8.1f}")
for kind in ("nomatch", "all"):
    for alt in ("", "alt-"):
        p, b = f"packet-{kind}", f"{alt}burst-{kind}"
        if "none" in ns and p in ns and b in ns:
            op, ob = ns[p] - ns["none"], ns[b] - ns["none"]
            print(f"{alt}{kind}: per-burst overhead / per-packet overhead = {ob:.1f} / {op:.1f} ns = {ob / op:.3f} (target <= 0.1)")
# Each read into the stack against the same read into the map value (added ns/pkt).
for a, b in (("burst-hdr", "burst-hdr-stack"), ("burst-span", "burst-span-stack")):
    if "none" in ns and a in ns and b in ns:
        oa, ob = ns[a] - ns["none"], ns[b] - ns["none"]
        print(f"{b} / {a}: {ob:.1f} / {oa:.1f} ns = {ob / oa:.3f}")
# The tx burst and the floor modes against the per-packet probe's overhead
# with the same (non-matching) work per packet.
for b in ("burst-tx-nomatch", "alt-burst-tx-nomatch", "burst-empty", "burst-hdr", "burst-hdr-stack", "burst-hdr-same", "burst-span",
          "burst-span-stack", "burst-split", "burst-tx-empty", "burst-tx-hdr", "burst-tx-span", "burst-tx-split"):
    if "none" in ns and "packet-nomatch" in ns and b in ns:
        op, ob = ns["packet-nomatch"] - ns["none"], ns[b] - ns["none"]
        print(f"{b}: {ob:.1f} / {op:.1f} ns = {ob / op:.3f} of packet-nomatch")
EOF
echo "results in $out"
