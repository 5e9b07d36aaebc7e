/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_spc.h - internals of the SCSI target emulation, shared by its three
 * files: dmahba_scsi.c (dispatch, sense data, the data-phase state machine),
 * dmahba_sbc.c (the block commands of SBC) and dmahba_spc.c (the primary
 * commands of SPC: INQUIRY and its VPD pages, REQUEST SENSE, REPORT LUNS,
 * MODE SENSE and MODE SELECT; READ CAPACITY, GET LBA STATUS). Nothing else
 * includes it: the HBA sees dmahba_scsi.h.
 */
#ifndef DMAHBA_SPC_H
#define DMAHBA_SPC_H

#include <linux/spinlock.h>
#include <linux/types.h>

#include "dmahba_scsi.h"

/* Limits advertised in VPD B0 and enforced by the commands. */
#define DMAHBA_SCSI_MAX_UNMAP_BLOCKS	0x400000U	/* per UNMAP command */
#define DMAHBA_SCSI_MAX_UNMAP_DESC	255U
/*
 * WRITE SAME of a block that is not zero moves one window per block, and a
 * request keeps its DMA context (and the requests queued behind it) until
 * it is done: 2048 windows keep it well inside the SCSI timeout even on a
 * debug kernel under TCG. VERIFY with BYTCHK 11b shares the limit.
 */
#define DMAHBA_SCSI_MAX_WS_BLOCKS	0x800U		/* WRITE SAME */
#define DMAHBA_SCSI_MAX_CAW_BYTES	16384U		/* COMPARE AND WRITE */
#define DMAHBA_SCSI_VERIFY_CHUNK	16384U		/* VERIFY BYTCHK=1 */
#define DMAHBA_SCSI_MAX_PARAM		4096U		/* parameter lists */

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

#define DMAHBA_SCSI_SERIAL_LEN		16

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
 */
struct dmahba_lu {
	struct dmahba_lu_params p;
	struct dmahba_store *store;
	u64 nr_blocks;
	char serial[DMAHBA_SCSI_SERIAL_LEN];

	spinlock_t lock;	/* protects the fields below */
	bool stopped;
	bool ua_reset;
	bool wce;
	bool rcd;
	bool d_sense;
};

/**
 * enum dmahba_scsi_step - what the completion of a data phase means
 * @DMAHBA_STEP_FINISH: the last phase: the command succeeded
 * @DMAHBA_STEP_MODE_SELECT: a MODE SELECT parameter list arrived
 * @DMAHBA_STEP_UNMAP: an UNMAP parameter list arrived
 * @DMAHBA_STEP_CAW: the verify half of COMPARE AND WRITE arrived
 * @DMAHBA_STEP_WS_DATA: the block of a WRITE SAME arrived
 * @DMAHBA_STEP_WS_WRITE: one block of a WRITE SAME was written
 * @DMAHBA_STEP_VERIFY: a chunk of VERIFY BYTCHK=1 data arrived
 * @DMAHBA_STEP_VERIFY_ONE: the block of VERIFY BYTCHK=3 arrived
 */
enum dmahba_scsi_step {
	DMAHBA_STEP_FINISH,
	DMAHBA_STEP_MODE_SELECT,
	DMAHBA_STEP_UNMAP,
	DMAHBA_STEP_CAW,
	DMAHBA_STEP_WS_DATA,
	DMAHBA_STEP_WS_WRITE,
	DMAHBA_STEP_VERIFY,
	DMAHBA_STEP_VERIFY_ONE,
};

/* dmahba_scsi_op.flags */
#define DMAHBA_OP_SA		BIT(0)	/* the opcode has service actions */
#define DMAHBA_OP_NO_UA		BIT(1)	/* not stopped by a unit attention */
#define DMAHBA_OP_MEDIUM	BIT(2)	/* needs a started medium */

/**
 * struct dmahba_scsi_op - one supported command
 * @opcode: operation code
 * @sa: service action (with DMAHBA_OP_SA)
 * @flags: DMAHBA_OP_*
 * @len: CDB length
 * @mask: CDB usage data: the bits the command uses (mask[0]: the opcode)
 * @fn: handler; the CDB is known to use no bit outside @mask
 */
struct dmahba_scsi_op {
	u8 opcode;
	u8 sa;
	u8 flags;
	u8 len;
	u8 mask[16];
	enum dmahba_scsi_ret (*fn)(struct dmahba_scsi_cmd *sc);
};

static inline u32 dmahba_scsi_bs(const struct dmahba_lu *lu)
{
	return lu->p.block_size;
}

extern const struct dmahba_scsi_op dmahba_scsi_ops[];
extern const unsigned int dmahba_scsi_nr_ops;

const struct dmahba_scsi_op *dmahba_scsi_find(u8 opcode, u16 sa, bool *known);
enum dmahba_scsi_ret dmahba_scsi_sense(struct dmahba_scsi_cmd *sc, u8 key,
				       u8 asc, u8 ascq);
enum dmahba_scsi_ret dmahba_scsi_bad_cdb(struct dmahba_scsi_cmd *sc,
					 u16 byte, u8 bit);
enum dmahba_scsi_ret dmahba_scsi_bad_param(struct dmahba_scsi_cmd *sc,
					   u16 byte, u8 bit);
enum dmahba_scsi_ret dmahba_scsi_miscompare(struct dmahba_scsi_cmd *sc,
					    u64 offset);
enum dmahba_scsi_ret dmahba_scsi_good(struct dmahba_scsi_cmd *sc);
void *dmahba_scsi_alloc(struct dmahba_scsi_cmd *sc, u32 len);
enum dmahba_scsi_ret dmahba_scsi_data_in(struct dmahba_scsi_cmd *sc,
					 u32 resp_len, u32 alloc_len);
enum dmahba_scsi_ret dmahba_scsi_data_out(struct dmahba_scsi_cmd *sc,
					  u32 len, enum dmahba_scsi_step step);
enum dmahba_scsi_ret dmahba_scsi_phase(struct dmahba_scsi_cmd *sc,
				       enum dmahba_xfer_kind kind,
				       u32 buf_off, u32 len, u64 pos,
				       enum dmahba_scsi_step step);

enum dmahba_scsi_ret dmahba_sbc_start_stop(struct dmahba_scsi_cmd *sc);
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

enum dmahba_scsi_ret dmahba_spc_inquiry(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_request_sense(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_report_luns(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_mode_sense(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_mode_select(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_mode_select_done(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_read_cap10(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_read_cap16(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_lba_status(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_spc_rsoc(struct dmahba_scsi_cmd *sc);

#endif /* DMAHBA_SPC_H */
