/* itest_sla.c - the follow-up SLA against a real redis-server: warnings, breaches, reassignment, once-only. */
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

#define SLA_BODY(reps, sla) \
	"scoring = { mql_threshold = 0; rules = (); };\n" \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n" \
	"reps = (" reps ");\n" \
	"sla = {" sla "};\n"

static const char *alert_body = SLA_BODY(
    "{ id = \"a\"; segments = [\"all\"]; max_open = 100000; }",
    "follow_up = 2; warn_before = 1;");

/* All alerts of the stream, parsed, oldest first. */
static json_t *
stream_alerts(redisContext *c)
{
	redisReply *r = h_cmd(c, "XRANGE lr:alerts:log - +");
	json_t *a = json_array();

	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *fields = r->element[i]->element[1];

		assert_int_equal(fields->elements, 2);
		assert_string_equal(fields->element[0]->str, "alert");
		json_array_append_new(a, json_loads(fields->element[1]->str, 0,
		    NULL));
	}
	freeReplyObject(r);
	return a;
}

/* How many alerts of type for lead id. */
static int
count_alerts(const json_t *alerts, const char *type, const char *id)
{
	size_t i;
	json_t *a;
	int n = 0;

	json_array_foreach(alerts, i, a) {
		if (strcmp(json_string_value(json_object_get(a, "type")), type) == 0 &&
		    (id == NULL || strcmp(json_string_value(json_object_get(a,
		    "lead_id")), id) == 0))
			n++;
	}
	return n;
}

/* One warning, then one breach, on pub/sub and in the stream; none early. */
static void
test_warning_then_breach(void **state)
{
	struct h_fx *f = *state;
	redisContext *sub;
	redisReply *r;
	json_t *live[2], *log, *a;
	long long assigned, due;

	h_fx_start(f, 1, alert_body);
	sub = h_redis_connect(&f->redis);
	freeReplyObject(h_cmd(sub, "SUBSCRIBE lr:alerts"));
	h_push_lead(f->c, "{\"id\":\"slow\",\"email\":\"a@b.c\"}");
	h_push_lead(f->c, "{\"id\":\"quick\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:quick", "status", "assigned"));
	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"quick\",\"rep\":\"a\"}");
	assert_true(h_wait_field(f->c, "lr:lead:quick", "status", "followed_up"));

	for (int i = 0; i < 2; i++) {
		assert_int_equal(redisGetReply(sub, (void **)&r), REDIS_OK);
		assert_string_equal(r->element[1]->str, "lr:alerts");
		live[i] = json_loads(r->element[2]->str, 0, NULL);
		freeReplyObject(r);
	}
	redisFree(sub);
	assigned = h_int(f->c, "HGET lr:lead:slow assigned_at_ms");
	due = h_int(f->c, "HGET lr:lead:slow follow_up_due_ms");
	assert_int_equal(due - assigned, 2000);
	a = live[0];
	assert_string_equal(json_string_value(json_object_get(a, "type")), "sla_warning");
	assert_string_equal(json_string_value(json_object_get(a, "lead_id")), "slow");
	assert_string_equal(json_string_value(json_object_get(a, "rep")), "a");
	assert_string_equal(json_string_value(json_object_get(a, "segment")), "all");
	assert_int_equal(json_integer_value(json_object_get(a, "assigned_at_ms")), assigned);
	assert_int_equal(json_integer_value(json_object_get(a, "follow_up_due_ms")), due);
	assert_true(json_integer_value(json_object_get(a, "at_ms")) >= due - 1000);
	assert_true(json_integer_value(json_object_get(a, "at_ms")) < due);
	a = live[1];
	assert_string_equal(json_string_value(json_object_get(a, "type")), "sla_breach");
	assert_string_equal(json_string_value(json_object_get(a, "lead_id")), "slow");
	assert_true(json_integer_value(json_object_get(a, "at_ms")) >= due);
	assert_true(h_wait_field(f->c, "lr:lead:slow", "sla_breached", "1"));

	/* Give any extra alert time to show, then count the durable log. */
	h_sleep_ms(1500);
	log = stream_alerts(f->c);
	assert_int_equal(json_array_size(log), 2);
	assert_true(json_equal(json_array_get(log, 0), live[0]));
	assert_true(json_equal(json_array_get(log, 1), live[1]));
	assert_int_equal(count_alerts(log, "sla_warning", "quick"), 0);
	assert_int_equal(h_int(f->c, "HGET lr:lead:quick sla_breached"), 0);
	json_decref(log);
	json_decref(live[0]);
	json_decref(live[1]);
	h_fx_stop(f);
}

