# SPDX-License-Identifier: GPL-2.0
# bench-guest.sh - run inside the VM by scripts/bench.sh (busybox sh).
#
# Loads null_blk, scsi_debug and dmahba side by side, pre-fills the same
# area of each and runs the same fio jobs on the three devices in turn,
# BENCH_REPS times, rotating the order of the devices at each repetition.
# Prints one "BENCH-RUN" line per measured run, which bench.sh reduces to
# medians. Then, apart from the measured runs (tracing and profiling perturb
# the timing): a traced QD1 run per device (block-layer issue to complete,
# and the four dmahba stages from its tracepoints), the system counters
# (context switches, softirqs, IPIs) per I/O, and a perf profile when perf
# was carried in (/kselftest/dmahba/perf).
#
# Settings (environment, set by bench.sh): BENCH_RUNTIME (s per run),
# BENCH_RAMP (s), BENCH_REPS, BENCH_SIZE_MB (area every job covers),
# BENCH_JOBS (job names, see job_args), BENCH_DEVS, BENCH_TRACE (0/1),
# BENCH_COUNTERS (0/1), BENCH_PERF (0/1), BENCH_TRACE_RUNTIME (s),
# BENCH_FIO_ARGS (more fio options for every run, e.g. --cpus_allowed=0),
# BENCH_DMAHBA_ARGS (more dmahba module parameters, e.g. nr_channels=1),
# BENCH_HOSTPROF (0/1), BENCH_HOSTPROF_REPS, BENCH_HOSTPROF_JOB.
set -u
export HOME=/tmp PAGER=cat

RUNTIME=${BENCH_RUNTIME:-5}
RAMP=${BENCH_RAMP:-1}
REPS=${BENCH_REPS:-3}
SIZE_MB=${BENCH_SIZE_MB:-256}
JOBS=${BENCH_JOBS:-rr4k1 rw4k1 rr4k32 rw4k32 sr1m4 sw1m4 sr1m32 sw1m32}
DEVS=${BENCH_DEVS:-null_blk scsi_debug dmahba}
TRACE=${BENCH_TRACE:-1}
COUNTERS=${BENCH_COUNTERS:-1}
PERF=${BENCH_PERF:-0}
HOSTPROF=${BENCH_HOSTPROF:-0}
HOSTPROF_REPS=${BENCH_HOSTPROF_REPS:-3}
HOSTPROF_JOB=${BENCH_HOSTPROF_JOB:-rr4k1}
TRACE_RUNTIME=${BENCH_TRACE_RUNTIME:-3}
FIO_ARGS=${BENCH_FIO_ARGS:-}
NPROC=$(nproc)
ko=${DMAHBA_KO_DIR:-/dmahba}
perf_bin=/kselftest/dmahba/perf
T=/sys/kernel/tracing

info() { echo "BENCH-INFO $*"; }
die() { echo "BENCH-ERROR $*"; exit 1; }

# --- the devices ------------------------------------------------------------
host_of() {
	for h in /sys/class/scsi_host/host*; do
		[ "$(cat "$h/proc_name" 2>/dev/null)" = "$1" ] && { echo "$h"; return 0; }
	done
	return 1
}

disk_of_host() {
	for b in "$1"/device/target*/*/block/*; do
		[ -e "$b" ] && { basename "$b"; return 0; }
	done
	return 1
}

wait_disk() {	# wait_disk PROC_NAME -> sdX
	i=0
	while [ $i -lt 200 ]; do
		h=$(host_of "$1") && d=$(disk_of_host "$h") && [ -b "/dev/$d" ] &&
			{ echo "$d"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Same queue settings for all: no scheduler, 1 MiB requests where the
# device allows them, no entropy sampling.
setup_queue() {	# setup_queue NAME DISK
	q=/sys/block/$2/queue
	echo none > "$q/scheduler" 2>/dev/null
	hw=$(cat "$q/max_hw_sectors_kb")
	kb=1024
	[ "$hw" -lt $kb ] && kb=$hw
	echo "$kb" > "$q/max_sectors_kb"
	echo 0 > "$q/add_random" 2>/dev/null
	info "queue $1 /dev/$2 scheduler=$(sed 's/.*\[\(.*\)\].*/\1/' "$q/scheduler")" \
		"max_sectors_kb=$(cat "$q/max_sectors_kb") max_hw_sectors_kb=$hw" \
		"max_segments=$(cat "$q/max_segments") nr_requests=$(cat "$q/nr_requests")" \
		"hw_queues=$(ls "/sys/block/$2/mq" | wc -l) rotational=$(cat "$q/rotational")" \
		"logical_block_size=$(cat "$q/logical_block_size")" \
		"size_mb=$(($(cat "/sys/block/$2/size") / 2048))"
}

