// SPDX-License-Identifier: GPL-2.0-only
// The tcpdump expression of `capx skb`, translated for the two places a
// packet can start at a kernel hook (bpf/skb.bpf.c): at the MAC header,
// filtered as Ethernet, or at the network header when the skb has no MAC
// header (an L3 hook), filtered as LINKTYPE_RAW over the bytes from the
// network header. Both bodies run in buffer mode over the per-CPU copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bpf/inject.hpp"
#include "core/error.hpp"

namespace capx::skb {

struct SkbFilter {
	// .buffer = the Ethernet-compiled body, .l3 = the RAW-compiled one (or a
	// body that returns 0 when the expression needs a link-layer header).
	bpf::FilterBodies bodies;
	// How many bytes from where each body starts reading it can look at
	// (EbpfFilter::bytes_needed): std::nullopt when it may read any byte,
	// so the BPF side must copy up to the snaplen before filtering.
	std::optional<std::uint32_t> l2_bytes_needed;
	std::optional<std::uint32_t> l3_bytes_needed;
	bool accepts_all = false;   // empty expression
	// Set when the expression cannot apply without a link-layer header: what
	// was said on stderr (once, when the filter was built).
	std::string l3_warning;
};

// Compiles `expression` for kLinkEthernet and kLinkRaw and translates both.
// An expression libpcap refuses (for Ethernet) is a usage error. An
// expression that needs the link layer ('ether host', 'arp', 'vlan'...)
// logs one warning: packets seen without a MAC header cannot match.
[[nodiscard]] Result<SkbFilter> build_skb_filter(std::string_view expression, std::uint32_t snaplen);

} // namespace capx::skb
