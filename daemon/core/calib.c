/* calib.c - the precision of the MQL threshold and the one to suggest. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"

/* Longest reason kept, in bytes, without its NUL. */
#define REASON_MAX (sizeof(((struct calib_reason *)0)->text) - 1)

/* Counts come from Redis hashes: saturate rather than overflow. */
static long long
sat_add(long long x, long long y)
{
	long long r;

	if (__builtin_add_overflow(x, y, &r))
		return y > 0 ? LLONG_MAX : LLONG_MIN;
	return r;
}

static long long
sat_sub(long long x, long long y)
{
	long long r;

	if (__builtin_sub_overflow(x, y, &r))
		return y < 0 ? LLONG_MAX : LLONG_MIN;
	return r;
}

static long long
nonneg(long long x)
{
	return x > 0 ? x : 0;
}

static double
ratio(long long x, long long y)
{
	return y > 0 ? (double)x / (double)y : -1;
}

/* Double the capacity of an array of size-byte elements; NULL: ENOMEM. */
static void *
grow(void *v, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *nv;

	if (ncap > SIZE_MAX / size)
		return NULL;
	if ((nv = realloc(v, ncap * size)) == NULL)
		return NULL;
	*cap = ncap;
	return nv;
}

/* A segment name: 1..64 bytes without '|'; the caller found the bar. */
static struct calib_segment *
segment_find_or_add(struct calib *c, const char *name, size_t len)
{
	struct calib_segment *nv;

	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->v[i].name) == len &&
		    memcmp(c->v[i].name, name, len) == 0)
			return &c->v[i];
	if (c->n == c->cap) {
		if ((nv = grow(c->v, &c->cap, sizeof(*nv))) == NULL)
			return NULL;
		c->v = nv;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	memcpy(c->v[c->n].name, name, len);
	return &c->v[c->n++];
}

static struct calib_bucket *
bucket_find_or_add(struct calib_segment *s, long long score)
{
	struct calib_bucket *nv;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].score == score)
			return &s->v[i];
	if (s->n == s->cap) {
		if ((nv = grow(s->v, &s->cap, sizeof(*nv))) == NULL)
			return NULL;
		s->v = nv;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	s->v[s->n].score = score;
	return &s->v[s->n++];
}

static struct calib_reason *
reason_find_or_add(struct calib_segment *s, const char *text, size_t len)
{
	struct calib_reason *nv;

	for (size_t i = 0; i < s->nreasons; i++)
		if (strlen(s->reasons[i].text) == len &&
		    memcmp(s->reasons[i].text, text, len) == 0)
			return &s->reasons[i];
	if (s->nreasons == s->reasons_cap) {
		if ((nv = grow(s->reasons, &s->reasons_cap, sizeof(*nv))) ==
		    NULL)
			return NULL;
		s->reasons = nv;
	}
	memset(&s->reasons[s->nreasons], 0, sizeof(s->reasons[0]));
	memcpy(s->reasons[s->nreasons].text, text, len);
	return &s->reasons[s->nreasons++];
}

/* The length of a segment name ending at the first '|'; 0: not one. */
static size_t
segment_len(const char *field)
{
	const char *bar = strchr(field, '|');

	if (bar == NULL || bar == field ||
	    (size_t)(bar - field) >= sizeof(((struct calib_segment *)0)->name))
		return 0;
	return (size_t)(bar - field);
}

/* A signed decimal integer, all of s[0..len), in range. */
static int
parse_score(const char *s, size_t len, long long *out)
{
	unsigned long long v = 0, lim = LLONG_MAX;
	size_t i = 0;
	bool neg = false;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i++;
	}
	if (i == len)
		return -1;
	if (neg)
		lim = (unsigned long long)LLONG_MAX + 1;
	for (; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (!neg)
		*out = (long long)v;
	else if (v > (unsigned long long)LLONG_MAX)
		*out = LLONG_MIN;
	else
		*out = -(long long)v;
	return 0;
}

int
calib_add(struct calib *c, const char *field, long long count)
{
	static const struct {
		const char *what;
		size_t off;
	} counters[] = {
		{"a", offsetof(struct calib_bucket, a)},
		{"r", offsetof(struct calib_bucket, r)},
		{"ra", offsetof(struct calib_bucket, ra)},
		{"w", offsetof(struct calib_bucket, w)},
		{"l", offsetof(struct calib_bucket, l)},
	};
	size_t len = segment_len(field), k;
	const char *score, *bar;
	struct calib_segment *s;
	struct calib_bucket *b;
	long long *slot, sc;

	if (len == 0)
		return 0;	/* not an outcome field */
	score = field + len + 1;
	if ((bar = strchr(score, '|')) == NULL ||
	    parse_score(score, (size_t)(bar - score), &sc) == -1)
		return 0;
	for (k = 0; k < sizeof(counters) / sizeof(counters[0]); k++)
		if (strcmp(bar + 1, counters[k].what) == 0)
			break;
	if (k == sizeof(counters) / sizeof(counters[0]))
		return 0;	/* unknown what */
	if ((s = segment_find_or_add(c, field, len)) == NULL ||
	    (b = bucket_find_or_add(s, sc)) == NULL)
		return -1;
	slot = (long long *)(void *)((char *)b + counters[k].off);
	*slot = sat_add(*slot, count);
	return 0;
}

