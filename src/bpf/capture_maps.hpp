// SPDX-License-Identifier: GPL-2.0-only
// The user side of the capture core (bpf/include/capx_capture.bpf.h):
// sizing its maps before load, reading its counters, and turning its ring
// records (include/capx/event.h) into PacketViews.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "capx/event.h"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/packet.hpp"

struct bpf_object;

namespace capx::bpf {

// capx_wakeup_bytes for a ring of `ring_bytes`: a record wakes the reader
// each time it takes the ring's fill across another eighth
// (capx_wakeup_flags()), so there are few wakeups under load; the reader's
// poll timeout bounds the latency of what stays below.
constexpr std::uint32_t wakeup_bytes(std::uint64_t ring_bytes)
{
	return static_cast<std::uint32_t>(ring_bytes / 8);
}

// The snaplen a capture point's ring records can keep: what was asked, at
// most CAPX_PACKET_BUF_SIZE (a record's packet buffer).
constexpr std::uint32_t record_snaplen(std::uint32_t requested)
{
	return requested < CAPX_PACKET_BUF_SIZE ? requested : CAPX_PACKET_BUF_SIZE;
}

// Before load: one scratch slot per possible CPU and nesting level, and a
// ring of at least `ring_bytes` (rounded up to a power of two pages).
[[nodiscard]] Result<void> size_capture_maps(struct bpf_object *object, std::uint64_t ring_bytes);

// After load: the counters of `probe_id`, summed over all CPUs.
[[nodiscard]] Result<capx_counters> read_counters(struct bpf_object *object, std::uint32_t probe_id);

// A ring record as a packet: `data` points into `record`, the timestamp is
// converted to wall clock with `clock`, optional fields are set from the
// record's flags. std::nullopt when the record is malformed (too short, or
// cap_len beyond its end). The packet id (CAPX_EVENT_HAS_PACKET_ID) is left
// to the caller: only it knows what the id is the address of.
std::optional<PacketView> event_to_packet(std::span<const std::uint8_t> record, const WallClock &clock);

// The same into `out` (every field of it set), false when the record is
// malformed: for the per-record path, where the copies of a returned
// PacketView showed in profiles (its optionals' one-byte flags stored, then
// the struct copied with 16-byte loads that cannot take them from the
// store buffer). `header`, when given, receives the record's capx_event,
// so that a caller reading more of it does not copy it again.
bool event_to_packet(std::span<const std::uint8_t> record, const WallClock &clock, PacketView &out,
		     capx_event *header = nullptr);

} // namespace capx::bpf
