// SPDX-License-Identifier: GPL-2.0-only
#include "filter/ebpf_translator.hpp"

#include <linux/bpf.h>
#include <linux/filter.h>

#include <limits>

#include <fmt/format.h>

#include "capx/filter_abi.h"
#include "filter/cbpf_check.hpp"

namespace capx {

namespace {

// Register use inside the subprogram. r1-r3 keep the arguments for the whole
// body (nothing is called, so nothing clobbers them).
constexpr std::uint8_t kBase = 1;    // data (packet mode) or buffer
constexpr std::uint8_t kLimit = 2;   // data_end (packet mode) or caplen
constexpr std::uint8_t kWireLen = 3;
constexpr std::uint8_t kTmp = 4;
constexpr std::uint8_t kPtr = 5;
constexpr std::uint8_t kA = 6;
constexpr std::uint8_t kX = 7;
constexpr std::uint8_t kRet = 0;
constexpr std::uint8_t kFp = 10;

// Scratch memory M[0..15] lives in the lowest 64 bytes of the frame.
constexpr std::int16_t kMemBase = -64;

// In packet mode the verifier tracks packet offsets (fixed + variable part of
// the pointer) only below MAX_PACKET_OFF (0xffff, kernel/bpf/verifier.c,
// find_good_pkt_pointers). A caller may hand over data already advanced by a
// small variable amount (a skipped header), so leave it 255 bytes of room: a
// load ending beyond 0xff00 returns 0. No linear packet area (XDP frame,
// skb head) is that long, so the load would be past the captured bytes anyway.
constexpr std::uint64_t kPacketLimit = 0xff00;
constexpr std::uint64_t kBufferLimit = CAPX_PACKET_BUF_SIZE;

constexpr EbpfInsn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm)
{
	return make_ebpf_insn(code, dst, src, off, imm);
}

std::int32_t as_imm(std::uint32_t k) { return static_cast<std::int32_t>(k); }

std::uint32_t load_size(std::uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W: return 4;
	case BPF_H: return 2;
	default: return 1;
	}
}

class Translator {
public:
	Translator(std::span<const CbpfInsn> program, FilterAccess access)
		: prog_(program), access_(access)
	{
	}

	[[nodiscard]] Result<EbpfFilter> run();

private:
	// A jump whose target is known only once everything is emitted.
	enum class Label { Insn, Ret0 };
	struct Fixup {
		std::size_t at;
		Label label;
		std::size_t target;
	};

	void emit(EbpfInsn i) { out_.push_back(i); }
	void jump_to(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int32_t imm,
		     Label label, std::size_t target = 0)
	{
		fixups_.push_back({out_.size(), label, target});
		emit(insn(code, dst, src, 0, imm));
	}
	void goto_ret0(std::uint8_t code = BPF_JMP | BPF_JA, std::uint8_t dst = 0, std::int32_t imm = 0,
		       std::uint8_t src = 0)
	{
		jump_to(code, dst, src, imm, Label::Ret0);
	}
	std::uint64_t limit() const { return access_ == FilterAccess::Packet ? kPacketLimit : kBufferLimit; }

	void load_abs(std::uint8_t dst, std::uint32_t k, std::uint32_t size);
	void load_ind(std::uint32_t k, std::uint32_t size);
	void finish_load(std::uint8_t dst, std::uint8_t ptr, std::int16_t off, std::uint32_t size);
	void alu(const CbpfInsn &p);
	void widen_loop_state();
	void cond_jump(std::size_t vindex, const CbpfInsn &p);
	std::vector<bool> reachable_copies();
	bool never_in_bounds(const CbpfInsn &p) const
	{
		std::uint64_t end = std::uint64_t{p.k};
		if (BPF_CLASS(p.code) == BPF_LD && (BPF_MODE(p.code) == BPF_ABS || BPF_MODE(p.code) == BPF_IND))
			end += load_size(p.code);
		else if (p.code == (BPF_LDX | BPF_MSH | BPF_B))
			end += 1;
		else
			return false;
		return end > limit();
	}

	std::span<const CbpfInsn> prog_;
	FilterAccess access_;
	std::vector<EbpfInsn> out_;
	std::vector<Fixup> fixups_;
	std::size_t copies_ = 1;
};

std::uint8_t size_code(std::uint32_t size)
{
	return size == 4 ? BPF_W : size == 2 ? BPF_H : BPF_B;
}


