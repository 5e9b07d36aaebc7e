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
# The same on the poll queue (dmahba poll_queues=1): its windows carry no
# callback, the poll reads the channel's tx_status, which must then tell the
# failed descriptor (a hardware engine's status writeback). Polled I/O
# (fio io_uring --hipri=1, O_DIRECT) is block I/O, which the midlayer
# retries (5 times) on ABORTED COMMAND: the channel is made to fail the
# same middle descriptor of every try (fail_every=descriptors of a window),
# so a READ or WRITE whose window the fault hits ends with EIO after the
# retries, the kernel log naming ABORTED COMMAND, 4B/00; never GOOD (with
# the failed piece's data missing) and never with a try left uncounted.
#
# Runtime: about a minute under QEMU TCG.
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
		echo 0 > "$K"/fail_every
		echo read > "$K"/fail_mode
	fi
}
ksft_init

if ! load_mod softdma halt_on_error=0; then
	ksft_fail "softdma loads with halt_on_error=0"
	ksft_exit
fi
# queue 0: the default queue (SG_IO); queue 1: the poll queue
dmahba_up nr_channels=2 poll_queues=1 max_window_kb=64
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
echo read > "$K"/fail_mode
put $tmp/a
get $tmp/back
ksft_check "after the faults the disk reads and writes correctly" cmp -s $tmp/back $tmp/a

# --- the poll queue
poll_end() {
	ksft_skip "$1" "$2"
	ksft_exit
}
PT="polled: a failed descriptor 1..$((nd - 1)) of $nd"
if ! fio --enghelp 2>/dev/null | grep -qw io_uring ||
	! fio --name=probe --ioengine=io_uring --filename=$tmp/probe --size=64k \
		--rw=write --bs=4k >/dev/null 2>&1; then
	poll_end "$PT" "io_uring not usable (fio or kernel)"
fi
[ "$(cat /sys/block/"$sd"/queue/io_poll 2>/dev/null)" = 1 ] || poll_end "$PT" "$sd: io_poll is not 1"
pch=$(awk 'NR > 1 && $1 == 1 { print $2 }' "$stats")
P=$SDBG/$pch
[ -d "$P" ] || poll_end "$PT" "the poll queue's channel ($pch) has no debugfs knobs"
K=$P
diag "poll queue: channel $pch"
# qstat FIELD: the poll queue's column of the host's stats
qstat() {
	awk -v f="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 == 1 { print $(c[f]) }' "$stats"
}
PAT="--verify=pattern --verify_pattern=0x5a5aa5a5"
PAT2="--verify=pattern --verify_pattern=0x0ff1ce00"
# pio NAME [FIO-OPTIONS...]: polled O_DIRECT I/O through io_uring --hipri=1,
# bounded; fio's exit status; $tmp/NAME.out, .err
pio() {
	_n=$1
	shift
	timeout 120 fio --minimal --name="$_n" --filename="$dev" --direct=1 \
		--ioengine=io_uring --hipri=1 --iodepth=1 "$@" > "$tmp/$_n.out" 2> "$tmp/$_n.err"
}
# the job's error (errno) in fio's terse output
perr() { awk -F';' '/^3;/ { print $5; exit }' "$tmp/$1.out"; }
# shellcheck disable=SC2086 # PAT is a list of options
rng() { echo --offset=$((LBA * 512)) --size=$((BLKS * 512)) --bs=$((BLKS * 512)); }

# shellcheck disable=SC2046,SC2086 # rng and PAT are lists of options
pio pat --rw=write $(rng) $PAT || { ksft_fail "polled: write the pattern"; ksft_exit; }
c0=$(cat "$P"/completed)
p0=$(qstat polled)
# shellcheck disable=SC2046,SC2086
pio clean --rw=write $(rng) $PAT --verify_only=1
rc=$?
c1=$(cat "$P"/completed)
p1=$(qstat polled)
diag "polled READ: exit $rc, $((c1 - c0)) descriptor(s) on $pch, $((p1 - p0)) window(s) polled"
ksft_check "polled: a clean READ returns the data, its $nd descriptors through the poll queue" \
	[ "$rc" = 0 -a $((c1 - c0)) = "$nd" -a $((p1 - p0)) -ge 1 ]

