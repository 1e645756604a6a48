// SPDX-License-Identifier: GPL-2.0-only
// A bounds-checked view of captured bytes for the decoders. Every read is
// checked: out of range reads give 0, so a decoder that forgot a has() check
// prints nonsense, never reads past the capture.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace capx::decode {

class Bytes {
public:
	Bytes() = default;
	explicit Bytes(std::span<const std::uint8_t> data) : data_(data) {}

	std::size_t size() const { return data_.size(); }
	bool has(std::size_t offset, std::size_t n) const
	{
		return offset <= data_.size() && n <= data_.size() - offset;
	}

	std::uint8_t u8(std::size_t offset) const
	{
		return offset < data_.size() ? data_[offset] : 0;
	}
	std::uint16_t be16(std::size_t offset) const
	{
		return static_cast<std::uint16_t>(u8(offset) << 8 | u8(offset + 1));
	}
	std::uint32_t be32(std::size_t offset) const
	{
		return static_cast<std::uint32_t>(be16(offset)) << 16 | be16(offset + 2);
	}
	// The n bytes at offset, or an empty span when they were not captured.
	std::span<const std::uint8_t> span(std::size_t offset, std::size_t n) const
	{
		return has(offset, n) ? data_.subspan(offset, n) : std::span<const std::uint8_t>{};
	}
	// The bytes from offset on (empty past the end).
	Bytes from(std::size_t offset) const
	{
		return offset < data_.size() ? Bytes(data_.subspan(offset)) : Bytes{};
	}
	// At most n bytes: a layer's captured bytes trimmed to its own length, so
	// padding after it is not decoded as part of it.
	Bytes first(std::size_t n) const
	{
		return n < data_.size() ? Bytes(data_.first(n)) : *this;
	}

private:
	std::span<const std::uint8_t> data_;
};

// One protocol layer: its captured bytes and its length on the wire
// (`length` >= bytes.size(); less only when the headers lie).
struct Layer {
	Bytes bytes;
	std::uint32_t length = 0;

	Layer after(std::size_t header_len) const
	{
		return {bytes.from(header_len),
			length > header_len ? static_cast<std::uint32_t>(length - header_len) : 0};
	}
};

} // namespace capx::decode
