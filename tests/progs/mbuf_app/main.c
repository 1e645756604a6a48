// SPDX-License-Identifier: GPL-2.0-only
/* mbuf_app: a small DPDK application for capx mbuf's tests. It starts the
 * EAL without devices or hugepages, builds rte_mbufs (single-segment and
 * chained multi-segment ones) from an input pcap or from seeded generated
 * frames, and hands them, round after round, to the named functions of
 * probes.h, which capx probes with uprobes. Every packet handed over is
 * also written to an oracle pcap per function (the bytes of the whole
 * chain, as the mbuf holds them), and the calls are counted, so a test
 * compares capx's capture and summary with what really happened.
 *
 * Usage: mbuf_app [options] [-- EAL options...]; see usage() below. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "packets.h"
#include "pcap_io.h"
#include "probes.h"

/* Segments of chained packets come from a pool with this much room after
 * the headroom, so a 1514-byte frame needs at least 3 of them. */
#define SEG_ROOM 512
/* Single-segment packets: room for a jumbo frame. */
#define BIG_ROOM 16384
#define MAX_SEGS 16 /* capx walks at most CAPX_MBUF_MAX_SEGS (capx/mbuf_abi.h) */
#define RX_MAX 32

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t go_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_go(int sig)
{
	(void)sig;
	go_requested = 1;
}

#define MAX_PCAPS 1024

struct options {
	const char *pcap[MAX_PCAPS];
	unsigned npcap;
	uint64_t seed;
	unsigned gen_count;
	unsigned long rounds; /* 0: until SIGINT/SIGTERM */
	unsigned pace_us;
	const char *oracle_dir;
	const char *go_file;
	int wait_signal;
	const char *file_prefix;
	const char *dump; /* write the packets to this pcap and exit */
	unsigned chain_every; /* every Nth packet is chained; 0: never */
	unsigned per_round_one;
	unsigned burst_max;
	int quiet;
};

struct counts {
	unsigned long rounds;
	unsigned long packets; /* packets built */
	unsigned long chained; /* of which chained */
	unsigned long segments;
	unsigned long one_calls;
	unsigned long burst_calls, burst_empty, burst_mbufs;
	unsigned long rx_calls, rx_empty, rx_mbufs;
	unsigned long not_mbuf_calls, not_mbuf_null;
};

