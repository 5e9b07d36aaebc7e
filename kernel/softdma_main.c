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
 * cookie bookkeeping are this driver's own.
 *
 * This file holds the dmaengine operations, the platform device and the
 * module; the descriptors and the engine are in softdma_engine.c, the debugfs
 * knobs in softdma_debugfs.c, what they share in softdma_priv.h.
 *
 * Execution context, chosen at load by the engine parameter (docs/softdma.md
 * "Where the engine runs"):
 * - engine=local (the default): without a latency or bandwidth model the
 *   engine never waits, and runs as a per-channel tasklet on the CPU that
 *   issued the work (softdma_engine_bh()): asynchronous to the submitter,
 *   but without waking a thread, as a DMA controller's interrupt is steered
 *   to the CPU using it. With a model it is one work item per channel on a
 *   per-CPU, high priority, WQ_MEM_RECLAIM workqueue, which can sleep.
 * - engine=any: always the work item (softdma_engine()), on an unbound,
 *   high priority, WQ_MEM_RECLAIM workqueue: the scheduler may run the copy
 *   on another CPU while the submitter goes on submitting, as a hardware
 *   engine runs beside the CPUs. Under QEMU's TCG on a small VM that
 *   wake-up of a thread on the other vCPU costs more than the copy saves;
 *   hence local by default.
 * A work item rather than a kthread per channel because idle channels then
 * cost no thread, and WQ_MEM_RECLAIM gives a rescuer so a storage client
 * keeps making progress under memory pressure. One run of either form
 * drains the queue: descriptors issued while it runs are appended to
 * the running chain (NetDMA's Append) and picked up without re-queueing.
 * A client polling tx_status lends its CPU to the engine, one chunk per call
 * (softdma_engine_poll()). synchronize never kills or flushes the engine: it
 * waits for the dropped chunk and the running callback by sequence counts.
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
 * bandwidth model, and the residue is updated: residue granularity BURST
 * by default.
 *
 * Constraints (module parameters, fixed from load to unload, optionally
 * from a profile of a mainline engine; docs/softdma.md): max_seg_size (the
 * DMA device's max segment size; prep refuses a longer memcpy or sg entry),
 * copy_align (dma_device.copy_align; prep refuses misaligned addresses or
 * lengths), ring_size (descriptors a channel holds; prep returns NULL while
 * full, softdma_desc_ready()) and residue (the granularity tx_status
 * reports). Refused preps are counted per channel in debugfs.
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
 * - With halt_on_error=0 (a provider that does not halt) the failed
 *   descriptor completes with its failed result and residue, and the engine
 *   goes on with the next one: no abort, no halt. tx_status reports the
 *   failed cookie DMA_ERROR for as long as a hardware engine keeps a
 *   descriptor's written-back status: until its ring slot is reused, that
 *   is until ring_size more cookies have been assigned on the channel
 *   (SOFTDMA_MAX_RING with an unlimited ring). softdma keeps the cookies of
 *   the last SOFTDMA_ERR_LOG (16) such failures per channel; an older one,
 *   or one past its slot's reuse, reads DMA_COMPLETE; taking the channel
 *   (alloc_chan_resources) forgets them all, a terminate none. A poller
 *   that asks about each of its descriptors before submitting more than a
 *   ring's worth behind them sees every failure; callbacks are unchanged.
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
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "softdma_priv.h"

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

/*
 * The constraints (docs/softdma.md "Constraints and profiles"): a parameter
 * given at load overrides the profile's value; a parameter not given takes
 * the profile's value, or the default without a profile. After the load the
 * parameters read back the values in effect.
 */
struct softdma_uparam {
	unsigned int val;
	bool given;
};

static int softdma_uparam_set(const char *val, const struct kernel_param *kp)
{
	struct softdma_uparam *p = kp->arg;

	if (kstrtouint(val, 0, &p->val)) {
		pr_err("%s=%s: not a number\n", kp->name, val);
		return -EINVAL;
	}
	p->given = true;
	return 0;
}

static int softdma_uparam_get(char *buf, const struct kernel_param *kp)
{
	const struct softdma_uparam *p = kp->arg;

	return sysfs_emit(buf, "%u\n", p->val);
}

static const struct kernel_param_ops softdma_uparam_ops = {
	.set = softdma_uparam_set,
	.get = softdma_uparam_get,
};

/* a bool, refused with a message naming it (param_set_bool() does not) */
static int softdma_bparam_set(const char *val, const struct kernel_param *kp)
{
	if (kstrtobool(val ?: "1", kp->arg)) {
		pr_err("%s=%s: not 0 or 1\n", kp->name, val);
		return -EINVAL;
	}
	return 0;
}

static int softdma_bparam_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%c\n", *(bool *)kp->arg ? 'Y' : 'N');
}

static const struct kernel_param_ops softdma_bparam_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = softdma_bparam_set,
	.get = softdma_bparam_get,
};

