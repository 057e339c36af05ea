/*
 * forecast.h - the capacity forecast, as a task (task.h) whose arg is the
 * struct lrd (daemon.h). Every forecast.interval seconds (read at each
 * arm, so a reload changes it) it asks the scripts to update each
 * segment's MQL arrival rate (an exponentially weighted moving average
 * kept in Redis, so every instance adds to one estimate), weigh it against
 * the room the segment's reps have left, and fire a capacity_forecast
 * alert once per episode when leads are expected to start waiting within
 * forecast.horizon; the alerts are logged. The figures stay in Redis for
 * /metrics and leadctl status. It runs only while the instance is
 * registered; kick it after registration and reloads.
 */
#ifndef LR_FORECAST_H
#define LR_FORECAST_H

#include "task.h"

extern const struct task_def forecast_task;

#endif
