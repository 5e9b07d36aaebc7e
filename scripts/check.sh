#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - what "make check" runs: the static checks (checkpatch --strict,
# kernel-doc, sparse C=2, W=1 with -Werror, no link to softdma), then the
# whole kselftest suite in a VM on each kernel given. It fails on any
# "not ok", and on any BUG/WARNING/Oops/lockdep/KASAN/"sleeping function"
# line in a guest's kernel log even if every test passed.
#
# Usage: scripts/check.sh [--static-only | --no-static] [LABEL...]
#   LABEL: 6.1, 6.12, 7.2 (scripts/kernels.sh); default: 6.1
# Environment: DMAHBA_TESTS="name..." runs only those tests (e.g. load_test.sh)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
src=$top/.cache/linux-src
static=1
vm=1
case "${1:-}" in
--static-only) vm=0; shift ;;
--no-static) static=0; shift ;;
esac
labels=("$@")
[ ${#labels[@]} -gt 0 ] || labels=(6.1)

failures=()
summary=()
# "TITLE|FILE" of failures whose log is shown again after the summary, so
# that the end of the output says why
details=()
fail() { failures+=("$*"); echo "check: FAIL: $*"; }
step() { echo; echo "=== $* ==="; }


# ---------------------------------------------------------------- static
if [ "$static" = 1 ]; then
	step "W=1 -Werror and sparse C=2 build"
	make -s -C "$top" clean >/dev/null 2>&1
	log=$(mktemp)
	if ! make -C "$top" modules W=1 C=2 KCFLAGS=-Werror >"$log" 2>&1; then
		cat "$log"
		fail "build with W=1 -Werror"
	elif grep -E 'warning:|error:' "$log"; then
		fail "W=1 or sparse warnings"
	else
		echo "ok: no compiler or sparse warnings"
	fi
	if [ -d selftests/modules ] && ls selftests/modules/*.c >/dev/null 2>&1; then
		if ! make -C "$top" test-modules W=1 C=2 KCFLAGS=-Werror >"$log" 2>&1 ||
		   grep -E 'warning:|error:' "$log"; then
			cat "$log"
			fail "test modules: W=1 or sparse warnings"
		fi
	fi
	rm -f "$log"

	step "checkpatch --strict"
	cp_opts=(--strict --no-tree --terse --show-types --ignore CAMELCASE,FILE_PATH_CHANGES,SPDX_LICENSE_TAG)
	n=0
	for f in kernel/*.c kernel/*.h selftests/modules/*.c; do
		[ -f "$f" ] || continue
		case "$f" in *.mod.c) continue ;; esac
		extra=()
		case "$f" in
		# TRACE_EVENT() macros are written in the layout every trace
		# header in the kernel uses
		*_trace.h) extra=(--ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT) ;;
		# the one place where kernel versions are tested
		*/compat.h) extra=(--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_WITH_FLOW_CONTROL,NEW_TYPEDEFS) ;;
		esac
		out=$(perl "$src/scripts/checkpatch.pl" "${cp_opts[@]}" "${extra[@]}" -f "$f" 2>&1 |
		      grep -v '^total:\|^$\|NOTE:\|are false positives\|checkpatch.pl')
		if [ -n "$out" ]; then
			echo "$out"
			n=$((n + 1))
		fi
	done
	rm -f .checkpatch-camelcase.git.*
	if [ "$n" -gt 0 ]; then fail "checkpatch: $n file(s)"; else echo "ok: checkpatch --strict clean"; fi

	step "kernel-doc"
	# -v also reports functions without a Return: section
	out=$(perl "$src/scripts/kernel-doc" -v -none $(ls kernel/*.c kernel/*.h | grep -v '\.mod\.c$') 2>&1 |
	      grep -v ': info: Scanning doc for')
	if [ -n "$out" ]; then
		echo "$out"
		fail "kernel-doc warnings"
	else
		echo "ok: kernel-doc clean"
	fi

	step "dmahba links to no softdma symbol"
	deps=$(/sbin/modinfo -F depends kernel/dmahba.ko 2>/dev/null)
	if echo ",$deps," | grep -q ',softdma,'; then
		fail "dmahba.ko depends on softdma ($deps)"
	else
		echo "ok: depends='$deps', softdep='$(/sbin/modinfo -F softdep kernel/dmahba.ko)'"
	fi
fi
[ "$vm" = 1 ] || {
	echo
	if [ ${#failures[@]} -gt 0 ]; then echo "check: static checks failed: ${failures[*]}"; exit 1; fi
	echo "check: static checks passed"
	exit 0
}

# ---------------------------------------------------------------- selftests
step "build and install the kselftest suite"
mkdir -p "$top/out"
ksft=$(mktemp -d "$top/out/ksft.XXXXXX")	# runs may go on side by side
trap 'rm -rf "$ksft"' EXIT
mkdir -p "$ksft/dmahba" "$ksft/kselftest" "$ksft/build"
if ! make -s -C selftests OUTPUT="$ksft/build" install INSTALL_PATH="$ksft/dmahba"; then
	fail "selftests build"
fi
cp "$src/tools/testing/selftests/run_kselftest.sh" "$ksft/"
cp "$src"/tools/testing/selftests/kselftest/*.sh "$src"/tools/testing/selftests/kselftest/*.pl "$ksft/kselftest/"
make -s -C selftests --no-print-directory emit_tests COLLECTION=dmahba 2>/dev/null |
	grep '^dmahba:' > "$ksft/kselftest-list.txt"
if [ -n "${DMAHBA_TESTS:-}" ]; then
	for t in $DMAHBA_TESTS; do echo "dmahba:$t"; done > "$ksft/kselftest-list.txt"
fi
echo "tests: $(tr '\n' ' ' < "$ksft/kselftest-list.txt")"

for label in "${labels[@]}"; do
	step "kernel $label: build"
	if ! "$top/scripts/kernels.sh" prepare "$label"; then
		fail "$label: kernel not available"
		summary+=("$label: not run (kernel not available)")
		continue
	fi
	kolog=$(mktemp)
	dirs=(--dir kernel)
	ls selftests/modules/*.c >/dev/null 2>&1 && dirs+=(--dir selftests/modules)
	out=$(mktemp -d "$top/out/check-$label.XXXXXX")
	# builds for one kernel share a directory: take turns, keep a copy
	cache=${DMAHBA_CACHE:-/var/cache/dmahba}
	mkdir -p "$cache"
	if ! flock "$cache/.build-$label.lock" sh -c \
		'k=$0 l=$1 o=$2; shift 2; d=$("$k" make "$l" "$@") && cp "$d"/*.ko "$o"/' \
		"$top/scripts/kernels.sh" "$label" "$out" "${dirs[@]}" W=1 2>"$kolog"; then
		cat "$kolog"
		fail "$label: module build"
		summary+=("$label: not run (build failed)")
		rm -f "$kolog"
		continue
	fi
	kodir=$out
	if grep -E 'warning:|error:' "$kolog"; then
		fail "$label: W=1 warnings"
	fi
	rm -f "$kolog"
	[ -f "$kodir/dmahba.ko" ] && [ -f "$kodir/softdma.ko" ] || fail "$label: modules missing after the build"
	echo "modules: $(ls "$kodir")"

	step "kernel $label: kselftest suite in the VM"
	# init_on_alloc=0: Debian's kernels zero every heap allocation by
	# default, which would hide from leak_test.sh a response built from
	# uninitialised memory (it would read as zeros, the same each time)
	KERNEL_APPEND="init_on_alloc=0${KERNEL_APPEND:+ $KERNEL_APPEND}" \
	"$top/scripts/vm.sh" -k "$label" -t "${DMAHBA_VM_TIMEOUT:-3000}" -m 3G -f \
		-M "$kodir" -S "$ksft" -l "$out/kernel.log" -- \
		'cd /kselftest && ./run_kselftest.sh' | tee "$out/tap.txt"
	rc=${PIPESTATUS[0]}
	passed=$(grep -cE '^ok [0-9]+ selftests: .*' "$out/tap.txt" | head -1)
	skipped=$(grep -cE '^ok [0-9]+ selftests: .*# SKIP' "$out/tap.txt" | head -1)
	failed=$(grep -cE '^not ok [0-9]+ selftests: ' "$out/tap.txt" | head -1)
	passed=$((passed - skipped))
	subok=$(grep -cE '^# ok [0-9]+ ' "$out/tap.txt")
	subnok=$(grep -cE '^# not ok [0-9]+ ' "$out/tap.txt")
	if [ "$rc" != 0 ]; then
		details+=("$label: the VM run (exit $rc)|$out/kernel.log")
		fail "$label: the VM run did not finish (exit $rc)"
	fi
	if [ "$failed" -gt 0 ]; then
		grep -E '^(# )?not ok ' "$out/tap.txt" > "$out/not-ok.txt"
		details+=("$label: tests not ok|$out/not-ok.txt")
		fail "$label: $failed test(s) not ok"
	fi
	expected=$(wc -l < "$ksft/kselftest-list.txt")
	if [ $((passed + skipped + failed)) -lt "$expected" ]; then
		fail "$label: only $((passed + skipped + failed)) of $expected tests reported"
	fi
	bad=$(grep -E 'BUG:|WARNING:|Oops|lockdep|KASAN|UBSAN|sleeping function called from invalid context|possible recursive locking|possible circular locking|kmemleak' "$out/kernel.log")
	if [ -n "$bad" ]; then
		echo "$bad" | head -40
		echo "$bad" | head -40 > "$out/warnings.txt"
		details+=("$label: kernel log warnings|$out/warnings.txt")
		fail "$label: kernel log has warnings ($out/kernel.log)"
	fi
	step "kernel $label: dkms add, build, install, modprobe"
	if "$top/scripts/dkms-check.sh" "$label" > "$out/dkms.log" 2>&1; then
		if grep -q "ok (at the second boot)" "$out/dkms.log"; then
			grep -A 15 "booting it once more" "$out/dkms.log"
			echo "ok: dkms on $label, at the second boot (the first guest did not finish: see above)"
			dkms="dkms ok at the second boot"
		else
			echo "ok: dkms on $label"
			dkms="dkms ok"
		fi
	else
		cat "$out/dkms.log"
		details+=("$label: dkms|$out/dkms.log")
		fail "$label: dkms"
		dkms="dkms FAILED"
	fi
	summary+=("$label: $passed passed, $failed failed, $skipped skipped ($subok subtests ok, $subnok not ok; $dkms)")
done

echo
echo "=== summary ==="
for s in "${summary[@]}"; do echo "$s"; done
for d in "${details[@]}"; do
	echo "--- why it failed: ${d%%|*} (from ${d#*|})"
	# the steps and verdicts, then the end (a guest's kernel log)
	grep -E '^(step:|dkms-check:|vm:|kernels.sh:)' "${d#*|}" | tail -n 8
	tail -n 20 "${d#*|}"
done
if [ ${#failures[@]} -gt 0 ]; then
	printf 'check: failed: %s\n' "${failures[@]}"
fi
# the closing line: totals over every kernel
tp=0; tf=0; ts=0
for s in "${summary[@]}"; do
	set -- $(echo "$s" | sed -n 's/^[^:]*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p')
	[ $# = 3 ] && { tp=$((tp + $1)); tf=$((tf + $2)); ts=$((ts + $3)); }
done
[ ${#failures[@]} -gt "$tf" ] && tf=${#failures[@]}
echo "$tp passed, $tf failed, $ts skipped"
[ ${#failures[@]} -eq 0 ]
