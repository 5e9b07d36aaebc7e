// SPDX-License-Identifier: GPL-2.0
/*
 * softdma_test - a dmaengine client that tests softdma through the public
 * dmaengine API only.
 *
 * At load it takes up to nchans channels of the "softdma" driver and holds
 * them until unload. Tests run on demand through debugfs:
 *
 *   /sys/kernel/debug/softdma_test/chans  names of the held channels
 *   /sys/kernel/debug/softdma_test/run    write "TEST [ARGS]", read back
 *                                         "ok", "fail: REASON" or
 *                                         "skip: REASON"
 *
 * Tests that need a fault or speed knob of softdma expect the caller
 * (selftests/softdma_test.sh) to have set it on the first channel, and say
 * so in their failure message.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#define SDT_MAX_CHANS	16
#define SDT_TIMEOUT_MS	20000
#define SDT_GUARD	64		/* guard bytes checked on each side */
#define SDT_POISON	0xa5		/* what untouched destination holds */

static unsigned int nchans = 2;
module_param(nchans, uint, 0444);
MODULE_PARM_DESC(nchans, "softdma channels to hold, 1-16. Default: 2");

static struct dma_chan *sdt_chans[SDT_MAX_CHANS];
static unsigned int sdt_nr;
static struct dentry *sdt_dir;
static DEFINE_MUTEX(sdt_mutex); /* serializes test runs; protects sdt_result */
static char sdt_result[256];
static atomic_t sdt_seq;
static struct dma_async_tx_descriptor *sdt_unacked; /* ack_hold -> ack_release */

/* A physically contiguous buffer mapped for a channel's DMA device. */
struct sdt_buf {
	struct device *dev;
	u8 *cpu;
	dma_addr_t dma;
	size_t size;
};

/* One transfer's completion as seen by its callback. */
struct sdt_xfer {
	struct completion done;
	struct dmaengine_result res;
	atomic_t called;
	int seq;
	bool ctx_ok;
	dma_cookie_t cookie;
	struct dma_chan *terminate;	/* terminate this channel in the callback */
};

static __printf(1, 2) int sdt_fail(const char *fmt, ...)
{
	va_list ap;
	int n;

	n = scnprintf(sdt_result, sizeof(sdt_result), "fail: ");
	va_start(ap, fmt);
	vscnprintf(sdt_result + n, sizeof(sdt_result) - n, fmt, ap);
	va_end(ap);
	return -EIO;
}

static int sdt_skip(const char *why)
{
	scnprintf(sdt_result, sizeof(sdt_result), "skip: %s", why);
	return 1;
}

static u32 sdt_rand(u32 n)
{
	return n ? get_random_u32() % n : 0;
}

static int sdt_buf_alloc(struct sdt_buf *b, struct dma_chan *chan, size_t size)
{
	b->dev = dmaengine_get_dma_device(chan);
	b->size = size;
	b->cpu = (u8 *)__get_free_pages(GFP_KERNEL, get_order(size));
	if (!b->cpu)
		return sdt_fail("no memory for a %zu byte buffer", size);
	b->dma = dma_map_single(b->dev, b->cpu, size, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(b->dev, b->dma)) {
		free_pages((unsigned long)b->cpu, get_order(size));
		b->cpu = NULL;
		return sdt_fail("dma_map_single failed");
	}
	return 0;
}

static void sdt_buf_free(struct sdt_buf *b)
{
	if (!b->cpu)
		return;
	dma_unmap_single(b->dev, b->dma, b->size, DMA_BIDIRECTIONAL);
	free_pages((unsigned long)b->cpu, get_order(b->size));
	b->cpu = NULL;
}

static void sdt_to_dev(struct sdt_buf *b)
{
	dma_sync_single_for_device(b->dev, b->dma, b->size, DMA_BIDIRECTIONAL);
}

static void sdt_to_cpu(struct sdt_buf *b)
{
	dma_sync_single_for_cpu(b->dev, b->dma, b->size, DMA_BIDIRECTIONAL);
}

/* Offset of the first byte of p[0..len) that is not @c, or -1. */
static long sdt_find_not(const u8 *p, size_t len, u8 c)
{
	const u8 *q = memchr_inv(p, c, len);

	return q ? q - p : -1;
}

static void sdt_callback(void *param, const struct dmaengine_result *res)
{
	struct sdt_xfer *x = param;

	x->res = *res;
	x->ctx_ok = in_serving_softirq() && !in_hardirq();
	x->seq = atomic_inc_return(&sdt_seq);
	atomic_inc(&x->called);
	if (x->terminate)
		dmaengine_terminate_async(x->terminate);
	complete(&x->done);
}

static void sdt_xfer_init(struct sdt_xfer *x)
{
	init_completion(&x->done);
	atomic_set(&x->called, 0);
	x->seq = 0;
	x->ctx_ok = false;
	x->cookie = -EINVAL;
	x->terminate = NULL;
	memset(&x->res, 0, sizeof(x->res));
}

/* Submit a descriptor with sdt_callback; its cookie or a negative error. */
static dma_cookie_t sdt_submit(struct dma_async_tx_descriptor *tx,
			       struct sdt_xfer *x)
{
	if (!tx)
		return -ENOMEM;
	tx->callback_result = sdt_callback;
	tx->callback_param = x;
	x->cookie = dmaengine_submit(tx);
	return x->cookie;
}

static dma_cookie_t sdt_memcpy(struct dma_chan *chan, dma_addr_t dst,
			       dma_addr_t src, size_t len, struct sdt_xfer *x)
{
	sdt_xfer_init(x);
	return sdt_submit(dmaengine_prep_dma_memcpy(chan, dst, src, len,
						    DMA_CTRL_ACK | DMA_PREP_INTERRUPT),
			  x);
}

static bool sdt_wait(struct sdt_xfer *x)
{
	return wait_for_completion_timeout(&x->done,
					   msecs_to_jiffies(SDT_TIMEOUT_MS));
}

static enum dma_status sdt_status(struct dma_chan *chan, dma_cookie_t cookie,
				  u32 *residue)
{
	struct dma_tx_state st = { };
	enum dma_status s = dmaengine_tx_status(chan, cookie, &st);

	if (residue)
		*residue = st.residue;
	return s;
}

/* Check a completed memcpy of @len bytes: result, context, status. */
static int sdt_check_done(struct dma_chan *chan, struct sdt_xfer *x,
			  const char *what)
{
	if (!sdt_wait(x))
		return sdt_fail("%s: no callback within %d ms", what, SDT_TIMEOUT_MS);
	if (atomic_read(&x->called) != 1)
		return sdt_fail("%s: callback ran %d times", what, atomic_read(&x->called));
	if (x->res.result != DMA_TRANS_NOERROR || x->res.residue)
		return sdt_fail("%s: result %d residue %u", what, x->res.result,
				x->res.residue);
	if (!x->ctx_ok)
		return sdt_fail("%s: callback not in softirq context", what);
	if (sdt_status(chan, x->cookie, NULL) != DMA_COMPLETE)
		return sdt_fail("%s: tx_status is not DMA_COMPLETE after the callback", what);
	return 0;
}

/*
 * One memcpy of @len bytes from @src+@soff to @dst+@doff, checked: the
 * destination, the guard bytes on both sides of it (SDT_POISON), and the
 * source against @ref. Restores the destination to SDT_POISON.
 */
static int sdt_one_memcpy(struct dma_chan *chan, struct sdt_buf *src,
			  struct sdt_buf *dst, const u8 *ref, size_t soff,
			  size_t doff, size_t len)
{
	size_t lo, hi;
	struct sdt_xfer x;
	long bad;
	int ret;

	sdt_to_dev(src);
	sdt_to_dev(dst);
	if (sdt_memcpy(chan, dst->dma + doff, src->dma + soff, len, &x) < 0)
		return sdt_fail("memcpy %zu@%zu->%zu: prep/submit failed", len, soff, doff);
	dma_async_issue_pending(chan);
	ret = sdt_check_done(chan, &x, "memcpy");
	if (ret)
		return ret;
	sdt_to_cpu(dst);
	sdt_to_cpu(src);
	if (memcmp(dst->cpu + doff, src->cpu + soff, len))
		return sdt_fail("memcpy %zu@%zu->%zu: destination differs", len, soff, doff);
	lo = doff > SDT_GUARD ? doff - SDT_GUARD : 0;
	bad = sdt_find_not(dst->cpu + lo, doff - lo, SDT_POISON);
	if (bad >= 0)
		return sdt_fail("memcpy %zu@%zu->%zu: guard byte at %zu overwritten",
				len, soff, doff, lo + bad);
	hi = min(dst->size, doff + len + SDT_GUARD);
	bad = sdt_find_not(dst->cpu + doff + len, hi - doff - len, SDT_POISON);
	if (bad >= 0)
		return sdt_fail("memcpy %zu@%zu->%zu: guard byte at %zu overwritten",
				len, soff, doff, doff + len + bad);
	lo = soff > SDT_GUARD ? soff - SDT_GUARD : 0;
	hi = min(src->size, soff + len + SDT_GUARD);
	if (memcmp(src->cpu + lo, ref + lo, hi - lo))
		return sdt_fail("memcpy %zu@%zu->%zu: source changed", len, soff, doff);
	memset(dst->cpu + doff, SDT_POISON, len);
	return 0;
}

/* A random length: mostly small, some around and beyond 64 KiB chunks. */
static size_t sdt_rand_len(size_t max)
{
	u32 r = sdt_rand(100);

	if (r < 60)
		return 1 + sdt_rand(min_t(size_t, max, 4096));
	if (r < 90)
		return 1 + sdt_rand(min_t(size_t, max, SZ_64K + 4096));
	return 1 + sdt_rand(max);
}

static int sdt_memcpy_loop(struct dma_chan *chan, unsigned int iters,
			   size_t size)
{
	struct sdt_buf src = { }, dst = { };
	u8 *ref;
	unsigned int i;
	int ret;

	ref = vmalloc(size);
	if (!ref)
		return sdt_fail("no memory");
	ret = sdt_buf_alloc(&src, chan, size);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, size);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, size);
	memcpy(ref, src.cpu, size);
	memset(dst.cpu, SDT_POISON, size);
	for (i = 0; i < iters && !ret; i++) {
		size_t len = sdt_rand_len(size * 5 / 8);
		size_t soff = sdt_rand(size - len + 1);
		size_t doff = sdt_rand(size - len + 1);

		/*
		 * Every other copy equally aligned on both sides (the
		 * engine's 64-bit beats, with its byte head and tail).
		 */
		if (i & 1) {
			doff = (doff & ~7UL) | (soff & 7);
			if (doff + len > size)
				doff -= 8;
		}
		ret = sdt_one_memcpy(chan, &src, &dst, ref, soff, doff, len);
	}
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	vfree(ref);
	return ret;
}

