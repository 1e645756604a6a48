#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# capx skb at tracepoint net:netif_receive_skb keeps exactly the packets, byte
# for byte, that tcpdump keeps on the same device: one unfiltered
# `tcpdump -Q in` and one capx per expression see the same traffic at once;
# the oracle for each expression is `tcpdump -r full.pcap EXPR` (DESIGN.md:
# "what you see is what you filter"), compared as multisets of packets
# (length and bytes). The traffic: ICMP, ICMPv6, ARP, UDP, a TCP exchange
# with payload, capx-gen's frames (inline VLAN tags too), crafted tagged
# frames (802.1Q, QinQ) and frames whose tag travels in skb->vlan_tci (as
# from a VLAN device), which capx must put back into the bytes.
#
# The sender's scatter-gather is off for that part, so every packet arrives
# linear. Then, with it on, TCP data arrives in paged fragments, which this
# host cannot read (no page_offset_base in kallsyms): those records must be
# prefixes of tcpdump's packets, with their full length, and counted as
# truncated in the exit summary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ring_traffic.sh"
require_root
require_cmd tcpdump python3 ping ip tc clang
require_capx
GEN=${CAPX_GEN:-${CAPX_BUILD_ROOT:-}/tests/progs/capx-gen}
[ -x "$GEN" ] || skip "no capx-gen at '$GEN'"
W=$(work_dir)
make_pair skbc

# Tagged frames whose tag the kernel holds in skb->vlan_tci, not in the
# bytes, as a VLAN device on an offloading NIC hands them over: the peer's
# UDP to port 4242 (capx must put the tag back).
VID=42
vlan_push_egress "$NS_PEER" "$IF_PEER" $VID 4242 || fail "cannot attach the VLAN-pushing classifier"
set_sg "$NS_PEER" "$IF_PEER" off || fail "cannot turn scatter-gather off on $IF_PEER"

EXPRS=(
	""
	"host $IP_PEER"
	"src host $IP_PEER and (icmp or tcp[tcpflags] & tcp-fin != 0)"
	"port 8080"
	"portrange 5000-5400"
	"udp port 9"
	"tcp[tcpflags] & tcp-syn != 0"
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x68656c6c"
	"udp[8:4] = 0x43584731"
	"icmp"
	"icmp6"
	"arp"
	"less 64"
	"greater 1000"
	"len >= 100 and not tcp and not arp"
	"ip[8] == 64"
	"ip6 and dst $IP6_CAP"
	"ether broadcast"
	"ether dst 02:00:00:00:00:02"
	"vlan"
	"vlan 10"
	"vlan 7 and udp"
	"vlan $VID and udp"
	"vlan 100 and vlan 10"
	"vlan 30 and arp"
	"vlan and host $IP_PEER"
)
NS_PATH=/run/netns/$NS_CAP
capx_skb() { # out-file err-file args...
	local out=$1 err=$2
	shift 2
	start_in "$NS_CAP" "$CAPX" skb -f tp:net:netif_receive_skb -i "$IF_CAP" --netns "$NS_PATH" \
		-B 256 -w "$out" "$@" 2>"$err"
}

start_in "$NS_CAP" tcpdump -Q in -i "$IF_CAP" -s 0 --immediate-mode -U -w "$W/full.pcap"
TCPDUMP=$BG_PID
PIDS=()
for i in "${!EXPRS[@]}"; do
	capx_skb "$W/capx$i.pcap" "$W/capx$i.err" -e "${EXPRS[$i]}"
	PIDS+=("$BG_PID")
done
# A short snapshot length, untagged and tagged (a restored tag counts).
SNAP_EXPRS=("" "vlan")
for i in "${!SNAP_EXPRS[@]}"; do
	capx_skb "$W/snap$i.pcap" "$W/snap$i.err" -s 60 -e "${SNAP_EXPRS[$i]}"
	PIDS+=("$BG_PID")
done
for p in "${PIDS[@]}"; do
	wait_attached "$p" 1
done
wait_sockets "$NS_CAP" 1

all_traffic
in_peer bash -c "echo tagged > /dev/udp/$IP_CAP/4242; echo tagged-too > /dev/udp/$IP_CAP/4242"
in_peer "$GEN" -i "$IF_PEER" -c 20 -s 64 -r 2000 --flows 4 >/dev/null || fail "capx-gen failed"
in_peer "$GEN" -i "$IF_PEER" -c 10 -s 300 -r 2000 --vlan 7 >/dev/null || fail "capx-gen --vlan failed"
sleep 1

kill -INT "$TCPDUMP" "${PIDS[@]}"
wait_exit "$TCPDUMP" 20
for p in "${PIDS[@]}"; do
	wait_exit "$p" 20
	[ "$EXIT_STATUS" -eq 0 ] || fail "capx exited $EXIT_STATUS"
done

