#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# leak_test.sh - nothing leaks to user space.
#
# The medium: blocks never written read as zeros; blocks written then
# unmapped (sg_unmap, WRITE SAME with a zero block) read as zeros, even after
# the pages behind them were freed and handed out again for another LU's
# data, and a partial unmap zeroes exactly its blocks; a fresh page taken for
# one written block reads as zeros around it (pages handed to the store are
# zeroed); GET LBA STATUS reports unmapped ranges as deallocated and the
# store gives its pages back (debugfs store_pages).
#
# Responses: INQUIRY (standard and every VPD page), MODE SENSE(6)/(10),
# REPORT LUNS, GET LBA STATUS, REQUEST SENSE (fixed and descriptor), READ
# CAPACITY(10)/(16), REPORT SUPPORTED OPERATION CODES, and the sense data of
# refused commands (fixed and descriptor format) are made of defined bytes:
# cdb_fuzz's canary mode runs each twice into user buffers filled with two
# different canaries (direct I/O: the HBA writes straight into them) and the
# bytes returned must be identical, the bytes past the residue untouched;
# with allocation lengths smaller and larger than the response and buffers
# smaller than the allocation length, the length moved must be the smallest
# of the three (the residue is right).
#
# A kernel that zeroes heap allocations (init_on_alloc=1, Debian's default)
# makes uninitialised bytes read as zeros, the same in both runs: make check
# boots the VM with init_on_alloc=0, and the test says which it ran under.
#
# Duration: about 30-60 s under QEMU TCG on two cores.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
fuzz=$here/cdb_fuzz

require_root
require_cmd sg_dd sg_unmap sg_raw awk
[ -x "$fuzz" ] || ksft_skip_all "cdb_fuzz not built (make -C selftests)"
[ -f "$ko_dir/softdma.ko" ] || ksft_skip_all "softdma.ko not found in $ko_dir"
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
mod_loaded sg || modprobe sg 2>/dev/null
mod_loaded sg || ksft_skip_all "the sg driver is not available"
grep -qs ' /sys/kernel/debug ' /proc/mounts || \
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

tmp=$(mktemp -d /tmp/leak_test.XXXXXX)
cleanup() {
	unload_mods
	rm -rf "$tmp"
}
trap cleanup EXIT
ksft_init
if grep -qw 'init_on_alloc=0' /proc/cmdline; then
	diag "heap allocations not zeroed by the kernel (init_on_alloc=0): uninitialised bytes would show"
else
	diag "the kernel may zero heap allocations (no init_on_alloc=0 on its command line): uninitialised heap bytes would read as zeros here"
fi

# shellcheck disable=SC2015 # either failing
load_dmahba num_luns=2 dev_size_mb=16 && wait_for dmahba_sg 1 ||
	{ ksft_fail "softdma and dmahba (num_luns=2 dev_size_mb=16) load"; ksft_exit; }
sg0=/dev/$(dmahba_sg 0)
sg1=/dev/$(dmahba_sg 1)
sd0=/dev/$(dmahba_sd 0)
stats=/sys/kernel/debug/dmahba/host$(dmahba_host)/stats
diag "LUN 0: $sg0 $sd0, LUN 1: $sg1"
t0=$(date +%s)
# Debian's kernels zero every allocation (CONFIG_INIT_ON_ALLOC_DEFAULT_ON):
# then a buffer or page dmahba forgot to clear is clear anyway, and only a
# boot with init_on_alloc=0 lets the checks below see that mistake.
if dmesg | grep -q 'mem auto-init:.*heap alloc:on'; then
	diag "init_on_alloc is on: the kernel clears what dmahba allocates; boot with init_on_alloc=0 to test dmahba's own clearing"
fi

# canary DEV CDB_HEX LEN: cdb_fuzz's canary mode, output in $tmp/out
canary() {
	"$fuzz" canary "$1" "$2" "$3" > "$tmp/out" 2>&1
}
# canary_parse DEV CDB_HEX LEN: canary, then st, host and moved from the
# status line and data, the bytes moved (for byte); forks are slow under TCG
canary_parse() {
	canary "$@"
	_rc=$?
	# shellcheck disable=SC2046 # the words of the status line
	set -- $(grep '^status ' "$tmp/out")
	st=$2 host=$4 moved=${10}
	data=$(sed -n 's/^data//p' "$tmp/out")
	return $_rc
}
# byte N (from 0) of the data moved, as a number
byte() {
	# shellcheck disable=SC2086 # one word per byte
	set -- $1 $data
	eval "printf '%d' 0x\${$(($1 + 2))}"
}
be16() { echo $(($(byte "$1") * 256 + $(byte $(($1 + 1))))); }
be32() { echo $(($(be16 "$1") * 65536 + $(be16 $(($1 + 2))))); }
min() { _m=$1; for _v in "$@"; do [ "$_v" -lt "$_m" ] && _m=$_v; done; echo "$_m"; }
store_pages() { sed -n "s/^lun$1 store_pages \([0-9]*\)/\1/p" "$stats"; }
# read16 DEV LBA BLOCKS: READ(16) in canary mode (512-byte blocks)
read16() { canary_parse "$1" "$(printf '8800%016x%08x0000' "$2" "$3")" $(($3 * 512)); }

