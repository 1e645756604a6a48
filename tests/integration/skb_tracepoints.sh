#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# capx skb at the other tracepoints and with several at once:
# - net:net_dev_start_xmit sees what the capture side sends, byte for byte
#   what `tcpdump -Q out` sees (a tag held in skb->vlan_tci put back);
# - skb:kfree_skb sees a UDP datagram to a closed port dropped with reason
#   NO_SOCKET (__udp4_lib_rcv() in net/ipv4/udp.c), in the pcapng comment;
# - one session with three probes (two of them as one comma-separated -f)
#   writes one pcapng interface per probe, named after it, and the same skb
#   address in the comments of one datagram at the sender's
#   net_dev_start_xmit, the receiver's netif_receive_skb and its kfree_skb
#   (veth hands the sk_buff itself to the peer: __dev_forward_skb() in
#   net/core/dev.c); with -S each record carries its kernel stack.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump tshark capinfos python3 ping ip tc clang
require_capx
W=$(work_dir)
make_pair skbt

# The capture side's UDP to port 4243 leaves with its tag in skb->vlan_tci.
VID=43
vlan_push_egress "$NS_CAP" "$IF_CAP" $VID 4243 || fail "cannot attach the VLAN-pushing classifier"
wait_quiet
CAP_INODE=$(stat -L -c %i "/run/netns/$NS_CAP")
PEER_INODE=$(stat -L -c %i "/run/netns/$NS_PEER")
CAP_IFINDEX=$(in_cap cat "/sys/class/net/$IF_CAP/ifindex")
PEER_IFINDEX=$(in_peer cat "/sys/class/net/$IF_PEER/ifindex")
failures=0

# --- net:net_dev_start_xmit against tcpdump -Q out ---------------------------
XEXPRS=("" "icmp" "vlan $VID" "udp and not vlan")
PIDS=()
for i in "${!XEXPRS[@]}"; do
	start_in "$NS_CAP" "$CAPX" skb -f tracepoint:net:net_dev_start_xmit -i "$IF_CAP" \
		--netns "/run/netns/$NS_CAP" -B 256 -w "$W/x$i.pcap" -e "${XEXPRS[$i]}" 2>"$W/x$i.err"
	PIDS+=("$BG_PID")
done
start_in "$NS_CAP" tcpdump -Q out -i "$IF_CAP" -s 0 --immediate-mode -U -w "$W/xfull.pcap"
TCPDUMP=$BG_PID
for p in "${PIDS[@]}"; do
	wait_attached "$p" 1
done
wait_sockets "$NS_CAP" 1
in_cap ping -c 3 -i 0.2 -q "$IP_PEER" >/dev/null
in_cap ping -c 1 -s 1000 -q "$IP_PEER" >/dev/null
in_cap ping -6 -c 2 -i 0.2 -q "$IP6_PEER" >/dev/null
in_cap bash -c "echo out > /dev/udp/$IP_PEER/6000; echo tagged > /dev/udp/$IP_PEER/4243; echo again > /dev/udp/$IP_PEER/4243"
sleep 1
kill -INT "$TCPDUMP" "${PIDS[@]}"
wait_exit "$TCPDUMP" 20
for p in "${PIDS[@]}"; do
	wait_exit "$p" 20
	[ "$EXIT_STATUS" -eq 0 ] || fail "capx exited $EXIT_STATUS"
done
for i in "${!XEXPRS[@]}"; do
	e=${XEXPRS[$i]}
	pcap_records "$W/xfull.pcap" $e >"$W/xwant$i"
	pcap_records "$W/x$i.pcap" >"$W/xgot$i"
	n=$(grep -c . "$W/xwant$i")
	if [ "$n" -eq 0 ]; then
		not_ok "net_dev_start_xmit '$e': the traffic has no matching packet (test gap)"
	elif m=$(match_records "$W/xwant$i" "$W/xgot$i") && [ "${m#* }" = 0 ]; then
		ok "net_dev_start_xmit '$e': $n packets as tcpdump -Q out"
	else
		not_ok "net_dev_start_xmit '$e': tcpdump -Q out keeps $n, capx wrote $(grep -c . "$W/xgot$i")"
	fi
done

# --- one session, three probes, pcapng --------------------------------------
# Datagrams to a closed port; no tap on the device (a packet socket holding
# a reference would make ip_rcv() clone the sk_buff: skb_share_check()).
PORT=7777
start_in "$NS_CAP" "$CAPX" skb -f tp:net:net_dev_start_xmit,tp:net:netif_receive_skb -f tp:skb:kfree_skb \
	-S --pcapng -B 256 -w "$W/multi.pcapng" -e "udp port $PORT and host $IP_PEER" 2>"$W/multi.err"
MULTI=$BG_PID
# The same drops alone, as pcap, to compare bytes with tcpdump.
start_in "$NS_CAP" "$CAPX" skb -f tp:skb:kfree_skb -i "$IF_CAP" --netns "/run/netns/$NS_CAP" \
	-B 256 -w "$W/drop.pcap" -e "udp port $PORT" 2>"$W/drop.err"
