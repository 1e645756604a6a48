// SPDX-License-Identifier: GPL-2.0-only
// bpf/mbuf.bpf.c through mbuf::UprobeSet against a real DPDK process:
// tests/progs/mbuf_app (CAPX_MBUF_APP), which hands rte_mbufs (single and
// chained) to named functions and writes what it handed over to oracle
// pcaps and a counts file. Captures are compared with the oracles, the
// counters with the counts. Needs root (tests/unit/needs_main.cpp skips
// otherwise) and mbuf_app (built, and this test with it, when libdpdk is
// found).
#include <catch2/catch.hpp>

#include <pcap/pcap.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bpf/ring_buffer.hpp"
#include "capture/mbuf/mbuf_layout.hpp"
#include "capture/mbuf/mbuf_record.hpp"
#include "capture/uprobe/process.hpp"
#include "capture/uprobe/symbols.hpp"
#include "capture/mbuf/uprobe_set.hpp"
#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"
#include "tests/kernel/ring_records.hpp"

using namespace capx;
using namespace capx::mbuf;
using namespace capx::uprobe;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

const char *mbuf_app_path()
{
	const char *p = std::getenv("CAPX_MBUF_APP");
	return p && *p && access(p, X_OK) == 0 ? p : nullptr;
}

// A running mbuf_app: started with --go, so nothing is handed over before
// the probes are attached; its stdout read line by line.
class App {
public:
	explicit App(const std::vector<std::string> &extra)
	{
		char tmpl[] = "/tmp/capx-mbuf-uprobe-XXXXXX";
		REQUIRE(mkdtemp(tmpl));
		dir_ = tmpl;
		go_ = dir_ / "go";
		std::string cmd = std::string(mbuf_app_path()) + " --quiet --oracle " + dir_.string() + " --go " +
				  go_.string() + " --file-prefix capxuprobe" + std::to_string(getpid());
		for (const auto &e : extra)
			cmd += " " + e;
		pipe_ = popen(("exec " + cmd).c_str(), "r");
		REQUIRE(pipe_);
		for (std::string line; (line = next_line()) != "ready";) {
			REQUIRE(!line.empty());
			if (line.starts_with("pid "))
				pid_ = std::stoi(line.substr(4));
		}
		REQUIRE(pid_ > 0);
	}
	~App()
	{
		if (pipe_) {
			kill(pid_, SIGTERM);
			pclose(pipe_);
		}
		std::error_code ec;
		fs::remove_all(dir_, ec);
	}
	// It owns the pipe to the process: a copy would pclose it twice.
	App(const App &) = delete;
	App &operator=(const App &) = delete;
	pid_t pid() const { return pid_; }
	const fs::path &dir() const { return dir_; }
	void go() { std::ofstream(go_).put('\n'); }
	// Until it printed "done" (its rounds are over); returns its status.
	int wait_done()
	{
		while (next_line() != "done") {
			if (std::feof(pipe_))
				break;
		}
		int status = pclose(pipe_);
		pipe_ = nullptr;
		return status;
	}
	std::map<std::string, unsigned long> counts() const
	{
		std::map<std::string, unsigned long> m;
		std::ifstream in(dir_ / "counts");
		for (std::string line; std::getline(in, line);) {
			auto eq = line.find('=');
			if (eq != std::string::npos)
				m[line.substr(0, eq)] = std::stoul(line.substr(eq + 1));
		}
		return m;
	}

private:
	std::string next_line()
	{
		char buf[512];
		if (!std::fgets(buf, sizeof(buf), pipe_))
			return {};
		std::string s(buf);
		while (!s.empty() && s.back() == '\n')
			s.pop_back();
		return s;
	}
	fs::path dir_, go_;
	FILE *pipe_ = nullptr;
	pid_t pid_ = -1;
};

