/* ctl_show.c - leadctl status, lead and alerts: read the router's state from Redis and show it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_show.h"

/* ---- shared ------------------------------------------------------------ */

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

/* The time as an ISO string, or JSON null when absent (ms < 0). */
static json_t *
json_time(long long ms)
{
	char buf[40];

	return ms < 0 ? json_null() : json_string(ctl_fmt_time(ms, buf,
	    sizeof(buf)));
}

static json_t *
json_ll_or_null(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static long long
jint(const json_t *o, const char *key, long long dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const char *
jstr(const json_t *o, const char *key, const char *dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

/*
 * The alert of one stream entry ([id, [field, value...]]): the parsed
 * "alert" field with "stream_id" added, or NULL when it holds none.
 */
static json_t *
entry_alert(const redisReply *e)
{
	const redisReply *f;
	json_t *a = NULL;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[1]->type != REDIS_REPLY_ARRAY)
		return NULL;
	f = e->element[1];
	for (size_t i = 0; a == NULL && i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(f->element[i]->str, "alert") == 0 &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			a = json_loadb(f->element[i + 1]->str,
			    f->element[i + 1]->len, 0, NULL);
	if (a != NULL && (!json_is_object(a) || json_object_set_new(a,
	    "stream_id", json_string(e->element[0]->str)) == -1)) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

/* time, type, lead, rep, segment, due: one line. */
static void
print_alert_line(const json_t *a)
{
	char t[40], due[40];

	if (strcmp(jstr(a, "type", "?"), "capacity_forecast") == 0) {
		long long eta = jint(a, "exhausted_in_s", 0);

		if (eta > 0)
			ctl_fmt_rel(eta * 1000, due, sizeof(due));
		printf("%s  %-14s  segment %s  room %lld  backlog %lld  %.1f MQLs/h  full %s\n",
		    ctl_fmt_time(jint(a, "at_ms", 0), t, sizeof(t)),
		    "capacity_forecast", jstr(a, "segment", "?"),
		    jint(a, "room", 0), jint(a, "backlog", 0),
		    json_number_value(json_object_get(a, "mql_per_hour")),
		    eta > 0 ? due : "now");
		return;
	}
	printf("%s  %-14s  lead %s  rep %s  segment %s  due %s\n",
	    ctl_fmt_time(jint(a, "at_ms", 0), t, sizeof(t)),
	    jstr(a, "type", "?"), jstr(a, "lead_id", "?"), jstr(a, "rep", "?"),
	    jstr(a, "segment", "?"),
	    ctl_fmt_time(jint(a, "follow_up_due_ms", 0), due, sizeof(due)));
}

/* ---- status ------------------------------------------------------------ */

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

		rc |= redisAppendCommand(c, "HMGET %srep:%s status last_assigned_ms",
		    p, id);
		rc |= redisAppendCommand(c, "SCARD %srep:%s:open", p, id);
		rc |= redisAppendCommand(c, "ZCOUNT %srep:%s:window %s +inf", p, id,
		    since);
	}
	for (size_t i = 0; i < cfg->segments.n; i++) {
		const char *seg = cfg->segments.v[i].name;

		rc |= redisAppendCommand(c, "ZCARD %sbacklog:%s", p, seg);
		rc |= redisAppendCommand(c,
		    "HMGET %sforecast %s|rate %s|room %s|eta %s|episode", p, seg,
		    seg, seg, seg);
	}
	rc |= redisAppendCommand(c, "LLEN %sincoming", p);
	rc |= redisAppendCommand(c, "LLEN %sevents", p);
	rc |= redisAppendCommand(c, "LLEN %sdead", p);
	rc |= redisAppendCommand(c, "LLEN %snurture", p);
	rc |= redisAppendCommand(c, "ZCARD %ssla:due", p);
	rc |= redisAppendCommand(c, "ZCARD %ssla:warn", p);
	rc |= redisAppendCommand(c, "ZCOUNT %sinstances %s +inf", p, nows);
	rc |= redisAppendCommand(c, "ZRANGE %ssla:due 0 0 WITHSCORES", p);
	if (rc != 0)
		return ctl_seterr(ctl, "cannot queue the status queries: %s",
		    c->errstr);
	return 0;
}

/* One rep's row: status, last assignment, open, assignments in the period. */
static json_t *
status_rep(struct ctl *ctl, const struct rep_cfg *rep)
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
	    "last_assigned_ms", json_ll_or_null(last),
	    "last_assigned", json_time(last));
	freeReplyObject(h);
	if (o == NULL)
		ctl_seterr(ctl, "cannot build the status: out of memory");
	return o;
}

