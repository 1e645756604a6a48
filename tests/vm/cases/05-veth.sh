# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip
# vm-modules: veth
# The topology later skb cases build: a veth pair with one end in a network
# namespace, and a ping across it. Proves the module loading (veth is a
# module in Debian's cloud kernel) and iproute2 in the guest.
ns=vm-peer
ip netns add "$ns"
ip link add vm-a type veth peer name vm-b netns "$ns"
ip addr add 10.200.0.1/24 dev vm-a
ip link set vm-a up
ip -n "$ns" addr add 10.200.0.2/24 dev vm-b
ip -n "$ns" link set vm-b up
ip -n "$ns" link set lo up
ping -c 2 -W 2 10.200.0.2
ip netns exec "$ns" ping -c 1 -W 2 10.200.0.1
ip netns del "$ns"
