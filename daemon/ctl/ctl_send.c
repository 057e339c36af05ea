/* ctl_send.c - leadctl push (validated JSON lines onto the intake queue) and the feedback events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl_send.h"
#include "lead.h"
#include "keys.h"

/* Replies owed at once while pushing. */
#define PUSH_BATCH 256
/* Dead letters looked at per poll for the one an event became. */
#define DEAD_SCAN 200
#define WAIT_POLL_MS 50

struct push_state {
	long long pushed, rejected, lineno;
	size_t pending;		/* LPUSHes sent, replies not read */
	long long short_acks;	/* pushes WAIT confirmed on too few replicas */
	long long fewest_acks;	/* the fewest replicas one WAIT counted */
	json_t *errors;		/* for --json */
};

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * redis.replica_acks: WAIT until that many replicas have the n pushes just
 * made (README "High availability"); too few is counted, and reported at
 * the end. 0, or -1 when WAIT itself failed.
 */
static int
push_confirm(struct ctl *ctl, struct push_state *st, size_t n)
{
	const struct lr_config *cfg = ctl->cfg;
	redisReply *r;

	if ((r = ctl_cmd(ctl, "WAIT %d %lld", cfg->redis.replica_acks,
	    cfg->redis.replica_ack_timeout)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER && r->integer <
	    cfg->redis.replica_acks) {
		st->short_acks += (long long)n;
		if (st->fewest_acks < 0 || r->integer < st->fewest_acks)
			st->fewest_acks = r->integer;
	}
	freeReplyObject(r);
	return 0;
}

/* Read the replies of the LPUSHes in the air. */
static int
push_flush(struct ctl *ctl, struct push_state *st)
{
	redisReply *r;
	size_t n = st->pending;

	while (st->pending > 0) {
		st->pending--;
		if ((r = ctl_get_reply(ctl, "LPUSH")) == NULL)
			return -1;
		freeReplyObject(r);
		st->pushed++;
	}
	if (n > 0 && ctl->cfg->redis.replica_acks > 0)
		return push_confirm(ctl, st, n);
	return 0;
}

static bool
is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static int
push_reject(struct ctl *ctl, struct push_state *st, const struct lead_error *err)
{
	json_t *e;

	st->rejected++;
	fflush(stdout);
	fprintf(stderr, "line %lld: %s: %s\n", st->lineno,
	    dl_reason_name(err->reason), err->detail);
	if (!ctl->json)
		return 0;
	e = json_pack("{s:I, s:s, s:s}", "line", (json_int_t)st->lineno,
	    "reason", dl_reason_name(err->reason), "detail", err->detail);
	if (e == NULL || json_array_append_new(st->errors, e) == -1)
		return ctl_seterr(ctl, "cannot record line %lld: out of memory",
		    st->lineno);
	return 0;
}

/* Validate one line; queue it when good. */
static int
push_line(struct ctl *ctl, struct push_state *st, const char *buf, size_t len)
{
	struct lead lead;
	struct lead_error err;

	if (is_blank(buf, len))
		return 0;
	if (lead_parse(buf, len, ctl->cfg->intake.max_bytes, &lead, &err) == -1) {
		if (err.reason == DL_NONE)
			return ctl_seterr(ctl, "cannot check line %lld: out of memory",
			    st->lineno);
		return push_reject(ctl, st, &err);
	}
	lead_clear(&lead);
	if (redisAppendCommand(ctl->rc, "LPUSH %s" KEY_INCOMING " %b", ctl->prefix,
	    buf, len) != REDIS_OK)
		return ctl_seterr(ctl, "cannot queue line %lld: out of memory",
		    st->lineno);
	if (++st->pending >= PUSH_BATCH)
		return push_flush(ctl, st);
	return 0;
}

static int
push_stream(struct ctl *ctl, struct push_state *st, FILE *in, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, in)) != -1) {
		st->lineno++;
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		rc = push_line(ctl, st, line, (size_t)n);
	}
	if (rc == 0 && ferror(in))
		rc = ctl_seterr(ctl, "cannot read '%s': %s", name,
		    strerror(errno));
	free(line);
	if (push_flush(ctl, st) == -1)
		rc = -1;
	return rc;
}

