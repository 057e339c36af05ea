/* metrics.c - scrape lr:stats, shared gauges and process state, and render them as Prometheus text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide.h"
#include "lead.h"
#include "log.h"
#include "metrics.h"
#include "rds.h"
#include "sources.h"
#include "wire.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The most labels a family's field carries ("alert:TYPE:SEGMENT:REP"). */
#define FAMILY_MAX_LABELS 3

/* How a family of lr:stats fields ("dead:bad_json") becomes a metric. */
struct family {
	const char *prefix;	/* "dead:"; a full field name when no labels */
	const char *name;
	const char *help;
	/* the parts after the prefix, split on ':' */
	const char *labels[FAMILY_MAX_LABELS];
	enum { SEED_NONE, SEED_SEGMENTS, SEED_REPS, SEED_REASONS,
	    SEED_NURTURE } seed;
};

static const char *const nurture_reasons[] = {"below_threshold",
	"rejected_by_rep"};

static const struct family families[] = {
	{"received", "leadrouted_leads_received_total",
	    "Payloads taken from the intake list (valid or not), all instances.",
	    {NULL}, SEED_NONE},
	{"valid", "leadrouted_leads_valid_total",
	    "Leads that passed validation and were recorded, all instances.",
	    {NULL}, SEED_NONE},
	{"duplicate", "leadrouted_leads_duplicate_total",
	    "Leads refused because their id was already accepted.",
	    {NULL}, SEED_NONE},
	{"dead:", "leadrouted_dead_letters_total",
	    "Payloads dead-lettered to the dead list, by reason.",
	    {"reason"}, SEED_REASONS},
	{"nurture:", "leadrouted_nurture_total",
	    "Leads sent to the nurture list, by reason.",
	    {"reason"}, SEED_NURTURE},
	{"mql:", "leadrouted_mqls_total",
	    "Leads scoring at or above the MQL threshold, by segment.",
	    {"segment"}, SEED_SEGMENTS},
	{"assigned:", "leadrouted_assignments_total",
	    "Assignments of leads to reps (reassignments included), by segment.",
	    {"segment"}, SEED_SEGMENTS},
	{"assigned_rep:", "leadrouted_rep_assignments_total",
	    "Assignments of leads to reps, by rep.",
	    {"rep"}, SEED_REPS},
	{"backlogged:", "leadrouted_backlogged_total",
	    "MQLs that had to wait in a backlog, by segment.",
	    {"segment"}, SEED_SEGMENTS},
	{"closed:", "leadrouted_closed_total",
	    "Leads closed by reps, by outcome.",
	    {"outcome"}, SEED_NONE},
	{"event:", "leadrouted_events_total",
	    "Feedback events applied or refused, by type and result.",
	    {"type", "result"}, SEED_NONE},
	{"alert:", "leadrouted_sla_alerts_total",
	    "Follow-up SLA alerts, by type (sla_warning, sla_breach, sla_escalation), segment and rep.",
	    {"type", "segment", "rep"}, SEED_NONE},
	{"forecast_alert:", "leadrouted_capacity_forecast_alerts_total",
	    "capacity_forecast alerts (one per episode), by segment.",
	    {"segment"}, SEED_SEGMENTS},
	{"reassigned:", "leadrouted_sla_reassignments_total",
	    "Breached leads moved to another rep, by segment.",
	    {"segment"}, SEED_SEGMENTS},
	{"fenced", "leadrouted_fenced_total",
	    "Commits refused because the instance had been presumed dead.",
	    {NULL}, SEED_NONE},
	{"instances_reaped", "leadrouted_instances_reaped_total",
	    "Instances presumed dead whose work was requeued.",
	    {NULL}, SEED_NONE},
	{"requeued", "leadrouted_requeued_total",
	    "Payloads requeued from instances presumed dead.",
	    {NULL}, SEED_NONE},
	{"dead_dropped", "leadrouted_dead_letters_dropped_total",
	    "Oldest dead letters dropped because the dead list held intake.dead_max.",
	    {NULL}, SEED_NONE},
};

static const char *const hist_help[DECIDE_NHISTS][2] = {
	{"leadrouted_intake_to_assignment_seconds",
	    "Time from the router taking a lead to its assignment (the router's own SLO; backlog waits included)."},
	{"leadrouted_followup_seconds",
	    "Time from assignment to the rep's followed_up event."},
};

