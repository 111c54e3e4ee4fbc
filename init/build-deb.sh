#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds the Debian package saslauthd-ng_VERSION_ARCH.deb from this source
# tree: assembles a temporary tree with debian/ at its top (the packaging
# lives in init/debian/ so the repository's layout stays as it is), runs
# dpkg-buildpackage -b -us -uc there (debhelper 13, CMake build system),
# and copies the .deb into OUTDIR (default: build/deb).
#
#   init/build-deb.sh [--lintian] [OUTDIR]
#
# --lintian also runs lintian on the result and fails on an error.
# Needs: dpkg-dev, debhelper and the Build-Depends of init/debian/control
# (tests/deps.sh installs them).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
lint=0
if [ "${1:-}" = --lintian ]; then
	lint=1
	shift
fi
out=${1:-$src/build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The package's version is the CMake project's.
cmake_version=$(sed -nE 's/^project\(saslauthd-ng VERSION ([0-9.]+).*/\1/p' \
	"$src/CMakeLists.txt")
deb_version=$(sed -nE '1s/^saslauthd-ng \(([^)]+)\).*/\1/p' \
	"$src/init/debian/changelog")
if [ -z "$cmake_version" ] || [ "$cmake_version" != "$deb_version" ]; then
	echo "build-deb.sh: CMakeLists.txt says version '$cmake_version'," \
		"init/debian/changelog '$deb_version': add a changelog entry" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/saslauthd-ng-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/saslauthd-ng-$deb_version
mkdir "$tree"
cp -a "$src/CMakeLists.txt" "$src/README.md" "$src/saslauthd-ng" "$src/pam" \
	"$src/testsaslauthd" "$src/init" "$tree/"
cp -a "$src/init/debian" "$tree/debian"
# The service files under the names debhelper looks for.
for f in service init default tmpfiles; do
	cp -a "$src/init/saslauthd-ng.$f" "$tree/debian/saslauthd-ng.$f"
done

cd "$tree"
dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$tmp/build.log" 2>&1 || {
	tail -n 60 "$tmp/build.log" >&2
	echo "build-deb.sh: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=saslauthd-ng_${deb_version}_$arch.deb
cp "$tmp/$deb" "$out/"
echo "$out/$deb"
if [ "$lint" = 1 ]; then
	# Binary package checks; the tags of an upload (.changes) do not
	# apply to a local build.
	lintian --info --display-info --pedantic "$out/$deb" | tee "$tmp/lintian"
	if grep -q '^E: ' "$tmp/lintian"; then
		echo "build-deb.sh: lintian found errors" >&2
		exit 1
	fi
fi
