/* itest_intake.c - the daemon against a real redis-server: dead letters, duplicates and hostile input on lr:incoming. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* --- helpers of this file --------------------------------------------------- */

/* The default model with intake.max_bytes set (malloc'd). */
static char *
body_max_bytes(long long max_bytes)
{
	const char *base = h_default_body();
	size_t len = strlen(base) + 64;
	char *b = malloc(len);

	assert_non_null(b);
	snprintf(b, len, "intake = { max_bytes = %lld; };\n%s", max_bytes, base);
	return b;
}

/* A payload to push: reason NULL means it must be accepted as lead id. */
struct payload {
	const char *what;
	char *buf;
	size_t len;
	const char *reason;
	bool b64;
	char id[160];
};

struct plist {
	struct payload v[128];
	size_t n;
};

static void
add_bytes(struct plist *l, const char *what, const char *reason, bool b64,
    const char *buf, size_t len)
{
	struct payload *p;

	assert_true(l->n < sizeof(l->v) / sizeof(l->v[0]));
	p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->reason = reason;
	p->b64 = b64;
	assert_non_null(p->buf = malloc(len + 1));
	memcpy(p->buf, buf, len);
	p->buf[len] = '\0';
	p->len = len;
}

/* A dead payload given as a C string. */
static void
add_dead(struct plist *l, const char *what, const char *reason,
    const char *text)
{
	add_bytes(l, what, reason, false, text, strlen(text));
}

/* A payload (malloc'd text, taken) that must be accepted as lead id, by john. */
static void
add_valid(struct plist *l, const char *what, const char *id, char *owned)
{
	add_bytes(l, what, NULL, false, owned, strlen(owned));
	snprintf(l->v[l->n - 1].id, sizeof(l->v[l->n - 1].id), "%s", id);
	free(owned);
}

static void
plist_free(struct plist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].buf);
	l->n = 0;
}

/* The model's hot lead (score 65, mid, john) with extra members. */
#define HOT_HEAD(id) "{\"id\":\"" id "\",\"email\":\"a@corp.com\",\"title\":\"VP\"," \
	"\"employees\":250,\"activity\":{\"demo_request\":true}"

static char *
hot_lead(const char *id, const char *extra)
{
	size_t len = strlen(id) + strlen(extra) + 128;
	char *s = malloc(len);

	assert_non_null(s);
	snprintf(s, len, "{\"id\":\"%s\",\"email\":\"a@corp.com\",\"title\":\"VP\","
	    "\"employees\":250,\"activity\":{\"demo_request\":true}%s}", id, extra);
	return s;
}

/* A hot lead of exactly total bytes, padded with a "pad" string. */
static char *
sized_lead(const char *id, size_t total)
{
	char *head = hot_lead(id, ",\"pad\":\"");
	size_t hl = strlen(head) - 1;	/* without its closing brace */
	char *s;

	assert_true(total >= hl + 2);
	assert_non_null(s = malloc(total + 1));
	memcpy(s, head, hl);
	memset(s + hl, 'x', total - hl - 2);
	memcpy(s + total - 2, "\"}", 2);
	s[total] = '\0';
	free(head);
	return s;
}

/* A hot lead whose deepest value is at level depth (the object is 1). */
static char *
deep_lead(const char *id, int depth, bool objects)
{
	char *head = hot_lead(id, ",\"n\":");
	size_t hl = strlen(head) - 1, len = hl + (size_t)depth * 8 + 2;
	char *s = malloc(len), *p;

	assert_non_null(s);
	memcpy(s, head, hl);
	p = s + hl;
	for (int i = 1; i < depth; i++)
		p += sprintf(p, "%s", objects ? "{\"a\":" : "[");
	p += sprintf(p, "%s", objects ? "0" : "");
	for (int i = 1; i < depth; i++)
		*p++ = objects ? '}' : ']';
	*p++ = '}';
	*p = '\0';
	free(head);
	return s;
}

static void
add_too_large(struct plist *l, size_t max_bytes)
{
	char *s = sized_lead("size-over", max_bytes + 1);

	add_valid(l, "exactly intake.max_bytes", "size-max",
	    sized_lead("size-max", max_bytes));
	add_bytes(l, "one byte over intake.max_bytes", "too_large", false, s,
	    max_bytes + 1);
	free(s);
}

