// SPDX-License-Identifier: GPL-2.0-only
// The native filter engine's own parts: the x86-64 encoder (bytes checked
// against GNU objdump's disassembly, quoted next to each), the code's
// mapping, and the fall-back to the threaded engine where a W^X policy
// refuses executable memory (a real seccomp filter in a child process).
// The verdicts themselves are proven against libpcap in
// test_filter_engine.cpp (every corpus expression, both engines) and by the
// fuzzer.
#include <catch2/catch.hpp>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <functional>
#include <vector>

#include <fmt/format.h>

#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/executor.hpp"
#include "filter/jit/cbpf_jit.hpp"
#include "filter/jit/x86_64_emitter.hpp"
#include "packet_corpus.hpp"
#include "reference.hpp"

using namespace capx;
using namespace capx::x86;

namespace {

std::vector<std::uint8_t> encode(const std::function<void(Emitter &)> &emit)
{
	Emitter e;
	emit(e);
	return e.code();
}

using Bytes = std::vector<std::uint8_t>;

} // namespace

TEST_CASE("x86-64 encodings match objdump's reading", "[filter][jit]")
{
	// Each: what objdump -d prints for the bytes.
	CHECK(encode([](Emitter &e) { e.load32(Reg::rax, Mem{Reg::rsp, -64}); }) == Bytes{0x8b, 0x44, 0x24, 0xc0});
	// mov -0x40(%rsp),%eax: rsp as a base needs a SIB byte.
	CHECK(encode([](Emitter &e) { e.load32(Reg::r9, Mem{Reg::r13, 0}); }) == Bytes{0x45, 0x8b, 0x4d, 0x00});
	// mov 0x0(%r13),%r9d: r13 with no displacement still needs a disp8.
	CHECK(encode([](Emitter &e) { e.load16_zx(Reg::rcx, Mem{Reg::rdi, 100000}); }) ==
	      Bytes{0x0f, 0xb7, 0x8f, 0xa0, 0x86, 0x01, 0x00}); // movzwl 0x186a0(%rdi),%ecx
	CHECK(encode([](Emitter &e) { e.load8_zx(Reg::rax, Mem{Reg::rdi, 14, Reg::rcx}); }) ==
	      Bytes{0x0f, 0xb6, 0x44, 0x0f, 0x0e}); // movzbl 0xe(%rdi,%rcx,1),%eax
	CHECK(encode([](Emitter &e) { e.load8_zx(Reg::r10, Mem{Reg::r12, 0, Reg::r9}); }) ==
	      Bytes{0x47, 0x0f, 0xb6, 0x14, 0x0c}); // movzbl (%r12,%r9,1),%r10d
	CHECK(encode([](Emitter &e) { e.store64(Mem{Reg::rsp, -8}, Reg::rdx); }) ==
	      Bytes{0x48, 0x89, 0x54, 0x24, 0xf8}); // mov %rdx,-0x8(%rsp)
	CHECK(encode([](Emitter &e) { e.alu32(Alu::cmp, Reg::rsi, 0x3a); }) == Bytes{0x83, 0xfe, 0x3a});
	CHECK(encode([](Emitter &e) { e.alu32(Alu::and_, Reg::rax, 0xff000000u); }) ==
	      Bytes{0x25, 0x00, 0x00, 0x00, 0xff}); // and $0xff000000,%eax
	CHECK(encode([](Emitter &e) { e.alu32(Alu::sub, Reg::r11, 0x12345); }) ==
	      Bytes{0x41, 0x81, 0xeb, 0x45, 0x23, 0x01, 0x00}); // sub $0x12345,%r11d
	CHECK(encode([](Emitter &e) { e.alu32(Alu::cmp, Reg::rax, 0xffffffffu); }) ==
	      Bytes{0x83, 0xf8, 0xff}); // cmp $0xffffffff,%eax (imm8 sign-extended)
	CHECK(encode([](Emitter &e) { e.alu64(Alu::cmp, Reg::rdx, Reg::rsi); }) == Bytes{0x48, 0x39, 0xf2});
	CHECK(encode([](Emitter &e) { e.test8(Reg::rax, 2); }) == Bytes{0xa8, 0x02}); // test $0x2,%al
	CHECK(encode([](Emitter &e) { e.test8(Reg::rsi, 2); }) == Bytes{0x40, 0xf6, 0xc6, 0x02}); // %sil, not %dh
	CHECK(encode([](Emitter &e) { e.test32(Reg::rcx, 0x1fff); }) == Bytes{0xf7, 0xc1, 0xff, 0x1f, 0x00, 0x00});
	CHECK(encode([](Emitter &e) { e.imul32(Reg::rax, 7); }) == Bytes{0x6b, 0xc0, 0x07});
	CHECK(encode([](Emitter &e) { e.imul32(Reg::rax, Reg::rcx); }) == Bytes{0x0f, 0xaf, 0xc1});
	CHECK(encode([](Emitter &e) { e.div32(Reg::r9); }) == Bytes{0x41, 0xf7, 0xf1});
	CHECK(encode([](Emitter &e) { e.shift32(Shift::shl, Reg::rcx, 2); }) == Bytes{0xc1, 0xe1, 0x02});
	CHECK(encode([](Emitter &e) { e.shift32_cl(Shift::shr, Reg::rax); }) == Bytes{0xd3, 0xe8});
	CHECK(encode([](Emitter &e) { e.bswap32(Reg::r8); }) == Bytes{0x41, 0x0f, 0xc8});
	CHECK(encode([](Emitter &e) { e.ror16(Reg::rax, 8); }) == Bytes{0x66, 0xc1, 0xc8, 0x08});
	CHECK(encode([](Emitter &e) { e.cmov32(Cond::ae, Reg::rax, Reg::rdx); }) == Bytes{0x0f, 0x43, 0xc2});
	CHECK(encode([](Emitter &e) { e.lea64(Reg::rdx, Mem{Reg::rcx, 16}); }) == Bytes{0x48, 0x8d, 0x51, 0x10});
	CHECK(encode([](Emitter &e) { e.mov64(Reg::rax, 1ull << 32); }) ==
	      Bytes{0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}); // movabs
	CHECK(encode([](Emitter &e) { e.mov32(Reg::r8, Reg::rdx); }) == Bytes{0x41, 0x89, 0xd0});
	CHECK(encode([](Emitter &e) { e.mov32(Reg::rax, 0u); }) == Bytes{0x31, 0xc0}); // xor %eax,%eax
	CHECK(encode([](Emitter &e) { e.inc32(Reg::r11); }) == Bytes{0x41, 0xff, 0xc3});
	CHECK(encode([](Emitter &e) { e.neg32(Reg::rax); }) == Bytes{0xf7, 0xd8});
	CHECK(encode([](Emitter &e) { e.jcc8(Cond::b, -2); }) == Bytes{0x72, 0xfe});
	CHECK(encode([](Emitter &e) { e.jcc32(Cond::ne, 0x100); }) == Bytes{0x0f, 0x85, 0x00, 0x01, 0x00, 0x00});
	CHECK(encode([](Emitter &e) { e.jmp8(5); }) == Bytes{0xeb, 0x05});
	CHECK(encode([](Emitter &e) { e.jmp32(-6); }) == Bytes{0xe9, 0xfa, 0xff, 0xff, 0xff});
	CHECK(encode([](Emitter &e) { e.ret(); }) == Bytes{0xc3});
}

