/* rds.c - hiredis async connections that keep themselves up: timeouts, watchdog, backoff, scripts. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>

#include "log.h"
#include "rds.h"
#include "redir.h"
#include "resp.h"
#include "wire.h"

enum rds_state {
	RDS_IDLE,		/* not started, or stopped */
	RDS_WAITING,		/* backoff timer armed */
	RDS_CONNECTING,		/* TCP/unix connect under way */
	RDS_HANDSHAKE,		/* AUTH / SELECT / PING sent */
	RDS_UP,
};

/* One command waiting for its reply; replies come in order. */
struct pending {
	struct pending *next;
	struct rds_conn *conn;
	rds_reply_cb *cb;
	void *arg;
	long long deadline;	/* monotonic ms */
	/* script calls, to go again as EVAL after NOSCRIPT */
	struct rds_script *script;
	const char *key;
	const struct rds_argv *args;
};

struct rds_conn {
	struct event_base *base;
	char *name;
	char *host, *unix_socket, *username, *password;
	struct sentinel_set sent;	/* n == 0: host and port are fixed */
	int backoff_max_ms;
	bool cluster;
	char *seed_host;		/* cluster: where to go after a loss */
	int seed_port;
	int port, db;
	long connect_timeout_ms, reply_timeout_ms;
	rds_state_cb *state_cb;
	void *arg;

	redisAsyncContext *ac;
	enum rds_state state;
	bool stopping;
	bool down_logged;	/* log once per state change */
	int backoff_ms;
	unsigned long connects;
	char last_error[160];

	struct pending *head, *tail;	/* replies owed, oldest first */
	struct event *retry_ev;		/* backoff */
	struct event *tick_ev;		/* connect timeout and watchdog */
	long long connect_deadline;

	rds_reply_cb *sub_cb;		/* rds_subscribe's, and its arg */
	void *sub_arg;

	struct resp_buf resp;		/* send_script's command (resp.h) */

	/* rds_wait's callers: those the WAIT in the air answers, and those
	 * the next one will (sent when it answers). */
	struct waiter *wait_air, *wait_next, **wait_tail;
	int wait_replicas;
	long long wait_timeout_ms;
	char *wait_mark;		/* rds_wait_mark's key, or NULL */
	bool mark_warned;		/* an INCR of it was refused (logged) */
};

/* A caller of rds_wait, answered by the first WAIT sent after it asked. */
struct waiter {
	rds_reply_cb *cb;
	void *arg;
	struct waiter *next;
};

static void rds_connect(struct rds_conn *c);
static void rds_lost(struct rds_conn *c, const char *why);
static void retry_cb(evutil_socket_t fd, short what, void *arg);
static void tick_cb(evutil_socket_t fd, short what, void *arg);

long long
rds_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
xstrdup_opt(const char *s)
{
	return strdup(s != NULL ? s : "");
}

struct rds_conn *
rds_new(struct event_base *base, const struct rds_opts *o, const char *name,
    rds_state_cb *state_cb, void *arg)
{
	struct rds_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->wait_tail = &c->wait_next;
	c->base = base;
	c->name = xstrdup_opt(name);
	c->host = xstrdup_opt(o->host);
	c->unix_socket = xstrdup_opt(o->unix_socket);
	c->username = xstrdup_opt(o->username);
	c->password = xstrdup_opt(o->password);
	c->backoff_max_ms = RDS_BACKOFF_MAX_MS;
	if (o->sentinels != NULL && o->sentinels->n > 0) {
		if (sentinel_set_init(&c->sent, o->sentinels->hosts,
		    o->sentinels->ports, o->sentinels->n,
		    o->sentinels->master_name, o->sentinels->username,
		    o->sentinels->password) == -1) {
			rds_free(c);
			return NULL;
		}
		c->backoff_max_ms = RDS_SENTINEL_BACKOFF_MAX_MS;
		free(c->host);
		c->host = strdup("");	/* until the sentinels name one */
	}
	if (o->cluster) {
		c->cluster = true;
		c->backoff_max_ms = RDS_SENTINEL_BACKOFF_MAX_MS;
		c->seed_port = o->port;
		if ((c->seed_host = strdup(o->host != NULL ? o->host : "")) ==
		    NULL) {
			rds_free(c);
			return NULL;
		}
	}
	c->port = o->port;
	c->db = o->db;
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ?
	    o->connect_timeout_ms : RDS_CONNECT_TIMEOUT_MS;
	c->reply_timeout_ms = o->reply_timeout_ms > 0 ?
	    o->reply_timeout_ms : RDS_REPLY_TIMEOUT_MS;
	c->state_cb = state_cb;
	c->arg = arg;
	c->backoff_ms = RDS_BACKOFF_MIN_MS;
	c->retry_ev = evtimer_new(base, retry_cb, c);
	c->tick_ev = event_new(base, -1, EV_PERSIST, tick_cb, c);
	if (c->name == NULL || c->host == NULL || c->unix_socket == NULL ||
	    c->username == NULL || c->password == NULL ||
	    c->retry_ev == NULL || c->tick_ev == NULL) {
		rds_free(c);
		return NULL;
	}
	return c;
}

