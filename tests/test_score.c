/* test_score.c - unit tests for the lead-scoring model of score.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "score.h"

/* A scoring model with room for n rules, all to be filled by rule_at(). */
static void
scoring_init(struct scoring *s, size_t n, long long threshold)
{
	memset(s, 0, sizeof(*s));
	s->mql_threshold = threshold;
	if (n == 0)
		return;
	s->rules = calloc(n, sizeof(*s->rules));
	assert_non_null(s->rules);
	s->nrules = n;
}

/* Rule i: field, op, points; returns its condition for the operands. */
static struct match_cond *
rule_at(struct scoring *s, size_t i, const char *field, enum match_op op,
    long long points)
{
	struct score_rule *r = &s->rules[i];

	assert_true(i < s->nrules);
	assert_int_equal(match_set_field(&r->cond, field), 0);
	r->cond.op = op;
	r->points = points;
	return &r->cond;
}

static void
rule_strs(struct scoring *s, size_t i, const char *field, enum match_op op,
    long long points, const char *const *vals, size_t n)
{
	struct match_cond *c = rule_at(s, i, field, op, points);

	c->kind = MATCH_KIND_STRING;
	for (size_t k = 0; k < n; k++)
		assert_int_equal(match_add_str(c, vals[k], strlen(vals[k])), 0);
}

static void
rule_per(struct scoring *s, size_t i, const char *field, long long points,
    bool has_cap, long long cap)
{
	(void)rule_at(s, i, field, MATCH_PER, points);
	s->rules[i].has_cap = has_cap;
	s->rules[i].cap = cap;
}

/* A single "per" rule, standalone, for score_rule_points(). */
static void
per_rule(struct score_rule *r, long long points, bool has_cap, long long cap)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(match_set_field(&r->cond, "v"), 0);
	r->cond.op = MATCH_PER;
	r->points = points;
	r->has_cap = has_cap;
	r->cap = cap;
}

static json_t *
lead_parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (j == NULL)
		fail_msg("bad test json '%s': %s", text, err.text);
	return j;
}

/*
 * The points r gives the lead text; *matched as score_rule_points sets it
 * (callers start it at the opposite of what they expect).
 */
static long long
points_of(const struct score_rule *r, const char *text, bool *matched)
{
	json_t *lead = lead_parse(text);
	long long p;

	p = score_rule_points(r, lead, matched);
	json_decref(lead);
	return p;
}

/* Assert r gives text exactly want points and did match. */
static void
assert_per(const struct score_rule *r, const char *text, long long want)
{
	bool matched = false;
	long long got = points_of(r, text, &matched);

	if (!matched || got != want)
		fail_msg("%s: got %lld (matched %d), want %lld", text, got,
		    matched, want);
}

static void
assert_no_match(const struct score_rule *r, const char *text)
{
	bool matched = true;
	long long got = points_of(r, text, &matched);

	if (matched || got != 0)
		fail_msg("%s: got %lld (matched %d), want no match", text, got,
		    matched);
}

/* The example rules of README "Configuration". */
static void
example_rules(struct scoring *s)
{
	static const char *const titles[] = {"vp", "director", "head"};
	static const char *const industries[] = {"software", "fintech"};
	static const char *const mail[] = {"@gmail.com"};
	static const char *const partner[] = {"partner"};
	struct match_cond *c;

	scoring_init(s, 7, 60);
	rule_strs(s, 0, "title", MATCH_CONTAINS_ANY, 20, titles, 3);
	c = rule_at(s, 1, "employees", MATCH_BETWEEN, 15);
	c->min = 100;
	c->max = 5000;
	rule_strs(s, 2, "industry", MATCH_IN, 10, industries, 2);
	(void)rule_at(s, 3, "activity.demo_request", MATCH_IS_TRUE, 30);
	rule_per(s, 4, "activity.page_views", 2, true, 20);
	rule_strs(s, 5, "email", MATCH_ENDS_WITH_ANY, -15, mail, 1);
	rule_strs(s, 6, "source", MATCH_EQ, 10, partner, 1);
}

/* Score text; fill hits (room for s->nrules + 1, the last a sentinel). */
static long long
score_text(const struct scoring *s, const char *text, struct score_hit *hits,
    size_t *nhits)
{
	json_t *lead = lead_parse(text);
	long long total;

	total = score_lead(s, lead, hits, nhits);
	json_decref(lead);
	return total;
}

