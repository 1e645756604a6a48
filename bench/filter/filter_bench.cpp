// SPDX-License-Identifier: GPL-2.0-only
// ns per packet of the filter engines on ten typical expressions: libpcap's
// bpf_filter() (the reference interpreter), capx's user-space executor with
// each of its engines (threaded code, native x86-64 code), and the
// translated eBPF in the kernel (BPF_PROG_TEST_RUN with a repeat count, both
// access modes; needs root, skipped otherwise). With --instructions (under
// callgrind, see run.sh) it marks each engine's loop for counting instead.
// See bench/README.md, section "filter".
#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define CAPX_HAVE_CALLGRIND 1
#endif

#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"
#include "filter/executor.hpp"
#include "filter/kernel_runner.hpp"

using namespace capx;

namespace {

using Bytes = std::vector<std::uint8_t>;

// A small mix of frames: TCP/80 SYN, DNS over UDP, TCP over IPv6, a VLAN-tagged
// HTTP request, an ARP request.
std::vector<Bytes> packets()
{
	auto hex = [](const char *s) {
		Bytes b;
		for (; s[0] && s[1]; s += 2) {
			while (*s == ' ')
				s++;
			unsigned v;
			std::sscanf(s, "%2x", &v);
			b.push_back(static_cast<std::uint8_t>(v));
		}
		return b;
	};
	const char *eth = "001122334455 66778899aabb";
	std::vector<Bytes> out;
	const std::string tcp = "c3500050" "00000001" "00000000" "50022000" "00000000";
	out.push_back(hex((std::string(eth) + "0800" "45000028" "12344000" "40060000" "0a000001" "0a000002" + tcp).c_str()));
	out.push_back(hex((std::string(eth) + "0800" "4500003c" "12340000" "40110000" "0a000002" "0a000001"
			   "d4310035" "00280000" "12340100000100000000000003777777076578616d706c6503636f6d0000010001").c_str()));
	out.push_back(hex((std::string(eth) + "86dd" "60000000" "00140640" "20010db8000000000000000000000001"
			   "20010db8000000000000000000000002" + tcp).c_str()));
	out.push_back(hex((std::string(eth) + "8100" "000a" "0800" "4500003c" "12344000" "40060000" "0a000001" "0a000002"
			   "c3500050" "00000001" "00000000" "501800ff" "00000000" "474554202f20485454502f312e310d0a").c_str()));
	out.push_back(hex((std::string(eth) + "0806" "0001" "0800" "06" "04" "0001" "001122334455" "0a000001"
			   "000000000000" "0a000002").c_str()));
	return out;
}

// Timing on a shared, loaded machine: the engines take turns in short
// samples (kRounds over the packet mix), kSamples each, and each engine's
// figure is its fastest sample. Other processes can only add time to a
// sample, never remove it, so the minimum is the closest to the undisturbed
// cost, and taking turns exposes every engine to the same load.
constexpr int kSamples = 21;
constexpr int kRounds = 20000;

// Under callgrind (--instructions): one sample each, counted between
// client requests, so that run.sh can read instructions per packet.
bool count_instructions = false;
constexpr int kCountRounds = 2000;

// The measured loop; `run` inlines into its instantiation, so the call
// per packet is the engine's own (bpf_filter, or the executor's indirect call).
template<typename F>
double sample_ns(const std::vector<Bytes> &pkts, int rounds, F &&run)
{
	std::uint64_t sink = 0;
	auto t0 = std::chrono::steady_clock::now();
	for (int r = 0; r < rounds; r++)
		for (const auto &p : pkts)
			sink += run(p);
	auto t1 = std::chrono::steady_clock::now();
	// Keeps the verdicts (and so the calls) from being optimised away.
	asm volatile("" : : "r"(sink));
	return std::chrono::duration<double, std::nano>(t1 - t0).count() / (rounds * pkts.size());
}

template<typename F>
void measure(const std::vector<Bytes> &pkts, double &best, const std::string &label, F &&run)
{
	if (!count_instructions) {
		best = std::min(best, sample_ns(pkts, kRounds, run));
		return;
	}
#ifdef CAPX_HAVE_CALLGRIND
	CALLGRIND_ZERO_STATS;
	CALLGRIND_TOGGLE_COLLECT;
	sample_ns(pkts, kCountRounds, run);
	CALLGRIND_TOGGLE_COLLECT;
	CALLGRIND_DUMP_STATS_AT(label.c_str());
#else
	(void)label;
#endif
}

} // namespace

