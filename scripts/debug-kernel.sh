#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - what "make check-debug" runs: build (once, cached outside
# the repository) a 6.1 kernel from Debian's linux-source-6.1 with KASAN,
# lockdep, DEBUG_ATOMIC_SLEEP, DMA_API_DEBUG, kmemleak and friends, build our
# modules and the kselftest suite against it, run the whole suite on it in a
# VM, then scan kmemleak and the kernel log. Any test failure or any report
# (BUG, WARNING, KASAN, UBSAN, lockdep, sleeping in atomic context, DMA-API,
# debugobjects, hung task, RCU stall, kmemleak) fails the run.
#
# The kernel is a small one: x86_64_defconfig with the big subsystems a
# serial-console VM does not use turned off, plus the fragment below. The
# cache key is a hash of the fragment, the source package's version and the
# compiler's, so changing any of them builds a new kernel beside the old one:
#   $DMAHBA_CACHE/debug-kernel-<key>/linux      the built tree (KDIR for M=)
#   $DMAHBA_CACHE/debug-kernel-<key>/root       modules_install output
#   $DMAHBA_CACHE/debug-kernel-<key>/build.log  the build's output
# The first build takes 20-40 minutes on two cores (nice -n 19, -j2).
#
# The VM is booted with scripts/vm.sh, which only knows the kernels of
# scripts/kernels.sh: a copy of vm.sh is run from $DMAHBA_CACHE/check-debug/vm
# next to a small kernels.sh that answers "info" and "modules" for this
# kernel. The run's files live in $DMAHBA_CACHE/check-debug (out/ is removed
# by "make clean", which others run while this runs for an hour); the logs
# and the reports are copied to out/check-debug at the end.
#
# Usage: scripts/debug-kernel.sh [--build-only | --no-build | --report]
#   --build-only   build (or find) the kernel, print its directory, stop
#   --no-build     fail instead of building when the kernel is not cached
#   --report       only analyze the last run again (its files in the cache)
# Environment:
#   DMAHBA_CACHE          cache directory (default /var/cache/dmahba)
#   DMAHBA_TESTS          "name..." runs only those tests
#   DMAHBA_DEBUG_TIMEOUT  VM timeout in seconds (default 14400: KASAN and
#                         lockdep under TCG are several times slower)
#   DMAHBA_DEBUG_SCALE    factor on the suite's per-test timeout (default 4)
#   DMAHBA_DEBUG_MEM      guest memory (default 4G)
#   DMAHBA_DEBUG_JOBS     make -j for the kernel build (default 2)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=$(readlink -m "${DMAHBA_CACHE:-/var/cache/dmahba}")
srctar=/usr/src/linux-source-6.1.tar.xz
srcpkg=linux-source-6.1
jobs=${DMAHBA_DEBUG_JOBS:-2}

build_only=0
no_build=0
report_only=0
case "${1:-}" in
--build-only) build_only=1 ;;
--no-build) no_build=1 ;;
--report) no_build=1; report_only=1 ;;
"") ;;
*) sed -n '/^# Usage/,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac

die() { echo "debug-kernel: error: $*" >&2; exit 1; }
note() { echo "debug-kernel: $*" >&2; }
step() { echo; echo "=== $* ==="; }

