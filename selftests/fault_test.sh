#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fault_test.sh - DMA faults, injected with softdma's debugfs knobs, never
# cost data and never hang the host:
#  a) failed descriptors (fail_mode write and read). Through SG_IO, which the
#     midlayer never retries, a command whose window the fault hit ends with
#     CHECK CONDITION, ABORTED COMMAND, 4B/00 (DATA PHASE ERROR) and one it
#     missed succeeds; every acknowledged write reads back what was written
#     and every successful read returns the right data. Under fio (1 failure
#     per 1000 descriptors on each channel) every hit request is retried by
#     the midlayer and succeeds: fio verifies every block, and the number of
#     DMA errors the host counted is the number of faults softdma injected.
#  b) a stalled descriptor: the SCSI timeout (3 s) runs eh_abort_handler,
#     whose FlushDma cancels the window (tracefs: "flush_dma ... cancelled"
#     and no dma_started for that window afterwards); the command is retried
#     and returns the right data. A transfer slower than the timeout on every
#     attempt escalates: the second timeout of a command goes to the error
#     handler, which resets the device (BDR); with eh_deadline=0 it resets
#     the host. Either way the I/O completes afterwards with the right data.
#  c) a slow channel (bandwidth_kbps, latency_us): I/O is correct and takes
#     at least the time the speed model says.
# Every knob, the disk's timeout, the host's eh_deadline and the SCSI
# logging level are restored on exit.
#
# Runtime: about 65 s under QEMU TCG on two cores (the host reset alone
# sleeps 10 s in the midlayer); fio runs and waits are bounded with timeouts.
. "$(dirname "$0")/lib.sh"

FIO_TIMEOUT=${FIO_TIMEOUT:-600}	# catches a hang; a slow machine needs its time
TMO=3				# the disk's command timeout during the test, s
SLOW_US=6000000			# a descriptor slower than $TMO
DBG=/sys/kernel/debug/dmahba
SDBG=/sys/kernel/debug/softdma
LOGLVL=/proc/sys/dev/scsi/logging_level

require_cmd awk cmp taskset sg_raw dd

tr_dir=/sys/kernel/tracing
[ -d $tr_dir/events ] || tr_dir=/sys/kernel/debug/tracing

tmp=/tmp/fault_test.$$
fresh_dmahba_test
sd=""
h=""
old_tmo=""
old_dl=""
old_lvl=""
knobs_off() {
	for _c in "$SDBG"/dma*; do
		[ -d "$_c" ] || continue
		for _k in fail_nth fail_every stall_nth latency_us bandwidth_kbps; do
			echo 0 > "$_c/$_k"
		done
		echo read > "$_c/fail_mode"
	done
}
test_cleanup() {
	[ -d "$SDBG" ] && knobs_off
	[ -n "$old_lvl" ] && echo "$old_lvl" > "$LOGLVL"
	[ -n "$old_tmo" ] && [ -n "$sd" ] && echo "$old_tmo" > /sys/block/"$sd"/device/timeout 2>/dev/null
	[ -n "$old_dl" ] && [ -n "$h" ] && echo "$old_dl" > /sys/class/scsi_host/host"$h"/eh_deadline 2>/dev/null
	[ -e "$tr_dir"/events/dmahba/enable ] && echo 0 > "$tr_dir"/events/dmahba/enable
}
ksft_init

dmahba_up nr_channels=2 max_window_kb=64
sg=$(dmahba_sg)
sdev_dir=/sys/block/$sd/device
[ -d $SDBG ] || { ksft_skip_all "softdma's debugfs knobs are missing ($SDBG)"; }

# chans: the host's channels
chans() { awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $2 }' "$stats"; }
# chan_sum FILE: a softdma statistic summed over the host's channels
chan_sum() {
	_s=0
	for _c in $(chans); do _s=$((_s + $(cat $SDBG/"$_c"/"$1"))); done
	echo $_s
}
# knob_all KNOB VALUE: set a softdma knob on every channel of the host
knob_all() { for _c in $(chans); do echo "$2" > $SDBG/"$_c"/"$1"; done; }
# ge A B: A >= B, for decimals
ge() { echo "$1 $2" | awk '{ exit !($1 >= $2) }'; }

