// SPDX-License-Identifier: GPL-2.0-only
#include "capture/ring/ring_socket.hpp"

#include <linux/if_ether.h>
#include <linux/net_tstamp.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

#include "capture/ring/frame.hpp"
#include "capture/ring/ring_filter.hpp"

namespace capx::ring {

namespace {

template<typename T>
[[nodiscard]] Result<void> set_option(int fd, int level, int name, const T &value, std::string_view what)
{
	if (::setsockopt(fd, level, name, &value, sizeof(value)) < 0)
		return fail_errno(errno, what);
	return {};
}

std::uint32_t fanout_type(FanoutMode mode)
{
	switch (mode) {
	case FanoutMode::Hash:
		// Fragments of one datagram hash alike only once reassembled.
		return PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
	case FanoutMode::Cpu:
		return PACKET_FANOUT_CPU;
	case FanoutMode::LoadBalance:
		return PACKET_FANOUT_LB;
	case FanoutMode::Rollover:
		return PACKET_FANOUT_ROLLOVER;
	}
	return PACKET_FANOUT_HASH;
}

} // namespace

[[nodiscard]] Result<RingSocket> RingSocket::open(const Interface &iface, bool cooked, const RingConfig &config)
{
	RingSocket s;
	s.fd_.reset(::socket(AF_PACKET, (cooked ? SOCK_DGRAM : SOCK_RAW) | SOCK_CLOEXEC, 0));
	if (!s.fd_)
		return fail_errno(errno, "socket");
	const int fd = s.fd_.get();

	if (auto r = set_option(fd, SOL_PACKET, PACKET_VERSION, int(TPACKET_V3), "PACKET_VERSION TPACKET_V3"); !r)
		return std::unexpected(std::move(r.error()));
	// Room in front of each packet for a restored VLAN tag or an SLL2 header.
	if (auto r = set_option(fd, SOL_PACKET, PACKET_RESERVE, unsigned(kFrameReserve), "PACKET_RESERVE"); !r)
		return std::unexpected(std::move(r.error()));
	if (config.timestamp != TimestampType::Host) {
		int how = SOF_TIMESTAMPING_RAW_HARDWARE;
		if (auto r = set_option(fd, SOL_PACKET, PACKET_TIMESTAMP, how, "PACKET_TIMESTAMP"); !r)
			return std::unexpected(std::move(r.error()));
	}
	auto drop = drop_all_program();
	if (auto r = s.attach_filter(drop, false); !r)
		return std::unexpected(std::move(r.error()));

	s.block_size_ = std::size_t(config.block_kib) * 1024;
	s.block_count_ = config.ring_kib / config.block_kib;
	tpacket_req3 req{};
	req.tp_block_size = static_cast<unsigned>(s.block_size_);
	req.tp_block_nr = s.block_count_;
	// TPACKET_V3 packs variable-size frames into blocks; tp_frame_size only
	// has to divide the block (packet_set_ring checks the arithmetic).
	req.tp_frame_size = TPACKET_ALIGNMENT << 7;
	req.tp_frame_nr = static_cast<unsigned>(s.block_size_ / req.tp_frame_size) * s.block_count_;
	req.tp_retire_blk_tov = config.retire_timeout_ms;
	if (::setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		int err = errno;
		return fail_errno(err, fmt::format("PACKET_RX_RING ({} blocks of {} KiB)", s.block_count_, config.block_kib),
				  err == ENOMEM ? "lower -B or --block-size" : "");
	}
	auto ring = MappedMemory::map(fd, s.block_size_ * s.block_count_, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (!ring)
		return std::unexpected(std::move(ring.error()));
	s.ring_ = std::move(*ring);

	if (config.direction == DirectionFilter::In) {
		if (auto r = set_option(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING"); !r)
			return std::unexpected(std::move(r.error()));
	}
	if (config.promiscuous && !iface.any()) {
		packet_mreq mr{};
		mr.mr_ifindex = static_cast<int>(iface.index);
		mr.mr_type = PACKET_MR_PROMISC;
		if (auto r = set_option(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mr, "PACKET_ADD_MEMBERSHIP promiscuous"); !r)
			return std::unexpected(std::move(r.error()));
	}

	sockaddr_ll addr{};
	addr.sll_family = AF_PACKET;
	addr.sll_protocol = htons(ETH_P_ALL);
	addr.sll_ifindex = static_cast<int>(iface.index);
	if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0)
		return fail_errno(errno, fmt::format("bind to '{}'", iface.name));
	return s;
}

[[nodiscard]] Result<std::uint16_t> RingSocket::create_fanout(FanoutMode mode)
{
	// The kernel picks an id no other group in this netns uses
	// (PACKET_FANOUT_FLAG_UNIQUEID, Linux 4.3), so two capx never merge.
	std::uint32_t arg = (fanout_type(mode) | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
	if (auto r = set_option(fd_.get(), SOL_PACKET, PACKET_FANOUT, arg, "PACKET_FANOUT"); !r)
		return std::unexpected(std::move(r.error()));
	std::uint32_t got = 0;
	socklen_t len = sizeof(got);
	if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_FANOUT, &got, &len) < 0)
		return fail_errno(errno, "getsockopt PACKET_FANOUT");
	return static_cast<std::uint16_t>(got & 0xffff);
}

[[nodiscard]] Result<void> RingSocket::join_fanout(std::uint16_t id, FanoutMode mode)
{
	std::uint32_t arg = (fanout_type(mode) << 16) | id;
	return set_option(fd_.get(), SOL_PACKET, PACKET_FANOUT, arg, "PACKET_FANOUT");
}

[[nodiscard]] Result<void> RingSocket::attach_filter(std::span<const sock_filter> program, bool lock)
{
	sock_fprog prog{};
	prog.len = static_cast<unsigned short>(program.size());
	prog.filter = const_cast<sock_filter *>(program.data());
	if (auto r = set_option(fd_.get(), SOL_SOCKET, SO_ATTACH_FILTER, prog, "SO_ATTACH_FILTER"); !r)
		return r;
	if (lock)
		return set_option(fd_.get(), SOL_SOCKET, SO_LOCK_FILTER, 1, "SO_LOCK_FILTER");
	return {};
}

[[nodiscard]] Result<RingStats> RingSocket::read_stats()
{
	tpacket_stats_v3 st{};
	socklen_t len = sizeof(st);
	if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return fail_errno(errno, "PACKET_STATISTICS");
	// For TPACKET_V3 tp_packets already includes tp_drops (packet_getsockopt).
	return RingStats{st.tp_packets, st.tp_drops, st.tp_freeze_q_cnt};
}

bool RingSocket::owned_by_user(std::span<std::uint8_t> block)
{
	auto *desc = reinterpret_cast<tpacket_block_desc *>(block.data());
	return __atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

void RingSocket::give_back(std::span<std::uint8_t> block)
{
	auto *desc = reinterpret_cast<tpacket_block_desc *>(block.data());
	__atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

int RingSocket::pending_error() const
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

} // namespace capx::ring
