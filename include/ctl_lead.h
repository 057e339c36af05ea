/*
 * ctl_lead.h - leadctl lead: one lead's record, its score receipt and its
 * history, read from Redis (README "leadctl: for reps and ops"). It only reads.
 */
#ifndef LR_CTL_LEAD_H
#define LR_CTL_LEAD_H

#include "ctl_common.h"

/* Alerts of the log scanned for one lead's history (newest first). */
#define CTL_LEAD_ALERT_SCAN 10000

/*
 * The lead record, its score receipt and its history: received, assigned,
 * followed up, rejected, closed (from the record's timestamps) and the
 * lead's alerts among the newest CTL_LEAD_ALERT_SCAN of the log, oldest
 * first. With ctl->json, one object {"record","receipt","history"}.
 * Connects itself; returns CTL_OK, or CTL_ERR (an unknown id is
 * "no lead 'ID'").
 */
int ctl_lead(struct ctl *ctl, const char *id);

#endif
