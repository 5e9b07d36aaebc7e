#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh - "make dkms-check": dkms add, build and install the tree for
# each kernel (in its chroot for the newer ones, in private dkms trees), then
# boot that kernel with the installed modules in its module tree and load
# them with modprobe: dmahba's soft dependency must bring softdma first.
#
# Usage: scripts/dkms-check.sh [LABEL...]   (default: 6.1 6.12 7.2)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
labels=("$@")
[ ${#labels[@]} -gt 0 ] || labels=(6.1 6.12 7.2)
rc=0
for label in "${labels[@]}"; do
	echo "=== dkms on $label ==="
	if ! kodir=$("$top/scripts/kernels.sh" dkms "$label"); then
		echo "dkms-check: $label: dkms add/build/install FAILED"
		rc=1
		continue
	fi
	echo "installed: $(ls "$kodir")"
	# shellcheck disable=SC2016
	if "$top/scripts/vm.sh" -k "$label" -t 300 -I -M "$kodir" -- '
		set -e
		/usr/sbin/modprobe dmahba   # kmod: busybox runs its own applet first
		lsmod | grep -E "^(softdma|dmahba) "
		grep -qx dmahba /sys/class/scsi_host/host*/proc_name
		/usr/sbin/modprobe -r dmahba softdma
		echo "modprobe dmahba: softdma loaded first, host up, both removed"'; then
		echo "dkms-check: $label: ok"
	else
		echo "dkms-check: $label: modprobe of the dkms-installed modules FAILED"
		rc=1
	fi
done
exit $rc
