#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - "make bench": dmahba beside scsi_debug and null_blk, in one VM.
#
# Builds the modules, boots the kernel once under QEMU with fio, and runs
# scripts/bench-guest.sh there: the same fio jobs on null_blk
# (memory_backed=1, the block-layer ceiling), scsi_debug (delay=0, its
# fastest mode: CPU copy and completion inline in queuecommand) and dmahba,
# alternating devices, BENCH_REPS times. Reduces the runs to medians, prints
# the table with the ratios dmahba/scsi_debug and dmahba/null_blk, and writes
# it into docs/bench.md between the "bench:begin" and "bench:end" markers
# (text outside them is kept). Raw output: out/bench/.
#
# Under TCG absolute figures mean little; only the ratios from one run do.
#
# Environment:
#   BENCH_KERNEL   kernel label (default 6.1; see scripts/kernels.sh)
#   BENCH_RUNTIME  seconds per measured fio run (default 5)
#   BENCH_RAMP     fio ramp_time per run, seconds (default 1)
#   BENCH_REPS     repetitions, medians taken (default 3)
#   BENCH_SIZE_MB  area each job covers, pre-filled (default 256)
#   BENCH_JOBS     subset of: rr4k1 rw4k1 rr4k32 rw4k32 sr1m4 sw1m4 sr1m32 sw1m32
#   BENCH_TRACE    1 (default): traced QD1 runs for the four stages' costs
#   BENCH_TRACE_RUNTIME  seconds of each traced, counted or profiled run (3)
#   BENCH_FIO_ARGS more fio options for every run on every device, e.g.
#                  --cpus_allowed=0 (default none)
#   BENCH_DMAHBA_ARGS more dmahba module parameters, e.g. nr_channels=1
#                  (default none)
#   BENCH_COUNTERS 1 (default): context switches, softirqs, IPIs per I/O
#   BENCH_PERF     1: carry perf (linux-perf) into the VM and profile
#                  scsi_debug and dmahba in each of BENCH_JOBS (default 0)
#   BENCH_HOSTPROF 1: sample the QEMU process from the host (perf) during
#                  separate runs of BENCH_HOSTPROF_JOB (default rr4k1) on each
#                  device, BENCH_HOSTPROF_REPS times (default 3), and split the
#                  host's time per I/O: translated guest code, QEMU's helpers,
#                  host kernel (scripts/bench-hostprof.sh; default 0)
#   BENCH_MEM      guest memory (default 3G); BENCH_CPUS guest CPUs (default 2)
#   BENCH_APPEND   guest kernel command line additions (default "tsc=reliable":
#                  under TCG the guest otherwise finds the TSCs unsynchronized
#                  and reads the clock from the emulated HPET, an MMIO access
#                  QEMU serializes under its global lock, several per I/O)
#   BENCH_DOC      results file (default docs/bench.md; "-" for none)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
label=${BENCH_KERNEL:-6.1}
runtime=${BENCH_RUNTIME:-5}
ramp=${BENCH_RAMP:-1}
reps=${BENCH_REPS:-3}
size=${BENCH_SIZE_MB:-256}
jobs=${BENCH_JOBS:-rr4k1 rw4k1 rr4k32 rw4k32 sr1m4 sw1m4 sr1m32 sw1m32}
trace=${BENCH_TRACE:-1}
counters=${BENCH_COUNTERS:-1}
perf=${BENCH_PERF:-0}
hostprof=${BENCH_HOSTPROF:-0}
hpreps=${BENCH_HOSTPROF_REPS:-3}
hpjob=${BENCH_HOSTPROF_JOB:-rr4k1}
truntime=${BENCH_TRACE_RUNTIME:-3}
fioargs=${BENCH_FIO_ARGS:-}
case $fioargs in
*\'* | *\"* | *\\*) echo "bench: BENCH_FIO_ARGS must not contain quotes or backslashes" >&2; exit 2 ;;
esac
dmahbaargs=${BENCH_DMAHBA_ARGS:-}
case $dmahbaargs in
*\'* | *\"* | *\\*) echo "bench: BENCH_DMAHBA_ARGS must not contain quotes or backslashes" >&2; exit 2 ;;
esac
mem=${BENCH_MEM:-3G}
cpus=${BENCH_CPUS:-2}
append=${BENCH_APPEND-tsc=reliable}
doc=${BENCH_DOC:-$top/docs/bench.md}
out=$top/out/bench
mkdir -p "$out"

