/* test_calib.c - threshold calibration: precision, verdicts and reasons. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calib.h"

#define ASSERT_NEAR(x, y) assert_true(fabs((x) - (y)) < 1e-9)

static void
add(struct calib *c, const char *seg, long long score, const char *what,
    long long n)
{
	char f[160];

	snprintf(f, sizeof(f), "%s|%lld|%s", seg, score, what);
	assert_int_equal(calib_add(c, f, n), 0);
}

/* acc accepted and rej rejected MQLs at a score. */
static void
outcomes(struct calib *c, const char *seg, long long score, long long acc,
    long long rej)
{
	add(c, seg, score, "a", acc);
	add(c, seg, score, "r", rej);
}

static void
reason(struct calib *c, const char *seg, const char *text, long long n)
{
	char f[512];

	snprintf(f, sizeof(f), "%s|%s", seg, text);
	assert_int_equal(calib_add_reason(c, f, n), 0);
}

static const struct calib_segment *
seg(const struct calib *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	fail_msg("no segment '%s'", name);
	return NULL;
}

/*
 * web: 40: 5 accepted, 5 rejected; 60: 8 and 2; 80: 4 and 0, 1 won and 3
 * lost.
 */
static void
fill_web(struct calib *c)
{
	outcomes(c, "web", 40, 5, 5);
	outcomes(c, "web", 60, 8, 2);
	outcomes(c, "web", 80, 4, 0);
	add(c, "web", 80, "w", 1);
	add(c, "web", 80, "l", 3);
}

/* Precision and win rate count only the scores >= the threshold. */
static void
test_precision(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	fill_web(&c);
	calib_assess(&c, 60, 0.2, 10);
	s = seg(&c, "web");
	/* >= 60: accepted 8 + 4 = 12, rejected 2 + 0 = 2. */
	assert_int_equal(s->accepted, 12);
	assert_int_equal(s->rejected, 2);
	ASSERT_NEAR(s->precision, 12.0 / 14.0);
	assert_int_equal(s->won, 1);
	assert_int_equal(s->lost, 3);
	ASSERT_NEAR(s->win_rate, 0.25);
	/* At 41: the same, 40 is below. At 40: 17 of 24. */
	calib_assess(&c, 41, 0.2, 10);
	ASSERT_NEAR(seg(&c, "web")->precision, 12.0 / 14.0);
	calib_assess(&c, 40, 0.2, 10);
	s = seg(&c, "web");
	assert_int_equal(s->accepted, 17);
	assert_int_equal(s->rejected, 7);
	ASSERT_NEAR(s->precision, 17.0 / 24.0);
	calib_clear(&c);
}

/* The current threshold is the lowest feasible one: keep it. */
static void
test_keep(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	fill_web(&c);
	/*
	 * >= 40: 7 of 24 rejected, 0.29 > 0.2; >= 60: 2 of 14, 0.14, and
	 * 14 >= 10 decided; >= 80: 4 decided < 10. Lowest feasible: 60.
	 */
	calib_assess(&c, 60, 0.2, 10);
	s = seg(&c, "web");
	assert_int_equal(s->verdict, CALIB_KEEP);
	assert_int_equal(s->suggested, 60);
	assert_int_equal(s->s_accepted, 12);
	assert_int_equal(s->s_rejected, 2);
	ASSERT_NEAR(s->s_reject_rate, 2.0 / 14.0);
	/* Sorted by score after assess. */
	assert_int_equal(s->n, 3);
	assert_int_equal(s->v[0].score, 40);
	assert_int_equal(s->v[1].score, 60);
	assert_int_equal(s->v[2].score, 80);
	calib_clear(&c);
}

