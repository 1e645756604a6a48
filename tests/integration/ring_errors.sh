#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input never crashes capx: each case prints exactly one `capx: ` line
# (and at most one `hint: ` line) and exits 1 (runtime) or 2 (usage).
. "$(dirname "$0")/lib.sh"
require_root
require_cmd ip setpriv
require_capx
W=$(work_dir)
make_pair err

failures=0
# expect CODE PATTERN -- ARGS...: runs capx in the capture namespace
# (expect_error).
expect() {
	local code=$1 pattern=$2
	shift 3
	expect_error "$code" "$pattern" -- ip netns exec "$NS_CAP" timeout 10 "$CAPX" "$@"
}

expect 1 "no such interface 'eth9'" -- ring -i eth9 -w "$W/x.pcap"
expect 1 "hint: interfaces here: .*$IF_CAP" -- ring -i eth9 -w "$W/x.pcap"
expect 1 "no interface has index 9999" -- ring -i 9999 -w "$W/x.pcap"
expect 1 "filter 'tcp port': syntax error" -- ring -i "$IF_CAP" -w "$W/x.pcap" tcp port
# A bad expression ends the same way in every subcommand (issue 2: exit 1,
# libpcap's words); CbpfProgram::compile decides it for all of them.
expect 1 "^capx: filter 'tcp prot 80': syntax error$" -- ring -i "$IF_CAP" -w "$W/x.pcap" tcp prot 80
expect 1 "^capx: filter 'tcp prot 80': syntax error$" -- ring -i "$IF_CAP" -d tcp prot 80
expect 1 "^capx: filter 'tcp prot 80': syntax error$" -- skb -f tp:net:netif_receive_skb -w "$W/x.pcap" tcp prot 80
expect 1 "^capx: filter 'tcp prot 80': syntax error$" -- skb -f tp:net:netif_receive_skb -d tcp prot 80
expect 1 "^capx: filter 'tcp prot 80': syntax error$" -- filter -d tcp prot 80
expect 1 "^capx: filter 'tcp prot 80': syntax error$" -- filter --link raw -d tcp prot 80
expect 1 "^capx: filter 'arp' cannot match\|^capx: filter 'arp':" -- filter --link raw -d arp
# Empty values are mistakes, not "not given".
expect 2 "^capx: --interface: an empty value is not allowed" -- ring -i "" -w "$W/x.pcap"
expect 2 "^capx: --write: an empty value is not allowed" -- ring -i "$IF_CAP" -w ""
expect 1 "filter 'host nosuchhost.invalid'" -- ring -i "$IF_CAP" -w "$W/x.pcap" host nosuchhost.invalid
expect 1 "interface '$IF_CAP' does not time-stamp received packets in hardware" -- \
	ring -i "$IF_CAP" --time-stamp-type adapter -w "$W/x.pcap"
expect 2 "needs --threads 2" -- ring -i "$IF_CAP" --fanout cpu -w "$W/x.pcap"
expect 2 "-Q: 'sideways'" -- ring -i "$IF_CAP" -Q sideways -w "$W/x.pcap"
expect 2 "fewer than 2 blocks" -- ring -i "$IF_CAP" -B 64 -w "$W/x.pcap"
expect 2 "multiple of the page size" -- ring -i "$IF_CAP" --block-size 6 -w "$W/x.pcap"
expect 2 "threads" -- ring -i "$IF_CAP" --threads 100 -w "$W/x.pcap"
expect 2 "-C needs -w" -- ring -i "$IF_CAP" -C 1
# Numbers out of range say what was wrong in a few words (CLI11's own
# PositiveNumber spelt DBL_MAX out in 309 digits).
expect 2 "^capx: --count: '0' is not a positive number$" -- ring -i "$IF_CAP" -c 0 -w "$W/x.pcap"
expect 2 "^capx: --buffer-size: 'many' is not a positive number$" -- ring -i "$IF_CAP" -B many -w "$W/x.pcap"
expect 2 "^capx: --duration: '-1' is not a positive number$" -- ring -i "$IF_CAP" --duration=-1 -w "$W/x.pcap"
expect 2 "either with -e or as trailing words" -- ring -i "$IF_CAP" -e tcp udp -w "$W/x.pcap"
expect 2 "interface is required" -- ring -w "$W/x.pcap"
expect 2 "not 'any'" -- ring -i any --time-stamp-type adapter_unsynced -w "$W/x.pcap"
expect 2 "not expected" -- ring -i "$IF_CAP" --no-such-option

ip -n "$NS_CAP" link add "down$$" type dummy 2>/dev/null &&
	expect 1 "interface 'down$$' is down" -- ring -i "down$$" -w "$W/x.pcap"

# Without privileges: the socket call fails, with the privilege hint.
chmod 755 "$W"
out=$(ip netns exec "$NS_CAP" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$CAPX" ring -i "$IF_CAP" -w "$W/np.pcap" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 1 ] && [ "$(printf '%s\n' "$out" | head -1)" = "capx: socket: Operation not permitted" ] &&
	printf '%s\n' "$out" | sed -n 2p | grep -q '^hint: .*CAP_NET_RAW' && [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ]; then
	ok "unprivileged: $(printf '%s' "$out" | head -1)"
else
	not_ok "unprivileged: exit $rc: $out"
fi
# -d needs no privileges and prints the program like tcpdump -d.
out=$(ip netns exec "$NS_CAP" setpriv --reuid=65534 --regid=65534 --clear-groups "$CAPX" ring -i "$IF_CAP" -d udp)
if [ $? -eq 0 ] && [ "$out" = "$(tcpdump -d -y EN10MB udp 2>/dev/null || ip netns exec "$NS_CAP" tcpdump -d -i "$IF_CAP" udp)" ]; then
	ok "unprivileged -d prints tcpdump's program"
else
	not_ok "-d: $out"
fi

[ "$failures" -eq 0 ] || fail "$failures error cases misbehaved"
echo "PASS: every bad input gives one line and the right exit code" >&2
