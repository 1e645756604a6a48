#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# capx list: the functions and tracepoints with an sk_buff argument, checked
# against an independent reading of the same BTF (bpftool's JSON dump walked
# in Python), plus the errors and the help text.
. "$(dirname "$0")/lib.sh"
require_cmd bpftool python3
require_capx
[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF (/sys/kernel/btf/vmlinux)"
W=$(work_dir)

failures=0

# The oracle: every FUNC and btf_trace_ typedef whose prototype has a
# pointer to (const/volatile) struct sk_buff, with the 1-based indexes.
bpftool -j btf dump file /sys/kernel/btf/vmlinux >"$W/btf.json" || fail "bpftool btf dump failed"
python3 - "$W/btf.json" "$W/want_functions" "$W/want_tracepoints" <<'PY'
import json, sys
types = {t["id"]: t for t in json.load(open(sys.argv[1]))["types"]}
MODS = {"CONST", "VOLATILE", "RESTRICT", "TYPE_TAG", "TYPEDEF"}
def strip(i):
    while i in types and types[i]["kind"] in MODS:
        i = types[i]["type_id"]
    return i
def is_skb_ptr(i):
    i = strip(i)
    if i not in types or types[i]["kind"] != "PTR":
        return False
    s = types.get(strip(types[i]["type_id"]))
    return s is not None and s["kind"] in ("STRUCT", "FWD") and s["name"] == "sk_buff"
def skb_args(proto_id, skip):
    proto = types[proto_id]
    return [n - skip + 1 for n, p in enumerate(proto.get("params", [])) if n >= skip and is_skb_ptr(p["type_id"])]
funcs, tps = {}, {}
for t in types.values():
    if t["kind"] == "FUNC":
        a = skb_args(t["type_id"], 0)
        if a:
            funcs.setdefault(t["name"], a)
    elif t["kind"] == "TYPEDEF" and t["name"].startswith("btf_trace_"):
        p = types[t["type_id"]]
        if p["kind"] == "PTR" and types[p["type_id"]]["kind"] == "FUNC_PROTO":
            a = skb_args(p["type_id"], 1)
            if a:
                tps[t["name"][len("btf_trace_"):]] = a
with open(sys.argv[2], "w") as f:
    for n in sorted(funcs):
        f.write(f"{n} {','.join(map(str, funcs[n]))}\n")
with open(sys.argv[3], "w") as f:
    for n in sorted(tps):
        f.write(f"{n} {','.join(map(str, tps[n]))}\n")
PY
[ -s "$W/want_functions" ] || fail "the oracle found no function with an sk_buff argument"

# Functions: names and argument indexes equal the oracle's, line for line;
# piped output has no header.
"$CAPX" list functions >"$W/functions" 2>"$W/functions.err" || fail "capx list functions: exit $?: $(cat "$W/functions.err")"
awk '{print $1, $2}' "$W/functions" >"$W/got_functions"
if diff -u "$W/want_functions" "$W/got_functions" >"$W/functions.diff"; then
	ok "list functions: $(wc -l <"$W/got_functions") functions, as bpftool's BTF says"
else
	not_ok "list functions differs from bpftool's BTF:"; head -20 "$W/functions.diff" >&2
fi
bad_attach=$(awk '$3 !~ /^(-|fentry,fexit|kprobe|fentry,fexit,kprobe)$/ || NF != 3' "$W/functions" | head -3)
[ -z "$bad_attach" ] && ok "every ATTACH column is one of -, fentry,fexit, kprobe" || not_ok "bad lines: $bad_attach"

out=$("$CAPX" list functions '^ip_rcv$' 2>&1)
if [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -Eq '^ip_rcv +1 +[-a-z,]+$'; then
	ok "list functions '^ip_rcv\$': $out"
else
	not_ok "list functions '^ip_rcv\$' printed: $out"
fi
# On a kernel without fentry and kprobes (this development machine) ip_rcv
# cannot be traced; where capx skb -f ip_rcv works, the list says how.
if "$CAPX" skb --help >/dev/null 2>&1; then
	if "$CAPX" skb -f ip_rcv -c 1 --duration 1 -w "$W/x.pcap" >/dev/null 2>"$W/skb.err"; then
		printf '%s' "$out" | grep -Eq ' (fentry|kprobe)' && ok "ip_rcv attachable and listed so" ||
			not_ok "capx skb -f ip_rcv attached but the list says: $out"
	elif grep -q "cannot trace ip_rcv here" "$W/skb.err"; then
		printf '%s' "$out" | grep -Eq ' -$' && ok "ip_rcv not attachable here and listed with -" ||
			not_ok "capx skb -f ip_rcv refused ($(head -1 "$W/skb.err")) but the list says: $out"
	fi
fi
multi=$("$CAPX" list functions '^skb_try_coalesce$' 2>&1)
printf '%s' "$multi" | grep -Eq '^skb_try_coalesce +1,2 ' && ok "several sk_buff arguments: $multi" ||
	not_ok "skb_try_coalesce: $multi"

# Tracepoints: names (the part after SUBSYS: when tracefs is mounted) and
# indexes equal the oracle's.
"$CAPX" list tracepoints >"$W/tracepoints" 2>"$W/tracepoints.err" || fail "capx list tracepoints: exit $?"
awk '{n = $1; sub(/^[^:]*:/, "", n); print n, $2}' "$W/tracepoints" | sort -u >"$W/got_tracepoints"
if diff -u "$W/want_tracepoints" "$W/got_tracepoints" >"$W/tracepoints.diff"; then
	ok "list tracepoints: $(wc -l <"$W/tracepoints") lines, as bpftool's BTF says"
else
	not_ok "list tracepoints differs from bpftool's BTF:"; head -20 "$W/tracepoints.diff" >&2
fi
if [ -d /sys/kernel/tracing/events ] || [ -d /sys/kernel/debug/tracing/events ]; then
	grep -Eq '^net:netif_receive_skb +1$' "$W/tracepoints" && ok "net:netif_receive_skb listed" ||
		not_ok "no 'net:netif_receive_skb 1' line"
else
	grep -Eq '^netif_receive_skb +1$' "$W/tracepoints" && ok "netif_receive_skb listed (no tracefs)" ||
		not_ok "no 'netif_receive_skb 1' line"
	grep -q "tracefs is not mounted" "$W/tracepoints.err" && [ "$(grep -c . "$W/tracepoints.err")" -eq 1 ] &&
		ok "one note on stderr: $(cat "$W/tracepoints.err")" || not_ok "stderr: $(cat "$W/tracepoints.err")"
fi
out=$("$CAPX" list tracepoints '^netif_receive_skb$' 2>/dev/null)
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && printf '%s' "$out" | grep -q netif_receive_skb &&
	ok "list tracepoints '^netif_receive_skb\$': $out" || not_ok "list tracepoints '^netif_receive_skb\$': $out"

# Errors: one line, the right exit code.
# expect CODE PATTERN ARGS...
expect() {
	local code=$1 pattern=$2
	shift 2
	local out rc
	out=$("$CAPX" "$@" 2>&1 >/dev/null </dev/null)
	rc=$?
	if [ "$rc" -eq "$code" ] && [ "$(printf '%s\n' "$out" | grep -c '^capx: ')" -eq 1 ] &&
		printf '%s' "$out" | grep -q -- "$pattern"; then
		ok "capx $*: exit $rc: $(printf '%s' "$out" | head -1)"
	else
		not_ok "capx $*: exit $rc (want $code), output: $out"
	fi
}
expect 2 "bad regular expression '('" list functions '('
expect 2 "bad regular expression 'ip_\[rcv'" list tracepoints 'ip_[rcv'
expect 1 "no kernel function with an sk_buff argument matches 'no_such_function_capx'" list functions no_such_function_capx
expect 1 "no tracepoint with an sk_buff argument matches 'no_such_tp_capx'" list tracepoints no_such_tp_capx
expect 2 "" list
expect 2 "" list kprobes

# Help.
help=$("$CAPX" list --help 2>&1)
printf '%s' "$help" | grep -q functions && printf '%s' "$help" | grep -q tracepoints &&
	ok "capx list --help names functions and tracepoints" || not_ok "capx list --help: $help"
"$CAPX" --help 2>&1 | grep -q '^ *list ' && ok "capx --help lists 'list'" || not_ok "capx --help has no 'list'"
"$CAPX" list functions --help 2>&1 | grep -q REGEX && ok "capx list functions --help shows REGEX" ||
	not_ok "capx list functions --help has no REGEX"

[ "$failures" -eq 0 ] || fail "$failures check(s) failed"
echo "PASS: capx list" >&2
