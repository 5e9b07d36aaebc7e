// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_port.c - the port layer: ScsiPort's subordinate-DMA services on
 * top of the SCSI midlayer and the dmaengine client API.
 *
 * Each DMA context (queue) is one dmaengine channel, one blk-mq hardware
 * queue and one instance of the miniport's device extension. Requests wait
 * on the queue's pending list until the miniport has said NextRequest, and
 * are then handed to ->start_io(). A window (IoMapTransfer) becomes a chain
 * of memcpy descriptors between the request's mapped scatterlist and the
 * HBA side the miniport names; only the last descriptor asks for a callback,
 * and that callback is the HBA's interrupt, raised once ->dma_started() has
 * armed the HBA. Notifications are latched and acted upon when the
 * miniport's callback returns (dmahba_port_run()); the midlayer gets its
 * commands back (scsi_done()) outside the queue lock.
 *
 * Cancelling a window terminates the channel with dmaengine_terminate_async(),
 * which is allowed in atomic context; until dmaengine_synchronize() has run
 * (in process context: the error handler, or the queue's sync work), the
 * queue maps no window, starts no request and returns no command, because
 * the channel may still touch the memory of the cancelled descriptors.
 *
 * Which CPU starts a queue's requests is the port's handoff policy: the one
 * in queuecommand (the channel's engine and callbacks then run there too,
 * and a request usually completes before queuecommand returns), or the next
 * online CPU, kicked by an IPI whose tasklet calls dmahba_port_run(); there,
 * each completion starts the next pending request, so a submitter with many
 * requests in flight only queues them. With one request in flight at a time
 * that costs two wake-ups per request, so DMAHBA_PORT_HANDOFF_AUTO measures
 * both ways (dmahba_port_auto()) and keeps the faster.
 *
 * This file holds the requests' path through a context (queuecommand,
 * StartIo, notifications, return to the midlayer) and the port's setup;
 * IoMapTransfer and FlushDma are in dmahba_port_dma.c, the handoff policy in
 * dmahba_port_handoff.c, abort, reset and channel synchronization in
 * dmahba_port_eh.c, what they share in dmahba_port_priv.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/delay.h>
#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/workqueue.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_eh.h>
#include <scsi/scsi_host.h>

#include "dmahba_port_priv.h"
#include "dmahba_trace.h"

/* Return completed requests to the midlayer. Called without the lock. */
static void dmahba_port_return(struct dmahba_port_queue *q,
			       struct list_head *done)
{
	struct dmahba_port_req *req, *tmp;
	bool eh;

	list_for_each_entry_safe(req, tmp, done, node) {
		list_del_init(&req->node);
		if (req->flags & DMAHBA_PORT_REQ_STARTED)
			q->port->mp->release(q->hw, req);
		if (req->nsg) {
			scsi_dma_unmap(req->scmd);
			req->nsg = 0;
		}
		eh = req->flags & DMAHBA_PORT_REQ_EH;
		/*
		 * The error handler may take the command once this is seen;
		 * pairs with smp_load_acquire() in dmahba_port_wait_returned().
		 */
		smp_store_release(&req->flags, DMAHBA_PORT_REQ_RETURNED);
		if (!eh)
			scsi_done(req->scmd);
	}
}

/**
 * dmahba_port_unlock() - drop a context's lock and return what completed
 * @q: the DMA context, its lock held
 * @flags: as saved by spin_lock_irqsave()
 *
 * The completed requests go back to the midlayer (scsi_done()) after the
 * lock is dropped, unless the channel still has to be synchronized: then
 * the sync work returns them.
 *
 * Context: any context; called with @q->lock held, returns without it.
 */
void dmahba_port_unlock(struct dmahba_port_queue *q, unsigned long flags)
	__releases(&q->lock)
{
	LIST_HEAD(done);

	if (!q->sync_needed)
		list_splice_init(&q->done, &done);
	else
		queue_work(system_highpri_wq, &q->sync_work);
	spin_unlock_irqrestore(&q->lock, flags);
	dmahba_port_return(q, &done);
}

/* Deliver the DmaStarted latched for the window: the miniport arms the HBA. */
static void dmahba_port_dma_started(struct dmahba_port_queue *q)
{
	struct dmahba_port_window *w = &q->win;

	lockdep_assert_held(&q->lock);
	w->start_latched = false;
	trace_dma_started(w->req->tag, w->offset, w->length);
	q->port->mp->dma_started(q->hw);
	w->armed = true;
}

/**
 * dmahba_port_run() - act on what the miniport latched
 * @q: the DMA context
 *
 * Delivers a DmaStarted owed, the HBA's interrupt when the transfer is done
 * and the HBA armed, and StartIo when NextRequest is latched and requests
 * wait; until none of these is left.
 *
 * Context: @q->lock held, interrupts off; calls the miniport.
 */
