#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# params_test.sh - bad input through module parameters, debugfs and sysfs.
#
# - Module parameters out of range or malformed: insmod of softdma and of
#   dmahba fails, the kernel log says which parameter was wrong, and nothing
#   is left behind (module, host, platform device, debugfs directory, DMA
#   channel taken, reference on softdma).
# - softdma's debugfs knobs: non-numbers, negative, too large and bad
#   fail_mode strings are refused (the write fails, -EINVAL) and the value
#   stays; counters cannot be written; every debugfs file of both modules is
#   root-only (0600 knobs, 0400 read-only files).
# - Module parameters are read-only at run time (0444; a write fails and
#   changes nothing).
# - sysfs: scanning a target or LUN the host does not have is refused, a
#   wildcard rescan adds and removes nothing; softdma cannot be unbound.
#
# Duration: about 20-40 s under QEMU TCG on two cores.
. "$(dirname "$0")/lib.sh"

require_root
[ -f "$ko_dir/softdma.ko" ] || ksft_skip_all "softdma.ko not found in $ko_dir"
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
mod_loaded softdma && ksft_skip_all "softdma already loaded"
[ -w /dev/kmsg ] || ksft_skip_all "needs /dev/kmsg to find the messages"
grep -qs ' /sys/kernel/debug ' /proc/mounts || \
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/debug/ ] || ksft_skip_all "debugfs is not mounted"
trap unload_mods EXIT
ksft_init

n=0
# log_since_mark: the kernel log since the last mark
mark() { n=$((n + 1)); echo "params_test mark $n" > /dev/kmsg; }
log_since_mark() { dmesg | sed -n "/params_test mark $n\$/,\$p"; }

# shellcheck disable=SC2012 # sysfs names
dma_count() { ls /sys/class/dma 2>/dev/null | wc -l; }
chans_in_use() { cat /sys/class/dma/*/in_use 2>/dev/null | grep -c '^1$'; }
dmahba_left() {
	[ -d /sys/module/dmahba ] || [ -d /sys/kernel/debug/dmahba ] ||
		[ -d /sys/bus/platform/drivers/dmahba ] ||
		ls -d /sys/bus/platform/devices/dmahba.* >/dev/null 2>&1 ||
		grep -qx dmahba /sys/class/scsi_host/host*/proc_name 2>/dev/null
}

# bad_load MODULE WORDS PARAM...: insmod must fail, the log since must hold
# every one of WORDS (a quoted, space-separated list) on one line, and
# nothing may be left behind
bad_load() {
	_mod=$1 _words=$2
	shift 2
	mark
	if insmod "$ko_dir/$_mod.ko" "$@" 2>/dev/null; then
		ksft_fail "insmod $_mod $* is refused"
		rmmod "$_mod"
		return
	fi
	_line=$(log_since_mark | grep -v 'params_test mark')
	_ok=1
	for _w in $_words; do
		_line=$(echo "$_line" | grep -F -- "$_w") || { _ok=0; break; }
	done
	if [ $_ok = 1 ]; then
		ksft_pass "insmod $_mod $* is refused: $(echo "$_line" | head -1 | sed 's/^\[[^]]*\] //')"
	else
		log_since_mark | grep -v 'params_test mark' | sed 's/^/# kernel: /' | head -5
		ksft_fail "insmod $_mod $* is refused with a message naming it ($_words)"
	fi
	if [ "$_mod" = softdma ]; then
		_left=0
		[ -d /sys/module/softdma ] || [ -d /sys/kernel/debug/softdma ] ||
			[ "$(dma_count)" != "$dma0" ] || _left=1
		ksft_check "nothing of softdma left after insmod $*" [ $_left = 1 ]
	else
		_left=1
		dmahba_left && _left=0
		[ "$(cat /sys/module/softdma/refcnt)" = 0 ] || _left=0
		[ "$(chans_in_use)" = 0 ] || _left=0
		ksft_check "nothing of dmahba left after insmod $*, no DMA channel held" [ $_left = 1 ]
	fi
}

