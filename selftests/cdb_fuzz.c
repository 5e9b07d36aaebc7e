// SPDX-License-Identifier: GPL-2.0
/*
 * cdb_fuzz.c - hostile CDBs through SG_IO to a dmahba logical unit.
 *
 * "cdb_fuzz [fuzz] [SGDEV [WITNESS_SGDEV]]" sends DMAHBA_FUZZ_COUNT (default
 * 10000) random commands to one dmahba LU: opcodes biased toward the ones
 * the emulation implements (and their service actions) plus fully random
 * ones; random CDB lengths (6..16) and fields (LBAs around the end of the
 * medium and overflowing, transfer and allocation lengths from 0 to large,
 * smaller and larger than the data); random data directions and lengths
 * (0..256 KiB); random or structured (UNMAP, MODE SELECT) data-out buffers.
 * Every answer must be GOOD or CHECK CONDITION with well-formed sense, with
 * a sane host and driver status: host_status always 0. A command whose
 * data phase goes against the direction the submitter gave (a READ with
 * SG_DXFER_TO_DEV, a WRITE with SG_DXFER_FROM_DEV) moves nothing and is
 * answered CHECK CONDITION (ILLEGAL REQUEST) by the target, as a real disk
 * would, not DID_ERROR by the host. An unimplemented operation code must get
 * ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (or a pending unit
 * attention); a READ or WRITE that succeeds must move exactly its blocks.
 * The bytes of a data-in buffer past what
 * the residue says was moved must still hold the canary the buffer was
 * filled with (nothing leaked, residue right); data-out buffers are never
 * written to. Before fuzzing, a pattern is written to a second LU (the
 * witness, LUN 1 if there is one), and afterwards both the witness and the
 * fuzzed LU must serve correct data.
 *
 * Data buffers are mapped straight into the command (sg direct I/O, which
 * the program enables in /sys/module/sg/parameters/allow_dio for its run),
 * so the HBA's DMA lands in the canary-filled user pages. A length that is
 * not a multiple of 4 makes sg bounce the data through its own buffer,
 * which it copies back whole: those commands (about 15%) are sent but their
 * canary is not checked. (SG_DXFER_TO_FROM_DEV, which would copy the canary
 * into the bounce buffer, is refused by sg on 6.1 with EINVAL or ENOMEM.)
 *
 * "cdb_fuzz canary SGDEV CDB_HEX DXFER_LEN" runs one data-in command twice,
 * with two different canaries (direct I/O: DXFER_LEN a multiple of 4), each
 * after leaving freed kernel buffers full of a different pattern, and
 * prints status, residue, sense, the bytes moved (up to 4 KiB) and a map of
 * the 512-byte blocks moved ('.' all zeros, a letter for a block all of that
 * letter, 'u' all one other byte, 'x' mixed): the bytes moved must be identical
 * in both calls (defined bytes, no canary left in them) and the others must
 * still hold the canary. Exit 0 if so, 1 if not, 4 if it cannot check.
 * Used by leak_test.sh.
 *
 * DMAHBA_FUZZ_THREADS (default 4) threads share the commands, each on its
 * own file descriptor, so several are in flight at once. The seed is
 * DMAHBA_FUZZ_SEED, else the time; it is printed, and so are the thread,
 * index and CDB of each command that fails a check. Each thread's commands
 * follow from the seed; with DMAHBA_FUZZ_THREADS=1 a run replays exactly.
 * Loads nothing: without a dmahba LU it skips.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <scsi/sg.h>

#include "kselftest.h"
#include "sgio.h"

#define MAX_XFER	(256 * 1024)
#define BUF_SLACK	4096		/* room to misalign the buffer start */
#define TIMEOUT_MS	30000
#define MAX_REPORTS	20		/* failure lines printed per check */

#define GOOD		SAM_GOOD
#define CHECK_COND	SAM_CHECK_CONDITION
#define DRV_SENSE	SGIO_DRIVER_SENSE

enum dir { D_NONE, D_IN, D_OUT };

/* ---- random numbers: xorshift64*, reproducible from the seed ---- */
static __thread uint64_t rng_state;

static uint64_t rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd(uint32_t n)		/* 0 .. n - 1 */
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool chance(unsigned int percent)
{
	return rnd(100) < percent;
}

static void rnd_fill(uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(i & 7))
			v = rnd64();
		p[i] = v >> ((i & 7) * 8);
	}
}

