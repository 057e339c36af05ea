/* test_event.c - cmocka tests of event.c: the shape of feedback events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

#define MAX_BYTES 65536
#define S(lit) lit, sizeof(lit) - 1

#define LEAD_ID_MSG \
	"\"lead_id\" must be 1-128 characters of A-Z a-z 0-9 . _ : @ -"
#define REP_MSG "\"rep\" must be 1-64 characters of A-Z a-z 0-9 . _ @ -"
#define OUTCOME_MSG \
	"\"outcome\" must be one word (won, lost, disqualified...)"
#define TYPE_MSG "event needs a string \"type\""

/* --- helpers -------------------------------------------------------------- */

/* Parse len bytes, expect success; *ev holds the result. */
static void
parse_ok(const char *buf, size_t len, struct event_msg *ev)
{
	struct lead_error err;
	int rc;

	memset(ev, 0xa5, sizeof(*ev));
	memset(&err, 0xa5, sizeof(err));
	rc = event_parse(buf, len, MAX_BYTES, ev, &err);
	if (rc != 0)
		fail_msg("expected a valid event, got %s: %s",
		    dl_reason_name(err.reason), err.detail);
	assert_int_equal(err.reason, DL_NONE);
	assert_string_equal(err.detail, "");
}

/* Expect a valid event of this type and these fields. */
static void
event_ok(const char *text, enum event_type type, const char *lead_id,
    const char *rep, const char *arg)
{
	struct event_msg ev;

	parse_ok(text, strlen(text), &ev);
	assert_int_equal(ev.type, type);
	assert_string_equal(ev.lead_id, lead_id);
	assert_string_equal(ev.rep, rep);
	assert_string_equal(ev.arg, arg);
}

/* Parse len bytes with max bytes, expect bad_event with exactly detail. */
static void
parse_bad(const char *buf, size_t len, size_t max, const char *detail)
{
	struct event_msg ev;
	struct lead_error err;
	int rc;

	memset(&err, 0xa5, sizeof(err));
	rc = event_parse(buf, len, max, &ev, &err);
	if (rc == 0)
		fail_msg("expected bad_event '%s', the event was accepted",
		    detail);
	assert_int_equal(rc, -1);
	if (err.reason != DL_BAD_EVENT)
		fail_msg("expected bad_event, got %s: %s",
		    dl_reason_name(err.reason), err.detail);
	assert_string_equal(dl_reason_name(err.reason), "bad_event");
	assert_non_null(memchr(err.detail, '\0', sizeof(err.detail)));
	assert_string_equal(err.detail, detail);
}

static void
event_bad(const char *text, const char *detail)
{
	parse_bad(text, strlen(text), MAX_BYTES, detail);
}

/* Expect bad_event whose detail starts with prefix (jansson's wording). */
static void
event_bad_prefix(const char *buf, size_t len, const char *prefix)
{
	struct event_msg ev;
	struct lead_error err;

	assert_int_equal(event_parse(buf, len, MAX_BYTES, &ev, &err), -1);
	assert_int_equal(err.reason, DL_BAD_EVENT);
	if (strncmp(err.detail, prefix, strlen(prefix)) != 0)
		fail_msg("detail '%s' does not start with '%s'", err.detail,
		    prefix);
}

/* A JSON string literal of n copies of ch. */
static char *
repeat_str(char ch, size_t n)
{
	char *s = malloc(n + 3);

	assert_non_null(s);
	s[0] = '"';
	memset(s + 1, ch, n);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return s;
}

/* {"type":"closed","lead_id":<id>,"rep":<rep>,"outcome":<outcome>}. */
static void
closed_text(char *out, size_t cap, const char *id, const char *rep,
    const char *outcome)
{
	int n = snprintf(out, cap, "{\"type\":\"closed\",\"lead_id\":%s,"
	    "\"rep\":%s,\"outcome\":%s}", id, rep, outcome);

	assert_true(n > 0 && (size_t)n < cap);
}

/* --- the four valid types ------------------------------------------------- */