// dst = *(size *)(ptr + off), converted from network byte order.
void Translator::finish_load(std::uint8_t dst, std::uint8_t ptr, std::int16_t off, std::uint32_t size)
{
	emit(insn(BPF_LDX | BPF_MEM | size_code(size), dst, ptr, off, 0));
	// BPF_END to big endian also zero-extends the result (32 or 16 bits).
	if (size > 1)
		emit(insn(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, static_cast<std::int32_t>(size * 8)));
}

// bpf_filter: "if (k > buflen || sizeof(x) > buflen - k) return 0", i.e. the
// load must end within the captured bytes, computed without wrapping.
void Translator::load_abs(std::uint8_t dst, std::uint32_t k, std::uint32_t size)
{
	std::uint64_t end = std::uint64_t{k} + size;
	if (end > limit()) {
		goto_ret0();
		return;
	}
	if (access_ == FilterAccess::Packet) {
		// tmp = data + end; if tmp > data_end: past the capture.
		emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, kTmp, kBase, 0, 0));
		emit(insn(BPF_ALU64 | BPF_ADD | BPF_K, kTmp, 0, 0, as_imm(static_cast<std::uint32_t>(end))));
		goto_ret0(BPF_JMP | BPF_JGT | BPF_X, kTmp, 0, kLimit);
		finish_load(dst, kTmp, static_cast<std::int16_t>(-static_cast<int>(size)), size);
		return;
	}
	// Buffer: the constant bound above proves the access to the verifier;
	// caplen decides whether the byte was captured.
	goto_ret0(BPF_JMP | BPF_JLT | BPF_K, kLimit, as_imm(static_cast<std::uint32_t>(end)));
	if (k <= static_cast<std::uint32_t>(std::numeric_limits<std::int16_t>::max())) {
		finish_load(dst, kBase, static_cast<std::int16_t>(k), size);
	} else {
		emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, kTmp, kBase, 0, 0));
		emit(insn(BPF_ALU64 | BPF_ADD | BPF_K, kTmp, 0, 0, as_imm(k)));
		finish_load(dst, kTmp, 0, size);
	}
}

// bpf_filter: X + k must not wrap and the load must end within the capture.
// X is zero-extended in its register, so X + k + size is exact in 64 bits.
void Translator::load_ind(std::uint32_t k, std::uint32_t size)
{
	std::uint64_t fixed = std::uint64_t{k} + size;
	if (fixed > limit()) {
		goto_ret0();
		return;
	}
	auto max_x = static_cast<std::int32_t>(limit() - fixed);
	// tmp = X, bounded by a constant so the verifier knows its range.
	emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, kTmp, kX, 0, 0));
	goto_ret0(BPF_JMP | BPF_JGT | BPF_K, kTmp, max_x);
	if (access_ == FilterAccess::Packet) {
		emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, kPtr, kBase, 0, 0));
		emit(insn(BPF_ALU64 | BPF_ADD | BPF_X, kPtr, kTmp, 0, 0));
		emit(insn(BPF_ALU64 | BPF_ADD | BPF_K, kPtr, 0, 0, as_imm(static_cast<std::uint32_t>(fixed))));
		goto_ret0(BPF_JMP | BPF_JGT | BPF_X, kPtr, 0, kLimit);
		finish_load(kA, kPtr, static_cast<std::int16_t>(-static_cast<int>(size)), size);
		return;
	}
	// ptr = X + k + size, compared with caplen; then the load from buf + X + k.
	emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, kPtr, kTmp, 0, 0));
	emit(insn(BPF_ALU64 | BPF_ADD | BPF_K, kPtr, 0, 0, as_imm(static_cast<std::uint32_t>(fixed))));
	goto_ret0(BPF_JMP | BPF_JGT | BPF_X, kPtr, 0, kLimit);
	emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, kPtr, kBase, 0, 0));
	emit(insn(BPF_ALU64 | BPF_ADD | BPF_X, kPtr, kTmp, 0, 0));
	if (k <= static_cast<std::uint32_t>(std::numeric_limits<std::int16_t>::max())) {
		finish_load(kA, kPtr, static_cast<std::int16_t>(k), size);
	} else {
		emit(insn(BPF_ALU64 | BPF_ADD | BPF_K, kPtr, 0, 0, as_imm(k)));
		finish_load(kA, kPtr, 0, size);
	}
}

