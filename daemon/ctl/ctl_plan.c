/* ctl_plan.c - leadctl plan: the funnel each segment needs, against its reps' capacity. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_common.h"
#include "ctl_plan.h"
#include "plan.h"
#include "keys.h"

/* Observed outcomes of a segment (lr:stats), for --actual. */
struct actual {
	long long mql, assigned, followed_up, won, lost;
	double mql_to_sal, sal_to_deal;	/* < 0: not observed yet */
	long long mqls_needed;		/* at the observed rates; -1: unknown */
};

/* Weekly capacity of the reps serving segment seg, and one rep's week. */
static void
segment_capacity(const struct lr_config *cfg, size_t seg, size_t *nreps,
    double *capacity, double *rep_week)
{
	double sum = 0, one, per = 0;
	bool unlimited = false;

	*nreps = 0;
	for (size_t r = 0; r < cfg->nreps; r++) {
		const struct rep_cfg *rep = &cfg->reps[r];

		if (!ctl_rep_serves(rep, seg))
			continue;
		(*nreps)++;
		one = plan_rep_week(cfg->plan.mqls_per_rep_month,
		    rep->max_per_period, cfg->capacity.period);
		if (one < 0) {
			unlimited = true;
			continue;
		}
		per += one;
		/* A rep of several segments gives each an equal share. */
		sum += one / (double)rep->nsegs;
	}
	*capacity = unlimited ? -1 : sum;
	*rep_week = unlimited || *nreps == 0 ? -1 : per / (double)*nreps;
	if (cfg->plan.mqls_per_rep_month > 0)
		*rep_week = plan_rep_week(cfg->plan.mqls_per_rep_month, 0, 0);
}

/* A counter of lr:stats, 0 when absent. */
static long long
stat_ll(const redisReply *stats, const char *field)
{
	return ctl_hash_ll(stats, field, 0);
}

static void
observe(const redisReply *stats, const char *seg, long long deals,
    struct actual *a)
{
	char f[160];

	snprintf(f, sizeof(f), "mql:%s", seg);
	a->mql = stat_ll(stats, f);
	snprintf(f, sizeof(f), "assigned:%s", seg);
	a->assigned = stat_ll(stats, f);
	snprintf(f, sizeof(f), "followed_up:%s", seg);
	a->followed_up = stat_ll(stats, f);
	snprintf(f, sizeof(f), "outcome:%s:won", seg);
	a->won = stat_ll(stats, f);
	snprintf(f, sizeof(f), "outcome:%s:lost", seg);
	a->lost = stat_ll(stats, f);
	a->mql_to_sal = a->mql > 0 ? (double)a->followed_up / (double)a->mql :
	    -1;
	a->sal_to_deal = a->won + a->lost > 0 ?
	    (double)a->won / (double)(a->won + a->lost) : -1;
	a->mqls_needed = a->mql_to_sal > 0 && a->sal_to_deal > 0 ?
	    plan_ceil((double)deals / (a->mql_to_sal * a->sal_to_deal)) : -1;
}