for v in runtime ramp reps size cpus truntime hpreps; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: BENCH_${v^^}=${!v}: not a number" >&2; exit 2; }
done
if [ "$reps" -lt 1 ] || [ "$runtime" -lt 1 ]; then
	echo "bench: BENCH_REPS and BENCH_RUNTIME must be at least 1" >&2
	exit 2
fi
for j in $jobs $hpjob; do
	case $j in
	rr4k1 | rw4k1 | rr4k32 | rw4k32 | sr1m4 | sw1m4 | sr1m32 | sw1m32) ;;
	*) echo "bench: unknown job '$j' in BENCH_JOBS or BENCH_HOSTPROF_JOB" >&2; exit 2 ;;
	esac
done

"$top/scripts/kernels.sh" prepare "$label"
# Snapshot the modules at once: the build cache is shared with other runs.
built=$("$top/scripts/kernels.sh" make "$label" --dir kernel)
kodir=$out/ko
rm -rf "$kodir"
mkdir -p "$kodir"
cp "$built"/softdma.ko "$built"/dmahba.ko "$kodir/"

# perf rides in the kselftest layer: vm.sh carries the libraries of the
# executables under <ksft>/dmahba/. Otherwise an empty tree (no tests needed).
carry=$out/carry
rm -rf "$carry"
mkdir -p "$carry/dmahba"
if [ "$perf" = 1 ]; then
	if [ -x /usr/bin/perf ] && /usr/bin/perf --version >/dev/null 2>&1; then
		cp /usr/bin/perf "$carry/dmahba/perf"
	else
		echo "bench: BENCH_PERF=1 but no working /usr/bin/perf (apt-get install linux-perf): no profile" >&2
		perf=0
	fi
fi

if [ "$hostprof" = 1 ]; then
	if ! perf --version >/dev/null 2>&1 || ! command -v nm >/dev/null; then
		echo "bench: BENCH_HOSTPROF=1 needs perf (apt-get install linux-perf) and nm (binutils) on the host: no host profile" >&2
		hostprof=0
	elif [ "$(id -u)" != 0 ] && [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -gt 0 ]; then
		echo "bench: BENCH_HOSTPROF=1 needs root (or kernel.perf_event_paranoid <= 0): no host profile" >&2
		hostprof=0
	fi
fi

njobs=$(wc -w <<<"$jobs")
# runs: measured + counters + traced (+ perf); TCG boots and fio start-up
# are slow, and other VMs may share the CPUs: be generous.
tmo=$((600 + reps * njobs * 3 * (runtime + ramp + 6) + 9 * 3 * 15 + 9 * 3 * 15 + perf * 6 * 40 +
	hostprof * hpreps * 3 * (truntime + 15)))

load0=$(cut -d' ' -f1-3 /proc/loadavg)
others0=$(pgrep -c qemu-system || true)
date_run=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$top" status --porcelain -- kernel 2>/dev/null | head -1 || true)
[ -n "$dirty" ] && commit="$commit (kernel/ modified)"

settings="BENCH_APPEND='$append' BENCH_RUNTIME=$runtime BENCH_RAMP=$ramp BENCH_REPS=$reps BENCH_SIZE_MB=$size BENCH_JOBS='$jobs' BENCH_TRACE=$trace BENCH_COUNTERS=$counters BENCH_PERF=$perf BENCH_TRACE_RUNTIME=$truntime BENCH_FIO_ARGS='$fioargs' BENCH_DMAHBA_ARGS='$dmahbaargs' BENCH_HOSTPROF=$hostprof BENCH_HOSTPROF_REPS=$hpreps BENCH_HOSTPROF_JOB=$hpjob"
cmd="$settings; export BENCH_RUNTIME BENCH_RAMP BENCH_REPS BENCH_SIZE_MB BENCH_JOBS BENCH_TRACE BENCH_COUNTERS BENCH_PERF BENCH_TRACE_RUNTIME BENCH_FIO_ARGS BENCH_DMAHBA_ARGS BENCH_HOSTPROF BENCH_HOSTPROF_REPS BENCH_HOSTPROF_JOB
$(cat "$top/scripts/bench-guest.sh")"

