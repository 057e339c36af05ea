/* test_decide.c - cmocka tests of decide.c: lead decisions, dead letters, routing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "decide.h"
#include "event.h"

#define S(lit) lit, sizeof(lit) - 1
#define NOW 1717000000123LL
#define EXAMPLE_CONF "conf/leadrouted.conf"

/*
 * The configuration most tests decide with. Rules by index: 0 title, 1
 * employees, 2 demo_request, 3 page_views, 4 gmail, 5 source. Segment
 * "polar" has no reps (one warning); "mid" is the default.
 */
static const char test_conf[] =
    "intake = { max_bytes = 512; };\n"
    "scoring = { mql_threshold = 50; rules = (\n"
    "  { field = \"title\"; op = \"contains_any\";"
    " values = [\"vp\", \"director\"]; points = 20; },\n"
    "  { field = \"employees\"; op = \"between\"; min = 100; max = 999;"
    " points = 15; },\n"
    "  { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; },\n"
    "  { field = \"activity.page_views\"; op = \"per\"; points = 2;"
    " max = 20; },\n"
    "  { field = \"email\"; op = \"ends_with_any\"; values = [\"@gmail.com\"];"
    " points = -15; },\n"
    "  { field = \"source\"; op = \"eq\"; value = \"partner\"; points = 10; }\n"
    "); };\n"
    "segments = (\n"
    "  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
    "  { name = \"mid\"; field = \"employees\"; op = \"between\"; min = 100;"
    " max = 999; },\n"
    "  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 1000; },\n"
    "  { name = \"polar\"; field = \"country\"; op = \"eq\"; value = \"aq\"; }\n"
    ");\n"
    "default_segment = \"mid\";\n"
    "reps = (\n"
    "  { id = \"zed\"; segments = [\"mid\"]; max_open = 3;"
    " max_per_period = 0; },\n"
    "  { id = \"ann\"; segments = [\"small\", \"mid\"]; max_open = 5;"
    " max_per_period = 7; },\n"
    "  { id = \"bob\"; segments = [\"large\", \"small\"]; }\n"
    ");\n"
    "capacity = { period = 3600; };\n"
    "sla = { follow_up = 600; warn_before = 120; on_breach = \"reassign\";"
    " max_reassign = 3; alert_log_max = 500; };\n";

enum { SEG_SMALL, SEG_MID, SEG_LARGE, SEG_POLAR };

/* The state of the group: the test configuration, loaded once. */
static char conf_path[64];
static struct lr_config *cfg;

/* One expected line of a score receipt. */
struct want_hit {
	size_t rule;
	const char *field;
	const char *op;
	long long points;
};

/* --- helpers -------------------------------------------------------------- */

/* Write text to a new temp file (path, size) and load it; warnings allowed. */
static struct lr_config *
load_conf(char *path, size_t size, const char *text, size_t nwarnings)
{
	struct cfg_diag diag = {0};
	struct lr_config *c;
	FILE *f;
	int fd;

	snprintf(path, size, "/tmp/test_decide.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	c = cfg_load(path, &diag);
	for (size_t i = 0; i < diag.nerrors; i++)
		print_message("error: %s\n", diag.errors[i]);
	assert_int_equal(diag.nerrors, 0);
	assert_int_equal(diag.nwarnings, nwarnings);
	cfg_diag_clear(&diag);
	assert_non_null(c);
	return c;
}

static int
setup(void **state)
{
	(void)state;
	cfg = load_conf(conf_path, sizeof(conf_path), test_conf, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cfg_free(cfg);
	cfg = NULL;
	unlink(conf_path);
	return 0;
}

/* decide_lead with hits sized exactly as promised (ASan sees overruns). */
static void
decide(const struct lr_config *c, const char *raw, size_t len,
    long long redeliveries, struct lead_decision *d)
{
	struct score_hit *hits = NULL;

	if (c->scoring.nrules > 0)
		assert_non_null(hits = malloc(c->scoring.nrules *
		    sizeof(*hits)));
	memset(d, 0xa5, sizeof(*d));
	assert_int_equal(decide_lead(c, raw, len, redeliveries, NOW, hits,
	    d), 0);
	free(hits);
}

static json_t *
load_json(const char *text)
{
	json_error_t jerr;
	json_t *o;

	assert_non_null(text);
	o = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (o == NULL)
		fail_msg("not JSON (%s): %s", jerr.text, text);
	/* Compact: no space after separators. */
	assert_null(strstr(text, "\": "));
	assert_null(strstr(text, ", \""));
	return o;
}

static long long
int_member(const json_t *o, const char *name)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer", name);
	return json_integer_value(v);
}

static const char *
str_member(const json_t *o, const char *name)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", name);
	return json_string_value(v);
}

/* Decide text, expect a lead with this id, score, segment and source. */
static void
lead_ok(const char *text, long long redeliveries, const char *id,
    long long score, size_t segment, const char *source,
    struct lead_decision *d)
{
	decide(cfg, text, strlen(text), redeliveries, d);
	if (d->kind != DECISION_LEAD)
		fail_msg("expected a lead, got dead letter %s",
		    d->dead_json != NULL ? d->dead_json : "(null)");
	assert_string_equal(d->id, id);
	assert_int_equal(d->score, score);
	assert_int_equal(d->segment, segment);
	assert_int_equal(d->mql, score >= 50);
	assert_non_null(d->source);
	assert_string_equal(d->source, source);
	assert_non_null(d->receipt);
	assert_int_equal(d->reason, DL_NONE);
	assert_null(d->dead_json);
}

/* The receipt is exactly {score, mql_threshold, config_version, rules}. */
static void
assert_receipt(const struct lr_config *c, const char *receipt,
    long long score, const struct want_hit *want, size_t nwant)
{
	json_t *o = load_json(receipt), *rules;

	assert_true(json_is_object(o));
	assert_int_equal(json_object_size(o), 4);
	assert_int_equal(int_member(o, "score"), score);
	assert_int_equal(int_member(o, "mql_threshold"),
	    c->scoring.mql_threshold);
	assert_string_equal(str_member(o, "config_version"), c->version);
	rules = json_object_get(o, "rules");
	assert_true(json_is_array(rules));
	assert_int_equal(json_array_size(rules), nwant);
	for (size_t i = 0; i < nwant; i++) {
		const json_t *r = json_array_get(rules, i);

		assert_true(json_is_object(r));
		assert_int_equal(json_object_size(r), 4);
		assert_int_equal(int_member(r, "rule"), want[i].rule);
		assert_string_equal(str_member(r, "field"), want[i].field);
		assert_string_equal(str_member(r, "op"), want[i].op);
		assert_int_equal(int_member(r, "points"), want[i].points);
	}
	json_decref(o);
}

