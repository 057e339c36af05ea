/* itest_atomic.c - the daemon against a real redis-server: no commit is left half-applied (keys of the wrong type, nested prefixes, a script failing at each write point). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checker.h"
#include "harness.h"

/* --- helpers of this file --------------------------------------------------- */

/* A hot lead of the mid segment (score 65: john's). */
static void
hot_text(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, "{\"id\":\"%s\",\"email\":\"a@corp.com\",\"title\":\"VP\","
	    "\"employees\":250,\"activity\":{\"demo_request\":true}}", id);
}

/* A configuration at dir/name for the fixture's Redis under prefix. */
static void
conf_prefix(struct h_fx *f, char *path, size_t len, const char *name,
    const char *prefix, const char *extra)
{
	char *text;
	const char *body = h_default_body();
	size_t n = strlen(body) + strlen(extra) + 256;

	assert_non_null(text = malloc(n));
	snprintf(text, n, "redis = { host = \"127.0.0.1\"; port = %d; "
	    "prefix = \"%s\"; };\nhttp = { listen = \"\"; };\n%s%s", f->redis.port, prefix, body, extra);
	snprintf(path, len, "%s/%s", f->dir, name);
	h_write_file(path, text);
	free(text);
}

static void
start_prefix(struct h_fx *f, int slot, const char *prefix)
{
	char conf[600], name[16], key[128];

	snprintf(name, sizeof(name), "d%d", slot);
	conf_prefix(f, conf, sizeof(conf), name, prefix, "");
	h_daemon_start(&f->d[slot], conf, f->dir, name);
	snprintf(key, sizeof(key), "%sinstances", prefix);
	assert_true(h_wait_zcard(f->c, key, 1));
}

static char *
hget(struct h_fx *f, const char *key, const char *field)
{
	return h_str(f->c, "HGET %s %s", key, field);
}

/* The lead's record says assigned to rep, its rep holds it, its inbox has
 * exactly one entry for it and its follow-up timer runs. */
static void
assert_routed(struct h_fx *f, const char *prefix, const char *id,
    const char *rep)
{
	char key[256], *s;
	redisReply *r;
	int entries = 0;

	snprintf(key, sizeof(key), "%slead:%s", prefix, id);
	assert_true(h_wait_field(f->c, key, "status", "assigned"));
	assert_non_null(s = hget(f, key, "rep"));
	assert_string_equal(s, rep);
	free(s);
	snprintf(key, sizeof(key), "%srep:%s:open", prefix, rep);
	assert_int_equal(h_int(f->c, "SISMEMBER %s %s", key, id), 1);
	snprintf(key, sizeof(key), "%srep:%s:inbox", prefix, rep);
	r = h_cmd(f->c, "LRANGE %s 0 -1", key);
	for (size_t i = 0; i < r->elements; i++) {
		json_t *a = json_loads(r->element[i]->str, 0, NULL);

		assert_non_null(a);
		if (strcmp(h_jstr(a, "lead_id"), id) == 0)
			entries++;
		json_decref(a);
	}
	freeReplyObject(r);
	assert_int_equal(entries, 1);
	snprintf(key, sizeof(key), "%ssla:due", prefix);
	r = h_cmd(f->c, "ZSCORE %s %s", key, id);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	freeReplyObject(r);
}

/* Every member of rep's open set has a record held by rep, and back. */
static void
assert_open_matches(struct h_fx *f, const char *prefix, const char *rep,
    long long want)
{
	char key[256], lk[256];
	redisReply *r;

	snprintf(key, sizeof(key), "%srep:%s:open", prefix, rep);
	r = h_cmd(f->c, "SMEMBERS %s", key);
	assert_int_equal((long long)r->elements, want);
	for (size_t i = 0; i < r->elements; i++) {
		char *st, *who;

		snprintf(lk, sizeof(lk), "%slead:%s", prefix,
		    r->element[i]->str);
		st = hget(f, lk, "status");
		who = hget(f, lk, "rep");
		assert_non_null(st);
		assert_non_null(who);
		assert_true(strcmp(st, "assigned") == 0 ||
		    strcmp(st, "followed_up") == 0);
		assert_string_equal(who, rep);
		free(st);
		free(who);
	}
	freeReplyObject(r);
}

/* The dead letters of prefix with reason, counted. */
static int
dead_count(struct h_fx *f, const char *prefix, const char *reason)
{
	char key[128];
	redisReply *r;
	int n = 0;

	snprintf(key, sizeof(key), "%sdead", prefix);
	r = h_cmd(f->c, "LRANGE %s 0 -1", key);
	for (size_t i = 0; i < r->elements; i++) {
		json_t *d = json_loads(r->element[i]->str, 0, NULL);

		assert_non_null(d);
		if (reason == NULL || strcmp(h_jstr(d, "reason"), reason) == 0)
			n++;
		json_decref(d);
	}
	freeReplyObject(r);
	return n;
}

/* The only dead letter of prefix: reason key_conflict for raw, naming key. */
static void
assert_conflict(struct h_fx *f, const char *prefix, const char *source,
    const char *raw, const char *key, const char *type)
{
	char dk[128];
	char *s;
	json_t *d;

	snprintf(dk, sizeof(dk), "%sdead", prefix);
	assert_true(h_wait_llen(f->c, dk, 1));
	assert_non_null(s = h_str(f->c, "LINDEX %s 0", dk));
	d = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(d);
	h_check_dead("key conflict", d, "key_conflict", source, raw,
	    strlen(raw), false);
	assert_non_null(strstr(h_jstr(d, "detail"), key));
	assert_non_null(strstr(h_jstr(d, "detail"), type));
	json_decref(d);
}

/* --- nested prefixes ---------------------------------------------------------- */

/*
 * Two routers on one Redis, lr: and lr:lead:. A lead of lr: whose id is
 * the name of a key of lr:lead: ("incoming", a list while it holds work;
 * "instances", a sorted set while the router runs) lands between two good
 * leads of one batch: the good ones are routed in full, the bad one is
 * dead-lettered as key_conflict, and nothing else changes.
 */
