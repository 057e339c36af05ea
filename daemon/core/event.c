/* event.c - check the shape of a feedback event: type and the fields it needs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "event.h"

static const char *const type_names[] = {
	[EVENT_FOLLOWED_UP] = "followed_up",
	[EVENT_REJECTED] = "rejected",
	[EVENT_CLOSED] = "closed",
	[EVENT_REP_STATUS] = "rep_status",
};

const char *
event_type_name(enum event_type t)
{
	if ((size_t)t >= sizeof(type_names) / sizeof(type_names[0]))
		return "?";
	return type_names[t];
}

static int bad(struct lead_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
bad(struct lead_error *err, const char *fmt, ...)
{
	va_list ap;

	err->reason = DL_BAD_EVENT;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * A non-empty string member without NUL bytes, copied into out (size
 * outsz). Longer than outsz - 1 it is refused, or, when cut is set, cut
 * at the last whole UTF-8 character that fits.
 */
static int
get_text(const json_t *o, const char *name, char *out, size_t outsz,
    bool cut, struct lead_error *err)
{
	const json_t *v = json_object_get(o, name);
	size_t len;

	if (v == NULL)
		return bad(err, "event has no \"%s\" field", name);
	if (!json_is_string(v))
		return bad(err, "\"%s\" must be a string", name);
	len = json_string_length(v);
	if (len >= outsz && cut) {
		len = outsz - 1;
		while (len > 0 && ((unsigned char)json_string_value(v)[len] &
		    0xc0) == 0x80)
			len--;	/* not inside a character */
	}
	if (len == 0 || len >= outsz)
		return bad(err, "\"%s\" must be 1-%zu bytes long", name,
		    outsz - 1);
	if (memchr(json_string_value(v), '\0', len) != NULL)
		return bad(err, "\"%s\" must not contain NUL bytes", name);
	memcpy(out, json_string_value(v), len);
	out[len] = '\0';
	return 0;
}

static int
get_str(const json_t *o, const char *name, char *out, size_t outsz,
    struct lead_error *err)
{
	return get_text(o, name, out, outsz, false, err);
}

/* An outcome is one word: letters, digits, '_' and '-'. */
static bool
is_word(const char *s)
{
	return s[0] != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(s);
}

static int
parse_fields(const json_t *o, struct event_msg *ev, struct lead_error *err)
{
	if (get_str(o, "rep", ev->rep, sizeof(ev->rep), err) == -1)
		return -1;
	if (!cfg_valid_name(ev->rep))
		return bad(err, "\"rep\" must be 1-%d characters of A-Z a-z 0-9 . _ @ -",
		    CFG_REP_ID_MAX);
	if (ev->type == EVENT_REP_STATUS) {
		if (get_str(o, "status", ev->arg, sizeof(ev->arg), err) == -1)
			return -1;
		if (strcmp(ev->arg, "available") != 0 &&
		    strcmp(ev->arg, "away") != 0)
			return bad(err, "\"status\" must be \"available\" or \"away\"");
		return 0;
	}
	if (get_str(o, "lead_id", ev->lead_id, sizeof(ev->lead_id), err) == -1)
		return -1;
	if (!lead_valid_id(ev->lead_id, strlen(ev->lead_id)))
		return bad(err, "\"lead_id\" must be 1-%d characters of A-Z a-z 0-9 . _ : @ -",
		    LEAD_ID_MAX);
	if (ev->type == EVENT_REJECTED)
		/* A rep's free text: a long one is kept in part, never refused. */
		return get_text(o, "reason", ev->arg, sizeof(ev->arg), true,
		    err);
	if (ev->type == EVENT_CLOSED) {
		if (get_str(o, "outcome", ev->arg, EVENT_OUTCOME_MAX + 1,
		    err) == -1)
			return -1;
		if (!is_word(ev->arg))
			return bad(err, "\"outcome\" must be one word (won, lost, disqualified...)");
	}
	return 0;
}

int
event_parse(const char *buf, size_t len, size_t max_bytes,
    struct event_msg *ev, struct lead_error *err)
{
	const json_t *t;
	json_t *o;
	size_t i;
	int rc;

	memset(ev, 0, sizeof(*ev));
	err->reason = DL_NONE;
	err->detail[0] = '\0';
	if (lead_check_bytes(buf, len, max_bytes, err) == -1 ||
	    (o = lead_load_object(buf, len, err)) == NULL) {
		if (err->reason != DL_NONE)	/* DL_NONE: out of memory */
			err->reason = DL_BAD_EVENT;	/* the detail says why */
		return -1;
	}
	t = json_object_get(o, "type");
	if (t == NULL || !json_is_string(t)) {
		json_decref(o);
		return bad(err, "event needs a string \"type\"");
	}
	/* strcmp would take "closed\u0000x" for "closed". */
	if (strlen(json_string_value(t)) != json_string_length(t)) {
		json_decref(o);
		return bad(err, "\"type\" must not contain NUL bytes");
	}
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(json_string_value(t), type_names[i]) == 0)
			break;
	if (i == sizeof(type_names) / sizeof(type_names[0])) {
		rc = bad(err, "unknown event type \"%.40s\" (expected followed_up, rejected, closed or rep_status)",
		    json_string_value(t));
		json_decref(o);
		return rc;
	}
	ev->type = (enum event_type)i;
	rc = parse_fields(o, ev, err);
	json_decref(o);
	return rc;
}