TEST_CASE("native code: short jumps where they reach, one engine per executor", "[filter][jit]")
{
	if (!cbpf_jit_supported()) {
		WARN("not an x86-64 build: no native engine");
		return;
	}
	auto f = compile_filter("tcp port 80", kLinkEthernet);
	REQUIRE(f);
	auto code = compile_cbpf_x86_64(f->cbpf);
	REQUIRE(code);
	// ~20 classic instructions: well under 1 KiB once jumps are short.
	CHECK(code->size() < 600);
	auto ex = FilterExecutor::create(f->cbpf);
	REQUIRE(ex);
	CHECK(ex->engine() == FilterExecutor::Engine::Native);
	// A moved executor keeps its code.
	FilterExecutor moved = std::move(*ex);
	auto packets = test::generated_ethernet_packets();
	for (const auto &p : packets)
		REQUIRE(moved.run(p.data, p.wire_len) == test::libpcap_verdict(f->cbpf, p.data, p.wire_len));
	CHECK_FALSE(compile_cbpf_x86_64({}));
}

TEST_CASE("native code: a large program (long jumps, several pages)", "[filter][jit]")
{
	if (!cbpf_jit_supported()) {
		WARN("not an x86-64 build: no native engine");
		return;
	}
	// 200 alternatives: the early ones jump over kilobytes of code.
	std::string expr = "udp port 53";
	for (int i = 0; i < 100; i++)
		expr += fmt::format(" or host 10.{}.{}.1 or tcp port {}", i / 16, i % 16, 1000 + i);
	auto f = compile_filter(expr, kLinkEthernet);
	REQUIRE(f);
	auto code = compile_cbpf_x86_64(f->cbpf);
	INFO((code ? std::string() : code.error().message));
	REQUIRE(code);
	CHECK(code->size() > 8192);
	auto ex = FilterExecutor::create(f->cbpf, FilterExecutor::Engine::Native);
	REQUIRE(ex);
	auto packets = test::generated_ethernet_packets();
	auto shared = test::shared_pcap_packets();
	packets.insert(packets.end(), shared.begin(), shared.end());
	std::size_t matched = 0;
	for (const auto &p : packets) {
		std::uint32_t want = test::libpcap_verdict(f->cbpf, p.data, p.wire_len);
		INFO(p.what);
		REQUIRE(ex->run(p.data, p.wire_len) == want);
		matched += want != 0;
	}
	CHECK(matched > 0);
	std::printf("large program: %zu classic instructions, %zu bytes of code, %zu packets, %zu matched, "
		    "0 mismatches\n",
		    f->cbpf.size(), code->size(), packets.size(), matched);
}

