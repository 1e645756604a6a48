// SPDX-License-Identifier: GPL-2.0-only
// How many packet bytes a classic BPF program can read: an abstract
// interpretation of the program over upper bounds of A, X and the scratch
// memory, so that an indirect load (`ldh [x + 14]`) is bounded when X is.
//
// Why it matters: sources copy only this many bytes before running the
// filter (bpf/skb.bpf.c, the mbuf probes); libpcap's port and TCP-flag
// filters index the transport header by the IPv4 header length
// (`ldxb 4*([14]&0xf)`, X <= 60), and an "unknown" answer copied the whole
// packet first.
//
// The bound must never be too small: a load past the copied bytes fails and
// the filter returns 0 where it would have matched. Every transfer below
// over-approximates libpcap's bpf_filter() (bpf_filter.c, libpcap 1.10):
// 32-bit unsigned registers, A = X = 0 at the start, scratch memory
// uninitialized, an indirect load at X + k computed without wrap-around
// (`X > buflen - k` is checked before the load) and failing past buflen.
// tests/unit/filter/test_filter_engine.cpp checks it on the corpus: with
// caplen cut to the bound, bpf_filter() gives the verdict it gives on the
// whole packet.
#include <linux/filter.h>

#include <algorithm>
#include <array>
#include <vector>

#include "filter/cbpf_check.hpp"
#include "filter/ebpf_translator.hpp"

namespace capx {

namespace {

// A bound b means 0 <= value <= b; kAny (every 32-bit value) is no bound.
constexpr std::uint64_t kAny = UINT32_MAX;

struct Bounds {
	std::uint64_t a = 0; // bpf_filter starts with A = X = 0
	std::uint64_t x = 0;
	std::array<std::uint64_t, BPF_MEMWORDS> mem;

	Bounds() { mem.fill(kAny); } // never written: whatever the stack held

	bool operator==(const Bounds &) const = default;
};

// Larger bounds at a join. Returns whether `into` grew.
bool join(Bounds &into, const Bounds &from)
{
	Bounds before = into;
	into.a = std::max(into.a, from.a);
	into.x = std::max(into.x, from.x);
	for (std::size_t i = 0; i < into.mem.size(); i++)
		into.mem[i] = std::max(into.mem[i], from.mem[i]);
	return !(before == into);
}

// After this many growths at one instruction (a loop: libpcap's
// `protochain` adds header lengths to X), whatever still grows is unbounded.
// Each value can be widened once, so the analysis ends.
constexpr unsigned kWidenAfter = 8;

void widen(Bounds &now, const Bounds &before)
{
	if (now.a != before.a)
		now.a = kAny;
	if (now.x != before.x)
		now.x = kAny;
	for (std::size_t i = 0; i < now.mem.size(); i++)
		if (now.mem[i] != before.mem[i])
			now.mem[i] = kAny;
}

std::uint64_t saturate(std::uint64_t v)
{
	return std::min(v, kAny);
}

// The smallest 2^n - 1 >= v: a bound of a | b and a ^ b.
std::uint64_t all_ones_up_to(std::uint64_t v)
{
	std::uint64_t m = 0;
	while (m < v)
		m = (m << 1) | 1;
	return m;
}

std::uint64_t load_bound(std::uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return 0xff;
	case BPF_H: return 0xffff;
	default: return kAny;
	}
}

std::uint64_t load_size(std::uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	default: return 4;
	}
}

// A's bound after `A op operand` (operand bounded by b, or the constant k).
// A sum or product that may pass 2^32 wraps to any value; a division or
// modulo by a zero X ends the program (bpf_filter returns 0), so only
// non-zero divisors count.
std::uint64_t alu_bound(std::uint16_t op, std::uint64_t a, std::uint64_t b, bool constant)
{
	switch (op) {
	case BPF_ADD: return saturate(a + b);
	case BPF_SUB: return constant && b == 0 ? a : kAny;
	case BPF_MUL: return a == 0 || b == 0 ? 0 : (b > kAny / a ? kAny : a * b);
	case BPF_DIV: return constant ? a / std::max<std::uint64_t>(b, 1) : a;
	case BPF_MOD: return constant && b > 0 ? std::min(a, b - 1) : a;
	case BPF_AND: return std::min(a, b);
	case BPF_OR:
	case BPF_XOR: return all_ones_up_to(std::max(a, b));
	case BPF_RSH: return a;
	case BPF_LSH:
		// bpf_filter shifts by the operand as x86-64 does (count mod 32):
		// only a constant count below 32 shifts by itself.
		if (a == 0)
			return 0;
		if (!constant || b >= 32)
			return kAny;
		return saturate(a << b);
	case BPF_NEG: return a == 0 ? 0 : kAny;
	default: return kAny;
	}
}

