// SPDX-License-Identifier: GPL-2.0-only
#include "filter/cbpf.hpp"

#include <cstddef>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "core/packet.hpp"
#include "filter/insn.hpp"

namespace capx {

// CbpfInsn mirrors libpcap's instruction so programs can be copied field by field.
static_assert(sizeof(CbpfInsn) == sizeof(bpf_insn));
static_assert(offsetof(CbpfInsn, k) == offsetof(bpf_insn, k));

namespace {

// pcap_open_dead() takes DLT_ numbers; the pcap file numbers (LINKTYPE_) differ
// for raw IP: LINKTYPE_RAW (101) is DLT_RAW (12 on Linux) there, and libpcap
// 1.10 refuses 101 ("unknown data link type").
int linktype_to_dlt(int linktype)
{
	return linktype == kLinkRaw ? DLT_RAW : linktype;
}

} // namespace

CbpfProgram::CbpfProgram(CbpfProgram &&o) noexcept
	: program_(std::exchange(o.program_, bpf_program{})),
	  expression_(std::move(o.expression_)), linktype_(o.linktype_), snaplen_(o.snaplen_)
{
}

CbpfProgram &CbpfProgram::operator=(CbpfProgram &&o) noexcept
{
	if (this != &o) {
		pcap_freecode(&program_);
		program_ = std::exchange(o.program_, bpf_program{});
		expression_ = std::move(o.expression_);
		linktype_ = o.linktype_;
		snaplen_ = o.snaplen_;
	}
	return *this;
}

CbpfProgram::~CbpfProgram() { pcap_freecode(&program_); }

[[nodiscard]] Result<CbpfProgram> CbpfProgram::compile(std::string_view expression, int linktype,
					 std::uint32_t snaplen, bool optimize)
{
	std::unique_ptr<pcap_t, decltype(&pcap_close)> dead(
		pcap_open_dead(linktype_to_dlt(linktype), static_cast<int>(snaplen)), &pcap_close);
	if (!dead)
		return fail(fmt::format("cannot set up libpcap for link type {}", linktype));

	CbpfProgram p;
	p.expression_ = std::string(expression);
	p.linktype_ = linktype;
	p.snaplen_ = snaplen;
	if (pcap_compile(dead.get(), &p.program_, p.expression_.c_str(), optimize ? 1 : 0,
			 PCAP_NETMASK_UNKNOWN) < 0) {
		// libpcap 1.10 prefixes parser errors with this (gencode.c,
		// pcap_compile); the rest is its own message, kept as is.
		std::string_view message = pcap_geterr(dead.get());
		constexpr std::string_view prefix = "can't parse filter expression: ";
		if (message.starts_with(prefix))
			message.remove_prefix(prefix.size());
		// The one place that decides how a bad expression ends: exit 1
		// (runtime) in every subcommand, as issue 2 asks; callers add
		// hints but keep the status.
		return fail(fmt::format("filter '{}': {}", expression, message),
			    "see pcap-filter(7) for the expression syntax");
	}
	return p;
}

bool CbpfProgram::accepts_all() const
{
	// libpcap compiles "" to a single "ret #snaplen".
	return program_.bf_len == 1 && program_.bf_insns[0].code == (BPF_RET | BPF_K) &&
	       program_.bf_insns[0].k != 0;
}

std::uint32_t CbpfProgram::run(std::span<const std::uint8_t> packet, std::uint32_t wire_len) const
{
	return bpf_filter(program_.bf_insns, packet.data(), wire_len, static_cast<u_int>(packet.size()));
}

std::string dump_cbpf(const CbpfProgram &program, int level)
{
	std::string out;
	auto insns = program.insns();
	if (level >= 3) {
		out += fmt::format("{}\n", insns.size());
		for (const auto &i : insns)
			out += fmt::format("{} {} {} {}\n", i.code, i.jt, i.jf, i.k);
	} else if (level == 2) {
		for (const auto &i : insns)
			out += fmt::format("{{ 0x{:x}, {}, {}, 0x{:08x} }},\n", i.code, i.jt, i.jf, i.k);
	} else {
		for (std::size_t n = 0; n < insns.size(); n++) {
			// bpf_image() formats one instruction exactly as tcpdump -d does.
			out += bpf_image(const_cast<bpf_insn *>(&insns[n]), static_cast<int>(n));
			out += '\n';
		}
	}
	return out;
}

std::string join_expression(std::span<const std::string> words)
{
	std::string out;
	for (const auto &w : words) {
		if (!out.empty())
			out += ' ';
		out += w;
	}
	return out;
}

} // namespace capx
