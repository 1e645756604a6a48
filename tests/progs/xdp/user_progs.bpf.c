/* SPDX-License-Identifier: GPL-2.0-only */
/* XDP programs as users write them (libbpf's SEC("xdp") and
 * SEC("xdp.frags")), for capx xdp's tests to capture at. Loaded by
 * capx-xdp-load (load.cpp). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* The verdict xdp_verdict returns, set before each BPF_PROG_TEST_RUN. */
__u32 verdict_to_return = XDP_PASS;

/* xdpcap's hook (cloudflare/xdpcap, hook.h): a program array of one slot
 * per action that the program tail-calls right before returning. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 5);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} xdpcap_hook SEC(".maps");

/* The UDP header of an IPv4 packet without options, or NULL. */
static __always_inline struct udphdr *udp_of(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)ip + sizeof(*ip);
	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP)
		return 0;
	return udp;
}

static __always_inline int drop_odd(struct xdp_md *ctx)
{
	struct udphdr *udp = udp_of(ctx);
	return udp && (bpf_ntohs(udp->dest) & 1) ? XDP_DROP : XDP_PASS;
}

/* UDP to an odd port is dropped, everything else passes. */
SEC("xdp")
int xdp_drop_odd(struct xdp_md *ctx)
{
	return drop_odd(ctx);
}

/* The same, multi-buffer aware (for MTU 9000). */
SEC("xdp.frags")
int xdp_drop_odd_frags(struct xdp_md *ctx)
{
	return drop_odd(ctx);
}

/* UDP to port 7 goes back out where it came from with its MAC addresses
 * swapped (XDP_TX); everything else passes. */
SEC("xdp")
int xdp_swap_tx(struct xdp_md *ctx)
{
	struct udphdr *udp = udp_of(ctx);
	if (!udp || udp->dest != bpf_htons(7))
		return XDP_PASS;
	struct ethhdr *eth = (void *)(long)ctx->data;
	__u8 tmp[ETH_ALEN];
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

/* Returns verdict_to_return, whatever the packet. */
SEC("xdp")
int xdp_verdict(struct xdp_md *ctx)
{
	return verdict_to_return;
}

/* drop_odd through xdpcap's hook: the tail call shows the packet and its
 * action to a capture program, if one is in the slot. */
SEC("xdp")
int xdp_hooked(struct xdp_md *ctx)
{
	int action = drop_odd(ctx);
	bpf_tail_call(ctx, &xdpcap_hook, action);
	return action;
}
