// SPDX-License-Identifier: GPL-2.0-only
// Classic BPF (as libpcap compiles tcpdump expressions) -> eBPF, as the body
// of one of the placeholder subprograms declared in include/capx/filter_abi.h.
//
// The translated code keeps libpcap's bpf_filter() semantics exactly (32-bit
// unsigned arithmetic, network byte order loads, a load past the captured
// bytes or a division by zero returns 0, shifts as bpf_filter does them on
// x86-64) and is shaped so that the verifier can prove every load in bounds:
// in packet mode each load is checked against data_end, in buffer mode against
// a constant (CAPX_PACKET_BUF_SIZE) as well as against caplen.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "filter/insn.hpp"

namespace capx {

// How the translated subprogram reaches the packet (filter_abi.h).
enum class FilterAccess {
	// r1 = data, r2 = data_end (verifier packet pointers), r3 = wire length.
	Packet,
	// r1 = map value of CAPX_PACKET_BUF_SIZE bytes, r2 = caplen, r3 = wire length.
	Buffer,
};

struct EbpfFilter {
	FilterAccess access = FilterAccess::Packet;
	// The subprogram body: starts at its first instruction, ends in `exit`,
	// uses r0-r9 and at most `stack_bytes` bytes below r10, calls nothing.
	std::vector<EbpfInsn> insns;
	std::uint32_t stack_bytes = 0;
	// Highest packet byte offset + 1 the filter can read when it is
	// statically known (absolute loads, and indirect ones whose X is
	// bounded, e.g. by `ldx 4*([k]&0xf)`), std::nullopt when an indirect
	// load can reach any byte. Sources need copy no more than this.
	std::optional<std::uint32_t> bytes_needed;
	// True when the classic program has a backward jump (libpcap emits
	// loops for `protochain`). Loops are unrolled kFilterLoopCopies times;
	// the backward jump number kFilterLoopCopies returns 0 (no match).
	bool has_loop = false;
};

// How many times a loop's body may run: `protochain` follows at most this
// many headers. Both engines stop there (libpcap's bpf_filter() does not:
// libpcap 1.10's protochain code sets X to the AH length instead of adding
// it, and so loops forever on some packets).
inline constexpr std::size_t kFilterLoopCopies = 16;

// Translates a classic program. Fails (one-line error) on a program that
// libpcap's bpf_validate() would reject or that eBPF cannot express.
[[nodiscard]] Result<EbpfFilter> translate_to_ebpf(std::span<const CbpfInsn> program, FilterAccess access);

// Highest byte offset + 1 the program can read, std::nullopt = any byte
// (src/filter/cbpf_bytes_needed.cpp). Never too small: cut to this many
// bytes, every packet gets the verdict of the whole packet.
std::optional<std::uint32_t> cbpf_bytes_needed(std::span<const CbpfInsn> program);

// One line per instruction, `NNN: text` in the kernel's own assembler
// syntax (like `bpftool prog dump xlated`), e.g.
//   "  4: if w6 != 0x800 goto +12 <17>", "  5: r6 = *(u8 *)(r1 +23)".
std::string disassemble_ebpf(std::span<const EbpfInsn> insns);
std::string disassemble_ebpf_insn(std::span<const EbpfInsn> insns, std::size_t index);

} // namespace capx