static json_t *
row_json(const struct plan_segment *ps, const struct plan_row *row,
    const struct actual *a)
{
	json_t *o = json_object(), *stages = json_object(),
	    *exact = json_object(), *conv = json_object();

	for (int k = 0; k < PLAN_NSTAGES; k++) {
		json_object_set_new(stages, plan_stage_names[k],
		    json_integer(row->needed[k]));
		json_object_set_new(exact, plan_stage_names[k],
		    json_real(row->exact[k]));
	}
	for (int k = 0; k < PLAN_NCONV; k++)
		json_object_set_new(conv, plan_conv_names[k],
		    json_real(ps->conv[k]));
	json_object_set_new(o, "segment", json_string(ps->name));
	json_object_set_new(o, "target", json_real(ps->target));
	json_object_set_new(o, "avg_deal", json_real(ps->avg_deal));
	json_object_set_new(o, "conversion", conv);
	json_object_set_new(o, "needed", stages);
	json_object_set_new(o, "exact", exact);
	json_object_set_new(o, "mqls_per_week", json_real(row->mqls_per_week));
	json_object_set_new(o, "capacity_per_week", row->capacity_per_week < 0 ?
	    json_null() : json_real(row->capacity_per_week));
	json_object_set_new(o, "reps", json_integer((json_int_t)row->reps));
	json_object_set_new(o, "reps_needed", row->reps_needed < 0 ?
	    json_null() : json_integer(row->reps_needed));
	json_object_set_new(o, "enough_capacity", json_boolean(
	    row->capacity_per_week < 0 ||
	    row->capacity_per_week + 1e-9 >= row->mqls_per_week));
	if (a != NULL)
		json_object_set_new(o, "actual", json_pack(
		    "{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
		    "mqls", (json_int_t)a->mql, "assigned",
		    (json_int_t)a->assigned, "followed_up",
		    (json_int_t)a->followed_up, "won", (json_int_t)a->won,
		    "lost", (json_int_t)a->lost, "mql_to_sal",
		    a->mql_to_sal < 0 ? json_null() : json_real(a->mql_to_sal),
		    "sal_to_deal", a->sal_to_deal < 0 ? json_null() :
		    json_real(a->sal_to_deal), "mqls_needed",
		    a->mqls_needed < 0 ? json_null() :
		    json_integer(a->mqls_needed)));
	return o;
}

static void
print_row(const struct plan_segment *ps, const struct plan_row *row)
{
	char cap[32], need[32];
	bool ok = row->capacity_per_week < 0 ||
	    row->capacity_per_week + 1e-9 >= row->mqls_per_week;

	if (row->capacity_per_week < 0)
		snprintf(cap, sizeof(cap), "unlimited");
	else
		snprintf(cap, sizeof(cap), "%.1f", row->capacity_per_week);
	if (row->reps_needed < 0)
		snprintf(need, sizeof(need), "-");
	else
		snprintf(need, sizeof(need), "%lld", row->reps_needed);
	printf("%-10s %10.0f %9.0f %6lld %9lld %9lld %6lld %6lld %6lld (%.1f) %9.1f %9s %4zu %6s  %s\n",
	    ps->name, ps->target, ps->avg_deal, row->needed[PLAN_DEAL],
	    row->needed[PLAN_CONTRACT], row->needed[PLAN_PROPOSAL],
	    row->needed[PLAN_OPPORTUNITY], row->needed[PLAN_SQL],
	    row->needed[PLAN_MQL], row->exact[PLAN_MQL], row->mqls_per_week,
	    cap, row->reps, need, ok ? "ok" : "short of capacity");
}

static void
print_actual(const struct plan_segment *ps, const struct actual *a)
{
	char r1[16], r2[16], need[32];

	if (a->mql_to_sal < 0)
		snprintf(r1, sizeof(r1), "-");
	else
		snprintf(r1, sizeof(r1), "%.1f%%", a->mql_to_sal * 100);
	if (a->sal_to_deal < 0)
		snprintf(r2, sizeof(r2), "-");
	else
		snprintf(r2, sizeof(r2), "%.1f%%", a->sal_to_deal * 100);
	if (a->mqls_needed < 0)
		snprintf(need, sizeof(need), "not enough outcomes yet");
	else
		snprintf(need, sizeof(need), "%lld", a->mqls_needed);
	printf("%-10s %7lld %9lld %9lld %6lld %6lld %10s %11s   %s\n", ps->name,
	    a->mql, a->assigned, a->followed_up, a->won, a->lost, r1, r2, need);
}

