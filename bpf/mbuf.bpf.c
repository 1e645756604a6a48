/* SPDX-License-Identifier: GPL-2.0-only */
/* capx mbuf: packets of a running DPDK application, read out of its memory
 * at uprobes on functions that take struct rte_mbuf pointers, filtered by
 * the injected tcpdump expression and sent to the shared ring (loaded by
 * src/capture/mbuf/uprobe_set.cpp).
 *
 * One object serves every probe of a session: each program is attached
 * once per probe with the probe id as BPF cookie (bpf_get_attach_cookie()),
 * the key of the probe's struct capx_mbuf_probe in capx_mbuf_probes
 * (include/capx/mbuf_abi.h):
 *   capx_mbuf_one     CAPX_MBUF_ONE: one mbuf at function entry;
 *   capx_mbuf_burst   CAPX_MBUF_BURST: an array and its count at entry;
 *   capx_mbuf_stash   CAPX_MBUF_BURST_RET at entry: keeps the array pointer
 *                     (and the queue matched) per thread until
 *   capx_mbuf_ret     the return, where the count is the return value: an
 *                     rx burst function fills the array during the call and
 *                     returns how many it filled (uint16_t
 *                     rte_eth_rx_burst(), eth_rx_burst_t in ethdev_driver.h).
 *
 * The application's memory is read with bpf_probe_read_user(): a uprobe
 * runs in the probed thread, and DPDK's mbuf pools (hugepages, or --no-huge
 * anonymous memory) are ordinary user mappings of that process. A read
 * that faults returns an error and nothing else happens to the target.
 *
 * Per mbuf: its header is read once (the offsets of the target's ABI,
 * capx_layout), checked like DPDK's rte_mbuf_check() (lib/mbuf/rte_mbuf.c)
 * does for the first segment, and a bad one is counted as malformed and not
 * copied. The packet bytes are copied segment by segment through `next`:
 * first what the filter reads (capx_filter_bytes), then, for a match, the
 * rest up to the snaplen. The wire length is pkt_len.
 */
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* A copy into the slot goes at a variable offset (behind the segments
 * copied so far) with a variable length, which the verifier bounds
 * independently: it must see room for the largest of each
 * (capx_read_user_into()). */
#define CAPX_SCRATCH_TAIL CAPX_PACKET_BUF_SIZE
/* capx_filter_pkt and capx_filter_l3 have no use here. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-function"
#include "capx_capture.bpf.h"
#pragma clang diagnostic pop
#include "capx_kernel_types.bpf.h"
#include "capx_args.bpf.h"
#include "capx/mbuf_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* The bytes of struct rte_mbuf read per segment: every field capx reads
 * lies in its first two cache lines in all DPDK ABIs (next is at 64). */
#define CAPX_MBUF_HDR_MAX 128
/* The burst's pointer array goes into the slot's tail behind the header
 * read (never sent). */
#define CAPX_MBUF_PTRS_AT CAPX_MBUF_HDR_MAX
/* At most this many bytes are read at once from an mbuf's address: its
 * header and, where the packet data follows at the offset of the hit's
 * first mbuf, what the filter needs (pass.span_at). */
#define CAPX_MBUF_SPAN_MAX 512
/* Bursts: where the batch record's entries end in s->data (entries are
 * placed downwards from here, struct capx_mbuf_batch_entry). Below the
 * lowest entry a batch needs room for the next mbuf's span read and the
 * record's own header, else it is sent first (capture_mbuf()). */
#define CAPX_MBUF_BATCH_TOP (sizeof(struct capx_event) + CAPX_MBUF_SPAN_MAX + CAPX_MBUF_BATCH_BYTES)
#define CAPX_MBUF_BATCH_MIN (sizeof(struct capx_event) + CAPX_MBUF_SPAN_MAX)
/* An entry's header and event in front of its packet data. */
#define CAPX_MBUF_ENTRY_HDR (sizeof(struct capx_mbuf_batch_entry) + sizeof(struct capx_event))
/* A segment holds at most UINT16_MAX bytes (data_len is a uint16_t), so a
 * chain of nb_segs segments at most nb_segs * 65535. */
#define CAPX_MBUF_SEG_MAX 65535u
/* More segments than this in one packet are taken for garbage: DPDK allows
 * UINT16_MAX (RTE_MBUF_MAX_NB_SEGS), but drivers take far fewer per packet
 * (rte_eth_desc_lim.nb_seg_max: 8 to a few dozen in the PMDs of 22.11),
 * and random bytes pass a u16 test against 256 once in 256. capx walks at
 * most CAPX_MBUF_MAX_SEGS of them anyway. */
#define CAPX_MBUF_SANE_SEGS 256

/* Set by user space before load (read-only: the verifier knows the values,
 * so the field offsets below are constants to it). */
const volatile struct capx_mbuf_layout capx_layout = {};
/* Bytes the filter may read (EbpfFilter::bytes_needed): copied before it
 * runs, the rest only for a match. */
