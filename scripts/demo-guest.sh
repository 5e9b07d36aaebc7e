# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# demo-guest.sh - run inside the VM by scripts/demo.sh (busybox sh).
set -e
# shellcheck source=../selftests/lib.sh # vm_run puts it there
. /dmahba/lib.sh
say() { echo; echo "### $*"; }

say "insmod softdma.ko, then dmahba.ko max_window_kb=256"
load_dmahba max_window_kb=256
dmesg | grep -E 'softdma|dmahba' | sed 's/^/  /'
host=/sys/class/scsi_host/host$(dmahba_host) sg=/dev/$(dmahba_sg 0) sd=/dev/$(dmahba_sd 0)
echo "host: $(basename "$host"), proc_name $(cat "$host/proc_name"); disk: $sd, generic: $sg"

say "lsscsi"
lsscsi 2>/dev/null || cat /proc/scsi/scsi
say "sg_inq $sg"
sg_inq "$sg"
say "sg_vpd --page=bl $sg  (block limits)"
sg_vpd --page=bl "$sg"
say "sg_readcap --16 $sg"
sg_readcap --16 "$sg"

before=0
for c in /sys/class/dma/dma*chan*; do before=$((before + $(cat "$c/bytes_transferred"))); done

say "a random 4 MiB pattern written with sg_dd at LBA 2048, read back, compared"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
sg_dd if=/tmp/pattern of="$sg" bs=512 seek=2048 bpt=256
sg_dd if="$sg" of=/tmp/readback bs=512 skip=2048 count=8192 bpt=256
cmp /tmp/pattern /tmp/readback || { echo "MISMATCH"; exit 1; }
echo "read back identical: $(md5sum < /tmp/pattern | cut -d' ' -f1)"

say "DMA channel counters (/sys/class/dma)"
after=0
for c in /sys/class/dma/dma*chan*; do
	echo "$(basename "$c"): in_use=$(cat "$c/in_use") memcpy_count=$(cat "$c/memcpy_count") bytes_transferred=$(cat "$c/bytes_transferred")"
	after=$((after + $(cat "$c/bytes_transferred")))
done
echo "bytes moved by DMA during the write and the read: $((after - before)) (the data: $((2 * 4 * 1048576)))"

say "the four stages of one request: a 1 MiB READ in four 256 KiB windows (tracefs, events/dmahba)"
t=/sys/kernel/tracing
echo global > $t/trace_clock
echo > $t/trace
echo 1 > $t/events/dmahba/enable
sg_dd if="$sg" of=/dev/null bs=512 skip=2048 count=2048 bpt=2048
echo 0 > $t/events/dmahba/enable
tag=$(grep -m1 -o 'io_map_transfer: tag=[0-9]* offset=0 length=262144' $t/trace | sed 's/.*tag=\([0-9]*\).*/\1/')
grep "tag=$tag " $t/trace | sed 's/^ *//'
say "dmahba debugfs stats"
cat /sys/kernel/debug/dmahba/*/stats
say "rmmod dmahba softdma"
unload_mods
echo "done"
