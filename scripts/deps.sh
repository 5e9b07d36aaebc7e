#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - "make deps": install what building and testing dmahba needs
# (apt-get, as root; otherwise say what to install), then extract from
# Debian's linux-source-6.1 into the ignored .cache/linux-src: kselftest's
# lib.mk, headers and runner, checkpatch.pl, kernel-doc and
# drivers/dma/dmatest.c (built out of tree as a test module). Idempotent:
# a stamp per source version, so a second run costs a few stat calls.
#
# Usage: scripts/deps.sh [--no-src]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cache=$top/.cache/linux-src

# iscsi-test-cu (libiscsi-bin) and mdadm are carried into the guests
pkgs=(qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static sg3-utils kmod cpio sparse dkms
	linux-source-6.1 fio xz-utils gcc make libc6-dev debootstrap e2fsprogs rsync lsscsi shellcheck
	libiscsi-bin mdadm)
# one dpkg-query for all; a package dpkg never heard of is missing from its output and
# makes it exit 1 (a fresh machine): its status is not ours to fail on
installed=$(dpkg-query -W -f='${db:Status-Abbrev}${Package}\n' "${pkgs[@]}" 2>/dev/null | sed -n 's/^ii *//p' || :)
missing=()
for p in "${pkgs[@]}"; do grep -qx "$p" <<< "$installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages; as root: apt-get install ${missing[*]}"
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
img=$(dpkg-query -W -f='${Version}' linux-image-amd64)
hdr=$(dpkg-query -W -f='${Version}' linux-headers-amd64)
[ "$img" = "$hdr" ] || die "linux-image-amd64 ($img) and linux-headers-amd64 ($hdr) differ"

[ "${1:-}" = --no-src ] && exit 0
tarball=/usr/src/linux-source-6.1.tar.xz
stamp=$cache/.stamp-$(dpkg-query -W -f='${Version}' linux-source-6.1)
[ -e "$stamp" ] && [ -e "$cache/drivers/dma/dmatest.c" ] && exit 0
echo "deps: extracting kselftest, checkpatch, kernel-doc and dmatest.c from $tarball"
tmp=$cache.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
tar -xJf "$tarball" -C "$tmp" --strip-components=1 --wildcards \
	linux-source-6.1/scripts/{checkpatch.pl,spelling.txt,const_structs.checkpatch,kernel-doc} \
	linux-source-6.1/tools/testing/selftests/{lib.mk,'kselftest*',run_kselftest.sh} \
	linux-source-6.1/drivers/dma/dmatest.c
touch "$tmp/${stamp##*/}"
rm -rf "$cache"
mv "$tmp" "$cache"
