// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_hba.c - the mock HBA: a subordinate-DMA miniport.
 *
 * It behaves as an untagged ScsiPort miniport of an HBA without a bus-master
 * engine: one request at a time per DMA context, NextRequest given together
 * with RequestComplete. StartIo hands the CDB to the target emulation
 * (dmahba_scsi.c); each data phase the emulation describes is moved in
 * windows of at most max_window_kb, one IoMapTransfer each, whose HBA side
 * is the medium's pages (dmahba_store.c) or an emulation buffer.
 * DmaStarted arms the HBA; the transfer's end is its interrupt, where the
 * miniport calls FlushDma and then maps the next window or completes the
 * request. The Iomega PC2x sample's DmaPending flag is kept: a DmaStarted
 * that arrives for a cancelled window does nothing.
 *
 * A data phase that writes the medium in more than one window gets all its
 * pages before its first window moves (dmahba_store_alloc()), so a write
 * refused for memory has changed nothing. Memory that cannot be had now
 * sends the request back to the midlayer (SRB_STATUS_BUSY) at most
 * DMAHBA_HBA_MAX_RETRIES times in a row; then, and at once when the
 * store's budget is spent, the command fails (dmahba_scsi_no_memory()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/platform_device.h>
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_device.h>

#include "dmahba.h"
#include "dmahba_scsi.h"
#include "dmahba_store.h"

/* times in a row a request goes back to the midlayer for memory */
#define DMAHBA_HBA_MAX_RETRIES	3

/**
 * struct dmahba_hba - the miniport's device extension of one DMA context
 * @host: the host it belongs to
 * @cur: the request it owns (StartIo to RequestComplete), or NULL
 * @dma_pending: a window is mapped and not flushed (PC2x's DmaPending)
 * @armed: DmaStarted armed the HBA for that window
 * @nomem_retries: requests sent back to the midlayer for memory
 * @nomem_failed: requests failed for memory (or the store's budget)
 * @bounce: a page the HBA moves an emulation buffer's window through when
 *	the channel needs an alignment the buffer does not have (its data
 *	port); NULL when the channel needs none
 *
 * Protected by the port's queue lock, under which every callback runs; the
 * counters are read without it.
 */
struct dmahba_hba {
	struct dmahba_host *host;
	struct dmahba_port_req *cur;
	bool dma_pending;
	bool armed;
	u64 nomem_retries;
	u64 nomem_failed;
	void *bounce;
};

/**
 * struct dmahba_hba_req - the miniport's per-request area (SrbExtension)
 * @sc: the target emulation's state of the command
 * @store: the medium the HBA side of the last window is on, if any
 * @started: the emulation has state to release
 * @phase_done: bytes of the current data phase moved
 * @win_len: bytes in the last window mapped
 * @hba_dir: DMA direction of the HBA side of that window
 * @nsegs: HBA-side segments of that window still mapped
 * @bounced: that window goes through the context's bounce page, mapped
 *	for its length rounded up to the channel's alignment
 * @retries: times in a row the request went back to the midlayer for
 *	     memory; kept across those returns (the per-command area is set
 *	     up once, by init_cmd_priv), zero otherwise
 * @segs: those segments
 */
struct dmahba_hba_req {
	struct dmahba_scsi_cmd sc;
	struct dmahba_store *store;
	bool started;
	u8 retries;
	u32 phase_done;
	u32 win_len;
	enum dma_data_direction hba_dir;
	unsigned int nsegs;
	bool bounced;
	struct dmahba_seg segs[];
};

/**
 * dmahba_hba_req_size() - size of the per-request area
 * @max_segs: HBA-side segments a window may need
 *
 * Context: any.
 * Return: bytes.
 */
size_t dmahba_hba_req_size(unsigned int max_segs)
{
	return sizeof(struct dmahba_hba_req) + max_segs * sizeof(struct dmahba_seg);
}

/**
 * dmahba_hba_init() - initialise a DMA context's device extension
 * @hw: the extension (HwScsiFindAdapter's DeviceExtension)
 * @host: the host it belongs to
 *
 * Context: process context, before the host is added (the driver's probe).
 * Return: 0, or -ENOMEM.
 */
