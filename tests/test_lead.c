/* test_lead.c - cmocka tests of lead.c: parsing, validation, dead letters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lead.h"

#include <jansson.h>

#define MAX_BYTES 65536
#define S(lit) lit, sizeof(lit) - 1

/* --- helpers -------------------------------------------------------------- */

/* Parse, expect success, hand the lead back (the caller clears it). */
static void
parse_ok(const char *buf, size_t len, size_t max, struct lead *lead)
{
	struct lead_error err;
	int rc;

	rc = lead_parse(buf, len, max, lead, &err);
	if (rc != 0)
		fail_msg("expected a valid lead, got %s: %s",
		    dl_reason_name(err.reason), err.detail);
	assert_int_equal(err.reason, DL_NONE);
	assert_non_null(lead->obj);
	assert_non_null(lead->id);
	assert_non_null(lead->email);
}

/* Parse, expect refusal with reason want; *err keeps the detail. */
static void
parse_bad(const char *buf, size_t len, size_t max, enum dl_reason want,
    struct lead_error *err)
{
	struct lead lead;
	int rc;

	memset(&lead, 0xa5, sizeof(lead));
	rc = lead_parse(buf, len, max, &lead, err);
	if (rc == 0) {
		lead_clear(&lead);
		fail_msg("expected %s, the lead was accepted",
		    dl_reason_name(want));
	}
	assert_int_equal(rc, -1);
	if (err->reason != want)
		fail_msg("expected %s, got %s: %s", dl_reason_name(want),
		    dl_reason_name(err->reason), err->detail);
	assert_string_equal(dl_reason_name(err->reason), dl_reason_name(want));
	assert_true(err->detail[0] != '\0');
	assert_non_null(memchr(err->detail, '\0', sizeof(err->detail)));
	/* A refused payload leaves the lead empty. */
	assert_null(lead.obj);
	assert_null(lead.id);
	assert_null(lead.email);
}

static void
assert_detail_has(const struct lead_error *err, const char *phrase)
{
	if (strstr(err->detail, phrase) == NULL)
		fail_msg("detail '%s' lacks '%s'", err->detail, phrase);
}

/* {"id":<id>,"email":<email>} with raw JSON values; NULL omits the field. */
static size_t
make_lead(char *out, size_t cap, const char *id, const char *email)
{
	int n;

	if (id != NULL && email != NULL)
		n = snprintf(out, cap, "{\"id\":%s,\"email\":%s}", id, email);
	else if (id != NULL)
		n = snprintf(out, cap, "{\"id\":%s}", id);
	else if (email != NULL)
		n = snprintf(out, cap, "{\"email\":%s}", email);
	else
		n = snprintf(out, cap, "{}");
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* A JSON string literal of n copies of ch, with optional prefix/suffix. */
static char *
repeat_str(const char *pre, char ch, size_t n, const char *post)
{
	size_t lp = strlen(pre), lq = strlen(post);
	char *s = malloc(lp + n + lq + 3);

	assert_non_null(s);
	s[0] = '"';
	memcpy(s + 1, pre, lp);
	memset(s + 1 + lp, ch, n);
	memcpy(s + 1 + lp + n, post, lq);
	s[1 + lp + n + lq] = '"';
	s[2 + lp + n + lq] = '\0';
	return s;
}

static void
id_ok(const char *id_json, const char *want_id)
{
	char buf[1024];
	struct lead lead;
	size_t len = make_lead(buf, sizeof(buf), id_json, "\"a@b.example\"");

	parse_ok(buf, len, MAX_BYTES, &lead);
	assert_string_equal(lead.id, want_id);
	assert_string_equal(lead.email, "a@b.example");
	lead_clear(&lead);
}

/* Expect want; the detail names the field and says what is wrong. */
static void
id_bad(const char *id_json, enum dl_reason want)
{
	char buf[1024];
	struct lead_error err;
	size_t len = make_lead(buf, sizeof(buf), id_json, "\"a@b.example\"");

	parse_bad(buf, len, MAX_BYTES, want, &err);
	assert_detail_has(&err, "\"id\"");
	if (id_json == NULL)
		assert_detail_has(&err, "no \"id\" field");
	else if (id_json[0] == '"')
		assert_detail_has(&err,
		    "must be 1-128 characters of A-Z a-z 0-9 . _ : @ -");
	else
		assert_detail_has(&err, "\"id\" must be a string");
}

static void
email_bad(const char *email_json, enum dl_reason want, const char *phrase)
{
	char buf[1024];
	struct lead_error err;
	size_t len = make_lead(buf, sizeof(buf), "\"L-1\"", email_json);

	parse_bad(buf, len, MAX_BYTES, want, &err);
	assert_detail_has(&err, "\"email\"");
	if (phrase != NULL)
		assert_detail_has(&err, phrase);
}

/* Standard base64 back to bytes; returns the length or -1 if malformed. */
static long
b64_decode(const char *in, unsigned char *out, size_t cap)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	unsigned int v[4];

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			const char *p;

			if (in[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad || in[i + k] == '\0' ||
			    (p = strchr(tab, in[i + k])) == NULL)
				return -1;
			v[k] = (unsigned int)(p - tab);
		}
		if (o + 3 - (size_t)pad > cap)
			return -1;
		out[o++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] << 4) | (v[2] >> 2));
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] << 6) | v[3]);
	}
	return (long)o;
}

