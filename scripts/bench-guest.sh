# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# bench-guest.sh - run inside the VM by scripts/bench.sh (busybox sh).
#
# Loads null_blk, scsi_debug and dmahba side by side, pre-fills the same area
# of each and runs the same fio jobs on the three devices in turn, BENCH_REPS
# times, rotating the order of the devices at each repetition: one
# "BENCH-RUN job dev rep result" line per run, which bench.sh reduces.
# Settings: the BENCH_* variables bench.sh sets (see there).
set -u
# shellcheck source=../selftests/lib.sh # vm_run puts it there
. /dmahba/lib.sh
export PAGER=cat
RUNTIME=$BENCH_RUNTIME RAMP=$BENCH_RAMP REPS=$BENCH_REPS SIZE_MB=$BENCH_SIZE_MB JOBS=$BENCH_JOBS
DEVS="null_blk scsi_debug dmahba"
NPROC=$(nproc)
info() { echo "BENCH-INFO $*"; }
die() { echo "BENCH-ERROR $*"; exit 1; }

# --- the devices ------------------------------------------------------------
disk_of() {	# disk_of PROC_NAME -> sdX: the first disk of that driver's hosts
	for b in /sys/class/scsi_host/host*/device/target*/*/block/*; do
		[ "$(cat "${b%%/device/*}/proc_name")" = "$1" ] && [ -b "/dev/${b##*/}" ] && { echo "${b##*/}"; return 0; }
	done
	return 1
}

# Same queue settings for all: no scheduler, 1 MiB requests where the
# device allows them, no entropy sampling.
setup_queue() {	# setup_queue NAME DISK
	q=/sys/block/$2/queue
	echo none > "$q/scheduler" 2>/dev/null
	hw=$(cat "$q/max_hw_sectors_kb")
	kb=$((hw < 1024 ? hw : 1024))
	echo "$kb" > "$q/max_sectors_kb"
	echo 0 > "$q/add_random" 2>/dev/null
	info "queue $1 /dev/$2 max_sectors_kb=$kb max_hw_sectors_kb=$hw max_segments=$(cat "$q/max_segments")" \
		"nr_requests=$(cat "$q/nr_requests") hw_queues=$(find "/sys/block/$2/mq" -mindepth 1 -maxdepth 1 | wc -l)"
}

NULL_PARAMS="nr_devices=1 queue_mode=2 irqmode=1 memory_backed=1 gb=1 bs=512 submit_queues=$NPROC hw_queue_depth=128 max_sectors=2048"
SDEBUG_PARAMS="dev_size_mb=$SIZE_MB delay=0 submit_queues=$NPROC max_queue=128"
DMAHBA_PARAMS="dev_size_mb=$SIZE_MB nr_channels=$NPROC can_queue=128${BENCH_DMAHBA_ARGS:+ $BENCH_DMAHBA_ARGS}"
SOFTDMA_PARAMS=${BENCH_SOFTDMA_ARGS:-}
# The polled jobs (p*) run after the others on the three devices reloaded with
# one poll queue: scsi_debug and dmahba take it out of their submit queues / DMA
# channels, which would change what the interrupt-mode jobs measure.
POLL_PARAMS="poll_queues=1"

info "kernel $(uname -r)"; info "nproc $NPROC"; info "fio $(fio --version)"
info "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
info "mem_mb $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)"
# disk DEV: its block device name (dmahba:PROFILE: dmahba's)
disk() {
	case $1 in null_blk) echo nullb0 ;; *) disk_of "${1%%:*}" ;; esac
}

# load_hba SOFTDMA_ARGS [DMAHBA_ARGS]: softdma, then dmahba over it
# shellcheck disable=SC2086 # the *_PARAMS are words
load_hba() {
	insmod "$ko_dir/softdma.ko" $SOFTDMA_PARAMS $1 && insmod "$ko_dir/dmahba.ko" $DMAHBA_PARAMS${2:-}
}

# load_devices MODE: MODE "irq" (interrupt-mode jobs) or "poll" (polled jobs,
# every device with $POLL_PARAMS); waits for the disks,
# prints the parameters ("params" / "params-poll") and the queue settings.
# shellcheck disable=SC2086 # the *_PARAMS are words
load_devices() {
	extra='' tag=params
	[ "$1" = poll ] && extra=" $POLL_PARAMS" tag=params-poll
	modprobe null_blk $NULL_PARAMS$extra || die "modprobe null_blk ($1)"
	modprobe scsi_debug $SDEBUG_PARAMS$extra || die "modprobe scsi_debug ($1)"
	load_hba "" "$extra" || die "insmod softdma, dmahba ($1)"
	wait_for disk_of scsi_debug || die "no scsi_debug disk ($1)"
	wait_for disk_of dmahba || die "no dmahba disk ($1)"
	[ -b /dev/nullb0 ] || die "no /dev/nullb0 ($1)"
	info "$tag null_blk $NULL_PARAMS$extra"
	info "$tag scsi_debug $SDEBUG_PARAMS$extra"
	info "$tag dmahba $DMAHBA_PARAMS$extra"
	[ "$1" = poll ] || info "dmahba channels $(find /sys/class/dma -name 'dma*chan*' | wc -l)"
	for dev in $DEVS; do
		d=$(disk "$dev")
		[ "$1" = poll ] || { setup_queue "$dev" "$d"; continue; }
		p=$(cat "/sys/block/$d/queue/io_poll")
		info "io_poll $dev /dev/$d $p"
		[ "$p" = 1 ] || die "$dev /dev/$d: io_poll is $p with $POLL_PARAMS"
		setup_queue "$dev" "$d" > /dev/null
	done
}

