/* SPDX-License-Identifier: GPL-2.0-only */
/* The few kernel types capx's BPF programs read, written by hand for CO-RE.
 *
 * Only the members capx reads are declared, in any order and without the
 * kernel's padding: every access goes through preserve_access_index, so
 * libbpf relocates each offset against the running kernel's BTF at load
 * time (bpf_core_calc_field_relo() in libbpf's relo_core.c), matching members
 * by name, also inside the kernel's anonymous structs and unions (the
 * struct_group(headers, ...) of sk_buff). Sizes of whole types come from
 * bpf_core_type_size(), never from sizeof() here.
 *
 * Types whose layout changed between the kernels capx supports have a
 * "flavour" per layout (a ___suffix libbpf ignores when matching names,
 * documented in libbpf's "BPF CO-RE reference guide"); the program asks
 * bpf_core_type_exists()/bpf_core_field_exists() which one this kernel has.
 */
#ifndef CAPX_KERNEL_TYPES_BPF_H
#define CAPX_KERNEL_TYPES_BPF_H

#include <linux/types.h>

#define CAPX_CORE __attribute__((preserve_access_index))

struct ns_common {
	unsigned int inum; /* the namespace's inode number, as ls -i /proc/PID/ns/net shows */
} CAPX_CORE;

struct net {
	struct ns_common ns;
} CAPX_CORE;

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
} CAPX_CORE;

struct sock_common {
	possible_net_t skc_net;
} CAPX_CORE;

struct sock {
	struct sock_common __sk_common;
} CAPX_CORE;

/* include/linux/skbuff.h. The data offsets are sk_buff_data_t, an offset
 * from head on 64-bit kernels (NET_SKBUFF_DATA_USES_OFFSET); mac_header is
 * (u16)~0 while unset (skb_mac_header_was_set()). */
struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;      /* bytes from data to the end, fragments included */
	unsigned int data_len; /* bytes in fragments */
	__u32 mark;
	__be16 vlan_proto;
	__u16 vlan_tci;
	__be16 protocol;
	__u16 network_header;
	__u16 mac_header;
	unsigned int tail;
	unsigned int end;      /* skb_shinfo(skb) is at head + end */
	unsigned char *head;
	unsigned char *data;
} CAPX_CORE;

/* Since 6.2 (commit "net: remove skb->vlan_present") a tag is present when
 * vlan_all != 0; before, a bit says so. */
struct sk_buff___vlan_all {
	__u32 vlan_all;
} CAPX_CORE;

struct sk_buff___vlan_present {
	__u8 vlan_present : 1;
} CAPX_CORE;

/* skb_frag_t in 6.1 (Debian 12): a struct bio_vec. Later kernels have
 * their own struct skb_frag, whose members were renamed and whose page
 * became a netmem_ref; which one this kernel has is asked with
 * bpf_core_type_exists()/bpf_core_field_exists(), not by version. */
struct bio_vec {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
} CAPX_CORE;

/* struct skb_frag as 6.18 has it: netmem is a struct page * or, with the
 * low bit set, a struct net_iov of device memory the CPU cannot read
 * (include/net/netmem.h, NET_IOV). */
struct skb_frag {
	unsigned long netmem;
	unsigned int len;
	unsigned int offset;
} CAPX_CORE;

/* The earlier names of struct skb_frag's members. */
struct skb_frag___page {
	struct page *page;
} CAPX_CORE;

struct skb_frag___bv {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
} CAPX_CORE;

struct skb_shared_info {
	__u8 nr_frags;
	struct sk_buff *frag_list;
} CAPX_CORE;

/* The frags array in each layout: the element type differs, so each has its
 * own flavour of skb_shared_info. */
struct skb_shared_info___bio_vec {
	struct bio_vec frags[17];
} CAPX_CORE;

struct skb_shared_info___skb_frag {
	struct skb_frag frags[17];
} CAPX_CORE;

/* Only its size is used (page_address(), see bpf/skb.bpf.c). */
struct page {
	unsigned long flags;
} CAPX_CORE;

/* The executable of the current task (capx mbuf --binary): the inode of
 * current->mm->exe_file (what /proc/PID/exe links to, set by
 * set_mm_exe_file() at exec) and its device as the kernel holds it,
 * sb->s_dev, a kdev_t-style MKDEV(major, minor) (include/linux/kdev_t.h:
 * major << 20 | minor), not the encoding stat(2) shows. */
struct super_block {
	__u32 s_dev;
} CAPX_CORE;

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} CAPX_CORE;

struct file {
	struct inode *f_inode;
} CAPX_CORE;

struct mm_struct {
	struct file *exe_file;
} CAPX_CORE;

struct task_struct {
	struct mm_struct *mm;
} CAPX_CORE;

#endif
