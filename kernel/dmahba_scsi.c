// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_scsi.c - the top of the mock disk's SCSI target emulation: the
 * entry points the HBA calls (dmahba_scsi.h), the command table and the
 * logical units' life cycle. It dispatches to the SPC commands
 * (dmahba_spc.c) and the SBC commands (dmahba_sbc.c), which build on the
 * helpers of dmahba_emu.c; none of them calls back up here.
 *
 * dmahba_scsi_start() looks the command up in dmahba_scsi_ops[], which gives
 * its CDB length, the CDB bits it uses (anything else set is an invalid
 * field; REPORT SUPPORTED OPERATION CODES reports the same masks) and
 * whether it is exempt from unit attention or needs a started medium.
 * The emulation never moves SCSI data itself: a data phase is described in
 * sc->xfer and the HBA moves it by DMA, then calls dmahba_scsi_xfer_done(),
 * where sc->priv.step says what the phase was for.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/slab.h>
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

/* REPORT SUPPORTED OPERATION CODES reports this file's table */
static enum dmahba_scsi_ret dmahba_scsi_rsoc(struct dmahba_scsi_cmd *sc);

#define CTL	0xc0	/* control byte: the vendor-specific bits only */

/* sorted by operation code */
static const struct dmahba_emu_op dmahba_scsi_ops[] = {
	{ TEST_UNIT_READY, 0, DMAHBA_OP_MEDIUM | DMAHBA_OP_NO_DATA, 6,
	  { TEST_UNIT_READY, 0, 0, 0, 0, CTL }, dmahba_spc_tur },
	{ REQUEST_SENSE, 0, DMAHBA_OP_NO_UA, 6,
	  { REQUEST_SENSE, 0x01, 0, 0, 0xff, CTL }, dmahba_spc_request_sense },
	{ READ_6, 0, DMAHBA_OP_MEDIUM, 6,
	  { READ_6, 0x1f, 0xff, 0xff, 0xff, CTL }, dmahba_sbc_rw },
	{ WRITE_6, 0, DMAHBA_OP_MEDIUM, 6,
	  { WRITE_6, 0x1f, 0xff, 0xff, 0xff, CTL }, dmahba_sbc_rw },
	{ INQUIRY, 0, DMAHBA_OP_NO_UA, 6,
	  { INQUIRY, 0x01, 0xff, 0xff, 0xff, CTL }, dmahba_spc_inquiry },
	{ MODE_SELECT, 0, 0, 6,
	  { MODE_SELECT, 0x11, 0, 0, 0xff, CTL }, dmahba_spc_mode_select },
	{ MODE_SENSE, 0, 0, 6,
	  { MODE_SENSE, 0x08, 0xff, 0xff, 0xff, CTL }, dmahba_spc_mode_sense },
	{ START_STOP, 0, DMAHBA_OP_NO_DATA, 6,
	  { START_STOP, 0x01, 0, 0x0f, 0xf7, CTL }, dmahba_sbc_start_stop },
	{ ALLOW_MEDIUM_REMOVAL, 0, DMAHBA_OP_NO_DATA, 6,
	  { ALLOW_MEDIUM_REMOVAL, 0, 0, 0, 0x03, CTL }, dmahba_sbc_medium_removal },
	{ READ_CAPACITY, 0, 0, 10,
	  { READ_CAPACITY, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, CTL },
	  dmahba_sbc_read_cap10 },
	{ READ_10, 0, DMAHBA_OP_MEDIUM, 10,
	  { READ_10, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x3f, 0xff, 0xff, CTL },
	  dmahba_sbc_rw },
	{ WRITE_10, 0, DMAHBA_OP_MEDIUM, 10,
	  { WRITE_10, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x3f, 0xff, 0xff, CTL },
	  dmahba_sbc_rw },
	{ WRITE_VERIFY, 0, DMAHBA_OP_MEDIUM, 10,
	  { WRITE_VERIFY, 0x16, 0xff, 0xff, 0xff, 0xff, 0x3f, 0xff, 0xff, CTL },
	  dmahba_sbc_rw },
	{ VERIFY, 0, DMAHBA_OP_MEDIUM, 10,
	  { VERIFY, 0x16, 0xff, 0xff, 0xff, 0xff, 0x3f, 0xff, 0xff, CTL },
	  dmahba_sbc_verify },
	{ SYNCHRONIZE_CACHE, 0, DMAHBA_OP_MEDIUM | DMAHBA_OP_NO_DATA, 10,
	  { SYNCHRONIZE_CACHE, 0x06, 0xff, 0xff, 0xff, 0xff, 0x3f, 0xff, 0xff,
	    CTL }, dmahba_sbc_sync_cache },
	{ WRITE_SAME, 0, DMAHBA_OP_MEDIUM, 10,
	  { WRITE_SAME, 0x08, 0xff, 0xff, 0xff, 0xff, 0x3f, 0xff, 0xff, CTL },
	  dmahba_sbc_write_same },
	{ UNMAP, 0, DMAHBA_OP_MEDIUM, 10,
	  { UNMAP, 0, 0, 0, 0, 0, 0x3f, 0xff, 0xff, CTL }, dmahba_sbc_unmap },
	{ MODE_SELECT_10, 0, 0, 10,
	  { MODE_SELECT_10, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, CTL },
	  dmahba_spc_mode_select },
	{ MODE_SENSE_10, 0, 0, 10,
	  { MODE_SENSE_10, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, CTL },
	  dmahba_spc_mode_sense },
	{ READ_16, 0, DMAHBA_OP_MEDIUM, 16,
	  { READ_16, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0x3f, CTL }, dmahba_sbc_rw },
	{ COMPARE_AND_WRITE, 0, DMAHBA_OP_MEDIUM, 16,
	  { COMPARE_AND_WRITE, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0, 0, 0, 0xff, 0x3f, CTL }, dmahba_sbc_caw },
	{ WRITE_16, 0, DMAHBA_OP_MEDIUM, 16,
	  { WRITE_16, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x3f, CTL }, dmahba_sbc_rw },
	{ WRITE_VERIFY_16, 0, DMAHBA_OP_MEDIUM, 16,
	  { WRITE_VERIFY_16, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0x3f, CTL }, dmahba_sbc_rw },
	{ VERIFY_16, 0, DMAHBA_OP_MEDIUM, 16,
	  { VERIFY_16, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x3f, CTL }, dmahba_sbc_verify },
	{ SYNCHRONIZE_CACHE_16, 0, DMAHBA_OP_MEDIUM | DMAHBA_OP_NO_DATA,
	  16,
	  { SYNCHRONIZE_CACHE_16, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f, CTL },
	  dmahba_sbc_sync_cache },
	{ WRITE_SAME_16, 0, DMAHBA_OP_MEDIUM, 16,
	  { WRITE_SAME_16, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0x3f, CTL }, dmahba_sbc_write_same },
	{ SERVICE_ACTION_IN_16, SAI_READ_CAPACITY_16, DMAHBA_OP_SA, 16,
	  { SERVICE_ACTION_IN_16, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, CTL },
	  dmahba_sbc_read_cap16 },
	{ SERVICE_ACTION_IN_16, SAI_GET_LBA_STATUS,
	  DMAHBA_OP_SA | DMAHBA_OP_MEDIUM, 16,
	  { SERVICE_ACTION_IN_16, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x07, CTL },
	  dmahba_sbc_lba_status },
	{ REPORT_LUNS, 0, DMAHBA_OP_NO_UA, 12,
	  { REPORT_LUNS, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, CTL },
	  dmahba_spc_report_luns },
	{ MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPERATION_CODES, DMAHBA_OP_SA, 12,
	  { MAINTENANCE_IN, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0, CTL }, dmahba_scsi_rsoc },
	{ READ_12, 0, DMAHBA_OP_MEDIUM, 12,
	  { READ_12, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f,
	    CTL }, dmahba_sbc_rw },
	{ WRITE_12, 0, DMAHBA_OP_MEDIUM, 12,
	  { WRITE_12, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0x3f, CTL }, dmahba_sbc_rw },
};