static void
test_followed_up(void **state)
{
	(void)state;
	event_ok("{\"type\":\"followed_up\",\"lead_id\":\"L-1\",\"rep\":\"john\"}",
	    EVENT_FOLLOWED_UP, "L-1", "john", "");
	/* Key order and whitespace do not matter. */
	event_ok(" {\n\"rep\" : \"ann.b_2@x-y\", \"lead_id\":\"web:42@a.b_c-d\","
	    "\t\"type\":\"followed_up\"}\n", EVENT_FOLLOWED_UP,
	    "web:42@a.b_c-d", "ann.b_2@x-y", "");
}

static void
test_rejected(void **state)
{
	(void)state;
	event_ok("{\"type\":\"rejected\",\"lead_id\":\"L-2\",\"rep\":\"maria\","
	    "\"reason\":\"not a fit: student\"}",
	    EVENT_REJECTED, "L-2", "maria", "not a fit: student");
	/* A reason is free text, UTF-8 included. */
	event_ok("{\"type\":\"rejected\",\"lead_id\":\"L-2\",\"rep\":\"maria\","
	    "\"reason\":\"d\\u00e9j\\u00e0 client\"}",
	    EVENT_REJECTED, "L-2", "maria", "d\xc3\xa9j\xc3\xa0 client");
}

static void
test_closed(void **state)
{
	(void)state;
	event_ok("{\"type\":\"closed\",\"lead_id\":\"L-3\",\"rep\":\"kenji\","
	    "\"outcome\":\"won\"}", EVENT_CLOSED, "L-3", "kenji", "won");
	event_ok("{\"type\":\"closed\",\"lead_id\":\"L-3\",\"rep\":\"kenji\","
	    "\"outcome\":\"lost\"}", EVENT_CLOSED, "L-3", "kenji", "lost");
	event_ok("{\"type\":\"closed\",\"lead_id\":\"L-3\",\"rep\":\"kenji\","
	    "\"outcome\":\"disqualified\"}", EVENT_CLOSED, "L-3", "kenji",
	    "disqualified");
	/* Another word is fine: letters, digits, '_' and '-'. */
	event_ok("{\"type\":\"closed\",\"lead_id\":\"L-3\",\"rep\":\"kenji\","
	    "\"outcome\":\"No_Budget-2024\"}", EVENT_CLOSED, "L-3", "kenji",
	    "No_Budget-2024");
	event_ok("{\"type\":\"closed\",\"lead_id\":\"L-3\",\"rep\":\"kenji\","
	    "\"outcome\":\"x\"}", EVENT_CLOSED, "L-3", "kenji", "x");
}

static void
test_rep_status(void **state)
{
	(void)state;
	event_ok("{\"type\":\"rep_status\",\"rep\":\"sofia\","
	    "\"status\":\"available\"}", EVENT_REP_STATUS, "", "sofia",
	    "available");
	event_ok("{\"type\":\"rep_status\",\"rep\":\"sofia\","
	    "\"status\":\"away\"}", EVENT_REP_STATUS, "", "sofia", "away");
	/* A lead_id is not needed, and one that is there is ignored. */
	event_ok("{\"type\":\"rep_status\",\"rep\":\"sofia\","
	    "\"status\":\"away\",\"lead_id\":\"L-9\"}", EVENT_REP_STATUS, "",
	    "sofia", "away");
	event_ok("{\"type\":\"rep_status\",\"rep\":\"sofia\","
	    "\"status\":\"away\",\"lead_id\":7}", EVENT_REP_STATUS, "",
	    "sofia", "away");
}

static void
test_extra_fields_ignored(void **state)
{
	(void)state;
	event_ok("{\"type\":\"followed_up\",\"lead_id\":\"L-1\",\"rep\":\"john\","
	    "\"at_ms\":1717000000000,\"note\":{\"call\":[1,2,{\"x\":null}]},"
	    "\"reason\":42,\"outcome\":\"a b\",\"status\":\"busy\"}",
	    EVENT_FOLLOWED_UP, "L-1", "john", "");
	event_ok("{\"type\":\"closed\",\"lead_id\":\"L-1\",\"rep\":\"john\","
	    "\"outcome\":\"won\",\"amount\":12000.5,\"crm\":\"sf\"}",
	    EVENT_CLOSED, "L-1", "john", "won");
}

