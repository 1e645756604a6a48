// SPDX-License-Identifier: GPL-2.0-only
#include "capture/mbuf/uprobe_set.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bpf/capture_maps.hpp"
#include "bpf/link.hpp"
#include "bpf/skeleton.hpp"
#include "mbuf.skel.h"

namespace capx::mbuf {

namespace {

// CAPX_MBUF_HDR_MAX in bpf/mbuf.bpf.c: the header bytes read per segment.
constexpr unsigned kHeaderMax = 128;
// Registers the programs read arguments from (x86-64: rdi rsi rdx rcx r8 r9).
constexpr unsigned kRegisterArgs = 6;

// Every field of the layout must lie within the `size` bytes read, or the
// verifier refuses the object with a message nobody can act on.
[[nodiscard]] Result<void> check_layout(const MbufLayout &layout)
{
	const capx_mbuf_layout &o = layout.offsets;
	if (o.size == 0 || o.size > kHeaderMax)
		return fail_usage(fmt::format("mbuf layout '{}': {} header bytes (size) are not in 1..{}", layout.name,
					      o.size, kHeaderMax));
	struct Field {
		const char *name;
		unsigned offset, width;
	};
	const Field fields[] = {{"buf_addr", o.buf_addr, 8}, {"data_off", o.data_off, 2}, {"nb_segs", o.nb_segs, 2},
				{"port", o.port, 2},	     {"pkt_len", o.pkt_len, 4},	  {"data_len", o.data_len, 2},
				{"buf_len", o.buf_len, 2},   {"next", o.next, 8}};
	for (const Field &f : fields)
		if (f.offset + f.width > o.size)
			return fail_usage(fmt::format("mbuf layout '{}': {} at {} ends beyond the {} header bytes read (size)",
						      layout.name, f.name, f.offset, o.size));
	return {};
}

[[nodiscard]] Result<void> check_probe(const UprobeSpec &p)
{
	const capx_mbuf_probe &c = p.config;
	auto bad = [&](std::string what) {
		return fail_usage(fmt::format("probe '{}': {}", p.name, what),
				  fmt::format("uprobes read the first {} arguments (registers)", kRegisterArgs));
	};
	if (c.mode > CAPX_MBUF_BURST_RET)
		return fail(fmt::format("probe '{}': unknown mode {}", p.name, c.mode));
	if (c.mbuf_arg < 1 || c.mbuf_arg > kRegisterArgs)
		return bad(fmt::format("the mbuf is argument {}, not one of 1..{}", c.mbuf_arg, kRegisterArgs));
	if (c.mode == CAPX_MBUF_BURST && (c.count_arg < 1 || c.count_arg > kRegisterArgs))
		return bad(fmt::format("the count is argument {}, not one of 1..{}", c.count_arg, kRegisterArgs));
	if (c.nqueues > CAPX_MBUF_MAX_QUEUES)
		return fail(fmt::format("probe '{}': {} queues, at most {}", p.name, c.nqueues, CAPX_MBUF_MAX_QUEUES));
	if (c.nqueues > 0 && (c.queue_arg < 1 || c.queue_arg > kRegisterArgs))
		return bad(fmt::format("the queue is argument {}, not one of 1..{}", c.queue_arg, kRegisterArgs));
	if (p.where.path.empty())
		return fail(fmt::format("probe '{}' has no file to attach to", p.name));
	return {};
}

// The attach error in words the user can act on.
Error attach_error(const UprobeSpec &p, const char *half, int err)
{
	std::string where = fmt::format("{}+{:#x}", p.where.path, p.where.file_offset);
	std::string hint;
	switch (err) {
	case ENOENT:
		hint = fmt::format("{} does not exist (any more?)", p.where.path);
		break;
	case EINVAL:
		hint = "the offset is not an instruction in an executable mapping of that file";
		break;
	case EPERM:
	case EACCES:
		hint = privilege_hint();
		break;
	case ESRCH:
		hint = "the process is gone";
		break;
	}
	return Error{fmt::format("cannot attach the {} uprobe of probe '{}' at {}: {}", half, p.name, where,
				 std::strerror(err)),
		     hint, ExitStatus::Runtime};
}

[[nodiscard]] Result<bpf::Link> attach(struct bpf_program *prog, const UprobeSpec &p, std::uint32_t id, pid_t pid, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = id, .retprobe = retprobe);
	errno = 0;
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, pid, p.where.path.c_str(),
								static_cast<std::size_t>(p.where.file_offset), &opts);
	if (!link) {
		int err = errno ? errno : EINVAL;
		return std::unexpected(attach_error(p, retprobe ? "return" : "entry", err));
	}
	return bpf::Link::adopt(link, fmt::format("probe '{}'", p.name));
}

// The program a probe's mode attaches at function entry: one per mode, so
// that the verifier checks each path on its own (bpf/mbuf.bpf.c).
struct bpf_program *entry_program(::mbuf *s, std::uint8_t mode)
{
	switch (mode) {
	case CAPX_MBUF_ONE:
		return s->progs.capx_mbuf_one;
	case CAPX_MBUF_BURST:
		return s->progs.capx_mbuf_burst;
	default:
		return s->progs.capx_mbuf_stash;
	}
}

