// SPDX-License-Identifier: GPL-2.0-only
// capx mbuf's process side against a real, running dpdk-testpmd (Debian's
// stock, stripped build) with two net_null ports: the burst functions found
// through rte_eth_fp_ops, checked by counting real uprobe hits on them
// (perf_event_open on the uprobe PMU), queue pointers, ports not started,
// symbols in the libraries it maps (and the drivers it dlopens), --binary.
//
// Needs root (process_vm_readv and uprobes on another process) and
// dpdk-testpmd; exits 77 with the reason otherwise. Every testpmd started
// here dies with the test (PR_SET_PDEATHSIG) or in its destructor.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "capture/mbuf/eth_fp_ops.hpp"
#include "capture/mbuf/mbuf_layout.hpp"
#include "capture/uprobe/symbols.hpp"
#include "core/unique_fd.hpp"
#include "readelf_oracle.hpp"

using namespace capx;
using namespace capx::mbuf;
using namespace capx::uprobe;
using namespace std::chrono_literals;

namespace {

constexpr const char *kTestpmd = "/usr/bin/dpdk-testpmd";

std::string base_name(const std::string &p)
{
	return p.substr(p.rfind('/') + 1);
}

// One dpdk-testpmd in interactive mode, driven through its stdin.
class Testpmd {
public:
	explicit Testpmd(const std::string &forward_mode)
	{
		int in[2];
		REQUIRE(pipe2(in, O_CLOEXEC) == 0);
		log_ = fmt::format("/tmp/capx-mbuf-testpmd-{}.log", getpid());
		prefix_ = fmt::format("capx-mbuf-{}", getpid());
		std::string prefix = "--file-prefix=" + prefix_;
		std::string mode = "--forward-mode=" + forward_mode;
		pid_ = fork();
		REQUIRE(pid_ >= 0);
		if (pid_ == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			dup2(in[0], 0);
			int out = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(out, 1);
			dup2(out, 2);
			execl(kTestpmd, kTestpmd, "--no-huge", "--no-pci", "-m", "512", prefix.c_str(), "-l",
			      "0-1", "--vdev", "net_null0", "--vdev", "net_null1", "--log-level=lib.eal:error", "--",
			      "--total-num-mbufs=4096", "--rxq=2", "--txq=2", mode.c_str(), "--auto-start", "-i",
			      static_cast<char *>(nullptr));
			_exit(127);
		}
		close(in[0]);
		stdin_.reset(in[1]);
	}
	~Testpmd() { stop(); }

	pid_t pid() const { return pid_; }
	void send(const std::string &command)
	{
		std::string line = command + "\n";
		REQUIRE(write(stdin_.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
	}
	void stop()
	{
		if (pid_ <= 0)
			return;
		kill(pid_, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
				pid_ = -1;
				break;
			}
			std::this_thread::sleep_for(50ms);
		}
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
			pid_ = -1;
		}
		stdin_.reset();
		unlink(log_.c_str());
		// EAL's runtime directory (eal_get_runtime_dir: /var/run/dpdk/PREFIX
		// for root) outlives the process.
		std::error_code ec;
		std::filesystem::remove_all("/var/run/dpdk/" + prefix_, ec);
	}
	// False once testpmd has exited (a bad option, a crash).
	bool alive()
	{
		if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == pid_)
			pid_ = -1;
		return pid_ > 0;
	}
	std::string log() const
	{
		std::ifstream in(log_);
		return std::string(std::istreambuf_iterator<char>(in), {});
	}

private:
	pid_t pid_ = -1;
	UniqueFd stdin_;
	std::string log_;
	std::string prefix_;
};

// Polls until `ready` holds; a busy machine can take a while to start
// DPDK's EAL.
template<typename F>
bool wait_for(F ready, std::chrono::seconds limit = 90s)
{
	auto end = std::chrono::steady_clock::now() + limit;
	while (std::chrono::steady_clock::now() < end) {
		if (ready())
			return true;
		std::this_thread::sleep_for(100ms);
	}
	return false;
}

// A counting uprobe on path:offset in every thread of one process (the
// uprobe PMU of perf_event_open(2): config1 the path, config2 the offset).
// A task-bound perf event counts only while its own thread runs, so there
// is one per thread (the forwarding lcore is not the main thread); they
// are removed when the fds close.
class UprobeCounter {
public:
	UprobeCounter(const std::string &path, std::uint64_t offset, pid_t pid)
	{
		std::ifstream type_file("/sys/bus/event_source/devices/uprobe/type");
		int type = -1;
		REQUIRE((type_file >> type));
		perf_event_attr attr{};
		attr.size = sizeof(attr);
		attr.type = static_cast<std::uint32_t>(type);
		attr.config1 = reinterpret_cast<std::uint64_t>(path.c_str());
		attr.config2 = offset;
		for (const auto &entry : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid))) {
			pid_t tid = std::stoi(entry.path().filename().string());
			int fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
			INFO("perf_event_open uprobe " << path << ":" << offset << ": " << std::strerror(errno));
			REQUIRE(fd >= 0);
			fds_.emplace_back(fd);
		}
		REQUIRE_FALSE(fds_.empty());
	}
	std::uint64_t hits() const
	{
		std::uint64_t total = 0;
		for (const UniqueFd &fd : fds_) {
			std::uint64_t n = 0;
			REQUIRE(read(fd.get(), &n, sizeof(n)) == sizeof(n));
			total += n;
		}
		return total;
	}