// The packets of a pcap file; with an expression, only those it matches
// (libpcap's own filter, the reference).
std::vector<Bytes> read_pcap(const fs::path &path, const std::string &expression = "")
{
	char err[PCAP_ERRBUF_SIZE];
	std::unique_ptr<pcap_t, decltype(&pcap_close)> p(pcap_open_offline(path.c_str(), err), &pcap_close);
	REQUIRE(p);
	struct bpf_program prog {};
	REQUIRE(pcap_compile(p.get(), &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0);
	std::vector<Bytes> out;
	struct pcap_pkthdr *h;
	const u_char *data;
	while (pcap_next_ex(p.get(), &h, &data) == 1) {
		if (pcap_offline_filter(&prog, h, data))
			out.emplace_back(data, data + h->caplen);
	}
	pcap_freecode(&prog);
	return out;
}

using Record = capx::test::RingRecord;

// The records as capx mbuf reads them: a batch record (a burst's matches,
// capx/mbuf_abi.h) split into its packets by mbuf::split_batch(), in the
// burst's order, each checked like a record of its own.
struct Collect : capx::test::CollectRecords {
	std::size_t batches = 0;
	bool on_record(std::span<const std::uint8_t> r) override
	{
		if (!is_batch(r))
			return CollectRecords::on_record(r);
		batches++;
		std::vector<std::span<const std::uint8_t>> packets;
		REQUIRE(split_batch(r, packets));
		for (auto p : packets)
			CollectRecords::on_record(p);
		return true;
	}
};

// Everything in the ring once the writer is done, in ring order; the batch
// records among them counted in *batches.
std::vector<Record> drain(bpf::RingBuffer &ring, std::size_t *batches = nullptr)
{
	Collect c;
	for (int i = 0; i < 4; i++) {
		REQUIRE(ring.poll(std::chrono::milliseconds(20), c));
		REQUIRE(ring.consume(c));
	}
	if (batches)
		*batches = c.batches;
	return std::move(c.records);
}

// The packets of probe `id`, in the order they came.
std::vector<Bytes> in_order(const std::vector<Record> &records, std::uint32_t id)
{
	std::vector<Bytes> out;
	for (const auto &r : records)
		if (r.event.probe_id == id)
			out.push_back(r.data);
	return out;
}

struct Filter {
	bpf::FilterBodies bodies;
	std::uint32_t bytes = CAPX_PACKET_BUF_SIZE;
};

Filter translate(const std::string &expression)
{
	Filter f;
	auto c = compile_filter(expression, kLinkEthernet);
	REQUIRE(c);
	auto t = translate_to_ebpf(c->cbpf, FilterAccess::Buffer);
	REQUIRE(t);
	f.bodies.buffer = t->insns;
	f.bytes = t->bytes_needed.value_or(CAPX_PACKET_BUF_SIZE);
	return f;
}

UprobeSpec spec(const Target &t, const char *symbol, capx_mbuf_probe_mode mode, std::uint8_t mbuf_arg,
		std::uint8_t count_arg = 0)
{
	auto where = locate(t, symbol);
	REQUIRE(where);
	UprobeSpec s;
	s.where = *where;
	s.name = symbol;
	s.config.mode = mode;
	s.config.mbuf_arg = mbuf_arg;
	s.config.count_arg = count_arg;
	return s;
}

std::multiset<Bytes> bytes_of(const std::vector<Record> &records, std::uint32_t probe_id)
{
	std::multiset<Bytes> out;
	for (const auto &r : records)
		if (r.event.probe_id == probe_id)
			out.insert(r.data);
	return out;
}

std::multiset<Bytes> as_set(const std::vector<Bytes> &v)
{
	return {v.begin(), v.end()};
}

// The first byte of a probed function in the process: int3 (0xcc) while a
// uprobe is on it (uprobes' install_breakpoint()), the file's byte after.
std::uint8_t code_byte(pid_t pid, const UprobeLocation &where)
{
	auto maps = ProcessMaps::read(pid);
	REQUIRE(maps);
	for (const Mapping &m : maps->mappings()) {
		if (!m.executable || fs::path(m.path) != fs::path(where.path) || where.file_offset < m.file_offset ||
		    where.file_offset >= m.file_offset + (m.end - m.start))
			continue;
		std::byte b{};
		REQUIRE(read_memory(pid, m.start + where.file_offset - m.file_offset, {&b, 1}));
		return static_cast<std::uint8_t>(b);
	}
	FAIL("no executable mapping of " << where.path << " holds " << where.file_offset);
	return 0;
}

// The runtime address of mbuf_app's `queue` (the static array it passes as
// the queue argument), from its symbol table and the load address.
std::uint64_t queue_address(pid_t pid)
{
	std::string cmd = std::string("nm ") + mbuf_app_path() + " | awk '$3 ~ /^queue\\./ {print $1}'";
	std::unique_ptr<FILE, int (*)(FILE *)> f(popen(cmd.c_str(), "r"), pclose);
	REQUIRE(f);
	char buf[64] = {};
	bool got = std::fgets(buf, sizeof(buf), f.get()) != nullptr;
	f.reset();
	REQUIRE(got);
	std::uint64_t value = std::strtoull(buf, nullptr, 16);
	auto maps = ProcessMaps::read(pid);
	REQUIRE(maps);
	auto exe = fs::canonical(mbuf_app_path());
	// e_type (ELF header offset 16): ET_EXEC symbols are addresses; ET_DYN
	// (PIE, Debian's default) ones are relative to the load address, where
	// the first PT_LOAD (vaddr 0, file offset 0) is mapped.
	std::uint16_t type = 0;
	std::ifstream(exe, std::ios::binary).seekg(16).read(reinterpret_cast<char *>(&type), sizeof(type));
	if (type == 2)
		return value;
	for (const Mapping &m : maps->mappings())
		if (fs::path(m.path) == exe && m.file_offset == 0)
			return m.start + value;
	FAIL("mbuf_app's executable is not mapped");
	return 0;
}

struct Session {
	std::unique_ptr<UprobeSet> set;
	std::optional<bpf::RingBuffer> ring;
};

Session start(const std::vector<UprobeSpec> &probes, const Target &t, const Filter &f, std::uint32_t snaplen = 0)
{
	auto layout = detect_layout(t);
	REQUIRE(layout);
	CaptureLimits limits;
	limits.filter_bytes = f.bytes;
	if (snaplen)
		limits.snaplen = snaplen;
	auto set = UprobeSet::make(probes, t, *layout, f.bodies, limits);
	if (!set)
		FAIL(set.error().message << " / " << set.error().hint);
	Session s;
	s.set = std::move(*set);
	auto ring = bpf::RingBuffer::open(s.set->events_map_fd());
	REQUIRE(ring);
	s.ring.emplace(std::move(*ring));
	return s;
}

capx_counters counters(const Session &s, std::uint32_t id)
{
	auto c = s.set->counters(id);
	REQUIRE(c);
	return *c;
}

} // namespace