struct app {
	struct options o;
	struct pkt_list pkts;
	size_t cursor;
	unsigned long seq; /* packets built so far: decides the chain shape */
	struct rte_mempool *big, *small;
	struct pcap_writer oracle_one, oracle_burst, oracle_rx;
	uint8_t flat[BIG_ROOM];
	uint64_t rs;
	struct counts c;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mbuf_app [options] [-- EAL options]\n"
		"  --pcap FILE         packets from an Ethernet pcap (else generated);\n"
		"                      repeatable: the files' packets one after the other\n"
		"  --seed N            seed of the generated packets and of the random bytes (1)\n"
		"  --count N           how many packets to generate (200)\n"
		"  --rounds N          rounds, then exit; 0: until SIGINT/SIGTERM (100)\n"
		"  --pace USEC         sleep between rounds (0)\n"
		"  --oracle DIR        write DIR/capx_test_{one,burst,rx}.pcap and DIR/counts\n"
		"  --go FILE           before the first round wait until FILE exists or SIGUSR1\n"
		"  --wait              before the first round wait for SIGUSR1\n"
		"  --file-prefix NAME  EAL --file-prefix (mbuf_app<pid>)\n"
		"  --chain-every N     every Nth packet is a chain of 2-%d segments; 0: none (3)\n"
		"  --one N             capx_test_one calls per round (4)\n"
		"  --burst-max N       bursts of 0..N packets (8, at most %d)\n"
		"  --quiet             no per-run lines on stdout but pid/ready/counts\n"
		"  --dump FILE         write the packets (generated or read) to a pcap and\n"
		"                      exit, without starting the EAL: input for other programs\n"
		"Each round: --one calls of capx_test_one, one capx_test_burst (round %% (N+1)\n"
		"packets), one capx_test_rx ((round + 4) %% (N+1) packets, filled inside the\n"
		"call), one capx_test_not_mbuf with random bytes, and one with NULL every\n"
		"fourth round. Prints 'pid PID' and 'ready' once the EAL is up.\n",
		MAX_SEGS, RX_MAX);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"pcap", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 's'},
		{"count", required_argument, NULL, 'n'},
		{"rounds", required_argument, NULL, 'r'},
		{"pace", required_argument, NULL, 'P'},
		{"oracle", required_argument, NULL, 'o'},
		{"go", required_argument, NULL, 'g'},
		{"wait", no_argument, NULL, 'W'},
		{"file-prefix", required_argument, NULL, 'F'},
		{"chain-every", required_argument, NULL, 'c'},
		{"one", required_argument, NULL, '1'},
		{"burst-max", required_argument, NULL, 'b'},
		{"quiet", no_argument, NULL, 'q'},
		{"dump", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct options){.seed = 1, .gen_count = 200, .rounds = 100, .chain_every = 3,
			      .per_round_one = 4, .burst_max = 8};
	int c;
	unsigned long v;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (o->npcap == MAX_PCAPS) {
				fprintf(stderr, "mbuf_app: more than %d --pcap\n", MAX_PCAPS);
				return -1;
			}
			o->pcap[o->npcap++] = optarg;
			break;
		case 'o': o->oracle_dir = optarg; break;
		case 'g': o->go_file = optarg; break;
		case 'W': o->wait_signal = 1; break;
		case 'F': o->file_prefix = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'D': o->dump = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 's':
			if (parse_ulong(optarg, ~0ul, &v)) goto bad;
			o->seed = v;
			break;
		case 'n':
			if (parse_ulong(optarg, 1000000, &v) || v == 0) goto bad;
			o->gen_count = (unsigned)v;
			break;
		case 'r':
			if (parse_ulong(optarg, ~0ul, &v)) goto bad;
			o->rounds = v;
			break;
		case 'P':
			if (parse_ulong(optarg, 10000000, &v)) goto bad;
			o->pace_us = (unsigned)v;
			break;
		case 'c':
			if (parse_ulong(optarg, 1000000, &v)) goto bad;
			o->chain_every = (unsigned)v;
			break;
		case '1':
			if (parse_ulong(optarg, 1000, &v)) goto bad;
			o->per_round_one = (unsigned)v;
			break;
		case 'b':
			if (parse_ulong(optarg, RX_MAX, &v)) goto bad;
			o->burst_max = (unsigned)v;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	return 0;
bad:
	fprintf(stderr, "mbuf_app: bad value '%s'\n", optarg);
	return -1;
}

/* The next input packet, round robin. */
static const struct pkt *next_packet(struct app *a)
{
	const struct pkt *p = &a->pkts.v[a->cursor];
	a->cursor = (a->cursor + 1) % a->pkts.n;
	return p;
}

static void die(const char *what)
{
	fprintf(stderr, "mbuf_app: %s: %s\n", what, rte_strerror(rte_errno));
	exit(1);
}

/* How packet number seq is split: 0 segments means one mbuf from the big
 * pool. Chains have 2-4 segments (more when the packet does not fit), the
 * first one sometimes only a few bytes long so that the headers a filter
 * reads span segments; later segments start at data offsets 0, 37 or the
 * default headroom, so a reader must honour each segment's data_off. */
static unsigned chain_shape(const struct app *a, uint32_t len, uint32_t *first)
{
	unsigned every = a->o.chain_every;
	*first = 0;
	if (every == 0 || a->seq % every != every - 1 || len < 2)
		return 0;
	unsigned long k = a->seq / every;
	unsigned nseg = 2 + (unsigned)(k % 3);
	if (k % 2) {
		*first = 1 + (uint32_t)(a->seq % 40);
		if (*first >= len)
			*first = len / 2;
		unsigned need = 1 + (len - *first + SEG_ROOM - 1) / SEG_ROOM;
		nseg = need > nseg ? need : nseg;
		if (len - *first < nseg - 1)
			nseg = 1 + (len - *first);
	} else {
		unsigned need = (len + SEG_ROOM - 1) / SEG_ROOM;
		nseg = need > nseg ? need : nseg;
		if (len < nseg)
			nseg = len;
	}
	return nseg >= 2 && nseg <= MAX_SEGS ? nseg : 0;
}

static struct rte_mbuf *alloc_or_die(struct rte_mempool *mp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		die("rte_pktmbuf_alloc");
	return m;
}

