#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the vm suite's initramfs (built by run-vm.py): mount the kernel's
# file systems, load the modules the cases asked for, run every case in
# /lib/capx-vm/cases, print one result line each on the console, power off.
#
# Console protocol (read by run-vm.py; one line each):
#   @@CAPX-VM@@ booted RELEASE
#   @@CAPX-VM@@ result CASE ok|fail|skip REASON
#   @@CAPX-VM@@ file-begin CASE NAME SIZE SHA256 / b64 DATA / file-end
#   @@CAPX-VM@@ done
# Everything else is for humans; a case's output is printed after it ends,
# each line prefixed with "[CASE] " (see vm-case.sh).
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/bin HOME=/root TERM=linux

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf
ip link set lo up

echo "@@CAPX-VM@@ booted $(uname -r)"

while read -r module; do
	insmod "$module" || echo "init: insmod $module failed"
done </etc/capx-vm/modules

if [ "$(cat /etc/capx-vm/mode)" = shell ]; then
	echo "capx vm shell: cases are in /lib/capx-vm/cases (run one with vm-case NAME); exit powers off"
	setsid cttyhack sh -l
	poweroff -f
fi

case_timeout=180
for word in $(cat /proc/cmdline); do
	case "$word" in capx_vm.case_timeout=*) case_timeout=${word#*=} ;; esac
done

for script in /lib/capx-vm/cases/*.sh; do
	vm-case "$script" "$case_timeout"
	# Whatever the case left running (a capture it forgot, a hung ping)
	# must not leak into the next one: init is the only survivor.
	kill -9 -1 2>/dev/null
done

echo "@@CAPX-VM@@ done"
poweroff -f
