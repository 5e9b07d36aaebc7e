#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# softdma_test.sh - softdma as a dmaengine provider, driven through the
# public dmaengine API by the softdma_test module (modules/softdma_test.c):
# data integrity, slave_sg, queueing and order, residue, pause/resume,
# terminate, every fault knob with the halt/reset semantics, several
# channels at once, the /sys/class/dma counters, the debugfs knobs' input
# checks, module parameter checks, and unloading. Then, when this script
# loads softdma itself, the constraints (docs/softdma.md "Constraints and
# profiles"): bad values and combinations are refused at load naming the
# parameter; under max_seg_size=4096 copy_align=6 ring_size=4, under each
# residue granularity and under each profile the channel states its
# constraints (debugfs, module parameters, dma_get_max_seg_size(),
# copy_align, dma_get_slave_caps()) and enforces them through the API
# (longer and misaligned preps refused and counted, ring full then free).
# Where the engine runs (docs/softdma.md "Where the engine runs"): the data,
# control and counter tests again with engine=any; engine=bogus refused with
# EINVAL. Last, with dmahba over softdma, under engine=local and engine=any,
# fio writes and verifies (crc32c) while cpu1 goes offline and online.
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
we_loaded_dmahba=0
tmp=/tmp/softdma_test.$$
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -f "$tmp/stop" ] || touch "$tmp/stop" 2>/dev/null
	[ -w "$cpu1" ] && echo 1 > "$cpu1"
	[ "$we_loaded_dmahba" = 1 ] && mod_loaded dmahba && rmmod_idle dmahba
	mod_loaded softdma_test && rmmod softdma_test
	[ "$we_loaded_softdma" = 1 ] && mod_loaded softdma && rmmod softdma
	rm -rf "$tmp"
}
trap cleanup EXIT

ksft_init
mkdir -p "$tmp"

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
	# bad_load WORDS PARAM...: insmod fails, the log names WORDS
	for _bad in "profile=vax" "residue=sideways" "copy_align=9" \
		"max_seg_size=0" "ring_size=65537" "ring_size=abc" \
		"halt_on_error=2" "max_seg_size=32 copy_align=6" \
		"profile=fsl-edma max_seg_size=16" "engine=bogus"; do
		_w=${_bad##* }
		echo "softdma_test mark $_bad" > /dev/kmsg
		# shellcheck disable=SC2086 # parameters
		if insmod "$ko_dir/softdma.ko" $_bad 2>"$tmp/insmod.err"; then
			rmmod softdma
			ksft_fail "softdma refuses $_bad"
		elif [ "$_bad" = engine=bogus ] &&
		     ! grep -Eqi 'invalid (argument|param)' "$tmp/insmod.err"; then
			sed 's/^/# /' "$tmp/insmod.err"
			ksft_fail "softdma refuses $_bad with EINVAL"
		elif dmesg | sed -n "/softdma_test mark $_bad\$/,\$p" | grep -v mark |
			grep -qF -- "$_w"; then
			ksft_pass "softdma refuses $_bad, naming $_w"
		else
			dmesg | tail -n 3 | sed 's/^/# /'
			ksft_fail "softdma refuses $_bad with a message naming $_w"
		fi
	done
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

param() { cat "/sys/module/softdma/parameters/$1"; }

# engine_is local|any: the module parameter and debugfs say where it runs
engine_is() {
	ksft_check "the engine parameter reads $1" [ "$(param engine 2>/dev/null)" = "$1" ]
	ksft_check "debugfs engine reads $1" [ "$(cat "$kdbg/engine" 2>/dev/null)" = "$1" ]
}
if [ "$we_loaded_softdma" = 1 ]; then
	engine_is local
	# shellcheck disable=SC2317 # called through ksft_check
	engine_ro() { ! echo any 2>/dev/null > /sys/module/softdma/parameters/engine; }
	ksft_check "the engine parameter is read-only after the load" engine_ro
	engine_is local
fi

# --- data movement and queueing (moves, controls and counters run again
# under engine=any below)
moves() {
	run memcpy_random 2000
	run slave_sg 100
	run inflight 255
	run ordering
	run reuse
	run badinput
}
moves
run constraints 0 2
d0=$(kstat descriptors)
if run ack_hold; then
	ksft_check "unacked descriptor kept after completion" [ "$(kstat descriptors)" -eq $((d0 + 1)) ]
	run ack_release
	ksft_check "acked descriptor freed" [ "$(kstat descriptors)" -eq "$d0" ]
fi

# --- counters: exactly the bytes moved
counters() {
	_b0=$(cat "$sysc/bytes_transferred")
	_m0=$(cat "$sysc/memcpy_count")
	run bytes 16 65536
	_b1=$(cat "$sysc/bytes_transferred")
	_m1=$(cat "$sysc/memcpy_count")
	ksft_check "bytes_transferred grew by 16 * 65536" [ $((_b1 - _b0)) -eq 1048576 ]
	ksft_check "memcpy_count grew by 16" [ $((_m1 - _m0)) -eq 16 ]
}
counters

# --- controls: terminate from a callback; residue, pause, terminate under a
# slow channel, slow enough (256 KiB in 0.5 s) that a test thread kept off
# the CPU for a while on a loaded machine still finds the transfer running;
# the speed model; a client that polls tx_status, without callbacks, makes
# progress; terminate + synchronize in a loop beside a streaming client on
# the same channel: the streamer never stalls (no lost engine or callback
# kick); several channels at once
controls() {
	run terminate_cb
	knob bandwidth_kbps 500
	run residue_gran 2
	run pause
	run terminate
	knob bandwidth_kbps 4000
	run bandwidth 4000
	knob bandwidth_kbps 0
	knob latency_us 200000
	run latency 200000
	knob latency_us 0
	run poll 200
	run sync_storm 2000
	ksft_check "sync_storm: nothing left queued" [ "$(kstat queued)" = 0 ]
	run multichan 300
}
controls

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
	ksft_exit
fi

# --- constraints: softdma reloaded with each set

# with_softdma PARAMS CMD...: CMD with softdma loaded with PARAMS and
# softdma_test holding $hold channels (1 unless set; the first is $c0,
# debugfs $kdbg, /sys/class/dma/$c0 $sysc)
hold=1
with_softdma() {
	_p=$1
	shift
	# shellcheck disable=SC2086 # parameters
	if ! insmod "$ko_dir/softdma.ko" $_p; then
		ksft_fail "softdma loads with $_p"
		return 1
	fi
	we_loaded_softdma=1
	if ! insmod "$test_ko" nchans="$hold"; then
		ksft_fail "softdma_test loads (softdma $_p)"
	else
		c0=$(head -n 1 "$tdbg/chans")
		kdbg=/sys/kernel/debug/softdma/$c0
		sysc=/sys/class/dma/$c0
		"$@"
		rmmod softdma_test
		ksft_check "$_p: no descriptor left" [ "$(kstat descriptors)" = 0 ]
	fi
	rmmod softdma && we_loaded_softdma=0
}

# expect_cons MAX_SEG_SIZE COPY_ALIGN RING_SIZE RESIDUE: what debugfs and
# the module parameters state
expect_cons() {
	_got="$(kstat max_seg_size) $(kstat copy_align) $(kstat ring_size) $(cat "$kdbg/residue")"
	_par="$(param max_seg_size) $(param copy_align) $(param ring_size) $(param residue)"
	ksft_check "$_p: debugfs states $*" [ "$_got" = "$*" ]
	ksft_check "$_p: the parameters read back $*" [ "$_par" = "$*" ]
}

gran_nr() {
	case $1 in descriptor) echo 0 ;; segment) echo 1 ;; *) echo 2 ;; esac
}

