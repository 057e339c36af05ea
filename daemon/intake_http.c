/* intake_http.c - POST /v1/leads over evhttp: read the request, push the lead onto the intake list, answer once Redis took it. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "intake_http.h"
#include "log.h"

/*
 * A connection evhttp accepted: counted against the cap from the moment
 * it is attached (its close callback set) until evhttp closes it. Until
 * then it waits on the pending list, holding a reference to its
 * bufferevent.
 */
struct conn {
	struct intake_http *ih;
	struct bufferevent *bev;
	struct conn *next;		/* pending list */
};

struct intake_http {
	struct event_base *base;
	const struct lr_config *cfg;
	const char *key;		/* <prefix>incoming */
	struct evhttp *srv;
	struct evhttp_bound_socket *sock;	/* NULL once stopped */
	struct rds_conn *rds;
	struct event *attach_ev;	/* attaches the pending connections */
	struct conn *pending, **pending_tail;
	long long nconns;		/* attached, not closed */
	long long inflight;		/* pushes waiting for Redis */
	bool push_failing;		/* the last push got an error reply */
	bool acks_short;		/* the last WAIT fell short */
	/* redis.replica_acks: one WAIT in the air at a time answers every
	 * push written before it (acks_wait); pushes that land meanwhile
	 * wait for the next one (acks_next). */
	bool acking;
	struct push *acks_wait, *acks_next, **acks_next_tail;
	bool stopping;
	unsigned long long counts[INTAKE_NSTATUS];
};

/* A lead on its way to Redis; the request is answered when it lands. */
struct push {
	struct intake_http *ih;
	struct evhttp_request *req;
	struct intake_verdict v;
	struct push *next;		/* waiting for a WAIT */
};

/* What an over-the-cap connection reads before it is closed. */
#define REFUSE_BODY "{\"error\":\"too_many_connections\"," \
	"\"detail\":\"the intake has too many open connections; try again\"}"
#define REFUSE_ANSWER "HTTP/1.1 503 Service Unavailable\r\n" \
	"Content-Type: application/json\r\nRetry-After: " INTAKE_RETRY_AFTER \
	"\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s"

static const struct {
	enum evhttp_cmd_type cmd;
	const char *name;
} methods[] = {
	{EVHTTP_REQ_GET, "GET"}, {EVHTTP_REQ_POST, "POST"},
	{EVHTTP_REQ_HEAD, "HEAD"}, {EVHTTP_REQ_PUT, "PUT"},
	{EVHTTP_REQ_DELETE, "DELETE"}, {EVHTTP_REQ_OPTIONS, "OPTIONS"},
	{EVHTTP_REQ_TRACE, "TRACE"}, {EVHTTP_REQ_CONNECT, "CONNECT"},
	{EVHTTP_REQ_PATCH, "PATCH"},
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const char *
method_name(enum evhttp_cmd_type cmd)
{
	for (size_t i = 0; i < NMETHODS; i++)
		if (methods[i].cmd == cmd)
			return methods[i].name;
	return "?";
}

static void
count(struct intake_http *ih, int status)
{
	int i = intake_status_index(status);

	if (i != -1)
		ih->counts[i]++;
}

/* Send v as the answer to req (which evhttp then frees). */
static void
answer(struct intake_http *ih, struct evhttp_request *req,
    const struct intake_verdict *v)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();
	char *body = intake_req_body(v);

	count(ih, v->status);
	evhttp_add_header(h, "Content-Type", "application/json");
	if (v->header != NULL)
		evhttp_add_header(h, v->header, v->header_value);
	if (b != NULL && body != NULL)
		evbuffer_add_printf(b, "%s\n", body);
	evhttp_send_reply(req, v->status, intake_status_text(v->status), b);
	if (b != NULL)
		evbuffer_free(b);
	free(body);
}

/* Redis took the lead (and, with redis.replica_acks, WAIT answered). */
static void
pushed(struct push *p)
{
	if (p->ih->push_failing)
		log_info("intake http: pushes onto '%s' succeed again",
		    p->ih->key);
	p->ih->push_failing = false;
	answer(p->ih, p->req, &p->v);
	free(p);
}

static void acks_send(struct intake_http *ih);

/* Answer every push of list, now that its WAIT answered (or failed). */
static void
acks_answer(struct push *list)
{
	struct push *p;

	while ((p = list) != NULL) {
		list = p->next;
		p->ih->inflight--;
		pushed(p);
	}
}

/*
 * WAIT's answer. The leads are in Redis whatever it says: a short WAIT is
 * logged once per change (a failover now could lose the pushes) and the
 * forms get their 202, as leadctl push confirms (README "High
 * availability").
 */
static void
acks_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	struct intake_http *ih = arg;
	struct push *list = ih->acks_wait;
	bool short_now;

	(void)c;
	ih->acking = false;
	ih->acks_wait = NULL;
	short_now = reply == NULL || reply->type != REDIS_REPLY_INTEGER ||
	    reply->integer < ih->cfg->redis.replica_acks;
	if (short_now && !ih->acks_short)
		log_warnx("intake http: fewer than %d replicas acknowledged a push within %lld ms; answering 202 (the lead is on the primary)",
		    ih->cfg->redis.replica_acks,
		    ih->cfg->redis.replica_ack_timeout);
	else if (!short_now && ih->acks_short)
		log_info("intake http: replicas acknowledge pushes again");
	ih->acks_short = short_now;
	acks_answer(list);
	acks_send(ih);
}

