#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input to capx mbuf never crashes it: each case prints exactly one
# `capx: ` line (and at most one `hint: ` line) and exits 1 (runtime) or 2
# (usage). Option combinations and -f syntax are refused before any process
# is looked at; targets, symbols and ports against real processes: a copy
# of sleep(1) (no DPDK in it) and dpdk-testpmd (net_null ports). Also: the
# capture ends by itself, exit 0, when the target process exits.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd setpriv tcpdump python3
require_capx
W=$(work_dir)
chmod 755 "$W"

# A sleep of our own, so that --binary sees no process but ours.
SLEEP=$W/capx-sleep
cp "$(command -v sleep)" "$SLEEP"
start_bg "$SLEEP" 600
P=$BG_PID
# A pid that no process has: one that just exited (pids are not reused this
# soon; checked below).
"$SLEEP" 0 &
GONE=$!
wait "$GONE"
kill -0 "$GONE" 2>/dev/null && fail "pid $GONE is in use again"

failures=0
# expect CODE PATTERN -- ARGS...: runs `capx mbuf ARGS` (expect_error).
expect() {
	local code=$1 pattern=$2
	shift 3
	expect_error "$code" "$pattern" -- timeout 20 "$CAPX" mbuf "$@"
}

X=(-w "$W/x.pcap")
# Targets and what to probe: combinations (usage errors).
expect 2 "no target: --pid PID or --binary PATH" -- -f foo@1 "${X[@]}"
expect 2 "--pid and --binary both given" -- --pid "$P" --binary "$SLEEP" -f foo@1 "${X[@]}"
expect 2 "nothing to probe" -- --pid "$P" "${X[@]}"
expect 2 "hint: .*--port 0 --rx" -- --pid "$P" "${X[@]}"
expect 2 "-f and --port both given" -- --pid "$P" -f foo@1 --port 0 --rx "${X[@]}"
expect 2 "--queue needs --port" -- --pid "$P" -f foo@1 --queue 0 "${X[@]}"
expect 2 "--rx needs --port" -- --pid "$P" -f foo@1 --rx "${X[@]}"
expect 2 "--tx needs --port" -- --pid "$P" -f foo@1 --tx "${X[@]}"
expect 2 "--rx and --tx both given" -- --pid "$P" --port 0 --rx --tx "${X[@]}"
expect 2 "--port needs --rx or --tx" -- --pid "$P" --port 0 "${X[@]}"
expect 2 "--ret applies to -f probes" -- --pid "$P" --port 0 --rx --ret "${X[@]}"
expect 2 "--pid 0: not a process id" -- --pid 0 -f foo@1 "${X[@]}"
expect 2 "pid" -- --pid abc -f foo@1 "${X[@]}"
expect 2 "port" -- --pid "$P" --port 70000 --rx "${X[@]}"
expect 2 "port" -- --pid "$P" --port -1 --rx "${X[@]}"
# -f syntax (usage errors, also with -d).
expect 2 "probe 'foo': missing @N" -- --pid "$P" -f foo "${X[@]}"
expect 2 "hint: -f takes SYMBOL@N" -- --pid "$P" -f foo "${X[@]}"
expect 2 "'x' is not an argument number" -- --pid "$P" -f foo@x "${X[@]}"
expect 2 "argument 0 is out of range" -- --pid "$P" -f foo@0 "${X[@]}"
expect 2 "argument 7 is out of range: arguments are numbered 1 to 6" -- --pid "$P" -f foo@7 "${X[@]}"
expect 2 "argument 9 is out of range" -- --pid "$P" -f foo@1@9 "${X[@]}"
expect 2 "N and M must differ" -- --pid "$P" -f foo@2@2 "${X[@]}"
expect 2 "more than two argument numbers" -- --pid "$P" -f foo@1@2@3 "${X[@]}"
expect 2 "an offset needs its file" -- --pid "$P" -f 0x1234@1 "${X[@]}"
expect 2 "'0x12g' is not a symbol or a 0x offset" -- --pid "$P" -f libc:0x12g@1 "${X[@]}"
expect 2 "empty probe in 'a@1,,b@1'" -- --pid "$P" -f a@1,,b@1 "${X[@]}"
expect 2 "'bar@9'" -- --pid "$P" -f foo@1 -f bar@9 "${X[@]}"
expect 2 "'foo@7'" -- --pid "$P" -f foo@7 -d
# Other options.
expect 2 "buffer-size" -- --pid "$P" -f foo@1 -B 1 "${X[@]}"
expect 2 "mbuf-layout\|layout" -- --pid "$P" -f foo@1 --mbuf-layout no-such-layout "${X[@]}"
expect 2 "layout" -- --pid "$P" -f foo@1 --mbuf-layout buf_addr=x "${X[@]}"
expect 2 "either with -e or as trailing words" -- --pid "$P" -f foo@1 -e tcp udp "${X[@]}"
expect 1 "filter 'tcp port': syntax error" -- --pid "$P" -f foo@1 "${X[@]}" tcp port
expect 2 "not expected" -- --pid "$P" -f foo@1 --no-such-option