/* Parse a dead letter back; checks the fields every dead letter has. */
static json_t *
load_dl(const char *text, const char *reason, const char *detail,
    long long at_ms, const char *source)
{
	json_error_t jerr;
	json_t *o;

	assert_non_null(text);
	o = json_loads(text, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		fail_msg("dead letter is not JSON (%s): %s", jerr.text, text);
	assert_true(json_is_object(o));
	assert_int_equal(json_object_size(o), 5);
	assert_string_equal(
	    json_string_value(json_object_get(o, "reason")), reason);
	assert_string_equal(
	    json_string_value(json_object_get(o, "detail")), detail);
	assert_true(json_is_integer(json_object_get(o, "at_ms")));
	assert_true(json_integer_value(json_object_get(o, "at_ms")) == at_ms);
	assert_string_equal(
	    json_string_value(json_object_get(o, "source")), source);
	/* Compact: no space after separators. */
	assert_null(strstr(text, "\": "));
	assert_null(strstr(text, ", \""));
	return o;
}

/* --- valid leads ---------------------------------------------------------- */

static void
test_valid_lead(void **state)
{
	static const char buf[] =
	    "{\"id\":\"web-2024.06:42@form_a\",\"email\":\"ann@acme.example\","
	    "\"name\":\"Ann \\u00c9lise\",\"company\":\"Acme\","
	    "\"employees\":250,\"revenue\":1.5e6,"
	    "\"activity\":{\"page_views\":12,\"demo_request\":true,"
	    "\"nested\":{\"deeper\":[1,2,{\"x\":null}]}},"
	    "\"created_at_ms\":1717000000000,"
	    "\"utm\":{\"campaign\":\"spring\"},\"tags\":[\"a\",\"b\"]}";
	struct lead lead;
	json_t *act, *utm;

	(void)state;
	parse_ok(S(buf), MAX_BYTES, &lead);
	assert_string_equal(lead.id, "web-2024.06:42@form_a");
	assert_string_equal(lead.email, "ann@acme.example");
	/* id and email point into the object the lead owns. */
	assert_ptr_equal(lead.id,
	    json_string_value(json_object_get(lead.obj, "id")));
	assert_ptr_equal(lead.email,
	    json_string_value(json_object_get(lead.obj, "email")));
	assert_string_equal(
	    json_string_value(json_object_get(lead.obj, "name")),
	    "Ann \xc3\x89lise");
	assert_int_equal(
	    json_integer_value(json_object_get(lead.obj, "employees")), 250);
	act = json_object_get(lead.obj, "activity");
	assert_true(json_is_object(act));
	assert_int_equal(
	    json_integer_value(json_object_get(act, "page_views")), 12);
	assert_true(json_is_true(json_object_get(act, "demo_request")));
	assert_true(json_is_object(json_object_get(act, "nested")));
	/* Unknown fields pass through untouched. */
	utm = json_object_get(lead.obj, "utm");
	assert_string_equal(
	    json_string_value(json_object_get(utm, "campaign")), "spring");
	assert_int_equal(json_array_size(json_object_get(lead.obj, "tags")),
	    2);
	assert_int_equal(json_object_size(lead.obj), 10);
	lead_clear(&lead);
	assert_null(lead.obj);
	assert_null(lead.id);
	assert_null(lead.email);
	/* Clearing twice is harmless. */
	lead_clear(&lead);
}

static void
test_optional_wrong_types_pass(void **state)
{
	static const char buf[] =
	    "{\"id\":\"L1\",\"email\":\"a@b\",\"employees\":\"many\","
	    "\"revenue\":-3,\"activity\":[1,2],\"created_at_ms\":\"soon\","
	    "\"name\":42,\"country\":null,\"source\":{\"x\":1}}";
	struct lead lead;

	(void)state;
	parse_ok(S(buf), MAX_BYTES, &lead);
	assert_string_equal(lead.id, "L1");
	assert_string_equal(
	    json_string_value(json_object_get(lead.obj, "employees")),
	    "many");
	assert_true(json_is_array(json_object_get(lead.obj, "activity")));
	assert_true(json_is_null(json_object_get(lead.obj, "country")));
	lead_clear(&lead);
}

static void
test_whitespace_and_nul_escape_pass(void **state)
{
	static const char buf[] = " \r\n\t{ \"email\" : \"a@b\" ,\n"
				  "\"id\" : \"L2\", \"name\":\"a\\u0000b\" }\n ";
	struct lead lead;
	const json_t *name;

	(void)state;
	parse_ok(S(buf), MAX_BYTES, &lead);
	assert_string_equal(lead.id, "L2");
	name = json_object_get(lead.obj, "name");
	/* JSON_ALLOW_NUL: the escaped NUL is kept inside the string. */
	assert_int_equal(json_string_length(name), 3);
	assert_memory_equal(json_string_value(name), "a\0b", 3);
	lead_clear(&lead);
}

/* --- id ------------------------------------------------------------------- */

static void
test_id_length_bounds(void **state)
{
	char *id128 = repeat_str("", 'a', LEAD_ID_MAX, "");
	char *id129 = repeat_str("", 'a', LEAD_ID_MAX + 1, "");
	char want[LEAD_ID_MAX + 1];

	(void)state;
	memset(want, 'a', LEAD_ID_MAX);
	want[LEAD_ID_MAX] = '\0';
	id_ok(id128, want);
	id_bad(id129, DL_BAD_ID);
	id_ok("\"a\"", "a");
	free(id128);
	free(id129);
}

static void
test_id_punctuation_ok(void **state)
{
	(void)state;
	id_ok("\"._:@-\"", "._:@-");
	id_ok("\"A-z.0_9:x@y\"", "A-z.0_9:x@y");
	id_ok("\"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	      "0123456789\"",
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
	/* Key-looking ids are fine: every key is prefixed, so no injection. */
	id_ok("\"x:rep:y:inbox\"", "x:rep:y:inbox");
	id_ok("\"lr:lead:other\"", "lr:lead:other");
	/* An escaped allowed character is still that character. */
	id_ok("\"a\\u002db\"", "a-b");
}

static void
test_id_bad(void **state)
{
	(void)state;
	id_bad("\"a b\"", DL_BAD_ID);
	id_bad("\"a\\nb\"", DL_BAD_ID);
	id_bad("\"a\\u0000b\"", DL_BAD_ID);
	id_bad("\"\\u0000\"", DL_BAD_ID);
	id_bad("\"ab\\u0000\"", DL_BAD_ID);
	id_bad("\"\"", DL_BAD_ID);
	id_bad("\"a\\tb\"", DL_BAD_ID);
	id_bad("\"a/b\"", DL_BAD_ID);
	id_bad("\"a+b\"", DL_BAD_ID);
	id_bad("\"a*\"", DL_BAD_ID);
	id_bad("\"{a}\"", DL_BAD_ID);
	id_bad("\"caf\xc3\xa9\"", DL_BAD_ID);
	id_bad("\"caf\\u00e9\"", DL_BAD_ID);
	id_bad("42", DL_BAD_ID);
	id_bad("0", DL_BAD_ID);
	id_bad("null", DL_BAD_ID);
	id_bad("true", DL_BAD_ID);
	id_bad("[\"a\"]", DL_BAD_ID);
	id_bad("{\"a\":1}", DL_BAD_ID);
	id_bad(NULL, DL_MISSING_ID);
}

static void
test_id_details(void **state)
{
	char buf[256];
	struct lead_error err;
	size_t len;

	(void)state;
	len = make_lead(buf, sizeof(buf), NULL, "\"a@b\"");
	parse_bad(buf, len, MAX_BYTES, DL_MISSING_ID, &err);
	assert_detail_has(&err, "no \"id\"");
	len = make_lead(buf, sizeof(buf), "7", "\"a@b\"");
	parse_bad(buf, len, MAX_BYTES, DL_BAD_ID, &err);
	assert_detail_has(&err, "must be a string");
	len = make_lead(buf, sizeof(buf), "\"a b\"", "\"a@b\"");
	parse_bad(buf, len, MAX_BYTES, DL_BAD_ID, &err);
	assert_detail_has(&err, "1-128 characters");
	/* id is checked before email: both bad reports the id. */
	len = make_lead(buf, sizeof(buf), "\"\"", "7");
	parse_bad(buf, len, MAX_BYTES, DL_BAD_ID, &err);
	len = make_lead(buf, sizeof(buf), NULL, NULL);
	parse_bad(buf, len, MAX_BYTES, DL_MISSING_ID, &err);
}

static void
test_lead_valid_id(void **state)
{
	char id[LEAD_ID_MAX + 2];

	(void)state;
	memset(id, 'z', sizeof(id));
	assert_true(lead_valid_id(id, LEAD_ID_MAX));
	assert_false(lead_valid_id(id, LEAD_ID_MAX + 1));
	assert_false(lead_valid_id(id, 0));
	assert_true(lead_valid_id("._:@-", 5));
	assert_false(lead_valid_id("a\0b", 3));
	assert_false(lead_valid_id("ab\0", 3));
	assert_false(lead_valid_id("a b", 3));
	assert_false(lead_valid_id("a\nb", 3));
	assert_false(lead_valid_id("\xc3\xa9", 2));
	assert_false(lead_valid_id("\xff", 1));
	assert_false(lead_valid_id("#", 1));
	assert_false(lead_valid_id("\"", 1));
}

/* --- email ---------------------------------------------------------------- */

static void
test_email_length_bounds(void **state)
{
	char *e254 = repeat_str("", 'a', LEAD_EMAIL_MAX - 2, "@b");
	char *e255 = repeat_str("", 'a', LEAD_EMAIL_MAX - 1, "@b");
	char buf[1024];
	struct lead lead;
	size_t len;

	(void)state;
	len = make_lead(buf, sizeof(buf), "\"L\"", e254);
	parse_ok(buf, len, MAX_BYTES, &lead);
	assert_int_equal(strlen(lead.email), LEAD_EMAIL_MAX);
	assert_string_equal(lead.email + LEAD_EMAIL_MAX - 2, "@b");
	lead_clear(&lead);
	email_bad(e255, DL_BAD_EMAIL, "255 bytes");
	free(e254);
	free(e255);
}

static void
test_email_length_counts_bytes(void **state)
{
	/* 126 two-byte characters plus "a@": 254 bytes, 128 characters. */
	char email[600], buf[1024];
	struct lead lead;
	size_t o = 0, len;

	(void)state;
	email[o++] = '"';
	email[o++] = 'a';
	email[o++] = '@';
	for (int i = 0; i < 126; i++) {
		email[o++] = '\xc3';
		email[o++] = '\xa9';
	}
	email[o++] = '"';
	email[o] = '\0';
	len = make_lead(buf, sizeof(buf), "\"L\"", email);
	parse_ok(buf, len, MAX_BYTES, &lead);
	assert_int_equal(strlen(lead.email), 254);
	lead_clear(&lead);
	/* One more character: 256 bytes. */
	memmove(email + 3, email + 1, o);
	email[1] = '\xc3';
	email[2] = '\xa9';
	email_bad(email, DL_BAD_EMAIL, "256 bytes");
}

static void
test_email_bad(void **state)
{
	char buf[256];
	struct lead_error err;
	size_t len;

	(void)state;
	email_bad("\"ann.acme.example\"", DL_BAD_EMAIL, "'@'");
	email_bad("\"\"", DL_BAD_EMAIL, "'@'");
	email_bad("42", DL_BAD_EMAIL, "must be a string");
	email_bad("null", DL_BAD_EMAIL, "must be a string");
	email_bad("false", DL_BAD_EMAIL, "must be a string");
	email_bad("[\"a@b\"]", DL_BAD_EMAIL, "must be a string");
	email_bad("{\"a\":\"@\"}", DL_BAD_EMAIL, "must be a string");
	len = make_lead(buf, sizeof(buf), "\"L\"", NULL);
	parse_bad(buf, len, MAX_BYTES, DL_MISSING_EMAIL, &err);
	assert_detail_has(&err, "no \"email\"");
	/* An escaped '@' is an '@'. */
	len = make_lead(buf, sizeof(buf), "\"L\"", "\"a\\u0040b\"");
	{
		struct lead lead;

		parse_ok(buf, len, MAX_BYTES, &lead);
		assert_string_equal(lead.email, "a@b");
		lead_clear(&lead);
	}
}

/* --- size ----------------------------------------------------------------- */

static void
test_size_bounds(void **state)
{
	static const char buf[] = "{\"id\":\"L\",\"email\":\"a@b\"}";
	static const char junk[] = "\xff\xfe\xfd\xfc";
	struct lead_error err;
	struct lead lead;

	(void)state;
	parse_ok(S(buf), sizeof(buf) - 1, &lead);
	lead_clear(&lead);
	parse_bad(S(buf), sizeof(buf) - 2, DL_TOO_LARGE, &err);
	assert_detail_has(&err, "payload is 24 bytes");
	assert_detail_has(&err, "intake.max_bytes (23)");
	/* Size comes first: oversized garbage is too_large, not bad_utf8. */
	parse_bad(S(junk), 3, DL_TOO_LARGE, &err);
	parse_bad(S(junk), 4, DL_BAD_UTF8, &err);
	/* max_bytes 0 refuses everything but the empty payload. */
	parse_bad(S(buf), 0, DL_TOO_LARGE, &err);
	parse_bad("", 0, 0, DL_BAD_JSON, &err);
}

static void
test_one_mib_string(void **state)
{
	static const char head[] = "{\"id\":\"big\",\"email\":\"a@b\",\"blob\":\"";
	static const char tail[] = "\"}";
	size_t n = 1024 * 1024, len = sizeof(head) - 1 + n + sizeof(tail) - 1;
	char *buf = malloc(len);
	struct lead_error err;
	struct lead lead;
	const json_t *blob;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, head, sizeof(head) - 1);
	memset(buf + sizeof(head) - 1, 'x', n);
	memcpy(buf + sizeof(head) - 1 + n, tail, sizeof(tail) - 1);
	parse_ok(buf, len, 2 * n, &lead);
	blob = json_object_get(lead.obj, "blob");
	assert_int_equal(json_string_length(blob), n);
	assert_string_equal(lead.id, "big");
	lead_clear(&lead);
	parse_bad(buf, len, MAX_BYTES, DL_TOO_LARGE, &err);
	free(buf);
}

/* --- depth ---------------------------------------------------------------- */

/* {"id":"L","email":"a@b","n":[[...]]} with levels total (object = 1). */
static char *
nested_lead(int levels, size_t *len)
{
	static const char head[] = "{\"id\":\"L\",\"email\":\"a@b\",\"n\":";
	size_t arrays = (size_t)(levels - 1), n = sizeof(head) - 1;
	char *buf = malloc(n + 2 * arrays + 2);

	assert_non_null(buf);
	memcpy(buf, head, n);
	memset(buf + n, '[', arrays);
	memset(buf + n + arrays, ']', arrays);
	n += 2 * arrays;
	buf[n++] = '}';
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
test_depth_bounds(void **state)
{
	struct lead_error err;
	struct lead lead;
	size_t len;
	char *buf;

	(void)state;
	buf = nested_lead(LEAD_MAX_DEPTH, &len);
	parse_ok(buf, len, MAX_BYTES, &lead);
	lead_clear(&lead);
	assert_int_equal(json_depth_exceeds(buf, len, LEAD_MAX_DEPTH), -1);
	free(buf);

	buf = nested_lead(LEAD_MAX_DEPTH + 1, &len);
	parse_bad(buf, len, MAX_BYTES, DL_TOO_DEEP, &err);
	assert_detail_has(&err, "16 levels");
	/* The offending bracket: the 16th '[' after the 28-byte head. */
	assert_int_equal(json_depth_exceeds(buf, len, LEAD_MAX_DEPTH),
	    28 + LEAD_MAX_DEPTH - 1);
	assert_detail_has(&err, "offset 43");
	free(buf);
}

static void
test_depth_siblings_do_not_add_up(void **state)
{
	char buf[4096];
	struct lead lead;
	size_t n;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), "{\"id\":\"L\",\"email\":\"a@b\"");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    ",\"k%d\":[[[[[{\"a\":[]}]]]]]", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}");
	assert_true(n < sizeof(buf));
	parse_ok(buf, n, MAX_BYTES, &lead);
	lead_clear(&lead);
}

