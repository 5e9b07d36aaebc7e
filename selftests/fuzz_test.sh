#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fuzz_test.sh - hostile CDBs: loads softdma and dmahba with two small LUs and
# runs cdb_fuzz (cdb_fuzz.c) on LUN 0 with LUN 1 as the witness: 20,000
# random commands from 4 threads at once, each answered GOOD or CHECK
# CONDITION with well-formed sense, no data-in byte past the residue
# touched, no data-out buffer written, LUN 1's data intact and LUN 0 serving
# correct data afterwards, and no warning in the kernel log. Then 10,000
# from one thread (exactly replayable) with 4096-byte blocks.
#
# The seeds are printed; DMAHBA_FUZZ_SEED (with DMAHBA_FUZZ_THREADS)
# replays a run, DMAHBA_FUZZ_COUNT changes the number of commands of both.
# Duration: about 15-40 s under QEMU TCG on two cores (1,000-1,400
# commands/s with 4 threads, 400-700/s with one).
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
fuzz=$here/cdb_fuzz

require_root
[ -x "$fuzz" ] || ksft_skip_all "cdb_fuzz not built (make -C selftests)"
[ -f "$ko_dir/softdma.ko" ] || ksft_skip_all "softdma.ko not found in $ko_dir"
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
mod_loaded sg || modprobe sg 2>/dev/null
mod_loaded sg || ksft_skip_all "the sg driver is not available"
trap unload_mods EXIT
ksft_init

# run_fuzz NAME [ENV...]: cdb_fuzz's TAP lines become our subtests
run_fuzz() {
	_name=$1
	shift
	_out=/tmp/fuzz_test.$$
	env KSFT_TAP_LEVEL=1 "$@" "$fuzz" > "$_out" 2>&1
	_rc=$?
	while IFS= read -r _l; do
		case "$_l" in
		"ok "*"# SKIP"*)
			_t=${_l#*# SKIP }
			_r=${_t#* (}
			ksft_skip "$_name: ${_t%% (*}" "${_r%)}" ;;
		"ok "*) _t=${_l#ok }; ksft_pass "$_name: ${_t#* }" ;;
		"not ok "*) _t=${_l#not ok }; ksft_fail "$_name: ${_t#* }" ;;
		"#"*) echo "$_l" ;;
		"1.."*) ;;
		*) echo "# $_l" ;;
		esac
	done < "$_out"
	rm -f "$_out"
	case $_rc in
	0) ;;
	4) ksft_skip "$_name" "cdb_fuzz skipped" ;;
	*) ksft_fail "$_name: cdb_fuzz exits 0 (exit $_rc)" ;;
	esac
}

t0=$(date +%s)
if load_dmahba num_luns=2 dev_size_mb=64 && wait_for dmahba_sg 1; then
	run_fuzz "512-byte blocks" DMAHBA_FUZZ_COUNT="${DMAHBA_FUZZ_COUNT:-20000}"
else
	ksft_fail "softdma and dmahba (num_luns=2 dev_size_mb=64) load"
fi
unload_mods
t1=$(date +%s)
diag "512-byte run: $((t1 - t0)) s"

if load_dmahba num_luns=2 dev_size_mb=64 sector_size=4096 && wait_for dmahba_sg 1; then
	run_fuzz "4096-byte blocks" DMAHBA_FUZZ_COUNT="${DMAHBA_FUZZ_COUNT:-10000}" DMAHBA_FUZZ_THREADS=1
else
	ksft_fail "softdma and dmahba (sector_size=4096) load"
fi
unload_mods
diag "4096-byte run: $(($(date +%s) - t1)) s"
ksft_check "both modules unload" sh -c '! [ -d /sys/module/dmahba ] && ! [ -d /sys/module/softdma ]'
ksft_exit
