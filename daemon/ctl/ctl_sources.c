/* ctl_sources.c - leadctl sources: which lead sources are worth paying for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_common.h"
#include "ctl_sources.h"
#include "decide.h"
#include "sources.h"
#include "keys.h"

/* The histogram of decide_hists[] whose bounds bucket the follow-up time. */
#define FOLLOWUP_HIST 1

static int
add_cb(void *arg, const char *field, long long n)
{
	return sources_add(arg, field, n);
}

static void
print_table(const struct sources *s, long long since_days)
{
	char r[4][16], fu[24];

	if (since_days > 0)
		printf("lead sources, last %lld days (by volume)\n", since_days);
	else
		printf("lead sources, all time (by volume)\n");
	printf("%-24s %8s %7s %7s %9s %8s %8s %9s %8s  %s\n", "SOURCE",
	    "LEADS", "MQLS", "MQL%", "ACCEPTED", "SLA MET", "WIN%",
	    "WON/LOST", "MEDIAN FU", "");
	for (size_t i = 0; i < s->n; i++) {
		const struct source_stats *st = &s->v[i];
		char wl[32];

		ctl_fmt_rate(st->mql_rate, r[0], sizeof(r[0]));
		ctl_fmt_rate(st->acceptance, r[1], sizeof(r[1]));
		ctl_fmt_rate(st->sla_met, r[2], sizeof(r[2]));
		ctl_fmt_rate(st->win_rate, r[3], sizeof(r[3]));
		if (st->median_fu_s == -1)
			snprintf(fu, sizeof(fu), "-");
		else if (st->median_fu_s == -2)
			snprintf(fu, sizeof(fu), "> 1 day");
		else
			snprintf(fu, sizeof(fu), "<= %.0fs", st->median_fu_s);
		snprintf(wl, sizeof(wl), "%lld/%lld", st->won, st->lost);
		printf("%-24s %8lld %7lld %7s %9s %8s %8s %9s %8s  %s\n",
		    st->name, st->received, st->mql, r[0], r[1], r[2], r[3], wl,
		    fu, st->sunset ? "consider sunsetting" : "");
	}
}

static json_t *
to_json(const struct sources *s, long long since_days)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n; i++) {
		const struct source_stats *st = &s->v[i];

		json_array_append_new(a, json_pack(
		    "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:b}",
		    "source", st->name, "received", (json_int_t)st->received,
		    "mqls", (json_int_t)st->mql, "assigned",
		    (json_int_t)st->assigned, "followed_up",
		    (json_int_t)st->followed_up, "followed_up_in_sla",
		    (json_int_t)st->in_sla, "rejected", (json_int_t)st->rejected,
		    "won", (json_int_t)st->won, "lost", (json_int_t)st->lost,
		    "mql_rate", ctl_json_rate(st->mql_rate), "acceptance",
		    ctl_json_rate(st->acceptance), "sla_met",
		    ctl_json_rate(st->sla_met), "win_rate",
		    ctl_json_rate(st->win_rate), "median_followup_s",
		    st->median_fu_s == -1 ? json_null() :
		    st->median_fu_s == -2 ? json_string("beyond") :
		    json_real(st->median_fu_s), "consider_sunsetting",
		    st->sunset));
	}
	return json_pack("{s:o, s:o}", "since_days", since_days > 0 ?
	    json_integer(since_days) : json_null(), "sources", a);
}

int
ctl_sources(struct ctl *ctl, long long since_days)
{
	const struct decide_hist *fu = &decide_hists[FOLLOWUP_HIST];
	struct sources s = {0};
	int rc = CTL_OK;

	if (ctl_connect(ctl) == -1)
		return ctl_fail(ctl);
	if (ctl_read_counters(ctl, LR_KEY_SRC_ALL, LR_KEY_SRC_DAY,
	    since_days, add_cb, &s) == -1) {
		sources_clear(&s);
		return ctl_fail(ctl);
	}
	sources_assess(&s, fu->bounds_ms, fu->n, CTL_SUNSET_MIN_VOLUME);
	if (ctl->json) {
		if (ctl_print_json(to_json(&s, since_days)) == -1)
			rc = CTL_ERR;
	} else {
		print_table(&s, since_days);
	}
	sources_clear(&s);
	return rc;
}
