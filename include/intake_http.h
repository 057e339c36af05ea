/*
 * intake_http.h - the HTTP intake for web forms (README "HTTP intake"):
 * POST /v1/leads on its own evhttp listener (intake.http.listen), each
 * lead pushed as received onto <prefix>incoming over a Redis connection
 * of its own, answered 202 only once Redis took it.
 *
 * What a request gets is decided by intake_req.h; this module only does
 * the I/O: it reads requests (bodies bounded by intake.max_bytes, headers
 * by INTAKE_HTTP_MAX_HEADERS, each connection by intake.http.timeout),
 * caps the open connections at intake.http.max_connections (one over the
 * cap is answered 503 at once and closed, before any of its request is
 * read), pushes, answers and counts the answers by status.
 */
#ifndef LR_INTAKE_HTTP_H
#define LR_INTAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "intake_req.h"
#include "rds.h"

/* The most bytes of a request's line and headers. */
#define INTAKE_HTTP_MAX_HEADERS 8192

struct intake_http;

/*
 * Listen on cfg->intake.http (host and port must be set) on base, for
 * leads pushed onto key (the full key, <prefix>incoming; the caller keeps
 * it alive) over a Redis connection made from ro. cfg must stay alive
 * until the next intake_http_reload. Returns NULL with a message in err
 * (naming the address and the failing call) when it cannot listen.
 * Nothing is connected before intake_http_start.
 */
struct intake_http *intake_http_new(struct event_base *base,
    const struct lr_config *cfg, const struct rds_opts *ro, const char *key,
    char *err, size_t errlen);

/* Connect to Redis (and reconnect on loss, until intake_http_free). */
void intake_http_start(struct intake_http *ih);

/*
 * Take a reloaded configuration: its tokens, intake.max_bytes, timeout
 * and connection cap (for connections accepted from now on). The
 * listen address is not changed: that needs a restart.
 */
void intake_http_reload(struct intake_http *ih, const struct lr_config *cfg);

/*
 * Stop taking leads: close the listening socket; a request still coming
 * on an open connection is answered 503. Pushes in the air finish.
 */
void intake_http_stop(struct intake_http *ih);

/* No push waiting for Redis (true for NULL)? */
bool intake_http_idle(const struct intake_http *ih);

/* The answers given so far, by intake_statuses[] index. */
void intake_http_counts(const struct intake_http *ih,
    unsigned long long out[INTAKE_NSTATUS]);

/*
 * Close everything; a push still in the air is answered 503. NULL is
 * fine.
 */
void intake_http_free(struct intake_http *ih);

#endif
