/* webhook.c - deliver the webhook outbox: lease due deliveries through the script, send them with libcurl's multi interface on the libevent loop, report each outcome back. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "curlso.h"
#include "log.h"
#include "rds.h"
#include "webhook.h"
#include "whmsg.h"
#include "wire.h"

#ifndef LR_VERSION
#define LR_VERSION "0.1.0"
#endif

/* The latency histogram's bounds, seconds. */
static const double lat_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
	60};
#define NLAT (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

struct wh_ep;

/* One attempt in the air. */
struct wh_transfer {
	struct wh_ep *ep;
	CURL *easy;
	struct curl_slist *headers;
	char *id;
	char *body;		/* as sent */
	long long attempt;
	long long retry_after;	/* seconds; -1: none */
	size_t got;		/* answer bytes read */
	bool cut;		/* the answer was longer than WH_RESPONSE_MAX */
	long long started_ms;
	char err[CURL_ERROR_SIZE];
	struct wh_transfer *prev, *next;
};

struct wh_ep {
	struct webhook *w;
	char *name;
	char *url;
	unsigned char key[64];
	size_t key_len;
	int format;
	long long timeout, max_attempts, max_backoff;
	bool active;		/* in the configuration */
	bool claiming;		/* a whclaim in the air */
	int asked;		/* by it */
	int inflight;
	struct event *poll;
	struct rds_argv args;	/* the claim's, alive until its reply */
	struct wh_report *done;	/* successes to report in the next whdone */
	bool done_flying;	/* a whdone in the air */
	struct wh_held *held;	/* claimed, waiting for WAIT (replica_acks) */
	size_t nheld;
	long held_poll;		/* the claim's next look, after WAIT */
	long long pending;	/* as the last claim saw; -1 before */
	unsigned long long n_ok, n_retry, n_dead;
	unsigned long long lat[NLAT + 1];
	unsigned long long lat_count;
	double lat_sum;
};

struct webhook {
	struct event_base *base;
	int replica_acks;		/* redis.replica_acks: WAIT before sending */
	long long replica_ack_timeout;
	long long dead_max;		/* retention.webhooks_dead_max */
	unsigned long long dead_dropped;	/* by this instance's whdead */
	struct rds_target to;
	char *prefix;
	CURLM *multi;
	struct event *timer;	/* libcurl's timeout */
	struct wh_ep **eps;
	size_t neps;
	bool started, stopped;
	int reports;			/* outcome calls in the air */
	struct wh_transfer *transfers;	/* in the air */
};

/* A claimed delivery held until the replicas have the claim (WAIT). */
struct wh_held {
	char *id, *body;
	size_t len;
	long long attempt;
};

/* An outcome's script call, alive until its reply. */
struct wh_report {
	struct webhook *w;
	struct wh_ep *ep;
	struct rds_argv args;
	char op[16];
};

/* A socket libcurl asked us to watch. */
struct wh_sock {
	struct event *ev;
};

/* libcurl, loaded by webhook_ready for the first endpoint (curlso.h). */
static const struct curlso *lc;

static void poll_soon(struct wh_ep *ep, long ms);
static void done_send(struct wh_ep *ep);
static void done_drop(struct wh_ep *ep);

/* --- libcurl on the loop (curl's docs/examples/hiperfifo.c) ------------- */

static void check_done(struct webhook *w);

static void
sock_event_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct webhook *w = arg;
	int action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	lc->multi_socket_action(w->multi, fd, action, &running);
	check_done(w);
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct webhook *w = userp;
	struct wh_sock *ws = sockp;
	short kind;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (ws != NULL) {
			event_free(ws->ev);
			free(ws);
		}
		lc->multi_assign(w->multi, s, NULL);
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (ws == NULL) {
		if ((ws = calloc(1, sizeof(*ws))) == NULL)
			return -1;
		lc->multi_assign(w->multi, s, ws);
	} else
		event_free(ws->ev);
	if ((ws->ev = event_new(w->base, s, kind, sock_event_cb, w)) == NULL)
		return -1;
	event_add(ws->ev, NULL);
	return 0;
}

