// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_main.c - module parameters, and the SCSI hosts: a platform device
 * per host, whose driver's probe claims DMA channels through the port layer,
 * creates the logical units and registers the host against the DMA
 * controller's device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/platform_device.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>

#include "compat.h"
#include "dmahba.h"
#include "dmahba_port_host.h"
#include "dmahba_scsi.h"
#include "dmahba_store.h"

#define DMAHBA_NAME		"dmahba"
#define DMAHBA_MAX_HOSTS	16
#define DMAHBA_MAX_LUNS		256
#define DMAHBA_MAX_WINDOW_KB	4096	/* a command's area stays under 64 KiB */

static unsigned int dev_size_mb = 1024;
module_param(dev_size_mb, uint, 0444);
MODULE_PARM_DESC(dev_size_mb,
		 "Size of each logical unit in MiB; memory is used only for blocks written. Default: 1024");

static unsigned int sector_size = 512;
module_param(sector_size, uint, 0444);
MODULE_PARM_DESC(sector_size, "Logical block size in bytes: 512 or 4096. Default: 512");

static unsigned int num_luns = 1;
module_param(num_luns, uint, 0444);
MODULE_PARM_DESC(num_luns, "Logical units per host, 1 to 256. Default: 1");

static unsigned int num_hosts = 1;
module_param(num_hosts, uint, 0444);
MODULE_PARM_DESC(num_hosts, "SCSI hosts to create, 1 to 16. Default: 1");

static unsigned int can_queue = 64;
module_param(can_queue, uint, 0444);
MODULE_PARM_DESC(can_queue, "Commands queued per hardware queue, 1 to 4096. Default: 64");

static unsigned int max_sectors = 2048;
module_param(max_sectors, uint, 0444);
MODULE_PARM_DESC(max_sectors,
		 "Largest command, in 512-byte sectors, 8 to 65535. Default: 2048 (1 MiB)");

static unsigned int sg_tablesize = 256;
module_param(sg_tablesize, uint, 0444);
MODULE_PARM_DESC(sg_tablesize, "Scatter-gather entries per command, 1 to 2048. Default: 256");

static unsigned int max_window_kb = 1024;
module_param(max_window_kb, uint, 0444);
MODULE_PARM_DESC(max_window_kb,
		 "Largest IoMapTransfer window in KiB, 4 to 4096; larger data phases move in several windows. Default: 1024");

static unsigned int store_budget_mb;
module_param(store_budget_mb, uint, 0444);
MODULE_PARM_DESC(store_budget_mb,
		 "Memory all LUs' written blocks may take together, in MiB, 1 to the RAM size; a write beyond it fails with DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT. 0: the smaller of 1/4 of RAM and 1/2 of the memory available at load (reads back the value in effect). Default: 0");

static unsigned int nr_channels;
module_param(nr_channels, uint, 0444);
MODULE_PARM_DESC(nr_channels,
		 "DMA channels (and hardware queues) per host; 0 means one per online CPU, shared out between the hosts. Default: 0");

static char *channel = "";
module_param(channel, charp, 0444);
MODULE_PARM_DESC(channel,
		 "Name of the one DMA channel to use (e.g. dma0chan0); empty means channels of dma_driver. Default: empty");

static char *dma_driver = "softdma";
module_param(dma_driver, charp, 0444);
MODULE_PARM_DESC(dma_driver,
		 "Driver whose memcpy-capable DMA channels to use. Default: softdma");

static unsigned int poll_queues;
module_param(poll_queues, uint, 0444);
MODULE_PARM_DESC(poll_queues,
		 "Hardware queues per host that are polled (io_uring hipri, RWF_HIPRI): the last of its DMA channels, whose windows ask for no interrupt; at most the channels less one. Default: 0");

static struct dentry *dmahba_debugfs;
static struct platform_device *dmahba_pdevs[DMAHBA_MAX_HOSTS];
static struct dmahba_port_miniport dmahba_mp;

