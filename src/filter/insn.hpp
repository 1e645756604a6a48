// SPDX-License-Identifier: GPL-2.0-only
// Instruction layouts shared by the filter engines, declared here so that no
// header has to include both libpcap's <pcap/bpf.h> and the kernel's
// <linux/bpf.h>: both name their instruction `struct bpf_insn`.
#pragma once

#include <cstdint>

namespace capx {

// One classic BPF instruction, laid out like libpcap's struct bpf_insn and
// the kernel's struct sock_filter (checked in cbpf.cpp).
struct CbpfInsn {
	std::uint16_t code = 0;
	std::uint8_t jt = 0;
	std::uint8_t jf = 0;
	std::uint32_t k = 0;
};

// One eBPF instruction, laid out like the kernel's struct bpf_insn (checked in
// kernel_runner.cpp against <linux/bpf.h>), so a span of these can be handed
// to libbpf (bpf_program__set_insns, bpf_prog_load) with a reinterpret_cast.
struct EbpfInsn {
	std::uint8_t code = 0;
	std::uint8_t regs = 0;  // dst_reg in bits 0-3, src_reg in bits 4-7 (little endian)
	std::int16_t off = 0;
	std::int32_t imm = 0;

	std::uint8_t dst() const { return regs & 0x0f; }
	std::uint8_t src() const { return regs >> 4; }
};

// Builds one eBPF instruction; the one constructor the translator and the
// test-run wrapper share.
constexpr EbpfInsn make_ebpf_insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
				  std::int32_t imm)
{
	EbpfInsn i;
	i.code = code;
	i.regs = static_cast<std::uint8_t>((dst & 0x0f) | (src << 4));
	i.off = off;
	i.imm = imm;
	return i;
}

static_assert(sizeof(CbpfInsn) == 8);
static_assert(sizeof(EbpfInsn) == 8);

} // namespace capx
