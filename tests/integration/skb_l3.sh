#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Packets without a MAC header: a TUN device (IFF_TUN, no packet info) hands
# what is written into it to netif_receive_skb() with mac_header ==
# network_header (tun_get_user() in drivers/net/tun.c), so capx skb writes
# them behind a made-up Ethernet header: 12 zero bytes and the type from
# skb->protocol. Checked: after those 14 bytes, every packet is what the test
# wrote, with its length; the expression is the RAW-compiled one, so each
# expression keeps what `tcpdump -r` keeps from a LINKTYPE_RAW file of the
# written packets (`len` counts from the network header); an expression that needs a link-layer header matches
# nothing here and says so once.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd tcpdump python3 ip
require_capx
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
W=$(work_dir)

NET=$(( ($$ % 200) + 20 ))
NS="capx-skbl3-$$"
TUN="tun$$"
ip netns add "$NS" || skip "cannot create network namespaces"
LIB_NETNS+=("$NS")
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
	net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.addr_gen_mode=1 >/dev/null
ip -n "$NS" tuntap add mode tun name "$TUN" || skip "cannot create a TUN device"
ip -n "$NS" addr add "10.$NET.0.1/24" dev "$TUN"
ip -n "$NS" addr add "fd00:$NET::1/64" dev "$TUN" nodad
ip -n "$NS" link set "$TUN" up

# The packets, as hex lines; and the same as a LINKTYPE_RAW pcap, the oracle
# for the expressions.
python3 - "$NET" "$W/sent.hex" "$W/sent_raw.pcap" <<'PY'
import struct, sys
net, hexfile, pcapfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def ipv4(proto, src, dst, payload, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0, ttl, proto, 0,
                    bytes([10, net, 0, src]), bytes([10, net, 0, dst]))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
def ipv6(nh, src, dst, payload):
    a = lambda h: bytes.fromhex("fd00%04x" % net) + bytes(11) + bytes([h])
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, 64) + a(src) + a(dst) + payload
udp = lambda sp, dp, d: struct.pack("!HHHH", sp, dp, 8 + len(d), 0) + d
tcp = lambda sp, dp, fl: struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 5 << 4, fl, 8192, 0, 0)
icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
packets = [
    ipv4(1, 2, 1, icmp),
    ipv4(1, 3, 1, icmp, ttl=32),
    ipv4(17, 2, 1, udp(4000, 53, b"dns?")),
    ipv4(17, 2, 1, udp(4001, 9999, b"CXG1" + bytes(1200))),
    ipv4(6, 2, 1, tcp(5000, 80, 0x02)),
    ipv4(6, 3, 1, tcp(5001, 80, 0x10)),
    ipv6(58, 2, 1, struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"ping6"),
    ipv6(17, 2, 1, udp(4002, 53, b"dns6?")),
    ipv6(6, 3, 1, tcp(5002, 443, 0x02)),
]
with open(hexfile, "w") as f:
    for p in packets:
        f.write(p.hex() + "\n")
with open(pcapfile, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))  # LINKTYPE_RAW
    for i, p in enumerate(packets):
        f.write(struct.pack("<IIII", 1000 + i, 0, len(p), len(p)) + p)
PY
[ "$(pcap_records "$W/sent_raw.pcap" | wc -l)" -eq 9 ] || fail "tcpdump cannot read the LINKTYPE_RAW oracle"

EXPRS=(
	""
	"icmp"
	"udp port 53"
	"host 10.$NET.0.3"
	"ip6"
	"icmp6"
	"tcp[tcpflags] & tcp-syn != 0"
	"ip[8] == 32"
	"not udp"
	"src net 10.$NET.0.0/24 and udp"
	"udp[8:4] = 0x43584731"
	"greater 1000"
	"len <= 32"
	"ip6 and dst port 443"
)
PIDS=()
capx_skb() { # out-file err-file args...
	local out=$1 err=$2
	shift 2
	start_in "$NS" "$CAPX" skb -f tp:net:netif_receive_skb -i "$TUN" --netns "/run/netns/$NS" \
		-B 256 -w "$out" "$@" 2>"$err"
	PIDS+=("$BG_PID")
}
for i in "${!EXPRS[@]}"; do
	capx_skb "$W/capx$i.pcap" "$W/capx$i.err" -e "${EXPRS[$i]}"