# ---- softdma's parameters
dma0=$(dma_count)
bad_load softdma "channels=65" channels=65
bad_load softdma "latency_us=10000001" latency_us=10000001
bad_load softdma "abc channels" channels=abc
bad_load softdma "-1 latency_us" latency_us=-1

ksft_check "softdma loads with 2 channels" load_mod softdma channels=2
# shellcheck disable=SC2012 # sysfs names
chan0=$(ls /sys/class/dma | head -1)

# ---- dmahba's parameters
bad_load dmahba "sector_size=1000" sector_size=1000
bad_load dmahba "sector_size=0" sector_size=0
bad_load dmahba "num_luns=0" num_luns=0
bad_load dmahba "num_luns=257" num_luns=257
bad_load dmahba "num_hosts=0" num_hosts=0
bad_load dmahba "num_hosts=17" num_hosts=17
bad_load dmahba "max_window_kb=1" max_window_kb=1
bad_load dmahba "max_window_kb=16385" max_window_kb=16385
bad_load dmahba "max_sectors=3" max_sectors=3
bad_load dmahba "max_sectors=65536" max_sectors=65536
bad_load dmahba "max_sectors=12" sector_size=4096 max_sectors=12
bad_load dmahba "dev_size_mb=0" dev_size_mb=0
bad_load dmahba "can_queue=0" can_queue=0
bad_load dmahba "can_queue=4097" can_queue=4097
bad_load dmahba "sg_tablesize=0" sg_tablesize=0
bad_load dmahba "nr_channels=9999" nr_channels=9999
bad_load dmahba "poll_queues=2" nr_channels=2 poll_queues=2
bad_load dmahba "poll_queues=255" poll_queues=255
bad_load dmahba "channel nonexistent" channel=nonexistent
bad_load dmahba "driver nosuchdma" dma_driver=nosuchdma
bad_load dmahba "abc dev_size_mb" dev_size_mb=abc
bad_load dmahba "-5 num_luns" num_luns=-5
bad_load dmahba "99999999999 can_queue" can_queue=99999999999

# ---- parameters that size memory (issue 19): the store budget, the
# per-command areas
ram_mb=$(awk '$1 == "MemTotal:" { print int($2 / 1024) }' /proc/meminfo)
bad_load dmahba "max_window_kb=8192 4096" max_window_kb=8192
bad_load dmahba "store_budget_mb=$((ram_mb + 1)) $ram_mb" store_budget_mb=$((ram_mb + 1))
bad_load dmahba "store_budget_mb=4294967295" store_budget_mb=4294967295
bad_load dmahba "-1 store_budget_mb" store_budget_mb=-1
bad_load dmahba "can_queue=4096 command areas RAM" can_queue=4096 max_window_kb=4096 nr_channels=256
if load_mod dmahba store_budget_mb=16 && wait_for dmahba_sd; then
	b=$(awk '$1 == "store" { print $5 }' /sys/kernel/debug/dmahba/host*/stats)
	ksft_check "store_budget_mb=16 loads, reads back 16, debugfs budget_pages 4096 ($b)" \
		test "$(cat /sys/module/dmahba/parameters/store_budget_mb)" = 16 -a "$b" = 4096
	rmmod_idle dmahba
else
	ksft_fail "store_budget_mb=16 loads"
fi
if load_mod dmahba && wait_for dmahba_sd; then
	b=$(cat /sys/module/dmahba/parameters/store_budget_mb)
	ksft_check "store_budget_mb=0 reads back the default, 1 to 1/4 of RAM ($b of $ram_mb MiB)" \
		test "$b" -ge 1 -a "$b" -le $((ram_mb / 4))
	rmmod_idle dmahba
else
	ksft_fail "dmahba loads with the default budget"
fi

