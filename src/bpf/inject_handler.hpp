// SPDX-License-Identifier: GPL-2.0-only
// The libbpf SEC() handler of capx/ sections (see inject.hpp). Internal to
// src/bpf.
#pragma once

#include "core/error.hpp"

namespace capx::bpf {

// Registers the handlers; called once by setup_libbpf().
[[nodiscard]] Result<void> register_capx_sections();

} // namespace capx::bpf
