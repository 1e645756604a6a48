// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/libbpf_setup.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bpf/inject_handler.hpp"

namespace capx::bpf {

namespace {

// libbpf's warnings are mostly about things capx handles itself (a probe
// that may fail, a feature it falls back from), so they show with -v; its
// info and debug chatter with -vv. A failed load's verifier log is reported
// by load_object() itself.
int print_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
	spdlog::level::level_enum ours = level == LIBBPF_WARN ? spdlog::level::debug : spdlog::level::trace;
	if (!spdlog::should_log(ours))
		return 0;
	char buf[1024];
	va_list copy;
	va_copy(copy, args);
	int n = std::vsnprintf(buf, sizeof(buf), format, copy);
	va_end(copy);
	if (n < 0)
		return 0;
	std::string text;
	if (static_cast<std::size_t>(n) < sizeof(buf)) {
		text.assign(buf, static_cast<std::size_t>(n));
	} else {
		text.resize(static_cast<std::size_t>(n) + 1);
		std::vsnprintf(text.data(), text.size(), format, args);
		text.resize(static_cast<std::size_t>(n));
	}
	while (!text.empty() && text.back() == '\n')
		text.pop_back();
	// libbpf prefixes most of its messages with "libbpf: " itself.
	spdlog::log(ours, "{}{}", text.starts_with("libbpf: ") ? "" : "libbpf: ", text);
	return 0;
}

} // namespace

[[nodiscard]] Result<void> setup_libbpf()
{
	static std::once_flag once;
	static Result<void> result;
	std::call_once(once, [] {
		libbpf_set_print(print_libbpf);
		result = register_capx_sections();
	});
	return result;
}

} // namespace capx::bpf
