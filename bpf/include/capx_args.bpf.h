/* SPDX-License-Identifier: GPL-2.0-only */
/* A hook's arguments, by index, for every capx program: BTF-typed hooks
 * and raw tracepoints (the context is an array of u64 arguments) and
 * kprobes and uprobes (struct pt_regs, x86-64).
 *
 * Each load is one instruction at a constant offset from the context: with
 * plain C, clang turns a switch of context loads into one load from a
 * context pointer moved by the case's offset, which the verifier refuses
 * ("dereference of modified ctx ptr"). For an argument array, a load past
 * the hook's arguments is refused as well, so its index must be a constant
 * the verifier knows (a frozen rodata value) that leaves only the taken
 * case; every case of struct pt_regs is in bounds, so its index may come
 * from a map. */
#ifndef CAPX_ARGS_BPF_H
#define CAPX_ARGS_BPF_H

#include <linux/types.h>
#include <asm/ptrace.h>

#define capx_ctx_load(ctx, offset)                                             \
	({                                                                     \
		__u64 v_;                                                      \
		asm volatile("%[v] = *(u64 *)(%[c] + %[o])"                    \
			     : [v] "=r"(v_)                                    \
			     : [c] "r"(ctx), [o] "i"(offset));                 \
		v_;                                                            \
	})

/* Argument `index` (0-based) of a tp_btf, fentry, fexit or raw_tp hook. */
static __always_inline __u64 capx_array_arg(const void *ctx, __u32 index)
{
	switch (index) {
	case 0: return capx_ctx_load(ctx, 0);
	case 1: return capx_ctx_load(ctx, 8);
	case 2: return capx_ctx_load(ctx, 16);
	case 3: return capx_ctx_load(ctx, 24);
	case 4: return capx_ctx_load(ctx, 32);
	case 5: return capx_ctx_load(ctx, 40);
	case 6: return capx_ctx_load(ctx, 48);
	case 7: return capx_ctx_load(ctx, 56);
	case 8: return capx_ctx_load(ctx, 64);
	case 9: return capx_ctx_load(ctx, 72);
	case 10: return capx_ctx_load(ctx, 80);
	case 11: return capx_ctx_load(ctx, 88);
	}
	return 0;
}

#define CAPX_REG(ctx, field) capx_ctx_load(ctx, __builtin_offsetof(struct pt_regs, field))

/* Argument `index` (0-based) of a kprobe or uprobe: the x86-64 calling
 * convention passes the first six in rdi, rsi, rdx, rcx, r8, r9
 * (bpf_tracing.h's PT_REGS_PARM1..6). */
static __always_inline __u64 capx_regs_arg(const struct pt_regs *ctx, __u32 index)
{
	switch (index) {
	case 0: return CAPX_REG(ctx, rdi);
	case 1: return CAPX_REG(ctx, rsi);
	case 2: return CAPX_REG(ctx, rdx);
	case 3: return CAPX_REG(ctx, rcx);
	case 4: return CAPX_REG(ctx, r8);
	case 5: return CAPX_REG(ctx, r9);
	}
	return 0;
}

/* A function's return value, at a return probe. */
static __always_inline __u64 capx_regs_ret(const struct pt_regs *ctx)
{
	return CAPX_REG(ctx, rax);
}

#endif
