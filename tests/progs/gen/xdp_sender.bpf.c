/* SPDX-License-Identifier: GPL-2.0-only */
/* capx-gen --xdp: the kernel sends the frames. User space runs `send_frame`
 * with BPF_PROG_TEST_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES,
 * Documentation/bpf/bpf_prog_run.rst): the kernel runs it once per frame on
 * a copy of the template and transmits what it redirects, with no socket,
 * no system call and no sk_buff per frame on the sending side. That offers
 * several times what sendmmsg can through a veth on one CPU.
 *
 * The kernel initialises a page from the template only once and then reuses
 * it, and the receiving side may have changed it in between (taking a VLAN
 * tag out moves the MAC addresses within the page: skb_vlan_untag). So each
 * frame gets the template's first 64 bytes (every header) again, then the
 * two stamps FrameTemplate::stamp writes: the UDP source port of its flow
 * and the big-endian sequence number.
 * With a rate, the program holds each frame until it is due, so pacing has
 * the precision of the clock, not of a system call per batch (a live-frames
 * run costs milliseconds to set up).
 *
 * It never catches up after a stall: a frame found more than max_lag_ns
 * late (its CPU was taken, e.g. by the fair server running other tasks)
 * starts the schedule again from now, so at most max_lag_ns worth of frames
 * ever leave back to back. Catching up would send a 20 ms stall's frames at
 * line rate, a burst that overflows any capture ring and makes the loss
 * measure the stall. Each such restart is counted as a stall. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <stdbool.h>

char LICENSE[] SEC("license") = "GPL";

#define HEAD_LEN 64 /* the smallest frame; holds every header and the stamps */

/* Set before load. */
const volatile __u64 head[HEAD_LEN / 8]; /* the template's first bytes, as is */
const volatile __u32 out_ifindex;
const volatile __u32 src_port_offset;
const volatile __u32 seq_offset;
const volatile __u32 src_port_base;
const volatile __u32 flows = 1;
const volatile __u64 rate_pps;       /* 0: unpaced */
const volatile __u64 max_lag_ns = 1000000;

/* Frame n is due at start_ns + (n - base_seq) / rate (CLOCK_MONOTONIC,
 * bpf_ktime_get_ns's clock); start_ns 0: the next frame starts the
 * schedule. A stall moves both to the late frame and now. */
__u64 start_ns;
__u64 base_seq;

/* Frames due (paced) or reached (unpaced) from this time on (0: never) are
 * dropped instead of sent, so a long run ends at the duration (dropping the
 * rest of the run costs far less than sending it). */
__u64 stop_ns;

/* Stalls: restarts of the schedule, their summed and longest lateness. */
__u64 stalls;
__u64 stall_total_ns;
__u64 stall_max_ns;

/* The next frame's number; user space sets it before a run and reads it
 * after: the difference is what the run stamped and handed on, however it
 * ended (a signal ends a run between the kernel's batches). */
__u64 next_seq;

#define NS_PER_S 1000000000ull
/* Frames are at most 9000 bytes: the offsets are masked so the verifier
 * sees a bound. */
#define OFFSET_MASK 0x3fff

static long wait_until(__u64 index, void *due)
{
	return bpf_ktime_get_ns() >= *(__u64 *)due;
}

static __always_inline __u64 due_time(__u64 seq)
{
	__u64 n = seq - base_seq;

	/* n * 1e9 / rate without overflowing 64 bits. */
	return start_ns + n / rate_pps * NS_PER_S + n % rate_pps * NS_PER_S / rate_pps;
}

/* Holds frame `seq` until it is due, or restarts the schedule at it when it
 * is more than max_lag_ns late. False: past stop_ns, drop it. */
static __always_inline bool pace(__u64 seq)
{
	__u64 now = bpf_ktime_get_ns();

	if (stop_ns && now >= stop_ns)
		return false;
	if (!start_ns) {
		start_ns = now;
		base_seq = seq;
		return true;
	}
	__u64 due = due_time(seq);
	if (now < due) {
		/* Each round reads the clock once; 1 << 23 rounds (the most
		 * bpf_loop allows) are far longer than any wait at the rates
		 * a benchmark asks for. */
		bpf_loop(1 << 23, wait_until, &due, 0);
		return true;
	}
	__u64 lag = now - due;
	if (lag > max_lag_ns) {
		stalls++;
		stall_total_ns += lag;
		if (lag > stall_max_ns)
			stall_max_ns = lag;
		start_ns = now;
		base_seq = seq;
	}
	return true;
}

SEC("xdp")
int send_frame(struct xdp_md *ctx)
{
	__u8 *data = (__u8 *)(long)ctx->data;
	__u8 *end = (__u8 *)(long)ctx->data_end;
	__u32 port_at = src_port_offset & OFFSET_MASK;
	__u32 seq_at = seq_offset & OFFSET_MASK;
	__u64 seq = next_seq;

	if (data + HEAD_LEN > end || data + port_at + 2 > end || data + seq_at + 8 > end)
		return XDP_ABORTED;
	if (rate_pps) {
		if (!pace(seq))
			return XDP_DROP;
	} else if (stop_ns && bpf_ktime_get_ns() >= stop_ns) {
		return XDP_DROP;
	}

	__u16 port = bpf_htons((__u16)(src_port_base + seq % flows));
	__u64 be_seq = bpf_cpu_to_be64(seq);
	/* Word by word through the volatile: a memcpy from a const array
	 * would be folded into stores of its initial zeros. (Unaligned 8-byte
	 * stores are fine on the architectures that JIT XDP without strict
	 * alignment, which the verifier enforces where it matters.) */
	for (int i = 0; i < HEAD_LEN / 8; i++)
		((__u64 *)data)[i] = head[i];
	__builtin_memcpy(data + port_at, &port, sizeof(port));
	__builtin_memcpy(data + seq_at, &be_seq, sizeof(be_seq));
	next_seq = seq + 1;
	return bpf_redirect(out_ifindex, 0);
}

/* On the veth peer: veth takes redirected frames only while its peer runs
 * NAPI, which it does when an XDP program is attached (veth_xdp_xmit and
 * veth_enable_xdp in drivers/net/veth.c). This one passes every frame on to
 * the stack unchanged, where packet sockets see it as usual. */
SEC("xdp")
int pass_frame(struct xdp_md *ctx)
{
	return XDP_PASS;
}