# blocks DEV LBA N: the map of N blocks read back through canary-filled
# buffers, one character per block: '.' zeros, Z or Y the patterns below,
# x anything else; "fail" if the read itself failed
blocks() {
	if read16 "$1" "$2" "$3" && [ "$st" = 0 ] && [ "$moved" = $(($3 * 512)) ]; then
		sed -n 's/^blocks //p' "$tmp/out"
	else
		echo fail
	fi
}
# repeat STRING N
repeat() { awk -v s="$1" -v n="$2" 'BEGIN { while (n-- > 0) printf "%s", s; print "" }'; }

# zeros DEV LBA N: N blocks (a multiple of 512) read back as zeros through
# canary-filled buffers
zeros() {
	_l=$2
	while [ "$_l" -lt $(($2 + $3)) ]; do
		_b=$(blocks "$1" "$_l" 512)
		[ "$_b" = "$(repeat . 512)" ] || { diag "$1 LBA $_l..+512: $_b"; return 1; }
		_l=$((_l + 512))
	done
}

head -c 4194304 /dev/zero | tr '\0' 'Z' > "$tmp/pz"	# 5a
head -c 4194304 /dev/zero | tr '\0' 'Y' > "$tmp/py"	# 59
nblocks=$((16 * 2048))

# ---- the medium -----------------------------------------------------------
never_written() { zeros "$sg0" 0 512 && zeros "$sg0" $((nblocks - 512)) 512; }
ksft_check "never-written blocks read as zeros (LUN 0: first and last 512)" never_written
ksft_check "never-written blocks read as zeros (LUN 1: last 512)" zeros "$sg1" $((nblocks - 512)) 512

# 1 MiB of 5a on LUN 0 at LBA 1024
p0=$(store_pages 0)
sg_dd if="$tmp/pz" of="$sg0" bs=512 seek=1024 count=2048 >/dev/null 2>&1
p1=$(store_pages 0)
ksft_check "1 MiB written: LUN 0 holds 256 more pages ($p0 -> $p1)" [ $((p1 - p0)) -eq 256 ]
ksft_check "the written data reads back" [ "$(blocks "$sg0" 1024 8)" = ZZZZZZZZ ]

# a partial unmap zeroes exactly its blocks
sg_unmap --force --lba=1027 --num=3 "$sg0" >/dev/null 2>&1
b=$(blocks "$sg0" 1024 8)
ksft_check "UNMAP of 3 blocks inside a page zeroes exactly them ($b)" [ "$b" = ZZZ...ZZ ]

# unmap it all, then reuse the pages for LUN 1
sg_unmap --force --lba=1024 --num=2048 "$sg0" >/dev/null 2>&1
p2=$(store_pages 0)
ksft_check "UNMAP of 1 MiB gives the 256 pages back ($p1 -> $p2)" [ "$p2" -eq "$p0" ]
# the first descriptor's provisioning status (byte 20 of the response)
deallocated() {
	canary_parse "$sg0" "$(printf '9e12%016x%08x0000' 1024 64)" 64 &&
		[ "$st" = 0 ] && [ "$(be32 8)" = 0 ] &&
		[ "$(be32 12)" = 1024 ] && [ "$(byte 20)" = 1 ]
}
ksft_check "GET LBA STATUS reports the unmapped range deallocated" deallocated
q0=$(store_pages 1)
sg_dd if="$tmp/py" of="$sg1" bs=512 seek=0 count=8192 >/dev/null 2>&1
q1=$(store_pages 1)
ksft_check "4 MiB written to LUN 1 ($q0 -> $q1 pages), reusing freed memory" [ $((q1 - q0)) -eq 1024 ]
ksft_check "unmapped blocks of LUN 0 read as zeros after their memory went to LUN 1" \
	zeros "$sg0" 1024 2048
ksft_check "LUN 1's data is intact" [ "$(blocks "$sg1" 8000 8)" = YYYYYYYY ]

