// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_sbc.c - the block commands (SBC) of the mock disk's target
 * emulation: READ and WRITE, VERIFY, SYNCHRONIZE CACHE, WRITE SAME, COMPARE
 * AND WRITE, UNMAP, READ CAPACITY, GET LBA STATUS, START STOP UNIT and
 * PREVENT ALLOW MEDIUM REMOVAL. It calls dmahba_emu.c (sense data, data
 * phases) and the store; the dispatcher (dmahba_scsi.c) calls it.
 *
 * COMPARE AND WRITE is atomic across hardware queues: every command that
 * writes the medium over a data phase registers its block range in its
 * unit's lists (struct dmahba_lu, @range_lock) from its start to its end
 * (dmahba_sbc_release()); UNMAP and a WRITE SAME that deallocates register
 * theirs while they deallocate. A COMPARE AND WRITE that overlaps any range
 * in flight, and any other of them that overlaps a COMPARE AND WRITE in
 * flight, is sent back to the midlayer to be queued again
 * (dmahba_emu_requeue()): nothing waits, and the conflict lasts only until
 * the command in flight ends.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_common.h>
#include <scsi/scsi_proto.h>

#include "compat.h"
#include "dmahba_emu.h"
#include "dmahba_inject.h"
#include "dmahba_store.h"

#define DMAHBA_SBC_LBA_STATUS_MAX	64	/* GET LBA STATUS descriptors */
/* GET LBA STATUS: runs looked at per command (atomic context) */
#define DMAHBA_SBC_LBA_STATUS_SCAN	1024

/*
 * LBA range check: [lba, lba + n) must lie on the medium. A range of 0
 * blocks may start right after the last block (SBC-4: only a range whose
 * end exceeds the capacity is out of range).
 */
static bool dmahba_sbc_in_range(const struct dmahba_lu *lu, u64 lba, u64 n)
{
	return lba <= lu->nr_blocks && n <= lu->nr_blocks - lba;
}

static enum dmahba_scsi_ret dmahba_sbc_lba_range(struct dmahba_scsi_cmd *sc)
{
	return dmahba_emu_sense(sc, ILLEGAL_REQUEST, DMAHBA_ASC_LBA_RANGE, 0);
}

static bool dmahba_sbc_overlaps(const struct list_head *ranges, u64 lba,
				u64 n)
{
	const struct dmahba_scsi_cmd *o;

	list_for_each_entry(o, ranges, priv.range)
		if (lba < o->priv.range_lba + o->priv.range_n &&
		    o->priv.range_lba < lba + n)
			return true;
	return false;
}

/*
 * Register [lba, lba + n) as being written by @sc (a COMPARE AND WRITE if
 * @caw) until dmahba_sbc_release(); false, registering nothing, when it
 * conflicts with a range in flight. O(1) for a write while no COMPARE AND
 * WRITE is in flight.
 */
static bool dmahba_sbc_claim(struct dmahba_scsi_cmd *sc, u64 lba, u32 n,
			     bool caw)
{
	struct dmahba_lu *lu = sc->lu;
	unsigned long flags;
	bool busy;

	if (!n)
		return true;
	spin_lock_irqsave(&lu->range_lock, flags);
	busy = dmahba_sbc_overlaps(&lu->caws, lba, n) ||
	       (caw && dmahba_sbc_overlaps(&lu->writes, lba, n));
	if (!busy) {
		sc->priv.range_lba = lba;
		sc->priv.range_n = n;
		list_add_tail(&sc->priv.range, caw ? &lu->caws : &lu->writes);
	}
	spin_unlock_irqrestore(&lu->range_lock, flags);
	return !busy;
}

/**
 * dmahba_sbc_release() - forget the block range a command was writing
 * @sc: the command; may be called more than once
 *
 * Context: any context; does not sleep.
 */
void dmahba_sbc_release(struct dmahba_scsi_cmd *sc)
{
	unsigned long flags;

	if (list_empty_careful(&sc->priv.range))
		return;
	spin_lock_irqsave(&sc->lu->range_lock, flags);
	list_del_init(&sc->priv.range);
	spin_unlock_irqrestore(&sc->lu->range_lock, flags);
}

