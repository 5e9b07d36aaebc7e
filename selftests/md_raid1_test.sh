#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# md_raid1_test.sh - md RAID1 repairs dmahba's medium errors (issue 17):
# two LUs of one host (num_luns=2) in an md RAID1 (mdadm --assume-clean:
# both legs start as zeros); 16 MiB of known data written through the
# array; bad ranges (debugfs hostN/lun0/badblocks) put on the first leg
# only, the second leg made write-mostly so that md reads the first;
# caches dropped; the whole array read back with O_DIRECT:
#  - the data is identical (md5);
#  - md saw the read errors and corrected them: the leg's
#    md/dev-X/errors (corrected sectors) grew, the kernel log shows
#    "read error corrected" and "redirecting sector";
#  - md rewrote the bad sectors from the other leg, so the badblocks list
#    is empty; neither leg is faulty and md logged no bad block;
#  - "check" then counts mismatch_cnt 0.
# Skips without mdadm or the md_mod/raid1 modules.
#
# Runtime: about 40 s under QEMU TCG.
. "$(dirname "$0")/lib.sh"

DBG=/sys/kernel/debug/dmahba
SIZE_MB=64
DATA_MB=16

require_cmd mdadm awk md5sum dd
modprobe raid1 2>/dev/null
grep -qw raid1 /proc/mdstat 2>/dev/null || \
	ksft_skip_all "no md RAID1 (modprobe raid1 failed: no raid1 personality in /proc/mdstat)"

tmp=/tmp/md_raid1_test.$$
mkdir -p /run/mdadm 2>/dev/null
md=""
legs=""
test_cleanup() {
	if [ -n "$md" ]; then
		echo idle > /sys/block/"$md"/md/sync_action 2>/dev/null
		mdadm --stop /dev/"$md" > /dev/null 2>&1
	fi
	for _l in $legs; do mdadm --zero-superblock /dev/"$_l" > /dev/null 2>&1; done
}
fresh_dmahba_test
ksft_init

dmahba_up dev_size_mb=$SIZE_MB num_luns=2
a=$sd
b=$(dmahba_sd 1)
bb=$DBG/host$h/lun0/badblocks
wait_idle "$a"
wait_idle "$b"
diag "legs /dev/$a (lun0, bad ranges) and /dev/$b (lun1, write-mostly)"
if [ ! -f "$bb" ]; then
	ksft_fail "debugfs $bb exists"
	ksft_exit
fi

# the first free /dev/mdN
n=0
while [ -e /sys/block/md$n/md ] && [ $n -lt 100 ]; do n=$((n + 1)); done
md=md$n
legs="$a $b"
if ! mdadm --create /dev/$md --run --quiet --level=1 --raid-devices=2 --metadata=1.2 \
	--assume-clean --bitmap=none /dev/"$a" /dev/"$b" > $tmp/mdadm.out 2>&1; then
	sed 's/^/# mdadm: /' $tmp/mdadm.out
	md=""
	ksft_fail "mdadm --create a RAID1 of $a and $b"
	ksft_exit
fi
wait_for test -b /dev/$md
mdsys=/sys/block/$md/md
ksft_check "mdadm --create: /dev/$md is a clean 2-leg RAID1" \
	sh -c "[ \"\$(cat $mdsys/level)\" = raid1 ] && [ \"\$(cat $mdsys/degraded)\" = 0 ]"
off=$(cat $mdsys/dev-"$a"/offset)	# the data offset on the leg, sectors
echo writemostly > $mdsys/dev-"$b"/state
diag "$md: data offset $off sectors; $(cat $mdsys/dev-"$b"/state) on $b"

# known data
dd if=/dev/urandom of=$tmp/data bs=1M count=$DATA_MB 2>/dev/null
dd if=$tmp/data of=/dev/$md bs=1M count=$DATA_MB oflag=direct 2>/dev/null
rc=$?
sync
ksft_check "$DATA_MB MiB written through /dev/$md" [ $rc = 0 ]
want=$(md5sum < $tmp/data | cut -d' ' -f1)

