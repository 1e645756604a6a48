// SPDX-License-Identifier: GPL-2.0-only
#include "filter/kernel_runner.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "capx/filter_abi.h"

namespace capx {

// EbpfInsn is handed to the kernel as struct bpf_insn.
static_assert(sizeof(EbpfInsn) == sizeof(bpf_insn));
static_assert(offsetof(EbpfInsn, off) == offsetof(bpf_insn, off));
static_assert(offsetof(EbpfInsn, imm) == offsetof(bpf_insn, imm));

namespace {

// What user space tells the wrapper program, and the answer it gets back.
struct Io {
	std::uint32_t pad = 0;      // leading filler bytes (XDP test runs need >= 14 bytes)
	std::uint32_t caplen = 0;
	std::uint32_t wire_len = 0;
	std::uint32_t result = 0;
};

constexpr std::uint32_t kMinXdpData = 14; // ETH_HLEN: bpf_prog_test_run_xdp's minimum

constexpr EbpfInsn make(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm)
{
	return make_ebpf_insn(code, dst, src, off, imm);
}

EbpfInsn mov64(std::uint8_t dst, std::uint8_t src) { return make(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
EbpfInsn mov64_imm(std::uint8_t dst, std::int32_t imm) { return make(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
EbpfInsn ldx_w(std::uint8_t dst, std::uint8_t src, std::int16_t off) { return make(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
EbpfInsn call_helper(std::int32_t id) { return make(BPF_JMP | BPF_CALL, 0, 0, 0, id); }
EbpfInsn exit_insn() { return make(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Appends "r1 = map_fd ll; r2 = fp - 4; call map_lookup_elem" (key 0 at fp-4).
void lookup(std::vector<EbpfInsn> &p, int map_fd)
{
	p.push_back(make(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, map_fd));
	p.push_back(make(0, 0, 0, 0, 0));
	p.push_back(mov64(2, 10));
	p.push_back(make(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4));
	p.push_back(call_helper(BPF_FUNC_map_lookup_elem));
}

// Patches every jump to `label` (off == kOut placeholder) to the given index.
constexpr std::int16_t kOut = 0x7fff;
void resolve(std::vector<EbpfInsn> &p, std::size_t out)
{
	for (std::size_t i = 0; i < p.size(); i++)
		if ((BPF_CLASS(p[i].code) == BPF_JMP || BPF_CLASS(p[i].code) == BPF_JMP32) && p[i].off == kOut &&
		    BPF_OP(p[i].code) != BPF_CALL && BPF_OP(p[i].code) != BPF_EXIT)
			p[i].off = static_cast<std::int16_t>(out - i - 1);
}

// The XDP wrapper around the filter subprogram (appended after it).
//   r6 = ctx, r7 = &io, r8 = buffer (buffer access).
std::vector<EbpfInsn> wrapper(FilterAccess access, int io_fd, int buf_fd)
{
	std::vector<EbpfInsn> p;
	constexpr auto io_pad = static_cast<std::int16_t>(offsetof(Io, pad));
	constexpr auto io_caplen = static_cast<std::int16_t>(offsetof(Io, caplen));
	constexpr auto io_wire = static_cast<std::int16_t>(offsetof(Io, wire_len));
	constexpr auto io_result = static_cast<std::int16_t>(offsetof(Io, result));

	p.push_back(mov64(6, 1));
	p.push_back(make(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0));
	lookup(p, io_fd);
	p.push_back(make(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, kOut, 0));
	p.push_back(mov64(7, 0));
	if (access == FilterAccess::Packet) {
		// r1 = data + pad, r2 = data_end, r3 = wire_len.
		p.push_back(ldx_w(1, 6, offsetof(xdp_md, data)));
		p.push_back(ldx_w(2, 6, offsetof(xdp_md, data_end)));
		p.push_back(ldx_w(4, 7, io_pad));
		p.push_back(make(BPF_JMP | BPF_JGT | BPF_K, 4, 0, kOut, kMinXdpData));
		p.push_back(make(BPF_ALU64 | BPF_ADD | BPF_X, 1, 4, 0, 0));
		p.push_back(make(BPF_JMP | BPF_JGT | BPF_X, 1, 2, kOut, 0));
		p.push_back(ldx_w(3, 7, io_wire));
	} else {
		lookup(p, buf_fd);
		p.push_back(make(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, kOut, 0));
		p.push_back(mov64(8, 0));
		// bpf_xdp_load_bytes(ctx, pad, buf, caplen) unless caplen is 0.
		p.push_back(ldx_w(4, 7, io_caplen));
		p.push_back(make(BPF_JMP | BPF_JGT | BPF_K, 4, 0, kOut, CAPX_PACKET_BUF_SIZE));
		p.push_back(make(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 5, 0));
		p.push_back(mov64(1, 6));
		p.push_back(ldx_w(2, 7, io_pad));
		p.push_back(mov64(3, 8));
		p.push_back(call_helper(BPF_FUNC_xdp_load_bytes));
		p.push_back(make(BPF_JMP | BPF_JNE | BPF_K, 0, 0, kOut, 0));
		p.push_back(mov64(1, 8));
		p.push_back(ldx_w(2, 7, io_caplen));
		p.push_back(ldx_w(3, 7, io_wire));
	}
	// call filter: patched by the caller once the subprogram's place is known.
	p.push_back(make(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0));
	p.push_back(make(BPF_STX | BPF_MEM | BPF_W, 7, 0, io_result, 0));
	std::size_t out = p.size();
	p.push_back(mov64_imm(0, XDP_PASS));
	p.push_back(exit_insn());
	resolve(p, out);
	return p;
}

} // namespace

std::string KernelFilterRunner::unavailable_reason()
{
	if (geteuid() != 0)
		return "kernel filter runs need root (BPF_PROG_LOAD, BPF_PROG_TEST_RUN)";
	UniqueFd probe(bpf_map_create(BPF_MAP_TYPE_ARRAY, "capx_probe", 4, 4, 1, nullptr));
	if (!probe)
		return fmt::format("BPF is not available: bpf_map_create: {}", std::strerror(errno));
	return {};
}

[[nodiscard]] Result<KernelFilterRunner> KernelFilterRunner::load(const EbpfFilter &filter)
{
	KernelFilterRunner r;
	r.access_ = filter.access;
	r.io_map_.reset(bpf_map_create(BPF_MAP_TYPE_ARRAY, "capx_filter_io", 4, sizeof(Io), 1, nullptr));
	if (!r.io_map_)
		return fail_errno(errno, "bpf_map_create (filter io)", privilege_hint());
	if (filter.access == FilterAccess::Buffer) {
		// Not a per-CPU array: per-CPU values are limited to 32 KiB
		// (PCPU_MIN_UNIT_SIZE); test runs are one at a time anyway.
		r.buf_map_.reset(bpf_map_create(BPF_MAP_TYPE_ARRAY, "capx_filter_buf", 4,
						CAPX_PACKET_BUF_SIZE, 1, nullptr));
		if (!r.buf_map_)
			return fail_errno(errno, "bpf_map_create (packet buffer)", privilege_hint());
	}

	// Main program first (the kernel starts at instruction 0), then the
	// filter as a bpf-to-bpf subprogram.
	auto prog = wrapper(filter.access, r.io_map_.get(), r.buf_map_.get());
	for (std::size_t i = 0; i < prog.size(); i++)
		if (prog[i].code == (BPF_JMP | BPF_CALL) && prog[i].src() == BPF_PSEUDO_CALL)
			prog[i].imm = static_cast<std::int32_t>(prog.size() - i - 1);
	prog.insert(prog.end(), filter.insns.begin(), filter.insns.end());

	std::vector<char> log(4 << 20);
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	opts.log_buf = log.data();
	opts.log_size = static_cast<__u32>(log.size());
	opts.log_level = 0;
	const auto *insns = reinterpret_cast<const bpf_insn *>(prog.data());
	r.prog_.reset(bpf_prog_load(BPF_PROG_TYPE_XDP, "capx_filter", "GPL", insns, prog.size(), &opts));
	if (!r.prog_) {
		int err = errno;
		// Again with the verifier's reasoning in the log; only the log is
		// wanted, a program it might load after all is closed at once.
		opts.log_level = 1;
		log[0] = 0;
		UniqueFd again(bpf_prog_load(BPF_PROG_TYPE_XDP, "capx_filter", "GPL", insns, prog.size(), &opts));
		std::string text(log.data());
		// The end of the log says why; keep the last lines.
		constexpr std::size_t keep = 6000;
		if (text.size() > keep)
			text = "..." + text.substr(text.size() - keep);
		return fail(fmt::format("the verifier rejected the translated filter: {}\n{}", std::strerror(err), text),
			    err == EPERM ? privilege_hint() : std::string{});
	}
	bpf_prog_info info{};
	__u32 size = sizeof(info);
	if (bpf_obj_get_info_by_fd(r.prog_.get(), &info, &size) == 0)
		r.verified_insns_ = info.verified_insns;
	return r;
}

[[nodiscard]] Result<std::uint32_t> KernelFilterRunner::test_run(std::span<const std::uint8_t> packet, std::uint32_t wire_len,
						    std::uint32_t repeat, std::uint32_t *duration) const
{
	if (packet.size() > kMaxPacket)
		return fail(fmt::format("kernel test runs take at most {} captured bytes, not {}", kMaxPacket,
					packet.size()));
	Io io;
	io.pad = packet.size() < kMinXdpData ? kMinXdpData - static_cast<std::uint32_t>(packet.size()) : 0;
	io.caplen = static_cast<std::uint32_t>(packet.size());
	io.wire_len = wire_len;
	io.result = 0xdeadbeef;
	std::uint32_t key = 0;
	if (bpf_map_update_elem(io_map_.get(), &key, &io, BPF_ANY) < 0)
		return fail_errno(errno, "bpf_map_update_elem (filter io)");

	std::vector<std::uint8_t> data(io.pad, 0);
	data.insert(data.end(), packet.begin(), packet.end());
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	opts.data_in = data.data();
	opts.data_size_in = static_cast<__u32>(data.size());
	opts.repeat = repeat;
	if (bpf_prog_test_run_opts(prog_.get(), &opts) < 0)
		return fail_errno(errno, "BPF_PROG_TEST_RUN");
	if (opts.retval != XDP_PASS)
		return fail(fmt::format("filter wrapper returned {} instead of XDP_PASS", opts.retval));
	if (bpf_map_lookup_elem(io_map_.get(), &key, &io) < 0)
		return fail_errno(errno, "bpf_map_lookup_elem (filter io)");
	if (io.result == 0xdeadbeef)
		return fail("the filter wrapper did not run the filter");
	if (duration)
		*duration = opts.duration;
	return io.result;
}

[[nodiscard]] Result<std::uint32_t> KernelFilterRunner::run(std::span<const std::uint8_t> packet, std::uint32_t wire_len) const
{
	return test_run(packet, wire_len, 1, nullptr);
}

[[nodiscard]] Result<double> KernelFilterRunner::time_ns(std::span<const std::uint8_t> packet, std::uint32_t wire_len,
					   std::uint32_t repeat) const
{
	std::uint32_t duration = 0;
	auto r = test_run(packet, wire_len, repeat, &duration);
	if (!r)
		return std::unexpected(r.error());
	return static_cast<double>(duration);
}

} // namespace capx