int dmahba_hba_init(void *hw, struct dmahba_host *host)
{
	struct dmahba_hba *hba = hw;

	hba->bounce = NULL;
	if (dmahba_port_dma_align(hw) > 1) {
		/* freed when the driver detaches, after the port is gone */
		hba->bounce = (void *)devm_get_free_pages(&host->pdev->dev,
							  GFP_KERNEL, 0);
		if (!hba->bounce)
			return -ENOMEM;
	}
	hba->host = host;
	hba->cur = NULL;
	hba->dma_pending = false;
	hba->armed = false;
	hba->nomem_retries = 0;
	hba->nomem_failed = 0;
	return 0;
}

/**
 * dmahba_hba_get_stats() - a DMA context's memory shortage counters
 * @hw: the device extension
 * @retries: set to the requests sent back to the midlayer for memory
 * @failed: set to the requests failed for memory or the store's budget
 *
 * Context: any; the values may be a moment old.
 */
void dmahba_hba_get_stats(void *hw, u64 *retries, u64 *failed)
{
	struct dmahba_hba *hba = hw;

	*retries = READ_ONCE(hba->nomem_retries);
	*failed = READ_ONCE(hba->nomem_failed);
}

/* Release the HBA side of the last window; the channel no longer uses it. */
static void dmahba_hba_unmap(void *hw, struct dmahba_hba_req *hr)
{
	struct device *dev = dmahba_port_dma_device(hw);
	u32 align = dmahba_port_dma_align(hw);

	if (!hr->nsegs)
		return;
	if (hr->store)
		dmahba_store_unmap(hr->store, hr->segs, hr->nsegs, hr->hba_dir);
	else
		dma_unmap_single(dev, hr->segs[0].addr,
				 hr->bounced ? round_up(hr->segs[0].len, align) :
					       hr->segs[0].len,
				 hr->hba_dir);
	hr->nsegs = 0;
}

static void dmahba_hba_complete(struct dmahba_hba *hba,
				struct dmahba_port_req *req)
{
	hba->cur = NULL;
	dmahba_port_notification(hba, DMAHBA_NOTIFY_REQUEST_COMPLETE, req);
	dmahba_port_notification(hba, DMAHBA_NOTIFY_NEXT_REQUEST, req);
}

/* The data phase failed: the command ends with ABORTED COMMAND. */
static void dmahba_hba_fail(struct dmahba_hba *hba, struct dmahba_port_req *req)
{
	struct dmahba_hba_req *hr = dmahba_port_req_ext(req);

	dmahba_scsi_xfer_failed(&hr->sc);
	dmahba_hba_complete(hba, req);
}

/*
 * The request cannot go on for memory: -ENOSPC (the store's budget is
 * spent), -ENOMEM (a page of the medium, or the emulation's buffer, cannot
 * be had now), -EAGAIN (a DMA mapping cannot be had now). Unless the budget
 * is spent, it goes back to the midlayer while @may_retry (the command may
 * run again from its start: no byte of the medium has changed, or only
 * what running it again writes the same) and it has not done so
 * DMAHBA_HBA_MAX_RETRIES times in a row; else it fails.
 */
static void dmahba_hba_no_memory(struct dmahba_hba *hba,
				 struct dmahba_port_req *req, int err,
				 bool may_retry)
{
	struct dmahba_hba_req *hr = dmahba_port_req_ext(req);

	if (err != -ENOSPC && may_retry && hr->retries < DMAHBA_HBA_MAX_RETRIES) {
		hr->retries++;
		WRITE_ONCE(hba->nomem_retries, hba->nomem_retries + 1);
		/* SRB_STATUS_BUSY: the midlayer queues it again */
		req->scmd->result = DID_REQUEUE << 16;
	} else {
		hr->retries = 0;
		WRITE_ONCE(hba->nomem_failed, hba->nomem_failed + 1);
		if (err == -EAGAIN)
			dmahba_scsi_xfer_failed(&hr->sc);
		else
			dmahba_scsi_no_memory(&hr->sc);
	}
	dmahba_hba_complete(hba, req);
}

/* IoMapTransfer for the next window of the current data phase. */
static int dmahba_hba_map_window(struct dmahba_hba *hba,
				 struct dmahba_port_req *req)
{
	struct dmahba_hba_req *hr = dmahba_port_req_ext(req);
	struct device *dev = dmahba_port_dma_device(hba);
	u32 align = dmahba_port_dma_align(hba);
	const struct dmahba_xfer *x = &hr->sc.xfer;
	bool in = x->kind == DMAHBA_XFER_STORE_IN || x->kind == DMAHBA_XFER_BUF_IN;
	u32 len = min(x->len - hr->phase_done, hba->host->max_window);
	dma_addr_t addr;
	int n;

