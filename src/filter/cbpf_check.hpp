// SPDX-License-Identifier: GPL-2.0-only
// Static facts about a classic BPF program, shared by the translator and the
// executor: is it one libpcap's interpreter can run, which instructions are
// reachable, which packet bytes can it read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "filter/insn.hpp"

namespace capx {

// Accepts what libpcap's bpf_validate() (bpf_filter.c) accepts, restricted to
// the opcodes its bpf_filter() interprets: known opcodes, scratch memory
// indices below 16, no division or modulo by a zero constant, jump targets
// inside the program (a JA offset may wrap around to jump backward: libpcap's
// own `protochain` code does), and a last instruction that returns.
[[nodiscard]] Result<void> validate_cbpf(std::span<const CbpfInsn> program);

// reachable[i]: instruction i can execute (program must be valid).
std::vector<bool> cbpf_reachable(std::span<const CbpfInsn> program);

// Target of the JA at `index` (k is added modulo 2^32, as bpf_filter does).
inline std::size_t cbpf_ja_target(std::size_t index, std::uint32_t k)
{
	return static_cast<std::uint32_t>(index + 1 + k);
}

} // namespace capx