const volatile __u32 capx_filter_bytes = CAPX_PACKET_BUF_SIZE;
/* --binary: only processes whose executable is this inode on this device
 * (sb->s_dev, MKDEV form); a probe in a shared library otherwise fires in
 * every process mapping the library. */
const volatile __u32 capx_by_binary = 0;
const volatile __u64 capx_exe_ino = 0;
const volatile __u32 capx_exe_dev = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CAPX_MAX_PROBES);
	__type(key, __u32);
	__type(value, struct capx_mbuf_probe);
} capx_mbuf_probes SEC(".maps");

/* Per probe, where the packet data of the first good mbuf of its last hit
 * started, from the mbuf's address (struct pass, span_at): a hit starts
 * with it instead of learning it anew, so its first mbuf is read in one
 * span like the others. Only a hint, checked against each mbuf's own
 * header; the first good mbuf of every hit puts its own offset here when
 * it differs (a pool of another layout). Written by every CPU running the
 * probe; a word store, any value a hit reads is one some mbuf had. */
__u32 capx_span_learnt[CAPX_MAX_PROBES] = {};
_Static_assert((CAPX_MAX_PROBES & (CAPX_MAX_PROBES - 1)) == 0, "probe ids are masked into capx_span_learnt");

/* Capturing everything (a filter that reads no bytes), per probe: the
 * longest packet a burst kept at its last hit (struct batch, keep_guess).
 * A burst's spans take that many data bytes, so a match is whole in its
 * span without the snaplen's unused end being read and sent (320 bytes
 * per 64-byte packet where the snaplen's worth was 512). A packet longer
 * than the guess is copied anew (capture_mbuf()'s second path) and raises
 * it for the rest of the hit. 0: no hit yet, the snaplen's worth. Written
 * like capx_span_learnt. With a filter, a hit starts from the filter's
 * bytes alone and only its own matches raise the guess: a rare long
 * match does not lengthen the spans of every later packet. */
__u32 capx_keep_learnt[CAPX_MAX_PROBES] = {};

/* CAPX_MBUF_BURST_RET between entry and return: per thread and probe (a
 * probed rx function may call another probed one, rte_eth_rx_burst() the
 * driver's). An entry whose return never comes (the thread died in the
 * call) stays until the set is destroyed; the map is sized for that. */
struct stash_key {
	__u64 pid_tgid;
	__u32 probe_id;
	__u32 pad;
};

struct stash {
	__u64 array;
	__u32 queue; /* the queue matched, ~0: none */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct stash_key);
	__type(value, struct stash);
} capx_mbuf_stashed SEC(".maps");

#define NO_QUEUE 0xffffffffu

/* The fields of one segment's header. */
struct mbuf_hdr {
	__u64 buf_addr;
	__u64 next;
	__u32 pkt_len;
	__u16 data_off;
	__u16 nb_segs;
	__u16 port;
	__u16 data_len;
	__u16 buf_len;
};

/* A field at a layout offset. The offset is a constant to the verifier but
 * not to clang, which emits the byte-by-byte form for any offset: it sinks
 * the load of an aligned-offset branch and the memcpy of the other into one
 * load of the lesser alignment (~75 instructions per mbuf in
 * parse_first()). An asm load per field in the aligned branch (the
 * verifier drops the dead branch on read-only data, is_branch_taken())
 * cut that to ~25, and made no difference that showed: bench/mbuf in
 * kernel.bpf_stats_enabled run time per hit and in forwarding rate, A/B in
 * one run (bench/mbuf/run.sh --alt), where the reads of the mbufs take most
 * of a burst's time. So the plain form stays. */
#define FIELD(raw, member, type)                                               \
	({                                                                     \
		type v_;                                                       \
		__builtin_memcpy(&v_, (raw) + capx_layout.member, sizeof(v_)); \
		v_;                                                            \
	})

/* The fields of a header read to `raw` but next. */
static __always_inline void parse_first(const __u8 *raw, struct mbuf_hdr *h)
{
	h->buf_addr = FIELD(raw, buf_addr, __u64);
	h->next = 0;
	h->pkt_len = FIELD(raw, pkt_len, __u32);
	h->data_off = FIELD(raw, data_off, __u16);
	h->nb_segs = FIELD(raw, nb_segs, __u16);
	h->port = FIELD(raw, port, __u16);
	h->data_len = FIELD(raw, data_len, __u16);
	h->buf_len = FIELD(raw, buf_len, __u16);
}

/* The fields of a header read to `raw`. */
static __always_inline void parse_hdr(const __u8 *raw, struct mbuf_hdr *h)
{
	parse_first(raw, h);
	h->next = FIELD(raw, next, __u64);
}

/* Bytes from the start of an mbuf that hold every field parse_first()
 * takes: in DPDK's ABIs its first cache line (next is in the second, read
 * only for a chain). Constant per session; computed once per hit. */