/* Two instances: each alert exactly once. */
static void
test_two_instances_alert_once(void **state)
{
	struct h_fx *f = *state;
	char lead[96], id[16];
	json_t *log;

	h_fx_start(f, 2, alert_body);
	for (int i = 0; i < 200; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"o%03d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 400));
	h_sleep_ms(1500);
	log = stream_alerts(f->c);
	assert_int_equal(json_array_size(log), 400);
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "o%03d", i);
		assert_int_equal(count_alerts(log, "sla_warning", id), 1);
		assert_int_equal(count_alerts(log, "sla_breach", id), 1);
	}
	json_decref(log);
	h_fx_stop(f);
}

/* kill -9 right after the assignment; restarted after the due time, the
 * daemon fires exactly one breach and skips the overdue warning. */
static void
test_breach_fires_after_restart(void **state)
{
	struct h_fx *f = *state;
	const char *body = SLA_BODY(
	    "{ id = \"a\"; segments = [\"all\"]; }",
	    "follow_up = 2; warn_before = 1;");
	json_t *log;

	h_fx_start(f, 1, body);
	h_push_lead(f->c, "{\"id\":\"k1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:k1", "status", "assigned"));
	assert_int_equal(h_daemon_stop(&f->d[0], SIGKILL), 128 + SIGKILL);
	h_sleep_ms(2500);
	assert_int_equal(h_int(f->c, "XLEN lr:alerts:log"), 0);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0-restarted");
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 1));
	h_sleep_ms(1200);
	log = stream_alerts(f->c);
	assert_int_equal(json_array_size(log), 1);
	assert_int_equal(count_alerts(log, "sla_breach", "k1"), 1);
	json_decref(log);
	h_fx_stop(f);
}

/* reassign: a breached lead moves on, never back; escalation after the hops. */
static void
test_reassign_and_escalate(void **state)
{
	struct h_fx *f = *state;
	const char *body = SLA_BODY(
	    "{ id = \"a\"; segments = [\"all\"]; },"
	    "{ id = \"b\"; segments = [\"all\"]; },"
	    "{ id = \"c\"; segments = [\"all\"]; }",
	    "follow_up = 1; warn_before = 0; on_breach = \"reassign\"; max_reassign = 2;");
	json_t *log, *inbox;
	char *v;

	h_fx_start(f, 1, body);
	h_push_lead(f->c, "{\"id\":\"hot\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:hot", "rep", "a"));
	/* a misses it: b gets it, a's slot is free. */
	assert_true(h_wait_field(f->c, "lr:lead:hot", "rep", "b"));
	assert_int_equal(h_int(f->c, "SCARD lr:rep:a:open"), 0);
	assert_int_equal(h_int(f->c, "SISMEMBER lr:rep:b:open hot"), 1);
	v = h_str(f->c, "HGET lr:lead:hot breached_by");
	assert_string_equal(v, "a");
	free(v);
	/* b misses it: c gets it. c misses it: two hops used, escalation. */
	assert_true(h_wait_field(f->c, "lr:lead:hot", "rep", "c"));
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 4));
	h_sleep_ms(1500);
	log = stream_alerts(f->c);
	assert_int_equal(json_array_size(log), 4);
	assert_int_equal(count_alerts(log, "sla_breach", "hot"), 3);
	assert_int_equal(count_alerts(log, "sla_escalation", "hot"), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(log, 3), "type")), "sla_escalation");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(log, 3), "rep")), "c");
	json_decref(log);
	/* It stays with c, breached, and was never given back to a or b. */
	v = h_str(f->c, "HGET lr:lead:hot rep");
	assert_string_equal(v, "c");
	free(v);
	assert_int_equal(h_int(f->c, "HGET lr:lead:hot sla_breached"), 1);
	assert_int_equal(h_int(f->c, "HGET lr:lead:hot reassign_count"), 2);
	v = h_str(f->c, "HGET lr:lead:hot breached_by");
	assert_string_equal(v, "a,b,c");
	free(v);
	inbox = h_list_json(f->c, "lr:rep:a:inbox");
	assert_int_equal(json_array_size(inbox), 1);
	json_decref(inbox);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:b:inbox"), 1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:c:inbox"), 1);
	/* a's own events for it are now refused: it no longer holds it. */
	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"hot\",\"rep\":\"a\"}");
	assert_true(h_wait_llen(f->c, "lr:dead", 1));
	h_fx_stop(f);
}

