/*
 * instance.h - this process's membership in the fleet: its instance id,
 * the lease a heartbeat registers and renews, fencing, and the release at
 * stop.
 *
 * The heartbeat is a task (task.h) on a connection of its own (the 'to'
 * instance_new gets; nothing else waits on it, such as a commit's WAIT
 * for replica acknowledgements, which blocks its connection): every
 * INSTANCE_HEARTBEAT_MS it renews a lease of INSTANCE_LEASE_MS, or
 * registers while the instance holds none; each beat also tells systemd's
 * watchdog that the loop is alive. An instance is fenced when the fleet
 * presumed it dead (its lease ran out and its work was requeued) or when
 * its own work was refused or failed; when the command or the lease
 * connection is lost, what its calls in the air did is unknown. Either way it becomes a new
 * instance: a new id and generation, not registered, and registers again,
 * so that what the old one held is requeued exactly once (when the lease
 * runs out; at once with instance_give_back, when a call of its own
 * failed for good).
 *
 * The owner hears what happened through the callback it gives, as rds_new
 * takes a state callback: INSTANCE_REGISTERED when the lease is granted
 * (work may be claimed), INSTANCE_CHANGED when this is a new instance
 * (forget the old one's claims in the air), INSTANCE_RELEASED once after
 * instance_release (whatever came of it).
 */
#ifndef LR_INSTANCE_H
#define LR_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "rds.h"

/* Lease of an instance; the heartbeat renews it several times per lease. */
#define INSTANCE_LEASE_MS 5000
#define INSTANCE_HEARTBEAT_MS 1000

struct instance;

enum instance_event {
	INSTANCE_REGISTERED,
	INSTANCE_CHANGED,
	INSTANCE_RELEASED,
};

typedef void instance_cb(struct instance *in, enum instance_event ev,
    void *arg);

/*
 * A new instance whose script calls go to 'to' (copied; what it points to
 * must outlive the instance), with the key prefix (copied). NULL on
 * ENOMEM. Nothing is sent until the connection comes up.
 */
struct instance *instance_new(struct event_base *base,
    const struct rds_target *to, const char *prefix, instance_cb *cb,
    void *arg);
/* Start the heartbeat's timer. */
void instance_start(struct instance *in);
/*
 * The command or the lease connection came up (renew or register; the
 * owner loads the script on the connection that came up) or was lost
 * (become a new instance, unless stopping).
 */
void instance_conn(struct instance *in, bool up);
/* The instance must re-register, pause_ms from now at the earliest; why
 * is logged. */
void instance_fence(struct instance *in, const char *why, long pause_ms);
/*
 * A call of the instance's own failed or was refused for good: it gives
 * its work back at once, sent on on (the connection its calls went on,
 * so the release runs after them, and before the next instance's first
 * claim), at the front of the queues in order, a redelivery counted only
 * against the payload of seq blame (its call failed alone; NULL: none),
 * and leaves the fleet. Left to its lease, the work would come back
 * seconds later, behind what the next instance routed meanwhile (a later
 * lead with the same id accepted in place of the one pushed first);
 * without on up, the lease it is. Then instance_fence with a lease's
 * pause, as the work would have come back: a payload that keeps failing
 * goes round five times in some 25 s before it is poison, not in a
 * moment, and a cause an operator clears meanwhile (a key of another
 * type) lets it through.
 */
void instance_give_back(struct instance *in, const struct rds_target *on,
    const char *why, const char *blame);
/* Is a release of instance_give_back still in the air (a stop waits)? */
bool instance_giving_back(const struct instance *in);
/*
 * Stopping: the instance stays what it is, and its heartbeat renews the
 * lease (registers no more) until instance_release stops it.
 */
void instance_stop(struct instance *in);
/*
 * Hand the instance's unfinished work back to the fleet. 0, then
 * INSTANCE_RELEASED comes once; -1 (Redis down, not registered, ENOMEM)
 * and nothing comes.
 */
int instance_release(struct instance *in);
/* NULL is fine. A call in the air must have been answered first. */
void instance_free(struct instance *in);

/* The id in the fleet; it changes when the instance becomes a new one. */
const char *instance_id(const struct instance *in);
/*
 * Holds a lease and may claim work: registered, and the last answered
 * renewal was sent less than INSTANCE_LEASE_MS ago (monotonic clock).
 * Once that passes nothing is claimed until a renewal is answered; Redis
 * refuses it (FENCED: a new instance) when the fleet reaped us meanwhile.
 */
bool instance_registered(const struct instance *in);
/* Bumped each time the instance becomes a new one. */
unsigned int instance_generation(const struct instance *in);
/*
 * Routes (Redis up, script loaded, lease held)? When not, why (as
 * "redis unreachable: connection refused") in why, len bytes.
 */
bool instance_ready(const struct instance *in, char *why, size_t len);

#endif