#undef CTL

static enum dmahba_scsi_ret dmahba_scsi_rsoc(struct dmahba_scsi_cmd *sc)
{
	return dmahba_spc_rsoc(sc, dmahba_scsi_ops, ARRAY_SIZE(dmahba_scsi_ops));
}

/**
 * dmahba_scsi_start() - start a command
 * @sc: the command's emulation state (in the midlayer's per-command area)
 * @lu: the logical unit addressed
 * @scmd: the command
 *
 * Checks, in this order: the injection rules (dmahba_inject.c), a pending
 * unit attention (except for INQUIRY,
 * REPORT LUNS and REQUEST SENSE), the operation code, CDB bits the command
 * does not use, a data buffer given to a command that has no data phase
 * (ILLEGAL REQUEST, INVALID FIELD IN CDB), a stopped medium; then runs the
 * command. A data phase against the buffer's direction is refused the same
 * way when the command reaches it (dmahba_emu_phase()).
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_DONE with status, sense and residue set;
 * DMAHBA_SCSI_XFER with @sc->xfer describing the first data phase; or
 * DMAHBA_SCSI_BUSY (out of memory, nothing changed: the HBA retries it a
 * few times, then answers dmahba_scsi_no_memory()); or DMAHBA_SCSI_HOLD
 * (an injected timeout).
 */
