// SPDX-License-Identifier: GPL-2.0-only
// The tcpdump-style options every capture subcommand shares (-w -c -s -C -G
// -W -U -n -d -e --nano --pcapng --duration --stats -t), and the one way a
// subcommand runs a capture with them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "capture/pipeline.hpp"
#include "capture/source.hpp"
#include "core/error.hpp"
#include "core/snaplen.hpp"
#include "filter/cbpf.hpp"
#include "output/sink_factory.hpp"

namespace capx::cli {

struct CaptureOptions {
	OutputOptions output;
	std::optional<std::uint64_t> count;
	std::uint32_t snaplen = kMaxSnaplen;
	std::optional<double> duration_seconds;
	std::optional<double> rotate_megabytes;
	bool stats = false;
	int dump_level = 0; // -d, -dd, -ddd
	std::string expression;                  // -e EXPR
	std::vector<std::string> expression_words; // trailing words

	// The filter expression from -e or the trailing words (not both).
	[[nodiscard]] Result<std::string> filter_expression() const;
	// Validates combinations and fills derived fields (snaplen 0 -> kMaxSnaplen...).
	[[nodiscard]] Result<void> finalize();
	PipelineOptions pipeline_options() const;
};

// A validator for options whose empty value would silently mean "not
// given" (`-i ""`, `--netns ""`, `--mark ""`, `-w ""`): such a value is a
// usage error (exit 2), worded the same for every option.
const CLI::Validator &non_empty();

// Number checks worded for people: "--count: '0' is not a positive
// number". CLI11's PositiveNumber / NonNegativeNumber print their bounds as
// doubles, the upper one as DBL_MAX in 309 digits.
const CLI::Validator &positive_number();
const CLI::Validator &non_negative_number();

// Adds the shared options to a capture subcommand (output, expression,
// limits, rotation).
void add_capture_options(CLI::App &app, CaptureOptions &options);

// The output part alone (-w -U --nano --pcapng --print -n -t), for every
// subcommand that writes packets, and the checks of its combinations.
void add_output_options(CLI::App &app, OutputOptions &options);
[[nodiscard]] Result<void> check_output_options(const OutputOptions &options);

// The filter expression as -e EXPR or trailing words, and the one way to
// merge them (both given is a usage error).
void add_expression_options(CLI::App &app, std::string &expression, std::vector<std::string> &words);
[[nodiscard]] Result<std::string> merge_expression(const std::string &expression, const std::vector<std::string> &words);

// -d/-dd/-ddd: prints `program` like tcpdump and returns true (the caller
// exits); false when no dump was asked for.
bool dump_if_asked(const CaptureOptions &options, const CbpfProgram &program);

// Builds the sink, runs the pipeline over `source`, prints the summary.
[[nodiscard]] Result<void> run_capture(const CaptureOptions &options, Source &source);

// What every capture command does once its arguments are parsed: with -d,
// prints the filter `compile()` returns (Result<CbpfProgram>) and stops;
// else runs the capture over the source `make()` returns
// (Result<std::unique_ptr<Source>>).
template <typename Compile, typename Make>
[[nodiscard]] Result<void> dump_or_capture(const CaptureOptions &options, Compile compile, Make make)
{
	if (options.dump_level > 0) {
		auto program = compile();
		if (!program)
			return std::unexpected(std::move(program.error()));
		dump_if_asked(options, *program);
		return {};
	}
	auto source = make();
	if (!source)
		return std::unexpected(std::move(source.error()));
	return run_capture(options, **source);
}

} // namespace capx::cli
