// SPDX-License-Identifier: GPL-2.0-only
// Injection mistakes are clear errors, not silently unfiltered programs.
// Needs root (tests/unit/needs_main.cpp skips otherwise).
#include <catch2/catch.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpf/features.hpp"
#include "bpf/capture_maps.hpp"
#include "bpf/skeleton.hpp"
#include "filter_test.skel.h"

using namespace capx;
using namespace capx::bpf;

namespace {

EbpfInsn mov_r0(std::int32_t imm) { return EbpfInsn{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, imm}; }
EbpfInsn exit_insn() { return EbpfInsn{BPF_JMP | BPF_EXIT, 0, 0, 0}; }

Skeleton<filter_test> open_with(bool pkt, bool buf, bool none)
{
	auto skel = Skeleton<filter_test>::open();
	REQUIRE(skel);
	bpf_program__set_autoload((*skel)->progs.filter_test_pkt, pkt);
	bpf_program__set_autoload((*skel)->progs.filter_test_buf, buf);
	bpf_program__set_autoload((*skel)->progs.filter_test_none, none);
	REQUIRE(size_capture_maps(skel->object(), 1 << 16));
	return std::move(*skel);
}

} // namespace

TEST_CASE("a hand-written body is injected: return the wire length / return 0")
{
	auto skel = open_with(true, false, false);
	// r0 = r3 (wire_len); exit
	FilterBodies bodies;
	bodies.packet = std::vector<EbpfInsn>{{BPF_ALU64 | BPF_MOV | BPF_X, 3 << 4, 0, 0}, exit_insn()};
	REQUIRE(skel.load(bodies));
	std::vector<std::uint8_t> packet(60, 0);
	skel->bss->test_wire_len = 1234;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_size_in = 60);
	REQUIRE(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.filter_test_pkt), &opts) == 0);
	CHECK(skel->bss->test_verdict == 1234);

	auto skel0 = open_with(true, false, false);
	bodies.packet = std::vector<EbpfInsn>{mov_r0(0), exit_insn()};
	REQUIRE(skel0.load(bodies));
	skel0->bss->test_verdict = 99;
	REQUIRE(bpf_prog_test_run_opts(bpf_program__fd(skel0->progs.filter_test_pkt), &opts) == 0);
	CHECK(skel0->bss->test_verdict == 0);
}

TEST_CASE("a body for a placeholder that no program calls is an error")
{
	auto skel = open_with(false, false, true);
	FilterBodies bodies;
	bodies.packet = std::vector<EbpfInsn>{mov_r0(1), exit_insn()};
	auto r = skel.load(bodies);
	REQUIRE_FALSE(r);
	CHECK(r.error().message ==
	      "no program of BPF object 'filter_test' calls capx_filter_pkt: its packet-mode filter has nowhere to go");
}

TEST_CASE("a program calling a placeholder without a body for it is an error")
{
	auto skel = open_with(true, false, false);
	FilterBodies bodies;
	bodies.buffer = std::vector<EbpfInsn>{mov_r0(1), exit_insn()};
	auto r = skel.load(bodies);
	REQUIRE_FALSE(r);
	CHECK(r.error().message ==
	      "cannot load BPF program 'filter_test_pkt': it calls capx_filter_pkt but no packet-mode filter was given");
}

TEST_CASE("a body the verifier rejects names the program and the verifier's reason")
{
	auto skel = open_with(true, false, false);
	// r0 = *(u8 *)(r1 + 0) without a bounds check against data_end.
	FilterBodies bodies;
	bodies.packet = std::vector<EbpfInsn>{{BPF_LDX | BPF_MEM | BPF_B, 1 << 4, 0, 0}, exit_insn()};
	auto r = skel.load(bodies);
	REQUIRE_FALSE(r);
	CHECK_THAT(r.error().message, Catch::StartsWith("the kernel rejected BPF program 'filter_test_pkt': "));
	CHECK_THAT(r.error().message, Catch::Contains("packet")); // "R1 offset is outside of the packet" on 6.x
	CHECK(r.error().hint == "run with -v to see the verifier log");
}

TEST_CASE("feature probes answer for what this kernel has")
{
	CHECK(probe_feature(Feature::RingBuffer));
	CHECK(probe_feature(Feature::Xdp));
	for (Feature f : {Feature::TpBtf, Feature::Fentry, Feature::Kprobe, Feature::Uprobe}) {
		auto r = probe_feature(f);
		INFO(feature_name(f) << ": " << (r ? "yes" : r.error().message));
		CHECK((r || !r.error().message.empty()));
	}
}
