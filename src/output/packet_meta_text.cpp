// SPDX-License-Identifier: GPL-2.0-only
#include "output/packet_meta_text.hpp"

#include <fmt/format.h>

namespace capx {

std::string describe_meta(const PacketMeta &m)
{
	std::string out;
	auto add = [&out](std::string item) {
		if (!out.empty())
			out += ' ';
		out += item;
	};
	if (m.ifindex)
		add(fmt::format("if={}", *m.ifindex));
	if (m.netns)
		add(fmt::format("netns={}", *m.netns));
	if (m.cpu)
		add(fmt::format("cpu={}", *m.cpu));
	if (m.pid)
		add(fmt::format("pid={}", *m.pid));
	if (!m.comm.empty())
		add(fmt::format("comm={}", m.comm));
	if (m.queue)
		add(fmt::format("queue={}", *m.queue));
	if (m.vlan_tci)
		add(fmt::format("vlan={}", *m.vlan_tci & 0x0fff));
	if (m.packet_id)
		add(fmt::format("skb=0x{:x}", *m.packet_id));
	if (m.xdp_verdict)
		add(fmt::format("verdict={}", *m.xdp_verdict));
	if (!m.drop_reason_name.empty())
		add(fmt::format("reason={}", m.drop_reason_name));
	else if (m.drop_reason)
		add(fmt::format("reason={}", *m.drop_reason));
	if (!m.comment.empty())
		add(std::string(m.comment));
	return out;
}

} // namespace capx
