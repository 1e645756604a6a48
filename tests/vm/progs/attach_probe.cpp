// SPDX-License-Identifier: GPL-2.0-only
// vm-attach-probe: proves that this kernel lets a BPF program attach to a
// kernel function the way `capx skb` will (fentry, fexit, kprobe) and that
// the program then runs. It loads a three-line program that counts its own
// calls in an array map, attaches it, runs a trigger command, and reports
// the count. Exit 0 when the program ran, 1 when loading, attaching or
// running failed. It is deliberately independent of capx's own BPF code: it
// is the yardstick for the kernel, not for capx.
//
//   vm-attach-probe fentry|fexit|kprobe FUNCTION -- TRIGGER ARGS...
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace capx {
namespace {

enum class AttachKind { Fentry, Fexit, Kprobe };

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	bpf_insn i{};
	i.code = code;
	i.dst_reg = dst;
	i.src_reg = src;
	i.off = off;
	i.imm = imm;
	return i;
}

// counter[0] += 1; return 0. Valid for tracing and kprobe programs alike:
// neither reads its context.
std::vector<bpf_insn> counting_program(int map_fd)
{
	return {
		// r1 = map (ld_imm64 with BPF_PSEUDO_MAP_FD, two slots)
		insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
		insn(0, 0, 0, 0, 0),
		// *(u32 *)(r10 - 4) = 0; r2 = r10 - 4
		insn(BPF_ST | BPF_W | BPF_MEM, BPF_REG_10, 0, -4, 0),
		insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
		insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		// if (r0 == NULL) goto out
		insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),
		// lock *(u64 *)r0 += 1
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1),
		insn(BPF_STX | BPF_DW | BPF_ATOMIC, BPF_REG_0, BPF_REG_1, 0, BPF_ADD),
		// out: return 0
		insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
}

[[nodiscard]] Result<AttachKind> parse_kind(std::string_view name)
{
	if (name == "fentry")
		return AttachKind::Fentry;
	if (name == "fexit")
		return AttachKind::Fexit;
	if (name == "kprobe")
		return AttachKind::Kprobe;
	return fail_usage("unknown attach kind '" + std::string(name) + "'", "use fentry, fexit or kprobe");
}

// fentry/fexit name their target by BTF id in the running kernel's BTF.
[[nodiscard]] Result<int> vmlinux_function_id(const std::string &function)
{
	std::unique_ptr<struct btf, decltype(&btf__free)> vmlinux(btf__load_vmlinux_btf(), &btf__free);
	if (!vmlinux)
		return fail_errno(errno, "loading vmlinux BTF");
	int id = btf__find_by_name_kind(vmlinux.get(), function.c_str(), BTF_KIND_FUNC);
	if (id < 0)
		return fail("no BTF function named " + function);
	return id;
}

[[nodiscard]] Result<UniqueFd> load_program(AttachKind kind, const std::string &function, int map_fd)
{
	auto insns = counting_program(map_fd);
	std::string log(64 * 1024, '\0');
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	opts.log_buf = log.data();
	opts.log_size = log.size();
	opts.log_level = 1;

	bpf_prog_type type = BPF_PROG_TYPE_KPROBE;
	if (kind != AttachKind::Kprobe) {
		auto id = vmlinux_function_id(function);
		if (!id)
			return std::unexpected(id.error());
		type = BPF_PROG_TYPE_TRACING;
		opts.expected_attach_type = kind == AttachKind::Fentry ? BPF_TRACE_FENTRY : BPF_TRACE_FEXIT;
		opts.attach_btf_id = *id;
	}
	int fd = bpf_prog_load(type, "vm_probe", "GPL", insns.data(), insns.size(), &opts);
	if (fd < 0) {
		int err = errno;
		std::fprintf(stderr, "%s", log.c_str());
		return fail_errno(err, "loading the program");
	}
	return UniqueFd(fd);
}

