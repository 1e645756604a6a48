#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Configures (once) and builds capx in ./build. Sourced by demo.sh and test.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CAPX_BUILD_DIR:-$root/build}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" --wrap-mode=nofallback >/dev/null
fi
ninja -C "$build" >/dev/null
