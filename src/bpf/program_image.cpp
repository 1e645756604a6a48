// SPDX-License-Identifier: GPL-2.0-only
#include "bpf/program_image.hpp"

#include <linux/bpf.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace capx::bpf {

namespace {

constexpr std::uint8_t kLdImm64 = BPF_LD | BPF_IMM | BPF_DW;

std::uint8_t insn_class(const EbpfInsn &insn)
{
	return BPF_CLASS(insn.code);
}

bool is_jump_class(const EbpfInsn &insn)
{
	return insn_class(insn) == BPF_JMP || insn_class(insn) == BPF_JMP32;
}

bool is_call(const EbpfInsn &insn)
{
	return is_jump_class(insn) && BPF_OP(insn.code) == BPF_CALL;
}

bool is_exit(const EbpfInsn &insn)
{
	return is_jump_class(insn) && BPF_OP(insn.code) == BPF_EXIT;
}

bool is_pseudo_call(const EbpfInsn &insn)
{
	return insn.code == (BPF_JMP | BPF_CALL) && insn.src() == BPF_PSEUDO_CALL;
}

bool is_pseudo_func(const EbpfInsn &insn)
{
	return insn.code == kLdImm64 && insn.src() == BPF_PSEUDO_FUNC;
}

// A jump whose 16-bit offset is relative (conditional jumps and `goto`);
// BPF_JMP32 | BPF_JA ("gotol") keeps its offset in imm.
bool is_offset_jump(const EbpfInsn &insn)
{
	return is_jump_class(insn) && !is_call(insn) && !is_exit(insn) &&
	       !(insn.code == (BPF_JMP32 | BPF_JA));
}

bool is_long_jump(const EbpfInsn &insn)
{
	return insn.code == (BPF_JMP32 | BPF_JA);
}

// Target of the relative reference of instruction `i`, if it has one.
std::optional<std::int64_t> relative_target(std::span<const EbpfInsn> insns, std::size_t i)
{
	const EbpfInsn &insn = insns[i];
	std::int64_t next = static_cast<std::int64_t>(i) + 1;
	if (is_pseudo_call(insn) || is_pseudo_func(insn) || is_long_jump(insn))
		return next + insn.imm;
	if (is_offset_jump(insn))
		return next + insn.off;
	return std::nullopt;
}

std::uint64_t ld_imm64_value(std::span<const EbpfInsn> insns, std::size_t i)
{
	return static_cast<std::uint32_t>(insns[i].imm) |
	       (static_cast<std::uint64_t>(static_cast<std::uint32_t>(insns[i + 1].imm)) << 32);
}

} // namespace

std::uint32_t BtfExtRecords::insn_off(std::size_t i) const
{
	std::uint32_t off;
	std::memcpy(&off, bytes.data() + i * rec_size, sizeof(off));
	return off;
}

void BtfExtRecords::set_insn_off(std::size_t i, std::uint32_t off)
{
	std::memcpy(bytes.data() + i * rec_size, &off, sizeof(off));
}

std::vector<std::size_t> function_starts(std::span<const EbpfInsn> insns)
{
	std::vector<std::size_t> starts{0};
	for (std::size_t i = 0; i < insns.size(); i++) {
		if (is_pseudo_call(insns[i]) || is_pseudo_func(insns[i])) {
			auto t = relative_target(insns, i);
			if (t && *t >= 0 && static_cast<std::size_t>(*t) < insns.size())
				starts.push_back(static_cast<std::size_t>(*t));
		}
		if (insns[i].code == kLdImm64)
			i++;
	}
	std::sort(starts.begin(), starts.end());
	starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
	return starts;
}

[[nodiscard]] Result<void> check_filter_body(std::span<const EbpfInsn> body)
{
	if (body.empty())
		return fail("the filter body is empty");
	const EbpfInsn &last = body.back();
	if (!is_exit(last) && !(last.code == (BPF_JMP | BPF_JA)) && !is_long_jump(last))
		return fail("the filter body does not end with exit or goto");
	for (std::size_t i = 0; i < body.size(); i++) {
		const EbpfInsn &insn = body[i];
		if (is_pseudo_call(insn) || (is_call(insn) && insn.src() != 0))
			return fail(fmt::format("filter body instruction {} calls another function", i));
		if (insn.code == kLdImm64) {
			if (insn.src() != 0)
				return fail(fmt::format("filter body instruction {} refers to a map or function", i));
			if (i + 1 >= body.size())
				return fail("the filter body ends inside a 64-bit load");
			i++;
			continue;
		}
		if (auto t = relative_target(body, i); t && (*t < 0 || *t >= static_cast<std::int64_t>(body.size())))
			return fail(fmt::format("filter body instruction {} jumps out of the body", i));
	}
	return {};
}

