// SPDX-License-Identifier: GPL-2.0-only
// capx filter: look at a filter (-d: libpcap's classic program and the eBPF
// capx injects) and run it offline over a capture file with either engine,
// the kernel's (the injected BPF test program, BPF_PROG_TEST_RUN) or the
// user-space executor -- the same code paths live capture points use.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "bpf/filter_test_program.hpp"
#include "bpf/inject.hpp"
#include "output/pcap_reader.hpp"
#include "cli/command.hpp"
#include "cli/options.hpp"
#include "core/snaplen.hpp"
#include "filter/cbpf.hpp"
#include "filter/compiled_filter.hpp"
#include "filter/ebpf_translator.hpp"
#include "filter/executor.hpp"
#include "filter/kernel_runner.hpp"
#include "output/sink_factory.hpp"

namespace capx::cli {

namespace {

enum class Engine { User, Kernel };
enum class Mode { Packet, Buffer, Both };

struct FilterOptions {
	int dump_level = 0;
	std::string input;
	OutputOptions output;
	Engine engine = Engine::User;
	std::optional<Mode> mode;
	std::string link; // ether | raw; default: the input file's link type
	std::string expression;
	std::vector<std::string> expression_words;
};

const char *mode_name(FilterAccess access)
{
	return access == FilterAccess::Packet ? "packet" : "buffer";
}

std::vector<FilterAccess> accesses(Mode mode)
{
	switch (mode) {
	case Mode::Packet:
		return {FilterAccess::Packet};
	case Mode::Buffer:
		return {FilterAccess::Buffer};
	case Mode::Both:
		break;
	}
	return {FilterAccess::Packet, FilterAccess::Buffer};
}

std::string dump_ebpf_array(const std::vector<EbpfInsn> &insns)
{
	std::string out;
	for (const auto &i : insns)
		out += fmt::format("{{ 0x{:02x}, 0x{:02x}, {}, {} }},\n", i.code, i.regs, i.off, i.imm);
	return out;
}

[[nodiscard]] Result<void> dump(const FilterOptions &o, const std::string &expression, std::uint16_t linktype)
{
	auto cbpf = CbpfProgram::compile(expression, linktype);
	if (!cbpf)
		return std::unexpected(std::move(cbpf.error()));
	auto compiled = compile_filter(expression, linktype);
	if (!compiled)
		return std::unexpected(compiled.error());
	fmt::print("; classic BPF (libpcap, link type {}), {} instructions\n", linktype, cbpf->insns().size());
	fmt::print("{}", dump_cbpf(*cbpf, o.dump_level));
	for (FilterAccess access : accesses(o.mode.value_or(Mode::Both))) {
		auto ebpf = translate_to_ebpf(compiled->cbpf, access);
		if (!ebpf)
			return std::unexpected(ebpf.error());
		fmt::print("; eBPF, {} mode ({}), {} instructions\n", mode_name(access),
			   access == FilterAccess::Packet ? "capx_filter_pkt(data, data_end, wire_len)"
							  : "capx_filter_buf(buf, caplen, wire_len)",
			   ebpf->insns.size());
		if (o.dump_level >= 2)
			fmt::print("{}", dump_ebpf_array(ebpf->insns));
		else
			fmt::print("{}\n", disassemble_ebpf(ebpf->insns));
		// What the verifier takes for it, where this machine lets capx
		// load it: the part of every capture program's cost the
		// expression decides (capx ... -v logs each program's total).
		if (KernelFilterRunner::unavailable_reason().empty())
			if (auto runner = KernelFilterRunner::load(*ebpf); runner && runner->verified_insns())
				fmt::print("; the verifier processed {} instructions for it ({:.1f}% of its limit)\n",
					   runner->verified_insns(),
					   100.0 * runner->verified_insns() / bpf::kVerifierInsnLimit);
	}
	return {};
}

// One verdict per packet, from whichever engine was asked for.
class Verdicts {
public:
	[[nodiscard]] static Result<Verdicts> make(const FilterOptions &o, const CompiledFilter &compiled)
	{
		Verdicts v;
		if (o.engine == Engine::User) {
			auto executor = FilterExecutor::create(compiled.cbpf);
			if (!executor)
				return std::unexpected(executor.error());
			v.executor_ = std::make_unique<FilterExecutor>(std::move(*executor));
			return v;
		}
		v.accesses_ = accesses(o.mode.value_or(Mode::Buffer));
		bpf::FilterBodies bodies;
		for (FilterAccess access : v.accesses_) {
			auto ebpf = translate_to_ebpf(compiled.cbpf, access);
			if (!ebpf)
				return std::unexpected(ebpf.error());
			(access == FilterAccess::Packet ? bodies.packet : bodies.buffer) = std::move(ebpf->insns);
		}
		auto program = bpf::FilterTestProgram::load(bodies);
		if (!program)
			return std::unexpected(program.error());
		v.kernel_ = std::make_unique<bpf::FilterTestProgram>(std::move(*program));
		return v;
	}

