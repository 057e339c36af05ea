/* ctl_status.c - leadctl status: the router's state at a glance, per segment and overall. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_status.h"
#include "keys.h"

#define S_PER_HOUR 3600

/* A count reply (nil: -1) into *v; 0, or -1 with ctl->err filled in. */
static int
reply_ll(struct ctl *ctl, const char *name, long long *v)
{
	redisReply *r = ctl_get_reply(ctl, name);
	bool ok = ctl_reply_ll(r, v);

	if (r == NULL)
		return -1;
	if (!ok && r->type == REDIS_REPLY_NIL) {
		*v = -1;
		ok = true;
	}
	freeReplyObject(r);
	if (!ok)
		return ctl_seterr(ctl, "redis command '%s' failed: unexpected reply",
		    name);
	return 0;
}

/* Overall figures, in the order they are queried. */
static const char *const totals[] = {"incoming", "events", "dead_letters",
	"nurture", "sla_pending", "sla_warnings_pending", "instances"};
#define NTOTALS (sizeof(totals) / sizeof(totals[0]))

static int
status_append(struct ctl *ctl, long long now)
{
	const struct lr_config *cfg = ctl->cfg;
	redisContext *c = ctl->rc;
	const char *p = ctl->prefix;
	char since[32], nows[32];
	int rc = 0;

	snprintf(since, sizeof(since), "(%lld",
	    now - cfg->capacity.period * 1000);
	snprintf(nows, sizeof(nows), "%lld", now);
	for (size_t i = 0; i < cfg->nreps; i++) {
		const char *id = cfg->reps[i].id;

		rc |= redisAppendCommand(c, "HMGET %s" KEY_REP "%s status last_assigned_ms",
		    p, id);
		rc |= redisAppendCommand(c, "SCARD %s" KEY_REP "%s" KEY_TAIL_OPEN, p, id);
		rc |= redisAppendCommand(c, "ZCOUNT %s" KEY_REP "%s" KEY_TAIL_WINDOW " %s +inf", p, id,
		    since);
	}
	for (size_t i = 0; i < cfg->segments.n; i++) {
		const char *seg = cfg->segments.v[i].name;

		rc |= redisAppendCommand(c, "ZCARD %s" KEY_BACKLOG "%s", p, seg);
		rc |= redisAppendCommand(c,
		    "HMGET %s" KEY_FORECAST " %s|rate %s|room %s|eta %s|episode", p, seg,
		    seg, seg, seg);
	}
	rc |= redisAppendCommand(c, "LLEN %s" KEY_INCOMING, p);
	rc |= redisAppendCommand(c, "LLEN %s" KEY_EVENTS, p);
	rc |= redisAppendCommand(c, "LLEN %s" KEY_DEAD, p);
	rc |= redisAppendCommand(c, "LLEN %s" KEY_NURTURE, p);
	rc |= redisAppendCommand(c, "ZCARD %s" KEY_SLA_DUE, p);
	rc |= redisAppendCommand(c, "ZCARD %s" KEY_SLA_WARN, p);
	rc |= redisAppendCommand(c, "ZCOUNT %s" KEY_INSTANCES " %s +inf", p, nows);
	rc |= redisAppendCommand(c, "ZRANGE %s" KEY_SLA_DUE " 0 0 WITHSCORES", p);
	if (rc != 0)
		return ctl_seterr(ctl, "cannot queue the status queries: %s",
		    c->errstr);
	return 0;
}

/*
 * A rep's shift at now into o: on_shift, and shift_change_ms /
 * shift_change, when its calendar next opens or closes (null without a
 * calendar). Off shift and not away, the status shows off_shift (away
 * wins: it is the rep's own word).
 */
static int
status_shift(const struct lr_config *cfg, const struct rep_cfg *rep,
    long long now, json_t *o)
{
	int64_t until;
	bool on = cfg_rep_on_shift(cfg, rep, now, &until);
	int rc = 0;

	if (!on && strcmp(ctl_jstr(o, "status", ""), "away") != 0)
		rc |= json_object_set_new(o, "status", json_string("off_shift"));
	rc |= json_object_set_new(o, "on_shift", json_boolean(on));
	rc |= json_object_set_new(o, "shift_change_ms",
	    ctl_json_ll_or_null(until));
	rc |= json_object_set_new(o, "shift_change", ctl_json_time(until));
	return rc;
}

/* One rep's row: status, last assignment, open, assignments in the
 * period, shift. */
