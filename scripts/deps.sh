#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install what building and testing dmahba needs, and extract the
# kernel-tree tools (kselftest's lib.mk, headers and runner, checkpatch.pl,
# kernel-doc) from Debian's kernel source package into an ignored cache.
#
# Idempotent, and fast when everything is there. As root, missing packages
# are installed with apt-get; otherwise the script says what to install.
#
# Usage: scripts/deps.sh [--no-src]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${DMAHBA_SRC_CACHE:-$top/.cache/linux-src}

# package -> a file it provides, checked first so the common case costs no dpkg call
pkgs=(
	"qemu-system-x86:/usr/bin/qemu-system-x86_64"
	"linux-image-amd64:"
	"linux-headers-amd64:"
	"busybox-static:/bin/busybox"
	"sg3-utils:/usr/bin/sg_inq"
	"kmod:/sbin/modprobe"
	"cpio:/usr/bin/cpio"
	"sparse:/usr/bin/sparse"
	"dkms:/usr/sbin/dkms"
	"linux-source-6.1:"
	"fio:/usr/bin/fio"
	"xz-utils:/usr/bin/xz"
	"gcc:/usr/bin/gcc"
	"make:/usr/bin/make"
	"libc6-dev:/usr/include/stdio.h"
	"debootstrap:/usr/sbin/debootstrap"
	"e2fsprogs:/sbin/mkfs.ext4"
	"rsync:/usr/bin/rsync"
	"lsscsi:/usr/bin/lsscsi"
)

missing=()
for p in "${pkgs[@]}"; do
	name=${p%%:*}
	file=${p#*:}
	if [ -n "$file" ] && [ -e "$file" ]; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$name")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: install them as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# linux-image-amd64 and linux-headers-amd64 must be the same version
img=$(dpkg-query -W -f='${Version}' linux-image-amd64)
hdr=$(dpkg-query -W -f='${Version}' linux-headers-amd64)
if [ "$img" != "$hdr" ]; then
	echo "deps: linux-image-amd64 ($img) and linux-headers-amd64 ($hdr) differ" >&2
	exit 1
fi

[ "${1:-}" = "--no-src" ] && exit 0

# kselftest plumbing and checkpatch from the kernel source package
tarball=$(ls /usr/src/linux-source-6.1.tar.xz)
stamp="$cache/.stamp-$(dpkg-query -W -f='${Version}' linux-source-6.1)"
if [ ! -e "$stamp" ]; then
	echo "deps: extracting kselftest and checkpatch from $tarball"
	tmp="$cache.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	tar -xJf "$tarball" -C "$tmp" --strip-components=1 --wildcards \
		'linux-source-6.1/scripts/checkpatch.pl' \
		'linux-source-6.1/scripts/spelling.txt' \
		'linux-source-6.1/scripts/const_structs.checkpatch' \
		'linux-source-6.1/scripts/kernel-doc' \
		'linux-source-6.1/tools/testing/selftests/lib.mk' \
		'linux-source-6.1/tools/testing/selftests/kselftest*' \
		'linux-source-6.1/tools/testing/selftests/run_kselftest.sh'
	touch "$tmp/.stamp-$(dpkg-query -W -f='${Version}' linux-source-6.1)"
	rm -rf "$cache"
	mv "$tmp" "$cache"
fi