static void
test_depth_strings_do_not_count(void **state)
{
	char *s = repeat_str("", '[', 100, "{{{{");
	char *t = repeat_str("\\\"", '[', 100, "");
	char buf[1024];
	struct lead lead;
	size_t len;

	(void)state;
	len = (size_t)snprintf(buf, sizeof(buf),
	    "{\"id\":\"L\",\"email\":\"a@b\",\"s\":%s,\"t\":%s,%s:1}", s, t,
	    s);
	assert_true(len < sizeof(buf));
	parse_ok(buf, len, MAX_BYTES, &lead);
	assert_int_equal(
	    json_string_length(json_object_get(lead.obj, "s")), 104);
	lead_clear(&lead);
	assert_int_equal(json_depth_exceeds(S("\"[[[[\""), 1), -1);
	/* An escaped backslash ends the escape: the quote closes the string. */
	assert_int_equal(json_depth_exceeds(S("[\"\\\\\",[[\"]\"]]]"), 2), 7);
	assert_int_equal(json_depth_exceeds(S("[\"\\\"[[\",[]]"), 2), -1);
	free(s);
	free(t);
}

static void
test_depth_hostile(void **state)
{
	size_t n = 100000;
	char *buf = malloc(n);
	struct lead_error err;
	clock_t t0;
	double secs;

	(void)state;
	assert_non_null(buf);
	memset(buf, '[', n);
	t0 = clock();
	parse_bad(buf, n, 2 * n, DL_TOO_DEEP, &err);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_true(secs < 1.0);
	assert_int_equal(json_depth_exceeds(buf, n, LEAD_MAX_DEPTH),
	    LEAD_MAX_DEPTH);
	memset(buf, '{', n);
	parse_bad(buf, n, 2 * n, DL_TOO_DEEP, &err);
	free(buf);

	/* A top-level array 17 deep is too_deep before it is not_object. */
	parse_bad(S("[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]"), MAX_BYTES,
	    DL_TOO_DEEP, &err);
	parse_bad(S("[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"), MAX_BYTES,
	    DL_NOT_OBJECT, &err);
	/* Stray closers do not buy extra depth. */
	parse_bad(S("]]]]{\"a\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}"), MAX_BYTES,
	    DL_TOO_DEEP, &err);
}

