// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target: random classic BPF programs and packets, the user-space
// executor against libpcap's bpf_filter(), with each of its engines (the
// native x86-64 code and the threaded code). Any difference aborts.
//
// Programs may contain backward jumps (loops). The engines cut a loop at the
// kFilterLoopCopies-th backward jump; a run they did not cut is compared with
// libpcap (which then takes the same path and ends too), a cut one only
// between the two engines (libpcap might loop forever).
//
// Built with g++ and linked with LLVM's libFuzzer runtime. g++ cannot emit
// libFuzzer's edge-coverage hooks (trace-pc-guard), only trace-cmp, which
// libFuzzer uses with -use_value_profile=1; on top, the harness reports what
// each program exercised (opcode pairs, verdict classes) through libFuzzer's
// "extra counters" section, its documented side channel.
//
// Short run (the meson test `fuzz-filter-executor`): -runs=N -seed=1.
// Long run, by hand:
//   build/tests/fuzz/fuzz-filter-executor -max_total_time=3600 -jobs=2 corpus-dir/
// Each input maps a page of machine code (~0.1 ms on the build VM, ~1000
// inputs/s). Last long run: 2026-11-23, 600 s, 611 020 inputs, both engines
// with loops, no difference.
#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "filter/executor.hpp"
#include "filter/insn.hpp"

namespace {

// libFuzzer reads these as extra coverage features (FuzzerExtraCounters.cpp).
constexpr std::size_t kCounters = 1 << 16;
__attribute__((section("__libfuzzer_extra_counters"))) std::uint8_t counters[kCounters];

// Every opcode bpf_filter() interprets.
constexpr std::uint16_t kOpcodes[] = {
	BPF_RET | BPF_K, BPF_RET | BPF_A,
	BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
	BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
	BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN, BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM,
	BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_LDX | BPF_MSH | BPF_B, BPF_ST, BPF_STX, BPF_JMP | BPF_JA,
	BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JSET | BPF_K,
	BPF_JMP | BPF_JEQ | BPF_X, BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JGE | BPF_X, BPF_JMP | BPF_JSET | BPF_X,
	BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_SUB | BPF_K, BPF_ALU | BPF_MUL | BPF_K, BPF_ALU | BPF_DIV | BPF_K,
	BPF_ALU | BPF_MOD | BPF_K, BPF_ALU | BPF_AND | BPF_K, BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_XOR | BPF_K,
	BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_RSH | BPF_K,
	BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_SUB | BPF_X, BPF_ALU | BPF_MUL | BPF_X, BPF_ALU | BPF_DIV | BPF_X,
	BPF_ALU | BPF_MOD | BPF_X, BPF_ALU | BPF_AND | BPF_X, BPF_ALU | BPF_OR | BPF_X, BPF_ALU | BPF_XOR | BPF_X,
	BPF_ALU | BPF_LSH | BPF_X, BPF_ALU | BPF_RSH | BPF_X,
	BPF_ALU | BPF_NEG, BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
};

// Interesting constants so that loads hit the packet and compares hit values.
std::uint32_t shape_k(std::uint16_t code, std::uint32_t raw)
{
	switch (raw >> 30) {
	case 0: return raw & 0x3f;            // small offsets / shifts around 32
	case 1: return raw & 0xff;
	case 2: return raw;                   // anything, wrap-arounds included
	default: return 0xffffffffu - (raw & 7);
	}
	(void)code;
}

// Turns fuzz bytes into a program bpf_filter() runs with defined behaviour:
// scratch memory read only where every path stored it first (libpcap leaves
// M[] uninitialised). A JA whose jt byte has bit 2 set jumps backward.
std::vector<capx::CbpfInsn> make_program(const std::uint8_t *&data, std::size_t &size)
{
	std::vector<capx::CbpfInsn> prog;
	if (size < 1)
		return prog;
	std::size_t n = 1 + data[0] % 48;
	data++, size--;
	for (std::size_t i = 0; i < n && size >= 7; i++) {
		capx::CbpfInsn insn;
		insn.code = kOpcodes[data[0] % (sizeof kOpcodes / sizeof kOpcodes[0])];
		insn.jt = data[1] % 8;
		insn.jf = data[2] % 8;
		std::uint32_t raw;
		std::memcpy(&raw, data + 3, 4);
		insn.k = shape_k(insn.code, raw);
		data += 7, size -= 7;
		prog.push_back(insn);
	}
	if (prog.empty())
		return prog;
	prog.back() = {static_cast<std::uint16_t>((prog.back().k & 1) ? BPF_RET | BPF_A : BPF_RET | BPF_K), 0, 0,
		       prog.back().k};
	const std::size_t len = prog.size();
	// Keep jumps inside and forward; memory indices in range.
	for (std::size_t i = 0; i < len; i++) {
		auto &p = prog[i];
		std::size_t room = len - i - 1; // instructions after this one
		if (BPF_CLASS(p.code) == BPF_JMP) {
			if (room == 0) {
				p = {BPF_RET | BPF_A, 0, 0, 0};
				continue;
			}
			if (BPF_OP(p.code) == BPF_JA && (p.jt & 4)) {
				// Back to an instruction at or before this one: k wraps
				// (bpf_filter adds it modulo 2^32, as libpcap's protochain needs).
				p.k = static_cast<std::uint32_t>(p.k % (i + 1)) - static_cast<std::uint32_t>(i + 1);
			} else if (BPF_OP(p.code) == BPF_JA) {
				p.k %= room;
			} else {
				p.jt = static_cast<std::uint8_t>(p.jt % room);
				p.jf = static_cast<std::uint8_t>(p.jf % room);
			}
		}
		if (BPF_CLASS(p.code) == BPF_ST || BPF_CLASS(p.code) == BPF_STX ||
		    ((BPF_CLASS(p.code) == BPF_LD || BPF_CLASS(p.code) == BPF_LDX) && BPF_MODE(p.code) == BPF_MEM))
			p.k %= BPF_MEMWORDS;
		if ((BPF_OP(p.code) == BPF_DIV || BPF_OP(p.code) == BPF_MOD) && BPF_CLASS(p.code) == BPF_ALU &&
		    BPF_SRC(p.code) == BPF_K && p.k == 0)
			p.k = 3;
	}
	// Definitely-stored scratch words: passes over the program until they
	// settle (backward jumps feed earlier instructions).
	std::vector<std::uint32_t> stored(len, 0xffffffffu);
	stored[0] = 0;
	for (bool changed = true; changed;) {
		changed = false;
		for (std::size_t i = 0; i < len; i++) {
			const auto &p = prog[i];
			std::uint32_t out = stored[i];
			if (BPF_CLASS(p.code) == BPF_ST || BPF_CLASS(p.code) == BPF_STX)
				out |= 1u << p.k;
			auto flow = [&](std::size_t to) {
				if (to < len && (stored[to] & out) != stored[to]) {
					stored[to] &= out;
					changed = true;
				}
			};
			if (BPF_CLASS(p.code) == BPF_RET)
				continue;
			if (BPF_CLASS(p.code) == BPF_JMP) {
				if (BPF_OP(p.code) == BPF_JA) {
					flow(static_cast<std::uint32_t>(i + 1 + p.k));
				} else {
					flow(i + 1 + p.jt);
					flow(i + 1 + p.jf);
				}
			} else {
				flow(i + 1);
			}
		}
	}
	for (std::size_t i = 0; i < len; i++) {
		auto &p = prog[i];
		if ((p.code == (BPF_LD | BPF_MEM) || p.code == (BPF_LDX | BPF_MEM)) && !(stored[i] & (1u << p.k)))
			p.code = BPF_CLASS(p.code) | BPF_IMM;
	}
	return prog;
}

} // namespace

