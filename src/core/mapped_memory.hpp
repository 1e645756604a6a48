// SPDX-License-Identifier: GPL-2.0-only
// A move-only owner of an mmap()ed region.
#pragma once

#include <sys/mman.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "core/error.hpp"

namespace capx {

class MappedMemory {
public:
	MappedMemory() = default;
	MappedMemory(const MappedMemory &) = delete;
	MappedMemory &operator=(const MappedMemory &) = delete;
	MappedMemory(MappedMemory &&o) noexcept
		: addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
	MappedMemory &operator=(MappedMemory &&o) noexcept
	{
		if (this != &o) {
			unmap();
			addr_ = std::exchange(o.addr_, nullptr);
			size_ = std::exchange(o.size_, 0);
		}
		return *this;
	}
	~MappedMemory() { unmap(); }

	[[nodiscard]] static Result<MappedMemory> map(int fd, std::size_t size, int prot, int flags, off_t offset = 0)
	{
		void *p = ::mmap(nullptr, size, prot, flags, fd, offset);
		if (p == MAP_FAILED)
			return fail_errno(errno, "mmap");
		MappedMemory m;
		m.addr_ = static_cast<std::uint8_t *>(p);
		m.size_ = size;
		return m;
	}

	std::uint8_t *data() const { return addr_; }
	std::size_t size() const { return size_; }
	std::span<std::uint8_t> bytes() const { return {addr_, size_}; }

private:
	void unmap()
	{
		if (addr_)
			::munmap(addr_, size_);
		addr_ = nullptr;
		size_ = 0;
	}

	std::uint8_t *addr_ = nullptr;
	std::size_t size_ = 0;
};

} // namespace capx
