/*
 * ctl_sources.h - leadctl sources: lead sources ranked by volume, with
 * their MQL rate, acceptance (not rejected by reps), SLA-met rate, win rate
 * and median time to follow-up, flagging those high in volume but low on
 * every quality measure.
 */
#ifndef LR_CTL_SOURCES_H
#define LR_CTL_SOURCES_H

#include "ctl_common.h"

/* Sources below this volume are never flagged: too few leads to judge. */
#define CTL_SUNSET_MIN_VOLUME 20

/* since_days 0: all time; else the last since_days days (UTC, Redis's clock). */
int ctl_sources(struct ctl *ctl, long long since_days);

#endif
