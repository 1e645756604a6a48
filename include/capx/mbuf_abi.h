// SPDX-License-Identifier: GPL-2.0-only
/* What user space tells bpf/mbuf.bpf.c (capx mbuf) before it attaches:
 * where the fields of struct rte_mbuf are in the target's DPDK, and what
 * each uprobe finds in its arguments. Shared by the BPF program and user
 * space (src/capture/mbuf/).
 *
 * One BPF object serves every probe of a session; a probe knows which it is
 * from its BPF cookie (bpf_get_attach_cookie(), set at attach time), which
 * is its probe id and the key of its struct capx_mbuf_probe in the
 * capx_mbuf_probes array map.
 */
#ifndef CAPX_MBUF_ABI_H
#define CAPX_MBUF_ABI_H

#include "capx/event.h"

/* Bounds the verifier needs and user space checks against. */
#define CAPX_MBUF_MAX_BURST  512 /* mbufs looked at per hit (testpmd's MAX_PKT_BURST) */
#define CAPX_MBUF_MAX_SEGS   16  /* segments walked through `next` per packet */
#define CAPX_MBUF_MAX_QUEUES 64  /* queue pointers a probe can tell apart */

/* Offsets in bytes from the start of struct rte_mbuf; the layout of the
 * target's DPDK ABI (src/capture/mbuf/mbuf_layout.hpp). */
struct capx_mbuf_layout {
	capx_u16 buf_addr; /* void *: start of the data buffer */
	capx_u16 data_off; /* u16: packet data starts at buf_addr + data_off */
	capx_u16 nb_segs;  /* u16: segments in the chain (first segment only) */
	capx_u16 port;     /* u16: input port */
	capx_u16 pkt_len;  /* u32: bytes in all segments (first segment only) */
	capx_u16 data_len; /* u16: bytes in this segment */
	capx_u16 buf_len;  /* u16: size of the data buffer */
	capx_u16 next;     /* struct rte_mbuf *: next segment */
	capx_u16 size;     /* bytes to read to cover every field above */
	capx_u16 reserved[3];
};

/* A burst's matches in one ring record (bpf/mbuf.bpf.c): one
 * bpf_ringbuf_output() and one record for the reader per burst instead of
 * per packet. The record is a struct capx_event with CAPX_EVENT_MBUF_BATCH
 * in flags and cap_len the bytes that follow: entries, each
 *
 *	struct capx_mbuf_batch_entry, struct capx_event, cap_len packet bytes,
 *	then unused bytes up to `size` from the entry's start,
 *
 * the packets in the reverse of the order the burst held them (the BPF
 * side fills the record from its end: a packet read in one span with its
 * mbuf header in front needs the bytes in front of its record free).
 * Split by capx::mbuf::split_batch() (src/capture/mbuf/mbuf_record.hpp). */
struct capx_mbuf_batch_entry {
	capx_u32 size; /* bytes from this entry's start to the next's */
	capx_u32 reserved;
};

/* Room for a batch's entries: a batch is sent when the next packet might
 * not fit (and at the end of the burst). */
#define CAPX_MBUF_BATCH_BYTES 16384

enum capx_mbuf_probe_mode {
	CAPX_MBUF_ONE = 0,        /* argument mbuf_arg is one struct rte_mbuf * */
	CAPX_MBUF_BURST = 1,      /* argument mbuf_arg is struct rte_mbuf **, count_arg its count */
	CAPX_MBUF_BURST_RET = 2,  /* the same, read at return: count is the return value */
};

/* One probe (value of capx_mbuf_probes[probe id]). Argument numbers are
 * 1-based, as on the command line (SYMBOL@N@M). */
struct capx_mbuf_probe {
	capx_u8 mode;       /* enum capx_mbuf_probe_mode */
	capx_u8 mbuf_arg;   /* the mbuf, or the mbuf array */
	capx_u8 count_arg;  /* CAPX_MBUF_BURST: the count (CAPX_MBUF_BURST_RET: unused) */
	capx_u8 queue_arg;  /* the argument holding the queue pointer (rxq/txq), 0: none */
	capx_u32 direction; /* CAPX_EVENT_INBOUND, CAPX_EVENT_OUTBOUND or 0 */
	capx_u16 port;      /* DPDK port id recorded in events; with has_port only */
	capx_u8 has_port;
	capx_u8 reserved;
	/* With nqueues > 0 a hit counts only when argument queue_arg equals
	 * queue_ptrs[q] for some q < nqueues (a zero entry never matches); q
	 * is then recorded as the queue. This tells apart ports that share
	 * one driver burst function (every net_null port calls the same one). */
	capx_u32 nqueues;
	capx_u64 queue_ptrs[CAPX_MBUF_MAX_QUEUES];
};

#endif
