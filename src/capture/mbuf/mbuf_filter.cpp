// SPDX-License-Identifier: GPL-2.0-only
#include "capture/mbuf/mbuf_filter.hpp"

#include <algorithm>

#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"

namespace capx::mbuf {

[[nodiscard]] Result<MbufFilter> build_mbuf_filter(std::string_view expression, std::uint32_t snaplen)
{
	auto compiled = compile_filter(expression, kLinkEthernet, snaplen);
	if (!compiled)
		return std::unexpected(std::move(compiled.error()));
	auto body = translate_to_ebpf(compiled->cbpf, FilterAccess::Buffer);
	if (!body)
		return std::unexpected(std::move(body.error()));
	MbufFilter out;
	// An unknown count (an indirect load) means every byte up to the snaplen.
	out.bytes_needed = std::min(body->bytes_needed.value_or(snaplen), snaplen);
	out.bodies.buffer = std::move(body->insns);
	return out;
}

} // namespace capx::mbuf
