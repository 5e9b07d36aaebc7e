#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# poll_test.sh - poll queues: dmahba with nr_channels=2 poll_queues=1 has a
# default and a poll hardware queue; the disk's io_poll reads 1; fio with
# io_uring --hipri=1 and with pvsync2 --hipri=1 writes and verifies (crc32c)
# through the poll queue, whose window ends are found by polling the channel
# (the "polled" counter of debugfs stats grows); the four stages of every
# polled request appear in order in the trace; a command of the poll queue
# that times out is aborted and retried with the right data; device and bus
# resets (sg_reset -d, -b) while polled I/O runs lose nothing; polled I/O
# verifies while cpu1 goes offline and online; the disk deleted under polled
# reads ends them at once, and a rescan brings it back with its poll queue
# and its data; dmahba unloads afterwards. poll_queues that leaves no default
# queue is refused.
#
# Runtime: about 90 s under QEMU TCG on two cores; every fio run is bounded
# by "timeout".
. "$(dirname "$0")/lib.sh"

FIO_TIMEOUT=${FIO_TIMEOUT:-300}
TMO=3			# the disk's command timeout for the abort check, s
HOLD_MS=6000		# DmaStarted held back longer than that
DBG=/sys/kernel/debug/dmahba

require_cmd fio awk sg_reset
fio --enghelp 2>/dev/null | grep -qw pvsync2 || ksft_skip_all "fio has no pvsync2 engine"
tr_dir=/sys/kernel/tracing
[ -d $tr_dir/events ] || tr_dir=/sys/kernel/debug/tracing

tmp=/tmp/poll_test.$$
fresh_dmahba_test
fio_pid=""
old_tmo=""
test_cleanup() {
	[ -n "$fio_pid" ] && kill "$fio_pid" 2>/dev/null && wait "$fio_pid"
	touch "$tmp/stop"
	[ -w "$cpu1" ] && echo 1 > "$cpu1" 2>/dev/null
	[ -e "$tr_dir/events/dmahba/enable" ] && echo 0 > "$tr_dir/events/dmahba/enable"
	[ -n "$old_tmo" ] && [ -n "${sd:-}" ] && echo "$old_tmo" > /sys/block/"$sd"/device/timeout 2>/dev/null
}
# io_uring usable (the kernel may have it disabled)?
if ! fio --enghelp 2>/dev/null | grep -qw io_uring ||
	! fio --name=probe --ioengine=io_uring --filename="$tmp"/probe --size=64k \
		--rw=write --bs=4k >/dev/null 2>&1; then
	ksft_skip_all "io_uring not usable (fio or kernel)"
fi
rm -f "$tmp"/probe
ksft_init

# poll_queues must leave a default queue
load_mod softdma || ksft_skip_all "cannot load softdma"
if insmod "$ko_dir/dmahba.ko" nr_channels=2 poll_queues=2 2>/dev/null; then
	ksft_fail "insmod dmahba nr_channels=2 poll_queues=2 is refused"
	rmmod dmahba
else
	ksft_pass "insmod dmahba nr_channels=2 poll_queues=2 is refused: $(dmesg | grep 'poll_queues=' | tail -1 | sed 's/^\[[^]]*\] //')"
fi

dmahba_up nr_channels=2 poll_queues=1
sg=/dev/$(dmahba_sg)
nq=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/' "$stats" | wc -l)
diag "$dev ($sg) on host$h, $nq queue(s)"
ksft_check "the host has 2 queues" [ "$nq" -eq 2 ]
ksft_check "io_poll reads 1" [ "$(cat /sys/block/"$sd"/queue/io_poll 2>/dev/null)" = 1 ]
wait_idle "$sd" || diag "$sd: requests still in flight after 10 s"

# qstat QUEUE FIELD: one queue's column of the stats
qstat() {
	awk -v q="$1" -v f="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 == q { print $(c[f]) }' "$stats"
}

# run_fio NAME [FIO-OPTIONS...]: bounded; 0 if fio exited 0 and no job erred
run_fio() {
	_n=$1
	shift
	timeout "$FIO_TIMEOUT" fio --minimal --name="$_n" --filename="$dev" \
		--direct=1 "$@" > "$tmp/$_n.out" 2> "$tmp/$_n.err"
	_rc=$?
	_errs=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' "$tmp/$_n.out")
	_rd=$(awk -F';' '/^3;/ { s += $6 } END { printf "%.0f\n", s }' "$tmp/$_n.out")
	diag "fio $_n: exit $_rc, $_errs job(s) with an error, read $((_rd / 1024)) MiB"
	if [ "$_rc" != 0 ] || [ "$_errs" != 0 ] || ! grep -q '^3;' "$tmp/$_n.out"; then
		head -10 "$tmp/$_n.err" | sed 's/^/# /'
		return 1
	fi
	return 0
}

VERIFY="--verify=crc32c --do_verify=1 --verify_fatal=1"