/*
 * LBA and transfer length of the 10- and 16-byte block commands that share
 * the READ(10)/READ(16) layout; @len_byte is the length field's offset.
 */
static void dmahba_sbc_lba_len(const u8 *cdb, u64 *lba, u32 *n,
			       u16 *len_byte)
{
	switch (scsi_command_size(cdb)) {
	case 6:
		*lba = get_unaligned_be24(&cdb[1]) & 0x1fffff;
		*n = cdb[4] ? cdb[4] : 256;
		*len_byte = 4;
		break;
	case 10:
		*lba = get_unaligned_be32(&cdb[2]);
		*n = get_unaligned_be16(&cdb[7]);
		*len_byte = 7;
		break;
	case 12:
		*lba = get_unaligned_be32(&cdb[2]);
		*n = get_unaligned_be32(&cdb[6]);
		*len_byte = 6;
		break;
	default:
		*lba = get_unaligned_be64(&cdb[2]);
		*n = get_unaligned_be32(&cdb[10]);
		*len_byte = 10;
		break;
	}
}

/**
 * dmahba_sbc_start_stop() - START STOP UNIT
 * @sc: the command
 *
 * The START bit starts or stops the medium; the other power conditions
 * are accepted and do nothing.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_sbc_start_stop(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	unsigned long flags;

	switch (cdb[4] >> 4) {
	case 0x0:	/* START_VALID: the START bit decides */
		spin_lock_irqsave(&lu->lock, flags);
		lu->stopped = !(cdb[4] & 0x01);
		spin_unlock_irqrestore(&lu->lock, flags);
		break;
	case 0x1:	/* ACTIVE, IDLE, STANDBY, LU_CONTROL, FORCE_*: no-ops */
	case 0x2:
	case 0x3:
	case 0x7:
	case 0xa:
	case 0xb:
		break;
	default:
		return dmahba_emu_bad_cdb(sc, 4, 7);
	}
	return dmahba_emu_good(sc);
}