static void
test_depth_limits(void **state)
{
	(void)state;
	assert_int_equal(json_depth_exceeds(S(""), 16), -1);
	assert_int_equal(json_depth_exceeds(S("{}"), 1), -1);
	assert_int_equal(json_depth_exceeds(S("{}"), 0), 0);
	assert_int_equal(json_depth_exceeds(S("{[]}"), 1), 1);
	assert_int_equal(json_depth_exceeds(S("{\"a\":{}}"), 1), 5);
	assert_int_equal(json_depth_exceeds(S("[][][]"), 1), -1);
}

/* --- bad_json ------------------------------------------------------------- */

static void
bad_json(const char *buf, size_t len, const char *phrase)
{
	struct lead_error err;

	parse_bad(buf, len, MAX_BYTES, DL_BAD_JSON, &err);
	assert_detail_has(&err, "invalid JSON");
	assert_detail_has(&err, "line ");
	assert_detail_has(&err, "column ");
	assert_detail_has(&err, "offset ");
	if (phrase != NULL)
		assert_detail_has(&err, phrase);
}

static void
test_bad_json(void **state)
{
	(void)state;
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\""), "line 1");
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\"} x"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\"}{}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\"}\0"), NULL);
	bad_json(S("{\"id\":\"L\",\0\"email\":\"a@b\"}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a\0@b\"}"), NULL);
	bad_json("", 0, NULL);
	bad_json(S("   \n "), NULL);
	bad_json(S("{\"id\":\"L\",\"id\":\"M\",\"email\":\"a@b\"}"),
	    "duplicate");
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"r\":1e400}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"r\":-1e400}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"s\":\"\\ud800\"}"),
	    NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"s\":\"\\udc00x\"}"),
	    NULL);
	bad_json(S("{'id':'L','email':'a@b'}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",}"), NULL);
	bad_json(S("{\"id\":\"L\" \"email\":\"a@b\"}"), NULL);
	bad_json(S("{id:\"L\",\"email\":\"a@b\"}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"n\":NaN}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"n\":01}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"n\":.5}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"s\":\"\t\"}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\",\"s\":\"\\x41\"}"), NULL);
	bad_json(S("{\"id\":\"L\",\"email\":\"a@b\"}\n/* c */"), NULL);
	bad_json(S("\xef\xbb\xbf{\"id\":\"L\",\"email\":\"a@b\"}"), NULL);
	/* Where it broke: the second line. */
	bad_json(S("{\"id\":\"L\",\n\"email\":}"), "line 2");
}

