// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_store.c - the thin RAM medium behind each logical unit.
 *
 * The medium is an xarray of pages indexed by page number. A page is
 * allocated zeroed the first time a transfer writes into it and freed again
 * when the whole page is unmapped or zeroed, so only written data costs
 * memory and a medium larger than RAM works as long as it is not filled.
 * Holes read as zeros through one shared zero page of our own, mapped for
 * the DMA device once when the store is created.
 *
 * The store never moves SCSI data: dmahba_store_map() hands out DMA
 * addresses of its pages, each pinned with a page reference until
 * dmahba_store_unmap(). The xarray is changed only under its lock; lookups
 * take their page reference locklessly (RCU, get_page_unless_zero() and a
 * second look, as the page cache does), so a page erased by UNMAP while a
 * transfer holds it stays alive until the transfer is unmapped.
 *
 * Every page of every store is charged to one budget, set at load
 * (dmahba_store_set_budget()): a write that would need a page beyond it is
 * refused with -ENOSPC before it changes a byte, and the memory comes back
 * when UNMAP frees pages. The charge is one atomic add per page allocated;
 * writes over pages already there cost nothing.
 *
 * A write covering a whole aligned 64 KiB run of holes gets the run as one
 * physically contiguous block, split into independent pages, and
 * dmahba_store_map() joins physically contiguous pages into one segment:
 * a 1 MiB transfer over such runs is 16 segments, 16 mappings and (with a
 * slave_sg channel) 16 descriptors rather than 256.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "dmahba_port.h"
#include "dmahba_store.h"

/*
 * Pages (and xarray nodes) are allocated under the port's queue lock with
 * interrupts off: no sleeping, and no dipping into the emergency reserves
 * either (no __GFP_HIGH, unlike GFP_ATOMIC): data pages must never starve
 * the allocations that keep the system going. A failure is transient and
 * answered -ENOMEM; the HBA retries the command a bounded number of times.
 */
#define DMAHBA_STORE_GFP	(GFP_NOWAIT | __GFP_NOWARN)

/* pages a covering write allocates as one contiguous run (64 KiB) */
#define DMAHBA_STORE_RUN_ORDER	4
#define DMAHBA_STORE_RUN	BIT(DMAHBA_STORE_RUN_ORDER)

/* GET LBA STATUS granularity: look at no more pages than this per call */
#define DMAHBA_STORE_RUN_SCAN	4096UL

/* pages all stores may hold together (dmahba_store_set_budget()) */
static u64 dmahba_store_budget;
/* pages all stores hold, plus those being allocated */
static atomic64_t dmahba_store_used = ATOMIC64_INIT(0);
/* writes refused for the budget, page allocations that failed */
static atomic64_t dmahba_store_nr_nospc = ATOMIC64_INIT(0);
static atomic64_t dmahba_store_nr_nomem = ATOMIC64_INIT(0);

/**
 * struct dmahba_store - one logical unit's medium
 * @dma_dev: the device the pages are mapped for
 * @size: medium size in bytes
 * @pages: page index -> struct page; its lock (taken with interrupts
 *	   disabled) serialises insertion, erasure and taking references
 * @nr_pages: pages currently in @pages
 * @zero_page: the page holes read from; never written
 * @zero_dma: @zero_page mapped DMA_TO_DEVICE for @dma_dev
 */
struct dmahba_store {
	struct device *dma_dev;
	u64 size;
	struct xarray pages;
	atomic64_t nr_pages;
	struct page *zero_page;
	dma_addr_t zero_dma;
};

/**
 * dmahba_store_set_budget() - set the pages all stores may hold together
 * @pages: the budget, > 0
 *
 * Context: process context, at module load, before any store exists.
 */
void dmahba_store_set_budget(u64 pages)
{
	WRITE_ONCE(dmahba_store_budget, pages);
}

/**
 * dmahba_store_get_usage() - the budget and its use
 * @u: filled in with the counters of all stores
 *
 * Context: any context.
 */
void dmahba_store_get_usage(struct dmahba_store_usage *u)
{
	u->used_pages = atomic64_read(&dmahba_store_used);
	u->budget_pages = READ_ONCE(dmahba_store_budget);
	u->nospc = atomic64_read(&dmahba_store_nr_nospc);
	u->nomem = atomic64_read(&dmahba_store_nr_nomem);
}

