# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for capx integration tests (bash). Source it first:
#   . "$(dirname "$0")/lib.sh"
# Gives: skip/fail helpers (exit 77 = meson "skipped"), a private work dir,
# network namespaces with a veth pair that are deleted on exit however the
# test ends, background processes that are killed on exit, and packet
# comparison helpers built on tcpdump -r.
set -u

# --- verdicts ---------------------------------------------------------------

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }

# ok TEXT, not_ok TEXT: one "ok - " / "not ok - " line on stderr per check
# of a test that makes many and reports them all before it ends; not_ok
# counts the miss in $failures, which the test checks last:
#   [ "$failures" -eq 0 ] || fail "$failures checks failed"
failures=0
ok() { echo "ok - $*" >&2; }
not_ok() { echo "not ok - $*" >&2; failures=$((failures + 1)); }

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, AF_PACKET)"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs '$c' (not installed)"
	done
}

require_capx() {
	[ -n "${CAPX:-}" ] && [ -x "$CAPX" ] || fail "\$CAPX is not set to the capx binary"
}

# --- cleanup ----------------------------------------------------------------

LIB_NETNS=()
LIB_PIDS=()
LIB_AT_EXIT=()
LIB_WORK=""

# at_exit COMMAND: run COMMAND (a string, eval'd) when the test exits, after
# its background processes are gone and before namespaces and the work dir
# are. Tests use this rather than their own `trap ... EXIT`, which would
# replace lib_cleanup.
at_exit() {
	LIB_AT_EXIT+=("$1")
}

