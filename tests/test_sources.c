/* test_sources.c - per-source rates, ranking and the sunsetting flag. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources.h"

static const long long bounds[] = {30000, 60000, 300000};

static void
add(struct sources *s, const char *name, const char *what, long long n)
{
	char f[128];

	snprintf(f, sizeof(f), "%s|%s", name, what);
	assert_int_equal(sources_add(s, f, n), 0);
}

static void
test_rates(void **state)
{
	struct sources s = {0};

	(void)state;
	add(&s, "webinar", "received", 100);
	add(&s, "webinar", "mql", 40);
	add(&s, "webinar", "assigned", 40);
	add(&s, "webinar", "rejected", 10);
	add(&s, "webinar", "followed_up_in_sla", 30);
	add(&s, "webinar", "won", 3);
	add(&s, "webinar", "lost", 9);
	add(&s, "webinar", "fu:1", 5);	/* <= 30 s */
	add(&s, "webinar", "fu:2", 10);	/* <= 60 s */
	add(&s, "webinar", "fu:3", 5);
	/* Fields that are not source counters are ignored. */
	assert_int_equal(sources_add(&s, "nobar", 5), 0);
	assert_int_equal(sources_add(&s, "|received", 5), 0);
	add(&s, "webinar", "unknown_stage", 7);
	sources_assess(&s, bounds, 3, 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].name, "webinar");
	assert_true(fabs(s.v[0].mql_rate - 0.4) < 1e-9);
	assert_true(fabs(s.v[0].acceptance - 0.75) < 1e-9);
	assert_true(fabs(s.v[0].sla_met - 0.75) < 1e-9);
	assert_true(fabs(s.v[0].win_rate - 0.25) < 1e-9);
	/* 20 follow-ups: the 10th falls in the <= 60 s bucket. */
	assert_true(fabs(s.v[0].median_fu_s - 60) < 1e-9);
	assert_false(s.v[0].sunset);	/* alone: nothing to compare with */
	sources_clear(&s);
}

/*
 * Many names, fields in any order: each name is one source whose counts
 * add up, through the index's growth and after an assessment reordered
 * the sources; names that share a prefix stay apart.
 */
static void
test_many_names(void **state)
{
	struct sources s = {0};
	char name[32];

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 5000; i++) {
			snprintf(name, sizeof(name), "src%d", i);
			add(&s, name, "received", i + 1);
			add(&s, "src", "mql", 1);
		}
		if (round == 0)
			sources_assess(&s, bounds, 3, 0);
	}
	assert_int_equal(s.n, 5001);
	for (size_t k = 0; k < s.n; k++) {
		if (strcmp(s.v[k].name, "src") == 0) {
			assert_int_equal(s.v[k].mql, 10000);
			assert_int_equal(s.v[k].received, 0);
		} else {
			int i = atoi(s.v[k].name + 3);

			assert_int_equal(s.v[k].received, 2 * (i + 1));
		}
	}
	sources_clear(&s);
}

/* Nothing to divide gives -1, not 0 and not a division by zero. */
static void
test_empty_measures(void **state)
{
	struct sources s = {0};

	(void)state;
	add(&s, "ads", "received", 10);
	add(&s, "x", "received", 1);
	sources_assess(&s, bounds, 3, 0);
	assert_true(s.v[0].acceptance < 0);
	assert_true(s.v[0].sla_met < 0);
	assert_true(s.v[0].win_rate < 0);
	assert_true(s.v[0].median_fu_s == -1);
	assert_true(fabs(s.v[0].mql_rate) < 1e-9);
	sources_clear(&s);
	/* No sources at all. */
	sources_assess(&s, bounds, 3, 0);
	assert_int_equal(s.n, 0);
}

/* Ranked by volume, then name; the big, poor source is flagged. */
static void
test_rank_and_sunset(void **state)
{
	struct sources s = {0};

	(void)state;
	/* ads: high volume, worst on every measure */
	add(&s, "ads", "received", 500);
	add(&s, "ads", "mql", 50);
	add(&s, "ads", "assigned", 50);
	add(&s, "ads", "rejected", 40);
	add(&s, "ads", "followed_up_in_sla", 5);
	add(&s, "ads", "won", 0);
	add(&s, "ads", "lost", 10);
	/* partner: high volume, good */
	add(&s, "partner", "received", 400);
	add(&s, "partner", "mql", 300);
	add(&s, "partner", "assigned", 300);
	add(&s, "partner", "rejected", 10);
	add(&s, "partner", "followed_up_in_sla", 250);
	add(&s, "partner", "won", 30);
	add(&s, "partner", "lost", 30);
	/* events and zzz: small, middling */
	add(&s, "events", "received", 50);
	add(&s, "events", "mql", 20);
	add(&s, "events", "assigned", 20);
	add(&s, "events", "rejected", 5);
	add(&s, "events", "followed_up_in_sla", 10);
	add(&s, "events", "won", 2);
	add(&s, "events", "lost", 5);
	add(&s, "zzz", "received", 50);
	sources_assess(&s, bounds, 3, 20);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.v[0].name, "ads");
	assert_string_equal(s.v[1].name, "partner");
	assert_string_equal(s.v[2].name, "events");	/* tie at 50: by name */
	assert_string_equal(s.v[3].name, "zzz");
	assert_true(s.v[0].sunset);
	assert_false(s.v[1].sunset);
	assert_false(s.v[2].sunset);	/* below the median volume */
	assert_false(s.v[3].sunset);
	sources_clear(&s);
	/* Below min_volume nothing is flagged. */
	add(&s, "ads", "received", 10);
	add(&s, "ads", "mql", 1);
	add(&s, "good", "received", 5);
	add(&s, "good", "mql", 5);
	sources_assess(&s, bounds, 3, 20);
	assert_false(s.v[0].sunset);
	sources_clear(&s);
}

/* A median beyond the last bound is reported as such (-2). */
static void
test_median_beyond(void **state)
{
	struct sources s = {0};

	(void)state;
	add(&s, "slow", "fu:1", 1);
	add(&s, "slow", "fu:4", 3);
	sources_assess(&s, bounds, 3, 0);
	assert_true(s.v[0].median_fu_s == -2);
	sources_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_many_names),
		cmocka_unit_test(test_empty_measures),
		cmocka_unit_test(test_rank_and_sunset),
		cmocka_unit_test(test_median_beyond),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
