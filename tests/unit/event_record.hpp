// SPDX-License-Identifier: GPL-2.0-only
// Hand-built BPF ring records for the record converter tests of capx skb
// and capx mbuf: a capx_event header (include/capx/event.h) followed by its
// packet bytes, as the BPF programs write them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "capx/event.h"

namespace capx::test {

// `e` then `data_bytes` bytes counting up from 0 (so that a test can tell
// which byte landed where).
inline std::vector<std::uint8_t> event_record(const capx_event &e, std::size_t data_bytes)
{
	std::vector<std::uint8_t> r(sizeof(e) + data_bytes);
	std::memcpy(r.data(), &e, sizeof(e));
	for (std::size_t i = 0; i < data_bytes; i++)
		r[sizeof(e) + i] = static_cast<std::uint8_t>(i);
	return r;
}

} // namespace capx::test