static json_t *
status_rep(struct ctl *ctl, const struct rep_cfg *rep, long long now)
{
	redisReply *h;
	const char *st = "available";
	long long last = -1, open, period;
	json_t *o;

	if ((h = ctl_get_reply(ctl, "HMGET")) == NULL)
		return NULL;
	if (h->type == REDIS_REPLY_ARRAY && h->elements == 2) {
		if (h->element[0]->type == REDIS_REPLY_STRING)
			st = h->element[0]->str;
		if (!ctl_reply_ll(h->element[1], &last))
			last = -1;
	}
	if (reply_ll(ctl, "SCARD", &open) == -1 ||
	    reply_ll(ctl, "ZCOUNT", &period) == -1) {
		freeReplyObject(h);
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o}",
	    "id", rep->id, "name", rep->name, "status", st,
	    "open", (json_int_t)open, "max_open", (json_int_t)rep->max_open,
	    "period_assignments", (json_int_t)period,
	    "max_per_period", (json_int_t)rep->max_per_period,
	    "last_assigned_ms", ctl_json_ll_or_null(last),
	    "last_assigned", ctl_json_time(last));
	freeReplyObject(h);
	if (o != NULL && status_shift(ctl->cfg, rep, now, o) != 0) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL)
		ctl_seterr(ctl, "cannot build the status: out of memory");
	return o;
}

/* The segment's capacity forecast from its HMGET reply; null before the
 * first forecast. */
static json_t *
status_forecast(struct ctl *ctl)
{
	redisReply *h;
	json_t *o;
	double eta;

	if ((h = ctl_get_reply(ctl, "HMGET")) == NULL)
		return NULL;
	if (h->type != REDIS_REPLY_ARRAY || h->elements != 4 ||
	    h->element[0]->type != REDIS_REPLY_STRING ||
	    h->element[1]->type != REDIS_REPLY_STRING ||
	    h->element[2]->type != REDIS_REPLY_STRING) {
		freeReplyObject(h);
		return json_null();
	}
	eta = strtod(h->element[2]->str, NULL);
	o = json_pack("{s:f, s:I, s:o, s:b}", "mql_per_hour",
	    strtod(h->element[0]->str, NULL) * S_PER_HOUR, "room",
	    (json_int_t)strtoll(h->element[1]->str, NULL, 10),
	    "exhausted_in_s", eta < 0 ? json_null() : json_integer((json_int_t)eta),
	    "episode", h->element[3]->type == REDIS_REPLY_STRING);
	freeReplyObject(h);
	return o;
}

/* The segments array: each with its reps (rows, indexed like cfg->reps). */
static json_t *
status_segments(struct ctl *ctl, json_t *const *rows)
{
	const struct lr_config *cfg = ctl->cfg;
	json_t *segs = json_array(), *reps, *s, *fc;
	long long backlog;
	int rc = 0;

	if (segs == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->segments.n; i++) {
		if (reply_ll(ctl, "ZCARD", &backlog) == -1 ||
		    (fc = status_forecast(ctl)) == NULL) {
			json_decref(segs);
			return NULL;
		}
		reps = json_array();
		for (size_t r = 0; r < cfg->nreps; r++)
			if (ctl_rep_serves(&cfg->reps[r], i))
				rc |= json_array_append(reps, rows[r]);
		s = json_pack("{s:s, s:I, s:o, s:o}", "name",
		    cfg->segments.v[i].name, "backlog", (json_int_t)backlog,
		    "forecast", fc, "reps", reps);
		rc |= json_array_append_new(segs, s);
	}
	if (rc != 0) {
		json_decref(segs);
		ctl_seterr(ctl, "cannot build the status: out of memory");
		return NULL;
	}
	return segs;
}

/* The overall figures and the next SLA due time into o. */
static int
status_totals(struct ctl *ctl, json_t *o, long long now)
{
	redisReply *r;
	long long v, next = -1;
	int rc = 0;

	for (size_t i = 0; i < NTOTALS; i++) {
		if (reply_ll(ctl, "LLEN/ZCARD", &v) == -1)
			return -1;
		rc |= json_object_set_new(o, totals[i], json_integer(v));
	}
	if ((r = ctl_get_reply(ctl, "ZRANGE")) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING)
		next = strtoll(r->element[1]->str, NULL, 10);
	freeReplyObject(r);
	rc |= json_object_set_new(o, "sla_next_due_ms", ctl_json_ll_or_null(next));
	rc |= json_object_set_new(o, "sla_next_due", ctl_json_time(next));
	rc |= json_object_set_new(o, "sla_next_due_in_ms",
	    next < 0 ? json_null() : json_integer(next - now));
	if (rc != 0)
		return ctl_seterr(ctl, "cannot build the status: out of memory");
	return 0;
}