# The config fragment, merged over x86_64_defconfig. Every line is checked in
# the final .config: a debug option that Kconfig drops fails the build.
fragment=$(cat <<'EOF'
CONFIG_LOCALVERSION="-dmahba-debug"
# CONFIG_LOCALVERSION_AUTO is not set
# CONFIG_WERROR is not set
# --- modules: ours are built against this tree with M=
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
# CONFIG_MODULE_SIG is not set
# CONFIG_MODVERSIONS is not set
CONFIG_MODULE_COMPRESS_NONE=y
# --- what vm.sh's guest needs: two 8250 ports, an uncompressed cpio
# initramfs, devtmpfs, tmpfs, ACPI power-off
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_DEVTMPFS=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_TMPFS=y
CONFIG_ACPI=y
CONFIG_HZ_250=y
# CONFIG_HZ_1000 is not set
CONFIG_PREEMPT=y
# CONFIG_PREEMPT_VOLUNTARY is not set
# --- what the VM does not need (build time): no network at all, no
# graphics, sound, USB, EFI, 32-bit emulation, extra file systems
# CONFIG_NET is not set
# CONFIG_EFI is not set
# CONFIG_IA32_EMULATION is not set
# CONFIG_KEXEC is not set
# CONFIG_CRASH_DUMP is not set
# CONFIG_BPF_SYSCALL is not set
# CONFIG_ISO9660_FS is not set
# CONFIG_MSDOS_FS is not set
# CONFIG_VFAT_FS is not set
# CONFIG_QUOTA is not set
# CONFIG_HW_RANDOM is not set
# CONFIG_WATCHDOG is not set
# CONFIG_SECURITY is not set
# CONFIG_DRM is not set
# CONFIG_AGP is not set
# CONFIG_SOUND is not set
# CONFIG_USB_SUPPORT is not set
# CONFIG_HID is not set
# CONFIG_INPUT_JOYSTICK is not set
# CONFIG_INPUT_TABLET is not set
# CONFIG_INPUT_TOUCHSCREEN is not set
# CONFIG_WIRELESS is not set
# CONFIG_CFG80211 is not set
# CONFIG_NETFILTER is not set
# CONFIG_NET_SCHED is not set
# CONFIG_IPV6 is not set
# CONFIG_NETDEVICES is not set
# CONFIG_NETWORK_FILESYSTEMS is not set
# CONFIG_ATA is not set
# CONFIG_MD is not set
# CONFIG_PCCARD is not set
# CONFIG_HIBERNATION is not set
# CONFIG_VIRTUALIZATION is not set
# CONFIG_SECURITY_SELINUX is not set
# CONFIG_AUDIT is not set
# CONFIG_AMD_IOMMU is not set
# CONFIG_FUNCTION_TRACER is not set
# CONFIG_DEBUG_INFO_BTF is not set
CONFIG_DEBUG_INFO_NONE=y
# --- SCSI, block and DMA: as Debian builds them
CONFIG_SCSI=m
CONFIG_BLK_DEV_SD=m
CONFIG_CHR_DEV_SG=m
CONFIG_BLK_DEV_BSG=y
CONFIG_SCSI_LOGGING=y
CONFIG_SCSI_SCAN_ASYNC=y
# CONFIG_SCSI_PROC_FS is not set
CONFIG_SCSI_LOWLEVEL=y
CONFIG_SCSI_DEBUG=m
CONFIG_BLK_DEV_INTEGRITY=y
CONFIG_BLK_DEBUG_FS=y
CONFIG_BLK_DEV=y
CONFIG_BLK_DEV_NULL_BLK=m
CONFIG_CONFIGFS_FS=m
CONFIG_EXT4_FS=y
CONFIG_DMADEVICES=y
CONFIG_INTEL_IDMA64=m
CONFIG_DMA_ENGINE=y
CONFIG_DEBUG_FS=y
CONFIG_FTRACE=y
CONFIG_TRACING=y
CONFIG_EVENT_TRACING=y
# --- the debug options
CONFIG_DEBUG_KERNEL=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
# CONFIG_KASAN_OUTLINE is not set
CONFIG_KASAN_VMALLOC=y
CONFIG_UBSAN=y
CONFIG_UBSAN_BOUNDS=y
CONFIG_PROVE_LOCKING=y
CONFIG_LOCKDEP_BITS=16
CONFIG_LOCKDEP_CHAINS_BITS=17
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_DEBUG_PREEMPT=y
CONFIG_DMA_API_DEBUG=y
CONFIG_DMA_API_DEBUG_SG=y
CONFIG_DEBUG_KMEMLEAK=y
# CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF is not set
# CONFIG_DEBUG_KMEMLEAK_AUTO_SCAN is not set
CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE=16000
CONFIG_DEBUG_OBJECTS=y
CONFIG_DEBUG_OBJECTS_FREE=y
CONFIG_DEBUG_OBJECTS_TIMERS=y
CONFIG_DEBUG_OBJECTS_WORK=y
CONFIG_DEBUG_OBJECTS_ENABLE_DEFAULT=1
CONFIG_DEBUG_SG=y
CONFIG_DEBUG_LIST=y
CONFIG_DETECT_HUNG_TASK=y
CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=120
CONFIG_RCU_CPU_STALL_TIMEOUT=60
EOF
)

