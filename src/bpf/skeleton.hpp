// SPDX-License-Identifier: GPL-2.0-only
// A move-only owner of a bpftool-generated skeleton (`bpftool gen skeleton`
// makes struct NAME with static open/load/destroy members for C++).
//
//	auto skel = bpf::Skeleton<filter_test>::open();   // configure, then
//	skel->load(bodies);                                 // filter injected
//	skel->maps.capx_events, skel->progs.filter_test_pkt, skel->bss->...
#pragma once

#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "bpf/inject.hpp"
#include "bpf/libbpf_setup.hpp"
#include "core/error.hpp"

namespace capx::bpf {

template<typename T>
class Skeleton {
public:
	// Opens (does not load) the embedded object; maps and programs can be
	// configured through get() until load().
	[[nodiscard]] static Result<Skeleton> open()
	{
		if (auto r = setup_libbpf(); !r)
			return std::unexpected(r.error());
		errno = 0;
		T *raw = T::open();
		if (!raw)
			return fail_errno(errno ? errno : EINVAL, "cannot open the BPF object");
		Skeleton s;
		s.skel_.reset(raw);
		return s;
	}

	// Loads with the filter bodies spliced in (inject.hpp) and maps the
	// global data (skeleton->bss, ->data, ->rodata).
	[[nodiscard]] Result<void> load(const FilterBodies &bodies)
	{
		T *raw = skel_.get();
		return load_with_filter(raw->obj, bodies, [raw] { return T::load(raw); });
	}

	T *get() const { return skel_.get(); }
	T *operator->() const { return skel_.get(); }
	T &operator*() const { return *skel_; }
	struct bpf_object *object() const { return skel_->obj; }

private:
	struct Destroy {
		void operator()(T *s) const { T::destroy(s); }
	};
	std::unique_ptr<T, Destroy> skel_;
};

} // namespace capx::bpf