# a host whose channels are all taken already: the second load of a
# one-channel host on the same channel cannot happen (one module), so ask
# for more channels than softdma has
mark
if insmod "$ko_dir/dmahba.ko" nr_channels=3 2>/dev/null; then
	q=$(grep -c '^[0-9]' /sys/kernel/debug/dmahba/host*/stats 2>/dev/null)
	diag "nr_channels=3 with 2 softdma channels: loaded with $q queue(s)"
	ksft_check "nr_channels=3 of 2: at most 2 queues" [ "$q" -le 2 ]
	rmmod_idle dmahba
else
	_line=$(log_since_mark | grep -i 'channel' | head -1)
	ksft_check "nr_channels=3 of 2: refused with a message about channels" [ -n "$_line" ]
	ksft_check "nr_channels=3 of 2: nothing left, no channel held" \
		sh -c "[ ! -d /sys/module/dmahba ] && [ \$(cat /sys/class/dma/*/in_use | grep -c '^1\$') = 0 ]"
fi

# ---- a good load: one channel by name
ksft_check "dmahba loads with channel=$chan0" load_mod dmahba channel="$chan0" num_luns=2
ksft_check "its disks appear" wait_for dmahba_sd 1
h=$(dmahba_host)
ksft_check "it holds exactly that channel" \
	sh -c "[ \$(cat /sys/class/dma/$chan0/in_use) = 1 ] && [ \$(cat /sys/class/dma/*/in_use | grep -c '^1\$') = 1 ]"

