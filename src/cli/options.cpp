// SPDX-License-Identifier: GPL-2.0-only
#include "cli/options.hpp"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/snaplen.hpp"

namespace capx::cli {

const CLI::Validator &non_empty()
{
	// CLI11 runs validators on "" too (Option::_validate skips only options
	// that take no value) and reports "--NAME: MESSAGE" as a parse error.
	static const CLI::Validator validator(
		[](std::string &value) {
			return value.empty() ? std::string("an empty value is not allowed (leave the option out instead)")
					     : std::string();
		},
		"", "non_empty");
	return validator;
}

namespace {

// One number check for positive_number() and non_negative_number(): the
// whole value must parse as a finite number (std::from_chars, so no
// leading space, "+", "inf" or "nan") above, or with zero allowed at, 0.
CLI::Validator number_check(bool zero_allowed)
{
	return CLI::Validator(
		[zero_allowed](std::string &value) {
			double number = 0;
			const char *end = value.data() + value.size();
			auto [stop, error] = std::from_chars(value.data(), end, number);
			bool ok = error == std::errc() && stop == end && std::isfinite(number) &&
				  (number > 0 || (zero_allowed && number == 0));
			if (ok)
				return std::string();
			return fmt::format("'{}' is not a {} number", value, zero_allowed ? "non-negative" : "positive");
		},
		"", zero_allowed ? "non_negative_number" : "positive_number");
}

} // namespace

const CLI::Validator &positive_number()
{
	static const CLI::Validator validator = number_check(false);
	return validator;
}

const CLI::Validator &non_negative_number()
{
	static const CLI::Validator validator = number_check(true);
	return validator;
}

void add_capture_options(CLI::App &app, CaptureOptions &o)
{
	add_output_options(app, o.output);
	app.add_option("-c,--count", o.count, "Exit after writing N packets")
		->type_name("N")->check(positive_number());
	app.add_option("-s,--snapshot-length", o.snaplen,
		       fmt::format("Keep at most SNAPLEN bytes of each packet (0 = {}, like tcpdump)", kMaxSnaplen))
		->type_name("SNAPLEN");
	app.add_option("-C,--file-size", o.rotate_megabytes,
		       "Start a new file when the current one exceeds MB millions of bytes (needs -w)")
		->type_name("MB")->check(positive_number());
	app.add_option("-G,--rotate-seconds", o.output.rotate_seconds,
		       "Start a new file every SECONDS; -w is a strftime(3) pattern")
		->type_name("SECONDS")->check(positive_number());
	app.add_option("-W,--file-count", o.output.file_limit,
		       "With -C: keep a ring of N files; with -G alone: stop after N files")
		->type_name("N")->check(positive_number());
	app.add_option("--duration", o.duration_seconds, "Stop after SECONDS")
		->type_name("SECONDS")->check(positive_number());
	app.add_flag("--stats", o.stats,
		     "Show a live status line (rate, drops) on stderr, with the counters of each capture point "
		     "under it where the source has them (capx skb: per probe)");
	app.add_flag("-d", o.dump_level,
		     "Print the compiled filter and exit (-dd: as C array, -ddd: as decimal)");
	add_expression_options(app, o.expression, o.expression_words);
}

void add_output_options(CLI::App &app, OutputOptions &o)
{
	app.add_option("-w,--write", o.path,
		       "Write packets to FILE as pcap ('-' is stdout; a .pcapng name selects pcapng)")
		->type_name("FILE")->check(non_empty());
	app.add_flag("-U,--packet-buffered", o.unbuffered,
		     "Write each packet out as soon as it is captured");
	app.add_flag("--nano", o.nano, "pcap with nanosecond timestamps");
	app.add_flag("--pcapng", o.pcapng, "Write pcapng instead of pcap");
	app.add_flag("--print", o.print,
		     "Print decoded packets on stdout even when it is not a terminal, and also with -w");
	app.add_flag("-n", o.numeric, "Do not resolve addresses or ports when printing");
	app.add_option("-t,--tcpdump", o.tcpdump_flags,
		       "Decode with `tcpdump -r - FLAGS` instead of capx's own printer")
		->type_name("FLAGS");
}

[[nodiscard]] Result<void> check_output_options(const OutputOptions &o)
{
	if (o.tcpdump_flags && !o.path.empty())
		return fail_usage("-t decodes on the terminal; it cannot be combined with -w");
	if (o.nano && o.pcapng)
		return fail_usage("--nano applies to pcap; pcapng always records nanoseconds");
	return {};
}

void add_expression_options(CLI::App &app, std::string &expression, std::vector<std::string> &words)
{
	app.add_option("-e,--expression", expression, "Filter expression (pcap-filter(7))")
		->type_name("EXPR");
	app.add_option("expression_words", words, "Filter expression, as trailing words like tcpdump's")
		->type_name("EXPR");
}

[[nodiscard]] Result<std::string> merge_expression(const std::string &expression, const std::vector<std::string> &words)
{
	if (!expression.empty() && !words.empty())
		return fail_usage("give the filter either with -e or as trailing words, not both");
	if (!expression.empty())
		return expression;
	return join_expression(words);
}

[[nodiscard]] Result<std::string> CaptureOptions::filter_expression() const
{
	return merge_expression(expression, expression_words);
}

[[nodiscard]] Result<void> CaptureOptions::finalize()
{
	if (snaplen == 0)
		snaplen = kMaxSnaplen;
	if (rotate_megabytes) {
		if (output.path.empty() || output.path == "-")
			return fail_usage("-C needs -w FILE");
		output.rotate_bytes = static_cast<std::uint64_t>(std::llround(*rotate_megabytes * 1e6));
	}
	if (output.rotate_seconds && (output.path.empty() || output.path == "-"))
		return fail_usage("-G needs -w FILE");
	if (output.file_limit && !rotate_megabytes && !output.rotate_seconds)
		return fail_usage("-W needs -C or -G");
	return check_output_options(output);
}

PipelineOptions CaptureOptions::pipeline_options() const
{
	PipelineOptions p;
	p.count = count;
	if (duration_seconds)
		p.duration = std::chrono::milliseconds(std::llround(*duration_seconds * 1000.0));
	p.unbuffered = output.unbuffered;
	p.live_status = stats || (::isatty(STDERR_FILENO) && !output.path.empty());
	return p;
}

bool dump_if_asked(const CaptureOptions &options, const CbpfProgram &program)
{
	if (options.dump_level <= 0)
		return false;
	fmt::print("{}", dump_cbpf(program, options.dump_level));
	std::fflush(stdout);
	return true;
}

[[nodiscard]] Result<void> run_capture(const CaptureOptions &options, Source &source)
{
	auto sink = make_sink(options.output);
	if (!sink)
		return std::unexpected(std::move(sink.error()));
	auto summary = run_pipeline(source, **sink, options.pipeline_options());
	if (!summary)
		return std::unexpected(std::move(summary.error()));
	print_summary(*summary);
	return {};
}

} // namespace capx::cli
