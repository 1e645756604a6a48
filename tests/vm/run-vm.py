#!/usr/bin/env python3
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
import hashlib
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


def kernel_cache():
	cache = os.environ.get("CAPX_VM_KERNEL_CACHE") or os.environ.get("CAPX_VM_KERNEL_CACHE_OPTION")
	return Path(cache).expanduser() if cache else Path.home() / ".cache" / "capx-vm"


def apt_download(package, directory):
	"""Download PACKAGE's .deb into DIRECTORY; an `apt-get update` is tried
	once when apt does not know the package (a fresh container has no lists)."""
	if not shutil.which("apt-get"):
		raise Skip("no apt-get to download the kernel package")
	for attempt in (1, 2):
		# apt keeps the archive's file times: an older .deb left here
		# could look newer than the one just fetched.
		for old in directory.glob(f"{package}_*.deb"):
			old.unlink()
		run = subprocess.run(["apt-get", "download", "-q", package], cwd=directory,
				     capture_output=True, text=True)
		debs = list(directory.glob(f"{package}_*.deb"))
		if run.returncode == 0 and len(debs) == 1:
			return debs[0]
		if attempt == 1 and os.geteuid() == 0:
			log(f"apt-get download {package} failed; trying apt-get update first")
			subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
			continue
		reason = (run.stderr.strip().splitlines() or ["no .deb"])[-1]
		raise Skip(f"cannot download {package}: {reason}")


def deb_field(deb, field):
	return subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True,
			      text=True, check=True).stdout.strip()


def deb_has_vmlinuz(deb):
	listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True,
				 text=True, check=True).stdout
	return re.search(r"\./boot/vmlinuz-", listing) is not None


def image_dependency(deb):
	"""The versioned linux-image package a metapackage depends on."""
	for alternative in re.split(r"[,|]", deb_field(deb, "Depends")):
		name = alternative.strip().split(" ")[0]
		if name.startswith("linux-image-"):
			return name
	return None


def unpacked_kernel(directory, label):
	vmlinuz = sorted(directory.glob("boot/vmlinuz-*"))
	if not vmlinuz:
		return None
	release = vmlinuz[-1].name[len("vmlinuz-"):]
	modules = directory / "lib" / "modules" / release
	return Kernel(vmlinuz[-1], modules if modules.is_dir() else None, release, label)


def fetch_kernel(package, refresh):
	"""Download and unpack PACKAGE (a linux-image metapackage or a versioned
	image) into the cache, or reuse what an earlier run unpacked there."""
	cache = kernel_cache()
	link = cache / f"{package}.use"
	if link.exists() and not refresh:
		directory = cache / link.read_text().strip()
		label = (directory / "label").read_text().strip() if (directory / "label").exists() else directory.name
		kernel = unpacked_kernel(directory, label)
		if kernel:
			return kernel, "cached"
	if not shutil.which("dpkg-deb"):
		raise Skip("no dpkg-deb to unpack the kernel package")
	debs = cache / "debs"
	debs.mkdir(parents=True, exist_ok=True)
	name = package
	for _ in range(3):   # metapackage -> versioned image
		deb = apt_download(name, debs)
		if deb_has_vmlinuz(deb):
			break
		name = image_dependency(deb)
		if not name:
			raise Skip(f"{deb.name} holds no kernel and depends on no linux-image package")
	else:
		raise Skip(f"{package}: no kernel image after following dependencies")
	label = f"{deb_field(deb, 'Package')} {deb_field(deb, 'Version')}"
	directory = cache / deb.stem
	if not unpacked_kernel(directory, label):
		# Unpack beside and rename: a concurrent run never sees half a tree.
		staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=cache))
		subprocess.run(["dpkg-deb", "-x", str(deb), str(staging)], check=True)
		(staging / "label").write_text(label + "\n")
		if directory.exists():
			shutil.rmtree(directory)
		staging.rename(directory)
	link.write_text(directory.name + "\n")
	# The unpacked tree is the cache; the archives are not needed again.
	shutil.rmtree(debs, ignore_errors=True)
	return unpacked_kernel(directory, label), "downloaded"


