/* test_segment.c - unit tests for segment choice in segment.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "segment.h"

/* Room for n segments, all to be filled by seg_at() or seg_plain(). */
static void
segs_init(struct segments *s, size_t n, size_t default_idx)
{
	memset(s, 0, sizeof(*s));
	s->v = calloc(n, sizeof(*s->v));
	assert_non_null(s->v);
	s->n = n;
	s->default_idx = default_idx;
}

/* Segment i without a rule: it only ever matches as the default. */
static void
seg_plain(struct segments *s, size_t i, const char *name)
{
	assert_true(i < s->n);
	s->v[i].name = strdup(name);
	assert_non_null(s->v[i].name);
	s->v[i].has_cond = false;
}

/* Segment i with a rule on field; returns the condition for operands. */
static struct match_cond *
seg_at(struct segments *s, size_t i, const char *name, const char *field,
    enum match_op op)
{
	seg_plain(s, i, name);
	s->v[i].has_cond = true;
	assert_int_equal(match_set_field(&s->v[i].cond, field), 0);
	s->v[i].cond.op = op;
	return &s->v[i].cond;
}

/*
 * The example segments of README "Configuration" (small lt 100, mid between
 * 100 and 999, large gte 1000), then n_extra plain segments after them.
 */
static void
example_segments(struct segments *s, size_t n_extra, size_t default_idx)
{
	struct match_cond *c;

	segs_init(s, 3 + n_extra, default_idx);
	c = seg_at(s, 0, "small", "employees", MATCH_LT);
	c->num = 100;
	c = seg_at(s, 1, "mid", "employees", MATCH_BETWEEN);
	c->min = 100;
	c->max = 999;
	c = seg_at(s, 2, "large", "employees", MATCH_GTE);
	c->num = 1000;
}

static size_t
seg_of(const struct segments *s, const char *text)
{
	json_error_t err;
	json_t *lead = json_loads(text, 0, &err);
	size_t i;

	if (lead == NULL)
		fail_msg("bad test json '%s': %s", text, err.text);
	i = segment_of(s, lead);
	json_decref(lead);
	return i;
}

/* --- the example segments ------------------------------------------------ */

static void
test_example_boundaries(void **state)
{
	struct segments s;

	(void)state;
	example_segments(&s, 0, 0);	/* default_segment = "small" */
	assert_int_equal(seg_of(&s, "{\"employees\": 0}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 99}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 99.9}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 100}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 100.0}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 500}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 999}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 1000}"), 2);
	assert_int_equal(seg_of(&s, "{\"employees\": 1000.0}"), 2);
	assert_int_equal(seg_of(&s, "{\"employees\": 250000}"), 2);
	assert_int_equal(seg_of(&s, "{\"employees\": 1e300}"), 2);
	/* Between mid and large, or no usable employees: the default. */
	assert_int_equal(seg_of(&s, "{\"employees\": 999.5}"), 0);
	assert_int_equal(seg_of(&s, "{}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": \"many\"}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": true}"), 0);
	segments_clear(&s);
}

/* The same with a default that no rule names, so falling through shows. */
static void
test_example_falls_to_default(void **state)
{
	struct segments s;

	(void)state;
	example_segments(&s, 1, 3);
	seg_plain(&s, 3, "unsized");
	assert_int_equal(seg_of(&s, "{\"employees\": 99}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": -5}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 100}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 999}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 1000}"), 2);
	assert_int_equal(seg_of(&s, "{\"employees\": 999.5}"), 3);
	assert_int_equal(seg_of(&s, "{\"employees\": 999.0001}"), 3);
	assert_int_equal(seg_of(&s, "{}"), 3);
	assert_int_equal(seg_of(&s, "{\"employees\": null}"), 3);
	assert_int_equal(seg_of(&s, "{\"employees\": \"many\"}"), 3);
	assert_int_equal(seg_of(&s, "{\"employees\": \"50\"}"), 3);
	assert_int_equal(seg_of(&s, "{\"employees\": true}"), 3);
	assert_int_equal(seg_of(&s, "{\"employees\": false}"), 3);
	assert_int_equal(seg_of(&s, "{\"employees\": [50]}"), 3);
	assert_int_equal(seg_of(&s, "{\"company\": {\"employees\": 50}}"), 3);
	segments_clear(&s);
}

/* --- order and the default ----------------------------------------------- */

static void
test_first_match_wins(void **state)
{
	struct segments s;
	struct match_cond *c;

	(void)state;
	segs_init(&s, 3, 2);
	c = seg_at(&s, 0, "big", "employees", MATCH_GT);
	c->num = 10;
	c = seg_at(&s, 1, "some", "employees", MATCH_GT);
	c->num = 5;
	seg_plain(&s, 2, "rest");
	assert_int_equal(seg_of(&s, "{\"employees\": 20}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 11}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 10}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 7}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 5}"), 2);
	segments_clear(&s);

	/* The other order: the wider rule now takes everything it matches. */
	segs_init(&s, 3, 2);
	c = seg_at(&s, 0, "some", "employees", MATCH_GT);
	c->num = 5;
	c = seg_at(&s, 1, "big", "employees", MATCH_GT);
	c->num = 10;
	seg_plain(&s, 2, "rest");
	assert_int_equal(seg_of(&s, "{\"employees\": 20}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 7}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 5}"), 2);
	segments_clear(&s);
}