/**
 * dmahba_queuecommand() - queuecommand of the host template
 * @shost: the host
 * @scmd: the command
 *
 * Context: blk-mq dispatch, may be atomic; never sleeps.
 * Return: 0.
 */
static dmahba_qc_status_t dmahba_queuecommand(struct Scsi_Host *shost,
					      struct scsi_cmnd *scmd)
{
	return dmahba_port_queuecommand(shost, scmd);
}

/**
 * dmahba_eh_abort() - eh_abort_handler: cancel the command's window
 * @scmd: the command that timed out
 *
 * Context: SCSI error handler, process context, may sleep.
 * Return: SUCCESS, or FAILED (an injected abort-fails).
 */
static int dmahba_eh_abort(struct scsi_cmnd *scmd)
{
	return dmahba_port_eh_abort(scmd);
}

/**
 * dmahba_eh_device_reset() - eh_device_reset_handler: reset one LU
 * @scmd: a command of the LU
 *
 * Cancels what the LU has outstanding; its next command gets UNIT ATTENTION
 * 29/00.
 *
 * Context: SCSI error handler or reset ioctl, process context, may sleep.
 * Return: SUCCESS, or FAILED (an injected reset-fails=lun).
 */
static int dmahba_eh_device_reset(struct scsi_cmnd *scmd)
{
	return dmahba_port_eh_reset(scmd, DMAHBA_PORT_EH_LUN);
}

/**
 * dmahba_eh_target_reset() - eh_target_reset_handler
 * @scmd: a command of the target
 *
 * The mock HBA has one target on its bus: as the bus reset.
 *
 * Context: SCSI error handler or reset ioctl, process context, may sleep.
 * Return: SUCCESS, or FAILED (an injected reset-fails=target).
 */
static int dmahba_eh_target_reset(struct scsi_cmnd *scmd)
{
	return dmahba_port_eh_reset(scmd, DMAHBA_PORT_EH_TARGET);
}

/**
 * dmahba_eh_bus_reset() - eh_bus_reset_handler
 * @scmd: a command on the bus
 *
 * Cancels everything outstanding and reports a bus reset; every LU's next
 * command gets UNIT ATTENTION 29/00.
 *
 * Context: SCSI error handler or reset ioctl, process context, may sleep.
 * Return: SUCCESS, or FAILED (an injected reset-fails=bus).
 */
static int dmahba_eh_bus_reset(struct scsi_cmnd *scmd)
{
	return dmahba_port_eh_reset(scmd, DMAHBA_PORT_EH_BUS);
}

/**
 * dmahba_eh_host_reset() - eh_host_reset_handler
 * @scmd: a command of the host
 *
 * As the bus reset: the mock HBA has one bus.
 *
 * Context: SCSI error handler or reset ioctl, process context, may sleep.
 * Return: SUCCESS, or FAILED (an injected reset-fails=host).
 */
static int dmahba_eh_host_reset(struct scsi_cmnd *scmd)
{
	return dmahba_port_eh_reset(scmd, DMAHBA_PORT_EH_HOST);
}

/**
 * dmahba_init_cmd_priv() - init_cmd_priv: the per-command area, once
 * @shost: the host
 * @scmd: a command of its tag set
 *
 * Having it spares the midlayer zeroing the per-command area (several KiB
 * with the HBA-side segment array) for every command: the port and the
 * miniport set what they use when a command starts.
 *
 * Context: process context, when the tag set is allocated.
 * Return: 0.
 */
static int dmahba_init_cmd_priv(struct Scsi_Host *shost, struct scsi_cmnd *scmd)
{
	memset(scsi_cmd_priv(scmd), 0, shost->hostt->cmd_size);
	return 0;
}

/**
 * dmahba_slave_configure() - slave_configure (6.1 only): the queue's limits
 * @sdev: the device being configured
 *
 * Raises the queue's DMA alignment to what the host's channels need, so
 * that the block layer bounces a buffer without it. Later kernels take it
 * from the host (compat_shost_set_dma_alignment()).
 *
 * Context: process context, may sleep.
 * Return: 0.
 */
