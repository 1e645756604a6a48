// SPDX-License-Identifier: GPL-2.0-only
// The oracle of every filter test: libpcap's own interpreter, bpf_filter().
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "filter/insn.hpp"

namespace capx::test {

inline std::uint32_t libpcap_verdict(std::span<const CbpfInsn> program, std::span<const std::uint8_t> packet,
				     std::uint32_t wire_len)
{
	// CbpfInsn has libpcap's layout (static_assert in src/filter/cbpf.cpp).
	return bpf_filter(reinterpret_cast<const bpf_insn *>(program.data()), packet.data(), wire_len,
			  static_cast<u_int>(packet.size()));
}

inline bool libpcap_validates(std::span<const CbpfInsn> program)
{
	return bpf_validate(reinterpret_cast<const bpf_insn *>(program.data()), static_cast<int>(program.size())) != 0;
}

// Hand-written programs for what libpcap's compiler rarely or never emits:
// shifts by >= 32 (K and X), division and modulo by a zero X, comparisons
// with k >= 2^31, loads at offsets near 2^32 (wrap-around), scratch memory,
// a backward jump (loop), non-boolean return values.
inline std::vector<std::pair<std::string, std::vector<CbpfInsn>>> handmade_programs()
{
	using I = CbpfInsn;
	auto S = [](std::uint16_t code, std::uint32_t k) { return I{code, 0, 0, k}; };
	auto J = [](std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) { return I{code, jt, jf, k}; };
	std::vector<std::pair<std::string, std::vector<CbpfInsn>>> out;
	for (std::uint32_t sh : {0u, 1u, 31u, 32u, 33u, 63u, 64u, 100u}) {
		out.push_back({"lsh #" + std::to_string(sh),
			       {S(BPF_LD | BPF_W | BPF_ABS, 0), S(BPF_ALU | BPF_LSH | BPF_K, sh), S(BPF_RET | BPF_A, 0)}});
		out.push_back({"rsh #" + std::to_string(sh),
			       {S(BPF_LD | BPF_W | BPF_ABS, 0), S(BPF_ALU | BPF_RSH | BPF_K, sh), S(BPF_RET | BPF_A, 0)}});
	}
	std::uint16_t xops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH};
	for (std::uint16_t op : xops) {
		// X = P[4] (often 0, sometimes >= 32), A = P[0:4].
		out.push_back({"alu x op " + std::to_string(op),
			       {S(BPF_LDX | BPF_W | BPF_IMM, 0), S(BPF_LD | BPF_B | BPF_ABS, 4), S(BPF_MISC | BPF_TAX, 0),
				S(BPF_LD | BPF_W | BPF_ABS, 0), S(BPF_ALU | op | BPF_X, 0), S(BPF_RET | BPF_A, 0)}});
		out.push_back({"alu x=big op " + std::to_string(op),
			       {S(BPF_LD | BPF_W | BPF_ABS, 4), S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_W | BPF_ABS, 0),
				S(BPF_ALU | op | BPF_X, 0), S(BPF_RET | BPF_A, 0)}});
		if (op != BPF_DIV && op != BPF_MOD)
			out.push_back({"alu k op " + std::to_string(op),
				       {S(BPF_LD | BPF_W | BPF_ABS, 0), S(BPF_ALU | op | BPF_K, 0x87654321), S(BPF_RET | BPF_A, 0)}});
	}
	out.push_back({"div #3 mod #7 neg", {S(BPF_LD | BPF_W | BPF_ABS, 2), S(BPF_ALU | BPF_DIV | BPF_K, 3),
					       S(BPF_ALU | BPF_MOD | BPF_K, 0xfffffff7), S(BPF_ALU | BPF_NEG, 0),
					       S(BPF_RET | BPF_A, 0)}});
	std::uint16_t jops[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET};
	for (std::uint16_t op : jops)
		for (std::uint32_t k : {0u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu, 0x45000000u}) {
			out.push_back({"jmp k " + std::to_string(op) + " " + std::to_string(k),
				       {S(BPF_LD | BPF_W | BPF_ABS, 14), J(BPF_JMP | op | BPF_K, k, 0, 1), S(BPF_RET | BPF_K, 7),
					S(BPF_RET | BPF_K, 9)}});
			out.push_back({"jmp x " + std::to_string(op) + " " + std::to_string(k),
				       {S(BPF_LDX | BPF_IMM, k), S(BPF_LD | BPF_W | BPF_ABS, 14), J(BPF_JMP | op | BPF_X, 0, 1, 0),
					S(BPF_RET | BPF_K, 7), S(BPF_RET | BPF_K, 0xffffffff)}});
		}
	for (std::uint32_t k : {0u, 13u, 59u, 60u, 61u, 65531u, 65532u, 65535u, 65536u, 70000u, 0x7fffffffu,
				0xfffffffcu, 0xfffffffeu, 0xffffffffu}) {
		for (std::uint16_t size : {BPF_W, BPF_H, BPF_B}) {
			out.push_back({"ld abs " + std::to_string(k), {S(BPF_LD | size | BPF_ABS, k), S(BPF_RET | BPF_A, 0)}});
			// X from the packet: small values, so X + k may or may not fit or wrap.
			out.push_back({"ld ind " + std::to_string(k), {S(BPF_LDX | BPF_MSH | BPF_B, 14),
								       S(BPF_LD | size | BPF_IND, k), S(BPF_RET | BPF_A, 0)}});
			out.push_back({"ld ind x=-1 " + std::to_string(k), {S(BPF_LDX | BPF_IMM, 0xffffffff),
									    S(BPF_LD | size | BPF_IND, k),
									    S(BPF_RET | BPF_K, 1)}});
		}
		out.push_back({"msh " + std::to_string(k), {S(BPF_LDX | BPF_MSH | BPF_B, k), S(BPF_MISC | BPF_TXA, 0),
							    S(BPF_RET | BPF_A, 0)}});
	}
	// Division and modulo by powers of two (the JIT shifts and masks).
	for (std::uint32_t k : {1u, 2u, 8u, 0x10000u, 0x80000000u}) {
		out.push_back({"div pow2 " + std::to_string(k), {S(BPF_LD | BPF_W | BPF_ABS, 10),
								 S(BPF_ALU | BPF_DIV | BPF_K, k), S(BPF_RET | BPF_A, 0)}});
		out.push_back({"mod pow2 " + std::to_string(k), {S(BPF_LD | BPF_W | BPF_ABS, 10),
								 S(BPF_ALU | BPF_MOD | BPF_K, k), S(BPF_RET | BPF_A, 0)}});
	}
	// Halfword and word loads tested by jeq/jset only (the JIT compares
	// with k byte-swapped instead of swapping A): k above 0xffff for a
	// halfword, a chain of tests, and A needed afterwards (no elision).
	for (std::uint16_t size : {BPF_H, BPF_W})
		for (std::uint32_t k : {0x0800u, 0x10800u, 0x10000u, 0x0008u, 0x86dd0000u, 0x08000000u, 0xffffu}) {
			auto tag = std::to_string(size) + " " + std::to_string(k);
			out.push_back({"raw jeq " + tag, {S(BPF_LD | size | BPF_ABS, 12), J(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1),
							  S(BPF_RET | BPF_K, 7), S(BPF_RET | BPF_K, 9)}});
			out.push_back({"raw jset " + tag, {S(BPF_LD | size | BPF_ABS, 12), J(BPF_JMP | BPF_JSET | BPF_K, k, 0, 1),
							   S(BPF_RET | BPF_K, 7), S(BPF_RET | BPF_K, 9)}});
			out.push_back({"raw chain " + tag,
				       {S(BPF_LD | size | BPF_ABS, 12), J(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 3, 0),
					J(BPF_JMP | BPF_JSET | BPF_K, k, 0, 1), J(BPF_JMP | BPF_JEQ | BPF_K, k, 1, 1),
					S(BPF_RET | BPF_K, 5), S(BPF_RET | BPF_K, 6)}});
			out.push_back({"raw then A " + tag,
				       {S(BPF_LD | size | BPF_ABS, 12), J(BPF_JMP | BPF_JEQ | BPF_K, k, 1, 0),
					S(BPF_RET | BPF_A, 0), S(BPF_ALU | BPF_ADD | BPF_K, 1), S(BPF_RET | BPF_A, 0)}});
			// Two paths into one test: A comes from different loads.
			out.push_back({"raw join " + tag,
				       {S(BPF_LD | BPF_B | BPF_ABS, 0), J(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 2),
					S(BPF_LD | size | BPF_ABS, 12), S(BPF_JMP | BPF_JA, 1), S(BPF_LD | size | BPF_ABS, 14),
					J(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1), S(BPF_RET | BPF_K, 7), S(BPF_RET | BPF_A, 0)}});
			out.push_back({"raw ind " + tag,
				       {S(BPF_LDX | BPF_MSH | BPF_B, 14), S(BPF_LD | size | BPF_IND, 14),
					J(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1), S(BPF_RET | BPF_K, 7), S(BPF_RET | BPF_K, 9)}});
		}
	out.push_back({"len", {S(BPF_LD | BPF_W | BPF_LEN, 0), S(BPF_LDX | BPF_W | BPF_LEN, 0),
			       S(BPF_ALU | BPF_ADD | BPF_X, 0), S(BPF_RET | BPF_A, 0)}});
	out.push_back({"mem", {S(BPF_LD | BPF_H | BPF_ABS, 12), S(BPF_ST, 15), S(BPF_LDX | BPF_IMM, 3), S(BPF_STX, 0),
			       S(BPF_LD | BPF_IMM, 0), S(BPF_LDX | BPF_MEM, 15), S(BPF_LD | BPF_MEM, 0),
			       S(BPF_ALU | BPF_ADD | BPF_X, 0), S(BPF_RET | BPF_A, 0)}});
	// A loop: count the low 3 bits of P[0] down to zero, adding P[1] each turn.
	out.push_back({"loop", {S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_ALU | BPF_AND | BPF_K, 7), S(BPF_ST, 0),
				S(BPF_LDX | BPF_IMM, 0), S(BPF_STX, 1),
				/* 5 */ S(BPF_LD | BPF_MEM, 0), J(BPF_JMP | BPF_JEQ | BPF_K, 0, 8, 0),
				S(BPF_ALU | BPF_SUB | BPF_K, 1), S(BPF_ST, 0), S(BPF_LD | BPF_B | BPF_ABS, 1),
				S(BPF_LDX | BPF_MEM, 1), S(BPF_ALU | BPF_ADD | BPF_X, 0), S(BPF_ST, 1),
				S(BPF_JMP | BPF_JA, static_cast<std::uint32_t>(5 - 14)),
				/* 14 */ S(BPF_RET | BPF_K, 0), S(BPF_LD | BPF_MEM, 1), S(BPF_RET | BPF_A, 0)}});
	return out;
}

} // namespace capx::test
