// SPDX-License-Identifier: GPL-2.0-only
// Names of the kernel's drop reasons (enum skb_drop_reason), read from BTF
// so they match the running kernel, spelt as its drop_reasons[] table
// prints them in the skb:kfree_skb trace output: SKB_DROP_REASON_NO_SOCKET
// is "NO_SOCKET", SKB_CONSUMED is "CONSUMED" (include/net/dropreason-core.h,
// DEFINE_DROP_REASON; net/core/skbuff.c, drop_reasons_core).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace capx::bpf {
class KernelBtf;
}

namespace capx::skb {

class DropReasons {
public:
	static DropReasons from_btf(const bpf::KernelBtf &btf);

	// The name of a reason value; empty when this kernel's core enum has no
	// such value (a subsystem's reason, SKB_DROP_REASON_SUBSYS_MASK bits).
	std::string_view name(std::uint32_t value) const;
	const std::map<std::uint32_t, std::string> &all() const { return names_; }

private:
	std::map<std::uint32_t, std::string> names_;
};

} // namespace capx::skb
