// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_inject.c - targeted error injection of the mock disk: bad blocks by
 * LBA and rules matched against each command, per logical unit, set in
 * debugfs (/sys/kernel/debug/dmahba/host<N>/lun<L>/):
 *
 *  badblocks        "+S-E", "-S-E", "+S", "-S" (logical blocks, null_blk's
 *                   syntax); reads list the merged ranges, "S-E" a line.
 *                   A command that reads the medium over a bad block moves
 *                   the blocks before it, then answers MEDIUM ERROR 11/00
 *                   with INFORMATION = the first bad LBA; a write over one
 *                   reallocates it (clears it from the list).
 *  badblocks_write  "clear" (default) or "fail": writes over a bad block
 *                   fail with MEDIUM ERROR 0C/02 instead.
 *  inject           "OPCODE ACTION [count=N] [lba=S-E]", "clear".
 *  stats            what was injected, and the error handler's calls.
 *
 * The bad blocks are a sorted array of disjoint, non-adjacent ranges (the
 * kernel's badblocks library keeps 512-byte sectors, a different text
 * format in each kernel, and takes a lock with irq enabling in
 * badblocks_clear() on 6.1, which a write under the HBA's queue lock
 * cannot call). Writers reallocating blocks shrink it in atomic context;
 * a range split then may need one more slot, allocated outside the lock
 * with GFP_NOWAIT: when it cannot be had, the list is left as it was and
 * the write fails with 0C/02, as a disk whose reallocation failed.
 *
 * It is above dmahba_emu.c (sense data) and below the command files.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_common.h>
#include <scsi/scsi_proto.h>

#include "compat.h"
#include "dmahba_emu.h"
#include "dmahba_inject.h"
#include "dmahba_trace.h"

#define DMAHBA_INJECT_MAX_RULES		32
#define DMAHBA_INJECT_MAX_RANGES	4096
#define DMAHBA_INJECT_MAX_WRITE		4096	/* bytes per debugfs write */

#define DMAHBA_ASC_WRITE_ERROR		0x0c	/* ASCQ 02: realloc. failed */
#define DMAHBA_ASC_READ_ERROR		0x11	/* ASCQ 00: unrecovered */

DEFINE_STATIC_KEY_FALSE(dmahba_inject_key);

/* what a rule does; the order is the trace event's and the stats' */
enum dmahba_inject_action {
	DMAHBA_INJECT_BUSY,
	DMAHBA_INJECT_TSF,
	DMAHBA_INJECT_SENSE,
	DMAHBA_INJECT_DMA,
	DMAHBA_INJECT_TIMEOUT,
	DMAHBA_INJECT_MEDIUM,		/* a bad block, not a rule */
	DMAHBA_INJECT_ABORT_FAILS,
	DMAHBA_INJECT_RESET_FAILS,
	DMAHBA_INJECT_NR_ACTIONS,
};

/* counted in stats: the errors a command was given */
#define DMAHBA_INJECT_NR_KINDS		(DMAHBA_INJECT_MEDIUM + 1)

static const char * const dmahba_inject_names[] = {
	[DMAHBA_INJECT_BUSY] = "busy",
	[DMAHBA_INJECT_TSF] = "task-set-full",
	[DMAHBA_INJECT_SENSE] = "sense",
	[DMAHBA_INJECT_DMA] = "dma-error",
	[DMAHBA_INJECT_TIMEOUT] = "timeout",
	[DMAHBA_INJECT_MEDIUM] = "medium",
	[DMAHBA_INJECT_ABORT_FAILS] = "abort-fails",
	[DMAHBA_INJECT_RESET_FAILS] = "reset-fails",
};

static const char * const dmahba_inject_levels[] = {
	[DMAHBA_SCSI_EH_ABORT] = "abort",
	[DMAHBA_SCSI_EH_LUN] = "lun",
	[DMAHBA_SCSI_EH_TARGET] = "target",
	[DMAHBA_SCSI_EH_BUS] = "bus",
	[DMAHBA_SCSI_EH_HOST] = "host",
};

/**
 * struct dmahba_inject_rule - one line of "inject"
 * @opcode: operation code matched, or -1 for any
 * @action: what it does
 * @key: SENSE: sense key
 * @asc: SENSE: additional sense code
 * @ascq: SENSE: its qualifier
 * @level: RESET_FAILS: the reset level that fails
 * @has_lba: only commands whose block range overlaps @first..@last
 * @first: first LBA of that range
 * @last: last LBA of that range
 * @count: times it fires, 0 for always
 * @left: times it still fires (with @count)
 * @fired: times it fired
 */
struct dmahba_inject_rule {
	int opcode;
	enum dmahba_inject_action action;
	u8 key;
	u8 asc;
	u8 ascq;
	enum dmahba_scsi_eh_level level;
	bool has_lba;
	u64 first;
	u64 last;
	u32 count;
	u32 left;
	u64 fired;
};

/* a range of bad blocks, first and last LBA */
struct dmahba_inject_range {
	u64 s;
	u64 e;
};

/**
 * struct dmahba_inject - a logical unit's injected errors
 * @lu: the logical unit
 * @ops: the emulation's command table (opcodes a rule may name)
 * @nr_ops: its entries
 * @mutex: serializes the debugfs writers; protects @armed
 * @armed: this LU holds a reference on dmahba_inject_key
 * @lock: protects the fields below it (taken in atomic context, irqsave)
 * @bb: bad ranges, sorted, disjoint and never adjacent
 * @nr_bb: ranges in @bb (read without @lock as a hint)
 * @cap_bb: slots in @bb
 * @write_fail: badblocks_write is "fail"
 * @rules: the rules, in the order written
 * @nr_rules: rules in @rules (read without @lock as a hint)
 * @stats: errors injected, by enum dmahba_inject_action < NR_KINDS
 * @eh: error handler calls, by enum dmahba_scsi_eh_level
 */
