// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_spc.c - the primary commands (SPC) of the mock disk's emulation:
 * TEST UNIT READY, INQUIRY with its VPD pages, REQUEST SENSE, REPORT LUNS,
 * MODE SENSE and MODE SELECT, REPORT SUPPORTED OPERATION CODES. Responses
 * are built in the command's zeroed emulation buffer and returned through
 * a data phase (dmahba_emu_data_in()); parameter lists arrive the same way
 * (dmahba_emu_data_out()). It calls dmahba_emu.c only; the dispatcher
 * (dmahba_scsi.c) calls it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_common.h>
#include <scsi/scsi_proto.h>

#include "compat.h"
#include "dmahba_emu.h"

#define DMAHBA_SPC_VENDOR	"Linux   "		/* 8 bytes */
#define DMAHBA_SPC_PRODUCT	"dmahba          "	/* 16 bytes */
#define DMAHBA_SPC_REVISION	"0100"			/* 4 bytes */

#define DMAHBA_SPC_STD_LEN	96	/* standard INQUIRY data */
#define DMAHBA_SPC_VPD_LEN	128	/* the largest VPD page we build */

/* the caching (08h) and control (0Ah) mode pages */
#define DMAHBA_SPC_CACHING	0x08
#define DMAHBA_SPC_CACHING_LEN	20
#define DMAHBA_SPC_CONTROL	0x0a
#define DMAHBA_SPC_CONTROL_LEN	12
#define DMAHBA_SPC_ALL_PAGES	0x3f

#define DMAHBA_SPC_WCE		0x04	/* caching page byte 2 */
#define DMAHBA_SPC_RCD		0x01
#define DMAHBA_SPC_D_SENSE	0x04	/* control page byte 2 */

/* mode page values that are not state: defaults and changeable bits */
static const u8 dmahba_spc_caching_def[DMAHBA_SPC_CACHING_LEN] = {
	DMAHBA_SPC_CACHING, DMAHBA_SPC_CACHING_LEN - 2, DMAHBA_SPC_WCE,
};

static const u8 dmahba_spc_caching_chg[DMAHBA_SPC_CACHING_LEN] = {
	DMAHBA_SPC_CACHING, DMAHBA_SPC_CACHING_LEN - 2,
	DMAHBA_SPC_WCE | DMAHBA_SPC_RCD,
};

static const u8 dmahba_spc_control_def[DMAHBA_SPC_CONTROL_LEN] = {
	DMAHBA_SPC_CONTROL, DMAHBA_SPC_CONTROL_LEN - 2,
	0x02,			/* GLTSD: no log parameters are saved */
	0x10,			/* QUEUE ALGORITHM MODIFIER: unrestricted */
};

static const u8 dmahba_spc_control_chg[DMAHBA_SPC_CONTROL_LEN] = {
	DMAHBA_SPC_CONTROL, DMAHBA_SPC_CONTROL_LEN - 2, DMAHBA_SPC_D_SENSE,
};

/**
 * struct dmahba_spc_modes - the changeable mode parameters of a unit
 * @wce: write cache enabled
 * @rcd: read cache disabled
 * @d_sense: descriptor-format sense data
 */
struct dmahba_spc_modes {
	bool wce;
	bool rcd;
	bool d_sense;
};

static void dmahba_spc_modes_get(struct dmahba_lu *lu,
				 struct dmahba_spc_modes *m)
{
	unsigned long flags;

	spin_lock_irqsave(&lu->lock, flags);
	m->wce = lu->wce;
	m->rcd = lu->rcd;
	m->d_sense = lu->d_sense;
	spin_unlock_irqrestore(&lu->lock, flags);
}

