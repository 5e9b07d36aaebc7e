// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_port_host.c - the port layer as the host's creator sees it: claim
 * the DMA channels and set up the DMA contexts, queuecommand, the counters
 * and the test knob in debugfs, poll queues. The top of the port's stack: it
 * calls dmahba_port_dma.c and dmahba_port.c, nothing calls it but the host
 * (dmahba_main.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/debugfs.h>
#include <linux/dmaengine.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_host.h>

#include "dmahba_port_priv.h"

/**
 * dmahba_port_queuecommand() - the host's queuecommand: queue for StartIo
 * @shost: the host
 * @scmd: the command
 *
 * The command waits on its hardware queue's DMA context until the miniport
 * takes it; if the miniport has said NextRequest, this CPU starts it.
 * It never sleeps and never allocates.
 *
 * Context: blk-mq dispatch, may be atomic.
 * Return: 0.
 */
int dmahba_port_queuecommand(struct Scsi_Host *shost, struct scsi_cmnd *scmd)
{
	struct dmahba_port *port = shost_to_port(shost);
	struct dmahba_port_req *req = scsi_cmd_priv(scmd);
	struct dmahba_port_queue *q;
	unsigned long flags;

	req->scmd = scmd;
	req->tag = blk_mq_unique_tag(scsi_cmd_to_rq(scmd));
	req->nsg = 0;
	req->flags = DMAHBA_PORT_REQ_PENDING;
	q = req_to_queue(port, req);

	/*
	 * With bottom halves off, a channel that runs its engine or its
	 * callbacks in softirq context does so on this CPU as soon as they
	 * are enabled again, rather than in a thread woken for it.
	 */
	local_bh_disable();
	spin_lock_irqsave(&q->lock, flags);
	list_add_tail(&req->node, &q->pending);
	dmahba_port_run(q);
	dmahba_port_unlock_bh(q, flags);
	return 0;
}

static bool dmahba_port_filter(struct dma_chan *chan, void *param)
{
	const char *const *want = param;	/* { channel, driver, device } */
	struct device *dev = chan->device->dev;

	if (want[0] && want[0][0])
		return !strcmp(dma_chan_name(chan), want[0]);
	if (want[2] && dev != (struct device *)want[2])
		return false;
	return dev->driver && !strcmp(dev->driver->name, want[1]);
}

/**
 * dmahba_port_set_poll_queues() - make the last DMA contexts poll queues
 * @port: the port, its host not yet added
 * @n: how many; 0 for none. At least one context must stay a default
 *	(interrupt-driven) one.
 *
 * Sets the host's nr_maps: 3 (default, read, poll) with poll queues, else 1.
 * Windows of a poll queue ask the channel for no interrupt and no callback;
 * blk-mq polls them through dmahba_port_mq_poll().
 *
 * Context: process context, before scsi_add_host().
 * Return: 0, or -EINVAL if @n leaves no default queue.
 */
int dmahba_port_set_poll_queues(struct dmahba_port *port, unsigned int n)
{
	unsigned int i;

	if (n && n >= port->nr_queues)
		return -EINVAL;
	port->poll_queues = n;
	for (i = 0; i < port->nr_queues; i++)
		port->queues[i]->poll = i >= port->nr_queues - n;
	port->shost->nr_maps = n ? HCTX_MAX_TYPES : 1;
	return 0;
}

/**
 * dmahba_port_map_queues() - map_queues of the host template
 * @shost: the host
 *
 * Default map: the interrupt-driven contexts, from 0. Read map: none of its
 * own (reads use the default queues). Poll map: the poll queues, after them.
 *
 * Context: process context, when the tag set's maps are (re)built.
 */
void dmahba_port_map_queues(struct Scsi_Host *shost)
{
	struct dmahba_port *port = shost_to_port(shost);
	struct blk_mq_tag_set *set = &shost->tag_set;
	struct blk_mq_queue_map *map = &set->map[HCTX_TYPE_DEFAULT];

	map->nr_queues = port->nr_queues - port->poll_queues;
	map->queue_offset = 0;
	blk_mq_map_queues(map);
	if (set->nr_maps <= HCTX_TYPE_POLL)
		return;
	set->map[HCTX_TYPE_READ].nr_queues = 0;
	map = &set->map[HCTX_TYPE_POLL];
	map->nr_queues = port->poll_queues;
	map->queue_offset = port->nr_queues - port->poll_queues;
	if (map->nr_queues)
		blk_mq_map_queues(map);
}

/**
 * dmahba_port_mq_poll() - mq_poll of the host template
 * @shost: the host
 * @queue_num: the hardware queue blk-mq polls
 *
 * Context: blk-mq polling, process context.
 * Return: the number of commands completed.
 */
int dmahba_port_mq_poll(struct Scsi_Host *shost, unsigned int queue_num)
{
	struct dmahba_port *port = shost_to_port(shost);

	if (queue_num >= port->nr_queues || !port->queues[queue_num]->poll)
		return 0;
	return dmahba_port_poll(port->queues[queue_num]);
}

/**
 * dmahba_port_cmd_size() - per-command area the host template must ask for
 * @mp: the miniport
 *
 * Context: any.
 * Return: size in bytes: the port's request and the miniport's extension.
 */
size_t dmahba_port_cmd_size(const struct dmahba_port_miniport *mp)
{
	return sizeof(struct dmahba_port_req) + mp->req_size;
}

/**
 * dmahba_port_create() - claim DMA channels and set up the DMA contexts
 * @shost: the host the port serves; shost_priv(shost) must begin with a
 *	pointer the caller sets to the returned port
 * @mp: the miniport
 * @channel: the name of the one channel to use ("dma0chan1"), or NULL
 * @driver: without @channel: the DMA driver whose channels to use
 * @nr_queues: how many channels (DMA contexts) to claim, at least one
 *
 * All channels are taken from the DMA device of the first one, through the
 * public dmaengine API only, and must offer DMA_MEMCPY. Fewer than
 * @nr_queues is fine as long as there is one; the host's nr_hw_queues is
 * set to the number claimed.
 *
 * Context: process context, may sleep.
 * Return: the port, or an ERR_PTR: -ENODEV without a usable channel.
 */
struct dmahba_port *dmahba_port_create(struct Scsi_Host *shost,
				       const struct dmahba_port_miniport *mp,
				       const char *channel, const char *driver,
				       unsigned int nr_queues)
{
	const char *want[3] = { channel, driver, NULL };
	struct dmahba_port_queue *q;
	struct dmahba_port *port;
	struct dma_chan *chan;
	dma_cap_mask_t mask;
	unsigned int i;

	if (channel && channel[0])
		nr_queues = 1;
	port = kzalloc(struct_size(port, queues, nr_queues), GFP_KERNEL);
	if (!port)
		return ERR_PTR(-ENOMEM);
	port->shost = shost;
	port->mp = mp;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	for (i = 0; i < nr_queues; i++) {
		chan = dma_request_channel(mask, dmahba_port_filter, want);
		if (!chan)
			break;
		q = kzalloc(struct_size(q, hw, DIV_ROUND_UP(mp->hw_size, sizeof(u64))),
			    GFP_KERNEL);
		if (!q) {
			dma_release_channel(chan);
			break;
		}
		if (!port->dma_dev) {
			port->dma_dev = dmaengine_get_dma_device(chan);
			want[2] = (const char *)chan->device->dev;
			/* the same DMA device: the same constraints */
			port->align = 1U << min_t(unsigned int, chan->device->copy_align, 31);
			port->max_seg = dma_get_max_seg_size(port->dma_dev);
		}
		dmahba_port_queue_init(q, port, chan, i);
		port->queues[i] = q;
		port->nr_queues++;
	}
	if (!port->nr_queues) {
		kfree(port);
		if (channel && channel[0])
			pr_err("DMA channel %s not found or busy, or it cannot do memcpy\n",
			       channel);
		else
			pr_err("no free memcpy-capable DMA channel of driver \"%s\" (load it first: modprobe %s)\n",
			       driver, driver);
		return ERR_PTR(-ENODEV);
	}
	shost->nr_hw_queues = port->nr_queues;
	/*
	 * The midlayer sets the DMA device's max segment size to the queue's
	 * (__scsi_init_queue()): read it once, before that, and give the
	 * block layer no larger segments than the channel takes.
	 */
	port->max_seg = rounddown(port->max_seg, port->align);
	if (port->max_seg >= PAGE_SIZE)
		shost->max_segment_size = min(shost->max_segment_size,
					      port->max_seg);
	return port;
}

/**
 * dmahba_port_constraints() - what the port's channels need of a transfer
 * @port: the port
 * @max_seg: gets the bytes one descriptor may carry (windows are split)
 * @align: gets the alignment the channels need of a memcpy's addresses and
 *	length, a power of two (1: none)
 *
 * For the host's creator: to refuse a channel that cannot carry a logical
 * block, and to tell the block layer the alignment (compat_set_dma_alignment()).
 *
 * Context: any.
 */
void dmahba_port_constraints(struct dmahba_port *port, u32 *max_seg, u32 *align)
{
	*max_seg = port->max_seg;
	*align = port->align;
}

/**
 * dmahba_port_destroy() - quiesce a port and release its channels
 * @port: the port; its host has been removed, so no command is left
 *
 * In this order, so that a late completion finds nothing freed: first every
 * context is marked dying (its lock no longer queues the sync work); then
 * each channel is terminated and synchronized, after which no callback of
 * it runs or will run; then the contexts' work items are cancelled (nothing
 * can queue them any more) and a return to the midlayer still running on
 * another CPU is waited for. Only then are the channels released and the
 * contexts freed. The caller frees what the windows pointed at (the LUs'
 * stores) after this.
 *
 * Context: process context, may sleep.
 */
void dmahba_port_destroy(struct dmahba_port *port)
{
	struct dmahba_port_queue *q;
	unsigned int i;

	for (i = 0; i < port->nr_queues; i++) {
		q = port->queues[i];
		spin_lock_irq(&q->lock);
		q->dying = true;
		WARN_ON_ONCE(q->win.mapped || !list_empty(&q->pending) ||
			     !list_empty(&q->active) || !list_empty(&q->done));
		spin_unlock_irq(&q->lock);
	}
	for (i = 0; i < port->nr_queues; i++) {
		q = port->queues[i];
		dmaengine_terminate_sync(q->chan);
		cancel_delayed_work_sync(&q->start_work);
		cancel_work_sync(&q->sync_work);
		dmahba_port_wait_midlayer(q);
	}
	for (i = 0; i < port->nr_queues; i++) {
		q = port->queues[i];
		dma_release_channel(q->chan);
		kfree(q);
	}
	kfree(port);
}

/**
 * dmahba_port_device() - the DMA controller's device of a port
 * @port: the port
 *
 * Context: any.
 * Return: the device buffers are mapped against.
 */
struct device *dmahba_port_device(struct dmahba_port *port)
{
	return port->dma_dev;
}

/**
 * dmahba_port_nr_queues() - number of DMA contexts of a port
 * @port: the port
 *
 * Context: any.
 * Return: the number of channels claimed.
 */
unsigned int dmahba_port_nr_queues(struct dmahba_port *port)
{
	return port->nr_queues;
}

/**
 * dmahba_port_hw() - a DMA context's device extension
 * @port: the port
 * @i: the context's index
 *
 * For the host's creator, to initialise the extensions before the host is
 * added.
 *
 * Context: any.
 * Return: the miniport's device extension of context @i.
 */
void *dmahba_port_hw(struct dmahba_port *port, unsigned int i)
{
	return port->queues[i]->hw;
}

/**
 * dmahba_port_chan_name() - name of a DMA context's channel
 * @port: the port
 * @i: the context's index
 *
 * Context: any.
 * Return: the channel's name, such as "dma0chan1".
 */
const char *dmahba_port_chan_name(struct dmahba_port *port, unsigned int i)
{
	return dma_chan_name(port->queues[i]->chan);
}

/**
 * dmahba_port_stats_show() - the DMA contexts' counters, one line each
 * @port: the port
 * @m: the seq_file of a debugfs "stats" file; a header line comes first
 *
 * Context: process context; takes each queue's lock in turn.
 */
void dmahba_port_stats_show(struct dmahba_port *port, struct seq_file *m)
{
	struct dmahba_port_stats st;
	unsigned long flags;
	unsigned int i;

	seq_puts(m, "queue channel requests windows bytes cancels dma_errors map_errors aborts resets polled descs ring_full\n");
	for (i = 0; i < port->nr_queues; i++) {
		struct dmahba_port_queue *q = port->queues[i];

		spin_lock_irqsave(&q->lock, flags);
		st = q->stats;
		spin_unlock_irqrestore(&q->lock, flags);
		seq_printf(m, "%u %s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n",
			   i, dma_chan_name(q->chan), st.requests, st.windows,
			   st.bytes, st.cancels, st.dma_errors, st.map_errors,
			   st.aborts, st.resets, st.polled, st.descs, st.ring_full);
	}
}

/*
 * Test knob, debugfs dma_started_hold_ms: hold back the DmaStarted of the
 * next window mapped on any of the port's DMA contexts by this many
 * milliseconds, 1 to 60000; 0 disarms; reads 0 once a window took it.
 *
 * Models a slow grant of the system DMA controller: the window is mapped
 * and its transfer may even end, but the miniport hears neither until
 * DmaStarted, so an abort or reset meanwhile cancels the window before
 * DmaStarted (FlushDma's early cancel path), after which the held
 * DmaStarted is not delivered. One-shot.
 */
static int dmahba_port_hold_set(void *data, u64 ms)
{
	struct dmahba_port *port = data;

	if (ms > 60000)
		return -EINVAL;
	WRITE_ONCE(port->hold_ms, ms);
	return 0;
}

static int dmahba_port_hold_get(void *data, u64 *ms)
{
	struct dmahba_port *port = data;

	*ms = READ_ONCE(port->hold_ms);	/* 0 once a window took it */
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmahba_port_hold_fops, dmahba_port_hold_get,
			 dmahba_port_hold_set, "%llu\n");

/**
 * dmahba_port_debugfs_init() - the port's debugfs files
 * @port: the port
 * @dir: the host's debugfs directory
 *
 * dma_started_hold_ms: the test knob above.
 *
 * Context: process context.
 */
void dmahba_port_debugfs_init(struct dmahba_port *port, struct dentry *dir)
{
	debugfs_create_file_unsafe("dma_started_hold_ms", 0600, dir, port,
				   &dmahba_port_hold_fops);
}
