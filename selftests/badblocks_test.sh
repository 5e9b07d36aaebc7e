#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# badblocks_test.sh - medium errors by LBA (debugfs hostN/lunL/badblocks,
# null_blk's syntax, issue 17):
#  a) the list: "+S-E"/"+S" mark, "-S-E"/"-S" clear; it reads back merged
#     and sorted, one "S-E" per line.
#  b) a 1 MiB O_DIRECT read across one bad LBA fails with EIO; a direct read
#     ending just before it returns the data written; the kernel log shows
#     Medium Error / Unrecovered read error at that sector.
#  c) over SG_IO the same READ(10) ends CHECK CONDITION, MEDIUM ERROR 11/00,
#     VALID with INFORMATION = the bad LBA, and a residue that covers
#     exactly the blocks from the bad one on; the bytes before it arrive.
#  d) rewriting the bad LBA clears it (a disk reallocates): the list is
#     empty and the 1 MiB read returns the new data.
#  e) badblocks_write=fail: a WRITE over a bad LBA fails MEDIUM ERROR 0C/02
#     and the block stays bad; back to clear, the write clears it.
#  f) each class of malformed line is refused with EINVAL, names the problem
#     in the kernel log and leaves the list as it was.
#  g) WRITE SAME is a write: over a bad LBA it clears it and the range reads
#     the block back; with badblocks_write=fail it ends MEDIUM ERROR 0C/02 at
#     the first bad LBA and the entry stays. UNMAP, and WRITE SAME with the
#     UNMAP bit, deallocate: the range's bad blocks go whatever
#     badblocks_write says, and it reads zeros.
#
# Runtime: about 20 s under QEMU TCG.
. "$(dirname "$0")/lib.sh"

DBG=/sys/kernel/debug/dmahba
SIZE_MB=256
here=$(cd "$(dirname "$0")" && pwd)
tool=$here/sgio_tool

require_cmd awk cmp dd
[ -x "$tool" ] || ksft_skip_all "sgio_tool not built (make -C selftests)"

cap=$((SIZE_MB * 2048))		# blocks of 512 bytes
tmp=/tmp/badblocks_test.$$
test_cleanup() {
	[ -n "${bb:-}" ] && [ -w "$bb" ] && echo "-0-$((cap - 1))" > "$bb" 2>/dev/null
}
fresh_dmahba_test
ksft_init

dmahba_up dev_size_mb=$SIZE_MB
sg=$(dmahba_sg)
lu=$DBG/host$h/lun0
bb=$lu/badblocks
bbw=$lu/badblocks_write
wait_idle "$sd"
diag "$dev ($sg) on host$h, $cap blocks; $lu"
if [ ! -f "$bb" ]; then
	ksft_fail "debugfs $bb exists"
	ksft_exit
fi

# the list as one line ("S-E S-E ..."); a lone "S" counts as "S-S"
bb_list() { awk '{ for (i = 1; i <= NF; i++) printf "%s%s", (n++ ? " " : ""), ($i ~ /-/ ? $i : $i "-" $i) }' "$bb"; }
# bb_set LINE: write one line to badblocks in one write(); 0 if it
# succeeded, the error (strerror) in $tmp/err (the shell's printf says none)
bb_set() { printf '%s\n' "$1" | dd of="$bb" bs=4096 conv=notrunc 2> $tmp/err >&2; }
# kmsg MARK: a line in the kernel log
kmsg() { echo "$1" > /dev/kmsg; }

# ===================================================== a) the list
ok=1
bb_set "+1000-1099" && bb_set "+1100-1199" && bb_set "+5000" && bb_set "+3000-3009" || ok=0
got=$(bb_list)
diag "after +1000-1099 +1100-1199 +5000 +3000-3009: '$got'"
ksft_check "badblocks: adjacent ranges merge, the list is sorted" \
	[ $ok = 1 -a "$got" = "1000-1199 3000-3009 5000-5000" ]
