# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: vm-attach-probe
# As 02-fentry, on the way out of ip_rcv.
vm-attach-probe fexit ip_rcv -- ping -c 2 -W 2 127.0.0.1
