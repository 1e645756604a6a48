// SPDX-License-Identifier: GPL-2.0-only
// struct rte_mbuf as the DWARF of a file describes it (libdw): exact for
// the very build the target runs, compile options (enable_iova_as_pa)
// included. Debian's DPDK is stripped (its DWARF is in -dbgsym packages,
// /usr/lib/debug/.build-id/, which are looked at too); an application
// built with -g against DPDK carries the type itself.
#pragma once

#include <optional>
#include <string>

#include "capture/mbuf/mbuf_layout.hpp"

namespace capx::mbuf {

// The layout named "dwarf:BASENAME", or nullopt when the file (and its
// separate debug file) has no complete struct rte_mbuf with every field
// capx needs. Always nullopt when capx was built without libdw
// (CAPX_HAVE_LIBDW unset).
std::optional<MbufLayout> dwarf_layout(const std::string &path);

} // namespace capx::mbuf