ok=1
bb_set "-1050-1149" && bb_set "-5000" && bb_set "-3000-3009" || ok=0
got=$(bb_list)
diag "after -1050-1149 -5000 -3000-3009: '$got'"
ksft_check "badblocks: clearing splits a range and removes single blocks" \
	[ $ok = 1 -a "$got" = "1000-1049 1150-1199" ]
bb_set "-0-$((cap - 1))"
ksft_check "badblocks: -0-(last LBA) clears everything" [ -z "$(bb_list)" ]

# ===================================================== b) a medium error mid-request
MB=16				# the 1 MiB at 16 MiB
LBA0=$((MB * 2048))
GOOD=1000			# blocks before the bad one
BAD=$((LBA0 + GOOD))
dd if=/dev/urandom of=$tmp/pat bs=1M count=1 2>/dev/null
dd if=$tmp/pat of="$dev" bs=1M seek=$MB count=1 oflag=direct conv=notrunc 2>/dev/null
head -c $((GOOD * 512)) $tmp/pat > $tmp/pat_good
bb_set "+$BAD"
ksft_check "badblocks: +$BAD lists $BAD-$BAD" [ "$(bb_list)" = "$BAD-$BAD" ]
# medium: the LU's stats counter of medium errors answered
medium() { awk '$1 == "inject" { for (i = 2; i < NF; i++) if ($i == "medium") print $(i + 1) }' "$lu"/stats; }
m0=$(medium)
mark="badblocks_test-$$-read"
kmsg "$mark"
dd if="$dev" of=$tmp/got bs=1M skip=$MB count=1 iflag=direct 2> $tmp/dd.err
rc=$?
diag "1 MiB direct read over LBA $BAD: exit $rc, $(tail -n 1 $tmp/dd.err)"
# a medium error is BLK_STS_MEDIUM, which the block layer returns as
# ENODATA ("No data available"), other failures as EIO
ksft_check "a 1 MiB direct read across the bad LBA fails (ENODATA: medium error, or EIO)" \
	sh -c "[ $rc != 0 ] && grep -Eqi 'no data available|input/output error' $tmp/dd.err"
dd if="$dev" of=$tmp/got_good bs=512 skip=$LBA0 count=$GOOD iflag=direct 2>/dev/null
rc=$?
ksft_check "a direct read ending just before the bad LBA returns the data written" \
	sh -c "[ $rc = 0 ] && cmp -s $tmp/got_good $tmp/pat_good"
since "$mark" > $tmp/klog
grep -E "$sd|sd " $tmp/klog | sed 's/^/# kernel: /' | head -8
ksft_check "kernel log: Sense Key : Medium Error" grep -q 'Sense Key : Medium Error' $tmp/klog
ksft_check "kernel log: Unrecovered read error" grep -q 'Unrecovered read error' $tmp/klog
ksft_check "kernel log: the medium error is at sector $BAD" \
	grep -Eq "medium error, dev $sd, sector $BAD( |$)" $tmp/klog
ksft_check "the failed read left the bad LBA in the list" [ "$(bb_list)" = "$BAD-$BAD" ]

# ===================================================== c) the same over SG_IO
# shellcheck disable=SC2046 # the CDB's bytes
"$tool" -r $((2048 * 512)) -o $tmp/sg_got "$sg" $(cdb10 28 $LBA0 2048) > $tmp/sg.out 2>&1
rc=$?
diag "SG_IO READ(10) $LBA0+2048: $(cat $tmp/sg.out)"
sf=$(field sense $tmp/sg.out)
ksft_check "SG_IO: CHECK CONDITION, sense 70h or 72h, MEDIUM ERROR 11/00" \
	[ $rc = 0 -a "$(field status $tmp/sg.out)" = 02 -a \( "$sf" = 70 -o "$sf" = 72 \) -a \
	  "$(field key $tmp/sg.out)" = 3 -a "$(field asc $tmp/sg.out)" = 11 -a "$(field ascq $tmp/sg.out)" = 00 ]
