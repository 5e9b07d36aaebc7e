/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softdma_priv.h - what the files of softdma share: the descriptor, the
 * channel and the controller, and the functions one file calls in another.
 * Private to softdma: clients see only <linux/dmaengine.h>.
 *
 * softdma_main.c:    the dmaengine operations, the platform device, the module
 * softdma_engine.c:  descriptors, the engine, completion and callbacks
 * softdma_debugfs.c: the fault knobs and statistics in debugfs
 */
#ifndef SOFTDMA_PRIV_H
#define SOFTDMA_PRIV_H

#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define SOFTDMA_NAME		"softdma"
#define SOFTDMA_CHUNK		SZ_64K	/* bytes copied between checks */
#define SOFTDMA_MAX_CHANNELS	64
#define SOFTDMA_MAX_LATENCY_US	10000000	/* 10 s */
#define SOFTDMA_TASKLET_BUDGET	64	/* callbacks per tasklet run */
#define SOFTDMA_BH_BUDGET	SZ_1M	/* bytes per engine_bh run */
#define SOFTDMA_SPARES		64	/* spare descriptors kept per CPU */
#define SOFTDMA_MAX_COPY_ALIGN	8	/* DMAENGINE_ALIGN_256_BYTES */
#define SOFTDMA_MAX_RING	65536	/* ring_size limit (IOAT's ring) */
#define SOFTDMA_ERR_LOG		16	/* failed cookies kept without a halt */
#define SOFTDMA_WIDTHS		(BIT(DMA_SLAVE_BUSWIDTH_1_BYTE) | \
				 BIT(DMA_SLAVE_BUSWIDTH_2_BYTES) | \
				 BIT(DMA_SLAVE_BUSWIDTH_4_BYTES) | \
				 BIT(DMA_SLAVE_BUSWIDTH_8_BYTES))

/**
 * enum softdma_desc_state - where a descriptor is
 * @SOFTDMA_DESC_PREPARED: prepared, not submitted (on ->parked)
 * @SOFTDMA_DESC_QUEUED: submitted or issued (on ->submitted or ->issued)
 * @SOFTDMA_DESC_ACTIVE: the engine's current descriptor (->active)
 * @SOFTDMA_DESC_COMPLETED: finished, callback pending (on ->completed)
 * @SOFTDMA_DESC_IDLE: DMA_CTRL_REUSE descriptor after completion (->parked)
 * @SOFTDMA_DESC_UNACKED: finished, waiting for DMA_CTRL_ACK (->parked)
 * @SOFTDMA_DESC_TERMINATED: dropped while the engine was copying it; the
 *	engine frees it when it lets go of it
 */
enum softdma_desc_state {
	SOFTDMA_DESC_PREPARED,
	SOFTDMA_DESC_QUEUED,
	SOFTDMA_DESC_ACTIVE,
	SOFTDMA_DESC_COMPLETED,
	SOFTDMA_DESC_IDLE,
	SOFTDMA_DESC_UNACKED,
	SOFTDMA_DESC_TERMINATED,
};

/* What fault injection decided for a descriptor when the engine started it */
enum softdma_fate {
	SOFTDMA_FATE_RUN,
	SOFTDMA_FATE_FAIL,
	SOFTDMA_FATE_STALL,
};

/**
 * struct softdma_seg - one contiguous copy
 * @src: CPU address to copy from
 * @dst: CPU address to copy to
 * @len: bytes
 */
struct softdma_seg {
	void *src;
	void *dst;
	u32 len;
};

/**
 * struct softdma_desc - a softdma descriptor
 * @tx: the dmaengine descriptor handed to the client
 * @node: link in one of the channel's lists
 * @state: see enum softdma_desc_state; protected by the channel lock
 * @len: total bytes
 * @done: bytes copied so far; written by the engine under the channel lock
 * @result: completion result, set when it completes
 * @residue: completion residue, set when it completes
 * @not_before: the per-descriptor latency ends at this time
 * @seg: engine cursor: current segment (engine only)
 * @seg_off: engine cursor: offset in @seg (engine only)
 * @nsegs: number of segments
 * @segs: the segments (@one or an array)
 * @one: inline segment for single-segment descriptors
 */
