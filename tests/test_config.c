/* test_config.c - cmocka tests of cfg_load(): defaults, errors, warnings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* Log levels are syslog priorities (include/log.h). */
#define LEVEL_INFO 6
#define LEVEL_DEBUG 7

/* Config fragments; MINIMAL is lines 1-4, so a line put before it is line 1. */
#define SCORING "scoring = { mql_threshold = 60; rules = (); };\n"
#define SEGS \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n"
#define REPS "reps = ( { id = \"ann\"; segments = [\"all\"]; } );\n"
#define MINIMAL SCORING SEGS REPS
/* One scoring rule on line 2. */
#define RULE_CONF(rule) \
	"scoring = { mql_threshold = 60; rules = (\n" rule "\n); };\n" SEGS REPS
/* One segment on line 3, before the default segment "all". */
#define SEG_CONF(seg) \
	SCORING "segments = (\n" seg ",\n{ name = \"all\"; }\n);\n" \
	"default_segment = \"all\";\n" REPS
/* One rep on line 5. */
#define REP_CONF(rep) SCORING SEGS "reps = (\n" rep "\n);\n"

#define LISTEN_MSG \
	"'http.listen' must be \"host:port\" or \"[ipv6]:port\" (or \"\" " \
	"to disable), not \"%s\""
#define NAME_MSG "must be 1-64 characters of A-Z a-z 0-9 . _ @ -"

#define EXAMPLE_CONF "conf/leadrouted.conf"

/* The state of one test; the teardown frees it whatever happened. */
static char conf_path[64];
static char aux_path[64];	/* a password file or an included file */
static struct lr_config *cfg;
static struct cfg_diag diag;

/* Write text to path, creating a temp file on the first call. */
static void
tmp_write(char *path, size_t size, const char *text)
{
	FILE *f;
	int fd;

	if (path[0] == '\0') {
		snprintf(path, size, "/tmp/test_config.XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Write text to the test's config file and load it into cfg and diag. */
static struct lr_config *
load(const char *text)
{
	cfg_free(cfg);
	cfg_diag_clear(&diag);
	tmp_write(conf_path, sizeof(conf_path), text);
	cfg = cfg_load(conf_path, &diag);
	return cfg;
}

static void
print_diag(void)
{
	for (size_t i = 0; i < diag.nerrors; i++)
		print_message("error: %s\n", diag.errors[i]);
	for (size_t i = 0; i < diag.nwarnings; i++)
		print_message("warning: %s\n", diag.warnings[i]);
}

static void
assert_counts(size_t nerrors, size_t nwarnings)
{
	if (diag.nerrors != nerrors || diag.nwarnings != nwarnings) {
		print_diag();
		fail_msg("%zu errors and %zu warnings, expected %zu and %zu",
		    diag.nerrors, diag.nwarnings, nerrors, nwarnings);
	}
}

/* Load text, which must be valid and draw no warning. */
static struct lr_config *
load_ok(const char *text)
{
	load(text);
	assert_counts(0, 0);
	assert_non_null(cfg);
	return cfg;
}

/* Load text, which must fail with exactly nerrors errors. */
static void
load_fails(const char *text, size_t nerrors)
{
	load(text);
	if (diag.nerrors != nerrors) {
		print_diag();
		fail_msg("%zu errors, expected %zu", diag.nerrors, nerrors);
	}
	assert_null(cfg);
}

/* Error i is exactly "CONF_PATH:line: msg". */
static void
assert_error(size_t i, int line, const char *msg)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s:%d: %s", conf_path, line, msg);
	assert_true(i < diag.nerrors);
	assert_string_equal(diag.errors[i], want);
}

static void
assert_warning(size_t i, int line, const char *msg)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s:%d: %s", conf_path, line, msg);
	assert_true(i < diag.nwarnings);
	assert_string_equal(diag.warnings[i], want);
}

/* Load text, which must fail with this one error. */
static void
load_one_error(const char *text, int line, const char *msg)
{
	load_fails(text, 1);
	assert_error(0, line, msg);
}

static int
setup(void **state)
{
	(void)state;
	conf_path[0] = aux_path[0] = '\0';
	cfg = NULL;
	unsetenv("LEADROUTED_REDIS_PASSWORD");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cfg_free(cfg);
	cfg = NULL;
	cfg_diag_clear(&diag);
	if (conf_path[0] != '\0')
		unlink(conf_path);
	if (aux_path[0] != '\0')
		unlink(aux_path);
	unsetenv("LEADROUTED_REDIS_PASSWORD");
	return 0;
}

/* --- loading as a whole ---------------------------------------------------- */

static void
test_example_conf(void **state)
{
	(void)state;
	cfg = cfg_load(EXAMPLE_CONF, &diag);
	assert_counts(0, 0);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, EXAMPLE_CONF);
	assert_int_equal(cfg->scoring.mql_threshold, 60);
	assert_int_equal(cfg->scoring.nrules, 16);
	assert_int_equal(cfg->segments.n, 3);
	assert_string_equal(cfg->segments.v[0].name, "small");
	assert_string_equal(cfg->segments.v[1].name, "mid");
	assert_string_equal(cfg->segments.v[2].name, "large");
	assert_int_equal(cfg->segments.default_idx, 0);
	assert_int_equal(cfg->nreps, 7);
	assert_string_equal(cfg->reps[0].id, "ava");
	assert_string_equal(cfg->reps[0].name, "Ava Martin");
	assert_int_equal(cfg->reps[0].max_open, 40);
	assert_int_equal(cfg->reps[0].max_per_period, 35);
	assert_int_equal(cfg->reps[2].nsegs, 2);
	assert_int_equal(cfg->reps[2].segs[0], 0);
	assert_int_equal(cfg->reps[2].segs[1], 1);
	assert_int_equal(cfg->reps[6].nsegs, 1);
	assert_int_equal(cfg->reps[6].segs[0], 2);

	assert_string_equal(cfg->redis.host, "127.0.0.1");
	assert_int_equal(cfg->redis.port, 6379);
	assert_string_equal(cfg->redis.unix_socket, "");
	assert_string_equal(cfg->redis.password, "");
	assert_int_equal(cfg->redis.db, 0);
	assert_string_equal(cfg->redis.prefix, "lr:");
	assert_string_equal(cfg->http.listen, "127.0.0.1:9464");
	assert_string_equal(cfg->http.host, "127.0.0.1");
	assert_int_equal(cfg->http.port, 9464);
	assert_int_equal(cfg->intake.max_bytes, 65536);
	assert_int_equal(cfg->capacity.period, 604800);
	assert_int_equal(cfg->sla.follow_up, 300);
	assert_int_equal(cfg->sla.warn_before, 60);
	assert_int_equal(cfg->sla.on_breach, SLA_ON_BREACH_ALERT);
	assert_int_equal(cfg->sla.max_reassign, 2);
	assert_int_equal(cfg->sla.alert_log_max, 100000);
	assert_int_equal(cfg->log.level, LEVEL_INFO);
}

static void
test_minimal_defaults(void **state)
{
	(void)state;
	load_ok(MINIMAL);
	assert_string_equal(cfg->path, conf_path);
	assert_string_equal(cfg->redis.host, "127.0.0.1");
	assert_int_equal(cfg->redis.port, 6379);
	assert_string_equal(cfg->redis.unix_socket, "");
	assert_string_equal(cfg->redis.password, "");
	assert_string_equal(cfg->redis.password_file, "");
	assert_int_equal(cfg->redis.db, 0);
	assert_string_equal(cfg->redis.prefix, "lr:");
	assert_string_equal(cfg->http.listen, "127.0.0.1:9464");
	assert_string_equal(cfg->http.host, "127.0.0.1");
	assert_int_equal(cfg->http.port, 9464);
	assert_int_equal(cfg->intake.max_bytes, 65536);
	assert_int_equal(cfg->intake.dead_max, 100000);
	assert_int_equal(cfg->retention.days, 90);
	assert_int_equal(cfg->insight.max_sources, 1000);
	assert_int_equal(cfg->retention.inbox_max, 10000);
	assert_int_equal(cfg->retention.webhooks_dead_max, 0);
	assert_int_equal(cfg->scoring.mql_threshold, 60);
	assert_int_equal(cfg->scoring.nrules, 0);
	assert_null(cfg->scoring.rules);
	assert_int_equal(cfg->segments.n, 1);
	assert_false(cfg->segments.v[0].has_cond);
	assert_int_equal(cfg->segments.default_idx, 0);
	assert_int_equal(cfg->capacity.period, 604800);
	assert_int_equal(cfg->sla.follow_up, 300);
	assert_int_equal(cfg->sla.warn_before, 60);
	assert_int_equal(cfg->sla.on_breach, SLA_ON_BREACH_ALERT);
	assert_int_equal(cfg->sla.max_reassign, 2);
	assert_int_equal(cfg->sla.alert_log_max, 100000);
	assert_int_equal(cfg->log.level, LEVEL_INFO);
}

static void
test_rep_defaults(void **state)
{
	(void)state;
	load_ok(REP_CONF(
	    "{ id = \"ann\"; segments = [\"all\"]; },\n"
	    "{ id = \"bob\"; name = \"Bob B\"; segments = [\"all\"];"
	    " max_open = 1; max_per_period = 7; }"));
	assert_int_equal(cfg->nreps, 2);
	assert_string_equal(cfg->reps[0].id, "ann");
	assert_string_equal(cfg->reps[0].name, "ann");
	assert_int_equal(cfg->reps[0].max_open, 25);
	assert_int_equal(cfg->reps[0].max_per_period, 0);
	assert_int_equal(cfg->reps[0].nsegs, 1);
	assert_int_equal(cfg->reps[0].segs[0], 0);
	assert_int_equal(cfg->reps[0].line, 5);
	assert_string_equal(cfg->reps[1].name, "Bob B");
	assert_int_equal(cfg->reps[1].max_open, 1);
	assert_int_equal(cfg->reps[1].max_per_period, 7);
	assert_int_equal(cfg->reps[1].line, 6);
}

static void
test_syntax_error(void **state)
{
	(void)state;
	load_one_error(SCORING "redis = { port = ; };\n" SEGS REPS, 2,
	    "syntax error");
}

static void
test_missing_file(void **state)
{
	const char *path = "/nonexistent/leadrouted.conf";

	(void)state;
	assert_null(cfg = cfg_load(path, &diag));
	assert_counts(1, 0);
	assert_string_equal(diag.errors[0], "cannot read configuration "
	    "'/nonexistent/leadrouted.conf': No such file or directory");
}

