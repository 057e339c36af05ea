/* sla.c - one timer for the nearest follow-up deadline; fire due alerts in bounded batches. */
#include <hiredis/hiredis.h>

#include "daemon.h"
#include "decide.h"
#include "instance.h"
#include "log.h"
#include "sla.h"
#include "task.h"
#include "keys.h"
#include "wire.h"

static int
sla_build(struct task *t, struct rds_argv *a, void *arg)
{
	struct lrd *d = arg;

	(void)t;
	_Static_assert(WIRE_SLA_ROUTING == 0 && WIRE_SLA_LIMIT == 1,
	    "sla's arguments moved");
	if (!instance_registered(d->inst) ||
	    rds_argv_call(a, WIRE_OP_SLA, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(a, d->routing) == -1 ||
	    rds_argv_addll(a, SLA_BATCH) == -1)
		return -1;
	return 0;
}

static void
sla_done(struct task *t, const redisReply *reply, void *arg)
{
	struct lrd *d = arg;
	const redisReply *shown;
	long long fired, next, now, more;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != WIRE_SLA_REPLY_FIELDS) {
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
			log_warnx("sla timers: %s", reply->str);
		task_arm(t, DECIDE_SLA_MAX_SLEEP_MS);
		return;
	}
	fired = reply->element[WIRE_SLA_REPLY_FIRED]->integer;
	next = reply->element[WIRE_SLA_REPLY_NEXT]->integer;
	now = reply->element[WIRE_SLA_REPLY_NOW]->integer;
	more = reply->element[WIRE_SLA_REPLY_MORE]->integer;
	shown = reply->element[WIRE_SLA_REPLY_SHOWN];
	for (size_t i = 0; i < shown->elements; i++)
		log_warnx("%s", shown->element[i]->str);
	if (fired > (long long)shown->elements)
		log_warnx("sla alerts: %lld more in this batch (see %s%s)",
		    fired - (long long)shown->elements, d->cfg->redis.prefix,
		    KEY_ALERTS_LOG);
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
