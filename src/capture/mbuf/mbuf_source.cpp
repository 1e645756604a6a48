// SPDX-License-Identifier: GPL-2.0-only
// MbufSource: the uprobes of one `capx mbuf` session, the one ring buffer
// they all write to, and the processes they watch.
#include "capture/mbuf/mbuf_source.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "bpf/capture_maps.hpp"
#include "bpf/ring_buffer.hpp"
#include "capture/bpf_ring_source.hpp"
#include "capture/mbuf/eth_fp_ops.hpp"
#include "capture/mbuf/mbuf_filter.hpp"
#include "capture/mbuf/mbuf_layout.hpp"
#include "capture/mbuf/mbuf_record.hpp"
#include "capture/uprobe/process.hpp"
#include "capture/uprobe/symbols.hpp"
#include "capture/mbuf/uprobe_set.hpp"
#include "capx/event.h"
#include "capx/mbuf_abi.h"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "filter/compiled_filter.hpp"

namespace capx::mbuf {

namespace {

// The arguments of DPDK's driver burst functions, eth_rx_burst_t and
// eth_tx_burst_t (lib/ethdev/rte_ethdev_core.h): (void *rxq|txq, struct
// rte_mbuf **pkts, uint16_t nb_pkts), returning how many were received or
// sent.
constexpr std::uint8_t kBurstQueueArg = 1;
constexpr std::uint8_t kBurstArrayArg = 2;
constexpr std::uint8_t kBurstCountArg = 3;

// Watches the target processes through pidfds (pidfd_open(2), Linux 5.3):
// a pidfd is readable once its process has exited, whoever reaps it.
class ProcessWatch {
public:
	// Starts watching `pid`; false when it is already gone.
	bool add(pid_t pid)
	{
		if (std::any_of(watched_.begin(), watched_.end(), [pid](const Watched &w) { return w.pid == pid; }) ||
		    std::find(exited_.begin(), exited_.end(), pid) != exited_.end())
			return true;
		int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
		if (fd < 0)
			return false;
		watched_.push_back({pid, UniqueFd(fd)});
		return true;
	}

	bool seen(pid_t pid) const
	{
		return std::any_of(watched_.begin(), watched_.end(), [pid](const Watched &w) { return w.pid == pid; }) ||
		       std::find(exited_.begin(), exited_.end(), pid) != exited_.end();
	}

	// Notes which processes exited since the last call; true when every
	// watched process has (and there was one). While some still run, the
	// exits are said at once; the last ones are left to say_exits().
	bool check()
	{
		for (auto it = watched_.begin(); it != watched_.end();) {
			struct pollfd p{it->fd.get(), POLLIN, 0};
			if (::poll(&p, 1, 0) > 0) {
				unsaid_.push_back(it->pid);
				exited_.push_back(it->pid);
				it = watched_.erase(it);
			} else {
				++it;
			}
		}
		bool all = watched_.empty() && !exited_.empty();
		if (!all)
			say_exits();
		return all;
	}

	void say_exits()
	{
		for (pid_t pid : unsaid_)
			spdlog::info("process {} exited", pid);
		unsaid_.clear();
	}

private:
	struct Watched {
		pid_t pid;
		UniqueFd fd;
	};
	std::vector<Watched> watched_;
	std::vector<pid_t> exited_;
	std::vector<pid_t> unsaid_;
};

class MbufSourceImpl final : public BpfRingSource {
public:
	MbufSourceImpl(std::unique_ptr<BpfProbes> probes, bpf::RingBuffer ring, std::vector<CapturePoint> points,
		       RecordConverter converter, ProcessWatch watch, bool follow_new)
		: BpfRingSource(std::move(probes), std::move(ring), std::move(points)), converter_(std::move(converter)),
		  watch_(std::move(watch)), follow_new_(follow_new)
	{
	}

	[[nodiscard]] Result<SourceStats> stats() override
	{
		// The capture ended because the targets exited: said here, where
		// the pipeline has erased its status line (--stats) and is about
		// to print the summary, so the line is neither erased nor mixed in.
		if (exhausted())
			watch_.say_exits();
		return BpfRingSource::stats();
	}

private:
	bool ending() override { return watch_.check(); }

	ProbeTally tally(const CapturePoint &point, const capx_counters &c) const override
	{
		ProbeTally t;
		// As in capx skb (and tcpdump on Linux): "received by filter"
		// counts what passed the filter, kept or lost; lost packets count
		// as dropped. Malformed mbufs never reach the filter and are no
		// packets: they show on the probe's line only.
		const std::uint64_t lost = c.lost_ring_full + c.lost_busy + c.errors;
		t.received = c.mbufs - std::min(c.mbufs, c.filtered_out + c.malformed);
		t.dropped = lost;
		t.line = fmt::format("{}: hits {}, empty bursts {}, mbufs {}, filtered out {}, captured {}, lost {}, "
				     "malformed {}",
				     point.name, c.hits, c.empty_bursts, c.mbufs, c.filtered_out, c.captured, lost,
				     c.malformed);
		if (c.truncated)
			t.line += fmt::format(", truncated {}", c.truncated);
		return t;
	}