void Translator::alu(const CbpfInsn &p)
{
	std::uint8_t op = BPF_OP(p.code);
	if (op == BPF_NEG) {
		emit(insn(BPF_ALU | BPF_NEG, kA, 0, 0, 0));
		return;
	}
	if (BPF_SRC(p.code) == BPF_K) {
		std::uint32_t k = p.k;
		// bpf_filter shifts a 32-bit A by k with C's `<<=`; compiled for
		// x86-64 that is SHL/SHR, which use k modulo 32. The kernel would
		// reject an immediate shift >= 32, so give it the same k % 32.
		if (op == BPF_LSH || op == BPF_RSH)
			k &= 31;
		emit(insn(BPF_ALU | op | BPF_K, kA, 0, 0, as_imm(k)));
		return;
	}
	switch (op) {
	case BPF_DIV:
	case BPF_MOD:
		// bpf_filter: "if (X == 0) return 0;" (eBPF would yield 0 or A).
		goto_ret0(BPF_JMP | BPF_JEQ | BPF_K, kX, 0);
		emit(insn(BPF_ALU | op | BPF_X, kA, kX, 0, 0));
		break;
	case BPF_LSH:
	case BPF_RSH:
		// bpf_filter (libpcap >= 1.10): a shift by X >= 32 gives 0; eBPF
		// would shift by X % 32.
		emit(insn(BPF_JMP | BPF_JGE | BPF_K, kX, 0, 2, 32));
		emit(insn(BPF_ALU | op | BPF_X, kA, kX, 0, 0));
		emit(insn(BPF_JMP | BPF_JA, 0, 0, 1, 0));
		emit(insn(BPF_ALU | BPF_MOV | BPF_K, kA, 0, 0, 0));
		break;
	default:
		emit(insn(BPF_ALU | op | BPF_X, kA, kX, 0, 0));
	}
}

// Before a backward jump (into the next copy of the loop): A and X keep
// their values but lose what the verifier knows of them. Each path into the
// next copy otherwise brings its own ranges (X is the offset of the header
// reached, a sum over the headers passed), the verifier cannot tell one
// state from the next at the loop's head, and it walks every history of
// every copy: an IPv6 protochain took 150k verified instructions. Widened,
// all paths reach the head in one state and are pruned there. XOR with the
// wire length, twice, is the identity the verifier does not see through
// (check_alu_op() tracks XOR of an unknown as unknown, scalar_min_max_xor()).
void Translator::widen_loop_state()
{
	for (std::uint8_t reg : {kA, kX}) {
		emit(insn(BPF_ALU | BPF_XOR | BPF_X, reg, kWireLen, 0, 0));
		emit(insn(BPF_ALU | BPF_XOR | BPF_X, reg, kWireLen, 0, 0));
	}
}

std::uint8_t inverse_jump(std::uint8_t op)
{
	switch (op) {
	case BPF_JEQ: return BPF_JNE;
	case BPF_JGT: return BPF_JLE;
	case BPF_JGE: return BPF_JLT;
	default: return 0; // JSET has no inverse
	}
}

// A and X hold 32-bit values; JMP32 compares them with k as an unsigned
// 32-bit number (a 64-bit JMP would sign-extend k >= 0x80000000).
void Translator::cond_jump(std::size_t vindex, const CbpfInsn &p)
{
	std::size_t next = vindex + 1;
	std::size_t t = next + p.jt;
	std::size_t f = next + p.jf;
	std::uint8_t op = BPF_OP(p.code);
	std::uint8_t src = BPF_SRC(p.code);
	std::uint8_t src_reg = src == BPF_X ? kX : 0;
	std::int32_t imm = src == BPF_X ? 0 : as_imm(p.k);
	if (t == f) {
		if (t != next)
			jump_to(BPF_JMP | BPF_JA, 0, 0, 0, Label::Insn, t);
		return;
	}
	if (t == next && inverse_jump(op)) {
		jump_to(BPF_JMP32 | inverse_jump(op) | src, kA, src_reg, imm, Label::Insn, f);
		return;
	}
	jump_to(BPF_JMP32 | op | src, kA, src_reg, imm, Label::Insn, t);
	if (f != next)
		jump_to(BPF_JMP | BPF_JA, 0, 0, 0, Label::Insn, f);
}

