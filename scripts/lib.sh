# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh - sourced by the scripts (bash): messages, the kernel-error check,
# the kselftest install and the VM.
#
# vm_run boots a kernel under QEMU with a generated busybox initramfs and runs
# one shell command in it. The initramfs is uncompressed cpio archives
# concatenated (the kernel unpacks them in order): a cached base (busybox,
# kmod, sg3_utils, lsscsi, fio, iscsi-test-cu, mdadm with their libraries, the
# kernel's SCSI/md/null_blk modules), then a per-run layer with our .ko files
# under /dmahba, the kselftest tree under /kselftest and the command. The
# command's output is the first serial port (our stdout); the guest's kernel
# log goes to the second one, saved whole even if the guest dies.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prog=${0##*/}
prog=${prog%.sh}
failures=()
note() { echo "$prog: $*" >&2; }
die() { note "error: $*"; exit 1; }
step() { echo; echo "=== $* ==="; }
fail() { failures+=("$*"); echo "$prog: FAIL: $*"; }

# kernel_errors LOG [MARKER]: print the lines of a kernel log (from the first
# line matching MARKER, if given) that scripts/kernel-errors.txt calls errors
kernel_errors() {
	if [ -n "${2:-}" ]; then sed -n "/$2/,\$p" "$1"; else cat "$1"; fi |
		grep -E -f <(grep -v '^#' "$top/scripts/kernel-errors.txt")
}

# klog_check NAME LOG [MARKER]: fail() on the kernel errors in LOG (from
# MARKER on), showing them
klog_check() {
	local bad
	bad=$(kernel_errors "$2" "${3:-}") || return 0
	echo "$bad" | head -40
	fail "$1: errors in the kernel log ($2)"
}

# ksft_install DEST [KSFT_DIR]: build our suite and install it with
# kselftest's runner from KSFT_DIR (a tools/testing/selftests; default: the
# one "make deps" extracted) into DEST, with the list of tests to run (all,
# or $DMAHBA_TESTS)
ksft_install() {
	local dest=$1 kst=${2:-$top/.cache/linux-src/tools/testing/selftests} st=$top/selftests t
	mkdir -p "$dest/dmahba" "$dest/kselftest" "$dest/build"
	make -s -C "$st" KSFT_DIR="$kst" OUTPUT="$dest/build" install INSTALL_PATH="$dest/dmahba" || return
	cp "$kst/run_kselftest.sh" "$dest/"
	cp "$kst"/kselftest/*.sh "$kst"/kselftest/*.pl "$dest/kselftest/"
	make -s -C "$st" --no-print-directory KSFT_DIR="$kst" emit_tests COLLECTION=dmahba |
		grep '^dmahba:' > "$dest/kselftest-list.txt"
	if [ -n "${DMAHBA_TESTS:-}" ]; then
		for t in $DMAHBA_TESTS; do echo "dmahba:$t"; done > "$dest/kselftest-list.txt"
	fi
	echo "tests: $(tr '\n' ' ' < "$dest/kselftest-list.txt")"
}

# ksft_verdict NAME TAP KLOG LIST [MARKER]: fail() on a test not ok, a test
# missing from the TAP output or an error in the kernel log; set $verdict
# to "N passed, M failed, K skipped"
ksft_verdict() {
	local name=$1 tap=$2 klog=$3 list=$4 p s f
	p=$(grep -cE '^ok [0-9]+ selftests: ' "$tap")
	s=$(grep -cE '^ok [0-9]+ selftests: .*# SKIP' "$tap")
	f=$(grep -cE '^not ok [0-9]+ selftests: ' "$tap")
	p=$((p - s))
	[ "$f" = 0 ] || fail "$name: $f test(s) not ok: $(grep -E '^not ok [0-9]+ selftests: ' "$tap" |
		sed 's/.*selftests: dmahba: //; s/ .*//' | tr '\n' ' ')"
	[ $((p + s + f)) -ge "$(wc -l < "$list")" ] || fail "$name: only $((p + s + f)) of $(wc -l < "$list") tests reported"
	klog_check "$name" "$klog" "${5:-}"
	# shellcheck disable=SC2034 # the caller's
	verdict="$p passed, $f failed, $s skipped"
}

