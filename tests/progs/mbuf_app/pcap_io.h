// SPDX-License-Identifier: GPL-2.0-only
/* Classic pcap files for mbuf_app: reads the input packets, writes the
 * oracle (what the app handed to each probed function). Only what the app
 * needs: Ethernet (LINKTYPE_ETHERNET = 1), microsecond or nanosecond
 * magic, either byte order, as described by pcap-savefile(5). */
#ifndef MBUF_APP_PCAP_IO_H
#define MBUF_APP_PCAP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pkt {
	uint8_t *data;
	uint32_t len;
};

struct pkt_list {
	struct pkt *v;
	size_t n, cap;
};

/* Appends a copy of data[0..len) to the list; 0 or -1 (out of memory). */
int pkt_list_add(struct pkt_list *l, const uint8_t *data, uint32_t len);
void pkt_list_free(struct pkt_list *l);

/* Reads every whole record (caplen == wire length) of an Ethernet pcap
 * file; a truncated record is skipped and counted in *truncated. Returns 0,
 * or -1 with a message in err. */
int pcap_read_all(const char *path, struct pkt_list *out, size_t *truncated,
		  char *err, size_t errlen);

struct pcap_writer {
	FILE *f;
};

int pcap_writer_open(struct pcap_writer *w, const char *path);
/* One record: len bytes captured and on the wire. */
int pcap_write(struct pcap_writer *w, const uint8_t *data, uint32_t len);
int pcap_writer_close(struct pcap_writer *w);

#endif