bool
rds_up(const struct rds_conn *c)
{
	return c->state == RDS_UP;
}

unsigned long
rds_reconnects(const struct rds_conn *c)
{
	return c->connects > 0 ? c->connects - 1 : 0;
}

const char *
rds_last_error(const struct rds_conn *c)
{
	return c->last_error;
}

static const char *
rds_where(const struct rds_conn *c, char *buf, size_t len)
{
	if (c->unix_socket[0] != '\0')
		snprintf(buf, len, "%s", c->unix_socket);
	else if (c->sent.n > 0 && c->host[0] == '\0')
		snprintf(buf, len, "sentinels of master %s",
		    c->sent.master_name);
	else
		snprintf(buf, len, "%s:%d", c->host, c->port);
	return buf;
}

/* Take the oldest pending entry (its reply has come, or never will). */
static struct pending *
pending_pop(struct rds_conn *c)
{
	struct pending *p = c->head;

	if (p == NULL)
		return NULL;
	c->head = p->next;
	if (c->head == NULL)
		c->tail = NULL;
	return p;
}

/* Append p to the replies owed, due within timeout_ms (0: the default). */
static void
pending_append(struct rds_conn *c, struct pending *p, long timeout_ms)
{
	p->next = NULL;
	p->deadline = rds_mono_ms() + (timeout_ms > 0 ? timeout_ms :
	    c->reply_timeout_ms);
	if (c->tail != NULL)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
}

static struct pending *
pending_push(struct rds_conn *c, rds_reply_cb *cb, void *arg, long timeout_ms)
{
	struct pending *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->conn = c;
	p->cb = cb;
	p->arg = arg;
	pending_append(c, p, timeout_ms);
	return p;
}

/* Take p, the newest entry, off the list again (it was never sent). */
static void
pending_unlink_tail(struct rds_conn *c, struct pending *p)
{
	struct pending **pp;

	for (pp = &c->head; *pp != p; pp = &(*pp)->next)
		;
	*pp = NULL;
	c->tail = NULL;
	for (struct pending *q = c->head; q != NULL; q = q->next)
		c->tail = q;
}

static void
pending_unpush(struct rds_conn *c, struct pending *p)
{
	pending_unlink_tail(c, p);
	free(p);
}

static int send_script(struct rds_conn *c, struct pending *p, bool by_sha);

static bool cluster_redirect(struct rds_conn *c, const redisReply *reply);

/*
 * hiredis calls this once per command, in order: with the reply, or with
 * NULL when the context goes away with the command unanswered.
 */
static void
reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct pending *p = privdata;
	struct rds_conn *c = p->conn;
	redisReply *reply = r;

	(void)ac;
	if (c->head != p) {
		/* Cannot happen: hiredis answers in order. Fail loudly. */
		fatalx("redis '%s': reply out of order", c->name);
	}
	(void)pending_pop(c);
	if (reply != NULL && (rds_is_error(reply, "READONLY") ||
	    rds_is_error(reply, "MASTERDOWN") ||
	    rds_is_error(reply, "UNBLOCKED"))) {
		/* Not (or no longer) a primary: no write can succeed here
		 * (UNBLOCKED: a blocking command or WAIT cut short as the
		 * server turned replica). As a lost connection: every caller
		 * hears NULL, and the reconnection (asking the sentinels
		 * again, if any) checks the role. */
		char why[200];

		snprintf(why, sizeof(why), "%s", reply->str);
		rds_drop(c, why);
		reply = NULL;
	}
	if (reply != NULL && c->cluster && cluster_redirect(c, reply))
		reply = NULL;	/* not run; the connection was dropped */
	if (reply != NULL && p->script != NULL &&
	    rds_is_error(reply, "NOSCRIPT")) {
		/* The script cache was flushed: send the body this time. */
		p->script->sha[0] = '\0';
		pending_append(c, p, 0);
		if (send_script(c, p, false) == 0)
			return;
		pending_unlink_tail(c, p);
		reply = NULL;
	}
	if (p->cb != NULL)
		p->cb(c, reply, p->arg);
	free(p);
}

int
rds_command(struct rds_conn *c, rds_reply_cb *cb, void *arg, long timeout_ms,
    int argc, const char **argv, const size_t *lens)
{
	struct pending *p;

	if (c->ac == NULL || (c->state != RDS_UP && c->state != RDS_HANDSHAKE))
		return -1;
	if ((p = pending_push(c, cb, arg, timeout_ms)) == NULL)
		return -1;
	if (redisAsyncCommandArgv(c->ac, reply_cb, p, argc, argv, lens) !=
	    REDIS_OK) {
		pending_unpush(c, p);
		return -1;
	}
	return 0;
}