unload_devices() { rmmod dmahba softdma scsi_debug null_blk || die "unload of the devices"; }

# --- fio ----------------------------------------------------------------------
FIO_COMMON="--direct=1 --ioengine=io_uring --group_reporting --randrepeat=0 --norandommap --output-format=terse --terse-version=3 --percentile_list=50:99 --lat_percentiles=1${BENCH_FIO_ARGS:+ $BENCH_FIO_ARGS}"
info "fio_common $FIO_COMMON --time_based --runtime=$RUNTIME --ramp_time=$RAMP"

job_args() {
	per=$((SIZE_MB / NPROC))
	qd=$((32 / NPROC))
	case $1 in
	rr4k1) echo "--rw=randread --bs=4k --iodepth=1 --size=${SIZE_MB}M" ;;
	rw4k1) echo "--rw=randwrite --bs=4k --iodepth=1 --size=${SIZE_MB}M" ;;
	rr4k32) echo "--rw=randread --bs=4k --iodepth=32 --size=${SIZE_MB}M" ;;
	rw4k32) echo "--rw=randwrite --bs=4k --iodepth=32 --size=${SIZE_MB}M" ;;
	sr1m4) echo "--rw=read --bs=1M --iodepth=4 --size=${SIZE_MB}M" ;;
	sw1m4) echo "--rw=write --bs=1M --iodepth=4 --size=${SIZE_MB}M" ;;
	sr1m32) echo "--rw=read --bs=1M --iodepth=$qd --numjobs=$NPROC --size=${per}M --offset_increment=${per}M" ;;
	sw1m32) echo "--rw=write --bs=1M --iodepth=$qd --numjobs=$NPROC --size=${per}M --offset_increment=${per}M" ;;
	prr4k1) echo "--rw=randread --bs=4k --iodepth=1 --hipri=1 --size=${SIZE_MB}M" ;;
	prr4k32) echo "--rw=randread --bs=4k --iodepth=32 --hipri=1 --size=${SIZE_MB}M" ;;
	*) return 1 ;;
	esac
}

# Reduce one terse v3 line: "iops bw_kib p50_us p99_us", latency fio's total
# (lat_percentiles; why: bench.sh's "Latency" note).
terse() {
	awk -F';' '$1 == 3 {
		if ($5 != 0) { print "ERR", $5; exit }
		if ($8 + 0 >= $49 + 0) { iops = $8; bw = $7; p50 = $18; p99 = $19 }
		else { iops = $49; bw = $48; p50 = $59; p99 = $60 }
		sub(/.*=/, "", p50); sub(/.*=/, "", p99)
		print iops, bw, p50, p99
	}'
}

# run_fio DEV JOB -> reduced result on stdout
run_fio() {
	a=$(job_args "$2") || { echo "ERR badjob"; return; }
	# shellcheck disable=SC2086
	fio --name="$2" --filename="/dev/$(disk "$1")" $FIO_COMMON $a \
		--time_based --runtime="$RUNTIME" --ramp_time="$RAMP" > /tmp/fio.out 2> /tmp/fio.err
	r=$(terse < /tmp/fio.out)
	echo "${r:-ERR fio: $(head -c 300 /tmp/fio.err | tr '\n' ' ')}"
}

# Pre-fill the area once on each device, so that reads find data (why it is
# fair: bench.sh's "Fairness" note); again after a reload: the stores go with
# the modules.
prefill() {	# prefill [DEV]: all devices, or DEV
	for dev in ${1:-$DEVS}; do
		fio --name=fill --filename="/dev/$(disk "$dev")" --direct=1 --ioengine=io_uring \
			--rw=write --bs=1M --iodepth=4 --size="${SIZE_MB}M" >/dev/null 2>/tmp/fio.err ||
			die "pre-fill of $dev: $(head -c 300 /tmp/fio.err)"
	done
}

# --- the measured runs ------------------------------------------------------
run_jobs() {	# run_jobs "JOB..." "DEV..."
	order=$2 rep=1
	while [ $rep -le "$REPS" ]; do
		for job in $1; do
			for dev in $order; do
				use "$dev" && echo "BENCH-RUN $job $dev $rep $(run_fio "$dev" "$job")"
			done
		done
		# rotate the device order: rep 1 "a b c", rep 2 "b c a", ...
		order="${order#* } ${order%% *}"
		rep=$((rep + 1))
	done
}

