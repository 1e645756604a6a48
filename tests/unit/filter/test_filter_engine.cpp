// SPDX-License-Identifier: GPL-2.0-only
// The filter engine against libpcap, without privileges: every corpus
// expression translates to eBPF in both access modes, and the user-space
// executor returns bpf_filter()'s value on every (expression, packet) pair,
// with each of its engines (native x86-64 code and threaded code). The
// kernel side of the proof is test_filter_kernel.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"
#include "filter/executor.hpp"
#include "packet_corpus.hpp"
#include "reference.hpp"

using namespace capx;
using namespace capx::test;

namespace {

using Engine = FilterExecutor::Engine;

std::size_t loops_cut = 0;

const char *engine_name(Engine e)
{
	return e == Engine::Native ? "native" : "threaded";
}

// The engines this build can run: both on x86-64, where the native one is
// also what create() picks.
std::vector<Engine> engines()
{
	if (cbpf_jit_supported())
		return {Engine::Native, Engine::Threaded};
	return {Engine::Threaded};
}

// Runs `program` on every packet with the executor and with libpcap.
std::size_t compare_executor(const std::string &name, std::span<const CbpfInsn> program,
			     const std::vector<TestPacket> &packets, std::size_t &mismatches,
			     Engine engine = Engine::Native)
{
	auto ex = FilterExecutor::create(program, engine);
	REQUIRE(ex);
	REQUIRE(ex->engine() == engine);
	std::size_t runs = 0;
	for (const auto &p : packets) {
		bool cut = false;
		std::uint32_t got = ex->run(p.data, p.wire_len, cut);
		// The plain run() agrees (the same entry, the loop flag dropped).
		if (ex->run(p.data, p.wire_len) != got && mismatches++ < 20)
			UNSCOPED_INFO(fmt::format("'{}' on {}: the two run() overloads differ", name, p.what));
		// libpcap would loop on (perhaps forever): not comparable.
		if (cut) {
			loops_cut++;
			continue;
		}
		std::uint32_t want = libpcap_verdict(program, p.data, p.wire_len);
		runs++;
		if (got != want) {
			if (mismatches++ < 20)
				UNSCOPED_INFO(fmt::format("'{}' on {}: {} executor {} libpcap {}", name, p.what,
							  engine_name(engine), got, want));
		}
	}
	return runs;
}

} // namespace

TEST_CASE("corpus has every family and compiles for Ethernet", "[filter][corpus]")
{
	auto exprs = corpus_expressions();
	REQUIRE(exprs.size() >= 300);
	for (const auto &e : exprs) {
		auto f = compile_filter(e, kLinkEthernet);
		INFO(e);
		REQUIRE(f);
	}
}

TEST_CASE("every corpus expression translates in both access modes", "[filter][translator]")
{
	std::size_t translated = 0, raw = 0;
	for (const auto &e : corpus_expressions()) {
		for (std::uint16_t link : {std::uint16_t(kLinkEthernet), std::uint16_t(kLinkRaw)}) {
			auto f = compile_filter(e, link);
			if (!f) {
				// Only the link layer may make an expression invalid.
				REQUIRE(link == kLinkRaw);
				continue;
			}
			raw += link == kLinkRaw;
			for (auto mode : {FilterAccess::Packet, FilterAccess::Buffer}) {
				auto t = translate_to_ebpf(f->cbpf, mode);
				INFO(e);
				REQUIRE(t);
				REQUIRE_FALSE(t->insns.empty());
				CHECK(t->insns.back().code == 0x95); // exit
				CHECK(t->stack_bytes <= 64);
				translated++;
			}
		}
	}
	std::printf("translated %zu programs (%zu raw-IP expressions)\n", translated, raw);
}

TEST_CASE("executor == libpcap bpf_filter on the corpus", "[filter][executor]")
{
	auto eth = generated_ethernet_packets();
	auto shared = shared_pcap_packets();
	auto raw = generated_raw_packets();
	std::vector<TestPacket> all = eth;
	all.insert(all.end(), shared.begin(), shared.end());
	for (Engine engine : engines()) {
		std::size_t runs = 0, mismatches = 0, exprs = 0, raw_exprs = 0;
		loops_cut = 0;
		for (const auto &e : corpus_expressions()) {
			auto f = compile_filter(e, kLinkEthernet);
			REQUIRE(f);
			runs += compare_executor(e, f->cbpf, all, mismatches, engine);
			exprs++;
			if (auto r = compile_filter(e, kLinkRaw)) {
				runs += compare_executor(e + " (raw)", r->cbpf, raw, mismatches, engine);
				raw_exprs++;
			}
		}
		std::printf("executor (%s) vs libpcap: %zu expressions x (%zu generated + %zu tcpdump-test) Ethernet "
			    "packets, %zu raw-IP expressions x %zu raw packets: %zu runs, %zu mismatches "
			    "(%zu runs not compared: protochain loop bound reached)\n",
			    engine_name(engine), exprs, eth.size(), shared.size(), raw_exprs, raw.size(), runs,
			    mismatches, loops_cut);
		CHECK(mismatches == 0);
	}
	if (shared.empty())
		WARN("CAPX_SHARED_PCAPS/tcpdump-tests absent: generated packets only");
}

