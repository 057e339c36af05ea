/* fuzz_config.c - libFuzzer target: any bytes as a configuration file through cfg_load. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "decide.h"
#include "fuzz.h"

#define NOW_MS 1717000000123LL

/* One private directory per process: @include finds nothing else there. */
static char dir[64];
static char path[128];

/* Leads to decide with each configuration that loads. */
static const char *const leads[] = {
	"{\"id\":\"L-1\",\"email\":\"ann@example.com\",\"title\":\"VP Sales\","
	    "\"employees\":250,\"industry\":\"SaaS\",\"country\":\"de\","
	    "\"revenue\":1.5e7,\"source\":\"partner\",\"activity\":"
	    "{\"demo_request\":true,\"page_views\":12,\"email_clicks\":-3}}",
	"{\"id\":\"L-2\",\"email\":\"x@gmail.com\",\"employees\":1e300,"
	    "\"activity\":{\"page_views\":-1.7976931348623157e308}}",
	"{\"id\":\"L-3\",\"email\":\"@\",\"employees\":-9223372036854775808,"
	    "\"title\":null,\"a\":{\"b\":[1,{\"c\":true}]}}",
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("LEADROUTED_REDIS_PASSWORD");
	snprintf(dir, sizeof(dir), "/tmp/lr-fuzz-config-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/leadrouted.conf", dir);
	atexit(cleanup);
	return 0;
}

static void
write_conf(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

static bool
has_include(const uint8_t *data, size_t size)
{
	static const char word[] = "@include";

	for (size_t i = 0; i + sizeof(word) - 1 <= size; i++)
		if (memcmp(data + i, word, sizeof(word) - 1) == 0)
			return true;
	return false;
}

static void
check_where(const char *msg)
{
	size_t n = strlen(path);

	FUZZ_CHECK(strncmp(msg, path, n) == 0 && msg[n] == ':');
	FUZZ_CHECK(msg[n + 1] >= '0' && msg[n + 1] <= '9');
}

/* What a loaded configuration promises the rest of the daemon. */
static void
check_config(const struct lr_config *cfg)
{
	struct score_hit *hits;
	struct lead_decision d;
	json_t *o;
	char *js;

	FUZZ_CHECK(strlen(cfg->version) == 16);
	FUZZ_CHECK(cfg->segments.n > 0);
	FUZZ_CHECK(cfg->segments.default_idx < cfg->segments.n);
	FUZZ_CHECK(cfg->nreps > 0);
	for (size_t i = 0; i < cfg->segments.n; i++)
		FUZZ_CHECK(cfg_valid_name(cfg->segments.v[i].name));
	for (size_t i = 0; i < cfg->nreps; i++) {
		FUZZ_CHECK(cfg_valid_name(cfg->reps[i].id));
		FUZZ_CHECK(cfg_rep_find(cfg, cfg->reps[i].id) == &cfg->reps[i]);
		for (size_t k = 0; k < cfg->reps[i].nsegs; k++)
			FUZZ_CHECK(cfg->reps[i].segs[k] < cfg->segments.n);
	}
	o = fuzz_parse(js = decide_routing_json(cfg));
	json_decref(o);
	free(js);

	if ((hits = calloc(cfg->scoring.nrules + 1, sizeof(*hits))) == NULL)
		abort();
	for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
		FUZZ_CHECK(decide_lead(cfg, leads[i], strlen(leads[i]), 0,
		    NOW_MS, hits, &d) == 0);
		if (d.kind == DECISION_LEAD) {
			FUZZ_CHECK(d.segment < cfg->segments.n);
			FUZZ_CHECK(d.score >= -SCORE_LIMIT &&
			    d.score <= SCORE_LIMIT);
			json_decref(fuzz_parse(d.receipt));
		} else {
			json_decref(fuzz_parse(d.dead_json));
		}
		lead_decision_clear(&d);
	}
	free(hits);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_diag diag = {0};
	struct lr_config *cfg;

	/*
	 * libconfig 1.5 exit(2)s when @include names a directory ("input in
	 * flex scanner failed"; see corpus/config/libconfig-exit-include-*),
	 * and an include may open any file: includes are libconfig's, and
	 * tests/test_config.c covers what cfg_load does with them.
	 */
	if (has_include(data, size))
		return 0;
	write_conf(data, size);
	cfg = cfg_load(path, &diag);
	FUZZ_CHECK((cfg == NULL) == (diag.nerrors > 0));
	/* Every message names the file and a line: "PATH:LINE: ...". */
	for (size_t i = 0; i < diag.nerrors + diag.nwarnings; i++)
		check_where(i < diag.nerrors ? diag.errors[i] :
		    diag.warnings[i - diag.nerrors]);
	if (cfg != NULL)
		check_config(cfg);
	cfg_free(cfg);
	cfg_diag_clear(&diag);
	return 0;
}
