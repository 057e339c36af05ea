/* sse.c - GET /v1/alerts/stream: Server-Sent Events from the durable alert stream, one shared blocking read fanned out to every client. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "http.h"
#include "log.h"
#include "rds.h"
#include "sid.h"
#include "sse.h"

/* An SSE client. */
struct client {
	TAILQ_ENTRY(client) link;
	struct sse *sse;
	struct evhttp_request *req;
	struct sid last;	/* the last entry it was sent (or skipped) */
	bool have_last;		/* false: anything after it joined */
	bool catching_up;	/* reading what it missed (XRANGE) */
	bool reading;		/* an XRANGE of it is in the air */
	bool ended;		/* its reply was ended; waiting for close */
};

struct sse {
	struct event_base *base;
	const struct rds_opts *ropts;	/* for the connection of its own */
	struct rds_conn *cmd;		/* catch-up reads (XRANGE) */
	char *key;			/* the alert log */

	TAILQ_HEAD(, client) clients;
	unsigned nclients;
	struct rds_conn *blk;		/* the shared blocking read */
	bool reading;			/* its XREAD (or XREVRANGE) in the air */
	bool have_cursor;		/* the cursor is known */
	struct sid cursor;		/* the last entry the shared read saw */
	struct event *tick;		/* heartbeats, retries: once a second */
	unsigned ticks;
};

static void
add_header(struct evhttp_request *req, const char *k, const char *v)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), k, v);
}

/* A JSON error, as the read API answers them. */
static void
reply_error(struct evhttp_request *req, int code, const char *reason,
    const char *why)
{
	struct evbuffer *b = evbuffer_new();

	add_header(req, "Content-Type", "application/json");
	add_header(req, "Cache-Control", "no-store");
	if (b != NULL && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add_printf(b, "{\"error\":\"%s\"}", why);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* A stream entry [id, [field, value...]]: its id and its alert, or NULL. */
const char *
sse_entry_alert(const redisReply *e, const char **id)
{
	const redisReply *f;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[1]->type != REDIS_REPLY_ARRAY)
		return NULL;
	*id = e->element[0]->str;
	f = e->element[1];
	for (size_t i = 0; i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(f->element[i]->str, "alert") == 0 &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			return f->element[i + 1]->str;
	return NULL;
}

static void stream_read(struct sse *a);
static void client_catch_up(struct client *cl);

static void
client_gone_cb(struct evhttp_connection *conn, void *arg)
{
	struct client *cl = arg;
	struct sse *a = cl->sse;

	(void)conn;
	/* The client left mid-reply: evhttp detached the request from its
	 * connection and leaves it to us to end (which frees it). At a stop
	 * (evhttp_free) the connection still holds it and frees it. */
	if (evhttp_request_get_connection(cl->req) == NULL)
		evhttp_send_reply_end(cl->req);
	TAILQ_REMOVE(&a->clients, cl, link);
	a->nclients--;
	if (cl->reading)
		cl->sse = NULL;		/* its XRANGE callback frees it */
	else
		free(cl);
}

/* Bytes not yet sent to the client. */
static size_t
client_backlog(const struct client *cl)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(
	    evhttp_request_get_connection(cl->req));

	return bev != NULL ? evbuffer_get_length(bufferevent_get_output(bev)) :
	    0;
}

/*
 * End a client's reply (it reconnects and resumes by itself). Its request
 * is gone after this: the next tick sweeps it from the list.
 */
static void
client_end(struct client *cl)
{
	if (cl->ended)
		return;
	cl->ended = true;
	evhttp_connection_set_closecb(evhttp_request_get_connection(cl->req),
	    NULL, NULL);
	evhttp_send_reply_end(cl->req);
	cl->req = NULL;
}

/* Drop the clients whose reply was ended. */
static void
sweep(struct sse *a)
{
	struct client *cl = TAILQ_FIRST(&a->clients), *next;

	for (; cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, link);
		if (!cl->ended)
			continue;
		TAILQ_REMOVE(&a->clients, cl, link);
		a->nclients--;
		if (cl->reading)
			cl->sse = NULL;
		else
			free(cl);
	}
}

