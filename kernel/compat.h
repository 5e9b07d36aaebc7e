/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel API difference between the kernels dmahba and
 * softdma are built for (Debian 6.1, 6.12, 7.2), each behind one helper.
 *
 * Call sites never test a kernel version; they use the helpers below.
 * A feature test is preferred to a version test where one exists (sparse
 * does not understand __has_include, so header moves are version tests).
 */
#ifndef DMAHBA_COMPAT_H
#define DMAHBA_COMPAT_H

#include <linux/version.h>

/*
 * <asm/unaligned.h> moved to <linux/unaligned.h> in v6.12
 * (commit 5f60d5f6bbc1 "move asm/unaligned.h to linux/unaligned.h").
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * struct platform_driver::remove returns void since v6.11 (commit
 * 0edb555a65d1 "platform: Make platform_driver::remove() return void").
 * A driver writes a void remove function @fn and defines the callback for
 * .remove with COMPAT_DEFINE_PLATFORM_REMOVE(name, fn).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define COMPAT_DEFINE_PLATFORM_REMOVE(name, fn)				\
static void name(struct platform_device *pdev)				\
{									\
	fn(pdev);							\
}
#else
#define COMPAT_DEFINE_PLATFORM_REMOVE(name, fn)				\
static int name(struct platform_device *pdev)				\
{									\
	fn(pdev);							\
	return 0;							\
}
#endif

/*
 * queuecommand returns enum scsi_qc_status in 7.x, where the
 * SCSI_MLQUEUE_* values became that enum's members; before, it returned
 * int and they were macros. Feature test: the macro exists or not.
 */
#include <scsi/scsi.h>
#ifdef SCSI_MLQUEUE_HOST_BUSY
typedef int dmahba_qc_status_t;
#else
typedef enum scsi_qc_status dmahba_qc_status_t;
#endif

/*
 * A per-CPU workqueue names itself with WQ_PERCPU since v6.17 (commit
 * 930c2ea566af "workqueue: Add new WQ_PERCPU flag"), and later kernels warn
 * when a workqueue has neither WQ_PERCPU nor WQ_UNBOUND. Before, per-CPU
 * was what no flag meant. (Debian's 6.12 carries the flag as a backport but
 * does not warn, so 0 is right there too.)
 */
#include <linux/workqueue.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define COMPAT_WQ_PERCPU	WQ_PERCPU
#else
#define COMPAT_WQ_PERCPU	0
#endif

/*
 * The alignment a host needs of the buffers (the block layer bounces a
 * buffer that does not have it): struct Scsi_Host gained dma_alignment
 * after v6.1 (present in 6.12 and 7.2), which the midlayer puts into each
 * queue's limits; on 6.1 the driver raises each device queue's alignment
 * from its slave_configure, which COMPAT_SHT_SLAVE_CONFIGURE() installs
 * only there. @mask is the alignment less one.
 */
#include <linux/blkdev.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
static inline void compat_shost_set_dma_alignment(struct Scsi_Host *shost,
						  unsigned int mask)
{
	shost->dma_alignment = max(shost->dma_alignment, mask);
}

static inline void compat_sdev_set_dma_alignment(struct scsi_device *sdev,
						 unsigned int mask)
{
}

#define COMPAT_SHT_SLAVE_CONFIGURE(fn)
#else
static inline void compat_shost_set_dma_alignment(struct Scsi_Host *shost,
						  unsigned int mask)
{
}

static inline void compat_sdev_set_dma_alignment(struct scsi_device *sdev,
						 unsigned int mask)
{
	blk_queue_update_dma_alignment(sdev->request_queue, mask);
}

#define COMPAT_SHT_SLAVE_CONFIGURE(fn)	.slave_configure = (fn),
#endif

#endif /* DMAHBA_COMPAT_H */
