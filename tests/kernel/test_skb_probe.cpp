// SPDX-License-Identifier: GPL-2.0-only
// bpf/skb.bpf.c through skb::ProbeSet on this kernel: tp_btf and raw_tp
// probes on netif_receive_skb, the real filter translator, UDP over
// loopback and IPv4 written to a TUN device in a private network namespace,
// the shared ring read with bpf::RingBuffer. Bytes are compared with what
// was sent and with what an AF_PACKET socket on the same device receives.
// Needs root; the tp_btf cases need tp_btf programs, the TUN case
// /dev/net/tun, the fentry case fentry: tests/unit/needs_main.cpp skips
// each group, with the reason, where this kernel refuses it.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bpf/btf.hpp"
#include "bpf/capture_maps.hpp"
#include "bpf/features.hpp"
#include "bpf/ring_buffer.hpp"
#include "capture/skb/drop_reason.hpp"
#include "capture/skb/probe_set.hpp"
#include "core/packet.hpp"
#include "core/unique_fd.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"
#include "tests/kernel/ring_records.hpp"

using namespace capx;
using namespace capx::skb;

namespace {

using Bytes = std::vector<std::uint8_t>;

// This thread in a fresh network namespace with lo up, back in the
// original one when it goes.
class PrivateNetns {
public:
	PrivateNetns() : original_(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC))
	{
		REQUIRE(original_.get() >= 0);
		REQUIRE(unshare(CLONE_NEWNET) == 0);
		set_up("lo");
		struct stat st{};
		REQUIRE(stat("/proc/self/ns/net", &st) == 0);
		inode_ = static_cast<std::uint32_t>(st.st_ino);
	}
	~PrivateNetns()
	{
		// The namespace goes with its last reference (this thread).
		if (setns(original_.get(), CLONE_NEWNET) != 0)
			std::perror("setns back to the original network namespace");
	}
	std::uint32_t inode() const { return inode_; }

	static void set_up(const char *name)
	{
		UniqueFd ctl(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
		struct ifreq ifr{};
		std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
		REQUIRE(ioctl(ctl.get(), SIOCGIFFLAGS, &ifr) == 0);
		ifr.ifr_flags |= IFF_UP;
		REQUIRE(ioctl(ctl.get(), SIOCSIFFLAGS, &ifr) == 0);
	}

private:
	UniqueFd original_;
	std::uint32_t inode_ = 0;
};

using Record = capx::test::RingRecord;
using Collect = capx::test::CollectRecords;

// Reads the ring until `want` records came or a second passed. The
// program batches wakeups, so a quiet ring is consumed after each timeout.
std::vector<Record> read_ring(bpf::RingBuffer &ring, std::size_t want)
{
	Collect c;
	for (int i = 0; i < 40 && c.records.size() < want; i++) {
		auto n = ring.poll(std::chrono::milliseconds(25), c);
		REQUIRE(n);
		auto m = ring.consume(c);
		REQUIRE(m);
	}
	return std::move(c.records);
}

// The translator's bodies for an expression, and the bytes it needs.
struct Filter {
	bpf::FilterBodies bodies;
	std::uint32_t bytes = CAPX_PACKET_BUF_SIZE;
};

std::vector<EbpfInsn> return_zero()
{
	return {{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0}, {BPF_JMP | BPF_EXIT, 0, 0, 0}};
}

Filter translate(const std::string &expression, bool l3 = true)
{
	Filter f;
	auto l2c = compile_filter(expression, kLinkEthernet);
	REQUIRE(l2c);
	auto l2 = translate_to_ebpf(l2c->cbpf, FilterAccess::Buffer);
	REQUIRE(l2);
	f.bodies.buffer = l2->insns;
	std::uint32_t bytes = l2->bytes_needed.value_or(CAPX_PACKET_BUF_SIZE);
	if (l3) {
		auto l3c = compile_filter(expression, kLinkRaw);
		REQUIRE(l3c);
		auto t = translate_to_ebpf(l3c->cbpf, FilterAccess::Buffer);
		REQUIRE(t);
		f.bodies.l3 = t->insns;
		bytes = std::max(bytes, t->bytes_needed.value_or(CAPX_PACKET_BUF_SIZE));
	} else {
		f.bodies.l3 = return_zero();
	}
	f.bytes = bytes;
	return f;
}

ResolvedProbe tp_btf(const char *tracepoint, const char *subsystem)
{
	ResolvedProbe p;
	p.kind = ProbeKind::TpBtf;
	p.target = tracepoint;
	p.skb_arg = 0;
	p.display_name = std::string(subsystem) + ":" + tracepoint;
	p.spec_text = "tp:" + p.display_name;
	return p;
}

ResolvedProbe raw_tp(const char *tracepoint)
{
	ResolvedProbe p;
	p.kind = ProbeKind::RawTp;
	p.target = tracepoint;
	p.skb_arg = 0;
	p.display_name = std::string(tracepoint) + "@raw_tp";
	p.spec_text = "raw_tp:" + std::string(tracepoint);
	return p;
}

void send_udp(std::uint16_t port, const Bytes &payload)
{
	UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	sockaddr_in to{};
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(sendto(sock.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr *>(&to), sizeof(to)) ==
		static_cast<ssize_t>(payload.size()));
}

Bytes payload_of(int i, std::size_t size)
{
	Bytes p(size);
	for (std::size_t k = 0; k < size; k++)
		p[k] = static_cast<std::uint8_t>(i * 31 + k * 7);
	return p;
}

// An AF_PACKET socket on one device: the frames it receives are the
// oracle for the bytes the probe writes.
class PacketSocket {
public:
	explicit PacketSocket(const char *device) : fd_(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)))
	{
		REQUIRE(fd_.get() >= 0);
		sockaddr_ll sll{};
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_ALL);
		sll.sll_ifindex = static_cast<int>(if_nametoindex(device));
		REQUIRE(bind(fd_.get(), reinterpret_cast<sockaddr *>(&sll), sizeof(sll)) == 0);
	}
	// Frames the host received (not the copies of what it sent).
	std::vector<Bytes> incoming()
	{
		std::vector<Bytes> frames;
		Bytes buf(70000);
		for (;;) {
			sockaddr_ll from{};
			socklen_t len = sizeof(from);
			ssize_t n = recvfrom(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT,
					     reinterpret_cast<sockaddr *>(&from), &len);
			if (n < 0)
				break;
			if (from.sll_pkttype != PACKET_OUTGOING)
				frames.emplace_back(buf.begin(), buf.begin() + n);
		}
		return frames;
	}

