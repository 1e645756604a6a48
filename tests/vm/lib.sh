# SPDX-License-Identifier: GPL-2.0-only
# Helpers for vm cases; /init sources this before each case (busybox sh).
# A case runs with `sh -e` in its own directory $VM_TMP, with $CAPX naming
# capx and $VM_CASE its own name. Exit 0 passes, vm_skip skips, anything
# else fails. Header lines the runner reads on the host:
#   # vm-programs: NAME...   programs to copy in (build dir first, then PATH)
#   # vm-modules: NAME...    kernel modules to load (dependencies follow)
# A case NAME.sh may have a host half NAME.host.sh, run after the guest
# powered off with $VM_ARTEFACTS holding the files it exported.

# Debian's static busybox runs its own applet before looking at PATH
# (FEATURE_SH_STANDALONE), so `ip` would be busybox's even with iproute2 in
# /usr/local/bin. A function wins over an applet: wrap each real program
# that has an applet's name.
for vm_program in /usr/local/bin/*; do
	vm_name=${vm_program##*/}
	case $vm_name in *[!a-z0-9_]*) continue ;; esac
	busybox --list | grep -qx "$vm_name" && eval "$vm_name() { $vm_program \"\$@\"; }"
done
unset vm_program vm_name

vm_skip()
{
	echo "$*" >"$VM_TMP/.reason"
	echo "SKIP: $*"
	exit 77
}

vm_fail()
{
	echo "$*" >"$VM_TMP/.reason"
	echo "FAIL: $*"
	exit 1
}

# vm_expect_eq ACTUAL EXPECTED WHAT
vm_expect_eq()
{
	[ "$1" = "$2" ] || vm_fail "$3: got '$1', expected '$2'"
	echo "$3: $1"
}

# vm_expect_at_least ACTUAL MINIMUM WHAT: for traffic a slow TCG guest may
# retransmit (busybox nslookup resends its query after a timeout, nc its
# SYN), where only a lower bound is known; what capx must match is checked
# packet by packet against tcpdump's capture anyway.
vm_expect_at_least()
{
	[ "$1" -ge "$2" ] 2>/dev/null || vm_fail "$3: got '$1', expected at least $2"
	echo "$3: $1"
}

