/* itest_events.c - the daemon against a real redis-server: feedback events on lr:events and their dead letters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* --- helpers of this file --------------------------------------------------- */

/* The default model with one piece of text replaced (malloc'd). */
static char *
body_with(const char *from, const char *to)
{
	const char *base = h_default_body(), *at = strstr(base, from);
	size_t len = strlen(base) - strlen(from) + strlen(to) + 1;
	char *b = malloc(len);

	assert_non_null(at);
	assert_non_null(b);
	snprintf(b, len, "%.*s%s%s", (int)(at - base), base, to,
	    at + strlen(from));
	return b;
}

#define JOHN_REP "{ id = \"john\"; segments = [\"mid\"]; max_open = 100; }"

/* john holds one lead at a time: the next mid lead waits in the backlog. */
static char *
body_john_one(void)
{
	return body_with(JOHN_REP,
	    "{ id = \"john\"; segments = [\"mid\"]; max_open = 1; }");
}

/* john and jane share the mid segment (john first in the config). */
static char *
body_john_jane(void)
{
	return body_with(JOHN_REP, JOHN_REP ",\n"
	    "  { id = \"jane\"; segments = [\"mid\"]; max_open = 100; }");
}

/* A hot lead of the mid segment (score 65, john's); the pushed text. */
static void
hot_text(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, "{\"id\":\"%s\",\"email\":\"a@corp.com\",\"title\":\"VP\","
	    "\"employees\":250,\"activity\":{\"demo_request\":true}}", id);
}

static void
push_hot(struct h_fx *f, const char *id)
{
	char lead[256];

	hot_text(lead, sizeof(lead), id);
	h_push_lead(f->c, lead);
}

static void
wait_held(struct h_fx *f, const char *id, const char *rep)
{
	char key[200];

	snprintf(key, sizeof(key), "lr:lead:%s", id);
	assert_true(h_wait_field(f->c, key, "status", "assigned"));
	assert_true(h_wait_field(f->c, key, "rep", rep));
}

static void
eventf(struct h_fx *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
eventf(struct h_fx *f, const char *fmt, ...)
{
	char ev[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev, sizeof(ev), fmt, ap);
	va_end(ap);
	h_event(f->c, ev);
}

static bool
zscore_nil(redisContext *c, const char *key, const char *member)
{
	redisReply *r = h_cmd(c, "ZSCORE %s %s", key, member);
	bool nil = r->type == REDIS_REPLY_NIL;

	freeReplyObject(r);
	return nil;
}

/* Push an event and check it becomes dead letter number n. */
static void
event_dead(struct h_fx *f, long long n, const char *what, const char *reason,
    const char *ev)
{
	json_t *d;

	h_event(f->c, ev);
	d = h_newest_dead(f->c, n);
	h_check_dead(what, d, reason, "events", ev, strlen(ev), false);
	json_decref(d);
}

/* The elements of an array reply as sorted lines, appended to out. */
static void
dump_sorted(FILE *out, redisReply *r)
{
	char **v = calloc(r->elements + 1, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < r->elements; i++)
		v[i] = r->element[i]->str;
	h_sort_strings(v, r->elements);
	for (size_t i = 0; i < r->elements; i++)
		fprintf(out, "  %s\n", v[i]);
	free(v);
}

static void
dump_hash(FILE *out, redisContext *c, const char *key)
{
	char *h = h_hash_dump(c, key);

	fprintf(out, "%s:\n%s", key, h);
	free(h);
}

/*
 * What a user sees of a lead and the reps (malloc'd text): the record,
 * every rep's hash, open set and inbox size, the lead's SLA timers, the
 * backlogs and the nurture list's size. Equal before and after an event
 * means the event changed nothing.
 */
static char *
snapshot(redisContext *c, const char *id)
{
	static const char *const reps[] = {"ann", "john", "jane", "kim"};
	static const char *const segs[] = {"small", "mid", "large"};
	char key[200], *buf = NULL;
	size_t len = 0;
	redisReply *r;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	snprintf(key, sizeof(key), "lr:lead:%s", id);
	dump_hash(out, c, key);
	for (size_t i = 0; i < sizeof(reps) / sizeof(reps[0]); i++) {
		snprintf(key, sizeof(key), "lr:rep:%s", reps[i]);
		dump_hash(out, c, key);
		fprintf(out, "open %s:\n", reps[i]);
		r = h_cmd(c, "SMEMBERS lr:rep:%s:open", reps[i]);
		dump_sorted(out, r);
		freeReplyObject(r);
		fprintf(out, "inbox %s: %lld\n", reps[i],
		    h_int(c, "LLEN lr:rep:%s:inbox", reps[i]));
	}
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		fprintf(out, "backlog %s:\n", segs[i]);
		r = h_cmd(c, "ZRANGE lr:backlog:%s 0 -1 WITHSCORES", segs[i]);
		for (size_t k = 0; k < r->elements; k++)
			fprintf(out, "  %s\n", r->element[k]->str);
		freeReplyObject(r);
	}
	fprintf(out, "sla:due %d\nsla:warn %d\nnurture %lld\n",
	    !zscore_nil(c, "lr:sla:due", id), !zscore_nil(c, "lr:sla:warn", id),
	    h_int(c, "LLEN lr:nurture"));
	fclose(out);
	return buf;
}

