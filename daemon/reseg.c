/* reseg.c - re-segment the leads waiting in the backlogs of segments the configuration no longer has. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "config.h"
#include "daemon.h"
#include "instance.h"
#include "lead.h"
#include "log.h"
#include "rds.h"
#include "reseg.h"
#include "segment.h"
#include "task.h"
#include "wire.h"

/* Leads moved out of one removed segment's backlog during a run. */
struct moved {
	char *seg;
	long long n;
};

struct reseg {
	struct lrd *d;
	struct rds_target to;
	struct event *retry;
	struct rds_argv args;	/* of the call in the air */
	char cursor[32];	/* of the next strays call */
	bool done;		/* the last strays reply ended the scan */
	bool running;
	bool again;		/* started during the run: start over */
	bool stopped;
	struct moved moved[RESEG_NAMES_MAX];
	size_t nmoved;
	long long others;	/* moved from segments past RESEG_NAMES_MAX */
};

static void strays(struct reseg *r);

static void
count_moved(struct reseg *r, const char *seg)
{
	for (size_t i = 0; i < r->nmoved; i++)
		if (strcmp(r->moved[i].seg, seg) == 0) {
			r->moved[i].n++;
			return;
		}
	if (r->nmoved == RESEG_NAMES_MAX ||
	    (r->moved[r->nmoved].seg = strdup(seg)) == NULL) {
		r->others++;
		return;
	}
	r->moved[r->nmoved++].n = 1;
}

static void
clear_moved(struct reseg *r)
{
	for (size_t i = 0; i < r->nmoved; i++)
		free(r->moved[i].seg);
	r->nmoved = 0;
	r->others = 0;
}

/* The run is over: say what moved, let the drain assign it. */
static void
finish(struct reseg *r)
{
	bool any = r->others > 0;

	for (size_t i = 0; i < r->nmoved; i++) {
		log_info("backlog of removed segment '%s': %lld leads re-segmented",
		    r->moved[i].seg, r->moved[i].n);
		any = true;
	}
	if (r->others > 0)
		log_info("backlogs of more removed segments: %lld leads re-segmented",
		    r->others);
	clear_moved(r);
	r->running = false;
	if (any)
		task_kick(r->d->drain);
	if (r->again) {
		r->again = false;
		reseg_start(r);
	}
}

/* The run failed: try again later, from the start. */
static void
fail(struct reseg *r, const redisReply *reply, const char *what)
{
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("backlogs of removed segments: %s: %s", what,
		    reply->str);
	clear_moved(r);
	r->running = false;
	r->again = false;
	if (!r->stopped) {
		struct timeval tv = {RESEG_RETRY_MS / 1000,
		    (RESEG_RETRY_MS % 1000) * 1000};

		evtimer_add(r->retry, &tv);
	}
}

/* The segment lead (the JSON as pushed, len bytes) belongs to now. */
static const char *
segment_now(const struct lr_config *cfg, const char *lead, size_t len)
{
	struct lead_error err;
	json_t *obj = lead_load_object(lead, len, &err);
	size_t i = cfg->segments.default_idx;

	if (obj != NULL) {
		i = segment_of(&cfg->segments, obj);
		json_decref(obj);
	}
	return cfg->segments.v[i].name;
}

static void
move_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct reseg *r = arg;
	size_t n = (size_t)(r->args.argc - WIRE_SCRIPT_ARGS - WIRE_MOVE_ITEMS) /
	    WIRE_MOVE_ITEM_FIELDS;

	(void)conn;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != n) {
		fail(r, reply, "move");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (reply->element[i]->type == REDIS_REPLY_INTEGER &&
		    reply->element[i]->integer == 1)
			count_moved(r, r->args.argv[WIRE_SCRIPT_ARGS +
			    WIRE_MOVE_ITEMS + i * WIRE_MOVE_ITEM_FIELDS +
			    WIRE_MOVE_ITEM_FROM]);
	if (r->stopped)
		return;
	if (r->done)
		finish(r);
	else
		strays(r);
}

