// SPDX-License-Identifier: GPL-2.0-only
// The mechanism is described in inject.hpp.
#include "bpf/inject.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bpf/inject_handler.hpp"
#include "bpf/libbpf_setup.hpp"
#include "bpf/program_image.hpp"
#include "capx/filter_marker.h"

static_assert(sizeof(capx::EbpfInsn) == sizeof(struct bpf_insn));

namespace capx::bpf {

namespace {

enum SectionFlags : long {
	kXdpFrags = 1 << 0,
	kNeedsAttachTarget = 1 << 1,
};

struct Section {
	const char *name;
	bpf_prog_type type;
	bpf_attach_type attach;
	long flags;
};

// The program type and expected attach type libbpf's own handler gives the
// section of the same name (libbpf.c, section_defs[]). "+" accepts both
// SEC("capx/x") and SEC("capx/x/anything"). Only the kinds capx's BPF
// programs use are registered; a new kind of capture point adds its own.
constexpr Section kSections[] = {
	{"capx/xdp+", BPF_PROG_TYPE_XDP, BPF_XDP, 0},
	{"capx/xdp.frags+", BPF_PROG_TYPE_XDP, BPF_XDP, kXdpFrags},
	{"capx/raw_tp+", BPF_PROG_TYPE_RAW_TRACEPOINT, static_cast<bpf_attach_type>(0), 0},
	{"capx/tp_btf+", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, kNeedsAttachTarget},
	{"capx/fentry+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, kNeedsAttachTarget},
	{"capx/fexit+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, kNeedsAttachTarget},
	{"capx/kprobe+", BPF_PROG_TYPE_KPROBE, static_cast<bpf_attach_type>(0), 0},
	{"capx/uprobe+", BPF_PROG_TYPE_KPROBE, static_cast<bpf_attach_type>(0), 0},
};

constexpr std::string_view kSectionPrefix = "capx/";
// How a verifier refusal starts (explain_refusal() recognises it).
constexpr std::string_view kRefused = "the kernel rejected BPF program";
// Verifier log per program, used only when a load fails. Kernels >= 6.4
// keep the tail of a longer log, which holds the reason.
constexpr std::size_t kLogBytes = 1 << 20;

struct Placeholder {
	const char *name;
	std::uint64_t marker;
	const char *mode;
	const std::optional<std::vector<EbpfInsn>> FilterBodies::*body;
};

constexpr Placeholder kPlaceholders[] = {
	{"capx_filter_pkt", CAPX_FILTER_PKT_MARKER, "packet", &FilterBodies::packet},
	{"capx_filter_buf", CAPX_FILTER_BUF_MARKER, "buffer", &FilterBodies::buffer},
	{"capx_filter_l3", CAPX_FILTER_L3_MARKER, "l3", &FilterBodies::l3},
};

// What load_with_filter() knows about one program while its object loads.
struct ProgramState {
	const FilterBodies *bodies = nullptr;
	bool prepared = false;
	bool spliced = false;
	bool calls[std::size(kPlaceholders)] = {};
	ProgramImage image; // owns the func_info/line_info handed to the kernel
	std::string error;
	std::vector<char> log;
};

std::mutex registry_mutex;
std::unordered_map<const bpf_program *, ProgramState *> registry;

ProgramState *find_state(const bpf_program *prog)
{
	std::lock_guard lock(registry_mutex);
	auto it = registry.find(prog);
	return it == registry.end() ? nullptr : it->second;
}

BtfExtRecords copy_records(const void *data, std::uint32_t count, std::uint32_t rec_size)
{
	BtfExtRecords r{rec_size, {}};
	if (data && count && rec_size) {
		auto *p = static_cast<const std::uint8_t *>(data);
		r.bytes.assign(p, p + std::size_t{count} * rec_size);
	}
	return r;
}

[[nodiscard]] Result<void> prepare(bpf_program *prog, ProgramState &st, const bpf_prog_load_opts &opts)
{
	auto *raw = bpf_program__insns(prog);
	std::size_t count = bpf_program__insn_cnt(prog);
	auto *first = reinterpret_cast<const EbpfInsn *>(raw);
	st.image.insns.assign(first, first + count);
	st.image.func_info = copy_records(opts.func_info, opts.func_info_cnt, opts.func_info_rec_size);
	st.image.line_info = copy_records(opts.line_info, opts.line_info_cnt, opts.line_info_rec_size);

	for (std::size_t i = 0; i < std::size(kPlaceholders); i++) {
		const Placeholder &p = kPlaceholders[i];
		const auto &body = st.bodies->*p.body;
		if (!body) {
			if (find_marker(st.image.insns, p.marker))
				return fail(fmt::format("it calls {} but no {}-mode filter was given", p.name, p.mode));
			continue;
		}
		auto r = splice_placeholder(st.image, p.marker, *body);
		if (!r)
			return std::unexpected(r.error());
		st.calls[i] = *r;
		st.spliced = st.spliced || *r;
	}
	if (st.spliced) {
		int err = bpf_program__set_insns(prog, reinterpret_cast<struct bpf_insn *>(st.image.insns.data()),
						 st.image.insns.size());
		if (err)
			return fail_errno(-err, "bpf_program__set_insns");
		spdlog::debug("BPF program '{}': filter injected, {} -> {} instructions", bpf_program__name(prog),
			      count, st.image.insns.size());
	}
	return {};
}

// libbpf_prog_prepare_load_fn_t for capx/ sections.
int prepare_load(bpf_program *prog, bpf_prog_load_opts *opts, long cookie)
{
	if (cookie & kXdpFrags)
		opts->prog_flags |= BPF_F_XDP_HAS_FRAGS;

	ProgramState *st = find_state(prog);
	if (cookie & kNeedsAttachTarget && opts->attach_btf_id == 0) {
		if (st)
			st->error = "it has no attach target (bpf_program__set_attach_target before load)";
		return -EINVAL;
	}
	// Loaded without load_with_filter(): placeholders stay, and keep nothing.
	if (!st)
		return 0;
	if (!st->prepared) {
		st->prepared = true;
		if (auto r = prepare(prog, *st, *opts); !r) {
			st->error = r.error().message;
			return -EINVAL;
		}
	}
	if (st->spliced) {
		if (opts->func_info) {
			opts->func_info = st->image.func_info.bytes.data();
			opts->func_info_cnt = static_cast<std::uint32_t>(st->image.func_info.count());
		}
		if (opts->line_info) {
			opts->line_info = st->image.line_info.bytes.data();
			opts->line_info_cnt = static_cast<std::uint32_t>(st->image.line_info.count());
		}
	}
	return 0;
}

// The verifier's reason: the last line that is not a statistic.
std::string verifier_reason(const char *log)
{
	std::string_view text(log);
	std::string_view reason;
	while (!text.empty()) {
		auto nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
		if (line.empty() || line.starts_with("processed ") || line.starts_with("verification time") ||
		    line.starts_with("stack depth"))
			continue;
		reason = line;
	}
	return std::string(reason);
}

class Registration {
public:
	explicit Registration(const std::vector<std::pair<bpf_program *, ProgramState *>> &programs)
		: programs_(programs)
	{
		std::lock_guard lock(registry_mutex);
		for (auto [prog, st] : programs_)
			registry[prog] = st;
	}
	~Registration()
	{
		std::lock_guard lock(registry_mutex);
		for (auto [prog, st] : programs_)
			registry.erase(prog);
	}
	Registration(const Registration &) = delete;
	Registration &operator=(const Registration &) = delete;

private:
	const std::vector<std::pair<bpf_program *, ProgramState *>> &programs_;
};

} // namespace

[[nodiscard]] Result<void> register_capx_sections()
{
	for (const Section &s : kSections) {
		LIBBPF_OPTS(libbpf_prog_handler_opts, opts, .cookie = s.flags, .prog_prepare_load_fn = prepare_load);
		int id = libbpf_register_prog_handler(s.name, s.type, s.attach, &opts);
		if (id < 0)
			return fail_errno(-id, fmt::format("cannot register the libbpf handler of SEC(\"{}\")", s.name));
	}
	return {};
}

[[nodiscard]] Result<void> load_with_filter(bpf_object *object, const FilterBodies &bodies, const std::function<int()> &load)
{
	if (auto r = setup_libbpf(); !r)
		return r;
	for (const Placeholder &p : kPlaceholders)
		if (const auto &body = bodies.*p.body; body)
			if (auto r = check_filter_body(*body); !r)
				return fail(fmt::format("{}-mode filter: {}", p.mode, r.error().message));

	std::vector<std::unique_ptr<ProgramState>> owned;
	std::vector<std::pair<bpf_program *, ProgramState *>> programs;
	bpf_program *prog;
	bpf_object__for_each_program(prog, object) {
		if (!bpf_program__autoload(prog))
			continue;
		std::string_view section = bpf_program__section_name(prog);
		if (!section.starts_with(kSectionPrefix))
			return fail(fmt::format("BPF program '{}' is in section '{}': capx fills filter placeholders only "
						"in capx/ sections",
						bpf_program__name(prog), section));
		auto st = std::make_unique<ProgramState>();
		st->bodies = &bodies;
		st->log.assign(kLogBytes, '\0');
		bpf_program__set_log_buf(prog, st->log.data(), st->log.size());
		programs.emplace_back(prog, st.get());
		owned.push_back(std::move(st));
	}

	int err;
	{
		Registration registration(programs);
		err = load ? load() : bpf_object__load(object);
	}
	for (auto [p, st] : programs)
		bpf_program__set_log_buf(p, nullptr, 0);

	if (err) {
		int e = err < 0 ? -err : err;
		for (auto [p, st] : programs)
			if (!st->error.empty())
				return fail(fmt::format("cannot load BPF program '{}': {}", bpf_program__name(p), st->error));
		for (auto [p, st] : programs) {
			if (st->log[0] == '\0')
				continue;
			spdlog::debug("verifier log of BPF program '{}':\n{}", bpf_program__name(p), st->log.data());
			return fail(fmt::format("{} '{}': {}", kRefused, bpf_program__name(p), verifier_reason(st->log.data())),
				    "run with -v to see the verifier log");
		}
		return fail_errno(e, fmt::format("cannot load BPF object '{}'", bpf_object__name(object)),
				  e == EPERM || e == EACCES ? privilege_hint() : std::string{});
	}

	for (const ProgramCost &cost : verifier_costs(object))
		spdlog::debug("BPF program '{}': {} instructions verified ({:.1f}% of the verifier's limit)", cost.program,
			      cost.verified_insns, 100.0 * cost.verified_insns / kVerifierInsnLimit);

	for (std::size_t i = 0; i < std::size(kPlaceholders); i++) {
		const Placeholder &p = kPlaceholders[i];
		if (!(bodies.*p.body))
			continue;
		bool called = false;
		for (auto [pp, st] : programs)
			called = called || st->calls[i];
		if (!called)
			return fail(fmt::format("no program of BPF object '{}' calls {}: its {}-mode filter has nowhere to go",
						bpf_object__name(object), p.name, p.mode));
	}
	return {};
}

Error explain_refusal(Error e, std::string_view point, std::string_view expression)
{
	if (!e.message.starts_with(kRefused))
		return e;
	std::string what = expression.empty() ? std::string("capturing everything") : fmt::format("'{}'", expression);
	e.message = fmt::format("capx {} cannot load its capture program for {}: {}", point, what, e.message);
	e.hint = "try a simpler expression (protochain and long 'or' chains cost the verifier most), or run with -v "
		 "for the verifier log and each program's size";
	return e;
}

std::vector<ProgramCost> verifier_costs(const bpf_object *object)
{
	std::vector<ProgramCost> costs;
	bpf_program *prog;
	bpf_object__for_each_program(prog, object) {
		int fd = bpf_program__fd(prog);
		if (fd < 0)
			continue;
		bpf_prog_info info{};
		std::uint32_t size = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &size))
			continue;
		costs.push_back({bpf_program__name(prog), info.verified_insns});
	}
	return costs;
}

} // namespace capx::bpf
