// SPDX-License-Identifier: GPL-2.0-only
// One ring record of bpf/mbuf.bpf.c as a packet: the generic part is
// bpf::event_to_packet (src/bpf/capture_maps.hpp); this adds what only
// capx mbuf knows (the rte_mbuf's address) and the process the packet was
// seen in. Only the fields the probe knows are filled (a -f probe knows no
// port or queue).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/packet.hpp"

namespace capx::mbuf {

struct MbufRecord {
	PacketView packet;      // data and meta.comm point into the record
	std::optional<pid_t> pid; // the process the packet was seen in (thread group id)
};

class RecordConverter {
public:
	explicit RecordConverter(WallClock clock);

	// std::nullopt for a malformed record. The result's data is valid as
	// long as the record.
	std::optional<MbufRecord> convert(std::span<const std::uint8_t> record);

private:
	WallClock clock_;
};

// Whether a ring record is a batch (CAPX_EVENT_MBUF_BATCH, capx/mbuf_abi.h):
// a burst's packets in one record.
bool is_batch(std::span<const std::uint8_t> record);

// The packets of a batch record, each as a record of its own (its
// capx_event and cap_len bytes, for RecordConverter::convert()), in the
// order the burst held them. False for a malformed batch: no entries, an
// entry's size outside the record or too small for its event and bytes.
bool split_batch(std::span<const std::uint8_t> record, std::vector<std::span<const std::uint8_t>> &out);

} // namespace capx::mbuf