int main(int argc, char **argv)
{
	count_instructions = argc > 1 && std::strcmp(argv[1], "--instructions") == 0;
	const char *exprs[] = {
		"tcp port 80",
		"host 10.0.0.1",
		"udp port 53",
		"ip6 and tcp",
		"net 10.0.0.0/8 and tcp",
		"tcp[tcpflags] & tcp-syn != 0",
		"vlan and tcp",
		"not arp and not icmp",
		"portrange 1000-2000",
		"tcp[((tcp[12]&0xf0)>>2):4] = 0x47455420",
		// Not one of the ten: the empty expression (one `ret`) shows
		// what the call itself costs each engine in this loop, the floor
		// under every row above. Left out of the means.
		"",
	};
	auto pkts = packets();
	std::string why = count_instructions ? "counting instructions" : KernelFilterRunner::unavailable_reason();
	if (!why.empty())
		std::printf("kernel columns skipped: %s\n", why.c_str());
	std::printf("%-42s %8s %8s %8s %8s %8s %8s %8s %8s\n", "expression (ns/packet)", "libpcap", "threaded", "native",
		    "kern-pkt", "kern-buf", "lib/thr", "lib/nat", "lib/kpkt");
	double sum_threaded = 0, sum_native = 0, min_native = 1e30;
	for (const char *e : exprs) {
		const bool floor = *e == 0;
		const std::string name = floor ? "(empty expression: the call)" : e;
		auto f = compile_filter(e, kLinkEthernet);
		if (!f) {
			std::printf("%s: %s\n", e, f.error().message.c_str());
			return 1;
		}
		const auto *raw = reinterpret_cast<const bpf_insn *>(f->cbpf.data());
		auto threaded = FilterExecutor::create(f->cbpf, FilterExecutor::Engine::Threaded);
		// The engine capx uses: native where it can run.
		auto native = FilterExecutor::create(f->cbpf);
		if (!threaded || !native)
			return 1;
		if (native->engine() != FilterExecutor::Engine::Native)
			std::printf("(native engine unavailable: the native column is the threaded engine)\n");
		// The same verdicts first, or the timing means nothing.
		for (const auto &p : pkts) {
			auto len = static_cast<std::uint32_t>(p.size());
			std::uint32_t want = bpf_filter(raw, p.data(), len, len);
			if (threaded->run(p, len) != want || native->run(p, len) != want) {
				std::printf("%s: verdicts differ from bpf_filter()\n", e);
				return 1;
			}
		}
		double lib = 1e30, thr = 1e30, nat = 1e30;
		for (int s = 0; s < (count_instructions ? 1 : kSamples); s++) {
			measure(pkts, lib, name + "|libpcap", [&](const Bytes &p) {
				return bpf_filter(raw, p.data(), static_cast<u_int>(p.size()), static_cast<u_int>(p.size()));
			});
			measure(pkts, thr, name + "|threaded", [&](const Bytes &p) {
				return threaded->run(p, static_cast<std::uint32_t>(p.size()));
			});
			measure(pkts, nat, name + "|native", [&](const Bytes &p) {
				return native->run(p, static_cast<std::uint32_t>(p.size()));
			});
		}
		if (count_instructions)
			continue;
		double kern[2] = {0, 0};
		if (why.empty()) {
			int m = 0;
			for (auto mode : {FilterAccess::Packet, FilterAccess::Buffer}) {
				auto t = translate_to_ebpf(f->cbpf, mode);
				auto runner = t ? KernelFilterRunner::load(*t) : std::unexpected(t.error());
				if (!runner) {
					std::printf("%s: %s\n", e, runner.error().message.c_str());
					return 1;
				}
				double total = 0;
				for (const auto &p : pkts)
					total += runner->time_ns(p, static_cast<std::uint32_t>(p.size()), 200000).value_or(0);
				kern[m++] = total / pkts.size();
			}
		}
		if (!floor) {
			sum_threaded += lib / thr;
			sum_native += lib / nat;
			min_native = std::min(min_native, lib / nat);
		}
		std::printf("%-42s %8.2f %8.2f %8.2f %8.2f %8.2f %7.2fx %7.2fx %7.2fx\n", name.c_str(), lib, thr, nat,
			    kern[0], kern[1],
			    lib / thr, lib / nat, kern[0] > 0 ? lib / kern[0] : 0.0);
	}
	if (count_instructions)
		return 0;
	constexpr double n = sizeof exprs / sizeof exprs[0] - 1;
	std::printf("mean libpcap/executor speed-up: threaded %.2fx, native %.2fx (lowest native %.2fx)\n",
		    sum_threaded / n, sum_native / n, min_native);
	std::printf("user-space columns: fastest of %d interleaved samples of %d rounds x %zu packets.\n"
		    "kernel columns are BPF_PROG_TEST_RUN's own per-run average (repeat 200000), which includes\n"
		    "the XDP wrapper: a map lookup, and in buffer mode a bpf_xdp_load_bytes copy of the packet.\n",
		    kSamples, kRounds, pkts.size());
	return 0;
}