/*
 * A dead letter is exactly {reason, detail, at_ms, source, raw} with raw
 * the original bytes; raw_base64 instead of raw when they are not UTF-8.
 */
static void
assert_dead_json(const char *text, const char *reason, const char *detail,
    const char *source, const char *raw, size_t len, const char *b64)
{
	json_t *o = load_json(text);
	const json_t *r;

	assert_true(json_is_object(o));
	assert_int_equal(json_object_size(o), 5);
	assert_string_equal(str_member(o, "reason"), reason);
	assert_string_equal(str_member(o, "detail"), detail);
	assert_true(int_member(o, "at_ms") == NOW);
	assert_string_equal(str_member(o, "source"), source);
	if (b64 == NULL) {
		assert_null(json_object_get(o, "raw_base64"));
		r = json_object_get(o, "raw");
		assert_true(json_is_string(r));
		assert_int_equal(json_string_length(r), len);
		assert_memory_equal(json_string_value(r), raw, len);
	} else {
		assert_null(json_object_get(o, "raw"));
		assert_string_equal(str_member(o, "raw_base64"), b64);
	}
	json_decref(o);
}

/* Decide len bytes, expect a dead letter of this reason and detail. */
static void
dead_ok(const char *raw, size_t len, long long redeliveries,
    enum dl_reason reason, const char *detail, const char *b64)
{
	struct lead_decision d;

	decide(cfg, raw, len, redeliveries, &d);
	if (d.kind != DECISION_DEAD)
		fail_msg("expected dead letter %s, got lead '%s'",
		    dl_reason_name(reason), d.id);
	assert_int_equal(d.reason, reason);
	assert_string_equal(d.id, "");
	assert_null(d.source);
	assert_null(d.receipt);
	assert_non_null(d.dead_json);
	assert_dead_json(d.dead_json, dl_reason_name(reason), detail,
	    "incoming", raw, len, b64);
	lead_decision_clear(&d);
}

/* Expect the reason lead_parse gives, with its very detail. */
static void
dead_as_parsed(const char *raw, size_t len, enum dl_reason reason)
{
	struct lead lead;
	struct lead_error err;

	assert_int_equal(lead_parse(raw, len, cfg->intake.max_bytes, &lead,
	    &err), -1);
	assert_int_equal(err.reason, reason);
	dead_ok(raw, len, 0, reason, err.detail, NULL);
}

/* Parse a routing table, which has exactly its seventeen keys. */
static json_t *
load_routing(const struct lr_config *c)
{
	char *text = decide_routing_json(c);
	json_t *o = load_json(text);

	free(text);
	assert_true(json_is_object(o));
	assert_int_equal(json_object_size(o), 17);
	return o;
}

/* The routing's list of reps of a segment is exactly want (n names). */
static void
assert_seg_reps(const json_t *routing, const char *seg,
    const char *const *want, size_t n)
{
	const json_t *list = json_object_get(json_object_get(routing, "segs"),
	    seg);

	if (!json_is_array(list))
		fail_msg("segs.%s is not an array", seg);
	assert_int_equal(json_array_size(list), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(list, i)),
		    want[i]);
}

static void
assert_rep_limits(const json_t *routing, const char *rep, long long max_open,
    long long max_per_period)
{
	const json_t *l = json_object_get(json_object_get(routing, "reps"),
	    rep);

	if (!json_is_array(l))
		fail_msg("reps.%s is not an array", rep);
	assert_int_equal(json_array_size(l), 2);
	assert_true(json_is_integer(json_array_get(l, 0)));
	assert_true(json_is_integer(json_array_get(l, 1)));
	assert_int_equal(json_integer_value(json_array_get(l, 0)), max_open);
	assert_int_equal(json_integer_value(json_array_get(l, 1)),
	    max_per_period);
}

/* --- valid leads ---------------------------------------------------------- */

static void
test_lead_full(void **state)
{
	static const char raw[] =
	    "{\"id\":\"web-42\",\"email\":\"ann@acme.example\","
	    "\"title\":\"VP Sales\",\"employees\":250,"
	    "\"activity\":{\"demo_request\":true,\"page_views\":7},"
	    "\"source\":\"partner\",\"utm\":{\"c\":1}}";
	static const struct want_hit want[] = {
		{0, "title", "contains_any", 20},
		{1, "employees", "between", 15},
		{2, "activity.demo_request", "is_true", 30},
		{3, "activity.page_views", "per", 14},
		{5, "source", "eq", 10},
	};
	struct lead_decision d;

	(void)state;
	lead_ok(raw, 0, "web-42", 89, SEG_MID, "partner", &d);
	assert_int_equal(d.kind, DECISION_LEAD);
	assert_true(d.mql);
	assert_receipt(cfg, d.receipt, 89, want, 5);
	lead_decision_clear(&d);
}

static void
test_lead_no_rules_matched(void **state)
{
	struct lead_decision d;

	(void)state;
	lead_ok("{\"id\":\"L-0\",\"email\":\"a@b\"}", 0, "L-0", 0, SEG_MID, "",
	    &d);
	assert_false(d.mql);
	assert_receipt(cfg, d.receipt, 0, NULL, 0);
	/* An empty receipt still says "rules":[]. */
	assert_non_null(strstr(d.receipt, "\"rules\":[]"));
	lead_decision_clear(&d);
}

