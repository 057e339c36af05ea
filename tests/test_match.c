/* test_match.c - unit tests for the field conditions of match.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "match.h"

/* Every operator, in enum order, with its config name. */
static const struct {
	enum match_op op;
	const char *name;
	bool list;
	bool numeric;
} all_ops[] = {
	{MATCH_EQ, "eq", false, false},
	{MATCH_NE, "ne", false, false},
	{MATCH_IN, "in", true, false},
	{MATCH_CONTAINS_ANY, "contains_any", true, false},
	{MATCH_ENDS_WITH_ANY, "ends_with_any", true, false},
	{MATCH_LT, "lt", false, true},
	{MATCH_LTE, "lte", false, true},
	{MATCH_GT, "gt", false, true},
	{MATCH_GTE, "gte", false, true},
	{MATCH_BETWEEN, "between", false, false},
	{MATCH_EXISTS, "exists", false, false},
	{MATCH_IS_TRUE, "is_true", false, false},
	{MATCH_PER, "per", false, false},
};
#define NOPS (sizeof(all_ops) / sizeof(all_ops[0]))

/* A condition on field with op and no operands yet. */
static void
cond_init(struct match_cond *c, const char *field, enum match_op op)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(match_set_field(c, field), 0);
	c->op = op;
}

/* A string condition: eq/ne (one value) or a list operator. */
static void
cond_strs(struct match_cond *c, const char *field, enum match_op op,
    const char *const *vals, size_t n)
{
	cond_init(c, field, op);
	c->kind = MATCH_KIND_STRING;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(match_add_str(c, vals[i], strlen(vals[i])), 0);
	assert_int_equal(c->nstrs, n);
}

static void
cond_num(struct match_cond *c, const char *field, enum match_op op,
    double num)
{
	cond_init(c, field, op);
	c->kind = MATCH_KIND_NUMBER;
	c->num = num;
}

static void
cond_bool(struct match_cond *c, const char *field, enum match_op op, bool b)
{
	cond_init(c, field, op);
	c->kind = MATCH_KIND_BOOL;
	c->boolean = b;
}

static void
cond_between(struct match_cond *c, const char *field, double min, double max)
{
	cond_init(c, field, MATCH_BETWEEN);
	c->min = min;
	c->max = max;
}

static json_t *
lead_parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);

	if (j == NULL)
		fail_msg("bad test json '%s': %s", text, err.text);
	return j;
}

/* Evaluate c against the lead written as JSON text. */
static bool
eval(const struct match_cond *c, const char *text)
{
	json_t *lead = lead_parse(text);
	bool r = match_eval(c, lead);

	json_decref(lead);
	return r;
}

/* Evaluate c against {"f": <string of len bytes>}. */
static bool
eval_bytes(const struct match_cond *c, const char *s, size_t len)
{
	json_t *lead = json_object();
	bool r;

	assert_non_null(lead);
	assert_int_equal(json_object_set_new(lead, "f", json_stringn(s, len)),
	    0);
	r = match_eval(c, lead);
	json_decref(lead);
	return r;
}

/* --- operator names ------------------------------------------------------ */

static void
test_op_names_round_trip(void **state)
{
	enum match_op op;

	(void)state;
	assert_int_equal(NOPS, 13);
	for (size_t i = 0; i < NOPS; i++) {
		assert_int_equal(all_ops[i].op, (enum match_op)i);
		assert_string_equal(match_op_name(all_ops[i].op),
		    all_ops[i].name);
		op = (enum match_op)-1;
		assert_int_equal(match_op_parse(all_ops[i].name, &op), 0);
		assert_int_equal(op, all_ops[i].op);
	}
}

static void
test_op_parse_rejects_unknown(void **state)
{
	static const char *const bad[] = {
		"", "EQ", "Eq", "eq ", " eq", "equals", "=", "contains",
		"ends_with", "is_false", "pe", "perx", "between2", "not_in",
	};
	enum match_op op;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		op = MATCH_IS_TRUE;
		assert_int_equal(match_op_parse(bad[i], &op), -1);
		assert_int_equal(op, MATCH_IS_TRUE);
	}
}

static void
test_op_name_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(match_op_name((enum match_op)13), "?");
	assert_string_equal(match_op_name((enum match_op)1000), "?");
}

static void
test_op_classes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NOPS; i++) {
		assert_int_equal(match_op_takes_list(all_ops[i].op),
		    all_ops[i].list);
		assert_int_equal(match_op_is_numeric(all_ops[i].op),
		    all_ops[i].numeric);
	}
}