static enum dmahba_scsi_ret dmahba_spc_std_inquiry(struct dmahba_scsi_cmd *sc,
						   u32 alloc)
{
	u8 *b = dmahba_emu_alloc(sc, DMAHBA_SPC_STD_LEN);

	if (!b)
		return DMAHBA_SCSI_BUSY;
	b[0] = TYPE_DISK;
	b[2] = 0x06;			/* VERSION: SPC-4 */
	b[3] = 0x10 | 0x02;		/* HISUP, RESPONSE DATA FORMAT 2 */
	b[4] = DMAHBA_SPC_STD_LEN - 5;
	b[7] = 0x02;			/* CMDQUE */
	memcpy(&b[8], DMAHBA_SPC_VENDOR, 8);
	memcpy(&b[16], DMAHBA_SPC_PRODUCT, 16);
	memcpy(&b[32], DMAHBA_SPC_REVISION, 4);
	put_unaligned_be16(0x00a0, &b[58]);	/* SAM-5 */
	put_unaligned_be16(0x0460, &b[60]);	/* SPC-4 */
	put_unaligned_be16(0x04c0, &b[62]);	/* SBC-3 */
	return dmahba_emu_data_in(sc, DMAHBA_SPC_STD_LEN, alloc);
}

/* VPD 83h: a T10 vendor ID and an NAA (locally assigned) designator */
static u32 dmahba_spc_vpd_devid(const struct dmahba_lu *lu, u8 *b)
{
	u8 *d = &b[4];
	u64 naa;

	d[0] = 0x02;			/* CODE SET: ASCII */
	d[1] = 0x01;			/* LU, T10 VENDOR ID */
	d[3] = 8 + DMAHBA_EMU_SERIAL_LEN;
	memcpy(&d[4], DMAHBA_SPC_VENDOR, 8);
	memcpy(&d[12], lu->serial, DMAHBA_EMU_SERIAL_LEN);
	d += 4 + d[3];

	naa = 3ULL << 60 | 0xd3aba0ULL << 36 |
	      (u64)(lu->p.host_no & 0xfffff) << 16 | (lu->p.lun & 0xffff);
	d[0] = 0x01;			/* CODE SET: binary */
	d[1] = 0x03;			/* LU, NAA */
	d[3] = 8;
	put_unaligned_be64(naa, &d[4]);
	d += 4 + d[3];
	return d - b;
}

/* VPD B0h: block limits */
static u32 dmahba_spc_vpd_limits(const struct dmahba_lu *lu, u8 *b)
{
	u32 bs = lu->p.block_size;

	b[4] = 0x01;			/* WSNZ: WRITE SAME of 0 blocks refused */
	b[5] = DMAHBA_EMU_MAX_CAW_BYTES / bs;
	put_unaligned_be16(PAGE_SIZE / bs, &b[6]);
	put_unaligned_be32(lu->p.max_xfer_blocks, &b[8]);
	put_unaligned_be32(dmahba_emu_max_unmap_blocks(lu), &b[20]);
	put_unaligned_be32(DMAHBA_EMU_MAX_UNMAP_DESC, &b[24]);
	put_unaligned_be32(PAGE_SIZE / bs, &b[28]);	/* unmap granularity */
	put_unaligned_be32(0x80000000, &b[32]);	/* UGAVALID, alignment 0 */
	put_unaligned_be64(DMAHBA_EMU_MAX_WS_BLOCKS, &b[36]);
	return 64;
}

static enum dmahba_scsi_ret dmahba_spc_vpd(struct dmahba_scsi_cmd *sc,
					   u8 page, u32 alloc)
{
	static const u8 pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
	struct dmahba_lu *lu = sc->lu;
	u32 len;
	u8 *b;

	if (!memchr(pages, page, sizeof(pages)))
		return dmahba_emu_bad_cdb(sc, 2, 7);
	b = dmahba_emu_alloc(sc, DMAHBA_SPC_VPD_LEN);
	if (!b)
		return DMAHBA_SCSI_BUSY;
	b[0] = TYPE_DISK;
	b[1] = page;
	switch (page) {
	case 0x00:			/* supported VPD pages (never 89h) */
		memcpy(&b[4], pages, sizeof(pages));
		len = 4 + sizeof(pages);
		break;
	case 0x80:			/* unit serial number */
		memcpy(&b[4], lu->serial, DMAHBA_EMU_SERIAL_LEN);
		len = 4 + DMAHBA_EMU_SERIAL_LEN;
		break;
	case 0x83:
		len = dmahba_spc_vpd_devid(lu, b);
		break;
	case 0xb0:
		len = dmahba_spc_vpd_limits(lu, b);
		break;
	case 0xb1:			/* block device characteristics */
		put_unaligned_be16(0x0001, &b[4]);	/* non-rotating */
		len = 64;
		break;
	default:			/* b2h: logical block provisioning */
		b[5] = 0x80 | 0x40 | 0x20 | 0x04; /* LBPU LBPWS LBPWS10 LBPRZ */
		b[6] = 0x02;			/* thin provisioned */
		len = 8;
		break;
	}
	put_unaligned_be16(len - 4, &b[2]);
	return dmahba_emu_data_in(sc, len, alloc);
}