enum dmahba_scsi_ret dmahba_scsi_start(struct dmahba_scsi_cmd *sc,
				       struct dmahba_lu *lu,
				       struct scsi_cmnd *scmd)
{
	const u8 *cdb = scmd->cmnd;
	const struct dmahba_emu_op *op;
	enum dmahba_scsi_ret ret;
	unsigned long flags;
	bool known, ua = false;
	u8 bad;
	u16 i;

	sc->scmd = scmd;
	sc->lu = lu;
	memset(&sc->xfer, 0, sizeof(sc->xfer));
	memset(&sc->priv, 0, sizeof(sc->priv));
	sc->fail_dma = false;

	INIT_LIST_HEAD(&sc->priv.range);
	/* injected errors: one patched branch while nothing is armed */
	if (static_branch_unlikely(&dmahba_inject_key) &&
	    dmahba_inject_cmd(sc, &ret))
		return ret;

	op = dmahba_emu_find(dmahba_scsi_ops, ARRAY_SIZE(dmahba_scsi_ops),
			     cdb[0], cdb[1] & 0x1f, &known);
	/* unlocked peek first: the LU's lock is shared by every queue */
	if ((!op || !(op->flags & DMAHBA_OP_NO_UA)) && READ_ONCE(lu->ua_reset)) {
		spin_lock_irqsave(&lu->lock, flags);
		ua = lu->ua_reset;
		lu->ua_reset = false;
		spin_unlock_irqrestore(&lu->lock, flags);
	}
	if (ua)
		return dmahba_emu_sense(sc, UNIT_ATTENTION, DMAHBA_ASC_RESET, 0);
	if (!op && known)	/* unsupported service action */
		return dmahba_emu_bad_cdb(sc, 1, 4);
	if (!op)
		return dmahba_emu_sense(sc, ILLEGAL_REQUEST,
					DMAHBA_ASC_INVALID_OPCODE, 0);
	if (scmd->cmd_len < op->len)
		return dmahba_emu_bad_cdb(sc, 0, 7);
	for (i = 1; i < op->len; i++) {
		bad = cdb[i] & ~op->mask[i];
		if (bad)
			return dmahba_emu_bad_cdb(sc, i, fls(bad) - 1);
	}
	/* a data buffer for a command that has no data phase */
	if ((op->flags & DMAHBA_OP_NO_DATA) && scsi_bufflen(scmd))
		return dmahba_emu_sense(sc, ILLEGAL_REQUEST,
					DMAHBA_ASC_INVALID_CDB, 0);
	if ((op->flags & DMAHBA_OP_MEDIUM) && READ_ONCE(lu->stopped))
		return dmahba_emu_sense(sc, NOT_READY, DMAHBA_ASC_NOT_READY,
					0x02);
	ret = op->fn(sc);
	if (ret == DMAHBA_SCSI_BUSY)
		dmahba_scsi_end(sc);
	return ret;
}

