#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# --print: decoded lines on stdout even when stdout is a pipe, alone or next
# to a -w file (like tcpdump's --print); one line per packet, the file
# unchanged by printing; and the combinations that make no sense refused.
. "$(dirname "$0")/lib.sh"
require_capx
require_cmd tcpdump

in="$CAPX_SOURCE_ROOT/../shared/pcaps/tcpdump-tests/afs.pcap"
[ -f "$in" ] || skip "no tcpdump test capture at $in"
work=$(work_dir)
want=$(tcpdump -r "$in" udp 2>/dev/null | wc -l)
[ "$want" -gt 0 ] || fail "the test capture has no UDP packet"

# Alone, into a pipe: text, not pcap.
"$CAPX" filter -r "$in" --print udp >"$work/lines" 2>"$work/err" || fail "capx --print: $(cat "$work/err")"
[ "$(wc -l <"$work/lines")" -eq "$want" ] || fail "--print printed $(wc -l <"$work/lines") lines, want $want"
grep -q "UDP" "$work/lines" || fail "--print lines are not decoded: $(head -2 "$work/lines")"
if LC_ALL=C grep -q $'\xd4\xc3\xb2\xa1' "$work/lines"; then fail "--print wrote pcap bytes"; fi

# With -w: the same lines, and a file equal to the one written without --print.
"$CAPX" filter -r "$in" -w "$work/plain.pcap" udp 2>/dev/null || fail "capx -w"
"$CAPX" filter -r "$in" -w "$work/tee.pcap" --print udp >"$work/tee-lines" 2>/dev/null || fail "capx -w --print"
cmp -s "$work/plain.pcap" "$work/tee.pcap" || fail "--print changed the -w file"
cmp -s "$work/lines" "$work/tee-lines" || fail "--print with -w printed other lines"

# Both on stdout, or two printers: usage errors, one line, exit 2.
for args in "-w - --print" "--print -t -nn"; do
	"$CAPX" filter -r "$in" $args udp >/dev/null 2>"$work/err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "'$args' exited $rc, want 2"
	[ "$(grep -c '^capx: ' "$work/err")" -eq 1 ] || fail "'$args' did not give one capx: line: $(cat "$work/err")"
done
echo "ok: --print gave $want decoded lines, alone and with -w"
