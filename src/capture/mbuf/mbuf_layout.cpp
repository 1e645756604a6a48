// SPDX-License-Identifier: GPL-2.0-only
#include "capture/mbuf/mbuf_layout.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/mbuf/mbuf_dwarf.hpp"
#include "capture/uprobe/symbols.hpp"

namespace capx::mbuf {

namespace {

// Field widths in bytes, for `size` (what the BPF side reads at once).
struct FieldInfo {
	const char *name;
	capx_u16 capx_mbuf_layout::*member;
	unsigned width;
};

constexpr std::array<FieldInfo, 8> kFields{{
	{"buf_addr", &capx_mbuf_layout::buf_addr, 8},
	{"data_off", &capx_mbuf_layout::data_off, 2},
	{"nb_segs", &capx_mbuf_layout::nb_segs, 2},
	{"port", &capx_mbuf_layout::port, 2},
	{"pkt_len", &capx_mbuf_layout::pkt_len, 4},
	{"data_len", &capx_mbuf_layout::data_len, 2},
	{"buf_len", &capx_mbuf_layout::buf_len, 2},
	{"next", &capx_mbuf_layout::next, 8},
}};

// The largest offset + width capx accepts: the BPF side reads the fields
// it needs from one copy of the mbuf's first two cache lines.
constexpr unsigned kMaxEnd = 128;

constexpr capx_mbuf_layout with_size(capx_mbuf_layout l)
{
	unsigned end = 0;
	for (const FieldInfo &f : kFields)
		end = std::max(end, static_cast<unsigned>(l.*f.member) + f.width);
	l.size = static_cast<capx_u16>(end);
	return l;
}

// struct rte_mbuf on x86-64 (lib/mbuf/rte_mbuf_core.h; lib/librte_mbuf/ in
// 20.11). From 20.11 to 24.11 the first cache line is the same:
//   buf_addr 0, buf_iova 8, data_off 16, refcnt 18, nb_segs 20, port 22,
//   ol_flags 24, packet_type 32, pkt_len 36, data_len 40, vlan_tci 42,
//   hash 44, vlan_tci_outer 52, buf_len 54, pool 56,
// and `next` opens the second cache line at 64. 20.11 made it so: its
// release notes (API changes) removed userdata/udata64, seqn and timestamp
// from the mbuf, and DPDK commit 4630290af46e ("mbuf: move pool pointer in
// first half", a Technical Board decision of November 2020) moved pool
// from 72 to 56 and with it next from 80 to 64 (19.11 had timestamp at 56,
// userdata 64, pool 72, next 80; not in this table).
// 22.11's build option enable_iova_as_pa=false ("Disabling removes the
// buf_iova field of mbuf", meson_options.txt; RTE_IOVA_AS_PA in 22.11,
// renamed RTE_IOVA_IN_MBUF in 23.03) puts `next` at 8 in buf_iova's place
// and a dynfield2 at 64. Only the 22.11 row is checked against headers here
// (tests/unit/mbuf/test_layout_dpdk.cpp, the installed libdpdk-dev); the
// others are from the sources as cited.
constexpr capx_mbuf_layout kWithIova = with_size({0, 16, 20, 22, 36, 40, 54, 64, 0, {}});
constexpr capx_mbuf_layout kNoIova = with_size({0, 16, 20, 22, 36, 40, 54, 8, 0, {}});

const std::array<MbufLayout, 8> &table()
{
	static const std::array<MbufLayout, 8> t{{
		{"dpdk-20.11", kWithIova},
		{"dpdk-21.11", kWithIova},
		{"dpdk-22.11", kWithIova},
		{"dpdk-22.11-no-iova", kNoIova},
		{"dpdk-23.11", kWithIova},
		{"dpdk-23.11-no-iova", kNoIova},
		{"dpdk-24.11", kWithIova},
		{"dpdk-24.11-no-iova", kNoIova},
	}};
	return t;
}

// librte_mbuf.so.N -> the LTS release of that ABI (DPDK's ABI policy: one
// major ABI per year, set by the .11 LTS release, kept by the .03/.07
// releases after it).
std::optional<std::string> release_of_abi(unsigned major)
{
	switch (major) {
	case 21:
		return "20.11";
	case 22:
		return "21.11";
	case 23:
		return "22.11";
	case 24:
		return "23.11";
	case 25:
		return "24.11";
	default:
		return std::nullopt;
	}
}

std::string names_list()
{
	std::string out;
	for (const MbufLayout &l : table())
		out += (out.empty() ? "" : ", ") + l.name;
	return out;
}

std::string field_list()
{
	std::string out;
	for (const FieldInfo &f : kFields)
		out += (out.empty() ? "" : ",") + std::string(f.name) + "=N";
	return out;
}

std::string_view trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
		s.remove_suffix(1);
	return s;
}

std::optional<unsigned> parse_number(std::string_view text)
{
	unsigned v = 0;
	int base = 10;
	if (text.starts_with("0x") || text.starts_with("0X")) {
		text.remove_prefix(2);
		base = 16;
	}
	if (text.empty())
		return std::nullopt;
	auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
	if (ec != std::errc() || p != text.data() + text.size())
		return std::nullopt;
	return v;
}

std::string base_name(const std::string &path)
{
	std::size_t slash = path.rfind('/');
	return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

[[nodiscard]] Result<MbufLayout> make_layout(std::string name, capx_mbuf_layout offsets)
{
	for (const FieldInfo &f : kFields)
		if (offsets.*f.member + f.width > kMaxEnd)
			return fail(fmt::format("rte_mbuf layout {}: {} at {} ends beyond the first {} bytes", name, f.name,
						offsets.*f.member, kMaxEnd));
	return MbufLayout{std::move(name), with_size(offsets)};
}

std::span<const MbufLayout> builtin_layouts()
{
	return table();
}

[[nodiscard]] Result<MbufLayout> parse_layout(std::string_view value)
{
	value = trim(value);
	if (value.empty())
		return fail_usage("--mbuf-layout: empty value", "a name (" + names_list() + ") or " + field_list());
	if (value.find('=') == std::string_view::npos) {
		for (const MbufLayout &l : table())
			if (value == l.name || value == std::string_view(l.name).substr(5))
				return l;
		return fail_usage(fmt::format("--mbuf-layout: unknown layout '{}'", value), "known: " + names_list());
	}
	MbufLayout out{"custom", {}};
	std::array<bool, kFields.size()> seen{};
	std::string_view rest = value;
	while (true) {
		std::size_t comma = rest.find(',');
		std::string_view item = trim(rest.substr(0, comma));
		std::size_t eq = item.find('=');
		if (item.empty() || eq == std::string_view::npos)
			return fail_usage(fmt::format("--mbuf-layout: '{}' is not FIELD=OFFSET", item), field_list());
		std::string_view name = trim(item.substr(0, eq));
		std::string_view number = trim(item.substr(eq + 1));
		auto field = std::find_if(kFields.begin(), kFields.end(), [&](const FieldInfo &f) { return name == f.name; });
		if (field == kFields.end())
			return fail_usage(fmt::format("--mbuf-layout: unknown field '{}'", name), "fields: " + field_list());
		std::size_t index = static_cast<std::size_t>(field - kFields.begin());
		if (seen[index])
			return fail_usage(fmt::format("--mbuf-layout: field '{}' given twice", name));
		auto offset = parse_number(number);
		if (!offset)
			return fail_usage(fmt::format("--mbuf-layout: {}: '{}' is not a number", name, number));
		if (*offset + field->width > kMaxEnd)
			return fail_usage(fmt::format("--mbuf-layout: {}={} ends beyond the first {} bytes of the mbuf", name,
						      *offset, kMaxEnd));
		out.offsets.*(field->member) = static_cast<capx_u16>(*offset);
		seen[index] = true;
		if (comma == std::string_view::npos)
			break;
		rest = rest.substr(comma + 1);
	}
	std::string missing;
	for (std::size_t i = 0; i < kFields.size(); i++)
		if (!seen[i])
			missing += (missing.empty() ? "" : ", ") + std::string(kFields[i].name);
	if (!missing.empty())
		return fail_usage(fmt::format("--mbuf-layout: missing {}", missing), "every field is needed: " + field_list());
	out.offsets = with_size(out.offsets);
	return out;
}

[[nodiscard]] Result<MbufLayout> detect_layout(const uprobe::Target &target)
{
	auto files = uprobe::target_files(target);
	if (!files)
		return std::unexpected(files.error());
	// DWARF first: it describes this very build, options included.
	for (const std::string &f : *files) {
		std::string base = base_name(f);
		if (f != files->front() && !base.starts_with("librte_mbuf.so"))
			continue;
		if (auto layout = dwarf_layout(f)) {
			spdlog::debug("rte_mbuf layout from the DWARF of {}", f);
			return *layout;
		}
	}
	for (const std::string &f : *files) {
		std::string base = base_name(f);
		constexpr std::string_view prefix = "librte_mbuf.so.";
		if (!base.starts_with(prefix))
			continue;
		std::string_view version = std::string_view(base).substr(prefix.size());
		unsigned major = 0;
		auto [p, ec] = std::from_chars(version.data(), version.data() + version.size(), major);
		if (ec != std::errc())
			continue;
		auto release = release_of_abi(major);
		if (!release)
			return fail(fmt::format("{} is DPDK ABI {}, which capx has no rte_mbuf layout for", base, major),
				    "give it with --mbuf-layout " + field_list());
		std::string name = "dpdk-" + *release;
		for (const MbufLayout &l : table())
			if (l.name == name)
				return l;
	}
	return fail(fmt::format("{} maps no librte_mbuf.so and has no DWARF for struct rte_mbuf (a static build?)",
				target.pids.empty() ? target.executable : fmt::format("process {}", target.pids.front())),
		    "name the DPDK release it was built with: --mbuf-layout dpdk-22.11 (known: " + names_list() +
			    "), or give the offsets: --mbuf-layout " + field_list());
}

} // namespace capx::mbuf