/* ---- big-endian fields ---- */
static void put_be(uint8_t *p, unsigned int bytes, uint64_t v)
{
	while (bytes--) {
		p[bytes] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | *p++;
	return v;
}

/* ---- the device ---- */
struct lu {
	char path[64];
	int fd;
	unsigned int lun;
	uint64_t nr_blocks;
	uint32_t bs;
};

/* SG_IO through the shared helper (sgio.c), with the fuzzer's timeout */
static int sg_io(int fd, const uint8_t *cdb, unsigned int cdb_len, int sgdir,
		 void *buf, unsigned int len, unsigned int flags,
		 struct sgio_result *r)
{
	return sgio_cmd(fd, cdb, cdb_len, sgdir, buf, len, TIMEOUT_MS, flags, r);
}

static uint8_t sense_key(const struct sgio_result *r)
{
	struct sgio_sense ss = sgio_sense(r);

	return ss.valid ? ss.key : 0xff;
}

static uint8_t sense_asc(const struct sgio_result *r)
{
	struct sgio_sense ss = sgio_sense(r);

	return ss.valid ? ss.asc : 0xff;
}

/* A plain command with a few retries on unit attention. */
static bool simple_cmd(struct lu *lu, const uint8_t *cdb, unsigned int cdb_len,
		       int sgdir, void *buf, unsigned int len)
{
	struct sgio_result r;
	int i;

	for (i = 0; i < 3; i++) {
		if (sg_io(lu->fd, cdb, cdb_len, sgdir, buf, len, 0, &r))
			return false;
		if (r.status == CHECK_COND && sense_key(&r) == 6)
			continue;
		return !r.status && !r.host_status && !r.resid;
	}
	return false;
}

static bool read_capacity(struct lu *lu)
{
	uint8_t cdb[16] = { 0x9e, 0x10 }, buf[32];

	put_be(&cdb[10], 4, sizeof(buf));
	if (!simple_cmd(lu, cdb, 16, SG_DXFER_FROM_DEV, buf, sizeof(buf)))
		return false;
	lu->nr_blocks = get_be(buf, 8) + 1;
	lu->bs = get_be(&buf[8], 4);
	return lu->bs >= 512 && lu->bs <= 65536 && lu->nr_blocks > 64;
}

static bool rw16(struct lu *lu, bool write, uint64_t lba, uint32_t n, void *buf)
{
	uint8_t cdb[16] = { write ? 0x8a : 0x88 };

	put_be(&cdb[2], 8, lba);
	put_be(&cdb[10], 4, n);
	return simple_cmd(lu, cdb, 16, write ? SG_DXFER_TO_DEV : SG_DXFER_FROM_DEV,
			  buf, n * lu->bs);
}

static bool start_unit(struct lu *lu)
{
	uint8_t cdb[6] = { 0x1b, 0, 0, 0, 0x01 };

	return simple_cmd(lu, cdb, 6, SG_DXFER_NONE, NULL, 0);
}

/* The /dev/sgN of every LU of the first dmahba host, by LUN. */
static int find_lus(struct lu *lus, int max)
{
	char pat[128], name[64];
	glob_t hosts, sgs;
	size_t i, j;
	int n = 0;
	FILE *f;

	if (glob("/sys/class/scsi_host/host*/proc_name", 0, NULL, &hosts))
		return 0;
	for (i = 0; i < hosts.gl_pathc && !n; i++) {
		f = fopen(hosts.gl_pathv[i], "r");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = 0;
		fclose(f);
		if (strcmp(name, "dmahba\n"))
			continue;
		/* .../hostH/proc_name -> .../hostH/device/target*... */
		snprintf(pat, sizeof(pat), "%.*s/device/target*/*:*:*:*/scsi_generic/sg*",
			 (int)(strlen(hosts.gl_pathv[i]) - strlen("/proc_name")),
			 hosts.gl_pathv[i]);
		if (glob(pat, 0, NULL, &sgs))
			continue;
		for (j = 0; j < sgs.gl_pathc && n < max; j++) {
			const char *p = sgs.gl_pathv[j], *sg = strrchr(p, '/') + 1;
			const char *hctl = p + strlen(p) - strlen(sg) - strlen("/scsi_generic/");
			unsigned int a, b, c, l;

			while (hctl > p && hctl[-1] != '/')
				hctl--;
			if (sscanf(hctl, "%u:%u:%u:%u", &a, &b, &c, &l) != 4)
				continue;
			snprintf(lus[n].path, sizeof(lus[n].path), "/dev/%s", sg);
			lus[n].lun = l;
			n++;
		}
		globfree(&sgs);
	}
	globfree(&hosts);
	/* by LUN */
	for (int x = 0; x < n; x++)
		for (int y = x + 1; y < n; y++)
			if (lus[y].lun < lus[x].lun) {
				struct lu tmp = lus[x];

				lus[x] = lus[y];
				lus[y] = tmp;
			}
	return n;
}

static bool open_lu(struct lu *lu)
{
	lu->fd = open(lu->path, O_RDWR);
	if (lu->fd < 0)
		return false;
	if (!read_capacity(lu)) {
		/* a fresh LU may owe a unit attention, which simple_cmd eats */
		if (!read_capacity(lu))
			return false;
	}
	return true;
}

/* ---- sg direct I/O ---- */
static int saved_allow_dio = -1;

static void restore_allow_dio(void)
{
	FILE *f;

	if (saved_allow_dio < 0)
		return;
	f = fopen("/sys/module/sg/parameters/allow_dio", "w");
	if (f) {
		fprintf(f, "%d\n", saved_allow_dio);
		fclose(f);
	}
}

static bool enable_dio(void)
{
	int v = -1;
	FILE *f;

	f = fopen("/sys/module/sg/parameters/allow_dio", "r");
	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	if (v == 1)
		return true;
	f = fopen("/sys/module/sg/parameters/allow_dio", "w");
	if (!f)
		return false;
	fprintf(f, "1\n");
	if (fclose(f))
		return false;
	saved_allow_dio = v;
	atexit(restore_allow_dio);
	return true;
}

/* ---- canaries ---- */
static uint8_t canary_byte(uint8_t c0, size_t i)
{
	return c0 ^ (uint8_t)(i * 131 + (i >> 8) * 7 + 0x5a);
}

static void canary_fill(uint8_t *p, size_t n, uint8_t c0)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = canary_byte(c0, i);
}

/* first offset >= from where the canary was overwritten, or -1 */
static long canary_broken(const uint8_t *p, size_t from, size_t n, uint8_t c0)
{
	size_t i;

	for (i = from; i < n; i++)
		if (p[i] != canary_byte(c0, i))
			return (long)i;
	return -1;
}

/* ---- the commands ---- */
struct op {
	uint8_t opcode;
	uint8_t len;
	enum dir dir;
};

/* the operation codes the emulation implements */
static const struct op ops[] = {
	{ 0x00, 6, D_NONE },	/* TEST UNIT READY */
	{ 0x03, 6, D_IN },	/* REQUEST SENSE */
	{ 0x08, 6, D_IN },	/* READ(6) */
	{ 0x0a, 6, D_OUT },	/* WRITE(6) */
	{ 0x12, 6, D_IN },	/* INQUIRY */
	{ 0x15, 6, D_OUT },	/* MODE SELECT(6) */
	{ 0x1a, 6, D_IN },	/* MODE SENSE(6) */
	{ 0x1b, 6, D_NONE },	/* START STOP UNIT */
	{ 0x1e, 6, D_NONE },	/* PREVENT ALLOW MEDIUM REMOVAL */
	{ 0x25, 10, D_IN },	/* READ CAPACITY(10) */
	{ 0x28, 10, D_IN },	/* READ(10) */
	{ 0x2a, 10, D_OUT },	/* WRITE(10) */
	{ 0x2e, 10, D_OUT },	/* WRITE AND VERIFY(10) */
	{ 0x2f, 10, D_OUT },	/* VERIFY(10) */
	{ 0x35, 10, D_NONE },	/* SYNCHRONIZE CACHE(10) */
	{ 0x41, 10, D_OUT },	/* WRITE SAME(10) */
	{ 0x42, 10, D_OUT },	/* UNMAP */
	{ 0x55, 10, D_OUT },	/* MODE SELECT(10) */
	{ 0x5a, 10, D_IN },	/* MODE SENSE(10) */
	{ 0x88, 16, D_IN },	/* READ(16) */
	{ 0x89, 16, D_OUT },	/* COMPARE AND WRITE */
	{ 0x8a, 16, D_OUT },	/* WRITE(16) */
	{ 0x8e, 16, D_OUT },	/* WRITE AND VERIFY(16) */
	{ 0x8f, 16, D_OUT },	/* VERIFY(16) */
	{ 0x91, 16, D_NONE },	/* SYNCHRONIZE CACHE(16) */
	{ 0x93, 16, D_OUT },	/* WRITE SAME(16) */
	{ 0x9e, 16, D_IN },	/* SERVICE ACTION IN(16): 10h, 12h */
	{ 0xa0, 12, D_IN },	/* REPORT LUNS */
	{ 0xa3, 12, D_IN },	/* MAINTENANCE IN: 0Ch */
	{ 0xa8, 12, D_IN },	/* READ(12) */
	{ 0xaa, 12, D_OUT },	/* WRITE(12) */
};

static const struct op *find_op(uint8_t opcode)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (ops[i].opcode == opcode)
			return &ops[i];
	return NULL;
}

static unsigned int cdb_group_len(uint8_t opcode)
{
	static const unsigned int len[8] = { 6, 10, 10, 12, 16, 12, 10, 10 };

	return len[opcode >> 5];
}

