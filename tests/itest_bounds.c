/* itest_bounds.c - what no input can grow without bound or erase: source and outcome labels, the rolling window, the dead list, lead records and inboxes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* A scrape, or /healthz, must answer within this (ms, sanitized build). */
#define ANSWER_MS 3000

/* The fixture, with an HTTP port for /healthz and /metrics. */
static int
setup(void **state)
{
	struct h_fx *f;

	h_setup(state);
	f = *state;
	f->http_port = h_free_port();
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, h_teardown)

/* The configurations' parts: one segment "all" served by rep r1. */
#define SCORING(threshold, rules) \
    "scoring = { mql_threshold = " #threshold "; rules = (" rules "); };\n"
#define HOT_RULE "{ field = \"hot\"; op = \"is_true\"; points = 100; }"
#define R1(limits) \
    "segments = ( { name = \"all\"; } );\ndefault_segment = \"all\";\n" \
    "reps = ( { id = \"r1\"; segments = [\"all\"]; " limits " } );\n"

/* Read the whole answer of fd and close it: the body of a 200, or NULL. */
static char *
http_read(int fd)
{
	char *body = NULL;

	if (h_http_read(fd, &body) != 200) {
		free(body);
		body = NULL;
	}
	return body;
}

/* GET path, answered 200 within ANSWER_MS: the body. */
static char *
get_in_time(int port, const char *path)
{
	long long t0 = h_now_ms(), took;
	char *body = http_read(h_http_send(port, "GET", path));

	took = h_now_ms() - t0;
	if (body == NULL || took > ANSWER_MS)
		fail_msg("GET %s: %s after %lld ms", path, body ? "answered" :
		    "no 200", took);
	return body;
}

/*
 * The distinct values of label (`label="`) in the samples of family, and
 * the sum of those samples that also carry with (NULL: all).
 */
static size_t
label_values(const char *text, const char *family, const char *label,
    const char *with, double *sum)
{
	char **seen = NULL, key[64];
	size_t n = 0, flen = strlen(family);
	const char *line = text, *nl, *v, *end;

	snprintf(key, sizeof(key), "%s=\"", label);
	*sum = 0;
	for (; *line; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			break;
		if (strncmp(line, family, flen) != 0 || line[flen] != '{')
			continue;
		if ((v = strstr(line, key)) == NULL || v > nl)
			continue;
		v += strlen(key);
		end = strchr(v, '"');
		if (with == NULL || (strstr(line, with) && strstr(line, with) < nl))
			*sum += strtod(strchr(line, ' ') + 1, NULL);
		bool dup = false;
		for (size_t i = 0; i < n && !dup; i++)
			dup = strlen(seen[i]) == (size_t)(end - v) &&
			    strncmp(seen[i], v, (size_t)(end - v)) == 0;
		if (!dup) {
			assert_non_null(seen = realloc(seen, (n + 1) * sizeof(*seen)));
			seen[n++] = strndup(v, (size_t)(end - v));
		}
	}
	for (size_t i = 0; i < n; i++)
		free(seen[i]);
	free(seen);
	return n;
}

/* The distinct sources ("<source>|<stage>" fields) in a counters hash. */
static size_t
hash_sources(redisContext *c, const char *key)
{
	redisReply *r = h_cmd(c, "HKEYS %s", key);
	size_t n = 0;

	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < r->elements; i++) {
		const char *f = r->element[i]->str;
		const char *bar = strrchr(f, '|');

		/* count each source once: at its "received" field */
		if (bar != NULL && strcmp(bar, "|received") == 0)
			n++;
	}
	freeReplyObject(r);
	return n;
}

/* The fields of the stats hash starting with prefix. */
static size_t
stats_with(redisContext *c, const char *prefix)
{
	redisReply *r = h_cmd(c, "HKEYS lr:stats");
	size_t n = 0;

	for (size_t i = 0; i < r->elements; i++)
		if (strncmp(r->element[i]->str, prefix, strlen(prefix)) == 0)
			n++;
	freeReplyObject(r);
	return n;
}