ksft_check "SG_IO: VALID, INFORMATION = the bad LBA $BAD" \
	[ "$(field info_valid $tmp/sg.out)" = 1 -a "$(field info $tmp/sg.out)" = "$BAD" ]
ksft_check "SG_IO: the residue is the blocks from the bad LBA on ($(((2048 - GOOD) * 512)) bytes)" \
	[ "$(field resid $tmp/sg.out)" = $(((2048 - GOOD) * 512)) ]
ksft_check "SG_IO: the $GOOD blocks before the bad LBA arrived intact" cmp -s $tmp/sg_got $tmp/pat_good
# the first block bad: nothing transferred
bb_set "+$LBA0"
# shellcheck disable=SC2046 # the CDB's bytes
"$tool" -r 4096 -o $tmp/sg_got0 "$sg" $(cdb10 28 $LBA0 8) > $tmp/sg0.out 2>&1
diag "SG_IO READ(10) $LBA0+8, $LBA0 bad: $(cat $tmp/sg0.out)"
ksft_check "SG_IO: a bad first LBA: MEDIUM ERROR, INFORMATION $LBA0, residue all 4096 bytes" \
	[ "$(field key $tmp/sg0.out)" = 3 -a "$(field info $tmp/sg0.out)" = $LBA0 -a \
	  "$(field resid $tmp/sg0.out)" = 4096 ]
bb_set "-$LBA0"
m1=$(medium)
ksft_check "stats: 3 medium errors answered (one dd request, two SG_IO reads): $m0 -> $m1" \
	[ -n "$m1" -a $((m1 - m0)) = 3 ]

# ===================================================== d) a rewrite reallocates
dd if=/dev/urandom of=$tmp/new bs=512 count=1 2>/dev/null
dd if=$tmp/new of="$dev" bs=512 seek=$BAD count=1 oflag=direct conv=notrunc 2>/dev/null
rc=$?
ksft_check "rewriting the bad LBA succeeds and clears it from the list" [ $rc = 0 -a -z "$(bb_list)" ]
{ head -c $((GOOD * 512)) $tmp/pat; cat $tmp/new; tail -c $(((2048 - GOOD - 1) * 512)) $tmp/pat; } > $tmp/want
dd if="$dev" of=$tmp/got2 bs=1M skip=$MB count=1 iflag=direct 2>/dev/null
rc=$?
ksft_check "after the rewrite the 1 MiB read succeeds with the new data" \
	sh -c "[ $rc = 0 ] && cmp -s $tmp/got2 $tmp/want"

# ===================================================== e) badblocks_write=fail
if [ ! -f "$bbw" ]; then
	ksft_fail "debugfs $bbw exists"
else
	diag "badblocks_write reads '$(cat "$bbw")'"
	W=$((LBA0 + 100))
	bb_set "+$W-$((W + 3))"
	echo fail > "$bbw"
	dd if=/dev/urandom of=$tmp/w bs=4096 count=1 2>/dev/null
	# shellcheck disable=SC2046 # the CDB's bytes
	"$tool" -w $tmp/w "$sg" $(cdb10 2a $((W - 2)) 8) > $tmp/sgw.out 2>&1
	diag "SG_IO WRITE(10) $((W - 2))+8 with badblocks_write=fail: $(cat $tmp/sgw.out)"
	ksft_check "badblocks_write=fail: a WRITE over a bad LBA ends MEDIUM ERROR 0C/02" \
		[ "$(field status $tmp/sgw.out)" = 02 -a "$(field key $tmp/sgw.out)" = 3 -a \
		  "$(field asc $tmp/sgw.out)" = 0c -a "$(field ascq $tmp/sgw.out)" = 02 ]
	ksft_check "badblocks_write=fail: the bad range stays in the list" [ "$(bb_list)" = "$W-$((W + 3))" ]
	dd if=$tmp/w of="$dev" bs=4096 seek=$(((W - 2) / 8)) count=1 oflag=direct conv=notrunc 2>/dev/null
	ksft_check "badblocks_write=fail: a direct write over it fails with EIO" [ $? != 0 ]
	echo clear > "$bbw"
	ksft_check "badblocks_write=clear: the same write succeeds and clears the range" \
		sh -c "dd if=$tmp/w of=$dev bs=4096 seek=$(((W - 2) / 8)) count=1 oflag=direct conv=notrunc 2>/dev/null && [ -z \"\$(cat $bb)\" ]"
	rc=0
	echo bogus > "$bbw" 2>/dev/null || rc=1
	ksft_check "badblocks_write refuses a value other than clear or fail (still clear)" \
		[ $rc = 1 -a "$(cat "$bbw")" = clear ]