static void
test_nested_prefix_leads(void **state)
{
	struct h_fx *f = *state;
	char g1[256], g2[256], g3[256], g4[256], bad[256], other[256];

	hot_text(g1, sizeof(g1), "G-1");
	hot_text(g2, sizeof(g2), "G-2");
	hot_text(bad, sizeof(bad), "incoming");
	hot_text(other, sizeof(other), "B-1");
	/* lr:lead: has work waiting (its router is not up yet): its
	 * incoming list exists. lr: gets three leads in one batch. */
	h_push(f->c, "lr:lead:incoming", other, strlen(other));
	{
		redisReply *r = h_cmd(f->c, "LPUSH lr:incoming %s %s %s", g1,
		    bad, g2);

		freeReplyObject(r);
	}
	start_prefix(f, 0, "lr:");
	assert_routed(f, "lr:", "G-1", "john");
	assert_routed(f, "lr:", "G-2", "john");
	assert_conflict(f, "lr:", "incoming", bad, "lr:lead:incoming", "list");
	/* The other router's list is untouched and it routes its lead. */
	start_prefix(f, 1, "lr:lead:");
	assert_routed(f, "lr:lead:", "B-1", "john");

	/* While lr:lead: runs, its instances key is a sorted set. */
	hot_text(g3, sizeof(g3), "G-3");
	hot_text(g4, sizeof(g4), "G-4");
	hot_text(bad, sizeof(bad), "instances");
	{
		redisReply *r = h_cmd(f->c, "LPUSH lr:incoming %s %s %s", g3,
		    bad, g4);

		freeReplyObject(r);
	}
	assert_routed(f, "lr:", "G-3", "john");
	assert_routed(f, "lr:", "G-4", "john");
	assert_true(h_wait_llen(f->c, "lr:dead", 2));
	h_sleep_ms(1500);	/* a redelivery would show by now */
	assert_int_equal(dead_count(f, "lr:", "key_conflict"), 2);
	assert_int_equal(dead_count(f, "lr:", NULL), 2);
	assert_int_equal(dead_count(f, "lr:lead:", NULL), 0);
	assert_int_equal(h_int(f->c, "ZCARD lr:lead:instances"), 1);
	assert_open_matches(f, "lr:", "john", 4);
	assert_open_matches(f, "lr:lead:", "john", 1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 4);
	assert_int_equal(h_int(f->c, "ZCARD lr:sla:due"), 4);
	assert_int_equal(h_int(f->c, "HGET lr:stats dead:key_conflict"), 2);
	h_fx_stop(f);
}

/*
 * Events of the same shape. An event of lr: naming lead "instances" (the
 * other router's sorted set) between two good events: the good ones are
 * applied, the bad one is dead-lettered as key_conflict. And a rejected
 * lead of lr:lead: whose nurture list (lr:lead:nurture) is a lead record
 * of lr:: the call is refused before any write, so the lead stays with its
 * rep; once the key is out of the way the event applies, once.
 */
static void
test_nested_prefix_events(void **state)
{
	struct h_fx *f = *state;
	char lead[256], e1[256], e2[256], bad[256], rej[256];
	char *s;

	start_prefix(f, 0, "lr:");
	start_prefix(f, 1, "lr:lead:");
	hot_text(lead, sizeof(lead), "E-1");
	h_push_lead(f->c, lead);
	hot_text(lead, sizeof(lead), "E-2");
	h_push_lead(f->c, lead);
	hot_text(lead, sizeof(lead), "B-1");
	h_push(f->c, "lr:lead:incoming", lead, strlen(lead));
	assert_routed(f, "lr:", "E-1", "john");
	assert_routed(f, "lr:", "E-2", "john");
	assert_routed(f, "lr:lead:", "B-1", "john");

	snprintf(e1, sizeof(e1), "{\"type\":\"followed_up\",\"lead_id\":\"E-1\","
	    "\"rep\":\"john\"}");
	snprintf(bad, sizeof(bad), "{\"type\":\"followed_up\",\"lead_id\":"
	    "\"instances\",\"rep\":\"john\"}");
	snprintf(e2, sizeof(e2), "{\"type\":\"closed\",\"lead_id\":\"E-2\","
	    "\"rep\":\"john\",\"outcome\":\"won\"}");
	{
		redisReply *r = h_cmd(f->c, "LPUSH lr:events %s %s %s", e1, bad,
		    e2);

		freeReplyObject(r);
	}
	assert_true(h_wait_field(f->c, "lr:lead:E-1", "status", "followed_up"));
	assert_true(h_wait_field(f->c, "lr:lead:E-2", "status", "closed"));
	assert_conflict(f, "lr:", "events", bad, "lr:lead:instances",
	    "zset");
	assert_open_matches(f, "lr:", "john", 1);

	/* lr: accepts a lead "nurture": lr:lead:'s nurture list is now a
	 * hash. lr:lead:'s rep rejects B-1. */
	hot_text(lead, sizeof(lead), "nurture");
	h_push_lead(f->c, lead);
	assert_routed(f, "lr:", "nurture", "john");
	snprintf(rej, sizeof(rej), "{\"type\":\"rejected\",\"lead_id\":\"B-1\","
	    "\"rep\":\"john\",\"reason\":\"no budget\"}");
	h_push(f->c, "lr:lead:events", rej, strlen(rej));
	h_sleep_ms(2000);
	assert_non_null(s = hget(f, "lr:lead:lead:B-1", "status"));
	assert_string_equal(s, "assigned");	/* nothing half-done */
	free(s);
	assert_open_matches(f, "lr:lead:", "john", 1);
	/* The conflict goes: the event applies once, nurture and all. */
	freeReplyObject(h_cmd(f->c, "DEL lr:lead:nurture"));
	assert_true(h_wait_field(f->c, "lr:lead:lead:B-1", "status",
	    "rejected"));
	assert_true(h_wait_llen(f->c, "lr:lead:nurture", 1));
	h_sleep_ms(1000);
	assert_int_equal(h_int(f->c, "LLEN lr:lead:nurture"), 1);
	assert_int_equal(dead_count(f, "lr:lead:", NULL), 0);
	assert_open_matches(f, "lr:lead:", "john", 0);
	h_fx_stop(f);
}

/* --- order of one instance's events ------------------------------------------- */

/*
 * An events commit refused as out of memory is sent again after a pause;
 * events pushed after it must not overtake it: a close pushed after a
 * follow-up of the same lead lands after it.
 */