static void
label_value(struct evbuffer *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' || s[i] == '"')
			evbuffer_add_printf(b, "\\%c", s[i]);
		else if (s[i] == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, &s[i], 1);
	}
}

static void
header(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static long long
reply_ll(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return 0;
}

/* The value of a stats field, 0 when absent. */
static long long
stat_value(const struct metrics_shared *m, const char *field)
{
	for (size_t i = 0; i + 1 < m->stats->elements; i += 2)
		if (strcmp(m->stats->element[i]->str, field) == 0)
			return reply_ll(m->stats->element[i + 1]);
	return 0;
}

/* A sample whose labels are the ':'-separated parts of rest. */
static void
sample(struct evbuffer *b, const struct family *f, const char *rest,
    long long v)
{
	const char *p = rest, *colon;
	size_t k;

	evbuffer_add_printf(b, "%s", f->name);
	if (f->labels[0] != NULL) {
		evbuffer_add(b, "{", 1);
		for (k = 0; k < FAMILY_MAX_LABELS && f->labels[k] != NULL;
		    k++) {
			colon = k + 1 < FAMILY_MAX_LABELS &&
			    f->labels[k + 1] != NULL ? strchr(p, ':') : NULL;
			evbuffer_add_printf(b, "%s%s=\"", k ? "," : "",
			    f->labels[k]);
			label_value(b, p, colon ? (size_t)(colon - p) :
			    strlen(p));
			evbuffer_add(b, "\"", 1);
			p = colon ? colon + 1 : p + strlen(p);
		}
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add_printf(b, " %lld\n", v);
}

/* Does the family have this label value among its stats fields? */
static bool
has_field(const struct metrics_shared *m, const struct family *f,
    const char *rest)
{
	char field[256];

	snprintf(field, sizeof(field), "%s%s", f->prefix, rest);
	for (size_t i = 0; i + 1 < m->stats->elements; i += 2)
		if (strcmp(m->stats->element[i]->str, field) == 0)
			return true;
	return false;
}

static void
render_family(struct evbuffer *b, const struct family *f,
    const struct lr_config *cfg, const struct metrics_shared *m)
{
	size_t plen = strlen(f->prefix);
	const char *field;

	header(b, f->name, "counter", f->help);
	if (f->labels[0] == NULL) {
		evbuffer_add_printf(b, "%s %lld\n", f->name,
		    stat_value(m, f->prefix));
		return;
	}
	/* Known label values first, at 0 when nothing happened yet, so that
	 * rate() and alerts work from the first scrape. */
	if (f->seed == SEED_SEGMENTS)
		for (size_t i = 0; i < cfg->segments.n; i++)
			if (!has_field(m, f, cfg->segments.v[i].name))
				sample(b, f, cfg->segments.v[i].name, 0);
	if (f->seed == SEED_REPS)
		for (size_t i = 0; i < cfg->nreps; i++)
			if (!has_field(m, f, cfg->reps[i].id))
				sample(b, f, cfg->reps[i].id, 0);
	if (f->seed == SEED_NURTURE)
		for (size_t i = 0; i < NELEM(nurture_reasons); i++)
			if (!has_field(m, f, nurture_reasons[i]))
				sample(b, f, nurture_reasons[i], 0);
	if (f->seed == SEED_REASONS)
		for (int r = DL_TOO_LARGE; r < DL_NREASONS; r++)
			if (!has_field(m, f, dl_reason_name((enum dl_reason)r)))
				sample(b, f, dl_reason_name((enum dl_reason)r), 0);
	for (size_t i = 0; i + 1 < m->stats->elements; i += 2) {
		field = m->stats->element[i]->str;
		if (strncmp(field, f->prefix, plen) == 0)
			sample(b, f, field + plen,
			    reply_ll(m->stats->element[i + 1]));
	}
}

static void
render_histogram(struct evbuffer *b, size_t h, const struct metrics_shared *m)
{
	const struct decide_hist *d = &decide_hists[h];
	const char *name = hist_help[h][0];
	char field[64];
	long long cum = 0;

	header(b, name, "histogram", hist_help[h][1]);
	for (size_t k = 0; k <= d->n; k++) {
		snprintf(field, sizeof(field), "h:%s:%zu", d->name, k + 1);
		cum += stat_value(m, field);
		if (k < d->n)
			evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %lld\n",
			    name, (double)d->bounds_ms[k] / 1000.0, cum);
		else
			evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %lld\n",
			    name, cum);
	}
	snprintf(field, sizeof(field), "h:%s:sum", d->name);
	evbuffer_add_printf(b, "%s_sum %.3f\n", name,
	    (double)stat_value(m, field) / 1000.0);
	snprintf(field, sizeof(field), "h:%s:count", d->name);
	evbuffer_add_printf(b, "%s_count %lld\n", name, stat_value(m, field));
}

