// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_sbc.c - the block commands (SBC) of the mock disk's target
 * emulation: READ and WRITE, VERIFY, SYNCHRONIZE CACHE, WRITE SAME, COMPARE
 * AND WRITE, UNMAP and START STOP UNIT. Dispatch, sense data and the data
 * phases are in dmahba_scsi.c; READ CAPACITY and GET LBA STATUS, which only
 * build a response, with the SPC responses in dmahba_spc.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_common.h>
#include <scsi/scsi_proto.h>

#include "compat.h"
#include "dmahba_spc.h"
#include "dmahba_store.h"

/* LBA range check: the range [lba, lba + n) must lie on the medium. */
static bool dmahba_sbc_in_range(const struct dmahba_lu *lu, u64 lba, u64 n)
{
	return lba < lu->nr_blocks && n <= lu->nr_blocks - lba;
}

static enum dmahba_scsi_ret dmahba_sbc_lba_range(struct dmahba_scsi_cmd *sc)
{
	return dmahba_scsi_sense(sc, ILLEGAL_REQUEST, DMAHBA_ASC_LBA_RANGE, 0);
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
		return dmahba_scsi_bad_cdb(sc, 4, 7);
	}
	return dmahba_scsi_good(sc);
}

/**
 * dmahba_sbc_rw() - READ, WRITE, WRITE AND VERIFY
 * @sc: the command
 *
 * READ and WRITE 6/10/12/16, WRITE AND VERIFY 10/16: one data phase
 * between the data buffer and the medium.
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
			return dmahba_scsi_bad_cdb(sc, 1, 2);
		fallthrough;
	default:
		in = false;
		break;
	}
	dmahba_sbc_lba_len(cdb, &lba, &n, &len_byte);
	if (n > max)
		return dmahba_scsi_bad_cdb(sc, len_byte, 7);
	if (!dmahba_sbc_in_range(lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	if (!n)
		return dmahba_scsi_good(sc);
	if ((u64)n * dmahba_scsi_bs(lu) > scsi_bufflen(sc->scmd))
		return dmahba_scsi_bad_cdb(sc, len_byte, 7);
	sc->priv.lba = lba;
	sc->priv.nblocks = n;
	return dmahba_scsi_phase(sc, in ? DMAHBA_XFER_STORE_IN :
				 DMAHBA_XFER_STORE_OUT, 0,
				 n * dmahba_scsi_bs(lu),
				 lba * dmahba_scsi_bs(lu), DMAHBA_STEP_FINISH);
}

/**
 * dmahba_sbc_verify() - VERIFY 10/16
 * @sc: the command
 *
 * BYTCHK 00b checks the range only; 01b compares the data sent with the
 * medium, 11b one block with every block of the range.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_verify(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u32 max = lu->p.max_xfer_blocks ? lu->p.max_xfer_blocks : U32_MAX;
	u32 bs = dmahba_scsi_bs(lu);
	u8 bytchk = (cdb[1] >> 1) & 0x3;
	u16 len_byte;
	u64 lba, total;
	u32 n, chunk;

	dmahba_sbc_lba_len(cdb, &lba, &n, &len_byte);
	if (bytchk == 2)
		return dmahba_scsi_bad_cdb(sc, 1, 2);
	if ((bytchk == 1 && n > max) ||
	    (bytchk == 3 && n > DMAHBA_SCSI_MAX_WS_BLOCKS))
		return dmahba_scsi_bad_cdb(sc, len_byte, 7);
	if (!dmahba_sbc_in_range(lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	if (!n || !bytchk)
		return dmahba_scsi_good(sc);

	total = bytchk == 1 ? (u64)n * bs : bs;
	if (total > scsi_bufflen(sc->scmd))
		return dmahba_scsi_bad_cdb(sc, len_byte, 7);
	chunk = min_t(u64, total, max(DMAHBA_SCSI_VERIFY_CHUNK, bs));
	if (!dmahba_scsi_alloc(sc, chunk))
		return DMAHBA_SCSI_BUSY;
	sc->priv.lba = lba;
	sc->priv.nblocks = n;
	return dmahba_scsi_data_out(sc, chunk, bytchk == 1 ?
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
	u32 bs = dmahba_scsi_bs(lu);
	u64 pos = sc->priv.lba * bs;
	u64 total = (u64)sc->priv.nblocks * bs;
	u32 done = sc->xfer.buf_off;
	s64 diff;
	u32 i;

	if (sc->priv.step == DMAHBA_STEP_VERIFY_ONE) {
		for (i = 0; i < sc->priv.nblocks; i++) {
			diff = dmahba_store_compare(lu->store, pos + (u64)i * bs,
						    sc->priv.buf, bs);
			if (diff >= 0)
				return dmahba_scsi_miscompare(sc,
							      (u64)i * bs +
							      diff);
		}
		return dmahba_scsi_good(sc);
	}

	diff = dmahba_store_compare(lu->store, pos + done, sc->priv.buf,
				    sc->xfer.len);
	if (diff >= 0)
		return dmahba_scsi_miscompare(sc, done + diff);
	done += sc->xfer.len;
	if (done >= total)
		return dmahba_scsi_good(sc);
	return dmahba_scsi_phase(sc, DMAHBA_XFER_BUF_OUT, done,
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
	return dmahba_scsi_good(sc);
}

/**
 * dmahba_sbc_write_same() - WRITE SAME 10/16
 * @sc: the command
 *
 * A zero block (or NDOB) deallocates the range; any other block is
 * fetched once and written to every block of the range.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_write_same(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_scsi_bs(lu);
	u16 len_byte;
	u64 lba;
	u32 n;

	dmahba_sbc_lba_len(cdb, &lba, &n, &len_byte);
	if (!n || n > DMAHBA_SCSI_MAX_WS_BLOCKS)	/* WSNZ=1 in VPD B0 */
		return dmahba_scsi_bad_cdb(sc, len_byte, 7);
	if (!dmahba_sbc_in_range(lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	if (cdb[0] == WRITE_SAME_16 && (cdb[1] & 0x01)) {	/* NDOB */
		dmahba_store_zero(lu->store, lba * bs, (u64)n * bs);
		return dmahba_scsi_good(sc);
	}
	if (bs > scsi_bufflen(sc->scmd))
		return dmahba_scsi_bad_cdb(sc, len_byte, 7);
	if (!dmahba_scsi_alloc(sc, bs))
		return DMAHBA_SCSI_BUSY;
	sc->priv.lba = lba;
	sc->priv.nblocks = n;
	return dmahba_scsi_data_out(sc, bs, DMAHBA_STEP_WS_DATA);
}

/**
 * dmahba_sbc_write_same_done() - the block of a WRITE SAME arrived, or a copy was written
 * @sc: the command
 *
 * The pages of the whole range are had before the first copy, so a WRITE
 * SAME refused for memory has written nothing.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER with the next block, DMAHBA_SCSI_DONE, or
 * DMAHBA_SCSI_BUSY (no page now: nothing written).
 */
enum dmahba_scsi_ret dmahba_sbc_write_same_done(struct dmahba_scsi_cmd *sc)
{
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_scsi_bs(lu);

	if (sc->priv.step == DMAHBA_STEP_WS_DATA) {
		if (!memchr_inv(sc->priv.buf, 0, bs)) {
			dmahba_store_zero(lu->store, sc->priv.lba * bs,
					  (u64)sc->priv.nblocks * bs);
			return dmahba_scsi_good(sc);
		}
		/* every page before the first block is written */
		switch (dmahba_store_alloc(lu->store, sc->priv.lba * bs,
					   (u64)sc->priv.nblocks * bs)) {
		case 0:
			break;
		case -ENOMEM:
			return DMAHBA_SCSI_BUSY;
		default:
			return dmahba_scsi_no_memory(sc);
		}
	} else {
		sc->priv.lba++;
		if (!--sc->priv.nblocks)
			return dmahba_scsi_good(sc);
	}
	return dmahba_scsi_phase(sc, DMAHBA_XFER_STORE_OUT, 0, bs,
				 sc->priv.lba * bs, DMAHBA_STEP_WS_WRITE);
}

/**
 * dmahba_sbc_caw() - COMPARE AND WRITE
 * @sc: the command
 *
 * Fetches the verify half of the data first.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_sbc_caw(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_scsi_bs(lu);
	u64 lba = get_unaligned_be64(&cdb[2]);
	u32 n = cdb[13];

	if (n > DMAHBA_SCSI_MAX_CAW_BYTES / bs)
		return dmahba_scsi_bad_cdb(sc, 13, 7);
	if (!dmahba_sbc_in_range(lu, lba, n))
		return dmahba_sbc_lba_range(sc);
	if (!n)
		return dmahba_scsi_good(sc);
	if (2ULL * n * bs > scsi_bufflen(sc->scmd))
		return dmahba_scsi_bad_cdb(sc, 13, 7);
	if (!dmahba_scsi_alloc(sc, n * bs))
		return DMAHBA_SCSI_BUSY;
	sc->priv.lba = lba;
	sc->priv.nblocks = n;
	return dmahba_scsi_data_out(sc, n * bs, DMAHBA_STEP_CAW);
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
	u32 half = sc->priv.nblocks * dmahba_scsi_bs(lu);
	u64 pos = sc->priv.lba * dmahba_scsi_bs(lu);
	s64 diff;

	diff = dmahba_store_compare(lu->store, pos, sc->priv.buf, half);
	if (diff >= 0)
		return dmahba_scsi_miscompare(sc, diff);
	return dmahba_scsi_phase(sc, DMAHBA_XFER_STORE_OUT, half, half, pos,
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
	u32 len = min(plen, DMAHBA_SCSI_MAX_PARAM);

	if (!plen)
		return dmahba_scsi_good(sc);
	if (plen < 8)
		return dmahba_scsi_sense(sc, ILLEGAL_REQUEST,
					 DMAHBA_ASC_PARAM_LIST_LEN, 0);
	if (plen > scsi_bufflen(sc->scmd))
		return dmahba_scsi_bad_cdb(sc, 7, 7);
	if (!dmahba_scsi_alloc(sc, len))
		return DMAHBA_SCSI_BUSY;
	return dmahba_scsi_data_out(sc, len, DMAHBA_STEP_UNMAP);
}

/**
 * dmahba_sbc_unmap_done() - deallocate what an UNMAP list names
 * @sc: the command
 *
 * Every block descriptor is checked before anything is deallocated.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_sbc_unmap_done(struct dmahba_scsi_cmd *sc)
{
	struct dmahba_lu *lu = sc->lu;
	u32 bs = dmahba_scsi_bs(lu);
	const u8 *b = sc->priv.buf;
	u32 bddl = get_unaligned_be16(&b[2]);
	u32 i, nd, cnt;
	u64 lba, total = 0;

	if (8 + bddl > sc->xfer.len)
		return dmahba_scsi_sense(sc, ILLEGAL_REQUEST,
					 DMAHBA_ASC_PARAM_LIST_LEN, 0);
	if (bddl % 16)
		return dmahba_scsi_bad_param(sc, 2, 7);
	nd = bddl / 16;
	if (nd > DMAHBA_SCSI_MAX_UNMAP_DESC)
		return dmahba_scsi_bad_param(sc, 2, 7);

	/* check every descriptor before unmapping anything */
	for (i = 0; i < nd; i++) {
		lba = get_unaligned_be64(&b[8 + 16 * i]);
		cnt = get_unaligned_be32(&b[8 + 16 * i + 8]);
		if (!dmahba_sbc_in_range(lu, lba, cnt))
			return dmahba_sbc_lba_range(sc);
		total += cnt;
		if (total > DMAHBA_SCSI_MAX_UNMAP_BLOCKS)
			return dmahba_scsi_bad_param(sc, 8 + 16 * i + 8, 7);
	}
	for (i = 0; i < nd; i++) {
		lba = get_unaligned_be64(&b[8 + 16 * i]);
		cnt = get_unaligned_be32(&b[8 + 16 * i + 8]);
		dmahba_store_zero(lu->store, lba * bs, (u64)cnt * bs);
	}
	return dmahba_scsi_good(sc);
}
