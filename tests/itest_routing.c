/* itest_routing.c - the daemon against a real redis-server: scoring, segments, assignment, capacity, backlog, events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "harness.h"

/* A hot lead of the mid segment is scored, assigned and published. */
static void
test_assignment_json_and_record(void **state)
{
	struct h_fx *f = *state;
	const char *lead = "{\"id\":\"L-1\",\"email\":\"vp@corp.com\","
	    "\"title\":\"VP Marketing\",\"employees\":250,"
	    "\"industry\":\"Software\",\"source\":\"partner\","
	    "\"activity\":{\"demo_request\":true,\"page_views\":4},"
	    "\"custom\":{\"utm\":\"x\"}}";
	redisContext *sub;
	redisReply *r;
	json_t *a, *inbox;
	char *v;

	h_fx_start(f, 1, NULL);
	sub = h_redis_connect(&f->redis);
	r = h_cmd(sub, "SUBSCRIBE lr:assignments");
	freeReplyObject(r);
	h_push_lead(f->c, lead);

	assert_int_equal(redisGetReply(sub, (void **)&r), REDIS_OK);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 3);
	assert_string_equal(r->element[1]->str, "lr:assignments");
	a = json_loads(r->element[2]->str, 0, NULL);
	freeReplyObject(r);
	redisFree(sub);
	assert_non_null(a);
	/* 20 title + 15 size + 10 industry + 30 demo + 8 page views + 10 partner */
	assert_string_equal(h_jstr(a, "lead_id"), "L-1");
	assert_string_equal(h_jstr(a, "rep"), "john");
	assert_string_equal(h_jstr(a, "segment"), "mid");
	assert_int_equal(h_jint(a, "score"), 93);
	assert_int_equal(h_jint(a, "follow_up_due_ms") - h_jint(a, "assigned_at_ms"),
	    300000);
	assert_string_equal(h_jstr(json_object_get(a, "lead"), "id"), "L-1");
	assert_string_equal(h_jstr(json_object_get(json_object_get(a, "lead"),
	    "custom"), "utm"), "x");

	inbox = h_list_json(f->c, "lr:rep:john:inbox");
	assert_int_equal(json_array_size(inbox), 1);
	assert_true(json_equal(json_array_get(inbox, 0), a));
	json_decref(inbox);

	assert_true(h_wait_field(f->c, "lr:lead:L-1", "status", "assigned"));
	v = h_str(f->c, "HGET lr:lead:L-1 rep");
	assert_string_equal(v, "john");
	free(v);
	assert_int_equal(h_int(f->c, "HGET lr:lead:L-1 score"), 93);
	assert_int_equal(h_int(f->c, "HGET lr:lead:L-1 assigned_at_ms"),
	    h_jint(a, "assigned_at_ms"));
	assert_int_equal(h_int(f->c, "HGET lr:lead:L-1 follow_up_due_ms"),
	    h_jint(a, "follow_up_due_ms"));
	assert_int_equal(h_int(f->c, "HGET lr:lead:L-1 sla_breached"), 0);
	v = h_str(f->c, "HGET lr:lead:L-1 source");
	assert_string_equal(v, "partner");
	free(v);
	v = h_str(f->c, "HGET lr:lead:L-1 segment");
	assert_string_equal(v, "mid");
	free(v);
	assert_true(h_int(f->c, "HEXISTS lr:lead:L-1 received_at_ms") == 1);
	assert_true(h_int(f->c, "HEXISTS lr:lead:L-1 followed_up_at_ms") == 0);
	assert_true(h_int(f->c, "HEXISTS lr:lead:L-1 outcome") == 0);
	/* The score receipt says which rules gave which points. */
	v = h_str(f->c, "HGET lr:lead:L-1 score_receipt");
	assert_non_null(strstr(v, "\"field\":\"activity.page_views\",\"op\":\"per\",\"points\":8"));
	free(v);
	json_decref(a);
	h_fx_stop(f);
}

