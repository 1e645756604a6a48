// SPDX-License-Identifier: GPL-2.0-only
// RingBuffer::consume() after a stop: it returns at the next release with
// records still waiting, instead of reading for as long as the BPF side
// keeps writing. Its own executable: stop::request() cannot be taken back,
// and would end every later test's reading too.
#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <vector>

#include "bpf/ring_buffer.hpp"
#include "core/stop.hpp"
#include "core/unique_fd.hpp"

using namespace capx;

namespace {

// A socket filter that writes one 8-byte record into the ring `map_fd` per
// run: BPF_PROG_TEST_RUN then fills the ring with as many as asked.
UniqueFd record_writer(int map_fd)
{
	const std::vector<bpf_insn> insns = {
		{BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, map_fd}, // r1 = ring
		{0, 0, 0, 0, 0},
		{BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 42}, // *(u64 *)(fp - 8) = 42
		{BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0}, // r2 = fp
		{BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -8}, // r2 -= 8
		{BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 8},  // r3 = 8 bytes
		{BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0},  // r4 = flags
		{BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_output},
		{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
		{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	return UniqueFd(bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "capx_ring_fill", "GPL", insns.data(),
				      insns.size(), nullptr));
}

struct Count : bpf::RecordHandler {
	std::size_t records = 0, releases = 0;
	bool on_record(std::span<const std::uint8_t>) override
	{
		if (++records == 1)
			stop::request();
		return true;
	}
	bool on_release() override
	{
		releases++;
		return true;
	}
};

} // namespace

TEST_CASE("a stop ends consume() at the next release, with records still waiting")
{
	constexpr std::uint32_t kRingBytes = 64 * 1024;
	UniqueFd map(bpf_map_create(BPF_MAP_TYPE_RINGBUF, "capx_stop_ring", 0, 0, kRingBytes, nullptr));
	REQUIRE(map.get() >= 0);
	UniqueFd prog = record_writer(map.get());
	REQUIRE(prog.get() >= 0);
	// 1000 records of 16 bytes (header and 8 bytes): 16000 bytes waiting,
	// about 16 releases' worth (one per kRingBytes / 64 = 1 KiB).
	std::vector<std::uint8_t> packet(64, 0);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_size_in = 64, .repeat = 1000);
	REQUIRE(bpf_prog_test_run_opts(prog.get(), &opts) == 0);

	auto ring = bpf::RingBuffer::open(map.get());
	REQUIRE(ring);
	REQUIRE(ring->available() == 16000);
	Count count;
	auto handled = ring->consume(count);
	REQUIRE(handled);
	// The stop came with the first record: the first release (after 1 KiB,
	// 64 records) ends the call, and the rest stays in the ring.
	CHECK(count.releases == 1);
	CHECK(*handled == 64);
	CHECK(ring->available() == 16000 - 64 * 16);
}
