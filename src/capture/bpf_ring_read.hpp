// SPDX-License-Identifier: GPL-2.0-only
// Reading the BPF ring buffer of a BPF capture source (capx skb, capx
// mbuf) for one Source::poll(): what is waiting now, else what comes within
// the timeout.
#pragma once

#include <chrono>

#include "bpf/ring_buffer.hpp"
#include "core/error.hpp"

namespace capx {

// Hands what is waiting in `ring` to `handler`; when nothing is, waits up
// to `timeout` for records (or a stop request) and hands those. The BPF
// side wakes the reader only now and then (batched wakeups, for
// throughput), so the ring is also read every 50 ms whether or not a wakeup
// came: a packet is visible within that long even at low rates. Under load
// it reads in batches (a 32nd of the ring) rather than right behind the
// writer, within the same 50 ms (why: src/capture/bpf_ring_read.cpp).
[[nodiscard]] Result<void> read_ring(bpf::RingBuffer &ring, bpf::RecordHandler &handler, std::chrono::milliseconds timeout);

} // namespace capx