/* Segments: first match wins, the default otherwise, as the rep shows. */
static void
test_segments_route_to_their_reps(void **state)
{
	struct h_fx *f = *state;
	static const struct {
		const char *lead, *rep;
	} cases[] = {
		{"{\"id\":\"s1\",\"email\":\"a@b.c\",\"title\":\"VP\",\"employees\":99,\"activity\":{\"demo_request\":true,\"page_views\":20}}", "ann"},
		{"{\"id\":\"m1\",\"email\":\"a@b.c\",\"title\":\"VP\",\"employees\":100,\"activity\":{\"demo_request\":true,\"page_views\":20}}", "john"},
		{"{\"id\":\"m2\",\"email\":\"a@b.c\",\"title\":\"VP\",\"employees\":999,\"activity\":{\"demo_request\":true,\"page_views\":20}}", "john"},
		{"{\"id\":\"l1\",\"email\":\"a@b.c\",\"title\":\"VP\",\"employees\":1000,\"activity\":{\"demo_request\":true,\"page_views\":20}}", "kim"},
		{"{\"id\":\"d1\",\"email\":\"a@b.c\",\"title\":\"VP\",\"employees\":\"many\",\"activity\":{\"demo_request\":true,\"page_views\":20}}", "ann"},
		{"{\"id\":\"d2\",\"email\":\"a@b.c\",\"title\":\"VP\",\"activity\":{\"demo_request\":true,\"page_views\":20}}", "ann"},
	};
	char key[64];
	char *rep;

	h_fx_start(f, 1, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		h_push_lead(f->c, cases[i].lead);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *id = strstr(cases[i].lead, "\"id\":\"") + 6;

		snprintf(key, sizeof(key), "lr:lead:%.2s", id);
		assert_true(h_wait_field(f->c, key, "status", "assigned"));
		rep = h_str(f->c, "HGET %s rep", key);
		assert_string_equal(rep, cases[i].rep);
		free(rep);
	}
	h_fx_stop(f);
}

/* Below the threshold a lead goes to nurture with its score and lead. */
static void
test_below_threshold_goes_to_nurture(void **state)
{
	struct h_fx *f = *state;
	json_t *n, *e;

	h_fx_start(f, 1, NULL);
	h_push_lead(f->c, "{\"id\":\"cold\",\"email\":\"x@gmail.com\",\"employees\":500,\"title\":\"Head of IT\"}");
	assert_true(h_wait_llen(f->c, "lr:nurture", 1));
	n = h_list_json(f->c, "lr:nurture");
	e = json_array_get(n, 0);
	assert_string_equal(h_jstr(e, "lead_id"), "cold");
	assert_int_equal(h_jint(e, "score"), 20);	/* 20 + 15 - 15 */
	assert_string_equal(h_jstr(e, "reason"), "below_threshold");
	assert_string_equal(h_jstr(e, "segment"), "mid");
	assert_true(h_jint(e, "at_ms") > 0);
	assert_string_equal(h_jstr(json_object_get(e, "lead"), "email"),
	    "x@gmail.com");
	json_decref(n);
	assert_true(h_wait_field(f->c, "lr:lead:cold", "status", "nurture"));
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 0);
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:cold rep"), 0);
	h_fx_stop(f);
}

static const char *fair_body =
    "scoring = { mql_threshold = 0; rules = (); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = (\n"
    "  { id = \"r1\"; segments = [\"all\"]; max_open = 50; },\n"
    "  { id = \"r2\"; segments = [\"all\"]; max_open = 50; },\n"
    "  { id = \"r3\"; segments = [\"all\"]; max_open = 50; }\n"
    ");\n";

/* 30 leads, 3 reps: 10 each, and in round-robin order. */
static void
test_least_loaded_fairness(void **state)
{
	struct h_fx *f = *state;
	char lead[128];
	json_t *inbox;

	h_fx_start(f, 1, fair_body);
	for (int i = 0; i < 30; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"f%02d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_llen(f->c, "lr:rep:r3:inbox", 10));
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r1:inbox"), 10);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r2:inbox"), 10);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r3:inbox"), 10);
	/* Ties go to the oldest last assignment, then config order: r1 gets
	 * leads 0, 3, 6...; r2 1, 4, 7...; r3 2, 5, 8... */
	inbox = h_list_json(f->c, "lr:rep:r2:inbox");
	for (size_t i = 0; i < 10; i++) {
		snprintf(lead, sizeof(lead), "f%02zu", 3 * i + 1);
		assert_string_equal(h_jstr(json_array_get(inbox, i), "lead_id"), lead);
	}
	json_decref(inbox);
	h_fx_stop(f);
}

