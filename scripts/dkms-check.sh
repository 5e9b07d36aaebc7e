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
# guest that hangs or vanishes before its first step with no kernel error in
# its log (the emulator or the boot failing, not the modules) is booted once
# more, and the output says so. The guest's output and kernel log are kept in
# out/dkms-LABEL.{console,kernel}.log.
#
# Usage: scripts/dkms-check.sh [LABEL...]   (default: 6.1 6.12 7.2)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
labels=("$@")
[ ${#labels[@]} -gt 0 ] || labels=(6.1 6.12 7.2)
bad_re='BUG:|WARNING:|Oops|lockdep|KASAN|UBSAN|Kernel panic|Call Trace:|sleeping function called from invalid context|blocked for more than|detected stalls|soft lockup|hard LOCKUP'
rc=0
for label in "${labels[@]}"; do
	echo "=== dkms on $label ==="
	if ! kodir=$("$top/scripts/kernels.sh" dkms "$label"); then
		echo "dkms-check: $label: dkms add/build/install FAILED"
		rc=1
		continue
	fi
	echo "installed: $(cd "$kodir" && echo *)"
	# the guest's output and kernel log stay in out/ for a look afterwards
	mkdir -p "$top/out"
	gout=$top/out/dkms-$label.console.log
	klog=$top/out/dkms-$label.kernel.log
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
			echo "modprobe dmahba: softdma loaded first, host up, both removed"' 2>&1 | tee "$gout"
		vrc=${PIPESTATUS[0]}
		bad=$(grep -E "$bad_re" "$klog")
		# A guest that hung or vanished (124, 125) before it ran the
		# first step, with no kernel error in its log, failed in the
		# emulator or in booting, before our modules: it is booted once
		# more, said aloud. Once a step has started, or with a kernel
		# error, nothing is retried.
		if [ "$attempt" = 1 ] && { [ "$vrc" = 124 ] || [ "$vrc" = 125 ]; } &&
		   [ -z "$bad" ] && ! grep -q '^step:' "$gout"; then
			echo "dkms-check: $label: the guest did not finish (exit $vrc) before its first step, with no kernel error in its log; booting it once more. The end of that log:"
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
		continue
	fi
	rc=1
	if [ ! -s "$klog" ]; then
		echo "dkms-check: $label: vm.sh failed (exit $vrc) before the guest booted: see its messages above"
	else
		[ "$vrc" = 0 ] || echo "dkms-check: $label: the guest run failed (exit $vrc: 124 timeout, 125 guest died, else the status of the last step named above)"
		[ -z "$bad" ] || { echo "dkms-check: $label: the guest's kernel log has warnings:"; echo "$bad" | head -20; }
		echo "--- the guest's kernel log ($klog), last 40 lines"
		tail -n 40 "$klog"
	fi
	echo "dkms-check: $label: modprobe of the dkms-installed modules FAILED"
done
exit $rc
