/* plan.c - funnel arithmetic: stages needed from a revenue target, reps needed from capacity. */
#include <math.h>
#include <stdlib.h>

#include "plan.h"

const char *const plan_stage_names[PLAN_NSTAGES] = {"mql", "sql",
	"opportunity", "proposal", "contract", "deal"};
const char *const plan_conv_names[PLAN_NCONV] = {"mql_to_sql",
	"sql_to_opportunity", "opportunity_to_proposal",
	"proposal_to_contract", "contract_to_deal"};

long long
plan_ceil(double x)
{
	double r = round(x);

	if (fabs(x - r) < 1e-9)
		return (long long)r;
	return (long long)ceil(x);
}

int
plan_funnel(double target, double avg_deal, const double conv[PLAN_NCONV],
    double exact[PLAN_NSTAGES], long long needed[PLAN_NSTAGES])
{
	double deals, rate = 1.0;

	if (!(avg_deal > 0) || !(target >= 0) || !isfinite(target))
		return -1;
	for (int k = 0; k < PLAN_NCONV; k++)
		if (!(conv[k] > 0 && conv[k] <= 1))
			return -1;
	deals = (double)plan_ceil(target / avg_deal);
	exact[PLAN_DEAL] = target / avg_deal;
	needed[PLAN_DEAL] = (long long)deals;
	/* Stage k feeds the deals through conversions k .. PLAN_NCONV-1. */
	for (int k = PLAN_NCONV - 1; k >= 0; k--) {
		rate *= conv[k];
		exact[k] = deals / rate;
		needed[k] = plan_ceil(exact[k]);
	}
	return 0;
}

double
plan_rep_week(double mqls_per_rep_month, long long max_per_period,
    long long period_s)
{
	if (mqls_per_rep_month > 0)
		return mqls_per_rep_month * 12.0 / 52.0;
	if (max_per_period <= 0 || period_s <= 0)
		return -1;
	return (double)max_per_period * 604800.0 / (double)period_s;
}

void
plan_capacity(struct plan_row *row, double period_days, size_t reps,
    double capacity, double rep_week)
{
	double weeks = period_days / 7.0;

	row->mqls_per_week = weeks > 0 ? (double)row->needed[PLAN_MQL] / weeks :
	    0;
	row->reps = reps;
	row->rep_week = rep_week;
	row->capacity_per_week = capacity;
	row->reps_needed = rep_week > 0 ?
	    plan_ceil(row->mqls_per_week / rep_week) : -1;
}

void
plan_clear(struct plan *p)
{
	for (size_t i = 0; i < p->nsegs; i++)
		free(p->segs[i].name);
	free(p->segs);
	p->segs = NULL;
	p->nsegs = 0;
	p->present = false;
}
