// SPDX-License-Identifier: GPL-2.0-only
#include "output_test_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "core/snaplen.hpp"

extern char **environ;

namespace capx::test {

TempDir::TempDir()
{
	const char *base = std::getenv("TMPDIR");
	std::string tmpl = std::string(base && *base ? base : "/tmp") + "/capx-output-test.XXXXXX";
	if (!::mkdtemp(tmpl.data()))
		throw std::runtime_error("mkdtemp failed");
	path_ = tmpl;
}

TempDir::~TempDir()
{
	std::error_code ec;
	fs::remove_all(path_, ec);
}

PacketView SamplePacket::view() const
{
	PacketView v;
	v.timestamp_ns = timestamp_ns;
	v.wire_len = wire_len;
	v.data = bytes;
	v.capture_point = capture_point;
	v.meta = meta;
	v.meta.comm = comm;
	return v;
}

namespace {

std::uint16_t ip_checksum(const std::uint8_t *p, std::size_t n)
{
	std::uint32_t sum = 0;
	for (std::size_t i = 0; i + 1 < n; i += 2)
		sum += std::uint32_t(p[i]) << 8 | p[i + 1];
	if (n & 1)
		sum += std::uint32_t(p[n - 1]) << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<std::uint16_t>(~sum);
}

void put16(std::vector<std::uint8_t> &v, std::size_t at, std::uint16_t x)
{
	v[at] = static_cast<std::uint8_t>(x >> 8);
	v[at + 1] = static_cast<std::uint8_t>(x);
}

// IPv4 header (20 bytes) + `l4`, from 10.0.0.1 to 10.0.0.2.
std::vector<std::uint8_t> ipv4(std::uint8_t proto, std::vector<std::uint8_t> l4, std::uint16_t total_len = 0)
{
	std::vector<std::uint8_t> ip = {0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
	put16(ip, 2, total_len ? total_len : static_cast<std::uint16_t>(20 + l4.size()));
	put16(ip, 10, ip_checksum(ip.data(), ip.size()));
	ip.insert(ip.end(), l4.begin(), l4.end());
	return ip;
}

std::vector<std::uint8_t> udp_capx(std::size_t payload_len = 4)
{
	std::vector<std::uint8_t> udp = {0x9c, 0x40, 0x00, 0x09, 0, 0, 0, 0}; // 40000 -> 9, checksum 0 (none)
	for (std::size_t i = 0; i < payload_len; i++)
		udp.push_back(static_cast<std::uint8_t>("capx"[i % 4]));
	put16(udp, 4, static_cast<std::uint16_t>(udp.size()));
	return udp;
}

std::vector<std::uint8_t> ethernet(std::vector<std::uint8_t> payload)
{
	std::vector<std::uint8_t> f = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
	f.insert(f.end(), payload.begin(), payload.end());
	return f;
}

SamplePacket sample(std::vector<std::uint8_t> bytes, std::uint64_t ts, std::uint32_t wire_len = 0)
{
	SamplePacket s;
	s.wire_len = wire_len ? wire_len : static_cast<std::uint32_t>(bytes.size());
	s.bytes = std::move(bytes);
	s.timestamp_ns = ts;
	return s;
}

} // namespace

std::vector<SamplePacket> ethernet_samples()
{
	std::vector<std::uint8_t> icmp = {8, 0, 0, 0, 0x00, 0x2a, 0x00, 0x01, 'p', 'i', 'n', 'g'};
	put16(icmp, 2, ip_checksum(icmp.data(), icmp.size()));
	// TCP SYN 40001 -> 80, seq 1, window 65535; the frame was 1514 bytes.
	std::vector<std::uint8_t> tcp = {0x9c, 0x41, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
	return {
		sample(ethernet(ipv4(17, udp_capx())), 1'700'000'000'123'456'789ull),
		sample(ethernet(ipv4(1, icmp)), 1'700'000'001'000'000'999ull),
		sample(ethernet(ipv4(6, tcp, 1500)), 1'700'000'002'999'999'001ull, 1514),
	};
}

SamplePacket raw_ipv4_sample()
{
	return sample(ipv4(17, udp_capx()), 1'700'000'003'000'000'500ull);
}

std::vector<SamplePacket> udp_series(std::size_t n, std::size_t size, std::uint64_t start_ns, std::uint64_t step_ns)
{
	std::vector<SamplePacket> out;
	const std::size_t headers = 14 + 20 + 8;
	for (std::size_t i = 0; i < n; i++)
		out.push_back(sample(ethernet(ipv4(17, udp_capx(size > headers ? size - headers : 0))),
				     start_ns + i * step_ns));
	return out;
}

CapturePoint ethernet_point(std::string name)
{
	CapturePoint p;
	p.name = std::move(name);
	p.linktype = kLinkEthernet;
	p.snaplen = kMaxSnaplen;
	return p;
}

std::vector<std::uint8_t> read_bytes(const fs::path &path)
{
	std::ifstream in(path, std::ios::binary);
	return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

RunResult run(const std::vector<std::string> &argv)
{
	TempDir dir;
	std::string out_path = dir / "stdout", err_path = dir / "stderr";
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	std::vector<std::string> args = argv;
	std::vector<char *> cargv;
	for (auto &a : args)
		cargv.push_back(a.data());
	cargv.push_back(nullptr);
	pid_t pid;
	RunResult r;
	int err = ::posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err != 0) {
		r.status = 127;
		return r;
	}
	int status = 0;
	while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	auto out = read_bytes(out_path), errb = read_bytes(err_path);
	r.out.assign(out.begin(), out.end());
	r.err.assign(errb.begin(), errb.end());
	return r;
}

bool have_program(const std::string &name)
{
	return run({"sh", "-c", "command -v " + name}).status == 0;
}

std::vector<std::string> lines(const std::string &text)
{
	std::vector<std::string> out;
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);)
		out.push_back(line);
	return out;
}

} // namespace capx::test

namespace capx::test {

[[nodiscard]] Result<void> write_all(Sink &sink, std::span<const CapturePoint> points, const std::vector<SamplePacket> &packets)
{
	if (auto r = sink.begin(points); !r)
		return r;
	for (const auto &p : packets)
		if (auto r = sink.write(p.view()); !r)
			return r;
	return sink.finish();
}

fs::path golden_path(const std::string &name)
{
	const char *data = std::getenv("CAPX_TEST_DATA");
	return fs::path(data ? data : "tests/data") / "golden" / name;
}

std::vector<std::uint8_t> golden(const std::string &name, const std::vector<std::uint8_t> &actual)
{
	fs::path path = golden_path(name);
	const char *update = std::getenv("CAPX_UPDATE_GOLDEN");
	if (update && std::string(update) == "1") {
		std::ofstream out(path, std::ios::binary | std::ios::trunc);
		out.write(reinterpret_cast<const char *>(actual.data()), static_cast<std::streamsize>(actual.size()));
	}
	return read_bytes(path);
}

} // namespace capx::test