static void
rep_gauge(struct evbuffer *b, const struct lr_config *cfg, const char *name,
    const char *help, const struct metrics_shared *m, int col,
    bool from_config)
{
	header(b, name, "gauge", help);
	for (size_t i = 0; i < cfg->nreps; i++) {
		long long v;

		if (from_config)
			v = col == WIRE_METRICS_REP_OPEN ?
			    cfg->reps[i].max_open :
			    cfg->reps[i].max_per_period;
		else
			v = reply_ll(m->reps->element[WIRE_METRICS_REP_FIELDS * i +
			    (size_t)col]);
		evbuffer_add_printf(b, "%s{rep=\"", name);
		label_value(b, cfg->reps[i].id, strlen(cfg->reps[i].id));
		evbuffer_add_printf(b, "\"} %lld\n", v);
	}
}

static void render_sources(struct evbuffer *b, const struct lr_config *cfg,
    const struct metrics_shared *m);
static void render_forecast(struct evbuffer *b, const struct lr_config *cfg,
    const struct metrics_shared *m);

static void
render_shared(struct evbuffer *b, const struct lr_config *cfg,
    const struct metrics_shared *m)
{
	for (size_t i = 0; i < NELEM(families); i++)
		render_family(b, &families[i], cfg, m);
	for (size_t h = 0; h < DECIDE_NHISTS; h++)
		render_histogram(b, h, m);

	header(b, "leadrouted_backlog_leads", "gauge",
	    "MQLs waiting for a rep, by segment.");
	for (size_t i = 0; i < cfg->segments.n; i++) {
		evbuffer_add_printf(b, "leadrouted_backlog_leads{segment=\"");
		label_value(b, cfg->segments.v[i].name,
		    strlen(cfg->segments.v[i].name));
		evbuffer_add_printf(b, "\"} %lld\n",
		    reply_ll(m->backlog->element[i]));
	}
	rep_gauge(b, cfg, "leadrouted_rep_open_leads",
	    "Leads a rep holds open (assigned or followed up).", m,
	    WIRE_METRICS_REP_OPEN, false);
	rep_gauge(b, cfg, "leadrouted_rep_max_open",
	    "The rep's max_open limit.", m, WIRE_METRICS_REP_OPEN, true);
	rep_gauge(b, cfg, "leadrouted_rep_period_assignments",
	    "Assignments to the rep within the rolling capacity period.", m,
	    WIRE_METRICS_REP_PERIOD, false);
	rep_gauge(b, cfg, "leadrouted_rep_max_per_period",
	    "The rep's max_per_period limit (0 = unlimited).", m,
	    WIRE_METRICS_REP_PERIOD, true);
	rep_gauge(b, cfg, "leadrouted_rep_available",
	    "1 when the rep is available, 0 when away.", m,
	    WIRE_METRICS_REP_AVAILABLE, false);

	header(b, "leadrouted_queue_length", "gauge",
	    "Items waiting in a Redis list.");
	evbuffer_add_printf(b, "leadrouted_queue_length{queue=\"incoming\"} %lld\n"
	    "leadrouted_queue_length{queue=\"events\"} %lld\n"
	    "leadrouted_queue_length{queue=\"dead\"} %lld\n", m->incoming,
	    m->events, m->dead);
	header(b, "leadrouted_sla_pending_timers", "gauge",
	    "Assignments waiting for their follow-up.");
	evbuffer_add_printf(b, "leadrouted_sla_pending_timers %lld\n",
	    m->sla_pending);
	header(b, "leadrouted_instances", "gauge",
	    "Live daemon instances sharing this Redis and prefix.");
	evbuffer_add_printf(b, "leadrouted_instances %lld\n", m->instances);
	render_sources(b, cfg, m);
	render_forecast(b, cfg, m);
}

