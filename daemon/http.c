/* http.c - /healthz and /metrics over libevent's evhttp. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "daemon.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#ifndef LR_VERSION
#define LR_VERSION "0.1.0"
#endif

struct http {
	struct lrd *d;
	struct evhttp *srv;
};

/* A /metrics request waiting for Redis; the client may leave meanwhile. */
struct scrape {
	struct http *h;
	struct evhttp_request *req;	/* NULL once the client has gone */
	struct rds_argv args;
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
	struct lrd *d = h->d;
	char body[300];

	if (!rds_up(d->cmd)) {
		snprintf(body, sizeof(body), "redis unreachable: %s\n",
		    rds_last_error(d->cmd)[0] ? rds_last_error(d->cmd) :
		    "connecting");
		reply_text(req, 503, "Service Unavailable", body);
	} else if (d->script.sha[0] == '\0') {
		reply_text(req, 503, "Service Unavailable",
		    "scripts not loaded\n");
	} else if (!d->registered) {
		reply_text(req, 503, "Service Unavailable",
		    "instance not registered\n");
	} else {
		reply_text(req, 200, "OK", "ok\n");
	}
}

static void
local_metrics(const struct lrd *d, struct metrics_local *l)
{
	memset(l, 0, sizeof(*l));
	l->redis_up = rds_up(d->cmd);
	l->registered = d->registered;
	l->reconnects = rds_reconnects(d->cmd) +
	    consumer_reconnects(d->leads) + consumer_reconnects(d->events);
	l->reloads_ok = d->stats.reloads_ok;
	l->reloads_failed = d->stats.reloads_failed;
	l->version = LR_VERSION;
}

static void
send_metrics(struct evhttp_request *req, const struct lrd *d,
    const struct metrics_shared *shared)
{
	struct metrics_local l;
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	local_metrics(d, &l);
	metrics_render(b, d->cfg, shared, &l);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		evbuffer_drain(b, evbuffer_get_length(b));
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
client_gone_cb(struct evhttp_connection *conn, void *arg)
{
	struct scrape *s = arg;

	(void)conn;
	s->req = NULL;
}

static void
scrape_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct scrape *s = arg;
	struct metrics_shared m;
	struct lrd *d = s->h->d;

	(void)conn;
	if (s->req != NULL) {
		evhttp_connection_set_closecb(
		    evhttp_request_get_connection(s->req), NULL, NULL);
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
			log_warnx("metrics: %s", reply->str);
		send_metrics(s->req, d, metrics_parse(reply, d->cfg, &m) == 0 ?
		    &m : NULL);
	}
	rds_argv_clear(&s->args);
	free(s);
}

static void
metrics(struct http *h, struct evhttp_request *req)
{
	struct lrd *d = h->d;
	struct scrape *s;

	if (!rds_up(d->cmd) || (s = calloc(1, sizeof(*s))) == NULL) {
		send_metrics(req, d, NULL);
		return;
	}
	s->h = h;
	s->req = req;
	if (rds_argv_adds(&s->args, "metrics") == -1 ||
	    rds_argv_adds(&s->args, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(&s->args, d->routing) == -1 ||
	    rds_script(d->cmd, &d->script, d->key, &s->args, scrape_cb,
	    s) == -1) {
		rds_argv_clear(&s->args);
		free(s);
		send_metrics(req, d, NULL);
		return;
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    client_gone_cb, s);
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
http_new(struct lrd *d, const char *host, int port, char *err, size_t errlen)
{
	struct http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->d = d;
	if ((h->srv = evhttp_new(d->base)) == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->srv, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_timeout(h->srv, 30);
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