// The kprobe PMU (perf_event_open with the PMU type from sysfs) is how a
// kprobe is created without tracefs text files; see
// Documentation/trace/kprobetrace.rst and perf_event_open(2).
[[nodiscard]] Result<int> kprobe_pmu_type()
{
	std::ifstream file("/sys/bus/event_source/devices/kprobe/type");
	int type = -1;
	if (!(file >> type))
		return fail("no kprobe PMU in /sys/bus/event_source/devices (kernel without kprobes?)");
	return type;
}

// Returns the fd that keeps the program attached.
[[nodiscard]] Result<UniqueFd> attach(AttachKind kind, const std::string &function, int prog_fd)
{
	if (kind != AttachKind::Kprobe) {
		// BPF_RAW_TRACEPOINT_OPEN with no name attaches a tracing program
		// to the target given at load time (kernel/bpf/syscall.c,
		// bpf_raw_tp_link_attach).
		int fd = bpf_raw_tracepoint_open(nullptr, prog_fd);
		if (fd < 0)
			return fail_errno(errno, "attaching");
		return UniqueFd(fd);
	}
	auto type = kprobe_pmu_type();
	if (!type)
		return std::unexpected(type.error());
	perf_event_attr attr{};
	attr.size = sizeof(attr);
	attr.type = *type;
	attr.config1 = reinterpret_cast<uintptr_t>(function.c_str());
	attr.config2 = 0;
	int pfd = static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC));
	if (pfd < 0)
		return fail_errno(errno, "creating the kprobe");
	UniqueFd perf(pfd);
	if (ioctl(perf.get(), PERF_EVENT_IOC_SET_BPF, prog_fd) < 0)
		return fail_errno(errno, "attaching to the kprobe");
	if (ioctl(perf.get(), PERF_EVENT_IOC_ENABLE, 0) < 0)
		return fail_errno(errno, "enabling the kprobe");
	return perf;
}

[[nodiscard]] Result<void> run_trigger(char **argv)
{
	pid_t pid = fork();
	if (pid < 0)
		return fail_errno(errno, "fork");
	if (pid == 0) {
		execvp(argv[0], argv);
		std::fprintf(stderr, "vm-attach-probe: %s: %s\n", argv[0], std::strerror(errno));
		_exit(127);
	}
	int status = 0;
	if (waitpid(pid, &status, 0) < 0)
		return fail_errno(errno, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail(std::string("trigger ") + argv[0] + " failed");
	return {};
}

[[nodiscard]] Result<uint64_t> probe(AttachKind kind, const std::string &function, char **trigger)
{
	int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vm_probe", sizeof(uint32_t), sizeof(uint64_t), 1, nullptr);
	if (map < 0)
		return fail_errno(errno, "creating the counter map");
	UniqueFd map_fd(map);

	auto prog = load_program(kind, function, map_fd.get());
	if (!prog)
		return std::unexpected(prog.error());
	auto link = attach(kind, function, prog->get());
	if (!link)
		return std::unexpected(link.error());
	if (auto ran = run_trigger(trigger); !ran)
		return std::unexpected(ran.error());

	uint32_t key = 0;
	uint64_t count = 0;
	if (bpf_map_lookup_elem(map_fd.get(), &key, &count) < 0)
		return fail_errno(errno, "reading the counter");
	return count;
}

} // namespace
} // namespace capx

int main(int argc, char **argv)
{
	if (argc < 5 || std::string_view(argv[3]) != "--") {
		std::fprintf(stderr, "usage: %s fentry|fexit|kprobe FUNCTION -- TRIGGER [ARGS...]\n", argv[0]);
		return 2;
	}
	auto kind = capx::parse_kind(argv[1]);
	if (!kind) {
		std::fprintf(stderr, "vm-attach-probe: %s\n", kind.error().message.c_str());
		return 2;
	}
	std::string function = argv[2];
	auto count = capx::probe(*kind, function, argv + 4);
	if (!count) {
		std::fprintf(stderr, "vm-attach-probe: %s %s: %s\n", argv[1], function.c_str(),
			     count.error().message.c_str());
		return 1;
	}
	std::printf("%s %s: %llu calls\n", argv[1], function.c_str(), static_cast<unsigned long long>(*count));
	return *count > 0 ? 0 : 1;
}