NULL_PARAMS="nr_devices=1 queue_mode=2 irqmode=1 memory_backed=1 gb=1 bs=512 submit_queues=$NPROC hw_queue_depth=128 max_sectors=2048"
SDEBUG_PARAMS="dev_size_mb=$SIZE_MB delay=0 submit_queues=$NPROC max_queue=128"
DMAHBA_PARAMS="dev_size_mb=$SIZE_MB nr_channels=$NPROC can_queue=128${BENCH_DMAHBA_ARGS:+ $BENCH_DMAHBA_ARGS}"

info "kernel $(uname -r)"
info "nproc $NPROC"
info "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
info "mem_mb $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)"
info "fio $(fio --version)"
info "settings runtime=$RUNTIME ramp=$RAMP reps=$REPS size_mb=$SIZE_MB jobs=\"$JOBS\" devs=\"$DEVS\""

for dev in $DEVS; do
	case $dev in
	null_blk)
		# shellcheck disable=SC2086
		modprobe null_blk $NULL_PARAMS || die "modprobe null_blk"
		i=0
		while [ ! -b /dev/nullb0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		[ -b /dev/nullb0 ] || die "no /dev/nullb0"
		eval "disk_null_blk=nullb0"
		info "params null_blk $NULL_PARAMS"
		;;
	scsi_debug)
		# shellcheck disable=SC2086
		modprobe scsi_debug $SDEBUG_PARAMS || die "modprobe scsi_debug"
		d=$(wait_disk scsi_debug) || die "no scsi_debug disk"
		eval "disk_scsi_debug=$d"
		info "params scsi_debug $SDEBUG_PARAMS"
		;;
	dmahba)
		insmod "$ko/softdma.ko" || die "insmod softdma"
		# shellcheck disable=SC2086
		insmod "$ko/dmahba.ko" $DMAHBA_PARAMS || die "insmod dmahba"
		d=$(wait_disk dmahba) || die "no dmahba disk"
		eval "disk_dmahba=$d"
		info "params dmahba $DMAHBA_PARAMS"
		info "dmahba channels $(ls -d /sys/class/dma/dma*chan* 2>/dev/null | wc -l)"
		;;
	*)
		die "unknown device $dev"
		;;
	esac
done
disk() { eval "echo \$disk_$1"; }
for dev in $DEVS; do setup_queue "$dev" "$(disk "$dev")"; done

# --- fio ----------------------------------------------------------------------
FIO_COMMON="--direct=1 --ioengine=io_uring --group_reporting --randrepeat=0 --norandommap --output-format=terse --terse-version=3 --percentile_list=50:99 --lat_percentiles=1${FIO_ARGS:+ $FIO_ARGS}"
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
	sr1m1) echo "--rw=read --bs=1M --iodepth=1 --size=${SIZE_MB}M" ;;
	sr1m32) echo "--rw=read --bs=1M --iodepth=$qd --numjobs=$NPROC --size=${per}M --offset_increment=${per}M" ;;
	sw1m32) echo "--rw=write --bs=1M --iodepth=$qd --numjobs=$NPROC --size=${per}M --offset_increment=${per}M" ;;
	*) return 1 ;;
	esac
}

# Reduce one terse v3 line: "iops bw_kib p50_us p99_us lat_mean_us io_kib usr% sys% ctx".
# Latency is fio's total latency (submission + completion, lat_percentiles):
# null_blk and scsi_debug complete inside the submission, so their clat
# alone would be near zero.
terse() {
	awk -F';' '$1 == 3 {
		if ($5 != 0) { print "ERR", $5; exit }
		if ($8 + 0 >= $49 + 0) { iops = $8; bw = $7; p50 = $18; p99 = $19; m = $40; kb = $6 }
		else { iops = $49; bw = $48; p50 = $59; p99 = $60; m = $81; kb = $47 }
		sub(/.*=/, "", p50); sub(/.*=/, "", p99); sub(/%/, "", $88); sub(/%/, "", $89)
		print iops, bw, p50, p99, m, kb, $88, $89, $90
	}'
}