static void
test_directory(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", want[128];

	(void)state;
	assert_non_null(mkdtemp(dir));
	cfg = cfg_load(dir, &diag);
	rmdir(dir);
	assert_null(cfg);
	assert_counts(1, 0);
	snprintf(want, sizeof(want),
	    "cannot read configuration '%s': Is a directory", dir);
	assert_string_equal(diag.errors[0], want);
}

static void
test_three_mistakes(void **state)
{
	(void)state;
	load_fails(
	    "scoring = { mql_threshold = 60; rules = (\n"
	    "  { field = \"a\"; op = \"between\"; min = 9; max = 1; points = 5; }\n"
	    "); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = (\n"
	    "  { id = \"ann\"; segments = [\"all\"]; },\n"
	    "  { id = \"bob\"; segments = [\"all\"]; max_open = 0; }\n"
	    ");\n"
	    "sla = { on_breach = \"page\"; };\n", 3);
	assert_error(0, 2, "'scoring.rules.[0].max' must not be smaller than "
	    "min (9 > 1)");
	assert_error(1, 8, "'reps.[1].max_open' must be a positive integer");
	assert_error(2, 10, "'sla.on_breach' must be \"alert\" or "
	    "\"reassign\", not \"page\"");
}

static void
test_empty_file(void **state)
{
	(void)state;
	load_fails("# nothing here\n\n", 4);
	assert_error(0, 2, "'scoring' is required");
	assert_error(1, 2, "'segments' is required");
	assert_error(2, 2, "'default_segment' is required");
	assert_error(3, 2, "'reps' is required");
}

static void
test_key_names(void **state)
{
	(void)state;
	load_fails(
	    "scoring = { mql_threshold = 60; rules = (\n"
	    "  { field = \"a\"; op = \"exists\"; points = 1; },\n"
	    "  { field = \"a\"; op = \"between\"; min = 5; max = 1; points = 1; }\n"
	    "); };\n"
	    SEGS
	    "reps = (\n"
	    "  { id = \"r0\"; segments = [\"all\"]; },\n"
	    "  { id = \"r1\"; segments = [\"all\"]; },\n"
	    "  { id = \"r2\"; segments = [\"all\"]; },\n"
	    "  { id = \"r3\"; segments = [\"all\"]; max_open = 0; }\n"
	    ");\n", 2);
	assert_error(0, 3, "'scoring.rules.[1].max' must not be smaller than "
	    "min (5 > 1)");
	assert_error(1, 11, "'reps.[3].max_open' must be a positive integer");
}

/* @include is relative to the including file's directory, not the cwd. */
static void
test_include(void **state)
{
	char text[512];
	const char *base, *err;

	(void)state;
	tmp_write(aux_path, sizeof(aux_path),
	    "# reps\nreps = ( { id = \"ann\"; segments = [\"all\"];\n"
	    " max_open = 3; } );\n");
	base = strrchr(aux_path, '/') + 1;
	snprintf(text, sizeof(text), "%s@include \"%s\"\n%s", SCORING, base,
	    SEGS);
	load_ok(text);
	assert_int_equal(cfg->nreps, 1);
	assert_int_equal(cfg->reps[0].max_open, 3);
	assert_int_equal(cfg->reps[0].line, 2);

	/* an error in it names the included file and its line */
	tmp_write(aux_path, sizeof(aux_path),
	    "# reps\nreps = ( { id = \"ann\"; segments = [\"all\"];\n"
	    " max_open = 0; } );\n");
	load_fails(text, 1);
	err = diag.errors[0];
	assert_non_null(strstr(err, base));
	assert_null(strstr(err, conf_path));
	assert_non_null(strstr(err, ":3: 'reps.[0].max_open' must be a "
	    "positive integer"));

	load_one_error(SCORING "@include \"test_config.none\"\n" SEGS REPS, 2,
	    "'@include' names \"test_config.none\", which is not a readable file");
	/* A directory: libconfig 1.5 would exit the process; an error here. */
	load_one_error(SCORING "@include \".\"\n" SEGS REPS, 2,
	    "'@include' names \".\", which is not a readable file");
	load_one_error(SCORING "@include \"/\"\n" SEGS REPS, 2,
	    "'@include' names \"/\", which is not a readable file");
}

/* --- types and ranges ------------------------------------------------------ */

static void
test_type_errors(void **state)
{
	(void)state;
	load_fails(
	    "redis = { host = 5; port = \"6379\"; db = 1.5; prefix = 7; };\n"
	    "http = { listen = 9464; };\n"
	    "intake = { max_bytes = \"big\"; };\n"
	    "capacity = { period = true; };\n"
	    "sla = { follow_up = \"5m\"; on_breach = 1; };\n"
	    "log = { level = 3; };\n"
	    "scoring = { mql_threshold = \"60\"; rules = (); };\n"
	    SEGS
	    "reps = ( { id = 7; name = 5; segments = [\"all\"];"
	    " max_open = 2.5; max_per_period = \"none\"; } );\n", 15);
	assert_error(0, 1, "'redis.host' must be a string");
	assert_error(1, 1, "'redis.port' must be a port number (1-65535)");
	assert_error(2, 1, "'redis.db' must be a database number >= 0");
	assert_error(3, 1, "'redis.prefix' must be a string");
	assert_error(4, 2, "'http.listen' must be a string");
	assert_error(5, 3, "'intake.max_bytes' must be a size in bytes "
	    "(64 to 536870912)");
	assert_error(6, 6, "'log.level' must be a string");
	assert_error(7, 7, "'scoring.mql_threshold' must be an integer");
	assert_error(8, 10, "'reps.[0].id' must be a string");
	assert_error(9, 10, "'reps.[0].name' must be a string");
	assert_error(10, 10, "'reps.[0].max_open' must be a positive integer");
	assert_error(11, 10, "'reps.[0].max_per_period' must be an integer "
	    ">= 0 (0 = unlimited)");
	assert_error(12, 4, "'capacity.period' must be a number of seconds "
	    "(1 to 31622400)");
	assert_error(13, 5, "'sla.follow_up' must be a number of seconds "
	    "(1 to 2592000)");
	assert_error(14, 5, "'sla.on_breach' must be a string");
}

static void
test_group_types(void **state)
{
	(void)state;
	load_one_error("http = 5;\n" MINIMAL, 1, "'http' must be a group { ... }");
	load_one_error("scoring = 5;\n" SEGS REPS, 1,
	    "'scoring' must be a group { ... }");
	load_one_error("scoring = { mql_threshold = 1; rules = 5; };\n"
	    SEGS REPS, 1, "'scoring.rules' must be a list ( ... )");
	/* libconfig gives a string element the line of the token after it */
	load_one_error("scoring = { mql_threshold = 60; rules = (\n"
	    "\"x\" ); };\n" SEGS REPS, 2, "'scoring.rules.[0]' must be a "
	    "group { field = ...; op = ...; points = ...; }");
	load_one_error(SCORING "segments = ( \"x\", { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n" REPS, 2, "'segments.[0]' must be a "
	    "group { name = ...; field = ...; op = ...; }");
	load_one_error(SCORING SEGS "reps = ( \"ann\" );\n", 4,
	    "'reps.[0]' must be a group { id = ...; segments = [...]; }");
	load_one_error(REP_CONF("{ id = \"ann\"; segments = \"all\"; }"), 5,
	    "'reps.[0].segments' must be a non-empty list of segment names");
	load_one_error(REP_CONF("{ id = \"ann\"; segments = (\"all\", 3); }"), 5,
	    "'reps.[0].segments' must be a non-empty list of segment names");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"exists\";"
	    " points = \"ten\"; }"), 2, "'scoring.rules.[0].points' must be an "
	    "integer between -1000000000 and 1000000000");
}

static void
test_range_errors(void **state)
{
	(void)state;
	load_one_error("redis = { port = 0; };\n" MINIMAL, 1,
	    "'redis.port' must be a port number (1-65535)");
	load_one_error("redis = { port = 65536; };\n" MINIMAL, 1,
	    "'redis.port' must be a port number (1-65535)");
	load_one_error("redis = { db = -1; };\n" MINIMAL, 1,
	    "'redis.db' must be a database number >= 0");
	load_one_error(REP_CONF("{ id = \"ann\"; segments = [\"all\"];"
	    " max_open = 0; }"), 5,
	    "'reps.[0].max_open' must be a positive integer");
	load_one_error(REP_CONF("{ id = \"ann\"; segments = [\"all\"];"
	    " max_open = -1; }"), 5,
	    "'reps.[0].max_open' must be a positive integer");
	load_one_error(REP_CONF("{ id = \"ann\"; segments = [\"all\"];"
	    " max_per_period = -1; }"), 5,
	    "'reps.[0].max_per_period' must be an integer >= 0 (0 = unlimited)");
	load_one_error("capacity = { period = 0; };\n" MINIMAL, 1,
	    "'capacity.period' must be a number of seconds (1 to 31622400)");
	load_one_error("capacity = { period = 31622401; };\n" MINIMAL, 1,
	    "'capacity.period' must be a number of seconds (1 to 31622400)");
	load_one_error("intake = { max_bytes = 63; };\n" MINIMAL, 1,
	    "'intake.max_bytes' must be a size in bytes (64 to 536870912)");
	load_one_error("intake = { max_bytes = 536870913; };\n" MINIMAL, 1,
	    "'intake.max_bytes' must be a size in bytes (64 to 536870912)");
	load_one_error("sla = { follow_up = 0; warn_before = 0; };\n" MINIMAL,
	    1, "'sla.follow_up' must be a number of seconds (1 to 2592000)");
	load_one_error("sla = { alert_log_max = 0; };\n" MINIMAL, 1,
	    "'sla.alert_log_max' must be a positive integer");
	load_one_error("intake = { dead_max = 0; };\n" MINIMAL, 1,
	    "'intake.dead_max' must be a positive integer");
	load_one_error("retention = { days = -1; };\n" MINIMAL, 1,
	    "'retention.days' must be a number of days between 0 and 3660 "
	    "(0 = never expire)");
	load_one_error("retention = { inbox_max = 0; };\n" MINIMAL, 1,
	    "'retention.inbox_max' must be a positive integer");
	load_one_error("insight = { max_sources = 0; };\n" MINIMAL, 1,
	    "'insight.max_sources' must be a number of sources between 1 and "
	    "100000");
	load_one_error("sla = { max_reassign = 1001; };\n" MINIMAL, 1,
	    "'sla.max_reassign' must be an integer between 0 and 1000");
	load_one_error("sla = { max_reassign = -1; };\n" MINIMAL, 1,
	    "'sla.max_reassign' must be an integer between 0 and 1000");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"exists\";"
	    " points = 1000000001; }"), 2, "'scoring.rules.[0].points' must be "
	    "an integer between -1000000000 and 1000000000");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"per\"; points = 1;"
	    " max = -1; }"), 2,
	    "'scoring.rules.[0].max' must be a number of points >= 0");
}