private:
	UniqueFd fd_;
};

bool ends_with(const Bytes &frame, const Bytes &payload)
{
	return frame.size() >= payload.size() &&
	       std::equal(payload.begin(), payload.end(), frame.end() - static_cast<std::ptrdiff_t>(payload.size()));
}

std::uint32_t map_id(int fd)
{
	bpf_map_info info{};
	__u32 len = sizeof(info);
	REQUIRE(bpf_obj_get_info_by_fd(fd, &info, &len) == 0);
	return info.id;
}

// IDs of the links whose program uses the map `events_id`.
std::set<std::uint32_t> links_using(std::uint32_t events_id)
{
	std::set<std::uint32_t> ids;
	__u32 id = 0;
	while (bpf_link_get_next_id(id, &id) == 0) {
		UniqueFd link(bpf_link_get_fd_by_id(id));
		if (link.get() < 0)
			continue;
		bpf_link_info li{};
		__u32 len = sizeof(li);
		if (bpf_obj_get_info_by_fd(link.get(), &li, &len))
			continue;
		UniqueFd prog(bpf_prog_get_fd_by_id(li.prog_id));
		if (prog.get() < 0)
			continue;
		__u32 maps[16] = {};
		bpf_prog_info pi{};
		pi.nr_map_ids = 16;
		pi.map_ids = reinterpret_cast<__u64>(maps);
		len = sizeof(pi);
		if (bpf_obj_get_info_by_fd(prog.get(), &pi, &len))
			continue;
		for (__u32 k = 0; k < std::min<__u32>(pi.nr_map_ids, 16); k++)
			if (maps[k] == events_id)
				ids.insert(id);
	}
	return ids;
}

// netif_receive_skb's tp_btf program alone, for `ns`, with `f` and a ring
// of `ring_bytes`: what the ring-reading cases need and nothing more.
std::unique_ptr<ProbeSet> receive_probe(const PrivateNetns &ns, const Filter &f, std::size_t ring_bytes)
{
	ProbeFilters filters;
	filters.netns = ns.inode();
	filters.filter_bytes = f.bytes;
	auto set = ProbeSet::make({tp_btf("netif_receive_skb", "net")}, filters, f.bodies, ring_bytes);
	if (!set)
		FAIL(set.error().message);
	return std::move(*set);
}