static void
test_bad_json_huge_integer(void **state)
{
	static const char head[] = "{\"id\":\"L\",\"email\":\"a@b\",\"n\":";
	size_t digits = 10000, n = sizeof(head) - 1;
	char *buf = malloc(n + digits + 2);

	(void)state;
	assert_non_null(buf);
	memcpy(buf, head, n);
	memset(buf + n, '9', digits);
	buf[n + digits] = '}';
	bad_json(buf, n + digits + 1, NULL);
	buf[n] = '-';
	bad_json(buf, n + digits + 1, NULL);
	free(buf);
}

/* Details quoting multibyte input stay UTF-8 and make a dead letter. */
static void
test_bad_json_detail_is_utf8(void **state)
{
	static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80"};
	char buf[1024];
	struct lead_error err;
	size_t bad_at;

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		for (size_t pre = 0; pre < 4; pre++) {
			size_t n = (size_t)snprintf(buf, sizeof(buf),
			    "{\"id\":\"L\",\"email\":\"a@b\",\"s\":\"%.*s",
			    (int)pre, "xyz");
			char *dl;
			json_t *o;

			for (int i = 0; i < 120; i++)
				n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				    "%s", chars[c]);
			parse_bad(buf, n, MAX_BYTES, DL_BAD_JSON, &err);
			if (!utf8_valid(err.detail, strlen(err.detail),
			    &bad_at))
				fail_msg("detail not UTF-8 at %zu: %s", bad_at,
				    err.detail);
			dl = dl_json(err.reason, err.detail, 1, "incoming",
			    buf, n);
			o = load_dl(dl, "bad_json", err.detail, 1, "incoming");
			json_decref(o);
			free(dl);
		}
	}
}

/* --- not_object ----------------------------------------------------------- */

static void
test_not_object(void **state)
{
	static const struct {
		const char *buf;
		size_t len;
	} cases[] = {
		{S("[]")},
		{S("[{\"id\":\"L\",\"email\":\"a@b\"}]")},
		{S("\"a string\"")},
		{S("\"{\\\"id\\\":\\\"L\\\"}\"")},
		{S("42")},
		{S("-0.5")},
		{S("null")},
		{S("true")},
		{S("false")},
		{S(" 7 \n")},
	};
	struct lead_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_bad(cases[i].buf, cases[i].len, MAX_BYTES, DL_NOT_OBJECT,
		    &err);
		assert_detail_has(&err, "not an object");
	}
}

static void
test_load_object(void **state)
{
	struct lead_error err;
	json_t *o;

	(void)state;
	o = lead_load_object(S("{\"type\":\"closed\"}"), &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "closed");
	json_decref(o);
	assert_null(lead_load_object(S("[1]"), &err));
	assert_int_equal(err.reason, DL_NOT_OBJECT);
	assert_null(lead_load_object(S("\"x\""), &err));
	assert_int_equal(err.reason, DL_NOT_OBJECT);
	assert_null(lead_load_object(S("{"), &err));
	assert_int_equal(err.reason, DL_BAD_JSON);
	assert_int_equal(lead_check_bytes(S("{}"), 2, &err), 0);
	assert_int_equal(lead_check_bytes(S("{}"), 1, &err), -1);
	assert_int_equal(err.reason, DL_TOO_LARGE);
}

/* --- UTF-8 ---------------------------------------------------------------- */

static void
utf8_bad(const char *buf, size_t len, size_t want_at, const char *phrase)
{
	struct lead_error err;
	size_t at = (size_t)-1;

	assert_false(utf8_valid(buf, len, &at));
	assert_int_equal(at, want_at);
	assert_false(utf8_valid(buf, len, NULL));
	parse_bad(buf, len, MAX_BYTES, DL_BAD_UTF8, &err);
	assert_detail_has(&err, "not valid UTF-8");
	assert_detail_has(&err, phrase);
}

static void
test_utf8_bad(void **state)
{
	(void)state;
	utf8_bad(S("{\"id\":\"\xff\"}"), 7, "0xff at offset 7");
	utf8_bad(S("{\"id\":\"\xfe\"}"), 7, "0xfe at offset 7");
	utf8_bad(S("{\"s\":\"\xc0\xaf\"}"), 6, "0xc0 at offset 6");
	utf8_bad(S("{\"s\":\"\xc1\xbf\"}"), 6, "0xc1");
	utf8_bad(S("{\"s\":\"\xe0\x80\xaf\"}"), 6, "0xe0");
	utf8_bad(S("{\"s\":\"\xe0\x9f\xbf\"}"), 6, "0xe0");
	utf8_bad(S("{\"s\":\"\xf0\x80\x80\xaf\"}"), 6, "0xf0");
	utf8_bad(S("{\"s\":\"\xf0\x8f\xbf\xbf\"}"), 6, "0xf0");
	utf8_bad(S("{\"s\":\"\xed\xa0\x80\"}"), 6, "0xed at offset 6");
	utf8_bad(S("{\"s\":\"\xed\xbf\xbf\"}"), 6, "0xed");
	utf8_bad(S("{\"s\":\"\xed\xa0\xbd\xed\xb8\x80\"}"), 6, "0xed");
	utf8_bad(S("{\"s\":\"\xf4\x90\x80\x80\"}"), 6, "0xf4 at offset 6");
	utf8_bad(S("{\"s\":\"\xf5\x80\x80\x80\"}"), 6, "0xf5");
	utf8_bad(S("{\"s\":\"\xf8\x88\x80\x80\x80\"}"), 6, "0xf8");
	utf8_bad(S("{\"s\":\"\x80\"}"), 6, "0x80");
	utf8_bad(S("{\"s\":\"\xbf\"}"), 6, "0xbf");
	utf8_bad(S("{\"s\":\"\xc3\x28\"}"), 6, "0xc3");
	utf8_bad(S("{\"s\":\"\xe2\x82\x28\"}"), 6, "0xe2");
	/* A lead byte or 0xff where a continuation byte belongs. */
	utf8_bad(S("{\"s\":\"\xc3\xc3\xa9\"}"), 6, "0xc3 at offset 6");
	utf8_bad(S("{\"s\":\"\xc3\xff\"}"), 6, "0xc3");
	utf8_bad(S("{\"s\":\"\xe2\x82\xe2\x82\xac\"}"), 6, "0xe2");
	utf8_bad(S("{\"s\":\"\xf0\x9f\xf0\x9f\x98\x80\"}"), 6, "0xf0");
	utf8_bad(S("{\"s\":\"\xf0\x9f\x98\"}"), 6, "0xf0");
	/* Truncated at the very end of the payload. */
	utf8_bad(S("{\"s\":\"x\"}\xc3"), 9, "0xc3 at offset 9");
	utf8_bad(S("{\"s\":\"x\"}\xe2\x82"), 9, "0xe2");
	utf8_bad(S("{\"s\":\"x\"}\xf0\x9f\x98"), 9, "0xf0");
	utf8_bad(S("\xf0"), 0, "offset 0");
	/* Invalid UTF-8 wins over a depth problem that comes earlier. */
	utf8_bad(S("[[[[[[[[[[[[[[[[[[[[[\xff"), 21, "0xff");
}