namespace {

// Installs a seccomp filter that refuses mprotect(..., PROT_EXEC) with
// EACCES, as SELinux's execmem denial or PaX MPROTECT would.
bool refuse_executable_memory()
{
	sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 0, 3),
		// The low half of the third argument (little endian).
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
	return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	       ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0;
}

} // namespace

TEST_CASE("executable memory refused: the threaded engine, same verdicts", "[filter][jit]")
{
	if (!cbpf_jit_supported()) {
		WARN("not an x86-64 build: the threaded engine is the only one");
		return;
	}
	auto packets = test::generated_ethernet_packets();
	std::vector<CompiledFilter> filters;
	for (const auto &e : test::corpus_expressions()) {
		auto f = compile_filter(e, kLinkEthernet);
		REQUIRE(f);
		filters.push_back(std::move(*f));
	}
	// In a child: the seccomp filter stays with the process that installs it.
	pid_t pid = ::fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (!refuse_executable_memory())
			::_exit(10);
		// The refusal is real: asking for the native engine fails...
		auto native = FilterExecutor::create(filters.front().cbpf, FilterExecutor::Engine::Native);
		if (native || native.error().message.find("mprotect") == std::string::npos)
			::_exit(11);
		// ...and create() falls back, with libpcap's verdicts.
		for (const auto &f : filters) {
			auto ex = FilterExecutor::create(f.cbpf);
			if (!ex || ex->engine() != FilterExecutor::Engine::Threaded)
				::_exit(12);
			for (const auto &p : packets) {
				bool cut = false;
				std::uint32_t got = ex->run(p.data, p.wire_len, cut);
				if (!cut && got != test::libpcap_verdict(f.cbpf, p.data, p.wire_len))
					::_exit(13);
			}
		}
		::_exit(0);
	}
	int status = 0;
	REQUIRE(::waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFEXITED(status));
	// 10: no seccomp; 11: mprotect not refused; 12: no fall-back; 13: a verdict differs.
	CHECK(WEXITSTATUS(status) == 0);
	std::printf("W^X fall-back: %zu expressions x %zu packets on the threaded engine under a seccomp "
		    "mprotect(PROT_EXEC) refusal\n",
		    filters.size(), packets.size());
}