bool kallsyms_has(const char *symbol)
{
	std::ifstream in("/proc/kallsyms");
	std::string addr, type, name;
	while (in >> addr >> type >> name)
		if (name == symbol && addr != "0000000000000000")
			return true;
	return false;
}

constexpr std::uint16_t kPort = 47211;
constexpr std::uint16_t kOtherPort = 47212;

} // namespace

TEST_CASE("tp_btf and raw_tp netif_receive_skb capture UDP on loopback into one ring", "[needs:tp_btf]")
{
	PrivateNetns ns;
	PacketSocket oracle("lo");
	// Absolute loads only (no `udp port`, which finds the UDP header through
	// the IP header length): the translator knows the bytes it needs, and
	// only those are copied before the filter runs.
	Filter f = translate("ip and ip[9] = 17 and ip[22:2] = " + std::to_string(kPort));
	REQUIRE(f.bytes < 64);
	ProbeFilters filters;
	filters.netns = ns.inode();
	filters.filter_bytes = f.bytes;
	filters.stacks = true;
	auto set = ProbeSet::make({tp_btf("netif_receive_skb", "net"), raw_tp("netif_receive_skb")}, filters, f.bodies,
				  1 << 20);
	if (!set)
		FAIL(set.error().message);
	REQUIRE((*set)->size() == 2);
	CHECK((*set)->attached_as(0).kind == ProbeKind::TpBtf);
	CHECK((*set)->attached_as(1).kind == ProbeKind::RawTp);
	const std::uint32_t events_id = map_id((*set)->events_map_fd());
	const auto links = links_using(events_id);
	CHECK(links.size() == 2);

	auto ring = bpf::RingBuffer::open((*set)->events_map_fd());
	REQUIRE(ring);

	constexpr int kMatching = 5, kOther = 3;
	std::vector<Bytes> payloads;
	for (int i = 0; i < kMatching; i++) {
		payloads.push_back(payload_of(i, 20 + 100 * static_cast<std::size_t>(i)));
		send_udp(kPort, payloads.back());
	}
	for (int i = 0; i < kOther; i++)
		send_udp(kOtherPort, payload_of(100 + i, 10));

	auto records = read_ring(*ring, 2 * kMatching);
	auto frames = oracle.incoming();
	REQUIRE(records.size() == 2 * kMatching);

	const std::uint32_t lo = if_nametoindex("lo");
	std::map<std::uint64_t, std::set<std::uint32_t>> probes_per_skb;
	std::vector<int> seen(kMatching, 0);
	for (const Record &r : records) {
		const capx_event &e = r.event;
		INFO("probe " << e.probe_id << ", " << r.data.size() << " bytes");
		REQUIRE(r.data.size() >= 42);
		// On loopback the MAC header is all zeros and the type is IPv4.
		CHECK(std::all_of(r.data.begin(), r.data.begin() + 12, [](std::uint8_t b) { return b == 0; }));
		CHECK(r.data[12] == 0x08);
		CHECK(r.data[13] == 0x00);
		CHECK(r.data[23] == IPPROTO_UDP);
		CHECK(((r.data[36] << 8) | r.data[37]) == kPort);
		int which = -1;
		for (int i = 0; i < kMatching; i++)
			if (r.data.size() == 42 + payloads[i].size() && ends_with(r.data, payloads[i]))
				which = i;
		REQUIRE(which >= 0);
		seen[which]++;
		CHECK(std::count(frames.begin(), frames.end(), r.data) == 1);
		CHECK(e.wire_len == r.data.size());
		CHECK(e.cap_len == r.data.size());
		CHECK((e.flags & (CAPX_EVENT_TRUNCATED | CAPX_EVENT_L3 | CAPX_EVENT_HAS_VLAN)) == 0);
		CHECK((e.flags & CAPX_EVENT_HAS_PACKET_ID));
		CHECK(e.packet_id != 0);
		probes_per_skb[e.packet_id].insert(e.probe_id);
		CHECK((e.flags & CAPX_EVENT_HAS_IFINDEX));
		CHECK(e.ifindex == lo);
		CHECK((e.flags & CAPX_EVENT_HAS_NETNS));
		CHECK(e.netns == ns.inode());
		CHECK(e.cpu < static_cast<std::uint32_t>(std::thread::hardware_concurrency()));
		CHECK((e.flags & CAPX_EVENT_HAS_TASK));
		CHECK((e.flags & CAPX_EVENT_HAS_DROP_REASON) == 0);
		CHECK((e.flags & CAPX_EVENT_HAS_STACK));
		CHECK_FALSE((*set)->stack(e.stack_id).empty());
	}
	CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 2; }));
	// Each skb was seen by both probes, and the address tells them apart.
	CHECK(probes_per_skb.size() == kMatching);
	for (const auto &[id, probes] : probes_per_skb)
		CHECK(probes == std::set<std::uint32_t>{0, 1});

	for (std::uint32_t probe = 0; probe < 2; probe++) {
		auto c = (*set)->counters(probe);
		REQUIRE(c);
		INFO("probe " << probe);
		CHECK(c->captured == kMatching);
		CHECK(c->filtered_out >= kOther);
		CHECK(c->hits == c->captured + c->filtered_out);
		CHECK(c->lost_ring_full == 0);
		CHECK(c->truncated == 0);
		CHECK(c->lost_busy == 0);
		CHECK(c->errors == 0);
	}

	set->reset();
	CHECK(links_using(events_id).empty());
}

