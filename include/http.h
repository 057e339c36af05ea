/*
 * http.h - the daemon's HTTP endpoint on http.listen (libevent evhttp):
 * GET /healthz (200 "ok" when the daemon says it is ready; 503 with the
 * reason it gives otherwise) and GET /metrics (Prometheus text format
 * 0.0.4, a body the daemon renders, now or later; 500 when it has none).
 * GET and HEAD only (405 otherwise). Every other path goes to the route
 * callback when one is given (api.h: the ops page and the read API), else
 * 404. This module owns evhttp and nothing else: what it serves comes from
 * the callbacks given to http_new.
 */
#ifndef LR_HTTP_H
#define LR_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/event.h>

/* Seconds a client connection may stay idle (evhttp_set_timeout). */
#define HTTP_TIMEOUT_SECONDS 30
/* A request's headers and body, at most (larger: 431/413 by evhttp). */
#define HTTP_MAX_HEADERS_SIZE (16 * 1024)
#define HTTP_MAX_BODY_SIZE (1024 * 1024)

struct http;

/* Ready? When not, why (one line, no newline) in why, len bytes. */
typedef bool http_health_cb(char *why, size_t len, void *arg);
/*
 * Takes the body of a /metrics answer (NULL: answer 500); the caller keeps
 * the buffer. Returns false when the client had gone (nothing was sent).
 */
typedef bool http_body_cb(struct evbuffer *body, void *ctx);
/* Produce a /metrics body: call done(body, ctx) exactly once, now or later. */
typedef void http_metrics_cb(http_body_cb *done, void *ctx, void *arg);

struct evhttp_request;
/*
 * Answer a request for any other path (path as sent, before decoding);
 * false: not served (404).
 */
typedef bool http_route_cb(struct evhttp_request *req, const char *path,
    void *arg);

/* What the endpoint serves; arg is passed to every callback. route may be
 * NULL (the other paths are 404). */
struct http_service {
	http_health_cb *health;
	http_metrics_cb *metrics;
	void *arg;
	http_route_cb *route;
};

/*
 * Listen on host:port on base and serve svc (copied). Returns NULL with a
 * message in err (naming the address and the failing call) when the
 * socket cannot be bound.
 */
struct http *http_new(struct event_base *base, const char *host, int port,
    const struct http_service *svc, char *err, size_t errlen);
/* NULL is fine. A /metrics answer still to come is then dropped. */
void http_free(struct http *h);

#endif