static void
test_rules_on_different_fields(void **state)
{
	static const char *const countries[] = {"DE", "fr"};
	struct segments s;
	struct match_cond *c;

	(void)state;
	segs_init(&s, 3, 1);
	c = seg_at(&s, 0, "europe", "country", MATCH_IN);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(match_add_str(c, countries[i],
		    strlen(countries[i])), 0);
	seg_plain(&s, 1, "world");
	c = seg_at(&s, 2, "demo", "activity.demo_request", MATCH_IS_TRUE);
	(void)c;
	assert_int_equal(seg_of(&s, "{\"country\": \"de\"}"), 0);
	assert_int_equal(seg_of(&s, "{\"country\": \"FR\", "
	    "\"activity\": {\"demo_request\": true}}"), 0);
	assert_int_equal(seg_of(&s, "{\"country\": \"US\", "
	    "\"activity\": {\"demo_request\": true}}"), 2);
	assert_int_equal(seg_of(&s, "{\"activity\": {\"demo_request\": 1}}"),
	    1);
	assert_int_equal(seg_of(&s, "{\"country\": \"US\"}"), 1);
	segments_clear(&s);
}

static void
test_segment_without_rule_never_matches(void **state)
{
	struct segments s;
	struct match_cond *c;

	(void)state;
	segs_init(&s, 3, 2);
	/* A rule that would match everything, but has_cond is false. */
	(void)seg_at(&s, 0, "vip", "id", MATCH_EXISTS);
	s.v[0].has_cond = false;
	c = seg_at(&s, 1, "partner", "source", MATCH_EQ);
	c->kind = MATCH_KIND_STRING;
	assert_int_equal(match_add_str(c, "partner", 7), 0);
	seg_plain(&s, 2, "rest");
	assert_int_equal(seg_of(&s, "{\"id\": \"x\"}"), 2);
	assert_int_equal(seg_of(&s, "{\"id\": \"x\", \"source\": \"Partner\"}"),
	    1);
	assert_int_equal(seg_of(&s, "{}"), 2);
	/* Made the default, it is chosen when nothing else matches. */
	s.default_idx = 0;
	assert_int_equal(seg_of(&s, "{\"id\": \"x\"}"), 0);
	assert_int_equal(seg_of(&s, "{\"id\": \"x\", \"source\": \"partner\"}"),
	    1);
	segments_clear(&s);
}

static void
test_default_in_the_middle(void **state)
{
	struct segments s;

	(void)state;
	example_segments(&s, 0, 1);	/* default_segment = "mid" */
	assert_int_equal(seg_of(&s, "{}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 999.5}"), 1);
	assert_int_equal(seg_of(&s, "{\"employees\": 1}"), 0);
	assert_int_equal(seg_of(&s, "{\"employees\": 5000}"), 2);
	segments_clear(&s);
}

/* --- names --------------------------------------------------------------- */

static void
test_find(void **state)
{
	struct segments s;

	(void)state;
	example_segments(&s, 1, 0);
	seg_plain(&s, 3, "enterprise.eu");
	assert_int_equal(segment_find(&s, "small"), 0);
	assert_int_equal(segment_find(&s, "mid"), 1);
	assert_int_equal(segment_find(&s, "large"), 2);
	assert_int_equal(segment_find(&s, "enterprise.eu"), 3);
	assert_int_equal(segment_find(&s, "Small"), -1);
	assert_int_equal(segment_find(&s, "smal"), -1);
	assert_int_equal(segment_find(&s, "smaller"), -1);
	assert_int_equal(segment_find(&s, "enterprise"), -1);
	assert_int_equal(segment_find(&s, ""), -1);
	segments_clear(&s);
}

/* A segment whose name failed to load (NULL) is skipped, not a crash. */
static void
test_find_skips_unnamed(void **state)
{
	struct segments s;

	(void)state;
	segs_init(&s, 3, 0);
	seg_plain(&s, 0, "small");
	seg_plain(&s, 2, "large");
	assert_null(s.v[1].name);
	assert_int_equal(segment_find(&s, "large"), 2);
	assert_int_equal(segment_find(&s, "small"), 0);
	assert_int_equal(segment_find(&s, "mid"), -1);
	segments_clear(&s);
}

static void
test_find_empty(void **state)
{
	struct segments s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(segment_find(&s, "small"), -1);
	segments_clear(&s);
}

static void
test_clear_resets(void **state)
{
	struct segments s;

	(void)state;
	example_segments(&s, 0, 0);
	segments_clear(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	segments_clear(&s);
	assert_null(s.v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_boundaries),
		cmocka_unit_test(test_example_falls_to_default),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_rules_on_different_fields),
		cmocka_unit_test(test_segment_without_rule_never_matches),
		cmocka_unit_test(test_default_in_the_middle),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_skips_unnamed),
		cmocka_unit_test(test_find_empty),
		cmocka_unit_test(test_clear_resets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