struct dmahba_inject {
	struct dmahba_lu *lu;
	const struct dmahba_emu_op *ops;
	unsigned int nr_ops;

	struct mutex mutex;	/* serializes writers; protects armed */
	bool armed;

	spinlock_t lock;	/* protects the fields below */
	struct dmahba_inject_range *bb;
	unsigned int nr_bb;
	unsigned int cap_bb;
	bool write_fail;
	struct dmahba_inject_rule rules[DMAHBA_INJECT_MAX_RULES];
	unsigned int nr_rules;

	atomic64_t stats[DMAHBA_INJECT_NR_KINDS];
	atomic64_t eh[DMAHBA_SCSI_EH_NR];
};

/* ---- the bad ranges; every function here runs under inj->lock ---- */

/* index of the first range whose end is at or after @lba */
static unsigned int dmahba_inject_bb_find(const struct dmahba_inject *inj,
					  u64 lba)
{
	unsigned int lo = 0, hi = inj->nr_bb, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (inj->bb[mid].e < lba)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* @inj->cap_bb > @inj->nr_bb: there is room for one more range */
static void dmahba_inject_bb_add(struct dmahba_inject *inj, u64 s, u64 e)
{
	struct dmahba_inject_range *r = inj->bb;
	unsigned int i, j;
	u64 ns = s, ne = e;

	/* the first range that overlaps or touches s..e */
	i = dmahba_inject_bb_find(inj, s ? s - 1 : 0);
	for (j = i; j < inj->nr_bb && r[j].s <= e + 1; j++) {
		ns = min(ns, r[j].s);
		ne = max(ne, r[j].e);
	}
	if (j == i) {
		memmove(&r[i + 1], &r[i], (inj->nr_bb - i) * sizeof(*r));
		inj->nr_bb++;
	} else {
		memmove(&r[i + 1], &r[j], (inj->nr_bb - j) * sizeof(*r));
		inj->nr_bb -= j - i - 1;
	}
	r[i].s = ns;
	r[i].e = ne;
}

/*
 * Clear s..e. Only a range strictly around s..e is split and needs one
 * more slot: false, nothing changed, when there is none.
 */
static bool dmahba_inject_bb_clear(struct dmahba_inject *inj, u64 s, u64 e)
{
	struct dmahba_inject_range *r = inj->bb;
	unsigned int i, j;

	if (!inj->nr_bb)
		return true;
	i = dmahba_inject_bb_find(inj, s);
	if (i < inj->nr_bb && r[i].s < s && r[i].e > e) {
		if (inj->nr_bb == inj->cap_bb)
			return false;
		memmove(&r[i + 1], &r[i], (inj->nr_bb - i) * sizeof(*r));
		inj->nr_bb++;
		r[i].e = s - 1;
		r[i + 1].s = e + 1;
		return true;
	}
	if (i < inj->nr_bb && r[i].s < s && r[i].e >= s) {
		r[i].e = s - 1;
		i++;
	}
	for (j = i; j < inj->nr_bb && r[j].e <= e; j++)
		;
	if (j < inj->nr_bb && r[j].s <= e)
		r[j].s = e + 1;
	memmove(&r[i], &r[j], (inj->nr_bb - j) * sizeof(*r));
	inj->nr_bb -= j - i;
	return true;
}

/*
 * Make @r (room for @cap ranges, allocated without @lock) the list's array
 * if it is larger and holds the list; called with @lock held. Return what
 * the caller frees after dropping @lock: the old array, or @r unused.
 */
static struct dmahba_inject_range *
dmahba_inject_bb_install(struct dmahba_inject *inj,
			 struct dmahba_inject_range *r, unsigned int cap)
{
	struct dmahba_inject_range *old = r;

	lockdep_assert_held(&inj->lock);
	if (cap > inj->cap_bb && inj->nr_bb <= cap) {
		memcpy(r, inj->bb, inj->nr_bb * sizeof(*r));
		old = inj->bb;
		inj->bb = r;
		inj->cap_bb = cap;
	}
	return old;
}

/*
 * Room for @more ranges beyond those held, for a debugfs writer (process
 * context, under @mutex, without @lock): 0, -ENOSPC beyond
 * DMAHBA_INJECT_MAX_RANGES, or -ENOMEM. Writes may meanwhile only shrink
 * the list, or grow the room.
 */
static int dmahba_inject_bb_reserve(struct dmahba_inject *inj,
				    unsigned int more)
{
	struct dmahba_inject_range *r, *old;
	unsigned long flags;
	unsigned int need, cap;

	for (;;) {
		spin_lock_irqsave(&inj->lock, flags);
		need = inj->nr_bb + more;
		cap = inj->cap_bb;
		spin_unlock_irqrestore(&inj->lock, flags);
		if (need > DMAHBA_INJECT_MAX_RANGES)
			return -ENOSPC;
		if (need <= cap)
			return 0;
		cap = max(16U, 2 * need);
		r = kmalloc_array(cap, sizeof(*r), GFP_KERNEL);
		if (!r)
			return -ENOMEM;
		spin_lock_irqsave(&inj->lock, flags);
		old = dmahba_inject_bb_install(inj, r, cap);
		spin_unlock_irqrestore(&inj->lock, flags);
		kfree(old);
	}
}

/* ---- the I/O path ---- */

/* the blk-mq unique tag; U32_MAX for a reset ioctl's command (no queue) */
static u32 dmahba_inject_tag(struct scsi_cmnd *scmd)
{
	struct request *rq = scsi_cmd_to_rq(scmd);

	return rq->mq_hctx ? blk_mq_unique_tag(rq) : U32_MAX;
}

/*
 * The block range of the commands a rule's lba= can match: false for a
 * command that names none.
 */
static bool dmahba_inject_range_of(struct scsi_cmnd *scmd, u64 *lba, u64 *n)
{
	const u8 *cdb = scmd->cmnd;

	if (!scmd->cmd_len || scsi_command_size(cdb) > scmd->cmd_len)
		return false;
	switch (cdb[0]) {
	case READ_6:
	case WRITE_6:
		*lba = get_unaligned_be24(&cdb[1]) & 0x1fffff;
		*n = cdb[4] ? cdb[4] : 256;
		return true;
	case READ_10:
	case WRITE_10:
	case WRITE_VERIFY:
	case VERIFY:
	case WRITE_SAME:
	case SYNCHRONIZE_CACHE:
		*lba = get_unaligned_be32(&cdb[2]);
		*n = get_unaligned_be16(&cdb[7]);
		return true;
	case READ_12:
	case WRITE_12:
		*lba = get_unaligned_be32(&cdb[2]);
		*n = get_unaligned_be32(&cdb[6]);
		return true;
	case READ_16:
	case WRITE_16:
	case WRITE_VERIFY_16:
	case VERIFY_16:
	case WRITE_SAME_16:
	case SYNCHRONIZE_CACHE_16:
		*lba = get_unaligned_be64(&cdb[2]);
		*n = get_unaligned_be32(&cdb[10]);
		return true;
	case COMPARE_AND_WRITE:
		*lba = get_unaligned_be64(&cdb[2]);
		*n = cdb[13];
		return true;
	}
	return false;
}

static bool dmahba_inject_match(const struct dmahba_inject_rule *r,
				struct scsi_cmnd *scmd, bool has_range,
				u64 lba, u64 n)
{
	if (r->count && !r->left)
		return false;
	if (r->opcode >= 0 && (!scmd->cmd_len || scmd->cmnd[0] != r->opcode))
		return false;
	if (!r->has_lba)
		return true;
	return has_range && n && lba <= r->last && r->first <= lba + n - 1;
}

/* Count a firing of @r. Called with inj->lock held. */
static void dmahba_inject_fire(struct dmahba_inject_rule *r)
{
	if (r->count)
		r->left--;
	r->fired++;
}

/**
 * dmahba_inject_cmd() - match the rules against a command as it starts
 * @sc: the command (started: scmd and lu set)
 * @ret: set to what the HBA does next, when the command is finished here
 *
 * The first rule that matches and has firings left acts: busy and
 * task-set-full end the command with that status, sense= with CHECK
 * CONDITION and that sense, timeout keeps it (DMAHBA_SCSI_HOLD) until
 * the error handler aborts or resets it; dma-error lets it run, its first
 * DMA window being failed through the port's result path (@sc->fail_dma).
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: true if @ret is set, false if the command runs normally.
 */
bool dmahba_inject_cmd(struct dmahba_scsi_cmd *sc, enum dmahba_scsi_ret *ret)
{
	struct dmahba_inject *inj = sc->lu->inj;
	struct scsi_cmnd *scmd = sc->scmd;
	struct dmahba_inject_rule *r, hit;
	unsigned long flags;
	bool has_range;
	u64 lba = 0, n = 0;
	int i, found = -1;

	if (!READ_ONCE(inj->nr_rules))
		return false;
	has_range = dmahba_inject_range_of(scmd, &lba, &n);
	spin_lock_irqsave(&inj->lock, flags);
	for (i = 0; i < inj->nr_rules; i++) {
		r = &inj->rules[i];
		if (r->action > DMAHBA_INJECT_TIMEOUT ||
		    !dmahba_inject_match(r, scmd, has_range, lba, n))
			continue;
		/* a DMA error needs a data phase */
		if (r->action == DMAHBA_INJECT_DMA && !scsi_bufflen(scmd))
			continue;
		dmahba_inject_fire(r);
		hit = *r;
		found = i;
		break;
	}
	spin_unlock_irqrestore(&inj->lock, flags);
	if (found < 0)
		return false;
	atomic64_inc(&inj->stats[hit.action]);
	trace_inject(scmd->cmnd[0], lba, dmahba_inject_tag(scmd), found,
		     hit.action);
	switch (hit.action) {
	case DMAHBA_INJECT_BUSY:
	case DMAHBA_INJECT_TSF:
		scmd->result = hit.action == DMAHBA_INJECT_BUSY ?
			       SAM_STAT_BUSY : SAM_STAT_TASK_SET_FULL;
		scsi_set_resid(scmd, scsi_bufflen(scmd));
		*ret = DMAHBA_SCSI_DONE;
		return true;
	case DMAHBA_INJECT_SENSE:
		*ret = dmahba_emu_sense(sc, hit.key, hit.asc, hit.ascq);
		return true;
	case DMAHBA_INJECT_TIMEOUT:
		*ret = DMAHBA_SCSI_HOLD;
		return true;
	default:	/* DMAHBA_INJECT_DMA */
		sc->fail_dma = true;
		return false;
	}
}

/**
 * dmahba_inject_bad() - the first bad block of a range
 * @lu: the logical unit
 * @lba: first block of the range
 * @n: blocks in the range
 * @first: set to the first bad LBA in it
 *
 * Context: any context; does not sleep.
 * Return: true if the range holds a bad block.
 */
bool dmahba_inject_bad(struct dmahba_lu *lu, u64 lba, u64 n, u64 *first)
{
	struct dmahba_inject *inj = lu->inj;
	unsigned long flags;
	unsigned int i;
	bool bad = false;

	if (!n || !READ_ONCE(inj->nr_bb))
		return false;
	spin_lock_irqsave(&inj->lock, flags);
	i = dmahba_inject_bb_find(inj, lba);
	if (i < inj->nr_bb && inj->bb[i].s <= lba + n - 1) {
		*first = max(inj->bb[i].s, lba);
		bad = true;
	}
	spin_unlock_irqrestore(&inj->lock, flags);
	return bad;
}

/**
 * dmahba_inject_medium_check() - bad blocks under a READ or WRITE
 * @sc: the command
 * @lba: its first block
 * @n: its blocks; set to those it moves before the medium error, if any
 * @write: it writes the medium
 *
 * A read, or a write with badblocks_write "fail", over a bad block moves
 * the blocks before the first one and then ends with MEDIUM ERROR there
 * (@sc->priv.flags DMAHBA_INJECT_F_MEDIUM, dmahba_inject_finish()); a
 * write otherwise reallocates the bad blocks of its range once it is done
 * (DMAHBA_INJECT_F_CLEAR). When @n becomes 0 the caller answers
 * dmahba_inject_medium_error() at once.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 */
void dmahba_inject_medium_check(struct dmahba_scsi_cmd *sc, u64 lba, u32 *n,
				bool write)
{
	struct dmahba_inject *inj = sc->lu->inj;
	u64 first;

	if (!dmahba_inject_bad(sc->lu, lba, *n, &first))
		return;
	if (write && !READ_ONCE(inj->write_fail)) {
		sc->priv.flags |= DMAHBA_INJECT_F_CLEAR;
		return;
	}
	sc->priv.flags |= DMAHBA_INJECT_F_MEDIUM |
			  (write ? DMAHBA_INJECT_F_WRITE : 0);
	sc->priv.err_lba = first;
	*n = first - lba;
}

/*
 * Clear the bad blocks @lba..@lba + @n - 1 on the I/O path (a write
 * reallocated them, or they were deallocated). False, the list unchanged,
 * when a range it splits needs a slot that cannot be had.
 *
 * The slot is allocated outside @lock, as dmahba_inject_bb_reserve() does,
 * with GFP_NOWAIT (the caller holds the HBA's queue lock: no sleeping, and
 * no dipping into the atomic reserves for bookkeeping). Meanwhile another
 * queue may have grown or shrunk the list: the new array is installed only
 * if it is larger and holds the list, and the clear is tried again; if it
 * still finds no room, nothing changed and the caller fails the write
 * (0C/02, counted as a medium error) or logs it.
 */
static bool dmahba_inject_bb_clear_io(struct dmahba_inject *inj, u64 lba,
				      u64 n)
{
	struct dmahba_inject_range *r, *old;
	u64 e = lba + n - 1;
	unsigned long flags;
	unsigned int cap;
	bool ok;

	spin_lock_irqsave(&inj->lock, flags);
	ok = dmahba_inject_bb_clear(inj, lba, e);
	cap = max(16U, 2 * (inj->nr_bb + 1));
	spin_unlock_irqrestore(&inj->lock, flags);
	if (ok)
		return true;
	r = kmalloc_array(cap, sizeof(*r), GFP_NOWAIT | __GFP_NOWARN);
	if (!r)
		return false;
	spin_lock_irqsave(&inj->lock, flags);
	old = dmahba_inject_bb_install(inj, r, cap);
	ok = dmahba_inject_bb_clear(inj, lba, e);
	spin_unlock_irqrestore(&inj->lock, flags);
	kfree(old);
	return ok;
}

/**
 * dmahba_inject_medium_error() - finish with MEDIUM ERROR at a bad block
 * @sc: the command; @sc->priv.err_lba is the bad block
 *
 * 11h/00h UNRECOVERED READ ERROR, or for a write 0Ch/02h WRITE ERROR -
 * AUTO REALLOCATION FAILED; VALID set, INFORMATION the LBA, in the LU's
 * sense format; the residue leaves out what the data phases moved.
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_inject_medium_error(struct dmahba_scsi_cmd *sc)
{
	struct scsi_cmnd *scmd = sc->scmd;
	bool write = sc->priv.flags & DMAHBA_INJECT_F_WRITE;

	atomic64_inc(&sc->lu->inj->stats[DMAHBA_INJECT_MEDIUM]);
	trace_inject(scmd->cmnd[0], sc->priv.err_lba, dmahba_inject_tag(scmd),
		     -1, DMAHBA_INJECT_MEDIUM);
	dmahba_emu_sense(sc, MEDIUM_ERROR, write ? DMAHBA_ASC_WRITE_ERROR :
			 DMAHBA_ASC_READ_ERROR, write ? 0x02 : 0x00);
	scsi_set_sense_information(scmd->sense_buffer, SCSI_SENSE_BUFFERSIZE,
				   sc->priv.err_lba);
	return DMAHBA_SCSI_DONE;
}

/**
 * dmahba_inject_finish() - the data phase of a READ or WRITE was moved
 * @sc: the command, with DMAHBA_INJECT_F_* in @sc->priv.flags
 *
 * The medium error found when it started, or the reallocation of the bad
 * blocks it wrote (@sc->priv.lba, @sc->priv.nblocks).
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_inject_finish(struct dmahba_scsi_cmd *sc)
{
	if (sc->priv.flags & DMAHBA_INJECT_F_MEDIUM)
		return dmahba_inject_medium_error(sc);
	if (dmahba_inject_bb_clear_io(sc->lu->inj, sc->priv.lba,
				      sc->priv.nblocks))
		return dmahba_emu_good(sc);
	/* no room to record the reallocation: it failed */
	dmahba_inject_bad(sc->lu, sc->priv.lba, sc->priv.nblocks,
			  &sc->priv.err_lba);
	sc->priv.flags |= DMAHBA_INJECT_F_WRITE;
	return dmahba_inject_medium_error(sc);
}

