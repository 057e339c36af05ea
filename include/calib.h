/*
 * calib.h - threshold calibration: from the outcomes of MQLs by segment and
 * score, the precision of the current MQL threshold and the lowest
 * threshold that would have kept rejections at or under a given rate,
 * which is the one that would have kept the most accepted MQLs. It
 * suggests; it never changes the configuration. Pure: no I/O.
 *
 * The scripts count outcomes in calib:all and calib:DAY hashes, fields
 * "SEGMENT|SCORE|what" with what one of
 *   a   accepted: the lead's first follow-up, or a close (other than
 *       "disqualified") of a lead never followed up;
 *   r   rejected: a rejected event, or a close as "disqualified";
 *   ra  of r, the leads counted in a before (followed up, then rejected);
 *   w   closed won;   l   closed lost,
 * and rejection reasons in calib:reasons, fields "SEGMENT|reason". A
 * score's accepted leads are a - ra (never below 0), its rejected ones r.
 *
 * For a threshold t, the decided MQLs are the accepted and rejected ones
 * with score >= t, and the rejection rate is rejected / decided. Raising
 * the threshold can only lose accepted MQLs, so the best threshold is the
 * lowest one whose rejection rate is at or under the limit with at least
 * min_outcomes decided. Only scores with outcomes are evidence: leads
 * below the threshold in force never reached a rep, so lowering is
 * suggested only where earlier, lower thresholds left outcomes.
 */
#ifndef LR_CALIB_H
#define LR_CALIB_H

#include <stdbool.h>
#include <stddef.h>

/* Reasons a report shows per segment (calib_assess keeps and sorts all). */
#define CALIB_TOP_REASONS 5

struct calib_bucket {
	long long score;
	long long a, r, ra, w, l;	/* as counted; see above */
};

struct calib_reason {
	char text[129];
	long long n;
};

enum calib_verdict {
	CALIB_NO_DATA,		/* fewer than min_outcomes decided at any threshold */
	CALIB_KEEP,		/* the current threshold is the best one */
	CALIB_RAISE,		/* a higher threshold is needed to meet the limit */
	CALIB_LOWER,		/* outcomes below it show a lower one meets it */
	CALIB_UNREACHABLE	/* no threshold with enough outcomes meets it */
};

struct calib_segment {
	char name[65];
	struct calib_bucket *v;		/* ascending by score after assess;
					 * later calib_add calls append */
	size_t n, cap;
	struct calib_reason *reasons;	/* all of them; sorted after assess */
	size_t nreasons, reasons_cap;

	/* Derived by calib_assess. At the current threshold: */
	long long accepted, rejected, won, lost;
	double precision;		/* accepted / decided; -1 if none */
	double win_rate;		/* won / (won + lost); -1 if none */
	/* At the suggested threshold (equal to the above for KEEP): */
	enum calib_verdict verdict;
	long long suggested;		/* the threshold; current when no data */
	long long s_accepted, s_rejected;
	double s_reject_rate;		/* -1 when nothing is decided */
};

struct calib {
	struct calib_segment *v;	/* in order of first appearance */
	size_t n, cap;
	struct calib_segment all;	/* every segment together, "all" */
};

/*
 * Add count to the field "SEGMENT|SCORE|what" of an outcome hash. Fields
 * that do not parse, or with an unknown what, are ignored (0). -1 on
 * ENOMEM.
 */
int calib_add(struct calib *c, const char *field, long long count);

/* Add count to the reason field "SEGMENT|reason". As calib_add. */
int calib_add_reason(struct calib *c, const char *field, long long count);

/*
 * Derive, for each segment and for "all" (the buckets of every segment
 * merged by score, the reasons merged by text; rebuilt on every call, and
 * left empty, so no_data, if memory runs out while building it),
 * everything above for the threshold in force, a limit on the rejection
 * rate in [0, 1] and the least number of decided MQLs a threshold needs to
 * be judged (>= 1). The suggested threshold is a score with outcomes, or
 * the current threshold when every score from the lowest feasible one up
 * to it gives the same decided set. Reasons are sorted by count, then text.
 */
void calib_assess(struct calib *c, long long threshold, double max_reject_rate,
    long long min_outcomes);

/* "no_data", "keep", "raise", "lower", "unreachable". */
const char *calib_verdict_name(enum calib_verdict v);

void calib_clear(struct calib *c);

#endif
