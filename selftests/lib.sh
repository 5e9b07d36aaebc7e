#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - helpers shared by the shell tests (POSIX sh: the VM has busybox).
#
# A test sources it, calls ksft_init, reports with ksft_pass/ksft_fail/ksft_skip
# and ends with ksft_exit. DMAHBA_KO_DIR names where softdma.ko and dmahba.ko
# are (default: /dmahba, else ../kernel of a source tree).

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

ksft_n=0
ksft_nfail=0
ksft_npass=0
ksft_nskip=0
ko_dir=${DMAHBA_KO_DIR:-/dmahba}
[ -d "$ko_dir" ] || ko_dir=$(cd "$(dirname "$0")/../kernel" 2>/dev/null && pwd)
ksft_loaded=""

ksft_init() {
	ksft_marker="dmahba-selftest-$(basename "$0")-$$"
	[ -w /dev/kmsg ] && echo "$ksft_marker start" > /dev/kmsg
	echo "TAP version 13"
	[ -n "${1:-}" ] && echo "1..$1"
	return 0
}

ksft_pass() { ksft_n=$((ksft_n + 1)); ksft_npass=$((ksft_npass + 1)); echo "ok $ksft_n $*"; }
ksft_fail() { ksft_n=$((ksft_n + 1)); ksft_nfail=$((ksft_nfail + 1)); echo "not ok $ksft_n $*"; }
ksft_skip() { ksft_n=$((ksft_n + 1)); ksft_nskip=$((ksft_nskip + 1)); echo "ok $ksft_n $1 # SKIP $2"; }
# ksft_check NAME COMMAND...: pass if the command succeeds
ksft_check() {
	_name=$1
	shift
	if "$@"; then ksft_pass "$_name"; else ksft_fail "$_name"; fi
}
diag() { echo "# $*"; }

# The kernel log since ksft_init must hold no line that kernel-errors.txt
# (installed beside this file; scripts/ in a source tree) calls an error: a
# test that passes with a BUG, WARNING, Oops, lockdep or KASAN report failed.
ksft_errors=$(dirname "$0")/kernel-errors.txt
[ -f "$ksft_errors" ] || ksft_errors=$(dirname "$0")/../scripts/kernel-errors.txt
kernel_log_clean() {
	[ -f "$ksft_errors" ] || { diag "no kernel-errors.txt beside $0"; return 1; }
	grep -v '^#' "$ksft_errors" > /tmp/ksft-pat.$$
	dmesg | sed -n "/$ksft_marker start/,\$p" | grep -E -f /tmp/ksft-pat.$$ > /tmp/ksft-bad.$$
	_rc=$?
	sed 's/^/# kernel: /' /tmp/ksft-bad.$$ | head -20
	rm -f /tmp/ksft-pat.$$ /tmp/ksft-bad.$$
	[ "$_rc" != 0 ]
}

ksft_exit() {
	ksft_check "kernel log clean" kernel_log_clean
	echo "# totals: pass:$ksft_npass fail:$ksft_nfail skip:$ksft_nskip"
	if [ "$ksft_nfail" -gt 0 ]; then exit $KSFT_FAIL; fi
	if [ "$ksft_npass" -le 1 ] && [ "$ksft_nskip" -gt 0 ]; then exit $KSFT_SKIP; fi
	exit $KSFT_PASS
}

# Skip the whole test with a reason.
ksft_skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

require_root() { [ "$(id -u)" = 0 ] || ksft_skip_all "needs root"; }
require_cmd() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || ksft_skip_all "$_c not found"
	done
}

mod_loaded() { [ -d "/sys/module/$1" ]; }

# load_mod NAME [PARAMS...]: insmod from ko_dir (or modprobe), remember to unload
load_mod() {
	_m=$1
	shift
	mod_loaded "$_m" && return 0
	if [ -f "$ko_dir/$_m.ko" ]; then
		insmod "$ko_dir/$_m.ko" "$@" || return 1
	else
		modprobe "$_m" "$@" || return 1
	fi
	ksft_loaded="$_m $ksft_loaded"
}

unload_mods() {
	for _m in $ksft_loaded; do
		mod_loaded "$_m" && rmmod "$_m"
	done
	ksft_loaded=""
}

