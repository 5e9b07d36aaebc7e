#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# thin_fill_test.sh - a thin disk larger than RAM fills safely.
#
# Part 1, the default budget (store_budget_mb=0): a disk of at least 4x the
# guest's RAM is written from LBA 0 in 1 MiB O_DIRECT writes, each MiB
# stamped with its number, until a write fails. That first failure is
# CHECK CONDITION, DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT
# (27h/07h) (the kernel's decoding of the failed request, and the same
# write again over SG_IO), and it comes before the end of the disk and
# before the OOM killer: nothing is killed, no splat. Every MiB written
# before reads back intact; debugfs shows the budget spent; UNMAP of the
# whole disk gives the memory back (MemAvailable before the fill and after
# the UNMAP within a tolerance, and no page held) and writes succeed again.
#
# Part 2, store_budget_mb=8 and 64 KiB windows (a 1 MiB write moves in 16
# windows): with the budget spent exactly, WRITE, WRITE SAME and COMPARE AND
# WRITE to unmapped blocks are refused with 27/07 and leave those blocks
# reading zeros (nothing half-written); overwrites of mapped blocks, reads
# and UNMAP still work, and a write refused before succeeds after UNMAP.
#
# On code without a budget the fill ends in the OOM killer, or in a write
# requeued forever (the runner's timeout).
#
# Duration: about 1-3 minutes under QEMU TCG with 3 GiB of guest RAM.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd sg_raw sg_unmap dd md5sum cmp tail awk
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
grep -qs ' /sys/kernel/debug ' /proc/mounts || \
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/debug/dmahba ] || [ -d /sys/kernel/debug ] || \
	ksft_skip_all "debugfs is not mounted"
[ -w /dev/kmsg ] || ksft_skip_all "needs /dev/kmsg to read the kernel's decoding"

tmp=/tmp/thin_fill.$$
mkdir -p "$tmp" || ksft_skip_all "cannot create $tmp"
trap 'unload_mods; rm -rf "$tmp"' EXIT
ksft_init

meminfo() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' /proc/meminfo; }
ram_mb=$(meminfo MemTotal)
# 4x RAM, rounded up to a GiB
dev_mb=$(( (ram_mb * 4 + 1023) / 1024 * 1024 ))
diag "guest RAM $ram_mb MiB, disk $dev_mb MiB"

# the data: one random MiB; MiB i is it with its first 16 bytes "MiB i"
dd if=/dev/urandom of="$tmp/base" bs=1M count=1 2>/dev/null
dd if=/dev/zero of="$tmp/zero" bs=1M count=1 2>/dev/null
# gen FIRST END: MiB FIRST to END-1 of the pattern
gen() {
	_i=$1
	while [ "$_i" -lt "$2" ]; do
		printf 'MiB %011d\n' "$_i"
		tail -c +17 "$tmp/base"
		_i=$((_i + 1))
	done
}
# be64 N / be32 N: a number as sg_raw's CDB bytes
be64() { printf '%016x\n' "$1" | sed 's/../& /g'; }
be32() { printf '%08x\n' "$1" | sed 's/../& /g'; }
# is_27_07 FILE: sg_raw's output says CHECK CONDITION with sense key DATA
# PROTECT, additional sense SPACE ALLOCATION FAILED WRITE PROTECT (decoded
# by sg3_utils from the sense bytes)
is_27_07() {
	grep -qi 'check condition' "$1" && grep -qi 'data protect' "$1" &&
		grep -qi 'space allocation failed write protect' "$1" &&
		raw_27_07 "$1"
}
# raw_27_07 FILE: the raw sense bytes sg_raw -v shows: fixed format (70h),
# sense key 7 in byte 2, ASC 27h and ASCQ 07h in bytes 12 and 13
raw_27_07() {
	sed -n '/Raw sense data/,/^ *$/p' "$1" | tail -n +2 | tr -s ' \t' '\n' |
		grep -E '^[0-9a-f]{2}$' | tr '\n' ' ' |
		awk '{ exit !($1 == "70" && $3 == "07" && $13 == "27" && $14 == "07") }'
}
# sg_write16 SG LBA BLOCKS FILE: WRITE(16) of BLOCKS 512-byte blocks
sg_write16() {
	# shellcheck disable=SC2046 # the CDB bytes are words
	sg_raw -v -s $(($3 * 512)) -i "$4" /dev/"$1" 8a 00 $(be64 "$2") $(be32 "$3") 00 00
}
# reads_zero SD MIB: the MiB at MIB reads as zeros
reads_zero() {
	dd if=/dev/"$1" bs=1M skip="$2" count=1 iflag=direct 2>/dev/null | cmp -s - "$tmp/zero"
}
oom_seen() {
	dmesg | sed -n "/$ksft_marker start/,\$p" | grep -Eq 'invoked oom-killer|Out of memory|Killed process'
}
stat_of() { awk -v a="$1" -v b="$2" '$1 == a { for (i = 2; i < NF; i++) if ($i == b) print $(i + 1) }' "$stats"; }