	/* the data must flow the way the initiator said it would */
	if (req->scmd->sc_data_direction !=
	    (in ? DMA_FROM_DEVICE : DMA_TO_DEVICE))
		return -EINVAL;
	/* the HBA side is the DMA source for data-in, the destination for out */
	hr->hba_dir = in ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	hr->bounced = false;
	if (x->kind == DMAHBA_XFER_STORE_IN || x->kind == DMAHBA_XFER_STORE_OUT) {
		hr->store = dmahba_scsi_lu_store(hr->sc.lu);
		/* a write in several windows: every page before the first */
		if (x->kind == DMAHBA_XFER_STORE_OUT && !hr->phase_done &&
		    len < x->len) {
			n = dmahba_store_alloc(hr->store, x->pos, x->len);
			if (n)
				return n;
		}
		n = dmahba_store_map(hr->store, x->pos + hr->phase_done, len,
				     hr->hba_dir, hr->segs, hba->host->max_segs);
		if (n < 0)
			return n;
	} else {
		void *buf = x->buf + hr->phase_done;
		u32 map_len;

		hr->store = NULL;
		/* one mapping: no longer than the DMA API can bounce at once */
		len = min_t(size_t, len, dma_max_mapping_size(dev));
		map_len = len;
		hr->bounced = hba->bounce &&
			      !IS_ALIGNED((unsigned long)buf | len, align);
		if (hr->bounced) {
			/* the channel reads and writes whole aligned units */
			len = min_t(u32, len, PAGE_SIZE);
			map_len = round_up(len, align);
			if (in) {
				memcpy(hba->bounce, buf, len);
				memset(hba->bounce + len, 0, map_len - len);
			}
			buf = hba->bounce;
		}
		addr = dma_map_single(dev, buf, map_len, hr->hba_dir);
		if (dma_mapping_error(dev, addr))
			return -EAGAIN;
		hr->segs[0] = (struct dmahba_seg) { .addr = addr, .len = len };
		n = 1;
	}
	hr->nsegs = n;
	hr->win_len = len;
	hba->dma_pending = true;
	hba->armed = false;
	/*
	 * On failure the HBA side stays mapped: the channel may have been
	 * given part of the window, and ->release() unmaps it once the port
	 * has synchronized the channel. The port's -ENOMEM is a DMA mapping.
	 */
	n = dmahba_port_io_map_transfer(hba, req, x->buf_off + hr->phase_done,
					len, hr->segs, n);
	if (!n && unlikely(hr->sc.fail_dma)) {
		/* injected: the channel's result for this window fails */
		hr->sc.fail_dma = false;
		dmahba_port_fail_window(hba);
	}
	return n == -ENOMEM ? -EAGAIN : n;
}

/* Act on what the emulation answered. */
static void dmahba_hba_next(struct dmahba_hba *hba, struct dmahba_port_req *req,
			    enum dmahba_scsi_ret ret)
{
	struct dmahba_hba_req *hr = dmahba_port_req_ext(req);
	int err;

	switch (ret) {
	case DMAHBA_SCSI_XFER:
		hr->phase_done = 0;
		err = dmahba_hba_map_window(hba, req);
		if (!err)
			break;
		hba->dma_pending = false;
		if (err == -ENOSPC || err == -ENOMEM || err == -EAGAIN) {
			/* no byte of this phase has moved */
			dmahba_hba_no_memory(hba, req, err, true);
			return;
		}
		dmahba_scsi_xfer_failed(&hr->sc);
		dmahba_hba_complete(hba, req);
		break;
	case DMAHBA_SCSI_BUSY:
		dmahba_hba_no_memory(hba, req, -ENOMEM, true);
		return;
	case DMAHBA_SCSI_HOLD:
		/*
		 * An injected timeout: the HBA keeps the request, as an
		 * untagged target that never answers, and with it its DMA
		 * context, until the error handler aborts or resets it.
		 */
		break;
	case DMAHBA_SCSI_DONE:
	default:
		dmahba_hba_complete(hba, req);
		break;
	}
	hr->retries = 0;
}