# The first dmahba host's number, or nothing.
dmahba_host() {
	for _h in /sys/class/scsi_host/host*; do
		[ -r "$_h/proc_name" ] || continue
		if [ "$(cat "$_h/proc_name")" = dmahba ]; then
			basename "$_h" | sed 's/^host//'
			return 0
		fi
	done
	return 1
}

# dmahba_sd [LUN]: block device name (sdX) of the first dmahba host's LUN
dmahba_sd() {
	_h=$(dmahba_host) || return 1
	for _d in /sys/class/scsi_host/host"$_h"/device/target"$_h":*/"$_h":*:*:"${1:-0}"/block/*; do
		[ -e "$_d" ] && { basename "$_d"; return 0; }
	done
	return 1
}

# dmahba_sg [LUN]: generic device name (sgY) of the first dmahba host's LUN
dmahba_sg() {
	_h=$(dmahba_host) || return 1
	for _d in /sys/class/scsi_host/host"$_h"/device/target"$_h":*/"$_h":*:*:"${1:-0}"/scsi_generic/*; do
		[ -e "$_d" ] && { basename "$_d"; return 0; }
	done
	return 1
}

# wait_for COMMAND...: retry for up to WAIT_FOR_S (30) seconds (device nodes
# appear asynchronously, and slowly on a loaded machine)
wait_for() {
	_i=0
	while [ $_i -lt $((${WAIT_FOR_S:-30} * 10)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# rmmod_idle MODULE: rmmod, retried for up to 10 s while the module is in use
# for a moment: the kernel's partition scan of a new disk holds it open
rmmod_idle() {
	_i=0
	while ! rmmod "$1" 2>/dev/null; do
		mod_loaded "$1" || return 1
		_i=$((_i + 1))
		[ $_i -lt 100 ] || { rmmod "$1"; return; }
		sleep 0.1
	done
}

# wait_idle SD: until the disk has had no request in flight for two looks
# 0.1 s apart (the partition scan of a new disk runs on its own), 10 s at most
wait_idle() {
	_i=0
	_n=0
	while [ $_i -lt 100 ] && [ $_n -lt 2 ]; do
		read -r _r _w < /sys/block/"$1"/inflight 2>/dev/null
		if [ "${_r:-1}" = 0 ] && [ "${_w:-1}" = 0 ]; then
			_n=$((_n + 1))
		else
			_n=0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	[ $_n -ge 2 ]
}

# load_dmahba [PARAMS...]: softdma then dmahba, and wait for the disk
load_dmahba() {
	load_mod softdma || return 1
	load_mod dmahba "$@" || return 1
	wait_for dmahba_sd
}

# stat_sum FIELD: a column of the host's debugfs stats (the file $stats, which
# the test sets to $DBG/hostN/stats) summed over its queues
stat_sum() {
	awk -v f="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 ~ /^[0-9]+$/ { s += $(c[f]) } END { printf "%.0f\n", s }' "${stats:?}"
}

# cpu1's hotplug switch; toggle_cpu1: cpu1 offline and online until
# $tmp/stop appears; writes the toggles that worked to $tmp/toggles, the
# writes of "online" that failed to $tmp/bad. Run in the background beside
# the I/O it is to disturb.
cpu1=/sys/devices/system/cpu/cpu1/online
toggle_cpu1() {
	_n=0
	_bad=0
	while [ ! -e "${tmp:?}/stop" ]; do
		if echo 0 > "$cpu1"; then
			sleep 0.2
			echo 1 > "$cpu1" || _bad=$((_bad + 1))
			_n=$((_n + 1))
		else
			_bad=$((_bad + 1))
		fi
		sleep 0.2
	done
	echo "$_n" > "$tmp/toggles"
	echo "$_bad" > "$tmp/bad"
}

# delete_under_io WHAT PID: delete the disk $sd of host $h while the I/O of
# the background job PID runs, wait for the job, rescan the host. Checks
# that the job ran at the delete, that the delete works and ends the I/O
# within 30 s, and that the rescan brings the disk back (then sets sd and
# dev again); 1 if it does not.
delete_under_io() {
	_run=0
	kill -0 "$2" 2>/dev/null && _run=1
	_t0=$(now)
	_drc=0
	echo 1 > /sys/block/"$sd"/device/delete || _drc=1
	wait "$2"
	_t=$(elapsed "$_t0" "$(now)")
	diag "delete under $1: I/O running at the delete $_run, exit $_drc; the I/O ended $_t s after it"
	ksft_check "the disk is deleted under $1, which end within 30 s" \
		awk -v t="$_t" -v d="$_drc" -v r="$_run" 'BEGIN { exit !(r == 1 && d == 0 && t < 30) }'
	echo "- - -" > /sys/class/scsi_host/host"$h"/scan
	if ! wait_for dmahba_sd; then
		ksft_fail "a rescan brings the disk back"
		return 1
	fi
	sd=$(dmahba_sd)
	dev=/dev/$sd
	ksft_pass "a rescan brings the disk back ($sd)"
}

# now: seconds since boot; elapsed T0 T1: T1 - T0 in seconds, 2 decimals
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }

# --- tests that load dmahba with parameters of their own (fault, desc_fault,
# reset, reset_storm, poll, fio_verify) and send raw CDBs -------------------

# fresh_dmahba_test: skip unless root, with dmahba.ko, with softdma loaded or
# its .ko, and without dmahba loaded; mount debugfs; make the test's $tmp. On
# exit: the test's test_cleanup (if it defines one), unload what load_mod
# loaded, remove $tmp.
fresh_dmahba_test() {
	require_root
	grep -qs ' /sys/kernel/debug ' /proc/mounts ||
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
	mod_loaded softdma || [ -f "$ko_dir/softdma.ko" ] ||
		ksft_skip_all "softdma is not loaded and softdma.ko is not in $ko_dir"
	mod_loaded dmahba && ksft_skip_all "dmahba already loaded (this test loads it with its own parameters)"
	mkdir -p "${tmp:?}"
	trap fresh_dmahba_exit EXIT
}
fresh_dmahba_exit() {
	if command -v test_cleanup > /dev/null; then test_cleanup; fi
	unload_mods
	rm -rf "$tmp"
}

# dmahba_up [PARAMS...]: load_dmahba PARAMS and wait for the disk of the last
# LU (and its generic device, with num_luns=N); else fail and end the test.
# Sets h (host number), sd (LUN 0's disk), dev (/dev/$sd), stats (debugfs).
# shellcheck disable=SC2034 # the test's
dmahba_up() {
	_l=$(echo " $* " | sed -n 's/.* num_luns=\([0-9]*\) .*/\1/p')
	_l=$((${_l:-1} - 1))
	if ! load_dmahba "$@" || ! wait_for dmahba_sd $_l ||
	   { [ $_l != 0 ] && ! wait_for dmahba_sg $_l; }; then
		ksft_fail "dmahba loads with $*"
		ksft_exit
	fi
	h=$(dmahba_host)
	sd=$(dmahba_sd 0)
	dev=/dev/$sd
	stats=/sys/kernel/debug/dmahba/host$h/stats
}