/* memcpy_random [ITERS]: random lengths, offsets, alignments */
static int sdt_test_memcpy_random(unsigned int iters)
{
	return sdt_memcpy_loop(sdt_chans[0], iters ?: 2000, SZ_256K);
}

/* One slave_sg transfer in direction @dir with random entries. */
static int sdt_one_slave(struct dma_chan *chan, struct sdt_buf *mem,
			 struct sdt_buf *dev, enum dma_transfer_direction dir)
{
	struct dma_slave_config cfg = { };
	struct scatterlist sgl[16];
	unsigned int n = 1 + sdt_rand(ARRAY_SIZE(sgl));
	size_t pos[16], len[16], total = 0, at = 0, devoff, i;
	struct device *dd = dmaengine_get_dma_device(chan);
	struct sdt_xfer x;
	int mapped, ret;
	long bad;

	sg_init_table(sgl, n);
	for (i = 0; i < n; i++) {
		len[i] = 4 * (1 + sdt_rand(SZ_8K / 4));
		at += 4 * sdt_rand(64);		/* a gap */
		pos[i] = at;
		at += len[i];
		total += len[i];
		sg_set_buf(&sgl[i], mem->cpu + pos[i], len[i]);
	}
	devoff = 4 * sdt_rand((dev->size - total - SDT_GUARD) / 4);
	if (dir == DMA_MEM_TO_DEV) {
		get_random_bytes(mem->cpu, mem->size);
		memset(dev->cpu, SDT_POISON, dev->size);
		cfg.dst_addr = dev->dma + devoff;
		cfg.dst_addr_width = DMA_SLAVE_BUSWIDTH_4_BYTES;
	} else {
		get_random_bytes(dev->cpu, dev->size);
		memset(mem->cpu, SDT_POISON, mem->size);
		cfg.src_addr = dev->dma + devoff;
		cfg.src_addr_width = DMA_SLAVE_BUSWIDTH_4_BYTES;
	}
	ret = dmaengine_slave_config(chan, &cfg);
	if (ret)
		return sdt_fail("slave_config: %d", ret);
	sdt_to_dev(dev);
	/*
	 * The entries lie inside @mem, which sdt_buf_alloc() mapped already,
	 * and may share cache lines with each other: such overlapping
	 * mappings are legal only with the CPU syncs made explicitly.
	 */
	mapped = dma_map_sg_attrs(dd, sgl, n, DMA_BIDIRECTIONAL,
				  DMA_ATTR_SKIP_CPU_SYNC);
	if (!mapped)
		return sdt_fail("dma_map_sg failed");
	dma_sync_sg_for_device(dd, sgl, n, DMA_BIDIRECTIONAL);
	sdt_xfer_init(&x);
	if (sdt_submit(dmaengine_prep_slave_sg(chan, sgl, mapped, dir,
					       DMA_CTRL_ACK | DMA_PREP_INTERRUPT),
		       &x) < 0) {
		dma_unmap_sg_attrs(dd, sgl, n, DMA_BIDIRECTIONAL,
				   DMA_ATTR_SKIP_CPU_SYNC);
		return sdt_fail("slave_sg %s of %u entries: prep/submit failed",
				dir == DMA_MEM_TO_DEV ? "mem->dev" : "dev->mem", n);
	}
	dma_async_issue_pending(chan);
	ret = sdt_check_done(chan, &x, "slave_sg");
	dma_sync_sg_for_cpu(dd, sgl, n, DMA_BIDIRECTIONAL);
	dma_unmap_sg_attrs(dd, sgl, n, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	if (ret)
		return ret;
	sdt_to_cpu(dev);

	at = devoff;
	for (i = 0; i < n; i++) {
		if (memcmp(dev->cpu + at, mem->cpu + pos[i], len[i]))
			return sdt_fail("slave_sg %s: entry %zu of %u differs",
					dir == DMA_MEM_TO_DEV ? "mem->dev" : "dev->mem",
					i, n);
		at += len[i];
	}
	if (dir == DMA_MEM_TO_DEV) {
		bad = sdt_find_not(dev->cpu, devoff, SDT_POISON);
		if (bad < 0)
			bad = sdt_find_not(dev->cpu + devoff + total,
					   dev->size - devoff - total, SDT_POISON);
		if (bad >= 0)
			return sdt_fail("slave_sg mem->dev: wrote outside the transfer");
	} else {
		/* memory between and after the entries stays untouched */
		for (i = 0, at = 0; i < n; at = pos[i] + len[i], i++)
			if (sdt_find_not(mem->cpu + at, pos[i] - at, SDT_POISON) >= 0)
				return sdt_fail("slave_sg dev->mem: wrote gap %zu", i);
		if (sdt_find_not(mem->cpu + at, SDT_GUARD, SDT_POISON) >= 0)
			return sdt_fail("slave_sg dev->mem: memory after the last entry written");
	}
	return 0;
}

/* slave_sg [ITERS]: both directions, random entries, plus bad requests */
static int sdt_test_slave_sg(unsigned int iters)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf mem = { }, dev = { };
	struct dma_slave_config cfg = { };
	struct dma_slave_caps caps;
	struct scatterlist sg;
	unsigned int i;
	int ret;

	ret = dma_get_slave_caps(chan, &caps);
	if (ret)
		return sdt_fail("dma_get_slave_caps: %d", ret);
	if (!(caps.directions & BIT(DMA_MEM_TO_DEV)) ||
	    !(caps.directions & BIT(DMA_DEV_TO_MEM)) || !caps.descriptor_reuse ||
	    caps.residue_granularity != DMA_RESIDUE_GRANULARITY_BURST)
		return sdt_fail("slave caps: directions %#x reuse %d granularity %d",
				caps.directions, caps.descriptor_reuse,
				caps.residue_granularity);
	cfg.dst_addr_width = 3;
	if (dmaengine_slave_config(chan, &cfg) != -EINVAL)
		return sdt_fail("slave_config accepted a 3 byte bus width");
	cfg.dst_addr_width = DMA_SLAVE_BUSWIDTH_128_BYTES;
	if (dmaengine_slave_config(chan, &cfg) != -EINVAL)
		return sdt_fail("slave_config accepted a 128 byte bus width");

	ret = sdt_buf_alloc(&mem, chan, SZ_256K);
	if (!ret)
		ret = sdt_buf_alloc(&dev, chan, SZ_256K);
	if (ret)
		goto out;
	for (i = 0; i < (iters ?: 100) && !ret; i++)
		ret = sdt_one_slave(chan, &mem, &dev,
				    i & 1 ? DMA_DEV_TO_MEM : DMA_MEM_TO_DEV);
	if (ret)
		goto out;

	/* an entry that is not a multiple of the 4 byte width is refused */
	cfg.dst_addr = dev.dma;
	cfg.dst_addr_width = DMA_SLAVE_BUSWIDTH_4_BYTES;
	dmaengine_slave_config(chan, &cfg);
	sg_init_table(&sg, 1);
	sg_dma_address(&sg) = mem.dma;
	sg_dma_len(&sg) = 6;
	if (dmaengine_prep_slave_sg(chan, &sg, 1, DMA_MEM_TO_DEV, DMA_CTRL_ACK))
		ret = sdt_fail("prep_slave_sg accepted 6 bytes at a 4 byte width");
	else if (dmaengine_prep_slave_sg(chan, &sg, 1, DMA_MEM_TO_MEM, DMA_CTRL_ACK))
		ret = sdt_fail("prep_slave_sg accepted DMA_MEM_TO_MEM");
out:
	sdt_buf_free(&dev);
	sdt_buf_free(&mem);
	return ret;
}

/* Wait for @n transfers; check results and callback order (x[i] in order). */
static int sdt_wait_all(struct dma_chan *chan, struct sdt_xfer *x,
			unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		char what[32];

		scnprintf(what, sizeof(what), "transfer %u of %u", i, n);
		ret = sdt_check_done(chan, &x[i], what);
		if (ret)
			return ret;
		if (i && x[i].seq <= x[i - 1].seq)
			return sdt_fail("callback of transfer %u ran before that of %u", i, i - 1);
	}
	return 0;
}

/*
 * inflight [N]: a large transfer, then N small ones, half submitted before
 * issue_pending and half appended while the engine runs.
 */
static int sdt_test_inflight(unsigned int n)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	const size_t big = SZ_512K, small = SZ_1K;
	struct sdt_xfer *x;
	unsigned int i;
	bool appended_running = false;
	int ret;

	n = clamp_val(n ?: 255, 2, 255);
	x = kcalloc(n + 1, sizeof(*x), GFP_KERNEL);
	if (!x)
		return sdt_fail("no memory");
	ret = sdt_buf_alloc(&src, chan, SZ_1M);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_1M);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, SZ_1M);
	memset(dst.cpu, SDT_POISON, SZ_1M);
	sdt_to_dev(&src);
	sdt_to_dev(&dst);

	for (i = 0; i <= n; i++) {
		size_t off = i ? big + (i - 1) * 2 * small : 0;

		if (sdt_memcpy(chan, dst.dma + off, src.dma + off,
			       i ? small : big, &x[i]) < 0) {
			ret = sdt_fail("prep/submit %u failed", i);
			break;
		}
		if (i == n / 2) {
			dma_async_issue_pending(chan);
		} else if (i == n / 2 + 1) {
			appended_running = sdt_status(chan, x[0].cookie, NULL) !=
					   DMA_COMPLETE;
		}
	}
	dma_async_issue_pending(chan);
	if (!ret)
		ret = sdt_wait_all(chan, x, n + 1);
	dmaengine_terminate_sync(chan);
	if (ret)
		goto out;
	sdt_to_cpu(&dst);
	for (i = 0; i <= n; i++) {
		size_t off = i ? big + (i - 1) * 2 * small : 0, len = i ? small : big;

		if (memcmp(dst.cpu + off, src.cpu + off, len)) {
			ret = sdt_fail("transfer %u: destination differs", i);
			break;
		}
		if (i && sdt_find_not(dst.cpu + off + small, small, SDT_POISON) >= 0) {
			ret = sdt_fail("transfer %u: wrote past its end", i);
			break;
		}
	}
	if (!ret)
		pr_info("inflight: %u transfers, appended while running: %s\n",
			n + 1, appended_running ? "yes" : "no (engine was faster)");
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	kfree(x);
	return ret;
}

/*
 * ordering: 64 copies to the same destination from different sources, with
 * a null (DMA_INTERRUPT) descriptor among them; the last one wins and the
 * callbacks run in submission order.
 */