static void
assert_same(const char *before, const char *after)
{
	if (strcmp(before, after) != 0)
		fail_msg("state changed:\n--- before\n%s--- after\n%s", before,
		    after);
}

/* --- effects ------------------------------------------------------------------ */

/* followed_up: status and time recorded, the slot kept, the timers stopped. */
static void
test_followed_up_stops_timer_keeps_slot(void **state)
{
	struct h_fx *f = *state;

	h_fx_start(f, 1, NULL);
	push_hot(f, "fu-1");
	wait_held(f, "fu-1", "john");
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 1);
	assert_false(zscore_nil(f->c, "lr:sla:due", "fu-1"));
	assert_false(zscore_nil(f->c, "lr:sla:warn", "fu-1"));
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:fu-1 followed_up_at_ms"), 0);

	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"fu-1\",\"rep\":\"john\"}");
	assert_true(h_wait_field(f->c, "lr:lead:fu-1", "status", "followed_up"));
	assert_true(h_int(f->c, "HGET lr:lead:fu-1 followed_up_at_ms") >=
	    h_int(f->c, "HGET lr:lead:fu-1 assigned_at_ms"));
	assert_true(h_wait_field(f->c, "lr:lead:fu-1", "rep", "john"));
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 1);
	assert_int_equal(h_int(f->c, "SISMEMBER lr:rep:john:open fu-1"), 1);
	assert_true(zscore_nil(f->c, "lr:sla:due", "fu-1"));
	assert_true(zscore_nil(f->c, "lr:sla:warn", "fu-1"));
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:fu-1 outcome"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 1);
	assert_int_equal(h_int(f->c, "LLEN lr:nurture"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 0);
	h_fx_stop(f);
}

/* A second followed_up from the holder changes nothing and is no dead letter. */
static void
test_duplicate_followed_up_is_harmless(void **state)
{
	struct h_fx *f = *state;
	const char *fu = "{\"type\":\"followed_up\",\"lead_id\":\"fu-2\",\"rep\":\"john\"}";
	const char *marker = "{\"type\":\"marker\"}";
	char *before, *after;

	h_fx_start(f, 1, NULL);
	push_hot(f, "fu-2");
	wait_held(f, "fu-2", "john");
	h_event(f->c, fu);
	assert_true(h_wait_field(f->c, "lr:lead:fu-2", "status", "followed_up"));
	before = snapshot(f->c, "fu-2");
	h_event(f->c, fu);
	/* Events apply in push order: once the marker is dead-lettered, the
	 * repeat was applied, and it added no dead letter of its own. */
	event_dead(f, 1, "the marker after the repeat", "bad_event", marker);
	after = snapshot(f->c, "fu-2");
	assert_same(before, after);
	free(before);
	free(after);
	h_fx_stop(f);
}