/**
 * dmahba_spc_tur() - TEST UNIT READY
 * @sc: the command
 *
 * The dispatcher has checked the medium is started.
 *
 * Context: atomic; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_spc_tur(struct dmahba_scsi_cmd *sc)
{
	return dmahba_emu_good(sc);
}

/**
 * dmahba_spc_inquiry() - INQUIRY: standard data or a VPD page
 * @sc: the command
 *
 * Context: atomic; does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_spc_inquiry(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	u32 alloc = get_unaligned_be16(&cdb[3]);

	if (cdb[1] & 0x01)		/* EVPD */
		return dmahba_spc_vpd(sc, cdb[2], alloc);
	if (cdb[2])
		return dmahba_emu_bad_cdb(sc, 2, 7);
	return dmahba_spc_std_inquiry(sc, alloc);
}

/**
 * dmahba_spc_request_sense() - REQUEST SENSE
 * @sc: the command
 *
 * Reports (and clears) a pending unit attention, else NOT READY if the
 * medium is stopped, else NO SENSE; in descriptor format if DESC is set.
 *
 * Context: atomic; does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_spc_request_sense(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	bool desc = cdb[1] & 0x01;
	u8 key = NO_SENSE, asc = 0, ascq = 0;
	unsigned long flags;
	u8 *b;

	b = dmahba_emu_alloc(sc, 18);
	if (!b)
		return DMAHBA_SCSI_BUSY;
	spin_lock_irqsave(&lu->lock, flags);
	if (lu->ua_reset) {
		lu->ua_reset = false;
		key = UNIT_ATTENTION;
		asc = DMAHBA_ASC_RESET;
	} else if (lu->stopped) {
		key = NOT_READY;
		asc = DMAHBA_ASC_NOT_READY;
		ascq = 0x02;
	}
	spin_unlock_irqrestore(&lu->lock, flags);
	scsi_build_sense_buffer(desc, b, key, asc, ascq);
	return dmahba_emu_data_in(sc, desc ? 8 : 18, cdb[4]);
}

/**
 * dmahba_spc_report_luns() - REPORT LUNS: the host's units 0 to nr_luns - 1
 * @sc: the command
 *
 * Context: atomic; does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_spc_report_luns(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	const struct dmahba_lu_params *p = &sc->lu->p;
	u32 alloc = get_unaligned_be32(&cdb[6]);
	u32 i, n, size;
	u8 *b;

	if (alloc < 16)
		return dmahba_emu_bad_cdb(sc, 6, 7);
	switch (cdb[2]) {		/* SELECT REPORT */
	case 0x00:			/* all logical units */
	case 0x02:
		n = max_t(u64, p->nr_luns, p->lun + 1);
		break;
	case 0x01:			/* well-known units: none */
		n = 0;
		break;
	default:
		return dmahba_emu_bad_cdb(sc, 2, 7);
	}
	size = 8 + 8 * n;
	b = dmahba_emu_alloc(sc, size);
	if (!b)
		return DMAHBA_SCSI_BUSY;
	put_unaligned_be32(8 * n, &b[0]);
	for (i = 0; i < n; i++)
		int_to_scsilun(i, (struct scsi_lun *)&b[8 + 8 * i]);
	return dmahba_emu_data_in(sc, size, alloc);
}