/*
 * Send WAIT for the pushes waiting for one, unless one is in the air (its
 * answer sends the next). WAIT covers everything this connection wrote:
 * one answers them all, so a missing replica costs each form one
 * replica_ack_timeout at most, not one per push before it.
 */
static void
acks_send(struct intake_http *ih)
{
	const struct lr_config *cfg = ih->cfg;
	struct push *list;

	if (ih->acking || ih->acks_next == NULL)
		return;
	list = ih->acks_next;
	ih->acks_next = NULL;
	ih->acks_next_tail = &ih->acks_next;
	if (rds_wait(ih->rds, cfg->redis.replica_acks,
	    cfg->redis.replica_ack_timeout, acks_cb, ih) == -1) {
		acks_answer(list);	/* the leads are in Redis */
		return;
	}
	ih->acks_wait = list;
	ih->acking = true;
}

/* With redis.replica_acks, p's answer waits for a WAIT; false without. */
static bool
wait_replicas(struct push *p)
{
	struct intake_http *ih = p->ih;

	if (ih->cfg->redis.replica_acks <= 0)
		return false;
	if (ih->acks_next_tail == NULL)
		ih->acks_next_tail = &ih->acks_next;
	p->next = NULL;
	*ih->acks_next_tail = p;
	ih->acks_next_tail = &p->next;
	ih->inflight++;
	acks_send(ih);
	return true;
}

static void
push_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	struct push *p = arg;

	(void)c;
	p->ih->inflight--;
	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
		/* Logged once until a push succeeds again. */
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
		    !p->ih->push_failing) {
			log_warnx("intake http: LPUSH '%s' failed: %s; answering 503",
			    p->ih->key, reply->str);
			p->ih->push_failing = true;
		}
		intake_req_unavailable(&p->v,
		    "redis did not confirm the push; try again");
		answer(p->ih, p->req, &p->v);
		free(p);
		return;
	}
	if (!wait_replicas(p))
		pushed(p);
}

/* Push a valid lead's body as received; answer 503 when it cannot be. */
static void
push(struct intake_http *ih, struct evhttp_request *req,
    const struct intake_verdict *v, const char *body, size_t len)
{
	const char *argv[3] = {"LPUSH", ih->key, body};
	size_t lens[3] = {5, strlen(ih->key), len};
	struct intake_verdict unavailable;
	struct push *p;

	if (ih->stopping || !rds_up(ih->rds)) {
		intake_req_unavailable(&unavailable, ih->stopping ?
		    "the daemon is stopping; try again" :
		    "redis is unreachable; try again");
		answer(ih, req, &unavailable);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		intake_req_unavailable(&unavailable, "out of memory; try again");
		answer(ih, req, &unavailable);
		return;
	}
	p->ih = ih;
	p->req = req;
	p->v = *v;
	if (rds_command(ih->rds, push_cb, p, 0, 3, argv, lens) == -1) {
		intake_req_unavailable(&p->v, "redis is unreachable; try again");
		answer(ih, req, &p->v);
		free(p);
		return;
	}
	ih->inflight++;
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct intake_http *ih = arg;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct intake_request r = {0};
	struct intake_verdict v;

	r.method = method_name(evhttp_request_get_command(req));
	r.path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	r.authorization = evhttp_find_header(h, "Authorization");
	r.content_type = evhttp_find_header(h, "Content-Type");
	r.len = evbuffer_get_length(in);
	r.body = r.len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	if (r.body == NULL) {
		intake_req_unavailable(&v, "out of memory; try again");
		answer(ih, req, &v);
		return;
	}
	intake_req_decide(&r, ih->cfg, &v);
	if (v.status != 202) {
		answer(ih, req, &v);
		return;
	}
	push(ih, req, &v, r.body, r.len);
}

/* --- the connection cap --------------------------------------------------- */

static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	(void)evcon;
	c->ih->nconns--;
	free(c);
}

/*
 * Answer 503 on the fresh socket fd and shut it: what the client sent so
 * far is read first, so that closing does not reset the connection
 * before it reads the answer.
 */
static void
refuse(int fd)
{
	char buf[4096], msg[512];
	int n;

	for (int i = 0; i < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0;
	    i++)
		;
	n = snprintf(msg, sizeof(msg), REFUSE_ANSWER, strlen(REFUSE_BODY),
	    REFUSE_BODY);
	if (n > 0)
		(void)send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(fd, SHUT_WR);
}

