// SPDX-License-Identifier: GPL-2.0
/*
 * softdma - a software dmaengine provider.
 *
 * A platform device ("softdma") with N memory-to-memory channels. Each
 * channel runs the descriptors submitted to it one at a time, in submission
 * order, on an engine of its own, asynchronously to the submitter, the way a
 * hardware DMA controller does; the CPU does the copy, in 64-bit beats
 * (softdma_move()). It implements the whole provider contract of
 * include/linux/dmaengine.h (memcpy, slave_sg in both directions,
 * null/interrupt descriptors, pause/resume, terminate, synchronize,
 * ACK/REUSE) against the public header only: the channel state machine and
 * cookie bookkeeping below are this driver's own.
 *
 * Execution context: without a latency or bandwidth model the engine never
 * waits, and runs as a per-channel tasklet on the CPU that issued the work
 * (softdma_engine_bh()): asynchronous to the submitter, but without waking a
 * thread, as a DMA controller's interrupt is steered to the CPU using it.
 * With a model it is one work item per channel on a per-CPU, high priority,
 * WQ_MEM_RECLAIM workqueue, which can sleep; a work item rather than a
 * kthread per channel because idle channels then cost no thread,
 * flush_work() is exactly the "wait until the engine has let go of every
 * descriptor" that synchronize needs, and WQ_MEM_RECLAIM gives a rescuer so
 * a storage client keeps making progress under memory pressure. One run of
 * either drains the queue: descriptors issued while it runs are appended to
 * the running chain (NetDMA's Append) and picked up without re-queueing.
 *
 * Completion: the engine moves finished descriptors to the channel's
 * completed list. The engine tasklet then runs their callbacks itself, after
 * the copy; the work item engine raises the channel's callback tasklet with
 * bottom halves disabled, so they run in softirq context on the engine's CPU
 * when bottom halves are re-enabled. Either way without a context switch,
 * never with the channel lock held and never from inside issue_pending or
 * tx_submit.
 *
 * Progress is made in chunks of SOFTDMA_CHUNK bytes. Between chunks the
 * engine looks at pause/terminate requests and paces itself for the
 * bandwidth model, and the residue is updated: residue granularity BURST.
 *
 * Error semantics (NetDMA's Abort/Reset):
 * - A failed descriptor (fault injection) copies nothing and completes with
 *   DMA_TRANS_READ_FAILED or DMA_TRANS_WRITE_FAILED, residue = its length.
 * - The channel then HALTS: every descriptor behind it, issued or only
 *   submitted, completes at once with DMA_TRANS_ABORTED (residue = its
 *   length) and its callback is invoked, in order, after the failed one's.
 * - While halted, prep returns NULL and tx_submit returns -EIO (a descriptor
 *   without DMA_CTRL_REUSE is freed by the provider). tx_status reports
 *   DMA_ERROR for the failed and aborted cookies.
 * - Only device_terminate_all (the reset) returns the channel to accepting
 *   work. It drops everything queued or running without callbacks; the
 *   cookies it drops also report DMA_ERROR.
 *
 * Pause stops the engine at the next chunk boundary (at most one chunk of
 * data moves after device_pause returns); a paused channel completes no
 * descriptor. Resume continues where it stopped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "compat.h"

#define SOFTDMA_NAME		"softdma"
#define SOFTDMA_CHUNK		SZ_64K	/* bytes copied between checks */
#define SOFTDMA_MAX_CHANNELS	64
#define SOFTDMA_MAX_LATENCY_US	10000000	/* 10 s */
#define SOFTDMA_TASKLET_BUDGET	64	/* callbacks per tasklet run */
#define SOFTDMA_BH_BUDGET	SZ_1M	/* bytes per engine_bh run */
#define SOFTDMA_SPARES		64	/* spare descriptors kept per CPU */
#define SOFTDMA_WIDTHS		(BIT(DMA_SLAVE_BUSWIDTH_1_BYTE) | \
				 BIT(DMA_SLAVE_BUSWIDTH_2_BYTES) | \
				 BIT(DMA_SLAVE_BUSWIDTH_4_BYTES) | \
				 BIT(DMA_SLAVE_BUSWIDTH_8_BYTES))

static unsigned int channels;
module_param(channels, uint, 0444);
MODULE_PARM_DESC(channels,
		 "Number of DMA channels, 1-64. Default: 0 = one per online CPU");

static unsigned int latency_us;
module_param(latency_us, uint, 0444);
MODULE_PARM_DESC(latency_us,
		 "Initial per-descriptor latency of every channel in microseconds, 0-10000000. Default: 0");

static unsigned int bandwidth_kbps;
module_param(bandwidth_kbps, uint, 0444);
MODULE_PARM_DESC(bandwidth_kbps,
		 "Initial bandwidth limit of every channel in kB/s (1000 bytes/s), 0 = unlimited. Default: 0");

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
	SOFTDMA_F_NR,
};

static const char * const softdma_file_names[SOFTDMA_F_NR] = {
	[SOFTDMA_F_FAIL_NTH]		= "fail_nth",
	[SOFTDMA_F_FAIL_EVERY]		= "fail_every",
	[SOFTDMA_F_STALL_NTH]		= "stall_nth",
	[SOFTDMA_F_LATENCY_US]		= "latency_us",
	[SOFTDMA_F_BANDWIDTH_KBPS]	= "bandwidth_kbps",
	[SOFTDMA_F_SUBMITTED]		= "submitted",
	[SOFTDMA_F_COMPLETED]		= "completed",
	[SOFTDMA_F_FAILED]		= "failed",
	[SOFTDMA_F_ABORTED]		= "aborted",
	[SOFTDMA_F_TERMINATED]		= "terminated",
	[SOFTDMA_F_QUEUED]		= "queued",
	[SOFTDMA_F_DESCRIPTORS]		= "descriptors",
	[SOFTDMA_F_HALTED]		= "halted",
	[SOFTDMA_F_PAUSED]		= "paused",
	[SOFTDMA_F_STALLED]		= "stalled",
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
 * @copying: @active is being copied by the engine outside the lock
 * @running: the work item is queued or running
 * @paused: device_pause in effect
 * @halted: a descriptor failed; only terminate_all clears it
 * @stalled: the active descriptor was stalled by fault injection
 * @has_err: @err_after/@err_upto hold the last failed/dropped cookie range
 * @err_after: cookies in (@err_after, @err_upto] report DMA_ERROR
 * @err_upto: see @err_after
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
 * @wq: the engine sleeps here (latency, bandwidth); woken by pause/terminate
 * @work: the engine
 * @cb_busy: a context is running callbacks (see softdma_run_callbacks())
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
	bool has_err;
	dma_cookie_t err_after;
	dma_cookie_t err_upto;
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
	wait_queue_head_t wq;
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

static struct workqueue_struct *softdma_wq;
static struct kmem_cache *softdma_desc_cache;

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

static DEFINE_PER_CPU(struct softdma_spares, softdma_spares);
static struct dentry *softdma_dbg_root;
static struct platform_device *softdma_pdev;

static inline struct softdma_chan *to_softdma_chan(struct dma_chan *chan)
{
	return container_of(chan, struct softdma_chan, chan);
}

static inline struct softdma_desc *to_softdma_desc(struct dma_async_tx_descriptor *tx)
{
	return container_of(tx, struct softdma_desc, tx);
}

static struct device *softdma_dev(struct softdma_chan *sc)
{
	return sc->chan.device->dev;
}

/* Is @cookie in (@after, @upto], cookies wrapping from INT_MAX to 1? */
static bool softdma_cookie_in(dma_cookie_t cookie, dma_cookie_t after,
			      dma_cookie_t upto)
{
	if (after <= upto)
		return cookie > after && cookie <= upto;
	return cookie > after || cookie <= upto;
}

/*
 * Translate a DMA address range of our device to a CPU pointer. Valid only
 * for direct mapping (probe refuses a device behind an IOMMU); the range
 * must be RAM of the linear map.
 */
static void *softdma_to_virt(struct softdma_chan *sc, dma_addr_t addr, u32 len)
{
	phys_addr_t phys = dma_to_phys(softdma_dev(sc), addr);

	if (phys == (phys_addr_t)-1 || !pfn_valid(PHYS_PFN(phys)) ||
	    !pfn_valid(PHYS_PFN(phys + len - 1)))
		return NULL;
	return phys_to_virt(phys);
}

/* A spare descriptor of this CPU, or NULL. */
static struct softdma_desc *softdma_spare_get(void)
{
	struct softdma_spares *sp;
	struct softdma_desc *desc;
	unsigned long flags;

	local_irq_save(flags);
	sp = this_cpu_ptr(&softdma_spares);
	desc = sp->head;
	if (desc) {
		sp->head = (struct softdma_desc *)desc->node.next;
		sp->nr--;
	}
	local_irq_restore(flags);
	return desc;
}

/* Free a descriptor: keep it as a spare of this CPU if it has room. */
static void softdma_desc_discard(struct softdma_desc *desc)
{
	struct softdma_spares *sp;
	unsigned long flags;

	if (desc->segs != &desc->one) {
		kfree(desc->segs);
	} else {
		local_irq_save(flags);
		sp = this_cpu_ptr(&softdma_spares);
		if (sp->nr < SOFTDMA_SPARES) {
			desc->node.next = (struct list_head *)sp->head;
			sp->head = desc;
			sp->nr++;
			desc = NULL;
		}
		local_irq_restore(flags);
		if (!desc)
			return;
	}
	kmem_cache_free(softdma_desc_cache, desc);
}

/* Free every CPU's spares (module unload: no channel is left). */
static void softdma_spares_drain(void)
{
	struct softdma_spares *sp;
	struct softdma_desc *desc;
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		sp = per_cpu_ptr(&softdma_spares, cpu);
		while ((desc = sp->head)) {
			sp->head = (struct softdma_desc *)desc->node.next;
			kmem_cache_free(softdma_desc_cache, desc);
		}
		sp->nr = 0;
	}
}

