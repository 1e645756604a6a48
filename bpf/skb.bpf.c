/* SPDX-License-Identifier: GPL-2.0-only */
/* capx skb: the packet of a struct sk_buff at a kernel function or
 * tracepoint, filtered by the injected tcpdump expression and sent to the
 * shared ring (loaded by src/capture/skb/probe_set.cpp).
 *
 * One object per probe; user space keeps one program of the five below
 * (the hook type) and sets its attach target, the rodata configuration and
 * the maps of the session's first object before load. Every program only
 * finds the sk_buff (and a drop reason) among its hook's arguments and
 * hands it to capture_skb(), the one capture path of all hook types; it
 * reads the sk_buff directly where the hook's BTF types the pointer, else
 * with bpf_probe_read_kernel (BPF_CORE_READ and friends), with offsets
 * relocated by CO-RE either way (capx_kernel_types.bpf.h).
 *
 * Where the packet starts (capx skb's rule, the same on every kernel):
 * - L2 when the MAC header is set (skb->mac_header != (u16)~0,
 *   skb_mac_header_was_set() in include/linux/skbuff.h) and an Ethernet
 *   header fits before the network header. Written as it is, with a VLAN
 *   tag the kernel holds in skb->vlan_tci put back after the addresses
 *   (where __vlan_hwaccel_push_inside() would put it); filtered by the
 *   Ethernet-compiled expression (capx_filter_buf) over exactly those bytes.
 * - L3 otherwise, from the network header (from skb->data while that was
 *   never set): written behind a made-up
 *   Ethernet header (zero addresses, the VLAN tag if any, type
 *   skb->protocol) and flagged CAPX_EVENT_L3; filtered by the RAW-compiled
 *   expression (capx_filter_l3) over the bytes from the network header.
 *
 * The bytes are the linear part (head + offset) and then the paged
 * fragments of skb_shinfo(skb) in order, up to what the filter needs first
 * (capx_filter_bytes) and, for a match, up to the snaplen. Fragments of the
 * frag_list and fragments this kernel does not let us address end the copy
 * early: the record is flagged CAPX_EVENT_TRUNCATED and counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* The slot's data has a second CAPX_PACKET_BUF_SIZE behind it: a copy into
 * it is at a variable offset (after the linear part, after each fragment)
 * of a variable length, and the verifier bounds the two independently, so
 * it has to see room for the largest of each (capx_read_kernel_into()). */
#define CAPX_SCRATCH_TAIL CAPX_PACKET_BUF_SIZE
/* capx_filter_pkt (direct packet access) has no use in a tracing program. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-function"
#include "capx_capture.bpf.h"
#pragma clang diagnostic pop
#include "capx_kernel_types.bpf.h"
#include "capx_args.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load (read-only, so the verifier knows the
 * values and drops the branches they rule out). */
const volatile __u32 capx_probe_id = 0;
const volatile __u32 capx_skb_arg = 0;         /* 0-based argument index */
const volatile __u32 capx_has_reason_arg = 0;  /* capx_reason_arg is valid */
const volatile __u32 capx_reason_arg = 0;      /* enum skb_drop_reason argument */
const volatile __u32 capx_want_ifindex = 0;    /* 0: any device */
const volatile __u32 capx_want_netns = 0;      /* 0: any namespace (inode) */
const volatile __u32 capx_has_mark = 0;        /* compare skb->mark with capx_want_mark */
const volatile __u32 capx_want_mark = 0;
/* Bytes the filter may read, counted from the start of what it sees (the
 * bytes of an L2 packet, the network header of an L3 one); copied before
 * the filter runs, the rest only for a match. */
const volatile __u32 capx_filter_bytes = CAPX_PACKET_BUF_SIZE;
const volatile __u32 capx_record_stack = 0;    /* -S */

/* PERF_MAX_STACK_DEPTH (include/uapi/linux/perf_event.h) */
#define CAPX_STACK_DEPTH 127

