#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fio_verify_test.sh - data integrity under load: fio writes with crc32c
# headers and verifies after the write, then a separate verify-only run reads
# everything back and verifies it again. Random and sequential, blocks of
# 512 B to 1 MiB, queue depths 1 to 64, libaio (and io_uring when the kernel
# offers it), two jobs pinned one per CPU so that both hardware queues (two
# DMA channels) carry requests; through /dev/sdX with O_DIRECT and through
# the page cache (written back with fsync, caches dropped, then verified from
# the disk). A second load with max_window_kb=64 makes every large request
# move in several IoMapTransfer windows. A corrupted block must make the
# verify-only run fail (the check can fail). Zero mismatches; the volume
# verified is printed.
#
# Runtime: 40-80 s under QEMU TCG on two cores (fio moves about 750 MiB in
# all); every fio run is bounded by "timeout" ($FIO_TIMEOUT, 600 s).
. "$(dirname "$0")/lib.sh"

FIO_TIMEOUT=${FIO_TIMEOUT:-600}	# catches a hang; a slow machine needs its time

require_cmd fio awk
fio --enghelp 2>/dev/null | grep -qw libaio || ksft_skip_all "fio has no libaio engine"

tmp=/tmp/fio_verify.$$
fresh_dmahba_test
ksft_init

ncpu=$(grep -c '^processor' /proc/cpuinfo)
if [ "$ncpu" -ge 2 ]; then
	pin="cpus_allowed=0-1
cpus_allowed_policy=split"
else
	pin=""
fi
verified_kb=0
t_start=$(cut -d' ' -f1 /proc/uptime)

# stat_col FIELD: that column, one line per queue
stat_col() {
	awk -v f="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 ~ /^[0-9]+$/ { print $(c[f]) }' "$stats"
}
# chan_bytes: bytes_transferred of the host's channels, summed
chan_bytes() {
	_s=0
	# shellcheck disable=SC2013 # channel names
	for _c in $(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $2 }' "$stats"); do
		_s=$((_s + $(cat /sys/class/dma/"$_c"/bytes_transferred)))
	done
	echo $_s
}

# run_fio NAME JOBFILE [FIO-OPTIONS...]: run fio bounded in time; 0 if it
# exited 0 and every job reports error 0. Adds its reads (all of them
# verification reads here) to verified_kb. Output in $tmp/NAME.{out,err}.
run_fio() {
	_n=$1
	_j=$2
	shift 2
	_t0=$(cut -d' ' -f1 /proc/uptime)
	timeout "$FIO_TIMEOUT" fio --minimal "$@" "$_j" > $tmp/"$_n".out 2> $tmp/"$_n".err
	_rc=$?
	_t1=$(cut -d' ' -f1 /proc/uptime)
	_kb=$(awk -F';' '/^3;/ { s += $6 } END { printf "%.0f\n", s }' $tmp/"$_n".out)
	fio_write_kb=$(awk -F';' '/^3;/ { s += $47 } END { printf "%.0f\n", s }' $tmp/"$_n".out)
	_errs=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' $tmp/"$_n".out)
	fio_read_kb=$_kb
	diag "fio $_n: wrote $((fio_write_kb / 1024)) MiB, read $((_kb / 1024)) MiB in $(echo "$_t0 $_t1" | awk '{ printf "%.1f", $2 - $1 }') s"
	if [ "$_rc" != 0 ] || [ "$_errs" != 0 ]; then
		diag "fio $_n: exit $_rc, $_errs job(s) with an error"
		grep -v '^3;' $tmp/"$_n".out | head -5 | sed 's/^/# /'
		head -10 $tmp/"$_n".err | sed 's/^/# /'
		return 1
	fi
	return 0
}
# count the volume of a passing verification run
count_verified() { verified_kb=$((verified_kb + fio_read_kb)); }
# verify_only JOBFILE: the same jobs as a verify-only run, in JOBFILE.vo
verify_only() {
	awk 'NR == 1 { print; print "verify_only=1"; next }
		/^do_verify=/ { print "do_verify=1"; next } { print }' "$1" > "$1.vo"
	echo "$1.vo"
}

