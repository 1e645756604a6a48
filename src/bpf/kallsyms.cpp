// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/kallsyms.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>

#include <fmt/format.h>

namespace capx::bpf {

namespace {

// How far past a symbol an address may be and still be named after it:
// beyond this the address is probably past the last function of a region.
constexpr std::uint64_t kMaxOffset = 1 << 20;

bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

} // namespace

[[nodiscard]] Result<Kallsyms> Kallsyms::load(const std::string &path)
{
	std::ifstream in(path);
	if (!in)
		return fail_errno(errno, fmt::format("cannot read {}", path));
	Kallsyms k;
	std::string line;
	while (std::getline(in, line)) {
		// "ffffffff81b4c2f0 T ip_rcv" or "ffffffffc0a01000 t veth_xmit\t[veth]"
		std::size_t sp1 = line.find(' ');
		if (sp1 == std::string::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ')
			continue;
		char type = line[sp1 + 1];
		if (!is_text(type))
			continue;
		std::uint64_t address = 0;
		auto [ptr, ec] = std::from_chars(line.data(), line.data() + sp1, address, 16);
		if (ec != std::errc())
			continue;
		std::string_view rest = std::string_view(line).substr(sp1 + 3);
		std::string module;
		if (std::size_t tab = rest.find_first_of("\t "); tab != std::string_view::npos) {
			std::string_view mod = rest.substr(tab + 1);
			if (mod.size() >= 2 && mod.front() == '[' && mod.back() == ']')
				module = std::string(mod.substr(1, mod.size() - 2));
			rest = rest.substr(0, tab);
		}
		if (address != 0)
			k.addresses_visible_ = true;
		k.symbols_.push_back({address, std::string(rest), std::move(module)});
	}
	// Aliases share an address; the first listed keeps its place.
	std::stable_sort(k.symbols_.begin(), k.symbols_.end(),
			 [](const Symbol &a, const Symbol &b) { return a.address < b.address; });
	k.by_name_.resize(k.symbols_.size());
	for (std::uint32_t i = 0; i < k.by_name_.size(); i++)
		k.by_name_[i] = i;
	std::stable_sort(k.by_name_.begin(), k.by_name_.end(), [&k](std::uint32_t a, std::uint32_t b) {
		return k.symbols_[a].name < k.symbols_[b].name;
	});
	return k;
}

[[nodiscard]] const Result<Kallsyms> &Kallsyms::kernel()
{
	static const Result<Kallsyms> symbols = load();
	return symbols;
}

std::string Kallsyms::symbolize(std::uint64_t address) const
{
	if (addresses_visible_) {
		auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
					   [](std::uint64_t a, const Symbol &s) { return a < s.address; });
		if (it != symbols_.begin()) {
			// upper_bound lands after the last alias; step back to the first
			// symbol at that address.
			std::uint64_t at = std::prev(it)->address;
			auto first = std::lower_bound(symbols_.begin(), it, at,
						      [](const Symbol &s, std::uint64_t a) { return s.address < a; });
			std::uint64_t offset = address - at;
			if (offset < kMaxOffset) {
				if (first->module.empty())
					return fmt::format("{}+0x{:x}", first->name, offset);
				return fmt::format("{}+0x{:x} [{}]", first->name, offset, first->module);
			}
		}
	}
	return fmt::format("0x{:x}", address);
}

std::optional<std::uint64_t> Kallsyms::address_of(std::string_view name) const
{
	auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
				   [this](std::uint32_t i, std::string_view n) { return symbols_[i].name < n; });
	if (it == by_name_.end() || symbols_[*it].name != name)
		return std::nullopt;
	return symbols_[*it].address;
}

bool Kallsyms::has_function(std::string_view name) const
{
	return address_of(name).has_value();
}

} // namespace capx::bpf