# ---------------------------------------------------------------- part 1
load_mod softdma || ksft_skip_all "cannot load softdma"
if ! load_dmahba dev_size_mb="$dev_mb"; then
	ksft_fail "dmahba loads with dev_size_mb=$dev_mb (4x RAM)"
	ksft_exit
fi
sd=$(dmahba_sd)
sg=$(dmahba_sg)
h=$(dmahba_host)
stats=/sys/kernel/debug/dmahba/host$h/stats
wait_idle "$sd"
budget_mb=$(cat /sys/module/dmahba/parameters/store_budget_mb)
budget_pages=$(stat_of store budget_pages)
diag "/dev/$sd /dev/$sg, default budget $budget_mb MiB ($budget_pages pages)"
ksft_check "the default budget is at most 1/4 of RAM" [ "$budget_mb" -le $((ram_mb / 4)) ]
ksft_check "debugfs shows the budget" [ "$budget_pages" = $((budget_mb * 256)) ]

sync
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null
avail0=$(meminfo MemAvailable)
t0=$(now)
gen 0 "$dev_mb" | dd of=/dev/"$sd" bs=1M iflag=fullblock oflag=direct \
	count="$dev_mb" > "$tmp/dd.out" 2>&1
rc=$?
t1=$(now)
avail1=$(meminfo MemAvailable)
n=$(sed -n 's/^\([0-9]*\)+[0-9]* records out.*/\1/p' "$tmp/dd.out" | tail -1)
n=${n:-0}
diag "dd: exit $rc after $n MiB in $(elapsed "$t0" "$t1") s: $(grep -i error "$tmp/dd.out" | head -1)"
diag "MemAvailable $avail0 MiB before the fill, $avail1 MiB after; $(grep '^store' "$stats")"
if oom_seen; then
	ksft_fail "the guest fills the disk without the OOM killer"
	dmesg | grep -E 'oom|Killed process' | head -5 | sed 's/^/# kernel: /'
	ksft_exit
fi
ksft_pass "the guest fills the disk without the OOM killer"
ksft_check "the fill stops with a write error before the end of the disk" \
	test "$rc" = 1 -a "$n" -lt "$dev_mb"
ksft_check "it stops near the budget ($n of $budget_mb MiB written)" \
	test "$n" -le "$budget_mb" -a "$n" -ge $((budget_mb - 2))
# the kernel's decoding of the failed request's sense
dmesg | sed -n "/$ksft_marker start/,\$p" > "$tmp/kmsg"
first_key=$(grep -m1 'Sense Key' "$tmp/kmsg")
first_asc=$(grep -m1 'Add. Sense' "$tmp/kmsg")
diag "kernel: ${first_key#*] } / ${first_asc#*] }"
ksft_check "the first failure is DATA PROTECT" sh -c "echo '$first_key' | grep -q 'Data Protect'"
ksft_check "with 27/07 SPACE ALLOCATION FAILED WRITE PROTECT" \
	sh -c "echo '$first_asc' | grep -qi 'Space allocation failed write protect'"
