/* SPDX-License-Identifier: GPL-2.0-only */
/* The two filter placeholders every capx BPF program calls (the ABI is in
 * include/capx/filter_abi.h). Before load, capx replaces the body of each
 * placeholder with the eBPF translation of the user's tcpdump expression,
 * in every program that calls it (src/bpf/inject.cpp).
 *
 * Why the bodies look like this:
 * - static: the verifier checks a static subprogram in its caller's context,
 *   so capx_filter_pkt may take verifier packet pointers (a global function
 *   is checked on its own and could not).
 * - __noinline: the body must stay one subprogram, reached by a BPF call.
 * - the empty asm takes every argument as an input and produces the result:
 *   clang can neither drop an argument it thinks unused (dead argument
 *   elimination would change the calling convention) nor propagate a
 *   constant result into the callers (which would remove the call).
 * - the ld_imm64 of the marker is how user space finds the body in the
 *   relocated instruction stream; the result is then forced to 0, so a
 *   program that somehow escaped injection keeps nothing instead of
 *   everything.
 */
#ifndef CAPX_FILTER_BPF_H
#define CAPX_FILTER_BPF_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "capx/filter_abi.h"
#include "capx/filter_marker.h"

#define CAPX_STRINGIFY_(x) #x
#define CAPX_STRINGIFY(x) CAPX_STRINGIFY_(x)

#define CAPX_FILTER_PLACEHOLDER(marker, a, b, c)                               \
	({                                                                     \
		__u64 verdict_;                                                \
		asm volatile("%[v] = " CAPX_STRINGIFY(marker) " ll\n\t"       \
			     "%[v] = 0"                                        \
			     : [v] "=r"(verdict_)                              \
			     : "r"(a), "r"(b), "r"(c));                        \
		(__u32)verdict_;                                               \
	})

/* Direct packet access: data/data_end are the program's packet pointers. */
static __noinline __u32 capx_filter_pkt(const void *data, const void *data_end, __u32 wire_len)
{
	return CAPX_FILTER_PLACEHOLDER(CAPX_FILTER_PKT_MARKER, data, data_end, wire_len);
}

/* Buffer access: buf is a map value of CAPX_PACKET_BUF_SIZE bytes holding
 * caplen valid bytes (caplen <= CAPX_PACKET_BUF_SIZE). */
static __noinline __u32 capx_filter_buf(const void *buf, __u32 caplen, __u32 wire_len)
{
	return CAPX_FILTER_PLACEHOLDER(CAPX_FILTER_BUF_MARKER, buf, caplen, wire_len);
}

/* Buffer access to a packet that starts at its network header (L3 hooks):
 * the same ABI as capx_filter_buf, with the expression compiled for RAW.
 * Only capx skb calls it; unused elsewhere, and then not emitted. */
static __noinline __attribute__((unused)) __u32 capx_filter_l3(const void *buf, __u32 caplen, __u32 wire_len)
{
	return CAPX_FILTER_PLACEHOLDER(CAPX_FILTER_L3_MARKER, buf, caplen, wire_len);
}

#endif
