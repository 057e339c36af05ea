/*
 * http.h - the daemon's HTTP endpoint on http.listen (libevent evhttp):
 * GET /healthz (200 "ok" when Redis is reachable, the scripts are loaded
 * and the instance routes; 503 with the reason otherwise) and GET /metrics
 * (Prometheus text format 0.0.4). GET and HEAD only; other paths are 404.
 */
#ifndef LR_HTTP_H
#define LR_HTTP_H

#include <stddef.h>

struct lrd;
struct http;

/*
 * Listen on host:port. Returns NULL with a message in err (naming the
 * address and the failing call) when the socket cannot be bound.
 */
struct http *http_new(struct lrd *d, const char *host, int port, char *err,
    size_t errlen);
void http_free(struct http *h);

#endif
