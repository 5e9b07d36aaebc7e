/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_scsi.h - SCSI target emulation (SPC/SBC) of the mock disk, as the
 * mock HBA (dmahba_hba.c) sees it.
 *
 * The emulation decodes a CDB and answers everything that needs no data
 * phase by itself. A data phase is never performed here: the emulation
 * describes it as a struct dmahba_xfer and the HBA moves the bytes through
 * DMA windows (IoMapTransfer) before calling dmahba_scsi_xfer_done(). A
 * command may have several data phases (COMPARE AND WRITE, WRITE SAME);
 * each phase may name any range of the command's data buffer, the same
 * range more than once included.
 *
 * All entry points run in atomic context (the HBA calls them under its
 * queue lock): they never sleep and allocate with GFP_ATOMIC.
 */
#ifndef DMAHBA_SCSI_H
#define DMAHBA_SCSI_H

#include <linux/list.h>
#include <linux/types.h>

struct dentry;
struct device;
struct scsi_cmnd;
struct dmahba_store;

/**
 * enum dmahba_xfer_kind - what a data phase moves
 * @DMAHBA_XFER_STORE_IN: medium at @pos to the host buffer (data-in)
 * @DMAHBA_XFER_STORE_OUT: host buffer to the medium at @pos (data-out)
 * @DMAHBA_XFER_BUF_IN: emulation buffer @buf to the host buffer (data-in)
 * @DMAHBA_XFER_BUF_OUT: host buffer to emulation buffer @buf (data-out)
 */
enum dmahba_xfer_kind {
	DMAHBA_XFER_STORE_IN,
	DMAHBA_XFER_STORE_OUT,
	DMAHBA_XFER_BUF_IN,
	DMAHBA_XFER_BUF_OUT,
};

/**
 * struct dmahba_xfer - one data phase of a command
 * @kind: direction and HBA-side target
 * @buf_off: offset of the phase in the command's data buffer
 * @len: bytes to move; > 0, and @buf_off + @len <= scsi_bufflen()
 * @pos: STORE_*: byte position on the medium
 * @buf: BUF_*: kmalloc()ed, DMA-able buffer of at least @len bytes
 */
struct dmahba_xfer {
	enum dmahba_xfer_kind kind;
	u32 buf_off;
	u32 len;
	u64 pos;
	void *buf;
};

/**
 * struct dmahba_lu_params - what a logical unit is made of
 * @dma_dev: the DMA controller's device (the store maps its pages for it)
 * @size: medium size in bytes (a multiple of @block_size)
 * @block_size: logical block size in bytes, 512 or 4096
 * @max_xfer_blocks: largest transfer the host accepts, in blocks (VPD B0)
 * @host_no: SCSI host number (for identifiers)
 * @lun: logical unit number
 * @nr_luns: logical units of the host, numbered 0 to @nr_luns - 1
 *	     (REPORT LUNS lists them all)
 */
struct dmahba_lu_params {
	struct device *dma_dev;
	u64 size;
	u32 block_size;
	u32 max_xfer_blocks;
	u32 host_no;
	u64 lun;
	u32 nr_luns;
};

struct dmahba_lu;

/**
 * struct dmahba_scsi_cmd - per-command state of the emulation
 * @scmd: the midlayer's command (CDB, data length, sense buffer, result)
 * @lu: the logical unit addressed
 * @xfer: the current data phase, valid after DMAHBA_SCSI_XFER
 * @fail_dma: an injected dma-error: the HBA has the port fail the next DMA
 *	window of the command through the channel's result path, and clears it
 * @priv: state private to the emulation (bounce buffer, step, counters;
 *	  @priv.range links the command into its unit's list of block ranges
 *	  being written, from @priv.range_lba for @priv.range_n blocks;
 *	  @priv.flags and @priv.err_lba: a bad block the command met)
 *
 * Lives in the midlayer's per-command area; dmahba_scsi_start() initialises
 * it, dmahba_scsi_end() releases what it holds.
 */
struct dmahba_scsi_cmd {
	struct scsi_cmnd *scmd;
	struct dmahba_lu *lu;
	struct dmahba_xfer xfer;
	bool fail_dma;
	struct {
		void *buf;
		u32 buf_len;
		u32 step;
		u32 moved;
		u64 lba;
		u32 nblocks;
		u32 flags;
		struct list_head range;
		u64 range_lba;
		u32 range_n;
		u64 err_lba;
	} priv;
};

/**
 * enum dmahba_scsi_ret - what the HBA does next with a command
 * @DMAHBA_SCSI_DONE: finished: status, sense and residue are set
 * @DMAHBA_SCSI_XFER: move @xfer, then call dmahba_scsi_xfer_done()
 * @DMAHBA_SCSI_BUSY: out of memory now; retry the command later, a few
 *	times, then finish it with dmahba_scsi_no_memory()
 * @DMAHBA_SCSI_HOLD: accepted, and never finishes on its own (an injected
 *	timeout): keep it until the error handler aborts or resets it
 */
enum dmahba_scsi_ret {
	DMAHBA_SCSI_DONE,
	DMAHBA_SCSI_XFER,
	DMAHBA_SCSI_BUSY,
	DMAHBA_SCSI_HOLD,
};

/**
 * enum dmahba_scsi_eh_level - what the SCSI error handler does
 * @DMAHBA_SCSI_EH_ABORT: abort a command
 * @DMAHBA_SCSI_EH_LUN: reset a logical unit
 * @DMAHBA_SCSI_EH_TARGET: reset the target
 * @DMAHBA_SCSI_EH_BUS: reset the bus
 * @DMAHBA_SCSI_EH_HOST: reset the host
 * @DMAHBA_SCSI_EH_NR: number of levels
 */
enum dmahba_scsi_eh_level {
	DMAHBA_SCSI_EH_ABORT,
	DMAHBA_SCSI_EH_LUN,
	DMAHBA_SCSI_EH_TARGET,
	DMAHBA_SCSI_EH_BUS,
	DMAHBA_SCSI_EH_HOST,
	DMAHBA_SCSI_EH_NR,
};

struct dmahba_lu *dmahba_scsi_lu_create(const struct dmahba_lu_params *p);
void dmahba_scsi_lu_destroy(struct dmahba_lu *lu);
void dmahba_scsi_lu_reset(struct dmahba_lu *lu);
struct dmahba_store *dmahba_scsi_lu_store(struct dmahba_lu *lu);
void dmahba_scsi_lu_debugfs(struct dmahba_lu *lu, struct dentry *dir);
void dmahba_scsi_lu_disarm(struct dmahba_lu *lu);
bool dmahba_scsi_eh_check(struct dmahba_lu *lu, enum dmahba_scsi_eh_level level,
			  struct scsi_cmnd *scmd);

enum dmahba_scsi_ret dmahba_scsi_start(struct dmahba_scsi_cmd *sc,
				       struct dmahba_lu *lu,
				       struct scsi_cmnd *scmd);
enum dmahba_scsi_ret dmahba_scsi_xfer_done(struct dmahba_scsi_cmd *sc);
void dmahba_scsi_xfer_failed(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_scsi_no_memory(struct dmahba_scsi_cmd *sc);
void dmahba_scsi_end(struct dmahba_scsi_cmd *sc);

#endif /* DMAHBA_SCSI_H */
