// SPDX-License-Identifier: GPL-2.0-only
// The ring capture point's pure parts over synthetic memory: TPACKET_V3
// block walking, VLAN tag restoration, the LINUX_SLL2 header, the split of
// the filter between kernel and user space, option checks, and a block
// written as one batch against frame by frame. The kernel side
// is covered by tests/integration/ring_*.sh.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "capture/pipeline.hpp"
#include "capture/ring/frame.hpp"
#include "capture/ring/ring_config.hpp"
#include "capture/ring/ring_filter.hpp"
#include "capture/ring/sll2.hpp"
#include "core/snaplen.hpp"
#include "filter/cbpf.hpp"
#include "output/file_output.hpp"
#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "output/pcapng_format.hpp"

using namespace capx;
using namespace capx::ring;

namespace {

constexpr std::size_t kSllOffset = TPACKET_ALIGN(sizeof(tpacket3_hdr));
constexpr std::uint32_t kMac = 112; // tp_mac: leaves 24+ bytes after the sockaddr_ll

// An Ethernet/IPv4/UDP frame 10.0.0.1:1000 -> 10.0.0.2:2000, 4 payload bytes.
std::vector<std::uint8_t> udp_frame()
{
	return {
		0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, // Ethernet
		0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
		0x03, 0xe8, 0x07, 0xd0, 0, 12, 0, 0, // UDP
		'p', 'i', 'n', 'g',
	};
}

struct FakeFrame {
	std::uint32_t status = TP_STATUS_USER;
	std::uint16_t tci = 0;
	std::uint16_t tpid = 0;
	std::uint8_t pkttype = PACKET_HOST;
	std::uint16_t protocol = ETH_P_IP;
	std::uint32_t wire_extra = 0; // tp_len beyond the bytes
	std::vector<std::uint8_t> bytes;
};

// Lays frames out in a block the way tpacket_rcv does.
std::vector<std::uint8_t> make_block(const std::vector<FakeFrame> &frames, std::size_t size = 8192)
{
	std::vector<std::uint8_t> block(size, 0);
	auto *desc = reinterpret_cast<tpacket_block_desc *>(block.data());
	desc->version = TPACKET_V3;
	desc->hdr.bh1.block_status = TP_STATUS_USER;
	desc->hdr.bh1.num_pkts = static_cast<std::uint32_t>(frames.size());
	desc->hdr.bh1.offset_to_first_pkt = 64;
	std::size_t offset = 64;
	for (std::size_t n = 0; n < frames.size(); n++) {
		const auto &f = frames[n];
		auto *h = reinterpret_cast<tpacket3_hdr *>(block.data() + offset);
		std::size_t frame_len = TPACKET_ALIGN(kMac + f.bytes.size());
		h->tp_next_offset = n + 1 < frames.size() ? static_cast<std::uint32_t>(frame_len) : 0;
		h->tp_sec = 1700000000;
		h->tp_nsec = 123456789 + static_cast<std::uint32_t>(n);
		h->tp_snaplen = static_cast<std::uint32_t>(f.bytes.size());
		h->tp_len = static_cast<std::uint32_t>(f.bytes.size()) + f.wire_extra;
		h->tp_status = f.status;
		h->tp_mac = kMac;
		h->tp_net = kMac + 14;
		h->hv1.tp_vlan_tci = f.tci;
		h->hv1.tp_vlan_tpid = f.tpid;
		auto *sll = reinterpret_cast<sockaddr_ll *>(block.data() + offset + kSllOffset);
		sll->sll_family = AF_PACKET;
		sll->sll_protocol = htons(f.protocol);
		sll->sll_ifindex = 7;
		sll->sll_hatype = ARPHRD_ETHER;
		sll->sll_pkttype = f.pkttype;
		sll->sll_halen = 6;
		std::memcpy(sll->sll_addr, "\x02\x00\x00\x00\x00\x01", 6);
		std::memcpy(block.data() + offset + kMac, f.bytes.data(), f.bytes.size());
		offset += frame_len;
	}
	return block;
}

std::vector<PreparedFrame> prepare_all(std::vector<std::uint8_t> &block, FrameLayout layout = {})
{
	std::vector<PreparedFrame> out;
	for_each_frame(std::span(block), [&](std::uint8_t *frame, std::size_t room) {
		out.push_back(prepare_frame(frame, room, layout));
	});
	return out;
}

std::vector<std::uint8_t> bytes_of(const PacketView &v) { return {v.data.begin(), v.data.end()}; }

} // namespace