static void softdma_desc_free(struct softdma_chan *sc, struct softdma_desc *desc)
{
	lockdep_assert_held(&sc->lock);
	sc->nr_desc--;
	softdma_desc_discard(desc);
}

/* Let go of a descriptor that ended without a callback (terminated). */
static void softdma_desc_drop(struct softdma_chan *sc, struct softdma_desc *desc)
{
	lockdep_assert_held(&sc->lock);
	if (dmaengine_desc_test_reuse(&desc->tx)) {
		desc->state = SOFTDMA_DESC_IDLE;
		list_add_tail(&desc->node, &sc->parked);
	} else {
		softdma_desc_free(sc, desc);
	}
}

/* Free the unacked descriptors the client has acked meanwhile. */
static void softdma_reap_acked(struct softdma_chan *sc)
{
	struct softdma_desc *desc, *tmp;

	lockdep_assert_held(&sc->lock);
	if (!sc->nr_unacked)
		return;
	list_for_each_entry_safe(desc, tmp, &sc->parked, node) {
		if (desc->state == SOFTDMA_DESC_UNACKED &&
		    async_tx_test_ack(&desc->tx)) {
			list_del(&desc->node);
			sc->nr_unacked--;
			softdma_desc_free(sc, desc);
		}
	}
}

/* Finish @desc: completed cookie, completed list. Not for ->active. */
static void softdma_complete(struct softdma_chan *sc, struct softdma_desc *desc,
			     enum dmaengine_tx_result result, u32 residue)
{
	lockdep_assert_held(&sc->lock);
	desc->result = result;
	desc->residue = residue;
	desc->state = SOFTDMA_DESC_COMPLETED;
	sc->chan.completed_cookie = desc->tx.cookie;
	list_add_tail(&desc->node, &sc->completed);
}

/*
 * Fail @desc (the active descriptor) and halt the channel: abort everything
 * behind it, with callbacks. See the error semantics at the top.
 */
static void softdma_halt(struct softdma_chan *sc, struct softdma_desc *desc)
{
	struct softdma_desc *d, *tmp;
	dma_cookie_t before = sc->chan.completed_cookie;

	lockdep_assert_held(&sc->lock);
	sc->active = NULL;
	softdma_complete(sc, desc, sc->fail_result, desc->len);
	sc->nr_failed++;
	list_splice_tail_init(&sc->submitted, &sc->issued);
	list_for_each_entry_safe(d, tmp, &sc->issued, node) {
		list_del(&d->node);
		softdma_complete(sc, d, DMA_TRANS_ABORTED, d->len);
		sc->nr_aborted++;
	}
	sc->chan.completed_cookie = sc->chan.cookie;
	sc->has_err = true;
	sc->err_after = before;
	sc->err_upto = sc->chan.cookie;
	sc->halted = true;
}

/* Decide the fate of a descriptor the engine starts: the fault knobs. */
static enum softdma_fate softdma_fate(struct softdma_chan *sc)
{
	enum softdma_fate fate = SOFTDMA_FATE_RUN;

	lockdep_assert_held(&sc->lock);
	if (sc->stall_nth && --sc->stall_nth == 0)
		fate = SOFTDMA_FATE_STALL;
	if (sc->fail_every && ++sc->every_count >= sc->fail_every) {
		sc->every_count = 0;
		fate = SOFTDMA_FATE_FAIL;
	}
	if (sc->fail_nth && --sc->fail_nth == 0)
		fate = SOFTDMA_FATE_FAIL;
	return fate;
}

static bool softdma_can_run(struct softdma_chan *sc)
{
	lockdep_assert_held(&sc->lock);
	return !sc->paused && !sc->halted && !sc->stalled &&
	       (sc->active || !list_empty(&sc->issued));
}

/* Whether the speed model asks the engine to wait: then it must be able to sleep. */
static bool softdma_timed(struct softdma_chan *sc, struct softdma_desc *desc)
{
	return sc->latency_us || sc->bandwidth_kbps || (desc && desc->not_before);
}

/* Start the engine if it is idle and has work. */
static void softdma_kick_engine(struct softdma_chan *sc)
{
	lockdep_assert_held(&sc->lock);
	if (!sc->running && softdma_can_run(sc)) {
		sc->running = true;
		if (softdma_timed(sc, NULL))
			queue_work(softdma_wq, &sc->work);
		else
			tasklet_schedule(&sc->engine_bh);
	}
}

/*
 * The engine's next descriptor: the active one, or the next issued one,
 * which it starts (fault decisions, latency). NULL if it must stop.
 * Sets *@kick when it completed descriptors (a halt).
 */
static struct softdma_desc *softdma_next(struct softdma_chan *sc, bool *kick)
{
	struct softdma_desc *desc;

	lockdep_assert_held(&sc->lock);
	if (!softdma_can_run(sc))
		return NULL;
	if (sc->active)
		return sc->active;

	desc = list_first_entry(&sc->issued, struct softdma_desc, node);
	list_del(&desc->node);
	desc->state = SOFTDMA_DESC_ACTIVE;
	sc->active = desc;
	switch (softdma_fate(sc)) {
	case SOFTDMA_FATE_FAIL:
		softdma_halt(sc, desc);
		*kick = true;
		return NULL;
	case SOFTDMA_FATE_STALL:
		sc->stalled = true;
		return NULL;
	case SOFTDMA_FATE_RUN:
		break;
	}
	desc->not_before = sc->latency_us ?
		ktime_add_us(ktime_get(), sc->latency_us) : 0;
	return desc;
}

