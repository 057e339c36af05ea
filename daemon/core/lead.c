/* lead.c - validate a lead's raw bytes and build dead letters for the ones refused. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lead.h"

static const char *const reason_names[DL_NREASONS] = {
	[DL_NONE] = "none",
	[DL_TOO_LARGE] = "too_large",
	[DL_TOO_DEEP] = "too_deep",
	[DL_BAD_JSON] = "bad_json",
	[DL_BAD_UTF8] = "bad_utf8",
	[DL_NOT_OBJECT] = "not_object",
	[DL_MISSING_ID] = "missing_id",
	[DL_BAD_ID] = "bad_id",
	[DL_MISSING_EMAIL] = "missing_email",
	[DL_BAD_EMAIL] = "bad_email",
	[DL_DUPLICATE] = "duplicate",
	[DL_POISON] = "poison",
	[DL_UNKNOWN_LEAD] = "unknown_lead",
	[DL_UNKNOWN_REP] = "unknown_rep",
	[DL_NOT_ASSIGNEE] = "not_assignee",
	[DL_BAD_EVENT] = "bad_event",
};

const char *
dl_reason_name(enum dl_reason r)
{
	if ((unsigned)r >= DL_NREASONS)
		return "unknown";
	return reason_names[r];
}

static int fail(struct lead_error *err, enum dl_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct lead_error *err, enum dl_reason r, const char *fmt, ...)
{
	va_list ap;

	err->reason = r;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return -1;
}

bool
utf8_valid(const char *str, size_t len, size_t *bad_at)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k;
	unsigned int cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else {
			goto bad;
		}
		if (len - i - 1 < n)
			goto bad;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	if (bad_at != NULL)
		*bad_at = i;
	return false;
}

long
json_depth_exceeds(const char *s, size_t len, int limit)
{
	bool in_string = false, escaped = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (ch == '\\')
				escaped = true;
			else if (ch == '"')
				in_string = false;
			continue;
		}
		switch (ch) {
		case '"':
			in_string = true;
			break;
		case '{':
		case '[':
			if (++depth > limit)
				return (long)i;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return -1;
}

bool
lead_valid_id(const char *s, size_t len)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._:@-";

	if (len == 0 || len > LEAD_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(ok, s[i]) == NULL)
			return false;
	return true;
}

int
lead_check_bytes(const char *buf, size_t len, size_t max_bytes,
    struct lead_error *err)
{
	size_t bad_at;
	long deep_at;

	if (len > max_bytes)
		return fail(err, DL_TOO_LARGE,
		    "payload is %zu bytes, more than intake.max_bytes (%zu)",
		    len, max_bytes);
	if (!utf8_valid(buf, len, &bad_at))
		return fail(err, DL_BAD_UTF8,
		    "payload is not valid UTF-8 (bad byte 0x%02x at offset %zu)",
		    (unsigned char)buf[bad_at], bad_at);
	if ((deep_at = json_depth_exceeds(buf, len, LEAD_MAX_DEPTH)) != -1)
		return fail(err, DL_TOO_DEEP,
		    "JSON nests deeper than %d levels (at offset %ld)",
		    LEAD_MAX_DEPTH, deep_at);
	return 0;
}

json_t *
lead_load_object(const char *buf, size_t len, struct lead_error *err)
{
	json_error_t jerr;
	json_t *obj;

	/* JSON_DECODE_ANY: a top-level scalar is not_object, not bad_json. */
	obj = json_loadb(buf, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (obj == NULL && json_error_code(&jerr) == json_error_out_of_memory) {
		/* Not the payload's fault: no verdict, the caller retries. */
		fail(err, DL_NONE, "out of memory while parsing");
		return NULL;
	}
	if (obj == NULL) {
		fail(err, DL_BAD_JSON,
		    "invalid JSON at line %d, column %d (offset %d): %s",
		    jerr.line, jerr.column, jerr.position, jerr.text);
		return NULL;
	}
	if (!json_is_object(obj)) {
		fail(err, DL_NOT_OBJECT, "payload is JSON but not an object");
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static int
lead_check_fields(const json_t *obj, struct lead_error *err)
{
	const json_t *id, *email;

	if ((id = json_object_get(obj, "id")) == NULL)
		return fail(err, DL_MISSING_ID, "lead has no \"id\" field");
	if (!json_is_string(id))
		return fail(err, DL_BAD_ID, "\"id\" must be a string");
	if (!lead_valid_id(json_string_value(id), json_string_length(id)))
		return fail(err, DL_BAD_ID,
		    "\"id\" must be 1-%d characters of A-Z a-z 0-9 . _ : @ -",
		    LEAD_ID_MAX);
	if ((email = json_object_get(obj, "email")) == NULL)
		return fail(err, DL_MISSING_EMAIL,
		    "lead has no \"email\" field");
	if (!json_is_string(email))
		return fail(err, DL_BAD_EMAIL, "\"email\" must be a string");
	if (json_string_length(email) > LEAD_EMAIL_MAX)
		return fail(err, DL_BAD_EMAIL,
		    "\"email\" is %zu bytes, longer than %d",
		    json_string_length(email), LEAD_EMAIL_MAX);
	if (memchr(json_string_value(email), '@',
	    json_string_length(email)) == NULL)
		return fail(err, DL_BAD_EMAIL, "\"email\" has no '@'");
	return 0;
}

int
lead_parse(const char *buf, size_t len, size_t max_bytes, struct lead *lead,
    struct lead_error *err)
{
	json_t *obj;

	memset(lead, 0, sizeof(*lead));
	err->reason = DL_NONE;
	err->detail[0] = '\0';
	if (lead_check_bytes(buf, len, max_bytes, err) == -1)
		return -1;
	if ((obj = lead_load_object(buf, len, err)) == NULL)
		return -1;
	if (lead_check_fields(obj, err) == -1) {
		json_decref(obj);
		return -1;
	}
	lead->obj = obj;
	lead->id = json_string_value(json_object_get(obj, "id"));
	lead->email = json_string_value(json_object_get(obj, "email"));
	return 0;
}

void
lead_clear(struct lead *lead)
{
	json_decref(lead->obj);
	memset(lead, 0, sizeof(*lead));
}

char *
base64_encode(const char *buf, size_t len)
{
	char *out;

	/* OpenSSL's encoder counts in int; nothing larger reaches here. */
	if (len > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	if ((out = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	(void)EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)buf,
	    (int)len);
	return out;
}

char *
dl_json(enum dl_reason reason, const char *detail, long long at_ms,
    const char *source, const char *raw, size_t len)
{
	bool text = utf8_valid(raw, len, NULL);
	const char *d = detail != NULL ? detail : "";
	size_t dlen = strlen(d), bad_at;
	json_t *o, *rawv;
	char *b64, *out;

	/* A detail cut mid-character (snprintf) keeps its valid prefix. */
	if (!utf8_valid(d, dlen, &bad_at))
		dlen = bad_at;
	if (text) {
		rawv = json_stringn(raw, len);
	} else {
		if ((b64 = base64_encode(raw, len)) == NULL)
			return NULL;
		rawv = json_string(b64);
		free(b64);
	}
	if (rawv == NULL)
		return NULL;
	o = json_pack("{s:s, s:s%, s:I, s:s, s:o}", "reason",
	    dl_reason_name(reason), "detail", d, dlen, "at_ms",
	    (json_int_t)at_ms, "source", source, text ? "raw" : "raw_base64",
	    rawv);
	if (o == NULL)
		return NULL;
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}
