#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `meson install` into a scratch root puts exactly capx, its manual pages
# and its bash completion where a system tool's go, and the installed capx
# runs from there: no test program or bench helper slips into a package,
# and nothing (a build-tree RUNPATH) ties the binary to this build.
. "$(dirname "$0")/../integration/lib.sh"
require_capx
require_cmd meson readelf
W=$(work_dir)
root=$W/root

meson install -C "$CAPX_BUILD_ROOT" --destdir "$root" --no-rebuild >"$W/install.log" 2>&1 ||
	{ cat "$W/install.log" >&2; fail "meson install --destdir failed"; }

# What should be there: paths from the configured options (the build tree
# may be a /usr/local one), man pages from man/ itself, so one added there
# but not to man/meson.build is missed here. The completion goes where
# bash-completion's pkg-config file says, relative to this prefix.
# Meson keeps directory options relative to the prefix, unless given
# outside it.
under_prefix() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$CAPX_PREFIX/$1" ;;
	esac
}
sbin=$(under_prefix "$CAPX_SBINDIR")
man8=$(under_prefix "$CAPX_MANDIR")/man8
datadir=$(under_prefix "$CAPX_DATADIR")
if pkg-config --exists bash-completion 2>/dev/null; then
	completions=$(pkg-config --define-variable=datadir="$datadir" --variable=completionsdir bash-completion)
else
	completions=$datadir/bash-completion/completions
fi
{
	echo "$sbin/capx"
	for page in "$CAPX_SOURCE_ROOT"/man/*.8; do
		echo "$man8/$(basename "$page")"
	done
	echo "$completions/capx"
} | sort >"$W/expected"
# Files and symlinks, not directories: meson makes the directories it needs.
(cd "$root" && find . ! -type d | sed 's|^\.||' | sort) >"$W/installed"
if ! diff -u "$W/expected" "$W/installed" >"$W/diff"; then
	cat "$W/diff" >&2
	fail "the installed files are not the expected set (- missing, + unexpected)"
fi
note "installed: $(tr '\n' ' ' <"$W/installed")"

bin=$root$sbin/capx
[ -x "$bin" ] || fail "$bin is not executable"
if readelf -d "$bin" | grep -E 'R(UN)?PATH' >&2; then
	fail "the installed capx keeps a RUNPATH"
fi
out=$("$bin" --version 2>&1) || fail "installed capx --version exited $?: $out"
[ "$out" = "$CAPX_VERSION" ] || fail "installed capx --version printed '$out', not '$CAPX_VERSION'"
"$bin" --help >"$W/help" 2>&1 || fail "installed capx --help failed: $(cat "$W/help")"
grep -q '^Subcommands:' "$W/help" || fail "installed capx --help lists no subcommands"

# The pages are the ones in the source tree, and man can read them.
for page in "$CAPX_SOURCE_ROOT"/man/*.8; do
	cmp -s "$page" "$root$man8/$(basename "$page")" || fail "$man8/$(basename "$page") differs from man/"
done
bash -n "$root$completions/capx" || fail "the installed completion script does not parse"

echo "PASS: capx $out installed: $(wc -l <"$W/installed") files, as expected" >&2
