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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/cpumask.h>
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

#include "dmahba_port.h"
#include "dmahba_trace.h"

/* Where a request is; kept in dmahba_port_req.flags */
enum dmahba_port_req_state {
	DMAHBA_PORT_REQ_PENDING = 1,	/* on ->pending, waiting for StartIo */
	DMAHBA_PORT_REQ_ACTIVE,		/* on ->active, owned by the miniport */
	DMAHBA_PORT_REQ_DONE,		/* on ->done or being returned */
	DMAHBA_PORT_REQ_RETURNED,	/* back with the midlayer */
};

/* flags bit: the error handler owns the command, scsi_done() must not run */
#define DMAHBA_PORT_REQ_EH	BIT(8)
/* flags bit: the miniport got the request (StartIo), so it releases it */
#define DMAHBA_PORT_REQ_STARTED	BIT(9)
#define DMAHBA_PORT_REQ_STATE	0xff

/* memory-side pieces one slave_sg descriptor of a window may take */
#define DMAHBA_PORT_SG_MAX	64

/*
 * DMAHBA_PORT_HANDOFF_AUTO measures how long each DMAHBA_PORT_EPOCH requests
 * take to arrive, on the CPU it is using; now and then it tries the other
 * way for an epoch and keeps it if that was clearly faster. After a change
 * it tries the other way again after DMAHBA_PORT_PROBE_MIN epochs, then
 * after twice as many each time the try loses, up to a limit per side: a
 * lost try of the other CPU costs a submitter that waits for each request
 * about four epochs' worth of time, so that is rarely done; a lost try of
 * the submitting CPU costs little (the requests queued meanwhile still run
 * on the other one), and it is what brings a context back when its
 * submitter stops queueing requests ahead. None of this while another
 * queue of the port has a submitter of its own (dmahba_port_others_busy()).
 */
#define DMAHBA_PORT_EPOCH		32
#define DMAHBA_PORT_PROBE_MIN		4
#define DMAHBA_PORT_PROBE_LOCAL		256	/* on the submitting CPU */
#define DMAHBA_PORT_PROBE_REMOTE	32	/* on the other one */
#define DMAHBA_PORT_BUSY_MS		20

/* a walk along the request's mapped scatterlist */
struct dmahba_port_cursor {
	struct scatterlist *sg;
	unsigned int nsg;	/* entries left, the current one included */
	dma_addr_t addr;
	u32 left;		/* bytes left in the current entry */
};

/**
 * struct dmahba_port_window - the one window in flight on a DMA context
 * @req: the request it belongs to
 * @offset: offset in the request's data buffer
 * @length: bytes
 * @mapped: descriptors submitted and not yet flushed
 * @start_latched: DmaStarted is owed to the miniport
 * @start_held: that DmaStarted is held back by the test knob (start_work)
 * @armed: DmaStarted ran: the HBA may interrupt
 * @dma_done: the channel's callback arrived with @result and @residue
 * @result: the transfer's dmaengine result
 * @residue: bytes not transferred, as the channel reported them
 */
struct dmahba_port_window {
	struct dmahba_port_req *req;
	u32 offset;
	u32 length;
	bool mapped;
	bool start_latched;
	bool start_held;
	bool armed;
	bool dma_done;
	enum dmaengine_tx_result result;
	u32 residue;
};

