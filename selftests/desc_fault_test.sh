#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# desc_fault_test.sh - every descriptor of a window counts. With softdma
# loaded halt_on_error=0 (a provider that does not halt on a failed
# descriptor: it goes on with the next one and reports the failure only in
# the failed descriptor's own callback result), a fault on any descriptor
# of a window but the last must still fail the command: through SG_IO
# (never retried) a READ or WRITE whose window the fault hit ends with CHECK
# CONDITION, ABORTED COMMAND, 4B/00, never GOOD with the failed piece's data
# missing. A dmahba that only looks at the window's last descriptor answers
# GOOD: the READ's buffer then holds zeros where the failed piece is, the
# WRITE leaves the old data on the medium.
#
# Runtime: a few seconds.
. "$(dirname "$0")/lib.sh"

SDBG=/sys/kernel/debug/softdma
BLKS=128			# 64 KiB: one window (max_window_kb=64)
LBA=2048

require_cmd awk cmp sg_raw dd
! mod_loaded softdma || [ "$(cat /sys/module/softdma/parameters/halt_on_error 2>/dev/null)" = N ] ||
	ksft_skip_all "softdma is loaded without halt_on_error=0"
tmp=/tmp/desc_fault_test.$$
fresh_dmahba_test
K=""
test_cleanup() {
	if [ -n "$K" ] && [ -d "$K" ]; then
		echo 0 > "$K"/fail_nth
		echo read > "$K"/fail_mode
	fi
}
ksft_init

if ! load_mod softdma halt_on_error=0; then
	ksft_fail "softdma loads with halt_on_error=0"
	ksft_exit
fi
dmahba_up nr_channels=1 max_window_kb=64
sg=$(dmahba_sg)
[ -d $SDBG ] || ksft_skip_all "softdma's debugfs knobs are missing ($SDBG)"
ch=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $2; exit }' "$stats")
K=$SDBG/$ch
[ -d "$K" ] || { ksft_fail "find the host's channel ($ch)"; ksft_exit; }
diag "$dev ($sg) on host$h, channel $ch"

# shellcheck disable=SC2046 # the CDB's bytes are separate arguments
sg_read() { sg_raw -v -r $((BLKS * 512)) -o "$1" /dev/"$sg" $(cdb10 28 $LBA $BLKS) > "$2" 2>&1; }
# shellcheck disable=SC2046
sg_write() { sg_raw -v -s $((BLKS * 512)) -i "$1" /dev/"$sg" $(cdb10 2a $LBA $BLKS) > "$2" 2>&1; }
put() { dd if="$1" of="$dev" bs=$((BLKS * 512)) seek=$((LBA / BLKS)) count=1 oflag=direct 2>/dev/null; }
get() { dd if="$dev" of="$1" bs=$((BLKS * 512)) skip=$((LBA / BLKS)) count=1 iflag=direct 2>/dev/null; }

dd if=/dev/urandom of=$tmp/a bs=$((BLKS * 512)) count=1 2>/dev/null
dd if=/dev/urandom of=$tmp/b bs=$((BLKS * 512)) count=1 2>/dev/null
# The store allocates a page on the first write to it, and joins pages
# that happen to be contiguous into one HBA segment (one descriptor): so
# the pages of the test range are allocated interleaved with those of
# another range, 4 KiB at a time, to give its window several segments.
i=0
while [ $i -lt $((BLKS / 8)) ]; do
	dd if=/dev/zero of="$dev" bs=4096 seek=$((LBA / 8 + i)) count=1 oflag=direct 2>/dev/null
	dd if=/dev/zero of="$dev" bs=4096 seek=$((LBA / 8 + 1024 + i)) count=1 oflag=direct 2>/dev/null
	i=$((i + 1))
done
put $tmp/a || { ksft_fail "write the pattern"; ksft_exit; }

# How many descriptors one window takes (the store's pages): the faults go
# to each one but the last.
c0=$(cat "$K"/completed)
sg_read $tmp/got $tmp/log
c1=$(cat "$K"/completed)
nd=$((c1 - c0))
diag "a 64 KiB window is $nd descriptor(s)"
ksft_check "a clean SG_IO READ returns the data" cmp -s $tmp/got $tmp/a
[ $nd -ge 2 ] || ksft_skip_all "a window is one descriptor here: no descriptor before the last"

# fault OP NTH: fail the NTH descriptor of one SG_IO command; 0 if the
# command ended in ABORTED COMMAND 4B/00 and nothing else went wrong
fault() {
	_op=$1
	_nth=$2
	echo "$_nth" > "$K"/fail_nth
	if [ "$_op" = r ]; then
		rm -f $tmp/got
		sg_read $tmp/got $tmp/log
	else
		sg_write $tmp/b $tmp/log
	fi
	_rc=$?
	_left=$(cat "$K"/fail_nth)
	echo 0 > "$K"/fail_nth
	_s=$(sense $tmp/log)
	[ "$_left" = 0 ] || { diag "$_op: descriptor $_nth: the fault did not fire"; return 1; }
	if [ "$_rc" = 11 ] && [ "$_s" = "b 4b 00" ]; then
		return 0
	fi
	if [ "$_rc" = 0 ]; then
		if [ "$_op" = r ]; then
			cmp -s $tmp/got $tmp/a && _d="right" || _d="WRONG"
		else
			get $tmp/back
			cmp -s $tmp/back $tmp/b && _d="right" || _d="WRONG"
		fi
		diag "$_op: descriptor $_nth of $nd failed, command GOOD with $_d data"
	else
		diag "$_op: descriptor $_nth of $nd failed: exit $_rc, sense '$_s' (want 11, 'b 4b 00')"
	fi
	return 1
}

for mode in read write; do
	echo $mode > "$K"/fail_mode
	bad=0
	n=1
	while [ $n -lt $nd ]; do
		fault r $n || bad=$((bad + 1))
		n=$((n + 1))
	done
	ksft_check "fail_mode=$mode: READ, a failed descriptor 1..$((nd - 1)) of $nd: ABORTED COMMAND 4B/00" [ $bad = 0 ]
	bad=0
	n=1
	while [ $n -lt $nd ]; do
		put $tmp/a
		fault w $n || bad=$((bad + 1))
		n=$((n + 1))
	done
	ksft_check "fail_mode=$mode: WRITE, a failed descriptor 1..$((nd - 1)) of $nd: ABORTED COMMAND 4B/00" [ $bad = 0 ]
done
echo 0 > "$K"/fail_nth
put $tmp/a
get $tmp/back
ksft_check "after the faults the disk reads and writes correctly" cmp -s $tmp/back $tmp/a
ksft_exit