static void
curl_timeout_cb(evutil_socket_t fd, short kind, void *arg)
{
	struct webhook *w = arg;
	int running;

	(void)fd;
	(void)kind;
	lc->multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(w);
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct webhook *w = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(w->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(w->timer, &tv);
	return 0;
}

/* --- reporting outcomes ------------------------------------------------- */

static void
report_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	struct wh_report *r = arg;

	(void)c;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("webhook: script call %s failed: %s", r->op,
		    reply->str);
	r->w->reports--;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER &&
	    reply->integer > 1 && strcmp(r->op, WIRE_OP_WHDEAD) == 0) {
		/* 1 + the oldest dead entries the cap dropped */
		r->w->dead_dropped += (unsigned long long)(reply->integer - 1);
		log_warnx("webhook dead deliveries dropped: count=%lld, the "
		    "oldest beyond retention.webhooks_dead_max",
		    reply->integer - 1);
	}
	if (strcmp(r->op, WIRE_OP_WHDONE) == 0) {
		r->ep->done_flying = false;
		if (reply != NULL)
			done_send(r->ep);	/* what ended meanwhile */
		else
			done_drop(r->ep);	/* leased: sent again */
	}
	rds_argv_clear(&r->args);
	free(r);
}

/*
 * Send an outcome (op, then args already added after the endpoint and
 * id). A lost call is no loss: the lease runs out and the delivery is
 * attempted again.
 */
static struct wh_report *
report_new(struct wh_ep *ep, const char *op, const char *id)
{
	struct wh_report *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->w = ep->w;
	r->ep = ep;
	rds_argv_init(&r->args);
	snprintf(r->op, sizeof(r->op), "%s", op);
	if (rds_argv_call(&r->args, op, ep->w->prefix) == -1 ||
	    rds_argv_adds(&r->args, ep->name) == -1 ||
	    rds_argv_adds(&r->args, id) == -1) {
		rds_argv_clear(&r->args);
		free(r);
		return NULL;
	}
	return r;
}

/* Send r, whose arguments are complete when ok; r is then owned by the
 * call (or freed now). Whether it was sent. */
static bool
report_send(struct wh_ep *ep, struct wh_report *r, bool ok)
{
	const struct rds_target *to = &ep->w->to;

	if (r == NULL)
		return false;
	if (!ok || rds_script(to->conn, to->script, to->key, &r->args,
	    report_cb, r) == -1) {
		rds_argv_clear(&r->args);
		free(r);
		return false;
	}
	ep->w->reports++;
	return true;
}

/* Forget the successes not yet reported: their leases run out and they
 * are delivered again (at least once, as after a lost call). */
static void
done_drop(struct wh_ep *ep)
{
	if (ep->done == NULL)
		return;
	rds_argv_clear(&ep->done->args);
	free(ep->done);
	ep->done = NULL;
}

/* Report the successes gathered, unless a whdone is in the air (its
 * answer sends them). */
static void
done_send(struct wh_ep *ep)
{
	struct wh_report *r = ep->done;

	if (r == NULL || ep->done_flying)
		return;
	ep->done = NULL;
	ep->done_flying = report_send(ep, r, true);
}

/*
 * Delivery id succeeded with HTTP status: report it with whdone, in one
 * call with the others that succeed while the endpoint's last whdone is in
 * the air. On a busy endpoint that is a script call per batch, not one
 * per delivery (a script call costs Redis ~50 us before its first
 * command); an idle one reports each at once.
 */
static void
done_add(struct wh_ep *ep, const char *id, long status)
{
	_Static_assert(WIRE_WHDONE_ENDPOINT == 0 && WIRE_WHDONE_ITEMS == 1 &&
	    WIRE_WHDONE_ITEM_ID == 0 && WIRE_WHDONE_ITEM_STATUS == 1 &&
	    WIRE_WHDONE_ITEM_FIELDS == 2, "whdone's arguments moved");
	if (ep->done == NULL) {
		if ((ep->done = report_new(ep, WIRE_OP_WHDONE, id)) == NULL)
			return;
	} else if (rds_argv_adds(&ep->done->args, id) == -1) {
		done_drop(ep);
		return;
	}
	if (rds_argv_addll(&ep->done->args, status) == -1) {
		done_drop(ep);
		return;
	}
	done_send(ep);
}

