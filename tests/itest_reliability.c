/* itest_reliability.c - several instances, kill -9 under load, a stopped instance, Redis restarts: nothing lost, nothing doubled. */
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
#include "instance.h"

#define MAX_LEADS 20000

static const char *big_body =
    "scoring = {\n"
    "  mql_threshold = 50;\n"
    "  rules = (\n"
    "    { field = \"title\"; op = \"contains_any\"; values = [\"vp\"]; points = 20; },\n"
    "    { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; }\n"
    "  );\n"
    "};\n"
    "segments = (\n"
    "  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
    "  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 100; }\n"
    ");\n"
    "default_segment = \"small\";\n"
    "reps = (\n"
    "  { id = \"a1\"; segments = [\"small\"]; max_open = 100000; },\n"
    "  { id = \"a2\"; segments = [\"small\"]; max_open = 100000; },\n"
    "  { id = \"b1\"; segments = [\"large\"]; max_open = 100000; }\n"
    ");\n";

static const char *const big_reps[] = {"a1", "a2", "b1"};
static const char *const big_segs[] = {"small", "large"};

/* Lead i: 1% malformed, a third below the threshold, the rest MQLs. */
static int
make_lead(char *buf, size_t len, int i)
{
	if (i % 100 == 0)
		return snprintf(buf, len, "{\"id\":\"k%05d\"}", i);
	if (i % 3 == 0)
		return snprintf(buf, len,
		    "{\"id\":\"k%05d\",\"email\":\"x%d@corp.com\",\"employees\":%d}",
		    i, i, i % 200);
	return snprintf(buf, len,
	    "{\"id\":\"k%05d\",\"email\":\"x%d@corp.com\",\"title\":\"VP\","
	    "\"employees\":%d,\"activity\":{\"demo_request\":true}}", i, i,
	    i % 200);
}