/* Raising picks the lowest feasible score, not the one with least rate. */
static void
test_raise_lowest_feasible(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	outcomes(&c, "ads", 90, 4, 0);
	outcomes(&c, "ads", 50, 3, 7);
	outcomes(&c, "ads", 80, 10, 1);
	outcomes(&c, "ads", 60, 5, 5);
	outcomes(&c, "ads", 70, 6, 2);
	/*
	 * >= 50: 15 of 43 (0.35); >= 60: 8 of 33 (0.24); >= 70: 3 of 23
	 * (0.13) feasible; >= 80: 1 of 15 (0.07) feasible too; >= 90: 4
	 * decided < 5.
	 */
	calib_assess(&c, 50, 0.2, 5);
	s = seg(&c, "ads");
	assert_int_equal(s->verdict, CALIB_RAISE);
	assert_int_equal(s->suggested, 70);
	assert_int_equal(s->s_accepted, 20);
	assert_int_equal(s->s_rejected, 3);
	ASSERT_NEAR(s->s_reject_rate, 3.0 / 23.0);
	/* The current-threshold fields stay at 50. */
	assert_int_equal(s->accepted, 28);
	assert_int_equal(s->rejected, 15);
	/* From 55, between 50 and 60: still raise to 70. */
	calib_assess(&c, 55, 0.2, 5);
	assert_int_equal(seg(&c, "ads")->verdict, CALIB_RAISE);
	assert_int_equal(seg(&c, "ads")->suggested, 70);
	calib_clear(&c);
}

/* Lowering goes only to a score with outcomes. */
static void
test_lower_only_where_outcomes(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	add(&c, "web", 30, "w", 2);	/* a score without decided MQLs */
	add(&c, "web", 35, "l", 1);
	outcomes(&c, "web", 40, 5, 0);
	outcomes(&c, "web", 50, 4, 1);
	outcomes(&c, "web", 70, 10, 1);
	/*
	 * >= 40: 2 of 21 (0.095) feasible, 21 >= 5. 30 and 35 have no
	 * decided MQLs, so 40 is the lowest candidate.
	 */
	calib_assess(&c, 70, 0.2, 5);
	s = seg(&c, "web");
	assert_int_equal(s->verdict, CALIB_LOWER);
	assert_int_equal(s->suggested, 40);
	assert_int_equal(s->s_accepted, 19);
	assert_int_equal(s->s_rejected, 2);
	ASSERT_NEAR(s->s_reject_rate, 2.0 / 21.0);
	assert_int_equal(s->accepted, 10);
	assert_int_equal(s->rejected, 1);
	/* A threshold above every outcome lowers to 40 as well. */
	calib_assess(&c, 100, 0.2, 5);
	s = seg(&c, "web");
	assert_int_equal(s->verdict, CALIB_LOWER);
	assert_int_equal(s->suggested, 40);
	assert_int_equal(s->accepted, 0);
	ASSERT_NEAR(s->precision, -1);
	/* At 30 (below 40, same decided set): keep, not "lower to 40". */
	calib_assess(&c, 30, 0.2, 5);
	s = seg(&c, "web");
	assert_int_equal(s->verdict, CALIB_KEEP);
	assert_int_equal(s->suggested, 30);
	calib_clear(&c);
}