/*
 * Charge @n pages to the budget, all or none: O(1), one atomic operation.
 * Racing charges may see each other's pages for a moment and refuse near
 * the limit; none can push the use past it.
 */
static bool dmahba_store_charge(unsigned int n)
{
	if (atomic64_add_return(n, &dmahba_store_used) <=
	    READ_ONCE(dmahba_store_budget))
		return true;
	atomic64_sub(n, &dmahba_store_used);
	return false;
}

static void dmahba_store_uncharge(u64 n)
{
	atomic64_sub(n, &dmahba_store_used);
}

/**
 * dmahba_store_create() - create an empty (all zeros) medium
 * @dma_dev: the DMA controller's device the pages will be mapped for
 * @size: medium size in bytes
 *
 * Context: process context, may sleep.
 * Return: the store, or an ERR_PTR() (-EINVAL for a zero size, -ENOMEM).
 */
struct dmahba_store *dmahba_store_create(struct device *dma_dev, u64 size)
{
	struct dmahba_store *st;

	if (!dma_dev || !size)
		return ERR_PTR(-EINVAL);

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return ERR_PTR(-ENOMEM);

	st->zero_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!st->zero_page)
		goto err_free_store;
	st->zero_dma = dma_map_page(dma_dev, st->zero_page, 0, PAGE_SIZE,
				    DMA_TO_DEVICE);
	if (dma_mapping_error(dma_dev, st->zero_dma))
		goto err_free_zero_page;

	st->dma_dev = dma_dev;
	st->size = size;
	xa_init_flags(&st->pages, XA_FLAGS_LOCK_IRQ);
	atomic64_set(&st->nr_pages, 0);
	return st;

err_free_zero_page:
	__free_page(st->zero_page);
err_free_store:
	kfree(st);
	return ERR_PTR(-ENOMEM);
}

/**
 * dmahba_store_destroy() - free a medium and everything it holds
 * @st: the store, or NULL
 *
 * No transfer may hold a mapping of @st any more.
 *
 * Context: process context, may sleep.
 */
void dmahba_store_destroy(struct dmahba_store *st)
{
	struct page *page;
	unsigned long idx;

	if (!st)
		return;
	xa_for_each(&st->pages, idx, page)
		put_page(page);
	xa_destroy(&st->pages);
	dmahba_store_uncharge(atomic64_read(&st->nr_pages));
	dma_unmap_page(st->dma_dev, st->zero_dma, PAGE_SIZE, DMA_TO_DEVICE);
	__free_page(st->zero_page);
	kfree(st);
}

/*
 * Take a reference on the page at @idx. With @alloc, a hole gets a new
 * zeroed page charged to the budget (a racing allocation of the same index
 * wins or loses through the compare-exchange; the loser's charge is given
 * back); without it, a hole returns NULL. Errors: -ENOSPC when the budget
 * is spent, -ENOMEM when no page (or xarray node) can be had now.
 */
static struct page *dmahba_store_get(struct dmahba_store *st,
				     unsigned long idx, bool alloc)
{
	XA_STATE(xas, &st->pages, idx);
	struct page *page, *new, *old;
	unsigned long flags;

	/*
	 * Lockless lookup, as the page cache does it: a page being freed
	 * (UNMAP) has no reference left to take, and one freed and reused
	 * meanwhile is no longer in its slot when the slot is read again.
	 */
	rcu_read_lock();
	for (;;) {
		xas_reset(&xas);
		page = xas_load(&xas);
		if (xas_retry(&xas, page))
			continue;
		if (!page)
			break;
		if (get_page_unless_zero(page)) {
			if (likely(xas_reload(&xas) == page))
				break;
			put_page(page);
		}
	}
	rcu_read_unlock();
	if (page || !alloc)
		return page;

	if (!dmahba_store_charge(1)) {
		atomic64_inc(&dmahba_store_nr_nospc);
		return ERR_PTR(-ENOSPC);
	}
	new = alloc_page(DMAHBA_STORE_GFP | __GFP_ZERO);
	if (!new) {
		dmahba_store_uncharge(1);
		atomic64_inc(&dmahba_store_nr_nomem);
		return ERR_PTR(-ENOMEM);
	}

	xa_lock_irqsave(&st->pages, flags);
	old = __xa_cmpxchg(&st->pages, idx, NULL, new, DMAHBA_STORE_GFP);
	if (xa_is_err(old)) {
		xa_unlock_irqrestore(&st->pages, flags);
		__free_page(new);
		dmahba_store_uncharge(1);
		atomic64_inc(&dmahba_store_nr_nomem);
		return ERR_PTR(-ENOMEM);
	}
	if (old) {
		page = old;
		dmahba_store_uncharge(1);
	} else {
		page = new;
		new = NULL;
		atomic64_inc(&st->nr_pages);
	}
	get_page(page);
	xa_unlock_irqrestore(&st->pages, flags);

	if (new)
		__free_page(new);
	return page;
}

