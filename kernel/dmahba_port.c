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
 * HBA side the miniport names; every descriptor has a callback, so that the
 * failure of any of them fails the window, and the last one's callback is
 * the HBA's interrupt, raised once ->dma_started() has armed the HBA.
 * Notifications are latched and acted upon when the miniport's callback
 * returns (dmahba_port_run()); the midlayer gets its commands back
 * (scsi_done()) outside the queue lock.
 *
 * Cancelling a window terminates the channel with dmaengine_terminate_async(),
 * which is allowed in atomic context; until dmaengine_synchronize() has run
 * (in process context: the error handler, or the queue's sync work), the
 * queue maps no window, starts no request and returns no command, because
 * the channel may still touch the memory of the cancelled descriptors.
 *
 * This file is the bottom of the port layer's stack: the run loop
 * (DmaStarted, the HBA's interrupt, StartIo), the cancel of a window, the
 * synchronization of a channel after one, and the return of commands to the
 * midlayer. It calls no other file of the port: the miniport's services
 * (IoMapTransfer, FlushDma, notifications) are in dmahba_port_dma.c, abort
 * and reset in dmahba_port_eh.c, setup and queuecommand in
 * dmahba_port_host.c, what they share in dmahba_port_priv.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_eh.h>
#include <scsi/scsi_host.h>

#include "dmahba_port_priv.h"
#include "dmahba_trace.h"

/*
 * Return completed requests to the midlayer. Called without the lock, with
 * @done claimed by dmahba_port_unlock_return() and q->returning raised.
 */
static void dmahba_port_return(struct dmahba_port_queue *q,
			       struct list_head *done)
{
	struct dmahba_port_req *req, *tmp;
	unsigned int mid;

	list_for_each_entry_safe(req, tmp, done, node) {
		list_del_init(&req->node);
		if (req->flags & DMAHBA_PORT_REQ_STARTED)
			q->port->mp->release(q->hw, req);
		if (req->nsg) {
			scsi_dma_unmap(req->scmd);
			req->nsg = 0;
		}
		/* decided under the lock; the error handler no longer changes it */
		mid = req->flags & DMAHBA_PORT_REQ_MIDLAYER;
		/*
		 * The error handler may take the command once this is seen;
		 * pairs with smp_load_acquire() in dmahba_port_wait_returned().
		 * Once scsi_done() ran, @req may be a new command: not touched.
		 */
		smp_store_release(&req->flags, DMAHBA_PORT_REQ_RETURNED | mid);
		if (mid)
			scsi_done(req->scmd);
	}
	/*
	 * Fully ordered: the scsi_done()s above come before the new count is
	 * seen (pairs with atomic_read_acquire() in
	 * dmahba_port_wait_midlayer()), and the new count before wake_up_var()
	 * looks for a waiter (the full barrier it asks of its caller, pairing
	 * with set_current_state() in the waiter's wait_var_event()).
	 * wake_up_var() only hashes the address: it does not read @q.
	 */
	if (atomic_dec_and_test(&q->returning))
		wake_up_var(&q->returning);
}

/*
 * Claim the done list for the return, under the lock: each request not
 * taken by the error handler (DMAHBA_PORT_REQ_EH) is marked for scsi_done()
 * (DMAHBA_PORT_REQ_MIDLAYER), and from then on the error handler does not
 * take it but waits for the return (dmahba_port_wait_midlayer()). Exactly
 * one of the two returns a command.
 */
static void dmahba_port_unlock_return(struct dmahba_port_queue *q,
				      unsigned long flags, bool bh)
	__releases(&q->lock)
{
	struct dmahba_port_req *req;
	LIST_HEAD(done);

	if (!q->sync_needed) {
		list_for_each_entry(req, &q->done, node)
			if (!(req->flags & DMAHBA_PORT_REQ_EH))
				req->flags |= DMAHBA_PORT_REQ_MIDLAYER;
		list_splice_init(&q->done, &done);
	} else if (!q->dying) {
		queue_work(system_highpri_wq, &q->sync_work);
	}
	if (!list_empty(&done))
		atomic_inc(&q->returning);
	spin_unlock_irqrestore(&q->lock, flags);
	if (bh)
		local_bh_enable();
	if (!list_empty(&done))
		dmahba_port_return(q, &done);
}

/**
 * dmahba_port_unlock() - drop a context's lock and return what completed
 * @q: the DMA context, its lock held
 * @flags: as saved by spin_lock_irqsave()
 *
 * The completed requests go back to the midlayer (scsi_done()) after the
 * lock is dropped, unless the channel still has to be synchronized: then
 * the sync work returns them. Who returns a completed command is decided
 * under the lock: a command the error handler took (its abort found it
 * completed) is left to it and gets no scsi_done(); any other is marked
 * for scsi_done() before the lock is dropped, and the error handler then
 * waits for that scsi_done() (dmahba_port_wait_midlayer()) instead of
 * taking it. So no scsi_done() can come after the error handler has
 * returned a command, however the two race.
 *
 * Context: any context; called with @q->lock held, returns without it.
 */
void dmahba_port_unlock(struct dmahba_port_queue *q, unsigned long flags)
	__releases(&q->lock)
{
	dmahba_port_unlock_return(q, flags, false);
}

/**
 * dmahba_port_unlock_bh() - dmahba_port_unlock() after local_bh_disable()
 * @q: the DMA context, its lock held
 * @flags: as saved by spin_lock_irqsave()
 *
 * As dmahba_port_unlock(), but enables bottom halves again before the
 * completed requests are returned, so that a command completed from task
 * context (blk-mq polling, the error handler) completes there: a polled
 * request's bio may be put back into a per-CPU cache only in task context.
 *
 * Context: task context, bottom halves disabled once by the caller;
 * called with @q->lock held, returns without it and with them enabled.
 */
void dmahba_port_unlock_bh(struct dmahba_port_queue *q, unsigned long flags)
	__releases(&q->lock)
{
	dmahba_port_unlock_return(q, flags, true);
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
			if (hold && !q->dying) {
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
				dmahba_port_complete(q, req);
				q->ready = true;
			}
			continue;
		}
		break;
	}
}

