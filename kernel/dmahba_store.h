/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_store.h - the thin RAM medium behind each logical unit.
 *
 * The medium is a sparse array of pages allocated on first write. Pages
 * handed to the store are zeroed; unwritten and unmapped ranges read as
 * zeros through a shared zero page, so they cost no memory.
 *
 * The store never moves SCSI data itself: it hands out the DMA addresses
 * of its pages (the HBA side of a transfer) and the port layer moves the
 * data through dmaengine descriptors. Each mapped page is pinned with a
 * page reference until it is unmapped, so UNMAP running concurrently with
 * a transfer can never free memory a DMA descriptor still points at.
 */
#ifndef DMAHBA_STORE_H
#define DMAHBA_STORE_H

#include <linux/dma-direction.h>
#include <linux/sizes.h>
#include <linux/types.h>

struct device;
struct page;
struct dmahba_seg;	/* dmahba_port.h: the HBA side of a window */
struct dmahba_store;

/*
 * dmahba_store_compare() runs in atomic context: one call compares at most
 * this much (callers cut longer comparisons in pieces).
 */
#define DMAHBA_STORE_COMPARE_MAX	SZ_16K

/**
 * struct dmahba_store_usage - the memory budget of all stores, and its use
 * @used_pages: pages the stores hold (and are allocating)
 * @budget_pages: pages they may hold together
 * @nospc: writes refused because the budget could not hold their pages
 * @nomem: page allocations that failed with memory left in the budget
 */
struct dmahba_store_usage {
	u64 used_pages;
	u64 budget_pages;
	u64 nospc;
	u64 nomem;
};

void dmahba_store_set_budget(u64 pages);
void dmahba_store_get_usage(struct dmahba_store_usage *u);

struct dmahba_store *dmahba_store_create(struct device *dma_dev, u64 size);
void dmahba_store_destroy(struct dmahba_store *st);

int dmahba_store_map(struct dmahba_store *st, u64 pos, u32 len,
		     enum dma_data_direction dir, struct dmahba_seg *seg,
		     unsigned int max_segs);
void dmahba_store_unmap(struct dmahba_store *st, struct dmahba_seg *seg,
			unsigned int nsegs, enum dma_data_direction dir);

int dmahba_store_alloc(struct dmahba_store *st, u64 pos, u64 len);
int dmahba_store_zero(struct dmahba_store *st, u64 pos, u64 len);
s64 dmahba_store_compare(struct dmahba_store *st, u64 pos, const void *buf,
			 u32 len);
bool dmahba_store_mapped(struct dmahba_store *st, u64 pos, u64 len,
			 u64 *run);
u64 dmahba_store_pages(const struct dmahba_store *st);

#endif /* DMAHBA_STORE_H */
