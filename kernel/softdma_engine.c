// SPDX-License-Identifier: GPL-2.0
/*
 * softdma_engine.c - the descriptors, the engine that runs them, and their
 * completion: the channel state machine behind the dmaengine operations of
 * softdma_main.c (see there for the execution context, the completion path
 * and the error semantics).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "softdma_priv.h"

struct workqueue_struct *softdma_wq;
struct kmem_cache *softdma_desc_cache;

static DEFINE_PER_CPU(struct softdma_spares, softdma_spares);

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

/**
 * softdma_desc_discard() - free a descriptor's memory
 * @desc: a descriptor no list and no client holds any more
 *
 * A single-segment descriptor becomes a spare of this CPU if it has room.
 *
 * Context: any context; does not sleep.
 */
void softdma_desc_discard(struct softdma_desc *desc)
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

/**
 * softdma_spares_drain() - free every CPU's spare descriptors
 *
 * Context: process context, at module unload or a failed load, when no
 * channel is left.
 */
void softdma_spares_drain(void)
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

/**
 * softdma_desc_free() - free a descriptor of the channel
 * @sc: the channel
 * @desc: the descriptor, already off the channel's lists
 *
 * Context: channel lock held.
 */
void softdma_desc_free(struct softdma_chan *sc, struct softdma_desc *desc)
{
	lockdep_assert_held(&sc->lock);
	sc->nr_desc--;
	softdma_desc_discard(desc);
}

/**
 * softdma_desc_drop() - let go of a descriptor that ended without a callback
 * @sc: the channel
 * @desc: the descriptor (terminated), off the channel's lists
 *
 * A DMA_CTRL_REUSE descriptor is parked for the client, any other is freed.
 *
 * Context: channel lock held.
 */
void softdma_desc_drop(struct softdma_chan *sc, struct softdma_desc *desc)
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

/*
 * @desc failed and the channel goes on (halt_on_error=0): keep its cookie
 * for tx_status, the status a hardware engine writes back into the
 * descriptor's ring slot. See the error semantics at the top.
 */
