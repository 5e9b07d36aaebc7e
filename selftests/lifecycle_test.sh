#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lifecycle_test.sh - loading, unloading and host removal, and no leak.
#
# - 50 cycles (DMAHBA_CYCLES) of insmod softdma, insmod dmahba, a 1 MiB
#   sg_dd write and read back, UNMAP of half of it (the store's page counter
#   in debugfs goes up by 256, then down by 128; the other 128 pages are
#   freed by rmmod), rmmod dmahba, rmmod softdma. Memory is measured after
#   two warm-up cycles and after the last one (page cache and reclaimable
#   slab dropped first): free memory, unreclaimable slab and the kmalloc
#   caches of /proc/slabinfo must not grow by more than the bounds below,
#   and softdma's descriptor cache must be gone.
# - rmmod dmahba while its disk (or its sg node) is open is refused, and
#   works once it is closed; the same while the disk holds a mounted ext2
#   file system (if mke2fs and ext2/ext4 are there), whose file survives an
#   unmount and a remount.
# - rmmod softdma while dmahba holds its channels is refused, and both still
#   work afterwards.
# - The disk deleted (sysfs) while reads run: they end at once with errors;
#   a rescan of the host brings it back with the data written before.
# - Hosts come and go while idle: num_hosts=2 loads with the default
#   channel counts; with enough channels it gives two hosts with a disk
#   each; unbinding one through sysfs removes it while the other serves I/O,
#   binding brings it back, and unbinding a host whose disk is held open
#   does not crash (the open descriptor reads nothing); unbinding a host
#   while slow windows (softdma latency_us) are in flight removes it with no
#   kernel error, and it binds again.
#
# Duration: about 60-90 s under QEMU TCG on two cores (the 50 cycles take
# about 1 s each).
. "$(dirname "$0")/lib.sh"

cycles=${DMAHBA_CYCLES:-50}

require_root
require_cmd sg_dd sg_unmap cmp
[ -f "$ko_dir/softdma.ko" ] || ksft_skip_all "softdma.ko not found in $ko_dir"
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
mod_loaded softdma && ksft_skip_all "softdma already loaded"
mod_loaded sg || modprobe sg 2>/dev/null
mod_loaded sg || ksft_skip_all "the sg driver is not available"
grep -qs ' /sys/kernel/debug ' /proc/mounts || \
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

tmp=$(mktemp -d /tmp/lifecycle_test.XXXXXX)
mnt=$tmp/mnt
cleanup() {
	exec 3<&- 4<&- 2>/dev/null
	grep -qs " $mnt " /proc/mounts && umount "$mnt"
	unload_mods
	rm -rf "$tmp"
}
trap cleanup EXIT
ksft_init

head -c 1048576 /dev/urandom > "$tmp/pat"

load() { load_mod softdma && load_mod dmahba "$@" && wait_for dmahba_sg; }
unload() { rmmod_idle dmahba 2>/dev/null; rmmod_idle softdma 2>/dev/null; ksft_loaded=""; }
# LUN 0's page count in debugfs (read with builtins: forks are slow under TCG)
store_pages() {
	for _s in /sys/kernel/debug/dmahba/host*/stats; do
		while read -r _a _b _c _rest; do
			[ "$_a $_b" = "lun0 store_pages" ] && { echo "$_c"; return 0; }
		done < "$_s"
	done
	return 1
}
# io SGDEV: 1 MiB written at LBA 2048, read back and compared
io() {
	sg_dd if="$tmp/pat" of="$1" bs=512 bpt=2048 seek=2048 count=2048 >/dev/null 2>&1 &&
	sg_dd if="$1" of="$tmp/back" bs=512 bpt=2048 skip=2048 count=2048 >/dev/null 2>&1 &&
	cmp -s "$tmp/pat" "$tmp/back"
}