TEST_CASE("ring: untagged Ethernet frames pass unchanged, in order", "[ring]")
{
	FakeFrame a{.bytes = udp_frame()};
	FakeFrame b{.pkttype = PACKET_OUTGOING, .wire_extra = 100, .bytes = udp_frame()};
	auto block = make_block({a, b});
	auto frames = prepare_all(block);
	REQUIRE(frames.size() == 2);
	CHECK(bytes_of(frames[0].view) == udp_frame());
	CHECK(frames[0].view.wire_len == udp_frame().size());
	CHECK(frames[0].view.timestamp_ns == 1700000000123456789ull);
	CHECK(frames[1].view.timestamp_ns == 1700000000123456790ull);
	CHECK(frames[0].view.meta.direction == Direction::Inbound);
	CHECK(frames[1].view.meta.direction == Direction::Outbound);
	CHECK(frames[0].view.meta.ifindex == 7u);
	CHECK(frames[1].view.wire_len == udp_frame().size() + 100);
	CHECK_FALSE(frames[0].tag_restored);
	CHECK_FALSE(frames[0].view.meta.vlan_tci.has_value());
}

TEST_CASE("ring: a stripped VLAN tag is put back after the MACs", "[ring][vlan]")
{
	FakeFrame f{.status = TP_STATUS_USER | TP_STATUS_VLAN_VALID, .tci = 0x2064, .bytes = udp_frame()};
	auto block = make_block({f});
	auto frames = prepare_all(block);
	REQUIRE(frames.size() == 1);
	auto expect = udp_frame();
	const std::uint8_t tag[] = {0x81, 0x00, 0x20, 0x64};
	expect.insert(expect.begin() + 12, std::begin(tag), std::end(tag));
	CHECK(bytes_of(frames[0].view) == expect);
	CHECK(frames[0].view.wire_len == expect.size());
	CHECK(frames[0].tag_restored);
	CHECK(frames[0].view.meta.vlan_tci == 0x2064);

	SECTION("the TPID is taken from the frame when the kernel gives it")
	{
		FakeFrame q{.status = TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID,
			    .tci = 5, .tpid = ETH_P_8021AD, .bytes = udp_frame()};
		auto b2 = make_block({q});
		auto f2 = prepare_all(b2);
		REQUIRE(f2.size() == 1);
		CHECK(f2[0].view.data[12] == 0x88);
		CHECK(f2[0].view.data[13] == 0xa8);
		CHECK(f2[0].view.data[15] == 5);
	}
	SECTION("the snapshot length still applies to the restored bytes")
	{
		auto b3 = make_block({f});
		auto f3 = prepare_all(b3, {.cooked = false, .snaplen = 20});
		REQUIRE(f3.size() == 1);
		CHECK(f3[0].view.data.size() == 20);
		CHECK(f3[0].view.wire_len == expect.size());
	}
}

TEST_CASE("ring: the filter sees the restored tag", "[ring][vlan][filter]")
{
	FakeFrame f{.status = TP_STATUS_USER | TP_STATUS_VLAN_VALID, .tci = 10, .bytes = udp_frame()};
	auto block = make_block({f});
	auto frames = prepare_all(block);
	REQUIRE(frames.size() == 1);
	const auto &v = frames[0].view;
	auto run = [&](const char *expr) {
		auto p = CbpfProgram::compile(expr, kLinkEthernet);
		REQUIRE(p);
		return p->run(v.data, v.wire_len) != 0;
	};
	CHECK(run("vlan"));
	CHECK(run("vlan 10"));
	CHECK_FALSE(run("vlan 11"));
	CHECK(run("vlan and udp port 2000"));
	// Like `tcpdump -r` on the wire bytes: without `vlan`, `udp` looks at
	// the TPID, not at the inner ethertype.
	CHECK_FALSE(run("udp"));
	CHECK(run("greater 46"));
}