TEST_CASE("pre-filters and a link-layer-only expression on loopback", "[needs:tp_btf]")
{
	PrivateNetns ns;
	const std::uint32_t lo = if_nametoindex("lo");
	// An L2-only expression: the L3 body is "return 0".
	Filter l2only = translate("ether dst 00:00:00:00:00:00 and udp port " + std::to_string(kPort), false);

	struct Case {
		const char *what;
		ProbeFilters filters;
		bool captured;
	};
	ProbeFilters any;
	any.netns = ns.inode();
	ProbeFilters device = any, other_device = any, other_netns = any, mark = any, other_mark = any;
	device.ifindex = lo;
	other_device.ifindex = lo + 1000;
	other_netns.netns = ns.inode() + 1;
	mark.mark = 0;
	other_mark.mark = 7;
	ProbeFilters snap = any;
	snap.snaplen = 50;
	const Case cases[] = {
		{"netns", any, true},
		{"ifindex", device, true},
		{"another ifindex", other_device, false},
		{"another netns", other_netns, false},
		{"mark 0", mark, true},
		{"mark 7", other_mark, false},
		{"snaplen 50", snap, true},
	};
	for (const Case &c : cases) {
		INFO(c.what);
		auto set = ProbeSet::make({tp_btf("netif_receive_skb", "net")}, c.filters, l2only.bodies, 1 << 16);
		if (!set)
			FAIL(set.error().message);
		auto ring = bpf::RingBuffer::open((*set)->events_map_fd());
		REQUIRE(ring);
		Bytes payload = payload_of(7, 64);
		send_udp(kPort, payload);
		auto records = read_ring(*ring, 1);
		auto counters = (*set)->counters(0);
		REQUIRE(counters);
		CHECK(counters->hits >= 1);
		if (!c.captured) {
			CHECK(records.empty());
			CHECK(counters->filtered_out == counters->hits);
			continue;
		}
		REQUIRE(records.size() == 1);
		const Record &r = records.front();
		CHECK(r.event.wire_len == 42 + payload.size());
		if (c.filters.snaplen == 50) {
			CHECK(r.data.size() == 50);
			CHECK((r.event.flags & CAPX_EVENT_TRUNCATED) == 0); // the user's snaplen is no truncation
		} else {
			CHECK(ends_with(r.data, payload));
		}
		CHECK(counters->captured == 1);
	}
}

