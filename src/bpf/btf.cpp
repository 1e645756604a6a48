// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/btf.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include <fmt/format.h>

namespace capx::bpf {

void KernelBtf::Deleter::operator()(struct btf *b) const
{
	btf__free(b);
}

KernelBtf::KernelBtf(KernelBtf &&) noexcept = default;
KernelBtf &KernelBtf::operator=(KernelBtf &&) noexcept = default;
KernelBtf::~KernelBtf() = default;

[[nodiscard]] Result<KernelBtf> KernelBtf::load()
{
	errno = 0;
	struct btf *b = btf__load_vmlinux_btf();
	if (!b)
		return fail_errno(errno ? errno : ENOENT, "cannot read the kernel's BTF",
				  "capx needs a kernel built with CONFIG_DEBUG_INFO_BTF (/sys/kernel/btf/vmlinux)");
	KernelBtf k;
	k.btf_.reset(b);
	return k;
}

bool KernelBtf::has_function(std::string_view function) const
{
	return btf__find_by_name_kind(btf_.get(), std::string(function).c_str(), BTF_KIND_FUNC) > 0;
}

bool KernelBtf::has_tracepoint(std::string_view tracepoint) const
{
	std::string name = fmt::format("btf_trace_{}", tracepoint);
	return btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_TYPEDEF) > 0;
}

std::string KernelBtf::type_name(std::uint32_t id) const
{
	if (id == 0)
		return "void";
	const struct btf_type *t = btf__type_by_id(btf_.get(), id);
	if (!t)
		return "?";
	const char *name = btf__name_by_offset(btf_.get(), t->name_off);
	std::string n = name ? name : "";
	switch (btf_kind(t)) {
	case BTF_KIND_PTR: {
		std::string inner = type_name(t->type);
		return inner.ends_with('*') ? inner + "*" : inner + " *";
	}
	case BTF_KIND_CONST:
		return "const " + type_name(t->type);
	case BTF_KIND_VOLATILE:
		return "volatile " + type_name(t->type);
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return type_name(t->type);
	case BTF_KIND_STRUCT:
		return "struct " + n;
	case BTF_KIND_UNION:
		return "union " + n;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return "enum " + n;
	case BTF_KIND_FWD:
		return (btf_kflag(t) ? "union " : "struct ") + n;
	case BTF_KIND_FUNC_PROTO:
		return "function";
	default:
		return n.empty() ? "?" : n;
	}
}

// Follows modifiers (const, volatile, restrict, type tags) and typedefs to
// the type they qualify.
static const struct btf_type *skip_qualifiers(const struct btf *b, std::uint32_t &id)
{
	const struct btf_type *t = btf__type_by_id(b, id);
	while (t && (btf_is_mod(t) || btf_is_typedef(t) || btf_is_type_tag(t))) {
		id = t->type;
		t = btf__type_by_id(b, id);
	}
	return t;
}

bool KernelBtf::is_struct_pointer(std::uint32_t id, std::string_view struct_name) const
{
	const struct btf_type *t = skip_qualifiers(btf_.get(), id);
	if (!t || !btf_is_ptr(t))
		return false;
	std::uint32_t pointee = t->type;
	const struct btf_type *s = skip_qualifiers(btf_.get(), pointee);
	if (!s || !(btf_is_struct(s) || (btf_is_fwd(s) && !btf_kflag(s))))
		return false;
	const char *name = btf__name_by_offset(btf_.get(), s->name_off);
	return name && struct_name == name;
}

std::vector<unsigned> KernelBtf::pointer_params(std::uint32_t proto_id, unsigned skip,
						std::string_view struct_name) const
{
	std::vector<unsigned> found;
	const struct btf_type *proto = btf__type_by_id(btf_.get(), proto_id);
	if (!proto || !btf_is_func_proto(proto))
		return found;
	const struct btf_param *params = btf_params(proto);
	unsigned count = btf_vlen(proto);
	for (unsigned i = skip; i < count; i++)
		if (is_struct_pointer(params[i].type, struct_name))
			found.push_back(i - skip + 1);
	return found;
}

