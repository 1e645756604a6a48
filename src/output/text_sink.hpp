// SPDX-License-Identifier: GPL-2.0-only
// One decoded line per packet on a terminal, like tcpdump's default output.
#pragma once

#include <memory>

#include "output/sink.hpp"

namespace capx {

// Writes decoded lines to `fd` (normally stdout). `numeric` (-n): resolve
// nothing.
std::unique_ptr<Sink> make_text_sink(int fd, bool numeric);

} // namespace capx