# run_fio DEV JOB RUNTIME RAMP -> reduced result on stdout
run_fio() {
	a=$(job_args "$2") || { echo "ERR badjob"; return; }
	# shellcheck disable=SC2086
	fio --name="$2" --filename="/dev/$(disk "$1")" $FIO_COMMON $a \
		--time_based --runtime="$3" --ramp_time="$4" >/tmp/fio.out 2>/tmp/fio.err
	r=$(terse < /tmp/fio.out)
	if [ -z "$r" ]; then
		echo "ERR fio: $(head -c 300 /tmp/fio.err | tr '\n' ' ')"
		return
	fi
	echo "$r"
}

# Pre-fill the area once on each device, so that reads find data: null_blk
# (memory_backed) and dmahba allocate pages on first write and read holes
# as zeros without copying, while scsi_debug's store is allocated whole.
for dev in $DEVS; do
	t0=$(cut -d' ' -f1 /proc/uptime)
	fio --name=fill --filename="/dev/$(disk "$dev")" --direct=1 --ioengine=io_uring \
		--rw=write --bs=1M --iodepth=4 --size="${SIZE_MB}M" >/dev/null 2>/tmp/fio.err ||
		die "pre-fill of $dev: $(head -c 300 /tmp/fio.err)"
	info "prefill $dev ${SIZE_MB}MiB in $(awk -v a="$t0" '{printf "%.1f", $1 - a}' /proc/uptime)s"
done
[ -d /sys/kernel/debug/dmahba ] &&
	info "dmahba store_pages $(grep -h store_pages /sys/kernel/debug/dmahba/*/stats | tr -s ' ' | tr '\n' ' ')"

# --- the measured runs ------------------------------------------------------
rep=1
while [ $rep -le "$REPS" ]; do
	# rotate the device order: rep 1 "a b c", rep 2 "b c a", ...
	# shellcheck disable=SC2086
	set -- $DEVS
	k=1
	while [ $k -lt $rep ]; do
		first=$1
		shift
		set -- "$@" "$first"
		k=$((k + 1))
	done
	order="$*"
	for job in $JOBS; do
		for dev in $order; do
			echo "BENCH-RUN $job $dev $rep $(run_fio "$dev" "$job" "$RUNTIME" "$RAMP")"
		done
	done
	rep=$((rep + 1))
done

# --- system counters per I/O (apart from the measured runs) -----------------
snap() {
	{ cat /proc/stat; cat /proc/softirqs; cat /proc/interrupts; } | awk '
		function sum(from,   s, i) { s = 0; for (i = from; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; return s }
		$1 == "ctxt" { ctxt = $2 }
		$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8; idle = $5 + $6 }
		$1 == "TASKLET:" { tl = sum(2) }
		$1 == "BLOCK:" { blk = sum(2) }
		$1 == "HI:" { hi = sum(2) }
		$1 == "RES:" { res = sum(2) }
		$1 == "CAL:" { cal = sum(2) }
		END { print ctxt, busy, idle, tl, blk, hi, res, cal }'
}

if [ "$COUNTERS" = 1 ]; then
	for job in rr4k1 rr4k32 sr1m4; do
		for dev in $DEVS; do
			s0=$(snap)
			r=$(run_fio "$dev" "$job" "$TRACE_RUNTIME" 0)
			s1=$(snap)
			bs=4
			case $job in *1m*) bs=1024 ;; esac
			echo "$s0 $s1 $r" | awk -v job="$job" -v dev="$dev" -v bs=$bs '{
				ios = $22 / bs; if (ios < 1) ios = 1
				busy = $10 - $2; idle = $11 - $3
				printf "BENCH-CNT %s %s ios=%d iops=%d ctxsw/io=%.2f tasklet/io=%.2f block_softirq/io=%.2f hi/io=%.2f resched_ipi/io=%.2f call_ipi/io=%.2f cpu_busy=%.0f%% fio_usr=%s%% fio_sys=%s%%\n",
					job, dev, ios, $17, ($9 - $1) / ios, ($12 - $4) / ios, ($13 - $5) / ios,
					($14 - $6) / ios, ($15 - $7) / ios, ($16 - $8) / ios,
					100 * busy / (busy + idle + 0.0001), $23, $24 }'
		done
	done
fi

