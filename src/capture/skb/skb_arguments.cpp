// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/skb_arguments.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "capture/interface_lookup.hpp"
#include "core/unique_fd.hpp"

namespace capx::skb {

namespace {

// A whole word as an unsigned number in `base`; std::nullopt otherwise.
std::optional<std::uint64_t> parse_number(std::string_view word, int base)
{
	std::uint64_t value = 0;
	auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value, base);
	if (word.empty() || ec != std::errc() || end != word.data() + word.size())
		return std::nullopt;
	return value;
}

} // namespace

[[nodiscard]] Result<std::uint32_t> resolve_interface_argument(std::string_view word)
{
	if (word == "any")
		return 0;
	if (auto index = parse_number(word, 10)) {
		// An index is taken as it is: it may be a device of another
		// namespace (--netns), which capx cannot look up by name.
		if (*index == 0 || *index > std::numeric_limits<std::int32_t>::max())
			return fail_usage(fmt::format("'{}' is no interface index", word),
					  "give a device name or a positive ifindex");
		return static_cast<std::uint32_t>(*index);
	}
	// The lookup and its words are shared with `capx ring -i`.
	auto index = interface_index(word);
	if (!index && index.error().status == ExitStatus::Runtime)
		index.error().hint += "; a device of another namespace is given by its index";
	return index;
}

[[nodiscard]] Result<std::uint32_t> resolve_netns_argument(std::string_view word)
{
	if (word.empty())
		return fail_usage("empty network namespace", "give an inode number, /proc/PID/ns/net or /run/netns/NAME");
	if (auto inode = parse_number(word, 10)) {
		if (*inode == 0 || *inode > std::numeric_limits<std::uint32_t>::max())
			return fail_usage(fmt::format("'{}' is no namespace inode", word),
					  "namespace inodes are 32-bit numbers, like 4026531840");
		return static_cast<std::uint32_t>(*inode);
	}
	// A bare name is what `ip netns add NAME` made.
	std::string path = word.find('/') == std::string_view::npos ? fmt::format("/run/netns/{}", word)
								   : std::string(word);
	UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return fail_errno(errno, fmt::format("no network namespace '{}'", path),
				  "give an inode number, /proc/PID/ns/net or /run/netns/NAME");
	// NS_GET_NSTYPE (Linux 4.11) tells a network namespace from any other
	// file, whose inode number would silently match nothing.
	int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
	if (type != CLONE_NEWNET)
		return fail(fmt::format("'{}' is not a network namespace", path),
			    "give an inode number, /proc/PID/ns/net or /run/netns/NAME");
	struct stat st {};
	if (::fstat(fd.get(), &st) != 0)
		return fail_errno(errno, fmt::format("cannot stat '{}'", path));
	return static_cast<std::uint32_t>(st.st_ino);
}

[[nodiscard]] Result<std::uint32_t> parse_mark_argument(std::string_view word)
{
	std::optional<std::uint64_t> mark;
	if (word.starts_with("0x") || word.starts_with("0X"))
		mark = parse_number(word.substr(2), 16);
	else
		mark = parse_number(word, 10);
	if (!mark || *mark > std::numeric_limits<std::uint32_t>::max())
		return fail_usage(fmt::format("'{}' is no mark", word), "a 32-bit number, decimal or 0x hexadecimal");
	return static_cast<std::uint32_t>(*mark);
}

} // namespace capx::skb
