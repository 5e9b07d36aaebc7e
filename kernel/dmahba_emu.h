/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_emu.h - the SCSI target emulation's own layers, bottom first:
 *
 *   dmahba_scsi.c   dispatch: the command table, unit attention, data-phase
 *                   steps (the HBA's entry points, dmahba_scsi.h)
 *   dmahba_spc.c    the primary commands (SPC)     } call dmahba_emu.c only
 *   dmahba_sbc.c    the block commands (SBC)       }
 *   dmahba_emu.c    sense data, data-in/data-out phases, the emulation
 *                   buffer, opcode lookup
 *
 * A file calls only the files below it. This header holds what those files
 * share: the logical unit, the limits of the commands, the additional sense
 * codes, the command table's entry type and the handlers the dispatcher
 * calls. The HBA includes dmahba_scsi.h, never this header.
 */
#ifndef DMAHBA_EMU_H
#define DMAHBA_EMU_H

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "dmahba_scsi.h"

struct dmahba_inject;

/*
 * Limits advertised in the Block Limits VPD page (B0h, built by
 * dmahba_spc.c) and enforced by the block commands (dmahba_sbc.c).
 */
#define DMAHBA_EMU_MAX_UNMAP_BYTES	SZ_32M	/* dmahba_emu_max_unmap_blocks() */
#define DMAHBA_EMU_MAX_UNMAP_DESC	256U	/* block descriptors */
/* an UNMAP parameter list with DMAHBA_EMU_MAX_UNMAP_DESC descriptors */
#define DMAHBA_EMU_UNMAP_PARAM		(8 + 16 * DMAHBA_EMU_MAX_UNMAP_DESC)
/*
 * WRITE SAME of a block that is not zero moves one window per block, and a
 * request keeps its DMA context (and the requests queued behind it) until
 * it is done: 2048 windows keep it well inside the SCSI timeout even on a
 * debug kernel under TCG.
 */
#define DMAHBA_EMU_MAX_WS_BLOCKS	0x800U		/* WRITE SAME */
#define DMAHBA_EMU_MAX_CAW_BYTES	SZ_16K		/* COMPARE AND WRITE */
#define DMAHBA_EMU_VERIFY_CHUNK		SZ_16K		/* VERIFY BYTCHK=01b */
/* VERIFY BYTCHK=11b compares one block with the whole range in one go */
#define DMAHBA_EMU_MAX_VERIFY_SAME	SZ_1M
#define DMAHBA_EMU_MAX_PARAM		4096U		/* MODE SELECT list */

/* Additional sense codes (ASC, ASCQ) the emulation reports */
#define DMAHBA_ASC_NOT_READY		0x04	/* ASCQ 02: start needed */
#define DMAHBA_ASC_PARAM_LIST_LEN	0x1a
#define DMAHBA_ASC_MISCOMPARE		0x1d
#define DMAHBA_ASC_INVALID_OPCODE	0x20
#define DMAHBA_ASC_LBA_RANGE		0x21
#define DMAHBA_ASC_INVALID_CDB		0x24
#define DMAHBA_ASC_INVALID_PARAM	0x26
#define DMAHBA_ASC_WRITE_PROTECT	0x27	/* ASCQ 07: space alloc. failed */
#define DMAHBA_ASC_RESET		0x29
#define DMAHBA_ASC_SAVING		0x39
#define DMAHBA_ASC_DATA_PHASE		0x4b
#define DMAHBA_ASC_RESOURCE		0x55	/* ASCQ 03: insufficient */

#define DMAHBA_EMU_SERIAL_LEN		16

/**
 * struct dmahba_lu - one logical unit of the mock disk
 * @p: what it was created with
 * @store: its medium
 * @nr_blocks: capacity in logical blocks
 * @serial: unit serial number (VPD 80), not NUL-terminated
 * @lock: protects the state below; a reader of one flag alone may use
 *	  READ_ONCE() without it
 * @stopped: START STOP UNIT stopped the medium
 * @ua_reset: a reset unit attention is pending
 * @wce: caching mode page: write cache enabled
 * @rcd: caching mode page: read cache disabled
 * @d_sense: control mode page: descriptor-format sense
 * @range_lock: protects @writes and @caws
 * @writes: block ranges being written by a WRITE (any command that moves
 *	    data to the medium over a data phase), linked by their
 *	    dmahba_scsi_cmd's priv.range; the hardware queues share them
 * @caws: block ranges of the COMPARE AND WRITEs in flight, the same way
 * @inj: injected errors: bad blocks and rules (dmahba_inject.c)
 */
struct dmahba_lu {
	struct dmahba_lu_params p;
	struct dmahba_store *store;
	u64 nr_blocks;
	char serial[DMAHBA_EMU_SERIAL_LEN];

	spinlock_t lock;	/* protects the fields below */
	bool stopped;
	bool ua_reset;
	bool wce;
	bool rcd;
	bool d_sense;

	spinlock_t range_lock;	/* protects writes and caws */
	struct list_head writes;
	struct list_head caws;

	struct dmahba_inject *inj;
};