# --- tracepoint timestamps (apart from the measured runs) --------------------
# One QD1 run per device with the block layer's issue/complete events
# (paired by device and sector), and for dmahba its four stages (paired by
# tag). QD1 also lets the block issue before a window and the completion
# after the notification pair up in order.
pct() {	# pct FILE -> "n p50 p99 mean"
	sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
		END {
			if (!NR) { print 0, "-", "-", "-"; exit }
			printf "%d %.1f %.1f %.1f\n", NR, v[int((NR - 1) * 0.50) + 1], v[int((NR - 1) * 0.99) + 1], s / NR
		}'
}

trace_run() {	# trace_run DEV JOB WITH_DMAHBA_EVENTS
	echo 0 > $T/tracing_on
	echo > $T/trace
	echo 0 > $T/events/enable
	echo 1 > $T/events/block/block_rq_issue/enable
	echo 1 > $T/events/block/block_rq_complete/enable
	[ "$3" = 1 ] && echo 1 > $T/events/dmahba/enable
	echo 1 > $T/tracing_on
	r=$(run_fio "$1" "$2" "$TRACE_RUNTIME" 0)
	echo 0 > $T/tracing_on
	echo 0 > $T/events/enable
	rm -f /tmp/st.*
	awk '
	{
		for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) break
		if (i >= NF) next
		ts = substr($i, 1, length($i) - 1) * 1000000
		ev = $(i + 1); sub(/:$/, "", ev)
		tag = ""
		for (j = i + 2; j <= NF; j++) if ($j ~ /^tag=/) { tag = substr($j, 5); break }
		# block events pair by device and sector ("8,16 R 4096 () 1234 + 8 [fio]")
		if (ev == "block_rq_issue" || ev == "block_rq_complete") {
			for (j = i + 2; j < NF; j++) if ($(j + 1) == "+") break
			key = $(i + 2) " " $j
		}
		if (ev == "block_rq_issue") { iss[key] = ts; last_iss = ts; first = 0; notif = 0; next }
		if (ev == "block_rq_complete") {
			if (key in iss) print ts - iss[key] > "/tmp/st.issue_to_complete"
			if (notif) print ts - notif > "/tmp/st.notification_to_complete"
			delete iss[key]; notif = 0; next
		}
		if (ev == "io_map_transfer") {
			if (last_iss && !first) { print ts - last_iss > "/tmp/st.issue_to_io_map_transfer"; first = 1 }
			m[tag] = ts
			if ($0 ~ / offset=0 /) r[tag] = ts
			next
		}
		if (ev == "dma_started") {
			if (tag in m) print ts - m[tag] > "/tmp/st.io_map_transfer_to_dma_started"
			s[tag] = ts; next
		}
		if (ev == "flush_dma") {
			if ((tag in s) && $0 ~ / completed /) print ts - s[tag] > "/tmp/st.dma_started_to_flush_dma"
			f[tag] = ts; next
		}
		if (ev == "notification" && $0 ~ /type=request_complete/) {
			if (tag in f) print ts - f[tag] > "/tmp/st.flush_dma_to_notification"
			if (tag in r) print ts - r[tag] > "/tmp/st.io_map_transfer_to_notification"
			notif = ts
			delete m[tag]; delete s[tag]; delete f[tag]; delete r[tag]
		}
	}' $T/trace
	lost=$(awk '/^# entries-in-buffer/ {print $0}' $T/trace | head -1)
	echo "BENCH-TRACE $2 $1 fio $r"
	echo "BENCH-TRACE $2 $1 buffer $lost"
	for s in issue_to_io_map_transfer io_map_transfer_to_dma_started \
		 dma_started_to_flush_dma flush_dma_to_notification \
		 io_map_transfer_to_notification notification_to_complete issue_to_complete; do
		[ -s /tmp/st.$s ] && echo "BENCH-STAGE $2 $1 $s $(pct /tmp/st.$s)"
	done
}

if [ "$TRACE" = 1 ] && [ -d $T/events/block ]; then
	echo 65536 > $T/buffer_size_kb
	for job in rr4k1 rw4k1 sr1m1; do
		for dev in $DEVS; do
			ev=0
			[ "$dev" = dmahba ] && ev=1
			trace_run "$dev" "$job" $ev
		done
	done
	echo 1408 > $T/buffer_size_kb
fi

