#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh - the Debian kernels dmahba is built and tested against.
#
# Each kernel has a label: 6.1 is Debian 12's own (this machine's release,
# used natively); 6.12 (Debian 13, trixie) and 7.2 (Debian sid) need a newer
# libc for their kbuild tools, so they live in a debootstrap chroot of their
# release, cached outside the repository. Run "kernels.sh help" for the
# commands.
#
# Environment:
#   DMAHBA_CACHE   cache directory (default /var/cache/dmahba)
#   DMAHBA_MIRROR  Debian mirror URI for the chroots (default: the one this
#                  machine's apt uses)
#   DMAHBA_SRC     tree whose kernel/ "make" and "dkms" use (default: this
#                  repository)
#   V=1            show the output of the slow steps (debootstrap, apt-get)

set -euo pipefail

PROG=${0##*/}
SELF=$(readlink -f "$0")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
SRC=$(readlink -m "${DMAHBA_SRC:-$REPO}")
CACHE=$(readlink -m "${DMAHBA_CACHE:-/var/cache/dmahba}")
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
LABELS="6.1 6.12 7.2"

# Packages every chroot gets; the headers package pulls its own gcc-NN,
# linux-kbuild (with objtool, modpost) and pahole.
CHROOT_PKGS="linux-image-amd64 linux-headers-amd64 gcc make kmod dkms xz-utils zstd sparse"

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

warn() {
	echo "$PROG: warning: $*" >&2
}

note() {
	echo "$PROG: $*" >&2
}

usage() {
	cat <<EOF
Usage: $PROG COMMAND [ARGS...]

Kernels dmahba is built and tested against, by label: $LABELS.
6.1 is this machine's Debian 12 kernel; 6.12 (trixie) and 7.2 (sid) are
installed in debootstrap chroots under \$DMAHBA_CACHE (now: $CACHE).

Commands:
  list                     print the kernel labels, one per line
  prepare LABEL|all        make the kernel available (debootstrap + apt-get
                           for the chroot ones); idempotent, quiet, fast when
                           cached (V=1 shows the slow steps' output)
  info LABEL               shell-sourceable lines:
                             LABEL=  SUITE=  KVER=  VMLINUZ=  MODDIR=  KDIR=
                             CHROOT=  KDIR_CHROOT=  CC_VERSION=
                           paths are on the host; CHROOT is empty for 6.1;
                           KDIR_CHROOT is KDIR as seen inside the chroot
  make LABEL [--dir DIR]... [ARGS...]
                           copy the top-level Kbuild, kernel/ and each DIR
                           (default: kernel) of the source tree into
                           \$DMAHBA_CACHE/build-LABEL, run
                           make -C KDIR M=<that>/DIR ARGS for each DIR (in
                           the chroot for 6.12 and 7.2; make's output goes to
                           stderr), copy the .ko files built to
                           \$DMAHBA_CACHE/build-LABEL/ko and print that path
  modules LABEL DESTDIR MODULE...
                           copy the kernel's modules MODULE... (names or
                           aliases; NAME? is optional) and FILE.ko... (ours,
                           into updates/) with all their dependencies (from
                           modules.dep, modinfo, softdeps), decompressed, into
                           DESTDIR/lib/modules/KVER/, and run depmod -b there
                           so busybox modprobe works; built-in modules are
                           skipped; prints the module names copied, one per
                           line, in load order
  dkms LABEL               dkms add, build, install the repository for that
                           kernel (in its chroot for 6.12 and 7.2), in private
                           dkms trees under \$DMAHBA_CACHE/dkms-LABEL; copies
                           the installed modules to \$DMAHBA_CACHE/dkms-LABEL/ko
                           (printed on the last line), then dkms remove
  shell LABEL [CMD...]     run CMD (default: a shell) in the kernel's chroot
                           with the repository bind-mounted at its own path
  help                     this text

Exit status: 0 on success, 1 on error, 2 on bad usage.
EOF
}

bad_usage() {
	echo "$PROG: $*" >&2
	echo "Try '$PROG help'." >&2
	exit 2
}

# suite_of LABEL: the Debian suite whose chroot holds the kernel, or "" for
# the host's own kernel.
suite_of() {
	case $1 in
	6.1) echo "" ;;
	6.12) echo trixie ;;
	7.2) echo sid ;;
	*) bad_usage "unknown kernel label '$1' (known: $LABELS)" ;;
	esac
}