static bool
rep_serves(const struct rep_cfg *rep, size_t seg)
{
	for (size_t k = 0; k < rep->nsegs; k++)
		if (rep->segs[k] == seg)
			return true;
	return false;
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
	    strtod(h->element[0]->str, NULL) * 3600, "room",
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
			if (rep_serves(&cfg->reps[r], i))
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
	rc |= json_object_set_new(o, "sla_next_due_ms", json_ll_or_null(next));
	rc |= json_object_set_new(o, "sla_next_due", json_time(next));
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
		if ((rows[n] = status_rep(ctl, &cfg->reps[n])) == NULL)
			goto out;
	if ((segs = status_segments(ctl, rows)) == NULL)
		goto out;
	o = json_pack("{s:I, s:o, s:I, s:o}", "now_ms", (json_int_t)now,
	    "now", json_time(now), "capacity_period_s",
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

	printf("segment %s: backlog %lld", jstr(seg, "name", "?"),
	    jint(seg, "backlog", 0));
	if (json_is_object(fc)) {
		if (json_is_null(json_object_get(fc, "exhausted_in_s")))
			snprintf(full, sizeof(full), "never full");
		else if (jint(fc, "exhausted_in_s", 0) == 0)
			snprintf(full, sizeof(full), "full now");
		else
			snprintf(full, sizeof(full), "full in %llds",
			    jint(fc, "exhausted_in_s", 0));
		printf("; room %lld, %.1f MQLs/h, %s%s", jint(fc, "room", 0),
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
		print_limit(open, sizeof(open), jint(r, "open", 0),
		    jint(r, "max_open", 0));
		print_limit(period, sizeof(period),
		    jint(r, "period_assignments", 0),
		    jint(r, "max_per_period", 0));
		printf("  %-20s %-10s %-12s %-12s %s\n", jstr(r, "id", "?"),
		    jstr(r, "status", "?"), open, period,
		    jstr(r, "last_assigned", "never"));
	}
}

static void
print_status(const json_t *o)
{
	const json_t *segs = json_object_get(o, "segments"), *s;
	char rel[40];
	size_t i;

	printf("now %s; capacity period %llds; open and period show used/limit (- = unlimited)\n\n",
	    jstr(o, "now", "?"), jint(o, "capacity_period_s", 0));
	json_array_foreach(segs, i, s)
		print_segment(s);
	printf("\n%-14s %lld\n", "incoming", jint(o, "incoming", 0));
	printf("%-14s %lld\n", "events", jint(o, "events", 0));
	printf("%-14s %lld\n", "dead letters", jint(o, "dead_letters", 0));
	printf("%-14s %lld\n", "nurture", jint(o, "nurture", 0));
	printf("%-14s %lld pending", "sla timers", jint(o, "sla_pending", 0));
	if (json_is_integer(json_object_get(o, "sla_next_due_ms")))
		printf(", next due %s (%s)", jstr(o, "sla_next_due", "?"),
		    ctl_fmt_rel(jint(o, "sla_next_due_in_ms", 0), rel,
		    sizeof(rel)));
	printf("\n%-14s %lld live\n", "instances", jint(o, "instances", 0));
}

int
ctl_status(struct ctl *ctl)
{
	long long now;
	json_t *o;

	if (ctl_connect(ctl) == -1 || ctl_redis_now(ctl, &now) == -1 ||
	    (o = status_collect(ctl, now)) == NULL)
		return ctl_fail(ctl);
	if (ctl->json) {
		if (ctl_print_json(o) == -1) {
			ctl_warnx("cannot encode the status: out of memory");
			return CTL_ERR;
		}
		return CTL_OK;
	}
	print_status(o);
	json_decref(o);
	return CTL_OK;
}

/* ---- lead -------------------------------------------------------------- */

/* A history entry waiting to be sorted: its time (-1: unknown) and order. */
struct hentry {
	long long at;
	size_t seq;
	json_t *o;
};

struct history {
	struct hentry *v;
	size_t n, cap;
	bool oom;
};

/* Add an entry {at_ms, time, event, ...}; o is stolen. */
static void
hist_add(struct history *h, long long at, const char *event, json_t *o)
{
	struct hentry *v;

	if (o == NULL || json_object_set_new(o, "event", json_string(event)) ||
	    json_object_set_new(o, "at_ms", json_ll_or_null(at)) ||
	    json_object_set_new(o, "time", json_time(at))) {
		json_decref(o);
		h->oom = true;
		return;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;

		if ((v = realloc(h->v, cap * sizeof(*v))) == NULL) {
			json_decref(o);
			h->oom = true;
			return;
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n].at = at;
	h->v[h->n].seq = h->n;
	h->v[h->n].o = o;
	h->n++;
}

static int
hentry_cmp(const void *a, const void *b)
{
	const struct hentry *x = a, *y = b;

	if ((x->at < 0) != (y->at < 0))
		return x->at < 0 ? 1 : -1;	/* unknown times last */
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static long long
rec_ll(const redisReply *rec, const char *field)
{
	long long v;

	return ctl_parse_ll(ctl_hash_get(rec, field), &v) ? v : -1;
}

static const char *
rec_str(const redisReply *rec, const char *field)
{
	const char *v = ctl_hash_get(rec, field);

	return v != NULL ? v : "";
}

/* Has this assignment (time, rep) been recorded already? */
static bool
hist_has_assignment(const struct history *h, long long at, const char *rep)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].at == at && strcmp(jstr(h->v[i].o, "event", ""),
		    "assigned") == 0 && strcmp(jstr(h->v[i].o, "rep", ""),
		    rep) == 0)
			return true;
	return false;
}

static void
hist_assignment(struct history *h, long long at, const char *rep, long long due)
{
	if (at < 0 || hist_has_assignment(h, at, rep))
		return;
	hist_add(h, at, "assigned", json_pack("{s:s, s:o, s:o}", "rep", rep,
	    "follow_up_due_ms", json_ll_or_null(due), "follow_up_due",
	    json_time(due)));
}

/* The entries the record's own timestamps give. */
static void
hist_from_record(struct history *h, const redisReply *rec)
{
	const char *rep = rec_str(rec, "rep");
	long long at = rec_ll(rec, "received_at_ms");

	hist_add(h, at, "received", json_pack("{s:I, s:s}", "score",
	    (json_int_t)rec_ll(rec, "score"), "segment", rec_str(rec, "segment")));
	if (strcmp(rec_str(rec, "status"), "nurture") == 0)
		hist_add(h, at, "nurture", json_pack("{s:s}", "reason",
		    rec_str(rec, "nurture_reason")));
	if (strcmp(rec_str(rec, "status"), "backlog") == 0)
		hist_add(h, at, "backlog", json_pack("{s:s}", "segment",
		    rec_str(rec, "segment")));
	hist_assignment(h, rec_ll(rec, "assigned_at_ms"), rep,
	    rec_ll(rec, "follow_up_due_ms"));
	if ((at = rec_ll(rec, "followed_up_at_ms")) >= 0)
		hist_add(h, at, "followed_up", json_pack("{s:s}", "rep", rep));
	if ((at = rec_ll(rec, "rejected_at_ms")) >= 0)
		hist_add(h, at, "rejected", json_pack("{s:s, s:s}", "rep", rep,
		    "reason", rec_str(rec, "reject_reason")));
	if ((at = rec_ll(rec, "closed_at_ms")) >= 0)
		hist_add(h, at, "closed", json_pack("{s:s, s:s}", "rep", rep,
		    "outcome", rec_str(rec, "outcome")));
}

/* Alerts and the assignments they name; alerts is oldest first. */
static void
hist_from_alerts(struct history *h, const json_t *alerts)
{
	const json_t *a;
	json_t *o;
	size_t i;

	json_array_foreach(alerts, i, a) {
		hist_assignment(h, jint(a, "assigned_at_ms", -1),
		    jstr(a, "rep", ""), jint(a, "follow_up_due_ms", -1));
		o = json_deep_copy(a);
		json_object_del(o, "type");
		json_object_del(o, "lead_id");
		json_object_del(o, "at_ms");
		hist_add(h, jint(a, "at_ms", -1), jstr(a, "type", "alert"), o);
	}
}

/* Breaches the record names whose alert is no longer in the log. */
static void
hist_breached_by(struct history *h, const redisReply *rec)
{
	const char *by = ctl_hash_get(rec, "breached_by");
	char rep[CFG_REP_ID_MAX + 1];
	size_t len, k;
	bool seen;

	while (by != NULL && *by != '\0') {
		len = strcspn(by, ",");
		snprintf(rep, sizeof(rep), "%.*s", (int)len, by);
		seen = false;
		for (k = 0; k < h->n && !seen; k++)
			seen = strcmp(jstr(h->v[k].o, "event", ""),
			    "sla_breach") == 0 &&
			    strcmp(jstr(h->v[k].o, "rep", ""), rep) == 0;
		if (!seen)
			hist_add(h, -1, "sla_breach", json_pack("{s:s, s:s}",
			    "rep", rep, "note", "from breached_by; the alert is no longer in the log"));
		by += len + (by[len] == ',');
	}
}

/* The lead's alerts among the newest CTL_LEAD_ALERT_SCAN, oldest first. */
static json_t *
lead_alerts(struct ctl *ctl, const char *id)
{
	redisReply *r;
	json_t *list, *a;

	if ((r = ctl_cmd(ctl, "XREVRANGE %salerts:log + - COUNT %d",
	    ctl->prefix, CTL_LEAD_ALERT_SCAN)) == NULL)
		return NULL;
	if ((list = json_array()) == NULL) {
		freeReplyObject(r);
		ctl_seterr(ctl, "cannot read the alerts: out of memory");
		return NULL;
	}
	for (size_t i = r->elements; r->type == REDIS_REPLY_ARRAY && i > 0; i--) {
		a = entry_alert(r->element[i - 1]);
		if (a != NULL && strcmp(jstr(a, "lead_id", ""), id) == 0)
			json_array_append(list, a);
		json_decref(a);
	}
	freeReplyObject(r);
	return list;
}

static json_t *
lead_history(struct ctl *ctl, const redisReply *rec, const json_t *alerts)
{
	struct history h = {0};
	json_t *a = json_array();

	hist_from_record(&h, rec);
	hist_from_alerts(&h, alerts);
	hist_breached_by(&h, rec);
	if (h.n > 0)
		qsort(h.v, h.n, sizeof(*h.v), hentry_cmp);
	for (size_t i = 0; i < h.n; i++)
		if (a == NULL || json_array_append_new(a, h.v[i].o) == -1)
			h.oom = true;
	free(h.v);
	if (h.oom) {
		json_decref(a);
		ctl_seterr(ctl, "cannot build the history: out of memory");
		return NULL;
	}
	return a;
}

/* Record fields in the order a reader wants them; the rest follow. */
static const char *const rec_order[] = {"id", "status", "score", "mql",
	"segment", "source", "rep", "received_at_ms", "assigned_at_ms",
	"follow_up_due_ms", "followed_up_at_ms", "sla_breached", "breached_by",
	"reassign_count", "escalated", "rejected_at_ms", "reject_reason",
	"closed_at_ms", "outcome", "nurture_reason", "config_version"};
#define NREC_ORDER (sizeof(rec_order) / sizeof(rec_order[0]))

static void
print_field(const char *k, const char *v)
{
	size_t len = strlen(k);
	long long ms;
	char t[40];

	if (len > 3 && strcmp(k + len - 3, "_ms") == 0 && ctl_parse_ll(v, &ms))
		printf("  %-20s %s (%s)\n", k, v, ctl_fmt_time(ms, t, sizeof(t)));
	else
		printf("  %-20s %s\n", k, v);
}

static bool
is_ordered(const char *k)
{
	for (size_t i = 0; i < NREC_ORDER; i++)
		if (strcmp(k, rec_order[i]) == 0)
			return true;
	return strcmp(k, "lead") == 0 || strcmp(k, "score_receipt") == 0;
}

static void
print_record(const char *id, json_t *rec)
{
	const char *k;
	json_t *v;

	printf("lead %s\n", id);
	for (size_t i = 0; i < NREC_ORDER; i++)
		if ((v = json_object_get(rec, rec_order[i])) != NULL)
			print_field(rec_order[i], json_is_string(v) ?
			    json_string_value(v) : "?");
	json_object_foreach(rec, k, v)
		if (!is_ordered(k))
			print_field(k, json_is_string(v) ? json_string_value(v) : "?");
	if ((v = json_object_get(rec, "lead")) != NULL)
		print_field("lead", json_is_string(v) ? json_string_value(v) : "?");
}

static void
print_receipt(const json_t *rc)
{
	const json_t *rules = json_object_get(rc, "rules"), *r;
	size_t i;

	if (!json_is_object(rc)) {
		printf("\nscore receipt: none\n");
		return;
	}
	printf("\nscore receipt: %lld (mql_threshold %lld, config %s)\n",
	    jint(rc, "score", 0), jint(rc, "mql_threshold", 0),
	    jstr(rc, "config_version", "?"));
	if (json_array_size(rules) == 0)
		printf("  no rule matched\n");
	json_array_foreach(rules, i, r)
		printf("  %+6lld  %-28s %s\n", jint(r, "points", 0),
		    jstr(r, "field", "?"), jstr(r, "op", "?"));
}

static void
print_entry(const json_t *e)
{
	const char *ev = jstr(e, "event", "?");
	char t[40];

	if (json_is_string(json_object_get(e, "time")))
		printf("  %-24s  ", jstr(e, "time", ""));
	else
		printf("  %-24s  ", "(time unknown)");
	if (strcmp(ev, "received") == 0)
		printf("received: score %lld, segment %s\n", jint(e, "score", 0),
		    jstr(e, "segment", "?"));
	else if (strcmp(ev, "nurture") == 0)
		printf("to nurture: %s\n", jstr(e, "reason", "?"));
	else if (strcmp(ev, "backlog") == 0)
		printf("waiting in the backlog of segment %s\n",
		    jstr(e, "segment", "?"));
	else if (strcmp(ev, "assigned") == 0)
		printf("assigned to %s (follow-up due %s)\n", jstr(e, "rep", "?"),
		    jstr(e, "follow_up_due", "?"));
	else if (strcmp(ev, "followed_up") == 0)
		printf("followed up by %s\n", jstr(e, "rep", "?"));
	else if (strcmp(ev, "rejected") == 0)
		printf("rejected by %s: %s\n", jstr(e, "rep", "?"),
		    jstr(e, "reason", ""));
	else if (strcmp(ev, "closed") == 0)
		printf("closed by %s: %s\n", jstr(e, "rep", "?"),
		    jstr(e, "outcome", "?"));
	else if (json_is_integer(json_object_get(e, "follow_up_due_ms")))
		printf("%s: rep %s, due %s\n", ev, jstr(e, "rep", "?"),
		    ctl_fmt_time(jint(e, "follow_up_due_ms", 0), t, sizeof(t)));
	else
		printf("%s: rep %s (%s)\n", ev, jstr(e, "rep", "?"),
		    jstr(e, "note", ""));
}

static void
print_lead(const char *id, json_t *o)
{
	const json_t *e;
	size_t i;

	print_record(id, json_object_get(o, "record"));
	print_receipt(json_object_get(o, "receipt"));
	printf("\nhistory\n");
	json_array_foreach(json_object_get(o, "history"), i, e)
		print_entry(e);
}

static json_t *
lead_collect(struct ctl *ctl, const char *id, const redisReply *rec)
{
	const char *s = ctl_hash_get(rec, "score_receipt");
	json_t *alerts, *hist, *receipt = NULL, *o;

	if ((alerts = lead_alerts(ctl, id)) == NULL)
		return NULL;
	hist = lead_history(ctl, rec, alerts);
	json_decref(alerts);
	if (hist == NULL)
		return NULL;
	if (s != NULL)
		receipt = json_loads(s, 0, NULL);
	o = json_pack("{s:o, s:o, s:o}", "record", ctl_hash_json(rec),
	    "receipt", receipt != NULL ? receipt : json_null(), "history", hist);
	if (o == NULL)
		ctl_seterr(ctl, "cannot build the lead: out of memory");
	return o;
}

int
ctl_lead(struct ctl *ctl, const char *id)
{
	redisReply *rec;
	json_t *o;

	if (ctl_connect(ctl) == -1)
		return ctl_fail(ctl);
	if ((rec = ctl_cmd(ctl, "HGETALL %slead:%s", ctl->prefix, id)) == NULL)
		return ctl_fail(ctl);
	if (rec->type != REDIS_REPLY_ARRAY || rec->elements == 0) {
		freeReplyObject(rec);
		ctl_warnx("no lead '%s'", id);
		return CTL_ERR;
	}
	o = lead_collect(ctl, id, rec);
	freeReplyObject(rec);
	if (o == NULL)
		return ctl_fail(ctl);
	if (ctl->json) {
		if (ctl_print_json(o) == -1) {
			ctl_warnx("cannot encode the lead: out of memory");
			return CTL_ERR;
		}
		return CTL_OK;
	}
	print_lead(id, o);
	json_decref(o);
	return CTL_OK;
}

/* ---- alerts ------------------------------------------------------------ */

static volatile sig_atomic_t alerts_stop;

static void
alerts_stop_cb(int sig)
{
	(void)sig;
	alerts_stop = 1;
}

/* Show one stream entry; remember its id in last (size CTL_ID_MAX). */
#define CTL_ID_MAX 64

static void
show_entry(const struct ctl *ctl, const redisReply *e, char *last)
{
	json_t *a;

	if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
	    e->element[0]->type == REDIS_REPLY_STRING)
		snprintf(last, CTL_ID_MAX, "%s", e->element[0]->str);
	if ((a = entry_alert(e)) == NULL) {
		ctl_warnx("stream entry '%s' holds no valid alert", last);
		return;
	}
	if (ctl->json) {
		if (ctl_print_json(a) == -1)
			ctl_warnx("cannot encode alert '%s'", last);
		return;
	}
	print_alert_line(a);
	fflush(stdout);
	json_decref(a);
}

