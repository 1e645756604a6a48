// SPDX-License-Identifier: GPL-2.0-only
/* The records BPF capture points send to user space, and the counters they
 * keep. Shared by the BPF C programs (bpf/) and user space (src/).
 *
 * Transport: one BPF ring buffer per capture object. Each record is a
 * struct capx_event followed by cap_len bytes of packet. Records are built
 * in a per-CPU scratch slot (struct capx_scratch, bpf/include/
 * capx_capture.bpf.h) and sent with one bpf_ringbuf_output(), because
 * bpf_ringbuf_reserve() only takes a constant size.
 */
#ifndef CAPX_EVENT_H
#define CAPX_EVENT_H

#ifdef __cplusplus
#include <cstdint>
typedef std::uint8_t capx_u8;
typedef std::uint16_t capx_u16;
typedef std::uint32_t capx_u32;
typedef std::uint64_t capx_u64;
#else
typedef __u8 capx_u8;
typedef __u16 capx_u16;
typedef __u32 capx_u32;
typedef __u64 capx_u64;
#endif

#include "capx/filter_abi.h"

/* Which optional fields of a record are valid (capx_event.flags). */
#define CAPX_EVENT_HAS_IFINDEX     (1u << 0)
#define CAPX_EVENT_HAS_NETNS       (1u << 1)
#define CAPX_EVENT_HAS_TASK        (1u << 2) /* pid, tid, comm */
#define CAPX_EVENT_HAS_PACKET_ID   (1u << 3)
#define CAPX_EVENT_HAS_DROP_REASON (1u << 4)
#define CAPX_EVENT_HAS_QUEUE       (1u << 5)
#define CAPX_EVENT_HAS_VERDICT     (1u << 6) /* e.g. the XDP action */
#define CAPX_EVENT_HAS_VLAN        (1u << 7) /* vlan_tci: a tag the kernel stripped */
#define CAPX_EVENT_INBOUND         (1u << 8)
#define CAPX_EVENT_OUTBOUND        (1u << 9)
/* Set when cap_len < wire_len for a reason other than the user's snaplen:
 * the packet did not fit CAPX_PACKET_BUF_SIZE or its bytes were not reachable. */
#define CAPX_EVENT_TRUNCATED       (1u << 10)
#define CAPX_EVENT_HAS_STACK       (1u << 11) /* stack_id: a kernel stack (capx skb -S) */
/* The packet had no link-layer header where it was seen (an L3 hook): the
 * Ethernet header in front of it was made up by capx (zero addresses, type
 * from skb->protocol) and wire_len counts it. */
#define CAPX_EVENT_L3              (1u << 12)
#define CAPX_EVENT_HAS_PORT        (1u << 13) /* port: a DPDK port id (capx mbuf) */
/* A batch: this header's cap_len bytes are records of other packets, not
 * one packet (capx mbuf: the matches of one burst in one ring record; the
 * format is struct capx_mbuf_batch_entry in capx/mbuf_abi.h). */
#define CAPX_EVENT_MBUF_BATCH      (1u << 14)

#define CAPX_COMM_LEN 16

/* Fixed header of every record; 8-byte aligned, 88 bytes. Fields a capture
 * point does not know stay zero and their CAPX_EVENT_HAS_* bit clear. */
struct capx_event {
	capx_u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	capx_u64 packet_id;    /* follows one packet across probes (e.g. skb address) */
	capx_u32 wire_len;     /* length of the packet on the wire */
	capx_u32 cap_len;      /* bytes that follow this header */
	capx_u32 probe_id;     /* capture point index, given by user space */
	capx_u32 cpu;
	capx_u32 flags;        /* CAPX_EVENT_* */
	capx_u32 ifindex;
	capx_u32 netns;        /* network namespace inode */
	capx_u32 pid;          /* thread group id */
	capx_u32 tid;
	capx_u32 drop_reason;  /* enum skb_drop_reason */
	capx_u32 queue;        /* rx/tx queue index */
	capx_u32 verdict;      /* XDP action, tc action, ... */
	capx_u16 vlan_tci;
	capx_u16 port;         /* DPDK port id (CAPX_EVENT_HAS_PORT) */
	capx_u32 stack_id;     /* key in the capture object's stack map */
	char comm[CAPX_COMM_LEN];
};

/* Per-CPU, per-probe counters (BPF_MAP_TYPE_PERCPU_ARRAY indexed by
 * probe_id); user space sums them over CPUs. */
struct capx_counters {
	capx_u64 hits;           /* times the probe ran on a packet */
	capx_u64 filtered_out;   /* the filter said no */
	capx_u64 captured;       /* records written to the ring */
	capx_u64 lost_ring_full; /* matched, but the ring had no room */
	capx_u64 truncated;      /* captured with CAPX_EVENT_TRUNCATED */
	capx_u64 lost_busy;      /* no free scratch slot (nested probes on one CPU) */
	capx_u64 errors;         /* a helper failed reading the packet */
	/* Burst probes (capx mbuf); zero elsewhere. */
	capx_u64 mbufs;          /* packets looked at (a burst counts each) */
	capx_u64 empty_bursts;   /* hits whose burst held no packet */
	capx_u64 malformed;      /* mbufs failing the sanity checks: not copied */
};

/* Scratch slots per CPU (bpf/include/capx_capture.bpf.h): a probe can
 * interrupt another probe of the same object on one CPU (softirq over
 * process context); each nesting level takes the next slot. */
#define CAPX_SCRATCH_DEPTH 4

/* Upper bound of probe ids per capture object (counters map size). */
#define CAPX_MAX_PROBES 64

#endif
