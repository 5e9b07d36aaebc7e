#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# constraints_test.sh - dmahba honours what its DMA channel says. softdma is
# loaded under each named profile (real memcpy engines' constraints) and
# with each single constraint at an extreme (max_seg_size=4096, copy_align=6,
# ring_size=4, halt_on_error=0, residue=descriptor|segment|burst); each time
# a compact data check runs:
#   data   a 1 MiB pattern written through /dev/sdX (O_DIRECT) reads back
#          identical through /dev/sgY (SG_IO) and through the page cache;
#   sgio   SG_IO with buffers at odd offsets and odd INQUIRY lengths
#          (sgio_align): always GOOD with the right bytes, as the block
#          layer bounces what the channel's alignment does not allow;
#   fio    fio writes and verifies crc32c, blocks of 512 B to 128 KiB at
#          512-byte-aligned memory, a few seconds;
#   fault  a failed descriptor in the middle of a window (softdma's
#          fail_nth) makes the SG_IO READ end in CHECK CONDITION, ABORTED
#          COMMAND 4B/00: an error, never GOOD with the data missing.
# A channel that cannot carry a logical block (max segment smaller than
# one) is refused at load with a message. One "matrix:" line per
# configuration. With ring_size=4 the channel runs full: the "ring_full"
# count of dmahba's stats must grow (submission waits, no command fails).
#
# CONSTRAINTS_CONFIGS (space-separated softdma parameters, one per
# configuration) narrows the matrix (scripts/check.sh's swiotlb=force run).
# A dmahba that ignores the constraints fails here: prep refuses its
# descriptors (too long, misaligned) or returns NULL (ring full), and the
# commands fail. Runtime: about 10-15 s per configuration under TCG.
. "$(dirname "$0")/lib.sh"

SDBG=/sys/kernel/debug/softdma
DBG=/sys/kernel/debug/dmahba
FIO_TIMEOUT=${FIO_TIMEOUT:-300}
CONFIGS=${CONSTRAINTS_CONFIGS:-"profile=ioat profile=zynqmp_dma profile=dw-axi-dmac profile=fsl-edma profile=hidma profile=pl330 max_seg_size=4096 copy_align=6 ring_size=4 halt_on_error=0 residue=descriptor residue=segment residue=burst"}
LBA=8192			# the fault's and sgio_align's range, 4 MiB in
BLKS=128			# 64 KiB: one window (max_window_kb=64)

require_cmd awk cmp dd sg_raw fio
[ -f "$ko_dir/softdma.ko" ] || ksft_skip_all "softdma.ko not found in $ko_dir"
mod_loaded softdma && ksft_skip_all "softdma already loaded (this test loads it under each profile)"
grep -q 'parm=profile' "$ko_dir/softdma.ko" || ksft_skip_all "this softdma has no profile parameter"
aligner=$(dirname "$0")/sgio_align
[ -x "$aligner" ] || ksft_skip_all "sgio_align not built"

tmp=/tmp/constraints_test.$$
K=""
test_cleanup() { [ -n "$K" ] && [ -d "$K" ] && echo 0 > "$K"/fail_nth; }
fresh_dmahba_test
ksft_init

dd if=/dev/urandom of="$tmp/pat" bs=64k count=16 2>/dev/null
dd if=/dev/urandom of="$tmp/a" bs=$((BLKS * 512)) count=1 2>/dev/null

# shellcheck disable=SC2046 # the CDB's bytes are separate arguments
sg_read() { sg_raw -v -r "$(($3 * 512))" -o "$1" /dev/"$sg" $(cdb10 28 "$2" "$3") > "$4" 2>&1; }

# check_data: 1 MiB through /dev/sd (O_DIRECT), back through SG_IO and the cache
check_data() {
	dd if="$tmp/pat" of="$dev" bs=64k count=16 oflag=direct 2>/dev/null || return 1
	# in commands of 256 KiB: swiotlb=force allows no larger ones
	rm -f "$tmp/sg"
	for _l in 0 512 1024 1536; do
		sg_read "$tmp/part" "$_l" 512 "$tmp/sg.log" ||
			{ diag "SG_IO READ: $(tail -1 "$tmp/sg.log")"; return 1; }
		cat "$tmp/part" >> "$tmp/sg"
	done
	cmp -s "$tmp/sg" "$tmp/pat" || { diag "SG_IO READ: data differ"; return 1; }
	echo 3 > /proc/sys/vm/drop_caches
	dd if="$dev" of="$tmp/bc" bs=4k count=256 2>/dev/null || return 1
	cmp -s "$tmp/bc" "$tmp/pat" || { diag "page cache read: data differ"; return 1; }
}

check_sgio() {
	"$aligner" /dev/"$sg" 512 "$LBA" > "$tmp/al.log" 2>&1
	_rc=$?
	[ "$_rc" = 0 ] || sed 's/^/# /' "$tmp/al.log" | head -8
	return "$_rc"
}