/* rejected: slot freed (the backlog moves up), status rejected, nurtured. */
static void
test_rejected_frees_slot_and_nurtures(void **state)
{
	struct h_fx *f = *state;
	char *body = body_john_one(), lead[256];
	json_t *n, *e, *orig;

	h_fx_start(f, 1, body);
	push_hot(f, "rj-1");
	wait_held(f, "rj-1", "john");
	push_hot(f, "rj-2");
	assert_true(h_wait_zcard(f->c, "lr:backlog:mid", 1));
	assert_true(h_wait_field(f->c, "lr:lead:rj-2", "status", "backlog"));

	h_event(f->c, "{\"type\":\"rejected\",\"lead_id\":\"rj-1\",\"rep\":\"john\",\"reason\":\"student\"}");
	assert_true(h_wait_field(f->c, "lr:lead:rj-1", "status", "rejected"));
	wait_held(f, "rj-2", "john");
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 1);
	assert_int_equal(h_int(f->c, "SISMEMBER lr:rep:john:open rj-1"), 0);
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:mid"), 0);
	assert_true(zscore_nil(f->c, "lr:sla:due", "rj-1"));
	assert_true(zscore_nil(f->c, "lr:sla:warn", "rj-1"));

	assert_true(h_wait_llen(f->c, "lr:nurture", 1));
	n = h_list_json(f->c, "lr:nurture");
	assert_int_equal(json_array_size(n), 1);
	e = json_array_get(n, 0);
	assert_string_equal(h_jstr(e, "lead_id"), "rj-1");
	assert_int_equal(h_jint(e, "score"), 65);
	assert_string_equal(h_jstr(e, "reason"), "rejected_by_rep");
	assert_string_equal(h_jstr(e, "segment"), "mid");
	assert_true(h_jint(e, "at_ms") >= h_int(f->c, "HGET lr:lead:rj-1 assigned_at_ms"));
	hot_text(lead, sizeof(lead), "rj-1");
	assert_non_null(orig = json_loads(lead, 0, NULL));
	assert_true(json_equal(json_object_get(e, "lead"), orig));
	json_decref(orig);
	json_decref(n);
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 0);
	h_fx_stop(f);
	free(body);
}

/* closed: each outcome (the three named and another word) recorded, slots freed. */
static void
test_closed_records_each_outcome(void **state)
{
	struct h_fx *f = *state;
	static const char *const outcomes[] = {"won", "lost", "disqualified",
	    "churned"};
	char id[32], key[64];

	h_fx_start(f, 1, NULL);
	for (size_t i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "cl-%s", outcomes[i]);
		push_hot(f, id);
		wait_held(f, id, "john");
	}
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 4);
	for (size_t i = 0; i < 4; i++)
		eventf(f, "{\"type\":\"closed\",\"lead_id\":\"cl-%s\",\"rep\":\"john\",\"outcome\":\"%s\"}",
		    outcomes[i], outcomes[i]);
	for (size_t i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "cl-%s", outcomes[i]);
		snprintf(key, sizeof(key), "lr:lead:%s", id);
		assert_true(h_wait_field(f->c, key, "outcome", outcomes[i]));
		assert_true(h_wait_field(f->c, key, "status", "closed"));
		assert_true(zscore_nil(f->c, "lr:sla:due", id));
		assert_true(zscore_nil(f->c, "lr:sla:warn", id));
	}
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:nurture"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 0);
	h_fx_stop(f);
}

/* closed frees the slot: the lead waiting in the backlog goes to the rep. */
static void
test_closed_frees_slot_for_backlog(void **state)
{
	struct h_fx *f = *state;
	char *body = body_john_one();

	h_fx_start(f, 1, body);
	push_hot(f, "cb-1");
	wait_held(f, "cb-1", "john");
	push_hot(f, "cb-2");
	assert_true(h_wait_zcard(f->c, "lr:backlog:mid", 1));
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 1);
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"cb-1\",\"rep\":\"john\",\"outcome\":\"lost\"}");
	wait_held(f, "cb-2", "john");
	assert_true(h_wait_field(f->c, "lr:lead:cb-1", "status", "closed"));
	assert_true(h_wait_field(f->c, "lr:lead:cb-1", "outcome", "lost"));
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 1);
	assert_int_equal(h_int(f->c, "SISMEMBER lr:rep:john:open cb-2"), 1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 2);
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:mid"), 0);
	h_fx_stop(f);
	free(body);
}

/* The segment's only rep away: leads wait in its backlog until they are back. */
static void
test_away_rep_leads_wait_in_backlog(void **state)
{
	struct h_fx *f = *state;

	h_fx_start(f, 1, NULL);
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "away"));
	push_hot(f, "aw-1");
	assert_true(h_wait_zcard(f->c, "lr:backlog:mid", 1));
	assert_true(h_wait_field(f->c, "lr:lead:aw-1", "status", "backlog"));
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:aw-1 rep"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:john:open"), 0);

	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"available\"}");
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "available"));
	wait_held(f, "aw-1", "john");
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:mid"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 1);
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 0);
	h_fx_stop(f);
}

