// SPDX-License-Identifier: GPL-2.0-only
// Catch2 main of the tests that load BPF programs: without root (or without
// BPF) they cannot run here, so the executable says why and exits 77, the
// status meson counts as "skipped", before Catch runs anything.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>

#include "bpf/features.hpp"

int main(int argc, char **argv)
{
	if (geteuid() != 0) {
		std::fprintf(stderr, "SKIP: loading BPF programs needs root\n");
		return 77;
	}
	if (auto r = capx::bpf::probe_feature(capx::bpf::Feature::Xdp); !r) {
		std::fprintf(stderr, "SKIP: %s\n", r.error().message.c_str());
		return 77;
	}
	return Catch::Session().run(argc, argv);
}