TEST_CASE("executor == libpcap on hand-written edge programs", "[filter][executor]")
{
	auto packets = generated_ethernet_packets(7);
	for (Engine engine : engines()) {
		std::size_t mismatches = 0, runs = 0;
		for (const auto &[name, prog] : handmade_programs()) {
			INFO(name);
			REQUIRE(libpcap_validates(prog));
			runs += compare_executor(name, prog, packets, mismatches, engine);
		}
		std::printf("executor (%s) vs libpcap, hand-written programs: %zu runs, %zu mismatches\n",
			    engine_name(engine), runs, mismatches);
		CHECK(mismatches == 0);
	}
}

TEST_CASE("the engines agree where the loop bound cuts protochain", "[filter][executor]")
{
	// Where libpcap cannot be asked (it may loop forever), the two engines
	// must still agree, the loop flag included.
	auto eth = generated_ethernet_packets();
	auto shared = shared_pcap_packets();
	eth.insert(eth.end(), shared.begin(), shared.end());
	if (!cbpf_jit_supported())
		return; // one engine only: nothing to compare
	std::size_t runs = 0, cut = 0;
	for (const char *e : {"ip6 protochain 6", "ip protochain 17", "protochain 51", "ip6 protochain 58"}) {
		auto f = compile_filter(e, kLinkEthernet);
		REQUIRE(f);
		auto native = FilterExecutor::create(f->cbpf, Engine::Native);
		auto threaded = FilterExecutor::create(f->cbpf, Engine::Threaded);
		REQUIRE(native);
		REQUIRE(threaded);
		for (const auto &p : eth) {
			bool cut_n = false, cut_t = false;
			std::uint32_t n = native->run(p.data, p.wire_len, cut_n);
			std::uint32_t t = threaded->run(p.data, p.wire_len, cut_t);
			INFO(e << " on " << p.what);
			REQUIRE(n == t);
			REQUIRE(cut_n == cut_t);
			cut += cut_n;
			runs++;
		}
	}
	std::printf("native vs threaded on protochain: %zu runs, %zu cut by the loop bound\n", runs, cut);
	CHECK(cut > 0); // the generated packets include endless AH chains
}

TEST_CASE("invalid classic programs are refused, not run", "[filter]")
{
	std::vector<CbpfInsn> no_ret{{BPF_LD | BPF_IMM, 0, 0, 1}};
	std::vector<CbpfInsn> div0{{BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0}, {BPF_RET | BPF_A, 0, 0, 0}};
	std::vector<CbpfInsn> far{{BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 0}, {BPF_RET | BPF_A, 0, 0, 0}};
	std::vector<CbpfInsn> mem{{BPF_ST, 0, 0, 16}, {BPF_RET | BPF_A, 0, 0, 0}};
	for (const auto *p : {&no_ret, &div0, &far, &mem}) {
		CHECK_FALSE(libpcap_validates(*p));
		CHECK_FALSE(FilterExecutor::create(*p));
		CHECK_FALSE(translate_to_ebpf(*p, FilterAccess::Packet));
	}
	CHECK_FALSE(FilterExecutor::create({}));
}

