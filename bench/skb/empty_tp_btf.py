#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""bench/skb/empty_tp_btf.py TRACEPOINT: attach a tp_btf program that does
nothing (r0 = 0; exit) to a kernel tracepoint and hold it until SIGTERM/SIGINT.

The floor of any tp_btf capture at that hook: what the enabled tracepoint,
its bpf_trace_run*() call and the program's entry cost by themselves
(bench/skb/run.sh, mode empty-tp). No libbpf, no object file: two bpf(2)
calls through ctypes, with the attach target found in the kernel's BTF
(the typedef btf_trace_<name>, as libbpf's find_attach_btf_id() looks it
up for SEC("tp_btf/<name>")).

Prints "attached PROG_ID" on stdout once attached.
"""
import ctypes
import os
import re
import signal
import struct
import subprocess
import sys

# include/uapi/linux/bpf.h (checked against this machine's header)
BPF_PROG_LOAD = 5
BPF_RAW_TRACEPOINT_OPEN = 17
BPF_OBJ_GET_INFO_BY_FD = 15
BPF_PROG_TYPE_TRACING = 26
BPF_TRACE_RAW_TP = 23
SYS_BPF = 321  # x86-64


def die(msg):
    print(f"empty_tp_btf: {msg}", file=sys.stderr)
    sys.exit(1)


def btf_typedef_id(name):
    out = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"^\[(\d+)\] TYPEDEF '" + re.escape(name) + "'", out, re.M)
    if not m:
        die(f"no tracepoint {name!r} in the kernel's BTF")
    return int(m.group(1))


def bpf(libc, cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), len(attr))
    ret = libc.syscall(SYS_BPF, cmd, buf, len(attr))
    if ret < 0:
        return -ctypes.get_errno(), buf
    return ret, buf


def main():
    if len(sys.argv) != 2:
        die("usage: empty_tp_btf.py TRACEPOINT (e.g. netif_receive_skb)")
    tp = sys.argv[1]
    btf_id = btf_typedef_id("btf_trace_" + tp)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.syscall.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_uint]

    # r0 = 0; exit
    insns = ctypes.create_string_buffer(struct.pack("<BBhi", 0xb7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0), 16)
    license = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(65536)
    attr = bytearray(128)
    struct.pack_into("<IIQQIIQ", attr, 0, BPF_PROG_TYPE_TRACING, 2, ctypes.addressof(insns),
                     ctypes.addressof(license), 1, len(log), ctypes.addressof(log))
    attr[48:48 + 9] = b"capx_empty"[:9]
    struct.pack_into("<I", attr, 68, BPF_TRACE_RAW_TP)  # expected_attach_type
    struct.pack_into("<I", attr, 108, btf_id)           # attach_btf_id
    prog_fd, _ = bpf(libc, BPF_PROG_LOAD, attr)
    if prog_fd < 0:
        die(f"BPF_PROG_LOAD: {os.strerror(-prog_fd)}: {log.value.decode(errors='replace').strip()}")

    attr = bytearray(16)
    struct.pack_into("<QI", attr, 0, 0, prog_fd)  # name NULL: the program's attach_btf_id
    link_fd, _ = bpf(libc, BPF_RAW_TRACEPOINT_OPEN, attr)
    if link_fd < 0:
        die(f"BPF_RAW_TRACEPOINT_OPEN: {os.strerror(-link_fd)}")

    # struct bpf_prog_info starts with type, id
    info = bytearray(256)
    info_buf = ctypes.create_string_buffer(bytes(info), len(info))
    attr = bytearray(16)
    struct.pack_into("<IIQ", attr, 0, prog_fd, len(info), ctypes.addressof(info_buf))
    ret, _ = bpf(libc, BPF_OBJ_GET_INFO_BY_FD, attr)
    prog_id = struct.unpack_from("<I", info_buf.raw, 4)[0] if ret == 0 else 0
    print(f"attached {prog_id}", flush=True)

    # SIGINT too, explicitly: a shell starts background jobs with SIGINT
    # ignored, and Python then leaves it ignored.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