chroot_of() {
	local suite
	suite=$(suite_of "$1")
	[ -n "$suite" ] && echo "$CACHE/chroot-$suite" || echo ""
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root (run it with sudo)"
}

# find_kver ROOT LABEL: the newest generic amd64 kernel of series LABEL that
# has both an image and a build directory under ROOT ("" for the host).
find_kver() {
	local root=$1 label=$2 d k best=""
	for d in "$root"/lib/modules/"$label".*; do
		k=${d##*/}
		[ -e "$root$(root_realpath "$root" "/lib/modules/$k/build")/Makefile" ] ||
			continue
		case $k in
		*-rt-amd64 | *-cloud-amd64) continue ;;
		*-amd64) ;;
		*) continue ;;
		esac
		[ -e "$root/boot/vmlinuz-$k" ] || continue
		best=$( (echo "$best"; echo "$k") | sed '/^$/d' | sort -V | tail -n1)
	done
	echo "$best"
}

# host_mirror: the Debian archive URI this machine's apt uses.
host_mirror() {
	local f uri
	if [ -n "${DMAHBA_MIRROR:-}" ]; then
		echo "$DMAHBA_MIRROR"
		return
	fi
	# deb822: the first "deb" stanza whose suites include a plain codename
	# (not -security/-updates) and whose URI is not a security archive.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk '
			BEGIN { RS = ""; FS = "\n" }
			{
				types = ""; uris = ""; suites = ""
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^[Tt]ypes:/) { types = $i; sub(/^[^:]*:[ \t]*/, "", types) }
					if ($i ~ /^URIs:/) { uris = $i; sub(/^[^:]*:[ \t]*/, "", uris) }
					if ($i ~ /^Suites:/) { suites = $i; sub(/^[^:]*:[ \t]*/, "", suites) }
				}
				if (types !~ /(^| )deb( |$)/ || uris == "") next
				split(uris, u, /[ \t]+/)
				if (u[1] ~ /security/) next
				n = split(suites, s, /[ \t]+/)
				for (j = 1; j <= n; j++)
					if (s[j] !~ /-/) { print u[1]; exit }
			}' "$f")
		if [ -n "$uri" ]; then
			echo "$uri"
			return
		fi
	done
	if [ -r /etc/apt/sources.list ]; then
		uri=$(awk '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($i ~ /security/ || $(i + 1) ~ /-/) next
				print $i; exit
			}' /etc/apt/sources.list)
		if [ -n "$uri" ]; then
			echo "$uri"
			return
		fi
	fi
	die "no Debian mirror found in /etc/apt/sources.list{,.d/*.sources}; set DMAHBA_MIRROR"
}

# run_quiet LOG CMD...: run CMD with its output in LOG; show LOG on failure.
run_quiet() {
	local log=$1
	shift
	if [ "${V:-0}" = 1 ]; then
		"$@" 2>&1 | tee -a "$log"
		return "${PIPESTATUS[0]}"
	fi
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "$PROG: error: '$*' failed; full log: $log" >&2
		return 1
	fi
}

# in_chroot CHROOT BINDS CMD...: run CMD in CHROOT in a private mount
# namespace with /proc, /sys, /dev and the colon-separated host directories
# BINDS bind-mounted at their own paths; the mounts vanish with the process.
in_chroot() {
	local root=$1 binds=$2
	shift 2
	unshare --mount --propagation private -- "$SELF" _chroot-exec "$root" "$binds" "$@"
}

# Internal: runs inside the new mount namespace (see in_chroot).
chroot_exec() {
	local root=$1 binds=$2 b
	shift 2
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --rbind /dev "$root/dev"
	local IFS=:
	for b in $binds; do
		[ -n "$b" ] || continue
		mkdir -p "$root$b"
		mount --bind "$b" "$root$b"
	done
	unset IFS
	exec chroot "$root" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive INITRD=No \
		"$@"
}