bool
webhook_idle(const struct webhook *w)
{
	return w == NULL || w->reports == 0;
}

/* --- one attempt ---------------------------------------------------------- */

static size_t
write_cb(char *ptr, size_t size, size_t n, void *arg)
{
	struct wh_transfer *t = arg;

	(void)ptr;
	t->got += size * n;
	if (t->got > WH_RESPONSE_MAX) {
		t->cut = true;
		return 0;	/* enough: the status is what counts */
	}
	return size * n;
}

static size_t
header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct wh_transfer *t = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) - 1 &&
	    strncasecmp(buf, name, sizeof(name) - 1) == 0)
		t->retry_after = wh_retry_after(buf + sizeof(name) - 1,
		    len - (sizeof(name) - 1));
	return len;
}

static void
transfer_free(struct wh_transfer *t)
{
	struct webhook *w = t->ep->w;

	if (t->prev != NULL)
		t->prev->next = t->next;
	else if (w->transfers == t)
		w->transfers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	if (t->easy != NULL) {
		lc->multi_remove_handle(w->multi, t->easy);
		lc->easy_cleanup(t->easy);
	}
	lc->slist_free_all(t->headers);
	free(t->id);
	free(t->body);
	t->ep->inflight--;
	free(t);
}

/* "name: value", or "name:" alone (curl then sends no such header). */
static int
add_header(struct wh_transfer *t, const char *name, const char *v)
{
	char line[512];
	struct curl_slist *l;

	snprintf(line, sizeof(line), "%s:%s%s", name, v[0] ? " " : "", v);
	if ((l = lc->slist_append(t->headers, line)) == NULL)
		return -1;
	t->headers = l;
	return 0;
}

/* Start attempt attempt of delivery id (body as stored). 0 or -1. */
static int
transfer_start(struct wh_ep *ep, const char *id, const char *body,
    size_t len, long long attempt)
{
	struct webhook *w = ep->w;
	struct wh_transfer *t;
	char ts[32], sig[WH_SIGNATURE_LEN];
	long long now = (long long)time(NULL);
	CURL *e;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->ep = ep;
	ep->inflight++;
	t->next = w->transfers;
	if (w->transfers != NULL)
		w->transfers->prev = t;
	w->transfers = t;
	t->attempt = attempt;
	t->retry_after = -1;
	t->started_ms = rds_mono_ms();
	if (ep->format == WH_FORMAT_SLACK)
		t->body = wh_slack_body(body, len);
	if (t->body == NULL)
		t->body = strndup(body, len);
	if ((t->id = strdup(id)) == NULL || t->body == NULL)
		goto fail;
	snprintf(ts, sizeof(ts), "%lld", now);
	if (add_header(t, "content-type", "application/json") == -1 ||
	    add_header(t, "webhook-id", id) == -1 ||
	    add_header(t, "webhook-timestamp", ts) == -1 ||
	    add_header(t, "user-agent", "leadrouted/" LR_VERSION) == -1 ||
	    add_header(t, "Expect", "") == -1)
		goto fail;
	if (ep->key_len > 0) {
		if (wh_sign(ep->key, ep->key_len, id, now, t->body,
		    strlen(t->body), sig) == -1 ||
		    add_header(t, "webhook-signature", sig) == -1)
			goto fail;
	}
	if ((e = t->easy = lc->easy_init()) == NULL)
		goto fail;
	if (lc->easy_setopt(e, CURLOPT_URL, ep->url) != CURLE_OK ||
	    lc->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK)
		goto fail;
	lc->easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
	lc->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(t->body));
	lc->easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	lc->easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(ep->timeout * 1000));
	lc->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	lc->easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	lc->easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	lc->easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	lc->easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	lc->easy_setopt(e, CURLOPT_WRITEDATA, t);
	lc->easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	lc->easy_setopt(e, CURLOPT_HEADERDATA, t);
	lc->easy_setopt(e, CURLOPT_ERRORBUFFER, t->err);
	lc->easy_setopt(e, CURLOPT_PRIVATE, t);
	if (lc->multi_add_handle(w->multi, e) != CURLM_OK)
		goto fail;
	return 0;
