#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh - boot a Debian kernel under QEMU with a generated busybox initramfs
# and run one shell command in it.
#
# The initramfs holds busybox, the kernel's own SCSI modules (loadable with
# modprobe), sg3_utils with its libraries, optionally fio, our modules under
# /dmahba and the installed kselftest suite under /kselftest. The command's
# output is the first serial port (our stdout); the guest's kernel log goes
# to the second one and is saved whole, even if the guest dies. The script
# exits with the command's exit status (124 on timeout, 125 if the guest
# died before reporting one).
#
# It is made of uncompressed cpio archives concatenated (the kernel unpacks
# them in order): a cached base, an optional cached fio layer, a layer with
# our modules and tests, and a tiny layer with the command.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<EOF
Usage: scripts/vm.sh [options] -- COMMAND...
  -k LABEL    kernel: 6.1 (default; Debian 12), 6.12 or 7.2 (scripts/kernels.sh)
  -t SECONDS  timeout for the whole run (default 600)
  -m MEM      guest memory (default 2G)
  -c CPUS     guest CPUs (default 2)
  -M DIR      directory with our built .ko files (default: kernel/ and
              selftests/modules/ of this tree)
  -S DIR      installed kselftest tree to carry (default: out/ksft-LABEL if it exists)
  -f          also carry fio and its libraries
  -I          install our modules in the guest's module tree (updates/), so
              that modprobe finds them (as dkms would have)
  -l FILE     where to save the guest's kernel log (default out/vm-LABEL/kernel.log)
  -q          do not echo the guest command's output (still saved in out/vm-LABEL/console.log)
Runs may go on side by side: each keeps its files in a directory of its own.
Environment: QEMU_ACCEL (default tcg,thread=multi), QEMU_EXTRA (more qemu arguments).
EOF
}

label=6.1
timeout=600
mem=2G
cpus=2
moddir=
ksft=
with_fio=0
install_mods=0
klog=
quiet=0
while getopts "k:t:m:c:M:S:fIl:qh" opt; do
	case $opt in
	k) label=$OPTARG ;;
	t) timeout=$OPTARG ;;
	m) mem=$OPTARG ;;
	c) cpus=$OPTARG ;;
	M) moddir=$OPTARG ;;
	S) ksft=$OPTARG ;;
	f) with_fio=1 ;;
	I) install_mods=1 ;;
	l) klog=$OPTARG ;;
	q) quiet=1 ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