/*
 * A write that covers the whole aligned run of DMAHBA_STORE_RUN pages at
 * @idx, the first of which is not there yet: allocate the missing ones as
 * one physically contiguous block, split into pages that live and die on
 * their own (UNMAP frees them one by one), so that the transfer maps the
 * run as one segment and moves it with one descriptor. Best effort: without
 * a free block, or with less than a run left in the budget, the pages come
 * one at a time, as for any other write.
 */
static void dmahba_store_get_run(struct dmahba_store *st, unsigned long idx)
{
	unsigned int i, unused = 0;
	unsigned long flags;
	struct page *block;
	void *old;

	if (xa_load(&st->pages, idx))
		return;
	if (!dmahba_store_charge(DMAHBA_STORE_RUN))
		return;
	block = alloc_pages(GFP_NOWAIT | __GFP_NOWARN | __GFP_NORETRY |
			    __GFP_ZERO, DMAHBA_STORE_RUN_ORDER);
	if (!block) {
		dmahba_store_uncharge(DMAHBA_STORE_RUN);
		return;
	}
	split_page(block, DMAHBA_STORE_RUN_ORDER);
	xa_lock_irqsave(&st->pages, flags);
	for (i = 0; i < DMAHBA_STORE_RUN; i++) {
		old = __xa_cmpxchg(&st->pages, idx + i, NULL, block + i,
				   DMAHBA_STORE_GFP);
		if (old) {	/* there already (or no memory): not needed */
			__free_page(block + i);
			unused++;
		} else {
			atomic64_inc(&st->nr_pages);
		}
	}
	xa_unlock_irqrestore(&st->pages, flags);
	if (unused)
		dmahba_store_uncharge(unused);
}

/*
 * Would the holes among pages [@first, @last] fit in what is left of the
 * budget? O(1) while the budget is far from spent; near it, the pages there
 * are counted (a walk of the present pages of the range only), so that a
 * write that cannot fit is refused before it allocates anything.
 */
static bool dmahba_store_fits(struct dmahba_store *st, unsigned long first,
			      unsigned long last)
{
	u64 budget = READ_ONCE(dmahba_store_budget);
	u64 used = atomic64_read(&dmahba_store_used);
	u64 need = last - first + 1;
	XA_STATE(xas, &st->pages, first);
	struct page *page;

	if (used + need <= budget)
		return true;
	rcu_read_lock();
	xas_for_each(&xas, page, last) {
		if (xas_retry(&xas, page))
			continue;
		need--;
	}
	rcu_read_unlock();
	return used + need <= budget;
}

/**
 * dmahba_store_alloc() - give every page of a range memory before a write
 * @st: the store
 * @pos: byte position on the medium
 * @len: bytes, > 0; @pos + @len must not pass the end of the medium
 *
 * For a command that writes the range in several transfers (several
 * windows, or WRITE SAME block by block): once this has succeeded, the
 * range can be written without another page (unless UNMAP frees some of
 * it meanwhile, which leaves the order of the two undefined anyway). On
 * failure no byte of the medium has changed: pages it allocated before
 * failing stay, zeroed, and read as the holes they replaced.
 *
 * Context: any context; does not sleep. Allocates up to @len / PAGE_SIZE
 * pages: the caller bounds @len.
 * Return: 0; -EINVAL for a range outside the medium; -ENOSPC when the
 * budget cannot hold the range's holes; -ENOMEM when a page cannot be had
 * now.
 */