/* --- fields and operands ------------------------------------------------- */

static void
test_set_field_dotted(void **state)
{
	struct match_cond c;

	(void)state;
	cond_init(&c, "activity.page_views", MATCH_EXISTS);
	assert_string_equal(c.field, "activity.page_views");
	assert_int_equal(c.npath, 2);
	assert_string_equal(c.path[0], "activity");
	assert_string_equal(c.path[1], "page_views");
	match_cond_clear(&c);

	cond_init(&c, "a.b.c", MATCH_EXISTS);
	assert_int_equal(c.npath, 3);
	assert_string_equal(c.path[0], "a");
	assert_string_equal(c.path[1], "b");
	assert_string_equal(c.path[2], "c");
	match_cond_clear(&c);
}

static void
test_set_field_single(void **state)
{
	struct match_cond c;

	(void)state;
	cond_init(&c, "employees", MATCH_EXISTS);
	assert_string_equal(c.field, "employees");
	assert_int_equal(c.npath, 1);
	assert_string_equal(c.path[0], "employees");
	match_cond_clear(&c);

	cond_init(&c, "x", MATCH_EXISTS);
	assert_int_equal(c.npath, 1);
	assert_string_equal(c.path[0], "x");
	match_cond_clear(&c);
}

static void
test_set_field_rejects_empty_components(void **state)
{
	static const char *const bad[] = {
		"", "a..b", ".a", "a.", ".", "..", "a.b.", ".a.b", "a...b",
	};
	struct match_cond c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		errno = 0;
		assert_int_equal(match_set_field(&c, bad[i]), -1);
		assert_int_equal(errno, EINVAL);
		match_cond_clear(&c);
	}
}

static void
test_add_str_lowercases_and_keeps_length(void **state)
{
	struct match_cond c;

	(void)state;
	cond_init(&c, "f", MATCH_IN);
	assert_int_equal(match_add_str(&c, "AbC-Z\0Q", 7), 0);
	assert_int_equal(match_add_str(&c, "", 0), 0);
	assert_int_equal(match_add_str(&c, "\xc3\x89X", 3), 0);
	assert_int_equal(c.nstrs, 3);
	assert_int_equal(c.strs[0].len, 7);
	assert_memory_equal(c.strs[0].s, "abc-z\0q", 8);
	assert_int_equal(c.strs[1].len, 0);
	assert_int_equal(c.strs[1].s[0], '\0');
	assert_int_equal(c.strs[2].len, 3);
	/* Bytes outside ASCII are left alone. */
	assert_memory_equal(c.strs[2].s, "\xc3\x89x", 4);
	match_cond_clear(&c);
}

static void
test_cond_clear_resets(void **state)
{
	struct match_cond c;
	static const char *const v[] = {"a", "b"};

	(void)state;
	cond_strs(&c, "x.y", MATCH_IN, v, 2);
	match_cond_clear(&c);
	assert_null(c.field);
	assert_null(c.path);
	assert_int_equal(c.npath, 0);
	assert_null(c.strs);
	assert_int_equal(c.nstrs, 0);
	/* A second clear is harmless (ASan would report a double free). */
	match_cond_clear(&c);
	assert_null(c.field);
}

/* --- lookup -------------------------------------------------------------- */

static void
test_lookup_returns_the_value(void **state)
{
	struct match_cond c;
	json_t *lead = lead_parse(
	    "{\"employees\": 5, \"activity\": {\"page_views\": 7}}");

	(void)state;
	cond_init(&c, "activity.page_views", MATCH_EXISTS);
	assert_ptr_equal(match_lookup(&c, lead),
	    json_object_get(json_object_get(lead, "activity"), "page_views"));
	match_cond_clear(&c);

	cond_init(&c, "employees", MATCH_EXISTS);
	assert_ptr_equal(match_lookup(&c, lead),
	    json_object_get(lead, "employees"));
	match_cond_clear(&c);

	cond_init(&c, "activity", MATCH_EXISTS);
	assert_ptr_equal(match_lookup(&c, lead),
	    json_object_get(lead, "activity"));
	match_cond_clear(&c);

	cond_init(&c, "activity.demo_request", MATCH_EXISTS);
	assert_null(match_lookup(&c, lead));
	match_cond_clear(&c);

	cond_init(&c, "employees.count", MATCH_EXISTS);
	assert_null(match_lookup(&c, lead));
	match_cond_clear(&c);
	json_decref(lead);
}

