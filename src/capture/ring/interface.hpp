// SPDX-License-Identifier: GPL-2.0-only
// The interface `-i` names: resolved once, before any privileged step, so
// that a typo is reported as such and `-d` works without root.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace capx::ring {

struct Interface {
	std::string name;        // "eth0", or "any"
	std::uint32_t index = 0; // 0 for "any": bind(2) to every interface
	std::uint16_t arphrd = 0;// ARPHRD_* of the device (0 for "any")

	bool any() const { return index == 0; }
};

// `word` is a name, an ifindex in decimal, or "any". The error for an
// unknown name lists a few interfaces that do exist.
[[nodiscard]] Result<Interface> resolve_interface(std::string_view word);

} // namespace capx::ring