TEST_CASE("every mbuf_app function's capture equals its oracle and the counters add up", "[mbuf]")
{
	REQUIRE(mbuf_app_path());
	App app({"--rounds", "60", "--burst-max", "12"});
	auto t = target_from_pid(app.pid());
	REQUIRE(t);
	std::vector<UprobeSpec> probes = {
		spec(*t, "capx_test_one", CAPX_MBUF_ONE, 1),
		spec(*t, "capx_test_burst", CAPX_MBUF_BURST, 2, 3),
		spec(*t, "capx_test_rx", CAPX_MBUF_BURST_RET, 2),
		spec(*t, "capx_test_not_mbuf", CAPX_MBUF_ONE, 1),
	};
	probes[2].config.direction = CAPX_EVENT_INBOUND;
	probes[1].config.has_port = 1;
	probes[1].config.port = 7;
	auto s = start(probes, *t, translate(""));
	for (const auto &p : probes)
		CHECK(code_byte(app.pid(), p.where) == 0xcc);
	app.go();
	REQUIRE(app.wait_done() == 0); // the not-mbufs did not crash it
	std::size_t batches = 0;
	auto records = drain(*s.ring, &batches);
	// The bursts' matches came in batch records (one per burst, more when
	// a chain or a packet elsewhere in its buffer is sent on its own).
	CHECK(batches > 0);
	auto n = app.counts();
	REQUIRE(n["rounds"] == 60);
	REQUIRE(n["chained"] > 0);

	const char *oracles[] = {"capx_test_one.pcap", "capx_test_burst.pcap", "capx_test_rx.pcap"};
	for (std::uint32_t id = 0; id < 3; id++) {
		INFO(probes[id].name);
		auto want = read_pcap(app.dir() / oracles[id]);
		CHECK(bytes_of(records, id) == as_set(want)); // chains come out whole
		// In the order the app handed them over: batches split in the
		// burst's order, a packet sent on its own after the batch of
		// those before it.
		CHECK(in_order(records, id) == want);
		auto c = counters(s, id);
		CHECK(c.mbufs == want.size());
		CHECK(c.captured == want.size());
		CHECK(c.filtered_out == 0);
		CHECK(c.malformed == 0);
		CHECK(c.truncated == 0);
		CHECK(c.errors == 0);
		CHECK(c.lost_ring_full == 0);
	}
	CHECK(counters(s, 0).hits == n["one_calls"]);
	CHECK(counters(s, 1).hits == n["burst_calls"]);
	CHECK(counters(s, 1).empty_bursts == n["burst_empty"]);
	CHECK(counters(s, 1).mbufs == n["burst_mbufs"]);
	// --ret: the count is what the function returned.
	CHECK(counters(s, 2).hits == n["rx_calls"]);
	CHECK(counters(s, 2).empty_bursts == n["rx_empty"]);
	CHECK(counters(s, 2).mbufs == n["rx_mbufs"]);
	// Random bytes and NULL: looked at, counted malformed, never copied.
	auto bad = counters(s, 3);
	CHECK(bad.hits == n["not_mbuf_calls"]);
	CHECK(bad.mbufs == n["not_mbuf_calls"]);
	CHECK(bad.malformed == n["not_mbuf_calls"]);
	CHECK(bad.captured == 0);
	CHECK(bytes_of(records, 3).empty());

	for (const auto &r : records) {
		const capx_event &e = r.event;
		CHECK(e.wire_len == r.data.size());
		CHECK(e.pid == static_cast<std::uint32_t>(app.pid()));
		CHECK((e.flags & CAPX_EVENT_HAS_TASK));
		CHECK((e.flags & CAPX_EVENT_HAS_PACKET_ID));
		CHECK(e.packet_id != 0);
		CHECK((e.flags & CAPX_EVENT_HAS_PORT));
		CHECK(!(e.flags & CAPX_EVENT_HAS_QUEUE));
		if (e.probe_id == 1)
			CHECK(e.port == 7);
		CHECK(((e.flags & CAPX_EVENT_INBOUND) != 0) == (e.probe_id == 2));
		CHECK(!(e.flags & CAPX_EVENT_OUTBOUND));
	}

	// Every uprobe gone with the set: the original code is back.
	s.ring.reset();
	s.set.reset();
}