/**
 * dmahba_inject_forget() - a range was deallocated: it has no bad block
 * @lu: the logical unit
 * @lba: first block deallocated (UNMAP, WRITE SAME with the UNMAP bit)
 * @n: blocks deallocated, at least one
 *
 * A thin disk reads zeros from a deallocated block: the range's bad blocks
 * are cleared from the list whatever badblocks_write says. When a range it
 * splits needs a slot that cannot be had now, the list is left as it was
 * (those blocks stay bad) and the kernel log says so.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 */
void dmahba_inject_forget(struct dmahba_lu *lu, u64 lba, u64 n)
{
	if (!dmahba_inject_bb_clear_io(lu->inj, lba, n))
		pr_warn_ratelimited("host%u lun%llu: no memory to clear bad blocks %llu-%llu: they stay\n",
				    lu->p.host_no, lu->p.lun, lba, lba + n - 1);
}

/**
 * dmahba_inject_eh() - the error handler is about to act on a command
 * @lu: the command's logical unit
 * @level: abort, or the reset level
 * @scmd: the command (for a reset, the one the error handler names)
 *
 * Counts the call; an abort-fails rule matching @scmd, or a reset-fails
 * rule of @level (matching @scmd's opcode and range, if it names them),
 * with firings left, makes it fail.
 *
 * Context: process context (SCSI error handler); does not sleep.
 * Return: true if the handler must return FAILED, having done nothing.
 */