int
rds_commandf(struct rds_conn *c, rds_reply_cb *cb, void *arg,
    const char *fmt, ...)
{
	struct pending *p;
	va_list ap;
	int rc;

	if (c->ac == NULL || (c->state != RDS_UP && c->state != RDS_HANDSHAKE))
		return -1;
	if ((p = pending_push(c, cb, arg, 0)) == NULL)
		return -1;
	va_start(ap, fmt);
	rc = redisvAsyncCommand(c->ac, reply_cb, p, fmt, ap);
	va_end(ap);
	if (rc != REDIS_OK) {
		pending_unpush(c, p);
		return -1;
	}
	return 0;
}

/* Tell each waiter of list (and free it): reply, or NULL. */
static void
wait_tell(struct rds_conn *c, struct waiter *list, redisReply *reply)
{
	struct waiter *w, *next;

	for (w = list; w != NULL; w = next) {
		next = w->next;
		w->cb(c, reply, w->arg);
		free(w);
	}
}

static int wait_send(struct rds_conn *c);

/* The WAIT in the air answered (or its INCR was refused, or the connection
 * lost: reply NULL): its callers hear it; those queued since go with the
 * next one. */
static void
wait_over(struct rds_conn *c, redisReply *reply)
{
	struct waiter *air = c->wait_air, *next;

	c->wait_air = NULL;
	if (c->wait_next != NULL && wait_send(c) == -1) {
		next = c->wait_next;
		c->wait_next = NULL;
		c->wait_tail = &c->wait_next;
		wait_tell(c, next, NULL);	/* as with a lost connection */
	}
	wait_tell(c, air, reply);
}

static void
wait_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	(void)arg;
	wait_over(c, reply);
}

/* WAIT itself. */
static int
wait_command(struct rds_conn *c)
{
	char n[24], t[24];
	const char *argv[3] = {"WAIT", n, t};
	size_t lens[3];

	lens[0] = 4;
	lens[1] = (size_t)snprintf(n, sizeof(n), "%d", c->wait_replicas);
	lens[2] = (size_t)snprintf(t, sizeof(t), "%lld", c->wait_timeout_ms);
	return rds_command(c, wait_cb, NULL, c->wait_timeout_ms +
	    RDS_REPLY_TIMEOUT_MS, 3, argv, lens);
}

/* The INCR of a mark answered: the WAIT goes now. Refused (out of memory,
 * ACLs, a key of another type), the INCR did not run, and a WAIT would
 * only cover what this connection wrote before: none is sent, and the
 * callers hear NULL at once. */
static void
mark_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	bool refused = reply != NULL && reply->type == REDIS_REPLY_ERROR;

	(void)arg;
	if (refused && !c->mark_warned)
		log_warnx("redis '%s': INCR %s refused: %s; no WAIT until it runs",
		    c->name, c->wait_mark, reply->str);
	else if (reply != NULL && !refused && c->mark_warned)
		log_info("redis '%s': INCR %s works again", c->name,
		    c->wait_mark);
	if (reply != NULL)
		c->mark_warned = refused;
	if (reply == NULL || refused || wait_command(c) == -1)
		wait_over(c, NULL);
}

/* One WAIT for every caller queued: it covers all the connection wrote
 * before it, their writes among it (with a mark, it goes once the INCR
 * sent first has run, and so covers all that any connection wrote
 * before that). */
static int
wait_send(struct rds_conn *c)
{
	const char *mark[2] = {"INCR", c->wait_mark};
	size_t mlens[2] = {4, 0};

	if (c->wait_mark != NULL) {
		mlens[1] = strlen(c->wait_mark);
		if (rds_command(c, mark_cb, NULL, 0, 2, mark, mlens) == -1)
			return -1;
	} else if (wait_command(c) == -1)
		return -1;
	c->wait_air = c->wait_next;
	c->wait_next = NULL;
	c->wait_tail = &c->wait_next;
	return 0;
}

bool
rds_same_server(const struct rds_conn *a, const struct rds_conn *b)
{
	if (a->state != RDS_UP || b->state != RDS_UP)
		return false;
	if (a->unix_socket[0] != '\0' || b->unix_socket[0] != '\0')
		return strcmp(a->unix_socket, b->unix_socket) == 0;
	return strcmp(a->host, b->host) == 0 && a->port == b->port;
}

void
rds_join(struct rds_conn *c, const struct rds_conn *to)
{
	char why[300], *h;

	if (!c->cluster || c->stopping || c->ac == NULL ||
	    to->state != RDS_UP || to->unix_socket[0] != '\0' ||
	    (strcmp(c->host, to->host) == 0 && c->port == to->port) ||
	    (h = strdup(to->host)) == NULL)
		return;
	snprintf(why, sizeof(why), "the slot is served at %s:%d", to->host,
	    to->port);
	c->backoff_ms = 0;	/* there at once */
	rds_drop(c, why);
	/* The retry rds_drop armed goes there (as after a MOVED). */
	free(c->host);
	c->host = h;
	c->port = to->port;
}

int
rds_wait_mark(struct rds_conn *c, const char *key)
{
	char *k;

	if ((k = strdup(key)) == NULL)
		return -1;
	free(c->wait_mark);
	c->wait_mark = k;
	return 0;
}

