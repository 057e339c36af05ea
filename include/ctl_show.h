/*
 * ctl_show.h - leadctl's reading commands: the router's status, one
 * lead's record and history, and the SLA alert log. They only read Redis.
 *
 * Each connects itself and returns the process exit status (CTL_OK or
 * CTL_ERR). With ctl->json set, output is JSON: one object for status and
 * lead, one alert per line for alerts.
 */
#ifndef LR_CTL_SHOW_H
#define LR_CTL_SHOW_H

#include <stdbool.h>

#include "ctl_common.h"

/* Alerts of the log scanned for one lead's history (newest first). */
#define CTL_LEAD_ALERT_SCAN 10000
/* How long one XREAD of alerts --follow blocks (ms). */
#define CTL_FOLLOW_BLOCK_MS 500

/*
 * Per segment, its reps (status, open/max_open, assignments within
 * capacity.period/max_per_period) and its backlog; then the incoming,
 * events, dead-letter and nurture list lengths, the pending SLA timers
 * with the next due time, and the live instances.
 */
int ctl_status(struct ctl *ctl);

/*
 * The lead record, its score receipt and its history (the record's
 * timestamps and the lead's alerts in the log). An unknown id is CTL_ERR
 * with "no lead 'ID'".
 */
int ctl_lead(struct ctl *ctl, const char *id);

/*
 * The last count alerts of the log, oldest first; with follow, then the
 * new ones as they come, until SIGINT or SIGTERM (CTL_OK).
 */
int ctl_alerts(struct ctl *ctl, long long count, bool follow);

#endif
