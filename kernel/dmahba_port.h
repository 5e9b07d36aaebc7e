/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_port.h - the port layer: what ScsiPort gives a subordinate-DMA
 * miniport, on Linux. This header is the whole contract a miniport sees,
 * as srb.h is for a ScsiPort miniport.
 *
 * The port owns the SCSI host's queues and the DMA contexts. A DMA context
 * (a "queue") is one dmaengine channel with one IoMapTransfer window in
 * flight at a time, since ScsiPortFlushDma names no request. Each queue has
 * a device extension of its own ("hw", the miniport's per-context state);
 * the port's services take it, as ScsiPort's take the HwDeviceExtension.
 *
 * The sequence, per request:
 *  1. ->start_io(hw, req) when the miniport has said NextRequest.
 *  2. dmahba_port_io_map_transfer(hw, req, offset, length, hba side): the
 *     window is the request's data buffer or a subrange of it; the port maps
 *     the buffer for the DMA controller and submits the descriptors.
 *  3. ->dma_started(hw), deferred until the miniport has returned and the
 *     channel is programmed; suppressed if the window was cancelled first.
 *  4. The transfer's completion is the HBA's interrupt: ->interrupt(hw), not
 *     before ->dma_started() has armed the HBA.
 *  5. dmahba_port_flush_dma(hw) after the transfer, before completing the
 *     request or mapping the next window; also the cancel path, before or
 *     after DmaStarted (debugfs dma_started_hold_ms holds one DmaStarted
 *     back, so tests reach the early cancel).
 *  6. dmahba_port_notification(REQUEST_COMPLETE) and (NEXT_REQUEST), latched
 *     and acted upon by the port once the miniport's callback returns.
 *
 * Context: every miniport callback runs with the queue's lock held and
 * interrupts disabled (so callbacks of one queue are serialized, as ScsiPort
 * serializes them against the ISR); the miniport must not sleep in them, and
 * calls the port services only from inside them.
 *
 * Nothing else is here: the host's side of the port (creating it, its SCSI
 * host template's handlers, debugfs) is dmahba_port_host.h, and what the
 * port's own files share is dmahba_port_priv.h.
 */
#ifndef DMAHBA_PORT_H
#define DMAHBA_PORT_H

#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/types.h>

struct device;
struct page;
struct scsi_cmnd;

/**
 * struct dmahba_seg - one contiguous piece of the HBA side of a window
 * @addr: DMA address, mapped for the DMA controller's device
 * @len: length in bytes
 * @page: the first page pinned behind @addr, if the owner pinned any
 * @npages: pages pinned from @page on (physically contiguous)
 */
struct dmahba_seg {
	dma_addr_t addr;
	u32 len;
	struct page *page;
	unsigned int npages;
};

/**
 * struct dmahba_port_req - a request as the miniport receives it (the SRB)
 * @scmd: the SCSI command: CDB, data buffer, sense buffer, result
 * @tag: blk-mq unique tag, the request's name in the trace events
 * @node: port-private: pending or active list of the queue
 * @nsg: port-private: mapped scatterlist entries, 0 when not mapped
 * @flags: port-private: DMAHBA_PORT_REQ_* state
 *
 * The miniport's per-request area (its SrbExtension, of the size it gave
 * at registration) follows; reach it with dmahba_port_req_ext().
 */
struct dmahba_port_req {
	struct scsi_cmnd *scmd;
	u32 tag;
	struct list_head node;
	int nsg;
	unsigned long flags;
};

/**
 * enum dmahba_port_notification_type - ScsiPortNotification types
 * @DMAHBA_NOTIFY_REQUEST_COMPLETE: the request is finished, its result set;
 *	the miniport must not touch it afterwards
 * @DMAHBA_NOTIFY_NEXT_REQUEST: the miniport can take another request
 * @DMAHBA_NOTIFY_RESET_DETECTED: the HBA saw a bus reset
 */
enum dmahba_port_notification_type {
	DMAHBA_NOTIFY_REQUEST_COMPLETE,
	DMAHBA_NOTIFY_NEXT_REQUEST,
	DMAHBA_NOTIFY_RESET_DETECTED,
};

/**
 * enum dmahba_port_eh_level - what the SCSI error handler is about to do
 * @DMAHBA_PORT_EH_ABORT: abort a command
 * @DMAHBA_PORT_EH_LUN: reset a logical unit
 * @DMAHBA_PORT_EH_TARGET: reset the target
 * @DMAHBA_PORT_EH_BUS: reset the bus
 * @DMAHBA_PORT_EH_HOST: reset the host
 */
enum dmahba_port_eh_level {
	DMAHBA_PORT_EH_ABORT,
	DMAHBA_PORT_EH_LUN,
	DMAHBA_PORT_EH_TARGET,
	DMAHBA_PORT_EH_BUS,
	DMAHBA_PORT_EH_HOST,
};

/**
 * struct dmahba_port_miniport - what a miniport registers (HW_INITIALIZATION_DATA)
 * @hw_size: size of the per-queue device extension
 * @req_size: size of the per-request extension
 * @start_io: HwScsiStartIo; the miniport owns @req until it notifies
 *	REQUEST_COMPLETE for it. Returns false only for a malformed request.
 * @dma_started: HwScsiDmaStarted: the channel is programmed for the window
 *	mapped last; arm the HBA. Never called for a cancelled window.
 * @interrupt: HwScsiInterrupt: the HBA interrupts (the window's transfer
 *	ended, well or not). Returns false if the HBA had nothing pending.
 * @abort: SRB_FUNCTION_ABORT_COMMAND for an active request: cancel its
 *	window (FlushDma) and complete it. Returns false if @req is not active.
 * @reset_bus: HwScsiResetBus: cancel the window, complete every active
 *	request of @lun (all when @lun is U64_MAX) with a reset status.
 * @release: the port is done with @req's DMA (after FlushDma, and after
 *	the channel is synchronized when it was cancelled): release the HBA
 *	side of its last window. Called once per request that went through
 *	@start_io, before the midlayer gets it back.
 * @eh_check: optional; the error handler is about to act at @level on
 *	@scmd (abort it, or reset its LU, target, bus or host). Returns
 *	false to make the handler fail (return FAILED) having done nothing,
 *	as an HBA whose abort or reset does not succeed.
 *
 * Context: all but @release and @eh_check run with the queue lock held,
 * interrupts off; @release may run in process or softirq context, without
 * the lock; @eh_check runs in process context without any lock, on the
 * device extension of the host's first DMA context.
 */
struct dmahba_port_miniport {
	size_t hw_size;
	size_t req_size;
	bool (*start_io)(void *hw, struct dmahba_port_req *req);
	void (*dma_started)(void *hw);
	bool (*interrupt)(void *hw);
	bool (*abort)(void *hw, struct dmahba_port_req *req);
	bool (*reset_bus)(void *hw, u64 lun);
	void (*release)(void *hw, struct dmahba_port_req *req);
	bool (*eh_check)(void *hw, enum dmahba_port_eh_level level,
			 struct scsi_cmnd *scmd);
};

/**
 * dmahba_port_req_ext() - the miniport's per-request area (SrbExtension)
 * @req: the request
 *
 * Context: any.
 * Return: the area, of the miniport's @req_size bytes.
 */
static inline void *dmahba_port_req_ext(struct dmahba_port_req *req)
{
	return req + 1;
}

int dmahba_port_io_map_transfer(void *hw, struct dmahba_port_req *req,
				u32 offset, u32 length,
				const struct dmahba_seg *hba, unsigned int nhba);
int dmahba_port_flush_dma(void *hw);
void dmahba_port_fail_window(void *hw);
void dmahba_port_notification(void *hw, enum dmahba_port_notification_type type,
			      struct dmahba_port_req *req);
void dmahba_port_complete_request(void *hw, u64 lun, int host_byte);
struct device *dmahba_port_dma_device(void *hw);
u32 dmahba_port_dma_align(void *hw);
unsigned int dmahba_port_queue_index(void *hw);

#endif /* DMAHBA_PORT_H */
