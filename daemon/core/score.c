/* score.c - apply the compiled scoring rules to a lead, saturating. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "score.h"

static long long
clamp_ll(long long v, long long lo, long long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * a + b without overflow. The running total is kept exact (each term is
 * within SCORE_LIMIT, so long long has room for billions of rules) and
 * clamped once at the end: the score does not depend on rule order.
 */
static long long
sat_add(long long a, long long b)
{
	long long r;

	if (__builtin_add_overflow(a, b, &r))
		r = b > 0 ? LLONG_MAX : LLONG_MIN;
	return r;
}

/* points x value, toward zero, capped; any double in, no UB out. */
static long long
per_points(const struct score_rule *r, double value)
{
	double p = trunc((double)r->points * value);
	double lim = (double)SCORE_LIMIT;

	if (isnan(p))
		return 0;
	if (r->has_cap && p > (double)r->cap)
		p = (double)r->cap;
	if (r->has_cap && p < -(double)r->cap)
		p = -(double)r->cap;
	if (p > lim)
		p = lim;
	if (p < -lim)
		p = -lim;
	return (long long)p;
}

long long
score_rule_points(const struct score_rule *r, const json_t *lead,
    bool *matched)
{
	const json_t *v;
	double d;

	*matched = false;
	if (r->cond.op == MATCH_PER) {
		if ((v = match_lookup(&r->cond, lead)) == NULL ||
		    !match_number(v, &d))
			return 0;
		*matched = true;
		return per_points(r, d);
	}
	if (!match_eval(&r->cond, lead))
		return 0;
	*matched = true;
	return clamp_ll(r->points, -SCORE_LIMIT, SCORE_LIMIT);
}

long long
score_lead(const struct scoring *s, const json_t *lead,
    struct score_hit *hits, size_t *nhits)
{
	long long total = 0, pts;
	size_t n = 0;
	bool matched;

	for (size_t i = 0; i < s->nrules; i++) {
		pts = score_rule_points(&s->rules[i], lead, &matched);
		if (!matched)
			continue;
		total = sat_add(total, pts);
		if (hits != NULL) {
			hits[n].rule = i;
			hits[n].points = pts;
		}
		n++;
	}
	if (nhits != NULL)
		*nhits = n;
	return clamp_ll(total, -SCORE_LIMIT, SCORE_LIMIT);
}

bool
score_is_mql(const struct scoring *s, long long score)
{
	return score >= s->mql_threshold;
}

void
score_clear(struct scoring *s)
{
	for (size_t i = 0; i < s->nrules; i++)
		match_cond_clear(&s->rules[i].cond);
	free(s->rules);
	s->rules = NULL;
	s->nrules = 0;
}