static void
test_refused_events_keep_order(void **state)
{
	struct h_fx *f = *state;
	char lead[256], *s;
	redisReply *r;

	start_prefix(f, 0, "lr:");
	hot_text(lead, sizeof(lead), "O-1");
	h_push_lead(f->c, lead);
	assert_true(h_wait_field(f->c, "lr:lead:O-1", "status", "assigned"));
	r = h_cmd(f->c, "SET lr:test:fault %s", "events 1 OOM");
	freeReplyObject(r);
	r = h_cmd(f->c, "LPUSH lr:events %s", "{\"type\":\"followed_up\","
	    "\"lead_id\":\"O-1\",\"rep\":\"john\"}");
	freeReplyObject(r);
	/* The follow-up's commit is refused and waits for its retry. */
	for (int i = 0; i < 500 && h_int(f->c, "EXISTS lr:test:fault"); i++)
		usleep(2000);
	assert_int_equal(h_int(f->c, "EXISTS lr:test:fault"), 0);
	r = h_cmd(f->c, "LPUSH lr:events %s", "{\"type\":\"closed\","
	    "\"lead_id\":\"O-1\",\"rep\":\"john\",\"outcome\":\"won\"}");
	freeReplyObject(r);
	assert_true(h_wait_field(f->c, "lr:lead:O-1", "status", "closed"));
	assert_true(h_wait_llen(f->c, "lr:events", 0));
	usleep(500000);		/* the retry has come and gone */
	s = hget(f, "lr:lead:O-1", "followed_up_at_ms");
	if (s == NULL)
		fail_msg("the follow-up was applied after the close (or not at all)");
	free(s);
	assert_int_equal(dead_count(f, "lr:", NULL), 0);
	assert_true(h_log_contains(&f->d[0], "OOM leadrouted test fault"));
}

/*
 * A lead commit refused (OOM) waits to be sent again while a reload
 * removes the rep it would have gone to: once the reload is logged, the
 * lead must not reach the removed rep.
 */
static void
test_refused_commit_after_reload(void **state)
{
	static const char *one_rep =
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"r2\"; segments = [\"all\"]; } );\n";
	struct h_fx *f = *state;
	redisReply *r;
	char *rep, who[64];

	h_fx_start(f, 1,
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"r1\"; segments = [\"all\"]; },\n"
	    "         { id = \"r2\"; segments = [\"all\"]; } );\n");
	r = h_cmd(f->c, "SET lr:test:fault %s", "commit 1 OOM");
	freeReplyObject(r);
	h_push_lead(f->c, "{\"id\":\"RL-1\",\"email\":\"a@b.c\"}");
	for (int i = 0; i < 500 && h_int(f->c, "EXISTS lr:test:fault"); i++)
		usleep(1000);
	assert_int_equal(h_int(f->c, "EXISTS lr:test:fault"), 0);
	/* The retry waits 250 ms: reload now, without r1. */
	h_fx_conf(f, one_rep);
	h_daemon_signal(&f->d[0], SIGHUP);
	assert_true(h_wait_field(f->c, "lr:lead:RL-1", "status", "assigned"));
	assert_non_null(rep = hget(f, "lr:lead:RL-1", "rep"));
	snprintf(who, sizeof(who), "%s", rep);
	free(rep);
	if (strcmp(who, "r2") != 0)
		fail_msg("lead went to '%s', a rep the reload removed", who);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:r1:open"), 0);
	h_fx_stop(f);
}

/* --- a script failure at each write point -------------------------------------- */

/* The test build's fault hook (tests/fault.lua): "OP N" fails the N-th
 * write of the next call of OP. */
#define FAULT_KEY "lr:test:fault"

#define FAULT_BODY_REPS \
	"reps = (\n" \
	"  { id = \"ann\"; segments = [\"small\"]; max_open = 100; },\n" \
	"  { id = \"john\"; segments = [\"mid\"]; max_open = 6; },\n" \
	"  { id = \"kim\"; segments = [\"large\"]; max_open = 100; }\n" \
	");\n" \
	"sla = { follow_up = 3600; warn_before = 60; };\n" \
	"audit = { enabled = true; };\n"

#define MAX_ITEMS 1024

struct fault_fx {
	struct h_fx *f;
	struct chk_item items[MAX_ITEMS];
	char *bufs[MAX_ITEMS];
	char *ids[MAX_ITEMS];
	size_t n;
};

static void
add_item(struct fault_fx *x, const char *id, const char *raw,
    const char *expect, enum chk_followup fu)
{
	struct chk_item *it;

	assert_true(x->n < MAX_ITEMS);
	it = &x->items[x->n];
	assert_non_null(x->bufs[x->n] = strdup(raw));
	x->ids[x->n] = id != NULL ? strdup(id) : NULL;
	it->id = x->ids[x->n];
	if (strcmp(expect, "routed") != 0) {
		it->raw = x->bufs[x->n];
		it->raw_len = strlen(raw);
	}
	it->expect = expect;
	it->followup = fu;
	x->n++;
}

/* Push the payloads of all items in one LPUSH, in their order (LPUSH's
 * first value is the oldest: claims take them so). */
static void
push_items(struct fault_fx *x)
{
	const char **argv = calloc(x->n + 2, sizeof(*argv));

	assert_non_null(argv);
	argv[0] = "LPUSH";
	argv[1] = "lr:incoming";
	for (size_t i = 0; i < x->n; i++)
		argv[2 + i] = x->bufs[i];
	freeReplyObject(redisCommandArgv(x->f->c, (int)x->n + 2, argv, NULL));
	free(argv);
}

/* Wait until the queue, every in-flight hash and the fault key are gone;
 * false when the fault key stayed (the call had fewer writes). */
static bool
wait_quiet(struct fault_fx *x)
{
	long long until = h_now_ms() + H_WAIT_MS;
	bool armed;

	while (h_now_ms() < until) {
		/* The key first: a call that has not met its fault yet has
		 * its payloads in flight. */
		armed = h_int(x->f->c, "EXISTS " FAULT_KEY) == 1;
		if (h_queues_empty(x->f->c, "lr:")) {
			if (!armed)
				return true;
			h_sleep_ms(300);	/* a commit may still be on its way */
			if (h_int(x->f->c, "EXISTS " FAULT_KEY) == 1 &&
			    h_queues_empty(x->f->c, "lr:"))
				return false;
		}
		h_sleep_ms(50);
	}
	fail_msg("the daemon did not go quiet");
	return false;
}

/* One batch of leads of round n: two hot, one below the threshold, a
 * duplicate of the first with other bytes, one that is not JSON. */