# cdb10 OPCODE LBA BLOCKS: a READ(10)/WRITE(10) CDB as sg_raw wants it (its
# bytes are separate arguments: $(cdb10 ...) goes unquoted)
cdb10() {
	printf '%s 00 %02x %02x %02x %02x 00 %02x %02x 00' "$1" \
		$(($2 >> 24 & 255)) $(($2 >> 16 & 255)) $(($2 >> 8 & 255)) \
		$(($2 & 255)) $(($3 >> 8 & 255)) $(($3 & 255))
}
# sense FILE: "KEY ASC ASCQ" (hex) of the sense data sg_raw -v printed
sense() {
	awk '/Raw sense data/ { f = 1; next }
		f && /^ +[0-9a-f][0-9a-f]( |$)/ { for (i = 1; i <= NF; i++) b[n++] = $i }
		END {
			if (b[0] == "70" || b[0] == "71")
				print substr(b[2], 2, 1), b[12], b[13]
			else if (b[0] == "72" || b[0] == "73")
				print substr(b[1], 2, 1), b[2], b[3]
		}' "$1"
}
# since MARK: the kernel log from the line holding MARK on
since() { dmesg | sed -n "/$1/,\$p"; }
# field NAME FILE: the VALUE of a NAME=VALUE of sgio_tool's line in FILE
field() { tr ' ' '\n' < "$2" | sed -n "s/^$1=//p"; }
