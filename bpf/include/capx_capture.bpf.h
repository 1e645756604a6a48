/* SPDX-License-Identifier: GPL-2.0-only */
/* The capture core every capx BPF program shares: the event ring, the
 * per-CPU scratch slots that hold a packet while it is filtered and sent,
 * the per-probe counters, and the steps between "a packet is here" and
 * "its record is in the ring".
 *
 * A capture point in buffer mode (tracing, uprobes: bpf/skb.bpf.c,
 * bpf/mbuf.bpf.c):
 *
 *	struct capx_counters *c = capx_counters_get(probe_id);
 *	if (!c) return 0;
 *	c->hits++;
 *	struct capx_scratch *s = capx_scratch_get(c);
 *	if (!s) return 0;
 *	copied = <read up to CAPX_PACKET_BUF_SIZE bytes into s->data>;
 *	ret = capx_filter_buf(s->data, copied, wire_len);
 *	if (ret) {
 *		capx_event_set_len(&s->event, ret, copied, wire_len);
 *		capx_event_init(&s->event, probe_id);   // then its own fields
 *		capx_emit(s, c);
 *	} else {
 *		c->filtered_out++;
 *	}
 *	capx_scratch_put();
 *
 * In direct mode (XDP) it filters the packet in place with
 * capx_filter_pkt() first, and takes a scratch slot only for a match (see
 * capx_keep_len() and bpf/filter_test.bpf.c).
 *
 * User space sizes the maps before load (src/bpf/capture_maps.hpp):
 * capx_scratch_slots gets one slot per possible CPU and nesting level,
 * capx_events the ring size the user asked for.
 */
#ifndef CAPX_CAPTURE_BPF_H
#define CAPX_CAPTURE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "capx/event.h"
#include "capx_filter.bpf.h"

/* A program may define CAPX_SCRATCH_TAIL before including this header to
 * get that many more bytes behind data[] in each slot: room the verifier
 * must see for accesses it cannot bound tighter (bpf/skb.bpf.c). Never
 * sent, never filtered. */
#ifndef CAPX_SCRATCH_TAIL
#define CAPX_SCRATCH_TAIL 0
#endif

struct capx_scratch {
	struct capx_event event;
	__u8 data[CAPX_PACKET_BUF_SIZE];
#if CAPX_SCRATCH_TAIL > 0
	__u8 tail[CAPX_SCRATCH_TAIL];
#endif
};

/* Set by user space before load (read-only data). */
const volatile __u32 capx_snaplen = CAPX_PACKET_BUF_SIZE; /* -s */
/* Batched wakeups: a record wakes the reader (BPF_RB_FORCE_WAKEUP) only
 * when it takes the ring's fill across a multiple of this many bytes, else
 * not (BPF_RB_NO_WAKEUP; capx_wakeup_flags()). The reader must then bound
 * the latency itself by polling with a timeout and consuming what is there
 * either way. 0: the ring's own rule (a record wakes a reader that has
 * caught up). */
const volatile __u32 capx_wakeup_bytes = 0;

/* A regular array indexed by cpu * CAPX_SCRATCH_DEPTH + depth: per-CPU
 * arrays cannot hold values over 32 KiB (PCPU_MIN_UNIT_SIZE). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, __u32);
	__type(value, struct capx_scratch);
} capx_scratch_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} capx_scratch_depth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CAPX_MAX_PROBES);
	__type(key, __u32);
	__type(value, struct capx_counters);
} capx_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* sized by user space */
} capx_events SEC(".maps");