static void
test_length_bounds_ok(void **state)
{
	char *id128 = repeat_str('i', LEAD_ID_MAX);
	char *rep64 = repeat_str('r', CFG_REP_ID_MAX);
	char *out64 = repeat_str('o', EVENT_OUTCOME_MAX);
	char buf[1024];
	struct event_msg ev;

	(void)state;
	closed_text(buf, sizeof(buf), id128, rep64, out64);
	parse_ok(buf, strlen(buf), &ev);
	assert_int_equal(ev.type, EVENT_CLOSED);
	assert_int_equal(strlen(ev.lead_id), LEAD_ID_MAX);
	assert_int_equal(strspn(ev.lead_id, "i"), LEAD_ID_MAX);
	assert_int_equal(strlen(ev.rep), CFG_REP_ID_MAX);
	assert_int_equal(strspn(ev.rep, "r"), CFG_REP_ID_MAX);
	assert_int_equal(strlen(ev.arg), EVENT_OUTCOME_MAX);
	assert_int_equal(strspn(ev.arg, "o"), EVENT_OUTCOME_MAX);
	free(id128);
	free(rep64);
	free(out64);
}

/* A long rejection reason is kept in part: the rejection is never lost. */
static void
test_reason_length(void **state)
{
	char *rmax = repeat_str('w', EVENT_ARG_MAX);
	char *rlong = repeat_str('w', EVENT_ARG_MAX + 600);
	char buf[4096];
	struct event_msg ev;

	(void)state;
	snprintf(buf, sizeof(buf), "{\"type\":\"rejected\",\"lead_id\":\"L\","
	    "\"rep\":\"r\",\"reason\":%s}", rmax);
	parse_ok(buf, strlen(buf), &ev);
	assert_int_equal(ev.type, EVENT_REJECTED);
	assert_int_equal(strlen(ev.arg), EVENT_ARG_MAX);
	snprintf(buf, sizeof(buf), "{\"type\":\"rejected\",\"lead_id\":\"L\","
	    "\"rep\":\"r\",\"reason\":%s}", rlong);
	parse_ok(buf, strlen(buf), &ev);
	assert_int_equal(strlen(ev.arg), EVENT_ARG_MAX);
	assert_int_equal(strspn(ev.arg, "w"), EVENT_ARG_MAX);
	/* Cut at a character boundary: "é" is two bytes. */
	memset(buf, 0, sizeof(buf));
	{
		size_t o = (size_t)snprintf(buf, sizeof(buf),
		    "{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\","
		    "\"reason\":\"w");
		for (int i = 0; i < EVENT_ARG_MAX; i++) {
			buf[o++] = (char)0xc3;
			buf[o++] = (char)0xa9;
		}
		memcpy(buf + o, "\"}", 3);
	}
	parse_ok(buf, strlen(buf), &ev);
	assert_int_equal(strlen(ev.arg), EVENT_ARG_MAX - 1);
	assert_int_equal(ev.arg[0], 'w');
	assert_int_equal((unsigned char)ev.arg[EVENT_ARG_MAX - 2], 0xa9);
	free(rmax);
	free(rlong);
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(event_type_name(EVENT_FOLLOWED_UP), "followed_up");
	assert_string_equal(event_type_name(EVENT_REJECTED), "rejected");
	assert_string_equal(event_type_name(EVENT_CLOSED), "closed");
	assert_string_equal(event_type_name(EVENT_REP_STATUS), "rep_status");
	assert_string_equal(event_type_name((enum event_type)4), "?");
	assert_string_equal(event_type_name((enum event_type)-1), "?");
}

/* --- type ----------------------------------------------------------------- */

