#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Boot a Debian kernel under qemu (TCG) once, run the vm cases inside it,
and report each case as a TAP subtest on stdout.

The guest's serial console is the only channel back: the guest's /init
(tests/vm/init.sh) prints marker lines ("@@CAPX-VM@@ ...") for results and
for artefacts passed back in base64; everything else on the console is
copied to stderr and to work/console.log for the human reader.

Verdicts are in the TAP lines, and the exit status is 0 whenever the TAP
is complete, failed cases included: meson (1.0) turns any non-zero exit of
a TAP test into ERROR, 77 too, so "cannot run here" (no qemu, no kernel) is
the plan "1..0 # SKIP reason" with status 0, which meson reports as SKIP.
Only --shell and broken setups exit otherwise.
See tests/vm/README.md for the knobs (CAPX_VM_* variables).
"""

import argparse
import base64
import fnmatch
import gzip
import hashlib
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MARKER = "@@CAPX-VM@@"
DEFAULT_PACKAGE = "linux-image-cloud-amd64"
HERE = Path(__file__).resolve().parent


class Skip(Exception):
	"""The suite cannot run on this machine; the message says why."""


def log(message):
	print(f"run-vm: {message}", file=sys.stderr, flush=True)


def env_int(name, default):
	value = os.environ.get(name, "")
	return int(value) if value else default


# --- the kernel ------------------------------------------------------------

class Kernel:
	def __init__(self, vmlinuz, modules, release, label):
		self.vmlinuz = vmlinuz   # Path
		self.modules = modules   # Path to lib/modules/RELEASE, or None
		self.release = release   # "6.1.0-56-cloud-amd64"
		self.label = label       # what to print: package and version


class KernelSource:
	"""Where one kernel of the matrix comes from: an apt suite (None: the
	machine's own sources) and the package to boot there."""

	def __init__(self, name, suite, package, about):
		self.name = name         # --kernel NAME, meson test vm-NAME
		self.suite = suite
		self.package = package
		self.about = about


# The matrix. A suite's cloud metapackage names its newest kernel, so a
# Debian update moves the release without an edit here; the TAP lines name
# the release that ran. To add a kernel, add a line (and its name to the
# foreach in meson.build).
KERNELS = {k.name: k for k in (
	KernelSource("6.1", None, DEFAULT_PACKAGE, "Debian 12 (bookworm), the machine's own sources"),
	# Pinned: 6.12.95+deb12, the newest on 2026-12-07, dies under qemu 7.2
	# TCG (Debian 12's qemu) in each of 7 runs of all cases: a double fault
	# or general protection fault in kernel code with a corrupt EFLAGS, or
	# init killed by SIGSEGV, at boot or between cases; -cpu max, Nehalem
	# or qemu64, -smp 1 or 2, mitigations=off or auto alike. 6.12.90 and
	# 6.12.94 pass every case. Unpin (DEFAULT_PACKAGE) once a newer 6.12
	# boots: CAPX_VM_KERNEL_PACKAGE=linux-image-cloud-amd64 tries it.
	KernelSource("6.12", "bookworm-backports", "linux-image-6.12.94+deb12-cloud-amd64",
		     "Debian 12 backports, pinned (classic packaging)"),
	KernelSource("7", "trixie-backports", DEFAULT_PACKAGE,
		     "Debian 13 backports, the newest Debian offers (split packaging)"),
	# Not in meson.build's matrix (vm-7 covers the split packaging with a
	# newer release); for a by-hand run of what unstable ships.
	KernelSource("sid", "sid", DEFAULT_PACKAGE, "Debian unstable, by hand only (split packaging)"),
)}


def kernel_cache():
	cache = os.environ.get("CAPX_VM_KERNEL_CACHE") or os.environ.get("CAPX_VM_KERNEL_CACHE_OPTION")
	return Path(cache).expanduser() if cache else Path.home() / ".cache" / "capx-vm"


def deb822_stanzas(text):
	"""Stanzas of a deb822 file (sources.list(5)) as dicts, keys lowercase;
	a continuation line (leading blank) extends the field before it."""
	stanzas, fields, key = [], {}, None
	for line in text.splitlines() + [""]:
		if line.startswith("#"):
			continue
		if not line.strip():
			if fields:
				stanzas.append(fields)
			fields, key = {}, None
		elif line[0] in " \t" and key:
			fields[key] += "\n" + line.strip()
		elif ":" in line:
			key, _, value = line.partition(":")
			key = key.strip().lower()
			fields[key] = value.strip()
	return stanzas


def one_line_sources(text):
	"""The "deb [options] URI SUITE COMPONENTS" lines of a sources.list, in
	the deb822 shape deb822_stanzas gives."""
	stanzas = []
	for line in text.splitlines():
		match = re.match(r"\s*deb\s+(?:\[([^]]*)\]\s+)?(\S+)\s+(\S+)", line)
		if not match:
			continue
		fields = {"types": "deb", "uris": match.group(2), "suites": match.group(3)}
		for option in (match.group(1) or "").split():
			name, _, value = option.partition("=")
			fields[name.lower()] = value
		stanzas.append(fields)
	return stanzas


def machine_codename():
	for line in Path("/etc/os-release").read_text().splitlines():
		if line.startswith("VERSION_CODENAME="):
			return line.partition("=")[2].strip().strip('"')
	return None


def debian_archive():
	"""(URI, keyring or None) of the Debian archive this machine's apt uses,
	so no mirror is named here: the source that carries the machine's own
	release (bookworm, not bookworm-security, which is another archive).
	deb822 files first (Debian 12's debian.sources), then one-line ones."""
	etc = Path("/etc/apt")
	files = [etc / "sources.list.d" / "debian.sources"] + sorted((etc / "sources.list.d").glob("*.sources"))
	stanzas = []
	for path in dict.fromkeys(files):
		if path.is_file():
			stanzas += deb822_stanzas(path.read_text())
	for path in [etc / "sources.list"] + sorted((etc / "sources.list.d").glob("*.list")):
		if path.is_file():
			stanzas += one_line_sources(path.read_text())
	codename = machine_codename()
	for fields in stanzas:
		if fields.get("enabled", "yes").lower() == "no":
			continue
		if "deb" in fields.get("types", "").split() and codename in fields.get("suites", "").split():
			keyring = fields.get("signed-by", "")
			# Signed-By may also hold the key itself (several lines).
			if not keyring.startswith("/") or "\n" in keyring:
				keyring = None
			return fields["uris"].split()[0], keyring
	raise Skip(f"no Debian archive for {codename} in this machine's apt sources")


class Apt:
	"""apt-get and apt-cache for one kernel source. The machine's own
	configuration for suite None; otherwise a private one in DIRECTORY (a
	sources file with only SUITE, its own lists and caches), so the
	machine's sources and lists stay as they are.

	DIRECTORY is temporary, not in the kernel cache: apt fetches as the
	_apt user (when run as root), who cannot enter /root/.cache, and the
	unpacked kernel is what later runs reuse, not the lists."""

	def __init__(self, suite, directory):
		if not shutil.which("apt-get"):
			raise Skip("no apt-get to download the kernel package")
		self.suite = suite
		self.directory = directory
		self.options = []
		self.updated = False
		if suite:
			self._configure()

	def _configure(self):
		uri, keyring = debian_archive()
		keyring = keyring or "/usr/share/keyrings/debian-archive-keyring.gpg"
		options = f"[signed-by={keyring}] " if Path(keyring).is_file() else ""
		sources = self.directory / "sources.list"
		sources.write_text(f"deb {options}{uri} {self.suite} main\n")
		log(f"apt for {self.suite}: {sources.read_text().strip()}")
		for sub in ("lists/partial", "cache/archives/partial"):
			(self.directory / sub).mkdir(parents=True, exist_ok=True)
		self.options = ["-o", f"Dir::Etc::sourcelist={sources}", "-o", "Dir::Etc::sourceparts=-",
				"-o", f"Dir::State::Lists={self.directory / 'lists'}",
				"-o", f"Dir::Cache={self.directory / 'cache'}"]

	def update(self):
		"""apt-get update: always for a private suite (it starts with no
		lists), once as a retry for the machine's sources, as root only."""
		if self.updated or (not self.suite and os.geteuid() != 0):
			return False
		self.updated = True
		log(f"apt-get update ({self.suite or 'the machine sources'})")
		run = subprocess.run(["apt-get", *self.options, "update", "-qq"], capture_output=True, text=True)
		if run.returncode != 0 and self.suite:
			reason = (run.stderr.strip().splitlines() or ["failed"])[-1]
			raise Skip(f"apt-get update for {self.suite} failed: {reason}")
		return True

	def download(self, package, version=None):
		"""Download PACKAGE (=VERSION) into the directory; a private suite
		is updated first, the machine's sources only when apt does not know
		the package (a fresh container has no lists)."""
		if self.suite:
			self.update()
		spec = f"{package}={version}" if version else package
		while True:
			# apt keeps the archive's file times: an older .deb left here
			# could look newer than the one just fetched.
			for old in self.directory.glob(f"{package}_*.deb"):
				old.unlink()
			run = subprocess.run(["apt-get", *self.options, "download", "-q", spec],
					     cwd=self.directory, capture_output=True, text=True)
			debs = list(self.directory.glob(f"{package}_*.deb"))
			if run.returncode == 0 and len(debs) == 1:
				return debs[0]
			if not self.update():
				reason = (run.stderr.strip().splitlines() or ["no .deb"])[-1]
				raise Skip(f"cannot download {spec}{self.where()}: {reason}")

	def where(self):
		return f" from {self.suite}" if self.suite else ""


def apt_directory():
	"""A temporary directory for apt; the _apt user may write it (apt warns
	and downloads unsandboxed otherwise)."""
	directory = Path(tempfile.mkdtemp(prefix="capx-vm-apt-"))
	if os.geteuid() == 0:
		try:
			shutil.chown(directory, user="_apt")
		except (LookupError, OSError):
			pass
	return directory


def deb_field(deb, field):
	return subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True,
			      text=True, check=True).stdout.strip()


