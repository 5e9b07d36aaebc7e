#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - "make bench": dmahba beside scsi_debug and null_blk, in one VM.
#
# Boots the kernel once under QEMU and runs scripts/bench-guest.sh there: the
# same fio jobs on null_blk (memory_backed=1, the block layer's ceiling),
# scsi_debug (delay=0, its fastest mode) and dmahba, alternating devices,
# BENCH_REPS times. Prints the medians and the ratios dmahba/scsi_debug and
# dmahba/null_blk, and writes them into docs/bench.md between the
# "bench:begin" and "bench:end" markers. Raw output: out/bench/. Under TCG
# absolute figures mean little; only the ratios within one run do.
#
# Environment (defaults in brackets):
#   BENCH_KERNEL [6.1]  BENCH_RUNTIME s per run [5]  BENCH_RAMP s [1]  BENCH_REPS [3]
#   BENCH_SIZE_MB area every job covers, pre-filled [256]
#   BENCH_JOBS subset of rr4k1 rw4k1 rr4k32 rw4k32 sr1m4 sw1m4 sr1m32 sw1m32
#   prr4k1 prr4k32 [all]; the p* jobs are polled (io_uring --hipri=1) on the
#   devices reloaded with poll_queues=1, after the others
#   BENCH_FIO_ARGS more fio options for every run, BENCH_DMAHBA_ARGS more dmahba,
#   BENCH_SOFTDMA_ARGS more softdma parameters (no quotes or backslashes)
#   BENCH_PROFILES softdma profiles [ioat zynqmp_dma dw-axi-dmac fsl-edma hidma
#   pl330; "" for none]: at the end, dmahba alone reloaded over softdma with
#   each profile=NAME and with none, for those of rr4k32 sr1m4 in BENCH_JOBS
#   BENCH_PERF a job of BENCH_JOBS [none]: one more run of it per device under
#   perf (linux-perf), a table of CPU µs per I/O by kernel function
#   BENCH_CPUS [2]  KERNEL_APPEND guest command line additions (vm_run)  BENCH_DOC
#   results file [docs/bench.md; "-" for none]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "${1:-}" != --help ] || { sed -n '3,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
label=${BENCH_KERNEL:-6.1} alljobs="rr4k1 rw4k1 rr4k32 rw4k32 sr1m4 sw1m4 sr1m32 sw1m32 prr4k1 prr4k32"
BENCH_RUNTIME=${BENCH_RUNTIME:-5} BENCH_RAMP=${BENCH_RAMP:-1} BENCH_REPS=${BENCH_REPS:-3} BENCH_JOBS=${BENCH_JOBS:-$alljobs}
BENCH_SIZE_MB=${BENCH_SIZE_MB:-256} BENCH_FIO_ARGS=${BENCH_FIO_ARGS:-} BENCH_DMAHBA_ARGS=${BENCH_DMAHBA_ARGS:-}
BENCH_SOFTDMA_ARGS=${BENCH_SOFTDMA_ARGS:-} BENCH_PROFILES=${BENCH_PROFILES-ioat zynqmp_dma dw-axi-dmac fsl-edma hidma pl330}
cpus=${BENCH_CPUS:-2} append=${KERNEL_APPEND:-} doc=${BENCH_DOC:-$top/docs/bench.md}
out=$top/out/bench
for v in BENCH_RUNTIME BENCH_REPS BENCH_SIZE_MB cpus; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: not a number of at least 1"
done
[[ $BENCH_RAMP =~ ^[0-9]+$ ]] || die "BENCH_RAMP=$BENCH_RAMP: not a number"
[[ ! "$BENCH_FIO_ARGS$BENCH_DMAHBA_ARGS$BENCH_SOFTDMA_ARGS$BENCH_PROFILES" =~ [\'\"\\] ]] || die "no quotes or backslashes in BENCH_*_ARGS"
for j in $BENCH_JOBS; do
	[[ " $alljobs " = *" $j "* ]] || die "unknown job '$j'"
done
BENCH_PERF=${BENCH_PERF:-}
[[ -z "$BENCH_PERF" || " $BENCH_JOBS " = *" $BENCH_PERF "* ]] || die "BENCH_PERF=$BENCH_PERF: not one of BENCH_JOBS"
[ -z "$BENCH_PERF" ] || { [ -x /usr/bin/perf ] || die "BENCH_PERF needs perf: apt-get install linux-perf"; export VM_BINS=/usr/bin/perf; }

rm -rf "$out"
# a snapshot of the modules: the build cache is shared with other runs
"$top/scripts/kernels.sh" make "$label" --out "$out/ko" --dir kernel > /dev/null
settings="BENCH_RUNTIME=$BENCH_RUNTIME BENCH_RAMP=$BENCH_RAMP BENCH_REPS=$BENCH_REPS BENCH_SIZE_MB=$BENCH_SIZE_MB BENCH_JOBS='$BENCH_JOBS' BENCH_FIO_ARGS='$BENCH_FIO_ARGS' BENCH_DMAHBA_ARGS='$BENCH_DMAHBA_ARGS' BENCH_SOFTDMA_ARGS='$BENCH_SOFTDMA_ARGS' BENCH_PROFILES='$BENCH_PROFILES' BENCH_PERF='$BENCH_PERF' KERNEL_APPEND='$append'"
# TCG boots and fio start-ups are slow, and other VMs may share the CPUs
tmo=$((600 + BENCH_REPS * ($(wc -w <<< "$BENCH_JOBS") * 3 + 2 * $(wc -w <<< "x $BENCH_PROFILES") * 3) * (BENCH_RUNTIME + BENCH_RAMP + 6)))
[ -z "$BENCH_PERF" ] || tmo=$((tmo + 3 * (BENCH_RUNTIME + 60)))
load0=$(cut -d' ' -f1-3 /proc/loadavg)
others0=$(pgrep -c qemu-system || true)
date_run=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$top" status --porcelain -- kernel 2>/dev/null)" ] || commit="$commit (kernel/ modified)"
note "$settings, kernel $label, $cpus vCPUs, 3G; about $((tmo / 120)) min (timeout ${tmo}s)"
set +e
vm_run -k "$label" -t "$tmo" -m 3G -c "$cpus" -M "$out/ko" -l "$out/kernel.log" -- \
	"$settings; export BENCH_RUNTIME BENCH_RAMP BENCH_REPS BENCH_SIZE_MB BENCH_JOBS BENCH_FIO_ARGS BENCH_DMAHBA_ARGS BENCH_SOFTDMA_ARGS BENCH_PROFILES BENCH_PERF
$(cat "$top/scripts/bench-guest.sh")" > "$out/console.log"
rc=$?
set -e
load1=$(cut -d' ' -f1-3 /proc/loadavg)
klog_check bench "$out/kernel.log" >&2 || rc=1
grep '^BENCH-ERROR' "$out/console.log" >&2 || true
grep -q '^BENCH-DONE' "$out/console.log" || die "the guest did not finish (exit $rc); console: $out/console.log"
info() { sed -n "s/^BENCH-INFO $1 //p" "$out/console.log" | head -1; }

table=$out/results.md
awk -v jobs="$BENCH_JOBS" -v alljobs="$alljobs" -v profiles="$BENCH_PROFILES" '
function sorted(s, a,   n, i, j, t) {	# the numbers of s into a[1..n], ascending; n
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n
}
function median(s,   a, n) { n = sorted(s, a); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function spread(s,   a, n) { n = sorted(s, a); return n > 1 && median(s) > 0 ? 100 * (a[n] - a[1]) / median(s) : 0 }
$1 == "BENCH-RUN" {
	k = $2 SUBSEP $3
	if ($5 == "ERR") { err[k] = err[k] " " $0; next }
	if ($5 == "REFUSED") { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); refused[k] = $0; next }
	iops[k] = iops[k] " " $5; mbs[k] = mbs[k] " " ($6 * 1024 / 1000000)
	p50[k] = p50[k] " " $7; p99[k] = p99[k] " " $8; n[k]++
	byrep[k SUBSEP $4] = $5; reps[$4] = 1
}
END {
	no = split(alljobs, order, " ")
	d["rr4k1"] = "4 KiB random read, QD1"; d["rw4k1"] = "4 KiB random write, QD1"
	d["rr4k32"] = "4 KiB random read, QD32"; d["rw4k32"] = "4 KiB random write, QD32"
	d["sr1m4"] = "1 MiB sequential read, QD4"; d["sw1m4"] = "1 MiB sequential write, QD4"
	d["sr1m32"] = "1 MiB sequential read, QD32 (jobs x depth)"; d["sw1m32"] = "1 MiB sequential write, QD32 (jobs x depth)"
	d["prr4k1"] = "polled 4 KiB random read, QD1"; d["prr4k32"] = "polled 4 KiB random read, QD32"
	split("null_blk scsi_debug dmahba", devs, " ")
	print "| job | device | IOPS | MB/s | p50 latency (µs) | p99 latency (µs) | spread of IOPS | runs |"
	print "|---|---|---:|---:|---:|---:|---:|---:|"
	for (o = 1; o <= no; o++) {
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
	for (o = 1; o <= no; o++) {
		j = order[o]
		if (index(" " jobs " ", " " j " ") == 0) continue
		kd = j SUBSEP "dmahba"; ks = j SUBSEP "scsi_debug"; kn = j SUBSEP "null_blk"
		if (!n[kd] || !n[ks] || !n[kn]) { printf "| %s | - | - | no result |\n", d[j]; continue }
		rs = (m[ks] > 0 ? m[kd] / m[ks] : 0); rn = (m[kn] > 0 ? m[kd] / m[kn] : 0)
		# the two devices of one repetition ran back to back: their ratio
		# does not see the host drifting between repetitions
		pr = ""
		for (r in reps)
			if (byrep[kd SUBSEP r] != "" && byrep[ks SUBSEP r] + 0 > 0) pr = pr " " byrep[kd SUBSEP r] / byrep[ks SUBSEP r]
		np = sorted(pr, x)
		# met: both the ratio of the medians and the median of the
		# ratios of the repetitions reach 1.0 (either alone can be one lucky
		# repetition)
		mp = (np ? median(pr) : rs)
		verdict = (rs >= 1.0 && mp >= 1.0) ? "met" : (rs >= 1.0 ? "not met (per repetition)" : "not met")
		printf "| %s | %.2f | %.2f | %s | %s |\n", d[j], rs, rn, verdict, (np ? sprintf("%.2f (%.2f-%.2f)", mp, x[1], x[np]) : "-")
	}
	# the profile rows (bench-guest.sh: "dmahba:NAME" devices)
	npl = split("default " profiles, pl, " ")
	for (o = 1; npl > 1 && o <= no; o++) {
		j = order[o]
		if (j != "rr4k32" && j != "sr1m4" || index(" " jobs " ", " " j " ") == 0) continue
		if (!hdr++) print "\n### softdma profiles\n\n| job | softdma | IOPS | MB/s | × default softdma | × scsi_debug | runs |\n|---|---|---:|---:|---:|---:|---:|"
		kr = j SUBSEP "dmahba:default"; mr = n[kr] ? median(iops[kr]) : 0; ms = m[j SUBSEP "scsi_debug"]
		for (i = 1; i <= npl; i++) {
			k = j SUBSEP "dmahba:" pl[i]; p = (i > 1 ? "profile=" pl[i] : "default")
			if (!n[k]) { printf "| %s | %s | %s | | | | 0 |\n", d[j], p, refused[k] != "" ? "refused: " refused[k] : "failed"; continue }
			mi = median(iops[k])
			printf "| %s | %s | %.0f | %.1f | %s | %s | %d |\n", d[j], p, mi, median(mbs[k]), (mr > 0 ? sprintf("%.2f", mi / mr) : "-"), (ms > 0 ? sprintf("%.2f", mi / ms) : "-"), n[k]
		}
	}
	for (k in err) print "\nErrors:" err[k]
}' "$out/console.log" > "$table"
# BENCH_PERF: the 40 largest µs per I/O
grep -q '^BENCH-PERF ' "$out/console.log" && {
	printf '\n### CPU time per I/O (µs), %s (BENCH_PERF)\n\n' "$BENCH_PERF"
	echo '| kernel function, with its callees | null_blk | scsi_debug | dmahba |'
	echo '|---|---:|---:|---:|'
	awk '$1 == "BENCH-PERF" { v[$3, $2] = $4; if ($4 > top[$3]) top[$3] = $4 }
	END { for (f in top) print top[f], f, v[f, "null_blk"] + 0, v[f, "scsi_debug"] + 0, v[f, "dmahba"] + 0 }' "$out/console.log" |
		sort -rn | head -40 | awk '{ printf "| `%s` | %.2f | %.2f | %.2f |\n", $2, $3, $4, $5 }'
} >> "$table"
echo
cat "$table"

[ "$doc" != - ] || exit "$rc"
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
	echo "- VM: $(info nproc) vCPUs, $(info mem_mb) MiB, QEMU TCG (no KVM); kernel $(info kernel) (clocksource $(info clocksource)${append:+, command line + \`$append\`}); $(info fio)."
	echo "- Host: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); load average $load0 at the start, $load1 at the end; other QEMU processes running at the start: ${others0:-0}."
	echo "  The host's cores were shared with other VMs: absolute figures are noisy and slower than CI's;"
	echo "  **under TCG only the ratios, within this one run, mean anything.**"
	echo "- Devices (I/O scheduler \`none\`, \`max_sectors_kb\` capped at 1024, \`add_random=0\`):"
	echo "  - null_blk: \`$(info 'params null_blk')\`"
	echo "  - scsi_debug: \`$(info 'params scsi_debug')\`"
	echo "  - dmahba: \`$(info 'params dmahba')\` over softdma (\`$(info 'dmahba channels')\` channels${BENCH_SOFTDMA_ARGS:+, \`$BENCH_SOFTDMA_ARGS\`})"
	if grep -q '^BENCH-INFO params-poll ' "$out/console.log"; then
		echo "  - polled jobs (\`polled ...\` rows, fio \`--hipri=1\`): the three reloaded after the other jobs with \`poll_queues=1\`"
		echo "    (io_poll: $(sed -n 's/^BENCH-INFO io_poll \([^ ]*\) [^ ]* /\1=/p' "$out/console.log" | tr '\n' ' ' | sed 's/ $//');"
		echo "    dmahba's debugfs poll counter before and after the polled runs: $(info polled-before), $(info polled-after))"
	fi
	sed -n 's/^BENCH-INFO queue /  - queue: /p' "$out/console.log"
	if grep -q '^BENCH-RUN [^ ]* dmahba:' "$out/console.log"; then
		echo "  - softdma profiles (last table): after the other jobs, dmahba alone, unloaded and loaded again over softdma"
		echo "    \`profile=NAME\` (or none: \"default\", the reference) before each run, pre-filled, the profiles in rotated order."
	fi
	echo "- fio: \`$(info fio_common) --filename=/dev/<dev>\` plus, per job: 4 KiB \`--rw=randread|randwrite --bs=4k --iodepth=1|32\`;"
	echo "  1 MiB \`--rw=read|write --bs=1M --iodepth=4\`, and QD32 as \`--numjobs=$(info nproc) --iodepth=$((32 / $(info nproc)))\` on disjoint areas."
	echo "  Every job covers the first $BENCH_SIZE_MB MiB of the device."
	echo "- Method (pre-fill, device rotation, spread, latency): \"How make bench measures\", above the markers."
	echo
	cat "$table"
	echo
	echo "<!-- bench:end -->"
} > "$gen"

# the section replaces the one between the markers, or is appended
if grep -q '<!-- bench:begin' "$doc" 2>/dev/null && grep -q '<!-- bench:end -->' "$doc"; then
	awk -v gen="$gen" '
		/<!-- bench:begin/ { while ((getline l < gen) > 0) print l; skip = 1; next }
		/<!-- bench:end -->/ { skip = 0; next }
		!skip' "$doc" > "$doc.tmp"
	mv "$doc.tmp" "$doc"
else
	cat "$gen" >> "$doc"
fi
echo "bench: results written to ${doc#"$top"/}" >&2
exit "$rc"
