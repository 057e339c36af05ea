/* ctl_lead.c - leadctl lead: one lead's record, score receipt and history, from Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_lead.h"
#include "keys.h"

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
	    json_object_set_new(o, "at_ms", ctl_json_ll_or_null(at)) ||
	    json_object_set_new(o, "time", ctl_json_time(at))) {
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

/* A record's integer field, or -1 when absent. */
static long long
rec_ll(const redisReply *rec, const char *field)
{
	return ctl_hash_ll(rec, field, -1);
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
		if (h->v[i].at == at && strcmp(ctl_jstr(h->v[i].o, "event", ""),
		    "assigned") == 0 && strcmp(ctl_jstr(h->v[i].o, "rep", ""),
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
	    "follow_up_due_ms", ctl_json_ll_or_null(due), "follow_up_due",
	    ctl_json_time(due)));
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
		hist_assignment(h, ctl_jint(a, "assigned_at_ms", -1),
		    ctl_jstr(a, "rep", ""), ctl_jint(a, "follow_up_due_ms", -1));
		o = json_deep_copy(a);
		json_object_del(o, "type");
		json_object_del(o, "lead_id");
		json_object_del(o, "at_ms");
		hist_add(h, ctl_jint(a, "at_ms", -1), ctl_jstr(a, "type", "alert"), o);
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
			seen = strcmp(ctl_jstr(h->v[k].o, "event", ""),
			    "sla_breach") == 0 &&
			    strcmp(ctl_jstr(h->v[k].o, "rep", ""), rep) == 0;
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

	if ((r = ctl_cmd(ctl, "XREVRANGE %s" KEY_ALERTS_LOG " + - COUNT %d",
	    ctl->prefix, CTL_LEAD_ALERT_SCAN)) == NULL)
		return NULL;
	if ((list = json_array()) == NULL) {
		freeReplyObject(r);
		ctl_seterr(ctl, "cannot read the alerts: out of memory");
		return NULL;
	}
	for (size_t i = r->elements; r->type == REDIS_REPLY_ARRAY && i > 0; i--) {
		a = ctl_entry_alert(r->element[i - 1]);
		if (a != NULL && strcmp(ctl_jstr(a, "lead_id", ""), id) == 0)
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
	char t[CTL_TIME_MAX];

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
	    ctl_jint(rc, "score", 0), ctl_jint(rc, "mql_threshold", 0),
	    ctl_jstr(rc, "config_version", "?"));
	if (json_array_size(rules) == 0)
		printf("  no rule matched\n");
	json_array_foreach(rules, i, r)
		printf("  %+6lld  %-28s %s\n", ctl_jint(r, "points", 0),
		    ctl_jstr(r, "field", "?"), ctl_jstr(r, "op", "?"));
}

static void
print_entry(const json_t *e)
{
	const char *ev = ctl_jstr(e, "event", "?");
	char t[CTL_TIME_MAX];

	if (json_is_string(json_object_get(e, "time")))
		printf("  %-24s  ", ctl_jstr(e, "time", ""));
	else
		printf("  %-24s  ", "(time unknown)");
	if (strcmp(ev, "received") == 0)
		printf("received: score %lld, segment %s\n", ctl_jint(e, "score", 0),
		    ctl_jstr(e, "segment", "?"));
	else if (strcmp(ev, "nurture") == 0)
		printf("to nurture: %s\n", ctl_jstr(e, "reason", "?"));
	else if (strcmp(ev, "backlog") == 0)
		printf("waiting in the backlog of segment %s\n",
		    ctl_jstr(e, "segment", "?"));
	else if (strcmp(ev, "assigned") == 0)
		printf("assigned to %s (follow-up due %s)\n", ctl_jstr(e, "rep", "?"),
		    ctl_jstr(e, "follow_up_due", "?"));
	else if (strcmp(ev, "followed_up") == 0)
		printf("followed up by %s\n", ctl_jstr(e, "rep", "?"));
	else if (strcmp(ev, "rejected") == 0)
		printf("rejected by %s: %s\n", ctl_jstr(e, "rep", "?"),
		    ctl_jstr(e, "reason", ""));
	else if (strcmp(ev, "closed") == 0)
		printf("closed by %s: %s\n", ctl_jstr(e, "rep", "?"),
		    ctl_jstr(e, "outcome", "?"));
	else if (json_is_integer(json_object_get(e, "follow_up_due_ms")))
		printf("%s: rep %s, due %s\n", ev, ctl_jstr(e, "rep", "?"),
		    ctl_fmt_time(ctl_jint(e, "follow_up_due_ms", 0), t, sizeof(t)));
	else
		printf("%s: rep %s (%s)\n", ev, ctl_jstr(e, "rep", "?"),
		    ctl_jstr(e, "note", ""));
}

static void
print_lead(json_t *o, const char *id)
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
	if ((rec = ctl_cmd(ctl, "HGETALL %s" KEY_LEAD "%s", ctl->prefix, id)) == NULL)
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
	return ctl_output(ctl, o, "lead", print_lead, id);
}
