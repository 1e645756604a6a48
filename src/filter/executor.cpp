// SPDX-License-Identifier: GPL-2.0-only
#include "filter/executor.hpp"

#include <linux/filter.h>

#include <cstring>

#include "filter/cbpf_check.hpp"
#include "filter/ebpf_translator.hpp"

namespace capx {

namespace {

// Operations of the threaded code: one per classic opcode, plus a load from
// a fixed offset fused with the conditional jump that follows it (the
// commonest pair in libpcap's output: "ldh [12]; jeq #0x800").
enum Kind : std::uint8_t {
	kRetK, kRetA,
	kLdW, kLdH, kLdB, kLdIndW, kLdIndH, kLdIndB, kLdLen, kLdxLen, kLdImm, kLdxImm, kLdMem, kLdxMem, kLdxMsh,
	kSt, kStx, kJa, kJaBack,
	kJeqK, kJgtK, kJgeK, kJsetK, kJeqX, kJgtX, kJgeX, kJsetX,
	kAddK, kSubK, kMulK, kDivK, kModK, kAndK, kOrK, kXorK, kLshK, kRshK,
	kAddX, kSubX, kMulX, kDivX, kModX, kAndX, kOrX, kXorX, kLshX, kRshX,
	kNeg, kTax, kTxa,
	// Fused: load at k (need = k + size bytes), then compare with k2.
	kLdWJeq, kLdWJgt, kLdWJge, kLdWJset,
	kLdHJeq, kLdHJgt, kLdHJge, kLdHJset,
	kLdBJeq, kLdBJgt, kLdBJge, kLdBJset,
	kKinds
};

inline std::uint32_t be32(const std::uint8_t *p)
{
	std::uint32_t v;
	std::memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

inline std::uint32_t be16(const std::uint8_t *p)
{
	std::uint16_t v;
	std::memcpy(&v, p, 2);
	return __builtin_bswap16(v);
}

} // namespace

struct FilterExecutor::Op {
	const void *handler = nullptr;
	std::uint32_t k = 0;
	std::uint32_t k2 = 0;      // fused ops: the jump's constant
	std::uint32_t need = 0;    // absolute loads: k + size
	std::uint8_t kind = 0;
	const Op *jt = nullptr;
	const Op *jf = nullptr;
};

namespace {

using Op = FilterExecutor::Op;

constexpr std::uint64_t kLoopCutBit = std::uint64_t{1} << 32;

// The interpreter, entered as FilterExecutor::Entry with context = the first
// op. Called once with context == nullptr, it returns the address of its
// table of label addresses instead (computed gotos can only name labels of
// their own function). InitMem: zero M[] first (the program reads it).
template<bool InitMem>
std::uint64_t threaded(const std::uint8_t *p, std::uint32_t caplen, std::uint32_t wirelen, const void *context)
{
	static const void *const table[kKinds] = {
		&&ret_k, &&ret_a,
		&&ld_w, &&ld_h, &&ld_b, &&ld_ind_w, &&ld_ind_h, &&ld_ind_b, &&ld_len, &&ldx_len, &&ld_imm, &&ldx_imm,
		&&ld_mem, &&ldx_mem, &&ldx_msh,
		&&st, &&stx, &&ja, &&ja_back,
		&&jeq_k, &&jgt_k, &&jge_k, &&jset_k, &&jeq_x, &&jgt_x, &&jge_x, &&jset_x,
		&&add_k, &&sub_k, &&mul_k, &&div_k, &&mod_k, &&and_k, &&or_k, &&xor_k, &&lsh_k, &&rsh_k,
		&&add_x, &&sub_x, &&mul_x, &&div_x, &&mod_x, &&and_x, &&or_x, &&xor_x, &&lsh_x, &&rsh_x,
		&&neg, &&tax, &&txa,
		&&ld_w_jeq, &&ld_w_jgt, &&ld_w_jge, &&ld_w_jset,
		&&ld_h_jeq, &&ld_h_jgt, &&ld_h_jge, &&ld_h_jset,
		&&ld_b_jeq, &&ld_b_jgt, &&ld_b_jge, &&ld_b_jset,
	};
	const Op *op = static_cast<const Op *>(context);
	if (!op)
		return reinterpret_cast<std::uintptr_t>(table);

	std::uint32_t A = 0;
	std::uint32_t X = 0;
	std::size_t backward_jumps = 0;
	std::uint32_t mem[BPF_MEMWORDS];
	if (InitMem)
		std::memset(mem, 0, sizeof mem);

#define DISPATCH() goto *op->handler
#define NEXT() do { ++op; DISPATCH(); } while (0)
#define BRANCH(cond) do { op = (cond) ? op->jt : op->jf; DISPATCH(); } while (0)
// bpf_filter: X + k must not wrap and the load must end within the capture.
#define IND_OK(size) (std::uint64_t{X} + op->k + (size) <= caplen)

	DISPATCH();

ret_k:
	return op->k;
ret_a:
	return A;
ld_w:
	if (op->need > caplen) return 0;
	A = be32(p + op->k);
	NEXT();
ld_h:
	if (op->need > caplen) return 0;
	A = be16(p + op->k);
	NEXT();
ld_b:
	if (op->need > caplen) return 0;
	A = p[op->k];
	NEXT();
ld_ind_w:
	if (!IND_OK(4)) return 0;
	A = be32(p + X + op->k);
	NEXT();
ld_ind_h:
	if (!IND_OK(2)) return 0;
	A = be16(p + X + op->k);
	NEXT();
ld_ind_b:
	if (!IND_OK(1)) return 0;
	A = p[X + op->k];
	NEXT();
ld_len:
	A = wirelen;
	NEXT();
ldx_len:
	X = wirelen;
	NEXT();
ld_imm:
	A = op->k;
	NEXT();
ldx_imm:
	X = op->k;
	NEXT();
ld_mem:
	A = mem[op->k];
	NEXT();
ldx_mem:
	X = mem[op->k];
	NEXT();
ldx_msh:
	if (op->need > caplen) return 0;
	X = (p[op->k] & 0xfu) << 2;
	NEXT();
st:
	mem[op->k] = A;
	NEXT();
stx:
	mem[op->k] = X;
	NEXT();
ja:
	op = op->jt;
	DISPATCH();
// The same bound as the eBPF translation (kFilterLoopCopies).
ja_back:
	if (++backward_jumps >= kFilterLoopCopies)
		return kLoopCutBit;
	op = op->jt;
	DISPATCH();
jeq_k: BRANCH(A == op->k);
jgt_k: BRANCH(A > op->k);
jge_k: BRANCH(A >= op->k);
jset_k: BRANCH(A & op->k);
jeq_x: BRANCH(A == X);
jgt_x: BRANCH(A > X);
jge_x: BRANCH(A >= X);
jset_x: BRANCH(A & X);
add_k: A += op->k; NEXT();
sub_k: A -= op->k; NEXT();
mul_k: A *= op->k; NEXT();
div_k: A /= op->k; NEXT();
mod_k: A %= op->k; NEXT();
and_k: A &= op->k; NEXT();
or_k: A |= op->k; NEXT();
xor_k: A ^= op->k; NEXT();
// k is stored already reduced modulo 32 (what bpf_filter's `A <<= k` does
// on x86-64, see FilterExecutor::create).
lsh_k: A <<= op->k; NEXT();
rsh_k: A >>= op->k; NEXT();
add_x: A += X; NEXT();
sub_x: A -= X; NEXT();
mul_x: A *= X; NEXT();
div_x: if (X == 0) return 0; A /= X; NEXT();
mod_x: if (X == 0) return 0; A %= X; NEXT();
and_x: A &= X; NEXT();
or_x: A |= X; NEXT();
xor_x: A ^= X; NEXT();
// libpcap >= 1.10: a shift by 32 or more gives 0.
lsh_x: A = X < 32 ? A << X : 0; NEXT();
rsh_x: A = X < 32 ? A >> X : 0; NEXT();
neg: A = 0u - A; NEXT();
tax: X = A; NEXT();
txa: A = X; NEXT();

#define FUSED(name, size, load, cond) \
name: \
	if (op->need > caplen) return 0; \
	A = load; \
	BRANCH(cond);
	FUSED(ld_w_jeq, 4, be32(p + op->k), A == op->k2)
	FUSED(ld_w_jgt, 4, be32(p + op->k), A > op->k2)
	FUSED(ld_w_jge, 4, be32(p + op->k), A >= op->k2)
	FUSED(ld_w_jset, 4, be32(p + op->k), A & op->k2)
	FUSED(ld_h_jeq, 2, be16(p + op->k), A == op->k2)
	FUSED(ld_h_jgt, 2, be16(p + op->k), A > op->k2)
	FUSED(ld_h_jge, 2, be16(p + op->k), A >= op->k2)
	FUSED(ld_h_jset, 2, be16(p + op->k), A & op->k2)
	FUSED(ld_b_jeq, 1, p[op->k], A == op->k2)
	FUSED(ld_b_jgt, 1, p[op->k], A > op->k2)
	FUSED(ld_b_jge, 1, p[op->k], A >= op->k2)
	FUSED(ld_b_jset, 1, p[op->k], A & op->k2)
#undef FUSED
#undef IND_OK
#undef BRANCH
#undef NEXT
#undef DISPATCH
}

Kind alu_kind(std::uint16_t code)
{
	bool x = BPF_SRC(code) == BPF_X;
	switch (BPF_OP(code)) {
	case BPF_ADD: return x ? kAddX : kAddK;
	case BPF_SUB: return x ? kSubX : kSubK;
	case BPF_MUL: return x ? kMulX : kMulK;
	case BPF_DIV: return x ? kDivX : kDivK;
	case BPF_MOD: return x ? kModX : kModK;
	case BPF_AND: return x ? kAndX : kAndK;
	case BPF_OR: return x ? kOrX : kOrK;
	case BPF_XOR: return x ? kXorX : kXorK;
	case BPF_LSH: return x ? kLshX : kLshK;
	case BPF_RSH: return x ? kRshX : kRshK;
	default: return kNeg;
	}
}

Kind jump_kind(std::uint16_t code)
{
	bool x = BPF_SRC(code) == BPF_X;
	switch (BPF_OP(code)) {
	case BPF_JEQ: return x ? kJeqX : kJeqK;
	case BPF_JGT: return x ? kJgtX : kJgtK;
	case BPF_JGE: return x ? kJgeX : kJgeK;
	default: return x ? kJsetX : kJsetK;
	}
}

std::uint32_t load_size(std::uint16_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W: return 4;
	case BPF_H: return 2;
	default: return 1;
	}
}

bool is_abs_load(std::uint16_t code)
{
	return BPF_CLASS(code) == BPF_LD && BPF_MODE(code) == BPF_ABS;
}

// A fused kind for "load abs; jump op #k", or kKinds when there is none.
Kind fused_kind(std::uint16_t load, std::uint16_t jump)
{
	if (!is_abs_load(load) || BPF_CLASS(jump) != BPF_JMP || BPF_OP(jump) == BPF_JA || BPF_SRC(jump) != BPF_K)
		return kKinds;
	int row = BPF_SIZE(load) == BPF_W ? 0 : BPF_SIZE(load) == BPF_H ? 1 : 2;
	int col = BPF_OP(jump) == BPF_JEQ ? 0 : BPF_OP(jump) == BPF_JGT ? 1 : BPF_OP(jump) == BPF_JGE ? 2 : 3;
	return static_cast<Kind>(kLdWJeq + row * 4 + col);
}

} // namespace

FilterExecutor::FilterExecutor() = default;
FilterExecutor::FilterExecutor(FilterExecutor &&) noexcept = default;
FilterExecutor &FilterExecutor::operator=(FilterExecutor &&) noexcept = default;
FilterExecutor::~FilterExecutor() = default;

[[nodiscard]] Result<FilterExecutor> FilterExecutor::create(std::span<const CbpfInsn> program)
{
	// No log line here when the native engine is refused: callers can tell
	// by engine(), and this file stays free of spdlog (the fuzz target
	// builds it with coverage hooks that spdlog's inline fmt code breaks).
	if (cbpf_jit_supported())
		if (auto native = create(program, Engine::Native))
			return native;
	// Invalid programs fail here too, with the same message.
	return create(program, Engine::Threaded);
}

[[nodiscard]] Result<FilterExecutor> FilterExecutor::create(std::span<const CbpfInsn> program, Engine engine)
{
	if (auto ok = validate_cbpf(program); !ok)
		return std::unexpected(ok.error());
	FilterExecutor ex;
	ex.engine_ = engine;
	if (engine == Engine::Native) {
		auto code = compile_cbpf_x86_64(program);
		if (!code)
			return std::unexpected(code.error());
		auto loaded = JitCode::load(*code);
		if (!loaded)
			return std::unexpected(loaded.error());
		ex.native_ = std::move(*loaded);
		ex.entry_ = reinterpret_cast<Entry>(const_cast<void *>(ex.native_.entry()));
		return ex;
	}
	auto reachable = cbpf_reachable(program);
	// Reachable instructions get an op each, in order, so an op's fall-through
	// successor is the next op; a fused load+jump goes in front of the jump's
	// own op (which stays for jumps that land on it).
	std::vector<std::size_t> op_of(program.size(), 0);
	struct Pending {
		std::size_t insn;
		bool fused;
	};
	std::vector<Pending> layout;
	for (std::size_t i = 0; i < program.size(); i++) {
		if (!reachable[i])
			continue;
		op_of[i] = layout.size();
		bool fuse = i + 1 < program.size() && fused_kind(program[i].code, program[i + 1].code) != kKinds;
		layout.push_back({i, fuse});
	}
	ex.ops_.resize(layout.size());
	bool reads_mem = false;
	for (std::size_t n = 0; n < layout.size(); n++) {
		std::size_t i = layout[n].insn;
		const CbpfInsn &c = program[i];
		Op &op = ex.ops_[n];
		op.k = c.k;
		Kind kind = kRetK;
		std::uint64_t need = std::uint64_t{c.k} + load_size(c.code);
		switch (BPF_CLASS(c.code)) {
		case BPF_RET:
			kind = BPF_RVAL(c.code) == BPF_A ? kRetA : kRetK;
			break;
		case BPF_LD:
			switch (BPF_MODE(c.code)) {
			case BPF_ABS:
				kind = BPF_SIZE(c.code) == BPF_W ? kLdW : BPF_SIZE(c.code) == BPF_H ? kLdH : kLdB;
				break;
			case BPF_IND:
				kind = BPF_SIZE(c.code) == BPF_W ? kLdIndW
				       : BPF_SIZE(c.code) == BPF_H ? kLdIndH : kLdIndB;
				break;
			case BPF_LEN: kind = kLdLen; break;
			case BPF_IMM: kind = kLdImm; break;
			default: kind = kLdMem; reads_mem = true; break;
			}
			break;
		case BPF_LDX:
			switch (BPF_MODE(c.code)) {
			case BPF_LEN: kind = kLdxLen; break;
			case BPF_IMM: kind = kLdxImm; break;
			case BPF_MSH: kind = kLdxMsh; need = std::uint64_t{c.k} + 1; break;
			default: kind = kLdxMem; reads_mem = true; break;
			}
			break;
		case BPF_ST: kind = kSt; break;
		case BPF_STX: kind = kStx; break;
		case BPF_ALU:
			kind = alu_kind(c.code);
			if (kind == kLshK || kind == kRshK)
				op.k &= 31; // bpf_filter's `A <<= k` compiled for x86-64 (SHL masks the count)
			break;
		case BPF_JMP:
			if (BPF_OP(c.code) == BPF_JA) {
				kind = cbpf_ja_target(i, c.k) <= i ? kJaBack : kJa;
				op.jt = &ex.ops_[op_of[cbpf_ja_target(i, c.k)]];
			} else {
				kind = jump_kind(c.code);
				op.jt = &ex.ops_[op_of[i + 1 + c.jt]];
				op.jf = &ex.ops_[op_of[i + 1 + c.jf]];
			}
			break;
		case BPF_MISC:
			kind = BPF_MISCOP(c.code) == BPF_TAX ? kTax : kTxa;
			break;
		}
		if (layout[n].fused) {
			const CbpfInsn &j = program[i + 1];
			kind = fused_kind(c.code, j.code);
			op.k2 = j.k;
			op.jt = &ex.ops_[op_of[i + 2 + j.jt]];
			op.jf = &ex.ops_[op_of[i + 2 + j.jf]];
		}
		// A load that needs more than 4 GiB can never succeed.
		bool is_load = kind == kLdW || kind == kLdH || kind == kLdB || kind == kLdxMsh || layout[n].fused;
		if (is_load && need > UINT32_MAX) {
			kind = kRetK;
			op.k = 0;
		}
		op.need = static_cast<std::uint32_t>(need);
		op.kind = kind;
	}
	ex.entry_ = reads_mem ? threaded<true> : threaded<false>;
	const auto *table = reinterpret_cast<const void *const *>(ex.entry_(nullptr, 0, 0, nullptr));
	for (Op &op : ex.ops_)
		op.handler = table[op.kind];
	ex.context_ = ex.ops_.data();
	return ex;
}

} // namespace capx