srcver=$(dpkg-query -W -f='${Version}' "$srcpkg" 2>/dev/null) || die "$srcpkg is not installed (make deps)"
[ -r "$srctar" ] || die "$srctar not found (make deps)"
ccver=$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)
key=$(printf '%s\n' "$fragment" "$srcpkg=$srcver" "gcc=$ccver" | sha256sum | cut -c1-12)
kcache=$cache/debug-kernel-$key
kdir=$kcache/linux
mroot=$kcache/root

# ---------------------------------------------------------------- the kernel
check_config() {
	local cfg=$1 line sym val bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$cfg" || { echo "  wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo unset)"; bad=1; } ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			if grep -qE "^$sym=" "$cfg"; then
				echo "  wanted $sym unset, got: $(grep -E "^$sym=" "$cfg")"
				bad=1
			fi ;;
		esac
	done <<<"$fragment"
	return $bad
}

build_kernel() {
	local t0 log=$kcache/build.log t missing=()
	# what a kernel build needs beyond "make deps" (objtool: libelf;
	# certs/extract-cert: openssl)
	for t in flex bison bc perl; do
		command -v $t > /dev/null || missing+=("$t")
	done
	[ -f /usr/include/libelf.h ] || missing+=(libelf-dev)
	[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
	[ ${#missing[@]} -eq 0 ] || die "building the kernel needs: apt-get install ${missing[*]}"
	t0=$(date +%s)
	note "building the debug kernel in $kcache (log: $log); 20-40 min on two cores"
	rm -rf "$mroot" "$kcache/tmp" "$kcache/built"
	mkdir -p "$kcache"
	echo "source: $srcpkg $srcver, gcc $ccver, key $key" >> "$log"
	# resumable: an unpacked and configured tree is kept after a failure
	if [ ! -f "$kdir/Makefile" ]; then
		rm -rf "$kdir"
		mkdir -p "$kcache/tmp"
		{ tar -xJf "$srctar" -C "$kcache/tmp" &&
		  mv "$kcache/tmp/linux-source-6.1" "$kdir" && rmdir "$kcache/tmp"; } >> "$log" 2>&1 ||
			die "unpacking $srctar failed"
		rm -f "$kcache/configured"
	fi
	if [ ! -e "$kcache/configured" ]; then
		{ printf '%s\n' "$fragment" > "$kcache/fragment.config" &&
		  make -C "$kdir" -s x86_64_defconfig &&
		  "$kdir/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" "$kcache/fragment.config" &&
		  make -C "$kdir" -s olddefconfig; } >> "$log" 2>&1 ||
			{ tail -20 "$log" >&2; die "configuring failed"; }
		touch "$kcache/configured"
	fi
	if ! check_config "$kdir/.config" > "$kcache/config-check.txt"; then
		cat "$kcache/config-check.txt" >&2
		die "the fragment does not survive olddefconfig"
	fi
	if ! nice -n 19 make -C "$kdir" -j"$jobs" bzImage modules >> "$log" 2>&1; then
		grep -E 'error|Error' "$log" | tail -20 >&2
		die "kernel build failed (log: $log)"
	fi
	if ! nice -n 19 make -C "$kdir" -s modules_install INSTALL_MOD_PATH="$mroot" \
	     INSTALL_MOD_STRIP=1 >> "$log" 2>&1; then
		tail -20 "$log" >&2
		die "modules_install failed"
	fi
	make -C "$kdir" -s kernelrelease > "$kcache/kernelrelease"
	echo "build time: $(( $(date +%s) - t0 )) s" | tee -a "$log" > "$kcache/built"
	note "built $(cat "$kcache/kernelrelease") in $(( $(date +%s) - t0 )) s"
}

mkdir -p "$cache"
exec 9>"$kcache.lock"
if ! flock -n 9; then
	note "another build of $kcache is running; waiting for it"
	flock 9
fi
if [ ! -e "$kcache/built" ]; then
	[ "$no_build" = 1 ] && die "no debug kernel in $kcache (run without --no-build)"
	build_kernel
fi
flock -u 9
exec 9>&-
kver=$(cat "$kcache/kernelrelease")
vmlinuz=$kdir/arch/x86/boot/bzImage
if [ "$build_only" = 1 ]; then
	echo "$kcache"
	exit 0
fi

run=$cache/check-debug
res=$top/out/check-debug
if [ "$report_only" = 0 ]; then
	exec 8>"$run.lock"
	flock -n 8 || die "another check-debug is running ($run.lock)"
fi
fails=()
ksft=$run/ksft
fail() { fails+=("$*"); echo "check-debug: FAIL: $*"; }
excl=(--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c'
      --exclude='.*.cmd' --exclude='*.a' --exclude='*.d' --exclude=modules.order
      --exclude=Module.symvers --exclude='.tmp_versions')

# ---------------------------------------------------------------- results
# The suite's TAP, the kernel log and kmemleak's list of the last run.
report() {
	step "results"
	tap=$run/console.txt
	passed=$(grep -cE '^ok [0-9]+ selftests: ' "$tap")
	skipped=$(grep -cE '^ok [0-9]+ selftests: .*# SKIP' "$tap")
	failed=$(grep -cE '^not ok [0-9]+ selftests: ' "$tap")
	passed=$((passed - skipped))
	expected=$(wc -l < "$ksft/kselftest-list.txt")
	[ "$rc" = 0 ] || fail "the VM run did not finish cleanly (exit $rc)"
	[ "$failed" -gt 0 ] && fail "$failed test(s) not ok: $(grep -E '^not ok [0-9]+ selftests: ' "$tap" | sed 's/.*selftests: //' | tr '\n' ' ')"
	[ $((passed + skipped + failed)) -lt "$expected" ] &&
		fail "only $((passed + skipped + failed)) of $expected tests reported"
	boot=$(sed -n 's/^vm: .* up in \([0-9.]*\)s$/\1/p' "$tap" | head -1)
	dmaerr=$(sed -n 's/^=== dma-api errors: \(.*\) ===$/\1/p' "$tap" | tail -1)
	case ${dmaerr:-unavailable} in
	0) ;;
	unavailable) fail "DMA-API debugging was not available in the guest" ;;
	*) fail "DMA-API debugging counted $dmaerr error(s)" ;;
	esac

	# Reports in the kernel log: the first line of each, up to its end ("end
	# trace", KASAN's closing rule, or 120 lines), with its frames in our
	# modules resolved to file:line.
	# Only the suite's part of the log counts: a report from before the
	# suite started (boot, before any module of ours was loaded) is listed
	# in boot-reports.txt and said, but is not the suite's.
	klog=$run/kernel.suite.log
	bootlog=$run/kernel.boot.log
	awk -v b="$bootlog" 'f { print; next } /check-debug: suite start/ { f = 1; print; next } { print > b }' \
		"$run/kernel.log" > "$klog"
	if [ ! -s "$klog" ]; then	# no marker: all of it is the suite's
		cp "$run/kernel.log" "$klog"
		: > "$bootlog"
	fi
	start_re='cut here|BUG:|WARNING:|Oops|general protection fault|UBSAN:|Kernel panic|INFO: task .* blocked for more than|rcu: INFO|self-detected stall|kmemleak: [0-9]+ new suspected|DMA-API: .*(driver|device)|ODEBUG:|list_(add|del) corruption|Call Trace:'
	ourmods='\[(dmahba|softdma|softdma_test|[a-z_]*_test)\]'
	# DMA-API's "Mapped at:" stack (of the mapping already there) follows the
	# end of its report and is kept with it.
	awk -v re="$start_re" '
		function flush() { if (n) { print "----"; for (i = 1; i <= n; i++) print buf[i] }; n = 0 }
		{ line = $0; sub(/^\[ *[0-9.]+\] /, "", line) }
		n && (line ~ /---\[ end trace|^==========/ || n >= 120) { buf[++n] = line; flush(); after = 1; next }
		n { buf[++n] = line; next }
		after && (line ~ /^DMA-API: Mapped at:/ || (after > 1 && line ~ /^ /)) { print line; after = 2; next }
		{ after = 0 }
		line ~ re { n = 1; buf[1] = line }
		END { flush() }' "$klog" > "$run/reports.txt"
	nrep=$(grep -c '^----$' "$run/reports.txt")
	nboot=0
	if [ -s "$bootlog" ]; then
		grep -E "$start_re" "$bootlog" | sed 's/^\[ *[0-9.]*\] //' > "$run/boot-reports.txt" || true
		nboot=$(wc -l < "$run/boot-reports.txt")
		if [ "$nboot" -gt 0 ]; then
			echo "check-debug: $nboot report line(s) during boot, before the suite started and before any module of ours was loaded (not counted; $res/boot-reports.txt):"
			head -5 "$run/boot-reports.txt" | sed 's/^/    /'
		fi
	fi
	if [ -s "$run/kmemleak.txt" ]; then
		nleak=$(grep -c '^unreferenced object' "$run/kmemleak.txt")
	else
		nleak=0
	fi
	if [ "$nrep" -gt 0 ]; then
		fail "$nrep report(s) in the kernel log ($res/reports.txt)"
		echo "--- reports (first line; frames in our modules) ---"
		# frames marked "?" are stale stack words, not calls: left out
		awk '/^----$/ { getline; if (/cut here/) { getline; m = $0; getline; $0 = m " | " $0 }; print "* " $0; next }
		     /^DMA-API: Mapped at:/ { print "    (the mapping already there was made at:)"; next }
		     /^ +\? / { next } /'"$ourmods"'/ { print "    " $0 }' "$run/reports.txt" |
		while IFS= read -r l; do
			# "  func+0x1/0x2 [mod]" -> file:line from the -g build
			f=$(echo "$l" | sed -nE 's/^ +([A-Za-z0-9_.]+\+0x[0-9a-f]+\/0x[0-9a-f]+) \[([a-z0-9_]+)\].*/\1 \2/p')
			loc=
			if [ -n "$f" ] && [ -f "$run/ko/${f#* }.ko" ]; then
				loc=$("$kdir/scripts/faddr2line" "$run/ko/${f#* }.ko" "${f% *}" 2>/dev/null |
				      sed -n 's/^.* at \(.*\)$/\1/p' | head -1 | sed "s|^$run/src/||")
			fi
			echo "$l${loc:+  ($loc)}"
		done
	fi
	if [ "$nleak" -gt 0 ]; then
		fail "kmemleak: $nleak unreferenced object(s) ($res/kmemleak.txt)"
		grep -E '^unreferenced object|'"$ourmods" "$run/kmemleak.txt" | head -60
	fi
	grep -q '=== kmemleak unavailable ===' "$tap" && fail "kmemleak was not available in the guest"

	mkdir -p "$res"
	for f in console.txt kernel.log kmemleak.txt reports.txt boot-reports.txt; do
		cp "$run/$f" "$res/" 2>/dev/null
	done
	{
		echo
		echo "=== summary ==="
		echo "kernel: $kver ($kcache, $(cat "$kcache/built"))"
		echo "boot: ${boot:-?} s to userspace; VM run: $vmtime s; suite: $passed passed," \
			"$failed failed, $skipped skipped ($(grep -cE '^# ok [0-9]+ ' "$tap") subtests ok," \
			"$(grep -cE '^# not ok [0-9]+ ' "$tap") not ok)"
		echo "reports: $nrep in the kernel log during the suite ($nboot line(s) during boot, not counted), $nleak kmemleak object(s), ${dmaerr:-?} DMA-API error(s); logs in $res"
		if [ ${#fails[@]} -gt 0 ]; then
			printf 'check-debug: failed: %s\n' "${fails[@]}"
		else
			echo "check-debug: passed"
		fi
	} | tee "$res/summary.txt"
	[ ${#fails[@]} -eq 0 ]
}

if [ "$report_only" = 1 ]; then
	[ -f "$run/vm.status" ] || die "no run to report on in $run"
	. "$run/vm.status"
	report
	exit
fi

# ---------------------------------------------------------------- our modules
# Built from a copy of the tree (others build in it at the same time), with
# -g so that a report's module frames resolve to file:line (faddr2line).
step "our modules against $kver"
mkdir -p "$run"
rm -rf "$run/src" "$run/ko" "$run/ksft" "$run"/*.txt "$run/kernel.log" "$res"
mkdir -p "$run/src" "$run/ko"
rsync -a "${excl[@]}" "$top/Kbuild" "$top/kernel" "$run/src/"
mkdir -p "$run/src/selftests"
rsync -a "${excl[@]}" "$top/selftests/" "$run/src/selftests/"
log=$run/modules-build.log
if ! make -C "$kdir" M="$run/src" KCFLAGS=-g modules > "$log" 2>&1; then
	cat "$log"
	die "our modules do not build against $kdir"
fi
if ls "$run/src/selftests/modules/"*.c > /dev/null 2>&1 &&
   ! make -C "$kdir" M="$run/src/selftests/modules" KCFLAGS=-g modules >> "$log" 2>&1; then
	cat "$log"
	die "the test modules do not build against $kdir"
fi
find "$run/src/kernel" "$run/src/selftests/modules" -maxdepth 1 -name '*.ko' -exec cp {} "$run/ko/" \;
echo "modules: $(cd "$run/ko" && ls | tr '\n' ' ')"

# ---------------------------------------------------------------- kselftests
# As check.sh installs them, with the per-test timeout scaled: KASAN and
# lockdep under TCG make everything several times slower.
step "build and install the kselftest suite"
kst=$kdir/tools/testing/selftests
mkdir -p "$ksft/dmahba" "$ksft/kselftest"
if ! make -s -C "$run/src/selftests" KSFT_DIR="$kst" install INSTALL_PATH="$ksft/dmahba" > "$run/selftests-build.log" 2>&1; then
	cat "$run/selftests-build.log"
	die "selftests build"
fi
cp "$kst/run_kselftest.sh" "$ksft/"
cp "$kst"/kselftest/*.sh "$kst"/kselftest/*.pl "$ksft/kselftest/"
make -s -C "$run/src/selftests" --no-print-directory KSFT_DIR="$kst" emit_tests COLLECTION=dmahba 2>/dev/null |
	grep '^dmahba:' > "$ksft/kselftest-list.txt"
if [ -n "${DMAHBA_TESTS:-}" ]; then
	for t in $DMAHBA_TESTS; do echo "dmahba:$t"; done > "$ksft/kselftest-list.txt"
fi
scale=${DMAHBA_DEBUG_SCALE:-4}
if [ -f "$ksft/dmahba/settings" ]; then
	t=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' "$ksft/dmahba/settings")
	sed -i "s/^timeout=.*/timeout=$(( ${t:-45} * scale ))/" "$ksft/dmahba/settings"
else
	echo "timeout=$((45 * scale))" > "$ksft/dmahba/settings"
fi
echo "tests: $(tr '\n' ' ' < "$ksft/kselftest-list.txt")"
echo "per-test timeout: $(sed -n 's/^timeout=//p' "$ksft/dmahba/settings") s"

# ---------------------------------------------------------------- the VM
# vm.sh boots kernels by label through scripts/kernels.sh: run a copy of it
# beside a kernels.sh that knows only this kernel.
step "the suite on $kver in the VM"
vmtop=$run/vm
mkdir -p "$vmtop/scripts"
cp -p "$top/scripts/vm.sh" "$vmtop/scripts/vm.sh"
cat > "$vmtop/scripts/kernels.sh" <<SHIM
#!/bin/bash
# Generated by scripts/debug-kernel.sh: "info" and "modules" of
# scripts/kernels.sh, for the debug kernel only.
set -euo pipefail
KVER=$kver
MROOT=$mroot
case "\$1" in
info)
	cat <<INFO
LABEL=debug
SUITE=
KVER=$kver
VMLINUZ=$vmlinuz
MODDIR=$mroot/lib/modules/$kver
KDIR=$kdir
CHROOT=
KDIR_CHROOT=$kdir
CC_VERSION=$ccver
INFO
	;;
modules)
	dest=\$3
	shift 3
	names=()
	for a in "\$@"; do
		case \$a in
		*.ko) install -D -m 0644 "\$a" "\$dest/lib/modules/\$KVER/updates/\${a##*/}" ;;
		*) names+=("\$a") ;;
		esac
	done
	[ \${#names[@]} -eq 0 ] ||
	for f in \$(modprobe -d "\$MROOT" -S "\$KVER" -a --show-depends "\${names[@]}" 2>/dev/null |
		   awk '/^insmod/ {print \$2}' | sort -u); do
		install -D -m 0644 "\$f" "\$dest\${f#\$MROOT}"
	done
	mkdir -p "\$dest/lib/modules/\$KVER"
	cp "\$MROOT/lib/modules/\$KVER"/modules.{order,builtin,builtin.modinfo} "\$dest/lib/modules/\$KVER/"
	depmod -b "\$dest" "\$KVER"
	;;
*)
	echo "kernels.sh (debug shim): only info and modules" >&2
	exit 2
	;;
esac
SHIM
chmod 0755 "$vmtop/scripts/kernels.sh"

# kmemleak: boot-time suspects are marked seen first, so that the scan after
# the suite lists only what leaked during it. DMA-API debugging prints only
# its first error by default (one would hide the next): up to 50 are printed,
# and its count of all of them is read at the end.
guest='
kml=/sys/kernel/debug/kmemleak
dma=/sys/kernel/debug/dma-api
if [ -w $kml ]; then echo scan > $kml; echo clear > $kml; fi
[ -w $dma/num_errors ] && echo 50 > $dma/num_errors
echo "check-debug: suite start" > /dev/kmsg
cd /kselftest && ./run_kselftest.sh
rc=$?
echo "=== dma-api errors: $(cat $dma/error_count 2>/dev/null || echo unavailable) ==="
if [ -w $kml ]; then
	echo scan > $kml
	sleep 6
	echo scan > $kml
	echo "=== kmemleak begin ==="
	cat $kml
	echo "=== kmemleak end ==="
else
	echo "=== kmemleak unavailable ==="
fi
exit $rc'
t0=$(date +%s)
"$vmtop/scripts/vm.sh" -k debug -t "${DMAHBA_DEBUG_TIMEOUT:-14400}" -m "${DMAHBA_DEBUG_MEM:-4G}" -f \
	-M "$run/ko" -S "$ksft" -l "$run/kernel.log" -- "$guest" | tee "$run/console.txt"
rc=${PIPESTATUS[0]}
vmtime=$(( $(date +%s) - t0 ))
echo "vm: exit $rc after $vmtime s"
echo "rc=$rc vmtime=$vmtime" > "$run/vm.status"
sed -n '/^=== kmemleak begin ===$/,/^=== kmemleak end ===$/p' "$run/console.txt" |
	sed '1d;$d' > "$run/kmemleak.txt"


report