private:
	std::vector<UniqueFd> fds_;
};

} // namespace

TEST_CASE("testpmd: ports, queues and directions through rte_eth_fp_ops", "[mbuf][dpdk][root]")
{
	Testpmd pmd("rxonly");
	pid_t pid = pmd.pid();
	Result<PortBurst> rx0 = fail("not yet");
	bool ready = wait_for([&] {
		rx0 = locate_port_burst(pid, 0, std::nullopt, Direction::rx);
		return rx0.has_value() || !pmd.alive();
	}) && rx0.has_value();
	INFO(pmd.log());
	INFO((rx0 ? std::string() : rx0.error().message));
	REQUIRE(ready);

	// Both ports run net_null's burst functions, dlopened from the plugin
	// directory; Debian's PMDs have no symtab, so the place is an offset.
	CHECK(base_name(rx0->function.path).starts_with("librte_net_null.so.23"));
	CHECK(rx0->function.description == fmt::format("{}+{:#x}", base_name(rx0->function.path),
						       rx0->function.file_offset));
	auto tx0 = locate_port_burst(pid, 0, std::nullopt, Direction::tx);
	auto rx1 = locate_port_burst(pid, 1, std::nullopt, Direction::rx);
	auto tx1 = locate_port_burst(pid, 1, std::nullopt, Direction::tx);
	REQUIRE(tx0);
	REQUIRE(rx1);
	REQUIRE(tx1);
	CHECK(tx0->function.path == rx0->function.path);
	CHECK(tx0->function.file_offset != rx0->function.file_offset);
	CHECK(rx1->function.file_offset == rx0->function.file_offset);
	CHECK(tx1->function.file_offset == tx0->function.file_offset);

	// --rxq=2 --txq=2: two queue pointers each, all different.
	std::vector<std::uint64_t> all;
	for (const PortBurst *b : {&*rx0, &*tx0, &*rx1, &*tx1}) {
		REQUIRE(b->queue_ptrs.size() == 2);
		for (std::uint64_t q : b->queue_ptrs) {
			CHECK(q != 0);
			CHECK(std::find(all.begin(), all.end(), q) == all.end());
			all.push_back(q);
		}
	}

	// The functions found are the ones testpmd calls: in rxonly mode the rx
	// burst is hit all the time and the tx burst never.
	pmd.send("start");
	UprobeCounter rx_hits(rx0->function.path, rx0->function.file_offset, pid);
	UprobeCounter tx_hits(tx0->function.path, tx0->function.file_offset, pid);
	CHECK(wait_for([&] { return rx_hits.hits() > 100; }, 30s));
	CHECK(tx_hits.hits() == 0);

	// The same place given as LIB:0xOFFSET.
	auto target = target_from_pid(pid);
	REQUIRE(target);
	auto by_offset = locate(*target, fmt::format("librte_net_null:{:#x}", rx0->function.file_offset));
	REQUIRE(by_offset);
	CHECK(by_offset->path == rx0->function.path);
	CHECK(by_offset->file_offset == rx0->function.file_offset);

	// --queue Q keeps only that queue's pointer.
	auto q1 = locate_port_burst(pid, 0, 1, Direction::rx);
	REQUIRE(q1);
	CHECK(q1->queue_ptrs == std::vector<std::uint64_t>{0, rx0->queue_ptrs[1]});
	auto q2 = locate_port_burst(pid, 0, 2, Direction::rx);
	REQUIRE_FALSE(q2);
	CHECK(q2.error().message == fmt::format("--queue 2: port 0 of process {} has rx queues 0 to 1", pid));
	auto q64 = locate_port_burst(pid, 0, 64, Direction::tx);
	REQUIRE_FALSE(q64);
	CHECK(q64.error().message == "--queue 64: capx tells apart queues 0 to 63");

	// Ports that do not exist: not started as far as rte_eth_fp_ops
	// tells, or beyond RTE_MAX_ETHPORTS (Debian: 32).
	auto absent = locate_port_burst(pid, 5, std::nullopt, Direction::rx);
	REQUIRE_FALSE(absent);
	CHECK(absent.error().message == fmt::format("port 5 of process {} is not started", pid));
	CHECK(absent.error().hint.find("rte_eth_dev_start") != std::string::npos);
	auto beyond = locate_port_burst(pid, 40, std::nullopt, Direction::rx);
	REQUIRE_FALSE(beyond);
	CHECK(beyond.error().message == "--port 40: this DPDK has ports 0 to 31 (RTE_MAX_ETHPORTS 32)");

	// A stopped port points at DPDK's dummy burst function.
	pmd.send("stop");
	pmd.send("port stop 1");
	Result<PortBurst> stopped = fail("not yet");
	CHECK(wait_for([&] {
		stopped = locate_port_burst(pid, 1, std::nullopt, Direction::rx);
		return !stopped && stopped.error().message == fmt::format("port 1 of process {} is not started", pid);
	}, 30s));
	CHECK(locate_port_burst(pid, 0, std::nullopt, Direction::rx));

	pmd.stop();
	auto gone = locate_port_burst(pid, 0, std::nullopt, Direction::rx);
	REQUIRE_FALSE(gone);
	CHECK(gone.error().message == fmt::format("no process {}", pid));
}

