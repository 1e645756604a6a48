// SPDX-License-Identifier: GPL-2.0-only
/* mbuf-floor: attaches bench/mbuf/floor.bpf.c to a running DPDK
 * application's burst function and holds it until SIGINT/SIGTERM
 * (bench/mbuf/run.sh, the burst-empty / burst-hdr / burst-span /
 * burst-split modes). Prints "attached" once both probes are in place, and
 * at exit the hits and mbufs the program saw (a floor that read nothing
 * would measure nothing).
 *
 *   mbuf-floor --at PATH:0xOFFSET [--ret] [--empty] [--same] [--stack] [--pid PID]
 *              [--read N] [--data-at A --data-len L]
 *
 * --at takes the file offset of the instruction, as capx mbuf -f does.
 * --ret: the count is the return value (entry stashes the array, return
 * reads it), else args 2 and 3 at entry. --same: read the burst's first
 * mbuf for each of its mbufs. --stack: --read's bytes go to a buffer on the
 * BPF stack (at most 448), not to the per-CPU map value. --pid: probes for
 * that process only, as capx mbuf --pid attaches them (else every process
 * mapping the file).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: mbuf-floor --at PATH:0xOFFSET [--ret] [--empty] [--same] [--stack] [--pid PID] [--read N] "
			"[--data-at A --data-len L]\n");
	exit(2);
}

static unsigned long number(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "mbuf-floor: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *at = NULL;
	int ret = 0, empty = 0, same = 0, stack = 0;
	unsigned long read = 0, data_at = 0, data_len = 0;
	long pid = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ret"))
			ret = 1;
		else if (!strcmp(argv[i], "--empty"))
			empty = 1;
		else if (!strcmp(argv[i], "--same"))
			same = 1;
		else if (!strcmp(argv[i], "--stack"))
			stack = 1;
		else if (i + 1 < argc && !strcmp(argv[i], "--at"))
			at = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--pid"))
			pid = (long)number(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--read"))
			read = number(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--data-at"))
			data_at = number(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--data-len"))
			data_len = number(argv[++i]);
		else
			usage();
	}
	if (!at || read > (stack ? 448 : 512) || data_len > 512)
		usage();
	const char *colon = strrchr(at, ':');
	if (!colon)
		usage();
	char path[4096];
	snprintf(path, sizeof(path), "%.*s", (int)(colon - at), at);
	size_t offset = number(colon + 1);

	struct floor_bpf *skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "mbuf-floor: cannot open the BPF object\n");
		return 1;
	}
	skel->rodata->floor_empty = empty;
	skel->rodata->floor_same = same;
	skel->rodata->floor_stack = stack;
	skel->rodata->floor_read = read;
	skel->rodata->floor_data_at = data_at;
	skel->rodata->floor_data_len = data_len;
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "mbuf-floor: cannot load the BPF programs\n");
		return 1;
	}
	struct bpf_link *links[2] = {NULL, NULL};
	if (ret) {
		links[0] = bpf_program__attach_uprobe(skel->progs.floor_stash, false, pid, path, offset);
		links[1] = bpf_program__attach_uprobe(skel->progs.floor_ret, true, pid, path, offset);
	} else {
		links[0] = bpf_program__attach_uprobe(skel->progs.floor_entry, false, pid, path, offset);
	}
	if (!links[0] || (ret && !links[1])) {
		fprintf(stderr, "mbuf-floor: cannot attach at %s\n", at);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	fprintf(stderr, "mbuf-floor: %llu hits, %llu mbufs, %llu faulted reads\n",
		(unsigned long long)skel->bss->floor_hits, (unsigned long long)skel->bss->floor_mbufs,
		(unsigned long long)skel->bss->floor_faults);
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
	return 0;
}
