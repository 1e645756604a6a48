// SPDX-License-Identifier: GPL-2.0-only
// The snapshot length capx keeps when none is given or -s 0 is, and the
// largest a pcap file may declare: libpcap's MAXIMUM_SNAPLEN (pcap-int.h),
// which tcpdump also takes as its default, so capx's output declares what
// tcpdump's would.
#pragma once

#include <cstdint>

namespace capx {

inline constexpr std::uint32_t kMaxSnaplen = 262144;

} // namespace capx