# WRITE SAME with a zero block deallocates too
sg_dd if="$tmp/pz" of="$sg0" bs=512 seek=4096 count=512 >/dev/null 2>&1
head -c 512 /dev/zero > "$tmp/z512"
sg_raw -s 512 -i "$tmp/z512" "$sg0" 41 00 00 00 10 00 00 02 00 00 >/dev/null 2>&1
ksft_check "WRITE SAME of a zero block over written data reads as zeros" zeros "$sg0" 4096 512

# fresh pages are zeroed: free pages full of 5a, then write one block per page
sg_dd if="$tmp/pz" of="$sg0" bs=512 seek=8192 count=8192 >/dev/null 2>&1
sg_unmap --force --lba=8192 --num=8192 "$sg0" >/dev/null 2>&1
i=0
while [ $i -lt 32 ]; do
	sg_dd if="$tmp/py" of="$sg1" bs=512 seek=$((16384 + 8 * i)) count=1 >/dev/null 2>&1
	i=$((i + 1))
done
b=$(blocks "$sg1" 16384 256)
ksft_check "one block written into each of 32 fresh pages: the rest of each page reads as zeros" \
	[ "$b" = "$(repeat Y....... 32)" ]
[ "$b" = "$(repeat Y....... 32)" ] || diag "blocks: $b"

# through the block device (the page cache) too
dd if="$sd0" bs=65536 skip=$((1024 * 512 / 65536)) count=16 2>/dev/null > "$tmp/bdev"
ksft_check "the unmapped range reads as zeros through $sd0" \
	sh -c "[ \$(tr -d '\\000' < $tmp/bdev | wc -c) -eq 0 ] && [ \$(wc -c < $tmp/bdev) -eq 1048576 ]"

diag "the medium: $(($(date +%s) - t0)) s"
t0=$(date +%s)

# ---- responses ------------------------------------------------------------
# resp NAME DEV CDB_HEX DXFER ALLOC HDR KIND: GOOD, defined bytes, and the
# length moved is min(DXFER, ALLOC, full length) where the full length comes
# from the response header (of HDR bytes) as KIND says
resp() {
	_name=$1 _dev=$2 _cdb=$3 _dx=$4 _al=$5 _hdr=$6 _kind=$7
	if ! canary_parse "$_dev" "$_cdb" "$_dx"; then
		sed 's/^/# /' "$tmp/out" | grep -v '^# data' | head -5
		ksft_fail "$_name: defined bytes, canary past the residue"
		return
	fi
	if [ "$st" != 0 ] || [ "$host" != 0 ]; then
		head -1 "$tmp/out" | sed 's/^/# /'
		ksft_fail "$_name: GOOD"
		return
	fi
	_mv=$moved
	if [ "$_mv" -lt "$_hdr" ]; then
		_full=$_hdr	# too short to see the length: at least the header
	else
		case $_kind in
		inq)	_full=$(($(byte 4) + 5)) ;;
		vpd)	_full=$(($(be16 2) + 4)) ;;
		ms6)	_full=$(($(byte 0) + 1)) ;;
		ms10)	_full=$(($(be16 0) + 2)) ;;
		rl)	_full=$(($(be32 0) + 8)) ;;
		len4)	_full=$(($(be32 0) + 4)) ;;
		sense)	_full=$(($(byte 7) + 8)) ;;
		rsoc1)	_full=$(($(be16 2) + 4 + ($(byte 1) & 0x80 ? 12 : 0))) ;;
		*)	_full=$_kind ;;		# a fixed length
		esac
	fi
	_want=$(min "$_dx" "$_al" "$_full")
	if [ "$_mv" = "$_want" ]; then
		ksft_pass "$_name: defined bytes, $_mv moved of $_full"
	else
		ksft_fail "$_name: $_mv bytes moved, expected $_want (buffer $_dx, allocation $_al, response $_full)"
	fi
}

# a few mapped blocks for GET LBA STATUS to describe
sg_dd if="$tmp/pz" of="$sg0" bs=512 seek=100 count=24 >/dev/null 2>&1

for al in 4 36 96 255; do
	resp "INQUIRY alloc $al" "$sg0" "$(printf '120000%04x00' $al)" 4096 $al 5 inq
done
resp "INQUIRY alloc 255, 64-byte buffer" "$sg0" "12000000ff00" 64 255 5 inq
for pg in 00 80 83 b0 b1 b2; do
	for al in 4 255; do
		resp "VPD $pg alloc $al" "$sg0" "$(printf '1201%s%04x00' $pg $al)" 4096 $al 4 vpd
	done
