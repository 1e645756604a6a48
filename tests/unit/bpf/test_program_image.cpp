// SPDX-License-Identifier: GPL-2.0-only
// The instruction surgery of filter injection on hand-made programs, and
// the kernel BTF queries. No privileges needed; the BTF case needs the
// kernel's BTF ([needs:btf], tests/unit/needs_main.cpp).
#include <catch2/catch.hpp>

#include <linux/bpf.h>

#include <cstring>
#include <vector>

#include "bpf/btf.hpp"
#include "bpf/program_image.hpp"
#include "capx/filter_marker.h"

using capx::EbpfInsn;
using namespace capx::bpf;

namespace {

EbpfInsn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm)
{
	return EbpfInsn{code, static_cast<std::uint8_t>(dst | (src << 4)), off, imm};
}

EbpfInsn mov(std::uint8_t dst, std::int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
EbpfInsn add(std::uint8_t dst, std::int32_t imm) { return insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm); }
EbpfInsn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
EbpfInsn call_rel(std::int32_t rel) { return insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, rel); }
EbpfInsn jeq(std::uint8_t dst, std::int32_t imm, std::int16_t off) { return insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm); }
EbpfInsn ja(std::int16_t off) { return insn(BPF_JMP | BPF_JA, 0, 0, off, 0); }

void ld_imm64(std::vector<EbpfInsn> &v, std::uint8_t dst, std::uint8_t src, std::uint64_t value)
{
	v.push_back(insn(BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, static_cast<std::int32_t>(value & 0xffffffff)));
	v.push_back(insn(0, 0, 0, 0, static_cast<std::int32_t>(value >> 32)));
}

BtfExtRecords records(std::uint32_t rec_size, const std::vector<std::uint32_t> &offsets)
{
	BtfExtRecords r{rec_size, std::vector<std::uint8_t>(rec_size * offsets.size(), 0xab)};
	for (std::size_t i = 0; i < offsets.size(); i++)
		r.set_insn_off(i, offsets[i]);
	return r;
}

std::vector<std::uint32_t> offsets(const BtfExtRecords &r)
{
	std::vector<std::uint32_t> v;
	for (std::size_t i = 0; i < r.count(); i++)
		v.push_back(r.insn_off(i));
	return v;
}

// main (0..9) | helper A (10..12) | placeholder (13..16) | helper B (17..20)
//   main calls A, the placeholder and B, and loads B's address; B calls A
//   (a backward call across the placeholder); main jumps over its calls.
struct Layout {
	std::vector<EbpfInsn> insns;
	std::size_t a = 10, ph = 13, b = 17;
};

Layout make_program()
{
	Layout l;
	auto &v = l.insns;
	v.push_back(mov(6, 1));                  // 0
	v.push_back(call_rel(10 - 2));           // 1: call A
	v.push_back(call_rel(13 - 3));           // 2: call placeholder
	v.push_back(jeq(0, 0, 3));               // 3: -> 7
	v.push_back(call_rel(17 - 5));           // 4: call B
	ld_imm64(v, 2, BPF_PSEUDO_FUNC, 17 - 6); // 5-6: &B
	v.push_back(mov(0, 2));                  // 7
	v.push_back(ja(0));                      // 8
	v.push_back(exit_insn());                // 9
	v.push_back(mov(0, 10));                 // 10: A
	v.push_back(add(0, 1));                  // 11
	v.push_back(exit_insn());                // 12
	ld_imm64(v, 0, 0, CAPX_FILTER_PKT_MARKER); // 13-14: placeholder
	v.push_back(mov(0, 0));                  // 15
	v.push_back(exit_insn());                // 16
	v.push_back(call_rel(10 - 18));          // 17: B calls A
	v.push_back(jeq(0, 5, 1));               // 18: -> 20
	v.push_back(mov(0, 7));                  // 19
	v.push_back(exit_insn());                // 20
	return l;
}

std::int64_t call_target(const std::vector<EbpfInsn> &v, std::size_t i)
{
	return static_cast<std::int64_t>(i) + 1 + v[i].imm;
}

std::vector<EbpfInsn> body_of(std::size_t n)
{
	// r0 = 0; "if r0 == 99 goto <exit>" and "r0 += 1" alternately; exit.
	if (n == 1)
		return {exit_insn()};
	std::vector<EbpfInsn> body{mov(0, 0)};
	while (body.size() + 2 < n) {
		std::size_t i = body.size();
		if (i % 2)
			body.push_back(jeq(0, 99, static_cast<std::int16_t>(n - 1 - (i + 1))));
		else
			body.push_back(add(0, 1));
	}
	while (body.size() + 1 < n)
		body.push_back(add(0, 1));
	body.push_back(exit_insn());
	return body;
}