static int sdt_test_ordering(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	const unsigned int n = 64;
	struct sdt_xfer *x;
	unsigned int i;
	int ret;

	x = kcalloc(n, sizeof(*x), GFP_KERNEL);
	if (!x)
		return sdt_fail("no memory");
	ret = sdt_buf_alloc(&src, chan, n * SZ_4K);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_4K);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, n * SZ_4K);
	sdt_to_dev(&src);
	for (i = 0; i < n && !ret; i++) {
		if (i == n / 2 && chan->device->device_prep_dma_interrupt) {
			sdt_xfer_init(&x[i]);
			struct dma_async_tx_descriptor *tx;

			tx = chan->device->device_prep_dma_interrupt(chan,
					DMA_CTRL_ACK | DMA_PREP_INTERRUPT);
			if (sdt_submit(tx, &x[i]) < 0)
				ret = sdt_fail("prep/submit of the null descriptor failed");
			continue;
		}
		if (sdt_memcpy(chan, dst.dma, src.dma + i * SZ_4K, SZ_4K, &x[i]) < 0)
			ret = sdt_fail("prep/submit %u failed", i);
		if (i % 8 == 7)
			dma_async_issue_pending(chan);
	}
	dma_async_issue_pending(chan);
	if (!ret)
		ret = sdt_wait_all(chan, x, n);
	dmaengine_terminate_sync(chan);
	sdt_to_cpu(&dst);
	if (!ret && memcmp(dst.cpu, src.cpu + (n - 1) * SZ_4K, SZ_4K))
		ret = sdt_fail("the destination does not hold the last copy");
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	kfree(x);
	return ret;
}

/* reuse: a DMA_CTRL_REUSE descriptor submitted 4 times, then freed */
static int sdt_test_reuse(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	struct dma_async_tx_descriptor *tx;
	dma_cookie_t last = 0;
	struct sdt_xfer x;
	unsigned int i;
	int ret, err;

	ret = sdt_buf_alloc(&src, chan, SZ_4K);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_4K);
	if (ret)
		goto out;
	tx = dmaengine_prep_dma_memcpy(chan, dst.dma, src.dma, SZ_4K,
				       DMA_CTRL_ACK | DMA_PREP_INTERRUPT);
	if (!tx) {
		ret = sdt_fail("prep failed");
		goto out;
	}
	ret = dmaengine_desc_set_reuse(tx);
	if (ret) {
		ret = sdt_fail("dmaengine_desc_set_reuse: %d", ret);
		goto out;
	}
	for (i = 0; i < 4 && !ret; i++) {
		memset(src.cpu, i + 1, SZ_4K);
		sdt_to_dev(&src);
		sdt_xfer_init(&x);
		if (sdt_submit(tx, &x) < 0 || (i && x.cookie <= last)) {
			ret = sdt_fail("submission %u: cookie %d after %d", i, x.cookie, last);
			break;
		}
		last = x.cookie;
		dma_async_issue_pending(chan);
		ret = sdt_check_done(chan, &x, "reused descriptor");
		sdt_to_cpu(&dst);
		if (!ret && sdt_find_not(dst.cpu, SZ_4K, i + 1) >= 0)
			ret = sdt_fail("submission %u: destination differs", i);
	}
	err = dmaengine_desc_free(tx);
	if (!ret && err)
		ret = sdt_fail("dmaengine_desc_free: %d", err);

	/* submitting a queued descriptor again is refused */
	if (!ret) {
		sdt_xfer_init(&x);
		tx = dmaengine_prep_dma_memcpy(chan, dst.dma, src.dma, SZ_4K,
					       DMA_CTRL_ACK | DMA_PREP_INTERRUPT);
		if (sdt_submit(tx, &x) < 0)
			ret = sdt_fail("prep/submit failed");
		else if (dmaengine_submit(tx) >= 0)
			ret = sdt_fail("a queued descriptor was submitted twice");
		dma_async_issue_pending(chan);
		if (!ret)
			ret = sdt_check_done(chan, &x, "memcpy");
	}
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/* ack_hold: a descriptor without DMA_CTRL_ACK stays allocated after completion */
static int sdt_test_ack_hold(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	struct dma_async_tx_descriptor *tx;
	struct sdt_xfer x;
	int ret;

	if (sdt_unacked)
		return sdt_fail("ack_hold ran twice without ack_release");
	ret = sdt_buf_alloc(&src, chan, SZ_4K);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_4K);
	if (ret)
		goto out;
	sdt_xfer_init(&x);
	tx = dmaengine_prep_dma_memcpy(chan, dst.dma, src.dma, SZ_4K,
				       DMA_PREP_INTERRUPT);
	if (sdt_submit(tx, &x) < 0) {
		ret = sdt_fail("prep/submit failed");
		goto out;
	}
	dma_async_issue_pending(chan);
	ret = sdt_check_done(chan, &x, "unacked memcpy");
	if (!ret && (tx->cookie != x.cookie || async_tx_test_ack(tx)))
		ret = sdt_fail("the unacked descriptor changed after completion");
	if (!ret)
		sdt_unacked = tx;
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/* ack_release: ack it; the provider frees it by the next prep */
static int sdt_test_ack_release(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	struct sdt_xfer x;
	int ret;

	if (!sdt_unacked)
		return sdt_fail("run ack_hold first");
	async_tx_ack(sdt_unacked);
	sdt_unacked = NULL;
	ret = sdt_buf_alloc(&src, chan, SZ_4K);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_4K);
	if (!ret && sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &x) < 0)
		ret = sdt_fail("prep/submit failed");
	dma_async_issue_pending(chan);
	if (!ret)
		ret = sdt_check_done(chan, &x, "memcpy");
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/* badinput: requests the provider must refuse */
static int sdt_test_badinput(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf buf = { };
	int ret;

	ret = sdt_buf_alloc(&buf, chan, SZ_4K);
	if (ret)
		return ret;
	if (dmaengine_prep_dma_memcpy(chan, buf.dma, buf.dma + 2048, 0, DMA_CTRL_ACK))
		ret = sdt_fail("a 0 byte memcpy was accepted");
	else if (dmaengine_prep_dma_memcpy(chan, buf.dma, (dma_addr_t)1 << 62, 16,
					   DMA_CTRL_ACK))
		ret = sdt_fail("a memcpy from an address that is not RAM was accepted");
	else if (dmaengine_prep_dma_memcpy(chan, (dma_addr_t)1 << 62, buf.dma, 16,
					   DMA_CTRL_ACK))
		ret = sdt_fail("a memcpy to an address that is not RAM was accepted");
	sdt_buf_free(&buf);
	return ret;
}

/* Poll until @cookie has made progress (residue < @len) or completed. */
static int sdt_wait_progress(struct dma_chan *chan, dma_cookie_t cookie, u32 len)
{
	unsigned long end = jiffies + msecs_to_jiffies(SDT_TIMEOUT_MS);
	u32 residue;

	while (time_before(jiffies, end)) {
		enum dma_status s = sdt_status(chan, cookie, &residue);

		if (s == DMA_COMPLETE)
			return sdt_fail("completed too fast (bandwidth_kbps?)");
		if (residue < len)
			return 0;
		usleep_range(1000, 2000);
	}
	return sdt_fail("no progress within %d ms", SDT_TIMEOUT_MS);
}

/*
 * residue: a 1 MiB copy under a bandwidth limit (set by the caller); the
 * residue seen through tx_status only goes down, in steps, to 0.
 */
static int sdt_test_residue(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	unsigned int steps = 0;
	u32 residue, prev = SZ_1M;
	enum dma_status s;
	struct sdt_xfer x;
	int ret;

	ret = sdt_buf_alloc(&src, chan, SZ_1M);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_1M);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, SZ_1M);
	sdt_to_dev(&src);
	if (sdt_memcpy(chan, dst.dma, src.dma, SZ_1M, &x) < 0) {
		ret = sdt_fail("prep/submit failed");
		goto out;
	}
	s = sdt_status(chan, x.cookie, &residue);
	if (s != DMA_IN_PROGRESS || residue != SZ_1M) {
		ret = sdt_fail("before issue_pending: status %d residue %u", s, residue);
		goto out_sync;
	}
	dma_async_issue_pending(chan);
	for (;;) {
		s = sdt_status(chan, x.cookie, &residue);
		if (s == DMA_COMPLETE)
			break;
		if (s != DMA_IN_PROGRESS || residue > prev) {
			ret = sdt_fail("status %d residue %u after %u", s, residue, prev);
			goto out_sync;
		}
		if (residue < prev)
			steps++;
		prev = residue;
		usleep_range(2000, 4000);
	}
	if (residue) {
		ret = sdt_fail("DMA_COMPLETE with residue %u", residue);
		goto out_sync;
	}
	if (steps < 3) {
		ret = sdt_fail("%u partial residues, want 3+ (bandwidth_kbps?)", steps);
		goto out_sync;
	}
	ret = sdt_check_done(chan, &x, "memcpy");
	sdt_to_cpu(&dst);
	if (!ret && memcmp(dst.cpu, src.cpu, SZ_1M))
		ret = sdt_fail("destination differs");
out_sync:
	dmaengine_terminate_sync(chan);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/*
 * pause: pause a running 1 MiB copy (bandwidth limit set by the caller):
 * it stops mid-transfer, tx_status says DMA_PAUSED with a stable residue,
 * no callback runs; resume finishes it. Then pause an idle channel: issued
 * work waits for resume.
 */
static int sdt_test_pause(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	unsigned int i;
	u32 r1, r2;
	enum dma_status s;
	struct sdt_xfer x;
	int ret;

	ret = sdt_buf_alloc(&src, chan, SZ_1M);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_1M);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, SZ_1M);
	sdt_to_dev(&src);
	if (sdt_memcpy(chan, dst.dma, src.dma, SZ_1M, &x) < 0) {
		ret = sdt_fail("prep/submit failed");
		goto out;
	}
	dma_async_issue_pending(chan);
	ret = sdt_wait_progress(chan, x.cookie, SZ_1M);
	if (ret)
		goto out_sync;
	ret = dmaengine_pause(chan);
	if (ret) {
		ret = sdt_fail("dmaengine_pause: %d", ret);
		goto out_sync;
	}
	/*
	 * The chunk in flight when paused may finish, as late as the engine
	 * gets the CPU: wait until the residue holds still for 100 ms.
	 */
	r2 = SZ_1M + 1;
	for (i = 0; i < 50; i++) {
		msleep(100);
		s = sdt_status(chan, x.cookie, &r1);
		if (r1 == r2)
			break;
		r2 = r1;
	}
	msleep(300);
	sdt_status(chan, x.cookie, &r2);
	if (s != DMA_PAUSED || r1 != r2 || !r1 || r1 >= SZ_1M ||
	    atomic_read(&x.called)) {
		ret = sdt_fail("paused: status %d residue %u then %u, callbacks %d",
			       s, r1, r2, atomic_read(&x.called));
		goto out_sync;
	}
	ret = dmaengine_resume(chan);
	if (ret) {
		ret = sdt_fail("dmaengine_resume: %d", ret);
		goto out_sync;
	}
	ret = sdt_check_done(chan, &x, "resumed memcpy");
	sdt_to_cpu(&dst);
	if (!ret && memcmp(dst.cpu, src.cpu, SZ_1M))
		ret = sdt_fail("destination differs after pause/resume");
	if (ret)
		goto out_sync;

	/* idle channel: nothing runs while paused */
	dmaengine_pause(chan);
	if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &x) < 0) {
		ret = sdt_fail("prep/submit failed while paused");
		goto out_sync;
	}
	dma_async_issue_pending(chan);
	msleep(200);
	s = sdt_status(chan, x.cookie, &r1);
	if (s != DMA_PAUSED || r1 != SZ_4K || atomic_read(&x.called))
		ret = sdt_fail("issued while paused: status %d residue %u, callbacks %d",
			       s, r1, atomic_read(&x.called));
	dmaengine_resume(chan);
	if (!ret)
		ret = sdt_check_done(chan, &x, "memcpy issued while paused");
