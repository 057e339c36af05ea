/*
 * api.h - the read API and the ops page on http.listen (README "Read API",
 * "Ops page"; CONTRACT section 12), served through http.h's route hook:
 *
 *   GET /                   the ops page (daemon/web/index.html, built in),
 *                           with a Content-Security-Policy that allows
 *                           nothing but this daemon and the page's own
 *                           inline script and style (by their SHA-256)
 *   GET /v1/status          the router at a glance, JSON
 *   GET /v1/sla?limit=N     assignments not yet acted on, by due time
 *                           (N: 1 to API_SLA_LIMIT_MAX, API_SLA_LIMIT)
 *   GET /v1/alerts?count=N  recent alerts, newest first (N: 1 to
 *                           API_ALERTS_MAX, API_ALERTS_DEFAULT)
 *   GET /v1/leads/<id>      a lead's record with its score receipt; 404
 *   GET /v1/alerts/stream   Server-Sent Events from the durable alert
 *                           stream (sse.h)
 *
 * All read-only, every Redis read bounded. With http.auth_file every one
 * of these paths (and any other but /healthz and /metrics) needs HTTP Basic
 * authentication, checked in constant time; 401 with WWW-Authenticate
 * otherwise. GET and HEAD only (405); bad queries 400; JSON errors are
 * {"error": "..."}; 503 when Redis cannot answer.
 */
#ifndef LR_API_H
#define LR_API_H

#include <stdbool.h>

#include <event2/http.h>

#include "rds.h"

#define API_SLA_LIMIT		1000	/* /v1/sla's default limit */
#define API_SLA_LIMIT_MAX	5000
#define API_SLA_SCAN		20000	/* open leads looked at, at most */
#define API_ALERTS_DEFAULT	50
#define API_ALERTS_MAX		1000
struct lrd;
struct api;

/*
 * The API of daemon d: its script calls and plain reads go to 'to' (what
 * it points to must outlive it); the alert stream gets a connection of its
 * own when the first SSE client comes. NULL on ENOMEM.
 */
struct api *api_new(struct lrd *d, const struct rds_target *to);
/*
 * http.h's route hook: answer req for path (any path but /healthz and
 * /metrics). Always answers (404 for an unknown path); returns true.
 */
bool api_route(struct evhttp_request *req, const char *path, void *arg);
/*
 * NULL is fine. Call after the HTTP server (its connections) and the
 * command connection are gone: their callbacks may still reach the API.
 */
void api_free(struct api *a);

#endif
