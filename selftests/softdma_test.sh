#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# softdma_test.sh - softdma as a dmaengine provider, driven through the
# public dmaengine API by the softdma_test module (modules/softdma_test.c):
# data integrity, slave_sg, queueing and order, residue, pause/resume,
# terminate, every fault knob with the halt/reset semantics, several
# channels at once, the /sys/class/dma counters, the debugfs knobs' input
# checks, module parameter checks, and unloading.
#
# softdma.ko comes from $DMAHBA_KO_DIR (default /dmahba); softdma_test.ko
# from there, next to this script or from ./modules/. Modules this script
# loads, it unloads.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
test_ko=""
for _k in "$ko_dir/softdma_test.ko" "$here/softdma_test.ko" "$here/modules/softdma_test.ko"; do
	[ -f "$_k" ] && { test_ko=$_k; break; }
done

require_root
grep -qs ' /sys/kernel/debug ' /proc/mounts || \
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -n "$test_ko" ] || ksft_skip_all "softdma_test.ko not found (in $ko_dir, $here or $here/modules)"
mod_loaded softdma_test && ksft_skip_all "softdma_test already loaded"
mod_loaded softdma || [ -f "$ko_dir/softdma.ko" ] || \
	ksft_skip_all "softdma is not loaded and softdma.ko is not in $ko_dir"

we_loaded_softdma=0
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	mod_loaded softdma_test && rmmod softdma_test
	[ "$we_loaded_softdma" = 1 ] && mod_loaded softdma && rmmod softdma
}
trap cleanup EXIT

ksft_init

# --- module parameters are checked at load (only if softdma is not loaded)
if mod_loaded softdma; then
	ksft_skip "softdma refuses channels=1000" "softdma already loaded"
	ksft_skip "softdma refuses latency_us=20000000" "softdma already loaded"
else
	if insmod "$ko_dir/softdma.ko" channels=1000 2>/dev/null; then
		rmmod softdma
		ksft_fail "softdma refuses channels=1000"
	else
		ksft_pass "softdma refuses channels=1000"
	fi
	if insmod "$ko_dir/softdma.ko" latency_us=20000000 2>/dev/null; then
		rmmod softdma
		ksft_fail "softdma refuses latency_us=20000000"
	else
		ksft_pass "softdma refuses latency_us=20000000"
	fi
	n0=$(find /sys/class/dma -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	insmod "$ko_dir/softdma.ko" && we_loaded_softdma=1
	n1=$(find /sys/class/dma -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	ksft_check "softdma has one channel per online CPU by default" \
		[ $((n1 - n0)) -eq "$(grep -c '^processor' /proc/cpuinfo)" ]
fi
if ! mod_loaded softdma; then
	ksft_fail "softdma loads"
	ksft_exit
fi

# --- the test client takes two channels (one if that is all there is)
if ! insmod "$test_ko" nchans=2; then
	ksft_fail "softdma_test loads and holds softdma channels"
	ksft_exit
fi
ksft_pass "softdma_test loads and holds softdma channels"
tdbg=/sys/kernel/debug/softdma_test
chans=$(cat "$tdbg/chans")
c0=$(echo "$chans" | head -n 1)
kdbg=/sys/kernel/debug/softdma/$c0
sysc=/sys/class/dma/$c0
diag "channels held: $(echo "$chans" | tr "\n" " ")"
ksft_check "$c0 is in use in /sys/class/dma" [ "$(cat "$sysc/in_use")" = 1 ]

knob() { echo "$2" > "$kdbg/$1"; }
kstat() { cat "$kdbg/$1"; }

# run NAME [ARGS...]: run a test of the module, report it under NAME ARGS
run() {
	_t="$*"
	if ! echo "$_t" > "$tdbg/run"; then
		ksft_fail "$_t (the module refused the test)"
		return 1
	fi
	_r=$(cat "$tdbg/run")
	case "$_r" in
	ok) ksft_pass "$_t" ;;
	skip:*) ksft_skip "$_t" "${_r#skip: }" ;;
	*) diag "$_t: $_r"; ksft_fail "$_t"; return 1 ;;
	esac
	return 0
}

# --- data movement and queueing
run memcpy_random 2000
run slave_sg 100
run inflight 255
run ordering
run reuse
run badinput
d0=$(kstat descriptors)
if run ack_hold; then
	ksft_check "unacked descriptor kept after completion" [ "$(kstat descriptors)" -eq $((d0 + 1)) ]
	run ack_release
	ksft_check "acked descriptor freed" [ "$(kstat descriptors)" -eq "$d0" ]
fi
run terminate_cb