# the extremes at once: each limit refused and counted once per prep
extremes() {
	expect_cons 4096 6 4 segment
	ksft_check "$_p: halt_on_error stays 1" [ "$(kstat halt_on_error)" = 1 ]
	run constraints 4 1
	ksft_check "$_p: refused_seg_size counts memcpy + slave_sg" [ "$(kstat refused_seg_size)" = 2 ]
	ksft_check "$_p: refused_align counts 3 memcpy + 1 slave_sg" [ "$(kstat refused_align)" = 4 ]
	ksft_check "$_p: refused_ring counts the prep on a full ring" [ "$(kstat refused_ring)" = 1 ]
}
with_softdma "max_seg_size=4096 copy_align=6 ring_size=4 residue=segment" extremes

# no_halt RING: a failed descriptor neither halts the channel nor aborts the
# ones behind it; tx_status reports it DMA_ERROR until its ring slot is reused
no_halt() {
	ksft_check "$_p: debugfs and parameter state halt_on_error 0" \
		[ "$(kstat halt_on_error)" = 0 -a "$(param halt_on_error)" = N ]
	expect_cons 4294967295 0 "$1" burst
	f0=$(kstat failed) a0=$(kstat aborted)
	knob fail_mode read
	knob fail_nth 2
	run nohalt 2 "$1"
	ksft_check "$_p: one descriptor failed, none aborted, the channel not halted" \
		[ $(($(kstat failed) - f0)) = 1 -a $(($(kstat aborted) - a0)) = 0 -a "$(kstat halted)" = 0 ]
}
with_softdma "halt_on_error=0" no_halt 0
with_softdma "halt_on_error=0 ring_size=4" no_halt 4

residue_at() {
	expect_cons 4294967295 0 0 "$1"
	knob bandwidth_kbps 500
	run residue_gran "$(gran_nr "$1")"
	knob bandwidth_kbps 0
}
with_softdma "residue=descriptor" residue_at descriptor
with_softdma "residue=segment" residue_at segment