DROP=$BG_PID
wait_attached "$MULTI" 3 "$W/multi.err"
wait_attached "$DROP" 1 "$W/drop.err"
SENDER=$(in_peer python3 -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    s.sendto(b"capx drop %d" % i, ("'"$IP_CAP"'", '$PORT'))
print(os.getpid())')
sleep 1
kill -INT "$MULTI" "$DROP"
wait_exit "$MULTI" 20
[ "$EXIT_STATUS" -eq 0 ] || fail "capx (three probes) exited $EXIT_STATUS: $(cat "$W/multi.err")"
wait_exit "$DROP" 20
[ "$EXIT_STATUS" -eq 0 ] || fail "capx (kfree_skb) exited $EXIT_STATUS: $(cat "$W/drop.err")"

# The drops, byte for byte: the datagrams as the peer sent them (Ethernet
# header included), reconstructed from the records of the sender's side.
tshark -r "$W/multi.pcapng" -T fields -E separator='|' -e frame.interface_name -e frame.comment \
	-e udp.payload >"$W/multi.fields" 2>"$W/tshark.err" ||
	fail "tshark cannot read the pcapng: $(cat "$W/tshark.err")"
note "multi-probe records:"
cut -c1-200 "$W/multi.fields" | sed 's/^/#   /' >&2
tshark -r "$W/multi.pcapng" -Y 'frame.interface_name == "net:net_dev_start_xmit"' -F pcap \
	-w "$W/sent.pcap" 2>/dev/null
pcap_records "$W/sent.pcap" >"$W/dwant"
pcap_records "$W/drop.pcap" >"$W/dgot"
if [ "$(grep -c . "$W/dwant")" -eq 3 ] && m=$(match_records "$W/dwant" "$W/dgot") && [ "$m" = "3 0" ]; then
	ok "kfree_skb alone: the 3 dropped datagrams, byte for byte as the sender's side sent them"
else
	not_ok "kfree_skb alone: $(grep -c . "$W/dgot") records, not the $(grep -c . "$W/dwant") datagrams sent"
fi
# Interfaces: one per probe, in the file and on the packets.
idbs=$(capinfos "$W/multi.pcapng" 2>/dev/null | sed -n 's/^ *Name = //p' | sort | tr '\n' ' ')
if [ "$idbs" = "net:net_dev_start_xmit net:netif_receive_skb skb:kfree_skb " ]; then
	ok "pcapng interfaces: $idbs"
else
	not_ok "pcapng interfaces are '$idbs'"
fi
for probe in net:net_dev_start_xmit net:netif_receive_skb skb:kfree_skb; do
	n=$(grep -c "^$probe|" "$W/multi.fields")
	[ "$n" -eq 3 ] && ok "$probe: 3 records" || not_ok "$probe: $n records, want 3"
done
# Drop reasons: on every kfree_skb record, on no other.
if [ "$(grep '^skb:kfree_skb|' "$W/multi.fields" | grep -c ' drop=NO_SOCKET')" -eq 3 ] &&
	! grep -v '^skb:kfree_skb|' "$W/multi.fields" | grep -q 'drop='; then
	ok "drop=NO_SOCKET on the 3 kfree_skb records only"
else
	not_ok "drop reasons wrong"
fi
# One skb address per datagram (its payload), the same at all three probes
# (addresses may repeat across datagrams: the slab reuses a freed sk_buff).
per_datagram=$(awk -F'|' '{ if (match($2, /skb=0x[0-9a-f]+/)) print $3, substr($2, RSTART, RLENGTH) }' \
	"$W/multi.fields" | sort | uniq -c | awk '{ print $2, $1 }' | sort)
if [ "$(awk '$2 == 3' <<<"$per_datagram" | wc -l)" -eq 3 ] && [ "$(wc -l <<<"$per_datagram")" -eq 3 ]; then
	ok "each datagram has one skb address at all three probes"
else
	not_ok "skb addresses per datagram (payload, count): $(tr '\n' ' ' <<<"$per_datagram")"
fi
# Device, namespace, process: the sender's side in the peer namespace, sent
# by the python process; the rest on the capture side.
comment_has() { # probe pattern count-wanted what
	local n
	n=$(grep "^$1|" "$W/multi.fields" | grep -cE -- "$2")
	[ "$n" -eq "$3" ] && ok "$1: $4" || not_ok "$1: $4 ($n of $3 records)"
}
# (A device of another namespace has no name here, or its own.)
comment_has net:net_dev_start_xmit "dev=$PEER_IFINDEX(\\($IF_PEER\\))? netns=$PEER_INODE .*pid=$SENDER comm=python3[.0-9]* " 3 \
	"dev, peer netns, sender pid and comm"
comment_has net:netif_receive_skb "dev=$CAP_IFINDEX\\($IF_CAP\\) netns=$CAP_INODE cpu=[0-9]+ " 3 "dev, its name and capture netns"
comment_has skb:kfree_skb "dev=$CAP_IFINDEX\\($IF_CAP\\) netns=$CAP_INODE cpu=[0-9]+ " 3 "dev, its name and capture netns"
# -S: symbolized kernel stacks, through the UDP receive path at kfree_skb.
comment_has skb:kfree_skb "stack: .*udp.*_rcv" 3 "stack through the UDP receive path"
comment_has net:net_dev_start_xmit "stack: .*dev_queue_xmit" 3 "stack through dev_queue_xmit"

[ "$failures" -eq 0 ] || fail "$failures checks failed"
echo "PASS: net_dev_start_xmit against tcpdump -Q out, kfree_skb drop reasons, three probes in one pcapng" >&2
