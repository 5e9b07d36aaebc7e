#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh - "make demo": build the modules, boot Debian's kernel in a VM and
# run scripts/demo-guest.sh there (the disk at work with sg3_utils, the DMA
# channel counters, the four stages of one request from the tracepoints).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
label=${DEMO_KERNEL:-6.1}
kodir=$("$top/scripts/kernels.sh" make "$label" --dir kernel)
vm_run -k "$label" -M "$kodir" -- "$(cat "$top/scripts/demo-guest.sh")"
