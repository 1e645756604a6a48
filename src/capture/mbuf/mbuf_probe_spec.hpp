// SPDX-License-Identifier: GPL-2.0-only
// capx mbuf's -f specs: SYMBOL@N (one mbuf), SYMBOL@N@M (an mbuf array and
// its count), where SYMBOL may be LIB:SYMBOL or LIB:0xOFFSET.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace capx::mbuf {

struct MbufProbeSpec {
	std::string where;            // SYMBOL, LIB:SYMBOL or LIB:0xOFFSET (symbols::locate)
	std::uint8_t mbuf_arg = 0;    // N, 1..6 (x86-64 register arguments)
	std::uint8_t count_arg = 0;   // M, 1..6; 0: a single mbuf
	std::string text;             // as given, for messages and names
};

// Parses one -f argument (comma-separated lists are split by the caller).
// Errors are usage errors: "capx: probe 'foo': missing @N (the argument
// holding the struct rte_mbuf *)", "@N@M: N and M must differ" ...
[[nodiscard]] Result<MbufProbeSpec> parse_probe_spec(std::string_view text);

// Every -f argument, each a comma-separated list ("a@1,b@2@3"); an empty
// item is a usage error.
[[nodiscard]] Result<std::vector<MbufProbeSpec>> parse_probe_specs(const std::vector<std::string> &arguments);

} // namespace capx::mbuf