static void
test_range_boundaries(void **state)
{
	(void)state;
	load_ok("redis = { port = 1; db = 15; };\n"
	    "intake = { max_bytes = 64; dead_max = 1; };\n"
	    "retention = { days = 0; inbox_max = 1; };\n"
	    "capacity = { period = 1; };\n"
	    "sla = { follow_up = 1; warn_before = 0; max_reassign = 0;"
	    " alert_log_max = 1; };\n"
	    MINIMAL);
	assert_int_equal(cfg->redis.port, 1);
	assert_int_equal(cfg->redis.db, 15);
	assert_int_equal(cfg->intake.max_bytes, 64);
	assert_int_equal(cfg->intake.dead_max, 1);
	assert_int_equal(cfg->retention.days, 0);
	assert_int_equal(cfg->retention.inbox_max, 1);
	assert_int_equal(cfg->capacity.period, 1);
	assert_int_equal(cfg->sla.follow_up, 1);
	assert_int_equal(cfg->sla.warn_before, 0);
	assert_int_equal(cfg->sla.max_reassign, 0);
	assert_int_equal(cfg->sla.alert_log_max, 1);

	load_ok("redis = { port = 65535; };\n"
	    "intake = { max_bytes = 536870912; };\n"
	    "capacity = { period = 31622400; };\n"
	    "sla = { follow_up = 2592000; max_reassign = 1000; };\n"
	    SCORING SEGS
	    "reps = ( { id = \"ann\"; segments = [\"all\"]; max_open = 1;"
	    " max_per_period = 0; } );\n");
	assert_int_equal(cfg->redis.port, 65535);
	assert_int_equal(cfg->intake.max_bytes, 536870912);
	assert_int_equal(cfg->capacity.period, 31622400);
	assert_int_equal(cfg->sla.follow_up, 2592000);
	assert_int_equal(cfg->sla.max_reassign, 1000);
	assert_int_equal(cfg->reps[0].max_open, 1);
	assert_int_equal(cfg->reps[0].max_per_period, 0);
}

static void
test_redis_strings(void **state)
{
	(void)state;
	load_one_error("redis = { host = \"\"; };\n" MINIMAL, 1,
	    "'redis.host' must not be empty unless redis.unix_socket is set");
	load_one_error("redis = { prefix = \"\"; };\n" MINIMAL, 1,
	    "'redis.prefix' must be a non-empty string without spaces");
	load_one_error("redis = { prefix = \"l r:\"; };\n" MINIMAL, 1,
	    "'redis.prefix' must be a non-empty string without spaces");
	load_ok("redis = { host = \"\"; unix_socket = \"/run/redis.sock\";"
	    " prefix = \"{lr}:\"; };\n" MINIMAL);
	assert_string_equal(cfg->redis.host, "");
	assert_string_equal(cfg->redis.unix_socket, "/run/redis.sock");
	assert_string_equal(cfg->redis.prefix, "{lr}:");
}

/* --- scoring rules and segment conditions ---------------------------------- */

static void
test_unknown_op(void **state)
{
	(void)state;
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"like\"; points = 1; }"),
	    2, "'scoring.rules.[0].op' has unknown operator \"like\" (expected "
	    "eq, ne, in, contains_any, ends_with_any, lt, lte, gt, gte, "
	    "between, exists, is_true, per)");
}

/* An empty string in values would make contains_any match anything. */
static void
test_empty_value_in_list(void **state)
{
	(void)state;
	load_one_error(RULE_CONF("{ field = \"t\"; op = \"contains_any\"; "
	    "values = [\"vp\", \"\"]; points = 1; }"), 2,
	    "'scoring.rules.[0].values.[1]' must not be empty");
}

/* A rep listing a segment twice is a mistake, said as such. */
static void
test_rep_segment_twice(void **state)
{
	(void)state;
	load_one_error(REP_CONF("{ id = \"ann\"; segments = [\"all\", \"all\"]; }"),
	    5, "'reps.[0].segments' names segment \"all\" twice");
}

/* The audit trail: off by default; on with a bound; typed. */
static void
test_audit(void **state)
{
	(void)state;
	load_ok(MINIMAL);
	assert_false(cfg->audit.enabled);
	assert_int_equal(cfg->audit.max_len, 1000000);
	load_ok(MINIMAL "audit = { enabled = true; max_len = 500; };\n");
	assert_true(cfg->audit.enabled);
	assert_int_equal(cfg->audit.max_len, 500);
	load_one_error(MINIMAL "audit = { enabled = 1; };\n", 5,
	    "'audit.enabled' must be true or false");
	load_one_error(MINIMAL "audit = { max_len = 0; };\n", 5,
	    "'audit.max_len' must be a positive integer");
}

/* forecast and calibrate: defaults, bounds, and errors naming the key. */
static void
test_forecast_calibrate(void **state)
{
	(void)state;
	load_ok(MINIMAL);
	assert_int_equal(cfg->forecast.horizon, 3600);
	assert_int_equal(cfg->forecast.half_life, 900);
	assert_int_equal(cfg->forecast.interval, 15);
	assert_true(cfg->calibrate.max_reject_rate == 0.2);
	assert_int_equal(cfg->calibrate.min_outcomes, 20);
	load_ok(MINIMAL "forecast = { horizon = 0; half_life = 1; interval = 3600; };\n"
	    "calibrate = { max_reject_rate = 1; min_outcomes = 1; };\n");
	assert_int_equal(cfg->forecast.horizon, 0);	/* 0: no alerts */
	assert_int_equal(cfg->forecast.half_life, 1);
	assert_int_equal(cfg->forecast.interval, 3600);
	assert_true(cfg->calibrate.max_reject_rate == 1.0);
	assert_int_equal(cfg->calibrate.min_outcomes, 1);
	load_ok(MINIMAL "calibrate = { max_reject_rate = 0.05; };\n");
	assert_true(cfg->calibrate.max_reject_rate == 0.05);
	load_one_error(MINIMAL "forecast = { horizon = -1; };\n", 5,
	    "'forecast.horizon' must be a number of seconds between 0 and 2592000 (0 = no alert)");
	load_one_error(MINIMAL "forecast = { half_life = 0; };\n", 5,
	    "'forecast.half_life' must be a number of seconds between 1 and 604800");
	load_one_error(MINIMAL "forecast = {\n interval = 3601; };\n", 6,
	    "'forecast.interval' must be a number of seconds between 1 and 3600");
	load_one_error(MINIMAL "calibrate = { max_reject_rate = 1.5; };\n", 5,
	    "'calibrate.max_reject_rate' must be a fraction between 0 and 1");
	load_one_error(MINIMAL "calibrate = { max_reject_rate = \"low\"; };\n", 5,
	    "'calibrate.max_reject_rate' must be a number");
	load_one_error(MINIMAL "calibrate = { min_outcomes = 0; };\n", 5,
	    "'calibrate.min_outcomes' must be a positive integer");
	load_one_error(MINIMAL "forecast = 5;\n", 5,
	    "'forecast' must be a group { ... }");
}

static void
test_per_not_in_segment(void **state)
{
	(void)state;
	load_one_error(SEG_CONF("{ name = \"p\"; field = \"a\"; op = \"per\"; }"),
	    3, "'segments.[0].op' has unknown operator \"per\" (expected eq, "
	    "ne, in, contains_any, ends_with_any, lt, lte, gt, gte, between, "
	    "exists, is_true)");
}

static void
test_missing_operands(void **state)
{
	(void)state;
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"between\"; min = 1;"
	    " points = 1; }"), 2,
	    "'scoring.rules.[0].max' is required for op \"between\"");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"between\"; max = 1;"
	    " points = 1; }"), 2,
	    "'scoring.rules.[0].min' is required for op \"between\"");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"eq\"; points = 1; }"),
	    2, "'scoring.rules.[0].value' is required for op \"eq\"");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"gte\"; points = 1; }"),
	    2, "'scoring.rules.[0].value' is required for op \"gte\"");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"in\"; points = 1; }"),
	    2, "'scoring.rules.[0].values' is required for op \"in\"");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"in\"; values = [];"
	    " points = 1; }"), 2,
	    "'scoring.rules.[0].values' must be a non-empty list of strings");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"contains_any\";"
	    " values = \"x\"; points = 1; }"), 2,
	    "'scoring.rules.[0].values' must be a non-empty list of strings");
	/* the bad element's own line */
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"in\"; values = (\"x\",\n"
	    "3); points = 1; }"), 3,
	    "'scoring.rules.[0].values' must be a non-empty list of strings");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"lt\"; value = \"x\";"
	    " points = 1; }"), 2, "'scoring.rules.[0].value' must be a number");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"eq\"; value = [1];"
	    " points = 1; }"), 2, "'scoring.rules.[0].value' must be a number");
	load_one_error(RULE_CONF("{ op = \"exists\"; points = 1; }"), 2,
	    "'scoring.rules.[0].field' is required");
	load_one_error(RULE_CONF("{ field = \"a\"; points = 1; }"), 2,
	    "'scoring.rules.[0].op' is required");
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"exists\"; }"), 2,
	    "'scoring.rules.[0].points' is required");
	load_one_error(SEG_CONF("{ name = \"s\"; field = \"a\"; }"), 3,
	    "'segments.[0].op' is required");
	load_one_error(SEG_CONF("{ name = \"s\"; field = \"a\"; op = \"lt\"; }"),
	    3, "'segments.[0].value' is required for op \"lt\"");
}

