// SPDX-License-Identifier: GPL-2.0-only
/* See packets.h. Header fields are plausible (lengths, protocol numbers) so
 * tcpdump expressions select them; checksums are not computed: nothing
 * here checks them. */
#include "packets.h"

#include <string.h>

uint64_t rand_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fill(uint8_t *p, unsigned len, uint64_t *rs)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)rand_next(rs);
}

/* Bytes after the Ethernet header for one frame shape; returns the header
 * length written at p (the rest up to len is random payload). */
static unsigned l3(uint8_t *p, unsigned shape, unsigned len, uint64_t *rs)
{
	unsigned ip_len = len;
	switch (shape) {
	case 0: /* IPv4 UDP */
	case 1: /* IPv4 TCP */
	case 2: /* IPv4 ICMP echo */ {
		uint8_t proto = shape == 0 ? 17 : shape == 1 ? 6 : 1;
		p[0] = 0x45;
		p[1] = 0;
		put16(p + 2, (uint16_t)ip_len);
		put16(p + 4, (uint16_t)rand_next(rs));
		put16(p + 6, 0x4000);
		p[8] = 64;
		p[9] = proto;
		put16(p + 10, 0);
		/* 10.1.x.y -> 10.2.x.y: a handful of hosts and ports so
		 * expressions pick subsets. */
		p[12] = 10, p[13] = 1, p[14] = (uint8_t)(rand_next(rs) % 4), p[15] = 1;
		p[16] = 10, p[17] = 2, p[18] = (uint8_t)(rand_next(rs) % 4), p[19] = 2;
		unsigned h = 20;
		if (proto == 17 && len >= h + 8) {
			put16(p + h, (uint16_t)(1000 + rand_next(rs) % 4));
			put16(p + h + 2, (uint16_t)(rand_next(rs) % 2 ? 53 : 4789));
			put16(p + h + 4, (uint16_t)(len - h));
			put16(p + h + 6, 0);
			return h + 8;
		}
		if (proto == 6 && len >= h + 20) {
			put16(p + h, (uint16_t)(rand_next(rs) % 2 ? 80 : 443));
			put16(p + h + 2, (uint16_t)(40000 + rand_next(rs) % 4));
			fill(p + h + 4, 8, rs);
			p[h + 12] = 5 << 4;
			p[h + 13] = (uint8_t)(rand_next(rs) % 2 ? 0x18 : 0x02); /* PSH|ACK or SYN */
			put16(p + h + 14, 65535);
			put16(p + h + 16, 0);
			put16(p + h + 18, 0);
			return h + 20;
		}
		if (proto == 1 && len >= h + 8) {
			p[h] = 8;
			p[h + 1] = 0;
			fill(p + h + 2, 6, rs);
			return h + 8;
		}
		return h;
	}
	case 3: /* IPv6 UDP */
	case 4: /* IPv6 TCP */ {
		uint8_t nh = shape == 3 ? 17 : 6;
		p[0] = 0x60, p[1] = 0, p[2] = 0, p[3] = 0;
		put16(p + 4, (uint16_t)(len - 40));
		p[6] = nh;
		p[7] = 64;
		memset(p + 8, 0, 32);
		p[8] = 0xfd, p[23] = (uint8_t)(1 + rand_next(rs) % 3);
		p[24] = 0xfd, p[39] = 9;
		unsigned h = 40;
		if (len >= h + 20) {
			put16(p + h, (uint16_t)(nh == 17 ? 1000 : 80));
			put16(p + h + 2, (uint16_t)(nh == 17 ? 53 : 50000));
			fill(p + h + 4, 16, rs);
			if (nh == 6)
				p[h + 12] = 5 << 4;
			else
				put16(p + h + 4, (uint16_t)(len - h));
			return h + (nh == 17 ? 8 : 20);
		}
		return h;
	}
	default:
		return 0;
	}
}

int gen_packets(struct pkt_list *out, uint64_t seed, unsigned count)
{
	uint64_t rs = seed * 0x9e3779b97f4a7c15ull + 1;
	static uint8_t frame[9018];
	for (unsigned i = 0; i < count; i++) {
		unsigned kind = (unsigned)(rand_next(&rs) % 10);
		/* Mostly ordinary sizes, some runts, some jumbo frames. */
		unsigned pick = (unsigned)(rand_next(&rs) % 16);
		unsigned len = pick == 0 ? 14 + (unsigned)(rand_next(&rs) % 30)
			     : pick == 1 ? 1515 + (unsigned)(rand_next(&rs) % 7500)
					 : 60 + (unsigned)(rand_next(&rs) % 1455);
		memset(frame, 0, sizeof(frame));
		/* 02:00:00:00:00:0x locally administered MACs. */
		frame[0] = 0x02, frame[5] = (uint8_t)(1 + i % 3);
		frame[6] = 0x02, frame[11] = 0x10;
		unsigned off = 12, h = 0;
		if (kind == 7 && len >= 18 + 20) { /* 802.1Q, VID 100 or 200, IPv4 UDP */
			put16(frame + off, 0x8100);
			put16(frame + off + 2, (uint16_t)(rand_next(&rs) % 2 ? 100 : 200));
			off += 4;
			put16(frame + off, 0x0800);
			off += 2;
			h = l3(frame + off, 0, len - off, &rs);
		} else if (kind == 8 && len >= 42) { /* ARP request */
			put16(frame + off, 0x0806);
			off += 2;
			uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x10,
					   10, 1, 0, 1, 0, 0, 0, 0, 0, 0, 10, 2, 0, 2};
			memcpy(frame + off, arp, sizeof(arp));
			h = sizeof(arp);
		} else if (kind == 9 || len < 14 + 40) { /* unknown EtherType 0x88b5 */
			put16(frame + off, 0x88b5);
			off += 2;
		} else {
			unsigned shape = kind % 5; /* 0..4, see l3() */
			put16(frame + off, shape >= 3 ? 0x86dd : 0x0800);
			off += 2;
			h = l3(frame + off, shape, len - off, &rs);
		}
		fill(frame + off + h, len - off - h, &rs);
		if (pkt_list_add(out, frame, len) != 0)
			return -1;
	}
	return 0;
}