# ---- module parameters are read-only
ro_params() {
	for _p in /sys/module/dmahba/parameters/* /sys/module/softdma/parameters/*; do
		_m=$(stat -c %a "$_p")
		[ "$_m" = 444 ] || { diag "$_p: mode $_m"; return 1; }
	done
}
ksft_check "every module parameter is 0444" ro_params
v=$(cat /sys/module/dmahba/parameters/num_luns)
if (echo 5 > /sys/module/dmahba/parameters/num_luns) 2>/dev/null; then
	ksft_fail "writing a module parameter fails"
else
	ksft_pass "writing a module parameter fails"
fi
ksft_check "and leaves it unchanged" [ "$(cat /sys/module/dmahba/parameters/num_luns)" = "$v" ]

# ---- debugfs: root only
dbg_modes() {
	_bad=0 _n=0
	# shellcheck disable=SC2044 # debugfs names have no blanks
	for _f in $(find /sys/kernel/debug/softdma /sys/kernel/debug/dmahba -type f); do
		_n=$((_n + 1))
		_m=$(stat -c %a "$_f")
		_u=$(stat -c %u "$_f")
		case $(basename "$_f") in
		fail_nth|fail_every|stall_nth|latency_us|bandwidth_kbps|fail_mode|dma_started_hold_ms|badblocks|badblocks_write|inject) _want=600 ;;
		*) _want=400 ;;
		esac
		if [ "$_m" != "$_want" ] || [ "$_u" != 0 ]; then
			diag "$_f: mode $_m uid $_u, want $_want uid 0"
			_bad=1
		fi
	done
	diag "$_n debugfs files checked"
	[ "$_bad" = 0 ] && [ "$_n" -gt 0 ]
}
ksft_check "debugfs: knobs 0600, read-only files 0400, all owned by root" dbg_modes
dbg_dirs() {
	# shellcheck disable=SC2044
	for _d in $(find /sys/kernel/debug/softdma /sys/kernel/debug/dmahba -type d); do
		_m=$(stat -c %a "$_d")
		case $_m in
		700|755|500|555) ;;
		*) diag "$_d: mode $_m"; return 1 ;;
		esac
	done
}
ksft_check "debugfs directories are not writable by others" dbg_dirs

# ---- debugfs: bad writes are refused and change nothing
d=/sys/kernel/debug/softdma/$chan0
# bad_write FILE VALUE: the write fails and the value stays (an empty value
# cannot be tested from the shell: no write() is made)
bad_write() {
	_before=$(cat "$1")
	if (printf '%s' "$2" > "$1") 2>/dev/null; then
		_ok=0
	else
		_ok=1
	fi
	[ "$(cat "$1")" = "$_before" ] || _ok=0
	[ $_ok = 1 ]
}
for k in fail_nth fail_every stall_nth latency_us bandwidth_kbps; do
	f=$d/$k
	[ -f "$f" ] || { ksft_fail "$k exists"; continue; }
	bad=""
	for v in abc -1 4294967296 99999999999999999999 12abc 0x " " "1 2" 1.5; do
		bad_write "$f" "$v" || bad="$bad '$v'"
	done
	if [ -z "$bad" ]; then
		ksft_pass "$k refuses non-numbers, negatives and too-large values, unchanged"
	else
		ksft_fail "$k refuses non-numbers, negatives and too-large values, unchanged (accepted:$bad)"
	fi
	if echo 7 > "$f" && [ "$(cat "$f")" = 7 ] && echo 0 > "$f" && [ "$(cat "$f")" = 0 ]; then
		ksft_pass "$k takes a valid value"
	else
		ksft_fail "$k takes a valid value"
	fi
done
ksft_check "latency_us refuses 10000001 (over 10 s)" bad_write "$d/latency_us" 10000001
bad=""
for v in bogus readwrite reads "read write" 1 " " writee; do
	bad_write "$d/fail_mode" "$v" || bad="$bad '$v'"
done
if [ -z "$bad" ]; then
	ksft_pass "fail_mode refuses anything but read or write, unchanged"
else
	ksft_fail "fail_mode refuses anything but read or write, unchanged (accepted:$bad)"
fi
ksft_check "fail_mode takes read and write" sh -c \
	"echo read > $d/fail_mode && [ \$(cat $d/fail_mode) = read ] && echo write > $d/fail_mode && [ \$(cat $d/fail_mode) = write ]"
# dmahba's test knob: 0 to 60000 ms
f=/sys/kernel/debug/dmahba/host$h/dma_started_hold_ms
if [ -f "$f" ]; then
	bad=""
	for v in abc -1 60001 4294967296 12abc " " "1 2" 1.5; do
		bad_write "$f" "$v" || bad="$bad '$v'"
	done
	ksft_check "dma_started_hold_ms refuses non-numbers, negatives and over 60000, unchanged${bad:+ (accepted:$bad)}" [ -z "$bad" ]
	ksft_check "dma_started_hold_ms takes a valid value" sh -c \
		"echo 7 > $f && [ \$(cat $f) = 7 ] && echo 0 > $f && [ \$(cat $f) = 0 ]"
else
	ksft_fail "dmahba's debugfs has dma_started_hold_ms"
fi
ro=""
for k in submitted completed failed queued; do
	[ -f "$d/$k" ] || continue
	bad_write "$d/$k" 5 || ro="$ro $k"
done
ksft_check "counters cannot be written${ro:+ (written:$ro)}" [ -z "$ro" ]

# ---- sysfs: the host's scan file
# shellcheck disable=SC2012 # sysfs names
sdevs() { ls -d /sys/class/scsi_host/host"$h"/device/target"$h":*/"$h":* 2>/dev/null | wc -l; }
before=$(sdevs)
bad=""
for s in "0 0 5" "0 1 0" "1 0 0" "0 0 999999" "x y z" "0 0"; do
	if (echo "$s" > /sys/class/scsi_host/host"$h"/scan) 2>/dev/null; then
		bad="$bad '$s'"
	fi
done
ksft_check "scan of a channel, target or LUN the host lacks is refused${bad:+ (accepted:$bad)}" [ -z "$bad" ]
echo "- - -" > /sys/class/scsi_host/host"$h"/scan 2>/dev/null
ksft_check "a wildcard rescan adds and removes nothing ($before devices)" [ "$(sdevs)" = "$before" ]
ksft_check "softdma cannot be unbound through sysfs" [ ! -e /sys/bus/platform/drivers/softdma/unbind ]

unload_mods
ksft_check "both modules unload" sh -c '[ ! -d /sys/module/dmahba ] && [ ! -d /sys/module/softdma ]'
ksft_exit