/* The length of text cut to n bytes at most, at a UTF-8 character start. */
static size_t
utf8_cut(const char *text, size_t n)
{
	size_t len = strlen(text);

	if (len <= n)
		return len;
	/* text[n] is the first byte dropped: back off a continuation. */
	for (int k = 0; k < 3 && n > 0 &&
	    ((unsigned char)text[n] & 0xc0) == 0x80; k++)
		n--;
	return n;
}

int
calib_add_reason(struct calib *c, const char *field, long long count)
{
	size_t len = segment_len(field), tlen;
	struct calib_segment *s;
	struct calib_reason *r;
	const char *text;

	if (len == 0)
		return 0;	/* not a reason field */
	text = field + len + 1;
	if ((tlen = utf8_cut(text, REASON_MAX)) == 0)
		return 0;
	if ((s = segment_find_or_add(c, field, len)) == NULL ||
	    (r = reason_find_or_add(s, text, tlen)) == NULL)
		return -1;
	r->n = sat_add(r->n, count);
	return 0;
}

static int
cmp_score(const void *a, const void *b)
{
	const struct calib_bucket *x = a, *y = b;

	return x->score < y->score ? -1 : x->score > y->score;
}

static int
cmp_text(const void *a, const void *b)
{
	const struct calib_reason *x = a, *y = b;

	return strcmp(x->text, y->text);
}

static int
cmp_reason(const void *a, const void *b)
{
	const struct calib_reason *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->text, y->text);
}

static long long
accepted(const struct calib_bucket *b)
{
	return nonneg(sat_sub(b->a, b->ra));
}

static long long
rejected(const struct calib_bucket *b)
{
	return nonneg(b->r);
}

/* At least min decided, and rejected / decided at or under rate. */
static bool
feasible(long long acc, long long rej, double rate, long long min)
{
	long long dec = sat_add(acc, rej);

	if (dec < min)
		return false;
	/* Relative slack: 29 of 100 meets 0.29, though 0.29 * 100 < 29. */
	return (double)rej <= rate * (double)dec * (1 + 1e-12);
}

/* The verdict for one segment; its buckets are sorted by score. */
static void
assess_segment(struct calib_segment *s, long long threshold, double rate,
    long long min)
{
	long long sa = 0, sr = 0, best_acc = 0, best_rej = 0, best_score = 0;
	size_t ndec = 0, i, j = 0, best = SIZE_MAX;

	s->accepted = s->rejected = s->won = s->lost = 0;
	for (size_t k = 0; k < s->n; k++) {
		const struct calib_bucket *b = &s->v[k];
		long long acc = accepted(b), rej = rejected(b);

		if (sat_add(acc, rej) > 0) {
			ndec++;
			if (b->score < threshold)
				j++;
		}
		if (b->score < threshold)
			continue;
		s->accepted = sat_add(s->accepted, acc);
		s->rejected = sat_add(s->rejected, rej);
		s->won = sat_add(s->won, nonneg(b->w));
		s->lost = sat_add(s->lost, nonneg(b->l));
	}
	s->precision = ratio(s->accepted, sat_add(s->accepted, s->rejected));
	s->win_rate = ratio(s->won, sat_add(s->won, s->lost));

	/* From the top down: the last feasible score met is the lowest. */
	i = ndec;
	for (size_t k = s->n; k > 0; k--) {
		const struct calib_bucket *b = &s->v[k - 1];
		long long acc = accepted(b), rej = rejected(b);

		if (sat_add(acc, rej) == 0)
			continue;
		i--;
		sa = sat_add(sa, acc);
		sr = sat_add(sr, rej);
		if (feasible(sa, sr, rate, min)) {
			best = i;
			best_score = b->score;
			best_acc = sa;
			best_rej = sr;
		}
	}

	if (best == SIZE_MAX) {
		/* sa + sr: every decided MQL, at the lowest score. */
		s->verdict = sat_add(sa, sr) < min ? CALIB_NO_DATA :
		    CALIB_UNREACHABLE;
		s->suggested = threshold;
		s->s_accepted = s->accepted;
		s->s_rejected = s->rejected;
		s->s_reject_rate = ratio(s->rejected,
		    sat_add(s->accepted, s->rejected));
		return;
	}
	if (best == j) {
		s->verdict = CALIB_KEEP;
		s->suggested = threshold;
	} else {
		s->verdict = best > j ? CALIB_RAISE : CALIB_LOWER;
		s->suggested = best_score;
	}
	s->s_accepted = best_acc;
	s->s_rejected = best_rej;
	s->s_reject_rate = ratio(best_rej, sat_add(best_acc, best_rej));
}