out_sync:
	dmaengine_resume(chan);
	dmaengine_terminate_sync(chan);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/*
 * terminate: 4 transfers of 256 KiB under a bandwidth limit (set by the
 * caller), terminated while the first runs: no callback, DMA_ERROR for the
 * cookies, nothing written after synchronize, and the channel works again.
 */
static int sdt_test_terminate(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	struct sdt_xfer x[4];
	unsigned int i;
	long bad;
	int ret;

	ret = sdt_buf_alloc(&src, chan, SZ_1M);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_1M);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, SZ_1M);
	sdt_to_dev(&src);
	for (i = 0; i < ARRAY_SIZE(x); i++) {
		if (sdt_memcpy(chan, dst.dma + i * SZ_256K, src.dma + i * SZ_256K,
			       SZ_256K, &x[i]) < 0) {
			ret = sdt_fail("prep/submit %u failed", i);
			goto out_sync;
		}
	}
	dma_async_issue_pending(chan);
	ret = sdt_wait_progress(chan, x[0].cookie, SZ_256K);
	if (ret)
		goto out_sync;
	ret = dmaengine_terminate_async(chan);
	if (ret) {
		ret = sdt_fail("dmaengine_terminate_async: %d", ret);
		goto out_sync;
	}
	dmaengine_synchronize(chan);
	memset(dst.cpu, 0x3c, SZ_1M);
	sdt_to_dev(&dst);
	msleep(300);
	sdt_to_cpu(&dst);
	bad = sdt_find_not(dst.cpu, SZ_1M, 0x3c);
	if (bad >= 0) {
		ret = sdt_fail("byte %ld written after synchronize", bad);
		goto out_sync;
	}
	for (i = 0; i < ARRAY_SIZE(x); i++) {
		enum dma_status s = sdt_status(chan, x[i].cookie, NULL);

		if (atomic_read(&x[i].called) || s != DMA_ERROR) {
			ret = sdt_fail("terminated transfer %u: %d callbacks, status %d",
				       i, atomic_read(&x[i].called), s);
			goto out_sync;
		}
	}
	if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &x[0]) < 0) {
		ret = sdt_fail("prep/submit after terminate failed");
		goto out_sync;
	}
	dma_async_issue_pending(chan);
	ret = sdt_check_done(chan, &x[0], "memcpy after terminate");
out_sync:
	dmaengine_terminate_sync(chan);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/*
 * terminate_cb: the first callback of a chain of 32 terminates the channel;
 * no other callback runs.
 */
static int sdt_test_terminate_cb(void)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	const unsigned int n = 32;
	struct sdt_xfer *x;
	unsigned int i;
	int ret;

	x = kcalloc(n, sizeof(*x), GFP_KERNEL);
	if (!x)
		return sdt_fail("no memory");
	ret = sdt_buf_alloc(&src, chan, SZ_4K);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_4K);
	if (ret)
		goto out;
	for (i = 0; i < n && !ret; i++) {
		if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &x[i]) < 0)
			ret = sdt_fail("prep/submit %u failed", i);
		if (!i)
			x[i].terminate = chan;
	}
	dma_async_issue_pending(chan);
	if (!ret && !sdt_wait(&x[0]))
		ret = sdt_fail("no callback for the first transfer");
	dmaengine_synchronize(chan);
	msleep(50);
	for (i = 1; i < n && !ret; i++)
		if (atomic_read(&x[i].called))
			ret = sdt_fail("transfer %u called back after the terminate", i);
	if (!ret && atomic_read(&x[0].called) != 1)
		ret = sdt_fail("first callback ran %d times", atomic_read(&x[0].called));
	dmaengine_terminate_sync(chan);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	kfree(x);
	return ret;
}

/*
 * Buffers for @count 4 KiB transfers on @chan: a random source and a
 * destination of SDT_POISON, both handed to the device; 0 or the failure
 * (the caller frees what was allocated with sdt_buf_free()).
 */
static int sdt_batch_bufs(struct dma_chan *chan, struct sdt_buf *src,
			  struct sdt_buf *dst, unsigned int count)
{
	int ret;

	ret = sdt_buf_alloc(src, chan, count * SZ_4K);
	if (!ret)
		ret = sdt_buf_alloc(dst, chan, count * SZ_4K);
	if (ret)
		return ret;
	get_random_bytes(src->cpu, count * SZ_4K);
	memset(dst->cpu, SDT_POISON, count * SZ_4K);
	sdt_to_dev(src);
	sdt_to_dev(dst);
	return 0;
}

/*
 * fail N MODE [COUNT]: with fail_nth=N and fail_mode=MODE set by the
 * caller, COUNT 4 KiB transfers: the first N-1 succeed, the Nth fails with
 * MODE, the rest are aborted, all with callbacks in order; the channel is
 * halted until a terminate.
 */
static int sdt_test_fail(unsigned int nth, const char *mode, unsigned int count)
{
	enum dmaengine_tx_result want = strcmp(mode, "write") ?
		DMA_TRANS_READ_FAILED : DMA_TRANS_WRITE_FAILED;
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	struct dma_async_tx_descriptor *late;
	struct sdt_xfer *x, lx;
	unsigned int i;
	int ret;

	count = count ?: nth + 4;
	if (!nth || nth > count || count > 256)
		return sdt_fail("usage: fail N read|write [COUNT], 1 <= N <= COUNT <= 256");
	x = kcalloc(count, sizeof(*x), GFP_KERNEL);
	if (!x)
		return sdt_fail("no memory");
	ret = sdt_batch_bufs(chan, &src, &dst, count);
	if (ret)
		goto out;
	/* prepared before the failure, submitted after it */
	late = dmaengine_prep_dma_memcpy(chan, dst.dma, src.dma, SZ_4K,
					 DMA_CTRL_ACK | DMA_PREP_INTERRUPT);
	if (!late) {
		ret = sdt_fail("prep failed");
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (sdt_memcpy(chan, dst.dma + i * SZ_4K, src.dma + i * SZ_4K,
			       SZ_4K, &x[i]) < 0) {
			ret = sdt_fail("prep/submit %u failed", i);
			goto out_reset;
		}
		/*
		 * Issue the first half early (they run while the rest is
		 * submitted), unless the failing one is among them: the
		 * channel would then halt, and refuse the rest, at a moment
		 * only the engine's speed decides.
		 */
		if (i == count / 2 && i + 1 < nth)
			dma_async_issue_pending(chan);
	}
	dma_async_issue_pending(chan);
	for (i = 0; i < count; i++) {
		enum dmaengine_tx_result r = i < nth - 1 ? DMA_TRANS_NOERROR :
			i == nth - 1 ? want : DMA_TRANS_ABORTED;
		enum dma_status s;

		if (!sdt_wait(&x[i])) {
			ret = sdt_fail("transfer %u: no callback (is fail_nth=%u set?)", i, nth);
			goto out_reset;
		}
		s = sdt_status(chan, x[i].cookie, NULL);
		if (x[i].res.result != r || x[i].res.residue != (r ? SZ_4K : 0) ||
		    atomic_read(&x[i].called) != 1 || !x[i].ctx_ok ||
		    (i && x[i].seq <= x[i - 1].seq)) {
			ret = sdt_fail("transfer %u: result %d residue %u calls %d, want result %d",
				       i, x[i].res.result, x[i].res.residue,
				       atomic_read(&x[i].called), r);
			goto out_reset;
		}
		if (s != (r ? DMA_ERROR : DMA_COMPLETE)) {
			ret = sdt_fail("transfer %u: tx_status %d", i, s);
			goto out_reset;
		}
	}
	sdt_to_cpu(&dst);
	if (memcmp(dst.cpu, src.cpu, (nth - 1) * SZ_4K)) {
		ret = sdt_fail("a transfer before the failure differs");
		goto out_reset;
	}
	if (sdt_find_not(dst.cpu + (nth - 1) * SZ_4K, (count - nth + 1) * SZ_4K,
			 SDT_POISON) >= 0) {
		ret = sdt_fail("a failed or aborted transfer wrote its destination");
		goto out_reset;
	}
	/* halted: no new work */
	sdt_xfer_init(&lx);
	if (sdt_submit(late, &lx) != -EIO) {
		ret = sdt_fail("halted channel: tx_submit did not return -EIO");
		late = NULL;
		goto out_reset;
	}
	late = NULL;	/* freed by the provider */
	if (dmaengine_prep_dma_memcpy(chan, dst.dma, src.dma, SZ_4K, DMA_CTRL_ACK)) {
		ret = sdt_fail("halted channel: prep returned a descriptor");
		goto out_reset;
	}
	/* the reset */
	dmaengine_terminate_sync(chan);
	if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &lx) < 0) {
		ret = sdt_fail("prep/submit after the reset failed");
		goto out_reset;
	}
	dma_async_issue_pending(chan);
	ret = sdt_check_done(chan, &lx, "memcpy after the reset");
out_reset:
	dmaengine_terminate_sync(chan);
	if (late) {
		/* an ACKed, never submitted descriptor: submit it to recycle it */
		sdt_xfer_init(&lx);
		if (sdt_submit(late, &lx) >= 0) {
			dma_async_issue_pending(chan);
			sdt_wait(&lx);
		}
	}
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	kfree(x);
	return ret;
}