/* A threshold between two scores with the same decided set is kept. */
static void
test_between_scores_keep(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	outcomes(&c, "web", 40, 1, 4);
	outcomes(&c, "web", 80, 9, 1);
	/*
	 * >= 40: 5 of 15 (0.33) infeasible; >= 80: 1 of 10 (0.1). At 60
	 * the decided set is 80's: keep 60, do not suggest 80.
	 */
	calib_assess(&c, 60, 0.2, 5);
	s = seg(&c, "web");
	assert_int_equal(s->verdict, CALIB_KEEP);
	assert_int_equal(s->suggested, 60);
	assert_int_equal(s->s_accepted, 9);
	assert_int_equal(s->s_rejected, 1);
	ASSERT_NEAR(s->s_reject_rate, 0.1);
	/* With a looser limit 40 is feasible: lower to it. */
	calib_assess(&c, 60, 0.4, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_LOWER);
	assert_int_equal(seg(&c, "web")->suggested, 40);
	/* Below every score, 40 feasible: keep the threshold itself. */
	calib_assess(&c, 10, 0.4, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	assert_int_equal(seg(&c, "web")->suggested, 10);
	assert_int_equal(seg(&c, "web")->s_accepted, 10);
	assert_int_equal(seg(&c, "web")->s_rejected, 5);
	/* At 40 itself, with the strict limit: raise to 80. */
	calib_assess(&c, 40, 0.2, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_RAISE);
	assert_int_equal(seg(&c, "web")->suggested, 80);
	calib_clear(&c);
}

/* Enough outcomes but no feasible threshold, against too few outcomes. */
static void
test_unreachable_vs_no_data(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	outcomes(&c, "web", 50, 1, 4);
	outcomes(&c, "web", 60, 1, 4);
	reason(&c, "empty", "spam", 1);	/* a segment without outcomes */
	/* >= 50: 8 of 10 rejected; >= 60: 4 of 5. Neither <= 0.2. */
	calib_assess(&c, 55, 0.2, 5);
	s = seg(&c, "web");
	assert_int_equal(s->verdict, CALIB_UNREACHABLE);
	assert_int_equal(s->suggested, 55);
	assert_int_equal(s->s_accepted, 1);	/* at 55: score 60 only */
	assert_int_equal(s->s_rejected, 4);
	ASSERT_NEAR(s->s_reject_rate, 0.8);
	s = seg(&c, "empty");
	assert_int_equal(s->verdict, CALIB_NO_DATA);
	assert_int_equal(s->suggested, 55);
	assert_int_equal(s->s_accepted, 0);
	assert_int_equal(s->s_rejected, 0);
	ASSERT_NEAR(s->s_reject_rate, -1);
	ASSERT_NEAR(s->precision, -1);
	ASSERT_NEAR(s->win_rate, -1);
	/* Exactly 10 decided, min 10: unreachable; min 11: no data. */
	calib_assess(&c, 55, 0.2, 10);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_UNREACHABLE);
	calib_assess(&c, 55, 0.2, 11);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_NO_DATA);
	/* 10 decided in all < 20: no data, not unreachable. */
	calib_assess(&c, 55, 0.2, 20);
	s = seg(&c, "web");
	assert_int_equal(s->verdict, CALIB_NO_DATA);
	assert_int_equal(s->suggested, 55);
	assert_int_equal(s->s_rejected, 4);
	ASSERT_NEAR(s->s_reject_rate, 0.8);
	/* Above every score: nothing decided at the threshold. */
	calib_assess(&c, 100, 0.2, 20);
	s = seg(&c, "web");
	assert_int_equal(s->verdict, CALIB_NO_DATA);
	assert_int_equal(s->suggested, 100);
	ASSERT_NEAR(s->s_reject_rate, -1);
	calib_assess(&c, 100, 0.2, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_UNREACHABLE);
	ASSERT_NEAR(seg(&c, "web")->s_reject_rate, -1);
	calib_clear(&c);
}

/* Exactly min_outcomes decided is enough; one fewer is not. */
static void
test_min_outcomes_boundary(void **state)
{
	struct calib c = {0};

	(void)state;
	outcomes(&c, "web", 50, 4, 1);
	outcomes(&c, "web", 60, 10, 0);
	/* >= 50: 1 of 15 (0.07); >= 60: 0 of 10. */
	calib_assess(&c, 60, 0.2, 10);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_LOWER);
	assert_int_equal(seg(&c, "web")->suggested, 50);
	calib_assess(&c, 60, 0.2, 15);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_LOWER);
	assert_int_equal(seg(&c, "web")->s_accepted, 14);
	calib_assess(&c, 60, 0.2, 16);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_NO_DATA);
	/*
	 * At a limit of 0 only >= 60 is feasible, with its 10: min 10 keeps
	 * 60; min 11 does not, though 15 are decided: unreachable.
	 */
	calib_assess(&c, 60, 0.0, 10);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	calib_assess(&c, 60, 0.0, 11);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_UNREACHABLE);
	calib_clear(&c);
}

/* min_outcomes < 1 is 1: nothing decided is never enough. */
static void
test_min_outcomes_at_least_one(void **state)
{
	struct calib c = {0};

	(void)state;
	add(&c, "web", 60, "w", 3);
	calib_assess(&c, 60, 1.0, 0);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_NO_DATA);
	calib_assess(&c, 60, 1.0, -5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_NO_DATA);
	assert_int_equal(c.all.verdict, CALIB_NO_DATA);
	add(&c, "web", 60, "a", 1);
	calib_assess(&c, 60, 1.0, 0);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	calib_clear(&c);
}

