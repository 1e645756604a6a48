#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input to capx skb never crashes it: each case prints exactly one
# `capx: ` line (and at most one `hint: ` line) and exits 1 (runtime) or 2
# (usage). Probe specs are checked against this kernel's BTF before anything
# is loaded: unknown names (with the closest names as a hint), a wrong @N,
# an ambiguous function, hook types this host refuses (fentry: EPERM, no
# kprobes).
. "$(dirname "$0")/lib.sh"
require_root
require_cmd ip setpriv tcpdump
require_capx
W=$(work_dir)
make_pair skbe

TP=tp:net:netif_receive_skb
failures=0
# expect CODE PATTERN -- ARGS...: runs `capx skb ARGS` in the capture
# namespace (expect_error).
expect() {
	local code=$1 pattern=$2
	shift 3
	expect_error "$code" "$pattern" -- ip netns exec "$NS_CAP" timeout 20 "$CAPX" skb "$@"
}

# Probe specs: syntax (usage errors, before BTF is read).
expect 2 "no probe given" -- -w "$W/x.pcap"
expect 2 "hint: .*capx skb -f" -- -w "$W/x.pcap"
expect 2 "probe" -- -f "" -w "$W/x.pcap"
expect 2 "fentry:" -- -f fentry: -w "$W/x.pcap"
expect 2 "tp:net" -- -f tp:net -w "$W/x.pcap"
expect 2 "bogus:ip_rcv" -- -f bogus:ip_rcv -w "$W/x.pcap"
expect 2 "ip_rcv@x" -- -f ip_rcv@x -w "$W/x.pcap"
expect 2 "ip_rcv@0" -- -f ip_rcv@0 -w "$W/x.pcap"
expect 2 "" -- -f "$TP,,tp:skb:kfree_skb" -w "$W/x.pcap"
# Probe specs against BTF: what the user asked for is not in this kernel
# (usage errors too).
expect 2 "no kernel function 'ip_rcvv'" -- -f ip_rcvv -w "$W/x.pcap"
expect 2 "hint: .*ip_rcv" -- -f ip_rcvv -w "$W/x.pcap"
expect 2 "hint: .*netif_receive_skb" -- -f tp:net:netif_recieve_skb -w "$W/x.pcap"
expect 2 "hint: .*kfree_skb" -- -f raw_tp:kfree_skbb -w "$W/x.pcap"
expect 2 "^capx: argument 2 of ip_rcv is 'struct net_device \*', not 'struct sk_buff \*'$" -- -f ip_rcv@2 -w "$W/x.pcap"
expect 2 "ip_rcv has 4 arguments" -- -f ip_rcv@7 -w "$W/x.pcap"
expect 2 "skb_copy_header has sk_buff arguments 1 and 2" -- -f skb_copy_header -w "$W/x.pcap"
expect 2 "hint: .*skb_copy_header@" -- -f skb_copy_header -w "$W/x.pcap"
expect 2 "schedule takes no 'struct sk_buff \*' argument" -- -f schedule -w "$W/x.pcap"
expect 2 "sched_switch takes no 'struct sk_buff \*' argument" -- -f tp:sched:sched_switch -w "$W/x.pcap"
# Hook types this host refuses: fentry (EPERM), kprobes (not built in).
expect 1 "cannot attach fentry:ip_rcv: .*fentry" -- -f fentry:ip_rcv -w "$W/x.pcap"
expect 1 "cannot attach fexit:ip_rcv: .*fentry" -- -f fexit:ip_rcv -w "$W/x.pcap"
expect 1 "cannot attach kprobe:ip_rcv: .*kprobes" -- -f kprobe:ip_rcv -w "$W/x.pcap"
expect 1 "hint: .*tp:net:netif_receive_skb" -- -f kprobe:ip_rcv -w "$W/x.pcap"
expect 1 "cannot trace ip_rcv here: fentry: .*kprobe: " -- -f ip_rcv -w "$W/x.pcap"
expect 1 "cannot trace ip_rcv here" -- -f "$TP,ip_rcv" -w "$W/x.pcap"
# The other options.
# The same words as capx ring -i (one lookup, src/capture/interface_lookup.cpp).
expect 1 "^capx: no such interface 'nosuch$$'$" -- -f "$TP" -i "nosuch$$" -w "$W/x.pcap"
expect 1 "hint: .*$IF_CAP" -- -f "$TP" -i "nosuch$$" -w "$W/x.pcap"
expect 1 "/run/netns/nosuch$$" -- -f "$TP" --netns "/run/netns/nosuch$$" -w "$W/x.pcap"
expect 1 "$W" -- -f "$TP" --netns "$W" -w "$W/x.pcap"
expect 1 "network namespace '/run/netns/nosuch$$'" -- -f "$TP" --netns "nosuch$$" -w "$W/x.pcap"
expect 2 "mark" -- -f "$TP" --mark xyz -w "$W/x.pcap"
expect 2 "mark" -- -f "$TP" --mark 0x1g -w "$W/x.pcap"
expect 2 "mark" -- -f "$TP" --mark 99999999999 -w "$W/x.pcap"
expect 2 "mark" -- -f "$TP" --mark -1 -w "$W/x.pcap"
expect 2 "buffer-size" -- -f "$TP" -B 1 -w "$W/x.pcap"
# An empty value never means "any" (--netns "" used to, silently).
expect 2 "^capx: --netns: an empty value is not allowed" -- -f "$TP" --netns "" -w "$W/x.pcap"
expect 2 "^capx: --interface: an empty value is not allowed" -- -f "$TP" -i "" -w "$W/x.pcap"
expect 2 "^capx: --mark: an empty value is not allowed" -- -f "$TP" --mark "" -w "$W/x.pcap"
expect 2 "^capx: --probe: an empty value is not allowed" -- -f "" -w "$W/x.pcap"
expect 2 "^capx: --write: an empty value is not allowed" -- -f "$TP" -w ""
expect 1 "^capx: filter 'tcp port': syntax error$" -- -f "$TP" -w "$W/x.pcap" tcp port
expect 1 "^capx: filter 'tcp port': syntax error$" -- -f "$TP" -d tcp port
expect 2 "either with -e or as trailing words" -- -f "$TP" -e tcp udp -w "$W/x.pcap"
expect 2 "not expected" -- -f "$TP" --no-such-option

# Without privileges: the first bpf() call fails, one line and a hint.
chmod 755 "$W"
expect_error 1 '^capx: .*\(not permitted\|privilege\|CAP_\|root\)' -- ip netns exec "$NS_CAP" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$CAPX" skb -f "$TP" -w "$W/np.pcap"
# -d needs no privileges and prints the Ethernet program like tcpdump -d.
out=$(ip netns exec "$NS_CAP" setpriv --reuid=65534 --regid=65534 --clear-groups "$CAPX" skb -f "$TP" -d udp)
if [ $? -eq 0 ] && [ "$out" = "$(tcpdump -d -y EN10MB udp 2>/dev/null || in_cap tcpdump -d -i "$IF_CAP" udp)" ]; then
	ok "unprivileged -d prints tcpdump's program"
else
	not_ok "-d: $out"
fi

[ "$failures" -eq 0 ] || fail "$failures error cases misbehaved"
echo "PASS: every bad probe spec and option gives one line and the right exit code" >&2
