/* SPDX-License-Identifier: GPL-2.0-only */
/* What capx's XDP programs share (bpf/xdp.bpf.c, bpf/filter_test.bpf.c). */
#ifndef CAPX_XDP_BPF_H
#define CAPX_XDP_BPF_H

#include "capx_capture.bpf.h"

/* Copies the first `len` (1..CAPX_PACKET_BUF_SIZE) bytes of the packet,
 * linear part and fragments, in chunks bpf_xdp_load_bytes() accepts. */
static __always_inline int capx_xdp_copy(struct xdp_md *ctx, __u8 *dst, __u32 len)
{
	__u32 first = capx_min(len, CAPX_COPY_CHUNK);
	if (bpf_xdp_load_bytes(ctx, 0, dst, capx_clamp(first, 1, CAPX_COPY_CHUNK)))
		return -1;
	if (len <= CAPX_COPY_CHUNK)
		return 0;
	return bpf_xdp_load_bytes(ctx, CAPX_COPY_CHUNK, dst + CAPX_COPY_CHUNK,
				  capx_clamp(len - CAPX_COPY_CHUNK, 1, CAPX_COPY_CHUNK));
}

#endif