// Features for libFuzzer: consecutive opcode pairs and the verdict's class.
void note_features(const std::vector<capx::CbpfInsn> &prog, std::uint32_t verdict, std::size_t caplen)
{
	constexpr std::size_t kinds = sizeof kOpcodes / sizeof kOpcodes[0];
	auto index = [&](std::uint16_t code) {
		for (std::size_t i = 0; i < kinds; i++)
			if (kOpcodes[i] == code)
				return i;
		return kinds;
	};
	for (std::size_t i = 0; i + 1 < prog.size(); i++)
		counters[(index(prog[i].code) * (kinds + 1) + index(prog[i + 1].code)) % kCounters] = 1;
	std::size_t cls = verdict == 0 ? 0 : verdict == 0xffffffffu ? 1 : verdict < caplen ? 2 : 3;
	counters[(kCounters - 64 + cls * 16 + std::min<std::size_t>(caplen / 8, 15)) % kCounters] = 1;
}

[[noreturn]] void report(const char *what, const std::vector<capx::CbpfInsn> &prog)
{
	std::fprintf(stderr, "%s\n", what);
	const auto *raw = reinterpret_cast<const bpf_insn *>(prog.data());
	for (std::size_t i = 0; i < prog.size(); i++)
		std::fprintf(stderr, "%s\n", bpf_image(const_cast<bpf_insn *>(&raw[i]), static_cast<int>(i)));
	std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	using Engine = capx::FilterExecutor::Engine;
	auto prog = make_program(data, size);
	if (prog.empty())
		return 0;
	const auto *raw = reinterpret_cast<const bpf_insn *>(prog.data());
	bool libpcap_ok = bpf_validate(raw, static_cast<int>(prog.size())) != 0;
	auto threaded = capx::FilterExecutor::create(prog, Engine::Threaded);
	// The native engine where this build has one (create() picks it).
	auto native = capx::FilterExecutor::create(prog);
	if (libpcap_ok != static_cast<bool>(threaded) || libpcap_ok != static_cast<bool>(native)) {
		std::fprintf(stderr, "validation differs: libpcap %d threaded %d native %d\n", libpcap_ok,
			     static_cast<bool>(threaded), static_cast<bool>(native));
		std::abort();
	}
	if (!threaded)
		return 0;
	if (capx::cbpf_jit_supported() && native->engine() != Engine::Native)
		report("the native engine was not chosen", prog);
	std::span<const std::uint8_t> packet(data, size);
	// The whole packet, and captures of it cut short.
	for (std::size_t caplen : {size, size / 2, size > 14 ? std::size_t{14} : size}) {
		auto cap = packet.first(caplen);
		auto wire = static_cast<std::uint32_t>(size + (size ? data[0] : 0));
		bool cut_t = false, cut_n = false;
		std::uint32_t got_t = threaded->run(cap, wire, cut_t);
		std::uint32_t got_n = native->run(cap, wire, cut_n);
		note_features(prog, got_n, caplen);
		if (got_t != got_n || cut_t != cut_n) {
			std::fprintf(stderr, "engines differ: threaded %u%s native %u%s (caplen %zu wire %u)\n", got_t,
				     cut_t ? " (loop cut)" : "", got_n, cut_n ? " (loop cut)" : "", caplen, wire);
			report("", prog);
		}
		if (cut_n)
			continue;
		std::uint32_t want = bpf_filter(raw, cap.data(), wire, static_cast<u_int>(cap.size()));
		if (want != got_n) {
			std::fprintf(stderr, "verdicts differ: libpcap %u executor %u (caplen %zu wire %u)\n", want, got_n,
				     caplen, wire);
			report("", prog);
		}
	}
	return 0;
}
