/* forecast.c - run the capacity forecast every forecast.interval seconds and log the alerts it fires. */
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "daemon.h"
#include "forecast.h"
#include "log.h"

struct forecast {
	struct lrd *d;
	struct event *timer;
	struct rds_argv args;	/* of the call in the air */
	bool pending;
	bool stopped;
};

static void
arm(struct forecast *f)
{
	struct timeval tv = {(time_t)f->d->cfg->forecast.interval, 0};

	if (!f->stopped)
		evtimer_add(f->timer, &tv);
}

static void
done_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct forecast *f = arg;

	(void)conn;
	f->pending = false;
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_STRING)
				log_warnx("%s", reply->element[i]->str);
	} else if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
		log_warnx("capacity forecast: %s", reply->str);
}

static void
run(struct forecast *f)
{
	struct lrd *d = f->d;

	if (f->pending || f->stopped || !d->registered || !rds_up(d->cmd))
		return;
	rds_argv_clear(&f->args);
	if (rds_argv_adds(&f->args, "forecast") == -1 ||
	    rds_argv_adds(&f->args, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(&f->args, d->routing) == -1 ||
	    rds_argv_addll(&f->args, d->cfg->forecast.horizon * 1000) == -1 ||
	    rds_argv_addll(&f->args, d->cfg->forecast.half_life * 1000) == -1 ||
	    rds_script(d->cmd, &d->script, d->key, &f->args, done_cb, f) == -1)
		return;
	f->pending = true;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forecast *f = arg;

	(void)fd;
	(void)what;
	run(f);
	arm(f);
}

struct forecast *
forecast_new(struct lrd *d)
{
	struct forecast *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->d = d;
	if ((f->timer = evtimer_new(d->base, timer_cb, f)) == NULL) {
		free(f);
		return NULL;
	}
	arm(f);
	return f;
}

void
forecast_kick(struct forecast *f)
{
	evtimer_del(f->timer);
	run(f);
	arm(f);
}

void
forecast_stop(struct forecast *f)
{
	f->stopped = true;
	evtimer_del(f->timer);
}

void
forecast_free(struct forecast *f)
{
	if (f == NULL)
		return;
	event_free(f->timer);
	rds_argv_clear(&f->args);
	free(f);
}