void dmahba_port_run(struct dmahba_port_queue *q)
{
	const struct dmahba_port_miniport *mp = q->port->mp;
	struct dmahba_port_window *w = &q->win;
	struct dmahba_port_req *req;
	unsigned int hold;

	lockdep_assert_held(&q->lock);
	for (;;) {
		if (w->mapped && w->start_latched && !w->start_held) {
			hold = xchg(&q->port->hold_ms, 0);
			if (hold) {
				/* a slow adapter channel grant (test knob) */
				w->start_held = true;
				mod_delayed_work(system_wq, &q->start_work,
						 msecs_to_jiffies(hold));
				continue;
			}
			dmahba_port_dma_started(q);
			continue;
		}
		if (w->mapped && w->armed && w->dma_done) {
			mp->interrupt(q->hw);
			if (WARN_ON_ONCE(w->mapped && w->dma_done && w->armed))
				dmahba_port_cancel_window(q); /* no FlushDma */
			continue;
		}
		if (q->ready && !q->sync_needed && !list_empty(&q->pending)) {
			req = list_first_entry(&q->pending, struct dmahba_port_req,
					       node);
			list_move_tail(&req->node, &q->active);
			req_set_state(req, DMAHBA_PORT_REQ_ACTIVE);
			req->flags |= DMAHBA_PORT_REQ_STARTED;
			q->ready = false;
			q->stats.requests++;
			if (!mp->start_io(q->hw, req)) {
				req->scmd->result = DID_ERROR << 16;
				dmahba_port_notification(q->hw,
							 DMAHBA_NOTIFY_REQUEST_COMPLETE,
							 req);
				q->ready = true;
			}
			continue;
		}
		break;
	}
}

/**
 * dmahba_port_notification() - ScsiPortNotification
 * @hw: the miniport's device extension (the DMA context)
 * @type: what is notified
 * @req: REQUEST_COMPLETE: the request, its scmd->result set; otherwise the
 *	request the notification comes with, or NULL
 *
 * Latched: the port acts on it when the miniport's callback returns.
 *
 * Context: inside a miniport callback (queue lock held, atomic).
 */
void dmahba_port_notification(void *hw, enum dmahba_port_notification_type type,
			      struct dmahba_port_req *req)
{
	struct dmahba_port_queue *q = hw_to_queue(hw);
	struct Scsi_Host *shost = q->port->shost;

	lockdep_assert_held(&q->lock);
	trace_notification(req ? req->tag : U32_MAX, type,
			   req ? req->scmd->result : 0);
	switch (type) {
	case DMAHBA_NOTIFY_REQUEST_COMPLETE:
		if (WARN_ON_ONCE(!req || req_state(req) != DMAHBA_PORT_REQ_ACTIVE))
			return;
		if (WARN_ON_ONCE(q->win.mapped && q->win.req == req))
			dmahba_port_cancel_window(q); /* completed before FlushDma */
		list_move_tail(&req->node, &q->done);
		req_set_state(req, DMAHBA_PORT_REQ_DONE);
		break;
	case DMAHBA_NOTIFY_NEXT_REQUEST:
		q->ready = true;
		break;
	case DMAHBA_NOTIFY_RESET_DETECTED:
		spin_lock(shost->host_lock);
		scsi_report_bus_reset(shost, 0);
		spin_unlock(shost->host_lock);
		q->stats.resets++;
		break;
	}
}

/**
 * dmahba_port_complete_request() - ScsiPortCompleteRequest
 * @hw: the miniport's device extension (the DMA context)
 * @lun: complete the active requests of this LUN; U64_MAX for all
 * @host_byte: the status they complete with (DID_RESET, DID_ABORT, ...)
 *
 * The miniport must have flushed its window first. NextRequest is still
 * the miniport's to give.
 *
 * Context: inside a miniport callback (queue lock held, atomic).
 */
void dmahba_port_complete_request(void *hw, u64 lun, int host_byte)
{
	struct dmahba_port_queue *q = hw_to_queue(hw);
	struct dmahba_port_req *req, *tmp;

	lockdep_assert_held(&q->lock);
	list_for_each_entry_safe(req, tmp, &q->active, node) {
		if (lun != U64_MAX && req->scmd->device->lun != lun)
			continue;
		req->scmd->result = host_byte << 16;
		dmahba_port_notification(hw, DMAHBA_NOTIFY_REQUEST_COMPLETE, req);
	}
}

/**
 * dmahba_port_dma_device() - the device buffers are mapped against
 * @hw: the miniport's device extension (the DMA context)
 *
 * The miniport maps the HBA side of its windows for this device.
 *
 * Context: any.
 * Return: the DMA controller's device.
 */
struct device *dmahba_port_dma_device(void *hw)
{
	return hw_to_queue(hw)->port->dma_dev;
}

/**
 * dmahba_port_queue_index() - which DMA context a device extension is
 * @hw: the miniport's device extension
 *
 * Context: any.
 * Return: the context's index, from 0.
 */
unsigned int dmahba_port_queue_index(void *hw)
{
	return hw_to_queue(hw)->index;
}

