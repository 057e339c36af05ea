/* http.c - /healthz and /metrics over libevent's evhttp. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "http.h"

struct http {
	struct http_service svc;
	struct evhttp *srv;
};

/* A /metrics answer to come; the client may leave meanwhile. */
struct answer {
	struct evhttp_request *req;	/* NULL once the client has gone */
};

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *body)
{
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if (b != NULL && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add_printf(b, "%s", body);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
healthz(struct http *h, struct evhttp_request *req)
{
	char why[300], body[sizeof(why) + 1];

	if (h->svc.health(why, sizeof(why), h->svc.arg)) {
		reply_text(req, 200, "OK", "ok\n");
		return;
	}
	snprintf(body, sizeof(body), "%s\n", why);
	reply_text(req, 503, "Service Unavailable", body);
}

static void
client_gone_cb(struct evhttp_connection *conn, void *arg)
{
	struct answer *a = arg;

	(void)conn;
	a->req = NULL;
}

static bool
metrics_body_cb(struct evbuffer *body, void *ctx)
{
	struct answer *a = ctx;
	struct evhttp_request *req = a->req;

	free(a);
	if (req == NULL)
		return false;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    NULL, NULL);
	if (body == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return true;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		evbuffer_drain(body, evbuffer_get_length(body));
	evhttp_send_reply(req, 200, "OK", body);
	return true;
}

static void
metrics(struct http *h, struct evhttp_request *req)
{
	struct answer *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	a->req = req;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    client_gone_cb, a);
	h->svc.metrics(metrics_body_cb, a, h->svc.arg);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	if (path == NULL)
		path = "/";
	if (strcmp(path, "/healthz") != 0 && strcmp(path, "/metrics") != 0) {
		if (h->svc.route != NULL && h->svc.route(req, path, h->svc.arg))
			return;
		reply_text(req, 404, "Not Found", "not found\n");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed",
		    "only GET and HEAD\n");
		return;
	}
	if (strcmp(path, "/healthz") == 0)
		healthz(h, req);
	else
		metrics(h, req);
}

struct http *
http_new(struct event_base *base, const char *host, int port,
    const struct http_service *svc, char *err, size_t errlen)
{
	struct http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->svc = *svc;
	if ((h->srv = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->srv, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_timeout(h->srv, HTTP_TIMEOUT_SECONDS);
	evhttp_set_max_headers_size(h->srv, HTTP_MAX_HEADERS_SIZE);
	evhttp_set_max_body_size(h->srv, HTTP_MAX_BODY_SIZE);
	evhttp_set_gencb(h->srv, request_cb, h);
	if (evhttp_bind_socket(h->srv, host, (ev_uint16_t)port) != 0) {
		snprintf(err, errlen, "cannot listen on '%s:%d': %s", host,
		    port, strerror(errno));
		evhttp_free(h->srv);
		free(h);
		return NULL;
	}
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->srv);
	free(h);
}