/* Kernel stacks of the records (-S), keyed by capx_event.stack_id. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1); /* sized by user space */
	__type(key, __u32);
	__type(value, __u64[CAPX_STACK_DEPTH]);
} capx_stacks SEC(".maps");

/* page_address() on x86-64 (arch/x86/include/asm/page.h, __va() and
 * page_to_pfn() with SPARSEMEM_VMEMMAP): the direct map starts at
 * page_offset_base and struct page array at vmemmap_base, both moved by
 * KASLR. libbpf finds these variables in /proc/kallsyms, which only lists
 * data symbols with CONFIG_KALLSYMS_ALL; weak, so a kernel without them
 * loads and leaves fragments unread (the address is then 0). */
extern const void page_offset_base __ksym __weak;
extern const void vmemmap_base __ksym __weak;

#define CAPX_PAGE_SHIFT 12
#define CAPX_NO_HEADER 0xffff
/* MAX_SKB_FRAGS with the default CONFIG_MAX_SKB_FRAGS. */
#define CAPX_MAX_FRAGS 17
/* VLAN_HLEN */
#define CAPX_VLAN_LEN 4
/* The addresses in front of the type/tag (2 * ETH_ALEN). */
#define CAPX_MAC_ADDRS 12

/* What capture_skb() needs of an sk_buff, read once. Offsets are from
 * skb->head. */
struct skb_view {
	__u64 head;
	__u64 shinfo;          /* skb_shinfo(skb): head + end */
	__u32 data_off;        /* skb->data - skb->head */
	__u32 linear_end;      /* end of the linear part: data_off + skb_headlen() */
	__u32 packet_end;      /* end of the packet counting fragments: data_off + len */
	__u32 mark;
	__u16 mac_header;
	__u16 network_header;
	__be16 protocol;
	__be16 vlan_proto;
	__u16 vlan_tci;
	__u8 vlan_present;
	__u8 unreadable;       /* set by copy_packet(): bytes it could not reach */
	/* Where the written bytes come from: out[0, split) is the packet from
	 * `start`, then `inserted` bytes made up by capx, then the rest of the
	 * packet. */
	__u32 start;
	__u32 split;
	__u32 inserted;
};

/* How the sk_buff is read. BTF-typed hooks (tp_btf, fentry, fexit) get it
 * as a typed kernel pointer (PTR_TO_BTF_ID) the program may load from
 * directly, as plain loads the verifier relocates and guards (a fault reads
 * 0); that is several times cheaper than a helper call per member. Raw
 * tracepoints and kprobes get a plain number and read with
 * bpf_probe_read_kernel. `typed` is a constant at every call, so each
 * program keeps only its own way. */
enum { UNTYPED = 0, TYPED = 1 };

/* The sk_buff members from len to data lie in one stretch in every kernel
 * capx supports (include/linux/skbuff.h): untyped, one read instead of one
 * per member. */
#define CAPX_SKB_BLOCK 192

#define SKB_MEMBER_OF(skb_type, type, block, lo, member)                      \
	(*(type *)((block) + (bpf_core_field_offset(skb_type, member) - (lo))))
#define SKB_MEMBER(type, block, lo, member) SKB_MEMBER_OF(struct sk_buff, type, block, lo, member)