fail:
	if (t->easy != NULL) {
		lc->easy_cleanup(t->easy);
		t->easy = NULL;
	}
	transfer_free(t);
	return -1;
}

static void
observe(struct wh_ep *ep, double s)
{
	size_t i = 0;

	while (i < NLAT && s > lat_bounds[i])
		i++;
	ep->lat[i]++;
	ep->lat_count++;
	ep->lat_sum += s;
}

/* One attempt ended: tell Redis what it means, and look for more work. */
static void
transfer_done(struct wh_transfer *t, CURLcode res)
{
	struct wh_ep *ep = t->ep;
	struct wh_report *r;
	enum wh_verdict v;
	long status = 0;
	long long delay;
	char err[CURL_ERROR_SIZE + 64];

	lc->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (res == CURLE_OK || (res == CURLE_WRITE_ERROR && t->cut)) {
		v = wh_verdict(status);
		snprintf(err, sizeof(err), "HTTP %ld", status);
	} else {
		v = WH_RETRY;
		snprintf(err, sizeof(err), "%s", t->err[0] ? t->err :
		    lc->easy_strerror(res));
		status = 0;
	}
	observe(ep, (double)(rds_mono_ms() - t->started_ms) / 1000);
	if (v == WH_RETRY && t->attempt >= ep->max_attempts)
		v = WH_END;
	switch (v) {
	case WH_OK:
		ep->n_ok++;
		done_add(ep, t->id, status);
		break;
	case WH_RETRY:
		ep->n_retry++;
		delay = wh_backoff_ms(t->attempt,
		    status == 429 || status == 503 ? t->retry_after : -1,
		    ep->max_backoff, (double)random() / ((double)RAND_MAX + 1));
		log_debug("webhook '%s': delivery %s attempt %lld failed (%s); again in %lld ms",
		    ep->name, t->id, t->attempt, err, delay);
		r = report_new(ep, WIRE_OP_WHRETRY, t->id);
		report_send(ep, r, r != NULL &&
		    rds_argv_addll(&r->args, t->attempt) == 0 &&
		    rds_argv_addll(&r->args, delay) == 0 &&
		    rds_argv_addll(&r->args, status) == 0 &&
		    rds_argv_adds(&r->args, err) == 0);
		break;
	case WH_END:
		ep->n_dead++;
		log_warnx("webhook '%s': delivery %s dead after %lld attempt%s: %s",
		    ep->name, t->id, t->attempt, t->attempt == 1 ? "" : "s",
		    err);
		_Static_assert(WIRE_WHDEAD_ATTEMPT == 2 &&
		    WIRE_WHDEAD_STATUS == 3 && WIRE_WHDEAD_ERROR == 4 &&
		    WIRE_WHDEAD_MAX == 5 && WIRE_WHDEAD_FIELDS == 6,
		    "whdead's arguments moved");
		r = report_new(ep, WIRE_OP_WHDEAD, t->id);
		report_send(ep, r, r != NULL &&
		    rds_argv_addll(&r->args, t->attempt) == 0 &&
		    rds_argv_addll(&r->args, status) == 0 &&
		    rds_argv_adds(&r->args, err) == 0 &&
		    rds_argv_addll(&r->args, ep->w->dead_max) == 0);
		break;
	}
	transfer_free(t);
	poll_soon(ep, 0);
}

