/*
 * intake_req.h - the HTTP intake's decision (README "HTTP intake"): from a
 * request's method, path, Authorization and Content-Type headers and body,
 * the answer it gets, or that its body is a lead to queue.
 *
 * Pure: no I/O, no event loop. The body is checked by lead_parse, the
 * code the daemon runs on every payload it takes from the intake list, so
 * a 400 names the reason the payload would have been dead-lettered with.
 * Tokens are compared as SHA-256 digests in constant time, every
 * configured token each time.
 */
#ifndef LR_INTAKE_REQ_H
#define LR_INTAKE_REQ_H

#include <stddef.h>

#include "config.h"
#include "lead.h"

/* The one path and the one method of the intake. */
#define INTAKE_PATH "/v1/leads"
#define INTAKE_METHOD "POST"
/* Seconds a 503 asks the client to wait before it tries again. */
#define INTAKE_RETRY_AFTER "1"

/* A request as the HTTP layer read it; NULL: the header is absent. */
struct intake_request {
	const char *method;		/* "POST", "GET"... */
	const char *path;		/* the URI's path, without the query */
	const char *authorization;
	const char *content_type;
	const char *body;
	size_t len;
};

/* The answer, or (status 202) a lead whose body is to be queued. */
struct intake_verdict {
	int status;		/* 202, 400, 401, 404, 405, 413, 415 or 503 */
	const char *error;	/* the "error" word of the answer; NULL for 202 */
	char detail[256];	/* its "detail" sentence */
	char id[LEAD_ID_MAX + 1];	/* 202: the lead's id */
	/* one header the answer carries (WWW-Authenticate, Allow,
	 * Retry-After), or NULL */
	const char *header, *header_value;
};

/*
 * Decide r against cfg's tokens (cfg->intake.http) and intake.max_bytes.
 * The checks, in order: path (404), method (405), a bearer token of the
 * tokens file (401), content type application/json with any parameters
 * (415), the body as lead_parse sees it (413 too_large, 400 with the
 * dead-letter reason; 503 when memory ran out); else 202. Fills *v.
 */
void intake_req_decide(const struct intake_request *r,
    const struct lr_config *cfg, struct intake_verdict *v);

/* A 503 while Redis is unreachable (or did not take the lead). */
void intake_req_unavailable(struct intake_verdict *v, const char *detail);

/*
 * The answer's JSON body, compact, malloc'd: {"id":..} for 202, else
 * {"error":..,"detail":..}. NULL when out of memory.
 */
char *intake_req_body(const struct intake_verdict *v);

/* The reason phrase of a status this module answers ("Accepted"). */
const char *intake_status_text(int status);

/* The statuses, in the order of the metric's samples. */
#define INTAKE_NSTATUS 8
extern const int intake_statuses[INTAKE_NSTATUS];
/* The index of status in intake_statuses, or -1. */
int intake_status_index(int status);

#endif
