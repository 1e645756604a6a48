// SPDX-License-Identifier: GPL-2.0-only
// What this kernel lets capx do, found by trying (a load, an attach), not
// by version numbers: kernels differ by config and lockdown, not by age.
#pragma once

#include <string>

#include "core/error.hpp"

namespace capx::bpf {

enum class Feature {
	RingBuffer, // BPF_MAP_TYPE_RINGBUF
	Xdp,        // BPF_PROG_TYPE_XDP
	TpBtf,      // tp_btf programs load and attach (netif_receive_skb)
	Fentry,     // fentry programs load and attach (a common kernel function)
	Kprobe,     // the kprobe PMU exists
	Uprobe,     // the uprobe PMU exists
};

const char *feature_name(Feature feature);

// Ok, or why not (one line, with a hint). Probed once, then cached.
[[nodiscard]] Result<void> probe_feature(Feature feature);

} // namespace capx::bpf