/* The forecast hash's field "SEGMENT|what", or NULL. */
static const char *
forecast_field(const struct metrics_shared *m, const char *seg,
    const char *what)
{
	const redisReply *f = m->forecast;
	size_t slen = strlen(seg);
	const char *k;

	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		k = f->element[i]->str;
		if (strncmp(k, seg, slen) == 0 && k[slen] == '|' &&
		    strcmp(k + slen + 1, what) == 0)
			return f->element[i + 1]->type == REDIS_REPLY_STRING ?
			    f->element[i + 1]->str : NULL;
	}
	return NULL;
}

/* Per segment, the capacity forecast's figures as the last forecast left
 * them; segments not forecast yet are left out rather than shown as 0. */
static void
render_forecast(struct evbuffer *b, const struct lr_config *cfg,
    const struct metrics_shared *m)
{
	static const struct {
		const char *what, *name, *help;
	} gauges[] = {
		{"rate", "leadrouted_mql_arrival_rate",
		    "MQLs arriving per second, by segment: an exponentially weighted moving average (forecast.half_life)."},
		{"room", "leadrouted_capacity_room_leads",
		    "New leads the segment's available reps can still take under max_open and max_per_period."},
		{"eta", "leadrouted_capacity_exhaustion_seconds",
		    "Seconds until the segment's reps have no room left at the current MQL arrival rate, backlog counted (0: none left now; +Inf: never)."},
		{"episode", "leadrouted_capacity_forecast_episode",
		    "1 while a capacity_forecast episode lasts for the segment (leads expected to wait within forecast.horizon)."},
	};
	const char *seg, *v, *at;
	char *end;
	double x;

	for (size_t g = 0; g < NELEM(gauges); g++) {
		header(b, gauges[g].name, "gauge", gauges[g].help);
		for (size_t i = 0; i < cfg->segments.n; i++) {
			seg = cfg->segments.v[i].name;
			if ((at = forecast_field(m, seg, "at")) == NULL)
				continue;	/* no forecast yet */
			v = forecast_field(m, seg, gauges[g].what);
			if (strcmp(gauges[g].what, "episode") == 0)
				x = v != NULL ? 1 : 0;
			else if (v == NULL || (x = strtod(v, &end), end == v))
				continue;
			evbuffer_add_printf(b, "%s{segment=\"", gauges[g].name);
			label_value(b, seg, strlen(seg));
			if (strcmp(gauges[g].what, "eta") == 0 && x < 0)
				evbuffer_add_printf(b, "\"} +Inf\n");
			else
				evbuffer_add_printf(b, "\"} %.6g\n", x);
		}
	}
}

/* The funnel stages of a lead source, as sources.h counts them. */
#define NSTAGES 8

/* Lead sources: the top_n by volume by name, the rest as "other". */
static void
render_sources(struct evbuffer *b, const struct lr_config *cfg,
    const struct metrics_shared *m)
{
	static const char *const stages[NSTAGES] = {"received", "mql", "assigned",
	    "followed_up", "followed_up_in_sla", "rejected", "won", "lost"};
	const struct decide_hist *fu = &decide_hists[1];
	struct sources s = {0};
	long long other[NSTAGES] = {0};
	bool has_other = false;

	for (size_t i = 0; i + 1 < m->sources->elements; i += 2)
		(void)sources_add(&s, m->sources->element[i]->str,
		    reply_ll(m->sources->element[i + 1]));
	sources_assess(&s, fu->bounds_ms, fu->n, 0);
	header(b, "leadrouted_source_leads_total", "counter",
	    "Leads by source and funnel stage (received, mql, assigned, followed_up, followed_up_in_sla, rejected, won, lost); sources beyond the top insight.top_sources by volume are \"other\".");
	for (size_t i = 0; i < s.n; i++) {
		const struct source_stats *st = &s.v[i];
		const long long v[NSTAGES] = {st->received, st->mql, st->assigned,
		    st->followed_up, st->in_sla, st->rejected, st->won, st->lost};

		if ((long long)i >= cfg->insight.top_sources) {
			for (size_t k = 0; k < NSTAGES; k++)
				other[k] += v[k];
			has_other = true;
			continue;
		}
		for (size_t k = 0; k < NSTAGES; k++) {
			evbuffer_add_printf(b, "leadrouted_source_leads_total{source=\"");
			label_value(b, st->name, strlen(st->name));
			evbuffer_add_printf(b, "\",stage=\"%s\"} %lld\n", stages[k],
			    v[k]);
		}
	}
	if (has_other)
		for (size_t k = 0; k < NSTAGES; k++)
			evbuffer_add_printf(b,
			    "leadrouted_source_leads_total{source=\"other\",stage=\"%s\"} %lld\n",
			    stages[k], other[k]);
	sources_clear(&s);
}