def find_kernel(refresh):
	local = os.environ.get("CAPX_VM_KERNEL")
	if local:
		vmlinuz = Path(local)
		if not vmlinuz.is_file():
			raise Skip(f"CAPX_VM_KERNEL={local} is not a file")
		modules = os.environ.get("CAPX_VM_MODULES")
		modules = Path(modules) if modules else None
		release = modules.name if modules else re.sub(r"^vmlinuz-", "", vmlinuz.name)
		return Kernel(vmlinuz, modules, release, f"local {vmlinuz}"), "local"
	return fetch_kernel(os.environ.get("CAPX_VM_KERNEL_PACKAGE", DEFAULT_PACKAGE), refresh)


# --- kernel modules ----------------------------------------------------------

def modinfo_depends(ko):
	"""The "depends=" entry of a module's .modinfo ELF section (what depmod
	reads; see scripts/mod/modpost.c), without needing kmod on the host."""
	data = ko.read_bytes()
	if data[:4] != b"\x7fELF" or data[4] != 2:
		raise RuntimeError(f"{ko}: not a 64-bit ELF module (compressed?)")
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
	norm = lambda name: name.replace("-", "_")
	files = {norm(p.stem): p for p in kernel.modules.rglob("*.ko")}
	builtin_list = kernel.modules / "modules.builtin"
	builtin = set()
	if builtin_list.exists():
		builtin = {norm(Path(line).stem) for line in builtin_list.read_text().split()}
	order = []

	def visit(name):
		name = norm(name)
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
	if not shutil.which("objcopy"):
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
	for ko in order:
		cpio.copy(ko, f"lib/modules/{kernel.release}/{ko.name}")
	cpio.file("etc/capx-vm/modules", "".join(f"/lib/modules/{kernel.release}/{ko.name}\n" for ko in order).encode())
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
		self.done = False
		self.transcript = open(work / "console.log", "w")
		self._file = None

	def line(self, text, elapsed):
		self.transcript.write(text + "\n")
		at = text.find(MARKER)
		if at < 0:
			print(text, file=sys.stderr, flush=True)
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
	args = parser.parse_args()
	patterns = args.case + os.environ.get("CAPX_VM_CASES", "").split()
	cases = select_cases(patterns)
	total_started = time.monotonic()

	try:
		capx = os.environ.get("CAPX")
		if not capx or not Path(capx).is_file():
			raise Skip("CAPX does not name the capx binary (run through meson test)")
		kernel, origin = find_kernel(args.refresh or bool(os.environ.get("CAPX_VM_REFRESH")))
		work = Path(os.environ.get("CAPX_BUILD_ROOT", tempfile.gettempdir())) / "tests" / "vm" / "work"
		shutil.rmtree(work, ignore_errors=True)
		work.mkdir(parents=True)
		command = qemu_command(kernel, work / "initramfs.cpio", args.shell)
		initramfs = build_initramfs(kernel, cases, capx, work, args.shell)
	except Skip as reason:
		print(f"1..0 # SKIP {reason}", flush=True)
		log(f"skipped: {reason}")
		return 0
	log(f"kernel {kernel.release} ({kernel.label}, {origin}: {kernel.vmlinuz})")
	log(f"initramfs {initramfs.stat().st_size // 1024} KiB, {len(cases)} cases, {command[2]}")

	if args.shell:
		return subprocess.run(command).returncode

	print(f"1..{len(cases)}", flush=True)
	print(f"# kernel {kernel.release} ({kernel.label})", flush=True)
	names = [c.stem for c in cases]
	console = Console(work, names)
	elapsed, timed_out = run_guest(command, console, env_int("CAPX_VM_TIMEOUT", 780))

	failed = 0
	# What explains each failure, repeated on stderr after everything else:
	# meson shows only the end of a long log, and the guest's console fills it.
	explanations = []
	for number, case in enumerate(cases, start=1):
		verdict, reason = console.results.get(case.stem, ("fail", "the guest reported no result"))
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
		print(tap_line(number, case.stem, verdict, reason), flush=True)

	boot = f"{console.booted:.1f} s" if console.booted is not None else "never"
	summary = f"boot {boot}, guest {elapsed:.1f} s, total {time.monotonic() - total_started:.1f} s"
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