TEST_CASE("bytes needed: absolute loads and loads behind a bounded X", "[filter][translator]")
{
	auto needed = [](const char *e, std::uint16_t link = kLinkEthernet) {
		auto f = compile_filter(e, link);
		REQUIRE(f);
		return cbpf_bytes_needed(f->cbpf);
	};
	CHECK(needed("ip host 10.0.0.1") == 34u); // ip dst ends at 14 + 20
	CHECK(needed("ether broadcast") == 6u);
	CHECK(needed("") == 0u);
	// Ports behind the IPv4 header length: ldxb 4*([14]&0xf) makes X <= 60,
	// then ldh [x + 16] ends at 60 + 16 + 2 (IPv6's ports end at 58).
	CHECK(needed("tcp port 80") == 78u);
	CHECK(needed("udp port 1") == 78u);
	CHECK(needed("tcp[tcpflags] & tcp-syn != 0") == 88u);   // ldb [x + 27]
	CHECK(needed("icmp[icmptype] == icmp-echo") == 75u);    // ldb [x + 14]
	CHECK(needed("vlan and udp port 1") == 82u);            // ldxb 4*([18]&0xf), ldh [x + 20]
	CHECK(needed("udp port 1", kLinkRaw) == 64u);           // ldxb 4*([0]&0xf), ldh [x + 2]
	// protochain adds each header's length to X in a loop: no bound.
	CHECK(needed("ip6 protochain 6") == std::nullopt);

	using I = CbpfInsn;
	auto S = [](std::uint16_t code, std::uint32_t k) { return I{code, 0, 0, k}; };
	const auto ret = S(BPF_RET | BPF_A, 0);
	// X from an immediate, through A and back, through scratch memory.
	CHECK(cbpf_bytes_needed(std::vector<I>{S(BPF_LDX | BPF_IMM, 5), S(BPF_LD | BPF_W | BPF_IND, 10), ret}) == 19u);
	CHECK(cbpf_bytes_needed(std::vector<I>{S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_ALU | BPF_AND | BPF_K, 0x3f),
					       S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_B | BPF_IND, 1), ret}) == 65u);
	CHECK(cbpf_bytes_needed(std::vector<I>{S(BPF_LD | BPF_B | BPF_ABS, 3), S(BPF_MISC | BPF_TAX, 0),
					       S(BPF_LD | BPF_H | BPF_IND, 0), ret}) == 257u); // 255 + 2
	CHECK(cbpf_bytes_needed(std::vector<I>{S(BPF_LDX | BPF_MSH | BPF_B, 14), S(BPF_STX, 3), S(BPF_LDX | BPF_IMM, 0),
					       S(BPF_LD | BPF_MEM, 3), S(BPF_ALU | BPF_ADD | BPF_K, 4),
					       S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_B | BPF_IND, 14), ret}) == 79u);
	// No bound: X from a word, the wire length, a subtraction (wraps),
	// a shift by X, unwritten scratch memory.
	for (auto x_from : {std::vector<I>{S(BPF_LD | BPF_W | BPF_ABS, 0), S(BPF_MISC | BPF_TAX, 0)},
			    std::vector<I>{S(BPF_LDX | BPF_W | BPF_LEN, 0)},
			    std::vector<I>{S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_ALU | BPF_SUB | BPF_K, 1),
					   S(BPF_MISC | BPF_TAX, 0)},
			    std::vector<I>{S(BPF_LD | BPF_IMM, 1), S(BPF_LDX | BPF_MSH | BPF_B, 14),
					   S(BPF_ALU | BPF_LSH | BPF_X, 0), S(BPF_MISC | BPF_TAX, 0)},
			    std::vector<I>{S(BPF_LDX | BPF_MEM, 7)}}) {
		x_from.push_back(S(BPF_LD | BPF_B | BPF_IND, 0));
		x_from.push_back(ret);
		CHECK(cbpf_bytes_needed(x_from) == std::nullopt);
	}

	auto host = compile_filter("ip host 10.0.0.1", kLinkEthernet);
	REQUIRE(host);
	auto t = translate_to_ebpf(host->cbpf, FilterAccess::Buffer);
	REQUIRE(t);
	CHECK(t->bytes_needed == 34u);
	CHECK_FALSE(t->has_loop);
	auto chain = compile_filter("ip6 protochain 6", kLinkEthernet);
	REQUIRE(chain);
	auto tc = translate_to_ebpf(chain->cbpf, FilterAccess::Packet);
	REQUIRE(tc);
	CHECK(tc->has_loop); // libpcap walks the extension headers with a backward jump
	CHECK(tc->bytes_needed == std::nullopt);
}

namespace {

// Runs `program` on each packet longer than its bytes_needed, whole and cut
// to bytes_needed, with libpcap and with the executor: any difference means
// the bound is too small. Returns the packets compared.
std::size_t compare_cut(const std::string &name, std::span<const CbpfInsn> program,
			const std::vector<TestPacket> &packets, std::size_t &mismatches, std::size_t &unbounded)
{
	auto bound = cbpf_bytes_needed(program);
	if (!bound) {
		unbounded++;
		return 0;
	}
	auto ex = FilterExecutor::create(program);
	REQUIRE(ex);
	std::size_t runs = 0;
	for (const auto &p : packets) {
		if (p.data.size() <= *bound)
			continue;
		std::span<const std::uint8_t> cut(p.data.data(), *bound);
		bool looped = false, looped_cut = false;
		std::uint32_t whole_ex = ex->run(p.data, p.wire_len, looped);
		std::uint32_t cut_ex = ex->run(cut, p.wire_len, looped_cut);
		if (looped || looped_cut)
			continue; // libpcap may loop forever here
		std::uint32_t whole = libpcap_verdict(program, p.data, p.wire_len);
		std::uint32_t cut_lp = libpcap_verdict(program, cut, p.wire_len);
		runs++;
		if ((whole != cut_lp || whole_ex != cut_ex || whole != cut_ex) && mismatches++ < 20)
			UNSCOPED_INFO(fmt::format("'{}' on {} cut to {} of {} bytes: libpcap {} -> {}, executor {} -> {}",
						  name, p.what, *bound, p.data.size(), whole, cut_lp, whole_ex, cut_ex));
	}
	return runs;
}

} // namespace

