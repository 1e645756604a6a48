#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every option a subcommand's --help lists has an entry in the man pages:
# the head line of a .TP paragraph in man/capx-SUB.8 (or, for the options
# every capture subcommand shares, man/capx.8) names it, short and long
# form alike. And every option such a head names is one --help lists, so
# the pages do not document options that are gone.
. "$(dirname "$0")/lib.sh"
require_capx
MAN=$CAPX_SOURCE_ROOT/man

# The .TP heads with roff's escapes and fonts taken out.
tp_heads() {
	awk '/^\.TP/ { getline; print }' "$@" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g'
}

failures=0
subs=$("$CAPX" --help | awk '/^Subcommands:/ { f = 1; next } f && NF { print $1 }')
[ -n "$subs" ] || fail "capx --help lists no subcommand"
for sub in $subs; do
	page=$MAN/capx-$sub.8
	if [ ! -f "$page" ]; then
		not_ok "$sub: no man page $page"
		continue
	fi
	help_opts=$("$CAPX" "$sub" --help | grep -oE '^  (-[a-zA-Z0-9],)?--?[a-zA-Z0-9][a-zA-Z0-9-]*' |
		sed 's/^ *//' | tr ',' '\n' | grep -vx -e '-h' -e '--help')
	heads=$(tp_heads "$page" "$MAN/capx.8")
	n=0
	for o in $help_opts; do
		n=$((n + 1))
		if ! printf '%s\n' "$heads" | grep -qE -- "(^|[ ,])$o([ ,]|$)"; then
			not_ok "capx $sub $o: in --help, in no .TP head of capx-$sub.8 or capx.8"
		fi
	done
	# The other way: options named in this page's own heads (-dd and -ddd
	# are -d given twice and three times).
	for o in $(tp_heads "$page" | grep -oE -- '(^|[ ,])--?[a-zA-Z0-9][a-zA-Z0-9-]*' | tr -d ' ,' |
		sed -E 's/^-d+$/-d/' | sort -u); do
		if ! printf '%s\n' "$help_opts" | grep -qx -- "$o"; then
			not_ok "capx-$sub.8 documents $o, which 'capx $sub --help' does not list"
		fi
	done
	ok "capx $sub: $n options documented"
done
[ "$failures" -eq 0 ] || fail "$failures option(s) out of step between --help and the man pages"
echo "PASS: every option in --help has a man page entry, and the other way round" >&2
