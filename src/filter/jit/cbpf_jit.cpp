// SPDX-License-Identifier: GPL-2.0-only
#include "filter/jit/cbpf_jit.hpp"

#include <linux/filter.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "filter/cbpf_check.hpp"
#include "filter/ebpf_translator.hpp"
#include "filter/jit/x86_64_emitter.hpp"

namespace capx {

namespace {

using x86::Alu;
using x86::Cond;
using x86::Mem;
using x86::Reg;
using x86::Shift;

// Register assignment. A and X in eax/ecx: `div` needs eax (and clobbers
// edx), shifts by X need cl. The arguments stay where the ABI put them,
// except the wire length, which leaves edx for `div`.
constexpr Reg kA = Reg::rax;
constexpr Reg kX = Reg::rcx;
constexpr Reg kPacket = Reg::rdi;
constexpr Reg kCaplen = Reg::rsi;
constexpr Reg kWireArg = Reg::rdx;
constexpr Reg kWire = Reg::r8;
constexpr Reg kTmp = Reg::rdx;
constexpr Reg kTmp2 = Reg::r9;
constexpr Reg kLoops = Reg::r11;
// M[0..15] in the red zone (System V ABI: 128 bytes below rsp that a leaf
// function may use without moving rsp).
constexpr std::int32_t kMemBase = -64;

constexpr std::uint64_t kLoopCutBit = std::uint64_t{1} << 32;

std::uint64_t load_size(std::uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W: return 4;
	case BPF_H: return 2;
	default: return 1;
	}
}

// An absolute load (LD ABS or LDX MSH): how many bytes it needs, 0 if none.
std::uint64_t abs_need(const CbpfInsn &c)
{
	if (BPF_CLASS(c.code) == BPF_LD && BPF_MODE(c.code) == BPF_ABS)
		return std::uint64_t{c.k} + load_size(c.code);
	if (c.code == (BPF_LDX | BPF_MSH | BPF_B))
		return std::uint64_t{c.k} + 1;
	return 0;
}

bool is_backward_ja(const CbpfInsn &c, std::size_t i)
{
	return c.code == (BPF_JMP | BPF_JA) && cbpf_ja_target(i, c.k) <= i;
}

// What the code generator needs to know about the whole program first.
struct Facts {
	std::vector<bool> reachable;
	std::vector<std::size_t> next;   // the next reachable instruction, or n
	// caplen is known to be >= known[i] when instruction i starts (the
	// checks on every path to it), in the version that checks.
	std::vector<std::uint64_t> known;
	// The most bytes an absolute load that can succeed needs.
	std::uint64_t max_need = 0;
	std::size_t checks = 0;          // absolute-load checks left after `known`
	bool uses_len = false;
	bool reads_mem = false;
	bool has_ind = false;
	bool has_loop = false;
	// A or X may be read before the program sets it (libpcap starts both at 0).
	bool reads_initial_a = true;
	bool reads_initial_x = true;
	// Byte order elision: a halfword or word load (absolute or indirect)
	// whose value only ever meets `jeq #k` / `jset #k` (libpcap's "ldh [12];
	// jeq #0x800; jeq #0x86dd") keeps the bytes as loaded (little endian),
	// and those jumps compare with k byte-swapped instead.
	// compare_swapped[j] = 2 or 4: jump j compares with k swapped as a
	// halfword / word; raw_load[i]: load i skips its byte swap.
	std::vector<std::uint8_t> compare_swapped;
	std::vector<bool> raw_load;
};

constexpr unsigned kRegA = 1;
constexpr unsigned kRegX = 2;

// Which of A and X instruction c reads, and which it sets.
unsigned reads(const CbpfInsn &c)
{
	switch (BPF_CLASS(c.code)) {
	case BPF_RET: return BPF_RVAL(c.code) == BPF_A ? kRegA : 0;
	case BPF_LD: return BPF_MODE(c.code) == BPF_IND ? kRegX : 0;
	case BPF_LDX: return 0;
	case BPF_ST: return kRegA;
	case BPF_STX: return kRegX;
	case BPF_ALU: return kRegA | (BPF_OP(c.code) != BPF_NEG && BPF_SRC(c.code) == BPF_X ? kRegX : 0);
	case BPF_JMP:
		if (BPF_OP(c.code) == BPF_JA)
			return 0;
		return kRegA | (BPF_SRC(c.code) == BPF_X ? kRegX : 0);
	default: return BPF_MISCOP(c.code) == BPF_TAX ? kRegA : kRegX;
	}
}

unsigned sets(const CbpfInsn &c)
{
	switch (BPF_CLASS(c.code)) {
	case BPF_LD: case BPF_ALU: return kRegA;
	case BPF_LDX: return kRegX;
	case BPF_MISC: return BPF_MISCOP(c.code) == BPF_TAX ? kRegX : kRegA;
	default: return 0;
	}
}

std::vector<std::size_t> successors(const CbpfInsn &c, std::size_t i)
{
	switch (BPF_CLASS(c.code)) {
	case BPF_RET: return {};
	case BPF_JMP:
		if (BPF_OP(c.code) == BPF_JA)
			return {cbpf_ja_target(i, c.k)};
		return {i + 1 + c.jt, i + 1 + c.jf};
	default: return {i + 1};
	}
}

// Fills compare_swapped and raw_load (Facts). Without loops only: then all
// edges go forward and one backward pass computes liveness.
void find_raw_loads(std::span<const CbpfInsn> prog, Facts &f)
{
	const std::size_t n = prog.size();
	f.compare_swapped.assign(n, 0);
	f.raw_load.assign(n, false);
	if (f.has_loop)
		return;
	std::vector<unsigned> preds(n, 0);
	std::vector<bool> a_live(n, false); // A is read before it is set, from i on
	for (std::size_t i = 0; i < n; i++)
		if (f.reachable[i])
			for (std::size_t s : successors(prog[i], i))
				preds[s]++;
	for (std::size_t i = n; i-- > 0;) {
		if (!f.reachable[i])
			continue;
		bool live = false;
		for (std::size_t s : successors(prog[i], i))
			live = live || a_live[s];
		a_live[i] = (reads(prog[i]) & kRegA) || (!(sets(prog[i]) & kRegA) && live);
	}
	std::vector<unsigned> seen_from_chain(n, 0); // edges from the chain, reset after each load
	std::vector<std::size_t> chain, todo;
	for (std::size_t i = 0; i + 1 < n; i++) {
		const CbpfInsn &c = prog[i];
		if (!f.reachable[i] || BPF_CLASS(c.code) != BPF_LD ||
		    (BPF_MODE(c.code) != BPF_ABS && BPF_MODE(c.code) != BPF_IND) || BPF_SIZE(c.code) == BPF_B)
			continue;
		const std::uint8_t width = BPF_SIZE(c.code) == BPF_H ? 2 : 4;
		// The jumps that see this load's value, each reached only from the
		// load or from one another; every other successor must not need A.
		auto compares = [&](const CbpfInsn &j) {
			if (BPF_CLASS(j.code) != BPF_JMP || BPF_SRC(j.code) != BPF_K)
				return false;
			if (BPF_OP(j.code) == BPF_JSET)
				return true;
			// A halfword never equals a k above 0xffff; a swapped k would.
			return BPF_OP(j.code) == BPF_JEQ && (width == 4 || j.k <= 0xffff);
		};
		for (std::size_t j : chain)
			for (std::size_t s : successors(prog[j], j))
				seen_from_chain[s] = 0;
		chain.clear();
		todo.assign(1, i + 1);
		bool ok = preds[i + 1] == 1;
		while (ok && !todo.empty()) {
			std::size_t j = todo.back();
			todo.pop_back();
			if (!compares(prog[j])) {
				ok = false;
				break;
			}
			chain.push_back(j);
			for (std::size_t s : successors(prog[j], j)) {
				// Joins the chain once every predecessor is in it.
				if (++seen_from_chain[s] == preds[s] && compares(prog[s]))
					todo.push_back(s);
			}
		}
		if (!ok)
			continue;
		// Every successor the chain left: A dead there, or in the chain.
		for (std::size_t j : chain)
			for (std::size_t s : successors(prog[j], j))
				if (a_live[s] && std::find(chain.begin(), chain.end(), s) == chain.end())
					ok = false;
		if (!ok)
			continue;
		f.raw_load[i] = true;
		for (std::size_t j : chain)
			f.compare_swapped[j] = width;
	}
}

Facts analyse(std::span<const CbpfInsn> prog)
{
	const std::size_t n = prog.size();
	Facts f;
	f.reachable = cbpf_reachable(prog);
	f.next.assign(n, n);
	for (std::size_t i = n; i-- > 1;)
		f.next[i - 1] = f.reachable[i] ? i : f.next[i];
	f.known.assign(n, UINT64_MAX);
	f.known[0] = 0;
	for (std::size_t i = 0; i < n; i++) {
		if (!f.reachable[i])
			continue;
		const CbpfInsn &c = prog[i];
		if (is_backward_ja(c, i)) {
			f.has_loop = true;
			f.known[cbpf_ja_target(i, c.k)] = 0; // entered again with nothing known
		}
		std::uint16_t cls = BPF_CLASS(c.code);
		f.uses_len |= (cls == BPF_LD || cls == BPF_LDX) && BPF_MODE(c.code) == BPF_LEN;
		f.reads_mem |= (cls == BPF_LD || cls == BPF_LDX) && BPF_MODE(c.code) == BPF_MEM;
		f.has_ind |= cls == BPF_LD && BPF_MODE(c.code) == BPF_IND;
	}
	// Forward propagation: jumps other than the backward JAs go forward,
	// so one pass in program order sees every predecessor first.
	for (std::size_t i = 0; i < n; i++) {
		if (!f.reachable[i])
			continue;
		const CbpfInsn &c = prog[i];
		std::uint64_t out = f.known[i];
		if (std::uint64_t need = abs_need(c)) {
			if (need > UINT32_MAX)
				continue; // never succeeds: no successor runs after it
			f.max_need = std::max(f.max_need, need);
			if (need > out) {
				f.checks++;
				out = need;
			}
		}
		auto flow = [&](std::size_t to) {
			if (to > i && to < n)
				f.known[to] = std::min(f.known[to], out);
		};
		switch (BPF_CLASS(c.code)) {
		case BPF_RET:
			break;
		case BPF_JMP:
			if (BPF_OP(c.code) == BPF_JA) {
				flow(cbpf_ja_target(i, c.k));
			} else {
				flow(i + 1 + c.jt);
				flow(i + 1 + c.jf);
			}
			break;
		default:
			flow(i + 1);
		}
	}
	// Whether A and X are certainly set before they are read: a forward pass
	// again (with loops the initial zeroing stays, which is always right).
	if (!f.has_loop) {
		std::vector<unsigned> set_in(n, kRegA | kRegX);
		set_in[0] = 0;
		unsigned uninit_reads = 0;
		for (std::size_t i = 0; i < n; i++) {
			if (!f.reachable[i])
				continue;
			const CbpfInsn &c = prog[i];
			uninit_reads |= reads(c) & ~set_in[i];
			unsigned out = set_in[i] | sets(c);
			auto flow = [&](std::size_t to) {
				if (to < n)
					set_in[to] &= out;
			};
			if (BPF_CLASS(c.code) == BPF_JMP && BPF_OP(c.code) == BPF_JA) {
				flow(cbpf_ja_target(i, c.k));
			} else if (BPF_CLASS(c.code) == BPF_JMP) {
				flow(i + 1 + c.jt);
				flow(i + 1 + c.jf);
			} else if (BPF_CLASS(c.code) != BPF_RET) {
				flow(i + 1);
			}
		}
		f.reads_initial_a = uninit_reads & kRegA;
		f.reads_initial_x = uninit_reads & kRegX;
	}
	find_raw_loads(prog, f);
	return f;
}

bool fits_int8(std::int64_t v)
{
	return v >= -128 && v <= 127;
}

// One code generator pass. The program can be emitted twice: a version
// without bounds checks on absolute loads, entered when caplen covers the
// largest of them, and a version with the checks `known` leaves.
class Generator {
public:
	Generator(std::span<const CbpfInsn> prog, const Facts &facts) : prog_(prog), f_(facts)
	{
		const std::size_t n = prog.size();
		dual_ = f_.checks >= 2;
		labels_ = 2 * n + 2;
	}

