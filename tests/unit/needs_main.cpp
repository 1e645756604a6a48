// SPDX-License-Identifier: GPL-2.0-only
// Catch2 main of the tests that need something of this machine. Catch2 v2
// cannot skip a single TEST_CASE, and a case that returns early passes
// having checked nothing. So a case names what it needs in a tag
// ([needs:btf], [needs:tp_btf], [needs:fentry], [needs:tun]), meson runs
// each group of cases sharing a need as a test of its own (a test spec in
// its args), and when something the selected cases need is missing here
// this main says what and why and exits 77, which meson counts as SKIP,
// before Catch runs anything.
// Built with CAPX_TEST_NEEDS_ROOT_BPF (tests/kernel) every case also needs
// root and BPF.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/btf.hpp"
#include "bpf/features.hpp"

namespace {

constexpr std::string_view kNeedsPrefix = "needs:";

std::string feature_missing(capx::bpf::Feature feature)
{
	auto r = capx::bpf::probe_feature(feature);
	return r ? "" : r.error().message;
}

// Why `need` cannot be had here ("" when it can), or nullopt for a need
// this main does not know (a typo in a tag must fail, not skip).
std::optional<std::string> missing(const std::string &need)
{
	using capx::bpf::Feature;
	if (need == "root")
		return geteuid() == 0 ? "" : "loading BPF programs needs root";
	if (need == "bpf")
		return feature_missing(Feature::Xdp);
	if (need == "tp_btf")
		return feature_missing(Feature::TpBtf);
	if (need == "fentry")
		return feature_missing(Feature::Fentry);
	if (need == "btf") {
		auto btf = capx::bpf::KernelBtf::load();
		return btf ? "" : "no kernel BTF: " + btf.error().message;
	}
	if (need == "tun")
		return access("/dev/net/tun", R_OK | W_OK) == 0 ? "" : std::string("/dev/net/tun: ") + std::strerror(errno);
	return std::nullopt;
}

} // namespace

int main(int argc, char **argv)
{
	Catch::Session session;
	if (int rc = session.applyCommandLine(argc, argv))
		return rc;
	const Catch::ConfigData &data = session.configData();
	if (data.showHelp || data.libIdentify || data.listTests || data.listTestNamesOnly || data.listTags ||
	    data.listReporters)
		return session.run();

	Catch::Config &config = session.config();
	const auto selected = Catch::filterTests(Catch::getAllTestCasesSorted(config), config.testSpec(), config);
	// Catch passes a spec that matches nothing; a meson test would then
	// pass having run nothing.
	if (selected.empty()) {
		std::fprintf(stderr, "FAIL: no test case matches the test spec\n");
		return 1;
	}

	std::vector<std::string> needs;
#ifdef CAPX_TEST_NEEDS_ROOT_BPF
	needs = {"root", "bpf"};
#endif
	for (const auto &test : selected)
		for (const std::string &tag : test.getTestCaseInfo().tags)
			if (tag.starts_with(kNeedsPrefix)) {
				std::string need = tag.substr(kNeedsPrefix.size());
				if (std::find(needs.begin(), needs.end(), need) == needs.end())
					needs.push_back(need);
			}
	for (const std::string &need : needs) {
		auto why = missing(need);
		if (!why) {
			std::fprintf(stderr, "FAIL: unknown tag [needs:%s] (tests/unit/needs_main.cpp)\n", need.c_str());
			return 1;
		}
		if (!why->empty()) {
			std::fprintf(stderr, "SKIP: %zu test case(s) need %s: %s\n", selected.size(), need.c_str(),
				     why->c_str());
			return 77;
		}
	}
	return session.run();
}
