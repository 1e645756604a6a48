// SPDX-License-Identifier: GPL-2.0-only
#include "capture/mbuf/eth_fp_ops.hpp"

#include <elf.h>

#include <array>
#include <charconv>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/uprobe/elf_file.hpp"
#include "capx/mbuf_abi.h"

namespace capx::mbuf {

namespace {

// struct rte_eth_fp_ops (lib/ethdev/rte_ethdev_core.h), one per port in the
// array rte_eth_fp_ops[RTE_MAX_ETHPORTS] that rte_eth_rx_burst() and
// rte_eth_tx_burst() read (DPDK 21.11 on; 20.11 and older call through
// rte_eth_devices[] instead and have no such symbol). Two 64-byte cache
// lines on 64-bit builds, Rx then Tx. capx does not include DPDK headers;
// these are the offsets it relies on:
//
// 21.11, 22.11 (librte_ethdev.so.22, .23):
//   0 rx_pkt_burst, 8 rx_queue_count, 16 rx_descriptor_status,
//   24 rxq { data, clbk }, 40 reserved1[3];
//   64 tx_pkt_burst, 72 tx_pkt_prepare, 80 tx_descriptor_status,
//   88 txq { data, clbk }, 104 reserved2[3]
//   (checked against Debian's 22.11 /usr/include/dpdk/rte_ethdev_core.h)
// 23.11, 24.11 (.24, .25): the 23.11 release notes' ABI changes: "Structure
// rte_eth_fp_ops was affected to add recycle_tx_mbufs_reuse and
// recycle_rx_descriptors_refill fields, to move rxq and txq fields":
//   0 rxq { data, clbk }, 16 rx_pkt_burst, 24 rx_queue_count,
//   32 rx_descriptor_status, 40 recycle_rx_descriptors_refill, 48 reserved1[2];
//   64 txq { data, clbk }, 80 tx_pkt_burst, 88 tx_pkt_prepare,
//   96 tx_descriptor_status, 104 recycle_tx_mbufs_reuse, 112 reserved2[2]
struct FpOpsLayout {
	const char *name;
	unsigned rx_burst, rxq_data, tx_burst, txq_data;
};
constexpr FpOpsLayout kLayout2111{"21.11/22.11", 0, 24, 64, 88};
constexpr FpOpsLayout kLayout2311{"23.11/24.11", 16, 0, 80, 64};
constexpr std::size_t kFpOpsSize = 128;

std::string base_name(const std::string &path)
{
	std::size_t slash = path.rfind('/');
	return slash == std::string::npos ? path : path.substr(slash + 1);
}

// N of "librte_ethdev.so.N", 0 when the name has none.
unsigned abi_major(const std::string &path)
{
	std::string base = base_name(path);
	std::size_t so = base.find(".so.");
	if (so == std::string::npos)
		return 0;
	unsigned major = 0;
	const char *p = base.data() + so + 4;
	std::from_chars(p, base.data() + base.size(), major);
	return major;
}

// Where the file's vaddr 0 is in the process: a mapping of the file
// starts at the page of some PT_LOAD's p_offset, and the same distance
// holds between its p_vaddr and the mapping's start (the ELF loader maps
// each PT_LOAD at load bias + p_vaddr, page-aligned).
std::optional<std::uint64_t> load_bias(const uprobe::ProcessMaps &maps, const uprobe::Mapping &any_of_file, const uprobe::ElfFile &elf)
{
	constexpr std::uint64_t page = 4096;
	for (const uprobe::Mapping &m : maps.mappings()) {
		if (m.inode != any_of_file.inode || m.dev_major != any_of_file.dev_major ||
		    m.dev_minor != any_of_file.dev_minor || m.path != any_of_file.path)
			continue;
		for (const uprobe::ElfSegment &seg : elf.segments())
			if ((seg.offset & ~(page - 1)) == m.file_offset)
				return m.start - (seg.vaddr & ~(page - 1));
	}
	return std::nullopt;
}

std::uint64_t u64_at(const std::array<std::byte, kFpOpsSize> &entry, unsigned offset)
{
	std::uint64_t v;
	std::memcpy(&v, entry.data() + offset, sizeof(v));
	return v;
}

bool in_executable_mapping(const uprobe::ProcessMaps &maps, std::uint64_t address)
{
	const uprobe::Mapping *m = maps.find(address);
	return m && m->executable;
}

} // namespace

FpOpsOffsets fp_ops_offsets(unsigned abi)
{
	const FpOpsLayout &l = abi >= 24 ? kLayout2311 : kLayout2111;
	return {l.rx_burst, l.rxq_data, l.tx_burst, l.txq_data, kFpOpsSize};
}

[[nodiscard]] Result<PortBurst> locate_port_burst(pid_t pid, std::uint16_t port, std::optional<std::uint16_t> queue,
				    Direction direction)
{
	const char *dir = direction == Direction::rx ? "rx" : "tx";
	auto maps = uprobe::ProcessMaps::read(pid);
	if (!maps)
		return std::unexpected(maps.error());

	// librte_ethdev.so, or the executable of a static build.
	const uprobe::Mapping *exe_map = nullptr;
	for (const uprobe::Mapping &m : maps->mappings())
		if (m.path == maps->executable()) {
			exe_map = &m;
			break;
		}
	const uprobe::Mapping *ethdev = maps->find_library("librte_ethdev.so");
	if (!ethdev)
		ethdev = exe_map;
	if (!ethdev)
		return fail(fmt::format("process {} maps no librte_ethdev.so", pid),
			    "is it a DPDK application? Give the burst functions with -f instead");
	const std::string &path = ethdev->path;
	auto elf = uprobe::ElfFile::open(path);
	if (!elf)
		return std::unexpected(elf.error());
	unsigned major = abi_major(path);

	// The array the process uses is where ld.so resolved the name, the
	// executable first: an executable that reads rte_eth_fp_ops itself
	// (the inline rte_eth_rx_burst(), non-PIC access from a PIE, as
	// dpdk-testpmd does) holds a copy of it (an R_X86_64_COPY relocation in
	// its .bss) which librte_ethdev then uses through its GOT; the one in
	// librte_ethdev's own .bss stays zero.
	const uprobe::ElfSymbol *table = nullptr;
	const uprobe::Mapping *table_map = nullptr;
	std::optional<uprobe::ElfFile> exe_elf;
	if (exe_map && exe_map != ethdev)
		if (auto e = uprobe::ElfFile::open(exe_map->path); e && e->find("rte_eth_fp_ops", {STT_OBJECT})) {
			exe_elf = std::move(*e);
			table = exe_elf->find("rte_eth_fp_ops", {STT_OBJECT});
			table_map = exe_map;
		}
	if (!table) {
		table = elf->find("rte_eth_fp_ops", {STT_OBJECT});
		table_map = ethdev;
	}
	if (!table) {
		if (major != 0 && major < 22)
			return fail(fmt::format("{} is DPDK ABI {} (older than 21.11), which has no rte_eth_fp_ops",
						base_name(path), major),
				    "give the driver's burst functions with -f LIB:SYMBOL@2@3");
		return fail(fmt::format("{} has no rte_eth_fp_ops symbol (DPDK older than 21.11, or stripped)", path),
			    "give the driver's burst functions with -f LIB:SYMBOL@2@3");
	}
	const uprobe::ElfFile &table_elf = exe_elf ? *exe_elf : *elf;
	auto table_bias = load_bias(*maps, *table_map, table_elf);
	auto bias = load_bias(*maps, *ethdev, *elf);
	if (!table_bias || !bias)
		return fail(fmt::format("cannot find where process {} loaded {}", pid, table_elf.path()));
	std::uint64_t nports = table->size / kFpOpsSize;
	if (nports == 0)
		return fail(fmt::format("rte_eth_fp_ops in {} has size {}, not a multiple of {}", table_elf.path(), table->size,
					kFpOpsSize));
	if (port >= nports)
		return fail_usage(fmt::format("--port {}: this DPDK has ports 0 to {} (RTE_MAX_ETHPORTS {})", port,
					      nports - 1, nports));

	std::array<std::byte, kFpOpsSize> entry{};
	std::uint64_t address = *table_bias + table->value + port * kFpOpsSize;
	if (auto ok = uprobe::read_memory(pid, address, entry); !ok)
		return std::unexpected(ok.error());

	// The layout by ABI; for a static build (no .so.N) the one whose
	// function pointers both point at code.
	const FpOpsLayout *layout = nullptr;
	if (major >= 24)
		layout = &kLayout2311;
	else if (major >= 22)
		layout = &kLayout2111;
	else
		for (const FpOpsLayout *l : {&kLayout2311, &kLayout2111})
			if (in_executable_mapping(*maps, u64_at(entry, l->rx_burst)) &&
			    in_executable_mapping(*maps, u64_at(entry, l->tx_burst))) {
				layout = l;
				break;
			}
	std::string not_started = fmt::format("port {} of process {} is not started", port, pid);
	// DPDK points every port it has not started at the dummy, those that do
	// not exist included (22.11 resets the whole array at startup), so the
	// two cannot be told apart here.
	std::string not_started_hint = "capx finds a port's burst functions once the application has started it "
				       "(rte_eth_dev_start); this one is stopped or was never set up";
	if (!layout)
		return fail(not_started, not_started_hint);
	spdlog::debug("rte_eth_fp_ops at {:#x} in process {}, layout {}", address, pid, layout->name);

	unsigned fn_offset = direction == Direction::rx ? layout->rx_burst : layout->tx_burst;
	unsigned data_offset = direction == Direction::rx ? layout->rxq_data : layout->txq_data;
	std::uint64_t fn = u64_at(entry, fn_offset);
	std::uint64_t qdata = u64_at(entry, data_offset);
	// A port never started has a zeroed entry (the array is static);
	// stopped or closed, eth_dev_fp_ops_reset() points it at DPDK's dummy
	// burst (rte_eth_pkt_burst_dummy in 22.11, dummy_eth_rx_burst/
	// dummy_eth_tx_burst in 21.11; lib/ethdev/ethdev_private.c), which
	// lives in librte_ethdev itself, where no driver's burst function does.
	if (fn == 0)
		return fail(not_started, not_started_hint);
	const uprobe::Mapping *fn_map = maps->find(fn);
	if (!fn_map || !fn_map->executable)
		return fail(fmt::format("port {} of process {}: {}_pkt_burst {:#x} is not code (a DPDK capx does not know?)",
					port, pid, dir, fn),
			    "give the burst function with -f, and the rte_mbuf layout with --mbuf-layout");
	bool dummy = false;
	if (fn_map->path == path && ethdev != exe_map)
		dummy = true;
	for (const char *name : {"rte_eth_pkt_burst_dummy", "dummy_eth_rx_burst", "dummy_eth_tx_burst"})
		if (const uprobe::ElfSymbol *s = elf->find(name, {STT_FUNC}); s && fn == *bias + s->value)
			dummy = true;
	if (dummy)
		return fail(not_started, not_started_hint);

	auto where = uprobe::locate_address(pid, fn);
	if (!where)
		return std::unexpected(where.error());

	// rxq.data / txq.data is dev->data->rx_queues / tx_queues
	// (eth_dev_fp_ops_setup, lib/ethdev/ethdev_private.c), allocated by
	// eth_dev_rx_queue_config / eth_dev_tx_queue_config (lib/ethdev/
	// ethdev_private.c in 22.11) with RTE_MAX_QUEUES_PER_PORT (1024 by
	// default) zeroed entries since 21.11 (before, nb_queues entries), so the first CAPX_MBUF_MAX_QUEUES are readable;
	// queues past nb_rx_queues are null.
	if (qdata == 0)
		return fail(fmt::format("port {} of process {} has no {} queues", port, pid, dir));
	std::array<std::uint64_t, CAPX_MBUF_MAX_QUEUES> queues{};
	if (auto ok = uprobe::read_memory(pid, qdata, std::as_writable_bytes(std::span(queues))); !ok)
		return std::unexpected(ok.error());
	std::size_t nqueues = 0;
	while (nqueues < queues.size() && queues[nqueues] != 0)
		nqueues++;
	if (nqueues == 0)
		return fail(fmt::format("port {} of process {} has no {} queues", port, pid, dir));

	PortBurst out;
	out.function = std::move(*where);
	if (queue) {
		if (*queue >= CAPX_MBUF_MAX_QUEUES)
			return fail_usage(fmt::format("--queue {}: capx tells apart queues 0 to {}", *queue,
						      CAPX_MBUF_MAX_QUEUES - 1));
		if (queues[*queue] == 0)
			return fail_usage(fmt::format("--queue {}: port {} of process {} has {} queue{} 0 to {}", *queue, port,
						      pid, dir, nqueues == 1 ? "" : "s", nqueues - 1));
		out.queue_ptrs.assign(*queue + 1, 0);
		out.queue_ptrs[*queue] = queues[*queue];
	} else {
		out.queue_ptrs.assign(queues.begin(), queues.begin() + static_cast<std::ptrdiff_t>(nqueues));
	}
	return out;
}

} // namespace capx::mbuf
