// SPDX-License-Identifier: GPL-2.0-only
// UDP (RFC 768): ports and payload length, as tcpdump prints datagrams to
// ports it does not decode further.
#include "output/decode/decoders.hpp"

namespace capx::decode {

void decode_udp(Line &line, Layer layer, const Endpoints &ends)
{
	constexpr std::uint32_t kHeaderLen = 8;
	const Bytes &b = layer.bytes;
	bool have_ports = b.has(0, 4);
	ends.put_ports(line, b, have_ports);
	if (!b.has(0, kHeaderLen)) {
		line += "UDP";
		put_truncated(line, "udp");
		return;
	}
	std::uint32_t udp_len = b.be16(4);
	// A length of 0 is a UDP jumbogram (RFC 2675) or GSO: use the IP length.
	if (udp_len == 0 && layer.length > 0xffff)
		udp_len = layer.length;
	if (udp_len < kHeaderLen) {
		put(line, "UDP, bad length {}", udp_len);
		return;
	}
	if (udp_len > layer.length) {
		put(line, "UDP, bad length {} > {}", udp_len - kHeaderLen,
		    layer.length < kHeaderLen ? 0 : layer.length - kHeaderLen);
		return;
	}
	put(line, "UDP, length {}", udp_len - kHeaderLen);
}

} // namespace capx::decode