static __always_inline int read_skb_untyped(const struct sk_buff *skb, struct skb_view *v, __u32 *len,
					    __u32 *data_len, __u64 *head, __u64 *data, __u32 *end)
{
	__u8 block[CAPX_SKB_BLOCK];
	/* 8-aligned: the verifier wants aligned stack loads. */
	__u32 lo = bpf_core_field_offset(struct sk_buff, len) & ~7u;
	__u32 hi = bpf_core_field_offset(struct sk_buff, data) + sizeof(void *);
	if (hi <= lo || hi - lo > CAPX_SKB_BLOCK)
		return -1;
	__builtin_memset(block, 0, sizeof(block));
	if (bpf_probe_read_kernel(block, hi - lo, (const __u8 *)skb + lo))
		return -1;
	*len = SKB_MEMBER(__u32, block, lo, len);
	*data_len = SKB_MEMBER(__u32, block, lo, data_len);
	*head = SKB_MEMBER(__u64, block, lo, head);
	*data = SKB_MEMBER(__u64, block, lo, data);
	*end = SKB_MEMBER(__u32, block, lo, end);
	v->mark = SKB_MEMBER(__u32, block, lo, mark);
	v->mac_header = SKB_MEMBER(__u16, block, lo, mac_header);
	v->network_header = SKB_MEMBER(__u16, block, lo, network_header);
	v->protocol = SKB_MEMBER(__be16, block, lo, protocol);
	v->vlan_proto = SKB_MEMBER(__be16, block, lo, vlan_proto);
	v->vlan_tci = SKB_MEMBER(__u16, block, lo, vlan_tci);
	if (bpf_core_field_exists(struct sk_buff___vlan_all, vlan_all)) {
		v->vlan_present = SKB_MEMBER_OF(struct sk_buff___vlan_all, __u32, block, lo, vlan_all) != 0;
	} else {
		const struct sk_buff___vlan_present *old = (const void *)skb;
		v->vlan_present = BPF_CORE_READ_BITFIELD_PROBED(old, vlan_present);
	}
	return 0;
}

static __always_inline void read_skb_typed(const struct sk_buff *skb, struct skb_view *v, __u32 *len,
					   __u32 *data_len, __u64 *head, __u64 *data, __u32 *end)
{
	*len = skb->len;
	*data_len = skb->data_len;
	*head = (__u64)skb->head;
	*data = (__u64)skb->data;
	*end = skb->end;
	/* Only what every packet needs before its filter verdict: each load
	 * here is a guarded (BPF_PROBE_MEM) load on every packet of the
	 * machine, matched or not. */
	v->mark = capx_has_mark ? skb->mark : 0;
	v->mac_header = skb->mac_header;
	v->network_header = skb->network_header;
	v->protocol = skb->protocol;
	if (bpf_core_field_exists(struct sk_buff___vlan_all, vlan_all)) {
		v->vlan_present = ((const struct sk_buff___vlan_all *)skb)->vlan_all != 0;
	} else {
		const struct sk_buff___vlan_present *old = (const void *)skb;
		v->vlan_present = BPF_CORE_READ_BITFIELD(old, vlan_present);
	}
	v->vlan_proto = 0;
	v->vlan_tci = 0;
	if (v->vlan_present) {
		v->vlan_proto = skb->vlan_proto;
		v->vlan_tci = skb->vlan_tci;
	}
}

static __always_inline int read_skb(const struct sk_buff *skb, struct skb_view *v, int typed)
{
	__u32 len, data_len, end;
	__u64 head, data;
	if (typed)
		read_skb_typed(skb, v, &len, &data_len, &head, &data, &end);
	else if (read_skb_untyped(skb, v, &len, &data_len, &head, &data, &end))
		return -1;
	if (!head || data < head || data - head > 0xffff || data_len > len)
		return -1;
	v->head = head;
	v->shinfo = head + end;
	v->data_off = data - head;
	v->linear_end = v->data_off + (len - data_len);
	v->packet_end = v->data_off + len;
	v->unreadable = 0;
	return 0;
}

/* The kernel address of a fragment's first byte, 0 when it cannot be
 * addressed here. skb_frag_t is a struct bio_vec in 6.1, later a struct
 * skb_frag with bv_* or plain member names and, in 6.18, a netmem_ref for
 * the page (capx_kernel_types.bpf.h). */
