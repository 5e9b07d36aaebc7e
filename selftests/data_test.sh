#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# data_test.sh - data written reads back identical, at many sizes and
# offsets, through /dev/sgY (SG_IO, no cache) and /dev/sdX (block layer),
# including commands larger than max_window_kb (several windows each); every
# byte moves through the DMA channel (its bytes_transferred grows exactly as
# much as dmahba's windows); the medium is thin (pages appear on write and go
# on UNMAP); 4096-byte blocks work too. About 40 s under TCG.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd sg_dd sg_unmap cmp dd
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
trap unload_mods EXIT
ksft_init

WIN_KB=64
load_dmahba max_window_kb=$WIN_KB nr_channels=2 || ksft_skip_all "cannot load softdma/dmahba"
sd=$(dmahba_sd)
sg=$(dmahba_sg)
# shellcheck disable=SC2012 # debugfs names
stats=$(ls -d /sys/kernel/debug/dmahba/*/stats | head -1)
diag "disk /dev/$sd, /dev/$sg, max_window_kb=$WIN_KB"

chan_bytes() {
	_t=0
	for _c in /sys/class/dma/dma*chan*; do
		[ "$(cat "$_c/in_use")" = 1 ] && _t=$((_t + $(cat "$_c/bytes_transferred")))
	done
	echo $_t
}
# blocks per SG_IO command: 1 MiB, or the most the host takes (swiotlb=force
# limits it to what the DMA API can bounce at once, 256 KiB)
hw_kb=$(cat /sys/block/"$sd"/queue/max_hw_sectors_kb)
BPT=$((hw_kb * 2 < 2048 ? hw_kb * 2 : 2048))
diag "max_hw_sectors_kb=$hw_kb: SG_IO commands of up to $BPT blocks"
hba_bytes() { awk '$2 ~ /chan/ { t += $5 } END { print t + 0 }' "$stats"; }
hba_windows() { awk '$2 ~ /chan/ { t += $4 } END { print t + 0 }' "$stats"; }
store_pages() { awk '$1 == "lun0" { print $3 }' "$stats"; }

# (sg_dd does not truncate its output file: /tmp/r is removed before each read)
# pattern SIZE_BYTES LBA: write with SG_IO, read back with SG_IO and compare
sg_roundtrip() {
	_blocks=$(($1 / 512))
	dd if=/dev/urandom of=/tmp/p bs=512 count="$_blocks" 2>/dev/null
	sg_dd if=/tmp/p of=/dev/"$sg" bs=512 seek="$2" bpt="$BPT" 2>/dev/null || return 1
	rm -f /tmp/r; sg_dd if=/dev/"$sg" of=/tmp/r bs=512 skip="$2" count="$_blocks" bpt="$BPT" 2>/dev/null || return 1
	cmp -s /tmp/p /tmp/r
}

# the same through the block device, the page cache dropped in between;
# read back also with SG_IO, so the data is known to be on the medium
sd_roundtrip() {
	_blocks=$(($1 / 512))
	dd if=/dev/urandom of=/tmp/p bs=512 count="$_blocks" 2>/dev/null
	dd if=/tmp/p of=/dev/"$sd" bs=512 seek="$2" conv=notrunc,fsync 2>/dev/null || return 1
	echo 3 > /proc/sys/vm/drop_caches
	rm -f /tmp/r; dd if=/dev/"$sd" of=/tmp/r bs=512 skip="$2" count="$_blocks" 2>/dev/null || return 1
	cmp -s /tmp/p /tmp/r || return 1
	rm -f /tmp/r; sg_dd if=/dev/"$sg" of=/tmp/r bs=512 skip="$2" count="$_blocks" bpt="$BPT" 2>/dev/null || return 1
	cmp -s /tmp/p /tmp/r
}

# the kernel's partition scan of the new disk must not straddle the baseline
wait_idle "$sd" || diag "$sd: requests still in flight after 10 s"
b0=$(chan_bytes); h0=$(hba_bytes); w0=$(hba_windows)
moved=0
for size in 512 4096 65536 66048 262144 1048576 3149824; do
	for lba in 0 7 4096 200001; do
		ksft_check "SG_IO ${size} bytes at LBA $lba read back identical" sg_roundtrip $size $lba
		moved=$((moved + 2 * size))
	done
done
b1=$(chan_bytes); h1=$(hba_bytes); w1=$(hba_windows)
diag "data moved $moved bytes; channel bytes_transferred +$((b1 - b0)); dmahba window bytes +$((h1 - h0)); windows +$((w1 - w0))"
ksft_check "channel bytes_transferred grew exactly by dmahba's window bytes" [ $((b1 - b0)) -eq $((h1 - h0)) ]
# READ CAPACITY answers (8 bytes per sg_dd) are the only other data
ksft_check "every data byte went through the channel" \
	sh -c "[ $((b1 - b0)) -ge $moved ] && [ $((b1 - b0)) -le $((moved + 4096)) ]"
# a 1 MiB command in 64 KiB windows needs 16 of them
ksft_check "large commands were moved in several windows" [ $((w1 - w0)) -ge $((moved / (WIN_KB * 1024))) ]

for size in 4096 1048576 2097152; do
	for lba in 8 1000001; do
		ksft_check "block device ${size} bytes at LBA $lba read back identical" sd_roundtrip $size $lba
	done
done

# thin provisioning: a fresh 1 MiB costs 256 pages; UNMAP gives them back
p0=$(store_pages)
dd if=/dev/urandom of=/tmp/p bs=1024 count=1024 2>/dev/null
sg_dd if=/tmp/p of=/dev/"$sg" bs=512 seek=1500000 bpt="$BPT" 2>/dev/null
p1=$(store_pages)
ksft_check "1 MiB written to fresh blocks allocates 1 MiB of pages ($p0 -> $p1)" [ $((p1 - p0)) -eq $((1048576 / $(getconf PAGESIZE 2>/dev/null || echo 4096))) ]
sg_unmap --force --lba=1500000 --num=2048 /dev/"$sg" 2>/dev/null
p2=$(store_pages)
ksft_check "UNMAP gives the pages back ($p1 -> $p2)" [ "$p2" -eq "$p0" ]
rm -f /tmp/r; sg_dd if=/dev/"$sg" of=/tmp/r bs=512 skip=1500000 count=2048 bpt="$BPT" 2>/dev/null
dd if=/dev/zero of=/tmp/z bs=1024 count=1024 2>/dev/null
ksft_check "unmapped blocks read as zeros" cmp -s /tmp/r /tmp/z
rm -f /tmp/r; sg_dd if=/dev/"$sg" of=/tmp/r bs=512 skip=1900000 count=2048 bpt="$BPT" 2>/dev/null
ksft_check "never written blocks read as zeros" cmp -s /tmp/r /tmp/z

# 4096-byte logical blocks, and reload: the module comes back clean
unload_mods
load_dmahba sector_size=4096 max_window_kb=64 || ksft_fail "reload with sector_size=4096"
sg=$(dmahba_sg)
sd=$(dmahba_sd)
ksft_check "sector_size=4096: logical block size" [ "$(cat /sys/block/"$sd"/queue/logical_block_size)" = 4096 ]
dd if=/dev/urandom of=/tmp/p bs=4096 count=300 2>/dev/null
sg_dd if=/tmp/p of=/dev/"$sg" bs=4096 seek=33 bpt=$((BPT / 8)) 2>/dev/null
rm -f /tmp/r; sg_dd if=/dev/"$sg" of=/tmp/r bs=4096 skip=33 count=300 bpt=$((BPT / 8)) 2>/dev/null
ksft_check "sector_size=4096: 1.2 MiB read back identical" cmp -s /tmp/p /tmp/r
rm -f /tmp/p /tmp/r /tmp/z
ksft_exit
