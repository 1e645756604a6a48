// SPDX-License-Identifier: GPL-2.0-only
#include "output/sink_factory.hpp"

#include <unistd.h>

#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "output/pcapng_format.hpp"
#include "output/tcpdump_pipe_sink.hpp"
#include "output/tee_sink.hpp"
#include "output/text_sink.hpp"

namespace capx {

namespace {

bool ends_with_pcapng(const std::string &path)
{
	return path.ends_with(".pcapng");
}

std::unique_ptr<Sink> make_file_sink(const OutputOptions &o, std::string path)
{
	std::unique_ptr<RecordFormat> format;
	if (o.pcapng || ends_with_pcapng(path))
		format = std::make_unique<PcapngFormat>(PcapngIdentity::of_this_host());
	else
		format = std::make_unique<PcapFormat>(o.nano);
	FileSinkOptions fo;
	fo.path = std::move(path);
	fo.rotation = {o.rotate_bytes, o.rotate_seconds, o.file_limit};
	fo.write_through = o.unbuffered;
	return std::make_unique<FileSink>(std::move(format), std::move(fo));
}

} // namespace

[[nodiscard]] Result<std::unique_ptr<Sink>> make_sink(const OutputOptions &o)
{
	if (o.print) {
		if (o.path == "-")
			return fail_usage("--print and -w - would both write to standard output");
		if (o.tcpdump_flags)
			return fail_usage("--print uses capx's printer; -t uses tcpdump's: choose one");
		auto text = make_text_sink(STDOUT_FILENO, o.numeric);
		if (o.path.empty())
			return text;
		return std::make_unique<TeeSink>(make_file_sink(o, o.path), std::move(text));
	}
	if (!o.path.empty())
		return make_file_sink(o, o.path);
	if (o.tcpdump_flags) {
		TcpdumpPipeOptions to;
		to.flags = *o.tcpdump_flags;
		to.nano = o.nano;
		// Refuse bad quoting now, before anything is attached.
		if (auto words = split_flag_words(to.flags); !words)
			return std::unexpected(std::move(words.error()));
		return std::make_unique<TcpdumpPipeSink>(std::move(to));
	}
	// Nobody wants pcap bytes on a terminal; a pipe or a file does.
	if (::isatty(STDOUT_FILENO))
		return make_text_sink(STDOUT_FILENO, o.numeric);
	return make_file_sink(o, "-");
}

bool sink_shows_metadata(const OutputOptions &o)
{
	// The same choices as make_sink(), in the same order.
	if (o.print)
		return true;
	if (!o.path.empty())
		return o.pcapng || ends_with_pcapng(o.path);
	if (o.tcpdump_flags)
		return false;
	return ::isatty(STDOUT_FILENO) || o.pcapng;
}

} // namespace capx