/* Push n leads in pipelined chunks. */
static void
push_leads(redisContext *c, int from, int n)
{
	char buf[256];
	redisReply *r;
	int len;

	for (int i = from; i < from + n; i++) {
		len = make_lead(buf, sizeof(buf), i);
		redisAppendCommand(c, "LPUSH lr:incoming %b", buf, (size_t)len);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
}

/* Count lead ids found in one place: a list of JSON with key field. */
static void
count_list(redisContext *c, const char *key, const char *field, int *seen,
    int *where, int tag)
{
	redisReply *r = h_cmd(c, "LRANGE %s 0 -1", key);
	json_t *o, *v;
	const char *id;
	int n;

	for (size_t i = 0; i < r->elements; i++) {
		o = json_loadb(r->element[i]->str, r->element[i]->len, 0, NULL);
		assert_non_null(o);
		v = json_object_get(o, field);
		if (json_is_string(v) && strcmp(field, "raw") == 0) {
			json_t *lead = json_loads(json_string_value(v), 0, NULL);

			assert_non_null(lead);
			id = json_string_value(json_object_get(lead, "id"));
			assert_non_null(id);
			n = atoi(id + 1);
			json_decref(lead);
		} else {
			assert_true(json_is_string(v));
			n = atoi(json_string_value(v) + 1);
		}
		assert_true(n >= 0 && n < MAX_LEADS);
		seen[n]++;
		where[n] = tag;
		json_decref(o);
	}
	freeReplyObject(r);
}

static void
count_zset(redisContext *c, const char *key, int *seen)
{
	redisReply *r = h_cmd(c, "ZRANGE %s 0 -1", key);

	for (size_t i = 0; i < r->elements; i++)
		seen[atoi(r->element[i]->str + 1)]++;
	freeReplyObject(r);
}

static int
count_queued(redisContext *c, int *seen)
{
	redisReply *r = h_cmd(c, "LRANGE lr:incoming 0 -1");
	int n = (int)r->elements;

	for (size_t i = 0; i < r->elements; i++) {
		const char *p = strstr(r->element[i]->str, "\"id\":\"k");

		assert_non_null(p);
		seen[atoi(p + 7)]++;
	}
	freeReplyObject(r);
	return n;
}

/*
 * The invariant: each of the n pushed leads is in exactly one place among
 * the reps' inboxes, the backlogs, nurture, dead letters. Waits (bounded)
 * for the queue and every in-flight hash to empty first.
 */
static void
assert_accounted(redisContext *c, int n)
{
	static int seen[MAX_LEADS], where[MAX_LEADS];
	char key[128];
	long long until = h_now_ms() + 30000;
	int total, missing = 0, doubled = 0;

	for (;;) {
		memset(seen, 0, sizeof(seen));
		for (size_t i = 0; i < 3; i++) {
			snprintf(key, sizeof(key), "lr:rep:%s:inbox", big_reps[i]);
			count_list(c, key, "lead_id", seen, where, 1);
		}
		for (size_t i = 0; i < 2; i++) {
			snprintf(key, sizeof(key), "lr:backlog:%s", big_segs[i]);
			count_zset(c, key, seen);
		}
		count_list(c, "lr:nurture", "lead_id", seen, where, 2);
		count_list(c, "lr:dead", "raw", seen, where, 3);
		total = 0;
		for (int i = 0; i < n; i++)
			total += seen[i];
		if ((total == n && count_queued(c, seen) == 0) ||
		    h_now_ms() > until)
			break;
		h_sleep_ms(50);
	}
	assert_int_equal(h_int(c, "LLEN lr:incoming"), 0);
	{
		redisReply *r = h_cmd(c, "KEYS lr:inflight:*");

		for (size_t i = 0; i < r->elements; i++)
			fprintf(stderr, "left in flight: %s\n", r->element[i]->str);
		assert_int_equal(r->elements, 0);
		freeReplyObject(r);
	}
	for (int i = 0; i < n; i++) {
		if (seen[i] == 0 && missing++ < 5)
			fprintf(stderr, "lead k%05d is nowhere\n", i);
		if (seen[i] > 1 && doubled++ < 5)
			fprintf(stderr, "lead k%05d is in %d places\n", i,
			    seen[i]);
	}
	assert_int_equal(missing, 0);
	assert_int_equal(doubled, 0);
	/* No dead letter but the malformed ones: nothing became a duplicate
	 * or poison by being delivered twice. */
	assert_int_equal(h_int(c, "LLEN lr:dead"), (n + 99) / 100);
	assert_int_equal(h_int(c, "EXISTS lr:redeliveries"), 0);
}

/* Two instances, small limits: no rep over a limit, no lead twice. */
static void
test_two_instances_hold_capacity(void **state)
{
	struct h_fx *f = *state;
	const char *body =
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = (\n"
	    "  { id = \"r1\"; segments = [\"all\"]; max_open = 3; },\n"
	    "  { id = \"r2\"; segments = [\"all\"]; max_open = 4; max_per_period = 6; },\n"
	    "  { id = \"r3\"; segments = [\"all\"]; max_open = 5; }\n"
	    ");\n";
	const int limits[] = {3, 4, 5};
	char lead[96], ev[160], key[64];
	redisReply *r;
	int closed = 0;

	h_fx_start(f, 2, body);
	for (int i = 0; i < 200; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"t%03d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_zcard(f->c, "lr:backlog:all", 200 - 12));
	for (int k = 0; k < 3; k++) {
		snprintf(key, sizeof(key), "lr:rep:r%d:open", k + 1);
		assert_int_equal(h_int(f->c, "SCARD %s", key), limits[k]);
	}
	/* Close r1's and r3's leads over and over, from both sides. */
	for (int round = 0; round < 5; round++) {
		for (int k = 1; k <= 3; k += 2) {
			snprintf(key, sizeof(key), "lr:rep:r%d:open", k);
			r = h_cmd(f->c, "SMEMBERS %s", key);
			for (size_t i = 0; i < r->elements; i++) {
				snprintf(ev, sizeof(ev),
				    "{\"type\":\"closed\",\"lead_id\":\"%s\",\"rep\":\"r%d\",\"outcome\":\"won\"}",
				    r->element[i]->str, k);
				h_event(f->c, ev);
				closed++;
			}
			freeReplyObject(r);
		}
		/* Each freed slot takes the next waiting lead at once. */
		assert_true(h_wait_llen_at_most(f->c, "lr:events", 0));
		assert_true(h_wait_zcard_at_most(f->c, "lr:backlog:all",
		    200 - 12 - closed));
		for (int k = 0; k < 3; k++) {
			snprintf(key, sizeof(key), "lr:rep:r%d:open", k + 1);
			assert_true(h_int(f->c, "SCARD %s", key) <= limits[k]);
		}
	}
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:all"), 200 - 12 - closed);
	/* r2 never exceeded its period limit; no lead is in two inboxes. */
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r2:inbox"), 4);
	{
		static int seen[200];
		int total = 0;

		memset(seen, 0, sizeof(seen));
		for (int k = 1; k <= 3; k++) {
			snprintf(key, sizeof(key), "lr:rep:r%d:inbox", k);
			r = h_cmd(f->c, "LRANGE %s 0 -1", key);
			for (size_t i = 0; i < r->elements; i++) {
				const char *p = strstr(r->element[i]->str, "\"lead_id\":\"t");

				assert_non_null(p);
				seen[atoi(p + 12)]++;
			}
			total += (int)r->elements;
			freeReplyObject(r);
		}
		total += (int)h_int(f->c, "ZCARD lr:backlog:all");
		assert_int_equal(total, 200);
		for (int i = 0; i < 200; i++)
			assert_true(seen[i] <= 1);
	}
	h_fx_stop(f);
}

/* kill -9 in the middle of a 5,000-lead stream, then restart. */
static void
test_kill9_under_load(void **state)
{
	struct h_fx *f = *state;
	const int n = 5000;

	h_fx_start(f, 1, big_body);
	push_leads(f->c, 0, n);
	/* Let it get going, then kill it mid-stream. */
	while (h_int(f->c, "LLEN lr:incoming") > n * 3 / 4)
		h_sleep_ms(1);
	assert_int_equal(h_daemon_stop(&f->d[0], SIGKILL), 128 + SIGKILL);
	assert_true(h_int(f->c, "LLEN lr:incoming") > 0);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0-restarted");
	assert_accounted(f->c, n);
	h_fx_stop(f);
}

/* kill -9 of one of three instances, repeatedly, while all route. */
static void
test_kill9_among_three(void **state)
{
	struct h_fx *f = *state;
	const int n = 6000;
	char name[32];

	h_fx_start(f, 3, big_body);
	for (int round = 0; round < 6; round++) {
		push_leads(f->c, round * 1000, 1000);
		h_sleep_ms(2 + round * 3);
		(void)h_daemon_stop(&f->d[round % 3], SIGKILL);
		snprintf(name, sizeof(name), "d%d-%d", round % 3, round);
		h_daemon_start(&f->d[round % 3], f->conf, f->dir, name);
	}
	assert_accounted(f->c, n);
	h_fx_stop(f);
}

/* An instance stopped past its lease is fenced: its late work is refused. */
static void
test_stopped_instance_is_fenced(void **state)
{
	struct h_fx *f = *state;
	const int n = 3000;

	h_fx_start(f, 2, big_body);
	push_leads(f->c, 0, n / 2);
	h_daemon_signal(&f->d[0], SIGSTOP);
	push_leads(f->c, n / 2, n / 2);
	/* Past the lease, the other instance takes back what it held. */
	h_sleep_ms(7000);
	h_daemon_signal(&f->d[0], SIGCONT);
	assert_accounted(f->c, n);
	/* The stopped one noticed, and goes on as a new instance. */
	assert_true(h_wait_ready(f->c, 2));
	h_fx_stop(f);
}

/*
 * redis.replica_acks = 1 with no replica and a WAIT timeout longer than
 * the lease (the key allows up to 60 s): every commit waits the whole
 * timeout for an acknowledgement that never comes, and a WAIT blocks its
 * connection: the heartbeat must not wait behind it (it has a connection
 * of its own). Both instances keep their leases, neither takes the other's
 * work back, and every lead is routed once.
 */
static void
test_replica_acks_keep_lease(void **state)
{
	struct h_fx *f = *state;
	const char *body =
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 100; },\n"
	    "  { id = \"r2\"; segments = [\"all\"]; max_open = 100; } );\n";
	const int n = 30;
	char lead[96], key[32];

	h_fx_conf(f, body);
	h_fx_replica_acks(f, INSTANCE_LEASE_MS + 1000);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0");
	h_daemon_start(&f->d[1], f->conf, f->dir, "d1");
	assert_true(h_wait_ready(f->c, 2));
	for (int i = 0; i < n; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"w%02d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
		h_sleep_ms(300);
	}
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "lr:lead:w%02d", i);
		assert_true(h_wait_field(f->c, key, "status", "assigned"));
	}
	/* Past the last commit's WAIT, and a lease more. */
	h_sleep_ms(INSTANCE_LEASE_MS + 2000);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(h_log_count(&f->d[i], "lease ran out"), 0);
		assert_int_equal(h_log_count(&f->d[i], "continuing as"), 0);
	}
	assert_int_equal(h_int(f->c, "SCARD lr:rep:r1:open") +
	    h_int(f->c, "SCARD lr:rep:r2:open"), n);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:r1:inbox") +
	    h_int(f->c, "LLEN lr:rep:r2:inbox"), n);
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:redeliveries"), 0);
	h_fx_stop(f);
}