static void
push_round(struct fault_fx *x, int n)
{
	char ids[3][32], raw[5][256];
	redisReply *r;

	snprintf(ids[0], sizeof(ids[0]), "C%d-a", n);
	snprintf(ids[1], sizeof(ids[1]), "C%d-b", n);
	snprintf(ids[2], sizeof(ids[2]), "C%d-c", n);
	hot_text(raw[0], sizeof(raw[0]), ids[0]);
	hot_text(raw[1], sizeof(raw[1]), ids[1]);
	snprintf(raw[2], sizeof(raw[2]), "{\"id\":\"%s\",\"email\":\"a@b.c\"}",
	    ids[2]);
	snprintf(raw[3], sizeof(raw[3]), "{\"id\":\"%s\",\"email\":\"x@y.z\"}",
	    ids[0]);
	snprintf(raw[4], sizeof(raw[4]), "not json %d", n);
	r = h_cmd(x->f->c, "LPUSH lr:incoming %s %s %s %s %s", raw[0], raw[1],
	    raw[2], raw[3], raw[4]);
	freeReplyObject(r);
	add_item(x, ids[0], raw[0], "routed", CHK_FU_NONE);
	add_item(x, ids[1], raw[1], "routed", CHK_FU_NONE);
	add_item(x, ids[2], raw[2], "routed", CHK_FU_NONE);
	add_item(x, ids[0], raw[3], "duplicate", CHK_FU_NONE);
	add_item(x, NULL, raw[4], "bad_json", CHK_FU_NONE);
}

/* A lead john holds with status want ("assigned"; NULL: any), or NULL. */
static char *
held(struct fault_fx *x, const char *want, const char *not)
{
	redisReply *r = h_cmd(x->f->c, "SMEMBERS lr:rep:john:open");
	char *id = NULL, key[128], *st;

	for (size_t i = 0; i < r->elements && id == NULL; i++) {
		if (not != NULL && strcmp(r->element[i]->str, not) == 0)
			continue;
		snprintf(key, sizeof(key), "lr:lead:%s", r->element[i]->str);
		st = h_str(x->f->c, "HGET %s status", key);
		if (want == NULL || (st != NULL && strcmp(st, want) == 0))
			id = strdup(r->element[i]->str);
		free(st);
	}
	freeReplyObject(r);
	return id;
}

/* One batch of events: a follow-up, a rejection and a close of leads john
 * holds (the two last free slots: the backlog drains). */
static void
push_events(struct fault_fx *x)
{
	char *a, *b, *c, ev[3][256];
	redisReply *r;

	assert_non_null(a = held(x, "assigned", NULL));
	assert_non_null(b = held(x, NULL, a));
	c = held(x, NULL, b);
	if (c != NULL && strcmp(c, a) == 0) {
		free(c);
		c = NULL;
	}
	snprintf(ev[0], sizeof(ev[0]), "{\"type\":\"followed_up\",\"lead_id\":"
	    "\"%s\",\"rep\":\"john\"}", a);
	snprintf(ev[1], sizeof(ev[1]), "{\"type\":\"rejected\",\"lead_id\":"
	    "\"%s\",\"rep\":\"john\",\"reason\":\"no budget\"}", b);
	snprintf(ev[2], sizeof(ev[2]), "{\"type\":\"closed\",\"lead_id\":"
	    "\"%s\",\"rep\":\"john\",\"outcome\":\"won\"}", c ? c : a);
	r = h_cmd(x->f->c, "LPUSH lr:events %s %s %s", ev[0], ev[1], ev[2]);
	freeReplyObject(r);
	/* a is followed up (then maybe closed) well before it is due. */
	for (size_t i = 0; i < x->n; i++)
		if (x->items[i].id != NULL && strcmp(x->items[i].id, a) == 0 &&
		    x->items[i].expect != NULL &&
		    strcmp(x->items[i].expect, "routed") == 0)
			x->items[i].followup = CHK_FU_IN_TIME;
	free(a);
	free(b);
	free(c);
}

static void
run_faults(struct fault_fx *x, const char *op, int *points)
{
	int n;

	for (n = 1; n < 400; n++) {
		char spec[64];

		snprintf(spec, sizeof(spec), "%s %d", op, n);
		if (strcmp(op, "commit") == 0) {
			freeReplyObject(h_cmd(x->f->c, "SET " FAULT_KEY " %s",
			    spec));
			push_round(x, 1000 + n);
		} else {
			/* Leads to act on, committed without a fault. */
			push_round(x, 2000 + n);
			assert_true(wait_quiet(x));
			freeReplyObject(h_cmd(x->f->c, "SET " FAULT_KEY " %s",
			    spec));
			push_events(x);
		}
		if (!wait_quiet(x))
			break;		/* no N-th write: every point was hit */
	}
	freeReplyObject(h_cmd(x->f->c, "DEL " FAULT_KEY));
	*points = n - 1;
	assert_true(*points >= 10);
}

/* Run the checker on a walk's items, print it, assert all clean; the
 * items are freed. */
static struct chk_result
check_walk(struct fault_fx *x, const char *name, const struct chk_rep *reps,
    size_t nreps, long long period_ms)
{
	struct chk_spec spec = {0};
	struct chk_result res;

	spec.items = x->items;
	spec.nitems = x->n;
	spec.reps = reps;
	spec.nreps = nreps;
	spec.period_ms = period_ms;
	assert_int_equal(chk_run(x->f->c, &spec, &res), 0);
	chk_print(stderr, name, &res);
	assert_true(chk_clean(&res));
	for (size_t i = 0; i < x->n; i++) {
		free(x->bufs[i]);
		free(x->ids[i]);
	}
	return res;
}

/*
 * How many entries of list key (JSON objects) repeat an earlier one but
 * for their time (at_ms): the same dead letter or nurture entry written
 * twice, whenever.
 */
static int
list_repeats(redisContext *c, const char *key)
{
	redisReply *r = h_cmd(c, "LRANGE %s 0 -1", key);
	char **v = calloc(r->elements + 1, sizeof(*v));
	int n = 0;

	assert_non_null(v);
	for (size_t i = 0; i < r->elements; i++) {
		json_t *o = json_loads(r->element[i]->str, 0, NULL);

		assert_non_null(o);
		json_object_del(o, "at_ms");
		assert_non_null(v[i] = json_dumps(o, JSON_SORT_KEYS));
		json_decref(o);
		for (size_t j = 0; j < i; j++)
			if (strcmp(v[i], v[j]) == 0) {
				n++;
				break;
			}
	}
	for (size_t i = 0; i < r->elements; i++)
		free(v[i]);
	free(v);
	freeReplyObject(r);
	return n;
}

