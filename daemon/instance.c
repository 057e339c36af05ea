/* instance.c - this process in the fleet: its id, the heartbeat that holds its lease, fencing and release. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "instance.h"
#include "keys.h"
#include "log.h"
#include "notify.h"
#include "rds.h"
#include "task.h"
#include "wire.h"

struct instance {
	struct rds_target to;
	char *prefix;
	instance_cb *cb;
	void *arg;

	char id[128];
	bool registered;
	bool stopping;
	unsigned int generation;	/* bumped with each new instance */
	struct task *heartbeat;
	unsigned int hb_generation;	/* of the heartbeat in the air */
	long long hb_sent_ms;		/* when it was sent (monotonic) */
	long long lease_until_ms;	/* the lease held ends (monotonic) */
	bool hb_failing;		/* the last heartbeat failed (logged) */
	bool lease_lost;		/* ran out unrenewed; not routing since */
	long long register_after_ms;	/* a fenced one waits (monotonic) */
	struct rds_argv release_args;	/* of the release in the air */
	int giving_back;		/* instance_give_back's in the air */
};

/* A release of an instance we were, sent by instance_give_back. */
struct give_back {
	struct instance *in;
	struct rds_argv args;
	char id[128];
};

/* Holds a lease that has not run out by this process's clock. */
static bool
lease_held(const struct instance *in)
{
	return in->registered && rds_mono_ms() < in->lease_until_ms;
}

static void
new_id(struct instance *in)
{
	char host[64];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == ':' || *p == ' ')
			*p = '-';
	snprintf(in->id, sizeof(in->id), "%s-%ld-%u-%08lx", host,
	    (long)getpid(), in->generation, (unsigned long)random());
}

/*
 * Become a new instance and tell the owner. Commands of the old one may
 * still run on the server: its lease runs out and what it held is
 * requeued exactly once. why, when not NULL, is logged.
 */
static void
become_new(struct instance *in, const char *why)
{
	char old[sizeof(in->id)];

	snprintf(old, sizeof(old), "%s", in->id);
	in->registered = false;
	in->lease_lost = false;
	in->generation++;
	new_id(in);
	if (why != NULL)
		log_warnx("instance '%s' stops: %s; continuing as '%s'", old,
		    why, in->id);
	in->cb(in, INSTANCE_CHANGED, in->arg);
}

/* --- the heartbeat ------------------------------------------------- */

/* Renew the lease, or register while we hold none. */
static int
heartbeat_build(struct task *t, struct rds_argv *a, void *arg)
{
	struct instance *in = arg;

	(void)t;
	if (in->stopping && !in->registered)
		return -1;	/* renew until the release; register no more */
	if (!in->registered && rds_mono_ms() < in->register_after_ms)
		return -1;	/* a later beat registers */
	_Static_assert(WIRE_HEARTBEAT_INSTANCE == 0 &&
	    WIRE_HEARTBEAT_TTL_MS == 1 && WIRE_HEARTBEAT_MODE == 2,
	    "heartbeat's arguments moved");
	if (rds_argv_call(a, WIRE_OP_HEARTBEAT, in->prefix) == -1 ||
	    rds_argv_adds(a, in->id) == -1 ||
	    rds_argv_addll(a, INSTANCE_LEASE_MS) == -1 ||
	    rds_argv_adds(a, in->registered ? WIRE_MODE_RENEW :
	    WIRE_MODE_REGISTER) == -1)
		return -1;
	in->hb_generation = in->generation;
	in->hb_sent_ms = rds_mono_ms();
	return 0;
}

