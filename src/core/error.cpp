// SPDX-License-Identifier: GPL-2.0-only
#include "core/error.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace capx {

std::unexpected<Error> fail_errno(int err, std::string_view what, std::string hint)
{
	if (hint.empty() && (err == EPERM || err == EACCES))
		hint = privilege_hint();
	Error e{fmt::format("{}: {}", what, std::strerror(err)), std::move(hint), ExitStatus::Runtime};
	e.orderly_end = err == EPIPE;
	return std::unexpected(std::move(e));
}

std::string privilege_hint()
{
	return "capx needs root or CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF and CAP_PERFMON";
}

} // namespace capx
