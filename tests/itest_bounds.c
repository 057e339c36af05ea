/* itest_bounds.c - what no input can grow without bound or erase: source and outcome labels, the rolling window, the dead list, lead records and inboxes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

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

/* ---- 2. the rolling window ------------------------------------------------ */

static const char *window_body =
    "scoring = { mql_threshold = 0; rules = (); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 100;"
    " max_per_period = 3; } );\n"
    "capacity = { period = 3600; };\n";

static const char *canary_body =
    "scoring = { mql_threshold = 0; rules = (); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 100;"
    " max_per_period = 3; } );\n"
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
	char canary[600], *v;

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
	assert_true(h_wait_field(f->c, "lr:stats", "valid", "4"));
	v = h_str(f->c, "HGET lr:lead:w4 status");
	assert_string_equal(v, "backlog");
	free(v);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:r1:open"), 3);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_window_survives_short_period),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
