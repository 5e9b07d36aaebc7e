#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - what "make check-debug" runs: build (once, cached) a 6.1
# kernel from Debian's linux-source-6.1 with KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# DMA_API_DEBUG, kmemleak and friends, build our modules and the kselftest
# suite against it and run the suite on it in a VM. A test not ok, a line of
# scripts/kernel-errors.txt in the kernel log after the suite started, a
# kmemleak object or a DMA-API error fails the run.
#
# The kernel is x86_64_defconfig with what a serial-console VM does not use
# turned off, plus selftests/debug.config and what the suite needs
# (selftests/config). Its cache key hashes both and the source's and
# compiler's versions: $DMAHBA_CACHE/debug-kernel-<key>/
# holds linux/ (the tree), root/ (modules_install) and build.log. The first
# build takes 20-40 minutes on two cores. The run's files live in
# $DMAHBA_CACHE/check-debug; its logs are copied to out/check-debug.
#
# Environment: DMAHBA_CACHE (/var/cache/dmahba), DMAHBA_TESTS
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cache=$(readlink -m "${DMAHBA_CACHE:-/var/cache/dmahba}")
srctar=/usr/src/linux-source-6.1.tar.xz
srcpkg=linux-source-6.1

# selftests/debug.config and selftests/config, merged over x86_64_defconfig
fragment=$(cat "$top/selftests/debug.config" "$top/selftests/config")

srcver=$(dpkg-query -W -f='${Version}' "$srcpkg" 2>/dev/null) || die "$srcpkg is not installed (make deps)"
ccver=$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)
key=$(printf '%s\n' "$fragment" "$srcpkg=$srcver" "gcc=$ccver" | sha256sum | cut -c1-12)
kcache=$cache/debug-kernel-$key
kdir=$kcache/linux
mroot=$kcache/root

# check_config CONFIG: show the lines of the fragment CONFIG does not meet;
# fails if there is one
check_config() {
	{
		grep '^CONFIG_' <<< "$fragment" | grep -vxF -f "$1" | sed 's/^/  wanted /'
		sed -n 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=.*/p' <<< "$fragment" | grep -xE -f - "$1" |
			sed 's/^/  wanted unset, found /'
	} | grep '' && return 1
	return 0
}