static int __maybe_unused dmahba_slave_configure(struct scsi_device *sdev)
{
	struct dmahba_host *h = shost_priv(sdev->host);
	u32 max_seg, align;

	dmahba_port_constraints(h->port, &max_seg, &align);
	compat_sdev_set_dma_alignment(sdev, align - 1);
	return 0;
}

static struct scsi_host_template dmahba_template = {
	.module = THIS_MODULE,
	.name = "dmahba: ScsiPort subordinate-DMA HBA over dmaengine",
	.proc_name = DMAHBA_NAME,
	.queuecommand = dmahba_queuecommand,
	.init_cmd_priv = dmahba_init_cmd_priv,
	.eh_abort_handler = dmahba_eh_abort,
	.eh_device_reset_handler = dmahba_eh_device_reset,
	.eh_target_reset_handler = dmahba_eh_target_reset,
	.eh_bus_reset_handler = dmahba_eh_bus_reset,
	.eh_host_reset_handler = dmahba_eh_host_reset,
	.map_queues = dmahba_port_map_queues,
	.mq_poll = dmahba_port_mq_poll,
	COMPAT_SHT_SLAVE_CONFIGURE(dmahba_slave_configure)
	.this_id = -1,
	.track_queue_depth = 1,
	/* a mock bus needs no settle time after a reset */
	.skip_settle_delay = 1,
};

/*
 * The thin stores' budget (shared by every LU of every host) and its use,
 * and how this host's requests fared when memory ran short.
 */
static void dmahba_stats_show_memory(struct seq_file *m, struct dmahba_host *h)
{
	struct dmahba_store_usage u;
	u64 retries, failed, r, f;
	unsigned int i;

	dmahba_store_get_usage(&u);
	seq_printf(m, "store used_pages %llu budget_pages %llu nospc %llu nomem %llu\n",
		   u.used_pages, u.budget_pages, u.nospc, u.nomem);
	retries = 0;
	failed = 0;
	for (i = 0; i < dmahba_port_nr_queues(h->port); i++) {
		dmahba_hba_get_stats(dmahba_port_hw(h->port, i), &r, &f);
		retries += r;
		failed += f;
	}
	seq_printf(m, "nomem retries %llu failed %llu\n", retries, failed);
}

static int dmahba_stats_show(struct seq_file *m, void *v)
{
	struct dmahba_host *h = m->private;
	unsigned int i;

	dmahba_port_stats_show(h->port, m);
	for (i = 0; i < h->nr_luns; i++)
		seq_printf(m, "lun%u store_pages %llu\n", i,
			   dmahba_store_pages(dmahba_scsi_lu_store(h->lus[i])));
	dmahba_stats_show_memory(m, h);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmahba_stats);

/* host<N>/lun<L>/: each LU's error injection files */
static void dmahba_debugfs_lus(struct dmahba_host *h)
{
	struct dentry *dir;
	char name[16];
	unsigned int i;

	for (i = 0; i < h->nr_luns; i++) {
		snprintf(name, sizeof(name), "lun%u", i);
		dir = debugfs_create_dir(name, h->debugfs);
		dmahba_scsi_lu_debugfs(h->lus[i], dir);
	}
}

static void dmahba_destroy_lus(struct dmahba_host *h)
{
	unsigned int i;

	for (i = 0; i < h->nr_luns; i++)
		if (h->lus[i])
			dmahba_scsi_lu_destroy(h->lus[i]);
	kfree(h->lus);
}

