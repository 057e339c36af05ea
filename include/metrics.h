/*
 * metrics.h - the Prometheus text exposition (format 0.0.4) of /metrics.
 * Pure: it renders what it is given into a buffer, no I/O.
 *
 * Two sources: shared state read from Redis in one script call (fleet-wide
 * counters of lr:stats, backlog sizes, rep load), so that every instance
 * reports the same truth; and this process's own state (its Redis
 * connection, reloads, configuration version).
 */
#ifndef LR_METRICS_H
#define LR_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <hiredis/hiredis.h>

#include "config.h"

/* Shared state as the metrics script returns it (see lr.lua, ops.metrics). */
struct metrics_shared {
	const redisReply *stats;	/* field, value, field, value... */
	const redisReply *backlog;	/* per segment, in config order */
	const redisReply *reps;		/* open, period, available per rep */
	long long incoming, events, dead, sla_pending, instances;
	const redisReply *sources;	/* "SOURCE|what", value pairs */
	const redisReply *forecast;	/* "SEGMENT|what", value pairs */
};

/* This process. */
struct metrics_local {
	bool redis_up;
	bool registered;
	unsigned long long reconnects;
	unsigned long long reloads_ok, reloads_failed;
	const char *version;		/* the daemon's */
};

/*
 * Check the metrics script's reply against cfg and point *out into it
 * (valid as long as reply). 0, or -1 when its shape is not as expected.
 */
int metrics_parse(const redisReply *reply, const struct lr_config *cfg,
    struct metrics_shared *out);

/*
 * Render every metric family into buf. shared may be NULL (Redis is
 * unreachable): then only this process's metrics are written. 0 or -1.
 */
int metrics_render(struct evbuffer *buf, const struct lr_config *cfg,
    const struct metrics_shared *shared, const struct metrics_local *local);

#endif