/* The active descriptor has moved all its bytes: it completes. */
static void softdma_desc_done(struct softdma_chan *sc, struct softdma_desc *desc)
{
	lockdep_assert_held(&sc->lock);
	sc->active = NULL;
	softdma_complete(sc, desc, DMA_TRANS_NOERROR, 0);
	sc->nr_completed++;
	this_cpu_inc(sc->chan.local->memcpy_count);
}

/* Back under the lock after copying @n bytes of @desc; a terminate meanwhile drops it. */
static void softdma_copy_end(struct softdma_chan *sc, struct softdma_desc *desc,
			     u32 n)
{
	lockdep_assert_held(&sc->lock);
	sc->copying = false;
	desc->done += n;
	if (desc->state == SOFTDMA_DESC_TERMINATED)
		softdma_desc_drop(sc, desc);
}

/*
 * The engine's data path: 64 bits wide, like the bus of a DMA controller.
 * When source and destination are equally aligned: bytes up to the 8-byte
 * boundary, 64-bit beats, then the bytes left; otherwise memcpy(). Not
 * memcpy() for the beats on purpose: the kernel's memcpy() uses the CPU's
 * string instruction (rep movsb on a CPU with ERMS), which an emulator such
 * as QEMU's TCG executes one byte at a time, about ten times slower than
 * these loads and stores; on hardware the two are alike. Four loads before
 * four stores keep the compiler from making the loop a memcpy() call.
 */
static void softdma_move(void *dst, const void *src, u32 len)
{
	u8 *d = dst;
	const u8 *s = src;

	if (((unsigned long)d ^ (unsigned long)s) & (sizeof(u64) - 1)) {
		memcpy(d, s, len);
		return;
	}
	while (len && !IS_ALIGNED((unsigned long)d, sizeof(u64))) {
		*d++ = *s++;
		len--;
	}
	for (; len >= 4 * sizeof(u64); len -= 4 * sizeof(u64)) {
		const u64 *s8 = (const u64 *)s;
		u64 *d8 = (u64 *)d;
		u64 b0 = s8[0], b1 = s8[1], b2 = s8[2], b3 = s8[3];

		d8[0] = b0;
		d8[1] = b1;
		d8[2] = b2;
		d8[3] = b3;
		d += 4 * sizeof(u64);
		s += 4 * sizeof(u64);
	}
	while (len--)
		*d++ = *s++;
}

/* Copy up to @n bytes of @desc at its cursor. Engine only, lock not held. */
static void softdma_copy(struct softdma_desc *desc, u32 n)
{
	while (n) {
		struct softdma_seg *seg = &desc->segs[desc->seg];
		u32 len = min(n, seg->len - desc->seg_off);

		softdma_move(seg->dst + desc->seg_off, seg->src + desc->seg_off, len);
		n -= len;
		desc->seg_off += len;
		if (desc->seg_off == seg->len) {
			desc->seg++;
			desc->seg_off = 0;
		}
	}
}

/* Wake-up condition of the engine's sleeps: pause or terminate. */
static bool softdma_interrupted(struct softdma_chan *sc,
				struct softdma_desc *desc)
{
	return READ_ONCE(sc->paused) ||
	       READ_ONCE(desc->state) == SOFTDMA_DESC_TERMINATED;
}

/* Retire a completed descriptor: free it, or park it for reuse or an ack. */
static void softdma_retire(struct softdma_chan *sc, struct softdma_desc *desc)
{
	struct dma_async_tx_descriptor *tx = &desc->tx;

	lockdep_assert_held(&sc->lock);
	list_del(&desc->node);
	if (dmaengine_desc_test_reuse(tx)) {
		desc->state = SOFTDMA_DESC_IDLE;
		list_add_tail(&desc->node, &sc->parked);
	} else if (async_tx_test_ack(tx)) {
		softdma_desc_free(sc, desc);
	} else {
		desc->state = SOFTDMA_DESC_UNACKED;
		sc->nr_unacked++;
		list_add_tail(&desc->node, &sc->parked);
	}
}

/*
 * Run the callbacks of the completed descriptors, oldest first, one at a
 * time with the lock dropped, so that a terminate_all from a callback stops
 * the callbacks of the descriptors behind it. Descriptors without a callback
 * are retired in one pass under the lock. One context at a time runs
 * callbacks (@cb_busy): one that finds another at it leaves its completions
 * to that one, which looks at the list again under the lock before it lets
 * go. After @budget callbacks the channel tasklet carries on. Called and
 * returns with the lock held (interrupts off).
 */
static void softdma_run_callbacks_locked(struct softdma_chan *sc,
					 unsigned int budget)
	__must_hold(&sc->lock)
{
	struct softdma_desc *desc, *tmp;
	struct dmaengine_result res;
	dma_async_tx_callback_result cb_result;
	dma_async_tx_callback cb;
	void *param;

	lockdep_assert_held(&sc->lock);
	if (sc->cb_busy)
		return;
	sc->cb_busy = true;
	for (;;) {
		list_for_each_entry_safe(desc, tmp, &sc->completed, node) {
			if (desc->tx.callback_result || desc->tx.callback)
				break;
			softdma_retire(sc, desc);
		}
		if (list_empty(&sc->completed))
			break;
		if (!budget--) {
			tasklet_schedule(&sc->tasklet);
			break;
		}
		desc = list_first_entry(&sc->completed, struct softdma_desc, node);
		cb_result = desc->tx.callback_result;
		cb = desc->tx.callback;
		param = desc->tx.callback_param;
		res.result = desc->result;
		res.residue = desc->residue;
		softdma_retire(sc, desc);
		spin_unlock_irq(&sc->lock);

		if (cb_result)
			cb_result(param, &res);
		else
			cb(param);
		spin_lock_irq(&sc->lock);
	}
	sc->cb_busy = false;
}

static void softdma_run_callbacks(struct softdma_chan *sc, unsigned int budget)
{
	spin_lock_irq(&sc->lock);
	softdma_run_callbacks_locked(sc, budget);
	spin_unlock_irq(&sc->lock);
}

/* Run the completion tasklet now, in softirq context on this CPU. */
static void softdma_kick_callbacks(struct softdma_chan *sc)
{
	local_bh_disable();
	tasklet_schedule(&sc->tasklet);
	local_bh_enable();
}

/**
 * softdma_engine() - the channel's engine (work function)
 * @work: the channel's work item
 *
 * Runs the channel's descriptors until the queue is empty or the channel
 * is paused, stalled or halted; descriptors issued meanwhile are appended.
 *
 * Context: process context (workqueue), may sleep; takes the channel lock.
 */