static void
push_report(const struct ctl *ctl, const struct push_state *st)
{
	if (ctl->json) {
		if (ctl_print_json(json_pack("{s:I, s:I, s:O}", "pushed",
		    (json_int_t)st->pushed, "rejected",
		    (json_int_t)st->rejected, "errors", st->errors)) == -1)
			ctl_warnx("cannot encode the report: out of memory");
		return;
	}
	printf("pushed %lld lead%s, rejected %lld line%s\n", st->pushed,
	    st->pushed == 1 ? "" : "s", st->rejected,
	    st->rejected == 1 ? "" : "s");
}

int
ctl_push(struct ctl *ctl, const char *path)
{
	struct push_state st = {.fewest_acks = -1};
	const char *name = "stdin";
	FILE *in = stdin;
	int rc = CTL_ERR;

	if (path != NULL && strcmp(path, "-") != 0) {
		name = path;
		if ((in = fopen(path, "r")) == NULL) {
			ctl_warnx("cannot open '%s': %s", path, strerror(errno));
			return CTL_ERR;
		}
	}
	if ((st.errors = json_array()) == NULL) {
		ctl_warnx("cannot push: out of memory");
		goto out_close;
	}
	if (ctl_connect(ctl) == -1) {
		ctl_fail(ctl);
		goto out_free_errors;
	}
	if (push_stream(ctl, &st, in, name) == -1) {
		ctl_fail(ctl);
		push_report(ctl, &st);
		goto out_free_errors;
	}
	push_report(ctl, &st);
	rc = st.rejected > 0 ? CTL_ERR : CTL_OK;
	if (st.short_acks > 0) {
		ctl_warnx("%lld of the pushed leads were acknowledged by only %lld of %d replicas within %lld ms: they are queued, but a failover now could lose them",
		    st.short_acks, st.fewest_acks, ctl->cfg->redis.replica_acks,
		    ctl->cfg->redis.replica_ack_timeout);
		rc = CTL_ERR;
	}

out_free_errors:
	json_decref(st.errors);
out_close:
	if (in != stdin)
		fclose(in);
	return rc;
}

/* ---- events ------------------------------------------------------------ */

static int
set_str(json_t *o, const char *key, const char *value)
{
	return json_object_set_new(o, key, json_string(value));
}