	// Emits all code. Jump sizes come from the previous pass's layout
	// (`prev`); the first pass uses long jumps only. False if a short jump
	// chosen from the previous layout does not reach (it cannot: distances
	// only shrink from one pass to the next; checked all the same).
	bool emit(const Generator *prev)
	{
		prev_ = prev;
		e_.clear();
		at_.assign(labels_, -1);
		jump_ends_.clear();
		fixups_.clear();
		prologue();
		if (dual_) {
			e_.alu32(Alu::cmp, kCaplen, static_cast<std::uint32_t>(f_.max_need));
			jump(Cond::b, label(kChecked, 0));
			version(kUnchecked);
		}
		version(kChecked);
		at_[ret0_label()] = static_cast<std::int64_t>(e_.size());
		e_.zero32(kA);
		e_.ret();
		if (f_.has_loop) {
			at_[loop_cut_label()] = static_cast<std::int64_t>(e_.size());
			e_.mov64(kA, kLoopCutBit);
			e_.ret();
		}
		for (const Fixup &fx : fixups_) {
			std::int64_t d = at_[fx.label] - static_cast<std::int64_t>(fx.end);
			if (fx.is_short) {
				if (!fits_int8(d))
					return false;
				e_.patch_rel8(fx.end - 1, static_cast<std::int8_t>(d));
			} else {
				e_.patch_rel32(fx.end - 4, static_cast<std::int32_t>(d));
			}
		}
		return true;
	}