/* redis.replica_acks: the WAITs after commits (README "High availability"). */
static void
render_replica_acks(struct evbuffer *b, const struct lr_config *cfg,
    const struct metrics_local *l)
{
	if (cfg->redis.replica_acks <= 0)
		return;
	header(b, "leadrouted_replica_ack_short_total", "counter",
	    "Commits of this instance whose WAIT counted fewer replicas than redis.replica_acks.");
	evbuffer_add_printf(b, "leadrouted_replica_ack_short_total %llu\n",
	    l->replica_ack_short);
	header(b, "leadrouted_replica_acks", "gauge",
	    "Replicas that acknowledged this instance's last commit (-1: none yet).");
	evbuffer_add_printf(b, "leadrouted_replica_acks %lld\n",
	    l->replica_acks_last);
}

static void
render_local(struct evbuffer *b, const struct lr_config *cfg,
    const struct metrics_local *l)
{
	header(b, "leadrouted_redis_up", "gauge",
	    "1 when this instance's Redis command connection is up.");
	evbuffer_add_printf(b, "leadrouted_redis_up %d\n", l->redis_up);
	header(b, "leadrouted_registered", "gauge",
	    "1 when this instance holds a lease in the fleet and routes.");
	evbuffer_add_printf(b, "leadrouted_registered %d\n", l->registered);
	header(b, "leadrouted_redis_reconnects_total", "counter",
	    "Reconnections of this instance's Redis connections.");
	evbuffer_add_printf(b, "leadrouted_redis_reconnects_total %llu\n",
	    l->reconnects);
	header(b, "leadrouted_config_reloads_total", "counter",
	    "Configuration reloads (SIGHUP) of this instance, by result.");
	evbuffer_add_printf(b,
	    "leadrouted_config_reloads_total{result=\"success\"} %llu\n"
	    "leadrouted_config_reloads_total{result=\"failure\"} %llu\n",
	    l->reloads_ok, l->reloads_failed);
	header(b, "leadrouted_config_info", "gauge",
	    "The configuration this instance runs (version: a hash of the file).");
	evbuffer_add_printf(b, "leadrouted_config_info{version=\"%s\"} 1\n",
	    cfg->version);
	header(b, "leadrouted_rep_on_shift", "gauge",
	    "1 while the rep's calendar is open (always without one), 0 off shift; by this instance's clock.");
	for (size_t i = 0; i < cfg->nreps; i++) {
		evbuffer_add_printf(b, "leadrouted_rep_on_shift{rep=\"");
		label_value(b, cfg->reps[i].id, strlen(cfg->reps[i].id));
		evbuffer_add_printf(b, "\"} %d\n",
		    cfg_rep_on_shift(cfg, &cfg->reps[i], l->now_ms, NULL));
	}
	header(b, "leadrouted_build_info", "gauge", "The daemon's version.");
	evbuffer_add_printf(b, "leadrouted_build_info{version=\"");
	label_value(b, l->version, strlen(l->version));
	evbuffer_add_printf(b, "\"} 1\n");
	if (l->intake_http) {
		header(b, "leadrouted_intake_http_requests_total", "counter",
		    "Requests to this instance's HTTP intake, by the status answered (503 includes connections refused over intake.http.max_connections).");
		for (int i = 0; i < INTAKE_NSTATUS; i++)
			evbuffer_add_printf(b,
			    "leadrouted_intake_http_requests_total{code=\"%d\"} %llu\n",
			    intake_statuses[i], l->intake_http_requests[i]);
	}
	render_replica_acks(b, cfg, l);
	if (l->render_more != NULL)
		l->render_more(b, l->more_arg);
}

/* An array of field, value pairs, all strings (HGETALL's reply). */
static bool
string_pairs(const redisReply *r)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return false;
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

static bool
array_of(const redisReply *r, size_t n)
{
	return r->type == REDIS_REPLY_ARRAY && r->elements == n;
}

