/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgio.h - one SG_IO helper for the C tests (scsi_cmds_test.c, cdb_fuzz.c):
 * open a /dev/sgN, issue a CDB with a direction, a buffer and a timeout,
 * and read back status, host and driver status, residue and sense data;
 * parse fixed-format (70h/71h) and descriptor-format (72h/73h) sense.
 */
#ifndef DMAHBA_SELFTEST_SGIO_H
#define DMAHBA_SELFTEST_SGIO_H

#include <stdbool.h>
#include <stdint.h>
#include <scsi/sg.h>

#define SGIO_SENSE_LEN		64
#define SGIO_TIMEOUT_MS		60000

/* SCSI status and the host byte values the tests look at */
#define SAM_GOOD		0x00
#define SAM_CHECK_CONDITION	0x02
#define SGIO_DID_ERROR		0x07
#define SGIO_DRIVER_SENSE	0x08

#define KEY_NO_SENSE		0x0
#define KEY_NOT_READY		0x2
#define KEY_ILLEGAL_REQUEST	0x5
#define KEY_UNIT_ATTENTION	0x6
#define KEY_ABORTED_COMMAND	0xb
#define KEY_MISCOMPARE		0xe

/* What one SG_IO call returned */
struct sgio_result {
	int ret;		/* 0, or -errno of the ioctl */
	int status;		/* SCSI status */
	int host_status;
	int driver_status;
	int resid;
	int sb_len;		/* sense bytes written */
	bool direct;		/* the buffer was mapped, not copied */
	uint8_t sense[SGIO_SENSE_LEN];
};

/* Sense data, parsed */
struct sgio_sense {
	bool valid;		/* a response code 70h..73h, 8 bytes or more */
	bool desc;		/* descriptor format */
	bool deferred;		/* 71h or 73h */
	uint8_t key, asc, ascq;
	bool info_valid;
	uint64_t info;		/* the INFORMATION field */
	bool sks_valid;		/* SKSV set */
	uint8_t sks[3];		/* the sense-key-specific bytes, SKSV included */
};

int sgio_open(const char *dev);
int sgio_cmd(int fd, const uint8_t *cdb, unsigned int cdb_len, int dir,
	     void *buf, unsigned int len, unsigned int timeout_ms,
	     unsigned int flags, struct sgio_result *r);
const uint8_t *sgio_sense_desc(const uint8_t *s, int sb_len, int type);
void sgio_sense_parse(const uint8_t *s, int sb_len, struct sgio_sense *ss);

/* The sense of a result, parsed */
static inline struct sgio_sense sgio_sense(const struct sgio_result *r)
{
	struct sgio_sense ss;

	sgio_sense_parse(r->sense, r->sb_len, &ss);
	return ss;
}

#endif /* DMAHBA_SELFTEST_SGIO_H */
