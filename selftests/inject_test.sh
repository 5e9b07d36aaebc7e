#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# inject_test.sh - per-command error injection rules (debugfs
# hostN/lunL/inject, issue 17):
#  a) busy and task-set-full: over SG_IO, a rule that always fires ends the
#     command with that SAM status once the midlayer's retries run out of
#     time (it requeues both); with count=N the command succeeds after
#     exactly N firings (trace dmahba:inject, the rule's fired=, stats).
#  b) sense=K/ASC/ASCQ: CHECK CONDITION with that sense over SG_IO; through
#     the block layer the midlayer fails the read (EIO, sense in the log).
#  c) dma-error: the window fails through the DMA result path (the host's
#     dma_errors counter), SG_IO sees ABORTED COMMAND 4B/00; through the
#     block layer the midlayer retries and the data is right.
#  d) EH escalation: timeout + abort-fails + reset-fails=lun on one read,
#     the device timeout 3 s: abort, LU reset, then target (or bus, host)
#     reset, counted in stats in that order; the device is running again
#     and the retried read returns the data written.
#  e) malformed rules are refused with EINVAL, named in the kernel log, and
#     nothing of the write is applied; "clear" removes every rule.
#
# Runtime: about 40 s under QEMU TCG.
. "$(dirname "$0")/lib.sh"

DBG=/sys/kernel/debug/dmahba
SIZE_MB=256
TMO=3
LOGLVL=/proc/sys/dev/scsi/logging_level
here=$(cd "$(dirname "$0")" && pwd)
tool=$here/sgio_tool

require_cmd awk cmp dd
[ -x "$tool" ] || ksft_skip_all "sgio_tool not built (make -C selftests)"

tr_dir=/sys/kernel/tracing
[ -d $tr_dir/events ] || tr_dir=/sys/kernel/debug/tracing
tmp=/tmp/inject_test.$$
sd=""
inj=""
old_tmo=""
old_lvl=""
test_cleanup() {
	[ -n "$inj" ] && [ -w "$inj" ] && echo clear > "$inj" 2>/dev/null
	[ -n "$old_lvl" ] && echo "$old_lvl" > "$LOGLVL"
	[ -n "$old_tmo" ] && echo "$old_tmo" > /sys/block/"$sd"/device/timeout 2>/dev/null
	[ -e "$tr_dir"/events/dmahba/inject/enable ] && echo 0 > "$tr_dir"/events/dmahba/inject/enable
}
fresh_dmahba_test
ksft_init

dmahba_up dev_size_mb=$SIZE_MB
sg=$(dmahba_sg)
lu=$DBG/host$h/lun0
inj=$lu/inject
lstats=$lu/stats
cap=$((SIZE_MB * 2048))
wait_idle "$sd"
diag "$dev ($sg) on host$h; $lu"
if [ ! -f "$inj" ] || [ ! -f "$lstats" ]; then
	ksft_fail "debugfs $inj and $lstats exist"
	ksft_exit
fi
tr_ok=0
if [ -e $tr_dir/events/dmahba/inject/enable ]; then
	echo 0 > $tr_dir/tracing_on
	echo 1 > $tr_dir/events/dmahba/inject/enable
	echo 1 > $tr_dir/tracing_on
	tr_ok=1
fi

# rule LINE: write one line to inject in one write(); 0 if it succeeded, the
# error (strerror) in $tmp/err (the shell's printf says none)
rule() { printf '%s\n' "$1" | dd of="$inj" bs=4096 conv=notrunc 2> $tmp/err >&2; }
# kstat LINE KEY: a counter of the LU's stats ("inject busy B ...", "eh abort A ...")
kstat() { awk -v l="$1" -v k="$2" '$1 == l { for (i = 2; i < NF; i++) if ($i == k) print $(i + 1) }' "$lstats"; }
# trace_reset; trace_n: dmahba:inject events since the reset
trace_reset() { [ $tr_ok = 1 ] && echo > $tr_dir/trace; }
trace_n() { grep -c ' inject:' $tr_dir/trace; }
# fired: the fired= of the first rule listed
fired() { sed -n '1s/.*fired=\([0-9]*\).*/\1/p' "$inj"; }
# sgread LBA OUT [TIMEOUT_MS]: SG_IO READ(10) of 8 blocks, sgio_tool's line in OUT
sgread() {
	# shellcheck disable=SC2046 # the CDB's bytes
	"$tool" -t "${3:-20000}" -r 4096 -o "$2.data" "$sg" $(cdb10 28 "$1" 8) > "$2" 2>&1
}