static void
add_too_deep(struct plist *l)
{
	char *s;

	add_valid(l, "16 levels of arrays", "deep-16",
	    deep_lead("deep-16", 16, false));
	add_valid(l, "16 levels of objects", "deep-16o",
	    deep_lead("deep-16o", 16, true));
	s = deep_lead("deep-17", 17, false);
	add_bytes(l, "17 levels of arrays", "too_deep", false, s, strlen(s));
	free(s);
	s = deep_lead("deep-17o", 17, true);
	add_bytes(l, "17 levels of objects", "too_deep", false, s, strlen(s));
	free(s);
	/* A string ending in an escaped backslash ends there: what follows nests. */
	add_dead(l, "17 levels after a string ending in a backslash", "too_deep",
	    "{\"id\":\"deep-bs\",\"email\":\"a@corp.com\",\"s\":\"x\\\\\",\"n\":"
	    "[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]}");
	/* Brackets inside strings (after an escaped quote) are no nesting. */
	add_valid(l, "brackets inside a string", "deep-str",
	    hot_lead("deep-str", ",\"s\":\"\\\"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{\""));
}

/* 100,000 '[' (and balanced, 200,000 bytes): needs max_bytes >= 200000. */
static void
add_very_deep(struct plist *l)
{
	size_t n = 100000;
	char *s = malloc(2 * n);

	assert_non_null(s);
	memset(s, '[', n);
	add_bytes(l, "100,000 '['", "too_deep", false, s, n);
	memset(s + n, ']', n);
	add_bytes(l, "100,000 nested empty arrays", "too_deep", false, s, 2 * n);
	free(s);
}

static void
add_bad_json(struct plist *l)
{
	static const char nul_after[] = HOT_HEAD("bj-nul") "}\0";
	static const char nul_before_end[] = HOT_HEAD("bj-nul2") "\0}";
	size_t digits = 10000;
	char *s, *p;

	add_dead(l, "truncated", "bad_json", HOT_HEAD("bj-trunc") ",\"x\":\"ab");
	add_dead(l, "truncated after a comma", "bad_json", HOT_HEAD("bj-trunc2") ",");
	add_dead(l, "trailing garbage", "bad_json", HOT_HEAD("bj-trail") "}x");
	add_dead(l, "a second object after the first", "bad_json",
	    HOT_HEAD("bj-two") "}{}");
	add_bytes(l, "a NUL byte after the object", "bad_json", false,
	    nul_after, sizeof(nul_after) - 1);
	add_bytes(l, "a NUL byte before the closing brace", "bad_json", false,
	    nul_before_end, sizeof(nul_before_end) - 1);
	add_dead(l, "duplicate keys", "bad_json",
	    "{\"id\":\"bj-dup\",\"email\":\"a@corp.com\",\"id\":\"bj-dup2\"}");
	add_dead(l, "duplicate keys, one escaped", "bad_json",
	    "{\"id\":\"bj-dup3\",\"email\":\"a@corp.com\",\"\\u0069d\":\"bj-dup4\"}");
	add_dead(l, "1e400", "bad_json", HOT_HEAD("bj-big") ",\"revenue\":1e400}");
	add_dead(l, "an unquoted key", "bad_json", "{id:\"bj-key\",\"email\":\"a@b.c\"}");
	add_dead(l, "single quotes", "bad_json", "{'id':'bj-q','email':'a@b.c'}");
	add_dead(l, "a raw newline in a string", "bad_json",
	    "{\"id\":\"bj-nl\",\"email\":\"a@b.c\",\"name\":\"a\nb\"}");
	add_dead(l, "a lone high surrogate escape", "bad_json",
	    HOT_HEAD("bj-sur") ",\"name\":\"\\ud800\"}");
	add_dead(l, "a lone low surrogate escape", "bad_json",
	    HOT_HEAD("bj-sur2") ",\"name\":\"x\\udc00y\"}");
	add_dead(l, "an empty payload", "bad_json", "");
	add_dead(l, "only whitespace", "bad_json", " \n\t ");
	/* A 10,000-digit integer. */
	s = hot_lead("bj-digits", ",\"employees2\":");
	p = malloc(strlen(s) + digits + 2);
	assert_non_null(p);
	memcpy(p, s, strlen(s) - 1);
	memset(p + strlen(s) - 1, '7', digits);
	memcpy(p + strlen(s) - 1 + digits, "}", 2);
	add_dead(l, "a 10,000-digit integer", "bad_json", p);
	free(p);
	free(s);
}

