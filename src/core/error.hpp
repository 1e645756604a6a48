// SPDX-License-Identifier: GPL-2.0-only
// Typed errors for every fallible operation: a one-line message, an optional
// hint, and the exit status class (runtime or usage).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace capx {

enum class ExitStatus : int {
	Ok = 0,
	Runtime = 1,
	Usage = 2,
};

struct Error {
	std::string message;
	std::string hint;
	ExitStatus status = ExitStatus::Runtime;

	// True when the error ends the capture in order rather than failing it:
	// the reader of the output went away (EPIPE), or -G -W wrote its last
	// file. The pipeline finishes the output and exits 0.
	bool orderly_end = false;

	Error &with_hint(std::string h) &
	{
		hint = std::move(h);
		return *this;
	}
	Error &&with_hint(std::string h) &&
	{
		hint = std::move(h);
		return std::move(*this);
	}
};

template<typename T = void>
using Result = std::expected<T, Error>;

// A runtime failure (exit 1).
inline std::unexpected<Error> fail(std::string message, std::string hint = {})
{
	return std::unexpected(Error{std::move(message), std::move(hint), ExitStatus::Runtime});
}

// A usage mistake: bad option, bad value, conflicting options (exit 2).
inline std::unexpected<Error> fail_usage(std::string message, std::string hint = {})
{
	return std::unexpected(Error{std::move(message), std::move(hint), ExitStatus::Usage});
}

// A failed system call: "<what>: <strerror(err)>", with EPIPE flagged.
std::unexpected<Error> fail_errno(int err, std::string_view what, std::string hint = {});

// The hint to give when an operation failed for lack of privileges.
std::string privilege_hint();

} // namespace capx
