// SPDX-License-Identifier: GPL-2.0-only
#include "capture/ring/ring_filter.hpp"

#include <linux/if_arp.h>
#include <linux/if_packet.h>

namespace capx::ring {

namespace {

sock_filter stmt(std::uint16_t code, std::uint32_t k) { return {code, 0, 0, k}; }

sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf)
{
	return {code, jt, jf, k};
}

// BPF_MAXINSNS in linux/bpf_common.h: the kernel's limit for one program.
constexpr std::size_t kMaxInsns = BPF_MAXINSNS;

} // namespace

std::vector<sock_filter> drop_all_program() { return {stmt(BPF_RET | BPF_K, 0)}; }

FilterPlan plan_filter(const CbpfProgram &program, bool cooked, DirectionFilter direction, bool sees_loopback)
{
	FilterPlan plan;
	const std::uint32_t snaplen = program.snaplen();
	if (sees_loopback) {
		plan.kernel.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)));
		plan.kernel.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 3));
		plan.kernel.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_HATYPE)));
		plan.kernel.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, ARPHRD_LOOPBACK, 0, 1));
		plan.kernel.push_back(stmt(BPF_RET | BPF_K, 0));
	}
	if (direction == DirectionFilter::Out) {
		plan.kernel.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)));
		plan.kernel.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 1, 0));
		plan.kernel.push_back(stmt(BPF_RET | BPF_K, 0));
	}
	auto accept_all = [&](UserFilter user, const char *reason) {
		plan.kernel.push_back(stmt(BPF_RET | BPF_K, snaplen));
		plan.user = user;
		plan.reason = reason;
		return plan;
	};

	if (program.accepts_all())
		return accept_all(UserFilter::None, "no expression: the kernel accepts all");
	if (cooked)
		return accept_all(UserFilter::All, "cooked socket: the kernel sees no link header; filtering in user space");

	constexpr std::size_t kTagPrefix = 3;
	const auto insns = program.insns();
	if (plan.kernel.size() + kTagPrefix + insns.size() > kMaxInsns)
		return accept_all(UserFilter::All, "program too long for the kernel with its prefix; filtering in user space");

	plan.kernel.push_back(stmt(BPF_LD | BPF_W | BPF_ABS,
				   static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)));
	plan.kernel.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0));
	plan.kernel.push_back(stmt(BPF_RET | BPF_K, snaplen));
	// cBPF jumps are relative, so the program runs unchanged after the prefix.
	for (const auto &i : insns)
		plan.kernel.push_back({i.code, i.jt, i.jf, i.k});
	plan.user = UserFilter::RestoredTags;
	plan.reason = "kernel filters untagged packets; tagged ones are filtered in user space after the tag is restored";
	return plan;
}

} // namespace capx::ring