static __always_inline __u32 first_bytes(void)
{
	__u32 n = capx_layout.buf_addr + 8;
	n = n > capx_layout.pkt_len + 4u ? n : capx_layout.pkt_len + 4u;
	n = n > capx_layout.data_off + 2u ? n : capx_layout.data_off + 2u;
	n = n > capx_layout.nb_segs + 2u ? n : capx_layout.nb_segs + 2u;
	n = n > capx_layout.port + 2u ? n : capx_layout.port + 2u;
	n = n > capx_layout.data_len + 2u ? n : capx_layout.data_len + 2u;
	n = n > capx_layout.buf_len + 2u ? n : capx_layout.buf_len + 2u;
	return n;
}

/* Reads the header of the mbuf at user address `addr` into s->tail (never
 * sent; the stack has no room to spare: a program and the global function
 * it calls share 512 bytes) and takes its fields. 0 on success. */
static __always_inline int read_hdr(struct capx_scratch *s, __u64 addr, struct mbuf_hdr *h)
{
	__u8 *raw = s->tail;
	if (bpf_probe_read_user(raw, capx_clamp(capx_layout.size, 1, CAPX_MBUF_HDR_MAX), (const void *)addr))
		return -1;
	parse_hdr(raw, h);
	return 0;
}

/* A segment's data within its buffer (rte_mbuf_check(): "data offset too
 * big in mbuf segment"). */
static __always_inline int segment_ok(const struct mbuf_hdr *h)
{
	return h->buf_addr && h->data_off <= h->buf_len && h->data_len <= h->buf_len - h->data_off;
}

/* The first segment of a packet as rte_mbuf_check() would accept it, as
 * far as one header tells: a buffer, nb_segs >= 1, the segment's data in
 * its buffer, and pkt_len consistent with the segments (equal to data_len
 * for one segment; at least data_len and at most nb_segs * 65535 for a
 * chain), at most CAPX_MBUF_SANE_SEGS segments. Garbage (an argument
 * that is not an mbuf) rarely passes all of these, and one whose data
 * cannot be read is counted as malformed too (capture_mbuf()). */
static __always_inline int packet_ok(const struct mbuf_hdr *h)
{
	if (!segment_ok(h) || h->nb_segs == 0 || h->nb_segs > CAPX_MBUF_SANE_SEGS)
		return 0;
	if (h->nb_segs == 1)
		return h->pkt_len == h->data_len;
	return h->data_len <= h->pkt_len && h->pkt_len <= (__u64)h->nb_segs * CAPX_MBUF_SEG_MAX;
}

/* Where a packet's copy stands: the current segment and what is left. */
struct chain {
	__u64 data;       /* user address of the next unread byte */
	__u64 next;       /* the current segment's next */
	__u32 left;       /* unread bytes in the current segment */
	__u32 segs;       /* segments after the current one (nb_segs, bounded) */
	__u32 done;       /* bytes in s->data */
	__u32 unreadable; /* the chain ended early or a segment was bad */
};

/* One step of copy_chain(): copies the rest of the current segment (up to
 * `to`) or moves to the next segment. Returns 1 to go on, 0 when done, -1
 * when a read failed. A chain that ends or breaks before `to` sets
 * ch->unreadable. Global, not static: the verifier checks it once against
 * its BTF signature instead of at each call, so copy_chain()'s loop costs
 * it one call per round (see copy_packet() in bpf/skb.bpf.c: a static
 * form of such a loop exceeds the 1M-instruction limit); its pointers may
 * be NULL as far as the verifier knows, hence the check. */
__noinline int copy_step(struct capx_scratch *s, struct chain *ch, __u32 to)
{
	if (!s || !ch)
		return -1;
	__u32 done = ch->done;
	if (done >= to || done >= CAPX_PACKET_BUF_SIZE)
		return 0;
	if (ch->left == 0) {
		struct mbuf_hdr h;
		if (ch->segs == 0 || !ch->next) {
			ch->unreadable = 1; /* fewer bytes than pkt_len said */
			return 0;
		}
		if (read_hdr(s, ch->next, &h) || !segment_ok(&h)) {
			ch->unreadable = 1;
			return -1;
		}
		ch->data = h.buf_addr + h.data_off;
		ch->left = h.data_len;
		ch->next = h.next;
		ch->segs--;
		return 1;
	}
	__u32 n = capx_min(ch->left, to - done);
	if (capx_read_user_into(s, done, ch->data, n)) {
		ch->unreadable = 1;
		return -1;
	}
	ch->data += n;
	ch->left -= n;
	ch->done = done + n;
	return 1;
}

/* Copies packet bytes into s->data until ch->done reaches `to` (<=
 * CAPX_PACKET_BUF_SIZE), segment by segment. Returns 0, or -1 when a read
 * failed (ch->unreadable is then set). */
static __always_inline int copy_chain(struct capx_scratch *s, struct chain *ch, __u32 to)
{
	/* Each round copies a segment's bytes or moves to the next segment. */
	for (__u32 i = 0; i < 2 * CAPX_MBUF_MAX_SEGS + 1; i++) {
		int r = copy_step(s, ch, to);
		if (r <= 0)
			return r;
	}
	if (ch->done < to)
		ch->unreadable = 1;
	return 0;
}

