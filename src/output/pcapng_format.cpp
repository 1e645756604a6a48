// SPDX-License-Identifier: GPL-2.0-only
#include "output/pcapng_format.hpp"

#include <sys/utsname.h>

#include <algorithm>

#include <fmt/format.h>

#include "capx_config.h"
#include "output/little_endian.hpp"
#include "output/packet_meta_text.hpp"
#include "output/pcap_numbers.hpp"

namespace capx {

namespace {

using namespace pcapng;

constexpr std::size_t kEpbFixedSize = 28 + 4; // header fields + trailing length
constexpr std::uint32_t kMaxOptionLength = 0xffff;

constexpr std::size_t pad4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }
constexpr std::size_t option_size(std::size_t value_len) { return 4 + pad4(value_len); }

// Option values are 16-bit sized; a longer string (a huge filter) is cut.
std::string_view clamp(std::string_view s)
{
	return s.substr(0, std::min<std::size_t>(s.size(), kMaxOptionLength));
}

std::uint8_t *put_option(std::uint8_t *p, std::uint16_t code, const void *value, std::size_t len)
{
	p = le::put_u16(p, code);
	p = le::put_u16(p, static_cast<std::uint16_t>(len));
	p = le::put_bytes(p, value, len);
	return le::put_zeros(p, pad4(len) - len);
}

std::uint8_t *put_option_u32(std::uint8_t *p, std::uint16_t code, std::uint32_t v)
{
	std::uint8_t bytes[4];
	le::put_u32(bytes, v);
	return put_option(p, code, bytes, sizeof bytes);
}

std::uint8_t *put_option_u64(std::uint8_t *p, std::uint16_t code, std::uint64_t v)
{
	std::uint8_t bytes[8];
	le::put_u64(bytes, v);
	return put_option(p, code, bytes, sizeof bytes);
}

// Builds one block (header, body, trailing length) at the end of `out`.
class BlockBuilder {
public:
	BlockBuilder(std::vector<std::uint8_t> &out, std::uint32_t type) : out_(out), start_(out.size())
	{
		u32(type);
		u32(0); // total length, patched in end()
	}

	void u16(std::uint16_t v) { le::put_u16(grow(2), v); }
	void u32(std::uint32_t v) { le::put_u32(grow(4), v); }
	void u64(std::uint64_t v) { le::put_u64(grow(8), v); }
	void option(std::uint16_t code, std::string_view value)
	{
		value = clamp(value);
		put_option(grow(option_size(value.size())), code, value.data(), value.size());
		has_options_ = true;
	}
	void option_bytes(std::uint16_t code, std::span<const std::uint8_t> value)
	{
		put_option(grow(option_size(value.size())), code, value.data(), value.size());
		has_options_ = true;
	}

	void end()
	{
		// opt_endofopt closes a non-empty option list (section 3.5).
		if (has_options_) {
			u16(kOptEndOfOptions);
			u16(0);
		}
		std::uint32_t total = static_cast<std::uint32_t>(out_.size() - start_ + 4);
		u32(total);
		le::put_u32(out_.data() + start_ + 4, total);
	}

private:
	std::uint8_t *grow(std::size_t n)
	{
		out_.resize(out_.size() + n);
		return out_.data() + out_.size() - n;
	}

	std::vector<std::uint8_t> &out_;
	std::size_t start_;
	bool has_options_ = false;
};

} // namespace

PcapngIdentity PcapngIdentity::of_this_host()
{
	PcapngIdentity id;
	struct utsname u;
	if (::uname(&u) == 0)
		id.os = fmt::format("{} {}", u.sysname, u.release);
	id.application = fmt::format("capx {}", CAPX_VERSION);
	return id;
}