static __always_inline __u32 capx_min(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

/* `len` clamped to [lo, hi] in a way the verifier can prove for a helper's
 * size argument. A plain C range test is not enough: clang tends to test a
 * copy (say len - 1 against hi - 1) and pass the original, which the
 * verifier then knows nothing about. Here the compare-and-move is on the
 * very register that is returned. Callers handle values outside the range
 * (e.g. len == 0) first; the clamp only makes the bounds visible. */
#define capx_clamp(len, lo, hi)                                                \
	({                                                                     \
		__u64 v_ = (__u32)(len);                                       \
		asm volatile("if %[v] >= %[l] goto +1\n\t"                     \
			     "%[v] = %[l]\n\t"                                  \
			     "if %[v] <= %[h] goto +1\n\t"                       \
			     "%[v] = %[h]"                                     \
			     : [v] "+r"(v_)                                    \
			     : [l] "i"(lo), [h] "i"(hi));                      \
		v_;                                                            \
	})

/* Largest length bpf_xdp_load_bytes() and bpf_skb_load_bytes() take in one
 * call (__bpf_xdp_load_bytes() refuses len > 0xffff): a full
 * CAPX_PACKET_BUF_SIZE copy takes two calls of at most this. */
#define CAPX_COPY_CHUNK 0x8000

static __always_inline struct capx_counters *capx_counters_get(__u32 probe_id)
{
	return bpf_map_lookup_elem(&capx_counters, &probe_id);
}

/* This CPU's next free scratch slot, or NULL when none is free (counted as
 * lost_busy). Every non-NULL result must be returned with
 * capx_scratch_put(). Nesting is strictly LIFO on one CPU, so the plain
 * depth counter needs no atomics. */
static __always_inline struct capx_scratch *capx_scratch_get(struct capx_counters *c)
{
	__u32 zero = 0;
	__u32 *depth = bpf_map_lookup_elem(&capx_scratch_depth, &zero);
	if (!depth)
		return 0;
	__u32 level = *depth;
	if (level >= CAPX_SCRATCH_DEPTH) {
		c->lost_busy++;
		return 0;
	}
	__u32 slot = bpf_get_smp_processor_id() * CAPX_SCRATCH_DEPTH + level;
	struct capx_scratch *s = bpf_map_lookup_elem(&capx_scratch_slots, &slot);
	if (!s) {
		c->errors++;
		return 0;
	}
	*depth = level + 1;
	return s;
}

static __always_inline void capx_scratch_put(void)
{
	__u32 zero = 0;
	__u32 *depth = bpf_map_lookup_elem(&capx_scratch_depth, &zero);
	if (depth && *depth > 0)
		*depth -= 1;
}

/* How many bytes of a matched packet to keep: the filter's answer (its
 * snaplen), the user's -s and the bytes available, whichever is least. */
static __always_inline __u32 capx_keep_len(__u32 filter_ret, __u32 available)
{
	return capx_min(capx_min(filter_ret, capx_snaplen), capx_min(available, CAPX_PACKET_BUF_SIZE));
}

/* True when fewer bytes are kept than the user asked for: the packet was
 * longer than the buffer or its bytes were not all reachable. */
static __always_inline int capx_is_truncated(__u32 filter_ret, __u32 available, __u32 wire_len)
{
	__u32 wanted = capx_min(capx_min(filter_ret, capx_snaplen), wire_len);
	return capx_keep_len(filter_ret, available) < wanted;
}

/* The record length/truncation step of every capture point: a match's
 * `copied` bytes (of `wire_len`) and the filter's answer `ret` give the
 * bytes sent and the TRUNCATED flag (the record's other flags are set
 * after this). */
static __always_inline void capx_event_set_len(struct capx_event *e, __u32 ret, __u32 copied, __u32 wire_len)
{
	e->wire_len = wire_len;
	e->cap_len = capx_keep_len(ret, copied);
	e->flags = capx_is_truncated(ret, copied, wire_len) ? CAPX_EVENT_TRUNCATED : 0;
}

/* Copies `n` (1..CAPX_PACKET_BUF_SIZE) bytes from `src` to s->data + dst,
 * from kernel or user memory. A copy behind what is already there has a
 * variable offset and a variable length, which the verifier bounds
 * independently: the clamps show it each bound, and the slot needs
 * CAPX_SCRATCH_TAIL >= CAPX_PACKET_BUF_SIZE for their sum. Callers keep
 * dst + n <= CAPX_PACKET_BUF_SIZE. */
#if CAPX_SCRATCH_TAIL >= CAPX_PACKET_BUF_SIZE
static __always_inline int capx_read_kernel_into(struct capx_scratch *s, __u32 dst, __u64 src, __u32 n)
{
	__u64 off = capx_clamp(dst, 0, CAPX_PACKET_BUF_SIZE);
	return bpf_probe_read_kernel(s->data + off, capx_clamp(n, 1, CAPX_PACKET_BUF_SIZE), (const void *)src);
}

static __always_inline int capx_read_user_into(struct capx_scratch *s, __u32 dst, __u64 src, __u32 n)
{
	__u64 off = capx_clamp(dst, 0, CAPX_PACKET_BUF_SIZE);
	return bpf_probe_read_user(s->data + off, capx_clamp(n, 1, CAPX_PACKET_BUF_SIZE), (const void *)src);
}
#endif

/* Fills the fields every capture point knows; keeps wire_len, cap_len and
 * flags (set by capx_event_set_len() or the caller). */
static __always_inline void capx_event_init(struct capx_event *e, __u32 probe_id)
{
	__u32 wire_len = e->wire_len, cap_len = e->cap_len, flags = e->flags;
	__builtin_memset(e, 0, sizeof(*e));
	e->timestamp_ns = bpf_ktime_get_ns();
	e->wire_len = wire_len;
	e->cap_len = cap_len;
	e->flags = flags;
	e->probe_id = probe_id;
	e->cpu = bpf_get_smp_processor_id();
}

/* The current task's pid, tid and comm (meaningful in process context). */
static __always_inline void capx_event_set_task(struct capx_event *e)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->flags |= CAPX_EVENT_HAS_TASK;
}