/* What a probe run knows besides the mbuf. */
struct run {
	__u32 probe_id;
	__u32 queue;    /* the queue matched, NO_QUEUE: none */
	__u32 direction;
	__u32 port;
	__u32 has_port;
};

/* A batch record under construction: built downwards in s->data from
 * CAPX_MBUF_BATCH_TOP (see capx/mbuf_abi.h). Its state is kept in the
 * slot's tail (batch_of()), not on the stack: the verifier follows the
 * bpf_loop() callback round after round while what it knows of the
 * caller's stack changes (kernels since 6.7 verify callbacks as if called
 * any number of times), and a count or an offset on the stack made every
 * round a new state, past the 1M-instruction limit with the larger
 * filters; map memory it does not track by value. */
struct batch {
	__u32 end;        /* the lowest entry's start */
	__u32 count;      /* entries */
	__u32 truncated;  /* of which CAPX_EVENT_TRUNCATED */
	/* Data bytes a span takes for a match: capx_keep_learnt at the start
	 * of the hit, raised by a longer match. */
	__u32 keep_guess;
	__u32 keep_max;   /* the hit's longest match so far (0: none) */
};

/* Sends the batch, if any: its header (a copy of the hit's shared event
 * fields, s->event) goes in front of the lowest entry, the whole in one
 * ring record. Counts its packets as captured or lost, and empties it.
 * Global, like copy_step(): verified once, so that its branches do not
 * multiply the paths of capture_mbuf() that call it. */
#define CAPX_MBUF_BATCH_AT (CAPX_MBUF_PTRS_AT + CAPX_MBUF_MAX_BURST * 8)

static __always_inline struct batch *batch_of(struct capx_scratch *s)
{
	return (struct batch *)(s->tail + CAPX_MBUF_BATCH_AT);
}

__noinline int batch_send(struct capx_scratch *s, struct capx_counters *c)
{
	if (!s || !c)
		return 0;
	struct batch *b = batch_of(s);
	if (!b->count)
		return 0;
	__u32 start = b->end;
	__u32 len = CAPX_MBUF_BATCH_TOP - start;
	__u64 at = capx_clamp(start - sizeof(struct capx_event), 0, CAPX_MBUF_BATCH_TOP);
	struct capx_event *e = (struct capx_event *)(s->data + at);
	__builtin_memcpy(e, &s->event, sizeof(*e));
	e->flags = CAPX_EVENT_MBUF_BATCH;
	e->cap_len = len;
	e->wire_len = len;
	e->packet_id = 0;
	e->port = 0;
	__u64 size = capx_clamp(sizeof(*e) + len, sizeof(*e), CAPX_MBUF_BATCH_TOP);
	if (bpf_ringbuf_output(&capx_events, e, size, capx_wakeup_flags(size))) {
		c->lost_ring_full += b->count;
	} else {
		c->captured += b->count;
		c->truncated += b->truncated;
	}
	b->end = CAPX_MBUF_BATCH_TOP;
	b->count = 0;
	b->truncated = 0;
	return 0;
}

/* Where the next mbuf's span of `n` bytes goes: right below the batch's
 * lowest entry, after sending the batch if there is not room below it for
 * the span and the batch's header. Global for the same reason as
 * batch_send(): one unknown offset back instead of two paths. */
__noinline __u32 batch_base(struct capx_scratch *s, struct capx_counters *c, __u32 n)
{
	if (!s)
		return 0;
	struct batch *b = batch_of(s);
	if (b->end < CAPX_MBUF_BATCH_MIN)
		batch_send(s, c);
	return b->end - capx_min(n, CAPX_MBUF_SPAN_MAX);
}

/* A burst's match keeps `keep` bytes: the spans of its next mbufs take at
 * least as many (struct batch, keep_guess). */
static __always_inline void batch_kept(struct capx_scratch *s, __u32 keep)
{
	struct batch *b = batch_of(s);
	if (keep > b->keep_max)
		b->keep_max = keep;
	if (keep > b->keep_guess)
		b->keep_guess = keep;
}

/* What the mbufs of one hit share: taken once per hit, not per mbuf. Kept
 * in the slot's tail (pass_of()) like struct batch, for the same reason,
 * and so that capture_mbuf() can be a global function whose only pointers
 * are the slot and the counters: a global function sees its pointer
 * arguments as plain memory of their type's size, so a pointer stored in
 * a struct it is handed comes back as a number. */
struct pass {
	struct run run;
	__u32 first;            /* first_bytes() */
	/* Where the packet data starts, from the mbuf's address (a pktmbuf
	 * pool puts every buffer right behind its mbuf, rte_pktmbuf_init():
	 * the same for all), 0: unknown. Then each mbuf is read in one go,
	 * header and filter bytes (capture_mbuf()). From capx_span_learnt at
	 * the start of a hit, set by its first good mbuf where that differs. */
	__u32 span_at;
	__u32 learning;         /* no good mbuf seen yet in this hit */
	__u32 have_event;       /* s->event holds what every record of the hit shares */
	/* Bursts: matches read in one span go into one batch record
	 * (batch_of()). 0: no batching (one mbuf). */
	__u32 batching;
};

