#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# trace_test.sh - the four stages happen in order, for every request of a
# run: per window io_map_transfer < dma_started < flush_dma (completed), per
# request the last flush_dma < notification(request_complete); no window
# overlaps another on the same request. Large commands in small windows and
# two channels make many windows and concurrent requests. About 20 s.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd sg_dd dd awk
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
t=/sys/kernel/tracing
[ -d $t/events ] || t=/sys/kernel/debug/tracing
[ -d $t/events ] || ksft_skip_all "tracefs not mounted"
cleanup() {
	echo 0 > "$t"/events/dmahba/enable 2>/dev/null
	echo > "$t"/trace 2>/dev/null
	unload_mods
}
trap cleanup EXIT
ksft_init

load_dmahba max_window_kb=32 nr_channels=2 || ksft_skip_all "cannot load softdma/dmahba"
sd=$(dmahba_sd)
sg=$(dmahba_sg)
ksft_check "the four events exist" [ -d $t/events/dmahba/io_map_transfer ] && \
	[ -d $t/events/dmahba/dma_started ] && [ -d $t/events/dmahba/flush_dma ] && \
	[ -d $t/events/dmahba/notification ]

# the kernel's partition scan of the new disk must not straddle the start
wait_idle "$sd" || diag "$sd: requests still in flight after 10 s"
echo global > $t/trace_clock
echo 4096 > $t/buffer_size_kb
echo > $t/trace
echo 1 > $t/events/dmahba/enable
dd if=/dev/urandom of=/tmp/p bs=1024 count=4096 2>/dev/null
sg_dd if=/tmp/p of=/dev/"$sg" bs=512 seek=0 bpt=2048 2>/dev/null
sg_dd if=/dev/"$sg" of=/dev/null bs=512 skip=0 count=8192 bpt=1024 2>/dev/null
# concurrent requests on both channels through the block layer
for i in 1 2 3 4; do
	dd if=/dev/"$sd" of=/dev/null bs=64k skip=$((i * 16)) count=16 iflag=direct 2>/dev/null &
done
wait
echo 0 > $t/events/dmahba/enable
cat $t/trace > /tmp/trace.txt
echo local > $t/trace_clock

awk '
function fail(msg) { bad++; if (bad <= 10) print "# order violation: " msg ": " $0 }
/ io_map_transfer: / { ev = "map" }
/ dma_started: / { ev = "start" }
/ flush_dma: / { ev = "flush" }
/ notification: / { ev = "note" }
!/ (io_map_transfer|dma_started|flush_dma|notification): / { next }
{
	tag = ""
	for (i = 1; i <= NF; i++) if ($i ~ /^tag=/) tag = substr($i, 5)
	s = st[tag]
	if (ev == "map") {
		if (s == "mapped" || s == "started") fail("window mapped while another is in flight")
		st[tag] = "mapped"; maps++
	} else if (ev == "start") {
		if (s != "mapped") fail("dma_started without io_map_transfer before it")
		st[tag] = "started"; starts++
	} else if (ev == "flush") {
		if ($0 ~ / completed /) {
			if (s != "started") fail("flush_dma completed before dma_started")
			st[tag] = "flushed"; flushes++
		} else {
			if (s != "mapped" && s != "started") fail("cancel without a window")
			st[tag] = "cancelled"; cancels++
		}
	} else if ($0 ~ /type=request_complete/) {
		if (s == "mapped" || s == "started") fail("request complete before flush_dma")
		st[tag] = ""; completes++
	}
}
END {
	printf "# events: %d io_map_transfer, %d dma_started, %d flush_dma completed, %d cancelled, %d request_complete\n", maps, starts, flushes, cancels, completes
	print "maps=" maps+0 " starts=" starts+0 " flushes=" flushes+0 " completes=" completes+0 " bad=" bad+0
}' /tmp/trace.txt > /tmp/trace-check.txt
grep '^#' /tmp/trace-check.txt
maps=0 starts=0 flushes=0 completes=0 bad=0
eval "$(tail -1 /tmp/trace-check.txt)"
ksft_check "trace holds the run (windows mapped: $maps)" [ "$maps" -ge 256 ]
ksft_check "no stage out of order" [ "$bad" -eq 0 ]
ksft_check "every window started and flushed" \
	sh -c "[ '$maps' -eq '$starts' ] && [ '$maps' -eq '$flushes' ]"
ksft_check "requests completed" [ "$completes" -gt 0 ]
ksft_check "event text shows tag=<number>" grep -qE 'io_map_transfer: tag=[0-9]+ offset=[0-9]+ length=[0-9]+' /tmp/trace.txt
rm -f /tmp/p /tmp/trace.txt /tmp/trace-check.txt
ksft_exit