static bool is_rw(uint8_t op)
{
	return op == 0x08 || op == 0x0a || op == 0x28 || op == 0x2a ||
	       op == 0xa8 || op == 0xaa || op == 0x88 || op == 0x8a;
}

/* one fuzzed command, as generated */
struct cmd {
	uint8_t cdb[16];
	unsigned int cdb_len;
	int sgdir;
	unsigned int len;	/* dxfer_len */
	unsigned int off;	/* of the buffer start in the data area */
	unsigned int natural;	/* the length the command wants, if known */
	bool structured;
};

static struct lu *flu;		/* the fuzzed LU */
static uint32_t max_xfer_blocks;

static uint64_t pick_lba(unsigned int bits)
{
	uint64_t width = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
	uint64_t nr = flu->nr_blocks;
	uint64_t v;

	switch (rnd(16)) {
	case 0: v = 0; break;
	case 1: v = rnd(64); break;
	case 2: case 3: case 4: v = rnd64() % nr; break;
	case 5: case 6: v = nr - 1 - rnd(8); break;
	case 7: case 8: v = nr - 1 - rnd(600); break;
	case 9: v = nr; break;
	case 10: v = nr + rnd(600); break;
	case 11: v = width; break;
	case 12: v = width - rnd(600); break;
	case 13: v = 1ULL << rnd(bits); break;
	default: v = rnd64(); break;
	}
	return v & width;
}

static uint64_t pick_count(unsigned int bits)
{
	uint64_t width = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
	uint64_t v;

	switch (rnd(14)) {
	case 0: v = 0; break;
	case 1: v = 1; break;
	case 2: case 3: v = 1 + rnd(8); break;
	case 4: case 5: v = 1 + rnd(MAX_XFER / flu->bs); break;
	case 6: case 7: v = 1 + rnd(64); break;
	case 8: v = max_xfer_blocks + rnd(3) - 1; break;
	case 9: v = width; break;
	case 10: v = width - rnd(4); break;
	case 11: v = 1ULL << rnd(bits); break;
	case 12: v = 1 + rnd(16); break;
	default: v = rnd64(); break;
	}
	return v & width;
}

static uint64_t pick_alloc(unsigned int bits, unsigned int natural)
{
	uint64_t width = (1ULL << bits) - 1;
	uint64_t v;

	switch (rnd(10)) {
	case 0: v = 0; break;
	case 1: v = 1 + rnd(8); break;
	case 2: v = natural ? natural - 1 : 0; break;
	case 3: v = natural; break;
	case 4: v = natural + 1; break;
	case 5: v = 255; break;
	case 6: v = 4096; break;
	case 7: v = width; break;
	case 8: v = rnd(600); break;
	default: v = rnd64(); break;
	}
	return v & width;
}

/* a flags byte: usually 0 or bits the command defines, sometimes anything */
static uint8_t pick_flags(uint8_t usual)
{
	unsigned int r = rnd(100);

	if (r < 45)
		return 0;
	if (r < 90)
		return rnd(256) & usual;
	return rnd(256);
}

/* each thread's data buffer (page aligned) and the copy of what it sent */
static __thread uint8_t *data_area, *copy_area;

static bool alloc_areas(void)
{
	void *p;

	if (posix_memalign(&p, 4096, MAX_XFER + BUF_SLACK))
		return false;
	data_area = p;
	copy_area = malloc(MAX_XFER + BUF_SLACK);
	return copy_area;
}