TEST_CASE("ring: cooked frames get a LINUX_SLL2 header", "[ring][sll2]")
{
	auto ip = udp_frame();
	ip.erase(ip.begin(), ip.begin() + 14); // SOCK_DGRAM starts at the network header
	FakeFrame f{.pkttype = PACKET_OUTGOING, .bytes = ip};
	auto block = make_block({f});
	auto frames = prepare_all(block, {.cooked = true, .snaplen = kMaxSnaplen});
	REQUIRE(frames.size() == 1);
	const auto &v = frames[0].view;
	REQUIRE(v.data.size() == kSll2HeaderLen + ip.size());
	CHECK(v.wire_len == kSll2HeaderLen + ip.size());
	const std::uint8_t header[] = {0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, PACKET_OUTGOING, 6,
				       0x02, 0, 0, 0, 0, 0x01, 0, 0};
	CHECK(std::memcmp(v.data.data(), header, sizeof(header)) == 0);
	CHECK(std::memcmp(v.data.data() + kSll2HeaderLen, ip.data(), ip.size()) == 0);

	auto p = CbpfProgram::compile("udp port 2000 and src 10.0.0.1", kLinkLinuxSll2);
	REQUIRE(p);
	CHECK(p->run(v.data, v.wire_len) != 0);
	auto out = CbpfProgram::compile("outbound", kLinkLinuxSll2);
	REQUIRE(out);
	CHECK(out->run(v.data, v.wire_len) != 0);

	SECTION("a stripped tag becomes the SLL2 protocol, TCI and inner type follow")
	{
		FakeFrame t{.status = TP_STATUS_USER | TP_STATUS_VLAN_VALID, .tci = 42, .bytes = ip};
		auto b2 = make_block({t});
		auto f2 = prepare_all(b2, {.cooked = true, .snaplen = kMaxSnaplen});
		REQUIRE(f2.size() == 1);
		const auto &w = f2[0].view;
		REQUIRE(w.data.size() == kSll2HeaderLen + 4 + ip.size());
		CHECK(w.data[0] == 0x81);
		CHECK(w.data[1] == 0x00);
		CHECK(w.data[kSll2HeaderLen + 1] == 42);
		CHECK(w.data[kSll2HeaderLen + 2] == 0x08);
		// libpcap has no `vlan` for SLL2 ("no VLAN support for Linux
		// cooked v2"); the protocol field is what its programs test.
		auto tagged = CbpfProgram::compile("ether proto 0x8100", kLinkLinuxSll2);
		REQUIRE(tagged);
		CHECK(tagged->run(w.data, w.wire_len) != 0);
		CHECK(p->run(w.data, w.wire_len) == 0);
	}
}

TEST_CASE("ring: one PreparedFrame reused frame after frame equals a new one each time", "[ring]")
{
	// The ring source refills one PreparedFrame per packet: nothing of a
	// tagged, outgoing or cut-off frame may stay behind in the next one.
	FakeFrame plain{.bytes = udp_frame()};
	FakeFrame tagged{.status = TP_STATUS_USER | TP_STATUS_VLAN_VALID, .tci = 0x2064, .bytes = udp_frame()};
	FakeFrame out{.pkttype = PACKET_OUTGOING, .wire_extra = 100, .bytes = udp_frame()};
	for (bool cooked : {false, true}) {
		auto block = make_block({tagged, plain, out, tagged, plain});
		auto copy = block;
		std::vector<std::uint8_t *> frames;
		for_each_frame(std::span(block), [&](std::uint8_t *frame, std::size_t) { frames.push_back(frame); });
		REQUIRE(frames.size() == 5);
		// The fourth frame claims to pass the end of its block.
		reinterpret_cast<tpacket3_hdr *>(frames[3])->tp_mac = 60000;
		reinterpret_cast<tpacket3_hdr *>(copy.data() + (frames[3] - block.data()))->tp_mac = 60000;

		const FrameLayout layout{.cooked = cooked, .snaplen = kMaxSnaplen};
		PreparedFrame reused;
		std::vector<PreparedFrame> fresh;
		for_each_frame(std::span(copy), [&](std::uint8_t *frame, std::size_t room) {
			fresh.push_back(prepare_frame(frame, room, layout));
		});
		std::size_t n = 0;
		for_each_frame(std::span(block), [&](std::uint8_t *frame, std::size_t room) {
			prepare_frame(frame, room, layout, reused);
			const auto &a = reused;
			const auto &b = fresh[n++];
			INFO("cooked " << cooked << ", frame " << n);
			CHECK(bytes_of(a.view) == bytes_of(b.view));
			CHECK(a.view.timestamp_ns == b.view.timestamp_ns);
			CHECK(a.view.wire_len == b.view.wire_len);
			CHECK(a.view.meta.direction == b.view.meta.direction);
			CHECK(a.view.meta.ifindex == b.view.meta.ifindex);
			CHECK(a.view.meta.vlan_tci == b.view.meta.vlan_tci);
			CHECK(a.tag_restored == b.tag_restored);
			CHECK(a.truncated_by_ring == b.truncated_by_ring);
			CHECK(a.hardware_timestamp == b.hardware_timestamp);
		});
		CHECK(n == 5);
		CHECK(fresh[0].view.meta.vlan_tci == 0x2064);
		CHECK_FALSE(fresh[1].view.meta.vlan_tci);
		CHECK(fresh[2].view.meta.direction == Direction::Outbound);
		CHECK(fresh[3].truncated_by_ring);
	}
}