static struct rte_mbuf *build(struct app *a, const struct pkt *p)
{
	uint32_t first;
	unsigned nseg = chain_shape(a, p->len, &first);
	a->seq++;
	a->c.packets++;
	if (nseg == 0) {
		struct rte_mbuf *m = alloc_or_die(a->big);
		/* Some packets start elsewhere in their buffer than the rest
		 * (as after rte_pktmbuf_prepend() or _adj()): 64 bytes into the
		 * headroom, or 300 bytes behind it. A reader that guesses where
		 * an mbuf's data is from the mbufs before it must check each
		 * one's own data_off (bpf/mbuf.bpf.c, capx_span_learnt). */
		if (a->seq % 7 == 3)
			m->data_off = RTE_PKTMBUF_HEADROOM - 64;
		else if (a->seq % 7 == 5)
			m->data_off = RTE_PKTMBUF_HEADROOM + 300;
		char *d = rte_pktmbuf_append(m, (uint16_t)p->len);
		if (d == NULL)
			die("rte_pktmbuf_append");
		memcpy(d, p->data, p->len);
		m->port = 3;
		a->c.segments++;
		return m;
	}
	a->c.chained++;
	a->c.segments += nseg;
	struct rte_mbuf *head = NULL;
	uint32_t done = 0;
	for (unsigned i = 0; i < nseg; i++) {
		uint32_t l;
		if (first && i == 0)
			l = first;
		else {
			unsigned left = nseg - i;
			uint32_t rest = p->len - done;
			l = rest / left + ((rest % left) != 0);
		}
		struct rte_mbuf *s = alloc_or_die(a->small);
		if (i > 0) {
			static const uint16_t offs[3] = {RTE_PKTMBUF_HEADROOM, 0, 37};
			uint16_t off = offs[i % 3];
			if (off + l <= s->buf_len)
				s->data_off = off;
		}
		memcpy(rte_pktmbuf_mtod(s, uint8_t *), p->data + done, l);
		s->data_len = (uint16_t)l;
		s->pkt_len = l;
		done += l;
		if (head == NULL) {
			head = s;
			head->port = 3;
		} else if (rte_pktmbuf_chain(head, s) != 0) {
			fprintf(stderr, "mbuf_app: rte_pktmbuf_chain failed\n");
			exit(1);
		}
	}
	if (done != p->len || head->pkt_len != p->len || head->nb_segs != nseg) {
		fprintf(stderr, "mbuf_app: chain of %u bytes built as %u\n", p->len, done);
		exit(1);
	}
	return head;
}

/* The packet as the mbuf chain holds it, checked against its source, into
 * the oracle. */
static void record(struct app *a, struct pcap_writer *w, const struct rte_mbuf *m,
		   const struct pkt *src)
{
	uint32_t n = 0;
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		memcpy(a->flat + n, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
		n += s->data_len;
	}
	if (n != src->len || memcmp(a->flat, src->data, n) != 0) {
		fprintf(stderr, "mbuf_app: an mbuf does not hold its packet\n");
		exit(1);
	}
	if (w->f != NULL && pcap_write(w, a->flat, n) != 0) {
		fprintf(stderr, "mbuf_app: writing the oracle: %s\n", strerror(errno));
		exit(1);
	}
}

/* A block of bytes that is no mbuf: random, and redrawn until the fields
 * where an rte_mbuf would keep data_off, data_len and buf_len say
 * data_off + data_len > buf_len, so any sanity check of capx refuses it
 * (whatever else it checks) rather than follow a random buf_addr. */
static void *not_an_mbuf(struct app *a)
{
	static union {
		struct rte_mbuf m;
		uint8_t bytes[sizeof(struct rte_mbuf) + 128];
	} junk;
	do {
		for (size_t i = 0; i < sizeof(junk.bytes); i++)
			junk.bytes[i] = (uint8_t)rand_next(&a->rs);
	} while ((uint32_t)junk.m.data_off + junk.m.data_len <= junk.m.buf_len);
	return &junk;
}