std::optional<unsigned> KernelBtf::enum_param(std::uint32_t proto_id, unsigned skip, std::string_view enum_name) const
{
	const struct btf_type *proto = btf__type_by_id(btf_.get(), proto_id);
	if (!proto || !btf_is_func_proto(proto))
		return std::nullopt;
	const struct btf_param *params = btf_params(proto);
	unsigned count = btf_vlen(proto);
	for (unsigned i = skip; i < count; i++) {
		std::uint32_t id = params[i].type;
		const struct btf_type *t = skip_qualifiers(btf_.get(), id);
		if (!t || !(btf_is_enum(t) || btf_is_enum64(t)))
			continue;
		const char *name = btf__name_by_offset(btf_.get(), t->name_off);
		if (name && enum_name == name)
			return i - skip + 1;
	}
	return std::nullopt;
}

std::uint32_t KernelBtf::function_proto(std::string_view function) const
{
	int id = btf__find_by_name_kind(btf_.get(), std::string(function).c_str(), BTF_KIND_FUNC);
	if (id <= 0)
		return 0;
	return btf__type_by_id(btf_.get(), static_cast<std::uint32_t>(id))->type;
}

std::uint32_t KernelBtf::tracepoint_proto(std::string_view tracepoint) const
{
	// typedef void (*btf_trace_NAME)(void *__data, args...), see
	// include/trace/bpf_probe.h (__DEFINE_EVENT / btf_trace_##call).
	std::string name = fmt::format("btf_trace_{}", tracepoint);
	int id = btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_TYPEDEF);
	if (id <= 0)
		return 0;
	const struct btf_type *t = btf__type_by_id(btf_.get(), static_cast<std::uint32_t>(id));
	const struct btf_type *ptr = btf__type_by_id(btf_.get(), t->type);
	if (!ptr || !btf_is_ptr(ptr))
		return 0;
	return ptr->type;
}

static std::string and_list(const std::vector<unsigned> &v)
{
	std::string out;
	for (std::size_t i = 0; i < v.size(); i++) {
		if (i > 0)
			out += i + 1 == v.size() ? " and " : ", ";
		out += std::to_string(v[i]);
	}
	return out;
}

[[nodiscard]] Result<unsigned> KernelBtf::pointer_param(std::uint32_t proto_id, unsigned skip, std::string_view what,
					  std::string_view type_name_wanted, std::optional<unsigned> wanted) const
{
	const struct btf_type *proto = btf__type_by_id(btf_.get(), proto_id);
	if (!proto || !btf_is_func_proto(proto))
		return fail(fmt::format("{} has no prototype in the kernel's BTF", what));
	const struct btf_param *params = btf_params(proto);
	unsigned count = btf_vlen(proto);
	std::string target = fmt::format("struct {} *", type_name_wanted);
	std::vector<unsigned> matches = pointer_params(proto_id, skip, type_name_wanted);
	unsigned args = count > skip ? count - skip : 0;

	if (wanted) {
		if (*wanted == 0)
			return fail_usage(fmt::format("argument 0 of {}: arguments are numbered from 1", what));
		if (*wanted > args)
			return fail_usage(fmt::format("{} has {} argument{}, there is no argument {}", what, args,
						      args == 1 ? "" : "s", *wanted));
		if (!is_struct_pointer(params[*wanted - 1 + skip].type, type_name_wanted)) {
			std::string actual = type_name(params[*wanted - 1 + skip].type);
			return fail_usage(fmt::format("argument {} of {} is '{}', not '{}'", *wanted, what, actual, target));
		}
		return *wanted;
	}
	if (matches.empty())
		return fail_usage(fmt::format("{} takes no '{}' argument", what, target));
	if (matches.size() > 1)
		return fail_usage(fmt::format("{} has {} arguments {}: choose one with @N", what, type_name_wanted,
					      and_list(matches)),
				  fmt::format("e.g. {}@{}", what, matches.front()));
	return matches.front();
}

[[nodiscard]] Result<unsigned> KernelBtf::pointer_argument(std::string_view function, std::string_view type_name_wanted,
					     std::optional<unsigned> wanted) const
{
	std::uint32_t proto = function_proto(function);
	if (proto == 0)
		return fail_usage(fmt::format("the kernel has no function '{}' in its BTF", function),
				  "it may be inlined, static in a module, or misspelt");
	return pointer_param(proto, 0, function, type_name_wanted, wanted);
}

