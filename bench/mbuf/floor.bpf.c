/* SPDX-License-Identifier: GPL-2.0-only */
/* bench/mbuf floor programs (mbuf-floor, bench/mbuf/floor.c): what a
 * per-burst uprobe capture cannot avoid on a given machine, measured on the
 * same probes capx mbuf uses and with no capx code in the way.
 *
 *   floor_stash / floor_ret   an rx burst probed at entry and return
 *                             (capx mbuf --ret): the entry keeps the array
 *                             pointer per thread, the return reads the
 *                             array and then each mbuf;
 *   floor_entry               a burst at entry (array, count in args 2, 3).
 *
 * Per mbuf: floor_read bytes at the mbuf's address (its header line, or
 * header, headroom and the filter's bytes in one span as capx reads them),
 * then, if floor_data_len, that many bytes at floor_data_at from the mbuf
 * (the packet data read on its own). Nothing is parsed, filtered or sent.
 * floor_same: the first mbuf's address for every mbuf of the burst.
 * floor_stack: the floor_read bytes go to a buffer on the BPF stack instead
 * of the per-CPU map value (hardened usercopy checks the destination of
 * every copy_from_user_nofault(); mm/usercopy.c, __check_object_size():
 * a destination on the current task's stack ends the checks at
 * check_stack_object(), any other goes on to check_heap_object()).
 * floor_empty: every program returns at once (the uprobe and uretprobe
 * traps and the BPF entry alone).
 */
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_BURST 32
#define MAX_READ 512
/* The stack buffer: the BPF stack is 512 bytes for the whole call chain
 * (callback, loop, program). */
#define MAX_STACK_READ 448

const volatile __u32 floor_empty = 0;
const volatile __u32 floor_read = 0;
const volatile __u32 floor_data_at = 0;
const volatile __u32 floor_data_len = 0;
/* Read the burst's first mbuf every time: the helper calls without a new
 * mbuf's memory each (what a read costs by itself). */
const volatile __u32 floor_same = 0;
const volatile __u32 floor_stack = 0;

struct buf {
	__u64 ptrs[MAX_BURST];
	__u8 data[MAX_READ];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct buf);
} floor_buf SEC(".maps");

/* The same per-thread stash capx mbuf keeps between entry and return. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} floor_stashed SEC(".maps");

/* Counters for a sanity check from user space: hits, mbufs, failed reads. */
__u64 floor_hits = 0;
__u64 floor_mbufs = 0;
__u64 floor_faults = 0;

/* bpf_loop() callback, as capx mbuf walks a burst: mbuf i. */
struct loop_ctx {
	struct buf *b;
};

/* The floor_read bytes of mbuf m into a stack buffer. Not inlined: its
 * buffer lives in its own frame, only in the floor_stack modes. */
static __attribute__((noinline)) int read_to_stack(__u64 m)
{
	__u8 data[MAX_STACK_READ];
	int err = bpf_probe_read_user(data, floor_read > MAX_STACK_READ ? MAX_STACK_READ : floor_read, (const void *)m);
	/* Use the bytes, so the read is not a dead store to the compiler. */
	return err ? err : data[0];
}

static long one(__u32 i, void *ctx)
{
	struct buf *b = ((struct loop_ctx *)ctx)->b;
	__u64 m = b->ptrs[floor_same ? 0 : i & (MAX_BURST - 1)];
	if (floor_read && floor_stack) {
		if (read_to_stack(m) < 0)
			__sync_fetch_and_add(&floor_faults, 1);
	} else if (floor_read && bpf_probe_read_user(b->data, floor_read > MAX_READ ? MAX_READ : floor_read, (const void *)m))
		__sync_fetch_and_add(&floor_faults, 1);
	if (floor_data_len &&
	    bpf_probe_read_user(b->data, floor_data_len > MAX_READ ? MAX_READ : floor_data_len,
				(const void *)(m + floor_data_at)))
		__sync_fetch_and_add(&floor_faults, 1);
	return 0;
}

static __always_inline void burst(__u64 array, __u32 n)
{
	__u32 zero = 0;
	struct buf *b = bpf_map_lookup_elem(&floor_buf, &zero);
	if (!b || n == 0)
		return;
	if (n > MAX_BURST)
		n = MAX_BURST;
	__sync_fetch_and_add(&floor_hits, 1);
	if (bpf_probe_read_user(b->ptrs, n * 8, (const void *)array))
		return;
	struct loop_ctx lc = {.b = b};
	bpf_loop(n, one, &lc, 0);
	__sync_fetch_and_add(&floor_mbufs, n);
}

SEC("uprobe")
int floor_stash(struct pt_regs *ctx)
{
	if (floor_empty)
		return 0;
	__u64 k = bpf_get_current_pid_tgid(), v = ctx->rsi;
	bpf_map_update_elem(&floor_stashed, &k, &v, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int floor_ret(struct pt_regs *ctx)
{
	if (floor_empty)
		return 0;
	__u64 k = bpf_get_current_pid_tgid();
	__u64 *v = bpf_map_lookup_elem(&floor_stashed, &k);
	if (!v)
		return 0;
	__u64 array = *v;
	bpf_map_delete_elem(&floor_stashed, &k);
	burst(array, (__u16)ctx->rax);
	return 0;
}

SEC("uprobe")
int floor_entry(struct pt_regs *ctx)
{
	if (floor_empty)
		return 0;
	burst(ctx->rsi, (__u16)ctx->rdx);
	return 0;
}