	[[nodiscard]] Result<std::uint32_t> run(std::span<const std::uint8_t> data, std::uint32_t wire_len, std::uint64_t index)
	{
		if (executor_)
			return executor_->run(data, wire_len);
		std::optional<std::uint32_t> first;
		for (FilterAccess access : accesses_) {
			auto mode = access == FilterAccess::Packet ? bpf::FilterMode::Packet : bpf::FilterMode::Buffer;
			// A buffer-mode capture point copies (and filters) at most
			// CAPX_PACKET_BUF_SIZE bytes; so does this engine.
			auto bytes = mode == bpf::FilterMode::Buffer && data.size() > CAPX_PACKET_BUF_SIZE
					     ? data.first(CAPX_PACKET_BUF_SIZE)
					     : data;
			auto r = kernel_->run(mode, bytes, wire_len);
			if (!r)
				return fail(fmt::format("packet {}: {}", index, r.error().message), r.error().hint);
			if (first && *first != *r)
				return fail(fmt::format("packet {}: packet mode says {}, buffer mode {}", index, *first, *r));
			first = *r;
		}
		return *first;
	}

private:
	std::unique_ptr<FilterExecutor> executor_;
	std::unique_ptr<bpf::FilterTestProgram> kernel_;
	std::vector<FilterAccess> accesses_;
};

[[nodiscard]] Result<void> run_offline(const FilterOptions &o, const std::string &expression)
{
	auto reader = PcapReader::open(o.input);
	if (!reader)
		return std::unexpected(reader.error());
	for (std::uint16_t lt : reader->interface_linktypes())
		if (lt != reader->linktype())
			return fail(fmt::format("{} mixes link types {} and {}", o.input, reader->linktype(), lt),
				    "capx filter compiles one expression for one link type");
	std::uint16_t linktype = reader->linktype();
	if (o.link == "ether")
		linktype = kLinkEthernet;
	else if (o.link == "raw")
		linktype = kLinkRaw;

	auto compiled = compile_filter(expression, linktype);
	if (!compiled)
		return std::unexpected(compiled.error());
	auto verdicts = Verdicts::make(o, *compiled);
	if (!verdicts)
		return std::unexpected(verdicts.error());

	auto sink = make_sink(o.output);
	if (!sink)
		return std::unexpected(sink.error());
	CapturePoint point;
	point.name = std::filesystem::path(o.input).filename().string();
	point.description = "capx filter -r";
	point.linktype = reader->linktype();
	point.snaplen = reader->snaplen() ? reader->snaplen() : kMaxSnaplen;
	point.filter = expression;
	if (auto r = (*sink)->begin({&point, 1}); !r)
		return r;

	std::uint64_t read = 0, kept = 0;
	for (;;) {
		auto record = reader->next();
		if (!record)
			return std::unexpected(record.error());
		if (!*record)
			break;
		const auto &rec = **record;
		auto verdict = verdicts->run(rec.data, rec.wire_len, read + 1);
		if (!verdict)
			return std::unexpected(verdict.error());
		read++;
		if (*verdict == 0)
			continue;
		// Like libpcap reading a file (pcap_offline_read), a match keeps the
		// record whole: the filter's snap length applies to live captures.
		PacketView view;
		view.timestamp_ns = rec.timestamp_ns;
		view.wire_len = rec.wire_len;
		view.data = rec.data;
		if (auto r = (*sink)->write(view); !r) {
			if (r.error().orderly_end)
				break;
			return r;
		}
		kept++;
	}
	if (auto r = (*sink)->finish(); !r)
		return r;
	fmt::print(stderr, "{} packet{} read, {} kept ({} engine{})\n", read, read == 1 ? "" : "s", kept,
		   o.engine == Engine::User ? "user" : "kernel",
		   o.engine == Engine::User ? ""
		   : o.mode.value_or(Mode::Buffer) == Mode::Both ? ", packet and buffer modes"
		   : o.mode.value_or(Mode::Buffer) == Mode::Packet ? ", packet mode"
								   : ", buffer mode");
	return {};
}

[[nodiscard]] Result<void> run_filter(const FilterOptions &o)
{
	auto merged = merge_expression(o.expression, o.expression_words);
	if (!merged)
		return std::unexpected(std::move(merged.error()));
	if (auto r = check_output_options(o.output); !r)
		return r;
	const std::string &expression = *merged;

	if (o.dump_level > 0) {
		if (!o.input.empty())
			return fail_usage("-d prints the filter; it does not read -r");
		std::uint16_t linktype = o.link == "raw" ? kLinkRaw : kLinkEthernet;
		return dump(o, expression, linktype);
	}
	if (o.input.empty())
		return fail_usage("nothing to do", "use -d to print the filter, or -r FILE to filter a capture");
	if (o.engine == Engine::User && o.mode)
		return fail_usage("--mode applies to the kernel engine only");
	return run_offline(o, expression);
}

} // namespace

void add_filter_command(CLI::App &parent, CommandList &commands)
{
	auto *app = parent.add_subcommand("filter", "Show a filter's classic BPF and eBPF, or filter a capture file");
	auto o = std::make_shared<FilterOptions>();
	app->add_flag("-d", o->dump_level,
		      "Print the classic BPF (like tcpdump -d; -dd as a C array, -ddd as decimals) and the eBPF");
	app->add_option("-r,--read", o->input, "Read packets from a pcap or pcapng file ('-' for stdin)");
	add_output_options(*app, o->output);
	app->add_option("--engine", o->engine, "Who runs the filter: user (the executor) or kernel (injected BPF)")
		->transform(CLI::CheckedTransformer(std::map<std::string, Engine>{{"user", Engine::User},
										 {"kernel", Engine::Kernel}}));
	app->add_option("--mode", o->mode, "eBPF placeholder mode: pkt, buf or both (-d: both; kernel engine: buf)")
		->transform(CLI::CheckedTransformer(std::map<std::string, Mode>{
			{"pkt", Mode::Packet}, {"buf", Mode::Buffer}, {"both", Mode::Both}}));
	app->add_option("--link", o->link, "Compile for this link layer: ether or raw (default: the file's)")
		->check(CLI::IsMember({"ether", "raw"}));
	add_expression_options(*app, o->expression, o->expression_words);
	commands.push_back({app, [o]() -> Result<void> { return run_filter(*o); }});
}

} // namespace capx::cli