/*
 * The script fails at each write point of a commit, then of an events
 * call, in turn (the test build's hook); the daemon sends the items again
 * one at a time and the script finishes what the failed call began. The
 * checker then finds nothing lost, nothing doubled, no capacity leak, and
 * every lead routed or dead-lettered with its reason.
 */
static void
test_fault_each_write(void **state)
{
	struct fault_fx *x = calloc(1, sizeof(*x));
	struct h_fx *f = *state;
	static const struct chk_rep limits[] = {{"john", 6, 0, 0}};
	struct chk_result res;
	char *body, *at;
	const char *base = h_default_body();
	int commit_points, event_points;

	assert_non_null(x);
	x->f = f;
	at = strstr(base, "reps = (");
	assert_non_null(at);
	assert_non_null(body = malloc(strlen(base) + 1024));
	snprintf(body, strlen(base) + 1024, "%.*s%s", (int)(at - base), base,
	    FAULT_BODY_REPS);
	h_fx_start(f, 1, body);
	free(body);
	run_faults(x, "commit", &commit_points);
	run_faults(x, "events", &event_points);
	print_message("write points: commit %d, events %d\n", commit_points,
	    event_points);
	res = check_walk(x, "fault at each write", limits, 1, 0);
	assert_int_equal(res.poison, 0);
	assert_int_equal(h_log_count(&f->d[0], "test fault at write"),
	    commit_points + event_points);
	/* A redone call looks before it pushes, for what it writes dated
	 * as the failed call dated it: no dead letter or nurture entry
	 * twice (every payload of the test is distinct). */
	assert_int_equal(list_repeats(f->c, "lr:dead"), 0);
	assert_int_equal(list_repeats(f->c, "lr:nurture"), 0);
	h_fx_stop(f);
	free(x);
}


/* The fixture with the fault tests' reps (john holds 6). */
static void
fault_start(struct fault_fx *x)
{
	const char *base = h_default_body();
	char *body, *at;

	at = strstr(base, "reps = (");
	assert_non_null(at);
	assert_non_null(body = malloc(strlen(base) + 1024));
	snprintf(body, strlen(base) + 1024, "%.*s%s", (int)(at - base), base,
	    FAULT_BODY_REPS);
	h_fx_start(x->f, 1, body);
	free(body);
}

/*
 * The redo of a failed commit sends its items one at a time, all at once
 * (a pipeline); when one of them fails too, the instance hands its work
 * back, and the ones behind it, already on their way, must write nothing:
 * applied, they would overtake it, and a later payload with the same id
 * would be accepted in place of the lead pushed first (which would come
 * back as the duplicate). The work must come back at once, too: left to
 * the lease, it would come back after what the new instance routes
 * meanwhile (a later push of the same id). Here the batch fails at its
 * first write and so does the redo of its first item.
 */
static void
test_failed_redo_keeps_order(void **state)
{
	struct fault_fx *x = calloc(1, sizeof(*x));
	static const struct chk_rep limits[] = {{"john", 6, 0, 0}};

	char late[128];

	assert_non_null(x);
	x->f = *state;
	fault_start(x);
	freeReplyObject(h_cmd(x->f->c, "SET " FAULT_KEY " %s", "commit 1 x2"));
	push_round(x, 1);
	/* The instance gives its work back at once: a payload with the
	 * same id pushed now (the new instance routes it) comes after. */
	assert_true(h_wait_log(&x->f->d[0], "stops: a commit failed"));
	snprintf(late, sizeof(late), "{\"id\":\"C1-a\",\"email\":\"late@y.z\"}");
	freeReplyObject(h_cmd(x->f->c, "LPUSH lr:incoming %s", late));
	add_item(x, "C1-a", late, "duplicate", CHK_FU_NONE);
	assert_true(wait_quiet(x));
	check_walk(x, "failed redo", limits, 1, 0);
	assert_int_equal(h_log_count(&x->f->d[0], "test fault at write"), 2);
	assert_true(h_log_contains(&x->f->d[0],
	    "gave back 5 unfinished payloads"));
	h_fx_stop(x->f);
	free(x);
}

/*
 * Claims of a full batch pipeline: 600 leads pushed at once are claimed
 * 256, then 256 and 88 with both claims in the air, so the third commit
 * is sent before the second one's answer. The second fails at its first
 * write: the third, already behind it, must wait for its redo (it is
 * refused, writes nothing, and goes again after the redo), or the
 * duplicate it holds would be accepted in place of the lead the second
 * one holds, pushed first.
 */
static void
test_failed_commit_not_overtaken(void **state)
{
	struct fault_fx *x = calloc(1, sizeof(*x));
	static const struct chk_rep limits[] = {{"john", 6, 0, 0}};
	enum { N = 600, FIRST = 300, DUP = 550 };
	char raw[256];

	assert_non_null(x);
	x->f = *state;
	fault_start(x);
	freeReplyObject(h_cmd(x->f->c, "SET " FAULT_KEY " %s", "commit 1 s1"));
	for (int i = 0; i < N; i++) {
		char id[32];

		snprintf(id, sizeof(id), "O-%d", i);
		if (i == FIRST)
			hot_text(raw, sizeof(raw), "O-first");
		else if (i == DUP)
			snprintf(raw, sizeof(raw),
			    "{\"id\":\"O-first\",\"email\":\"x@y.z\"}");
		else
			snprintf(raw, sizeof(raw),
			    "{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
		add_item(x, i == FIRST || i == DUP ? "O-first" : id, raw,
		    i == DUP ? "duplicate" : "routed", CHK_FU_NONE);
	}
	push_items(x);
	assert_true(wait_quiet(x));
	check_walk(x, "failed commit not overtaken", limits, 1, 0);
	assert_int_equal(h_log_count(&x->f->d[0], "test fault at write"), 1);
	assert_true(h_log_contains(&x->f->d[0],
	    "commit of incoming waits for an earlier one"));
	h_fx_stop(x->f);
	free(x);
}


/*
 * The redo of a failed batch of 200 leads, whose first item Redis refuses
 * (out of memory): the 199 behind it are refused as BEHIND and wait with
 * it, all to go again together in order after the pause. Each waiting on
 * a timer of its own, they came back in a random order and each round
 * let one more through: 11,901 calls for 200 leads, and past 240 rounds
 * the instance gave up its work.
 */
static void
test_refused_redo_waits_in_order(void **state)
{
	struct fault_fx *x = calloc(1, sizeof(*x));
	static const struct chk_rep limits[] = {{"john", 6, 0, 0}};
	enum { N = 200 };
	char raw[128], id[32];
	int behind;

	assert_non_null(x);
	x->f = *state;
	fault_start(x);
	freeReplyObject(h_cmd(x->f->c, "SET " FAULT_KEY " %s",
	    "commit 1 x2 O1"));
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "W-%d", i);
		snprintf(raw, sizeof(raw), "{\"id\":\"%s\",\"email\":\"a@b.c\"}",
		    id);
		add_item(x, id, raw, "routed", CHK_FU_NONE);
	}
	push_items(x);
	assert_true(wait_quiet(x));
	check_walk(x, "refused redo waits in order", limits, 1, 0);
	behind = h_log_count(&x->f->d[0], "waits for an earlier one");
	print_message("%d calls refused as BEHIND for %d leads\n", behind, N);
	assert_true(h_log_contains(&x->f->d[0], "OOM leadrouted test fault"));
	assert_int_equal(behind, N - 1);
	assert_false(h_log_contains(&x->f->d[0], "stops:"));
	h_fx_stop(x->f);
	free(x);
}


