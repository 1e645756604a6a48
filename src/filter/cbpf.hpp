// SPDX-License-Identifier: GPL-2.0-only
// The filter front: a tcpdump expression compiled to classic BPF by libpcap
// (pcap_open_dead + pcap_compile; libpcap is used for nothing else).
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/snaplen.hpp"

namespace capx {

// Owns a compiled classic BPF program (pcap_freecode on destruction).
class CbpfProgram {
public:
	CbpfProgram() = default;
	CbpfProgram(const CbpfProgram &) = delete;
	CbpfProgram &operator=(const CbpfProgram &) = delete;
	CbpfProgram(CbpfProgram &&o) noexcept;
	CbpfProgram &operator=(CbpfProgram &&o) noexcept;
	~CbpfProgram();

	// Compiles `expression` for `linktype` (DLT_*) and `snaplen`. An empty
	// expression compiles to "accept everything" (libpcap's own answer).
	[[nodiscard]] static Result<CbpfProgram> compile(std::string_view expression, int linktype,
					   std::uint32_t snaplen = kMaxSnaplen, bool optimize = true);

	std::span<const bpf_insn> insns() const { return {program_.bf_insns, program_.bf_len}; }
	const bpf_program &raw() const { return program_; }
	const std::string &expression() const { return expression_; }
	int linktype() const { return linktype_; }
	std::uint32_t snaplen() const { return snaplen_; }

	// True when the program accepts every packet (empty expression).
	bool accepts_all() const;

	// libpcap's interpreter: the reference for every other engine.
	// Returns the number of bytes to keep, 0 = no match.
	std::uint32_t run(std::span<const std::uint8_t> packet, std::uint32_t wire_len) const;

private:
	bpf_program program_{};
	std::string expression_;
	int linktype_ = 0;
	std::uint32_t snaplen_ = 0;
};

// The program as `tcpdump -d` (level 1), `-dd` (2) or `-ddd` (3) prints it.
std::string dump_cbpf(const CbpfProgram &program, int level);

// Joins the trailing words of a command line into one expression, as tcpdump does.
std::string join_expression(std::span<const std::string> words);

} // namespace capx