	std::vector<std::uint8_t> code() const { return e_.code(); }
	std::size_t size() const { return e_.size(); }

private:
	enum Version : std::size_t { kChecked = 0, kUnchecked = 1 };
	static constexpr std::size_t kAlways = 16; // not a condition: jmp

	struct Fixup {
		std::size_t end;    // offset just past the jump
		std::size_t label;
		bool is_short;
	};

	std::size_t label(Version v, std::size_t insn) const { return v * prog_.size() + insn; }
	std::size_t ret0_label() const { return 2 * prog_.size(); }
	std::size_t loop_cut_label() const { return 2 * prog_.size() + 1; }

	void prologue()
	{
		if (f_.uses_len)
			e_.mov32(kWire, kWireArg);
		if (f_.has_ind)
			e_.mov32(kCaplen, kCaplen); // zero-extends: indirect checks compare 64-bit sums
		// libpcap starts with A = X = 0; most programs set them first.
		// (Every write of X is a 32-bit operation, which clears the upper
		// half of rcx, as the 64-bit sums of indirect loads need.)
		if (f_.reads_initial_a)
			e_.zero32(kA);
		if (f_.reads_initial_x)
			e_.zero32(kX);
		if (f_.has_loop)
			e_.zero32(kLoops);
		// libpcap leaves M[] uninitialised; zero like the other engines
		// (the eBPF verifier insists), so a read before a store is 0.
		if (f_.reads_mem) {
			e_.zero32(kTmp);
			for (std::int32_t w = 0; w < 8; w++)
				e_.store64(Mem{Reg::rsp, kMemBase + 8 * w}, kTmp);
		}
	}

