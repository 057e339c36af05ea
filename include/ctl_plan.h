/*
 * ctl_plan.h - leadctl plan: per segment, the deals a revenue target needs
 * and, working back through the funnel's conversion rates, the contracts,
 * proposals, opportunities, SQLs and MQLs; then MQLs a week against what
 * the segment's reps can take, and how many reps the plan needs.
 */
#ifndef LR_CTL_PLAN_H
#define LR_CTL_PLAN_H

#include <stdbool.h>

#include "ctl_common.h"

/*
 * Print the plan of ctl->cfg (or of plan_file, a file with only a plan
 * section). With actual, also the conversions observed in lr:stats and the
 * MQLs the target needs at those rates. Returns a CTL_* exit status.
 */
int ctl_plan(struct ctl *ctl, const char *plan_file, bool actual);

#endif
