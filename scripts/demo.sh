#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Quick start, part one: install what is missing, build, and capture real
# traffic with `capx ring` in a throwaway network namespace, shown decoded.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "demo: run as root (capture needs CAP_NET_RAW)" >&2; exit 1; }

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
capx=${CAPX_BUILD_DIR:-$root/build}/src/capx

ns=capx-demo-$$
host=cxd$$h
peer=cxd$$p
out=$(mktemp -d)
cleanup() {
	ip link del "$host" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$out"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip link add "$host" type veth peer name "$peer"
ip link set "$peer" netns "$ns"
ip addr add 10.199.0.1/24 dev "$host"
ip link set "$host" up
ip -n "$ns" addr add 10.199.0.2/24 dev "$peer"
ip -n "$ns" link set "$peer" up
ip -n "$ns" link set lo up

echo "== capx ring -i $host -c 8 --print -w demo.pcap 'icmp or udp'"
"$capx" ring -i "$host" -c 8 --print -w "$out/demo.pcap" 'icmp or udp' 2>"$out/summary" &
cap=$!
# Traffic starts once capx's socket is bound (it shows in /proc/net/packet).
for _ in $(seq 50); do
	[ "$(wc -l </proc/net/packet)" -gt 1 ] && break
	sleep 0.1
done
ping -c 4 -i 0.2 -q 10.199.0.2 >/dev/null
# UDP that nobody listens to: the peer answers with ICMP port unreachable.
for port in 5001 5002; do echo "hello capx" >/dev/udp/10.199.0.2/$port; done
wait "$cap"
echo "== capx's summary (stderr):"
cat "$out/summary"

echo
echo "== the same file, decoded by tcpdump -r demo.pcap:"
tcpdump -nn -r "$out/demo.pcap" 2>/dev/null
