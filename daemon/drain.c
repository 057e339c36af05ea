/* drain.c - every second, hand leads waiting in the backlogs to reps with room. */
#include <hiredis/hiredis.h>

#include "daemon.h"
#include "drain.h"
#include "instance.h"
#include "log.h"
#include "task.h"
#include "wire.h"

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
	(void)t;
	(void)arg;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER &&
	    reply->integer > 0)
		log_info("backlog drained: assigned=%lld", reply->integer);
	else if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("backlog drain failed: %s", reply->str);
}

const struct task_def drain_task = {
	.beat = TASK_EVERY,
	.period_ms = DRAIN_MS,
	.build = drain_build,
	.done = drain_done,
};