ensure_debootstrap() {
	command -v debootstrap >/dev/null 2>&1 && return
	note "installing debootstrap"
	run_quiet "$CACHE/apt-host.log" apt-get install -y --no-install-recommends \
		debootstrap debian-archive-keyring ||
		die "could not install debootstrap; install it with: apt-get install debootstrap"
}

# chroot_ready ROOT LABEL: true if ROOT is provisioned with today's list.
chroot_ready() {
	[ "$(cat "$1/.dmahba-ready" 2>/dev/null)" = "$CHROOT_PKGS" ] &&
		[ -n "$(find_kver "$1" "$2")" ]
}

# prepare_chroot LABEL: debootstrap and provision the chroot. Each finished
# step leaves a stamp, so an interrupted run resumes and a finished one is
# a few stat calls.
prepare_chroot() {
	local label=$1 suite root mirror log opts gpg
	suite=$(suite_of "$label")
	root=$(chroot_of "$label")
	log="$CACHE/prepare-$suite.log"

	chroot_ready "$root" "$label" && return 0
	need_root "preparing the $label chroot"
	mkdir -p "$CACHE"
	exec 8>"$CACHE/.lock-prepare-$suite"
	flock 8
	chroot_ready "$root" "$label" && return 0
	: >"$log"
	ensure_debootstrap
	mirror=$(host_mirror)

	if [ ! -e "$root/.dmahba-debootstrap" ]; then
		if [ -d "$root" ]; then
			note "removing incomplete chroot $root"
			umount_under "$root"
			rm -rf --one-file-system "$root"
		fi
		gpg="--keyring=$KEYRING"
		if [ ! -r "$KEYRING" ]; then
			warn "$KEYRING missing: NOT checking signatures (install debian-archive-keyring)"
			gpg=--no-check-gpg
		fi
		if [ -d "$root.tmp" ]; then
			umount_under "$root.tmp"
			rm -rf --one-file-system "$root.tmp"
		fi
		note "debootstrap $suite into $root from $mirror (a few minutes)"
		run_quiet "$log" debootstrap --variant=minbase "$gpg" \
			"$suite" "$root.tmp" "$mirror" ||
			die "debootstrap of $suite failed"
		mv "$root.tmp" "$root"
		touch "$root/.dmahba-debootstrap"
	fi

	# apt in the chroot: this machine's mirror, no recommends, no daemons;
	# keep this machine's choice about expired Release files (a mirror
	# snapshot of sid is "expired" a week after it was taken).
	echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
	opts="APT::Install-Recommends \"false\";"
	opts="$opts
APT::Install-Suggests \"false\";"
	if [ "$(apt-config dump Acquire::Check-Valid-Until 2>/dev/null |
		sed -n 's/^Acquire::Check-Valid-Until "\(.*\)";$/\1/p')" = false ]; then
		opts="$opts
Acquire::Check-Valid-Until \"false\";"
	fi
	echo "$opts" >"$root/etc/apt/apt.conf.d/90dmahba"
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

	note "installing the $label kernel, headers and toolchain in $root"
	run_quiet "$log" in_chroot "$root" "" apt-get update ||
		die "apt-get update in the $suite chroot failed"
	# shellcheck disable=SC2086
	run_quiet "$log" in_chroot "$root" "" apt-get install -y $CHROOT_PKGS ||
		die "apt-get install in the $suite chroot failed"
	run_quiet "$log" in_chroot "$root" "" apt-get clean || true
	[ -n "$(find_kver "$root" "$label")" ] ||
		die "no $label.* kernel with headers in $root after installation (see $log)"
	echo "$CHROOT_PKGS" >"$root/.dmahba-ready"
	exec 8>&-
}

# umount_under DIR: unmount anything left mounted below DIR (mounts made by
# in_chroot are private to their namespace, so normally there is none).
umount_under() {
	local m
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" || true; done
}