static void
test_utf8_valid(void **state)
{
	size_t at = 12345;

	(void)state;
	assert_true(utf8_valid(S(""), &at));
	assert_true(utf8_valid(S("plain ascii \x7f"), &at));
	assert_true(utf8_valid(S("\xc2\x80"), &at));
	assert_true(utf8_valid(S("\xc3\xa9\xdf\xbf"), &at));
	assert_true(utf8_valid(S("\xe0\xa0\x80"), &at));
	assert_true(utf8_valid(S("\xe2\x82\xac"), &at));
	assert_true(utf8_valid(S("\xed\x9f\xbf"), &at));
	assert_true(utf8_valid(S("\xee\x80\x80\xef\xbf\xbf"), &at));
	assert_true(utf8_valid(S("\xf0\x90\x80\x80"), &at));
	assert_true(utf8_valid(S("\xf0\x9f\x98\x80"), &at));
	assert_true(utf8_valid(S("\xf4\x8f\xbf\xbf"), &at));
	assert_true(utf8_valid(S("a\0b\0"), &at));
	assert_true(utf8_valid(S("\"\\u0000\\ud83d\\ude00\""), &at));
	/* A valid payload leaves bad_at alone. */
	assert_int_equal(at, 12345);
	assert_true(utf8_valid(S("x"), NULL));
	assert_false(utf8_valid(S("ok\xc3\xa9\xff"), &at));
	assert_int_equal(at, 4);
}

/* Never a byte past len, even when the next one would complete it. */
static void
test_utf8_stops_at_len(void **state)
{
	static const char *const seqs[] = {"\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80"};
	struct lead_error err;
	size_t at;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		size_t full = strlen(seqs[i]);

		assert_true(utf8_valid(seqs[i], full, NULL));
		for (size_t cut = 1; cut < full; cut++) {
			char *buf = malloc(cut);

			assert_non_null(buf);
			memcpy(buf, seqs[i], cut);
			at = 99;
			assert_false(utf8_valid(seqs[i], cut, &at));
			assert_int_equal(at, 0);
			/* Exactly cut bytes on the heap: ASan sees overreads. */
			assert_false(utf8_valid(buf, cut, &at));
			parse_bad(buf, cut, MAX_BYTES, DL_BAD_UTF8, &err);
			free(buf);
		}
	}
}

static void
test_utf8_lead_passes(void **state)
{
	static const char buf[] =
	    "{\"id\":\"L\",\"email\":\"\xc3\xa9l\xc3\xa8ve@\xe6\x97\xa5.jp\","
	    "\"name\":\"\xf0\x9f\x98\x80 \\ud83d\\ude00 \\u20ac\"}";
	struct lead lead;

	(void)state;
	parse_ok(S(buf), MAX_BYTES, &lead);
	assert_string_equal(lead.email, "\xc3\xa9l\xc3\xa8ve@\xe6\x97\xa5.jp");
	assert_string_equal(
	    json_string_value(json_object_get(lead.obj, "name")),
	    "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80 \xe2\x82\xac");
	lead_clear(&lead);
}

/* --- base64 --------------------------------------------------------------- */

static void
b64_is(const char *in, size_t len, const char *want)
{
	unsigned char back[64];
	char *out = base64_encode(in, len);

	assert_non_null(out);
	assert_string_equal(out, want);
	assert_int_equal(b64_decode(out, back, sizeof(back)), (long)len);
	assert_memory_equal(back, in, len);
	free(out);
}

static void
test_base64(void **state)
{
	(void)state;
	b64_is(S(""), "");
	b64_is(S("f"), "Zg==");
	b64_is(S("fo"), "Zm8=");
	b64_is(S("foo"), "Zm9v");
	b64_is(S("foob"), "Zm9vYg==");
	b64_is(S("fooba"), "Zm9vYmE=");
	b64_is(S("foobar"), "Zm9vYmFy");
	b64_is(S("\xff\xfe\xfd"), "//79");
	b64_is(S("\xfb\xff"), "+/8=");
	b64_is(S("\xff"), "/w==");
	b64_is(S("\0"), "AA==");
	b64_is(S("\0\0\0"), "AAAA");
	b64_is(S("\x80\x81\x82\x83"), "gIGCgw==");
	b64_is(S("\xc0\xaf\xed\xa0\x80"), "wK/toIA=");
}

static void
test_base64_all_bytes(void **state)
{
	char in[256];
	unsigned char back[256];
	char *out;

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	for (size_t len = 0; len <= sizeof(in); len++) {
		out = base64_encode(in, len);
		assert_non_null(out);
		assert_int_equal(strlen(out), (len + 2) / 3 * 4);
		assert_int_equal(b64_decode(out, back, sizeof(back)),
		    (long)len);
		assert_memory_equal(back, in, len);
		free(out);
	}
}

/* --- dead letters --------------------------------------------------------- */

static void
test_dl_json_text(void **state)
{
	static const char raw[] = "{\"id\":\"a b\",\"s\":\"\xc3\xa9\\\"\"}\n";
	char *dl;
	json_t *o, *r;

	(void)state;
	dl = dl_json(DL_BAD_ID, "\"id\" is bad", 1717000000123LL, "incoming",
	    S(raw));
	o = load_dl(dl, "bad_id", "\"id\" is bad", 1717000000123LL,
	    "incoming");
	r = json_object_get(o, "raw");
	assert_true(json_is_string(r));
	assert_int_equal(json_string_length(r), sizeof(raw) - 1);
	assert_memory_equal(json_string_value(r), raw, sizeof(raw) - 1);
	assert_null(json_object_get(o, "raw_base64"));
	json_decref(o);
	free(dl);
}

