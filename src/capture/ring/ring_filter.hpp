// SPDX-License-Identifier: GPL-2.0-only
// Where the filter of `capx ring` runs, so that it sees exactly the bytes
// capx writes (DESIGN.md, "What you see is what you filter").
//
// The expression is compiled by libpcap for the bytes capx writes:
// Ethernet with any stripped VLAN tag put back, or LINUX_SLL2 on cooked
// sockets. The in-kernel socket filter (SO_ATTACH_FILTER) runs on the skb
// instead, where
//  - a VLAN tag may have been moved into skb->vlan_tci (rx/tx VLAN
//    offload; veth and most NICs do it), so `vlan` would never match, `tcp`
//    would match tagged TCP and `less`/`len` would count 4 bytes less;
//  - a SOCK_DGRAM socket has no link header at all.
// So the kernel runs the program only on packets it sees as they will be
// written, and lets the others through to user space, where the same
// program runs on the rewritten bytes (CbpfProgram::run):
//  - Ethernet: the kernel program starts with "if a tag was stripped
//    (SKF_AD_VLAN_TAG_PRESENT), accept"; untagged packets, the usual case,
//    are filtered in the kernel at full speed; only tagged ones are
//    filtered again in user space, after the tag is back.
//  - cooked (-i any, non-Ethernet devices): the kernel accepts all and user
//    space filters everything. (libpcap rewrites SLL offsets into
//    ancillary loads instead, fix_program in pcap-linux.c; a candidate for
//    later, when the faster executor lands.)
// On the loopback device a packet socket sees every packet twice, as sent
// and as received; like libpcap (linux_check_direction, pcap-linux.c) capx
// keeps only the received copy, with a kernel prefix on the packet type and
// SKF_AD_HATYPE == ARPHRD_LOOPBACK (for `lo` and for `any`).
// `-Q out` is a kernel prefix on the packet type (SKF_AD_PKTTYPE ==
// PACKET_OUTGOING), so incoming packets are never copied to the ring;
// `-Q in` is PACKET_IGNORE_OUTGOING, set on the socket, which also spares
// the kernel the clone of every sent skb.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "capture/ring/ring_config.hpp"
#include "filter/cbpf.hpp"

namespace capx::ring {

enum class UserFilter {
	None,         // the kernel decided everything
	RestoredTags, // run the program on frames whose VLAN tag was put back
	All,          // run it on every frame
};

struct FilterPlan {
	std::vector<sock_filter> kernel;
	UserFilter user = UserFilter::None;
	const char *reason = "";
};

// `program` is compiled for the link type capx writes; `cooked` says the
// socket is SOCK_DGRAM; `sees_loopback` that loopback packets can arrive
// (-i lo, -i any).
FilterPlan plan_filter(const CbpfProgram &program, bool cooked, DirectionFilter direction,
		       bool sees_loopback = false);

// A program that drops everything: the socket wears it from creation until
// it is bound and in its fanout group, so no packet is seen half set up.
std::vector<sock_filter> drop_all_program();

} // namespace capx::ring