/* Push n leads (id "<head><i>"), each of the given JSON tail. */
static void
push_leads(redisContext *c, const char *head, int from, int n,
    const char *tail)
{
	char lead[256];

	for (int i = from; i < from + n; i++) {
		snprintf(lead, sizeof(lead),
		    "{\"id\":\"%s%d\",\"email\":\"a@b.c\"%s}", head, i, tail);
		assert_int_equal(redisAppendCommand(c, "LPUSH lr:incoming %s",
		    lead), REDIS_OK);
	}
	for (int i = 0; i < n; i++) {
		redisReply *r;

		assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
}

/* ---- 1. distinct sources and outcomes ------------------------------------ */

#define MAX_SOURCES 50
#define NSOURCES 5000
#define LEGACY_FIELDS 100000

static const char *sources_body =
    SCORING(1000, "") R1("max_open = 10;")
    "insight = { top_sources = 1000; max_sources = 50; };\n";

/*
 * 5000 leads of distinct sources count at most insight.max_sources of
 * them by name, the rest as "other": in src:all, today's hash and
 * /metrics. A src:all a pre-fix daemon filled with 100,000 fields is
 * scraped within a bound, while /healthz answers.
 */
static void
test_sources_bounded(void **state)
{
	struct h_fx *f = *state;
	char tail[64], *body, *day;
	double sum;
	size_t n;
	int fd;

	h_fx_start(f, 1, sources_body);
	for (int i = 0; i < NSOURCES; i++) {
		snprintf(tail, sizeof(tail), ",\"source\":\"s%d\"", i);
		push_leads(f->c, "L", i, 1, tail);
	}
	snprintf(tail, sizeof(tail), "%d", NSOURCES);
	assert_true(h_wait_field(f->c, "lr:stats", "valid", tail));

	assert_true(hash_sources(f->c, "lr:src:all") <= MAX_SOURCES + 1);
	day = h_str(f->c, "EVAL %s 0", "return 'lr:src:' .. "
	    "math.floor(redis.call('TIME')[1] / 86400)");
	assert_true(hash_sources(f->c, day) <= MAX_SOURCES + 1);
	free(day);
	body = get_in_time(f->http_port, "/metrics");
	n = label_values(body, "leadrouted_source_leads_total", "source",
	    "stage=\"received\"", &sum);
	assert_true(n >= 2 && n <= MAX_SOURCES + 1);
	assert_int_equal((long long)sum, NSOURCES);	/* none lost */
	free(body);

	/* What a pre-fix daemon left: 100,000 distinct sources. */
	for (int i = 0; i < LEGACY_FIELDS; i++)
		assert_int_equal(redisAppendCommand(f->c,
		    "HSET lr:src:all legacy%d|received 1", i), REDIS_OK);
	for (int i = 0; i < LEGACY_FIELDS; i++) {
		redisReply *r;

		assert_int_equal(redisGetReply(f->c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	for (int k = 0; k < 3; k++) {
		/* A scrape under way does not stop the loop: /healthz answers. */
		fd = h_http_send(f->http_port, "GET", "/metrics");
		free(get_in_time(f->http_port, "/healthz"));
		body = http_read(fd);
		assert_non_null(body);
		n = label_values(body, "leadrouted_source_leads_total",
		    "source", "stage=\"received\"", &sum);
		assert_true(n <= MAX_SOURCES + 1);
		assert_int_equal((long long)sum, NSOURCES + LEGACY_FIELDS);
		free(body);
		free(get_in_time(f->http_port, "/metrics"));
	}
	assert_true(hash_sources(f->c, "lr:src:all") <= MAX_SOURCES + 1);
	/* New sources still count, as "other" when there is no room. */
	push_leads(f->c, "N", 0, 1, ",\"source\":\"brand-new\"");
	snprintf(tail, sizeof(tail), "%d", NSOURCES + 1);
	assert_true(h_wait_field(f->c, "lr:stats", "valid", tail));
	assert_true(hash_sources(f->c, "lr:src:all") <= MAX_SOURCES + 1);
	body = get_in_time(f->http_port, "/metrics");
	label_values(body, "leadrouted_source_leads_total", "source",
	    "stage=\"received\"", &sum);
	assert_int_equal((long long)sum, NSOURCES + LEGACY_FIELDS + 1);
	free(body);
	h_fx_stop(f);
}

#define NOUTCOMES 100
#define OUTCOMES_MAX 32

static const char *outcomes_body =
    SCORING(0, "") R1("max_open = 1000;");

/* 100 distinct outcome words give at most 33 outcome labels. */
static void
test_outcomes_bounded(void **state)
{
	struct h_fx *f = *state;
	char ev[256], want[16], *body;
	double sum;
	size_t n;

	h_fx_start(f, 1, outcomes_body);
	push_leads(f->c, "o", 0, NOUTCOMES, "");
	snprintf(want, sizeof(want), "%d", NOUTCOMES);
	assert_true(h_wait_field(f->c, "lr:stats", "assigned:all", want));
	for (int i = 0; i < NOUTCOMES; i++) {
		snprintf(ev, sizeof(ev), "{\"type\":\"closed\",\"lead_id\":\"o%d\","
		    "\"rep\":\"r1\",\"outcome\":\"word%d\"}", i, i);
		h_event(f->c, ev);
	}
	assert_true(h_wait_field(f->c, "lr:stats", "event:closed:ok", want));
	assert_true(stats_with(f->c, "closed:") <= OUTCOMES_MAX + 1);
	assert_true(stats_with(f->c, "outcome:all:") <= OUTCOMES_MAX + 1);
	body = get_in_time(f->http_port, "/metrics");
	n = label_values(body, "leadrouted_closed_total", "outcome", NULL,
	    &sum);
	assert_true(n <= OUTCOMES_MAX + 1);
	assert_int_equal((long long)sum, NOUTCOMES);
	/* 32 words by name: won, lost, disqualified and the first 29 others. */
	assert_int_equal(h_metric(body,
	    "leadrouted_closed_total{outcome=\"other\"}"),
	    NOUTCOMES - (OUTCOMES_MAX - 3));
	free(body);
	/* The record keeps the word as given. */
	body = h_str(f->c, "HGET lr:lead:o99 outcome");
	assert_string_equal(body, "word99");
	free(body);
	h_fx_stop(f);
}

/* ---- 2. the rolling window ------------------------------------------------ */

static const char *window_body =
    SCORING(0, "") R1("max_open = 100; max_per_period = 3;")
    "capacity = { period = 3600; };\n";

static const char *canary_body =
    SCORING(0, "") R1("max_open = 100; max_per_period = 3;")
    "capacity = { period = 1; };\n"
    "forecast = { interval = 1; };\n";

/*
 * An instance with a 1-second period (a canary) shares the Redis of one
 * with an hour: its forecasts and drains must not erase the hour's
 * assignments, so a 4th lead within the hour waits.
 */
static void
test_window_survives_short_period(void **state)
{
	struct h_fx *f = *state;
	char canary[600];

	h_fx_start(f, 1, window_body);
	push_leads(f->c, "w", 1, 3, "");
	assert_true(h_wait_field(f->c, "lr:stats", "assigned:all", "3"));

	h_write_conf(canary, sizeof(canary), f->dir, "canary.conf",
	    f->redis.port, canary_body);
	h_daemon_start(&f->d[1], canary, f->dir, "d1");
	assert_true(h_wait_ready(f->c, 2));
	h_sleep_ms(3500);	/* forecasts every second, entries > 1 s old */
	assert_true(h_daemon_alive(&f->d[1]));
	assert_int_equal(h_daemon_stop(&f->d[1], SIGTERM), 0);
	h_assert_log_clean(&f->d[1]);
	assert_true(h_wait_ready(f->c, 1));
	assert_int_equal(h_int(f->c, "ZCARD lr:rep:r1:window"), 3);

	push_leads(f->c, "w", 4, 1, "");
	/* Waits: it would time out as "assigned". */
	assert_true(h_wait_field(f->c, "lr:lead:w4", "status", "backlog"));
	assert_int_equal(h_int(f->c, "SCARD lr:rep:r1:open"), 3);
	h_fx_stop(f);
}

/* ---- 3. the dead list ----------------------------------------------------- */

static const char *dead_body =
    SCORING(0, "") R1("max_open = 100;")
    "intake = { dead_max = 5; };\n";

/* lr:dead keeps the newest intake.dead_max; the dropped are counted, logged. */
static void
test_dead_capped(void **state)
{
	struct h_fx *f = *state;
	char raw[32], *body;
	json_t *dl;

	h_fx_start(f, 1, dead_body);
	for (int i = 0; i < 8; i++) {
		snprintf(raw, sizeof(raw), "garbage-%d", i);
		h_push_lead(f->c, raw);
	}
	assert_true(h_wait_field(f->c, "lr:stats", "dead:bad_json", "8"));
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 5);
	dl = h_dead_letters(f->c);	/* oldest first */
	assert_string_equal(h_jstr(json_array_get(dl, 0), "raw"), "garbage-3");
	assert_string_equal(h_jstr(json_array_get(dl, 4), "raw"), "garbage-7");
	json_decref(dl);
	body = get_in_time(f->http_port, "/metrics");
	assert_int_equal(h_metric(body, "leadrouted_dead_letters_dropped_total"),
	    3);
	assert_int_equal(h_metric(body, "leadrouted_dead_letters_total{reason=\"bad_json\"}"), 8);
	free(body);
	assert_true(h_log_contains(&f->d[0], "dead letters dropped"));
	h_fx_stop(f);
}

/* ---- 4. retention ---------------------------------------------------------- */

static const char *retention_body =
    SCORING(50, HOT_RULE) R1("max_open = 5;")
    "retention = { days = 1; inbox_max = 3; };\n";

static long long
ttl(redisContext *c, const char *id)
{
	return h_int(c, "TTL lr:lead:%s", id);
}

/* A final record's TTL: retention.days, give or take the test's time. */
static void
assert_expires(redisContext *c, const char *id, long long days)
{
	long long t = ttl(c, id);

	if (t <= days * 86400 - 120 || t > days * 86400)
		fail_msg("lr:lead:%s has TTL %lld", id, t);
}

/*
 * Final records expire retention.days after they became final; open ones
 * never; the inbox keeps the newest retention.inbox_max; a re-push within
 * the window is a duplicate.
 */
static void
test_retention(void **state)
{
	struct h_fx *f = *state;
	json_t *inbox;

	h_fx_start(f, 1, retention_body);
	push_leads(f->c, "n", 1, 1, ",\"hot\":false");
	assert_true(h_wait_field(f->c, "lr:lead:n1", "status", "nurture"));
	push_leads(f->c, "a", 1, 5, ",\"hot\":true");
	assert_true(h_wait_field(f->c, "lr:stats", "assigned:all", "5"));
	push_leads(f->c, "b", 1, 1, ",\"hot\":true");
	assert_true(h_wait_field(f->c, "lr:lead:b1", "status", "backlog"));

	assert_expires(f->c, "n1", 1);
	assert_int_equal(ttl(f->c, "a1"), -1);
	assert_int_equal(ttl(f->c, "b1"), -1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r1:inbox"), 3);
	inbox = h_list_json(f->c, "lr:rep:r1:inbox");	/* oldest first */
	assert_string_equal(h_jstr(json_array_get(inbox, 0), "lead_id"), "a3");
	assert_string_equal(h_jstr(json_array_get(inbox, 2), "lead_id"), "a5");
	json_decref(inbox);

	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"a1\",\"rep\":\"r1\"}");
	assert_true(h_wait_field(f->c, "lr:lead:a1", "status", "followed_up"));
	assert_int_equal(ttl(f->c, "a1"), -1);
	h_event(f->c, "{\"type\":\"rejected\",\"lead_id\":\"a2\",\"rep\":\"r1\","
	    "\"reason\":\"no budget\"}");
	assert_true(h_wait_field(f->c, "lr:lead:a2", "status", "rejected"));
	assert_expires(f->c, "a2", 1);
	/* The freed slot went to b1: assigned, open, no TTL. */
	assert_true(h_wait_field(f->c, "lr:lead:b1", "status", "assigned"));
	assert_int_equal(ttl(f->c, "b1"), -1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r1:inbox"), 3);
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"a1\",\"rep\":\"r1\","
	    "\"outcome\":\"won\"}");
	assert_true(h_wait_field(f->c, "lr:lead:a1", "status", "closed"));
	assert_expires(f->c, "a1", 1);

	/* Within the window a re-push is a duplicate. */
	push_leads(f->c, "n", 1, 1, ",\"hot\":true");
	assert_true(h_wait_field(f->c, "lr:stats", "duplicate", "1"));
	h_fx_stop(f);
}

static const char *keep_body =
    SCORING(50, HOT_RULE) R1("max_open = 5;")
    "retention = { days = 0; };\n";

/* retention.days = 0 keeps final records for ever. */
static void
test_retention_zero_keeps(void **state)
{
	struct h_fx *f = *state;

	h_fx_start(f, 1, keep_body);
	push_leads(f->c, "n", 1, 1, ",\"hot\":false");
	push_leads(f->c, "a", 1, 1, ",\"hot\":true");
	assert_true(h_wait_field(f->c, "lr:lead:n1", "status", "nurture"));
	assert_true(h_wait_field(f->c, "lr:lead:a1", "status", "assigned"));
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"a1\",\"rep\":\"r1\","
	    "\"outcome\":\"lost\"}");
	assert_true(h_wait_field(f->c, "lr:lead:a1", "status", "closed"));
	assert_int_equal(ttl(f->c, "n1"), -1);
	assert_int_equal(ttl(f->c, "a1"), -1);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_sources_bounded),
		TEST(test_outcomes_bounded),
		TEST(test_window_survives_short_period),
		TEST(test_dead_capped),
		TEST(test_retention),
		TEST(test_retention_zero_keeps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
