/*
 * sources.h - lead-source assessment: per-source counters (as the scripts
 * keep them in src:all and src:DAY hashes, fields "SOURCE|what") turned
 * into rates, a ranking, and the flag "consider sunsetting" for sources
 * high in volume but low on every quality measure. Pure: no I/O.
 */
#ifndef LR_SOURCES_H
#define LR_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

/* The follow-up histogram's buckets: as decide_hists' "followup", + Inf. */
#define SOURCES_MAX_FU 32

struct source_stats {
	char name[65];
	long long received, mql, assigned, followed_up, in_sla, rejected;
	long long won, lost;
	long long fu[SOURCES_MAX_FU];	/* follow-up time histogram */
	/* derived by sources_assess; < 0 when there is nothing to divide */
	double mql_rate, acceptance, sla_met, win_rate;
	double median_fu_s;		/* upper bound of the median's bucket */
	bool sunset;
};

struct sources {
	struct source_stats *v;
	size_t n, cap;
	/* v's names by hash, open addressing: index + 1, 0 for a free slot */
	size_t *idx;
	size_t nidx;		/* slots, a power of two; 0 until the first add */
};

/*
 * Add count to the field "SOURCE|what" of a counters hash, in constant
 * time on average (a hash of the names), so a whole hash is merged in
 * linear time. Unknown fields are ignored. 0, or -1 on ENOMEM.
 */
int sources_add(struct sources *s, const char *field, long long count);

/*
 * Derive the rates and the median follow-up (bounds_ms: the follow-up
 * histogram's bounds, n of them), rank by volume (received, then name),
 * and flag sunsetting: at least min_volume leads, volume at or above the
 * median source's, and each measure that can be computed below the median
 * of that measure across sources.
 */
void sources_assess(struct sources *s, const long long *bounds_ms, size_t n,
    long long min_volume);

void sources_clear(struct sources *s);

#endif