static void
add_bad_utf8(struct plist *l)
{
	static const char ff[] = "{\"id\":\"bu-ff\",\"email\":\"a@corp.com\",\"name\":\"\xff\"}";
	static const char overlong[] = "{\"id\":\"bu-ol\",\"email\":\"a@corp.com\",\"name\":\"\xc0\xaf\"}";
	static const char surrogate[] = "{\"id\":\"bu-sur\",\"email\":\"a@corp.com\",\"name\":\"\xed\xa0\x80\"}";
	static const char cut[] = "{\"id\":\"bu-cut\",\"email\":\"a@corp.com\",\"name\":\"\xe2\x82\"}";
	static const char key[] = "{\"id\":\"bu-key\",\"email\":\"a@corp.com\",\"\xfe\":1}";

	add_bytes(l, "a 0xff byte", "bad_utf8", true, ff, sizeof(ff) - 1);
	add_bytes(l, "an overlong '/'", "bad_utf8", true, overlong,
	    sizeof(overlong) - 1);
	add_bytes(l, "an encoded surrogate", "bad_utf8", true, surrogate,
	    sizeof(surrogate) - 1);
	add_bytes(l, "a cut sequence", "bad_utf8", true, cut, sizeof(cut) - 1);
	add_bytes(l, "0xfe in a key", "bad_utf8", true, key, sizeof(key) - 1);
}

static void
add_not_object(struct plist *l)
{
	add_dead(l, "an array", "not_object",
	    "[{\"id\":\"no-arr\",\"email\":\"a@corp.com\"}]");
	add_dead(l, "a string", "not_object", "\"{\\\"id\\\":\\\"no-str\\\"}\"");
	add_dead(l, "a number", "not_object", "42");
	add_dead(l, "null", "not_object", "null");
	add_dead(l, "true", "not_object", "true");
}

static void
add_bad_id(struct plist *l)
{
	char id[140], *s;

	add_dead(l, "no id", "missing_id", "{\"email\":\"a@corp.com\",\"name\":\"id\"}");
	add_dead(l, "an empty id", "bad_id", "{\"id\":\"\",\"email\":\"a@corp.com\"}");
	add_dead(l, "a number id", "bad_id", "{\"id\":42,\"email\":\"a@corp.com\"}");
	add_dead(l, "a null id", "bad_id", "{\"id\":null,\"email\":\"a@corp.com\"}");
	add_dead(l, "an object id", "bad_id", "{\"id\":{\"v\":\"x\"},\"email\":\"a@corp.com\"}");
	add_dead(l, "an id of a space", "bad_id", "{\"id\":\" \",\"email\":\"a@corp.com\"}");
	add_dead(l, "an id with a space", "bad_id", "{\"id\":\"x y\",\"email\":\"a@corp.com\"}");
	add_dead(l, "an id with a newline", "bad_id", "{\"id\":\"x\\ny\",\"email\":\"a@corp.com\"}");
	add_dead(l, "an id with a NUL", "bad_id", "{\"id\":\"x\\u0000y\",\"email\":\"a@corp.com\"}");
	add_dead(l, "an id with a star", "bad_id", "{\"id\":\"lead*\",\"email\":\"a@corp.com\"}");
	add_dead(l, "an id with a slash", "bad_id", "{\"id\":\"a/b\",\"email\":\"a@corp.com\"}");
	add_dead(l, "an id with a non-ASCII letter", "bad_id",
	    "{\"id\":\"caf\xc3\xa9\",\"email\":\"a@corp.com\"}");
	memset(id, 'i', 129);
	id[129] = '\0';
	s = hot_lead(id, "");
	add_dead(l, "a 129-character id", "bad_id", s);
	free(s);
	id[128] = '\0';
	add_valid(l, "a 128-character id", id, hot_lead(id, ""));
}