namespace {

// A TUN device (IFF_TUN | IFF_NO_PI): what is written to it is received as
// an IPv4 packet without a MAC header (tun_get_user() in drivers/net/tun.c
// resets the MAC header to the network header).
class Tun {
public:
	Tun() : fd_(open("/dev/net/tun", O_RDWR | O_CLOEXEC))
	{
		REQUIRE(fd_.get() >= 0);
		struct ifreq ifr{};
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
		std::strcpy(ifr.ifr_name, "capxtun%d");
		REQUIRE(ioctl(fd_.get(), TUNSETIFF, &ifr) == 0);
		name_ = ifr.ifr_name;
		PrivateNetns::set_up(name_.c_str());
	}
	const std::string &name() const { return name_; }
	void write_packet(const Bytes &packet)
	{
		REQUIRE(::write(fd_.get(), packet.data(), packet.size()) == static_cast<ssize_t>(packet.size()));
	}

private:
	UniqueFd fd_;
	std::string name_;
};

std::uint16_t ip_checksum(const std::uint8_t *p, std::size_t n)
{
	std::uint32_t sum = 0;
	for (std::size_t i = 0; i + 1 < n; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<std::uint16_t>(~sum);
}

// IPv4 + UDP 10.77.0.2 -> 10.77.0.1 to `port` carrying `payload`.
Bytes ipv4_udp(std::uint16_t port, const Bytes &payload)
{
	Bytes p(28 + payload.size());
	std::size_t total = p.size();
	p[0] = 0x45;
	p[2] = static_cast<std::uint8_t>(total >> 8);
	p[3] = static_cast<std::uint8_t>(total);
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	const std::uint8_t src[4] = {10, 77, 0, 2}, dst[4] = {10, 77, 0, 1};
	std::memcpy(&p[12], src, 4);
	std::memcpy(&p[16], dst, 4);
	std::uint16_t sum = ip_checksum(p.data(), 20);
	p[10] = static_cast<std::uint8_t>(sum >> 8);
	p[11] = static_cast<std::uint8_t>(sum);
	p[20] = 0x9c;
	p[21] = 0x40; // source port 40000
	p[22] = static_cast<std::uint8_t>(port >> 8);
	p[23] = static_cast<std::uint8_t>(port);
	std::size_t udp_len = 8 + payload.size();
	p[24] = static_cast<std::uint8_t>(udp_len >> 8);
	p[25] = static_cast<std::uint8_t>(udp_len);
	std::copy(payload.begin(), payload.end(), p.begin() + 28);
	return p;
}

} // namespace

TEST_CASE("an L3 packet from a TUN device gets a made-up Ethernet header", "[needs:tp_btf][needs:tun]")
{
	PrivateNetns ns;
	Tun tun;
	const std::uint32_t ifindex = if_nametoindex(tun.name().c_str());
	ProbeFilters filters;
	filters.netns = ns.inode();
	filters.ifindex = ifindex;

	const Bytes payload = payload_of(3, 33);
	const Bytes packet = ipv4_udp(kPort, payload);

	SECTION("the RAW-compiled expression filters it, by what it needs")
	{
		Filter f = translate("udp port " + std::to_string(kPort) + " and src host 10.77.0.2");
		filters.filter_bytes = f.bytes;
		auto set = ProbeSet::make({tp_btf("netif_receive_skb", "net"), raw_tp("netif_receive_skb")}, filters,
					  f.bodies, 1 << 16);
		if (!set)
			FAIL(set.error().message);
		auto ring = bpf::RingBuffer::open((*set)->events_map_fd());
		REQUIRE(ring);
		tun.write_packet(packet);
		tun.write_packet(ipv4_udp(kOtherPort, payload));
		auto records = read_ring(*ring, 2);
		REQUIRE(records.size() == 2);
		Bytes expected(12, 0);
		expected.push_back(0x08);
		expected.push_back(0x00);
		expected.insert(expected.end(), packet.begin(), packet.end());
		for (const Record &r : records) {
			INFO("probe " << r.event.probe_id);
			CHECK(r.data == expected);
			CHECK(r.event.wire_len == expected.size());
			CHECK((r.event.flags & CAPX_EVENT_L3));
			CHECK((r.event.flags & CAPX_EVENT_TRUNCATED) == 0);
			CHECK(r.event.ifindex == ifindex);
		}
		for (std::uint32_t probe = 0; probe < 2; probe++) {
			auto c = (*set)->counters(probe);
			REQUIRE(c);
			// hits counts every packet of the system (pre-filters come after).
			CHECK(c->captured == 1);
			CHECK(c->filtered_out == c->hits - 1);
			CHECK(c->errors == 0);
		}
	}
	SECTION("a link-layer-only expression does not match at L3")
	{
		Filter f = translate("ether dst 00:00:00:00:00:00", false);
		auto set = ProbeSet::make({tp_btf("netif_receive_skb", "net")}, filters, f.bodies, 1 << 16);
		if (!set)
			FAIL(set.error().message);
		auto ring = bpf::RingBuffer::open((*set)->events_map_fd());
		REQUIRE(ring);
		tun.write_packet(packet);
		auto records = read_ring(*ring, 1);
		CHECK(records.empty());
		auto c = (*set)->counters(0);
		REQUIRE(c);
		CHECK(c->hits >= 1);
		CHECK(c->captured == 0);
		CHECK(c->filtered_out == c->hits);
	}
}

TEST_CASE("paged fragments: read where this kernel lets capx address pages, else truncated and counted", "[needs:tp_btf]")
{
	PrivateNetns ns;
	PacketSocket oracle("lo");
	auto set = receive_probe(ns, translate("udp port " + std::to_string(kPort)), 1 << 20);
	auto ring = bpf::RingBuffer::open(set->events_map_fd());
	REQUIRE(ring);
	// Larger than SKB_MAX_ALLOC: __ip_append_data() puts the payload in page
	// fragments on a device with scatter-gather (lo).
	const Bytes payload = payload_of(9, 30000);
	send_udp(kPort, payload);
	auto records = read_ring(*ring, 1);
	// The datagram, not the ICMP port unreachable that answers it.
	auto frames = oracle.incoming();
	std::erase_if(frames, [&](const Bytes &fr) { return fr.size() != 42 + payload.size(); });
	REQUIRE(records.size() == 1);
	REQUIRE(frames.size() == 1);
	const Record &r = records.front();
	const Bytes &frame = frames.front();
	CHECK(r.event.wire_len == frame.size());
	auto c = set->counters(0);
	REQUIRE(c);
	if (kallsyms_has("page_offset_base") && kallsyms_has("vmemmap_base")) {
		CHECK(r.data == frame);
		CHECK((r.event.flags & CAPX_EVENT_TRUNCATED) == 0);
		CHECK(c->truncated == 0);
	} else {
		WARN("this kernel does not list page_offset_base in /proc/kallsyms: fragments are not readable");
		REQUIRE(r.data.size() < frame.size());
		CHECK(r.data.size() >= 42);
		CHECK(std::equal(r.data.begin(), r.data.end(), frame.begin()));
		CHECK((r.event.flags & CAPX_EVENT_TRUNCATED));
		CHECK(c->truncated == 1);
	}
	CHECK(c->captured == 1);
}

// fentry refused (EPERM before the verifier runs) would leave this case
// nothing to check: it needs fentry, and is skipped where it is refused.
TEST_CASE("fentry, fexit and kprobe programs pass the verifier (attaching may be refused here)", "[needs:fentry]")
{
	Filter f = translate("udp");
	auto probe = [](ProbeKind kind, const char *suffix) {
		ResolvedProbe p;
		p.kind = kind;
		p.target = "ip_rcv";
		p.skb_arg = 0;
		p.display_name = std::string("ip_rcv@") + suffix;
		return p;
	};
	for (auto [kind, suffix] : {std::pair{ProbeKind::Fentry, "fentry"}, std::pair{ProbeKind::Fexit, "fexit"},
				    std::pair{ProbeKind::Kprobe, "kprobe"}}) {
		INFO(suffix);
		auto set = ProbeSet::make({probe(kind, suffix)}, ProbeFilters{}, f.bodies, 1 << 16);
		if (set) {
			CHECK((*set)->attached_as(0).kind == kind);
			continue;
		}
		// Refused by this kernel's policy (fentry: EPERM at load; kprobe: no
		// kprobe PMU at attach), never by the verifier.
		INFO(set.error().message);
		CHECK(set.error().message.find("rejected") == std::string::npos);
		CHECK(set.error().message.find("ip_rcv@") != std::string::npos);
		WARN(set.error().message);
	}

	// FUNC without a type: fentry, and a kprobe when fentry is refused.
	ResolvedProbe automatic = probe(ProbeKind::Fentry, "fentry");
	automatic.kprobe_fallback = true;
	auto set = ProbeSet::make({automatic}, ProbeFilters{}, f.bodies, 1 << 16);
	if (set) {
		WARN("attached as " << (*set)->attached_as(0).display_name);
		CHECK_FALSE((*set)->attached_as(0).kprobe_fallback);
	} else {
		// Both refused here: the error is the kprobe's, so it was tried.
		INFO(set.error().message);
		CHECK(set.error().message.find(as_kprobe(automatic).display_name) != std::string::npos);
		CHECK(set.error().message.find("rejected") == std::string::npos);
	}
}

TEST_CASE("skb:kfree_skb records the drop reason", "[needs:tp_btf]")
{
	auto btf = bpf::KernelBtf::load();
	REQUIRE(btf);
	auto reasons = DropReasons::from_btf(*btf);
	PrivateNetns ns;
	Filter f = translate("udp port " + std::to_string(kPort));
	ProbeFilters filters;
	filters.netns = ns.inode();
	ResolvedProbe p = tp_btf("kfree_skb", "skb");
	p.drop_reason_arg = 2; // (skb, location, reason[, rx_sk])
	ResolvedProbe raw = raw_tp("kfree_skb");
	raw.drop_reason_arg = 2;
	auto set = ProbeSet::make({p, raw}, filters, f.bodies, 1 << 16);
	if (!set)
		FAIL(set.error().message);
	auto ring = bpf::RingBuffer::open((*set)->events_map_fd());
	REQUIRE(ring);
	// Nobody listens: __udp4_lib_rcv() drops it with NO_SOCKET.
	const Bytes payload = payload_of(5, 48);
	send_udp(kPort, payload);
	auto records = read_ring(*ring, 2);
	REQUIRE(records.size() == 2);
	CHECK(records[0].event.probe_id != records[1].event.probe_id);
	for (const Record &r : records) {
		CHECK(ends_with(r.data, payload));
		REQUIRE((r.event.flags & CAPX_EVENT_HAS_DROP_REASON));
		CHECK(reasons.name(r.event.drop_reason) == "NO_SOCKET");
	}
}

TEST_CASE("a VLAN tag held in skb->vlan_tci is put back into the bytes the filter sees", "[needs:tp_btf]")
{
	PrivateNetns ns;
	// A veth pair whose one end tags what it sends with a tc program
	// calling bpf_skb_vlan_push(): skb_vlan_push() leaves the tag in
	// skb->vlan_tci, veth offloads VLAN insertion, so the peer receives it
	// there (this kernel has no 8021q module for a VLAN device).
	REQUIRE(std::system("ip link add capxva type veth peer name capxvb && "
			    "ip link set capxva up && ip link set capxvb up") == 0);
	const std::uint32_t sender = if_nametoindex("capxva");
	const std::uint32_t peer = if_nametoindex("capxvb");
	const std::vector<EbpfInsn> push_vlan_5 = {
		{BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0x0081}, // htons(ETH_P_8021Q)
		{BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 5},
		{BPF_JMP | BPF_CALL, 0, 0, BPF_FUNC_skb_vlan_push},
		{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0}, // TC_ACT_OK
		{BPF_JMP | BPF_EXIT, 0, 0, 0},
	};
	UniqueFd tagger(bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "capx_vlan5", "GPL",
				      reinterpret_cast<const bpf_insn *>(push_vlan_5.data()), push_vlan_5.size(), nullptr));
	REQUIRE(tagger.get() >= 0);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(sender), .attach_point = BPF_TC_EGRESS);
	REQUIRE(bpf_tc_hook_create(&hook) == 0);
	LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = tagger.get());
	REQUIRE(bpf_tc_attach(&hook, &tc) == 0);

	Filter f = translate("vlan 5 and udp port " + std::to_string(kPort), false);
	ProbeFilters filters;
	filters.netns = ns.inode();
	filters.ifindex = peer;
	auto set = ProbeSet::make({tp_btf("netif_receive_skb", "net")}, filters, f.bodies, 1 << 16);
	if (!set)
		FAIL(set.error().message);
	auto ring = bpf::RingBuffer::open((*set)->events_map_fd());
	REQUIRE(ring);

	// An untagged Ethernet frame, sent on the tagging end.
	const Bytes payload = payload_of(11, 40);
	Bytes ip = ipv4_udp(kPort, payload);
	Bytes frame = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
	frame.insert(frame.end(), ip.begin(), ip.end());
	{
		UniqueFd tx(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
		REQUIRE(tx.get() >= 0);
		sockaddr_ll sll{};
		sll.sll_family = AF_PACKET;
		sll.sll_ifindex = static_cast<int>(sender);
		sll.sll_halen = 6;
		REQUIRE(sendto(tx.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr *>(&sll), sizeof(sll)) ==
			static_cast<ssize_t>(frame.size()));
	}
	auto records = read_ring(*ring, 1);
	REQUIRE(records.size() == 1);
	const Record &r = records.front();
	Bytes expected(frame.begin(), frame.begin() + 12);
	for (std::uint8_t b : {0x81, 0x00, 0x00, 0x05})
		expected.push_back(b);
	expected.insert(expected.end(), frame.begin() + 12, frame.end());
	CHECK(r.data == expected);
	CHECK(r.event.wire_len == expected.size());
	CHECK((r.event.flags & CAPX_EVENT_HAS_VLAN));
	CHECK(r.event.vlan_tci == 5);
	CHECK((r.event.flags & CAPX_EVENT_L3) == 0);
	CHECK(r.event.ifindex == peer);
}