/* Generate the CDB of an implemented command, with the length it wants. */
static void gen_known(struct cmd *c, const struct op *op)
{
	uint8_t *cdb = c->cdb;
	uint32_t bs = flu->bs;
	uint64_t n;

	cdb[0] = op->opcode;
	c->cdb_len = op->len;
	switch (op->opcode) {
	case 0x00:
	case 0x1e:
		cdb[4] = pick_flags(0x03);
		break;
	case 0x03:
		cdb[1] = pick_flags(0x01);
		cdb[4] = pick_alloc(8, (cdb[1] & 1) ? 8 : 18);
		c->natural = cdb[4];
		break;
	case 0x08:
	case 0x0a:
		put_be(&cdb[1], 3, pick_lba(21));
		cdb[1] |= pick_flags(0xe0);
		cdb[4] = pick_count(8);
		c->natural = (cdb[4] ? cdb[4] : 256) * bs;
		break;
	case 0x12: {
		static const uint8_t pages[] = { 0, 0x80, 0x83, 0xb0, 0xb1, 0xb2, 0x89, 0xb3 };

		cdb[1] = pick_flags(0x01);
		cdb[2] = chance(80) ? pages[rnd(ARRAY_SIZE(pages))] : rnd(256);
		if (!(cdb[1] & 1) && chance(80))
			cdb[2] = 0;
		put_be(&cdb[3], 2, pick_alloc(16, (cdb[1] & 1) ? 64 : 96));
		c->natural = get_be(&cdb[3], 2);
		break;
	}
	case 0x15:
	case 0x55:
		cdb[1] = chance(85) ? 0x10 : pick_flags(0x11);
		if (op->opcode == 0x15) {
			cdb[4] = chance(70) ? 4 + 8 * rnd(2) + 20 * rnd(2) + 12 * rnd(2) :
					      pick_alloc(8, 44);
			c->natural = cdb[4];
		} else {
			put_be(&cdb[7], 2, chance(70) ?
			       8 + 8 * rnd(3) + 20 * rnd(2) + 12 * rnd(2) :
			       pick_alloc(16, 56));
			c->natural = get_be(&cdb[7], 2);
		}
		c->structured = chance(80);
		break;
	case 0x1a:
	case 0x5a: {
		static const uint8_t pages[] = { 0x08, 0x0a, 0x3f, 0x1c, 0x00 };

		cdb[1] = pick_flags(op->opcode == 0x5a ? 0x18 : 0x08);
		cdb[2] = (rnd(4) << 6) | (chance(85) ? pages[rnd(ARRAY_SIZE(pages))] :
						       rnd(64));
		cdb[3] = chance(70) ? 0 : chance(50) ? 0xff : rnd(256);
		if (op->opcode == 0x1a) {
			cdb[4] = pick_alloc(8, 44);
			c->natural = cdb[4];
		} else {
			put_be(&cdb[7], 2, pick_alloc(16, 56));
			c->natural = get_be(&cdb[7], 2);
		}
		break;
	}
	case 0x1b:
		cdb[1] = pick_flags(0x01);
		cdb[3] = pick_flags(0x0f);
		/* mostly START, or the medium stays stopped for long */
		cdb[4] = chance(90) ? 0x01 : pick_flags(0xf3);
		break;
	case 0x25:
		cdb[8] = pick_flags(0x01);
		if (cdb[8] || chance(20))
			put_be(&cdb[2], 4, pick_lba(32));
		c->natural = 8;
		break;
	case 0x28:
	case 0x2a:
	case 0x2e:
	case 0x2f:
	case 0x35:
	case 0x41:
		cdb[1] = pick_flags(op->opcode == 0x2f || op->opcode == 0x2e ? 0x16 :
				    op->opcode == 0x35 ? 0x06 :
				    op->opcode == 0x41 ? 0x0c : 0x1a);
		put_be(&cdb[2], 4, pick_lba(32));
		cdb[6] = pick_flags(0x3f);
		n = op->opcode == 0x41 && chance(70) ? rnd(64) : pick_count(16);
		put_be(&cdb[7], 2, n);
		c->natural = n * bs;
		if (op->opcode == 0x41)
			c->natural = bs;
		if (op->opcode == 0x2f) {
			uint8_t bytchk = (cdb[1] >> 1) & 3;

			c->natural = bytchk == 1 ? n * bs : bytchk == 3 ? bs : 0;
		}
		if (op->opcode == 0x35)
			c->natural = 0;
		break;
	case 0x42:
		cdb[1] = pick_flags(0x01);
		cdb[6] = pick_flags(0x3f);
		put_be(&cdb[7], 2, chance(70) ? 8 + 16 * rnd(6) : pick_alloc(16, 24));
		c->natural = get_be(&cdb[7], 2);
		c->structured = chance(85);
		break;
	case 0x88:
	case 0x8a:
	case 0x8e:
	case 0x8f:
	case 0x91:
	case 0x93:
		cdb[1] = pick_flags(op->opcode == 0x8f || op->opcode == 0x8e ? 0x16 :
				    op->opcode == 0x91 ? 0x06 :
				    op->opcode == 0x93 ? 0x09 : 0x1a);
		put_be(&cdb[2], 8, pick_lba(64));
		n = op->opcode == 0x93 && chance(70) ? rnd(64) : pick_count(32);
		put_be(&cdb[10], 4, n);
		cdb[14] = pick_flags(0x3f);
		c->natural = n * bs;
		if (op->opcode == 0x93)
			c->natural = (cdb[1] & 1) ? 0 : bs;
		if (op->opcode == 0x8f) {
			uint8_t bytchk = (cdb[1] >> 1) & 3;

			c->natural = bytchk == 1 ? n * bs : bytchk == 3 ? bs : 0;
		}
		if (op->opcode == 0x91)
			c->natural = 0;
		break;
	case 0x89:
		cdb[1] = pick_flags(0x1a);
		put_be(&cdb[2], 8, pick_lba(64));
		cdb[13] = chance(80) ? rnd(40) : rnd(256);
		cdb[14] = pick_flags(0x3f);
		c->natural = 2 * cdb[13] * bs;
		break;
	case 0x9e:
		cdb[1] = chance(45) ? 0x10 : chance(80) ? 0x12 : rnd(256);
		put_be(&cdb[2], 8, pick_lba(64));
		if ((cdb[1] & 0x1f) == 0x10 && chance(70)) {
			memset(&cdb[2], 0, 8);
			cdb[14] = pick_flags(0x01);
		} else {
			cdb[14] = pick_flags(0x01);
		}
		put_be(&cdb[10], 4, pick_alloc(32, (cdb[1] & 0x1f) == 0x10 ? 32 : 24));
		c->natural = get_be(&cdb[10], 4);
		break;
	case 0xa0:
		cdb[2] = chance(85) ? rnd(3) : rnd(256);
		put_be(&cdb[6], 4, pick_alloc(32, 16));
		c->natural = get_be(&cdb[6], 4);
		break;
	case 0xa3:
		cdb[1] = chance(85) ? 0x0c : rnd(256);
		cdb[2] = pick_flags(0x87);
		cdb[3] = chance(70) ? ops[rnd(ARRAY_SIZE(ops))].opcode : rnd(256);
		if (cdb[3] == 0x9e)
			put_be(&cdb[4], 2, chance(70) ? 0x10 + 2 * rnd(2) : rnd(65536));
		else if (cdb[3] == 0xa3)
			put_be(&cdb[4], 2, chance(70) ? 0x0c : rnd(65536));
		else if (chance(20))
			put_be(&cdb[4], 2, rnd(65536));
		put_be(&cdb[6], 4, pick_alloc(32, 260));
		c->natural = get_be(&cdb[6], 4);
		break;
	case 0xa8:
	case 0xaa:
		cdb[1] = pick_flags(0x1a);
		put_be(&cdb[2], 4, pick_lba(32));
		put_be(&cdb[6], 4, pick_count(32));
		cdb[10] = pick_flags(0x3f);
		c->natural = get_be(&cdb[6], 4) * bs;
		break;
	}
	/* now and then a control byte with reserved bits, or NACA */
	if (chance(3))
		cdb[c->cdb_len - 1] = rnd(256);
}

/* Build a plausible parameter list for UNMAP or MODE SELECT. */
static void gen_param_list(const struct cmd *c, uint8_t *b)
{
	unsigned int len = c->len, i, off;
	uint8_t op = c->cdb[0];

	if (op == 0x42) {
		unsigned int nd = len >= 8 ? (len - 8) / 16 : 0;

		memset(b, 0, len);
		if (len < 8)
			return;
		if (chance(20))
			nd = rnd(nd + 2);
		put_be(&b[0], 2, 6 + 16 * nd);
		put_be(&b[2], 2, 16 * nd);
		if (chance(10))
			put_be(&b[2], 2, rnd(65536));
		for (i = 0; i < nd && 8 + 16 * i + 16 <= len; i++) {
			put_be(&b[8 + 16 * i], 8, pick_lba(64));
			put_be(&b[8 + 16 * i + 8], 4, chance(80) ? rnd(256) : pick_count(32));
		}
		return;
	}
	/* MODE SELECT(6) or (10): header, maybe a block descriptor, pages */
	{
		bool ms10 = op == 0x55;
		unsigned int hdr = ms10 ? 8 : 4;
		bool llba = ms10 && chance(30);
		unsigned int bdl = chance(50) ? 0 : llba ? 16 : 8;

		memset(b, 0, len);
		if (len < hdr)
			return;
		if (ms10) {
			b[4] = llba ? 1 : 0;
			put_be(&b[6], 2, bdl);
		} else {
			b[3] = bdl;
		}
		off = hdr;
		if (bdl && off + bdl <= len) {
			put_be(&b[off + (llba ? 12 : 4)], 4,
			       chance(85) ? flu->bs : rnd(8192));
			off += bdl;
		}
		while (off + 2 <= len) {
			if (chance(50) && off + 20 <= len) {
				b[off] = 0x08;		/* caching */
				b[off + 1] = 18;
				b[off + 2] = rnd(256) & (chance(80) ? 0x05 : 0xff);
				off += 20;
			} else if (off + 12 <= len) {
				b[off] = 0x0a;		/* control */
				b[off + 1] = 10;
				b[off + 2] = 0x02 | (rnd(256) & (chance(80) ? 0x04 : 0xff));
				b[off + 3] = 0x10;
				off += 12;
			} else {
				rnd_fill(&b[off], len - off);
				break;
			}
		}
		if (chance(10))
			b[rnd(len)] = rnd(256);		/* one corrupt byte */
	}
}