static void
test_lead_negative_and_capped(void **state)
{
	static const struct want_hit want[] = {
		{3, "activity.page_views", "per", 20},
		{4, "email", "ends_with_any", -15},
	};
	struct lead_decision d;

	(void)state;
	lead_ok("{\"id\":\"L-1\",\"email\":\"kid@GMAIL.com\","
	    "\"activity\":{\"page_views\":500},\"employees\":12}", 0, "L-1", 5,
	    SEG_SMALL, "", &d);
	assert_false(d.mql);
	assert_receipt(cfg, d.receipt, 5, want, 2);
	lead_decision_clear(&d);

	/* Below zero: gmail alone. */
	lead_ok("{\"id\":\"L-2\",\"email\":\"kid@gmail.com\"}", 0, "L-2", -15,
	    SEG_MID, "", &d);
	assert_false(d.mql);
	assert_receipt(cfg, d.receipt, -15, want + 1, 1);
	lead_decision_clear(&d);
}

static void
test_mql_threshold(void **state)
{
	static const struct want_hit at[] = {
		{0, "title", "contains_any", 20},
		{2, "activity.demo_request", "is_true", 30},
	};
	static const struct want_hit below[] = {
		{1, "employees", "between", 15},
		{2, "activity.demo_request", "is_true", 30},
		{3, "activity.page_views", "per", 4},
	};
	struct lead_decision d;

	(void)state;
	/* Exactly at the threshold: an MQL. */
	lead_ok("{\"id\":\"at\",\"email\":\"a@b\",\"title\":\"Director\","
	    "\"activity\":{\"demo_request\":true}}", 0, "at", 50, SEG_MID, "",
	    &d);
	assert_true(d.mql);
	assert_receipt(cfg, d.receipt, 50, at, 2);
	lead_decision_clear(&d);

	/* One below: nurture. */
	lead_ok("{\"id\":\"below\",\"email\":\"a@b\",\"employees\":100,"
	    "\"activity\":{\"demo_request\":true,\"page_views\":2}}", 0,
	    "below", 49, SEG_MID, "", &d);
	assert_false(d.mql);
	assert_receipt(cfg, d.receipt, 49, below, 3);
	lead_decision_clear(&d);

	/* One above. */
	lead_ok("{\"id\":\"above\",\"email\":\"a@b\",\"employees\":999,"
	    "\"activity\":{\"demo_request\":true,\"page_views\":3}}", 0,
	    "above", 51, SEG_MID, "", &d);
	assert_true(d.mql);
	lead_decision_clear(&d);
}

static void
test_segments(void **state)
{
	struct lead_decision d;

	(void)state;
	lead_ok("{\"id\":\"s\",\"email\":\"a@b\",\"employees\":99}", 0, "s", 0,
	    SEG_SMALL, "", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"m\",\"email\":\"a@b\",\"employees\":100}", 0, "m", 15,
	    SEG_MID, "", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"l\",\"email\":\"a@b\",\"employees\":1000}", 0, "l", 0,
	    SEG_LARGE, "", &d);
	lead_decision_clear(&d);
	/* The first matching segment wins, even one without reps. */
	lead_ok("{\"id\":\"p\",\"email\":\"a@b\",\"country\":\"AQ\"}", 0, "p", 0,
	    SEG_POLAR, "", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"p2\",\"email\":\"a@b\",\"country\":\"aq\","
	    "\"employees\":5000}", 0, "p2", 0, SEG_LARGE, "", &d);
	lead_decision_clear(&d);
	/* None matches, or the field has the wrong type: the default. */
	lead_ok("{\"id\":\"d\",\"email\":\"a@b\",\"employees\":\"many\"}", 0,
	    "d", 0, SEG_MID, "", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"d2\",\"email\":\"a@b\",\"country\":\"fr\"}", 0,
	    "d2", 0, SEG_MID, "", &d);
	lead_decision_clear(&d);
}

static void
test_source(void **state)
{
	struct lead_decision d;

	(void)state;
	lead_ok("{\"id\":\"a\",\"email\":\"a@b\",\"source\":\"Partner\"}", 0,
	    "a", 10, SEG_MID, "Partner", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"b\",\"email\":\"a@b\",\"source\":\"webinar 2024\"}",
	    0, "b", 0, SEG_MID, "webinar 2024", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"c\",\"email\":\"a@b\",\"source\":\"\"}", 0, "c", 0,
	    SEG_MID, "", &d);
	lead_decision_clear(&d);
	/* Not a string: as if absent. */
	lead_ok("{\"id\":\"e\",\"email\":\"a@b\",\"source\":42}", 0, "e", 0,
	    SEG_MID, "", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"f\",\"email\":\"a@b\",\"source\":null}", 0, "f", 0,
	    SEG_MID, "", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"g\",\"email\":\"a@b\",\"source\":[\"partner\"]}", 0,
	    "g", 0, SEG_MID, "", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"h\",\"email\":\"a@b\",\"source\":{\"x\":\"y\"}}", 0,
	    "h", 0, SEG_MID, "", &d);
	lead_decision_clear(&d);
	/* UTF-8 is kept as bytes. */
	lead_ok("{\"id\":\"i\",\"email\":\"a@b\",\"source\":\"salon \\u00e9t\\u00e9\"}",
	    0, "i", 0, SEG_MID, "salon \xc3\xa9t\xc3\xa9", &d);
	lead_decision_clear(&d);
}

static void
test_id_bounds(void **state)
{
	char raw[256], id[LEAD_ID_MAX + 1];
	struct lead_decision d;

	(void)state;
	memset(id, 'x', LEAD_ID_MAX);
	id[LEAD_ID_MAX] = '\0';
	snprintf(raw, sizeof(raw), "{\"id\":\"%s\",\"email\":\"a@b\"}", id);
	lead_ok(raw, 0, id, 0, SEG_MID, "", &d);
	lead_decision_clear(&d);
	lead_ok("{\"id\":\"._:@-\",\"email\":\"a@b\"}", 0, "._:@-", 0, SEG_MID,
	    "", &d);
	lead_decision_clear(&d);
}

