// SPDX-License-Identifier: GPL-2.0-only
// Orderly stop: SIGINT, SIGTERM and SIGHUP request a stop; SIGPIPE is
// ignored so a closed reader shows up as EPIPE on write, which the pipeline
// also turns into a stop. Capture loops poll stop_fd() next to their own fds
// so a signal wakes them at once.
#pragma once

#include "core/error.hpp"

namespace capx::stop {

// Installs the handlers (idempotent). Handlers are installed without
// SA_RESTART so blocking calls return EINTR.
[[nodiscard]] Result<void> install();

bool requested();
// The signal that asked for the stop, 0 if none (or a programmatic stop).
int signal_number();
// Readable (eventfd) once a stop was requested.
int fd();
// Ask for a stop from code (count reached, reader gone, ...).
void request();

} // namespace capx::stop