static void gen_cmd(struct cmd *c)
{
	const struct op *op = NULL;
	unsigned int r = rnd(100);
	enum dir dir = D_NONE;

	memset(c, 0, sizeof(*c));
	if (r < 75) {
		op = &ops[rnd(ARRAY_SIZE(ops))];
		gen_known(c, op);
		dir = op->dir;
		if (chance(12))
			c->cdb_len = 6 + rnd(11);	/* a length it did not ask for */
	} else {
		/* fully random: opcode, fields and length */
		rnd_fill(c->cdb, sizeof(c->cdb));
		if (r < 85) {
			/* an implemented opcode with random fields */
			op = &ops[rnd(ARRAY_SIZE(ops))];
			c->cdb[0] = op->opcode;
			dir = op->dir;
		}
		c->cdb_len = chance(70) ? cdb_group_len(c->cdb[0]) : 6 + rnd(11);
		c->natural = rnd(4) ? rnd(MAX_XFER + 1) : rnd(4097);
	}
	if (c->cdb_len > 16)
		c->cdb_len = 16;

	/* the data phase: mostly what the command asks for, else anything */
	r = rnd(100);
	if (r < 60)
		c->len = c->natural;
	else if (r < 75)
		c->len = c->natural + rnd(2 * 512 + 1) - 512;
	else if (r < 90)
		c->len = rnd(8193);
	else
		c->len = rnd(MAX_XFER + 1);
	if ((int)c->len < 0 || c->len > MAX_XFER)
		c->len = chance(50) ? MAX_XFER : rnd(MAX_XFER + 1);
	if (chance(85))
		c->len &= ~3U;	/* sg maps 4-byte aligned buffers directly */

	if (chance(80))
		c->sgdir = dir == D_IN ? SG_DXFER_FROM_DEV :
			   dir == D_OUT ? SG_DXFER_TO_DEV : SG_DXFER_NONE;
	else
		c->sgdir = (int[]){ SG_DXFER_NONE, SG_DXFER_TO_DEV,
				    SG_DXFER_FROM_DEV }[rnd(3)];
	if (c->sgdir == SG_DXFER_NONE)
		c->len = 0;	/* sg has no data phase for it whatever the length */
	c->off = chance(70) ? 0 : 4 * rnd(BUF_SLACK / 4);
}

/* ---- checks ---- */
enum check {
	C_IOCTL, C_STATUS, C_HOST, C_DRIVER, C_SENSE, C_RESID, C_CANARY,
	C_DATA_OUT, C_RW_RESID, C_UNKNOWN_OP, C_NR
};

static const char * const check_names[C_NR] = {
	[C_IOCTL] = "every SG_IO ioctl succeeds",
	[C_STATUS] = "every status is GOOD or CHECK CONDITION",
	[C_HOST] = "host_status is 0 (a data direction against the command's is a CHECK CONDITION)",
	[C_DRIVER] = "driver_status is 0, or DRIVER_SENSE with sense data",
	[C_SENSE] = "sense data is well-formed (fixed 70h/71h or descriptor 72h/73h, lengths, field pointers)",
	[C_RESID] = "the residue is within the data length",
	[C_CANARY] = "data-in bytes past the transferred length still hold the canary",
	[C_DATA_OUT] = "data-out buffers are not written to",
	[C_RW_RESID] = "READ/WRITE that succeed move exactly the blocks asked for",
	[C_UNKNOWN_OP] = "unimplemented operation codes get INVALID COMMAND OPERATION CODE",
};

#define ADD(var, n)	__atomic_fetch_add(&(var), (n), __ATOMIC_RELAXED)

static unsigned long fails[C_NR];
static __thread unsigned long cur_index;
static __thread unsigned int cur_thread;
static __thread struct lu *tlu;	/* the fuzzed LU, through this thread's fd */

static void hexcdb(const struct cmd *c, char *s)
{
	unsigned int i;

	for (i = 0; i < c->cdb_len; i++)
		sprintf(s + 2 * i, "%02x", c->cdb[i]);
}

