/*
 * ctl_status.h - leadctl status: the router's state at a glance, read
 * from Redis (README "leadctl: for reps and ops"). It only reads.
 */
#ifndef LR_CTL_STATUS_H
#define LR_CTL_STATUS_H

#include "ctl_common.h"

/*
 * Per segment, its backlog, its last capacity forecast (room, MQLs an
 * hour, time until full) and its reps (status, open/max_open, assignments
 * within capacity.period/max_per_period, last assignment); then the
 * incoming, events, dead-letter and nurture list lengths, the pending SLA
 * timers with the next due time, and the live instances. With ctl->json,
 * one JSON object. Connects itself; returns CTL_OK or CTL_ERR.
 */
int ctl_status(struct ctl *ctl);

#endif
