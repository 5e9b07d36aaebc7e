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
 */
#ifndef DMAHBA_PORT_H
#define DMAHBA_PORT_H

#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/types.h>

struct device;
struct scsi_cmnd;
struct Scsi_Host;
struct dmahba_port;
struct dmahba_port_queue;

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
 *
 * Context: all but @release run with the queue lock held, interrupts off;
 * @release may run in process or softirq context, without the lock.
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
 * @handoffs: times another CPU was kicked to start requests
 * @probes: epochs DMAHBA_PORT_HANDOFF_AUTO tried the other way
 * @switches: probes it kept: the way to start requests changed
 * @probes_cut: probes ended early, already too slow to be kept
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
	u64 handoffs;
	u64 probes;
	u64 switches;
	u64 probes_cut;
};

/**
 * enum dmahba_port_handoff - which CPU starts a DMA context's requests
 * @DMAHBA_PORT_HANDOFF_NEVER: the submitting one, in queuecommand; the
 *	channel's engine and callbacks follow on it, so a request usually
 *	ends before queuecommand returns
 * @DMAHBA_PORT_HANDOFF_ALWAYS: another one: queuecommand only queues, and
 *	kicks the next online CPU (an IPI, then a tasklet) if the context is
 *	idle; each completion there starts the next request (NextRequest)
 * @DMAHBA_PORT_HANDOFF_AUTO: whichever of the two ways measured faster:
 *	requests arrive faster when handed off if the submitter has many in
 *	flight, slower (a wake-up of each CPU per request) if it waits for
 *	each one; never while another queue of the port has a submitter of
 *	its own (then every CPU has its own queue to run)
 *
 * Only where the stages run changes: the sequence, the one window per
 * context and the callbacks' context (lock held, interrupts off) do not.
 */
enum dmahba_port_handoff {
	DMAHBA_PORT_HANDOFF_NEVER,
	DMAHBA_PORT_HANDOFF_ALWAYS,
	DMAHBA_PORT_HANDOFF_AUTO,
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
void dmahba_port_notification(void *hw, enum dmahba_port_notification_type type,
			      struct dmahba_port_req *req);
void dmahba_port_complete_request(void *hw, u64 lun, int host_byte);
struct device *dmahba_port_dma_device(void *hw);
unsigned int dmahba_port_queue_index(void *hw);

/*
 * For the host's creator (dmahba_main.c): the port's life cycle. The
 * host's private data (shost_priv()) begins with a pointer to its port.
 */
struct dmahba_port *dmahba_port_create(struct Scsi_Host *shost,
				       const struct dmahba_port_miniport *mp,
				       const char *channel, const char *driver,
				       unsigned int nr_queues);
void dmahba_port_destroy(struct dmahba_port *port);
struct device *dmahba_port_device(struct dmahba_port *port);
unsigned int dmahba_port_nr_queues(struct dmahba_port *port);
void *dmahba_port_hw(struct dmahba_port *port, unsigned int i);
const char *dmahba_port_chan_name(struct dmahba_port *port, unsigned int i);
int dmahba_port_hold_dma_started(struct dmahba_port *port, unsigned int ms);
unsigned int dmahba_port_dma_started_held(struct dmahba_port *port);
int dmahba_port_set_handoff(struct dmahba_port *port, unsigned int mode);
unsigned int dmahba_port_handoff(struct dmahba_port *port);
void dmahba_port_get_stats(struct dmahba_port *port, unsigned int i,
			   struct dmahba_port_stats *stats);
size_t dmahba_port_cmd_size(const struct dmahba_port_miniport *mp);
int dmahba_port_queuecommand(struct Scsi_Host *shost, struct scsi_cmnd *scmd);
int dmahba_port_eh_abort(struct scsi_cmnd *scmd);
int dmahba_port_eh_reset(struct Scsi_Host *shost, u64 lun);

#endif /* DMAHBA_PORT_H */