# bad ranges on leg a, in array sectors S: leg LBA = off + S (512-byte blocks)
nr=0
for r in 100-100 2047-2050 8000-8063 20001-20001 30000-30007; do
	s=${r%-*}
	e=${r#*-}
	printf '+%s-%s\n' $((off + s)) $((off + e)) > "$bb" && nr=$((nr + 1))
done
diag "bad ranges on $a: $(tr '\n' ' ' < "$bb")"
ksft_check "5 bad ranges armed on $a" [ $nr = 5 ]

c0=$(cat $mdsys/dev-"$a"/errors)
mark="md_raid1_test-$$-read"
echo "$mark" > /dev/kmsg
sync
echo 3 > /proc/sys/vm/drop_caches
timeout 120 dd if=/dev/$md of=$tmp/back bs=1M count=$DATA_MB iflag=direct 2> $tmp/dd.err
rc=$?
got=$(md5sum < $tmp/back | cut -d' ' -f1)
dmesg | sed -n "/$mark/,\$p" > $tmp/klog
c1=$(cat $mdsys/dev-"$a"/errors)
ncorr=$(grep -c 'read error corrected' $tmp/klog)
nredir=$(grep -c 'redirecting sector' $tmp/klog)
nmed=$(grep -c 'Unrecovered read error' $tmp/klog)
grep -E 'md/raid1|md:' $tmp/klog | sed 's/^/# kernel: /' | head -12
diag "read back: exit $rc, md5 $got (want $want); $a errors $c0 -> $c1; kernel log: $nmed unrecovered read error(s), $ncorr 'read error corrected', $nredir 'redirecting sector'"
ksft_check "the whole array reads back identical (O_DIRECT, md5)" [ $rc = 0 -a "$got" = "$want" ]
ksft_check "the leg returned medium errors (kernel log: Unrecovered read error)" [ "$nmed" -ge 1 ]
ksft_check "md corrected the read errors: dev-$a/errors grew, 'read error corrected' logged" \
	[ "$c1" -gt "$c0" -a "$ncorr" -ge 1 ]
ksft_check "md redirected the failed reads to the other mirror" [ "$nredir" -ge 1 ]
left=$(tr '\n' ' ' < "$bb")
ksft_check "md rewrote every bad range: the badblocks list is empty ('$left')" [ -z "$left" ]
sa=$(cat $mdsys/dev-"$a"/state)
mbb=$(cat $mdsys/dev-"$a"/bad_blocks 2>/dev/null)
diag "dev-$a state '$sa', md bad block log '$mbb', degraded $(cat $mdsys/degraded)"
ksft_check "the leg stays in the array: in_sync, not faulty, no md bad block" \
	sh -c "echo '$sa' | grep -q in_sync && ! echo '$sa' | grep -q faulty && [ -z '$mbb' ] && [ \"\$(cat $mdsys/degraded)\" = 0 ]"

# a second read: nothing bad left, nothing to correct
c2=$(cat $mdsys/dev-"$a"/errors)
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/$md of=$tmp/back2 bs=1M count=$DATA_MB iflag=direct 2>/dev/null
rc=$?
ksft_check "a second read is identical and needs no correction" \
	sh -c "[ $rc = 0 ] && cmp -s $tmp/back2 $tmp/data && [ \"\$(cat $mdsys/dev-$a/errors)\" = $c2 ]"

# check: both legs compared
echo check > $mdsys/sync_action
i=0
while [ $i -lt 1200 ]; do		# 120 s at most
	sleep 0.1
	[ "$(cat $mdsys/sync_action)" = idle ] && break
	i=$((i + 1))
done
mm=$(cat $mdsys/mismatch_cnt)
diag "check: done after $((i / 10)) s, sync_action $(cat $mdsys/sync_action), mismatch_cnt $mm"
ksft_check "check: it ran to the end, mismatch_cnt 0" \
	[ "$(cat $mdsys/sync_action)" = idle -a "$(cat $mdsys/last_sync_action)" = check -a "$mm" = 0 ]

mdadm --stop /dev/$md > /dev/null 2>&1
ksft_check "mdadm --stop /dev/$md" [ ! -e $mdsys ]
md=""
ksft_exit