#define CAPX_MBUF_PASS_AT (CAPX_MBUF_BATCH_AT + sizeof(struct batch))
_Static_assert(CAPX_MBUF_PASS_AT + sizeof(struct pass) <= CAPX_SCRATCH_TAIL, "the hit's state fits the slot's tail");

static __always_inline struct pass *pass_of(struct capx_scratch *s)
{
	return (struct pass *)(s->tail + CAPX_MBUF_PASS_AT);
}

/* The filter, run from this one place for every path of every program: a
 * global function is verified once, against its signature, where the
 * static placeholder is walked again at each call site with each state the
 * caller brings (the filter was inlined into four paths of one program,
 * which took some 6.18 and 7.2 kernels past the 1M-instruction limit).
 * The packet starts at s->data + at; the filter reads at most
 * CAPX_PACKET_BUF_SIZE bytes from there, inside the slot's data and tail. */
__noinline __u32 filter_at(struct capx_scratch *s, __u32 at, __u32 len, __u32 wire_len)
{
	if (!s)
		return 0;
	__u64 off = capx_clamp(at, 0, CAPX_MBUF_BATCH_TOP);
	return capx_filter_buf(s->data + off, capx_clamp(len, 0, CAPX_PACKET_BUF_SIZE), wire_len);
}

/* The parts of s->event every record of a hit shares, filled at its first
 * match: the time, CPU, task and probe. A burst's packets are handed over
 * together (an rx burst returns them at once, a tx burst takes them at
 * once), so they share one timestamp. */
static __always_inline void event_template(struct capx_scratch *s, struct pass *p)
{
	const struct run *r = &p->run;
	struct capx_event *e = &s->event;
	e->wire_len = 0;
	e->cap_len = 0;
	e->flags = 0;
	capx_event_init(e, r->probe_id);
	/* DPDK names its lcore threads (rte_thread_set_name(): "rte-worker-N",
	 * "lcore-worker-N" in 22.11): the comm tells the lcore. */
	capx_event_set_task(e);
	if (r->queue != NO_QUEUE)
		e->queue = r->queue;
	p->have_event = 1;
}

/* A record's own fields (the shared ones are event_template()'s): `copied`
 * bytes of the packet at hand, the filter's answer `ret`. */
static __always_inline void set_record(struct capx_event *e, const struct run *r, const struct mbuf_hdr *h,
				       __u64 mbuf, __u32 ret, __u32 copied)
{
	capx_event_set_len(e, ret, copied, h->pkt_len);
	e->flags |= CAPX_EVENT_HAS_TASK | CAPX_EVENT_HAS_PACKET_ID | CAPX_EVENT_HAS_PORT | r->direction |
		    (r->queue != NO_QUEUE ? CAPX_EVENT_HAS_QUEUE : 0);
	e->packet_id = mbuf;
	e->port = r->has_port ? r->port : h->port;
}

/* One mbuf: checked, filtered, captured. Per mbuf: one read of the header's
 * first part (every field but next: one cache line) and one of exactly the
 * bytes the filter needs where the first segment holds them; a segment
 * more per chain, the rest of the packet only for a match. */
