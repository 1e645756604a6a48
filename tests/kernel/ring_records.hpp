// SPDX-License-Identifier: GPL-2.0-only
// Collecting what a BPF capture program (bpf/skb.bpf.c, bpf/mbuf.bpf.c)
// wrote to its ring: each record split into its capx_event header and its
// packet bytes, the record's size checked against cap_len.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "bpf/ring_buffer.hpp"
#include "capx/event.h"

namespace capx::test {

struct RingRecord {
	capx_event event{};
	std::vector<std::uint8_t> data;
};

struct CollectRecords : bpf::RecordHandler {
	std::vector<RingRecord> records;
	bool on_record(std::span<const std::uint8_t> r) override
	{
		REQUIRE(r.size() >= sizeof(capx_event));
		RingRecord rec;
		std::memcpy(&rec.event, r.data(), sizeof(capx_event));
		REQUIRE(rec.event.cap_len == r.size() - sizeof(capx_event));
		rec.data.assign(r.begin() + sizeof(capx_event), r.end());
		records.push_back(std::move(rec));
		return true;
	}
};

} // namespace capx::test