check_fio() {
	timeout "$FIO_TIMEOUT" fio --name=c --filename="$dev" --ioengine=libaio \
		--direct=1 --iodepth=8 --rw=randwrite --bsrange=512-128k \
		--iomem_align=512 --offset=8m --size=8m --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --randseed=18 --minimal \
		> "$tmp/fio.out" 2> "$tmp/fio.err"
	_rc=$?
	_errs=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' "$tmp/fio.out")
	[ "$_rc" = 0 ] && [ "$_errs" = 0 ] && return 0
	diag "fio: exit $_rc, $_errs job(s) with an error"
	head -5 "$tmp/fio.err" | sed 's/^/# /'
	return 1
}

# check_fault: a failed descriptor before a window's last one is an error
check_fault() {
	_ch=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $2; exit }' "$stats")
	K=$SDBG/$_ch
	[ -w "$K/fail_nth" ] || { diag "no fail_nth knob for $_ch"; return 1; }
	# interleave the range's store pages with another range's, so that
	# its window has several HBA segments (descriptors)
	_i=0
	while [ "$_i" -lt $((BLKS / 8)) ]; do
		dd if=/dev/zero of="$dev" bs=4096 seek=$((LBA / 8 + _i)) count=1 oflag=direct 2>/dev/null
		dd if=/dev/zero of="$dev" bs=4096 seek=$((LBA / 8 + 1024 + _i)) count=1 oflag=direct 2>/dev/null
		_i=$((_i + 1))
	done
	dd if="$tmp/a" of="$dev" bs=$((BLKS * 512)) seek=$((LBA / BLKS)) count=1 oflag=direct 2>/dev/null
	_c0=$(cat "$K"/completed)
	sg_read "$tmp/got" "$LBA" "$BLKS" "$tmp/log"
	_nd=$(($(cat "$K"/completed) - _c0))
	cmp -s "$tmp/got" "$tmp/a" || { diag "fault: the clean READ differs"; return 1; }
	[ "$_nd" -ge 2 ] || { diag "fault: a window is $_nd descriptor(s)"; return 1; }
	_n=$((_nd / 2))
	echo "$_n" > "$K"/fail_nth
	rm -f "$tmp/got"
	sg_read "$tmp/got" "$LBA" "$BLKS" "$tmp/log"
	_rc=$?
	_left=$(cat "$K"/fail_nth)
	echo 0 > "$K"/fail_nth
	_s=$(sense "$tmp/log")
	[ "$_left" = 0 ] || { diag "fault: descriptor $_n of $_nd: the fault did not fire"; return 1; }
	[ "$_rc" = 11 ] && [ "$_s" = "b 4b 00" ] && return 0
	diag "fault: descriptor $_n of $_nd failed: exit $_rc, sense '$_s' (want 11, 'b 4b 00')"
	return 1
}

# verdict NAME FUNCTION: "ok" or "FAIL" for the matrix line
verdict() { if "$1"; then echo ok; else echo FAIL; fi; }

for cfg in $CONFIGS; do
	if ! load_mod softdma "$cfg"; then
		ksft_fail "$cfg: softdma loads"
		continue
	fi
	if ! load_mod dmahba nr_channels=1 max_window_kb=64 || ! wait_for dmahba_sd; then
		ksft_fail "$cfg: dmahba loads and its disk appears"
		unload_mods
		continue
	fi
	h=$(dmahba_host)
	sg=$(dmahba_sg)
	dev=/dev/$(dmahba_sd)
	stats=$DBG/host$h/stats
	wait_idle "$(dmahba_sd)"
	d=$(verdict check_data)
	s=$(verdict check_sgio)
	f=$(verdict check_fio)
	x=$(verdict check_fault)
	rf=$(stat_sum ring_full)
	ds=$(stat_sum descs)
	echo "# matrix: $(printf '%-22s' "$cfg") data $d  sgio $s  fio $f  fault $x  (descriptors $ds, ring full $rf)"
	ok=1
	for v in $d $s $f $x; do [ "$v" = ok ] || ok=0; done
	if [ "$cfg" = ring_size=4 ] && [ "$rf" = 0 ]; then
		diag "ring_size=4: the channel never ran full"
		ok=0
	fi
	ksft_check "$cfg: data, SG_IO at odd offsets, fio crc32c, a mid-window fault is an error" [ $ok = 1 ]
	K=""
	unload_mods
done

# a channel whose descriptors cannot carry a 4096-byte block is refused
if load_mod softdma max_seg_size=2048; then
	if insmod "$ko_dir/dmahba.ko" sector_size=4096 2>/dev/null; then
		ksft_fail "dmahba sector_size=4096 on a channel of 2048-byte segments is refused"
		rmmod dmahba
	else
		ksft_check "dmahba sector_size=4096 on a channel of 2048-byte segments is refused, saying why" \
			sh -c "dmesg | tail -20 | grep -q 'cannot carry a 4096-byte logical block'"
	fi
	unload_mods
else
	ksft_fail "softdma loads with max_seg_size=2048"
fi
ksft_exit