/**
 * dmahba_port_complete() - what RequestComplete does
 * @q: the DMA context
 * @req: an active request, its scmd->result set
 *
 * The request goes on the done list; it is returned to the midlayer when
 * the lock is dropped (dmahba_port_unlock()).
 *
 * Context: @q->lock held, interrupts off.
 */
void dmahba_port_complete(struct dmahba_port_queue *q, struct dmahba_port_req *req)
{
	lockdep_assert_held(&q->lock);
	trace_notification(req->tag, DMAHBA_NOTIFY_REQUEST_COMPLETE,
			   req->scmd->result);
	if (WARN_ON_ONCE(req_state(req) != DMAHBA_PORT_REQ_ACTIVE &&
			 req_state(req) != DMAHBA_PORT_REQ_PENDING))
		return;
	if (WARN_ON_ONCE(q->win.mapped && q->win.req == req))
		dmahba_port_cancel_window(q); /* completed before FlushDma */
	list_move_tail(&req->node, &q->done);
	req_set_state(req, DMAHBA_PORT_REQ_DONE);
}

/**
 * dmahba_port_cancel_window() - cancel the window in flight
 * @q: the DMA context, with a window mapped
 *
 * Terminates the channel without waiting; the context maps no window and
 * returns no command until the channel has been synchronized
 * (dmahba_port_sync()).
 *
 * Context: @q->lock held, interrupts off.
 */
void dmahba_port_cancel_window(struct dmahba_port_queue *q)
{
	struct dmahba_port_window *w = &q->win;

	lockdep_assert_held(&q->lock);
	dmaengine_terminate_async(q->chan);
	q->sync_needed = true;
	w->mapped = false;
	w->start_latched = false;
	q->stats.cancels++;
	trace_flush_dma(w->req->tag, w->offset, w->length, false,
			w->dma_done ? w->residue : w->length);
}

/**
 * dmahba_port_sync() - after a cancel: wait for the channel, resume the queue
 * @q: the DMA context
 *
 * Context: process context, may sleep; without @q->lock.
 */
void dmahba_port_sync(struct dmahba_port_queue *q)
{
	unsigned long flags;

	dmaengine_synchronize(q->chan);
	/*
	 * With bottom halves off, a channel that runs its engine or its
	 * callbacks in softirq context does so on this CPU as soon as they
	 * are enabled again, rather than in a thread woken for it.
	 */
	local_bh_disable();
	spin_lock_irqsave(&q->lock, flags);
	q->sync_needed = false;
	dmahba_port_run(q);
	dmahba_port_unlock_bh(q, flags);
}

/* Synchronize a channel cancelled in atomic context (system_highpri_wq). */
static void dmahba_port_sync_work(struct work_struct *work)
{
	struct dmahba_port_queue *q = container_of(work, struct dmahba_port_queue,
						   sync_work);
	bool needed;

	spin_lock_irq(&q->lock);
	needed = q->sync_needed;
	spin_unlock_irq(&q->lock);
	if (needed)
		dmahba_port_sync(q);
}

/**
 * dmahba_port_wait_midlayer() - wait until no return to the midlayer runs
 * @q: the DMA context
 *
 * A return claimed under the lock before this is called has called its
 * scsi_done()s once this returns.
 *
 * Context: process context, may sleep.
 */
void dmahba_port_wait_midlayer(struct dmahba_port_queue *q)
{
	/* pairs with atomic_dec_and_test() and wake_up_var() in dmahba_port_return() */
	wait_var_event(&q->returning, !atomic_read_acquire(&q->returning));
}

/* A held-back DmaStarted is due, unless its window was cancelled meanwhile. */
static void dmahba_port_start_work(struct work_struct *work)
{
	struct dmahba_port_queue *q = container_of(to_delayed_work(work),
						   struct dmahba_port_queue,
						   start_work);
	struct dmahba_port_window *w = &q->win;
	unsigned long flags;

	local_bh_disable();	/* as in dmahba_port_sync() */
	spin_lock_irqsave(&q->lock, flags);
	if (w->start_held) {
		w->start_held = false;
		if (w->mapped && w->start_latched)
			dmahba_port_dma_started(q);
		if (!q->sync_needed)
			dmahba_port_run(q);
	}
	dmahba_port_unlock_bh(q, flags);
}

/**
 * dmahba_port_queue_init() - set up a DMA context
 * @q: the context, zeroed
 * @port: the port it belongs to
 * @chan: its channel
 * @index: its number, also the blk-mq hardware queue it serves
 *
 * Context: process context.
 */
void dmahba_port_queue_init(struct dmahba_port_queue *q, struct dmahba_port *port,
			    struct dma_chan *chan, unsigned int index)
{
	spin_lock_init(&q->lock);
	q->port = port;
	q->chan = chan;
	q->index = index;
	INIT_LIST_HEAD(&q->pending);
	INIT_LIST_HEAD(&q->active);
	INIT_LIST_HEAD(&q->done);
	atomic_set(&q->returning, 0);
	q->slave = dma_has_cap(DMA_SLAVE, chan->device->cap_mask);
	sg_init_table(q->sg, DMAHBA_PORT_SG_MAX);
	INIT_WORK(&q->sync_work, dmahba_port_sync_work);
	INIT_DELAYED_WORK(&q->start_work, dmahba_port_start_work);
	q->ready = true;
}
