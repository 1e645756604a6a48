// SPDX-License-Identifier: GPL-2.0-only
// Numbers appended to a string with std::to_chars: for text built once per
// packet (src/output/packet_meta_text.cpp), where fmt's per-call format
// parsing cost several times the rest of the work.
#pragma once

#include <charconv>
#include <cstdint>
#include <iterator>
#include <string>

namespace capx {

inline void append_number(std::string &out, std::uint64_t value)
{
	char digits[24];
	auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
	out.append(digits, end);
}

// "0x" and lowercase hex digits, like printf's %#llx.
inline void append_hex(std::string &out, std::uint64_t value)
{
	char digits[24];
	auto end = std::to_chars(std::begin(digits), std::end(digits), value, 16).ptr;
	out += "0x";
	out.append(digits, end);
}

} // namespace capx