TEST_CASE("ring: a walk visits each frame once, in order, to the block's last byte, also when resumed", "[ring]")
{
	// Small frames filling the block to its end: the walk reads ahead
	// (kPrefetchAhead) over most of them and not over the last ones; it
	// must hand out the same frames either way, and resume where it
	// stopped.
	FakeFrame f{.bytes = udp_frame()};
	const std::size_t frame_len = TPACKET_ALIGN(kMac + udp_frame().size());
	const std::size_t count = (8192 - 64) / frame_len;
	auto block = make_block(std::vector<FakeFrame>(count, f));
	REQUIRE(64 + count * frame_len > 8192 - frame_len); // the last frame ends near the block's end
	REQUIRE(count * frame_len > kPrefetchAhead + kPrefetchSpan);
	for (std::uint32_t stop_every : {0u, 1u, 7u, 20u}) {
		INFO("stop every " << stop_every);
		FrameCursor at;
		std::vector<std::uint64_t> stamps;
		bool done = false;
		for (int calls = 0; !done && calls < 1000; calls++) {
			std::uint32_t in_call = 0;
			done = walk_frames(std::span(block), at, [&](std::uint8_t *frame, std::size_t room) {
				stamps.push_back(prepare_frame(frame, room, FrameLayout{}).view.timestamp_ns);
				return stop_every == 0 || ++in_call < stop_every;
			});
		}
		CHECK(done);
		REQUIRE(stamps.size() == count);
		for (std::size_t n = 0; n < count; n++)
			CHECK(stamps[n] == 1700000000123456789ull + n);
	}
}

TEST_CASE("ring: frames that do not fit their block are not read", "[ring]")
{
	FakeFrame f{.bytes = udp_frame()};
	auto block = make_block({f, f});
	auto *desc = reinterpret_cast<tpacket_block_desc *>(block.data());
	desc->hdr.bh1.num_pkts = 5; // more than there are: the walk stops at the end
	auto *h = reinterpret_cast<tpacket3_hdr *>(block.data() + 64);
	h->tp_next_offset = 1u << 20;
	auto frames = prepare_all(block);
	CHECK(frames.size() == 1);

	h->tp_mac = 60000;
	auto again = prepare_all(block);
	REQUIRE(again.size() == 1);
	CHECK(again[0].view.data.empty());
	CHECK(again[0].truncated_by_ring);
}

TEST_CASE("ring: the filter is split between kernel and user space", "[ring][filter]")
{
	auto all = CbpfProgram::compile("", kLinkEthernet, 1500);
	REQUIRE(all);
	auto plan = plan_filter(*all, false, DirectionFilter::InOut);
	REQUIRE(plan.kernel.size() == 1);
	CHECK(plan.kernel[0].code == (BPF_RET | BPF_K));
	CHECK(plan.kernel[0].k == 1500);
	CHECK(plan.user == UserFilter::None);

	auto tcp = CbpfProgram::compile("tcp", kLinkEthernet);
	REQUIRE(tcp);
	plan = plan_filter(*tcp, false, DirectionFilter::InOut);
	CHECK(plan.user == UserFilter::RestoredTags);
	REQUIRE(plan.kernel.size() == tcp->insns().size() + 3);
	CHECK(plan.kernel[0].k == static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT));
	CHECK(plan.kernel[2].code == (BPF_RET | BPF_K));
	CHECK(plan.kernel[2].k == 262144);
	for (std::size_t n = 0; n < tcp->insns().size(); n++) {
		CHECK(plan.kernel[n + 3].code == tcp->insns()[n].code);
		CHECK(plan.kernel[n + 3].k == tcp->insns()[n].k);
	}

	plan = plan_filter(*tcp, false, DirectionFilter::Out);
	REQUIRE(plan.kernel.size() == tcp->insns().size() + 6);
	CHECK(plan.kernel[0].k == static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE));
	CHECK(plan.kernel[1].k == PACKET_OUTGOING);
	CHECK(plan.kernel[2].k == 0);

	plan = plan_filter(*tcp, false, DirectionFilter::InOut, true);
	REQUIRE(plan.kernel.size() == tcp->insns().size() + 8);
	CHECK(plan.kernel[2].k == static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_HATYPE));
	CHECK(plan.kernel[3].k == ARPHRD_LOOPBACK);
	CHECK(plan.kernel[4].k == 0);

	auto sll = CbpfProgram::compile("tcp", kLinkLinuxSll2);
	REQUIRE(sll);
	plan = plan_filter(*sll, true, DirectionFilter::InOut);
	CHECK(plan.user == UserFilter::All);
	REQUIRE(plan.kernel.size() == 1);

	auto drop = drop_all_program();
	REQUIRE(drop.size() == 1);
	CHECK(drop[0].k == 0);
}

