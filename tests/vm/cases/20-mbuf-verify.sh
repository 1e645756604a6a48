# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: mbuf_app bpftool librte_mempool_ring.so.23
# capx mbuf in each guest kernel: bpf/mbuf.bpf.c's three programs (entry
# for one mbuf and for bursts, stash + return for --ret, bursts through
# bpf_loop) pass that kernel's verifier and capture from
# tests/progs/mbuf_app, a real DPDK process (EAL --no-huge --no-pci, no
# devices). The packet counts must equal the app's own: each probe fires
# and reads what it should.
command -v mbuf_app >/dev/null || vm_skip "mbuf_app was not built (no libdpdk)"
mkdir -p /var/run/dpdk
# The pools' "ring_mp_mc" ops are a plugin DPDK loads from its driver
# directory, which the guest lacks: the runner puts it with the programs,
# and the EAL is told (-d).
ring=$(command -v librte_mempool_ring.so.23) || vm_skip "no librte_mempool_ring.so.23 in the guest"
# The EAL refuses a plugin below a world-writable directory (verify_perms()
# in lib/eal/common/eal_common_options.c); the initramfs root is one.
for d in / /usr /usr/local /usr/local/bin; do chmod go-w "$d"; done
mbuf_app --quiet --rounds 20 --oracle "$VM_TMP" --go "$VM_TMP/go" --file-prefix capxvm -- -d "$ring" \
	>app.out 2>app.err &
app=$!
n=0
until grep -q '^ready' app.out; do
	kill -0 "$app" 2>/dev/null || { cat app.out app.err; vm_fail "mbuf_app did not start: $(tail -n 1 app.err)"; }
	n=$((n + 1))
	[ "$n" -le 600 ] || vm_fail "mbuf_app: not ready after 60 s"
	usleep 100000
done
pid=$(sed -n 's/^pid //p' app.out)

$CAPX mbuf --pid "$pid" -f capx_test_one@1 -f capx_test_burst@2@3 -w one.pcap 2>capx1.err &
c1=$!
$CAPX mbuf --pid "$pid" -f capx_test_rx@2@3 --ret -w rx.pcap 2>capx2.err &
c2=$!
# A uprobe link per probe; the --ret probe has two.
n=0
until [ "$(vm_bpf_links)" -ge 4 ]; do
	for c in $c1 $c2; do
		kill -0 "$c" 2>/dev/null || { cat capx1.err capx2.err; vm_fail "capx mbuf exited before attaching"; }
	done
	n=$((n + 1))
	[ "$n" -le 600 ] || vm_fail "capx mbuf: not attached after 60 s"
	usleep 100000
done
bpftool prog show | grep capx_mbuf || true
touch "$VM_TMP/go"
vm_wait_exit "$app" 120
vm_expect_eq "$vm_status" 0 "mbuf_app exit status"
# capx mbuf ends by itself when its process is gone.
for c in $c1 $c2; do
	vm_wait_exit "$c" 60
	vm_expect_eq "$vm_status" 0 "capx mbuf exit status"
done
cat capx1.err capx2.err

count() { sed -n "s/^$1=//p" "$VM_TMP/counts"; }
# "NAME: hits H, empty bursts E, mbufs M, filtered out F, captured C, ..."
field() { grep "$2" "$1" | sed -n "s/.*$3 \([0-9]*\).*/\1/p" | tail -n 1; }
vm_expect_eq "$(field capx1.err capx_test_one hits)" "$(count one_calls)" "capx_test_one hits"
vm_expect_eq "$(field capx1.err capx_test_one captured)" "$(count one_calls)" "capx_test_one captured"
vm_expect_eq "$(field capx1.err capx_test_burst hits)" "$(count burst_calls)" "capx_test_burst hits"
vm_expect_eq "$(field capx1.err capx_test_burst captured)" "$(count burst_mbufs)" "capx_test_burst captured"
vm_expect_eq "$(field capx2.err capx_test_rx hits)" "$(count rx_calls)" "capx_test_rx hits"
vm_expect_eq "$(field capx2.err capx_test_rx 'empty bursts')" "$(count rx_empty)" "capx_test_rx empty bursts"
vm_expect_eq "$(field capx2.err capx_test_rx captured)" "$(count rx_mbufs)" "capx_test_rx captured"