L=$((64 * 2048))		# the 4 KiB at 64 MiB
dd if=/dev/urandom of=$tmp/pat bs=4096 count=1 2>/dev/null
dd if=$tmp/pat of="$dev" bs=4096 seek=$((L / 8)) count=1 oflag=direct conv=notrunc 2>/dev/null
# dread OUT: a direct 4 KiB read of the block layer at L; its exit status
dread() { timeout 120 dd if="$dev" of="$1" bs=4096 skip=$((L / 8)) count=1 iflag=direct 2> "$1.err"; }

# ===================================================== a) busy, task-set-full
for act in busy:08:busy task-set-full:28:tsf; do
	a=${act%%:*}
	st=$(echo "$act" | cut -d: -f2)
	key=${act##*:}
	echo clear > "$inj"
	s0=$(kstat inject "$key")
	rule "0x28 $a count=0 lba=$L-$((L + 7))"
	sgread $L $tmp/sg."$a" 2000
	echo clear > "$inj"
	s1=$(kstat inject "$key")
	diag "$a always, SG_IO READ with a 2 s timeout: $(cat $tmp/sg."$a"); stats $key +$((s1 - s0))"
	ksft_check "$a (count=0): SG_IO ends with status $st, nothing transferred" \
		[ "$(field status $tmp/sg."$a")" = "$st" -a "$(field resid $tmp/sg."$a")" = 4096 ]
	ksft_check "$a (count=0): counted in stats" [ $((s1 - s0)) -ge 1 ]
done
# count=N: the midlayer requeues BUSY and TASK SET FULL; exactly N firings
for act in busy:3:dd task-set-full:2:sg; do
	a=${act%%:*}
	n=$(echo "$act" | cut -d: -f2)
	how=${act##*:}
	key=busy
	[ "$a" = task-set-full ] && key=tsf
	echo clear > "$inj"
	trace_reset
	s0=$(kstat inject $key)
	rule "0x28 $a count=$n lba=$L-$((L + 7))"
	rm -f $tmp/got
	if [ "$how" = dd ]; then
		dread $tmp/got
		rc=$?
	else
		sgread $L $tmp/sgn
		rc=$?
		[ "$(field status $tmp/sgn)" = 00 ] || rc=1
		cp $tmp/sgn.data $tmp/got 2>/dev/null
	fi
	s1=$(kstat inject $key)
	f=$(fired)
	tn=-
	[ $tr_ok = 1 ] && tn=$(trace_n)
	diag "$a count=$n ($how): exit $rc; listed '$(cat "$inj")'; stats $key +$((s1 - s0)); $tn trace event(s)"
	ksft_check "$a count=$n ($how): the read is retried and returns the data" \
		sh -c "[ $rc = 0 ] && cmp -s $tmp/got $tmp/pat"
	left=$(sed -n '1s/.*remaining=\([0-9a-z]*\).*/\1/p' "$inj")
	ksft_check "$a count=$n: fired exactly $n times (rule fired=$f remaining=$left, stats +$((s1 - s0)))" \
		[ "$f" = "$n" -a "$left" = 0 -a $((s1 - s0)) = "$n" ]
	if [ $tr_ok = 1 ]; then
		ksft_check "$a count=$n: $n dmahba:inject events" [ "$tn" = "$n" ]
	else
		ksft_skip "$a count=$n: $n dmahba:inject events" "no dmahba:inject tracepoint"
	fi
done

# ===================================================== b) sense=K/ASC/ASCQ
echo clear > "$inj"
rule "0x28 sense=4/44/00 lba=$L-$L"
sgread $L $tmp/sgs
diag "sense=4/44/00, SG_IO READ: $(cat $tmp/sgs)"
ksft_check "sense=4/44/00: SG_IO sees CHECK CONDITION, HARDWARE ERROR 44/00" \
	[ "$(field status $tmp/sgs)" = 02 -a "$(field key $tmp/sgs)" = 4 -a \
	  "$(field asc $tmp/sgs)" = 44 -a "$(field ascq $tmp/sgs)" = 00 ]
ksft_check "sense=4/44/00 (count=1): fired once, the next read is GOOD" \
	sh -c "$tool -r 4096 -o $tmp/sgs2.data $sg $(cdb10 28 $L 8) | grep -q 'status=00' && cmp -s $tmp/sgs2.data $tmp/pat"
rule "0x28 sense=3/11/00 lba=$L-$L"
mark="inject_test-$$-sense"
echo "$mark" > /dev/kmsg
dread $tmp/gots
rc=$?
since "$mark" > $tmp/klog
# BLK_STS_MEDIUM reaches the reader as ENODATA
ksft_check "sense=3/11/00 through the block layer: the read fails (ENODATA: medium error)" \
	sh -c "[ $rc != 0 ] && grep -Eqi 'no data available|input/output error' $tmp/gots.err"
ksft_check "sense=3/11/00: the kernel log shows Medium Error / Unrecovered read error" \
	sh -c "grep -q 'Sense Key : Medium Error' $tmp/klog && grep -q 'Unrecovered read error' $tmp/klog"
dread $tmp/gots2
rc=$?
ksft_check "sense=3/11/00 (count=1): the next read succeeds with the data" \
	sh -c "[ $rc = 0 ] && cmp -s $tmp/gots2 $tmp/pat"
s=$(kstat inject sense)
ksft_check "sense: 2 injections counted in stats ($s)" [ "$s" = 2 ]

# ===================================================== c) dma-error
echo clear > "$inj"
e0=$(stat_sum dma_errors)
d0=$(kstat inject dma)
rule "0x28 dma-error lba=$L-$L"
sgread $L $tmp/sgd
diag "dma-error, SG_IO READ: $(cat $tmp/sgd)"
ksft_check "dma-error: SG_IO sees CHECK CONDITION, ABORTED COMMAND 4B/00" \
	[ "$(field status $tmp/sgd)" = 02 -a "$(field key $tmp/sgd)" = b -a \
	  "$(field asc $tmp/sgd)" = 4b -a "$(field ascq $tmp/sgd)" = 00 ]
rule "0x28 dma-error lba=$L-$L"
dread $tmp/gotd
rc=$?
ksft_check "dma-error through the block layer: retried, the read returns the data" \
	sh -c "[ $rc = 0 ] && cmp -s $tmp/gotd $tmp/pat"
dd if=/dev/urandom of=$tmp/pat2 bs=4096 count=1 2>/dev/null
rule "0x2a dma-error lba=$L-$L"
dd if=$tmp/pat2 of="$dev" bs=4096 seek=$((L / 8)) count=1 oflag=direct conv=notrunc 2>/dev/null
rc=$?
dread $tmp/gotd2
ksft_check "dma-error on a WRITE: retried, the block reads back what was written" \
	sh -c "[ $rc = 0 ] && cmp -s $tmp/gotd2 $tmp/pat2"
cp $tmp/pat2 $tmp/pat
e1=$(stat_sum dma_errors)
d1=$(kstat inject dma)
diag "dma-error: stats dma +$((d1 - d0)), the host's dma_errors +$((e1 - e0))"
ksft_check "dma-error: 3 injections, each a DMA error of the host's result path" \
	[ $((d1 - d0)) = 3 -a $((e1 - e0)) = 3 ]
echo clear > "$inj"

# ===================================================== d) EH escalation
old_tmo=$(cat /sys/block/"$sd"/device/timeout)
echo $TMO > /sys/block/"$sd"/device/timeout
old_lvl=$(cat $LOGLVL 2>/dev/null)
# error recovery messages (SCSI_LOG_ERROR_RECOVERY level 3)
[ -n "$old_lvl" ] && echo $(((old_lvl & ~7) | 4)) > $LOGLVL
for k in abort lun target bus host; do eval "eh0_$k=\$(kstat eh $k)"; done
t0=$(cat /sys/block/"$sd"/device/iotmo_cnt)
trace_reset
rule "0x28 timeout lba=$L-$L" && rule "0x28 abort-fails lba=$L-$L" && rule "any reset-fails=lun"
rc=$?
diag "rules: $(tr '\n' ';' < "$inj")"
ksft_check "timeout, abort-fails and reset-fails=lun rules accepted" [ $rc = 0 ]
mark="inject_test-$$-eh"
echo "$mark" > /dev/kmsg
s0=$(now)
dread $tmp/gote
rc=$?
s1=$(now)
since "$mark" > $tmp/klog.eh
for k in abort lun target bus host; do eval "eh_$k=\$((\$(kstat eh $k) - eh0_$k))"; done
t1=$(cat /sys/block/"$sd"/device/iotmo_cnt)
# shellcheck disable=SC2154 # eh_* set by eval
diag "EH: read exit $rc in $(elapsed "$s0" "$s1") s, $((t1 - t0)) timeout(s); stats eh: abort +$eh_abort lun +$eh_lun target +$eh_target bus +$eh_bus host +$eh_host"
grep -E 'injected|Sending|abort|offline' $tmp/klog.eh | sed 's/^/# kernel: /' | head -12
# the order: the first line of each step in the kernel log
first_line() { grep -n -m1 -E "$1" $tmp/klog.eh | cut -d: -f1; }
la=$(first_line 'injected: abort fails')
ll=$(first_line 'injected: lun fails')
lr=$(first_line 'Sending (target reset|BRST|HRST)')
# before: A < B, both line numbers
before() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" -lt "$2" ]; }
diag "kernel log lines: abort fails at ${la:-?}, lun fails at ${ll:-?}, next reset at ${lr:-?}"
# shellcheck disable=SC2154 # eh_* set by eval
ksft_check "EH: one abort (it fails), then one LU reset (it fails)" [ "$eh_abort" -ge 1 -a "$eh_lun" -ge 1 ]
# shellcheck disable=SC2154 # eh_* set by eval
ksft_check "EH: then a target, bus or host reset" [ $((eh_target + eh_bus + eh_host)) -ge 1 ]
if [ -n "$old_lvl" ] && [ -n "$lr" ]; then
	ksft_check "EH: in order abort -> LU reset -> target/bus/host reset (kernel log)" \
		sh -c "[ -n '$la' ] && [ -n '$ll' ] && [ '$la' -lt '$ll' ] && [ '$ll' -lt '$lr' ]"
else
	ksft_check "EH: in order abort -> LU reset (kernel log)" before "$la" "$ll"
fi
if [ $tr_ok = 1 ]; then
	seq=$(sed -n 's/.* inject:.*action=\([a-z-]*\).*/\1/p' $tr_dir/trace | tr '\n' ' ')
	diag "dmahba:inject: $seq"
	ksft_check "trace: timeout, abort-fails, reset-fails in that order" \
		[ "$seq" = "timeout abort-fails reset-fails " ]
fi
ksft_check "EH: the command timed out once" [ $((t1 - t0)) = 1 ]
ksft_check "EH: the device is running again" [ "$(cat /sys/block/"$sd"/device/state)" = running ]
ksft_check "EH: the read was retried and returns the data written" \
	sh -c "[ $rc = 0 ] && cmp -s $tmp/gote $tmp/pat"
echo clear > "$inj"
[ -n "$old_lvl" ] && echo "$old_lvl" > $LOGLVL
old_lvl=""
echo "$old_tmo" > /sys/block/"$sd"/device/timeout
old_tmo=""
dread $tmp/gote2
rc=$?
ksft_check "after the escalation, reads are normal" sh -c "[ $rc = 0 ] && cmp -s $tmp/gote2 $tmp/pat"

# ===================================================== e) malformed rules
echo clear > "$inj"
rule "0x2f busy count=5 lba=1000-1000"
before=$(cat "$inj")
mark="inject_test-$$-bad"
echo "$mark" > /dev/kmsg
nbad=0
nrefused=0
for line in "0x28" "0x28 explode" "0xzz busy" "0x1ff busy" "0xc0 busy" "read busy" \
	"0x28 busy count=" "0x28 busy count=-1" "0x28 busy count=x" "0x28 busy lba=5-1" \
	"0x28 busy lba=$cap-$cap" "0x28 busy lba=x" "0x28 busy lba=1-2 lba=3-4" "0x28 busy bogus=1" \
	"0x28 sense=3/11" "0x28 sense=0/11/00" "0x28 sense=10/11/00" "0x28 sense=3/1ff/00" \
	"0x28 sense=3/zz/00" "0x28 reset-fails=disk" "0x28 reset-fails" "0x28 abort-fails=lun"; do
	nbad=$((nbad + 1))
	if rule "$line"; then
		diag "'$line' was accepted"
	elif grep -qi 'invalid argument' $tmp/err; then
		nrefused=$((nrefused + 1))
	else
		diag "'$line' failed, but not with EINVAL: $(cat $tmp/err)"
	fi
done
# several lines in one write, one malformed: none applied, not even "clear"
for two in '0x28 busy\n0x28 explode\n' 'clear\n0x28 explode\n' '0x28 busy\n\n0xc0 busy\n'; do
	nbad=$((nbad + 1))
	# shellcheck disable=SC2059 # the lines' \n
	if printf "$two" | dd of="$inj" bs=4096 conv=notrunc 2> $tmp/err; then
		diag "'$two' was accepted"
	elif grep -qi 'invalid argument' $tmp/err; then
		nrefused=$((nrefused + 1))
	fi
done
after=$(cat "$inj")
ksft_check "inject: each of $nbad malformed writes fails with EINVAL ($nrefused did)" [ $nrefused = $nbad ]
ksft_check "inject: the refused writes changed nothing (the armed rule stays)" \
	[ "$before" = "$after" -a -n "$after" ]
nlog=$(since "$mark" | grep -c 'dmahba: .*inject: ')
diag "kernel log: $nlog line(s) naming the problem for $nbad refused writes"
ksft_check "inject: each refused write is named in the kernel log" [ "$nlog" -ge "$nbad" ]
echo clear > "$inj"
ksft_check "inject: clear removes every rule" [ -z "$(cat "$inj")" ]

ksft_exit
