/*
 * reseg.h - leads stranded in the backlog of a segment the configuration
 * no longer has (renamed or removed): found, re-segmented with the
 * current rules, and moved to their new segment's backlog, where the drain
 * assigns them.
 *
 * A run is a chain of script calls, one in the air at a time: strays
 * (a bounded SCAN of the backlog keys, with at most RESEG_BATCH leads and
 * about RESEG_BATCH_BYTES of their JSON per reply), then, in C, the
 * segment of each lead (segment.h, on the lead as pushed; the default
 * segment when it cannot be read), then move, until the scan is over.
 * Each call carries the routing of the configuration in force when it is
 * built. At the end one line per removed segment says how many leads were
 * re-segmented, and the drain is kicked. A run that fails (Redis lost, an
 * error) starts again after RESEG_RETRY_MS. Start one after registration
 * and after each reload: a start during a run makes the run start over
 * once done.
 */
#ifndef LR_RESEG_H
#define LR_RESEG_H

#include "rds.h"

#define RESEG_SCAN 100			/* keys a strays call looks at */
#define RESEG_BATCH 100			/* leads a strays call returns */
#define RESEG_BATCH_BYTES (1L << 20)	/* ...and the bytes of their JSON */
#define RESEG_RETRY_MS 1000
#define RESEG_NAMES_MAX 64		/* removed segments counted by name */

struct lrd;
struct reseg;

/* A re-segmenter whose calls go to 'to' (copied; what it points to must
 * outlive it), reading the configuration and routing of d. NULL on ENOMEM. */
struct reseg *reseg_new(struct lrd *d, const struct rds_target *to);
/* Start a run, or have the current one start over when it ends. */
void reseg_start(struct reseg *r);
/* No more calls; a call in the air still gets its reply. */
void reseg_stop(struct reseg *r);
/* Free it. NULL is fine. A call in the air must have been answered (or its
 * connection freed) first. */
void reseg_free(struct reseg *r);

#endif