static bool softdma_halt_on_error = true;
module_param_cb(halt_on_error, &softdma_bparam_ops, &softdma_halt_on_error, 0444);
MODULE_PARM_DESC(halt_on_error,
		 "Halt a channel on a failed descriptor (abort what follows) until terminate_all; 0 = go on with the next descriptor, the failure only in the failed one's result. Default: 1");

static enum softdma_where softdma_engine_param = SOFTDMA_ENGINE_LOCAL;

static int softdma_engine_set(const char *val, const struct kernel_param *kp)
{
	enum softdma_where w;

	for (w = SOFTDMA_ENGINE_LOCAL; w <= SOFTDMA_ENGINE_ANY; w++) {
		if (sysfs_streq(val, softdma_engine_name(w))) {
			*(enum softdma_where *)kp->arg = w;
			return 0;
		}
	}
	pr_err("%s=%s: must be local or any\n", kp->name, val);
	return -EINVAL;
}

static int softdma_engine_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  softdma_engine_name(*(enum softdma_where *)kp->arg));
}

static const struct kernel_param_ops softdma_engine_ops = {
	.set = softdma_engine_set,
	.get = softdma_engine_get,
};

module_param_cb(engine, &softdma_engine_ops, &softdma_engine_param, 0444);
MODULE_PARM_DESC(engine,
		 "Where the channels' engines run: local (a tasklet on the issuing CPU; the work item on a per-CPU workqueue with a latency or bandwidth model) or any (always the work item, on an unbound workqueue: the copy may run on another CPU, beside the submitter). Default: local");

static struct softdma_uparam max_seg_size = { .val = U32_MAX };
module_param_cb(max_seg_size, &softdma_uparam_ops, &max_seg_size, 0444);
MODULE_PARM_DESC(max_seg_size,
		 "Longest transfer of one descriptor (memcpy) or sg entry (slave) in bytes, set as the DMA device's max segment size; prep refuses longer. Default: 4294967295 or the profile's");

static struct softdma_uparam copy_align;
module_param_cb(copy_align, &softdma_uparam_ops, &copy_align, 0444);
MODULE_PARM_DESC(copy_align,
		 "log2 of the alignment of addresses and lengths (dma_device.copy_align), 0-8; prep refuses misaligned ones. Default: 0 or the profile's");

static struct softdma_uparam ring_size;
module_param_cb(ring_size, &softdma_uparam_ops, &ring_size, 0444);
MODULE_PARM_DESC(ring_size,
		 "Descriptors a channel holds at once (prepared and not yet freed), 0 = unlimited, up to 65536; prep returns NULL while full. Default: 0 or the profile's");

static char residue[16];
module_param_string(residue, residue, sizeof(residue), 0444);
MODULE_PARM_DESC(residue,
		 "Residue granularity: descriptor, segment or burst. Default: burst or the profile's");

static char profile[16];
module_param_string(profile, profile, sizeof(profile), 0444);
MODULE_PARM_DESC(profile,
		 "Constraints of a real engine: ioat, zynqmp_dma, dw-axi-dmac, fsl-edma, hidma, pl330 (docs/softdma.md). Default: none");

struct softdma_constraints softdma_cons;

/**
 * struct softdma_profile - the constraints of a mainline memcpy engine
 * @name: value of the profile parameter
 * @max_seg_size: what dma_get_max_seg_size() returns for its device
 * @copy_align: its dma_device.copy_align
 * @ring_size: descriptors a channel can hold before prep fails, 0 = no limit
 * @residue: its dma_device.residue_granularity
 *
 * The values and where the drivers set them: docs/softdma.md.
 */
