/* ctl_calibrate.c - leadctl calibrate: how precise the MQL threshold is, and which one the outcomes argue for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "calib.h"
#include "ctl_calibrate.h"
#include "ctl_common.h"
#include "keys.h"

/* Rejection reasons shown per segment in the table's footnotes. */
#define SHOW_REASONS 3

static int
add_cb(void *arg, const char *field, long long n)
{
	return calib_add(arg, field, n);
}

static int
add_reason_cb(void *arg, const char *field, long long n)
{
	return calib_add_reason(arg, field, n);
}

static void
print_row(const struct calib_segment *s, const char *name)
{
	char prec[16], win[16], rej[16];

	ctl_fmt_rate(s->precision, prec, sizeof(prec));
	ctl_fmt_rate(s->win_rate, win, sizeof(win));
	ctl_fmt_rate(s->s_reject_rate, rej, sizeof(rej));
	printf("%-16s %8lld %9lld %9lld %10s %7s   %9lld %9lld %9lld %8s  %s\n",
	    name, s->accepted + s->rejected, s->accepted, s->rejected, prec,
	    win, s->suggested, s->s_accepted, s->s_rejected, rej,
	    calib_verdict_name(s->verdict));
}

/* The one-line advice on scoring.mql_threshold, from the "all" row. */
static void
print_advice(const struct calib_segment *a, long long threshold,
    double max_rate, long long min_outcomes)
{
	char now[16], then[16];

	ctl_fmt_rate(a->accepted + a->rejected > 0 ? (double)a->rejected /
	    (double)(a->accepted + a->rejected) : -1, now, sizeof(now));
	ctl_fmt_rate(a->s_reject_rate, then, sizeof(then));
	switch (a->verdict) {
	case CALIB_NO_DATA:
		printf("\nnot enough outcomes yet: a threshold is judged on at least %lld decided MQLs (accepted or rejected).\n",
		    min_outcomes);
		return;
	case CALIB_UNREACHABLE:
		printf("\nno threshold with at least %lld decided MQLs keeps rejections at or under %.1f%%: look at the scoring rules, not the threshold.\n",
		    min_outcomes, max_rate * 100);
		return;
	case CALIB_KEEP:
		printf("\nkeep scoring.mql_threshold = %lld: rejections %s, at or under %.1f%%, with the most accepted MQLs (%lld).\n",
		    threshold, now, max_rate * 100, a->accepted);
		break;
	case CALIB_RAISE:
	case CALIB_LOWER:
		printf("\nsuggestion: %s scoring.mql_threshold from %lld to %lld: rejections %s -> %s, accepted MQLs %lld -> %lld.\n",
		    a->verdict == CALIB_RAISE ? "raise" : "lower", threshold,
		    a->suggested, now, then, a->accepted, a->s_accepted);
		break;
	}
	if (a->verdict != CALIB_LOWER)
		printf("Leads below the threshold never reach a rep, so outcomes say nothing about a lower one.\n");
}

static void
print_table(const struct calib *c, long long threshold, double max_rate,
    long long min_outcomes, long long since_days)
{
	bool any = false;

	if (since_days > 0)
		printf("threshold calibration, last %lld days: scoring.mql_threshold = %lld, rejections at most %.1f%%\n",
		    since_days, threshold, max_rate * 100);
	else
		printf("threshold calibration, all time: scoring.mql_threshold = %lld, rejections at most %.1f%%\n",
		    threshold, max_rate * 100);
	printf("%-16s %8s %9s %9s %10s %7s | %9s %9s %9s %8s  %s\n", "SEGMENT",
	    "DECIDED", "ACCEPTED", "REJECTED", "PRECISION", "WIN%",
	    "BEST", "ACCEPTED", "REJECTED", "REJECT%", "VERDICT");
	for (size_t i = 0; i < c->n; i++)
		print_row(&c->v[i], c->v[i].name);
	print_row(&c->all, "(all segments)");
	print_advice(&c->all, threshold, max_rate, min_outcomes);
	for (size_t i = 0; i < c->n; i++) {
		const struct calib_segment *s = &c->v[i];

		if (s->nreasons == 0)
			continue;
		if (!any)
			printf("\nmost frequent rejection reasons:\n");
		any = true;
		printf("  %s:", s->name);
		for (size_t k = 0; k < s->nreasons && k < SHOW_REASONS; k++)
			printf("%s \"%s\" %lld", k ? "," : "", s->reasons[k].text,
			    s->reasons[k].n);
		printf("\n");
	}
	printf("\nleadctl changes nothing: edit the configuration and reload (SIGHUP) to apply a suggestion.\n");
}

