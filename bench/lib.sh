# SPDX-License-Identifier: GPL-2.0-only
# bench/lib.sh: the steps every bench/*/run.sh takes the same way. Sourced
# (not run) after the script has parsed its options; set -euo pipefail is the
# caller's.

# "bench/ring" etc., for messages.
bench_name="bench/$(basename "$(cd "$(dirname "$0")" && pwd)")"

die() { echo "$bench_name: $*" >&2; exit 1; }

# bench_require_root WHY: WHY names what needs root (namespaces, BPF, ...).
bench_require_root() {
	[ "$(id -u)" = 0 ] || die "needs root ($1)"
}

# bench_require_commands CMD...: each must be on PATH.
bench_require_commands() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || die "$c is not installed"
	done
}

# bench_scratch NAME: sets `scratch` to a new directory on tmpfs (capture
# files go there so that disk speed limits no tool) and `logs` to $out when
# the caller was given one (kept), else to the scratch directory (removed
# by the caller's trap).
bench_scratch() {
	scratch=$(mktemp -d "/dev/shm/$1.XXXXXX")
	if [ -n "${out:-}" ]; then
		mkdir -p "$out"
		logs=$out
	else
		logs=$scratch
	fi
}

# bench_veth_pair NS TX RX: a network namespace NS holding a veth pair TX
# (where the generator sends) and RX (where captures look), both up, with
# IPv6 off so that nothing but the generator's frames crosses the link
# (router and neighbour solicitations would be extra frames in every
# capture). Defines nsx (run in NS) and sets rx_index. The caller's trap
# deletes NS.
bench_veth_pair() {
	local ns=$1 tx=$2 rx=$3
	ip netns add "$ns"
	eval "nsx() { ip netns exec '$ns' \"\$@\"; }"
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link add "$tx" type veth peer name "$rx"
	ip -n "$ns" link set "$tx" up
	ip -n "$ns" link set "$rx" up
	rx_index=$(nsx cat /sys/class/net/"$rx"/ifindex)
}

# bench_running_packet_sockets IFINDEX: how many packet sockets in the
# namespace are bound to IFINDEX and running (columns Iface and R of
# /proc/net/packet, packet_seq_show(); R is 0 while a ring is being set up,
# packet_set_ring() unhooks the socket), i.e. how many captures listen.
bench_running_packet_sockets() {
	nsx awk -v idx="$1" 'NR > 1 && $5 == idx && $6 == 1 { n++ } END { print n + 0 }' /proc/net/packet
}

# cpu_ns PID: on-CPU time of every thread of a process, in ns (the first
# field of /proc/PID/task/*/schedstat: ns precision, where /proc/PID/stat
# counts 10 ms ticks).
cpu_ns() {
	local total=0 f v
	for f in /proc/"$1"/task/*/schedstat; do
		read -r v _ < "$f" 2>/dev/null || continue
		total=$((total + v))
	done
	echo $total
}