/*
 * nohalt N RING: on a channel that does not halt (softdma loaded with
 * halt_on_error=0; fail_nth=N and fail_mode=read set by the caller), COUNT
 * 4 KiB transfers (RING, or 8 with an unlimited ring) issued at once: the
 * Nth fails with its result and its full residue, the ones queued behind it
 * complete with their data, all callbacks in order, the channel is not
 * halted. tx_status reads the failed cookie DMA_ERROR, the others
 * DMA_COMPLETE. With RING (the channel's ring_size, not 0), one transfer at
 * a time after that: the failed cookie reads DMA_ERROR while fewer than RING
 * cookies were assigned after it, DMA_COMPLETE from then on (its status
 * slot reused, as on a hardware ring).
 */
static int sdt_test_nohalt(unsigned int nth, unsigned int ring)
{
	unsigned int count = ring ?: 8, i, age;
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	enum dma_status s, want;
	struct sdt_xfer *x, lx;
	int ret;

	if (!nth || nth > count || count > 64)
		return sdt_fail("usage: nohalt N RING, 1 <= N <= (RING or 8), RING <= 64");
	x = kcalloc(count, sizeof(*x), GFP_KERNEL);
	if (!x)
		return sdt_fail("no memory");
	ret = sdt_batch_bufs(chan, &src, &dst, count);
	if (ret)
		goto out;
	for (i = 0; i < count; i++) {
		if (sdt_memcpy(chan, dst.dma + i * SZ_4K, src.dma + i * SZ_4K,
			       SZ_4K, &x[i]) < 0) {
			ret = sdt_fail("prep/submit %u failed", i);
			goto out_reset;
		}
	}
	dma_async_issue_pending(chan);
	for (i = 0; i < count; i++) {
		bool failed = i == nth - 1;

		if (!sdt_wait(&x[i])) {
			ret = sdt_fail("transfer %u: no callback (is fail_nth=%u set?)", i, nth);
			goto out_reset;
		}
		if (x[i].res.result != (failed ? DMA_TRANS_READ_FAILED : DMA_TRANS_NOERROR) ||
		    x[i].res.residue != (failed ? SZ_4K : 0) ||
		    atomic_read(&x[i].called) != 1 || !x[i].ctx_ok ||
		    (i && x[i].seq <= x[i - 1].seq)) {
			ret = sdt_fail("transfer %u: result %d residue %u calls %d, want result %d",
				       i, x[i].res.result, x[i].res.residue,
				       atomic_read(&x[i].called),
				       failed ? DMA_TRANS_READ_FAILED : DMA_TRANS_NOERROR);
			goto out_reset;
		}
	}
	for (i = 0; i < count; i++) {
		want = i == nth - 1 ? DMA_ERROR : DMA_COMPLETE;
		s = sdt_status(chan, x[i].cookie, NULL);
		if (s != want) {
			ret = sdt_fail("transfer %u: tx_status %d, want %d", i, s, want);
			goto out_reset;
		}
	}
	sdt_to_cpu(&dst);
	for (i = 0; i < count; i++) {
		u8 *d = dst.cpu + i * SZ_4K;

		if (i == nth - 1 ? sdt_find_not(d, SZ_4K, SDT_POISON) >= 0 :
		    memcmp(d, src.cpu + i * SZ_4K, SZ_4K)) {
			ret = sdt_fail("transfer %u%s: destination %s", i,
				       i == nth - 1 ? " (failed)" : "",
				       i == nth - 1 ? "written" : "differs");
			goto out_reset;
		}
	}
	/* a ring's worth of later cookies reuses the failed one's slot */
	for (age = count - nth; ring && age <= ring; age++) {
		want = age < ring ? DMA_ERROR : DMA_COMPLETE;
		s = sdt_status(chan, x[nth - 1].cookie, NULL);
		if (s != want) {
			ret = sdt_fail("failed cookie, %u later cookies: tx_status %d, want %d",
				       age, s, want);
			goto out_reset;
		}
		if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &lx) < 0) {
			ret = sdt_fail("prep/submit after the failure failed (halted?)");
			goto out_reset;
		}
		dma_async_issue_pending(chan);
		ret = sdt_check_done(chan, &lx, "memcpy after the failure");
		if (ret)
			goto out_reset;
	}
	if (!ring) {
		if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &lx) < 0) {
			ret = sdt_fail("prep/submit after the failure failed (halted?)");
			goto out_reset;
		}
		dma_async_issue_pending(chan);
		ret = sdt_check_done(chan, &lx, "memcpy after the failure");
	}
out_reset:
	dmaengine_terminate_sync(chan);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	kfree(x);
	return ret;
}

/*
 * fail_every K: with fail_every=K set by the caller, twice: K transfers,
 * the Kth fails, then a reset.
 */
static int sdt_test_fail_every(unsigned int k)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	struct sdt_xfer *x;
	unsigned int round, i;
	int ret;

	if (k < 1 || k > 64)
		return sdt_fail("usage: fail_every K, 1 <= K <= 64");
	x = kcalloc(k, sizeof(*x), GFP_KERNEL);
	if (!x)
		return sdt_fail("no memory");
	ret = sdt_buf_alloc(&src, chan, SZ_4K);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_4K);
	if (ret)
		goto out;
	for (round = 0; round < 2 && !ret; round++) {
		for (i = 0; i < k && !ret; i++)
			if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &x[i]) < 0)
				ret = sdt_fail("round %u: prep/submit %u failed", round, i);
		dma_async_issue_pending(chan);
		for (i = 0; i < k && !ret; i++) {
			enum dmaengine_tx_result want = i == k - 1 ?
				DMA_TRANS_READ_FAILED : DMA_TRANS_NOERROR;

			if (!sdt_wait(&x[i]))
				ret = sdt_fail("round %u transfer %u: no callback", round, i);
			else if (x[i].res.result != want)
				ret = sdt_fail("round %u #%u: result %d, want %d (fail_every=%u?)",
					       round, i, x[i].res.result, want, k);
		}
		dmaengine_terminate_sync(chan);
	}
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	kfree(x);
	return ret;
}

/*
 * stall N: with stall_nth=N set by the caller, N+1 transfers: the first N-1
 * complete, the Nth never does, nor those behind it, until a terminate.
 */
static int sdt_test_stall(unsigned int nth)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	struct sdt_xfer *x;
	unsigned int i;
	enum dma_status s;
	u32 residue;
	int ret;

	if (nth < 1 || nth > 64)
		return sdt_fail("usage: stall N, 1 <= N <= 64");
	x = kcalloc(nth + 1, sizeof(*x), GFP_KERNEL);
	if (!x)
		return sdt_fail("no memory");
	ret = sdt_buf_alloc(&src, chan, SZ_4K);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_4K);
	if (ret)
		goto out;
	for (i = 0; i <= nth && !ret; i++)
		if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &x[i]) < 0)
			ret = sdt_fail("prep/submit %u failed", i);
	dma_async_issue_pending(chan);
	for (i = 0; i + 1 < nth && !ret; i++)
		ret = sdt_check_done(chan, &x[i], "transfer before the stall");
	if (ret)
		goto out_sync;
	msleep(500);
	s = sdt_status(chan, x[nth - 1].cookie, &residue);
	if (s != DMA_IN_PROGRESS || residue != SZ_4K ||
	    atomic_read(&x[nth - 1].called) || atomic_read(&x[nth].called)) {
		ret = sdt_fail("stalled: status %d residue %u calls %d/%d (stall_nth=%u?)",
			       s, residue, atomic_read(&x[nth - 1].called),
			       atomic_read(&x[nth].called), nth);
		goto out_sync;
	}
	dmaengine_terminate_sync(chan);
	msleep(50);
	if (atomic_read(&x[nth - 1].called) || atomic_read(&x[nth].called)) {
		ret = sdt_fail("a terminated transfer was called back");
		goto out_sync;
	}
	if (sdt_memcpy(chan, dst.dma, src.dma, SZ_4K, &x[0]) < 0) {
		ret = sdt_fail("prep/submit after terminate failed");
		goto out_sync;
	}
	dma_async_issue_pending(chan);
	ret = sdt_check_done(chan, &x[0], "memcpy after terminate");
out_sync:
	dmaengine_terminate_sync(chan);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	kfree(x);
	return ret;
}

/*
 * latency US / bandwidth KBPS: with latency_us or bandwidth_kbps set by the
 * caller, a 4 KiB (latency) or 1 MiB (bandwidth) copy takes at least that.
 */
static int sdt_test_timed(bool bandwidth, unsigned int arg)
{
	struct dma_chan *chan = sdt_chans[0];
	size_t len = bandwidth ? SZ_1M : SZ_4K;
	struct sdt_buf src = { }, dst = { };
	u64 want_us, took_us;
	struct sdt_xfer x;
	ktime_t t0;
	int ret;

	if (!arg)
		return sdt_fail("usage: latency US | bandwidth KBPS, not 0");
	/* bandwidth in kB/s = 1000 bytes/s: len * 1000 / arg microseconds */
	want_us = bandwidth ? div_u64((u64)len * 1000, arg) : arg;
	ret = sdt_buf_alloc(&src, chan, len);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, len);
	if (ret)
		goto out;
	if (sdt_memcpy(chan, dst.dma, src.dma, len, &x) < 0) {
		ret = sdt_fail("prep/submit failed");
		goto out;
	}
	t0 = ktime_get();
	dma_async_issue_pending(chan);
	ret = sdt_check_done(chan, &x, "memcpy");
	took_us = ktime_us_delta(ktime_get(), t0);
	/* the first chunk of a bandwidth-limited copy is paid after it */
	if (!ret && took_us < want_us * 9 / 10)
		ret = sdt_fail("took %llu us, want at least %llu us", took_us, want_us);
	if (!ret)
		pr_info("%s %u: %llu us (model %llu us)\n",
			bandwidth ? "bandwidth" : "latency", arg, took_us, want_us);
out:
	dmaengine_terminate_sync(chan);
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/* bytes N LEN: N copies of LEN bytes (the script checks the counters) */
static int sdt_test_bytes(unsigned int n, unsigned int len)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	struct sdt_xfer x;
	unsigned int i;
	int ret;

	if (!n || !len || len > SZ_1M)
		return sdt_fail("usage: bytes N LEN, LEN <= 1 MiB");
	ret = sdt_buf_alloc(&src, chan, len);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, len);
	for (i = 0; i < n && !ret; i++) {
		if (sdt_memcpy(chan, dst.dma, src.dma, len, &x) < 0) {
			ret = sdt_fail("prep/submit %u failed", i);
			break;
		}
		dma_async_issue_pending(chan);
		ret = sdt_check_done(chan, &x, "memcpy");
	}
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

struct sdt_worker {
	struct dma_chan *chan;
	unsigned int iters;
	struct completion done;
	int ret;
};

static int sdt_worker_fn(void *data)
{
	struct sdt_worker *w = data;

	w->ret = sdt_memcpy_loop(w->chan, w->iters, SZ_128K);
	complete(&w->done);
	return 0;
}

