/* SPDX-License-Identifier: GPL-2.0-only */
/* capx xdp: packets at an XDP program, before it runs (entry) and as it left
 * them (exit), each with the program's verdict (loaded by
 * src/capture/xdp/xdp_probes.cpp).
 *
 * capx_xdp_wrap is attached in place of the user's program: it runs that
 * program through a tail call made from a subprogram, so control comes
 * back to it with the verdict (the kernel lets a subprogram tail-call and
 * returns the callee's result to the subprogram's caller: "bpf: allow for
 * tailcalls in BPF subprograms for x64 JIT", commit e411901c0b77, x86-64
 * JIT only). With an empty slot (capx's own pass-through program on an
 * interface without one) the call falls through and the verdict is PASS.
 *
 * capx_xdp_hook_<action> are the programs of xdpcap's hook protocol: the
 * user's program tail-calls slot <action> of a pinned PROG_ARRAY right
 * before returning that action; the capture program records the packet as
 * the program left it and returns the same action.
 *
 * Which packets are kept: the expression (libpcap's semantics) on the bytes
 * of the side that is written first (entry when entry is captured: the exit
 * record then follows that choice, whatever the program did to the bytes),
 * then the verdict against capx_action_mask. An entry record waits in its
 * scratch slot until the verdict is known, so both records carry it and
 * --action applies to both.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "capx_xdp.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u32 capx_entry_probe = 0;    /* probe (capture point) ids */
const volatile __u32 capx_exit_probe = 1;
const volatile __u32 capx_capture_entry = 0;
const volatile __u32 capx_capture_exit = 1;
/* Bit N: keep packets with verdict N (XDP_ABORTED .. XDP_REDIRECT); bit
 * CAPX_XDP_OTHER_ACTION: any other value the program returned. */
const volatile __u32 capx_action_mask = ~0u;
/* Bytes the filter may read (EbpfFilter::bytes_needed). */
const volatile __u32 capx_filter_bytes = CAPX_PACKET_BUF_SIZE;

#define CAPX_XDP_OTHER_ACTION 5

/* The user's program, in slot 0 (empty for capx's own program). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} capx_target SEC(".maps");

/* A per-CPU sequence: a record's packet id is (cpu << 48) | sequence, the
 * same in a packet's entry and exit records. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} capx_packet_seq SEC(".maps");

/* Runs the user's program and returns its verdict, or -1 when the slot is
 * empty. Its own frame and the caller's must stay small: the verifier
 * refuses a tail call from a subprogram when the frames above it use 256
 * bytes of stack or more (check_max_stack_depth_subprog()). */
static __noinline int run_target(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &capx_target, 0);
	/* The empty asm keeps clang from taking the verdict for a constant. */
	int r = -1;
	asm volatile("" : "+r"(r));
	return r;
}

static __always_inline __u32 action_bit(__u32 verdict)
{
	return 1u << (verdict <= XDP_REDIRECT ? verdict : CAPX_XDP_OTHER_ACTION);
}

/* The filter's answer on the packet as it is now (0: not kept). In place
 * when the linear part holds every byte the filter may read, which costs
 * no copy; otherwise over a copy of those bytes (a multi-buffer packet) in
 * a scratch slot taken for the purpose, returned in *slot for the capture
 * to reuse. */
static __always_inline __u32 filter_packet(struct xdp_md *ctx, struct capx_counters *c, __u32 len,
					   struct capx_scratch **slot, int *failed)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 needed = capx_min(len, capx_filter_bytes);
	if ((__u32)(data_end - data) >= needed)
		return capx_filter_pkt(data, data_end, len);

	struct capx_scratch *s = capx_scratch_get(c);
	if (!s) {
		*failed = 1; /* counted as lost_busy */
		return 0;
	}
	*slot = s;
	__u32 n = capx_min(needed, CAPX_PACKET_BUF_SIZE);
	if (n == 0 || capx_xdp_copy(ctx, s->data, n)) {
		c->errors++;
		*failed = 1;
		return 0;
	}
	return capx_filter_buf(s->data, n, len);
}

/* Looks at the packet for probe `probe_id`: counts the hit, runs the
 * filter when `filter` is set (else the packet was chosen already), and
 * for a kept packet returns a scratch slot holding its record (verdict and
 * packet id still to set), NULL otherwise. Every returned slot goes back
 * with capx_scratch_put(). */
