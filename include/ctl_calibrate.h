/*
 * ctl_calibrate.h - leadctl calibrate: per segment and overall, the
 * precision of the MQL threshold in force (accepted / decided MQLs, from
 * rep rejections and closes) and the lowest threshold that would have kept
 * rejections at or under a rate, with the accepted MQLs it would have cost.
 * It suggests; the configuration is never changed.
 */
#ifndef LR_CTL_CALIBRATE_H
#define LR_CTL_CALIBRATE_H

#include "ctl_common.h"

/*
 * since_days 0: all time; else the last since_days days (UTC, Redis's
 * clock). max_reject_rate in [0, 1] and min_outcomes >= 1, from the
 * calibrate section of the configuration unless given on the command line.
 */
int ctl_calibrate(struct ctl *ctl, long long since_days,
    double max_reject_rate, long long min_outcomes);

#endif