static void
test_type_missing_or_not_string(void **state)
{
	(void)state;
	event_bad("{\"lead_id\":\"L\",\"rep\":\"r\"}", TYPE_MSG);
	event_bad("{}", TYPE_MSG);
	event_bad("{\"type\":7,\"lead_id\":\"L\",\"rep\":\"r\"}", TYPE_MSG);
	event_bad("{\"type\":null,\"lead_id\":\"L\",\"rep\":\"r\"}", TYPE_MSG);
	event_bad("{\"type\":true}", TYPE_MSG);
	event_bad("{\"type\":[\"closed\"]}", TYPE_MSG);
	event_bad("{\"type\":{\"closed\":1}}", TYPE_MSG);
	/* The name is "type", exactly. */
	event_bad("{\"Type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"won\"}", TYPE_MSG);
}

static void
test_type_unknown(void **state)
{
	(void)state;
	event_bad("{\"type\":\"assigned\",\"lead_id\":\"L\",\"rep\":\"r\"}",
	    "unknown event type \"assigned\" (expected followed_up, "
	    "rejected, closed or rep_status)");
	event_bad("{\"type\":\"\",\"lead_id\":\"L\",\"rep\":\"r\"}",
	    "unknown event type \"\" (expected followed_up, rejected, "
	    "closed or rep_status)");
	/* Type names are case-sensitive and exact. */
	event_bad("{\"type\":\"Closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"won\"}", "unknown event type \"Closed\" (expected "
	    "followed_up, rejected, closed or rep_status)");
	event_bad("{\"type\":\"closed \",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"won\"}", "unknown event type \"closed \" (expected "
	    "followed_up, rejected, closed or rep_status)");
	event_bad("{\"type\":\"follow\",\"lead_id\":\"L\",\"rep\":\"r\"}",
	    "unknown event type \"follow\" (expected followed_up, rejected, "
	    "closed or rep_status)");
	/* A long type is cut to 40 bytes in the detail. */
	event_bad("{\"type\":\"0123456789012345678901234567890123456789XYZ\"}",
	    "unknown event type \"0123456789012345678901234567890123456789\" "
	    "(expected followed_up, rejected, closed or rep_status)");
}

static void
test_type_with_nul(void **state)
{
	(void)state;
	/* "closed" followed by a NUL and more is not "closed". */
	event_bad("{\"type\":\"closed\\u0000x\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"won\"}", "\"type\" must not contain NUL bytes");
	event_bad("{\"type\":\"followed_up\\u0000\",\"lead_id\":\"L\","
	    "\"rep\":\"r\"}", "\"type\" must not contain NUL bytes");
	event_bad("{\"type\":\"\\u0000\"}", "\"type\" must not contain NUL bytes");
}

/* --- lead_id -------------------------------------------------------------- */

static void
test_lead_id_bad(void **state)
{
	char *id129 = repeat_str('i', LEAD_ID_MAX + 1);
	char buf[1024];

	(void)state;
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\"}",
	    "event has no \"lead_id\" field");
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\",\"lead_id\":\"\"}",
	    "\"lead_id\" must be 1-128 bytes long");
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\",\"lead_id\":42}",
	    "\"lead_id\" must be a string");
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\",\"lead_id\":null}",
	    "\"lead_id\" must be a string");
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\",\"lead_id\":[\"L\"]}",
	    "\"lead_id\" must be a string");
	snprintf(buf, sizeof(buf),
	    "{\"type\":\"followed_up\",\"rep\":\"r\",\"lead_id\":%s}", id129);
	event_bad(buf, "\"lead_id\" must be 1-128 bytes long");
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\",\"lead_id\":\"a b\"}",
	    LEAD_ID_MSG);
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\",\"lead_id\":\"a/b\"}",
	    LEAD_ID_MSG);
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\","
	    "\"lead_id\":\"caf\\u00e9\"}", LEAD_ID_MSG);
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\",\"lead_id\":\"a\\nb\"}",
	    LEAD_ID_MSG);
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\","
	    "\"lead_id\":\"a\\u0000b\"}",
	    "\"lead_id\" must not contain NUL bytes");
	event_bad("{\"type\":\"followed_up\",\"rep\":\"r\","
	    "\"lead_id\":\"ab\\u0000\"}",
	    "\"lead_id\" must not contain NUL bytes");
	/* The same checks hold for rejected and closed. */
	event_bad("{\"type\":\"rejected\",\"rep\":\"r\",\"lead_id\":\"a b\","
	    "\"reason\":\"x\"}", LEAD_ID_MSG);
	event_bad("{\"type\":\"closed\",\"rep\":\"r\",\"outcome\":\"won\"}",
	    "event has no \"lead_id\" field");
	free(id129);
}