static void
check_done(struct webhook *w)
{
	CURLMsg *msg;
	int left;
	struct wh_transfer *t;

	while ((msg = lc->multi_info_read(w->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		t = NULL;
		lc->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
		if (t != NULL)
			transfer_done(t, msg->data.result);
	}
}

/* --- claiming ------------------------------------------------------------- */

static bool
int_reply(const redisReply *r)
{
	return r->type == REDIS_REPLY_INTEGER;
}

/* Keep a claimed delivery until WAIT answers; dropped (back after its
 * lease) when memory runs out. */
static void
hold(struct wh_ep *ep, const char *id, const char *body, size_t len,
    long long attempt)
{
	struct wh_held *h;

	if ((h = realloc(ep->held, (ep->nheld + 1) * sizeof(*h))) == NULL)
		return;
	ep->held = h;
	h = &ep->held[ep->nheld];
	h->id = strdup(id);
	h->body = malloc(len + 1);
	if (h->id == NULL || h->body == NULL) {
		free(h->id);
		free(h->body);
		return;
	}
	memcpy(h->body, body, len);
	h->body[len] = '\0';
	h->len = len;
	h->attempt = attempt;
	ep->nheld++;
}

/* Send what is held (none once stopping: back after the lease). */
static void
send_held(struct wh_ep *ep)
{
	for (size_t i = 0; i < ep->nheld; i++) {
		if (!ep->w->stopped)
			transfer_start(ep, ep->held[i].id, ep->held[i].body,
			    ep->held[i].len, ep->held[i].attempt);
		free(ep->held[i].id);
		free(ep->held[i].body);
	}
	free(ep->held);
	ep->held = NULL;
	ep->nheld = 0;
}

/*
 * WAIT's answer. Whatever it says, the held deliveries go out: a short
 * WAIT is the consumer's to log and count (it waits on every commit);
 * here it only delays sending until the replicas had their chance.
 */
static void
waited_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	struct wh_ep *ep = arg;

	(void)c;
	(void)reply;
	ep->claiming = false;
	send_held(ep);
	poll_soon(ep, ep->held_poll);
}

/*
 * redis.replica_acks: the events were recorded by commits before this
 * claim, and replication keeps order, so WAIT after the claim (a write)
 * means the replicas have the changes the deliveries announce: a failover
 * cannot take back what a webhook already told (README "High
 * availability"). 0, or -1 when WAIT could not be sent.
 */
static int
wait_replicas(struct wh_ep *ep, long poll_ms)
{
	struct webhook *w = ep->w;

	if (rds_wait(w->to.conn, w->replica_acks, w->replica_ack_timeout,
	    waited_cb, ep) == -1)
		return -1;
	ep->claiming = true;	/* no new claim until these are sent */
	ep->held_poll = poll_ms;
	return 0;
}

static void
claim_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	struct wh_ep *ep = arg;
	long long now, next, attempt;
	size_t n, asked = (size_t)ep->asked;
	const redisReply *id, *body, *at;
	long wait = WH_POLL_MAX_MS;

	(void)c;
	ep->claiming = false;
	rds_argv_clear(&ep->args);
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < WIRE_WHCLAIM_REPLY_ITEMS ||
	    (reply->elements - WIRE_WHCLAIM_REPLY_ITEMS) %
	    WIRE_WHCLAIMED_FIELDS != 0 ||
	    !int_reply(reply->element[WIRE_WHCLAIM_REPLY_NOW]) ||
	    !int_reply(reply->element[WIRE_WHCLAIM_REPLY_NEXT]) ||
	    !int_reply(reply->element[WIRE_WHCLAIM_REPLY_PENDING])) {
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
			log_warnx("webhook '%s': claim failed: %s", ep->name,
			    reply->str);
		poll_soon(ep, WH_POLL_MAX_MS);
		return;
	}
	now = reply->element[WIRE_WHCLAIM_REPLY_NOW]->integer;
	next = reply->element[WIRE_WHCLAIM_REPLY_NEXT]->integer;
	ep->pending = reply->element[WIRE_WHCLAIM_REPLY_PENDING]->integer;
	n = (reply->elements - WIRE_WHCLAIM_REPLY_ITEMS) / WIRE_WHCLAIMED_FIELDS;
	for (size_t i = 0; i < n; i++) {
		size_t b = WIRE_WHCLAIM_REPLY_ITEMS + i * WIRE_WHCLAIMED_FIELDS;

		id = reply->element[b + WIRE_WHCLAIMED_ID];
		body = reply->element[b + WIRE_WHCLAIMED_BODY];
		at = reply->element[b + WIRE_WHCLAIMED_ATTEMPT];
		if (id->type != REDIS_REPLY_STRING ||
		    body->type != REDIS_REPLY_STRING || !int_reply(at))
			continue;
		attempt = at->integer;
		if (ep->w->replica_acks > 0) {
			hold(ep, id->str, body->str, body->len, attempt);
			continue;
		}
		if (ep->w->stopped || transfer_start(ep, id->str, body->str,
		    body->len, attempt) == -1)
			continue;	/* back after the lease */
	}
	if (n >= asked)
		wait = 0;	/* more may be due: as soon as a slot frees */
	else if (next >= 0 && next - now < WH_POLL_MAX_MS)
		wait = next - now < 0 ? 0 : (long)(next - now);
	if (ep->nheld > 0 && wait_replicas(ep, wait) == 0)
		return;
	send_held(ep);
	poll_soon(ep, wait);
}

