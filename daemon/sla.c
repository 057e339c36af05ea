/* sla.c - one timer for the nearest follow-up deadline; fire due alerts in bounded batches. */
#include <stdlib.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "daemon.h"
#include "decide.h"
#include "log.h"
#include "sla.h"

struct sla {
	struct lrd *d;
	struct event *timer;
	struct rds_argv args;	/* of the call in the air */
	bool pending;
	bool stopped;
};

static void
arm(struct sla *s, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (!s->stopped)
		evtimer_add(s->timer, &tv);
}

static void
fire_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct sla *s = arg;
	long long fired, next, now, more;

	(void)conn;
	s->pending = false;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 5) {
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
			log_warnx("sla timers: %s", reply->str);
		arm(s, DECIDE_SLA_MAX_SLEEP_MS);
		return;
	}
	fired = reply->element[0]->integer;
	next = reply->element[1]->integer;
	now = reply->element[2]->integer;
	more = reply->element[3]->integer;
	for (size_t i = 0; i < reply->element[4]->elements; i++)
		log_warnx("%s", reply->element[4]->element[i]->str);
	if (fired > (long long)reply->element[4]->elements)
		log_warnx("sla alerts: %lld more in this batch (see lr:alerts:log)",
		    fired - (long long)reply->element[4]->elements);
	/* A timer fires at or after its time; never before (Redis's clock
	 * decides), so a 1 ms margin keeps it from waking just too early. */
	arm(s, decide_sla_sleep_ms(next, now, more != 0) + (more ? 0 : 1));
}

static void
fire(struct sla *s)
{
	struct lrd *d = s->d;

	if (s->pending || s->stopped)
		return;
	if (!d->registered || !rds_up(d->cmd)) {
		arm(s, DECIDE_SLA_MAX_SLEEP_MS);
		return;
	}
	rds_argv_clear(&s->args);
	if (rds_argv_adds(&s->args, "sla") == -1 ||
	    rds_argv_adds(&s->args, d->cfg->redis.prefix) == -1 ||
	    rds_argv_adds(&s->args, d->routing) == -1 ||
	    rds_argv_addll(&s->args, SLA_BATCH) == -1 ||
	    rds_script(d->cmd, &d->script, d->key, &s->args, fire_cb, s) == -1) {
		arm(s, DECIDE_SLA_MAX_SLEEP_MS);
		return;
	}
	s->pending = true;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fire(arg);
}

struct sla *
sla_new(struct lrd *d)
{
	struct sla *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->d = d;
	if ((s->timer = evtimer_new(d->base, timer_cb, s)) == NULL) {
		free(s);
		return NULL;
	}
	arm(s, DECIDE_SLA_MAX_SLEEP_MS);
	return s;
}

void
sla_kick(struct sla *s)
{
	evtimer_del(s->timer);
	fire(s);
}

void
sla_stop(struct sla *s)
{
	s->stopped = true;
	evtimer_del(s->timer);
}

void
sla_free(struct sla *s)
{
	if (s == NULL)
		return;
	event_free(s->timer);
	rds_argv_clear(&s->args);
	free(s);
}
