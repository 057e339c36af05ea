/* intake_req.c - decide what an HTTP intake request gets: an error answer, or a lead to queue. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "intake_req.h"

const int intake_statuses[INTAKE_NSTATUS] = {202, 400, 401, 404, 405, 413,
	415, 503};

static const char *const status_texts[INTAKE_NSTATUS] = {"Accepted",
	"Bad Request", "Unauthorized", "Not Found", "Method Not Allowed",
	"Payload Too Large", "Unsupported Media Type", "Service Unavailable"};

int
intake_status_index(int status)
{
	for (int i = 0; i < INTAKE_NSTATUS; i++)
		if (intake_statuses[i] == status)
			return i;
	return -1;
}

const char *
intake_status_text(int status)
{
	int i = intake_status_index(status);

	return i == -1 ? "Error" : status_texts[i];
}

static void refuse(struct intake_verdict *v, int status, const char *error,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
refuse(struct intake_verdict *v, int status, const char *error,
    const char *fmt, ...)
{
	va_list ap;

	v->status = status;
	v->error = error;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The token of an Authorization value "Bearer <token>" (scheme in any
 * case, spaces around): its start and length, or NULL.
 */
static const char *
bearer_token(const char *h, size_t *len)
{
	const char *t, *end;

	while (is_space(*h))
		h++;
	if (strncasecmp(h, "Bearer", 6) != 0 || !is_space(h[6]))
		return NULL;
	for (t = h + 6; is_space(*t); t++)
		;
	end = t + strlen(t);
	while (end > t && is_space(end[-1]))
		end--;
	*len = (size_t)(end - t);
	return *len > 0 ? t : NULL;
}

/*
 * Is the token one of cfg's? Its digest is compared with every token's,
 * each in constant time, all of them whatever matched: the time taken
 * tells neither which token nor how much of one matched.
 */
static bool
token_ok(const struct lr_config *cfg, const char *tok, size_t len)
{
	unsigned char d[CFG_TOKEN_DIGEST];
	int found = 0;

	if (len > CFG_TOKEN_MAX || cfg_token_digest(tok, len, d) == -1)
		return false;
	for (size_t i = 0; i < cfg->intake.http.ntokens; i++)
		found |= CRYPTO_memcmp(d, cfg->intake.http.token_sha[i],
		    CFG_TOKEN_DIGEST) == 0;
	return found != 0;
}

/* Is the media type application/json (parameters after ';' allowed)? */
static bool
is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	const char *end;

	while (is_space(*ct))
		ct++;
	end = ct + strcspn(ct, ";");
	while (end > ct && is_space(end[-1]))
		end--;
	return (size_t)(end - ct) == sizeof(want) - 1 &&
	    strncasecmp(ct, want, sizeof(want) - 1) == 0;
}

/* The body as the daemon would take it from the intake list. */
static void
check_body(const struct intake_request *r, const struct lr_config *cfg,
    struct intake_verdict *v)
{
	struct lead lead;
	struct lead_error err;

	if (lead_parse(r->body != NULL ? r->body : "", r->len,
	    cfg->intake.max_bytes, &lead, &err) == -1) {
		if (err.reason == DL_NONE) {
			intake_req_unavailable(v, "out of memory; try again");
			return;
		}
		refuse(v, err.reason == DL_TOO_LARGE ? 413 : 400,
		    dl_reason_name(err.reason), "%s", err.detail);
		return;
	}
	v->status = 202;
	snprintf(v->id, sizeof(v->id), "%s", lead.id);
	lead_clear(&lead);
}

void
intake_req_decide(const struct intake_request *r,
    const struct lr_config *cfg, struct intake_verdict *v)
{
	const char *tok;
	size_t tlen = 0;

	memset(v, 0, sizeof(*v));
	if (r->path == NULL || strcmp(r->path, INTAKE_PATH) != 0) {
		refuse(v, 404, "not_found", "the intake takes leads at %s",
		    INTAKE_PATH);
		return;
	}
	if (r->method == NULL || strcmp(r->method, INTAKE_METHOD) != 0) {
		refuse(v, 405, "method_not_allowed", "%s takes POST only",
		    INTAKE_PATH);
		v->header = "Allow";
		v->header_value = INTAKE_METHOD;
		return;
	}
	if (r->authorization == NULL ||
	    (tok = bearer_token(r->authorization, &tlen)) == NULL) {
		refuse(v, 401, "unauthorized",
		    "an Authorization: Bearer <token> header is required");
		v->header = "WWW-Authenticate";
		v->header_value = "Bearer realm=\"leadrouted\"";
		return;
	}
	if (!token_ok(cfg, tok, tlen)) {
		refuse(v, 401, "unauthorized", "the bearer token is not valid");
		v->header = "WWW-Authenticate";
		v->header_value =
		    "Bearer realm=\"leadrouted\", error=\"invalid_token\"";
		return;
	}
	if (r->content_type == NULL || !is_json_type(r->content_type)) {
		refuse(v, 415, "unsupported_media_type",
		    "the body must be sent as Content-Type: application/json");
		return;
	}
	check_body(r, cfg, v);
}

void
intake_req_unavailable(struct intake_verdict *v, const char *detail)
{
	memset(v, 0, sizeof(*v));
	refuse(v, 503, "unavailable", "%s", detail);
	v->header = "Retry-After";
	v->header_value = INTAKE_RETRY_AFTER;
}

char *
intake_req_body(const struct intake_verdict *v)
{
	size_t len = strlen(v->detail), bad;
	json_t *o;
	char *s;

	/* A detail cut by its buffer may end inside a UTF-8 sequence. */
	if (!utf8_valid(v->detail, len, &bad))
		len = bad;
	if (v->status == 202)
		o = json_pack("{s:s}", "id", v->id);
	else
		o = json_pack("{s:s, s:s%}", "error", v->error ? v->error : "",
		    "detail", v->detail, len);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