static void
add_bad_email(struct plist *l)
{
	char email[300], buf[400], *s;

	add_dead(l, "no email", "missing_email", "{\"id\":\"me-1\",\"name\":\"email\"}");
	add_dead(l, "an email without '@'", "bad_email",
	    "{\"id\":\"be-1\",\"email\":\"nobody.corp.com\"}");
	add_dead(l, "an empty email", "bad_email", "{\"id\":\"be-2\",\"email\":\"\"}");
	add_dead(l, "a number email", "bad_email", "{\"id\":\"be-3\",\"email\":42}");
	add_dead(l, "a null email", "bad_email", "{\"id\":\"be-4\",\"email\":null}");
	add_dead(l, "an array email", "bad_email",
	    "{\"id\":\"be-5\",\"email\":[\"a@corp.com\"]}");
	/* 255 bytes: over the limit; 254 bytes: accepted. */
	memset(email, 'e', 255);
	memcpy(email + 255 - 9, "@corp.com", 9);
	email[255] = '\0';
	snprintf(buf, sizeof(buf), "{\"id\":\"be-255\",\"email\":\"%s\"}", email);
	add_dead(l, "a 255-byte email", "bad_email", buf);
	s = malloc(400);
	assert_non_null(s);
	snprintf(s, 400, "{\"id\":\"be-254\",\"email\":\"%s\",\"title\":\"VP\","
	    "\"employees\":250,\"activity\":{\"demo_request\":true}}", email + 1);
	add_valid(l, "a 254-byte email", "be-254", s);
}

/*
 * Push every payload of l in order, then a valid lead as a marker. Once
 * the marker is assigned (leads are taken in push order), every dead
 * payload is in lr:dead, in order and checked; every valid one was
 * assigned to john; no other lead record exists; the daemon stops clean.
 */
static void
run_batch(struct h_fx *f, struct plist *l)
{
	const char *marker = HOT_HEAD("ok-after") "}";
	size_t ndead = 0, nvalid = 0, k = 0;
	json_t *dead;
	redisReply *r;
	char key[200], *rep;

	for (size_t i = 0; i < l->n; i++) {
		h_push(f->c, "lr:incoming", l->v[i].buf, l->v[i].len);
		if (l->v[i].reason != NULL)
			ndead++;
		else
			nvalid++;
	}
	h_push_lead(f->c, marker);
	assert_true(h_wait_field(f->c, "lr:lead:ok-after", "status", "assigned"));
	rep = h_str(f->c, "HGET lr:lead:ok-after rep");
	assert_string_equal(rep, "john");
	free(rep);

	assert_int_equal(h_int(f->c, "LLEN lr:dead"), (long long)ndead);
	dead = h_dead_letters(f->c);
	for (size_t i = 0; i < l->n; i++) {
		const struct payload *p = &l->v[i];

		if (p->reason == NULL) {
			snprintf(key, sizeof(key), "lr:lead:%s", p->id);
			rep = h_str(f->c, "HGET %s rep", key);
			if (rep == NULL || strcmp(rep, "john") != 0)
				fail_msg("%s: lead '%s' was not assigned to john",
				    p->what, p->id);
			free(rep);
			continue;
		}
		h_check_dead(p->what, json_array_get(dead, k++), p->reason,
		    "incoming", p->buf, p->len, p->b64);
	}
	json_decref(dead);
	/* Nothing refused left a record, an inbox entry or a backlog entry. */
	r = h_cmd(f->c, "KEYS lr:lead:*");
	assert_int_equal(r->elements, nvalid + 1);
	freeReplyObject(r);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"),
	    (long long)nvalid + 1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:ann:inbox"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:kim:inbox"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:nurture"), 0);
	h_fx_stop(f);
}

/* --- dead-letter reasons ---------------------------------------------------- */

/* Over intake.max_bytes (here 256) is too_large; exactly at it is a lead. */
static void
test_too_large_over_configured_limit(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};
	char *body = body_max_bytes(256);

	add_too_large(&l, 256);
	h_fx_start(f, 1, body);
	run_batch(f, &l);
	plist_free(&l);
	free(body);
}

/* The default limit: 65536 bytes pass, 65537 and 1 MiB are too_large. */
static void
test_too_large_default_limit_and_one_mib(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};
	char *s = sized_lead("size-mib", 1024 * 1024);

	add_too_large(&l, 65536);
	add_bytes(&l, "1 MiB", "too_large", false, s, 1024 * 1024);
	free(s);
	h_fx_start(f, 1, NULL);
	run_batch(f, &l);
	plist_free(&l);
}

/* 16 levels are a lead, 17 are too_deep; brackets in strings do not count. */
static void
test_too_deep_17_levels(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};

	add_too_deep(&l);
	h_fx_start(f, 1, NULL);
	run_batch(f, &l);
	plist_free(&l);
}