	bool on_record(std::span<const std::uint8_t> record) override
	{
		if (!is_batch(record))
			return on_packet_record(record);
		// A burst's packets in one record (capx/mbuf_abi.h).
		if (!split_batch(record, batch_)) {
			(void)usable(nullptr);
			return true;
		}
		for (auto packet : batch_) {
			if (!on_packet_record(packet))
				return false;
		}
		return true;
	}

	bool on_packet_record(std::span<const std::uint8_t> record)
	{
		auto converted = converter_.convert(record);
		if (!usable(converted ? &converted->packet : nullptr))
			return true;
		// --binary: a process that started after capx did is watched
		// from its first packet on.
		if (follow_new_ && converted->pid && !watch_.seen(*converted->pid))
			watch_.add(*converted->pid);
		return deliver(converted->packet);
	}

	RecordConverter converter_;
	std::vector<std::span<const std::uint8_t>> batch_; // split_batch()'s, kept for its capacity
	ProcessWatch watch_;
	bool follow_new_;
};

[[nodiscard]] Result<pid_t> port_process(const MbufConfig &config, const uprobe::Target &target)
{
	if (config.pid)
		return *config.pid;
	if (target.pids.size() == 1)
		return target.pids.front();
	if (target.pids.empty())
		return fail(fmt::format("--port reads the port's burst functions from a running process: no process "
					"runs {}",
					target.executable),
			    "start the DPDK application first, or probe functions by name with -f");
	std::string pids;
	for (pid_t p : target.pids)
		pids += fmt::format("{}{}", pids.empty() ? "" : " ", p);
	return fail(fmt::format("--port needs one process: {} processes run {} ({})", target.pids.size(),
				target.executable, pids),
		    "choose one with --pid");
}

[[nodiscard]] Result<std::vector<UprobeSpec>> port_probes(const MbufConfig &config, const uprobe::Target &target)
{
	auto pid = port_process(config, target);
	if (!pid)
		return std::unexpected(std::move(pid.error()));
	Direction direction = config.rx ? Direction::rx : Direction::tx;
	auto burst = locate_port_burst(*pid, *config.port, config.queue, direction);
	if (!burst)
		return std::unexpected(std::move(burst.error()));
	if (burst->queue_ptrs.size() > CAPX_MBUF_MAX_QUEUES)
		return fail(fmt::format("port {} has {} queues; capx mbuf tells at most {} apart", *config.port,
					burst->queue_ptrs.size(), CAPX_MBUF_MAX_QUEUES),
			    "choose one with --queue");

	UprobeSpec spec;
	spec.where = std::move(burst->function);
	capx_mbuf_probe &c = spec.config;
	// rx: the array is filled by the call, so it is read at return with
	// the count it returned; tx: the application's array, read on entry
	// (offered to the driver, not necessarily sent).
	c.mode = config.rx ? CAPX_MBUF_BURST_RET : CAPX_MBUF_BURST;
	c.mbuf_arg = kBurstArrayArg;
	c.count_arg = config.rx ? 0 : kBurstCountArg;
	c.queue_arg = kBurstQueueArg;
	c.direction = config.rx ? CAPX_EVENT_INBOUND : CAPX_EVENT_OUTBOUND;
	c.port = *config.port;
	c.has_port = 1;
	c.nqueues = static_cast<capx_u32>(burst->queue_ptrs.size());
	std::copy(burst->queue_ptrs.begin(), burst->queue_ptrs.end(), c.queue_ptrs);
	spec.name = fmt::format("port{}-{}", *config.port, config.rx ? "rx" : "tx");
	if (config.queue)
		spec.name += fmt::format("-q{}", *config.queue);
	return std::vector<UprobeSpec>{std::move(spec)};
}

[[nodiscard]] Result<std::vector<UprobeSpec>> symbol_probes(const MbufConfig &config, const uprobe::Target &target)
{
	std::vector<UprobeSpec> out;
	for (const MbufProbeSpec &s : config.probes) {
		auto where = uprobe::locate(target, s.where);
		if (!where)
			return std::unexpected(std::move(where.error()));
		UprobeSpec spec;
		spec.where = std::move(*where);
		capx_mbuf_probe &c = spec.config;
		// --ret: every probe is a burst read at return whose count is the
		// return value; an @M given with it is not used (documented in
		// capx-mbuf(8)), so one spec serves both ways.
		if (config.on_return)
			c.mode = CAPX_MBUF_BURST_RET;
		else
			c.mode = s.count_arg ? CAPX_MBUF_BURST : CAPX_MBUF_ONE;
		c.mbuf_arg = s.mbuf_arg;
		c.count_arg = config.on_return ? 0 : s.count_arg;
		spec.name = s.text;
		out.push_back(std::move(spec));
	}
	return out;
}

} // namespace

[[nodiscard]] Result<void> check_config(const MbufConfig &c)
{
	if (c.pid && !c.binary.empty())
		return fail_usage("--pid and --binary both given: give one", "--pid PID captures in one process, "
									       "--binary PATH in every process running PATH");
	if (!c.pid && c.binary.empty())
		return fail_usage("no target: --pid PID or --binary PATH is required",
				  "e.g. capx mbuf --pid $(pidof dpdk-testpmd) --port 0 --rx");
	if (c.pid && *c.pid <= 0)
		return fail_usage(fmt::format("--pid {}: not a process id", *c.pid));
	bool by_port = c.port.has_value();
	if (by_port && !c.probes.empty())
		return fail_usage("-f and --port both given: probe functions by name or a port's burst functions, "
				  "not both");
	if (!by_port && c.probes.empty())
		return fail_usage("nothing to probe: -f SPEC or --port P --rx|--tx is required",
				  "e.g. capx mbuf --pid PID -f rte_eth_call_rx_callbacks@3@4, or --port 0 --rx");
	if (c.queue && !by_port)
		return fail_usage("--queue needs --port");
	if ((c.rx || c.tx) && !by_port)
		return fail_usage(fmt::format("--{} needs --port", c.rx ? "rx" : "tx"),
				  "-f probes take their direction from the function they name");
	if (c.rx && c.tx)
		return fail_usage("--rx and --tx both given: one direction per capture",
				  "run two captures, or probe by name with -f");
	if (by_port && !c.rx && !c.tx)
		return fail_usage("--port needs --rx or --tx");
	if (by_port && c.on_return)
		return fail_usage("--ret applies to -f probes", "--port --rx already reads the burst at return");
	return {};
}

[[nodiscard]] Result<std::unique_ptr<Source>> MbufSource::make(const MbufConfig &config)
{
	if (auto r = check_config(config); !r)
		return std::unexpected(std::move(r.error()));

	auto target = config.pid ? uprobe::target_from_pid(*config.pid) : uprobe::target_from_binary(config.binary);
	if (!target)
		return std::unexpected(std::move(target.error()));

	// The expression first: a typo there is the user's whatever the target.
	CaptureLimits limits;
	limits.snaplen = bpf::record_snaplen(config.snaplen);
	auto filter = build_mbuf_filter(config.expression, limits.snaplen);
	if (!filter)
		return std::unexpected(std::move(filter.error()));
	limits.filter_bytes = filter->bytes_needed;
	limits.ring_bytes = config.ring_kib * 1024;

	// Then what to probe, then the layout: a name the process does not
	// have says more than the layout of a process that is not DPDK.
	auto specs = config.port ? port_probes(config, *target) : symbol_probes(config, *target);
	if (!specs)
		return std::unexpected(std::move(specs.error()));
	for (const UprobeSpec &s : *specs)
		spdlog::debug("probe {} at {} (offset {:#x} in {})", s.name, s.where.description, s.where.file_offset,
			      s.where.path);

	auto layout = config.layout ? Result<MbufLayout>(*config.layout) : detect_layout(*target);
	if (!layout)
		return std::unexpected(std::move(layout.error()));
	spdlog::debug("rte_mbuf layout {}", layout->name);

	// Watched before the probes go in: a process gone by now is reported
	// here, not as a capture that never ends.
	ProcessWatch watch;
	for (pid_t pid : target->pids)
		if (!watch.add(pid) && config.pid)
			return fail(fmt::format("no process {}", pid), "it exited before capx could attach");

	auto probes = UprobeSet::make(*specs, *target, *layout, filter->bodies, limits);
	if (!probes)
		return std::unexpected(bpf::explain_refusal(std::move(probes.error()), "mbuf", config.expression));
	std::vector<CapturePoint> points;
	for (const UprobeSpec &s : *specs) {
		CapturePoint point;
		point.name = s.name;
		bool at_return = s.config.mode == CAPX_MBUF_BURST_RET;
		point.description = fmt::format("capx mbuf uprobe{} on {}", at_return ? " at return" : "",
						s.where.description);
		point.linktype = kLinkEthernet;
		point.snaplen = limits.snaplen;
		point.filter = config.expression;
		points.push_back(std::move(point));
	}

	// --binary: processes that start later are followed, but only one that
	// was running at the start makes the capture end with its exit: with
	// none running, capx waits for one to start.
	bool follow_new = target->by_binary && !target->pids.empty();
	RecordConverter converter(WallClock::measure(CLOCK_MONOTONIC));
	return BpfRingSource::make<MbufSourceImpl>(std::move(*probes), std::move(points), std::move(converter),
						   std::move(watch), follow_new);
}

} // namespace capx::mbuf