struct softdma_profile {
	const char *name;
	u32 max_seg_size;
	u8 copy_align;
	u32 ring_size;
	enum dma_residue_granularity residue;
};

static const struct softdma_profile softdma_profiles[] = {
	/* drivers/dma/ioat: PCI default segment, 1 << IOAT_MAX_ORDER ring */
	{ "ioat", SZ_64K, DMAENGINE_ALIGN_1_BYTE, 1 << 16,
	  DMA_RESIDUE_GRANULARITY_DESCRIPTOR },
	/* drivers/dma/xilinx/zynqmp_dma.c: ZYNQMP_DMA_NUM_DESCS 32 */
	{ "zynqmp_dma", SZ_64K, DMAENGINE_ALIGN_1_BYTE, 32,
	  DMA_RESIDUE_GRANULARITY_DESCRIPTOR },
	/* drivers/dma/dw-axi-dmac: MAX_BLOCK_SIZE 0x1000 */
	{ "dw-axi-dmac", 0x1000, DMAENGINE_ALIGN_1_BYTE, 0,
	  DMA_RESIDUE_GRANULARITY_BURST },
	/* drivers/dma/fsl-edma.c: 32-byte copy_align, 0x3fff segment */
	{ "fsl-edma", 0x3fff, DMAENGINE_ALIGN_32_BYTES, 0,
	  DMA_RESIDUE_GRANULARITY_DESCRIPTOR },
	/* drivers/dma/qcom/hidma.c: copy_align 8, HIDMA_NR_DEFAULT_DESC 10 */
	{ "hidma", SZ_64K, DMAENGINE_ALIGN_256_BYTES, 10,
	  DMA_RESIDUE_GRANULARITY_DESCRIPTOR },
	/* drivers/dma/pl330.c: dma_set_max_seg_size(1900800), burst residue */
	{ "pl330", 1900800, DMAENGINE_ALIGN_1_BYTE, 0,
	  DMA_RESIDUE_GRANULARITY_BURST },
};

static struct platform_device *softdma_pdev;

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

/* Count a prep refused for a constraint of the channel. */
static void softdma_refuse(struct softdma_chan *sc, enum softdma_refuse why)
{
	unsigned long flags;

	spin_lock_irqsave(&sc->lock, flags);
	sc->nr_refused[why]++;
	spin_unlock_irqrestore(&sc->lock, flags);
}

/*
 * Does a transfer of @len bytes between @a and @b fit the constraints
 * (max_seg_size, copy_align)? Counts it if not.
 */
static bool softdma_fits(struct softdma_chan *sc, dma_addr_t a, dma_addr_t b,
			 size_t len)
{
	if (len > softdma_cons.max_seg_size) {
		softdma_refuse(sc, SOFTDMA_REFUSE_SEG_SIZE);
		return false;
	}
	if (!is_dma_copy_aligned(sc->chan.device, a, b, len)) {
		softdma_refuse(sc, SOFTDMA_REFUSE_ALIGN);
		return false;
	}
	return true;
}

/**
 * softdma_prep_memcpy() - prepare a memory to memory copy
 * @chan: the channel
 * @dst: destination, a DMA address of the softdma device
 * @src: source, a DMA address of the softdma device
 * @len: bytes, 1 to max_seg_size
 * @flags: DMA_CTRL_ACK, DMA_PREP_INTERRUPT, ...
 *
 * @dst, @src and @len must be aligned to 2^copy_align bytes (the
 * dma_device's copy_align); @len at most the DMA device's max segment size.
 *
 * Context: any context, including hardirq; does not sleep.
 * Return: the descriptor, or NULL if the channel is halted, its ring is
 * full, out of memory, the transfer is longer than max_seg_size or not
 * aligned (counted in debugfs refused_*), or the arguments are invalid
 * (logged).
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
	if (!softdma_fits(sc, dst, src, len))
		return NULL;
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
 * length must be a multiple of the configured bus width and at most the
 * max segment size; its address and length, and the device address, must
 * be aligned to 2^copy_align bytes.
 *
 * Context: any context, including hardirq; does not sleep.
 * Return: the descriptor, or NULL if halted, the ring is full, out of
 * memory, an entry breaks a constraint (counted in debugfs refused_*) or the
 * request is invalid (logged).
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
	for_each_sg(sgl, sg, sg_len, i)
		if (!softdma_fits(sc, sg_dma_address(sg), dev_addr, sg_dma_len(sg)))
			return NULL;
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

/*
 * Bytes left of the active descriptor at the channel's residue granularity:
 * BURST, what is not copied yet (the engine moves SOFTDMA_CHUNK bytes at a
 * time); SEGMENT, the segments not wholly copied yet; DESCRIPTOR, nothing
 * (include/linux/dmaengine.h: the residue "will always be 0").
 */
