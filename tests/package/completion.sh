#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# completions/capx, through bash-completion as bash would call it: `capx `
# offers the subcommands `capx --help` lists, `capx SUB -` offers every
# option `capx SUB --help` lists and none it does not (so the script keeps
# up with src/cli), and values come for -i, -w and skb's -f.
. "$(dirname "$0")/../integration/lib.sh"
require_capx
require_cmd bash
W=$(work_dir)
script=$CAPX_SOURCE_ROOT/completions/capx
bash -n "$script" || fail "$script does not parse"

datadir=$(pkg-config --variable=datadir bash-completion 2>/dev/null) ||
	skip "needs bash-completion (scripts/install-deps.sh)"
bash_completion=$datadir/bash-completion/bash_completion
[ -f "$bash_completion" ] || skip "no $bash_completion"

# A child bash that completes LINE (the cursor at its end): words split as
# readline splits them (at blanks, and ':' and '=' as words of their own,
# per COMP_WORDBREAKS), then _capx called as `complete -F` calls it. Prints the
# candidates, one a line. Its own shell: bash-completion is not written for
# lib.sh's `set -u`.
cat >"$W/complete.sh" <<'DRIVER'
. "$1"
. "$2"
COMP_LINE=$3
COMP_POINT=${#COMP_LINE}
COMP_WORDS=()
read -ra blanks <<<"$COMP_LINE"
for w in "${blanks[@]}"; do
	while [[ $w =~ ^([^:=]*)([:=])(.*)$ ]]; do
		[[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
		COMP_WORDS+=("${BASH_REMATCH[2]}")
		w=${BASH_REMATCH[3]}
	done
	[[ -n $w ]] && COMP_WORDS+=("$w")
done
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
_capx "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
DRIVER
complete_line() {
	(cd "$W" && bash --norc --noprofile "$W/complete.sh" "$bash_completion" "$script" "$1") | sort -u
}

# The options a --help page lists, short and long, one a line.
help_options() {
	"$CAPX" "$@" --help | grep -oE '^  (-[a-zA-Z0-9],)?--?[a-zA-Z0-9][a-zA-Z0-9-]*' |
		sed 's/^ *//' | tr ',' '\n' | sort -u
}
help_subcommands() {
	"$CAPX" "$@" --help | awk '/^Subcommands:/ { f = 1; next } f && NF { print $1 }' | sort -u
}

failures=0
bad() {
	echo "not ok - $*" >&2
	failures=$((failures + 1))
}
# same WHAT EXPECTED GOT: two sorted lists are equal.
same() {
	if [ "$2" != "$3" ]; then
		bad "$1: missing [$(comm -23 <(echo "$2") <(echo "$3") | xargs)]," \
			"not expected [$(comm -13 <(echo "$2") <(echo "$3") | xargs)]"
	else
		echo "ok - $1: $(echo $3)" >&2
	fi
}
# offers WHAT WORD GOT: WORD is one of the candidates.
offers() {
	if printf '%s\n' "$3" | grep -qx -- "$2"; then
		echo "ok - $1 offers $2" >&2
	else
		bad "$1: '$2' not among [$(echo $3)]"
	fi
}

subs=$(help_subcommands)
[ -n "$subs" ] || fail "capx --help lists no subcommand"
same "capx <Tab>" "$subs" "$(complete_line "$CAPX ")"
same "capx -<Tab>" "$(help_options)" "$(complete_line "$CAPX -")"
same "capx li<Tab>" "list" "$(complete_line "$CAPX li")"
same "capx list <Tab>" "$(help_subcommands list)" "$(complete_line "$CAPX list ")"

# Main's -v/--verbose also works after a subcommand (CLI11 fallthrough).
main_verbose=$(printf '%s\n' -v --verbose)
for sub in $subs; do
	[ "$sub" = list ] && continue
	want=$(printf '%s\n%s\n' "$(help_options "$sub")" "$main_verbose" | sort -u)
	same "capx $sub -<Tab>" "$want" "$(complete_line "$CAPX $sub -")"
done

# Values.
got=$(complete_line "$CAPX ring -i ")
offers "capx ring -i <Tab>" lo "$got"
offers "capx ring -i <Tab>" any "$got"
offers "capx skb -i <Tab>" lo "$(complete_line "$CAPX skb -i ")"
touch "$W/in.pcap"
offers "capx filter -r <Tab>" in.pcap "$(complete_line "$CAPX filter -r ")"
offers "capx ring -i lo -w i<Tab>" in.pcap "$(complete_line "$CAPX ring -i lo -w i")"
same "capx ring --fanout <Tab>" "$(printf '%s\n' cpu hash lb rollover)" "$(complete_line "$CAPX ring --fanout ")"
same "capx filter --engine=<Tab>" "$(printf '%s\n' kernel user)" "$(complete_line "$CAPX filter --engine=")"
same "capx ring -i lo -w x.pcap tcp <Tab>" "" "$(complete_line "$CAPX ring -i lo -w x.pcap tcp ")"

# skb -f from `capx list`, when this kernel has the BTF it reads.
if "$CAPX" list functions '^ip_rcv$' 2>/dev/null | grep -q '^ip_rcv\b'; then
	offers "capx skb -f ip_rc<Tab>" ip_rcv "$(complete_line "$CAPX skb -f ip_rc")"
	# Past a colon bash inserts only what follows it (COMP_WORDBREAKS).
	offers "capx skb -f fentry:ip_rc<Tab>" ip_rcv "$(complete_line "$CAPX skb -f fentry:ip_rc")"
	offers "capx skb -f ip_rcv,tcp_v4_rc<Tab>" ip_rcv,tcp_v4_rcv "$(complete_line "$CAPX skb -f ip_rcv,tcp_v4_rc")"
	offers "capx skb -f fen<Tab>" fentry: "$(complete_line "$CAPX skb -f fen")"
else
	note "capx list functions finds nothing here: skb -f values not checked"
fi
if "$CAPX" list tracepoints 2>/dev/null | grep -q '^net:netif_receive_skb\b'; then
	offers "capx skb -f tp:net:netif_receive_s<Tab>" netif_receive_skb \
		"$(complete_line "$CAPX skb -f tp:net:netif_receive_s")"
	offers "capx skb -f raw_tp:netif_receive_s<Tab>" netif_receive_skb \
		"$(complete_line "$CAPX skb -f raw_tp:netif_receive_s")"
fi

[ "$failures" -eq 0 ] || fail "$failures completion check(s) failed"
echo "PASS: completions/capx offers what capx --help lists" >&2
