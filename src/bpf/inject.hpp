// SPDX-License-Identifier: GPL-2.0-only
// Filter injection: how a tcpdump expression gets into capx's BPF programs.
//
// Every capx BPF program that filters calls one of the placeholder
// subprograms of bpf/include/capx_filter.bpf.h (capx_filter_pkt,
// capx_filter_buf, capx_filter_l3; ABI in include/capx/filter_abi.h). Each placeholder is a
// static __noinline function whose body loads a marker constant
// (include/capx/filter_marker.h) with one ld_imm64.
//
// The placeholder body only exists as such after libbpf has linked the
// subprograms into each program that calls them (bpf_object__relocate(),
// during bpf_object__load()), so the body is replaced at the one point
// libbpf offers after that: the program's SEC() handler. capx registers a
// custom handler (libbpf_register_prog_handler(), libbpf >= 1.0) for the
// section names its programs use -- capx/xdp, capx/xdp.frags, capx/raw_tp,
// capx/tp_btf, capx/fentry, capx/fexit, capx/kprobe, capx/uprobe -- with the
// program type and expected attach type libbpf's own handler of the same
// kind would use. Its prog_prepare_load_fn is called by
// bpf_object_load_prog() with the relocated instructions in place and the
// bpf_prog_load_opts about to be passed to the kernel; there capx:
//  1. finds the marker in bpf_program__insns() and the placeholder's extent
//     (from its function start to the next one: every call and function
//     pointer target starts a function; the BTF func_info must agree),
//  2. splices in the filter body (program_image.hpp), moving every call,
//     function pointer and jump that crosses it, and the BTF func_info and
//     line_info offsets behind it (line records inside the old body are
//     dropped, the one at its start kept, as the kernel's check_btf_line()
//     wants one at every function start),
//  3. installs the result with bpf_program__set_insns() -- which libbpf
//     documents as usable from this callback -- and points opts->func_info
//     and opts->line_info at the adjusted copies; libbpf 1.1 re-reads
//     prog->insns after the callback.
// The handler also sets BPF_F_XDP_HAS_FRAGS for capx/xdp.frags.
//
// Consequences for BPF program authors: put every program in a capx/
// section (load_with_filter() refuses other sections, whose placeholders
// would stay unfilled); set tracing attach targets with
// bpf_program__set_attach_target() before load; attach explicitly
// (bpf::Link) -- capx sections have no auto-attach. An unfilled placeholder
// returns 0 (keeps nothing), never "everything".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "filter/insn.hpp"

struct bpf_object;

namespace capx::bpf {

// The translated filter, one body per placeholder mode (ebpf_translator.hpp:
// translate_to_ebpf(..., FilterAccess::Packet / ::Buffer)). A body that is
// given must be called by at least one program of the object; a program
// calling a placeholder whose body is not given fails to load.
struct FilterBodies {
	std::optional<std::vector<EbpfInsn>> packet; // replaces capx_filter_pkt
	std::optional<std::vector<EbpfInsn>> buffer; // replaces capx_filter_buf
	// replaces capx_filter_l3: buffer mode, compiled for RAW (kLinkRaw)
	std::optional<std::vector<EbpfInsn>> l3;
};

// Loads `object` (opened, configured, not loaded) with the filter bodies
// spliced into every program that calls a placeholder. `load` does the load
// itself and returns libbpf's result; give the skeleton's load (it also maps
// the global data) -- the default is bpf_object__load(). On failure the
// error names the program and the verifier's last words; -v logs the whole
// verifier log.
[[nodiscard]] Result<void> load_with_filter(bpf_object *object, const FilterBodies &bodies,
					    const std::function<int()> &load = {});

// A verifier refusal from load_with_filter() in words a user can act on:
// the capture point ("mbuf"), the expression and the verifier's reason,
// with what to try. Any other error is returned as it is.
Error explain_refusal(Error e, std::string_view point, std::string_view expression);

// The verifier's limit on instructions processed per program
// (BPF_COMPLEXITY_LIMIT_INSNS in include/linux/bpf.h since 5.2).
inline constexpr std::uint32_t kVerifierInsnLimit = 1'000'000;

// What the verifier did to load one program: bpf_prog_info.verified_insns
// (Linux 5.16), the instructions it processed, which is what the limit
// counts. load_with_filter() logs each at -v.
struct ProgramCost {
	std::string program;
	std::uint32_t verified_insns = 0;
};

// The costs of every loaded program of `object`; a program whose info the
// kernel does not give is left out.
std::vector<ProgramCost> verifier_costs(const bpf_object *object);

} // namespace capx::bpf
