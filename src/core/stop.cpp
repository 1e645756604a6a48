// SPDX-License-Identifier: GPL-2.0-only
#include "core/stop.hpp"

#include <csignal>
#include <cstdint>
#include <atomic>

#include <sys/eventfd.h>
#include <unistd.h>

namespace capx::stop {

namespace {

std::atomic<bool> g_requested{false};
std::atomic<int> g_signal{0};
int g_eventfd = -1;

void wake()
{
	if (g_eventfd >= 0) {
		std::uint64_t one = 1;
		// Async-signal-safe; a failure only means it is already readable.
		[[maybe_unused]] auto n = ::write(g_eventfd, &one, sizeof(one));
	}
}

void on_signal(int sig)
{
	int expected = 0;
	g_signal.compare_exchange_strong(expected, sig);
	g_requested.store(true);
	wake();
}

} // namespace

[[nodiscard]] Result<void> install()
{
	if (g_eventfd >= 0)
		return {};
	g_eventfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g_eventfd < 0)
		return fail_errno(errno, "eventfd");

	struct sigaction sa{};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; // no SA_RESTART: blocking calls return EINTR
	for (int sig : {SIGINT, SIGTERM, SIGHUP})
		if (::sigaction(sig, &sa, nullptr) < 0)
			return fail_errno(errno, "sigaction");

	struct sigaction ign{};
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (::sigaction(SIGPIPE, &ign, nullptr) < 0)
		return fail_errno(errno, "sigaction");
	return {};
}

bool requested() { return g_requested.load(std::memory_order_relaxed); }

int signal_number() { return g_signal.load(); }

int fd() { return g_eventfd; }

void request()
{
	g_requested.store(true);
	wake();
}

} // namespace capx::stop
