// SPDX-License-Identifier: GPL-2.0-only
#include "capture/ring/hw_timestamp.hpp"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace capx::ring {

namespace {

ifreq request_for(const std::string &ifname, void *data)
{
	ifreq ifr{};
	std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
	ifr.ifr_data = static_cast<char *>(data);
	return ifr;
}

} // namespace

HardwareTimestamping::~HardwareTimestamping()
{
	if (!restore_ || !fd_) // moved from, or nothing to undo
		return;
	auto ifr = request_for(ifname_, &saved_);
	::ioctl(fd_.get(), SIOCSHWTSTAMP, &ifr);
}

[[nodiscard]] Result<HardwareTimestamping> HardwareTimestamping::enable(const std::string &ifname)
{
	HardwareTimestamping hw;
	hw.ifname_ = ifname;
	hw.fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!hw.fd_)
		return fail_errno(errno, "socket");

	// Ask the driver first (ETHTOOL_GET_TS_INFO): veth and most virtual
	// devices stamp in software only.
	ethtool_ts_info info{};
	info.cmd = ETHTOOL_GET_TS_INFO;
	auto ifr = request_for(ifname, &info);
	const bool can = ::ioctl(hw.fd_.get(), SIOCETHTOOL, &ifr) == 0 &&
			 (info.so_timestamping & SOF_TIMESTAMPING_RAW_HARDWARE) &&
			 (info.rx_filters & (1u << HWTSTAMP_FILTER_ALL));
	if (!can)
		return fail(fmt::format("interface '{}' does not time-stamp received packets in hardware", ifname),
			    "use --time-stamp-type host (see `ethtool -T " + ifname + "`)");

	ifr = request_for(ifname, &hw.saved_);
	// Drivers without SIOCGHWTSTAMP (older ones) cannot tell us what to restore.
	const bool known = ::ioctl(hw.fd_.get(), SIOCGHWTSTAMP, &ifr) == 0;

	hwtstamp_config want{};
	want.tx_type = known ? hw.saved_.tx_type : HWTSTAMP_TX_OFF;
	want.rx_filter = HWTSTAMP_FILTER_ALL;
	ifr = request_for(ifname, &want);
	if (::ioctl(hw.fd_.get(), SIOCSHWTSTAMP, &ifr) < 0)
		return fail_errno(errno, fmt::format("SIOCSHWTSTAMP on '{}'", ifname));
	hw.restore_ = known && hw.saved_.rx_filter != HWTSTAMP_FILTER_ALL;
	return hw;
}

} // namespace capx::ring
