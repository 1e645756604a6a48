// SPDX-License-Identifier: GPL-2.0-only
/* The functions capx mbuf's tests probe. Each is an extern "C"-style
 * symbol of its own, in a translation unit of its own, never inlined nor
 * cloned (noipa: GCC's IPA passes would otherwise make .constprop/.isra
 * copies the caller calls instead), so a uprobe on the symbol's address
 * sees every call with the documented arguments in the x86-64 SysV argument
 * registers. */
#ifndef MBUF_APP_PROBES_H
#define MBUF_APP_PROBES_H

#include <stdint.h>

struct rte_mbuf;

#if defined(__clang__)
#define CAPX_PROBE __attribute__((noinline, used, optnone, visibility("default")))
#else
#define CAPX_PROBE __attribute__((noinline, noipa, used, visibility("default")))
#endif

/* Argument 1 is one packet (possibly a chain of segments). */
CAPX_PROBE void capx_test_one(struct rte_mbuf *m);
/* Arguments 2 and 3: n packets in pkts at entry (n may be 0). */
CAPX_PROBE void capx_test_burst(void *queue, struct rte_mbuf **pkts, uint16_t n);
/* rx-burst style: pkts is filled inside the call with the packets staged
 * by capx_rx_stage(); returns how many (0 sometimes). At entry pkts holds
 * only NULLs. */
CAPX_PROBE uint16_t capx_test_rx(void *queue, struct rte_mbuf **pkts, uint16_t max);
/* Argument 1 is not an mbuf: random bytes, or NULL. */
CAPX_PROBE void capx_test_not_mbuf(void *p);

/* What the next capx_test_rx() call hands out. */
void capx_rx_stage(struct rte_mbuf **pkts, uint16_t n);

#endif