int
rds_wait(struct rds_conn *c, int replicas, long long timeout_ms,
    rds_reply_cb *cb, void *arg)
{
	struct waiter *w;

	if (c->ac == NULL || c->state != RDS_UP ||
	    (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->cb = cb;
	w->arg = arg;
	*c->wait_tail = w;
	c->wait_tail = &w->next;
	/* The callers pass the configuration's; the newest wins. */
	c->wait_replicas = replicas;
	c->wait_timeout_ms = timeout_ms;
	if (c->wait_air != NULL)
		return 0;	/* the next WAIT, when this one answers */
	if (wait_send(c) == -1) {
		c->wait_next = NULL;	/* w alone: none queue without one in the air */
		c->wait_tail = &c->wait_next;
		free(w);
		return -1;
	}
	return 0;
}

/* EVALSHA sha 1 key args... or EVAL body 1 key args... */
static int
send_script(struct rds_conn *c, struct pending *p, bool by_sha)
{
	const char *head[4];
	size_t hlen[4], len;
	int rc;

	if (by_sha) {
		head[0] = "EVALSHA";
		head[1] = p->script->sha;
		hlen[1] = strlen(p->script->sha);
	} else {
		head[0] = "EVAL";
		head[1] = p->script->body;
		hlen[1] = p->script->len;
	}
	hlen[0] = strlen(head[0]);
	head[2] = "1";
	hlen[2] = 1;
	head[3] = p->key;
	hlen[3] = strlen(p->key);
	/* What redisFormatSdsCommandArgv makes of the same arguments. */
	if ((len = resp_command(&c->resp, 4, head, hlen, p->args->argc,
	    p->args->argv, p->args->lens)) == 0)
		return -1;
	rc = redisAsyncFormattedCommand(c->ac, reply_cb, p, c->resp.buf, len);
	resp_trim(&c->resp);
	return rc == REDIS_OK ? 0 : -1;
}

int
rds_script(struct rds_conn *c, struct rds_script *s, const char *key,
    const struct rds_argv *args, rds_reply_cb *cb, void *arg)
{
	struct pending *p;

	if (c->ac == NULL || c->state != RDS_UP)
		return -1;
	if ((p = pending_push(c, cb, arg, 0)) == NULL)
		return -1;
	p->script = s;
	p->key = key;
	p->args = args;
	if (send_script(c, p, s->sha[0] != '\0') == -1) {
		pending_unpush(c, p);
		return -1;
	}
	return 0;
}

static void
script_load_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	struct rds_script *s = arg;

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_STRING && reply->len == 40) {
		memcpy(s->sha, reply->str, 40);
		s->sha[40] = '\0';
	} else if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("redis '%s': cannot load script: %s", c->name,
		    reply->str);
	}
}

int
rds_script_load(struct rds_conn *c, struct rds_script *s)
{
	const char *argv[3] = {"SCRIPT", "LOAD", s->body};
	size_t lens[3] = {6, 4, s->len};

	return rds_command(c, script_load_cb, s, 0, 3, argv, lens);
}

bool
rds_is_error(const redisReply *r, const char *prefix)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL &&
	    strncmp(r->str, prefix, strlen(prefix)) == 0;
}

/* --- connection life cycle ---------------------------------------------- */

static void
set_error(struct rds_conn *c, const char *why)
{
	snprintf(c->last_error, sizeof(c->last_error), "%s", why);
}

static void
schedule_retry(struct rds_conn *c)
{
	struct timeval tv;
	int ms = c->backoff_ms;

	if (c->stopping)
		return;
	/* Jitter of +-25% keeps several instances from reconnecting in step. */
	ms = ms * 3 / 4 + (int)(random() % (ms / 2 + 1));
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	c->state = RDS_WAITING;
	evtimer_add(c->retry_ev, &tv);
	if (c->backoff_ms == 0)		/* rds_follow: once, at once */
		c->backoff_ms = RDS_BACKOFF_MIN_MS;
	else
		c->backoff_ms = c->backoff_ms * 2 > c->backoff_max_ms ?
		    c->backoff_max_ms : c->backoff_ms * 2;
}

/*
 * The context is gone or going: fail what is pending, tell the owner once,
 * and come back after a backoff. Never called with hiredis on the stack
 * for this context except from its own connect/disconnect callbacks,
 * after which hiredis frees the context itself.
 */
static void cluster_to_seed(struct rds_conn *c);

static void
rds_lost(struct rds_conn *c, const char *why)
{
	char where[300];
	bool was_up = c->state == RDS_UP;

	c->ac = NULL;
	c->state = RDS_IDLE;
	set_error(c, why);
	if (!c->down_logged) {
		log_warnx("redis '%s' at '%s': %s; retrying", c->name,
		    rds_where(c, where, sizeof(where)), why);
		c->down_logged = true;
	}
	if (was_up && c->state_cb != NULL)
		c->state_cb(c, false, c->arg);
	cluster_to_seed(c);
	schedule_retry(c);
}

