// SPDX-License-Identifier: GPL-2.0-only
#include "output/packet_meta_text.hpp"

#include <optional>
#include <string_view>

#include "core/text_append.hpp"
#include "core/xdp_action.hpp"

namespace capx {

namespace {

// One packet's text, appended to a string that may hold text before it.
class MetaText {
public:
	explicit MetaText(std::string &out) : out_(out), start_(out.size()) {}

	// "NAME" (with its '=' or ": "), after a space unless it comes first.
	void key(std::string_view name)
	{
		if (out_.size() > start_)
			out_ += ' ';
		out_ += name;
	}

	template <typename T>
	void number(std::string_view name, const std::optional<T> &value)
	{
		if (value) {
			key(name);
			append_number(out_, *value);
		}
	}

	void hex(std::string_view name, const std::optional<std::uint64_t> &value)
	{
		if (value) {
			key(name);
			append_hex(out_, *value);
		}
	}

	void text(std::string_view name, std::string_view value)
	{
		if (!value.empty()) {
			key(name);
			out_ += value;
		}
	}

	std::string &out() { return out_; }

private:
	std::string &out_;
	std::size_t start_;
};

} // namespace

void append_meta(std::string &out, const PacketMeta &m)
{
	MetaText t(out);
	t.number("dev=", m.ifindex);
	if (m.ifindex && !m.ifname.empty()) {
		t.out() += '(';
		t.out() += m.ifname;
		t.out() += ')';
	}
	t.number("port=", m.port);
	t.number("queue=", m.queue);
	t.number("netns=", m.netns);
	t.number("cpu=", m.cpu);
	t.number("pid=", m.pid);
	t.number("tid=", m.tid);
	t.text("comm=", m.comm);
	t.hex("skb=", m.skb);
	t.hex("mbuf=", m.mbuf);
	if (m.vlan_tci)
		t.number("vlan=", std::optional<std::uint16_t>(*m.vlan_tci & 0x0fff));
	if (m.xdp_verdict && !xdp_action_name(*m.xdp_verdict).empty())
		t.text("verdict=", xdp_action_name(*m.xdp_verdict));
	else
		t.number("verdict=", m.xdp_verdict);
	if (!m.drop_reason_name.empty())
		t.text("drop=", m.drop_reason_name);
	else
		t.number("drop=", m.drop_reason);
	t.text("stack: ", m.stack);
}

std::string describe_meta(const PacketMeta &meta)
{
	std::string out;
	append_meta(out, meta);
	return out;
}

} // namespace capx