int dmahba_store_alloc(struct dmahba_store *st, u64 pos, u64 len)
{
	unsigned long idx, first, last;
	struct page *page;

	if (!len || pos > st->size || len > st->size - pos)
		return -EINVAL;
	first = pos >> PAGE_SHIFT;
	last = (pos + len - 1) >> PAGE_SHIFT;
	if (!dmahba_store_fits(st, first, last)) {
		atomic64_inc(&dmahba_store_nr_nospc);
		return -ENOSPC;
	}
	for (idx = first; idx <= last; idx++) {
		if (!(idx & (DMAHBA_STORE_RUN - 1)) &&
		    last - idx + 1 >= DMAHBA_STORE_RUN)
			dmahba_store_get_run(st, idx);
		page = dmahba_store_get(st, idx, true);
		if (IS_ERR(page))
			return PTR_ERR(page);
		put_page(page);
	}
	return 0;
}

/* Drop the page references of @nsegs segments. */
static void dmahba_store_put(struct dmahba_seg *seg, unsigned int nsegs)
{
	unsigned int n, i;

	for (n = 0; n < nsegs; n++) {
		for (i = 0; i < seg[n].npages; i++)
			put_page(pfn_to_page(page_to_pfn(seg[n].page) + i));
		seg[n].page = NULL;
		seg[n].npages = 0;
	}
}

/**
 * dmahba_store_map() - map the medium side of a transfer for DMA
 * @st: the store
 * @pos: byte position on the medium
 * @len: bytes, > 0; @pos + @len must not pass the end of the medium
 * @dir: DMA_TO_DEVICE when the medium is the source (a read: holes map the
 *	 shared zero page), DMA_FROM_DEVICE or DMA_BIDIRECTIONAL when it is
 *	 written (holes get new zeroed pages)
 * @seg: array receiving the segments of [@pos, @pos + @len): one per run of
 *	 physically contiguous pages, one per hole page piece
 * @max_segs: entries in @seg; as many as pages in the range are enough
 *
 * Every page in a segment is pinned until dmahba_store_unmap().
 *
 * A write gets every page it needs before this returns, so a failure
 * leaves no byte of the medium changed.
 *
 * Context: any context; does not sleep.
 * Return: the number of segments, -EINVAL for a range outside the medium,
 * -E2BIG if more than @max_segs segments are needed; for a write, -ENOSPC
 * when the budget cannot hold its pages, -ENOMEM when a page cannot be had
 * now; -EAGAIN when a DMA mapping cannot be had now (in every case nothing
 * is left mapped).
 */
int dmahba_store_map(struct dmahba_store *st, u64 pos, u32 len,
		     enum dma_data_direction dir, struct dmahba_seg *seg,
		     unsigned int max_segs)
{
	bool write = dir != DMA_TO_DEVICE;
	u32 first_off = offset_in_page(pos), off, chunk;
	unsigned int i, n = 0, npages;
	unsigned long idx;
	struct page *page;
	int ret;

	if (!len || pos > st->size || len > st->size - pos)
		return -EINVAL;
	npages = DIV_ROUND_UP(first_off + (u64)len, PAGE_SIZE);
	if (npages > max_segs)
		return -E2BIG;
	if (write && !dmahba_store_fits(st, pos >> PAGE_SHIFT,
					(pos >> PAGE_SHIFT) + npages - 1)) {
		atomic64_inc(&dmahba_store_nr_nospc);
		return -ENOSPC;
	}

	/* the pages, one reference each; a page right after the last one joins its segment */
	for (i = 0; i < npages; i++) {
		idx = pos >> PAGE_SHIFT;
		off = offset_in_page(pos);
		chunk = min_t(u32, len, PAGE_SIZE - off);
		if (write && !off && !(idx & (DMAHBA_STORE_RUN - 1)) &&
		    len >= DMAHBA_STORE_RUN * PAGE_SIZE)
			dmahba_store_get_run(st, idx);
		page = dmahba_store_get(st, idx, write);
		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			goto err_put;
		}
		if (page && n && seg[n - 1].page &&
		    page_to_pfn(page) ==
		    page_to_pfn(seg[n - 1].page) + seg[n - 1].npages) {
			seg[n - 1].len += chunk;
			seg[n - 1].npages++;
		} else {
			seg[n].addr = page ? DMA_MAPPING_ERROR : st->zero_dma + off;
			seg[n].len = chunk;
			seg[n].page = page;
			seg[n].npages = page ? 1 : 0;
			n++;
		}
		pos += chunk;
		len -= chunk;
	}

	/*
	 * Two commands may write the same blocks at once (SCSI leaves their
	 * order undefined), so mappings of a page may overlap: the CPU syncs
	 * are made explicitly, which is what DMA-API debugging asks of
	 * overlapping mappings.
	 */
	for (i = 0; i < n; i++) {
		if (!seg[i].page)
			continue;
		seg[i].addr = dma_map_page_attrs(st->dma_dev, seg[i].page,
						 i ? 0 : first_off, seg[i].len,
						 dir, DMA_ATTR_SKIP_CPU_SYNC);
		if (dma_mapping_error(st->dma_dev, seg[i].addr)) {
			dmahba_store_unmap(st, seg, i, dir);
			dmahba_store_put(seg + i, n - i);
			return -EAGAIN;
		}
		dma_sync_single_for_device(st->dma_dev, seg[i].addr,
					   seg[i].len, dir);
	}
	return n;