TEST_CASE("a filter runs on the copied headers; the snaplen cuts the rest", "[mbuf]")
{
	REQUIRE(mbuf_app_path());
	const std::string expression = GENERATE(as<std::string>{}, "udp", "tcp and greater 200", "arp or vlan");
	INFO(expression);
	App app({"--rounds", "40"});
	auto t = target_from_pid(app.pid());
	REQUIRE(t);
	std::vector<UprobeSpec> probes = {
		spec(*t, "capx_test_one", CAPX_MBUF_ONE, 1),
		spec(*t, "capx_test_burst", CAPX_MBUF_BURST, 2, 3),
	};
	constexpr std::uint32_t kSnap = 64;
	auto s = start(probes, *t, translate(expression), kSnap);
	app.go();
	REQUIRE(app.wait_done() == 0);
	auto records = drain(*s.ring);
	const char *oracles[] = {"capx_test_one.pcap", "capx_test_burst.pcap"};
	for (std::uint32_t id = 0; id < 2; id++) {
		auto all = read_pcap(app.dir() / oracles[id]);
		auto want = read_pcap(app.dir() / oracles[id], expression);
		REQUIRE(!want.empty());
		REQUIRE(want.size() < all.size());
		std::vector<Bytes> prefixes;
		for (auto &w : want)
			prefixes.emplace_back(w.begin(), w.begin() + std::min<std::size_t>(w.size(), kSnap));
		CHECK(bytes_of(records, id) == as_set(prefixes));
		auto c = counters(s, id);
		CHECK(c.captured == want.size());
		CHECK(c.filtered_out == all.size() - want.size());
		CHECK(c.captured + c.filtered_out == c.mbufs);
		CHECK(c.truncated == 0); // cut by the user's snaplen, not by capx
	}
	for (const auto &r : records)
		CHECK(r.event.wire_len >= r.data.size());
}

