/*
 * lead.h - turn the raw bytes of a lead (as a web form pushed them) into a
 * validated JSON object, or into a dead-letter reason with a human detail.
 *
 * Nothing here does I/O. Checks run cheapest first and never recurse on the
 * input's nesting: size, UTF-8, depth (a scan, before any parsing), JSON
 * syntax (jansson, duplicate keys rejected), object, id, email.
 */
#ifndef LR_LEAD_H
#define LR_LEAD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Nesting limit of README "Input: leads": the top-level object is level 1. */
#define LEAD_MAX_DEPTH 16
#define LEAD_ID_MAX 128
#define LEAD_EMAIL_MAX 254

/* Dead-letter reasons of README "Dead letters". */
enum dl_reason {
	DL_NONE = 0,
	DL_TOO_LARGE,
	DL_TOO_DEEP,
	DL_BAD_JSON,
	DL_BAD_UTF8,
	DL_NOT_OBJECT,
	DL_MISSING_ID,
	DL_BAD_ID,
	DL_MISSING_EMAIL,
	DL_BAD_EMAIL,
	DL_DUPLICATE,
	DL_POISON,
	DL_UNKNOWN_LEAD,
	DL_UNKNOWN_REP,
	DL_NOT_ASSIGNEE,
	DL_BAD_EVENT,
	DL_NREASONS
};

/* The machine word of a reason ("bad_json"). */
const char *dl_reason_name(enum dl_reason r);

/* Why a payload was refused: the reason and one human sentence. */
struct lead_error {
	enum dl_reason reason;
	char detail[256];
};

/* A valid lead. id and email point into obj, which the lead owns. */
struct lead {
	json_t *obj;
	const char *id;
	const char *email;
};

/*
 * Parse and validate len bytes. On success returns 0 and fills *lead (free
 * it with lead_clear). Otherwise returns -1 with err filled in; *lead is
 * left empty. max_bytes is intake.max_bytes. err->reason is DL_NONE when
 * memory ran out: that is no verdict on the payload, which must be retried.
 */
int lead_parse(const char *buf, size_t len, size_t max_bytes,
    struct lead *lead, struct lead_error *err);

/* Release what the lead owns. */
void lead_clear(struct lead *lead);

/*
 * The steps of lead_parse, for reuse (events share the first four): each
 * returns 0 when the payload passes, or -1 with err filled in.
 */
int lead_check_bytes(const char *buf, size_t len, size_t max_bytes,
    struct lead_error *err);
json_t *lead_load_object(const char *buf, size_t len, struct lead_error *err);

/* Is the id 1-128 chars of [A-Za-z0-9._:@-]? */
bool lead_valid_id(const char *s, size_t len);

/*
 * Valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF)?
 * When not, *bad_at is the offset of the first bad byte.
 */
bool utf8_valid(const char *s, size_t len, size_t *bad_at);

/*
 * Does the JSON text nest deeper than limit? Scans brackets outside
 * strings; no recursion. Returns the offset of the first bracket that goes
 * too deep, or -1.
 */
long json_depth_exceeds(const char *s, size_t len, int limit);

/* Standard base64 of len bytes (OpenSSL's EVP_EncodeBlock), NUL-terminated,
 * malloc'd; NULL on ENOMEM or len past INT_MAX / 4 * 3 - 3. */
char *base64_encode(const char *buf, size_t len);

/*
 * The dead-letter JSON of README "Dead letters", compact, malloc'd:
 * {"reason","detail","at_ms","source","raw"} or "raw_base64" instead of
 * "raw" when the bytes are not UTF-8. NULL only on allocation failure.
 */
char *dl_json(enum dl_reason reason, const char *detail, long long at_ms,
    const char *source, const char *raw, size_t len);

#endif
