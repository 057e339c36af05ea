/*
 * webhook.h - deliver the webhook outbox (README "Webhooks", contract
 * section 10) from the daemon's libevent loop.
 *
 * The script records every event an endpoint wants, in the call that
 * makes the change (daemon/lua/outbox.lua). This module sends them: per
 * endpoint it leases due deliveries through the script (whclaim, a lease
 * of the endpoint's timeout plus WH_LEASE_MARGIN_MS, so that a killed
 * instance's deliveries come back to any instance; with redis.replica_acks
 * the lease also covers the WAIT held before sending), sends them with
 * libcurl's multi interface driven by the loop (no thread, no blocking
 * call), and reports each outcome back (whdone, whretry, whdead; the
 * successes that end while a whdone is in the air go in the next one
 * together, a script call per batch on a busy endpoint). At most
 * WH_MAX_INFLIGHT deliveries per endpoint are in the air per instance:
 * what waits, waits in Redis, so a slow endpoint grows neither memory nor
 * the routing's latency. Certificates are verified, redirects are not
 * followed, an answer is read up to WH_RESPONSE_MAX bytes. A secret is
 * never logged; a dead delivery is logged once.
 */
#ifndef LR_WEBHOOK_H
#define LR_WEBHOOK_H

#include <stdbool.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "config.h"
#include "rds.h"

/* Deliveries of one endpoint in the air at once, per instance. */
#define WH_MAX_INFLIGHT 8
/* A lease lasts the endpoint's timeout plus this. */
#define WH_LEASE_MARGIN_MS 5000
/* The longest an idle endpoint waits before it looks for due work. */
#define WH_POLL_MAX_MS 250
/* Bytes of an answer read; the rest is not waited for. */
#define WH_RESPONSE_MAX (64 * 1024)

struct webhook;

/*
 * A sender whose script calls go to 'to' (copied; what it points to must
 * outlive it), under key prefix prefix (copied). NULL on ENOMEM. It sends
 * nothing until webhook_configure gives it endpoints and webhook_start.
 */
struct webhook *webhook_new(struct event_base *base,
    const struct rds_target *to, const char *prefix);
/*
 * Load and set libcurl up if cfg has endpoints and it is not yet (a
 * daemon without webhooks never loads it: curlso.h). 0, or -1 when it
 * cannot be loaded or curl_global_init or curl_multi_init fails, with
 * *why (when why is not NULL) saying which; nothing is logged. A reload
 * calls it before it changes anything, so that a failure keeps the old
 * configuration whole.
 */
int webhook_ready(struct webhook *w, const struct lr_config *cfg,
    const char **why);
/*
 * Take cfg's endpoints (copied: cfg may be freed after): new ones start,
 * changed ones take their new settings at their next attempt, removed
 * ones stop claiming (their counters stay). 0, or -1 on ENOMEM or when
 * webhook_ready fails.
 */
int webhook_configure(struct webhook *w, const struct lr_config *cfg);
/* Start looking for due deliveries. */
void webhook_start(struct webhook *w);
/*
 * Stop: no more claims; deliveries in the air are abandoned and given
 * back due at once (whretry; the attempt counts), so that any instance
 * sends them again without waiting for their lease.
 */
void webhook_stop(struct webhook *w);

/* No outcome call (webhook_stop's give-backs included) is in the air:
 * the daemon may close the connection. true for NULL. */
bool webhook_idle(const struct webhook *w);
/* Free; NULL is fine. Its script calls must have been answered first
 * (or their connection freed). */
void webhook_free(struct webhook *w);

/*
 * Render this instance's webhook metric families into b (arg: the
 * struct webhook): leadrouted_webhook_deliveries_total,
 * leadrouted_webhook_pending, leadrouted_webhook_latency_seconds.
 */
void webhook_metrics(struct evbuffer *b, void *arg);

#endif