/* 100,000 '[' (within a raised max_bytes) are too_deep, not a crash. */
static void
test_too_deep_100000_brackets(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};
	char *body = body_max_bytes(300000);

	add_very_deep(&l);
	h_fx_start(f, 1, body);
	run_batch(f, &l);
	plist_free(&l);
	free(body);
}

/* Syntax errors, NUL bytes, duplicate keys, overflowing numbers, lone surrogates. */
static void
test_bad_json(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};

	add_bad_json(&l);
	h_fx_start(f, 1, NULL);
	run_batch(f, &l);
	plist_free(&l);
}

/* Invalid UTF-8 is bad_utf8, its bytes kept in raw_base64 only. */
static void
test_bad_utf8_kept_as_base64(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};

	add_bad_utf8(&l);
	h_fx_start(f, 1, NULL);
	run_batch(f, &l);
	plist_free(&l);
}

/* JSON that is not an object: array, string, number, null, true. */
static void
test_not_object(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};

	add_not_object(&l);
	h_fx_start(f, 1, NULL);
	run_batch(f, &l);
	plist_free(&l);
}

/* A missing id, and ids of the wrong type or outside the character set. */
static void
test_missing_and_bad_id(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};

	add_bad_id(&l);
	h_fx_start(f, 1, NULL);
	run_batch(f, &l);
	plist_free(&l);
}

/* A missing email; no '@', over 254 bytes, not a string. */
static void
test_missing_and_bad_email(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};

	add_bad_email(&l);
	h_fx_start(f, 1, NULL);
	run_batch(f, &l);
	plist_free(&l);
}

/* Every hostile payload in one burst, valid leads between: all handled, in order. */
static void
test_hostile_batch_then_healthy(void **state)
{
	struct h_fx *f = *state;
	struct plist l = {.n = 0};
	char *body = body_max_bytes(300000);

	add_bad_json(&l);
	add_valid(&l, "a lead amid the hostile ones", "amid-1",
	    hot_lead("amid-1", ""));
	add_bad_utf8(&l);
	add_very_deep(&l);
	add_too_deep(&l);
	add_not_object(&l);
	add_bad_id(&l);
	add_valid(&l, "another lead amid the hostile ones", "amid-2",
	    hot_lead("amid-2", ""));
	add_bad_email(&l);
	add_too_large(&l, 300000);
	h_fx_start(f, 1, body);
	run_batch(f, &l);
	plist_free(&l);
	free(body);
}

/* --- duplicates --------------------------------------------------------------- */

/* A second lead with an assigned id is a duplicate: not assigned again. */
static void
test_duplicate_of_assigned_lead(void **state)
{
	struct h_fx *f = *state;
	const char *first = HOT_HEAD("dup-1") "}";
	/* Same id, other content: would go to kim if it were routed. */
	const char *second = "{\"id\":\"dup-1\",\"email\":\"b@corp.com\",\"title\":\"VP\","
	    "\"employees\":2000,\"activity\":{\"demo_request\":true},"
	    "\"name\":\"Zo\xc3\xab / \xe2\x82\xac \x7f \\\" \\u00e9 \xf0\x9f\x98\x80\"}";
	char *before, *after;
	json_t *d;

	h_fx_start(f, 1, NULL);
	h_push_lead(f->c, first);
	assert_true(h_wait_field(f->c, "lr:lead:dup-1", "status", "assigned"));
	before = h_hash_dump(f->c, "lr:lead:dup-1");

	h_push_lead(f->c, second);
	d = h_newest_dead(f->c, 1);
	h_check_dead("a different lead under an accepted id", d, "duplicate",
	    "incoming", second, strlen(second), false);
	json_decref(d);
	h_push_lead(f->c, first);
	d = h_newest_dead(f->c, 2);
	h_check_dead("the same lead again", d, "duplicate", "incoming", first,
	    strlen(first), false);
	json_decref(d);

	after = h_hash_dump(f->c, "lr:lead:dup-1");
	assert_string_equal(after, before);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 1);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:kim:inbox"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:kim:open"), 0);
	free(before);
	free(after);
	h_fx_stop(f);
}