struct softdma_desc {
	struct dma_async_tx_descriptor tx;
	struct list_head node;
	enum softdma_desc_state state;
	u32 len;
	u32 done;
	enum dmaengine_tx_result result;
	u32 residue;
	ktime_t not_before;
	unsigned int seg;
	u32 seg_off;
	unsigned int nsegs;
	struct softdma_seg *segs;
	struct softdma_seg one;
};

/* debugfs files of a channel: fault knobs (0600) and statistics (0400) */
enum softdma_file {
	SOFTDMA_F_FAIL_NTH,
	SOFTDMA_F_FAIL_EVERY,
	SOFTDMA_F_STALL_NTH,
	SOFTDMA_F_LATENCY_US,
	SOFTDMA_F_BANDWIDTH_KBPS,
	SOFTDMA_F_NR_KNOBS,
	SOFTDMA_F_SUBMITTED = SOFTDMA_F_NR_KNOBS,
	SOFTDMA_F_COMPLETED,
	SOFTDMA_F_FAILED,
	SOFTDMA_F_ABORTED,
	SOFTDMA_F_TERMINATED,
	SOFTDMA_F_QUEUED,
	SOFTDMA_F_DESCRIPTORS,
	SOFTDMA_F_HALTED,
	SOFTDMA_F_PAUSED,
	SOFTDMA_F_STALLED,
	SOFTDMA_F_REFUSED_SEG_SIZE,
	SOFTDMA_F_REFUSED_ALIGN,
	SOFTDMA_F_REFUSED_RING,
	SOFTDMA_F_MAX_SEG_SIZE,
	SOFTDMA_F_COPY_ALIGN,
	SOFTDMA_F_RING_SIZE,
	SOFTDMA_F_HALT_ON_ERROR,
	SOFTDMA_F_NR,
};

/* Why a prep was refused (counted per channel, see debugfs refused_*) */
enum softdma_refuse {
	SOFTDMA_REFUSE_SEG_SIZE,	/* longer than max_seg_size */
	SOFTDMA_REFUSE_ALIGN,		/* not aligned to copy_align */
	SOFTDMA_REFUSE_RING,		/* ring_size descriptors held */
	SOFTDMA_REFUSE_NR,
};

/**
 * enum softdma_where - where the channels' engines run (the engine parameter)
 * @SOFTDMA_ENGINE_LOCAL: without a timing model a tasklet on the CPU that
 *	issued the work, with one the work item on a per-CPU workqueue
 * @SOFTDMA_ENGINE_ANY: always the work item, on an unbound workqueue: the
 *	scheduler may run the copy on another CPU than the submitter's
 */
enum softdma_where {
	SOFTDMA_ENGINE_LOCAL,
	SOFTDMA_ENGINE_ANY,
};

/**
 * struct softdma_constraints - what the controller imposes on its clients,
 * and where its engines run
 * @max_seg_size: longest transfer of a descriptor (memcpy) or of an sg entry
 * @copy_align: log2 of the alignment of addresses and lengths
 * @ring_size: descriptors a channel holds at once, 0 = unlimited
 * @residue: the residue granularity of tx_status
 * @halt_on_error: a failed descriptor halts the channel
 * @engine: where the engines run
 * @profile: the profile the values came from, or "none"
 *
 * Set once at load from the module parameters, read-only afterwards.
 */
struct softdma_constraints {
	u32 max_seg_size;
	u8 copy_align;
	u32 ring_size;
	enum dma_residue_granularity residue;
	bool halt_on_error;
	enum softdma_where engine;
	const char *profile;
};

struct softdma_chan;

/* private data of one debugfs file */
struct softdma_file_ref {
	struct softdma_chan *sc;
	enum softdma_file id;
};

