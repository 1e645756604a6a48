// SPDX-License-Identifier: GPL-2.0-only
#include "capture/mbuf/mbuf_probe_spec.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "capture/probe_list.hpp"

namespace capx::mbuf {

namespace {

constexpr std::string_view kGrammarHint =
	"-f takes SYMBOL@N (argument N is a struct rte_mbuf *) or SYMBOL@N@M (an array at N, its count at M), "
	"SYMBOL being NAME, LIB:NAME or LIB:0xOFFSET; N and M from 1 to 6";

// x86-64 System V passes the first six integer arguments in registers
// (rdi, rsi, rdx, rcx, r8, r9); a uprobe sees only those (pt_regs), the
// rest are on the stack where capx does not look.
constexpr unsigned kMaxArgument = 6;

bool is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '$';
}

// An ELF symbol as compilers write them: C identifiers, C++ mangled names
// (also identifier characters), GCC clones with dots (foo.cold, foo.isra.0).
bool is_symbol(std::string_view s)
{
	if (s.empty() || (s.front() >= '0' && s.front() <= '9'))
		return false;
	return std::all_of(s.begin(), s.end(), is_ident_char);
}

bool is_offset(std::string_view s)
{
	if (!s.starts_with("0x") && !s.starts_with("0X"))
		return false;
	std::uint64_t value = 0;
	auto [ptr, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), value, 16);
	return s.size() > 2 && ec == std::errc() && ptr == s.data() + s.size();
}

[[nodiscard]] Result<std::uint8_t> parse_argument(std::string_view text, std::string_view number, std::string_view what)
{
	if (number.empty())
		return fail_usage(fmt::format("probe '{}': missing the argument number after '@' ({})", text, what),
				  std::string(kGrammarHint));
	unsigned n = 0;
	auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
	if (ec == std::errc::result_out_of_range || (ec == std::errc() && ptr == number.data() + number.size() &&
						     (n == 0 || n > kMaxArgument)))
		return fail_usage(fmt::format("probe '{}': argument {} is out of range: arguments are numbered 1 to {}",
					      text, number, kMaxArgument),
				  "capx reads the six register arguments of x86-64 (System V ABI) only");
	if (ec != std::errc() || ptr != number.data() + number.size())
		return fail_usage(fmt::format("probe '{}': '{}' is not an argument number", text, number),
				  std::string(kGrammarHint));
	return static_cast<std::uint8_t>(n);
}

} // namespace

[[nodiscard]] Result<MbufProbeSpec> parse_probe_spec(std::string_view given)
{
	std::string_view text = trim_blanks(given);
	if (text.empty())
		return fail_usage("empty probe", std::string(kGrammarHint));
	MbufProbeSpec spec;
	spec.text = std::string(text);

	// The '@'s come after the last ':' (LIB may be a path, and paths may
	// hold '@'; symbols and offsets never do).
	std::size_t colon = text.rfind(':');
	std::size_t name_start = colon == std::string_view::npos ? 0 : colon + 1;
	std::size_t at = text.find('@', name_start);
	if (at == std::string_view::npos)
		return fail_usage(fmt::format("probe '{}': missing @N (the argument holding the struct rte_mbuf *)", text),
				  std::string(kGrammarHint));
	std::string_view where = text.substr(0, at);
	std::string_view arguments = text.substr(at + 1);
	std::size_t second = arguments.find('@');
	std::string_view first_number = arguments.substr(0, second);
	auto n = parse_argument(text, first_number, "the struct rte_mbuf * or the array of them");
	if (!n)
		return std::unexpected(std::move(n.error()));
	spec.mbuf_arg = *n;
	if (second != std::string_view::npos) {
		std::string_view count = arguments.substr(second + 1);
		if (count.find('@') != std::string_view::npos)
			return fail_usage(fmt::format("probe '{}': more than two argument numbers", text),
					  std::string(kGrammarHint));
		auto m = parse_argument(text, count, "the count of the array");
		if (!m)
			return std::unexpected(std::move(m.error()));
		if (*m == *n)
			return fail_usage(fmt::format("probe '{}': @N@M: N and M must differ (the array and its count)", text),
					  std::string(kGrammarHint));
		spec.count_arg = *m;
	}

	std::string_view lib = colon == std::string_view::npos ? std::string_view{} : where.substr(0, colon);
	std::string_view name = where.substr(name_start);
	if (colon != std::string_view::npos && lib.empty())
		return fail_usage(fmt::format("probe '{}': no library before ':'", text),
				  "LIB:NAME and LIB:0xOFFSET name a file, e.g. librte_ethdev:rte_eth_call_rx_callbacks@3@4");
	if (name.empty())
		return fail_usage(fmt::format("probe '{}' has no symbol", text), std::string(kGrammarHint));
	bool offset = name.starts_with("0x") || name.starts_with("0X");
	if (offset && lib.empty())
		return fail_usage(fmt::format("probe '{}': an offset needs its file, LIB:0xOFFSET", text),
				  "e.g. librte_ethdev:0x1f2e0@3@4 (a file offset, as objdump or readelf show it)");
	if (offset ? !is_offset(name) : !is_symbol(name))
		return fail_usage(fmt::format("probe '{}': '{}' is not a symbol or a 0x offset", text, name),
				  std::string(kGrammarHint));
	spec.where = std::string(where);
	return spec;
}

[[nodiscard]] Result<std::vector<MbufProbeSpec>> parse_probe_specs(const std::vector<std::string> &arguments)
{
	return parse_probe_list<MbufProbeSpec>(arguments, kGrammarHint, parse_probe_spec);
}

} // namespace capx::mbuf