__noinline int capture_mbuf(struct capx_scratch *s, struct capx_counters *c, __u64 mbuf)
{
	if (!s || !c)
		return 0;
	struct pass *p = pass_of(s);
	const struct run *r = &p->run;
	if (!mbuf) {
		c->malformed++;
		return 0;
	}
	/* One helper call per mbuf where the data sits where the hit's first
	 * mbuf had it: the header and the filter's bytes in one span (a
	 * bpf_probe_read_user() call costs more than its bytes here: perf
	 * puts most of a burst in copy_from_user_nofault). Else, or when the
	 * span faults (the end of a mapping), the header's first line, then
	 * the data on its own. */
	struct mbuf_hdr h;
	__u32 span = 0;
	/* Where the span goes in s->data: at its start, or for a burst just
	 * below the batch's lowest entry, so that a match becomes the next
	 * entry where it lies. */
	__u64 base = 0;
	if (p->span_at) {
		/* Behind the packet's start the span takes the filter's
		 * bytes, and in a burst what a match is expected to keep
		 * (struct batch, keep_guess), so that a match needs no second
		 * read; one mbuf with a filter that reads none (capture
		 * everything): the snaplen's worth. */
		__u32 data_want = capx_filter_bytes;
		if (p->batching) {
			__u32 guess = batch_of(s)->keep_guess;
			data_want = data_want > guess ? data_want : guess;
		} else if (!data_want) {
			data_want = capx_snaplen;
		}
		__u32 n = capx_min(p->span_at + capx_min(data_want, CAPX_MBUF_SPAN_MAX), CAPX_MBUF_SPAN_MAX);
		if (p->batching)
			base = capx_clamp(batch_base(s, c, n), 0, CAPX_MBUF_BATCH_TOP);
		if (n >= p->first &&
		    !bpf_probe_read_user(s->data + base, capx_clamp(n, 1, CAPX_MBUF_SPAN_MAX), (const void *)mbuf))
			span = n;
	}
	if (span) {
		parse_first(s->data + base, &h);
	} else {
		if (bpf_probe_read_user(s->tail, capx_clamp(p->first, 1, CAPX_MBUF_HDR_MAX), (const void *)mbuf)) {
			c->malformed++;
			return 0;
		}
		parse_first(s->tail, &h);
	}
	if (!packet_ok(&h) || (h.nb_segs > 1 && read_hdr(s, mbuf, &h))) {
		c->malformed++;
		return 0;
	}
	__u32 wire_len = h.pkt_len;
	__u32 limit = capx_min(wire_len, CAPX_PACKET_BUF_SIZE);
	__u32 want = capx_min(limit, capx_filter_bytes);
	/* Where the packet starts, from the mbuf (wraps to huge when before
	 * it). The event goes in front of it for a match: room for it. */
	__u64 at = h.buf_addr + h.data_off - mbuf;
	if (p->learning) {
		p->learning = 0;
		if (at != p->span_at && at >= sizeof(struct capx_event) && at < CAPX_MBUF_SPAN_MAX) {
			p->span_at = at;
			capx_span_learnt[r->probe_id & (CAPX_MAX_PROBES - 1)] = at;
		}
	}
	/* In front of the data in the span: room for the record's event (a
	 * batch entry's header too). */
	__u32 front = p->batching ? CAPX_MBUF_ENTRY_HDR : sizeof(struct capx_event);
	if (span && at == p->span_at && at >= front && want <= h.data_len && at + want <= span) {
		__u64 off = capx_clamp(base + at, sizeof(struct capx_event), CAPX_MBUF_BATCH_TOP);
		__u32 ret = filter_at(s, off, capx_min(want, CAPX_MBUF_SPAN_MAX), wire_len);
		if (!ret) {
			c->filtered_out++;
			return 0;
		}
		/* The bytes of the packet in the span. */
		__u32 avail = capx_min(capx_min(h.data_len, span - at), limit);
		__u32 keep = capx_keep_len(ret, limit);
		if (p->batching)
			batch_kept(s, keep);
		if (keep <= avail) {
			/* All that is kept is there: sent from where it is, the
			 * record's event written over the headroom in front. */
			if (!p->have_event)
				event_template(s, p);
			struct capx_event *e = (struct capx_event *)(s->data + off - sizeof(struct capx_event));
			__builtin_memcpy(e, &s->event, sizeof(*e));
			set_record(e, r, &h, mbuf, ret, avail);
			if (!p->batching) {
				capx_emit_rec(e, c);
				return 0;
			}
			/* A burst: the next entry of the batch, from its
			 * header to the span's end (where the entry above
			 * starts). */
			__u64 entry = capx_clamp(off - CAPX_MBUF_ENTRY_HDR, 0, CAPX_MBUF_BATCH_TOP);
			struct capx_mbuf_batch_entry *be = (struct capx_mbuf_batch_entry *)(s->data + entry);
			struct batch *b = batch_of(s);
			be->size = b->end - entry;
			be->reserved = 0;
			b->end = entry;
			b->count++;
			if (e->flags & CAPX_EVENT_TRUNCATED)
				b->truncated++;
			return 0;
		}
		/* More than the span holds: the packet copied anew to the
		 * start of data, below. */
	}
	/* The copy below starts at s->data: the batch so far goes first (it
	 * holds the burst's earlier packets, so the order stays). */
	if (p->batching)
		batch_send(s, c);
	struct chain ch = {
		.data = h.buf_addr + h.data_off,
		.next = h.next,
		.left = h.data_len,
		.segs = capx_min(h.nb_segs, CAPX_MBUF_MAX_SEGS) - 1,
		.done = 0,
		.unreadable = 0,
	};
	if (want && want <= h.data_len) {
		/* What the filter needs, in one read (the common case). */
		if (bpf_probe_read_user(s->data, capx_clamp(want, 1, CAPX_PACKET_BUF_SIZE), (const void *)ch.data)) {
			/* Not one byte of the first segment readable: its
			 * buf_addr was not a buffer of this process. */
			c->malformed++;
			return 0;
		}
		ch.data += want;
		ch.left -= want;
		ch.done = want;
	} else if (copy_chain(s, &ch, want) < 0) {
		/* As above, or a later segment broke. */
		if (ch.done == 0) {
			c->malformed++;
			return 0;
		}
		c->errors++;
	}
	__u32 copied = ch.done;
	__u32 ret = filter_at(s, 0, capx_min(copied, CAPX_PACKET_BUF_SIZE), wire_len);
	if (!ret) {
		c->filtered_out++;
		return 0;
	}
	/* A match: the rest up to the snaplen, behind what is there. */
	__u32 keep = capx_keep_len(ret, limit);
	if (p->batching)
		batch_kept(s, keep);
	if (keep > copied && !ch.unreadable) {
		if (copy_chain(s, &ch, keep) < 0)
			c->errors++;
		copied = ch.done;
	}

	if (!p->have_event)
		event_template(s, p);
	set_record(&s->event, r, &h, mbuf, ret, copied);
	capx_emit(s, c);
	return 0;
}