/* --- the periodic drain and sla ops ------------------------------------------ */

#define TWO_REPS(mo, extra) \
	"scoring = { mql_threshold = 0; rules = (); };\n" \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n" \
	"reps = ( { id = \"pat\"; segments = [\"all\"]; max_open = " mo "; },\n" \
	"         { id = \"sam\"; segments = [\"all\"]; max_open = " mo "; } );\n" \
	"audit = { enabled = true; };\n" extra

/* The alerts of the log of type for lead id. */
static int
alerts_of(struct h_fx *f, const char *type, const char *id)
{
	redisReply *r = h_cmd(f->c, "XRANGE lr:alerts:log - +");
	int n = 0;

	for (size_t i = 0; i < r->elements; i++) {
		json_t *a = json_loads(r->element[i]->element[1]->element[1]->str,
		    0, NULL);

		assert_non_null(a);
		if (strcmp(h_jstr(a, "type"), type) == 0 &&
		    strcmp(h_jstr(a, "lead_id"), id) == 0)
			n++;
		json_decref(a);
	}
	freeReplyObject(r);
	return n;
}

/*
 * A rep whose keys hold another type (a router whose prefix nests, a
 * tool) gets nothing from the periodic drain or a reassignment: before,
 * the drain assigned a backlog lead to it and failed at the inbox push,
 * every second, leaving the lead half-assigned (record and open set, no
 * inbox entry, still in the backlog); a breach reassigned to it the same
 * way and the lead lost its timer for good. A backlog of another type is
 * skipped with a log line.
 */
static void
test_periodic_key_conflicts(void **state)
{
	struct h_fx *f = *state;
	char *s;

	/* Drain: pat and sam full, D-3 waits; pat's inbox becomes a string;
	 * a reload gives both room: the drain op gives D-3 to sam. */
	h_fx_start(f, 1, TWO_REPS("1", "sla = { follow_up = 3600; };\n"));
	h_push_lead(f->c, "{\"id\":\"D-1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:D-1", "status", "assigned"));
	h_push_lead(f->c, "{\"id\":\"D-2\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:D-2", "status", "assigned"));
	h_push_lead(f->c, "{\"id\":\"D-3\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:D-3", "status", "backlog"));
	assert_non_null(s = hget(f, "lr:lead:D-1", "rep"));
	freeReplyObject(h_cmd(f->c, "DEL lr:rep:%s:inbox", s));
	freeReplyObject(h_cmd(f->c, "SET lr:rep:%s:inbox other", s));
	h_fx_conf(f, TWO_REPS("2", "sla = { follow_up = 3600; };\n"));
	h_daemon_signal(&f->d[0], SIGHUP);
	assert_true(h_wait_field(f->c, "lr:lead:D-3", "status", "assigned"));
	{
		char *to = hget(f, "lr:lead:D-3", "rep");

		assert_non_null(to);
		assert_string_not_equal(to, s);
		assert_routed(f, "lr:", "D-3", to);
		free(to);
	}
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:all"), 0);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:%s:open", s), 1);
	free(s);
	/* A backlog of another type: skipped, logged, the rest goes on. */
	freeReplyObject(h_cmd(f->c, "SET lr:backlog:all other"));
	for (int i = 0; i < 200 && !h_log_contains(&f->d[0],
	    "backlog drain skipped segment all"); i++)
		h_sleep_ms(50);
	assert_true(h_log_contains(&f->d[0], "backlog drain skipped segment all"));
	assert_false(h_log_contains(&f->d[0], "backlog drain failed"));
	h_fx_stop(f);
}

/*
 * A breach in reassign mode: the only other rep's inbox is a string. The
 * lead stays with its rep, breached and escalated, once each.
 */
static void
test_sla_key_conflict(void **state)
{
	struct h_fx *f = *state;
	char *s;

	h_fx_start(f, 1, TWO_REPS("5", "sla = { follow_up = 1; warn_before = 0; "
	    "on_breach = \"reassign\"; };\n"));
	h_push_lead(f->c, "{\"id\":\"S-1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:S-1", "status", "assigned"));
	assert_non_null(s = hget(f, "lr:lead:S-1", "rep"));
	assert_string_equal(s, "pat");	/* config order breaks the tie */
	free(s);
	/* Now sam's inbox is a string: sam cannot take it over. */
	freeReplyObject(h_cmd(f->c, "SET lr:rep:sam:inbox other"));
	assert_true(h_wait_field(f->c, "lr:lead:S-1", "escalated", "1"));
	h_sleep_ms(1500);	/* a second breach or a retry would show */
	assert_non_null(s = hget(f, "lr:lead:S-1", "rep"));
	assert_string_equal(s, "pat");
	free(s);
	assert_int_equal(h_int(f->c, "HGET lr:lead:S-1 sla_breached"), 1);
	assert_int_equal(h_int(f->c, "SISMEMBER lr:rep:pat:open S-1"), 1);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:sam:open"), 0);
	assert_int_equal(h_int(f->c, "ZCARD lr:sla:due"), 0);
	assert_int_equal(alerts_of(f, "sla_breach", "S-1"), 1);
	assert_int_equal(alerts_of(f, "sla_escalation", "S-1"), 1);
	assert_false(h_log_contains(&f->d[0], "sla timers: "));
	h_fx_stop(f);
}