/* Build one mode page for page control @pc; return its length. */
static u32 dmahba_spc_page(u8 *p, u8 page, u8 pc,
			   const struct dmahba_spc_modes *m)
{
	bool caching = page == DMAHBA_SPC_CACHING;
	const u8 *def = caching ? dmahba_spc_caching_def :
				  dmahba_spc_control_def;
	const u8 *chg = caching ? dmahba_spc_caching_chg :
				  dmahba_spc_control_chg;
	u32 len = caching ? DMAHBA_SPC_CACHING_LEN : DMAHBA_SPC_CONTROL_LEN;

	memcpy(p, pc == 1 ? chg : def, len);
	if (pc == 0 && caching)
		p[2] = (def[2] & ~(DMAHBA_SPC_WCE | DMAHBA_SPC_RCD)) |
		       (m->wce ? DMAHBA_SPC_WCE : 0) |
		       (m->rcd ? DMAHBA_SPC_RCD : 0);
	else if (pc == 0)
		p[2] = (def[2] & ~DMAHBA_SPC_D_SENSE) |
		       (m->d_sense ? DMAHBA_SPC_D_SENSE : 0);
	return len;
}

/**
 * dmahba_spc_mode_sense() - MODE SENSE(6) and MODE SENSE(10)
 * @sc: the command
 *
 * Pages 08h (caching), 0Ah (control) and 3Fh (all), subpage 00h or FFh;
 * current, changeable and default values (saved ones are not supported);
 * a short or (with LLBAA) long block descriptor unless DBD is set.
 *
 * Context: atomic; does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_spc_mode_sense(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	struct dmahba_lu *lu = sc->lu;
	bool ms10 = cdb[0] == MODE_SENSE_10;
	bool llbaa = ms10 && (cdb[1] & 0x10);
	u32 hdr = ms10 ? 8 : 4;
	u32 bdl = (cdb[1] & 0x08) ? 0 : llbaa ? 16 : 8;
	u32 alloc = ms10 ? get_unaligned_be16(&cdb[7]) : cdb[4];
	u8 pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
	struct dmahba_spc_modes m;
	u8 *b, *bd;
	u32 len;

	if (pc == 3)
		return dmahba_emu_sense(sc, ILLEGAL_REQUEST,
					DMAHBA_ASC_SAVING, 0);
	if (page != DMAHBA_SPC_CACHING && page != DMAHBA_SPC_CONTROL &&
	    page != DMAHBA_SPC_ALL_PAGES)
		return dmahba_emu_bad_cdb(sc, 2, 5);
	if (cdb[3] && cdb[3] != 0xff)
		return dmahba_emu_bad_cdb(sc, 3, 7);
	b = dmahba_emu_alloc(sc, hdr + bdl + DMAHBA_SPC_CACHING_LEN +
			     DMAHBA_SPC_CONTROL_LEN);
	if (!b)
		return DMAHBA_SCSI_BUSY;
	dmahba_spc_modes_get(lu, &m);

	bd = &b[hdr];
	if (bdl == 8 && pc != 1) {
		put_unaligned_be32(min_t(u64, lu->nr_blocks, U32_MAX), &bd[0]);
		put_unaligned_be32(lu->p.block_size, &bd[4]);
	} else if (bdl == 16 && pc != 1) {
		put_unaligned_be64(lu->nr_blocks, &bd[0]);
		put_unaligned_be32(lu->p.block_size, &bd[12]);
	}
	len = hdr + bdl;
	if (page != DMAHBA_SPC_CONTROL)
		len += dmahba_spc_page(&b[len], DMAHBA_SPC_CACHING, pc, &m);
	if (page != DMAHBA_SPC_CACHING)
		len += dmahba_spc_page(&b[len], DMAHBA_SPC_CONTROL, pc, &m);

	if (ms10) {
		put_unaligned_be16(len - 2, &b[0]);
		b[3] = 0x10;			/* DPOFUA */
		b[4] = bdl == 16 ? 0x01 : 0;	/* LONGLBA */
		put_unaligned_be16(bdl, &b[6]);
	} else {
		b[0] = len - 1;
		b[2] = 0x10;			/* DPOFUA */
		b[3] = bdl;
	}
	return dmahba_emu_data_in(sc, len, alloc);
}