static void
test_number(void **state)
{
	json_t *v;
	double d;

	(void)state;
	v = json_integer(7);
	d = -1;
	assert_true(match_number(v, &d));
	assert_true(d == 7.0);
	json_decref(v);

	v = json_real(2.5);
	d = -1;
	assert_true(match_number(v, &d));
	assert_true(d == 2.5);
	json_decref(v);

	v = json_integer(-9);
	assert_true(match_number(v, &d));
	assert_true(d == -9.0);
	json_decref(v);

	d = 42;
	assert_false(match_number(json_true(), &d));
	assert_false(match_number(json_false(), &d));
	assert_false(match_number(json_null(), &d));
	v = json_string("1");
	assert_false(match_number(v, &d));
	json_decref(v);
	assert_false(match_number(NULL, &d));
	assert_true(d == 42);
}

/* --- eq and ne ----------------------------------------------------------- */

static void
test_eq_string_ignores_case(void **state)
{
	static const char *const v[] = {"Partner"};
	struct match_cond c;

	(void)state;
	cond_strs(&c, "source", MATCH_EQ, v, 1);
	assert_true(eval(&c, "{\"source\": \"partner\"}"));
	assert_true(eval(&c, "{\"source\": \"PARTNER\"}"));
	assert_true(eval(&c, "{\"source\": \"pArTnEr\"}"));
	assert_false(eval(&c, "{\"source\": \"partners\"}"));
	assert_false(eval(&c, "{\"source\": \"partne\"}"));
	assert_false(eval(&c, "{\"source\": \" partner\"}"));
	assert_false(eval(&c, "{\"source\": \"\"}"));
	assert_false(eval(&c, "{\"source\": 1}"));
	assert_false(eval(&c, "{\"source\": true}"));
	assert_false(eval(&c, "{\"source\": null}"));
	assert_false(eval(&c, "{\"source\": [\"partner\"]}"));
	assert_false(eval(&c, "{\"other\": \"partner\"}"));
	match_cond_clear(&c);
}

static void
test_eq_string_is_ascii_only(void **state)
{
	static const char *const v[] = {"\xc3\x89t\xc3\xa9"};	/* Été */
	struct match_cond c;

	(void)state;
	cond_strs(&c, "f", MATCH_EQ, v, 1);
	assert_true(eval(&c, "{\"f\": \"\xc3\x89T\xc3\xa9\"}"));
	/* été: É and é differ by a non-ASCII case, which is not folded. */
	assert_false(eval(&c, "{\"f\": \"\xc3\xa9t\xc3\xa9\"}"));
	match_cond_clear(&c);
}

static void
test_eq_number(void **state)
{
	struct match_cond c;

	(void)state;
	cond_num(&c, "employees", MATCH_EQ, 100);
	assert_true(eval(&c, "{\"employees\": 100}"));
	assert_true(eval(&c, "{\"employees\": 100.0}"));
	assert_true(eval(&c, "{\"employees\": 1e2}"));
	assert_false(eval(&c, "{\"employees\": 100.5}"));
	assert_false(eval(&c, "{\"employees\": 99}"));
	assert_false(eval(&c, "{\"employees\": -100}"));
	assert_false(eval(&c, "{\"employees\": \"100\"}"));
	assert_false(eval(&c, "{\"employees\": true}"));
	assert_false(eval(&c, "{\"employees\": null}"));
	assert_false(eval(&c, "{}"));
	match_cond_clear(&c);

	cond_num(&c, "revenue", MATCH_EQ, 2.5);
	assert_true(eval(&c, "{\"revenue\": 2.5}"));
	assert_false(eval(&c, "{\"revenue\": 2}"));
	assert_false(eval(&c, "{\"revenue\": 3}"));
	match_cond_clear(&c);
}

static void
test_eq_bool(void **state)
{
	struct match_cond c;

	(void)state;
	cond_bool(&c, "activity.demo_request", MATCH_EQ, true);
	assert_true(eval(&c, "{\"activity\": {\"demo_request\": true}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": false}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": 1}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": \"true\"}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": null}}"));
	assert_false(eval(&c, "{\"activity\": {}}"));
	match_cond_clear(&c);

	cond_bool(&c, "opt_in", MATCH_EQ, false);
	assert_true(eval(&c, "{\"opt_in\": false}"));
	assert_false(eval(&c, "{\"opt_in\": true}"));
	assert_false(eval(&c, "{\"opt_in\": 0}"));
	assert_false(eval(&c, "{\"opt_in\": \"false\"}"));
	assert_false(eval(&c, "{\"opt_in\": null}"));
	match_cond_clear(&c);
}