	void jump_any(std::size_t cond, std::size_t to)
	{
		std::size_t seq = jump_ends_.size();
		bool is_short = false;
		if (prev_ && seq < prev_->jump_ends_.size() && prev_->at_[to] >= 0) {
			std::int64_t d = prev_->at_[to] - static_cast<std::int64_t>(prev_->jump_ends_[seq]);
			is_short = fits_int8(d);
		}
		if (cond == kAlways)
			is_short ? e_.jmp8(0) : e_.jmp32(0);
		else
			is_short ? e_.jcc8(static_cast<Cond>(cond), 0) : e_.jcc32(static_cast<Cond>(cond), 0);
		jump_ends_.push_back(e_.size());
		fixups_.push_back({e_.size(), to, is_short});
	}

	void jump(Cond c, std::size_t to) { jump_any(static_cast<std::size_t>(c), to); }

	// Control goes to instruction `to` of version v; `next` falls through.
	void go(Version v, std::size_t to, std::size_t next)
	{
		if (to == next)
			return;
		const CbpfInsn &t = prog_[to];
		// A jump to a return: return here (saves the jump).
		if (BPF_CLASS(t.code) == BPF_RET) {
			ret(t);
			return;
		}
		jump_any(kAlways, label(v, to));
	}

	void branch(Version v, Cond c, std::size_t t, std::size_t f, std::size_t next)
	{
		if (t == f) {
			go(v, t, next);
		} else if (t == next) {
			jump(x86::negate(c), label(v, f));
		} else {
			jump(c, label(v, t));
			go(v, f, next);
		}
	}

