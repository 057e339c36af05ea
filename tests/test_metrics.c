/* test_metrics.c - cmocka tests of metrics.c's pure parts: parsing the metrics script's reply, rendering the exposition. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "metrics.h"

/* Two segments, two reps, one source of its own in /metrics. */
static const char test_conf[] =
    "scoring = { mql_threshold = 50; rules = (\n"
    "  { field = \"title\"; op = \"contains_any\"; values = [\"vp\"];"
    " points = 60; }\n"
    "); };\n"
    "segments = (\n"
    "  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
    "  { name = \"mid\"; field = \"employees\"; op = \"gte\"; value = 100; }\n"
    ");\n"
    "default_segment = \"mid\";\n"
    "reps = (\n"
    "  { id = \"ann\"; segments = [\"small\", \"mid\"]; max_open = 5;"
    " max_per_period = 7; },\n"
    "  { id = \"bob\"; segments = [\"mid\"]; max_open = 3;"
    " max_per_period = 0; }\n"
    ");\n"
    "insight = { top_sources = 1; };\n";

static struct lr_config *cfg;

/* --- a reply tree built by hand ------------------------------------ */

static redisReply *
r_new(int type)
{
	redisReply *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->type = type;
	return r;
}

static redisReply *
r_str(const char *s)
{
	redisReply *r = r_new(REDIS_REPLY_STRING);

	assert_non_null(r->str = strdup(s));
	r->len = strlen(s);
	return r;
}

static redisReply *
r_int(long long v)
{
	redisReply *r = r_new(REDIS_REPLY_INTEGER);

	r->integer = v;
	return r;
}

/* An array of the n replies that follow. */
static redisReply *
r_arr(size_t n, ...)
{
	redisReply *r = r_new(REDIS_REPLY_ARRAY);
	va_list ap;

	r->elements = n;
	if (n > 0)
		assert_non_null(r->element = calloc(n, sizeof(*r->element)));
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

/* An array of strings, from a NULL-terminated list. */
static redisReply *
r_strs(const char *const *v)
{
	redisReply *r = r_new(REDIS_REPLY_ARRAY);
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	r->elements = n;
	if (n > 0)
		assert_non_null(r->element = calloc(n, sizeof(*r->element)));
	for (size_t i = 0; i < n; i++)
		r->element[i] = r_str(v[i]);
	return r;
}

static void
r_free(redisReply *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->elements; i++)
		r_free(r->element[i]);
	free(r->element);
	free(r->str);
	free(r);
}

/* Put e in place of element i of r. */
static void
r_swap(redisReply *r, size_t i, redisReply *e)
{
	r_free(r->element[i]);
	r->element[i] = e;
}

static const char *const stats[] = {
	"received", "10", "valid", "8", "duplicate", "1",
	"dead:bad_json", "2",
	"nurture:below_threshold", "3",
	"mql:mid", "4",
	"assigned:mid", "4",
	"assigned_rep:ann", "3", "assigned_rep:bob", "1",
	"event:followed_up:ok", "2", "event:won:not_assignee", "1",
	"alert:sla_breach:mid:ann", "1",
	"closed:a\"b\\c\nd", "1",
	"h:latency:1", "2", "h:latency:3", "1", "h:latency:17", "1",
	"h:latency:sum", "1234", "h:latency:count", "4",
	NULL
};

static const char *const sources[] = {
	"web|received", "6", "web|mql", "3",
	"ads|received", "4", "ads|mql", "1",
	"partner|received", "1",
	NULL
};

static const char *const forecast[] = {
	"mid|at", "1717000000000", "mid|rate", "0.5", "mid|room", "3",
	"mid|eta", "-1", "mid|episode", "1",
	NULL
};

/* A reply shaped like the metrics script's for test_conf. */
static redisReply *
script_reply(void)
{
	return r_arr(WIRE_METRICS_REPLY_FIELDS, r_strs(stats),
	    r_arr(2, r_int(0), r_str("5")),
	    r_arr(6, r_int(2), r_int(3), r_int(1), r_int(1), r_int(0),
	    r_int(0)),
	    r_int(7), r_int(1), r_int(2), r_int(3), r_int(2),
	    r_strs(sources), r_strs(forecast));
}

/* --- rendering ----------------------------------------------------- */

static const struct metrics_local local = {
	.redis_up = true,
	.registered = true,
	.reconnects = 4,
	.reloads_ok = 2,
	.reloads_failed = 1,
	.version = "1.0\"x",
};