# the same write again, over SG_IO: the sense bytes themselves
gen "$n" $((n + 1)) > "$tmp/blk"
sg_write16 "$sg" $((n * 2048)) 2048 "$tmp/blk" > "$tmp/sg.out" 2>&1
sed -n '/Sense Information/,$p' "$tmp/sg.out" | head -8 | sed 's/^/# /'
ksft_check "the same write over SG_IO answers CHECK CONDITION 7/27/07" is_27_07 "$tmp/sg.out"
ksft_check "debugfs counts the refusals (nospc > 0)" [ "$(stat_of store nospc)" -gt 0 ]
used=$(stat_of store used_pages)
ksft_check "pages used ($used) within the budget ($budget_pages)" [ "$used" -le "$budget_pages" ]

# the data written before reads back intact
want=$(gen 0 "$n" | md5sum | cut -d' ' -f1)
got=$(dd if=/dev/"$sd" bs=1M count="$n" iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
ksft_check "the $n MiB written read back intact" [ "$want" = "$got" ]
ksft_check "reads past the failure work (MiB $((n + 1)) reads zeros)" reads_zero "$sd" $((n + 1))

# UNMAP of the whole disk gives the memory back: one command per 32 MiB,
# the MAXIMUM UNMAP LBA COUNT the Block Limits VPD page reports
lbs=$(cat /sys/block/"$sd"/queue/logical_block_size)
t0=$(now)
sg_unmap -f --all=0,$((32 * 1048576 / lbs)) /dev/"$sg" > "$tmp/unmap.out" 2>&1
rc=$?
t1=$(now)
sync
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null
avail2=$(meminfo MemAvailable)
used=$(stat_of store used_pages)
diag "UNMAP of $dev_mb MiB: exit $rc in $(elapsed "$t0" "$t1") s; MemAvailable $avail2 MiB (was $avail0 before the fill, $avail1 full); $used pages used"
ksft_check "sg_unmap of the whole disk succeeds" [ "$rc" = 0 ]
ksft_check "no page held after it" [ "$used" = 0 ]
tol=$((budget_mb / 10 + 32))
ksft_check "the fill took memory: MemAvailable $avail0 -> $avail1 MiB" \
	test $((avail0 - avail1)) -ge $((budget_mb / 2))
ksft_check "UNMAP gave it back: MemAvailable $avail2 MiB, within $tol of $avail0" \
	test $((avail0 - avail2)) -le "$tol"
ksft_check "the MiB refused before reads zeros after UNMAP" reads_zero "$sd" "$n"
gen "$n" $((n + 4)) | dd of=/dev/"$sd" bs=1M seek="$n" count=4 iflag=fullblock \
	oflag=direct > "$tmp/dd2.out" 2>&1
rc=$?
want=$(gen "$n" $((n + 4)) | md5sum | cut -d' ' -f1)
got=$(dd if=/dev/"$sd" bs=1M skip="$n" count=4 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
ksft_check "writes succeed again after UNMAP, and read back" test "$rc" = 0 -a "$want" = "$got"
wait_idle "$sd"
rmmod_idle dmahba

# ---------------------------------------------------------------- part 2
if ! load_dmahba dev_size_mb=64 store_budget_mb=8 max_window_kb=64; then
	ksft_fail "dmahba loads with store_budget_mb=8 max_window_kb=64"
	ksft_exit
fi
sd=$(dmahba_sd)
sg=$(dmahba_sg)
h=$(dmahba_host)
stats=/sys/kernel/debug/dmahba/host$h/stats
wait_idle "$sd"
# exactly the budget: 8 MiB in 16 writes of 512 KiB
gen 0 8 | dd of=/dev/"$sd" bs=512K count=16 iflag=fullblock oflag=direct \
	> "$tmp/dd3.out" 2>&1
rc=$?
used=$(stat_of store used_pages)
ksft_check "8 MiB fill a budget of 8 MiB ($used pages)" test "$rc" = 0 -a "$used" = 2048
gen 8 9 > "$tmp/blk"
sg_write16 "$sg" $((8 * 2048)) 2048 "$tmp/blk" > "$tmp/sg.out" 2>&1
ksft_check "WRITE(16) of 1 MiB (16 windows) past the budget: 7/27/07" is_27_07 "$tmp/sg.out"
ksft_check "and nothing of it written" reads_zero "$sd" 8
sg_write16 "$sg" $((9 * 2048 - 1)) 2 "$tmp/blk" > "$tmp/sg.out" 2>&1
ksft_check "WRITE(16) of 2 blocks across a page boundary: 7/27/07" is_27_07 "$tmp/sg.out"
ksft_check "and nothing of it written" reads_zero "$sd" 8
head -c 512 "$tmp/base" > "$tmp/blk512"
# shellcheck disable=SC2046
sg_raw -v -s 512 -i "$tmp/blk512" /dev/"$sg" 93 00 $(be64 $((10 * 2048))) 00 00 08 00 00 00 \
	> "$tmp/sg.out" 2>&1
ksft_check "WRITE SAME(16) of 1 MiB past the budget: 7/27/07" is_27_07 "$tmp/sg.out"
ksft_check "and nothing of it written" reads_zero "$sd" 10
# COMPARE AND WRITE of 8 blocks: zeros compare equal, the write needs a page
dd if=/dev/zero bs=512 count=8 2>/dev/null > "$tmp/caw"
head -c 4096 "$tmp/base" >> "$tmp/caw"
# shellcheck disable=SC2046
sg_raw -v -s 8192 -i "$tmp/caw" /dev/"$sg" 89 00 $(be64 $((11 * 2048))) 00 00 00 08 00 00 \
	> "$tmp/sg.out" 2>&1
ksft_check "COMPARE AND WRITE past the budget: 7/27/07" is_27_07 "$tmp/sg.out"
ksft_check "and nothing of it written" reads_zero "$sd" 11
# what needs no new page still works
gen 100 101 > "$tmp/blk"
sg_write16 "$sg" 0 2048 "$tmp/blk" > "$tmp/sg.out" 2>&1
ksft_check "an overwrite of mapped blocks succeeds with the budget spent" \
	sh -c "! grep -qi 'check condition' $tmp/sg.out"
got=$(dd if=/dev/"$sd" bs=1M count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
ksft_check "and reads back" [ "$got" = "$(md5sum < "$tmp/blk" | cut -d' ' -f1)" ]
want=$(gen 1 8 | md5sum | cut -d' ' -f1)
got=$(dd if=/dev/"$sd" bs=1M skip=1 count=7 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
ksft_check "the rest of what was written reads back intact" [ "$want" = "$got" ]
ksft_check "UNMAP of 1 MiB succeeds with the budget spent" \
	sg_unmap -f --lba=0 --num=2048 /dev/"$sg"
gen 8 9 > "$tmp/blk"
sg_write16 "$sg" $((8 * 2048)) 2048 "$tmp/blk" > "$tmp/sg.out" 2>&1
got=$(dd if=/dev/"$sd" bs=1M skip=8 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
ksft_check "then the write refused before succeeds, and reads back" \
	sh -c "! grep -qi 'check condition' $tmp/sg.out && [ '$got' = '$(md5sum < "$tmp/blk" | cut -d' ' -f1)' ]"
diag "$(grep -E '^(store|nomem)' "$stats" | tr '\n' ';')"
wait_idle "$sd"
unload_mods
ksft_check "no OOM kill" sh -c "! dmesg | sed -n '/$ksft_marker start/,\$p' | grep -Eq 'invoked oom-killer|Killed process'"
ksft_exit