/**
 * dmahba_hba_start_io() - HwScsiStartIo: take a request
 * @hw: the device extension of the DMA context
 * @req: the request; the miniport owns it until RequestComplete
 *
 * Decodes the CDB through the target emulation and starts its first data
 * phase, or completes it at once when it has none.
 *
 * Context: port queue lock held, interrupts off.
 * Return: true (every request is accepted; bad ones complete with an error).
 */
static bool dmahba_hba_start_io(void *hw, struct dmahba_port_req *req)
{
	struct dmahba_hba_req *hr = dmahba_port_req_ext(req);
	struct scsi_device *sdev = req->scmd->device;
	struct dmahba_hba *hba = hw;
	enum dmahba_scsi_ret ret;

	hba->cur = req;
	hr->store = NULL;
	hr->nsegs = 0;
	hr->phase_done = 0;
	hr->started = false;
	if (sdev->channel || sdev->id || sdev->lun >= hba->host->nr_luns) {
		req->scmd->result = DID_BAD_TARGET << 16;
		dmahba_hba_complete(hba, req);
		return true;
	}
	ret = dmahba_scsi_start(&hr->sc, hba->host->lus[sdev->lun], req->scmd);
	hr->started = true;
	dmahba_hba_next(hba, req, ret);
	return true;
}

/**
 * dmahba_hba_dma_started() - HwScsiDmaStarted: arm the HBA for the window
 * @hw: the device extension of the DMA context
 *
 * The channel is programmed; the HBA may now raise its DMA request. A
 * DmaStarted for a window cancelled meanwhile does nothing.
 *
 * Context: port queue lock held, interrupts off.
 */
static void dmahba_hba_dma_started(void *hw)
{
	struct dmahba_hba *hba = hw;

	if (!hba->dma_pending)
		return;	/* cancelled meanwhile */
	hba->armed = true;
}

/**
 * dmahba_hba_interrupt() - HwScsiInterrupt: the window's transfer ended
 * @hw: the device extension of the DMA context
 *
 * FlushDma, then the next window of the phase, the next phase, or the
 * request's completion (RequestComplete + NextRequest).
 *
 * Context: port queue lock held, interrupts off (called from the channel's
 * completion callback, softirq, or after DmaStarted).
 * Return: true if the HBA had a transfer pending.
 */
static bool dmahba_hba_interrupt(void *hw)
{
	struct dmahba_hba *hba = hw;
	struct dmahba_port_req *req = hba->cur;
	struct dmahba_hba_req *hr;
	int err;

	if (!req || !hba->dma_pending || !hba->armed)
		return false;
	hr = dmahba_port_req_ext(req);
	hba->dma_pending = false;
	hba->armed = false;
	if (dmahba_port_flush_dma(hba)) {
		/* the channel is being reset: ->release() unmaps the HBA side */
		dmahba_hba_fail(hba, req);
		return true;
	}
	dmahba_hba_unmap(hba, hr);
	if (hr->bounced && hr->hba_dir == DMA_FROM_DEVICE)
		memcpy(hr->sc.xfer.buf + hr->phase_done, hba->bounce, hr->win_len);
	hr->phase_done += hr->win_len;
	if (hr->phase_done < hr->sc.xfer.len) {
		err = dmahba_hba_map_window(hba, req);
		if (err) {
			hba->dma_pending = false;
			/* part of the phase has moved: no going back */
			if (err == -ENOSPC || err == -ENOMEM)
				dmahba_hba_no_memory(hba, req, err, false);
			else
				dmahba_hba_fail(hba, req);
		}
		return true;
	}
	dmahba_hba_next(hba, req, dmahba_scsi_xfer_done(&hr->sc));
	return true;
}

/* Cancel the window of the current request, whatever stage it is in. */
static void dmahba_hba_cancel(struct dmahba_hba *hba)
{
	if (hba->dma_pending) {
		hba->dma_pending = false;
		hba->armed = false;
		dmahba_port_flush_dma(hba);
	}
}

/**
 * dmahba_hba_abort() - SRB_FUNCTION_ABORT_COMMAND
 * @hw: the device extension of the DMA context
 * @req: the request to abort
 *
 * Cancels the request's window (FlushDma) whatever stage it is in and
 * completes it with DID_ABORT.
 *
 * Context: port queue lock held, interrupts off (from the error handler).
 * Return: false if @req is not the request the HBA owns.
 */
