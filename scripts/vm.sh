#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm.sh [options] -- COMMAND: run one command in a VM (vm_run in scripts/lib.sh
# lists the options), e.g. scripts/vm.sh -k 6.1 -- 'lsmod'
. "$(dirname "$0")/lib.sh"
[ "${1:-}" != -h ] || { sed -n '/^# vm_run/,/^vm_run/p' "$top/scripts/lib.sh" | sed '$d; s/^# \{0,1\}//'; exit 0; }
vm_run "$@"
