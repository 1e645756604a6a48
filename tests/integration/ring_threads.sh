#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# --threads N: N sockets in one PACKET_FANOUT group, one output. With the
# default hash fanout every packet of a multi-flow test is written exactly
# once and each flow's packets keep their order; the other fanout modes
# must not lose or duplicate packets either.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump python3 ip
require_capx
W=$(work_dir)
make_pair thr
FLOWS=16
PER_FLOW=300

send_flows() {
	in_peer python3 - "$IP_CAP" "$FLOWS" "$PER_FLOW" <<'PY'
import socket, sys, time
dst, flows, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for f in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", 20000 + f))
    socks.append(s)
for i in range(per):
    for f, s in enumerate(socks):
        s.sendto(b"%d:%d:" % (f, i) + b"." * 64, (dst, 7000))
    time.sleep(0.001)
PY
}

# flow_check FILE ordered|any: no packet twice, and with `ordered` each
# flow in sending order; prints the count. Completeness is checked against
# tcpdump's capture (every packet tcpdump has, capx has).
flow_check() {
	python3 - "$1" "$FLOWS" "$PER_FLOW" "$2" <<'PY'
import struct, sys
path, flows, per, ordered = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "ordered"
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
assert magic in (0xa1b2c3d4, 0xa1b23c4d), "not a little-endian pcap"
off, seen, bad = 24, {f: [] for f in range(flows)}, 0
while off + 16 <= len(data):
    _, _, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    if pkt[12:14] != b"\x08\x00" or pkt[23] != 17:
        continue
    ihl = (pkt[14] & 15) * 4
    payload = pkt[14 + ihl + 8:]
    f, i = payload.split(b":")[:2]
    seen[int(f)].append(int(i))
for f, seq in seen.items():
    if len(seq) != len(set(seq)):
        print("flow %d: %d packets, some twice" % (f, len(seq)), file=sys.stderr)
        bad += 1
    elif ordered and seq != sorted(seq):
        print("flow %d: %d packets, out of order" % (f, len(seq)), file=sys.stderr)
        bad += 1
print(sum(len(s) for s in seen.values()))
sys.exit(1 if bad else 0)
PY
}

failures=0
for mode in hash lb cpu rollover; do
	start_in "$NS_CAP" tcpdump -i "$IF_CAP" -s 0 --immediate-mode -U -w "$W/full-$mode.pcap" udp port 7000
	TD=$BG_PID
	start_in "$NS_CAP" "$CAPX" -v ring -i "$IF_CAP" --threads 2 --fanout "$mode" -w "$W/$mode.pcap" \
		udp port 7000 2>"$W/$mode.err"
	CAP=$BG_PID
	wait_sockets "$NS_CAP" 3
	in_peer ping -c 1 -q "$IP_CAP" >/dev/null # resolve ARP before the burst
	send_flows
	sleep 1
	kill -INT "$CAP" "$TD"
	wait_exit "$CAP" 10
	wait_exit "$TD" 10
	want=$((FLOWS * PER_FLOW))
	full=$(packet_count "$W/full-$mode.pcap")
	# Loss between the namespaces or in tcpdump is tolerated, a little.
	[ "$full" -ge $((want * 9 / 10)) ] || fail "$mode: tcpdump itself saw only $full of $want packets"
	order=any
	[ "$mode" = hash ] && order=ordered
	if ! got=$(flow_check "$W/$mode.pcap" "$order"); then
		not_ok "--fanout $mode: a packet written twice, or a flow out of order"
		continue
	fi
	# Both sockets of the group took part (capx -v logs each one's count);
	# cpu and rollover may rightly leave one idle (veth delivers on the
	# sender's CPU; rollover moves on only when a ring is full).
	for n in 0 1; do
		[ "$mode" = hash ] || [ "$mode" = lb ] || break
		grep -Eq "socket $n: [1-9][0-9]* packets" "$W/$mode.err" ||
			fail "--fanout $mode: socket $n received nothing: $(cat "$W/$mode.err")"
	done
	missing=$(comm -23 <(packet_lines "$W/full-$mode.pcap") <(packet_lines "$W/$mode.pcap") | wc -l)
	if [ "$missing" -eq 0 ] && [ "$got" -ge "$full" ]; then
		ok "--threads 2 --fanout $mode: $got packets (tcpdump: $full), none twice$([ "$order" = ordered ] && echo ", flows in order")"
	else
		not_ok "--threads 2 --fanout $mode: $got packets, $missing of tcpdump's $full missing"
		cat "$W/$mode.err" >&2
	fi
done
[ "$failures" -eq 0 ] || fail "$failures fanout modes failed"
echo "PASS: --threads 2 writes every packet once, flows in order" >&2
