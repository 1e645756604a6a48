// SPDX-License-Identifier: GPL-2.0-only
// Where a uprobe goes: a symbol or an address resolved to a file and an
// offset in it (what perf_event_open's uprobe takes), looked up in the
// target's executable and in every shared library it maps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/uprobe/process.hpp"
#include "core/error.hpp"

namespace capx::uprobe {

struct UprobeLocation {
	std::string path;           // the ELF file the uprobe is set on
	std::uint64_t file_offset = 0;
	std::string symbol;         // the name, or "" for LIB:0xOFFSET
	// For messages and interface names: "librte_ethdev.so.23:rte_eth_call_rx_callbacks".
	std::string description;
};

// The files a SYMBOL is looked up in, executable first: for a target with a
// running process, every file that process maps (paths as this process
// reaches them: through /proc/PID/root when the target runs in another
// mount namespace); else the executable and the libraries its DT_NEEDED
// entries resolve to, transitively (RUNPATH/RPATH, the ld.so cache, the
// standard directories). Files deleted since they were mapped, and files
// the process maps no code of (data files), are left out.
[[nodiscard]] Result<std::vector<std::string>> target_files(const Target &target);

// SPEC is one of
//   SYMBOL            looked up in the executable, then in each mapped library
//                     (for --binary with no running process: the executable and
//                     the libraries its DT_NEEDED entries resolve to);
//                     found in more than one file: an error listing them
//   LIB:SYMBOL        LIB is a path or a library name prefix ("librte_ethdev")
//   LIB:0xOFFSET      a file offset in LIB, no symbol needed
// Unknown names get the closest symbols as a hint.
//
// What it returns, per form (path: the file as capx opens it, i.e. as
// target_files() lists it, or LIB resolved when it is a path):
//   SYMBOL, LIB:SYMBOL  symbol = SYMBOL, file_offset = the FUNC symbol's
//                       st_value through its PT_LOAD (p_offset + st_value -
//                       p_vaddr), description "BASENAME:SYMBOL"
//   LIB:0xOFFSET        symbol = "", file_offset = OFFSET (checked to lie in
//                       an executable PT_LOAD's file bytes), description
//                       "BASENAME+0xOFFSET"
// Only STT_FUNC symbols count (an IFUNC's address is its resolver's).
// Errors are usage errors (exit 2) for bad SPEC text and unknown names.
[[nodiscard]] Result<UprobeLocation> locate(const Target &target, std::string_view spec);

// The uprobe location of a code address in a running process (e.g. a
// driver's burst function read from rte_eth_fp_ops), through its mapping.
// The symbol is filled when the file has one at that address; the
// description is "BASENAME:SYMBOL" at a function's start,
// "BASENAME:SYMBOL+0xN" inside one, "BASENAME+0xOFFSET" without a symbol
// (e.g. "librte_net_null.so.23+0x4a30": Debian's PMDs keep no symtab).
[[nodiscard]] Result<UprobeLocation> locate_address(pid_t pid, std::uint64_t address);

} // namespace capx::uprobe
