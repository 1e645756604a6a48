// SPDX-License-Identifier: GPL-2.0-only
// -t FLAGS: decode with tcpdump itself. capx runs `tcpdump -r - FLAGS...`
// (exec'd directly, no shell) and streams pcap into its standard input;
// finish() closes the pipe and waits for tcpdump to print the rest.
//
// Every record is written through at once, as with -U: this is a live view
// on a terminal, and a trickle of packets must not wait in a 1 MiB buffer
// (the pipeline flushes only when the source is idle). tcpdump's decoding
// costs far more per packet than the write(2), so it sets the pace anyway.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "output/file_output.hpp"
#include "output/pcap_format.hpp"
#include "output/sink.hpp"

namespace capx {

struct TcpdumpPipeOptions {
	std::string flags;                 // -t FLAGS, split by split_flag_words()
	bool nano = false;                 // --nano: hand tcpdump ns timestamps
	std::string program = "tcpdump";   // looked up in PATH
	int output_fd = STDOUT_FILENO;     // where tcpdump prints
};

// Splits FLAGS into words the way a shell would for plain words and quotes
// (whitespace separates; '...' is literal; "..." and \ escape), with no
// expansion of any kind: -t "-nn -e 'port 80'" gives -nn, -e, port 80.
[[nodiscard]] Result<std::vector<std::string>> split_flag_words(std::string_view flags);

class TcpdumpPipeSink final : public Sink {
public:
	explicit TcpdumpPipeSink(TcpdumpPipeOptions options);
	~TcpdumpPipeSink() override;
	TcpdumpPipeSink(const TcpdumpPipeSink &) = delete;
	TcpdumpPipeSink &operator=(const TcpdumpPipeSink &) = delete;

	// Starts tcpdump and sends it the pcap file header.
	[[nodiscard]] Result<void> begin(std::span<const CapturePoint> points) override;
	[[nodiscard]] Result<void> write(const PacketView &packet) override;
	[[nodiscard]] Result<void> flush() override;
	// Closes tcpdump's input and waits for it; its failure is ours.
	[[nodiscard]] Result<void> finish() override;

private:
	[[nodiscard]] Result<void> spawn(int read_end);
	// A write failed: if it was EPIPE because tcpdump died of an error,
	// that error says more than "Broken pipe".
	Error explain(Error e);
	[[nodiscard]] Result<void> wait_child();

	TcpdumpPipeOptions options_;
	PcapFormat format_;
	std::optional<FileOutput> pipe_;
	pid_t child_ = -1;
};

} // namespace capx
