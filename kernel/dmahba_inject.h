/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_inject.h - targeted error injection of the target emulation: the
 * bad blocks of a logical unit (null_blk's "badblocks" syntax) and the
 * rules matched against each command ("inject"), both per LU in debugfs.
 *
 * Its place in the emulation's stack: above dmahba_emu.c (it answers with
 * dmahba_emu_sense()), below dmahba_scsi.c, dmahba_spc.c and dmahba_sbc.c,
 * which call it. The error handler's hooks reach it through the miniport's
 * ->eh_check callback and dmahba_scsi_eh_check(), a call down.
 *
 * With nothing armed on any LU the I/O path pays one patched branch:
 * dmahba_inject_key is enabled while some LU holds a rule or a bad block
 * that a debugfs write put there.
 */
#ifndef DMAHBA_INJECT_H
#define DMAHBA_INJECT_H

#include <linux/bits.h>
#include <linux/jump_label.h>
#include <linux/types.h>

#include "dmahba_scsi.h"

struct dentry;
struct scsi_cmnd;
struct seq_file;
struct dmahba_lu;
struct dmahba_emu_op;

DECLARE_STATIC_KEY_FALSE(dmahba_inject_key);

/* dmahba_scsi_cmd.priv.flags: a bad block found when the command started */
#define DMAHBA_INJECT_F_MEDIUM	BIT(0)	/* answer MEDIUM ERROR at err_lba */
#define DMAHBA_INJECT_F_CLEAR	BIT(1)	/* a write reallocates its range */
#define DMAHBA_INJECT_F_WRITE	BIT(2)	/* the medium error is a write's */

int dmahba_inject_lu_init(struct dmahba_lu *lu,
			  const struct dmahba_emu_op *ops, unsigned int nr_ops);
void dmahba_inject_lu_exit(struct dmahba_lu *lu);
void dmahba_inject_debugfs(struct dmahba_lu *lu, struct dentry *dir);
void dmahba_inject_disarm(struct dmahba_lu *lu);
void dmahba_inject_stats_show(struct dmahba_lu *lu, struct seq_file *m);

/* the I/O path: only when static_branch_unlikely(&dmahba_inject_key) */
bool dmahba_inject_cmd(struct dmahba_scsi_cmd *sc, enum dmahba_scsi_ret *ret);
bool dmahba_inject_bad(struct dmahba_lu *lu, u64 lba, u64 n, u64 *first);
void dmahba_inject_medium_check(struct dmahba_scsi_cmd *sc, u64 lba, u32 *n,
				bool write);
enum dmahba_scsi_ret dmahba_inject_medium_error(struct dmahba_scsi_cmd *sc);
enum dmahba_scsi_ret dmahba_inject_finish(struct dmahba_scsi_cmd *sc);
void dmahba_inject_forget(struct dmahba_lu *lu, u64 lba, u64 n);
bool dmahba_inject_eh(struct dmahba_lu *lu, enum dmahba_scsi_eh_level level,
		      struct scsi_cmnd *scmd);

#endif /* DMAHBA_INJECT_H */
