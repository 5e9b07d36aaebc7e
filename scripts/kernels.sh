#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh - the Debian kernels dmahba is built and tested against, by
# label: 6.1 is Debian 12's own (this machine's); 6.12 (trixie) and 7.2 (sid)
# need a newer libc for their kbuild tools, so they live in debootstrap
# chroots of their release under $DMAHBA_CACHE.
#
# Usage: kernels.sh COMMAND ARGS
#   prepare LABEL       make the kernel available (debootstrap and apt-get for
#                       the chroot ones); idempotent
#   info LABEL          shell-sourceable KVER VMLINUZ MODROOT (the tree holding
#                       lib/modules/KVER: its chroot, "" for 6.1)
#   make LABEL [--out OUT] [--dir DIR]... [ARGS]
#                       copy Kbuild, kernel/ and each DIR (default kernel) of
#                       the tree to $DMAHBA_CACHE/build-LABEL-<tree>, run make
#                       -C KDIR M=<copy>/DIR ARGS there (in the chroot; its
#                       output on stderr) and print the directory holding the
#                       .ko; --out: copy them into OUT (before another run of
#                       the tree can rebuild them)
#   modules LABEL DEST MODULE|FILE.ko...
#                       the kernel's modules (NAME? is optional), with their
#                       dependencies and soft dependencies, and ours (into
#                       updates/), decompressed, in DEST/lib/modules/KVER, depmod
# LABEL debug (make, modules): debug-kernel.sh's kernel, KVER, MODROOT (the
# tree holding lib/modules) and KDIR from the environment
#   dkms LABEL DEST     dkms add, build, install the tree in private dkms trees
#                       (in the chroot for 6.12, 7.2), copy the modules it
#                       installed into DEST, dkms remove
#   dmatest LABEL       print the path of drivers/dma/dmatest.c from the
#                       kernel source package of LABEL's release and series
#                       (6.1: make deps' copy; chroots: apt-get download there
#                       on first use, only that file kept in $DMAHBA_CACHE/
#                       src-PACKAGE); fails with the reason if there is none
# Environment: DMAHBA_CACHE (/var/cache/dmahba), DMAHBA_MIRROR (default: the
# mirror this machine's apt uses), DMAHBA_SRC (the tree; default this one).
set -euo pipefail
SELF=$(readlink -f "$0")
. "${SELF%/*}/lib.sh"
SRC=$(readlink -m "${DMAHBA_SRC:-$top}")
CACHE=$(readlink -m "${DMAHBA_CACHE:-/var/cache/dmahba}")
# the headers package pulls its gcc, linux-kbuild and pahole
CHROOT_PKGS="linux-image-amd64 linux-headers-amd64 gcc make kmod dkms xz-utils zstd sparse"

usage() { sed -n '/^# Usage/,/^set -e/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
suite_of() {
	case $1 in 6.1) echo "" ;; 6.12) echo trixie ;; 7.2) echo sid ;; *) die "unknown kernel label '$1' (6.1 6.12 7.2)" ;; esac
}
need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root"; }

# find_kver ROOT LABEL: the newest generic amd64 kernel of series LABEL with
# both an image and a build directory under ROOT ("" for the host)
find_kver() {
	local d k
	for d in "$1"/lib/modules/"$2".*-amd64; do
		k=${d##*/}
		case $k in *-rt-amd64 | *-cloud-amd64) continue ;; esac
		[ -e "$1/boot/vmlinuz-$k" ] && [ -e "$(kdir_of "$1" "$k")/Makefile" ] && echo "$k"
	done | sort -V | tail -n1
}

