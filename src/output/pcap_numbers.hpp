// SPDX-License-Identifier: GPL-2.0-only
// The numbers of the two capture file formats, in one place for the
// writers (pcap_format, pcapng_format) and the reader (pcap_reader).
#pragma once

#include <cstddef>
#include <cstdint>

namespace capx {

// pcap file magics (pcap-savefile(5), "File Header"): the magic tells
// readers both the byte order and the unit of the fraction field.
constexpr std::uint32_t kPcapMagicMicroseconds = 0xa1b2c3d4;
constexpr std::uint32_t kPcapMagicNanoseconds = 0xa1b23c4d;

// pcapng, draft-ietf-opsawg-pcapng.
namespace pcapng {

// Block types, section 10.1 (and 4.1, 4.2, 4.3, 4.4).
constexpr std::uint32_t kSectionHeaderBlock = 0x0a0d0d0a;
constexpr std::uint32_t kInterfaceDescriptionBlock = 1;
constexpr std::uint32_t kSimplePacketBlock = 3;
constexpr std::uint32_t kEnhancedPacketBlock = 6;
constexpr std::uint32_t kByteOrderMagic = 0x1a2b3c4d; // section 4.1
constexpr std::uint64_t kSectionLengthUnknown = ~std::uint64_t{0};

// Options common to all blocks, section 3.5.
constexpr std::uint16_t kOptEndOfOptions = 0;
constexpr std::uint16_t kOptComment = 1;
// Section Header Block options, section 4.1.
constexpr std::uint16_t kShbOs = 3;
constexpr std::uint16_t kShbUserApplication = 4;
// Interface Description Block options, section 4.2 (table 3).
constexpr std::uint16_t kIfName = 2;
constexpr std::uint16_t kIfDescription = 3;
constexpr std::uint16_t kIfTsresol = 9;
constexpr std::uint16_t kIfFilter = 11;
constexpr std::uint16_t kIfOs = 12;
constexpr std::uint8_t kTsresolNanoseconds = 9;  // 10^-9 s
constexpr std::uint8_t kFilterLibpcapString = 0; // if_filter's first octet
// Enhanced Packet Block options, section 4.3 (table 4).
constexpr std::uint16_t kEpbFlags = 2;
constexpr std::uint16_t kEpbDropCount = 4;
constexpr std::uint16_t kEpbPacketId = 5;
constexpr std::uint16_t kEpbQueue = 6;
constexpr std::uint16_t kEpbVerdict = 7;
// epb_flags bits 0-1, section 4.3.1.
constexpr std::uint32_t kFlagInbound = 1;
constexpr std::uint32_t kFlagOutbound = 2;
// epb_verdict's type octet for "Linux_eBPF_XDP" (value: 64-bit xdp_action).
constexpr std::uint8_t kVerdictXdp = 2;
constexpr std::size_t kVerdictSize = 1 + 8;

} // namespace pcapng

} // namespace capx
