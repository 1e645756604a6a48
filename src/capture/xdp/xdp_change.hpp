// SPDX-License-Identifier: GPL-2.0-only
// Changes `capx xdp` makes to what runs at XDP, each undone when capx is
// done, and by a guard process when capx dies without undoing them
// (SIGKILL): capx's program in place of the user's on an interface (by
// netlink or through the bpf_link that holds it), or in the slots of an
// xdpcap hook map.
//
// Every undo names what it expects to find (the kernel's compare-and-swap:
// XDP_FLAGS_REPLACE, BPF_F_REPLACE, or the slot's program id), so a
// program someone else put there meanwhile is never clobbered.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace capx::xdp {

// One change, with the fds it needs to apply and to undo it.
struct Change {
	enum class Kind : std::uint8_t {
		Netlink, // the interface's program, attached by netlink
		Link,    // the program of a bpf_link (BPF_LINK_TYPE_XDP)
		Slot,    // slot `slot` of a PROG_ARRAY (xdpcap's hook)
	};
	Kind kind = Kind::Netlink;
	std::string what;      // "XDP program of eth0", for messages
	UniqueFd ours;         // capx's program
	UniqueFd theirs;       // the program it replaces (Netlink, Link)
	UniqueFd holder;       // the link (Link) or the map (Slot)
	std::uint32_t ifindex = 0;
	std::uint32_t mode_flag = 0; // XDP_FLAGS_DRV_MODE / _SKB_MODE (Netlink)
	std::uint32_t slot = 0;      // (Slot)
};

[[nodiscard]] Result<void> apply(const Change &c);
// Puts back what was there; a change someone else made since is left as
// it is (reported, not an error for the caller to act on).
void undo(const Change &c);

// The changes of one session, applied in order and undone in reverse in
// the destructor. Before the first is applied, a guard process is forked
// with its own copies of every fd: if capx ends without saying it undid
// them, the guard does.
class ChangeSet {
public:
	ChangeSet() = default;
	ChangeSet(ChangeSet &&o) noexcept;
	ChangeSet &operator=(ChangeSet &&) noexcept;
	~ChangeSet();

	// Applies `changes` (all or none).
	[[nodiscard]] static Result<ChangeSet> apply_all(std::vector<Change> changes);

private:
	void undo_all();

	std::vector<Change> changes_;
	UniqueFd guard_pipe_; // write end; the guard reads it
	pid_t guard_ = -1;
};

} // namespace capx::xdp
