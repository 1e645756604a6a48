// SPDX-License-Identifier: GPL-2.0-only
// The kernel side of the differential proof: every corpus expression,
// translated to eBPF, passes the verifier in both access modes, and its
// return value under BPF_PROG_TEST_RUN equals libpcap's bpf_filter() (and so
// the user-space executor's, test_filter_engine.cpp) on the same packets.
// Needs root; exits 77 (skip) when BPF is unavailable.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include <fmt/format.h>

#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"
#include "filter/executor.hpp"
#include "filter/kernel_runner.hpp"
#include "tests/unit/filter/packet_corpus.hpp"
#include "tests/unit/filter/reference.hpp"

using namespace capx;
using namespace capx::test;

namespace {

struct Tally {
	std::size_t programs = 0;
	std::size_t runs = 0;
	std::size_t mismatches = 0;
	std::size_t cut = 0;
};

// Loads `program` in both modes and compares every packet of `packets`
// whose index i satisfies (i + rotate) % stride == 0 (so that different
// expressions see different samples and together cover every packet).
void compare_kernel(const std::string &name, std::span<const CbpfInsn> program,
		    const std::vector<TestPacket> &packets, std::size_t stride, std::size_t rotate, Tally &tally)
{
	auto ex = FilterExecutor::create(program);
	REQUIRE(ex);
	for (auto mode : {FilterAccess::Packet, FilterAccess::Buffer}) {
		const char *mode_name = mode == FilterAccess::Packet ? "packet" : "buffer";
		auto t = translate_to_ebpf(program, mode);
		INFO(name << " (" << mode_name << ")");
		REQUIRE(t);
		auto runner = KernelFilterRunner::load(*t);
		if (!runner)
			FAIL(runner.error().message << "\n" << disassemble_ebpf(t->insns));
		tally.programs++;
		for (std::size_t i = 0; i < packets.size(); i++) {
			if ((i + rotate) % stride != 0)
				continue;
			const auto &p = packets[i];
			auto got = runner->run(p.data, p.wire_len);
			REQUIRE(got);
			bool cut = false;
			std::uint32_t user = ex->run(p.data, p.wire_len, cut);
			// Where the loop bound decided, libpcap may loop forever: the
			// kernel is compared with the executor only.
			std::uint32_t want = cut ? user : libpcap_verdict(program, p.data, p.wire_len);
			tally.cut += cut;
			tally.runs++;
			if (*got != want || user != want) {
				if (tally.mismatches++ < 20)
					UNSCOPED_INFO(fmt::format("'{}' {} on {} (caplen {} wire {}): kernel {} executor {} libpcap {}",
								  name, mode_name, p.what, p.data.size(), p.wire_len, *got,
								  user, want));
			}
		}
	}
}

} // namespace

TEST_CASE("kernel == executor == libpcap on the corpus, both access modes", "[filter][kernel]")
{
	auto eth = generated_ethernet_packets();
	auto shared = shared_pcap_packets(KernelFilterRunner::kMaxPacket);
	auto raw = generated_raw_packets();
	Tally eth_t, shared_t, raw_t;
	std::size_t n = 0;
	for (const auto &e : corpus_expressions()) {
		auto f = compile_filter(e, kLinkEthernet);
		REQUIRE(f);
		// All generated packets for every expression; 1 in 20 of tcpdump's.
		compare_kernel(e, f->cbpf, eth, 1, 0, eth_t);
		if (!shared.empty())
			compare_kernel(e, f->cbpf, shared, 20, n, shared_t);
		if (auto r = compile_filter(e, kLinkRaw))
			compare_kernel(e + " (raw)", r->cbpf, raw, 1, 0, raw_t);
		n++;
	}
	std::printf("kernel (packet + buffer access) vs executor vs libpcap:\n"
		    "  %zu expressions; Ethernet: %zu programs verified, %zu generated packets, %zu runs, %zu mismatches\n"
		    "  tcpdump-test captures (1 packet in 20 per expression, rotating): %zu packets, %zu runs, %zu mismatches\n"
		    "  raw IP: %zu programs verified, %zu packets, %zu runs, %zu mismatches\n",
		    n, eth_t.programs, eth.size(), eth_t.runs, eth_t.mismatches, shared.size(), shared_t.runs,
		    shared_t.mismatches, raw_t.programs, raw.size(), raw_t.runs, raw_t.mismatches);
	CHECK(eth_t.mismatches == 0);
	CHECK(shared_t.mismatches == 0);
	CHECK(raw_t.mismatches == 0);
}

TEST_CASE("kernel == libpcap on hand-written edge programs", "[filter][kernel]")
{
	auto packets = generated_ethernet_packets(7);
	Tally t;
	for (const auto &[name, prog] : handmade_programs())
		compare_kernel(name, prog, packets, 3, 0, t);
	std::printf("kernel vs libpcap, hand-written programs: %zu programs, %zu runs, %zu mismatches\n",
		    t.programs, t.runs, t.mismatches);
	CHECK(t.mismatches == 0);
}

TEST_CASE("a load failure carries the verifier's log", "[filter][kernel]")
{
	// A body that reads r9 uninitialised: the verifier refuses it.
	EbpfFilter bad;
	bad.insns = {EbpfInsn{0xbf, 0x90, 0, 0} /* r0 = r9 */, EbpfInsn{0x95, 0, 0, 0}};
	auto r = KernelFilterRunner::load(bad);
	REQUIRE_FALSE(r);
	CHECK(r.error().message.find("R9 !read_ok") != std::string::npos);
}

int main(int argc, char **argv)
{
	std::string why = KernelFilterRunner::unavailable_reason();
	if (!why.empty()) {
		std::printf("SKIP: %s\n", why.c_str());
		return 77;
	}
	return Catch::Session().run(argc, argv);
}
