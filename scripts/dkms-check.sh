#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh - "make dkms-check": dkms add, build and install the tree for
# each kernel (private dkms trees; in its chroot for 6.12 and 7.2), boot that
# kernel with the installed modules in its module tree and modprobe dmahba:
# its soft dependency must bring softdma first. A kernel error in the guest's
# log fails too. A guest that hangs or dies before its first step with a clean
# log (the emulator or the boot, not our modules) is booted once more.
# Logs: out/dkms-LABEL.{console,kernel}.log.
#
# Usage: scripts/dkms-check.sh [LABEL...]   (default: 6.1 6.12 7.2)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
labels=("$@")
[ $# -gt 0 ] || labels=(6.1 6.12 7.2)
for label in "${labels[@]}"; do
	step "dkms on $label"
	kodir=$top/out/dkms-$label.ko
	rm -rf "$kodir"
	"$top/scripts/kernels.sh" dkms "$label" "$kodir" || { fail "$label: dkms add/build/install"; continue; }
	gout=$top/out/dkms-$label.console.log
	klog=$top/out/dkms-$label.kernel.log
	for attempt in 1 2; do
		# each step says its name first: the last one shown is the one that failed
		vm_run -k "$label" -t 300 -I -M "$kodir" -l "$klog" -- '
			set -e
			echo "step: modprobe dmahba"
			/usr/sbin/modprobe dmahba   # kmod: busybox runs its own applet first
			echo "step: both modules listed"
			lsmod | grep -E "^(softdma|dmahba) "
			echo "step: a dmahba SCSI host"
			grep -qx dmahba /sys/class/scsi_host/host*/proc_name
			echo "step: modprobe -r dmahba softdma"
			/usr/sbin/modprobe -r dmahba softdma
			echo "modprobe dmahba: softdma loaded first, host up, both removed"' 2>&1 | tee "$gout"
		vrc=${PIPESTATUS[0]}
		if [ "$attempt" = 2 ] || [ "$vrc" -lt 124 ] || grep -q '^step:' "$gout" || kernel_errors "$klog" > /dev/null; then
			break
		fi
		note "$label: the guest did not finish (exit $vrc) before its first step, with a clean kernel log; booting it once more"
		tail -n 15 "$klog"
	done
	n=${#failures[@]}
	klog_check "$label" "$klog"
	[ "$vrc" = 0 ] || fail "$label: the guest run failed (exit $vrc: 124 timeout, 125 guest died, else the step above)"
	[ ${#failures[@]} != "$n" ] || { echo "$prog: $label: ok"; continue; }
	echo "--- the guest's kernel log ($klog), last 40 lines"
	tail -n 40 "$klog"
done
[ ${#failures[@]} = 0 ]