static void
test_ne_string(void **state)
{
	static const char *const v[] = {"partner"};
	struct match_cond c;

	(void)state;
	cond_strs(&c, "source", MATCH_NE, v, 1);
	assert_true(eval(&c, "{\"source\": \"webinar\"}"));
	assert_true(eval(&c, "{\"source\": \"\"}"));
	assert_true(eval(&c, "{\"source\": \"partners\"}"));
	assert_false(eval(&c, "{\"source\": \"partner\"}"));
	assert_false(eval(&c, "{\"source\": \"Partner\"}"));
	/* Missing or of another type: neither eq nor ne. */
	assert_false(eval(&c, "{}"));
	assert_false(eval(&c, "{\"source\": null}"));
	assert_false(eval(&c, "{\"source\": 5}"));
	assert_false(eval(&c, "{\"source\": false}"));
	assert_false(eval(&c, "{\"source\": {}}"));
	assert_false(eval(&c, "{\"source\": [\"webinar\"]}"));
	match_cond_clear(&c);
}

static void
test_ne_number(void **state)
{
	struct match_cond c;

	(void)state;
	cond_num(&c, "employees", MATCH_NE, 100);
	assert_true(eval(&c, "{\"employees\": 99}"));
	assert_true(eval(&c, "{\"employees\": 100.5}"));
	assert_false(eval(&c, "{\"employees\": 100}"));
	assert_false(eval(&c, "{\"employees\": 100.0}"));
	assert_false(eval(&c, "{\"employees\": \"99\"}"));
	assert_false(eval(&c, "{\"employees\": true}"));
	assert_false(eval(&c, "{\"employees\": null}"));
	assert_false(eval(&c, "{}"));
	match_cond_clear(&c);
}

static void
test_ne_bool(void **state)
{
	struct match_cond c;

	(void)state;
	cond_bool(&c, "vip", MATCH_NE, true);
	assert_true(eval(&c, "{\"vip\": false}"));
	assert_false(eval(&c, "{\"vip\": true}"));
	assert_false(eval(&c, "{\"vip\": 0}"));
	assert_false(eval(&c, "{\"vip\": \"no\"}"));
	assert_false(eval(&c, "{\"vip\": null}"));
	assert_false(eval(&c, "{}"));
	match_cond_clear(&c);
}

/* --- string lists -------------------------------------------------------- */

static void
test_in(void **state)
{
	static const char *const v[] = {"software", "FinTech"};
	struct match_cond c;

	(void)state;
	cond_strs(&c, "industry", MATCH_IN, v, 2);
	assert_true(eval(&c, "{\"industry\": \"software\"}"));
	assert_true(eval(&c, "{\"industry\": \"Software\"}"));
	assert_true(eval(&c, "{\"industry\": \"FINTECH\"}"));
	assert_true(eval(&c, "{\"industry\": \"fintech\"}"));
	assert_false(eval(&c, "{\"industry\": \"soft\"}"));
	assert_false(eval(&c, "{\"industry\": \"software \"}"));
	assert_false(eval(&c, "{\"industry\": \"enterprise software\"}"));
	assert_false(eval(&c, "{\"industry\": \"\"}"));
	assert_false(eval(&c, "{\"industry\": 5}"));
	assert_false(eval(&c, "{\"industry\": [\"software\"]}"));
	assert_false(eval(&c, "{\"industry\": null}"));
	assert_false(eval(&c, "{}"));
	match_cond_clear(&c);
}

static void
test_contains_any(void **state)
{
	static const char *const v[] = {"vp", "director", "head"};
	struct match_cond c;

	(void)state;
	cond_strs(&c, "title", MATCH_CONTAINS_ANY, v, 3);
	assert_true(eval(&c, "{\"title\": \"Senior VP Sales\"}"));
	assert_true(eval(&c, "{\"title\": \"vp\"}"));
	assert_true(eval(&c, "{\"title\": \"Head of Growth\"}"));
	assert_true(eval(&c, "{\"title\": \"Marketing DIRECTOR\"}"));
	assert_true(eval(&c, "{\"title\": \"Svp\"}"));
	assert_true(eval(&c, "{\"title\": \"Deputy Head\"}"));
	assert_false(eval(&c, "{\"title\": \"Engineer\"}"));
	assert_false(eval(&c, "{\"title\": \"v\"}"));
	assert_false(eval(&c, "{\"title\": \"v p\"}"));
	assert_false(eval(&c, "{\"title\": \"direct\"}"));
	assert_false(eval(&c, "{\"title\": \"\"}"));
	assert_false(eval(&c, "{\"title\": 3}"));
	assert_false(eval(&c, "{\"title\": true}"));
	assert_false(eval(&c, "{}"));
	match_cond_clear(&c);
}

