/*
 * metrics.h - the Prometheus text exposition (format 0.0.4) of /metrics,
 * and the scrape that gathers it.
 *
 * Two sources: shared state read from Redis in one script call (fleet-wide
 * counters of lr:stats, backlog sizes, rep load), so that every instance
 * reports the same truth; and this process's own state (its Redis
 * connection, reloads, configuration version). metrics_parse and
 * metrics_render are pure: they render what they are given into a buffer,
 * no I/O. metrics_scrape makes the script call and renders its reply.
 */
#ifndef LR_METRICS_H
#define LR_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <hiredis/hiredis.h>

#include "config.h"
#include "intake_req.h"
#include "rds.h"
#include "wire.h"

/* The metrics script's reply is laid out as wire.h's METRICS_REPLY, each
 * rep in it as METRICS_REP. */

/* Shared state as the metrics script returns it. */
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
	long long now_ms;		/* leadrouted_rep_on_shift's clock
					 * (epoch ms); 0: the scrape's now */
	bool intake_http;		/* the HTTP intake listens */
	/* its answers, by intake_statuses[] index */
	unsigned long long intake_http_requests[INTAKE_NSTATUS];
	/* redis.replica_acks (rendered when it is set) */
	unsigned long long replica_ack_short;
	long long replica_acks_last;	/* -1: no WAIT yet */
	/* More families of this process (webhook.h); NULL: none. */
	void (*render_more)(struct evbuffer *b, void *arg);
	void *more_arg;
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

/* What a scrape reads of the daemon, asked afresh each time it needs it. */
struct metrics_view {
	const struct lr_config *cfg;	/* the configuration now */
	const char *routing;		/* decide_routing_json(cfg) */
	struct metrics_local local;
};

typedef void metrics_view_cb(struct metrics_view *v, void *arg);

/*
 * Takes a rendered exposition: body, or NULL when no buffer could be
 * had. Returns false when no one wanted it any more (the client left).
 */
typedef bool metrics_done_cb(struct evbuffer *body, void *ctx);

struct metrics;

/*
 * A scraper whose script calls go to 'to' (copied; what it points to must
 * outlive it) and that reads the daemon through view(v, arg). NULL on
 * ENOMEM.
 */
struct metrics *metrics_new(const struct rds_target *to,
    metrics_view_cb *view, void *arg);
/*
 * Read the shared state (the "metrics" script call) and render it with
 * this process's, or this process's alone when Redis cannot answer; call
 * done(body, ctx) exactly once with it, now or when the reply comes. The
 * body is valid only inside done. A script error in the reply is logged,
 * unless no one wanted the body any more.
 */
void metrics_scrape(struct metrics *m, metrics_done_cb *done, void *ctx);
/* NULL is fine. A scrape in the air must have been answered first. */
void metrics_free(struct metrics *m);

#endif
