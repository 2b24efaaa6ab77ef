#!/bin/bash
# Usage: deb-systemd-lifecycle.sh DEB WORKDIR (as root)
#
# Installs DEB, installs it again (an upgrade: prerm upgrade, postinst configure <old
# version>), removes it and purges it with dpkg, chrooted into a throwaway copy of this
# machine: an overlay of / whose writes go to a tmpfs on WORKDIR, mounted in a private
# mount namespace. This machine's files, users and dpkg database never change, and the
# copy vanishes when the namespace does. In the copy systemd "runs" (/run/systemd/system
# exists) and systemctl only logs its arguments, so the maintainer scripts take their
# systemd paths and say what they asked of it.
#
# Prints "== STEP" before the systemctl calls of each step (install, upgrade, remove,
# purge), then "== user" and the passwd entry of vigie after the purge.
set -euo pipefail

if [ -z "${VIGIE_LIFECYCLE_NAMESPACE:-}" ]; then
    VIGIE_LIFECYCLE_NAMESPACE=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

deb=$(realpath "$1")
work=$(realpath "$2")
mount -t tmpfs vigie-lifecycle "$work"
mkdir "$work/upper" "$work/overlay" "$work/root"
mount -t overlay vigie-lifecycle -o "lowerdir=/,upperdir=$work/upper,workdir=$work/overlay" "$work/root"
root=$work/root
mountpoint -q "$root"
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
mkdir "$root/vigie-lifecycle"
mount --bind -o ro "$(dirname "$deb")" "$root/vigie-lifecycle"

mkdir -p "$root/run/systemd/system"
log=/var/log/vigie-lifecycle-systemctl
rm -f "$root/usr/bin/systemctl"
printf '#!/bin/sh\necho "systemctl $*" >> %s\n' "$log" > "$root/usr/bin/systemctl"
chmod 755 "$root/usr/bin/systemctl"

step() {
    local name=$1
    shift
    echo "== $name"
    : > "$root$log"
    if ! chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg --no-triggers "$@" > "$work/dpkg.out" 2>&1; then
        echo "dpkg $* failed:" >&2
        cat "$work/dpkg.out" >&2
        exit 1
    fi
    cat "$root$log"
}

package=/vigie-lifecycle/$(basename "$deb")
step install --install "$package"
step upgrade --install "$package"
step remove --remove vigie
step purge --purge vigie
echo "== user"
chroot "$root" getent passwd vigie
