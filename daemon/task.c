/* task.c - a script call on a timer, at most one in the air: the heartbeat, the SLA, the forecast and the backlog drain. */
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "rds.h"
#include "task.h"

struct task {
	const struct task_def *def;
	void *arg;
	struct rds_target to;
	struct event *timer;
	struct rds_argv args;	/* of the call in the air */
	bool pending;		/* a call is in the air */
	bool stopped;
};

static void
reply_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct task *t = arg;

	(void)conn;
	t->pending = false;
	t->def->done(t, reply, t->arg);
}

static void
run(struct task *t)
{
	if (t->pending || t->stopped)
		return;
	rds_argv_clear(&t->args);
	if (!rds_up(t->to.conn) || t->def->build(t, &t->args, t->arg) == -1 ||
	    rds_script(t->to.conn, t->to.script, t->to.key, &t->args, reply_cb,
	    t) == -1) {
		t->def->done(t, NULL, t->arg);
		return;
	}
	t->pending = true;
}

static long
period(const struct task *t)
{
	return t->def->period_ms > 0 ? t->def->period_ms :
	    t->def->period(t->arg);
}

void
task_arm(struct task *t, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (!t->stopped)
		evtimer_add(t->timer, &tv);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct task *t = arg;

	(void)fd;
	(void)what;
	run(t);
	if (t->def->beat == TASK_AFTER)
		task_arm(t, period(t));
	if (t->def->tick != NULL)
		t->def->tick(t->arg);
}

struct task *
task_new(struct event_base *base, const struct rds_target *to,
    const struct task_def *def, void *arg)
{
	struct task *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->def = def;
	t->arg = arg;
	t->to = *to;
	rds_argv_init(&t->args);
	t->timer = event_new(base, -1, def->beat == TASK_EVERY ? EV_PERSIST : 0,
	    timer_cb, t);
	if (t->timer == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
task_start(struct task *t)
{
	task_arm(t, period(t));
}

void
task_kick(struct task *t)
{
	if (t->def->beat != TASK_EVERY)
		evtimer_del(t->timer);
	run(t);
	if (t->def->beat == TASK_AFTER)
		task_arm(t, period(t));
}

void
task_stop(struct task *t)
{
	t->stopped = true;
	evtimer_del(t->timer);
}

void
task_free(struct task *t)
{
	if (t == NULL)
		return;
	event_free(t->timer);
	rds_argv_clear(&t->args);
	free(t);
}