static void
test_example_conf(void **state)
{
	static const char raw[] =
	    "{\"id\":\"ex-1\",\"email\":\"cto@bigco.example\","
	    "\"title\":\"CTO\",\"employees\":7000,\"country\":\"DE\","
	    "\"source\":\"webinar\",\"activity\":{\"pricing_page\":true}}";
	static const struct want_hit want[] = {
		{0, "title", "contains_any", 20},
		{3, "employees", "gt", 10},
		{5, "country", "in", 5},
		{7, "activity.pricing_page", "is_true", 10},
		{11, "source", "eq", 5},
	};
	struct cfg_diag diag = {0};
	struct lr_config *ex;
	struct lead_decision d;

	(void)state;
	ex = cfg_load(EXAMPLE_CONF, &diag);
	assert_non_null(ex);
	cfg_diag_clear(&diag);
	decide(ex, S(raw), 0, &d);
	assert_int_equal(d.kind, DECISION_LEAD);
	assert_string_equal(d.id, "ex-1");
	assert_int_equal(d.score, 50);
	assert_false(d.mql);
	assert_int_equal(d.segment, 2);
	assert_string_equal(ex->segments.v[d.segment].name, "large");
	assert_string_equal(d.source, "webinar");
	assert_receipt(ex, d.receipt, 50, want, 5);
	lead_decision_clear(&d);
	cfg_free(ex);
}

/* max_bytes is the configuration's: 65536 in the example, 512 here. */
static void
test_max_bytes_from_config(void **state)
{
	struct cfg_diag diag = {0};
	struct lr_config *ex;
	struct lead_decision d;
	char big[1100];
	int k;

	(void)state;
	ex = cfg_load(EXAMPLE_CONF, &diag);
	assert_non_null(ex);
	cfg_diag_clear(&diag);
	k = snprintf(big, sizeof(big), "{\"id\":\"big\",\"email\":\"a@b\","
	    "\"pad\":\"");
	memset(big + k, 'p', 1000);
	memcpy(big + k + 1000, "\"}", 3);
	decide(ex, big, strlen(big), 0, &d);
	assert_int_equal(d.kind, DECISION_LEAD);
	assert_string_equal(d.id, "big");
	lead_decision_clear(&d);
	cfg_free(ex);
	dead_ok(big, strlen(big), 0, DL_TOO_LARGE, "payload is 1035 bytes, "
	    "more than intake.max_bytes (512)", NULL);
}

/* A configuration without rules needs no hits array. */
static void
test_no_rules(void **state)
{
	char path[64];
	struct lr_config *c;
	struct lead_decision d;

	(void)state;
	c = load_conf(path, sizeof(path),
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"ann\"; segments = [\"all\"]; } );\n", 0);
	unlink(path);
	assert_int_equal(c->scoring.nrules, 0);
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(decide_lead(c, S("{\"id\":\"n\",\"email\":\"a@b\"}"),
	    0, NOW, NULL, &d), 0);
	assert_int_equal(d.kind, DECISION_LEAD);
	assert_string_equal(d.id, "n");
	assert_int_equal(d.score, 0);
	assert_true(d.mql);
	assert_int_equal(d.segment, 0);
	assert_receipt(c, d.receipt, 0, NULL, 0);
	lead_decision_clear(&d);
	cfg_free(c);
}