/**
 * enum dmahba_emu_step - what the completion of a data phase means
 * @DMAHBA_STEP_FINISH: the last phase: the command succeeded
 * @DMAHBA_STEP_MODE_SELECT: a MODE SELECT parameter list arrived
 * @DMAHBA_STEP_UNMAP: an UNMAP parameter list arrived
 * @DMAHBA_STEP_CAW: the verify half of COMPARE AND WRITE arrived
 * @DMAHBA_STEP_WS_DATA: the block of a WRITE SAME arrived
 * @DMAHBA_STEP_WS_WRITE: one block of a WRITE SAME was written
 * @DMAHBA_STEP_VERIFY: a chunk of VERIFY BYTCHK=1 data arrived
 * @DMAHBA_STEP_VERIFY_ONE: the block of VERIFY BYTCHK=3 arrived
 */
enum dmahba_emu_step {
	DMAHBA_STEP_FINISH,
	DMAHBA_STEP_MODE_SELECT,
	DMAHBA_STEP_UNMAP,
	DMAHBA_STEP_CAW,
	DMAHBA_STEP_WS_DATA,
	DMAHBA_STEP_WS_WRITE,
	DMAHBA_STEP_VERIFY,
	DMAHBA_STEP_VERIFY_ONE,
};

/* dmahba_emu_op.flags */
#define DMAHBA_OP_SA		BIT(0)	/* the opcode has service actions */
#define DMAHBA_OP_NO_UA		BIT(1)	/* not stopped by a unit attention */
#define DMAHBA_OP_MEDIUM	BIT(2)	/* needs a started medium */
#define DMAHBA_OP_NO_DATA	BIT(3)	/* never has a data phase */

/**
 * struct dmahba_emu_op - one supported command
 * @opcode: operation code
 * @sa: service action (with DMAHBA_OP_SA)
 * @flags: DMAHBA_OP_*
 * @len: CDB length
 * @mask: CDB usage data: the bits the command uses (mask[0]: the opcode)
 * @fn: handler; the CDB is known to use no bit outside @mask
 */
struct dmahba_emu_op {
	u8 opcode;
	u8 sa;
	u8 flags;
	u8 len;
	u8 mask[16];
	enum dmahba_scsi_ret (*fn)(struct dmahba_scsi_cmd *sc);
};

static inline u32 dmahba_emu_bs(const struct dmahba_lu *lu)
{
	return lu->p.block_size;
}

/* MAXIMUM UNMAP LBA COUNT: never more than the unit holds */
static inline u32 dmahba_emu_max_unmap_blocks(const struct dmahba_lu *lu)
{
	return min_t(u64, lu->nr_blocks,
		     DMAHBA_EMU_MAX_UNMAP_BYTES / lu->p.block_size);
}

/* dmahba_emu.c: the helpers every command uses */
const struct dmahba_emu_op *dmahba_emu_find(const struct dmahba_emu_op *ops,
					    unsigned int nr_ops, u8 opcode,
					    u16 sa, bool *known);
enum dmahba_scsi_ret dmahba_emu_no_memory(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_emu_sense(struct dmahba_scsi_cmd *sc, u8 key,
				      u8 asc, u8 ascq);
enum dmahba_scsi_ret dmahba_emu_bad_cdb(struct dmahba_scsi_cmd *sc,
					u16 byte, u8 bit);
enum dmahba_scsi_ret dmahba_emu_bad_param(struct dmahba_scsi_cmd *sc,
					  u16 byte, u8 bit);
enum dmahba_scsi_ret dmahba_emu_miscompare(struct dmahba_scsi_cmd *sc,
					   u64 offset);
enum dmahba_scsi_ret dmahba_emu_good(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_emu_requeue(struct dmahba_scsi_cmd *sc);
void *dmahba_emu_alloc(struct dmahba_scsi_cmd *sc, u32 len);
enum dmahba_scsi_ret dmahba_emu_data_in(struct dmahba_scsi_cmd *sc,
					u32 resp_len, u32 alloc_len);
enum dmahba_scsi_ret dmahba_emu_data_out(struct dmahba_scsi_cmd *sc,
					 u32 len, enum dmahba_emu_step step);
enum dmahba_scsi_ret dmahba_emu_phase(struct dmahba_scsi_cmd *sc,
				      enum dmahba_xfer_kind kind,
				      u32 buf_off, u32 len, u64 pos,
				      enum dmahba_emu_step step);

/* dmahba_spc.c: for the dispatcher */
enum dmahba_scsi_ret dmahba_spc_tur(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_inquiry(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_request_sense(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_report_luns(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_mode_sense(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_mode_select(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_mode_select_done(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_rsoc(struct dmahba_scsi_cmd *sc,
				     const struct dmahba_emu_op *ops,
				     unsigned int nr_ops);

/* dmahba_sbc.c: for the dispatcher */
enum dmahba_scsi_ret dmahba_sbc_start_stop(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_medium_removal(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_rw(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_verify(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_verify_done(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_sync_cache(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_write_same(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_write_same_done(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_caw(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_caw_done(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_unmap(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_unmap_done(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_read_cap10(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_read_cap16(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_sbc_lba_status(struct dmahba_scsi_cmd *sc);
void dmahba_sbc_release(struct dmahba_scsi_cmd *sc);

#endif /* DMAHBA_EMU_H */
