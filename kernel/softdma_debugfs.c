// SPDX-License-Identifier: GPL-2.0
/*
 * softdma_debugfs.c - per channel, under /sys/kernel/debug/softdma/<channel>/:
 * the fault knobs (fail_nth, fail_every, stall_nth, fail_mode), the speed
 * model (latency_us, bandwidth_kbps), the statistics, and the constraints in
 * effect (max_seg_size, copy_align, ring_size, residue, halt_on_error,
 * profile) with the preps each refused, and where the engine runs (engine)
 * (docs/softdma.md).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "softdma_priv.h"

struct dentry *softdma_dbg_root;

static const char * const softdma_file_names[SOFTDMA_F_NR] = {
	[SOFTDMA_F_FAIL_NTH]		= "fail_nth",
	[SOFTDMA_F_FAIL_EVERY]		= "fail_every",
	[SOFTDMA_F_STALL_NTH]		= "stall_nth",
	[SOFTDMA_F_LATENCY_US]		= "latency_us",
	[SOFTDMA_F_BANDWIDTH_KBPS]	= "bandwidth_kbps",
	[SOFTDMA_F_SUBMITTED]		= "submitted",
	[SOFTDMA_F_COMPLETED]		= "completed",
	[SOFTDMA_F_FAILED]		= "failed",
	[SOFTDMA_F_ABORTED]		= "aborted",
	[SOFTDMA_F_TERMINATED]		= "terminated",
	[SOFTDMA_F_QUEUED]		= "queued",
	[SOFTDMA_F_DESCRIPTORS]		= "descriptors",
	[SOFTDMA_F_HALTED]		= "halted",
	[SOFTDMA_F_PAUSED]		= "paused",
	[SOFTDMA_F_STALLED]		= "stalled",
	[SOFTDMA_F_REFUSED_SEG_SIZE]	= "refused_seg_size",
	[SOFTDMA_F_REFUSED_ALIGN]	= "refused_align",
	[SOFTDMA_F_REFUSED_RING]	= "refused_ring",
	[SOFTDMA_F_MAX_SEG_SIZE]	= "max_seg_size",
	[SOFTDMA_F_COPY_ALIGN]		= "copy_align",
	[SOFTDMA_F_RING_SIZE]		= "ring_size",
	[SOFTDMA_F_HALT_ON_ERROR]	= "halt_on_error",
};

static u64 softdma_file_get(struct softdma_chan *sc, enum softdma_file id)
{
	lockdep_assert_held(&sc->lock);
	switch (id) {
	case SOFTDMA_F_FAIL_NTH:	return sc->fail_nth;
	case SOFTDMA_F_FAIL_EVERY:	return sc->fail_every;
	case SOFTDMA_F_STALL_NTH:	return sc->stall_nth;
	case SOFTDMA_F_LATENCY_US:	return sc->latency_us;
	case SOFTDMA_F_BANDWIDTH_KBPS:	return sc->bandwidth_kbps;
	case SOFTDMA_F_SUBMITTED:	return sc->nr_submitted;
	case SOFTDMA_F_COMPLETED:	return sc->nr_completed;
	case SOFTDMA_F_FAILED:		return sc->nr_failed;
	case SOFTDMA_F_ABORTED:		return sc->nr_aborted;
	case SOFTDMA_F_TERMINATED:	return sc->nr_terminated;
	case SOFTDMA_F_QUEUED:		return list_count_nodes(&sc->submitted) +
					       list_count_nodes(&sc->issued) +
					       !!sc->active;
	case SOFTDMA_F_DESCRIPTORS:	return sc->nr_desc;
	case SOFTDMA_F_HALTED:		return sc->halted;
	case SOFTDMA_F_PAUSED:		return sc->paused;
	case SOFTDMA_F_STALLED:		return sc->stalled;
	case SOFTDMA_F_REFUSED_SEG_SIZE:
		return sc->nr_refused[SOFTDMA_REFUSE_SEG_SIZE];
	case SOFTDMA_F_REFUSED_ALIGN:
		return sc->nr_refused[SOFTDMA_REFUSE_ALIGN];
	case SOFTDMA_F_REFUSED_RING:
		return sc->nr_refused[SOFTDMA_REFUSE_RING];
	case SOFTDMA_F_MAX_SEG_SIZE:	return softdma_cons.max_seg_size;
	case SOFTDMA_F_COPY_ALIGN:	return softdma_cons.copy_align;
	case SOFTDMA_F_RING_SIZE:	return softdma_cons.ring_size;
	case SOFTDMA_F_HALT_ON_ERROR:	return softdma_cons.halt_on_error;
	default:			return 0;
	}
}

static ssize_t softdma_file_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct softdma_file_ref *ref = file->private_data;
	struct softdma_chan *sc = ref->sc;
	unsigned long flags;
	char buf[24];
	int len;
	u64 val;

	spin_lock_irqsave(&sc->lock, flags);
	val = softdma_file_get(sc, ref->id);
	spin_unlock_irqrestore(&sc->lock, flags);
	len = scnprintf(buf, sizeof(buf), "%llu\n", val);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t softdma_file_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct softdma_file_ref *ref = file->private_data;
	struct softdma_chan *sc = ref->sc;
	unsigned long flags;
	u32 val;

	if (kstrtou32_from_user(ubuf, count, 0, &val))
		return -EINVAL;
	if (ref->id == SOFTDMA_F_LATENCY_US && val > SOFTDMA_MAX_LATENCY_US)
		return -EINVAL;

	spin_lock_irqsave(&sc->lock, flags);
	switch (ref->id) {
	case SOFTDMA_F_FAIL_NTH:
		sc->fail_nth = val;
		break;
	case SOFTDMA_F_FAIL_EVERY:
		sc->fail_every = val;
		sc->every_count = 0;
		break;
	case SOFTDMA_F_STALL_NTH:
		sc->stall_nth = val;
		break;
	case SOFTDMA_F_LATENCY_US:
		sc->latency_us = val;
		break;
	case SOFTDMA_F_BANDWIDTH_KBPS:
		sc->bandwidth_kbps = val;
		break;
	default:
		spin_unlock_irqrestore(&sc->lock, flags);
		return -EPERM;
	}
	spin_unlock_irqrestore(&sc->lock, flags);
	return count;
}

static const struct file_operations softdma_file_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= softdma_file_read,
	.write	= softdma_file_write,
	.llseek	= default_llseek,
};

static ssize_t softdma_fail_mode_read(struct file *file, char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	struct softdma_file_ref *ref = file->private_data;
	const char *mode = READ_ONCE(ref->sc->fail_result) == DMA_TRANS_READ_FAILED ?
			   "read\n" : "write\n";

	return simple_read_from_buffer(ubuf, count, ppos, mode, strlen(mode));
}

static ssize_t softdma_fail_mode_write(struct file *file, const char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	struct softdma_file_ref *ref = file->private_data;
	struct softdma_chan *sc = ref->sc;
	enum dmaengine_tx_result result;
	unsigned long flags;
	char buf[8] = "";

	if (count >= sizeof(buf) || copy_from_user(buf, ubuf, count))
		return -EINVAL;
	if (sysfs_streq(buf, "read"))
		result = DMA_TRANS_READ_FAILED;
	else if (sysfs_streq(buf, "write"))
		result = DMA_TRANS_WRITE_FAILED;
	else
		return -EINVAL;
	spin_lock_irqsave(&sc->lock, flags);
	sc->fail_result = result;
	spin_unlock_irqrestore(&sc->lock, flags);
	return count;
}

static const struct file_operations softdma_fail_mode_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= softdma_fail_mode_read,
	.write	= softdma_fail_mode_write,
	.llseek	= default_llseek,
};

static int softdma_residue_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%s\n", softdma_residue_name(softdma_cons.residue));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(softdma_residue);

static int softdma_profile_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%s\n", softdma_cons.profile ?: "none");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(softdma_profile);

static int softdma_engine_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%s\n", softdma_engine_name(softdma_cons.engine));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(softdma_engine);

/**
 * softdma_debugfs_add() - create the debugfs directory of every channel
 * @sdev: the controller
 *
 * Context: process context (probe), may sleep.
 */
