// SPDX-License-Identifier: GPL-2.0-only
// A move-only owner of a bpf_link: destroying it detaches. Links are owned
// by the file descriptor, so the kernel also detaches when capx dies.
#pragma once

#include <string_view>
#include <utility>

#include "core/error.hpp"

struct bpf_link;

namespace capx::bpf {

class Link {
public:
	Link() = default;
	Link(const Link &) = delete;
	Link &operator=(const Link &) = delete;
	Link(Link &&o) noexcept : link_(std::exchange(o.link_, nullptr)) {}
	Link &operator=(Link &&o) noexcept
	{
		if (this != &o) {
			reset();
			link_ = std::exchange(o.link_, nullptr);
		}
		return *this;
	}
	~Link() { reset(); }

	// Takes the result of a bpf_program__attach*() call: a link, or NULL with
	// errno set. `what` names the attachment in the error ("XDP on eth0").
	[[nodiscard]] static Result<Link> adopt(struct bpf_link *link, std::string_view what);

	struct bpf_link *get() const { return link_; }
	explicit operator bool() const { return link_ != nullptr; }
	void reset();

private:
	explicit Link(struct bpf_link *link) : link_(link) {}
	struct bpf_link *link_ = nullptr;
};

} // namespace capx::bpf
