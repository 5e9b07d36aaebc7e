#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# handoff_test.sh - the port's handoff policy: which CPU starts a DMA
# context's requests (module parameter handoff, debugfs <host>/handoff;
# 0 the submitting CPU, 1 another CPU, 2 whichever measures faster).
#  a) Under each policy, switched at run time through debugfs, fio writes
#     4 KiB random blocks at QD32 from two jobs pinned one per CPU (both
#     hardware queues), verifying crc32c after the write, then a QD1 pass
#     does the same: no mismatch, no I/O error. The host's counters say the
#     policy was followed: with 0 no request was handed off, with 1 requests
#     were. With 2, one job at QD32 alone (one submitter, the other CPU
#     free) makes the policy try the other CPU (it must, every 8192
#     requests a queue starts on the submitting CPU or sooner; the job
#     makes 24576).
#  b) The stage sequence and the error paths with every request handed
#     off: data_test.sh, trace_test.sh, reset_test.sh and fault_test.sh run
#     again with DMAHBA_HANDOFF=1 (their every load of dmahba gets
#     handoff=1); each must pass as a whole.
# Needs two online CPUs: with one there is no other CPU to hand off to.
#
# Runtime: about 4 min under QEMU TCG on two cores, most of it (b).
. "$(dirname "$0")/lib.sh"

FIO_TIMEOUT=${FIO_TIMEOUT:-600}	# catches a hang; a slow machine needs its time
DBG=/sys/kernel/debug/dmahba

require_root
require_cmd fio awk
grep -qs ' /sys/kernel/debug ' /proc/mounts || \
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded softdma || [ -f "$ko_dir/softdma.ko" ] || \
	ksft_skip_all "softdma is not loaded and softdma.ko is not in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded (this test loads it with its own parameters)"
fio --enghelp 2>/dev/null | grep -qw libaio || ksft_skip_all "fio has no libaio engine"
ncpu=$(grep -c '^processor' /proc/cpuinfo)
[ "$ncpu" -ge 2 ] || ksft_skip_all "needs 2 online CPUs, has $ncpu"

tmp=/tmp/handoff_test.$$
mkdir -p $tmp
cleanup() {
	unload_mods
	rm -rf $tmp
}
trap cleanup EXIT
ksft_init

# fio_verify NAME DEPTH MiB-PER-JOB [JOBS]: random 4 KiB writes verified
# after writing, JOBS (2) jobs pinned one per CPU on areas of their own
fio_verify() {
	_nj=${4:-2}
	timeout $FIO_TIMEOUT fio --minimal --name="$1" --filename="/dev/$sd" \
		--ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
		--iodepth="$2" --numjobs="$_nj" --size="${3}M" \
		--offset_increment="${3}M" --cpus_allowed=0-1 \
		--cpus_allowed_policy=split --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 > $tmp/"$1".out 2> $tmp/"$1".err
	_rc=$?
	_errs=$(awk -F';' '/^3;/ && $5 != 0 { n++ } END { print n + 0 }' $tmp/"$1".out)
	_jobs=$(grep -c '^3;' $tmp/"$1".out)
	if [ $_rc != 0 ] || [ "$_errs" != 0 ] || [ "$_jobs" != "$_nj" ]; then
		diag "fio $1: exit $_rc, $_errs job(s) with an error, $_jobs job(s) reported"
		head -10 $tmp/"$1".err | sed 's/^/# /'
		return 1
	fi
	return 0
}

# ================================================ a) each policy, with data
if ! load_dmahba nr_channels=2; then
	ksft_fail "dmahba loads with nr_channels=2"
	ksft_exit
fi
h=$(dmahba_host)
sd=$(dmahba_sd 0)
stats=$DBG/host$h/stats
knob=$DBG/host$h/handoff
nq=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/' "$stats" | wc -l)
diag "/dev/$sd on host$h, $nq queue(s), policy $(cat "$knob") at load"

for mode in 0 1 2; do
	if ! echo $mode > "$knob" || [ "$(cat "$knob")" != $mode ]; then
		ksft_fail "handoff=$mode: debugfs takes it"
		continue
	fi
	h0=$(stat_sum handoffs)
	p0=$(stat_sum probes)
	s0=$(stat_sum switches)
	r0=$(stat_sum requests)
	ksft_check "handoff=$mode: 4 KiB random writes at QD32 on 2 CPUs verify (crc32c)" \
		fio_verify qd32-$mode 32 24
	ksft_check "handoff=$mode: 4 KiB random writes at QD1 on 2 CPUs verify (crc32c)" \
		fio_verify qd1-$mode 1 2
	dh=$(($(stat_sum handoffs) - h0))
	dp=$(($(stat_sum probes) - p0))
	ds=$(($(stat_sum switches) - s0))
	dr=$(($(stat_sum requests) - r0))
	diag "handoff=$mode: $dr requests, $dh handed off, $dp probes, $ds switches kept"
	case $mode in
	0) ksft_check "handoff=0: no request handed off" [ "$dh" = 0 ] ;;
	1) ksft_check "handoff=1: requests handed off" [ "$dh" -gt 0 ] ;;
	2)
		p0=$(stat_sum probes)
		r0=$(stat_sum requests)
		ksft_check "handoff=2: 4 KiB random writes at QD32 from one job verify (crc32c)" \
			fio_verify alone-$mode 32 48 1
		dp=$(($(stat_sum probes) - p0))
		dr=$(($(stat_sum requests) - r0))
		diag "handoff=2, one job: $dr requests, $dp probes"
		ksft_check "handoff=2: one submitter: the other CPU tried (every 8192 requests or sooner; $dr here)" \
			[ "$dp" -gt 0 ]
		;;
	esac
done
echo 2 > "$knob"
unload_mods
ksft_check "dmahba unloads" [ ! -d /sys/module/dmahba ]

# ====================== b) the sequence and the error paths, handed off
for t in data_test.sh trace_test.sh reset_test.sh fault_test.sh; do
	if [ ! -x "$(dirname "$0")/$t" ]; then
		ksft_skip "$t with handoff=1" "$t not found"
		continue
	fi
	DMAHBA_HANDOFF=1 "$(dirname "$0")/$t" > $tmp/$t.out 2>&1
	rc=$?
	nok=$(grep -c '^ok ' $tmp/$t.out)
	grep '^not ok ' $tmp/$t.out | head -10 | sed 's/^/# /'
	case $rc in
	0) ksft_pass "$t with handoff=1: $nok subtests ok" ;;
	4) ksft_skip "$t with handoff=1" "$(grep -m1 'SKIP' $tmp/$t.out | sed 's/.*SKIP *//')" ;;
	*) ksft_fail "$t with handoff=1 (exit $rc)"
	   tail -5 $tmp/$t.out | sed 's/^/# /' ;;
	esac
done

ksft_exit