/* A rate exactly at the limit meets it, whatever the float rounding. */
static void
test_rate_at_limit(void **state)
{
	struct calib c = {0};

	(void)state;
	outcomes(&c, "web", 50, 6, 4);
	outcomes(&c, "web", 60, 10, 0);
	/* >= 50: 4 of 20 = 0.2 exactly. */
	calib_assess(&c, 60, 0.2, 1);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_LOWER);
	assert_int_equal(seg(&c, "web")->suggested, 50);
	ASSERT_NEAR(seg(&c, "web")->s_reject_rate, 0.2);
	calib_assess(&c, 60, 0.19, 1);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	calib_clear(&c);
	/* 29 of 100 at 0.29, though 0.29 * 100 is 28.999999999999996. */
	outcomes(&c, "web", 50, 71, 29);
	calib_assess(&c, 60, 0.29, 1);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_LOWER);
	assert_int_equal(seg(&c, "web")->suggested, 50);
	calib_assess(&c, 60, 0.28, 1);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_UNREACHABLE);
	calib_clear(&c);
	/* 29 of 50 at 0.58 (0.58 * 50 is 28.999999999999996). */
	outcomes(&c, "web", 50, 21, 29);
	calib_assess(&c, 50, 0.58, 1);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	ASSERT_NEAR(seg(&c, "web")->s_reject_rate, 0.58);
	calib_assess(&c, 50, 0.57, 1);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_UNREACHABLE);
	calib_clear(&c);
}