static int dmahba_probe(struct platform_device *pdev)
{
	struct dmahba_lu_params lp = {};
	struct Scsi_Host *shost;
	struct dmahba_host *h;
	u32 max_seg, align;
	unsigned int i;
	int err;

	shost = scsi_host_alloc(&dmahba_template, sizeof(*h));
	if (!shost)
		return -ENOMEM;
	h = shost_priv(shost);
	h->shost = shost;
	h->pdev = pdev;
	h->max_window = max_window_kb * 1024;
	h->max_segs = h->max_window / PAGE_SIZE + 1;

	/* by default the hosts share one channel per online CPU between them */
	h->port = dmahba_port_create(shost, &dmahba_mp, channel, dma_driver,
				     nr_channels ? nr_channels :
				     max(1U, num_online_cpus() / num_hosts));
	if (IS_ERR(h->port)) {
		err = PTR_ERR(h->port);
		goto err_put_host;
	}
	err = dmahba_port_set_poll_queues(h->port, poll_queues);
	if (err) {
		pr_err("poll_queues=%u: must be less than the %u DMA channel(s) of the host\n",
		       poll_queues, dmahba_port_nr_queues(h->port));
		goto err_destroy_port;
	}
	/* a descriptor carries a block; the block layer can meet the alignment */
	dmahba_port_constraints(h->port, &max_seg, &align);
	if (max_seg < sector_size || align > 512) {
		dev_err(&pdev->dev, "DMA channel %s cannot carry a %u-byte logical block: max segment size %u bytes (at least %u needed), copy alignment %u bytes (at most 512 tolerated)\n",
			dmahba_port_chan_name(h->port, 0), sector_size, max_seg,
			sector_size, align);
		err = -EINVAL;
		goto err_destroy_port;
	}
	compat_shost_set_dma_alignment(shost, align - 1);
	for (i = 0; i < dmahba_port_nr_queues(h->port); i++) {
		err = dmahba_hba_init(dmahba_port_hw(h->port, i), h);
		if (err)
			goto err_destroy_port;
	}

	shost->max_id = 1;
	shost->max_lun = num_luns;
	shost->max_channel = 0;
	shost->max_cmd_len = 16;
	shost->can_queue = can_queue;
	shost->cmd_per_lun = can_queue;
	shost->sg_tablesize = sg_tablesize;
	shost->max_sectors = max_sectors;
	shost->unique_id = pdev->id;

	h->lus = kcalloc(num_luns, sizeof(*h->lus), GFP_KERNEL);
	if (!h->lus) {
		err = -ENOMEM;
		goto err_destroy_port;
	}
	lp.dma_dev = dmahba_port_device(h->port);
	lp.size = (u64)dev_size_mb << 20;
	lp.block_size = sector_size;
	lp.max_xfer_blocks = max_sectors * 512 / sector_size;
	lp.host_no = shost->host_no;
	lp.nr_luns = num_luns;
	for (i = 0; i < num_luns; i++) {
		lp.lun = i;
		h->lus[i] = dmahba_scsi_lu_create(&lp);
		if (!h->lus[i]) {
			err = -ENOMEM;
			h->nr_luns = i;
			goto err_destroy_lus;
		}
	}
	h->nr_luns = num_luns;

	err = scsi_add_host_with_dma(shost, &pdev->dev, dmahba_port_device(h->port));
	if (err)
		goto err_destroy_lus;
	platform_set_drvdata(pdev, h);
	h->debugfs = debugfs_create_dir(dev_name(&shost->shost_gendev), dmahba_debugfs);
	debugfs_create_file("stats", 0400, h->debugfs, h, &dmahba_stats_fops);
	dmahba_port_debugfs_init(h->port, h->debugfs);
	dmahba_debugfs_lus(h);
	scsi_scan_host(shost);
	dev_info(&pdev->dev, "host%u: %u LU(s) of %u MiB, %u-byte blocks, %u DMA channel(s) from %s, %u polled\n",
		 shost->host_no, num_luns, dev_size_mb, sector_size,
		 dmahba_port_nr_queues(h->port), dmahba_port_chan_name(h->port, 0),
		 poll_queues);
	return 0;

err_destroy_lus:
	dmahba_destroy_lus(h);
err_destroy_port:
	dmahba_port_destroy(h->port);
err_put_host:
	scsi_host_put(shost);
	return err;
}