/* The ring flags for a record of `size` bytes (see capx_wakeup_bytes): only
 * the record that takes the ring's fill across a multiple of
 * capx_wakeup_bytes wakes the reader, not every record while the ring is
 * above it. A reader that falls behind (capturing everything at a few
 * Mpps) was otherwise woken by every record, and each wakeup is an irq_work
 * raised on the producing CPU (bpf_ringbuf_commit(): irq_work_queue(), a
 * self-IPI: native_write_msr() took 18-27% of a DPDK lcore in perf, a VM
 * exit each on this VM). A reader that is behind is awake anyway; one
 * asleep is woken within capx_wakeup_bytes, or by its poll timeout. */
static __always_inline __u64 capx_wakeup_flags(__u64 size)
{
	if (!capx_wakeup_bytes)
		return 0;
	__u64 avail = bpf_ringbuf_query(&capx_events, BPF_RB_AVAIL_DATA);
	return avail / capx_wakeup_bytes != (avail + size) / capx_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
										 : BPF_RB_NO_WAKEUP;
}

/* Sends the record built at `rec` inside a scratch slot (the event, its
 * cap_len bytes right behind it) and counts the outcome; 0 when it was sent.
 * `rec` need not be at the slot's start: a program that reads a packet to
 * some offset sends it from there without a second copy (bpf/mbuf.bpf.c). The slot must hold CAPX_PACKET_BUF_SIZE
 * bytes behind rec's data, as the verifier cannot bound cap_len tighter. */
static __always_inline int capx_emit_rec(struct capx_event *rec, struct capx_counters *c)
{
	__u64 len = capx_clamp(rec->cap_len, 0, CAPX_PACKET_BUF_SIZE);
	if (bpf_ringbuf_output(&capx_events, rec, sizeof(*rec) + len, capx_wakeup_flags(sizeof(*rec) + len))) {
		c->lost_ring_full++;
		return -1;
	}
	c->captured++;
	if (rec->flags & CAPX_EVENT_TRUNCATED)
		c->truncated++;
	return 0;
}

/* Sends s->event and its cap_len bytes of data in one ring record and
 * counts the outcome. Returns 0 when the record was sent. */
static __always_inline int capx_emit(struct capx_scratch *s, struct capx_counters *c)
{
	return capx_emit_rec(&s->event, c);
}

#endif