# copy_bin ROOT FILE...: install executables and the libraries they need
# (copy_libs: the libraries only)
copy_libs() {
	local root=$1 lib
	for lib in $(ldd "$2" 2>/dev/null | awk '/=>/ {print $3} /^\t\// {print $1}'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}
copy_bin() {
	local root=$1 b
	shift
	for b in "$@"; do
		install -D -m 0755 "$b" "$root$b"
		copy_libs "$root" "$b"
	done
}

mkcpio() { (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) > "$2"; }

# vm_kernel LABEL: set KVER, VMLINUZ and MODROOT (the tree holding
# lib/modules/KVER: "" for the host's 6.1, else the chroot) of a kernel of
# scripts/kernels.sh. Other kernels (debug-kernel.sh) set the three first.
vm_kernel() {
	eval "$("$top/scripts/kernels.sh" info "$1")" || return
	[ -r "$VMLINUZ" ] || { note "no kernel image for $1 ($VMLINUZ); run make deps"; return 1; }
}

# vm_run [options] -- COMMAND: exits with the command's status, 124 on a
# timeout, 125 if the guest died before reporting one. Options:
#   -k LABEL  kernel (default 6.1; "debug": KVER/VMLINUZ/MODROOT already set)
#   -t SECS   timeout (600)   -m MEM  memory (2G)   -c CPUS  CPUs (2)
#   -M DIR    our .ko files (default: kernel/ and selftests/modules/), in the
#             guest's /dmahba with selftests/lib.sh
#   -S DIR    installed kselftest tree to carry
#   -I        also install our modules in the guest's updates/ (as dkms does)
#   -l FILE   where to save the kernel log (out/vm-LABEL/kernel.log)
# Environment: KERNEL_APPEND, QEMU_ACCEL (tcg,thread=multi), QEMU_EXTRA, VM_BINS (more programs).
# Runs may go on side by side: each keeps its files in a directory of its own.
vm_run() (
	set -euo pipefail
	local label=6.1 timeout=600 mem=2G cpus=2 moddir='' ksft='' inst=0 klog='' opt OPTIND=1
	while getopts "k:t:m:c:M:S:Il:" opt; do
		case $opt in
		k) label=$OPTARG ;; t) timeout=$OPTARG ;; m) mem=$OPTARG ;; c) cpus=$OPTARG ;;
		M) moddir=$OPTARG ;; S) ksft=$OPTARG ;; I) inst=1 ;; l) klog=$OPTARG ;;
		*) note "vm_run: unknown option (see scripts/lib.sh)"; return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ "$label" = debug ] || vm_kernel "$label"
	local out=$top/out/vm-$label mods=(scsi_mod sd_mod sg scsi_debug null_blk configfs ext4 crypto-crc32c 'md_mod?' 'raid1?')
	local b bins=()
	for b in /bin/busybox /usr/bin/kmod /usr/bin/fio /usr/bin/lsscsi /usr/bin/iscsi-test-cu /sbin/mdadm \
		/usr/bin/sginfo /usr/bin/sg_* ${VM_BINS:-}; do
		[ -x "$b" ] && bins+=("$b")
	done
	mkdir -p "$out"
	klog=${klog:-$out/kernel.log}

	# the base layer, rebuilt when one of its inputs changes
	local key base r t
	key=$(stat -c '%n %Y' "${BASH_SOURCE[0]}" "$MODROOT/lib/modules/$KVER/modules.dep" "${bins[@]}" | md5sum | cut -c1-12)
	base=$out/base-$key.cpio
	if [ ! -e "$base" ]; then
		rm -f "$out"/base-*.cpio
		r=$(mktemp -d)
		mkdir -p "$r"/{bin,sbin,dev,proc,sys,tmp,mnt,root,etc,usr/bin,usr/sbin,var/tmp}
		copy_bin "$r" "${bins[@]}"
		# kmod's modprobe honours soft dependencies (busybox's does not)
		for t in modprobe insmod rmmod lsmod modinfo depmod; do ln -s /usr/bin/kmod "$r/usr/sbin/$t"; done
		# busybox's timeout has no --foreground, which kselftest's runner passes
		# shellcheck disable=SC2016 # the guest's
		printf '#!/bin/sh\n[ "$1" = --foreground ] && shift\nexec /bin/busybox timeout "$@"\n' > "$r/usr/bin/timeout"
		chmod 0755 "$r/usr/bin/timeout"
		"$top/scripts/kernels.sh" modules "$label" "$r" "${mods[@]}"
		mkcpio "$r" "$base.$$"
		mv "$base.$$" "$base"
		rm -rf "$r"
	fi

	# the run's layer: our modules, the tests, the command
	local run
	run=$(mktemp -d "$out/run.XXXXXX")
	trap 'rm -rf "$run"' EXIT
	r=$run/root
	mkdir -p "$r/dmahba"
	if [ -n "$moddir" ]; then
		cp "$moddir"/*.ko "$r/dmahba/"
	else
		cp "$top"/kernel/*.ko "$r/dmahba/"
		cp "$top"/selftests/modules/*.ko "$r/dmahba/" 2>/dev/null || true
	fi
	cp "$top/selftests/lib.sh" "$r/dmahba/"	# the guest scripts' helpers too
	[ "$inst" = 0 ] || "$top/scripts/kernels.sh" modules "$label" "$r" "${mods[@]}" "$r"/dmahba/*.ko > /dev/null
	if [ -n "$ksft" ]; then
		mkdir -p "$r/kselftest"
		cp -a "$ksft/." "$r/kselftest/"
		# the C tests' libraries
		for t in "$r"/kselftest/dmahba/*; do
			! head -c 4 "$t" | grep -q ELF || copy_libs "$r" "$t"
		done
	fi
	cat > "$r/init" <<-'EOF'
	#!/bin/busybox sh
	/bin/busybox --install -s /bin
	export PATH=/usr/bin:/usr/sbin:/bin:/sbin HOME=/tmp
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mount -t tmpfs tmpfs /tmp
	mount -t debugfs debugfs /sys/kernel/debug
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	for f in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
		ln -sf "${f#*:}" "/dev/${f%%:*}"
	done
	hostname dmahba-vm
	for m in scsi_mod sd_mod sg; do modprobe $m; done
	exec </dev/ttyS0 >/dev/ttyS0 2>&1
	echo "vm: $(uname -r) up in $(cut -d' ' -f1 /proc/uptime)s"
	cd /
	sh /cmd.sh
	rc=$?
	sync
	echo "DMAHBA-VM-EXIT=$rc"
	poweroff -f
	EOF
	chmod 0755 "$r/init"
	printf '%s\n' "export DMAHBA_KO_DIR=/dmahba KVER=$KVER" "$*" > "$r/cmd.sh"
	mkcpio "$r" "$run/run.cpio"
	cat "$base" "$run/run.cpio" > "$run/initramfs.cpio"

	# tsc=reliable: under TCG the clocksource watchdog compares two emulated
	# clocks; on a loaded host it declares the TSC unstable mid-run, and the
	# switch to HPET makes the guest's time jump (seen: a spurious RCU stall).
	# A guest whose kernel dies before it runs /init (seen once in many
	# boots of 7.2 under TCG: an int3 Oops of the kernel's own text
	# patching at the switch to the TSC clocksource) has run nothing of
	# ours: it is booted once more, its log kept as KLOG.boot-failed.
	local qrc rc try
	for try in 1 2; do
		: > "$klog"
		set +e
		# shellcheck disable=SC2086
		timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
			-accel "${QEMU_ACCEL:-tcg,thread=multi}" -cpu max -smp "$cpus" -m "$mem" -no-reboot \
			-display none -monitor none -nodefaults -kernel "$VMLINUZ" -initrd "$run/initramfs.cpio" \
			-append "console=ttyS1 loglevel=7 panic=-1 oops=panic rdinit=/init tsc=reliable ${KERNEL_APPEND:-}" \
			-serial stdio -serial "file:$klog" ${QEMU_EXTRA:-} < /dev/null | tr -d '\r' | tee "$run/console.log"
		qrc=${PIPESTATUS[0]}
		set -e
		cp "$run/console.log" "$out/console.log"
		rc=$(sed -n 's/^DMAHBA-VM-EXIT=\([0-9]*\)$/\1/p' "$run/console.log" | tail -1)
		if [ "$try" = 2 ] || [ -n "$rc" ] || [ "$qrc" = 124 ] || [ "$qrc" = 137 ] ||
			grep -q 'Run /init as init process' "$klog"; then
			break
		fi
		cp "$klog" "$klog.boot-failed"
		echo "vm: the guest's kernel died before it ran /init (log: $klog.boot-failed); booting it once more" >&2
		tail -5 "$klog" >&2
	done
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "vm: timed out after ${timeout}s (kernel log: $klog)" >&2
		return 124
	fi
	if [ -z "$rc" ]; then
		echo "vm: the guest died before the command finished (kernel log: $klog)" >&2
		tail -30 "$klog" >&2
		return 125
	fi
	return "$rc"
)