def deb_has_vmlinuz(deb):
	"""Classic packaging has boot/vmlinuz-RELEASE; the split packaging of
	Debian's 7.x kernels (linux-binary-RELEASE) usr/lib/modules/RELEASE/vmlinuz."""
	listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True,
				 text=True, check=True).stdout
	return re.search(r"\./boot/vmlinuz-|\./usr/lib/modules/[^/]+/vmlinuz$", listing, re.M) is not None


def dependencies(deb):
	"""(name, exact version or None) of each package DEB depends on, the
	first of each set of alternatives."""
	found = []
	for group in deb_field(deb, "Depends").split(","):
		match = re.match(r"\s*([^\s(|]+)\s*(?:\(\s*=\s*([^)\s]+)\s*\))?", group)
		if match:
			found.append((match.group(1), match.group(2)))
	return found


def image_dependency(deb):
	"""The versioned linux-image package a metapackage depends on."""
	for name, version in dependencies(deb):
		if name.startswith("linux-image-"):
			return name, version
	return None


def split_parts(deb):
	"""The packages an empty linux-image-RELEASE of the split packaging
	depends on for the kernel itself: linux-binary-RELEASE (vmlinuz),
	linux-modules-RELEASE (the modules), linux-base-RELEASE (config,
	System.map, modules.builtin*). Empty for a classic image."""
	parts = [(n, v) for n, v in dependencies(deb)
		 if re.match(r"linux-(binary|modules|base)-\d", n)]
	return parts if any(n.startswith("linux-binary-") for n, _ in parts) else []