static void round_once(struct app *a)
{
	static char queue[64]; /* stands in for a driver's queue */
	unsigned long r = a->c.rounds;
	struct rte_mbuf *v[RX_MAX];
	const struct pkt *src[RX_MAX];

	for (unsigned i = 0; i < a->o.per_round_one; i++) {
		const struct pkt *p = next_packet(a);
		struct rte_mbuf *m = build(a, p);
		record(a, &a->oracle_one, m, p);
		capx_test_one(m);
		a->c.one_calls++;
		rte_pktmbuf_free(m);
	}

	uint16_t n = (uint16_t)(r % (a->o.burst_max + 1));
	for (uint16_t i = 0; i < n; i++) {
		src[i] = next_packet(a);
		v[i] = build(a, src[i]);
		record(a, &a->oracle_burst, v[i], src[i]);
	}
	capx_test_burst(queue, v, n);
	a->c.burst_calls++;
	a->c.burst_mbufs += n;
	a->c.burst_empty += n == 0;
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(v[i]);

	n = (uint16_t)((r + 4) % (a->o.burst_max + 1));
	for (uint16_t i = 0; i < n; i++) {
		src[i] = next_packet(a);
		v[i] = build(a, src[i]);
	}
	capx_rx_stage(v, n);
	struct rte_mbuf *got[RX_MAX];
	memset(got, 0, sizeof(got));
	uint16_t ret = capx_test_rx(queue, got, RX_MAX);
	if (ret != n) {
		fprintf(stderr, "mbuf_app: capx_test_rx returned %u of %u\n", ret, n);
		exit(1);
	}
	for (uint16_t i = 0; i < ret; i++) {
		record(a, &a->oracle_rx, got[i], src[i]);
		rte_pktmbuf_free(got[i]);
	}
	a->c.rx_calls++;
	a->c.rx_mbufs += ret;
	a->c.rx_empty += ret == 0;

	capx_test_not_mbuf(not_an_mbuf(a));
	a->c.not_mbuf_calls++;
	if (r % 4 == 3) {
		capx_test_not_mbuf(NULL);
		a->c.not_mbuf_calls++;
		a->c.not_mbuf_null++;
	}
	a->c.rounds++;
}

static void print_counts(FILE *f, const struct counts *c)
{
	fprintf(f,
		"rounds=%lu\npackets=%lu\nchained=%lu\nsegments=%lu\n"
		"one_calls=%lu\n"
		"burst_calls=%lu\nburst_empty=%lu\nburst_mbufs=%lu\n"
		"rx_calls=%lu\nrx_empty=%lu\nrx_mbufs=%lu\n"
		"not_mbuf_calls=%lu\nnot_mbuf_null=%lu\n",
		c->rounds, c->packets, c->chained, c->segments, c->one_calls, c->burst_calls,
		c->burst_empty, c->burst_mbufs, c->rx_calls, c->rx_empty, c->rx_mbufs,
		c->not_mbuf_calls, c->not_mbuf_null);
}