/* The contract's event object, or NULL when an argument is not UTF-8. */
static json_t *
event_json(const struct ctl_event *ev)
{
	json_t *o = json_object();
	int rc = 0;

	if (o == NULL)
		return NULL;
	rc |= set_str(o, "type", event_type_name(ev->type));
	if (ev->type != EVENT_REP_STATUS)
		rc |= set_str(o, "lead_id", ev->lead_id);
	rc |= set_str(o, "rep", ev->rep);
	if (ev->type == EVENT_REJECTED)
		rc |= set_str(o, "reason", ev->arg);
	else if (ev->type == EVENT_CLOSED)
		rc |= set_str(o, "outcome", ev->arg);
	else if (ev->type == EVENT_REP_STATUS)
		rc |= set_str(o, "status", ev->arg);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* What the wait found. */
enum wait_result {
	WAIT_APPLIED,
	WAIT_DEAD,
	WAIT_TIMEOUT,
};

struct wait_state {
	const struct ctl_event *ev;
	const char *payload;
	long long t0;		/* Redis time just before the push */
	redisReply *record;	/* HGETALL of the lead or rep, when applied */
	json_t *dead;		/* the dead letter, when refused */
};

static bool
field_at_least(const redisReply *h, const char *field, long long t0)
{
	long long v;

	return ctl_parse_ll(ctl_hash_get(h, field), &v) && v >= t0;
}

static bool
field_is(const redisReply *h, const char *field, const char *value)
{
	const char *v = ctl_hash_get(h, field);

	return v != NULL && strcmp(v, value) == 0;
}

/* Does the hash show the event applied? */
static bool
shows_applied(const struct wait_state *w, const redisReply *h)
{
	const struct ctl_event *ev = w->ev;

	switch (ev->type) {
	case EVENT_FOLLOWED_UP:
		/* Already followed up by this rep: the daemon changes nothing. */
		return field_is(h, "status", "followed_up") &&
		    field_is(h, "rep", ev->rep) &&
		    ctl_hash_get(h, "followed_up_at_ms") != NULL;
	case EVENT_REJECTED:
		return field_is(h, "status", "rejected") &&
		    field_at_least(h, "rejected_at_ms", w->t0);
	case EVENT_CLOSED:
		return field_is(h, "status", "closed") &&
		    field_at_least(h, "closed_at_ms", w->t0);
	case EVENT_REP_STATUS:
		return field_is(h, "status", ev->arg);
	}
	return false;
}

static int
poll_record(struct ctl *ctl, struct wait_state *w, bool *done)
{
	redisReply *r;

	if (w->ev->type == EVENT_REP_STATUS)
		r = ctl_cmd(ctl, "HGETALL %s" KEY_REP "%s", ctl->prefix, w->ev->rep);
	else
		r = ctl_cmd(ctl, "HGETALL %s" KEY_LEAD "%s", ctl->prefix,
		    w->ev->lead_id);
	if (r == NULL)
		return -1;
	*done = shows_applied(w, r);
	if (*done)
		w->record = r;
	else
		freeReplyObject(r);
	return 0;
}

/* Is dead letter d this event, refused after it was sent? */
static bool
is_our_dead_letter(const struct wait_state *w, const json_t *d)
{
	const json_t *raw = json_object_get(d, "raw");
	const json_t *src = json_object_get(d, "source");
	const json_t *at = json_object_get(d, "at_ms");

	return json_is_string(raw) && json_is_string(src) &&
	    strcmp(json_string_value(src), "events") == 0 &&
	    strcmp(json_string_value(raw), w->payload) == 0 &&
	    json_is_integer(at) && json_integer_value(at) >= w->t0;
}

static int
poll_dead(struct ctl *ctl, struct wait_state *w, bool *done)
{
	redisReply *r;
	json_t *d;

	*done = false;
	if ((r = ctl_cmd(ctl, "LRANGE %s" KEY_DEAD " 0 %d", ctl->prefix,
	    DEAD_SCAN - 1)) == NULL)
		return -1;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements &&
	    !*done; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		d = json_loadb(r->element[i]->str, r->element[i]->len, 0, NULL);
		if (d != NULL && is_our_dead_letter(w, d)) {
			w->dead = d;
			*done = true;
		} else {
			json_decref(d);
		}
	}
	freeReplyObject(r);
	return 0;
}

static int
wait_applied(struct ctl *ctl, struct wait_state *w, enum wait_result *res)
{
	long long until = mono_ms() + CTL_WAIT_MS;
	bool done;

	for (;;) {
		if (poll_record(ctl, w, &done) == -1)
			return -1;
		if (done) {
			*res = WAIT_APPLIED;
			return 0;
		}
		if (poll_dead(ctl, w, &done) == -1)
			return -1;
		if (done) {
			*res = WAIT_DEAD;
			return 0;
		}
		if (mono_ms() > until) {
			*res = WAIT_TIMEOUT;
			return 0;
		}
		sleep_ms(WAIT_POLL_MS);
	}
}

/* The human line for an applied event. */
static void
print_applied(const struct wait_state *w)
{
	const struct ctl_event *ev = w->ev;
	const redisReply *h = w->record;
	const char *v;
	char t[CTL_TIME_MAX];
	long long ms;

	if (ev->type == EVENT_REP_STATUS) {
		printf("applied: rep '%s' is %s\n", ev->rep, ev->arg);
		return;
	}
	v = ev->type == EVENT_FOLLOWED_UP ? "followed_up_at_ms" :
	    ev->type == EVENT_REJECTED ? "rejected_at_ms" : "closed_at_ms";
	if (!ctl_parse_ll(ctl_hash_get(h, v), &ms))
		ms = 0;
	printf("applied: lead '%s' is %s (rep %s) since %s", ev->lead_id,
	    ctl_hash_get(h, "status"), ev->rep, ctl_fmt_time(ms, t, sizeof(t)));
	if (ev->type == EVENT_REJECTED && (v = ctl_hash_get(h, "reject_reason")))
		printf(", reason: %s", v);
	if (ev->type == EVENT_CLOSED && (v = ctl_hash_get(h, "outcome")))
		printf(", outcome: %s", v);
	printf("\n");
}

