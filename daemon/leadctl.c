/* leadctl.c - the operator's and rep's command-line tool over leadrouted's Redis contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#ifndef LR_DEFAULT_CONF
#define LR_DEFAULT_CONF "/etc/leadrouted/leadrouted.conf"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: leadctl [-c file] command [args]\n"
	    "commands:\n"
	    "  check    check the configuration (as leadrouted -n)\n");
}

static int
cmd_check(const char *conf)
{
	struct cfg_diag diag = {0};
	struct lr_config *cfg = cfg_load(conf, &diag);

	for (size_t i = 0; i < diag.nwarnings; i++)
		fprintf(stderr, "%s (warning)\n", diag.warnings[i]);
	for (size_t i = 0; i < diag.nerrors; i++)
		fprintf(stderr, "%s\n", diag.errors[i]);
	cfg_diag_clear(&diag);
	if (cfg == NULL)
		return 1;
	printf("configuration OK\n");
	cfg_free(cfg);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *conf = LR_DEFAULT_CONF;
	int ch;

	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "check") == 0)
		return cmd_check(conf);
	fprintf(stderr, "leadctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