/* An away rep is passed over; the segment's available rep gets the leads. */
static void
test_away_rep_passed_over_for_available_peer(void **state)
{
	struct h_fx *f = *state;
	char *body = body_john_jane();

	h_fx_start(f, 1, body);
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "away"));
	/* john comes first in the config and has fewer open leads. */
	push_hot(f, "pe-1");
	push_hot(f, "pe-2");
	wait_held(f, "pe-1", "jane");
	wait_held(f, "pe-2", "jane");
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:backlog:mid"), 0);

	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"available\"}");
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "available"));
	push_hot(f, "pe-3");
	wait_held(f, "pe-3", "john");
	assert_int_equal(h_int(f->c, "SCARD lr:rep:jane:open"), 2);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 1);
	h_fx_stop(f);
	free(body);
}

/* Poll until the lead's status is want or lr:dead is not empty. */
static void
wait_status_or_dead(struct h_fx *f, const char *key, const char *want)
{
	long long until = h_now_ms() + H_WAIT_MS;
	bool done = false;
	char *st;

	while (!done && h_now_ms() < until) {
		st = h_str(f->c, "HGET %s status", key);
		done = (st != NULL && strcmp(st, want) == 0) ||
		    h_int(f->c, "LLEN lr:dead") > 0;
		free(st);
		if (!done)
			h_sleep_ms(5);
	}
}

/*
 * A reason is the rep's free text and README "Feedback: events" sets no limit on
 * it: a rejection with a long one is still a rejection.
 */
static void
test_rejected_with_long_reason(void **state)
{
	struct h_fx *f = *state;
	char reason[1024], ev[1400], dead[200], *d;
	size_t n = 0;

	/* About 600 bytes of a rep's note, with non-ASCII letters. */
	while (n < 600)
		n += (size_t)snprintf(reason + n, sizeof(reason) - n,
		    "Spoke with the buyer, no budget before Q3; r\xc3\xa9" "essayer. ");
	h_fx_start(f, 1, NULL);
	push_hot(f, "rl-1");
	wait_held(f, "rl-1", "john");
	snprintf(ev, sizeof(ev), "{\"type\":\"rejected\",\"lead_id\":\"rl-1\","
	    "\"rep\":\"john\",\"reason\":\"%s\"}", reason);
	h_event(f->c, ev);
	wait_status_or_dead(f, "lr:lead:rl-1", "rejected");
	if (h_int(f->c, "LLEN lr:dead") > 0) {
		d = h_str(f->c, "LINDEX lr:dead 0");
		snprintf(dead, sizeof(dead), "%s", d != NULL ? d : "");
		free(d);
		fail_msg("a rejection with a %zu-byte reason was dead-lettered: %.160s",
		    n, dead);
	}
	assert_true(h_wait_field(f->c, "lr:lead:rl-1", "status", "rejected"));
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 0);
	assert_true(h_wait_llen(f->c, "lr:nurture", 1));
	h_fx_stop(f);
}

/* An away rep who closes a lead frees a slot, but the backlog does not go to them. */
static void
test_away_rep_freeing_slot_gets_nothing(void **state)
{
	struct h_fx *f = *state;
	char *body = body_john_one();

	h_fx_start(f, 1, body);
	push_hot(f, "af-1");
	wait_held(f, "af-1", "john");
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "away"));
	push_hot(f, "af-2");
	assert_true(h_wait_zcard(f->c, "lr:backlog:mid", 1));
	/* The away rep still reports on the lead they hold. */
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"af-1\",\"rep\":\"john\",\"outcome\":\"won\"}");
	assert_true(h_wait_field(f->c, "lr:lead:af-1", "status", "closed"));
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 0);
	assert_true(h_wait_field(f->c, "lr:lead:af-2", "status", "backlog"));
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:mid"), 1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 1);
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"available\"}");
	wait_held(f, "af-2", "john");
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 0);
	h_fx_stop(f);
	free(body);
}

/* away is kept in Redis: a restarted daemon still gives the rep nothing. */
static void
test_rep_status_survives_restart(void **state)
{
	struct h_fx *f = *state;

	h_fx_start(f, 1, NULL);
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "away"));
	h_fx_stop(f);
	h_fx_start(f, 1, NULL);
	push_hot(f, "rs-1");
	assert_true(h_wait_zcard(f->c, "lr:backlog:mid", 1));
	assert_true(h_wait_field(f->c, "lr:lead:rs-1", "status", "backlog"));
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "away"));
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"available\"}");
	wait_held(f, "rs-1", "john");
	h_fx_stop(f);
}

