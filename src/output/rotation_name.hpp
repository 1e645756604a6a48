// SPDX-License-Identifier: GPL-2.0-only
// tcpdump's names for rotated files (MakeFilename() in tcpdump.c): with -G
// the -w name is a strftime(3) pattern expanded in local time at the start
// of the file's time slot; with -C a count is appended (FILE, FILE1,
// FILE2 ...), zero-padded with -W to the digits of the ring's last number
// (-W 10: FILE0..FILE9; -W 100: FILE00..FILE99).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace capx {

// The number of digits tcpdump pads counts to for -W `file_limit`
// (getWflagChars(): the digits of file_limit - 1; 0 for -W 1).
int ring_digits(std::uint32_t file_limit);

// `pattern` expanded with strftime(3) for `slot_start` (when -G), then
// `count` appended with `width` digits unless both are 0.
[[nodiscard]] Result<std::string> rotation_file_name(const std::string &pattern, std::optional<std::time_t> slot_start,
				       std::uint32_t count, int width);

} // namespace capx