/**
 * dmahba_spc_mode_select() - MODE SELECT(6) and MODE SELECT(10)
 * @sc: the command
 *
 * Checks the CDB and fetches the parameter list; it is parsed by
 * dmahba_spc_mode_select_done().
 *
 * Context: atomic; does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_spc_mode_select(struct dmahba_scsi_cmd *sc)
{
	const u8 *cdb = sc->scmd->cmnd;
	bool ms10 = cdb[0] == MODE_SELECT_10;
	u32 plen = ms10 ? get_unaligned_be16(&cdb[7]) : cdb[4];
	u16 plen_byte = ms10 ? 7 : 4;

	if (!(cdb[1] & 0x10))		/* PF: only the page format is known */
		return dmahba_emu_bad_cdb(sc, 1, 4);
	if (cdb[1] & 0x01)		/* SP: saving is not supported */
		return dmahba_emu_bad_cdb(sc, 1, 0);
	if (!plen)
		return dmahba_emu_good(sc);
	if (plen < (ms10 ? 8 : 4))
		return dmahba_emu_sense(sc, ILLEGAL_REQUEST,
					DMAHBA_ASC_PARAM_LIST_LEN, 0);
	if (plen > DMAHBA_EMU_MAX_PARAM || plen > scsi_bufflen(sc->scmd))
		return dmahba_emu_bad_cdb(sc, plen_byte, 7);
	if (!dmahba_emu_alloc(sc, plen))
		return DMAHBA_SCSI_BUSY;
	return dmahba_emu_data_out(sc, plen, DMAHBA_STEP_MODE_SELECT);
}

static enum dmahba_scsi_ret dmahba_spc_list_len(struct dmahba_scsi_cmd *sc)
{
	return dmahba_emu_sense(sc, ILLEGAL_REQUEST, DMAHBA_ASC_PARAM_LIST_LEN,
				0);
}

/**
 * dmahba_spc_mode_select_done() - parse and apply a MODE SELECT list
 * @sc: the command; its emulation buffer holds the list
 *
 * Only the changeable bits of pages 08h and 0Ah may differ from the
 * current values; a block descriptor must give the current block length.
 * Nothing is applied unless the whole list is valid.
 *
 * Context: atomic; does not sleep.
 * Return: DMAHBA_SCSI_DONE.
 */
enum dmahba_scsi_ret dmahba_spc_mode_select_done(struct dmahba_scsi_cmd *sc)
{
	struct dmahba_lu *lu = sc->lu;
	bool ms10 = sc->scmd->cmnd[0] == MODE_SELECT_10;
	const u8 *b = sc->priv.buf;
	u32 len = sc->xfer.len;
	u32 hdr = ms10 ? 8 : 4;
	bool longlba = ms10 && (b[4] & 0x01);
	u32 bdl = ms10 ? get_unaligned_be16(&b[6]) : b[3];
	struct dmahba_spc_modes m;
	u8 cur[DMAHBA_SPC_CACHING_LEN], chg[DMAHBA_SPC_CACHING_LEN];
	unsigned long flags;
	u32 off, plen, j, blen;
	u8 code, diff;

	if (bdl && bdl != (longlba ? 16 : 8))
		return dmahba_emu_bad_param(sc, ms10 ? 6 : 3, 7);
	if (hdr + bdl > len)
		return dmahba_spc_list_len(sc);
	if (bdl) {
		off = hdr + (longlba ? 12 : 4);
		blen = get_unaligned_be32(&b[off]) & (longlba ? ~0U : 0xffffff);
		if (blen != lu->p.block_size)
			return dmahba_emu_bad_param(sc, longlba ? off : off + 1,
						    7);
	}

	dmahba_spc_modes_get(lu, &m);
	for (off = hdr + bdl; off < len; off += 2 + plen) {
		if (len - off < 2)
			return dmahba_spc_list_len(sc);
		if (b[off] & 0x80)		/* PS is reserved here */
			return dmahba_emu_bad_param(sc, off, 7);
		if (b[off] & 0x40)		/* no subpages are supported */
			return dmahba_emu_bad_param(sc, off, 6);
		code = b[off] & 0x3f;
		if (code != DMAHBA_SPC_CACHING && code != DMAHBA_SPC_CONTROL)
			return dmahba_emu_bad_param(sc, off, 5);
		plen = dmahba_spc_page(cur, code, 0, &m) - 2;
		dmahba_spc_page(chg, code, 1, &m);
		if (b[off + 1] != plen)
			return dmahba_emu_bad_param(sc, off + 1, 7);
		if (off + 2 + plen > len)
			return dmahba_spc_list_len(sc);
		for (j = 2; j < 2 + plen; j++) {
			diff = (b[off + j] ^ cur[j]) & ~chg[j];
			if (diff)
				return dmahba_emu_bad_param(sc, off + j,
							    fls(diff) - 1);
		}
		if (code == DMAHBA_SPC_CACHING) {
			m.wce = b[off + 2] & DMAHBA_SPC_WCE;
			m.rcd = b[off + 2] & DMAHBA_SPC_RCD;
		} else {
			m.d_sense = b[off + 2] & DMAHBA_SPC_D_SENSE;
		}
	}

