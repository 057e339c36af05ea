/*
 * forecast.h - the capacity forecast's timer. Every forecast.interval
 * seconds it asks the scripts to update each segment's MQL arrival rate
 * (an exponentially weighted moving average kept in Redis, so every
 * instance adds to one estimate), weigh it against the room the segment's
 * reps have left, and fire a capacity_forecast alert once per episode when
 * leads are expected to start waiting within forecast.horizon. The
 * figures stay in Redis for /metrics and leadctl status.
 */
#ifndef LR_FORECAST_H
#define LR_FORECAST_H

struct lrd;
struct forecast;

struct forecast *forecast_new(struct lrd *d);
/* Forecast now and re-arm (after registration and reloads). */
void forecast_kick(struct forecast *f);
void forecast_stop(struct forecast *f);
void forecast_free(struct forecast *f);

#endif