cmd_prepare() {
	local label
	[ $# = 1 ] || bad_usage "usage: $PROG prepare LABEL|all"
	if [ "$1" = all ]; then
		for label in $LABELS; do
			cmd_prepare "$label"
		done
		return
	fi
	label=$1
	if [ -z "$(suite_of "$label")" ]; then
		[ -n "$(find_kver "" "$label")" ] ||
			die "no Debian $label kernel with headers installed; install linux-image-amd64 and linux-headers-amd64"
		return 0
	fi
	prepare_chroot "$label"
}

# root_realpath ROOT PATH: PATH with its symbolic links resolved the way a
# process chrooted into ROOT sees them ("" for the host).
root_realpath() {
	local root=$1 path=${2#/} out="" comp link n=0
	while [ -n "$path" ]; do
		comp=${path%%/*}
		if [ "$comp" = "$path" ]; then path=""; else path=${path#*/}; fi
		case $comp in
		"" | .) continue ;;
		..)
			out=${out%/*}
			continue
			;;
		esac
		if [ -L "$root$out/$comp" ]; then
			n=$((n + 1))
			[ "$n" -lt 40 ] || die "too many symbolic links in $root/$2"
			link=$(readlink "$root$out/$comp")
			case $link in /*) out="" ;; esac
			path=${link#/}${path:+/$path}
		else
			out=$out/$comp
		fi
	done
	echo "${out:-/}"
}

# load_info LABEL: set LABEL SUITE KVER VMLINUZ MODDIR KDIR CHROOT KDIR_CHROOT
# for a prepared kernel.
load_info() {
	L_LABEL=$1
	L_SUITE=$(suite_of "$1")
	L_CHROOT=$(chroot_of "$1")
	if [ -n "$L_CHROOT" ] && [ ! -e "$L_CHROOT/.dmahba-ready" ]; then
		die "kernel $1 is not prepared; run: $PROG prepare $1"
	fi
	L_KVER=$(find_kver "$L_CHROOT" "$1")
	[ -n "$L_KVER" ] || die "no $1 kernel with headers found${L_CHROOT:+ in $L_CHROOT}; run: $PROG prepare $1"
	L_VMLINUZ=$L_CHROOT/boot/vmlinuz-$L_KVER
	L_MODDIR=$L_CHROOT/lib/modules/$L_KVER
	L_KDIR_CHROOT=$(root_realpath "$L_CHROOT" "/lib/modules/$L_KVER/build")
	L_KDIR=$L_CHROOT$L_KDIR_CHROOT
	[ -e "$L_KDIR/Makefile" ] || die "build directory $L_KDIR missing"
}

cmd_list() {
	[ $# = 0 ] || bad_usage "usage: $PROG list"
	# shellcheck disable=SC2086 # one label per line
	printf '%s\n' $LABELS
}

cmd_info() {
	[ $# = 1 ] || bad_usage "usage: $PROG info LABEL"
	load_info "$1"
	local cc
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$L_KDIR/.config" 2>/dev/null || true)
	printf "LABEL='%s'\nSUITE='%s'\nKVER='%s'\nVMLINUZ='%s'\nMODDIR='%s'\nKDIR='%s'\nCHROOT='%s'\nKDIR_CHROOT='%s'\nCC_VERSION='%s'\n" \
		"$L_LABEL" "$L_SUITE" "$L_KVER" "$L_VMLINUZ" "$L_MODDIR" "$L_KDIR" \
		"$L_CHROOT" "$L_KDIR_CHROOT" "$cc"
}

# is_junk FILE: true for build outputs (never copied, never deleted as stale).
is_junk() {
	case ${1##*/} in
	*.o | *.ko | *.mod | *.mod.c | .*.cmd | *.a | *.d | modules.order | Module.symvers) return 0 ;;
	esac
	case /$1/ in
	*/.tmp_versions/*) return 0 ;;
	esac
	return 1
}

# sync_sources SRC DST DIR...: copy the top-level Kbuild and the directories
# DIR... of SRC to DST, keeping modification times so that rebuilds stay
# incremental, and delete the sources that have gone from SRC.
sync_sources() {
	local src=$1 dst=$2 f dir items=()
	shift 2
	[ ! -e "$src/Kbuild" ] || items+=(Kbuild)
	for dir in "$@"; do
		[ ! -d "$src/$dir" ] || items+=("$dir")
	done
	mkdir -p "$dst"
	tar -C "$src" --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='*.a' --exclude='*.d' \
		--exclude=modules.order --exclude=Module.symvers --exclude=.tmp_versions \
		-cf - "${items[@]}" | tar -C "$dst" -xf -
	for dir in "$@"; do
		[ -d "$dst/$dir" ] || continue
		(cd "$dst" && find "$dir" -type f) | while IFS= read -r f; do
			is_junk "$f" && continue
			[ -e "$src/$f" ] || rm -f "$dst/$f"
		done
	done
}

cmd_make() {
	[ $# -ge 1 ] || bad_usage "usage: $PROG make LABEL [--dir DIR]... [MAKE ARGS...]"
	local label=$1 bdir dir rc dirs=()
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--dir)
			[ $# -ge 2 ] || bad_usage "--dir needs a directory"
			dirs+=("${2%/}")
			shift 2
			;;
		--dir=*)
			dirs+=("${1#--dir=}")
			shift
			;;
		*) break ;;
		esac
	done
	[ ${#dirs[@]} -gt 0 ] || dirs=(kernel)
	for dir in "${dirs[@]}"; do
		case $dir in
		/* | ../* | */../* | ..) bad_usage "--dir takes a directory inside the source tree, not $dir" ;;
		esac
		[ -d "$SRC/$dir" ] || die "no directory $dir in $SRC"
	done
	cmd_prepare "$label"
	load_info "$label"
	[ -z "$L_CHROOT" ] || need_root "building for $label (in its chroot)"
	# one build directory per source tree: tar keeps mtimes, so two trees
	# sharing one directory could leave an object newer than its source
	bdir=$CACHE/build-$label-$(echo "$SRC" | cksum | cut -d' ' -f1)
	mkdir -p "$bdir"
	exec 9>"$bdir.lock"
	flock 9
	# kernel/ always: test modules may include its headers
	sync_sources "$SRC" "$bdir" kernel "${dirs[@]}"
	rm -rf "$bdir/ko"
	mkdir -p "$bdir/ko"
	for dir in "${dirs[@]}"; do
		rc=0
		if [ -z "$L_CHROOT" ]; then
			make -C "$L_KDIR" M="$bdir/$dir" "$@" >&2 || rc=$?
		else
			in_chroot "$L_CHROOT" "$bdir" \
				make -C "$L_KDIR_CHROOT" M="$bdir/$dir" "$@" >&2 || rc=$?
		fi
		[ "$rc" = 0 ] || die "make in $dir for kernel $label ($L_KVER) failed (status $rc)"
		find "$bdir/$dir" -maxdepth 1 -name '*.ko' -exec cp {} "$bdir/ko/" \;
	done
	echo "$bdir/ko"
}

# uncompress_to SRC DST: copy a module file, decompressing .xz/.zst/.gz.
uncompress_to() {
	mkdir -p "${2%/*}"
	case $1 in
	*.xz) xz -dc "$1" >"$2" ;;
	*.zst) zstd -dcq "$1" >"$2" ;;
	*.gz) gzip -dc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac || die "cannot decompress $1"
}

# modname PATH: the module name of a module file path (dashes as
# underscores, as the kernel names modules).
modname() {
	local b=${1##*/}
	b=${b%%.ko*}
	echo "${b//-/_}"
}

