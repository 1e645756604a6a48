// SPDX-License-Identifier: GPL-2.0-only
/* The contract between translated filters and the BPF programs that call
 * them. Shared by the BPF C programs (bpf/) and the translator (src/filter/).
 *
 * A BPF program calls one of two placeholder subprograms; before load, capx
 * replaces the placeholder's body with the translated tcpdump expression.
 *
 *   Direct packet access (XDP, tc): the packet is in packet memory.
 *     __u32 capx_filter_pkt(const void *data, const void *data_end, __u32 wire_len);
 *       r1 = data, r2 = data_end (verifier packet pointers), r3 = wire length.
 *
 *   Buffer access (tracing, uprobes): the packet was copied into map memory.
 *     __u32 capx_filter_buf(const void *buf, __u32 caplen, __u32 wire_len);
 *       r1 = map value of CAPX_PACKET_BUF_SIZE bytes, r2 = bytes valid in it
 *       (caller guarantees caplen <= CAPX_PACKET_BUF_SIZE), r3 = wire length.
 *
 * Both return what the classic program returns: 0 = no match, otherwise the
 * number of bytes to keep (libpcap's snaplen). A load past the valid bytes
 * returns 0, like libpcap's bpf_filter().
 */
#ifndef CAPX_FILTER_ABI_H
#define CAPX_FILTER_ABI_H

/* Largest packet prefix a buffer-mode source copies (and filters on). */
#define CAPX_PACKET_BUF_SIZE 65536

#endif