/* Events are applied in push order. */
static void
test_events_applied_in_push_order(void **state)
{
	struct h_fx *f = *state;
	const char *late = "{\"type\":\"followed_up\",\"lead_id\":\"po-2\",\"rep\":\"john\"}";
	json_t *l;

	h_fx_start(f, 1, NULL);
	push_hot(f, "po-1");
	push_hot(f, "po-2");
	wait_held(f, "po-1", "john");
	wait_held(f, "po-2", "john");
	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"po-1\",\"rep\":\"john\"}");
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"po-1\",\"rep\":\"john\",\"outcome\":\"won\"}");
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"po-2\",\"rep\":\"john\",\"outcome\":\"lost\"}");
	h_event(f->c, late);
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"away\"}");
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"available\"}");
	/* The last status wins (before it is applied the field is away or unset). */
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "available"));
	assert_true(h_wait_field(f->c, "lr:lead:po-1", "status", "closed"));
	assert_true(h_wait_field(f->c, "lr:lead:po-1", "outcome", "won"));
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:po-1 followed_up_at_ms"), 1);
	assert_true(h_wait_field(f->c, "lr:lead:po-2", "status", "closed"));
	assert_true(h_wait_field(f->c, "lr:lead:po-2", "outcome", "lost"));
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:po-2 followed_up_at_ms"), 0);
	/* The followed_up after the close came too late: not the assignee. */
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 1);
	l = h_dead_letters(f->c);
	h_check_dead("followed_up after closed", json_array_get(l, 0),
	    "not_assignee", "events", late, strlen(late), false);
	json_decref(l);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 0);
	h_fx_stop(f);
}

/* --- dead letters ------------------------------------------------------------- */

/* Events about a lead that was never accepted: unknown_lead, no record made. */
static void
test_unknown_lead(void **state)
{
	struct h_fx *f = *state;
	static const char *const evs[] = {
		"{\"type\":\"followed_up\",\"lead_id\":\"nope\",\"rep\":\"john\"}",
		"{\"type\":\"rejected\",\"lead_id\":\"nope\",\"rep\":\"john\",\"reason\":\"spam\"}",
		"{\"type\":\"closed\",\"lead_id\":\"nope\",\"rep\":\"john\",\"outcome\":\"won\"}",
		"{\"type\":\"closed\",\"lead_id\":\"nope\",\"rep\":\"john\",\"outcome\":\"won\","
		    "\"note\":\"Zo\xc3\xab / \xe2\x82\xac \x7f \\\" \\u00e9 \xf0\x9f\x98\x80\"}",
	};
	char *before, *after, *nb, *na;

	h_fx_start(f, 1, NULL);
	push_hot(f, "ul-1");
	wait_held(f, "ul-1", "john");
	before = snapshot(f->c, "ul-1");
	nb = snapshot(f->c, "nope");
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		event_dead(f, (long long)i + 1, evs[i], "unknown_lead", evs[i]);
	after = snapshot(f->c, "ul-1");
	na = snapshot(f->c, "nope");
	assert_same(before, after);
	assert_same(nb, na);
	assert_int_equal(h_int(f->c, "EXISTS lr:lead:nope"), 0);
	free(before);
	free(after);
	free(nb);
	free(na);
	h_fx_stop(f);
}

/* rep_status for a rep not in the configuration: unknown_rep, nothing stored. */
static void
test_unknown_rep_status(void **state)
{
	struct h_fx *f = *state;
	const char *away = "{\"type\":\"rep_status\",\"rep\":\"zed\",\"status\":\"away\"}";
	const char *back = "{\"type\":\"rep_status\",\"rep\":\"zed\",\"status\":\"available\"}";

	h_fx_start(f, 1, NULL);
	event_dead(f, 1, "zed away", "unknown_rep", away);
	event_dead(f, 2, "zed available", "unknown_rep", back);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:zed"), 0);
	/* The configured reps are untouched: john still gets his leads. */
	push_hot(f, "ur-1");
	wait_held(f, "ur-1", "john");
	h_fx_stop(f);
}

