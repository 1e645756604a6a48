// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/drop_reason.hpp"

#include "bpf/btf.hpp"

namespace capx::skb {

DropReasons DropReasons::from_btf(const bpf::KernelBtf &btf)
{
	DropReasons reasons;
	for (const auto &value : btf.enum_values("skb_drop_reason")) {
		std::string_view name = value.name;
		// The enum's first two values have no DROP_REASON_ in their name
		// (SKB_NOT_DROPPED_YET, SKB_CONSUMED); drop_reasons[] prints them
		// without the SKB_ prefix too.
		if (name.starts_with("SKB_DROP_REASON_"))
			name.remove_prefix(16);
		else if (name.starts_with("SKB_"))
			name.remove_prefix(4);
		// MAX and SUBSYS_MASK bound the enum; they are no reason.
		if (name == "MAX" || name == "SUBSYS_MASK" || value.value < 0 || value.value > 0xffff)
			continue;
		reasons.names_.emplace(static_cast<std::uint32_t>(value.value), std::string(name));
	}
	return reasons;
}

std::string_view DropReasons::name(std::uint32_t value) const
{
	auto it = names_.find(value);
	return it == names_.end() ? std::string_view() : std::string_view(it->second);
}

} // namespace capx::skb