static void
test_bad_field(void **state)
{
	(void)state;
	load_one_error(RULE_CONF("{ field = \"a..b\"; op = \"exists\";"
	    " points = 1; }"), 2, "'scoring.rules.[0].field' must be a dotted "
	    "path like \"activity.page_views\"");
	load_one_error(RULE_CONF("{ field = \"\"; op = \"exists\"; points = 1; }"),
	    2, "'scoring.rules.[0].field' must be a dotted path like "
	    "\"activity.page_views\"");
	load_one_error(RULE_CONF("{ field = \"a.\"; op = \"exists\";"
	    " points = 1; }"), 2, "'scoring.rules.[0].field' must be a dotted "
	    "path like \"activity.page_views\"");
}

static void
test_between_min_max(void **state)
{
	(void)state;
	load_one_error(RULE_CONF("{ field = \"a\"; op = \"between\"; min = 2.5;"
	    " max = 1; points = 1; }"), 2,
	    "'scoring.rules.[0].max' must not be smaller than min (2.5 > 1)");
	load_ok(RULE_CONF("{ field = \"a\"; op = \"between\"; min = 3; max = 3;"
	    " points = 1; }"));
	assert_true(cfg->scoring.rules[0].cond.min == 3.0);
	assert_true(cfg->scoring.rules[0].cond.max == 3.0);
}

static void
test_scoring_required(void **state)
{
	(void)state;
	load_one_error(SEGS REPS, 3, "'scoring' is required");
	load_one_error("scoring = {\n  rules = ();\n};\n" SEGS REPS, 1,
	    "'scoring.mql_threshold' is required");
	load_one_error("scoring = {\n  mql_threshold = 10;\n};\n" SEGS REPS, 1,
	    "'scoring.rules' is required (it may be empty: ())");
	load_ok("scoring = { mql_threshold = -5; rules = (); };\n" SEGS REPS);
	assert_int_equal(cfg->scoring.mql_threshold, -5);
	assert_int_equal(cfg->scoring.nrules, 0);
}

/* --- segments, default segment, reps --------------------------------------- */

static void
test_default_segment(void **state)
{
	(void)state;
	load_one_error(SCORING "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"none\";\n" REPS, 3,
	    "'default_segment' names \"none\", which is not one of the segments");
	load_one_error(SCORING "segments = ( { name = \"all\"; } );\n"
	    "default_segment = 0;\n" REPS, 3,
	    "'default_segment' must be a string");
	load_one_error(SCORING "segments = ( { name = \"all\"; } );\n" REPS, 3,
	    "'default_segment' is required");
	load_ok(SCORING "segments = ( { name = \"a\"; }, { name = \"b\"; } );\n"
	    "default_segment = \"b\";\n"
	    "reps = ( { id = \"ann\"; segments = [\"a\", \"b\"]; } );\n");
	assert_int_equal(cfg->segments.default_idx, 1);
}

static void
test_segments_required(void **state)
{
	(void)state;
	load_one_error(SCORING "default_segment = \"all\";\n" REPS, 3,
	    "'segments' is required");
	/* the reps' segments are not checked against an empty list */
	load_one_error(SCORING "segments = ();\ndefault_segment = \"all\";\n"
	    REPS, 2, "'segments' must be a non-empty list ( ... )");
}

static void
test_segment_without_name(void **state)
{
	(void)state;
	/* a segment that failed to load is no match for any name */
	load_fails(SCORING "segments = ( { field = \"a\"; op = \"exists\"; } );\n"
	    "default_segment = \"all\";\n" REPS, 3);
	assert_error(0, 2, "'segments.[0].name' is required");
	assert_error(1, 3, "'default_segment' names \"all\", which is not one "
	    "of the segments");
	assert_error(2, 4, "'reps.[0].segments' names unknown segment \"all\"");
	load_fails(SCORING "segments = ( { name = 5; }, { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n" REPS, 1);
	assert_error(0, 2, "'segments.[0].name' must be a string");
}

static void
test_duplicate_segment(void **state)
{
	(void)state;
	load_one_error(SCORING "segments = (\n"
	    "  { name = \"all\"; },\n"
	    "  { name = \"all\"; field = \"a\"; op = \"exists\"; }\n"
	    ");\n"
	    "default_segment = \"all\";\n" REPS, 4,
	    "'segments.[1].name' duplicates segment \"all\" of line 3");
}

static void
test_reps_required(void **state)
{
	(void)state;
	load_one_error(SCORING SEGS, 3, "'reps' is required");
	load_one_error(SCORING SEGS "reps = ();\n", 4,
	    "'reps' must be a non-empty list of reps ( { id = ...; }, ... )");
	load_one_error(REP_CONF("{ segments = [\"all\"]; }"), 5,
	    "'reps.[0].id' is required");
	load_one_error(REP_CONF("{ id = \"ann\"; }"), 5,
	    "'reps.[0].segments' is required");
}

static void
test_rep_segments(void **state)
{
	(void)state;
	load_one_error(REP_CONF("{ id = \"ann\";\n  segments = [\"all\","
	    " \"huge\"]; }"), 6,
	    "'reps.[0].segments' names unknown segment \"huge\"");
	load_one_error(REP_CONF("{ id = \"ann\"; segments = []; }"), 5,
	    "'reps.[0].segments' must be a non-empty list of segment names");
}

static void
test_duplicate_rep(void **state)
{
	(void)state;
	load_one_error(REP_CONF(
	    "{ id = \"ann\"; segments = [\"all\"]; },\n"
	    "{ id = \"bob\"; segments = [\"all\"]; },\n"
	    "{ id = \"ann\"; segments = [\"all\"]; }"), 7,
	    "'reps.[2].id' duplicates rep \"ann\" of line 5");
}

static void
test_invalid_names(void **state)
{
	(void)state;
	load_one_error(REP_CONF("{ id = \"ann b\"; segments = [\"all\"]; }"), 5,
	    "'reps.[0].id' " NAME_MSG);
	load_one_error(REP_CONF("{ id = \"ann:b\"; segments = [\"all\"]; }"), 5,
	    "'reps.[0].id' " NAME_MSG);
	load_one_error(REP_CONF("{ id = \"\"; segments = [\"all\"]; }"), 5,
	    "'reps.[0].id' " NAME_MSG);
	load_one_error(REP_CONF("{ id = \"a123456789b123456789c123456789"
	    "d123456789e123456789f123456789g1234\"; segments = [\"all\"]; }"), 5,
	    "'reps.[0].id' " NAME_MSG);
	load_one_error(SEG_CONF("{ name = \"big one\"; }"), 3,
	    "'segments.[0].name' " NAME_MSG);
	load_one_error(SEG_CONF("{ name = \"big:one\"; }"), 3,
	    "'segments.[0].name' " NAME_MSG);
	load_one_error(SEG_CONF("{ name = \"a123456789b123456789c123456789"
	    "d123456789e123456789f123456789g1234\"; }"), 3,
	    "'segments.[0].name' " NAME_MSG);
	/* 64 characters and the whole alphabet are fine */
	load_ok(SCORING "segments = ( { name = \"a123456789b123456789"
	    "c123456789d123456789e123456789f123456789g123\"; } );\n"
	    "default_segment = \"a123456789b123456789c123456789d123456789"
	    "e123456789f123456789g123\";\n"
	    "reps = ( { id = \"Ann.B_c@d-9\"; segments = [\"a123456789b123456789"
	    "c123456789d123456789e123456789f123456789g123\"]; } );\n");
	assert_int_equal(strlen(cfg->segments.v[0].name), 64);
	assert_string_equal(cfg->reps[0].id, "Ann.B_c@d-9");
}

/* --- sla, http, log, redis password ---------------------------------------- */

static void
test_sla_warn_before(void **state)
{
	(void)state;
	load_one_error("sla = { follow_up = 60; warn_before = 60; };\n" MINIMAL,
	    1, "'sla.warn_before' must be smaller than sla.follow_up "
	    "(60 >= 60)");
	load_one_error("sla = { follow_up = 60; warn_before = 61; };\n" MINIMAL,
	    1, "'sla.warn_before' must be smaller than sla.follow_up "
	    "(61 >= 60)");
	/* against the default follow_up of 300 */
	load_one_error("sla = { warn_before = 300; };\n" MINIMAL, 1,
	    "'sla.warn_before' must be smaller than sla.follow_up "
	    "(300 >= 300)");
	load_one_error("sla = { warn_before = -1; };\n" MINIMAL, 1,
	    "'sla.warn_before' must be a number of seconds >= 0 "
	    "(0 = no warning)");
	load_ok("sla = { follow_up = 60; warn_before = 0; };\n" MINIMAL);
	assert_int_equal(cfg->sla.follow_up, 60);
	assert_int_equal(cfg->sla.warn_before, 0);
	load_ok("sla = { follow_up = 60; warn_before = 59; };\n" MINIMAL);
	assert_int_equal(cfg->sla.warn_before, 59);
}

static void
test_sla_on_breach(void **state)
{
	(void)state;
	load_one_error("sla = { on_breach = \"Alert\"; };\n" MINIMAL, 1,
	    "'sla.on_breach' must be \"alert\" or \"reassign\", not \"Alert\"");
	load_one_error("sla = { on_breach = \"\"; };\n" MINIMAL, 1,
	    "'sla.on_breach' must be \"alert\" or \"reassign\", not \"\"");
	load_ok("sla = { on_breach = \"reassign\"; max_reassign = 3; };\n"
	    MINIMAL);
	assert_int_equal(cfg->sla.on_breach, SLA_ON_BREACH_REASSIGN);
	assert_int_equal(cfg->sla.max_reassign, 3);
}

static void
test_http_listen_bad(void **state)
{
	static const char *const bad[] = {"nonsense", "host:", ":80",
	    "1.2.3.4:0", "1.2.3.4:99999", "::1:80", "[::1]", "[::1]80",
	    "[]:80", "1.2.3.4:80x", "1.2.3.4: 80", "1.2.3.4:+80",
	    "1.2.3.4:-1"};
	char text[512], msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "http = { listen = \"%s\"; };\n%s",
		    bad[i], MINIMAL);
		snprintf(msg, sizeof(msg), LISTEN_MSG, bad[i]);
		load_one_error(text, 1, msg);
	}
}