lib_cleanup() {
	local p n c
	for p in "${LIB_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${LIB_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for c in "${LIB_AT_EXIT[@]}"; do
		eval "$c"
	done
	for n in "${LIB_NETNS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	if [ -n "$LIB_WORK" ] && [ -z "${KEEP_WORK:-}" ]; then
		rm -rf "$LIB_WORK"
	fi
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM HUP

# A private scratch directory, removed on exit (KEEP_WORK=1 keeps it):
# `W=$(work_dir)`. It is made here, when lib.sh is sourced, because
# work_dir runs in the subshell of $(...), where setting LIB_WORK would
# never reach lib_cleanup (the directories used to pile up in /tmp).
LIB_WORK=$(mktemp -d "${TMPDIR:-/tmp}/capx-test.XXXXXX") || fail "mktemp -d failed"
work_dir() {
	echo "$LIB_WORK"
}

# Runs the command "$@" (a program, not a shell function, so that $BG_PID
# is the program itself and signals reach it) in the background; killed at
# exit unless waited for before.
start_bg() {
	"$@" &
	BG_PID=$!
	LIB_PIDS+=("$BG_PID")
}

# start_in NS COMMAND...: start_bg inside a namespace (`ip netns exec`
# execs the command, so the pid stays the command's).
start_in() {
	start_bg ip netns exec "$@"
}

# --- namespaces -------------------------------------------------------------

# make_pair PREFIX: two namespaces joined by a veth pair, with unique names
# (PREFIX and $$) so tests may run next to each other:
#   $NS_CAP  holds $IF_CAP (10.$NET.1.1/24, fd00:$NET::1/64): capx captures here
#   $NS_PEER holds $IF_PEER (10.$NET.1.2/24, fd00:$NET::2/64): the traffic source
# IPv6 noise (DAD, router solicitations) is turned off so captures started
# at different moments see the same packets. Also sets MAC_CAP, MAC_PEER.
make_pair() {
	local prefix=$1
	NET=$(( ($$ % 200) + 20 ))
	NS_CAP="capx-${prefix}-$$-c"
	NS_PEER="capx-${prefix}-$$-p"
	IF_CAP="cap$$"
	IF_PEER="peer$$"
	IP_CAP="10.$NET.1.1"
	IP_PEER="10.$NET.1.2"
	IP6_CAP="fd00:$NET::1"
	IP6_PEER="fd00:$NET::2"
	ip netns add "$NS_CAP" || skip "cannot create network namespaces"
	LIB_NETNS+=("$NS_CAP")
	ip netns add "$NS_PEER" || fail "ip netns add"
	LIB_NETNS+=("$NS_PEER")
	local ns
	for ns in "$NS_CAP" "$NS_PEER"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.default.router_solicitations=0 \
			net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.addr_gen_mode=1 \
			net.ipv6.conf.default.mldv1_unsolicited_report_interval=1 \
			net.ipv6.conf.default.mldv2_unsolicited_report_interval=1 \
			net.ipv4.conf.default.igmpv3_unsolicited_report_interval=1 \
			net.ipv4.conf.default.igmpv2_unsolicited_report_interval=1 >/dev/null
		ip -n "$ns" link set lo up
	done
	ip link add "$IF_CAP" netns "$NS_CAP" type veth peer name "$IF_PEER" netns "$NS_PEER" ||
		skip "cannot create a veth pair"
	ip -n "$NS_CAP" addr add "$IP_CAP/24" dev "$IF_CAP"
	ip -n "$NS_PEER" addr add "$IP_PEER/24" dev "$IF_PEER"
	ip -n "$NS_CAP" addr add "$IP6_CAP/64" dev "$IF_CAP" nodad
	ip -n "$NS_PEER" addr add "$IP6_PEER/64" dev "$IF_PEER" nodad
	ip -n "$NS_CAP" link set "$IF_CAP" up
	ip -n "$NS_PEER" link set "$IF_PEER" up
	MAC_CAP=$(ip netns exec "$NS_CAP" cat "/sys/class/net/$IF_CAP/address")
	MAC_PEER=$(ip netns exec "$NS_PEER" cat "/sys/class/net/$IF_PEER/address")
	# Permanent neighbours: no ARP/ND probe turns up at a random moment
	# (e.g. while captures stop); tests that want ARP send it (arping).
	ip -n "$NS_CAP" neigh add "$IP_PEER" lladdr "$MAC_PEER" dev "$IF_CAP" nud permanent
	ip -n "$NS_CAP" neigh add "$IP6_PEER" lladdr "$MAC_PEER" dev "$IF_CAP" nud permanent
	ip -n "$NS_PEER" neigh add "$IP_CAP" lladdr "$MAC_CAP" dev "$IF_PEER" nud permanent
	ip -n "$NS_PEER" neigh add "$IP6_CAP" lladdr "$MAC_CAP" dev "$IF_PEER" nud permanent
	# Let the link-up chatter pass before anything captures: the MLD
	# reports for the solicited-node groups are repeated (mld_qrv times) at
	# random delays below mldv2_unsolicited_report_interval (set to 1 ms
	# above; mld_ifc_start_work() in net/ipv6/mcast.c), so wait until
	# neither end has sent anything for a second.
	wait_quiet
}

# wait_quiet: until the veth pair's transmit counters stay still for 1 s
# (10 s at most).
wait_quiet() {
	local i last="" now quiet=0
	for i in $(seq 50); do
		now="$(in_cap cat "/sys/class/net/$IF_CAP/statistics/tx_packets") $(in_peer cat "/sys/class/net/$IF_PEER/statistics/tx_packets")"
		if [ "$now" == "$last" ]; then
			quiet=$((quiet + 1))
			[ "$quiet" -ge 5 ] && return 0
		else
			quiet=0
		fi
		last=$now
		sleep 0.2
	done
	fail "the veth pair did not fall quiet: $now packets sent"
}

in_cap() { ip netns exec "$NS_CAP" "$@"; }
in_peer() { ip netns exec "$NS_PEER" "$@"; }

# Number of bound AF_PACKET sockets in a namespace: /proc/net/packet is per
# netns, and its Proto column stays 0 until bind(2) (capx binds after its
# ring is mapped, right before the final filter goes on).
packet_sockets() {
	ip netns exec "$1" cat /proc/net/packet | awk 'NR > 1 && $4 != "0000"' | wc -l
}

# wait_sockets NS N: until N bound packet sockets exist in NS (10 s at
# most), then a little longer so their filters are in place.
wait_sockets() {
	local i
	for i in $(seq 100); do
		[ "$(packet_sockets "$1")" -ge "$2" ] && { sleep 0.3; return 0; }
		sleep 0.1
	done
	fail "only $(packet_sockets "$1") of $2 capture sockets came up in $1"
}

# wait_exit PID SECONDS: waits for a background process; fails on timeout.
# Its exit status is in $EXIT_STATUS.
wait_exit() {
	local pid=$1 limit=$2 i
	for i in $(seq $((limit * 10))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			EXIT_STATUS=$?
			return 0
		fi
		sleep 0.1
	done
	fail "process $pid still running after ${limit}s"
}

# --- traffic ----------------------------------------------------------------

# send_frames NS IFACE < lines: each stdin line is one Ethernet frame in hex,
# sent as is through an AF_PACKET socket (VLAN tags stay in the bytes).
send_frames() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    line = line.strip()
    if line:
        s.send(bytes.fromhex(line))
' "$2"
}

# frame_hex DST_MAC SRC_MAC ETHERTYPE_AND_REST_HEX: "aa:bb:.." MACs to hex.
mac_hex() { echo "${1//:/}"; }

# --- comparing captures ------------------------------------------------------

# packet_lines FILE [EXPR...]: one line of hex per packet (all bytes, as
# tcpdump -r reads them), sorted: a multiset that ignores timing and order.
packet_lines() {
	local file=$1
	shift
	tcpdump -r "$file" -nn -xx -s 0 "$@" 2>/dev/null | awk '
		/^[^ \t]/ { if (h != "") print h; h = ""; next }
		{ $1 = ""; gsub(/[ \t]/, ""); h = h $0 }
		END { if (h != "") print h }' | sort
}

# packet_count FILE [EXPR...]
packet_count() {
	local file=$1
	shift
	tcpdump -r "$file" -nn "$@" 2>/dev/null | wc -l
}

# is_valid_pcap FILE: tcpdump reads it to the end without complaint (its
# note that SLL2 interface indexes name interfaces of the machine reading
# the file is not a complaint).
is_valid_pcap() {
	local err
	err=$(tcpdump -r "$1" -nn 2>&1 >/dev/null | grep -v -e '^reading from file' \
		-e '^Warning: interface names might be incorrect')
	[ -z "$err" ] || { echo "$1: $err" >&2; return 1; }
}

# keeps_what_tcpdump_keeps FULL CAPTURED LABEL EXPR...: CAPTURED (capx's
# capture with EXPR) is a readable pcap with exactly the packets
# `tcpdump -r FULL EXPR` keeps, and they are not none (a filter that the
# traffic never exercises proves nothing). Prints one ok / not ok line.
keeps_what_tcpdump_keeps() {
	local full=$1 captured=$2 label=$3 expected got n
	shift 3
	is_valid_pcap "$captured" || return 1
	expected=$(packet_lines "$full" "$@")
	got=$(packet_lines "$captured")
	n=$(printf '%s' "$expected" | grep -c .)
	if [ "$n" -eq 0 ]; then
		echo "not ok - $label: the traffic has no matching packet (test gap)" >&2
		return 1
	elif [ "$expected" != "$got" ]; then
		echo "not ok - $label: tcpdump -r keeps $n, capx wrote $(printf '%s' "$got" | grep -c .)" >&2
		diff <(echo "$expected") <(echo "$got") | head -6 >&2
		return 1
	fi
	echo "ok - $label ($n packets)" >&2
}

# --- BPF captures (capx skb) -------------------------------------------------

# bpf_links PID: how many BPF links the process holds (fds whose
# /proc/PID/fdinfo has a link_type line: bpf_link_show_fdinfo() in
# kernel/bpf/syscall.c).
bpf_links() {
	grep -l '^link_type:' /proc/"$1"/fdinfo/* 2>/dev/null | wc -l
}

# wait_attached PID N [ERRFILE]: until the process holds N BPF links (30 s
# at most), then a moment more; fails, showing ERRFILE, if it exits first.
wait_attached() {
	local pid=$1 n=$2 err=${3:-} i
	for i in $(seq 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			fail "process $pid exited before attaching${err:+: $(cat "$err")}"
		fi
		[ "$(bpf_links "$pid")" -ge "$n" ] && { sleep 0.2; return 0; }
		sleep 0.1
	done
	fail "process $pid holds $(bpf_links "$pid") of $n BPF links after 30 s"
}

# pcap_records FILE [EXPR...]: the packets `tcpdump -r FILE EXPR` keeps, one
# line each, "WIRE_LEN CAP_LEN HEX", sorted (pcap or pcapng in; tcpdump
# filters and writes pcap, awk only splits its records).
pcap_records() {
	local file=$1
	shift
	tcpdump -r "$file" -w - "$@" 2>/dev/null | od -An -v -tx1 | awk '
		function u32(o,   s, i, v) {
			s = little ? b[o + 3] b[o + 2] b[o + 1] b[o] : b[o] b[o + 1] b[o + 2] b[o + 3]
			v = 0
			for (i = 1; i <= 8; i++)
				v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v
		}
		{ for (i = 1; i <= NF; i++) b[n++] = $i }
		END {
			little = b[0] == "d4" || b[0] == "4d"
			for (off = 24; off + 16 <= n; off += 16 + incl) {
				incl = u32(off + 8)
				h = ""
				for (j = 0; j < incl; j++)
					h = h b[off + 16 + j]
				print u32(off + 12), incl, h
			}
		}' | sort
}

# match_records EXPECTED GOT: both files of pcap_records lines. Every GOT
# record must pair with its own EXPECTED record: equal when it is whole
# (CAP_LEN == WIRE_LEN), else the same WIRE_LEN and its bytes a prefix of
# the expected ones (a capture that could not read the whole packet); and
# no EXPECTED record may be left over. Prints "EXACT PREFIXES" on success,
# the differences on stderr otherwise.
match_records() {
	# The usual case, without starting python: the same records.
	if cmp -s "$1" "$2" && awk '$1 != $2 { exit 1 }' "$2"; then
		echo "$(grep -c . "$2") 0"
		return 0
	fi
	python3 - "$1" "$2" <<'PY'
import sys
from collections import Counter
def load(path):
    with open(path) as f:
        return [tuple(l.split()) for l in f if l.strip()]
expected, got = load(sys.argv[1]), load(sys.argv[2])
left = Counter(expected)
exact, partial, bad = 0, [], []
for r in got:
    if r[0] == r[1] and left[r] > 0:
        left[r] -= 1
        exact += 1
    elif r[0] == r[1]:
        bad.append(r)
    else:
        partial.append(r)
for r in sorted(partial, key=lambda r: -int(r[1])):
    for e in sorted(left.elements()):
        if e[0] == r[0] and e[2].startswith(r[2]):
            left[e] -= 1
            break
    else:
        bad.append(r)
rest = list(left.elements())
if bad or rest:
    for r in bad[:4]:
        print("  capx only: %s %s %s" % (r[0], r[1], r[2][:120]), file=sys.stderr)
    for r in rest[:4]:
        print("  tcpdump only: %s %s %s" % (r[0], r[1], r[2][:120]), file=sys.stderr)
    print("  (%d extra in capx, %d missing)" % (len(bad), len(rest)), file=sys.stderr)
    sys.exit(1)
print(exact, len(partial))
PY
}

# set_sg NS IFACE on|off: scatter-gather of a device (ETHTOOL_SSG through
# SIOCETHTOOL, include/uapi/linux/ethtool.h; no ethtool binary needed). Off
# on a sender, the kernel linearizes every packet before it leaves
# (skb_needs_linearize() in net/core/dev.c), TCP data included.
set_sg() {
	ip netns exec "$1" python3 - "$2" "$3" <<'PY'
import array, fcntl, socket, struct, sys
ETHTOOL_SSG, SIOCETHTOOL = 0x19, 0x8946
value = array.array("B", struct.pack("II", ETHTOOL_SSG, 1 if sys.argv[2] == "on" else 0))
ifr = struct.pack("16sP", sys.argv[1].encode(), value.buffer_info()[0])
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), SIOCETHTOOL, ifr)
PY
}

# vlan_push_egress NS IFACE VID PORT: from now on, UDP/IPv4 packets to PORT
# leaving IFACE carry 802.1Q tag VID in skb->vlan_tci, not in their bytes,
# as a VLAN device on an offloading NIC would hand them over (tc clsact
# egress, a BPF classifier calling bpf_skb_vlan_push(), which puts the tag
# in metadata: skb_vlan_push() in net/core/skbuff.c). Needs clang; this
# host has neither the 8021q module nor tc's vlan action.
vlan_push_egress() {
	local ns=$1 dev=$2 vid=$3 port=$4 obj rc
	obj=$(mktemp "${TMPDIR:-/tmp}/capx-vlan-push.XXXXXX") || return 1
	clang -O2 -target bpf -DVID="$vid" -DPORT="$port" -I/usr/include/"$(uname -m)"-linux-gnu \
		-x c -c -o "$obj" - <<'C' || { rm -f "$obj"; return 1; }
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	__u8 proto;
	__be16 port;
	if (skb->protocol != bpf_htons(ETH_P_IP) || skb->vlan_present)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + 9, &proto, 1) || proto != 17)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + 20 + 2, &port, 2) || port != bpf_htons(PORT))
		return TC_ACT_OK;
	bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), VID);
	return TC_ACT_OK;
}
char LICENSE[] SEC("license") = "GPL";
C
	tc -n "$ns" qdisc add dev "$dev" clsact 2>/dev/null
	tc -n "$ns" filter add dev "$dev" egress bpf da obj "$obj" sec tc
	rc=$?
	rm -f "$obj"
	return $rc
}

# --- DPDK (capx mbuf) --------------------------------------------------------

# require_mbuf_app: $MBUF_APP is tests/progs/mbuf_app, built only where
# libdpdk-dev was found when the build was configured.
require_mbuf_app() {
	MBUF_APP=${CAPX_MBUF_APP:-${CAPX_BUILD_ROOT:-}/tests/progs/mbuf_app}
	[ -x "$MBUF_APP" ] || skip "no mbuf_app at '$MBUF_APP' (libdpdk-dev was not found at configure time)"
}

# new_dpdk_prefix NAME: sets DPDK_PREFIX to a unique EAL --file-prefix; its
# runtime directory (/var/run/dpdk/PREFIX: eal_create_runtime_dir() in
# lib/eal/linux/eal.c; the EAL never removes it) is removed at exit.
new_dpdk_prefix() {
	DPDK_PREFIX="capx-$1-$$-${RANDOM}"
	at_exit "rm -rf '/var/run/dpdk/$DPDK_PREFIX' '${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$DPDK_PREFIX'"
}

# wait_line FILE REGEX SECONDS: until a line of FILE matches the extended
# regular expression; returns 1 on timeout.
wait_line() {
	local file=$1 re=$2 limit=$3 i
	for i in $(seq $((limit * 10))); do
		grep -qE -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_mbuf_app OUT ARGS...: mbuf_app ARGS in the background (stdout in
# OUT, stderr in OUT.err, an EAL prefix of its own), once it printed
# "ready"; its pid in APP_PID.
start_mbuf_app() {
	local out=$1
	shift
	new_dpdk_prefix app
	start_bg "$MBUF_APP" --file-prefix "$DPDK_PREFIX" "$@" >"$out" 2>"$out.err"
	APP_PID=$BG_PID
	wait_line "$out" '^ready$' 60 ||
		fail "mbuf_app did not come up: $(cat "$out" "$out.err" | tail -5)"
}

# count_records FILE [EXPR...]: how many packets of FILE the expression
# keeps (tcpdump --count; packet_count's line count is off for packets that
# tcpdump prints on more than one line, e.g. unknown EtherTypes in hex).
count_records() {
	local file=$1
	shift
	tcpdump -r "$file" --count "$@" 2>/dev/null | awk '/ packets?$/ { print $1 }'
}

# app_count OUT KEY: a count mbuf_app printed at exit ("KEY=N").
app_count() {
	sed -n "s/^$2=//p" "$1" | tail -1
}

# wait_links_settled PID [ERRFILE]: until the process holds at least one
# BPF link and the number has not changed for a second (120 s at most: many
# captures loading at once on a busy machine wait for the verifier): capx
# mbuf attaches a link per uprobe and per uretprobe, how many depends on
# the mode. Fails, showing ERRFILE, if the process exits first.
wait_links_settled() {
	local pid=$1 err=${2:-} i n last=-1 same=0
	for i in $(seq 1200); do
		kill -0 "$pid" 2>/dev/null ||
			fail "process $pid exited before attaching${err:+: $(cat "$err")}"
		n=$(bpf_links "$pid")
		if [ "$n" -ge 1 ] && [ "$n" -eq "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 10 ] && return 0
		else
			same=0
		fi
		last=$n
		sleep 0.1
	done
	fail "process $pid holds $(bpf_links "$pid") BPF links, still changing or none, after 120 s"
}

# mbuf_summary ERRFILE PROBE FIELD: the number after FIELD ("hits", "empty
# bursts", "mbufs", "filtered out", "captured", "lost", "malformed") on
# capx mbuf's summary line of the probe whose name contains PROBE ("NAME:
# hits H, empty bursts E, mbufs M, filtered out F, captured C, lost L,
# malformed X"); empty when there is no such line. An empty PROBE takes the
# first probe's line.
mbuf_summary() {
	awk -v probe="$2" -v field="$3" '
		(probe == "" || index($0, probe)) && index($0, ": hits ") {
			s = substr($0, index($0, ": hits ") + 2)
			n = split(s, parts, ", ")
			for (i = 1; i <= n; i++) {
				v = parts[i]
				sub(/ [0-9]+$/, "", v)
				if (v == field) {
					sub(/^.* /, "", parts[i])
					print parts[i]
					exit
				}
			}
		}' "$1"
}

# elf_file_offset FILE SYMBOL: the file offset of function SYMBOL of an ELF
# file, in hex (0x...), through the PT_LOAD segment holding its address:
# what capx mbuf's LIB:0xOFFSET takes.
elf_file_offset() {
	python3 - "$@" <<'PY'
import subprocess, sys
path, sym = sys.argv[1], sys.argv[2]
value = None
for args in (["nm", path], ["nm", "-D", path]):
    out = subprocess.run(args, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "Tt" and f[2].split("@")[0] == sym:
            value = int(f[0], 16)
            break
    if value is not None:
        break
if value is None:
    sys.exit("elf_file_offset: no function %s in %s" % (sym, path))
for line in subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if f and f[0] == "LOAD":
        off, vaddr, filesz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
        if vaddr <= value < vaddr + filesz:
            print(hex(off + value - vaddr))
            sys.exit(0)
sys.exit("elf_file_offset: %s is in no PT_LOAD of %s" % (sym, path))
PY
}

# code_byte PID FILE SYMBOL: "MEMORY FILE": the first byte of function
# SYMBOL of the ELF FILE (an executable or a shared library the process
# maps), in hex, as the process's memory holds it and as the file does. A
# uprobe shows as 0xcc (int3) in the process's copy of the page
# (install_breakpoint() in kernel/events/uprobes.c); once it is removed the
# original byte is back (remove_breakpoint()).
code_byte() {
	local offset
	offset=$(elf_file_offset "$(realpath "$2")" "$3") || return 1
	python3 - "$1" "$2" "$offset" <<'PY'
import os, sys
pid, path, offset = sys.argv[1], os.path.realpath(sys.argv[2]), int(sys.argv[3], 16)
with open(path, "rb") as f:
    f.seek(offset)
    file_byte = f.read(1)[0]
addr = None
with open("/proc/%s/maps" % pid) as maps:
    for line in maps:
        f = line.split()
        if len(f) >= 6 and os.path.realpath(f[5]) == path:
            start, end = (int(x, 16) for x in f[0].split("-"))
            moff = int(f[2], 16)
            if moff <= offset < moff + end - start:
                addr = start + offset - moff
if addr is None:
    sys.exit("code_byte: %s is not mapped by process %s" % (path, pid))
with open("/proc/%s/mem" % pid, "rb") as mem:
    mem.seek(addr)
    print("%02x %02x" % (mem.read(1)[0], file_byte))
PY
}

# expect_error CODE PATTERN -- COMMAND...: the error check of the *_errors
# tests (bad input never crashes capx). COMMAND runs with stdin closed and
# stdout dropped; it must exit CODE and say exactly one `capx: ` line, at
# most one `hint: ` line and nothing else, PATTERN (grep) among them. A miss
# is reported and counted in $failures (not_ok).
expect_error() {
	local code=$1 pattern=$2
	shift 3
	local out rc
	out=$("$@" 2>&1 >/dev/null </dev/null)
	rc=$?
	local lines capx_lines hint_lines
	lines=$(printf '%s\n' "$out" | grep -c .)
	capx_lines=$(printf '%s\n' "$out" | grep -c '^capx: ')
	hint_lines=$(printf '%s\n' "$out" | grep -c '^hint: ')
	if [ "$rc" -ne "$code" ] || [ "$capx_lines" -ne 1 ] || [ "$hint_lines" -gt 1 ] ||
		[ "$lines" -ne $((capx_lines + hint_lines)) ] || ! printf '%s' "$out" | grep -q -- "$pattern"; then
		not_ok "$*: exit $rc (want $code, output with '$pattern'), output:"
		printf '%s\n' "$out" | sed 's/^/    /' >&2
	else
		ok "$*: $(printf '%s' "$out" | tr '\n' ' ')"
	fi
}

# BPF objects a process holds and whether they are freed (the *_teardown
# tests: nothing of capx stays in the kernel after it ends).
# bpf_fd_ids PID KEY: the values of KEY (link_id, prog_id, map_id) in the
# process's fdinfo, one per line.
bpf_fd_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | sed -n "s/^$2:[[:space:]]*//p" | sort -un
}
# bpf_live_ids KIND: ids of every BPF object of that kind (link, prog, map)
# now.
bpf_live_ids() {
	bpftool "$1" show -j 2>/dev/null | jq -r '.[].id' | sort -un
}
# bpf_ids_gone KIND IDS: none of IDS is alive any more (5 s at most:
# programs and maps are freed after an RCU grace period, in a work queue).
bpf_ids_gone() {
	local kind=$1 want=$2 i
	for i in $(seq 50); do
		[ -z "$(comm -12 <(echo "$want") <(bpf_live_ids "$kind"))" ] && return 0
		sleep 0.1
	done
	return 1
}