static void softdma_engine(struct work_struct *work)
{
	struct softdma_chan *sc = container_of(work, struct softdma_chan, work);
	struct softdma_desc *desc;
	bool kick = false;

	spin_lock_irq(&sc->lock);
	while ((desc = softdma_next(sc, &kick))) {
		ktime_t now = ktime_get(), until = 0;
		u32 n = 0;

		if (desc->done == desc->len && !ktime_before(now, desc->not_before)) {
			softdma_desc_done(sc, desc);
			kick = true;
			continue;
		}
		if (ktime_before(now, desc->not_before)) {
			until = desc->not_before;
		} else {
			n = min_t(u32, desc->len - desc->done, SOFTDMA_CHUNK);
			if (sc->bandwidth_kbps) {
				/* n bytes at kbps * 1000 bytes/s */
				u64 ns = div_u64((u64)n * NSEC_PER_MSEC,
						 sc->bandwidth_kbps);

				if (ktime_before(sc->bw_next, now))
					sc->bw_next = now;
				sc->bw_next = ktime_add_ns(sc->bw_next, ns);
				until = sc->bw_next;
			}
		}
		sc->copying = true;
		spin_unlock_irq(&sc->lock);

		if (kick) {
			softdma_kick_callbacks(sc);
			kick = false;
		}
		if (n) {
			softdma_copy(desc, n);
			this_cpu_add(sc->chan.local->bytes_transferred, n);
		}
		if (until) {
			ktime_t left = ktime_sub(until, ktime_get());

			/*
			 * Not with a deadline already past: a negative relative
			 * hrtimer expiry saturates to KTIME_SEC_MAX
			 * (ktime_add_safe()), and the engine would sleep until
			 * a pause or a terminate woke it.
			 */
			if (ktime_to_ns(left) > 0)
				wait_event_hrtimeout(sc->wq,
						     softdma_interrupted(sc, desc),
						     left);
		}
		cond_resched();

		spin_lock_irq(&sc->lock);
		softdma_copy_end(sc, desc, n);
	}
	sc->running = false;
	spin_unlock_irq(&sc->lock);
	if (kick)
		softdma_kick_callbacks(sc);
}

/**
 * softdma_engine_bh() - the engine, as a tasklet of the channel
 * @t: the channel's engine tasklet
 *
 * Without a latency or bandwidth model the engine never waits, so it runs
 * in softirq context on the CPU that issued the work: asynchronously to the
 * submitter, in submission order, one descriptor at a time, like the work
 * item, but without waking a thread (a client that issues with bottom halves
 * disabled gets the copy when it enables them, as from a real controller's
 * interrupt). It copies up to SOFTDMA_BH_BUDGET bytes per run, then yields;
 * if a timing model appears meanwhile it hands over to the work item.
 *
 * Context: softirq; takes the channel lock, copies without it.
 */
static void softdma_engine_bh(struct tasklet_struct *t)
{
	struct softdma_chan *sc = from_tasklet(sc, t, engine_bh);
	u32 budget = SOFTDMA_BH_BUDGET;
	struct softdma_desc *desc;
	bool kick = false;

	spin_lock_irq(&sc->lock);
	while ((desc = softdma_next(sc, &kick))) {
		u32 n;

		if (softdma_timed(sc, desc)) {
			/* running stays set: the work item carries on */
			queue_work(softdma_wq, &sc->work);
			goto out;
		}
		if (desc->done == desc->len) {
			softdma_desc_done(sc, desc);
			kick = true;
			continue;
		}
		if (!budget) {
			tasklet_schedule(&sc->engine_bh);
			goto out;
		}
		n = min3(desc->len - desc->done, (u32)SOFTDMA_CHUNK, budget);
		sc->copying = true;
		spin_unlock_irq(&sc->lock);
		softdma_copy(desc, n);
		this_cpu_add(sc->chan.local->bytes_transferred, n);
		budget -= n;
		spin_lock_irq(&sc->lock);
		softdma_copy_end(sc, desc, n);
	}
	sc->running = false;
out:
	if (kick)
		softdma_run_callbacks_locked(sc, SOFTDMA_TASKLET_BUDGET);
	spin_unlock_irq(&sc->lock);
}

/**
 * softdma_tasklet() - run the completion callbacks
 * @t: the channel's tasklet
 *
 * For each completed descriptor: retire it (free, park for reuse or keep
 * until acked), then invoke its callback with the lock dropped. The engine
 * tasklet runs the callbacks of what it completed itself; this one runs
 * those of the work item engine, of a halt, and what a budget left.
 *
 * Context: softirq; takes the channel lock, never holds it in a callback.
 */
static void softdma_tasklet(struct tasklet_struct *t)
{
	struct softdma_chan *sc = from_tasklet(sc, t, tasklet);

	softdma_run_callbacks(sc, SOFTDMA_TASKLET_BUDGET);
}

/**
 * softdma_tx_submit() - queue a prepared descriptor (dmaengine tx_submit)
 * @tx: the descriptor
 *
 * Assigns the next cookie and queues @tx behind the channel's submitted
 * work; it runs after the next issue_pending. A DMA_CTRL_REUSE descriptor
 * may be submitted again once it has completed.
 *
 * Context: any context, including hardirq.
 * Return: the cookie; -EIO if the channel is halted (the descriptor is freed
 * unless it has DMA_CTRL_REUSE); -EBUSY if the descriptor is already queued.
 */
static dma_cookie_t softdma_tx_submit(struct dma_async_tx_descriptor *tx)
{
	struct softdma_chan *sc = to_softdma_chan(tx->chan);
	struct softdma_desc *desc = to_softdma_desc(tx);
	dma_cookie_t cookie;
	unsigned long flags;

	spin_lock_irqsave(&sc->lock, flags);
	if (desc->state != SOFTDMA_DESC_PREPARED &&
	    desc->state != SOFTDMA_DESC_IDLE) {
		spin_unlock_irqrestore(&sc->lock, flags);
		return -EBUSY;
	}
	if (sc->halted) {
		if (!dmaengine_desc_test_reuse(tx)) {
			list_del(&desc->node);
			softdma_desc_free(sc, desc);
		}
		spin_unlock_irqrestore(&sc->lock, flags);
		return -EIO;
	}
	list_del(&desc->node);
	cookie = sc->chan.cookie == INT_MAX ? DMA_MIN_COOKIE : sc->chan.cookie + 1;
	sc->chan.cookie = cookie;
	tx->cookie = cookie;
	desc->state = SOFTDMA_DESC_QUEUED;
	desc->done = 0;
	desc->seg = 0;
	desc->seg_off = 0;
	list_add_tail(&desc->node, &sc->submitted);
	sc->nr_submitted++;
	spin_unlock_irqrestore(&sc->lock, flags);
	return cookie;
}

/**
 * softdma_tx_desc_free() - free a DMA_CTRL_REUSE descriptor (desc_free)
 * @tx: the descriptor
 *
 * Context: any context.
 * Return: 0, or -EBUSY if the descriptor is queued or running.
 */
static int softdma_tx_desc_free(struct dma_async_tx_descriptor *tx)
{
	struct softdma_chan *sc = to_softdma_chan(tx->chan);
	struct softdma_desc *desc = to_softdma_desc(tx);
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&sc->lock, flags);
	switch (desc->state) {
	case SOFTDMA_DESC_UNACKED:
		sc->nr_unacked--;
		fallthrough;
	case SOFTDMA_DESC_PREPARED:
	case SOFTDMA_DESC_IDLE:
		list_del(&desc->node);
		softdma_desc_free(sc, desc);
		break;
	case SOFTDMA_DESC_TERMINATED:
		tx->flags &= ~DMA_CTRL_REUSE;	/* the engine frees it */
		break;
	default:
		ret = -EBUSY;
		break;
	}
	spin_unlock_irqrestore(&sc->lock, flags);
	return ret;
}

/* Allocate a descriptor with room for @nsegs segments. */
static struct softdma_desc *softdma_desc_alloc(struct softdma_chan *sc,
					       unsigned int nsegs,
					       unsigned long flags)
{
	struct softdma_desc *desc;

	if (READ_ONCE(sc->halted))
		return NULL;
	desc = softdma_spare_get();
	if (desc)
		memset(desc, 0, sizeof(*desc));
	else
		desc = kmem_cache_zalloc(softdma_desc_cache, GFP_NOWAIT);
	if (!desc)
		return NULL;
	desc->segs = &desc->one;
	if (nsegs > 1) {
		desc->segs = kcalloc(nsegs, sizeof(*desc->segs), GFP_NOWAIT);
		if (!desc->segs) {
			desc->segs = &desc->one;
			softdma_desc_discard(desc);
			return NULL;
		}
	}
	desc->nsegs = nsegs;
	dma_async_tx_descriptor_init(&desc->tx, &sc->chan);
	desc->tx.flags = flags;
	desc->tx.tx_submit = softdma_tx_submit;
	desc->tx.desc_free = softdma_tx_desc_free;
	return desc;
}