/* Render into a string the caller frees. */
static char *
render(const struct metrics_shared *shared, const struct metrics_local *l)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *out;

	assert_non_null(b);
	assert_int_equal(metrics_render(b, cfg, shared, l), 0);
	len = evbuffer_get_length(b);
	assert_non_null(out = malloc(len + 1));
	assert_int_equal(evbuffer_remove(b, out, len), (int)len);
	out[len] = '\0';
	evbuffer_free(b);
	return out;
}

/* Where the whole line stands in out, or NULL. */
static const char *
find_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; (p = strstr(p, line)) != NULL; p++)
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return p;
	return NULL;
}

static void
has_line(const char *out, const char *line)
{
	if (find_line(out, line) == NULL)
		fail_msg("no line '%s' in:\n%s", line, out);
}

static void
no_line(const char *out, const char *line)
{
	if (find_line(out, line) != NULL)
		fail_msg("line '%s' should not be there", line);
}

/* Lines a and b are there, a first. */
static void
in_order(const char *out, const char *a, const char *b)
{
	has_line(out, a);
	has_line(out, b);
	assert_true(find_line(out, a) < find_line(out, b));
}

static size_t
count(const char *out, const char *s)
{
	size_t n = 0;

	for (const char *p = out; (p = strstr(p, s)) != NULL; p++)
		n++;
	return n;
}

/* Render the script reply with the local state. */
static char *
render_all(void)
{
	redisReply *r = script_reply();
	struct metrics_shared m;
	char *out;

	assert_int_equal(metrics_parse(r, cfg, &m), 0);
	out = render(&m, &local);
	r_free(r);
	return out;
}

/* --- tests: parsing ------------------------------------------------ */

static void
test_parse_points_into_the_reply(void **state)
{
	redisReply *r = script_reply();
	struct metrics_shared m;

	(void)state;
	assert_int_equal(metrics_parse(r, cfg, &m), 0);
	assert_ptr_equal(m.stats, r->element[WIRE_METRICS_REPLY_STATS]);
	assert_ptr_equal(m.backlog, r->element[WIRE_METRICS_REPLY_BACKLOG]);
	assert_ptr_equal(m.reps, r->element[WIRE_METRICS_REPLY_REPS]);
	assert_ptr_equal(m.sources, r->element[WIRE_METRICS_REPLY_SOURCES]);
	assert_ptr_equal(m.forecast, r->element[WIRE_METRICS_REPLY_FORECAST]);
	assert_int_equal(m.incoming, 7);
	assert_int_equal(m.events, 1);
	assert_int_equal(m.dead, 2);
	assert_int_equal(m.sla_pending, 3);
	assert_int_equal(m.instances, 2);
	r_free(r);
}

static void
test_parse_empty_hashes(void **state)
{
	static const char *const none[] = {NULL};
	redisReply *r = script_reply();
	struct metrics_shared m;

	(void)state;
	r_swap(r, WIRE_METRICS_REPLY_STATS, r_strs(none));
	r_swap(r, WIRE_METRICS_REPLY_SOURCES, r_strs(none));
	r_swap(r, WIRE_METRICS_REPLY_FORECAST, r_strs(none));
	assert_int_equal(metrics_parse(r, cfg, &m), 0);
	r_free(r);
}

/* Each way the reply can be off, one at a time. */
static void
test_parse_rejects(void **state)
{
	static const char *const odd[] = {"received", NULL};
	struct metrics_shared m;
	redisReply *r;

	(void)state;
	assert_int_equal(metrics_parse(NULL, cfg, &m), -1);
	r = r_str("not an array");
	assert_int_equal(metrics_parse(r, cfg, &m), -1);
	r_free(r);
	r = r_arr(2, r_int(1), r_int(2));
	assert_int_equal(metrics_parse(r, cfg, &m), -1);
	r_free(r);

	for (size_t i = 0; i < WIRE_METRICS_REPLY_FIELDS; i++) {
		r = script_reply();
		/* An array where a count is, a count where an array is. */
		r_swap(r, i, i >= WIRE_METRICS_REPLY_INCOMING && i <= WIRE_METRICS_REPLY_INSTANCES ?
		    r_arr(0) : r_int(0));
		if (metrics_parse(r, cfg, &m) != -1)
			fail_msg("element %zu of the wrong type was taken", i);
		r_free(r);
	}
	for (size_t i = 0; i < WIRE_METRICS_REPLY_FIELDS; i++) {
		if (i != WIRE_METRICS_REPLY_STATS && i != WIRE_METRICS_REPLY_SOURCES &&
		    i != WIRE_METRICS_REPLY_FORECAST)
			continue;
		r = script_reply();
		r_swap(r, i, r_strs(odd));	/* a field without a value */
		assert_int_equal(metrics_parse(r, cfg, &m), -1);
		r_free(r);
		r = script_reply();
		r_swap(r->element[i], 0, r_int(1));	/* a field not a string */
		assert_int_equal(metrics_parse(r, cfg, &m), -1);
		r_free(r);
	}
	r = script_reply();		/* a segment too few */
	r_swap(r, WIRE_METRICS_REPLY_BACKLOG, r_arr(1, r_int(0)));
	assert_int_equal(metrics_parse(r, cfg, &m), -1);
	r_free(r);
	r = script_reply();		/* a rep's column too few */
	r_swap(r, WIRE_METRICS_REPLY_REPS, r_arr(5, r_int(0), r_int(0), r_int(0), r_int(0),
	    r_int(0)));
	assert_int_equal(metrics_parse(r, cfg, &m), -1);
	r_free(r);
}