TEST_CASE("testpmd: symbols in its libraries and dlopened drivers, layout, --binary", "[mbuf][dpdk][root]")
{
	Testpmd pmd("io");
	pid_t pid = pmd.pid();
	// Ready once the drivers are loaded and port 0 runs.
	bool ready = wait_for([&] {
		return locate_port_burst(pid, 0, std::nullopt, Direction::rx).has_value() || !pmd.alive();
	}) && pmd.alive();
	INFO(pmd.log());
	REQUIRE(ready);
	auto target = target_from_pid(pid);
	REQUIRE(target);

	for (const char *spec : {"rte_eth_call_rx_callbacks", "librte_ethdev:rte_eth_call_rx_callbacks",
				 "librte_ethdev.so.23:rte_eth_call_rx_callbacks"}) {
		INFO(spec);
		auto loc = locate(*target, spec);
		REQUIRE(loc);
		CHECK(base_name(loc->path).starts_with("librte_ethdev.so.23"));
		CHECK(loc->symbol == "rte_eth_call_rx_callbacks");
		CHECK(loc->file_offset == capx::test::readelf_function_offset(loc->path, "rte_eth_call_rx_callbacks"));
	}
	// Exported by a driver testpmd never links, only dlopens from
	// pmds-23.0/: visible through its maps alone.
	auto ring = locate(*target, "rte_eth_from_ring");
	REQUIRE(ring);
	CHECK(ring->path.find("/pmds-23.0/librte_net_ring.so") != std::string::npos);
	CHECK(ring->file_offset == capx::test::readelf_function_offset(ring->path, "rte_eth_from_ring"));

	auto typo = locate(*target, "rte_eth_call_rx_callback");
	REQUIRE_FALSE(typo);
	CHECK(typo.error().hint.find("rte_eth_call_rx_callbacks") != std::string::npos);

	auto layout = detect_layout(*target);
	REQUIRE(layout);
	CHECK(layout->name == "dpdk-22.11");

	// --binary finds the running testpmd by its executable's identity.
	auto binary = target_from_binary(kTestpmd);
	REQUIRE(binary);
	CHECK(std::find(binary->pids.begin(), binary->pids.end(), pid) != binary->pids.end());
	CHECK(binary->exe_dev == target->exe_dev);
	CHECK(binary->exe_inode == target->exe_inode);
	auto via_binary = locate(*binary, "rte_eth_from_ring");
	REQUIRE(via_binary);
}

TEST_CASE("a process in another mount namespace: its files through /proc/PID/root", "[mbuf][root]")
{
	// PATH names one file here and another in the target's mount
	// namespace (a container's view): capx must open the target's.
	std::string dir = fmt::format("/tmp/capx-mbuf-ns-{}", getpid());
	std::filesystem::create_directories(dir);
	std::string path = dir + "/prog", theirs = dir + "/theirs";
	std::filesystem::copy_file("/usr/bin/true", path, std::filesystem::copy_options::overwrite_existing);
	std::filesystem::copy_file("/usr/bin/sleep", theirs, std::filesystem::copy_options::overwrite_existing);
	std::string script = fmt::format("mount --bind {} {} && exec {} 60", theirs, path, path);
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/bin/unshare", "unshare", "-m", "--propagation", "private", "sh", "-c", script.c_str(),
		      static_cast<char *>(nullptr));
		_exit(127);
	}
	bool started = wait_for([&] {
		auto t = target_from_pid(child);
		return t && t->executable == path;
	}, 30s);
	auto target = target_from_pid(child);
	auto files = target ? target_files(*target) : Result<std::vector<std::string>>(fail("no target"));
	kill(child, SIGKILL);
	waitpid(child, nullptr, 0);
	std::error_code ec;
	std::filesystem::remove_all(dir, ec);
	REQUIRE(started);
	REQUIRE(files);
	CHECK(files->front() == fmt::format("/proc/{}/root{}", child, path));
}

int main(int argc, char **argv)
{
	if (geteuid() != 0) {
		std::printf("skip: needs root (process_vm_readv and uprobes on dpdk-testpmd)\n");
		return 77;
	}
	if (access(kTestpmd, X_OK) != 0) {
		std::printf("skip: %s is not installed (package dpdk)\n", kTestpmd);
		return 77;
	}
	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK) != 0) {
		std::printf("skip: this kernel has no uprobe PMU\n");
		return 77;
	}
	return Catch::Session().run(argc, argv);
}