static u32 softdma_active_residue(struct softdma_desc *desc)
{
	u32 done = 0;
	unsigned int i;

	switch (softdma_cons.residue) {
	case DMA_RESIDUE_GRANULARITY_DESCRIPTOR:
		return 0;
	case DMA_RESIDUE_GRANULARITY_SEGMENT:
		for (i = 0; i < desc->nsegs; i++) {
			if (done + desc->segs[i].len > desc->done)
				break;
			done += desc->segs[i].len;
		}
		return desc->len - done;
	default:
		return desc->len - desc->done;
	}
}

/* Bytes left of the queued or active descriptor with @cookie. */
static u32 softdma_residue(struct softdma_chan *sc, dma_cookie_t cookie)
{
	struct softdma_desc *desc;

	lockdep_assert_held(&sc->lock);
	if (softdma_cons.residue == DMA_RESIDUE_GRANULARITY_DESCRIPTOR)
		return 0;
	if (sc->active && sc->active->tx.cookie == cookie)
		return softdma_active_residue(sc->active);
	list_for_each_entry(desc, &sc->issued, node)
		if (desc->tx.cookie == cookie)
			return desc->len;
	list_for_each_entry(desc, &sc->submitted, node)
		if (desc->tx.cookie == cookie)
			return desc->len;
	return 0;
}

/* Is @cookie complete? Without the lock: a hint, as for any provider. */
static bool softdma_cookie_done(struct dma_chan *chan, dma_cookie_t cookie)
{
	return dma_async_is_complete(cookie, READ_ONCE(chan->completed_cookie),
				     READ_ONCE(chan->cookie)) == DMA_COMPLETE;
}

/*
 * Did the descriptor with the completed @cookie fail without halting the
 * channel, its status still kept (the error semantics at the top)?
 */
static bool softdma_err_logged(struct softdma_chan *sc, dma_cookie_t cookie)
{
	u32 keep = softdma_cons.ring_size ?: SOFTDMA_MAX_RING;
	unsigned int i;

	lockdep_assert_held(&sc->lock);
	for (i = 0; i < sc->nr_errs; i++)
		if (sc->errs[i] == cookie)
			return softdma_cookie_age(cookie, sc->chan.cookie) < keep;
	return false;
}

/**
 * softdma_tx_status() - state of a transfer
 * @chan: the channel
 * @cookie: the transfer
 * @state: if not NULL, gets last completed and last used cookie, residue
 *
 * The residue of an in-progress or paused transfer follows the residue
 * parameter: exact to a chunk (BURST, the default), to a segment (SEGMENT),
 * or always 0 (DESCRIPTOR: no residue reporting, as the header defines it).
 * It is 0 for a completed or failed transfer (the callback's
 * dmaengine_result carries a failed transfer's residue).
 *
 * A caller that finds its transfer not complete first advances the engine
 * by at most one chunk itself (softdma_engine_poll()), so that a client
 * polling on the CPU where the engine is scheduled makes progress: a status
 * read of a software engine is where the engine gets CPU time, as a hardware
 * engine would have had it meanwhile. Not in hardirq or NMI context, where
 * only the state is read.
 *
 * Context: any context, including hardirq.
 * Return: DMA_COMPLETE, DMA_IN_PROGRESS, DMA_PAUSED (channel paused, transfer
 * not complete) or DMA_ERROR (failed, aborted behind a failure, or dropped
 * by terminate_all; with halt_on_error=0, failed and still kept).
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

	if (!in_hardirq() && !in_nmi() && !softdma_cookie_done(chan, cookie))
		softdma_engine_poll(sc);

	spin_lock_irqsave(&sc->lock, flags);
	last = chan->completed_cookie;
	used = chan->cookie;
	status = dma_async_is_complete(cookie, last, used);
	if (status == DMA_COMPLETE) {
		if ((sc->has_err &&
		     softdma_cookie_in(cookie, sc->err_after, sc->err_upto)) ||
		    (sc->nr_errs && softdma_err_logged(sc, cookie)))
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
 * again. The engine may still be finishing a chunk of the active descriptor,
 * and a callback that started before may still run; device_synchronize
 * waits for both. Nothing is killed or cancelled: the engine keeps running
 * (or is kicked) for work other clients issue on the channel meanwhile.
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
		if (sc->copying) {
			/* the engine lets go of it in softdma_copy_end() */
			WRITE_ONCE(desc->state, SOFTDMA_DESC_TERMINATED);
			sc->zombie_seq++;
		} else {
			list_add_tail(&desc->node, &dropped);
		}
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

