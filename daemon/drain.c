/* drain.c - every second, hand leads waiting in the backlogs to reps with room. */
#include <stdlib.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "daemon.h"
#include "decide.h"
#include "drain.h"
#include "instance.h"
#include "log.h"
#include "task.h"
#include "wire.h"

/*
 * The calendar windows of the routing table move with the clock: rebuild
 * the table every DECIDE_ROUTING_REFRESH_MS while calendars are used (a
 * reload builds it anew too). The configuration, and with it what the
 * script accepts, stays the same; a call built with the old table still
 * runs (decide_routing_same_config).
 */
static void
refresh_routing(struct lrd *d)
{
	static const struct lr_config *cfg;	/* the table's, when built */
	static long long built_ms;
	struct timespec ts;
	long long now;
	char *r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (cfg != d->cfg) {	/* a reload built it just now */
		cfg = d->cfg;
		built_ms = now;
		return;
	}
	if (!decide_uses_calendars(d->cfg) ||
	    now - built_ms < DECIDE_ROUTING_REFRESH_MS)
		return;
	if ((r = decide_routing_json(d->cfg)) == NULL) {
		log_warnx("cannot rebuild the calendar windows: out of memory");
		return;
	}
	free(d->routing);
	d->routing = r;
	built_ms = now;
	log_debug("calendar windows rebuilt");
}

/* What a drain skipped is logged this often at most. */
#define DRAIN_SKIP_LOG_MS 60000
static long long skip_log_ms;

static int
drain_build(struct task *t, struct rds_argv *a, void *arg)
{
	struct lrd *d = arg;

	(void)t;
	refresh_routing(d);
	_Static_assert(WIRE_DRAIN_ROUTING == 0, "drain's arguments moved");
	if (!instance_registered(d->inst) ||
	    rds_argv_call(a, WIRE_OP_DRAIN, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(a, d->routing) == -1)
		return -1;
	return 0;
}

static void
drain_done(struct task *t, const redisReply *reply, void *arg)
{
	const redisReply *moved, *skipped;

	(void)t;
	(void)arg;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		log_warnx("backlog drain failed: %s", reply->str);
		return;
	}
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != WIRE_DRAIN_REPLY_FIELDS)
		return;
	moved = reply->element[WIRE_DRAIN_REPLY_MOVED];
	skipped = reply->element[WIRE_DRAIN_REPLY_SKIPPED];
	if (moved->type == REDIS_REPLY_INTEGER && moved->integer > 0)
		log_info("backlog drained: assigned=%lld", moved->integer);
	/* A key of another type stays until someone removes it: say so
	 * once a minute, not every second. */
	if (skipped->type == REDIS_REPLY_ARRAY && skipped->elements > 0 &&
	    rds_mono_ms() >= skip_log_ms) {
		skip_log_ms = rds_mono_ms() + DRAIN_SKIP_LOG_MS;
		for (size_t i = 0; i < skipped->elements; i++)
			if (skipped->element[i]->type == REDIS_REPLY_STRING)
				log_warnx("backlog drain skipped %s",
				    skipped->element[i]->str);
	}
}

const struct task_def drain_task = {
	.beat = TASK_EVERY,
	.period_ms = DRAIN_MS,
	.build = drain_build,
	.done = drain_done,
};
