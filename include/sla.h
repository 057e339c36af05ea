/*
 * sla.h - the follow-up SLA's timer loop, as a task (task.h) whose arg is
 * the struct lrd (daemon.h). The deadlines live in Redis (written by the
 * script that makes each assignment); the task arms its timer for the
 * nearest of them, fires what is due in bounded batches with one script
 * call each, and re-arms from what Redis says is next: every
 * DECIDE_SLA_MAX_SLEEP_MS at most, 1 ms after the next deadline, at once
 * after a full batch. Redis's clock decides what is due, so a daemon whose
 * clock is off never fires early; the timer itself runs on the monotonic
 * clock. It fires only while the instance is registered; kick it after
 * registration (what fell due while no one ran).
 */
#ifndef LR_SLA_H
#define LR_SLA_H

#include "task.h"

/* Alerts fired per script call: a burst never stalls intake for long. */
#define SLA_BATCH 500

extern const struct task_def sla_task;

#endif