/**
 * dmahba_scsi_xfer_done() - the current data phase has been moved
 * @sc: the command
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 * Return: DMAHBA_SCSI_XFER with @sc->xfer describing the next phase, or
 * DMAHBA_SCSI_DONE with status, sense and residue set.
 */
enum dmahba_scsi_ret dmahba_scsi_xfer_done(struct dmahba_scsi_cmd *sc)
{
	u32 end = sc->xfer.buf_off + sc->xfer.len;

	if (end > sc->priv.moved)
		sc->priv.moved = end;

	switch (sc->priv.step) {
	case DMAHBA_STEP_FINISH:
		/* a bad block met: only dmahba_inject.c sets flags */
		if (unlikely(sc->priv.flags))
			return dmahba_inject_finish(sc);
		return dmahba_emu_good(sc);
	case DMAHBA_STEP_MODE_SELECT:
		return dmahba_spc_mode_select_done(sc);
	case DMAHBA_STEP_UNMAP:
		return dmahba_sbc_unmap_done(sc);
	case DMAHBA_STEP_CAW:
		return dmahba_sbc_caw_done(sc);
	case DMAHBA_STEP_WS_DATA:
	case DMAHBA_STEP_WS_WRITE:
		return dmahba_sbc_write_same_done(sc);
	case DMAHBA_STEP_VERIFY:
	case DMAHBA_STEP_VERIFY_ONE:
		return dmahba_sbc_verify_done(sc);
	}
	WARN_ON_ONCE(1);
	return dmahba_emu_sense(sc, HARDWARE_ERROR, 0x44, 0);	/* internal */
}

/**
 * dmahba_scsi_xfer_failed() - the current data phase could not be moved
 * @sc: the command
 *
 * Finishes the command with CHECK CONDITION, ABORTED COMMAND, DATA PHASE
 * ERROR; the residue counts the phases that were moved.
 *
 * Context: atomic (under the HBA's queue lock); does not sleep.
 */
void dmahba_scsi_xfer_failed(struct dmahba_scsi_cmd *sc)
{
	dmahba_emu_sense(sc, ABORTED_COMMAND, DMAHBA_ASC_DATA_PHASE, 0);
}

/**
 * dmahba_scsi_no_memory() - the command could not get the memory it needs
 * @sc: the command
 *
 * The HBA's entry to dmahba_emu_no_memory(): 27h/07h for a command that
 * writes the medium, 55h/03h for any other.
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_scsi_no_memory(struct dmahba_scsi_cmd *sc)
{
	return dmahba_emu_no_memory(sc);
}

/**
 * dmahba_scsi_end() - release what a command holds
 * @sc: the command; may be called more than once
 *
 * Context: any context; does not sleep.
 */
void dmahba_scsi_end(struct dmahba_scsi_cmd *sc)
{
	dmahba_sbc_release(sc);
	kfree(sc->priv.buf);
	sc->priv.buf = NULL;
	sc->priv.buf_len = 0;
}

/**
 * dmahba_scsi_lu_create() - create a logical unit and its (empty) medium
 * @p: what it is made of
 *
 * The write cache is reported enabled, sense data in fixed format, and the
 * first command finds no unit attention.
 *
 * Context: process context, may sleep.
 * Return: the logical unit, or NULL (invalid parameters, which are
 * reported, or no memory).
 */
struct dmahba_lu *dmahba_scsi_lu_create(const struct dmahba_lu_params *p)
{
	struct dmahba_lu *lu;
	char serial[DMAHBA_EMU_SERIAL_LEN + 1];

	if (!p->dma_dev || (p->block_size != 512 && p->block_size != 4096) ||
	    p->block_size > PAGE_SIZE || p->size < p->block_size ||
	    p->size % p->block_size) {
		pr_err("lun %llu: invalid medium: %llu bytes of %u-byte blocks\n",
		       p->lun, p->size, p->block_size);
		return NULL;
	}