TEST_CASE("ring: options are checked", "[ring][options]")
{
	RingConfig c;
	c.interface = "eth0";
	CHECK(c.validate());
	c.block_kib = 6;
	CHECK(c.validate().error().status == ExitStatus::Usage);
	c.block_kib = 256;
	c.ring_kib = 256;
	CHECK_FALSE(c.validate());
	c.ring_kib = 8192;
	c.threads = 0;
	CHECK_FALSE(c.validate());
	c.threads = 2;
	c.interface = "any";
	c.timestamp = TimestampType::Adapter;
	CHECK_FALSE(c.validate());

	CHECK(parse_direction("in") == DirectionFilter::In);
	CHECK(parse_direction("out") == DirectionFilter::Out);
	CHECK(parse_direction("inout") == DirectionFilter::InOut);
	auto bad = parse_direction("sideways");
	REQUIRE_FALSE(bad);
	CHECK(bad.error().message == "-Q: 'sideways' is not one of inout|in|out");
	CHECK(parse_fanout("rollover") == FanoutMode::Rollover);
	CHECK_FALSE(parse_fanout("random"));
	CHECK(parse_timestamp_type("adapter_unsynced") == TimestampType::AdapterUnsynced);
	CHECK(to_string(FanoutMode::LoadBalance) == "lb");
}

TEST_CASE("ring: packet types map to directions", "[ring]")
{
	CHECK(direction_of(PACKET_HOST) == Direction::Inbound);
	CHECK(direction_of(PACKET_BROADCAST) == Direction::Inbound);
	CHECK(direction_of(PACKET_OTHERHOST) == Direction::Inbound);
	CHECK(direction_of(PACKET_OUTGOING) == Direction::Outbound);
	CHECK(direction_of(PACKET_LOOPBACK) == Direction::Unknown);
}

namespace {

// Hands out the frames of TPACKET_V3 blocks the two ways a source can:
// one on_packet per frame, or (like RingSourceImpl::deliver) the accepted
// frames of each block as one PacketBatch over the PreparedFrames; then
// on_batch_end. Frames the ring cut off entirely are skipped, as accept()
// does.
class BlockSource final : public Source {
public:
	BlockSource(std::vector<std::vector<std::uint8_t>> blocks, bool batched, std::uint32_t snaplen)
		: blocks_(std::move(blocks)), batched_(batched)
	{
		point_.name = "veth0";
		point_.snaplen = snaplen;
	}