# profile NAME MAX_SEG_SIZE COPY_ALIGN RING_SIZE RESIDUE: the values of
# docs/softdma.md's table, cited from the mainline drivers
profile() {
	ksft_check "$_p: debugfs names profile $1" [ "$(cat "$kdbg/profile")" = "$1" ]
	shift
	expect_cons "$@"
	run constraints "$3" "$(gran_nr "$4")"
}
for _pr in "ioat 65536 0 65536 descriptor" "zynqmp_dma 65536 0 32 descriptor" \
	"dw-axi-dmac 4096 0 0 burst" "fsl-edma 16383 5 0 descriptor" \
	"hidma 65536 8 10 descriptor" "pl330 1900800 0 0 burst"; do
	# shellcheck disable=SC2086 # fields
	with_softdma "profile=${_pr%% *}" profile $_pr
done
# a parameter given overrides the profile's value, the others stay
with_softdma "profile=hidma ring_size=4 residue=burst" profile hidma 65536 8 4 burst

# --- the engine anywhere (an unbound work item): the same data, control and
# counter tests through the API, on two channels
any_engine() {
	engine_is any
	moves
	counters
	controls
	knob fail_nth 3
	run fail 3 read 8
}
hold=2
with_softdma "engine=any" any_engine
hold=1

# --- CPU unplug under I/O: dmahba over softdma under each engine placement;
# fio writes with crc32c headers and verifies while cpu1 goes offline and
# online again and again: no mismatch, no error, cpu1 online at the end (the
# log is checked for splats at the end)
unplug_skip=""
if [ ! -w "$cpu1" ]; then
	unplug_skip="cpu1 has no online file (no CPU hotplug or one CPU)"
elif ! command -v fio >/dev/null 2>&1; then
	unplug_skip="fio not found"
elif ! fio --enghelp 2>/dev/null | grep -qw libaio; then
	unplug_skip="fio has no libaio engine"
elif [ ! -f "$ko_dir/dmahba.ko" ]; then
	unplug_skip="dmahba.ko not in $ko_dir"
elif mod_loaded dmahba; then
	unplug_skip="dmahba already loaded"
fi

unplug() {	# ENGINE
	_e=engine=$1
	if ! insmod "$ko_dir/softdma.ko" "$_e"; then
		ksft_fail "$_e: softdma loads"
		return
	fi
	we_loaded_softdma=1
	if ! insmod "$ko_dir/dmahba.ko" nr_channels=2 || ! wait_for dmahba_sd; then
		ksft_fail "$_e: dmahba loads over softdma"
	else
		we_loaded_dmahba=1
		_dev=/dev/$(dmahba_sd)
		wait_idle "${_dev#/dev/}"
		cat > "$tmp/unplug.job" <<-EOF
		[unplug]
		filename=$_dev
		direct=1
		ioengine=libaio
		iodepth=16
		numjobs=2
		rw=randwrite
		bssplit=4k/40:64k/30:256k/30
		size=24m
		offset_increment=32m
		verify=crc32c
		do_verify=1
		verify_fatal=1
		group_reporting=1
		EOF
		rm -f "$tmp/stop"
		toggle_cpu1 &
		_tpid=$!
		timeout 600 fio --minimal "$tmp/unplug.job" > "$tmp/unplug.out" 2> "$tmp/unplug.err"
		_rc=$?
		touch "$tmp/stop"
		wait "$_tpid"
		_errs=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' "$tmp/unplug.out")
		_kb=$(awk -F';' '/^3;/ { s += $6 } END { printf "%.0f\n", s }' "$tmp/unplug.out")
		diag "$_e: fio exit $_rc, verified $((_kb / 1024)) MiB; cpu1 went offline and online $(cat "$tmp/toggles") times, $(cat "$tmp/bad") writes of online failed"
		if [ "$_rc" != 0 ] || [ "$_errs" != 0 ] || [ "$_kb" = 0 ]; then
			head -10 "$tmp/unplug.err" | sed 's/^/# /'
			ksft_fail "$_e: fio crc32c write + verify while cpu1 goes offline and online"
		else
			ksft_pass "$_e: fio crc32c write + verify while cpu1 goes offline and online"
		fi
		ksft_check "$_e: cpu1 went offline and online at least twice during the I/O, every time" \
			[ "$(cat "$tmp/toggles")" -ge 2 -a "$(cat "$tmp/bad")" = 0 ]
		ksft_check "$_e: cpu1 is online at the end" [ "$(cat "$cpu1")" = 1 ]
		ksft_check "$_e: rmmod dmahba" rmmod_idle dmahba
		we_loaded_dmahba=0
	fi
	rmmod softdma && we_loaded_softdma=0
}
for _e in local any; do
	if [ -n "$unplug_skip" ]; then
		ksft_skip "engine=$_e: fio verify while cpu1 goes offline and online" "$unplug_skip"
	else
		unplug "$_e"
	fi
done

ksft_exit
