// SPDX-License-Identifier: GPL-2.0-only
#include "capture/xdp/xdp_program.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include <unistd.h>

#include <fmt/format.h>

#include "capture/interface_lookup.hpp"

namespace capx::xdp {

namespace {

constexpr const char *kListHint = "bpftool prog show type xdp lists them";

std::optional<std::uint32_t> parse_number(std::string_view s)
{
	std::uint32_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc{} || end != s.data() + s.size())
		return std::nullopt;
	return v;
}

// The name of the program's first BTF function (its entry point: the
// kernel keeps func_info sorted by instruction offset, check_btf_func()).
std::string btf_function_name(int fd, const bpf_prog_info &info)
{
	if (!info.btf_id || !info.nr_func_info)
		return {};
	bpf_func_info first{};
	bpf_prog_info again{};
	again.nr_func_info = 1;
	again.func_info_rec_size = sizeof first;
	again.func_info = reinterpret_cast<std::uintptr_t>(&first);
	std::uint32_t len = sizeof again;
	if (bpf_obj_get_info_by_fd(fd, &again, &len))
		return {};
	struct btf *btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return {};
	std::string name;
	if (const struct btf_type *t = btf__type_by_id(btf, first.type_id))
		if (const char *n = btf__name_by_offset(btf, t->name_off))
			name = n;
	btf__free(btf);
	return name;
}

[[nodiscard]] Result<ProgramInfo> describe(UniqueFd fd, std::string_view what)
{
	bpf_prog_info info{};
	std::uint32_t len = sizeof info;
	if (int err = bpf_obj_get_info_by_fd(fd.get(), &info, &len))
		return fail_errno(-err, fmt::format("cannot read {}", what));
	if (info.type != BPF_PROG_TYPE_XDP)
		return fail_usage(fmt::format("{} (id {}, '{}') is no XDP program", what, info.id, info.name), kListHint);
	ProgramInfo p;
	p.id = info.id;
	p.name = info.name;
	p.function = btf_function_name(fd.get(), info);
	p.jited = info.jited_prog_len > 0;
	p.fd = std::move(fd);
	return p;
}

// The XDP link on `ifindex`, by walking every link (the kernel offers no
// lookup by device).
std::optional<std::uint32_t> xdp_link_on(std::uint32_t ifindex)
{
	std::uint32_t id = 0;
	while (bpf_link_get_next_id(id, &id) == 0) {
		UniqueFd fd(bpf_link_get_fd_by_id(id));
		if (!fd)
			continue;
		bpf_link_info info{};
		std::uint32_t len = sizeof info;
		if (bpf_obj_get_info_by_fd(fd.get(), &info, &len))
			continue;
		if (info.type == BPF_LINK_TYPE_XDP && info.xdp.ifindex == ifindex)
			return id;
	}
	return std::nullopt;
}

} // namespace

std::string bpf_fd_kind(int fd)
{
	// The anon inode's name: "bpf-prog", "bpf-map", "bpf_link"
	// (bpf_prog_new_fd(), bpf_map_new_fd(), bpf_link_prime() in
	// kernel/bpf/syscall.c).
	char target[64] = {};
	std::string path = fmt::format("/proc/self/fd/{}", fd);
	ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
	std::string_view t(target, n > 0 ? static_cast<std::size_t>(n) : 0);
	for (std::string_view kind : {"prog", "map", "link"})
		if (t == fmt::format("anon_inode:bpf-{}", kind) || t == fmt::format("anon_inode:bpf_{}", kind))
			return std::string(kind);
	return {};
}

[[nodiscard]] Result<ProgramInfo> program_by_id(std::uint32_t id)
{
	UniqueFd fd(bpf_prog_get_fd_by_id(id));
	if (!fd)
		return fail_errno(errno, fmt::format("no BPF program with id {}", id), kListHint);
	return describe(std::move(fd), fmt::format("program {}", id));
}

[[nodiscard]] Result<ProgramInfo> find_program(std::string_view argument)
{
	if (argument.empty())
		return fail_usage("empty --prog");
	if (auto id = parse_number(argument))
		return program_by_id(*id);
	std::string path(argument);
	UniqueFd fd(bpf_obj_get(path.c_str()));
	if (!fd) {
		int err = errno;
		return fail_errno(err, fmt::format("no BPF program pinned at '{}'", path),
				  "--prog takes a program id or a path in bpffs (e.g. /sys/fs/bpf/NAME)");
	}
	if (bpf_fd_kind(fd.get()) != "prog")
		return fail_usage(fmt::format("'{}' is pinned, but is no BPF program", path),
				  "--hook takes xdpcap's pinned hook map");
	return describe(std::move(fd), fmt::format("program '{}'", path));
}

[[nodiscard]] Result<InterfaceXdp> interface_xdp(std::string_view argument)
{
	InterfaceXdp out;
	if (auto n = parse_number(argument)) {
		auto name = interface_name(*n);
		if (!name)
			return std::unexpected(std::move(name.error()));
		out.ifindex = *n;
		out.ifname = std::move(*name);
	} else {
		auto index = interface_index(argument);
		if (!index)
			return std::unexpected(std::move(index.error()));
		out.ifindex = *index;
		out.ifname = std::string(argument);
	}

	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	if (int err = bpf_xdp_query(static_cast<int>(out.ifindex), 0, &q))
		return fail_errno(-err, fmt::format("cannot ask which XDP program {} runs", out.ifname));
	switch (q.attach_mode) {
	case XDP_ATTACHED_NONE:
		return out;
	case XDP_ATTACHED_DRV:
		out.mode_flag = XDP_FLAGS_DRV_MODE;
		break;
	case XDP_ATTACHED_SKB:
		out.mode_flag = XDP_FLAGS_SKB_MODE;
		break;
	case XDP_ATTACHED_HW:
		return fail(fmt::format("{} runs its XDP program on the NIC (offloaded): capx cannot capture there",
					out.ifname));
	default:
		return fail(fmt::format("{} runs XDP programs in more than one mode: capx captures at one",
					out.ifname), "detach one, or capture at a program with --prog ID");
	}
	auto program = program_by_id(q.prog_id);
	if (!program)
		return std::unexpected(std::move(program.error()));
	out.program = std::move(*program);
	out.link_id = xdp_link_on(out.ifindex);
	return out;
}

[[nodiscard]] std::optional<std::uint32_t> interface_of(std::uint32_t prog_id)
{
	struct if_nameindex *all = if_nameindex();
	if (!all)
		return std::nullopt;
	std::optional<std::uint32_t> found;
	for (struct if_nameindex *i = all; i->if_index && !found; i++) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		if (bpf_xdp_query(static_cast<int>(i->if_index), 0, &q) == 0 &&
		    (q.drv_prog_id == prog_id || q.skb_prog_id == prog_id))
			found = i->if_index;
	}
	if_freenameindex(all);
	return found;
}

} // namespace capx::xdp