static void
test_dl_json_embedded_nul(void **state)
{
	static const char raw[] = "{\"id\":\"L\"}\0trailing\0";
	char *dl;
	json_t *o, *r;

	(void)state;
	dl = dl_json(DL_BAD_JSON, "invalid JSON", 0, "events", S(raw));
	o = load_dl(dl, "bad_json", "invalid JSON", 0, "events");
	r = json_object_get(o, "raw");
	assert_non_null(r);
	assert_int_equal(json_string_length(r), sizeof(raw) - 1);
	assert_memory_equal(json_string_value(r), raw, sizeof(raw) - 1);
	assert_null(json_object_get(o, "raw_base64"));
	json_decref(o);
	free(dl);
}

static void
test_dl_json_base64(void **state)
{
	static const char raw[] = "{\"id\":\"\xff\xfe\",\"x\":\"\xed\xa0\x80\"}\0";
	unsigned char back[64];
	char *dl;
	json_t *o;
	const char *b64;

	(void)state;
	dl = dl_json(DL_BAD_UTF8, "payload is not valid UTF-8", -5,
	    "incoming", S(raw));
	o = load_dl(dl, "bad_utf8", "payload is not valid UTF-8", -5,
	    "incoming");
	assert_null(json_object_get(o, "raw"));
	b64 = json_string_value(json_object_get(o, "raw_base64"));
	assert_non_null(b64);
	assert_int_equal(b64_decode(b64, back, sizeof(back)),
	    (long)sizeof(raw) - 1);
	assert_memory_equal(back, raw, sizeof(raw) - 1);
	json_decref(o);
	free(dl);
}

static void
test_dl_json_edges(void **state)
{
	char *dl;
	json_t *o;

	(void)state;
	/* Empty raw is valid UTF-8: an empty "raw". */
	dl = dl_json(DL_BAD_JSON, "empty", 1, "incoming", "", 0);
	o = load_dl(dl, "bad_json", "empty", 1, "incoming");
	assert_string_equal(json_string_value(json_object_get(o, "raw")), "");
	json_decref(o);
	free(dl);
	/* A NULL detail becomes empty. */
	dl = dl_json(DL_POISON, NULL, 9007199254740993LL, "incoming", S("x"));
	o = load_dl(dl, "poison", "", 9007199254740993LL, "incoming");
	json_decref(o);
	free(dl);
	/* Reasons beyond the lead's own. */
	dl = dl_json(DL_NOT_ASSIGNEE, "rep 'bob' does not hold lead 'L'",
	    42, "events", S("{\"type\":\"closed\"}"));
	o = load_dl(dl, "not_assignee", "rep 'bob' does not hold lead 'L'",
	    42, "events");
	json_decref(o);
	free(dl);
}

/* A detail cut mid-character (snprintf) still gives a dead letter. */
static void
test_dl_json_detail_not_utf8(void **state)
{
	char *dl;
	json_t *o;

	(void)state;
	dl = dl_json(DL_UNKNOWN_REP, "unknown rep 'caf\xc3", 5, "events",
	    S("{\"rep\":\"caf\xc3\xa9\"}"));
	o = load_dl(dl, "unknown_rep", "unknown rep 'caf", 5, "events");
	assert_string_equal(json_string_value(json_object_get(o, "raw")),
	    "{\"rep\":\"caf\xc3\xa9\"}");
	json_decref(o);
	free(dl);
	dl = dl_json(DL_BAD_EVENT, "\xff", 5, "events", S("\xff"));
	o = load_dl(dl, "bad_event", "", 5, "events");
	assert_string_equal(
	    json_string_value(json_object_get(o, "raw_base64")), "/w==");
	json_decref(o);
	free(dl);
}

/* The whole path: parse, refuse, build the dead letter, read it back. */
static void
test_dl_json_from_parse(void **state)
{
	static const char raw[] = "{\"id\":\"L\",\"email\":\"nobody\"}";
	struct lead_error err;
	char *dl;
	json_t *o;

	(void)state;
	parse_bad(S(raw), MAX_BYTES, DL_BAD_EMAIL, &err);
	dl = dl_json(err.reason, err.detail, 77, "incoming", S(raw));
	o = load_dl(dl, "bad_email", err.detail, 77, "incoming");
	assert_string_equal(json_string_value(json_object_get(o, "raw")), raw);
	json_decref(o);
	free(dl);
}

/* --- reason names --------------------------------------------------------- */

static void
test_reason_names(void **state)
{
	static const struct {
		enum dl_reason r;
		const char *name;
	} names[] = {
		{DL_TOO_LARGE, "too_large"},
		{DL_TOO_DEEP, "too_deep"},
		{DL_BAD_JSON, "bad_json"},
		{DL_BAD_UTF8, "bad_utf8"},
		{DL_NOT_OBJECT, "not_object"},
		{DL_MISSING_ID, "missing_id"},
		{DL_BAD_ID, "bad_id"},
		{DL_MISSING_EMAIL, "missing_email"},
		{DL_BAD_EMAIL, "bad_email"},
		{DL_DUPLICATE, "duplicate"},
		{DL_POISON, "poison"},
		{DL_UNKNOWN_LEAD, "unknown_lead"},
		{DL_UNKNOWN_REP, "unknown_rep"},
		{DL_NOT_ASSIGNEE, "not_assignee"},
		{DL_BAD_EVENT, "bad_event"},
	};
	size_t n = sizeof(names) / sizeof(names[0]);

	(void)state;
	assert_int_equal(n, DL_NREASONS - 1);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(dl_reason_name(names[i].r));
		assert_string_equal(dl_reason_name(names[i].r), names[i].name);
	}
	assert_string_equal(dl_reason_name(DL_NONE), "none");
	assert_string_equal(dl_reason_name(DL_NREASONS), "unknown");
	assert_string_equal(dl_reason_name((enum dl_reason)1000), "unknown");
}

/* --- hostile corpus ------------------------------------------------------- */

#define C(lit, r) {lit, sizeof(lit) - 1, r}

