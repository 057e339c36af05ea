/* test_plan.c - the funnel planner's arithmetic, edge by edge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "plan.h"

static const double worked_conv[PLAN_NCONV] = {0.30, 0.70, 0.60, 0.60, 0.90};

/* The worked check: 15 / 10 / 3 deals; 221 / 147 / 45 MQLs. */
static void
test_worked_figures(void **state)
{
	static const struct {
		double target, avg;
		long long deals, sqls, mqls;
		double mql_exact;
	} cases[] = {
		{150000, 10000, 15, 67, 221, 220.5},
		{300000, 30000, 10, 45, 147, 147.0},
		{750000, 250000, 3, 14, 45, 44.1},
	};
	double exact[PLAN_NSTAGES];
	long long needed[PLAN_NSTAGES];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(plan_funnel(cases[i].target, cases[i].avg,
		    worked_conv, exact, needed), 0);
		assert_int_equal(needed[PLAN_DEAL], cases[i].deals);
		assert_int_equal(needed[PLAN_SQL], cases[i].sqls);
		assert_int_equal(needed[PLAN_MQL], cases[i].mqls);
		/* 220.5 / 147.0 / 44.1 before rounding up, to one decimal. */
		assert_true(fabs(exact[PLAN_MQL] - cases[i].mql_exact) < 0.05);
	}
	/* The stages between: small needs 17 contracts, 28 proposals, 47
	 * opportunities. */
	plan_funnel(150000, 10000, worked_conv, exact, needed);
	assert_int_equal(needed[PLAN_CONTRACT], 17);
	assert_int_equal(needed[PLAN_PROPOSAL], 28);
	assert_int_equal(needed[PLAN_OPPORTUNITY], 47);
}

/* Rounded up once from the deals, not stage by stage. */
static void
test_rounded_once(void **state)
{
	const double half[PLAN_NCONV] = {0.5, 0.5, 0.5, 0.5, 0.5};
	const double third[PLAN_NCONV] = {1, 1, 1, 1, 1.0 / 3.0};
	double exact[PLAN_NSTAGES];
	long long needed[PLAN_NSTAGES];

	(void)state;
	/* 3 deals at 1/3: 9 contracts exactly (not 10 from float noise). */
	assert_int_equal(plan_funnel(3, 1, third, exact, needed), 0);
	assert_int_equal(needed[PLAN_CONTRACT], 9);
	assert_int_equal(needed[PLAN_MQL], 9);
	/* 1 deal through five halves: 2, 4, 8, 16, 32. */
	assert_int_equal(plan_funnel(1, 1, half, exact, needed), 0);
	assert_int_equal(needed[PLAN_CONTRACT], 2);
	assert_int_equal(needed[PLAN_MQL], 32);
	/* Stage-by-stage rounding would give 4 SQLs for 2.25 -> 3... here
	 * a 0.9 rate: 1 deal needs ceil(1/0.9)=2 contracts but MQLs come
	 * from the deal: ceil(1/(0.3*0.9)) = 4, not ceil(2/0.3) = 7. */
	{
		const double c[PLAN_NCONV] = {0.3, 1, 1, 1, 0.9};

		assert_int_equal(plan_funnel(1, 1, c, exact, needed), 0);
		assert_int_equal(needed[PLAN_CONTRACT], 2);
		assert_int_equal(needed[PLAN_MQL], 4);
	}
	/* A target that is not a whole number of deals rounds deals up. */
	assert_int_equal(plan_funnel(100001, 10000, worked_conv, exact,
	    needed), 0);
	assert_int_equal(needed[PLAN_DEAL], 11);
}

/* 100% rates need no more than the deals; 0 and >100% are refused. */
static void
test_rate_edges(void **state)
{
	const double all[PLAN_NCONV] = {1, 1, 1, 1, 1};
	double bad[PLAN_NCONV] = {1, 1, 1, 1, 1};
	double exact[PLAN_NSTAGES];
	long long needed[PLAN_NSTAGES];

	(void)state;
	assert_int_equal(plan_funnel(50000, 10000, all, exact, needed), 0);
	for (int k = 0; k < PLAN_NSTAGES; k++)
		assert_int_equal(needed[k], 5);
	bad[2] = 0;
	assert_int_equal(plan_funnel(50000, 10000, bad, exact, needed), -1);
	bad[2] = 1.01;
	assert_int_equal(plan_funnel(50000, 10000, bad, exact, needed), -1);
	bad[2] = NAN;
	assert_int_equal(plan_funnel(50000, 10000, bad, exact, needed), -1);
	/* A zero target needs nothing; a zero deal size is refused. */
	assert_int_equal(plan_funnel(0, 10000, worked_conv, exact, needed), 0);
	assert_int_equal(needed[PLAN_MQL], 0);
	assert_int_equal(plan_funnel(1000, 0, worked_conv, exact, needed), -1);
	assert_int_equal(plan_funnel(-1, 10, worked_conv, exact, needed), -1);
}

static void
test_ceil(void **state)
{
	(void)state;
	assert_int_equal(plan_ceil(147.0000000001), 147);
	assert_int_equal(plan_ceil(146.9999999999), 147);
	assert_int_equal(plan_ceil(146.97), 147);
	assert_int_equal(plan_ceil(220.46), 221);
	assert_int_equal(plan_ceil(0), 0);
	assert_int_equal(plan_ceil(44.0001), 45);
}