def kernel_debs(apt, package):
	"""Download PACKAGE (a linux-image metapackage or a versioned image)
	and what holds its kernel: the .debs to unpack, the image first."""
	name, version = package, None
	for _ in range(3):   # metapackage -> versioned image
		deb = apt.download(name, version)
		if deb_has_vmlinuz(deb):
			return [deb]
		parts = split_parts(deb)
		if parts:
			debs = [deb] + [apt.download(n, v) for n, v in parts]
			if not any(deb_has_vmlinuz(d) for d in debs[1:]):
				raise Skip(f"{deb.name}: none of {', '.join(n for n, _ in parts)} holds a vmlinuz")
			return debs
		dependency = image_dependency(deb)
		if not dependency:
			raise Skip(f"{deb.name} holds no kernel and depends on no linux-image package")
		name, version = dependency
	raise Skip(f"{package}: no kernel image after following dependencies")


def unpacked_kernel(directory, label):
	"""The kernel in an unpacked tree: classic (boot/vmlinuz-RELEASE,
	lib/modules/RELEASE) or split (usr/lib/modules/RELEASE/vmlinuz)."""
	classic = sorted(directory.glob("boot/vmlinuz-*"))
	if classic:
		vmlinuz, release = classic[-1], classic[-1].name[len("vmlinuz-"):]
	else:
		split = sorted(directory.glob("usr/lib/modules/*/vmlinuz"))
		if not split:
			return None
		vmlinuz, release = split[-1], split[-1].parent.name
	for modules in (directory / "lib" / "modules" / release, directory / "usr" / "lib" / "modules" / release):
		if (modules / "kernel").is_dir():
			return Kernel(vmlinuz, modules, release, label)
	return Kernel(vmlinuz, None, release, label)