/* The last count alerts, oldest first; last gets the newest id or "0-0". */
static int
alerts_last(struct ctl *ctl, long long count, char *last)
{
	redisReply *r;
	size_t n;

	snprintf(last, CTL_ID_MAX, "0-0");
	if ((r = ctl_cmd(ctl, "XREVRANGE %salerts:log + - COUNT %lld",
	    ctl->prefix, count > 0 ? count : 1)) == NULL)
		return -1;
	n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
	if (n > 0 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		snprintf(last, CTL_ID_MAX, "%s", r->element[0]->element[0]->str);
	if ((long long)n > count)
		n = (size_t)count;
	for (size_t i = n; i > 0; i--) {
		char id[CTL_ID_MAX] = "?";

		show_entry(ctl, r->element[i - 1], id);
	}
	freeReplyObject(r);
	return 0;
}

static int
alerts_follow(struct ctl *ctl, char *last)
{
	struct sigaction sa;
	redisReply *r;
	const redisReply *entries;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alerts_stop_cb;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!alerts_stop) {
		r = ctl_cmd(ctl, "XREAD COUNT 100 BLOCK %d STREAMS %salerts:log %s",
		    CTL_FOLLOW_BLOCK_MS, ctl->prefix, last);
		if (r == NULL)
			return -1;
		/* [[key, [entry...]]], or nil when the block timed out */
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    r->element[0]->type == REDIS_REPLY_ARRAY &&
		    r->element[0]->elements == 2) {
			entries = r->element[0]->element[1];
			for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY &&
			    i < entries->elements; i++)
				show_entry(ctl, entries->element[i], last);
		}
		freeReplyObject(r);
	}
	return 0;
}

int
ctl_alerts(struct ctl *ctl, long long count, bool follow)
{
	char last[CTL_ID_MAX];

	if (ctl_connect(ctl) == -1 || alerts_last(ctl, count, last) == -1)
		return ctl_fail(ctl);
	fflush(stdout);
	if (follow && alerts_follow(ctl, last) == -1)
		return ctl_fail(ctl);
	return CTL_OK;
}