#define SENTINEL 0x5a5a5a5aLL

static void
hits_fill(struct score_hit *hits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		hits[i].rule = (size_t)SENTINEL;
		hits[i].points = SENTINEL;
	}
}

/* --- the example model --------------------------------------------------- */

static void
test_example_hot_lead(void **state)
{
	struct scoring s;
	struct score_hit hits[8];
	size_t nhits = 99;

	(void)state;
	example_rules(&s);
	hits_fill(hits, 8);
	assert_int_equal(score_text(&s,
	    "{\"id\": \"a\", \"email\": \"x@acme.com\","
	    " \"title\": \"VP Sales\","
	    " \"employees\": 250, \"industry\": \"Software\","
	    " \"activity\": {\"demo_request\": true, \"page_views\": 4},"
	    " \"source\": \"Partner\"}", hits, &nhits), 93);
	assert_int_equal(nhits, 6);
	assert_int_equal(hits[0].rule, 0);
	assert_int_equal(hits[0].points, 20);
	assert_int_equal(hits[1].rule, 1);
	assert_int_equal(hits[1].points, 15);
	assert_int_equal(hits[2].rule, 2);
	assert_int_equal(hits[2].points, 10);
	assert_int_equal(hits[3].rule, 3);
	assert_int_equal(hits[3].points, 30);
	assert_int_equal(hits[4].rule, 4);
	assert_int_equal(hits[4].points, 8);
	assert_int_equal(hits[5].rule, 6);
	assert_int_equal(hits[5].points, 10);
	/* Nothing written past the matched rules. */
	assert_int_equal(hits[6].rule, (size_t)SENTINEL);
	assert_int_equal(hits[6].points, SENTINEL);
	assert_true(score_is_mql(&s, 93));
	score_clear(&s);
}

static void
test_example_negative_and_capped(void **state)
{
	struct scoring s;
	struct score_hit hits[8];
	size_t nhits = 99;

	(void)state;
	example_rules(&s);
	hits_fill(hits, 8);
	/* 50 page views x 2 = 100, capped at 20; gmail -15. */
	assert_int_equal(score_text(&s,
	    "{\"id\": \"b\", \"email\": \"kid@GMail.com\","
	    " \"activity\": {\"page_views\": 50}}", hits, &nhits), 5);
	assert_int_equal(nhits, 2);
	assert_int_equal(hits[0].rule, 4);
	assert_int_equal(hits[0].points, 20);
	assert_int_equal(hits[1].rule, 5);
	assert_int_equal(hits[1].points, -15);
	assert_int_equal(hits[2].rule, (size_t)SENTINEL);
	assert_false(score_is_mql(&s, 5));

	/* Only the negative rule: the total goes below zero. */
	hits_fill(hits, 8);
	assert_int_equal(score_text(&s,
	    "{\"id\": \"c\", \"email\": \"a@gmail.com\"}", hits, &nhits), -15);
	assert_int_equal(nhits, 1);
	assert_int_equal(hits[0].rule, 5);
	assert_int_equal(hits[0].points, -15);
	score_clear(&s);
}

static void
test_example_nothing_matches(void **state)
{
	struct scoring s;
	struct score_hit hits[8];
	size_t nhits = 99;

	(void)state;
	example_rules(&s);
	hits_fill(hits, 8);
	/* Wrong types everywhere: none of them count. */
	assert_int_equal(score_text(&s,
	    "{\"id\": \"d\", \"email\": 5, \"title\": [\"vp\"],"
	    " \"employees\": \"many\", \"industry\": null,"
	    " \"activity\": {\"demo_request\": 1, \"page_views\": \"9\"},"
	    " \"source\": true}", hits, &nhits), 0);
	assert_int_equal(nhits, 0);
	assert_int_equal(hits[0].rule, (size_t)SENTINEL);
	assert_int_equal(hits[0].points, SENTINEL);
	assert_int_equal(score_text(&s, "{}", hits, &nhits), 0);
	assert_int_equal(nhits, 0);
	score_clear(&s);
}