def cache_link(cache, source, package):
	"""The file naming the unpacked tree a source's package stands for; the
	machine's own sources keep the name earlier runs used."""
	if source.suite:
		return cache / f"{source.suite}_{package}.use"
	return cache / f"{package}.use"


def fetch_kernel(source, package, refresh):
	"""Download and unpack PACKAGE from SOURCE's suite into the cache, or
	reuse what an earlier run unpacked there."""
	cache = kernel_cache()
	link = cache_link(cache, source, package)
	if link.exists() and not refresh:
		directory = cache / link.read_text().strip()
		label = (directory / "label").read_text().strip() if (directory / "label").exists() else directory.name
		kernel = unpacked_kernel(directory, label)
		if kernel:
			return kernel, "cached"
	if not shutil.which("dpkg-deb"):
		raise Skip("no dpkg-deb to unpack the kernel package")
	cache.mkdir(parents=True, exist_ok=True)
	scratch = apt_directory()
	try:
		apt = Apt(source.suite, scratch)
		debs = kernel_debs(apt, package)
		image = debs[0]
		label = f"{deb_field(image, 'Package')} {deb_field(image, 'Version')}" + \
			(f" from {source.suite}" if source.suite else "")
		directory = cache / image.stem
		if not unpacked_kernel(directory, label):
			# Unpack beside and rename: a concurrent run never sees half a tree.
			staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=cache))
			for deb in debs:
				subprocess.run(["dpkg-deb", "-x", str(deb), str(staging)], check=True)
			(staging / "label").write_text(label + "\n")
			if directory.exists():
				shutil.rmtree(directory)
			staging.rename(directory)
		link.write_text(directory.name + "\n")
	finally:
		# The unpacked tree is the cache; the archives and lists are not needed again.
		shutil.rmtree(scratch, ignore_errors=True)
	return unpacked_kernel(directory, label), "downloaded"


def find_kernel(source, refresh):
	local = os.environ.get("CAPX_VM_KERNEL")
	if local:
		vmlinuz = Path(local)
		if not vmlinuz.is_file():
			raise Skip(f"CAPX_VM_KERNEL={local} is not a file")
		modules = os.environ.get("CAPX_VM_MODULES")
		modules = Path(modules) if modules else None
		release = modules.name if modules else re.sub(r"^vmlinuz-", "", vmlinuz.name)
		return Kernel(vmlinuz, modules, release, f"local {vmlinuz}"), "local"
	return fetch_kernel(source, os.environ.get("CAPX_VM_KERNEL_PACKAGE", source.package), refresh)


# --- kernel modules ----------------------------------------------------------

MODULE_FILE = r"\.ko(\.xz|\.gz)?$"


def module_name(path):
	"""A module's name from its file: veth.ko, veth.ko.xz -> veth (names
	use "_" where files may have "-", as modprobe treats them alike)."""
	return re.sub(MODULE_FILE, "", Path(path).name).replace("-", "_")


def module_bytes(ko):
	"""The ELF module in KO, decompressed: Debian's 6.12 and 7.x kernels
	ship modules as .ko.xz (CONFIG_MODULE_COMPRESS_XZ), and busybox's insmod
	hands the file to the kernel as it is."""
	data = ko.read_bytes()
	if ko.name.endswith(".xz"):
		return lzma.decompress(data)
	if ko.name.endswith(".gz"):
		return gzip.decompress(data)
	return data