# one load, I/O, unmap, unload cycle; the reason on stdout if it fails
cycle() {
	load dev_size_mb=16 || { echo "load"; return 1; }
	_sg=/dev/$(dmahba_sg)
	_p0=$(store_pages)
	io "$_sg" || { echo "I/O"; return 1; }
	_p1=$(store_pages)
	# unmap half: the store frees 128 pages now, the other 128 at rmmod
	sg_unmap --force --lba=2048 --num=1024 "$_sg" >/dev/null 2>&1
	_p2=$(store_pages)
	# shellcheck disable=SC2015 # either failing
	[ $((_p1 - _p0)) = 256 ] && [ $((_p1 - _p2)) = 128 ] ||
		{ echo "store pages $_p0 -> $_p1 -> $_p2"; return 1; }
	rmmod_idle dmahba || { echo "rmmod dmahba"; return 1; }
	rmmod_idle softdma || { echo "rmmod softdma"; return 1; }
	ksft_loaded=""
	# shellcheck disable=SC2015 # either failing
	! mod_loaded dmahba && ! mod_loaded softdma || { echo "still loaded"; return 1; }
}

# memory: free kB, unreclaimable slab kB, kmalloc-* bytes in use
meminfo() { sed -n "s/^$1: *\([0-9]*\) kB/\1/p" /proc/meminfo; }
kmalloc_bytes() {
	awk '/^kmalloc-/ && !/^kmalloc-(rcl|cg)/ { b += $2 * $4 } END { print b + 0 }' /proc/slabinfo
}
# free pages in kB, those on the per-CPU lists included (MemFree leaves them
# out, and they come and go by megabytes)
free_kb() {
	awk -v pg="$(($(getconf PAGESIZE 2>/dev/null || echo 4096) / 1024))" '
		$1 == "pages" && $2 == "free" { n += $3 }
		$1 == "count:" { n += $2 }
		END { print n * pg }' /proc/zoneinfo
}
# (deferred frees, RCU and per-CPU batches, settle at their own pace: read
# until two readings 1 s apart agree within 256 kB, 10 tries at most)
measure() {
	_prev=""
	_k=0
	while [ $_k -lt 10 ]; do
		sync
		echo 3 > /proc/sys/vm/drop_caches
		sleep 1
		_cur="$(free_kb) $(meminfo SUnreclaim) $(kmalloc_bytes) $(meminfo MemFree)"
		if [ -n "$_prev" ]; then
			# shellcheck disable=SC2086 # four numbers
			set -- $_prev $_cur
			_df=$(($1 - $5)) _ds=$(($2 - $6))
			[ ${_df#-} -lt 256 ] && [ ${_ds#-} -lt 256 ] && break
		fi
		_prev=$_cur
		_k=$((_k + 1))
	done
	echo "$_cur"
}

# ---- load/unload cycles
t0=$(date +%s)
why=""
i=0
while [ $i -lt 2 ] && [ -z "$why" ]; do
	why=$(cycle) || why="warm-up cycle $i: ${why:-failed}"
	i=$((i + 1))
done
# shellcheck disable=SC2046 # four numbers
set -- $(measure)
free0=$1 sunr0=$2 kmal0=$3 mfree0=$4
i=0
while [ $i -lt "$cycles" ] && [ -z "$why" ]; do
	why=$(cycle) || why="cycle $i: ${why:-failed}"
	i=$((i + 1))
done
unload
t1=$(date +%s)
# shellcheck disable=SC2046 # four numbers
set -- $(measure)
free1=$1 sunr1=$2 kmal1=$3 mfree1=$4
ksft_check "$cycles load, 1 MiB I/O, UNMAP, unload cycles${why:+ ($why)}" [ -z "$why" ]
diag "$i cycles in $((t1 - t0)) s"
diag "free pages (per-CPU lists included) ${free0} -> ${free1} kB (MemFree ${mfree0} -> ${mfree1} kB), SUnreclaim ${sunr0} -> ${sunr1} kB, kmalloc caches $((kmal0 / 1024)) -> $((kmal1 / 1024)) kB"
# Bounds. A store that kept the 128 pages rmmod must free would lose 25 MiB
# over 50 cycles, one that kept everything 50 MiB; a lost object per cycle
# costs a few kB of slab at most, which only kmemleak (make check-debug)
# sees reliably. The kernel's own drift over 50 cycles after the warm-up,
# measured on 6.1 under TCG: free pages (per-CPU lists included) -0.4 MiB,
# mostly the slab growth (MemFree alone swings by +-17 MiB with the per-CPU
# lists, so it is only printed); unreclaimable slab +56 to +360 kB, kmalloc
# caches +65 to +150 kB (slab pages filling up); loading and unloading
# scsi_debug as often drifts as much. The bounds sit above that drift and
# well below a leak of store pages.
ksft_check "free memory did not shrink by more than 2 MiB ($((free0 - free1)) kB)" \
	[ $((free0 - free1)) -lt 2048 ]
if grep -q ' kasan_report$' /proc/kallsyms 2>/dev/null; then
	# KASAN's quarantine holds freed objects back by megabytes
	ksft_skip "unreclaimable slab did not grow by more than 1 MiB ($((sunr1 - sunr0)) kB)" \
		"KASAN quarantines freed objects; kmemleak checks this kernel"
	ksft_skip "kmalloc caches did not grow by more than 512 kB ($(((kmal1 - kmal0) / 1024)) kB)" \
		"KASAN quarantines freed objects; kmemleak checks this kernel"
else
	ksft_check "unreclaimable slab did not grow by more than 1 MiB ($((sunr1 - sunr0)) kB)" \
		[ $((sunr1 - sunr0)) -lt 1024 ]
	ksft_check "kmalloc caches did not grow by more than 512 kB ($(((kmal1 - kmal0) / 1024)) kB)" \
		[ $(((kmal1 - kmal0) / 1024)) -lt 512 ]
fi
ksft_check "softdma's descriptor cache is gone" sh -c '! grep -q "^softdma" /proc/slabinfo'

# ---- rmmod while the disk or its sg node is open
if load num_luns=1 dev_size_mb=64; then
	sd=$(dmahba_sd)
	sg=$(dmahba_sg)
	# once the kernel's own partition scan is over, only we hold it
	# shellcheck disable=SC2016 # that sh's
	wait_for sh -c '[ "$(cat /sys/module/dmahba/refcnt)" = 0 ]'
	exec 3<"/dev/$sd"
	if rmmod dmahba 2>/dev/null; then
		ksft_fail "rmmod dmahba while /dev/$sd is open is refused"
	else
		ksft_pass "rmmod dmahba while /dev/$sd is open is refused"
	fi
	ksft_check "the open disk still reads" dd if=/dev/"$sd" of=/dev/null bs=4096 count=16
	exec 3<&-
	exec 4<"/dev/$sg"
	if rmmod dmahba 2>/dev/null; then
		ksft_fail "rmmod dmahba while /dev/$sg is open is refused"
	else
		ksft_pass "rmmod dmahba while /dev/$sg is open is refused"
	fi
	exec 4<&-

	# ---- mounted
	# ext4 wants crc32c, and the kernel cannot load it by itself in a VM
	# without /sbin/modprobe
	modprobe ext4 2>/dev/null || modprobe ext2 2>/dev/null
	modprobe crypto-crc32c 2>/dev/null
	if ! command -v mke2fs >/dev/null 2>&1; then
		ksft_skip "rmmod dmahba while mounted is refused" "no mke2fs"
	elif ! grep -qw 'ext[24]' /proc/filesystems; then
		ksft_skip "rmmod dmahba while mounted is refused" "no ext2 or ext4 in the kernel"
	elif mke2fs -q "/dev/$sd" >/dev/null 2>&1 && mkdir -p "$mnt" &&
	     { mount -t ext2 "/dev/$sd" "$mnt" 2>/dev/null || mount "/dev/$sd" "$mnt"; }; then
		cp "$tmp/pat" "$mnt/file"
		sync
		if rmmod dmahba 2>/dev/null; then
			ksft_fail "rmmod dmahba while /dev/$sd is mounted is refused"
		else
			ksft_pass "rmmod dmahba while /dev/$sd is mounted is refused"
		fi
		umount "$mnt"
		remount() {
			{ mount -t ext2 "/dev/$sd" "$mnt" 2>/dev/null || mount "/dev/$sd" "$mnt"; } &&
				cmp -s "$tmp/pat" "$mnt/file" && umount "$mnt"
		}
		ksft_check "a file on it survives unmount and remount" remount
	else
		ksft_fail "mke2fs and mount of /dev/$sd"
	fi

	# ---- softdma is pinned by the channels dmahba holds
	if rmmod softdma 2>/dev/null; then
		ksft_fail "rmmod softdma while dmahba holds its channels is refused"
	else
		ksft_pass "rmmod softdma while dmahba holds its channels is refused"
	fi
	ksft_check "the disk still serves I/O after that" io "/dev/$sg"
	ksft_check "rmmod dmahba once nothing is open" rmmod_idle dmahba
	ksft_check "rmmod softdma once dmahba is gone" rmmod_idle softdma
	ksft_loaded=""
else
	ksft_fail "softdma and dmahba load"
fi

# ---- the disk deleted while reads run, then its host rescanned: the reads
# end (errors, no hang), the disk comes back with the data written before
if load dev_size_mb=64; then
	h=$(dmahba_host)
	sd=$(dmahba_sd)
	ksft_check "1 MiB written and read back before a delete" io "/dev/$(dmahba_sg)"
	# reads until one fails (the disk is gone)
	sh -c "while dd if=/dev/$sd of=/dev/null bs=64k iflag=direct 2>/dev/null; do :; done" &
	sleep 0.5
	if delete_under_io "reads" $! && wait_for dmahba_sg; then
		sg_dd if="/dev/$(dmahba_sg)" of="$tmp/back" bs=512 bpt=2048 skip=2048 count=2048 >/dev/null 2>&1
		ksft_check "the 1 MiB written before the delete reads back after the rescan" cmp -s "$tmp/pat" "$tmp/back"
	fi
	unload
else
	ksft_fail "softdma and dmahba load for the delete under reads"
fi

# ---- hosts come and go while idle
hosts() { grep -lx dmahba /sys/class/scsi_host/host*/proc_name 2>/dev/null | wc -l; }
# host_of_pdev dmahba.N: the SCSI host number under that platform device
host_of_pdev() {
	for _h in /sys/bus/platform/devices/"$1"/host*; do
		[ -d "$_h" ] && { basename "$_h" | sed 's/^host//'; return 0; }
	done
	return 1
}
# sg_of_host H: the sg node of LUN 0 of host H
sg_of_host() {
	for _d in /sys/class/scsi_host/host"$1"/device/target"$1":*/"$1":*:*:0/scsi_generic/*; do
		[ -e "$_d" ] && { basename "$_d"; return 0; }
	done
	return 1
}
sd_of_host() {
	for _d in /sys/class/scsi_host/host"$1"/device/target"$1":*/"$1":*:*:0/block/*; do
		[ -e "$_d" ] && { basename "$_d"; return 0; }
	done
	return 1
}
two_disks() { h0=$(host_of_pdev dmahba.0) && h1=$(host_of_pdev dmahba.1) && sg_of_host "$h0" && sg_of_host "$h1"; }
drv=/sys/bus/platform/drivers/dmahba
# With the defaults softdma has a channel per CPU and each host wants a
# channel per CPU: the second host finds none.
mark="lifecycle_test num_hosts $$"
echo "$mark" > /dev/kmsg
if load num_hosts=2 dev_size_mb=16 && wait_for two_disks; then
	ksft_pass "num_hosts=2 loads with the default channel counts"
else
	dmesg | sed -n "/$mark/,\$p" | grep dmahba | sed 's/^/# kernel: /' | head -3
	ksft_fail "num_hosts=2 loads with the default channel counts"
fi
unload
# the rest with enough channels for two hosts of one channel per CPU each
ncpu=$(grep -c '^processor' /proc/cpuinfo)
if load_mod softdma channels=$((2 * ncpu)) && load num_hosts=2 dev_size_mb=16 &&
   wait_for two_disks; then
	two_disks >/dev/null
	ksft_check "num_hosts=2 (softdma channels=$((2 * ncpu))): two hosts, each with a disk" [ "$(hosts)" = 2 ]
	io_both() { io "/dev/$(sg_of_host "$h0")" && io "/dev/$(sg_of_host "$h1")"; }
	ksft_check "I/O on both hosts" io_both
	if [ -w "$drv/unbind" ]; then
		echo dmahba.1 > "$drv/unbind"
		ksft_check "unbinding dmahba.1 removes its host" sh -c "[ \$(grep -lx dmahba /sys/class/scsi_host/host*/proc_name | wc -l) = 1 ] && [ ! -e /sys/class/scsi_host/host$h1 ]"
		ksft_check "the other host still serves I/O" io "/dev/$(sg_of_host "$h0")"
		echo dmahba.1 > "$drv/bind"
		ksft_check "binding dmahba.1 brings a host and its disk back" wait_for two_disks
		two_disks >/dev/null
		ksft_check "the new host serves I/O" io "/dev/$(sg_of_host "$h1")"

		# unbinding a host while slow windows are in flight (20 ms per
		# descriptor): the remove waits for them, and the channels are
		# terminated and synchronized before the LUs' stores are freed;
		# a late callback would be a splat (the kernel log check)
		sd1=$(sd_of_host "$h1")
		st1=/sys/kernel/debug/dmahba/host$h1/stats
		slow=""
		chs1=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $2 }' "$st1" 2>/dev/null)
		for _c in $chs1; do
			[ -w /sys/kernel/debug/softdma/"$_c"/latency_us ] || continue
			echo 20000 > /sys/kernel/debug/softdma/"$_c"/latency_us
			slow="$slow $_c"
		done
		if [ -n "$slow" ]; then
			dd if="/dev/$sd1" of=/dev/null bs=256k count=4 iflag=direct 2>/dev/null &
			ddpid=$!
			dd if=/dev/zero of="/dev/$sd1" bs=256k count=4 seek=8 oflag=direct 2>/dev/null &
			ddpid2=$!
			sleep 0.3
			busy=$(awk '{ print $1 + $2 }' /sys/block/"$sd1"/inflight 2>/dev/null)
			echo dmahba.1 > "$drv/unbind"
			wait $ddpid $ddpid2
			for _c in $slow; do echo 0 > /sys/kernel/debug/softdma/"$_c"/latency_us; done
			diag "unbind with ${busy:-?} command(s) in flight"
			ksft_check "unbinding a host with slow windows in flight removes it" [ ! -e /sys/class/scsi_host/host"$h1" ]
			echo dmahba.1 > "$drv/bind"
			ksft_check "it binds again" wait_for two_disks
			two_disks >/dev/null
			ksft_check "the rebound host serves I/O" io "/dev/$(sg_of_host "$h1")"
		else
			ksft_skip "unbind with slow windows in flight" "no softdma latency_us knob for host$h1's channels"
		fi

		# unbinding a host whose disk is open
		sd1=$(sd_of_host "$h1")
		exec 3<"/dev/$sd1"
		echo dmahba.1 > "$drv/unbind"
		ksft_check "unbinding a host whose disk is open removes it" [ ! -e /sys/class/scsi_host/host"$h1" ]
		# an error, or end of file: the disk is gone (its size is 0)
		got=$(dd bs=4096 count=4 skip=1000 <&3 2>/dev/null | wc -c)
		ksft_check "the descriptor left open reads nothing ($got bytes)" [ "$got" = 0 ]
		exec 3<&-
		echo dmahba.1 > "$drv/bind"
		ksft_check "and it binds again" wait_for two_disks
	else
		ksft_skip "unbind and bind of a host" "no $drv/unbind"
	fi
	rm_both() { rmmod_idle dmahba && [ "$(hosts)" = 0 ]; }
	ksft_check "rmmod dmahba removes both hosts" rm_both
	rmmod_idle softdma
	ksft_loaded=""
else
	ksft_fail "softdma channels=$((2 * ncpu)) and dmahba num_hosts=2 load with two disks"
fi
diag "total: $(($(date +%s) - t0)) s"
ksft_exit