/* Hand a filled descriptor to the client: park it until submit. */
static struct dma_async_tx_descriptor *
softdma_desc_ready(struct softdma_chan *sc, struct softdma_desc *desc)
{
	unsigned long flags;

	spin_lock_irqsave(&sc->lock, flags);
	sc->nr_desc++;
	if (sc->halted) {
		softdma_desc_free(sc, desc);
		desc = NULL;
	} else {
		softdma_reap_acked(sc);
		desc->state = SOFTDMA_DESC_PREPARED;
		list_add_tail(&desc->node, &sc->parked);
	}
	spin_unlock_irqrestore(&sc->lock, flags);
	return desc ? &desc->tx : NULL;
}

/**
 * softdma_prep_memcpy() - prepare a memory to memory copy
 * @chan: the channel
 * @dst: destination, a DMA address of the softdma device
 * @src: source, a DMA address of the softdma device
 * @len: bytes, 1 to U32_MAX
 * @flags: DMA_CTRL_ACK, DMA_PREP_INTERRUPT, ...
 *
 * Context: any context, including hardirq; does not sleep.
 * Return: the descriptor, or NULL if the channel is halted, out of memory,
 * or the arguments are invalid (logged).
 */
static struct dma_async_tx_descriptor *
softdma_prep_memcpy(struct dma_chan *chan, dma_addr_t dst, dma_addr_t src,
		    size_t len, unsigned long flags)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	struct softdma_desc *desc;
	void *vsrc, *vdst;

	if (!len || len > U32_MAX) {
		dev_err_ratelimited(softdma_dev(sc), "%s: memcpy of %zu bytes refused\n",
				    dma_chan_name(chan), len);
		return NULL;
	}
	vsrc = softdma_to_virt(sc, src, len);
	vdst = softdma_to_virt(sc, dst, len);
	if (!vsrc || !vdst) {
		dev_err_ratelimited(softdma_dev(sc), "%s: memcpy %pad <- %pad: not RAM\n",
				    dma_chan_name(chan), &dst, &src);
		return NULL;
	}
	desc = softdma_desc_alloc(sc, 1, flags);
	if (!desc)
		return NULL;
	desc->one.src = vsrc;
	desc->one.dst = vdst;
	desc->one.len = len;
	desc->len = len;
	return softdma_desc_ready(sc, desc);
}

/**
 * softdma_prep_interrupt() - prepare a null descriptor
 * @chan: the channel
 * @flags: DMA_CTRL_ACK, DMA_PREP_INTERRUPT, ...
 *
 * Moves no data; completes (and calls back) in order with the others.
 *
 * Context: any context, including hardirq; does not sleep.
 * Return: the descriptor, or NULL if halted or out of memory.
 */
static struct dma_async_tx_descriptor *
softdma_prep_interrupt(struct dma_chan *chan, unsigned long flags)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	struct softdma_desc *desc;

	desc = softdma_desc_alloc(sc, 0, flags);
	if (!desc)
		return NULL;
	return softdma_desc_ready(sc, desc);
}

/**
 * softdma_prep_slave_sg() - prepare a slave transfer
 * @chan: the channel
 * @sgl: memory side, mapped with the softdma device
 * @sg_len: entries in @sgl
 * @dir: DMA_MEM_TO_DEV or DMA_DEV_TO_MEM
 * @flags: DMA_CTRL_ACK, DMA_PREP_INTERRUPT, ...
 * @context: unused
 *
 * The device side is a memory-mapped device buffer at the address given by
 * device_config (dst_addr for MEM_TO_DEV, src_addr for DEV_TO_MEM), a DMA
 * address of the softdma device; it increments: entry i of @sgl moves to or
 * from the device address plus the lengths of entries 0..i-1. Each entry's
 * length must be a multiple of the configured bus width.
 *
 * Context: any context, including hardirq; does not sleep.
 * Return: the descriptor, or NULL if halted, out of memory or the request is
 * invalid (logged).
 */
static struct dma_async_tx_descriptor *
softdma_prep_slave_sg(struct dma_chan *chan, struct scatterlist *sgl,
		      unsigned int sg_len, enum dma_transfer_direction dir,
		      unsigned long flags, void *context)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	enum dma_slave_buswidth width;
	struct softdma_desc *desc;
	struct scatterlist *sg;
	dma_addr_t dev_addr;
	unsigned long irqflags;
	u64 total = 0;
	void *dev_virt;
	unsigned int i;

	if (dir != DMA_MEM_TO_DEV && dir != DMA_DEV_TO_MEM) {
		dev_err_ratelimited(softdma_dev(sc), "%s: slave direction %d refused\n",
				    dma_chan_name(chan), dir);
		return NULL;
	}
	spin_lock_irqsave(&sc->lock, irqflags);
	if (dir == DMA_MEM_TO_DEV) {
		dev_addr = sc->cfg.dst_addr;
		width = sc->cfg.dst_addr_width;
	} else {
		dev_addr = sc->cfg.src_addr;
		width = sc->cfg.src_addr_width;
	}
	spin_unlock_irqrestore(&sc->lock, irqflags);
	if (width == DMA_SLAVE_BUSWIDTH_UNDEFINED)
		width = DMA_SLAVE_BUSWIDTH_1_BYTE;

	for_each_sg(sgl, sg, sg_len, i) {
		if (!sg_dma_len(sg) || sg_dma_len(sg) % width)
			goto bad_len;
		total += sg_dma_len(sg);
	}
	if (!sg_len || total > U32_MAX)
		goto bad_len;
	dev_virt = softdma_to_virt(sc, dev_addr, total);
	if (!dev_virt) {
		dev_err_ratelimited(softdma_dev(sc), "%s: device address %pad: not RAM (device_config?)\n",
				    dma_chan_name(chan), &dev_addr);
		return NULL;
	}

	desc = softdma_desc_alloc(sc, sg_len, flags);
	if (!desc)
		return NULL;
	for_each_sg(sgl, sg, sg_len, i) {
		struct softdma_seg *seg = &desc->segs[i];
		dma_addr_t addr = sg_dma_address(sg);
		void *mem = softdma_to_virt(sc, addr, sg_dma_len(sg));

		if (!mem) {
			dev_err_ratelimited(softdma_dev(sc), "%s: sg entry %u at %pad: not RAM\n",
					    dma_chan_name(chan), i, &addr);
			softdma_desc_discard(desc);
			return NULL;
		}
		seg->len = sg_dma_len(sg);
		seg->src = dir == DMA_MEM_TO_DEV ? mem : dev_virt + desc->len;
		seg->dst = dir == DMA_MEM_TO_DEV ? dev_virt + desc->len : mem;
		desc->len += seg->len;
	}
	return softdma_desc_ready(sc, desc);

bad_len:
	dev_err_ratelimited(softdma_dev(sc), "%s: slave sg of %u entries: empty, too long or not a multiple of the %u byte bus width\n",
			    dma_chan_name(chan), sg_len, width);
	return NULL;
}

/* 0 (undefined: 1 byte) or one of SOFTDMA_WIDTHS */
static bool softdma_width_ok(enum dma_slave_buswidth width)
{
	return width <= DMA_SLAVE_BUSWIDTH_8_BYTES &&
	       (width == DMA_SLAVE_BUSWIDTH_UNDEFINED ||
		(BIT(width) & SOFTDMA_WIDTHS));
}

