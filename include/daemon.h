/*
 * daemon.h - the running daemon's shared state, and the consumers that move
 * leads and events from their Redis lists through the commit script.
 *
 * One struct lrd per process. Its Redis command connection belongs to the
 * rds module; this state only says what the daemon is doing: which
 * instance it is in the fleet, whether it is registered, what it has in
 * flight. All of it runs on one libevent loop.
 */
#ifndef LR_DAEMON_H
#define LR_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "rds.h"

/* Lease of an instance; the heartbeat renews it four times per lease. */
#define LRD_LEASE_MS 5000
#define LRD_HEARTBEAT_MS 1000
/* Payloads claimed per script call, and claims/commits in the air. */
#define LRD_BATCH 256
#define LRD_MAX_IN_FLIGHT 4
/* How long a blocking read waits before it is issued again. */
#define LRD_BLOCK_SECONDS 2

struct lrd;
struct consumer;
struct sla;
struct forecast;
struct http;

/* Counters of this process, for logs and metrics. */
struct lrd_stats {
	unsigned long long leads_claimed;
	unsigned long long leads_committed;
	unsigned long long assigned;
	unsigned long long backlogged;
	unsigned long long nurtured;
	unsigned long long duplicates;
	unsigned long long dead;
	unsigned long long fenced;
	unsigned long long events;
	unsigned long long events_rejected;
	unsigned long long reloads_ok;
	unsigned long long reloads_failed;
};

struct lrd {
	struct event_base *base;
	struct lr_config *cfg;
	char *routing;			/* decide_routing_json(cfg) */
	char *conf_path;
	bool debug;			/* -d: debug logs whatever log.level says */

	struct rds_opts ropts;
	struct rds_conn *cmd;		/* scripts and plain commands */
	struct rds_script script;	/* lr.lua */
	char *key;			/* KEYS[1] of every script call */

	char instance[128];		/* our id in the fleet */
	bool registered;
	unsigned long long next_seq;	/* in-flight ids, never reused */
	unsigned int generation;	/* bumped when we become a new instance */

	struct consumer *leads;
	struct consumer *events;
	struct sla *sla;
	struct forecast *forecast;
	struct http *http;		/* NULL when http.listen is "" */
	struct event *heartbeat_ev;
	struct event *drain_ev;
	bool heartbeat_pending;
	unsigned int hb_generation;	/* of the heartbeat in the air */
	struct rds_argv hb_args;	/* of the heartbeat in the air */
	struct rds_argv stop_args;	/* of the release at stop */
	bool stopping;

	struct lrd_stats stats;
};

/*
 * A consumer of one source list ("incoming" or "events"): claims batches
 * into the instance's in-flight hash, decides each payload, commits the
 * batch with one script call, and waits on a blocking connection of its
 * own when the list is empty.
 */
struct consumer *consumer_new(struct lrd *d, const char *src);
/* Claim as much as the pipeline allows (after registration, on new work). */
void consumer_kick(struct consumer *c);
/* The instance changed or Redis was lost: forget claims in the air. */
void consumer_reset(struct consumer *c);
/* Stop claiming; true once nothing is in the air. */
bool consumer_idle(const struct consumer *c);
void consumer_stop(struct consumer *c);
void consumer_free(struct consumer *c);
/* Size the scorer's scratch space for the current rules; 0 or -1 (ENOMEM). */
int consumer_fit(struct consumer *c);
bool consumer_blocking_up(const struct consumer *c);
/* Reconnections of the consumer's blocking connection. */
unsigned long consumer_reconnects(const struct consumer *c);

/* The key (prefix + name) in buf. */
const char *lrd_key(const struct lrd *d, char *buf, size_t len,
    const char *name);
/* Current wall-clock time in ms (dead letters' at_ms). */
long long lrd_now_ms(void);
/* The instance must re-register: it was presumed dead, or Redis was lost. */
void lrd_fenced(struct lrd *d, const char *why);

#endif
