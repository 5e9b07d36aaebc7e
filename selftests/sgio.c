// SPDX-License-Identifier: GPL-2.0
/*
 * sgio.c - the SG_IO helper of the C tests (see sgio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sgio.h"

/*
 * Open @dev ("sgN" or a path) read-write. Without a /dev node (no
 * devtmpfs), one is made from sysfs in /tmp, opened and removed again.
 * Returns the file descriptor, or -errno.
 */
int sgio_open(const char *dev)
{
	const char *name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	char path[PATH_MAX], val[32];
	unsigned int maj, min;
	int fd, err;
	FILE *f;

	if (strchr(dev, '/'))
		snprintf(path, sizeof(path), "%s", dev);
	else
		snprintf(path, sizeof(path), "/dev/%s", dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	err = errno;
	snprintf(path, sizeof(path), "/sys/class/scsi_generic/%s/dev", name);
	f = fopen(path, "r");
	if (!f)
		return -err;
	if (!fgets(val, sizeof(val), f) || sscanf(val, "%u:%u", &maj, &min) != 2) {
		fclose(f);
		return -err;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/tmp/sgio-%d-%s", (int)getpid(), name);
	unlink(path);
	if (mknod(path, S_IFCHR | 0600, makedev(maj, min)))
		return -errno;
	fd = open(path, O_RDWR | O_CLOEXEC);
	err = errno;
	unlink(path);
	return fd >= 0 ? fd : -err;
}

/*
 * Send @cdb to @fd with a data phase of @len bytes at @buf in direction
 * @dir (SG_DXFER_*; no data phase if @len is 0 or @dir SG_DXFER_NONE),
 * @timeout_ms (0: SGIO_TIMEOUT_MS) and sg @flags (SG_FLAG_DIRECT_IO...).
 * Fills @r; returns r->ret (0, or -errno of the ioctl).
 */
int sgio_cmd(int fd, const uint8_t *cdb, unsigned int cdb_len, int dir,
	     void *buf, unsigned int len, unsigned int timeout_ms,
	     unsigned int flags, struct sgio_result *r)
{
	struct sg_io_hdr h;

	if (!len || dir == SG_DXFER_NONE) {
		dir = SG_DXFER_NONE;
		len = 0;
		buf = NULL;
	}
	memset(r, 0, sizeof(*r));
	memset(&h, 0, sizeof(h));
	h.interface_id = 'S';
	h.cmd_len = cdb_len;
	h.cmdp = (unsigned char *)cdb;
	h.dxfer_direction = dir;
	h.dxferp = buf;
	h.dxfer_len = len;
	h.sbp = r->sense;
	h.mx_sb_len = sizeof(r->sense);
	h.timeout = timeout_ms ? timeout_ms : SGIO_TIMEOUT_MS;
	h.flags = flags;
	r->ret = ioctl(fd, SG_IO, &h) < 0 ? -errno : 0;
	r->status = h.status;
	r->host_status = h.host_status;
	r->driver_status = h.driver_status;
	r->resid = h.resid;
	r->sb_len = h.sb_len_wr;
	r->direct = (h.info & SG_INFO_DIRECT_IO_MASK) == SG_INFO_DIRECT_IO;
	return r->ret;
}

/*
 * The first descriptor of @type in descriptor-format sense data @s of
 * @sb_len bytes, whole inside both the additional length and the bytes
 * returned; or NULL.
 */
const uint8_t *sgio_sense_desc(const uint8_t *s, int sb_len, int type)
{
	int len, off = 8;

	if (sb_len < 8)
		return NULL;
	len = 8 + s[7];
	if (len > sb_len)
		len = sb_len;
	while (off + 2 <= len && off + 2 + s[off + 1] <= len) {
		if (s[off] == type)
			return s + off;
		off += 2 + s[off + 1];
	}
	return NULL;
}

/*
 * Parse sense data @s of @sb_len bytes, fixed or descriptor format, into
 * @ss. Fields the data does not hold (or holds past what was returned or
 * past its additional length) read as not valid, or 0.
 */
void sgio_sense_parse(const uint8_t *s, int sb_len, struct sgio_sense *ss)
{
	unsigned int rc;
	const uint8_t *d;
	int len;

	memset(ss, 0, sizeof(*ss));
	if (sb_len < 8)
		return;
	rc = s[0] & 0x7f;
	len = 8 + s[7];
	if (len > sb_len)
		len = sb_len;
	if (rc == 0x70 || rc == 0x71) {
		ss->valid = true;
		ss->deferred = rc == 0x71;
		ss->key = s[2] & 0x0f;
		if (len >= 14) {
			ss->asc = s[12];
			ss->ascq = s[13];
		}
		if (s[0] & 0x80) {
			ss->info_valid = true;
			ss->info = (uint64_t)s[3] << 24 | s[4] << 16 |
				   s[5] << 8 | s[6];
		}
		if (len >= 18 && (s[15] & 0x80)) {
			ss->sks_valid = true;
			memcpy(ss->sks, s + 15, 3);
		}
	} else if (rc == 0x72 || rc == 0x73) {
		ss->valid = true;
		ss->desc = true;
		ss->deferred = rc == 0x73;
		ss->key = s[1] & 0x0f;
		ss->asc = s[2];
		ss->ascq = s[3];
		d = sgio_sense_desc(s, sb_len, 0x00);	/* information */
		if (d && d[1] >= 0x0a && (d[2] & 0x80)) {
			int i;

			ss->info_valid = true;
			for (i = 0; i < 8; i++)
				ss->info = ss->info << 8 | d[4 + i];
		}
		d = sgio_sense_desc(s, sb_len, 0x02);	/* sense key specific */
		if (d && d[1] >= 0x06 && (d[4] & 0x80)) {
			ss->sks_valid = true;
			memcpy(ss->sks, d + 4, 3);
		}
	}
}