// The state after instruction p (not a jump or a return); `needed` grows by
// the bytes a load there can reach.
void step(const CbpfInsn &p, Bounds &s, std::uint64_t &needed)
{
	switch (BPF_CLASS(p.code)) {
	case BPF_LD:
		switch (BPF_MODE(p.code)) {
		case BPF_ABS:
			needed = std::max<std::uint64_t>(needed, std::uint64_t{p.k} + load_size(p.code));
			s.a = load_bound(p.code);
			break;
		case BPF_IND:
			needed = std::max<std::uint64_t>(needed, s.x + p.k + load_size(p.code));
			s.a = load_bound(p.code);
			break;
		case BPF_IMM: s.a = p.k; break;
		case BPF_MEM: s.a = s.mem[p.k]; break;
		default: s.a = kAny; break; // BPF_LEN: the wire length
		}
		break;
	case BPF_LDX:
		switch (BPF_MODE(p.code)) {
		case BPF_MSH:
			// X = 4 * (P[k] & 0xf): at most 60.
			needed = std::max<std::uint64_t>(needed, std::uint64_t{p.k} + 1);
			s.x = 60;
			break;
		case BPF_IMM: s.x = p.k; break;
		case BPF_MEM: s.x = s.mem[p.k]; break;
		default: s.x = kAny; break; // BPF_LEN
		}
		break;
	case BPF_ST: s.mem[p.k] = s.a; break;
	case BPF_STX: s.mem[p.k] = s.x; break;
	case BPF_ALU:
		if (BPF_SRC(p.code) == BPF_X)
			s.a = alu_bound(BPF_OP(p.code), s.a, s.x, false);
		else
			s.a = alu_bound(BPF_OP(p.code), s.a, p.k, true);
		break;
	case BPF_MISC:
		if (BPF_MISCOP(p.code) == BPF_TAX)
			s.x = s.a;
		else
			s.a = s.x;
		break;
	default:
		break;
	}
}

} // namespace

std::optional<std::uint32_t> cbpf_bytes_needed(std::span<const CbpfInsn> program)
{
	const std::size_t n = program.size();
	// in[i]: bounds on entry to instruction i, over every path that reaches it.
	std::vector<Bounds> in(n);
	std::vector<bool> seen(n, false);
	std::vector<unsigned> growths(n, 0);
	std::vector<std::size_t> todo{0};
	std::uint64_t needed = 0;

	auto flow = [&](std::size_t to, const Bounds &s) {
		if (to >= n)
			return; // a valid program never jumps out (validate_cbpf)
		if (!seen[to]) {
			seen[to] = true;
			in[to] = s;
			todo.push_back(to);
			return;
		}
		Bounds before = in[to];
		if (!join(in[to], s))
			return;
		if (++growths[to] > kWidenAfter)
			widen(in[to], before);
		todo.push_back(to);
	};

	if (n == 0)
		return 0;
	seen[0] = true;
	while (!todo.empty()) {
		std::size_t i = todo.back();
		todo.pop_back();
		const CbpfInsn &p = program[i];
		Bounds s = in[i];
		switch (BPF_CLASS(p.code)) {
		case BPF_RET:
			break;
		case BPF_JMP:
			if (BPF_OP(p.code) == BPF_JA) {
				flow(cbpf_ja_target(i, p.k), s);
			} else {
				flow(i + 1 + p.jt, s);
				flow(i + 1 + p.jf, s);
			}
			break;
		default:
			step(p, s, needed);
			flow(i + 1, s);
		}
	}
	// A load beyond 4 GiB cannot succeed; reading every byte decides it too.
	if (needed > UINT32_MAX)
		return std::nullopt;
	return static_cast<std::uint32_t>(needed);
}

} // namespace capx