/* The receipt as jansson made it before decide.c wrote it by hand. */
static char *
jansson_receipt(const struct lr_config *c, const struct lead_decision *d,
    const json_t *hits)
{
	json_t *o, *rules = json_array(), *r;
	const struct score_rule *rule;
	size_t i;
	char *s;

	json_array_foreach(hits, i, r) {
		size_t k = (size_t)json_integer_value(json_array_get(r, 0));

		rule = &c->scoring.rules[k];
		assert_int_equal(json_array_append_new(rules,
		    json_pack("{s:I, s:s, s:s, s:I}", "rule", (json_int_t)k,
		    "field", rule->cond.field, "op",
		    match_op_name(rule->cond.op), "points",
		    json_integer_value(json_array_get(r, 1)))), 0);
	}
	assert_non_null(o = json_pack("{s:I, s:I, s:s, s:o}", "score",
	    (json_int_t)d->score, "mql_threshold",
	    (json_int_t)c->scoring.mql_threshold, "config_version",
	    c->version, "rules", rules));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/*
 * The receipt is byte for byte jansson's text, field names that need
 * escaping (quote, backslash, controls, slash, non-ASCII) and extreme
 * points included.
 */
static void
test_receipt_text(void **state)
{
	static const char lead[] =
	    "{\"id\":\"x\",\"email\":\"a@b\",\"q\\\"b\\\\s\":1,"
	    "\"t\\tn\\nr\\rb\\bf\\f\\u0001\\u001f\":true,"
	    "\"s/l\":5,\"\u00e9t\u00e9\\u2028\":\"y\",\"big\":1e300,"
	    "\"neg\":-1e300}";
	struct lead_decision d;
	struct lr_config *c;
	json_t *hits;
	char path[64], *want;

	(void)state;
	c = load_conf(path, sizeof(path),
	    "scoring = { mql_threshold = -7; rules = (\n"
	    "  { field = \"q\\\"b\\\\s\"; op = \"exists\"; points = 3; },\n"
	    "  { field = \"t\\tn\\nr\\rb\\x08f\\f\\x01\\x1f\";"
	    " op = \"is_true\"; points = -4; },\n"
	    "  { field = \"s/l\"; op = \"gt\"; value = 1; points = 1000000000; },\n"
	    "  { field = \"\u00e9t\u00e9\\xe2\\x80\\xa8\"; op = \"eq\";"
	    " value = \"Y\"; points = 1; },\n"
	    "  { field = \"big\"; op = \"per\"; points = 1; },\n"
	    "  { field = \"neg\"; op = \"per\"; points = 1; },\n"
	    "  { field = \"none\"; op = \"exists\"; points = 1; }\n"
	    "); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"ann\"; segments = [\"all\"]; } );\n", 0);
	unlink(path);
	decide(c, S(lead), 0, &d);
	assert_int_equal(d.kind, DECISION_LEAD);
	assert_non_null(hits = json_pack("[[i,I],[i,I],[i,I],[i,I],[i,I],[i,I]]",
	    0, (json_int_t)3, 1, (json_int_t)-4, 2, (json_int_t)1000000000,
	    3, (json_int_t)1, 4, (json_int_t)SCORE_LIMIT, 5,
	    (json_int_t)-SCORE_LIMIT));
	assert_non_null(want = jansson_receipt(c, &d, hits));
	assert_string_equal(d.receipt, want);
	assert_non_null(strstr(d.receipt, "\\u0001\\u001F"));
	free(want);
	json_decref(hits);
	lead_decision_clear(&d);
	cfg_free(c);
}

/* --- dead letters --------------------------------------------------------- */

static void
test_dead_reasons(void **state)
{
	(void)state;
	dead_ok(S("{\"email\":\"a@b\"}"), 0, DL_MISSING_ID,
	    "lead has no \"id\" field", NULL);
	dead_ok(S("{\"id\":\"a b\",\"email\":\"a@b\"}"), 0, DL_BAD_ID,
	    "\"id\" must be 1-128 characters of A-Z a-z 0-9 . _ : @ -", NULL);
	dead_ok(S("{\"id\":\"\",\"email\":\"a@b\"}"), 0, DL_BAD_ID,
	    "\"id\" must be 1-128 characters of A-Z a-z 0-9 . _ : @ -", NULL);
	dead_ok(S("{\"id\":7,\"email\":\"a@b\"}"), 0, DL_BAD_ID,
	    "\"id\" must be a string", NULL);
	dead_ok(S("{\"id\":\"L\"}"), 0, DL_MISSING_EMAIL,
	    "lead has no \"email\" field", NULL);
	dead_ok(S("{\"id\":\"L\",\"email\":\"nobody\"}"), 0, DL_BAD_EMAIL,
	    "\"email\" has no '@'", NULL);
	dead_ok(S("{\"id\":\"L\",\"email\":[\"a@b\"]}"), 0, DL_BAD_EMAIL,
	    "\"email\" must be a string", NULL);
	dead_ok(S("[{\"id\":\"L\",\"email\":\"a@b\"}]"), 0, DL_NOT_OBJECT,
	    "payload is JSON but not an object", NULL);
	dead_ok(S("\"L\""), 0, DL_NOT_OBJECT,
	    "payload is JSON but not an object", NULL);
	dead_as_parsed(S("{\"id\":\"L\",\"email\":\"a@b\""), DL_BAD_JSON);
	dead_as_parsed(S("id=L&email=a@b"), DL_BAD_JSON);
	dead_as_parsed(S("{\"id\":\"L\",\"id\":\"M\",\"email\":\"a@b\"}"),
	    DL_BAD_JSON);
	dead_as_parsed(S(""), DL_BAD_JSON);
	/* Four spaces before a bad id still keep raw exact. */
	dead_ok(S("    {\"id\":\"\\u0000\",\"email\":\"a@b\"}\n"), 0, DL_BAD_ID,
	    "\"id\" must be 1-128 characters of A-Z a-z 0-9 . _ : @ -", NULL);
}

static void
test_dead_too_large(void **state)
{
	struct lead_decision d;
	char buf[600];
	int k;

	(void)state;
	/* 512 bytes (max_bytes) pass; 513 do not. */
	k = snprintf(buf, sizeof(buf), "{\"id\":\"L\",\"email\":\"a@b\","
	    "\"pad\":\"");
	memset(buf + k, 'p', 512 - (size_t)k - 2);
	memcpy(buf + 510, "\"}", 2);
	decide(cfg, buf, 512, 0, &d);
	assert_int_equal(d.kind, DECISION_LEAD);
	assert_string_equal(d.id, "L");
	lead_decision_clear(&d);
	memcpy(buf + 510, "p\"}", 3);
	dead_ok(buf, 513, 0, DL_TOO_LARGE,
	    "payload is 513 bytes, more than intake.max_bytes (512)", NULL);
}

static void
test_dead_too_deep(void **state)
{
	char buf[128];
	int k;

	(void)state;
	k = snprintf(buf, sizeof(buf), "{\"id\":\"L\",\"email\":\"a@b\","
	    "\"x\":");
	memset(buf + k, '[', 16);
	memset(buf + k + 16, ']', 16);
	buf[k + 32] = '}';
	snprintf(buf + 64, 64, "JSON nests deeper than 16 levels (at offset "
	    "%d)", k + 15);
	dead_ok(buf, (size_t)k + 33, 0, DL_TOO_DEEP, buf + 64, NULL);
}

static void
test_dead_bad_utf8(void **state)
{
	(void)state;
	/* Not UTF-8: the bytes travel as base64. */
	dead_ok(S("{\"id\":\"L\",\"email\":\"\xff@b\"}"), 0, DL_BAD_UTF8,
	    "payload is not valid UTF-8 (bad byte 0xff at offset 19)",
	    "eyJpZCI6IkwiLCJlbWFpbCI6Iv9AYiJ9");
	dead_ok(S("\xc3"), 0, DL_BAD_UTF8,
	    "payload is not valid UTF-8 (bad byte 0xc3 at offset 0)", "ww==");
}

static void
test_dead_raw_nul(void **state)
{
	static const char raw[] = "{\"id\":\"L\",\"email\":\"a@b\"}\0tail";
	struct lead_decision d;
	json_t *o;
	const json_t *r;

	(void)state;
	dead_as_parsed(S(raw), DL_BAD_JSON);
	/* The NUL and what follows it are in raw. */
	decide(cfg, S(raw), 0, &d);
	o = load_json(d.dead_json);
	r = json_object_get(o, "raw");
	assert_int_equal(json_string_length(r), sizeof(raw) - 1);
	assert_memory_equal(json_string_value(r), raw, sizeof(raw) - 1);
	json_decref(o);
	lead_decision_clear(&d);
}

/* --- poison --------------------------------------------------------------- */

static void
test_poison(void **state)
{
	static const char good[] =
	    "{\"id\":\"P-1\",\"email\":\"a@b\",\"title\":\"VP\"}";
	char detail[128];
	struct lead_decision d;

	(void)state;
	assert_int_equal(DECIDE_POISON_REDELIVERIES, 5);
	/* One below the limit: decided as usual. */
	lead_ok(good, DECIDE_POISON_REDELIVERIES - 1, "P-1", 20, SEG_MID, "",
	    &d);
	lead_decision_clear(&d);
	/* At the limit, a perfectly good lead is set aside. */
	snprintf(detail, sizeof(detail), "payload was in flight in %d daemon "
	    "crashes; set aside unparsed", DECIDE_POISON_REDELIVERIES);
	dead_ok(S(good), DECIDE_POISON_REDELIVERIES, DL_POISON, detail, NULL);
	dead_ok(S(good), 1000, DL_POISON, "payload was in flight in 1000 "
	    "daemon crashes; set aside unparsed", NULL);
}

/* Poison is decided before any parsing: size, UTF-8, JSON do not matter. */
static void
test_poison_unparsed(void **state)
{
	static const char detail[] =
	    "payload was in flight in 5 daemon crashes; set aside unparsed";
	char big[1024];

	(void)state;
	dead_ok(S("not json"), 5, DL_POISON, detail, NULL);
	dead_ok(S("{\"email\":\"a@b\"}"), 5, DL_POISON, detail, NULL);
	dead_ok(S("\xff\xfe"), 5, DL_POISON, detail, "//4=");
	memset(big, '[', sizeof(big));
	dead_ok(big, sizeof(big), 5, DL_POISON, detail, NULL);
	/* Below the limit, the same payloads get their own reasons. */
	dead_ok(S("{\"email\":\"a@b\"}"), 4, DL_MISSING_ID,
	    "lead has no \"id\" field", NULL);
	dead_ok(big, sizeof(big), 4, DL_TOO_LARGE,
	    "payload is 1024 bytes, more than intake.max_bytes (512)", NULL);
}

/* --- event dead letters --------------------------------------------------- */

static void
test_event_dead(void **state)
{
	static const char raw[] = "{\"type\":\"closed\",\"lead_id\":\"L\","
	    "\"rep\":\"r\",\"outcome\":\"a b\"}";
	struct event_msg ev;
	struct lead_error err;
	char *text;

	(void)state;
	assert_int_equal(event_parse(S(raw), 512, &ev, &err), -1);
	text = decide_event_dead(&err, S(raw), NOW);
	assert_dead_json(text, "bad_event",
	    "\"outcome\" must be one word (won, lost, disqualified...)",
	    "events", S(raw), NULL);
	free(text);

	/* Not UTF-8. */
	assert_int_equal(event_parse(S("{\"type\":\"\xff\"}"), 512, &ev, &err),
	    -1);
	text = decide_event_dead(&err, S("{\"type\":\"\xff\"}"), NOW);
	assert_dead_json(text, "bad_event", "payload is not valid UTF-8 (bad "
	    "byte 0xff at offset 9)", "events", NULL, 0,
	    "eyJ0eXBlIjoi/yJ9");
	free(text);

	/* Poison, as the consumer builds it. */
	err.reason = DL_POISON;
	snprintf(err.detail, sizeof(err.detail), "event was in flight in 5 "
	    "daemon crashes; set aside unparsed");
	text = decide_event_dead(&err, S(raw), NOW);
	assert_dead_json(text, "poison", "event was in flight in 5 daemon "
	    "crashes; set aside unparsed", "events", S(raw), NULL);
	free(text);

	/* An empty payload. */
	assert_int_equal(event_parse("", 0, 512, &ev, &err), -1);
	text = decide_event_dead(&err, "", 0, NOW);
	assert_dead_json(text, "bad_event", err.detail, "events", "", 0,
	    NULL);
	free(text);
}

/* --- routing table -------------------------------------------------------- */

static void
test_routing(void **state)
{
	static const char *const small[] = {"ann", "bob"};
	static const char *const mid[] = {"zed", "ann"};
	static const char *const large[] = {"bob"};
	json_t *o, *order;

	(void)state;
	o = load_routing(cfg);
	assert_int_equal(json_object_size(json_object_get(o, "segs")), 4);
	assert_seg_reps(o, "small", small, 2);
	assert_seg_reps(o, "mid", mid, 2);
	assert_seg_reps(o, "large", large, 1);
	assert_seg_reps(o, "polar", NULL, 0);
	order = json_object_get(o, "seg_order");
	assert_true(json_is_array(order));
	assert_int_equal(json_array_size(order), 4);
	assert_string_equal(json_string_value(json_array_get(order, 0)),
	    "small");
	assert_string_equal(json_string_value(json_array_get(order, 1)), "mid");
	assert_string_equal(json_string_value(json_array_get(order, 2)),
	    "large");
	assert_string_equal(json_string_value(json_array_get(order, 3)),
	    "polar");
	assert_int_equal(json_object_size(json_object_get(o, "reps")), 3);
	assert_rep_limits(o, "zed", 3, 0);
	assert_rep_limits(o, "ann", 5, 7);
	assert_rep_limits(o, "bob", 25, 0);
	assert_int_equal(int_member(o, "period"), 3600000);
	assert_int_equal(int_member(o, "follow"), 600000);
	assert_int_equal(int_member(o, "warn"), 120000);
	assert_true(json_is_true(json_object_get(o, "reassign")));
	assert_int_equal(int_member(o, "max_reassign"), 3);
	assert_int_equal(int_member(o, "alert_log_max"), 500);
	assert_string_equal(str_member(o, "version"), cfg->version);
	assert_int_equal(strlen(cfg->version), 16);
	/* The reps in config order, for metrics. */
	order = json_object_get(o, "rep_order");
	assert_int_equal(json_array_size(order), 3);
	assert_string_equal(json_string_value(json_array_get(order, 0)), "zed");
	assert_string_equal(json_string_value(json_array_get(order, 1)), "ann");
	assert_string_equal(json_string_value(json_array_get(order, 2)), "bob");
	/* The histogram bounds the scripts fill, as decide_hists says. */
	for (size_t h = 0; h < DECIDE_NHISTS; h++) {
		const json_t *b = json_object_get(json_object_get(o, "hist"),
		    decide_hists[h].name);

		assert_int_equal(json_array_size(b), decide_hists[h].n);
		for (size_t k = 0; k < decide_hists[h].n; k++) {
			assert_int_equal(json_integer_value(json_array_get(b, k)),
			    decide_hists[h].bounds_ms[k]);
			if (k > 0)
				assert_true(decide_hists[h].bounds_ms[k] >
				    decide_hists[h].bounds_ms[k - 1]);
		}
	}
	/* The audit trail is off unless configured: 0 = off. */
	assert_int_equal(int_member(o, "audit"), 0);
	json_decref(o);
}

/* decide_sla_sleep_ms: until the next deadline, within [0, 1 s]. */
static void
test_sla_sleep(void **state)
{
	(void)state;
	assert_int_equal(decide_sla_sleep_ms(-1, 1000, false),
	    DECIDE_SLA_MAX_SLEEP_MS);
	assert_int_equal(decide_sla_sleep_ms(1500, 1000, false), 500);
	assert_int_equal(decide_sla_sleep_ms(1000, 1000, false), 0);
	assert_int_equal(decide_sla_sleep_ms(900, 1000, false), 0);
	assert_int_equal(decide_sla_sleep_ms(1000 + DECIDE_SLA_MAX_SLEEP_MS + 1,
	    1000, false), DECIDE_SLA_MAX_SLEEP_MS);
	assert_int_equal(decide_sla_sleep_ms(5000, 1000, true), 0);
	assert_int_equal(decide_sla_sleep_ms(-1, 1000, true), 0);
}

static void
test_routing_example(void **state)
{
	static const char *const small[] = {"ava", "ben", "chloe"};
	static const char *const mid[] = {"chloe", "john", "maria"};
	static const char *const large[] = {"kenji", "sofia"};
	struct cfg_diag diag = {0};
	struct lr_config *ex;
	json_t *o;

	(void)state;
	ex = cfg_load(EXAMPLE_CONF, &diag);
	assert_non_null(ex);
	cfg_diag_clear(&diag);
	o = load_routing(ex);
	assert_int_equal(json_object_size(json_object_get(o, "segs")), 3);
	assert_seg_reps(o, "small", small, 3);
	assert_seg_reps(o, "mid", mid, 3);
	assert_seg_reps(o, "large", large, 2);
	assert_int_equal(json_array_size(json_object_get(o, "seg_order")), 3);
	assert_int_equal(json_object_size(json_object_get(o, "reps")), 7);
	assert_rep_limits(o, "ava", 40, 35);
	assert_rep_limits(o, "chloe", 30, 30);
	assert_rep_limits(o, "sofia", 15, 12);
	assert_int_equal(int_member(o, "period"), 604800000);
	assert_int_equal(int_member(o, "follow"), 300000);
	assert_int_equal(int_member(o, "warn"), 60000);
	assert_true(json_is_false(json_object_get(o, "reassign")));
	assert_int_equal(int_member(o, "max_reassign"), 2);
	assert_int_equal(int_member(o, "alert_log_max"), 100000);
	assert_int_equal(int_member(o, "dead_max"), 100000);
	assert_int_equal(int_member(o, "retention_s"), 90 * 86400);
	assert_int_equal(int_member(o, "inbox_max"), 10000);
	assert_int_equal(int_member(o, "max_sources"), 1000);
	assert_string_equal(str_member(o, "version"), ex->version);
	assert_string_not_equal(ex->version, cfg->version);
	json_decref(o);
	cfg_free(ex);
}

/* warn_before = 0 (no warning) is 0 ms; reps in config order, listed once. */
static void
test_routing_edges(void **state)
{
	static const char *const all[] = {"b", "a"};
	static const char *const other[] = {"a"};
	char path[64];
	struct lr_config *c;
	json_t *o;

	(void)state;
	c = load_conf(path, sizeof(path),
	    "scoring = { mql_threshold = 1; rules = (); };\n"
	    "segments = ( { name = \"other\"; field = \"x\"; op = \"exists\"; },"
	    " { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"b\"; segments = [\"all\"]; },\n"
	    "  { id = \"a\"; segments = [\"other\", \"all\"]; } );\n"
	    "sla = { warn_before = 0; };\n", 0);
	unlink(path);
	o = load_routing(c);
	assert_seg_reps(o, "all", all, 2);
	assert_seg_reps(o, "other", other, 1);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(o, "seg_order"), 0)), "other");
	assert_int_equal(int_member(o, "warn"), 0);
	assert_int_equal(int_member(o, "follow"), 300000);
	assert_true(json_is_false(json_object_get(o, "reassign")));
	json_decref(o);
	cfg_free(c);
}