static void
disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct rds_conn *c = ac->data;

	if (c == NULL || c->ac != ac)
		return;		/* we dropped it ourselves */
	rds_lost(c, status == REDIS_OK ? "connection closed" :
	    (ac->errstr[0] ? ac->errstr : "connection lost"));
}

static void
handshake_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	char why[200];

	(void)arg;
	if (reply == NULL)
		return;		/* lost; rds_lost runs */
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "%s", reply->str);
		rds_drop(c, why);
		return;
	}
	/* AUTH, SELECT or PING went well; ROLE is last. */
}

/*
 * ROLE, the last step of the handshake: only a primary takes writes. A
 * replica (a failover demoted it) is refused like a server that is down.
 * When ROLE itself is refused (an ACL), the role cannot be told: a
 * READONLY reply would tell later.
 */
static void
role_cb(struct rds_conn *c, redisReply *reply, void *arg)
{
	char why[200], where[300];
	const redisReply *role;

	(void)arg;
	if (reply == NULL)
		return;		/* lost; rds_lost runs */
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
		role = reply->element[0];
		if (role->type == REDIS_REPLY_STRING &&
		    strcmp(role->str, "master") != 0) {
			snprintf(why, sizeof(why), "not a primary (role %s)",
			    role->str);
			rds_drop(c, why);
			return;
		}
	}
	c->state = RDS_UP;
	c->backoff_ms = RDS_BACKOFF_MIN_MS;
	c->connects++;
	c->last_error[0] = '\0';
	if (c->down_logged || c->connects == 1)
		log_info("redis '%s' at '%s': connected", c->name,
		    rds_where(c, where, sizeof(where)));
	c->down_logged = false;
	if (c->state_cb != NULL)
		c->state_cb(c, true, c->arg);
}

static void
connect_cb(const redisAsyncContext *ac, int status)
{
	struct rds_conn *c = ac->data;

	if (c == NULL || c->ac != ac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback. */
		rds_lost(c, ac->errstr[0] ? ac->errstr : "cannot connect");
		return;
	}
	c->state = RDS_HANDSHAKE;
	if (c->password[0] != '\0' && c->username[0] != '\0')
		(void)rds_commandf(c, handshake_cb, NULL, "AUTH %s %s",
		    c->username, c->password);
	else if (c->password[0] != '\0')
		(void)rds_commandf(c, handshake_cb, NULL, "AUTH %s",
		    c->password);
	if (c->db != 0)
		(void)rds_commandf(c, handshake_cb, NULL, "SELECT %d", c->db);
	(void)rds_commandf(c, handshake_cb, NULL, "PING");
	(void)rds_commandf(c, role_cb, NULL, "ROLE");
}

/*
 * With sentinels: where the primary is now. 0 with c->host and c->port
 * set, or -1 after rds_lost (the error names what each sentinel said).
 */
static int
rds_discover(struct rds_conn *c)
{
	char host[256], err[sizeof(c->last_error)], *h;
	int port;

	if (sentinel_ask(&c->sent, host, sizeof(host), &port, err,
	    sizeof(err)) == -1) {
		c->state = RDS_CONNECTING;
		rds_lost(c, err);
		return -1;
	}
	if (strcmp(host, c->host) != 0 || port != c->port) {
		if ((h = strdup(host)) == NULL) {
			c->state = RDS_CONNECTING;
			rds_lost(c, "out of memory");
			return -1;
		}
		log_info("redis '%s': the sentinels name %s:%d as primary of '%s'",
		    c->name, host, port, c->sent.master_name);
		free(c->host);
		c->host = h;
		c->port = port;
	}
	return 0;
}

static void
rds_connect(struct rds_conn *c)
{
	redisAsyncContext *ac;

	if (c->sent.n > 0 && rds_discover(c) == -1)
		return;
	if (c->unix_socket[0] != '\0')
		ac = redisAsyncConnectUnix(c->unix_socket);
	else
		ac = redisAsyncConnect(c->host, c->port);
	if (ac == NULL) {
		set_error(c, "out of memory");
		schedule_retry(c);
		return;
	}
	if (ac->err) {
		char why[160];

		snprintf(why, sizeof(why), "%s", ac->errstr);
		redisAsyncFree(ac);
		c->state = RDS_CONNECTING;
		rds_lost(c, why);
		return;
	}
	ac->data = c;
	c->ac = ac;
	c->state = RDS_CONNECTING;
	c->connect_deadline = rds_mono_ms() + c->connect_timeout_ms;
	redisLibeventAttach(ac, c->base);
	redisAsyncSetConnectCallback(ac, connect_cb);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rds_connect(arg);
}

/* Free our context from outside any hiredis callback: pending get NULL. */
static void
free_context(struct rds_conn *c)
{
	redisAsyncContext *ac = c->ac;

	if (ac == NULL)
		return;
	c->ac = NULL;		/* disconnect_cb now knows it was us */
	ac->data = NULL;
	redisAsyncFree(ac);
}

