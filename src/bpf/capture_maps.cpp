// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/capture_maps.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

static_assert(sizeof(capx_event) == 88, "the BPF side sees the same layout");
static_assert(sizeof(capx_counters) == 10 * 8, "read_counters() sums every field");

namespace capx::bpf {

namespace {

[[nodiscard]] Result<struct bpf_map *> find_map(struct bpf_object *object, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(object, name);
	if (!map)
		return fail(fmt::format("BPF object '{}' has no map '{}' (does it include capx_capture.bpf.h?)",
					bpf_object__name(object), name));
	return map;
}

} // namespace

[[nodiscard]] Result<void> size_capture_maps(struct bpf_object *object, std::uint64_t ring_bytes)
{
	int cpus = libbpf_num_possible_cpus();
	if (cpus <= 0)
		return fail_errno(-cpus, "cannot count the possible CPUs");
	auto slots = find_map(object, "capx_scratch_slots");
	if (!slots)
		return std::unexpected(slots.error());
	if (int err = bpf_map__set_max_entries(*slots, static_cast<std::uint32_t>(cpus) * CAPX_SCRATCH_DEPTH))
		return fail_errno(-err, "cannot size the scratch map");

	auto ring = find_map(object, "capx_events");
	if (!ring)
		return std::unexpected(ring.error());
	std::uint64_t page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
	std::uint64_t bytes = std::bit_ceil(std::max(ring_bytes, page));
	if (bytes > (std::uint64_t{1} << 31))
		return fail_usage(fmt::format("a ring of {} bytes is too large", ring_bytes), "the limit is 2 GiB");
	if (int err = bpf_map__set_max_entries(*ring, static_cast<std::uint32_t>(bytes)))
		return fail_errno(-err, "cannot size the ring buffer");
	return {};
}

[[nodiscard]] Result<capx_counters> read_counters(struct bpf_object *object, std::uint32_t probe_id)
{
	auto map = find_map(object, "capx_counters");
	if (!map)
		return std::unexpected(map.error());
	int cpus = libbpf_num_possible_cpus();
	if (cpus <= 0)
		return fail_errno(-cpus, "cannot count the possible CPUs");
	std::vector<capx_counters> per_cpu(static_cast<std::size_t>(cpus));
	if (bpf_map_lookup_elem(bpf_map__fd(*map), &probe_id, per_cpu.data()))
		return fail_errno(errno, fmt::format("cannot read the counters of probe {}", probe_id));
	capx_counters sum{};
	for (const auto &c : per_cpu) {
		sum.hits += c.hits;
		sum.filtered_out += c.filtered_out;
		sum.captured += c.captured;
		sum.lost_ring_full += c.lost_ring_full;
		sum.truncated += c.truncated;
		sum.lost_busy += c.lost_busy;
		sum.errors += c.errors;
		sum.mbufs += c.mbufs;
		sum.empty_bursts += c.empty_bursts;
		sum.malformed += c.malformed;
	}
	return sum;
}

std::optional<PacketView> event_to_packet(std::span<const std::uint8_t> record, const WallClock &clock)
{
	PacketView p;
	if (!event_to_packet(record, clock, p))
		return std::nullopt;
	return p;
}

bool event_to_packet(std::span<const std::uint8_t> record, const WallClock &clock, PacketView &p, capx_event *header)
{
	if (record.size() < sizeof(capx_event))
		return false;
	capx_event local;
	capx_event &e = header ? *header : local;
	std::memcpy(&e, record.data(), sizeof(e));
	if (e.cap_len > record.size() - sizeof(e) || e.cap_len > e.wire_len)
		return false;

	p.timestamp_ns = clock.to_wall_ns(e.timestamp_ns);
	p.wire_len = e.wire_len;
	p.data = record.subspan(sizeof(e), e.cap_len);
	p.capture_point = e.probe_id;
	p.meta = PacketMeta{};
	p.meta.cpu = e.cpu;
	if (e.flags & CAPX_EVENT_INBOUND)
		p.meta.direction = Direction::Inbound;
	else if (e.flags & CAPX_EVENT_OUTBOUND)
		p.meta.direction = Direction::Outbound;
	if (e.flags & CAPX_EVENT_HAS_IFINDEX)
		p.meta.ifindex = e.ifindex;
	if (e.flags & CAPX_EVENT_HAS_NETNS)
		p.meta.netns = e.netns;
	if (e.flags & CAPX_EVENT_HAS_TASK) {
		p.meta.pid = e.pid;
		p.meta.tid = e.tid;
		// comm points into the record, like data.
		const char *comm = reinterpret_cast<const char *>(record.data() + offsetof(capx_event, comm));
		p.meta.comm = std::string_view(comm, strnlen(comm, CAPX_COMM_LEN));
	}
	if (e.flags & CAPX_EVENT_HAS_DROP_REASON)
		p.meta.drop_reason = e.drop_reason;
	if (e.flags & CAPX_EVENT_HAS_QUEUE)
		p.meta.queue = e.queue;
	if (e.flags & CAPX_EVENT_HAS_VERDICT)
		p.meta.xdp_verdict = e.verdict;
	if (e.flags & CAPX_EVENT_HAS_VLAN)
		p.meta.vlan_tci = e.vlan_tci;
	if (e.flags & CAPX_EVENT_HAS_PORT)
		p.meta.port = e.port;
	return true;
}

} // namespace capx::bpf