/**
 * struct softdma_chan - one channel and its engine
 * @chan: the dmaengine channel
 * @lock: protects every field below up to @wq, the descriptors' @state,
 *	@done, and chan.cookie/chan.completed_cookie
 * @submitted: submitted, not issued
 * @issued: issued, waiting for the engine
 * @active: the descriptor the engine is on
 * @completed: finished, callbacks to run
 * @parked: prepared, idle (reuse) and unacked descriptors
 * @copying: a context holds the engine's cursor outside the lock: it copies
 *	(or, timed, waits out) a chunk of @active; the engine tasklet, the work
 *	item and a polling tx_status (softdma_engine_poll()) all take the
 *	cursor only while this is clear, so one of them at a time moves data
 * @running: the engine (tasklet or work item) is scheduled or running
 * @paused: device_pause in effect
 * @halted: a descriptor failed; only terminate_all clears it
 * @stalled: the active descriptor was stalled by fault injection
 * @has_err: @err_after/@err_upto hold the last failed/dropped cookie range
 * @err_after: cookies in (@err_after, @err_upto] report DMA_ERROR
 * @err_upto: see @err_after
 * @errs: with halt_on_error=0, the cookies of the last SOFTDMA_ERR_LOG
 *	descriptors that failed, for tx_status (softdma_err_logged()); the
 *	entries @errs[0..@nr_errs) are used, the next failure takes @err_next
 * @nr_errs: see @errs
 * @err_next: see @errs
 * @cfg: slave configuration from device_config
 * @fail_nth: fault: fail the Nth descriptor started from now (countdown)
 * @fail_every: fault: fail every Nth descriptor started
 * @every_count: descriptors started since @fail_every was set
 * @stall_nth: fault: stall the Nth descriptor started from now (countdown)
 * @fail_result: DMA_TRANS_READ_FAILED or DMA_TRANS_WRITE_FAILED
 * @latency_us: per-descriptor latency in microseconds
 * @bandwidth_kbps: bandwidth limit in kB/s, 0 = unlimited
 * @bw_next: bandwidth model: when the engine may move its next byte
 * @nr_submitted: stats: descriptors submitted
 * @nr_completed: stats: descriptors completed without error
 * @nr_failed: stats: descriptors failed by fault injection
 * @nr_aborted: stats: descriptors aborted behind a failed one
 * @nr_terminated: stats: descriptors dropped by terminate_all
 * @nr_desc: descriptors allocated and not yet freed
 * @nr_unacked: descriptors in state SOFTDMA_DESC_UNACKED
 * @nr_refused: stats: preps refused, by enum softdma_refuse
 * @wq: the engine sleeps here (latency, bandwidth); woken by pause/terminate
 * @work: the engine with a timing model, or always with engine=any
 * @cb_busy: a context is running callbacks (see softdma_run_callbacks())
 * @cb_seq: odd while a callback runs, incremented at its start and its end
 * @cb_task: the task running the callback while @cb_seq is odd
 * @zombie_seq: odd while the engine holds a descriptor a terminate dropped
 *	(it was copying it), incremented at the drop and at the release
 * @sync_waiters: tasks in softdma_synchronize(); @cb_seq and @zombie_seq
 *	changes wake @sync_wq only when this is not 0
 * @sync_wq: softdma_synchronize() sleeps here
 * @tasklet: runs the completion callbacks
 * @engine_bh: the engine when no timing model is set (see softdma_engine_bh())
 * @files: debugfs file private data (fail_mode last)
 * @dbg: debugfs directory of the channel
 */
struct softdma_chan {
	struct dma_chan chan;
	spinlock_t lock; /* channel state, lists, cookies, knobs, stats */
	struct list_head submitted;
	struct list_head issued;
	struct softdma_desc *active;
	struct list_head completed;
	struct list_head parked;
	bool copying;
	bool running;
	bool paused;
	bool halted;
	bool stalled;
	bool cb_busy;
	u32 cb_seq;
	struct task_struct *cb_task;
	u32 zombie_seq;
	unsigned int sync_waiters;
	bool has_err;
	dma_cookie_t err_after;
	dma_cookie_t err_upto;
	dma_cookie_t errs[SOFTDMA_ERR_LOG];
	unsigned int nr_errs;
	unsigned int err_next;
	struct dma_slave_config cfg;
	u32 fail_nth;
	u32 fail_every;
	u32 every_count;
	u32 stall_nth;
	enum dmaengine_tx_result fail_result;
	u32 latency_us;
	u32 bandwidth_kbps;
	ktime_t bw_next;
	u64 nr_submitted;
	u64 nr_completed;
	u64 nr_failed;
	u64 nr_aborted;
	u64 nr_terminated;
	u64 nr_desc;
	u64 nr_unacked;
	u64 nr_refused[SOFTDMA_REFUSE_NR];
	wait_queue_head_t wq;
	wait_queue_head_t sync_wq;
	struct work_struct work;
	struct tasklet_struct tasklet;
	struct tasklet_struct engine_bh;
	struct softdma_file_ref files[SOFTDMA_F_NR + 1];
	struct dentry *dbg;
};

