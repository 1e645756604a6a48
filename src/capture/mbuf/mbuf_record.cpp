// SPDX-License-Identifier: GPL-2.0-only
#include "capture/mbuf/mbuf_record.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "bpf/capture_maps.hpp"
#include "capx/event.h"
#include "capx/mbuf_abi.h"

namespace capx::mbuf {

RecordConverter::RecordConverter(WallClock clock) : clock_(clock) {}

std::optional<MbufRecord> RecordConverter::convert(std::span<const std::uint8_t> record)
{
	MbufRecord out;
	capx_event e;
	if (!bpf::event_to_packet(record, clock_, out.packet, &e))
		return std::nullopt;
	if (e.flags & CAPX_EVENT_HAS_TASK)
		out.pid = static_cast<pid_t>(e.pid);

	PacketMeta &m = out.packet.meta;
	// What capx mbuf has always said: an lcore runs on one CPU, and the
	// thread id names the lcore.
	m.cpu.reset();
	if (e.flags & CAPX_EVENT_HAS_PACKET_ID)
		m.mbuf = e.packet_id;
	return out;
}

namespace {

capx_u32 u32_at(std::span<const std::uint8_t> record, std::size_t offset)
{
	capx_u32 v;
	std::memcpy(&v, record.data() + offset, sizeof(v));
	return v;
}

} // namespace

bool is_batch(std::span<const std::uint8_t> record)
{
	return record.size() >= sizeof(capx_event) &&
	       (u32_at(record, offsetof(capx_event, flags)) & CAPX_EVENT_MBUF_BATCH) != 0;
}

bool split_batch(std::span<const std::uint8_t> record, std::vector<std::span<const std::uint8_t>> &out)
{
	out.clear();
	if (record.size() < sizeof(capx_event))
		return false;
	const capx_u32 len = u32_at(record, offsetof(capx_event, cap_len));
	if (len > record.size() - sizeof(capx_event))
		return false;
	auto rest = record.subspan(sizeof(capx_event), len);
	constexpr std::size_t head = sizeof(capx_mbuf_batch_entry) + sizeof(capx_event);
	while (!rest.empty()) {
		if (rest.size() < head)
			return false;
		const capx_u32 size = u32_at(rest, offsetof(capx_mbuf_batch_entry, size));
		if (size < head || size > rest.size())
			return false;
		auto inner = rest.subspan(sizeof(capx_mbuf_batch_entry), size - sizeof(capx_mbuf_batch_entry));
		const capx_u32 cap_len = u32_at(inner, offsetof(capx_event, cap_len));
		if (cap_len > inner.size() - sizeof(capx_event))
			return false;
		out.push_back(inner.first(sizeof(capx_event) + cap_len));
		rest = rest.subspan(size);
	}
	// The BPF side places entries downwards from the record's end.
	std::reverse(out.begin(), out.end());
	return !out.empty();
}

} // namespace capx::mbuf
