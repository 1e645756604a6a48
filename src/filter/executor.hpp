// SPDX-License-Identifier: GPL-2.0-only
// The user-space filter engine for user-space capture points and offline use
// (`capx filter -r`), with libpcap's bpf_filter() verdicts, bit for bit. Two
// engines behind one interface, chosen once at create():
// - native: the program compiled to x86-64 machine code (filter/jit/);
// - threaded: the program pre-decoded into threaded code (one computed goto
//   per operation, a load fused with the jump that tests it), the portable
//   fallback for other architectures and for systems that refuse executable
//   memory.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "filter/insn.hpp"
#include "filter/jit/cbpf_jit.hpp"

namespace capx {

class FilterExecutor {
public:
	enum class Engine : std::uint8_t {
		Native,    // x86-64 machine code
		Threaded,  // pre-decoded threaded code
	};

	// Fails on a program libpcap's bpf_validate() would reject. The native
	// engine where it can run, else the threaded one.
	[[nodiscard]] static Result<FilterExecutor> create(std::span<const CbpfInsn> program);
	// Exactly the engine asked for: fails where it cannot run (tests, bench).
	[[nodiscard]] static Result<FilterExecutor> create(std::span<const CbpfInsn> program, Engine engine);

	FilterExecutor(FilterExecutor &&) noexcept;
	FilterExecutor &operator=(FilterExecutor &&) noexcept;
	~FilterExecutor();
	FilterExecutor(const FilterExecutor &) = delete;
	FilterExecutor &operator=(const FilterExecutor &) = delete;

	Engine engine() const { return engine_; }

	// bpf_filter(program, packet.data(), wire_len, packet.size()):
	// 0 = no match, otherwise the number of bytes to keep.
	// Loops stop like the eBPF translation's: the kFilterLoopCopies-th
	// backward jump returns 0 (ebpf_translator.hpp).
	// Inline: one indirect call per packet, straight into the engine.
	std::uint32_t run(std::span<const std::uint8_t> packet, std::uint32_t wire_len) const
	{
		return static_cast<std::uint32_t>(
			entry_(packet.data(), static_cast<std::uint32_t>(packet.size()), wire_len, context_));
	}

	// The same, telling whether the loop bound decided the verdict (where
	// libpcap's bpf_filter() would have gone on, perhaps forever).
	std::uint32_t run(std::span<const std::uint8_t> packet, std::uint32_t wire_len, bool &loop_cut) const
	{
		std::uint64_t r = entry_(packet.data(), static_cast<std::uint32_t>(packet.size()), wire_len, context_);
		loop_cut = (r >> 32) != 0;
		return static_cast<std::uint32_t>(r);
	}

	// Both engines' calling convention: the verdict in the low 32 bits of
	// the result, bit 32 set when the loop bound cut the run; `context` is
	// the threaded engine's code (the native code ignores it).
	using Entry = std::uint64_t (*)(const std::uint8_t *packet, std::uint32_t caplen, std::uint32_t wire_len,
					const void *context);

	struct Op;

private:
	FilterExecutor();
	Entry entry_ = nullptr;
	const void *context_ = nullptr;
	Engine engine_ = Engine::Threaded;
	std::vector<Op> ops_;  // threaded code; ops point at each other (stable across moves)
	JitCode native_;
};

} // namespace capx