bool dmahba_inject_eh(struct dmahba_lu *lu, enum dmahba_scsi_eh_level level,
		      struct scsi_cmnd *scmd)
{
	struct dmahba_inject *inj = lu->inj;
	struct dmahba_inject_rule *r;
	unsigned long flags;
	bool has_range;
	u64 lba = 0, n = 0;
	int i, found = -1;
	enum dmahba_inject_action a;

	atomic64_inc(&inj->eh[level]);
	if (!READ_ONCE(inj->nr_rules))
		return false;
	a = level == DMAHBA_SCSI_EH_ABORT ? DMAHBA_INJECT_ABORT_FAILS :
					    DMAHBA_INJECT_RESET_FAILS;
	has_range = dmahba_inject_range_of(scmd, &lba, &n);
	spin_lock_irqsave(&inj->lock, flags);
	for (i = 0; i < inj->nr_rules; i++) {
		r = &inj->rules[i];
		if (r->action != a || (a == DMAHBA_INJECT_RESET_FAILS &&
				       r->level != level) ||
		    !dmahba_inject_match(r, scmd, has_range, lba, n))
			continue;
		dmahba_inject_fire(r);
		found = i;
		break;
	}
	spin_unlock_irqrestore(&inj->lock, flags);
	if (found < 0)
		return false;
	trace_inject(scmd->cmd_len ? scmd->cmnd[0] : 0, lba,
		     dmahba_inject_tag(scmd), found, a);
	pr_info("host%u lun%llu: injected: %s fails\n", lu->p.host_no,
		lu->p.lun, dmahba_inject_levels[level]);
	return true;
}