# --- io_uring, hipri
p0=$(qstat 1 polled)
# shellcheck disable=SC2086 # VERIFY is a list of options
ksft_check "fio io_uring --hipri=1: random writes of 4-128 KiB verified (crc32c)" \
	run_fio uring --ioengine=io_uring --hipri=1 --iodepth=16 \
	--rw=randwrite --bsrange=4k-128k --size=32m $VERIFY
p1=$(qstat 1 polled)
diag "windows found ended by polling: $((p1 - p0))"
ksft_check "io_uring hipri requests went to the poll queue and were polled" [ $((p1 - p0)) -gt 0 ]

# --- pvsync2, hipri (RWF_HIPRI). Synchronous I/O is polled only where the
# kernel polls it (6.1 ignores RWF_HIPRI for a single-bio synchronous
# O_DIRECT request, so it goes to the default queue): the data must verify.
p0=$(qstat 1 polled)
# shellcheck disable=SC2086
ksft_check "fio pvsync2 --hipri=1: writes of 64 KiB verified (crc32c)" \
	run_fio psync --ioengine=pvsync2 --hipri=1 --rw=write --bs=64k \
	--offset=64m --size=16m $VERIFY
p1=$(qstat 1 polled)
diag "pvsync2: windows found ended by polling: $((p1 - p0))"