/* Webhook endpoints travel in the routing table only when configured
 * (load_routing: seventeen keys without them): name, types, rep filter. */
static void
test_routing_webhooks(void **state)
{
	char path[64], *text;
	struct lr_config *c;
	json_t *o, *wh, *e;

	(void)state;
	c = load_conf(path, sizeof(path),
	    "scoring = { mql_threshold = 1; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"a\"; segments = [\"all\"]; } );\n"
	    "webhooks = ( { name = \"crm\"; url = \"https://x.example/h\"; "
	    "format = \"slack\"; events = [\"lead.assigned\", \"sla.breach\"]; },\n"
	    "  { name = \"ann\"; url = \"http://127.0.0.1:1/\"; format = \"slack\"; "
	    "reps = [\"a\"]; } );\n", 0);
	unlink(path);
	text = decide_routing_json(c);
	o = load_json(text);
	free(text);
	assert_int_equal(json_object_size(o), 18);
	wh = json_object_get(o, "wh");
	assert_int_equal(json_array_size(wh), 2);
	e = json_array_get(wh, 0);
	assert_string_equal(json_string_value(json_object_get(e, "n")), "crm");
	assert_int_equal(json_object_size(json_object_get(e, "t")), 2);
	assert_true(json_is_true(json_object_get(json_object_get(e, "t"),
	    "sla.breach")));
	assert_null(json_object_get(e, "r"));
	e = json_array_get(wh, 1);
	assert_int_equal(json_object_size(json_object_get(e, "t")), 11);
	assert_true(json_is_true(json_object_get(json_object_get(e, "r"), "a")));
	json_decref(o);
	cfg_free(c);
}

