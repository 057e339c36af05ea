/*
 * daemon.h - the running daemon's shared state: one struct lrd per
 * process, filled by main.c, read by the modules it wires together.
 *
 * The Redis command connection belongs to the rds module, fleet
 * membership to the instance module (instance.h), the consumers to
 * consumer.h, the periodic script calls to tasks (task.h: the SLA, the
 * forecast, the backlog drain), /healthz and /metrics to http.h and
 * metrics.h, the HTTP intake for forms to intake_http.h. What this state holds is what they share: the configuration
 * (swapped whole on reload), the script and its key, the in-flight ids
 * and the counters. All of it runs on one libevent loop.
 */
#ifndef LR_DAEMON_H
#define LR_DAEMON_H

#include <stdbool.h>

#include <event2/event.h>

#include "config.h"
#include "rds.h"

/* At stop: how often to look whether the work in the air is done, and
 * how long to wait for it before releasing the instance anyway. */
#define LRD_STOP_POLL_MS 50
#define LRD_STOP_GRACE_MS 10000
/* Allocations of this many bytes or more are mmapped (glibc), so that
 * they go back to the system when freed. */
#define LRD_MMAP_THRESHOLD (128 * 1024)

struct consumer;
struct instance;
struct task;
struct reseg;
struct metrics;
struct http;
struct intake_http;
struct api;
struct webhook;

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
	/* redis.replica_acks: commits whose WAIT fell short, the replicas
	 * the last WAIT counted (-1: none yet), and whether the last fell
	 * short (logged once per change). */
	unsigned long long replica_ack_short;
	long long replica_acks_last;
	bool replica_ack_is_short;
};

struct lrd {
	struct event_base *base;
	struct lr_config *cfg;
	char *routing;			/* decide_routing_json(cfg) */
	char *conf_path;
	bool debug;			/* -d: debug logs whatever log.level says */

	struct rds_opts ropts;
	struct sentinel_set sentinels;	/* ropts.sentinels; n = 0: none */
	struct rds_watch *watch;	/* the sentinels' +switch-master */
	struct rds_conn *cmd;		/* scripts and plain commands */
	struct rds_conn *lease;		/* the heartbeat's own: a commit's WAIT
					 * (replica_acks) never holds it up */
	struct rds_conn *whc;		/* the webhook sender's own: its WAITs
					 * never hold up commits or heartbeats */
	bool whc_started;		/* once some endpoint is configured */
	struct rds_conn *acks;		/* the commits' WAITs (replica_acks),
					 * each after an INCR of its own: the
					 * command connection never blocks */
	bool acks_started;		/* once replica_acks is set */
	struct rds_script script;	/* the script (scripts.h) */
	char *key;			/* KEYS[1] of every script call */

	struct instance *inst;		/* our membership in the fleet */
	unsigned long long next_seq;	/* in-flight ids, never reused */

	struct consumer *leads;
	struct consumer *events;
	struct task *sla;		/* sla.h */
	struct task *forecast;		/* forecast.h */
	struct task *drain;		/* drain.h */
	struct reseg *reseg;		/* reseg.h */
	struct metrics *metrics;
	struct http *http;		/* NULL when http.listen is "" */
	struct intake_http *intake;	/* NULL when intake.http.listen is "" */
	struct api *api;		/* api.h; NULL when http.listen is "" */
	struct webhook *wh;		/* webhook.h */
	bool stopping;

	struct lrd_stats stats;
};

#endif