# Targets (runtime errors).
expect 1 "no process $GONE" -- --pid "$GONE" -f foo@1 "${X[@]}"
expect 1 "$W/nosuch" -- --binary "$W/nosuch" -f foo@1 "${X[@]}"
printf 'not an executable\n' >"$W/text"
expect 1 "$W/text" -- --binary "$W/text" -f foo@1 "${X[@]}"
# Symbols: what the process does not have, with the closest names (usage
# errors, as capx skb's unknown functions).
expect 2 "no function 'no_such_function_$$' in process $P" -- --pid "$P" -f "no_such_function_$$@1" "${X[@]}"
expect 2 "hint: .*clock_nanosleep" -- --pid "$P" -f clock_nanosleeq@1 "${X[@]}"
expect 2 "no library 'no_such_lib_$$'" -- --pid "$P" -f "no_such_lib_$$:foo@1" "${X[@]}"
# --port: sleep maps no DPDK; --binary must name exactly one running process.
expect 1 "librte_ethdev\|DPDK\|rte_eth_fp_ops" -- --pid "$P" --port 0 --rx "${X[@]}"
SLEEP2=$W/capx-sleep-none
cp "$SLEEP" "$SLEEP2"
expect 1 "no process runs $SLEEP2" -- --binary "$SLEEP2" --port 0 --rx "${X[@]}"
start_bg "$SLEEP" 600
expect 1 "2 processes run $SLEEP" -- --binary "$SLEEP" --port 0 --tx "${X[@]}"
expect 1 "hint: choose one with --pid" -- --binary "$SLEEP" --port 0 --tx "${X[@]}"

# Without privileges: a process of the same user, so that its maps can be
# read; the first bpf() call or the attach fails, one line and a hint.
# (sleep has no DPDK: the layout is named, as for a static build.)
start_bg setpriv --reuid=65534 --regid=65534 --clear-groups "$SLEEP2" 600
NOBODY=$BG_PID
sleep 0.3
expect_error 1 '^capx: .*\(not permitted\|privilege\|CAP_\|root\)' -- setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$CAPX" mbuf --pid "$NOBODY" -f clock_nanosleep@2 --mbuf-layout dpdk-22.11 -w "$W/np.pcap"
# -d needs neither privileges nor a live target, and prints tcpdump's
# Ethernet program.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CAPX" mbuf --pid "$GONE" -f foo@1 -d udp)
if [ $? -eq 0 ] && [ "$out" = "$(tcpdump -d -y EN10MB udp 2>/dev/null)" ]; then
	ok "unprivileged -d prints tcpdump's program"
else
	not_ok "-d: $out"
fi
out=$("$CAPX" mbuf --pid "$GONE" --port 0 --rx -ddd 'tcp port 80')
if [ "$out" = "$(tcpdump -ddd -y EN10MB 'tcp port 80' 2>/dev/null)" ]; then
	ok "-ddd prints tcpdump's decimal program"
else
	not_ok "-ddd: $out"
fi

# The target exits while capx captures: "process N exited", the summary,
# exit 0, well before --duration. clock_nanosleep's argument 2 is a
# struct timespec *, not an mbuf: counted (malformed or lost), never a
# crash of capx or of the target.
start_bg "$SLEEP" 2
SHORT=$BG_PID
start=$(date +%s)
out=$(timeout 60 "$CAPX" mbuf --pid "$SHORT" -f clock_nanosleep@2 --mbuf-layout dpdk-22.11 --duration 50 -w "$W/exit.pcap" 2>&1)
rc=$?
took=$(($(date +%s) - start))
if [ "$rc" -eq 0 ] && [ "$took" -lt 40 ] && printf '%s\n' "$out" | grep -q "^capx: process $SHORT exited$" &&
	printf '%s\n' "$out" | grep -q "packets captured" &&
	printf '%s\n' "$out" | grep -q "^clock_nanosleep@2: hits [0-9]*, empty bursts 0, mbufs [0-9]*, filtered out"; then
	ok "target exits: exit 0 after ${took}s: $(printf '%s' "$out" | tr '\n' ' ')"
else
	not_ok "target exits: exit $rc after ${took}s, output:"
	printf '%s\n' "$out" | sed 's/^/    /' >&2
fi

# Ports of a real DPDK application: out of range, no such queue.
if command -v dpdk-testpmd >/dev/null 2>&1; then
	new_dpdk_prefix errors
	start_bg dpdk-testpmd --no-huge --no-pci -m 512 --file-prefix "$DPDK_PREFIX" --vdev net_null0 \
		--vdev net_null1 -- --total-num-mbufs=4096 --forward-mode=io --auto-start \
		--stats-period 1000 >"$W/testpmd.out" 2>&1
	TP=$BG_PID
	if wait_line "$W/testpmd.out" "packet forwarding - ports=" 60; then
		expect 1 "port 7" -- --pid "$TP" --port 7 --rx "${X[@]}"
		expect 2 "--queue 9: port 0 of process $TP has tx queue 0 to 0" -- --pid "$TP" --port 0 --queue 9 --tx "${X[@]}"
		expect 2 "no_such_function_$$" -- --pid "$TP" -f "no_such_function_$$@1" "${X[@]}"
		expect 2 "hint: .*rte_eth_call_rx_callbacks" -- --pid "$TP" -f rte_eth_call_rx_callback@3@4 "${X[@]}"
	else
		not_ok "dpdk-testpmd did not start: $(tail -5 "$W/testpmd.out")"
	fi
else
	note "dpdk-testpmd is not installed: port errors not checked"
fi

[ "$failures" -eq 0 ] || fail "$failures error cases misbehaved"
echo "PASS: every bad option, spec and target gives one line and the right exit code" >&2
