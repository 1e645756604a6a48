// SPDX-License-Identifier: GPL-2.0-only
// Writing files: one-line errors, whole records only when the disk says no
// (cut back with ftruncate), EPIPE flagged as an orderly end, no syscall
// per packet unless -U, standard output, and make_sink's choices.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/pcap_reader.hpp"
#include "output/file_output.hpp"
#include "output/file_sink.hpp"
#include "output/pcap_format.hpp"
#include "output/sink_factory.hpp"
#include "output_test_support.hpp"

using namespace capx;
using namespace capx::test;

namespace {

std::unique_ptr<Sink> pcap_sink(const std::string &path, bool write_through = false)
{
	return std::make_unique<FileSink>(std::make_unique<PcapFormat>(false),
					  FileSinkOptions{path, {}, write_through, {}});
}

std::uint64_t size_on_disk(const fs::path &p)
{
	struct stat st;
	REQUIRE(::stat(p.c_str(), &st) == 0);
	return static_cast<std::uint64_t>(st.st_size);
}

// Standard output redirected into a pipe for the scope's lifetime.
class CapturedStdout {
public:
	CapturedStdout()
	{
		int fds[2];
		REQUIRE(::pipe(fds) == 0);
		read_end_ = fds[0];
		saved_ = ::dup(STDOUT_FILENO);
		::dup2(fds[1], STDOUT_FILENO);
		::close(fds[1]);
	}
	~CapturedStdout() { restore(); ::close(read_end_); }

	std::vector<std::uint8_t> take()
	{
		restore();
		std::vector<std::uint8_t> out;
		std::uint8_t buf[4096];
		for (ssize_t n; (n = ::read(read_end_, buf, sizeof buf)) > 0;)
			out.insert(out.end(), buf, buf + n);
		return out;
	}

private:
	void restore()
	{
		if (saved_ >= 0) {
			::dup2(saved_, STDOUT_FILENO);
			::close(saved_);
			saved_ = -1;
		}
	}
	int read_end_ = -1;
	int saved_ = -1;
};

} // namespace

TEST_CASE("an unwritable path is a one-line error", "[output][file]")
{
	auto sink = pcap_sink("/nonexistent/x.pcap");
	CapturePoint point = ethernet_point();
	auto r = sink->begin({&point, 1});
	REQUIRE_FALSE(r);
	CHECK(r.error().message == "open /nonexistent/x.pcap: No such file or directory");
	CHECK_FALSE(r.error().orderly_end);
}

TEST_CASE("a full device is a one-line error", "[output][file]")
{
	auto sink = pcap_sink("/dev/full");
	CapturePoint point = ethernet_point();
	auto r = write_all(*sink, {&point, 1}, ethernet_samples());
	REQUIRE_FALSE(r);
	CHECK(r.error().message == "write /dev/full: No space left on device");
	CHECK(r.error().status == ExitStatus::Runtime);
	CHECK_FALSE(r.error().orderly_end);
}

TEST_CASE("a reader that went away is flagged orderly_end", "[output][file]")
{
	::signal(SIGPIPE, SIG_IGN); // as capx's stop::install() does
	int fds[2];
	REQUIRE(::pipe(fds) == 0);
	::close(fds[0]);
	auto out = FileOutput::adopt(UniqueFd(fds[1]), "pipe");
	REQUIRE(out);
	const std::uint8_t bytes[] = {1, 2, 3, 4};
	REQUIRE(out->append(bytes));
	auto r = out->flush();
	REQUIRE_FALSE(r);
	CHECK(r.error().orderly_end);
	CHECK(r.error().message == "write pipe: Broken pipe");
	// Closing after the failure does not try again.
	CHECK(out->close());
}

