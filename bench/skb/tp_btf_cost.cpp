// SPDX-License-Identifier: GPL-2.0-only
// skb-tp-btf-cost: the kernel's own run-time statistics (BPF_ENABLE_STATS,
// held only while its fd is open) of capx skb's tp_btf program at
// netif_receive_skb on a loopback UDP flood in a private network
// namespace, for a filter that matches nothing and one that captures
// everything: ns per run of the program alone, where bench/skb/run.sh
// measures what the whole capture costs a sender. A benchmark, not a test
// (it moved here from the skb probe tests). Root:
//   sudo build/bench/skb/skb-tp-btf-cost
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "bpf/ring_buffer.hpp"
#include "capture/skb/probe_set.hpp"
#include "capture/skb/skb_filter.hpp"
#include "core/snaplen.hpp"
#include "core/unique_fd.hpp"

using namespace capx;
using namespace capx::skb;

namespace {

constexpr std::uint16_t kPort = 47211;
constexpr int kPackets = 100000;

int give_up(const std::string &what)
{
	std::fprintf(stderr, "skb-tp-btf-cost: %s\n", what.c_str());
	return 1;
}

std::string errno_text(const char *what)
{
	return std::string(what) + ": " + std::strerror(errno);
}

// This process in a fresh network namespace with lo up: only the flood
// passes the netns pre-filter. Returns the namespace's inode, 0 on error.
std::uint32_t enter_private_netns()
{
	if (unshare(CLONE_NEWNET) != 0)
		return 0;
	UniqueFd ctl(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	struct ifreq ifr{};
	std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(ctl.get(), SIOCGIFFLAGS, &ifr) != 0)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(ctl.get(), SIOCSIFFLAGS, &ifr) != 0)
		return 0;
	struct stat st{};
	if (stat("/proc/self/ns/net", &st) != 0)
		return 0;
	return static_cast<std::uint32_t>(st.st_ino);
}

// The program of the (only) link whose program uses the map `events_fd`.
UniqueFd program_using(int events_fd)
{
	bpf_map_info mi{};
	__u32 len = sizeof(mi);
	if (bpf_obj_get_info_by_fd(events_fd, &mi, &len))
		return UniqueFd();
	__u32 id = 0;
	while (bpf_link_get_next_id(id, &id) == 0) {
		UniqueFd link(bpf_link_get_fd_by_id(id));
		bpf_link_info li{};
		len = sizeof(li);
		if (link.get() < 0 || bpf_obj_get_info_by_fd(link.get(), &li, &len))
			continue;
		UniqueFd prog(bpf_prog_get_fd_by_id(li.prog_id));
		__u32 maps[16] = {};
		bpf_prog_info pi{};
		pi.nr_map_ids = 16;
		pi.map_ids = reinterpret_cast<__u64>(maps);
		len = sizeof(pi);
		if (prog.get() < 0 || bpf_obj_get_info_by_fd(prog.get(), &pi, &len))
			continue;
		if (std::find(maps, maps + std::min<__u32>(pi.nr_map_ids, 16), mi.id) != maps + std::min<__u32>(pi.nr_map_ids, 16))
			return prog;
	}
	return UniqueFd();
}

struct Discard : bpf::RecordHandler {
	bool on_record(std::span<const std::uint8_t>) override { return true; }
};

} // namespace

int main()
{
	const std::uint32_t netns = enter_private_netns();
	if (netns == 0)
		return give_up(errno_text("a private network namespace (root?)"));
	UniqueFd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
	if (stats.get() < 0)
		return give_up(errno_text("BPF_ENABLE_STATS"));
	for (const char *expression : {"udp port 1", "udp"}) {
		auto filter = build_skb_filter(expression, kMaxSnaplen);
		if (!filter)
			return give_up(filter.error().message);
		ProbeFilters filters;
		filters.netns = netns;
		filters.filter_bytes = std::max(filter->l2_bytes_needed.value_or(CAPX_PACKET_BUF_SIZE),
						filter->l3_bytes_needed.value_or(CAPX_PACKET_BUF_SIZE));
		ResolvedProbe probe;
		probe.kind = ProbeKind::TpBtf;
		probe.target = "netif_receive_skb";
		probe.display_name = "net:netif_receive_skb";
		probe.spec_text = "tp:net:netif_receive_skb";
		auto set = ProbeSet::make({probe}, filters, filter->bodies, 64 << 20);
		if (!set)
			return give_up(set.error().message);
		auto ring = bpf::RingBuffer::open((*set)->events_map_fd());
		if (!ring)
			return give_up(ring.error().message);

		const std::vector<std::uint8_t> payload(64, 0xa5);
		UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
		sockaddr_in to{};
		to.sin_family = AF_INET;
		to.sin_port = htons(kPort);
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		Discard sink;
		for (int i = 0; i < kPackets; i++) {
			(void)sendto(sock.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr *>(&to),
				     sizeof(to));
			if (i % 1000 == 0)
				(void)ring->consume(sink);
		}

		UniqueFd prog = program_using((*set)->events_map_fd());
		bpf_prog_info pi{};
		__u32 len = sizeof(pi);
		if (prog.get() < 0 || bpf_obj_get_info_by_fd(prog.get(), &pi, &len))
			return give_up("the tp_btf program's statistics cannot be read");
		if (pi.run_cnt == 0)
			return give_up("the tp_btf program never ran");
		auto c = (*set)->counters(0);
		if (!c)
			return give_up(c.error().message);
		std::printf("'%s': %llu runs, %llu ns per run; captured %llu, lost %llu\n", expression,
			    static_cast<unsigned long long>(pi.run_cnt),
			    static_cast<unsigned long long>(pi.run_time_ns / pi.run_cnt),
			    static_cast<unsigned long long>(c->captured), static_cast<unsigned long long>(c->lost_ring_full));
	}
	return 0;
}