# --- the four stages of the polled requests, in order
if [ -e "$tr_dir/events/dmahba/enable" ]; then
	echo > $tr_dir/trace
	echo 1 > "$tr_dir/events/dmahba/enable"
	run_fio trace --ioengine=io_uring --hipri=1 --iodepth=4 --rw=read \
		--bs=256k --offset=64m --size=4m >/dev/null
	echo 0 > "$tr_dir/events/dmahba/enable"
	# tags of hardware queue 1 (the poll queue) are 65536 to 131071
	# shellcheck disable=SC2046 # five numbers
	set -- $(awk '
	/ io_map_transfer: / { ev = "map" }
	/ dma_started: / { ev = "start" }
	/ flush_dma: / { ev = "flush" }
	/ notification: / { ev = "note" }
	!/ (io_map_transfer|dma_started|flush_dma|notification): / { next }
	{
		tag = -1
		for (i = 1; i <= NF; i++) if ($i ~ /^tag=/) tag = substr($i, 5) + 0
		if (tag < 65536 || tag >= 131072) next
		s = st[tag]
		if (ev == "map") { if (s == "mapped" || s == "started") bad++; st[tag] = "mapped"; maps++ }
		else if (ev == "start") { if (s != "mapped") bad++; st[tag] = "started"; starts++ }
		else if (ev == "flush" && / completed /) { if (s != "started") bad++; st[tag] = "flushed"; flushes++ }
		else if (ev == "note" && /type=request_complete/) { if (s != "flushed") bad++; st[tag] = ""; notes++ }
	} END { print maps + 0, starts + 0, flushes + 0, notes + 0, bad + 0 }' $tr_dir/trace)
	echo > $tr_dir/trace
	diag "poll queue trace: $1 io_map_transfer, $2 dma_started, $3 flush_dma completed, $4 request_complete, $5 out of order"
	ksft_check "poll queue: io_map_transfer < dma_started < flush_dma < notification for every request" \
		[ "$1" -ge 16 -a "$1" = "$2" -a "$2" = "$3" -a "$4" -ge 16 -a "$5" = 0 ]
else
	ksft_skip "poll queue: the four stages in order" "no dmahba tracepoints"
fi

# --- abort: a polled command whose DmaStarted is held past its timeout
PAT="--verify=pattern --verify_pattern=0x5a5aa5a5"
# shellcheck disable=SC2086
ksft_check "fio io_uring --hipri=1: a pattern written and verified" \
	run_fio pattern --ioengine=io_uring --hipri=1 --rw=write --bs=64k \
	--offset=80m --size=1m $PAT --do_verify=1
hold=$DBG/host$h/dma_started_hold_ms
old_tmo=$(cat /sys/block/"$sd"/device/timeout)
echo $TMO > /sys/block/"$sd"/device/timeout
a0=$(qstat 1 aborts)
echo $HOLD_MS > "$hold"
s0=$(now)
# shellcheck disable=SC2086
run_fio abort --ioengine=io_uring --hipri=1 --rw=write --bs=64k \
	--offset=80m --size=1m $PAT --verify_only=1
rc=$?
left=$(cat "$hold")
echo 0 > "$hold"
echo "$old_tmo" > /sys/block/"$sd"/device/timeout
old_tmo=""
a1=$(qstat 1 aborts)
diag "held DmaStarted: hold left $left, $((a1 - a0)) abort(s) on the poll queue, $(elapsed "$s0" "$(now)") s"
ksft_check "a polled command held past its timeout is aborted on the poll queue" \
	[ "$left" = 0 -a $((a1 - a0)) -ge 1 ]
ksft_check "after the abort, it is retried and its data verify" [ "$rc" = 0 ]
# until the held DmaStarted is past due
while ! awk -v a="$(elapsed "$s0" "$(now)")" -v b=$((HOLD_MS / 1000 + 1)) 'BEGIN { exit !(a >= b) }'; do
	sleep 0.2
done

# --- resets while polled I/O runs
# shellcheck disable=SC2086
timeout "$FIO_TIMEOUT" fio --minimal --name=reset --filename="$dev" --direct=1 \
	--ioengine=io_uring --hipri=1 --iodepth=8 --rw=randwrite --bsrange=4k-64k \
	--offset=96m --size=32m --time_based --runtime=8 --verify_backlog=64 \
	$VERIFY > "$tmp"/reset.out 2> "$tmp"/reset.err &
fio_pid=$!
r0=$(stat_sum resets)
sleep 2
running=0
kill -0 $fio_pid 2>/dev/null && running=1
timeout 60 sg_reset -d "$sg" >/dev/null 2>&1
rd=$?
sleep 1
timeout 60 sg_reset -b "$sg" >/dev/null 2>&1
rb=$?
wait $fio_pid
frc=$?
fio_pid=""
r1=$(stat_sum resets)
errs=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' "$tmp"/reset.out)
diag "resets during polled I/O: fio running at the reset $running, sg_reset -d exit $rd, -b exit $rb, fio exit $frc, $errs error(s), ResetDetected $((r1 - r0))"
ksft_check "sg_reset -d and -b succeed while polled I/O runs" \
	[ "$running" = 1 -a "$rd" = 0 -a "$rb" = 0 -a $((r1 - r0)) -ge 1 ]
ksft_check "the polled I/O around the resets verifies with no error" \
	sh -c "[ $frc = 0 ] && [ $errs = 0 ] && grep -q '^3;' $tmp/reset.out"

# --- cpu1 offline and online while polled I/O runs: blk-mq maps the poll
# queue to other CPUs and back; what is in flight must complete and verify
if [ ! -w "$cpu1" ]; then
	ksft_skip "polled I/O verifies while cpu1 goes offline and online" "cpu1 has no online file (no CPU hotplug or one CPU)"
else
	p0=$(qstat 1 polled)
	rm -f "$tmp/stop"
	toggle_cpu1 &
	tpid=$!
	# shellcheck disable=SC2086
	run_fio unplug --ioengine=io_uring --hipri=1 --iodepth=8 --numjobs=2 --rw=randwrite \
		--bsrange=4k-128k --offset=128m --size=32m --offset_increment=32m --loops=4 $VERIFY
	frc=$?
	touch "$tmp/stop"
	wait $tpid
	p1=$(qstat 1 polled)
	diag "cpu1 went offline and online $(cat "$tmp/toggles") times, $(cat "$tmp/bad") failed; windows found ended by polling: $((p1 - p0))"
	ksft_check "polled I/O verifies (crc32c) while cpu1 goes offline and online" [ "$frc" = 0 ]
	ksft_check "cpu1 went offline and online at least twice during it, every time, and is online" \
		[ "$(cat "$tmp/toggles")" -ge 2 -a "$(cat "$tmp/bad")" = 0 -a "$(cat "$cpu1")" = 1 ]
	ksft_check "requests were polled while cpu1 went offline and online" [ $((p1 - p0)) -gt 0 ]
fi

# --- the disk deleted under polled reads, then the host rescanned: the reads
# end at once (errors, no hang), and the disk comes back with its poll queue
# and with the data written before (the medium belongs to the host)
dd if=/dev/urandom of="$tmp/pat" bs=64k count=16 2>/dev/null
dd if="$tmp/pat" of="$dev" bs=64k seek=3200 conv=fsync 2>/dev/null
timeout "$FIO_TIMEOUT" fio --minimal --name=del --filename="$dev" --direct=1 --ioengine=io_uring \
	--hipri=1 --iodepth=16 --rw=randread --bs=4k --size=128m --time_based --runtime=60 \
	> "$tmp/del.out" 2>&1 &
fio_pid=$!
sleep 2
if delete_under_io "polled reads" $fio_pid; then
	ksft_check "the rescanned disk has its poll queue: io_poll 1" [ "$(cat /sys/block/"$sd"/queue/io_poll)" = 1 ]
	dd if="$dev" of="$tmp/got" bs=64k skip=3200 count=16 2>/dev/null
	ksft_check "the data written before the delete reads back after the rescan" cmp -s "$tmp/pat" "$tmp/got"
	p0=$(qstat 1 polled)
	# shellcheck disable=SC2086
	ksft_check "polled writes verify (crc32c) on the rescanned disk" \
		run_fio rescan --ioengine=io_uring --hipri=1 --iodepth=8 --rw=randwrite --bs=16k --size=8m $VERIFY
	ksft_check "the rescanned disk's requests were polled" [ $(($(qstat 1 polled) - p0)) -gt 0 ]
fi
fio_pid=""

# --- unload
ksft_check "rmmod dmahba after polled I/O" rmmod_idle dmahba
ksft_exit