/* Wait until the replica acknowledgements' connection of daemon 0 is up
 * (before, a commit's WAIT goes on the command connection). */
static void
acks_connected(struct h_fx *f)
{
	char line[128];

	snprintf(line, sizeof(line), "redis 'replica acks' at '127.0.0.1:%d': connected",
	    f->redis.port);
	assert_true(h_wait_log(&f->d[0], line));
}

/*
 * redis.replica_acks = 1 with no replica: each commit's WAIT takes the
 * whole replica_ack_timeout. It waits on a connection of its own, after
 * an INCR that replication orders after the commit, so what shares the
 * command connection (here a /metrics scrape; SLA timers, drains and the
 * read API alike) answers at once instead of waiting behind it, and the
 * WAIT still holds the batch until it answers.
 */
static void
test_replica_acks_keep_commands(void **state)
{
	struct h_fx *f = *state;
	long long t0, took, until;
	char *body = NULL;

	f->http_port = h_free_port();
	h_fx_conf(f, NULL);
	h_fx_replica_acks(f, 8000);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0");
	assert_true(h_wait_ready(f->c, 1));
	acks_connected(f);
	h_push_lead(f->c, "{\"id\":\"k1\",\"email\":\"a@b.c\"}");
	/* Committed: its WAIT goes as soon as the reply is in. */
	until = h_now_ms() + H_WAIT_MS;
	while (h_int(f->c, "EXISTS lr:lead:k1") == 0 && h_now_ms() < until)
		h_sleep_ms(10);
	h_sleep_ms(300);
	t0 = h_now_ms();
	assert_int_equal(h_http_get(f->http_port, "GET", "/metrics", &body),
	    200);
	took = h_now_ms() - t0;
	print_message("/metrics while a commit waits for a replica: %lld ms\n",
	    took);
	assert_true(took < 4000);	/* behind the WAIT: over 7 s */
	/* The batch is done when the WAIT answers, short, 8 s on. */
	assert_true(h_metric(body, "leadrouted_replica_ack_short_total") == 0);
	free(body);
	assert_true(h_wait_log(&f->d[0], "replica acks: 0 of 1 replicas"));
	assert_true(h_now_ms() - t0 > 6000);
	/* One INCR went before the one WAIT. */
	assert_int_equal(h_int(f->c, "GET lr:replica:ack"), 1);
	h_fx_stop(f);
}

