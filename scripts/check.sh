#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - what "make check" runs: the static checks (W=1 -Werror, sparse
# C=2, checkpatch --strict, kernel-doc, no link to softdma, shellcheck), then
# for each kernel the modules built with its compiler, the kselftest suite in
# a VM, the data tests in a second VM booted with swiotlb=force, and
# dkms-check.sh. It fails on any "not ok", a missing test, or a line
# of scripts/kernel-errors.txt in a guest's kernel log.
#
# Usage: scripts/check.sh [--static-only | --no-static] [LABEL...]
#   LABEL: 6.1 (default), 6.12, 7.2 (scripts/kernels.sh)
# Environment: DMAHBA_TESTS="name..." runs only those tests (e.g. load_test.sh)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1
src=$top/.cache/linux-src
static=1 vm=1
case "${1:-}" in
--static-only) vm=0; shift ;;
--no-static) static=0; shift ;;
esac
labels=("${@:-6.1}")
summary=()

if [ "$static" = 1 ]; then
	step "W=1 -Werror and sparse C=2 build"
	# dmatest.c is the kernel's, copied in for the VM runs: not checked here
	rm -f selftests/modules/dmatest.c
	make -s clean-build > /dev/null 2>&1
	log=$(mktemp)
	for t in modules test-modules; do
		if ! make "$t" W=1 C=2 KCFLAGS=-Werror > "$log" 2>&1 || grep -E 'warning:|error:' "$log"; then
			cat "$log"
			fail "make $t with W=1 -Werror and sparse"
		else
			echo "ok: make $t: no compiler or sparse warning"
		fi
	done
	rm -f "$log"

	step "checkpatch --strict"
	n=0
	for f in kernel/*.[ch] selftests/modules/*.c; do
		extra=()
		case "$f" in
		*.mod.c) continue ;;
		# TRACE_EVENT() is written the way every trace header is
		*_trace.h) extra=(--ignore "OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT") ;;
		# the one place where kernel versions are tested
		*/compat.h) extra=(--ignore "LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_WITH_FLOW_CONTROL,NEW_TYPEDEFS") ;;
		esac
		out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
			--ignore CAMELCASE,FILE_PATH_CHANGES,SPDX_LICENSE_TAG "${extra[@]}" -f "$f" 2>&1 |
			grep -v '^total:\|^$\|NOTE:\|are false positives\|checkpatch.pl')
		[ -z "$out" ] || { echo "$out"; n=$((n + 1)); }
	done
	rm -f .checkpatch-camelcase.git.*
	if [ "$n" = 0 ]; then echo "ok: checkpatch --strict clean"; else fail "checkpatch: $n file(s)"; fi

	step "kernel-doc"
	# -v also reports functions without a Return: section
	mapfile -t files < <(find kernel -maxdepth 1 -name '*.[ch]' ! -name '*.mod.c' | sort)
	out=$(perl "$src/scripts/kernel-doc" -v -none "${files[@]}" 2>&1 | grep -v ': info: Scanning doc for')
	if [ -z "$out" ]; then echo "ok: kernel-doc clean"; else echo "$out"; fail "kernel-doc warnings"; fi

	step "dmahba links to no softdma symbol"
	deps=$(/sbin/modinfo -F depends kernel/dmahba.ko 2>/dev/null)
	case ",$deps," in
	*,softdma,*) fail "dmahba.ko depends on softdma ($deps)" ;;
	*) echo "ok: depends='$deps', softdep='$(/sbin/modinfo -F softdep kernel/dmahba.ko)'" ;;
	esac

	step "shellcheck"
	if shellcheck scripts/*.sh selftests/*.sh; then echo "ok: shellcheck clean"; else fail shellcheck; fi
fi
if [ "$vm" = 0 ]; then
	[ ${#failures[@]} = 0 ] || { echo; echo "check: static checks failed: ${failures[*]}"; exit 1; }
	echo; echo "check: static checks passed"
	exit 0
fi

step "build and install the kselftest suite"
mkdir -p out
ksft=$(mktemp -d "$top/out/ksft.XXXXXX")	# runs may go on side by side
trap 'rm -rf "$ksft"' EXIT
ksft_install "$ksft" || fail "selftests build"

# suite "LABEL[ TAG]" APPEND KSFT LOG [ENV]: the installed suite KSFT in a VM booted
# with init_on_alloc=0 APPEND, ENV before its runner; $out/{tap,kernel}LOG.*;
# init_on_alloc=0: Debian's kernels zero every heap allocation by default,
# which would hide from leak_test.sh a response built from uninitialised memory
suite() {
	KERNEL_APPEND="init_on_alloc=0$2${KERNEL_APPEND:+ $KERNEL_APPEND}" vm_run -k "${1%% *}" -t "${DMAHBA_VM_TIMEOUT:-3000}" \
		-m 3G -M "$out" -S "$3" -l "$out/kernel$4.log" -- "cd /kselftest && ${5:-} ./run_kselftest.sh" | tee "$out/tap$4.txt"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || fail "$1: the VM run did not finish (exit $rc; $out/kernel$4.log)"
	ksft_verdict "$1" "$out/tap$4.txt" "$out/kernel$4.log" "$3/kselftest-list.txt"
}

for label in "${labels[@]}"; do
	step "kernel $label: build"
	# dmatest.c from the source package of this kernel's release and x.y
	# (kernels.sh dmatest); without one, dmatest_test.sh skips
	if f=$("$top/scripts/kernels.sh" dmatest "$label"); then
		cp "$f" selftests/modules/dmatest.c
	else
		rm -f selftests/modules/dmatest.c
		echo "$label: no dmatest.c for this kernel (reason above): dmatest_test.sh will skip"
	fi
	out=$(mktemp -d "$top/out/check-$label.XXXXXX")
	if ! "$top/scripts/kernels.sh" make "$label" --out "$out" --dir kernel --dir selftests/modules W=1 \
		> /dev/null 2> "$out/build.log"; then
		cat "$out/build.log"
		fail "$label: module build"
		summary+=("$label: not run (build failed)")
		continue
	fi
	grep -E 'warning:|error:' "$out/build.log" && fail "$label: W=1 warnings"
	echo "modules: $(ls "$out")"

	step "kernel $label: kselftest suite in the VM"
	suite "$label" "" "$ksft" ""

	# the DMA API bounces every buffer: dmahba must map with the channel's
	# DMA device (data_test.sh, a few of constraints_test.sh's configurations;
	# skipped when DMAHBA_TESTS names neither)
	case " ${DMAHBA_TESTS:-data_test.sh} " in
	*" data_test.sh "* | *" constraints_test.sh "*)
		step "kernel $label: data tests with swiotlb=force"
		main_verdict=$verdict
		sw=$ksft-swiotlb
		rm -rf "$sw" && cp -a "$ksft" "$sw"
		printf 'dmahba:%s\n' data_test.sh constraints_test.sh > "$sw/kselftest-list.txt"
		suite "$label swiotlb=force" " swiotlb=force" "$sw" -swiotlb \
			'CONSTRAINTS_CONFIGS="profile=hidma profile=fsl-edma ring_size=4"'
		rm -rf "$sw"
		summary+=("$label+swiotlb=force: $verdict")
		verdict=$main_verdict
		;;
	esac

	step "kernel $label: dkms add, build, install, modprobe"
	dkms="dkms ok"
	"$top/scripts/dkms-check.sh" "$label" > "$out/dkms.log" 2>&1 ||
		{ cat "$out/dkms.log"; fail "$label: dkms ($out/dkms.log)"; dkms="dkms FAILED"; }
	echo "$dkms"
	summary+=("$label: $verdict; $dkms")
done

step summary
printf '%s\n' "${summary[@]}"
[ ${#failures[@]} = 0 ] || printf 'check: failed: %s\n' "${failures[@]}"
# the closing line: totals over every kernel
printf '%s\n' "${summary[@]}" | awk -v n=${#failures[@]} '
	{ p += $2; f += $4; s += $6 } END { printf "%d passed, %d failed, %d skipped\n", p, (f > n ? f : n), s }'
[ ${#failures[@]} = 0 ]
