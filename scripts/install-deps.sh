#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs what capx needs to build, test and benchmark on Debian 12, and
# nothing that is already there. Run as root.
set -euo pipefail

packages=(
	# build
	build-essential pkg-config meson ninja-build cmake clang llvm
	libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libpcap-dev
	libcli11-dev libfmt-dev libspdlog-dev catch2 bash-completion
	# packaging: dpkg-buildpackage -b (README, "Install") and its check
	debhelper lintian
	# tests and benchmarks: the peers capx is checked against
	tcpdump tshark netsniff-ng xdp-tools tcpreplay
	iproute2 iputils-ping iputils-arping procps python3 time util-linux
	# the vm suite: a Debian kernel booted under qemu with a busybox initramfs
	qemu-system-x86 busybox-static
	# capx mbuf: DPDK headers and libraries for the test program, and
	# dpdk-testpmd as the running application it captures from
	dpdk-dev libdpdk-dev dpdk
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
	echo "install-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
