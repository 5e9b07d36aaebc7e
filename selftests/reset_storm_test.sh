#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# reset_storm_test.sh - one DMA channel shared by two logical units: fio
# writes and verifies (crc32c) on LUN 0 without a pause while LUN 1 takes
# RESETS (default 200) LUN resets (sg_reset -d) and commands aborted by
# their timeout. Each LUN reset and each abort cancels LUN 1's windows with
# dmaengine_terminate_async() and waits with dmaengine_synchronize() on the
# channel LUN 0's requests are flowing through. The aborts are forced with
# dmahba's dma_started_hold_ms: the next window's DmaStarted is held back
# for longer than LUN 1's timeout (2 s), while LUN 1 reads. The hold is
# host-wide: a try whose hold a LUN 0 window took only delays that one (its
# timeout is the default 30 s), and LUN 1's command then times out still
# waiting for the channel, which the abort drops without a DMA cancel. A try
# counts when the host's aborts counter (active commands, whose windows the
# abort cancels on the channel) grows; tries go on until ABORTS (default 4)
# counted or 8 x ABORTS tries were made.
# Asserted: every fio round exits 0 with no verify error, every sg_reset
# succeeds, LUN 1's reads return the right data, aborts happened, LUN 0 had
# no timeout, the streams kept moving during the storm (fio's requests grow
# between resets), and the kernel log is clean.
#
# Runtime: about 2-3 minutes under QEMU TCG on two cores; every fio round,
# read and sg_reset is bounded by "timeout".
. "$(dirname "$0")/lib.sh"

RESETS=${RESETS:-200}
ABORTS=${ABORTS:-4}
FIO_TIMEOUT=${FIO_TIMEOUT:-600}	# catches a hang; a slow machine needs its time
TMO1=2				# LUN 1's command timeout, s
HOLD_MS=4000			# longer than TMO1, far below LUN 0's timeout
DBG=/sys/kernel/debug/dmahba

require_cmd fio awk sg_reset dd cmp
fio --enghelp 2>/dev/null | grep -qw libaio || ksft_skip_all "fio has no libaio engine"

tmp=/tmp/reset_storm_test.$$
fresh_dmahba_test
loop_pid=""
hold=""
test_cleanup() {
	touch "$tmp"/stop
	[ -n "$loop_pid" ] && wait "$loop_pid"
	[ -n "$hold" ] && [ -f "$hold" ] && echo 0 > "$hold"
}
ksft_init

dmahba_up num_luns=2 nr_channels=1 max_window_kb=64
sd0=$sd
sd1=$(dmahba_sd 1)
sg1=/dev/$(dmahba_sg 1)
hold=$DBG/host$h/dma_started_hold_ms
nq=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/' "$stats" | wc -l)
diag "LUN 0: /dev/$sd0 (fio), LUN 1: /dev/$sd1 $sg1 (resets, aborts), $nq queue(s)"
ksft_check "one DMA channel for both LUs" [ "$nq" = 1 ]
[ -f "$hold" ] || ksft_skip_all "no dma_started_hold_ms in debugfs"
echo $TMO1 > /sys/block/"$sd1"/device/timeout

# LUN 1's pattern, read back by the aborted and retried reads
dd if=/dev/urandom of=$tmp/pat bs=64k count=4 2>/dev/null
dd if=$tmp/pat of=/dev/"$sd1" bs=64k count=4 oflag=direct conv=notrunc 2>/dev/null

# fio rounds on LUN 0, one after the other until $tmp/stop, each with its
# own data; a round's failure is recorded in $tmp/fio_bad
cat > $tmp/job <<EOF
[global]
filename=/dev/$sd0
direct=1
ioengine=libaio
iodepth=16
verify=crc32c
verify_fatal=1
group_reporting=1
[storm]
rw=randwrite
bssplit=4k/40:64k/30:256k/30
numjobs=2
size=8m
offset=0
offset_increment=8m
EOF
fio_loop() {
	_r=0
	while [ ! -f $tmp/stop ]; do
		_r=$((_r + 1))
		timeout "$FIO_TIMEOUT" fio --minimal --randseed=$((1000 + _r)) $tmp/job \
			> $tmp/fio.out 2> $tmp/fio.err
		_rc=$?
		_fe=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' $tmp/fio.out)
		_kb=$(awk -F';' '/^3;/ { s += $6 } END { printf "%.0f\n", s }' $tmp/fio.out)
		echo "$_r $_rc $_fe $_kb" >> $tmp/rounds
		if [ $_rc != 0 ] || [ "$_fe" != 0 ]; then
			{ echo "round $_r: exit $_rc, $_fe job error(s)"; head -5 $tmp/fio.err; } >> $tmp/fio_bad
		fi
	done
}
: > $tmp/rounds
io0=$(($(cat /sys/block/"$sd0"/device/iotmo_cnt)))
a0=$(stat_sum aborts)
r0=$(stat_sum requests)
fio_loop &
loop_pid=$!
_i=0
while [ $_i -lt 200 ] && [ $(($(stat_sum requests) - r0)) -lt 40 ]; do
	sleep 0.05
	_i=$((_i + 1))