	void ret(const CbpfInsn &c)
	{
		if (BPF_RVAL(c.code) == BPF_K)
			e_.mov32(kA, c.k);
		e_.ret();
	}

	// Fails to ret0 unless caplen >= need (unless that is known already).
	void check(Version v, std::size_t i, std::uint64_t need)
	{
		std::uint64_t known = v == kUnchecked ? f_.max_need : f_.known[i];
		if (need <= known)
			return;
		e_.alu32(Alu::cmp, kCaplen, static_cast<std::uint32_t>(need));
		jump(Cond::b, ret0_label());
	}

	// The packet byte at absolute offset k (caplen > k checked already).
	Mem packet_at(std::uint32_t k)
	{
		if (k <= INT32_MAX)
			return Mem{kPacket, static_cast<std::int32_t>(k)};
		e_.mov32(kTmp, k);
		return Mem{kPacket, 0, kTmp};
	}

	// Loads in network byte order, or as the bytes lie when `raw`.
	void load(Reg dst, std::uint16_t code, Mem m, bool raw = false)
	{
		switch (BPF_SIZE(code)) {
		case BPF_W:
			e_.load32(dst, m);
			if (!raw)
				e_.bswap32(dst);
			break;
		case BPF_H:
			e_.load16_zx(dst, m);
			if (!raw)
				e_.ror16(dst, 8);
			break;
		default:
			e_.load8_zx(dst, m);
			break;
		}
	}

	// bpf_filter's check for X + k: no 32-bit wrap-around, and the load ends
	// within the capture; done in 64 bits (rcx and rsi are zero-extended).
	Mem indirect(std::uint32_t k, std::uint64_t size)
	{
		std::uint64_t end = k + size;
		if (end <= INT32_MAX) {
			e_.lea64(kTmp, Mem{kX, static_cast<std::int32_t>(end)});
			e_.alu64(Alu::cmp, kTmp, kCaplen);
			jump(Cond::a, ret0_label());
			return Mem{kPacket, static_cast<std::int32_t>(k), kX};
		}
		e_.mov32(kTmp, k);
		e_.alu64(Alu::add, kTmp, kX);
		e_.lea64(kTmp2, Mem{kTmp, static_cast<std::int32_t>(size)});
		e_.alu64(Alu::cmp, kTmp2, kCaplen);
		jump(Cond::a, ret0_label());
		return Mem{kPacket, 0, kTmp};
	}

	static Mem scratch(std::uint32_t k) { return Mem{Reg::rsp, kMemBase + 4 * static_cast<std::int32_t>(k)}; }

	void version(Version v)
	{
		for (std::size_t i = 0; i < prog_.size(); i++) {
			if (!f_.reachable[i])
				continue;
			at_[label(v, i)] = static_cast<std::int64_t>(e_.size());
			insn(v, i);
		}
	}