/* --- tests: rendering ---------------------------------------------- */

static void
test_render_counter_families(void **state)
{
	char *out = render_all();

	(void)state;
	has_line(out, "# HELP leadrouted_leads_received_total Payloads taken from the intake list (valid or not), all instances.");
	in_order(out, "# HELP leadrouted_leads_received_total Payloads taken from the intake list (valid or not), all instances.",
	    "# TYPE leadrouted_leads_received_total counter");
	in_order(out, "# TYPE leadrouted_leads_received_total counter",
	    "leadrouted_leads_received_total 10");
	has_line(out, "leadrouted_leads_valid_total 8");
	has_line(out, "leadrouted_leads_duplicate_total 1");
	/* Absent fields are 0. */
	has_line(out, "leadrouted_fenced_total 0");
	has_line(out, "leadrouted_instances_reaped_total 0");
	has_line(out, "leadrouted_requeued_total 0");
	/* The table's order. */
	in_order(out, "leadrouted_leads_received_total 10",
	    "leadrouted_requeued_total 0");
	/* Every family has its HELP and TYPE once. */
	assert_int_equal(count(out, "# TYPE leadrouted_dead_letters_total counter\n"), 1);
	assert_int_equal(count(out, "# HELP leadrouted_sla_alerts_total "), 1);
	free(out);
}

static void
test_render_labels(void **state)
{
	char *out = render_all();

	(void)state;
	/* Known label values are seeded at 0, the counted one is not. */
	has_line(out, "leadrouted_dead_letters_total{reason=\"too_large\"} 0");
	has_line(out, "leadrouted_dead_letters_total{reason=\"bad_event\"} 0");
	has_line(out, "leadrouted_dead_letters_total{reason=\"bad_json\"} 2");
	no_line(out, "leadrouted_dead_letters_total{reason=\"bad_json\"} 0");
	has_line(out, "leadrouted_nurture_total{reason=\"below_threshold\"} 3");
	has_line(out, "leadrouted_nurture_total{reason=\"rejected_by_rep\"} 0");
	has_line(out, "leadrouted_mqls_total{segment=\"small\"} 0");
	has_line(out, "leadrouted_mqls_total{segment=\"mid\"} 4");
	no_line(out, "leadrouted_mqls_total{segment=\"mid\"} 0");
	has_line(out, "leadrouted_rep_assignments_total{rep=\"ann\"} 3");
	has_line(out, "leadrouted_rep_assignments_total{rep=\"bob\"} 1");
	has_line(out, "leadrouted_capacity_forecast_alerts_total{segment=\"small\"} 0");
	has_line(out, "leadrouted_capacity_forecast_alerts_total{segment=\"mid\"} 0");
	/* Several labels, split on ':'. */
	has_line(out, "leadrouted_events_total{type=\"followed_up\",result=\"ok\"} 2");
	has_line(out, "leadrouted_events_total{type=\"won\",result=\"not_assignee\"} 1");
	has_line(out, "leadrouted_sla_alerts_total{type=\"sla_breach\",segment=\"mid\",rep=\"ann\"} 1");
	/* Label values escaped: quote, backslash, newline. */
	has_line(out, "leadrouted_closed_total{outcome=\"a\\\"b\\\\c\\nd\"} 1");
	free(out);
}