# kdir_of ROOT KVER: the build directory, as a path on the host (its
# symbolic link is relative in Debian's packages, and /lib leads to usr/lib)
kdir_of() {
	local l=$1/lib/modules/$2/build
	case $(readlink "$l") in /*) echo "$1$(readlink "$l")" ;; *) readlink -m "$l" ;; esac
}

# in_chroot ROOT BINDS CMD...: CMD in ROOT in a private mount namespace with
# /proc, /sys, /dev and the colon-separated directories BINDS at their paths
in_chroot() { unshare --mount --propagation private -- "$SELF" _chroot-exec "$@"; }
chroot_exec() {
	local root=$1 b IFS=:
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --rbind /dev "$root/dev"
	for b in $2; do
		mkdir -p "$root$b"
		mount --bind "$b" "$root$b"
	done
	shift 2
	exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# quiet LOG CMD...: CMD's output into LOG, its end shown on a failure
quiet() {
	local log=$1
	shift
	"$@" >> "$log" 2>&1 || { tail -n 40 "$log" >&2; note "'$*' failed; log: $log"; return 1; }
}

cmd_prepare() {
	local label=$1 suite root mirror log
	[ "$label" != debug ] || return 0
	suite=$(suite_of "$label")
	if [ -z "$suite" ]; then
		[ -n "$(find_kver "" "$label")" ] || die "no Debian $label kernel with headers; run make deps"
		return
	fi
	root=$CACHE/chroot-$suite
	ready() { [ "$(cat "$root/.dmahba-ready" 2>/dev/null)" = "$CHROOT_PKGS" ] && [ -n "$(find_kver "$root" "$label")" ]; }
	ready && return
	need_root "preparing the $label chroot"
	mkdir -p "$CACHE"
	exec 8> "$CACHE/.lock-prepare-$suite"
	flock 8
	ready && return
	log=$CACHE/prepare-$suite.log
	# shellcheck disable=SC2016 # apt's format
	mirror=${DMAHBA_MIRROR:-$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' |
		grep -v security | head -n1)}
	[ -n "$mirror" ] || die "no Debian mirror in apt's sources; set DMAHBA_MIRROR"
	# each finished step leaves a stamp: an interrupted run resumes
	if [ ! -e "$root/.dmahba-debootstrap" ]; then
		rm -rf --one-file-system "$root" "$root.tmp"
		note "debootstrap $suite into $root from $mirror (a few minutes)"
		quiet "$log" debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
			"$suite" "$root.tmp" "$mirror" || die "debootstrap of $suite failed"
		mv "$root.tmp" "$root"
		touch "$root/.dmahba-debootstrap"
	fi
	# this machine's mirror, no recommends, no daemons; and its choice about
	# expired Release files (a snapshot of sid "expires" within a week)
	echo "deb $mirror $suite main" > "$root/etc/apt/sources.list"
	{
		echo 'APT::Install-Recommends "false"; APT::Install-Suggests "false";'
		apt-config dump Acquire::Check-Valid-Until | grep -F '"false"' || true
	} > "$root/etc/apt/apt.conf.d/90dmahba"
	printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2> /dev/null || true
	note "installing the $label kernel, headers and toolchain in $root"
	# shellcheck disable=SC2086
	if ! { quiet "$log" in_chroot "$root" "" apt-get update &&
	       quiet "$log" in_chroot "$root" "" apt-get install -y $CHROOT_PKGS; }; then
		die "apt-get in the $suite chroot failed"
	fi
	quiet "$log" in_chroot "$root" "" apt-get clean || true
	[ -n "$(find_kver "$root" "$label")" ] || die "no $label kernel with headers in $root (see $log)"
	echo "$CHROOT_PKGS" > "$root/.dmahba-ready"
	exec 8>&-
}

# load_info LABEL: set L_* for a prepared kernel (LABEL debug: see the usage)
load_info() {
	if [ "$1" = debug ]; then
		L_SUITE='' L_CHROOT='' L_ROOT=$MODROOT L_KVER=$KVER L_MODDIR=$MODROOT/lib/modules/$KVER L_KDIR=${KDIR:-}
		return
	fi
	L_SUITE=$(suite_of "$1")
	L_CHROOT=${L_SUITE:+$CACHE/chroot-$L_SUITE}
	L_ROOT=$L_CHROOT	# the tree holding lib/modules
	[ -z "$L_CHROOT" ] || [ -e "$L_CHROOT/.dmahba-ready" ] || die "kernel $1 is not prepared; run: kernels.sh prepare $1"
	L_KVER=$(find_kver "$L_CHROOT" "$1")
	[ -n "$L_KVER" ] || die "no $1 kernel with headers${L_CHROOT:+ in $L_CHROOT}; run: kernels.sh prepare $1"
	L_MODDIR=$L_CHROOT/lib/modules/$L_KVER
	L_KDIR=$(kdir_of "$L_CHROOT" "$L_KVER")
	L_KDIR_CHROOT=${L_KDIR#"$L_CHROOT"}
}

cmd_info() {
	load_info "$1"
	printf "%s='%s'\n" KVER "$L_KVER" VMLINUZ "$L_CHROOT/boot/vmlinuz-$L_KVER" MODROOT "$L_CHROOT"
}

cmd_make() {
	local label=$1 bdir dir dirs=() out=''
	shift
	[ "${1:-}" != --out ] || { out=$2; shift 2; }
	while [ "${1:-}" = --dir ]; do
		case ${2:-} in "" | /* | ..* | */..*) die "--dir takes a directory inside the tree" ;; esac
		[ -d "$SRC/$2" ] || die "no directory $2 in $SRC"
		dirs+=("${2%/}")
		shift 2
	done
	[ ${#dirs[@]} -gt 0 ] || dirs=(kernel)
	cmd_prepare "$label"
	load_info "$label"
	[ -z "$L_CHROOT" ] || need_root "building for $label (in its chroot)"
	# one build directory per source tree: rsync keeps mtimes, so two trees
	# sharing one could leave an object newer than its source
	bdir=$CACHE/build-$label-$(echo "$SRC" | cksum | cut -d' ' -f1)
	mkdir -p "$bdir"
	exec 9> "$bdir.lock"
	flock 9
	# kernel/ always (test modules may include its headers); build outputs
	# are excluded, so kept, and sources gone from the tree deleted
	(cd "$SRC" && rsync -aR --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.cmd' --exclude='*.a' --exclude='*.d' --exclude=modules.order --exclude=Module.symvers \
		Kbuild kernel "${dirs[@]}" "$bdir/")
	rm -rf "$bdir/ko"
	mkdir -p "$bdir/ko"
	for dir in "${dirs[@]}"; do
		if [ -z "$L_CHROOT" ]; then
			make -C "$L_KDIR" M="$bdir/$dir" "$@" >&2
		else
			in_chroot "$L_CHROOT" "$bdir" make -C "$L_KDIR_CHROOT" M="$bdir/$dir" "$@" >&2
		fi || die "make in $dir for kernel $label ($L_KVER) failed"
		find "$bdir/$dir" -maxdepth 1 -name '*.ko' -exec cp {} "$bdir/ko/" \;
	done
	[ -z "$out" ] || { mkdir -p "$out" && cp "$bdir"/ko/*.ko "$out/"; }
	echo "$bdir/ko"
}

# put SRC DST: copy a module, decompressed
put() {
	mkdir -p "${2%/*}"
	case $1 in
	*.xz) xz -dc "$1" > "$2" ;;
	*.zst) zstd -dcq "$1" > "$2" ;;
	*) cp "$1" "$2" ;;
	esac || die "cannot decompress $1"
}

cmd_modules() {
	local label=$1 dest=$2 a m names=() opt=()
	shift 2
	load_info "$label"
	for a in "$@"; do
		case $a in
		*.ko) put "$a" "$dest/lib/modules/$L_KVER/updates/${a##*/}" ;;
		*\?) opt+=("${a%\?}") ;;
		*) names+=("$a") ;;
		esac
	done
	# --show-depends follows dependencies and soft dependencies
	for m in $(modprobe -a -d "${L_ROOT:-/}" -S "$L_KVER" --show-depends "${names[@]}" "${opt[@]}" 2> /dev/null |
		awk '/^insmod/ { print $2 }' | sort -u); do
		m=${m#"${L_ROOT:-/}"}
		m=/${m#/}
		put "$L_ROOT$m" "$dest${m%.ko*}.ko"
	done
	for m in "${names[@]}"; do
		modprobe -d "${L_ROOT:-/}" -S "$L_KVER" --show-depends "$m" > /dev/null 2>&1 || die "kernel $L_KVER has no module $m"
	done
	mkdir -p "$dest/lib/modules/$L_KVER"
	for a in modules.order modules.builtin modules.builtin.modinfo; do
		[ ! -r "$L_MODDIR/$a" ] || cp "$L_MODDIR/$a" "$dest/lib/modules/$L_KVER/"
	done
	depmod -b "$dest" "$L_KVER" || die "depmod -b $dest $L_KVER failed"
}

cmd_dkms() {
	local label=$1 out=$2 conf=$SRC/dkms.conf name ver d log step f
	need_root dkms
	name=$(sed -n 's/^PACKAGE_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$conf")
	ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$conf")
	[ -n "$name$ver" ] || die "$conf lacks PACKAGE_NAME or PACKAGE_VERSION"
	cmd_prepare "$label"
	load_info "$label"
	[ -n "$L_CHROOT" ] || command -v dkms > /dev/null || die "dkms is not installed; run make deps"
	d=$CACHE/dkms-$label
	mkdir -p "$CACHE" "$out"
	exec 9> "$CACHE/.lock-dkms-$label"
	flock 9
	rm -rf "$d"
	mkdir -p "$d/src/$name-$ver" "$d/tree" "$d/lib/modules/$L_KVER"
	# newer dkms look for the headers in the install tree
	ln -s "$L_KDIR_CHROOT" "$d/lib/modules/$L_KVER/build"
	log=$d/dkms.log
	# the tree as dkms users get it: tracked and new files, not the ignored
	git -C "$SRC" ls-files -z -c -o --exclude-standard | (cd "$SRC" && xargs -0 -r ls -d 2> /dev/null) |
		rsync -a --files-from=- "$SRC/" "$d/src/$name-$ver/"
	# private trees: a dmahba the user installed with dkms is left alone
	dkms_run() {
		set -- dkms --sourcetree "$d/src" --dkmstree "$d/tree" --installtree "$d/lib/modules" "$@"
		echo "+ $*" >> "$log"
		if [ -z "$L_CHROOT" ]; then "$@"; else in_chroot "$L_CHROOT" "$d" "$@"; fi >> "$log" 2>&1
	}
	for step in add "build -k $L_KVER" "install -k $L_KVER --no-depmod"; do
		# shellcheck disable=SC2086 # the step's words
		dkms_run $step -m "$name" -v "$ver" || {
			tail -n 30 "$log" >&2
			f=$(find "$d/tree" -name make.log | head -n1)
			[ -z "$f" ] || tail -n 40 "$f" >&2
			dkms_run remove -m "$name" -v "$ver" --all || true
			die "dkms ${step%% *} of $name $ver for $L_KVER failed (log: $log)"
		}
		note "dkms ${step%% *}: ok ($name $ver, $L_KVER)"
	done
	find "$d/lib/modules/$L_KVER" -name '*.ko*' -exec cp {} "$out/" \;
	dkms_run remove -m "$name" -v "$ver" --all || die "dkms remove failed (log: $log)"
	[ -n "$(ls "$out")" ] || die "dkms install put no module in $d/lib/modules/$L_KVER"
	note "installed by dkms: $(cd "$out" && echo *)"
}

cmd_dmatest() {
	local label=$1 kv xy pkg ver dir f deb log mk inc
	load_info "$label"
	# the kernel's upstream version (KVER may say 6.1.0 for 6.1.192): from
	# its headers' Makefile, which may include the -common one's
	mk=$L_KDIR/Makefile
	inc=$(sed -n 's/^include //p' "$mk" | head -n1)
	[ -z "$inc" ] || mk=$L_CHROOT$inc
	kv=$(awk -F' = ' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 } $1 == "SUBLEVEL" { s = $2 }
		END { if (v != "" && p != "") print v "." p "." s }' "$mk")
	[ -n "$kv" ] || die "no VERSION and PATCHLEVEL in $mk"
	xy=${kv%.*}
	pkg=linux-source-$xy
	if [ -z "$L_CHROOT" ]; then
		ver=$(dpkg-query -W -f='${Version}' "$pkg" 2> /dev/null) || die "$pkg is not installed; run make deps"
		f=$top/.cache/linux-src/drivers/dma/dmatest.c
		[ -e "$f" ] || die "no $f; run make deps"
	else
		dir=$CACHE/src-$pkg
		f=$dir/drivers/dma/dmatest.c
		if [ ! -s "$dir/.dmahba-version" ] || [ ! -e "$f" ]; then
			need_root "fetching $pkg"
			mkdir -p "$dir"
			exec 9> "$dir.lock"
			flock 9
		fi
		# the package's candidate in the chroot's lists (from prepare);
		# only drivers/dma/dmatest.c is kept, the .deb is deleted
		if [ ! -s "$dir/.dmahba-version" ] || [ ! -e "$f" ]; then
			ver=$(chroot "$L_CHROOT" apt-cache show --no-all-versions "$pkg" 2> /dev/null |
				sed -n 's/^Version: //p' | head -n1)
			[ -n "$ver" ] || die "$L_SUITE has no package $pkg (kernel $L_KVER)"
			log=$CACHE/src-$pkg.log
			note "fetching $pkg $ver ($L_SUITE) for its drivers/dma/dmatest.c"
			rm -rf "${dir:?}"/*.deb "$dir/drivers"
			# shellcheck disable=SC2016 # that sh's
			quiet "$log" in_chroot "$L_CHROOT" "$dir" /bin/sh -c 'cd "$0" && apt-get download "$1"' "$dir" "$pkg" ||
				die "apt-get download $pkg in $L_CHROOT failed"
			deb=$(find "$dir" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
			[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $dir"
			dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" |
				tar -xJ -C "$dir" --strip-components=1 "$pkg/drivers/dma/dmatest.c" ||
				die "no $pkg/drivers/dma/dmatest.c in $deb"
			rm -f "$deb"
			echo "$ver" > "$dir/.dmahba-version"
		fi
		ver=$(cat "$dir/.dmahba-version")
	fi
	# built against this kernel's headers: the same upstream x.y, at least
	case ${ver%%-*} in
	"$xy" | "$xy".*) ;;
	*) die "$pkg $ver is not of kernel $L_KVER's series $xy ($kv)" ;;
	esac
	[ "${ver%%-*}" = "$kv" ] ||
		note "dmatest.c of $pkg ${ver%%-*} for kernel $kv ($L_KVER): same $xy series, other stable release"
	echo "$f"
}

cmd=${1:-}
[ $# -ge 2 ] || [ "$cmd" = _chroot-exec ] || usage
shift
case $cmd in
_chroot-exec) chroot_exec "$@" ;;
prepare | info | make | modules | dkms | dmatest) "cmd_$cmd" "$@" ;;
*) usage ;;
esac