/*
 * multichan [ITERS]: random memcpys on every held channel at once, each
 * from its own thread. Failure messages of the threads are not kept (one
 * result buffer); the first failing channel is named.
 */
static int sdt_test_multichan(unsigned int iters)
{
	struct sdt_worker *w;
	unsigned int i;
	int ret = 0;

	if (sdt_nr < 2)
		return sdt_skip("needs 2 or more softdma channels");
	w = kcalloc(sdt_nr, sizeof(*w), GFP_KERNEL);
	if (!w)
		return sdt_fail("no memory");
	for (i = 0; i < sdt_nr; i++) {
		struct task_struct *t;

		w[i].chan = sdt_chans[i];
		w[i].iters = iters ?: 300;
		init_completion(&w[i].done);
		t = kthread_run(sdt_worker_fn, &w[i], "sdt/%u", i);
		if (IS_ERR(t)) {
			w[i].ret = sdt_fail("kthread_run: %ld", PTR_ERR(t));
			complete(&w[i].done);
		}
	}
	for (i = 0; i < sdt_nr; i++) {
		wait_for_completion(&w[i].done);
		if (w[i].ret && !ret)
			ret = i + 1;
	}
	kfree(w);
	if (ret)
		return sdt_fail("channel %s: a transfer failed (see the test log)",
				dma_chan_name(sdt_chans[ret - 1]));
	return 0;
}

/*
 * ---- sync_storm: terminate + synchronize beside a streaming client ----
 *
 * Two clients of one channel, each in a thread of its own: the terminator
 * runs dmaengine_terminate_async() + dmaengine_synchronize() in a loop, the
 * streamer copies random data and verifies every copy. A terminate drops
 * the streamer's transfer now and then (terminate is per channel); the
 * streamer then copies again. What it must never see: a transfer that is
 * neither completed nor dropped within SDT_STORM_BOUND_MS (a lost engine
 * kick), a completion without its callback when no terminate could have
 * dropped it (a lost callback kick), or wrong data. The streamer watches
 * the channel's cookies (chan->completed_cookie) rather than calling
 * tx_status, which would advance the engine itself and hide a lost kick.
 * A transfer a terminate may have dropped is copied again with a new
 * callback slot (a late callback of the old one lands in its own slot) to
 * the same place from the same data, so a dropped chunk the engine finishes
 * late writes what the copy writes anyway. The terminator's synchronize
 * must return too: if it has not SDT_STORM_BOUND_MS after the streamer is
 * done, the test fails and leaks its state, pinning this module.
 */
#define SDT_STORM_BOUND_MS	2000
#define SDT_STORM_RING		256	/* callback slots; a stale one lands in an old slot */
#define SDT_STORM_SIZE		SZ_256K

struct sdt_storm {
	struct dma_chan *chan;
	atomic_t phase;		/* terminator: 1 terminating, 2 synchronizing */
	atomic_t term_start;	/* terminates begun */
	atomic_t term_end;	/* terminates finished (terminate_async returned) */
	atomic_t stop;
	unsigned long syncs;
	struct completion done;
};

static int sdt_storm_term_fn(void *data)
{
	struct sdt_storm *st = data;

	while (!atomic_read(&st->stop)) {
		atomic_set(&st->phase, 1);
		atomic_inc(&st->term_start);
		dmaengine_terminate_async(st->chan);
		atomic_inc(&st->term_end);
		atomic_set(&st->phase, 2);
		dmaengine_synchronize(st->chan);
		atomic_set(&st->phase, 0);
		st->syncs++;
		if (sdt_rand(4))
			cond_resched();
		else
			usleep_range(20, 200);
	}
	complete(&st->done);
	return 0;
}

/* Is @cookie complete (or dropped) by the channel's counters? */
static bool sdt_cookie_passed(struct dma_chan *chan, dma_cookie_t cookie)
{
	return dma_async_is_complete(cookie, READ_ONCE(chan->completed_cookie),
				     READ_ONCE(chan->cookie)) == DMA_COMPLETE;
}

/*
 * One verified copy of @len bytes, again as long as terminates drop it.
 * Return: 0, or the failure (sdt_fail()).
 */
static int sdt_storm_copy(struct sdt_storm *st, struct sdt_xfer *ring,
			  unsigned int *slot, struct sdt_buf *src,
			  struct sdt_buf *dst, size_t len, unsigned int *drops)
{
	struct dma_chan *chan = st->chan;
	unsigned long deadline;
	struct sdt_xfer *x;
	int seen;

again:
	x = &ring[(*slot)++ % SDT_STORM_RING];
	sdt_to_dev(src);
	sdt_to_dev(dst);
	seen = atomic_read(&st->term_end);
	if (sdt_memcpy(chan, dst->dma, src->dma, len, x) < 0)
		return sdt_fail("sync_storm: prep/submit failed");
	dma_async_issue_pending(chan);
	deadline = jiffies + msecs_to_jiffies(SDT_STORM_BOUND_MS);
	for (;;) {
		if (wait_for_completion_timeout(&x->done, msecs_to_jiffies(5)))
			break;
		if (atomic_read(&st->term_start) != seen) {
			/* a terminate may have dropped it: wait for it to end */
			while (atomic_read(&st->term_end) != atomic_read(&st->term_start))
				cond_resched();
			if (sdt_cookie_passed(chan, x->cookie)) {
				if (completion_done(&x->done))
					break;
				(*drops)++;
				goto again;
			}
			seen = atomic_read(&st->term_end);
		}
		if (time_after(jiffies, deadline))
			return sdt_fail("sync_storm: cookie %d %s after %d ms (lost kick)",
					x->cookie,
					sdt_cookie_passed(chan, x->cookie) ?
					"completed without its callback" :
					"not completed", SDT_STORM_BOUND_MS);
	}
	if (x->res.result != DMA_TRANS_NOERROR || x->res.residue)
		return sdt_fail("sync_storm: result %d residue %u", x->res.result,
				x->res.residue);
	if (!x->ctx_ok)
		return sdt_fail("sync_storm: callback not in softirq context");
	sdt_to_cpu(dst);
	if (memcmp(dst->cpu, src->cpu, len))
		return sdt_fail("sync_storm: %zu byte copy: destination differs", len);
	if (sdt_find_not(dst->cpu + len, min_t(size_t, SDT_GUARD, dst->size - len),
			 SDT_POISON) >= 0)
		return sdt_fail("sync_storm: guard bytes after %zu overwritten", len);
	memset(dst->cpu, SDT_POISON, len);
	return 0;
}

/*
 * sync_storm [COPIES]: COPIES verified copies (default 2000) on channel 0
 * while another thread terminates and synchronizes it in a loop.
 */
static int sdt_test_sync_storm(unsigned int copies)
{
	struct sdt_buf src = { }, dst = { };
	unsigned int i = 0, slot = 0, drops = 0;
	struct sdt_storm *st;
	struct sdt_xfer *ring;
	struct task_struct *t;
	int ret;

	copies = copies ?: 2000;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	ring = kcalloc(SDT_STORM_RING, sizeof(*ring), GFP_KERNEL);
	if (!st || !ring) {
		kfree(st);
		kfree(ring);
		return sdt_fail("no memory");
	}
	st->chan = sdt_chans[0];
	ret = sdt_buf_alloc(&src, st->chan, SDT_STORM_SIZE);
	if (!ret)
		ret = sdt_buf_alloc(&dst, st->chan, SDT_STORM_SIZE);
	if (ret)
		goto out;
	memset(dst.cpu, SDT_POISON, dst.size);
	init_completion(&st->done);
	t = kthread_run(sdt_storm_term_fn, st, "sdt_storm");
	if (IS_ERR(t)) {
		ret = sdt_fail("kthread_run: %ld", PTR_ERR(t));
		goto out;
	}
	for (; i < copies && !ret; i++) {
		size_t len = sdt_rand_len(SDT_STORM_SIZE - SDT_GUARD);

		get_random_bytes(src.cpu, len);
		ret = sdt_storm_copy(st, ring, &slot, &src, &dst, len, &drops);
	}
	atomic_set(&st->stop, 1);
	if (!wait_for_completion_timeout(&st->done,
					 msecs_to_jiffies(SDT_STORM_BOUND_MS))) {
		/* the thread still uses st, ring's slots, the buffers */
		__module_get(THIS_MODULE);
		pr_err("sync_storm: the terminator is stuck (phase %d); leaking its state\n",
		       atomic_read(&st->phase));
		return sdt_fail("sync_storm: dmaengine_%s did not return within %d ms",
				atomic_read(&st->phase) == 2 ? "synchronize" :
				"terminate_async", SDT_STORM_BOUND_MS);
	}
	dmaengine_terminate_sync(st->chan);
	if (!ret && !st->syncs)
		ret = sdt_fail("sync_storm: the terminator never synchronized");
	pr_info("sync_storm: %u copies verified, %u dropped by %lu terminates\n",
		i, drops, st->syncs);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	kfree(ring);
	kfree(st);
	return ret;
}

/*
 * ---- poll: a client that polls tx_status makes progress ----
 *
 * poll [N]: N verified 64 KiB copies with callbacks, timed; then N without
 * a callback, each waited for by a tight loop on dma_async_is_tx_complete()
 * in this thread (preemptible, interrupts on), as dma_sync_wait() and
 * dmatest's polled mode do, on the CPU where issue_pending scheduled the
 * engine. Each polled copy must complete within a second, and all of them
 * within twice the callback run plus 50 ms: a provider whose engine waits
 * for that CPU's next interrupt takes a timer tick per copy.
 */