[[nodiscard]] Result<void> PcapngFormat::configure(std::span<const CapturePoint> points)
{
	header_.clear();
	snaplens_.clear();

	BlockBuilder shb(header_, kSectionHeaderBlock);
	shb.u32(kByteOrderMagic);
	shb.u16(1); // major version
	shb.u16(0); // minor version
	shb.u64(kSectionLengthUnknown);
	if (!identity_.os.empty())
		shb.option(kShbOs, identity_.os);
	if (!identity_.application.empty())
		shb.option(kShbUserApplication, identity_.application);
	shb.end();

	for (const auto &p : points) {
		BlockBuilder idb(header_, kInterfaceDescriptionBlock);
		idb.u16(p.linktype);
		idb.u16(0); // reserved
		idb.u32(p.snaplen);
		if (!p.name.empty())
			idb.option(kIfName, p.name);
		if (!p.description.empty())
			idb.option(kIfDescription, p.description);
		const std::uint8_t tsresol[] = {kTsresolNanoseconds};
		idb.option_bytes(kIfTsresol, tsresol);
		if (!p.filter.empty()) {
			std::string filter(1, static_cast<char>(kFilterLibpcapString));
			filter += clamp(p.filter).substr(0, kMaxOptionLength - 1);
			idb.option(kIfFilter, filter);
		}
		const std::string &os = p.os.empty() ? identity_.os : p.os;
		if (!os.empty())
			idb.option(kIfOs, os);
		idb.end();
		// SnapLen 0 means "no limit" (section 4.2).
		snaplens_.push_back(p.snaplen == 0 ? ~std::uint32_t{0} : p.snaplen);
	}
	return {};
}

[[nodiscard]] Result<std::size_t> PcapngFormat::measure(const PacketView &packet)
{
	if (packet.capture_point >= snaplens_.size())
		return fail(fmt::format("packet from capture point {}, but only {} were declared",
					packet.capture_point, snaplens_.size()));
	const PacketMeta &m = packet.meta;
	caplen_ = static_cast<std::uint32_t>(
		std::min<std::size_t>(packet.data.size(), snaplens_[packet.capture_point]));

	// The one textual form of the metadata (append_meta), so Wireshark's
	// packet comment reads like capx's own printer.
	comment_.clear();
	append_meta(comment_, m);
	if (comment_.size() > kMaxOptionLength)
		comment_.resize(kMaxOptionLength);

	std::size_t options = 0;
	if (!comment_.empty())
		options += option_size(comment_.size());
	if (m.direction != Direction::Unknown)
		options += option_size(4);
	if (m.drops_before)
		options += option_size(8);
	if (m.packet_id)
		options += option_size(8);
	if (m.queue)
		options += option_size(4);
	if (m.xdp_verdict)
		options += option_size(kVerdictSize);
	if (options)
		options += 4; // opt_endofopt
	options_size_ = static_cast<std::uint32_t>(options);
	block_size_ = static_cast<std::uint32_t>(kEpbFixedSize + pad4(caplen_) + options);
	return block_size_;
}

void PcapngFormat::encode(const PacketView &packet, std::uint8_t *out)
{
	const PacketMeta &m = packet.meta;
	const std::uint32_t wire_len =
		std::max<std::uint32_t>(packet.wire_len, static_cast<std::uint32_t>(packet.data.size()));
	// if_tsresol is 9: the timestamp is nanoseconds since the epoch, as one
	// 64-bit count written high word first (section 4.3).
	const std::uint64_t ts = packet.timestamp_ns;

	std::uint8_t *p = out;
	p = le::put_u32(p, kEnhancedPacketBlock);
	p = le::put_u32(p, block_size_);
	p = le::put_u32(p, packet.capture_point);
	p = le::put_u32(p, static_cast<std::uint32_t>(ts >> 32));
	p = le::put_u32(p, static_cast<std::uint32_t>(ts));
	p = le::put_u32(p, caplen_);
	p = le::put_u32(p, wire_len);
	p = le::put_bytes(p, packet.data.data(), caplen_);
	p = le::put_zeros(p, pad4(caplen_) - caplen_);

	if (!comment_.empty())
		p = put_option(p, kOptComment, comment_.data(), comment_.size());
	if (m.direction != Direction::Unknown)
		p = put_option_u32(p, kEpbFlags, m.direction == Direction::Inbound ? kFlagInbound : kFlagOutbound);
	if (m.drops_before)
		p = put_option_u64(p, kEpbDropCount, *m.drops_before);
	if (m.packet_id)
		p = put_option_u64(p, kEpbPacketId, *m.packet_id);
	if (m.queue)
		p = put_option_u32(p, kEpbQueue, *m.queue);
	if (m.xdp_verdict) {
		std::uint8_t verdict[kVerdictSize];
		verdict[0] = kVerdictXdp;
		le::put_u64(verdict + 1, *m.xdp_verdict);
		p = put_option(p, kEpbVerdict, verdict, sizeof verdict);
	}
	if (options_size_) {
		p = le::put_u16(p, kOptEndOfOptions);
		p = le::put_u16(p, 0);
	}
	le::put_u32(p, block_size_);
}

} // namespace capx