def modinfo_depends(ko):
	"""The "depends=" entry of a module's .modinfo ELF section (what depmod
	reads; see scripts/mod/modpost.c), without needing kmod on the host."""
	data = module_bytes(ko)
	if data[:4] != b"\x7fELF" or data[4] != 2:
		raise RuntimeError(f"{ko}: not a 64-bit ELF module")
	shoff, = struct.unpack_from("<Q", data, 0x28)
	shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

	def section(index):
		name, _, _, _, offset, size = struct.unpack_from("<IIQQQQ", data, shoff + index * shentsize)
		return name, offset, size

	_, strings, _ = section(shstrndx)
	for index in range(shnum):
		name, offset, size = section(index)
		if data[strings + name:data.index(b"\0", strings + name)] == b".modinfo":
			for entry in data[offset:offset + size].split(b"\0"):
				if entry.startswith(b"depends="):
					return [d for d in entry[8:].decode().split(",") if d]
	return []


def module_load_order(kernel, wanted):
	"""Module files for WANTED and their dependencies, dependencies first.
	Built-in modules are left out; a module found nowhere is an error."""
	if not wanted:
		return []
	if not kernel.modules:
		raise RuntimeError(f"cases need modules {wanted} but the kernel has no module tree")
	files = {module_name(p): p for p in kernel.modules.rglob("*.ko*") if re.search(MODULE_FILE, p.name)}
	builtin_list = kernel.modules / "modules.builtin"
	builtin = set()
	if builtin_list.exists():
		builtin = {module_name(line) for line in builtin_list.read_text().split()}
	order = []

	def visit(name):
		name = module_name(name)
		if name in builtin or files.get(name) in order:
			return
		if name not in files:
			raise RuntimeError(f"module {name} is neither built in nor in {kernel.modules}")
		for dependency in modinfo_depends(files[name]):
			visit(dependency)
		order.append(files[name])

	for name in wanted:
		visit(name)
	return order


# --- the initramfs -----------------------------------------------------------

class Cpio:
	"""A newc ("070701") archive, written directly: the format is small
	(see the kernel's Documentation/driver-api/early-userspace/buffer-format.rst)
	and this spares the host a cpio package and a staging tree."""

	def __init__(self):
		self.entries = {}   # path -> (mode, data)

	def directory(self, path):
		path = path.strip("/")
		parts = path.split("/")
		for i in range(1, len(parts) + 1):
			self.entries.setdefault("/".join(parts[:i]), (0o040755, b""))

	def file(self, path, data, mode=0o100644):
		path = path.strip("/")
		if "/" in path:
			self.directory(os.path.dirname(path))
		self.entries[path] = (mode, data)

	def symlink(self, path, target):
		path = path.strip("/")
		if "/" in path:
			self.directory(os.path.dirname(path))
		self.entries[path] = (0o120777, target.encode())

	def copy(self, source, path, mode=None):
		source = Path(source)
		self.file(path, source.read_bytes(), mode or (0o100755 if os.access(source, os.X_OK) else 0o100644))

	def bytes(self):
		out = bytearray()

		def entry(ino, name, mode, data):
			encoded = name.encode() + b"\0"
			fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0]
			out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + encoded)
			out.extend(b"\0" * (-len(out) % 4))
			out.extend(data)
			out.extend(b"\0" * (-len(out) % 4))

		for ino, name in enumerate(sorted(self.entries), start=1):
			mode, data = self.entries[name]
			entry(ino, name, mode, data)
		entry(0, "TRAILER!!!", 0, b"")
		return bytes(out)


def shared_libraries(binary):
	"""Paths ldd resolves for BINARY, the dynamic loader included."""
	run = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
	if run.returncode != 0:   # static: nothing to add
		return []
	paths = []
	for line in run.stdout.splitlines():
		match = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
		if match:
			paths.append(match.group(1))
	return paths


def stripped(binary):
	"""Debug info is most of a debugoptimized binary and useless in the
	guest; a stripped copy keeps the initramfs (and its gzip time) small."""
	data = Path(binary).read_bytes()
	# A BPF object (a case's data, not a program) keeps its BTF as it is.
	if not shutil.which("objcopy") or str(binary).endswith(".bpf.o"):
		return data
	with tempfile.NamedTemporaryFile() as out:
		run = subprocess.run(["objcopy", "--strip-debug", str(binary), out.name], capture_output=True)
		return Path(out.name).read_bytes() if run.returncode == 0 else data


def add_program(cpio, source, name):
	cpio.file(f"usr/local/bin/{name}", stripped(source), 0o100755)
	for library in shared_libraries(source):
		if library.strip("/") not in cpio.entries:
			cpio.file(library, Path(library).read_bytes(), 0o100755)