TEST_CASE("queue pointers tell a probe's hits from others'; a wrong binary is never counted", "[mbuf]")
{
	REQUIRE(mbuf_app_path());
	App app({"--rounds", "30"});
	auto t = target_from_pid(app.pid());
	REQUIRE(t);
	std::uint64_t queue = queue_address(app.pid());
	std::vector<UprobeSpec> probes = {
		spec(*t, "capx_test_burst", CAPX_MBUF_BURST, 2, 3), // this queue, as index 1
		spec(*t, "capx_test_burst", CAPX_MBUF_BURST, 2, 3), // another queue only
		spec(*t, "capx_test_rx", CAPX_MBUF_BURST_RET, 2),   // this queue, as index 0
	};
	probes[0].config.queue_arg = 1;
	probes[0].config.nqueues = 3;
	probes[0].config.queue_ptrs[0] = queue + 64;
	probes[0].config.queue_ptrs[1] = queue;
	probes[1].config.queue_arg = 1;
	probes[1].config.nqueues = 1;
	probes[1].config.queue_ptrs[0] = queue + 64;
	probes[2].config.queue_arg = 1;
	probes[2].config.nqueues = 1;
	probes[2].config.queue_ptrs[0] = queue;
	auto s = start(probes, *t, translate(""));

	// --binary with an executable no process runs: attached everywhere,
	// counted nowhere.
	Target other = *t;
	other.by_binary = true;
	other.uprobe_pid = -1;
	other.exe_inode += 1;
	auto s2 = start({spec(*t, "capx_test_one", CAPX_MBUF_ONE, 1)}, other, translate(""));
	// --binary of mbuf_app itself: counted.
	Target same = *t;
	same.by_binary = true;
	same.uprobe_pid = -1;
	auto s3 = start({spec(*t, "capx_test_one", CAPX_MBUF_ONE, 1)}, same, translate(""));

	app.go();
	REQUIRE(app.wait_done() == 0);
	auto n = app.counts();
	auto records = drain(*s.ring);
	CHECK(counters(s, 0).hits == n["burst_calls"]);
	CHECK(counters(s, 0).mbufs == n["burst_mbufs"]);
	CHECK(counters(s, 0).captured == n["burst_mbufs"]);
	auto other_queue = counters(s, 1);
	CHECK(other_queue.hits == 0);
	CHECK(other_queue.mbufs == 0);
	CHECK(other_queue.empty_bursts == 0);
	CHECK(counters(s, 2).hits == n["rx_calls"]);
	CHECK(counters(s, 2).mbufs == n["rx_mbufs"]);
	for (const auto &r : records) {
		REQUIRE((r.event.flags & CAPX_EVENT_HAS_QUEUE));
		CHECK(r.event.queue == (r.event.probe_id == 0 ? 1u : 0u));
	}
	CHECK(counters(s2, 0).hits == 0);
	CHECK(counters(s3, 0).hits == n["one_calls"]);
	CHECK(counters(s3, 0).captured == n["one_calls"]);
}

TEST_CASE("the uprobes go with the set", "[mbuf]")
{
	REQUIRE(mbuf_app_path());
	App app({"--rounds", "5"});
	auto t = target_from_pid(app.pid());
	REQUIRE(t);
	std::vector<UprobeSpec> probes = {
		spec(*t, "capx_test_one", CAPX_MBUF_ONE, 1),
		spec(*t, "capx_test_rx", CAPX_MBUF_BURST_RET, 2),
	};
	auto before = code_byte(app.pid(), probes[0].where);
	REQUIRE(before != 0xcc);
	{
		auto s = start(probes, *t, translate(""));
		CHECK(code_byte(app.pid(), probes[0].where) == 0xcc);
		CHECK(code_byte(app.pid(), probes[1].where) == 0xcc);
	}
	CHECK(code_byte(app.pid(), probes[0].where) == before);
	CHECK(code_byte(app.pid(), probes[1].where) != 0xcc);
	app.go();
	CHECK(app.wait_done() == 0);
}

TEST_CASE("attach errors name the probe and the reason", "[mbuf]")
{
	REQUIRE(mbuf_app_path());
	App app({"--rounds", "1"});
	auto t = target_from_pid(app.pid());
	REQUIRE(t);
	auto layout = detect_layout(*t);
	REQUIRE(layout);
	Filter f = translate("");
	CaptureLimits limits;

	UprobeSpec good = spec(*t, "capx_test_one", CAPX_MBUF_ONE, 1);
	UprobeSpec missing = good;
	missing.name = "gone";
	missing.where.path = "/nonexistent/libgone.so";
	auto r = UprobeSet::make({good, missing}, *t, *layout, f.bodies, limits);
	REQUIRE(!r);
	CHECK_THAT(r.error().message, Catch::Contains("'gone'") && Catch::Contains("/nonexistent/libgone.so"));

	UprobeSpec far = good;
	far.name = "far";
	far.where.file_offset = 1ull << 40;
	r = UprobeSet::make({far}, *t, *layout, f.bodies, limits);
	REQUIRE(!r);
	CHECK_THAT(r.error().message, Catch::Contains("'far'"));

	UprobeSpec seventh = good;
	seventh.config.mbuf_arg = 7;
	r = UprobeSet::make({seventh}, *t, *layout, f.bodies, limits);
	REQUIRE(!r);
	CHECK_THAT(r.error().message, Catch::Contains("argument 7"));

	MbufLayout wide = *layout;
	wide.offsets.next = 200;
	r = UprobeSet::make({good}, *t, wide, f.bodies, limits);
	REQUIRE(!r);
	CHECK_THAT(r.error().message, Catch::Contains("next"));

	// Nothing stayed attached by the failed sets.
	CHECK(code_byte(app.pid(), good.where) != 0xcc);
	app.go();
	CHECK(app.wait_done() == 0);
}