fi

# ===================================================== f) malformed input
bb_set "+2000-2009"
bb_set "+7000"
before=$(cat "$bb")
mark="badblocks_test-$$-bad"
kmsg "$mark"
nbad=0
nrefused=0
for line in "2000" "*2000" "+" "-" "+abc" "+12x" "+20-10" "+5-" "+-5" "+1--2" "+1-2-3" \
	"+$cap" "+$((cap - 1))-$cap" "+99999999999999999999999"; do
	nbad=$((nbad + 1))
	if bb_set "$line"; then
		diag "'$line' was accepted"
	elif grep -qi 'invalid argument' $tmp/err; then
		nrefused=$((nrefused + 1))
	else
		diag "'$line' failed, but not with EINVAL: $(cat $tmp/err)"
	fi
done
# two lines in one write, the second malformed: the first is not applied
printf '+8000\n+oops\n' | dd of="$bb" bs=4096 conv=notrunc 2> $tmp/err
rc=$?
nbad=$((nbad + 1))
[ $rc != 0 ] && grep -qi 'invalid argument' $tmp/err && nrefused=$((nrefused + 1))
ksft_check "badblocks: each of $nbad malformed writes fails with EINVAL ($nrefused did)" [ $nrefused = $nbad ]
after=$(cat "$bb")
ksft_check "badblocks: the refused writes changed nothing" [ "$before" = "$after" ]
nlog=$(since "$mark" | grep -c 'dmahba: .*badblocks: ')
diag "kernel log: $nlog line(s) naming the problem for $nbad refused writes"
ksft_check "badblocks: each refused write is named in the kernel log" [ "$nlog" -ge "$nbad" ]
bb_set "-0-$((cap - 1))"

# ===================================================== g) WRITE SAME, UNMAP
# rd_cmp LBA N FILE: N blocks from LBA read back (direct) as FILE holds
rd_cmp() { dd if="$dev" bs=512 skip="$1" count="$2" iflag=direct 2>/dev/null | cmp -s - "$3"; }
S=$((40 * 2048))
dd if=/dev/urandom of=$tmp/blk bs=512 count=1 2>/dev/null
for _i in 1 2 3 4 5 6 7 8; do cat $tmp/blk; done > $tmp/blk8
dd if=/dev/zero of=$tmp/zero8 bs=512 count=8 2>/dev/null
echo clear > "$bbw"
# shellcheck disable=SC2046 # the CDB's bytes
bb_set "+$((S + 2))-$((S + 5))" && "$tool" -w $tmp/blk "$sg" $(cdb10 41 $S 8) > $tmp/ws.out 2>&1
diag "SG_IO WRITE SAME(10) $S+8 over bad $((S + 2))-$((S + 5)): $(cat $tmp/ws.out)"
ksft_check "WRITE SAME(10) over bad LBAs succeeds and clears them from the list" \
	[ "$(field status $tmp/ws.out)" = 00 -a -z "$(bb_list)" ]