/* ---- debugfs ---- */

/* Take or drop this LU's reference on the static key. Under @mutex. */
static void dmahba_inject_update_key(struct dmahba_inject *inj)
{
	unsigned long flags;
	bool want;

	lockdep_assert_held(&inj->mutex);
	spin_lock_irqsave(&inj->lock, flags);
	want = inj->nr_rules || inj->nr_bb;
	spin_unlock_irqrestore(&inj->lock, flags);
	if (want && !inj->armed)
		static_branch_inc(&dmahba_inject_key);
	else if (!want && inj->armed)
		static_branch_dec(&dmahba_inject_key);
	inj->armed = want;
}

static char *dmahba_inject_user_buf(const char __user *ubuf, size_t len)
{
	if (!len || len > DMAHBA_INJECT_MAX_WRITE)
		return ERR_PTR(-EINVAL);
	return memdup_user_nul(ubuf, len);
}

/* next blank-separated token of @s, or NULL */
static char *dmahba_inject_token(char **s)
{
	char *t;

	do {
		t = strsep(s, " \t");
	} while (t && !*t);
	return t;
}

/* "S-E" or "S" (decimal LBAs) within the LU; false when malformed */
static bool dmahba_inject_parse_range(struct dmahba_inject *inj, char *t,
				      u64 *s, u64 *e, const char **why)
{
	char *dash = strchr(t, '-');

	if (dash)
		*dash = '\0';
	if (kstrtou64(t, 10, s) || (dash && kstrtou64(dash + 1, 10, e))) {
		*why = "malformed LBA range";
		return false;
	}
	if (!dash)
		*e = *s;
	if (*s > *e) {
		*why = "range ends before it starts";
		return false;
	}
	if (*e >= inj->lu->nr_blocks) {
		*why = "LBA beyond capacity";
		return false;
	}
	return true;
}

/* the one kernel log line of a refused debugfs write */
static void dmahba_inject_warn(const struct dmahba_inject *inj,
			       const char *file, const char *why,
			       const char *line)
{
	pr_warn("host%u lun%llu %s: %s: '%s'\n", inj->lu->p.host_no,
		inj->lu->p.lun, file, why, line);
}

/* one edit of "badblocks" */
struct dmahba_inject_bb_op {
	bool add;
	u64 s;
	u64 e;
};