# Commands pinned to CPU 0 go to its hardware queue, i.e. to one channel.
cpu=0
q0=""
for _m in /sys/block/"$sd"/mq/*; do
	if tr ',' ' ' < "$_m"/cpu_list | grep -qw $cpu; then
		q0=$(basename "$_m")
		break
	fi
done
ch=$(awk -v q="$q0" 'NR > 1 && $1 == q { print $2 }' "$stats")
if [ -z "$ch" ] || [ ! -d $SDBG/"$ch" ]; then
	ksft_fail "find the channel of CPU $cpu's hardware queue"
	ksft_exit
fi
K=$SDBG/$ch
pin() { taskset -c $cpu "$@"; }
diag "$dev ($sg) on host$h; CPU $cpu -> hardware queue $q0 -> $ch"

# ===================================================== a) failed descriptors
BLKS=512			# 256 KiB per command: 4 windows of 64 KiB, 1+ descriptors each
NCMD=8
LBA0=65536			# 32 MiB into the disk
# sg_cmd OP I OUTFILE: command I of a run through SG_IO on CPU 0 (the CDB's
# bytes are separate arguments of sg_raw, hence $(cdb10 ...) unquoted)
sg_cmd() {
	_lba=$((LBA0 + $2 * BLKS))
	# shellcheck disable=SC2046 # the CDB's bytes
	if [ "$1" = w ]; then
		pin sg_raw -v -s $((BLKS * 512)) -i $tmp/pat."$2" /dev/"$sg" \
			$(cdb10 2a $_lba $BLKS) > "$3" 2>&1
	else
		pin sg_raw -v -r $((BLKS * 512)) -o $tmp/got."$2" /dev/"$sg" \
			$(cdb10 28 $_lba $BLKS) > "$3" 2>&1
	fi
}
# fault_run MODE OP: NCMD commands, a fault armed before every other one at
# a different depth (the 1st to the 4th descriptor of the command: there are
# at least 4); a hit must be visible, a miss must succeed
fault_run() {
	_mode=$1
	_op=$2
	_hits=0
	_bad=0
	echo "$_mode" > "$K"/fail_mode
	for _i in $(seq 0 $((NCMD - 1))); do
		_nth=0
		[ $((_i % 2)) = 0 ] && _nth=$((1 + _i / 2))
		echo $_nth > "$K"/fail_nth
		sg_cmd "$_op" "$_i" $tmp/sg."$_i"
		_rc=$?
		_left=$(cat "$K"/fail_nth)
		echo 0 > "$K"/fail_nth
		if [ "$_nth" != 0 ] && [ "$_left" = 0 ]; then
			_hits=$((_hits + 1))
			_s=$(sense $tmp/sg."$_i")
			if [ "$_rc" != 11 ] || [ "$_s" != "b 4b 00" ]; then
				diag "$_op command $_i: fault hit, exit $_rc, sense '$_s' (want 11, 'b 4b 00')"
				_bad=$((_bad + 1))
			fi
			rm -f $tmp/good."$_i"
		elif [ "$_rc" != 0 ]; then
			diag "$_op command $_i: no fault, exit $_rc"
			_bad=$((_bad + 1))
		else
			: > $tmp/good."$_i"
		fi
	done
	run_hits=$_hits
	return $_bad
}
# readback_ok: every range whose write succeeded reads back what was written
readback_ok() {
	_bad=0
	for _i in $(seq 0 $((NCMD - 1))); do
		[ -e "$tmp"/good."$_i" ] || continue
		dd if="$dev" of="$tmp"/back bs=$((BLKS * 512)) skip=$((LBA0 / BLKS + _i)) \
			count=1 iflag=direct 2>/dev/null
		cmp -s "$tmp"/back "$tmp"/pat."$_i" || { diag "range $_i reads back wrong"; _bad=$((_bad + 1)); }
	done
	return "$_bad"
}

for _i in $(seq 0 $((NCMD - 1))); do
	dd if=/dev/urandom of=$tmp/pat."$_i" bs=$((BLKS * 512)) count=1 2>/dev/null
done
sync
e0=$(stat_sum dma_errors)
f0=$(chan_sum failed)
fault_run write w
rc=$?
ksft_check "SG_IO WRITE: a failed descriptor gives ABORTED COMMAND 4B/00, a miss succeeds ($run_hits hits)" \
	[ $rc = 0 -a $run_hits -ge $((NCMD / 2 - 1)) ]
ksft_check "SG_IO WRITE: every acknowledged write reads back what was written" readback_ok
# now the medium holds every pattern; read it with faults
for _i in $(seq 0 $((NCMD - 1))); do
	dd if=$tmp/pat."$_i" of="$dev" bs=$((BLKS * 512)) seek=$((LBA0 / BLKS + _i)) \
		count=1 oflag=direct conv=notrunc 2>/dev/null
done
fault_run read r
rc=$?
good=0
wrong=0
for _i in $(seq 0 $((NCMD - 1))); do
	[ -e $tmp/good."$_i" ] || continue
	good=$((good + 1))
	cmp -s $tmp/got."$_i" $tmp/pat."$_i" || wrong=$((wrong + 1))
done
ksft_check "SG_IO READ: a failed descriptor gives ABORTED COMMAND 4B/00, a miss succeeds ($run_hits hits)" \
	[ $rc = 0 -a $run_hits -ge $((NCMD / 2 - 1)) ]
ksft_check "SG_IO READ: every successful read returned the right data ($good reads, $wrong wrong)" \
	[ $wrong = 0 -a $good -gt 0 ]
e1=$(stat_sum dma_errors)
f1=$(chan_sum failed)
diag "SG_IO: softdma failed $((f1 - f0)) descriptors, dmahba counted $((e1 - e0)) DMA errors"
ksft_check "every injected failure is a DMA error of the host" [ $((e1 - e0)) -eq $((f1 - f0)) -a $((f1 - f0)) -gt 0 ]

# --- under fio: 1 failure per EVERY descriptors, write then read mode. A
# 64 KiB store run is one descriptor, so a verify-only pass over the 48 MiB
# makes only about 800: the read mode reads it three times. EVERY stays well
# above the descriptors of one attempt of a command (up to 256 for 1 MiB in
# single pages), or a command could fail on every retry.
EVERY=1000
if command -v fio >/dev/null 2>&1; then
	cat > $tmp/fio.job <<EOF
[global]
filename=$dev
direct=1
ioengine=libaio
verify=crc32c
verify_fatal=1
group_reporting=1
[faults]
rw=randwrite
iodepth=16
bssplit=4k/20:64k/30:256k/20:1m/30
numjobs=2
size=24m
offset=128m
offset_increment=32m
EOF
	awk 'NR == 1 { print; print "verify_only=1"; next } { print }' $tmp/fio.job > $tmp/fio.vo
	awk 'NR == 1 { print; print "loops=3"; next } { print }' $tmp/fio.vo > $tmp/fio.vo3
	# run_fio NAME JOB: bounded; 0 if fio and all its jobs succeeded
	run_fio() {
		timeout "$FIO_TIMEOUT" fio --minimal "$2" > $tmp/"$1".out 2> $tmp/"$1".err
		_rc=$?
		_e=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' $tmp/"$1".out)
		fio_kb=$(awk -F';' '/^3;/ { s += $6 } END { printf "%.0f\n", s }' $tmp/"$1".out)
		if [ $_rc != 0 ] || [ "$_e" != 0 ]; then
			diag "fio $1: exit $_rc"
			head -10 $tmp/"$1".err | sed 's/^/# /'
			return 1
		fi
	}
	for mode in write read; do
		e0=$(stat_sum dma_errors)
		f0=$(chan_sum failed)
		io0=$(cat "$sdev_dir"/ioerr_cnt)
		knob_all fail_mode $mode
		knob_all fail_every $EVERY
		t0=$(now)
		if [ $mode = write ]; then
			run_fio faults_$mode $tmp/fio.job	# write, then verify
		else
			run_fio faults_$mode $tmp/fio.vo3	# verify only, 3 times
		fi
		rc=$?
		t1=$(now)
		knob_all fail_every 0
		e1=$(stat_sum dma_errors)
		f1=$(chan_sum failed)
		io1=$(cat "$sdev_dir"/ioerr_cnt)
		diag "fio, fail_mode=$mode fail_every=$EVERY: $((f1 - f0)) faults, $((e1 - e0)) DMA errors, $((io1 - io0)) commands failed and were retried, $((fio_kb / 1024)) MiB verified in $(elapsed "$t0" "$t1") s"
		ksft_check "fio with fail_mode=$mode 1/$EVERY: every hit request retried, zero mismatches" [ $rc = 0 ]
		ksft_check "fio with fail_mode=$mode 1/$EVERY: faults happened and each is a DMA error" \
			[ $((f1 - f0)) -gt 0 -a $((e1 - e0)) -eq $((f1 - f0)) ]
		ksft_check "fio with fail_mode=$mode 1/$EVERY: the midlayer saw the failed commands" \
			[ $((io1 - io0)) -ge $((f1 - f0)) ]
	done
	ksft_check "without faults, every acknowledged block reads back (verify-only)" run_fio clean $tmp/fio.vo
else
	ksft_skip "fio with fail_every=$EVERY" "fio not found"
fi

# ===================================================== b) stalls, timeouts
old_tmo=$(cat "$sdev_dir"/timeout)
echo $TMO > "$sdev_dir"/timeout
tr_ok=0
if [ -e $tr_dir/events/dmahba/enable ]; then
	echo 0 > $tr_dir/tracing_on
	echo > $tr_dir/trace
	echo 1 > $tr_dir/events/dmahba/enable
	echo 1 > $tr_dir/tracing_on
	tr_ok=1
fi
LBA_S=$((96 * 2048))		# 96 MiB
dd if=/dev/urandom of=$tmp/spat bs=64k count=1 2>/dev/null
dd if=$tmp/spat of="$dev" bs=64k seek=$((LBA_S / 128)) count=1 oflag=direct conv=notrunc 2>/dev/null

# the cancel checks of the trace: for every cancelled window, no dma_started
# for its tag before that tag maps a new window; prints "CANCELS BAD RETRIED"
trace_check() {
	awk '{
		ev = ""; tag = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^(io_map_transfer|dma_started|flush_dma|notification):$/)
				ev = substr($i, 1, length($i) - 1)
			else if ($i ~ /^tag=/)
				tag = substr($i, 5)
		}
		if (ev == "") next
		if (ev == "flush_dma" && / cancelled /) { c[tag] = 1; was[tag] = 1; nc++; next }
		if (ev == "io_map_transfer") { c[tag] = 0; next }
		if (ev == "dma_started" && c[tag]) bad++
		if (ev == "flush_dma" && / completed / && was[tag]) { was[tag] = 0; ok++ }
	} END { print nc + 0, bad + 0, ok + 0 }' $tr_dir/trace
}

# stall OP: a command on CPU 0 whose first descriptor stalls
for op in read write; do
	a0=$(stat_sum aborts)
	c0=$(stat_sum cancels)
	t0=$(cat "$sdev_dir"/iotmo_cnt)
	echo 1 > "$K"/stall_nth
	s0=$(now)
	if [ $op = read ]; then
		pin timeout 60 dd if="$dev" of=$tmp/sgot bs=64k skip=$((LBA_S / 128)) count=1 iflag=direct 2>/dev/null
	else
		pin timeout 60 dd if=$tmp/spat of="$dev" bs=64k seek=$((LBA_S / 128)) count=1 oflag=direct conv=notrunc 2>/dev/null
	fi
	rc=$?
	s1=$(now)
	left=$(cat "$K"/stall_nth)
	echo 0 > "$K"/stall_nth
	[ $op = write ] && dd if="$dev" of=$tmp/sgot bs=64k skip=$((LBA_S / 128)) count=1 iflag=direct 2>/dev/null
	a1=$(stat_sum aborts)
	c1=$(stat_sum cancels)
	t1=$(cat "$sdev_dir"/iotmo_cnt)
	diag "stalled $op: done in $(elapsed "$s0" "$s1") s, $((t1 - t0)) timeout(s), $((a1 - a0)) abort(s), $((c1 - c0)) cancel(s)"
	ksft_check "stalled $op: the stall fired, the command timed out and eh_abort_handler ran" \
		[ "$left" = 0 -a $((t1 - t0)) -ge 1 -a $((a1 - a0)) -ge 1 -a $((c1 - c0)) -ge 1 ]
	ksft_check "stalled $op: retried after the abort, it succeeds with the right data" \
		sh -c "[ $rc = 0 ] && cmp -s $tmp/sgot $tmp/spat"
	ksft_check "stalled $op: it took at least the ${TMO} s timeout" ge "$(elapsed "$s0" "$s1")" $TMO
done
if [ $tr_ok = 1 ]; then
	# shellcheck disable=SC2046 # three counts
	set -- $(trace_check)
	diag "trace: $1 cancelled window(s), $2 dma_started after a cancel, $3 retried and completed"
	ksft_check "trace: the aborted windows show flush_dma ... cancelled" [ "$1" -ge 2 ]
	ksft_check "trace: no dma_started for a cancelled window" [ "$2" = 0 ]
	ksft_check "trace: each aborted request was retried to a completed window" [ "$3" -ge 2 ]
	echo 0 > $tr_dir/events/dmahba/enable
else
	ksft_skip "trace: the aborted windows show flush_dma ... cancelled" "no dmahba tracepoints in tracefs"
fi
# --- cancel before DmaStarted: debugfs dma_started_hold_ms holds back the
# DmaStarted of the next window for longer than the timeout (a slow grant of
# the system DMA controller). The command times out, eh_abort cancels the
# window through FlushDma before DmaStarted, the held DmaStarted is never
# delivered (per tag: one dma_started per window mapped, minus the windows
# cancelled before theirs), and the retry reads the right data.
HOLD_MS=6000
hold=$DBG/host$h/dma_started_hold_ms
CN="cancel before DmaStarted"
if [ $tr_ok != 1 ] || [ ! -f "$hold" ]; then
	ksft_skip "$CN" "no dmahba tracepoints or no dma_started_hold_ms in debugfs"
else
	echo 0 > $tr_dir/tracing_on
	echo > $tr_dir/trace
	echo 1 > $tr_dir/events/dmahba/enable
	echo 1 > $tr_dir/tracing_on
	a0=$(stat_sum aborts)
	t0=$(cat "$sdev_dir"/iotmo_cnt)
	echo $HOLD_MS > "$hold"
	s0=$(now)
	pin timeout 60 dd if="$dev" of=$tmp/hgot bs=64k skip=$((LBA_S / 128)) count=1 iflag=direct 2>/dev/null
	rc=$?
	left=$(cat "$hold")
	echo 0 > "$hold"
	# until the held DmaStarted is past due, so that it would show
	while ! ge "$(elapsed "$s0" "$(now)")" $((HOLD_MS / 1000 + 1)); do sleep 0.2; done
	a1=$(stat_sum aborts)
	t1=$(cat "$sdev_dir"/iotmo_cnt)
	# "EARLY MAPPED STARTED": windows cancelled before their DmaStarted,
	# windows mapped, DmaStarted delivered
	# shellcheck disable=SC2046 # counts
	set -- $(awk '{
		ev = ""; tag = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^(io_map_transfer|dma_started|flush_dma):$/)
				ev = substr($i, 1, length($i) - 1)
			else if ($i ~ /^tag=/)
				tag = substr($i, 5)
		}
		if (ev == "io_map_transfer") { st[tag] = 0; nm++ }
		else if (ev == "dma_started") { st[tag] = 1; ns++ }
		else if (ev == "flush_dma" && / cancelled / && !st[tag]) early++
	} END { print early + 0, nm + 0, ns + 0 }' $tr_dir/trace)
	echo 0 > $tr_dir/events/dmahba/enable
	diag "$CN: hold left $left, $((t1 - t0)) timeout(s), $((a1 - a0)) abort(s); trace: $1 window(s) cancelled before DmaStarted, $2 mapped, $3 DmaStarted"
	ksft_check "$CN: the hold was taken, the command timed out and eh_abort ran" \
		[ "$left" = 0 -a $((t1 - t0)) -ge 1 -a $((a1 - a0)) -ge 1 ]
	ksft_check "$CN: flush_dma cancelled a window no dma_started had armed" [ "$1" -ge 1 ]
	ksft_check "$CN: the held DmaStarted was never delivered ($3 = $2 - $1)" [ "$3" -eq $(($2 - $1)) ]
	ksft_check "$CN: retried after the abort, the read returns the right data" \
		sh -c "[ $rc = 0 ] && cmp -s $tmp/hgot $tmp/spat"
fi

# escalate NAME: a read on CPU 0 whose transfer outlives every timeout until
# the error handler has done NAME (bdr, hrst); then the channel is made fast
# again and the read must complete with the right data.
escalate() {
	_what=$1
	_mark="fault_test-$$-$_what"
	echo "$_mark" > /dev/kmsg
	echo 0 > $tr_dir/tracing_on 2>/dev/null
	echo > $tr_dir/trace 2>/dev/null
	[ -e $tr_dir/events/dmahba/io_map_transfer/enable ] &&
		echo 1 > $tr_dir/events/dmahba/io_map_transfer/enable
	echo 1 > $tr_dir/tracing_on 2>/dev/null
	_a0=$(stat_sum aborts)
	_r0=$(stat_sum resets)
	echo $SLOW_US > "$K"/latency_us
	_s0=$(now)
	pin timeout 120 dd if="$dev" of=$tmp/egot bs=64k skip=$((LBA_S / 128)) count=1 \
		iflag=direct 2>/dev/null &
	_pid=$!
	_i=0
	while [ $_i -lt 400 ]; do		# at most 40 s
		if [ "$_what" = hrst ]; then
			# the host reset counts before the midlayer's 10 s settle
			[ "$(stat_sum resets)" -gt "$_r0" ] && break
		else
			# the first timeout was aborted and the retry's window
			# started with the slow latency: its timeout escalates
			# (with SCSI logging: until the BDR is sent; the
			# latency applies to descriptors the engine starts)
			if [ -n "$old_lvl" ]; then
				dmesg | sed -n "/$_mark/,\$p" | grep -q 'Sending BDR' && break
			elif [ "$(stat_sum aborts)" -gt "$_a0" ] &&
			     [ "$(grep -c 'io_map_transfer:' $tr_dir/trace)" -ge 2 ]; then
				sleep 1
				break
			fi
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	echo 0 > "$K"/latency_us
	wait $_pid
	_rc=$?
	_s1=$(now)
	echo 0 > $tr_dir/events/dmahba/io_map_transfer/enable 2>/dev/null
	dmesg | sed -n "/$_mark/,\$p" > $tmp/klog."$_what"
	esc_rc=$_rc
	esc_time=$(elapsed "$_s0" "$_s1")
	esc_aborts=$(($(stat_sum aborts) - _a0))
	esc_resets=$(($(stat_sum resets) - _r0))
}

old_lvl=$(cat $LOGLVL 2>/dev/null)
if [ -n "$old_lvl" ]; then
	# error recovery messages (SCSI_LOG_ERROR_RECOVERY level 3)
	echo $(((old_lvl & ~7) | 4)) > $LOGLVL
fi

# --- a second timeout of a command is not aborted again: device reset
escalate bdr
diag "device reset escalation: done in $esc_time s, exit $esc_rc, $esc_aborts abort(s); $(grep -c 'Sending BDR' $tmp/klog.bdr) BDR, $(grep -c 'previous abort failed' $tmp/klog.bdr) escalation(s)"
if [ -n "$old_lvl" ]; then
	ksft_check "a retried command timing out again escalates to a device reset (BDR)" \
		grep -q 'Sending BDR' $tmp/klog.bdr
else
	ksft_skip "a retried command timing out again escalates to a device reset (BDR)" "no SCSI logging"
fi
ksft_check "after the device reset, the read completes with the right data" \
	sh -c "[ $esc_rc = 0 ] && cmp -s $tmp/egot $tmp/spat"

# --- past eh_deadline, the error handler goes straight to a host reset
old_dl=$(cat /sys/class/scsi_host/host"$h"/eh_deadline)
if echo 0 > /sys/class/scsi_host/host"$h"/eh_deadline; then
	escalate hrst
	echo "$old_dl" > /sys/class/scsi_host/host"$h"/eh_deadline
	diag "host reset escalation: done in $esc_time s, exit $esc_rc, $esc_resets reset(s) counted per queue, $esc_aborts abort(s)"
	ksft_check "with eh_deadline=0 a timeout escalates to a host reset" [ $esc_resets -ge 1 ]
	ksft_check "after the host reset, the read completes with the right data" \
		sh -c "[ $esc_rc = 0 ] && cmp -s $tmp/egot $tmp/spat"
else
	ksft_skip "with eh_deadline=0 a timeout escalates to a host reset" "eh_deadline not writable"
fi
[ -n "$old_lvl" ] && echo "$old_lvl" > $LOGLVL
old_lvl=""

# the host serves I/O normally afterwards
dd if=/dev/urandom of=$tmp/after bs=1M count=4 2>/dev/null
dd if=$tmp/after of="$dev" bs=1M seek=200 count=4 oflag=direct conv=notrunc 2>/dev/null &&
	dd if="$dev" of=$tmp/after2 bs=1M skip=200 count=4 iflag=direct 2>/dev/null
ksft_check "after the faults and resets, 4 MiB write + read back are right" cmp -s $tmp/after $tmp/after2

# ===================================================== c) a slow channel
# The disk keeps its ${TMO} s timeout: a slow channel must not cause a
# single SCSI timeout (a transfer that stops making progress would).
tmo0=$(cat "$sdev_dir"/iotmo_cnt)
dd if=/dev/urandom of=$tmp/bw bs=1M count=2 2>/dev/null
s0=$(now)
pin dd if=$tmp/bw of="$dev" bs=256k seek=$((300 * 4)) count=8 oflag=direct conv=notrunc 2>/dev/null
s1=$(now)
diag "2 MiB unthrottled (write): $(elapsed "$s0" "$s1") s"
# bw_read KBPS: read the 2 MiB back on CPU 0 at KBPS; sets rc and took
bw_read() {
	knob_all bandwidth_kbps "$1"
	rm -f $tmp/bw2
	_t0=$(now)
	pin timeout 90 dd if="$dev" of=$tmp/bw2 bs=256k skip=$((300 * 4)) count=8 iflag=direct 2>/dev/null
	rc=$?
	took=$(elapsed "$_t0" "$(now)")
	knob_all bandwidth_kbps 0
}
BW=2000				# kB/s: about 1 s for 2 MiB
t0=$(cat "$sdev_dir"/iotmo_cnt)
bw_read $BW
t1=$(cat "$sdev_dir"/iotmo_cnt)
min=$(echo "2097152 $BW" | awk '{ printf "%.2f", $1 / ($2 * 1000) * 0.9 }')
diag "2 MiB at $BW kB/s (read): $took s (the model says >= $min s), $((t1 - t0)) SCSI timeout(s)"
ksft_check "bandwidth_kbps=$BW: the data is right" sh -c "[ $rc = 0 ] && cmp -s $tmp/bw $tmp/bw2"
ksft_check "bandwidth_kbps=$BW: 2 MiB take at least $min s" ge "$took" "$min"
ksft_check "bandwidth_kbps=$BW: no SCSI timeout" [ $((t1 - t0)) = 0 ]
# A limit whose pacing interval (0.1 ms per 4 KiB descriptor) is shorter
# than a copy under emulation: the engine's deadline has usually passed by
# the time it would sleep. Before softdma_engine() skipped the sleep for a
# deadline already past, it slept with a negative relative hrtimer
# (KTIME_SEC_MAX) until the SCSI timeout's abort terminated the channel.
BW2=40000
t0=$(cat "$sdev_dir"/iotmo_cnt)
bw_read $BW2
t1=$(cat "$sdev_dir"/iotmo_cnt)
diag "2 MiB at $BW2 kB/s (read): $took s, $((t1 - t0)) SCSI timeout(s)"
ksft_check "bandwidth_kbps=$BW2: the data is right" sh -c "[ $rc = 0 ] && cmp -s $tmp/bw $tmp/bw2"
if [ $((t1 - t0)) = 0 ]; then
	ksft_pass "bandwidth_kbps=$BW2: no SCSI timeout (the engine never oversleeps a past deadline)"
else
	diag "the channel stopped until the SCSI timeout: softdma_engine() slept with a negative relative hrtimer (KTIME_SEC_MAX)"
	ksft_fail "bandwidth_kbps=$BW2: no SCSI timeout (the engine never oversleeps a past deadline)"
fi

LAT=100000			# us per descriptor
N=10
knob_all latency_us $LAT
s0=$(now)
pin dd if="$dev" of=$tmp/lat bs=4k skip=$((300 * 256)) count=$N iflag=direct 2>/dev/null
rc=$?
s1=$(now)
knob_all latency_us 0
head -c $((N * 4096)) $tmp/bw > $tmp/lat_want
min=$(echo "$N $LAT" | awk '{ printf "%.2f", $1 * $2 / 1000000 - 0.02 }')	# uptime: 10 ms steps
diag "$N reads of 4 KiB at latency_us=$LAT: $(elapsed "$s0" "$s1") s (>= $min s)"
ksft_check "latency_us=$LAT: the data is right" sh -c "[ $rc = 0 ] && cmp -s $tmp/lat $tmp/lat_want"
ksft_check "latency_us=$LAT: $N reads take at least $min s" ge "$(elapsed "$s0" "$s1")" "$min"
tmo1=$(cat "$sdev_dir"/iotmo_cnt)
ksft_check "the slow channel caused no SCSI timeout at all" [ $((tmo1 - tmo0)) = 0 ]

echo "$old_tmo" > "$sdev_dir"/timeout
old_tmo=""
knobs_off
ksft_exit