/* The hit's one scratch slot with its pass set up, NULL when there is none
 * (counted by capx_scratch_get()); else the caller returns the slot with
 * capx_scratch_put(). */
static __always_inline struct capx_scratch *pass_begin(const struct run *r, struct capx_counters *c)
{
	struct capx_scratch *s = capx_scratch_get(c);
	if (!s)
		return 0;
	struct pass *p = pass_of(s);
	p->run = *r;
	p->first = first_bytes();
	p->span_at = capx_span_learnt[r->probe_id & (CAPX_MAX_PROBES - 1)];
	p->learning = 1;
	p->have_event = 0;
	p->batching = 0;
	return s;
}

/* One mbuf at `mbuf` (CAPX_MBUF_ONE). */
static __always_inline void capture_one(const struct run *r, struct capx_counters *c, __u64 mbuf)
{
	c->mbufs++;
	struct capx_scratch *s = pass_begin(r, c);
	if (!s)
		return; /* looked at, lost (lost_busy says why) */
	capture_mbuf(s, c, mbuf);
	capx_scratch_put();
}

/* What burst_one() is handed: the hit's slot and counters. */
struct burst_loop {
	struct capx_scratch *s;
	struct capx_counters *c;
};

/* bpf_loop() callback: mbuf `i` of the burst. */
static long burst_one(__u32 i, void *data)
{
	struct burst_loop *l = data;
	if (i >= CAPX_MBUF_MAX_BURST)
		return 1;
	const __u64 *ptrs = (const __u64 *)(l->s->tail + CAPX_MBUF_PTRS_AT);
	/* The clamp on the very register used: clang indexes with a copy of i
	 * the test above says nothing about. */
	capture_mbuf(l->s, l->c, ptrs[capx_clamp(i, 0, CAPX_MBUF_MAX_BURST - 1)]);
	return 0;
}

/* A burst of `count` mbufs at `array`. The pointer array is read in one
 * go into the slot's tail: one helper call per burst instead of one per
 * mbuf. bpf_loop() (Linux 5.17) keeps the per-mbuf path verified once
 * whatever the burst size. */
static __always_inline void capture_burst(const struct run *r, struct capx_counters *c, __u64 array, __u32 count)
{
	if (count == 0) {
		c->empty_bursts++;
		return;
	}
	__u32 n = capx_min(count, CAPX_MBUF_MAX_BURST);
	/* Every mbuf is looked at: counted here once, not one by one. */
	c->mbufs += n;
	struct capx_scratch *s = pass_begin(r, c);
	if (!s) {
		/* Every mbuf lost for want of a slot: one lost_busy each, as
		 * user space sums losses per packet. */
		c->lost_busy += n - 1;
		return;
	}
	if (bpf_probe_read_user(s->tail + CAPX_MBUF_PTRS_AT,
				capx_clamp(n * sizeof(__u64), sizeof(__u64), CAPX_MBUF_MAX_BURST * sizeof(__u64)),
				(const void *)array)) {
		/* The array itself is unreadable: every entry counts. */
		c->malformed += n;
	} else {
		__u32 *learnt = &capx_keep_learnt[r->probe_id & (CAPX_MAX_PROBES - 1)];
		__u32 guess = *learnt;
		struct batch *b = batch_of(s);
		b->end = CAPX_MBUF_BATCH_TOP;
		b->count = 0;
		b->truncated = 0;
		/* With a filter a hit starts from the filter's bytes alone
		 * (spans as short as they can be for packets that do not
		 * match); capturing everything, from the last hit's longest
		 * packet, or the snaplen's worth before the first. */
		b->keep_guess = capx_filter_bytes ? 0 : guess ? guess : capx_snaplen;
		b->keep_max = 0;
		pass_of(s)->batching = 1;
		struct burst_loop loop = {.s = s, .c = c};
		bpf_loop(n, burst_one, &loop, 0);
		batch_send(s, c);
		/* The next hit starts from this one's longest match (none: as
		 * it was). */
		__u32 kept = b->keep_max;
		if (!capx_filter_bytes && kept && kept != guess)
			*learnt = kept;
	}
	capx_scratch_put();
}

/* Argument n (1-based, from the probe's config; 0: none) of the probed
 * function. */
static __always_inline __u64 arg(const struct pt_regs *ctx, __u32 n)
{
	return capx_regs_arg(ctx, n - 1);
}

/* --binary: is the current process running the target executable? */
static __always_inline int right_binary(void)
{
	if (!capx_by_binary)
		return 1;
	struct task_struct *task = (void *)bpf_get_current_task();
	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	if (!inode)
		return 0;
	return BPF_CORE_READ(inode, i_ino) == capx_exe_ino && BPF_CORE_READ(inode, i_sb, s_dev) == capx_exe_dev;
}