static int sdt_test_poll(unsigned int n)
{
	struct dma_chan *chan = sdt_chans[0];
	struct sdt_buf src = { }, dst = { };
	const size_t len = SZ_64K;
	s64 t_cb, t_poll, worst = 0;
	struct sdt_xfer x;
	unsigned int i;
	ktime_t t0;
	int ret;

	n = n ?: 200;
	ret = sdt_buf_alloc(&src, chan, len);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, len);
	if (ret)
		goto out;

	t0 = ktime_get();
	for (i = 0; i < n && !ret; i++) {
		memset(src.cpu, i & 0x7f, len);
		memset(dst.cpu, SDT_POISON, len);
		sdt_to_dev(&src);
		sdt_to_dev(&dst);
		if (sdt_memcpy(chan, dst.dma, src.dma, len, &x) < 0) {
			ret = sdt_fail("poll: prep/submit failed");
			break;
		}
		dma_async_issue_pending(chan);
		ret = sdt_check_done(chan, &x, "poll (callback run)");
		sdt_to_cpu(&dst);
		if (!ret && memcmp(dst.cpu, src.cpu, len))
			ret = sdt_fail("poll: callback copy %u: destination differs", i);
	}
	t_cb = ktime_us_delta(ktime_get(), t0);

	t0 = ktime_get();
	for (i = 0; i < n && !ret; i++) {
		struct dma_async_tx_descriptor *tx;
		enum dma_status s;
		dma_cookie_t cookie;
		ktime_t t1 = ktime_get();
		s64 us;

		memset(src.cpu, i & 0x7f, len);
		memset(dst.cpu, SDT_POISON, len);
		sdt_to_dev(&src);
		sdt_to_dev(&dst);
		tx = dmaengine_prep_dma_memcpy(chan, dst.dma, src.dma, len,
					       DMA_CTRL_ACK);
		cookie = tx ? dmaengine_submit(tx) : -ENOMEM;
		if (cookie < 0) {
			ret = sdt_fail("poll: prep/submit failed");
			break;
		}
		dma_async_issue_pending(chan);
		do {
			cpu_relax();
			s = dma_async_is_tx_complete(chan, cookie, NULL, NULL);
			us = ktime_us_delta(ktime_get(), t1);
		} while (s == DMA_IN_PROGRESS && us < USEC_PER_SEC);
		if (s != DMA_COMPLETE) {
			ret = sdt_fail("poll: copy %u: status %d after %lld us", i, s, us);
			break;
		}
		worst = max(worst, us);
		sdt_to_cpu(&dst);
		if (memcmp(dst.cpu, src.cpu, len))
			ret = sdt_fail("poll: copy %u: destination differs", i);
	}
	t_poll = ktime_us_delta(ktime_get(), t0);
	if (!ret) {
		pr_info("poll: %u x 64 KiB: callback %lld us, polled %lld us (worst %lld us)\n",
			n, t_cb, t_poll, worst);
		if (t_poll > 2 * t_cb + 50 * USEC_PER_MSEC)
			ret = sdt_fail("poll: %u polled copies took %lld us, %s %lld us",
				       n, t_poll, "with callbacks", t_cb);
	}
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/* One slave_sg entry of @len bytes at @mem to the device address @dev. */
static struct dma_async_tx_descriptor *
sdt_prep_one_sg(struct dma_chan *chan, dma_addr_t mem, dma_addr_t dev,
		size_t len)
{
	struct dma_slave_config cfg = { };
	struct scatterlist sg;

	cfg.dst_addr = dev;
	cfg.dst_addr_width = DMA_SLAVE_BUSWIDTH_1_BYTE;
	if (dmaengine_slave_config(chan, &cfg))
		return NULL;
	sg_init_table(&sg, 1);
	sg_dma_address(&sg) = mem;
	sg_dma_len(&sg) = len;
	return dmaengine_prep_slave_sg(chan, &sg, 1, DMA_MEM_TO_DEV, DMA_CTRL_ACK);
}

/*
 * The channel's ring holds @ring descriptors: @ring preps succeed without a
 * submit, the next returns NULL; once they have completed, prep succeeds
 * again. Copies of @len bytes within @b.
 */
static int sdt_ring_check(struct dma_chan *chan, struct sdt_buf *b,
			  unsigned int ring, size_t len)
{
	struct dma_async_tx_descriptor **tx;
	struct sdt_xfer *x, one;
	unsigned int i, n = 0;
	int ret = 0;

	tx = kvcalloc(ring, sizeof(*tx), GFP_KERNEL);
	x = kvcalloc(ring, sizeof(*x), GFP_KERNEL);
	if (!tx || !x) {
		ret = sdt_fail("no memory for %u descriptors", ring);
		goto out;
	}
	sdt_to_dev(b);
	for (n = 0; n < ring; n++) {
		tx[n] = dmaengine_prep_dma_memcpy(chan, b->dma + len, b->dma, len,
						  DMA_CTRL_ACK | DMA_PREP_INTERRUPT);
		if (!tx[n]) {
			ret = sdt_fail("ring_size %u: prep %u returned NULL", ring, n);
			break;
		}
	}
	if (!ret && dmaengine_prep_dma_memcpy(chan, b->dma + len, b->dma, len,
					      DMA_CTRL_ACK | DMA_PREP_INTERRUPT))
		ret = sdt_fail("ring_size %u: prep %u with the ring full succeeded",
			       ring, ring);
	/* submit what was prepared (also on failure: nothing may leak) */
	for (i = 0; i < n; i++) {
		sdt_xfer_init(&x[i]);
		if (sdt_submit(tx[i], &x[i]) < 0 && !ret)
			ret = sdt_fail("submit %u failed", i);
	}
	dma_async_issue_pending(chan);
	for (i = 0; i < n; i++)
		if (!sdt_wait(&x[i]) && !ret)
			ret = sdt_fail("ring: transfer %u did not complete", i);
	if (ret)
		goto out;
	if (sdt_memcpy(chan, b->dma + len, b->dma, len, &one) < 0) {
		ret = sdt_fail("ring_size %u: prep after the completions returned NULL",
			       ring);
		goto out;
	}
	dma_async_issue_pending(chan);
	ret = sdt_check_done(chan, &one, "memcpy after the ring drained");
out:
	kvfree(x);
	kvfree(tx);
	return ret;
}

/*
 * constraints RING GRANULARITY: the constraints the channel states through
 * the API (dma_get_max_seg_size() of its DMA device, dma_device.copy_align)
 * hold: the longest aligned transfer moves correctly, a longer one and
 * misaligned ones are refused (memcpy and slave_sg); the ring holds RING
 * descriptors (0: not tested); dma_get_slave_caps() states GRANULARITY.
 */
static int sdt_test_constraints(unsigned int ring, unsigned int gran)
{
	struct dma_chan *chan = sdt_chans[0];
	struct device *dd = dmaengine_get_dma_device(chan);
	unsigned int max = dma_get_max_seg_size(dd);
	unsigned int a = chan->device->copy_align;
	size_t al = 1UL << a, len, size;
	struct sdt_buf src = { }, dst = { };
	struct dma_slave_caps caps;
	u8 *ref;
	int ret;

	if (dd != chan->device->dev)
		return sdt_fail("dmaengine_get_dma_device() is not the provider's device");
	ret = dma_get_slave_caps(chan, &caps);
	if (ret)
		return sdt_fail("dma_get_slave_caps: %d", ret);
	if (caps.residue_granularity != gran)
		return sdt_fail("residue_granularity %d, want %u",
				caps.residue_granularity, gran);
	pr_info("constraints: max_seg_size %u copy_align %u residue_granularity %d\n",
		max, a, caps.residue_granularity);
	/* the longest transfer the channel takes: max_seg_size, aligned down */
	len = max > SZ_2M ? SZ_1M : rounddown(max, al);
	if (!len)
		return sdt_fail("max_seg_size %u < copy_align %zu bytes", max, al);
	size = roundup_pow_of_two(len + 2 * al + SDT_GUARD);
	ref = vmalloc(size);
	if (!ref)
		return sdt_fail("no memory");
	ret = sdt_buf_alloc(&src, chan, size);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, size);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, size);
	memcpy(ref, src.cpu, size);
	memset(dst.cpu, SDT_POISON, size);

	/* accepted: the longest, and a short one at aligned offsets */
	ret = sdt_one_memcpy(chan, &src, &dst, ref, 0, 0, len);
	if (!ret)
		ret = sdt_one_memcpy(chan, &src, &dst, ref, al, 2 * al, al);
	if (ret)
		goto out;
	/* longer than max_seg_size */
	if (max < U32_MAX) {
		size_t over = rounddown(max, al) + al;

		if (dmaengine_prep_dma_memcpy(chan, dst.dma, src.dma, over,
					      DMA_CTRL_ACK)) {
			ret = sdt_fail("memcpy of %zu bytes > max_seg_size %u accepted",
				       over, max);
			goto out_sync;
		}
		if (sdt_prep_one_sg(chan, src.dma, dst.dma, over)) {
			ret = sdt_fail("slave_sg entry of %zu bytes > max_seg_size %u accepted",
				       over, max);
			goto out_sync;
		}
	}
	/* misaligned source, destination, length */
	if (a) {
		static const char * const what[] = { "source", "destination", "length" };
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(what); i++) {
			size_t off[3] = { 0, 0, 0 };

			off[i] = al / 2;	/* one of the three misaligned */
			if (dmaengine_prep_dma_memcpy(chan, dst.dma + off[1],
						      src.dma + off[0], al + off[2],
						      DMA_CTRL_ACK)) {
				ret = sdt_fail("memcpy, misaligned %s (copy_align %u): accepted",
					       what[i], a);
				goto out_sync;
			}
		}
		if (sdt_prep_one_sg(chan, src.dma + al / 2, dst.dma, al)) {
			ret = sdt_fail("slave_sg entry misaligned to copy_align %u accepted", a);
			goto out_sync;
		}
	}
	if (ring)
		ret = sdt_ring_check(chan, &dst, ring, al);
out_sync:
	dmaengine_terminate_sync(chan);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	vfree(ref);
	return ret;
}

#define SDT_RSEG	3008	/* segment length: 47 * 64, no divisor of 64 KiB */
#define SDT_RSEGS	128

/*
 * Segment granularity: a slave_sg of SDT_RSEGS entries of SDT_RSEG bytes
 * under a bandwidth limit (set by the caller); every residue tx_status gives
 * is whole segments, and it moves through 2+ partial values.
 */
