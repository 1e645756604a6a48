#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# capx xdp on a veth pair, with XDP programs as users load them
# (tests/progs/xdp/): capx's own pass-through program where none runs, the
# user's program wrapped (attached by netlink or held by a bpf_link), a
# program that rewrites and bounces packets (XDP_TX), xdpcap's hook, and
# after every way of ending (SIGINT, SIGKILL) the interface runs what it
# ran before and nothing of capx stays loaded.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd bpftool jq ip tcpdump tshark python3
require_capx
[ -x "${CAPX_XDP_LOAD:-}" ] && [ -f "${CAPX_XDP_PROGS:-}" ] || skip "CAPX_XDP_LOAD / CAPX_XDP_PROGS not set (run through meson)"
W=$(work_dir)
make_pair xdp
failures=0
LOAD=("$CAPX_XDP_LOAD" "$CAPX_XDP_PROGS")

# The id of the XDP program on the capture side's veth, empty for none.
xdp_id() { ip -j -n "$NS_CAP" link show "$IF_CAP" | jq -r '.[0].xdp.prog.id // empty'; }

# wait_xdp_change FROM: until the interface's program is no longer FROM (5 s).
wait_xdp_change() {
	local i
	for i in $(seq 50); do
		[ "$(xdp_id)" != "$1" ] && { sleep 0.2; return 0; }
		sleep 0.1
	done
	fail "the XDP program of $IF_CAP stayed '$1'"
}

# udp_to PORT...: one datagram from the peer to each port.
udp_to() {
	in_peer python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in sys.argv[2:]:
    s.sendto(b"capx-xdp-test", (sys.argv[1], int(p)))
' "$IP_CAP" "$@"
}

# fields FILE FIELD...: tshark's values, '|'-separated, one line per packet.
fields() {
	local f=$1 args=()
	shift
	for x in "$@"; do args+=(-e "$x"); done
	tshark -r "$f" -T fields -E separator='|' "${args[@]}" 2>/dev/null
}

# capture NAME ARGS...: capx xdp in the capture namespace until stop_capture.
capture() {
	local name=$1
	shift
	CAP_BEFORE=$(xdp_id)
	start_in "$NS_CAP" "$CAPX" xdp -i "$IF_CAP" -w "$W/$name.pcapng" "$@" 2>"$W/$name.err"
	CAP_PID=$BG_PID
	wait_xdp_change "$CAP_BEFORE"
	# capx's own programs: what it holds but the one it wraps.
	CAP_IDS=$(bpf_fd_ids "$CAP_PID" prog_id | grep -vx "${CAP_BEFORE:-none}")
}

# stop_capture SIGNAL: stops capx; the interface must run CAP_BEFORE again
# within a second and capx's programs must be gone.
stop_capture() {
	kill -"$1" "$CAP_PID"
	local i back=no
	for i in $(seq 10); do
		[ "$(xdp_id)" == "$CAP_BEFORE" ] && { back=yes; break; }
		sleep 0.1
	done
	wait "$CAP_PID" 2>/dev/null
	if [ $back = yes ]; then ok "SIG$1: $IF_CAP runs '${CAP_BEFORE:-nothing}' again within 1 s"
	else not_ok "SIG$1: $IF_CAP runs '$(xdp_id)', not '${CAP_BEFORE:-nothing}'"; fi
	if bpf_ids_gone prog "$CAP_IDS"; then ok "SIG$1: capx's programs are gone"
	else not_ok "SIG$1: programs $(echo $CAP_IDS) still loaded"; fi
}

# --- capx's own program: only ICMP, all PASS ---------------------------------
capture own icmp
in_peer ping -c 3 -i 0.1 -q "$IP_CAP" >/dev/null
udp_to 9 10
sleep 0.3
stop_capture INT
got=$(fields "$W/own.pcapng" icmp.type frame.verdict.ebpf_xdp frame.interface_name | sort | uniq -c | tr -s ' ')
want=" 3 8|2|$IF_CAP:capx@entry"
[ "$got" == "$want" ] && ok "own: 3 echo requests, verdict pass" || not_ok "own: got '$got', want '$want'"
grep -q "runs no XDP program: capx attached its own" "$W/own.err" && ok "own: said on stderr" ||
	not_ok "own: stderr: $(cat "$W/own.err")"