/**
 * struct dmahba_port_queue - one DMA context
 * @lock: protects every field below and serializes the miniport's callbacks
 *	for this context (the ScsiPort "interrupt spin lock")
 * @port: the port it belongs to
 * @chan: its channel
 * @index: its number, also the blk-mq hardware queue it serves
 * @pending: requests waiting for StartIo
 * @active: requests the miniport owns
 * @done: completed requests waiting to be returned to the midlayer
 * @ready: NextRequest latched: StartIo may be called
 * @sync_needed: the channel was terminated; synchronize before reuse
 * @win: the window in flight
 * @slave: the channel can do slave_sg: one descriptor per HBA segment
 * @sg: memory side of the slave_sg descriptor being prepared
 * @sync_work: synchronizes the channel when a cancel happened in atomic context
 * @start_work: delivers a DmaStarted held back by dmahba_port_hold_dma_started()
 * @remote: requests are started on another CPU (enum dmahba_port_handoff)
 * @kicked: @run_tasklet is due on that CPU and has not yet begun
 * @probing: DMAHBA_PORT_HANDOFF_AUTO is trying the other way this epoch
 * @epoch_n: requests queued in the current epoch
 * @epochs: epochs since the last probe
 * @probe_every: epochs between probes: [0] while local, [1] while @remote
 * @epoch_start: when the current epoch began (ktime_get_ns())
 * @epoch_ns: how long the last epoch took: [0] local, [1] remote
 * @last_arrival: jiffies of the last request queued (read without the lock
 *	by the port's other queues)
 * @kick_csd: the IPI that schedules @run_tasklet on the other CPU
 * @run_tasklet: starts the pending requests there (softirq context)
 * @stats: counters shown in debugfs
 * @hw: the miniport's device extension for this context
 */
struct dmahba_port_queue {
	spinlock_t lock; /* protects the queue, serializes miniport callbacks */
	struct dmahba_port *port;
	struct dma_chan *chan;
	unsigned int index;
	struct list_head pending;
	struct list_head active;
	struct list_head done;
	bool ready;
	bool sync_needed;
	struct dmahba_port_window win;
	bool slave;
	struct scatterlist sg[DMAHBA_PORT_SG_MAX];
	struct work_struct sync_work;
	struct delayed_work start_work;
	bool remote;
	bool kicked;
	bool probing;
	unsigned int epoch_n;
	unsigned int epochs;
	unsigned int probe_every[2];
	u64 epoch_start;
	u64 epoch_ns[2];
	unsigned long last_arrival;
	call_single_data_t kick_csd;
	struct tasklet_struct run_tasklet;
	struct dmahba_port_stats stats;
	u64 hw[];
};

/**
 * struct dmahba_port - the port of one SCSI host
 * @shost: the host
 * @mp: the miniport
 * @dma_dev: the DMA controller's device, against which buffers are mapped
 * @hold_ms: test knob: hold back the DmaStarted of the next window mapped
 *	by this many milliseconds (one-shot; 0 = off)
 * @handoff: enum dmahba_port_handoff: where requests are started
 * @nr_queues: number of DMA contexts
 * @queues: the DMA contexts
 */
struct dmahba_port {
	struct Scsi_Host *shost;
	const struct dmahba_port_miniport *mp;
	struct device *dma_dev;
	unsigned int hold_ms;
	unsigned int handoff;
	unsigned int nr_queues;
	struct dmahba_port_queue *queues[];
};

static struct dmahba_port_queue *hw_to_queue(void *hw)
{
	return container_of(hw, struct dmahba_port_queue, hw[0]);
}

static struct dmahba_port *shost_to_port(struct Scsi_Host *shost)
{
	return *(struct dmahba_port **)shost_priv(shost);
}

static struct dmahba_port_queue *req_to_queue(struct dmahba_port *port,
					      struct dmahba_port_req *req)
{
	return port->queues[blk_mq_unique_tag_to_hwq(req->tag) % port->nr_queues];
}

static void req_set_state(struct dmahba_port_req *req,
			  enum dmahba_port_req_state state)
{
	req->flags = (req->flags & ~DMAHBA_PORT_REQ_STATE) | state;
}

static enum dmahba_port_req_state req_state(struct dmahba_port_req *req)
{
	return req->flags & DMAHBA_PORT_REQ_STATE;
}

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

/*
 * Drop the lock, and return the completed requests unless the channel still
 * has to be synchronized (then the sync work returns them).
 */
static void dmahba_port_unlock(struct dmahba_port_queue *q, unsigned long flags)
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

static void dmahba_port_cancel_window(struct dmahba_port_queue *q)
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

/*
 * Act on what the miniport latched: DmaStarted owed, an HBA interrupt
 * (transfer done and HBA armed), NextRequest with requests waiting.
 */