/* With no other rep to take it, a breach escalates at once. */
static void
test_reassign_without_other_rep(void **state)
{
	struct h_fx *f = *state;
	const char *body = SLA_BODY(
	    "{ id = \"solo\"; segments = [\"all\"]; }",
	    "follow_up = 1; warn_before = 0; on_breach = \"reassign\";");
	json_t *log;

	h_fx_start(f, 1, body);
	h_push_lead(f->c, "{\"id\":\"s1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 2));
	h_sleep_ms(1200);
	log = stream_alerts(f->c);
	assert_int_equal(json_array_size(log), 2);
	assert_int_equal(count_alerts(log, "sla_breach", "s1"), 1);
	assert_int_equal(count_alerts(log, "sla_escalation", "s1"), 1);
	json_decref(log);
	assert_true(h_wait_field(f->c, "lr:lead:s1", "rep", "solo"));
	assert_int_equal(h_int(f->c, "SISMEMBER lr:rep:solo:open s1"), 1);
	h_fx_stop(f);
}

/* 10,000 deadlines due at once, two instances: exactly 10,000 breaches. */
static void
test_ten_thousand_due_at_once(void **state)
{
	struct h_fx *f = *state;
	const char *body = SLA_BODY(
	    "{ id = \"a\"; segments = [\"all\"]; max_open = 100000; },"
	    "{ id = \"b\"; segments = [\"all\"]; max_open = 100000; }",
	    "follow_up = 30; warn_before = 0;");
	const int n = 10000;
	char buf[96];
	redisReply *r;
	long long until;

	h_fx_start(f, 2, body);
	for (int i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof(buf), "{\"id\":\"t%05d\",\"email\":\"a@b.c\"}", i);

		redisAppendCommand(f->c, "LPUSH lr:incoming %b", buf, (size_t)len);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(redisGetReply(f->c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	assert_true(h_wait_zcard(f->c, "lr:sla:due", n));
	/* Make every deadline due now, as after a long outage. */
	freeReplyObject(h_cmd(f->c, "EVAL %s 0",
	    "local ids = redis.call('ZRANGE', 'lr:sla:due', 0, -1) "
	    "for _, id in ipairs(ids) do redis.call('ZADD', 'lr:sla:due', 1, id) end "
	    "return #ids"));
	until = h_now_ms() + 60000;
	while (h_int(f->c, "ZCARD lr:sla:due") > 0 && h_now_ms() < until)
		h_sleep_ms(20);
	assert_int_equal(h_int(f->c, "ZCARD lr:sla:due"), 0);
	h_sleep_ms(1200);
	assert_int_equal(h_int(f->c, "XLEN lr:alerts:log"), n);
	assert_int_equal(h_int(f->c, "HGET lr:stats alert:sla_breach:all:a") + h_int(f->c, "HGET lr:stats alert:sla_breach:all:b"), n);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_warning_then_breach),
		H_TEST(test_two_instances_alert_once),
		H_TEST(test_breach_fires_after_restart),
		H_TEST(test_reassign_and_escalate),
		H_TEST(test_reassign_without_other_rep),
		H_TEST(test_ten_thousand_due_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
