// SPDX-License-Identifier: GPL-2.0-only
// What `capx xdp` was asked (parsed by src/cli/xdp.cpp, taken as it is by
// the source): where to capture, how to get there, which side of the
// program and which verdicts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/snaplen.hpp"

namespace capx::xdp {

// How capx reaches the packets (--method). Auto picks, in this order:
// hook for --hook, wrap for a program on an interface, own for an
// interface without one, trace for a program given by --prog.
enum class Method : std::uint8_t {
	Auto,
	Trace, // fentry/fexit on the program's function
	Wrap,  // capx's program in its place, running it through a tail call
	Own,   // capx's pass-through program on an interface without one
	Hook,  // xdpcap's pinned PROG_ARRAY hook
};

std::string_view method_name(Method m);
[[nodiscard]] Result<Method> parse_method(std::string_view word);

// Which sides of the program are written (--capture).
struct Sides {
	bool entry = false;
	bool exit = true;
};
[[nodiscard]] Result<Sides> parse_sides(std::string_view list);

// The verdicts kept (--action): bit N for XDP action N (XDP_ABORTED = 0 ..
// XDP_REDIRECT = 4), bit kOtherAction for any other value a program
// returns (the kernel treats it as XDP_ABORTED after a warning,
// bpf_warn_invalid_xdp_action()).
inline constexpr unsigned kOtherAction = 5;
inline constexpr std::uint32_t kAllActions = (1u << (kOtherAction + 1)) - 1;
[[nodiscard]] Result<std::uint32_t> parse_actions(std::string_view list);

struct XdpConfig {
	std::string interface;        // -i: name or ifindex
	std::string program;          // --prog: id or bpffs pin
	std::string hook;             // --hook: bpffs pin of xdpcap's hook map
	Method method = Method::Auto;
	Sides sides;
	bool sides_given = false;     // --capture was given (own: entry by default)
	std::uint32_t actions = kAllActions;
	std::string expression;
	std::uint32_t snaplen = kMaxSnaplen;
	std::uint64_t ring_kib = 8192;
};

} // namespace capx::xdp
