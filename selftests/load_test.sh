#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# load_test.sh - both modules load and unload cleanly: the host appears with
# proc_name dmahba, its disk answers, softdma cannot go while dmahba holds a
# channel, and unloading leaves no module, host or DMA device behind.
. "$(dirname "$0")/lib.sh"

require_root
[ -f "$ko_dir/softdma.ko" ] || ksft_skip_all "softdma.ko not found in $ko_dir"
[ -f "$ko_dir/dmahba.ko" ] || ksft_skip_all "dmahba.ko not found in $ko_dir"
mod_loaded dmahba && ksft_skip_all "dmahba already loaded"
mod_loaded softdma && ksft_skip_all "softdma already loaded"
trap unload_mods EXIT
ksft_init 11

# shellcheck disable=SC2012 # sysfs names
dma_before=$(ls /sys/class/dma 2>/dev/null | wc -l)
ksft_check "softdma loads" load_mod softdma
# shellcheck disable=SC2012 # sysfs names
dma_chans=$(ls /sys/class/dma 2>/dev/null | wc -l)
ksft_check "softdma registers its channels in /sys/class/dma" [ "$dma_chans" -gt "$dma_before" ]
ksft_check "dmahba loads" load_mod dmahba
ksft_check "a host with proc_name dmahba appears" dmahba_host
ksft_check "its disk appears" wait_for dmahba_sd
sd=$(dmahba_sd)
ksft_check "the disk has a size" [ "$(cat /sys/block/"$sd"/size 2>/dev/null || echo 0)" -gt 0 ]
# the core pins the provider while a client holds one of its channels
if rmmod softdma 2>/dev/null; then
	ksft_fail "rmmod softdma refused while dmahba holds a channel"
else
	ksft_pass "rmmod softdma refused while dmahba holds a channel"
fi
ksft_check "rmmod dmahba" rmmod_idle dmahba
ksft_check "no dmahba host left" sh -c '! grep -qx dmahba /sys/class/scsi_host/host*/proc_name 2>/dev/null'
ksft_check "rmmod softdma" rmmod softdma
ksft_check "no module or DMA device left" sh -c \
	"[ ! -d /sys/module/dmahba ] && [ ! -d /sys/module/softdma ] && [ \$(ls /sys/class/dma 2>/dev/null | wc -l) -eq $dma_before ]"
ksft_loaded=""
ksft_exit