ksft_check "WRITE SAME(10): the range reads its block back" rd_cmp $S 8 $tmp/blk8
echo fail > "$bbw"
# shellcheck disable=SC2046 # the CDB's bytes
bb_set "+$((S + 10))-$((S + 11))" && "$tool" -w $tmp/blk "$sg" $(cdb10 41 $((S + 8)) 8) > $tmp/wsf.out 2>&1
diag "SG_IO WRITE SAME(10) $((S + 8))+8 over bad $((S + 10))-$((S + 11)), badblocks_write=fail: $(cat $tmp/wsf.out)"
ksft_check "badblocks_write=fail: WRITE SAME(10) ends MEDIUM ERROR 0C/02, INFORMATION $((S + 10))" \
	[ "$(field status $tmp/wsf.out)" = 02 -a "$(field key $tmp/wsf.out)" = 3 -a \
	  "$(field asc $tmp/wsf.out)" = 0c -a "$(field ascq $tmp/wsf.out)" = 02 -a \
	  "$(field info $tmp/wsf.out)" = $((S + 10)) ]
ksft_check "badblocks_write=fail: after WRITE SAME the bad range stays" \
	[ "$(bb_list)" = "$((S + 10))-$((S + 11))" ]
# a zero block without the UNMAP bit writes zeros: still a write
# shellcheck disable=SC2046 # the CDB's bytes
"$tool" -w $tmp/zero8 "$sg" $(cdb10 41 $((S + 8)) 8) > $tmp/wsz.out 2>&1
ksft_check "badblocks_write=fail: WRITE SAME(10) of a zero block without UNMAP ends 0C/02 too" \
	[ "$(field key $tmp/wsz.out)" = 3 -a "$(field asc $tmp/wsz.out)" = 0c -a \
	  "$(bb_list)" = "$((S + 10))-$((S + 11))" ]
if command -v sg_write_same > /dev/null && command -v sg_unmap > /dev/null; then
	# the UNMAP bit with a zero block deallocates
	sg_write_same --16 --unmap --lba=$((S + 8)) --num=8 /dev/"$sg" > $tmp/wsu.out 2>&1
	rc=$?
	diag "sg_write_same --16 --unmap $((S + 8))+8, badblocks_write=fail: exit $rc $(head -n 2 $tmp/wsu.out)"
	ksft_check "badblocks_write=fail: WRITE SAME(16) with UNMAP deallocates: the bad range goes" \
		[ $rc = 0 -a -z "$(bb_list)" ]
	ksft_check "WRITE SAME(16) with UNMAP: the range reads zeros" rd_cmp $((S + 8)) 8 $tmp/zero8
	echo clear > "$bbw"
	bb_set "+$((S + 20))-$((S + 21))"
	sg_write_same --16 --in=$tmp/blk --lba=$((S + 16)) --num=8 /dev/"$sg" > $tmp/ws16.out 2>&1
	rc=$?
	ksft_check "WRITE SAME(16) over bad LBAs clears them and the range reads its block back" \
		sh -c "[ $rc = 0 ] && [ -z \"\$(cat $bb)\" ] && dd if=$dev bs=512 skip=$((S + 16)) count=8 iflag=direct 2>/dev/null | cmp -s - $tmp/blk8"
	echo fail > "$bbw"
	dd if=$tmp/blk8 of="$dev" bs=512 seek=$((S + 24)) count=8 oflag=direct conv=notrunc 2>/dev/null
	bb_set "+$((S + 24))-$((S + 31))"
	sg_unmap --force --lba=$((S + 26)) --num=4 /dev/"$sg" > $tmp/unmap.out 2>&1
	rc=$?
	diag "sg_unmap $((S + 26))+4 of bad $((S + 24))-$((S + 31)), badblocks_write=fail: exit $rc; list '$(bb_list)'"
	ksft_check "badblocks_write=fail: UNMAP of part of a bad range clears that part (the range splits)" \
		[ $rc = 0 -a "$(bb_list)" = "$((S + 24))-$((S + 25)) $((S + 30))-$((S + 31))" ]
	head -c 2048 $tmp/zero8 > $tmp/zero4
	ksft_check "UNMAP: the unmapped blocks read zeros" rd_cmp $((S + 26)) 4 $tmp/zero4
	bb_set "-$((S + 24))-$((S + 31))"
else
	ksft_skip "WRITE SAME(16) with UNMAP, UNMAP over bad blocks" "sg_write_same or sg_unmap not found"
fi
echo clear > "$bbw"

ksft_exit