static void report(enum check k, const struct cmd *c, const struct sgio_result *r,
		   const char *fmt, ...)
{
	char cdb[40], msg[200];
	va_list ap;

	if (ADD(fails[k], 1) >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hexcdb(c, cdb);
	ksft_print_msg("thread %u cmd %lu cdb %s dir %d len %u: status %#x host %#x driver %#x resid %d sb_len %u: %s\n",
		       cur_thread, cur_index, cdb, c->sgdir, c->len, r->status,
		       r->host_status, r->driver_status, r->resid,
		       r->sb_len, msg);
}

/* Is the sense data well formed? Returns a reason, or NULL. */
static const char *sense_problem(const struct cmd *c, const struct sgio_result *r)
{
	const uint8_t *s = r->sense;
	unsigned int n = r->sb_len, rc = s[0] & 0x7f, key, len, i;

	if (n < 8)
		return "shorter than 8 bytes";
	len = 8 + s[7];
	if (rc == 0x70 || rc == 0x71) {
		if (s[7] < 10)
			return "fixed format with additional length < 10";
		if (n != (len < SGIO_SENSE_LEN ? len : SGIO_SENSE_LEN))
			return "length copied differs from the additional length";
		key = s[2] & 0xf;
		/* SKSV: the sense-key specific field pointer must be inside */
		if (key == 5 && (s[15] & 0x80)) {
			unsigned int fp = get_be(&s[16], 2);
			unsigned int lim = (s[15] & 0x40) ? c->cdb_len : c->len;

			if (fp >= lim)
				return "field pointer out of the CDB or list";
			if ((s[15] & 0x08) == 0 && (s[15] & 0x07))
				return "bit pointer without BPV";
		}
		if (rc == 0x71)
			return "deferred error";
	} else if (rc == 0x72 || rc == 0x73) {
		key = s[1] & 0xf;
		if (n != (len < SGIO_SENSE_LEN ? len : SGIO_SENSE_LEN))
			return "length copied differs from the additional length";
		for (i = 8; i + 2 <= len && i + 2 <= n; i += 2 + s[i + 1]) {
			if (i + 2 + s[i + 1] > len)
				return "descriptor overruns the additional length";
			/* sense-key specific: the field pointer must be inside */
			if (s[i] == 2 && s[i + 1] == 6 && i + 8 <= n &&
			    key == 5 && (s[i + 4] & 0x80)) {
				unsigned int fp = get_be(&s[i + 5], 2);

				if (fp >= ((s[i + 4] & 0x40) ? c->cdb_len : c->len))
					return "field pointer out of the CDB or list";
			}
		}
		if (i != len && len <= n)
			return "descriptors do not fill the additional length";
		if (rc == 0x73)
			return "deferred error";
	} else {
		return "bad response code";
	}
	switch (key) {
	case 0x2:	/* NOT READY */
	case 0x5:	/* ILLEGAL REQUEST */
	case 0x6:	/* UNIT ATTENTION */
	case 0xb:	/* ABORTED COMMAND */
	case 0xe:	/* MISCOMPARE */
		return NULL;
	}
	return "unexpected sense key";
}

/* the data phase direction an implemented command has, if any */
static enum dir cmd_phase(const struct cmd *c)
{
	const struct op *op = find_op(c->cdb[0]);

	return op ? op->dir : D_NONE;
}

/* commands with a data phase against the direction given; of them CHECK */
static unsigned long n_against, n_against_cc;

static void check(const struct cmd *c, const struct sgio_result *r, uint8_t c0,
		  bool in, bool out)
{
	const struct op *op = find_op(c->cdb[0]);
	enum dir ph = cmd_phase(c);
	bool against = c->len &&
		((ph == D_IN && c->sgdir == SG_DXFER_TO_DEV) ||
		 (ph == D_OUT && (c->sgdir == SG_DXFER_FROM_DEV ||
				  c->sgdir == SG_DXFER_TO_FROM_DEV)));
	unsigned int moved;
	long bad;

	if (r->ret) {
		report(C_IOCTL, c, r, "ioctl: %s", strerror(-r->ret));
		return;
	}
	if (against) {
		ADD(n_against, 1);
		ADD(n_against_cc, !r->host_status && r->status == CHECK_COND);
	}
	if (r->host_status) {
		report(C_HOST, c, r, "host_status %#x%s", r->host_status,
		       against ? " for a data phase against the direction given" : "");
	} else if (r->status != GOOD && r->status != CHECK_COND) {
		report(C_STATUS, c, r, "status %#x", r->status);
	}
	if (r->driver_status &&
	    !(r->driver_status == DRV_SENSE && r->status == CHECK_COND))
		report(C_DRIVER, c, r, "driver_status %#x", r->driver_status);
	if (r->status == CHECK_COND) {
		const char *why = sense_problem(c, r);

		if (why)
			report(C_SENSE, c, r, "sense %02x %02x %02x .. %02x: %s",
			       r->sense[0], r->sense[1], r->sense[2],
			       r->sense[12], why);
	} else if (r->sb_len) {
		report(C_SENSE, c, r, "sense data with status %#x", r->status);
	}
	if (!op && !r->host_status &&
	    !(r->status == CHECK_COND &&
	      ((sense_key(r) == 5 && sense_asc(r) == 0x20) || sense_key(r) == 6)))
		report(C_UNKNOWN_OP, c, r, "opcode %#x not refused", c->cdb[0]);

	if (r->resid < 0 || (unsigned int)r->resid > c->len) {
		report(C_RESID, c, r, "resid out of range");
		return;
	}
	moved = c->len - r->resid;
	if (in) {
		bad = canary_broken(data_area + c->off, moved, c->len, c0);
		if (bad >= 0)
			report(C_CANARY, c, r, "byte %ld of %u overwritten (resid says %u moved)",
			       bad, c->len, moved);
	}
	if (out && memcmp(data_area + c->off, copy_area, c->len))
		report(C_DATA_OUT, c, r, "data-out buffer changed");
	if (is_rw(c->cdb[0]) && !r->host_status && r->status == GOOD &&
	    c->cdb_len >= cdb_group_len(c->cdb[0])) {
		uint64_t n;

		switch (c->cdb[0] >> 5) {
		case 0: n = c->cdb[4] ? c->cdb[4] : 256; break;
		case 1: n = get_be(&c->cdb[7], 2); break;
		case 4: n = get_be(&c->cdb[10], 4); break;
		default: n = get_be(&c->cdb[6], 4); break;
		}
		if (moved != n * flu->bs)
			report(C_RW_RESID, c, r, "%u bytes moved for %" PRIu64 " blocks",
			       moved, n);
	}
}

/* ---- statistics ---- */
static unsigned long n_good, n_check, n_other, n_dio, n_in_checked;
static unsigned long n_keys[16], n_known, n_random;
static unsigned long op_sent[ARRAY_SIZE(ops)], op_good[ARRAY_SIZE(ops)];

/* Make COMPARE AND WRITE and VERIFY compare equal now and then. */
static void preread(const struct cmd *c, uint8_t *buf)
{
	uint64_t lba = get_be(&c->cdb[2], c->cdb[0] == 0x2f ? 4 : 8);
	uint32_t n, bytes;

	if (c->cdb[0] == 0x89) {
		n = c->cdb[13];
		bytes = n * flu->bs;
		if (2 * bytes > c->len || !n)
			return;
	} else {
		uint8_t bytchk = (c->cdb[1] >> 1) & 3;

		n = c->cdb[0] == 0x2f ? get_be(&c->cdb[7], 2) : get_be(&c->cdb[10], 4);
		if (bytchk == 3)
			n = 1;
		bytes = n * flu->bs;
		if (bytchk == 0 || !n || bytes > c->len || bytes > MAX_XFER)
			return;
	}
	if (lba >= flu->nr_blocks || n > flu->nr_blocks - lba)
		return;
	rw16(tlu, false, lba, n, buf);
}

struct fuzz_thread {
	unsigned int id;
	pthread_t tid;
	uint64_t seed;
	unsigned long count;
	struct lu lu;
};

/* One thread's share of the commands, on its own sg file descriptor. */
static void *fuzz_thread(void *arg)
{
	struct fuzz_thread *t = arg;
	unsigned long i;
	unsigned int k;

	rng_state = t->seed;
	cur_thread = t->id;
	tlu = &t->lu;
	if (!alloc_areas()) {
		ksft_print_msg("thread %u: out of memory\n", t->id);
		ADD(fails[C_IOCTL], 1);
		return NULL;
	}
	for (i = 0; i < t->count; i++) {
		struct cmd c;
		struct sgio_result r;
		uint8_t c0 = rnd(256);
		bool in, out, direct;

		cur_index = i;
		gen_cmd(&c);
		if (find_op(c.cdb[0]))
			ADD(n_known, 1);
		else
			ADD(n_random, 1);
		in = c.sgdir == SG_DXFER_FROM_DEV && c.len;
		out = c.sgdir == SG_DXFER_TO_DEV && c.len;
		if (in) {
			canary_fill(data_area + c.off, c.len, c0);
		} else if (out) {
			if (c.structured)
				gen_param_list(&c, data_area + c.off);
			else
				rnd_fill(data_area + c.off, c.len);
			if ((c.cdb[0] == 0x89 || c.cdb[0] == 0x2f || c.cdb[0] == 0x8f) &&
			    chance(50))
				preread(&c, data_area + c.off);
			memcpy(copy_area, data_area + c.off, c.len);
		}
		sg_io(tlu->fd, c.cdb, c.cdb_len, c.sgdir, data_area + c.off, c.len,
		      SG_FLAG_DIRECT_IO, &r);
		direct = !r.ret && r.direct;
		ADD(n_dio, direct);
		/*
		 * A bounced data-in buffer comes back whole from sg's own
		 * buffer: only a directly mapped one shows what the HBA wrote.
		 */
		in = in && direct;
		ADD(n_in_checked, in);
		check(&c, &r, c0, in, out);
		if (find_op(c.cdb[0])) {
			k = find_op(c.cdb[0]) - ops;
			ADD(op_sent[k], 1);
			ADD(op_good[k], !r.ret && !r.host_status && r.status == GOOD);
		}
		if (!r.ret && !r.host_status && r.status == GOOD)
			ADD(n_good, 1);
		else if (!r.ret && !r.host_status && r.status == CHECK_COND)
			ADD(n_check, 1), ADD(n_keys[sense_key(&r) & 0xf], 1);
		else
			ADD(n_other, 1);
	}
	free(data_area);
	free(copy_area);
	return NULL;
}

static int fuzz(struct lu *lus, int nlus)
{
	unsigned long count = 10000;
	unsigned int nthreads = 4;
	struct fuzz_thread th[16];
	struct lu *wit = nlus > 1 ? &lus[1] : NULL;
	uint64_t seed, wit_lbas[4];
	uint8_t *wbuf, *rbuf, *witbuf;
	struct timespec t0, t1;
	bool ok, wit_ok = true;
	unsigned int k;
	double secs;
	char *e;

	e = getenv("DMAHBA_FUZZ_COUNT");
	if (e && *e)
		count = strtoul(e, NULL, 0);
	e = getenv("DMAHBA_FUZZ_THREADS");
	if (e && *e)
		nthreads = strtoul(e, NULL, 0);
	if (nthreads < 1 || nthreads > ARRAY_SIZE(th))
		nthreads = nthreads < 1 ? 1 : ARRAY_SIZE(th);
	e = getenv("DMAHBA_FUZZ_SEED");
	seed = e && *e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (!seed)
		seed = 1;
	rng_state = seed;

	flu = &lus[0];
	max_xfer_blocks = 2048 * 512 / flu->bs;
	ksft_print_msg("seed %" PRIu64 " (DMAHBA_FUZZ_SEED=%" PRIu64 " DMAHBA_FUZZ_THREADS=%u replay this run)\n",
		       seed, seed, nthreads);
	ksft_print_msg("fuzzing %s (LUN %u, %" PRIu64 " blocks of %u bytes), %lu commands from %u threads; witness %s\n",
		       flu->path, flu->lun, flu->nr_blocks, flu->bs, count, nthreads,
		       wit ? wit->path : "none");
	ksft_set_plan(C_NR + 3);

	if (!enable_dio())
		ksft_print_msg("sg direct I/O unavailable: no data-in buffer can be checked\n");

	wbuf = malloc(64 * 4096);
	rbuf = malloc(64 * 4096);
	witbuf = malloc(4 * 8 * 4096);
	if (!wbuf || !rbuf || !witbuf)
		ksft_exit_fail_msg("out of memory\n");

	/* the witness: a pattern at the start, middle and end of LUN 1 */
	if (wit) {
		wit_lbas[0] = 0;
		wit_lbas[1] = wit->nr_blocks / 2;
		wit_lbas[2] = wit->nr_blocks - 8;
		/* anywhere else, but not over the middle one */
		do {
			wit_lbas[3] = 8 + rnd(wit->nr_blocks - 24);
		} while (wit_lbas[3] + 8 > wit_lbas[1] &&
			 wit_lbas[3] < wit_lbas[1] + 8);
		for (k = 0; k < 4; k++) {
			rnd_fill(witbuf + k * 8 * wit->bs, 8 * wit->bs);
			wit_ok &= rw16(wit, true, wit_lbas[k], 8, witbuf + k * 8 * wit->bs);
		}
		if (!wit_ok)
			ksft_print_msg("writing the witness pattern failed\n");
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < nthreads; k++) {
		th[k].id = k;
		th[k].seed = seed + k * 0x9E3779B97F4A7C15ULL;
		th[k].count = count / nthreads + (k < count % nthreads);
		th[k].lu = *flu;
		th[k].lu.fd = k ? open(flu->path, O_RDWR) : flu->fd;
		if (th[k].lu.fd < 0 ||
		    pthread_create(&th[k].tid, NULL, fuzz_thread, &th[k]))
			ksft_exit_fail_msg("thread %u: %s\n", k, strerror(errno));
	}
	for (k = 0; k < nthreads; k++) {
		pthread_join(th[k].tid, NULL);
		if (k)
			close(th[k].lu.fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

	ksft_print_msg("%lu commands in %.1f s (%.0f/s): %lu implemented opcodes, %lu others\n",
		       count, secs, count / secs, n_known, n_random);
	ksft_print_msg("GOOD %lu, CHECK CONDITION %lu (NOT READY %lu, ILLEGAL REQUEST %lu, UNIT ATTENTION %lu, ABORTED %lu, MISCOMPARE %lu), other %lu\n",
		       n_good, n_check, n_keys[2], n_keys[5], n_keys[6], n_keys[0xb],
		       n_keys[0xe], n_other);
	ksft_print_msg("%lu data-in buffers checked for the canary, %lu commands with direct I/O\n",
		       n_in_checked, n_dio);
	ksft_print_msg("%lu commands with a data phase against the direction given, %lu answered CHECK CONDITION\n",
		       n_against, n_against_cc);
	{
		char line[400];
		int pos = 0;

		/* how deep each implemented command got: GOOD / sent */
		for (k = 0; k < ARRAY_SIZE(ops); k++) {
			pos += snprintf(line + pos, sizeof(line) - pos, " %02x:%lu/%lu",
					ops[k].opcode, op_good[k], op_sent[k]);
			if (k % 8 == 7 || k == ARRAY_SIZE(ops) - 1) {
				ksft_print_msg("GOOD/sent by opcode:%s\n", line);
				pos = 0;
			}
		}
	}

	for (k = 0; k < C_NR; k++) {
		if (fails[k])
			ksft_test_result_fail("%s (%lu failures)\n", check_names[k], fails[k]);
		else
			ksft_test_result_pass("%s\n", check_names[k]);
	}
	if (count < 10000 && getenv("DMAHBA_FUZZ_COUNT"))
		ksft_test_result_skip("at least 10000 CDBs sent (DMAHBA_FUZZ_COUNT=%lu)\n", count);
	else
		ksft_test_result(count >= 10000, "at least 10000 CDBs sent (%lu)\n", count);

	/* the fuzzed LU still serves correct data */
	ok = start_unit(flu);
	if (!ok)
		ksft_print_msg("START STOP UNIT (start) failed after fuzzing\n");
	{
		uint64_t lbas[4] = { 0, flu->nr_blocks / 2, flu->nr_blocks - 64,
				     rnd(flu->nr_blocks - 64) };
		unsigned int nb = 64 * 4096 / flu->bs;

		if (nb > 64)
			nb = 64;
		lbas[2] = flu->nr_blocks - nb;
		for (k = 0; k < 4 && ok; k++) {
			if (lbas[3] + nb > flu->nr_blocks)
				lbas[3] = 0;
			rnd_fill(wbuf, nb * flu->bs);
			memset(rbuf, 0xa5, nb * flu->bs);
			ok = rw16(flu, true, lbas[k], nb, wbuf) &&
			     rw16(flu, false, lbas[k], nb, rbuf) &&
			     !memcmp(wbuf, rbuf, nb * flu->bs);
			if (!ok)
				ksft_print_msg("LBA %" PRIu64 ": write and read back failed\n",
					       lbas[k]);
		}
	}
	ksft_test_result(ok, "the fuzzed LU serves correct data afterwards\n");

	if (wit) {
		for (k = 0; k < 4 && wit_ok; k++) {
			memset(rbuf, 0xa5, 8 * wit->bs);
			if (!rw16(wit, false, wit_lbas[k], 8, rbuf) ||
			    memcmp(rbuf, witbuf + k * 8 * wit->bs, 8 * wit->bs)) {
				wit_ok = false;
				ksft_print_msg("witness LBA %" PRIu64 " does not read back\n",
					       wit_lbas[k]);
			}
		}
		ksft_test_result(wit_ok, "the other LU's data is intact\n");
	} else {
		ksft_test_result_skip("the other LU's data is intact (only one LU)\n");
	}
	free(wbuf);
	free(rbuf);
	free(witbuf);
	ksft_finished();
	return 0;
}

/* ---- canary mode: is every byte of a response defined? ---- */

/*
 * Leave freed kernel buffers of every size up to 4 KiB full of a pattern
 * that depends on @c0: MODE SELECT(10) parameter lists (copied into a
 * buffer of the emulation, then refused for their block descriptor length
 * of 5). A response built in a buffer that is not cleared would then differ
 * between the two calls.
 */
static void poison(int fd, uint8_t c0)
{
	static const unsigned int sizes[] = {
		8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096
	};
	static uint8_t list[4096] __attribute__((aligned(4096)));
	uint8_t cdb[10] = { 0x55, 0x10 };
	struct sgio_result r;
	unsigned int i, k;

	memset(list, c0 ^ 0xa5, sizeof(list));
	list[0] = list[1] = 0;
	list[6] = 0;
	list[7] = 5;
	for (k = 0; k < 4; k++) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			put_be(&cdb[7], 2, sizes[i]);
			sg_io(fd, cdb, sizeof(cdb), SG_DXFER_TO_DEV, list, sizes[i],
			      SG_FLAG_DIRECT_IO, &r);
		}
	}
}

static int canary_mode(const char *dev, const char *hex, const char *lenarg)
{
	uint8_t cdb[16], c0[2] = { 0x00, 0xff };
	unsigned int cdb_len = 0, len, i, moved[2] = { 0, 0 };
	struct sgio_result r[2];
	static uint8_t out[2][MAX_XFER];
	bool dio = enable_dio();
	int fd, rc = 0;

	if (!alloc_areas())
		return 2;
	long bad;

	while (hex[0] && hex[1] && cdb_len < sizeof(cdb)) {
		if (sscanf(hex, "%2hhx", &cdb[cdb_len]) != 1)
			break;
		cdb_len++;
		hex += 2;
	}
	len = strtoul(lenarg, NULL, 0);
	if (cdb_len < 6 || *hex || len > MAX_XFER) {
		fprintf(stderr, "usage: cdb_fuzz canary SGDEV CDB_HEX DXFER_LEN (6-16 byte CDB, <= %u)\n",
			MAX_XFER);
		return 2;
	}
	fd = open(dev, O_RDWR);
	if (fd < 0) {
		perror(dev);
		return 2;
	}
	for (i = 0; i < 2; i++) {
		/* READ data comes from the medium, not from an emulation buffer */
		if (!is_rw(cdb[0]))
			poison(fd, c0[i]);
		canary_fill(data_area, len, c0[i]);
		sg_io(fd, cdb, cdb_len, SG_DXFER_FROM_DEV, data_area, len,
		      SG_FLAG_DIRECT_IO, &r[i]);
		if (r[i].ret) {
			printf("ioctl: %s\n", strerror(-r[i].ret));
			return 1;
		}
		if (len && (!dio || !r[i].direct)) {
			printf("sg bounced the buffer (no direct I/O): cannot check it\n");
			return 4;
		}
		if (r[i].resid < 0 || (unsigned int)r[i].resid > len) {
			printf("resid %d out of range\n", r[i].resid);
			return 1;
		}
		moved[i] = len - r[i].resid;
		memcpy(out[i], data_area, len);
		bad = canary_broken(data_area, moved[i], len, c0[i]);
		if (bad >= 0) {
			printf("byte %ld past the %u bytes moved was overwritten\n", bad, moved[i]);
			rc = 1;
		}
	}
	printf("status %#x host %#x driver %#x resid %d moved %u sense",
	       r[0].status, r[0].host_status, r[0].driver_status,
	       r[0].resid, moved[0]);
	for (i = 0; i < (unsigned int)r[0].sb_len; i++)
		printf(" %02x", r[0].sense[i]);
	printf("\n");
	if (moved[0] <= 4096) {
		printf("data");
		for (i = 0; i < moved[0]; i++)
			printf(" %02x", out[0][i]);
		printf("\n");
	}
	/* one character per 512 bytes: '.' zeros, the byte if all the same letter */
	printf("blocks ");
	for (i = 0; i + 512 <= moved[0]; i += 512) {
		uint8_t b = out[0][i];
		unsigned int j;

		for (j = 1; j < 512 && out[0][i + j] == b; j++)
			;
		putchar(j < 512 ? 'x' : !b ? '.' :
			(b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ? b : 'u');
	}
	printf("\n");
	if (r[0].status != r[1].status || moved[0] != moved[1] ||
	    r[0].host_status != r[1].host_status ||
	    r[0].sb_len != r[1].sb_len ||
	    memcmp(r[0].sense, r[1].sense, r[0].sb_len)) {
		printf("the two calls differ in status, residue or sense data\n");
		return 1;
	}
	for (i = 0; i < moved[0]; i++) {
		if (out[0][i] != out[1][i]) {
			printf("byte %u differs between the two calls (%02x, %02x): not defined\n",
			       i, out[0][i], out[1][i]);
			return 1;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct lu lus[8];
	int n, i, fuzz_args = 1;

	if (argc > 1 && !strcmp(argv[1], "canary"))
		return argc == 5 ? canary_mode(argv[2], argv[3], argv[4]) :
				   canary_mode("", "", "0");
	if (argc > 1 && !strcmp(argv[1], "fuzz"))
		fuzz_args = 2;

	ksft_print_header();
	if (geteuid())
		ksft_exit_skip("needs root (SG_IO on /dev/sg*)\n");
	if (argc > fuzz_args) {
		memset(lus, 0, sizeof(lus));
		for (n = 0; n < 2 && fuzz_args + n < argc; n++)
			snprintf(lus[n].path, sizeof(lus[n].path), "%s", argv[fuzz_args + n]);
	} else {
		n = find_lus(lus, ARRAY_SIZE(lus));
		if (!n)
			ksft_exit_skip("no dmahba LU with a /dev/sg node (load softdma and dmahba, and sg)\n");
	}
	if (n > 2)
		n = 2;
	for (i = 0; i < n; i++)
		if (!open_lu(&lus[i]))
			ksft_exit_fail_msg("%s: cannot open or read its capacity: %s\n",
					   lus[i].path, strerror(errno));
	return fuzz(lus, n);
}