// Loops (backward jumps) are unrolled: the program is laid out in
// kFilterLoopCopies copies, a backward jump in copy c goes to copy c + 1, and
// in the last copy returns 0. The eBPF is then loop-free, which the verifier
// proves quickly; the executor counts backward jumps the same way.
std::vector<bool> Translator::reachable_copies()
{
	const std::size_t n = prog_.size();
	std::vector<bool> seen(n * copies_, false);
	std::vector<std::size_t> todo{0};
	while (!todo.empty()) {
		std::size_t v = todo.back();
		todo.pop_back();
		if (v >= seen.size() || seen[v])
			continue;
		seen[v] = true;
		std::size_t copy = v / n, i = v % n, base = copy * n;
		const CbpfInsn &p = prog_[i];
		// A load that can never be in bounds ends the program (returns
		// 0); what follows it would be unreachable eBPF.
		if (never_in_bounds(p))
			continue;
		switch (BPF_CLASS(p.code)) {
		case BPF_RET:
			break;
		case BPF_JMP:
			if (BPF_OP(p.code) == BPF_JA) {
				std::size_t t = cbpf_ja_target(i, p.k);
				if (t > i)
					todo.push_back(base + t);
				else if (copy + 1 < copies_)
					todo.push_back(base + n + t);
			} else {
				todo.push_back(base + i + 1 + p.jt);
				todo.push_back(base + i + 1 + p.jf);
			}
			break;
		default:
			todo.push_back(base + i + 1);
		}
	}
	return seen;
}

