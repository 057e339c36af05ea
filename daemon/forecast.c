/* forecast.c - run the capacity forecast every forecast.interval seconds and log the alerts it fires. */
#include <hiredis/hiredis.h>

#include "config.h"
#include "daemon.h"
#include "forecast.h"
#include "instance.h"
#include "log.h"
#include "task.h"
#include "wire.h"

static long
forecast_period(void *arg)
{
	const struct lrd *d = arg;

	return (long)d->cfg->forecast.interval * 1000;
}

static int
forecast_build(struct task *t, struct rds_argv *a, void *arg)
{
	struct lrd *d = arg;

	(void)t;
	_Static_assert(WIRE_FORECAST_ROUTING == 0 &&
	    WIRE_FORECAST_HORIZON_MS == 1 && WIRE_FORECAST_HALF_LIFE_MS == 2,
	    "forecast's arguments moved");
	if (!instance_registered(d->inst) ||
	    rds_argv_call(a, WIRE_OP_FORECAST, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(a, d->routing) == -1 ||
	    rds_argv_addll(a, d->cfg->forecast.horizon * 1000) == -1 ||
	    rds_argv_addll(a, d->cfg->forecast.half_life * 1000) == -1)
		return -1;
	return 0;
}

static void
forecast_done(struct task *t, const redisReply *reply, void *arg)
{
	(void)t;
	(void)arg;
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_STRING)
				log_warnx("%s", reply->element[i]->str);
	} else if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("capacity forecast: %s", reply->str);
}

const struct task_def forecast_task = {
	.beat = TASK_AFTER,
	.period = forecast_period,
	.build = forecast_build,
	.done = forecast_done,
};
