/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmahba_port_host.h - the port layer as the host's creator sees it
 * (dmahba_main.c): claim the DMA channels for a SCSI host, the handlers its
 * host template points at, and the port's debugfs files. A miniport sees
 * dmahba_port.h only; this is not part of its contract.
 *
 * The host's private data (shost_priv()) begins with a pointer to its port.
 */
#ifndef DMAHBA_PORT_HOST_H
#define DMAHBA_PORT_HOST_H

#include <linux/types.h>

#include "dmahba_port.h"

struct dentry;
struct device;
struct scsi_cmnd;
struct seq_file;
struct Scsi_Host;
struct dmahba_port;

struct dmahba_port *dmahba_port_create(struct Scsi_Host *shost,
				       const struct dmahba_port_miniport *mp,
				       const char *channel, const char *driver,
				       unsigned int nr_queues);
void dmahba_port_destroy(struct dmahba_port *port);
struct device *dmahba_port_device(struct dmahba_port *port);
void dmahba_port_constraints(struct dmahba_port *port, u32 *max_seg, u32 *align);
unsigned int dmahba_port_nr_queues(struct dmahba_port *port);
void *dmahba_port_hw(struct dmahba_port *port, unsigned int i);
const char *dmahba_port_chan_name(struct dmahba_port *port, unsigned int i);
size_t dmahba_port_cmd_size(const struct dmahba_port_miniport *mp);
void dmahba_port_debugfs_init(struct dmahba_port *port, struct dentry *dir);
void dmahba_port_stats_show(struct dmahba_port *port, struct seq_file *m);
int dmahba_port_set_poll_queues(struct dmahba_port *port, unsigned int n);

/* the host template's handlers */
int dmahba_port_queuecommand(struct Scsi_Host *shost, struct scsi_cmnd *scmd);
int dmahba_port_eh_abort(struct scsi_cmnd *scmd);
int dmahba_port_eh_reset(struct scsi_cmnd *scmd, enum dmahba_port_eh_level level);
void dmahba_port_map_queues(struct Scsi_Host *shost);
int dmahba_port_mq_poll(struct Scsi_Host *shost, unsigned int queue_num);

#endif /* DMAHBA_PORT_HOST_H */
