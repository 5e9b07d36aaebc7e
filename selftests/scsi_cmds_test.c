// SPDX-License-Identifier: GPL-2.0
/*
 * scsi_cmds_test.c - the mock disk answers SPC/SBC commands as a real disk
 * does: each command's data and sense bytes, checked through SG_IO on the
 * dmahba disk's /dev/sgN.
 *
 * The disk is found through sysfs (the first host whose proc_name is
 * "dmahba", its LUN 0). The program loads nothing: scsi_cmds_test.sh loads
 * softdma and dmahba, runs it and unloads them; run alone without a dmahba
 * host, every test is skipped with the reason. DMAHBA_SCSI_ONLY, if set, is
 * a space-separated list of the tests to run (the others are skipped).
 *
 * Buffers are handed to the disk by direct I/O (SG_FLAG_DIRECT_IO, with
 * sg's allow_dio parameter set during each test), so bytes the disk does not
 * transfer stay as they were: sg's indirect path would copy its whole
 * bounce buffer back and hide what the disk did.
 *
 * Every test leaves the disk as it found it: started, write cache enabled,
 * fixed-format sense data.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <scsi/sg.h>

#include "kselftest_harness.h"
#include "sgio.h"



#define CANARY			0xa5
#define ALIGNED			__attribute__((aligned(4096)))
#define SG_ALLOW_DIO		"/sys/module/sg/parameters/allow_dio"

/* ------------------------------------------------------------ byte order */

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, v);
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ------------------------------------------------------ finding the disk */

static int read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_str(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(val, f) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/* The number of the first SCSI host with proc_name "dmahba", or -1. */
static int dmahba_host(void)
{
	char path[PATH_MAX], name[64];
	struct dirent *de;
	int host = -1;
	DIR *d;

	d = opendir("/sys/class/scsi_host");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "host", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/class/scsi_host/%s/proc_name",
			 de->d_name);
		if (read_str(path, name, sizeof(name)) || strcmp(name, "dmahba"))
			continue;
		if (host < 0 || atoi(de->d_name + 4) < host)
			host = atoi(de->d_name + 4);
	}
	closedir(d);
	return host;
}

/* Name (sgN) of the generic device of host:0:0:lun, 0 if found. */
static int dmahba_sg(int host, int lun, char *sg, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path),
		 "/sys/class/scsi_host/host%d/device/target%d:0:0/%d:0:0:%d/scsi_generic",
		 host, host, host, lun);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "sg", 2)) {
			snprintf(sg, len, "%s", de->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -1;
}

/* Number of logical units (H:0:0:L entries) sysfs shows for the host */
static int dmahba_nr_luns(int host)
{
	char path[PATH_MAX], prefix[32];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path),
		 "/sys/class/scsi_host/host%d/device/target%d:0:0", host, host);
	snprintf(prefix, sizeof(prefix), "%d:0:0:", host);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

/* ----------------------------------------------------------------- SG_IO */

/* SG_IO with direct I/O (honoured for aligned buffers) and 60 s */
static void sgio(int fd, const uint8_t *cdb, int cdb_len, int dir, void *buf,
		 unsigned int len, struct sgio_result *r)
{
	sgio_cmd(fd, cdb, cdb_len, dir, buf, len, 0, SG_FLAG_DIRECT_IO, r);
}

/* Index of the first byte of b[from..to) that is not @v, or -1 */
static long first_not(const uint8_t *b, size_t from, size_t to, uint8_t v)
{
	size_t i;

	for (i = from; i < to; i++)
		if (b[i] != v)
			return i;
	return -1;
}

/* The disk moved nothing into b[from..to): the canary is intact */
#define ASSERT_CANARY(r, b, from, to) do { \
	ASSERT_TRUE((r).direct) TH_LOG("the buffer was not mapped directly"); \
	ASSERT_EQ(-1, first_not((b), (from), (to), CANARY)); \
} while (0)

/* The INFORMATION field, or -1 if it is not valid */
static int64_t sense_info(const struct sgio_result *r)
{
	struct sgio_sense ss = sgio_sense(r);

	return ss.info_valid ? (int64_t)ss.info : -1;
}

#define ASSERT_GOOD(r) do { \
	ASSERT_EQ(0, (r).ret); \
	ASSERT_EQ(0, (r).host_status); \
	if ((r).status != SAM_GOOD) \
		TH_LOG("status %#x sense %02x %02x %02x %02x .. %02x %02x", \
		       (r).status, (r).sense[0], (r).sense[1], (r).sense[2], \
		       (r).sense[3], (r).sense[12], (r).sense[13]); \
	ASSERT_EQ(SAM_GOOD, (r).status); \
} while (0)

#define ASSERT_SENSE(r, k, a, q) do { \
	struct sgio_sense _ss = sgio_sense(&(r)); \
	int _k = _ss.key, _a = _ss.asc, _q = _ss.ascq; \
	ASSERT_EQ(0, (r).ret); \
	if ((r).host_status || (r).status != SAM_CHECK_CONDITION) \
		TH_LOG("host_status %#x status %#x, expected CHECK CONDITION", \
		       (r).host_status, (r).status); \
	ASSERT_EQ(0, (r).host_status); \
	ASSERT_EQ(SAM_CHECK_CONDITION, (r).status); \
	ASSERT_GE((r).sb_len, 8); \
	ASSERT_TRUE(_ss.valid); \
	if (_k != (k) || _a != (a) || _q != (q)) \
		TH_LOG("sense %x/%02x/%02x, expected %x/%02x/%02x", \
		       _k, _a, _q, (k), (a), (q)); \
	ASSERT_EQ((k), _k); \
	ASSERT_EQ((a), _a); \
	ASSERT_EQ((q), _q); \
} while (0)

/* ILLEGAL REQUEST, INVALID FIELD IN CDB (cd) or PARAMETER LIST, pointer */
#define ASSERT_FIELD(r, cd, byte, bit) do { \
	struct sgio_sense _fs; \
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, (cd) ? 0x24 : 0x26, 0); \
	_fs = sgio_sense(&(r)); \
	ASSERT_TRUE(_fs.sks_valid); \
	ASSERT_EQ(0x80 | ((cd) ? 0x40 : 0) | 0x08 | (bit), _fs.sks[0]); \
	ASSERT_EQ((byte), get_be16(_fs.sks + 1)); \
} while (0)

/* ------------------------------------------------------------ the fixture */

FIXTURE(disk) {
	int fd;
	int host;
	char sg[NAME_MAX + 1];
	uint32_t bs;
	uint64_t nblocks;
	uint32_t max_blocks;	/* largest transfer sg and the disk accept */
	uint32_t page_blocks;	/* blocks per page (provisioning granularity) */
	char allow_dio[8];	/* sg's allow_dio before the test */
	char why[1000];
};

static void cdb_rw(uint8_t *cdb, int size, bool write, uint64_t lba,
		   uint32_t n)
{
	memset(cdb, 0, 16);
	switch (size) {
	case 6:
		cdb[0] = write ? 0x0a : 0x08;
		cdb[1] = (lba >> 16) & 0x1f;
		cdb[2] = lba >> 8;
		cdb[3] = lba;
		cdb[4] = n == 256 ? 0 : n;
		break;
	case 10:
		cdb[0] = write ? 0x2a : 0x28;
		put_be32(cdb + 2, lba);
		put_be16(cdb + 7, n);
		break;
	case 12:
		cdb[0] = write ? 0xaa : 0xa8;
		put_be32(cdb + 2, lba);
		put_be32(cdb + 6, n);
		break;
	default:
		cdb[0] = write ? 0x8a : 0x88;
		put_be64(cdb + 2, lba);
		put_be32(cdb + 10, n);
		break;
	}
}

static void disk_rw(int fd, int size, bool write, uint64_t lba, uint32_t n,
		    void *buf, uint32_t bs, struct sgio_result *r)
{
	uint8_t cdb[16];

	cdb_rw(cdb, size, write, lba, n);
	sgio(fd, cdb, size, write ? SG_DXFER_TO_DEV : SG_DXFER_FROM_DEV, buf,
	     n * bs, r);
}

/* A pattern naming the block and the byte, so misplaced data shows */
static void fill(uint8_t *buf, uint64_t lba, uint32_t n, uint32_t bs,
		 uint32_t seed)
{
	uint32_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < bs; j += 4)
			put_be32(buf + (size_t)i * bs + j,
				 (uint32_t)((lba + i) * 2654435761u) ^ j ^ seed);
}

/* page-aligned, so that sg maps it for direct I/O */
static void *xmalloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, 4096, len ? len : 1)) {
		perror("posix_memalign");
		exit(1);
	}
	return p;
}

/* Is @name a word of the space-separated @list? */
static bool name_in_list(const char *name, const char *list)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