static void
client_send(struct client *cl, const char *text, size_t len)
{
	struct evbuffer *b;

	if (cl->ended)
		return;
	if (client_backlog(cl) > SSE_BACKLOG) {
		client_end(cl);
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		return;
	evbuffer_add(b, text, len);
	evhttp_send_reply_chunk(cl->req, b);
	evbuffer_free(b);
}

/* One entry as an event: id, event (the alert's type), data lines. */
static struct evbuffer *
event_text(const char *id, const char *alert)
{
	struct evbuffer *b = evbuffer_new();
	json_t *o = json_loads(alert, 0, NULL);
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *line = alert;
	size_t n;

	if (b == NULL) {
		json_decref(o);
		return NULL;
	}
	evbuffer_add_printf(b, "id: %s\nevent: %s\n", id,
	    type != NULL && strpbrk(type, "\r\n") == NULL ? type : "alert");
	json_decref(o);
	do {
		n = strcspn(line, "\r\n");
		evbuffer_add_printf(b, "data: %.*s\n", (int)n, line);
		line += n;
		if (*line == '\r')
			line++;
		if (*line == '\n')
			line++;
	} while (*line != '\0');
	evbuffer_add(b, "\n", 1);
	return b;
}

/* Send entry id (alert) to one client, once: only when it is newer than
 * what the client has. */
static void
client_entry(struct client *cl, const struct sid *sid, struct evbuffer *ev)
{
	if (cl->have_last && sid_cmp(sid, &cl->last) <= 0)
		return;
	cl->last = *sid;
	cl->have_last = true;
	client_send(cl, (const char *)evbuffer_pullup(ev, -1),
	    evbuffer_get_length(ev));
}

/* The shared read's entries: to every client that follows live. */
static void
stream_entries(struct sse *a, const redisReply *entries)
{
	struct client *cl;
	struct evbuffer *ev;
	const char *id, *alert;
	struct sid sid;

	for (size_t i = 0; i < entries->elements; i++) {
		alert = sse_entry_alert(entries->element[i], &id);
		if (alert == NULL || !sid_parse(id, &sid))
			continue;
		a->cursor = sid;
		a->have_cursor = true;
		if ((ev = event_text(id, alert)) == NULL)
			continue;
		TAILQ_FOREACH(cl, &a->clients, link)
			if (!cl->catching_up)
				client_entry(cl, &sid, ev);
		evbuffer_free(ev);
	}
}

static void
stream_cb(struct rds_conn *c, redisReply *r, void *arg)
{
	struct sse *a = arg;
	const redisReply *s;

	(void)c;
	a->reading = false;
	if (r == NULL)
		return;		/* the connection went; stream_state restarts */
	if (r->type == REDIS_REPLY_ERROR) {
		log_warnx("alert stream: redis: %s", r->str);
		return;		/* the tick tries again */
	}
	if (!a->have_cursor) {
		/* XREVRANGE + - COUNT 1: start after the newest entry. */
		a->have_cursor = true;
		a->cursor.ms = a->cursor.seq = 0;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    (s = r->element[0])->type == REDIS_REPLY_ARRAY &&
		    s->elements == 2 &&
		    s->element[0]->type == REDIS_REPLY_STRING)
			(void)sid_parse(s->element[0]->str, &a->cursor);
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    (s = r->element[0])->type == REDIS_REPLY_ARRAY &&
	    s->elements == 2 && s->element[1]->type == REDIS_REPLY_ARRAY)
		stream_entries(a, s->element[1]);
	stream_read(a);
}

/* The next shared read: from the cursor, or the cursor first. */
static void
stream_read(struct sse *a)
{
	char id[SID_LEN];
	int rc;

	if (a->blk == NULL || a->reading || !rds_up(a->blk))
		return;
	if (!a->have_cursor)
		rc = rds_commandf(a->blk, stream_cb, a,
		    "XREVRANGE %s + - COUNT 1", a->key);
	else {
		sid_fmt(&a->cursor, id, sizeof(id));
		rc = rds_command(a->blk, stream_cb, a,
		    SSE_BLOCK_MS + RDS_REPLY_TIMEOUT_MS, 8,
		    (const char *[]){"XREAD", "COUNT", "100", "BLOCK", "5000",
		    "STREAMS", a->key, id}, NULL);
	}
	_Static_assert(SSE_BLOCK_MS == 5000 && SSE_BATCH == 100,
	    "the XREAD's arguments");
	if (rc == 0)
		a->reading = true;
}

static void
stream_state_cb(struct rds_conn *c, bool up, void *arg)
{
	struct sse *a = arg;

	(void)c;
	if (up)
		stream_read(a);
}

