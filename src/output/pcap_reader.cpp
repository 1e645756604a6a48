// SPDX-License-Identifier: GPL-2.0-only
#include "output/pcap_reader.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "output/pcap_numbers.hpp"
#include "core/snaplen.hpp"

namespace capx {

namespace {

constexpr std::uint32_t kPcapMicros = kPcapMagicMicroseconds;
constexpr std::uint32_t kPcapNanos = kPcapMagicNanoseconds;
constexpr std::uint32_t kPcapngShb = pcapng::kSectionHeaderBlock;
constexpr std::uint32_t kPcapngByteOrder = pcapng::kByteOrderMagic;
constexpr std::uint32_t kPcapngIdb = pcapng::kInterfaceDescriptionBlock;
constexpr std::uint32_t kPcapngSpb = pcapng::kSimplePacketBlock;
constexpr std::uint32_t kPcapngEpb = pcapng::kEnhancedPacketBlock;
constexpr std::uint16_t kOptIfTsresol = pcapng::kIfTsresol;
// No sane record is larger; guards against garbage lengths.
constexpr std::uint32_t kMaxRecord = 256u << 20;

std::uint32_t bswap32(std::uint32_t v) { return __builtin_bswap32(v); }

} // namespace

void PcapReader::FileCloser::operator()(std::FILE *f) const
{
	if (f && f != stdin)
		std::fclose(f);
}

std::uint32_t PcapReader::u32(const std::uint8_t *p) const
{
	std::uint32_t v;
	std::memcpy(&v, p, 4);
	return swapped_ ? bswap32(v) : v;
}

std::uint16_t PcapReader::u16(const std::uint8_t *p) const
{
	std::uint16_t v;
	std::memcpy(&v, p, 2);
	return swapped_ ? __builtin_bswap16(v) : v;
}

[[nodiscard]] Result<bool> PcapReader::read_exact(void *buf, std::size_t n, bool eof_ok)
{
	std::size_t got = std::fread(buf, 1, n, file_.get());
	if (got == n)
		return true;
	if (std::ferror(file_.get()))
		return fail_errno(errno, fmt::format("read {}", path_));
	if (got == 0 && eof_ok)
		return false;
	return fail(fmt::format("{}: truncated record (file ends inside it)", path_));
}

[[nodiscard]] Result<PcapReader> PcapReader::open(const std::string &path)
{
	PcapReader r;
	r.path_ = path == "-" ? "standard input" : path;
	if (path == "-") {
		r.file_.reset(stdin);
	} else {
		r.file_.reset(std::fopen(path.c_str(), "rb"));
		if (!r.file_)
			return fail_errno(errno, fmt::format("open {}", path));
	}

	std::uint8_t magic_bytes[4];
	auto ok = r.read_exact(magic_bytes, 4, true);
	if (!ok)
		return std::unexpected(std::move(ok.error()));
	if (!*ok)
		return fail(fmt::format("{}: empty file, not a capture", r.path_));
	std::uint32_t magic;
	std::memcpy(&magic, magic_bytes, 4);

	if (magic == kPcapngShb) {
		r.pcapng_ = true;
		std::uint8_t head[8]; // block total length, byte-order magic
		if (auto h = r.read_exact(head, 8, false); !h)
			return std::unexpected(std::move(h.error()));
		std::uint32_t bom;
		std::memcpy(&bom, head + 4, 4);
		if (bom == kPcapngByteOrder)
			r.swapped_ = false;
		else if (bom == bswap32(kPcapngByteOrder))
			r.swapped_ = true;
		else
			return fail(fmt::format("{}: bad pcapng byte-order magic", r.path_));
		std::uint32_t total = r.u32(head);
		if (total < 28 || total > kMaxRecord || total % 4)
			return fail(fmt::format("{}: bad pcapng section header length {}", r.path_, total));
		std::vector<std::uint8_t> rest(total - 12);
		if (auto b = r.read_exact(rest.data(), rest.size(), false); !b)
			return std::unexpected(std::move(b.error()));
		return r;
	}

	if (magic == kPcapMicros || magic == kPcapNanos) {
		r.swapped_ = false;
	} else if (magic == bswap32(kPcapMicros) || magic == bswap32(kPcapNanos)) {
		r.swapped_ = true;
		magic = bswap32(magic);
	} else {
		return fail(fmt::format("{}: not a pcap or pcapng file", r.path_));
	}
	r.nanos_ = magic == kPcapNanos;
	std::uint8_t header[20]; // version, thiszone, sigfigs, snaplen, linktype
	if (auto h = r.read_exact(header, 20, false); !h)
		return std::unexpected(std::move(h.error()));
	r.snaplen_ = r.u32(header + 12);
	// libpcap treats 0 and absurd snapshot lengths as its maximum
	// (pcap-common.c, max_snaplen_for_dlt: kMaxSnaplen for most link types).
	if (r.snaplen_ == 0 || r.snaplen_ > kMaxSnaplen)
		r.snaplen_ = kMaxSnaplen;
	// The top bits of the link type field carry FCS information (pcap-savefile(5)).
	r.linktype_ = static_cast<std::uint16_t>(r.u32(header + 16) & 0xffff);
	return r;
}

[[nodiscard]] Result<std::optional<PcapReader::Record>> PcapReader::next()
{
	return pcapng_ ? next_pcapng() : next_pcap();
}

[[nodiscard]] Result<std::optional<PcapReader::Record>> PcapReader::next_pcap()
{
	std::uint8_t h[16];
	auto ok = read_exact(h, 16, true);
	if (!ok)
		return std::unexpected(std::move(ok.error()));
	if (!*ok)
		return std::optional<Record>{};
	Record rec;
	std::uint64_t sec = u32(h), frac = u32(h + 4);
	rec.timestamp_ns = sec * 1'000'000'000ull + (nanos_ ? frac : frac * 1000);
	std::uint32_t caplen = u32(h + 8);
	rec.wire_len = u32(h + 12);
	if (caplen > kMaxRecord)
		return fail(fmt::format("{}: bad record length {}", path_, caplen));
	// Like libpcap (sf-pcap.c, pcap_next_packet): a record longer than the
	// file's snapshot length keeps only the snapshot, the rest is skipped.
	std::uint32_t keep = std::min(caplen, snaplen_);
	rec.data.resize(keep);
	if (auto b = read_exact(rec.data.data(), keep, false); !b)
		return std::unexpected(std::move(b.error()));
	if (caplen > keep && std::fseek(file_.get(), caplen - keep, SEEK_CUR) != 0) {
		std::vector<std::uint8_t> skip(caplen - keep);
		if (auto b = read_exact(skip.data(), skip.size(), false); !b)
			return std::unexpected(std::move(b.error()));
	}
	return std::optional<Record>(std::move(rec));
}

[[nodiscard]] Result<void> PcapReader::parse_section_header(const std::vector<std::uint8_t> &body)
{
	std::uint32_t bom;
	std::memcpy(&bom, body.data(), 4);
	if (bom == kPcapngByteOrder)
		swapped_ = false;
	else if (bom == bswap32(kPcapngByteOrder))
		swapped_ = true;
	else
		return fail(fmt::format("{}: bad pcapng byte-order magic", path_));
	// A new section starts a new interface numbering.
	if_linktypes_.clear();
	if_ticks_per_sec_.clear();
	return {};
}

[[nodiscard]] Result<std::optional<PcapReader::Record>> PcapReader::next_pcapng()
{
	for (;;) {
		std::uint8_t h[8];
		auto ok = read_exact(h, 8, true);
		if (!ok)
			return std::unexpected(std::move(ok.error()));
		if (!*ok)
			return std::optional<Record>{};
		std::uint32_t type_raw;
		std::memcpy(&type_raw, h, 4);
		bool shb = type_raw == kPcapngShb;
		std::uint32_t total;
		std::memcpy(&total, h + 4, 4);
		if (shb) {
			// Byte order of a new section is only known from its body.
			std::uint8_t bom[4];
			if (auto b = read_exact(bom, 4, false); !b)
				return std::unexpected(std::move(b.error()));
			std::uint32_t v;
			std::memcpy(&v, bom, 4);
			if (v == bswap32(kPcapngByteOrder))
				total = bswap32(total);
			std::vector<std::uint8_t> body(bom, bom + 4);
			if (auto r = parse_section_header(body); !r)
				return std::unexpected(std::move(r.error()));
			if (total < 28 || total > kMaxRecord || total % 4)
				return fail(fmt::format("{}: bad pcapng block length {}", path_, total));
			std::vector<std::uint8_t> rest(total - 12);
			if (auto b = read_exact(rest.data(), rest.size(), false); !b)
				return std::unexpected(std::move(b.error()));
			continue;
		}
		std::uint32_t type = u32(h);
		total = u32(h + 4);
		if (total < 12 || total > kMaxRecord || total % 4)
			return fail(fmt::format("{}: bad pcapng block length {}", path_, total));
		std::vector<std::uint8_t> body(total - 8);
		if (auto b = read_exact(body.data(), body.size(), false); !b)
			return std::unexpected(std::move(b.error()));
		std::size_t len = body.size() - 4; // trailing total length

		if (type == kPcapngIdb) {
			if (len < 8)
				return fail(fmt::format("{}: short interface description block", path_));
			std::uint16_t lt = u16(body.data());
			if (if_linktypes_.empty()) {
				linktype_ = lt;
				snaplen_ = u32(body.data() + 4);
			}
			std::uint64_t ticks = 1'000'000; // default if_tsresol is 10^-6
			for (std::size_t o = 8; o + 4 <= len;) {
				std::uint16_t code = u16(body.data() + o), olen = u16(body.data() + o + 2);
				if (code == 0)
					break;
				if (code == kOptIfTsresol && olen >= 1 && o + 5 <= len) {
					std::uint8_t v = body[o + 4];
					ticks = 1;
					for (int i = 0; i < (v & 0x7f); i++)
						ticks *= (v & 0x80) ? 2 : 10;
				}
				o += 4 + ((olen + 3u) & ~3u);
			}
			if_linktypes_.push_back(lt);
			if_ticks_per_sec_.push_back(ticks);
			continue;
		}
		if (type == kPcapngEpb) {
			if (len < 20)
				return fail(fmt::format("{}: short enhanced packet block", path_));
			Record rec;
			rec.interface = u32(body.data());
			if (rec.interface >= if_linktypes_.size())
				return fail(fmt::format("{}: packet for undeclared interface {}", path_, rec.interface));
			std::uint64_t ts = (std::uint64_t{u32(body.data() + 4)} << 32) | u32(body.data() + 8);
			std::uint64_t ticks = if_ticks_per_sec_[rec.interface];
			rec.timestamp_ns = ts / ticks * 1'000'000'000ull + ts % ticks * 1'000'000'000ull / ticks;
			std::uint32_t caplen = u32(body.data() + 12);
			rec.wire_len = u32(body.data() + 16);
			if (20 + std::size_t{caplen} > len)
				return fail(fmt::format("{}: packet data overruns its block", path_));
			rec.data.assign(body.begin() + 20, body.begin() + 20 + caplen);
			return std::optional<Record>(std::move(rec));
		}
		if (type == kPcapngSpb) {
			if (len < 4 || if_linktypes_.empty())
				return fail(fmt::format("{}: bad simple packet block", path_));
			Record rec;
			rec.wire_len = u32(body.data());
			std::uint32_t caplen = std::min<std::uint32_t>(rec.wire_len, static_cast<std::uint32_t>(len - 4));
			rec.data.assign(body.begin() + 4, body.begin() + 4 + caplen);
			return std::optional<Record>(std::move(rec));
		}
		// Other blocks (name resolution, statistics, custom) carry no packets.
	}
}

} // namespace capx