	lu = kzalloc(sizeof(*lu), GFP_KERNEL);
	if (!lu)
		return NULL;
	lu->p = *p;
	lu->nr_blocks = p->size / p->block_size;
	lu->store = dmahba_store_create(p->dma_dev, p->size);
	if (IS_ERR(lu->store)) {
		kfree(lu);
		return NULL;
	}
	snprintf(serial, sizeof(serial), "DMAHBA%04X%06llX",
		 p->host_no & 0xffff, p->lun & 0xffffff);
	memcpy(lu->serial, serial, DMAHBA_EMU_SERIAL_LEN);
	spin_lock_init(&lu->lock);
	spin_lock_init(&lu->range_lock);
	INIT_LIST_HEAD(&lu->writes);
	INIT_LIST_HEAD(&lu->caws);
	lu->wce = true;
	if (dmahba_inject_lu_init(lu, dmahba_scsi_ops,
				  ARRAY_SIZE(dmahba_scsi_ops))) {
		dmahba_store_destroy(lu->store);
		kfree(lu);
		return NULL;
	}
	return lu;
}

/**
 * dmahba_scsi_lu_destroy() - free a logical unit and its medium
 * @lu: the logical unit, or NULL; no command may use it any more
 *
 * Context: process context, may sleep.
 */
void dmahba_scsi_lu_destroy(struct dmahba_lu *lu)
{
	if (!lu)
		return;
	dmahba_inject_lu_exit(lu);
	dmahba_store_destroy(lu->store);
	kfree(lu);
}

/**
 * dmahba_scsi_lu_reset() - report a reset of the logical unit
 * @lu: the logical unit
 *
 * The next command other than INQUIRY, REPORT LUNS and REQUEST SENSE gets
 * UNIT ATTENTION, POWER ON, RESET, OR BUS DEVICE RESET OCCURRED, once (or
 * REQUEST SENSE reports and clears it).
 *
 * Context: any context; does not sleep.
 */
void dmahba_scsi_lu_reset(struct dmahba_lu *lu)
{
	unsigned long flags;

	spin_lock_irqsave(&lu->lock, flags);
	WRITE_ONCE(lu->ua_reset, true);
	spin_unlock_irqrestore(&lu->lock, flags);
}

/**
 * dmahba_scsi_lu_store() - the medium of a logical unit
 * @lu: the logical unit
 *
 * Context: any context.
 * Return: its store, for dmahba_store_map() and dmahba_store_unmap().
 */
struct dmahba_store *dmahba_scsi_lu_store(struct dmahba_lu *lu)
{
	return lu->store;
}

/**
 * dmahba_scsi_lu_debugfs() - a logical unit's files in debugfs
 * @lu: the logical unit
 * @dir: its directory (host<N>/lun<L>), removed before the LU is destroyed
 *
 * The error injection files: badblocks, badblocks_write, inject, stats.
 *
 * Context: process context, may sleep.
 */
void dmahba_scsi_lu_debugfs(struct dmahba_lu *lu, struct dentry *dir)
{
	dmahba_inject_debugfs(lu, dir);
}

/**
 * dmahba_scsi_lu_disarm() - remove a logical unit's injection rules
 * @lu: the logical unit
 *
 * Before its host is removed: its last commands are neither held nor
 * failed by a rule.
 *
 * Context: process context, may sleep.
 */
void dmahba_scsi_lu_disarm(struct dmahba_lu *lu)
{
	dmahba_inject_disarm(lu);
}

/**
 * dmahba_scsi_eh_check() - the error handler is about to act
 * @lu: the logical unit of @scmd
 * @level: abort, or the reset level
 * @scmd: the command the error handler names
 *
 * Counts the call (debugfs stats); an abort-fails or reset-fails rule
 * makes it fail.
 *
 * Context: process context (SCSI error handler); does not sleep.
 * Return: true if the handler must do nothing and return FAILED.
 */
bool dmahba_scsi_eh_check(struct dmahba_lu *lu, enum dmahba_scsi_eh_level level,
			  struct scsi_cmnd *scmd)
{
	return dmahba_inject_eh(lu, level, scmd);
}