static void dmahba_port_run(struct dmahba_port_queue *q)
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

static void dmahba_port_dma_done(void *param, const struct dmaengine_result *res)
{
	struct dmahba_port_queue *q = param;
	struct dmahba_port_window *w = &q->win;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	/* a late callback of a cancelled window finds it unmapped */
	if (w->mapped && !w->dma_done) {
		w->dma_done = true;
		w->result = res ? res->result : DMA_TRANS_NOERROR;
		w->residue = res ? res->residue : 0;
		dmahba_port_run(q);
	}
	dmahba_port_unlock(q, flags);
}

/* Move to the next entry if the current one is used up. */
static bool dmahba_port_cursor_fill(struct dmahba_port_cursor *c)
{
	if (c->left)
		return true;
	if (c->nsg <= 1)
		return false;
	c->nsg--;
	c->sg = sg_next(c->sg);
	c->addr = sg_dma_address(c->sg);
	c->left = sg_dma_len(c->sg);
	return true;
}

/*
 * The pieces of the buffer the next @len bytes lie in, into q->sg; the
 * cursor moves past them. False (cursor unmoved) if they are more than
 * DMAHBA_PORT_SG_MAX or the buffer ends first.
 */
static bool dmahba_port_gather(struct dmahba_port_queue *q,
			       struct dmahba_port_cursor *c, u32 len,
			       unsigned int *k)
{
	struct dmahba_port_cursor save = *c;
	unsigned int i = 0;
	u32 n;

	while (len) {
		if (i == DMAHBA_PORT_SG_MAX || !dmahba_port_cursor_fill(c)) {
			*c = save;
			return false;
		}
		n = min(c->left, len);
		sg_dma_address(&q->sg[i]) = c->addr;
		sg_dma_len(&q->sg[i]) = n;
		i++;
		c->addr += n;
		c->left -= n;
		len -= n;
	}
	*k = i;
	return true;
}

/* Submit @tx; the window's last descriptor carries the callback. */
static int dmahba_port_submit(struct dmahba_port_queue *q,
			      struct dma_async_tx_descriptor *tx, bool last)
{
	if (!tx)
		return -EIO;
	if (last) {
		tx->callback_result = dmahba_port_dma_done;
		tx->callback_param = q;
	}
	return dma_submit_error(dmaengine_submit(tx)) ? -EIO : 0;
}

static int dmahba_port_submit_memcpy(struct dmahba_port_queue *q,
				     dma_addr_t dst, dma_addr_t src, u32 len,
				     bool last)
{
	return dmahba_port_submit(q, dmaengine_prep_dma_memcpy(q->chan, dst, src, len,
							       DMA_CTRL_ACK |
							       (last ? DMA_PREP_INTERRUPT : 0)),
				  last);
}

/* One descriptor between q->sg[0..@k) and the HBA segment at @hba_addr. */
static int dmahba_port_submit_slave(struct dmahba_port_queue *q,
				    dma_addr_t hba_addr, unsigned int k,
				    bool to_hba, bool last)
{
	struct dma_slave_config cfg = { };

	if (to_hba) {
		cfg.dst_addr = hba_addr;
		cfg.dst_addr_width = DMA_SLAVE_BUSWIDTH_1_BYTE;
	} else {
		cfg.src_addr = hba_addr;
		cfg.src_addr_width = DMA_SLAVE_BUSWIDTH_1_BYTE;
	}
	if (dmaengine_slave_config(q->chan, &cfg))
		return -EIO;
	return dmahba_port_submit(q, dmaengine_prep_slave_sg(q->chan, q->sg, k,
							     to_hba ? DMA_MEM_TO_DEV :
								      DMA_DEV_TO_MEM,
							     DMA_CTRL_ACK |
							     (last ? DMA_PREP_INTERRUPT : 0)),
				  last);
}