/* Lease due deliveries for the free slots. */
static void
claim(struct wh_ep *ep)
{
	const struct rds_target *to = &ep->w->to;
	int free_slots = WH_MAX_INFLIGHT - ep->inflight;

	if (!ep->active || ep->w->stopped || ep->claiming || free_slots <= 0)
		return;
	rds_argv_init(&ep->args);
	if (rds_argv_call(&ep->args, WIRE_OP_WHCLAIM, ep->w->prefix) == -1 ||
	    rds_argv_adds(&ep->args, ep->name) == -1 ||
	    rds_argv_addll(&ep->args, free_slots) == -1 ||
	    rds_argv_addll(&ep->args, ep->timeout * 1000 +
	    WH_LEASE_MARGIN_MS + (ep->w->replica_acks > 0 ?
	    ep->w->replica_ack_timeout : 0)) == -1 ||
	    rds_script(to->conn, to->script, to->key, &ep->args, claim_cb,
	    ep) == -1) {
		rds_argv_clear(&ep->args);
		poll_soon(ep, WH_POLL_MAX_MS);
		return;
	}
	ep->claiming = true;
	ep->asked = free_slots;
}

static void
poll_cb(evutil_socket_t fd, short kind, void *arg)
{
	(void)fd;
	(void)kind;
	claim(arg);
}

/* Look for due work after ms (never from inside a callback's stack). */
static void
poll_soon(struct wh_ep *ep, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (!ep->w->started || ep->w->stopped || !ep->active)
		return;
	evtimer_add(ep->poll, &tv);
}

/* --- life cycle ------------------------------------------------------------ */

/* libcurl's global state: set up by the first sender, cleaned up with it. */
static bool curl_ready;

struct webhook *
webhook_new(struct event_base *base, const struct rds_target *to,
    const char *prefix)
{
	struct webhook *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->base = base;
	w->to = *to;
	if ((w->prefix = strdup(prefix)) == NULL ||
	    (w->timer = evtimer_new(base, curl_timeout_cb, w)) == NULL) {
		webhook_free(w);
		return NULL;
	}
	return w;
}

/*
 * libcurl is loaded and set up for the first endpoint, not before: with
 * the libraries it pulls in and the OpenSSL state its set-up starts, it
 * is more than half the resident size of a daemon that sends no webhook.
 */
int
webhook_ready(struct webhook *w, const struct lr_config *cfg,
    const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (cfg->nwebhooks == 0 || w->multi != NULL)
		return 0;
	if (lc == NULL && (lc = curlso()) == NULL) {
		*why = curlso_error();
		return -1;
	}
	if (!curl_ready) {
		if (lc->global_init(CURL_GLOBAL_DEFAULT) != 0) {
			*why = "curl_global_init failed";
			return -1;
		}
		curl_ready = true;
	}
	if ((w->multi = lc->multi_init()) == NULL) {
		*why = "curl_multi_init failed";
		return -1;
	}
	lc->multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	lc->multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	lc->multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	lc->multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	return 0;
}

