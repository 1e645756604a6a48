// SPDX-License-Identifier: GPL-2.0-only
// A tcpdump expression compiled for the link type one capture point sees,
// ready for every engine (eBPF translation, user-space executor). This header
// does not include libpcap, so it can sit next to libbpf's headers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/snaplen.hpp"
#include "filter/insn.hpp"

namespace capx {

struct CompiledFilter {
	std::string expression;
	std::uint16_t linktype = 0;   // LINKTYPE_* as in pcap files (kLinkEthernet, kLinkRaw)
	std::vector<CbpfInsn> cbpf;   // libpcap's optimized program

	// The program accepts every packet (empty expression).
	bool accepts_all() const;
};

// Compiles `expression` with libpcap for `linktype` (LINKTYPE_* numbers;
// LINKTYPE_RAW 101 is given to libpcap as DLT_RAW). At L3 capture points
// (kLinkRaw) an expression that needs the link-layer header (`ether host`,
// `arp`, `vlan`, `mpls`, ...) is an error with a hint that says why,
// whether libpcap refused it or compiled it to "reject everything"; call this
// once per capture point so the message is given once. Every error exits 1
// (runtime), like libpcap's own (CbpfProgram::compile decides the status for
// all subcommands).
[[nodiscard]] Result<CompiledFilter> compile_filter(std::string_view expression, std::uint16_t linktype,
				      std::uint32_t snaplen = kMaxSnaplen);

} // namespace capx
