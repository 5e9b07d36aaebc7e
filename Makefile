# SPDX-License-Identifier: GPL-2.0
#
# dmahba and softdma, out of tree. The objects are listed in Kbuild and
# kernel/Kbuild; this Makefile is the user's entry point only.
#
#   make                   build kernel/softdma.ko and kernel/dmahba.ko
#   make KDIR=<dir>        ... against that kernel build directory
#   make KERNELRELEASE=<v> ... against /lib/modules/<v>/build (as dkms does)
#   make install           modules_install of the two
#   make test-modules      build selftests/modules
#   make check             static checks, then the kselftest suite in a VM
#                          on each of KERNELS (check-static, check-vm: halves)
#   make check-debug       the suite on a KASAN + lockdep + kmemleak 6.1
#   make dkms-check        dkms install and modprobe on each of KERNELS
#   make demo              the disk at work in a VM, with sg3_utils
#   make bench             dmahba beside scsi_debug and null_blk, in one VM
#   make deps              install what the targets need (apt-get, as root)
#   make clean-build       remove the build's objects; clean: and out/

ifeq ($(KBUILD_MODULES),)

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

ifneq ($(KERNELRELEASE),)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
else ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
KDIR ?= /lib/modules/$(shell uname -r)/build
else
KDIR ?= $(lastword $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V))
endif

# Kernels "make check" runs the suite on (labels of scripts/kernels.sh)
KERNELS ?= 6.1 6.12 7.2

.PHONY: all modules test-modules clean clean-build deps check check-static check-vm demo \
	bench check-debug dkms-check install help

all: modules

modules:
	@test -n "$(KDIR)" -a -f "$(KDIR)/Makefile" || { \
		echo "No kernel build directory (KDIR='$(KDIR)'): run 'make deps' or set KDIR"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(TOP) modules

test-modules:
	$(MAKE) -C $(KDIR) M=$(TOP)/selftests/modules modules

install: modules
	$(MAKE) -C $(KDIR) M=$(TOP) modules_install

# clean-build leaves out/ alone: runs of check, bench and the VMs keep files there
clean-build:
	$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null || true
	$(MAKE) -C $(KDIR) M=$(TOP)/selftests/modules clean 2>/dev/null || true

clean: clean-build
	rm -rf $(TOP)/out

deps:
	@$(TOP)/scripts/deps.sh

check: deps
	@$(TOP)/scripts/check.sh $(KERNELS)

check-static: deps
	@$(TOP)/scripts/check.sh --static-only

check-vm: deps
	@$(TOP)/scripts/check.sh --no-static $(KERNELS)

demo: deps
	@$(TOP)/scripts/demo.sh

bench: deps
	@$(TOP)/scripts/bench.sh

check-debug: deps
	@$(TOP)/scripts/debug-kernel.sh

dkms-check: deps
	@$(TOP)/scripts/dkms-check.sh $(KERNELS)

help:
	@sed -n '3,/^$$/p' $(TOP)/Makefile | sed '$$d; s/^# \{0,1\}//'

endif