int
ctl_plan(struct ctl *ctl, const char *plan_file, bool actual)
{
	const struct lr_config *cfg = ctl->cfg;
	const struct plan *plan = &cfg->plan;
	struct plan loaded = {0};
	struct cfg_diag diag = {0};
	redisReply *stats = NULL;
	json_t *rows = NULL;
	int rc = CTL_OK;

	if (plan_file != NULL) {
		if (cfg_load_plan(plan_file, cfg, &loaded, &diag) == -1) {
			for (size_t i = 0; i < diag.nerrors; i++)
				fprintf(stderr, "%s\n", diag.errors[i]);
			cfg_diag_clear(&diag);
			return CTL_ERR;
		}
		cfg_diag_clear(&diag);
		plan = &loaded;
	}
	if (!plan->present) {
		ctl_warnx("configuration '%s' has no plan section (see leadrouted.conf(5)); or use --plan FILE",
		    cfg->path);
		return CTL_ERR;
	}
	if (actual) {
		if (ctl_connect(ctl) == -1 ||
		    (stats = ctl_cmd(ctl, "HGETALL %s" KEY_STATS, ctl->prefix)) ==
		    NULL) {
			plan_clear(&loaded);
			return ctl_fail(ctl);
		}
	}
	if (ctl->json)
		rows = json_array();
	else {
		printf("plan: %.0f days (%.1f weeks)", plan->period_days,
		    plan->period_days / 7);
		for (int k = 0; k < PLAN_NCONV; k++)
			printf("%s %s %.0f%%", k ? "," : ";", plan_conv_names[k],
			    plan->conv[k] * 100);
		printf("\n\n%-10s %10s %9s %6s %9s %9s %6s %6s %14s %9s %9s %4s %6s  %s\n",
		    "SEGMENT", "TARGET", "AVG DEAL", "DEALS", "CONTRACTS",
		    "PROPOSALS", "OPPS", "SQLS", "MQLS (exact)", "MQL/WEEK",
		    "CAP/WEEK", "REPS", "NEEDED", "VERDICT");
	}
	for (size_t i = 0; i < plan->nsegs; i++) {
		const struct plan_segment *ps = &plan->segs[i];
		struct plan_row row;
		struct actual a;
		double capacity, rep_week;
		size_t nreps;
		int seg = segment_find(&cfg->segments, ps->name);

		memset(&row, 0, sizeof(row));
		if (seg < 0 || plan_funnel(ps->target, ps->avg_deal, ps->conv,
		    row.exact, row.needed) == -1) {
			ctl_warnx("plan for segment '%s' cannot be computed",
			    ps->name);
			rc = CTL_ERR;
			continue;
		}
		segment_capacity(cfg, (size_t)seg, &nreps, &capacity, &rep_week);
		plan_capacity(&row, plan->period_days, nreps, capacity,
		    rep_week);
		if (actual)
			observe(stats, ps->name, row.needed[PLAN_DEAL], &a);
		if (ctl->json)
			json_array_append_new(rows, row_json(ps, &row,
			    actual ? &a : NULL));
		else
			print_row(ps, &row);
	}
	if (actual && !ctl->json) {
		printf("\nobserved (all time, from lr:stats): SAL = followed up; win rate = won / (won + lost)\n"
		    "%-10s %7s %9s %9s %6s %6s %10s %11s   %s\n", "SEGMENT",
		    "MQLS", "ASSIGNED", "FOLLOWED", "WON", "LOST", "MQL->SAL",
		    "SAL->DEAL", "MQLS NEEDED AT OBSERVED RATES");
		for (size_t i = 0; i < plan->nsegs; i++) {
			struct plan_row row;
			struct actual a;

			if (plan_funnel(plan->segs[i].target,
			    plan->segs[i].avg_deal, plan->segs[i].conv,
			    row.exact, row.needed) == -1)
				continue;
			observe(stats, plan->segs[i].name,
			    row.needed[PLAN_DEAL], &a);
			print_actual(&plan->segs[i], &a);
		}
	}
	if (ctl->json && ctl_print_json(json_pack("{s:f, s:o}", "period_days",
	    plan->period_days, "segments", rows)) == -1)
		rc = CTL_ERR;
	if (stats != NULL)
		freeReplyObject(stats);
	plan_clear(&loaded);
	return rc;
}
