#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh - "make dkms-check": dkms add, build and install the tree for
# each kernel (in its chroot for the newer ones, in private dkms trees), then
# boot that kernel with the installed modules in its module tree and load
# them with modprobe: dmahba's soft dependency must bring softdma first.
#
# On a failure it prints what the guest said, which step failed and the end of
# the guest's kernel log; a kernel warning in that log is a failure too. A
# guest that hangs or vanishes with no kernel error in its log (the emulator
# failing, not the modules) is booted once more, and the output says so.
#
# Usage: scripts/dkms-check.sh [LABEL...]   (default: 6.1 6.12 7.2)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
labels=("$@")
[ ${#labels[@]} -gt 0 ] || labels=(6.1 6.12 7.2)
bad_re='BUG:|WARNING:|Oops|lockdep|KASAN|UBSAN|Kernel panic|sleeping function called from invalid context'
rc=0
for label in "${labels[@]}"; do
	echo "=== dkms on $label ==="
	if ! kodir=$("$top/scripts/kernels.sh" dkms "$label"); then
		echo "dkms-check: $label: dkms add/build/install FAILED"
		rc=1
		continue
	fi
	echo "installed: $(cd "$kodir" && echo *)"
	klog=$(mktemp)
	for attempt in 1 2; do
		# each step says its name before it runs: the last "step:" line
		# of a failed run is the step that failed
		# shellcheck disable=SC2016
		"$top/scripts/vm.sh" -k "$label" -t 300 -I -M "$kodir" -l "$klog" -- '
			set -e
			echo "step: modprobe dmahba"
			/usr/sbin/modprobe dmahba   # kmod: busybox runs its own applet first
			echo "step: both modules listed"
			lsmod | grep -E "^(softdma|dmahba) "
			echo "step: a dmahba SCSI host"
			grep -qx dmahba /sys/class/scsi_host/host*/proc_name
			echo "step: modprobe -r dmahba softdma"
			/usr/sbin/modprobe -r dmahba softdma
			echo "modprobe dmahba: softdma loaded first, host up, both removed"'
		vrc=$?
		bad=$(grep -E "$bad_re" "$klog")
		# a guest that vanished or hung (125, 124) with no kernel error
		# in its log is the emulator's failure, not the modules': one
		# more boot, said aloud; a failed step or a kernel error is not
		# retried
		if [ "$attempt" = 1 ] && { [ "$vrc" = 124 ] || [ "$vrc" = 125 ]; } && [ -z "$bad" ]; then
			echo "dkms-check: $label: the guest did not finish (exit $vrc) and its kernel log has no kernel error; booting it once more. The end of that log:"
			tail -n 15 "$klog"
			continue
		fi
		break
	done
	if [ "$vrc" = 0 ] && [ -z "$bad" ]; then
		if [ "$attempt" = 1 ]; then
			echo "dkms-check: $label: ok"
		else
			echo "dkms-check: $label: ok (at the second boot)"
		fi
	else
		[ "$vrc" = 0 ] || echo "dkms-check: $label: the guest run failed (exit $vrc: 124 timeout, 125 guest died, else the failed step's status)"
		[ -z "$bad" ] || { echo "dkms-check: $label: the guest's kernel log has warnings:"; echo "$bad" | head -20; }
		echo "--- the guest's kernel log, last 40 lines"
		tail -n 40 "$klog"
		echo "dkms-check: $label: modprobe of the dkms-installed modules FAILED"
		rc=1
	fi
	rm -f "$klog"
done
exit $rc
