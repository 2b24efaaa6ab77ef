#!/bin/sh
# Usage: shlibdeps.sh ROOT — prints the Debian Depends value ("libc6 (>= 2.34), …") the
# programs in ROOT/usr/bin need, as dpkg-shlibdeps computes it from the packages of
# this machine that provide their shared libraries (`make deb-package` puts it in
# place of ${shlibs:Depends} in debian/control).
#
# dpkg-shlibdeps wants a source tree's debian/control: a minimal one in a temporary
# directory will do. A library that no package provides (the Swift runtime of a debug
# build, found through the programs' RUNPATH) has no dependency information and is left
# out with a warning: only a release build, which carries the Swift runtime and
# Foundation inside, makes a package for machines without a Swift toolchain.
# --warnings=1 leaves out the notes on libraries linked but unused (the toolchain's).
set -e
root=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debian"
printf 'Source: vigie\n\nPackage: vigie\nArchitecture: any\n' > "$work/debian/control"
cd "$work"
dpkg-shlibdeps -O --ignore-missing-info --warnings=1 "$root"/usr/bin/* | sed -n 's/^shlibs:Depends=//p'
