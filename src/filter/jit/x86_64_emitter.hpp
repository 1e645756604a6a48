// SPDX-License-Identifier: GPL-2.0-only
// A small x86-64 assembler: just the instructions the classic BPF JIT
// (cbpf_jit.hpp) needs, encoded into a byte vector. It knows nothing of BPF.
// Encodings follow the Intel SDM, volume 2 (instruction set reference).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace capx::x86 {

// Register numbers as the ModRM/REX fields encode them.
enum class Reg : std::uint8_t {
	rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15,
};

// Condition codes (the low nibble of Jcc/CMOVcc).
enum class Cond : std::uint8_t {
	o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g,
};

inline Cond negate(Cond c)
{
	return static_cast<Cond>(static_cast<std::uint8_t>(c) ^ 1);
}

// The arithmetic group sharing the 0x01..0x39 / 0x81 /digit encodings.
enum class Alu : std::uint8_t { add = 0, or_ = 1, and_ = 4, sub = 5, xor_ = 6, cmp = 7 };

enum class Shift : std::uint8_t { shl = 4, shr = 5 };

// [base + index + disp]; index == rsp means none (it cannot be an index).
struct Mem {
	Reg base;
	std::int32_t disp = 0;
	Reg index = Reg::rsp;
};

class Emitter {
public:
	std::size_t size() const { return code_.size(); }
	const std::vector<std::uint8_t> &code() const { return code_; }
	void clear() { code_.clear(); }

	// 32-bit operations zero the upper half of the destination, which the
	// JIT relies on (the verdict is returned in rax).
	void mov32(Reg dst, Reg src);
	void mov32(Reg dst, std::uint32_t imm);
	void mov64(Reg dst, std::uint64_t imm);
	void zero32(Reg dst); // xor dst, dst
	void load32(Reg dst, Mem m);
	void load16_zx(Reg dst, Mem m);
	void load8_zx(Reg dst, Mem m);
	void store32(Mem m, Reg src);
	void store64(Mem m, Reg src);
	void alu32(Alu op, Reg dst, Reg src);
	void alu32(Alu op, Reg dst, std::uint32_t imm);
	void alu64(Alu op, Reg dst, Reg src);
	void test32(Reg a, Reg b);
	void test32(Reg a, std::uint32_t imm);
	void test8(Reg a, std::uint8_t imm); // the low byte only
	void imul32(Reg dst, Reg src);
	void imul32(Reg dst, std::uint32_t imm);
	void div32(Reg divisor); // edx:eax / divisor -> eax, remainder edx
	void neg32(Reg dst);
	void inc32(Reg dst);
	void shift32(Shift op, Reg dst, std::uint8_t count);
	void shift32_cl(Shift op, Reg dst);
	void bswap32(Reg dst);
	void ror16(Reg dst, std::uint8_t count);
	void cmov32(Cond c, Reg dst, Reg src);
	void lea64(Reg dst, Mem m);
	void ret();

	// Jumps with a displacement from the end of the instruction; the long
	// forms' displacement can be rewritten later with patch_rel32/patch_rel8.
	static constexpr std::size_t kShortJumpSize = 2;
	static std::size_t long_jcc_size() { return 6; }
	static std::size_t long_jmp_size() { return 5; }
	void jcc8(Cond c, std::int8_t rel);
	void jcc32(Cond c, std::int32_t rel);
	void jmp8(std::int8_t rel);
	void jmp32(std::int32_t rel);
	void patch_rel8(std::size_t at, std::int8_t rel);
	void patch_rel32(std::size_t at, std::int32_t rel);

private:
	void byte(std::uint8_t b) { code_.push_back(b); }
	void imm32(std::uint32_t v);
	// REX prefix when needed (always when w is set).
	void rex(bool w, std::uint8_t reg, std::uint8_t index, std::uint8_t base, bool force = false);
	void modrm_reg(std::uint8_t reg, Reg rm);
	void modrm_mem(std::uint8_t reg, Mem m);
	// opcode bytes then a register-direct operand pair.
	void op_rr(bool w, std::initializer_list<std::uint8_t> opcode, std::uint8_t reg, Reg rm);
	void op_rm(bool w, std::initializer_list<std::uint8_t> opcode, std::uint8_t reg, Mem m);

	std::vector<std::uint8_t> code_;
};

} // namespace capx::x86
