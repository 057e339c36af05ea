/* drain.c - every second, hand leads waiting in the backlogs to reps with room. */
#include <hiredis/hiredis.h>

#include "daemon.h"
#include "drain.h"
#include "instance.h"
#include "log.h"
#include "task.h"
#include "wire.h"

/* What a drain skipped is logged this often at most. */
#define DRAIN_SKIP_LOG_MS 60000
static long long skip_log_ms;

static int
drain_build(struct task *t, struct rds_argv *a, void *arg)
{
	struct lrd *d = arg;

	(void)t;
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