static void
test_render_histograms(void **state)
{
	static const char *const latency[] = {
		"{le=\"0.001\"} 2", "{le=\"0.002\"} 2", "{le=\"0.005\"} 3",
		"{le=\"0.01\"} 3", "{le=\"0.025\"} 3", "{le=\"0.05\"} 3",
		"{le=\"0.1\"} 3", "{le=\"0.25\"} 3", "{le=\"0.5\"} 3",
		"{le=\"1\"} 3", "{le=\"2.5\"} 3", "{le=\"5\"} 3",
		"{le=\"10\"} 3", "{le=\"60\"} 3", "{le=\"300\"} 3",
		"{le=\"3600\"} 3", "{le=\"+Inf\"} 4",
	};
	const char *prev = NULL, *at;
	char line[128];
	char *out = render_all();

	(void)state;
	has_line(out, "# TYPE leadrouted_intake_to_assignment_seconds histogram");
	/* Cumulative, in bucket order, +Inf last. */
	for (size_t i = 0; i < sizeof(latency) / sizeof(latency[0]); i++) {
		snprintf(line, sizeof(line),
		    "leadrouted_intake_to_assignment_seconds_bucket%s",
		    latency[i]);
		has_line(out, line);
		at = find_line(out, line);
		assert_true(prev == NULL || prev < at);
		prev = at;
	}
	has_line(out, "leadrouted_intake_to_assignment_seconds_sum 1.234");
	has_line(out, "leadrouted_intake_to_assignment_seconds_count 4");
	has_line(out, "# TYPE leadrouted_followup_seconds histogram");
	has_line(out, "leadrouted_followup_seconds_bucket{le=\"30\"} 0");
	has_line(out, "leadrouted_followup_seconds_bucket{le=\"86400\"} 0");
	has_line(out, "leadrouted_followup_seconds_bucket{le=\"+Inf\"} 0");
	has_line(out, "leadrouted_followup_seconds_sum 0.000");
	has_line(out, "leadrouted_followup_seconds_count 0");
	free(out);
}

static void
test_render_gauges(void **state)
{
	char *out = render_all();

	(void)state;
	has_line(out, "# TYPE leadrouted_backlog_leads gauge");
	has_line(out, "leadrouted_backlog_leads{segment=\"small\"} 0");
	has_line(out, "leadrouted_backlog_leads{segment=\"mid\"} 5");
	has_line(out, "leadrouted_rep_open_leads{rep=\"ann\"} 2");
	has_line(out, "leadrouted_rep_open_leads{rep=\"bob\"} 1");
	has_line(out, "leadrouted_rep_max_open{rep=\"ann\"} 5");
	has_line(out, "leadrouted_rep_max_open{rep=\"bob\"} 3");
	has_line(out, "leadrouted_rep_period_assignments{rep=\"ann\"} 3");
	has_line(out, "leadrouted_rep_period_assignments{rep=\"bob\"} 0");
	has_line(out, "leadrouted_rep_max_per_period{rep=\"ann\"} 7");
	has_line(out, "leadrouted_rep_max_per_period{rep=\"bob\"} 0");
	has_line(out, "leadrouted_rep_available{rep=\"ann\"} 1");
	has_line(out, "leadrouted_rep_available{rep=\"bob\"} 0");
	has_line(out, "leadrouted_queue_length{queue=\"incoming\"} 7");
	has_line(out, "leadrouted_queue_length{queue=\"events\"} 1");
	has_line(out, "leadrouted_queue_length{queue=\"dead\"} 2");
	has_line(out, "leadrouted_sla_pending_timers 3");
	has_line(out, "leadrouted_instances 2");
	free(out);
}

static void
test_render_sources(void **state)
{
	char *out = render_all();

	(void)state;
	/* top_sources = 1: the largest by name, the rest summed as other. */
	has_line(out, "leadrouted_source_leads_total{source=\"web\",stage=\"received\"} 6");
	has_line(out, "leadrouted_source_leads_total{source=\"web\",stage=\"mql\"} 3");
	has_line(out, "leadrouted_source_leads_total{source=\"web\",stage=\"lost\"} 0");
	has_line(out, "leadrouted_source_leads_total{source=\"other\",stage=\"received\"} 5");
	has_line(out, "leadrouted_source_leads_total{source=\"other\",stage=\"mql\"} 1");
	assert_null(strstr(out, "source=\"ads\""));
	assert_null(strstr(out, "source=\"partner\""));
	free(out);
}

