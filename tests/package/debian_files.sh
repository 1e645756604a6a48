#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# debian/ in step with the project, without building a package (that is
# a second full build; README, "Install"): the changelog's version is
# meson's project version, so the .deb says what `capx --version` prints,
# and Build-Depends holds every package of scripts/install-deps.sh's build
# list, so dpkg-buildpackage on a fresh machine finds what meson needs.
. "$(dirname "$0")/../integration/lib.sh"
deb=$CAPX_SOURCE_ROOT/debian
[ -d "$deb" ] || fail "no debian/ directory"

version=$(sed -n '1s/^[a-z0-9.+-]* (\([^)]*\)).*/\1/p' "$deb/changelog")
[ "$version" = "$CAPX_VERSION" ] ||
	fail "debian/changelog is at '$version', meson.build at '$CAPX_VERSION': add a changelog entry"
echo "ok - debian/changelog version $version" >&2

# The build group: from its "# build" comment to the next comment.
build_list=$(awk '/^[ \t]*# build$/ { f = 1; next } f && /^[ \t]*#/ { exit } f' \
	"$CAPX_SOURCE_ROOT/scripts/install-deps.sh" | tr -s ' \t' '\n' | grep -v '^$')
[ -n "$build_list" ] || fail "no '# build' group found in scripts/install-deps.sh"
# Build-Depends' package names, one a line (versions and profiles dropped).
build_depends=$(awk '/^Build-Depends:/ { f = 1; sub(/^Build-Depends:/, ""); print; next }
	f && /^[ \t]/ { print; next } { f = 0 }' "$deb/control" |
	tr ',' '\n' | sed -e 's/[(<[].*//' -e 's/[ \t]//g' | grep -v '^$')
failures=0
for p in $build_list; do
	# build-essential is implied for every package (lintian forbids
	# naming it); catch2 builds only the test suite, which debian/rules
	# turns off.
	case $p in build-essential | catch2) continue ;; esac
	if ! printf '%s\n' "$build_depends" | grep -qx -- "$p"; then
		echo "not ok - $p: in install-deps.sh's build list, not in debian/control's Build-Depends" >&2
		failures=$((failures + 1))
	fi
done
[ "$failures" -eq 0 ] || fail "$failures build dependencies missing from debian/control"
echo "ok - Build-Depends covers install-deps.sh's build list ($(echo $build_list | wc -w) packages)" >&2

[ -x "$deb/rules" ] || fail "debian/rules is not executable"
grep -q '^override_dh_auto_test:' "$deb/rules" ||
	fail "debian/rules runs the test suite (it needs root, qemu and namespaces)"
echo "PASS: debian/ matches meson.build and install-deps.sh" >&2