err_put:
	dmahba_store_put(seg, n);
	return ret;
}

/**
 * dmahba_store_unmap() - undo dmahba_store_map()
 * @st: the store
 * @seg: the segments dmahba_store_map() filled in
 * @nsegs: its return value
 * @dir: the direction given to dmahba_store_map()
 *
 * Context: any context; does not sleep.
 */
void dmahba_store_unmap(struct dmahba_store *st, struct dmahba_seg *seg,
			unsigned int nsegs, enum dma_data_direction dir)
{
	unsigned int n;

	for (n = 0; n < nsegs; n++) {
		if (!seg[n].page)
			continue;
		dma_sync_single_for_cpu(st->dma_dev, seg[n].addr, seg[n].len,
					dir);
		dma_unmap_page_attrs(st->dma_dev, seg[n].addr, seg[n].len, dir,
				     DMA_ATTR_SKIP_CPU_SYNC);
	}
	dmahba_store_put(seg, nsegs);
}

/* Erase the page at @idx if present and drop the store's reference. */
static void dmahba_store_drop(struct dmahba_store *st, unsigned long idx)
{
	struct page *page;
	unsigned long flags;

	xa_lock_irqsave(&st->pages, flags);
	page = __xa_erase(&st->pages, idx);
	xa_unlock_irqrestore(&st->pages, flags);
	if (page) {
		atomic64_dec(&st->nr_pages);
		dmahba_store_uncharge(1);
		put_page(page);
	}
}

/* Zero part of the page at @idx, if it is present. */
static void dmahba_store_clear(struct dmahba_store *st, unsigned long idx,
			       u32 off, u32 len)
{
	struct page *page = dmahba_store_get(st, idx, false);

	if (!page)
		return;
	memzero_page(page, off, len);
	put_page(page);
}

/**
 * dmahba_store_zero() - make a range read as zeros, giving memory back
 * @st: the store
 * @pos: byte position on the medium
 * @len: bytes
 *
 * Pages wholly inside the range are freed (once no transfer holds them);
 * the partial pages at its ends are cleared. Only present pages are
 * visited, so the cost follows the memory in use, not the range.
 *
 * Context: any context; does not sleep.
 * Return: 0, or -EINVAL for a range outside the medium.
 */
int dmahba_store_zero(struct dmahba_store *st, u64 pos, u64 len)
{
	u64 end = pos + len;
	unsigned long first, last, idx;
	u32 off;

	if (pos > st->size || len > st->size - pos)
		return -EINVAL;
	if (!len)
		return 0;

	off = offset_in_page(pos);
	if (off) {
		u32 chunk = min_t(u64, len, PAGE_SIZE - off);

		dmahba_store_clear(st, pos >> PAGE_SHIFT, off, chunk);
		pos += chunk;
	}
	if (pos < end && offset_in_page(end) && (end & PAGE_MASK) >= pos) {
		dmahba_store_clear(st, end >> PAGE_SHIFT, 0,
				   offset_in_page(end));
		end &= PAGE_MASK;
	}
	if (pos >= end)
		return 0;

	first = pos >> PAGE_SHIFT;
	last = (end >> PAGE_SHIFT) - 1;
	idx = first;
	while (xa_find(&st->pages, &idx, last, XA_PRESENT)) {
		dmahba_store_drop(st, idx);
		if (idx == last)
			break;
		idx++;
	}
	return 0;
}

