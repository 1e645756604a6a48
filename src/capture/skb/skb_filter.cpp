// SPDX-License-Identifier: GPL-2.0-only
#include "capture/skb/skb_filter.hpp"

#include <linux/filter.h>

#include <array>

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"

namespace capx::skb {

namespace {

[[nodiscard]] Result<EbpfFilter> translate(const CompiledFilter &filter)
{
	auto body = translate_to_ebpf(filter.cbpf, FilterAccess::Buffer);
	if (!body)
		return std::unexpected(std::move(body.error()));
	return body;
}

// "ret #0" through the same translator: a valid body for the L3
// placeholder that keeps nothing.
[[nodiscard]] Result<EbpfFilter> reject_all_body()
{
	const std::array<CbpfInsn, 1> reject{CbpfInsn{BPF_RET | BPF_K, 0, 0, 0}};
	return translate_to_ebpf(reject, FilterAccess::Buffer);
}

} // namespace

[[nodiscard]] Result<SkbFilter> build_skb_filter(std::string_view expression, std::uint32_t snaplen)
{
	// Ethernet first: a mistake in the expression is reported as libpcap
	// words it for the link type most packets have.
	auto l2 = compile_filter(expression, kLinkEthernet, snaplen);
	if (!l2)
		return std::unexpected(std::move(l2.error()));
	auto l2_body = translate(*l2);
	if (!l2_body)
		return std::unexpected(std::move(l2_body.error()));

	SkbFilter out;
	out.accepts_all = l2->accepts_all();
	out.l2_bytes_needed = l2_body->bytes_needed;
	out.bodies.buffer = std::move(l2_body->insns);

	// The Ethernet compile succeeded, so a RAW failure is the link layer's
	// fault (compile_filter gives it the hint that says so). One probe may
	// see both kinds of packet, so that is no error: only L3 packets cannot
	// match, and the user is told once.
	auto l3 = compile_filter(expression, kLinkRaw, snaplen);
	EbpfFilter l3_body;
	if (l3) {
		auto body = translate(*l3);
		if (!body)
			return std::unexpected(std::move(body.error()));
		l3_body = std::move(*body);
	} else {
		auto body = reject_all_body();
		if (!body)
			return std::unexpected(std::move(body.error()));
		l3_body = std::move(*body);
		out.l3_warning = fmt::format("filter '{}' needs a link-layer header: packets seen without a "
					     "MAC header (at L3 hooks) cannot match",
					     expression);
		spdlog::warn("{}", out.l3_warning);
	}
	out.l3_bytes_needed = l3_body.bytes_needed;
	out.bodies.l3 = std::move(l3_body.insns);
	return out;
}

} // namespace capx::skb
