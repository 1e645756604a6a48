// SPDX-License-Identifier: GPL-2.0-only
// eBPF instructions as text, in the kernel's assembler syntax (the one
// `bpftool prog dump xlated` and the verifier log print).
#include <linux/bpf.h>

#include <fmt/format.h>

#include "filter/ebpf_translator.hpp"

namespace capx {

namespace {

const char *alu_op(std::uint8_t op)
{
	switch (op) {
	case BPF_ADD: return "+=";
	case BPF_SUB: return "-=";
	case BPF_MUL: return "*=";
	case BPF_DIV: return "/=";
	case BPF_MOD: return "%=";
	case BPF_OR: return "|=";
	case BPF_AND: return "&=";
	case BPF_XOR: return "^=";
	case BPF_LSH: return "<<=";
	case BPF_RSH: return ">>=";
	case BPF_ARSH: return "s>>=";
	case BPF_MOV: return "=";
	default: return "?=";
	}
}

const char *jmp_op(std::uint8_t op)
{
	switch (op) {
	case BPF_JEQ: return "==";
	case BPF_JNE: return "!=";
	case BPF_JGT: return ">";
	case BPF_JGE: return ">=";
	case BPF_JLT: return "<";
	case BPF_JLE: return "<=";
	case BPF_JSGT: return "s>";
	case BPF_JSGE: return "s>=";
	case BPF_JSLT: return "s<";
	case BPF_JSLE: return "s<=";
	case BPF_JSET: return "&";
	default: return "?";
	}
}

const char *size_name(std::uint8_t size)
{
	switch (size) {
	case BPF_W: return "u32";
	case BPF_H: return "u16";
	case BPF_B: return "u8";
	default: return "u64";
	}
}

std::string offset(std::int16_t off)
{
	return off < 0 ? fmt::format("- {}", -off) : fmt::format("+ {}", off);
}

std::string immediate(std::int32_t imm)
{
	if (imm > -1024 && imm < 1024)
		return fmt::format("{}", imm);
	return fmt::format("0x{:x}", static_cast<std::uint32_t>(imm));
}

std::string target(std::size_t index, std::int64_t delta)
{
	return fmt::format("goto {:+} <{}>", delta, static_cast<std::int64_t>(index) + 1 + delta);
}

std::string text(std::span<const EbpfInsn> insns, std::size_t index)
{
	const EbpfInsn &i = insns[index];
	std::uint8_t cls = BPF_CLASS(i.code);
	std::uint8_t op = BPF_OP(i.code);
	bool reg = BPF_SRC(i.code) == BPF_X;
	switch (cls) {
	case BPF_ALU:
	case BPF_ALU64: {
		char r = cls == BPF_ALU64 ? 'r' : 'w';
		if (op == BPF_NEG)
			return fmt::format("{}{} = -{}{}", r, i.dst(), r, i.dst());
		if (op == BPF_END)
			return fmt::format("r{} = {}{} r{}", i.dst(), reg ? "be" : "le", i.imm, i.dst());
		std::string src = reg ? fmt::format("{}{}", r, i.src()) : immediate(i.imm);
		return fmt::format("{}{} {} {}", r, i.dst(), alu_op(op), src);
	}
	case BPF_LDX:
		return fmt::format("r{} = *({} *)(r{} {})", i.dst(), size_name(BPF_SIZE(i.code)), i.src(),
				   offset(i.off));
	case BPF_ST:
		return fmt::format("*({} *)(r{} {}) = {}", size_name(BPF_SIZE(i.code)), i.dst(), offset(i.off),
				   immediate(i.imm));
	case BPF_STX:
		return fmt::format("*({} *)(r{} {}) = r{}", size_name(BPF_SIZE(i.code)), i.dst(), offset(i.off),
				   i.src());
	case BPF_LD:
		if (i.code == (BPF_LD | BPF_IMM | BPF_DW) && index + 1 < insns.size()) {
			std::uint64_t v = static_cast<std::uint32_t>(i.imm) |
					  (std::uint64_t{static_cast<std::uint32_t>(insns[index + 1].imm)} << 32);
			if (i.src() == BPF_PSEUDO_MAP_FD)
				return fmt::format("r{} = map[fd:{}] ll", i.dst(), i.imm);
			return fmt::format("r{} = 0x{:x} ll", i.dst(), v);
		}
		return fmt::format("(ld 0x{:02x})", i.code);
	case BPF_JMP:
	case BPF_JMP32: {
		if (op == BPF_EXIT)
			return "exit";
		if (op == BPF_CALL) {
			if (i.src() == BPF_PSEUDO_CALL)
				return fmt::format("call pc{:+} <{}>", i.imm, static_cast<std::int64_t>(index) + 1 + i.imm);
			return fmt::format("call #{}", i.imm);
		}
		if (op == BPF_JA)
			return target(index, cls == BPF_JMP32 ? i.imm : i.off);
		char r = cls == BPF_JMP32 ? 'w' : 'r';
		std::string src = reg ? fmt::format("{}{}", r, i.src()) : immediate(i.imm);
		return fmt::format("if {}{} {} {} {}", r, i.dst(), jmp_op(op), src, target(index, i.off));
	}
	default:
		return fmt::format("(code 0x{:02x})", i.code);
	}
}

} // namespace

std::string disassemble_ebpf_insn(std::span<const EbpfInsn> insns, std::size_t index)
{
	return fmt::format("{:4}: {}", index, text(insns, index));
}

std::string disassemble_ebpf(std::span<const EbpfInsn> insns)
{
	std::string out;
	for (std::size_t n = 0; n < insns.size(); n++) {
		out += disassemble_ebpf_insn(insns, n);
		out += '\n';
		// The second half of a 64-bit immediate load is not an instruction.
		if (insns[n].code == (BPF_LD | BPF_IMM | BPF_DW))
			n++;
	}
	return out;
}

} // namespace capx