/* --- rep ------------------------------------------------------------------ */

static void
test_rep_bad(void **state)
{
	char *rep65 = repeat_str('r', CFG_REP_ID_MAX + 1);
	char buf[1024];

	(void)state;
	event_bad("{\"type\":\"followed_up\",\"lead_id\":\"L\"}",
	    "event has no \"rep\" field");
	event_bad("{\"type\":\"rep_status\",\"status\":\"away\"}",
	    "event has no \"rep\" field");
	event_bad("{\"type\":\"followed_up\",\"lead_id\":\"L\",\"rep\":7}",
	    "\"rep\" must be a string");
	event_bad("{\"type\":\"followed_up\",\"lead_id\":\"L\",\"rep\":\"\"}",
	    "\"rep\" must be 1-64 bytes long");
	snprintf(buf, sizeof(buf),
	    "{\"type\":\"followed_up\",\"lead_id\":\"L\",\"rep\":%s}", rep65);
	event_bad(buf, "\"rep\" must be 1-64 bytes long");
	snprintf(buf, sizeof(buf),
	    "{\"type\":\"rep_status\",\"status\":\"away\",\"rep\":%s}", rep65);
	event_bad(buf, "\"rep\" must be 1-64 bytes long");
	/* Rep ids are names: no ':' (unlike lead ids), no space, no '/'. */
	event_bad("{\"type\":\"followed_up\",\"lead_id\":\"L\",\"rep\":\"a:b\"}",
	    REP_MSG);
	event_bad("{\"type\":\"followed_up\",\"lead_id\":\"L\",\"rep\":\"a b\"}",
	    REP_MSG);
	event_bad("{\"type\":\"rep_status\",\"status\":\"away\",\"rep\":\"a/b\"}",
	    REP_MSG);
	event_bad("{\"type\":\"followed_up\",\"lead_id\":\"L\","
	    "\"rep\":\"jo\\u00e3o\"}", REP_MSG);
	event_bad("{\"type\":\"followed_up\",\"lead_id\":\"L\","
	    "\"rep\":\"jo\\u0000hn\"}", "\"rep\" must not contain NUL bytes");
	free(rep65);
}

/* --- reason, outcome, status ---------------------------------------------- */

static void
test_reason_bad(void **state)
{
	(void)state;
	event_bad("{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\"}",
	    "event has no \"reason\" field");
	event_bad("{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"reason\":42}", "\"reason\" must be a string");
	event_bad("{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"reason\":null}", "\"reason\" must be a string");
	event_bad("{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"reason\":{\"why\":\"x\"}}", "\"reason\" must be a string");
	event_bad("{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"reason\":\"\"}", "\"reason\" must be 1-1024 bytes long");
	event_bad("{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"reason\":\"a\\u0000b\"}", "\"reason\" must not contain NUL bytes");
}