/* Send the leads of a strays reply to their segments. */
static int
move(struct reseg *r, const redisReply *reply)
{
	const struct lr_config *cfg = r->d->cfg;
	size_t n = (reply->elements - WIRE_STRAYS_REPLY_ITEMS) /
	    WIRE_STRAY_FIELDS;

	_Static_assert(WIRE_MOVE_ROUTING == 0 && WIRE_MOVE_ITEMS == 1,
	    "move's arguments moved");
	_Static_assert(WIRE_MOVE_ITEM_FROM == 0 && WIRE_MOVE_ITEM_ID == 1 &&
	    WIRE_MOVE_ITEM_TO == 2, "move's items moved");
	rds_argv_clear(&r->args);
	if (rds_argv_call(&r->args, WIRE_OP_MOVE, cfg->redis.prefix) == -1 ||
	    rds_argv_adds(&r->args, r->d->routing) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		redisReply *const *e = &reply->element[WIRE_STRAYS_REPLY_ITEMS +
		    WIRE_STRAY_FIELDS * i];
		const redisReply *seg = e[WIRE_STRAY_SEGMENT];
		const redisReply *id = e[WIRE_STRAY_ID];
		const redisReply *lead = e[WIRE_STRAY_LEAD];

		if (seg->type != REDIS_REPLY_STRING ||
		    id->type != REDIS_REPLY_STRING ||
		    lead->type != REDIS_REPLY_STRING)
			return -1;
		if (rds_argv_add(&r->args, seg->str, seg->len) == -1 ||
		    rds_argv_add(&r->args, id->str, id->len) == -1 ||
		    rds_argv_adds(&r->args, segment_now(cfg, lead->str,
		    lead->len)) == -1)
			return -1;
	}
	return rds_script(r->to.conn, r->to.script, r->to.key, &r->args,
	    move_cb, r);
}

static void
strays_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct reseg *r = arg;
	const redisReply *cur;

	(void)conn;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < WIRE_STRAYS_REPLY_ITEMS ||
	    (reply->elements - WIRE_STRAYS_REPLY_ITEMS) % WIRE_STRAY_FIELDS ||
	    (cur = reply->element[WIRE_STRAYS_REPLY_CURSOR])->type !=
	    REDIS_REPLY_STRING || cur->len >= sizeof(r->cursor) ||
	    reply->element[WIRE_STRAYS_REPLY_DONE]->type !=
	    REDIS_REPLY_INTEGER) {
		fail(r, reply, "strays");
		return;
	}
	if (r->stopped)
		return;
	memcpy(r->cursor, cur->str, cur->len + 1);
	r->done = reply->element[WIRE_STRAYS_REPLY_DONE]->integer == 1;
	if (reply->elements > WIRE_STRAYS_REPLY_ITEMS) {
		if (move(r, reply) == -1)
			fail(r, NULL, "move");
	} else if (r->done)
		finish(r);
	else
		strays(r);
}

/* Ask for the next leads of removed segments' backlogs. */
static void
strays(struct reseg *r)
{
	_Static_assert(WIRE_STRAYS_ROUTING == 0 && WIRE_STRAYS_CURSOR == 1 &&
	    WIRE_STRAYS_SCAN == 2 && WIRE_STRAYS_MAX == 3 &&
	    WIRE_STRAYS_BYTES == 4, "strays' arguments moved");
	rds_argv_clear(&r->args);
	if (!instance_registered(r->d->inst) ||
	    rds_argv_call(&r->args, WIRE_OP_STRAYS,
	    r->d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(&r->args, r->d->routing) == -1 ||
	    rds_argv_adds(&r->args, r->cursor) == -1 ||
	    rds_argv_addll(&r->args, RESEG_SCAN) == -1 ||
	    rds_argv_addll(&r->args, RESEG_BATCH) == -1 ||
	    rds_argv_addll(&r->args, RESEG_BATCH_BYTES) == -1 ||
	    rds_script(r->to.conn, r->to.script, r->to.key, &r->args,
	    strays_cb, r) == -1)
		fail(r, NULL, "strays");
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reseg_start(arg);
}

struct reseg *
reseg_new(struct lrd *d, const struct rds_target *to)
{
	struct reseg *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->d = d;
	r->to = *to;
	rds_argv_init(&r->args);
	if ((r->retry = evtimer_new(d->base, retry_cb, r)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
reseg_start(struct reseg *r)
{
	if (r->stopped)
		return;
	if (r->running) {
		r->again = true;
		return;
	}
	evtimer_del(r->retry);
	r->running = true;
	r->done = false;
	strcpy(r->cursor, "0");
	strays(r);
}

void
reseg_stop(struct reseg *r)
{
	r->stopped = true;
	evtimer_del(r->retry);
}

void
reseg_free(struct reseg *r)
{
	if (r == NULL)
		return;
	event_free(r->retry);
	rds_argv_clear(&r->args);
	clear_moved(r);
	free(r);
}