echo "bench: $settings, kernel $label, ${cpus} vCPUs, $mem, append '$append'; about $((tmo / 120)) min (timeout ${tmo}s)" >&2
set +e
# the watcher must not see the marks of an earlier run's kernel log
rm -f "$out/kernel.log"
rm -rf "$out/hostprof" "$out/hostprof.md"
watcher=
if [ "$hostprof" = 1 ]; then
	"$top/scripts/bench-hostprof.sh" watch "$out/kernel.log" "$out/hostprof" &
	watcher=$!
fi
KERNEL_APPEND="$append" "$top/scripts/vm.sh" -k "$label" -t "$tmo" -m "$mem" -c "$cpus" -f -M "$kodir" -S "$carry" \
	-l "$out/kernel.log" -- "$cmd" > "$out/console.log" &
vmpid=$!
last=
while kill -0 $vmpid 2>/dev/null; do
	sleep 5
	n=$(grep -c '^BENCH-RUN' "$out/console.log" 2>/dev/null)
	stage=$(grep -o '^BENCH-[A-Z]*' "$out/console.log" 2>/dev/null | tail -1)
	now="${n:-0}/$((reps * njobs * 3)) measured runs, at ${stage#BENCH-}"
	[ "$now" = "$last" ] || echo "bench: $now" >&2
	last=$now
done
wait $vmpid
rc=$?
if [ -n "$watcher" ]; then
	kill "$watcher" 2>/dev/null
	wait "$watcher"
fi
set -e
echo >&2
load1=$(cut -d' ' -f1-3 /proc/loadavg)

if grep -qE 'BUG:|WARNING:|Oops|lockdep|KASAN|general protection' "$out/kernel.log"; then
	echo "bench: the guest kernel log has a BUG/WARNING/Oops (see $out/kernel.log)" >&2
	grep -E 'BUG:|WARNING:|Oops|lockdep|KASAN|general protection' "$out/kernel.log" | head -5 >&2
	rc=1
fi
if grep -q '^BENCH-ERROR' "$out/console.log"; then
	grep '^BENCH-ERROR' "$out/console.log" >&2
fi
if ! grep -q '^BENCH-DONE' "$out/console.log"; then
	echo "bench: the guest did not finish (rc=$rc); console: $out/console.log" >&2
	exit 1
fi

# --- reduce ---------------------------------------------------------------------
info() { sed -n "s/^BENCH-INFO $1 //p" "$out/console.log" | head -1; }