static void
test_outcome_bad(void **state)
{
	char *out65 = repeat_str('o', EVENT_OUTCOME_MAX + 1);
	char buf[1024];

	(void)state;
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\"}",
	    "event has no \"outcome\" field");
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":1}", "\"outcome\" must be a string");
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"\"}", "\"outcome\" must be 1-64 bytes long");
	closed_text(buf, sizeof(buf), "\"L\"", "\"r\"", out65);
	event_bad(buf, "\"outcome\" must be 1-64 bytes long");
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"closed won\"}", OUTCOME_MSG);
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\" won\"}", OUTCOME_MSG);
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"won.\"}", OUTCOME_MSG);
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"a:b\"}", OUTCOME_MSG);
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"gagn\\u00e9\"}", OUTCOME_MSG);
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"won\\n\"}", OUTCOME_MSG);
	event_bad("{\"type\":\"closed\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"outcome\":\"won\\u0000\"}",
	    "\"outcome\" must not contain NUL bytes");
	free(out65);
}

static void
test_status_bad(void **state)
{
	(void)state;
	event_bad("{\"type\":\"rep_status\",\"rep\":\"r\"}",
	    "event has no \"status\" field");
	event_bad("{\"type\":\"rep_status\",\"rep\":\"r\",\"status\":true}",
	    "\"status\" must be a string");
	event_bad("{\"type\":\"rep_status\",\"rep\":\"r\",\"status\":\"\"}",
	    "\"status\" must be 1-1024 bytes long");
	event_bad("{\"type\":\"rep_status\",\"rep\":\"r\",\"status\":\"busy\"}",
	    "\"status\" must be \"available\" or \"away\"");
	event_bad("{\"type\":\"rep_status\",\"rep\":\"r\",\"status\":\"Away\"}",
	    "\"status\" must be \"available\" or \"away\"");
	event_bad("{\"type\":\"rep_status\",\"rep\":\"r\","
	    "\"status\":\"available \"}",
	    "\"status\" must be \"available\" or \"away\"");
	event_bad("{\"type\":\"rep_status\",\"rep\":\"r\","
	    "\"status\":\"away\\u0000\"}",
	    "\"status\" must not contain NUL bytes");
}

/* The first problem found is the one reported: rep, then the rest. */
static void
test_check_order(void **state)
{
	(void)state;
	event_bad("{\"type\":\"closed\"}", "event has no \"rep\" field");
	event_bad("{\"type\":\"closed\",\"rep\":\"a b\",\"lead_id\":\"a b\"}",
	    REP_MSG);
	event_bad("{\"type\":\"closed\",\"rep\":\"r\",\"lead_id\":\"a b\","
	    "\"outcome\":\"a b\"}", LEAD_ID_MSG);
	event_bad("{\"type\":\"nope\",\"rep\":7}", "unknown event type \"nope\" "
	    "(expected followed_up, rejected, closed or rep_status)");
}

/* --- the payload as a whole ----------------------------------------------- */

static void
test_not_json(void **state)
{
	(void)state;
	event_bad_prefix(S("type=closed"), "invalid JSON at line 1, column ");
	event_bad_prefix(S("{\"type\":\"closed\""), "invalid JSON at line 1, ");
	event_bad_prefix(S("{\"type\":\"closed\",}"), "invalid JSON at line 1, ");
	event_bad_prefix(S(""), "invalid JSON at line 1, ");
	/* Duplicate keys are refused, as for leads. */
	event_bad_prefix(S("{\"type\":\"rep_status\",\"rep\":\"r\","
	    "\"status\":\"away\",\"status\":\"available\"}"),
	    "invalid JSON at line 1, ");
	/* Two values, one after the other. */
	event_bad_prefix(S("{\"type\":\"x\"}{}"), "invalid JSON at line 1, ");
}

static void
test_not_object(void **state)
{
	(void)state;
	event_bad("[{\"type\":\"followed_up\",\"lead_id\":\"L\",\"rep\":\"r\"}]",
	    "payload is JSON but not an object");
	event_bad("[]", "payload is JSON but not an object");
	event_bad("\"followed_up\"", "payload is JSON but not an object");
	event_bad("42", "payload is JSON but not an object");
	event_bad("null", "payload is JSON but not an object");
	event_bad("true", "payload is JSON but not an object");
}

