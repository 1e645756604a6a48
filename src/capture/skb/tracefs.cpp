// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/tracefs.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>

namespace capx::skb::tracefs {

namespace fs = std::filesystem;

std::optional<fs::path> root()
{
	for (const char *dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
		std::error_code ec;
		if (fs::is_directory(fs::path(dir) / "events", ec))
			return fs::path(dir);
	}
	return std::nullopt;
}

std::optional<std::vector<std::string>> subsystems_of(std::string_view tracepoint)
{
	auto all = events();
	if (!all)
		return std::nullopt;
	std::vector<std::string> found;
	for (const Event &e : *all)
		if (e.name == tracepoint)
			found.push_back(e.subsystem);
	return found;
}

std::optional<std::vector<Event>> events()
{
	auto dir = root();
	if (!dir)
		return std::nullopt;
	std::error_code ec;
	std::vector<Event> out;
	for (const auto &subsystem : fs::directory_iterator(*dir / "events", ec)) {
		std::error_code sub_ec;
		if (!subsystem.is_directory(sub_ec))
			continue;
		for (const auto &event : fs::directory_iterator(subsystem.path(), sub_ec))
			if (std::error_code e_ec; event.is_directory(e_ec))
				out.push_back({subsystem.path().filename(), event.path().filename()});
	}
	if (ec)
		return std::nullopt;
	std::sort(out.begin(), out.end(), [](const Event &a, const Event &b) {
		return a.subsystem != b.subsystem ? a.subsystem < b.subsystem : a.name < b.name;
	});
	return out;
}

std::set<std::string, std::less<>> column_of(std::string_view text, int column)
{
	std::set<std::string, std::less<>> out;
	while (!text.empty()) {
		std::size_t eol = text.find('\n');
		std::string_view line = text.substr(0, eol);
		text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
		std::size_t pos = 0;
		for (int i = 0; i <= column; i++) {
			pos = line.find_first_not_of(" \t", pos);
			if (pos == std::string_view::npos)
				break;
			std::size_t end = line.find_first_of(" \t", pos);
			if (i == column)
				out.emplace(line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
			pos = end;
		}
	}
	return out;
}

namespace {

std::optional<std::set<std::string, std::less<>>> words_of(const fs::path &path, int column)
{
	std::ifstream in(path);
	if (!in)
		return std::nullopt;
	std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	if (in.bad())
		return std::nullopt;
	// An empty list is a read the kernel refused (lockdown), not a kernel
	// that can trace nothing: treat it as unknown.
	auto words = column_of(text, column);
	if (words.empty())
		return std::nullopt;
	return words;
}

} // namespace

std::optional<std::set<std::string, std::less<>>> available_filter_functions()
{
	auto dir = root();
	if (!dir)
		return std::nullopt;
	// "ip_rcv" or "veth_xmit [veth]"
	return words_of(*dir / "available_filter_functions", 0);
}

std::optional<std::set<std::string, std::less<>>> kprobe_blacklist()
{
	// "0xffffffff81000000-0xffffffff81000010\tfunction"
	return words_of("/sys/kernel/debug/kprobes/blacklist", 1);
}

} // namespace capx::skb::tracefs