# vm_export FILE [NAME]: send FILE to the host over the console, in base64
# with its size and sha256 (the runner drops it if either differs); the
# host half finds it as $VM_ARTEFACTS/NAME.
vm_export()
{
	file=$1
	name=${2:-${1##*/}}
	[ -f "$file" ] || vm_fail "vm_export: no file $file"
	size=$(wc -c <"$file")
	sum=$(sha256sum "$file" | cut -d' ' -f1)
	{
		echo "@@CAPX-VM@@ file-begin $VM_CASE $name $size $sum"
		base64 "$file" | sed 's/^/@@CAPX-VM@@ b64 /'
		echo "@@CAPX-VM@@ file-end"
	} >&3
	echo "exported $name ($size bytes)"
}

# vm_wait_for FILE SECONDS: wait until FILE exists (e.g. a capture's ready
# marker), failing the case after SECONDS.
vm_wait_for()
{
	n=0
	while [ ! -e "$1" ]; do
		n=$((n + 1))
		[ "$n" -le "$(($2 * 10))" ] || vm_fail "no $1 after $2 s"
		usleep 100000
	done
}

# vm_running_packet_sockets: how many AF_PACKET sockets are bound and
# receiving (/proc/net/packet: sk RefCnt Type Proto Iface R ...; R is set by
# bind and cleared while a ring is being set up, packet_set_ring()). A socket
# that merely exists may still be allocating its ring: capx ring creates its
# socket, sets up the ring, then binds and swaps its drop-all filter for the
# real one, so counting existing sockets let traffic start too early under TCG.
vm_running_packet_sockets()
{
	awk 'NR > 1 && $6 == 1 { n++ } END { print n + 0 }' /proc/net/packet
}

# vm_wait_packet_sockets N SECONDS: wait until N AF_PACKET sockets are bound
# and running (a capture is listening), then a moment more for their filters.
vm_wait_packet_sockets()
{
	n=0
	until [ "$(vm_running_packet_sockets)" -ge "$1" ]; do
		n=$((n + 1))
		[ "$n" -le "$(($2 * 10))" ] || vm_fail "no capture socket after $2 s"
		usleep 100000
	done
	usleep 300000
}

# vm_wait_exit PID SECONDS: wait for a background process, failing the case
# after SECONDS; its exit status is left in $vm_status.
vm_wait_exit()
{
	n=0
	while kill -0 "$1" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -le "$(($2 * 10))" ] || vm_fail "process $1 still running after $2 s"
		usleep 100000
	done
	vm_status=0
	wait "$1" || vm_status=$?
}

# --- capx skb cases ------------------------------------------------------------
# They need `# vm-programs: ip tcpdump bpftool` and `# vm-modules: veth`.
# tcpdump in the guest (libpcap on an AF_PACKET socket) is the oracle for
# what was sent; bpftool shows what is attached to the kernel.

# vm_need_skb: skip when this capx has no skb subcommand yet; fail at once
# when in an earlier case the verifier gave up on capx skb's BPF program
# ("too large": a million instructions, a minute or two under TCG for each
# attempt, and the guest's whole run has a time limit).
vm_need_skb()
{
	$CAPX skb --help >/dev/null 2>&1 || vm_skip "this capx has no skb subcommand"
	[ ! -s /tmp/vm/skb-rejected ] ||
		vm_fail "not run: the verifier gave up on capx skb's BPF program in $(cat /tmp/vm/skb-rejected)"
}

# vm_veth_pair: veth skb-a (here, 10.200.1.1, 02:00:00:00:01:0a) to skb-b
# (netns skb-peer, 10.200.1.2, 02:00:00:00:01:0b), removed when the case
# exits. IPv6 is off on both ends and the neighbours are permanent, so the
# link carries only what the case sends (no MLD report, router solicitation
# or ARP at a moment of their own).
vm_veth_pair()
{
	vm_veth_remove
	trap vm_veth_remove EXIT
	ip netns add skb-peer
	ip link add skb-a address 02:00:00:00:01:0a type veth \
		peer name skb-b address 02:00:00:00:01:0b netns skb-peer
	echo 1 >/proc/sys/net/ipv6/conf/skb-a/disable_ipv6
	ip netns exec skb-peer sh -c 'echo 1 >/proc/sys/net/ipv6/conf/skb-b/disable_ipv6'
	ip addr add 10.200.1.1/24 dev skb-a
	ip -n skb-peer addr add 10.200.1.2/24 dev skb-b
	ip neigh add 10.200.1.2 lladdr 02:00:00:00:01:0b dev skb-a nud permanent
	ip -n skb-peer neigh add 10.200.1.1 lladdr 02:00:00:00:01:0a dev skb-b nud permanent
	ip link set skb-a up
	ip -n skb-peer link set lo up
	ip -n skb-peer link set skb-b up
}

vm_veth_remove()
{
	ip link del skb-a 2>/dev/null || true
	ip netns del skb-peer 2>/dev/null || true
}

# vm_traffic: what the skb cases send across the pair, 12 IPv4 packets:
# pings of two sizes both ways, a DNS query over UDP to a closed port (and
# its ICMP port unreachable), a TCP SYN to a closed port (and its RST).
vm_traffic()
{
	ping -c 2 -i 0.2 10.200.1.2 >/dev/null
	ping -c 1 -s 1200 10.200.1.2 >/dev/null
	ip netns exec skb-peer ping -c 1 10.200.1.1 >/dev/null
	nslookup capx.test 10.200.1.2 >/dev/null 2>&1 || true
	nc -w 1 10.200.1.2 9 </dev/null 2>/dev/null || true
}

# vm_reference IFACE FILE: tcpdump writes every frame on IFACE to FILE until
# vm_stop; its socket is in place when this returns. Its pid: $vm_reference_pid.
# Immediate mode: a packet still in an unretired TPACKET_V3 block when
# SIGINT comes would be left out of the file ("received by filter" but not
# "captured"). -B 32768 (KiB, 16 times the default): libpcap sizes ring
# frames for the snap length (262144) where the device offloads, as veth
# does, so the default 2 MiB ring holds only a few frames, and the GSO
# segments of 17-skb-frags overflowed it while tcpdump waited for a CPU
# under TCG ("1 packet dropped by kernel" on 6.1.0-57).
vm_reference()
{
	vm_sockets=$(vm_running_packet_sockets)
	tcpdump -Z root -i "$1" --immediate-mode -B 32768 -U -w "$2" 2>"$2.err" &
	vm_reference_pid=$!
	vm_wait_packet_sockets $((vm_sockets + 1)) 60
}

# vm_bpf_links: how many BPF links the kernel holds (bpftool link show);
# the guest makes none of its own, each capx probe makes one. A link being
# attached has an id but cannot be opened yet (EAGAIN, bpf_link_by_id()):
# bpftool complains about it, and it is not counted.
vm_bpf_links()
{
	bpftool link show 2>/dev/null | grep -c '^[0-9]*: ' || true
}

# vm_skb_start ERRFILE LINKS ARGS...: `capx skb ARGS` in the background
# (pid in $vm_skb_pid, stderr in ERRFILE); returns once its LINKS probes are
# attached, fails when capx exits first. Packets the probes see from then
# on wait in capx's BPF ring buffer until it reads them.
vm_skb_start()
{
	vm_err=$1 vm_links=$(($(vm_bpf_links) + $2))
	shift 2
	$CAPX skb "$@" 2>"$vm_err" &
	vm_skb_pid=$!
	n=0
	until [ "$(vm_bpf_links)" -ge "$vm_links" ]; do
		if ! kill -0 "$vm_skb_pid" 2>/dev/null; then
			cat "$vm_err"
			if grep -q 'BPF program is too large' "$vm_err"; then
				echo "$VM_CASE: $(grep 'BPF program is too large' "$vm_err" | tail -n 1)" >/tmp/vm/skb-rejected
			fi
			vm_fail "capx skb $* exited before attaching: $(tail -n 1 "$vm_err")"
		fi
		n=$((n + 1))
		[ "$n" -le 600 ] || vm_fail "capx skb $*: not attached after 60 s"
		usleep 100000
	done
	echo "capx skb $*: attached (pid $vm_skb_pid)"
}

# vm_stop PID...: SIGINT to each capture (after a moment for the last
# packets), then each must exit with status 0.
vm_stop()
{
	usleep 500000
	kill -INT "$@"
	for vm_pid; do
		vm_wait_exit "$vm_pid" 60
		[ "$vm_status" = 0 ] || vm_fail "capture $vm_pid exited with status $vm_status"
	done
}

# vm_packets FILE [-x] [EXPRESSION]: FILE's packets as tcpdump reads them,
# one line of hex per packet, sorted (a multiset to compare): every byte
# (tcpdump -xx), or with -x from the network header on.
vm_packets()
{
	vm_file=$1 vm_level=-xx
	shift
	[ "${1:-}" != -x ] || { vm_level=-x; shift; }
	tcpdump -Z root -nn -t -r "$vm_file" $vm_level "$@" >"$vm_file.txt" 2>"$vm_file.tcpdump" ||
		vm_fail "tcpdump cannot read $vm_file: $(tail -n 1 "$vm_file.tcpdump")"
	awk '/^[ \t]/ { for (i = 2; i <= NF; i++) h = h $i; next }
		{ if (n++) print h; h = "" }
		END { if (n) print h }' "$vm_file.txt" | sort
}

# vm_same_packets EXPECTED GOT WHAT: two vm_packets lists hold the same
# packets, byte for byte, as often each; else the differences and a failure.
vm_same_packets()
{
	vm_expected=$(wc -l <"$1") vm_got=$(wc -l <"$2")
	[ "$vm_expected" -gt 0 ] || vm_fail "$3: nothing to compare (no packets expected)"
	if ! cmp -s "$1" "$2"; then
		echo "$3: expected $vm_expected packets, got $vm_got; -expected +got (first 80 bytes):"
		diff "$1" "$2" | grep '^[-+][0-9a-f]' | cut -c1-161 | head -n 20
		vm_fail "$3: the captured packets differ from what was sent"
	fi
	echo "$3: $vm_got packets, byte for byte as tcpdump saw them"
}