static bool dmahba_hba_abort(void *hw, struct dmahba_port_req *req)
{
	struct dmahba_hba *hba = hw;

	if (hba->cur != req)
		return false;
	dmahba_hba_cancel(hba);
	req->scmd->result = DID_ABORT << 16;
	dmahba_hba_complete(hba, req);
	return true;
}

/**
 * dmahba_hba_reset_bus() - HwScsiResetBus, and the device reset of one LUN
 * @hw: the device extension of the DMA context
 * @lun: the LUN reset, or U64_MAX for the whole bus
 *
 * Cancels the window, completes the affected request with DID_RESET, and
 * raises UNIT ATTENTION 29/00 on the affected LUs; a bus reset is also
 * reported (ResetDetected).
 *
 * Context: port queue lock held, interrupts off (from the error handler).
 * Return: true.
 */
static bool dmahba_hba_reset_bus(void *hw, u64 lun)
{
	struct dmahba_hba *hba = hw;
	struct dmahba_host *host = hba->host;
	unsigned int i;

	if (hba->cur && (lun == U64_MAX || hba->cur->scmd->device->lun == lun)) {
		dmahba_hba_cancel(hba);
		hba->cur = NULL;
		dmahba_port_complete_request(hba, lun, DID_RESET);
		dmahba_port_notification(hba, DMAHBA_NOTIFY_NEXT_REQUEST, NULL);
	}
	for (i = 0; i < host->nr_luns; i++)
		if (lun == U64_MAX || lun == i)
			dmahba_scsi_lu_reset(host->lus[i]);
	if (lun == U64_MAX)
		dmahba_port_notification(hba, DMAHBA_NOTIFY_RESET_DETECTED, NULL);
	return true;
}

/**
 * dmahba_hba_release() - the port is done with the request's DMA
 * @hw: the device extension of the DMA context
 * @req: the request
 *
 * Unmaps the HBA side of its last window and frees the emulation's state.
 *
 * Context: softirq or process context, without the queue lock.
 */
static void dmahba_hba_release(void *hw, struct dmahba_port_req *req)
{
	struct dmahba_hba_req *hr = dmahba_port_req_ext(req);

	dmahba_hba_unmap(hw, hr);
	if (hr->started) {
		dmahba_scsi_end(&hr->sc);
		hr->started = false;
	}
}

/**
 * dmahba_hba_eh_check() - may the error handler's action succeed?
 * @hw: the device extension of the host's first DMA context
 * @level: abort, or the reset level
 * @scmd: the command the error handler names
 *
 * The target emulation counts the call and says whether an injected rule
 * (abort-fails, reset-fails=) makes it fail.
 *
 * Context: process context (SCSI error handler), no lock held.
 * Return: false if the handler must fail.
 */
static bool dmahba_hba_eh_check(void *hw, enum dmahba_port_eh_level level,
				struct scsi_cmnd *scmd)
{
	static const enum dmahba_scsi_eh_level levels[] = {
		[DMAHBA_PORT_EH_ABORT] = DMAHBA_SCSI_EH_ABORT,
		[DMAHBA_PORT_EH_LUN] = DMAHBA_SCSI_EH_LUN,
		[DMAHBA_PORT_EH_TARGET] = DMAHBA_SCSI_EH_TARGET,
		[DMAHBA_PORT_EH_BUS] = DMAHBA_SCSI_EH_BUS,
		[DMAHBA_PORT_EH_HOST] = DMAHBA_SCSI_EH_HOST,
	};
	struct dmahba_host *host = ((struct dmahba_hba *)hw)->host;
	struct scsi_device *sdev = scmd->device;

	if (sdev->channel || sdev->id || sdev->lun >= host->nr_luns ||
	    level >= ARRAY_SIZE(levels))
		return true;
	return !dmahba_scsi_eh_check(host->lus[sdev->lun], levels[level], scmd);
}

/* HW_INITIALIZATION_DATA; req_size is filled in from max_window_kb */
const struct dmahba_port_miniport dmahba_hba_miniport = {
	.hw_size = sizeof(struct dmahba_hba),
	.start_io = dmahba_hba_start_io,
	.dma_started = dmahba_hba_dma_started,
	.interrupt = dmahba_hba_interrupt,
	.abort = dmahba_hba_abort,
	.reset_bus = dmahba_hba_reset_bus,
	.release = dmahba_hba_release,
	.eh_check = dmahba_hba_eh_check,
};