[[nodiscard]] Result<unsigned> KernelBtf::tracepoint_pointer_argument(std::string_view tracepoint,
							std::string_view type_name_wanted,
							std::optional<unsigned> wanted) const
{
	if (!has_tracepoint(tracepoint))
		return fail_usage(fmt::format("the kernel has no BTF tracepoint '{}'", tracepoint));
	std::uint32_t proto = tracepoint_proto(tracepoint);
	if (proto == 0)
		return fail(fmt::format("tracepoint '{}' has an unexpected BTF shape", tracepoint));
	return pointer_param(proto, 1, tracepoint, type_name_wanted, wanted);
}

std::vector<KernelBtf::PointerArguments> KernelBtf::functions_with_pointer(std::string_view struct_name) const
{
	std::vector<PointerArguments> out;
	std::uint32_t n = btf__type_cnt(btf_.get());
	for (std::uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf_.get(), id);
		if (!btf_is_func(t))
			continue;
		std::vector<unsigned> args = pointer_params(t->type, 0, struct_name);
		if (!args.empty())
			out.push_back({btf__name_by_offset(btf_.get(), t->name_off), std::move(args)});
	}
	// A static function may appear once per compilation unit; list it once.
	std::stable_sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
	out.erase(std::unique(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.name == b.name; }),
		  out.end());
	return out;
}

std::vector<KernelBtf::PointerArguments> KernelBtf::tracepoints_with_pointer(std::string_view struct_name) const
{
	constexpr std::string_view prefix = "btf_trace_";
	std::vector<PointerArguments> out;
	std::uint32_t n = btf__type_cnt(btf_.get());
	for (std::uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf_.get(), id);
		if (!btf_is_typedef(t))
			continue;
		std::string_view name = btf__name_by_offset(btf_.get(), t->name_off);
		if (!name.starts_with(prefix))
			continue;
		const struct btf_type *ptr = btf__type_by_id(btf_.get(), t->type);
		if (!ptr || !btf_is_ptr(ptr))
			continue;
		std::vector<unsigned> args = pointer_params(ptr->type, 1, struct_name);
		if (!args.empty())
			out.push_back({std::string(name.substr(prefix.size())), std::move(args)});
	}
	std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
	out.erase(std::unique(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.name == b.name; }),
		  out.end());
	return out;
}

std::optional<unsigned> KernelBtf::function_enum_argument(std::string_view function, std::string_view enum_name) const
{
	std::uint32_t proto = function_proto(function);
	return proto ? enum_param(proto, 0, enum_name) : std::nullopt;
}

std::optional<unsigned> KernelBtf::tracepoint_enum_argument(std::string_view tracepoint,
							    std::string_view enum_name) const
{
	std::uint32_t proto = tracepoint_proto(tracepoint);
	return proto ? enum_param(proto, 1, enum_name) : std::nullopt;
}

std::vector<KernelBtf::EnumValue> KernelBtf::enum_values(std::string_view enum_name) const
{
	std::vector<EnumValue> out;
	std::string name(enum_name);
	int id = btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_ENUM);
	if (id <= 0)
		id = btf__find_by_name_kind(btf_.get(), name.c_str(), BTF_KIND_ENUM64);
	if (id <= 0)
		return out;
	const struct btf_type *t = btf__type_by_id(btf_.get(), static_cast<std::uint32_t>(id));
	unsigned count = btf_vlen(t);
	if (btf_is_enum(t)) {
		const struct btf_enum *e = btf_enum(t);
		bool is_signed = btf_kflag(t);
		for (unsigned i = 0; i < count; i++)
			out.push_back({btf__name_by_offset(btf_.get(), e[i].name_off),
				       is_signed ? static_cast<std::int64_t>(e[i].val)
						 : static_cast<std::int64_t>(static_cast<std::uint32_t>(e[i].val))});
	} else {
		const struct btf_enum64 *e = btf_enum64(t);
		for (unsigned i = 0; i < count; i++)
			out.push_back({btf__name_by_offset(btf_.get(), e[i].name_off),
				       static_cast<std::int64_t>(btf_enum64_value(&e[i]))});
	}
	return out;
}

} // namespace capx::bpf