def case_header(case, key):
	"""Words of a "# vm-KEY: a b c" line in a case file's header."""
	words = []
	for line in case.read_text().splitlines():
		match = re.match(rf"#\s*vm-{key}:\s*(.*)", line)
		if match:
			words += match.group(1).split()
	return words


def find_program(name):
	for path in filter(None, os.environ.get("CAPX_VM_PROGRAMS", "").split(":")):
		if Path(path).name == name:
			return Path(path)
	found = shutil.which(name)
	return Path(found) if found else None


def build_initramfs(kernel, cases, capx, work, shell):
	busybox = shutil.which("busybox")
	if not busybox or shared_libraries(busybox):
		raise Skip("no static busybox (apt-get install busybox-static)")
	cpio = Cpio()
	for directory in ("proc", "sys", "dev", "tmp", "run", "root", "etc", "usr/local/bin"):
		cpio.directory(directory)
	cpio.copy(busybox, "bin/busybox", 0o100755)
	cpio.copy(HERE / "init.sh", "init", 0o100755)
	cpio.copy(HERE / "lib.sh", "lib/capx-vm/lib.sh")
	cpio.copy(HERE / "vm-case.sh", "usr/local/bin/vm-case", 0o100755)
	add_program(cpio, capx, "capx")

	programs, modules = set(), []
	for case in cases:
		cpio.copy(case, f"lib/capx-vm/cases/{case.name}", 0o100755)
		programs.update(case_header(case, "programs"))
		modules += case_header(case, "modules")
	for name in sorted(programs):
		path = find_program(name)
		if not path:
			raise RuntimeError(f"a case needs program {name}, found neither in the build nor in PATH")
		add_program(cpio, path, name)

	order = module_load_order(kernel, modules)
	paths = [f"lib/modules/{kernel.release}/{module_name(ko)}.ko" for ko in order]
	for ko, path in zip(order, paths):
		cpio.file(path, module_bytes(ko))
	cpio.file("etc/capx-vm/modules", "".join(f"/{path}\n" for path in paths).encode())
	cpio.file("etc/capx-vm/kernel-release", (kernel.release + "\n").encode())
	cpio.file("etc/capx-vm/mode", b"shell\n" if shell else b"cases\n")
	cpio.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
	cpio.file("etc/group", b"root:x:0:\n")

	image = work / "initramfs.cpio"
	image.write_bytes(cpio.bytes())
	return image


# --- running the guest -------------------------------------------------------

def qemu_command(kernel, initramfs, interactive):
	qemu = shutil.which("qemu-system-x86_64")
	if not qemu:
		raise Skip("no qemu-system-x86_64 (apt-get install qemu-system-x86)")
	# TCG unless CAPX_VM_ACCEL says otherwise (e.g. "kvm:tcg": KVM, else
	# TCG; -machine accel= syntax, -accel refuses the list): this machine's
	# /dev/kvm is nested KVM that stops the guest at its first
	# instructions ("KVM internal error. Suberror: 1").
	accel = os.environ.get("CAPX_VM_ACCEL", "tcg")
	# quiet + loglevel=3 keep kernel chatter off the result channel; panic=-1
	# and -no-reboot turn a guest panic into a qemu exit, not a hang.
	append = "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic mitigations=off " + \
		f"capx_vm.case_timeout={env_int('CAPX_VM_CASE_TIMEOUT', 180)} " + \
		os.environ.get("CAPX_VM_APPEND", "")
	return [qemu, "-machine", f"accel={accel}", "-nodefaults", "-display", "none", "-nic", "none",
		"-serial", "mon:stdio" if interactive else "stdio",
		"-no-reboot", "-m", os.environ.get("CAPX_VM_MEMORY", "1024"),
		"-smp", os.environ.get("CAPX_VM_SMP", "2"),
		# qemu's default CPU model (qemu64) lacks SSE4.2, which Debian's
		# DPDK is built for (-march=corei7): its programs die of SIGILL.
		"-cpu", os.environ.get("CAPX_VM_CPU", "max"),
		"-kernel", str(kernel.vmlinuz), "-initrd", str(initramfs), "-append", append.strip()]


