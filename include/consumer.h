/*
 * consumer.h - a consumer of one source list ("incoming" or "events").
 *
 * It claims batches into the instance's in-flight hash, decides each
 * payload (decide.h, event.h), commits the batch with one script call, and
 * when the list is empty waits to be woken by a change of it (client-side
 * tracking on a connection of its own; no payload comes with a wake, so
 * what reaches the daemon is bounded by the claims' bytes). It
 * claims only while the instance (instance.h) is registered, and drops the
 * replies of calls made as an earlier instance. When the instance must
 * re-register (a claim refused as fenced, a commit that failed or kept
 * being refused, a commit it cannot build), the consumer says so through
 * the callback it was given; the owner fences the instance.
 */
#ifndef LR_CONSUMER_H
#define LR_CONSUMER_H

#include <stdbool.h>

/* Payloads claimed per script call; claims, and claims plus commits, in
 * the air. */
#define CONSUMER_BATCH 256
#define CONSUMER_MAX_CLAIMS 2
#define CONSUMER_MAX_IN_FLIGHT 4
/* Bytes too: a claim stops adding payloads once it holds this many (it
 * takes one at least), and no claim starts while the claims and commits in
 * the air hold CONSUMER_IN_FLIGHT_BYTES (unless none is in the air), so
 * that large payloads do not multiply the daemon's memory. */
#define CONSUMER_BATCH_BYTES (1L << 20)
#define CONSUMER_IN_FLIGHT_BYTES (4L << 20)
/* An idle consumer claims this often even without a wake (what tracking
 * cannot see: a wake lost with a connection). */
#define CONSUMER_POLL_MS 2000
/* Pause before a failed claim or refused commit goes again; also the poll
 * when Redis refuses client-side tracking (CLIENT ID, CLIENT TRACKING, or
 * a SUBSCRIBE that lost the connection this many times in a row). */
#define CONSUMER_SUBSCRIBE_TRIES 3
#define CONSUMER_RETRY_MS 250
/* Sends of a commit refused before its first write (OOM, BUSY, LOADING)
 * before the instance gives its work back: a minute of retries. */
#define CONSUMER_COMMIT_TRIES 240

struct lrd;
struct consumer;

/*
 * The instance must re-register; why is for the log. held: it still holds
 * its work (its own call failed or was refused for good; not when the
 * fleet took the work back), which it should give back; blame: the seq of
 * the payload whose call failed alone (it counts a redelivery), or NULL.
 */
typedef void consumer_fenced_cb(struct consumer *c, const char *why,
    bool held, const char *blame, void *arg);

/*
 * A consumer of src for the daemon d (daemon.h), which must outlive it.
 * Its wake connection starts connecting now. NULL on ENOMEM.
 */
struct consumer *consumer_new(struct lrd *d, const char *src,
    consumer_fenced_cb *fenced, void *arg);
/* New work may wait (after registration, a retry, a poll): claim now, or
 * when the claim in the air has answered (then as the pipeline allows). */
void consumer_kick(struct consumer *c);
/* The instance changed or Redis was lost: forget claims in the air. */
void consumer_reset(struct consumer *c);
/* No claim or commit in the air (nor a commit waiting to go again). */
bool consumer_idle(const struct consumer *c);
/* Stop claiming and close the wake connection; commits go on. */
void consumer_stop(struct consumer *c);
/* NULL is fine. */
void consumer_free(struct consumer *c);
/* Size the scorer's scratch space for the current rules; 0 or -1 (ENOMEM). */
int consumer_fit(struct consumer *c);
/* Reconnections of the consumer's wake connection. */
unsigned long consumer_reconnects(const struct consumer *c);

#endif