TEST_CASE("a full ring loses records, and counts every one", "[needs:tp_btf]")
{
	PrivateNetns ns;
	// One page of ring: about a dozen of these records.
	auto set = receive_probe(ns, translate("udp port " + std::to_string(kPort)), 4096);
	constexpr int kSent = 60;
	for (int i = 0; i < kSent; i++)
		send_udp(kPort, payload_of(i, 200));
	auto ring = bpf::RingBuffer::open(set->events_map_fd());
	REQUIRE(ring);
	auto records = read_ring(*ring, kSent);
	auto c = set->counters(0);
	REQUIRE(c);
	CHECK(c->lost_ring_full > 0);
	CHECK(c->captured == records.size());
	CHECK(c->captured + c->lost_ring_full == kSent);
}

TEST_CASE("records kept as views are still the reader's when on_release() comes", "[needs:tp_btf]")
{
	PrivateNetns ns;
	// One page of ring: the reader hands records back every 64 bytes
	// (kCommitFraction), i.e. after every record.
	auto set = receive_probe(ns, translate("udp port " + std::to_string(kPort)), 4096);
	auto ring = bpf::RingBuffer::open(set->events_map_fd());
	REQUIRE(ring);

	// Keeps views of the records (as capx skb's batches do) and checks at
	// each release that their bytes are intact and still counted unread.
	struct Keep : bpf::RecordHandler {
		bpf::RingBuffer *ring = nullptr;
		std::vector<std::span<const std::uint8_t>> views;
		std::vector<Bytes> copies;
		std::size_t records = 0, releases = 0, stop_after = 0;
		bool intact = true, unread = true;
		bool on_record(std::span<const std::uint8_t> record) override
		{
			views.push_back(record);
			copies.emplace_back(record.begin(), record.end());
			records++;
			return true;
		}
		bool on_release() override
		{
			std::size_t bytes = 0;
			for (std::size_t i = 0; i < views.size(); i++) {
				intact &= std::equal(views[i].begin(), views[i].end(), copies[i].begin(), copies[i].end());
				bytes += (views[i].size() + BPF_RINGBUF_HDR_SZ + 7) & ~std::size_t{7};
			}
			unread &= ring->available() >= bytes;
			views.clear();
			copies.clear();
			releases++;
			return stop_after == 0 || releases < stop_after;
		}
	} keep;
	keep.ring = &*ring;
	for (int i = 0; i < 6; i++)
		send_udp(kPort, payload_of(i, 100));
	auto n = ring->consume(keep);
	REQUIRE(n);
	CHECK(*n == 6);
	CHECK(keep.records == 6);
	CHECK(keep.releases >= 2);
	CHECK(keep.views.empty()); // all released by the end of the batch
	CHECK(keep.intact);
	CHECK(keep.unread);

	// false from on_release() ends the batch there.
	keep.releases = 0;
	keep.records = 0;
	keep.stop_after = 1;
	for (int i = 0; i < 6; i++)
		send_udp(kPort, payload_of(i, 100));
	n = ring->consume(keep);
	REQUIRE(n);
	CHECK(keep.releases == 1);
	CHECK(*n == keep.records);
	CHECK(*n < 6);
	CHECK(ring->available() > 0);
}
