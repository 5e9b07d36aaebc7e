// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_port_eh.c - the port layer's error handling: abort and reset.
 * Above dmahba_port_dma.c (FlushDma, notifications) and dmahba_port.c (the
 * run loop, channel synchronization).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/dmaengine.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_eh.h>
#include <scsi/scsi_host.h>

#include "dmahba_port_priv.h"

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
 * Exactly one of the abort and the return to the midlayer
 * (dmahba_port_unlock()) gives the command back, decided under the queue
 * lock: if the return claimed it first (DMAHBA_PORT_REQ_MIDLAYER), the
 * abort waits until its scsi_done() has been called (the midlayer ignores
 * it, the command being timed out) and only then returns; otherwise the
 * abort takes it (DMAHBA_PORT_REQ_EH) and the return calls no scsi_done().
 * No scsi_done() for the command can follow this function's return.
 *
 * The miniport's ->eh_check() is asked first: when it refuses, nothing is
 * done and the command stays with the host.
 *
 * Context: process context (SCSI error handler), may sleep.
 * Return: SUCCESS: the command is no longer with the host; FAILED: the
 * miniport refused (the error handler escalates to a reset).
 */
int dmahba_port_eh_abort(struct scsi_cmnd *scmd)
{
	struct dmahba_port *port = shost_to_port(scmd->device->host);
	struct dmahba_port_req *req = scsi_cmd_priv(scmd);
	struct dmahba_port_queue *q = req_to_queue(port, req);
	unsigned long flags;
	bool sync, mid;

	if (port->mp->eh_check &&
	    !port->mp->eh_check(q->hw, DMAHBA_PORT_EH_ABORT, scmd))
		return FAILED;
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
		/* unless a return already claimed it for scsi_done() */
		if (!(req->flags & DMAHBA_PORT_REQ_MIDLAYER))
			req->flags |= DMAHBA_PORT_REQ_EH;
		break;
	default:
		break;
	}
	/* decided under the lock: who returns the command */
	mid = req->flags & DMAHBA_PORT_REQ_MIDLAYER;
	sync = q->sync_needed;
	if (!sync)
		dmahba_port_run(q);
	dmahba_port_unlock(q, flags);
	if (sync)
		dmahba_port_sync(q);
	if (mid)
		dmahba_port_wait_midlayer(q);	/* its scsi_done() has run */
	else
		dmahba_port_wait_returned(req);
	return SUCCESS;
}

/**
 * dmahba_port_eh_reset() - device, target, bus and host reset
 * @scmd: the command the error handler names (its device, its host)
 * @level: DMAHBA_PORT_EH_LUN resets @scmd's LUN; the other levels every LUN
 *
 * On every DMA context: the miniport's ->reset_bus() cancels its window and
 * completes its active requests of the LUN with a reset status; the port
 * completes those still waiting for StartIo with DID_RESET. Commands the
 * error handler owns are not returned to the midlayer twice. The
 * miniport's ->eh_check() is asked first: when it refuses, nothing is done.
 *
 * Context: process context (SCSI error handler or reset ioctl), may sleep.
 * Return: SUCCESS, or FAILED when the miniport refused.
 */
int dmahba_port_eh_reset(struct scsi_cmnd *scmd, enum dmahba_port_eh_level level)
{
	struct Scsi_Host *shost = scmd->device->host;
	struct dmahba_port *port = shost_to_port(shost);
	u64 lun = level == DMAHBA_PORT_EH_LUN ? scmd->device->lun : U64_MAX;
	struct dmahba_port_req *req, *tmp;
	struct dmahba_port_queue *q;
	unsigned long flags;
	unsigned int i;

	if (port->mp->eh_check &&
	    !port->mp->eh_check(port->queues[0]->hw, level, scmd))
		return FAILED;

	for (i = 0; i < port->nr_queues; i++) {
		q = port->queues[i];
		spin_lock_irqsave(&q->lock, flags);
		port->mp->reset_bus(q->hw, lun);
		list_for_each_entry_safe(req, tmp, &q->pending, node) {
			if (lun != U64_MAX && req->scmd->device->lun != lun)
				continue;
			req->scmd->result = DID_RESET << 16;
			dmahba_port_complete(q, req);
		}
		dmahba_port_unlock(q, flags);
		flush_work(&q->sync_work);
		dmahba_port_sync(q);
		/* no scsi_done() of a command returned here comes after */
		dmahba_port_wait_midlayer(q);
	}
	return SUCCESS;
}