/* The probe's config, after the binary and queue checks: NULL when this
 * hit is not for it (not counted at all). Sets r->queue. */
static __always_inline const struct capx_mbuf_probe *probe_for(struct pt_regs *ctx, struct run *r)
{
	if (!right_binary())
		return 0;
	__u32 id = bpf_get_attach_cookie(ctx);
	const struct capx_mbuf_probe *p = bpf_map_lookup_elem(&capx_mbuf_probes, &id);
	if (!p)
		return 0;
	r->probe_id = id;
	r->queue = NO_QUEUE;
	r->direction = p->direction & (CAPX_EVENT_INBOUND | CAPX_EVENT_OUTBOUND);
	r->port = p->port;
	r->has_port = p->has_port;
	__u32 nq = p->nqueues;
	if (nq == 0)
		return p;
	/* A queue pointer tells apart ports sharing one burst function; a hit
	 * on any other queue is not this probe's. */
	__u64 q = arg(ctx, p->queue_arg);
	for (__u32 i = 0; i < CAPX_MBUF_MAX_QUEUES && i < nq; i++) {
		if (p->queue_ptrs[i] && p->queue_ptrs[i] == q) {
			r->queue = i;
			return p;
		}
	}
	return 0;
}

/* The probe and its counters at the start of a hit, with the hit counted;
 * NULL when the hit is not the probe's (probe_for()). */
static __always_inline struct capx_counters *hit_begin(struct pt_regs *ctx, struct run *r,
						       const struct capx_mbuf_probe **probe)
{
	const struct capx_mbuf_probe *p = probe_for(ctx, r);
	if (!p)
		return 0;
	struct capx_counters *c = capx_counters_get(r->probe_id);
	if (!c)
		return 0;
	c->hits++;
	*probe = p;
	return c;
}

/* CAPX_MBUF_ONE: one mbuf, the argument mbuf_arg. */
SEC("capx/uprobe")
int capx_mbuf_one(struct pt_regs *ctx)
{
	struct run r = {};
	const struct capx_mbuf_probe *p;
	struct capx_counters *c = hit_begin(ctx, &r, &p);
	if (c)
		capture_one(&r, c, arg(ctx, p->mbuf_arg));
	return 0;
}

/* CAPX_MBUF_BURST: the array mbuf_arg of count_arg mbufs, at entry. */
SEC("capx/uprobe")
int capx_mbuf_burst(struct pt_regs *ctx)
{
	struct run r = {};
	const struct capx_mbuf_probe *p;
	struct capx_counters *c = hit_begin(ctx, &r, &p);
	/* Burst counts are uint16_t in DPDK's APIs (nb_pkts); the upper bits
	 * of a register holding a narrower argument are undefined in the
	 * x86-64 ABI. */
	if (c)
		capture_burst(&r, c, arg(ctx, p->mbuf_arg), (__u16)arg(ctx, p->count_arg));
	return 0;
}
SEC("capx/uprobe")
int capx_mbuf_stash(struct pt_regs *ctx)
{
	struct run r = {};
	const struct capx_mbuf_probe *p = probe_for(ctx, &r);
	if (!p)
		return 0;
	struct stash_key k = {.pid_tgid = bpf_get_current_pid_tgid(), .probe_id = r.probe_id};
	struct stash v = {.array = arg(ctx, p->mbuf_arg), .queue = r.queue};
	if (bpf_map_update_elem(&capx_mbuf_stashed, &k, &v, BPF_ANY)) {
		struct capx_counters *c = capx_counters_get(r.probe_id);
		if (c)
			c->errors++;
	}
	return 0;
}

/* Attached with retprobe set: the registers are the caller's after the
 * return, rax the return value. */
SEC("capx/uprobe")
int capx_mbuf_ret(struct pt_regs *ctx)
{
	struct stash_key k = {.pid_tgid = bpf_get_current_pid_tgid(), .probe_id = bpf_get_attach_cookie(ctx)};
	struct stash *v = bpf_map_lookup_elem(&capx_mbuf_stashed, &k);
	if (!v)
		return 0; /* an entry not ours (queue, binary) or from before attach */
	struct stash st = *v;
	bpf_map_delete_elem(&capx_mbuf_stashed, &k);
	const struct capx_mbuf_probe *p = bpf_map_lookup_elem(&capx_mbuf_probes, &k.probe_id);
	struct capx_counters *c = capx_counters_get(k.probe_id);
	if (!p || !c)
		return 0;
	struct run r = {
		.probe_id = k.probe_id,
		.queue = st.queue,
		.direction = p->direction & (CAPX_EVENT_INBOUND | CAPX_EVENT_OUTBOUND),
		.port = p->port,
		.has_port = p->has_port,
	};
	c->hits++;
	/* rx burst functions return uint16_t. */
	capture_burst(&r, c, st.array, (__u16)capx_regs_ret(ctx));
	return 0;
}
