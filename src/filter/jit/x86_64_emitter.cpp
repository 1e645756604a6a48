// SPDX-License-Identifier: GPL-2.0-only
#include "filter/jit/x86_64_emitter.hpp"

#include <cstring>

namespace capx::x86 {

namespace {

std::uint8_t num(Reg r)
{
	return static_cast<std::uint8_t>(r);
}

bool fits_int8(std::int64_t v)
{
	return v >= -128 && v <= 127;
}

} // namespace

void Emitter::imm32(std::uint32_t v)
{
	for (int i = 0; i < 4; i++)
		byte(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Emitter::rex(bool w, std::uint8_t reg, std::uint8_t index, std::uint8_t base, bool force)
{
	std::uint8_t r = static_cast<std::uint8_t>(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) |
						   ((base & 8) ? 1 : 0));
	if (r != 0x40 || force)
		byte(r);
}

void Emitter::modrm_reg(std::uint8_t reg, Reg rm)
{
	byte(static_cast<std::uint8_t>(0xc0 | ((reg & 7) << 3) | (num(rm) & 7)));
}

void Emitter::modrm_mem(std::uint8_t reg, Mem m)
{
	const std::uint8_t base = num(m.base) & 7;
	const bool indexed = m.index != Reg::rsp;
	// mod 00 with base rbp/r13 would mean "disp32, no base": use a disp8 of 0.
	std::uint8_t mod = m.disp == 0 && base != 5 ? 0 : fits_int8(m.disp) ? 1 : 2;
	// rm 100 means "a SIB byte follows": needed for an index and for base rsp/r12.
	bool sib = indexed || base == 4;
	byte(static_cast<std::uint8_t>((mod << 6) | ((reg & 7) << 3) | (sib ? 4 : base)));
	if (sib)
		byte(static_cast<std::uint8_t>(((indexed ? num(m.index) & 7 : 4) << 3) | base));
	if (mod == 1)
		byte(static_cast<std::uint8_t>(m.disp));
	else if (mod == 2)
		imm32(static_cast<std::uint32_t>(m.disp));
}

void Emitter::op_rr(bool w, std::initializer_list<std::uint8_t> opcode, std::uint8_t reg, Reg rm)
{
	rex(w, reg, 0, num(rm));
	for (std::uint8_t b : opcode)
		byte(b);
	modrm_reg(reg, rm);
}

void Emitter::op_rm(bool w, std::initializer_list<std::uint8_t> opcode, std::uint8_t reg, Mem m)
{
	rex(w, reg, m.index == Reg::rsp ? 0 : num(m.index), num(m.base));
	for (std::uint8_t b : opcode)
		byte(b);
	modrm_mem(reg, m);
}

void Emitter::mov32(Reg dst, Reg src)
{
	op_rr(false, {0x89}, num(src), dst);
}

void Emitter::mov32(Reg dst, std::uint32_t imm)
{
	if (imm == 0)
		return zero32(dst);
	rex(false, 0, 0, num(dst));
	byte(static_cast<std::uint8_t>(0xb8 + (num(dst) & 7)));
	imm32(imm);
}

void Emitter::mov64(Reg dst, std::uint64_t imm)
{
	if (imm <= UINT32_MAX)
		return mov32(dst, static_cast<std::uint32_t>(imm));
	rex(true, 0, 0, num(dst));
	byte(static_cast<std::uint8_t>(0xb8 + (num(dst) & 7)));
	imm32(static_cast<std::uint32_t>(imm));
	imm32(static_cast<std::uint32_t>(imm >> 32));
}

void Emitter::zero32(Reg dst)
{
	op_rr(false, {0x31}, num(dst), dst);
}

void Emitter::load32(Reg dst, Mem m)
{
	op_rm(false, {0x8b}, num(dst), m);
}

void Emitter::load16_zx(Reg dst, Mem m)
{
	op_rm(false, {0x0f, 0xb7}, num(dst), m);
}

void Emitter::load8_zx(Reg dst, Mem m)
{
	op_rm(false, {0x0f, 0xb6}, num(dst), m);
}

void Emitter::store32(Mem m, Reg src)
{
	op_rm(false, {0x89}, num(src), m);
}

void Emitter::store64(Mem m, Reg src)
{
	op_rm(true, {0x89}, num(src), m);
}

void Emitter::alu32(Alu op, Reg dst, Reg src)
{
	op_rr(false, {static_cast<std::uint8_t>(static_cast<std::uint8_t>(op) * 8 + 1)}, num(src), dst);
}

void Emitter::alu32(Alu op, Reg dst, std::uint32_t imm)
{
	const auto digit = static_cast<std::uint8_t>(op);
	if (fits_int8(static_cast<std::int32_t>(imm))) {
		op_rr(false, {0x83}, digit, dst); // imm8, sign-extended
		byte(static_cast<std::uint8_t>(imm));
	} else if (dst == Reg::rax) {
		byte(static_cast<std::uint8_t>(digit * 8 + 5)); // op eax, imm32
		imm32(imm);
	} else {
		op_rr(false, {0x81}, digit, dst);
		imm32(imm);
	}
}

void Emitter::alu64(Alu op, Reg dst, Reg src)
{
	op_rr(true, {static_cast<std::uint8_t>(static_cast<std::uint8_t>(op) * 8 + 1)}, num(src), dst);
}

void Emitter::test32(Reg a, Reg b)
{
	op_rr(false, {0x85}, num(b), a);
}

void Emitter::test32(Reg a, std::uint32_t imm)
{
	if (a == Reg::rax) {
		byte(0xa9);
	} else {
		op_rr(false, {0xf7}, 0, a);
	}
	imm32(imm);
}

void Emitter::test8(Reg a, std::uint8_t imm)
{
	if (a == Reg::rax) {
		byte(0xa8);
	} else {
		// Without REX, rm 4-7 would name ah/ch/dh/bh instead of spl..dil.
		rex(false, 0, 0, num(a), num(a) >= 4);
		byte(0xf6);
		modrm_reg(0, a);
	}
	byte(imm);
}

void Emitter::imul32(Reg dst, Reg src)
{
	op_rr(false, {0x0f, 0xaf}, num(dst), src);
}

void Emitter::imul32(Reg dst, std::uint32_t imm)
{
	if (fits_int8(static_cast<std::int32_t>(imm))) {
		op_rr(false, {0x6b}, num(dst), dst);
		byte(static_cast<std::uint8_t>(imm));
	} else {
		op_rr(false, {0x69}, num(dst), dst);
		imm32(imm);
	}
}

void Emitter::div32(Reg divisor)
{
	op_rr(false, {0xf7}, 6, divisor);
}

void Emitter::neg32(Reg dst)
{
	op_rr(false, {0xf7}, 3, dst);
}

void Emitter::inc32(Reg dst)
{
	op_rr(false, {0xff}, 0, dst);
}

void Emitter::shift32(Shift op, Reg dst, std::uint8_t count)
{
	if (count == 1) {
		op_rr(false, {0xd1}, static_cast<std::uint8_t>(op), dst);
		return;
	}
	op_rr(false, {0xc1}, static_cast<std::uint8_t>(op), dst);
	byte(count);
}

void Emitter::shift32_cl(Shift op, Reg dst)
{
	op_rr(false, {0xd3}, static_cast<std::uint8_t>(op), dst);
}

void Emitter::bswap32(Reg dst)
{
	rex(false, 0, 0, num(dst));
	byte(0x0f);
	byte(static_cast<std::uint8_t>(0xc8 + (num(dst) & 7)));
}

void Emitter::ror16(Reg dst, std::uint8_t count)
{
	byte(0x66); // operand-size prefix comes before REX
	op_rr(false, {0xc1}, 1, dst);
	byte(count);
}

void Emitter::cmov32(Cond c, Reg dst, Reg src)
{
	op_rr(false, {0x0f, static_cast<std::uint8_t>(0x40 + static_cast<std::uint8_t>(c))}, num(dst), src);
}

void Emitter::lea64(Reg dst, Mem m)
{
	op_rm(true, {0x8d}, num(dst), m);
}

void Emitter::ret()
{
	byte(0xc3);
}

void Emitter::jcc8(Cond c, std::int8_t rel)
{
	byte(static_cast<std::uint8_t>(0x70 + static_cast<std::uint8_t>(c)));
	byte(static_cast<std::uint8_t>(rel));
}

void Emitter::jcc32(Cond c, std::int32_t rel)
{
	byte(0x0f);
	byte(static_cast<std::uint8_t>(0x80 + static_cast<std::uint8_t>(c)));
	imm32(static_cast<std::uint32_t>(rel));
}

void Emitter::jmp8(std::int8_t rel)
{
	byte(0xeb);
	byte(static_cast<std::uint8_t>(rel));
}

void Emitter::jmp32(std::int32_t rel)
{
	byte(0xe9);
	imm32(static_cast<std::uint32_t>(rel));
}

void Emitter::patch_rel8(std::size_t at, std::int8_t rel)
{
	code_[at] = static_cast<std::uint8_t>(rel);
}

void Emitter::patch_rel32(std::size_t at, std::int32_t rel)
{
	auto v = static_cast<std::uint32_t>(rel);
	std::memcpy(&code_[at], &v, 4);
}

} // namespace capx::x86