static json_t *
status_collect(struct ctl *ctl, long long now)
{
	const struct lr_config *cfg = ctl->cfg;
	json_t **rows, *o = NULL, *segs = NULL;
	size_t n = 0;

	if ((rows = calloc(cfg->nreps + 1, sizeof(*rows))) == NULL) {
		ctl_seterr(ctl, "cannot build the status: out of memory");
		return NULL;
	}
	if (status_append(ctl, now) == -1)
		goto out;
	for (n = 0; n < cfg->nreps; n++)
		if ((rows[n] = status_rep(ctl, &cfg->reps[n], now)) == NULL)
			goto out;
	if ((segs = status_segments(ctl, rows)) == NULL)
		goto out;
	o = json_pack("{s:I, s:o, s:I, s:o}", "now_ms", (json_int_t)now,
	    "now", ctl_json_time(now), "capacity_period_s",
	    (json_int_t)cfg->capacity.period, "segments", segs);
	if (o == NULL) {
		ctl_seterr(ctl, "cannot build the status: out of memory");
		goto out;
	}
	if (status_totals(ctl, o, now) == -1) {
		json_decref(o);
		o = NULL;
	}
out:
	for (size_t i = 0; i < n; i++)
		json_decref(rows[i]);
	free(rows);
	return o;
}

static void
print_limit(char *buf, size_t len, long long v, long long max)
{
	if (max > 0)
		snprintf(buf, len, "%lld/%lld", v, max);
	else
		snprintf(buf, len, "%lld/-", v);
}

static void
print_segment(const json_t *seg)
{
	const json_t *reps = json_object_get(seg, "reps"), *r;
	char open[48], period[48];
	size_t i;

	const json_t *fc = json_object_get(seg, "forecast");
	char full[32];

	printf("segment %s: backlog %lld", ctl_jstr(seg, "name", "?"),
	    ctl_jint(seg, "backlog", 0));
	if (json_is_object(fc)) {
		if (json_is_null(json_object_get(fc, "exhausted_in_s")))
			snprintf(full, sizeof(full), "never full");
		else if (ctl_jint(fc, "exhausted_in_s", 0) == 0)
			snprintf(full, sizeof(full), "full now");
		else
			snprintf(full, sizeof(full), "full in %llds",
			    ctl_jint(fc, "exhausted_in_s", 0));
		printf("; room %lld, %.1f MQLs/h, %s%s", ctl_jint(fc, "room", 0),
		    json_number_value(json_object_get(fc, "mql_per_hour")), full,
		    json_is_true(json_object_get(fc, "episode")) ?
		    " (capacity_forecast)" : "");
	}
	printf("\n");
	if (json_array_size(reps) == 0) {
		printf("  (no reps)\n");
		return;
	}
	printf("  %-20s %-10s %-12s %-12s %s\n", "REP", "STATUS", "OPEN",
	    "PERIOD", "LAST ASSIGNED");
	json_array_foreach(reps, i, r) {
		print_limit(open, sizeof(open), ctl_jint(r, "open", 0),
		    ctl_jint(r, "max_open", 0));
		print_limit(period, sizeof(period),
		    ctl_jint(r, "period_assignments", 0),
		    ctl_jint(r, "max_per_period", 0));
		printf("  %-20s %-10s %-12s %-12s %s", ctl_jstr(r, "id", "?"),
		    ctl_jstr(r, "status", "?"), open, period,
		    ctl_jstr(r, "last_assigned", "never"));
		if (json_is_string(json_object_get(r, "shift_change")))
			printf("  (shift %s %s)",
			    json_is_true(json_object_get(r, "on_shift")) ?
			    "ends" : "starts",
			    ctl_jstr(r, "shift_change", "?"));
		printf("\n");
	}
}

static void
print_status(json_t *o, const char *arg)
{
	const json_t *segs = json_object_get(o, "segments"), *s;
	char rel[CTL_TIME_MAX];
	size_t i;

	(void)arg;
	printf("now %s; capacity period %llds; open and period show used/limit (- = unlimited)\n\n",
	    ctl_jstr(o, "now", "?"), ctl_jint(o, "capacity_period_s", 0));
	json_array_foreach(segs, i, s)
		print_segment(s);
	printf("\n%-14s %lld\n", "incoming", ctl_jint(o, "incoming", 0));
	printf("%-14s %lld\n", "events", ctl_jint(o, "events", 0));
	printf("%-14s %lld\n", "dead letters", ctl_jint(o, "dead_letters", 0));
	printf("%-14s %lld\n", "nurture", ctl_jint(o, "nurture", 0));
	printf("%-14s %lld pending", "sla timers", ctl_jint(o, "sla_pending", 0));
	if (json_is_integer(json_object_get(o, "sla_next_due_ms")))
		printf(", next due %s (%s)", ctl_jstr(o, "sla_next_due", "?"),
		    ctl_fmt_rel(ctl_jint(o, "sla_next_due_in_ms", 0), rel,
		    sizeof(rel)));
	printf("\n%-14s %lld live\n", "instances", ctl_jint(o, "instances", 0));
}

int
ctl_status(struct ctl *ctl)
{
	long long now;
	json_t *o;

	if (ctl_connect(ctl) == -1 || ctl_redis_now(ctl, &now) == -1 ||
	    (o = status_collect(ctl, now)) == NULL)
		return ctl_fail(ctl);
	return ctl_output(ctl, o, "status", print_status, NULL);
}