TEST_CASE("records are buffered: no write per packet unless -U", "[output][file]")
{
	TempDir dir;
	CapturePoint point = ethernet_point();
	auto packets = udp_series(1000, 100, 1'700'000'000'000'000'000ull, 1000);
	const std::uint64_t full = 24 + 1000 * (16 + 100);

	auto buffered = pcap_sink(dir / "buffered.pcap");
	REQUIRE(buffered->begin({&point, 1}));
	for (const auto &p : packets)
		REQUIRE(buffered->write(p.view()));
	CHECK(size_on_disk(dir / "buffered.pcap") == 0);
	REQUIRE(buffered->flush());
	CHECK(size_on_disk(dir / "buffered.pcap") == full);
	REQUIRE(buffered->finish());

	auto through = pcap_sink(dir / "through.pcap", true);
	REQUIRE(through->begin({&point, 1}));
	CHECK(size_on_disk(dir / "through.pcap") == 24);
	for (std::size_t i = 0; i < 10; i++) {
		REQUIRE(through->write(packets[i].view()));
		CHECK(size_on_disk(dir / "through.pcap") == 24 + (i + 1) * 116);
	}
	REQUIRE(through->finish());
}

TEST_CASE("at a batch end the buffer is written once it holds a chunk", "[output][file]")
{
	// capx ring ends a batch after each ring block it gave back: the file
	// then gets whole chunks of kChunkSize or more, never a write per block.
	TempDir dir;
	CapturePoint point = ethernet_point();
	auto packets = udp_series(2400, 100, 1'700'000'000'000'000'000ull, 1000);
	const std::size_t below = (FileOutput::kChunkSize - 24) / 116; // records that stay under a chunk
	REQUIRE(below + 100 < packets.size());

	auto sink = pcap_sink(dir / "chunks.pcap");
	REQUIRE(sink->begin({&point, 1}));
	for (std::size_t i = 0; i < below; i++)
		REQUIRE(sink->write(packets[i].view()));
	REQUIRE(sink->batch_end());
	CHECK(size_on_disk(dir / "chunks.pcap") == 0);
	for (std::size_t i = below; i < below + 100; i++)
		REQUIRE(sink->write(packets[i].view()));
	REQUIRE(sink->batch_end());
	const std::uint64_t written = 24 + (below + 100) * 116;
	CHECK(written >= FileOutput::kChunkSize);
	CHECK(size_on_disk(dir / "chunks.pcap") == written);
	// A few more records are less than a chunk: they wait.
	for (std::size_t i = below + 100; i < below + 110; i++)
		REQUIRE(sink->write(packets[i].view()));
	REQUIRE(sink->batch_end());
	CHECK(size_on_disk(dir / "chunks.pcap") == written);
	REQUIRE(sink->finish());
	CHECK(size_on_disk(dir / "chunks.pcap") == written + 10 * 116);
	auto reader = PcapReader::open(dir / "chunks.pcap");
	REQUIRE(reader);
	std::size_t n = 0;
	for (;;) {
		auto rec = reader->next();
		REQUIRE(rec);
		if (!rec->has_value())
			break;
		CHECK((*rec)->data == packets[n].bytes);
		n++;
	}
	CHECK(n == below + 110);
}

