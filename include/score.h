/*
 * score.h - the lead-scoring model: rules compiled from the config, applied
 * to a parsed lead with no allocation, with a per-rule receipt.
 *
 * Arithmetic saturates: every rule's points and the total stay within
 * [-SCORE_LIMIT, SCORE_LIMIT], whatever the lead's numbers are.
 */
#ifndef LR_SCORE_H
#define LR_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "match.h"

#define SCORE_LIMIT 2147483647LL

struct score_rule {
	struct match_cond cond;
	long long points;	/* per unit for MATCH_PER */
	bool has_cap;		/* MATCH_PER: |result| <= cap */
	long long cap;
	int line;		/* where the rule is in the config */
};

struct scoring {
	long long mql_threshold;
	struct score_rule *rules;
	size_t nrules;
};

/* One matched rule of a lead's score: which rule, how many points. */
struct score_hit {
	size_t rule;
	long long points;
};

/*
 * Score lead. hits must have room for s->nrules entries (or be NULL when
 * no receipt is wanted); the rules that matched are stored there in rule
 * order and their number in *nhits. Returns the total, saturated.
 */
long long score_lead(const struct scoring *s, const json_t *lead,
    struct score_hit *hits, size_t *nhits);

/* The points one rule gives lead (0 when it does not match). */
long long score_rule_points(const struct score_rule *r, const json_t *lead,
    bool *matched);

/* score >= mql_threshold. */
bool score_is_mql(const struct scoring *s, long long score);

/* Free the rules; the struct itself is the caller's. */
void score_clear(struct scoring *s);

#endif