static void
heartbeat_done(struct task *t, const redisReply *reply, void *arg)
{
	struct instance *in = arg;

	if (reply == NULL || in->stopping)
		return;
	if (in->hb_generation != in->generation) {
		task_kick(t);	/* it renewed the instance we were */
		return;
	}
	if (reply->type == REDIS_REPLY_STATUS || reply->type ==
	    REDIS_REPLY_STRING) {
		if (strcmp(reply->str, WIRE_RES_FENCED) == 0) {
			instance_fence(in,
			    "its lease ran out and its work was requeued", 0);
			return;
		}
		/* Redis counts the lease from when it ran the call, which is
		 * after we sent it: from the sending, we never overrate it. */
		in->lease_until_ms = in->hb_sent_ms + INSTANCE_LEASE_MS;
		if (in->hb_failing)
			log_info("heartbeat of instance '%s' works again", in->id);
		in->hb_failing = false;
		if (in->registered && in->lease_lost) {
			/* Not reaped meanwhile: our work is still ours. */
			in->lease_lost = false;
			log_info("instance '%s' renewed its lease; routing again",
			    in->id);
			in->cb(in, INSTANCE_REGISTERED, in->arg);
			return;
		}
		if (in->registered)
			return;
		in->registered = true;
		in->lease_lost = false;
		log_info("instance '%s' registered; routing leads from '%s"
		    KEY_INCOMING "'",
		    in->id, in->prefix);
		notify_send("STATUS=routing leads");
		in->cb(in, INSTANCE_REGISTERED, in->arg);
		return;
	}
	/* Once per state change: the lease tells when it matters. */
	if (!in->hb_failing)
		log_warnx("heartbeat of instance '%s' failed: %s; retrying",
		    in->id, reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
	in->hb_failing = true;
}

/*
 * The loop is alive; Redis being down is not a reason to restart. A lease
 * that ran out without a renewal reply (Redis too slow, or refusing the
 * renewal) is not held any more: the fleet may requeue our work at any
 * moment, so nothing is claimed until a renewal is answered. Redis is the
 * judge: the renewal succeeds when no one reaped us, and is refused
 * (FENCED: become a new instance) when someone did.
 */
static void
heartbeat_tick(void *arg)
{
	struct instance *in = arg;

	if (in->registered && !in->stopping && !in->lease_lost &&
	    !lease_held(in)) {
		in->lease_lost = true;
		log_warnx("instance '%s': its lease ran out without a renewal; "
		    "not routing until it is renewed", in->id);
	}
	if (notify_watchdog_ms() > 0)
		notify_send("WATCHDOG=1");
}

static const struct task_def heartbeat_task = {
	.beat = TASK_EVERY,
	.period_ms = INSTANCE_HEARTBEAT_MS,
	.build = heartbeat_build,
	.done = heartbeat_done,
	.tick = heartbeat_tick,
};

/* --- life cycle ---------------------------------------------------- */

struct instance *
instance_new(struct event_base *base, const struct rds_target *to,
    const char *prefix, instance_cb *cb, void *arg)
{
	struct instance *in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->to = *to;
	in->cb = cb;
	in->arg = arg;
	rds_argv_init(&in->release_args);
	if ((in->prefix = strdup(prefix)) == NULL ||
	    (in->heartbeat = task_new(base, to, &heartbeat_task, in)) == NULL) {
		instance_free(in);
		return NULL;
	}
	new_id(in);
	return in;
}

void
instance_start(struct instance *in)
{
	task_start(in->heartbeat);
}

void
instance_conn(struct instance *in, bool up)
{
	if (up) {
		task_kick(in->heartbeat);
		return;
	}
	if (!in->stopping)
		become_new(in, NULL);
	notify_send("STATUS=waiting for redis");
}

void
instance_fence(struct instance *in, const char *why, long pause_ms)
{
	become_new(in, why);
	in->register_after_ms = rds_mono_ms() + pause_ms;
	if (!in->stopping)
		task_kick(in->heartbeat);
}

/* The heartbeat goes on renewing until the release is sent: the work in
 * the air may take the whole grace period (a commit's WAIT with replicas
 * missing), and a lease that ran out meanwhile would let the fleet take
 * it back and route it again. */
void
instance_stop(struct instance *in)
{
	in->stopping = true;
}

/* RELEASE of this instance into a; blame: NULL, or the seq of the
 * payload that counts a redelivery. 0, or -1 out of memory. */
static int
release_build(const struct instance *in, struct rds_argv *a,
    const char *blame)
{
	_Static_assert(WIRE_RELEASE_INSTANCE == 0 && WIRE_RELEASE_BLAME == 1,
	    "release's arguments moved");
	rds_argv_clear(a);
	if (rds_argv_call(a, WIRE_OP_RELEASE, in->prefix) == -1 ||
	    rds_argv_adds(a, in->id) == -1 ||
	    rds_argv_adds(a, blame != NULL ? blame : "") == -1)
		return -1;
	return 0;
}

static void
give_back_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct give_back *g = arg;

	(void)conn;
	g->in->giving_back--;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		log_info("instance '%s' gave back %lld unfinished payloads",
		    g->id, reply->integer);
	else if (reply != NULL)
		log_warnx("instance '%s' could not give back its work: %s; it is requeued when its lease runs out",
		    g->id, reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
	rds_argv_clear(&g->args);
	free(g);
}

void
instance_give_back(struct instance *in, const struct rds_target *on,
    const char *why, const char *blame)
{
	struct give_back *g;

	if (rds_up(on->conn) && (g = calloc(1, sizeof(*g))) != NULL) {
		g->in = in;
		snprintf(g->id, sizeof(g->id), "%s", in->id);
		rds_argv_init(&g->args);
		if (release_build(in, &g->args, blame) == -1 ||
		    rds_script(on->conn, on->script, on->key, &g->args,
		    give_back_cb, g) == -1) {
			rds_argv_clear(&g->args);
			free(g);
		} else
			in->giving_back++;
	}
	instance_fence(in, why, INSTANCE_LEASE_MS);
}

bool
instance_giving_back(const struct instance *in)
{
	return in->giving_back > 0;
}

static void
release_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct instance *in = arg;

	(void)conn;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
		log_info("instance '%s' released; %lld unfinished payloads requeued",
		    in->id, reply->integer);
	in->cb(in, INSTANCE_RELEASED, in->arg);
}

int
instance_release(struct instance *in)
{
	struct rds_argv *a = &in->release_args;

	task_stop(in->heartbeat);	/* a renewal sent after would be FENCED */
	if (!rds_up(in->to.conn) || !in->registered ||
	    release_build(in, a, NULL) == -1)
		return -1;
	return rds_script(in->to.conn, in->to.script, in->to.key, a,
	    release_cb, in);
}

void
instance_free(struct instance *in)
{
	if (in == NULL)
		return;
	task_free(in->heartbeat);
	rds_argv_clear(&in->release_args);
	free(in->prefix);
	free(in);
}

/* --- what others read ---------------------------------------------- */

const char *
instance_id(const struct instance *in)
{
	return in->id;
}

bool
instance_registered(const struct instance *in)
{
	return lease_held(in);
}

unsigned int
instance_generation(const struct instance *in)
{
	return in->generation;
}

bool
instance_ready(const struct instance *in, char *why, size_t len)
{
	const char *err = rds_last_error(in->to.conn);

	if (!rds_up(in->to.conn))
		snprintf(why, len, "redis unreachable: %s",
		    err[0] ? err : "connecting");
	else if (in->to.script->sha[0] == '\0')
		snprintf(why, len, "scripts not loaded");
	else if (in->registered && !lease_held(in))
		snprintf(why, len, "instance lease expired");
	else if (!in->registered)
		snprintf(why, len, "instance not registered");
	else
		return true;
	return false;
}
