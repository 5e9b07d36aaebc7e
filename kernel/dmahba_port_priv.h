/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_port_priv.h - what the files of the port layer share: the DMA
 * context, the window, the port, and the functions a file calls in a file
 * below it. Private to the port layer: a miniport sees dmahba_port.h only,
 * the host's creator dmahba_port_host.h.
 *
 * The files form a stack; each calls only those below it:
 *
 *   dmahba_port_host.c  setup, queuecommand, poll queues, debugfs
 *                       (dmahba_port_host.h)
 *   dmahba_port_eh.c    abort and reset
 *   dmahba_port_dma.c   IoMapTransfer, the channel's callback, FlushDma,
 *                       notifications (the miniport's services)
 *   dmahba_port.c       the run loop (DmaStarted, interrupt, StartIo), the
 *                       cancel of a window, channel synchronization, the
 *                       return of commands to the midlayer
 */
#ifndef DMAHBA_PORT_PRIV_H
#define DMAHBA_PORT_PRIV_H

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <scsi/scsi_host.h>

#include "dmahba_port.h"
#include "dmahba_port_host.h"

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
/*
 * flags bit, set under the queue lock when the return claims a completed
 * request: the return calls scsi_done(); the error handler must not take
 * the command but wait for that (dmahba_port_wait_midlayer())
 */
#define DMAHBA_PORT_REQ_MIDLAYER	BIT(10)
#define DMAHBA_PORT_REQ_STATE	0xff

/* memory-side pieces one slave_sg descriptor of a window may take */
#define DMAHBA_PORT_SG_MAX	64

/* a walk along the request's mapped scatterlist */
struct dmahba_port_cursor {
	struct scatterlist *sg;
	unsigned int nsg;	/* entries left, the current one included */
	dma_addr_t addr;
	u32 left;		/* bytes left in the current entry */
};

/**
 * struct dmahba_port_stats - what a DMA context has done
 * @requests: requests given to StartIo
 * @windows: windows mapped (IoMapTransfer)
 * @bytes: bytes in those windows
 * @cancels: windows cancelled (FlushDma before the transfer ended, or failed)
 * @dma_errors: transfers the channel failed
 * @map_errors: windows the channel refused
 * @aborts: requests aborted by the error handler
 * @resets: resets reported (ResetDetected)
 * @polled: windows whose end a poll found (poll queues)
 * @descs: descriptors submitted
 * @ring_full: times the channel had no room for a window's next descriptor
 *	(prep returned NULL): the rest is submitted as descriptors complete
 */
struct dmahba_port_stats {
	u64 requests;
	u64 windows;
	u64 bytes;
	u64 cancels;
	u64 dma_errors;
	u64 map_errors;
	u64 aborts;
	u64 resets;
	u64 polled;
	u64 descs;
	u64 ring_full;
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
 * @dma_done: the transfer ended, with @result and @residue: the channel's
 *	callback said so, or on a poll queue dmaengine_tx_status() of @cookie
 *	and of the descriptors before it (dmahba_port_poll_descs())
 * @result: the transfer's dmaengine result
 * @residue: bytes not transferred, as the channel reported them
 * @desc_result: the first failure a descriptor before the last reported
 *	(DMA_TRANS_NOERROR if none); it fails the whole window. On a poll
 *	queue, DMA_TRANS_ABORTED for a DMA_ERROR status (it names no kind)
 * @cookie: the cookie of the window's last descriptor submitted so far
 *	(poll queues)
 * @first: the cookie of the first of the window's descriptors whose
 *	status the poll has not asked yet, 0 for none (poll queues)
 * @more: descriptors are still to be prepared: the channel had no room
 *	for them; each completing descriptor lets dmahba_port_fill() go on
 * @to_hba: the window moves data towards the HBA (data-out)
 * @cur: where the next descriptor starts on the memory side
 * @hba: the HBA side of the window, @nhba segments, the next one @h
 * @nhba: see @hba
 * @h: see @hba
 * @hba_addr: where the next descriptor starts in HBA segment @h - 1
 * @hba_left: bytes of that segment not yet given to a descriptor
 * @left: bytes of the window in HBA segments from @h on
 * @nsub: descriptors of the window submitted
 * @ndone: descriptors before the last that completed (their callback ran)
 * @fail: the window's result is to be taken as failed
 *	(dmahba_port_fail_window(), error injection)
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
	enum dmaengine_tx_result desc_result;
	dma_cookie_t cookie;
	dma_cookie_t first;
	bool more;
	bool to_hba;
	struct dmahba_port_cursor cur;
	const struct dmahba_seg *hba;
	unsigned int nhba;
	unsigned int h;
	dma_addr_t hba_addr;
	u32 hba_left;
	u32 left;
	unsigned int nsub;
	unsigned int ndone;
	bool fail;
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
 * @returning: returns to the midlayer claimed and not yet finished (atomic,
 *	raised under @lock, lowered without it; wake_up_var() when it falls to
 *	0, for dmahba_port_wait_midlayer())
 * @ready: NextRequest latched: StartIo may be called
 * @sync_needed: the channel was terminated; synchronize before reuse
 * @dying: the port is being destroyed: no work item is queued any more
 * @win: the window in flight
 * @slave: the channel can do slave_sg: one descriptor per HBA segment
 * @poll: a poll queue (HCTX_TYPE_POLL): its windows ask for no interrupt
 *	and no callback; blk-mq's polling (mq_poll) finds them ended
 * @sg: memory side of the slave_sg descriptor being prepared
 * @sync_work: synchronizes the channel when a cancel happened in atomic context
 * @start_work: delivers a DmaStarted held back by dmahba_port_hold_dma_started()
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
	atomic_t returning;
	bool ready;
	bool sync_needed;
	bool dying;
	struct dmahba_port_window win;
	bool slave;
	bool poll;
	struct scatterlist sg[DMAHBA_PORT_SG_MAX];
	struct work_struct sync_work;
	struct delayed_work start_work;
	struct dmahba_port_stats stats;
	u64 hw[];
};

/**
 * struct dmahba_port - the port of one SCSI host
 * @shost: the host
 * @mp: the miniport
 * @dma_dev: the DMA controller's device, against which buffers are mapped
 * @max_seg: bytes one descriptor may carry (the device's max segment size
 *	when the port was created, a multiple of @align)
 * @align: alignment the channel needs of a memcpy's addresses and length
 *	(1 << copy_align), a power of two
 * @hold_ms: test knob: hold back the DmaStarted of the next window mapped
 *	by this many milliseconds (one-shot; 0 = off)
 * @nr_queues: number of DMA contexts
 * @poll_queues: how many of them, the last ones, are poll queues
 * @queues: the DMA contexts
 */
struct dmahba_port {
	struct Scsi_Host *shost;
	const struct dmahba_port_miniport *mp;
	struct device *dma_dev;
	u32 max_seg;
	u32 align;
	unsigned int hold_ms;
	unsigned int nr_queues;
	unsigned int poll_queues;
	struct dmahba_port_queue *queues[];
};

static inline struct dmahba_port_queue *hw_to_queue(void *hw)
{
	return container_of(hw, struct dmahba_port_queue, hw[0]);
}

static inline struct dmahba_port *shost_to_port(struct Scsi_Host *shost)
{
	return *(struct dmahba_port **)shost_priv(shost);
}

static inline struct dmahba_port_queue *req_to_queue(struct dmahba_port *port,
						     struct dmahba_port_req *req)
{
	return port->queues[blk_mq_unique_tag_to_hwq(req->tag) % port->nr_queues];
}

static inline void req_set_state(struct dmahba_port_req *req,
				 enum dmahba_port_req_state state)
{
	req->flags = (req->flags & ~DMAHBA_PORT_REQ_STATE) | state;
}

static inline enum dmahba_port_req_state req_state(struct dmahba_port_req *req)
{
	return req->flags & DMAHBA_PORT_REQ_STATE;
}

/* dmahba_port.c */
void dmahba_port_queue_init(struct dmahba_port_queue *q, struct dmahba_port *port,
			    struct dma_chan *chan, unsigned int index);
void dmahba_port_unlock(struct dmahba_port_queue *q, unsigned long flags)
	__releases(&q->lock);
void dmahba_port_unlock_bh(struct dmahba_port_queue *q, unsigned long flags)
	__releases(&q->lock);
void dmahba_port_run(struct dmahba_port_queue *q);
void dmahba_port_cancel_window(struct dmahba_port_queue *q);
void dmahba_port_complete(struct dmahba_port_queue *q, struct dmahba_port_req *req);
void dmahba_port_sync(struct dmahba_port_queue *q);
void dmahba_port_wait_midlayer(struct dmahba_port_queue *q);

/* dmahba_port_dma.c */
int dmahba_port_poll(struct dmahba_port_queue *q);

#endif /* DMAHBA_PORT_PRIV_H */
