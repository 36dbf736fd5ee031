#!/usr/bin/env bash
# Builds the Debian package locus_<version>_amd64.deb with debhelper
# (debian/): dpkg-buildpackage on a copy of the working tree (the files
# git knows) in build-deb/src, so that the checkout stays clean.  The .deb
# (and locus-dbgsym_*.deb, its detached debug symbols) land in
# build-deb/, with build.log.
#
#   scripts/package.sh        # prints the path of the .deb
#
# The version is debian/changelog's and must be the one CMakeLists.txt
# gives locus --version.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build-deb

scripts/deps.sh >&2

version=$(dpkg-parsechangelog -S Version)
cmake_version=$(sed -n 's/^project(locus VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
if [ "$version" != "$cmake_version" ]; then
	echo "package: debian/changelog says $version but CMakeLists.txt" \
		"says $cmake_version; add a changelog entry (dch -v" \
		"$cmake_version) or fix the project version" >&2
	exit 1
fi

# The files git knows (committed or not, deleted ones left out), not
# the build directories, the database of scripts/run.sh or node_modules.
rm -rf "$out"
mkdir -p "$out/src"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done |
	tar --null -T - -cf - | tar -xf - -C "$out/src"

(cd "$out/src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "package: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
deb=$out/locus_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || { echo "package: $deb was not made" >&2; exit 1; }
# the copy is kept only when the build failed, to look into
rm -rf "$out/src"
echo "$deb"