/**
 * softdma_config() - set the slave configuration (device_config)
 * @chan: the channel
 * @cfg: device addresses and bus widths; bursts are ignored
 *
 * Applies to transfers prepared after it.
 *
 * Context: any context.
 * Return: 0, or -EINVAL for an unsupported bus width.
 */
static int softdma_config(struct dma_chan *chan, struct dma_slave_config *cfg)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	unsigned long flags;

	if (!softdma_width_ok(cfg->src_addr_width) ||
	    !softdma_width_ok(cfg->dst_addr_width)) {
		dev_err_ratelimited(softdma_dev(sc), "%s: bus width %u/%u bytes not supported\n",
				    dma_chan_name(chan), cfg->src_addr_width,
				    cfg->dst_addr_width);
		return -EINVAL;
	}
	spin_lock_irqsave(&sc->lock, flags);
	sc->cfg = *cfg;
	spin_unlock_irqrestore(&sc->lock, flags);
	return 0;
}

/**
 * softdma_issue_pending() - start the submitted descriptors
 * @chan: the channel
 *
 * Appends the submitted descriptors to the engine's queue and starts the
 * engine if it is idle; a running engine picks them up after its current
 * descriptor. Never runs a callback.
 *
 * Context: any context, including hardirq.
 */
static void softdma_issue_pending(struct dma_chan *chan)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&sc->lock, flags);
	list_splice_tail_init(&sc->submitted, &sc->issued);
	softdma_kick_engine(sc);
	spin_unlock_irqrestore(&sc->lock, flags);
}

/* Bytes left of the queued or active descriptor with @cookie. */
static u32 softdma_residue(struct softdma_chan *sc, dma_cookie_t cookie)
{
	struct softdma_desc *desc;

	lockdep_assert_held(&sc->lock);
	if (sc->active && sc->active->tx.cookie == cookie)
		return sc->active->len - sc->active->done;
	list_for_each_entry(desc, &sc->issued, node)
		if (desc->tx.cookie == cookie)
			return desc->len;
	list_for_each_entry(desc, &sc->submitted, node)
		if (desc->tx.cookie == cookie)
			return desc->len;
	return 0;
}

/**
 * softdma_tx_status() - state of a transfer
 * @chan: the channel
 * @cookie: the transfer
 * @state: if not NULL, gets last completed and last used cookie, residue
 *
 * The residue is exact to a chunk (BURST granularity) for an in-progress or
 * paused transfer, and 0 for a completed or failed one (the callback's
 * dmaengine_result carries a failed transfer's residue).
 *
 * Context: any context, including hardirq.
 * Return: DMA_COMPLETE, DMA_IN_PROGRESS, DMA_PAUSED (channel paused, transfer
 * not complete) or DMA_ERROR (failed, aborted behind a failure, or dropped
 * by terminate_all).
 */
static enum dma_status softdma_tx_status(struct dma_chan *chan,
					 dma_cookie_t cookie,
					 struct dma_tx_state *state)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	dma_cookie_t last, used;
	enum dma_status status;
	unsigned long flags;
	u32 residue = 0;

	spin_lock_irqsave(&sc->lock, flags);
	last = chan->completed_cookie;
	used = chan->cookie;
	status = dma_async_is_complete(cookie, last, used);
	if (status == DMA_COMPLETE) {
		if (sc->has_err &&
		    softdma_cookie_in(cookie, sc->err_after, sc->err_upto))
			status = DMA_ERROR;
	} else {
		residue = softdma_residue(sc, cookie);
		if (sc->paused)
			status = DMA_PAUSED;
	}
	spin_unlock_irqrestore(&sc->lock, flags);
	dma_set_tx_state(state, last, used, residue);
	return status;
}

/**
 * softdma_pause() - pause the channel
 * @chan: the channel
 *
 * The engine stops at its next chunk boundary: at most one chunk
 * (SOFTDMA_CHUNK bytes) moves after this returns, and no descriptor
 * completes until resume. tx_status reports DMA_PAUSED.
 *
 * Context: any context.
 * Return: 0.
 */
static int softdma_pause(struct dma_chan *chan)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&sc->lock, flags);
	WRITE_ONCE(sc->paused, true);
	spin_unlock_irqrestore(&sc->lock, flags);
	wake_up(&sc->wq);
	return 0;
}

/**
 * softdma_resume() - resume a paused channel
 * @chan: the channel
 *
 * Context: any context.
 * Return: 0.
 */
static int softdma_resume(struct dma_chan *chan)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&sc->lock, flags);
	WRITE_ONCE(sc->paused, false);
	softdma_kick_engine(sc);
	spin_unlock_irqrestore(&sc->lock, flags);
	return 0;
}

/**
 * softdma_terminate_all() - drop all work of the channel (the reset)
 * @chan: the channel
 *
 * Drops submitted, issued, active and completed-but-not-yet-called-back
 * descriptors without invoking their callbacks; their cookies then report
 * DMA_ERROR. Clears halted, stalled and paused: the channel accepts work
 * again. The engine may still be finishing a chunk of the active descriptor;
 * device_synchronize waits for that.
 *
 * Context: any context, including hardirq and inside a callback.
 * Return: 0.
 */
static int softdma_terminate_all(struct dma_chan *chan)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	struct softdma_desc *desc, *tmp;
	unsigned long flags;
	LIST_HEAD(dropped);

	spin_lock_irqsave(&sc->lock, flags);
	if (chan->cookie != chan->completed_cookie) {
		sc->has_err = true;
		sc->err_after = chan->completed_cookie;
		sc->err_upto = chan->cookie;
		chan->completed_cookie = chan->cookie;
	}
	list_splice_tail_init(&sc->completed, &dropped);
	list_splice_tail_init(&sc->issued, &dropped);
	list_splice_tail_init(&sc->submitted, &dropped);
	desc = sc->active;
	if (desc) {
		sc->active = NULL;
		sc->nr_terminated++;
		if (sc->copying)
			WRITE_ONCE(desc->state, SOFTDMA_DESC_TERMINATED);
		else
			list_add_tail(&desc->node, &dropped);
	}
	list_for_each_entry_safe(desc, tmp, &dropped, node) {
		list_del(&desc->node);
		if (desc->state != SOFTDMA_DESC_COMPLETED)
			sc->nr_terminated++;
		softdma_desc_drop(sc, desc);
	}
	sc->halted = false;
	sc->stalled = false;
	WRITE_ONCE(sc->paused, false);
	spin_unlock_irqrestore(&sc->lock, flags);
	wake_up(&sc->wq);
	return 0;
}

/**
 * softdma_synchronize() - wait for a terminate to take full effect
 * @chan: the channel
 *
 * When it returns, the engine touches no memory of a descriptor dropped by
 * an earlier terminate_all and no callback is running or scheduled.
 *
 * Context: process context, may sleep; not from a callback.
 */
static void softdma_synchronize(struct dma_chan *chan)
{
	struct softdma_chan *sc = to_softdma_chan(chan);

	tasklet_kill(&sc->engine_bh);
	flush_work(&sc->work);
	tasklet_kill(&sc->tasklet);
}

/**
 * softdma_alloc_chan_resources() - a client takes the channel
 * @chan: the channel
 *
 * Resets the cookies, the error state and the slave configuration. The
 * fault knobs and statistics are kept (set by the test harness before).
 *
 * Context: process context, may sleep.
 * Return: 0.
 */
static int softdma_alloc_chan_resources(struct dma_chan *chan)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&sc->lock, flags);
	chan->cookie = DMA_MIN_COOKIE;
	chan->completed_cookie = DMA_MIN_COOKIE;
	sc->has_err = false;
	sc->halted = false;
	sc->stalled = false;
	sc->paused = false;
	memset(&sc->cfg, 0, sizeof(sc->cfg));
	spin_unlock_irqrestore(&sc->lock, flags);
	return 0;
}