cmd_modules() {
	[ $# -ge 3 ] || bad_usage "usage: $PROG modules LABEL DESTDIR MODULE|FILE.ko..."
	local label=$1 dest=$2 line rel n d f out arg
	shift 2
	load_info "$label"
	command -v depmod >/dev/null 2>&1 || die "depmod not found; install kmod"
	out=$dest/lib/modules/$L_KVER
	mkdir -p "$out"

	local -A mpath=() mdeps=() builtin=() pre=() post=() seen=() extra=()
	local -a order=()
	# (modname inlined: thousands of lines, no subshell per line)
	while IFS= read -r line; do
		rel=${line%%:*}
		n=${rel##*/}
		n=${n%%.ko*}
		n=${n//-/_}
		mpath[$n]=$rel
		mdeps[$n]=${line#*:}
	done <"$L_MODDIR/modules.dep"
	if [ -r "$L_MODDIR/modules.builtin" ]; then
		while IFS= read -r rel; do
			n=${rel##*/}
			n=${n%%.ko*}
			builtin[${n//-/_}]=1
		done <"$L_MODDIR/modules.builtin"
	fi
	if [ -r "$L_MODDIR/modules.softdep" ]; then
		local w mode
		while read -r -a w; do
			[ "${w[0]:-}" = softdep ] || continue
			n=${w[1]//-/_}
			mode=""
			for f in "${w[@]:2}"; do
				case $f in
				pre:) mode=pre ;;
				post:) mode=post ;;
				*) if [ "$mode" = pre ]; then pre[$n]+=" $f"; else post[$n]+=" $f"; fi ;;
				esac
			done
		done <"$L_MODDIR/modules.softdep"
	fi

	# resolve NAME: print the module name NAME stands for (itself or the
	# first module whose alias it is), or nothing
	resolve() {
		local m=${1//-/_} a
		if [ -n "${mpath[$m]:-}" ] || [ -n "${builtin[$m]:-}" ] || [ -n "${extra[$m]:-}" ]; then
			echo "$m"
			return
		fi
		a=$(awk -v a="$1" '$1 == "alias" && $2 == a { print $3; exit }' \
			"$L_MODDIR/modules.alias" 2>/dev/null || true)
		[ -z "$a" ] || echo "${a//-/_}"
	}

	# visit NAME: copy NAME after its dependencies (and soft pre-deps)
	visit() {
		local m=$1 d r
		[ -z "${seen[$m]:-}" ] || return 0
		seen[$m]=1
		[ -z "${builtin[$m]:-}" ] || return 0
		if [ -n "${extra[$m]:-}" ]; then
			for d in $(modinfo -F depends "${extra[$m]}" | tr , ' '); do
				r=$(resolve "$d")
				[ -n "$r" ] || die "$m needs module $d, which $L_KVER does not have"
				visit "$r"
			done
		else
			for d in ${mdeps[$m]}; do
				d=${d##*/}
				d=${d%%.ko*}
				visit "${d//-/_}"
			done
			uncompress_to "$L_MODDIR/${mpath[$m]}" "$out/${mpath[$m]%.ko*}.ko"
		fi
		for d in ${pre[$m]:-}; do
			r=$(resolve "$d")
			[ -z "$r" ] || visit "$r"
		done
		order+=("$m")
		for d in ${post[$m]:-}; do
			r=$(resolve "$d")
			[ -z "$r" ] || visit "$r"
		done
	}

	# our own modules first, so that their names resolve
	for arg in "$@"; do
		case $arg in
		*/* | *.ko | *.ko.*)
			[ -r "$arg" ] || die "no module file $arg"
			n=$(modname "$arg")
			uncompress_to "$arg" "$out/updates/$n.ko"
			extra[$n]=$out/updates/$n.ko
			;;
		esac
	done
	for arg in "$@"; do
		case $arg in
		*/* | *.ko | *.ko.*) n=$(modname "$arg") ;;
		*\?)
			n=$(resolve "${arg%\?}")
			if [ -z "$n" ]; then
				note "kernel $L_KVER has no module ${arg%\?} (optional, skipped)"
				continue
			fi
			;;
		*)
			n=$(resolve "$arg")
			[ -n "$n" ] || die "kernel $L_KVER has no module $arg (neither built in nor in modules.dep or modules.alias; append ? to make it optional)"
			;;
		esac
		visit "$n"
	done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ ! -r "$L_MODDIR/$f" ] || cp "$L_MODDIR/$f" "$out/$f"
	done
	depmod -b "$dest" "$L_KVER" || die "depmod -b $dest $L_KVER failed"
	[ ${#order[@]} = 0 ] || printf '%s\n' "${order[@]}"
}

# conf_value KEY FILE: the value of KEY="..." in a dkms.conf.
conf_value() {
	sed -n "s/^$1=[\"']\\{0,1\\}\\([^\"']*\\)[\"']\\{0,1\\}[[:space:]]*\$/\\1/p" "$2" | head -n1
}

cmd_dkms() {
	[ $# = 1 ] || bad_usage "usage: $PROG dkms LABEL"
	local label=$1 conf=$SRC/dkms.conf name ver d log src step
	need_root "dkms"
	[ -r "$conf" ] || die "no dkms.conf in $SRC"
	name=$(conf_value PACKAGE_NAME "$conf")
	ver=$(conf_value PACKAGE_VERSION "$conf")
	if [ -z "$name" ] || [ -z "$ver" ]; then
		die "$conf lacks PACKAGE_NAME or PACKAGE_VERSION"
	fi
	cmd_prepare "$label"
	load_info "$label"
	if [ -z "$L_CHROOT" ]; then
		command -v dkms >/dev/null 2>&1 || die "dkms is not installed; run: apt-get install dkms"
	fi
	d=$CACHE/dkms-$label
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock-dkms-$label"
	flock 9
	rm -rf "$d"
	src=$d/src/$name-$ver
	mkdir -p "$src" "$d/tree" "$d/lib/modules/$L_KVER" "$d/ko"
	# newer dkms look for the headers in the install tree
	ln -s "$L_KDIR_CHROOT" "$d/lib/modules/$L_KVER/build"
	log=$d/dkms.log
	: >"$log"
	# the working tree as dkms users get it: tracked and new files, not
	# what .gitignore ignores (build outputs, caches)
	if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
		# shellcheck disable=SC2016 # expanded by that sh
		(cd "$SRC" && git ls-files -z -c -o --exclude-standard |
			xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
			tar --null -T - -cf -) | tar -C "$src" -xf -
	else
		tar -C "$SRC" --exclude=.git --exclude=./.cache --exclude=./out \
			--exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' -cf - . |
			tar -C "$src" -xf -
	fi

	# private source, dkms and install trees: a dmahba the user installed
	# with dkms on this machine is left alone
	dkms_run() {
		local dk=(dkms --sourcetree "$d/src" --dkmstree "$d/tree"
			--installtree "$d/lib/modules" "$@")
		echo "+ dkms $*" >>"$log"
		if [ -z "$L_CHROOT" ]; then
			"${dk[@]}" >>"$log" 2>&1
		else
			in_chroot "$L_CHROOT" "$d" "${dk[@]}" >>"$log" 2>&1
		fi
	}
	for step in add build install; do
		case $step in
		add) dkms_run add -m "$name" -v "$ver" ;;
		build) dkms_run build -m "$name" -v "$ver" -k "$L_KVER" ;;
		install) dkms_run install -m "$name" -v "$ver" -k "$L_KVER" --no-depmod ;;
		esac || {
			tail -n 30 "$log" >&2
			f=$(find "$d/tree" -name make.log 2>/dev/null | head -n1)
			[ -z "$f" ] || { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
			dkms_run remove -m "$name" -v "$ver" --all || true
			die "dkms $step of $name $ver for $L_KVER failed (log: $log)"
		}
		note "dkms $step: ok ($name $ver, $L_KVER)"
	done
	find "$d/lib/modules/$L_KVER" -name '*.ko*' -exec cp {} "$d/ko/" \;
	dkms_run remove -m "$name" -v "$ver" --all ||
		die "dkms remove of $name $ver failed (log: $log)"
	note "dkms remove: ok"
	[ -n "$(ls "$d/ko")" ] || die "dkms install put no module in $d/lib/modules/$L_KVER"
	note "installed by dkms: $(cd "$d/ko" && echo *)"
	echo "$d/ko"
}

cmd_shell() {
	[ $# -ge 1 ] || bad_usage "usage: $PROG shell LABEL [COMMAND...]"
	local label=$1
	shift
	load_info "$label"
	[ $# -gt 0 ] || set -- /bin/bash
	if [ -z "$L_CHROOT" ]; then
		cd "$SRC" && exec "$@"
	fi
	need_root "shell"
	# shellcheck disable=SC2016 # expanded by that sh
	in_chroot "$L_CHROOT" "$SRC" /bin/sh -c 'cd "$0" && exec "$@"' "$SRC" "$@"
}

case ${1:-} in
_chroot-exec)
	shift
	chroot_exec "$@"
	;;
list)
	shift
	cmd_list "$@"
	;;
prepare)
	shift
	cmd_prepare "$@"
	;;
info)
	shift
	cmd_info "$@"
	;;
make)
	shift
	cmd_make "$@"
	;;
modules)
	shift
	cmd_modules "$@"
	;;
dkms)
	shift
	cmd_dkms "$@"
	;;
shell)
	shift
	cmd_shell "$@"
	;;
help | -h | --help)
	usage
	;;
"")
	usage >&2
	exit 2
	;;
*)
	bad_usage "unknown command '$1'"
	;;
esac