void check_spliced(std::size_t body_len)
{
	Layout l = make_program();
	ProgramImage image{l.insns, records(8, {0, 10, 13, 17}), records(16, {0, 3, 10, 13, 15, 16, 17, 19})};
	auto body = body_of(body_len);
	REQUIRE(body.size() == body_len);
	auto r = splice_placeholder(image, CAPX_FILTER_PKT_MARKER, body);
	REQUIRE(r);
	REQUIRE(*r);

	const std::int64_t delta = static_cast<std::int64_t>(body_len) - 4;
	const auto &v = image.insns;
	REQUIRE(v.size() == l.insns.size() + delta);
	const std::int64_t new_b = 17 + delta;
	CHECK(call_target(v, 1) == 10);
	CHECK(call_target(v, 2) == 13);
	CHECK(call_target(v, 4) == new_b);
	CHECK(call_target(v, 5) == new_b);          // function pointer
	CHECK(v[3].off == 3);                        // main's own jump: unchanged
	CHECK(call_target(v, static_cast<std::size_t>(new_b)) == 10); // B -> A, backwards across
	CHECK(v[new_b + 1].off == 1);
	for (std::size_t i = 0; i < body_len; i++)
		CHECK(std::memcmp(&v[13 + i], &body[i], sizeof(EbpfInsn)) == 0);
	CHECK(offsets(image.func_info) == std::vector<std::uint32_t>{0, 10, 13, static_cast<std::uint32_t>(new_b)});
	CHECK(offsets(image.line_info) == std::vector<std::uint32_t>{0, 3, 10, 13, static_cast<std::uint32_t>(new_b),
								     static_cast<std::uint32_t>(new_b + 2)});
	// Record contents other than the offset are kept.
	CHECK(image.line_info.bytes[4] == 0xab);
	CHECK(function_starts(v) == std::vector<std::size_t>{0, 10, 13, static_cast<std::size_t>(new_b)});
}

} // namespace

TEST_CASE("function starts are the program start and every call or function pointer target")
{
	Layout l = make_program();
	CHECK(function_starts(l.insns) == std::vector<std::size_t>{0, 10, 13, 17});
}

TEST_CASE("a tiny body shrinks the placeholder and moves everything behind it")
{
	check_spliced(1);
	check_spliced(2);
}

TEST_CASE("a body of the placeholder's own size changes nothing else")
{
	check_spliced(4);
}

TEST_CASE("a large body (250 instructions) grows the program and moves everything behind it")
{
	check_spliced(250);
}

TEST_CASE("a program without the marker is left alone")
{
	Layout l = make_program();
	ProgramImage image{l.insns, {}, {}};
	auto r = splice_placeholder(image, CAPX_FILTER_BUF_MARKER, body_of(3));
	REQUIRE(r);
	CHECK_FALSE(*r);
	CHECK(image.insns.size() == l.insns.size());
}

TEST_CASE("malformed bodies are refused with a reason")
{
	Layout l = make_program();
	ProgramImage image{l.insns, {}, {}};
	std::vector<EbpfInsn> calls{call_rel(0), exit_insn()};
	auto r = splice_placeholder(image, CAPX_FILTER_PKT_MARKER, calls);
	REQUIRE_FALSE(r);
	CHECK_THAT(r.error().message, Catch::Contains("calls another function"));

	std::vector<EbpfInsn> jumps_out{jeq(0, 1, 5), exit_insn()};
	r = splice_placeholder(image, CAPX_FILTER_PKT_MARKER, jumps_out);
	REQUIRE_FALSE(r);
	CHECK_THAT(r.error().message, Catch::Contains("jumps out"));

	std::vector<EbpfInsn> no_exit{mov(0, 1)};
	CHECK_FALSE(check_filter_body(no_exit));
	CHECK_FALSE(check_filter_body({}));
	std::vector<EbpfInsn> map_ref;
	ld_imm64(map_ref, 1, BPF_PSEUDO_MAP_FD, 3);
	map_ref.push_back(exit_insn());
	CHECK_FALSE(check_filter_body(map_ref));
}

TEST_CASE("BTF func_info that disagrees with the calls is an error")
{
	Layout l = make_program();
	ProgramImage image{l.insns, records(8, {0, 10, 17}), {}};
	auto r = splice_placeholder(image, CAPX_FILTER_PKT_MARKER, body_of(3));
	REQUIRE_FALSE(r);
	CHECK_THAT(r.error().message, Catch::Contains("func_info"));
}

TEST_CASE("the kernel's BTF tells which argument is the sk_buff", "[needs:btf]")
{
	auto btf = KernelBtf::load();
	REQUIRE(btf);
	REQUIRE(btf->has_function("ip_rcv"));
	auto found = btf->pointer_argument("ip_rcv", "sk_buff");
	REQUIRE(found);
	CHECK(*found == 1);
	auto wrong = btf->pointer_argument("ip_rcv", "sk_buff", 2);
	REQUIRE_FALSE(wrong);
	CHECK(wrong.error().message == "argument 2 of ip_rcv is 'struct net_device *', not 'struct sk_buff *'");
	CHECK_FALSE(btf->pointer_argument("ip_rcv", "sk_buff", 9));
	CHECK_FALSE(btf->pointer_argument("no_such_function_capx", "sk_buff"));

	REQUIRE(btf->has_tracepoint("kfree_skb"));
	auto tp = btf->tracepoint_pointer_argument("kfree_skb", "sk_buff");
	REQUIRE(tp);
	CHECK(*tp == 1);
}
