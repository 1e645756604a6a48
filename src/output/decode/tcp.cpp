// SPDX-License-Identifier: GPL-2.0-only
// TCP (RFC 9293) in tcpdump's words: flags in its "[S.]" notation, absolute
// sequence numbers (tcpdump -S: the printer keeps no per-flow state), and
// the common options.
#include "output/decode/decoders.hpp"

namespace capx::decode {

namespace {

constexpr std::size_t kMinHeader = 20;

enum : std::uint16_t {
	kFin = 0x01,
	kSyn = 0x02,
	kRst = 0x04,
	kPush = 0x08,
	kAck = 0x10,
	kUrg = 0x20,
	kEce = 0x40,
	kCwr = 0x80,
};

// One letter per flag, in tcpdump's order (print-tcp.c tcp_flag_values).
// The AE bit (once NS) is left out, as tcpdump 4.99 does.
void put_flags(Line &line, std::uint16_t flags)
{
	static constexpr struct {
		std::uint16_t bit;
		char letter;
	} kLetters[] = {
		{kFin, 'F'}, {kSyn, 'S'}, {kRst, 'R'}, {kPush, 'P'},
		{kAck, '.'}, {kUrg, 'U'}, {kEce, 'E'}, {kCwr, 'W'},
	};
	line += "Flags [";
	bool any = false;
	for (const auto &l : kLetters) {
		if (flags & l.bit) {
			line += l.letter;
			any = true;
		}
	}
	if (!any)
		line += "none";
	line += ']';
}

// The options between the fixed header and the data (all captured: the
// caller checked); an option running past the header ends the list.
void put_options(Line &line, const Bytes &opts)
{
	line += ", options [";
	std::size_t at = 0;
	bool first = true;
	while (at < opts.size()) {
		std::uint8_t kind = opts.u8(at);
		if (!first)
			line += ',';
		first = false;
		if (kind == 0) { // end of list
			line += "eol";
			break;
		}
		if (kind == 1) {
			line += "nop";
			at++;
			continue;
		}
		std::size_t len = opts.u8(at + 1);
		if (!opts.has(at, 2) || len < 2 || !opts.has(at, len)) {
			put(line, "opt-{} [bad opt]", kind);
			break;
		}
		switch (kind) {
		case 2:
			if (len == 4)
				put(line, "mss {}", opts.be16(at + 2));
			else
				put(line, "mss [bad length {}]", len);
			break;
		case 3:
			if (len == 3)
				put(line, "wscale {}", opts.u8(at + 2));
			else
				put(line, "wscale [bad length {}]", len);
			break;
		case 4:
			line += "sackOK";
			break;
		case 5:
			put(line, "sack {} ", (len - 2) / 8);
			for (std::size_t s = at + 2; s + 8 <= at + len; s += 8)
				put(line, "{{{}:{}}}", opts.be32(s), opts.be32(s + 4));
			break;
		case 8:
			if (len == 10)
				put(line, "TS val {} ecr {}", opts.be32(at + 2), opts.be32(at + 6));
			else
				put(line, "TS [bad length {}]", len);
			break;
		case 19:
			line += "md5";
			break;
		case 29:
			line += "tcp-ao";
			break;
		case 30:
			line += "mptcp";
			break;
		case 34:
			line += "tfo";
			break;
		default:
			put(line, "opt-{}:{}", kind, len);
			break;
		}
		at += len;
	}
	line += ']';
}

} // namespace

void decode_tcp(Line &line, Layer layer, const Endpoints &ends)
{
	const Bytes &b = layer.bytes;
	ends.put_ports(line, b, b.has(0, 4));
	if (!b.has(0, kMinHeader)) {
		put_truncated(line, "tcp");
		return;
	}
	std::uint32_t hlen = (b.u8(12) >> 4) * 4u;
	if (hlen < kMinHeader) {
		put(line, "tcp {} [bad hdr length {} - too short, < {}]", layer.length, hlen, kMinHeader);
		return;
	}
	if (hlen > layer.length) {
		put(line, "tcp {} [bad hdr length {} - too long, > {}]", layer.length, hlen, layer.length);
		return;
	}
	std::uint16_t flags = b.u8(13);
	std::uint32_t seq = b.be32(4), ack = b.be32(8);
	std::uint32_t length = layer.length - hlen;

	put_flags(line, flags);
	if (length > 0 || (flags & (kSyn | kFin | kRst))) {
		put(line, ", seq {}", seq);
		if (length > 0)
			put(line, ":{}", seq + length);
	}
	if (flags & kAck)
		put(line, ", ack {}", ack);
	put(line, ", win {}", b.be16(14));
	if (flags & kUrg)
		put(line, ", urg {}", b.be16(18));
	if (hlen > kMinHeader) {
		if (!b.has(0, hlen)) {
			put_truncated(line, "tcp");
			return;
		}
		put_options(line, b.from(kMinHeader).first(hlen - kMinHeader));
	}
	put(line, ", length {}", length);
}

} // namespace capx::decode
