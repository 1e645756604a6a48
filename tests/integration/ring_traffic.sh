# SPDX-License-Identifier: GPL-2.0-only
# Traffic shared by the ring tests (sourced after lib.sh and make_pair):
# ARP, ICMP, ICMPv6/ND, UDP, a TCP exchange with payload, large and small
# frames, and VLAN-tagged frames: received with the tag (the kernel strips
# it into metadata on the way in), 802.1ad outer tags, and frames sent from
# the capture side with the tag inline.

# vlan_frames: hex lines of crafted tagged frames from the peer to the
# capture side; $1 = "out" for frames sent by the capture side instead.
vlan_frames() {
	python3 - "$MAC_PEER" "$MAC_CAP" "$NET" "${1:-in}" <<'PY'
import struct, sys
src_mac, dst_mac, net, way = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if way == "out":
    src_mac, dst_mac = dst_mac, src_mac
mac = lambda m: bytes.fromhex(m.replace(":", ""))

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def ipv4(proto, src, dst, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def udp(sp, dp, data):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data

def tcp(sp, dp, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, 1000, 0, 5 << 4, flags, 8192, 0, 0) + data

def tags(*t):
    return b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in t)

def frame(tag_list, ethertype, payload):
    return mac(dst_mac) + mac(src_mac) + tags(*tag_list) + struct.pack("!H", ethertype) + payload

a = lambda vid, host: [10, net, vid, host]
peer, cap = (2, 1) if way == "in" else (1, 2)
frames = [
    frame([(0x8100, 10)], 0x0800, ipv4(17, a(10, peer), a(10, cap), udp(1000, 2000, b"hello-vlan"))),
    frame([(0x8100, 20)], 0x0800, ipv4(6, a(20, peer), a(20, cap), tcp(1234, 80, 0x02))),
    frame([(0x8100, 10)], 0x0800, ipv4(1, a(10, peer), a(10, cap), b"\x08\x00\xf7\xfe\x00\x01\x00\x00")),
    frame([(0x8100, 10)], 0x0800, ipv4(17, a(10, peer), a(10, cap), udp(1000, 2000, b"x" * 1200))),
    frame([(0x88a8, 100), (0x8100, 10)], 0x0800, ipv4(17, a(10, peer), a(10, cap), udp(3000, 2000, b"qinq"))),
    frame([(0x8100, 0x2000 | 30)], 0x0806, bytes.fromhex("0001080006040001") + mac(src_mac) +
          bytes(a(30, peer)) + bytes(6) + bytes(a(30, cap))),
]
for f in frames:
    print(f.hex())
PY
}

# tcp_exchange: one TCP connection peer -> capture side on port 8080 with
# "hello capx" one way and "bye" the other. The client connects once the
# server says it listens (a fixed sleep lost that race on a loaded machine:
# the SYN met a RST and the data packets never came).
tcp_exchange() {
	local ready="$LIB_WORK/tcp_exchange.ready" i
	rm -f "$ready"
	in_cap python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in "'"$IP_CAP"'" else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$IP_CAP"'", 8080)); s.listen(1); s.settimeout(10)
open(sys.argv[1], "w").close()
c, _ = s.accept(); c.recv(100); c.sendall(b"bye"); c.close()' "$ready" &
	local server=$!
	for i in $(seq 100); do
		[ -e "$ready" ] && break
		sleep 0.1
	done
	[ -e "$ready" ] || fail "tcp_exchange: the server did not listen within 10 s"
	in_peer python3 -c '
import socket
c = socket.create_connection(("'"$IP_CAP"'", 8080), timeout=10)
c.sendall(b"hello capx"); c.recv(100); c.close()'
	wait "$server"
}

# all_traffic: everything above, with a moment at the end for rings to retire.
all_traffic() {
	in_peer ping -c 3 -i 0.2 -q "$IP_CAP" >/dev/null
	in_peer ping -c 1 -s 1200 -q "$IP_CAP" >/dev/null
	in_peer ping -6 -c 2 -i 0.2 -q "$IP6_CAP" >/dev/null
	if command -v arping >/dev/null; then
		in_peer arping -q -c 2 -w 2 -I "$IF_PEER" "$IP_CAP" >/dev/null
	fi
	in_peer bash -c "echo hello > /dev/udp/$IP_CAP/5000; echo dns > /dev/udp/$IP_CAP/5353"
	tcp_exchange
	vlan_frames in | send_frames "$NS_PEER" "$IF_PEER"
	vlan_frames out | send_frames "$NS_CAP" "$IF_CAP"
	sleep 1
}
