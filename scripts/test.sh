#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Quick start, part two: install what is missing, build, run every test
# suite, and end with one line "N passed, N failed, N skipped".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CAPX_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh" || exit 1
CAPX_BUILD_DIR=$build "$root/scripts/build.sh" || exit 1

meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
status=$?

# Meson's own summary is not what CI reads: count results from its log.
# testlog.json has one line per meson test; a TAP test (the vm suite boots
# once and runs many cases) counts each of its subtests from its stdout.
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, re, sys
passed = failed = skipped = 0
counts = []
# A meson test skipped (exit 77) says why on its first "SKIP"/"skipped"
# line; shown so that a skip is never mistaken for a pass.
skips = []
skip_reason = re.compile(r"^(?:SKIP|skip(?:ped)?)\b:?\s*(.*)$", re.M)
tap_line = re.compile(r"^(not ok|ok)\b[^#\n]*(#\s*(SKIP|TODO)\b)?", re.I | re.M)
plan = re.compile(r"^1\.\.\d+", re.M)
with open(sys.argv[1]) as log:
    for line in log:
        entry = json.loads(line)
        result = entry.get("result", "")
        out = entry.get("stdout") or ""
        subtests = tap_line.findall(out) if plan.search(out) else []
        if subtests:
            for verdict, _, directive in subtests:
                if directive.upper() == "SKIP":
                    skipped += 1
                elif verdict == "ok" or directive.upper() == "TODO":
                    passed += 1
                else:
                    failed += 1
            # Crashed, timed out or exited badly beyond its subtests.
            if result not in ("OK", "FAIL", "EXPECTEDFAIL", "SKIP"):
                failed += 1
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
            why = skip_reason.search(out + "\n" + (entry.get("stderr") or ""))
            skips.append(f"SKIP {entry.get('name', '')}: {why.group(1) if why else '(no reason given)'}")
        else:
            failed += 1
        # The differential proofs print their counts; show them here.
        for text in out.splitlines():
            if "mismatch" in text and not text.startswith(("ok", "not ok")):
                counts.append(f"{entry.get('name', '')}: {text.strip()}")
for text in counts:
    print(text)
for text in skips:
    print(text)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