/**
 * dmahba_sbc_medium_removal() - PREVENT ALLOW MEDIUM REMOVAL
 * @sc: the command
 *
 * The medium is not removable: accepted, nothing to do.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_sbc_medium_removal(struct dmahba_scsi_cmd *sc)
{
	return dmahba_emu_good(sc);
}

/**
 * dmahba_sbc_rw() - READ, WRITE, WRITE AND VERIFY
 * @sc: the command
 *
 * READ and WRITE 6/10/12/16, WRITE AND VERIFY 10/16: one data phase
 * between the data buffer and the medium. Over a bad block (debugfs
 * badblocks) a read moves the blocks before it and ends with MEDIUM ERROR;
 * a write reallocates it, or fails the same way (badblocks_write "fail").
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER or DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_sbc_rw(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u32 max = lu->p.max_xfer_blocks ? lu->p.max_xfer_blocks : U32_MAX;
	bool in;
	u16 len_byte;
	u64 lba;
	u32 n;

	switch (cdb[0]) {
	case READ_6:
	case READ_10:
	case READ_12:
	case READ_16:
		in = true;
		break;
	case WRITE_VERIFY:
	case WRITE_VERIFY_16:
		if (cdb[1] & 0x04)	/* BYTCHK 10b and 11b: reserved */
			return dmahba_emu_bad_cdb(sc, 1, 2);
		fallthrough;
	default:
		in = false;
		break;
	}
	dmahba_sbc_lba_len(cdb, &lba, &n, &len_byte);
	if (n > max)
		return dmahba_emu_bad_cdb(sc, len_byte, 7);
	if (!dmahba_sbc_in_range(lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	if (!n)
		return dmahba_emu_good(sc);
	if ((u64)n * dmahba_emu_bs(lu) > scsi_bufflen(sc->scmd))
		return dmahba_emu_bad_cdb(sc, len_byte, 7);
	if (!in && !dmahba_sbc_claim(sc, lba, n, false))
		return dmahba_emu_requeue(sc);
	sc->priv.lba = lba;
	sc->priv.nblocks = n;
	/* bad blocks: move those before the first, or reallocate them */
	if (static_branch_unlikely(&dmahba_inject_key)) {
		dmahba_inject_medium_check(sc, lba, &n, !in);
		if (!n)
			return dmahba_inject_medium_error(sc);
	}
	return dmahba_emu_phase(sc, in ? DMAHBA_XFER_STORE_IN :
				DMAHBA_XFER_STORE_OUT, 0,
				n * dmahba_emu_bs(lu),
				lba * dmahba_emu_bs(lu), DMAHBA_STEP_FINISH);
}

/**
 * dmahba_sbc_verify() - VERIFY 10/16
 * @sc: the command
 *
 * BYTCHK 00b checks the range only; 01b compares the data sent with the
 * medium, 11b one block with every block of the range (at most
 * DMAHBA_EMU_MAX_VERIFY_SAME bytes of them).
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_verify(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u32 max = lu->p.max_xfer_blocks ? lu->p.max_xfer_blocks : U32_MAX;
	u32 bs = dmahba_emu_bs(lu);
	u8 bytchk = (cdb[1] >> 1) & 0x3;
	u16 len_byte;
	u64 lba, total;
	u32 n, chunk;

	dmahba_sbc_lba_len(cdb, &lba, &n, &len_byte);
	if (bytchk == 2)
		return dmahba_emu_bad_cdb(sc, 1, 2);
	if ((bytchk == 1 && n > max) ||
	    (bytchk == 3 && (u64)n * bs > DMAHBA_EMU_MAX_VERIFY_SAME))
		return dmahba_emu_bad_cdb(sc, len_byte, 7);
	if (!dmahba_sbc_in_range(lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	/* verifying reads the medium: a bad block fails it there */
	if (static_branch_unlikely(&dmahba_inject_key) &&
	    dmahba_inject_bad(lu, lba, n, &sc->priv.err_lba)) {
		sc->priv.flags |= DMAHBA_INJECT_F_MEDIUM;
		if (!bytchk || sc->priv.err_lba == lba)
			return dmahba_inject_medium_error(sc);
	}
	if (!n || !bytchk)
		return dmahba_emu_good(sc);

	total = bytchk == 1 ? (u64)n * bs : bs;
	if (total > scsi_bufflen(sc->scmd))
		return dmahba_emu_bad_cdb(sc, len_byte, 7);
	chunk = min_t(u64, total, max(DMAHBA_EMU_VERIFY_CHUNK, bs));
	if (!dmahba_emu_alloc(sc, chunk))
		return DMAHBA_SCSI_BUSY;
	sc->priv.lba = lba;
	sc->priv.nblocks = n;
	return dmahba_emu_data_out(sc, chunk, bytchk == 1 ?
				   DMAHBA_STEP_VERIFY :
				   DMAHBA_STEP_VERIFY_ONE);
}

/**
 * dmahba_sbc_verify_done() - compare what VERIFY sent with the medium
 * @sc: the command
 *
 * Then fetches the next chunk, if any.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, or DMAHBA_SCSI_DONE (MISCOMPARE at the first differing byte).
 */
enum dmahba_scsi_ret dmahba_sbc_verify_done(struct dmahba_scsi_cmd *sc)
{
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_emu_bs(lu);
	u64 pos = sc->priv.lba * bs;
	u64 total = (u64)sc->priv.nblocks * bs;
	u32 done = sc->xfer.buf_off;
	u32 i, nb = sc->priv.nblocks;
	u64 good = total, len = sc->xfer.len;
	s64 diff;

	/* the blocks before a bad one compare, then MEDIUM ERROR */
	if (unlikely(sc->priv.flags & DMAHBA_INJECT_F_MEDIUM)) {
		nb = sc->priv.err_lba - sc->priv.lba;
		good = (u64)nb * bs;
		len = done < good ? min(len, good - done) : 0;
	}
	if (sc->priv.step == DMAHBA_STEP_VERIFY_ONE) {
		for (i = 0; i < nb; i++) {
			diff = dmahba_store_compare(lu->store, pos + (u64)i * bs,
						    sc->priv.buf, bs);
			if (diff >= 0)
				return dmahba_emu_miscompare(sc,
							     (u64)i * bs +
							     diff);
		}
		if (nb < sc->priv.nblocks)
			return dmahba_inject_medium_error(sc);
		return dmahba_emu_good(sc);
	}

