// SPDX-License-Identifier: GPL-2.0-only
// The instruction surgery behind filter injection (inject.hpp), kept apart
// from libbpf so that it can be tested on hand-made instruction streams.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "filter/insn.hpp"

namespace capx::bpf {

// BTF func_info or line_info records of one program, as BPF_PROG_LOAD takes
// them: `rec_size` bytes each, starting with the u32 instruction offset.
struct BtfExtRecords {
	std::uint32_t rec_size = 0;
	std::vector<std::uint8_t> bytes;

	std::size_t count() const { return rec_size ? bytes.size() / rec_size : 0; }
	std::uint32_t insn_off(std::size_t i) const;
	void set_insn_off(std::size_t i, std::uint32_t off);
};

// One relocated program: main program followed by its subprograms, as
// libbpf hands it to the kernel.
struct ProgramImage {
	std::vector<EbpfInsn> insns;
	BtfExtRecords func_info;
	BtfExtRecords line_info;
};

// Index of the first instruction of every function of the program: 0 and
// every target of a BPF-to-BPF call or of a function pointer load
// (ld_imm64 with BPF_PSEUDO_FUNC), sorted.
std::vector<std::size_t> function_starts(std::span<const EbpfInsn> insns);

// Index of the ld_imm64 that loads `marker`, if the program has one.
std::optional<std::size_t> find_marker(std::span<const EbpfInsn> insns, std::uint64_t marker);

// Replaces the body of the subprogram that loads `marker` (one ld_imm64)
// with `body`, fixing every call, function pointer and jump that crosses
// it and the BTF func_info/line_info offsets behind it. Returns false when
// the program has no such subprogram. Fails on a malformed body (a call, a
// map or function reference, a jump out of it, no final exit) and on a
// program where the marker or its function boundaries are ambiguous.
[[nodiscard]] Result<bool> splice_placeholder(ProgramImage &image, std::uint64_t marker, std::span<const EbpfInsn> body);

// Checks a filter body on its own: what splice_placeholder() accepts.
[[nodiscard]] Result<void> check_filter_body(std::span<const EbpfInsn> body);

} // namespace capx::bpf
