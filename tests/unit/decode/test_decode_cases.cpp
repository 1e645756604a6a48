// SPDX-License-Identifier: GPL-2.0-only
// The decoder and the text sink on hand-built packets: each header shape
// that matters (QinQ, IPv6 extension chains, IPv4 fragments and options,
// truncation at every layer, cooked headers) with the exact line expected.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <initializer_list>
#include <regex>
#include <string>
#include <vector>

#include "core/packet.hpp"
#include "output/decode/decode.hpp"
#include "output/text_sink.hpp"

using namespace capx;

namespace {

using Packet = std::vector<std::uint8_t>;

void add(Packet &p, std::initializer_list<std::uint8_t> bytes) { p.insert(p.end(), bytes); }
void add(Packet &p, const Packet &more) { p.insert(p.end(), more.begin(), more.end()); }
void add16(Packet &p, std::uint16_t v) { add(p, {std::uint8_t(v >> 8), std::uint8_t(v)}); }
void add32(Packet &p, std::uint32_t v)
{
	add16(p, std::uint16_t(v >> 16));
	add16(p, std::uint16_t(v));
}

Packet ethernet(std::uint16_t type, const Packet &payload)
{
	Packet p;
	add(p, {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01});
	add16(p, type);
	add(p, payload);
	return p;
}

Packet vlan_tag(std::uint16_t tci, std::uint16_t inner_type, const Packet &payload)
{
	Packet p;
	add16(p, tci);
	add16(p, inner_type);
	add(p, payload);
	return p;
}

// 10.0.0.1 > 10.0.0.2, id 0x1234.
Packet ipv4(std::uint8_t proto, const Packet &payload, std::uint16_t frag = 0, Packet options = {})
{
	Packet p;
	std::size_t hlen = 20 + options.size();
	add(p, {std::uint8_t(0x40 | hlen / 4), 0});
	add16(p, std::uint16_t(hlen + payload.size()));
	add16(p, 0x1234);
	add16(p, frag);
	add(p, {64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
	add(p, options);
	add(p, payload);
	return p;
}

const Packet kAddr6Src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Packet kAddr6Dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

Packet ipv6(std::uint8_t next, const Packet &payload, const Packet &src = kAddr6Src,
	    const Packet &dst = kAddr6Dst)
{
	Packet p;
	add(p, {0x60, 0, 0, 0});
	add16(p, std::uint16_t(payload.size()));
	add(p, {next, 64});
	add(p, src);
	add(p, dst);
	add(p, payload);
	return p;
}

// An 8-byte IPv6 option header (hop-by-hop, destination options) with PadN.
Packet option_header(std::uint8_t next)
{
	return {next, 0, 1, 4, 0, 0, 0, 0};
}

Packet tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
	   std::uint8_t flags, std::size_t payload_len = 0, Packet options = {})
{
	Packet p;
	add16(p, sport);
	add16(p, dport);
	add32(p, seq);
	add32(p, ack);
	add(p, {std::uint8_t((20 + options.size()) / 4 << 4), flags});
	add16(p, 64240);
	add(p, {0, 0, 0, 0});
	add(p, options);
	p.resize(p.size() + payload_len, 'x');
	return p;
}

Packet udp(std::uint16_t sport, std::uint16_t dport, std::size_t payload_len, std::uint16_t length = 0)
{
	Packet p;
	add16(p, sport);
	add16(p, dport);
	add16(p, length ? length : std::uint16_t(8 + payload_len));
	add16(p, 0);
	p.resize(p.size() + payload_len, 'u');
	return p;
}

Packet icmp_echo(std::uint8_t type, std::uint16_t id, std::uint16_t seq)
{
	Packet p;
	add(p, {type, 0, 0, 0});
	add16(p, id);
	add16(p, seq);
	return p;
}

Packet arp_request()
{
	Packet p;
	add(p, {0, 1, 8, 0, 6, 4, 0, 1});
	add(p, {0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1});
	add(p, {0, 0, 0, 0, 0, 0, 10, 0, 0, 2});
	return p;
}

std::string decode(std::uint16_t linktype, const Packet &p, std::uint32_t wire_len = 0)
{
	std::string line;
	decode_packet(line, linktype, p, wire_len ? wire_len : std::uint32_t(p.size()));
	return line;
}

Packet cut(Packet p, std::size_t n)
{
	p.resize(n);
	return p;
}

} // namespace

TEST_CASE("Ethernet, IPv4, TCP", "[decode]")
{
	auto syn = ethernet(0x0800, ipv4(6, tcp(1234, 80, 1, 0, 0x02)));
	CHECK(decode(kLinkEthernet, syn) == "IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [S], seq 1, win 64240, length 0");

	auto data = ethernet(0x0800, ipv4(6, tcp(80, 1234, 1000, 2000, 0x18, 100)));
	CHECK(decode(kLinkEthernet, data) ==
	      "IP 10.0.0.1.80 > 10.0.0.2.1234: Flags [P.], seq 1000:1100, ack 2000, win 64240, length 100");

	auto all_flags = ethernet(0x0800, ipv4(6, tcp(1, 2, 5, 6, 0xff)));
	CHECK(decode(kLinkEthernet, all_flags) ==
	      "IP 10.0.0.1.1 > 10.0.0.2.2: Flags [FSRP.UEW], seq 5, ack 6, win 64240, urg 0, length 0");

	auto options = ethernet(0x0800, ipv4(6, tcp(1, 2, 7, 0, 0x02, 0,
		{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7})));
	CHECK(decode(kLinkEthernet, options) ==
	      "IP 10.0.0.1.1 > 10.0.0.2.2: Flags [S], seq 7, win 64240, "
	      "options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0");

	// Ethernet padding after a short IP packet is not payload.
	auto padded = syn;
	padded.resize(60, 0);
	CHECK(decode(kLinkEthernet, padded) == decode(kLinkEthernet, syn));
}

TEST_CASE("IPv4 options are skipped by their length", "[decode]")
{
	Packet router_alert = {148, 4, 0, 0};
	auto p = ethernet(0x0800, ipv4(17, udp(53, 5353, 4), 0, router_alert));
	CHECK(decode(kLinkEthernet, p) == "IP 10.0.0.1.53 > 10.0.0.2.5353: UDP, length 4");
}

TEST_CASE("IPv4 fragments", "[decode]")
{
	// First fragment: the transport header is there; UDP's own length says
	// more follows, which is what tcpdump reports too.
	auto first = ethernet(0x0800, ipv4(17, udp(53, 5353, 16, 1008), 0x2000));
	CHECK(decode(kLinkEthernet, first) ==
	      "IP 10.0.0.1.53 > 10.0.0.2.5353: UDP, bad length 1000 > 16 (frag 4660:24@0+)");
	// A later fragment has no ports: its protocol and place.
	Packet chunk(40, 'f');
	auto later = ethernet(0x0800, ipv4(17, chunk, 185)); // offset 1480, last
	CHECK(decode(kLinkEthernet, later) == "IP 10.0.0.1 > 10.0.0.2: udp (frag 4660:40@1480)");
	auto middle = ethernet(0x0800, ipv4(47, chunk, 0x2000 | 10));
	CHECK(decode(kLinkEthernet, middle) == "IP 10.0.0.1 > 10.0.0.2: gre (frag 4660:40@80+)");
}

TEST_CASE("802.1Q, QinQ and old QinQ tags", "[decode][vlan]")
{
	auto arp = "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28";
	auto single = ethernet(0x8100, vlan_tag(0x6064, 0x0806, arp_request())); // p 3, vid 100
	CHECK(decode(kLinkEthernet, single) == std::string("vlan 100, p 3, ") + arp);

	auto qinq = ethernet(0x88a8, vlan_tag(200, 0x8100, vlan_tag(0x17d1, 0x0806, arp_request())));
	CHECK(decode(kLinkEthernet, qinq) == std::string("vlan 200, p 0, vlan 2001, p 0, DEI, ") + arp);

	auto old_qinq = ethernet(0x9100, vlan_tag(5, 0x8100, vlan_tag(6, 0x0800,
		ipv4(1, icmp_echo(8, 1, 2)))));
	CHECK(decode(kLinkEthernet, old_qinq) ==
	      "vlan 5, p 0, vlan 6, p 0, IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 8");

	CHECK(decode(kLinkEthernet, cut(qinq, 16)) == "[|vlan]");
	CHECK(decode(kLinkEthernet, cut(qinq, 20)) == "vlan 200, p 0, [|vlan]");
}

TEST_CASE("ARP reply and unknown EtherTypes", "[decode]")
{
	Packet reply;
	add(reply, {0, 1, 8, 0, 6, 4, 0, 2});
	add(reply, {0x02, 0, 0, 0, 0, 0x02, 10, 0, 0, 2});
	add(reply, {0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1});
	CHECK(decode(kLinkEthernet, ethernet(0x0806, reply)) ==
	      "ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:02, length 28");
	CHECK(decode(kLinkEthernet, ethernet(0x88cc, Packet(46, 0))) == "ethertype 0x88cc, length 46");
	CHECK(decode(kLinkEthernet, ethernet(0x0806, cut(reply, 20))) == "ARP, Reply [|arp]");
}

TEST_CASE("IPv6 extension header chains", "[decode][ipv6]")
{
	// HBH -> DSTOPT -> routing (type 4, segleft 1) -> fragment (first) -> UDP
	Packet chain = option_header(60);
	add(chain, option_header(43));
	add(chain, {44, 2, 4, 1, 0, 0, 0, 0});
	chain.insert(chain.end(), 16, 0);
	add(chain, {17, 0, 0x00, 0x01, 0xca, 0xfe, 0xf0, 0x0d});
	add(chain, udp(53, 5353, 4));
	CHECK(decode(kLinkEthernet, ethernet(0x86dd, ipv6(0, chain))) ==
	      "IP6 2001:db8::1 > 2001:db8::2: HBH DSTOPT RT6 (len=2, type=4, segleft=1) "
	      "frag (id 0xcafef00d, 0|12+) 53 > 5353: UDP, length 4");

	// A later fragment stops at the fragment header.
	Packet later = {6, 0, 0x05, 0xa8, 0, 0, 0, 7};
	later.resize(later.size() + 100, 'z');
	CHECK(decode(kLinkEthernet, ethernet(0x86dd, ipv6(44, later))) ==
	      "IP6 2001:db8::1 > 2001:db8::2: frag (id 0x00000007, 1448|100) tcp");

	// ESP: encrypted from there on.
	Packet esp = {0, 0, 1, 0, 0, 0, 0, 9};
	esp.resize(40, 0);
	CHECK(decode(kLinkEthernet, ethernet(0x86dd, ipv6(0, [&] {
		Packet p = option_header(50);
		add(p, esp);
		return p;
	}()))) == "IP6 2001:db8::1 > 2001:db8::2: HBH ESP(spi=0x00000100,seq=0x9), length 40");

	// TCP directly after the fixed header prints addresses with the ports.
	CHECK(decode(kLinkEthernet, ethernet(0x86dd, ipv6(6, tcp(443, 5000, 9, 10, 0x11)))) ==
	      "IP6 2001:db8::1.443 > 2001:db8::2.5000: Flags [F.], seq 9, ack 10, win 64240, length 0");
	CHECK(decode(kLinkEthernet, ethernet(0x86dd, ipv6(59, {}))) ==
	      "IP6 2001:db8::1 > 2001:db8::2: no next header");
	CHECK(decode(kLinkEthernet, ethernet(0x86dd, ipv6(253, Packet(12, 0)))) ==
	      "IP6 2001:db8::1 > 2001:db8::2: ip-proto-253, length 12");

	// A header whose length runs past the packet.
	Packet liar = {17, 200, 0, 0, 0, 0, 0, 0};
	CHECK(decode(kLinkEthernet, ethernet(0x86dd, ipv6(0, liar))) ==
	      "IP6 2001:db8::1 > 2001:db8::2: HBH [bad header length 1608 > 8]");
	// The chain cut inside the second header.
	auto p = ethernet(0x86dd, ipv6(0, chain));
	CHECK(decode(kLinkEthernet, cut(p, 14 + 40 + 8 + 2), std::uint32_t(p.size())) == "IP6 2001:db8::1 > 2001:db8::2: HBH DSTOPT [|dstopt]");
}

TEST_CASE("ICMPv6 neighbor discovery and echo", "[decode][ipv6]")
{
	Packet ns = {135, 0, 0, 0, 0, 0, 0, 0};
	add(ns, kAddr6Dst);
	Packet all_nodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	CHECK(decode(kLinkRaw, ipv6(58, ns, kAddr6Src, all_nodes)) ==
	      "IP6 2001:db8::1 > ff02::1: ICMP6, neighbor solicitation, who has 2001:db8::2, length 24");
	Packet na = {136, 0, 0, 0, 0x60, 0, 0, 0};
	add(na, kAddr6Src);
	CHECK(decode(kLinkRaw, ipv6(58, na)) ==
	      "IP6 2001:db8::1 > 2001:db8::2: ICMP6, neighbor advertisement, tgt is 2001:db8::1, length 24");
	CHECK(decode(kLinkRaw, ipv6(58, icmp_echo(128, 7, 8))) ==
	      "IP6 2001:db8::1 > 2001:db8::2: ICMP6, echo request, id 7, seq 8, length 8");
	CHECK(decode(kLinkRaw, ipv6(58, Packet{133, 0, 0, 0, 0, 0, 0, 0})) ==
	      "IP6 2001:db8::1 > 2001:db8::2: ICMP6, router solicitation, length 8");
	CHECK(decode(kLinkRaw, cut(ipv6(58, ns), 40 + 12), 40 + 24) ==
	      "IP6 2001:db8::1 > 2001:db8::2: ICMP6, neighbor solicitation, who has [|icmp6]");
}

TEST_CASE("ICMP unreachable quotes the lost packet", "[decode]")
{
	Packet unreach = {3, 3, 0, 0, 0, 0, 0, 0};
	add(unreach, ipv4(17, udp(40000, 53, 0)));
	CHECK(decode(kLinkRaw, ipv4(1, unreach)) ==
	      "IP 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.2 udp port 53 unreachable, length 36");
}

TEST_CASE("truncation at each layer prints what was captured", "[decode][truncated]")
{
	auto p = ethernet(0x0800, ipv4(6, tcp(1234, 80, 1, 0, 0x02, 0, {2, 4, 0x05, 0xb4})));
	CHECK(decode(kLinkEthernet, cut(p, 10)) == "[|ether]");
	CHECK(decode(kLinkEthernet, cut(p, 14 + 10), 80) == "IP [|ip]");
	CHECK(decode(kLinkEthernet, cut(p, 14 + 20 + 2), 80) == "IP 10.0.0.1 > 10.0.0.2: [|tcp]");
	CHECK(decode(kLinkEthernet, cut(p, 14 + 20 + 10), 80) == "IP 10.0.0.1.1234 > 10.0.0.2.80: [|tcp]");
	// Options cut: the fixed header is printed, then the marker.
	CHECK(decode(kLinkEthernet, cut(p, 14 + 20 + 22), 80) ==
	      "IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [S], seq 1, win 64240 [|tcp]");
	// The snaplen cut the packet; the IP header still tells its full size.
	auto big = ethernet(0x0800, ipv4(17, udp(1, 2, 1000)));
	CHECK(decode(kLinkEthernet, cut(big, 64), std::uint32_t(big.size())) ==
	      "IP 10.0.0.1.1 > 10.0.0.2.2: UDP, length 1000");
	// The wire length is shorter than the IP header says.
	CHECK(decode(kLinkEthernet, cut(big, 64), 64) ==
	      "IP truncated-ip - 978 bytes missing! 10.0.0.1.1 > 10.0.0.2.2: UDP, bad length 1000 > 22");
}

TEST_CASE("Linux cooked headers", "[decode][sll]")
{
	auto ping = ipv4(1, icmp_echo(8, 1, 2));
	Packet sll2;
	add16(sll2, 0x0800);
	add16(sll2, 0);
	add32(sll2, 3);
	add(sll2, {0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0});
	add(sll2, ping);
	CHECK(decode(kLinkLinuxSll2, sll2) ==
	      "ifindex 3 Out IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 8");
	CHECK(decode(kLinkLinuxSll2, cut(sll2, 19)) == "[|sll2]");

	Packet sll;
	add(sll, {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0});
	add16(sll, 0x86dd);
	add(sll, ipv6(17, udp(1, 2, 0)));
	CHECK(decode(kLinkLinuxSll, sll) == "In IP6 2001:db8::1.1 > 2001:db8::2.2: UDP, length 0");

	CHECK(decode(kLinkRaw, Packet{0x50, 0}) == "ip v5, length 2");
	CHECK(decode(999, Packet{1, 2, 3}) == "linktype 999, length 3");
}

TEST_CASE("text sink writes time, capture point, direction, decode, metadata", "[decode][sink]")
{
	int fds[2];
	REQUIRE(::pipe(fds) == 0);
	auto sink = make_text_sink(fds[1], true);
	CapturePoint point;
	point.name = "eth0";
	std::vector<CapturePoint> points{point};
	REQUIRE(sink->begin(points));

	auto p = ethernet(0x0800, ipv4(1, icmp_echo(0, 3, 4)));
	PacketView view;
	view.timestamp_ns = 1'700'000'000'123'456'789ull;
	view.wire_len = std::uint32_t(p.size());
	view.data = p;
	view.meta.direction = Direction::Inbound;
	view.meta.cpu = 1;
	REQUIRE(sink->write(view));
	view.meta = {};
	REQUIRE(sink->write(view));
	REQUIRE(sink->finish());
	::close(fds[1]);

	std::string out;
	char buf[4096];
	ssize_t n;
	while ((n = ::read(fds[0], buf, sizeof(buf))) > 0)
		out.append(buf, std::size_t(n));
	::close(fds[0]);
	std::regex expected(
		R"(\d\d:\d\d:\d\d\.123456 eth0 In IP 10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo reply, id 3, seq 4, length 8 \[cpu=1\]
\d\d:\d\d:\d\d\.123456 eth0 IP 10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo reply, id 3, seq 4, length 8
)");
	INFO(out);
	CHECK(std::regex_match(out, expected));
}

TEST_CASE("text sink reports a closed reader as a broken pipe", "[decode][sink]")
{
	::signal(SIGPIPE, SIG_IGN);
	int fds[2];
	REQUIRE(::pipe(fds) == 0);
	::close(fds[0]);
	auto sink = make_text_sink(fds[1], true);
	REQUIRE(sink->begin({}));
	auto p = ethernet(0x0800, ipv4(1, icmp_echo(0, 3, 4)));
	PacketView view;
	view.wire_len = std::uint32_t(p.size());
	view.data = p;
	REQUIRE(sink->write(view)); // buffered: a pipe is not a terminal
	auto flushed = sink->flush();
	REQUIRE_FALSE(flushed);
	CHECK(flushed.error().orderly_end);
	::close(fds[1]);
}