/**
 * dmahba_port_io_map_transfer() - ScsiPortIoMapTransfer: program the channel
 * @hw: the miniport's device extension (the DMA context)
 * @req: the request whose buffer the window is part of
 * @offset: offset of the window in the request's data buffer
 * @length: bytes in the window
 * @hba: the HBA side of the window (its data port), @length bytes in all
 * @nhba: entries in @hba
 *
 * Maps the request's buffer for the DMA controller (once per request),
 * prepares and submits the descriptors that move the window between the
 * buffer and @hba in the request's data direction, and starts the channel.
 * DmaStarted follows once the miniport's callback has returned. Unlike
 * ScsiPort's, this can fail: the miniport then completes the request with
 * an error.
 *
 * Context: inside a miniport callback (queue lock held, atomic).
 * Return: 0; -EBUSY if a window is already in flight on this context;
 * -EINVAL for a window outside the buffer; -ENOMEM if the buffer cannot be
 * mapped; -EIO if the channel refused the descriptors.
 */
int dmahba_port_io_map_transfer(void *hw, struct dmahba_port_req *req,
				u32 offset, u32 length,
				const struct dmahba_seg *hba, unsigned int nhba)
{
	struct dmahba_port_queue *q = hw_to_queue(hw);
	struct dmahba_port_window *w = &q->win;
	struct scsi_cmnd *scmd = req->scmd;
	bool to_hba = scmd->sc_data_direction == DMA_TO_DEVICE;
	struct dmahba_port_cursor c;
	bool submitted = false;
	u32 left = length, skip = offset, hba_left, n;
	unsigned int h, k;
	dma_addr_t hba_addr;
	int nsg, err;

	lockdep_assert_held(&q->lock);
	if (WARN_ON_ONCE(w->mapped))
		return -EBUSY;	/* one window per DMA context */
	if (q->sync_needed)
		return -EIO;	/* the channel is being reset */
	if (!length || !nhba || offset > scsi_bufflen(scmd) ||
	    length > scsi_bufflen(scmd) - offset)
		return -EINVAL;
	if (scmd->sc_data_direction != DMA_TO_DEVICE &&
	    scmd->sc_data_direction != DMA_FROM_DEVICE)
		return -EINVAL;

	if (!req->nsg) {
		nsg = scsi_dma_map(scmd);
		if (nsg <= 0)
			return -ENOMEM;
		req->nsg = nsg;
	}

	/* find the mapped segment the window starts in */
	c.sg = scsi_sglist(scmd);
	c.nsg = req->nsg;
	while (c.sg && skip >= sg_dma_len(c.sg)) {
		skip -= sg_dma_len(c.sg);
		c.sg = --c.nsg ? sg_next(c.sg) : NULL;
	}
	if (!c.sg)
		return -EINVAL;
	c.addr = sg_dma_address(c.sg) + skip;
	c.left = sg_dma_len(c.sg) - skip;

	/*
	 * Per HBA segment: one slave_sg descriptor over the pieces of the
	 * buffer it meets (the HBA segment is the device side, its address
	 * increments), or one memcpy descriptor when it meets one piece or
	 * the channel has no slave_sg; only the last descriptor interrupts.
	 */
	for (h = 0; left; h++) {
		if (h == nhba)
			goto refused;
		hba_addr = hba[h].addr;
		hba_left = min(hba[h].len, left);
		left -= hba_left;
		if (q->slave && dmahba_port_gather(q, &c, hba_left, &k)) {
			dma_addr_t mem = sg_dma_address(&q->sg[0]);

			if (k == 1)
				err = dmahba_port_submit_memcpy(q, to_hba ? hba_addr : mem,
								to_hba ? mem : hba_addr,
								hba_left, !left);
			else
				err = dmahba_port_submit_slave(q, hba_addr, k,
							       to_hba, !left);
			if (err)
				goto refused;
			submitted = true;
			continue;
		}
		while (hba_left) {
			if (!dmahba_port_cursor_fill(&c))
				goto refused;
			n = min(c.left, hba_left);
			if (dmahba_port_submit_memcpy(q, to_hba ? hba_addr : c.addr,
						      to_hba ? c.addr : hba_addr,
						      n, !left && n == hba_left))
				goto refused;
			submitted = true;
			hba_left -= n;
			hba_addr += n;
			c.addr += n;
			c.left -= n;
		}
	}

	*w = (struct dmahba_port_window) {
		.req = req,
		.offset = offset,
		.length = length,
		.mapped = true,
		.start_latched = true,
	};
	q->stats.windows++;
	q->stats.bytes += length;
	trace_io_map_transfer(req->tag, offset, length);
	dma_async_issue_pending(q->chan);
	return 0;

refused:
	if (submitted) {
		dmaengine_terminate_async(q->chan);
		q->sync_needed = true;
	}
	q->stats.map_errors++;
	return -EIO;
}