static void
test_ends_with_any(void **state)
{
	static const char *const v[] = {"@gmail.com", "@Yahoo.com"};
	struct match_cond c;

	(void)state;
	cond_strs(&c, "email", MATCH_ENDS_WITH_ANY, v, 2);
	assert_true(eval(&c, "{\"email\": \"bob@gmail.com\"}"));
	assert_true(eval(&c, "{\"email\": \"Bob@GMAIL.COM\"}"));
	assert_true(eval(&c, "{\"email\": \"@gmail.com\"}"));
	assert_true(eval(&c, "{\"email\": \"al@yahoo.COM\"}"));
	assert_false(eval(&c, "{\"email\": \"bob@gmail.com.au\"}"));
	assert_false(eval(&c, "{\"email\": \"gmail.com\"}"));
	assert_false(eval(&c, "{\"email\": \"bob@gmail.co\"}"));
	assert_false(eval(&c, "{\"email\": \"bob@notgmail.com\"}"));
	assert_false(eval(&c, "{\"email\": \"\"}"));
	assert_false(eval(&c, "{\"email\": 1}"));
	assert_false(eval(&c, "{}"));
	match_cond_clear(&c);
}

static void
test_strings_with_nul_bytes(void **state)
{
	struct match_cond c;

	(void)state;
	/* The lead's string "ab\0cd" is five bytes, not "ab". */
	cond_init(&c, "f", MATCH_IN);
	assert_int_equal(match_add_str(&c, "ab", 2), 0);
	assert_false(eval_bytes(&c, "ab\0cd", 5));
	assert_true(eval_bytes(&c, "ab", 2));
	match_cond_clear(&c);

	cond_init(&c, "f", MATCH_IN);
	assert_int_equal(match_add_str(&c, "AB\0CD", 5), 0);
	assert_true(eval_bytes(&c, "ab\0cd", 5));
	assert_true(eval_bytes(&c, "Ab\0cD", 5));
	assert_false(eval_bytes(&c, "ab", 2));
	assert_false(eval_bytes(&c, "ab\0c", 4));
	assert_false(eval_bytes(&c, "ab\0cde", 6));
	assert_false(eval_bytes(&c, "ab\0\0cd", 6));
	match_cond_clear(&c);

	cond_init(&c, "f", MATCH_CONTAINS_ANY);
	assert_int_equal(match_add_str(&c, "B\0C", 3), 0);
	assert_true(eval_bytes(&c, "ab\0cd", 5));
	assert_false(eval_bytes(&c, "abcd", 4));
	assert_false(eval_bytes(&c, "ab\0", 3));
	match_cond_clear(&c);

	/* A needle after the NUL is still found. */
	cond_init(&c, "f", MATCH_CONTAINS_ANY);
	assert_int_equal(match_add_str(&c, "director", 8), 0);
	assert_true(eval_bytes(&c, "x\0Director", 10));
	match_cond_clear(&c);

	cond_init(&c, "f", MATCH_ENDS_WITH_ANY);
	assert_int_equal(match_add_str(&c, "\0cd", 3), 0);
	assert_true(eval_bytes(&c, "ab\0cd", 5));
	assert_true(eval_bytes(&c, "\0CD", 3));
	assert_false(eval_bytes(&c, "abcd", 4));
	assert_false(eval_bytes(&c, "cd", 2));
	match_cond_clear(&c);

	cond_init(&c, "f", MATCH_ENDS_WITH_ANY);
	assert_int_equal(match_add_str(&c, "cd", 2), 0);
	assert_true(eval_bytes(&c, "ab\0cd", 5));
	assert_false(eval_bytes(&c, "ab\0cd\0", 6));
	match_cond_clear(&c);

	cond_init(&c, "f", MATCH_EQ);
	c.kind = MATCH_KIND_STRING;
	assert_int_equal(match_add_str(&c, "ab", 2), 0);
	assert_false(eval_bytes(&c, "ab\0cd", 5));
	assert_true(eval_bytes(&c, "AB", 2));
	c.op = MATCH_NE;
	assert_true(eval_bytes(&c, "ab\0cd", 5));
	assert_false(eval_bytes(&c, "aB", 2));
	match_cond_clear(&c);

	/* The same through the JSON text (\u0000 escapes). */
	cond_init(&c, "f", MATCH_IN);
	assert_int_equal(match_add_str(&c, "a\0b", 3), 0);
	assert_true(eval(&c, "{\"f\": \"A\\u0000B\"}"));
	assert_false(eval(&c, "{\"f\": \"a\"}"));
	match_cond_clear(&c);
}