	if (len) {
		diff = dmahba_store_compare(lu->store, pos + done,
					    sc->priv.buf, len);
		if (diff >= 0)
			return dmahba_emu_miscompare(sc, done + diff);
	}
	done += sc->xfer.len;
	if (done >= good && good < total)
		return dmahba_inject_medium_error(sc);
	if (done >= total)
		return dmahba_emu_good(sc);
	return dmahba_emu_phase(sc, DMAHBA_XFER_BUF_OUT, done,
				min_t(u64, total - done, sc->priv.buf_len), 0,
				DMAHBA_STEP_VERIFY);
}

/**
 * dmahba_sbc_sync_cache() - SYNCHRONIZE CACHE 10/16
 * @sc: the command
 *
 * The medium is RAM: a write is stable once its transfer is done, so only
 * the range is checked.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_sbc_sync_cache(struct dmahba_scsi_cmd *sc)
{
	u16 len_byte;
	u64 lba;
	u32 n;

	/* the medium is RAM: a write is stable once its transfer is done */
	dmahba_sbc_lba_len(sc->scmd->cmnd, &lba, &n, &len_byte);
	if (!dmahba_sbc_in_range(sc->lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	return dmahba_emu_good(sc);
}

/*
 * The bad blocks (debugfs badblocks) under a WRITE SAME of @sc->priv.lba,
 * @sc->priv.nblocks. One that deallocates (@dealloc: the UNMAP bit with a
 * zero block or NDOB) forgets them, as UNMAP does; any other is a write,
 * as WRITE: it reallocates them when it is done (dmahba_inject_finish()),
 * or with badblocks_write "fail" writes the blocks before the first and
 * then fails there (@sc->priv.nblocks shortened to those). False when not
 * one block is written: the caller answers dmahba_inject_medium_error().
 */
static bool dmahba_sbc_write_same_bad(struct dmahba_scsi_cmd *sc, bool dealloc)
{
	u32 n = sc->priv.nblocks;

	if (!static_branch_unlikely(&dmahba_inject_key))
		return true;
	if (dealloc) {
		dmahba_inject_forget(sc->lu, sc->priv.lba, n);
		return true;
	}
	dmahba_inject_medium_check(sc, sc->priv.lba, &n, true);
	sc->priv.nblocks = n;
	return n;
}

/* WRITE SAME has written zeros to its range (deallocated it) */
static enum dmahba_scsi_ret dmahba_sbc_write_same_zero(struct dmahba_scsi_cmd *sc)
{
	u32 bs = dmahba_emu_bs(sc->lu);

	dmahba_store_zero(sc->lu->store, sc->priv.lba * bs,
			  (u64)sc->priv.nblocks * bs);
	dmahba_sbc_release(sc);
	/* a bad block met: only dmahba_inject.c sets flags */
	if (unlikely(sc->priv.flags))
		return dmahba_inject_finish(sc);
	return dmahba_emu_good(sc);
}

/**
 * dmahba_sbc_write_same() - WRITE SAME 10/16
 * @sc: the command
 *
 * A zero block (or NDOB) deallocates the range; any other block is
 * fetched once and written to every block of the range. Over bad blocks
 * (debugfs badblocks) it is a write, as WRITE, unless the UNMAP bit
 * deallocates the range: then they are forgotten, as by UNMAP.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_write_same(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_emu_bs(lu);
	u16 len_byte;
	u64 lba;
	u32 n;

	dmahba_sbc_lba_len(cdb, &lba, &n, &len_byte);
	if (!n || n > DMAHBA_EMU_MAX_WS_BLOCKS)	/* WSNZ=1 in VPD B0 */
		return dmahba_emu_bad_cdb(sc, len_byte, 7);
	if (!dmahba_sbc_in_range(lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	if (cdb[0] == WRITE_SAME_16 && (cdb[1] & 0x01)) {	/* NDOB */
		if (!dmahba_sbc_claim(sc, lba, n, false))
			return dmahba_emu_requeue(sc);
		sc->priv.lba = lba;
		sc->priv.nblocks = n;
		if (!dmahba_sbc_write_same_bad(sc, cdb[1] & 0x08))
			return dmahba_inject_medium_error(sc);
		return dmahba_sbc_write_same_zero(sc);
	}
	if (bs > scsi_bufflen(sc->scmd))
		return dmahba_emu_bad_cdb(sc, len_byte, 7);
	if (!dmahba_emu_alloc(sc, bs))
		return DMAHBA_SCSI_BUSY;
	if (!dmahba_sbc_claim(sc, lba, n, false))
		return dmahba_emu_requeue(sc);
	sc->priv.lba = lba;
	sc->priv.nblocks = n;
	return dmahba_emu_data_out(sc, bs, DMAHBA_STEP_WS_DATA);
}

/**
 * dmahba_sbc_write_same_done() - the block of a WRITE SAME arrived, or a copy was written
 * @sc: the command
 *
 * The pages of the whole range are had before the first copy, so a WRITE
 * SAME refused for memory has written nothing. The copies go to
 * @sc->priv.lba on, one after the one last written (@sc->xfer.pos), until
 * @sc->priv.nblocks are.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER with the next block, DMAHBA_SCSI_DONE, or
 * DMAHBA_SCSI_BUSY (no page now: nothing written).
 */
enum dmahba_scsi_ret dmahba_sbc_write_same_done(struct dmahba_scsi_cmd *sc)
{
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_emu_bs(lu);
	u64 pos = sc->priv.lba * bs, end;
	bool zero;

	if (sc->priv.step == DMAHBA_STEP_WS_DATA) {
		zero = !memchr_inv(sc->priv.buf, 0, bs);
		if (!dmahba_sbc_write_same_bad(sc, zero &&
					       (sc->scmd->cmnd[1] & 0x08)))
			return dmahba_inject_medium_error(sc);
		if (zero)
			return dmahba_sbc_write_same_zero(sc);
		/* every page before the first block is written */
		switch (dmahba_store_alloc(lu->store, pos,
					   (u64)sc->priv.nblocks * bs)) {
		case 0:
			break;
		case -ENOMEM:
			return DMAHBA_SCSI_BUSY;
		default:
			return dmahba_emu_no_memory(sc);
		}
	} else {
		pos = sc->xfer.pos + bs;
		end = (sc->priv.lba + sc->priv.nblocks) * bs;
		if (pos >= end) {
			if (unlikely(sc->priv.flags))
				return dmahba_inject_finish(sc);
			return dmahba_emu_good(sc);
		}
	}
	return dmahba_emu_phase(sc, DMAHBA_XFER_STORE_OUT, 0, bs, pos,
				DMAHBA_STEP_WS_WRITE);
}

/**
 * dmahba_sbc_caw() - COMPARE AND WRITE
 * @sc: the command
 *
 * Fetches the verify half of the data first. The range is registered
 * against every other write until the command ends: one that overlaps a
 * write in flight is queued again.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_caw(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_emu_bs(lu);
	u64 lba = get_unaligned_be64(&cdb[2]);
	u32 n = cdb[13];

	if (n > DMAHBA_EMU_MAX_CAW_BYTES / bs)
		return dmahba_emu_bad_cdb(sc, 13, 7);
	if (!dmahba_sbc_in_range(lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	if (!n)
		return dmahba_emu_good(sc);
	if (2ULL * n * bs > scsi_bufflen(sc->scmd))
		return dmahba_emu_bad_cdb(sc, 13, 7);
	if (!dmahba_emu_alloc(sc, n * bs))
		return DMAHBA_SCSI_BUSY;
	/* from here to its end, no other write may touch the range */
	if (!dmahba_sbc_claim(sc, lba, n, true))
		return dmahba_emu_requeue(sc);
	sc->priv.lba = lba;
	sc->priv.nblocks = n;
	return dmahba_emu_data_out(sc, n * bs, DMAHBA_STEP_CAW);
}

/**
 * dmahba_sbc_caw_done() - compare the verify half with the medium
 * @sc: the command
 *
 * If they are equal, the write half is written.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, or DMAHBA_SCSI_DONE (MISCOMPARE).
 */
enum dmahba_scsi_ret dmahba_sbc_caw_done(struct dmahba_scsi_cmd *sc)
{
	struct dmahba_lu *lu = sc->lu;
	u32 half = sc->priv.nblocks * dmahba_emu_bs(lu);
	u64 pos = sc->priv.lba * dmahba_emu_bs(lu);
	s64 diff;

	/* the compare reads the medium */
	if (static_branch_unlikely(&dmahba_inject_key) &&
	    dmahba_inject_bad(lu, sc->priv.lba, sc->priv.nblocks,
			      &sc->priv.err_lba))
		return dmahba_inject_medium_error(sc);
	diff = dmahba_store_compare(lu->store, pos, sc->priv.buf, half);
	if (diff >= 0)
		return dmahba_emu_miscompare(sc, diff);
	return dmahba_emu_phase(sc, DMAHBA_XFER_STORE_OUT, half, half, pos,
				DMAHBA_STEP_FINISH);
}

/**
 * dmahba_sbc_unmap() - UNMAP
 * @sc: the command
 *
 * Fetches the parameter list.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_unmap(struct dmahba_scsi_cmd *sc)
{
	u32 plen = get_unaligned_be16(&sc->scmd->cmnd[7]);
	u32 len = min_t(u32, plen, DMAHBA_EMU_UNMAP_PARAM);

	if (!plen)
		return dmahba_emu_good(sc);
	if (plen < 8)
		return dmahba_emu_sense(sc, ILLEGAL_REQUEST,
					DMAHBA_ASC_PARAM_LIST_LEN, 0);
	if (plen > scsi_bufflen(sc->scmd))
		return dmahba_emu_bad_cdb(sc, 7, 7);
	if (!dmahba_emu_alloc(sc, len))
		return DMAHBA_SCSI_BUSY;
	return dmahba_emu_data_out(sc, len, DMAHBA_STEP_UNMAP);
}

/**
 * dmahba_sbc_unmap_done() - deallocate what an UNMAP list names
 * @sc: the command
 *
 * Every block descriptor is checked before anything is deallocated: more
 * than DMAHBA_EMU_MAX_UNMAP_DESC descriptors, or more blocks in all than
 * the Block Limits page's MAXIMUM UNMAP LBA COUNT, is an invalid field in
 * the parameter list. A deallocated block reads zeros: its bad blocks
 * (debugfs badblocks) are forgotten, whatever badblocks_write says.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_sbc_unmap_done(struct dmahba_scsi_cmd *sc)
{
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_emu_bs(lu);
	const u8 *b = sc->priv.buf;
	u32 bddl = get_unaligned_be16(&b[2]);
	u32 i, nd, cnt;
	u64 lba, total = 0, lo = U64_MAX, hi = 0;

	if (bddl % 16)
		return dmahba_emu_bad_param(sc, 2, 7);
	nd = bddl / 16;
	if (nd > DMAHBA_EMU_MAX_UNMAP_DESC)
		return dmahba_emu_bad_param(sc, 2, 7);
	if (8 + bddl > sc->xfer.len)
		return dmahba_emu_sense(sc, ILLEGAL_REQUEST,
					DMAHBA_ASC_PARAM_LIST_LEN, 0);

	/* check every descriptor before unmapping anything */
	for (i = 0; i < nd; i++) {
		lba = get_unaligned_be64(&b[8 + 16 * i]);
		cnt = get_unaligned_be32(&b[8 + 16 * i + 8]);
		if (!dmahba_sbc_in_range(lu, lba, cnt))
			return dmahba_sbc_lba_range(sc);
		total += cnt;
		if (total > dmahba_emu_max_unmap_blocks(lu))
			return dmahba_emu_bad_param(sc, 8 + 16 * i + 8, 7);
		if (cnt && lba < lo)
			lo = lba;
		if (cnt && lba + cnt > hi)
			hi = lba + cnt;
	}
	if (lo >= hi)
		return dmahba_emu_good(sc);
	/* the span of the descriptors is written meanwhile */
	if (!dmahba_sbc_claim(sc, lo, hi - lo, false))
		return dmahba_emu_requeue(sc);
	for (i = 0; i < nd; i++) {
		lba = get_unaligned_be64(&b[8 + 16 * i]);
		cnt = get_unaligned_be32(&b[8 + 16 * i + 8]);
		dmahba_store_zero(lu->store, lba * bs, (u64)cnt * bs);
		/* deallocated: reads zeros, whatever badblocks_write says */
		if (static_branch_unlikely(&dmahba_inject_key) && cnt)
			dmahba_inject_forget(lu, lba, cnt);
	}
	dmahba_sbc_release(sc);
	return dmahba_emu_good(sc);
}