static __always_inline __u64 frag_address(__u64 frag)
{
	__u64 page = 0, offset = 0;
	if (bpf_core_type_exists(struct skb_frag)) {
		const struct skb_frag *f = (const void *)frag;
		const struct skb_frag___page *p = (const void *)frag;
		const struct skb_frag___bv *b = (const void *)frag;
		if (bpf_core_field_exists(f->netmem)) {
			__u64 netmem = BPF_CORE_READ(f, netmem);
			/* NET_IOV: device memory, not a page (include/net/netmem.h) */
			if (netmem & 1)
				return 0;
			page = netmem;
		} else if (bpf_core_field_exists(p->page)) {
			page = (__u64)BPF_CORE_READ(p, page);
		} else {
			page = (__u64)BPF_CORE_READ(b, bv_page);
		}
		if (bpf_core_field_exists(f->offset))
			offset = BPF_CORE_READ(f, offset);
		else
			offset = BPF_CORE_READ(b, bv_offset);
	} else {
		const struct bio_vec *b = (const void *)frag;
		page = (__u64)BPF_CORE_READ(b, bv_page);
		offset = BPF_CORE_READ(b, bv_offset);
	}
	if (!page || !&page_offset_base || !&vmemmap_base)
		return 0;
	__u64 direct_map = 0, vmemmap = 0;
	if (bpf_probe_read_kernel(&direct_map, sizeof(direct_map), &page_offset_base) ||
	    bpf_probe_read_kernel(&vmemmap, sizeof(vmemmap), &vmemmap_base) || page < vmemmap)
		return 0;
	__u64 pfn = (page - vmemmap) / bpf_core_type_size(struct page);
	return direct_map + (pfn << CAPX_PAGE_SHIFT) + offset;
}

static __always_inline __u32 frag_length(__u64 frag)
{
	if (bpf_core_type_exists(struct skb_frag)) {
		const struct skb_frag *f = (const void *)frag;
		const struct skb_frag___bv *b = (const void *)frag;
		if (bpf_core_field_exists(f->len))
			return BPF_CORE_READ(f, len);
		return BPF_CORE_READ(b, bv_len);
	}
	const struct bio_vec *b = (const void *)frag;
	return BPF_CORE_READ(b, bv_len);
}

static __always_inline __u64 frag_at(__u64 shinfo, __u32 i)
{
	if (bpf_core_type_exists(struct skb_frag)) {
		struct skb_shared_info___skb_frag *sh = (void *)shinfo;
		return (__u64)&sh->frags[i];
	}
	struct skb_shared_info___bio_vec *sh = (void *)shinfo;
	return (__u64)&sh->frags[i];
}

/* Copies the packet bytes [from, to) (offsets from skb->head, to <=
 * packet_end) to s->data + dst: the linear part, then the fragments.
 * Returns the bytes copied; fewer than asked when a fragment is not
 * reachable (v->unreadable is then set), -1 when a read failed. */
/* Global, not static: the verifier checks a global function once, against
 * its BTF signature, where a static one is re-walked at every call with the
 * caller's state. With two calls and a CAPX_MAX_FRAGS-round loop, 6.1's
 * verifier hit its 1M-instruction limit on the static form ("BPF program is
 * too large"); newer kernels prune better, 6.1 does not. Pointer arguments
 * of a global function may be NULL as far as the verifier knows, hence the
 * check. */
__noinline int copy_packet(struct capx_scratch *s, struct skb_view *v, __u32 dst, __u32 from, __u32 to)
{
	__u32 done = 0;
	if (!s || !v)
		return -1;
	if (from >= to)
		return 0;
	if (from < v->linear_end) {
		__u32 n = capx_min(to, v->linear_end) - from;
		if (capx_read_kernel_into(s, dst, v->head + from, n))
			return -1;
		done = n;
		from += n;
		if (from >= to)
			return done;
	}
	/* Outside the CO-RE read: struct skb_view is capx's own. */
	const struct skb_shared_info *shinfo = (const void *)v->shinfo;
	__u8 nr_frags = BPF_CORE_READ(shinfo, nr_frags);
	__u32 pos = v->linear_end; /* where fragment i starts */
	for (__u32 i = 0; i < CAPX_MAX_FRAGS && i < nr_frags; i++) {
		__u64 frag = frag_at(v->shinfo, i);
		__u32 flen = frag_length(frag);
		__u32 fstart = pos;
		pos += flen;
		if (pos <= from)
			continue;
		__u64 addr = frag_address(frag);
		if (!addr)
			break;
		__u32 n = capx_min(pos, to) - from;
		if (done >= CAPX_PACKET_BUF_SIZE || n > CAPX_PACKET_BUF_SIZE)
			break;
		if (capx_read_kernel_into(s, dst + done, addr + (from - fstart), n))
			return -1;
		done += n;
		from += n;
		if (from >= to)
			return done;
	}
	/* Not all there: beyond the fragments we read (frag_list, more than
	 * CAPX_MAX_FRAGS) or a fragment without an address. */
	v->unreadable = 1;
	return done;
}