class Console:
	"""Reads the guest's serial console: results, artefacts, and the rest."""

	def __init__(self, work, names):
		self.names = names
		self.results = {}     # case -> (verdict, reason)
		self.logs = {n: [] for n in names}
		self.artefacts = work / "artefacts"
		self.corrupt = {}     # case -> reason
		self.booted = None    # seconds since qemu started
		self.release = None
		self.crash = None     # the guest kernel's first oops or panic line
		self.done = False
		self.transcript = open(work / "console.log", "w")
		self._file = None

	def line(self, text, elapsed):
		self.transcript.write(text + "\n")
		at = text.find(MARKER)
		if at < 0:
			print(text, file=sys.stderr, flush=True)
			# The kernel's own report of its death, whatever the loglevel
			# (oops and panic print at KERN_EMERG): it explains every case
			# that reports nothing after it.
			oops = re.search(r"\]\s+((?:traps: PANIC|Oops|Kernel panic|BUG)\b.*)", text)
			if oops and not self.crash:
				self.crash = oops.group(1)
			match = re.match(r"\[([\w.-]+)\] (.*)", text)
			if match and match.group(1) in self.logs:
				self.logs[match.group(1)].append(match.group(2))
			return
		kind, _, rest = text[at + len(MARKER):].strip().partition(" ")
		if kind == "b64" and self._file:
			self._file["chunks"].append(rest.strip())
			return
		print(text[at:], file=sys.stderr, flush=True)
		words = rest.split()
		if kind == "booted":
			self.booted = elapsed
			self.release = words[0] if words else None
		elif kind == "result" and len(words) >= 2:
			self.results[words[0]] = (words[1], " ".join(words[2:]))
		elif kind == "file-begin" and len(words) == 4:
			self._file = {"case": words[0], "name": words[1], "size": int(words[2]),
				      "sha256": words[3], "chunks": []}
		elif kind == "file-end" and self._file:
			self._finish_file()
		elif kind == "done":
			self.done = True

	def _finish_file(self):
		f, self._file = self._file, None
		try:
			data = base64.b64decode("".join(f["chunks"]), validate=True)
		except ValueError as error:
			data, problem = b"", str(error)
		else:
			problem = None
		if not problem and (len(data) != f["size"] or hashlib.sha256(data).hexdigest() != f["sha256"]):
			problem = f"{len(data)} bytes arrived, {f['size']} sent, or the sha256 differs"
		if problem:
			self.corrupt[f["case"]] = f"artefact {f['name']} damaged on the console: {problem}"
			return
		target = self.artefacts / f["case"] / f["name"]
		target.parent.mkdir(parents=True, exist_ok=True)
		target.write_bytes(data)


def run_guest(command, console, timeout):
	"""Run qemu, feeding its console to CONSOLE; kill it after TIMEOUT s."""
	started = time.monotonic()
	qemu = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
				stderr=subprocess.STDOUT)
	timer = threading.Timer(timeout, qemu.kill)
	timer.start()
	try:
		for raw in qemu.stdout:
			text = raw.decode(errors="replace").rstrip("\r\n").replace("\r", "")
			console.line(text, time.monotonic() - started)
	finally:
		timer.cancel()
		qemu.wait()
	elapsed = time.monotonic() - started
	return elapsed, elapsed >= timeout


def host_check(case, artefacts):
	"""Run CASE's host half (NAME.host.sh), if any, on what the guest sent."""
	host = case.with_name(case.stem + ".host.sh")
	if not host.exists():
		return None
	env = dict(os.environ, VM_ARTEFACTS=str(artefacts / case.stem), VM_CASE=case.stem)
	# In the case's artefact folder: scratch files of the host half stay
	# out of the source tree (meson runs tests from there).
	workdir = artefacts / case.stem
	workdir.mkdir(parents=True, exist_ok=True)
	run = subprocess.run(["bash", str(host)], env=env, cwd=workdir, capture_output=True, text=True)
	return run.returncode, (run.stdout + run.stderr).strip()


def tap_line(number, name, verdict, reason):
	if verdict == "skip":
		return f"ok {number} {name} # SKIP {reason}"
	text = f"{'ok' if verdict == 'ok' else 'not ok'} {number} {name}"
	return text + (f" - {reason}" if reason and verdict != "ok" else "")


def select_cases(patterns):
	cases = sorted(p for p in (HERE / "cases").glob("*.sh") if not p.name.endswith(".host.sh"))
	if patterns:
		cases = [c for c in cases if any(fnmatch.fnmatch(c.stem, f"*{p}*") for p in patterns)]
	return cases