table=$out/results.md
awk -v jobs="$jobs" '
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function spread(s,   a, n, i, lo, hi) {
	n = split(s, a, " "); lo = hi = a[1]
	for (i = 2; i <= n; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
	return n > 1 && median(s) > 0 ? 100 * (hi - lo) / median(s) : 0
}
$1 == "BENCH-RUN" {
	k = $2 SUBSEP $3
	if ($5 == "ERR") { err[k] = err[k] " " $0; next }
	iops[k] = iops[k] " " $5; mbs[k] = mbs[k] " " ($6 * 1024 / 1000000)
	p50[k] = p50[k] " " $7; p99[k] = p99[k] " " $8; n[k]++
	byrep[k SUBSEP $4] = $5; reps[$4] = 1
}
END {
	split("rr4k1 rw4k1 rr4k32 rw4k32 sr1m4 sw1m4 sr1m32 sw1m32", order, " ")
	d["rr4k1"] = "4 KiB random read, QD1"; d["rw4k1"] = "4 KiB random write, QD1"
	d["rr4k32"] = "4 KiB random read, QD32"; d["rw4k32"] = "4 KiB random write, QD32"
	d["sr1m4"] = "1 MiB sequential read, QD4"; d["sw1m4"] = "1 MiB sequential write, QD4"
	d["sr1m32"] = "1 MiB sequential read, QD32 (jobs x depth)"; d["sw1m32"] = "1 MiB sequential write, QD32 (jobs x depth)"
	split("null_blk scsi_debug dmahba", devs, " ")
	print "| job | device | IOPS | MB/s | p50 latency (µs) | p99 latency (µs) | spread of IOPS | runs |"
	print "|---|---|---:|---:|---:|---:|---:|---:|"
	for (o = 1; o <= 8; o++) {
		j = order[o]
		if (index(" " jobs " ", " " j " ") == 0) continue
		for (e = 1; e <= 3; e++) {
			k = j SUBSEP devs[e]
			if (!n[k]) { printf "| %s | %s | failed | | | | | 0 |\n", d[j], devs[e]; continue }
			m[k] = median(iops[k]); mb[k] = median(mbs[k])
			printf "| %s | %s | %.0f | %.1f | %.0f | %.0f | %.0f%% | %d |\n", d[j], devs[e], m[k], mb[k], median(p50[k]), median(p99[k]), spread(iops[k]), n[k]
		}
	}
	print ""
	print "| job | dmahba / scsi_debug | dmahba / null_blk | goal: ≥ 1.0 × scsi_debug | dmahba / scsi_debug per repetition: median (min-max) |"
	print "|---|---:|---:|---|---:|"
	for (o = 1; o <= 8; o++) {
		j = order[o]
		if (index(" " jobs " ", " " j " ") == 0) continue
		kd = j SUBSEP "dmahba"; ks = j SUBSEP "scsi_debug"; kn = j SUBSEP "null_blk"
		if (!n[kd] || !n[ks] || !n[kn]) { printf "| %s | - | - | no result |\n", d[j]; continue }
		rs = (m[ks] > 0 ? m[kd] / m[ks] : 0); rn = (m[kn] > 0 ? m[kd] / m[kn] : 0)
		# the two devices of one repetition ran back to back: their ratio
		# does not see the host drifting between repetitions
		pr = ""; lo = hi = ""
		for (r in reps) {
			a = byrep[kd SUBSEP r]; b = byrep[ks SUBSEP r]
			if (a == "" || b + 0 <= 0) continue
			x = a / b; pr = pr " " x
			if (lo == "" || x < lo) lo = x
			if (hi == "" || x > hi) hi = x
		}
		# met: both the ratio of the medians and the median of the
		# ratios of the repetitions reach 1.0 (either alone can be one lucky
		# repetition)
		mp = (pr == "" ? rs : median(pr))
		verdict = (rs >= 1.0 && mp >= 1.0) ? "met" : (rs >= 1.0 ? "not met (per repetition)" : "not met")
		printf "| %s | %.2f | %.2f | %s | %s |\n", d[j], rs, rn, verdict, (pr == "" ? "-" : sprintf("%.2f (%.2f-%.2f)", mp, lo, hi))
	}
	for (k in err) print "\nErrors:" err[k]
}' "$out/console.log" > "$table"

stages=$out/stages.md
awk '
BEGIN {
	name["issue_to_io_map_transfer"] = "block issue → io_map_transfer (queuecommand, StartIo, CDB, store and DMA mapping, descriptor prep+submit)"
	name["io_map_transfer_to_dma_started"] = "io_map_transfer → dma_started"
	name["dma_started_to_flush_dma"] = "dma_started → flush_dma (the transfer on the channel, its callback, the interrupt)"
	name["flush_dma_to_notification"] = "flush_dma → notification(request_complete)"
	name["io_map_transfer_to_notification"] = "io_map_transfer → notification (the four stages)"
	name["notification_to_complete"] = "notification → block complete (scsi_done, return to the block layer)"
	name["issue_to_complete"] = "block issue → block complete (the device)"
	d["rr4k1"] = "4 KiB random read, QD1"; d["rw4k1"] = "4 KiB random write, QD1"; d["sr1m1"] = "1 MiB sequential read, QD1"
}
$1 == "BENCH-TRACE" && $4 == "fio" { clat[$2 SUBSEP $3] = $9; p50[$2 SUBSEP $3] = $7 }
$1 == "BENCH-STAGE" { k = $2 SUBSEP $3; st[k SUBSEP $4] = $0; has[k] = 1; if (!($2 in seen)) { seen[$2] = 1; jl[++nj] = $2 } }
END {
	if (!nj) { print "(no traced run)"; exit }
	split("issue_to_io_map_transfer io_map_transfer_to_dma_started dma_started_to_flush_dma flush_dma_to_notification io_map_transfer_to_notification notification_to_complete issue_to_complete", sl, " ")
	for (x = 1; x <= nj; x++) {
		j = jl[x]
		printf "\n**%s** (traced; fio latency p50 %s µs, mean %.0f µs for dmahba in this run)\n\n", d[j], p50[j SUBSEP "dmahba"], clat[j SUBSEP "dmahba"]
		print "| interval (dmahba) | n | p50 (µs) | p99 (µs) | mean (µs) | share of fio latency (mean) |"
		print "|---|---:|---:|---:|---:|---:|"
		for (s = 1; s <= 7; s++) {
			k = j SUBSEP "dmahba" SUBSEP sl[s]
			if (!(k in st)) continue
			split(st[k], f, " ")
			c = clat[j SUBSEP "dmahba"]
			printf "| %s | %s | %s | %s | %s | %s |\n", name[sl[s]], f[5], f[6], f[7], f[8], (c > 0 ? sprintf("%.0f%%", 100 * f[8] / c) : "-")
		}
		printf "\n| device | block issue → complete p50 (µs) | p99 (µs) | fio latency p50 (µs) | fio latency mean (µs) |\n|---|---:|---:|---:|---:|\n"
		split("null_blk scsi_debug dmahba", devs, " ")
		for (e = 1; e <= 3; e++) {
			k = j SUBSEP devs[e] SUBSEP "issue_to_complete"
			if (!(k in st)) continue
			split(st[k], f, " ")
			printf "| %s | %s | %s | %s | %.0f |\n", devs[e], f[6], f[7], p50[j SUBSEP devs[e]], clat[j SUBSEP devs[e]]
		}
	}
}' "$out/console.log" > "$stages"

grep '^BENCH-CNT' "$out/console.log" | sed 's/^BENCH-CNT //' > "$out/counters.txt" || true
sed -n '/^BENCH-PROFILE-BEGIN/,/^BENCH-PROFILE-END/p' "$out/console.log" > "$out/profile.txt" || true

echo
cat "$table"
cat "$stages"
echo
if [ -s "$out/counters.txt" ]; then
	echo "System counters per I/O (QD as in the job, $truntime s runs):"
	cat "$out/counters.txt"
fi
[ -s "$out/profile.txt" ] && echo "perf profiles: $out/profile.txt"
if [ "$hostprof" = 1 ]; then
	if "$top/scripts/bench-hostprof.sh" report "$out/hostprof" "$out/console.log" > "$out/hostprof.md"; then
		echo
		echo "Host time per I/O ($hpjob, QEMU process sampled from the host):"
		cat "$out/hostprof.md"
	else
		rm -f "$out/hostprof.md"
	fi
fi

# --- docs/bench.md ------------------------------------------------------------------
[ "$doc" = - ] && exit "$rc"
gen=$out/bench-section.md
{
	echo "<!-- bench:begin (generated by scripts/bench.sh; edit outside the markers) -->"
	echo "## Results"
	echo
	echo "Run of $date_run, tree $commit, by \`make bench\`:"
	echo
	echo '```'
	echo "$settings make bench"
	echo '```'
	echo
	echo "- VM: $(info nproc) vCPUs, $(info mem_mb) MiB, QEMU TCG (no KVM); kernel $(info kernel) (clocksource $(info clocksource), command line + \`$append\`); $(info fio)."
	echo "- Host: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); load average $load0 at the start, $load1 at the end; other QEMU processes running at the start: ${others0:-0}."
	echo "  The host's cores were shared with other VMs: absolute figures are noisy and slower than CI's;"
	echo "  **under TCG only the ratios, within this one run, mean anything.**"
	echo "- Devices (I/O scheduler \`none\`, \`max_sectors_kb\` capped at 1024, \`add_random=0\`):"
	echo "  - null_blk: \`$(info 'params null_blk')\`"
	echo "  - scsi_debug: \`$(info 'params scsi_debug')\`"
	echo "  - dmahba: \`$(info 'params dmahba')\` over softdma (\`$(info 'dmahba channels')\` channels)"
	sed -n 's/^BENCH-INFO queue /  - queue: /p' "$out/console.log"
	echo "- fio: \`$(info fio_common) --filename=/dev/<dev>\` plus, per job: 4 KiB \`--rw=randread|randwrite --bs=4k --iodepth=1|32\`;"
	echo "  1 MiB \`--rw=read|write --bs=1M --iodepth=4\`, and QD32 as \`--numjobs=$(info nproc) --iodepth=$((32 / $(info nproc)))\` on disjoint areas."
	echo "  Every job covers the first $size MiB of the device."
	echo "- Fairness: before the measured runs the whole $size MiB area of each device is written (1 MiB, QD4),"
	echo "  because the three keep data differently: scsi_debug allocates its whole store at load (reads of"
	echo "  unwritten blocks copy zeros from it), while null_blk (memory_backed) and dmahba allocate pages on first"
	echo "  write and serve holes without a page of their own (null_blk zero-fills, dmahba reads one shared zero"
	echo "  page through the DMA channel). Reads therefore all copy real data, and writes overwrite existing pages."
	echo "- Each job runs on the three devices in turn, $reps times, in a rotated device order at each"
	echo "  repetition; the figures are medians. \"spread\" is (max − min) / median of the IOPS over the runs."
	echo "  The last column divides dmahba's IOPS by scsi_debug's of the same repetition (the two ran within"
	echo "  seconds of each other) and gives the median and the range of those ratios: how far one run can be off."
	echo "- Latency is fio's total latency (submission + completion, \`--lat_percentiles=1\`): null_blk and"
	echo "  scsi_debug complete inside the submission system call, so completion latency alone would hide their cost."
	echo
	cat "$table"
	echo
	if [ "$trace" = 1 ]; then
		echo "### Cost of the four stages (tracepoints)"
		echo
		echo "A separate QD1 run per device ($truntime s, not part of the table above: tracing perturbs"
		echo "the timing) with \`block:block_rq_issue\`/\`block_rq_complete\` and, for dmahba, \`events/dmahba\`"
		echo "enabled. Intervals from the trace timestamps (µs), paired by request (blk-mq tag)."
		echo "\"share of fio latency\" divides an interval's mean by the mean total latency (submission + completion)"
		echo "fio saw in that run. null_blk's 1 MiB requests are split in two (max_segments=128), so its block issue →"
		echo "complete is per half."
		cat "$stages"
		echo
	fi
	if [ -s "$out/counters.txt" ]; then
		echo "### System counters per I/O"
		echo
		echo "Separate $truntime s runs, from /proc/stat, /proc/softirqs and /proc/interrupts (whole VM):"
		echo
		echo '```'
		cat "$out/counters.txt"
		echo '```'
		echo
	fi
	if [ -s "$out/hostprof.md" ]; then
		echo "### Host time per I/O (the emulator's own profile)"
		echo
		echo "Separate runs of \`$hpjob\` per device, $hpreps times, each sampled for $truntime s of its steady state by"
		echo "\`perf record -a -e cpu-clock\` on the host; the samples of this VM's QEMU process divided by the I/Os of the window (the disk's counters):"
		echo "host CPU µs per I/O, by where it went. \"qemu: after SYMBOL\" is QEMU code at or after that exported"
		echo "symbol (the binary is stripped but exports its internal API): scripts/bench-hostprof.sh."
		echo
		cat "$out/hostprof.md"
		echo
	fi
	echo "<!-- bench:end -->"
} > "$gen"

if [ -f "$doc" ] && grep -q '<!-- bench:begin' "$doc" && grep -q '<!-- bench:end -->' "$doc"; then
	awk -v gen="$gen" '
		/<!-- bench:begin/ { while ((getline l < gen) > 0) print l; skip = 1; next }
		/<!-- bench:end -->/ { skip = 0; next }
		!skip' "$doc" > "$doc.tmp"
	mv "$doc.tmp" "$doc"
else
	{
		echo "# dmahba performance: beside scsi_debug and null_blk"
		echo
		echo "Produced by \`make bench\` (scripts/bench.sh, scripts/bench-guest.sh); see the scripts for the"
		echo "BENCH_* settings. The section between the markers is rewritten by each run."
		echo
		cat "$gen"
	} > "$doc"
fi
echo "bench: results written to ${doc#"$top"/}" >&2
exit "$rc"