/**
 * dmahba_sbc_read_cap10() - READ CAPACITY(10)
 * @sc: the command
 *
 * The last LBA is capped at FFFFFFFFh: the initiator then asks READ
 * CAPACITY(16).
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_read_cap10(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u8 *b;

	if (!(cdb[8] & 0x01) && get_unaligned_be32(&cdb[2]))
		return dmahba_emu_bad_cdb(sc, 2, 7);
	b = dmahba_emu_alloc(sc, 8);
	if (!b)
		return DMAHBA_SCSI_BUSY;
	put_unaligned_be32(min_t(u64, lu->nr_blocks - 1, U32_MAX), &b[0]);
	put_unaligned_be32(lu->p.block_size, &b[4]);
	return dmahba_emu_data_in(sc, 8, 8);
}

/**
 * dmahba_sbc_read_cap16() - READ CAPACITY(16)
 * @sc: the command
 *
 * Reports thin provisioning (LBPME) with unmapped blocks reading as zeros
 * (LBPRZ).
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_read_cap16(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u8 *b;

	if (!(cdb[14] & 0x01) && get_unaligned_be64(&cdb[2]))
		return dmahba_emu_bad_cdb(sc, 2, 7);
	b = dmahba_emu_alloc(sc, 32);
	if (!b)
		return DMAHBA_SCSI_BUSY;
	put_unaligned_be64(lu->nr_blocks - 1, &b[0]);
	put_unaligned_be32(lu->p.block_size, &b[8]);
	b[14] = 0x80 | 0x40;	/* LBPME: thin; LBPRZ: unmapped reads zeros */
	return dmahba_emu_data_in(sc, 32, get_unaligned_be32(&cdb[10]));
}