/* --- clearing ------------------------------------------------------------- */

static void
test_clear(void **state)
{
	struct lead_decision d, zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	lead_ok("{\"id\":\"c\",\"email\":\"a@b\",\"source\":\"x\"}", 0, "c", 0,
	    SEG_MID, "x", &d);
	lead_decision_clear(&d);
	assert_memory_equal(&d, &zero, sizeof(d));
	/* Clearing twice is harmless. */
	lead_decision_clear(&d);
	assert_memory_equal(&d, &zero, sizeof(d));

	decide(cfg, S("nope"), 0, &d);
	assert_int_equal(d.kind, DECISION_DEAD);
	assert_non_null(d.dead_json);
	lead_decision_clear(&d);
	assert_memory_equal(&d, &zero, sizeof(d));
}

/* --- allocation failures -------------------------------------------------- */

/* Allocation number fail_at (0 = the first) fails; the others succeed. */
static long fail_at = -1;

static void *
failing_malloc(size_t n)
{
	if (fail_at >= 0 && fail_at-- == 0)
		return NULL;
	return malloc(n);
}

/*
 * jansson 2.14 ignores a failed write of an object key in json_dumps
 * (dump.c: dump_string(key, ...) unchecked), so under ENOMEM it can
 * return text missing part of a key up to its closing quote. Is got want
 * with exactly such a hole?
 */