/*
 * Has everything softdma_synchronize() waits for ended? @cb and @zombie are
 * the sequence counts it saw: odd means a callback ran, or the engine held a
 * dropped descriptor; any change since means that one is over.
 */
static bool softdma_synced(struct softdma_chan *sc, u32 cb, u32 zombie)
{
	bool done;

	spin_lock_irq(&sc->lock);
	done = (!(cb & 1) || sc->cb_seq != cb) &&
	       (!(zombie & 1) || sc->zombie_seq != zombie);
	spin_unlock_irq(&sc->lock);
	return done;
}

/**
 * softdma_synchronize() - wait for a terminate to take full effect
 * @chan: the channel
 *
 * When it returns, the engine touches no memory of a descriptor dropped by
 * an earlier terminate_all and no callback is running or scheduled for one:
 * the terminate dropped the completed ones, so what is left is the chunk
 * the engine may have been copying and the callback that may have been
 * running when it was called. It waits for exactly those two, counted by
 * sequence numbers, never for work issued later: another client streaming
 * on the channel neither delays it without bound nor is disturbed by it
 * (the engine tasklet and work item are never killed or flushed here, so a
 * kick from another CPU cannot be lost).
 *
 * Context: process context, may sleep; not from a callback (it would wait
 * for itself: warns and returns).
 */
