// SPDX-License-Identifier: GPL-2.0-only
// The capture loop shared by every subcommand: source -> limits -> sink,
// with live status and tcpdump's exit summary.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "capture/source.hpp"
#include "core/error.hpp"
#include "output/sink.hpp"

namespace capx {

struct PipelineOptions {
	std::optional<std::uint64_t> count;                  // -c
	std::optional<std::chrono::milliseconds> duration;   // --duration
	bool unbuffered = false;                             // -U: flush after every batch
	bool live_status = false;                            // --stats (or stderr is a terminal)
};

struct PipelineSummary {
	std::uint64_t captured = 0;
	SourceStats source;
	int stop_signal = 0; // the signal that ended the capture, 0 if none
};

// Runs until a stop is requested, a limit is reached, or the reader of the
// output goes away (EPIPE: an orderly stop). The sink is finished in every
// case, so the output is a complete file.
[[nodiscard]] Result<PipelineSummary> run_pipeline(Source &source, Sink &sink, const PipelineOptions &options);

// tcpdump's three lines, then what capx knows beyond them, on stderr.
void print_summary(const PipelineSummary &summary);

} // namespace capx