	std::span<const CapturePoint> capture_points() const override { return {&point_, 1}; }
	[[nodiscard]] Result<void> poll(std::chrono::milliseconds, PacketConsumer &consumer) override
	{
		while (next_ < blocks_.size()) {
			std::vector<PreparedFrame> frames;
			for_each_frame(std::span(blocks_[next_++]), [&](std::uint8_t *frame, std::size_t room) {
				auto f = prepare_frame(frame, room, FrameLayout{});
				if (!(f.view.data.empty() && f.truncated_by_ring))
					frames.push_back(f);
			});
			bool more = true;
			if (batched_) {
				if (!frames.empty())
					more = consumer.on_packets(
						PacketBatch(&frames.front().view, frames.size(), sizeof(PreparedFrame)));
			} else {
				for (const auto &f : frames)
					if (!(more = consumer.on_packet(f.view)))
						break;
			}
			if (!more || !consumer.on_batch_end())
				break;
		}
		return {};
	}
	[[nodiscard]] Result<SourceStats> stats() override { return SourceStats{}; }
	bool exhausted() const override { return next_ == blocks_.size(); }

private:
	CapturePoint point_;
	std::vector<std::vector<std::uint8_t>> blocks_;
	bool batched_;
	std::size_t next_ = 0;
};

std::vector<std::uint8_t> file_bytes(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The file capx writes from `blocks`, per packet or batched.
std::vector<std::uint8_t> write_file(const std::vector<std::vector<std::uint8_t>> &blocks, bool batched, bool pcapng,
				     std::optional<std::uint64_t> count, std::uint32_t snaplen, std::uint64_t *captured)
{
	char dir[] = "/tmp/capx-ring-batch-XXXXXX";
	REQUIRE(::mkdtemp(dir));
	const std::string path = std::string(dir) + (pcapng ? "/out.pcapng" : "/out.pcap");
	std::unique_ptr<RecordFormat> format;
	if (pcapng)
		format = std::make_unique<PcapngFormat>(PcapngIdentity{"test", "capx test"});
	else
		format = std::make_unique<PcapFormat>(false);
	FileSink sink(std::move(format), FileSinkOptions{path, {}, false, {}});
	BlockSource source(blocks, batched, snaplen);
	PipelineOptions options;
	options.count = count;
	options.duration = std::chrono::milliseconds(5000);
	auto summary = run_pipeline(source, sink, options);
	REQUIRE(summary);
	*captured = summary->captured;
	auto bytes = file_bytes(path);
	std::filesystem::remove_all(dir);
	return bytes;
}

} // namespace

TEST_CASE("ring: a block written as one batch gives the same file as frame by frame", "[ring][output]")
{
	FakeFrame plain{.bytes = udp_frame()};
	FakeFrame tagged{.status = TP_STATUS_USER | TP_STATUS_VLAN_VALID, .tci = 0x2064, .bytes = udp_frame()};
	FakeFrame cut{.pkttype = PACKET_OUTGOING, .wire_extra = 100, .bytes = udp_frame()}; // caplen < wire length
	FakeFrame big{.bytes = std::vector<std::uint8_t>(300, 0xab)};                       // over a 200-byte snaplen
	auto blocks = [&] {
		// Fresh each time: preparing a tagged frame rewrites it in place.
		auto b1 = make_block({plain, tagged, cut, big, tagged});
		auto b2 = make_block({big, plain, tagged, cut, plain, plain, tagged});
		// A frame the ring cut off entirely (tp_mac past the block): skipped.
		auto *h = reinterpret_cast<tpacket3_hdr *>(b2.data() + 64);
		h->tp_mac = 60000;
		return std::vector<std::vector<std::uint8_t>>{b1, b2, make_block({tagged, plain})};
	};
	for (bool pcapng : {false, true}) {
		for (std::uint32_t snaplen : {kMaxSnaplen, 200u}) {
			// -c: none, inside the first block, inside the second, at a block's end.
			for (std::optional<std::uint64_t> count : {std::optional<std::uint64_t>{}, std::optional<std::uint64_t>{3},
								   std::optional<std::uint64_t>{8}, std::optional<std::uint64_t>{11}}) {
				INFO("pcapng " << pcapng << ", snaplen " << snaplen << ", -c " << count.value_or(0));
				std::uint64_t one_by_one = 0, batched = 0;
				auto a = write_file(blocks(), false, pcapng, count, snaplen, &one_by_one);
				auto b = write_file(blocks(), true, pcapng, count, snaplen, &batched);
				CHECK(one_by_one == count.value_or(13));
				CHECK(batched == one_by_one);
				CHECK(a.size() > 100);
				CHECK(a == b);
			}
		}
	}
}

TEST_CASE("ring: a batch larger than the output buffer gives the same file as frame by frame", "[ring][output]")
{
	// 1000 frames of 1500 bytes in one block: more than FileOutput's 1 MiB
	// buffer holds, so the batch is encoded in parts with a flush between.
	FakeFrame f{.bytes = std::vector<std::uint8_t>(1500, 0x5a)};
	auto blocks = [&] { return std::vector<std::vector<std::uint8_t>>{make_block(std::vector<FakeFrame>(1000, f), 2 << 20)}; };
	for (bool pcapng : {false, true}) {
		INFO("pcapng " << pcapng);
		std::uint64_t one_by_one = 0, batched = 0;
		auto a = write_file(blocks(), false, pcapng, {}, kMaxSnaplen, &one_by_one);
		auto b = write_file(blocks(), true, pcapng, {}, kMaxSnaplen, &batched);
		CHECK(one_by_one == 1000);
		CHECK(batched == 1000);
		CHECK(a.size() > FileOutput::kBufferSize);
		CHECK(a == b);
	}
}
