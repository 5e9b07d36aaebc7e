// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_port_dma.c - the port layer's DMA services: IoMapTransfer turns a
 * window into descriptors on the context's channel, the channel's callback
 * is the HBA's interrupt, FlushDma ends or cancels the window; and the
 * other services a miniport calls (notifications, CompleteRequest). Above
 * dmahba_port.c, whose run loop and cancel it uses; below the error
 * handler (dmahba_port_eh.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dmaengine.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_eh.h>
#include <scsi/scsi_host.h>

#include "dmahba_port_priv.h"
#include "dmahba_trace.h"

/*
 * The window's transfer ended with @result and @residue: as the channel
 * reported its last descriptor (callback or poll), or DMA_TRANS_ABORTED
 * when dmahba_port_fill() could not go on. A descriptor before the last
 * that failed, or a failure injected (dmahba_port_fail_window()), makes
 * the whole window a failed one: none of it counts. Called with the queue
 * lock held.
 */
static void dmahba_port_window_end(struct dmahba_port_queue *q,
				   enum dmaengine_tx_result result, u32 residue)
{
	struct dmahba_port_window *w = &q->win;

	w->dma_done = true;
	w->result = result;
	w->residue = residue;
	if (w->desc_result != DMA_TRANS_NOERROR || unlikely(w->fail)) {
		w->result = w->desc_result != DMA_TRANS_NOERROR ?
			    w->desc_result : DMA_TRANS_ABORTED;
		w->residue = w->length;
	}
	dmahba_port_run(q);
}

static void dmahba_port_dma_done(void *param, const struct dmaengine_result *res)
{
	struct dmahba_port_queue *q = param;
	struct dmahba_port_window *w = &q->win;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	/* a late callback of a cancelled window finds it unmapped */
	if (w->mapped && !w->dma_done)
		dmahba_port_window_end(q, res ? res->result : DMA_TRANS_NOERROR,
				       res ? res->residue : 0);
	dmahba_port_unlock(q, flags);
}

static int dmahba_port_fill(struct dmahba_port_queue *q);

/*
 * The callback of a window's other descriptors: a provider that does not
 * halt on an error goes on with the next descriptor, so the failure of one
 * in the middle shows only in its own result. It is kept for the window's
 * end (dmahba_port_dma_done()). Descriptors complete in order, and a window
 * is mapped only once the channel is synchronized after a cancel, so what
 * this finds mapped is the window the descriptor belongs to. A window the
 * channel had no room for goes on here: the descriptor's slot is free.
 */
static void dmahba_port_desc_done(void *param, const struct dmaengine_result *res)
{
	struct dmahba_port_queue *q = param;
	struct dmahba_port_window *w = &q->win;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	if (w->mapped && !w->dma_done) {
		w->ndone++;
		if (res && (res->result != DMA_TRANS_NOERROR || res->residue) &&
		    w->desc_result == DMA_TRANS_NOERROR)
			w->desc_result = res->result != DMA_TRANS_NOERROR ?
					 res->result : DMA_TRANS_ABORTED;
		if (w->more && dmahba_port_fill(q))
			/* the rest was refused: the window fails */
			dmahba_port_window_end(q, DMA_TRANS_ABORTED, w->length);
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
 * DMAHBA_PORT_SG_MAX, one is not aligned as the channel needs, or the
 * buffer ends first.
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
		/* a piece the channel's copy alignment does not allow */
		if ((c->addr | n) & (q->port->align - 1)) {
			*c = save;
			return false;
		}
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

/*
 * Submit @tx. Every descriptor carries a callback and asks for the
 * interrupt, so that each one's result counts; the last one's callback is
 * the HBA's interrupt. On a poll queue none does: the cookies of the first
 * one not yet polled and of the last one submitted are kept for
 * dmahba_port_poll() instead. -EBUSY: no descriptor (prep returned NULL).
 */
static int dmahba_port_submit(struct dmahba_port_queue *q,
			      struct dma_async_tx_descriptor *tx, bool last)
{
	dma_cookie_t cookie;

	if (!tx)
		return -EBUSY;	/* no room on the channel, or refused */
	if (!q->poll) {
		tx->callback_result = last ? dmahba_port_dma_done :
					     dmahba_port_desc_done;
		tx->callback_param = q;
	}
	cookie = dmaengine_submit(tx);
	if (dma_submit_error(cookie))
		return -EIO;
	q->win.cookie = cookie;
	if (q->poll && !q->win.first)
		q->win.first = cookie;
	q->stats.descs++;
	return 0;
}

/* DMA_PREP_INTERRUPT on every descriptor (its callback), unless polled */
static unsigned long dmahba_port_prep_flags(struct dmahba_port_queue *q, bool last)
{
	return DMA_CTRL_ACK | (!q->poll ? DMA_PREP_INTERRUPT : 0);
}

static int dmahba_port_submit_memcpy(struct dmahba_port_queue *q,
				     dma_addr_t dst, dma_addr_t src, u32 len,
				     bool last)
{
	return dmahba_port_submit(q, dmaengine_prep_dma_memcpy(q->chan, dst, src, len,
							       dmahba_port_prep_flags(q, last)),
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
							     dmahba_port_prep_flags(q, last)),
				  last);
}

/*
 * Prepare and submit the window's descriptors from where the last call
 * stopped: per HBA segment, in pieces of at most the channel's max segment
 * size, one slave_sg descriptor over the pieces of the buffer the piece
 * meets (the HBA segment is the device side, its address increments), or
 * one memcpy descriptor when it meets one piece of the buffer or the
 * channel has no slave_sg. A memcpy that ends an HBA segment on a length
 * the channel's copy alignment does not allow is rounded up to it when the
 * buffer has room: its piece goes on past the pad, or ends unaligned (the
 * block layer bounces a buffer whose length is not aligned into whole
 * pages, see dma_alignment; swiotlb's slots are 2 KiB) so that its page
 * goes on to the next aligned address; the HBA side has room
 * (dmahba_port_dma_align()). The pad bytes carry nothing the command
 * returns. When the channel has no room (prep returns
 * NULL), the window waits: @w->more is set and a completing descriptor
 * calls this again (ScsiPort's flow control: a full channel slows
 * submission, it fails no command).
 *
 * Return: 0 (all submitted, or waiting for room), -EIO if the channel
 * refused a descriptor it had room for (none of the window's in flight).
 */
static int dmahba_port_fill(struct dmahba_port_queue *q)
{
	struct dmahba_port_window *w = &q->win;
	struct dmahba_port *port = q->port;
	struct dmahba_port_cursor save;
	bool submitted = false, last;
	u32 chunk, n, len;
	unsigned int k;
	int err;

	lockdep_assert_held(&q->lock);
	w->more = false;
	while (w->hba_left || w->left) {
		if (!w->hba_left) {
			if (w->h == w->nhba)
				return -EIO;
			w->hba_addr = w->hba[w->h].addr;
			w->hba_left = min(w->hba[w->h].len, w->left);
			w->left -= w->hba_left;
			w->h++;
			continue;
		}
		chunk = min(w->hba_left, port->max_seg);
		save = w->cur;
		if (q->slave && dmahba_port_gather(q, &w->cur, chunk, &k) && k > 1) {
			n = chunk;
			err = dmahba_port_submit_slave(q, w->hba_addr, k, w->to_hba,
						       !w->left && n == w->hba_left);
		} else {
			w->cur = save;
			if (!dmahba_port_cursor_fill(&w->cur))
				return -EIO;
			n = min(w->cur.left, chunk);
			last = !w->left && n == w->hba_left;
			len = n;
			if ((n & (port->align - 1)) && n == w->hba_left &&
			    round_up(n, port->align) <= round_up(w->cur.left, port->align))
				len = round_up(n, port->align);
			err = dmahba_port_submit_memcpy(q,
							w->to_hba ? w->hba_addr : w->cur.addr,
							w->to_hba ? w->cur.addr : w->hba_addr,
							len, last);
			if (!err) {
				w->cur.addr += n;
				w->cur.left -= n;
			}
		}
		if (err == -EBUSY &&
		    (submitted || (!q->poll && w->nsub > w->ndone))) {
			/* no room: go on when a descriptor completes */
			w->cur = save;
			w->more = true;
			q->stats.ring_full++;
			break;
		}
		if (err) {
			w->cur = save;
			return -EIO;
		}
		submitted = true;
		w->nsub++;
		w->hba_addr += n;
		w->hba_left -= n;
	}
	if (submitted)
		dma_async_issue_pending(q->chan);
	return 0;
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
	struct dmahba_port_cursor c;
	u32 skip = offset;
	int nsg;

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

	*w = (struct dmahba_port_window) {
		.req = req,
		.offset = offset,
		.length = length,
		.mapped = true,
		.start_latched = true,
		.to_hba = scmd->sc_data_direction == DMA_TO_DEVICE,
		.cur = c,
		.hba = hba,
		.nhba = nhba,
		.left = length,
	};
	if (dmahba_port_fill(q)) {
		if (w->nsub) {
			dmaengine_terminate_async(q->chan);
			q->sync_needed = true;
		}
		w->mapped = false;
		w->start_latched = false;
		q->stats.map_errors++;
		return -EIO;
	}
	q->stats.windows++;
	q->stats.bytes += length;
	trace_io_map_transfer(req->tag, offset, length);
	return 0;
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
 * dmahba_port_fail_window() - have the window just mapped fail
 * @hw: the miniport's device extension (the DMA context)
 *
 * Error injection: the channel moves the window as usual, but its result,
 * where the port receives it (the channel's callback, or the poll of a
 * poll queue), is taken as a failed transfer, so the window ends as one
 * the channel failed: FlushDma returns -EIO and resets the channel.
 * Without a window mapped, does nothing.
 *
 * Context: inside a miniport callback (queue lock held, atomic), after
 * dmahba_port_io_map_transfer() succeeded.
 */
void dmahba_port_fail_window(void *hw)
{
	struct dmahba_port_queue *q = hw_to_queue(hw);

	lockdep_assert_held(&q->lock);
	if (q->win.mapped)
		q->win.fail = true;
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
	if (type != DMAHBA_NOTIFY_REQUEST_COMPLETE)
		trace_notification(req ? req->tag : U32_MAX, type,
				   req ? req->scmd->result : 0);
	switch (type) {
	case DMAHBA_NOTIFY_REQUEST_COMPLETE:
		if (WARN_ON_ONCE(!req || req_state(req) != DMAHBA_PORT_REQ_ACTIVE))
			return;
		dmahba_port_complete(q, req);
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
		dmahba_port_complete(q, req);
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
 * dmahba_port_dma_align() - the alignment the channel needs of a memcpy
 * @hw: the miniport's device extension (the DMA context)
 *
 * The HBA side of a window must start on this alignment, and its end be
 * readable and writable up to it: a descriptor whose length the channel's
 * copy alignment does not allow is rounded up (the pad bytes move too).
 *
 * Context: any.
 * Return: the alignment in bytes, a power of two; 1 for none.
 */
u32 dmahba_port_dma_align(void *hw)
{
	return hw_to_queue(hw)->port->align;
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

/*
 * The window's last descriptor submitted so far ended (poll queue): ask the
 * channel for the status of each one submitted before it since the last
 * call, as the driver of a hardware engine reads the status each
 * descriptor's completion wrote back. A channel that does not halt on an
 * error goes on after a failed descriptor, so only the failed one's own
 * status tells (its callback would, but a poll queue has none); a failed
 * one fails the window, as dmahba_port_desc_done() has it on a callback
 * queue. Its cookies are those from @w->first up to @w->cookie: the
 * channel is this context's alone (dma_request_channel() gives it to no
 * other client), which submits only under the queue lock, and a provider
 * numbers cookies in submission order (dma_cookie_assign(): consecutive,
 * from INT_MAX on to DMA_MIN_COOKIE), so none in between is another's. The
 * poll asks before submitting more of the window (@w->more), so a channel
 * that keeps a failed status until its ring slot is reused still has it.
 * Called with the queue lock held.
 */
static void dmahba_port_poll_descs(struct dmahba_port_queue *q)
{
	struct dmahba_port_window *w = &q->win;
	dma_cookie_t c;

	for (c = w->first; c && c != w->cookie;
	     c = c == INT_MAX ? DMA_MIN_COOKIE : c + 1) {
		if (dmaengine_tx_status(q->chan, c, NULL) == DMA_ERROR) {
			if (w->desc_result == DMA_TRANS_NOERROR)
				w->desc_result = DMA_TRANS_ABORTED;
			break;
		}
	}
	w->first = 0;
}

/**
 * dmahba_port_poll() - poll a context's window: the HBA's interrupt, polled
 * @q: a poll queue's DMA context
 *
 * Asks the channel (dmaengine_tx_status()) whether the window's last
 * descriptor has ended; the descriptors of a window complete in order, so
 * then the whole window has, and the status of each one before it tells
 * whether it failed (dmahba_port_poll_descs()). If so, the port acts as on
 * the channel's callback: the miniport's interrupt once DmaStarted armed
 * the HBA, its FlushDma, notifications and the next StartIo, in the same
 * order; a failed descriptor anywhere fails the window
 * (dmahba_port_window_end()), with the residue the callback would give. On
 * a DMA engine of hardware this reads the channel's status registers and
 * the descriptors' status writeback.
 *
 * Context: blk-mq polling (mq_poll), process context, any CPU.
 * Return: the number of commands completed and returned to the midlayer.
 */
int dmahba_port_poll(struct dmahba_port_queue *q)
{
	struct dmahba_port_window *w = &q->win;
	struct dmahba_port_req *req;
	struct dma_tx_state state;
	enum dma_status status;
	unsigned long flags;
	int n = 0;

	local_bh_disable();	/* as in dmahba_port_sync(): run() may issue */
	spin_lock_irqsave(&q->lock, flags);
	if (w->mapped && !w->dma_done) {
		status = dmaengine_tx_status(q->chan, w->cookie, &state);
		if (status == DMA_COMPLETE)
			dmahba_port_poll_descs(q);
		/* the channel had no room for the rest: it has now */
		if (status == DMA_COMPLETE && w->more &&
		    w->desc_result == DMA_TRANS_NOERROR)
			status = dmahba_port_fill(q) ? DMA_ERROR : DMA_IN_PROGRESS;
		if (status == DMA_COMPLETE || status == DMA_ERROR) {
			q->stats.polled++;
			/*
			 * the failed transfer's own result is in no callback;
			 * a failed one before the last is in @desc_result
			 */
			if (status == DMA_COMPLETE)
				dmahba_port_window_end(q, DMA_TRANS_NOERROR, 0);
			else
				dmahba_port_window_end(q, DMA_TRANS_ABORTED, w->length);
		}
	}
	if (!q->sync_needed)
		list_for_each_entry(req, &q->done, node)
			n++;
	dmahba_port_unlock_bh(q, flags);
	return n;
}
