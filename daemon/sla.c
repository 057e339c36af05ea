/* sla.c - one timer for the nearest follow-up deadline; fire due alerts in bounded batches. */
#include <hiredis/hiredis.h>

#include "daemon.h"
#include "decide.h"
#include "instance.h"
#include "log.h"
#include "sla.h"
#include "task.h"

static int
sla_build(struct task *t, struct rds_argv *a, void *arg)
{
	struct lrd *d = arg;

	(void)t;
	if (!instance_registered(d->inst) ||
	    rds_argv_adds(a, "sla") == -1 ||
	    rds_argv_adds(a, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(a, d->routing) == -1 ||
	    rds_argv_addll(a, SLA_BATCH) == -1)
		return -1;
	return 0;
}

static void
sla_done(struct task *t, const redisReply *reply, void *arg)
{
	struct lrd *d = arg;
	long long fired, next, now, more;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 5) {
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
			log_warnx("sla timers: %s", reply->str);
		task_arm(t, DECIDE_SLA_MAX_SLEEP_MS);
		return;
	}
	fired = reply->element[0]->integer;
	next = reply->element[1]->integer;
	now = reply->element[2]->integer;
	more = reply->element[3]->integer;
	for (size_t i = 0; i < reply->element[4]->elements; i++)
		log_warnx("%s", reply->element[4]->element[i]->str);
	if (fired > (long long)reply->element[4]->elements)
		log_warnx("sla alerts: %lld more in this batch (see %salerts:log)",
		    fired - (long long)reply->element[4]->elements,
		    d->cfg->redis.prefix);
	/* A timer fires at or after its time; never before (Redis's clock
	 * decides), so a 1 ms margin keeps it from waking just too early. */
	task_arm(t, decide_sla_sleep_ms(next, now, more != 0) + (more ? 0 : 1));
}

const struct task_def sla_task = {
	.beat = TASK_REPLY,
	.period_ms = DECIDE_SLA_MAX_SLEEP_MS,
	.build = sla_build,
	.done = sla_done,
};