static void softdma_synchronize(struct dma_chan *chan)
{
	struct softdma_chan *sc = to_softdma_chan(chan);
	u32 cb, zombie;

	might_sleep();
	spin_lock_irq(&sc->lock);
	if (WARN_ON_ONCE(sc->cb_task == current)) {
		spin_unlock_irq(&sc->lock);
		return;
	}
	cb = sc->cb_seq;
	zombie = sc->zombie_seq;
	sc->sync_waiters++;
	spin_unlock_irq(&sc->lock);

	wait_event(sc->sync_wq, softdma_synced(sc, cb, zombie));

	spin_lock_irq(&sc->lock);
	sc->sync_waiters--;
	spin_unlock_irq(&sc->lock);
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
	sc->nr_errs = 0;
	sc->err_next = 0;
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
	init_waitqueue_head(&sc->sync_wq);
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
	/* clients read it with dma_get_max_seg_size(dmaengine_get_dma_device()) */
	dma_set_max_seg_size(dev, softdma_cons.max_seg_size);

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
	dd->residue_granularity = softdma_cons.residue;
	dd->descriptor_reuse = true;
	dd->copy_align = softdma_cons.copy_align;
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
	dev_info(dev, "%u channels, memcpy/slave/interrupt, engine %s, profile %s: max_seg_size %u, copy_align %u, ring_size %u, residue %s, halt_on_error %d\n",
		 nr, softdma_engine_name(softdma_cons.engine),
		 softdma_cons.profile ?: "none", softdma_cons.max_seg_size,
		 softdma_cons.copy_align, softdma_cons.ring_size,
		 softdma_residue_name(softdma_cons.residue),
		 softdma_cons.halt_on_error);
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

static int softdma_parse_residue(const char *name,
				 enum dma_residue_granularity *g)
{
	enum dma_residue_granularity i;

	for (i = DMA_RESIDUE_GRANULARITY_DESCRIPTOR;
	     i <= DMA_RESIDUE_GRANULARITY_BURST; i++) {
		if (sysfs_streq(name, softdma_residue_name(i))) {
			*g = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Take a parameter given at load over the profile's value, and say so. */
static void softdma_override(const char *name, bool given, u32 val, u32 *dst)
{
	if (!given)
		return;
	if (softdma_cons.profile && val != *dst)
		pr_info("profile=%s: %s=%u given, overrides the profile's %u\n",
			softdma_cons.profile, name, val, *dst);
	*dst = val;
}

/*
 * Resolve the constraints into softdma_cons: the profile's values, then the
 * parameters given. Refuses an unknown profile or residue name, values out
 * of range and combinations no transfer can satisfy.
 */
static int softdma_check_constraints(void)
{
	struct softdma_constraints *c = &softdma_cons;
	enum dma_residue_granularity granularity;
	const struct softdma_profile *p = NULL;
	unsigned int i;
	u32 align;

	c->max_seg_size = U32_MAX;
	align = DMAENGINE_ALIGN_1_BYTE;
	c->ring_size = 0;
	granularity = DMA_RESIDUE_GRANULARITY_BURST;
	c->profile = NULL;
	if (profile[0]) {
		for (i = 0; i < ARRAY_SIZE(softdma_profiles); i++)
			if (sysfs_streq(profile, softdma_profiles[i].name))
				p = &softdma_profiles[i];
		if (!p) {
			pr_err("profile=%s: unknown; one of ioat, zynqmp_dma, dw-axi-dmac, fsl-edma, hidma, pl330\n",
			       profile);
			return -EINVAL;
		}
		c->profile = p->name;
		c->max_seg_size = p->max_seg_size;
		align = p->copy_align;
		c->ring_size = p->ring_size;
		granularity = p->residue;
	}
	softdma_override("max_seg_size", max_seg_size.given, max_seg_size.val,
			 &c->max_seg_size);
	softdma_override("copy_align", copy_align.given, copy_align.val, &align);
	softdma_override("ring_size", ring_size.given, ring_size.val,
			 &c->ring_size);
	if (residue[0]) {
		enum dma_residue_granularity g;

		if (softdma_parse_residue(residue, &g)) {
			pr_err("residue=%s: must be descriptor, segment or burst\n",
			       residue);
			return -EINVAL;
		}
		if (c->profile && g != granularity)
			pr_info("profile=%s: residue=%s given, overrides the profile's %s\n",
				c->profile, softdma_residue_name(g),
				softdma_residue_name(granularity));
		granularity = g;
	}
	c->residue = granularity;
	c->halt_on_error = softdma_halt_on_error;
	c->engine = softdma_engine_param;

	if (!c->max_seg_size) {
		pr_err("max_seg_size=0: must be 1 to %u\n", U32_MAX);
		return -EINVAL;
	}
	if (align > SOFTDMA_MAX_COPY_ALIGN) {
		pr_err("copy_align=%u: must be 0 to %u (1 to %u bytes)\n", align,
		       SOFTDMA_MAX_COPY_ALIGN, 1U << SOFTDMA_MAX_COPY_ALIGN);
		return -EINVAL;
	}
	c->copy_align = align;
	if (c->max_seg_size < (1U << align)) {
		pr_err("max_seg_size=%u is shorter than copy_align=%u (%u bytes): no transfer fits\n",
		       c->max_seg_size, align, 1U << align);
		return -EINVAL;
	}
	if (c->ring_size > SOFTDMA_MAX_RING) {
		pr_err("ring_size=%u: must be 0 (unlimited) to %u\n",
		       c->ring_size, SOFTDMA_MAX_RING);
		return -EINVAL;
	}

	/* the parameters read back what is in effect */
	max_seg_size.val = c->max_seg_size;
	copy_align.val = c->copy_align;
	ring_size.val = c->ring_size;
	strscpy(residue, softdma_residue_name(c->residue), sizeof(residue));
	return 0;
}

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
	return softdma_check_constraints();
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
	softdma_wq = alloc_workqueue(SOFTDMA_NAME,
				     (softdma_cons.engine == SOFTDMA_ENGINE_ANY ?
				      WQ_UNBOUND : COMPAT_WQ_PERCPU) |
				     WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
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