static void
test_hostile_corpus(void **state)
{
	static const struct {
		const char *buf;
		size_t len;
		enum dl_reason want;
	} corpus[] = {
		C("{\"id\":\"ok\",\"email\":\"a@b\"}", DL_NONE),
		C("{\"email\":\"a@b\",\"id\":\"ok\"}", DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"@\"}", DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"x\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}",
		    DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"x\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}",
		    DL_TOO_DEEP),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"x\":\"]]]]]]]]]]]]]]]]]]]]\"}",
		    DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"employees\":\"many\"}",
		    DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"n\":1e308}", DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"n\":9223372036854775807}",
		    DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"n\":9223372036854775808}",
		    DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"n\":1e400}", DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"\":\"empty key\"}", DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"k\\u0000\":1}", DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"email\":\"c@d\"}",
		    DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"e\\u006dail\":1}", DL_BAD_JSON),
		C("{\"id\":\"ok\",\"e\\u006dail\":\"a@b\"}", DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"s\":\"\\ud83d\\ude00\"}",
		    DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"s\":\"\\ud83d\"}",
		    DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\",\"s\":\"\\ude00\\ud83d\"}",
		    DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\"", DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b", DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\"}}", DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\"}]", DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\"}\0", DL_BAD_JSON),
		C("\0{\"id\":\"ok\",\"email\":\"a@b\"}", DL_BAD_JSON),
		C("{\"id\":\"ok\",\"email\":\"a@b\"}\xff", DL_BAD_UTF8),
		C("{\"id\":\"ok\",\"email\":\"a@b\"}\xc0\x80", DL_BAD_UTF8),
		C("{\"id\":\"ok\",\"email\":\"a\xed\xbf\xbf@b\"}", DL_BAD_UTF8),
		C("{\"id\":\"ok\",\"email\":\"a\xf4\x8f\xbf\xbf@b\"}", DL_NONE),
		C("{\"id\":\"ok\",\"email\":\"a\xf7\xbf\xbf\xbf@b\"}",
		    DL_BAD_UTF8),
		C("", DL_BAD_JSON),
		C(" ", DL_BAD_JSON),
		C("{", DL_BAD_JSON),
		C("}", DL_BAD_JSON),
		C("{}", DL_MISSING_ID),
		C("[]", DL_NOT_OBJECT),
		C("\"\"", DL_NOT_OBJECT),
		C("0", DL_NOT_OBJECT),
		C("null", DL_NOT_OBJECT),
		C("nul", DL_BAD_JSON),
		C("True", DL_BAD_JSON),
		C("{\"id\":null,\"email\":\"a@b\"}", DL_BAD_ID),
		C("{\"id\":\"\",\"email\":\"a@b\"}", DL_BAD_ID),
		C("{\"id\":\" ok\",\"email\":\"a@b\"}", DL_BAD_ID),
		C("{\"id\":\"ok\\r\",\"email\":\"a@b\"}", DL_BAD_ID),
		C("{\"id\":\"o\\u0000k\",\"email\":\"a@b\"}", DL_BAD_ID),
		C("{\"id\":\"lr:lead:*\",\"email\":\"a@b\"}", DL_BAD_ID),
		C("{\"id\":\"../etc\",\"email\":\"a@b\"}", DL_BAD_ID),
		C("{\"id\":\"ok\"}", DL_MISSING_EMAIL),
		C("{\"ID\":\"ok\",\"email\":\"a@b\"}", DL_MISSING_ID),
		C("{\"id\":\"ok\",\"Email\":\"a@b\"}", DL_MISSING_EMAIL),
		C("{\"id\":\"ok\",\"email\":1}", DL_BAD_EMAIL),
		C("{\"id\":\"ok\",\"email\":\"\"}", DL_BAD_EMAIL),
		C("{\"id\":\"ok\",\"email\":\"a\\u0000b\"}", DL_BAD_EMAIL),
	};
	struct lead_error err;
	struct lead lead;

	(void)state;
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		int rc = lead_parse(corpus[i].buf, corpus[i].len, MAX_BYTES,
		    &lead, &err);

		if (rc == 0)
			lead_clear(&lead);
		if (err.reason != corpus[i].want || (rc == 0) !=
		    (corpus[i].want == DL_NONE))
			fail_msg("case %zu: want %s, got %s (rc %d): %s", i,
			    dl_reason_name(corpus[i].want),
			    dl_reason_name(err.reason), rc, err.detail);
		if (rc == -1)
			assert_null(lead.obj);
	}
}

/* --- allocation failures -------------------------------------------------- */

static long alloc_budget = -1;

static void *
failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

/* Every jansson allocation failing in turn: no crash, no leak. */
static void
test_alloc_failures(void **state)
{
	static const char good[] =
	    "{\"id\":\"L\",\"email\":\"a@b\",\"a\":{\"b\":[1,2,\"x\"]}}";
	static const char bad[] = "{\"id\":\"\xff\"}";
	struct lead_error err;
	struct lead lead;
	bool parsed = false, built = false;

	(void)state;
	json_set_alloc_funcs(failing_malloc, free);
	for (long budget = 0; budget < 200 && !(parsed && built); budget++) {
		char *dl;

		alloc_budget = budget;
		if (lead_parse(S(good), MAX_BYTES, &lead, &err) == 0) {
			parsed = true;
			lead_clear(&lead);
		} else {
			assert_null(lead.obj);
		}
		alloc_budget = budget;
		dl = dl_json(DL_BAD_UTF8, "detail", 1, "incoming", S(bad));
		if (dl != NULL)
			built = true;
		free(dl);
		alloc_budget = budget;
		dl = dl_json(DL_BAD_JSON, "detail", 1, "incoming", S(good));
		free(dl);
	}
	alloc_budget = -1;
	json_set_alloc_funcs(malloc, free);
	assert_true(parsed);
	assert_true(built);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_lead),
		cmocka_unit_test(test_optional_wrong_types_pass),
		cmocka_unit_test(test_whitespace_and_nul_escape_pass),
		cmocka_unit_test(test_id_length_bounds),
		cmocka_unit_test(test_id_punctuation_ok),
		cmocka_unit_test(test_id_bad),
		cmocka_unit_test(test_id_details),
		cmocka_unit_test(test_lead_valid_id),
		cmocka_unit_test(test_email_length_bounds),
		cmocka_unit_test(test_email_length_counts_bytes),
		cmocka_unit_test(test_email_bad),
		cmocka_unit_test(test_size_bounds),
		cmocka_unit_test(test_one_mib_string),
		cmocka_unit_test(test_depth_bounds),
		cmocka_unit_test(test_depth_siblings_do_not_add_up),
		cmocka_unit_test(test_depth_strings_do_not_count),
		cmocka_unit_test(test_depth_hostile),
		cmocka_unit_test(test_depth_limits),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_bad_json_huge_integer),
		cmocka_unit_test(test_bad_json_detail_is_utf8),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_load_object),
		cmocka_unit_test(test_utf8_bad),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_stops_at_len),
		cmocka_unit_test(test_utf8_lead_passes),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_base64_all_bytes),
		cmocka_unit_test(test_dl_json_text),
		cmocka_unit_test(test_dl_json_embedded_nul),
		cmocka_unit_test(test_dl_json_base64),
		cmocka_unit_test(test_dl_json_edges),
		cmocka_unit_test(test_dl_json_detail_not_utf8),
		cmocka_unit_test(test_dl_json_from_parse),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_hostile_corpus),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