	void alu(const CbpfInsn &c)
	{
		const std::uint32_t k = c.k;
		const bool x = BPF_SRC(c.code) == BPF_X;
		auto simple = [&](Alu op) { x ? e_.alu32(op, kA, kX) : e_.alu32(op, kA, k); };
		switch (BPF_OP(c.code)) {
		case BPF_ADD: simple(Alu::add); break;
		case BPF_SUB: simple(Alu::sub); break;
		case BPF_AND: simple(Alu::and_); break;
		case BPF_OR: simple(Alu::or_); break;
		case BPF_XOR: simple(Alu::xor_); break;
		case BPF_MUL: x ? e_.imul32(kA, kX) : e_.imul32(kA, k); break;
		case BPF_DIV:
		case BPF_MOD: {
			const bool mod = BPF_OP(c.code) == BPF_MOD;
			if (!x && (k & (k - 1)) == 0) { // a power of two (validation refused 0)
				if (mod)
					e_.alu32(Alu::and_, kA, k - 1);
				else if (k > 1)
					e_.shift32(Shift::shr, kA, static_cast<std::uint8_t>(__builtin_ctz(k)));
				break;
			}
			Reg divisor = kX;
			if (x) {
				// bpf_filter: division by a zero X returns 0.
				e_.test32(kX, kX);
				jump(Cond::e, ret0_label());
			} else {
				divisor = kTmp2;
				e_.mov32(kTmp2, k);
			}
			e_.zero32(kTmp);
			e_.div32(divisor);
			if (mod)
				e_.mov32(kA, kTmp);
			break;
		}
		case BPF_LSH:
		case BPF_RSH: {
			Shift op = BPF_OP(c.code) == BPF_LSH ? Shift::shl : Shift::shr;
			if (!x) {
				// bpf_filter's `A <<= k` compiled for x86-64: SHL masks
				// the count to 5 bits (the threaded engine does the same).
				if (std::uint8_t count = k & 31)
					e_.shift32(op, kA, count);
				break;
			}
			// libpcap >= 1.10: a shift by X >= 32 gives 0.
			e_.zero32(kTmp);
			e_.shift32_cl(op, kA);
			e_.alu32(Alu::cmp, kX, 32);
			e_.cmov32(Cond::ae, kA, kTmp);
			break;
		}
		default: // BPF_NEG
			e_.neg32(kA);
			break;
		}
	}

	void conditional(Version v, std::size_t i, std::size_t next)
	{
		const CbpfInsn &c = prog_[i];
		const std::size_t t = i + 1 + c.jt;
		const std::size_t f = i + 1 + c.jf;
		const bool x = BPF_SRC(c.code) == BPF_X;
		// A holds the loaded bytes unswapped (Facts::raw_load): so does k.
		std::uint32_t k = c.k;
		if (f_.compare_swapped[i] == 2)
			k = __builtin_bswap16(static_cast<std::uint16_t>(k));
		else if (f_.compare_swapped[i] == 4)
			k = __builtin_bswap32(k);
		Cond cond = Cond::e;
		switch (BPF_OP(c.code)) {
		case BPF_JEQ:
			if (x)
				e_.alu32(Alu::cmp, kA, kX);
			else if (k == 0)
				e_.test32(kA, kA);
			else
				e_.alu32(Alu::cmp, kA, k);
			cond = Cond::e;
			break;
		case BPF_JGT:
			x ? e_.alu32(Alu::cmp, kA, kX) : e_.alu32(Alu::cmp, kA, k);
			cond = Cond::a;
			break;
		case BPF_JGE:
			x ? e_.alu32(Alu::cmp, kA, kX) : e_.alu32(Alu::cmp, kA, k);
			cond = Cond::ae;
			break;
		default: // BPF_JSET
			if (!x && k == 0) {
				go(v, f, next); // A & 0 is never true
				return;
			}
			if (x)
				e_.test32(kA, kX);
			else if (k <= 0xff)
				e_.test8(kA, static_cast<std::uint8_t>(k));
			else
				e_.test32(kA, k);
			cond = Cond::ne;
			break;
		}
		branch(v, cond, t, f, next);
	}