[[nodiscard]] Result<EbpfFilter> Translator::run()
{
	if (auto ok = validate_cbpf(prog_); !ok)
		return std::unexpected(ok.error());
	const std::size_t n = prog_.size();
	bool loops = false;
	for (std::size_t i = 0; i < n; i++)
		loops |= prog_[i].code == (BPF_JMP | BPF_JA) && cbpf_ja_target(i, prog_[i].k) <= i;
	copies_ = loops ? kFilterLoopCopies : 1;
	auto reachable = reachable_copies();

	EbpfFilter result;
	result.access = access_;
	result.bytes_needed = cbpf_bytes_needed(prog_);

	// Prologue. The caller passes 32-bit arguments; their upper halves are
	// not guaranteed, so zero-extend before comparing in 64 bits.
	if (access_ == FilterAccess::Buffer)
		emit(insn(BPF_ALU | BPF_MOV | BPF_X, kLimit, kLimit, 0, 0));
	emit(insn(BPF_ALU | BPF_MOV | BPF_X, kWireLen, kWireLen, 0, 0));
	// bpf_filter starts with A = X = 0.
	emit(insn(BPF_ALU | BPF_MOV | BPF_K, kA, 0, 0, 0));
	emit(insn(BPF_ALU | BPF_MOV | BPF_K, kX, 0, 0, 0));
	// Scratch words that are read get a defined 0 first (the verifier does
	// not allow reading uninitialised stack; libpcap's code never relies on
	// it, it always stores before loading).
	std::uint32_t mem_read = 0;
	for (std::size_t v = 0; v < reachable.size(); v++) {
		const CbpfInsn &p = prog_[v % n];
		if (!reachable[v])
			continue;
		if (p.code == (BPF_LD | BPF_MEM) || p.code == (BPF_LDX | BPF_MEM))
			mem_read |= 1u << p.k;
		if (BPF_CLASS(p.code) == BPF_ST || BPF_CLASS(p.code) == BPF_STX ||
		    (BPF_CLASS(p.code) <= BPF_LDX && BPF_MODE(p.code) == BPF_MEM))
			result.stack_bytes = static_cast<std::uint32_t>(-kMemBase);
	}
	for (std::uint32_t pair = 0; pair < BPF_MEMWORDS / 2; pair++)
		if (mem_read & (3u << (2 * pair)))
			emit(insn(BPF_ST | BPF_MEM | BPF_DW, kFp, 0,
				  static_cast<std::int16_t>(kMemBase + 8 * pair), 0));

	std::vector<std::size_t> start(reachable.size(), 0);
	for (std::size_t v = 0; v < reachable.size(); v++) {
		start[v] = out_.size();
		// The verifier rejects unreachable instructions.
		if (!reachable[v])
			continue;
		const std::size_t i = v % n;
		const std::size_t base = v - i;
		const CbpfInsn &p = prog_[i];
		switch (BPF_CLASS(p.code)) {
		case BPF_LD:
			switch (BPF_MODE(p.code)) {
			case BPF_ABS: load_abs(kA, p.k, load_size(p.code)); break;
			case BPF_IND: load_ind(p.k, load_size(p.code)); break;
			case BPF_LEN: emit(insn(BPF_ALU | BPF_MOV | BPF_X, kA, kWireLen, 0, 0)); break;
			case BPF_IMM: emit(insn(BPF_ALU | BPF_MOV | BPF_K, kA, 0, 0, as_imm(p.k))); break;
			case BPF_MEM:
				emit(insn(BPF_LDX | BPF_MEM | BPF_W, kA, kFp,
					  static_cast<std::int16_t>(kMemBase + 4 * static_cast<int>(p.k)), 0));
				break;
			}
			break;
		case BPF_LDX:
			switch (BPF_MODE(p.code)) {
			case BPF_LEN: emit(insn(BPF_ALU | BPF_MOV | BPF_X, kX, kWireLen, 0, 0)); break;
			case BPF_IMM: emit(insn(BPF_ALU | BPF_MOV | BPF_K, kX, 0, 0, as_imm(p.k))); break;
			case BPF_MEM:
				emit(insn(BPF_LDX | BPF_MEM | BPF_W, kX, kFp,
					  static_cast<std::int16_t>(kMemBase + 4 * static_cast<int>(p.k)), 0));
				break;
			case BPF_MSH:
				// X = (P[k] & 0xf) << 2, the IPv4 header length.
				load_abs(kX, p.k, 1);
				if (std::uint64_t{p.k} + 1 <= limit()) {
					emit(insn(BPF_ALU | BPF_AND | BPF_K, kX, 0, 0, 0xf));
					emit(insn(BPF_ALU | BPF_LSH | BPF_K, kX, 0, 0, 2));
				}
				break;
			}
			break;
		case BPF_ST:
		case BPF_STX:
			emit(insn(BPF_STX | BPF_MEM | BPF_W, kFp, BPF_CLASS(p.code) == BPF_ST ? kA : kX,
				  static_cast<std::int16_t>(kMemBase + 4 * static_cast<int>(p.k)), 0));
			break;
		case BPF_ALU:
			alu(p);
			break;
		case BPF_JMP:
			if (BPF_OP(p.code) == BPF_JA) {
				std::size_t target = cbpf_ja_target(i, p.k);
				if (target > i) {
					if (target != i + 1)
						jump_to(BPF_JMP | BPF_JA, 0, 0, 0, Label::Insn, base + target);
				} else {
					result.has_loop = true;
					if (base + n < reachable.size()) {
						widen_loop_state();
						jump_to(BPF_JMP | BPF_JA, 0, 0, 0, Label::Insn, base + n + target);
					} else
						goto_ret0(); // out of copies: the loop went on too long
				}
			} else {
				cond_jump(v, p);
			}
			break;
		case BPF_RET:
			if (BPF_RVAL(p.code) == BPF_A)
				emit(insn(BPF_ALU | BPF_MOV | BPF_X, kRet, kA, 0, 0));
			else
				emit(insn(BPF_ALU | BPF_MOV | BPF_K, kRet, 0, 0, as_imm(p.k)));
			emit(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
			break;
		case BPF_MISC:
			if (BPF_MISCOP(p.code) == BPF_TAX)
				emit(insn(BPF_ALU | BPF_MOV | BPF_X, kX, kA, 0, 0));
			else
				emit(insn(BPF_ALU | BPF_MOV | BPF_X, kA, kX, 0, 0));
			break;
		}
	}

	std::size_t ret0 = out_.size();
	bool need_ret0 = false;
	for (const auto &f : fixups_)
		need_ret0 |= f.label == Label::Ret0;
	if (need_ret0) {
		emit(insn(BPF_ALU | BPF_MOV | BPF_K, kRet, 0, 0, 0));
		emit(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	for (const auto &f : fixups_) {
		std::size_t target = f.label == Label::Ret0 ? ret0 : start[f.target];
		auto delta = static_cast<std::int64_t>(target) - static_cast<std::int64_t>(f.at) - 1;
		if (delta < std::numeric_limits<std::int16_t>::min() || delta > std::numeric_limits<std::int16_t>::max())
			return fail(fmt::format("filter too large for eBPF: a jump spans {} instructions", delta),
				    "simplify the filter expression");
		out_[f.at].off = static_cast<std::int16_t>(delta);
	}
	result.insns = std::move(out_);
	return result;
}

} // namespace

[[nodiscard]] Result<EbpfFilter> translate_to_ebpf(std::span<const CbpfInsn> program, FilterAccess access)
{
	return Translator(program, access).run();
}

} // namespace capx
