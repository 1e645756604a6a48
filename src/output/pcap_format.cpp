// SPDX-License-Identifier: GPL-2.0-only
#include "output/pcap_format.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "output/pcap_numbers.hpp"
#include "core/snaplen.hpp"
#include "output/little_endian.hpp"

namespace capx {

namespace {

// pcap-savefile(5), "File Header".
constexpr std::uint32_t kMagicMicroseconds = kPcapMagicMicroseconds;
constexpr std::uint32_t kMagicNanoseconds = kPcapMagicNanoseconds;
constexpr std::uint16_t kVersionMajor = 2;
constexpr std::uint16_t kVersionMinor = 4;

// The names `tcpdump -r` prints for the link types capx writes
// (pcap-linktype(7)); libpcap itself is kept to filter compilation.
std::string link_type_name(std::uint16_t linktype)
{
	switch (linktype) {
	case kLinkEthernet:
		return "EN10MB";
	case kLinkRaw:
		return "RAW";
	case kLinkLinuxSll:
		return "LINUX_SLL";
	case kLinkLinuxSll2:
		return "LINUX_SLL2";
	default:
		return fmt::format("LINKTYPE {}", linktype);
	}
}

} // namespace

[[nodiscard]] Result<void> PcapFormat::configure(std::span<const CapturePoint> points)
{
	std::uint16_t linktype = points.empty() ? std::uint16_t{kLinkEthernet} : points.front().linktype;
	std::uint32_t snaplen = points.empty() ? kMaxSnaplen : 0;
	for (const auto &p : points) {
		if (p.linktype != linktype)
			return fail_usage(
				fmt::format("pcap holds one link type per file, but {} is {} and {} is {}",
					    points.front().name, link_type_name(linktype), p.name,
					    link_type_name(p.linktype)),
				"write pcapng instead: --pcapng, or a -w name ending in .pcapng");
		snaplen = std::max(snaplen, p.snaplen);
	}
	snaplen_ = snaplen == 0 ? kMaxSnaplen : snaplen;

	std::uint8_t *p = header_.data();
	p = le::put_u32(p, nanoseconds_ ? kMagicNanoseconds : kMagicMicroseconds);
	p = le::put_u16(p, kVersionMajor);
	p = le::put_u16(p, kVersionMinor);
	p = le::put_u32(p, 0); // thiszone: timestamps are UTC
	p = le::put_u32(p, 0); // sigfigs: always 0
	p = le::put_u32(p, snaplen_);
	le::put_u32(p, linktype);
	return {};
}

[[nodiscard]] Result<std::size_t> PcapFormat::measure(const PacketView &packet)
{
	caplen_ = caplen_of(packet);
	return kRecordHeaderSize + caplen_;
}

void PcapFormat::encode(const PacketView &packet, std::uint8_t *out)
{
	encode_record(packet, caplen_, out);
}

[[nodiscard]] Result<std::size_t> PcapFormat::encode_batch(PacketBatch batch, std::uint8_t *out, std::size_t room,
					     std::uint32_t *sizes)
{
	std::size_t i = 0;
	for (; i < batch.size(); i++) {
		const PacketView &packet = batch[i];
		const std::uint32_t caplen = caplen_of(packet);
		const std::size_t size = kRecordHeaderSize + caplen;
		if (size > room)
			break;
		encode_record(packet, caplen, out);
		out += size;
		room -= size;
		sizes[i] = static_cast<std::uint32_t>(size);
	}
	return i;
}

inline void PcapFormat::encode_record(const PacketView &packet, std::uint32_t caplen, std::uint8_t *out) const
{
	const std::uint64_t ns = packet.timestamp_ns;
	const std::uint32_t seconds = static_cast<std::uint32_t>(ns / 1'000'000'000u);
	const std::uint64_t fraction_ns = ns % 1'000'000'000u;
	const std::uint32_t fraction =
		static_cast<std::uint32_t>(nanoseconds_ ? fraction_ns : fraction_ns / 1000u);
	// The original length is never below what was captured (a source that
	// does not know it reports 0).
	const std::uint32_t wire_len =
		std::max<std::uint32_t>(packet.wire_len, static_cast<std::uint32_t>(packet.data.size()));

	std::uint8_t *p = out;
	p = le::put_u32(p, seconds);
	p = le::put_u32(p, fraction);
	p = le::put_u32(p, caplen);
	p = le::put_u32(p, wire_len);
	le::put_bytes(p, packet.data.data(), caplen);
}

} // namespace capx