/* An id in nurture is taken too: a hot lead under it is a duplicate. */
static void
test_duplicate_of_nurtured_lead(void **state)
{
	struct h_fx *f = *state;
	const char *cold = "{\"id\":\"dup-n\",\"email\":\"x@gmail.com\",\"employees\":500}";
	const char *hot = HOT_HEAD("dup-n") "}";
	char *before, *after;
	json_t *d;

	h_fx_start(f, 1, NULL);
	h_push_lead(f->c, cold);
	assert_true(h_wait_field(f->c, "lr:lead:dup-n", "status", "nurture"));
	before = h_hash_dump(f->c, "lr:lead:dup-n");
	h_push_lead(f->c, hot);
	d = h_newest_dead(f->c, 1);
	h_check_dead("a hot lead under a nurtured id", d, "duplicate", "incoming",
	    hot, strlen(hot), false);
	json_decref(d);
	after = h_hash_dump(f->c, "lr:lead:dup-n");
	assert_string_equal(after, before);
	assert_int_equal(h_int(f->c, "LLEN lr:nurture"), 1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:john:open"), 0);
	free(before);
	free(after);
	h_fx_stop(f);
}

/* A closed lead's id stays taken: the lead is not assigned a second time. */
static void
test_duplicate_of_closed_lead(void **state)
{
	struct h_fx *f = *state;
	const char *lead = HOT_HEAD("dup-c") "}";
	char *before, *after;
	json_t *d;

	h_fx_start(f, 1, NULL);
	h_push_lead(f->c, lead);
	assert_true(h_wait_field(f->c, "lr:lead:dup-c", "status", "assigned"));
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"dup-c\",\"rep\":\"john\",\"outcome\":\"won\"}");
	assert_true(h_wait_field(f->c, "lr:lead:dup-c", "status", "closed"));
	before = h_hash_dump(f->c, "lr:lead:dup-c");
	h_push_lead(f->c, lead);
	d = h_newest_dead(f->c, 1);
	h_check_dead("a closed lead again", d, "duplicate", "incoming", lead,
	    strlen(lead), false);
	json_decref(d);
	after = h_hash_dump(f->c, "lr:lead:dup-c");
	assert_string_equal(after, before);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 1);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), 0);
	free(before);
	free(after);
	h_fx_stop(f);
}

/* The same id twice in one claim (pushed before the daemon runs). */
static void
test_duplicate_within_one_batch(void **state)
{
	struct h_fx *f = *state;
	const char *a = HOT_HEAD("dup-b") "}";
	const char *b = HOT_HEAD("dup-b") ",\"name\":\"again\"}";
	json_t *d, *inbox;

	h_push_lead(f->c, a);
	h_push_lead(f->c, b);
	h_fx_start(f, 1, NULL);
	d = h_newest_dead(f->c, 1);
	h_check_dead("the second of two in a batch", d, "duplicate", "incoming",
	    b, strlen(b), false);
	json_decref(d);
	assert_true(h_wait_field(f->c, "lr:lead:dup-b", "status", "assigned"));
	inbox = h_list_json(f->c, "lr:rep:john:inbox");
	assert_int_equal(json_array_size(inbox), 1);
	/* The first one pushed is the one routed. */
	assert_null(json_object_get(json_object_get(json_array_get(inbox, 0),
	    "lead"), "name"));
	json_decref(inbox);
	h_fx_stop(f);
}

/* Rejected as bad_email, then corrected under the same id: accepted. */
static void
test_corrected_lead_is_not_a_duplicate(void **state)
{
	struct h_fx *f = *state;
	const char *bad = "{\"id\":\"fix-1\",\"email\":\"nobody\",\"title\":\"VP\","
	    "\"employees\":250,\"activity\":{\"demo_request\":true}}";
	const char *good = HOT_HEAD("fix-1") "}";
	json_t *d, *inbox;

	h_fx_start(f, 1, NULL);
	h_push_lead(f->c, bad);
	d = h_newest_dead(f->c, 1);
	h_check_dead("the wrong first version", d, "bad_email", "incoming", bad,
	    strlen(bad), false);
	json_decref(d);
	assert_int_equal(h_int(f->c, "EXISTS lr:lead:fix-1"), 0);
	h_push_lead(f->c, good);
	assert_true(h_wait_field(f->c, "lr:lead:fix-1", "status", "assigned"));
	assert_true(h_wait_field(f->c, "lr:lead:fix-1", "rep", "john"));
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 1);
	inbox = h_list_json(f->c, "lr:rep:john:inbox");
	assert_int_equal(json_array_size(inbox), 1);
	assert_string_equal(h_jstr(json_array_get(inbox, 0), "lead_id"), "fix-1");
	assert_string_equal(h_jstr(json_object_get(json_array_get(inbox, 0),
	    "lead"), "email"), "a@corp.com");
	json_decref(inbox);
	h_fx_stop(f);
}