# use DEV: a device of $DEVS is ready; dmahba:PROFILE is dmahba alone, loaded
# again over softdma with profile=PROFILE ("default": none) unless it is so,
# and pre-filled. If softdma or dmahba refuses to load (e.g. a channel that
# cannot carry a block), prints a REFUSED run with the last kernel line.
use() {
	case $1 in dmahba:*) [ "$1" != "$loaded" ] || return 0 ;; *) return 0 ;; esac
	for m in dmahba softdma; do ! mod_loaded $m || rmmod_idle $m || die "unload of $m"; done
	loaded=$1 p=profile=${1#dmahba:}
	[ "$p" != profile=default ] || p=''
	if load_hba "$p" && wait_for disk_of dmahba; then
		setup_queue "$1" "$(disk "$1")" > /dev/null
		prefill "$1"
		return 0
	fi
	loaded=''
	echo "BENCH-RUN $job $1 $rep REFUSED $(dmesg | grep -E 'softdma|dmahba' | tail -1 | sed 's/^\[[^]]*\] *//; s/|/\//g')"
	return 1
}

# polled_counts: evidence that dmahba's polled jobs completed by polling: the
# sum of the "polled" column of its debugfs stats (windows a poll found
# ended; stat_sum reads $stats). null_blk and scsi_debug keep no such count in 6.1's default
# settings; their io_poll of 1 says that their poll queue exists.
polled_counts() {
	n=0
	for stats in /sys/kernel/debug/dmahba/host*/stats; do
		[ -f "$stats" ] && n=$((n + $(stat_sum polled)))
	done
	echo "dmahba_polled=$n"
}

# profile JOB (BENCH_PERF): one more run of JOB on each device, no ramp, under
# perf (cpu-clock every 250 µs of each CPU, call graphs): the µs per I/O of
# each kernel function with its callees, and of every task but the idle one
# ("(busy)", user and kernel); the idle task's samples are left out.
profile() {
	a=$(job_args "$1")
	for dev in $DEVS; do
		# shellcheck disable=SC2086
		perf record -q -e cpu-clock -c 250000 -a -g -o /tmp/perf.data -- fio --name="$1" \
			--filename="/dev/$(disk "$dev")" $FIO_COMMON $a --time_based --runtime="$RUNTIME" \
			> /tmp/fio.out 2> /tmp/fio.err || die "perf record of $1 on $dev: $(head -c 300 /tmp/fio.err)"
		perf report -i /tmp/perf.data --stdio -n --no-children --sort comm -g none > /tmp/perf.comm 2> /dev/null
		perf report -i /tmp/perf.data --stdio --children --percentage absolute --sort sym -g none --percent-limit 0.5 \
			--comms "$(awk '$1 ~ /%$/ && $3 != "swapper" { printf "%s%s", s, $3; s = "," }' /tmp/perf.comm)" 2> /dev/null |
			awk -v d="$dev" -v ios="$(awk -F';' '$1 == 3 { print ($8 * $9 + $49 * $50) / 1000 }' /tmp/fio.out)" '
			FNR == NR { if ($1 ~ /%$/) { n += $2; if ($3 != "swapper") b += $2 }; next }
			FNR == 1 { print "BENCH-PERF", d, "(busy)", b * 250 / ios }
			$1 ~ /%$/ && $3 == "[k]" && $4 !~ /^0x/ { print "BENCH-PERF", d, $4, $1 / 100 * n * 250 / ios }' /tmp/perf.comm -
	done
	rm -f /tmp/perf.data
}

IRQ_JOBS='' POLL_JOBS=''
for job in $JOBS; do
	case $job in p*) POLL_JOBS="$POLL_JOBS $job" ;; *) IRQ_JOBS="$IRQ_JOBS $job" ;; esac
done
if [ -n "$IRQ_JOBS" ]; then
	load_devices irq
	prefill
	run_jobs "$IRQ_JOBS" "$DEVS"
	[ -z "${BENCH_PERF:-}" ] || case " $IRQ_JOBS " in *" $BENCH_PERF "*) profile "$BENCH_PERF" ;; esac
	[ -z "$POLL_JOBS" ] || unload_devices
fi
if [ -n "$POLL_JOBS" ]; then
	load_devices poll
	prefill
	info "polled-before $(polled_counts)"
	run_jobs "$POLL_JOBS" "$DEVS"
	info "polled-after $(polled_counts)"
	[ -z "${BENCH_PERF:-}" ] || case " $POLL_JOBS " in *" $BENCH_PERF "*) profile "$BENCH_PERF" ;; esac
fi
# the softdma profiles: dmahba alone, in rotated profile order, beside a
# reference (dmahba:default) reloaded the same way
PROFILE_JOBS=$(for j in rr4k32 sr1m4; do case " $JOBS " in *" $j "*) echo $j ;; esac; done)
if [ -n "${BENCH_PROFILES:-}" ] && [ -n "$PROFILE_JOBS" ]; then
	unload_devices
	loaded='' pdevs=dmahba:default
	for p in $BENCH_PROFILES; do pdevs="$pdevs dmahba:$p"; done
	run_jobs "$PROFILE_JOBS" "$pdevs"
fi
echo "BENCH-DONE"
