/* decide.c - turn a claimed payload into a decision the commit script applies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <jansson.h>

#include "decide.h"
#include "whmsg.h"

static int
dead(struct lead_decision *out, enum dl_reason reason, const char *detail,
    const char *raw, size_t len, long long now_ms)
{
	out->kind = DECISION_DEAD;
	out->reason = reason;
	out->dead_json = dl_json(reason, detail, now_ms, "incoming", raw, len);
	if (out->dead_json == NULL) {
		memset(out, 0, sizeof(*out));	/* as decide.h promises */
		return -1;
	}
	return 0;
}

/*
 * A growing text buffer: what the receipt is written into, directly,
 * instead of through jansson's objects (half the daemon's CPU per lead
 * went to building and dumping them). After an allocation failure it
 * keeps failing and jb_finish returns NULL.
 */
struct jbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

static bool
jb_room(struct jbuf *b, size_t n)
{
	size_t ncap;
	char *ns;

	if (b->failed)
		return false;
	if (b->cap - b->len > n)
		return true;	/* one byte more stays for the NUL */
	ncap = b->cap ? b->cap : 256;
	while (ncap - b->len <= n)
		ncap *= 2;
	if ((ns = realloc(b->s, ncap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->s = ns;
	b->cap = ncap;
	return true;
}

static void
jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (!jb_room(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
}

#define JB_LIT(b, lit) jb_put((b), (lit), sizeof(lit) - 1)

/* v in decimal, as jansson dumps an integer ("%lld"). */
static void
jb_putll(struct jbuf *b, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jb_put(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * s as a JSON string, as json_pack's "s" and json_dumps make it. Names
 * that need no escaping (no '"', '\\' or control character: every field
 * and op name in practice) are copied; the others are escaped by jansson.
 * Text that is not UTF-8 fails, as json_pack's "s" fails on it.
 */
static void
jb_putstr(struct jbuf *b, const char *s)
{
	size_t len = strlen(s), n;
	json_t *j;
	char *t;

	if (!utf8_valid(s, len, NULL)) {
		b->failed = true;
		return;
	}
	if (strcspn(s, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
	    "\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18"
	    "\x19\x1a\x1b\x1c\x1d\x1e\x1f") == len) {
		JB_LIT(b, "\"");
		jb_put(b, s, len);
		JB_LIT(b, "\"");
		return;
	}
	if ((j = json_stringn(s, len)) == NULL ||
	    (t = json_dumps(j, JSON_ENCODE_ANY)) == NULL) {
		json_decref(j);
		b->failed = true;
		return;
	}
	n = strlen(t);
	jb_put(b, t, n);
	free(t);
	json_decref(j);
}

/* The text, NUL-terminated, now the caller's; NULL after a failure. */
static char *
jb_finish(struct jbuf *b)
{
	if (!jb_room(b, 0)) {
		free(b->s);
		return NULL;
	}
	b->s[b->len] = '\0';
	return b->s;
}

/*
 * {"score":N,"mql_threshold":N,"config_version":"..","rules":[{"rule":N,
 * "field":"..","op":"..","points":N},...]}, byte for byte what json_pack
 * and json_dumps(JSON_COMPACT) made of the same members in this order.
 */
static char *
receipt_json(const struct lr_config *cfg, long long score,
    const struct score_hit *hits, size_t nhits)
{
	struct jbuf b = {0};
	const struct score_rule *rule;

	JB_LIT(&b, "{\"score\":");
	jb_putll(&b, score);
	JB_LIT(&b, ",\"mql_threshold\":");
	jb_putll(&b, cfg->scoring.mql_threshold);
	JB_LIT(&b, ",\"config_version\":");
	jb_putstr(&b, cfg->version);
	JB_LIT(&b, ",\"rules\":[");
	for (size_t i = 0; i < nhits; i++) {
		rule = &cfg->scoring.rules[hits[i].rule];
		if (i > 0)
			JB_LIT(&b, ",");
		JB_LIT(&b, "{\"rule\":");
		jb_putll(&b, (long long)hits[i].rule);
		JB_LIT(&b, ",\"field\":");
		jb_putstr(&b, rule->cond.field);
		JB_LIT(&b, ",\"op\":");
		jb_putstr(&b, match_op_name(rule->cond.op));
		JB_LIT(&b, ",\"points\":");
		jb_putll(&b, hits[i].points);
		JB_LIT(&b, "}");
	}
	JB_LIT(&b, "]}");
	return jb_finish(&b);
}

int
decide_lead(const struct lr_config *cfg, const char *raw, size_t len,
    long long redeliveries, long long now_ms, struct score_hit *hits,
    struct lead_decision *out)
{
	struct lead lead;
	struct lead_error err;
	const json_t *src;
	size_t nhits = 0;
	char detail[128];

	memset(out, 0, sizeof(*out));
	if (redeliveries >= DECIDE_POISON_REDELIVERIES) {
		snprintf(detail, sizeof(detail),
		    "payload was in flight in %lld daemon crashes; set aside unparsed",
		    redeliveries);
		return dead(out, DL_POISON, detail, raw, len, now_ms);
	}
	if (lead_parse(raw, len, cfg->intake.max_bytes, &lead, &err) == -1) {
		if (err.reason == DL_NONE)
			return -1;	/* out of memory: no verdict */
		return dead(out, err.reason, err.detail, raw, len, now_ms);
	}

	out->kind = DECISION_LEAD;
	snprintf(out->id, sizeof(out->id), "%s", lead.id);
	out->score = score_lead(&cfg->scoring, lead.obj, hits, &nhits);
	out->mql = score_is_mql(&cfg->scoring, out->score);
	out->segment = segment_of(&cfg->segments, lead.obj);
	src = json_object_get(lead.obj, "source");
	out->source = strndup(json_is_string(src) ? json_string_value(src) :
	    "", json_is_string(src) ? json_string_length(src) : 0);
	out->receipt = receipt_json(cfg, out->score, hits, nhits);
	lead_clear(&lead);
	if (out->source == NULL || out->receipt == NULL) {
		lead_decision_clear(out);
		return -1;
	}
	return 0;
}

char *
decide_event_dead(const struct lead_error *err, const char *raw, size_t len,
    long long now_ms)
{
	return dl_json(err->reason, err->detail, now_ms, "events", raw, len);
}

void
lead_decision_clear(struct lead_decision *d)
{
	free(d->source);
	free(d->receipt);
	free(d->dead_json);
	memset(d, 0, sizeof(*d));
}

/* Does rep take leads of segment seg? */
static bool
rep_in_segment(const struct rep_cfg *rep, size_t seg)
{
	for (size_t k = 0; k < rep->nsegs; k++)
		if (rep->segs[k] == seg)
			return true;
	return false;
}

static const long long latency_ms[] = {1, 2, 5, 10, 25, 50, 100, 250, 500,
	1000, 2500, 5000, 10000, 60000, 300000, 3600000};
static const long long followup_ms[] = {30000, 60000, 120000, 180000,
	300000, 600000, 1800000, 3600000, 14400000, 86400000};

const struct decide_hist decide_hists[DECIDE_NHISTS] = {
	{"latency", latency_ms, sizeof(latency_ms) / sizeof(latency_ms[0])},
	{"followup", followup_ms, sizeof(followup_ms) / sizeof(followup_ms[0])},
};

/* {"latency":[ms...],"followup":[ms...]} */
static json_t *
hists_json(void)
{
	json_t *o = json_object(), *a;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < DECIDE_NHISTS; i++) {
		if ((a = json_array()) == NULL ||
		    json_object_set_new(o, decide_hists[i].name, a) == -1)
			goto fail;
		for (size_t k = 0; k < decide_hists[i].n; k++)
			if (json_array_append_new(a,
			    json_integer(decide_hists[i].bounds_ms[k])) == -1)
				goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

/*
 * The webhook endpoints for the outbox (daemon/lua/outbox.lua), only when
 * some are configured: [{"n":NAME,"t":{TYPE:true...},"r":{REP:true...}}],
 * "r" only with a rep filter.
 */
static json_t *
webhooks_json(const struct lr_config *cfg)
{
	json_t *a = json_array(), *e, *t, *r;
	const struct webhook_cfg *w;
	const char *name;
	int rc = 0;

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		w = &cfg->webhooks[i];
		e = json_pack("{s:s, s:{}}", "n", w->name, "t");
		if (e == NULL || json_array_append_new(a, e) == -1)
			goto fail;
		t = json_object_get(e, "t");
		for (size_t k = 0; (name = wh_type_name(k)) != NULL; k++)
			if (w->events & (1UL << k))
				rc |= json_object_set_new(t, name, json_true());
		if (w->nreps == 0)
			continue;
		if ((r = json_object()) == NULL ||
		    json_object_set_new(e, "r", r) == -1)
			goto fail;
		for (size_t k = 0; k < w->nreps; k++)
			rc |= json_object_set_new(r, w->reps[k], json_true());
	}
	if (rc == 0)
		return a;
fail:
	json_decref(a);
	return NULL;
}

/* Is calendar name one the clocks use: a rep's shift or sla.calendar? */
static bool
calendar_used(const struct lr_config *cfg, const char *name)
{
	if (cfg->sla.calendar != NULL && strcmp(cfg->sla.calendar, name) == 0)
		return true;
	for (size_t r = 0; r < cfg->nreps; r++)
		if (cfg->reps[r].calendar != NULL &&
		    strcmp(cfg->reps[r].calendar, name) == 0)
			return true;
	return false;
}

int
decide_cal_window(const struct lr_config *cfg, const struct calendar *cal,
    int64_t now_ms, int64_t *from_ms, int64_t *to_ms)
{
	int64_t from = now_ms - DECIDE_CAL_BACK_MS, to, due;

	if (now_ms < DECIDE_CAL_BACK_MS)
		return -1;
	to = now_ms + DECIDE_CAL_AHEAD_MS + DECIDE_CAL_MIN_MS;
	if (now_ms + DECIDE_CAL_AHEAD_MS + cfg->forecast.horizon * 1000 > to)
		to = now_ms + DECIDE_CAL_AHEAD_MS + cfg->forecast.horizon * 1000;
	due = cal_add_open(cal, now_ms + DECIDE_CAL_AHEAD_MS, cfg->sla.follow_up);
	if (due < 0 || due >= from + DECIDE_CAL_MAX_MS)
		to = from + DECIDE_CAL_MAX_MS;
	else if (due + 1 > to)
		to = due + 1;
	if (to > from + DECIDE_CAL_MAX_MS)
		to = from + DECIDE_CAL_MAX_MS;
	*from_ms = from;
	*to_ms = to;
	return 0;
}

/* {"NAME":[from,to,start,end,...],...}: the calendars the clocks use. */
static json_t *
cals_json(const struct lr_config *cfg, int64_t now_ms)
{
	json_t *o = json_object(), *a;
	struct cal_ivals l = {0};
	int64_t from, to;
	int rc = 0;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->ncalendars && rc == 0; i++) {
		const struct calendar *cal = cfg->calendars[i];

		if (!calendar_used(cfg, cal->name))
			continue;
		if (decide_cal_window(cfg, cal, now_ms, &from, &to) == -1 ||
		    cal_intervals(cal, from, to, &l) == -1 ||
		    (a = json_array()) == NULL) {
			rc = -1;
			break;
		}
		rc |= json_object_set_new(o, cal->name, a);
		rc |= json_array_append_new(a, json_integer(from));
		rc |= json_array_append_new(a, json_integer(to));
		for (size_t k = 0; k < l.n && rc == 0; k++) {
			rc |= json_array_append_new(a,
			    json_integer(l.v[k].start_ms));
			rc |= json_array_append_new(a,
			    json_integer(l.v[k].end_ms));
		}
	}
	cal_ivals_clear(&l);
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

bool
decide_uses_calendars(const struct lr_config *cfg)
{
	if (cfg->sla.calendar != NULL)
		return true;
	for (size_t r = 0; r < cfg->nreps; r++)
		if (cfg->reps[r].calendar != NULL)
			return true;
	return false;
}

bool
decide_routing_same_config(const char *a, const char *b)
{
	const char *ca = strstr(a, DECIDE_CAL_MEMBER);
	const char *cb = strstr(b, DECIDE_CAL_MEMBER);
	size_t la = ca != NULL ? (size_t)(ca - a) : strlen(a);
	size_t lb = cb != NULL ? (size_t)(cb - b) : strlen(b);

	return la == lb && memcmp(a, b, la) == 0;
}

char *
decide_routing_json(const struct lr_config *cfg)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return decide_routing_json_at(cfg,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

char *
decide_routing_json_at(const struct lr_config *cfg, int64_t now_ms)
{
	json_t *o, *segs, *order, *reps, *list, *rep_order;
	const struct rep_cfg *rep;
	char *s = NULL;
	int rc = 0;

	o = json_object();
	segs = json_object();
	order = json_array();
	reps = json_object();
	rep_order = json_array();
	if (o == NULL || segs == NULL || order == NULL || reps == NULL ||
	    rep_order == NULL)
		goto out;
	/* Every call is checked: a table missing a rep must never go out. */
	for (size_t i = 0; i < cfg->segments.n; i++) {
		if ((list = json_array()) == NULL ||
		    json_object_set_new(segs, cfg->segments.v[i].name,
		    list) == -1)
			goto out;
		for (size_t r = 0; r < cfg->nreps; r++)
			if (rep_in_segment(&cfg->reps[r], i))
				rc |= json_array_append_new(list,
				    json_string(cfg->reps[r].id));
		rc |= json_array_append_new(order,
		    json_string(cfg->segments.v[i].name));
	}
	for (size_t r = 0; r < cfg->nreps; r++) {
		rep = &cfg->reps[r];
		if (rep->calendar != NULL)
			rc |= json_object_set_new(reps, rep->id,
			    json_pack("[I, I, s]", (json_int_t)rep->max_open,
			    (json_int_t)rep->max_per_period, rep->calendar));
		else
			rc |= json_object_set_new(reps, rep->id,
			    json_pack("[I, I]", (json_int_t)rep->max_open,
			    (json_int_t)rep->max_per_period));
		rc |= json_array_append_new(rep_order, json_string(rep->id));
	}
	rc |= json_object_set(o, "rep_order", rep_order);
	rc |= json_object_set_new(o, "hist", hists_json());
	rc |= json_object_set(o, "segs", segs);
	rc |= json_object_set(o, "seg_order", order);
	rc |= json_object_set(o, "reps", reps);
	rc |= json_object_set_new(o, "period",
	    json_integer(cfg->capacity.period * 1000));
	rc |= json_object_set_new(o, "follow",
	    json_integer(cfg->sla.follow_up * 1000));
	rc |= json_object_set_new(o, "warn",
	    json_integer(cfg->sla.warn_before * 1000));
	rc |= json_object_set_new(o, "reassign",
	    json_boolean(cfg->sla.on_breach == SLA_ON_BREACH_REASSIGN));
	rc |= json_object_set_new(o, "max_reassign",
	    json_integer(cfg->sla.max_reassign));
	rc |= json_object_set_new(o, "audit", json_integer(cfg->audit.enabled ?
	    cfg->audit.max_len : 0));
	rc |= json_object_set_new(o, "alert_log_max",
	    json_integer(cfg->sla.alert_log_max));
	rc |= json_object_set_new(o, "dead_max",
	    json_integer(cfg->intake.dead_max));
	rc |= json_object_set_new(o, "retention_s",
	    json_integer(cfg->retention.days * CFG_DAY_S));
	rc |= json_object_set_new(o, "inbox_max",
	    json_integer(cfg->retention.inbox_max));
	rc |= json_object_set_new(o, "max_sources",
	    json_integer(cfg->insight.max_sources));
	rc |= json_object_set_new(o, "version", json_string(cfg->version));
	if (cfg->nwebhooks > 0)
		rc |= json_object_set_new(o, "wh", webhooks_json(cfg));
	/* Business hours, only when a clock uses a calendar (no cost
	 * otherwise); "cal" last: decide_routing_same_config cuts there. */
	if (cfg->sla.calendar != NULL)
		rc |= json_object_set_new(o, "sla_cal",
		    json_string(cfg->sla.calendar));
	if (decide_uses_calendars(cfg))
		rc |= json_object_set_new(o, "cal", cals_json(cfg, now_ms));
	if (rc == 0)
		s = json_dumps(o, JSON_COMPACT);
out:
	json_decref(segs);
	json_decref(order);
	json_decref(reps);
	json_decref(rep_order);
	json_decref(o);
	return s;
}

long
decide_sla_sleep_ms(long long next, long long now, bool more)
{
	long long ms;

	if (more)
		return 0;
	if (next < 0)
		return DECIDE_SLA_MAX_SLEEP_MS;
	ms = next - now;
	if (ms < 0)
		ms = 0;
	if (ms > DECIDE_SLA_MAX_SLEEP_MS)
		ms = DECIDE_SLA_MAX_SLEEP_MS;
	return (long)ms;
}
