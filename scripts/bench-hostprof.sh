#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-hostprof.sh - where the emulator spends the host's time per I/O
# (make bench with BENCH_HOSTPROF=1; called by scripts/bench.sh).
#
# Under TCG every guest instruction costs host time twice over: in the code
# QEMU translated it to, and in QEMU's own helpers. The largest helper per
# I/O is the lookup of the next translated block, which runs for every guest
# branch QEMU cannot chain: each return, each indirect call, each jump to
# another guest page. A guest path with more calls therefore costs more host
# time than its instruction count says. A profile inside the guest cannot
# see this; this one is taken on the host, of the QEMU process, while the
# guest runs the same fio job on each device (bench-guest.sh, "hostprof").
#
#   bench-hostprof.sh watch KLOG DIR   sample the host with perf between the
#       guest's "bench-hostprof: start DEV REP ." and "... end DEV REP ."
#       kernel log lines (read from KLOG as QEMU writes it; the final " ."
#       tells a whole line), one DIR/DEV.REP.data each, until
#       "bench-hostprof: done ."; the QEMU process is the one writing KLOG
#   bench-hostprof.sh report DIR CONSOLE   host microseconds per I/O by
#       where they went, per device (median of the repetitions), from the
#       samples of that QEMU process and the guest's BENCH-HOSTPROF lines
#       (I/Os per second in the sampled window)
#
# QEMU's helpers are named by the nearest symbol the binary exports
# ("qemu: after curr_cflags"): Debian's QEMU is stripped, but exports its
# internal API for its loadable modules. Needs perf (linux-perf), nm
# (binutils) and root.
set -euo pipefail

FREQ=${HOSTPROF_FREQ:-999}

die() { echo "bench-hostprof: $*" >&2; exit 1; }

# the QEMU process writing the kernel log KLOG (not the timeout(1) around it)
qemu_of() {
	local p

	for p in $(pgrep -f -- "file:$1" || true); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		qemu-system*) echo "$p"; return 0 ;;
		esac
	done
}

rec=''	# the running perf record (global: the EXIT trap outlives watch())

watch() {
	local klog=$1 dir=$2 seen=0 qpid='' line
	local -a marks

	mkdir -p "$dir"
	: > "$dir/windows"
	stop_rec() {
		[ -n "$rec" ] || return 0
		kill -INT "$rec" 2>/dev/null || true
		wait "$rec" 2>/dev/null || true
		rec=
	}
	trap 'stop_rec; exit 0' TERM INT
	trap stop_rec EXIT
	while :; do
		if [ ! -f "$klog" ]; then	# QEMU has not started yet
			sleep 0.1
			continue
		fi
		[ -n "$qpid" ] || qpid=$(qemu_of "$klog")
		# whole marks only: QEMU writes the log as the guest prints it,
		# and a line read while it is being written has no " ." yet
		mapfile -t marks < <(tr -d '\r' < "$klog" 2>/dev/null |
				     sed -n 's/.*bench-hostprof: \(start [^ ]* [0-9]*\|end [^ ]* [0-9]*\|done\) \.$/\1/p')
		while [ "$seen" -lt "${#marks[@]}" ]; do
			line=${marks[$seen]}
			seen=$((seen + 1))
			# shellcheck disable=SC2086
			set -- $line
			case $1 in
			start)
				stop_rec
				# cpu-clock: a sample is 1/FREQ s of CPU time
				perf record -q -a -e cpu-clock -F "$FREQ" -B -N -o "$dir/$2.$3.data" -- sleep 600 \
					>/dev/null 2>"$dir/$2.$3.err" &
				rec=$!
				;;
			end)
				[ -n "$rec" ] || continue
				stop_rec
				echo "$2 $3 ${qpid:-0}" >> "$dir/windows"
				;;
			done)
				stop_rec
				return 0
				;;
			esac
		done
		sleep 0.1
	done
}