static struct wh_ep *
ep_find(struct webhook *w, const char *name)
{
	for (size_t i = 0; i < w->neps; i++)
		if (strcmp(w->eps[i]->name, name) == 0)
			return w->eps[i];
	return NULL;
}

static struct wh_ep *
ep_new(struct webhook *w, const char *name)
{
	struct wh_ep *ep, **v;

	if ((v = realloc(w->eps, (w->neps + 1) * sizeof(*v))) == NULL)
		return NULL;
	w->eps = v;
	if ((ep = calloc(1, sizeof(*ep))) == NULL)
		return NULL;
	ep->w = w;
	ep->pending = -1;
	if ((ep->name = strdup(name)) == NULL ||
	    (ep->poll = evtimer_new(w->base, poll_cb, ep)) == NULL) {
		free(ep->name);
		free(ep);
		return NULL;
	}
	w->eps[w->neps++] = ep;
	return ep;
}

int
webhook_configure(struct webhook *w, const struct lr_config *cfg)
{
	const struct webhook_cfg *c;
	struct wh_ep *ep;
	char *url;

	w->replica_acks = cfg->redis.replica_acks;
	w->replica_ack_timeout = cfg->redis.replica_ack_timeout;
	w->dead_max = cfg->retention.webhooks_dead_max;
	if (webhook_ready(w, cfg, NULL) == -1)
		return -1;
	for (size_t i = 0; i < w->neps; i++)
		w->eps[i]->active = false;
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		c = &cfg->webhooks[i];
		if ((ep = ep_find(w, c->name)) == NULL &&
		    (ep = ep_new(w, c->name)) == NULL)
			return -1;
		if ((url = strdup(c->url)) == NULL)
			return -1;
		free(ep->url);
		ep->url = url;
		memcpy(ep->key, c->key, sizeof(ep->key));
		ep->key_len = c->key_len;
		ep->format = c->format;
		ep->timeout = c->timeout;
		ep->max_attempts = c->max_attempts;
		ep->max_backoff = c->max_backoff;
		ep->active = true;
		poll_soon(ep, 0);
	}
	for (size_t i = 0; i < w->neps; i++)
		if (!w->eps[i]->active)
			evtimer_del(w->eps[i]->poll);
	return 0;
}

void
webhook_start(struct webhook *w)
{
	w->started = true;
	for (size_t i = 0; i < w->neps; i++)
		poll_soon(w->eps[i], 0);
}

void
webhook_stop(struct webhook *w)
{
	struct wh_transfer *t;
	struct wh_report *r;

	w->stopped = true;
	for (size_t i = 0; i < w->neps; i++)
		evtimer_del(w->eps[i]->poll);
	/* Give each delivery in the air back, due now, instead of leaving
	 * it leased until its lease ends (a lost call leaves it so). */
	while ((t = w->transfers) != NULL) {
		r = report_new(t->ep, WIRE_OP_WHRETRY, t->id);
		report_send(t->ep, r, r != NULL &&
		    rds_argv_addll(&r->args, t->attempt) == 0 &&
		    rds_argv_addll(&r->args, 0) == 0 &&
		    rds_argv_addll(&r->args, 0) == 0 &&
		    rds_argv_adds(&r->args,
		    "abandoned: the instance sending it stopped") == 0);
		transfer_free(t);
	}
	/* And those held for WAIT, never sent. */
	for (size_t i = 0; i < w->neps; i++) {
		struct wh_ep *ep = w->eps[i];

		for (size_t k = 0; k < ep->nheld; k++) {
			r = report_new(ep, WIRE_OP_WHRETRY, ep->held[k].id);
			report_send(ep, r, r != NULL &&
			    rds_argv_addll(&r->args, ep->held[k].attempt) == 0 &&
			    rds_argv_addll(&r->args, 0) == 0 &&
			    rds_argv_addll(&r->args, 0) == 0 &&
			    rds_argv_adds(&r->args,
			    "abandoned: the instance sending it stopped") == 0);
		}
		send_held(ep);		/* stopped: frees them */
	}
}