void softdma_debugfs_add(struct softdma_dev *sdev)
{
	unsigned int i, f;

	for (i = 0; i < sdev->nr_chans; i++) {
		struct softdma_chan *sc = &sdev->chans[i];

		sc->dbg = debugfs_create_dir(dma_chan_name(&sc->chan),
					     softdma_dbg_root);
		for (f = 0; f < SOFTDMA_F_NR; f++) {
			sc->files[f].sc = sc;
			sc->files[f].id = f;
			debugfs_create_file(softdma_file_names[f],
					    f < SOFTDMA_F_NR_KNOBS ? 0600 : 0400,
					    sc->dbg, &sc->files[f],
					    &softdma_file_fops);
		}
		sc->files[SOFTDMA_F_NR].sc = sc;
		sc->files[SOFTDMA_F_NR].id = SOFTDMA_F_NR;
		debugfs_create_file("fail_mode", 0600, sc->dbg,
				    &sc->files[SOFTDMA_F_NR],
				    &softdma_fail_mode_fops);
		debugfs_create_file("residue", 0400, sc->dbg, NULL,
				    &softdma_residue_fops);
		debugfs_create_file("profile", 0400, sc->dbg, NULL,
				    &softdma_profile_fops);
		debugfs_create_file("engine", 0400, sc->dbg, NULL,
				    &softdma_engine_fops);
	}
}

/**
 * softdma_debugfs_remove() - remove what softdma_debugfs_add() created
 * @sdev: the controller
 *
 * Context: process context (remove), may sleep.
 */
void softdma_debugfs_remove(struct softdma_dev *sdev)
{
	unsigned int i;

	for (i = 0; i < sdev->nr_chans; i++)
		debugfs_remove_recursive(sdev->chans[i].dbg);
}

