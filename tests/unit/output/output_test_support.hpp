// SPDX-License-Identifier: GPL-2.0-only
// Shared by the output tests: sample packets with known bytes, a scratch
// directory, running tcpdump/tshark and reading what they print.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/packet.hpp"
#include "output/sink.hpp"

namespace capx::test {

namespace fs = std::filesystem;

// A directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
public:
	TempDir();
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	const fs::path &path() const { return path_; }
	fs::path operator/(const std::string &name) const { return path_ / name; }

private:
	fs::path path_;
};

// A packet with storage for its bytes, so tests can keep it around.
struct SamplePacket {
	std::vector<std::uint8_t> bytes;
	std::uint64_t timestamp_ns = 0;
	std::uint32_t wire_len = 0;
	std::uint32_t capture_point = 0;
	PacketMeta meta;
	std::string comm;    // storage behind meta.comm

	PacketView view() const;
};

// Ethernet frames with valid IPv4 headers: UDP 10.0.0.1:40000 -> 10.0.0.2:9
// "capx", ICMP echo 10.0.0.1 -> 10.0.0.2, and a TCP SYN captured short of
// its 1514 wire bytes. Times 1700000000.123456789 s and on.
std::vector<SamplePacket> ethernet_samples();
// An IPv4 UDP datagram with no link header (LINKTYPE_RAW).
SamplePacket raw_ipv4_sample();
// `n` UDP frames of `size` bytes, `step_ns` apart from `start_ns`.
std::vector<SamplePacket> udp_series(std::size_t n, std::size_t size, std::uint64_t start_ns, std::uint64_t step_ns);

CapturePoint ethernet_point(std::string name = "eth0");

std::vector<std::uint8_t> read_bytes(const fs::path &path);

struct RunResult {
	int status = -1; // exit status, or 128 + signal
	std::string out;
	std::string err;
};
// Runs argv[0] from PATH with no shell; stdin from /dev/null.
RunResult run(const std::vector<std::string> &argv);
bool have_program(const std::string &name);
std::vector<std::string> lines(const std::string &text);

} // namespace capx::test

namespace capx::test {

// Writes `packets` through `sink` from begin() to finish(); the first
// error, if any.
[[nodiscard]] Result<void> write_all(Sink &sink, std::span<const CapturePoint> points, const std::vector<SamplePacket> &packets);

// The golden file tests/data/golden/NAME. With CAPX_UPDATE_GOLDEN=1 in the
// environment, `actual` is stored there first (inspect it with tshark -V
// and tcpdump -xx before committing it).
fs::path golden_path(const std::string &name);
std::vector<std::uint8_t> golden(const std::string &name, const std::vector<std::uint8_t> &actual);

} // namespace capx::test
