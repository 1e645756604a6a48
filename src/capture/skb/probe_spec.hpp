// SPDX-License-Identifier: GPL-2.0-only
// What the user asked `capx skb -f` to probe, and where that is in this
// kernel. Parsing needs nothing but the text; resolving reads the kernel's
// BTF (and tracefs when mounted) and decides the attach type.
//
// Grammar (man/capx-skb.8), each -f repeatable and comma-separated:
//   FUNC[@N]              fentry, falling back to kprobe where fentry is refused
//   fentry:FUNC[@N]       fexit:FUNC[@N]       kprobe:FUNC[@N]
//   tracepoint:SUBSYS:NAME   tp:SUBSYS:NAME    (tp_btf)
//   raw_tp:NAME
// N is the 1-based argument holding `struct sk_buff *`; without it the only
// such argument is taken (none or several: an error). Tracepoints and
// raw_tp accept @N too, for the rare one with two sk_buff arguments.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/closest_names.hpp"
#include "core/error.hpp"

namespace capx::bpf {
class KernelBtf;
}

namespace capx::skb {

enum class ProbeKind {
	Auto,   // FUNC[@N]: fentry, else kprobe
	Fentry,
	Fexit,
	Kprobe,
	TpBtf,  // tracepoint:SUBSYS:NAME, tp:SUBSYS:NAME
	RawTp,  // raw_tp:NAME
};

// "fentry", "fexit", "kprobe", "tp_btf", "raw_tp" ("auto" for Auto).
const char *probe_kind_name(ProbeKind kind);

struct ProbeSpec {
	ProbeKind kind = ProbeKind::Auto;
	std::string subsystem;      // tracepoints only ("net")
	std::string name;           // function or tracepoint name ("ip_rcv", "netif_receive_skb")
	std::optional<unsigned> arg; // @N as given (1-based)
	std::string text;           // the spec as the user wrote it, for messages
};

// Splits every argument at commas and parses each spec. Errors are usage
// errors naming the bad spec: "probe 'fentry:' has no function name".
[[nodiscard]] Result<std::vector<ProbeSpec>> parse_probe_specs(const std::vector<std::string> &arguments);

// A probe ready to load: its attach type and target and where its packet
// and (for skb:kfree_skb) drop reason are among the hook's arguments.
struct ResolvedProbe {
	ProbeKind kind = ProbeKind::Fentry; // never Auto
	std::string target;                 // attach target: function or tracepoint name
	unsigned skb_arg = 0;               // 0-based index of the sk_buff * argument
	std::optional<unsigned> drop_reason_arg; // 0-based index of an `enum skb_drop_reason` argument
	bool kprobe_fallback = false;       // Auto spec: try kprobe if fentry fails to load or attach
	std::string display_name;           // pcapng interface name: "ip_rcv@fentry", "net:netif_receive_skb"
	std::string spec_text;              // ProbeSpec::text
};

// Checks the spec against the kernel: the function or tracepoint exists
// (else an error with the closest names as the hint), @N names a
// `struct sk_buff *` ("argument 2 of ip_rcv is 'struct net_device *', not
// 'struct sk_buff *'"), the attach type is possible here (an Auto spec
// becomes kprobe when this kernel refuses fentry, see bpf/features.hpp).
[[nodiscard]] Result<ResolvedProbe> resolve_probe(const ProbeSpec &spec, const bpf::KernelBtf &btf);

// The same probe as a kprobe, for the fallback of an Auto spec whose fentry
// program failed to load or attach.
ResolvedProbe as_kprobe(const ResolvedProbe &probe);

// The "did you mean" of an unknown name (shared with capx mbuf).
using capx::closest_names;

} // namespace capx::skb
