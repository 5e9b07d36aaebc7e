#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dmatest_test.sh - the kernel's own dmaengine test client, drivers/dma/
# dmatest.c (built out of tree from the kernel source package: dmatest.ko
# next to the other modules), against every softdma channel, one channel at
# a time, in three modes:
#   callback, threads_per_chan=1 and 2: completion by callback;
#   polled, threads_per_chan=1: dma_sync_wait() polls tx_status, then
#     dmaengine_terminate_sync() on the whole channel after each transfer
#     (so with more threads one would drop its siblings' descriptors on any
#     provider: polled mode runs one thread per channel).
# Each run is timeout=10000 test_buf_size=65536 iterations=ITERATIONS
# (default 500). Then, when this script loaded softdma, softdma is reloaded
# with each profile (docs/softdma.md "Constraints and profiles") and
# dmatest makes one callback run of PROFILE_ITERATIONS (default 200) on one
# channel: test_buf_size is the profile's max_seg_size rounded down to its
# copy_align, at most 65536 (dmatest's lengths and offsets are at most the
# buffer and aligned to copy_align, its default 'alignment'), so every
# transfer fits the constraints and any refused prep is a dmatest failure.
# Fails on a missing "summary" line, a summary with failures
# or fewer tests than asked for, a run that does not end within RUN_BOUND
# seconds (default 300), or a polled rate below half the callback rate at
# one thread (a polling client must move the software engine itself, not
# wait for its CPU's next interrupt). Reports iops per mode. Skips when
# dmatest.ko is missing or dmahba holds softdma's channels.
. "$(dirname "$0")/lib.sh"

ITERATIONS=${ITERATIONS:-500}
PROFILE_ITERATIONS=${PROFILE_ITERATIONS:-200}
PROFILES="ioat zynqmp_dma dw-axi-dmac fsl-edma hidma pl330"
RUN_BOUND=${RUN_BOUND:-300}
SDBG=/sys/kernel/debug/softdma

here=$(cd "$(dirname "$0")" && pwd)
dmatest_ko=""
for _k in "$ko_dir/dmatest.ko" "$here/dmatest.ko" "$here/modules/dmatest.ko"; do
	[ -f "$_k" ] && { dmatest_ko=$_k; break; }
done

require_root
grep -qs ' /sys/kernel/debug ' /proc/mounts || \
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -n "$dmatest_ko" ] || ksft_skip_all "dmatest.ko not found (in $ko_dir, $here or $here/modules): build it from the kernel source package"
mod_loaded dmatest && ksft_skip_all "dmatest already loaded"
mod_loaded dmahba && ksft_skip_all "dmahba is loaded and holds softdma channels"
mod_loaded softdma || [ -f "$ko_dir/softdma.ko" ] || \
	ksft_skip_all "softdma is not loaded and softdma.ko is not in $ko_dir"

tmp=/tmp/dmatest_test.$$
mkdir -p $tmp
cleanup() {
	mod_loaded dmatest && rmmod dmatest
	unload_mods
	rm -rf "$tmp"
}
trap cleanup EXIT
ksft_init

softdma_before=0
mod_loaded softdma && softdma_before=1
if ! load_mod softdma; then
	ksft_fail "softdma loads"
	ksft_exit
fi
chans=$(find "$SDBG" -maxdepth 1 -name "dma*chan*" 2>/dev/null | sed "s|.*/||" | sort)
[ -n "$chans" ] || { ksft_fail "softdma has channels in $SDBG"; ksft_exit; }
diag "softdma channels: $(echo "$chans" | tr '\n' ' ')"

# dmatest_run CHAN THREADS POLLED [BUF_SIZE [ITERATIONS]]: one dmatest run
# (test_buf_size BUF_SIZE, default 65536); its summary lines in $tmp/sum
# ("tests failures iops" per thread); 1 if it did not end in time
runs=0
dmatest_run() {
	runs=$((runs + 1))	# marks unique: the same channel runs again
	_mark="dmatest_test-$$-$runs-$1-$2-$3"
	echo "$_mark" > /dev/kmsg
	# the flow of Documentation/driver-api/dmaengine/dmatest.rst
	if ! insmod "$dmatest_ko" threads_per_chan="$2" polled="$3" \
		timeout=10000 test_buf_size="${4:-65536}" \
		iterations="${5:-$ITERATIONS}" ||
	   ! echo "$1" > /sys/module/dmatest/parameters/channel ||
	   ! echo 1 > /sys/module/dmatest/parameters/run; then
		diag "$1: loading or starting dmatest failed"
		mod_loaded dmatest && rmmod dmatest
		: > $tmp/sum
		return 1
	fi
	# run reads N while the threads are not yet scheduled (pending) as
	# well as when they have ended: the run is over when it reads N and
	# every thread has printed its summary (it does on every path)
	_i=0
	while [ $_i -lt $((RUN_BOUND * 10)) ]; do
		[ "$(cat /sys/module/dmatest/parameters/run)" != Y ] &&
			[ "$(dmesg | sed -n "/$_mark/,\$p" | grep -c "$1-.*: summary ")" -ge "$2" ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	_done=0
	[ $_i -lt $((RUN_BOUND * 10)) ] || _done=1
	[ $_done = 0 ] && rmmod dmatest	# (a hung run cannot be unloaded)
	dmesg | sed -n "/$_mark/,\$p" > $tmp/log
	# "dma0chan0-copy0: summary 500 tests, 0 failures 1234.56 iops 79012 KB/s (0)"
	awk -v c="$1-" 'index($0, c) && / summary / {
		for (i = 1; i <= NF; i++) {
			if ($i == "summary") t = $(i + 1)
			if ($i == "failures") f = $(i - 1)
			if ($i == "iops") p = $(i - 1)
		}
		print t, f, p
	}' $tmp/log > $tmp/sum
	grep -E 'dmatest: .*(result|timed out|error)' $tmp/log | head -5 | sed 's/^/# /'
	return $_done
}