static json_t *
segment_json(const struct calib_segment *s)
{
	json_t *reasons = json_array();

	for (size_t k = 0; k < s->nreasons && k < CALIB_TOP_REASONS; k++)
		json_array_append_new(reasons, json_pack("{s:s, s:I}", "reason",
		    s->reasons[k].text, "count", (json_int_t)s->reasons[k].n));
	return json_pack("{s:s, s:I, s:I, s:I, s:o, s:I, s:I, s:o, s:s, s:I, s:{s:I, s:I, s:o}, s:o}",
	    "segment", s->name, "decided", (json_int_t)(s->accepted + s->rejected),
	    "accepted", (json_int_t)s->accepted, "rejected",
	    (json_int_t)s->rejected, "precision", ctl_json_rate(s->precision),
	    "won", (json_int_t)s->won, "lost", (json_int_t)s->lost,
	    "win_rate", ctl_json_rate(s->win_rate), "verdict",
	    calib_verdict_name(s->verdict), "suggested_threshold",
	    (json_int_t)s->suggested, "at_suggested", "accepted",
	    (json_int_t)s->s_accepted, "rejected", (json_int_t)s->s_rejected,
	    "reject_rate", ctl_json_rate(s->s_reject_rate), "top_reasons", reasons);
}

static json_t *
to_json(const struct calib *c, long long threshold, double max_rate,
    long long min_outcomes, long long since_days)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->n; i++)
		json_array_append_new(a, segment_json(&c->v[i]));
	return json_pack("{s:I, s:f, s:I, s:o, s:o, s:o}", "threshold",
	    (json_int_t)threshold, "max_reject_rate", max_rate, "min_outcomes",
	    (json_int_t)min_outcomes, "since_days", since_days > 0 ?
	    json_integer(since_days) : json_null(), "segments", a, "all",
	    segment_json(&c->all));
}

int
ctl_calibrate(struct ctl *ctl, long long since_days, double max_reject_rate,
    long long min_outcomes)
{
	long long threshold = ctl->cfg->scoring.mql_threshold;
	struct calib c = {0};
	char key[CTL_KEY_MAX];
	int rc = CTL_OK;

	if (ctl_connect(ctl) == -1)
		return ctl_fail(ctl);
	/* Reasons are kept all time only. */
	snprintf(key, sizeof(key), "%s" KEY_CALIB_REASONS, ctl->prefix);
	if (ctl_read_counters(ctl, LR_KEY_CALIB_ALL, LR_KEY_CALIB_DAY,
	    since_days, add_cb, &c) == -1 ||
	    ctl_read_hash(ctl, key, add_reason_cb, &c) == -1) {
		calib_clear(&c);
		return ctl_fail(ctl);
	}
	calib_assess(&c, threshold, max_reject_rate, min_outcomes);
	if (ctl->json) {
		if (ctl_print_json(to_json(&c, threshold, max_reject_rate,
		    min_outcomes, since_days)) == -1)
			rc = CTL_ERR;
	} else {
		print_table(&c, threshold, max_reject_rate, min_outcomes,
		    since_days);
	}
	calib_clear(&c);
	return rc;
}
