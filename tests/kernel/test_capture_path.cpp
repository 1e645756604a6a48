// SPDX-License-Identifier: GPL-2.0-only
// The whole capture path on a real packet: the filter test program attached
// to loopback with XDP (bpf::Link) in a private network namespace, a UDP
// datagram sent over it, the record read with bpf::RingBuffer::poll and
// turned into a PacketView; detaching when the Link goes. Needs root
// (tests/unit/needs_main.cpp skips otherwise).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "bpf/capture_maps.hpp"
#include "bpf/link.hpp"
#include "bpf/ring_buffer.hpp"
#include "bpf/skeleton.hpp"
#include "core/unique_fd.hpp"
#include "filter_test.skel.h"

using namespace capx;
using namespace capx::bpf;

namespace {

constexpr std::uint16_t kPort = 47123;

struct FindUdp : RecordHandler {
	WallClock clock = WallClock::measure();
	int seen = 0;
	bool found = false;
	std::uint32_t wire_len = 0;
	std::uint64_t timestamp_ns = 0;
	bool on_record(std::span<const std::uint8_t> record) override
	{
		auto p = event_to_packet(record, clock);
		if (!p)
			return true;
		seen++;
		// Ethernet (zeros on lo) + IPv4 + UDP to kPort carrying "capx".
		const auto &d = p->data;
		if (d.size() >= 46 && d[12] == 0x08 && d[13] == 0x00 && d[23] == 17 &&
		    ((d[36] << 8) | d[37]) == kPort && std::memcmp(&d[42], "capx", 4) == 0) {
			found = true;
			wire_len = p->wire_len;
			timestamp_ns = p->timestamp_ns;
		}
		return true;
	}
};

// Runs in a child in its own network namespace; returns the failure text.
std::string capture_in_netns()
{
	if (unshare(CLONE_NEWNET))
		return std::string("unshare(CLONE_NEWNET): ") + strerror(errno);
	UniqueFd ctl(socket(AF_INET, SOCK_DGRAM, 0));
	struct ifreq ifr{};
	std::strcpy(ifr.ifr_name, "lo");
	if (ioctl(ctl.get(), SIOCGIFFLAGS, &ifr) < 0)
		return "SIOCGIFFLAGS lo";
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(ctl.get(), SIOCSIFFLAGS, &ifr) < 0)
		return "bringing lo up";

	auto skel = Skeleton<filter_test>::open();
	if (!skel)
		return skel.error().message;
	bpf_program__set_autoload((*skel)->progs.filter_test_buf, false);
	bpf_program__set_autoload((*skel)->progs.filter_test_none, false);
	if (auto r = size_capture_maps(skel->object(), 1 << 16); !r)
		return r.error().message;
	// "return the wire length": keep every packet whole.
	FilterBodies bodies;
	bodies.packet = std::vector<EbpfInsn>{{BPF_ALU64 | BPF_MOV | BPF_X, 3 << 4, 0, 0}, {BPF_JMP | BPF_EXIT, 0, 0, 0}};
	if (auto r = skel->load(bodies); !r)
		return r.error().message;
	int lo = static_cast<int>(if_nametoindex("lo"));
	auto ring = RingBuffer::open(bpf_map__fd((*skel)->maps.capx_events));
	if (!ring)
		return ring.error().message;

	FindUdp handler;
	{
		auto link = Link::adopt(bpf_program__attach_xdp((*skel)->progs.filter_test_pkt, lo), "XDP on lo");
		if (!link)
			return link.error().message;
		__u32 id = 0;
		if (bpf_xdp_query_id(lo, 0, &id) || id == 0)
			return "no XDP program on lo while the link exists";

		UniqueFd sock(socket(AF_INET, SOCK_DGRAM, 0));
		sockaddr_in to{};
		to.sin_family = AF_INET;
		to.sin_port = htons(kPort);
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (sendto(sock.get(), "capx", 4, 0, reinterpret_cast<sockaddr *>(&to), sizeof(to)) != 4)
			return "sendto";
		for (int i = 0; i < 20 && !handler.found; i++)
			if (auto n = ring->poll(std::chrono::milliseconds(50), handler); !n)
				return n.error().message;
	}
	__u32 id = 0;
	if (bpf_xdp_query_id(lo, 0, &id) == 0 && id != 0)
		return "the XDP program stayed on lo after the link was destroyed";
	if (!handler.found)
		return "the datagram was not captured (" + std::to_string(handler.seen) + " records)";
	if (handler.wire_len != 14 + 20 + 8 + 4)
		return "wire length " + std::to_string(handler.wire_len);
	std::uint64_t now = clock_ns(CLOCK_REALTIME);
	if (handler.timestamp_ns > now || now - handler.timestamp_ns > 10'000'000'000ULL)
		return "timestamp not converted to wall clock";
	return {};
}

} // namespace

TEST_CASE("a packet on loopback goes XDP -> filter -> ring -> PacketView, and the link detaches")
{
	int pipefd[2];
	REQUIRE(pipe(pipefd) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		std::string err = capture_in_netns();
		if (!err.empty() && write(pipefd[1], err.data(), err.size()) < 0)
			_exit(2);
		_exit(err.empty() ? 0 : 1);
	}
	close(pipefd[1]);
	std::string err;
	char buf[512];
	ssize_t n;
	while ((n = read(pipefd[0], buf, sizeof(buf))) > 0)
		err.append(buf, static_cast<std::size_t>(n));
	close(pipefd[0]);
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	INFO(err);
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 0);
	CHECK(err.empty());
}