/* --- numbers ------------------------------------------------------------- */

static void
test_lt_lte_gt_gte(void **state)
{
	static const struct {
		const char *lead;
		bool lt, lte, gt, gte;
	} cases[] = {
		{"{\"n\": 99}", true, true, false, false},
		{"{\"n\": 99.5}", true, true, false, false},
		{"{\"n\": 100}", false, true, false, true},
		{"{\"n\": 100.0}", false, true, false, true},
		{"{\"n\": 100.5}", false, false, true, true},
		{"{\"n\": 101}", false, false, true, true},
		{"{\"n\": -1e300}", true, true, false, false},
		{"{\"n\": 1e300}", false, false, true, true},
		{"{\"n\": 9223372036854775807}", false, false, true, true},
		{"{\"n\": \"50\"}", false, false, false, false},
		{"{\"n\": \"500\"}", false, false, false, false},
		{"{\"n\": true}", false, false, false, false},
		{"{\"n\": false}", false, false, false, false},
		{"{\"n\": null}", false, false, false, false},
		{"{\"n\": [50]}", false, false, false, false},
		{"{\"n\": {\"v\": 50}}", false, false, false, false},
		{"{}", false, false, false, false},
	};
	struct match_cond lt, lte, gt, gte;

	(void)state;
	cond_num(&lt, "n", MATCH_LT, 100);
	cond_num(&lte, "n", MATCH_LTE, 100);
	cond_num(&gt, "n", MATCH_GT, 100);
	cond_num(&gte, "n", MATCH_GTE, 100);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (eval(&lt, cases[i].lead) != cases[i].lt ||
		    eval(&lte, cases[i].lead) != cases[i].lte ||
		    eval(&gt, cases[i].lead) != cases[i].gt ||
		    eval(&gte, cases[i].lead) != cases[i].gte)
			fail_msg("wrong lt/lte/gt/gte for %s", cases[i].lead);
	}
	match_cond_clear(&lt);
	match_cond_clear(&lte);
	match_cond_clear(&gt);
	match_cond_clear(&gte);
}

static void
test_between_inclusive(void **state)
{
	struct match_cond c;

	(void)state;
	cond_between(&c, "employees", 100, 999);
	assert_false(eval(&c, "{\"employees\": 99}"));
	assert_false(eval(&c, "{\"employees\": 99.99}"));
	assert_true(eval(&c, "{\"employees\": 100}"));
	assert_true(eval(&c, "{\"employees\": 100.0}"));
	assert_true(eval(&c, "{\"employees\": 500}"));
	assert_true(eval(&c, "{\"employees\": 999}"));
	assert_true(eval(&c, "{\"employees\": 999.0}"));
	assert_false(eval(&c, "{\"employees\": 999.5}"));
	assert_false(eval(&c, "{\"employees\": 1000}"));
	assert_false(eval(&c, "{\"employees\": -500}"));
	assert_false(eval(&c, "{\"employees\": \"many\"}"));
	assert_false(eval(&c, "{\"employees\": \"500\"}"));
	assert_false(eval(&c, "{\"employees\": true}"));
	assert_false(eval(&c, "{\"employees\": null}"));
	assert_false(eval(&c, "{}"));
	match_cond_clear(&c);

	/* min == max: exactly one value. */
	cond_between(&c, "n", 7, 7);
	assert_true(eval(&c, "{\"n\": 7}"));
	assert_false(eval(&c, "{\"n\": 6.999}"));
	assert_false(eval(&c, "{\"n\": 7.001}"));
	match_cond_clear(&c);
}

static void
test_wrong_type_matches_no_numeric_op(void **state)
{
	static const enum match_op ops[] = {
		MATCH_LT, MATCH_LTE, MATCH_GT, MATCH_GTE, MATCH_BETWEEN,
		MATCH_EQ, MATCH_NE,
	};
	struct match_cond c;

	(void)state;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		cond_num(&c, "employees", ops[i], 50);
		c.min = 0;
		c.max = 1e9;
		assert_false(eval(&c, "{\"employees\": \"many\"}"));
		assert_false(eval(&c, "{\"employees\": true}"));
		assert_false(eval(&c, "{\"employees\": false}"));
		/* The same condition does match a number. */
		assert_true(eval(&c, ops[i] == MATCH_EQ ?
		    "{\"employees\": 50}" : ops[i] == MATCH_LT ||
		    ops[i] == MATCH_LTE ? "{\"employees\": 1}" :
		    "{\"employees\": 51}"));
		match_cond_clear(&c);
	}
}