/* A catch-up read of one client: what it missed, SSE_BATCH at most. */
static void
catch_up_cb(struct rds_conn *c, redisReply *r, void *arg)
{
	struct client *cl = arg;
	struct evbuffer *ev;
	const char *id, *alert;
	struct sid sid;
	bool full;

	(void)c;
	cl->reading = false;
	if (cl->sse == NULL) {		/* it left meanwhile */
		free(cl);
		return;
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;			/* the tick tries again */
	for (size_t i = 0; i < r->elements; i++) {
		alert = sse_entry_alert(r->element[i], &id);
		if (alert == NULL || !sid_parse(id, &sid) ||
		    (ev = event_text(id, alert)) == NULL)
			continue;
		client_entry(cl, &sid, ev);
		evbuffer_free(ev);
	}
	full = r->elements >= SSE_BATCH;
	/* Live once it has all the shared read had seen when this was read. */
	if (!full && (!cl->sse->have_cursor ||
	    sid_cmp(&cl->last, &cl->sse->cursor) >= 0))
		cl->catching_up = false;
	else
		client_catch_up(cl);
}

static void
client_catch_up(struct client *cl)
{
	char from[SID_LEN + 1];

	if (cl->reading || cl->ended)
		return;
	sid_fmt(&cl->last, from + 1, sizeof(from) - 1);
	from[0] = '(';
	if (rds_commandf(cl->sse->cmd, catch_up_cb, cl,
	    "XRANGE %s %s + COUNT %d", cl->sse->key, from,
	    SSE_BATCH) == 0)
		cl->reading = true;
}

void
sse_serve(struct sse *a, struct evhttp_request *req)
{
	const char *last = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Last-Event-ID");
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq kv;
	struct client *cl;
	struct sid sid;
	bool resume;

	if (a->nclients >= SSE_CLIENTS) {
		add_header(req, "Retry-After", "5");
		reply_error(req, 503, "Service Unavailable",
		    "too many alert stream clients");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		add_header(req, "Content-Type", "text/event-stream");
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	if (a->blk == NULL) {
		if ((a->blk = rds_new(a->base, a->ropts, "alert stream",
		    stream_state_cb, a)) == NULL) {
			reply_error(req, 500, "Internal Server Error",
			    "out of memory");
			return;
		}
		rds_start(a->blk);
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		reply_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	cl->sse = a;
	cl->req = req;
	/* Last-Event-ID (a reconnecting client), else ?after=ID (a page
	 * that read /v1/alerts first). */
	resume = last != NULL && sid_parse(last, &sid);
	TAILQ_INIT(&kv);
	if (!resume && q != NULL && evhttp_parse_query_str(q, &kv) == 0)
		resume = sid_parse(evhttp_find_header(&kv, "after"), &sid);
	evhttp_clear_headers(&kv);
	if (resume) {
		cl->last = sid;
		cl->have_last = true;
		cl->catching_up = true;
	} else if (a->have_cursor) {
		cl->last = a->cursor;
		cl->have_last = true;
	}
	TAILQ_INSERT_TAIL(&a->clients, cl, link);
	a->nclients++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    client_gone_cb, cl);
	add_header(req, "Content-Type", "text/event-stream");
	add_header(req, "Cache-Control", "no-store");
	add_header(req, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	{
		/* A stream is idle between alerts: no read timeout, the
		 * write timeout stays (a client that stops reading). */
		struct bufferevent *bev = evhttp_connection_get_bufferevent(
		    evhttp_request_get_connection(req));
		struct timeval wt = {HTTP_TIMEOUT_SECONDS, 0};

		if (bev != NULL)
			bufferevent_set_timeouts(bev, NULL, &wt);
	}
	client_send(cl, "retry: 1000\n\n", 13);
	if (cl->catching_up)
		client_catch_up(cl);
	stream_read(a);
}

/* Once a second: the shared read and catch-ups that could not be sent,
 * and every SSE_HEARTBEAT_S a comment to every client. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sse *a = arg;
	struct client *cl;
	bool beat = ++a->ticks % SSE_HEARTBEAT_S == 0;

	(void)fd;
	(void)what;
	if (a->nclients > 0)
		stream_read(a);
	TAILQ_FOREACH(cl, &a->clients, link) {
		if (cl->catching_up)
			client_catch_up(cl);
		if (beat)
			client_send(cl, ": heartbeat\n\n", 13);
	}
	sweep(a);
}

struct sse *
sse_new(struct event_base *base, const struct rds_opts *ropts,
    struct rds_conn *cmd, const char *key)
{
	struct sse *a;
	struct timeval sec = {1, 0};

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->base = base;
	a->ropts = ropts;
	a->cmd = cmd;
	TAILQ_INIT(&a->clients);
	if ((a->key = strdup(key)) == NULL ||
	    (a->tick = event_new(base, -1, EV_PERSIST, tick_cb, a)) == NULL ||
	    event_add(a->tick, &sec) == -1) {
		sse_free(a);
		return NULL;
	}
	return a;
}

unsigned
sse_clients(const struct sse *a)
{
	return a != NULL ? a->nclients : 0;
}

void
sse_free(struct sse *a)
{
	struct client *cl;

	if (a == NULL)
		return;
	rds_free(a->blk);
	while ((cl = TAILQ_FIRST(&a->clients)) != NULL) {
		TAILQ_REMOVE(&a->clients, cl, link);
		free(cl);
	}
	if (a->tick != NULL)
		event_free(a->tick);
	free(a->key);
	free(a);
}