static ssize_t dmahba_inject_bb_write(struct file *file,
				      const char __user *ubuf, size_t len,
				      loff_t *ppos)
{
	struct dmahba_inject *inj = file_inode(file)->i_private;
	struct dmahba_inject_bb_op *ops;
	char *buf, *p, *line, *copy = NULL;
	const char *why = NULL;
	unsigned int nops = 0, i;
	unsigned long flags;
	ssize_t ret = len;

	buf = dmahba_inject_user_buf(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ops = kcalloc(DMAHBA_INJECT_MAX_WRITE / 2, sizeof(*ops), GFP_KERNEL);
	if (!ops) {
		kfree(buf);
		return -ENOMEM;
	}
	p = buf;
	while ((line = strsep(&p, "\n"))) {
		line = strim(line);
		if (!*line)
			continue;
		kfree(copy);
		copy = kstrdup(line, GFP_KERNEL);	/* for the message */
		if (nops == DMAHBA_INJECT_MAX_WRITE / 2) {
			why = "too many lines";
		} else if (*line != '+' && *line != '-') {
			why = "expected +S-E, -S-E, +S or -S";
		} else {
			ops[nops].add = *line == '+';
			if (dmahba_inject_parse_range(inj, line + 1,
						      &ops[nops].s,
						      &ops[nops].e, &why))
				nops++;
		}
		if (why) {
			dmahba_inject_warn(inj, "badblocks", why,
					   copy ? copy : "");
			ret = -EINVAL;
			goto out;
		}
	}
	if (!nops) {
		dmahba_inject_warn(inj, "badblocks", "nothing to do", "");
		ret = -EINVAL;
		goto out;
	}

	mutex_lock(&inj->mutex);
	ret = dmahba_inject_bb_reserve(inj, nops + 1);
	if (!ret) {
		spin_lock_irqsave(&inj->lock, flags);
		/* each edit adds at most one range; the room only grows */
		for (i = 0; i < nops; i++) {
			if (ops[i].add)
				dmahba_inject_bb_add(inj, ops[i].s, ops[i].e);
			else
				dmahba_inject_bb_clear(inj, ops[i].s, ops[i].e);
		}
		spin_unlock_irqrestore(&inj->lock, flags);
		ret = len;
	}
	if (ret == -ENOSPC)
		dmahba_inject_warn(inj, "badblocks", "too many ranges", "");
	dmahba_inject_update_key(inj);
	mutex_unlock(&inj->mutex);
out:
	kfree(copy);
	kfree(ops);
	kfree(buf);
	return ret;
}

static int dmahba_inject_bb_show(struct seq_file *m, void *v)
{
	struct dmahba_inject *inj = m->private;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&inj->lock, flags);
	for (i = 0; i < inj->nr_bb; i++)
		seq_printf(m, "%llu-%llu\n", inj->bb[i].s, inj->bb[i].e);
	spin_unlock_irqrestore(&inj->lock, flags);
	return 0;
}

static int dmahba_inject_bb_open(struct inode *inode, struct file *file)
{
	return single_open(file, dmahba_inject_bb_show, inode->i_private);
}

static const struct file_operations dmahba_inject_bb_fops = {
	.owner = THIS_MODULE,
	.open = dmahba_inject_bb_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = dmahba_inject_bb_write,
};

