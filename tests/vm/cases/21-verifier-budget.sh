# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: verifier-budget
# Every program of capx skb (each hook kind this kernel allows: kprobe,
# fentry and fexit here, where the host refuses them), capx mbuf and capx
# xdp, loaded on this kernel with the heaviest expressions of
# tests/kernel/verifier_budget.cpp's short list, is verified in at most a
# fifth of the verifier's 1M-instruction limit; the worst figure per program
# and the kernel release are printed for the console log.
command -v verifier-budget >/dev/null || vm_fail "verifier-budget is not in the guest"
if ! verifier-budget --quick >budget.out 2>budget.err; then
	cat budget.out budget.err
	vm_fail "$(grep -m 1 FAIL budget.out || tail -n 1 budget.err)"
fi
cat budget.out
