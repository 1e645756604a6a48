#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# -Q in / -Q out keep the received / sent packets (the capture side's own
# MAC tells them apart in the full capture), and -p leaves the interface
# out of promiscuous mode while the default puts it in and takes it out.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump ping ip
require_capx
W=$(work_dir)
make_pair dir

promisc() { in_cap cat "/sys/class/net/$IF_CAP/flags"; }
flags_before=$(promisc)

start_in "$NS_CAP" tcpdump -i "$IF_CAP" -p -s 0 --immediate-mode -U -w "$W/full.pcap"
PIDS=("$BG_PID")
start_in "$NS_CAP" "$CAPX" ring -i "$IF_CAP" -Q in -w "$W/in.pcap"
PIDS+=("$BG_PID")
start_in "$NS_CAP" "$CAPX" ring -i "$IF_CAP" -Q out -w "$W/out.pcap" icmp or arp
PIDS+=("$BG_PID")
start_in "$NS_CAP" "$CAPX" ring -i "$IF_CAP" -p -Q inout -w "$W/inout.pcap"
PIDS+=("$BG_PID")
wait_sockets "$NS_CAP" 4
# Two capx without -p hold the device promiscuous (IFF_PROMISC = 0x100).
(( $(promisc) & 0x100 )) || fail "the interface is not promiscuous during the capture"

in_peer ping -c 3 -i 0.2 -q "$IP_CAP" >/dev/null
in_peer bash -c "echo hello > /dev/udp/$IP_CAP/5000"
sleep 1
kill -INT "${PIDS[@]}"
for p in "${PIDS[@]}"; do
	wait_exit "$p" 10
done
(( $(promisc) & 0x100 )) && fail "promiscuous mode was left on"
[ "$(promisc)" = "$flags_before" ] || fail "interface flags changed: $flags_before -> $(promisc)"

check() {
	local name=$1 file=$2
	shift 2
	local expected got
	expected=$(packet_lines "$W/full.pcap" "$@")
	got=$(packet_lines "$file")
	[ -n "$expected" ] || fail "$name: no traffic to compare"
	if [ "$expected" != "$got" ]; then
		diff <(echo "$expected") <(echo "$got") | cut -c1-120 >&2
		tcpdump -r "$W/full.pcap" -nn -e >&2
		fail "$name differs from tcpdump -r full.pcap $*"
	fi
	ok "$name ($(printf '%s\n' "$got" | wc -l) packets)"
}
check "-Q in" "$W/in.pcap" not ether src "$MAC_CAP"
check "-Q out icmp or arp" "$W/out.pcap" ether src "$MAC_CAP" and \( icmp or arp \)
check "-p -Q inout" "$W/inout.pcap"
echo "PASS: -Q in/out and -p" >&2