build_kernel() {
	local t0 log=$kcache/build.log t missing=()
	# beyond "make deps" (objtool: libelf; certs/extract-cert: openssl)
	for t in flex bison bc perl; do command -v $t > /dev/null || missing+=("$t"); done
	[ -f /usr/include/libelf.h ] || missing+=(libelf-dev)
	[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
	[ ${#missing[@]} = 0 ] || die "building the kernel needs: apt-get install ${missing[*]}"
	t0=$(date +%s)
	note "building the debug kernel in $kcache (log: $log); 20-40 min on two cores"
	rm -rf "$mroot" "$kcache/built"
	mkdir -p "$kcache"
	# resumable: an unpacked and configured tree is kept after a failure
	if [ ! -f "$kdir/Makefile" ]; then
		rm -rf "$kdir" "$kcache/configured"
		{ tar -xJf "$srctar" -C "$kcache" && mv "$kcache/linux-source-6.1" "$kdir"; } >> "$log" 2>&1 ||
			die "unpacking $srctar failed"
	fi
	if [ ! -e "$kcache/configured" ]; then
		{ printf '%s\n' "$fragment" > "$kcache/fragment.config" &&
		  make -C "$kdir" -s x86_64_defconfig &&
		  "$kdir/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" "$kcache/fragment.config" &&
		  make -C "$kdir" -s olddefconfig; } >> "$log" 2>&1 || { tail -20 "$log" >&2; die "configuring failed"; }
		touch "$kcache/configured"
	fi
	check_config "$kdir/.config" >&2 || die "the fragment does not survive olddefconfig"
	if ! { nice -n 19 make -C "$kdir" -j2 bzImage modules &&
	       nice -n 19 make -C "$kdir" -s modules_install INSTALL_MOD_PATH="$mroot" INSTALL_MOD_STRIP=1; } >> "$log" 2>&1; then
		tail -20 "$log" >&2
		die "kernel build failed (log: $log)"
	fi
	make -C "$kdir" -s kernelrelease > "$kcache/kernelrelease"
	echo "build time: $(($(date +%s) - t0)) s" | tee -a "$log" > "$kcache/built"
}

mkdir -p "$cache"
exec 9> "$kcache.lock"
if ! flock -n 9; then note "another build of $kcache is running; waiting for it"; flock 9; fi
[ -e "$kcache/built" ] || build_kernel
exec 9>&-
KVER=$(cat "$kcache/kernelrelease")
VMLINUZ=$kdir/arch/x86/boot/bzImage
MODROOT=$mroot
KDIR=$kdir
export KVER VMLINUZ MODROOT KDIR

run=$cache/check-debug
res=$top/out/check-debug
exec 8> "$run.lock"
flock -n 8 || die "another check-debug is running ($run.lock)"

# Our modules and dmatest (its source, make deps' copy, matches this kernel),
# built by kernels.sh in a copy of the tree
step "our modules against $KVER"
rm -rf "$run" "$res"
mkdir -p "$run" "$res"
cp "$top/.cache/linux-src/drivers/dma/dmatest.c" "$top/selftests/modules/"
"$top/scripts/kernels.sh" make debug --out "$run/ko" --dir kernel --dir selftests/modules > /dev/null \
	2> "$run/modules-build.log" || { cat "$run/modules-build.log"; die "our modules do not build against $kdir"; }
echo "modules: $(cd "$run/ko" && echo *)"

# The per-test timeout scaled: KASAN and lockdep under TCG are slow.
step "build and install the kselftest suite"
ksft_install "$run/ksft" "$kdir/tools/testing/selftests" > "$run/selftests-build.log" 2>&1 ||
	{ cat "$run/selftests-build.log"; die "selftests build"; }
t=$(sed -n 's/^timeout=\([0-9]*\)$/\1/p' "$run/ksft/dmahba/settings")
sed -i "s/^timeout=.*/timeout=$((${t:-45} * 4))/" "$run/ksft/dmahba/settings"
tail -1 "$run/selftests-build.log"

# kmemleak: boot-time suspects are cleared first, so that the scan after the
# suite lists only what leaked during it. DMA-API debugging prints its first
# error only by default: up to 50, and the count of all at the end.
step "the suite on $KVER in the VM"
# shellcheck disable=SC2016 # the guest's
guest='kml=/sys/kernel/debug/kmemleak dma=/sys/kernel/debug/dma-api
[ -w $kml ] && echo scan > $kml && echo clear > $kml
[ -w $dma/num_errors ] && echo 50 > $dma/num_errors
echo "check-debug: suite start" > /dev/kmsg
cd /kselftest && ./run_kselftest.sh
rc=$?
echo "=== dma-api errors: $(cat $dma/error_count 2>/dev/null || echo unavailable) ==="
if [ -w $kml ]; then echo scan > $kml; sleep 6; echo scan > $kml; cat $kml; else echo "=== no kmemleak ==="; fi
exit $rc'
vm_run -k debug -t 14400 -m 4G -M "$run/ko" \
	-S "$run/ksft" -l "$res/kernel.log" -- "$guest" | tee "$res/console.txt"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "the VM run did not finish cleanly (exit $rc)"
ksft_verdict debug "$res/console.txt" "$res/kernel.log" "$run/ksft/kselftest-list.txt" "check-debug: suite start"
dmaerr=$(sed -n 's/^=== dma-api errors: \(.*\) ===$/\1/p' "$res/console.txt")
[ "${dmaerr:-x}" = 0 ] || fail "DMA-API debugging: ${dmaerr:-no count} error(s)"
leaks=$(grep -c '^unreferenced object' "$res/console.txt")
[ "$leaks" = 0 ] || fail "kmemleak: $leaks unreferenced object(s) ($res/console.txt)"
! grep -q '=== no kmemleak ===' "$res/console.txt" || fail "kmemleak was not available in the guest"

step summary
echo "kernel $KVER ($kcache, $(cat "$kcache/built")): $verdict; $leaks kmemleak object(s), ${dmaerr:-?} DMA-API error(s); logs in $res"
[ ${#failures[@]} = 0 ] || { printf 'check-debug: failed: %s\n' "${failures[@]}"; exit 1; }
echo "check-debug: passed"