static void
test_hits_null(void **state)
{
	struct scoring s;
	size_t nhits = 99;

	(void)state;
	example_rules(&s);
	assert_int_equal(score_text(&s,
	    "{\"title\": \"Director\", \"source\": \"partner\"}", NULL,
	    &nhits), 30);
	assert_int_equal(nhits, 2);
	assert_int_equal(score_text(&s,
	    "{\"title\": \"Director\", \"source\": \"partner\"}", NULL, NULL),
	    30);
	score_clear(&s);
}

static void
test_rules_apply_in_order(void **state)
{
	struct scoring s;
	struct score_hit hits[5];
	size_t nhits = 0;

	(void)state;
	scoring_init(&s, 4, 0);
	(void)rule_at(&s, 0, "b", MATCH_EXISTS, 7);
	(void)rule_at(&s, 1, "a", MATCH_EXISTS, -3);
	(void)rule_at(&s, 2, "c", MATCH_EXISTS, 100);
	(void)rule_at(&s, 3, "a", MATCH_IS_TRUE, 1);
	hits_fill(hits, 5);
	assert_int_equal(score_text(&s, "{\"a\": true, \"b\": 0}", hits,
	    &nhits), 5);
	assert_int_equal(nhits, 3);
	assert_int_equal(hits[0].rule, 0);
	assert_int_equal(hits[0].points, 7);
	assert_int_equal(hits[1].rule, 1);
	assert_int_equal(hits[1].points, -3);
	assert_int_equal(hits[2].rule, 3);
	assert_int_equal(hits[2].points, 1);
	assert_int_equal(hits[3].rule, (size_t)SENTINEL);
	score_clear(&s);
}

static void
test_empty_rules(void **state)
{
	struct scoring s;
	size_t nhits = 99;

	(void)state;
	scoring_init(&s, 0, 0);
	assert_int_equal(score_text(&s, "{\"a\": 1}", NULL, &nhits), 0);
	assert_int_equal(nhits, 0);
	assert_true(score_is_mql(&s, 0));
	score_clear(&s);
	assert_null(s.rules);
	assert_int_equal(s.nrules, 0);
}

static void
test_score_clear_resets(void **state)
{
	struct scoring s;

	(void)state;
	example_rules(&s);
	score_clear(&s);
	assert_null(s.rules);
	assert_int_equal(s.nrules, 0);
	score_clear(&s);
	assert_null(s.rules);
}

/* --- per ----------------------------------------------------------------- */

static void
test_per_rounds_toward_zero(void **state)
{
	struct score_rule r;

	(void)state;
	per_rule(&r, 2, false, 0);
	assert_per(&r, "{\"v\": 2.9}", 5);
	assert_per(&r, "{\"v\": -2.9}", -5);
	assert_per(&r, "{\"v\": 0.49}", 0);
	assert_per(&r, "{\"v\": -0.49}", 0);
	assert_per(&r, "{\"v\": 3}", 6);
	assert_per(&r, "{\"v\": 1000}", 2000);
	match_cond_clear(&r.cond);

	per_rule(&r, -3, false, 0);
	assert_per(&r, "{\"v\": 2.5}", -7);
	assert_per(&r, "{\"v\": -2.5}", 7);
	assert_per(&r, "{\"v\": 4}", -12);
	match_cond_clear(&r.cond);
}

static void
test_per_cap(void **state)
{
	struct score_rule r;

	(void)state;
	per_rule(&r, 2, true, 20);
	assert_per(&r, "{\"v\": 9}", 18);
	assert_per(&r, "{\"v\": 10}", 20);
	assert_per(&r, "{\"v\": 10.4}", 20);
	assert_per(&r, "{\"v\": 11}", 20);
	assert_per(&r, "{\"v\": 1000000}", 20);
	assert_per(&r, "{\"v\": -9}", -18);
	assert_per(&r, "{\"v\": -11}", -20);
	match_cond_clear(&r.cond);

	/* The cap bounds the magnitude for negative points too. */
	per_rule(&r, -2, true, 20);
	assert_per(&r, "{\"v\": 9}", -18);
	assert_per(&r, "{\"v\": 11}", -20);
	assert_per(&r, "{\"v\": -11}", 20);
	match_cond_clear(&r.cond);

	/* A cap of zero: matches, gives nothing. */
	per_rule(&r, 5, true, 0);
	assert_per(&r, "{\"v\": 3}", 0);
	match_cond_clear(&r.cond);
}