/* Fills out[from, to) of the bytes written for this packet (the layout in
 * struct skb_view). Returns the end of what is now valid, -1 on a failed
 * read. */
static __always_inline int fill(struct capx_scratch *s, struct skb_view *v, __u32 from, __u32 to)
{
	if (from < v->split) {
		__u32 end = capx_min(to, v->split);
		int n = copy_packet(s, v, from, v->start + from, v->start + end);
		if (n < 0)
			return -1;
		if ((__u32)n < end - from)
			return from + n;
		from = end;
	}
	__u32 rest = v->split + v->inserted;
	if (from < rest)
		from = rest;
	if (from >= to)
		return to; /* the rest asked for was made up, already written */
	int n = copy_packet(s, v, from, v->start + from - v->inserted, v->start + to - v->inserted);
	if (n < 0)
		return -1;
	return from + n;
}

/* skb->protocol, or from the IP version when it is not set yet (locally
 * built packets before ip_output()/ip6_output() set it). */
static __always_inline __be16 l3_protocol(struct skb_view *v)
{
	if (v->protocol)
		return v->protocol;
	__u8 first = 0;
	if (v->network_header < v->linear_end)
		bpf_probe_read_kernel(&first, 1, (const void *)(v->head + v->network_header));
	if ((first >> 4) == 4)
		return bpf_htons(ETH_P_IP);
	if ((first >> 4) == 6)
		return bpf_htons(ETH_P_IPV6);
	return 0;
}

