# SPDX-License-Identifier: GPL-2.0-only
# vm-programs: ip tcpdump bpftool
# vm-modules: veth
# Paged fragments: TCP puts the data of a send in page fragments of the
# sk_buff (tcp_sendmsg_locked copies into sk_page_frag when the route can
# scatter-gather, as veth can), so a capture at ip_rcv that read only the
# linear part would hold the headers alone. (Seen once in 6.1.0-56 with a
# tracefs kprobe on ip_rcv reading skb->len and skb->data_len at their BTF
# offsets during this transfer: every data segment had data_len = its
# payload, e.g. len=1076 data_len=1024.) Reading a page's bytes needs
# page_offset_base, which this kernel lists in /proc/kallsyms
# (CONFIG_KALLSYMS_ALL). The segments of a 24 KB transfer across the veth
# pair, data and ACKs, are captured whole, as tcpdump saw them on skb-a.
vm_need_skb
grep -qw page_offset_base /proc/kallsyms ||
	vm_fail "/proc/kallsyms does not list page_offset_base: capx cannot read paged fragments here"
vm_veth_pair
vm_reference skb-a ref.pcap
vm_skb_start capx.err 1 -f ip_rcv -w skb.pcap tcp port 7000
seq 1 5000 >data
/usr/local/bin/ip netns exec skb-peer sh -c 'sleep 3 | nc -l -p 7000 >received' &
server=$!
usleep 500000
nc -w 2 10.200.1.2 7000 <data
vm_wait_exit "$server" 30
vm_stop "$vm_skb_pid" "$vm_reference_pid"
cat capx.err ref.pcap.err   # capx's counts, then tcpdump's (the reference)
cmp data received || vm_fail "the transfer did not arrive whole"

vm_packets ref.pcap 'tcp port 7000' >expected
vm_packets skb.pcap >got
bytes=$(awk '{ n += length($0) / 2 } END { print n }' expected)
echo "$(wc -l <expected) segments, $bytes bytes, for $(wc -c <data) bytes of data"
[ "$bytes" -gt "$(wc -c <data)" ] || vm_fail "tcpdump saw less than the data sent"
vm_same_packets expected got "ip_rcv, TCP with paged data"