static void
test_per_no_match(void **state)
{
	struct score_rule r;

	(void)state;
	per_rule(&r, 2, true, 20);
	assert_no_match(&r, "{}");
	assert_no_match(&r, "{\"v\": null}");
	assert_no_match(&r, "{\"v\": \"5\"}");
	assert_no_match(&r, "{\"v\": true}");
	assert_no_match(&r, "{\"v\": false}");
	assert_no_match(&r, "{\"v\": [5]}");
	assert_no_match(&r, "{\"v\": {\"n\": 5}}");
	assert_no_match(&r, "{\"w\": 5}");
	match_cond_clear(&r.cond);
}

static void
test_per_not_in_hits(void **state)
{
	struct scoring s;
	struct score_hit hits[3];
	size_t nhits = 99;

	(void)state;
	scoring_init(&s, 2, 0);
	rule_per(&s, 0, "activity.page_views", 2, true, 20);
	(void)rule_at(&s, 1, "id", MATCH_EXISTS, 1);
	hits_fill(hits, 3);
	assert_int_equal(score_text(&s,
	    "{\"id\": \"x\", \"activity\": {\"page_views\": \"7\"}}", hits,
	    &nhits), 1);
	assert_int_equal(nhits, 1);
	assert_int_equal(hits[0].rule, 1);
	assert_int_equal(hits[0].points, 1);
	assert_int_equal(hits[1].rule, (size_t)SENTINEL);
	assert_int_equal(score_text(&s, "{\"id\": \"x\"}", hits, &nhits), 1);
	assert_int_equal(nhits, 1);
	assert_int_equal(score_text(&s, "{\"id\": \"x\", \"activity\": 7}",
	    hits, &nhits), 1);
	assert_int_equal(nhits, 1);
	score_clear(&s);
}

static void
test_per_zero_is_a_hit(void **state)
{
	struct scoring s;
	struct score_hit hits[2];
	size_t nhits = 99;

	(void)state;
	scoring_init(&s, 1, 0);
	rule_per(&s, 0, "activity.page_views", 2, true, 20);
	hits_fill(hits, 2);
	assert_int_equal(score_text(&s, "{\"activity\": {\"page_views\": 0}}",
	    hits, &nhits), 0);
	assert_int_equal(nhits, 1);
	assert_int_equal(hits[0].rule, 0);
	assert_int_equal(hits[0].points, 0);
	assert_int_equal(hits[1].rule, (size_t)SENTINEL);
	/* 0.4 x 2 rounds to 0 and still counts as a hit. */
	assert_int_equal(score_text(&s,
	    "{\"activity\": {\"page_views\": 0.4}}", hits, &nhits), 0);
	assert_int_equal(nhits, 1);
	assert_int_equal(hits[0].points, 0);
	score_clear(&s);
}

static void
test_per_saturates(void **state)
{
	struct score_rule r;

	(void)state;
	per_rule(&r, 2, false, 0);
	assert_per(&r, "{\"v\": 1e300}", SCORE_LIMIT);
	assert_per(&r, "{\"v\": -1e300}", -SCORE_LIMIT);
	assert_per(&r, "{\"v\": 1.7976931348623157e308}", SCORE_LIMIT);
	assert_per(&r, "{\"v\": 9223372036854775807}", SCORE_LIMIT);
	assert_per(&r, "{\"v\": -9223372036854775808}", -SCORE_LIMIT);
	/* Just over and just under the limit. */
	assert_per(&r, "{\"v\": 1073741823}", 2147483646);
	assert_per(&r, "{\"v\": 1073741824}", SCORE_LIMIT);
	assert_per(&r, "{\"v\": -1073741824}", -SCORE_LIMIT);
	match_cond_clear(&r.cond);

	per_rule(&r, -1000000000, false, 0);
	assert_per(&r, "{\"v\": 9223372036854775807}", -SCORE_LIMIT);
	assert_per(&r, "{\"v\": -9223372036854775808}", SCORE_LIMIT);
	assert_per(&r, "{\"v\": 1e300}", -SCORE_LIMIT);
	match_cond_clear(&r.cond);

	/* Points beyond what the config allows still saturate. */
	per_rule(&r, LLONG_MAX, false, 0);
	assert_per(&r, "{\"v\": 1e300}", SCORE_LIMIT);
	assert_per(&r, "{\"v\": -1e300}", -SCORE_LIMIT);
	assert_per(&r, "{\"v\": 0.5}", SCORE_LIMIT);
	match_cond_clear(&r.cond);

	per_rule(&r, 2, true, 20);
	assert_per(&r, "{\"v\": 1e300}", 20);
	assert_per(&r, "{\"v\": -1e300}", -20);
	assert_per(&r, "{\"v\": 9223372036854775807}", 20);
	match_cond_clear(&r.cond);

	/* A cap above the limit does not lift it. */
	per_rule(&r, 2, true, LLONG_MAX);
	assert_per(&r, "{\"v\": 1e300}", SCORE_LIMIT);
	assert_per(&r, "{\"v\": -1e300}", -SCORE_LIMIT);
	match_cond_clear(&r.cond);

	/* Zero points times a huge number is zero, not NaN. */
	per_rule(&r, 0, false, 0);
	assert_per(&r, "{\"v\": 1e300}", 0);
	assert_per(&r, "{\"v\": -1.7976931348623157e308}", 0);
	match_cond_clear(&r.cond);
}

