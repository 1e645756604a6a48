// SPDX-License-Identifier: GPL-2.0-only
/* The markers that identify the filter placeholder bodies in a relocated
 * BPF program (see bpf/include/capx_filter.bpf.h and src/bpf/inject.cpp).
 * Each placeholder loads its marker with one ld_imm64; nothing else in a
 * capx BPF program uses these constants. ASCII "capxFPKT", "capxFBUF" and "capxFL3B". */
#ifndef CAPX_FILTER_MARKER_H
#define CAPX_FILTER_MARKER_H

#define CAPX_FILTER_PKT_MARKER 0x6361707846504b54
#define CAPX_FILTER_BUF_MARKER 0x6361707846425546
#define CAPX_FILTER_L3_MARKER  0x63617078464c3342

#endif