failures=0
total=$(packet_count "$W/full.pcap")
note "tcpdump -Q in: $total packets"
[ "$total" -ge 40 ] || fail "the traffic did not happen ($total packets)"
for i in "${!EXPRS[@]}"; do
	e=${EXPRS[$i]}
	is_valid_pcap "$W/capx$i.pcap" || { failures=$((failures + 1)); continue; }
	pcap_records "$W/full.pcap" $e >"$W/want$i"
	pcap_records "$W/capx$i.pcap" >"$W/got$i"
	n=$(grep -c . "$W/want$i")
	if [ "$n" -eq 0 ]; then
		not_ok "'$e': the traffic has no matching packet (test gap)"
	elif ! m=$(match_records "$W/want$i" "$W/got$i"); then
		not_ok "'$e': tcpdump -r full keeps $n, capx wrote $(grep -c . "$W/got$i")"
	elif [ "${m#* }" != 0 ]; then
		not_ok "'$e': ${m#* } packets truncated though the sender sent them linear"
	else
		ok "'$e' ($n packets)"
	fi
done
for i in "${!SNAP_EXPRS[@]}"; do
	e=${SNAP_EXPRS[$i]}
	pcap_records "$W/full.pcap" $e >"$W/swant$i"
	pcap_records "$W/snap$i.pcap" >"$W/sgot$i"
	if match_records "$W/swant$i" "$W/sgot$i" >/dev/null &&
		awk '{ want = $1 < 60 ? $1 : 60; if ($2 != want) bad++ } END { exit bad > 0 }' "$W/sgot$i"; then
		ok "-s 60 '$e' ($(grep -c . "$W/sgot$i") packets)"
	else
		not_ok "-s 60 '$e': not the first 60 bytes of tcpdump's packets"
	fi
done

# --- paged fragments ---------------------------------------------------------
# TCP data from tcp_sendmsg() sits in page fragments when the device does
# scatter-gather; a 3000-byte write also travels as one GSO packet.
set_sg "$NS_PEER" "$IF_PEER" on || fail "cannot turn scatter-gather on"
start_in "$NS_CAP" tcpdump -Q in -i "$IF_CAP" -s 0 --immediate-mode -U -w "$W/frag_td.pcap" tcp port 8081
TCPDUMP=$BG_PID
capx_skb "$W/frag.pcap" "$W/frag.err" tcp port 8081
FRAG=$BG_PID
wait_attached "$FRAG" 1
wait_sockets "$NS_CAP" 1
in_cap python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$IP_CAP"'", 8081)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); n = 0
while n < 3010:
    d = c.recv(65536)
    if not d: break
    n += len(d)
c.close()' &
SERVER=$!
for _ in $(seq 100); do
	in_cap grep -q ":1F91 00000000:0000 0A" /proc/net/tcp && break # listening on 8081
	sleep 0.1
done
in_peer python3 -c '
import socket
c = socket.create_connection(("'"$IP_CAP"'", 8081), timeout=10)
c.sendall(b"0123456789"); c.sendall(bytes(range(256)) * 12)
c.recv(10); c.close()'
wait "$SERVER"
sleep 1
kill -INT "$TCPDUMP" "$FRAG"
wait_exit "$TCPDUMP" 20
wait_exit "$FRAG" 20
[ "$EXIT_STATUS" -eq 0 ] || fail "capx exited $EXIT_STATUS: $(cat "$W/frag.err")"
pcap_records "$W/frag_td.pcap" >"$W/fwant"
pcap_records "$W/frag.pcap" >"$W/fgot"
short=$(awk '$2 < $1' "$W/fgot" | wc -l)
if ! m=$(match_records "$W/fwant" "$W/fgot"); then
	not_ok "paged TCP data: capx's packets are not tcpdump's (or prefixes of them)"
else
	ok "paged TCP data: ${m% *} whole, ${m#* } prefixes of tcpdump's packets"
fi
# The exit summary counts every truncated record (the probe's counter line).
counted=$(grep -i truncated "$W/frag.err" | grep -oE '[0-9]+ truncated|truncated[ =:]+[0-9]+' | grep -oE '[0-9]+' | head -1)
if [ "$short" -gt 0 ] && [ "${counted:-x}" = "$short" ]; then
	ok "$short truncated records, the exit summary counts $counted"
elif [ "$short" -eq 0 ] && [ "${counted:-0}" = 0 ]; then
	# Where the kernel lets BPF read pages (kallsyms with data symbols).
	ok "paged fragments read whole here, nothing truncated"
else
	not_ok "$short records shorter than their packet, the summary counts '${counted:-none}':"
	sed 's/^/    /' "$W/frag.err" >&2
fi
data=$(awk '$1 > 1000' "$W/fwant" | wc -l)
[ "$data" -gt 0 ] || { not_ok "no TCP data packet over 1000 bytes in tcpdump's capture (test gap)"; }

[ "$failures" -eq 0 ] || fail "$failures comparisons failed"
echo "PASS: ${#EXPRS[@]} expressions and ${#SNAP_EXPRS[@]} with -s 60 against tcpdump -r, paged data as prefixes" >&2