/* --- exists and is_true -------------------------------------------------- */

static void
test_exists(void **state)
{
	struct match_cond c;

	(void)state;
	/* A field the lead format does not define: any value but null. */
	cond_init(&c, "nickname", MATCH_EXISTS);
	assert_true(eval(&c, "{\"nickname\": \"Acme\"}"));
	assert_true(eval(&c, "{\"nickname\": \"\"}"));
	assert_true(eval(&c, "{\"nickname\": 0}"));
	assert_true(eval(&c, "{\"nickname\": false}"));
	assert_true(eval(&c, "{\"nickname\": {}}"));
	assert_true(eval(&c, "{\"nickname\": []}"));
	assert_false(eval(&c, "{\"nickname\": null}"));
	assert_false(eval(&c, "{}"));
	assert_false(eval(&c, "{\"Nickname\": \"Acme\"}"));
	match_cond_clear(&c);
}

/*
 * A field the lead format defines, of the wrong type, counts as missing
 * (README "Input: leads"): "employees": "many" exists for no rule.
 */
static void
test_known_field_wrong_type_is_missing(void **state)
{
	static const struct {
		const char *field;
		const char *good, *bad[4];
	} cases[] = {
		{"company", "{\"company\": \"Acme\"}", {"{\"company\": 0}",
		    "{\"company\": false}", "{\"company\": {}}",
		    "{\"company\": []}"}},
		{"employees", "{\"employees\": 0}", {"{\"employees\": \"many\"}",
		    "{\"employees\": [1]}", "{\"employees\": {}}",
		    "{\"employees\": true}"}},
		{"revenue", "{\"revenue\": 2.5e6}", {"{\"revenue\": \"2m\"}",
		    "{\"revenue\": {}}", "{\"revenue\": [1]}",
		    "{\"revenue\": false}"}},
		{"activity.demo_request", "{\"activity\": {\"demo_request\": false}}",
		    {"{\"activity\": {\"demo_request\": \"yes\"}}",
		    "{\"activity\": {\"demo_request\": {}}}",
		    "{\"activity\": {\"demo_request\": [true]}}",
		    "{\"activity\": {\"demo_request\": \"\"}}"}},
		{"created_at_ms", "{\"created_at_ms\": 1700000000000}",
		    {"{\"created_at_ms\": \"today\"}",
		    "{\"created_at_ms\": [1]}", "{\"created_at_ms\": {}}",
		    "{\"created_at_ms\": true}"}},
	};
	struct match_cond c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cond_init(&c, cases[i].field, MATCH_EXISTS);
		assert_true(eval(&c, cases[i].good));
		for (size_t j = 0; j < 4; j++) {
			if (eval(&c, cases[i].bad[j]))
				fail_msg("'%s' exists in %s", cases[i].field,
				    cases[i].bad[j]);
		}
		match_cond_clear(&c);
	}
	/* Every operator sees it as missing: ne matches no missing field. */
	cond_strs(&c, "employees", MATCH_NE, (const char *const[]){"x"}, 1);
	assert_false(eval(&c, "{\"employees\": \"many\"}"));
	match_cond_clear(&c);
	cond_strs(&c, "employees", MATCH_EQ, (const char *const[]){"many"}, 1);
	assert_false(eval(&c, "{\"employees\": \"many\"}"));
	match_cond_clear(&c);
	/* activity is an object: a scalar there is missing, and so is a
	 * path through it. */
	cond_init(&c, "activity", MATCH_EXISTS);
	assert_true(eval(&c, "{\"activity\": {}}"));
	assert_false(eval(&c, "{\"activity\": 5}"));
	match_cond_clear(&c);
	/* Extra fields of activity are numbers or booleans, any name. */
	cond_init(&c, "activity.webinar_minutes", MATCH_EXISTS);
	assert_true(eval(&c, "{\"activity\": {\"webinar_minutes\": 12}}"));
	assert_false(eval(&c, "{\"activity\": {\"webinar_minutes\": \"12\"}}"));
	match_cond_clear(&c);
	/* A string field holds nothing below it. */
	cond_init(&c, "company.name", MATCH_EXISTS);
	assert_false(eval(&c, "{\"company\": {\"name\": \"Acme\"}}"));
	match_cond_clear(&c);
}