static void
test_http_listen_good(void **state)
{
	(void)state;
	load_ok("http = { listen = \"[::1]:9464\"; };\n" MINIMAL);
	assert_string_equal(cfg->http.listen, "[::1]:9464");
	assert_string_equal(cfg->http.host, "::1");
	assert_int_equal(cfg->http.port, 9464);
	load_ok("http = { listen = \"0.0.0.0:80\"; };\n" MINIMAL);
	assert_string_equal(cfg->http.host, "0.0.0.0");
	assert_int_equal(cfg->http.port, 80);
	load_ok("http = { listen = \"localhost:65535\"; };\n" MINIMAL);
	assert_string_equal(cfg->http.host, "localhost");
	assert_int_equal(cfg->http.port, 65535);
	load_ok("http = { listen = \"\"; };\n" MINIMAL);
	assert_string_equal(cfg->http.listen, "");
	assert_null(cfg->http.host);
	assert_int_equal(cfg->http.port, 0);
}

static void
test_log_level(void **state)
{
	(void)state;
	load_one_error("log = { level = \"verbose\"; };\n" MINIMAL, 1,
	    "'log.level' must be one of \"error\", \"warning\", \"info\", "
	    "\"debug\"");
	load_ok("log = { level = \"debug\"; };\n" MINIMAL);
	assert_int_equal(cfg->log.level, LEVEL_DEBUG);
}

static void
test_password_and_file(void **state)
{
	(void)state;
	load_one_error("redis = { password = \"a\";"
	    " password_file = \"/etc/hostname\"; };\n" MINIMAL, 1,
	    "'redis.password_file' cannot be used together with redis.password");
}

/* README "High availability": sentinels, ACL users, replica acks. */
static void
test_high_availability(void **state)
{
	(void)state;
	load_ok("redis = { username = \"lr\"; password = \"pw\";\n"
	    " sentinels = [\"10.0.0.1:26379\", \"[::1]:26380\"];\n"
	    " master_name = \"lr\"; sentinel_username = \"s\";\n"
	    " sentinel_password = \"sp\"; replica_acks = 2;\n"
	    " replica_ack_timeout = 250; };\n" MINIMAL);
	assert_string_equal(cfg->redis.username, "lr");
	assert_int_equal(cfg->redis.nsentinels, 2);
	assert_string_equal(cfg->redis.sentinel_hosts[0], "10.0.0.1");
	assert_int_equal(cfg->redis.sentinel_ports[0], 26379);
	assert_string_equal(cfg->redis.sentinel_hosts[1], "::1");
	assert_int_equal(cfg->redis.sentinel_ports[1], 26380);
	assert_string_equal(cfg->redis.master_name, "lr");
	assert_int_equal(cfg->redis.replica_acks, 2);
	assert_int_equal(cfg->redis.replica_ack_timeout, 250);

	load_ok(MINIMAL);
	assert_int_equal(cfg->redis.nsentinels, 0);
	assert_int_equal(cfg->redis.replica_acks, 0);
	assert_int_equal(cfg->redis.replica_ack_timeout, 1000);
	assert_false(cfg->redis.cluster);

	load_one_error("redis = {\n sentinels = [\"a:1\",\n \"nohost\"];\n"
	    " master_name = \"m\"; };\n" MINIMAL, 3,
	    "'redis.sentinels' must name sentinels as \"host:port\" or "
	    "\"[ipv6]:port\", not \"nohost\"");
	load_one_error("redis = {\n sentinels = [\"a:70000\"];"
	    " master_name = \"m\"; };\n" MINIMAL, 2,
	    "'redis.sentinels' must name sentinels as \"host:port\" or "
	    "\"[ipv6]:port\", not \"a:70000\"");
	load_one_error("redis = {\n sentinels = [\"a:1\"]; };\n" MINIMAL, 2,
	    "'redis.master_name' is required with redis.sentinels");
	load_one_error("redis = {\n master_name = \"m\"; };\n" MINIMAL, 2,
	    "'redis.master_name' needs redis.sentinels");
	load_one_error("redis = {\n sentinels = 5; master_name = \"m\"; };\n"
	    MINIMAL, 2, "'redis.sentinels' must be a list of \"host:port\" "
	    "strings");
	load_one_error("redis = {\n username = \"u\"; };\n" MINIMAL, 2,
	    "'redis.username' needs a password (redis.password or "
	    "redis.password_file)");
	load_one_error("redis = { replica_acks = 65; };\n" MINIMAL, 1,
	    "'redis.replica_acks' must be a number of replicas between 0 and "
	    "64 (0 = no WAIT)");
	load_one_error("redis = { replica_ack_timeout = 0; };\n" MINIMAL, 1,
	    "'redis.replica_ack_timeout' must be a number of milliseconds "
	    "between 1 and 60000");
	load_one_error("redis = {\n cluster = true; };\n" MINIMAL, 2,
	    "'redis.prefix' must carry a non-empty hash tag with "
	    "redis.cluster (\"{acme}:\"), so that every key is in one slot; "
	    "not \"lr:\"");
	load_one_error("redis = {\n cluster = true; prefix = \"{}:\"; };\n"
	    MINIMAL, 2, "'redis.prefix' must carry a non-empty hash tag with "
	    "redis.cluster (\"{acme}:\"), so that every key is in one slot; "
	    "not \"{}:\"");
	load_ok("redis = { cluster = true; prefix = \"lr:{acme}:\"; };\n"
	    MINIMAL);
	assert_true(cfg->redis.cluster);
	load_one_error("redis = { cluster = true; prefix = \"{a}\";\n"
	    " sentinels = [\"a:1\"]; master_name = \"m\"; };\n" MINIMAL, 1,
	    "'redis.cluster' cannot be used together with redis.sentinels");
	load_one_error("redis = { cluster = true; prefix = \"{a}\";\n"
	    " db = 2; };\n" MINIMAL, 2,
	    "'redis.db' must be 0 with redis.cluster (a cluster has one "
	    "database)");
	assert_true(cfg_has_hash_tag("{a}"));
	assert_true(cfg_has_hash_tag("x{ab}y{"));
	assert_false(cfg_has_hash_tag("}a{"));
	assert_false(cfg_has_hash_tag("{}a}"));
}

static void
test_password_file(void **state)
{
	char text[512], msg[256];

	(void)state;
	tmp_write(aux_path, sizeof(aux_path), "s3cr3t \n\r\n");
	snprintf(text, sizeof(text), "redis = { password_file = \"%s\"; };\n%s",
	    aux_path, MINIMAL);
	load_ok(text);
	assert_string_equal(cfg->redis.password, "s3cr3t ");
	assert_string_equal(cfg->redis.password_file, aux_path);

	load_one_error("redis = { password_file = \"/nonexistent/pw\"; };\n"
	    MINIMAL, 1, "'redis.password_file' cannot be read: "
	    "'/nonexistent/pw': No such file or directory");

	snprintf(text, sizeof(text), "redis = { password_file = \"%s\"; };\n%s",
	    "/tmp", MINIMAL);
	snprintf(msg, sizeof(msg), "'redis.password_file' cannot be read: "
	    "'%s': Is a directory", "/tmp");
	load_one_error(text, 1, msg);
}

/* http.auth_file: user:password lines, blank lines skipped; errors name
 * the file and the line. */
static void
test_auth_file(void **state)
{
	char text[512], msg[512];

	(void)state;
	tmp_write(aux_path, sizeof(aux_path), "ops:s3cret pass\r\n\nviewer:x:y\n");
	snprintf(text, sizeof(text), "http = { auth_file = \"%s\"; };\n%s",
	    aux_path, MINIMAL);
	load_ok(text);
	assert_int_equal(cfg->http.nauth, 2);
	assert_string_equal(cfg->http.auth[0], "ops:s3cret pass");
	assert_string_equal(cfg->http.auth[1], "viewer:x:y");

	load_ok(MINIMAL);
	assert_int_equal(cfg->http.nauth, 0);

	tmp_write(aux_path, sizeof(aux_path), "ops:x\n:nouser\n");
	snprintf(text, sizeof(text), "http = { auth_file = \"%s\"; };\n%s",
	    aux_path, MINIMAL);
	snprintf(msg, sizeof(msg), "'http.auth_file' '%s' line 2 is not "
	    "\"user:password\"", aux_path);
	load_one_error(text, 1, msg);

	tmp_write(aux_path, sizeof(aux_path), "\n\n");
	snprintf(msg, sizeof(msg), "'http.auth_file' '%s' holds no "
	    "\"user:password\" line", aux_path);
	load_one_error(text, 1, msg);

	load_one_error("http = { auth_file = \"/nonexistent/users\"; };\n"
	    MINIMAL, 1, "'http.auth_file' cannot be read: "
	    "'/nonexistent/users': No such file or directory");
}

static void
test_password_env(void **state)
{
	char text[512];

	(void)state;
	assert_int_equal(setenv("LEADROUTED_REDIS_PASSWORD", "from-env", 1), 0);
	load_ok("redis = { password = \"from-conf\"; };\n" MINIMAL);
	assert_string_equal(cfg->redis.password, "from-env");

	tmp_write(aux_path, sizeof(aux_path), "from-file\n");
	snprintf(text, sizeof(text), "redis = { password_file = \"%s\"; };\n%s",
	    aux_path, MINIMAL);
	load_ok(text);
	assert_string_equal(cfg->redis.password, "from-env");

	/* set but empty is as good as unset */
	assert_int_equal(setenv("LEADROUTED_REDIS_PASSWORD", "", 1), 0);
	load_ok("redis = { password = \"from-conf\"; };\n" MINIMAL);
	assert_string_equal(cfg->redis.password, "from-conf");

	assert_int_equal(unsetenv("LEADROUTED_REDIS_PASSWORD"), 0);
	load_ok(MINIMAL);
	assert_string_equal(cfg->redis.password, "");
}

/* --- warnings -------------------------------------------------------------- */

static void
test_unknown_keys_warn(void **state)
{
	(void)state;
	load("bogus = 1;\n"
	    "redis = { hots = \"x\"; };\n"
	    "scoring = { mql_threshold = 60; rules = (\n"
	    "  { field = \"a\"; op = \"exists\"; points = 1; value = 3; }\n"
	    "); };\n"
	    SEGS
	    "reps = ( { id = \"ann\"; segments = [\"all\"]; max_opne = 3; } );\n");
	assert_non_null(cfg);
	assert_counts(0, 4);
	assert_warning(0, 1, "'bogus' is not a known key; ignored");
	assert_warning(1, 2, "'redis.hots' is not a known key; ignored");
	assert_warning(2, 4, "'scoring.rules.[0].value' is not a known key; "
	    "ignored");
	assert_warning(3, 8, "'reps.[0].max_opne' is not a known key; ignored");
	assert_int_equal(cfg->reps[0].max_open, 25);
}