# ratio of the polled to the callback rate, one thread, summed over channels
cb_sum=0
poll_sum=0
for c in $chans; do
	for mode in "1 0 callback" "2 0 callback" "1 1 polled"; do
		# shellcheck disable=SC2086 # three fields
		set -- $mode
		name="$c: $3 mode, threads_per_chan=$1"
		s0=$(now)
		if ! dmatest_run "$c" "$1" "$2"; then
			ksft_fail "$name: dmatest ended within $RUN_BOUND s"
			continue
		fi
		s1=$(now)
		n=$(wc -l < $tmp/sum)
		bad=$(awk -v it="$ITERATIONS" '$1 != it || $2 != 0 { n++ } END { print n + 0 }' $tmp/sum)
		iops=$(awk '{ s += $3 } END { printf "%.0f\n", s / (NR ? NR : 1) }' $tmp/sum)
		diag "$name: $n thread(s), iops per thread $(awk '{ printf "%s ", $3 }' $tmp/sum)(mean $iops), failures $(awk '{ printf "%s ", $2 }' $tmp/sum)in $(elapsed "$s0" "$s1") s"
		ksft_check "$name: a summary per thread, $ITERATIONS tests each, no failure" \
			[ "$n" -ge "$1" -a "$bad" = 0 ]
		if [ "$1" = 1 ]; then
			if [ "$2" = 1 ]; then
				poll_sum=$((poll_sum + iops))
			else
				cb_sum=$((cb_sum + iops))
			fi
		fi
	done
done
diag "one thread per channel: callback $cb_sum iops, polled $poll_sum iops (summed over the channels)"
ksft_check "polled mode runs at least half the callback rate ($poll_sum vs $cb_sum iops)" \
	[ $((poll_sum * 2)) -ge "$cb_sum" -a "$cb_sum" -gt 0 ]

# --- each profile: one callback run on one channel
if [ "$softdma_before" = 1 ]; then
	for p in $PROFILES; do
		ksft_skip "profile=$p: dmatest passes" "softdma was loaded before this test"
	done
	ksft_exit
fi
for p in $PROFILES; do
	unload_mods
	if ! load_mod softdma profile="$p"; then
		ksft_fail "softdma loads with profile=$p"
		continue
	fi
	c=$(find "$SDBG" -maxdepth 1 -name "dma*chan*" 2>/dev/null | sed "s|.*/||" | sort | head -n 1)
	mss=$(cat /sys/module/softdma/parameters/max_seg_size)
	al=$(cat /sys/module/softdma/parameters/copy_align)
	# test_buf_size: at most max_seg_size, a multiple of the alignment (with
	# copy_align > 0 at least 16 KiB here: dmatest aligns its buffers with
	# PTR_ALIGN(raw, copy_align), a log2 used as bytes, which is right only
	# because kmalloc() above 8 KiB returns whole pages)
	buf=$((mss < 65536 ? mss : 65536))
	buf=$((buf >> al << al))
	name="profile=$p: $c: callback mode, test_buf_size=$buf"
	s0=$(now)
	if ! dmatest_run "$c" 1 0 "$buf" "$PROFILE_ITERATIONS"; then
		ksft_fail "$name: dmatest ended within $RUN_BOUND s"
		continue
	fi
	s1=$(now)
	bad=$(awk -v it="$PROFILE_ITERATIONS" '$1 != it || $2 != 0 { n++ } END { print n + 0 }' $tmp/sum)
	refused=$(cat "$SDBG/$c/refused_seg_size" "$SDBG/$c/refused_align" "$SDBG/$c/refused_ring" |
		awk '{ s += $1 } END { print s + 0 }')
	diag "$name: $(awk '{ printf "%s iops, %s failures", $3, $2 }' $tmp/sum) in $(elapsed "$s0" "$s1") s, $refused preps refused"
	ksft_check "$name: a summary, $PROFILE_ITERATIONS tests, no failure, no prep refused" \
		[ "$(wc -l < $tmp/sum)" -ge 1 -a "$bad" = 0 -a "$refused" = 0 ]
done

ksft_exit
