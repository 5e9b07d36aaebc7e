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
top=$(cd "$(dirname "$0")/.." && pwd)
cache=$top/.cache/linux-src

# package:a file it provides (checked first, so the usual case runs no dpkg)
# iscsi-test-cu (libiscsi-bin) and mdadm are carried into the guests
pkgs=(qemu-system-x86:/usr/bin/qemu-system-x86_64 linux-image-amd64: linux-headers-amd64:
	busybox-static:/bin/busybox sg3-utils:/usr/bin/sg_inq kmod:/sbin/modprobe cpio:/usr/bin/cpio
	sparse:/usr/bin/sparse dkms:/usr/sbin/dkms linux-source-6.1: fio:/usr/bin/fio
	xz-utils:/usr/bin/xz gcc:/usr/bin/gcc make:/usr/bin/make libc6-dev:/usr/include/stdio.h
	debootstrap:/usr/sbin/debootstrap e2fsprogs:/sbin/mkfs.ext4 rsync:/usr/bin/rsync
	lsscsi:/usr/bin/lsscsi shellcheck:/usr/bin/shellcheck libiscsi-bin:/usr/bin/iscsi-test-cu
	mdadm:/sbin/mdadm)
missing=()
for p in "${pkgs[@]}"; do
	[ -n "${p#*:}" ] && [ -e "${p#*:}" ] && continue
	dpkg-query -W -f='${Status}' "${p%%:*}" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("${p%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages; as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
img=$(dpkg-query -W -f='${Version}' linux-image-amd64)
hdr=$(dpkg-query -W -f='${Version}' linux-headers-amd64)
[ "$img" = "$hdr" ] || { echo "deps: linux-image-amd64 ($img) and linux-headers-amd64 ($hdr) differ" >&2; exit 1; }

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
