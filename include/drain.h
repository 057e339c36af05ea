/*
 * drain.h - the backlog drain, as a task (task.h) whose arg is the struct
 * lrd (daemon.h): every DRAIN_MS, while the instance is registered, one
 * script call hands MQLs waiting in the segments' backlogs to reps that
 * have room again (a lead closed, a rep came back, a period rolled over).
 * Kick it after a reload: new reps or higher limits take waiting leads.
 */
#ifndef LR_DRAIN_H
#define LR_DRAIN_H

#include "task.h"

#define DRAIN_MS 1000

extern const struct task_def drain_task;

#endif