/**
 * struct softdma_dev - the controller
 * @ddev: the dmaengine device
 * @nr_chans: number of channels
 * @chans: the channels
 */
struct softdma_dev {
	struct dma_device ddev;
	unsigned int nr_chans;
	struct softdma_chan chans[];
};

extern struct workqueue_struct *softdma_wq;
extern struct softdma_constraints softdma_cons;
extern struct kmem_cache *softdma_desc_cache;

/**
 * struct softdma_spares - freed single-segment descriptors kept for reuse
 * @head: the last one freed; they are linked through their @node.next
 * @nr: how many
 *
 * Per CPU, used with interrupts off on that CPU only: no lock and no
 * atomic operation, so preparing and retiring a descriptor allocates
 * nothing (the slab allocator's lockless path costs about 0.9 us per
 * allocation and free under QEMU's TCG, a lock round trip 0.1 us).
 */
struct softdma_spares {
	struct softdma_desc *head;
	unsigned int nr;
};

static inline struct softdma_chan *to_softdma_chan(struct dma_chan *chan)
{
	return container_of(chan, struct softdma_chan, chan);
}

static inline struct softdma_desc *to_softdma_desc(struct dma_async_tx_descriptor *tx)
{
	return container_of(tx, struct softdma_desc, tx);
}

static inline struct device *softdma_dev(struct softdma_chan *sc)
{
	return sc->chan.device->dev;
}

static inline const char *softdma_residue_name(enum dma_residue_granularity g)
{
	switch (g) {
	case DMA_RESIDUE_GRANULARITY_DESCRIPTOR:	return "descriptor";
	case DMA_RESIDUE_GRANULARITY_SEGMENT:		return "segment";
	default:					return "burst";
	}
}

static inline const char *softdma_engine_name(enum softdma_where w)
{
	return w == SOFTDMA_ENGINE_ANY ? "any" : "local";
}

/* Is @cookie in (@after, @upto], cookies wrapping from INT_MAX to 1? */
static inline bool softdma_cookie_in(dma_cookie_t cookie, dma_cookie_t after,
				     dma_cookie_t upto)
{
	if (after <= upto)
		return cookie > after && cookie <= upto;
	return cookie > after || cookie <= upto;
}

/* How many cookies were assigned after @cookie, up to @used (wrapping). */
static inline u32 softdma_cookie_age(dma_cookie_t cookie, dma_cookie_t used)
{
	if (used >= cookie)
		return used - cookie;
	return (u32)(INT_MAX - cookie) + (u32)(used - DMA_MIN_COOKIE) + 1;
}

/* softdma_engine.c */
struct softdma_desc *softdma_desc_alloc(struct softdma_chan *sc,
					unsigned int nsegs, unsigned long flags);
struct dma_async_tx_descriptor *softdma_desc_ready(struct softdma_chan *sc,
						   struct softdma_desc *desc);
void softdma_desc_discard(struct softdma_desc *desc);
void softdma_desc_free(struct softdma_chan *sc, struct softdma_desc *desc);
void softdma_desc_drop(struct softdma_chan *sc, struct softdma_desc *desc);
void softdma_spares_drain(void);
void softdma_kick_engine(struct softdma_chan *sc);
void softdma_engine_poll(struct softdma_chan *sc);
void softdma_sync_wake(struct softdma_chan *sc);
void softdma_engine(struct work_struct *work);
void softdma_engine_bh(struct tasklet_struct *t);
void softdma_tasklet(struct tasklet_struct *t);

/* softdma_debugfs.c */
extern struct dentry *softdma_dbg_root;
void softdma_debugfs_add(struct softdma_dev *sdev);
void softdma_debugfs_remove(struct softdma_dev *sdev);

#endif /* SOFTDMA_PRIV_H */
