/*
 * ctl_inbox.h - leadctl inbox: a rep's open leads (README "leadctl: for
 * reps and ops"), so that a rep without a CRM integration can work from
 * the command line. It only reads.
 */
#ifndef LR_CTL_INBOX_H
#define LR_CTL_INBOX_H

#include "ctl_common.h"

/*
 * The leads of <prefix>rep:<rep>:open with their records: score, segment,
 * assignment time, follow-up due time and the time left on the SLA
 * (negative: overdue) on Redis's clock; leads whose SLA still runs first,
 * oldest due first, then the followed-up ones. With ctl->json one array
 * of {"lead_id","status","score","segment","assigned_at_ms",
 * "follow_up_due_ms","left_ms"} (left_ms null once followed up).
 * Connects itself; returns CTL_OK, or CTL_ERR ("unknown rep 'REP'" for a
 * rep the configuration does not name).
 */
int ctl_inbox(struct ctl *ctl, const char *rep);

#endif
