/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba.h - types shared by dmahba's layers: the host (dmahba_main.c) and
 * the mock HBA, its miniport (dmahba_hba.c).
 */
#ifndef DMAHBA_H
#define DMAHBA_H

#include <linux/types.h>

#include "dmahba_port.h"

struct dentry;
struct platform_device;
struct Scsi_Host;
struct dmahba_lu;

/**
 * struct dmahba_host - one SCSI host: the mock HBA and its disks
 * @port: the port layer serving it (first: the port finds itself here)
 * @shost: the SCSI host
 * @pdev: the platform device it was probed for
 * @lus: its logical units, indexed by LUN
 * @nr_luns: number of logical units
 * @max_window: largest IoMapTransfer window, in bytes
 * @max_segs: HBA-side segments a window may need
 * @debugfs: its directory in debugfs
 */
struct dmahba_host {
	struct dmahba_port *port;
	struct Scsi_Host *shost;
	struct platform_device *pdev;
	struct dmahba_lu **lus;
	unsigned int nr_luns;
	u32 max_window;
	unsigned int max_segs;
	struct dentry *debugfs;
};

extern const struct dmahba_port_miniport dmahba_hba_miniport;

size_t dmahba_hba_req_size(unsigned int max_segs);
int dmahba_hba_init(void *hw, struct dmahba_host *host);
void dmahba_hba_get_stats(void *hw, u64 *retries, u64 *failed);

#endif /* DMAHBA_H */