# pfault OP NTH: the channel fails descriptor NTH of every window of one
# polled READ or WRITE (and of its retries): fail_every=nd, its count
# brought to nd - NTH by as many 4 KiB polled reads (a descriptor each) of
# the other range. 0 if the command ended with EIO, every try failed and
# was polled.
pfault() {
	_op=$1
	_nth=$2
	echo "$nd" > "$P"/fail_every
	_s0=$(cat "$P"/submitted)
	pio pre --rw=read --offset=$(((LBA + 8192) * 512)) --bs=4k --size=$(((nd - _nth) * 4))k
	_pre=$(($(cat "$P"/submitted) - _s0))
	if [ "$_pre" != $((nd - _nth)) ]; then
		echo 0 > "$P"/fail_every
		diag "$_op: descriptor $_nth: $_pre descriptor(s) before the command, want $((nd - _nth))"
		return 1
	fi
	_f0=$(cat "$P"/failed)
	_e0=$(qstat dma_errors)
	_p0=$(qstat polled)
	if [ "$_op" = r ]; then
		# shellcheck disable=SC2046,SC2086
		pio cmd --rw=write $(rng) $PAT --verify_only=1
	else
		# shellcheck disable=SC2046,SC2086
		pio cmd --rw=write $(rng) $PAT2 --do_verify=0
	fi
	_rc=$?
	echo 0 > "$P"/fail_every
	_f=$(($(cat "$P"/failed) - _f0))
	_e=$(($(qstat dma_errors) - _e0))
	_p=$(($(qstat polled) - _p0))
	_err=$(perr cmd)
	if [ "$_rc" != 0 ] && [ "$_err" = 5 ] && [ "$_f" -ge 2 ] && [ "$_e" = "$_f" ] && [ "$_p" -ge "$_f" ]; then
		return 0
	fi
	if [ "$_rc" = 0 ]; then
		if [ "$_op" = r ]; then
			# fio's buffer holds the pattern before the read: a
			# piece the channel did not move goes unseen
			_w="GOOD"
		else
			# shellcheck disable=SC2046,SC2086
			pio back --rw=write $(rng) $PAT2 --verify_only=1 && _d="right" || _d="WRONG"
			_w="GOOD with $_d data on the medium"
		fi
	elif grep -q 'verify' "$tmp/cmd.err"; then
		_w="WRONG data (verify failed), exit $_rc"
	else
		_w="exit $_rc, error $_err"
	fi
	diag "$_op: descriptor $_nth of $nd failed on $_f try(s): $_w, $_e window(s) failed, $_p polled (want EIO, every try failed and polled)"
	[ "$_op" = w ] || sed 's/^/# fio: /' "$tmp/cmd.err" | head -3
	return 1
}

for op in r w; do
	[ $op = r ] && OP=READ || OP=WRITE
	mark="desc_fault_test-poll-$op-$$"
	echo "$mark" > /dev/kmsg
	bad=0
	n=1
	while [ $n -lt $nd ]; do
		# shellcheck disable=SC2046,SC2086
		[ $op = r ] || pio pat --rw=write $(rng) $PAT || bad=$((bad + 1))
		pfault $op $n || bad=$((bad + 1))
		n=$((n + 1))
	done
	ksft_check "polled $OP, a failed descriptor 1..$((nd - 1)) of $nd: EIO after the retries, every try failed" [ $bad = 0 ]
	# the first such command's sense (the kernel log is rate-limited)
	since "$mark" > $tmp/klog
	ksft_check "polled $OP: the kernel log names its sense ABORTED COMMAND, 4B/00" \
		sh -c "grep -q 'Sense Key : Aborted Command' $tmp/klog &&
			grep -Eq 'Add. Sense: (Data phase error|ASC=0x4b ASCQ=0x0)' $tmp/klog"
done
# shellcheck disable=SC2046,SC2086
pio pat --rw=write $(rng) $PAT &&
	pio clean --rw=write $(rng) $PAT --verify_only=1
ksft_check "polled: after the faults the disk reads and writes correctly" [ $? = 0 ]
ksft_exit