// Opens, configures and loads the session's object (no probe attached).
[[nodiscard]] Result<bpf::Skeleton<::mbuf>> load_object(const uprobe::Target &target, const MbufLayout &layout,
					  const bpf::FilterBodies &filter, const CaptureLimits &limits)
{
	if (!filter.buffer)
		return fail("the mbuf probes need the buffer-mode filter (FilterBodies::buffer)");
	if (auto r = check_layout(layout); !r)
		return std::unexpected(r.error());
	auto skel = bpf::Skeleton<::mbuf>::open();
	if (!skel)
		return std::unexpected(skel.error());
	::mbuf *s = skel->get();
	if (auto r = bpf::size_capture_maps(s->obj, limits.ring_bytes); !r)
		return std::unexpected(r.error());

	auto *ro = s->rodata;
	// The rodata struct is volatile-qualified in the skeleton.
	const capx_mbuf_layout &o = layout.offsets;
	ro->capx_layout.buf_addr = o.buf_addr;
	ro->capx_layout.data_off = o.data_off;
	ro->capx_layout.nb_segs = o.nb_segs;
	ro->capx_layout.port = o.port;
	ro->capx_layout.pkt_len = o.pkt_len;
	ro->capx_layout.data_len = o.data_len;
	ro->capx_layout.buf_len = o.buf_len;
	ro->capx_layout.next = o.next;
	ro->capx_layout.size = o.size;
	std::uint32_t snaplen = limits.snaplen == 0 ? CAPX_PACKET_BUF_SIZE : limits.snaplen;
	ro->capx_snaplen = std::min<std::uint32_t>(snaplen, CAPX_PACKET_BUF_SIZE);
	ro->capx_filter_bytes = std::min<std::uint32_t>(limits.filter_bytes, CAPX_PACKET_BUF_SIZE);
	ro->capx_wakeup_bytes = bpf::wakeup_bytes(bpf_map__max_entries(s->maps.capx_events));
	if (target.by_binary) {
		ro->capx_by_binary = 1;
		ro->capx_exe_ino = target.exe_inode;
		// Already sb->s_dev's MKDEV encoding (process.hpp).
		ro->capx_exe_dev = static_cast<std::uint32_t>(target.exe_dev);
	}

	if (auto r = skel->load(filter); !r)
		return std::unexpected(r.error());
	return skel;
}

} // namespace

struct UprobeSet::Impl {
	bpf::Skeleton<::mbuf> skel;
	std::vector<bpf::Link> links;
	std::size_t probes = 0;

	~Impl()
	{
		// Detach every uprobe before the object (and its maps) goes.
		links.clear();
	}
};

UprobeSet::UprobeSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UprobeSet::~UprobeSet() = default;

[[nodiscard]] Result<std::unique_ptr<UprobeSet>> UprobeSet::make(const std::vector<UprobeSpec> &probes, const uprobe::Target &target,
						   const MbufLayout &layout, const bpf::FilterBodies &filter,
						   const CaptureLimits &limits)
{
	if (probes.empty())
		return fail("no probe to attach");
	for (const UprobeSpec &p : probes)
		if (auto r = check_probe(p); !r)
			return std::unexpected(r.error());

	auto skel = load_object(target, layout, filter, limits);
	if (!skel)
		return std::unexpected(skel.error());
	::mbuf *s = skel->get();

	int config_fd = bpf_map__fd(s->maps.capx_mbuf_probes);
	for (std::uint32_t id = 0; id < probes.size(); id++) {
		if (bpf_map_update_elem(config_fd, &id, &probes[id].config, BPF_ANY))
			return fail_errno(errno, fmt::format("probe '{}': cannot store its configuration", probes[id].name));
	}

	auto impl = std::make_unique<Impl>();
	impl->skel = std::move(*skel);
	impl->probes = probes.size();
	for (std::uint32_t id = 0; id < probes.size(); id++) {
		const UprobeSpec &p = probes[id];
		// Return half first: an entry stash without its return would wait
		// for a return probe not there yet.
		if (p.config.mode == CAPX_MBUF_BURST_RET) {
			auto ret = attach(s->progs.capx_mbuf_ret, p, id, target.uprobe_pid, true);
			if (!ret)
				return std::unexpected(ret.error());
			impl->links.push_back(std::move(*ret));
		}
		struct bpf_program *entry = entry_program(s, p.config.mode);
		auto link = attach(entry, p, id, target.uprobe_pid, false);
		if (!link)
			return std::unexpected(link.error());
		impl->links.push_back(std::move(*link));
		spdlog::debug("probe {} '{}' attached at {}+{:#x}", id, p.name, p.where.path, p.where.file_offset);
	}
	return std::unique_ptr<UprobeSet>(new UprobeSet(std::move(impl)));
}

[[nodiscard]] Result<std::vector<bpf::ProgramCost>> UprobeSet::verify(const uprobe::Target &target, const MbufLayout &layout,
							const bpf::FilterBodies &filter, const CaptureLimits &limits)
{
	auto skel = load_object(target, layout, filter, limits);
	if (!skel)
		return std::unexpected(skel.error());
	return bpf::verifier_costs(skel->object());
}

int UprobeSet::events_map_fd() const
{
	return bpf_map__fd(impl_->skel->maps.capx_events);
}

std::size_t UprobeSet::size() const
{
	return impl_->probes;
}

[[nodiscard]] Result<capx_counters> UprobeSet::counters(std::uint32_t probe_id) const
{
	if (probe_id >= impl_->probes)
		return fail(fmt::format("no probe {}", probe_id));
	return bpf::read_counters(impl_->skel.object(), probe_id);
}

} // namespace capx::mbuf