/**
 * softdma_free_chan_resources() - the client releases the channel
 * @chan: the channel
 *
 * Terminates and synchronizes (in case the client did not), then frees the
 * descriptors still parked: prepared, reusable and unacked ones.
 *
 * Context: process context, may sleep.
 */
static void softdma_free_chan_resources(struct dma_chan *chan)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	struct softdma_desc *desc, *tmp;
	unsigned long flags;

	softdma_terminate_all(chan);
	softdma_synchronize(chan);
	spin_lock_irqsave(&sc->lock, flags);
	list_for_each_entry_safe(desc, tmp, &sc->parked, node) {
		list_del(&desc->node);
		softdma_desc_free(sc, desc);
	}
	sc->nr_unacked = 0;
	WARN_ON_ONCE(sc->nr_desc);
	spin_unlock_irqrestore(&sc->lock, flags);
}

/* ---- debugfs: fault knobs and statistics ---- */

static u64 softdma_file_get(struct softdma_chan *sc, enum softdma_file id)
{
	lockdep_assert_held(&sc->lock);
	switch (id) {
	case SOFTDMA_F_FAIL_NTH:	return sc->fail_nth;
	case SOFTDMA_F_FAIL_EVERY:	return sc->fail_every;
	case SOFTDMA_F_STALL_NTH:	return sc->stall_nth;
	case SOFTDMA_F_LATENCY_US:	return sc->latency_us;
	case SOFTDMA_F_BANDWIDTH_KBPS:	return sc->bandwidth_kbps;
	case SOFTDMA_F_SUBMITTED:	return sc->nr_submitted;
	case SOFTDMA_F_COMPLETED:	return sc->nr_completed;
	case SOFTDMA_F_FAILED:		return sc->nr_failed;
	case SOFTDMA_F_ABORTED:		return sc->nr_aborted;
	case SOFTDMA_F_TERMINATED:	return sc->nr_terminated;
	case SOFTDMA_F_QUEUED:		return list_count_nodes(&sc->submitted) +
					       list_count_nodes(&sc->issued) +
					       !!sc->active;
	case SOFTDMA_F_DESCRIPTORS:	return sc->nr_desc;
	case SOFTDMA_F_HALTED:		return sc->halted;
	case SOFTDMA_F_PAUSED:		return sc->paused;
	case SOFTDMA_F_STALLED:		return sc->stalled;
	default:			return 0;
	}
}

static ssize_t softdma_file_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct softdma_file_ref *ref = file->private_data;
	struct softdma_chan *sc = ref->sc;
	unsigned long flags;
	char buf[24];
	int len;
	u64 val;

	spin_lock_irqsave(&sc->lock, flags);
	val = softdma_file_get(sc, ref->id);
	spin_unlock_irqrestore(&sc->lock, flags);
	len = scnprintf(buf, sizeof(buf), "%llu\n", val);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t softdma_file_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct softdma_file_ref *ref = file->private_data;
	struct softdma_chan *sc = ref->sc;
	unsigned long flags;
	u32 val;

	if (kstrtou32_from_user(ubuf, count, 0, &val))
		return -EINVAL;
	if (ref->id == SOFTDMA_F_LATENCY_US && val > SOFTDMA_MAX_LATENCY_US)
		return -EINVAL;

	spin_lock_irqsave(&sc->lock, flags);
	switch (ref->id) {
	case SOFTDMA_F_FAIL_NTH:
		sc->fail_nth = val;
		break;
	case SOFTDMA_F_FAIL_EVERY:
		sc->fail_every = val;
		sc->every_count = 0;
		break;
	case SOFTDMA_F_STALL_NTH:
		sc->stall_nth = val;
		break;
	case SOFTDMA_F_LATENCY_US:
		sc->latency_us = val;
		break;
	case SOFTDMA_F_BANDWIDTH_KBPS:
		sc->bandwidth_kbps = val;
		break;
	default:
		spin_unlock_irqrestore(&sc->lock, flags);
		return -EPERM;
	}
	spin_unlock_irqrestore(&sc->lock, flags);
	return count;
}

static const struct file_operations softdma_file_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= softdma_file_read,
	.write	= softdma_file_write,
	.llseek	= default_llseek,
};

static ssize_t softdma_fail_mode_read(struct file *file, char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	struct softdma_file_ref *ref = file->private_data;
	const char *mode = READ_ONCE(ref->sc->fail_result) == DMA_TRANS_READ_FAILED ?
			   "read\n" : "write\n";

	return simple_read_from_buffer(ubuf, count, ppos, mode, strlen(mode));
}

static ssize_t softdma_fail_mode_write(struct file *file, const char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	struct softdma_file_ref *ref = file->private_data;
	struct softdma_chan *sc = ref->sc;
	enum dmaengine_tx_result result;
	unsigned long flags;
	char buf[8] = "";

	if (count >= sizeof(buf) || copy_from_user(buf, ubuf, count))
		return -EINVAL;
	if (sysfs_streq(buf, "read"))
		result = DMA_TRANS_READ_FAILED;
	else if (sysfs_streq(buf, "write"))
		result = DMA_TRANS_WRITE_FAILED;
	else
		return -EINVAL;
	spin_lock_irqsave(&sc->lock, flags);
	sc->fail_result = result;
	spin_unlock_irqrestore(&sc->lock, flags);
	return count;
}

static const struct file_operations softdma_fail_mode_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= softdma_fail_mode_read,
	.write	= softdma_fail_mode_write,
	.llseek	= default_llseek,
};

static void softdma_debugfs_add(struct softdma_dev *sdev)
{
	unsigned int i, f;

	for (i = 0; i < sdev->nr_chans; i++) {
		struct softdma_chan *sc = &sdev->chans[i];

		sc->dbg = debugfs_create_dir(dma_chan_name(&sc->chan),
					     softdma_dbg_root);
		for (f = 0; f < SOFTDMA_F_NR; f++) {
			sc->files[f].sc = sc;
			sc->files[f].id = f;
			debugfs_create_file(softdma_file_names[f],
					    f < SOFTDMA_F_NR_KNOBS ? 0600 : 0400,
					    sc->dbg, &sc->files[f],
					    &softdma_file_fops);
		}
		sc->files[SOFTDMA_F_NR].sc = sc;
		sc->files[SOFTDMA_F_NR].id = SOFTDMA_F_NR;
		debugfs_create_file("fail_mode", 0600, sc->dbg,
				    &sc->files[SOFTDMA_F_NR],
				    &softdma_fail_mode_fops);
	}
}

static void softdma_debugfs_remove(struct softdma_dev *sdev)
{
	unsigned int i;

	for (i = 0; i < sdev->nr_chans; i++)
		debugfs_remove_recursive(sdev->chans[i].dbg);
}

/* ---- platform device and driver ---- */

/**
 * softdma_release() - free the controller (dma_device.device_release)
 * @ddev: the dmaengine device
 *
 * Called by the dmaengine core when the last reference is gone, after
 * dma_async_device_unregister().
 *
 * Context: process context.
 */
static void softdma_release(struct dma_device *ddev)
{
	kfree(container_of(ddev, struct softdma_dev, ddev));
}

