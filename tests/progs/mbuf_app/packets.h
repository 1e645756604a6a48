// SPDX-License-Identifier: GPL-2.0-only
/* Generated Ethernet frames for mbuf_app when no input pcap is given: a
 * seeded mix of shapes (IPv4/IPv6 UDP and TCP, ICMP, ARP, 802.1Q-tagged
 * IPv4, an unknown EtherType) and lengths from 14 bytes to jumbo, so the
 * same seed gives the same frames. */
#ifndef MBUF_APP_PACKETS_H
#define MBUF_APP_PACKETS_H

#include <stdint.h>

#include "pcap_io.h"

/* Appends count frames; 0 or -1 (out of memory). */
int gen_packets(struct pkt_list *out, uint64_t seed, unsigned count);

/* xorshift64*: the app's one source of reproducible pseudo-random numbers. */
uint64_t rand_next(uint64_t *state);

#endif