# Is io_uring usable (the kernel may have it disabled)?
uring=libaio
if fio --enghelp 2>/dev/null | grep -qw io_uring &&
   fio --name=probe --ioengine=io_uring --filename=$tmp/probe --size=64k \
	--rw=write --bs=4k --direct=0 >/dev/null 2>&1; then
	uring=io_uring
fi
rm -f $tmp/probe
diag "engines: libaio, $uring; $ncpu CPU(s)"

# ===================================================== load 1: 1 MiB windows
dmahba_up nr_channels=2
nq=$(stat_col requests | wc -l)
diag "$dev on host$h, $nq queue(s): $(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { printf "%s ", $2 }' "$stats")"
ksft_check "the host has 2 queues (2 DMA channels)" [ "$nq" -eq 2 ]

# --- O_DIRECT: random and sequential, 512 B - 1 MiB, QD 1 - 64
cat > $tmp/direct.job <<EOF
[global]
filename=$dev
direct=1
verify=crc32c
do_verify=1
verify_fatal=1
group_reporting=1

[rand]
rw=randwrite
ioengine=libaio
iodepth=32
bssplit=512/10:4k/25:64k/25:256k/20:1m/20
numjobs=2
$pin
size=24m
offset=0
offset_increment=32m

[seq_qd1]
rw=write
ioengine=libaio
iodepth=1
bsrange=512-16k
size=4m
offset=64m

[seq_qd64]
rw=write
ioengine=$uring
iodepth=64
bs=1m
size=64m
offset=80m
EOF
req0=$(stat_col requests | tr '\n' ' ')
win0=$(stat_sum bytes)
chb0=$(chan_bytes)
if run_fio direct $tmp/direct.job; then
	count_verified
	direct_kb=$fio_write_kb
	ksft_pass "O_DIRECT write + verify (random and sequential, 512 B-1 MiB, QD 1-64): $((fio_read_kb / 1024)) MiB verified"
else
	ksft_fail "O_DIRECT write + verify (random and sequential, 512 B-1 MiB, QD 1-64)"
fi
req1=$(stat_col requests | tr '\n' ' ')
win1=$(stat_sum bytes)
chb1=$(chan_bytes)
diag "requests per queue: before $req0, after $req1"
busy=0
# shellcheck disable=SC2086 # one count per queue
set -- $req0
for _r in $req1; do
	[ "$_r" -gt "${1:-0}" ] && busy=$((busy + 1))
	shift
done
ksft_check "every queue carried requests of the two pinned jobs ($busy of $nq)" [ "$busy" -eq "$nq" ]
diag "window bytes $((win1 - win0)), channel bytes_transferred $((chb1 - chb0))"
ksft_check "the channels moved exactly the windows' bytes" [ $((win1 - win0)) -eq $((chb1 - chb0)) ]

# --- a separate verify-only run reads it all back
if run_fio direct_reverify "$(verify_only $tmp/direct.job)" &&
   [ "$fio_read_kb" -eq "${direct_kb:-0}" ]; then
	count_verified
	ksft_pass "O_DIRECT verify-only read back: $((fio_read_kb / 1024)) MiB verified"
else
	diag "verified $fio_read_kb KiB of ${direct_kb:-?} KiB written"

	ksft_fail "O_DIRECT verify-only read back"
fi

# --- through the page cache: written back by fsync, verified from the disk
cat > $tmp/buffered.job <<EOF
[global]
filename=$dev
direct=0
ioengine=psync
verify=crc32c
verify_fatal=1
group_reporting=1