	void insn(Version v, std::size_t i)
	{
		const CbpfInsn &c = prog_[i];
		const std::size_t next = f_.next[i];
		switch (BPF_CLASS(c.code)) {
		case BPF_RET:
			ret(c);
			return;
		case BPF_LD:
		case BPF_LDX: {
			const Reg dst = BPF_CLASS(c.code) == BPF_LD ? kA : kX;
			switch (BPF_MODE(c.code)) {
			case BPF_ABS:
			case BPF_MSH: {
				std::uint64_t need = abs_need(c);
				if (need > UINT32_MAX) {
					// Past any possible capture: always no match.
					jump_any(kAlways, ret0_label());
					return;
				}
				check(v, i, need);
				if (BPF_MODE(c.code) == BPF_MSH) {
					e_.load8_zx(kX, packet_at(c.k));
					e_.alu32(Alu::and_, kX, 0xf);
					e_.shift32(Shift::shl, kX, 2);
				} else {
					load(kA, c.code, packet_at(c.k), f_.raw_load[i]);
				}
				break;
			}
			case BPF_IND:
				load(kA, c.code, indirect(c.k, load_size(c.code)), f_.raw_load[i]);
				break;
			case BPF_LEN:
				e_.mov32(dst, kWire);
				break;
			case BPF_IMM:
				e_.mov32(dst, c.k);
				break;
			default: // BPF_MEM
				e_.load32(dst, scratch(c.k));
				break;
			}
			break;
		}
		case BPF_ST:
			e_.store32(scratch(c.k), kA);
			break;
		case BPF_STX:
			e_.store32(scratch(c.k), kX);
			break;
		case BPF_ALU:
			alu(c);
			break;
		case BPF_MISC:
			if (BPF_MISCOP(c.code) == BPF_TAX)
				e_.mov32(kX, kA);
			else
				e_.mov32(kA, kX);
			break;
		case BPF_JMP:
			if (BPF_OP(c.code) != BPF_JA) {
				conditional(v, i, next);
				return;
			}
			if (is_backward_ja(c, i)) {
				// The same bound as the other engines (ebpf_translator.hpp).
				e_.inc32(kLoops);
				e_.alu32(Alu::cmp, kLoops, static_cast<std::uint32_t>(kFilterLoopCopies));
				jump(Cond::ae, loop_cut_label());
				jump_any(kAlways, label(v, cbpf_ja_target(i, c.k)));
				return;
			}
			go(v, cbpf_ja_target(i, c.k), next);
			return;
		}
		// Falls through to i + 1 (valid programs end with a return, so i + 1
		// exists; it is reachable because this instruction is).
	}

	std::span<const CbpfInsn> prog_;
	const Facts &f_;
	const Generator *prev_ = nullptr;
	bool dual_ = false;
	std::size_t labels_ = 0;
	x86::Emitter e_;
	std::vector<std::int64_t> at_;
	std::vector<std::size_t> jump_ends_;
	std::vector<Fixup> fixups_;
};

} // namespace

bool cbpf_jit_supported()
{
#if defined(__x86_64__)
	return true;
#else
	return false;
#endif
}

[[nodiscard]] Result<std::vector<std::uint8_t>> compile_cbpf_x86_64(std::span<const CbpfInsn> program)
{
	if (!cbpf_jit_supported())
		return fail("no native filter engine in this build (x86-64 only)");
	if (auto ok = validate_cbpf(program); !ok)
		return std::unexpected(ok.error());
	Facts facts = analyse(program);
	// Long jumps first, then shorter ones where the last layout allows,
	// until the size settles (a handful of passes).
	Generator a(program, facts), b(program, facts);
	if (!a.emit(nullptr))
		return fail("classic BPF JIT: code layout failed");
	Generator *last = &a, *cur = &b;
	for (int pass = 0; pass < 16; pass++) {
		if (!cur->emit(last))
			break; // keep the last consistent layout
		bool settled = cur->size() == last->size();
		std::swap(last, cur);
		if (settled)
			break;
	}
	return last->code();
}

[[nodiscard]] Result<JitCode> JitCode::load(std::span<const std::uint8_t> code)
{
	const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
	const std::size_t size = (code.size() + page - 1) / page * page;
	auto mapping = MappedMemory::map(-1, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (!mapping)
		return std::unexpected(mapping.error());
	std::memcpy(mapping->data(), code.data(), code.size());
	// x86 keeps instruction fetch coherent with the stores above: no cache
	// flush is needed, only the permission change.
	if (::mprotect(mapping->data(), size, PROT_READ | PROT_EXEC) != 0)
		return fail_errno(errno, "mprotect(PROT_EXEC) for the filter's machine code");
	JitCode jc;
	jc.mapping_ = std::move(*mapping);
	jc.size_ = code.size();
	return jc;
}

} // namespace capx