done
resp "VPD b0 alloc 255, 32-byte buffer" "$sg1" "1201b000ff00" 32 255 4 vpd
for pc in 0 1 2; do
	for dbd in 00 08; do
		resp "MODE SENSE(6) all pages pc $pc dbd $dbd" "$sg0" \
			"$(printf '1a%s%02x00ff00' $dbd $((pc * 64 + 63)))" 4096 255 4 ms6
	done
	resp "MODE SENSE(10) all pages pc $pc llbaa" "$sg0" \
		"$(printf '5a10%02x00000000010000' $((pc * 64 + 63)))" 4096 256 8 ms10
done
resp "MODE SENSE(6) caching, alloc 10" "$sg0" "1a0008000a00" 4096 10 4 ms6
resp "MODE SENSE(10) control, alloc 12" "$sg0" "5a000a00000000000c00" 4096 12 8 ms10
for sel in 00 01 02; do
	resp "REPORT LUNS select $sel" "$sg0" "$(printf 'a000%s000000%08x0000' $sel 4096)" 4096 4096 8 rl
done
resp "REPORT LUNS alloc 16" "$sg1" "a00000000000000000100000" 4096 16 8 rl
resp "GET LBA STATUS at 0, alloc 4096" "$sg0" "$(printf '9e12%016x%08x0000' 0 4096)" 4096 4096 8 len4
resp "GET LBA STATUS at 100, alloc 24" "$sg0" "$(printf '9e12%016x%08x0000' 100 24)" 4096 24 8 len4
resp "GET LBA STATUS at 100, alloc 4000, 100-byte buffer" "$sg0" \
	"$(printf '9e12%016x%08x0000' 100 4000)" 100 4000 8 len4
resp "READ CAPACITY(10)" "$sg0" "25000000000000000000" 4096 8 8 8
resp "READ CAPACITY(16) alloc 32" "$sg0" "$(printf '9e10%016x%08x0000' 0 32)" 4096 32 32 32
resp "READ CAPACITY(16) alloc 12" "$sg0" "$(printf '9e10%016x%08x0000' 0 12)" 4096 12 12 32
resp "REPORT SUPPORTED OPERATION CODES, all" "$sg0" "a30c00000000000010000000" 4096 4096 4 len4
resp "REPORT SUPPORTED OPERATION CODES, all with timeouts" "$sg0" "a30c80000000000010000000" 4096 4096 4 len4
resp "REPORT SUPPORTED OPERATION CODES, READ(16)" "$sg0" "a30c01880000000001000000" 4096 256 4 rsoc1
resp "REPORT SUPPORTED OPERATION CODES, READ CAPACITY(16) with timeouts" "$sg0" \
	"a30c829e0010000001000000" 4096 256 4 rsoc1
resp "REQUEST SENSE fixed" "$sg0" "03000000fc00" 4096 252 8 sense
resp "REQUEST SENSE descriptor" "$sg0" "03010000fc00" 4096 252 8 sense
resp "REQUEST SENSE alloc 5" "$sg0" "030000000500" 4096 5 8 sense

# sense data of refused commands, fixed then descriptor format
refused() {
	_name=$1 _cdb=$2 _fmt=$3
	if canary_parse "$sg0" "$_cdb" 512 && [ "$st" = 0x2 ] && [ "$moved" = 0 ] &&
	   grep -q "^status .* sense $_fmt" "$tmp/out"; then
		ksft_pass "$_name: CHECK CONDITION, sense $_fmt.. defined, nothing moved"
	else
		head -1 "$tmp/out" | sed 's/^/# /'
		ksft_fail "$_name: CHECK CONDITION, sense $_fmt.. defined, nothing moved"
	fi
}
for fmt in 70 72; do
	refused "LOG SENSE (unsupported), sense $fmt" "4d000000000000020000" $fmt
	refused "INQUIRY of VPD page 99h, sense $fmt" "120199010000" $fmt
	refused "READ(16) past the end, sense $fmt" "$(printf '8800%016x%08x0000' $nblocks 1)" $fmt
	refused "MODE SENSE saved values, sense $fmt" "1a00ff00ff00" $fmt
	# switch to descriptor-format sense: MODE SELECT(6) of the control page with D_SENSE
	printf '\000\000\000\000\012\012\006\020\000\000\000\000\000\000\000\000' > "$tmp/ctl"
	[ $fmt = 70 ] && { sg_raw -s 16 -i "$tmp/ctl" "$sg0" 15 10 00 00 10 00 >/dev/null 2>&1 ||
		diag "MODE SELECT of D_SENSE failed"; }
done
diag "responses: $(($(date +%s) - t0)) s"
ksft_exit