static void softdma_chan_init(struct softdma_dev *sdev, struct softdma_chan *sc)
{
	spin_lock_init(&sc->lock);
	INIT_LIST_HEAD(&sc->submitted);
	INIT_LIST_HEAD(&sc->issued);
	INIT_LIST_HEAD(&sc->completed);
	INIT_LIST_HEAD(&sc->parked);
	init_waitqueue_head(&sc->wq);
	INIT_WORK(&sc->work, softdma_engine);
	tasklet_setup(&sc->tasklet, softdma_tasklet);
	tasklet_setup(&sc->engine_bh, softdma_engine_bh);
	sc->fail_result = DMA_TRANS_READ_FAILED;
	sc->latency_us = latency_us;
	sc->bandwidth_kbps = bandwidth_kbps;
	sc->chan.device = &sdev->ddev;
	list_add_tail(&sc->chan.device_node, &sdev->ddev.channels);
}

/**
 * softdma_probe() - build and register the controller
 * @pdev: the softdma platform device
 *
 * Context: process context, may sleep.
 * Return: 0, -ENODEV behind an IOMMU, or another negative error.
 */
static int softdma_probe(struct platform_device *pdev)
{
	unsigned int nr = channels ?: num_online_cpus();
	struct device *dev = &pdev->dev;
	struct softdma_dev *sdev;
	struct dma_device *dd;
	unsigned int i;
	int ret;

	if (device_iommu_mapped(dev) || iommu_get_domain_for_dev(dev)) {
		dev_err(dev, "behind an IOMMU: DMA addresses are not physical addresses, refusing to probe\n");
		return -ENODEV;
	}
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret) {
		dev_err(dev, "cannot set a 64-bit DMA mask: %d\n", ret);
		return ret;
	}
	dma_set_max_seg_size(dev, U32_MAX);

	sdev = kzalloc(struct_size(sdev, chans, nr), GFP_KERNEL);
	if (!sdev)
		return -ENOMEM;
	sdev->nr_chans = nr;
	dd = &sdev->ddev;
	dd->dev = dev;
	INIT_LIST_HEAD(&dd->channels);
	dma_cap_set(DMA_PRIVATE, dd->cap_mask);
	dma_cap_set(DMA_MEMCPY, dd->cap_mask);
	dma_cap_set(DMA_SLAVE, dd->cap_mask);
	dma_cap_set(DMA_INTERRUPT, dd->cap_mask);
	dd->src_addr_widths = SOFTDMA_WIDTHS;
	dd->dst_addr_widths = SOFTDMA_WIDTHS;
	dd->directions = BIT(DMA_MEM_TO_MEM) | BIT(DMA_MEM_TO_DEV) |
			 BIT(DMA_DEV_TO_MEM);
	dd->residue_granularity = DMA_RESIDUE_GRANULARITY_BURST;
	dd->descriptor_reuse = true;
	dd->copy_align = DMAENGINE_ALIGN_1_BYTE;
	dd->device_alloc_chan_resources = softdma_alloc_chan_resources;
	dd->device_free_chan_resources = softdma_free_chan_resources;
	dd->device_prep_dma_memcpy = softdma_prep_memcpy;
	dd->device_prep_dma_interrupt = softdma_prep_interrupt;
	dd->device_prep_slave_sg = softdma_prep_slave_sg;
	dd->device_config = softdma_config;
	dd->device_pause = softdma_pause;
	dd->device_resume = softdma_resume;
	dd->device_terminate_all = softdma_terminate_all;
	dd->device_synchronize = softdma_synchronize;
	dd->device_tx_status = softdma_tx_status;
	dd->device_issue_pending = softdma_issue_pending;
	dd->device_release = softdma_release;
	for (i = 0; i < nr; i++)
		softdma_chan_init(sdev, &sdev->chans[i]);

	ret = dma_async_device_register(dd);
	if (ret) {
		dev_err(dev, "dma_async_device_register: %d\n", ret);
		kfree(sdev);
		return ret;
	}
	softdma_debugfs_add(sdev);
	platform_set_drvdata(pdev, sdev);
	dev_info(dev, "%u channels, memcpy/slave/interrupt, residue granularity burst (%u bytes)\n",
		 nr, SOFTDMA_CHUNK);
	return 0;
}

/**
 * softdma_remove() - unregister the controller
 * @pdev: the softdma platform device
 *
 * Only at module unload (bind attributes are suppressed), when no client
 * holds a channel: the dmaengine core pins the module until then.
 *
 * Context: process context, may sleep.
 */
static void softdma_remove(struct platform_device *pdev)
{
	struct softdma_dev *sdev = platform_get_drvdata(pdev);
	unsigned int i;

	softdma_debugfs_remove(sdev);
	for (i = 0; i < sdev->nr_chans; i++) {
		cancel_work_sync(&sdev->chans[i].work);
		tasklet_kill(&sdev->chans[i].engine_bh);
		tasklet_kill(&sdev->chans[i].tasklet);
	}
	dma_async_device_unregister(&sdev->ddev);	/* frees sdev */
}

COMPAT_DEFINE_PLATFORM_REMOVE(softdma_platform_remove, softdma_remove);

static struct platform_driver softdma_driver = {
	.driver = {
		.name = SOFTDMA_NAME,
		.suppress_bind_attrs = true,
	},
	.probe = softdma_probe,
	.remove = softdma_platform_remove,
};

static int softdma_check_params(void)
{
	if (channels > SOFTDMA_MAX_CHANNELS) {
		pr_err("channels=%u: must be 0 (one per online CPU) to %u\n",
		       channels, SOFTDMA_MAX_CHANNELS);
		return -EINVAL;
	}
	if (latency_us > SOFTDMA_MAX_LATENCY_US) {
		pr_err("latency_us=%u: must be 0 to %u\n", latency_us,
		       SOFTDMA_MAX_LATENCY_US);
		return -EINVAL;
	}
	return 0;
}

static int __init softdma_init(void)
{
	int ret;

	ret = softdma_check_params();
	if (ret)
		return ret;

	softdma_desc_cache = KMEM_CACHE(softdma_desc, 0);
	if (!softdma_desc_cache)
		return -ENOMEM;
	softdma_wq = alloc_workqueue(SOFTDMA_NAME, COMPAT_WQ_PERCPU | WQ_HIGHPRI |
				     WQ_MEM_RECLAIM, 0);
	if (!softdma_wq) {
		ret = -ENOMEM;
		goto err_destroy_cache;
	}
	softdma_dbg_root = debugfs_create_dir(SOFTDMA_NAME, NULL);

	ret = platform_driver_register(&softdma_driver);
	if (ret)
		goto err_remove_debugfs;
	softdma_pdev = platform_device_register_simple(SOFTDMA_NAME,
						       PLATFORM_DEVID_NONE,
						       NULL, 0);
	if (IS_ERR(softdma_pdev)) {
		ret = PTR_ERR(softdma_pdev);
		goto err_unregister_driver;
	}
	if (!platform_get_drvdata(softdma_pdev)) {
		/* probe failed and said why */
		ret = -ENODEV;
		goto err_unregister_device;
	}
	return 0;

err_unregister_device:
	platform_device_unregister(softdma_pdev);
err_unregister_driver:
	platform_driver_unregister(&softdma_driver);
err_remove_debugfs:
	debugfs_remove_recursive(softdma_dbg_root);
	destroy_workqueue(softdma_wq);
err_destroy_cache:
	softdma_spares_drain();
	kmem_cache_destroy(softdma_desc_cache);
	return ret;
}

static void __exit softdma_exit(void)
{
	platform_device_unregister(softdma_pdev);
	platform_driver_unregister(&softdma_driver);
	debugfs_remove_recursive(softdma_dbg_root);
	destroy_workqueue(softdma_wq);
	softdma_spares_drain();
	kmem_cache_destroy(softdma_desc_cache);
}

module_init(softdma_init);
module_exit(softdma_exit);

MODULE_DESCRIPTION("softdma: a software dmaengine provider (memcpy, slave, faults, speed model)");
MODULE_AUTHOR("dmahba developers");
MODULE_LICENSE("GPL");
