// SPDX-License-Identifier: GPL-2.0
/*
 * sgio_tool.c - one SCSI command over SG_IO for the shell tests
 * (badblocks_test.sh, inject_test.sh), through the shared helper sgio.c.
 * Unlike sg_raw it reports the residue, and it keeps the data a failed
 * command transferred before its error.
 *
 *   sgio_tool [-r LEN | -w FILE] [-o OUT] [-t MS] DEV CDB-BYTE...
 *
 * -r LEN reads LEN bytes (data-in); -w FILE sends FILE (data-out); -o OUT
 * receives the LEN - residue bytes read; -t the timeout in milliseconds.
 * DEV is sgN or a path; the CDB is given as hex bytes. Prints one line:
 *   status=HH host=HH driver=HH resid=N sense=RC key=K asc=HH ascq=HH
 *   info_valid=0|1 info=N
 * (sense=- and no sense fields when there is no sense data). Exits 0 when
 * SG_IO itself succeeded (whatever the SCSI status), 1 when it failed,
 * 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sgio.h"

static int usage(void)
{
	fprintf(stderr, "usage: sgio_tool [-r LEN | -w FILE] [-o OUT] [-t MS] DEV CDB-BYTE...\n");
	return 2;
}

/* Read all of @path into a new buffer; its size in @len. */
static void *slurp(const char *path, unsigned int *len)
{
	struct stat st;
	void *buf;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || !st.st_size)
		return NULL;
	buf = malloc(st.st_size);
	if (!buf || read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	unsigned int len = 0, tmo = 0, cdb_len = 0;
	int dir = SG_DXFER_NONE, fd, opt, i;
	struct sgio_result r;
	struct sgio_sense ss;
	uint8_t cdb[32];
	void *buf = NULL;

	while ((opt = getopt(argc, argv, "r:w:o:t:")) != -1) {
		switch (opt) {
		case 'r':
			len = strtoul(optarg, NULL, 0);
			dir = SG_DXFER_FROM_DEV;
			break;
		case 'w':
			in = optarg;
			dir = SG_DXFER_TO_DEV;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			tmo = strtoul(optarg, NULL, 0);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind < 2 || argc - optind - 1 > (int)sizeof(cdb))
		return usage();
	for (i = optind + 1; i < argc; i++)
		cdb[cdb_len++] = strtoul(argv[i], NULL, 16);
	if (in) {
		buf = slurp(in, &len);
		if (!buf) {
			fprintf(stderr, "sgio_tool: cannot read %s\n", in);
			return 2;
		}
	} else if (len) {
		buf = calloc(1, len);
		if (!buf)
			return 2;
	}
	fd = sgio_open(argv[optind]);
	if (fd < 0) {
		fprintf(stderr, "sgio_tool: %s: %s\n", argv[optind], strerror(-fd));
		return 1;
	}
	if (sgio_cmd(fd, cdb, cdb_len, dir, buf, len, tmo, 0, &r)) {
		fprintf(stderr, "sgio_tool: SG_IO: %s\n", strerror(-r.ret));
		return 1;
	}
	close(fd);
	printf("status=%02x host=%02x driver=%02x resid=%d", r.status,
	       r.host_status, r.driver_status, r.resid);
	ss = sgio_sense(&r);
	if (ss.valid)
		printf(" sense=%02x key=%x asc=%02x ascq=%02x info_valid=%d info=%llu\n",
		       r.sense[0] & 0x7f, ss.key, ss.asc, ss.ascq, ss.info_valid,
		       (unsigned long long)ss.info);
	else
		printf(" sense=-\n");
	if (out && dir == SG_DXFER_FROM_DEV) {
		int n = (int)len - r.resid;

		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || (n > 0 && write(fd, buf, n) != n)) {
			fprintf(stderr, "sgio_tool: cannot write %s\n", out);
			return 1;
		}
		close(fd);
	}
	free(buf);
	return 0;
}
