#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# reset_test.sh - device, target, bus and host resets (sg_reset -d/-t/-b/-H)
# while fio writes and verifies on LUN 0: the requests the reset finds in the
# host complete with DID_RESET and the midlayer retries them, fio's verify
# finds no mismatch, nothing hangs and no command times out. Every reset is
# reported by UNIT ATTENTION 29/xx once per logical unit it reset: checked
# with TEST UNIT READY through SG_IO on a logical unit no one else sends
# commands to (LUN 1 while fio runs on LUN 0; both when idle), where the
# midlayer cannot consume the unit attention first; a device reset gives it
# to its own LU only. The host's reset counter counts every bus-wide reset on
# every queue. How many requests a reset under load finds inside the host is
# a matter of timing, so that path is asserted with a read held in the
# miniport by a stalled descriptor: the device reset completes it with
# DID_RESET, the midlayer retries it, and it returns the right data.
#
# Runtime: about 75 s under QEMU TCG on two cores, 20 s of which are the
# midlayer's settle time after the bus and the host reset (10 s each). Every
# fio round and every sg_reset is bounded by "timeout".
. "$(dirname "$0")/lib.sh"

FIO_TIMEOUT=${FIO_TIMEOUT:-600}	# catches a hang; a slow machine needs its time

require_cmd fio awk sg_reset sg_raw
fio --enghelp 2>/dev/null | grep -qw libaio || ksft_skip_all "fio has no libaio engine"

tr_dir=/sys/kernel/tracing
[ -d $tr_dir/events ] || tr_dir=/sys/kernel/debug/tracing
tmp=/tmp/reset_test.$$
fresh_dmahba_test
fio_pid=""
test_cleanup() {
	[ -n "$fio_pid" ] && kill "$fio_pid" 2>/dev/null && wait "$fio_pid"
	if [ -e "$tr_dir"/events/dmahba/notification/enable ]; then
		echo 0 > "$tr_dir"/events/dmahba/notification/enable
		echo 0 > "$tr_dir"/events/dmahba/notification/filter
	fi
}
ksft_init

dmahba_up num_luns=2 nr_channels=2 max_window_kb=256
sd0=$sd
sg0=/dev/$(dmahba_sg 0)
sg1=/dev/$(dmahba_sg 1)
sdev0=/sys/block/$sd0/device
nq=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/' "$stats" | wc -l)
diag "LUN 0: $dev ($sg0), LUN 1: $sg1, host$h with $nq queue(s)"

# tur SG: "EXIT KEY ASC ASCQ" of a TEST UNIT READY through SG_IO
tur() {
	timeout 30 sg_raw -v "$1" 00 00 00 00 00 00 > $tmp/tur 2>&1
	_rc=$?
	_s=$(sense $tmp/tur)
	echo "$_rc ${_s:--}"
}
# ua_once SG: UNIT ATTENTION 29/xx, then GOOD
ua_once() {
	_t1=$(tur "$1")
	_t2=$(tur "$1")
	case "$_t1" in
	"6 6 29 "*) ;;
	*) diag "$1: first TEST UNIT READY: '$_t1', want '6 6 29 xx'"; return 1 ;;
	esac
	[ "$_t2" = "0 -" ] || { diag "$1: second TEST UNIT READY: '$_t2', want GOOD"; return 1; }
}
# no_ua SG: GOOD at once
no_ua() {
	_t1=$(tur "$1")
	[ "$_t1" = "0 -" ] || { diag "$1: TEST UNIT READY: '$_t1', want GOOD"; return 1; }
}
do_reset() {	# FLAG SG
	timeout 60 sg_reset "$1" "$2" >/dev/null 2>&1
}

# commands the reset finds in the host complete with DID_RESET: count the
# notifications with that result (0x00080000)
tr_ok=0
if [ -e $tr_dir/events/dmahba/notification/enable ] &&
   echo 'result == 524288' > $tr_dir/events/dmahba/notification/filter; then
	echo 0 > $tr_dir/tracing_on
	echo > $tr_dir/trace
	echo 1 > $tr_dir/events/dmahba/notification/enable
	echo 1 > $tr_dir/tracing_on
	tr_ok=1
fi

# --- the UA is clean to begin with (the scan consumed the power-on one)
tur "$sg0" >/dev/null
tur "$sg1" >/dev/null

ncpu=$(grep -c '^processor' /proc/cpuinfo)
pin=""
[ "$ncpu" -ge 2 ] && pin="cpus_allowed=0-1
cpus_allowed_policy=split"
# job ROUND: fio's write + verify on LUN 0, its own data in each round
job() {
	cat <<EOF
[global]
filename=$dev
direct=1
ioengine=libaio
iodepth=16
verify=crc32c
verify_fatal=1
randseed=$((1000 + $1))
group_reporting=1
[reset]
rw=randwrite
bssplit=4k/30:64k/30:256k/20:1m/20
numjobs=2
$pin
size=16m
offset=0
offset_increment=16m
EOF
}

