/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_trace.h - the four stages of the subordinate-DMA sequence made
 * visible: io_map_transfer, dma_started, flush_dma and notification; and
 * the errors injected by the emulation (inject). Each
 * event names its request by the blk-mq unique tag ("tag=<n>"), so a user
 * can follow one request through tracefs, trace-cmd or perf.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dmahba

#if !defined(DMAHBA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define DMAHBA_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(dmahba_window,
	TP_PROTO(u32 tag, u32 offset, u32 length),
	TP_ARGS(tag, offset, length),
	TP_STRUCT__entry(
		__field(u32, tag)
		__field(u32, offset)
		__field(u32, length)
	),
	TP_fast_assign(
		__entry->tag = tag;
		__entry->offset = offset;
		__entry->length = length;
	),
	TP_printk("tag=%u offset=%u length=%u",
		  __entry->tag, __entry->offset, __entry->length)
);

/* The port programmed the channel for a window of the request's buffer */
DEFINE_EVENT(dmahba_window, io_map_transfer,
	TP_PROTO(u32 tag, u32 offset, u32 length),
	TP_ARGS(tag, offset, length));

/* The miniport's DmaStarted ran: the HBA is armed for the window */
DEFINE_EVENT(dmahba_window, dma_started,
	TP_PROTO(u32 tag, u32 offset, u32 length),
	TP_ARGS(tag, offset, length));

/* FlushDma: the window ended, completed or cancelled */
TRACE_EVENT(flush_dma,
	TP_PROTO(u32 tag, u32 offset, u32 length, bool completed, u32 residue),
	TP_ARGS(tag, offset, length, completed, residue),
	TP_STRUCT__entry(
		__field(u32, tag)
		__field(u32, offset)
		__field(u32, length)
		__field(bool, completed)
		__field(u32, residue)
	),
	TP_fast_assign(
		__entry->tag = tag;
		__entry->offset = offset;
		__entry->length = length;
		__entry->completed = completed;
		__entry->residue = residue;
	),
	TP_printk("tag=%u offset=%u length=%u %s residue=%u",
		  __entry->tag, __entry->offset, __entry->length,
		  __entry->completed ? "completed" : "cancelled",
		  __entry->residue)
);

/* ScsiPortNotification, as the port acts on it */
TRACE_EVENT(notification,
	TP_PROTO(u32 tag, int type, int result),
	TP_ARGS(tag, type, result),
	TP_STRUCT__entry(
		__field(u32, tag)
		__field(int, type)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->tag = tag;
		__entry->type = type;
		__entry->result = result;
	),
	TP_printk("tag=%u type=%s result=0x%x", __entry->tag,
		  __print_symbolic(__entry->type,
				   { 0, "request_complete" },
				   { 1, "next_request" },
				   { 2, "reset_detected" }),
		  __entry->result)
);

/*
 * An injected error (dmahba_inject.c): the command (opcode, LBA, blk-mq
 * unique tag), the rule (its line in "inject", from 0; -1 for a bad block)
 * and the action.
 */
TRACE_EVENT(inject,
	TP_PROTO(u8 opcode, u64 lba, u32 tag, int rule, int action),
	TP_ARGS(opcode, lba, tag, rule, action),
	TP_STRUCT__entry(
		__field(u64, lba)
		__field(u32, tag)
		__field(int, rule)
		__field(int, action)
		__field(u8, opcode)
	),
	TP_fast_assign(
		__entry->lba = lba;
		__entry->tag = tag;
		__entry->rule = rule;
		__entry->action = action;
		__entry->opcode = opcode;
	),
	TP_printk("tag=%u opcode=0x%02x lba=%llu rule=%d action=%s",
		  __entry->tag, __entry->opcode, __entry->lba, __entry->rule,
		  __print_symbolic(__entry->action,
				   { 0, "busy" },
				   { 1, "task-set-full" },
				   { 2, "sense" },
				   { 3, "dma-error" },
				   { 4, "timeout" },
				   { 5, "medium" },
				   { 6, "abort-fails" },
				   { 7, "reset-fails" }))
);

#endif /* DMAHBA_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE dmahba_trace
#include <trace/define_trace.h>