TEST_CASE("buffered records wait at most about a second for the next one", "[output][file]")
{
	TempDir dir;
	CapturePoint point = ethernet_point();
	auto packets = udp_series(2, 100, 1'700'000'000'000'000'000ull, 1000);
	auto sink = pcap_sink(dir / "trickle.pcap");
	REQUIRE(sink->begin({&point, 1}));
	REQUIRE(sink->write(packets[0].view()));
	CHECK(size_on_disk(dir / "trickle.pcap") == 0);
	::usleep(static_cast<useconds_t>(FileOutput::kMaxDelayMs * 1000 + 100'000));
	// No flush, no idle source: the next record pushes both out.
	REQUIRE(sink->write(packets[1].view()));
	CHECK(size_on_disk(dir / "trickle.pcap") == 24 + 2 * 116);
	REQUIRE(sink->finish());
}

TEST_CASE("a write cut short leaves whole records only (file size limit)", "[output][file]")
{
	// RLIMIT_FSIZE makes write(2) stop short and then fail with EFBIG, the
	// same shape as a disk filling up, without root. SIGXFSZ is ignored so
	// the error comes back as errno.
	TempDir dir;
	CapturePoint point = ethernet_point();
	auto packets = udp_series(200, 100, 1'700'000'000'000'000'000ull, 1000);
	const std::size_t limit = 10'000; // not a record boundary: (10000 - 24) % 116 != 0

	struct rlimit saved;
	REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
	auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
	struct rlimit small = saved;
	small.rlim_cur = limit;
	REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
	auto sink = pcap_sink(dir / "limited.pcap");
	auto r = write_all(*sink, {&point, 1}, packets);
	::setrlimit(RLIMIT_FSIZE, &saved);
	::signal(SIGXFSZ, old_handler);

	REQUIRE_FALSE(r);
	CHECK(r.error().message == "write " + (dir / "limited.pcap").string() + ": File too large");
	const std::uint64_t whole = (limit - 24) / 116;
	CHECK(size_on_disk(dir / "limited.pcap") == 24 + whole * 116);

	auto reader = PcapReader::open(dir / "limited.pcap");
	REQUIRE(reader);
	std::uint64_t n = 0;
	for (;;) {
		auto rec = reader->next();
		REQUIRE(rec); // never a truncated record
		if (!rec->has_value())
			break;
		CHECK((*rec)->data == packets[n].bytes);
		n++;
	}
	CHECK(n == whole);

	REQUIRE(have_program("tcpdump"));
	auto t = run({"tcpdump", "-r", dir / "limited.pcap", "-nn"});
	CHECK(t.status == 0);
	CHECK(lines(t.out).size() == whole);
	CHECK(t.err.find("truncated") == std::string::npos);
}

TEST_CASE("-w - writes pcap to standard output", "[output][file]")
{
	TempDir dir;
	CapturePoint point = ethernet_point();
	auto samples = ethernet_samples();
	REQUIRE(write_all(*pcap_sink(dir / "ref.pcap"), {&point, 1}, samples));

	OutputOptions o;
	o.path = "-";
	CapturedStdout captured;
	auto sink = make_sink(o);
	REQUIRE(sink);
	REQUIRE(write_all(**sink, {&point, 1}, samples));
	CHECK(captured.take() == read_bytes(dir / "ref.pcap"));
}

TEST_CASE("no -w and standard output not a terminal: pcap on standard output", "[output][file]")
{
	CapturePoint point = ethernet_point();
	OutputOptions o;
	CapturedStdout captured;
	auto sink = make_sink(o);
	REQUIRE(sink);
	REQUIRE(write_all(**sink, {&point, 1}, ethernet_samples()));
	auto bytes = captured.take();
	REQUIRE(bytes.size() > 4);
	CHECK(bytes[0] == 0xd4);
	CHECK(bytes[3] == 0xa1);
}

TEST_CASE("make_sink picks pcapng for --pcapng or a .pcapng name", "[output][file]")
{
	TempDir dir;
	CapturePoint point = ethernet_point();
	auto magic = [&](OutputOptions o) {
		auto sink = make_sink(o);
		REQUIRE(sink);
		REQUIRE(write_all(**sink, {&point, 1}, ethernet_samples()));
		auto bytes = read_bytes(o.path);
		REQUIRE(bytes.size() >= 4);
		return std::uint32_t(bytes[0]) | bytes[1] << 8 | bytes[2] << 16 | std::uint32_t(bytes[3]) << 24;
	};
	OutputOptions o;
	o.path = (dir / "a.pcap").string();
	CHECK(magic(o) == 0xa1b2c3d4);
	o.nano = true;
	CHECK(magic(o) == 0xa1b23c4d);
	o.nano = false;
	o.pcapng = true;
	CHECK(magic(o) == 0x0a0d0d0a);
	o.pcapng = false;
	o.path = (dir / "b.pcapng").string();
	CHECK(magic(o) == 0x0a0d0d0a);
}
