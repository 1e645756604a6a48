// SPDX-License-Identifier: GPL-2.0-only
// The native engine behind FilterExecutor: a classic BPF program compiled to
// x86-64 machine code, with libpcap's bpf_filter() semantics (the same
// contract as the threaded-code engine in executor.cpp, see there).
//
// The code is entered as FilterExecutor::Entry (System V ABI):
//   rdi = packet bytes, esi = caplen, edx = wire length, rcx = unused;
// it returns the verdict in eax, and bit 32 of rax set when the loop bound
// (kFilterLoopCopies backward jumps) cut the run. It is a leaf function: the
// scratch memory M[] lives in the red zone below rsp.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/error.hpp"
#include "core/mapped_memory.hpp"
#include "filter/insn.hpp"

namespace capx {

// True where compile_cbpf_x86_64's code can run (an x86-64 build).
bool cbpf_jit_supported();

// Machine code for a program validate_cbpf() accepted. Position independent:
// it can be copied anywhere. Fails on a build for another architecture.
[[nodiscard]] Result<std::vector<std::uint8_t>> compile_cbpf_x86_64(std::span<const CbpfInsn> program);

// Machine code in a mapping of its own: written while it is read-write, then
// made read+execute (never both writable and executable). load() fails where
// a W^X policy (SELinux execmem, PaX MPROTECT, a seccomp filter) refuses
// executable memory that was once writable.
class JitCode {
public:
	[[nodiscard]] static Result<JitCode> load(std::span<const std::uint8_t> code);

	const void *entry() const { return mapping_.data(); }
	std::size_t size() const { return size_; }

private:
	MappedMemory mapping_;
	std::size_t size_ = 0;
};

} // namespace capx