/* A limit of 0 allows no rejection; 1 allows all; outside is clamped. */
static void
test_rate_zero_and_one(void **state)
{
	struct calib c = {0};

	(void)state;
	outcomes(&c, "web", 50, 5, 1);
	outcomes(&c, "web", 60, 5, 0);
	outcomes(&c, "web", 70, 5, 0);
	/* >= 50: 1 of 16; >= 60: 0 of 10; >= 70: 0 of 5. */
	calib_assess(&c, 50, 0.0, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_RAISE);
	assert_int_equal(seg(&c, "web")->suggested, 60);
	ASSERT_NEAR(seg(&c, "web")->s_reject_rate, 0);
	calib_assess(&c, 50, -0.5, 5);	/* as 0 */
	assert_int_equal(seg(&c, "web")->verdict, CALIB_RAISE);
	assert_int_equal(seg(&c, "web")->suggested, 60);
	calib_assess(&c, 50, 1.0, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	calib_assess(&c, 70, 1.0, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_LOWER);
	assert_int_equal(seg(&c, "web")->suggested, 50);
	calib_assess(&c, 70, 2.5, 5);	/* as 1 */
	assert_int_equal(seg(&c, "web")->verdict, CALIB_LOWER);
	assert_int_equal(seg(&c, "web")->suggested, 50);
	calib_clear(&c);
	/* At 1 even all rejected is feasible. */
	outcomes(&c, "web", 50, 0, 5);
	calib_assess(&c, 50, 1.0, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	ASSERT_NEAR(seg(&c, "web")->s_reject_rate, 1);
	ASSERT_NEAR(seg(&c, "web")->precision, 0);
	calib_clear(&c);
}

/* Negative scores parse, sort and can be suggested. */
static void
test_negative_scores(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	assert_int_equal(calib_add(&c, "web|10|a", 5), 0);
	assert_int_equal(calib_add(&c, "web|-15|a", 2), 0);
	assert_int_equal(calib_add(&c, "web|-15|r", 3), 0);
	assert_int_equal(calib_add(&c, "web|-5|a", 4), 0);
	assert_int_equal(calib_add(&c, "web|-5|r", 1), 0);
	/*
	 * >= -15: 4 of 15 (0.27); >= -5: 1 of 10 (0.1) feasible; >= 10: 0
	 * of 5 feasible. The threshold 0 sits at 10: lower to -5.
	 */
	calib_assess(&c, 0, 0.2, 5);
	s = seg(&c, "web");
	assert_int_equal(s->n, 3);
	assert_int_equal(s->v[0].score, -15);
	assert_int_equal(s->v[1].score, -5);
	assert_int_equal(s->v[2].score, 10);
	assert_int_equal(s->verdict, CALIB_LOWER);
	assert_int_equal(s->suggested, -5);
	assert_int_equal(s->s_accepted, 9);
	assert_int_equal(s->s_rejected, 1);
	assert_int_equal(s->accepted, 5);
	ASSERT_NEAR(s->precision, 1);
	/* From -20, below every score: raise to -5. */
	calib_assess(&c, -20, 0.2, 5);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_RAISE);
	assert_int_equal(seg(&c, "web")->suggested, -5);
	calib_clear(&c);
}

/* Accepted is a - ra, never below 0. */
static void
test_ra_clamp(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	add(&c, "web", 60, "a", 2);
	add(&c, "web", 60, "ra", 5);
	add(&c, "web", 60, "r", 5);
	add(&c, "web", 70, "a", 10);
	add(&c, "web", 70, "ra", 2);
	add(&c, "web", 70, "r", 2);
	calib_assess(&c, 60, 0.5, 1);
	s = seg(&c, "web");
	/* 60: max(0, 2 - 5) = 0, not -3; 70: 10 - 2 = 8. */
	assert_int_equal(s->accepted, 8);
	assert_int_equal(s->rejected, 7);
	ASSERT_NEAR(s->precision, 8.0 / 15.0);
	/* >= 60: 7 of 15 (0.47) <= 0.5: keep. */
	assert_int_equal(s->verdict, CALIB_KEEP);
	assert_int_equal(s->s_accepted, 8);
	/* The raw counts are kept as counted. */
	assert_int_equal(s->v[0].a, 2);
	assert_int_equal(s->v[0].ra, 5);
	calib_clear(&c);
	/* A score with only a = ra has nothing decided: not a candidate. */
	add(&c, "web", 40, "a", 3);
	add(&c, "web", 40, "ra", 3);
	outcomes(&c, "web", 60, 5, 0);
	calib_assess(&c, 60, 0.0, 1);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	assert_int_equal(seg(&c, "web")->suggested, 60);
	calib_clear(&c);
}

/* The win rate at the threshold; -1 without closes. */
static void
test_win_rate(void **state)
{
	struct calib c = {0};

	(void)state;
	add(&c, "web", 40, "w", 5);
	add(&c, "web", 40, "l", 5);
	add(&c, "web", 60, "w", 3);
	add(&c, "web", 60, "l", 1);
	add(&c, "ads", 60, "a", 4);
	calib_assess(&c, 50, 0.2, 1);
	assert_int_equal(seg(&c, "web")->won, 3);
	assert_int_equal(seg(&c, "web")->lost, 1);
	ASSERT_NEAR(seg(&c, "web")->win_rate, 0.75);
	ASSERT_NEAR(seg(&c, "web")->precision, -1);	/* no a or r */
	assert_int_equal(seg(&c, "web")->verdict, CALIB_NO_DATA);
	ASSERT_NEAR(seg(&c, "ads")->win_rate, -1);
	assert_int_equal(seg(&c, "ads")->won, 0);
	/* all: 3 won, 1 lost at >= 50. */
	ASSERT_NEAR(c.all.win_rate, 0.75);
	calib_assess(&c, 40, 0.2, 1);
	ASSERT_NEAR(seg(&c, "web")->win_rate, 8.0 / 14.0);
	/* Only losses: 0, not -1. */
	calib_clear(&c);
	add(&c, "web", 60, "l", 2);
	calib_assess(&c, 50, 0.2, 1);
	ASSERT_NEAR(seg(&c, "web")->win_rate, 0);
	calib_clear(&c);
}

/* Fields that do not parse are ignored without creating anything. */
static void
test_malformed_ignored(void **state)
{
	static const char *const bad[] = {
		"nobar", "web|60", "web|60a", "web|6x|a", "web||a", "web|-|a",
		"web|+|a", "web| 60|a", "web|60 |a", "web|0x10|a", "web|6.0|a",
		"|60|a", "web|60|x", "web|60|", "web|60|aa", "web|60|a|b",
		"web|60|A", "web|60| a", "",
		"web|9223372036854775808|a", "web|-9223372036854775809|a",
		"web|99999999999999999999|a",
		/* 65 bytes of segment */
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaa|60|a"),
	};
	static const char *const bad_reasons[] = {
		"nobar", "|spam", "web|", "",
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaa|spam"),
	};
	struct calib c = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(calib_add(&c, bad[i], 1), 0);
	for (size_t i = 0; i < sizeof(bad_reasons) / sizeof(bad_reasons[0]);
	    i++)
		assert_int_equal(calib_add_reason(&c, bad_reasons[i], 1), 0);
	assert_int_equal(c.n, 0);
	calib_assess(&c, 60, 0.2, 1);
	assert_int_equal(c.all.n, 0);
	assert_int_equal(c.all.nreasons, 0);
	assert_int_equal(c.all.verdict, CALIB_NO_DATA);

	/* 64 bytes is a segment; the extreme scores and "+" parse. */
	assert_int_equal(calib_add(&c,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaa|60|a", 1), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(strlen(c.v[0].name), 64);
	assert_int_equal(calib_add(&c, "web|9223372036854775807|a", 1), 0);
	assert_int_equal(calib_add(&c, "web|-9223372036854775808|a", 1), 0);
	assert_int_equal(calib_add(&c, "web|+7|w", 1), 0);
	assert_int_equal(calib_add(&c, "web|-0|l", 1), 0);
	assert_int_equal(calib_add(&c, "web|007|l", 1), 0);
	calib_assess(&c, 0, 0.2, 1);
	assert_int_equal(c.n, 2);
	assert_int_equal(seg(&c, "web")->n, 4);
	assert_int_equal(seg(&c, "web")->v[0].score, LLONG_MIN);
	assert_int_equal(seg(&c, "web")->v[1].score, 0);
	assert_int_equal(seg(&c, "web")->v[2].score, 7);
	assert_int_equal(seg(&c, "web")->v[2].w, 1);
	assert_int_equal(seg(&c, "web")->v[2].l, 1);
	assert_int_equal(seg(&c, "web")->v[3].score, LLONG_MAX);
	calib_clear(&c);
}

/* "all" merges the segments by score; assessing twice changes nothing. */
static void
test_all_merges(void **state)
{
	struct calib c = {0};

	(void)state;
	outcomes(&c, "web", 50, 4, 1);
	outcomes(&c, "web", 60, 3, 0);
	add(&c, "web", 60, "w", 1);
	outcomes(&c, "ads", 60, 2, 3);
	add(&c, "ads", 60, "l", 1);
	outcomes(&c, "ads", 70, 5, 0);
	/*
	 * all: 50: 4/1; 60: 5/3, 1 won, 1 lost; 70: 5/0. >= 50: 4 of 18
	 * (0.22); >= 60: 3 of 13 (0.23); >= 70: 0 of 5: raise to 70.
	 */
	for (int k = 0; k < 2; k++) {
		calib_assess(&c, 60, 0.2, 5);
		assert_int_equal(c.n, 2);
		assert_string_equal(c.v[0].name, "web");	/* first seen */
		assert_string_equal(c.v[1].name, "ads");
		assert_string_equal(c.all.name, "all");
		assert_int_equal(c.all.n, 3);
		assert_int_equal(c.all.v[0].score, 50);
		assert_int_equal(c.all.v[1].score, 60);
		assert_int_equal(c.all.v[1].a, 5);
		assert_int_equal(c.all.v[1].r, 3);
		assert_int_equal(c.all.v[1].w, 1);
		assert_int_equal(c.all.v[1].l, 1);
		assert_int_equal(c.all.v[2].score, 70);
		assert_int_equal(c.all.accepted, 10);
		assert_int_equal(c.all.rejected, 3);
		ASSERT_NEAR(c.all.precision, 10.0 / 13.0);
		ASSERT_NEAR(c.all.win_rate, 0.5);
		assert_int_equal(c.all.verdict, CALIB_RAISE);
		assert_int_equal(c.all.suggested, 70);
		assert_int_equal(c.all.s_accepted, 5);
		assert_int_equal(c.all.s_rejected, 0);
		/* web alone: >= 50: 1 of 8 (0.125) feasible: lower to 50. */
		assert_int_equal(seg(&c, "web")->verdict, CALIB_LOWER);
		assert_int_equal(seg(&c, "web")->suggested, 50);
		/* ads: >= 60: 3 of 10 (0.3); >= 70: 0 of 5: raise. */
		assert_int_equal(seg(&c, "ads")->verdict, CALIB_RAISE);
		assert_int_equal(seg(&c, "ads")->suggested, 70);
	}
	/* New counts after an assess are merged in the next one. */
	outcomes(&c, "ads", 50, 20, 0);
	calib_assess(&c, 60, 0.2, 5);
	/* all >= 50: 4 of 38 (0.105): lower to 50. */
	assert_int_equal(c.all.n, 3);
	assert_int_equal(c.all.v[0].a, 24);
	assert_int_equal(c.all.verdict, CALIB_LOWER);
	assert_int_equal(c.all.suggested, 50);
	assert_int_equal(c.all.s_accepted, 34);
	assert_int_equal(c.all.s_rejected, 4);
	calib_clear(&c);
}

/* Reasons: merged by text, most frequent first, then by text. */
static void
test_reasons_sorted(void **state)
{
	struct calib c = {0};
	const struct calib_segment *s;

	(void)state;
	reason(&c, "web", "too small", 3);
	reason(&c, "web", "spam", 5);
	reason(&c, "web", "no budget", 3);
	reason(&c, "web", "spam", 2);
	reason(&c, "web", "a|b", 1);	/* after the first bar, bars stay */
	reason(&c, "ads", "no budget", 4);
	reason(&c, "ads", "zzz", 1);
	calib_assess(&c, 60, 0.2, 1);
	s = seg(&c, "web");
	assert_int_equal(s->nreasons, 4);
	assert_string_equal(s->reasons[0].text, "spam");
	assert_int_equal(s->reasons[0].n, 7);
	assert_string_equal(s->reasons[1].text, "no budget");	/* 3, tie */
	assert_string_equal(s->reasons[2].text, "too small");
	assert_string_equal(s->reasons[3].text, "a|b");
	assert_int_equal(s->reasons[3].n, 1);
	/* all: no budget 7 and spam 7 tie, then too small 3, a|b, zzz. */
	for (int k = 0; k < 2; k++) {
		assert_int_equal(c.all.nreasons, 5);
		assert_string_equal(c.all.reasons[0].text, "no budget");
		assert_int_equal(c.all.reasons[0].n, 7);
		assert_string_equal(c.all.reasons[1].text, "spam");
		assert_int_equal(c.all.reasons[1].n, 7);
		assert_string_equal(c.all.reasons[2].text, "too small");
		assert_string_equal(c.all.reasons[3].text, "a|b");
		assert_string_equal(c.all.reasons[4].text, "zzz");
		calib_assess(&c, 60, 0.2, 1);
	}
	/* Segments with only reasons have no data. */
	assert_int_equal(seg(&c, "ads")->verdict, CALIB_NO_DATA);
	calib_clear(&c);
}

/* A reason of cnt x's followed by tail, cut to at most 128 bytes. */
static size_t
cut_len(struct calib *c, size_t cnt, const char *tail)
{
	char text[300];

	memset(text, 'x', cnt);
	strcpy(text + cnt, tail);
	calib_clear(c);
	reason(c, "web", text, 1);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->v[0].nreasons, 1);
	/* What is kept is a prefix of the text. */
	assert_memory_equal(c->v[0].reasons[0].text, text,
	    strlen(c->v[0].reasons[0].text));
	return strlen(c->v[0].reasons[0].text);
}

/* Reasons are cut to 128 bytes, never inside a UTF-8 character. */
static void
test_reason_truncation(void **state)
{
	struct calib c = {0};
	char a[200], b[200];

	(void)state;
	assert_int_equal(cut_len(&c, 128, ""), 128);
	assert_int_equal(cut_len(&c, 130, ""), 128);
	/* 127 + é (2 bytes) = 129: é would be cut, so 127. */
	assert_int_equal(cut_len(&c, 127, "\xc3\xa9"), 127);
	/* 126 + é = 128: kept whole. */
	assert_int_equal(cut_len(&c, 126, "\xc3\xa9"), 128);
	/* 126 + € (3 bytes) = 129: 126. 127 + € = 130: 127. */
	assert_int_equal(cut_len(&c, 126, "\xe2\x82\xac"), 126);
	assert_int_equal(cut_len(&c, 127, "\xe2\x82\xac"), 127);
	assert_int_equal(cut_len(&c, 125, "\xe2\x82\xac"), 128);
	/* 125 + 😀 (4 bytes) = 129: 125; 124 + 😀 = 128: whole. */
	assert_int_equal(cut_len(&c, 125, "\xf0\x9f\x98\x80"), 125);
	assert_int_equal(cut_len(&c, 124, "\xf0\x9f\x98\x80"), 128);
	/* A character right after the 128th byte does not matter. */
	assert_int_equal(cut_len(&c, 128, "\xc3\xa9"), 128);
	/* Reasons equal in their first 128 bytes merge. */
	calib_clear(&c);
	memset(a, 'y', 150);
	a[150] = '\0';
	memcpy(b, a, sizeof(b));
	b[140] = 'z';
	reason(&c, "web", a, 2);
	reason(&c, "web", b, 3);
	calib_assess(&c, 60, 0.2, 1);
	assert_int_equal(seg(&c, "web")->nreasons, 1);
	assert_int_equal(seg(&c, "web")->reasons[0].n, 5);
	assert_int_equal(c.all.nreasons, 1);
	assert_int_equal(c.all.reasons[0].n, 5);
	calib_clear(&c);
}

/* After calib_clear the structure is empty and can be used again. */
static void
test_clear_reuse(void **state)
{
	struct calib c = {0};

	(void)state;
	fill_web(&c);
	reason(&c, "web", "spam", 1);
	calib_assess(&c, 60, 0.2, 10);
	calib_clear(&c);
	assert_null(c.v);
	assert_int_equal(c.n, 0);
	assert_int_equal(c.cap, 0);
	assert_null(c.all.v);
	assert_null(c.all.reasons);
	assert_int_equal(c.all.n, 0);
	assert_int_equal(c.all.nreasons, 0);
	assert_int_equal(c.all.name[0], '\0');
	calib_clear(&c);	/* twice is harmless */
	/* Nothing at all: "all" has no data, at the threshold. */
	calib_assess(&c, 42, 0.2, 1);
	assert_int_equal(c.n, 0);
	assert_string_equal(c.all.name, "all");
	assert_int_equal(c.all.verdict, CALIB_NO_DATA);
	assert_int_equal(c.all.suggested, 42);
	ASSERT_NEAR(c.all.s_reject_rate, -1);
	/* Reused: the old counts are gone. */
	fill_web(&c);
	calib_assess(&c, 60, 0.2, 10);
	assert_int_equal(c.n, 1);
	assert_int_equal(seg(&c, "web")->accepted, 12);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	assert_int_equal(c.all.accepted, 12);
	assert_int_equal(c.all.nreasons, 0);
	calib_clear(&c);
}

/* Counts near the limits saturate instead of overflowing. */
static void
test_huge_counts(void **state)
{
	struct calib c = {0};

	(void)state;
	add(&c, "web", 60, "a", LLONG_MAX);
	add(&c, "web", 60, "a", LLONG_MAX);
	add(&c, "web", 60, "ra", LLONG_MIN);
	add(&c, "web", 70, "a", LLONG_MAX);
	add(&c, "ads", 60, "a", LLONG_MAX);
	calib_assess(&c, 60, 0.2, 1);
	assert_int_equal(seg(&c, "web")->v[0].a, LLONG_MAX);
	assert_int_equal(seg(&c, "web")->accepted, LLONG_MAX);
	assert_int_equal(c.all.accepted, LLONG_MAX);
	ASSERT_NEAR(seg(&c, "web")->precision, 1);
	assert_int_equal(seg(&c, "web")->verdict, CALIB_KEEP);
	calib_clear(&c);
}

static void
test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(calib_verdict_name(CALIB_NO_DATA), "no_data");
	assert_string_equal(calib_verdict_name(CALIB_KEEP), "keep");
	assert_string_equal(calib_verdict_name(CALIB_RAISE), "raise");
	assert_string_equal(calib_verdict_name(CALIB_LOWER), "lower");
	assert_string_equal(calib_verdict_name(CALIB_UNREACHABLE),
	    "unreachable");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precision),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_raise_lowest_feasible),
		cmocka_unit_test(test_lower_only_where_outcomes),
		cmocka_unit_test(test_between_scores_keep),
		cmocka_unit_test(test_unreachable_vs_no_data),
		cmocka_unit_test(test_min_outcomes_boundary),
		cmocka_unit_test(test_min_outcomes_at_least_one),
		cmocka_unit_test(test_rate_at_limit),
		cmocka_unit_test(test_rate_zero_and_one),
		cmocka_unit_test(test_negative_scores),
		cmocka_unit_test(test_ra_clamp),
		cmocka_unit_test(test_win_rate),
		cmocka_unit_test(test_malformed_ignored),
		cmocka_unit_test(test_all_merges),
		cmocka_unit_test(test_reasons_sorted),
		cmocka_unit_test(test_reason_truncation),
		cmocka_unit_test(test_clear_reuse),
		cmocka_unit_test(test_huge_counts),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
