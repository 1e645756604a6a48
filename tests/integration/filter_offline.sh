#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# capx filter -r F -w out EXPR keeps exactly the packets that
# tcpdump -r F -w ref EXPR keeps, byte for byte, with both engines: the
# user-space executor and the kernel (the filter injected into the BPF test
# program, run with BPF_PROG_TEST_RUN; needs root, in buffer mode on every
# file and in packet mode, cross-checked against buffer mode, where all
# packets fit one XDP test buffer).
. "$(dirname "$0")/lib.sh"
require_capx
require_cmd tcpdump

pcaps="$CAPX_SOURCE_ROOT/../shared/pcaps/tcpdump-tests"
[ -d "$pcaps" ] || skip "no tcpdump test captures at $pcaps"
work=$(work_dir)

files=(
	afs.pcap pim-packet-assortment.pcap huge-tipc-messages.pcap dcb_ets.pcap
	802.1ad_QinQ.pcap IGMP_V2.pcap accecn_handshake.pcap OSPFv3_with_AH.pcap
	EIGRP_ipv6.pcap
)
# Files whose packets all fit one XDP test-run buffer: the kernel engine
# runs both modes on them (and checks they agree), buffer mode elsewhere.
small_files=(802.1ad_QinQ.pcap IGMP_V2.pcap accecn_handshake.pcap OSPFv3_with_AH.pcap EIGRP_ipv6.pcap)

expressions=(
	''
	'tcp'
	'udp'
	'ip6'
	'arp'
	'vlan'
	'vlan and udp'
	'igmp'
	'pim'
	'icmp or icmp6'
	'tcp port 7000 or udp port 7001'
	'udp port 1812 or udp port 1813 or udp port 500'
	'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn'
	'tcp[tcpflags] & tcp-ece != 0'
	'ip[6:2] & 0x1fff = 0 and ip[6] & 0x20 != 0'
	'ether multicast'
	'ether broadcast or ether dst 01:80:c2:00:00:0e'
	'len > 1000'
	'greater 100 and less 400'
	'ip proto 50 or ip6 proto 50 or ip6 proto 51'
	'portrange 1-1024'
	'ip and ip[8] < 64'
	'ip6 and ip6[6] = 17'
	'net 10.0.0.0/8 or net 192.168.0.0/16'
	'not ip and not ip6'
	'tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420'
)

engines=(user)
if [ "$(id -u)" = 0 ]; then
	engines+=(kernel)
else
	note "not root: the kernel engine is not checked"
fi

# The packets of a capture, as tcpdump prints them with every byte (shown
# when the files differ).
packets_of() { tcpdump -nn -tt -xx -r "$1" 2>/dev/null; }

checked=0
for f in "${files[@]}"; do
	in="$pcaps/$f"
	[ -f "$in" ] || fail "missing capture $in"
	for e in "${expressions[@]}"; do
		tcpdump -r "$in" -w "$work/ref.pcap" "$e" 2>/dev/null || fail "tcpdump refused '$e' on $f"
		runs=()
		for engine in "${engines[@]}"; do
			if [ "$engine" = kernel ] && [[ " ${small_files[*]} " == *" $f "* ]]; then
				runs+=("--engine kernel --mode both")
			else
				runs+=("--engine $engine")
			fi
		done
		for run in "${runs[@]}"; do
			# shellcheck disable=SC2086 # $run is a list of options
			"$CAPX" filter -r "$in" -w "$work/out.pcap" $run -e "$e" 2>"$work/err" ||
				fail "capx filter $run '$e' on $f: $(cat "$work/err")"
			# Same file header (link type, snap length, microseconds) and
			# the same records: the files are identical byte for byte.
			if ! cmp -s "$work/ref.pcap" "$work/out.pcap"; then
				packets_of "$work/ref.pcap" >"$work/ref.txt"
				packets_of "$work/out.pcap" >"$work/out.txt"
				diff "$work/ref.txt" "$work/out.txt" | head -20 >&2
				fail "$f, '$e', $run: capx kept $(grep -c '^[0-9]' "$work/out.txt") packets, tcpdump $(grep -c '^[0-9]' "$work/ref.txt")"
			fi
			checked=$((checked + 1))
		done
	done
done
note "$checked runs over ${#files[@]} captures and ${#expressions[@]} expressions agree with tcpdump"

# Errors are one line with a reason.
if "$CAPX" filter -r "$pcaps/afs.pcap" -w "$work/out.pcap" 'tcp port' 2>"$work/err"; then
	fail "a bad expression was accepted"
fi
grep -q '^capx: ' "$work/err" || fail "no one-line error for a bad expression: $(cat "$work/err")"
if "$CAPX" filter -w "$work/out.pcap" tcp 2>"$work/err"; then
	fail "capx filter without -r or -d succeeded"
fi

# -d says what the verifier takes for the filter, for each mode: a
# protochain costs far more than a plain protocol test.
verified() {
	"$CAPX" filter -d --mode buf "$1" | sed -n 's/^; the verifier processed \([0-9]*\) instructions.*/\1/p'
}
if [ "$(id -u)" = 0 ]; then
	small=$(verified tcp)
	large=$(verified 'ip6 protochain 58')
	[ -n "$small" ] && [ -n "$large" ] || fail "capx filter -d printed no verifier figure: '$small' '$large'"
	[ "$large" -gt $((small * 10)) ] || fail "protochain verified in $large instructions, tcp in $small"
	note "verifier: tcp $small, ip6 protochain 58 $large instructions"
fi
exit 0
