# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: verifier-budget
# capx mbuf's programs, loaded on this kernel with the heaviest expressions
# of tests/kernel/verifier_budget.cpp's short list, are each verified in at
# most a fifth of the verifier's 1M-instruction limit; the worst figure per
# program and the kernel release are printed for the console log. capx skb
# is not held to the budget yet (protochain takes it to 70-90% on 6.18),
# and a load near the limit takes a minute under TCG: it is left out here.
command -v verifier-budget >/dev/null || vm_fail "verifier-budget is not in the guest"
if ! verifier-budget --quick --points mbuf >budget.out 2>budget.err; then
	cat budget.out budget.err
	vm_fail "$(grep -m 1 FAIL budget.out || tail -n 1 budget.err)"
fi
cat budget.out
