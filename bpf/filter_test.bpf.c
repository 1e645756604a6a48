/* SPDX-License-Identifier: GPL-2.0-only */
/* The filter test bench: XDP programs that run the injected filter on a
 * packet given with BPF_PROG_TEST_RUN, in both placeholder modes, and send
 * the matches through the capture core like a real capture point. Used by
 * the unit tests (tests/unit/bpf/) and by `capx filter --engine kernel`. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "capx_xdp.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before each run: the packet's length on the wire,
 * 0 meaning "the length of the packet given". */
__u32 test_wire_len;
/* What the filter returned for the last packet. */
__u32 test_verdict;
/* Set when the program could not read the packet (test_verdict is then
 * meaningless). */
__u32 test_error;

enum { PROBE_PKT = 0, PROBE_BUF = 1 };

/* Buffer mode: runs the filter over the `copied` bytes in s->data and
 * returns its answer: 0 when it said no (counted as filtered_out), else
 * after setting s->event.cap_len (bytes to send), wire_len and the
 * TRUNCATED flag. Kept here, not in the capture core: only this bench
 * reports the answer itself (test_verdict); capture points act on it in
 * line. */
static __always_inline __u32 filter_scratch(struct capx_scratch *s, struct capx_counters *c, __u32 copied,
					    __u32 wire_len)
{
	copied = capx_min(copied, CAPX_PACKET_BUF_SIZE);
	__u32 ret = capx_filter_buf(s->data, copied, wire_len);
	if (!ret) {
		c->filtered_out++;
		return 0;
	}
	capx_event_set_len(&s->event, ret, copied, wire_len);
	return ret;
}

/* Direct mode: the filter reads the XDP packet in place. The packet must fit
 * the linear XDP buffer (BPF_PROG_TEST_RUN: one page minus headroom). */
SEC("capx/xdp")
int filter_test_pkt(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	__u32 wire_len = test_wire_len ? test_wire_len : len;

	struct capx_counters *c = capx_counters_get(PROBE_PKT);
	if (!c)
		return XDP_ABORTED;
	c->hits++;
	__u32 ret = capx_filter_pkt(data, data_end, wire_len);
	test_verdict = ret;
	if (!ret) {
		c->filtered_out++;
		return XDP_PASS;
	}

	struct capx_scratch *s = capx_scratch_get(c);
	if (!s)
		return XDP_PASS;
	__u32 keep = capx_keep_len(ret, len);
	if (keep > 0 && capx_xdp_copy(ctx, s->data, keep) == 0) {
		s->event.wire_len = wire_len;
		s->event.cap_len = keep;
		s->event.flags = capx_is_truncated(ret, len, wire_len) ? CAPX_EVENT_TRUNCATED : 0;
		capx_event_init(&s->event, PROBE_PKT);
		s->event.ifindex = ctx->ingress_ifindex;
		s->event.queue = ctx->rx_queue_index;
		s->event.flags |= CAPX_EVENT_HAS_IFINDEX | CAPX_EVENT_HAS_QUEUE | CAPX_EVENT_INBOUND;
		capx_emit(s, c);
	} else if (keep > 0) {
		c->errors++;
	}
	capx_scratch_put();
	return XDP_PASS;
}

/* Buffer mode: the packet (linear part and fragments) is copied into a
 * scratch slot first, as tracing and uprobe capture points do. */
SEC("capx/xdp.frags")
int filter_test_buf(struct xdp_md *ctx)
{
	__u32 len = bpf_xdp_get_buff_len(ctx);
	__u32 wire_len = test_wire_len ? test_wire_len : len;

	struct capx_counters *c = capx_counters_get(PROBE_BUF);
	if (!c)
		return XDP_ABORTED;
	c->hits++;
	struct capx_scratch *s = capx_scratch_get(c);
	if (!s)
		return XDP_PASS;
	__u32 copied = capx_min(len, CAPX_PACKET_BUF_SIZE);
	if (copied == 0 || capx_xdp_copy(ctx, s->data, copied) != 0) {
		c->errors++;
		test_error = 1;
		capx_scratch_put();
		return XDP_PASS;
	}
	test_verdict = filter_scratch(s, c, copied, wire_len);
	if (test_verdict) {
		capx_event_init(&s->event, PROBE_BUF);
		capx_emit(s, c);
	}
	capx_scratch_put();
	return XDP_PASS;
}

/* Calls no placeholder: injecting a filter into it alone is an error. */
SEC("capx/xdp")
int filter_test_none(struct xdp_md *ctx)
{
	return ctx->data_end > ctx->data ? XDP_PASS : XDP_DROP;
}
