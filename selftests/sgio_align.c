// SPDX-License-Identifier: GPL-2.0
/*
 * sgio_align.c - SG_IO with buffers at odd offsets (constraints_test.sh).
 *
 * Usage: sgio_align /dev/sgN BLOCK_SIZE LBA
 *
 * For a few buffer offsets (0, 1, 3, 61, 511, 4095) and lengths of one to
 * 33 blocks: WRITE(10) a pattern from a buffer at that offset, READ(10) it
 * back into a buffer at another odd offset, and compare; both by direct I/O
 * when the block layer can (SG_FLAG_DIRECT_IO), else it bounces the buffer.
 * Then INQUIRY with odd allocation lengths into odd buffers must return the
 * same bytes as with an aligned one (an emulation buffer whose length the
 * channel's copy alignment does not allow). Every command must end GOOD
 * with the right data: a channel constraint slows a transfer, it never
 * fails one. Prints one line per failure; exit 0 if none, 1 otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sgio.h"

#define MAX_BLOCKS	33
#define SLACK		8192

static int failures;

static void rw10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t n)
{
	memset(cdb, 0, 10);
	cdb[0] = op;
	cdb[2] = lba >> 24;
	cdb[3] = lba >> 16;
	cdb[4] = lba >> 8;
	cdb[5] = lba;
	cdb[7] = n >> 8;
	cdb[8] = n;
}

static bool good(const char *what, const struct sgio_result *r,
		 unsigned int off, unsigned int len)
{
	struct sgio_sense ss;

	if (!r->ret && r->status == SAM_GOOD && !r->host_status &&
	    !(r->driver_status & ~SGIO_DRIVER_SENSE))
		return true;
	ss = sgio_sense(r);
	printf("FAIL %s offset %u length %u: ret %d status 0x%x host 0x%x driver 0x%x sense %x/%02x/%02x\n",
	       what, off, len, r->ret, r->status, r->host_status,
	       r->driver_status, ss.key, ss.asc, ss.ascq);
	failures++;
	return false;
}

int main(int argc, char **argv)
{
	static const unsigned int offs[] = { 0, 1, 3, 61, 511, 4095 };
	static const unsigned int nblk[] = { 1, 3, 8, 33 };
	static const unsigned int alloc[] = { 5, 36, 37, 63, 255 };
	uint8_t *wmem, *rmem, ref[256], cdb[10];
	unsigned int bs, lba, i, j, k, len, seed = 1;
	struct sgio_result r;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s /dev/sgN BLOCK_SIZE LBA\n", argv[0]);
		return 2;
	}
	fd = sgio_open(argv[1]);
	bs = strtoul(argv[2], NULL, 0);
	lba = strtoul(argv[3], NULL, 0);
	if (fd < 0 || !bs)
		return 2;
	if (posix_memalign((void **)&wmem, 4096, MAX_BLOCKS * bs + SLACK) ||
	    posix_memalign((void **)&rmem, 4096, MAX_BLOCKS * bs + SLACK))
		return 2;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (j = 0; j < sizeof(nblk) / sizeof(nblk[0]); j++) {
			unsigned int woff = offs[i];
			unsigned int roff = offs[(i + j + 1) % 6];
			uint8_t *w = wmem + woff, *rd = rmem + roff;

			len = nblk[j] * bs;
			for (k = 0; k < len; k++) {
				seed = seed * 1103515245 + 12345;
				w[k] = seed >> 16;
			}
			memset(rd, 0xa5, len);
			rw10(cdb, 0x2a, lba, nblk[j]);
			sgio_cmd(fd, cdb, 10, SG_DXFER_TO_DEV, w, len, 0,
				 SG_FLAG_DIRECT_IO, &r);
			if (!good("WRITE(10)", &r, woff, len))
				continue;
			rw10(cdb, 0x28, lba, nblk[j]);
			sgio_cmd(fd, cdb, 10, SG_DXFER_FROM_DEV, rd, len, 0,
				 SG_FLAG_DIRECT_IO, &r);
			if (!good("READ(10)", &r, roff, len))
				continue;
			if (memcmp(w, rd, len)) {
				printf("FAIL READ(10) offset %u length %u: data differ from WRITE(10) at offset %u\n",
				       roff, len, woff);
				failures++;
			}
		}
	}

	/* INQUIRY: the reference into an aligned buffer, then odd ones */
	memset(cdb, 0, 6);
	cdb[0] = 0x12;
	cdb[4] = sizeof(ref) - 1;
	sgio_cmd(fd, cdb, 6, SG_DXFER_FROM_DEV, ref, sizeof(ref) - 1, 0, 0, &r);
	if (good("INQUIRY", &r, 0, sizeof(ref) - 1)) {
		for (i = 0; i < sizeof(alloc) / sizeof(alloc[0]); i++) {
			uint8_t *rd = rmem + offs[i % 6];

			memset(rd, 0xa5, alloc[i]);
			cdb[4] = alloc[i];
			sgio_cmd(fd, cdb, 6, SG_DXFER_FROM_DEV, rd, alloc[i], 0,
				 0, &r);
			if (good("INQUIRY", &r, offs[i % 6], alloc[i]) &&
			    memcmp(rd, ref, alloc[i] - r.resid)) {
				printf("FAIL INQUIRY offset %u length %u: data differ\n",
				       offs[i % 6], alloc[i]);
				failures++;
			}
		}
	}
	close(fd);
	printf("sgio_align: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