# --- wrap a program attached by netlink: drop odd UDP ports ------------------
orig=$(in_cap "${LOAD[@]}" xdp_drop_odd "$IF_CAP") || fail "cannot load xdp_drop_odd"
capture wrap --capture entry,exit udp
udp_to 6000 6001 6002 6003 6004 6005
sleep 0.3
stop_capture INT
got=$(fields "$W/wrap.pcapng" frame.interface_name udp.dstport frame.verdict.ebpf_xdp | tr '\n' ' ')
want=""
for p in 6000 6001 6002 6003 6004 6005; do
	v=$(( p % 2 ? 1 : 2 ))
	want+="$IF_CAP:xdp_drop_odd@entry|$p|$v $IF_CAP:xdp_drop_odd@exit|$p|$v "
done
[ "$got" == "$want" ] && ok "wrap: entry and exit of each datagram, odd ports DROP, even PASS" ||
	not_ok "wrap: got '$got', want '$want'"
ids=$(fields "$W/wrap.pcapng" frame.packet_id | uniq -c | awk '$1 != 2' | wc -l)
nids=$(fields "$W/wrap.pcapng" frame.packet_id | sort -u | wc -l)
[ "$ids" = 0 ] && [ "$nids" = 6 ] && ok "wrap: entry and exit share a packet id, 6 ids" ||
	not_ok "wrap: packet ids: $(fields "$W/wrap.pcapng" frame.packet_id | tr '\n' ' ')"

capture drops --action drop udp
udp_to 6000 6001 6002 6003
sleep 0.3
stop_capture TERM
got=$(fields "$W/drops.pcapng" udp.dstport frame.verdict.ebpf_xdp | tr '\n' ' ')
[ "$got" == "6001|1 6003|1 " ] && ok "--action drop: only the dropped datagrams" || not_ok "--action drop: got '$got'"
grep -q "@exit: hits 4, filtered out 2, captured 2, lost (ring full) 0" "$W/drops.err" &&
	ok "--action drop: summary counts hits, filtered out, captured" || not_ok "--action drop: $(cat "$W/drops.err")"

capture killed udp
stop_capture KILL
in_cap "$CAPX_XDP_LOAD" --detach "$IF_CAP" || fail "cannot detach"

# --- a program that rewrites and bounces: MAC swap + XDP_TX ------------------
in_cap "${LOAD[@]}" xdp_swap_tx "$IF_CAP" >/dev/null || fail "cannot load xdp_swap_tx"
capture swap --capture entry,exit udp port 7
udp_to 7
sleep 0.3
stop_capture INT
got=$(fields "$W/swap.pcapng" frame.interface_name eth.dst frame.verdict.ebpf_xdp frame.packet_id | cut -d'|' -f1-3 | tr '\n' ' ')
want="$IF_CAP:xdp_swap_tx@entry|$MAC_CAP|3 $IF_CAP:xdp_swap_tx@exit|$MAC_PEER|3 "
[ "$got" == "$want" ] && ok "swap: entry has the original addresses, exit the swapped ones, verdict tx" ||
	not_ok "swap: got '$got', want '$want'"
[ "$(fields "$W/swap.pcapng" frame.packet_id | sort -u | wc -l)" = 1 ] && ok "swap: one packet id" ||
	not_ok "swap: ids $(fields "$W/swap.pcapng" frame.packet_id | tr '\n' ' ')"
in_cap "$CAPX_XDP_LOAD" --detach "$IF_CAP"