/* --- valid but unusual -------------------------------------------------------- */

/* Ids that look like other keys are just ids: routed, nothing else touched. */
static void
test_key_like_ids_are_routed(void **state)
{
	struct h_fx *f = *state;
	static const char *const ids[] = {"x:rep:y:inbox", "x:rep:kim:inbox",
	    "lr:rep:ann:inbox", ":rep:ann:open", "backlog:mid", "dead",
	    "..", "@", "-_.:@"};
	const size_t n = sizeof(ids) / sizeof(ids[0]);
	char key[200], *s;
	json_t *inbox;

	h_fx_start(f, 1, NULL);
	for (size_t i = 0; i < n; i++) {
		s = hot_lead(ids[i], "");
		h_push_lead(f->c, s);
		free(s);
	}
	assert_true(h_wait_llen(f->c, "lr:rep:john:inbox", (long long)n));
	inbox = h_list_json(f->c, "lr:rep:john:inbox");
	assert_int_equal(json_array_size(inbox), n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(h_jstr(json_array_get(inbox, i), "lead_id"),
		    ids[i]);
		snprintf(key, sizeof(key), "lr:lead:%s", ids[i]);
		assert_true(h_wait_field(f->c, key, "status", "assigned"));
		assert_true(h_wait_field(f->c, key, "rep", "john"));
	}
	json_decref(inbox);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:john:open"), (long long)n);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:y:inbox"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:kim:inbox"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:ann:inbox"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:rep:ann:open"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:backlog:mid"), 0);
	assert_int_equal(h_int(f->c, "EXISTS lr:dead"), 0);
	h_fx_stop(f);
}

/* Optional fields of the wrong type pass through untouched and score nothing. */
static void
test_wrong_type_optional_fields_pass_through(void **state)
{
	struct h_fx *f = *state;
	/* industry 10 + demo 30 + page views 20 + partner 10 = 70; title,
	 * employees and revenue count as missing: the default segment. */
	const char *lead = "{\"id\":\"wt-1\", \"email\":\"a@corp.com\", "
	    "\"employees\":\"many\", \"title\":42, \"revenue\":\"lots\", "
	    "\"name\":[\"A\",\"B\"], \"company\":{\"n\":1}, \"country\":null, "
	    "\"created_at_ms\":\"yesterday\", \"industry\":\"software\", "
	    "\"source\":\"partner\", \"activity\":{\"demo_request\":true,"
	    "\"page_views\":10,\"email_clicks\":\"some\"}, \"x\":1.50}";
	json_t *inbox, *a, *orig;
	redisReply *r;

	h_fx_start(f, 1, NULL);
	h_push_lead(f->c, lead);
	assert_true(h_wait_llen(f->c, "lr:rep:ann:inbox", 1));
	inbox = h_list_json(f->c, "lr:rep:ann:inbox");
	a = json_array_get(inbox, 0);
	assert_string_equal(h_jstr(a, "lead_id"), "wt-1");
	assert_string_equal(h_jstr(a, "rep"), "ann");
	assert_string_equal(h_jstr(a, "segment"), "small");
	assert_int_equal(h_jint(a, "score"), 70);
	assert_non_null(orig = json_loads(lead, 0, NULL));
	assert_true(json_equal(json_object_get(a, "lead"), orig));
	json_decref(orig);
	json_decref(inbox);
	/* Untouched: the very bytes pushed, spaces and 1.50 included. */
	r = h_cmd(f->c, "LINDEX lr:rep:ann:inbox 0");
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_non_null(strstr(r->str, lead));
	freeReplyObject(r);
	assert_int_equal(h_int(f->c, "EXISTS lr:dead"), 0);
	h_fx_stop(f);
}

static const char *order_body =
    "scoring = { mql_threshold = 0; rules = (); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = ( { id = \"solo\"; segments = [\"all\"]; max_open = 10000; } );\n";