static ssize_t dmahba_inject_bbw_write(struct file *file,
				       const char __user *ubuf, size_t len,
				       loff_t *ppos)
{
	struct dmahba_inject *inj = file_inode(file)->i_private;
	unsigned long flags;
	char *buf;
	bool fail;

	buf = dmahba_inject_user_buf(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (sysfs_streq(buf, "clear")) {
		fail = false;
	} else if (sysfs_streq(buf, "fail")) {
		fail = true;
	} else {
		dmahba_inject_warn(inj, "badblocks_write",
				   "expected clear or fail", strim(buf));
		kfree(buf);
		return -EINVAL;
	}
	kfree(buf);
	spin_lock_irqsave(&inj->lock, flags);
	WRITE_ONCE(inj->write_fail, fail);
	spin_unlock_irqrestore(&inj->lock, flags);
	return len;
}

static int dmahba_inject_bbw_show(struct seq_file *m, void *v)
{
	struct dmahba_inject *inj = m->private;

	seq_printf(m, "%s\n", READ_ONCE(inj->write_fail) ? "fail" : "clear");
	return 0;
}

static int dmahba_inject_bbw_open(struct inode *inode, struct file *file)
{
	return single_open(file, dmahba_inject_bbw_show, inode->i_private);
}

static const struct file_operations dmahba_inject_bbw_fops = {
	.owner = THIS_MODULE,
	.open = dmahba_inject_bbw_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = dmahba_inject_bbw_write,
};

/* the ACTION word of a rule; false with @why set when it is none */
static bool dmahba_inject_parse_action(struct dmahba_inject_rule *r, char *t,
				       const char **why)
{
	unsigned int i;
	char *v, *p, *q;

	for (i = 0; i <= DMAHBA_INJECT_TIMEOUT; i++) {
		if (i != DMAHBA_INJECT_SENSE && !strcmp(t, dmahba_inject_names[i])) {
			r->action = i;
			return true;
		}
	}
	if (!strcmp(t, "abort-fails")) {
		r->action = DMAHBA_INJECT_ABORT_FAILS;
		r->level = DMAHBA_SCSI_EH_ABORT;
		return true;
	}
	v = strchr(t, '=');
	if (v)
		*v++ = '\0';
	if (v && !strcmp(t, "sense")) {
		/* K/ASC/ASCQ, hex, each field whole */
		p = strsep(&v, "/");
		q = strsep(&v, "/");
		if (!q || !v || kstrtou8(p, 16, &r->key) ||
		    kstrtou8(q, 16, &r->asc) || kstrtou8(v, 16, &r->ascq) ||
		    !r->key || r->key > 0xf) {
			*why = "expected sense=K/ASC/ASCQ in hex, K 1 to f";
			return false;
		}
		r->action = DMAHBA_INJECT_SENSE;
		return true;
	}
	if (v && !strcmp(t, "reset-fails")) {
		for (i = DMAHBA_SCSI_EH_LUN; i < DMAHBA_SCSI_EH_NR; i++) {
			if (!strcmp(v, dmahba_inject_levels[i])) {
				r->action = DMAHBA_INJECT_RESET_FAILS;
				r->level = i;
				return true;
			}
		}
		*why = "expected reset-fails=lun|target|bus|host";
		return false;
	}
	*why = "unknown action";
	return false;
}

/* one rule line; false with @why set when malformed */
static bool dmahba_inject_parse_rule(struct dmahba_inject *inj,
				     struct dmahba_inject_rule *r, char *line,
				     const char **why)
{
	char *t, *v;
	unsigned int op;
	bool known;
	u32 count = 1;

	memset(r, 0, sizeof(*r));
	t = dmahba_inject_token(&line);
	r->opcode = -1;
	if (strcmp(t, "any")) {
		if (kstrtouint(t, 16, &op) || op > 0xff) {
			*why = "malformed opcode";
			return false;
		}
		dmahba_emu_find(inj->ops, inj->nr_ops, op, 0, &known);
		if (!known) {
			*why = "unknown opcode";
			return false;
		}
		r->opcode = op;
	}
	t = dmahba_inject_token(&line);
	if (!t) {
		*why = "missing action";
		return false;
	}
	if (!dmahba_inject_parse_action(r, t, why))
		return false;
	while ((t = dmahba_inject_token(&line))) {
		v = strchr(t, '=');
		if (v)
			*v++ = '\0';
		if (v && !strcmp(t, "count")) {
			if (kstrtou32(v, 10, &count)) {
				*why = "malformed count";
				return false;
			}
		} else if (v && !strcmp(t, "lba") && !r->has_lba) {
			if (!dmahba_inject_parse_range(inj, v, &r->first,
						       &r->last, why))
				return false;
			r->has_lba = true;
		} else {
			*why = "unknown option";
			return false;
		}
	}
	r->count = count;
	r->left = count;
	return true;
}

static ssize_t dmahba_inject_rules_write(struct file *file,
					 const char __user *ubuf, size_t len,
					 loff_t *ppos)
{
	struct dmahba_inject *inj = file_inode(file)->i_private;
	struct dmahba_inject_rule *rules;
	char *buf, *p, *line, *copy = NULL;
	const char *why = NULL;
	unsigned int n = 0;
	unsigned long flags;
	bool clear = false;
	ssize_t ret = len;

	buf = dmahba_inject_user_buf(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	rules = kcalloc(DMAHBA_INJECT_MAX_RULES, sizeof(*rules), GFP_KERNEL);
	if (!rules) {
		kfree(buf);
		return -ENOMEM;
	}
	p = buf;
	while ((line = strsep(&p, "\n"))) {
		line = strim(line);
		if (!*line)
			continue;
		if (!strcmp(line, "clear")) {
			clear = true;
			n = 0;
			continue;
		}
		kfree(copy);
		copy = kstrdup(line, GFP_KERNEL);	/* for the message */
		if (n == DMAHBA_INJECT_MAX_RULES)
			why = "too many rules";
		else if (dmahba_inject_parse_rule(inj, &rules[n], line, &why))
			n++;
		if (why) {
			dmahba_inject_warn(inj, "inject", why,
					   copy ? copy : "");
			ret = -EINVAL;
			goto out;
		}
	}
	if (!n && !clear) {
		dmahba_inject_warn(inj, "inject", "nothing to do", "");
		ret = -EINVAL;
		goto out;
	}

	mutex_lock(&inj->mutex);
	spin_lock_irqsave(&inj->lock, flags);
	if (clear)
		inj->nr_rules = 0;
	if (inj->nr_rules + n > DMAHBA_INJECT_MAX_RULES) {
		ret = -ENOSPC;
	} else {
		memcpy(&inj->rules[inj->nr_rules], rules, n * sizeof(*rules));
		WRITE_ONCE(inj->nr_rules, inj->nr_rules + n);
	}
	spin_unlock_irqrestore(&inj->lock, flags);
	if (ret == -ENOSPC)
		dmahba_inject_warn(inj, "inject", "too many rules", "");
	dmahba_inject_update_key(inj);
	mutex_unlock(&inj->mutex);
out:
	kfree(copy);
	kfree(rules);
	kfree(buf);
	return ret;
}

static void dmahba_inject_rule_show(struct seq_file *m,
				    const struct dmahba_inject_rule *r)
{
	if (r->opcode < 0)
		seq_puts(m, "any ");
	else
		seq_printf(m, "0x%02x ", r->opcode);
	switch (r->action) {
	case DMAHBA_INJECT_SENSE:
		seq_printf(m, "sense=%x/%02x/%02x", r->key, r->asc, r->ascq);
		break;
	case DMAHBA_INJECT_RESET_FAILS:
		seq_printf(m, "reset-fails=%s", dmahba_inject_levels[r->level]);
		break;
	default:
		seq_puts(m, dmahba_inject_names[r->action]);
		break;
	}
	seq_printf(m, " count=%u", r->count);
	if (r->has_lba)
		seq_printf(m, " lba=%llu-%llu", r->first, r->last);
	if (r->count)
		seq_printf(m, " remaining=%u", r->left);
	else
		seq_puts(m, " remaining=always");
	seq_printf(m, " fired=%llu\n", r->fired);
}

static int dmahba_inject_rules_show(struct seq_file *m, void *v)
{
	struct dmahba_inject *inj = m->private;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&inj->lock, flags);
	for (i = 0; i < inj->nr_rules; i++)
		dmahba_inject_rule_show(m, &inj->rules[i]);
	spin_unlock_irqrestore(&inj->lock, flags);
	return 0;
}

static int dmahba_inject_rules_open(struct inode *inode, struct file *file)
{
	return single_open(file, dmahba_inject_rules_show, inode->i_private);
}

static const struct file_operations dmahba_inject_rules_fops = {
	.owner = THIS_MODULE,
	.open = dmahba_inject_rules_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = dmahba_inject_rules_write,
};

/**
 * dmahba_inject_stats_show() - a LU's injection and error handler counters
 * @lu: the logical unit
 * @m: the seq_file
 *
 * Two lines, a stable format:
 *   inject busy B tsf T sense S dma D timeout X medium M
 *   eh abort A lun L target T bus B host H
 *
 * Context: process context.
 */
void dmahba_inject_stats_show(struct dmahba_lu *lu, struct seq_file *m)
{
	struct dmahba_inject *inj = lu->inj;

	seq_printf(m, "inject busy %lld tsf %lld sense %lld dma %lld timeout %lld medium %lld\n",
		   atomic64_read(&inj->stats[DMAHBA_INJECT_BUSY]),
		   atomic64_read(&inj->stats[DMAHBA_INJECT_TSF]),
		   atomic64_read(&inj->stats[DMAHBA_INJECT_SENSE]),
		   atomic64_read(&inj->stats[DMAHBA_INJECT_DMA]),
		   atomic64_read(&inj->stats[DMAHBA_INJECT_TIMEOUT]),
		   atomic64_read(&inj->stats[DMAHBA_INJECT_MEDIUM]));
	seq_printf(m, "eh abort %lld lun %lld target %lld bus %lld host %lld\n",
		   atomic64_read(&inj->eh[DMAHBA_SCSI_EH_ABORT]),
		   atomic64_read(&inj->eh[DMAHBA_SCSI_EH_LUN]),
		   atomic64_read(&inj->eh[DMAHBA_SCSI_EH_TARGET]),
		   atomic64_read(&inj->eh[DMAHBA_SCSI_EH_BUS]),
		   atomic64_read(&inj->eh[DMAHBA_SCSI_EH_HOST]));
}

static int dmahba_inject_stats_file_show(struct seq_file *m, void *v)
{
	struct dmahba_inject *inj = m->private;

	dmahba_inject_stats_show(inj->lu, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmahba_inject_stats_file);

/**
 * dmahba_inject_debugfs() - a LU's files in its debugfs directory
 * @lu: the logical unit
 * @dir: its directory (host<N>/lun<L>)
 *
 * badblocks, badblocks_write, inject and stats, mode 0600.
 *
 * Context: process context.
 */
void dmahba_inject_debugfs(struct dmahba_lu *lu, struct dentry *dir)
{
	struct dmahba_inject *inj = lu->inj;

	debugfs_create_file("badblocks", 0600, dir, inj, &dmahba_inject_bb_fops);
	debugfs_create_file("badblocks_write", 0600, dir, inj,
			    &dmahba_inject_bbw_fops);
	debugfs_create_file("inject", 0600, dir, inj,
			    &dmahba_inject_rules_fops);
	debugfs_create_file("stats", 0400, dir, inj,
			    &dmahba_inject_stats_file_fops);
}

/**
 * dmahba_inject_disarm() - remove every rule of a logical unit
 * @lu: the logical unit
 *
 * Before the host goes away, so that its last commands (cache flushes)
 * are not held or failed. Bad blocks stay.
 *
 * Context: process context, may sleep.
 */
void dmahba_inject_disarm(struct dmahba_lu *lu)
{
	struct dmahba_inject *inj = lu->inj;
	unsigned long flags;

	mutex_lock(&inj->mutex);
	spin_lock_irqsave(&inj->lock, flags);
	WRITE_ONCE(inj->nr_rules, 0);
	spin_unlock_irqrestore(&inj->lock, flags);
	dmahba_inject_update_key(inj);
	mutex_unlock(&inj->mutex);
}

/**
 * dmahba_inject_lu_init() - a logical unit's injection state, empty
 * @lu: the logical unit
 * @ops: the emulation's command table: the opcodes a rule may name
 * @nr_ops: its entries
 *
 * Context: process context, may sleep.
 * Return: 0 or -ENOMEM.
 */
int dmahba_inject_lu_init(struct dmahba_lu *lu,
			  const struct dmahba_emu_op *ops, unsigned int nr_ops)
{
	struct dmahba_inject *inj;

	inj = kzalloc(sizeof(*inj), GFP_KERNEL);
	if (!inj)
		return -ENOMEM;
	inj->lu = lu;
	inj->ops = ops;
	inj->nr_ops = nr_ops;
	mutex_init(&inj->mutex);
	spin_lock_init(&inj->lock);
	lu->inj = inj;
	return 0;
}

/**
 * dmahba_inject_lu_exit() - free a logical unit's injection state
 * @lu: the logical unit; no command and no debugfs file uses it any more
 *
 * Context: process context, may sleep.
 */
void dmahba_inject_lu_exit(struct dmahba_lu *lu)
{
	struct dmahba_inject *inj = lu->inj;

	if (!inj)
		return;
	if (inj->armed)
		static_branch_dec(&dmahba_inject_key);
	mutex_destroy(&inj->mutex);
	kfree(inj->bb);
	kfree(inj);
	lu->inj = NULL;
}