static void dmahba_remove(struct platform_device *pdev)
{
	struct dmahba_host *h = platform_get_drvdata(pdev);
	unsigned int i;

	debugfs_remove_recursive(h->debugfs);
	/* no injected rule holds or fails the last commands */
	for (i = 0; i < h->nr_luns; i++)
		dmahba_scsi_lu_disarm(h->lus[i]);
	scsi_remove_host(h->shost);
	/*
	 * The channels are terminated and synchronized and the port's work
	 * drained before the LUs go: a late callback or poll must not find
	 * its window's store freed.
	 */
	dmahba_port_destroy(h->port);
	dmahba_destroy_lus(h);
	scsi_host_put(h->shost);
}

COMPAT_DEFINE_PLATFORM_REMOVE(dmahba_platform_remove, dmahba_remove);

static struct platform_driver dmahba_driver = {
	.driver = {
		.name = DMAHBA_NAME,
	},
	.probe = dmahba_probe,
	.remove = dmahba_platform_remove,
};

/*
 * What the parameters make the module take up front: the per-command areas
 * of every hardware queue of every host must fit in 1/8 of RAM. The store
 * budget: 1 MiB to the RAM size; 0 picks the smaller of 1/4 of RAM and 1/2
 * of the memory available now, so that filling every LU can never take the
 * machine down.
 */
static int __init dmahba_check_memory(void)
{
	u64 ram_mb = (u64)totalram_pages() >> (20 - PAGE_SHIFT);
	unsigned int queues = nr_channels ? nr_channels :
			      max(1U, num_online_cpus() / num_hosts);
	u64 area_mb, avail_mb, cmd;

	cmd = sizeof(struct scsi_cmnd) + sizeof(struct dmahba_port_req) +
	      dmahba_hba_req_size(max_window_kb * 1024 / PAGE_SIZE + 1);
	area_mb = ((u64)num_hosts * queues * can_queue * cmd) >> 20;
	if (area_mb > ram_mb / 8) {
		pr_err("can_queue=%u max_window_kb=%u nr_channels=%u num_hosts=%u: command areas would take %llu MiB, more than 1/8 of %llu MiB of RAM\n",
		       can_queue, max_window_kb, nr_channels, num_hosts,
		       area_mb, ram_mb);
		return -EINVAL;
	}
	if (store_budget_mb > ram_mb) {
		pr_err("store_budget_mb=%u: must be 0 (default) or 1 to %llu (the RAM size in MiB)\n",
		       store_budget_mb, ram_mb);
		return -EINVAL;
	}
	if (!store_budget_mb) {
		avail_mb = (u64)si_mem_available() >> (20 - PAGE_SHIFT);
		store_budget_mb = max(1ULL, min(ram_mb / 4, avail_mb / 2));
	}
	return 0;
}