done

# abort_try: hold the next DmaStarted, read LUN 1; 0 if an active command
# was aborted (the host's counter); the read must return the right data
abort_try() {
	_t0=$(stat_sum aborts)
	echo $HOLD_MS > "$hold"
	timeout 120 dd if=/dev/"$sd1" of=$tmp/got bs=64k count=4 iflag=direct 2>/dev/null
	_drc=$?
	# a hold no window took yet must not hit a later reset's window
	echo 0 > "$hold"
	if [ $_drc != 0 ] || ! cmp -s $tmp/got $tmp/pat; then
		diag "abort try: read of LUN 1: exit $_drc or wrong data"
		read_bad=$((read_bad + 1))
	fi
	[ "$(stat_sum aborts)" -gt "$_t0" ]
}

t0=$(now)
nres=0
res_bad=0
read_bad=0
stuck=0
aborted=0
tries=0
every=$((RESETS / (ABORTS * 8) + 1))
while [ $nres -lt "$RESETS" ]; do
	q0=$(stat_sum requests)
	timeout 60 sg_reset -d "$sg1" >/dev/null 2>&1 || res_bad=$((res_bad + 1))
	nres=$((nres + 1))
	if [ $((nres % every)) = 0 ] && [ $aborted -lt "$ABORTS" ]; then
		tries=$((tries + 1))
		abort_try && aborted=$((aborted + 1))
	fi
	# the fio stream on LUN 0 moved across this reset (up to 5 s to show)
	_i=0
	while [ $(($(stat_sum requests) - q0)) -lt 2 ] && [ $_i -lt 100 ] &&
	      kill -0 $loop_pid 2>/dev/null; do
		sleep 0.05
		_i=$((_i + 1))
	done
	[ $_i -lt 100 ] || stuck=$((stuck + 1))
done
while [ $aborted -lt "$ABORTS" ] && [ $tries -lt $((ABORTS * 8)) ]; do
	tries=$((tries + 1))
	abort_try && aborted=$((aborted + 1))
done
t1=$(now)
touch $tmp/stop
wait $loop_pid
loop_pid=""
rounds=$(wc -l < $tmp/rounds)
mib=$(awk '{ s += $4 } END { printf "%.0f\n", s / 1024 }' $tmp/rounds)
io1=$(($(cat /sys/block/"$sd0"/device/iotmo_cnt)))
a1=$(stat_sum aborts)
diag "$nres LUN resets ($res_bad failed) and $tries abort tries ($aborted with an abort, $((a1 - a0)) aborts counted by the host, $(($(cat /sys/block/"$sd1"/device/iotmo_cnt))) LUN 1 timeouts) in $(elapsed "$t0" "$t1") s; fio: $rounds rounds, $mib MiB verified; $stuck reset(s) after which LUN 0 did not move within 5 s"
[ -s $tmp/fio_bad ] && sed 's/^/# /' $tmp/fio_bad | head -20
ksft_check "$RESETS LUN resets of LUN 1 succeeded" [ $nres -ge "$RESETS" -a $res_bad = 0 ]
ksft_check "active commands were aborted ($aborted of $tries tries, at least $ABORTS)" [ $aborted -ge "$ABORTS" ]
ksft_check "LUN 1's aborted and retried reads returned the right data" [ $read_bad = 0 ]
ksft_check "fio on LUN 0: every round exited 0 with no verify error ($rounds rounds)" \
	[ ! -s $tmp/fio_bad -a "$rounds" -ge 1 ]
ksft_check "LUN 0 never stalled: it moved after every reset, no command timed out" \
	[ $stuck = 0 -a $((io1 - io0)) = 0 ]

# what the last round wrote reads back after the storm
awk '/^\[global\]/ { print; print "verify_only=1"; next } { print }' $tmp/job > $tmp/final.job
_r=$(tail -n 1 $tmp/rounds | cut -d' ' -f1)
timeout "$FIO_TIMEOUT" fio --minimal --randseed=$((1000 + _r)) $tmp/final.job > $tmp/fio.out 2> $tmp/fio.err
frc=$?
fkb=$(awk -F';' '/^3;/ { s += $6 } END { printf "%.0f\n", s }' $tmp/fio.out)
ksft_check "after the storm, the last round's data reads back (verify-only, $((fkb / 1024)) MiB)" [ $frc = 0 -a "$fkb" -gt 0 ]

ksft_exit