# samples DATA QPID -> "window<TAB>S", "category<TAB>count" lines, "total<TAB>N"
samples() {
	local data=$1 qpid=$2 bin seg txt=$1.txt

	perf script -i "$data" --show-mmap-events -F pid,tid,time,ip,dso > "$txt" 2>/dev/null || true
	bin=$(awk -v p="$qpid" '!b && $0 ~ "MMAP2? " p "/" && / r-xp / && /qemu-system/ { b = $NF } END { print b }' "$txt")
	if [ -z "$bin" ] || [ ! -r "$bin" ]; then
		printf 'window\t0\ntotal\t0\n'
		return
	fi
	# the executable segment's address in the file's own numbering (what
	# nm prints) minus its offset in the file (what the mapping gives)
	seg=$(readelf -lW "$bin" | awk '!f && $1 == "LOAD" && / R?W?E / { print $3, $2; f = 1 }')
	{
		# the exported symbols first, then the mapping and the samples
		nm -D --defined-only "$bin" | awk '$2 ~ /^[TtWi]$/ { print "SYM", $1, $3 }' | LC_ALL=C sort -k2,2
		cat "$txt"
	} | awk -v p="$qpid" -v bin="$bin" -v seg="$seg" '
	function hex(s,   i, n) {
		n = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n
	}
	function sym(a,   lo, hi, mid) {	# the nearest exported symbol at or below a
		if (ns == 0 || a < sa[1]) return "?"
		lo = 1; hi = ns
		while (lo < hi) { mid = int((lo + hi + 1) / 2); if (sa[mid] <= a) lo = mid; else hi = mid - 1 }
		return sn[lo]
	}
	$1 == "SYM" { sa[++ns] = hex($2); sn[ns] = $3; next }
	/PERF_RECORD_MMAP/ {
		if (/ r-xp / && index($0, bin) && $0 ~ (" " p "/")) {
			# [0xSTART(0xLEN) @ 0xPGOFF ...]
			match($0, /\[0x[0-9a-f]+\(/); start = hex(substr($0, RSTART + 1, RLENGTH - 2))
			match($0, /@ 0x[0-9a-f]+/); base = start - hex(substr($0, RSTART + 2, RLENGTH - 2))
			split(seg, sg, " "); base -= hex(sg[1]) - hex(sg[2])
		}
		next
	}
	/PERF_RECORD/ { next }
	NF >= 4 {
		# the window: from the first sample to the last, of any process
		t = $2 + 0
		if (t0 == "" || t < t0) t0 = t
		if (t > t1) t1 = t
		if ($1 + 0 != p) next
		n++; dso = $NF
		if (index(dso, bin)) k = "qemu: after " sym(hex($3) - base)
		else if (dso ~ /perf-[0-9]+\.map|\[unknown\]|anon/) k = "guest code (translated by QEMU)"
		else if (dso ~ /kernel/) k = "host kernel"
		else { gsub(/[()]/, "", dso); sub(/.*\//, "", dso); k = "lib: " dso }
		c[k]++
	}
	END { printf "window\t%.3f\n", t1 - t0; for (k in c) print k "\t" c[k]; print "total\t" n + 0 }'
}

report() {
	local dir=$1 console=$2 dev rep qpid data

	[ -s "$dir/windows" ] || die "no sampled run in $dir"
	while read -r dev rep qpid; do
		data=$dir/$dev.$rep.data
		[ -s "$data" ] || continue
		samples "$data" "$qpid" | sed "s/^/$dev $rep	/"
	done < "$dir/windows" > "$dir/samples.txt"
	tr -d '\r' < "$console" | grep '^BENCH-HOSTPROF ' > "$dir/iops.txt" || true
	awk -F'\t' -v freq="$FREQ" '
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	FILENAME ~ /iops.txt$/ { split($0, f, " "); iops[f[2] " " f[3]] = f[4]; next }
	$2 == "window" { split($1, h, " "); win[h[1] " " h[2]] = $3; next }
	{
		split($1, h, " "); run = h[1] " " h[2]
		if (!(run in iops) || iops[run] <= 0 || win[run] <= 0) next
		# host µs per I/O: samples / freq = host CPU seconds in the window
		us = $3 / freq / (iops[run] * win[run]) * 1e6
		v[h[1] SUBSEP $2] = v[h[1] SUBSEP $2] " " us; runs[h[1]] = 1
		if ($2 != "total") cat[$2] = 1
		if ($2 == "total") nrep[h[1]]++
	}
	END {
		split("scsi_debug dmahba null_blk", dl, " ")
		for (k in cat) {
			for (i = 1; i <= 3; i++) {
				d = dl[i]; if (!(d in runs)) continue
				# a category a run has no sample of counts as 0 there
				s = v[d SUBSEP k]; m = split(s, x, " ")
				while (m++ < nrep[d]) s = s " 0"
				med[d SUBSEP k] = median(s)
			}
			key[++nk] = k
		}
		for (i = 1; i <= 3; i++) { d = dl[i]; if (d in runs) med[d SUBSEP "total"] = median(v[d SUBSEP "total"]) }
		# largest first, by the sum over the devices
		for (i = 1; i <= nk; i++) { t = 0; for (j = 1; j <= 3; j++) t += med[dl[j] SUBSEP key[i]]; w[i] = t }
		for (i = 2; i <= nk; i++) { a = key[i]; b = w[i]; for (j = i - 1; j >= 1 && w[j] < b; j--) { key[j + 1] = key[j]; w[j + 1] = w[j] } key[j + 1] = a; w[j + 1] = b }
		printf "| host µs per I/O (QEMU process, median of %d) |", nrep["dmahba"]
		for (i = 1; i <= 3; i++) if (dl[i] in runs) printf " %s |", dl[i]
		print " dmahba − scsi_debug |"
		printf "|---|"; for (i = 1; i <= 3; i++) if (dl[i] in runs) printf "---:|"; print "---:|"
		for (i = 1; i <= nk && i <= 12; i++) {
			printf "| %s |", key[i]
			for (j = 1; j <= 3; j++) if (dl[j] in runs) printf " %.2f |", med[dl[j] SUBSEP key[i]]
			printf " %+.2f |\n", med["dmahba" SUBSEP key[i]] - med["scsi_debug" SUBSEP key[i]]
		}
		printf "| **all** |"
		for (j = 1; j <= 3; j++) if (dl[j] in runs) printf " **%.2f** |", med[dl[j] SUBSEP "total"]
		printf " **%+.2f** |\n", med["dmahba" SUBSEP "total"] - med["scsi_debug" SUBSEP "total"]
	}' "$dir/iops.txt" "$dir/samples.txt" > "$dir/table.md"
	# a header and a separator only: no run had both samples and I/Os
	[ "$(wc -l < "$dir/table.md")" -gt 3 ] || die "no sampled run with I/Os in $dir"
	cat "$dir/table.md"
}

case ${1:-} in
watch) [ $# -eq 3 ] || die "usage: $0 watch KLOG DIR"; watch "$2" "$3" ;;
report) [ $# -eq 3 ] || die "usage: $0 report DIR CONSOLE"; report "$2" "$3" ;;
*) die "usage: $0 watch KLOG DIR | report DIR CONSOLE" ;;
esac