# --- a program held by a bpf_link ---------------------------------------------
# A bpffs of the test's own: `ip netns exec` mounts a fresh /sys, without
# the machine's /sys/fs/bpf.
PIN=$W/bpffs
mkdir -p "$PIN"
mount -t bpf bpf "$PIN" || skip "cannot mount a bpffs"
at_exit "umount '$PIN'"
in_cap "${LOAD[@]}" xdp_drop_odd "$IF_CAP" --link "$PIN/link" >/dev/null || fail "cannot attach through a link"
capture link udp
grep -q "bpf_link" "$W/link.err" && ok "link: capx says it updates the link" || not_ok "link: $(cat "$W/link.err")"
udp_to 6001 6002
sleep 0.3
stop_capture INT
[ "$(fields "$W/link.pcapng" udp.dstport frame.verdict.ebpf_xdp | tr '\n' ' ')" == "6001|1 6002|2 " ] &&
	ok "link: verdicts through the link" || not_ok "link: $(fields "$W/link.pcapng" udp.dstport frame.verdict.ebpf_xdp)"
capture link-killed udp
stop_capture KILL
rm "$PIN/link"
wait_xdp_change "$CAP_BEFORE"

# --- xdpcap's hook -------------------------------------------------------------
in_cap "${LOAD[@]}" xdp_hooked "$IF_CAP" --pin-maps "$PIN" >/dev/null || fail "cannot load xdp_hooked"
start_in "$NS_CAP" "$CAPX" xdp --hook "$PIN/xdpcap_hook" -w "$W/hook.pcapng" udp 2>"$W/hook.err"
HOOK_PID=$BG_PID
for i in $(seq 50); do
	[ "$(bpftool map dump pinned "$PIN/xdpcap_hook" -j 2>/dev/null | jq length)" = 5 ] && break
	sleep 0.1
done
udp_to 6000 6001
sleep 0.3
kill -INT $HOOK_PID
wait $HOOK_PID
got=$(fields "$W/hook.pcapng" udp.dstport frame.verdict.ebpf_xdp | tr '\n' ' ')
[ "$got" == "6000|2 6001|1 " ] && ok "hook: each datagram with its action" || not_ok "hook: got '$got'; $(cat "$W/hook.err")"
[ "$(bpftool map dump pinned "$PIN/xdpcap_hook" -j | jq length)" = 0 ] && ok "hook: slots empty after exit" ||
	not_ok "hook: $(bpftool map dump pinned "$PIN/xdpcap_hook")"

# --- bad input -------------------------------------------------------------------
expect_error 1 "no such interface" -- in_cap "$CAPX" xdp -i nosuchif0 -w /dev/null
expect_error 1 "no BPF program with id" -- "$CAPX" xdp --prog 4000000000 -w /dev/null
expect_error 1 "no BPF map pinned" -- "$CAPX" xdp --hook /sys/fs/bpf/no-such-hook -w /dev/null
bss=xdp_user_data # the object's .data: an ARRAY
expect_error 2 "is no xdpcap hook" -- "$CAPX" xdp --hook "$PIN/$bss" -w /dev/null
expect_error 2 "capx's own program cannot go there" -- in_cap "$CAPX" xdp -i "$IF_CAP" --method own -w /dev/null
expect_error 2 "unknown capture side" -- "$CAPX" xdp -i lo --capture middle -w /dev/null
expect_error 2 "unknown XDP action" -- "$CAPX" xdp -i lo --action dorp -w /dev/null
expect_error 2 "unknown method" -- "$CAPX" xdp -i lo --method magic -w /dev/null
expect_error 2 "a hook sees packets at exit only" -- "$CAPX" xdp --hook "$PIN/xdpcap_hook" --capture entry -w /dev/null
[ "$(xdp_id)" != "" ] && ok "bad input: the interface's program untouched" || not_ok "bad input: program gone"
in_cap "$CAPX_XDP_LOAD" --detach "$IF_CAP"

[ "$failures" -eq 0 ] || fail "$failures checks failed"