static void
test_segment_without_reps_warns(void **state)
{
	(void)state;
	load(SCORING "segments = (\n"
	    "  { name = \"all\"; },\n"
	    "  { name = \"big\"; field = \"employees\"; op = \"gte\";"
	    " value = 1000; }\n"
	    ");\n"
	    "default_segment = \"all\";\n" REPS);
	assert_non_null(cfg);
	assert_counts(0, 1);
	assert_warning(0, 4, "segment \"big\" has no reps: its MQLs will wait "
	    "in its backlog");
	assert_int_equal(cfg->segments.n, 2);
}

static void
test_warnings_kept_on_error(void **state)
{
	(void)state;
	load_fails("redis = { port = 0; prot = 1; };\n" MINIMAL, 1);
	assert_error(0, 1, "'redis.port' must be a port number (1-65535)");
	assert_counts(1, 1);
	assert_warning(0, 1, "'redis.prot' is not a known key; ignored");
}

/* --- exported helpers ------------------------------------------------------ */

static void
test_parse_listen(void **state)
{
	char *host;
	int port = -1;

	(void)state;
	assert_int_equal(cfg_parse_listen("127.0.0.1:9464", &host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9464);
	free(host);
	assert_int_equal(cfg_parse_listen("[fe80::1]:1", &host, &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 1);
	free(host);
	assert_int_equal(cfg_parse_listen("h:65535", &host, &port), 0);
	assert_string_equal(host, "h");
	assert_int_equal(port, 65535);
	free(host);

	port = 42;
	assert_int_equal(cfg_parse_listen("h:65536", &host, &port), -1);
	assert_null(host);
	assert_int_equal(port, 42);
	assert_int_equal(cfg_parse_listen("", &host, &port), -1);
	assert_null(host);
	assert_int_equal(cfg_parse_listen("h", &host, &port), -1);
	assert_int_equal(cfg_parse_listen("h:", &host, &port), -1);
	assert_int_equal(cfg_parse_listen(":1", &host, &port), -1);
	assert_int_equal(cfg_parse_listen("::1:80", &host, &port), -1);
	assert_int_equal(cfg_parse_listen("[::1:80", &host, &port), -1);
	assert_int_equal(cfg_parse_listen("h:0", &host, &port), -1);
	assert_int_equal(cfg_parse_listen("h: 1", &host, &port), -1);
	assert_int_equal(cfg_parse_listen("h:+1", &host, &port), -1);
	assert_int_equal(cfg_parse_listen("h:99999999999999999999", &host,
	    &port), -1);
	assert_null(host);
	assert_int_equal(port, 42);
}

static void
test_valid_name(void **state)
{
	(void)state;
	assert_true(cfg_valid_name("a"));
	assert_true(cfg_valid_name("John.Smith_2@acme-corp"));
	assert_true(cfg_valid_name("0123456789012345678901234567890123456789"
	    "012345678901234567890123"));
	assert_false(cfg_valid_name("0123456789012345678901234567890123456789"
	    "0123456789012345678901234"));
	assert_false(cfg_valid_name(""));
	assert_false(cfg_valid_name("a b"));
	assert_false(cfg_valid_name("a:b"));
	assert_false(cfg_valid_name("a/b"));
	assert_false(cfg_valid_name("a{b}"));
	assert_false(cfg_valid_name("caf\xc3\xa9"));
}

static void
test_rep_find(void **state)
{
	const struct rep_cfg *r;

	(void)state;
	cfg = cfg_load(EXAMPLE_CONF, &diag);
	assert_non_null(cfg);
	assert_non_null(r = cfg_rep_find(cfg, "kenji"));
	assert_ptr_equal(r, &cfg->reps[5]);
	assert_string_equal(r->name, "Kenji Watanabe");
	assert_int_equal(r->max_open, 15);
	assert_non_null(r = cfg_rep_find(cfg, "ava"));
	assert_ptr_equal(r, &cfg->reps[0]);
	assert_null(cfg_rep_find(cfg, "Kenji"));
	assert_null(cfg_rep_find(cfg, "nobody"));
	assert_null(cfg_rep_find(cfg, ""));
}

static void
test_version(void **state)
{
	char v1[17], v2[17];

	(void)state;
	load_ok(MINIMAL);
	/* FNV-1a 64 of MINIMAL's bytes */
	assert_string_equal(cfg->version, "3a96883d58284fc3");
	memcpy(v1, cfg->version, sizeof(v1));

	load_ok(MINIMAL);
	assert_string_equal(cfg->version, v1);

	/* a comment changes the bytes, not the meaning */
	load_ok(MINIMAL "# reviewed\n");
	assert_int_equal(strspn(cfg->version, "0123456789abcdef"), 16);
	assert_string_not_equal(cfg->version, v1);
	memcpy(v2, cfg->version, sizeof(v2));

	load_ok("redis = { port = 6380; };\n" MINIMAL);
	assert_string_not_equal(cfg->version, v1);
	assert_string_not_equal(cfg->version, v2);
}

/* --- the plan section ------------------------------------------------------ */

#define PLAN_CONV \
	"conversion = { mql_to_sql = 0.3; sql_to_opportunity = 0.7;" \
	" opportunity_to_proposal = 0.6; proposal_to_contract = 0.6;" \
	" contract_to_deal = 0.9; };"

static void
test_plan_section(void **state)
{
	(void)state;
	load_ok(MINIMAL "plan = { " PLAN_CONV "\n"
	    "segments = ( { name = \"all\"; target = 1000; avg_deal = 10;"
	    " conversion = { mql_to_sql = 0.5; }; } ); };\n");
	assert_true(cfg->plan.present);
	assert_true(cfg->plan.period_days == 91);
	assert_true(cfg->plan.mqls_per_rep_month == 0);
	assert_int_equal(cfg->plan.nsegs, 1);
	assert_true(cfg->plan.segs[0].target == 1000);
	assert_true(cfg->plan.segs[0].avg_deal == 10);
	assert_true(cfg->plan.segs[0].conv[0] == 0.5);
	assert_true(cfg->plan.segs[0].conv[1] == 0.7);

	load_fails(MINIMAL "plan = { period_days = 0; mqls_per_rep_month = -1;"
	    " conversion = { mql_to_sql = 1.5; };\n"
	    "segments = ( { name = \"none\"; target = -1; },\n"
	    "{ name = \"all\"; avg_deal = 0; }, 7 ); };\n", 13);
	assert_error(0, 5, "'plan.period_days' must be a number of days "
	    "(above 0, at most 3660)");
	assert_error(1, 5, "'plan.mqls_per_rep_month' must be a number >= 0");
	assert_error(2, 5, "'plan.conversion.mql_to_sql' must be a fraction "
	    "above 0 and at most 1 (0.3 is 30%)");
	assert_error(3, 5, "'plan.conversion.sql_to_opportunity' is required "
	    "(a fraction, e.g. 0.3 for 30%)");
	assert_error(7, 6, "'plan.segments.[0].name' names unknown segment "
	    "\"none\"");
	assert_error(8, 6, "'plan.segments.[0].target' must be a revenue >= 0");
	assert_error(9, 6, "'plan.segments.[0].avg_deal' is required");
	assert_error(10, 7, "'plan.segments.[1].target' is required");
	assert_error(11, 7, "'plan.segments.[1].avg_deal' must be a deal size "
	    "above 0");
	assert_error(12, 7, "'plan.segments.[2]' must be a group { name = ...; "
	    "target = ...; avg_deal = ...; }");
}

/* A plan file (leadctl plan --plan) holds a plan section and nothing else. */
static void
test_plan_file(void **state)
{
	struct plan plan;
	char want[256];

	(void)state;
	load_ok(MINIMAL);
	tmp_write(aux_path, sizeof(aux_path), "plan = { period_days = 30; "
	    PLAN_CONV "\nsegments = ( { name = \"all\"; target = 5;"
	    " avg_deal = 1; } ); };\n");
	assert_int_equal(cfg_load_plan(aux_path, cfg, &plan, &diag), 0);
	assert_true(plan.present);
	assert_true(plan.period_days == 30);
	assert_int_equal(plan.nsegs, 1);
	plan_clear(&plan);

	tmp_write(aux_path, sizeof(aux_path), "scoring = 1;\n");
	assert_int_equal(cfg_load_plan(aux_path, cfg, &plan, &diag), -1);
	assert_int_equal(diag.nerrors, 1);
	snprintf(want, sizeof(want), "%s:1: 'plan' is required in a plan file",
	    aux_path);
	assert_string_equal(diag.errors[0], want);
	assert_int_equal(diag.nwarnings, 1);
	snprintf(want, sizeof(want), "%s:1: 'scoring' is not a known key; "
	    "ignored", aux_path);
	assert_string_equal(diag.warnings[0], want);
}

/* --- the key table --------------------------------------------------------- */

/* Every key of the key table has its row in README's Configuration table. */
static void
test_keys_documented(void **state)
{
	char *readme, *section, *end, row[128];
	size_t len, i, missing = 0;
	const char *name;
	FILE *f;

	(void)state;
	assert_non_null(f = fopen("README.md", "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = (size_t)ftell(f);
	rewind(f);
	assert_non_null(readme = malloc(len + 1));
	assert_int_equal(fread(readme, 1, len, f), len);
	fclose(f);
	readme[len] = '\0';
	section = strstr(readme, "\n## Configuration\n");
	if (section != NULL && (end = strstr(section + 1, "\n## ")) != NULL)
		*end = '\0';
	for (i = 0; (name = cfg_key_name(i)) != NULL; i++) {
		snprintf(row, sizeof(row), "\n| `%s` |", name);
		if (section == NULL || strstr(section, row) == NULL) {
			print_message("'%s' has no row in README.md's "
			    "Configuration table\n", name);
			missing++;
		}
	}
	free(readme);
	assert_non_null(section);
	assert_true(i >= 30);	/* the table, not an empty list */
	assert_int_equal(missing, 0);
}

/* --- calendars (README "Business hours") ----------------------------------- */

/* A calendar "emea" on lines 5-7: its name and zone on 6, body on 7. */
#define CAL_CONF(body) MINIMAL "calendars = (\n" \
	"{ name = \"emea\"; timezone = \"Europe/Berlin\";\n" body "\n} );\n"
#define CAL_OK "hours = { mon = [\"09:00-12:30\", \"13:30-17:30\"]; " \
	"fri = [\"09:00-16:00\", \"20:00-24:00\"]; sat = [\"10:00:30-10:00:33\"]; }; " \
	"holidays = [\"2026-12-24\", \"2027-01-01\"];"
#define SPAN_MSG "must be a list of intervals \"HH:MM-HH:MM\" or " \
	"\"HH:MM:SS-HH:MM:SS\" (24:00 allowed as an end)"

static void
test_calendars_ok(void **state)
{
	const struct calendar *cal;

	(void)state;
	load_ok(MINIMAL);
	assert_int_equal(cfg->ncalendars, 0);
	assert_null(cfg->sla.calendar);
	assert_null(cfg->reps[0].calendar);
	load_ok(CAL_CONF(CAL_OK) "sla = { calendar = \"emea\"; };\n");
	assert_int_equal(cfg->ncalendars, 1);
	assert_non_null(cal = cfg_calendar_find(cfg, "emea"));
	assert_null(cfg_calendar_find(cfg, "apac"));
	assert_string_equal(cal->zone, "Europe/Berlin");
	assert_int_equal(cal->nspans[1], 2);	/* mon */
	assert_int_equal(cal->spans[1][1].end_s, 17 * 3600 + 1800);
	assert_int_equal(cal->spans[5][1].end_s, 86400);	/* fri 24:00 */
	assert_int_equal(cal->spans[6][0].start_s, 36030);	/* sat 10:00:30 */
	assert_int_equal(cal->nspans[0], 0);	/* sun: left out, closed */
	assert_int_equal(cal->nholidays, 2);
	assert_string_equal(cfg->sla.calendar, "emea");
	/* a rep's shift, the calendars written after the reps */
	load_ok(REP_CONF("{ id = \"ann\"; segments = [\"all\"]; calendar = \"emea\"; }")
	    "calendars = ( { name = \"emea\"; timezone = \"UTC\"; "
	    "hours = { sun = [\"00:00-24:00\"]; }; } );\n");
	assert_string_equal(cfg->reps[0].calendar, "emea");
}

/* Errors in calendar "emea" (CAL_CONF): its body, the line, the message. */
static const struct {
	const char *body;
	int line;
	const char *msg;
} cal_errors[] = {
	{"hours = { mon = [\"9-17\"]; };", 7,
	    "'calendars.[0].hours.mon' " SPAN_MSG ", not \"9-17\""},
	{"hours = { mon = [\"09:00-24:30\"]; };", 7,
	    "'calendars.[0].hours.mon' " SPAN_MSG ", not \"09:00-24:30\""},
	{"hours = { mon = [1]; };", 7,
	    "'calendars.[0].hours.mon' " SPAN_MSG},
	{"hours = { mon = \"09:00-17:00\"; };", 7,
	    "'calendars.[0].hours.mon' " SPAN_MSG},
	{"hours = { mon = [\"17:00-09:00\"]; };", 7,
	    "'calendars.[0].hours.mon' has interval \"17:00-09:00\" whose "
	    "start is not before its end"},
	{"hours = { mon = [\"09:00-12:00\", "
	    "\"11:00:30-13:00\"]; };", 7,
	    "'calendars.[0].hours.mon' has interval \"11:00:30-13:00\" "
	    "overlapping \"09:00-12:00\""},
	{"hours = { monday = [\"09:00-17:00\"]; };", 7,
	    "'calendars.[0].hours.monday' is not a day: mon, tue, wed, thu, "
	    "fri, sat or sun"},
	{"hours = { mon = []; };", 7,
	    "'calendars.[0].hours' has no open time at all: a clock that "
	    "can never run"},
	{"hours = { };", 7,
	    "'calendars.[0].hours' has no open time at all: a clock that "
	    "can never run"},
	{"hours = { mon = [\"09:00-17:00\"]; }; holidays = [\"2027-02-29\"];", 7,
	    "'calendars.[0].holidays' must be a list of dates \"YYYY-MM-DD\", "
	    "not \"2027-02-29\""},
	{"hours = { mon = [\"09:00-17:00\"]; }; holidays = \"2027-01-01\";", 7,
	    "'calendars.[0].holidays' must be a list of dates \"YYYY-MM-DD\""},
	{"", 6,
	    "'calendars.[0].hours' is required"},
};

/* Every calendar error names its file, line and key. */
static void
test_calendar_errors(void **state)
{
	char text[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(cal_errors) / sizeof(cal_errors[0]); i++) {
		snprintf(text, sizeof(text), CAL_CONF("%s"), cal_errors[i].body);
		load_one_error(text, cal_errors[i].line, cal_errors[i].msg);
	}
	load_one_error(MINIMAL "calendars = ( { name = \"x\"; timezone = "
	    "\"Mars/Base\"; hours = { mon = [\"09:00-17:00\"]; }; } );\n", 5,
	    "'calendars.[0].timezone' names unknown time zone \"Mars/Base\" "
	    "(not in the tz database)");
	load_one_error(MINIMAL "calendars = ( { name = \"x\"; timezone = "
	    "\"../../etc/passwd\"; hours = { mon = [\"09:00-17:00\"]; }; } );\n",
	    5, "'calendars.[0].timezone' names unknown time zone "
	    "\"../../etc/passwd\" (not in the tz database)");
	load_one_error(MINIMAL "calendars = ( { name = \"x\"; "
	    "hours = { mon = [\"09:00-17:00\"]; }; } );\n", 5,
	    "'calendars.[0].timezone' is required");
	load_one_error(MINIMAL "calendars = ( { name = \"a b\"; timezone = "
	    "\"UTC\"; hours = { mon = [\"09:00-17:00\"]; }; } );\n", 5,
	    "'calendars.[0].name' " NAME_MSG);
	load_one_error(CAL_CONF(CAL_OK) "sla = { calendar = \"apac\"; };\n", 9,
	    "'sla.calendar' names unknown calendar \"apac\"");
	load_one_error(MINIMAL "calendars = 1;\n", 5,
	    "'calendars' must be a list of calendars ( { name = ...; "
	    "timezone = ...; hours = { ... }; }, ... )");
	load_one_error(MINIMAL "calendars = ( 1 );\n", 5,
	    "'calendars.[0]' must be a group { name = ...; timezone = ...; "
	    "hours = { ... }; }");
	load_one_error(REP_CONF("{ id = \"ann\"; segments = [\"all\"]; "
	    "calendar = \"emea\"; }"), 5,
	    "'reps.[0].calendar' names unknown calendar \"emea\"");
	load_one_error(MINIMAL "calendars = (\n"
	    "{ name = \"emea\"; timezone = \"UTC\"; hours = { mon = [\"09:00-10:00\"]; }; },\n"
	    "{ name = \"emea\"; timezone = \"UTC\"; hours = { mon = [\"09:00-10:00\"]; }; }\n"
	    ");\n", 7, "'calendars.[1].name' duplicates calendar \"emea\"");
}

/* --- webhooks (README "Webhooks") ------------------------------------------ */

#define WH_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
/* One endpoint on line 5 (after MINIMAL): name "crm" and body. */
#define WH_CONF(body) MINIMAL "webhooks = ( { name = \"crm\"; " body " } );\n"
#define WH_URL "url = \"https://crm.example.com/hooks\"; "
#define URL_MSG "'webhooks.[0].url' must be an http:// or https:// URL " \
	"with a host (not quoted: a URL may hold a token)"

static void
test_webhooks_ok(void **state)
{
	const struct webhook_cfg *w;

	(void)state;
	load_ok(MINIMAL);
	assert_int_equal(cfg->nwebhooks, 0);
	load_ok(WH_CONF(WH_URL "secret = \"" WH_SECRET "\";"));
	assert_int_equal(cfg->nwebhooks, 1);
	w = &cfg->webhooks[0];
	assert_string_equal(w->name, "crm");
	assert_string_equal(w->url, "https://crm.example.com/hooks");
	assert_int_equal(w->events, 0x7ff);	/* every type */
	assert_int_equal(w->nreps, 0);
	assert_int_equal(w->key_len, 24);
	assert_int_equal(w->format, WH_FORMAT_STANDARD);
	assert_int_equal(w->timeout, 10);
	assert_int_equal(w->max_attempts, 10);
	assert_int_equal(w->max_backoff, 3600);
	load_ok(WH_CONF("url = \"http://127.0.0.1:8080/x\"; format = \"slack\"; "
	    "events = [\"lead.assigned\", \"sla.breach\"]; reps = [\"ann\"]; "
	    "timeout = 3; max_attempts = 1; max_backoff = 60;"));
	w = &cfg->webhooks[0];
	assert_int_equal(w->events, 1 | 1 << 8);
	assert_int_equal(w->nreps, 1);
	assert_string_equal(w->reps[0], "ann");
	assert_int_equal(w->key_len, 0);	/* slack: the secret is optional */
	assert_int_equal(w->format, WH_FORMAT_SLACK);
	/* secret_file: its first line */
	tmp_write(aux_path, sizeof(aux_path), WH_SECRET "\n");
	{
		char text[1024];

		snprintf(text, sizeof(text), WH_CONF(WH_URL "secret_file = \"%s\";"),
		    aux_path);
		load_ok(text);
		assert_int_equal(cfg->webhooks[0].key_len, 24);
	}
}

static const struct {
	const char *body;
	const char *msg;
} wh_errors[] = {
	{"url = \"ftp://x/y\"; secret = \"" WH_SECRET "\";", URL_MSG},
	{"url = \"https://\"; secret = \"" WH_SECRET "\";", URL_MSG},
	{"url = \"https://:80/hook\"; secret = \"" WH_SECRET "\";", URL_MSG},
	{"url = \"crm.example.com/hook\"; secret = \"" WH_SECRET "\";", URL_MSG},
	{WH_URL "secret = \"" WH_SECRET "\"; events = [\"lead.won\"];",
	    "'webhooks.[0].events' names unknown event type \"lead.won\""},
	{WH_URL "secret = \"" WH_SECRET "\"; events = [];",
	    "'webhooks.[0].events' must not be empty (leave it out for every "
	    "type)"},
	{WH_URL "secret = \"" WH_SECRET "\"; reps = [\"bob\"];",
	    "'webhooks.[0].reps' names unknown rep \"bob\""},
	{WH_URL "secret = \"whsec_abc\";",
	    "'webhooks.[0].secret' must be \"whsec_\" and the base64 of a key "
	    "of 24 to 64 bytes"},
	{WH_URL "secret = \"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\";",
	    "'webhooks.[0].secret' must be \"whsec_\" and the base64 of a key "
	    "of 24 to 64 bytes"},
	{WH_URL,
	    "'webhooks.[0].secret' is required for format \"standard\" (or "
	    "secret_file)"},
	{WH_URL "secret_file = \"/nonexistent/secret\";",
	    "'webhooks.[0].secret_file' cannot be read: '/nonexistent/secret': "
	    "No such file or directory"},
	{WH_URL "secret = \"" WH_SECRET "\"; secret_file = \"/x\";",
	    "'webhooks.[0].secret_file' cannot be given together with secret"},
	{WH_URL "secret = \"" WH_SECRET "\"; format = \"teams\";",
	    "'webhooks.[0].format' must be \"standard\" or \"slack\", not "
	    "\"teams\""},
	{WH_URL "secret = \"" WH_SECRET "\"; timeout = 0;",
	    "'webhooks.[0].timeout' must be a number of seconds between 1 "
	    "and 600"},
	{WH_URL "secret = \"" WH_SECRET "\"; max_attempts = 0;",
	    "'webhooks.[0].max_attempts' must be an integer between 1 and 1000"},
};

/* Every webhook error names its file, line and key; never the secret. */
static void
test_webhook_errors(void **state)
{
	char text[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(wh_errors) / sizeof(wh_errors[0]); i++) {
		snprintf(text, sizeof(text), WH_CONF("%s"), wh_errors[i].body);
		load_one_error(text, 5, wh_errors[i].msg);
	}
	load_one_error(MINIMAL "webhooks = (\n"
	    "{ name = \"crm\"; " WH_URL "secret = \"" WH_SECRET "\"; },\n"
	    "{ name = \"crm\"; " WH_URL "secret = \"" WH_SECRET "\"; }\n"
	    ");\n", 7, "'webhooks.[1].name' duplicates webhook \"crm\" of line 6");
	load_one_error(MINIMAL "webhooks = 1;\n", 5,
	    "'webhooks' must be a list of endpoints ( { name = ...; url = ...; "
	    "secret = ...; }, ... )");
	load_one_error(MINIMAL "webhooks = ( { url = \"https://x\"; secret = \""
	    WH_SECRET "\"; } );\n", 5, "'webhooks.[0].name' is required");
}

/* --- the loaded rules are compiled and evaluate ---------------------------- */

static void
test_example_rules_evaluate(void **state)
{
	struct score_hit hits[16];
	json_t *lead;
	size_t nhits;
	long long total;

	(void)state;
	cfg = cfg_load(EXAMPLE_CONF, &diag);
	assert_non_null(cfg);
	assert_int_equal(cfg->scoring.nrules, 16);

	lead = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:{s:b, s:i}}",
	    "title", "VP Sales", "employees", 250, "industry", "SaaS",
	    "country", "US", "source", "Partner", "email", "ann@acme.com",
	    "activity", "demo_request", 1, "page_views", 7);
	assert_non_null(lead);
	total = score_lead(&cfg->scoring, lead, hits, &nhits);
	assert_int_equal(total, 20 + 15 + 10 + 5 + 30 + 14 + 10);
	assert_true(score_is_mql(&cfg->scoring, total));
	assert_int_equal(nhits, 7);
	assert_int_equal(hits[0].rule, 0);
	assert_int_equal(hits[1].rule, 2);
	assert_int_equal(hits[2].rule, 4);
	assert_int_equal(hits[3].rule, 5);
	assert_int_equal(hits[4].rule, 6);
	assert_int_equal(hits[5].rule, 8);
	assert_int_equal(hits[5].points, 14);
	assert_int_equal(hits[6].rule, 10);
	assert_int_equal(segment_of(&cfg->segments, lead), 1);
	json_decref(lead);

	lead = json_pack("{s:s, s:i, s:s, s:{s:i}}", "title", "Student",
	    "employees", 20, "email", "kid@GMail.com", "activity",
	    "page_views", 50);
	assert_non_null(lead);
	total = score_lead(&cfg->scoring, lead, hits, &nhits);
	assert_int_equal(total, 20 - 15 - 40);
	assert_false(score_is_mql(&cfg->scoring, total));
	assert_int_equal(nhits, 3);
	assert_int_equal(hits[0].rule, 8);
	assert_int_equal(hits[0].points, 20);
	assert_int_equal(segment_of(&cfg->segments, lead), 0);
	json_decref(lead);

	lead = json_pack("{s:i}", "employees", 1000);
	assert_int_equal(segment_of(&cfg->segments, lead), 2);
	json_decref(lead);
	lead = json_pack("{s:s}", "employees", "many");
	assert_int_equal(segment_of(&cfg->segments, lead), 0);
	json_decref(lead);
}

static void
test_operands_compiled(void **state)
{
	const struct score_rule *r;
	json_t *lead;
	size_t nhits;

	(void)state;
	load_ok("scoring = { mql_threshold = 10; rules = (\n"
	    "  { field = \"vip\"; op = \"eq\"; value = true; points = 1; },\n"
	    "  { field = \"n\"; op = \"eq\"; value = 3; points = 10; },\n"
	    "  { field = \"src\"; op = \"ne\"; value = \"Ads\"; points = 100; },\n"
	    "  { field = \"x\"; op = \"between\"; min = 1.5; max = 2.5;"
	    " points = 1000; },\n"
	    "  { field = \"a.b\"; op = \"per\"; points = -3; max = 7; },\n"
	    "  { field = \"tags\"; op = \"in\"; values = [\"A\", \"b\"];"
	    " points = 5; }\n"
	    "); };\n"
	    "segments = (\n"
	    "  { name = \"big\"; field = \"n\"; op = \"gte\"; value = 3; },\n"
	    "  { name = \"rest\"; }\n"
	    ");\n"
	    "default_segment = \"rest\";\n"
	    "reps = ( { id = \"ann\"; segments = [\"big\", \"rest\"]; } );\n");
	assert_int_equal(cfg->scoring.nrules, 6);
	r = cfg->scoring.rules;
	assert_int_equal(r[0].cond.op, MATCH_EQ);
	assert_int_equal(r[0].cond.kind, MATCH_KIND_BOOL);
	assert_true(r[0].cond.boolean);
	assert_int_equal(r[0].line, 2);
	assert_int_equal(r[1].cond.kind, MATCH_KIND_NUMBER);
	assert_true(r[1].cond.num == 3.0);
	assert_int_equal(r[2].cond.op, MATCH_NE);
	assert_int_equal(r[2].cond.kind, MATCH_KIND_STRING);
	assert_int_equal(r[2].cond.nstrs, 1);
	assert_string_equal(r[2].cond.strs[0].s, "ads");
	assert_true(r[3].cond.min == 1.5 && r[3].cond.max == 2.5);
	assert_int_equal(r[4].cond.op, MATCH_PER);
	assert_int_equal(r[4].cond.npath, 2);
	assert_string_equal(r[4].cond.path[0], "a");
	assert_string_equal(r[4].cond.path[1], "b");
	assert_true(r[4].has_cap);
	assert_int_equal(r[4].cap, 7);
	assert_int_equal(r[4].points, -3);
	assert_int_equal(r[5].cond.nstrs, 2);
	assert_string_equal(r[5].cond.strs[0].s, "a");
	assert_int_equal(r[5].line, 7);
	assert_true(cfg->segments.v[0].has_cond);
	assert_int_equal(cfg->segments.v[0].cond.op, MATCH_GTE);
	assert_false(cfg->segments.v[1].has_cond);
	assert_int_equal(cfg->segments.default_idx, 1);

	lead = json_pack("{s:b, s:i, s:s, s:f, s:{s:i}, s:s}", "vip", 1,
	    "n", 3, "src", "web", "x", 2.5, "a", "b", 5, "tags", "a");
	assert_non_null(lead);
	assert_int_equal(score_lead(&cfg->scoring, lead, NULL, &nhits),
	    1 + 10 + 100 + 1000 - 7 + 5);
	assert_int_equal(nhits, 6);
	assert_int_equal(segment_of(&cfg->segments, lead), 0);
	json_decref(lead);

	lead = json_pack("{s:b, s:i, s:s, s:f}", "vip", 0, "n", 2,
	    "src", "ADS", "x", 1.4);
	assert_non_null(lead);
	assert_int_equal(score_lead(&cfg->scoring, lead, NULL, &nhits), 0);
	assert_int_equal(nhits, 0);
	assert_int_equal(segment_of(&cfg->segments, lead), 1);
	json_decref(lead);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_example_conf),
		T(test_minimal_defaults),
		T(test_rep_defaults),
		T(test_syntax_error),
		T(test_missing_file),
		T(test_directory),
		T(test_three_mistakes),
		T(test_empty_file),
		T(test_key_names),
		T(test_include),
		T(test_type_errors),
		T(test_group_types),
		T(test_range_errors),
		T(test_range_boundaries),
		T(test_redis_strings),
		T(test_unknown_op),
		T(test_empty_value_in_list),
		T(test_rep_segment_twice),
		T(test_audit),
		T(test_forecast_calibrate),
		T(test_per_not_in_segment),
		T(test_missing_operands),
		T(test_bad_field),
		T(test_between_min_max),
		T(test_scoring_required),
		T(test_default_segment),
		T(test_segments_required),
		T(test_segment_without_name),
		T(test_duplicate_segment),
		T(test_reps_required),
		T(test_rep_segments),
		T(test_duplicate_rep),
		T(test_invalid_names),
		T(test_sla_warn_before),
		T(test_sla_on_breach),
		T(test_http_listen_bad),
		T(test_http_listen_good),
		T(test_log_level),
		T(test_password_and_file),
		T(test_password_file),
		T(test_high_availability),
		T(test_password_env),
		T(test_auth_file),
		T(test_unknown_keys_warn),
		T(test_segment_without_reps_warns),
		T(test_warnings_kept_on_error),
		T(test_parse_listen),
		T(test_valid_name),
		T(test_rep_find),
		T(test_version),
		T(test_plan_section),
		T(test_plan_file),
		T(test_calendars_ok),
		T(test_calendar_errors),
		T(test_webhooks_ok),
		T(test_webhook_errors),
		T(test_keys_documented),
		T(test_example_rules_evaluate),
		T(test_operands_compiled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