FIXTURE_SETUP(disk)
{
	uint8_t cdb[16] = {}, b[64];
	char path[PATH_MAX], val[32];
	const char *only = getenv("DMAHBA_SCSI_ONLY");
	struct dirent *de;
	struct sgio_result r;
	DIR *d;
	int i;

	self->fd = -1;
	if (only && *only && !name_in_list(_metadata->name, only)) {
		snprintf(self->why, sizeof(self->why),
			 "not in DMAHBA_SCSI_ONLY");
		return;		/* REQUIRE_DISK() skips with the reason */
	}
	self->host = dmahba_host();
	if (self->host < 0) {
		snprintf(self->why, sizeof(self->why),
			 "no dmahba host (scsi_cmds_test.sh loads it)");
		return;		/* REQUIRE_DISK() skips with the reason */
	}
	if (dmahba_sg(self->host, 0, self->sg, sizeof(self->sg))) {
		snprintf(self->why, sizeof(self->why),
			 "host%d has no LUN 0 with an sg device (sg not loaded?)",
			 self->host);
		return;		/* REQUIRE_DISK() skips with the reason */
	}
	self->fd = sgio_open(self->sg);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->sg,
				      strerror(-self->fd));

	/* direct I/O, so that canaries show what the disk transferred */
	if (read_str(SG_ALLOW_DIO, self->allow_dio, sizeof(self->allow_dio)) ||
	    write_str(SG_ALLOW_DIO, "1")) {
		snprintf(self->why, sizeof(self->why), "cannot set %s: %s",
			 SG_ALLOW_DIO, strerror(errno));
		self->allow_dio[0] = 0;
		close(self->fd);
		self->fd = -1;
		return;
	}

	/* absorb a unit attention or a stop an earlier failure left behind */
	for (i = 0; i < 3; i++) {
		cdb[0] = 0x00;
		sgio(self->fd, cdb, 6, SG_DXFER_NONE, NULL, 0, &r);
		if (r.ret == 0 && r.status == SAM_GOOD)
			break;
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = 0x1b;
		cdb[4] = 0x01;	/* START */
		sgio(self->fd, cdb, 6, SG_DXFER_NONE, NULL, 0, &r);
		memset(cdb, 0, sizeof(cdb));
	}

	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	put_be32(cdb + 10, 32);
	sgio(self->fd, cdb, 16, SG_DXFER_FROM_DEV, b, 32, &r);
	ASSERT_GOOD(r);
	self->nblocks = get_be64(b) + 1;
	self->bs = get_be32(b + 8);
	ASSERT_TRUE(self->bs == 512 || self->bs == 4096);
	self->page_blocks = sysconf(_SC_PAGESIZE) / self->bs;
	if (!self->page_blocks)
		self->page_blocks = 1;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x12;
	cdb[1] = 0x01;
	cdb[2] = 0xb0;
	put_be16(cdb + 3, 64);
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, 64, &r);
	ASSERT_GOOD(r);
	self->max_blocks = get_be32(b + 8) ? get_be32(b + 8) : 256;
	/* sg maps at most the queue's max_hw_sectors */
	snprintf(path, sizeof(path),
		 "/sys/class/scsi_generic/%s/device/block", self->sg);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path),
			 "/sys/block/%s/queue/max_hw_sectors_kb", de->d_name);
		if (!read_str(path, val, sizeof(val)) &&
		    (uint64_t)atoi(val) * 1024 / self->bs < self->max_blocks)
			self->max_blocks = atoi(val) * 1024 / self->bs;
	}
	if (d)
		closedir(d);
	ASSERT_GE(self->nblocks, 4096u);
}

FIXTURE_TEARDOWN(disk)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->allow_dio[0])
		write_str(SG_ALLOW_DIO, self->allow_dio);
}

/* 6.1's harness runs the test body after a SKIP in the setup */
#define REQUIRE_DISK() do { \
	if (self->fd < 0) \
		SKIP(return, "%s", self->why); \
} while (0)

/* --------------------------------------------------------------- INQUIRY */

TEST_F(disk, inquiry_standard)
{
	uint8_t cdb[6] = { 0x12 }, b[512] ALIGNED;
	struct sgio_result r;

	REQUIRE_DISK();
	/* the whole response: 96 bytes, the rest of the buffer untouched */
	memset(b, CANARY, sizeof(b));
	put_be16(cdb + 3, sizeof(b));
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0x00, b[0]);			/* direct-access block device */
	ASSERT_EQ(0x00, b[1]);			/* not removable */
	ASSERT_TRUE(b[2] == 0x06 || b[2] == 0x07);	/* SPC-4 or SPC-5 */
	ASSERT_EQ(0x02, b[3] & 0x0f);		/* response data format */
	ASSERT_EQ(0x02, b[7] & 0x02);		/* CMDQUE */
	ASSERT_EQ(0, memcmp(b + 8, "Linux   ", 8));
	ASSERT_EQ(0, memcmp(b + 16, "dmahba  ", 8));
	ASSERT_GE(b[4], 31);
	ASSERT_EQ(sizeof(b) - (b[4] + 5), (unsigned int)r.resid);
	ASSERT_CANARY(r, b, b[4] + 5, sizeof(b));

	/* allocation length 36: 36 bytes and no more */
	memset(b, CANARY, sizeof(b));
	put_be16(cdb + 3, 36);
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(sizeof(b) - 36, (unsigned int)r.resid);
	ASSERT_EQ(0, memcmp(b + 8, "Linux   ", 8));
	ASSERT_CANARY(r, b, 36, sizeof(b));

	/* a page code without EVPD is an invalid field */
	cdb[2] = 0x80;
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_FIELD(r, 1, 2, 7);
}

/* Fetch VPD page @page into @b (512 bytes, aligned); return its length */
static int vpd(struct __test_metadata *_metadata, int fd, uint8_t page,
	       uint8_t *b)
{
	uint8_t cdb[6] = { 0x12, 0x01, page };
	struct sgio_result r;
	int len;

	memset(b, CANARY, 512);
	put_be16(cdb + 3, 512);
	sgio(fd, cdb, 6, SG_DXFER_FROM_DEV, b, 512, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0x00, b[0]);
	ASSERT_EQ(page, b[1]);
	len = 4 + get_be16(b + 2);
	ASSERT_LE(len, 512);
	ASSERT_EQ(512 - len, r.resid);
	ASSERT_CANARY(r, b, len, 512);
	return len;
}

