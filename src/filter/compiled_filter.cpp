// SPDX-License-Identifier: GPL-2.0-only
#include "filter/compiled_filter.hpp"

#include <linux/filter.h>

#include <fmt/format.h>

#include "core/packet.hpp"
#include "filter/cbpf.hpp"

namespace capx {

namespace {

std::vector<CbpfInsn> copy_insns(const CbpfProgram &program)
{
	std::vector<CbpfInsn> out;
	out.reserve(program.insns().size());
	for (const auto &i : program.insns())
		out.push_back(CbpfInsn{i.code, i.jt, i.jf, i.k});
	return out;
}

// True when every return the program can take returns 0.
bool rejects_everything(std::span<const CbpfInsn> program)
{
	for (const auto &i : program)
		if (BPF_CLASS(i.code) == BPF_RET && (BPF_RVAL(i.code) != BPF_K || i.k != 0))
			return false;
	return true;
}

constexpr std::string_view kL3Hint =
	"this capture point sees IP packets without a link-layer header (LINKTYPE_RAW): "
	"'ether', 'arp', 'rarp', 'vlan', 'mpls', 'pppoe' and link-layer broadcast/multicast cannot match here";

} // namespace

bool CompiledFilter::accepts_all() const
{
	return cbpf.size() == 1 && cbpf[0].code == (BPF_RET | BPF_K) && cbpf[0].k != 0;
}

[[nodiscard]] Result<CompiledFilter> compile_filter(std::string_view expression, std::uint16_t linktype, std::uint32_t snaplen)
{
	auto program = CbpfProgram::compile(expression, linktype, snaplen);
	if (!program) {
		// The message and the exit status (1, runtime, as issue 2 has it for
		// every subcommand) are CbpfProgram::compile's; only the hint is
		// added here.
		Error e = program.error();
		// Is it the link layer's fault? Then say so.
		if (linktype == kLinkRaw && CbpfProgram::compile(expression, kLinkEthernet, snaplen))
			e.hint = kL3Hint;
		return std::unexpected(std::move(e));
	}
	CompiledFilter out;
	out.expression = std::string(expression);
	out.linktype = linktype;
	out.cbpf = copy_insns(*program);
	// libpcap's optimizer reports "expression rejects all packets" itself;
	// this catches what slips through (e.g. an unoptimized program).
	if (linktype == kLinkRaw && rejects_everything(out.cbpf)) {
		auto l2 = CbpfProgram::compile(expression, kLinkEthernet, snaplen);
		if (l2 && !rejects_everything(copy_insns(*l2)))
			return fail(fmt::format("filter '{}' cannot match at this capture point", expression),
				    std::string(kL3Hint));
	}
	return out;
}

} // namespace capx