/* --- plain rules and the total ------------------------------------------- */

static void
test_rule_points_and_matched(void **state)
{
	struct score_rule r;
	bool matched;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(match_set_field(&r.cond, "a"), 0);
	r.cond.op = MATCH_IS_TRUE;
	r.points = -42;
	matched = false;
	assert_int_equal(points_of(&r, "{\"a\": true}", &matched), -42);
	assert_true(matched);
	matched = true;
	assert_int_equal(points_of(&r, "{\"a\": false}", &matched), 0);
	assert_false(matched);

	/* A rule's own points saturate. */
	r.points = LLONG_MAX;
	assert_int_equal(points_of(&r, "{\"a\": true}", &matched),
	    SCORE_LIMIT);
	assert_true(matched);
	r.points = LLONG_MIN;
	assert_int_equal(points_of(&r, "{\"a\": true}", &matched),
	    -SCORE_LIMIT);
	match_cond_clear(&r.cond);
}

static void
test_total_saturates(void **state)
{
	struct scoring s;
	struct score_hit hits[6];
	size_t nhits = 0;

	(void)state;
	scoring_init(&s, 5, 0);
	for (size_t i = 0; i < 5; i++)
		(void)rule_at(&s, i, "id", MATCH_EXISTS, 1000000000);
	assert_int_equal(score_text(&s, "{\"id\": \"x\"}", hits, &nhits),
	    SCORE_LIMIT);
	assert_int_equal(nhits, 5);
	assert_int_equal(hits[4].points, 1000000000);
	for (size_t i = 0; i < 5; i++)
		s.rules[i].points = -1000000000;
	assert_int_equal(score_text(&s, "{\"id\": \"x\"}", hits, &nhits),
	    -SCORE_LIMIT);
	for (size_t i = 0; i < 5; i++)
		s.rules[i].points = LLONG_MAX;
	assert_int_equal(score_text(&s, "{\"id\": \"x\"}", hits, &nhits),
	    SCORE_LIMIT);
	assert_int_equal(hits[0].points, SCORE_LIMIT);
	for (size_t i = 0; i < 5; i++)
		s.rules[i].points = LLONG_MIN;
	assert_int_equal(score_text(&s, "{\"id\": \"x\"}", hits, &nhits),
	    -SCORE_LIMIT);
	assert_int_equal(hits[0].points, -SCORE_LIMIT);
	score_clear(&s);
}

static void
test_total_saturates_per(void **state)
{
	struct scoring s;
	struct score_hit hits[4];
	size_t nhits = 0;

	(void)state;
	scoring_init(&s, 3, 0);
	rule_per(&s, 0, "a", 1000000000, false, 0);
	rule_per(&s, 1, "b", 1000000000, false, 0);
	rule_per(&s, 2, "c", 1000000000, false, 0);
	assert_int_equal(score_text(&s,
	    "{\"a\": 1e300, \"b\": 9223372036854775807, \"c\": 2}", hits,
	    &nhits), SCORE_LIMIT);
	assert_int_equal(nhits, 3);
	assert_int_equal(hits[0].points, SCORE_LIMIT);
	assert_int_equal(hits[1].points, SCORE_LIMIT);
	assert_int_equal(hits[2].points, 2000000000);
	assert_int_equal(score_text(&s,
	    "{\"a\": -1e300, \"b\": -9223372036854775808, \"c\": -2}", hits,
	    &nhits), -SCORE_LIMIT);
	assert_int_equal(hits[2].points, -2000000000);
	/* Saturated terms of both signs: the exact sum, then the clamp. */
	assert_int_equal(score_text(&s,
	    "{\"a\": 1e300, \"b\": -1e300, \"c\": 1}", hits, &nhits),
	    1000000000);
	score_clear(&s);
}