if [ $# -eq 0 ]; then
	usage >&2
	exit 2
fi
cmd="$*"

# The kernel: its image, its release and its modules.
if [ "$label" = 6.1 ]; then
	KVER=$(ls /lib/modules | grep -E '^6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -1)
	VMLINUZ=/boot/vmlinuz-$KVER
	MODDIR=/lib/modules/$KVER
else
	eval "$("$top/scripts/kernels.sh" info "$label")"
fi
[ -r "$VMLINUZ" ] || { echo "vm: no kernel image for $label ($VMLINUZ); run make deps" >&2; exit 1; }

out=$top/out/vm-$label
mkdir -p "$out"
klog=${klog:-$out/kernel.log}
[ -n "$ksft" ] || { [ -d "$top/out/ksft-$label" ] && ksft=$top/out/ksft-$label; } || true

# Copy a binary and the shared libraries it needs into a root tree.
copy_bin() {
	local root=$1 bin=$2 lib
	install -D -m 0755 "$bin" "$root$bin"
	for lib in $(ldd "$bin" 2>/dev/null | awk '/=>/ {print $3} /^\t\/lib/ {print $1}'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

mkcpio() { (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) > "$2"; }

mods="scsi_mod sd_mod sg scsi_debug null_blk configfs ext4 crypto-crc32c"

# --- base layer: busybox, kernel modules, sg3_utils; rebuilt when its inputs change
base_key=$(printf '%s\n' "$KVER" "$(stat -c %Y "$top/scripts/vm.sh" /bin/busybox /usr/bin/sg_inq /usr/bin/kmod "$MODDIR/modules.dep")" | md5sum | cut -c1-12)
base=$out/base-$base_key.cpio
if [ ! -e "$base" ]; then
	rm -f "$out"/base-*.cpio
	r=$(mktemp -d)
	mkdir -p "$r"/{bin,sbin,dev,proc,sys,tmp,mnt,root,etc,usr/bin,usr/sbin,var/tmp}
	install -m 0755 /bin/busybox "$r/bin/busybox"
	for b in /usr/bin/sg_* /usr/bin/sginfo /usr/bin/sgp_dd /usr/bin/sgm_dd /usr/bin/lsscsi \
		 /usr/bin/iscsi-test-cu; do
		[ -x "$b" ] && copy_bin "$r" "$b"
	done
	# kmod's modprobe honours soft dependencies (busybox's does not)
	copy_bin "$r" /usr/bin/kmod
	for t in modprobe insmod rmmod lsmod modinfo depmod; do
		ln -s /usr/bin/kmod "$r/usr/sbin/$t"
	done
	# busybox's timeout has no --foreground, which kselftest's runner passes
	cat > "$r/usr/bin/timeout" <<'EOF'
#!/bin/sh
[ "$1" = "--foreground" ] && shift
exec /bin/busybox timeout "$@"
EOF
	chmod 0755 "$r/usr/bin/timeout"
	if [ "$label" != 6.1 ]; then
		"$top/scripts/kernels.sh" modules "$label" "$r" $mods
	else
		for m in $(modprobe -a -S "$KVER" -d / --show-depends $mods 2>/dev/null |
			   awk '/^insmod/ {print $2}' | sort -u); do
			install -D -m 0644 "$m" "$r$m"
		done
		cp "$MODDIR"/modules.{order,builtin,builtin.modinfo} "$r$MODDIR/" 2>/dev/null || true
		depmod -b "$r" "$KVER"
	fi
	mkcpio "$r" "$base.$$"
	mv "$base.$$" "$base"
	rm -rf "$r"
fi
layers=("$base")

# --- fio layer (optional, cached)
if [ "$with_fio" = 1 ]; then
	fiol=$out/fio-$(stat -c %Y /usr/bin/fio).cpio
	if [ ! -e "$fiol" ]; then
		rm -f "$out"/fio-*.cpio
		r=$(mktemp -d)
		copy_bin "$r" /usr/bin/fio
		mkcpio "$r" "$fiol.$$"
		mv "$fiol.$$" "$fiol"
		rm -rf "$r"
	fi
	layers+=("$fiol")
fi

# --- our layer: modules and tests, rebuilt every run (small)
# several runs may share this machine: everything per run lives in $run
run=$(mktemp -d "$out/run.XXXXXX")
r=$run/root
trap 'rm -rf "$run"' EXIT
mkdir -p "$r/dmahba"
if [ -n "$moddir" ]; then
	find "$moddir" -maxdepth 1 -name '*.ko' -exec cp {} "$r/dmahba/" \;
else
	find "$top/kernel" "$top/selftests/modules" -maxdepth 1 -name '*.ko' \
		-exec cp {} "$r/dmahba/" \; 2>/dev/null || true
fi
if [ "$install_mods" = 1 ]; then
	# shellcheck disable=SC2086
	"$top/scripts/kernels.sh" modules "$label" "$r" $mods "$r"/dmahba/*.ko >/dev/null
fi
if [ -n "$ksft" ] && [ -d "$ksft" ]; then
	mkdir -p "$r/kselftest"
	cp -a "$ksft/." "$r/kselftest/"
	for b in "$r"/kselftest/dmahba/*; do
		# tests built dynamically need their libraries in the guest
		if [ -f "$b" ] && [ -x "$b" ] && head -c 4 "$b" | grep -q ELF; then
			for lib in $(ldd "$b" 2>/dev/null | awk '/=>/ {print $3} /^\t\/lib/ {print $1}'); do
				[ -e "$r$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$r$lib"
			done
		fi
	done
fi
cat > "$r/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname dmahba-vm
for m in scsi_mod sd_mod sg; do modprobe $m; done
exec </dev/ttyS0 >/dev/ttyS0 2>&1
echo "vm: $(uname -r) up in $(cut -d' ' -f1 /proc/uptime)s"
cd /
sh /cmd.sh
rc=$?
sync
echo "DMAHBA-VM-EXIT=$rc"
poweroff -f
EOF
chmod 0755 "$r/init"
printf '%s\n' "export DMAHBA_KO_DIR=/dmahba KVER=$KVER" "$cmd" > "$r/cmd.sh"
mkcpio "$r" "$run/run.cpio"
layers+=("$run/run.cpio")
cat "${layers[@]}" > "$run/initramfs.cpio"

accel=${QEMU_ACCEL:-tcg,thread=multi}
# tsc=reliable: under TCG the clocksource watchdog compares two emulated
# clocks; on a loaded host it declares the TSC unstable mid-run, and the
# switch to HPET makes the guest's time jump (seen: a spurious RCU stall
# report on 7.2). The emulated TSC follows the host's clock, which is enough.
console=$run/console.log
: > "$klog"
set +e
# shellcheck disable=SC2086
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
	-accel "$accel" -cpu max -smp "$cpus" -m "$mem" -no-reboot \
	-display none -monitor none -nodefaults \
	-kernel "$VMLINUZ" -initrd "$run/initramfs.cpio" \
	-append "console=ttyS1 loglevel=7 panic=-1 oops=panic rdinit=/init tsc=reliable ${KERNEL_APPEND:-}" \
	-serial stdio -serial "file:$klog" ${QEMU_EXTRA:-} </dev/null |
	tr -d '\r' | tee "$console" | { if [ "$quiet" = 1 ]; then cat >/dev/null; else cat; fi; }
qrc=${PIPESTATUS[0]}
set -e
cp "$console" "$out/console.log" 2>/dev/null || true
rc=$(sed -n 's/^DMAHBA-VM-EXIT=\([0-9]*\)$/\1/p' "$console" | tail -1)
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "vm: timed out after ${timeout}s (kernel log: $klog)" >&2
	exit 124
fi
if [ -z "$rc" ]; then
	echo "vm: the guest died before the command finished (kernel log: $klog)" >&2
	tail -30 "$klog" >&2
	exit 125
fi
exit "$rc"