void
rds_drop(struct rds_conn *c, const char *why)
{
	bool was_up = c->state == RDS_UP;
	char where[300];

	if (c->ac == NULL)
		return;
	if (!c->down_logged) {
		log_warnx("redis '%s' at '%s': %s; reconnecting", c->name,
		    rds_where(c, where, sizeof(where)), why);
		c->down_logged = true;
	}
	set_error(c, why);
	c->state = RDS_IDLE;
	free_context(c);
	if (was_up && c->state_cb != NULL)
		c->state_cb(c, false, c->arg);
	schedule_retry(c);
}

/* Every tick: the connect timeout, and the oldest unanswered command. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rds_conn *c = arg;
	long long now = rds_mono_ms();
	char why[120];

	(void)fd;
	(void)what;
	if ((c->state == RDS_CONNECTING) && now > c->connect_deadline) {
		snprintf(why, sizeof(why), "no connection within %ld ms",
		    c->connect_timeout_ms);
		rds_drop(c, why);
		return;
	}
	if (c->head != NULL && now > c->head->deadline) {
		snprintf(why, sizeof(why),
		    "no reply within %lld ms (watchdog)",
		    now - c->head->deadline + c->reply_timeout_ms);
		rds_drop(c, why);
	}
}

void
rds_start(struct rds_conn *c)
{
	struct timeval tick = {0, RDS_WATCHDOG_TICK_MS * 1000};

	c->stopping = false;
	event_add(c->tick_ev, &tick);
	rds_connect(c);
}

void
rds_stop(struct rds_conn *c)
{
	c->stopping = true;
	evtimer_del(c->retry_ev);
	event_del(c->tick_ev);
	c->state = RDS_IDLE;
	free_context(c);
}

void
rds_free(struct rds_conn *c)
{
	if (c == NULL)
		return;
	rds_stop(c);
	if (c->retry_ev != NULL)
		event_free(c->retry_ev);
	if (c->tick_ev != NULL)
		event_free(c->tick_ev);
	free(c->name);
	free(c->host);
	free(c->unix_socket);
	free(c->username);
	free(c->password);
	free(c->seed_host);
	free(c->wait_mark);
	resp_free(&c->resp);
	wait_tell(c, c->wait_next, NULL);	/* none: rds_stop answered all */
	sentinel_set_clear(&c->sent);
	free(c);
}

/* --- argument vectors --------------------------------------------------- */

/* Copies of arguments, packed; a long one has a block to itself. */
struct rds_argv_block {
	struct rds_argv_block *next;
	size_t used, size;
	char data[];
};

/* Blocks stay below malloc's mmap threshold (LRD_MMAP_THRESHOLD). */
#define RDS_ARGV_BLOCK (32 * 1024 - sizeof(struct rds_argv_block))

void
rds_argv_init(struct rds_argv *a)
{
	memset(a, 0, sizeof(*a));
}

/* Room for n bytes that stays put: in the first block, or a new one. */
static char *
argv_room(struct rds_argv *a, size_t n)
{
	struct rds_argv_block *b = a->blocks, *nb;
	size_t size = n > RDS_ARGV_BLOCK / 4 ? n : RDS_ARGV_BLOCK;
	char *p;

	if (b != NULL && b->size - b->used >= n) {
		p = b->data + b->used;
		b->used += n;
		return p;
	}
	if ((nb = malloc(sizeof(*nb) + size)) == NULL)
		return NULL;
	nb->used = n;
	nb->size = size;
	if (b != NULL && size == n) {
		/* A long one: the first block keeps its room for the next. */
		nb->next = b->next;
		b->next = nb;
	} else {
		nb->next = b;
		a->blocks = nb;
	}
	return nb->data;
}

