# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: vm-attach-probe
# A fentry program attaches to ip_rcv and runs for each packet a ping on
# loopback delivers: the attach path that fails with EPERM on the host.
vm-attach-probe fentry ip_rcv -- ping -c 2 -W 2 127.0.0.1