static __always_inline void device_of(const struct sk_buff *skb, __u32 *ifindex, __u32 *netns, int typed)
{
	if (typed) {
		/* __rcu pointers (the nets) must be tested before a load through
		 * them; others read 0 through NULL. */
		const struct net_device *dev = skb->dev;
		const struct net *net;
		*ifindex = 0;
		*netns = 0;
		if (dev) {
			*ifindex = dev->ifindex;
			net = dev->nd_net.net;
		} else {
			const struct sock *sk = skb->sk;
			net = sk ? sk->__sk_common.skc_net.net : 0;
		}
		if (net)
			*netns = net->ns.inum;
		return;
	}
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	if (dev) {
		*ifindex = BPF_CORE_READ(dev, ifindex);
		*netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		return;
	}
	/* No device yet (e.g. on the way down before routing): the socket's
	 * namespace. */
	*ifindex = 0;
	*netns = 0;
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (sk)
		*netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* The filter, run from this one place: a global function is verified
 * once, against its signature, where the static placeholders are walked
 * again at every call site with each state the caller brings. The packet's
 * written bytes are in s->data, `header` of them made up in front of what
 * an L3 filter sees. Returns the filter's snaplen counted from s->data, 0
 * for no match. */
__noinline __u32 filter_packet(struct capx_scratch *s, __u32 l2, __u32 header, __u32 copied, __u32 wire_len)
{
	if (!s)
		return 0;
	if (l2)
		return capx_filter_buf(s->data, capx_min(copied, CAPX_PACKET_BUF_SIZE), wire_len);
	if (copied < header || wire_len < header)
		return 0;
	/* header is ETH_HLEN or ETH_HLEN + VLAN_HLEN: within the tail. */
	__u64 at = capx_clamp(header, ETH_HLEN, ETH_HLEN + CAPX_VLAN_LEN);
	__u32 ret = capx_filter_l3(s->data + at, capx_clamp(copied - header, 0, CAPX_PACKET_BUF_SIZE - ETH_HLEN),
				   wire_len - header);
	/* The filter's snaplen counts from the network header. */
	if (ret && ret < CAPX_PACKET_BUF_SIZE)
		ret += header;
	return ret;
}

/* The per-packet work of every hook type, once the sk_buff is read into
 * `v`: where the packet starts, the bytes capx makes up, the copy of what
 * the filter needs, the filter, the rest of a match. Global, so it is
 * verified once whatever the program around it. Returns 1 for a match
 * (s->data and s->event's lengths and flags are then set), 0 otherwise
 * (counted). */
__noinline int packet_bytes(struct capx_scratch *s, struct capx_counters *c, struct skb_view *v)
{
	if (!s || !c || !v)
		return 0;
	__u32 vlan = v->vlan_present ? CAPX_VLAN_LEN : 0;
	int l2 = v->mac_header != CAPX_NO_HEADER && v->network_header >= v->mac_header + ETH_HLEN;
	__u32 header; /* bytes in front of what the filter sees */
	if (l2) {
		v->start = v->mac_header;
		v->split = vlan ? CAPX_MAC_ADDRS : 0;
		v->inserted = vlan;
		header = 0;
	} else {
		/* A network header at head itself is one never set (__alloc_skb()
		 * zeroes it; real packets have headroom): the packet then starts
		 * at data, as far as anyone knows yet. */
		v->start = v->network_header ? v->network_header : v->data_off;
		v->split = 0;
		v->inserted = ETH_HLEN + vlan;
		header = v->inserted;
	}
	if (v->start >= v->packet_end || v->start > v->linear_end) {
		c->errors++;
		return 0;
	}
	__u32 wire_len = v->packet_end - v->start + v->inserted;

	/* The bytes capx makes up. */
	if (l2) {
		if (vlan) {
			*(__be16 *)&s->data[CAPX_MAC_ADDRS] = v->vlan_proto;
			*(__be16 *)&s->data[CAPX_MAC_ADDRS + 2] = bpf_htons(v->vlan_tci);
		}
	} else {
		__builtin_memset(s->data, 0, CAPX_MAC_ADDRS);
		__be16 type = l3_protocol(v);
		if (vlan) {
			*(__be16 *)&s->data[CAPX_MAC_ADDRS] = v->vlan_proto;
			*(__be16 *)&s->data[CAPX_MAC_ADDRS + 2] = bpf_htons(v->vlan_tci);
			*(__be16 *)&s->data[CAPX_MAC_ADDRS + CAPX_VLAN_LEN] = type;
		} else {
			*(__be16 *)&s->data[CAPX_MAC_ADDRS] = type;
		}
	}

	/* What the filter needs first, then the filter. */
	__u32 limit = capx_min(wire_len, CAPX_PACKET_BUF_SIZE);
	__u32 want = capx_min(limit, header + capx_min(capx_filter_bytes, CAPX_PACKET_BUF_SIZE));
	int valid;
	if (l2 && !vlan && want && v->start + want <= v->linear_end) {
		/* The usual case, an untagged frame whose filter bytes lie in
		 * the linear part: one read, without fill() and the call into
		 * copy_packet() (every packet of the machine takes this path,
		 * matched or not). */
		if (capx_read_kernel_into(s, 0, v->head + v->start, want)) {
			c->errors++;
			return 0;
		}
		valid = want;
	} else {
		valid = fill(s, v, 0, want);
	}
	if (valid < (int)header) {
		c->errors++;
		return 0;
	}
	__u32 copied = valid;
	__u32 ret = filter_packet(s, l2, header, copied, wire_len);
	if (!ret) {
		c->filtered_out++;
		return 0;
	}

	/* A match: the rest up to the snaplen. */
	__u32 keep = capx_keep_len(ret, limit);
	if (keep > copied && !v->unreadable) {
		valid = fill(s, v, copied, keep);
		if (valid < 0) {
			c->errors++;
			return 0;
		}
		copied = valid;
	}
	capx_event_set_len(&s->event, ret, copied, wire_len);
	if (!l2)
		s->event.flags |= CAPX_EVENT_L3;
	return 1;
}

/* The capture path of every hook type: `ctx` is the program's context
 * (for the stack), `skb_addr` the sk_buff, `typed` how to read it. What
 * needs the sk_buff itself (its members, the device) is done here, in the
 * program; the rest in packet_bytes(). */
static __always_inline int capture_skb(void *ctx, __u64 skb_addr, __u32 reason, int typed)
{
	const struct sk_buff *skb = (const void *)skb_addr;
	if (!skb)
		return 0;
	struct capx_counters *c = capx_counters_get(capx_probe_id);
	if (!c)
		return 0;
	c->hits++;

	struct skb_view v;
	if (read_skb(skb, &v, typed)) {
		c->errors++;
		return 0;
	}
	if (capx_has_mark && v.mark != capx_want_mark) {
		c->filtered_out++;
		return 0;
	}
	__u32 ifindex = 0, netns = 0;
	if (capx_want_ifindex || capx_want_netns) {
		device_of(skb, &ifindex, &netns, typed);
		if ((capx_want_ifindex && ifindex != capx_want_ifindex) ||
		    (capx_want_netns && netns != capx_want_netns)) {
			c->filtered_out++;
			return 0;
		}
	}

	struct capx_scratch *s = capx_scratch_get(c);
	if (!s)
		return 0;
	if (!packet_bytes(s, c, &v))
		goto out;

	capx_event_init(&s->event, capx_probe_id);
	struct capx_event *e = &s->event;
	if (!capx_want_ifindex && !capx_want_netns)
		device_of(skb, &ifindex, &netns, typed);
	e->packet_id = skb_addr;
	e->flags |= CAPX_EVENT_HAS_PACKET_ID;
	if (ifindex) {
		e->ifindex = ifindex;
		e->flags |= CAPX_EVENT_HAS_IFINDEX;
	}
	if (netns) {
		e->netns = netns;
		e->flags |= CAPX_EVENT_HAS_NETNS;
	}
	if (v.vlan_present) {
		e->vlan_tci = v.vlan_tci;
		e->flags |= CAPX_EVENT_HAS_VLAN;
	}
	if (capx_has_reason_arg) {
		e->drop_reason = reason;
		e->flags |= CAPX_EVENT_HAS_DROP_REASON;
	}
	capx_event_set_task(e);
	if (capx_record_stack) {
		long id = bpf_get_stackid(ctx, &capx_stacks, 0);
		if (id >= 0) {
			e->stack_id = id;
			e->flags |= CAPX_EVENT_HAS_STACK;
		}
	}
	capx_emit(s, c);
out:
	capx_scratch_put();
	return 0;
}

static __always_inline int capture_args(void *ctx, const __u64 *args, int typed)
{
	__u32 reason = capx_has_reason_arg ? (__u32)capx_array_arg(args, capx_reason_arg) : 0;
	return capture_skb(ctx, capx_array_arg(args, capx_skb_arg), reason, typed);
}

SEC("capx/tp_btf")
int capx_tp_btf(__u64 *ctx)
{
	return capture_args(ctx, ctx, TYPED);
}

SEC("capx/raw_tp")
int capx_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	return capture_args(ctx, ctx->args, UNTYPED);
}

SEC("capx/fentry")
int capx_fentry(__u64 *ctx)
{
	return capture_args(ctx, ctx, TYPED);
}

/* The sk_buff as the function leaves it (its arguments are still there). */
SEC("capx/fexit")
int capx_fexit(__u64 *ctx)
{
	return capture_args(ctx, ctx, TYPED);
}

SEC("capx/kprobe")
int capx_kprobe(struct pt_regs *ctx)
{
	__u32 reason = capx_has_reason_arg ? (__u32)capx_regs_arg(ctx, capx_reason_arg) : 0;
	return capture_skb(ctx, capx_regs_arg(ctx, capx_skb_arg), reason, UNTYPED);
}
