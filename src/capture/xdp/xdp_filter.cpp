// SPDX-License-Identifier: GPL-2.0-only
#include "capture/xdp/xdp_filter.hpp"

#include "core/packet.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"

namespace capx::xdp {

[[nodiscard]] Result<XdpFilter> build_xdp_filter(std::string_view expression, std::uint32_t snaplen)
{
	auto compiled = compile_filter(expression, kLinkEthernet, snaplen);
	if (!compiled)
		return std::unexpected(std::move(compiled.error()));
	auto packet = translate_to_ebpf(compiled->cbpf, FilterAccess::Packet);
	if (!packet)
		return std::unexpected(std::move(packet.error()));
	auto buffer = translate_to_ebpf(compiled->cbpf, FilterAccess::Buffer);
	if (!buffer)
		return std::unexpected(std::move(buffer.error()));
	XdpFilter f;
	f.bodies.packet = std::move(packet->insns);
	f.bodies.buffer = std::move(buffer->insns);
	if (buffer->bytes_needed)
		f.bytes_needed = *buffer->bytes_needed;
	return f;
}

} // namespace capx::xdp