int
rds_argv_add(struct rds_argv *a, const char *buf, size_t len)
{
	char *copy;

	if (a->argc == a->cap) {
		int ncap = a->cap ? a->cap * 2 : 16;
		char **nv = realloc(a->argv, (size_t)ncap * sizeof(*nv));
		size_t *nl;

		if (nv == NULL)
			return -1;
		a->argv = nv;
		if ((nl = realloc(a->lens, (size_t)ncap * sizeof(*nl))) == NULL)
			return -1;
		a->lens = nl;
		a->cap = ncap;
	}
	if (len == SIZE_MAX || (copy = argv_room(a, len + 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	a->argv[a->argc] = copy;
	a->lens[a->argc] = len;
	a->argc++;
	return 0;
}

int
rds_argv_adds(struct rds_argv *a, const char *s)
{
	return rds_argv_add(a, s, strlen(s));
}

int
rds_argv_call(struct rds_argv *a, const char *op, const char *prefix)
{
	_Static_assert(WIRE_SCRIPT_OP == 0 && WIRE_SCRIPT_PREFIX == 1 &&
	    WIRE_SCRIPT_ARGS == 2, "the script's argv head moved");
	if (rds_argv_adds(a, op) == -1 || rds_argv_adds(a, prefix) == -1)
		return -1;
	return 0;
}

int
rds_argv_addll(struct rds_argv *a, long long v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%lld", v);

	return rds_argv_add(a, buf, (size_t)n);
}

void
rds_argv_clear(struct rds_argv *a)
{
	struct rds_argv_block *b, *next;

	for (b = a->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a->argv);
	free(a->lens);
	memset(a, 0, sizeof(*a));
}

/* --- Sentinel: following +switch-master --------------------------------- */

void
rds_follow(struct rds_conn *c, const char *host, int port)
{
	char why[300];

	if (c->sent.n == 0 || c->stopping)
		return;
	if (c->ac != NULL && strcmp(c->host, host) == 0 && c->port == port)
		return;		/* already there */
	snprintf(why, sizeof(why), "the sentinels switched the primary to %s:%d",
	    host, port);
	c->backoff_ms = 0;	/* the next attempt comes at once */
	if (c->ac != NULL) {
		rds_drop(c, why);
		return;
	}
	if (c->state == RDS_WAITING) {
		struct timeval now = {0, 0};

		evtimer_del(c->retry_ev);
		evtimer_add(c->retry_ev, &now);
	}
}

struct rds_watch {
	struct event_base *base;
	struct sentinel_set sent;
	rds_switch_cb *cb;
	void *arg;
	redisAsyncContext *ac;
	bool connected;
	long long deadline;		/* of the connect under way */
	struct event *retry_ev;		/* the next sentinel, after a pause */
	struct event *tick_ev;		/* the connect timeout */
};

static void watch_connect(struct rds_watch *w);

/* Try the next sentinel after RDS_SENTINEL_BACKOFF_MAX_MS. */
static void
watch_later(struct rds_watch *w)
{
	struct timeval tv = {RDS_SENTINEL_BACKOFF_MAX_MS / 1000,
	    (RDS_SENTINEL_BACKOFF_MAX_MS % 1000) * 1000};

	w->ac = NULL;
	w->connected = false;
	w->sent.next = (w->sent.next + 1) % w->sent.n;
	evtimer_add(w->retry_ev, &tv);
}

/* Drop our context from outside hiredis's callbacks, then try again. */
static void
watch_drop(struct rds_watch *w)
{
	redisAsyncContext *ac = w->ac;

	if (ac == NULL)
		return;
	ac->data = NULL;
	redisAsyncFree(ac);
	watch_later(w);
}

/* "message", "+switch-master", "NAME OLDIP OLDPORT NEWIP NEWPORT" */
static void
watch_message_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct rds_watch *w = privdata;
	const redisReply *reply = r, *kind, *msg;
	char host[REDIR_HOST_MAX + 1];
	int port;

	if (reply == NULL || ac->data == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("sentinel watch: %s", reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
		return;
	kind = reply->element[0];
	msg = reply->element[2];
	if (kind->type != REDIS_REPLY_STRING || strcmp(kind->str,
	    "message") != 0 || msg->type != REDIS_REPLY_STRING)
		return;
	if (redir_switch_master(msg->str, msg->len, w->sent.master_name, host,
	    &port) == -1)
		return;
	log_warnx("sentinels switched the primary of '%s' to %s:%d",
	    w->sent.master_name, host, port);
	w->cb(host, port, w->arg);
}

/* SUBSCRIBE +switch-master: messages come to watch_message_cb. */
static void
watch_subscribe(struct rds_watch *w, redisAsyncContext *ac)
{
	(void)redisAsyncCommand(ac, watch_message_cb, w,
	    "SUBSCRIBE +switch-master");
}

/* AUTH first (its reply must not reach a subscribed context). */
static void
watch_auth_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct rds_watch *w = privdata;
	const redisReply *reply = r;

	if (reply == NULL || ac->data == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		log_warnx("sentinel watch: AUTH: %s", reply->str);
		redisAsyncDisconnect(ac);	/* the next sentinel, later */
		return;
	}
	watch_subscribe(w, ac);
}

static void
watch_connect_cb(const redisAsyncContext *ac, int status)
{
	struct rds_watch *w = ac->data;

	if (w == NULL)
		return;
	if (status != REDIS_OK) {
		watch_later(w);		/* hiredis frees the context */
		return;
	}
	w->connected = true;
}

static void
watch_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct rds_watch *w = ac->data;

	(void)status;
	if (w == NULL || w->ac != ac)
		return;		/* we dropped it ourselves */
	watch_later(w);
}

static void
watch_connect(struct rds_watch *w)
{
	size_t i = w->sent.next % w->sent.n;
	redisAsyncContext *ac;

	ac = redisAsyncConnect(w->sent.hosts[i], w->sent.ports[i]);
	if (ac == NULL || ac->err) {
		if (ac != NULL)
			redisAsyncFree(ac);
		watch_later(w);
		return;
	}
	ac->data = w;
	w->ac = ac;
	w->connected = false;
	w->deadline = rds_mono_ms() + RDS_CONNECT_TIMEOUT_MS;
	redisLibeventAttach(ac, w->base);
	redisAsyncSetConnectCallback(ac, watch_connect_cb);
	redisAsyncSetDisconnectCallback(ac, watch_disconnect_cb);
	(void)redisEnableKeepAlive(&ac->c);
	if (w->sent.password[0] != '\0' && w->sent.username[0] != '\0')
		(void)redisAsyncCommand(ac, watch_auth_cb, w, "AUTH %s %s",
		    w->sent.username, w->sent.password);
	else if (w->sent.password[0] != '\0')
		(void)redisAsyncCommand(ac, watch_auth_cb, w, "AUTH %s",
		    w->sent.password);
	else
		watch_subscribe(w, ac);
}

static void
watch_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	watch_connect(arg);
}

static void
watch_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rds_watch *w = arg;

	(void)fd;
	(void)what;
	if (w->ac != NULL && !w->connected && rds_mono_ms() > w->deadline)
		watch_drop(w);
}

