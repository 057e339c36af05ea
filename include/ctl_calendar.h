/*
 * ctl_calendar.h - leadctl calendar: is a business-hours calendar open at
 * an instant, when does it next open or close, and when have N seconds of
 * open time passed ("when is this lead due?"), by the arithmetic of
 * calendar.h that the daemon uses. Needs no daemon; Redis only for "now".
 */
#ifndef LR_CTL_CALENDAR_H
#define LR_CTL_CALENDAR_H

#include <stdbool.h>

#include "calendar.h"
#include "ctl_common.h"

/*
 * Parse TIME: RFC 3339 ("2027-03-26T16:58:00Z", "...:00.250+01:00") or
 * epoch ms (digits). 0 with *ms, or -1 when it is neither.
 */
int ctl_parse_instant(const char *s, long long *ms);

/* The most --add takes: what the arithmetic looks ahead. */
#define CTL_CAL_ADD_MAX ((long long)CAL_HORIZON_DAYS * 86400)

/*
 * Print calendar name's state at *at (NULL: now, from Redis TIME when
 * Redis answers, else the local clock; the text says which) and, when add
 * >= 0, the instant add seconds of open time later. Returns CTL_OK, or
 * CTL_ERR when there is no such calendar.
 */
int ctl_calendar(struct ctl *ctl, const char *name, const long long *at,
    long long add);

#endif