/**
 * dmahba_sbc_lba_status() - GET LBA STATUS
 * @sc: the command
 *
 * One descriptor per run of mapped or deallocated blocks from the LBA
 * given, as many as the allocation length holds (at most 64), filtered by
 * REPORT TYPE: 0 every run, 1 and 3 the deallocated ones (no block is ever
 * anchored), 2 the mapped ones, 4 (anchored) none: the header only. At
 * most DMAHBA_SBC_LBA_STATUS_SCAN runs are looked at.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_lba_status(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u32 bs = lu->p.block_size;
	u64 lba = get_unaligned_be64(&cdb[2]);
	u32 alloc = get_unaligned_be32(&cdb[10]);
	u8 type = cdb[14] & 0x07;
	bool want_mapped = type == 2;
	u32 nd = clamp_t(u32, alloc < 24 ? 1 : (alloc - 8) / 16, 1,
			 DMAHBA_SBC_LBA_STATUS_MAX);
	u64 run, cnt;
	bool mapped;
	u32 i = 0, scan;
	u8 *b, *d;

	if (type > 4)
		return dmahba_emu_bad_cdb(sc, 14, 2);
	if (lba >= lu->nr_blocks)
		return dmahba_emu_sense(sc, ILLEGAL_REQUEST,
					DMAHBA_ASC_LBA_RANGE, 0);
	b = dmahba_emu_alloc(sc, 8 + 16 * nd);
	if (!b)
		return DMAHBA_SCSI_BUSY;
	for (scan = 0; type != 4 && i < nd && lba < lu->nr_blocks &&
	     scan < DMAHBA_SBC_LBA_STATUS_SCAN; scan++) {
		mapped = dmahba_store_mapped(lu->store, lba * bs,
					     (lu->nr_blocks - lba) * bs, &run);
		cnt = clamp_t(u64, run / bs, 1, U32_MAX);
		if (!type || mapped == want_mapped) {
			d = &b[8 + 16 * i++];
			put_unaligned_be64(lba, &d[0]);
			put_unaligned_be32(cnt, &d[8]);
			d[12] = mapped ? 0x0 : 0x1;	/* mapped / deallocated */
		}
		lba += cnt;
	}
	put_unaligned_be32(4 + 16 * i, &b[0]);
	return dmahba_emu_data_in(sc, 8 + 16 * i, alloc);
}
