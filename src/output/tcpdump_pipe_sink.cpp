// SPDX-License-Identifier: GPL-2.0-only
#include "output/tcpdump_pipe_sink.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fmt/format.h>

extern char **environ;

namespace capx {

[[nodiscard]] Result<std::vector<std::string>> split_flag_words(std::string_view flags)
{
	std::vector<std::string> words;
	std::string word;
	bool in_word = false;
	for (std::size_t i = 0; i < flags.size(); i++) {
		char c = flags[i];
		if (c == ' ' || c == '\t' || c == '\n') {
			if (in_word)
				words.push_back(std::move(word));
			word.clear();
			in_word = false;
			continue;
		}
		in_word = true;
		if (c == '\\') {
			if (++i == flags.size())
				return fail_usage(fmt::format("-t '{}': ends with a lone backslash", flags));
			word += flags[i];
		} else if (c == '\'') {
			auto end = flags.find('\'', i + 1);
			if (end == std::string_view::npos)
				return fail_usage(fmt::format("-t '{}': unterminated ' quote", flags));
			word += flags.substr(i + 1, end - i - 1);
			i = end;
		} else if (c == '"') {
			for (i++; i < flags.size() && flags[i] != '"'; i++) {
				if (flags[i] == '\\' && i + 1 < flags.size() &&
				    (flags[i + 1] == '"' || flags[i + 1] == '\\'))
					i++;
				word += flags[i];
			}
			if (i == flags.size())
				return fail_usage(fmt::format("-t '{}': unterminated \" quote", flags));
		} else {
			word += c;
		}
	}
	if (in_word)
		words.push_back(std::move(word));
	return words;
}

TcpdumpPipeSink::TcpdumpPipeSink(TcpdumpPipeOptions options)
	: options_(std::move(options)), format_(options_.nano)
{
}

TcpdumpPipeSink::~TcpdumpPipeSink()
{
	// Never leave tcpdump behind: end its input and reap it.
	pipe_.reset();
	if (child_ > 0)
		(void)wait_child();
}

[[nodiscard]] Result<void> TcpdumpPipeSink::begin(std::span<const CapturePoint> points)
{
	if (auto r = format_.configure(points); !r) {
		Error e = std::move(r.error());
		e.hint = "tcpdump reads one link type per capture: capture at points of the same link type";
		return std::unexpected(std::move(e));
	}
	int fds[2];
	if (::pipe2(fds, O_CLOEXEC) != 0)
		return fail_errno(errno, "pipe");
	UniqueFd read_end(fds[0]);
	UniqueFd write_end(fds[1]);
	if (auto r = spawn(read_end.get()); !r)
		return r;
	read_end.reset(); // tcpdump holds the only read end: EPIPE when it exits

	auto pipe = FileOutput::adopt(std::move(write_end), "pipe to tcpdump");
	if (!pipe)
		return std::unexpected(std::move(pipe.error()));
	pipe->set_write_through(true);
	pipe_.emplace(std::move(*pipe));
	if (auto r = pipe_->append(format_.file_header()); !r)
		return std::unexpected(explain(std::move(r.error())));
	return {};
}

[[nodiscard]] Result<void> TcpdumpPipeSink::spawn(int read_end)
{
	auto words = split_flag_words(options_.flags);
	if (!words)
		return std::unexpected(std::move(words.error()));
	std::vector<std::string> args = {options_.program, "-r", "-"};
	args.insert(args.end(), words->begin(), words->end());
	std::vector<char *> argv;
	for (auto &a : args)
		argv.push_back(a.data());
	argv.push_back(nullptr);

	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&actions);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&actions, read_end, STDIN_FILENO);
	if (options_.output_fd != STDOUT_FILENO)
		posix_spawn_file_actions_adddup2(&actions, options_.output_fd, STDOUT_FILENO);
	// Its own process group: Ctrl-C on the terminal reaches capx alone,
	// which ends the capture in order; tcpdump then reads to the end of
	// its input and prints every packet before it exits.
	posix_spawnattr_setpgroup(&attr, 0);
	// capx ignores SIGPIPE; tcpdump should die of it as usual (`| head`).
	sigset_t defaults, empty;
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigemptyset(&empty);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setsigmask(&attr, &empty);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

	pid_t pid = -1;
	int err = ::posix_spawnp(&pid, options_.program.c_str(), &actions, &attr, argv.data(), environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	if (err == ENOENT)
		return fail(fmt::format("-t needs {}, which is not installed (not found in PATH)", options_.program),
			    "install it (Debian: apt-get install tcpdump), or leave out -t for capx's own printer");
	if (err != 0)
		return fail_errno(err, fmt::format("run {}", options_.program));
	child_ = pid;
	return {};
}

[[nodiscard]] Result<void> TcpdumpPipeSink::write(const PacketView &packet)
{
	if (!pipe_)
		return fail("tcpdump pipe is not open");
	auto size = format_.measure(packet);
	if (!size)
		return std::unexpected(std::move(size.error()));
	auto room = pipe_->reserve(*size);
	if (!room)
		return std::unexpected(explain(std::move(room.error())));
	format_.encode(packet, *room);
	if (auto r = pipe_->commit(*size); !r)
		return std::unexpected(explain(std::move(r.error())));
	return {};
}

[[nodiscard]] Result<void> TcpdumpPipeSink::flush()
{
	if (!pipe_)
		return {};
	if (auto r = pipe_->flush(); !r)
		return std::unexpected(explain(std::move(r.error())));
	return {};
}

[[nodiscard]] Result<void> TcpdumpPipeSink::finish()
{
	Result<void> result;
	if (pipe_) {
		result = pipe_->close();
		pipe_.reset();
		if (!result)
			result = std::unexpected(explain(std::move(result.error())));
	}
	if (child_ > 0) {
		auto waited = wait_child();
		if (!waited && (result || result.error().orderly_end))
			result = std::move(waited);
	}
	return result;
}

Error TcpdumpPipeSink::explain(Error e)
{
	if (!e.orderly_end || child_ <= 0)
		return e;
	pipe_.reset();
	if (auto waited = wait_child(); !waited)
		return std::move(waited.error());
	return e; // tcpdump ended on its own terms (-c N): an orderly end
}

[[nodiscard]] Result<void> TcpdumpPipeSink::wait_child()
{
	int status = 0;
	pid_t r;
	do
		r = ::waitpid(child_, &status, 0);
	while (r < 0 && errno == EINTR);
	pid_t pid = std::exchange(child_, -1);
	if (r < 0)
		return fail_errno(errno, fmt::format("wait for {} (pid {})", options_.program, pid));
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return fail(fmt::format("{} exited with status {}", options_.program, WEXITSTATUS(status)),
			    fmt::format("check the flags given to -t ('{}')", options_.flags));
	// SIGPIPE: whoever read tcpdump's output went away; not an error.
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGPIPE)
		return fail(fmt::format("{} was killed by signal {}", options_.program, WTERMSIG(status)));
	return {};
}

} // namespace capx