[buffered]
rw=randwrite
bssplit=512/10:4k/40:64k/30:512k/20
numjobs=2
$pin
size=24m
offset=160m
offset_increment=32m
do_verify=0
end_fsync=1
EOF
if run_fio buffered $tmp/buffered.job; then
	buffered_kb=$fio_write_kb
	ksft_pass "page cache: random write of 512 B-512 KiB blocks, fsync"
else
	ksft_fail "page cache: random write of 512 B-512 KiB blocks, fsync"
fi
sync
echo 3 > /proc/sys/vm/drop_caches
win0=$(stat_sum bytes)
if run_fio buffered_verify "$(verify_only $tmp/buffered.job)" &&
   [ "$fio_read_kb" -eq "${buffered_kb:-0}" ]; then
	count_verified
	ksft_pass "page cache: verify-only after drop_caches: $((fio_read_kb / 1024)) MiB verified"
else
	diag "verified $fio_read_kb KiB of ${buffered_kb:-?} KiB written"
	ksft_fail "page cache: verify-only after drop_caches"
fi
win1=$(stat_sum bytes)
diag "the page-cache verification read $(((win1 - win0) >> 20)) MiB from the disk"
ksft_check "that verification read the data from the disk, not the cache" \
	[ $((win1 - win0)) -ge $((fio_read_kb * 1024)) ]

# --- the verification can fail: corrupt one block the sequential job wrote
cat > $tmp/control.job <<EOF
[control]
filename=$dev
direct=1
ioengine=libaio
iodepth=4
rw=write
bs=64k
size=4m
offset=320m
verify=crc32c
EOF
if run_fio control $tmp/control.job; then
	dd if=/dev/zero of="$dev" bs=4096 count=1 seek=$(((320 * 1024 + 1024) / 4)) \
		oflag=direct conv=notrunc 2>/dev/null
	if run_fio control_bad "$(verify_only $tmp/control.job)" >/dev/null 2>&1; then
		ksft_fail "a zeroed block fails the verify-only run"
	else
		ksft_pass "a zeroed block fails the verify-only run"
	fi
else
	ksft_fail "a zeroed block fails the verify-only run (the clean write failed)"
fi

unload_mods

# ===================================================== load 2: 64 KiB windows
dmahba_up nr_channels=2 max_window_kb=64
cat > $tmp/window.job <<EOF
[global]
filename=$dev
direct=1
verify=crc32c
do_verify=1
verify_fatal=1
group_reporting=1

[rand_win]
rw=randwrite
ioengine=libaio
iodepth=16
bssplit=4k/10:64k/20:192k/20:512k/25:1m/25
numjobs=2
$pin
size=32m
offset=0
offset_increment=32m

[seq_win]
rw=write
ioengine=$uring
iodepth=8
bsrange=60k-1m
size=32m
offset=64m
EOF
r0=$(stat_sum requests)
w0=$(stat_sum windows)
if run_fio window $tmp/window.job; then
	count_verified
	window_kb=$fio_write_kb
	ksft_pass "64 KiB windows: write + verify: $((fio_read_kb / 1024)) MiB verified"
else
	ksft_fail "64 KiB windows: write + verify"
fi
r1=$(stat_sum requests)
w1=$(stat_sum windows)
diag "64 KiB windows: $((r1 - r0)) requests in $((w1 - w0)) windows"
ksft_check "large requests moved in several windows each" [ $((w1 - w0)) -ge $((2 * (r1 - r0))) ]
if run_fio window_reverify "$(verify_only $tmp/window.job)" &&
   [ "$fio_read_kb" -eq "${window_kb:-0}" ]; then
	count_verified
	ksft_pass "64 KiB windows: verify-only read back: $((fio_read_kb / 1024)) MiB verified"
else
	ksft_fail "64 KiB windows: verify-only read back"
fi
unload_mods

t_end=$(cut -d' ' -f1 /proc/uptime)
diag "volume verified: $((verified_kb / 1024)) MiB, zero mismatches allowed; elapsed $(echo "$t_start $t_end" | awk '{ printf "%.1f", $2 - $1 }') s"
ksft_exit
