// SPDX-License-Identifier: GPL-2.0-only
#include "gen/mmsg_sender.hpp"

#include <linux/if_packet.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace capx::gen {

[[nodiscard]] Result<MmsgSender> MmsgSender::open(const Link &link, const FrameTemplate &frame, std::size_t batch)
{
	// Protocol 0: the socket registers no receive hook (af_packet.c:
	// packet_create hooks only when a protocol is given), so capx-gen never
	// receives, and pays for, its own traffic.
	UniqueFd fd{::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)};
	if (!fd)
		return fail_errno(errno, "AF_PACKET socket");
	sockaddr_ll addr{};
	addr.sll_family = AF_PACKET;
	addr.sll_ifindex = static_cast<int>(link.index);
	addr.sll_protocol = 0;
	if (::bind(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0)
		return fail_errno(errno, fmt::format("bind to {}", link.name));
	return MmsgSender{std::move(fd), frame, batch};
}

MmsgSender::MmsgSender(UniqueFd fd, const FrameTemplate &frame, std::size_t batch)
	: fd_(std::move(fd)), frame_(&frame), batch_(batch), buffers_(batch * frame.size()), iov_(batch), msgs_(batch)
{
	for (std::size_t i = 0; i < batch_; i++) {
		std::uint8_t *b = buffers_.data() + i * frame.size();
		std::memcpy(b, frame.bytes().data(), frame.size());
		iov_[i] = {b, frame.size()};
		msgs_[i].msg_hdr.msg_iov = &iov_[i];
		msgs_[i].msg_hdr.msg_iovlen = 1;
	}
}

[[nodiscard]] Result<std::size_t> MmsgSender::send(std::uint64_t first_seq, std::size_t n)
{
	// The iovecs point into buffers_, which moved along with *this; the
	// vector's heap storage did not move, so they stay valid.
	for (std::size_t i = 0; i < n; i++)
		frame_->stamp(buffers_.data() + i * frame_->size(), first_seq + i);
	std::size_t done = 0;
	while (done < n) {
		int r = ::sendmmsg(fd_.get(), msgs_.data() + done, static_cast<unsigned>(n - done), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno(errno, fmt::format("sendmmsg of {}-byte frames", frame_->size()));
		}
		done += static_cast<std::size_t>(r);
	}
	return n;
}

} // namespace capx::gen
