// SPDX-License-Identifier: GPL-2.0-only
// Process-wide libbpf setup, done once before any BPF object is opened:
// libbpf's messages go to our logger one level down, and the capx/ program
// sections get the handler that fills in filter placeholders (inject.hpp).
#pragma once

#include "core/error.hpp"

namespace capx::bpf {

// Idempotent and thread-safe; every open path calls it (Skeleton::open).
[[nodiscard]] Result<void> setup_libbpf();

} // namespace capx::bpf
