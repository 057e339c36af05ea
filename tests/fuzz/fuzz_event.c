/* fuzz_event.c - libFuzzer target: any bytes through event_parse and decide_event_dead. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "decide.h"
#include "event.h"
#include "fuzz.h"

#define NOW_MS 1717000000123LL
/* Small, so too_large is within the fuzzer's -max_len. */
#define MAX_BYTES 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Member name of o equals s, or (cut) is s cut to at most EVENT_ARG_MAX. */
static void
check_member(const json_t *o, const char *name, const char *s, bool cut)
{
	const json_t *v = json_object_get(o, name);
	size_t n = strlen(s);

	FUZZ_CHECK(json_is_string(v));
	if (cut && json_string_length(v) > EVENT_ARG_MAX) {
		/* Cut before the character that did not fit, at most 3 back. */
		FUZZ_CHECK(n <= EVENT_ARG_MAX && n + 3 >= EVENT_ARG_MAX);
		FUZZ_CHECK(((unsigned char)json_string_value(v)[n] & 0xc0) !=
		    0x80);
	} else {
		FUZZ_CHECK(json_string_length(v) == n);
	}
	FUZZ_CHECK(memcmp(json_string_value(v), s, n) == 0);
}

/* The event agrees with an independent parse of its bytes. */
static void
check_fields(const struct event_msg *ev, const char *raw, size_t size)
{
	json_t *o = json_loadb(raw, size, JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, NULL);

	FUZZ_CHECK(json_is_object(o));
	check_member(o, "type", event_type_name(ev->type), false);
	check_member(o, "rep", ev->rep, false);
	if (ev->type != EVENT_REP_STATUS)
		check_member(o, "lead_id", ev->lead_id, false);
	if (ev->type == EVENT_REJECTED)
		check_member(o, "reason", ev->arg, true);
	if (ev->type == EVENT_CLOSED)
		check_member(o, "outcome", ev->arg, false);
	if (ev->type == EVENT_REP_STATUS)
		check_member(o, "status", ev->arg, false);
	json_decref(o);
}

/* A parsed event holds exactly what the commit script may trust. */
static void
check_event(const struct event_msg *ev, const char *raw, size_t size)
{
	size_t arglen = strnlen(ev->arg, sizeof(ev->arg));

	FUZZ_CHECK(size <= MAX_BYTES);
	FUZZ_CHECK(strcmp(event_type_name(ev->type), "?") != 0);
	FUZZ_CHECK(cfg_valid_name(ev->rep));
	FUZZ_CHECK(arglen <= EVENT_ARG_MAX);
	FUZZ_CHECK((arglen == 0) == (ev->type == EVENT_FOLLOWED_UP));
	FUZZ_CHECK(utf8_valid(ev->arg, arglen, NULL));
	check_fields(ev, raw, size);
	switch (ev->type) {
	case EVENT_REP_STATUS:
		FUZZ_CHECK(ev->lead_id[0] == '\0');
		FUZZ_CHECK(strcmp(ev->arg, "available") == 0 ||
		    strcmp(ev->arg, "away") == 0);
		break;
	case EVENT_CLOSED:
		FUZZ_CHECK(arglen <= EVENT_OUTCOME_MAX);
		FUZZ_CHECK(strspn(ev->arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_-") == arglen);
		/* FALLTHROUGH */
	case EVENT_FOLLOWED_UP:
	case EVENT_REJECTED:
		FUZZ_CHECK(lead_valid_id(ev->lead_id, strlen(ev->lead_id)));
		break;
	}
}

static void
check_dead(const struct lead_error *err, const char *raw, size_t size)
{
	json_t *o;
	char *js;

	js = decide_event_dead(err, raw, size, NOW_MS);
	o = fuzz_parse(js);
	FUZZ_CHECK(strcmp(fuzz_str(o, "reason"), dl_reason_name(err->reason)) ==
	    0);
	FUZZ_CHECK(strcmp(fuzz_str(o, "source"), "events") == 0);
	FUZZ_CHECK(json_object_get(o, "raw") != NULL ||
	    json_object_get(o, "raw_base64") != NULL);
	json_decref(o);
	free(js);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	struct lead_error err, poison = {DL_POISON, "set aside"};
	struct event_msg ev;

	if (event_parse(raw, size, MAX_BYTES, &ev, &err) == 0) {
		check_event(&ev, raw, size);
		check_dead(&poison, raw, size);
		return 0;
	}
	FUZZ_CHECK(err.reason == DL_BAD_EVENT);
	FUZZ_CHECK(memchr(err.detail, '\0', sizeof(err.detail)) != NULL);
	check_dead(&err, raw, size);
	return 0;
}