/* One rep's weekly MQLs: per month (12/52), or max_per_period scaled. */
static void
test_rep_week(void **state)
{
	(void)state;
	assert_true(fabs(plan_rep_week(120, 0, 0) - 120.0 * 12 / 52) < 1e-9);
	assert_true(fabs(plan_rep_week(0, 30, 604800) - 30) < 1e-9);
	assert_true(fabs(plan_rep_week(0, 10, 86400) - 70) < 1e-9);
	assert_true(plan_rep_week(0, 0, 604800) < 0);	/* unlimited */
	/* mqls_per_rep_month wins over max_per_period. */
	assert_true(fabs(plan_rep_week(52, 30, 604800) - 12) < 1e-9);
}

static void
test_capacity(void **state)
{
	struct plan_row row;

	(void)state;
	memset(&row, 0, sizeof(row));
	row.needed[PLAN_MQL] = 221;
	plan_capacity(&row, 91, 3, 85, 30);
	assert_true(fabs(row.mqls_per_week - 17) < 1e-9);
	assert_true(fabs(row.capacity_per_week - 85) < 1e-9);
	assert_int_equal(row.reps, 3);
	assert_int_equal(row.reps_needed, 1);
	/* 1000 MQLs a quarter at 30 a week: 76.9/week needs 3 reps. */
	row.needed[PLAN_MQL] = 1000;
	plan_capacity(&row, 91, 2, 60, 30);
	assert_int_equal(row.reps_needed, 3);
	assert_true(row.capacity_per_week < row.mqls_per_week);
	/* Unlimited reps: no figure for reps needed. */
	plan_capacity(&row, 91, 2, -1, -1);
	assert_int_equal(row.reps_needed, -1);
	assert_true(row.capacity_per_week < 0);
}

/* The plan section: defaults, overrides, and its errors. */
static void
test_plan_config(void **state)
{
	char path[] = "/tmp/test_plan.XXXXXX";
	struct cfg_diag diag = {0};
	struct lr_config *cfg;
	FILE *f;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	assert_non_null(f = fopen(path, "w"));
	fputs("scoring = { mql_threshold = 1; rules = (); };\n"
	    "segments = ( { name = \"a\"; }, { name = \"b\"; } );\n"
	    "default_segment = \"a\";\n"
	    "reps = ( { id = \"r\"; segments = [\"a\", \"b\"]; } );\n"
	    "plan = { conversion = { mql_to_sql = 0.3; sql_to_opportunity = 0.7;"
	    " opportunity_to_proposal = 0.6; proposal_to_contract = 0.6;"
	    " contract_to_deal = 0.9; };\n"
	    "  segments = ( { name = \"a\"; target = 1000; avg_deal = 10; },\n"
	    "    { name = \"b\"; target = 5; avg_deal = 1; conversion = { mql_to_sql = 0.5; }; } ); };\n",
	    f);
	fclose(f);
	cfg = cfg_load(path, &diag);
	assert_non_null(cfg);
	assert_true(cfg->plan.present);
	assert_true(fabs(cfg->plan.period_days - 91) < 1e-9);
	assert_int_equal(cfg->plan.nsegs, 2);
	assert_true(fabs(cfg->plan.segs[0].conv[0] - 0.3) < 1e-9);
	assert_true(fabs(cfg->plan.segs[1].conv[0] - 0.5) < 1e-9);	/* override */
	assert_true(fabs(cfg->plan.segs[1].conv[4] - 0.9) < 1e-9);	/* global */
	cfg_free(cfg);
	cfg_diag_clear(&diag);

	/* Unknown segment, a rate of 0, a missing rate, no avg_deal. */
	assert_non_null(f = fopen(path, "w"));
	fputs("scoring = { mql_threshold = 1; rules = (); };\n"
	    "segments = ( { name = \"a\"; } );\n"
	    "default_segment = \"a\";\n"
	    "reps = ( { id = \"r\"; segments = [\"a\"]; } );\n"
	    "plan = { conversion = { mql_to_sql = 0; sql_to_opportunity = 0.7;"
	    " opportunity_to_proposal = 0.6; proposal_to_contract = 0.6; };\n"
	    "  segments = ( { name = \"zz\"; target = 1000; } ); };\n", f);
	fclose(f);
	assert_null(cfg = cfg_load(path, &diag));
	assert_int_equal(diag.nerrors, 4);
	assert_non_null(strstr(diag.errors[0], "'plan.conversion.mql_to_sql' must be a fraction above 0 and at most 1"));
	assert_non_null(strstr(diag.errors[1], "'plan.conversion.contract_to_deal' is required"));
	assert_non_null(strstr(diag.errors[2], "'plan.segments.[0].name' names unknown segment \"zz\""));
	assert_non_null(strstr(diag.errors[3], "'plan.segments.[0].avg_deal' is required"));
	cfg_diag_clear(&diag);
	unlink(path);
}

/* The example configuration carries the worked figures. */
static void
test_example_plan(void **state)
{
	struct cfg_diag diag = {0};
	struct lr_config *cfg = cfg_load("conf/leadrouted.conf", &diag);
	double exact[PLAN_NSTAGES];
	long long needed[PLAN_NSTAGES];
	const long long mqls[3] = {221, 147, 45};

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->plan.nsegs, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(plan_funnel(cfg->plan.segs[i].target,
		    cfg->plan.segs[i].avg_deal, cfg->plan.segs[i].conv, exact,
		    needed), 0);
		assert_int_equal(needed[PLAN_MQL], mqls[i]);
	}
	cfg_free(cfg);
	cfg_diag_clear(&diag);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_figures),
		cmocka_unit_test(test_rounded_once),
		cmocka_unit_test(test_rate_edges),
		cmocka_unit_test(test_ceil),
		cmocka_unit_test(test_rep_week),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_plan_config),
		cmocka_unit_test(test_example_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