static void
segment_free(struct calib_segment *s)
{
	free(s->v);
	free(s->reasons);
	memset(s, 0, sizeof(*s));
}

/* Merge equal scores of a sorted array in place; the new length. */
static size_t
merge_buckets(struct calib_bucket *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (k > 0 && v[k - 1].score == v[i].score) {
			v[k - 1].a = sat_add(v[k - 1].a, v[i].a);
			v[k - 1].r = sat_add(v[k - 1].r, v[i].r);
			v[k - 1].ra = sat_add(v[k - 1].ra, v[i].ra);
			v[k - 1].w = sat_add(v[k - 1].w, v[i].w);
			v[k - 1].l = sat_add(v[k - 1].l, v[i].l);
		} else
			v[k++] = v[i];
	}
	return k;
}

/* Merge equal texts of a sorted array in place; the new length. */
static size_t
merge_reasons(struct calib_reason *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(v[k - 1].text, v[i].text) == 0)
			v[k - 1].n = sat_add(v[k - 1].n, v[i].n);
		else
			v[k++] = v[i];
	}
	return k;
}

/*
 * Rebuild "all" from every segment. Out of memory, it is left without
 * buckets or reasons, and so judged to have no data.
 */
static void
build_all(struct calib *c)
{
	struct calib_segment *all = &c->all;
	size_t nb = 0, nr = 0;

	segment_free(all);
	memcpy(all->name, "all", sizeof("all"));
	for (size_t i = 0; i < c->n; i++) {
		nb += c->v[i].n;
		nr += c->v[i].nreasons;
	}
	if (nb > 0 && nb <= SIZE_MAX / sizeof(*all->v) &&
	    (all->v = malloc(nb * sizeof(*all->v))) != NULL) {
		for (size_t i = 0; i < c->n; i++) {
			if (c->v[i].n == 0)
				continue;	/* v may be NULL */
			memcpy(all->v + all->n, c->v[i].v,
			    c->v[i].n * sizeof(*all->v));
			all->n += c->v[i].n;
		}
		qsort(all->v, all->n, sizeof(*all->v), cmp_score);
		all->n = merge_buckets(all->v, all->n);
		all->cap = nb;
	}
	if (nr > 0 && nr <= SIZE_MAX / sizeof(*all->reasons) &&
	    (all->reasons = malloc(nr * sizeof(*all->reasons))) != NULL) {
		for (size_t i = 0; i < c->n; i++) {
			if (c->v[i].nreasons == 0)
				continue;
			memcpy(all->reasons + all->nreasons, c->v[i].reasons,
			    c->v[i].nreasons * sizeof(*all->reasons));
			all->nreasons += c->v[i].nreasons;
		}
		qsort(all->reasons, all->nreasons, sizeof(*all->reasons),
		    cmp_text);
		all->nreasons = merge_reasons(all->reasons, all->nreasons);
		all->reasons_cap = nr;
	}
}

static void
sort_and_assess(struct calib_segment *s, long long threshold, double rate,
    long long min)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_score);
	if (s->nreasons > 1)
		qsort(s->reasons, s->nreasons, sizeof(*s->reasons),
		    cmp_reason);
	assess_segment(s, threshold, rate, min);
}

void
calib_assess(struct calib *c, long long threshold, double max_reject_rate,
    long long min_outcomes)
{
	if (!(max_reject_rate >= 0))	/* NaN too */
		max_reject_rate = 0;
	else if (max_reject_rate > 1)
		max_reject_rate = 1;
	if (min_outcomes < 1)
		min_outcomes = 1;
	for (size_t i = 0; i < c->n; i++)
		sort_and_assess(&c->v[i], threshold, max_reject_rate,
		    min_outcomes);
	build_all(c);
	sort_and_assess(&c->all, threshold, max_reject_rate, min_outcomes);
}

const char *
calib_verdict_name(enum calib_verdict v)
{
	static const char *const names[] = {
		[CALIB_NO_DATA] = "no_data",
		[CALIB_KEEP] = "keep",
		[CALIB_RAISE] = "raise",
		[CALIB_LOWER] = "lower",
		[CALIB_UNREACHABLE] = "unreachable",
	};

	if ((size_t)v >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[v];
}

void
calib_clear(struct calib *c)
{
	for (size_t i = 0; i < c->n; i++)
		segment_free(&c->v[i]);
	free(c->v);
	segment_free(&c->all);
	memset(c, 0, sizeof(*c));
}