static int __init dmahba_check_params(void)
{
	if (sector_size != 512 && sector_size != 4096) {
		pr_err("sector_size=%u: must be 512 or 4096\n", sector_size);
		return -EINVAL;
	}
	if (!dev_size_mb || dev_size_mb > (1U << 30)) {
		pr_err("dev_size_mb=%u: must be 1 to %u\n", dev_size_mb, 1U << 30);
		return -EINVAL;
	}
	if (!num_luns || num_luns > DMAHBA_MAX_LUNS) {
		pr_err("num_luns=%u: must be 1 to %u\n", num_luns, DMAHBA_MAX_LUNS);
		return -EINVAL;
	}
	if (!num_hosts || num_hosts > DMAHBA_MAX_HOSTS) {
		pr_err("num_hosts=%u: must be 1 to %u\n", num_hosts, DMAHBA_MAX_HOSTS);
		return -EINVAL;
	}
	if (!can_queue || can_queue > 4096) {
		pr_err("can_queue=%u: must be 1 to 4096\n", can_queue);
		return -EINVAL;
	}
	if (max_sectors < 8 || max_sectors > 65535 ||
	    max_sectors % (sector_size / 512)) {
		pr_err("max_sectors=%u: must be 8 to 65535 and a whole number of %u-byte blocks\n",
		       max_sectors, sector_size);
		return -EINVAL;
	}
	if (!sg_tablesize || sg_tablesize > 2048) {
		pr_err("sg_tablesize=%u: must be 1 to 2048\n", sg_tablesize);
		return -EINVAL;
	}
	if (max_window_kb < 4 || max_window_kb > DMAHBA_MAX_WINDOW_KB ||
	    (max_window_kb * 1024) % sector_size) {
		pr_err("max_window_kb=%u: must be 4 to %u and a whole number of %u-byte blocks\n",
		       max_window_kb, DMAHBA_MAX_WINDOW_KB, sector_size);
		return -EINVAL;
	}
	if (nr_channels > 256) {
		pr_err("nr_channels=%u: must be 0 (one per CPU) to 256\n", nr_channels);
		return -EINVAL;
	}
	if (poll_queues && poll_queues >= (nr_channels ? nr_channels : 256)) {
		pr_err("poll_queues=%u: must be less than the DMA channels per host (nr_channels=%u)\n",
		       poll_queues, nr_channels);
		return -EINVAL;
	}
	return dmahba_check_memory();
}

static void dmahba_unregister_hosts(void)
{
	int i;

	for (i = DMAHBA_MAX_HOSTS - 1; i >= 0; i--) {
		if (dmahba_pdevs[i])
			platform_device_unregister(dmahba_pdevs[i]);
		dmahba_pdevs[i] = NULL;
	}
}

static int __init dmahba_init(void)
{
	unsigned int i;
	int err;

	err = dmahba_check_params();
	if (err)
		return err;
	dmahba_mp = dmahba_hba_miniport;
	dmahba_mp.req_size = dmahba_hba_req_size(max_window_kb * 1024 / PAGE_SIZE + 1);
	dmahba_template.cmd_size = dmahba_port_cmd_size(&dmahba_mp);
	dmahba_store_set_budget((u64)store_budget_mb << (20 - PAGE_SHIFT));
	pr_info("thin stores: %u MiB of memory for written blocks at most (store_budget_mb)\n",
		store_budget_mb);

	dmahba_debugfs = debugfs_create_dir(DMAHBA_NAME, NULL);
	err = platform_driver_register(&dmahba_driver);
	if (err)
		goto err_remove_debugfs;
	for (i = 0; i < num_hosts; i++) {
		dmahba_pdevs[i] = platform_device_register_simple(DMAHBA_NAME, i,
								  NULL, 0);
		if (IS_ERR(dmahba_pdevs[i])) {
			err = PTR_ERR(dmahba_pdevs[i]);
			dmahba_pdevs[i] = NULL;
			goto err_unregister_hosts;
		}
		/* probe runs at registration; no driver bound means it failed */
		if (!dmahba_pdevs[i]->dev.driver) {
			err = -ENODEV;
			goto err_unregister_hosts;
		}
	}
	return 0;

err_unregister_hosts:
	dmahba_unregister_hosts();
	platform_driver_unregister(&dmahba_driver);
err_remove_debugfs:
	debugfs_remove_recursive(dmahba_debugfs);
	return err;
}

static void __exit dmahba_exit(void)
{
	dmahba_unregister_hosts();
	platform_driver_unregister(&dmahba_driver);
	debugfs_remove_recursive(dmahba_debugfs);
}

module_init(dmahba_init);
module_exit(dmahba_exit);

MODULE_DESCRIPTION("SCSI host whose data moves as a ScsiPort subordinate-DMA miniport's, over dmaengine");
MODULE_AUTHOR("The dmahba developers");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: softdma");