static void
test_render_forecast(void **state)
{
	char *out = render_all();

	(void)state;
	has_line(out, "# TYPE leadrouted_mql_arrival_rate gauge");
	has_line(out, "leadrouted_mql_arrival_rate{segment=\"mid\"} 0.5");
	has_line(out, "leadrouted_capacity_room_leads{segment=\"mid\"} 3");
	/* A negative time to exhaustion is "never". */
	has_line(out, "leadrouted_capacity_exhaustion_seconds{segment=\"mid\"} +Inf");
	has_line(out, "leadrouted_capacity_forecast_episode{segment=\"mid\"} 1");
	/* A segment not forecast yet is left out. */
	assert_null(strstr(out, "leadrouted_mql_arrival_rate{segment=\"small\"}"));
	assert_null(strstr(out, "leadrouted_capacity_forecast_episode{segment=\"small\"}"));
	free(out);
}

static void
test_render_local(void **state)
{
	char line[128];
	char *out = render_all();

	(void)state;
	has_line(out, "# TYPE leadrouted_redis_up gauge");
	has_line(out, "leadrouted_redis_up 1");
	has_line(out, "leadrouted_registered 1");
	has_line(out, "# TYPE leadrouted_redis_reconnects_total counter");
	has_line(out, "leadrouted_redis_reconnects_total 4");
	has_line(out, "leadrouted_config_reloads_total{result=\"success\"} 2");
	has_line(out, "leadrouted_config_reloads_total{result=\"failure\"} 1");
	snprintf(line, sizeof(line),
	    "leadrouted_config_info{version=\"%s\"} 1", cfg->version);
	has_line(out, line);
	has_line(out, "leadrouted_build_info{version=\"1.0\\\"x\"} 1");
	/* This process comes after the shared state. */
	in_order(out, "leadrouted_instances 2", "leadrouted_redis_up 1");
	free(out);
}

/* Redis unreachable: this process's gauges alone. */
static void
test_render_local_only(void **state)
{
	const struct metrics_local down = {.version = "0.1.0"};
	char *out = render(NULL, &down);

	(void)state;
	has_line(out, "leadrouted_redis_up 0");
	has_line(out, "leadrouted_registered 0");
	has_line(out, "leadrouted_redis_reconnects_total 0");
	has_line(out, "leadrouted_config_reloads_total{result=\"success\"} 0");
	has_line(out, "leadrouted_build_info{version=\"0.1.0\"} 1");
	assert_null(strstr(out, "leadrouted_leads_received_total"));
	assert_null(strstr(out, "leadrouted_backlog_leads"));
	assert_null(strstr(out, "_bucket"));
	assert_true(strncmp(out, "# HELP leadrouted_redis_up ", 27) == 0);
	free(out);
}

/* The HTTP intake's answers: one sample per status, only when it is on. */
static void
test_render_intake_http(void **state)
{
	struct metrics_local l = {.version = "0.1.0"};
	char *out;

	(void)state;
	out = render(NULL, &l);
	assert_null(strstr(out, "leadrouted_intake_http_requests_total"));
	free(out);
	l.intake_http = true;
	l.intake_http_requests[intake_status_index(202)] = 7;
	l.intake_http_requests[intake_status_index(401)] = 2;
	out = render(NULL, &l);
	has_line(out, "# TYPE leadrouted_intake_http_requests_total counter");
	has_line(out, "leadrouted_intake_http_requests_total{code=\"202\"} 7");
	has_line(out, "leadrouted_intake_http_requests_total{code=\"401\"} 2");
	has_line(out, "leadrouted_intake_http_requests_total{code=\"503\"} 0");
	assert_int_equal(count(out, "leadrouted_intake_http_requests_total{"),
	    INTAKE_NSTATUS);
	free(out);
}

/* --- set-up -------------------------------------------------------- */

/* Load test_conf; the file goes again at once. */
static int
setup(void **state)
{
	char path[] = "/tmp/test_metrics.XXXXXX";
	struct cfg_diag diag = {0};
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	if (fputs(test_conf, f) >= 0 && fclose(f) == 0)
		cfg = cfg_load(path, &diag);
	unlink(path);
	if (diag.nerrors > 0)
		print_error("test_conf: %s\n", diag.errors[0]);
	cfg_diag_clear(&diag);
	return cfg != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	cfg_free(cfg);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_points_into_the_reply),
		cmocka_unit_test(test_parse_empty_hashes),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_render_counter_families),
		cmocka_unit_test(test_render_labels),
		cmocka_unit_test(test_render_histograms),
		cmocka_unit_test(test_render_gauges),
		cmocka_unit_test(test_render_sources),
		cmocka_unit_test(test_render_forecast),
		cmocka_unit_test(test_render_local),
		cmocka_unit_test(test_render_local_only),
		cmocka_unit_test(test_render_intake_http),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