static void
test_is_true(void **state)
{
	struct match_cond c;

	(void)state;
	cond_init(&c, "activity.demo_request", MATCH_IS_TRUE);
	assert_true(eval(&c, "{\"activity\": {\"demo_request\": true}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": false}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": 1}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": \"true\"}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": null}}"));
	assert_false(eval(&c, "{\"activity\": {\"demo_request\": [true]}}"));
	assert_false(eval(&c, "{\"activity\": {}}"));
	assert_false(eval(&c, "{\"activity\": true}"));
	assert_false(eval(&c, "{}"));
	match_cond_clear(&c);
}

/* --- paths --------------------------------------------------------------- */

static void
test_dotted_paths(void **state)
{
	struct match_cond c;

	(void)state;
	cond_num(&c, "activity.page_views", MATCH_GT, 3);
	assert_true(eval(&c, "{\"activity\": {\"page_views\": 5}}"));
	assert_false(eval(&c, "{\"activity\": {\"page_views\": 2}}"));
	/* Missing intermediate object, or a leaf missing under it. */
	assert_false(eval(&c, "{}"));
	assert_false(eval(&c, "{\"activity\": {}}"));
	assert_false(eval(&c, "{\"activity\": null}"));
	/* A path through something that is not an object. */
	assert_false(eval(&c, "{\"activity\": 5}"));
	assert_false(eval(&c, "{\"activity\": \"page_views\"}"));
	assert_false(eval(&c, "{\"activity\": [5]}"));
	assert_false(eval(&c, "{\"activity\": [{\"page_views\": 5}]}"));
	assert_false(eval(&c, "{\"activity\": true}"));
	/* A key with a dot in it is not a path. */
	assert_false(eval(&c, "{\"activity.page_views\": 5}"));
	/* Only the full path counts, not a sibling or the parent. */
	assert_false(eval(&c, "{\"page_views\": 5, \"activity\": {}}"));
	match_cond_clear(&c);

	cond_init(&c, "a.b.c", MATCH_IS_TRUE);
	assert_true(eval(&c, "{\"a\": {\"b\": {\"c\": true}}}"));
	assert_false(eval(&c, "{\"a\": {\"b\": {\"d\": true}}}"));
	assert_false(eval(&c, "{\"a\": {\"b\": true}}"));
	assert_false(eval(&c, "{\"a\": {\"c\": true}}"));
	assert_false(eval(&c, "{\"b\": {\"c\": true}}"));
	match_cond_clear(&c);
}

static void
test_lead_not_an_object(void **state)
{
	struct match_cond c;

	(void)state;
	cond_init(&c, "id", MATCH_EXISTS);
	assert_false(eval(&c, "[\"id\"]"));
	assert_false(eval(&c, "\"id\""));
	assert_false(eval(&c, "5"));
	assert_false(eval(&c, "null"));
	assert_true(eval(&c, "{\"id\": \"x\"}"));
	match_cond_clear(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_names_round_trip),
		cmocka_unit_test(test_op_parse_rejects_unknown),
		cmocka_unit_test(test_op_name_out_of_range),
		cmocka_unit_test(test_op_classes),
		cmocka_unit_test(test_set_field_dotted),
		cmocka_unit_test(test_set_field_single),
		cmocka_unit_test(test_set_field_rejects_empty_components),
		cmocka_unit_test(test_add_str_lowercases_and_keeps_length),
		cmocka_unit_test(test_cond_clear_resets),
		cmocka_unit_test(test_lookup_returns_the_value),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_eq_string_ignores_case),
		cmocka_unit_test(test_eq_string_is_ascii_only),
		cmocka_unit_test(test_eq_number),
		cmocka_unit_test(test_eq_bool),
		cmocka_unit_test(test_ne_string),
		cmocka_unit_test(test_ne_number),
		cmocka_unit_test(test_ne_bool),
		cmocka_unit_test(test_in),
		cmocka_unit_test(test_contains_any),
		cmocka_unit_test(test_ends_with_any),
		cmocka_unit_test(test_strings_with_nul_bytes),
		cmocka_unit_test(test_lt_lte_gt_gte),
		cmocka_unit_test(test_between_inclusive),
		cmocka_unit_test(test_wrong_type_matches_no_numeric_op),
		cmocka_unit_test(test_exists),
		cmocka_unit_test(test_known_field_wrong_type_is_missing),
		cmocka_unit_test(test_is_true),
		cmocka_unit_test(test_dotted_paths),
		cmocka_unit_test(test_lead_not_an_object),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
