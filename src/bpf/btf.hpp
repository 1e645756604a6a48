// SPDX-License-Identifier: GPL-2.0-only
// Questions about the running kernel's types, answered from its BTF
// (/sys/kernel/btf/vmlinux, libbpf's btf__load_vmlinux_btf): which argument
// of a function or BTF tracepoint is the packet, so `capx skb -f FUNC[@N]`
// can check the user's choice or find it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

struct btf;

namespace capx::bpf {

class KernelBtf {
public:
	[[nodiscard]] static Result<KernelBtf> load();

	KernelBtf(KernelBtf &&) noexcept;
	KernelBtf &operator=(KernelBtf &&) noexcept;
	~KernelBtf();

	bool has_function(std::string_view function) const;
	// A tracepoint with a BTF prototype (btf_trace_NAME), as tp_btf needs.
	bool has_tracepoint(std::string_view tracepoint) const;

	// The 1-based index of the argument of `function` that is
	// `struct <type_name> *`. With `wanted`, checks that argument:
	//   "argument 2 of ip_rcv is 'struct net_device *', not 'struct sk_buff *'".
	// Without, the only such argument (several: a usage error asking for @N).
	[[nodiscard]] Result<unsigned> pointer_argument(std::string_view function, std::string_view type_name,
					  std::optional<unsigned> wanted = std::nullopt) const;
	// The same for a BTF tracepoint's arguments (the hidden first `void *`
	// of btf_trace_NAME is not counted).
	[[nodiscard]] Result<unsigned> tracepoint_pointer_argument(std::string_view tracepoint, std::string_view type_name,
						     std::optional<unsigned> wanted = std::nullopt) const;

	// C spelling of a type, e.g. "struct sk_buff *", "const char *", "u32".
	std::string type_name(std::uint32_t type_id) const;

	// A function or BTF tracepoint and its `struct <type> *` arguments
	// (1-based; const/volatile pointees count, the packet is only read).
	struct PointerArguments {
		std::string name;
		std::vector<unsigned> args;
	};
	// Every kernel function (vmlinux BTF, not modules) taking at least one
	// `struct <type_name> *`, sorted by name, each name once.
	std::vector<PointerArguments> functions_with_pointer(std::string_view type_name) const;
	// The same for BTF tracepoints (btf_trace_NAME typedefs; NAME given).
	std::vector<PointerArguments> tracepoints_with_pointer(std::string_view type_name) const;

	// The 1-based index of the first `enum <enum_name>` argument, if any
	// (skb:kfree_skb's `enum skb_drop_reason reason`).
	std::optional<unsigned> function_enum_argument(std::string_view function, std::string_view enum_name) const;
	std::optional<unsigned> tracepoint_enum_argument(std::string_view tracepoint, std::string_view enum_name) const;

	struct EnumValue {
		std::string name;
		std::int64_t value;
	};
	// The values of `enum <enum_name>` in declaration order; empty when the
	// kernel has no such enum.
	std::vector<EnumValue> enum_values(std::string_view enum_name) const;

private:
	struct Deleter {
		void operator()(struct btf *b) const;
	};
	KernelBtf() = default;
	// The FUNC_PROTO of a function or of a tracepoint's btf_trace_NAME
	// (0 when absent), and how many leading parameters are hidden (1 for
	// the tracepoint's `void *__data`).
	std::uint32_t function_proto(std::string_view function) const;
	std::uint32_t tracepoint_proto(std::string_view tracepoint) const;
	bool is_struct_pointer(std::uint32_t type_id, std::string_view struct_name) const;
	std::vector<unsigned> pointer_params(std::uint32_t proto_id, unsigned skip, std::string_view struct_name) const;
	std::optional<unsigned> enum_param(std::uint32_t proto_id, unsigned skip, std::string_view enum_name) const;
	[[nodiscard]] Result<unsigned> pointer_param(std::uint32_t proto_id, unsigned skip, std::string_view what,
				       std::string_view type_name, std::optional<unsigned> wanted) const;
	std::unique_ptr<struct btf, Deleter> btf_;
};

} // namespace capx::bpf