TEST_CASE("bytes needed is never too small: cut there, every packet keeps its verdict", "[filter][translator]")
{
	auto eth = generated_ethernet_packets();
	auto shared = shared_pcap_packets();
	eth.insert(eth.end(), shared.begin(), shared.end());
	auto raw = generated_raw_packets();
	std::size_t runs = 0, mismatches = 0, programs = 0, unbounded = 0, indirect = 0;
	auto has_indirect = [](std::span<const CbpfInsn> prog) {
		return std::any_of(prog.begin(), prog.end(), [](const CbpfInsn &p) {
			return BPF_CLASS(p.code) == BPF_LD && BPF_MODE(p.code) == BPF_IND;
		});
	};
	for (const auto &e : corpus_expressions()) {
		auto f = compile_filter(e, kLinkEthernet);
		REQUIRE(f);
		runs += compare_cut(e, f->cbpf, eth, mismatches, unbounded);
		indirect += has_indirect(f->cbpf) && cbpf_bytes_needed(f->cbpf);
		programs++;
		if (auto r = compile_filter(e, kLinkRaw)) {
			runs += compare_cut(e + " (raw)", r->cbpf, raw, mismatches, unbounded);
			indirect += has_indirect(r->cbpf) && cbpf_bytes_needed(r->cbpf);
			programs++;
		}
	}
	auto edge = generated_ethernet_packets(7);
	for (const auto &[name, prog] : handmade_programs()) {
		runs += compare_cut(name, prog, edge, mismatches, unbounded);
		programs++;
	}
	std::printf("bytes needed, cut vs whole packet: %zu programs (%zu bounded with indirect loads, %zu "
		    "unbounded), %zu runs, %zu mismatches\n",
		    programs, indirect, unbounded, runs, mismatches);
	CHECK(mismatches == 0);
	// The proof covers the bounded indirect loads: most port filters.
	CHECK(indirect >= 50);
	CHECK(runs >= 10000);
}

TEST_CASE("link-layer expressions at L3 capture points fail with a reason", "[filter]")
{
	for (const char *e : {"ether host 00:11:22:33:44:55", "arp", "rarp", "vlan", "mpls 10", "ether broadcast"}) {
		INFO(e);
		auto f = compile_filter(e, kLinkRaw);
		REQUIRE_FALSE(f);
		CHECK(f.error().status == ExitStatus::Runtime); // exit 1, as every filter error
		CHECK(f.error().hint.find("LINKTYPE_RAW") != std::string::npos);
		CHECK(compile_filter(e, kLinkEthernet));
	}
	auto ok = compile_filter("tcp port 80 and host 10.0.0.1", kLinkRaw);
	REQUIRE(ok);
	CHECK(ok->linktype == kLinkRaw);
	// A plain mistake is not blamed on the link layer.
	auto bad = compile_filter("tcp prot 80", kLinkRaw);
	REQUIRE_FALSE(bad);
	CHECK(bad.error().hint.find("LINKTYPE_RAW") == std::string::npos);
}

TEST_CASE("disassembly reads like the kernel's assembler", "[filter][disasm]")
{
	auto f = compile_filter("ip", kLinkEthernet);
	REQUIRE(f);
	auto t = translate_to_ebpf(f->cbpf, FilterAccess::Packet);
	REQUIRE(t);
	std::string text = disassemble_ebpf(t->insns);
	INFO(text);
	CHECK(text.find("   0: w3 = w3\n") == 0);
	CHECK(text.find("r4 += 14") != std::string::npos);
	CHECK(text.find("if r4 > r2 goto") != std::string::npos);
	CHECK(text.find("r6 = *(u16 *)(r4 - 2)") != std::string::npos);
	CHECK(text.find("r6 = be16 r6") != std::string::npos);
	CHECK(text.find("if w6 != 0x800 goto") != std::string::npos);
	CHECK(text.find("w0 = 0x40000") != std::string::npos); // ret #262144
	CHECK(text.find("exit") != std::string::npos);
	auto b = translate_to_ebpf(f->cbpf, FilterAccess::Buffer);
	REQUIRE(b);
	std::string btext = disassemble_ebpf(b->insns);
	INFO(btext);
	CHECK(btext.find("if r2 < 14 goto") != std::string::npos);
	CHECK(btext.find("r6 = *(u16 *)(r1 + 12)") != std::string::npos);
}