def main():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--case", action="append", default=[],
			    help="run only cases whose name contains this (repeatable)")
	parser.add_argument("--shell", action="store_true",
			    help="boot, load modules, then give a shell on this terminal")
	parser.add_argument("--refresh", action="store_true",
			    help="ask apt again which kernel the package names")
	parser.add_argument("--kernel", choices=sorted(KERNELS), default="6.1",
			    help="which kernel of the matrix to boot (default 6.1): " +
			    "; ".join(f"{k.name}: {k.about}" for k in KERNELS.values()))
	args = parser.parse_args()
	source = KERNELS[args.kernel]
	patterns = args.case + os.environ.get("CAPX_VM_CASES", "").split()
	cases = select_cases(patterns)
	total_started = time.monotonic()

	try:
		capx = os.environ.get("CAPX")
		if not capx or not Path(capx).is_file():
			raise Skip("CAPX does not name the capx binary (run through meson test)")
		kernel, origin = find_kernel(source, args.refresh or bool(os.environ.get("CAPX_VM_REFRESH")))
		# One directory per kernel: each run keeps its console.log.
		work = Path(os.environ.get("CAPX_BUILD_ROOT", tempfile.gettempdir())) / "tests" / "vm" / "work" / args.kernel
		shutil.rmtree(work, ignore_errors=True)
		work.mkdir(parents=True)
		command = qemu_command(kernel, work / "initramfs.cpio", args.shell)
		initramfs = build_initramfs(kernel, cases, capx, work, args.shell)
	except Skip as reason:
		reason = f"kernel {source.name} ({source.suite or 'default sources'}): {reason}"
		print(f"1..0 # SKIP {reason}", flush=True)
		log(f"skipped: {reason}")
		return 0
	log(f"kernel {kernel.release} ({kernel.label}, {origin}: {kernel.vmlinuz})")
	log(f"initramfs {initramfs.stat().st_size // 1024} KiB, {len(cases)} cases, {command[2]}")

	if args.shell:
		return subprocess.run(command).returncode

	print(f"1..{len(cases)}", flush=True)
	print(f"# kernel {args.kernel}: {kernel.release} ({kernel.label})", flush=True)
	names = [c.stem for c in cases]
	console = Console(work, names)
	elapsed, timed_out = run_guest(command, console, env_int("CAPX_VM_TIMEOUT", 780))

	failed = 0
	# What explains each failure, repeated on stderr after everything else:
	# meson shows only the end of a long log, and the guest's console fills it.
	explanations = []
	for number, case in enumerate(cases, start=1):
		missing = f"the guest kernel crashed: {console.crash}" if console.crash else "the guest reported no result"
		verdict, reason = console.results.get(case.stem, ("fail", missing))
		if timed_out and case.stem not in console.results:
			reason = f"qemu killed after {elapsed:.0f} s"
		if case.stem in console.corrupt and verdict != "skip":
			verdict, reason = "fail", console.corrupt[case.stem]
		if verdict == "ok":
			checked = host_check(case, console.artefacts)
			if checked:
				status, output = checked
				for text in output.splitlines():
					print(f"# [{case.stem} host] {text}", flush=True)
				if status == 77:
					verdict, reason = "skip", (output.splitlines() or ["host check skipped"])[-1]
				elif status != 0:
					verdict, reason = "fail", "host check failed"
					explanations += [f"[{case.stem} host] {t}" for t in output.splitlines()[-30:]]
		if verdict == "fail":
			failed += 1
			for text in console.logs[case.stem][-40:]:
				print(f"# {text}", flush=True)
			explanations += [f"[{case.stem}] {t}" for t in console.logs[case.stem][-15:]]
			explanations.append(f"{case.stem} failed: {reason}")
		print(tap_line(number, f"{case.stem} on {kernel.release}", verdict, reason), flush=True)

	boot = f"{console.booted:.1f} s" if console.booted is not None else "never"
	summary = f"{kernel.release}: boot {boot}, guest {elapsed:.1f} s, total {time.monotonic() - total_started:.1f} s"
	print(f"# {summary}", flush=True)
	log(summary)
	if console.release and console.release != kernel.release:
		print(f"# the guest runs {console.release}, expected {kernel.release}", flush=True)
	if failed:
		for text in explanations:
			log(text)
		log(f"{failed} of {len(cases)} cases failed")
	return 0


if __name__ == "__main__":
	sys.exit(main())
