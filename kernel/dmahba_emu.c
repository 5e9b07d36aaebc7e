// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_emu.c - the bottom of the SCSI target emulation: what every command
 * uses. Sense data (fixed or descriptor format, as the control mode page
 * says), the command's zeroed emulation buffer, data-in and data-out phases
 * (described in sc->xfer for the HBA, which moves them by DMA) and the
 * lookup of a command in a table. It calls nothing above it: the commands
 * are in dmahba_spc.c and dmahba_sbc.c, the dispatch in dmahba_scsi.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_common.h>
#include <scsi/scsi_proto.h>

#include "compat.h"
#include "dmahba_emu.h"

#define DMAHBA_EMU_GFP		(GFP_ATOMIC | __GFP_NOWARN)

static void dmahba_emu_set_resid(struct dmahba_scsi_cmd *sc)
{
	scsi_set_resid(sc->scmd, scsi_bufflen(sc->scmd) - sc->priv.moved);
}

/**
 * dmahba_emu_sense() - finish a command with CHECK CONDITION
 * @sc: the command
 * @key: sense key
 * @asc: additional sense code
 * @ascq: additional sense code qualifier
 *
 * The sense data is in descriptor format when the control mode page's
 * D_SENSE bit is set, else in fixed format.
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_emu_sense(struct dmahba_scsi_cmd *sc, u8 key,
				      u8 asc, u8 ascq)
{
	struct scsi_cmnd *scmd = sc->scmd;

	memset(scmd->sense_buffer, 0, SCSI_SENSE_BUFFERSIZE);
	scsi_build_sense(scmd, READ_ONCE(sc->lu->d_sense), key, asc, ascq);
	dmahba_emu_set_resid(sc);
	return DMAHBA_SCSI_DONE;
}

/**
 * dmahba_emu_no_memory() - the command could not get the memory it needs
 * @sc: the command
 *
 * A command that writes the medium finishes with CHECK CONDITION, DATA
 * PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT (27h/07h, SBC-4 4.7.3.5:
 * the thin medium's budget is spent, or no page could be had); any other
 * with ABORTED COMMAND, INSUFFICIENT RESOURCES (55h/03h), which an
 * initiator may retry.
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_emu_no_memory(struct dmahba_scsi_cmd *sc)
{
	switch (sc->scmd->cmnd[0]) {
	case WRITE_6:
	case WRITE_10:
	case WRITE_12:
	case WRITE_16:
	case WRITE_VERIFY:
	case WRITE_VERIFY_16:
	case WRITE_SAME:
	case WRITE_SAME_16:
	case COMPARE_AND_WRITE:
		return dmahba_emu_sense(sc, DATA_PROTECT,
					 DMAHBA_ASC_WRITE_PROTECT, 0x07);
	default:
		return dmahba_emu_sense(sc, ABORTED_COMMAND,
					 DMAHBA_ASC_RESOURCE, 0x03);
	}
}

static enum dmahba_scsi_ret dmahba_emu_bad_field(struct dmahba_scsi_cmd *sc,
						 bool cdb, u16 byte, u8 bit)
{
	dmahba_emu_sense(sc, ILLEGAL_REQUEST, cdb ? DMAHBA_ASC_INVALID_CDB :
			 DMAHBA_ASC_INVALID_PARAM, 0);
	scsi_set_sense_field_pointer(sc->scmd->sense_buffer,
				     SCSI_SENSE_BUFFERSIZE, byte, bit, cdb);
	return DMAHBA_SCSI_DONE;
}

/**
 * dmahba_emu_bad_cdb() - finish with ILLEGAL REQUEST, INVALID FIELD IN CDB
 * @sc: the command
 * @byte: CDB byte of the field in error
 * @bit: its most significant bit in error (0-7)
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_emu_bad_cdb(struct dmahba_scsi_cmd *sc,
					u16 byte, u8 bit)
{
	return dmahba_emu_bad_field(sc, true, byte, bit);
}

/**
 * dmahba_emu_bad_param() - finish with ILLEGAL REQUEST, INVALID FIELD IN
 *			     PARAMETER LIST
 * @sc: the command
 * @byte: byte of the field in error in the parameter list
 * @bit: its most significant bit in error (0-7)
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_emu_bad_param(struct dmahba_scsi_cmd *sc,
					  u16 byte, u8 bit)
{
	return dmahba_emu_bad_field(sc, false, byte, bit);
}

/**
 * dmahba_emu_miscompare() - finish a command with MISCOMPARE
 * @sc: the command
 * @offset: offset of the first byte that differs, for the sense INFORMATION
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_emu_miscompare(struct dmahba_scsi_cmd *sc,
					   u64 offset)
{
	dmahba_emu_sense(sc, MISCOMPARE, DMAHBA_ASC_MISCOMPARE, 0);
	scsi_set_sense_information(sc->scmd->sense_buffer,
				   SCSI_SENSE_BUFFERSIZE, offset);
	return DMAHBA_SCSI_DONE;
}

/**
 * dmahba_emu_good() - finish a command with GOOD status
 * @sc: the command
 *
 * The residue is the part of the data buffer no phase has covered.
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_emu_good(struct dmahba_scsi_cmd *sc)
{
	sc->scmd->result = SAM_STAT_GOOD;
	dmahba_emu_set_resid(sc);
	return DMAHBA_SCSI_DONE;
}

/**
 * dmahba_emu_requeue() - finish a command that must be sent again later
 * @sc: the command; it has changed nothing
 *
 * For a conflict that resolves by itself as soon as another command in
 * flight ends (an overlapping COMPARE AND WRITE): the midlayer queues the
 * command again, for file-system and SG_IO commands alike.
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_emu_requeue(struct dmahba_scsi_cmd *sc)
{
	sc->scmd->result = DID_REQUEUE << 16;
	scsi_set_resid(sc->scmd, scsi_bufflen(sc->scmd));
	return DMAHBA_SCSI_DONE;
}

/**
 * dmahba_emu_alloc() - allocate the command's emulation buffer
 * @sc: the command (it has no buffer yet)
 * @len: bytes, > 0
 *
 * The buffer is zeroed, so a response built in it has no undefined byte,
 * and is freed when the command ends (dmahba_scsi_end()).
 *
 * Context: any context; does not sleep.
 * Return: the buffer, or NULL (the caller answers DMAHBA_SCSI_BUSY).
 */