static const char *cap_body =
    "scoring = { mql_threshold = 0; rules = ( { field = \"prio\"; op = \"per\"; points = 1; } ); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = (\n"
    "  { id = \"r1\"; segments = [\"all\"]; max_open = 2; },\n"
    "  { id = \"r2\"; segments = [\"all\"]; max_open = 5; max_per_period = 1; }\n"
    ");\n";

/* max_open and max_per_period hold; the rest waits in the backlog, best first. */
static void
test_capacity_and_backlog_order(void **state)
{
	struct h_fx *f = *state;
	static const char *const leads[] = {
		"{\"id\":\"c1\",\"email\":\"a@b.c\",\"prio\":1}",
		"{\"id\":\"c2\",\"email\":\"a@b.c\",\"prio\":1}",
		"{\"id\":\"c3\",\"email\":\"a@b.c\",\"prio\":1}",
		"{\"id\":\"c4\",\"email\":\"a@b.c\",\"prio\":5}",
		"{\"id\":\"c5\",\"email\":\"a@b.c\",\"prio\":1}",
		"{\"id\":\"c6\",\"email\":\"a@b.c\",\"prio\":9}",
	};
	redisReply *r;

	h_fx_start(f, 1, cap_body);
	for (size_t i = 0; i < 6; i++)
		h_push_lead(f->c, leads[i]);
	/* c1 to r1 (a tie: config order), c2 to r2 (fewest open), c3 to r1
	 * (r2 is at max_per_period); r1 is then at max_open: 3 wait. */
	assert_true(h_wait_zcard(f->c, "lr:backlog:all", 3));
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r1:inbox"), 2);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r2:inbox"), 1);
	assert_true(h_wait_field(f->c, "lr:lead:c2", "rep", "r2"));
	assert_true(h_wait_field(f->c, "lr:lead:c3", "rep", "r1"));
	assert_int_equal(h_int(f->c, "SCARD lr:rep:r1:open"), 2);
	/* Highest score first, then oldest: c6 (9), c4 (5), c5 (1). */
	r = h_cmd(f->c, "ZRANGE lr:backlog:all 0 -1");
	assert_int_equal(r->elements, 3);
	assert_string_equal(r->element[0]->str, "c6");
	assert_string_equal(r->element[1]->str, "c4");
	assert_string_equal(r->element[2]->str, "c5");
	freeReplyObject(r);
	assert_true(h_wait_field(f->c, "lr:lead:c6", "status", "backlog"));
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:c6 rep"), 0);

	/* Closing one of r1's leads frees a slot: c6 goes to r1 at once. */
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"c1\",\"rep\":\"r1\",\"outcome\":\"won\"}");
	assert_true(h_wait_field(f->c, "lr:lead:c6", "status", "assigned"));
	assert_true(h_wait_field(f->c, "lr:lead:c6", "rep", "r1"));
	assert_true(h_wait_field(f->c, "lr:lead:c1", "outcome", "won"));
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:all"), 2);
	/* Rejecting frees a slot too, and the lead is nurtured. */
	h_event(f->c, "{\"type\":\"rejected\",\"lead_id\":\"c3\",\"rep\":\"r1\",\"reason\":\"student\"}");
	assert_true(h_wait_field(f->c, "lr:lead:c4", "rep", "r1"));
	assert_true(h_wait_field(f->c, "lr:lead:c3", "status", "rejected"));
	assert_true(h_wait_field(f->c, "lr:lead:c3", "reject_reason", "student"));
	assert_true(h_wait_llen(f->c, "lr:nurture", 1));
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:all"), 1);
	/* r2 is at its period limit though it has room: c5 keeps waiting. */
	assert_int_equal(h_int(f->c, "SCARD lr:rep:r2:open"), 1);
	h_fx_stop(f);
}