/* Leads of the periodic walks: n MQLs of round r, pushed at once. */
static void
push_plain(struct fault_fx *x, const char *tag, int r, int n)
{
	char id[32], raw[128];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s%d-%d", tag, r, i);
		snprintf(raw, sizeof(raw), "{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
		h_push_lead(x->f->c, raw);
		add_item(x, id, raw, "routed", CHK_FU_NONE);
	}
}

/*
 * Arm "op N" for N = 1, 1 + STRIDE... and push a round each time (per
 * leads, two in the first); a round ends when the fault fired and
 * settled(round) says the round's leads got past it, the walk when the
 * daemon went quiet (done() says so) with the fault still armed: every
 * point was hit. A periodic op runs once a second, so a round takes two
 * or three seconds: under make test every third point, from a first one
 * that changes from run to run (printed; LR_FAULT_OFFSET=0, 1 or 2 replays
 * it); LR_FAULT_STRIDE=1 walks them all. Returns the points hit.
 */
static int
walk_periodic(struct fault_fx *x, const char *op, const char *tag, int per,
    bool (*done)(struct h_fx *), bool (*settled)(struct h_fx *, int))
{
	int n, hit = 0, stride = getenv("LR_FAULT_STRIDE") != NULL ?
	    atoi(getenv("LR_FAULT_STRIDE")) : 3, first;

	if (stride < 1)
		stride = 1;
	first = 1 + (getenv("LR_FAULT_OFFSET") != NULL ?
	    atoi(getenv("LR_FAULT_OFFSET")) : (int)(h_now_ms() / 1000)) % stride;
	print_message("%s: faults at writes %d, %d... (LR_FAULT_OFFSET=%d)\n",
	    op, first, first + stride, first - 1);
	for (n = first; n < 200; n += stride) {
		long long until = h_now_ms() + H_WAIT_MS, quiet_since = 0;

		char spec[64];

		snprintf(spec, sizeof(spec), "%s %d", op, n);
		freeReplyObject(h_cmd(x->f->c, "SET " FAULT_KEY " %s", spec));
		push_plain(x, tag, n, n == first ? 2 : per);
		while (h_int(x->f->c, "EXISTS " FAULT_KEY) == 1) {
			if (!done(x->f))
				quiet_since = 0;
			else if (quiet_since == 0)
				quiet_since = h_now_ms();
			else if (h_now_ms() - quiet_since > 1500)
				goto out;
			if (h_now_ms() > until)
				fail_msg("%s %d: the daemon did not go quiet", op, n);
			h_sleep_ms(20);
		}
		hit++;
		while (!settled(x->f, n)) {
			if (h_now_ms() > until)
				fail_msg("%s %d: the round did not settle", op, n);
			h_sleep_ms(20);
		}
	}
out:
	freeReplyObject(h_cmd(x->f->c, "DEL " FAULT_KEY));
	print_message("%s: fault at %d points (every %d), none at write %d\n",
	    op, hit, stride, n);
	return hit;
}

static bool
backlog_empty(struct h_fx *f)
{
	return h_int(f->c, "ZCARD lr:backlog:all") == 0 &&
	    h_int(f->c, "LLEN lr:incoming") == 0;
}

/* Round r's lead was moved on in full: its timer is its new assignment's. */
static bool
moved_on(struct h_fx *f, int r)
{
	char *due, *rc;
	redisReply *z;
	bool ok;

	due = h_str(f->c, "HGET lr:lead:SL%d-0 follow_up_due_ms", r);
	rc = h_str(f->c, "HGET lr:lead:SL%d-0 reassign_count", r);
	z = h_cmd(f->c, "ZSCORE lr:sla:due SL%d-0", r);
	ok = due != NULL && rc != NULL && strcmp(rc, "1") == 0 &&
	    ((z->type == REDIS_REPLY_STRING && strcmp(z->str, due) == 0) ||
	    h_int(f->c, "HEXISTS lr:lead:SL%d-0 escalated", r) == 1);
	freeReplyObject(z);
	free(due);
	free(rc);
	return ok;
}

static bool
backlog_settled(struct h_fx *f, int r)
{
	(void)r;
	return backlog_empty(f);
}

static bool
timers_done(struct h_fx *f)
{
	return h_int(f->c, "ZCARD lr:sla:due") == 0 &&
	    h_int(f->c, "LLEN lr:incoming") == 0;
}

/*
 * The drain op fails at each write point in turn: one lead a second may
 * go to pat (max_per_period 1, period 1 s), so of each round's two the
 * second waits and the periodic drain assigns it. The next drain finishes
 * what a failed one began; the checker finds nothing lost or doubled and
 * no limit exceeded.
 */
static void
test_drain_fault_each_write(void **state)
{
	struct fault_fx *x = calloc(1, sizeof(*x));
	struct h_fx *f = *state;
	/* The rolling period is not checked: a redone assignment's audit
	 * entry is dated when the redo writes it, a second after the
	 * assignment it records, and may then share a period with the next
	 * one (README "Reliability"). */
	static const struct chk_rep limits[] = {{"pat", 1000, 0, 0}};
	int points;

	assert_non_null(x);
	x->f = f;
	h_fx_start(f, 1,
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "capacity = { period = 1; };\n"
	    "reps = ( { id = \"pat\"; segments = [\"all\"]; max_open = 1000; "
	    "max_per_period = 1; } );\n"
	    "sla = { follow_up = 3600; warn_before = 0; };\n"
	    "forecast = { horizon = 0; };\n"
	    "audit = { enabled = true; };\n");
	points = walk_periodic(x, "drain", "DR", 2, backlog_empty,
	    backlog_settled);
	assert_true(points >= 5);
	check_walk(x, "drain fault at each write", limits, 1, 1000);
	assert_int_equal(h_log_count(&f->d[0], "test fault at write"), points);
	h_fx_stop(f);
	free(x);
}

