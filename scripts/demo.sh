#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - "make demo": build the modules, boot Debian's kernel in a VM,
# insert softdma and dmahba, and show the disk at work with sg3_utils, the
# DMA channel counters and the four stages of one request from the
# tracepoints.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
label=${DEMO_KERNEL:-6.1}
"$top/scripts/kernels.sh" prepare "$label"
kodir=$("$top/scripts/kernels.sh" make "$label" --dir kernel)
exec "$top/scripts/vm.sh" -k "$label" -t 600 -M "$kodir" -- "$(cat "$top/scripts/demo-guest.sh")"
