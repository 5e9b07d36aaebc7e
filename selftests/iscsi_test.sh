#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# iscsi_test.sh - the world's conformance suite: libiscsi's iscsi-test-cu
# (Debian package libiscsi-bin) runs its SCSI tests over SG_IO against the
# /dev/sg node of a 256 MiB dmahba LU (thin provisioned, as dmahba always
# is): "iscsi-test-cu --normal --dataloss /dev/sgN" (a /dev/sg path instead
# of an iscsi:// URL makes it use SG_IO; every family, ALL, SCSI, iSCSI and
# LINUX, is run; the iSCSI tests need an iSCSI session and do not run on
# an sg device). Fails on any failed test and names them; prints CUnit's
# counts. DMAHBA_ISCSI_TESTS="FAMILY[.SUITE[.TEST]]" runs only those.
. "$(dirname "$0")/lib.sh"

require_root
command -v iscsi-test-cu >/dev/null 2>&1 ||
	ksft_skip_all "iscsi-test-cu not found (Debian package libiscsi-bin)"
[ -f "$ko_dir/softdma.ko" ] || ksft_skip_all "softdma.ko not found in $ko_dir"
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
mod_loaded sg || modprobe sg 2>/dev/null
mod_loaded sg || ksft_skip_all "the sg driver is not available"
trap unload_mods EXIT
ksft_init

out=/tmp/iscsi_test.$$
if load_dmahba dev_size_mb=256 && wait_for dmahba_sg; then
	sg=/dev/$(dmahba_sg)
	diag "iscsi-test-cu --normal --dataloss ${DMAHBA_ISCSI_TESTS:+--test=$DMAHBA_ISCSI_TESTS }$sg"
	t0=$(now)
	# shellcheck disable=SC2086
	iscsi-test-cu --normal --dataloss \
		${DMAHBA_ISCSI_TESTS:+--test="$DMAHBA_ISCSI_TESTS"} "$sg" \
		> "$out" 2> "$out.err"
	rc=$?
	diag "iscsi-test-cu exits $rc after $(elapsed "$t0" "$(now)") s"
	# CUnit's summary: "tests  TOTAL RAN PASSED FAILED INACTIVE"
	# shellcheck disable=SC2046
	set -- $(awk '$1 == "tests" && NF >= 6 { print $2, $3, $4, $5, $6 }' "$out")
	if [ $# -lt 5 ]; then
		tail -40 "$out" "$out.err" | sed 's/^/# /'
		ksft_fail "iscsi-test-cu ran and printed its summary"
	else
		diag "iscsi-test-cu: total $1 ran $2 passed $3 failed $4 inactive $5"
		# "Suite SUITE, Test TEST had failures:", once per family
		grep 'had failures' "$out" | sort | uniq -c | sed 's/^/# /'
		grep -E '^ *[0-9]+\. ' "$out" | sed 's/    \[.*//' | sort -u | head -40 | sed 's/^/# /'
		ksft_check "iscsi-test-cu ran tests" [ "$2" -gt 0 ]
		ksft_check "iscsi-test-cu: no test failed ($4 of $2 failed)" [ "$4" = 0 ]
	fi
	rm -f "$out" "$out.err"
else
	ksft_fail "softdma and dmahba (dev_size_mb=256) load, sg node appears"
fi
unload_mods
ksft_check "both modules unload" sh -c '! [ -d /sys/module/dmahba ] && ! [ -d /sys/module/softdma ]'
ksft_exit