std::optional<std::size_t> find_marker(std::span<const EbpfInsn> insns, std::uint64_t marker)
{
	for (std::size_t i = 0; i + 1 < insns.size(); i++) {
		if (insns[i].code != kLdImm64)
			continue;
		if (insns[i].src() == 0 && ld_imm64_value(insns, i) == marker)
			return i;
		i++;
	}
	return std::nullopt;
}

[[nodiscard]] Result<bool> splice_placeholder(ProgramImage &image, std::uint64_t marker, std::span<const EbpfInsn> body)
{
	auto &insns = image.insns;

	std::optional<std::size_t> at = find_marker(insns, marker);
	if (!at)
		return false;
	// libbpf appends each subprogram once per program that calls it.
	if (find_marker(std::span(insns).subspan(*at + 2), marker))
		return fail(fmt::format("the filter placeholder marker {:#x} appears twice", marker));

	if (auto r = check_filter_body(body); !r)
		return std::unexpected(r.error());

	// The placeholder's extent: from the last function start at or before
	// the marker to the next function start (or the end of the program).
	auto starts = function_starts(insns);
	auto next = std::upper_bound(starts.begin(), starts.end(), *at);
	std::size_t begin = *std::prev(next);
	std::size_t end = next == starts.end() ? insns.size() : *next;
	if (begin == 0)
		return fail("the filter placeholder is inlined into the main program, not a subprogram");

	// BTF, when present, must agree: a func_info record starts the
	// placeholder and none starts inside it.
	if (image.func_info.count() > 0) {
		bool starts_here = false;
		for (std::size_t i = 0; i < image.func_info.count(); i++) {
			std::uint32_t off = image.func_info.insn_off(i);
			if (off == begin)
				starts_here = true;
			else if (off > begin && off < end)
				return fail("BTF func_info puts a function inside the filter placeholder");
		}
		if (!starts_here)
			return fail("BTF func_info has no function at the filter placeholder");
	}

	const std::int64_t old_len = static_cast<std::int64_t>(end - begin);
	const std::int64_t delta = static_cast<std::int64_t>(body.size()) - old_len;
	auto new_index = [&](std::int64_t x) { return x >= static_cast<std::int64_t>(end) ? x + delta : x; };

	std::vector<EbpfInsn> out;
	out.reserve(insns.size() - old_len + body.size());
	for (std::size_t i = 0; i < insns.size(); i++) {
		if (i == begin) {
			out.insert(out.end(), body.begin(), body.end());
			i = end - 1;
			continue;
		}
		EbpfInsn insn = insns[i];
		if (auto t = relative_target(insns, i)) {
			if (*t > static_cast<std::int64_t>(begin) && *t < static_cast<std::int64_t>(end))
				return fail(fmt::format("instruction {} jumps into the middle of the filter placeholder", i));
			std::int64_t rel = new_index(*t) - new_index(static_cast<std::int64_t>(i)) - 1;
			if (is_offset_jump(insn)) {
				if (rel < std::numeric_limits<std::int16_t>::min() || rel > std::numeric_limits<std::int16_t>::max())
					return fail(fmt::format("instruction {}: jump offset out of range after injection", i));
				insn.off = static_cast<std::int16_t>(rel);
			} else {
				if (rel < std::numeric_limits<std::int32_t>::min() || rel > std::numeric_limits<std::int32_t>::max())
					return fail(fmt::format("instruction {}: call offset out of range after injection", i));
				insn.imm = static_cast<std::int32_t>(rel);
			}
		}
		out.push_back(insn);
		if (insn.code == kLdImm64 && i + 1 < insns.size())
			out.push_back(insns[++i]);
	}
	insns = std::move(out);

	// func_info: only offsets behind the placeholder move.
	for (std::size_t i = 0; i < image.func_info.count(); i++)
		image.func_info.set_insn_off(i, static_cast<std::uint32_t>(new_index(image.func_info.insn_off(i))));

	// line_info: the placeholder keeps its first record (the kernel wants a
	// line at every function start, check_btf_line()); records inside the
	// old body no longer describe anything and go.
	BtfExtRecords lines{image.line_info.rec_size, {}};
	for (std::size_t i = 0; i < image.line_info.count(); i++) {
		std::uint32_t off = image.line_info.insn_off(i);
		if (off > begin && off < end)
			continue;
		const std::uint8_t *rec = image.line_info.bytes.data() + i * image.line_info.rec_size;
		lines.bytes.insert(lines.bytes.end(), rec, rec + image.line_info.rec_size);
		lines.set_insn_off(lines.count() - 1, static_cast<std::uint32_t>(new_index(off)));
	}
	image.line_info = std::move(lines);
	return true;
}

} // namespace capx::bpf
