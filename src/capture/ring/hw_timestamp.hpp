// SPDX-License-Identifier: GPL-2.0-only
// --time-stamp-type adapter|adapter_unsynced: turn on the NIC's receive
// time stamping (SIOCSHWTSTAMP, HWTSTAMP_FILTER_ALL) for the capture and put
// back the previous setting afterwards, since the setting belongs to the
// device, not to the socket. Linux has one hardware clock per NIC (the PHC);
// whether it is synchronised is up to ptp4l/phc2sys, so both types read the
// raw hardware stamp (SOF_TIMESTAMPING_RAW_HARDWARE; the "sys" variant is
// gone from the kernel, TP_STATUS_TS_SYS_HARDWARE is never set).
#pragma once

#include <linux/net_tstamp.h>

#include <string>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace capx::ring {

class HardwareTimestamping {
public:
	HardwareTimestamping() = default;
	HardwareTimestamping(HardwareTimestamping &&) = default;
	HardwareTimestamping &operator=(HardwareTimestamping &&) = default;
	~HardwareTimestamping();

	[[nodiscard]] static Result<HardwareTimestamping> enable(const std::string &ifname);

private:
	UniqueFd fd_;
	std::string ifname_;
	hwtstamp_config saved_{};
	bool restore_ = false;
};

} // namespace capx::ring
