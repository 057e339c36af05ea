/* ctl_sources.c - leadctl sources: which lead sources are worth paying for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_common.h"
#include "ctl_sources.h"
#include "decide.h"
#include "sources.h"

/* Sources below this volume are never flagged: too few leads to judge. */
#define SUNSET_MIN_VOLUME 20

static int
add_hash(struct ctl *ctl, struct sources *s, const char *key)
{
	redisReply *r = ctl_cmd(ctl, "HGETALL %s", key);
	long long n;

	if (r == NULL)
		return -1;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (ctl_reply_ll(r->element[i + 1], &n) &&
		    sources_add(s, r->element[i]->str, n) == -1) {
			freeReplyObject(r);
			return ctl_seterr(ctl, "out of memory");
		}
	freeReplyObject(r);
	return 0;
}

static json_t *
rate(double x)
{
	return x < 0 ? json_null() : json_real(x);
}

static void
fmt_rate(char *buf, size_t len, double x)
{
	if (x < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", x * 100);
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

		fmt_rate(r[0], sizeof(r[0]), st->mql_rate);
		fmt_rate(r[1], sizeof(r[1]), st->acceptance);
		fmt_rate(r[2], sizeof(r[2]), st->sla_met);
		fmt_rate(r[3], sizeof(r[3]), st->win_rate);
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
		    "mql_rate", rate(st->mql_rate), "acceptance",
		    rate(st->acceptance), "sla_met", rate(st->sla_met),
		    "win_rate", rate(st->win_rate), "median_followup_s",
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
	const struct decide_hist *fu = &decide_hists[1];
	struct sources s = {0};
	char key[256];
	long long now, today;
	int rc = CTL_OK;

	if (ctl_connect(ctl) == -1)
		return ctl_fail(ctl);
	if (since_days <= 0) {
		snprintf(key, sizeof(key), "%ssrc:all", ctl->prefix);
		if (add_hash(ctl, &s, key) == -1)
			goto fail;
	} else {
		if (ctl_redis_now(ctl, &now) == -1)
			goto fail;
		today = now / 86400000;
		for (long long d = today - since_days + 1; d <= today; d++) {
			snprintf(key, sizeof(key), "%ssrc:%lld", ctl->prefix, d);
			if (add_hash(ctl, &s, key) == -1)
				goto fail;
		}
	}
	sources_assess(&s, fu->bounds_ms, fu->n, SUNSET_MIN_VOLUME);
	if (ctl->json) {
		if (ctl_print_json(to_json(&s, since_days)) == -1)
			rc = CTL_ERR;
	} else {
		print_table(&s, since_days);
	}
	sources_clear(&s);
	return rc;
fail:
	sources_clear(&s);
	return ctl_fail(ctl);
}