# --- the host's profile of the emulator (apart from the measured runs) -------
# bench.sh samples the QEMU process from the host (scripts/bench-hostprof.sh)
# between the "bench-hostprof:" lines written here to the kernel log (each
# ends in " .", so that the host can tell a whole line from one QEMU is still
# writing), with fio in its steady state; the I/Os per second of that window
# come from the disk's own counters (reads + writes completed).
ios_of() { awk '{ print $1 + $5 }' "/sys/block/$1/stat"; }
if [ "$HOSTPROF" = 1 ]; then
	r=1
	while [ $r -le "$HOSTPROF_REPS" ]; do
		for dev in $DEVS; do
			d=$(disk "$dev")
			a=$(job_args "$HOSTPROF_JOB")
			# shellcheck disable=SC2086
			fio --name="$HOSTPROF_JOB" --filename="/dev/$d" $FIO_COMMON $a \
				--time_based --runtime=$((TRACE_RUNTIME + 2)) >/tmp/fio.out 2>/tmp/fio.err &
			fpid=$!
			sleep 1
			n0=$(ios_of "$d")
			t0=$(cut -d' ' -f1 /proc/uptime)
			echo "bench-hostprof: start $dev $r ." > /dev/kmsg
			sleep "$TRACE_RUNTIME"
			echo "bench-hostprof: end $dev $r ." > /dev/kmsg
			n1=$(ios_of "$d")
			t1=$(cut -d' ' -f1 /proc/uptime)
			wait $fpid
			echo "BENCH-HOSTPROF $dev $r $(awk -v a="$n0" -v b="$n1" -v s="$t0" -v e="$t1" \
				'BEGIN { printf "%.0f", (e > s ? (b - a) / (e - s) : 0) }') $HOSTPROF_JOB $(terse < /tmp/fio.out)"
			sleep 1
		done
		r=$((r + 1))
	done
	echo "bench-hostprof: done ." > /dev/kmsg
fi

# --- perf (apart from the measured runs) -------------------------------------
# cpu-clock sampling of the whole VM during the steady state of a fio run
# (started 1 s before, stopped after). Without a PMU (TCG) samples are taken
# by a timer interrupt: time spent with interrupts disabled is charged to
# the place that enables them again (spin_unlock_irqrestore, ...): look at
# the callers.
if [ "$PERF" = 1 ] && [ -x $perf_bin ]; then
	echo -1 > /proc/sys/kernel/perf_event_paranoid
	echo 0 > /proc/sys/kernel/kptr_restrict
	for job in $JOBS; do
		for dev in scsi_debug dmahba; do
			case " $DEVS " in *" $dev "*) ;; *) continue ;; esac
			a=$(job_args "$job")
			# shellcheck disable=SC2086
			fio --name="$job" --filename="/dev/$(disk "$dev")" $FIO_COMMON $a \
				--time_based --runtime=$((TRACE_RUNTIME + 2)) >/tmp/fio.out 2>/tmp/fio.err &
			fpid=$!
			sleep 1
			$perf_bin record -a -g -F 997 -e cpu-clock -N -B -q -o /tmp/perf.data -- \
				sleep "$TRACE_RUNTIME" 2>/tmp/perf.err
			wait $fpid
			echo "BENCH-PROFILE-BEGIN $job $dev fio $(terse < /tmp/fio.out)"
			echo "## by command (whole VM; swapper = idle)"
			$perf_bin report -i /tmp/perf.data --stdio --no-children --sort comm -g none \
				--percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
			echo "## by symbol (self)"
			$perf_bin report -i /tmp/perf.data --stdio --no-children --sort sym -g none \
				--percent-limit 0.4 2>/dev/null | grep -v '^#' | grep -v '^$' | head -50
			echo "## by symbol (with children)"
			$perf_bin report -i /tmp/perf.data --stdio --children --sort sym -g none \
				--percent-limit 2 2>/dev/null | grep -v '^#' | grep -v '^$' |
				grep -v '\[\.\] 0x' | head -80
			echo "## callers of the top symbols (self)"
			$perf_bin report -i /tmp/perf.data --stdio --no-children --sort sym \
				-g graph,0.5,callee,function,percent --max-stack 12 \
				--percent-limit 2 2>&1 | grep -v '^#' | grep -v '^$' | head -300
			echo "BENCH-PROFILE-END"
		done
	done
fi

[ -d /sys/kernel/debug/dmahba ] && cat /sys/kernel/debug/dmahba/*/stats | sed 's/^/BENCH-DMAHBA /'
for c in /sys/class/dma/dma*chan*; do
	[ -e "$c/bytes_transferred" ] &&
		echo "BENCH-DMAHBA $(basename "$c") memcpy_count=$(cat "$c/memcpy_count") bytes_transferred=$(cat "$c/bytes_transferred")"
done
echo "BENCH-DONE"
