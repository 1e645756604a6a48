// SPDX-License-Identifier: GPL-2.0-only
// capx's built-in DPDK layouts against the installed libdpdk-dev headers
// (Debian 12: DPDK 22.11). Only the row of the installed release can be
// checked here; the other releases' rows rest on the sources cited in
// src/capture/mbuf/mbuf_layout.cpp and eth_fp_ops.cpp.
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include <unistd.h>

#include <climits>
#include <cstddef>

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "capture/mbuf/eth_fp_ops.hpp"
#include "capture/mbuf/mbuf_dwarf.hpp"
#include "capture/mbuf/mbuf_layout.hpp"

using namespace capx;
using namespace capx::mbuf;
using namespace capx::uprobe;

// A struct rte_mbuf in this binary's DWARF, for dwarf_layout().
struct rte_mbuf capx_test_mbuf;

namespace {

#if defined(RTE_IOVA_IN_MBUF)
constexpr bool kIovaInMbuf = RTE_IOVA_IN_MBUF;
#elif defined(RTE_IOVA_AS_PA)
constexpr bool kIovaInMbuf = RTE_IOVA_AS_PA;
#else
constexpr bool kIovaInMbuf = true;
#endif

std::string installed_release()
{
	return fmt::format("dpdk-{}.{:02}{}", RTE_VER_YEAR, RTE_VER_MONTH, kIovaInMbuf ? "" : "-no-iova");
}

const MbufLayout &installed_row()
{
	for (const MbufLayout &l : builtin_layouts())
		if (l.name == installed_release())
			return l;
	FAIL("capx has no built-in layout for the installed " << installed_release());
	return builtin_layouts().front();
}

void check_against_headers(const capx_mbuf_layout &o)
{
	CHECK(o.buf_addr == offsetof(struct rte_mbuf, buf_addr));
	CHECK(o.data_off == offsetof(struct rte_mbuf, data_off));
	CHECK(o.nb_segs == offsetof(struct rte_mbuf, nb_segs));
	CHECK(o.port == offsetof(struct rte_mbuf, port));
	CHECK(o.pkt_len == offsetof(struct rte_mbuf, pkt_len));
	CHECK(o.data_len == offsetof(struct rte_mbuf, data_len));
	CHECK(o.buf_len == offsetof(struct rte_mbuf, buf_len));
	CHECK(o.next == offsetof(struct rte_mbuf, next));
	CHECK(o.size == std::max(offsetof(struct rte_mbuf, next) + sizeof(capx_test_mbuf.next),
				 offsetof(struct rte_mbuf, buf_len) + sizeof(capx_test_mbuf.buf_len)));
}

} // namespace

TEST_CASE("the built-in table's row for the installed DPDK equals its headers", "[mbuf][layout][dpdk]")
{
	INFO(installed_release());
	const MbufLayout &row = installed_row();
	check_against_headers(row.offsets);
	// The widths capx assumes for each field.
	CHECK(sizeof(capx_test_mbuf.buf_addr) == 8);
	CHECK(sizeof(capx_test_mbuf.data_off) == 2);
	CHECK(sizeof(capx_test_mbuf.nb_segs) == 2);
	CHECK(sizeof(capx_test_mbuf.port) == 2);
	CHECK(sizeof(capx_test_mbuf.pkt_len) == 4);
	CHECK(sizeof(capx_test_mbuf.data_len) == 2);
	CHECK(sizeof(capx_test_mbuf.buf_len) == 2);
	CHECK(sizeof(capx_test_mbuf.next) == 8);
}

TEST_CASE("rte_eth_fp_ops offsets for the installed DPDK equal its headers", "[mbuf][ethdev][dpdk]")
{
	// librte_ethdev.so's ABI major is the year of the release plus one
	// (22.11 -> .23) for the LTS releases this table names.
	unsigned abi = RTE_VER_YEAR + 1;
	FpOpsOffsets o = fp_ops_offsets(abi);
	CHECK(o.rx_pkt_burst == offsetof(struct rte_eth_fp_ops, rx_pkt_burst));
	CHECK(o.rxq_data == offsetof(struct rte_eth_fp_ops, rxq) + offsetof(struct rte_ethdev_qdata, data));
	CHECK(o.tx_pkt_burst == offsetof(struct rte_eth_fp_ops, tx_pkt_burst));
	CHECK(o.txq_data == offsetof(struct rte_eth_fp_ops, txq) + offsetof(struct rte_ethdev_qdata, data));
	CHECK(o.size == sizeof(struct rte_eth_fp_ops));
}

#ifdef CAPX_HAVE_LIBDW
TEST_CASE("DWARF: struct rte_mbuf read from a binary built with the headers", "[mbuf][layout][dwarf]")
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	REQUIRE(n > 0);
	std::string exe(buf, static_cast<std::size_t>(n));
	auto l = dwarf_layout(exe);
	REQUIRE(l);
	CHECK(l->name == "dwarf:" + exe.substr(exe.rfind('/') + 1));
	check_against_headers(l->offsets);

	// detect_layout prefers the executable's DWARF.
	auto t = target_from_pid(getpid());
	REQUIRE(t);
	auto detected = detect_layout(*t);
	REQUIRE(detected);
	CHECK(detected->name == l->name);

	CHECK_FALSE(dwarf_layout("/etc/passwd"));
	CHECK_FALSE(dwarf_layout("/nonexistent"));
}
#endif

TEST_CASE("detect_layout: dpdk-testpmd's librte_mbuf.so.N names the table row", "[mbuf][layout][dpdk]")
{
	auto t = target_from_binary("/usr/bin/dpdk-testpmd");
	REQUIRE(t); // the dpdk package (scripts/install-deps.sh)
	t->pids.clear(); // its DT_NEEDED libraries, running or not
	auto l = detect_layout(*t);
	REQUIRE(l);
	CHECK(l->name == fmt::format("dpdk-{}.{:02}", RTE_VER_YEAR, RTE_VER_MONTH));
}
