#!/usr/bin/env bash
# The VM tests' kernel (scripts/vm/run.mjs): the image linux-image-amd64 names
# (Debian 12: 6.1.0-N-amd64; the -cloud flavour lacks 9p), unpacked into
# /var/cache/ctc-vm/VERSION. Unpacked, not installed: installing it would pull
# udev, systemd and initramfs-tools onto the host. busybox's depmod writes the
# modules.dep (the initramfs's load order) and modules.alias (the guest's autoload).
set -euo pipefail
cache=${CTC_VM_CACHE:-/var/cache/ctc-vm}
image() { apt-cache depends --important linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
pkg=$(image)
[ -n "$pkg" ] || { apt-get update -qq && pkg=$(image); }
ver=${pkg#linux-image-}
[ -f "$cache/$ver/lib/modules/$ver/modules.dep" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg")
dpkg -x "$tmp"/*.deb "$tmp/x"
busybox depmod -b "$tmp/x" "$ver"
mkdir -p "$cache"
rm -rf "${cache:?}/$ver"
mv "$tmp/x" "$cache/$ver"
echo "fetch-kernel: $pkg unpacked in $cache/$ver"
