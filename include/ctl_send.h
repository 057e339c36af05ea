/*
 * ctl_send.h - leadctl's writing commands: push leads onto the intake
 * queue, and send feedback events (README "Input: leads" and "Feedback: events").
 *
 * Both connect to Redis themselves, after checking their input, so that a
 * bad argument is reported as such even when Redis is down. They return
 * the process exit status (CTL_OK, CTL_ERR, CTL_USAGE).
 */
#ifndef LR_CTL_SEND_H
#define LR_CTL_SEND_H

#include <stdbool.h>

#include "ctl_common.h"
#include "event.h"

/* How long --wait polls for the daemon to apply an event (s, and ms). */
#define CTL_WAIT_S 5
#define CTL_WAIT_MS (CTL_WAIT_S * 1000)

/*
 * Push the JSON lines of path (NULL or "-": stdin) onto <prefix>incoming
 * in file order, pipelined. Each line is validated as the daemon would
 * (lead_parse with intake.max_bytes); a bad line is reported to stderr as
 * "line N: REASON: DETAIL" and not pushed; blank lines are skipped.
 * CTL_OK when every line was pushed, CTL_ERR when a line was rejected or
 * anything failed.
 */
int ctl_push(struct ctl *ctl, const char *path);

/* One event as given on the command line. */
struct ctl_event {
	enum event_type type;
	const char *lead_id;	/* NULL for EVENT_REP_STATUS */
	const char *rep;
	const char *arg;	/* reason, outcome or status; NULL for followed_up */
	bool wait;		/* poll until the daemon applied or refused it */
};

/*
 * Build the event's JSON, check it as the daemon will (a shape the daemon
 * would refuse is CTL_USAGE), LPUSH it onto <prefix>events and print it.
 * With ev->wait, poll the lead record or rep hash for at most CTL_WAIT_MS
 * until the change shows (CTL_OK), or until a dead letter holding this
 * event appears (its reason is printed; CTL_ERR); a timeout is CTL_ERR.
 */
int ctl_send_event(struct ctl *ctl, const struct ctl_event *ev);

#endif