/* A rep not in the configuration reports on john's lead: unknown_rep. */
static void
test_unknown_rep_on_lead_held_by_other(void **state)
{
	struct h_fx *f = *state;
	static const char *const evs[] = {
		"{\"type\":\"followed_up\",\"lead_id\":\"uo-1\",\"rep\":\"zed\"}",
		"{\"type\":\"rejected\",\"lead_id\":\"uo-1\",\"rep\":\"zed\",\"reason\":\"spam\"}",
		"{\"type\":\"closed\",\"lead_id\":\"uo-1\",\"rep\":\"zed\",\"outcome\":\"won\"}",
	};
	char *before, *after;

	h_fx_start(f, 1, NULL);
	push_hot(f, "uo-1");
	wait_held(f, "uo-1", "john");
	before = snapshot(f->c, "uo-1");
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		event_dead(f, (long long)i + 1, evs[i], "unknown_rep", evs[i]);
	after = snapshot(f->c, "uo-1");
	assert_same(before, after);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:zed:open"), 0);
	free(before);
	free(after);
	h_fx_stop(f);
}

/* A configured rep who does not hold the lead: not_assignee. */
static void
test_not_assignee_other_rep(void **state)
{
	struct h_fx *f = *state;
	static const char *const evs[] = {
		"{\"type\":\"followed_up\",\"lead_id\":\"na-1\",\"rep\":\"kim\"}",
		"{\"type\":\"rejected\",\"lead_id\":\"na-1\",\"rep\":\"kim\",\"reason\":\"spam\"}",
		"{\"type\":\"closed\",\"lead_id\":\"na-1\",\"rep\":\"ann\",\"outcome\":\"won\"}",
	};
	char *before, *after;

	h_fx_start(f, 1, NULL);
	push_hot(f, "na-1");
	wait_held(f, "na-1", "john");
	before = snapshot(f->c, "na-1");
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		event_dead(f, (long long)i + 1, evs[i], "not_assignee", evs[i]);
	after = snapshot(f->c, "na-1");
	assert_same(before, after);
	free(before);
	free(after);
	h_fx_stop(f);
}

/* A lead in the backlog is held by no rep, not even its segment's. */
static void
test_not_assignee_backlog_lead(void **state)
{
	struct h_fx *f = *state;
	static const char *const evs[] = {
		"{\"type\":\"followed_up\",\"lead_id\":\"nb-1\",\"rep\":\"john\"}",
		"{\"type\":\"rejected\",\"lead_id\":\"nb-1\",\"rep\":\"john\",\"reason\":\"spam\"}",
		"{\"type\":\"closed\",\"lead_id\":\"nb-1\",\"rep\":\"john\",\"outcome\":\"won\"}",
		"{\"type\":\"closed\",\"lead_id\":\"nb-1\",\"rep\":\"kim\",\"outcome\":\"won\"}",
	};
	char *before, *after;

	h_fx_start(f, 1, NULL);
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:rep:john", "status", "away"));
	push_hot(f, "nb-1");
	assert_true(h_wait_zcard(f->c, "lr:backlog:mid", 1));
	assert_true(h_wait_field(f->c, "lr:lead:nb-1", "status", "backlog"));
	before = snapshot(f->c, "nb-1");
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		event_dead(f, (long long)i + 1, evs[i], "not_assignee", evs[i]);
	after = snapshot(f->c, "nb-1");
	assert_same(before, after);
	/* Still waiting, and still routed once john is back. */
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"available\"}");
	wait_held(f, "nb-1", "john");
	free(before);
	free(after);
	h_fx_stop(f);
}

/* A nurtured lead is held by no rep either. */
static void
test_not_assignee_nurture_lead(void **state)
{
	struct h_fx *f = *state;
	const char *ev = "{\"type\":\"closed\",\"lead_id\":\"nn-1\",\"rep\":\"john\",\"outcome\":\"won\"}";
	const char *fu = "{\"type\":\"followed_up\",\"lead_id\":\"nn-1\",\"rep\":\"john\"}";
	char *before, *after;

	h_fx_start(f, 1, NULL);
	h_push_lead(f->c, "{\"id\":\"nn-1\",\"email\":\"x@gmail.com\",\"employees\":500}");
	assert_true(h_wait_field(f->c, "lr:lead:nn-1", "status", "nurture"));
	before = snapshot(f->c, "nn-1");
	event_dead(f, 1, "closed of a nurtured lead", "not_assignee", ev);
	event_dead(f, 2, "followed_up of a nurtured lead", "not_assignee", fu);
	after = snapshot(f->c, "nn-1");
	assert_same(before, after);
	free(before);
	free(after);
	h_fx_stop(f);
}

