// SPDX-License-Identifier: GPL-2.0-only
// Kernel addresses to names, from /proc/kallsyms: "ip_rcv+0x1a" for the
// stacks `capx skb -S` records, and "is this function a kprobe target"
// (a function the compiler inlined everywhere has no symbol).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace capx::bpf {

class Kallsyms {
public:
	// Reads a file in /proc/kallsyms' format ("ADDR TYPE NAME [MODULE]").
	// Only text symbols (t, T, w, W) are kept: stacks point into code.
	[[nodiscard]] static Result<Kallsyms> load(const std::string &path = "/proc/kallsyms");
	// The running kernel's symbols, read once per process on first use.
	[[nodiscard]] static const Result<Kallsyms> &kernel();

	// "ip_rcv+0x1a", "veth_xmit+0x10 [veth]"; "0xffffffff81234567" when no
	// symbol precedes the address or addresses are hidden (kptr_restrict).
	std::string symbolize(std::uint64_t address) const;
	bool has_function(std::string_view name) const;
	std::optional<std::uint64_t> address_of(std::string_view name) const;
	// False when the kernel shows every address as 0 (not root, or
	// kptr_restrict): names can be looked up, addresses cannot.
	bool addresses_visible() const { return addresses_visible_; }
	std::size_t size() const { return symbols_.size(); }

private:
	struct Symbol {
		std::uint64_t address;
		std::string name;
		std::string module; // empty for the kernel image
	};
	std::vector<Symbol> symbols_;       // by address
	std::vector<std::uint32_t> by_name_; // indexes into symbols_, by name
	bool addresses_visible_ = false;
};

} // namespace capx::bpf