/* Count one pending connection in, or refuse it over the cap. */
static void
attach(struct intake_http *ih, struct conn *c)
{
	bufferevent_data_cb readcb;
	struct evhttp_connection *evcon = NULL;
	void *cbarg = NULL;

	bufferevent_getcb(c->bev, &readcb, NULL, NULL, &cbarg);
	if (readcb == NULL) {
		/* evhttp already closed it. */
		bufferevent_decref(c->bev);
		free(c);
		return;
	}
	evcon = cbarg;
	if (ih->nconns >= ih->cfg->intake.http.max_connections ||
	    ih->stopping) {
		count(ih, 503);
		refuse(bufferevent_getfd(c->bev));
		evhttp_connection_free(evcon);
		bufferevent_decref(c->bev);
		free(c);
		return;
	}
	ih->nconns++;
	bufferevent_decref(c->bev);
	c->bev = NULL;
	evhttp_connection_set_closecb(evcon, conn_closed_cb, c);
}

/*
 * Runs in the loop pass that accepted the connections, before any of
 * them can be read: evhttp set each one up synchronously after bev_cb.
 */
static void
attach_cb(evutil_socket_t fd, short what, void *arg)
{
	struct intake_http *ih = arg;
	struct conn *c;

	(void)fd;
	(void)what;
	while ((c = ih->pending) != NULL) {
		ih->pending = c->next;
		c->next = NULL;
		attach(ih, c);
	}
	ih->pending_tail = &ih->pending;
}

/* evhttp's new connection: its bufferevent, remembered to be attached. */
static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct intake_http *ih = arg;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->bev = bufferevent_socket_new(base, -1, 0)) == NULL) {
		free(c);
		return NULL;
	}
	/* Ours until attached, whatever evhttp does with it meanwhile. */
	bufferevent_incref(c->bev);
	c->ih = ih;
	*ih->pending_tail = c;		/* first come, first attached */
	ih->pending_tail = &c->next;
	event_active(ih->attach_ev, EV_TIMEOUT, 1);
	return c->bev;
}

/* --- the module ----------------------------------------------------------- */

static void
limits(struct intake_http *ih)
{
	const struct lr_config *cfg = ih->cfg;

	evhttp_set_max_body_size(ih->srv, (ev_ssize_t)cfg->intake.max_bytes);
	evhttp_set_max_headers_size(ih->srv, INTAKE_HTTP_MAX_HEADERS);
	evhttp_set_timeout(ih->srv, (int)cfg->intake.http.timeout);
}

struct intake_http *
intake_http_new(struct event_base *base, const struct lr_config *cfg,
    const struct rds_opts *ro, const char *key, char *err, size_t errlen)
{
	struct intake_http *ih;

	if ((ih = calloc(1, sizeof(*ih))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ih->base = base;
	ih->cfg = cfg;
	ih->key = key;
	ih->pending_tail = &ih->pending;
	if ((ih->srv = evhttp_new(base)) == NULL ||
	    (ih->attach_ev = event_new(base, -1, 0, attach_cb, ih)) == NULL ||
	    (ih->rds = rds_new(base, ro, "intake", NULL, NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	evhttp_set_allowed_methods(ih->srv, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(ih->srv, "application/json");
	/* A body over the limit is read and dropped before the 413, so that
	 * the client reads the answer instead of a reset connection. */
	evhttp_set_flags(ih->srv, EVHTTP_SERVER_LINGERING_CLOSE);
	limits(ih);
	evhttp_set_bevcb(ih->srv, bev_cb, ih);
	evhttp_set_gencb(ih->srv, request_cb, ih);
	if ((ih->sock = evhttp_bind_socket_with_handle(ih->srv,
	    cfg->intake.http.host, (ev_uint16_t)cfg->intake.http.port)) ==
	    NULL) {
		snprintf(err, errlen, "cannot listen on '%s': %s",
		    cfg->intake.http.listen, strerror(errno));
		goto out_free;
	}
	return ih;
out_free:
	intake_http_free(ih);
	return NULL;
}

void
intake_http_start(struct intake_http *ih)
{
	rds_start(ih->rds);
}

void
intake_http_reload(struct intake_http *ih, const struct lr_config *cfg)
{
	ih->cfg = cfg;
	limits(ih);
}

void
intake_http_stop(struct intake_http *ih)
{
	if (ih == NULL || ih->stopping)
		return;
	ih->stopping = true;
	if (ih->sock != NULL)
		evhttp_del_accept_socket(ih->srv, ih->sock);
	ih->sock = NULL;
}

bool
intake_http_idle(const struct intake_http *ih)
{
	return ih == NULL || ih->inflight == 0;
}

void
intake_http_counts(const struct intake_http *ih,
    unsigned long long out[INTAKE_NSTATUS])
{
	memcpy(out, ih->counts, sizeof(ih->counts));
}

void
intake_http_free(struct intake_http *ih)
{
	struct conn *c;

	if (ih == NULL)
		return;
	ih->stopping = true;
	/* Pushes in the air are answered (503) while their requests live. */
	rds_free(ih->rds);
	if (ih->srv != NULL)
		evhttp_free(ih->srv);	/* closes connections: conn_closed_cb */
	while ((c = ih->pending) != NULL) {
		ih->pending = c->next;
		bufferevent_decref(c->bev);
		free(c);
	}
	if (ih->attach_ev != NULL)
		event_free(ih->attach_ev);
	free(ih);
}
