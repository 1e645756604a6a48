// SPDX-License-Identifier: GPL-2.0-only
#include "packet_corpus.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "output/pcap_reader.hpp"

namespace capx::test {

namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes &b, std::uint32_t v)
{
	b.push_back(static_cast<std::uint8_t>(v >> 8));
	b.push_back(static_cast<std::uint8_t>(v));
}

void put32(Bytes &b, std::uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v & 0xffff);
}

void append(Bytes &b, const Bytes &more) { b.insert(b.end(), more.begin(), more.end()); }

class Generator {
public:
	explicit Generator(unsigned seed) : rng_(seed) {}

	unsigned pick(unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng_); }
	bool chance(unsigned percent) { return pick(100) < percent; }
	std::uint32_t any32() { return static_cast<std::uint32_t>(rng_()); }

	template<typename T, std::size_t N>
	const T &one_of(const std::array<T, N> &a) { return a[pick(N)]; }

	Bytes random_bytes(std::size_t n)
	{
		Bytes b(n);
		for (auto &x : b)
			x = static_cast<std::uint8_t>(rng_());
		return b;
	}

	Bytes mac()
	{
		static const std::array<std::array<std::uint8_t, 6>, 6> macs{{
			{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}, {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb},
			{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
			{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}, {0x00, 0x11, 0x00, 0x00, 0x00, 0x01},
		}};
		if (chance(15))
			return random_bytes(6);
		const auto &m = one_of(macs);
		return Bytes(m.begin(), m.end());
	}

	std::uint32_t ipv4()
	{
		static const std::array<std::uint32_t, 10> a{0x0a000001, 0x0a000002, 0x0a000105, 0xc0a80101,
							     0xac100001, 0xe0000001, 0xffffffff, 0x7f000001,
							     0x0a000000, 0xe00000fb};
		return chance(15) ? any32() : one_of(a);
	}

	Bytes ipv6()
	{
		static const std::array<std::array<std::uint8_t, 16>, 6> a{{
			{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
			{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
			{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
			{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
			{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
			{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1},
		}};
		if (chance(15))
			return random_bytes(16);
		const auto &v = one_of(a);
		return Bytes(v.begin(), v.end());
	}

	std::uint16_t port()
	{
		static const std::array<std::uint16_t, 17> a{80, 443, 53, 22, 1024, 1500, 5353, 8080, 67,
							     68, 9, 7, 123, 33434, 0, 65535, 23};
		return chance(20) ? static_cast<std::uint16_t>(any32()) : one_of(a);
	}

	Bytes payload()
	{
		static const std::array<const char *, 4> texts{"GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n",
								"\x16\x03\x01\x02\x00", "\x01\x00\x00\x01"};
		Bytes b;
		if (chance(40)) {
			std::string t = one_of(texts);
			b.assign(t.begin(), t.end());
		}
		append(b, random_bytes(pick(3) == 0 ? pick(1400) : pick(40)));
		return b;
	}

	Bytes l4(std::uint8_t proto, bool v6)
	{
		Bytes b;
		switch (proto) {
		case 6: {
			put16(b, port());
			put16(b, port());
			put32(b, chance(20) ? 0 : any32());
			put32(b, chance(20) ? 0 : any32());
			unsigned words = chance(70) ? 5 : 5 + pick(11);
			static const std::array<std::uint8_t, 9> flags{0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x01, 0x29, 0xc2};
			b.push_back(static_cast<std::uint8_t>(words << 4));
			b.push_back(chance(10) ? static_cast<std::uint8_t>(any32()) : one_of(flags));
			put16(b, any32() & 0xffff);
			put16(b, chance(50) ? 0 : any32() & 0xffff);
			put16(b, chance(70) ? 0 : any32() & 0xffff);
			for (unsigned i = 5; i < words; i++)
				put32(b, i == 5 ? 0x020405b4 : any32());
			append(b, payload());
			break;
		}
		case 17: {
			Bytes data = payload();
			put16(b, port());
			put16(b, port());
			put16(b, static_cast<std::uint32_t>(8 + data.size()));
			put16(b, chance(50) ? 0 : any32() & 0xffff);
			append(b, data);
			break;
		}
		case 1:
		case 58: {
			static const std::array<std::uint8_t, 8> v4{8, 0, 3, 11, 5, 13, 0, 8};
			static const std::array<std::uint8_t, 8> v6types{128, 129, 135, 136, 133, 134, 1, 3};
			b.push_back(v6 ? one_of(v6types) : one_of(v4));
			b.push_back(static_cast<std::uint8_t>(pick(4)));
			put16(b, any32() & 0xffff);
			put16(b, chance(50) ? 0x1234 : any32() & 0xffff);
			put16(b, any32() & 0xffff);
			append(b, random_bytes(pick(64)));
			break;
		}
		case 2:
			b.push_back(chance(50) ? 0x11 : 0x16);
			b.push_back(0);
			put16(b, 0);
			put32(b, ipv4());
			break;
		case 132:
			put16(b, port());
			put16(b, port());
			put32(b, any32());
			put32(b, 0);
			append(b, random_bytes(pick(32)));
			break;
		default:
			append(b, random_bytes(pick(80)));
		}
		return b;
	}

	std::uint8_t ip_proto()
	{
		static const std::array<std::uint8_t, 14> p{6, 6, 6, 17, 17, 17, 1, 2, 47, 50, 51, 132, 103, 112};
		return chance(5) ? static_cast<std::uint8_t>(any32()) : one_of(p);
	}

	Bytes ipv4_packet()
	{
		std::uint8_t proto = ip_proto();
		Bytes body;
		std::uint8_t next = proto;
		if (proto == 51) {
			// AH, then TCP or UDP (what `ip protochain` walks).
			next = chance(50) ? 6 : 17;
			Bytes ah;
			ah.push_back(next);
			ah.push_back(4); // (4 + 2) * 4 = 24 bytes
			put16(ah, 0);
			append(ah, random_bytes(20));
			append(body, ah);
		}
		append(body, l4(next, false));
		unsigned opt_words = chance(75) ? 0 : 1 + pick(10);
		Bytes b;
		b.push_back(static_cast<std::uint8_t>(chance(3) ? (pick(16) << 4) | pick(16) : 0x40 | (5 + opt_words)));
		b.push_back(chance(20) ? 0xb8 : 0);
		std::uint32_t total = 20 + opt_words * 4 + static_cast<std::uint32_t>(body.size());
		put16(b, chance(5) ? any32() & 0xffff : total);
		put16(b, chance(10) ? 0x1234 : any32() & 0xffff);
		// Fragments: DF, MF, offsets.
		static const std::array<std::uint16_t, 6> frag{0, 0x4000, 0x2000, 0x2010, 0x0010, 0x0000};
		put16(b, chance(5) ? any32() & 0xffff : one_of(frag));
		static const std::array<std::uint8_t, 5> ttls{64, 1, 0, 255, 128};
		b.push_back(one_of(ttls));
		b.push_back(proto);
		put16(b, 0);
		put32(b, ipv4());
		put32(b, ipv4());
		for (unsigned i = 0; i < opt_words; i++)
			put32(b, i == 0 ? 0x94040000 : any32());
		append(b, body);
		return b;
	}

	Bytes ipv6_packet()
	{
		// Extension header chain: hop-by-hop, routing, destination
		// options, fragment, AH, in random order, 0-3 of them.
		static const std::array<std::uint8_t, 5> ext{0, 43, 60, 44, 51};
		static const std::array<std::uint8_t, 7> last{6, 6, 17, 17, 58, 59, 132};
		std::vector<std::uint8_t> chain;
		unsigned n = pick(4);
		for (unsigned i = 0; i < n; i++)
			chain.push_back(one_of(ext));
		std::uint8_t final = chance(5) ? static_cast<std::uint8_t>(any32()) : one_of(last);
		Bytes body;
		for (std::size_t i = 0; i < chain.size(); i++) {
			std::uint8_t nh = i + 1 < chain.size() ? chain[i + 1] : final;
			body.push_back(nh);
			if (chain[i] == 44) {
				body.push_back(0);
				put16(body, chance(50) ? 1 : 0x10);
				put32(body, any32());
			} else if (chain[i] == 51) {
				body.push_back(4);
				put16(body, 0);
				append(body, random_bytes(20));
			} else {
				unsigned len = pick(3);
				body.push_back(static_cast<std::uint8_t>(len));
				append(body, random_bytes(6 + 8 * len));
			}
		}
		append(body, l4(final, true));
		Bytes b;
		put32(b, chance(5) ? any32() : 0x60000000 | (chance(30) ? any32() & 0x0fffffff : 0));
		put16(b, static_cast<std::uint32_t>(body.size()));
		b.push_back(chain.empty() ? final : chain[0]);
		static const std::array<std::uint8_t, 4> hops{64, 255, 1, 0};
		b.push_back(one_of(hops));
		append(b, ipv6());
		append(b, ipv6());
		append(b, body);
		return b;
	}

	Bytes arp_packet()
	{
		Bytes b;
		put16(b, 1);
		put16(b, 0x0800);
		b.push_back(6);
		b.push_back(4);
		put16(b, chance(10) ? any32() & 0xffff : 1 + pick(4));
		append(b, mac());
		put32(b, ipv4());
		append(b, mac());
		put32(b, ipv4());
		return b;
	}

	// An L3 packet and its ethertype.
	std::pair<Bytes, std::uint16_t> l3()
	{
		switch (pick(10)) {
		case 0: case 1: case 2: case 3: return {ipv4_packet(), 0x0800};
		case 4: case 5: case 6: return {ipv6_packet(), 0x86dd};
		case 7: return {arp_packet(), chance(70) ? 0x0806 : 0x8035};
		case 8: {
			Bytes b;
			unsigned labels = 1 + pick(3);
			static const std::array<std::uint32_t, 4> l{100, 200, 0, 3};
			for (unsigned i = 0; i < labels; i++)
				put32(b, (one_of(l) << 12) | (i + 1 == labels ? 0x100 : 0) | 64);
			append(b, chance(80) ? ipv4_packet() : ipv6_packet());
			return {b, chance(90) ? 0x8847 : 0x8848};
		}
		default: {
			static const std::array<std::uint16_t, 8> other{0x88cc, 0x9000, 0x6003, 0x809b, 0x8137, 0x0026, 0x05dc, 0x88a8};
			return {random_bytes(pick(100)), one_of(other)};
		}
		}
	}

	Bytes ethernet_frame()
	{
		Bytes b = mac();
		append(b, mac());
		auto [body, type] = l3();
		// VLAN, QinQ (0x88a8 / 0x9100 outer), with small or random ids.
		unsigned tags = chance(70) ? 0 : 1 + pick(2);
		static const std::array<std::uint16_t, 3> tpids{0x8100, 0x88a8, 0x9100};
		static const std::array<std::uint16_t, 6> vids{10, 20, 100, 200, 4095, 0};
		for (unsigned i = 0; i < tags; i++) {
			put16(b, i + 1 == tags ? 0x8100 : one_of(tpids));
			put16(b, (pick(8) << 13) | one_of(vids));
		}
		put16(b, type);
		append(b, body);
		return b;
	}

private:
	std::mt19937 rng_;
};

// Adds the packet and, sometimes, captures of it cut short.
void add_with_truncations(Generator &g, std::vector<TestPacket> &out, Bytes frame, const std::string &what)
{
	auto wire = static_cast<std::uint32_t>(frame.size());
	if (g.chance(35) && !frame.empty()) {
		for (unsigned n = 0; n < 2; n++) {
			std::size_t cut = g.pick(static_cast<unsigned>(std::min<std::size_t>(frame.size(), 90)));
			out.push_back({Bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(cut)), wire,
				       what + " truncated to " + std::to_string(cut)});
		}
	}
	// Now and then a wire length larger than anything captured (snaplen).
	if (g.chance(5))
		wire += g.pick(3000);
	out.push_back({std::move(frame), wire, what});
}

} // namespace

std::vector<TestPacket> generated_ethernet_packets(unsigned seed)
{
	Generator g(seed);
	std::vector<TestPacket> out;
	for (unsigned i = 0; i < 1200; i++)
		add_with_truncations(g, out, g.ethernet_frame(), "generated ethernet #" + std::to_string(i));
	for (unsigned i = 0; i < 120; i++) {
		Bytes b = g.random_bytes(g.pick(120));
		auto wire = static_cast<std::uint32_t>(b.size() + (g.chance(20) ? g.pick(100) : 0));
		out.push_back({std::move(b), wire, "random bytes #" + std::to_string(i)});
	}
	return out;
}

std::vector<TestPacket> generated_raw_packets(unsigned seed)
{
	Generator g(seed);
	std::vector<TestPacket> out;
	for (unsigned i = 0; i < 500; i++)
		add_with_truncations(g, out, g.chance(55) ? g.ipv4_packet() : g.ipv6_packet(),
				     "generated raw IP #" + std::to_string(i));
	for (unsigned i = 0; i < 50; i++) {
		Bytes b = g.random_bytes(g.pick(80));
		if (!b.empty())
			b[0] = static_cast<std::uint8_t>(g.chance(50) ? 0x40 | (b[0] & 0x0f) : 0x60 | (b[0] & 0x0f));
		auto wire = static_cast<std::uint32_t>(b.size());
		out.push_back({std::move(b), wire, "random raw bytes #" + std::to_string(i)});
	}
	return out;
}

std::vector<TestPacket> shared_pcap_packets(std::uint32_t max_caplen)
{
	std::vector<TestPacket> out;
	const char *root = std::getenv("CAPX_SHARED_PCAPS");
	if (!root)
		return out;
	std::filesystem::path dir = std::filesystem::path(root) / "tcpdump-tests";
	std::error_code ec;
	if (!std::filesystem::is_directory(dir, ec))
		return out;
	std::vector<std::filesystem::path> files;
	for (const auto &entry : std::filesystem::directory_iterator(dir, ec))
		if (entry.path().extension() == ".pcap")
			files.push_back(entry.path());
	std::sort(files.begin(), files.end());
	for (const auto &file : files) {
		auto reader = PcapReader::open(file.string());
		if (!reader)
			continue;
		for (unsigned n = 0;; n++) {
			auto rec = reader->next();
			if (!rec || !*rec)
				break; // a damaged tail ends the file, as for tcpdump
			TestPacket p;
			p.data = std::move((*rec)->data);
			p.wire_len = std::max<std::uint32_t>((*rec)->wire_len, static_cast<std::uint32_t>(p.data.size()));
			if (max_caplen && p.data.size() > max_caplen)
				p.data.resize(max_caplen);
			p.what = file.filename().string() + " #" + std::to_string(n);
			out.push_back(std::move(p));
		}
	}
	return out;
}

std::vector<std::string> corpus_expressions()
{
	std::vector<std::string> out;
	const char *dir = std::getenv("CAPX_TEST_DATA");
	std::ifstream in(std::filesystem::path(dir ? dir : "tests/data") / "filter" / "expressions.txt");
	std::string line;
	while (std::getline(in, line)) {
		if (line.empty() || line[0] == '#')
			continue;
		out.push_back(line);
	}
	return out;
}

} // namespace capx::test