/*
 * A drain that fails after assigning a lead leaves the assignment counted
 * in the rep's rolling window until its redo: pat may take one lead per 2
 * s; W-1 waits in the backlog for the next period, the drain that gives it
 * to pat fails at its pub/sub message (after the open set and the window
 * are written), and W-2 arrives before the next drain. W-2 must wait: pat
 * already has W-1 in this period. (With the window written only at the
 * end of the call, W-2 went to pat and the redo gave pat W-1 too: two in
 * one period.)
 */
static void
test_window_counted_before_redo(void **state)
{
	struct h_fx *f = *state;
	long long until;
	char *s;

	h_fx_start(f, 1,
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "capacity = { period = 2; };\n"
	    "reps = ( { id = \"pat\"; segments = [\"all\"]; max_open = 1000; "
	    "max_per_period = 1; } );\n"
	    "sla = { follow_up = 3600; warn_before = 0; };\n"
	    "forecast = { horizon = 0; };\n");
	h_push_lead(f->c, "{\"id\":\"W-0\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:W-0", "status", "assigned"));
	h_push_lead(f->c, "{\"id\":\"W-1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:W-1", "status", "backlog"));
	freeReplyObject(h_cmd(f->c, "SET " FAULT_KEY " %s", "drain PUBLISH"));
	assert_int_equal(h_int(f->c, "EXISTS " FAULT_KEY), 1);
	until = h_now_ms() + H_WAIT_MS;
	while (h_int(f->c, "EXISTS " FAULT_KEY) == 1) {
		if (h_now_ms() > until)
			fail_msg("no drain assigned W-1");
		h_sleep_ms(5);
	}
	/* The failed drain's record and open set are there, its redo a
	 * second away. */
	assert_int_equal(h_int(f->c, "SISMEMBER lr:rep:pat:open W-1"), 1);
	h_push_lead(f->c, "{\"id\":\"W-2\",\"email\":\"a@b.c\"}");
	until = h_now_ms() + H_WAIT_MS;
	while ((s = hget(f, "lr:lead:W-2", "status")) == NULL) {
		if (h_now_ms() > until)
			fail_msg("W-2 was not committed");
		h_sleep_ms(5);
	}
	assert_string_equal(s, "backlog");
	free(s);
	/* The redo finishes W-1; W-2 goes to pat a period later. */
	assert_true(h_wait_field(f->c, "lr:lead:W-2", "status", "assigned"));
	assert_true(h_int(f->c, "HGET lr:lead:W-2 assigned_at_ms") -
	    h_int(f->c, "HGET lr:lead:W-1 assigned_at_ms") >= 2000);
	assert_int_equal(h_log_count(&f->d[0], "test fault at write"), 1);
	h_fx_stop(f);
}

/*
 * The sla op fails at each write point in turn, in reassign mode: each
 * lead breaches at one rep after 1 s, is reassigned to the other, breaches
 * there and is escalated. The next call finishes what a failed one began:
 * one breach per assignment, none lost, no lead half-moved.
 */
static void
test_sla_fault_each_write(void **state)
{
	struct fault_fx *x = calloc(1, sizeof(*x));
	struct h_fx *f = *state;
	static const struct chk_rep limits[] = {{"pat", 1000, 0, 0},
	    {"sam", 1000, 0, 0}};
	redisReply *bodies;
	int points;

	assert_non_null(x);
	x->f = f;
	/* A webhook endpoint on a closed port: its deliveries stay pending
	 * in the outbox, where the test counts them. */
	h_fx_start(f, 1, TWO_REPS("1000", "sla = { follow_up = 1; "
	    "warn_before = 0; on_breach = \"reassign\"; max_reassign = 1; };\n"
	    "webhooks = ( { name = \"w\"; url = \"http://127.0.0.1:9/x\"; "
	    "format = \"slack\"; max_attempts = 1000; events = "
	    "[\"lead.assigned\", \"lead.reassigned\", \"sla.breach\", "
	    "\"sla.escalation\"]; } );\n"));
	points = walk_periodic(x, "sla", "SL", 1, timers_done, moved_on);
	assert_true(points >= 5);
	/* Every chain ends in one escalation, whatever failed on the way;
	 * and its webhooks are recorded once each: an assignment, a breach,
	 * the reassignment, a breach, the escalation. */
	bodies = h_cmd(f->c, "HVALS lr:webhook:w:bodies");
	for (size_t i = 0; i < x->n; i++) {
		int na = 0, nr = 0, nb = 0, ne = 0;
		char pat[128];

		assert_int_equal(alerts_of(f, "sla_escalation", x->ids[i]), 1);
		snprintf(pat, sizeof(pat), "\"lead_id\":\"%s\"", x->ids[i]);
		for (size_t j = 0; j < bodies->elements; j++) {
			const char *b = bodies->element[j]->str;

			if (strstr(b, pat) == NULL)
				continue;
			na += strstr(b, "\"lead.assigned\"") != NULL;
			nr += strstr(b, "\"lead.reassigned\"") != NULL;
			nb += strstr(b, "\"sla.breach\"") != NULL;
			ne += strstr(b, "\"sla.escalation\"") != NULL;
		}
		if (na != 1 || nr != 1 || nb != 2 || ne != 1)
			fail_msg("lead %s: webhooks assigned %d, reassigned %d, breach %d, escalation %d (want 1, 1, 2, 1)",
			    x->ids[i], na, nr, nb, ne);
	}
	freeReplyObject(bodies);
	check_walk(x, "sla fault at each write", limits, 2, 0);
	assert_int_equal(h_log_count(&f->d[0], "test fault at write"), points);
	h_fx_stop(f);
	free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_nested_prefix_leads),
		H_TEST(test_nested_prefix_events),
		H_TEST(test_fault_each_write),
		H_TEST(test_failed_redo_keeps_order),
		H_TEST(test_failed_commit_not_overtaken),
		H_TEST(test_refused_redo_waits_in_order),
		H_TEST(test_refused_events_keep_order),
		H_TEST(test_refused_commit_after_reload),
		H_TEST(test_periodic_key_conflicts),
		H_TEST(test_sla_key_conflict),
		H_TEST(test_drain_fault_each_write),
		H_TEST(test_window_counted_before_redo),
		H_TEST(test_sla_fault_each_write),
	};

	/* LR_TESTS=pattern runs only the matching tests (cmocka's glob);
	 * empty, all of them (cmocka's filter would match none). */
	if (getenv("LR_TESTS") != NULL && *getenv("LR_TESTS") != '\0')
		cmocka_set_test_filter(getenv("LR_TESTS"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