static void open_oracle(struct pcap_writer *w, const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.pcap", dir, name);
	if (pcap_writer_open(w, path) != 0) {
		fprintf(stderr, "mbuf_app: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static int start_eal(const struct options *o, int extra_argc, char **extra_argv,
		     const char *argv0)
{
	char prefix[64];
	if (o->file_prefix == NULL)
		snprintf(prefix, sizeof(prefix), "mbuf_app%d", (int)getpid());
	char *args[64];
	int n = 0;
	args[n++] = (char *)argv0;
	args[n++] = "--no-huge";
	args[n++] = "--no-pci";
	args[n++] = "-m";
	args[n++] = "512";
	args[n++] = "--file-prefix";
	args[n++] = o->file_prefix ? (char *)o->file_prefix : prefix;
	args[n++] = "--proc-type";
	args[n++] = "primary";
	args[n++] = "-l";
	args[n++] = "0";
	args[n++] = "--log-level";
	args[n++] = "*:warning";
	for (int i = 0; i < extra_argc && n < 63; i++)
		args[n++] = extra_argv[i];
	args[n] = NULL;
	return rte_eal_init(n, args);
}

static void remove_dir(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return;
	struct dirent *e;
	char file[8192];
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		unlink(file);
	}
	closedir(d);
	rmdir(path);
}

int main(int argc, char **argv)
{
	static struct app a;
	if (parse_options(argc, argv, &a.o) != 0)
		return 2;
	a.rs = a.o.seed * 0x9e3779b97f4a7c15ull + 7;

	char err[512];
	size_t truncated = 0;
	if (a.o.npcap) {
		for (unsigned i = 0; i < a.o.npcap; i++) {
			size_t t = 0;
			if (pcap_read_all(a.o.pcap[i], &a.pkts, &t, err, sizeof(err)) != 0) {
				fprintf(stderr, "mbuf_app: %s\n", err);
				return 1;
			}
			truncated += t;
		}
		/* Frames the big pool cannot hold are left out. */
		size_t kept = 0;
		for (size_t i = 0; i < a.pkts.n; i++) {
			if (a.pkts.v[i].len > BIG_ROOM || a.pkts.v[i].len == 0) {
				free(a.pkts.v[i].data);
				continue;
			}
			a.pkts.v[kept++] = a.pkts.v[i];
		}
		a.pkts.n = kept;
		if (kept == 0) {
			fprintf(stderr, "mbuf_app: no whole packets in the --pcap files\n");
			return 1;
		}
	} else if (gen_packets(&a.pkts, a.o.seed, a.o.gen_count) != 0) {
		fprintf(stderr, "mbuf_app: out of memory\n");
		return 1;
	}

	if (a.o.dump) {
		struct pcap_writer w;
		int bad = pcap_writer_open(&w, a.o.dump) != 0;
		for (size_t i = 0; i < a.pkts.n && !bad; i++)
			bad = pcap_write(&w, a.pkts.v[i].data, a.pkts.v[i].len) != 0;
		if (pcap_writer_close(&w) != 0 || bad) {
			fprintf(stderr, "mbuf_app: %s: %s\n", a.o.dump, strerror(errno));
			return 1;
		}
		pkt_list_free(&a.pkts);
		return 0;
	}

	struct sigaction sa = {0};
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_go;
	sigaction(SIGUSR1, &sa, NULL);

	if (start_eal(&a.o, argc - optind, argv + optind, argv[0]) < 0)
		die("rte_eal_init");

	/* No per-lcore cache: every mbuf goes back to the ring at once. */
	a.big = rte_pktmbuf_pool_create("mbuf_app_big", 255, 0, 0,
					RTE_PKTMBUF_HEADROOM + BIG_ROOM, SOCKET_ID_ANY);
	if (a.big == NULL)
		die("rte_pktmbuf_pool_create(big)");
	a.small = rte_pktmbuf_pool_create("mbuf_app_small", 1023, 0, 0,
					  RTE_PKTMBUF_HEADROOM + SEG_ROOM, SOCKET_ID_ANY);
	if (a.small == NULL)
		die("rte_pktmbuf_pool_create(small)");

	if (a.o.oracle_dir) {
		open_oracle(&a.oracle_one, a.o.oracle_dir, "capx_test_one");
		open_oracle(&a.oracle_burst, a.o.oracle_dir, "capx_test_burst");
		open_oracle(&a.oracle_rx, a.o.oracle_dir, "capx_test_rx");
	}

	printf("pid %d\n", (int)getpid());
	if (!a.o.quiet)
		printf("packets %zu (%zu truncated records left out)\n", a.pkts.n, truncated);
	printf("ready\n");
	fflush(stdout);

	if (a.o.go_file || a.o.wait_signal) {
		while (!go_requested && !stop_requested &&
		       !(a.o.go_file && access(a.o.go_file, F_OK) == 0))
			usleep(10000);
		if (!a.o.quiet && !stop_requested) {
			printf("go\n");
			fflush(stdout);
		}
	}

	while (!stop_requested && (a.o.rounds == 0 || a.c.rounds < a.o.rounds)) {
		round_once(&a);
		if (a.o.pace_us)
			usleep(a.o.pace_us);
	}

	int rc = 0;
	if (pcap_writer_close(&a.oracle_one) || pcap_writer_close(&a.oracle_burst) ||
	    pcap_writer_close(&a.oracle_rx)) {
		fprintf(stderr, "mbuf_app: closing the oracle: %s\n", strerror(errno));
		rc = 1;
	}
	if (a.o.oracle_dir) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/counts", a.o.oracle_dir);
		FILE *f = fopen(path, "w");
		if (f == NULL) {
			fprintf(stderr, "mbuf_app: %s: %s\n", path, strerror(errno));
			rc = 1;
		} else {
			print_counts(f, &a.c);
			fclose(f);
		}
	}
	print_counts(stdout, &a.c);
	printf("done\n");
	fflush(stdout);
	rte_mempool_free(a.big);
	rte_mempool_free(a.small);
	/* The EAL leaves its runtime directory (/var/run/dpdk/PREFIX:
	 * config, fbarray and socket files) behind; each run has a prefix of
	 * its own, so remove it rather than fill the directory. */
	char rundir[4096];
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	remove_dir(rundir);
	pkt_list_free(&a.pkts);
	return rc;
}