io0=$(cat "$sdev0"/ioerr_cnt)
tmo0=$(cat "$sdev0"/iotmo_cnt)
r0=$(stat_sum resets)
a0=$(stat_sum aborts)
busy_resets=0
nresets=0
bus_wide=0
round=0
fio_bad=0
fio_kb=0
ua_bad=""
# start_round: a fio round in the background, once its requests flow
start_round() {
	round=$((round + 1))
	job $round > $tmp/round.job
	_r0=$(stat_sum requests)
	timeout "$FIO_TIMEOUT" fio --minimal $tmp/round.job > $tmp/fio.out 2> $tmp/fio.err &
	fio_pid=$!
	_i=0
	while [ $_i -lt 200 ] && [ $(($(stat_sum requests) - _r0)) -lt 40 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}
# end_round: wait for the round and check it: exit 0, no job error
end_round() {
	wait $fio_pid
	_frc=$?
	fio_pid=""
	_fe=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' $tmp/fio.out)
	_kb=$(awk -F';' '/^3;/ { s += $6 } END { printf "%.0f\n", s }' $tmp/fio.out)
	fio_kb=$((fio_kb + _kb))
	if [ $_frc != 0 ] || [ "$_fe" != 0 ]; then
		diag "fio round $round: exit $_frc, $_fe job(s) with an error"
		head -5 $tmp/fio.err | sed 's/^/# /'
		fio_bad=$((fio_bad + 1))
	fi
}
t_start=$(now)
# Device and target resets 4 in a row, bus and host resets once; fio rounds
# (each with data of its own) follow one another so that every reset comes
# while fio has requests in flight, however fast the machine.
for step in -d:4 -t:4 -b:1 -H:1 -d:4 -t:4 -d:4 -t:4; do
	kind=${step%:*}
	n=${step#*:}
	s0=$(now)
	rrc=0
	for _j in $(seq "$n"); do
		# a round may end between this look and the reset: a new one
		# starts until one is seen running (3 tries)
		_t=0
		while [ $_t -lt 3 ] && { [ -z "$fio_pid" ] || ! kill -0 $fio_pid 2>/dev/null; }; do
			[ -n "$fio_pid" ] && end_round
			start_round
			_t=$((_t + 1))
		done
		kill -0 $fio_pid 2>/dev/null && busy_resets=$((busy_resets + 1))
		if [ "$kind" = -d ]; then
			do_reset "$kind" "$sg0" || rrc=$?	# LUN 0, under fio
		else
			do_reset "$kind" "$sg1" || rrc=$?	# the whole target/bus/host
			bus_wide=$((bus_wide + 1))
		fi
		nresets=$((nresets + 1))
		sleep 0.1
	done
	# LUN 1 is idle: it reports bus-wide resets once, none of LUN 0
	if [ "$kind" = -d ]; then
		no_ua "$sg1" || ua_bad="$ua_bad $kind"
	else
		ua_once "$sg1" || ua_bad="$ua_bad $kind"
	fi
	diag "$n x sg_reset $kind: exit $rrc, $(elapsed "$s0" "$(now)") s, fio round $round"
	[ $rrc = 0 ] || fio_bad=$((fio_bad + 1))
done
end_round
t_end=$(now)
io1=$(cat "$sdev0"/ioerr_cnt)
tmo1=$(cat "$sdev0"/iotmo_cnt)
r1=$(stat_sum resets)
a1=$(stat_sum aborts)
diag "$nresets resets in $(elapsed "$t_start" "$t_end") s during $round fio rounds ($((fio_kb / 1024)) MiB verified), $busy_resets with fio running; LUN 0: $((io1 - io0)) commands completed with an error status and were retried, $((tmo1 - tmo0)) timeouts"
ksft_check "every sg_reset succeeded and every fio round verified with no mismatch" [ $fio_bad = 0 ]
# (a fio round can still end in the moment between the look and the reset:
# on a slow kernel that happened to 1 of 26; most must find fio running)
ksft_check "resets came while fio ran ($busy_resets of $nresets, at least 3/4)" [ $((busy_resets * 4)) -ge $((nresets * 3)) ]
ksft_check "UNIT ATTENTION 29/xx once on the idle LU after bus-wide resets, none after device resets of the other${ua_bad:+ (wrong after$ua_bad)}" [ -z "$ua_bad" ]
ksft_check "no command timed out or was aborted" [ $((tmo1 - tmo0)) = 0 -a $((a1 - a0)) = 0 ]
ksft_check "LUN 0's interrupted commands came back with an error status (and were retried)" [ $((io1 - io0)) -gt 0 ]
ksft_check "each target/bus/host reset counted once per queue ($((r1 - r0)) = $bus_wide x $nq)" [ $((r1 - r0)) -eq $((bus_wide * nq)) ]
if [ $tr_ok = 1 ]; then
	# how many requests a reset finds inside the host depends on timing:
	# reported here, asserted below with a request held there by a stall
	nreset=$(grep -c 'request_complete result=0x80000' $tr_dir/trace)
	diag "$nreset request(s) the resets found in the host completed with DID_RESET"
fi

# --- idle: a device reset is reported to its LU only, once. A reset near
# the end of the load phase may have left a unit attention no command has
# collected yet: collect it first (TEST UNIT READY until GOOD).
for _sg in "$sg0" "$sg1"; do
	for _i in 1 2 3; do [ "$(tur "$_sg")" = "0 -" ] && break; done
done
do_reset -d "$sg1"
ksft_check "idle device reset of LUN 1: LUN 0 has no unit attention" no_ua "$sg0"
ksft_check "idle device reset of LUN 1: UNIT ATTENTION 29/xx once on LUN 1" ua_once "$sg1"
# --- idle: a target reset is reported once to every LU
do_reset -t "$sg0"
ksft_check "idle target reset: UNIT ATTENTION 29/xx once on LUN 0" ua_once "$sg0"
ksft_check "idle target reset: UNIT ATTENTION 29/xx once on LUN 1" ua_once "$sg1"

# --- a device reset finds a request in the miniport: LUN 0's read is held
# there by a stalled descriptor (softdma's stall_nth on every channel of the
# host; only the one the read lands on sees a descriptor). The reset must
# complete it with DID_RESET (traced), the midlayer retries it, the read
# returns the right data long before the command's timeout, and nothing times
# out or is aborted.
SDBG=/sys/kernel/debug/softdma
chans=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $2 }' "$stats")
knob_all() { for _c in $chans; do echo "$2" > $SDBG/"$_c"/"$1"; done; }
stalled_sum() {
	_s=0
	for _c in $chans; do _s=$((_s + $(cat $SDBG/"$_c"/stalled))); done
	echo $_s
}
SN="a device reset of a request held in the miniport"
if [ $tr_ok != 1 ]; then
	ksft_skip "$SN completes it with DID_RESET" "no dmahba tracepoints in tracefs"
elif [ -z "$chans" ] || [ ! -f "$SDBG/$(echo "$chans" | head -n1)/stall_nth" ]; then
	ksft_skip "$SN completes it with DID_RESET" "no softdma stall_nth in debugfs"
else
	LBA_S=$((64 * 2048))		# 64 MiB, out of fio's range
	dd if=/dev/urandom of=$tmp/spat bs=64k count=1 2>/dev/null
	dd if=$tmp/spat of="$dev" bs=64k seek=$((LBA_S / 128)) count=1 oflag=direct conv=notrunc 2>/dev/null
	for _i in 1 2 3; do [ "$(tur "$sg0")" = "0 -" ] && break; done
	echo 0 > $tr_dir/tracing_on
	echo > $tr_dir/trace
	echo 1 > $tr_dir/tracing_on
	tmo0=$(cat "$sdev0"/iotmo_cnt)
	a0=$(stat_sum aborts)
	knob_all stall_nth 1
	s0=$(now)
	timeout 60 dd if="$dev" of=$tmp/sgot bs=64k skip=$((LBA_S / 128)) count=1 iflag=direct 2>/dev/null &
	dd_pid=$!
	_i=0
	while [ $_i -lt 600 ] && [ "$(stalled_sum)" = 0 ] && kill -0 $dd_pid 2>/dev/null; do
		sleep 0.05
		_i=$((_i + 1))
	done
	held=$(stalled_sum)
	do_reset -d "$sg0"
	rrc=$?
	wait $dd_pid
	drc=$?
	s1=$(now)
	knob_all stall_nth 0
	nreset=$(grep -c 'request_complete result=0x80000' $tr_dir/trace)
	tmo1=$(cat "$sdev0"/iotmo_cnt)
	a1=$(stat_sum aborts)
	diag "stalled read held: $held; sg_reset -d exit $rrc; read exit $drc after $(elapsed "$s0" "$s1") s; $nreset DID_RESET completion(s), $((tmo1 - tmo0)) timeout(s), $((a1 - a0)) abort(s)"
	ksft_check "$SN completes it with DID_RESET" \
		[ "$held" -ge 1 -a $rrc = 0 -a "$nreset" -ge 1 ]
	ksft_check "$SN: retried, it returns the right data with no timeout or abort" \
		sh -c "[ $drc = 0 ] && [ $((tmo1 - tmo0)) = 0 ] && [ $((a1 - a0)) = 0 ] && cmp -s $tmp/sgot $tmp/spat"
	for _i in 1 2 3; do [ "$(tur "$sg0")" = "0 -" ] && break; done
	for _i in 1 2 3; do [ "$(tur "$sg1")" = "0 -" ] && break; done
fi
echo 0 > $tr_dir/events/dmahba/notification/enable 2>/dev/null
echo 0 > $tr_dir/events/dmahba/notification/filter 2>/dev/null

# --- what the last round wrote reads back after all the resets
awk 'NR == 1 { print; print "verify_only=1"; next } { print }' $tmp/round.job > $tmp/final.job
timeout "$FIO_TIMEOUT" fio --minimal $tmp/final.job > $tmp/fio.out 2> $tmp/fio.err
frc=$?
fkb=$(awk -F';' '/^3;/ { s += $6 } END { printf "%.0f\n", s }' $tmp/fio.out)
diag "final verify-only: exit $frc, $((fkb / 1024)) MiB verified"
ksft_check "after the resets, the last round's data reads back (verify-only)" [ $frc = 0 -a "$fkb" -gt 0 ]

ksft_exit
