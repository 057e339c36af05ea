/* main.c - leadrouted: command line, configuration check, and the daemon's lifecycle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#ifndef LR_VERSION
#define LR_VERSION "0.1.0"
#endif
#ifndef LR_DEFAULT_CONF
#define LR_DEFAULT_CONF "/etc/leadrouted/leadrouted.conf"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: leadrouted [-dnV] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -d       log debug messages\n"
	    "  -n       check the configuration, print \"configuration OK\" or the errors, exit\n"
	    "  -V       print the version and exit\n",
	    LR_DEFAULT_CONF);
}

/* Print a load's diagnostics to stderr, warnings first. */
static void
print_diag(const struct cfg_diag *d)
{
	for (size_t i = 0; i < d->nwarnings; i++)
		fprintf(stderr, "%s (warning)\n", d->warnings[i]);
	for (size_t i = 0; i < d->nerrors; i++)
		fprintf(stderr, "%s\n", d->errors[i]);
}

int
main(int argc, char *argv[])
{
	const char *conf = LR_DEFAULT_CONF;
	struct cfg_diag diag = {0};
	struct lr_config *cfg;
	bool check = false, debug = false;
	int ch;

	while ((ch = getopt(argc, argv, "c:dhnV")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'n':
			check = true;
			break;
		case 'V':
			printf("leadrouted %s\n", LR_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	cfg = cfg_load(conf, &diag);
	if (check) {
		print_diag(&diag);
		cfg_diag_clear(&diag);
		if (cfg == NULL)
			return 1;
		printf("configuration OK\n");
		cfg_free(cfg);
		return 0;
	}
	log_init(debug ? LOG_LEVEL_DEBUG :
	    cfg ? (enum log_level)cfg->log.level : LOG_LEVEL_INFO, "leadrouted");
	for (size_t i = 0; i < diag.nwarnings; i++)
		log_warnx("%s", diag.warnings[i]);
	for (size_t i = 0; i < diag.nerrors; i++)
		log_warnx("%s", diag.errors[i]);
	cfg_diag_clear(&diag);
	if (cfg == NULL)
		fatalx("configuration '%s' has errors; not starting", conf);
	log_info("configuration '%s' loaded (version %s)", conf, cfg->version);
	cfg_free(cfg);
	return 0;
}
