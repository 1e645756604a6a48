// SPDX-License-Identifier: GPL-2.0-only
#include "capture/xdp/xdp_change.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/if_link.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/log.hpp"

namespace capx::xdp {

namespace {

// What capx tells its guard on the pipe.
constexpr char kDone = 'D';

[[nodiscard]] std::uint32_t prog_id(int fd)
{
	bpf_prog_info info{};
	std::uint32_t len = sizeof info;
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

// Moves prog `from` to `to` where `from` is expected; -errno.
int swap(const Change &c, int from, int to)
{
	switch (c.kind) {
	case Change::Kind::Netlink: {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = from);
		return bpf_xdp_attach(static_cast<int>(c.ifindex), to, XDP_FLAGS_REPLACE | c.mode_flag, &opts);
	}
	case Change::Kind::Link: {
		LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE, .old_prog_fd = static_cast<__u32>(from));
		return bpf_link_update(c.holder.get(), to, &opts) ? -errno : 0;
	}
	case Change::Kind::Slot:
		break;
	}
	return -EINVAL;
}

// Closes every fd of the guard but stderr, the pipe and those of
// `changes`: it holds no capture output, and no ring, open.
void close_all_but(int pipe_fd, const std::vector<Change> &changes)
{
	std::vector<int> keep{STDERR_FILENO, pipe_fd};
	for (const Change &c : changes)
		for (const UniqueFd *fd : {&c.ours, &c.theirs, &c.holder})
			if (fd->valid())
				keep.push_back(fd->get());
	std::sort(keep.begin(), keep.end());
	int next = 0;
	for (int fd : keep) {
		if (fd > next)
			close_range(static_cast<unsigned>(next), static_cast<unsigned>(fd - 1), 0);
		next = fd + 1;
	}
	close_range(static_cast<unsigned>(next), ~0u, 0);
}

// The guard's life: wait until capx says done or dies, and undo in the
// second case. Only async-signal-safe calls and libbpf's syscall wrappers
// (the process is a fork of capx).
[[noreturn]] void guard_main(int pipe_fd, const std::vector<Change> &changes)
{
	// Out of the terminal's process group and deaf to what would stop
	// capx: it outlives capx by design, for as long as the undo takes.
	setsid();
	for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2})
		signal(sig, SIG_IGN);
	prctl(PR_SET_NAME, "capx-xdp-guard");
	close_all_but(pipe_fd, changes);
	char c = 0;
	ssize_t n;
	do {
		n = read(pipe_fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n == 1 && c == kDone)
		_exit(0);
	for (auto it = changes.rbegin(); it != changes.rend(); ++it)
		undo(*it);
	_exit(0);
}

} // namespace

[[nodiscard]] Result<void> apply(const Change &c)
{
	if (c.kind == Change::Kind::Slot) {
		std::uint32_t id = 0;
		std::uint32_t slot = c.slot;
		// A program array answers a lookup with the program's id
		// (prog_fd_array_sys_lookup_elem(), kernel/bpf/arraymap.c).
		if (bpf_map_lookup_elem(c.holder.get(), &slot, &id) == 0)
			return fail(fmt::format("{} holds program {} already", c.what, id),
				    "another capture (xdpcap, capx) is using the hook");
		int fd = c.ours.get();
		if (bpf_map_update_elem(c.holder.get(), &slot, &fd, BPF_ANY))
			return fail_errno(errno, fmt::format("cannot put capx's program into {}", c.what));
		return {};
	}
	if (int err = swap(c, c.theirs.get(), c.ours.get()))
		return fail_errno(-err, fmt::format("cannot put capx's program in place of the {}", c.what),
				  err == -EEXIST ? "it changed while capx was starting; try again"
						 : std::string{});
	return {};
}

void undo(const Change &c)
{
	if (c.kind == Change::Kind::Slot) {
		std::uint32_t id = 0;
		std::uint32_t slot = c.slot;
		if (bpf_map_lookup_elem(c.holder.get(), &slot, &id) == 0 && id == prog_id(c.ours.get()))
			bpf_map_delete_elem(c.holder.get(), &slot);
		return;
	}
	int err = swap(c, c.ours.get(), c.theirs.get());
	// EEXIST: what runs there is no longer capx's program (someone
	// replaced it): theirs now, left alone.
	if (err == -EEXIST)
		spdlog::warn("the {} was changed by someone else during the capture; left as it is", c.what);
	else if (err)
		spdlog::warn("cannot put back the {}: {}", c.what, std::strerror(-err));
}

ChangeSet::ChangeSet(ChangeSet &&o) noexcept
	: changes_(std::move(o.changes_)), guard_pipe_(std::move(o.guard_pipe_)), guard_(std::exchange(o.guard_, -1))
{
}

ChangeSet &ChangeSet::operator=(ChangeSet &&o) noexcept
{
	if (this != &o) {
		undo_all();
		changes_ = std::move(o.changes_);
		guard_pipe_ = std::move(o.guard_pipe_);
		guard_ = std::exchange(o.guard_, -1);
	}
	return *this;
}

ChangeSet::~ChangeSet()
{
	undo_all();
}

void ChangeSet::undo_all()
{
	for (auto it = changes_.rbegin(); it != changes_.rend(); ++it)
		undo(*it);
	changes_.clear();
	if (guard_pipe_) {
		char c = kDone;
		ssize_t ignored = write(guard_pipe_.get(), &c, 1);
		(void)ignored;
		guard_pipe_.reset();
	}
	if (guard_ > 0) {
		while (waitpid(guard_, nullptr, 0) < 0 && errno == EINTR) {
		}
		guard_ = -1;
	}
}

[[nodiscard]] Result<ChangeSet> ChangeSet::apply_all(std::vector<Change> changes)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC))
		return fail_errno(errno, "cannot create the guard's pipe");
	UniqueFd read_end(fds[0]);
	ChangeSet set;
	set.guard_pipe_.reset(fds[1]);
	pid_t pid = fork();
	if (pid < 0)
		return fail_errno(errno, "cannot start the guard process");
	if (pid == 0) {
		set.guard_pipe_.reset();
		guard_main(read_end.get(), changes);
	}
	set.guard_ = pid;
	read_end.reset();

	for (auto &c : changes) {
		if (auto r = apply(c); !r)
			return std::unexpected(std::move(r.error())); // set undoes what was applied
		set.changes_.push_back(std::move(c));
	}
	return set;
}

} // namespace capx::xdp