static void
test_too_large(void **state)
{
	static const char ev[] =
	    "{\"type\":\"followed_up\",\"lead_id\":\"L\",\"rep\":\"r\"}";
	struct event_msg msg;
	struct lead_error err;
	char want[128];

	(void)state;
	/* Exactly max_bytes is fine; one byte more is not. */
	assert_int_equal(event_parse(S(ev), sizeof(ev) - 1, &msg, &err), 0);
	assert_int_equal(msg.type, EVENT_FOLLOWED_UP);
	snprintf(want, sizeof(want), "payload is %zu bytes, more than "
	    "intake.max_bytes (%zu)", sizeof(ev) - 1, sizeof(ev) - 2);
	parse_bad(S(ev), sizeof(ev) - 2, want);
	parse_bad(S(ev), 0, "payload is 46 bytes, more than intake.max_bytes "
	    "(0)");
}

static void
test_bad_utf8(void **state)
{
	(void)state;
	event_bad("{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"reason\":\"caf\xe9\"}", "payload is not valid UTF-8 (bad byte "
	    "0xe9 at offset 56)");
	event_bad("\xff{}", "payload is not valid UTF-8 (bad byte 0xff at "
	    "offset 0)");
	/* An overlong '/' and a surrogate. */
	event_bad("{\"type\":\"\xc0\xaf\"}", "payload is not valid UTF-8 (bad "
	    "byte 0xc0 at offset 9)");
	event_bad("{\"type\":\"\xed\xa0\x80\"}", "payload is not valid UTF-8 "
	    "(bad byte 0xed at offset 9)");
}

static void
test_nesting(void **state)
{
	char buf[512];
	struct event_msg ev;
	size_t o;

	(void)state;
	/* Depth 16: the object and 15 nested arrays in an extra field. */
	o = (size_t)snprintf(buf, sizeof(buf), "{\"type\":\"followed_up\","
	    "\"lead_id\":\"L\",\"rep\":\"r\",\"x\":");
	memset(buf + o, '[', 15);
	memset(buf + o + 15, ']', 15);
	buf[o + 30] = '}';
	parse_ok(buf, o + 31, &ev);
	assert_int_equal(ev.type, EVENT_FOLLOWED_UP);
	assert_string_equal(ev.lead_id, "L");

	/* Depth 17: the 16th '[' is one too many. */
	memset(buf + o, '[', 16);
	memset(buf + o + 16, ']', 16);
	buf[o + 32] = '}';
	snprintf(buf + 256, 256, "JSON nests deeper than 16 levels (at offset "
	    "%zu)", o + 15);
	parse_bad(buf, o + 33, MAX_BYTES, buf + 256);

	/* Brackets inside strings do not count. */
	event_ok("{\"type\":\"rejected\",\"lead_id\":\"L\",\"rep\":\"r\","
	    "\"reason\":\"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{\\\"\"}",
	    EVENT_REJECTED, "L", "r", "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{\"");
}

/* Bytes after an embedded NUL are part of the payload, not its end. */
static void
test_raw_nul_byte(void **state)
{
	static const char ev[] =
	    "{\"type\":\"followed_up\",\"lead_id\":\"L\",\"rep\":\"r\"}\0junk";

	(void)state;
	event_bad_prefix(ev, sizeof(ev) - 1, "invalid JSON at line 1, ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_followed_up),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_closed),
		cmocka_unit_test(test_rep_status),
		cmocka_unit_test(test_extra_fields_ignored),
		cmocka_unit_test(test_length_bounds_ok),
		cmocka_unit_test(test_reason_length),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_type_missing_or_not_string),
		cmocka_unit_test(test_type_unknown),
		cmocka_unit_test(test_type_with_nul),
		cmocka_unit_test(test_lead_id_bad),
		cmocka_unit_test(test_rep_bad),
		cmocka_unit_test(test_reason_bad),
		cmocka_unit_test(test_outcome_bad),
		cmocka_unit_test(test_status_bad),
		cmocka_unit_test(test_check_order),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_raw_nul_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
