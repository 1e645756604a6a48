// SPDX-License-Identifier: GPL-2.0-only
// The pcap file magics (pcap-savefile(5), "File Header"): one place for the
// writer (output/pcap_format) and the reader (capture/pcap_reader). The
// magic tells readers both the byte order and the unit of the fraction field.
#pragma once

#include <cstdint>

namespace capx {

constexpr std::uint32_t kPcapMagicMicroseconds = 0xa1b2c3d4;
constexpr std::uint32_t kPcapMagicNanoseconds = 0xa1b23c4d;

} // namespace capx