/**
 * dmahba_store_compare() - compare the medium with a buffer
 * @st: the store
 * @pos: byte position on the medium
 * @buf: the data to compare with
 * @len: bytes
 *
 * A CPU comparison (no SCSI data is moved): holes compare as zeros. The
 * work of one call is bounded: @len is at most DMAHBA_STORE_COMPARE_MAX,
 * and a longer range is never called equal.
 *
 * Context: any context; does not sleep.
 * Return: -1 if the range equals @buf (or lies outside the medium, which
 * the caller has ruled out), else the offset of the first differing byte
 * (0 when @len is too long).
 */
s64 dmahba_store_compare(struct dmahba_store *st, u64 pos, const void *buf,
			 u32 len)
{
	const u8 *p = buf;
	u32 done = 0;

	if (pos > st->size || len > st->size - pos)
		return -1;
	if (WARN_ON_ONCE(len > DMAHBA_STORE_COMPARE_MAX))
		return 0;

	while (done < len) {
		u32 off = offset_in_page(pos + done);
		u32 chunk = min_t(u32, len - done, PAGE_SIZE - off);
		struct page *page = dmahba_store_get(st, (pos + done) >>
						     PAGE_SHIFT, false);
		const u8 *diff = NULL;
		const u8 *m;
		u32 i;

		if (!page) {
			diff = memchr_inv(p + done, 0, chunk);
		} else {
			m = kmap_local_page(page);
			if (memcmp(p + done, m + off, chunk)) {
				for (i = 0; p[done + i] == m[off + i]; i++)
					;
				diff = p + done + i;
			}
			kunmap_local(m);
			put_page(page);
		}
		if (diff)
			return diff - p;
		done += chunk;
	}
	return -1;
}

/**
 * dmahba_store_mapped() - provisioning state of the medium at a position
 * @st: the store
 * @pos: byte position on the medium
 * @len: bytes to look at from @pos
 * @run: set to the length from @pos (at most @len, at least one byte) of
 *	 the run in the same state; a long mapped run may be reported in
 *	 pieces
 *
 * The state is tracked per page: a byte is mapped when its page holds
 * memory.
 *
 * Context: any context; does not sleep.
 * Return: true if @pos is backed by memory, false if it is a hole.
 */
bool dmahba_store_mapped(struct dmahba_store *st, u64 pos, u64 len,
			 u64 *run)
{
	unsigned long idx = pos >> PAGE_SHIFT;
	unsigned long last, next;
	bool mapped;
	u64 end;

	if (!len || pos >= st->size) {
		*run = len ? len : 1;
		return false;
	}
	len = min(len, st->size - pos);
	last = (pos + len - 1) >> PAGE_SHIFT;

	next = idx;
	mapped = xa_find(&st->pages, &next, last, XA_PRESENT) && next == idx;
	if (!mapped) {
		/* a hole runs to the next present page or the end */
		next = idx;
		if (xa_find(&st->pages, &next, last, XA_PRESENT))
			end = (u64)next << PAGE_SHIFT;
		else
			end = pos + len;
	} else {
		/* a mapped run: walk present pages while they are adjacent */
		XA_STATE(xas, &st->pages, idx);
		unsigned long limit = min(last, idx + DMAHBA_STORE_RUN_SCAN - 1);
		struct page *page;

		next = idx;
		rcu_read_lock();
		xas_for_each(&xas, page, limit) {
			if (xas_retry(&xas, page))
				continue;
			if (xas.xa_index != next)
				break;
			next++;
		}
		rcu_read_unlock();
		end = (u64)max(next, idx + 1) << PAGE_SHIFT;
	}
	*run = min(end, pos + len) - pos;
	return mapped;
}

/**
 * dmahba_store_pages() - pages of memory the medium holds now
 * @st: the store
 *
 * Context: any context.
 * Return: the number of allocated pages.
 */
u64 dmahba_store_pages(const struct dmahba_store *st)
{
	return atomic64_read(&st->nr_pages);
}