/* The total is the sum, clamped once: rule order does not change it. */
static void
test_total_independent_of_order(void **state)
{
	static const char *const gmail[] = {"@gmail.com"};
	struct scoring s;
	const char *lead = "{\"email\": \"a@gmail.com\", \"v\": 1e300}";

	(void)state;
	scoring_init(&s, 3, 0);
	rule_per(&s, 0, "v", 2, false, 0);
	(void)rule_at(&s, 1, "email", MATCH_EXISTS, 20);
	rule_strs(&s, 2, "email", MATCH_ENDS_WITH_ANY, -15, gmail, 1);
	assert_int_equal(score_text(&s, lead, NULL, NULL), SCORE_LIMIT);
	score_clear(&s);

	scoring_init(&s, 3, 0);
	rule_strs(&s, 0, "email", MATCH_ENDS_WITH_ANY, -15, gmail, 1);
	(void)rule_at(&s, 1, "email", MATCH_EXISTS, 20);
	rule_per(&s, 2, "v", 2, false, 0);
	assert_int_equal(score_text(&s, lead, NULL, NULL), SCORE_LIMIT);
	score_clear(&s);

	/* A total just inside the limit is exact. */
	scoring_init(&s, 2, 0);
	rule_per(&s, 0, "v", 1, false, 0);
	(void)rule_at(&s, 1, "email", MATCH_EXISTS, -15);
	assert_int_equal(score_text(&s,
	    "{\"email\": \"a\", \"v\": 2147483647}", NULL, NULL),
	    SCORE_LIMIT - 15);
	assert_int_equal(score_text(&s,
	    "{\"email\": \"a\", \"v\": -2147483640}", NULL, NULL),
	    -SCORE_LIMIT);
	score_clear(&s);
}

/* --- qualification ------------------------------------------------------- */

static void
test_is_mql(void **state)
{
	struct scoring s;

	(void)state;
	scoring_init(&s, 0, 60);
	assert_true(score_is_mql(&s, 60));
	assert_true(score_is_mql(&s, 61));
	assert_false(score_is_mql(&s, 59));
	assert_false(score_is_mql(&s, -SCORE_LIMIT));
	assert_true(score_is_mql(&s, SCORE_LIMIT));

	s.mql_threshold = -10;
	assert_true(score_is_mql(&s, -10));
	assert_true(score_is_mql(&s, 0));
	assert_false(score_is_mql(&s, -11));

	s.mql_threshold = 0;
	assert_true(score_is_mql(&s, 0));
	assert_false(score_is_mql(&s, -1));

	s.mql_threshold = SCORE_LIMIT;
	assert_true(score_is_mql(&s, SCORE_LIMIT));
	assert_false(score_is_mql(&s, SCORE_LIMIT - 1));

	s.mql_threshold = -SCORE_LIMIT;
	assert_true(score_is_mql(&s, -SCORE_LIMIT));
	score_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_hot_lead),
		cmocka_unit_test(test_example_negative_and_capped),
		cmocka_unit_test(test_example_nothing_matches),
		cmocka_unit_test(test_hits_null),
		cmocka_unit_test(test_rules_apply_in_order),
		cmocka_unit_test(test_empty_rules),
		cmocka_unit_test(test_score_clear_resets),
		cmocka_unit_test(test_per_rounds_toward_zero),
		cmocka_unit_test(test_per_cap),
		cmocka_unit_test(test_per_no_match),
		cmocka_unit_test(test_per_not_in_hits),
		cmocka_unit_test(test_per_zero_is_a_hit),
		cmocka_unit_test(test_per_saturates),
		cmocka_unit_test(test_rule_points_and_matched),
		cmocka_unit_test(test_total_saturates),
		cmocka_unit_test(test_total_saturates_per),
		cmocka_unit_test(test_total_independent_of_order),
		cmocka_unit_test(test_is_mql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
