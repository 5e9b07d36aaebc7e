#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scsi_cmds_test.sh - every SCSI command's data and sense bytes: loads
# softdma and dmahba (one 1 GiB LU of 512-byte blocks), runs scsi_cmds_test
# (scsi_cmds_test.c, kselftest harness) on its /dev/sg node and unloads;
# then again with 4096-byte blocks for the tests whose limits depend on the
# block size (DMAHBA_SCSI_ONLY). Each harness test is one of our subtests;
# the kernel log must stay clean.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
prog=$here/scsi_cmds_test
# the tests whose limits are counted in blocks: they run on both sizes
ONLY_4K="inquiry_vpd block_limits_unmap zero_blocks_at_capacity lba_out_of_range verify_bytchk3_limit get_lba_status_report_type unmap_reads_zeros"

require_root
[ -x "$prog" ] || ksft_skip_all "scsi_cmds_test not built (make -C selftests)"
[ -f "$ko_dir/softdma.ko" ] || ksft_skip_all "softdma.ko not found in $ko_dir"
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
mod_loaded sg || modprobe sg 2>/dev/null
mod_loaded sg || ksft_skip_all "the sg driver is not available"
trap unload_mods EXIT
ksft_init

# run_cmds NAME [ENV...]: the harness's TAP lines become our subtests
run_cmds() {
	_name=$1
	shift
	_out=/tmp/scsi_cmds_test.$$
	env "$@" "$prog" > "$_out" 2>&1
	_rc=$?
	_cur=""
	while IFS= read -r _l; do
		case "$_l" in
		"#  RUN "*)
			# the harness's SKIP lines carry no name: remember it
			_cur=$(echo "$_l" | sed 's/^#  RUN *//; s/ \.\.\.$//')
			echo "$_l" ;;
		"ok "*"# SKIP"*)
			case "$_l" in
			*"not in DMAHBA_SCSI_ONLY"*) ;;
			*) ksft_skip "$_name: $_cur" "${_l#*# SKIP }" ;;
			esac ;;
		"ok "*) _t=${_l#ok }; ksft_pass "$_name: ${_t#* }" ;;
		"not ok "*) _t=${_l#not ok }; ksft_fail "$_name: ${_t#* }" ;;
		"# totals"*|"# PASSED"*|"# FAILED"*|"TAP version"*|"1.."*) ;;
		"#"*) echo "$_l" ;;
		*) echo "# $_l" ;;
		esac
	done < "$_out"
	rm -f "$_out"
	case $_rc in
	0|4) ;;
	*) diag "$_name: scsi_cmds_test exits $_rc" ;;
	esac
}

t0=$(now)
if load_dmahba && wait_for dmahba_sg; then
	run_cmds "512-byte blocks"
else
	ksft_fail "softdma and dmahba load, sg node appears"
fi
unload_mods
t1=$(now)
diag "512-byte run: $(elapsed "$t0" "$t1") s"

if load_dmahba sector_size=4096 && wait_for dmahba_sg; then
	run_cmds "4096-byte blocks" DMAHBA_SCSI_ONLY="$ONLY_4K"
else
	ksft_fail "softdma and dmahba (sector_size=4096) load, sg node appears"
fi
unload_mods
diag "4096-byte run: $(elapsed "$t1" "$(now)") s"
ksft_check "both modules unload" sh -c '! [ -d /sys/module/dmahba ] && ! [ -d /sys/module/softdma ]'
ksft_exit