void *dmahba_emu_alloc(struct dmahba_scsi_cmd *sc, u32 len)
{
	sc->priv.buf = kzalloc(len, DMAHBA_EMU_GFP);
	sc->priv.buf_len = sc->priv.buf ? len : 0;
	return sc->priv.buf;
}

/**
 * dmahba_emu_phase() - describe one data phase for the HBA
 * @sc: the command
 * @kind: which buffers the phase moves between, and which way
 * @buf_off: offset in the command's data buffer
 * @len: bytes, > 0
 * @pos: byte position on the medium (medium phases)
 * @step: what the phase's completion means (dmahba_scsi_xfer_done())
 *
 * The host buffer must have been set up in the phase's direction: a
 * command whose data flows the other way than the submitter said (a WRITE
 * sent with a from-device SG_IO, a bidirectional or a missing buffer) ends
 * with ILLEGAL REQUEST, INVALID FIELD IN CDB, and nothing moves.
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_XFER; DMAHBA_SCSI_DONE with CHECK CONDITION for a
 * direction mismatch, or with DID_ERROR for a phase outside the buffers
 * (a bug of the caller).
 */
enum dmahba_scsi_ret dmahba_emu_phase(struct dmahba_scsi_cmd *sc,
				      enum dmahba_xfer_kind kind,
				      u32 buf_off, u32 len, u64 pos,
				      enum dmahba_emu_step step)
{
	struct scsi_cmnd *scmd = sc->scmd;
	bool in = kind == DMAHBA_XFER_STORE_IN || kind == DMAHBA_XFER_BUF_IN;
	bool buf = kind == DMAHBA_XFER_BUF_IN || kind == DMAHBA_XFER_BUF_OUT;
	enum dma_data_direction dir = scmd->sc_data_direction;
	u32 bufflen = scsi_bufflen(scmd);

	/* the CDB's data phase against the submitter's (SG_IO dxfer_direction) */
	if (dir != (in ? DMA_FROM_DEVICE : DMA_TO_DEVICE))
		return dmahba_emu_sense(sc, ILLEGAL_REQUEST,
					DMAHBA_ASC_INVALID_CDB, 0);
	if (WARN_ON_ONCE(!len || buf_off > bufflen || len > bufflen - buf_off ||
			 (buf && len > sc->priv.buf_len))) {
		scmd->result = 0;
		set_host_byte(scmd, DID_ERROR);
		dmahba_emu_set_resid(sc);
		return DMAHBA_SCSI_DONE;
	}
	sc->xfer.kind = kind;
	sc->xfer.buf_off = buf_off;
	sc->xfer.len = len;
	sc->xfer.pos = pos;
	sc->xfer.buf = buf ? sc->priv.buf : NULL;
	sc->priv.step = step;
	return DMAHBA_SCSI_XFER;
}

/**
 * dmahba_emu_data_in() - return a response built in the emulation buffer
 * @sc: the command
 * @resp_len: length of the response
 * @alloc_len: the CDB's allocation length
 *
 * Moves min(@resp_len, @alloc_len, data buffer length) bytes, or finishes
 * at once when that is zero.
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_XFER, or DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_emu_data_in(struct dmahba_scsi_cmd *sc,
					u32 resp_len, u32 alloc_len)
{
	u32 len = min3(resp_len, alloc_len, scsi_bufflen(sc->scmd));

	if (!len)
		return dmahba_emu_good(sc);
	return dmahba_emu_phase(sc, DMAHBA_XFER_BUF_IN, 0, len, 0,
				DMAHBA_STEP_FINISH);
}

/**
 * dmahba_emu_data_out() - fetch a parameter list into the emulation buffer
 * @sc: the command; its buffer holds at least @len bytes
 * @len: bytes, > 0, at most the data buffer length
 * @step: what to do once it has arrived
 *
 * Context: any context; does not sleep.
 * Return: DMAHBA_SCSI_XFER, or DMAHBA_SCSI_DONE on a host-side error.
 */
enum dmahba_scsi_ret dmahba_emu_data_out(struct dmahba_scsi_cmd *sc,
					 u32 len, enum dmahba_emu_step step)
{
	return dmahba_emu_phase(sc, DMAHBA_XFER_BUF_OUT, 0, len, 0, step);
}

/**
 * dmahba_emu_find() - look a command up in a command table
 * @ops: the table
 * @nr_ops: its entries
 * @opcode: operation code
 * @sa: service action (ignored for an opcode without service actions)
 * @known: set to whether @opcode itself is in the table
 *
 * Context: any context.
 * Return: the entry, or NULL.
 */
const struct dmahba_emu_op *dmahba_emu_find(const struct dmahba_emu_op *ops,
					    unsigned int nr_ops, u8 opcode,
					    u16 sa, bool *known)
{
	const struct dmahba_emu_op *op;

	*known = false;
	for (op = ops; op < ops + nr_ops; op++) {
		if (op->opcode != opcode)
			continue;
		*known = true;
		if (!(op->flags & DMAHBA_OP_SA) || op->sa == sa)
			return op;
	}
	return NULL;
}
