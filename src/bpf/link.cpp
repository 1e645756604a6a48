// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/link.hpp"

#include <bpf/libbpf.h>

#include <cerrno>

#include <fmt/format.h>

namespace capx::bpf {

[[nodiscard]] Result<Link> Link::adopt(struct bpf_link *link, std::string_view what)
{
	// libbpf 1.x returns NULL and sets errno.
	int err = errno;
	if (!link) {
		if (err == 0)
			err = EINVAL;
		return fail_errno(err, fmt::format("cannot attach {}", what),
				  err == EPERM || err == EACCES ? privilege_hint() : std::string{});
	}
	return Link(link);
}

void Link::reset()
{
	if (link_)
		bpf_link__destroy(std::exchange(link_, nullptr));
}

} // namespace capx::bpf
