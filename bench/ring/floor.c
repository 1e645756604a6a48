// SPDX-License-Identifier: GPL-2.0-only
/* ring-floor: the least a TPACKET_V3 capture to a pcap file can do, as a
 * yardstick for bench/ring (run.sh and split.sh take it as the tool
 * "floor"). It reads the ring as `capx ring` does by default (256 KiB
 * blocks, 20 ms retire timeout, one poll per block) and, for each frame,
 * copies a 16-byte pcap record header and the frame's bytes into a 1 MiB
 * buffer that goes to the file in 256 KiB write(2)s once the block is back
 * in the kernel's hands. Nothing else: no filter, no snaplen, no VLAN tag
 * put back, no rotation, no error recovery, no live status. What capx
 * spends beyond this is capx's own; what this spends is the cost of reading
 * the frames the kernel wrote and of writing them to the file, which any
 * tool pays.
 *
 *   ring-floor -i IFACE -w FILE [-B KIB] [-n | -v]
 *
 * -n: copy and write nothing, only walk the frame headers and count: what
 * the kernel's side of the ring (poll, wakeups) costs the reader.
 * -v: no copy in user space: each block's frames go to the file by
 * writev(2) straight from the ring (a header iovec and a data iovec per
 * frame), written before the block is given back. One copy instead of two,
 * the kernel's copy then being the one that reads the frames.
 *
 * Stops on SIGINT/SIGTERM, flushes, and prints tcpdump's summary words
 * ("N packets captured", "N packets dropped by kernel") so that the
 * bench scripts read it like the other tools.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { kBlockSize = 256 << 10, kBufferSize = 1 << 20, kChunk = 256 << 10 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "ring-floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

// Writes all of `iov` (advancing it past what a short write took).
static void writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

static void write_all(int fd, uint8_t *p, size_t n)
{
	if (n == 0) // writev would return 0, which reads as a failure
		return;
	struct iovec one = {p, n};
	writev_all(fd, &one, 1);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *path = NULL;
	unsigned ring_kib = 8192;
	int headers_only = 0, gather = 0;
	int opt;
	while ((opt = getopt(argc, argv, "i:w:B:nv")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'w': path = optarg; break;
		case 'B': ring_kib = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': headers_only = 1; break;
		case 'v': gather = 1; break;
		default:
			fprintf(stderr, "usage: ring-floor -i IFACE -w FILE [-B KIB] [-n | -v]\n");
			return 2;
		}
	}
	if (!ifname || !path || ring_kib < 2 * (kBlockSize >> 10)) {
		fprintf(stderr, "usage: ring-floor -i IFACE -w FILE [-B KIB] (at least two 256 KiB blocks)\n");
		return 2;
	}
	unsigned ifindex = if_nametoindex(ifname);
	if (ifindex == 0)
		die(ifname);

	int sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (sock < 0)
		die("socket");
	int version = TPACKET_V3;
	if (setsockopt(sock, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
		die("PACKET_VERSION");
	struct tpacket_req3 req = {
		.tp_block_size = kBlockSize,
		.tp_block_nr = ring_kib / (kBlockSize >> 10),
		.tp_frame_size = 2048, // TPACKET_V3 packs frames; only checked
		.tp_retire_blk_tov = 20,
	};
	req.tp_frame_nr = req.tp_block_nr * (kBlockSize / req.tp_frame_size);
	if (setsockopt(sock, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
		die("PACKET_RX_RING");
	size_t ring_size = (size_t)req.tp_block_nr * kBlockSize;
	uint8_t *ring = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, sock, 0);
	if (ring == MAP_FAILED)
		die("mmap");
	struct sockaddr_ll addr = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)ifindex,
	};
	if (bind(sock, (struct sockaddr *)&addr, sizeof addr) != 0)
		die("bind");

	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		die(path);
	uint8_t *buffer = malloc(kBufferSize);
	if (!buffer)
		die("malloc");
	// pcap file header: microsecond magic, version 2.4, snaplen, Ethernet.
	const uint32_t header[6] = {0xa1b2c3d4, 2 | (4u << 16), 0, 0, 262144, 1};
	memcpy(buffer, header, sizeof header);
	size_t used = sizeof header;

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	// -v: the headers of one writev(2)'s frames, and its iovecs.
	enum { kGatherFrames = 512 }; // IOV_MAX (1024) iovecs
	static uint32_t headers[kGatherFrames][4];
	static struct iovec iov[2 * kGatherFrames];
	if (gather) {
		write_all(out, buffer, used);
		used = 0;
	}

	uint64_t captured = 0;
	unsigned block = 0;
	while (!stop) {
		struct tpacket_block_desc *desc = (void *)(ring + (size_t)block * kBlockSize);
		if (!(__atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
			struct pollfd pfd = {.fd = sock, .events = POLLIN | POLLERR};
			poll(&pfd, 1, 100);
			continue;
		}
		uint32_t frames = desc->hdr.bh1.num_pkts;
		const uint8_t *at = (const uint8_t *)desc + desc->hdr.bh1.offset_to_first_pkt;
		for (uint32_t i = 0; i < frames; i++) {
			const struct tpacket3_hdr *f = (const void *)at;
			if (headers_only) {
				at += f->tp_next_offset;
				continue;
			}
			if (gather) {
				uint32_t k = i % kGatherFrames;
				uint32_t *h = headers[k];
				h[0] = f->tp_sec;
				h[1] = f->tp_nsec / 1000;
				h[2] = f->tp_snaplen;
				h[3] = f->tp_len;
				iov[2 * k] = (struct iovec){h, 16};
				iov[2 * k + 1] = (struct iovec){(void *)(at + f->tp_mac), f->tp_snaplen};
				if (k == kGatherFrames - 1 || i == frames - 1)
					writev_all(out, iov, 2 * (k + 1));
				at += f->tp_next_offset;
				continue;
			}
			uint32_t record[4] = {f->tp_sec, f->tp_nsec / 1000, f->tp_snaplen, f->tp_len};
			memcpy(buffer + used, record, sizeof record);
			memcpy(buffer + used + sizeof record, at + f->tp_mac, f->tp_snaplen);
			used += sizeof record + f->tp_snaplen;
			at += f->tp_next_offset;
		}
		captured += frames;
		__atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		block = (block + 1) % req.tp_block_nr;
		// A block holds at most 256 KiB of frames, so the 1 MiB buffer
		// has room for the next one whenever this leaves less than
		// kChunk in it.
		if (used >= kChunk) {
			write_all(out, buffer, used);
			used = 0;
		}
	}
	write_all(out, buffer, used);
	if (close(out) != 0)
		die("close");
	struct tpacket_stats_v3 stats;
	socklen_t len = sizeof stats;
	if (getsockopt(sock, SOL_PACKET, PACKET_STATISTICS, &stats, &len) != 0)
		die("PACKET_STATISTICS");
	fprintf(stderr, "%llu packets captured\n%u packets dropped by kernel\n", (unsigned long long)captured,
		stats.tp_drops);
	return 0;
}
