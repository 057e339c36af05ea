/* sources.c - per-source rates, ranking and the sunsetting flag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "sources.h"

/* The slot of name in the index: its own, or the free one it would take. */
static size_t
index_slot(const struct sources *s, const char *name, size_t len)
{
	size_t mask = s->nidx - 1, h = (size_t)fnv1a(name, len) & mask;
	const char *have;

	while (s->idx[h] != 0) {
		have = s->v[s->idx[h] - 1].name;
		if (strlen(have) == len && memcmp(have, name, len) == 0)
			break;
		h = (h + 1) & mask;
	}
	return h;
}

/* Index s->v anew in at least twice as many slots as names (+ 1). */
static int
index_grow(struct sources *s)
{
	size_t n = s->nidx ? s->nidx : 64, *idx;

	while (n < 2 * (s->n + 1))
		n *= 2;
	if ((idx = calloc(n, sizeof(*idx))) == NULL)
		return -1;
	free(s->idx);
	s->idx = idx;
	s->nidx = n;
	for (size_t i = 0; i < s->n; i++)
		s->idx[index_slot(s, s->v[i].name, strlen(s->v[i].name))] = i + 1;
	return 0;
}

static struct source_stats *
find_or_add(struct sources *s, const char *name, size_t len)
{
	struct source_stats *nv;
	size_t slot;

	if (s->nidx < 2 * (s->n + 1) && index_grow(s) == -1)
		return NULL;
	slot = index_slot(s, name, len);
	if (s->idx[slot] != 0)
		return &s->v[s->idx[slot] - 1];
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;

		if ((nv = realloc(s->v, ncap * sizeof(*nv))) == NULL)
			return NULL;
		s->v = nv;
		s->cap = ncap;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	memcpy(s->v[s->n].name, name, len);
	s->idx[slot] = ++s->n;
	return &s->v[s->n - 1];
}

int
sources_add(struct sources *s, const char *field, long long count)
{
	static const struct {
		const char *what;
		size_t off;
	} counters[] = {
		{"received", offsetof(struct source_stats, received)},
		{"mql", offsetof(struct source_stats, mql)},
		{"assigned", offsetof(struct source_stats, assigned)},
		{"followed_up", offsetof(struct source_stats, followed_up)},
		{"followed_up_in_sla", offsetof(struct source_stats, in_sla)},
		{"rejected", offsetof(struct source_stats, rejected)},
		{"won", offsetof(struct source_stats, won)},
		{"lost", offsetof(struct source_stats, lost)},
	};
	const char *bar = strrchr(field, '|'), *what;
	struct source_stats *st;
	long idx;

	if (bar == NULL || bar == field ||
	    (size_t)(bar - field) >= sizeof(s->v[0].name))
		return 0;	/* not a source counter */
	what = bar + 1;
	if ((st = find_or_add(s, field, (size_t)(bar - field))) == NULL)
		return -1;
	if (strncmp(what, "fu:", 3) == 0) {
		idx = strtol(what + 3, NULL, 10);
		if (idx >= 1 && idx <= SOURCES_MAX_FU)
			st->fu[idx - 1] += count;
		return 0;
	}
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (strcmp(what, counters[i].what) == 0)
			*(long long *)(void *)((char *)st + counters[i].off) +=
			    count;
	return 0;
}

static double
ratio(long long a, long long b)
{
	return b > 0 ? (double)a / (double)b : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the values >= 0 of a measure across sources; -1: none. */
static double
median(const struct sources *s, size_t off)
{
	double *v = malloc((s->n ? s->n : 1) * sizeof(*v)), m;
	size_t k = 0;

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		double x = *(const double *)(const void *)((const char *)&s->v[i] +
		    off);

		if (x >= 0)
			v[k++] = x;
	}
	if (k == 0) {
		free(v);
		return -1;
	}
	qsort(v, k, sizeof(*v), cmp_double);
	m = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	free(v);
	return m;
}

static int
cmp_volume(const void *a, const void *b)
{
	const struct source_stats *x = a, *y = b;

	if (x->received != y->received)
		return x->received > y->received ? -1 : 1;
	return strcmp(x->name, y->name);
}

static double
median_fu(const struct source_stats *st, const long long *bounds_ms, size_t n)
{
	long long total = 0, cum = 0;

	for (size_t k = 0; k <= n && k < SOURCES_MAX_FU; k++)
		total += st->fu[k];
	if (total == 0)
		return -1;
	for (size_t k = 0; k <= n && k < SOURCES_MAX_FU; k++) {
		cum += st->fu[k];
		if (2 * cum >= total)
			return k < n ? (double)bounds_ms[k] / 1000.0 : -2;
	}
	return -2;	/* beyond the last bound */
}

void
sources_assess(struct sources *s, const long long *bounds_ms, size_t n,
    long long min_volume)
{
	static const size_t measures[] = {
		offsetof(struct source_stats, mql_rate),
		offsetof(struct source_stats, acceptance),
		offsetof(struct source_stats, sla_met),
		offsetof(struct source_stats, win_rate),
	};
	double med[4], vol_med;
	double *vols;

	for (size_t i = 0; i < s->n; i++) {
		struct source_stats *st = &s->v[i];

		st->mql_rate = ratio(st->mql, st->received);
		st->acceptance = st->assigned > 0 ?
		    1.0 - ratio(st->rejected, st->assigned) : -1;
		st->sla_met = ratio(st->in_sla, st->assigned);
		st->win_rate = ratio(st->won, st->won + st->lost);
		st->median_fu_s = median_fu(st, bounds_ms, n);
		st->sunset = false;
	}
	if (s->n < 2)
		return;		/* nothing to rank or compare with */
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_volume);
	free(s->idx);		/* the order changed: index again on an add */
	s->idx = NULL;
	s->nidx = 0;
	for (size_t k = 0; k < 4; k++)
		med[k] = median(s, measures[k]);
	if ((vols = malloc(s->n * sizeof(*vols))) == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		vols[i] = (double)s->v[i].received;
	qsort(vols, s->n, sizeof(*vols), cmp_double);
	vol_med = s->n % 2 ? vols[s->n / 2] :
	    (vols[s->n / 2 - 1] + vols[s->n / 2]) / 2;
	free(vols);
	for (size_t i = 0; i < s->n; i++) {
		struct source_stats *st = &s->v[i];
		bool low = true, any = false;

		if (st->received < min_volume || (double)st->received < vol_med)
			continue;
		for (size_t k = 0; k < 4; k++) {
			double x = *(const double *)(const void *)((const char *)st +
			    measures[k]);

			if (x < 0 || med[k] < 0)
				continue;
			any = true;
			low &= x < med[k];
		}
		st->sunset = any && low;
	}
}

void
sources_clear(struct sources *s)
{
	free(s->v);
	free(s->idx);
	memset(s, 0, sizeof(*s));
}
