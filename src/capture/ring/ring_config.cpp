// SPDX-License-Identifier: GPL-2.0-only
#include "capture/ring/ring_config.hpp"

#include <unistd.h>

#include <fmt/format.h>

namespace capx::ring {

namespace {

// One place for the option words and their enum values.
template<typename Enum, std::size_t N>
struct Words {
	std::pair<std::string_view, Enum> entries[N];

	[[nodiscard]] Result<Enum> parse(std::string_view word, std::string_view option) const
	{
		std::string choices;
		for (const auto &[name, value] : entries) {
			if (name == word)
				return value;
			choices += choices.empty() ? "" : "|";
			choices += name;
		}
		return fail_usage(fmt::format("{}: '{}' is not one of {}", option, word, choices));
	}

	std::string_view name(Enum value) const
	{
		for (const auto &[name, v] : entries)
			if (v == value)
				return name;
		return "?";
	}
};

constexpr Words<DirectionFilter, 3> kDirections{{
	{"inout", DirectionFilter::InOut},
	{"in", DirectionFilter::In},
	{"out", DirectionFilter::Out},
}};

constexpr Words<FanoutMode, 4> kFanouts{{
	{"hash", FanoutMode::Hash},
	{"cpu", FanoutMode::Cpu},
	{"lb", FanoutMode::LoadBalance},
	{"rollover", FanoutMode::Rollover},
}};

constexpr Words<TimestampType, 3> kTimestamps{{
	{"host", TimestampType::Host},
	{"adapter", TimestampType::Adapter},
	{"adapter_unsynced", TimestampType::AdapterUnsynced},
}};

} // namespace

[[nodiscard]] Result<DirectionFilter> parse_direction(std::string_view w) { return kDirections.parse(w, "-Q"); }
[[nodiscard]] Result<FanoutMode> parse_fanout(std::string_view w) { return kFanouts.parse(w, "--fanout"); }
[[nodiscard]] Result<TimestampType> parse_timestamp_type(std::string_view w) { return kTimestamps.parse(w, "--time-stamp-type"); }

std::string_view to_string(DirectionFilter d) { return kDirections.name(d); }
std::string_view to_string(FanoutMode m) { return kFanouts.name(m); }
std::string_view to_string(TimestampType t) { return kTimestamps.name(t); }

[[nodiscard]] Result<void> RingConfig::validate() const
{
	const auto page_kib = static_cast<std::uint32_t>(::sysconf(_SC_PAGESIZE) / 1024);
	if (block_kib == 0 || block_kib % page_kib != 0)
		return fail_usage(fmt::format("--block-size {} KiB is not a multiple of the page size ({} KiB)",
					      block_kib, page_kib));
	if (ring_kib / block_kib < 2)
		return fail_usage(fmt::format("-B {} KiB holds fewer than 2 blocks of {} KiB", ring_kib, block_kib),
				  "raise -B or lower --block-size");
	if (retire_timeout_ms == 0)
		return fail_usage("--retire-timeout must be at least 1 ms");
	if (threads == 0 || threads > 64)
		return fail_usage(fmt::format("--threads {} is out of range (1-64)", threads));
	if (interface == "any" && timestamp != TimestampType::Host)
		return fail_usage("--time-stamp-type adapter needs one interface, not 'any'");
	return {};
}

} // namespace capx::ring
