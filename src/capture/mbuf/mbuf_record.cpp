#include "capture/mbuf/mbuf_record.hpp"

#include <cstring>

#include "bpf/capture_maps.hpp"
#include "capx/event.h"
#include "core/text_append.hpp"

namespace capx::mbuf {

RecordConverter::RecordConverter(WallClock clock, bool describe) : clock_(clock), describe_(describe)
{
	comment_.reserve(128);
}

std::optional<MbufRecord> RecordConverter::convert(std::span<const std::uint8_t> record)
{
	auto packet = bpf::event_to_packet(record, clock_);
	if (!packet)
		return std::nullopt;
	capx_event e;
	std::memcpy(&e, record.data(), sizeof(e));

	MbufRecord out;
	out.packet = *packet;
	if (e.flags & CAPX_EVENT_HAS_TASK)
		out.pid = static_cast<pid_t>(e.pid);

	PacketMeta &m = out.packet.meta;
	const Direction direction = m.direction;
	comment_.clear();
	if (!describe_) {
		m = PacketMeta{};
		m.direction = direction;
		return out;
	}
	// Built with to_chars, not fmt: this runs for every packet.
	auto separate = [this] {
		if (!comment_.empty())
			comment_ += ' ';
	};
	if (e.flags & CAPX_EVENT_HAS_PORT) {
		comment_ += "port=";
		append_number(comment_, e.port);
	}
	if (e.flags & CAPX_EVENT_HAS_QUEUE) {
		separate();
		comment_ += "queue=";
		append_number(comment_, e.queue);
	}
	if (direction != Direction::Unknown) {
		separate();
		comment_ += direction == Direction::Inbound ? "rx" : "tx";
	}
	if (e.flags & CAPX_EVENT_HAS_TASK) {
		separate();
		comment_ += "pid=";
		append_number(comment_, e.pid);
		comment_ += " tid=";
		append_number(comment_, e.tid);
		if (!m.comm.empty()) {
			comment_ += " comm=";
			comment_ += m.comm;
		}
	}
	if (e.flags & CAPX_EVENT_HAS_PACKET_ID) {
		separate();
		comment_ += "mbuf=";
		append_hex(comment_, e.packet_id);
	}

	// The text says all of this; describe_meta() would say it again.
	m = PacketMeta{};
	m.direction = direction;
	m.comment = comment_;
	return out;
}

} // namespace capx::mbuf