	spin_lock_irqsave(&lu->lock, flags);
	lu->wce = m.wce;
	lu->rcd = m.rcd;
	WRITE_ONCE(lu->d_sense, m.d_sense);
	spin_unlock_irqrestore(&lu->lock, flags);
	return dmahba_emu_good(sc);
}

/* the command timeouts descriptor: no timeouts are reported */
static void dmahba_spc_rsoc_timeouts(u8 *d)
{
	put_unaligned_be16(0x0a, &d[0]);
}

/**
 * dmahba_spc_rsoc() - REPORT SUPPORTED OPERATION CODES
 * @sc: the command
 *
 * @ops: the dispatcher's command table, which is reported
 * @nr_ops: its entries
 *
 * Reporting options 0 (all commands), 1 (one operation code), 2 (one code
 * and service action) and 3 (either); with RCTD, an empty command
 * timeouts descriptor.
 *
 * Context: atomic; does not sleep.
 * Return: DMAHBA_SCSI_XFER, DMAHBA_SCSI_DONE or DMAHBA_SCSI_BUSY.
 */
enum dmahba_scsi_ret dmahba_spc_rsoc(struct dmahba_scsi_cmd *sc,
				     const struct dmahba_emu_op *ops,
				     unsigned int nr_ops)
{
	const u8 *cdb = sc->scmd->cmnd;
	bool rctd = cdb[2] & 0x80;
	u8 ro = cdb[2] & 0x07;
	u32 tlen = rctd ? 12 : 0;
	const struct dmahba_emu_op *op;
	u32 i, size;
	bool known, has_sa = false;
	u8 *b, *d;

	if (ro == 0) {
		size = 4 + nr_ops * (8 + tlen);
		b = dmahba_emu_alloc(sc, size);
		if (!b)
			return DMAHBA_SCSI_BUSY;
		put_unaligned_be32(size - 4, &b[0]);
		d = &b[4];
		for (i = 0; i < nr_ops; i++) {
			op = &ops[i];
			d[0] = op->opcode;
			if (op->flags & DMAHBA_OP_SA) {
				put_unaligned_be16(op->sa, &d[2]);
				d[5] |= 0x01;		/* SERVACTV */
			}
			put_unaligned_be16(op->len, &d[6]);
			if (rctd) {
				d[5] |= 0x02;		/* CTDP */
				dmahba_spc_rsoc_timeouts(&d[8]);
			}
			d += 8 + tlen;
		}
		return dmahba_emu_data_in(sc, size, get_unaligned_be32(&cdb[6]));
	}
	if (ro > 3)
		return dmahba_emu_bad_cdb(sc, 2, 2);

	for (i = 0; i < nr_ops; i++)
		if (ops[i].opcode == cdb[3])
			has_sa = ops[i].flags & DMAHBA_OP_SA;
	op = dmahba_emu_find(ops, nr_ops, cdb[3], get_unaligned_be16(&cdb[4]),
			     &known);
	if (known && ((ro == 1 && has_sa) || (ro == 2 && !has_sa)))
		return dmahba_emu_bad_cdb(sc, 2, 2);

	size = 4 + (op ? op->len + tlen : 0);
	b = dmahba_emu_alloc(sc, size);
	if (!b)
		return DMAHBA_SCSI_BUSY;
	if (op) {
		b[1] = 0x03 | (rctd ? 0x80 : 0);  /* supported (per standard) */
		put_unaligned_be16(op->len, &b[2]);
		memcpy(&b[4], op->mask, op->len);
		if (rctd)
			dmahba_spc_rsoc_timeouts(&b[4 + op->len]);
	} else {
		b[1] = 0x01;			/* not supported */
	}
	return dmahba_emu_data_in(sc, size, get_unaligned_be32(&cdb[6]));
}
