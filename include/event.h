/*
 * event.h - validate the feedback events reps and the CRM push onto
 * lr:events (README "Feedback: events"). Pure: no I/O.
 *
 * Whether the lead or rep exists, or holds the lead, is Redis's state and
 * is decided by the commit script; here only the shape is checked. Every
 * shape problem is reason bad_event, with a detail saying which.
 */
#ifndef LR_EVENT_H
#define LR_EVENT_H

#include <stddef.h>

#include "config.h"
#include "lead.h"

enum event_type {
	EVENT_FOLLOWED_UP,
	EVENT_REJECTED,
	EVENT_CLOSED,
	EVENT_REP_STATUS,
};

#define EVENT_ARG_MAX 1024	/* a longer rejection reason is cut here */
#define EVENT_OUTCOME_MAX 64

struct event_msg {
	enum event_type type;
	char lead_id[LEAD_ID_MAX + 1];	/* "" for rep_status */
	char rep[CFG_REP_ID_MAX + 1];
	char arg[EVENT_ARG_MAX + 1];	/* reason, outcome or status */
};

/*
 * Parse len bytes (at most max_bytes). Returns 0 with *ev filled in, or -1
 * with err->reason = DL_BAD_EVENT and a detail.
 */
int event_parse(const char *buf, size_t len, size_t max_bytes,
    struct event_msg *ev, struct lead_error *err);

/* The contract's name of a type ("followed_up"). */
const char *event_type_name(enum event_type t);

#endif