static void softdma_err_log(struct softdma_chan *sc, struct softdma_desc *desc)
{
	lockdep_assert_held(&sc->lock);
	sc->errs[sc->err_next] = desc->tx.cookie;
	sc->err_next = (sc->err_next + 1) % SOFTDMA_ERR_LOG;
	if (sc->nr_errs < SOFTDMA_ERR_LOG)
		sc->nr_errs++;
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

/**
 * softdma_kick_engine() - start the engine if it is idle and has work
 * @sc: the channel
 *
 * Schedules the engine tasklet on this CPU, or the work item when a timing
 * model is set or the engine runs anywhere (engine=any: softdma_wq is then
 * unbound); never runs the engine itself.
 *
 * Context: channel lock held (interrupts off).
 */
void softdma_kick_engine(struct softdma_chan *sc)
{
	lockdep_assert_held(&sc->lock);
	if (!sc->running && softdma_can_run(sc)) {
		sc->running = true;
		if (softdma_cons.engine == SOFTDMA_ENGINE_ANY ||
		    softdma_timed(sc, NULL))
			queue_work(softdma_wq, &sc->work);
		else
			tasklet_schedule(&sc->engine_bh);
	}
}

/**
 * softdma_sync_wake() - tell softdma_synchronize() that a callback ended or
 * the engine let go of a dropped descriptor
 * @sc: the channel
 *
 * Context: channel lock held, after changing @cb_seq or @zombie_seq.
 */
void softdma_sync_wake(struct softdma_chan *sc)
{
	lockdep_assert_held(&sc->lock);
	if (sc->sync_waiters)
		wake_up(&sc->sync_wq);
}

/*
 * The engine's next descriptor: the active one, or the next issued one,
 * which it starts (fault decisions, latency). NULL if it must stop, or if
 * another context holds the cursor (@copying: a polling tx_status, which
 * kicks the engine again when it lets go). Sets *@kick when it completed
 * descriptors (a halt).
 */
static struct softdma_desc *softdma_next(struct softdma_chan *sc, bool *kick)
{
	struct softdma_desc *desc;

	lockdep_assert_held(&sc->lock);
	if (sc->copying || !softdma_can_run(sc))
		return NULL;
	if (sc->active)
		return sc->active;
again:
	desc = list_first_entry(&sc->issued, struct softdma_desc, node);
	list_del(&desc->node);
	desc->state = SOFTDMA_DESC_ACTIVE;
	sc->active = desc;
	switch (softdma_fate(sc)) {
	case SOFTDMA_FATE_FAIL:
		*kick = true;
		if (softdma_cons.halt_on_error) {
			softdma_halt(sc, desc);
			return NULL;
		}
		/* no halt: its result and its status tell, nothing else */
		sc->active = NULL;
		softdma_complete(sc, desc, sc->fail_result, desc->len);
		softdma_err_log(sc, desc);
		sc->nr_failed++;
		if (!softdma_can_run(sc))
			return NULL;
		goto again;
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

/*
 * Back under the lock after copying @n bytes of @desc; a terminate meanwhile
 * dropped it, and it is let go of here. Return: @desc is still active.
 */
static bool softdma_copy_end(struct softdma_chan *sc, struct softdma_desc *desc,
			     u32 n)
{
	lockdep_assert_held(&sc->lock);
	sc->copying = false;
	desc->done += n;
	if (desc->state != SOFTDMA_DESC_TERMINATED)
		return true;
	softdma_desc_drop(sc, desc);
	sc->zombie_seq++;
	softdma_sync_wake(sc);
	return false;
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
		sc->cb_seq++;	/* odd: a callback runs (softdma_synchronize()) */
		sc->cb_task = current;
		spin_unlock_irq(&sc->lock);

		if (cb_result)
			cb_result(param, &res);
		else
			cb(param);
		spin_lock_irq(&sc->lock);
		sc->cb_task = NULL;
		sc->cb_seq++;
		softdma_sync_wake(sc);
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
 * With a timing model, or always with engine=any (then on an unbound
 * workqueue, on whichever CPU the scheduler picks). It raises the
 * completion tasklet on its own CPU for what it completed.
 *
 * Context: process context (workqueue), may sleep; takes the channel lock.
 */
void softdma_engine(struct work_struct *work)
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
 * if a timing model appears meanwhile it hands over to the work item. Not
 * used with engine=any, where the work item is always the engine.
 *
 * Context: softirq; takes the channel lock, copies without it.
 */
void softdma_engine_bh(struct tasklet_struct *t)
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
 * softdma_engine_poll() - advance the engine from a client that polls
 * @sc: the channel
 *
 * A hardware engine moves data whether or not its client reads the status;
 * a software engine moves only when some CPU runs it. A client that polls
 * tx_status in a loop (dma_sync_wait(), dmatest's polled mode) on the CPU
 * where the engine tasklet is pending would starve it until that CPU takes
 * an interrupt. So the caller lends its CPU: at most one chunk
 * (SOFTDMA_CHUNK bytes) of the channel's head descriptor, with the same
 * order, fault decisions and completion as the engine. Callbacks of what it
 * completes still run in the completion tasklet (softirq), never here. It
 * does nothing when another context holds the cursor, when the channel is
 * idle, paused, halted or stalled, or when a timing model is set (time,
 * not a CPU, limits a timed engine: the work item paces it). If work is left
 * and the engine is not scheduled, it kicks the engine, so the queue never
 * depends on the poller calling again.
 *
 * Context: any context but hardirq and NMI (tx_status does not call it
 * there); takes the channel lock; does not sleep.
 */
void softdma_engine_poll(struct softdma_chan *sc)
{
	struct softdma_desc *desc;
	unsigned long flags;
	bool kick = false;
	u32 n;

	/* not preempted while holding the cursor: the engine waits for it */
	preempt_disable();
	spin_lock_irqsave(&sc->lock, flags);
	if (softdma_timed(sc, NULL))
		goto out;
	desc = softdma_next(sc, &kick);
	if (!desc || softdma_timed(sc, desc))
		goto out;
	if (desc->done < desc->len) {
		n = min_t(u32, desc->len - desc->done, SOFTDMA_CHUNK);
		sc->copying = true;
		spin_unlock_irqrestore(&sc->lock, flags);
		softdma_copy(desc, n);
		this_cpu_add(sc->chan.local->bytes_transferred, n);
		spin_lock_irqsave(&sc->lock, flags);
		if (!softdma_copy_end(sc, desc, n))
			goto out;
	}
	if (desc->done == desc->len) {
		softdma_desc_done(sc, desc);
		kick = true;
	}
out:
	softdma_kick_engine(sc);
	if (kick)
		tasklet_schedule(&sc->tasklet);
	spin_unlock_irqrestore(&sc->lock, flags);
	preempt_enable();
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
void softdma_tasklet(struct tasklet_struct *t)
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

/**
 * softdma_desc_alloc() - allocate a descriptor
 * @sc: the channel
 * @nsegs: segments it needs room for, at least 1
 * @flags: the client's prep flags (DMA_CTRL_ACK, ...)
 *
 * Context: any context; does not sleep (a spare of this CPU, or GFP_NOWAIT).
 * Return: the descriptor, zeroed but for its segments and dmaengine fields;
 * NULL if the channel is halted or memory is short.
 */
struct softdma_desc *softdma_desc_alloc(struct softdma_chan *sc,
					unsigned int nsegs, unsigned long flags)
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

/**
 * softdma_desc_ready() - hand a filled descriptor to the client
 * @sc: the channel
 * @desc: from softdma_desc_alloc(), its segments filled in
 *
 * Parks it on the channel until tx_submit. The channel's ring holds at most
 * ring_size descriptors (module parameter, 0 = unlimited): allocated and not
 * yet freed (completed and acked, or desc_free for DMA_CTRL_REUSE ones).
 *
 * Context: any context; takes the channel lock.
 * Return: the dmaengine descriptor; NULL if the channel halted meanwhile or
 * its ring is full (@desc is then freed).
 */
struct dma_async_tx_descriptor *
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
		if (softdma_cons.ring_size && sc->nr_desc > softdma_cons.ring_size) {
			/* the ring is full: as a hardware ring, no room */
			sc->nr_refused[SOFTDMA_REFUSE_RING]++;
			softdma_desc_free(sc, desc);
			desc = NULL;
		} else {
			desc->state = SOFTDMA_DESC_PREPARED;
			list_add_tail(&desc->node, &sc->parked);
		}
	}
	spin_unlock_irqrestore(&sc->lock, flags);
	return desc ? &desc->tx : NULL;
}