/* An away rep gets nothing; available again, the backlog drains to them. */
static void
test_rep_away_and_back(void **state)
{
	struct h_fx *f = *state;
	const char *body =
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"solo\"; segments = [\"all\"]; } );\n";
	const char *away = "{\"type\":\"rep_status\",\"rep\":\"solo\",\"status\":\"away\"}";
	const char *back = "{\"type\":\"rep_status\",\"rep\":\"solo\",\"status\":\"available\"}";

	h_fx_start(f, 1, body);
	h_event(f->c, away);
	assert_true(h_wait_field(f->c, "lr:rep:solo", "status", "away"));
	h_push_lead(f->c, "{\"id\":\"w1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_zcard(f->c, "lr:backlog:all", 1));
	assert_int_equal(h_int(f->c, "LLEN lr:rep:solo:inbox"), 0);
	h_event(f->c, back);
	assert_true(h_wait_field(f->c, "lr:lead:w1", "status", "assigned"));
	assert_int_equal(h_int(f->c, "LLEN lr:rep:solo:inbox"), 1);
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:all"), 0);
	h_fx_stop(f);
}

/* The quoted word n (from 0) after "EVALSHA" in a MONITOR line, into w. */
static bool
script_word(const char *line, int n, char *w, size_t len)
{
	const char *p = strstr(line, "\"EVALSHA\"");
	const char *e = NULL;

	if (p == NULL)
		return false;
	p += strlen("\"EVALSHA\"");
	for (int i = 0; i <= n; i++) {
		if ((p = strchr(p, '"')) == NULL ||
		    (e = strchr(p + 1, '"')) == NULL)
			return false;
		if (i < n)
			p = e + 1;
	}
	snprintf(w, len, "%.*s", (int)(e - p - 1), p + 1);
	return true;
}

/*
 * Leads pushed one at a time to an idle daemon: the claim that takes a
 * lead is followed by the lead's commit, not by another claim queued ahead
 * of it (the wake its own pop causes waits for its reply), and a lead
 * costs two claims at most (its push's wake, its pop's), no claim for
 * nothing after each commit; the fallback polls come on top.
 */
static void
test_commit_not_queued_behind_a_claim(void **state)
{
	struct h_fx *f = *state;
	redisContext *mon;
	redisReply *r;
	char lead[256], key[64], op[16], src[16];
	int claims = 0, commits = 0;
	bool claiming = false, taken = false;
	const int n = 20;
	long long t0, polls;

	h_fx_start(f, 1, NULL);
	mon = h_redis_connect(&f->redis);
	freeReplyObject(h_cmd(mon, "MONITOR"));
	t0 = h_now_ms();
	for (int i = 0; i < n; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"q-%d\","
		    "\"email\":\"q%d@corp.com\",\"title\":\"VP Sales\","
		    "\"employees\":250,\"industry\":\"Software\","
		    "\"activity\":{\"demo_request\":true}}", i, i);
		snprintf(key, sizeof(key), "lr:lead:q-%d", i);
		h_push_lead(f->c, lead);
		assert_true(h_wait_field(f->c, key, "segment", "mid"));
	}
	freeReplyObject(h_cmd(f->c, "ECHO end-of-leads"));
	polls = (h_now_ms() - t0) / CONSUMER_POLL_MS + 1;
	for (;;) {
		assert_int_equal(redisGetReply(mon, (void **)&r), REDIS_OK);
		assert_int_equal(r->type, REDIS_REPLY_STATUS);
		if (strstr(r->str, "\"end-of-leads\"") != NULL) {
			freeReplyObject(r);
			break;
		}
		if (strstr(r->str, "[0 lua]") != NULL) {
			/* The claim running took leads into in-flight. */
			if (claiming && strstr(r->str,
			    "\"HSET\" \"lr:inflight:") != NULL)
				taken = true;
			freeReplyObject(r);
			continue;
		}
		claiming = false;
		if (!script_word(r->str, 3, op, sizeof(op))) {
			/* not a script call */
		} else if (strcmp(op, "claim") == 0 &&
		    script_word(r->str, 6, src, sizeof(src)) &&
		    strcmp(src, "incoming") == 0) {
			if (taken)
				fail_msg("a claim ran before the commit of the leads the previous claim took: %s",
				    r->str);
			claiming = true;
			claims++;
		} else if (strcmp(op, "commit") == 0) {
			taken = false;
			commits++;
		}
		freeReplyObject(r);
	}
	redisFree(mon);
	assert_int_equal(commits, n);
	if (claims < n || claims > 2 * n + polls)
		fail_msg("%d claims of incoming for %d leads (%lld polls may come on top of two each)",
		    claims, n, polls);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_assignment_json_and_record),
		H_TEST(test_segments_route_to_their_reps),
		H_TEST(test_below_threshold_goes_to_nurture),
		H_TEST(test_least_loaded_fairness),
		H_TEST(test_capacity_and_backlog_order),
		H_TEST(test_rep_away_and_back),
		H_TEST(test_commit_not_queued_behind_a_claim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