static bool
key_dropped(const char *want, const char *got)
{
	size_t p = 0, lw = strlen(want), lg = strlen(got), l;

	if (lg >= lw)
		return false;
	while (got[p] != '\0' && want[p] == got[p])
		p++;
	l = lw - lg;
	return want[p + l - 1] == '"' && want[p + l] == ':' &&
	    strcmp(want + p + l, got + p) == 0;
}

/* got, made while an allocation failed, is want or jansson's mangling. */
static void
assert_same_text(const char *got, const char *want, long *mangled)
{
	if (strcmp(got, want) == 0)
		return;
	if (!key_dropped(want, got))
		assert_string_equal(got, want);
	(*mangled)++;
}

/* Check one lead decision made while one allocation failed. */
static void
check_failed_decide(int rc, const struct lead_decision *d,
    const struct lead_decision *want, long *misread, long *mangled)
{
	struct lead_decision zero;

	if (rc == -1) {
		/* out is then empty, as after lead_decision_clear. */
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(d, &zero, sizeof(*d));
		return;
	}
	assert_int_equal(rc, 0);
	if (d->kind == DECISION_DEAD && d->reason != want->reason) {
		/* lead.c reports jansson's ENOMEM as bad_json. */
		assert_int_equal(d->reason, DL_BAD_JSON);
		(*misread)++;
		return;
	}
	assert_int_equal(d->kind, want->kind);
	assert_int_equal(d->reason, want->reason);
	if (d->kind == DECISION_LEAD) {
		assert_string_equal(d->id, want->id);
		assert_int_equal(d->score, want->score);
		assert_string_equal(d->source, want->source);
		assert_same_text(d->receipt, want->receipt, mangled);
	} else {
		assert_same_text(d->dead_json, want->dead_json, mangled);
	}
}

/*
 * Each jansson allocation failing in turn, alone: -1 (NULL) and nothing
 * owned, or success and the very result made without the failure.
 */
static void
test_alloc_failures(void **state)
{
	static const char good[] =
	    "{\"id\":\"web-42\",\"email\":\"ann@acme.example\","
	    "\"title\":\"VP Sales\",\"employees\":250,"
	    "\"activity\":{\"demo_request\":true,\"page_views\":7},"
	    "\"source\":\"partner\"}";
	static const char *const inputs[] = {good, "{\"id\":7}", "\xff"};
	struct lead_error err = {DL_BAD_EVENT, "why"};
	struct score_hit hits[6];
	struct lead_decision d, want[3];
	char *want_routing, *want_dead, *s;
	long misread = 0, mangled = 0, n;
	bool failed = true;
	int rc;

	(void)state;
	assert_int_equal(cfg->scoring.nrules, 6);
	for (size_t i = 0; i < 3; i++)
		decide(cfg, inputs[i], strlen(inputs[i]), 0, &want[i]);
	assert_int_equal(want[0].kind, DECISION_LEAD);
	assert_int_equal(want[1].reason, DL_BAD_ID);
	assert_int_equal(want[2].reason, DL_BAD_UTF8);
	assert_non_null(want_routing = decide_routing_json(cfg));
	assert_non_null(want_dead = decide_event_dead(&err, S(good), NOW));
	json_set_alloc_funcs(failing_malloc, free);
	/* Until a round in which no allocation was made to fail. */
	for (n = 0; failed && n < 1000; n++) {
		failed = false;
		for (size_t i = 0; i < 3; i++) {
			fail_at = n;
			memset(&d, 0xa5, sizeof(d));
			rc = decide_lead(cfg, inputs[i], strlen(inputs[i]), 0,
			    NOW, hits, &d);
			failed |= fail_at < 0;
			fail_at = -1;
			check_failed_decide(rc, &d, &want[i], &misread,
			    &mangled);
			lead_decision_clear(&d);
		}
		fail_at = n;
		s = decide_routing_json(cfg);
		failed |= fail_at < 0;
		fail_at = -1;
		/* Never a table with a rep or a segment missing. */
		if (s != NULL)
			assert_same_text(s, want_routing, &mangled);
		free(s);
		fail_at = n;
		s = decide_event_dead(&err, S(good), NOW);
		failed |= fail_at < 0;
		fail_at = -1;
		if (s != NULL)
			assert_same_text(s, want_dead, &mangled);
		free(s);
	}
	json_set_alloc_funcs(malloc, free);
	assert_false(failed);
	assert_true(n > 20);
	free(want_routing);
	free(want_dead);
	for (size_t i = 0; i < 3; i++)
		lead_decision_clear(&want[i]);
	print_message("%ld allocations tried; %ld payloads taken for "
	    "bad_json, %ld texts with a key lost by jansson\n", n - 1, misread,
	    mangled);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lead_full),
		cmocka_unit_test(test_lead_no_rules_matched),
		cmocka_unit_test(test_lead_negative_and_capped),
		cmocka_unit_test(test_mql_threshold),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_id_bounds),
		cmocka_unit_test(test_example_conf),
		cmocka_unit_test(test_max_bytes_from_config),
		cmocka_unit_test(test_no_rules),
		cmocka_unit_test(test_receipt_text),
		cmocka_unit_test(test_dead_reasons),
		cmocka_unit_test(test_dead_too_large),
		cmocka_unit_test(test_dead_too_deep),
		cmocka_unit_test(test_dead_bad_utf8),
		cmocka_unit_test(test_dead_raw_nul),
		cmocka_unit_test(test_poison),
		cmocka_unit_test(test_poison_unparsed),
		cmocka_unit_test(test_event_dead),
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_sla_sleep),
		cmocka_unit_test(test_routing_example),
		cmocka_unit_test(test_routing_edges),
		cmocka_unit_test(test_routing_webhooks),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
