/*
 * task.h - a script call on a timer, at most one in the air (as Redis runs
 * its periodic jobs from serverCron with run_with_period).
 *
 * A task owns one libevent timer and the arguments of its call. A run
 * (the timer firing, or task_kick) asks the owner for the arguments and
 * sends the script call, unless the task is stopped or its call is still
 * in the air: then the run is skipped, not queued. The arguments stay
 * alive until the reply. When the timer is armed depends on the beat:
 *
 *   TASK_EVERY  every period ms from task_start, on a steady beat
 *               (EV_PERSIST); a kick runs once now and keeps the beat.
 *   TASK_AFTER  period ms after each run, the period asked at each arm;
 *               a kick runs now and counts the period from there.
 *   TASK_REPLY  period ms after task_start, then only when the owner
 *               arms it (task_arm, from done, with a delay it computed
 *               from the reply); a kick cancels the armed time and runs.
 */
#ifndef LR_TASK_H
#define LR_TASK_H

#include <hiredis/hiredis.h>
#include <event2/event.h>

#include "rds.h"

struct task;

enum task_beat {
	TASK_EVERY,
	TASK_AFTER,
	TASK_REPLY,
};

/* What a task does; the callbacks get the arg given to task_new. */
struct task_def {
	enum task_beat beat;
	/* The period in ms; 0: ask period(arg) (at each arm for TASK_AFTER). */
	long period_ms;
	long (*period)(void *arg);
	/* Fill args (empty) for the call; 0 to send it, -1 to skip the run. */
	int (*build)(struct task *t, struct rds_argv *args, void *arg);
	/*
	 * Once per run that was not skipped for being stopped or busy: with
	 * the reply, or with NULL when the call was not made (the connection
	 * is down, build said no, sending failed) or its connection was lost.
	 * The reply is valid only inside.
	 */
	void (*done)(struct task *t, const redisReply *reply, void *arg);
	/* NULL, or called at every firing of the timer, after the run. */
	void (*tick)(void *arg);
};

/*
 * A task whose calls go to 'to' (copied; what it points to must outlive
 * the task); def must outlive it too. NULL on ENOMEM. Its timer is not
 * armed until task_start.
 */
struct task *task_new(struct event_base *base, const struct rds_target *to,
    const struct task_def *def, void *arg);
/* Arm the timer for the first time (see the beats above). */
void task_start(struct task *t);
/* Run now (see the beats above for what happens to the timer). */
void task_kick(struct task *t);
/* Run after ms, instead of when the timer was armed for (TASK_REPLY). */
void task_arm(struct task *t, long ms);
/* No more runs: the timer stops, kicks and arms are ignored. A call in the
 * air still gets its done. */
void task_stop(struct task *t);
/* Free the task. NULL is fine. A call in the air must have been answered
 * (or its connection freed) first. */
void task_free(struct task *t);

#endif
