// SPDX-License-Identifier: GPL-2.0-only
/* See probes.h. The empty asm statements take the arguments as inputs and
 * clobber memory, so the compiler neither drops the calls nor the stores the
 * callers make before them. */
#include "probes.h"

static struct rte_mbuf *staged[512];
static uint16_t staged_n;

/* Each function leaves a trace here: a body of a few instructions, like a
 * real one, rather than a lone `ret`. */
volatile uintptr_t capx_test_sink;

void capx_rx_stage(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n && i < 512; i++)
		staged[i] = pkts[i];
	staged_n = n;
}

void capx_test_one(struct rte_mbuf *m)
{
	capx_test_sink += (uintptr_t)m;
	__asm__ volatile("" : : "r"(m) : "memory");
}

void capx_test_burst(void *queue, struct rte_mbuf **pkts, uint16_t n)
{
	capx_test_sink += n;
	__asm__ volatile("" : : "r"(queue), "r"(pkts), "r"(n) : "memory");
}

uint16_t capx_test_rx(void *queue, struct rte_mbuf **pkts, uint16_t max)
{
	uint16_t n = staged_n < max ? staged_n : max;
	__asm__ volatile("" : : "r"(queue) : "memory");
	for (uint16_t i = 0; i < n; i++)
		pkts[i] = staged[i];
	staged_n = 0;
	capx_test_sink += n;
	__asm__ volatile("" : : : "memory");
	return n;
}

void capx_test_not_mbuf(void *p)
{
	capx_test_sink ^= (uintptr_t)p;
	__asm__ volatile("" : : "r"(p) : "memory");
}