/* Once closed or rejected, the lead is no longer held: later events are refused. */
static void
test_not_assignee_once_closed_or_rejected(void **state)
{
	struct h_fx *f = *state;
	static const char *const closed_evs[] = {
		"{\"type\":\"closed\",\"lead_id\":\"nc-1\",\"rep\":\"john\",\"outcome\":\"lost\"}",
		"{\"type\":\"followed_up\",\"lead_id\":\"nc-1\",\"rep\":\"john\"}",
		"{\"type\":\"rejected\",\"lead_id\":\"nc-1\",\"rep\":\"john\",\"reason\":\"spam\"}",
	};
	static const char *const rejected_evs[] = {
		"{\"type\":\"closed\",\"lead_id\":\"nr-1\",\"rep\":\"john\",\"outcome\":\"won\"}",
		"{\"type\":\"rejected\",\"lead_id\":\"nr-1\",\"rep\":\"john\",\"reason\":\"again\"}",
	};
	char *before, *after;
	long long n = 0;

	h_fx_start(f, 1, NULL);
	push_hot(f, "nc-1");
	push_hot(f, "nr-1");
	wait_held(f, "nc-1", "john");
	wait_held(f, "nr-1", "john");
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"nc-1\",\"rep\":\"john\",\"outcome\":\"won\"}");
	h_event(f->c, "{\"type\":\"rejected\",\"lead_id\":\"nr-1\",\"rep\":\"john\",\"reason\":\"student\"}");
	assert_true(h_wait_field(f->c, "lr:lead:nc-1", "status", "closed"));
	assert_true(h_wait_field(f->c, "lr:lead:nr-1", "status", "rejected"));
	assert_true(h_wait_llen(f->c, "lr:nurture", 1));

	before = snapshot(f->c, "nc-1");
	for (size_t i = 0; i < sizeof(closed_evs) / sizeof(closed_evs[0]); i++)
		event_dead(f, ++n, closed_evs[i], "not_assignee", closed_evs[i]);
	after = snapshot(f->c, "nc-1");
	assert_same(before, after);
	free(before);
	free(after);
	assert_true(h_wait_field(f->c, "lr:lead:nc-1", "outcome", "won"));

	before = snapshot(f->c, "nr-1");
	for (size_t i = 0; i < sizeof(rejected_evs) / sizeof(rejected_evs[0]); i++)
		event_dead(f, ++n, rejected_evs[i], "not_assignee", rejected_evs[i]);
	after = snapshot(f->c, "nr-1");
	assert_same(before, after);
	free(before);
	free(after);
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:nr-1 outcome"), 0);
	h_fx_stop(f);
}