done
capx_skb "$W/ether.pcap" "$W/ether.err" -e "ether host 02:00:00:00:00:01 or ether broadcast"
for p in "${PIDS[@]}"; do
	wait_attached "$p" 1
done

ip netns exec "$NS" python3 - "$TUN" "$W/sent.hex" <<'PY' || fail "cannot write into the TUN device"
import fcntl, os, struct, sys
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000  # include/uapi/linux/if_tun.h
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))
for line in open(sys.argv[2]):
    os.write(fd, bytes.fromhex(line.strip()))
PY
sleep 1
kill -INT "${PIDS[@]}"
for p in "${PIDS[@]}"; do
	wait_exit "$p" 20
	[ "$EXIT_STATUS" -eq 0 ] || fail "capx exited $EXIT_STATUS"
done

# capx's records without the made-up header: "WIRE_LEN CAP_LEN HEX" as
# written; a bad header prints a line that matches no written packet.
strip_header() {
	awk '{
		eth = substr($3, 1, 28); ip = substr($3, 29)
		v = substr(ip, 1, 1)
		want = "000000000000000000000000" (v == "4" ? "0800" : v == "6" ? "86dd" : "????")
		if (eth != want) print "bad-header", eth, ip
		else print $1 - 14, $2 - 14, ip
	}' | sort
}

failures=0
for i in "${!EXPRS[@]}"; do
	e=${EXPRS[$i]}
	is_valid_pcap "$W/capx$i.pcap" || { failures=$((failures + 1)); continue; }
	pcap_records "$W/sent_raw.pcap" $e >"$W/want$i"
	pcap_records "$W/capx$i.pcap" | strip_header >"$W/got$i"
	n=$(grep -c . "$W/want$i")
	if [ "$n" -eq 0 ]; then
		not_ok "'$e': no written packet matches (test gap)"
	elif cmp -s "$W/want$i" "$W/got$i"; then
		ok "'$e' ($n packets)"
	else
		not_ok "'$e': tcpdump -r of the written packets keeps $n, capx wrote $(grep -c . "$W/got$i"):"
		diff "$W/want$i" "$W/got$i" | cut -c1-150 | head -6 >&2
	fi
done
# The first capture took every packet: all flagged L3 by their header, and
# tcpdump decodes them through the Ethernet header (IPv4 and IPv6).
if [ "$(tcpdump -r "$W/capx0.pcap" -nn ip 2>/dev/null | wc -l)" -eq 6 ] &&
	[ "$(tcpdump -r "$W/capx0.pcap" -nn ip6 2>/dev/null | wc -l)" -eq 3 ]; then
	ok "tcpdump reads the synthesized headers as 6 IPv4 and 3 IPv6 packets"
else
	not_ok "tcpdump does not decode the synthesized headers as 6 IPv4 and 3 IPv6"
fi
# A link-layer expression cannot apply without a link layer: nothing, and
# one warning (not one per packet).
warnings=$(grep -v -E '^[0-9]+ packets? ' "$W/ether.err" | grep -c '^capx: ')
if [ "$(packet_count "$W/ether.pcap")" -eq 0 ] && [ "$warnings" -eq 1 ] &&
	grep -q '^capx: .*\(L3\|link\|ether\|MAC\)' "$W/ether.err"; then
	ok "link-layer expression: nothing captured, one warning: $(grep '^capx: ' "$W/ether.err" | head -1)"
else
	not_ok "link-layer expression: $(packet_count "$W/ether.pcap") packets, $warnings warnings:"
	sed 's/^/    /' "$W/ether.err" >&2
fi
# The other captures warned about nothing.
for i in "${!EXPRS[@]}"; do
	if grep -v -E '^[0-9]+ packets? ' "$W/capx$i.err" | grep -q '^capx: .*\(warn\|L3\|link-layer\)'; then
		not_ok "'${EXPRS[$i]}' warned: $(grep '^capx: ' "$W/capx$i.err" | head -1)"
	fi
done

[ "$failures" -eq 0 ] || fail "$failures checks failed"
echo "PASS: ${#EXPRS[@]} RAW-compiled expressions on L3 packets, synthesized headers, the link-layer warning" >&2