# --- counters: exactly the bytes moved
b0=$(cat "$sysc/bytes_transferred")
m0=$(cat "$sysc/memcpy_count")
run bytes 16 65536
b1=$(cat "$sysc/bytes_transferred")
m1=$(cat "$sysc/memcpy_count")
ksft_check "bytes_transferred grew by 16 * 65536" [ $((b1 - b0)) -eq 1048576 ]
ksft_check "memcpy_count grew by 16" [ $((m1 - m0)) -eq 16 ]

# --- speed model: residue, pause, terminate need a slow channel; slow
# enough (256 KiB in 0.5 s) that a test thread kept off the CPU for a while
# on a loaded machine still finds the transfer running
knob bandwidth_kbps 500
run residue
run pause
run terminate
knob bandwidth_kbps 4000
run bandwidth 4000
knob bandwidth_kbps 0
knob latency_us 200000
run latency 200000
knob latency_us 0

# --- faults, halt and reset
f0=$(kstat failed)
a0=$(kstat aborted)
b0=$(cat "$sysc/bytes_transferred")
knob fail_mode read
knob fail_nth 3
run fail 3 read 8
b1=$(cat "$sysc/bytes_transferred")
ksft_check "fail_nth fired once and reads 0" [ "$(kstat fail_nth)" = 0 ]
ksft_check "failed counter +1" [ $(($(kstat failed) - f0)) -eq 1 ]
ksft_check "aborted counter +5" [ $(($(kstat aborted) - a0)) -eq 5 ]
# the 2 transfers before the failure and 1 after the reset, 4 KiB each
ksft_check "bytes_transferred counts only completed work" [ $((b1 - b0)) -eq $((3 * 4096)) ]
ksft_check "the reset cleared the halt" [ "$(kstat halted)" = 0 ]
knob fail_mode write
knob fail_nth 1
run fail 1 write 4
knob fail_mode read
knob fail_every 3
run fail_every 3
knob fail_every 0
knob stall_nth 2
run stall 2
ksft_check "stall_nth fired once and reads 0" [ "$(kstat stall_nth)" = 0 ]

# --- a client that polls tx_status, without callbacks, makes progress
run poll 200

# --- terminate + synchronize in a loop beside a streaming client on the same
# channel: the streamer never stalls (no lost engine or callback kick)
run sync_storm 2000
ksft_check "sync_storm: nothing left queued" [ "$(kstat queued)" = 0 ]

# --- several channels at once
run multichan 300

# --- debugfs knobs refuse bad values and keep the old one
# shellcheck disable=SC2317 # called through ksft_check
bad_write() {	# FILE VALUE: the write must fail and FILE keep its value
	_old=$(cat "$kdbg/$1")
	if echo "$2" > "$kdbg/$1" 2>/dev/null; then
		return 1
	fi
	[ "$(cat "$kdbg/$1")" = "$_old" ]
}
knob latency_us 7
ksft_check "latency_us refuses 'abc'" bad_write latency_us abc
ksft_check "latency_us refuses 10000001" bad_write latency_us 10000001
ksft_check "fail_nth refuses -1" bad_write fail_nth -1
ksft_check "fail_every refuses 99999999999" bad_write fail_every 99999999999
ksft_check "fail_mode refuses 'sideways'" bad_write fail_mode sideways
ksft_check "statistics are read-only" bad_write submitted 5
ksft_check "latency_us kept 7" [ "$(kstat latency_us)" = 7 ]
knob latency_us 0

# --- no descriptor leaked, nothing left queued
for _c in $chans; do
	ksft_check "$_c: no descriptor left" [ "$(cat "/sys/kernel/debug/softdma/$_c/descriptors")" = 0 ]
	ksft_check "$_c: nothing queued" [ "$(cat "/sys/kernel/debug/softdma/$_c/queued")" = 0 ]
done

# --- unloading: refused while a client holds a channel, clean when idle
if rmmod softdma 2>/dev/null; then
	we_loaded_softdma=0
	ksft_fail "rmmod softdma refused while softdma_test holds a channel"
else
	ksft_pass "rmmod softdma refused while softdma_test holds a channel"
fi
ksft_check "rmmod softdma_test" rmmod softdma_test
if [ "$we_loaded_softdma" = 1 ]; then
	ksft_check "rmmod softdma when idle" rmmod softdma
	we_loaded_softdma=0
	ksft_check "its channels are gone from /sys/class/dma" [ ! -e "$sysc" ]
	ksft_check "its debugfs directory is gone" [ ! -e /sys/kernel/debug/softdma ]
else
	ksft_skip "rmmod softdma when idle" "softdma was loaded before this test"
fi

ksft_exit