struct rds_watch *
rds_watch_new(struct event_base *base, const struct sentinel_set *s,
    rds_switch_cb *cb, void *arg)
{
	struct rds_watch *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->base = base;
	w->cb = cb;
	w->arg = arg;
	w->retry_ev = evtimer_new(base, watch_retry_cb, w);
	w->tick_ev = event_new(base, -1, EV_PERSIST, watch_tick_cb, w);
	if (w->retry_ev == NULL || w->tick_ev == NULL ||
	    (s != NULL && s->n > 0 && sentinel_set_init(&w->sent, s->hosts,
	    s->ports, s->n, s->master_name, s->username, s->password) == -1)) {
		rds_watch_free(w);
		return NULL;
	}
	return w;
}

void
rds_watch_start(struct rds_watch *w)
{
	struct timeval tick = {0, RDS_WATCHDOG_TICK_MS * 1000};

	if (w->sent.n == 0)
		return;
	event_add(w->tick_ev, &tick);
	watch_connect(w);
}

void
rds_watch_free(struct rds_watch *w)
{
	redisAsyncContext *ac;

	if (w == NULL)
		return;
	if ((ac = w->ac) != NULL) {
		w->ac = NULL;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	if (w->retry_ev != NULL)
		event_free(w->retry_ev);
	if (w->tick_ev != NULL)
		event_free(w->tick_ev);
	sentinel_set_clear(&w->sent);
	free(w);
}

/* --- Redis Cluster: redirects --------------------------------------------- */

/* After a lost connection: the seed node tells where the slot is now. */
static void
cluster_to_seed(struct rds_conn *c)
{
	char *h;

	if (!c->cluster || (strcmp(c->host, c->seed_host) == 0 &&
	    c->port == c->seed_port) || (h = strdup(c->seed_host)) == NULL)
		return;
	free(c->host);
	c->host = h;
	c->port = c->seed_port;
}

/*
 * A cluster's answer that the command was not run here: MOVED (follow it
 * at once), ASK, TRYAGAIN or CLUSTERDOWN (come back after the backoff).
 * Drops the connection and returns true for those; false for any other.
 */
static bool
cluster_redirect(struct rds_conn *c, const redisReply *reply)
{
	char why[300], host[REDIR_HOST_MAX + 1], *h = NULL;
	int port;

	if (reply->type != REDIS_REPLY_ERROR)
		return false;
	switch (redir_parse(reply->str, reply->len, host, &port)) {
	case REDIR_NONE:
		return false;
	case REDIR_MOVED:
		if ((h = strdup(host)) != NULL)
			c->backoff_ms = 0;	/* there at once */
		snprintf(why, sizeof(why), "%s", reply->str);
		break;
	case REDIR_ASK:
	case REDIR_TRYAGAIN:
	case REDIR_CLUSTERDOWN:
		snprintf(why, sizeof(why), "slot not served here now (%s)",
		    reply->str);
		break;
	}
	rds_drop(c, why);
	if (h != NULL) {
		/* The retry rds_drop armed goes where MOVED said. */
		free(c->host);
		c->host = h;
		c->port = port;
	}
	return true;
}

/* --- a subscribed connection -------------------------------------------- */

/* Each message (and the confirmation) of the subscription, while its
 * context is ours; hiredis calls it with NULL when the context goes. */
static void
sub_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct rds_conn *c = privdata;

	if (r == NULL || c->ac != ac || c->sub_cb == NULL)
		return;
	c->sub_cb(c, r, c->sub_arg);
}

int
rds_subscribe(struct rds_conn *c, const char *channel, rds_reply_cb *cb,
    void *arg)
{
	if (c->ac == NULL || c->state != RDS_UP)
		return -1;
	c->sub_cb = cb;
	c->sub_arg = arg;
	/* No reply is owed now, so the watchdog cannot tell a dead peer:
	 * TCP keepalive does, in time. */
	(void)redisEnableKeepAlive(&c->ac->c);
	if (redisAsyncCommand(c->ac, sub_reply_cb, c, "SUBSCRIBE %s",
	    channel) != REDIS_OK)
		return -1;
	return 0;
}