/*
 * The INCR before a WAIT refused (here lr:replica:ack holds a hash; out
 * of memory or an ACL would do the same): it did not run, so its WAIT
 * says nothing of the commit. The daemon logs it once and waits on the
 * command connection instead, which wrote the commit: the short count is
 * still seen and reported.
 */
static void
test_replica_acks_mark_refused(void **state)
{
	struct h_fx *f = *state;

	freeReplyObject(h_cmd(f->c, "HSET lr:replica:ack not a-counter"));
	h_fx_conf(f, NULL);
	h_fx_replica_acks(f, 500);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0");
	assert_true(h_wait_ready(f->c, 1));
	acks_connected(f);
	for (int i = 0; i < 3; i++) {
		char lead[64];

		snprintf(lead, sizeof(lead),
		    "{\"id\":\"m%d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_log(&f->d[0], "replica acks: 0 of 1 replicas"));
	assert_int_equal(h_log_count(&f->d[0], "INCR lr:replica:ack refused"),
	    1);
	for (int i = 0; i < 3; i++) {
		char key[32];

		snprintf(key, sizeof(key), "lr:lead:m%d", i);
		assert_int_equal(h_int(f->c, "EXISTS %s", key), 1);
	}
	assert_int_equal(h_int(f->c, "LLEN lr:incoming"), 0);
	h_fx_stop(f);
}

/* Redis restarts mid-stream (AOF): the daemon reconnects and goes on. */
static void
test_redis_restart(void **state)
{
	struct h_fx *f = *state;
	const int n = 4000;

	h_fx_start(f, 1, big_body);
	push_leads(f->c, 0, n / 2);
	while (h_int(f->c, "LLEN lr:incoming") > n / 4)
		h_sleep_ms(1);
	redisFree(f->c);
	f->c = NULL;
	h_redis_stop(&f->redis, SIGTERM);	/* writes the AOF out */
	h_sleep_ms(300);
	h_redis_restart(&f->redis);
	f->c = h_redis_connect(&f->redis);
	push_leads(f->c, n / 2, n / 2);
	assert_accounted(f->c, n);
	assert_true(h_log_contains(&f->d[0], "connected"));
	h_fx_stop(f);
}

/* SCRIPT FLUSH while routing: the daemon sends the script again. */
static void
test_script_flush(void **state)
{
	struct h_fx *f = *state;
	const int n = 3000;

	h_fx_start(f, 1, big_body);
	push_leads(f->c, 0, n / 3);
	freeReplyObject(h_cmd(f->c, "SCRIPT FLUSH"));
	push_leads(f->c, n / 3, n / 3);
	freeReplyObject(h_cmd(f->c, "SCRIPT FLUSH"));
	push_leads(f->c, 2 * n / 3, n / 3);
	assert_accounted(f->c, n);
	h_fx_stop(f);
}

/* A payload that was in flight in 5 crashes is set aside as poison. */
static void
test_poison_is_set_aside(void **state)
{
	struct h_fx *f = *state;
	const char *lead = "{\"id\":\"p1\",\"email\":\"a@b.c\",\"title\":\"VP\",\"activity\":{\"demo_request\":true}}";
	char *sha;
	json_t *dead, *e;

	/* Record four crashes against it, as the reaper would have. */
	sha = h_str(f->c, "EVAL %s 0 %s", "return redis.sha1hex(ARGV[1])", lead);
	freeReplyObject(h_cmd(f->c, "HSET lr:redeliveries %s 4", sha));
	h_push_lead(f->c, lead);
	h_fx_start(f, 1, big_body);
	assert_true(h_wait_field(f->c, "lr:lead:p1", "status", "assigned"));
	assert_int_equal(h_int(f->c, "EXISTS lr:redeliveries"), 0);

	/* The fifth time it is dead-lettered unparsed. */
	lead = "{\"id\":\"p2\",\"email\":\"a@b.c\"}";
	free(sha);
	sha = h_str(f->c, "EVAL %s 0 %s", "return redis.sha1hex(ARGV[1])", lead);
	freeReplyObject(h_cmd(f->c, "HSET lr:redeliveries %s 5", sha));
	h_push_lead(f->c, lead);
	assert_true(h_wait_llen(f->c, "lr:dead", 1));
	dead = h_list_json(f->c, "lr:dead");
	e = json_array_get(dead, 0);
	assert_string_equal(json_string_value(json_object_get(e, "reason")), "poison");
	assert_string_equal(json_string_value(json_object_get(e, "raw")), lead);
	assert_string_equal(json_string_value(json_object_get(e, "source")), "incoming");
	json_decref(dead);
	assert_int_equal(h_int(f->c, "EXISTS lr:lead:p2"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:redeliveries"), 0);
	free(sha);
	h_fx_stop(f);
}

/*
 * In-flight work of an instance reaped long ago (more than the reaper
 * watches): neither live nor recently reaped, so no heartbeat requeues it
 * as the work of a dead instance. A scan finds it and routes it, counted
 * as requeued.
 */
static void
test_orphaned_inflight_is_requeued(void **state)
{
	struct h_fx *f = *state;
	const char *h = "lr:inflight:ghost-1-0-0000beef:incoming";
	const char *w = "lr:inflight:ghost-1-0-0000beef:incoming:wait";
	char lead[3][160], key[64];

	for (int i = 0; i < 3; i++)
		snprintf(lead[i], sizeof(lead[i]),
		    "{\"id\":\"o%d\",\"email\":\"o%d@corp.com\",\"title\":\"VP\","
		    "\"employees\":5,\"activity\":{\"demo_request\":true}}", i, i);
	freeReplyObject(h_cmd(f->c, "HSET %s 7 %s 8 %s", h, lead[0], lead[1]));
	freeReplyObject(h_cmd(f->c, "LPUSH %s %s", w, lead[2]));
	h_fx_start(f, 1, big_body);
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "lr:lead:o%d", i);
		assert_true(h_wait_field(f->c, key, "status", "assigned"));
	}
	assert_int_equal(h_int(f->c, "EXISTS %s %s", h, w), 0);
	assert_int_equal(h_int(f->c, "HGET lr:stats requeued"), 3);
	h_fx_stop(f);
}

/* Redis down when the daemon starts: it waits, then routes. */
static void
test_redis_down_at_start(void **state)
{
	struct h_fx *f = *state;

	redisFree(f->c);
	f->c = NULL;
	h_redis_stop(&f->redis, SIGTERM);
	h_fx_conf(f, big_body);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0");
	h_sleep_ms(1500);
	h_redis_restart(&f->redis);
	f->c = h_redis_connect(&f->redis);
	assert_true(h_wait_ready(f->c, 1));
	push_leads(f->c, 0, 500);
	assert_accounted(f->c, 500);
	/* The outage was logged once, not once per retry. */
	assert_true(h_log_contains(&f->d[0], "retrying"));
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST_AOF(test_two_instances_hold_capacity),
		H_TEST_AOF(test_kill9_under_load),
		H_TEST_AOF(test_kill9_among_three),
		H_TEST_AOF(test_stopped_instance_is_fenced),
		H_TEST_AOF(test_redis_restart),
		H_TEST_AOF(test_script_flush),
		H_TEST_AOF(test_poison_is_set_aside),
		H_TEST_AOF(test_redis_down_at_start),
		H_TEST_AOF(test_orphaned_inflight_is_requeued),
		H_TEST_AOF(test_replica_acks_keep_lease),
		H_TEST_AOF(test_replica_acks_keep_commands),
		H_TEST_AOF(test_replica_acks_mark_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
