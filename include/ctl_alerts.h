/*
 * ctl_alerts.h - leadctl alerts: the last entries of the alert log
 * (<prefix>alerts:log, README "The follow-up SLA: alerts for ops") and
 * then, on request, the new ones as they come. It only reads.
 */
#ifndef LR_CTL_ALERTS_H
#define LR_CTL_ALERTS_H

#include <stdbool.h>

#include "ctl_common.h"

/* How long one XREAD of alerts --follow blocks (ms). */
#define CTL_FOLLOW_BLOCK_MS 500

/*
 * The last count alerts of the log, oldest first, one line each (with
 * ctl->json, one JSON object a line); with follow, then the new ones as
 * they come, until SIGINT or SIGTERM. Connects itself; returns CTL_OK, or
 * CTL_ERR when Redis fails.
 */
int ctl_alerts(struct ctl *ctl, long long count, bool follow);

#endif