int
metrics_parse(const redisReply *r, const struct lr_config *cfg,
    struct metrics_shared *out)
{
	if (r == NULL || !array_of(r, WIRE_METRICS_REPLY_FIELDS))
		return -1;
	for (size_t i = WIRE_METRICS_REPLY_INCOMING; i <= WIRE_METRICS_REPLY_INSTANCES; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER)
			return -1;
	if (!string_pairs(r->element[WIRE_METRICS_REPLY_STATS]) ||
	    !array_of(r->element[WIRE_METRICS_REPLY_BACKLOG], cfg->segments.n) ||
	    !array_of(r->element[WIRE_METRICS_REPLY_REPS],
	    WIRE_METRICS_REP_FIELDS * cfg->nreps) ||
	    !string_pairs(r->element[WIRE_METRICS_REPLY_SOURCES]) ||
	    !string_pairs(r->element[WIRE_METRICS_REPLY_FORECAST]))
		return -1;
	out->stats = r->element[WIRE_METRICS_REPLY_STATS];
	out->backlog = r->element[WIRE_METRICS_REPLY_BACKLOG];
	out->reps = r->element[WIRE_METRICS_REPLY_REPS];
	out->incoming = r->element[WIRE_METRICS_REPLY_INCOMING]->integer;
	out->events = r->element[WIRE_METRICS_REPLY_EVENTS]->integer;
	out->dead = r->element[WIRE_METRICS_REPLY_DEAD]->integer;
	out->sla_pending = r->element[WIRE_METRICS_REPLY_SLA_DUE]->integer;
	out->instances = r->element[WIRE_METRICS_REPLY_INSTANCES]->integer;
	out->sources = r->element[WIRE_METRICS_REPLY_SOURCES];
	out->forecast = r->element[WIRE_METRICS_REPLY_FORECAST];
	return 0;
}

int
metrics_render(struct evbuffer *buf, const struct lr_config *cfg,
    const struct metrics_shared *shared, const struct metrics_local *local)
{
	if (shared != NULL)
		render_shared(buf, cfg, shared);
	render_local(buf, cfg, local);
	return 0;
}

/* --- the scrape ------------------------------------------------------- */

struct metrics {
	struct rds_target to;
	metrics_view_cb *view;
	void *arg;
};

/* A scrape waiting for Redis; it owns its arguments. */
struct scrape {
	struct metrics *m;
	metrics_done_cb *done;
	void *ctx;
	struct rds_argv args;
};

struct metrics *
metrics_new(const struct rds_target *to, metrics_view_cb *view, void *arg)
{
	struct metrics *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->to = *to;
	m->view = view;
	m->arg = arg;
	return m;
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

/* The system's clock, for the shift gauge. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Render the reply (NULL or malformed: this process alone) for done. */
static bool
answer(struct metrics *m, const redisReply *reply, metrics_done_cb *done,
    void *ctx)
{
	struct evbuffer *b = evbuffer_new();
	struct metrics_shared shared;
	struct metrics_view v;
	bool taken;

	if (b == NULL)
		return done(NULL, ctx);
	m->view(&v, m->arg);
	if (v.local.now_ms == 0)
		v.local.now_ms = now_ms();
	metrics_render(b, v.cfg, metrics_parse(reply, v.cfg, &shared) == 0 ?
	    &shared : NULL, &v.local);
	taken = done(b, ctx);
	evbuffer_free(b);
	return taken;
}

static void
scrape_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct scrape *s = arg;

	(void)conn;
	if (answer(s->m, reply, s->done, s->ctx) && reply != NULL &&
	    reply->type == REDIS_REPLY_ERROR)
		log_warnx("metrics: %s", reply->str);
	rds_argv_clear(&s->args);
	free(s);
}

void
metrics_scrape(struct metrics *m, metrics_done_cb *done, void *ctx)
{
	struct metrics_view v;
	struct scrape *s;

	if (!rds_up(m->to.conn) || (s = calloc(1, sizeof(*s))) == NULL) {
		(void)answer(m, NULL, done, ctx);
		return;
	}
	s->m = m;
	s->done = done;
	s->ctx = ctx;
	m->view(&v, m->arg);
	if (rds_argv_call(&s->args, WIRE_OP_METRICS, v.cfg->redis.prefix) == -1 ||
	    rds_argv_adds(&s->args, v.routing) == -1 ||
	    rds_script(m->to.conn, m->to.script, m->to.key, &s->args,
	    scrape_cb, s) == -1) {
		rds_argv_clear(&s->args);
		free(s);
		(void)answer(m, NULL, done, ctx);
	}
}
