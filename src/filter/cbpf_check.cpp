// SPDX-License-Identifier: GPL-2.0-only
#include "filter/cbpf_check.hpp"

#include <linux/filter.h>

#include <fmt/format.h>

#include "filter/ebpf_translator.hpp"

namespace capx {

namespace {

bool known_opcode(std::uint16_t code)
{
	switch (code) {
	case BPF_RET | BPF_K:
	case BPF_RET | BPF_A:
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_LDX | BPF_MSH | BPF_B:
	case BPF_ST:
	case BPF_STX:
	case BPF_JMP | BPF_JA:
	case BPF_MISC | BPF_TAX:
	case BPF_MISC | BPF_TXA:
	case BPF_ALU | BPF_NEG:
		return true;
	default:
		break;
	}
	std::uint16_t cls = BPF_CLASS(code);
	std::uint16_t src = BPF_SRC(code);
	std::uint16_t op = BPF_OP(code);
	if (cls == BPF_JMP && (code & ~(BPF_X | 0xf0 | 0x07)) == 0)
		return op == BPF_JEQ || op == BPF_JGT || op == BPF_JGE || op == BPF_JSET;
	if (cls == BPF_ALU && (code & ~(BPF_X | 0xf0 | 0x07)) == 0) {
		switch (op) {
		case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_DIV: case BPF_MOD:
		case BPF_AND: case BPF_OR: case BPF_XOR: case BPF_LSH: case BPF_RSH:
			return true;
		default:
			return false;
		}
	}
	(void)src;
	return false;
}

} // namespace

[[nodiscard]] Result<void> validate_cbpf(std::span<const CbpfInsn> program)
{
	const std::size_t n = program.size();
	if (n == 0)
		return fail("classic BPF program is empty");
	if (n > BPF_MAXINSNS)
		return fail(fmt::format("classic BPF program has {} instructions, more than {}", n, BPF_MAXINSNS));
	for (std::size_t i = 0; i < n; i++) {
		const CbpfInsn &p = program[i];
		auto bad = [&](std::string_view why) {
			return fail(fmt::format("classic BPF instruction {} (code 0x{:x}): {}", i, p.code, why));
		};
		if (!known_opcode(p.code))
			return bad("unknown opcode");
		switch (BPF_CLASS(p.code)) {
		case BPF_LD:
		case BPF_LDX:
			if (BPF_MODE(p.code) == BPF_MEM && p.k >= BPF_MEMWORDS)
				return bad("scratch memory index out of range");
			break;
		case BPF_ST:
		case BPF_STX:
			if (p.k >= BPF_MEMWORDS)
				return bad("scratch memory index out of range");
			break;
		case BPF_ALU:
			if ((BPF_OP(p.code) == BPF_DIV || BPF_OP(p.code) == BPF_MOD) &&
			    BPF_SRC(p.code) == BPF_K && p.k == 0)
				return bad("division by a zero constant");
			break;
		case BPF_JMP:
			if (BPF_OP(p.code) == BPF_JA) {
				if (cbpf_ja_target(i, p.k) >= n)
					return bad("jump out of the program");
			} else if (i + 1 + p.jt >= n || i + 1 + p.jf >= n) {
				return bad("jump out of the program");
			}
			break;
		default:
			break;
		}
	}
	if (BPF_CLASS(program[n - 1].code) != BPF_RET)
		return fail("classic BPF program does not end with a return");
	return {};
}

std::vector<bool> cbpf_reachable(std::span<const CbpfInsn> program)
{
	std::vector<bool> seen(program.size(), false);
	std::vector<std::size_t> todo{0};
	while (!todo.empty()) {
		std::size_t i = todo.back();
		todo.pop_back();
		if (i >= program.size() || seen[i])
			continue;
		seen[i] = true;
		const CbpfInsn &p = program[i];
		switch (BPF_CLASS(p.code)) {
		case BPF_RET:
			break;
		case BPF_JMP:
			if (BPF_OP(p.code) == BPF_JA) {
				todo.push_back(cbpf_ja_target(i, p.k));
			} else {
				todo.push_back(i + 1 + p.jt);
				todo.push_back(i + 1 + p.jf);
			}
			break;
		default:
			todo.push_back(i + 1);
		}
	}
	return seen;
}

} // namespace capx
