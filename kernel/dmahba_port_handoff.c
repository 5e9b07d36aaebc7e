// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_port_handoff.c - which CPU starts a DMA context's requests: the one
 * in queuecommand, or the next online CPU, kicked by an IPI whose tasklet
 * runs the context (DMAHBA_PORT_HANDOFF_*, dmahba_port_set_handoff()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "dmahba_port_priv.h"
#include "dmahba_trace.h"

/**
 * dmahba_port_run_tasklet() - the other CPU's run_tasklet: start what is pending
 * @t: the context's run_tasklet
 *
 * Context: softirq, on the CPU kicked.
 */
void dmahba_port_run_tasklet(struct tasklet_struct *t)
{
	struct dmahba_port_queue *q = from_tasklet(q, t, run_tasklet);
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	q->kicked = false;
	dmahba_port_run(q);
	dmahba_port_unlock(q, flags);
}

/**
 * dmahba_port_kick_ipi() - kick_csd's function: schedule the run_tasklet
 * @info: the DMA context
 *
 * Context: hard interrupt (IPI), on the CPU kicked.
 */
void dmahba_port_kick_ipi(void *info)
{
	struct dmahba_port_queue *q = info;

	tasklet_schedule(&q->run_tasklet);
}

/**
 * dmahba_port_kick() - have the next online CPU start the context's requests
 * @q: the DMA context
 *
 * Alone online, or if the IPI is still in flight, the tasklet is scheduled
 * here.
 *
 * Context: any context but hard interrupt; without @q->lock.
 */
void dmahba_port_kick(struct dmahba_port_queue *q)
{
	int cpu = get_cpu();

	cpu = cpumask_next(cpu, cpu_online_mask);
	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	if (cpu == smp_processor_id() ||
	    smp_call_function_single_async(cpu, &q->kick_csd))
		tasklet_schedule(&q->run_tasklet);	/* alone, or it went */
	put_cpu();
}

/*
 * Does another queue of the port have a submitter of its own (a request in
 * the last DMAHBA_PORT_BUSY_MS)? Then the other CPUs have their own work,
 * and moving this queue's there only takes their time: with two submitters
 * on two CPUs, each CPU best runs its own queue.
 */
static bool dmahba_port_others_busy(struct dmahba_port_queue *q)
{
	struct dmahba_port *port = q->port;
	unsigned int i;

	for (i = 0; i < port->nr_queues; i++)
		if (port->queues[i] != q &&
		    time_before(jiffies, READ_ONCE(port->queues[i]->last_arrival) +
				msecs_to_jiffies(DMAHBA_PORT_BUSY_MS) + 1))
			return true;
	return false;
}

/* A try of the other way lost: go back, and try again later than last time. */
static void dmahba_port_probe_lost(struct dmahba_port_queue *q)
{
	q->probing = false;
	q->epochs = 0;
	q->remote = !q->remote;
	q->probe_every[q->remote] =
		min_t(unsigned int, 2 * q->probe_every[q->remote],
		      q->remote ? DMAHBA_PORT_PROBE_REMOTE : DMAHBA_PORT_PROBE_LOCAL);
}

/*
 * During a try: has it already taken longer than the whole epoch may (4/5
 * of the last one the other way)? Then it has lost, whatever the rest of
 * the epoch does: end it now. Looked at every DMAHBA_PORT_PROBE_LOOK
 * requests. While another queue has a submitter the end of the epoch
 * decides, as it would have (it stays on the submitting CPU).
 */
static void dmahba_port_probe_check(struct dmahba_port_queue *q)
{
	u64 now;

	if (q->epoch_n % DMAHBA_PORT_PROBE_LOOK || dmahba_port_others_busy(q))
		return;
	now = ktime_get_ns();
	if ((now - q->epoch_start) * 5 <= q->epoch_ns[!q->remote] * 4)
		return;
	q->stats.probes_cut++;
	dmahba_port_probe_lost(q);
	q->epoch_start = now;
	q->epoch_n = 0;
}

/*
 * DMAHBA_PORT_HANDOFF_AUTO: count a request; cut a try that has lost; at the
 * end of an epoch, choose.
 */
static void dmahba_port_auto(struct dmahba_port_queue *q)
{
	u64 now;

	lockdep_assert_held(&q->lock);
	WRITE_ONCE(q->last_arrival, jiffies);
	if (unlikely(!q->epoch_start))	/* first, or back from another policy */
		q->epoch_start = ktime_get_ns();
	if (++q->epoch_n < DMAHBA_PORT_EPOCH) {
		if (q->probing)
			dmahba_port_probe_check(q);
		return;
	}
	now = ktime_get_ns();
	q->epoch_ns[q->remote] = now - q->epoch_start;
	q->epoch_start = now;
	q->epoch_n = 0;
	if (dmahba_port_others_busy(q)) {
		/* stay on (or come back to) the submitting CPU, try later */
		q->remote = false;
		q->probing = false;
		q->epochs = 0;
		return;
	}
	if (q->probing) {
		/* keep the way tried only if it took at most 4/5 of the time */
		if (q->epoch_ns[q->remote] * 5 > q->epoch_ns[!q->remote] * 4) {
			dmahba_port_probe_lost(q);
		} else {
			q->probing = false;
			q->epochs = 0;
			q->stats.switches++;
			q->probe_every[q->remote] = DMAHBA_PORT_PROBE_MIN;
		}
		return;
	}
	if (++q->epochs < q->probe_every[q->remote])
		return;
	q->epochs = 0;
	q->probing = true;
	q->remote = !q->remote;
	q->stats.probes++;
}

/**
 * dmahba_port_handing_off() - should the request just queued start elsewhere?
 * @q: the DMA context
 * @kick: set if another CPU has yet to be kicked (dmahba_port_kick())
 *
 * Applies the port's handoff policy, counting the request for
 * DMAHBA_PORT_HANDOFF_AUTO.
 *
 * Context: @q->lock held, interrupts off.
 * Return: false if this CPU starts it, true if it waits for another CPU.
 */
bool dmahba_port_handing_off(struct dmahba_port_queue *q, bool *kick)
{
	unsigned int mode = READ_ONCE(q->port->handoff);

	lockdep_assert_held(&q->lock);
	*kick = false;
	if (mode == DMAHBA_PORT_HANDOFF_AUTO && num_online_cpus() > 1) {
		dmahba_port_auto(q);
	} else {
		q->remote = mode == DMAHBA_PORT_HANDOFF_ALWAYS &&
			    num_online_cpus() > 1;
		/* no try in progress when the policy comes back to auto */
		q->probing = false;
		q->epochs = 0;
		q->epoch_n = 0;
		q->epoch_start = 0;
	}
	if (!q->remote)
		return false;
	/* a busy context starts it when its request completes (NextRequest) */
	if (q->ready && !q->sync_needed && !q->kicked) {
		q->kicked = true;
		q->stats.handoffs++;
		*kick = true;
	}
	return true;
}

/**
 * dmahba_port_set_handoff() - choose where requests are started
 * @port: the port
 * @mode: an enum dmahba_port_handoff
 *
 * May be changed at any time; requests already waiting are started where
 * the new policy says, at the latest when their context is next idle.
 *
 * Context: any.
 * Return: 0, or -EINVAL if @mode is not a known policy.
 */
int dmahba_port_set_handoff(struct dmahba_port *port, unsigned int mode)
{
	if (mode > DMAHBA_PORT_HANDOFF_AUTO)
		return -EINVAL;
	WRITE_ONCE(port->handoff, mode);
	return 0;
}

/**
 * dmahba_port_handoff() - the policy of dmahba_port_set_handoff()
 * @port: the port
 *
 * Context: any.
 * Return: the enum dmahba_port_handoff in force.
 */
unsigned int dmahba_port_handoff(struct dmahba_port *port)
{
	return READ_ONCE(port->handoff);
}
