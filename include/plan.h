/*
 * plan.h - the funnel planner: from a revenue target and the funnel's
 * conversion rates, how many deals, contracts, proposals, opportunities,
 * SQLs and MQLs a segment needs in the plan's period, and whether its reps
 * can take that many MQLs. Pure arithmetic: no I/O.
 *
 * Every stage is computed from the deals and rounded up once (never
 * rounded stage by stage): stage k needs ceil(deals / the product of the
 * conversions from k down to the deal).
 */
#ifndef LR_PLAN_H
#define LR_PLAN_H

#include <stdbool.h>
#include <stddef.h>

enum plan_stage {
	PLAN_MQL,
	PLAN_SQL,
	PLAN_OPPORTUNITY,
	PLAN_PROPOSAL,
	PLAN_CONTRACT,
	PLAN_DEAL,
	PLAN_NSTAGES
};

/* The conversions between consecutive stages: PLAN_NSTAGES - 1 of them. */
#define PLAN_NCONV (PLAN_NSTAGES - 1)

/* "mql", "sql", "opportunity", "proposal", "contract", "deal". */
extern const char *const plan_stage_names[PLAN_NSTAGES];
/* "mql_to_sql", ..., "contract_to_deal": the config keys of conversions. */
extern const char *const plan_conv_names[PLAN_NCONV];

/* One segment's target, as the plan section of the config gives it. */
struct plan_segment {
	char *name;
	double target;			/* new-business revenue in the period */
	double avg_deal;		/* average deal size */
	double conv[PLAN_NCONV];	/* fractions in (0, 1], overrides applied */
	int line;
};

struct plan {
	bool present;			/* the config has a plan section */
	double period_days;		/* the period of the targets (91: a quarter) */
	double mqls_per_rep_month;	/* 0: from the reps' max_per_period */
	double conv[PLAN_NCONV];	/* the global rates */
	struct plan_segment *segs;
	size_t nsegs;
};

/* What a segment needs, and what its reps can take. */
struct plan_row {
	double exact[PLAN_NSTAGES];	/* before rounding */
	long long needed[PLAN_NSTAGES];	/* rounded up once */
	double mqls_per_week;		/* needed[PLAN_MQL] spread over the period */
	double capacity_per_week;	/* what the reps can take; < 0: unlimited */
	double rep_week;		/* one rep's MQLs a week; < 0: unlimited */
	size_t reps;			/* reps serving the segment now */
	long long reps_needed;		/* -1: cannot tell (unlimited reps) */
};

/*
 * The funnel of one target: fills exact[] and needed[]. Returns 0, or -1
 * when avg_deal is not positive or a conversion is not in (0, 1].
 */
int plan_funnel(double target, double avg_deal, const double conv[PLAN_NCONV],
    double exact[PLAN_NSTAGES], long long needed[PLAN_NSTAGES]);

/* ceil(x), but a value within 1e-9 of an integer counts as that integer. */
long long plan_ceil(double x);

/*
 * Hold a funnel against capacity: row->needed[PLAN_MQL] over period_days,
 * against the reps serving the segment (reps of them, taking capacity MQLs
 * a week together; < 0: unlimited) where one rep takes rep_week a week
 * (< 0: unlimited). Fills mqls_per_week, capacity_per_week, rep_week, reps
 * and reps_needed (-1 when one rep's capacity is unlimited).
 */
void plan_capacity(struct plan_row *row, double period_days, size_t reps,
    double capacity, double rep_week);

/*
 * Weekly MQL capacity of one rep: mqls_per_rep_month when set (12 months
 * over 52 weeks), else max_per_period scaled from period_s to a week; < 0
 * when unlimited (max_per_period 0 and no mqls_per_rep_month).
 */
double plan_rep_week(double mqls_per_rep_month, long long max_per_period,
    long long period_s);

/* Free what the plan owns; the struct itself is the caller's. */
void plan_clear(struct plan *p);

#endif