static int sdt_residue_segment(struct dma_chan *chan)
{
	const size_t total = SDT_RSEG * SDT_RSEGS;
	struct device *dd = dmaengine_get_dma_device(chan);
	struct sdt_buf mem = { }, dev = { };
	struct dma_slave_config cfg = { };
	struct scatterlist *sgl;
	unsigned int i, steps = 0;
	u32 residue, prev = total;
	enum dma_status s;
	struct sdt_xfer x;
	int mapped, ret;

	sgl = kcalloc(SDT_RSEGS, sizeof(*sgl), GFP_KERNEL);
	if (!sgl)
		return sdt_fail("no memory");
	ret = sdt_buf_alloc(&mem, chan, SZ_512K);
	if (!ret)
		ret = sdt_buf_alloc(&dev, chan, SZ_512K);
	if (ret)
		goto out;
	get_random_bytes(mem.cpu, total);
	sg_init_table(sgl, SDT_RSEGS);
	for (i = 0; i < SDT_RSEGS; i++)
		sg_set_buf(&sgl[i], mem.cpu + i * SDT_RSEG, SDT_RSEG);
	cfg.dst_addr = dev.dma;
	cfg.dst_addr_width = DMA_SLAVE_BUSWIDTH_4_BYTES;
	ret = dmaengine_slave_config(chan, &cfg);
	if (ret) {
		ret = sdt_fail("slave_config: %d", ret);
		goto out;
	}
	sdt_to_dev(&mem);
	mapped = dma_map_sg_attrs(dd, sgl, SDT_RSEGS, DMA_TO_DEVICE,
				  DMA_ATTR_SKIP_CPU_SYNC);
	if (!mapped) {
		ret = sdt_fail("dma_map_sg failed");
		goto out;
	}
	sdt_xfer_init(&x);
	if (sdt_submit(dmaengine_prep_slave_sg(chan, sgl, mapped, DMA_MEM_TO_DEV,
					       DMA_CTRL_ACK | DMA_PREP_INTERRUPT),
		       &x) < 0) {
		ret = sdt_fail("slave_sg of %u entries: prep/submit failed", mapped);
		goto out_unmap;
	}
	s = sdt_status(chan, x.cookie, &residue);
	if (s != DMA_IN_PROGRESS || residue != total) {
		ret = sdt_fail("before issue_pending: status %d residue %u", s, residue);
		goto out_sync;
	}
	dma_async_issue_pending(chan);
	for (;;) {
		s = sdt_status(chan, x.cookie, &residue);
		if (s == DMA_COMPLETE)
			break;
		if (s != DMA_IN_PROGRESS || residue > prev ||
		    (total - residue) % SDT_RSEG) {
			ret = sdt_fail("status %d residue %u after %u: not whole %u byte segments",
				       s, residue, prev, SDT_RSEG);
			goto out_sync;
		}
		if (residue < prev)
			steps++;
		prev = residue;
		usleep_range(2000, 4000);
	}
	if (residue || steps < 2) {
		ret = sdt_fail("residue %u at completion, %u partial ones (want 0, 2+)",
			       residue, steps);
		goto out_sync;
	}
	ret = sdt_check_done(chan, &x, "slave_sg");
	sdt_to_cpu(&dev);
	if (!ret && memcmp(dev.cpu, mem.cpu, total))
		ret = sdt_fail("destination differs");
out_sync:
	dmaengine_terminate_sync(chan);
out_unmap:
	dma_unmap_sg_attrs(dd, sgl, SDT_RSEGS, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
out:
	sdt_buf_free(&dev);
	sdt_buf_free(&mem);
	kfree(sgl);
	return ret;
}

/*
 * Descriptor granularity: a 1 MiB copy under a bandwidth limit (set by the
 * caller) is seen in progress, and its residue is always 0: the channel
 * does not report residue (include/linux/dmaengine.h).
 */
static int sdt_residue_descriptor(struct dma_chan *chan)
{
	struct sdt_buf src = { }, dst = { };
	unsigned int busy = 0;
	enum dma_status s;
	struct sdt_xfer x;
	u32 residue;
	int ret;

	ret = sdt_buf_alloc(&src, chan, SZ_1M);
	if (!ret)
		ret = sdt_buf_alloc(&dst, chan, SZ_1M);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, SZ_1M);
	sdt_to_dev(&src);
	if (sdt_memcpy(chan, dst.dma, src.dma, SZ_1M, &x) < 0) {
		ret = sdt_fail("prep/submit of 1 MiB failed (max_seg_size?)");
		goto out;
	}
	dma_async_issue_pending(chan);
	for (;;) {
		s = sdt_status(chan, x.cookie, &residue);
		if (s == DMA_COMPLETE)
			break;
		if (s != DMA_IN_PROGRESS || residue) {
			ret = sdt_fail("status %d residue %u: want in progress, residue 0",
				       s, residue);
			goto out_sync;
		}
		busy++;
		usleep_range(2000, 4000);
	}
	if (busy < 3) {
		ret = sdt_fail("seen in progress %u times, want 3+ (bandwidth_kbps?)", busy);
		goto out_sync;
	}
	ret = sdt_check_done(chan, &x, "memcpy");
	sdt_to_cpu(&dst);
	if (!ret && memcmp(dst.cpu, src.cpu, SZ_1M))
		ret = sdt_fail("destination differs");
out_sync:
	dmaengine_terminate_sync(chan);
out:
	sdt_buf_free(&dst);
	sdt_buf_free(&src);
	return ret;
}

/*
 * residue_gran GRANULARITY: dma_get_slave_caps() states GRANULARITY (0
 * descriptor, 1 segment, 2 burst) and tx_status reports residues at it
 * (bandwidth limit set by the caller).
 */
static int sdt_test_residue_gran(unsigned int want)
{
	struct dma_chan *chan = sdt_chans[0];
	struct dma_slave_caps caps;
	int ret;

	ret = dma_get_slave_caps(chan, &caps);
	if (ret)
		return sdt_fail("dma_get_slave_caps: %d", ret);
	if (caps.residue_granularity != want)
		return sdt_fail("residue_granularity %d, want %u",
				caps.residue_granularity, want);
	switch (caps.residue_granularity) {
	case DMA_RESIDUE_GRANULARITY_DESCRIPTOR:
		return sdt_residue_descriptor(chan);
	case DMA_RESIDUE_GRANULARITY_SEGMENT:
		return sdt_residue_segment(chan);
	default:
		return sdt_test_residue();
	}
}

static int sdt_run(char *cmd)
{
	unsigned int a = 0, b = 0;
	char name[32], mode[8] = "read";
	int n;

	n = sscanf(cmd, "%31s %u %u", name, &a, &b);
	if (n < 1)
		return -EINVAL;
	if (!strcmp(name, "fail")) {
		if (sscanf(cmd, "%31s %u %7s %u", name, &a, mode, &b) < 2)
			return -EINVAL;
	}

	scnprintf(sdt_result, sizeof(sdt_result), "ok");
	if (!strcmp(name, "memcpy_random"))
		sdt_test_memcpy_random(a);
	else if (!strcmp(name, "slave_sg"))
		sdt_test_slave_sg(a);
	else if (!strcmp(name, "inflight"))
		sdt_test_inflight(a);
	else if (!strcmp(name, "ordering"))
		sdt_test_ordering();
	else if (!strcmp(name, "reuse"))
		sdt_test_reuse();
	else if (!strcmp(name, "ack_hold"))
		sdt_test_ack_hold();
	else if (!strcmp(name, "ack_release"))
		sdt_test_ack_release();
	else if (!strcmp(name, "badinput"))
		sdt_test_badinput();
	else if (!strcmp(name, "residue"))
		sdt_test_residue();
	else if (!strcmp(name, "pause"))
		sdt_test_pause();
	else if (!strcmp(name, "terminate"))
		sdt_test_terminate();
	else if (!strcmp(name, "terminate_cb"))
		sdt_test_terminate_cb();
	else if (!strcmp(name, "fail"))
		sdt_test_fail(a, mode, b);
	else if (!strcmp(name, "nohalt"))
		sdt_test_nohalt(a, b);
	else if (!strcmp(name, "fail_every"))
		sdt_test_fail_every(a);
	else if (!strcmp(name, "stall"))
		sdt_test_stall(a);
	else if (!strcmp(name, "latency"))
		sdt_test_timed(false, a);
	else if (!strcmp(name, "bandwidth"))
		sdt_test_timed(true, a);
	else if (!strcmp(name, "bytes"))
		sdt_test_bytes(a, b);
	else if (!strcmp(name, "multichan"))
		sdt_test_multichan(a);
	else if (!strcmp(name, "sync_storm"))
		sdt_test_sync_storm(a);
	else if (!strcmp(name, "poll"))
		sdt_test_poll(a);
	else if (!strcmp(name, "constraints"))
		sdt_test_constraints(a, b);
	else if (!strcmp(name, "residue_gran"))
		sdt_test_residue_gran(a);
	else
		return -EINVAL;
	if (strncmp(sdt_result, "ok", 2))
		pr_info("%s: %s\n", cmd, sdt_result);
	return 0;
}

static ssize_t sdt_run_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char cmd[64];
	int ret;

	if (!count || count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	mutex_lock(&sdt_mutex);
	ret = sdt_run(strim(cmd));
	mutex_unlock(&sdt_mutex);
	if (ret) {
		pr_err("unknown test or bad arguments: %s\n", cmd);
		return ret;
	}
	return count;
}

static ssize_t sdt_run_read(struct file *file, char __user *ubuf, size_t count,
			    loff_t *ppos)
{
	char buf[sizeof(sdt_result) + 1];
	int len;

	mutex_lock(&sdt_mutex);
	len = scnprintf(buf, sizeof(buf), "%s\n", sdt_result);
	mutex_unlock(&sdt_mutex);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations sdt_run_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= sdt_run_read,
	.write	= sdt_run_write,
	.llseek	= default_llseek,
};

static int sdt_chans_show(struct seq_file *m, void *v)
{
	unsigned int i;

	for (i = 0; i < sdt_nr; i++)
		seq_printf(m, "%s\n", dma_chan_name(sdt_chans[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sdt_chans);

static bool sdt_filter(struct dma_chan *chan, void *param)
{
	return !strcmp(dev_driver_string(chan->device->dev), "softdma");
}

static void sdt_release_chans(void)
{
	while (sdt_nr)
		dma_release_channel(sdt_chans[--sdt_nr]);
}

static int __init sdt_init(void)
{
	dma_cap_mask_t mask;

	if (!nchans || nchans > SDT_MAX_CHANS) {
		pr_err("nchans=%u: must be 1 to %u\n", nchans, SDT_MAX_CHANS);
		return -EINVAL;
	}
	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	dma_cap_set(DMA_SLAVE, mask);
	while (sdt_nr < nchans) {
		struct dma_chan *chan = dma_request_channel(mask, sdt_filter, NULL);

		if (!chan)
			break;
		sdt_chans[sdt_nr++] = chan;
	}
	if (!sdt_nr) {
		pr_err("no free softdma channel (is softdma loaded?)\n");
		return -ENODEV;
	}
	sdt_dir = debugfs_create_dir("softdma_test", NULL);
	debugfs_create_file("run", 0600, sdt_dir, NULL, &sdt_run_fops);
	debugfs_create_file("chans", 0400, sdt_dir, NULL, &sdt_chans_fops);
	scnprintf(sdt_result, sizeof(sdt_result), "no test run yet");
	pr_info("holding %u softdma channels\n", sdt_nr);
	return 0;
}

static void __exit sdt_exit(void)
{
	debugfs_remove_recursive(sdt_dir);
	if (sdt_unacked) {
		async_tx_ack(sdt_unacked);
		sdt_unacked = NULL;
	}
	sdt_release_chans();
}

module_init(sdt_init);
module_exit(sdt_exit);

MODULE_DESCRIPTION("softdma test client: drives softdma through the dmaengine API");
MODULE_AUTHOR("dmahba developers");
MODULE_LICENSE("GPL");
