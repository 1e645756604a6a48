#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Nothing of capx skb stays in the kernel after it exits, however it exits:
# after SIGINT, after SIGKILL, and after -c ends it, the BPF links,
# programs and maps it held (their ids read from /proc/PID/fdinfo while it
# runs, and checked in `bpftool link/prog/map show` then) are gone. Its
# links are fd-owned, so the kernel detaches them when the last fd closes
# (bpf_link_release() in kernel/bpf/syscall.c), even when no destructor
# ran. After SIGINT the pcap is complete and the summary printed.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd bpftool jq ping ip tcpdump
require_capx
W=$(work_dir)
make_pair skbd

start_in "$NS_PEER" ping -i 0.05 -q "$IP_CAP" >/dev/null
PING=$BG_PID
# Four probes of two hook types (tp_btf, raw_tp).
PROBES=(-f tp:net:netif_receive_skb,tp:net:net_dev_start_xmit -f tp:skb:kfree_skb -f raw_tp:kfree_skb)
NPROBES=4
failures=0


# run_case NAME SIGNAL|count: starts capx, checks what it holds, stops it.
run_case() {
	local name=$1 how=$2 extra=()
	[ "$how" = count ] && extra=(-c 100)
	start_in "$NS_CAP" "$CAPX" skb "${PROBES[@]}" -i "$IF_CAP" --netns "/run/netns/$NS_CAP" -B 256 \
		"${extra[@]}" -w "$W/$name.pcap" icmp 2>"$W/$name.err"
	local pid=$BG_PID
	wait_attached "$pid" "$NPROBES" "$W/$name.err"
	local links progs maps
	links=$(bpf_fd_ids "$pid" link_id)
	progs=$(bpf_fd_ids "$pid" prog_id) # of its program fds and of its links
	maps=$(bpf_fd_ids "$pid" map_id)
	[ "$(grep -c . <<<"$links")" -eq "$NPROBES" ] ||
		not_ok "$name: $(grep -c . <<<"$links") links for $NPROBES probes"
	# What it holds is what bpftool shows, named as capx names them.
	local names
	names=$(bpftool prog show -j | jq -r --argjson ids "[$(echo $progs | tr ' ' ,)]" \
		'.[] | select(.id as $i | $ids | index($i)) | .name' | sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' ')
	if [ "$names" = "capx_raw_tpx1 capx_tp_btfx3 " ]; then
		ok "$name: holds $(echo $links | wc -w) links, programs $names, $(echo $maps | wc -w) maps"
	else
		not_ok "$name: programs held are '$names' (want three capx_tp_btf, one capx_raw_tp)"
	fi
	[ -n "$(comm -12 <(echo "$links") <(bpf_live_ids link))" ] || not_ok "$name: bpftool does not show its links"
	sleep 0.5
	case $how in
	count) ;;
	*) kill -"$how" "$pid" ;;
	esac
	wait_exit "$pid" 20
	case $how in
	KILL) [ "$EXIT_STATUS" -eq 137 ] || not_ok "$name: exit $EXIT_STATUS after SIGKILL" ;;
	*) [ "$EXIT_STATUS" -eq 0 ] || not_ok "$name: exit $EXIT_STATUS: $(cat "$W/$name.err")" ;;
	esac
	bpf_ids_gone link "$links" && ok "$name: no link left" || not_ok "$name: links left: $(comm -12 <(echo "$links") <(bpf_live_ids link) | tr '\n' ' ')"
	bpf_ids_gone prog "$progs" && ok "$name: no program left" || not_ok "$name: programs left: $(comm -12 <(echo "$progs") <(bpf_live_ids prog) | tr '\n' ' ')"
	bpf_ids_gone map "$maps" && ok "$name: no map left" || not_ok "$name: maps left: $(comm -12 <(echo "$maps") <(bpf_live_ids map) | tr '\n' ' ')"
}

capx_before=$(bpftool prog show -j | jq -r '.[] | select(.name | startswith("capx_")) | .id' | sort -un)
run_case sigint INT
if is_valid_pcap "$W/sigint.pcap" && n=$(packet_count "$W/sigint.pcap") && [ "$n" -gt 0 ] &&
	grep -q "^$n packets\? captured" "$W/sigint.err"; then
	ok "sigint: a valid pcap of $n packets, as the summary says"
else
	not_ok "sigint: pcap or summary wrong: $(cat "$W/sigint.err")"
fi
run_case sigkill KILL
run_case count count
n=$(packet_count "$W/count.pcap")
[ "$n" -eq 100 ] && is_valid_pcap "$W/count.pcap" && ok "-c 100: 100 packets" || not_ok "-c 100: $n packets"
kill "$PING"
# Before and after: no capx program more than before (others' captures may
# have ended meanwhile, never more of ours).
capx_after=$(bpftool prog show -j | jq -r '.[] | select(.name | startswith("capx_")) | .id' | sort -un)
extra=$(comm -13 <(echo "$capx_before") <(echo "$capx_after") | grep -c .)
note "capx programs loaded before: $(echo $capx_before | wc -w), after: $(echo $capx_after | wc -w) ($extra new, from other processes)"

[ "$failures" -eq 0 ] || fail "$failures checks failed"
echo "PASS: no link, program or map of capx skb left after SIGINT, SIGKILL and -c" >&2
