#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# vm-case CASE [TIMEOUT]: run one vm case inside the guest and print its
# output ("[CASE] " before each line) and its result line. /init runs every
# case this way; in the debugging shell (run-vm.py --shell) run it by hand:
# `vm-case 02-fentry`.
script=$1
[ -f "$script" ] || script=/lib/capx-vm/cases/${1%.sh}.sh
[ -f "$script" ] || { echo "vm-case: no case $1 (see /lib/capx-vm/cases)" >&2; exit 2; }
timeout=${2:-180}
name=${script##*/}
name=${name%.sh}
export VM_CASE=$name VM_TMP=/tmp/vm/$name CAPX=/usr/local/bin/capx
rm -rf "$VM_TMP"
mkdir -p "$VM_TMP"
cd "$VM_TMP" || exit 1
started=$(cut -d' ' -f1 /proc/uptime)
# -e: a command that fails unexpectedly fails the case. Artefacts go to the
# console as fd 3 while stdout and stderr go to the log.
timeout -s KILL "$timeout" sh -ec '. /lib/capx-vm/lib.sh; . "$1"' "$name" "$script" \
	3>/dev/console >"$VM_TMP/.log" 2>&1 </dev/null
status=$?
ended=$(cut -d' ' -f1 /proc/uptime)
sed "s/^/[$name] /" "$VM_TMP/.log"
reason=$(cat "$VM_TMP/.reason" 2>/dev/null)
case $status in
0) verdict=ok reason= ;;
77) verdict=skip ;;
137) verdict=fail reason="killed after $timeout s" ;;
*) verdict=fail reason=${reason:-"exit status $status"} ;;
esac
echo "[$name] took $(awk "BEGIN { print $ended - $started }") s"
echo "@@CAPX-VM@@ result $name $verdict $reason"