void
webhook_free(struct webhook *w)
{
	if (w == NULL)
		return;
	w->stopped = true;
	while (w->transfers != NULL)
		transfer_free(w->transfers);
	for (size_t i = 0; i < w->neps; i++) {
		struct wh_ep *ep = w->eps[i];

		event_free(ep->poll);
		send_held(ep);		/* stopped: frees them */
		done_drop(ep);
		rds_argv_clear(&ep->args);
		free(ep->name);
		free(ep->url);
		memset(ep->key, 0, sizeof(ep->key));
		free(ep);
	}
	free(w->eps);
	if (w->multi != NULL)
		lc->multi_cleanup(w->multi);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w->prefix);
	free(w);
	if (curl_ready) {
		lc->global_cleanup();
		curl_ready = false;
	}
}

/* --- metrics ---------------------------------------------------------------- */

void
webhook_metrics(struct evbuffer *b, void *arg)
{
	const struct webhook *w = arg;
	static const char *const results[] = {"ok", "retry", "dead"};
	unsigned long long cum, n[3];

	if (w == NULL || w->neps == 0)
		return;
	evbuffer_add_printf(b,
	    "# HELP leadrouted_webhook_deliveries_total Webhook delivery attempts of this instance, by endpoint and result.\n"
	    "# TYPE leadrouted_webhook_deliveries_total counter\n");
	for (size_t i = 0; i < w->neps; i++) {
		const struct wh_ep *ep = w->eps[i];

		n[0] = ep->n_ok;
		n[1] = ep->n_retry;
		n[2] = ep->n_dead;
		for (size_t k = 0; k < 3; k++)
			evbuffer_add_printf(b,
			    "leadrouted_webhook_deliveries_total{endpoint=\"%s\",result=\"%s\"} %llu\n",
			    ep->name, results[k], n[k]);
	}
	evbuffer_add_printf(b,
	    "# HELP leadrouted_webhook_pending Deliveries waiting in Redis for the endpoint (as this instance last saw).\n"
	    "# TYPE leadrouted_webhook_pending gauge\n");
	for (size_t i = 0; i < w->neps; i++)
		if (w->eps[i]->active)
			evbuffer_add_printf(b,
			    "leadrouted_webhook_pending{endpoint=\"%s\"} %lld\n",
			    w->eps[i]->name,
			    w->eps[i]->pending < 0 ? 0 : w->eps[i]->pending);
	evbuffer_add_printf(b,
	    "# HELP leadrouted_webhook_dead_dropped_total The oldest dead deliveries this instance dropped from lr:webhooks:dead (retention.webhooks_dead_max).\n"
	    "# TYPE leadrouted_webhook_dead_dropped_total counter\n"
	    "leadrouted_webhook_dead_dropped_total %llu\n", w->dead_dropped);
	evbuffer_add_printf(b,
	    "# HELP leadrouted_webhook_latency_seconds Time from sending a webhook attempt to its end, by endpoint.\n"
	    "# TYPE leadrouted_webhook_latency_seconds histogram\n");
	for (size_t i = 0; i < w->neps; i++) {
		const struct wh_ep *ep = w->eps[i];

		cum = 0;
		for (size_t k = 0; k < NLAT; k++) {
			cum += ep->lat[k];
			evbuffer_add_printf(b,
			    "leadrouted_webhook_latency_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
			    ep->name, lat_bounds[k], cum);
		}
		evbuffer_add_printf(b,
		    "leadrouted_webhook_latency_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n"
		    "leadrouted_webhook_latency_seconds_sum{endpoint=\"%s\"} %.6f\n"
		    "leadrouted_webhook_latency_seconds_count{endpoint=\"%s\"} %llu\n",
		    ep->name, ep->lat_count, ep->name, ep->lat_sum, ep->name,
		    ep->lat_count);
	}
}