/* Malformed events: bad_event each, raw kept (base64 when not UTF-8), nothing changed. */
static void
test_bad_event_shapes(void **state)
{
	struct h_fx *f = *state;
	static const char nul_after[] =
	    "{\"type\":\"closed\",\"lead_id\":\"bv-1\",\"rep\":\"john\",\"outcome\":\"won\"}\0";
	static const char bad_utf8[] =
	    "{\"type\":\"rejected\",\"lead_id\":\"bv-1\",\"rep\":\"john\",\"reason\":\"\xff\"}";
	static const struct {
		const char *what, *buf;
		size_t len;		/* 0: strlen */
		bool b64;
	} evs[] = {
		{"not JSON", "closed bv-1 john won", 0, false},
		{"truncated", "{\"type\":\"closed\",\"lead_id\":\"bv-1\",\"rep\":\"john\"", 0, false},
		{"empty", "", 0, false},
		{"a NUL byte after the object", nul_after, sizeof(nul_after) - 1, false},
		{"duplicate keys", "{\"type\":\"closed\",\"lead_id\":\"bv-1\",\"rep\":\"john\",\"outcome\":\"won\",\"outcome\":\"lost\"}", 0, false},
		{"an array", "[{\"type\":\"closed\",\"lead_id\":\"bv-1\",\"rep\":\"john\",\"outcome\":\"won\"}]", 0, false},
		{"a string", "\"closed\"", 0, false},
		{"missing type", "{\"lead_id\":\"bv-1\",\"rep\":\"john\",\"outcome\":\"won\"}", 0, false},
		{"type not a string", "{\"type\":3,\"lead_id\":\"bv-1\",\"rep\":\"john\",\"outcome\":\"won\"}", 0, false},
		{"unknown type", "{\"type\":\"reopened\",\"lead_id\":\"bv-1\",\"rep\":\"john\"}", 0, false},
		{"type with a NUL", "{\"type\":\"closed\\u0000x\",\"lead_id\":\"bv-1\",\"rep\":\"john\",\"outcome\":\"won\"}", 0, false},
		{"followed_up without rep", "{\"type\":\"followed_up\",\"lead_id\":\"bv-1\"}", 0, false},
		{"followed_up without lead_id", "{\"type\":\"followed_up\",\"rep\":\"john\"}", 0, false},
		{"followed_up with a number rep", "{\"type\":\"followed_up\",\"lead_id\":\"bv-1\",\"rep\":7}", 0, false},
		{"rejected without reason", "{\"type\":\"rejected\",\"lead_id\":\"bv-1\",\"rep\":\"john\"}", 0, false},
		{"closed without outcome", "{\"type\":\"closed\",\"lead_id\":\"bv-1\",\"rep\":\"john\"}", 0, false},
		{"closed with an empty outcome", "{\"type\":\"closed\",\"lead_id\":\"bv-1\",\"rep\":\"john\",\"outcome\":\"\"}", 0, false},
		{"rep_status busy", "{\"type\":\"rep_status\",\"rep\":\"john\",\"status\":\"busy\"}", 0, false},
		{"rep_status without status", "{\"type\":\"rep_status\",\"rep\":\"john\"}", 0, false},
		{"rep_status without rep", "{\"type\":\"rep_status\",\"status\":\"away\"}", 0, false},
		{"invalid UTF-8", bad_utf8, sizeof(bad_utf8) - 1, true},
	};
	const size_t n = sizeof(evs) / sizeof(evs[0]);
	char *before, *after;
	json_t *l;

	h_fx_start(f, 1, NULL);
	push_hot(f, "bv-1");
	wait_held(f, "bv-1", "john");
	before = snapshot(f->c, "bv-1");
	for (size_t i = 0; i < n; i++)
		h_push(f->c, "lr:events", evs[i].buf,
		    evs[i].len ? evs[i].len : strlen(evs[i].buf));
	assert_true(h_wait_llen(f->c, "lr:dead", (long long)n));
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), (long long)n);
	l = h_dead_letters(f->c);
	for (size_t i = 0; i < n; i++)
		h_check_dead(evs[i].what, json_array_get(l, i), "bad_event",
		    "events", evs[i].buf, evs[i].len ? evs[i].len : strlen(evs[i].buf),
		    evs[i].b64);
	json_decref(l);
	after = snapshot(f->c, "bv-1");
	assert_same(before, after);
	assert_true(h_wait_field(f->c, "lr:lead:bv-1", "status", "assigned"));
	free(before);
	free(after);
	/* Still working: a good event after the bad ones is applied. */
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"bv-1\",\"rep\":\"john\",\"outcome\":\"won\"}");
	assert_true(h_wait_field(f->c, "lr:lead:bv-1", "outcome", "won"));
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 0);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_followed_up_stops_timer_keeps_slot),
		H_TEST(test_duplicate_followed_up_is_harmless),
		H_TEST(test_rejected_frees_slot_and_nurtures),
		H_TEST(test_closed_records_each_outcome),
		H_TEST(test_closed_frees_slot_for_backlog),
		H_TEST(test_away_rep_leads_wait_in_backlog),
		H_TEST(test_away_rep_passed_over_for_available_peer),
		H_TEST(test_rep_status_survives_restart),
		H_TEST(test_rejected_with_long_reason),
		H_TEST(test_away_rep_freeing_slot_gets_nothing),
		H_TEST(test_events_applied_in_push_order),
		H_TEST(test_unknown_lead),
		H_TEST(test_unknown_rep_status),
		H_TEST(test_unknown_rep_on_lead_held_by_other),
		H_TEST(test_not_assignee_other_rep),
		H_TEST(test_not_assignee_backlog_lead),
		H_TEST(test_not_assignee_nurture_lead),
		H_TEST(test_not_assignee_once_closed_or_rejected),
		H_TEST(test_bad_event_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