/**
 * dmahba_port_flush_dma() - ScsiPortFlushDma: end or cancel the window
 * @hw: the miniport's device extension (the DMA context)
 *
 * After the transfer: ends the window. Before it ended, or before
 * DmaStarted armed the HBA (abort, reset, timeout): cancels it; DmaStarted
 * is then never called for it, and the port returns no command and maps no window until
 * the channel is synchronized. A transfer the channel failed also resets the
 * channel. Without a window in flight, does nothing.
 *
 * Context: inside a miniport callback (queue lock held, atomic).
 * Return: 0 if the window's data moved entirely (or there was no window),
 * -EIO if the channel failed the transfer, -ECANCELED if it was cancelled.
 */
int dmahba_port_flush_dma(void *hw)
{
	struct dmahba_port_queue *q = hw_to_queue(hw);
	struct dmahba_port_window *w = &q->win;

	lockdep_assert_held(&q->lock);
	if (!w->mapped)
		return 0;
	/* not ended, or ended before DmaStarted armed the HBA: a cancel */
	if (!w->dma_done || !w->armed) {
		dmahba_port_cancel_window(q);
		return -ECANCELED;
	}
	w->mapped = false;
	if (w->result != DMA_TRANS_NOERROR || w->residue) {
		/* the channel halted on the failure: reset it */
		q->stats.dma_errors++;
		dmahba_port_cancel_window(q);
		return -EIO;
	}
	trace_flush_dma(w->req->tag, w->offset, w->length, true, 0);
	return 0;
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

/* The other CPU's run_tasklet: start what is pending. Softirq context. */
static void dmahba_port_run_tasklet(struct tasklet_struct *t)
{
	struct dmahba_port_queue *q = from_tasklet(q, t, run_tasklet);
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	q->kicked = false;
	dmahba_port_run(q);
	dmahba_port_unlock(q, flags);
}

/* kick_csd's function: hard interrupt context, on the CPU kicked. */
static void dmahba_port_kick_ipi(void *info)
{
	struct dmahba_port_queue *q = info;

	tasklet_schedule(&q->run_tasklet);
}

/* Have the next online CPU after this one start the queue's requests. */
static void dmahba_port_kick(struct dmahba_port_queue *q)
{
	int cpu = get_cpu();

	cpu = cpumask_next(cpu, cpu_online_mask);
	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	if (cpu == smp_processor_id() ||
	    smp_call_function_single_async(cpu, &q->kick_csd))
		tasklet_schedule(&q->run_tasklet);	/* alone, or it went */
	put_cpu();
}

/*
 * Does another queue of the port have a submitter of its own (a request in
 * the last DMAHBA_PORT_BUSY_MS)? Then the other CPUs have their own work,
 * and moving this queue's there only takes their time: with two submitters
 * on two CPUs, each CPU best runs its own queue.
 */
static bool dmahba_port_others_busy(struct dmahba_port_queue *q)
{
	struct dmahba_port *port = q->port;
	unsigned int i;

	for (i = 0; i < port->nr_queues; i++)
		if (port->queues[i] != q &&
		    time_before(jiffies, READ_ONCE(port->queues[i]->last_arrival) +
				msecs_to_jiffies(DMAHBA_PORT_BUSY_MS) + 1))
			return true;
	return false;
}

/* DMAHBA_PORT_HANDOFF_AUTO: count a request; at the end of an epoch, choose. */
static void dmahba_port_auto(struct dmahba_port_queue *q)
{
	u64 now;

	lockdep_assert_held(&q->lock);
	WRITE_ONCE(q->last_arrival, jiffies);
	if (++q->epoch_n < DMAHBA_PORT_EPOCH)
		return;
	now = ktime_get_ns();
	q->epoch_ns[q->remote] = now - q->epoch_start;
	q->epoch_start = now;
	q->epoch_n = 0;
	if (dmahba_port_others_busy(q)) {
		/* stay on (or come back to) the submitting CPU, try later */
		q->remote = false;
		q->probing = false;
		q->epochs = 0;
		return;
	}
	if (q->probing) {
		q->probing = false;
		q->epochs = 0;
		/* keep the way tried only if it took at most 4/5 of the time */
		if (q->epoch_ns[q->remote] * 5 > q->epoch_ns[!q->remote] * 4) {
			q->remote = !q->remote;
			q->probe_every[q->remote] =
				min_t(unsigned int, 2 * q->probe_every[q->remote],
				      q->remote ? DMAHBA_PORT_PROBE_REMOTE :
						  DMAHBA_PORT_PROBE_LOCAL);
		} else {
			q->stats.switches++;
			q->probe_every[q->remote] = DMAHBA_PORT_PROBE_MIN;
		}
		return;
	}
	if (++q->epochs < q->probe_every[q->remote])
		return;
	q->epochs = 0;
	q->probing = true;
	q->remote = !q->remote;
	q->stats.probes++;
}

/*
 * Should the request just queued be started on another CPU? Decides, under
 * the queue lock, whether this CPU starts it (false), or it waits for
 * another CPU: *@kick tells whether that CPU has yet to be kicked.
 */
static bool dmahba_port_handing_off(struct dmahba_port_queue *q, bool *kick)
{
	unsigned int mode = READ_ONCE(q->port->handoff);

	lockdep_assert_held(&q->lock);
	*kick = false;
	if (mode == DMAHBA_PORT_HANDOFF_NEVER || num_online_cpus() < 2)
		q->remote = false;
	else if (mode == DMAHBA_PORT_HANDOFF_ALWAYS)
		q->remote = true;
	else
		dmahba_port_auto(q);
	if (!q->remote)
		return false;
	/* a busy context starts it when its request completes (NextRequest) */
	if (q->ready && !q->sync_needed && !q->kicked) {
		q->kicked = true;
		q->stats.handoffs++;
		*kick = true;
	}
	return true;
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

/* After a cancel: wait for the channel, then resume the queue. */
static void dmahba_port_sync(struct dmahba_port_queue *q)
{
	unsigned long flags;

	dmaengine_synchronize(q->chan);
	local_bh_disable();	/* as in dmahba_port_queuecommand() */
	spin_lock_irqsave(&q->lock, flags);
	q->sync_needed = false;
	dmahba_port_run(q);
	dmahba_port_unlock(q, flags);
	local_bh_enable();
}

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

/* Wait until a request being returned by another context is back. */
static void dmahba_port_wait_returned(struct dmahba_port_req *req)
{
	/* pairs with smp_store_release() in dmahba_port_return() */
	while ((smp_load_acquire(&req->flags) & DMAHBA_PORT_REQ_STATE) ==
	       DMAHBA_PORT_REQ_DONE)
		usleep_range(100, 200);
}

/**
 * dmahba_port_eh_abort() - the host's eh_abort_handler
 * @scmd: the command to abort
 *
 * A command still waiting for StartIo is simply dropped. An active one is
 * given to the miniport's ->abort(), which cancels its window (FlushDma)
 * whatever stage it is in and completes it; the channel is synchronized
 * before this returns, so nothing touches the command's memory afterwards.
 *
 * Context: process context (SCSI error handler), may sleep.
 * Return: SUCCESS: the command is no longer with the host.
 */
int dmahba_port_eh_abort(struct scsi_cmnd *scmd)
{
	struct dmahba_port *port = shost_to_port(scmd->device->host);
	struct dmahba_port_req *req = scsi_cmd_priv(scmd);
	struct dmahba_port_queue *q = req_to_queue(port, req);
	unsigned long flags;
	bool sync;

	spin_lock_irqsave(&q->lock, flags);
	switch (req_state(req)) {
	case DMAHBA_PORT_REQ_PENDING:
		list_del_init(&req->node);
		req_set_state(req, DMAHBA_PORT_REQ_RETURNED);
		break;
	case DMAHBA_PORT_REQ_ACTIVE:
		req->flags |= DMAHBA_PORT_REQ_EH;
		q->stats.aborts++;
		if (!port->mp->abort(q->hw, req)) {
			/* the miniport lost it: take it back all the same */
			dmahba_port_flush_dma(q->hw);
			req->scmd->result = DID_ABORT << 16;
			dmahba_port_notification(q->hw,
						 DMAHBA_NOTIFY_REQUEST_COMPLETE,
						 req);
			q->ready = true;
		}
		break;
	case DMAHBA_PORT_REQ_DONE:
		req->flags |= DMAHBA_PORT_REQ_EH;
		break;
	default:
		break;
	}
	sync = q->sync_needed;
	if (!sync)
		dmahba_port_run(q);
	dmahba_port_unlock(q, flags);
	if (sync)
		dmahba_port_sync(q);
	dmahba_port_wait_returned(req);
	return SUCCESS;
}

/**
 * dmahba_port_eh_reset() - device, target, bus and host reset
 * @shost: the host
 * @lun: the LUN to reset, or U64_MAX for every LUN
 *
 * On every DMA context: the miniport's ->reset_bus() cancels its window and
 * completes its active requests of @lun with a reset status; the port
 * completes those still waiting for StartIo with DID_RESET. Commands the
 * error handler owns are not returned to the midlayer twice.
 *
 * Context: process context (SCSI error handler or reset ioctl), may sleep.
 * Return: SUCCESS.
 */
int dmahba_port_eh_reset(struct Scsi_Host *shost, u64 lun)
{
	struct dmahba_port *port = shost_to_port(shost);
	struct dmahba_port_req *req, *tmp;
	struct dmahba_port_queue *q;
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < port->nr_queues; i++) {
		q = port->queues[i];
		spin_lock_irqsave(&q->lock, flags);
		port->mp->reset_bus(q->hw, lun);
		list_for_each_entry_safe(req, tmp, &q->pending, node) {
			if (lun != U64_MAX && req->scmd->device->lun != lun)
				continue;
			req->scmd->result = DID_RESET << 16;
			trace_notification(req->tag, DMAHBA_NOTIFY_REQUEST_COMPLETE,
					   req->scmd->result);
			list_move_tail(&req->node, &q->done);
			req_set_state(req, DMAHBA_PORT_REQ_DONE);
		}
		dmahba_port_unlock(q, flags);
		flush_work(&q->sync_work);
		dmahba_port_sync(q);
	}
	return SUCCESS;
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

/**
 * dmahba_port_set_handoff() - choose where requests are started
 * @port: the port
 * @mode: an enum dmahba_port_handoff
 *
 * May be changed at any time; requests already waiting are started where
 * the new policy says, at the latest when their context is next idle.
 *
 * Context: any.
 * Return: 0, or -EINVAL if @mode is not a known policy.
 */
int dmahba_port_set_handoff(struct dmahba_port *port, unsigned int mode)
{
	if (mode > DMAHBA_PORT_HANDOFF_AUTO)
		return -EINVAL;
	WRITE_ONCE(port->handoff, mode);
	return 0;
}

/**
 * dmahba_port_handoff() - the policy of dmahba_port_set_handoff()
 * @port: the port
 *
 * Context: any.
 * Return: the enum dmahba_port_handoff in force.
 */
unsigned int dmahba_port_handoff(struct dmahba_port *port)
{
	return READ_ONCE(port->handoff);
}
