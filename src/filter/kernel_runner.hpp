// SPDX-License-Identifier: GPL-2.0-only
// Runs a translated filter in the kernel, for tests, benchmarks and
// `capx filter --engine kernel`: the subprogram is wrapped into a complete
// XDP program assembled here from instructions and run on given bytes with
// BPF_PROG_TEST_RUN. Needs root (CAP_BPF + CAP_NET_ADMIN for XDP test runs).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "filter/ebpf_translator.hpp"

namespace capx {

class KernelFilterRunner {
public:
	// Loads the program (verifier log in the error on failure).
	//   Packet access: the subprogram gets data, data_end and the wire length.
	//   Buffer access: the wrapper first copies the packet into an array
	//   map value of CAPX_PACKET_BUF_SIZE bytes (bpf_xdp_load_bytes).
	[[nodiscard]] static Result<KernelFilterRunner> load(const EbpfFilter &filter);

	// The filter's return value for `packet` (the captured bytes, any length
	// from 0 up to about 3 KiB, the XDP test-run limit) with `wire_len` >=
	// packet.size(): truncated captures are run as they are.
	[[nodiscard]] Result<std::uint32_t> run(std::span<const std::uint8_t> packet, std::uint32_t wire_len) const;

	// Average ns per filter run over `repeat` runs in one test-run call
	// (the kernel's own timing, so the syscall cost is spread thin).
	[[nodiscard]] Result<double> time_ns(std::span<const std::uint8_t> packet, std::uint32_t wire_len,
			       std::uint32_t repeat) const;

	// Why kernel runs cannot work here (not root, no BPF), empty if they can.
	static std::string unavailable_reason();

	// Largest captured length run() accepts.
	static constexpr std::uint32_t kMaxPacket = 3000;

	const std::string &verifier_log() const { return log_; }
	// Instructions the verifier processed to load it (bpf_prog_info,
	// Linux 5.16; 0 where the kernel does not say): the filter's own share
	// of every capture program it is injected into.
	std::uint32_t verified_insns() const { return verified_insns_; }

private:
	[[nodiscard]] Result<std::uint32_t> test_run(std::span<const std::uint8_t> packet, std::uint32_t wire_len,
				       std::uint32_t repeat, std::uint32_t *duration) const;

	FilterAccess access_ = FilterAccess::Packet;
	UniqueFd io_map_;
	UniqueFd buf_map_;
	UniqueFd prog_;
	std::string log_;
	std::uint32_t verified_insns_ = 0;
};

} // namespace capx
