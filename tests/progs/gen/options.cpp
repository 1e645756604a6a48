// SPDX-License-Identifier: GPL-2.0-only
#include "gen/options.hpp"

#include <arpa/inet.h>

#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/options.hpp"

namespace capx::gen {

namespace {

[[nodiscard]] Result<std::array<std::uint8_t, 6>> parse_mac(const std::string &text, const char *what)
{
	std::array<unsigned, 6> v{};
	char extra = 0;
	int n = std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra);
	if (n != 6)
		return fail_usage(fmt::format("{}: '{}' is not a MAC address like 02:00:00:00:00:01", what, text));
	std::array<std::uint8_t, 6> mac{};
	for (std::size_t i = 0; i < 6; i++)
		mac[i] = static_cast<std::uint8_t>(v[i]);
	return mac;
}

[[nodiscard]] Result<std::uint32_t> parse_ipv4(const std::string &text, const char *what)
{
	in_addr a{};
	if (::inet_pton(AF_INET, text.c_str(), &a) != 1)
		return fail_usage(fmt::format("{}: '{}' is not an IPv4 address", what, text));
	return ntohl(a.s_addr);
}

} // namespace

[[nodiscard]] Result<std::optional<Options>> parse_options(int argc, char **argv)
{
	Options o;
	// Defaults: locally administered MACs that match no device, so the
	// receiving stack drops the frames as PACKET_OTHERHOST before IP, and
	// addresses from the benchmarking range 198.18.0.0/15 (RFC 2544).
	std::string src_mac = "02:00:00:00:00:01", dst_mac = "02:00:00:00:00:02";
	std::string src_ip = "198.18.0.1", dst_ip = "198.18.0.2";
	std::uint32_t vlan = 0;

	CLI::App app{"capx-gen: send a fixed number of UDP/IPv4 test frames at a fixed rate (test and bench helper)", "capx-gen"};
	app.add_option("-i,--interface", o.interface, "Interface to send on")->required();
	app.add_option("-c,--count", o.count, "Frames to send");
	app.add_option("-d,--duration", o.duration_seconds, "Seconds to send for (with -c: whichever ends first)")
		->check(capx::cli::positive_number());
	app.add_option("-r,--rate", o.rate_pps, "Frames per second, 0 = as fast as possible")->capture_default_str();
	app.add_option("-s,--size", o.frame.size, "Frame size in bytes without FCS (as a capture records it), 64..9000")
		->capture_default_str();
	app.add_option("--flows", o.frame.flows, "Distinct UDP source ports, cycled frame by frame")->capture_default_str();
	app.add_option("--vlan", vlan, "Add an 802.1Q tag with this VLAN id (0..4095)");
	app.add_option("--max-lag", o.max_lag_ms,
		       "With -r: a frame more than this many milliseconds late restarts the schedule from it "
		       "instead of sending the frames owed back to back; each restart is a stall, counted in the summary")
		->check(capx::cli::non_negative_number())
		->capture_default_str();
	app.add_option("--batch", o.batch, "Most frames handed to the kernel in one call, 1..1024")->capture_default_str();
	app.add_option("--src-mac", src_mac)->capture_default_str();
	app.add_option("--dst-mac", dst_mac)->capture_default_str();
	app.add_option("--src-ip", src_ip)->capture_default_str();
	app.add_option("--dst-ip", dst_ip)->capture_default_str();
	app.add_option("--dst-port", o.frame.dst_port)->capture_default_str();
	app.add_flag("--json", o.json, "Print the summary as one JSON object");
	app.add_flag("--xdp", o.xdp,
		     "Let the kernel send (BPF_PROG_TEST_RUN live frames), several times faster than sendmmsg; "
		     "a veth whose peer is in the same namespace only");

	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		app.exit(e);
		return std::optional<Options>{};
	} catch (const CLI::ParseError &e) {
		return fail_usage(e.what());
	}

	if (!o.count && !o.duration_seconds)
		return fail_usage("give -c COUNT or -d SECONDS (or both)");
	if (o.count && *o.count == 0)
		return fail_usage("-c must be at least 1");
	if (o.xdp && app.count("--batch"))
		return fail_usage("--batch is for sendmmsg; --xdp sizes its own runs");
	if (app.count("--max-lag") && o.rate_pps == 0)
		return fail_usage("--max-lag needs a rate (-r)");
	if (o.batch == 0 || o.batch > 1024)
		return fail_usage(fmt::format("--batch {} is outside 1..1024", o.batch));
	if (app.count("--vlan")) {
		if (vlan > 4095)
			return fail_usage(fmt::format("VLAN id {} is outside 0..4095", vlan));
		o.frame.vlan_id = static_cast<std::uint16_t>(vlan);
	}

	auto smac = parse_mac(src_mac, "--src-mac");
	if (!smac)
		return std::unexpected(smac.error());
	auto dmac = parse_mac(dst_mac, "--dst-mac");
	if (!dmac)
		return std::unexpected(dmac.error());
	auto sip = parse_ipv4(src_ip, "--src-ip");
	if (!sip)
		return std::unexpected(sip.error());
	auto dip = parse_ipv4(dst_ip, "--dst-ip");
	if (!dip)
		return std::unexpected(dip.error());
	o.frame.src_mac = *smac;
	o.frame.dst_mac = *dmac;
	o.frame.src_ip = *sip;
	o.frame.dst_ip = *dip;
	return std::optional<Options>{std::move(o)};
}

} // namespace capx::gen