static __always_inline struct capx_scratch *capture(struct xdp_md *ctx, __u32 probe_id, int filter)
{
	struct capx_counters *c = capx_counters_get(probe_id);
	if (!c)
		return 0;
	c->hits++;
	__u32 len = bpf_xdp_get_buff_len(ctx);
	struct capx_scratch *s = 0;
	__u32 ret = CAPX_PACKET_BUF_SIZE;
	if (filter) {
		int failed = 0;
		ret = filter_packet(ctx, c, len, &s, &failed);
		if (!ret) {
			if (s)
				capx_scratch_put();
			if (!failed)
				c->filtered_out++;
			return 0;
		}
	}
	if (!s) {
		s = capx_scratch_get(c);
		if (!s)
			return 0;
	}
	__u32 keep = capx_keep_len(ret, len);
	if (keep == 0 || capx_xdp_copy(ctx, s->data, keep)) {
		c->errors++;
		capx_scratch_put();
		return 0;
	}
	s->event.wire_len = len;
	s->event.cap_len = keep;
	s->event.flags = capx_is_truncated(ret, len, len) ? CAPX_EVENT_TRUNCATED : 0;
	capx_event_init(&s->event, probe_id);
	s->event.ifindex = ctx->ingress_ifindex;
	s->event.queue = ctx->rx_queue_index;
	s->event.flags |= CAPX_EVENT_HAS_IFINDEX | CAPX_EVENT_HAS_QUEUE | CAPX_EVENT_INBOUND |
			  CAPX_EVENT_HAS_VERDICT | CAPX_EVENT_HAS_PACKET_ID;
	return s;
}

static __always_inline __u64 next_packet_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&capx_packet_seq, &zero);
	__u64 n = seq ? ++*seq : 0;
	return ((__u64)bpf_get_smp_processor_id() << 48) | (n & ((1ull << 48) - 1));
}

/* Sends a record kept by capture() once the verdict is known, or counts it
 * as filtered out when --action does not want that verdict. */
static __always_inline void finish(struct capx_scratch *s, __u32 probe_id, __u32 verdict, __u64 packet_id)
{
	struct capx_counters *c = capx_counters_get(probe_id);
	if (!c)
		return;
	if (!(capx_action_mask & action_bit(verdict))) {
		c->filtered_out++;
		return;
	}
	s->event.verdict = verdict;
	s->event.packet_id = packet_id;
	capx_emit(s, c);
}

SEC("capx/xdp")
int capx_xdp_wrap(struct xdp_md *ctx)
{
	struct capx_scratch *in = 0;
	if (capx_capture_entry)
		in = capture(ctx, capx_entry_probe, 1);

	int ran = run_target(ctx);
	__u32 verdict = ran < 0 ? XDP_PASS : (__u32)ran;

	struct capx_scratch *out = 0;
	if (capx_capture_exit) {
		if (!capx_capture_entry) {
			out = capture(ctx, capx_exit_probe, 1);
		} else if (in) {
			out = capture(ctx, capx_exit_probe, 0);
		} else {
			struct capx_counters *c = capx_counters_get(capx_exit_probe);
			if (c) {
				c->hits++;
				c->filtered_out++;
			}
		}
	}

	if (in || out) {
		__u64 id = next_packet_id();
		if (in)
			finish(in, capx_entry_probe, verdict, id);
		if (out) {
			finish(out, capx_exit_probe, verdict, id);
			capx_scratch_put();
		}
		if (in)
			capx_scratch_put();
	}
	return verdict;
}

/* xdpcap's hook: one program per slot, each knowing its action. */
static __always_inline int hook(struct xdp_md *ctx, __u32 action)
{
	struct capx_scratch *s = capture(ctx, capx_exit_probe, 1);
	if (s) {
		finish(s, capx_exit_probe, action, next_packet_id());
		capx_scratch_put();
	}
	return action;
}

SEC("capx/xdp")
int capx_xdp_hook_aborted(struct xdp_md *ctx)
{
	return hook(ctx, XDP_ABORTED);
}

SEC("capx/xdp")
int capx_xdp_hook_drop(struct xdp_md *ctx)
{
	return hook(ctx, XDP_DROP);
}

SEC("capx/xdp")
int capx_xdp_hook_pass(struct xdp_md *ctx)
{
	return hook(ctx, XDP_PASS);
}

SEC("capx/xdp")
int capx_xdp_hook_tx(struct xdp_md *ctx)
{
	return hook(ctx, XDP_TX);
}

SEC("capx/xdp")
int capx_xdp_hook_redirect(struct xdp_md *ctx)
{
	return hook(ctx, XDP_REDIRECT);
}
