#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# capx ring keeps exactly the packets that tcpdump keeps, byte for byte.
# One unfiltered tcpdump and one capx per expression capture the same
# traffic at the same time on a veth. The oracle for each expression is
# `tcpdump -r full.pcap EXPR` (DESIGN.md: "What you see is what you
# filter"), which matters for VLAN-tagged frames: live tcpdump filters the
# untagged bytes. For expressions that VLAN tags cannot affect, a live
# filtered tcpdump is checked too. Packets are compared as multisets of
# their hex bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ring_traffic.sh"
require_root
require_cmd tcpdump python3 ping ip
require_capx
W=$(work_dir)
make_pair cmp

EXPRS=(
	""
	"host $IP_PEER"
	"net 10.$NET.0.0/16"
	"port 8080"
	"portrange 5000-5400"
	"tcp[tcpflags] & tcp-syn != 0"
	"tcp[13] & 1 != 0"
	"icmp"
	"icmp6"
	"udp"
	"arp"
	"less 64"
	"greater 1000"
	"ip[8] == 64"
	"ip[2:2] > 100"
	"not arp"
	"not ip6 and not arp"
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x68656c6c"
	"vlan"
	"vlan 10"
	"vlan 20 and tcp"
	"vlan and udp port 2000"
	"vlan 100 and vlan 10"
	"vlan 30 and arp"
	"tcp"
	"icmp or icmp6"
	"src host $IP_CAP and (tcp or icmp)"
	"ether broadcast"
	"len >= 100 and not tcp"
	"ip6 and dst $IP6_CAP"
	"ether src $MAC_PEER and not vlan"
)
# Expressions whose verdict cannot depend on a stripped tag in this traffic
# (their addresses, protocols or lengths occur only untagged): live tcpdump
# with the filter must agree too.
LIVE=("host $IP_PEER" "port 8080" "icmp6" "portrange 5000-5400" "ip6 and dst $IP6_CAP")

start_in "$NS_CAP" tcpdump -i "$IF_CAP" -s 0 --immediate-mode -U -w "$W/full.pcap"
PIDS=("$BG_PID")
for i in "${!EXPRS[@]}"; do
	start_in "$NS_CAP" "$CAPX" ring -i "$IF_CAP" -B 512 --block-size 64 -w "$W/capx$i.pcap" \
		-e "${EXPRS[$i]}" 2>"$W/capx$i.err"
	PIDS+=("$BG_PID")
done
# A short snapshot length, untagged and tagged (the restored tag counts).
SNAP_EXPRS=("" "vlan" "len > 100")
for i in "${!SNAP_EXPRS[@]}"; do
	start_in "$NS_CAP" "$CAPX" ring -i "$IF_CAP" -s 60 -w "$W/snap$i.pcap" -e "${SNAP_EXPRS[$i]}"
	PIDS+=("$BG_PID")
done
for i in "${!LIVE[@]}"; do
	start_in "$NS_CAP" tcpdump -i "$IF_CAP" -s 0 --immediate-mode -U -w "$W/live$i.pcap" "${LIVE[$i]}"
	PIDS+=("$BG_PID")
done
wait_sockets "$NS_CAP" "${#PIDS[@]}"

all_traffic

kill -INT "${PIDS[@]}"
for p in "${PIDS[@]}"; do
	wait_exit "$p" 20
done

failures=0
total=$(packet_count "$W/full.pcap")
note "full capture: $total packets"
[ "$total" -ge 30 ] || fail "the traffic did not happen ($total packets)"
for i in "${!EXPRS[@]}"; do
	e=${EXPRS[$i]}
	keeps_what_tcpdump_keeps "$W/full.pcap" "$W/capx$i.pcap" "'$e'" $e || failures=$((failures + 1))
done
for i in "${!LIVE[@]}"; do
	e=${LIVE[$i]}
	for j in "${!EXPRS[@]}"; do
		[ "${EXPRS[$j]}" == "$e" ] && break
	done
	if [ "$(packet_lines "$W/live$i.pcap")" == "$(packet_lines "$W/capx$j.pcap")" ]; then
		ok "'$e' equals live tcpdump"
	else
		not_ok "'$e' differs from live tcpdump"
	fi
done
for i in "${!SNAP_EXPRS[@]}"; do
	e=${SNAP_EXPRS[$i]}
	expected=$(packet_lines "$W/full.pcap" $e | cut -c1-120 | sort)
	if [ -n "$expected" ] && [ "$expected" == "$(packet_lines "$W/snap$i.pcap")" ] &&
		[ "$(tcpdump -r "$W/snap$i.pcap" -nn $e 2>/dev/null | wc -l)" -eq "$(printf '%s\n' "$expected" | wc -l)" ]; then
		ok "-s 60 '$e'"
	else
		not_ok "-s 60 '$e': bytes or lengths differ from the first 60 bytes of tcpdump's"
	fi
done
[ "$failures" -eq 0 ] || fail "$failures comparisons failed"
echo "PASS: ${#EXPRS[@]} expressions against tcpdump -r, ${#LIVE[@]} against live tcpdump" >&2