static int
report_wait(struct ctl *ctl, const struct wait_state *w, enum wait_result res,
    json_t *out)
{
	static const char *const names[] = {"applied", "dead_letter", "timeout"};
	const char *key = w->ev->type == EVENT_REP_STATUS ? "rep_record" :
	    "record";
	int rc = 0;

	if (ctl->json) {
		rc |= json_object_set_new(out, "result", json_string(names[res]));
		if (res == WAIT_APPLIED)
			rc |= json_object_set_new(out, key,
			    ctl_hash_json(w->record));
		if (res == WAIT_DEAD)
			rc |= json_object_set(out, "dead_letter", w->dead);
		if (rc != 0)
			return ctl_seterr(ctl, "cannot encode the result: out of memory");
	} else if (res == WAIT_APPLIED) {
		print_applied(w);
	}
	if (res == WAIT_DEAD)
		ctl_warnx("event refused by the daemon (dead-lettered): %s: %s",
		    ctl_jstr(w->dead, "reason", "?"),
		    ctl_jstr(w->dead, "detail", ""));
	else if (res == WAIT_TIMEOUT)
		ctl_warnx("event not applied within %d s: is leadrouted running?",
		    CTL_WAIT_S);
	return 0;
}

/* Push the payload; with ev->wait, wait and report. CTL_* status. */
static int
send_payload(struct ctl *ctl, const struct ctl_event *ev, const char *payload,
    json_t *out)
{
	struct wait_state w = {.ev = ev, .payload = payload};
	enum wait_result res = WAIT_APPLIED;
	redisReply *r;
	int rc = CTL_ERR;

	if (ctl_connect(ctl) == -1)
		return ctl_fail(ctl);
	if (ev->wait && ctl_redis_now(ctl, &w.t0) == -1)
		return ctl_fail(ctl);
	if ((r = ctl_cmd(ctl, "LPUSH %s" KEY_EVENTS " %s", ctl->prefix, payload)) == NULL)
		return ctl_fail(ctl);
	freeReplyObject(r);
	if (!ctl->json)
		printf("sent to %s" KEY_EVENTS ": %s\n", ctl->prefix, payload);
	fflush(stdout);
	if (ev->wait && (wait_applied(ctl, &w, &res) == -1 ||
	    report_wait(ctl, &w, res, out) == -1)) {
		ctl_fail(ctl);
		goto out;
	}
	if (ctl->json && ctl_print_json(json_incref(out)) == -1) {
		ctl_warnx("cannot encode the result: out of memory");
		goto out;
	}
	rc = res == WAIT_APPLIED ? CTL_OK : CTL_ERR;
out:
	freeReplyObject(w.record);
	json_decref(w.dead);
	return rc;
}

int
ctl_send_event(struct ctl *ctl, const struct ctl_event *ev)
{
	struct event_msg msg;
	struct lead_error err;
	json_t *o, *out;
	char *payload;
	int rc;

	if ((o = event_json(ev)) == NULL) {
		ctl_warnx("bad event: arguments must be valid UTF-8");
		return CTL_USAGE;
	}
	if ((payload = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		ctl_warnx("cannot build the event: out of memory");
		return CTL_ERR;
	}
	out = json_pack("{s:s+, s:o}", "queue", ctl->prefix, "events",
	    "event", o);
	if (out == NULL) {
		ctl_warnx("cannot build the event: out of memory");
		rc = CTL_ERR;
		goto out_free;
	}
	/* What the daemon would refuse as bad_event is a usage error here. */
	if (event_parse(payload, strlen(payload), ctl->cfg->intake.max_bytes,
	    &msg, &err) == -1) {
		ctl_warnx("bad event: %s", err.detail);
		rc = err.reason == DL_NONE ? CTL_ERR : CTL_USAGE;
		goto out_free;
	}
	rc = send_payload(ctl, ev, payload, out);

out_free:
	free(payload);
	json_decref(out);
	return rc;
}