/**
 * dmahba_port_queuecommand() - the host's queuecommand: queue for StartIo
 * @shost: the host
 * @scmd: the command
 *
 * The command waits on its hardware queue's DMA context until the miniport
 * takes it. It never sleeps and never allocates. Whether this CPU starts
 * it or another one does is the port's handoff policy
 * (dmahba_port_set_handoff()).
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
	bool kick;

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
	if (!dmahba_port_handing_off(q, &kick))
		dmahba_port_run(q);
	dmahba_port_unlock(q, flags);
	local_bh_enable();
	if (kick)
		dmahba_port_kick(q);
	return 0;
}

/* A held-back DmaStarted is due, unless its window was cancelled meanwhile. */
static void dmahba_port_start_work(struct work_struct *work)
{
	struct dmahba_port_queue *q = container_of(to_delayed_work(work),
						   struct dmahba_port_queue,
						   start_work);
	struct dmahba_port_window *w = &q->win;
	unsigned long flags;

	local_bh_disable();	/* as in dmahba_port_queuecommand() */
	spin_lock_irqsave(&q->lock, flags);
	if (w->start_held) {
		w->start_held = false;
		if (w->mapped && w->start_latched)
			dmahba_port_dma_started(q);
		if (!q->sync_needed)
			dmahba_port_run(q);
	}
	dmahba_port_unlock(q, flags);
	local_bh_enable();
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
	port->handoff = DMAHBA_PORT_HANDOFF_AUTO;

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
		}
		spin_lock_init(&q->lock);
		q->port = port;
		q->chan = chan;
		q->index = i;
		INIT_LIST_HEAD(&q->pending);
		INIT_LIST_HEAD(&q->active);
		INIT_LIST_HEAD(&q->done);
		q->slave = dma_has_cap(DMA_SLAVE, chan->device->cap_mask);
		sg_init_table(q->sg, DMAHBA_PORT_SG_MAX);
		INIT_WORK(&q->sync_work, dmahba_port_sync_work);
		INIT_DELAYED_WORK(&q->start_work, dmahba_port_start_work);
		INIT_CSD(&q->kick_csd, dmahba_port_kick_ipi, q);
		tasklet_setup(&q->run_tasklet, dmahba_port_run_tasklet);
		q->probe_every[0] = DMAHBA_PORT_PROBE_LOCAL;
		q->probe_every[1] = DMAHBA_PORT_PROBE_MIN;
		q->epoch_start = ktime_get_ns();
		q->ready = true;
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
	return port;
}

/**
 * dmahba_port_destroy() - release the channels of a port
 * @port: the port; its host has been removed, so no command is left
 *
 * Context: process context, may sleep.
 */
void dmahba_port_destroy(struct dmahba_port *port)
{
	unsigned int i;

	for (i = 0; i < port->nr_queues; i++) {
		struct dmahba_port_queue *q = port->queues[i];

		cancel_delayed_work_sync(&q->start_work);
		cancel_work_sync(&q->sync_work);
		/* a kick whose request the error handler took may be on its way */
		while (READ_ONCE(q->kicked))
			usleep_range(100, 1000);
		tasklet_kill(&q->run_tasklet);
		dmaengine_terminate_sync(q->chan);
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
 * dmahba_port_get_stats() - a DMA context's counters
 * @port: the port
 * @i: the context's index
 * @stats: where to copy them
 *
 * Context: any but hard interrupt; takes the queue lock.
 */
void dmahba_port_get_stats(struct dmahba_port *port, unsigned int i,
			   struct dmahba_port_stats *stats)
{
	struct dmahba_port_queue *q = port->queues[i];
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	*stats = q->stats;
	spin_unlock_irqrestore(&q->lock, flags);
}

/**
 * dmahba_port_hold_dma_started() - test knob: hold back one DmaStarted
 * @port: the port
 * @ms: how long the DmaStarted of the next window mapped on any of the
 *	port's DMA contexts is held back, 1 to 60000; 0 disarms
 *
 * Models a slow grant of the system DMA controller: the window is mapped
 * and its transfer may even end, but the miniport hears neither until
 * DmaStarted, so an abort or reset meanwhile cancels the window before
 * DmaStarted (FlushDma's early cancel path), after which the held
 * DmaStarted is not delivered. One-shot.
 *
 * Context: any.
 * Return: 0, or -EINVAL if @ms is out of range.
 */
int dmahba_port_hold_dma_started(struct dmahba_port *port, unsigned int ms)
{
	if (ms > 60000)
		return -EINVAL;
	WRITE_ONCE(port->hold_ms, ms);
	return 0;
}

/**
 * dmahba_port_dma_started_held() - the armed hold of dmahba_port_hold_dma_started()
 * @port: the port
 *
 * Context: any.
 * Return: the milliseconds still armed, 0 once a window took them.
 */
unsigned int dmahba_port_dma_started_held(struct dmahba_port *port)
{
	return READ_ONCE(port->hold_ms);
}

