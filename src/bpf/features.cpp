// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/features.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "bpf/libbpf_setup.hpp"
#include "core/unique_fd.hpp"

namespace capx::bpf {

namespace {

[[nodiscard]] Result<void> from_probe(int ret, const char *what)
{
	if (ret == 1)
		return {};
	if (ret == 0)
		return fail(fmt::format("this kernel does not support {}", what));
	return fail_errno(-ret, fmt::format("cannot probe for {}", what));
}

// Loads "r0 = 0; exit" as a tracing program on the BTF function/typedef
// `btf_name` and attaches it for a moment.
[[nodiscard]] Result<void> try_tracing(bpf_attach_type attach, const char *btf_name, int kind, const char *what)
{
	std::unique_ptr<struct btf, decltype(&btf__free)> vmlinux(btf__load_vmlinux_btf(), &btf__free);
	if (!vmlinux)
		return fail_errno(errno, "cannot read the kernel's BTF");
	int id = btf__find_by_name_kind(vmlinux.get(), btf_name, kind);
	vmlinux.reset(); // large: freed before the probe rather than after
	if (id <= 0)
		return fail(fmt::format("cannot probe {}: the kernel has no '{}'", what, btf_name));

	const struct bpf_insn insns[] = {
		{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
		{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
		    .attach_btf_id = static_cast<__u32>(id));
	UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_TRACING, "capx_probe", "GPL", insns, 2, &opts));
	if (!prog)
		return fail_errno(errno, fmt::format("this kernel refuses {} programs", what));
	UniqueFd link(bpf_link_create(prog.get(), 0, attach, nullptr));
	if (!link)
		return fail_errno(errno, fmt::format("this kernel refuses to attach {} programs", what),
				  "fentry/fexit need BPF trampolines (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS) and no lockdown");
	return {};
}

[[nodiscard]] Result<void> probe_pmu(const char *pmu, const char *what)
{
	std::string path = fmt::format("/sys/bus/event_source/devices/{}/type", pmu);
	if (::access(path.c_str(), R_OK) != 0)
		return fail(fmt::format("this kernel has no {} ({} is missing)", what, path),
			    fmt::format("the kernel needs {}", pmu == std::string_view("kprobe") ? "CONFIG_KPROBE_EVENTS"
											 : "CONFIG_UPROBE_EVENTS"));
	return {};
}

[[nodiscard]] Result<void> run_probe(Feature f)
{
	switch (f) {
	case Feature::RingBuffer:
		return from_probe(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr), "BPF ring buffers");
	case Feature::Xdp:
		return from_probe(libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, nullptr), "XDP programs");
	case Feature::TpBtf:
		return try_tracing(BPF_TRACE_RAW_TP, "btf_trace_netif_receive_skb", BTF_KIND_TYPEDEF, "tp_btf");
	case Feature::Fentry:
		return try_tracing(BPF_TRACE_FENTRY, "netif_receive_skb", BTF_KIND_FUNC, "fentry");
	case Feature::Kprobe:
		return probe_pmu("kprobe", "kprobes");
	case Feature::Uprobe:
		return probe_pmu("uprobe", "uprobes");
	}
	return fail("unknown feature");
}

} // namespace

const char *feature_name(Feature f)
{
	switch (f) {
	case Feature::RingBuffer:
		return "ringbuf";
	case Feature::Xdp:
		return "xdp";
	case Feature::TpBtf:
		return "tp_btf";
	case Feature::Fentry:
		return "fentry";
	case Feature::Kprobe:
		return "kprobe";
	case Feature::Uprobe:
		return "uprobe";
	}
	return "?";
}

[[nodiscard]] Result<void> probe_feature(Feature f)
{
	static std::mutex mutex;
	static std::map<Feature, Result<void>> cache;
	if (auto r = setup_libbpf(); !r)
		return r;
	std::lock_guard lock(mutex);
	auto it = cache.find(f);
	if (it == cache.end())
		it = cache.emplace(f, run_probe(f)).first;
	return it->second;
}

} // namespace capx::bpf