TEST_F(disk, inquiry_vpd)
{
	static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
	uint8_t b[512] ALIGNED, cdb[6] = { 0x12, 0x01, 0x89 };
	bool t10 = false, naa = false;
	int len, off;
	struct sgio_result r;

	REQUIRE_DISK();
	len = vpd(_metadata, self->fd, 0x00, b);
	ASSERT_EQ(4 + (int)sizeof(pages), len);
	ASSERT_EQ(0, memcmp(b + 4, pages, sizeof(pages)));

	len = vpd(_metadata, self->fd, 0x80, b);
	ASSERT_GT(len, 4);
	b[len] = 0;
	ASSERT_EQ(len - 4, (int)strspn((char *)b + 4,
		  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_.:"));

	len = vpd(_metadata, self->fd, 0x83, b);
	for (off = 4; off + 4 <= len; off += 4 + b[off + 3]) {
		ASSERT_LE(off + 4 + b[off + 3], len);
		if ((b[off + 1] & 0x0f) == 0x01 && (b[off] & 0x0f) == 0x02) {
			ASSERT_EQ(0, memcmp(b + off + 4, "Linux   ", 8));
			t10 = true;
		}
		if ((b[off + 1] & 0x0f) == 0x03 && (b[off] & 0x0f) == 0x01) {
			ASSERT_TRUE(b[off + 3] == 8 || b[off + 3] == 16);
			ASSERT_NE(0, b[off + 4] >> 4);	/* NAA field */
			naa = true;
		}
	}
	ASSERT_EQ(len, off);
	ASSERT_TRUE(t10);
	ASSERT_TRUE(naa);

	len = vpd(_metadata, self->fd, 0xb0, b);
	ASSERT_EQ(64, len);
	ASSERT_EQ(0x01, b[4] & 0x01);		/* WSNZ */
	ASSERT_GT(b[5], 0);			/* COMPARE AND WRITE length */
	ASSERT_GT(get_be32(b + 8), 0u);		/* maximum transfer length */
	ASSERT_GT(get_be32(b + 20), 0u);		/* maximum unmap LBA count */
	ASSERT_GT(get_be32(b + 24), 0u);		/* ... block descriptors */
	ASSERT_GT(get_be64(b + 36), 0u);		/* maximum write same */

	len = vpd(_metadata, self->fd, 0xb1, b);
	ASSERT_EQ(64, len);
	ASSERT_EQ(1, get_be16(b + 4));		/* non-rotating */

	len = vpd(_metadata, self->fd, 0xb2, b);
	ASSERT_GE(len, 8);
	ASSERT_EQ(0xe0, b[5] & 0xe0);		/* LBPU, LBPWS, LBPWS10 */
	ASSERT_NE(0, b[5] & 0x1c);		/* LBPRZ */
	ASSERT_EQ(0x02, b[6] & 0x07);		/* thin provisioned */

	/* VPD 89h (ATA information) is not there */
	put_be16(cdb + 3, 512);
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, 512, &r);
	ASSERT_FIELD(r, 1, 2, 7);
}

/* --------------------------------------------------------- READ CAPACITY */

TEST_F(disk, read_capacity)
{
	uint8_t cdb[16] = { 0x25 }, b[512] ALIGNED;
	char path[PATH_MAX], val[32];
	struct dirent *de;
	struct sgio_result r;
	DIR *d;

	REQUIRE_DISK();
	memset(b, CANARY, sizeof(b));
	sgio(self->fd, cdb, 10, SG_DXFER_FROM_DEV, b, 8, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0, r.resid);
	ASSERT_EQ(self->nblocks - 1 > 0xffffffffull ? 0xffffffffu :
		  (uint32_t)(self->nblocks - 1), get_be32(b));
	ASSERT_EQ(self->bs, get_be32(b + 4));
	ASSERT_EQ(CANARY, b[8]);

	/* READ CAPACITY(16): 32 bytes of data, LBPME and LBPRZ */
	memset(cdb, 0, sizeof(cdb));
	memset(b, CANARY, sizeof(b));
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	put_be32(cdb + 10, sizeof(b));
	sgio(self->fd, cdb, 16, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	ASSERT_EQ((int)sizeof(b) - 32, r.resid);
	ASSERT_EQ(self->nblocks - 1, get_be64(b));
	ASSERT_EQ(self->bs, get_be32(b + 8));
	ASSERT_EQ(0, b[12] & 0x01);		/* no protection */
	ASSERT_EQ(0xc0, b[14] & 0xc0);		/* LBPME, LBPRZ */
	ASSERT_CANARY(r, b, 32, sizeof(b));

	/* the block layer's idea of the size agrees */
	snprintf(path, sizeof(path),
		 "/sys/class/scsi_generic/%s/device/block", self->sg);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/size", de->d_name);
		ASSERT_EQ(0, read_str(path, val, sizeof(val)));
		ASSERT_EQ(self->nblocks * self->bs / 512, strtoull(val, NULL, 10));
	}
	if (d)
		closedir(d);

	/* an LBA without PMI is an invalid field */
	put_be64(cdb + 2, 1);
	sgio(self->fd, cdb, 16, SG_DXFER_FROM_DEV, b, 32, &r);
	ASSERT_FIELD(r, 1, 2, 7);
}

/* ----------------------------------------------------------- READ, WRITE */

TEST_F_TIMEOUT(disk, read_write_patterns, 120)
{
	static const int sizes[] = { 6, 10, 12, 16 };
	uint32_t n, seed = 0x5eed0000;
	uint8_t *wbuf, *rbuf;
	uint64_t lbas[6], lba;
	unsigned int s, l;
	struct sgio_result r;

	REQUIRE_DISK();
	wbuf = xmalloc(256 * self->bs);
	rbuf = xmalloc(256 * self->bs);
	lbas[0] = 0;
	lbas[1] = 1;
	lbas[2] = 7;
	lbas[3] = self->nblocks / 2 + 3;
	lbas[4] = self->nblocks - 9;
	lbas[5] = self->nblocks - 1;

	for (s = 0; s < 4; s++) {
		for (l = 0; l < 6; l++) {
			lba = lbas[l];
			n = (l * 3 + s) % 8 + 1;
			if (lba + n > self->nblocks)
				n = self->nblocks - lba;
			if (sizes[s] == 6 && lba + n > 0x1fffff)
				continue;
			seed++;
			fill(wbuf, lba, n, self->bs, seed);
			disk_rw(self->fd, sizes[s], true, lba, n, wbuf,
				self->bs, &r);
			ASSERT_GOOD(r);
			ASSERT_EQ(0, r.resid);
			/* read back with each size */
			memset(rbuf, CANARY, n * self->bs);
			disk_rw(self->fd, sizes[(s + l) % 4 == 0 &&
				lba + n > 0x1fffff ? 1 : (s + l) % 4],
				false, lba, n, rbuf, self->bs, &r);
			ASSERT_GOOD(r);
			ASSERT_EQ(0, r.resid);
			ASSERT_EQ(0, memcmp(wbuf, rbuf, n * self->bs))
				TH_LOG("WRITE(%d) at %llu, %u blocks", sizes[s],
				       (unsigned long long)lba, n);
		}
	}

	/* READ(6) with transfer length 0 moves 256 blocks */
	if (self->max_blocks >= 256) {
		fill(wbuf, 4096, 256, self->bs, 0x600d);
		disk_rw(self->fd, 10, true, 4096, 256, wbuf, self->bs, &r);
		ASSERT_GOOD(r);
		memset(rbuf, CANARY, 256 * self->bs);
		disk_rw(self->fd, 6, false, 4096, 256, rbuf, self->bs, &r);
		ASSERT_GOOD(r);
		ASSERT_EQ(0, r.resid);
		ASSERT_EQ(0, memcmp(wbuf, rbuf, 256 * self->bs));
	}
	free(wbuf);
	free(rbuf);
}

TEST_F(disk, transfer_length_and_buffer)
{
	uint8_t cdb[16], *b;
	struct sgio_result r;

	REQUIRE_DISK();
	b = xmalloc(4 * self->bs);

	/* a buffer larger than the transfer: the rest is the residue */
	fill(b, 100, 1, self->bs, 1);
	disk_rw(self->fd, 10, true, 100, 1, b, self->bs, &r);
	ASSERT_GOOD(r);
	memset(b, CANARY, 4 * self->bs);
	cdb_rw(cdb, 10, false, 100, 1);
	sgio(self->fd, cdb, 10, SG_DXFER_FROM_DEV, b, 2 * self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ((int)self->bs, r.resid);
	ASSERT_CANARY(r, b, self->bs, 4 * self->bs);

	/* a buffer smaller than the transfer is refused, nothing moves */
	memset(b, CANARY, 4 * self->bs);
	cdb_rw(cdb, 10, false, 100, 2);
	sgio(self->fd, cdb, 10, SG_DXFER_FROM_DEV, b, self->bs, &r);
	ASSERT_FIELD(r, 1, 7, 7);
	ASSERT_CANARY(r, b, 0, 4 * self->bs);

	/* transfer length 0: nothing to do, GOOD */
	cdb_rw(cdb, 10, false, 100, 0);
	sgio(self->fd, cdb, 10, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
	free(b);
}

TEST_F(disk, lba_out_of_range)
{
	uint8_t cdb[16], b[4096 * 2] ALIGNED;
	struct sgio_result r;

	REQUIRE_DISK();
	cdb_rw(cdb, 10, false, self->nblocks, 1);
	sgio(self->fd, cdb, 10, SG_DXFER_FROM_DEV, b, self->bs, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);

	cdb_rw(cdb, 16, false, self->nblocks - 1, 2);
	sgio(self->fd, cdb, 16, SG_DXFER_FROM_DEV, b, 2 * self->bs, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);

	/* lba + length wraps around */
	cdb_rw(cdb, 16, true, UINT64_MAX, 1);
	sgio(self->fd, cdb, 16, SG_DXFER_TO_DEV, b, self->bs, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);

	/* 0 blocks: only past the block after the last one (SBC-4) */
	cdb_rw(cdb, 16, false, 0, 0);
	put_be64(cdb + 2, self->nblocks + 1);
	sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);

	put_be64(cdb + 2, self->nblocks);
	sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
}

TEST_F(disk, invalid_opcode_and_fields)
{
	uint8_t cdb[16] = {}, b[4096] ALIGNED;
	struct sgio_result r;

	REQUIRE_DISK();
	/* opcodes nobody implements, and ATA PASS-THROUGH */
	cdb[0] = 0xc5;
	sgio(self->fd, cdb, 10, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x20, 0);
	ASSERT_EQ(0x70, r.sense[0] & 0x7f);	/* fixed format */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x85;
	sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x20, 0);

	/* an unknown service action of a known opcode: the SA field */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x9e;
	cdb[1] = 0x1f;
	sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_FIELD(r, 1, 1, 4);

	/* RDPROTECT without protection information */
	cdb_rw(cdb, 10, false, 0, 1);
	cdb[1] = 0xe0;
	sgio(self->fd, cdb, 10, SG_DXFER_FROM_DEV, b, self->bs, &r);
	ASSERT_FIELD(r, 1, 1, 7);

	/* NACA in the control byte */
	cdb_rw(cdb, 16, false, 0, 1);
	cdb[15] = 0x04;
	sgio(self->fd, cdb, 16, SG_DXFER_FROM_DEV, b, self->bs, &r);
	ASSERT_FIELD(r, 1, 15, 2);
}

/* --------------------------------------------- REPORT SUPPORTED OPCODES */

/* usage data of one command (opcode, service action) into @u; its length */
static int rsoc_one(struct __test_metadata *_metadata, int fd, uint8_t op,
		    uint16_t sa, bool has_sa, uint8_t *u)
{
	uint8_t cdb[12] = { 0xa3, 0x0c }, b[512] ALIGNED;
	struct sgio_result r;
	int len;

	cdb[2] = has_sa ? 2 : 1;
	cdb[3] = op;
	put_be16(cdb + 4, sa);
	put_be32(cdb + 6, sizeof(b));
	memset(b, CANARY, sizeof(b));
	sgio(fd, cdb, 12, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0x03, b[1] & 0x07) TH_LOG("opcode %#x/%#x", op, sa);
	len = get_be16(b + 2);
	ASSERT_TRUE(len == 6 || len == 10 || len == 12 || len == 16);
	ASSERT_EQ((int)sizeof(b) - 4 - len, r.resid);
	ASSERT_CANARY(r, b, 4 + len, sizeof(b));
	ASSERT_EQ(op, b[4]);
	memcpy(u, b + 4, len);
	return len;
}

TEST_F(disk, report_supported_opcodes)
{
	uint8_t cdb[12] = { 0xa3, 0x0c }, *b, u[16];
	bool seen_r10 = false, seen_rc16 = false, seen_unmap = false;
	uint32_t len, off;
	struct sgio_result r;

	REQUIRE_DISK();
	b = xmalloc(8192);
	put_be32(cdb + 6, 8192);
	sgio(self->fd, cdb, 12, SG_DXFER_FROM_DEV, b, 8192, &r);
	ASSERT_GOOD(r);
	len = get_be32(b);
	ASSERT_EQ(0u, len % 8);
	ASSERT_EQ(8192 - 4 - len, (uint32_t)r.resid);
	for (off = 4; off < 4 + len; off += 8) {
		uint16_t clen = get_be16(b + off + 6);

		ASSERT_TRUE(clen == 6 || clen == 10 || clen == 12 ||
			    clen == 16);
		seen_r10 |= b[off] == 0x28;
		seen_unmap |= b[off] == 0x42;
		if (b[off] == 0x9e && get_be16(b + off + 2) == 0x10) {
			ASSERT_EQ(0x01, b[off + 5] & 0x01);	/* SERVACTV */
			seen_rc16 = true;
		}
	}
	ASSERT_TRUE(seen_r10 && seen_rc16 && seen_unmap);

	/* with RCTD: 20-byte descriptors carrying a timeouts descriptor */
	cdb[2] = 0x80;
	sgio(self->fd, cdb, 12, SG_DXFER_FROM_DEV, b, 8192, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0u, get_be32(b) % 20);
	ASSERT_EQ(0x02, b[4 + 5] & 0x02);		/* CTDP */
	ASSERT_EQ(0x0a, get_be16(b + 4 + 8));

	/* one command: WRITE SAME(16) uses UNMAP and NDOB */
	ASSERT_EQ(16, rsoc_one(_metadata, self->fd, 0x93, 0, false, u));
	ASSERT_EQ(0x09, u[1] & 0x09);

	/* reporting option 1 for an opcode with service actions */
	cdb[2] = 0x01;
	cdb[3] = 0x9e;
	sgio(self->fd, cdb, 12, SG_DXFER_FROM_DEV, b, 64, &r);
	ASSERT_FIELD(r, 1, 2, 2);
	/* an unsupported opcode is "not supported", not an error */
	cdb[3] = 0xc5;
	sgio(self->fd, cdb, 12, SG_DXFER_FROM_DEV, b, 64, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0x01, b[1] & 0x07);
	free(b);
}

/*
 * Every CDB bit a command's usage data leaves clear is refused with the
 * field pointer naming that bit: the usage data and the checks agree.
 */
TEST_F_TIMEOUT(disk, cdb_usage_data_enforced, 300)
{
	uint8_t cdb[12] = { 0xa3, 0x0c }, *b, u[16], c[16];
	struct sgio_sense ss;
	uint32_t len, off;
	int clen, i, bit;
	struct sgio_result r;

	REQUIRE_DISK();
	b = xmalloc(8192);
	put_be32(cdb + 6, 8192);
	sgio(self->fd, cdb, 12, SG_DXFER_FROM_DEV, b, 8192, &r);
	ASSERT_GOOD(r);
	len = get_be32(b);
	for (off = 4; off < 4 + len; off += 8) {
		bool has_sa = b[off + 5] & 0x01;
		uint16_t sa = get_be16(b + off + 2);

		clen = rsoc_one(_metadata, self->fd, b[off], sa, has_sa, u);
		for (i = 1; i < clen; i++) {
			for (bit = 0; bit < 8; bit++) {
				if (u[i] & (1 << bit))
					continue;
				memset(c, 0, sizeof(c));
				c[0] = b[off];
				if (has_sa)
					c[1] = sa;
				if (c[0] == 0x1b)	/* START STOP: start */
					c[4] = 0x01;
				c[i] |= 1 << bit;
				sgio(self->fd, c, clen, SG_DXFER_NONE, NULL, 0,
				     &r);
				ss = sgio_sense(&r);
				if (r.status != SAM_CHECK_CONDITION ||
				    !ss.sks_valid || ss.sks[0] != (0xc8 | bit) ||
				    get_be16(ss.sks + 1) != i)
					TH_LOG("opcode %#x byte %d bit %d",
					       c[0], i, bit);
				ASSERT_FIELD(r, 1, i, bit);
			}
		}
	}
	free(b);
}

/* ------------------------------------------------------------ REPORT LUNS */

TEST_F(disk, report_luns)
{
	uint8_t cdb[12] = { 0xa0 }, b[2048] ALIGNED;
	int n, i;
	struct sgio_result r;

	REQUIRE_DISK();
	memset(b, CANARY, sizeof(b));
	put_be32(cdb + 6, sizeof(b));
	sgio(self->fd, cdb, 12, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	n = get_be32(b) / 8;
	ASSERT_EQ(dmahba_nr_luns(self->host), n);
	ASSERT_EQ((int)sizeof(b) - 8 - 8 * n, r.resid);
	for (i = 0; i < n; i++) {
		/* peripheral addressing, LUN i */
		ASSERT_EQ(i, get_be16(b + 8 + 8 * i));
		ASSERT_EQ(0u, get_be32(b + 8 + 8 * i + 4) |
			  get_be16(b + 8 + 8 * i + 2));
	}
	ASSERT_CANARY(r, b, 8 + 8 * n, sizeof(b));

	/* an allocation length under 16 is an invalid field */
	put_be32(cdb + 6, 8);
	sgio(self->fd, cdb, 12, SG_DXFER_FROM_DEV, b, 512, &r);
	ASSERT_FIELD(r, 1, 6, 7);
}

/* ---------------------------------------------------------- unit attention */

TEST_F(disk, unit_attention_after_reset)
{
	uint8_t tur[6] = {}, inq[6] = { 0x12, 0, 0, 0, 36 }, b[512] ALIGNED;
	int val = SG_SCSI_RESET_DEVICE;
	struct sgio_result r;

	REQUIRE_DISK();
	ASSERT_EQ(0, ioctl(self->fd, SG_SCSI_RESET, &val))
		TH_LOG("SG_SCSI_RESET: %s", strerror(errno));
	/* INQUIRY is not stopped by it */
	sgio(self->fd, inq, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	/* the next command gets it, once */
	sgio(self->fd, tur, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_UNIT_ATTENTION, 0x29, 0x00);
	sgio(self->fd, tur, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
}

/* ----------------------------------------------------------- REQUEST SENSE */

TEST_F(disk, request_sense)
{
	uint8_t cdb[6] = { 0x03, 0, 0, 0, 252 }, b[512] ALIGNED;
	struct sgio_result r;

	REQUIRE_DISK();
	memset(b, CANARY, sizeof(b));
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0x70, b[0] & 0x7f);
	ASSERT_EQ(KEY_NO_SENSE, b[2] & 0x0f);
	ASSERT_EQ(0, b[12]);
	ASSERT_EQ(8 + b[7], (int)sizeof(b) - r.resid);
	ASSERT_CANARY(r, b, 8 + b[7], sizeof(b));

	cdb[1] = 0x01;				/* DESC */
	memset(b, CANARY, sizeof(b));
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0x72, b[0] & 0x7f);
	ASSERT_EQ(KEY_NO_SENSE, b[1] & 0x0f);
	ASSERT_EQ(8 + b[7], (int)sizeof(b) - r.resid);
	ASSERT_CANARY(r, b, 8 + b[7], sizeof(b));
}

/* -------------------------------------------------------------- START STOP */

TEST_F(disk, start_stop_unit)
{
	uint8_t ssu[6] = { 0x1b }, tur[6] = {}, rs[6] = { 0x03, 0, 0, 0, 18 };
	uint8_t b[4096] ALIGNED;
	struct sgio_result r;

	REQUIRE_DISK();
	sgio(self->fd, ssu, 6, SG_DXFER_NONE, NULL, 0, &r);	/* stop */
	ASSERT_GOOD(r);
	sgio(self->fd, tur, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_NOT_READY, 0x04, 0x02);
	disk_rw(self->fd, 10, false, 0, 1, b, self->bs, &r);
	ASSERT_SENSE(r, KEY_NOT_READY, 0x04, 0x02);
	sgio(self->fd, rs, 6, SG_DXFER_FROM_DEV, b, 18, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(KEY_NOT_READY, b[2] & 0x0f);
	ASSERT_EQ(0x04, b[12]);
	ASSERT_EQ(0x02, b[13]);

	ssu[4] = 0x01;						/* start */
	sgio(self->fd, ssu, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
	sgio(self->fd, tur, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);

	/* PREVENT ALLOW MEDIUM REMOVAL is accepted */
	memset(ssu, 0, sizeof(ssu));
	ssu[0] = 0x1e;
	ssu[4] = 0x01;
	sgio(self->fd, ssu, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
	ssu[4] = 0x00;
	sgio(self->fd, ssu, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
}

/* -------------------------------------------------- SYNCHRONIZE CACHE */

TEST_F(disk, synchronize_cache)
{
	uint8_t cdb[16] = { 0x35 };
	struct sgio_result r;

	REQUIRE_DISK();
	sgio(self->fd, cdb, 10, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x91;
	put_be64(cdb + 2, self->nblocks - 8);
	put_be32(cdb + 10, 8);
	sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
	put_be32(cdb + 10, 9);
	sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
}

/* ------------------------------------------------------------ mode pages */

/* MODE SENSE(10) of page @page, control @pc, with block descriptors */
static int mode_sense10(struct __test_metadata *_metadata, int fd,
			uint8_t pc, uint8_t page, uint8_t *b, int len,
			struct sgio_result *r)
{
	uint8_t cdb[10] = { 0x5a, 0, (uint8_t)(pc << 6 | page) };

	memset(b, CANARY, len);
	put_be16(cdb + 7, len);
	sgio(fd, cdb, 10, SG_DXFER_FROM_DEV, b, len, r);
	ASSERT_GOOD(*r);
	ASSERT_EQ(get_be16(b) + 2, len - r->resid);
	return get_be16(b) + 2;
}

/* MODE SELECT(10) of one page (without block descriptor) */
static void mode_select10(int fd, const uint8_t *page, int plen,
			  struct sgio_result *r)
{
	uint8_t cdb[10] = { 0x55, 0x10 }, b[64] = {};

	memcpy(b + 8, page, plen);
	put_be16(cdb + 7, 8 + plen);
	sgio(fd, cdb, 10, SG_DXFER_TO_DEV, b, 8 + plen, r);
}

TEST_F(disk, mode_sense_pages)
{
	uint8_t b[512] ALIGNED, cdb[6] = { 0x1a, 0, 0x3f, 0, 255 };
	uint8_t c10[10] = { 0x5a, 0x10, 0x0a };
	int len;
	struct sgio_result r;

	REQUIRE_DISK();
	/* all pages, 10-byte: header, 8-byte block descriptor, 08h, 0Ah */
	len = mode_sense10(_metadata, self->fd, 0, 0x3f, b, sizeof(b), &r);
	ASSERT_EQ(0x10, b[3] & 0x10);			/* DPOFUA */
	ASSERT_EQ(0, b[3] & 0x80);			/* not WP */
	ASSERT_EQ(8, get_be16(b + 6));
	ASSERT_EQ(self->bs, get_be32(b + 8 + 4) & 0xffffff);
	ASSERT_EQ(0x08, b[16] & 0x3f);
	ASSERT_EQ(0x12, b[17]);
	ASSERT_EQ(0x04, b[18] & 0x05);			/* WCE, not RCD */
	ASSERT_EQ(0x0a, b[36] & 0x3f);
	ASSERT_EQ(0x0a, b[37]);
	ASSERT_EQ(0, b[38] & 0x04);			/* D_SENSE off */
	ASSERT_EQ(48, len);
	ASSERT_CANARY(r, b, 48, sizeof(b));

	/* changeable values: WCE and RCD; D_SENSE */
	mode_sense10(_metadata, self->fd, 1, 0x3f, b, sizeof(b), &r);
	ASSERT_EQ(0x05, b[18]);
	ASSERT_EQ(0x04, b[38]);

	/* 6-byte, DBD, page 08h alone */
	cdb[1] = 0x08;
	cdb[2] = 0x08;
	memset(b, CANARY, sizeof(b));
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(4 + 20 - 1, b[0]);
	ASSERT_EQ(0, b[3]);				/* no descriptor */
	ASSERT_EQ(0x08, b[4]);
	ASSERT_EQ((int)sizeof(b) - 24, r.resid);
	ASSERT_CANARY(r, b, 24, sizeof(b));

	/* long LBA block descriptor */
	put_be16(c10 + 7, sizeof(b));
	sgio(self->fd, c10, 10, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0x01, b[4] & 0x01);			/* LONGLBA */
	ASSERT_EQ(16, get_be16(b + 6));
	ASSERT_EQ(self->nblocks, get_be64(b + 8));
	ASSERT_EQ(self->bs, get_be32(b + 8 + 12));
	memset(cdb, 0, sizeof(cdb));

	/* saved values are not supported; an unknown page is refused */
	cdb[0] = 0x1a;
	cdb[2] = 0xc8;
	cdb[4] = 255;
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x39, 0);
	cdb[2] = 0x1c;
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_FIELD(r, 1, 2, 5);
	cdb[2] = 0x08;
	cdb[3] = 0x01;
	sgio(self->fd, cdb, 6, SG_DXFER_FROM_DEV, b, sizeof(b), &r);
	ASSERT_FIELD(r, 1, 3, 7);
}

TEST_F(disk, mode_select_wce)
{
	uint8_t ms6[6] = { 0x15, 0x10, 0, 0, 4 + 20 }, l[24] = {};
	uint8_t b[512] ALIGNED, page[20];
	struct sgio_result r;

	REQUIRE_DISK();
	mode_sense10(_metadata, self->fd, 0, 0x08, b, sizeof(b), &r);
	memcpy(page, b + 8 + get_be16(b + 6), sizeof(page));
	ASSERT_EQ(0x08, page[0] & 0x3f);
	ASSERT_EQ(0x04, page[2] & 0x04);

	page[0] &= 0x3f;			/* PS is reserved in SELECT */
	page[2] &= ~0x04;			/* WCE off */
	mode_select10(self->fd, page, sizeof(page), &r);
	ASSERT_GOOD(r);
	mode_sense10(_metadata, self->fd, 0, 0x08, b, sizeof(b), &r);
	ASSERT_EQ(0, b[8 + get_be16(b + 6) + 2] & 0x04);

	/* MODE SELECT(6) puts it back */
	memcpy(l + 4, page, sizeof(page));
	l[4 + 2] |= 0x04;
	sgio(self->fd, ms6, 6, SG_DXFER_TO_DEV, l, sizeof(l), &r);
	ASSERT_GOOD(r);
	mode_sense10(_metadata, self->fd, 0, 0x08, b, sizeof(b), &r);
	ASSERT_EQ(0x04, b[8 + get_be16(b + 6) + 2] & 0x04);

	/* a bit that is not changeable: the field pointer names it */
	page[2] = 0x84;				/* IC */
	mode_select10(self->fd, page, sizeof(page), &r);
	ASSERT_FIELD(r, 0, 8 + 2, 7);
	/* a wrong page length */
	page[2] = 0x04;
	page[1] = 0x10;
	mode_select10(self->fd, page, sizeof(page), &r);
	ASSERT_FIELD(r, 0, 8 + 1, 7);
	/* a page that is not there */
	page[0] = 0x1c;
	page[1] = 0x12;
	mode_select10(self->fd, page, sizeof(page), &r);
	ASSERT_FIELD(r, 0, 8, 5);
	/* PF=0 and SP=1 are refused */
	ms6[1] = 0x00;
	ms6[4] = 0;
	sgio(self->fd, ms6, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_FIELD(r, 1, 1, 4);
	ms6[1] = 0x11;
	sgio(self->fd, ms6, 6, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_FIELD(r, 1, 1, 0);
	/* nothing changed */
	mode_sense10(_metadata, self->fd, 0, 0x08, b, sizeof(b), &r);
	ASSERT_EQ(0x04, b[8 + get_be16(b + 6) + 2] & 0x05);
}

TEST_F(disk, descriptor_sense)
{
	uint8_t b[4096] ALIGNED, page[12], cdb[16] = { 0xc5 };
	const uint8_t *d;
	struct sgio_result r;

	REQUIRE_DISK();
	mode_sense10(_metadata, self->fd, 0, 0x0a, b, sizeof(b), &r);
	memcpy(page, b + 8 + get_be16(b + 6), sizeof(page));
	page[0] &= 0x3f;
	page[2] |= 0x04;			/* D_SENSE */
	mode_select10(self->fd, page, sizeof(page), &r);
	ASSERT_GOOD(r);

	sgio(self->fd, cdb, 10, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x20, 0);
	ASSERT_EQ(0x72, r.sense[0] & 0x7f);

	/* an invalid field: a sense-key-specific descriptor */
	cdb_rw(cdb, 10, false, 0, 1);
	cdb[1] = 0x80;
	sgio(self->fd, cdb, 10, SG_DXFER_FROM_DEV, b, self->bs, &r);
	d = sgio_sense_desc(r.sense, r.sb_len, 2);
	ASSERT_NE(NULL, d);
	ASSERT_EQ(0x72, r.sense[0] & 0x7f);
	ASSERT_FIELD(r, 1, 1, 7);

	page[2] &= ~0x04;
	mode_select10(self->fd, page, sizeof(page), &r);
	ASSERT_GOOD(r);
	cdb[0] = 0xc5;
	sgio(self->fd, cdb, 10, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x20, 0);
	ASSERT_EQ(0x70, r.sense[0] & 0x7f);
}

/* ---------------------------------------------------- thin provisioning */

static void unmap(int fd, uint64_t lba, uint32_t n, struct sgio_result *r)
{
	uint8_t cdb[10] = { 0x42 }, p[24] = {};

	put_be16(p, 22);
	put_be16(p + 2, 16);
	put_be64(p + 8, lba);
	put_be32(p + 16, n);
	put_be16(cdb + 7, sizeof(p));
	sgio(fd, cdb, 10, SG_DXFER_TO_DEV, p, sizeof(p), r);
}

static bool all_zero(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

TEST_F(disk, unmap_reads_zeros)
{
	uint8_t cdb[10] = { 0x42 }, p[4] = {};
	uint64_t lba = self->nblocks / 4;
	uint32_t n = 4 * self->page_blocks + 3;
	uint8_t *b;
	struct sgio_result r;

	REQUIRE_DISK();
	b = xmalloc((size_t)n * self->bs);
	fill(b, lba, n, self->bs, 0xabc);
	disk_rw(self->fd, 16, true, lba, n, b, self->bs, &r);
	ASSERT_GOOD(r);
	unmap(self->fd, lba + 1, n - 2, &r);
	ASSERT_GOOD(r);
	memset(b, CANARY, (size_t)n * self->bs);
	disk_rw(self->fd, 16, false, lba, n, b, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_FALSE(all_zero(b, self->bs));		/* untouched ends */
	ASSERT_TRUE(all_zero(b + self->bs, (size_t)(n - 2) * self->bs));
	ASSERT_FALSE(all_zero(b + (size_t)(n - 1) * self->bs, self->bs));

	/* a descriptor past the end: LBA OUT OF RANGE, nothing unmapped */
	unmap(self->fd, self->nblocks - 1, 2, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
	/* a parameter list shorter than its header */
	put_be16(cdb + 7, 4);
	sgio(self->fd, cdb, 10, SG_DXFER_TO_DEV, p, 4, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x1a, 0);
	free(b);
}

/* GET LBA STATUS from @lba: descriptor @i's LBA, count and status */
static void lba_status(struct __test_metadata *_metadata, int fd,
		       uint64_t lba, uint8_t *b, int *nd)
{
	uint8_t cdb[16] = { 0x9e, 0x12 };
	struct sgio_result r;

	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, 8 + 16 * 8);
	memset(b, CANARY, 8 + 16 * 8);
	sgio(fd, cdb, 16, SG_DXFER_FROM_DEV, b, 8 + 16 * 8, &r);
	ASSERT_GOOD(r);
	*nd = (get_be32(b) - 4) / 16;
	ASSERT_GE(*nd, 1);
	ASSERT_EQ(8 + 16 * 8 - (8 + 16 * *nd), r.resid);
	ASSERT_EQ(lba, get_be64(b + 8));
}

TEST_F(disk, get_lba_status)
{
	uint32_t p = self->page_blocks;
	uint64_t base = (self->nblocks / 2 / p) * p + 64 * p;
	uint8_t b[8 + 16 * 8], *w, cdb[16] = { 0x9e, 0x12 };
	struct sgio_result r;
	int nd;

	REQUIRE_DISK();
	w = xmalloc((size_t)p * self->bs);
	unmap(self->fd, base, 8 * p, &r);
	ASSERT_GOOD(r);
	fill(w, base + p, p, self->bs, 7);
	disk_rw(self->fd, 16, true, base + p, p, w, self->bs, &r);
	ASSERT_GOOD(r);

	lba_status(_metadata, self->fd, base, b, &nd);
	ASSERT_GE(nd, 3);
	ASSERT_EQ(p, get_be32(b + 8 + 8));		/* deallocated */
	ASSERT_EQ(1, b[8 + 12] & 0x0f);
	ASSERT_EQ(base + p, get_be64(b + 24));		/* mapped */
	ASSERT_EQ(p, get_be32(b + 24 + 8));
	ASSERT_EQ(0, b[24 + 12] & 0x0f);
	ASSERT_EQ(base + 2 * p, get_be64(b + 40));	/* deallocated */
	ASSERT_GE(get_be32(b + 40 + 8), 6 * p);
	ASSERT_EQ(1, b[40 + 12] & 0x0f);

	/* from the last LBA; and past it */
	lba_status(_metadata, self->fd, self->nblocks - 1, b, &nd);
	ASSERT_EQ(1, nd);
	ASSERT_EQ(1u, get_be32(b + 16));
	put_be64(cdb + 2, self->nblocks);
	put_be32(cdb + 10, 24);
	sgio(self->fd, cdb, 16, SG_DXFER_FROM_DEV, b, 24, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
	unmap(self->fd, base, 8 * p, &r);
	ASSERT_GOOD(r);
	free(w);
}

static void write_same(int fd, bool ws16, uint8_t flags, uint64_t lba,
		       uint32_t n, void *block, uint32_t bs, struct sgio_result *r)
{
	uint8_t cdb[16] = {};

	cdb[1] = flags;
	if (ws16) {
		cdb[0] = 0x93;
		put_be64(cdb + 2, lba);
		put_be32(cdb + 10, n);
	} else {
		cdb[0] = 0x41;
		put_be32(cdb + 2, lba);
		put_be16(cdb + 7, n);
	}
	sgio(fd, cdb, ws16 ? 16 : 10, SG_DXFER_TO_DEV, block,
	     (flags & 0x01) ? 0 : bs, r);
}

TEST_F(disk, write_same)
{
	uint64_t lba = self->nblocks / 4 + 1000;
	uint32_t n = 2 * self->page_blocks + 5, i;
	uint8_t *blk, *b;
	struct sgio_result r;
	int nd;

	REQUIRE_DISK();
	blk = xmalloc(self->bs);
	b = xmalloc((size_t)(n + 2) * self->bs);

	/* a pattern on every block, and not beyond */
	fill(b, lba - 1, n + 2, self->bs, 0x77);
	disk_rw(self->fd, 16, true, lba - 1, n + 2, b, self->bs, &r);
	ASSERT_GOOD(r);
	fill(blk, 0, 1, self->bs, 0x1234);
	write_same(self->fd, true, 0, lba, n, blk, self->bs, &r);
	ASSERT_GOOD(r);
	disk_rw(self->fd, 16, false, lba - 1, n + 2, b, self->bs, &r);
	ASSERT_GOOD(r);
	for (i = 1; i <= n; i++) {
		ASSERT_EQ(0, memcmp(b + (size_t)i * self->bs, blk, self->bs))
			TH_LOG("block %u", i);
	}
	fill(blk, lba - 1, 1, self->bs, 0x77);
	ASSERT_EQ(0, memcmp(b, blk, self->bs));

	/* WRITE SAME(10) with UNMAP and a zero block deallocates */
	memset(blk, 0, self->bs);
	write_same(self->fd, false, 0x08, lba, n, blk, self->bs, &r);
	ASSERT_GOOD(r);
	disk_rw(self->fd, 16, false, lba, n, b, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_TRUE(all_zero(b, (size_t)n * self->bs));
	lba_status(_metadata, self->fd, (lba + self->page_blocks) /
		   self->page_blocks * self->page_blocks, b, &nd);
	ASSERT_EQ(1, b[8 + 12] & 0x0f);

	/* NDOB: zeros without a data-out buffer */
	fill(b, lba, n, self->bs, 0x99);
	disk_rw(self->fd, 16, true, lba, n, b, self->bs, &r);
	ASSERT_GOOD(r);
	write_same(self->fd, true, 0x09, lba, n, NULL, self->bs, &r);
	ASSERT_GOOD(r);
	disk_rw(self->fd, 16, false, lba, n, b, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_TRUE(all_zero(b, (size_t)n * self->bs));

	/* zero blocks (WSNZ) and past the end are refused */
	write_same(self->fd, true, 0, lba, 0, blk, self->bs, &r);
	ASSERT_FIELD(r, 1, 10, 7);
	write_same(self->fd, false, 0, self->nblocks - 1, 2, blk, self->bs,
		   &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
	free(blk);
	free(b);
}

/* ------------------------------------------- COMPARE AND WRITE, VERIFY */

TEST_F(disk, compare_and_write)
{
	uint64_t lba = self->nblocks / 3;
	uint8_t cdb[16] = { 0x89 }, *b, *rd;
	struct sgio_result r;

	REQUIRE_DISK();
	b = xmalloc(4 * self->bs);
	rd = xmalloc(2 * self->bs);
	fill(b, lba, 2, self->bs, 0xa);
	disk_rw(self->fd, 10, true, lba, 2, b, self->bs, &r);
	ASSERT_GOOD(r);

	/* verify half = what is there, write half = new data */
	fill(b + 2 * self->bs, lba, 2, self->bs, 0xb);
	put_be64(cdb + 2, lba);
	cdb[13] = 2;
	sgio(self->fd, cdb, 16, SG_DXFER_TO_DEV, b, 4 * self->bs, &r);
	ASSERT_GOOD(r);
	disk_rw(self->fd, 10, false, lba, 2, rd, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0, memcmp(rd, b + 2 * self->bs, 2 * self->bs));

	/* the old data no longer matches: MISCOMPARE at the first difference */
	memcpy(b, rd, 2 * self->bs);
	b[self->bs + 100] ^= 0xff;
	fill(b + 2 * self->bs, lba, 2, self->bs, 0xc);
	sgio(self->fd, cdb, 16, SG_DXFER_TO_DEV, b, 4 * self->bs, &r);
	ASSERT_SENSE(r, KEY_MISCOMPARE, 0x1d, 0);
	ASSERT_EQ(self->bs + 100, sense_info(&r));
	/* and nothing was written */
	memset(b, 0, 2 * self->bs);
	disk_rw(self->fd, 10, false, lba, 2, b, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0, memcmp(rd, b, 2 * self->bs));
	free(b);
	free(rd);
}

TEST_F(disk, verify)
{
	uint64_t lba = self->nblocks / 3 + 64;
	uint8_t cdb[16] = { 0x2f }, *b;
	uint32_t n = 6;
	struct sgio_result r;

	REQUIRE_DISK();
	b = xmalloc((size_t)n * self->bs);
	fill(b, lba, n, self->bs, 0xfe);
	disk_rw(self->fd, 10, true, lba, n, b, self->bs, &r);
	ASSERT_GOOD(r);

	/* BYTCHK=0: the medium only */
	put_be32(cdb + 2, lba);
	put_be16(cdb + 7, n);
	sgio(self->fd, cdb, 10, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_GOOD(r);
	/* BYTCHK=1: equal data, then a difference at byte 777 */
	cdb[1] = 0x02;
	sgio(self->fd, cdb, 10, SG_DXFER_TO_DEV, b, n * self->bs, &r);
	ASSERT_GOOD(r);
	b[777] ^= 0x01;
	sgio(self->fd, cdb, 10, SG_DXFER_TO_DEV, b, n * self->bs, &r);
	ASSERT_SENSE(r, KEY_MISCOMPARE, 0x1d, 0);
	ASSERT_EQ(777, sense_info(&r));
	/* BYTCHK=10b is reserved */
	cdb[1] = 0x04;
	sgio(self->fd, cdb, 10, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_FIELD(r, 1, 1, 2);
	/* VERIFY(16) past the end */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x8f;
	put_be64(cdb + 2, self->nblocks - 1);
	put_be32(cdb + 10, 2);
	sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
	free(b);
}

TEST_F(disk, write_and_verify)
{
	uint64_t lba = self->nblocks / 3 + 128;
	uint8_t cdb[16] = { 0x2e }, *b, *rd;
	struct sgio_result r;

	REQUIRE_DISK();
	b = xmalloc(3 * self->bs);
	rd = xmalloc(3 * self->bs);
	fill(b, lba, 3, self->bs, 0x3e);
	put_be32(cdb + 2, lba);
	put_be16(cdb + 7, 3);
	sgio(self->fd, cdb, 10, SG_DXFER_TO_DEV, b, 3 * self->bs, &r);
	ASSERT_GOOD(r);
	disk_rw(self->fd, 10, false, lba, 3, rd, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0, memcmp(b, rd, 3 * self->bs));

	/* WRITE AND VERIFY(16), BYTCHK=1 */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x8e;
	cdb[1] = 0x02;
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, 3);
	fill(b, lba, 3, self->bs, 0x3f);
	sgio(self->fd, cdb, 16, SG_DXFER_TO_DEV, b, 3 * self->bs, &r);
	ASSERT_GOOD(r);
	disk_rw(self->fd, 16, false, lba, 3, rd, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0, memcmp(b, rd, 3 * self->bs));

	cdb[1] = 0x04;				/* BYTCHK=10b: reserved */
	sgio(self->fd, cdb, 16, SG_DXFER_TO_DEV, b, 3 * self->bs, &r);
	ASSERT_FIELD(r, 1, 1, 2);
	free(b);
	free(rd);
}

/* ------------------------------------------- issue 19: limits, boundaries */

/* UNMAP of @nd descriptors of @n blocks each, @stride blocks apart */
static void unmap_list(int fd, uint64_t lba, uint32_t n, uint64_t stride,
		       unsigned int nd, struct sgio_result *r)
{
	uint32_t plen = 8 + 16 * nd;
	uint8_t cdb[10] = { 0x42 }, *p;
	unsigned int i;

	p = xmalloc(plen);
	memset(p, 0, plen);
	put_be16(p, plen - 2);
	put_be16(p + 2, 16 * nd);
	for (i = 0; i < nd; i++) {
		put_be64(p + 8 + 16 * i, lba + i * stride);
		put_be32(p + 8 + 16 * i + 8, n);
	}
	put_be16(cdb + 7, plen);
	sgio(fd, cdb, 10, SG_DXFER_TO_DEV, p, plen, r);
	free(p);
}

/*
 * Block Limits VPD: MAXIMUM UNMAP LBA COUNT is true for the LU (at most
 * its capacity, at most 32 MiB of blocks) and MAXIMUM UNMAP BLOCK
 * DESCRIPTOR COUNT is 256; UNMAP holds to both (SBC-4 5.30: a list over
 * either limit is INVALID FIELD IN PARAMETER LIST).
 */
TEST_F(disk, block_limits_unmap)
{
	uint8_t b[512] ALIGNED;
	uint64_t max_lbas;
	struct sgio_result r;

	REQUIRE_DISK();
	max_lbas = (32ull << 20) / self->bs;
	if (max_lbas > self->nblocks)
		max_lbas = self->nblocks;
	vpd(_metadata, self->fd, 0xb0, b);
	ASSERT_EQ(max_lbas, get_be32(b + 20))
		TH_LOG("MAXIMUM UNMAP LBA COUNT %u, capacity %llu blocks",
		       get_be32(b + 20), (unsigned long long)self->nblocks);
	ASSERT_EQ(256u, get_be32(b + 24));

	/* 256 descriptors of one block each: GOOD; 257: refused */
	unmap_list(self->fd, self->nblocks / 8, 1, 2, 256, &r);
	ASSERT_GOOD(r);
	unmap_list(self->fd, self->nblocks / 8, 1, 2, 257, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x26, 0);

	/* one descriptor of the maximum: GOOD; one block more: refused */
	unmap_list(self->fd, 0, max_lbas, 0, 1, &r);
	ASSERT_GOOD(r);
	if (max_lbas < self->nblocks) {
		unmap_list(self->fd, 0, max_lbas + 1, 0, 1, &r);
		ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x26, 0);
	}
}

/*
 * 0 blocks at LBA == capacity is a range that ends at the capacity: GOOD
 * (SBC-4 4.5: only a range past the capacity is out of range); at
 * capacity + 1, or one block past the end, LBA OUT OF RANGE.
 */
TEST_F(disk, zero_blocks_at_capacity)
{
	uint8_t cdb[16], b[4096 * 2] ALIGNED;
	uint64_t cap = self->nblocks;
	struct sgio_result r;
	int i;

	REQUIRE_DISK();
	for (i = 0; i < 3; i++) {
		/* READ(16), WRITE(16), VERIFY(16) */
		cdb_rw(cdb, 16, i == 1, cap, 0);
		if (i == 2)
			cdb[0] = 0x8f;
		sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
		if (r.status != SAM_GOOD)
			TH_LOG("opcode %#x, 0 blocks at the capacity", cdb[0]);
		ASSERT_GOOD(r);
		put_be64(cdb + 2, cap + 1);
		sgio(self->fd, cdb, 16, SG_DXFER_NONE, NULL, 0, &r);
		ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
		put_be64(cdb + 2, cap - 1);
		put_be32(cdb + 10, 2);
		sgio(self->fd, cdb, 16, i == 0 ? SG_DXFER_FROM_DEV :
		     i == 1 ? SG_DXFER_TO_DEV : SG_DXFER_NONE, b,
		     i == 2 ? 0 : 2 * self->bs, &r);
		ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
	}
	/* an UNMAP descriptor */
	unmap(self->fd, cap, 0, &r);
	ASSERT_GOOD(r);
	unmap(self->fd, cap + 1, 0, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
	unmap(self->fd, cap - 1, 2, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x21, 0);
}

/* GET LBA STATUS from @lba with REPORT TYPE @type into @b; descriptors */
static int lba_status_type(int fd, uint64_t lba, uint8_t type, uint8_t *b,
			   struct sgio_result *r)
{
	uint8_t cdb[16] = { 0x9e, 0x12 };

	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, 8 + 16 * 8);
	cdb[14] = type;
	memset(b, CANARY, 8 + 16 * 8);
	sgio(fd, cdb, 16, SG_DXFER_FROM_DEV, b, 8 + 16 * 8, r);
	return r->status == SAM_GOOD ? (int)(get_be32(b) - 4) / 16 : -1;
}

/*
 * GET LBA STATUS honours REPORT TYPE (SBC-4 5.8): 0 every extent, 1 and 3
 * the deallocated ones (this LU anchors nothing), 2 the mapped ones, 4
 * (anchored) none; 5..7 are reserved.
 */
TEST_F(disk, get_lba_status_report_type)
{
	uint32_t p = self->page_blocks;
	uint64_t base = (self->nblocks / 2 / p) * p + 128 * p;
	uint8_t b[8 + 16 * 8] ALIGNED, *w;
	struct sgio_result r;
	int nd, i, t;

	REQUIRE_DISK();
	w = xmalloc((size_t)p * self->bs);
	unmap(self->fd, base, 8 * p, &r);
	ASSERT_GOOD(r);
	fill(w, base + p, p, self->bs, 9);
	disk_rw(self->fd, 16, true, base + p, p, w, self->bs, &r);
	ASSERT_GOOD(r);

	/* 0: deallocated, mapped, deallocated */
	nd = lba_status_type(self->fd, base, 0, b, &r);
	ASSERT_GOOD(r);
	ASSERT_GE(nd, 3);
	ASSERT_EQ(1, b[8 + 12] & 0x0f);
	ASSERT_EQ(0, b[24 + 12] & 0x0f);

	/* 1 and 3: only deallocated extents, the first two of them */
	for (t = 1; t <= 3; t += 2) {
		nd = lba_status_type(self->fd, base, t, b, &r);
		if (r.status != SAM_GOOD)
			TH_LOG("REPORT TYPE %d", t);
		ASSERT_GOOD(r);
		ASSERT_GE(nd, 2);
		ASSERT_EQ(base, get_be64(b + 8));
		ASSERT_EQ(p, get_be32(b + 8 + 8));
		ASSERT_EQ(base + 2 * p, get_be64(b + 24));
		for (i = 0; i < nd; i++) {
			ASSERT_EQ(1, b[8 + 16 * i + 12] & 0x0f)
				TH_LOG("REPORT TYPE %d descriptor %d", t, i);
		}
	}

	/* 2: only mapped extents, the first at base + p */
	nd = lba_status_type(self->fd, base, 2, b, &r);
	ASSERT_GOOD(r);
	ASSERT_GE(nd, 1);
	ASSERT_EQ(base + p, get_be64(b + 8));
	ASSERT_EQ(p, get_be32(b + 8 + 8));
	for (i = 0; i < nd; i++) {
		ASSERT_EQ(0, b[8 + 16 * i + 12] & 0x0f) TH_LOG("descriptor %d", i);
	}

	/* 4: anchored, none; the header alone */
	nd = lba_status_type(self->fd, base, 4, b, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0, nd);
	ASSERT_EQ(4u, get_be32(b));
	ASSERT_EQ(16 * 8, r.resid);
	ASSERT_CANARY(r, b, 8, sizeof(b));

	/* 5..7: reserved */
	for (t = 5; t <= 7; t++) {
		lba_status_type(self->fd, base, t, b, &r);
		ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x24, 0);
		if (sgio_sense(&r).sks_valid) {
			ASSERT_EQ(14, get_be16(sgio_sense(&r).sks + 1));
		}
	}
	unmap(self->fd, base, 8 * p, &r);
	ASSERT_GOOD(r);
	free(w);
}

/*
 * A data phase against the direction the submitter gave (a WRITE with a
 * from-device buffer, a READ with a to-device one) is the target's
 * CHECK CONDITION, INVALID FIELD IN CDB, not the host's DID_ERROR; nothing
 * moves either way.
 */
TEST_F(disk, data_direction_mismatch)
{
	uint8_t cdb[16], *b, *rd;
	uint64_t lba = self->nblocks / 5;
	struct sgio_result r;

	REQUIRE_DISK();
	b = xmalloc(2 * self->bs);
	rd = xmalloc(2 * self->bs);
	fill(rd, lba, 2, self->bs, 0xd1);
	disk_rw(self->fd, 10, true, lba, 2, rd, self->bs, &r);
	ASSERT_GOOD(r);

	/* WRITE(10) and WRITE(16) with SG_DXFER_FROM_DEV */
	cdb_rw(cdb, 10, true, lba, 2);
	memset(b, CANARY, 2 * self->bs);
	sgio(self->fd, cdb, 10, SG_DXFER_FROM_DEV, b, 2 * self->bs, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x24, 0);
	ASSERT_CANARY(r, b, 0, 2 * self->bs);
	cdb_rw(cdb, 16, true, lba, 2);
	sgio(self->fd, cdb, 16, SG_DXFER_FROM_DEV, b, 2 * self->bs, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x24, 0);
	ASSERT_CANARY(r, b, 0, 2 * self->bs);

	/* READ(10) with SG_DXFER_TO_DEV */
	cdb_rw(cdb, 10, false, lba, 2);
	sgio(self->fd, cdb, 10, SG_DXFER_TO_DEV, b, 2 * self->bs, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x24, 0);

	/* INQUIRY with SG_DXFER_TO_DEV */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x12;
	put_be16(cdb + 3, 96);
	sgio(self->fd, cdb, 6, SG_DXFER_TO_DEV, b, 96, &r);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x24, 0);

	/* the medium holds what it held */
	disk_rw(self->fd, 10, false, lba, 2, b, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0, memcmp(b, rd, 2 * self->bs));
	free(b);
	free(rd);
}

/*
 * VERIFY(16) with BYTCHK=11b compares one block with every block of the
 * range: up to 1 MiB of range it compares, over 1 MiB it is an invalid
 * field (the limit bounds the work one command does in atomic context).
 */
TEST_F_TIMEOUT(disk, verify_bytchk3_limit, 120)
{
	uint32_t n = (1u << 20) / self->bs;
	uint64_t lba = self->nblocks / 3 + 4096;
	uint8_t cdb[16] = { 0x8f, 0x06 }, *blk;
	struct sgio_result r;

	REQUIRE_DISK();
	blk = xmalloc(self->bs);
	fill(blk, 0, 1, self->bs, 0xb3);
	write_same(self->fd, true, 0, lba, n, blk, self->bs, &r);
	ASSERT_GOOD(r);
	write_same(self->fd, true, 0, lba + n, 1, blk, self->bs, &r);
	ASSERT_GOOD(r);

	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
	sgio(self->fd, cdb, 16, SG_DXFER_TO_DEV, blk, self->bs, &r);
	ASSERT_GOOD(r);
	blk[self->bs - 1] ^= 0x10;
	sgio(self->fd, cdb, 16, SG_DXFER_TO_DEV, blk, self->bs, &r);
	ASSERT_SENSE(r, KEY_MISCOMPARE, 0x1d, 0);
	blk[self->bs - 1] ^= 0x10;

	put_be32(cdb + 10, n + 1);
	sgio(self->fd, cdb, 16, SG_DXFER_TO_DEV, blk, self->bs, &r);
	if (r.status == SAM_GOOD)
		TH_LOG("BYTCHK=11b over %u blocks of %u bytes accepted",
		       n + 1, self->bs);
	ASSERT_SENSE(r, KEY_ILLEGAL_REQUEST, 0x24, 0);
	free(blk);
}

/* ------------------------------ COMPARE AND WRITE across hardware queues */

/* A range of @n blocks all holding the 8-byte value @v, or not */
static void fill_value(uint8_t *b, uint32_t n, uint32_t bs, uint64_t v)
{
	size_t i;

	for (i = 0; i < (size_t)n * bs; i += 8)
		put_be64(b + i, v);
}

/* The value a range holds everywhere, or false if it is torn */
static bool range_value(const uint8_t *b, uint32_t n, uint32_t bs,
			uint64_t *v)
{
	size_t i;

	*v = get_be64(b);
	for (i = 8; i < (size_t)n * bs; i += 8)
		if (get_be64(b + i) != *v)
			return false;
	return true;
}

struct caw_thread {
	const char *sg;
	int cpu;
	uint64_t lba;
	uint32_t n, bs;
	unsigned int iters;
	uint64_t tag;		/* in the top bits of what it writes */
	bool plain;		/* plain WRITEs, not COMPARE AND WRITE */
	unsigned long good;	/* CAWs answered GOOD */
	unsigned long miscompare;
	unsigned long overlapped;	/* GOOD CAWs a later WRITE followed */
	char err[256];		/* the first unexpected answer */
};

/* the plain writer's progress, for the CAW thread's checks */
static unsigned long w_started, w_done;

static void *caw_worker(void *arg)
{
	struct caw_thread *t = arg;
	uint32_t half = t->n * t->bs;
	unsigned long started, done, after, last_s = 0;
	uint64_t v, last_a = 0;
	uint8_t cdb[16], *b;
	struct sgio_result r;
	struct sgio_sense ss;
	cpu_set_t set;
	unsigned int i;
	int fd;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		snprintf(t->err, sizeof(t->err), "sched_setaffinity(%d): %s",
			 t->cpu, strerror(errno));
		return NULL;
	}
	fd = sgio_open(t->sg);
	if (fd < 0) {
		snprintf(t->err, sizeof(t->err), "open %s: %s", t->sg,
			 strerror(-fd));
		return NULL;
	}
	b = xmalloc(2 * half);
	for (i = 0; i < t->iters && !t->err[0]; i++) {
		if (t->plain) {
			__atomic_add_fetch(&w_started, 1, __ATOMIC_SEQ_CST);
			fill_value(b, t->n, t->bs, t->tag | i);
			cdb_rw(cdb, 16, true, t->lba, t->n);
			sgio(fd, cdb, 16, SG_DXFER_TO_DEV, b, half, &r);
			__atomic_add_fetch(&w_done, 1, __ATOMIC_SEQ_CST);
			if (r.ret || r.host_status || r.status != SAM_GOOD)
				snprintf(t->err, sizeof(t->err),
					 "WRITE: ret %d host %#x status %#x",
					 r.ret, r.host_status, r.status);
			continue;
		}
		/* read what is there */
		done = __atomic_load_n(&w_done, __ATOMIC_SEQ_CST);
		started = __atomic_load_n(&w_started, __ATOMIC_SEQ_CST);
		cdb_rw(cdb, 16, false, t->lba, t->n);
		sgio(fd, cdb, 16, SG_DXFER_FROM_DEV, b, half, &r);
		if (r.ret || r.host_status || r.status != SAM_GOOD) {
			snprintf(t->err, sizeof(t->err),
				 "READ: ret %d host %#x status %#x", r.ret,
				 r.host_status, r.status);
			break;
		}
		after = __atomic_load_n(&w_started, __ATOMIC_SEQ_CST);
		if (!range_value(b, t->n, t->bs, &v)) {
			/*
			 * Torn while no plain WRITE was in flight (the other
			 * CAW thread's writes may be: a READ need not be
			 * atomic against them; the counter is checked at the
			 * end)
			 */
			if (t->tag && done == started && after == started)
				snprintf(t->err, sizeof(t->err),
					 "the range is torn with no WRITE in flight (iteration %u)",
					 i);
			continue;
		}
		/*
		 * Our last CAW answered GOOD: every WRITE that started after
		 * the read before it and completed before this read comes
		 * after the CAW (before it, the CAW would have miscompared),
		 * so what we read now cannot be the CAW's data.
		 */
		if (last_a && v == last_a && done > last_s) {
			t->overlapped++;
			snprintf(t->err, sizeof(t->err),
				 "a WRITE done during a GOOD COMPARE AND WRITE was lost under it (iteration %u)",
				 i);
		} else if (last_a && done > last_s) {
			t->overlapped++;
		}
		last_a = 0;
		/* verify half: what we read; write half: the next value */
		fill_value(b + half, t->n, t->bs, t->tag ? t->tag | i : v + 1);
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = 0x89;
		put_be64(cdb + 2, t->lba);
		cdb[13] = t->n;
		sgio(fd, cdb, 16, SG_DXFER_TO_DEV, b, 2 * half, &r);
		if (!r.ret && !r.host_status && r.status == SAM_GOOD) {
			t->good++;
			if (t->tag)
				last_a = t->tag | i;
			last_s = after;
			continue;
		}
		ss = sgio_sense(&r);
		if (!r.ret && !r.host_status &&
		    r.status == SAM_CHECK_CONDITION && ss.key == KEY_MISCOMPARE &&
		    ss.asc == 0x1d) {
			t->miscompare++;
			continue;
		}
		snprintf(t->err, sizeof(t->err),
			 "COMPARE AND WRITE: ret %d host %#x status %#x sense %x/%02x/%02x",
			 r.ret, r.host_status, r.status, ss.key, ss.asc, ss.ascq);
	}
	free(b);
	close(fd);
	return NULL;
}

/*
 * Run caw_worker() in two threads, t[0] on cpu0 and t[1] on cpu1, both on
 * the n blocks at lba of sg (what else differs the caller sets in t), and
 * wait for them. Returns 0 or pthread_create()'s error.
 */
static int caw_run(struct caw_thread t[2], const char *sg, int cpu0, int cpu1,
		   uint64_t lba, uint32_t n, uint32_t bs)
{
	pthread_t tid[2];
	int i, err = 0, started = 0;

	for (i = 0; i < 2; i++) {
		t[i].sg = sg;
		t[i].cpu = i ? cpu1 : cpu0;
		t[i].lba = lba;
		t[i].n = n;
		t[i].bs = bs;
		t[i].iters = 2000;
	}
	for (i = 0; i < 2 && !err; i++) {
		err = pthread_create(&tid[i], NULL, caw_worker, &t[i]);
		started += !err;
	}
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	return err;
}

/* Two CPUs, and the disk has a hardware queue for each, or a reason */
static const char *two_queues(const char *sg, int *cpu0, int *cpu1)
{
	char path[PATH_MAX], sd[NAME_MAX + 1] = "";
	struct dirent *de;
	cpu_set_t set;
	int c, n = 0;
	DIR *d;

	if (sched_getaffinity(0, sizeof(set), &set))
		return "sched_getaffinity failed";
	*cpu0 = *cpu1 = -1;
	for (c = 0; c < CPU_SETSIZE && n < 2; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (n++)
			*cpu1 = c;
		else
			*cpu0 = c;
	}
	if (n < 2)
		return "needs two CPUs";
	/* blk-mq maps each CPU to a queue: the disk needs more than one */
	snprintf(path, sizeof(path),
		 "/sys/class/scsi_generic/%s/device/block", sg);
	d = opendir(path);
	while (d && (de = readdir(d)) && !sd[0])
		if (de->d_name[0] != '.')
			snprintf(sd, sizeof(sd), "%s", de->d_name);
	if (d)
		closedir(d);
	if (!sd[0])
		return "the disk has no block device to count its queues";
	snprintf(path, sizeof(path), "/sys/block/%s/mq", sd);
	d = opendir(path);
	n = 0;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	if (n < 2)
		return "the disk has one hardware queue";
	return NULL;
}

/*
 * COMPARE AND WRITE is atomic (SBC-4 5.3) across hardware queues: two
 * threads pinned to two CPUs (one queue each) increment a counter with
 * read + COMPARE AND WRITE; the counter ends equal to the number of CAWs
 * answered GOOD (none lost).
 */
TEST_F_TIMEOUT(disk, caw_atomic_counter, 300)
{
	uint64_t lba = self->nblocks / 3 + 8192, v;
	struct caw_thread t[2] = {};
	struct sgio_result r;
	const char *why;
	int cpu0, cpu1, i;
	uint8_t *b;

	REQUIRE_DISK();
	why = two_queues(self->sg, &cpu0, &cpu1);
	if (why)
		SKIP(return, "%s", why);
	b = xmalloc(self->bs);
	fill_value(b, 1, self->bs, 0);
	disk_rw(self->fd, 16, true, lba, 1, b, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_EQ(0, caw_run(t, self->sg, cpu0, cpu1, lba, 1, self->bs));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, t[i].err[0]) TH_LOG("thread %d: %s", i, t[i].err);
		TH_LOG("thread %d (CPU %d): %lu GOOD, %lu MISCOMPARE", i,
		       t[i].cpu, t[i].good, t[i].miscompare);
	}
	disk_rw(self->fd, 16, false, lba, 1, b, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_TRUE(range_value(b, 1, self->bs, &v)) TH_LOG("counter torn");
	ASSERT_EQ(t[0].good + t[1].good, v)
		TH_LOG("counter %llu, GOOD CAWs %lu + %lu: updates lost",
		       (unsigned long long)v, t[0].good, t[1].good);
	ASSERT_GT(t[0].good, 0u);
	ASSERT_GT(t[1].good, 0u);
	free(b);
}

/*
 * COMPARE AND WRITE against plain WRITEs of the same blocks from another
 * CPU: a range is never left torn (part one command's, part the other's),
 * and a WRITE that completes while a CAW runs is ordered after it, not
 * lost under the CAW's data.
 */
TEST_F_TIMEOUT(disk, caw_vs_write, 300)
{
	uint64_t lba = self->nblocks / 3 + 8200, v;
	struct caw_thread t[2] = {};
	struct sgio_result r;
	const char *why;
	int cpu0, cpu1, i;
	uint32_t n;
	uint8_t *b;

	REQUIRE_DISK();
	why = two_queues(self->sg, &cpu0, &cpu1);
	if (why)
		SKIP(return, "%s", why);
	n = 4;		/* within VPD B0's COMPARE AND WRITE length (16 KiB) */
	if (n * self->bs > 16384)
		n = 16384 / self->bs;
	b = xmalloc((size_t)n * self->bs);
	fill_value(b, n, self->bs, 1ull << 62);
	disk_rw(self->fd, 16, true, lba, n, b, self->bs, &r);
	ASSERT_GOOD(r);
	w_started = w_done = 0;
	for (i = 0; i < 2; i++) {
		t[i].tag = i ? 2ull << 60 : 1ull << 60;
		t[i].plain = i;
	}
	ASSERT_EQ(0, caw_run(t, self->sg, cpu0, cpu1, lba, n, self->bs));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, t[i].err[0]) TH_LOG("thread %d: %s", i, t[i].err);
	}
	TH_LOG("CAW: %lu GOOD (%lu checked against a WRITE after), %lu MISCOMPARE; %lu WRITEs",
	       t[0].good, t[0].overlapped, t[0].miscompare, w_done);
	disk_rw(self->fd, 16, false, lba, n, b, self->bs, &r);
	ASSERT_GOOD(r);
	ASSERT_TRUE(range_value(b, n, self->bs, &v)) TH_LOG("range torn");
	ASSERT_GT(t[0].good, 0u);
	free(b);
}

TEST_HARNESS_MAIN