/* One instance: leads are assigned in push order, across claim batches. */
static void
test_push_order_is_assignment_order(void **state)
{
	struct h_fx *f = *state;
	const int before = 300, after = 700;
	char lead[128], id[32];
	json_t *inbox;

	/* Some wait before the daemon runs, the rest arrive while it runs. */
	for (int i = 0; i < before; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"o%04d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	h_fx_start(f, 1, order_body);
	for (int i = before; i < before + after; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"o%04d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_llen(f->c, "lr:rep:solo:inbox", before + after));
	inbox = h_list_json(f->c, "lr:rep:solo:inbox");
	assert_int_equal(json_array_size(inbox), before + after);
	for (int i = 0; i < before + after; i++) {
		snprintf(id, sizeof(id), "o%04d", i);
		assert_string_equal(h_jstr(json_array_get(inbox, (size_t)i),
		    "lead_id"), id);
	}
	json_decref(inbox);
	h_fx_stop(f);
}

/* --- memory ----------------------------------------------------------------- */

/*
 * 80 leads of 4 MiB each (intake.max_bytes 8 MiB) through the release
 * build (the sanitized one inflates RSS): the daemon's peak RSS (VmHWM)
 * stays at most 64 MB, and its RSS is back within 10 MB of where it was
 * before the burst; every lead is routed.
 */
static void
test_memory_ceiling_large_payloads(void **state)
{
	struct h_fx *f = *state;
	const size_t size = 4u << 20;
	const int n = 80;
	char *body = body_max_bytes(8 << 20), *lead, id[32];
	const char *saved = getenv("LEADROUTED_BIN");
	char *keep = saved != NULL ? strdup(saved) : NULL;
	long base, hwm, rss;
	long long until;

	setenv("LEADROUTED_BIN", "build/leadrouted", 1);
	h_fx_start(f, 1, body);
	if (keep != NULL)
		setenv("LEADROUTED_BIN", keep, 1);
	else
		unsetenv("LEADROUTED_BIN");
	free(keep);
	lead = hot_lead("mem-warm", "");
	h_push_lead(f->c, lead);
	free(lead);
	assert_true(h_wait_llen(f->c, "lr:rep:john:inbox", 1));
	h_sleep_ms(200);
	base = h_daemon_rss_kb(&f->d[0]);
	assert_true(base > 0);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "mem-%02d", i);
		lead = sized_lead(id, size);
		h_push(f->c, "lr:incoming", lead, size);
		free(lead);
	}
	free(body);
	until = h_now_ms() + 60000;
	while (h_int(f->c, "LLEN lr:rep:john:inbox") < 1 + n &&
	    h_now_ms() < until)
		h_sleep_ms(50);
	h_sleep_ms(500);
	hwm = h_daemon_status_kb(&f->d[0], "VmHWM");
	rss = h_daemon_rss_kb(&f->d[0]);
	fprintf(stderr, "%d leads of %zu bytes: daemon RSS %ld KiB before, peak %ld KiB, %ld KiB after; %lld routed\n",
	    n, size, base, hwm, rss,
	    h_int(f->c, "LLEN lr:rep:john:inbox") - 1);
	assert_int_equal(h_int(f->c, "LLEN lr:rep:john:inbox"), 1 + n);
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 0);
	assert_true(hwm > 0 && hwm <= 64 * 1000);
	assert_true(rss - base <= 10 * 1000);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_too_large_over_configured_limit),
		H_TEST(test_too_large_default_limit_and_one_mib),
		H_TEST(test_too_deep_17_levels),
		H_TEST(test_too_deep_100000_brackets),
		H_TEST(test_bad_json),
		H_TEST(test_bad_utf8_kept_as_base64),
		H_TEST(test_not_object),
		H_TEST(test_missing_and_bad_id),
		H_TEST(test_missing_and_bad_email),
		H_TEST(test_hostile_batch_then_healthy),
		H_TEST(test_duplicate_of_assigned_lead),
		H_TEST(test_duplicate_of_nurtured_lead),
		H_TEST(test_duplicate_of_closed_lead),
		H_TEST(test_duplicate_within_one_batch),
		H_TEST(test_corrected_lead_is_not_a_duplicate),
		H_TEST(test_key_like_ids_are_routed),
		H_TEST(test_wrong_type_optional_fields_pass_through),
		H_TEST(test_push_order_is_assignment_order),
		H_TEST(test_memory_ceiling_large_payloads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
