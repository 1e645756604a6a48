// SPDX-License-Identifier: GPL-2.0-only
/* See pcap_io.h. */
#include "pcap_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
#define LINKTYPE_ETHERNET 1u

int pkt_list_add(struct pkt_list *l, const uint8_t *data, uint32_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct pkt *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, data, len);
	l->v[l->n].data = copy;
	l->v[l->n].len = len;
	l->n++;
	return 0;
}

void pkt_list_free(struct pkt_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].data);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static uint32_t swap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

int pcap_read_all(const char *path, struct pkt_list *out, size_t *truncated,
		  char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	uint32_t hdr[6];
	if (fread(hdr, sizeof(hdr), 1, f) != 1) {
		snprintf(err, errlen, "%s: shorter than a pcap file header", path);
		fclose(f);
		return -1;
	}
	int swapped;
	if (hdr[0] == MAGIC_USEC || hdr[0] == MAGIC_NSEC)
		swapped = 0;
	else if (swap32(hdr[0]) == MAGIC_USEC || swap32(hdr[0]) == MAGIC_NSEC)
		swapped = 1;
	else {
		snprintf(err, errlen, "%s: not a classic pcap file (pcapng is not read here)", path);
		fclose(f);
		return -1;
	}
	uint32_t linktype = swapped ? swap32(hdr[5]) : hdr[5];
	/* The low 16 bits are the link type; the rest are FCS flags. */
	if ((linktype & 0xffff) != LINKTYPE_ETHERNET) {
		snprintf(err, errlen, "%s: link type %u, not Ethernet", path, linktype & 0xffff);
		fclose(f);
		return -1;
	}
	uint8_t *buf = NULL;
	uint32_t bufcap = 0;
	*truncated = 0;
	for (;;) {
		uint32_t rec[4];
		size_t got = fread(rec, 1, sizeof(rec), f);
		if (got == 0)
			break;
		if (got != sizeof(rec)) {
			snprintf(err, errlen, "%s: truncated record header", path);
			goto fail;
		}
		uint32_t incl = swapped ? swap32(rec[2]) : rec[2];
		uint32_t orig = swapped ? swap32(rec[3]) : rec[3];
		if (incl > 262144) {
			snprintf(err, errlen, "%s: record of %u bytes", path, incl);
			goto fail;
		}
		if (incl > bufcap) {
			uint8_t *b = realloc(buf, incl);
			if (b == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = b;
			bufcap = incl;
		}
		if (incl && fread(buf, incl, 1, f) != 1) {
			snprintf(err, errlen, "%s: truncated record", path);
			goto fail;
		}
		if (incl != orig) {
			(*truncated)++;
			continue;
		}
		if (pkt_list_add(out, buf, incl) != 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	free(buf);
	fclose(f);
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}

int pcap_writer_open(struct pcap_writer *w, const char *path)
{
	w->f = fopen(path, "wb");
	if (w->f == NULL)
		return -1;
	uint32_t hdr[6] = {MAGIC_USEC, 0x00040002u /* version 2.4 */, 0, 0, 262144,
			   LINKTYPE_ETHERNET};
	if (fwrite(hdr, sizeof(hdr), 1, w->f) != 1)
		return -1;
	return 0;
}

int pcap_write(struct pcap_writer *w, const uint8_t *data, uint32_t len)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	uint32_t rec[4] = {(uint32_t)tv.tv_sec, (uint32_t)tv.tv_usec, len, len};
	if (fwrite(rec, sizeof(rec), 1, w->f) != 1)
		return -1;
	if (len && fwrite(data, len, 1, w->f) != 1)
		return -1;
	return 0;
}

int pcap_writer_close(struct pcap_writer *w)
{
	if (w->f == NULL)
		return 0;
	int rc = fclose(w->f);
	w->f = NULL;
	return rc;
}
