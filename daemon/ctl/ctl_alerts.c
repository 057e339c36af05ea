/* ctl_alerts.c - leadctl alerts: the last alerts of the log, then (--follow) the new ones as they come. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_alerts.h"
#include "keys.h"

/* The longest stream entry id kept ("<ms>-<seq>" and its NUL). */
#define CTL_ID_MAX 64
/* Entries one XREAD of --follow returns at most. */
#define FOLLOW_BATCH 100

/* time, type, lead, rep, segment, due: one line. */
static void
print_alert_line(const json_t *a)
{
	char t[CTL_TIME_MAX], due[CTL_TIME_MAX];

	if (strcmp(ctl_jstr(a, "type", "?"), "capacity_forecast") == 0) {
		long long eta = ctl_jint(a, "exhausted_in_s", 0);

		if (eta > 0)
			ctl_fmt_rel(eta * 1000, due, sizeof(due));
		printf("%s  %-14s  segment %s  room %lld  backlog %lld  %.1f MQLs/h  full %s\n",
		    ctl_fmt_time(ctl_jint(a, "at_ms", 0), t, sizeof(t)),
		    "capacity_forecast", ctl_jstr(a, "segment", "?"),
		    ctl_jint(a, "room", 0), ctl_jint(a, "backlog", 0),
		    json_number_value(json_object_get(a, "mql_per_hour")),
		    eta > 0 ? due : "now");
		return;
	}
	printf("%s  %-14s  lead %s  rep %s  segment %s  due %s\n",
	    ctl_fmt_time(ctl_jint(a, "at_ms", 0), t, sizeof(t)),
	    ctl_jstr(a, "type", "?"), ctl_jstr(a, "lead_id", "?"), ctl_jstr(a, "rep", "?"),
	    ctl_jstr(a, "segment", "?"),
	    ctl_fmt_time(ctl_jint(a, "follow_up_due_ms", 0), due, sizeof(due)));
}

static volatile sig_atomic_t alerts_stop;

static void
alerts_stop_cb(int sig)
{
	(void)sig;
	alerts_stop = 1;
}

/* Show one stream entry; remember its id in last (size CTL_ID_MAX). */
static void
show_entry(const struct ctl *ctl, const redisReply *e, char *last)
{
	json_t *a;

	if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
	    e->element[0]->type == REDIS_REPLY_STRING)
		snprintf(last, CTL_ID_MAX, "%s", e->element[0]->str);
	if ((a = ctl_entry_alert(e)) == NULL) {
		ctl_warnx("stream entry '%s' holds no valid alert", last);
		return;
	}
	if (ctl->json) {
		if (ctl_print_json(a) == -1)
			ctl_warnx("cannot encode alert '%s'", last);
		return;
	}
	print_alert_line(a);
	fflush(stdout);
	json_decref(a);
}

/* The last count alerts, oldest first; last gets the newest id or "0-0". */
static int
alerts_last(struct ctl *ctl, long long count, char *last)
{
	redisReply *r;
	size_t n;

	snprintf(last, CTL_ID_MAX, "0-0");
	if ((r = ctl_cmd(ctl, "XREVRANGE %s" KEY_ALERTS_LOG " + - COUNT %lld",
	    ctl->prefix, count > 0 ? count : 1)) == NULL)
		return -1;
	n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
	if (n > 0 && r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 &&
	    r->element[0]->element[0]->type == REDIS_REPLY_STRING)
		snprintf(last, CTL_ID_MAX, "%s", r->element[0]->element[0]->str);
	if ((long long)n > count)
		n = (size_t)count;
	for (size_t i = n; i > 0; i--) {
		char id[CTL_ID_MAX] = "?";

		show_entry(ctl, r->element[i - 1], id);
	}
	freeReplyObject(r);
	return 0;
}

static int
alerts_follow(struct ctl *ctl, char *last)
{
	struct sigaction sa;
	redisReply *r;
	const redisReply *entries;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alerts_stop_cb;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!alerts_stop) {
		r = ctl_cmd(ctl, "XREAD COUNT %d BLOCK %d STREAMS %s" KEY_ALERTS_LOG " %s",
		    FOLLOW_BATCH, CTL_FOLLOW_BLOCK_MS, ctl->prefix, last);
		if (r == NULL)
			return -1;
		/* [[key, [entry...]]], or nil when the block timed out */
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    r->element[0]->type == REDIS_REPLY_ARRAY &&
		    r->element[0]->elements == 2) {
			entries = r->element[0]->element[1];
			for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY &&
			    i < entries->elements; i++)
				show_entry(ctl, entries->element[i], last);
		}
		freeReplyObject(r);
	}
	return 0;
}

int
ctl_alerts(struct ctl *ctl, long long count, bool follow)
{
	char last[CTL_ID_MAX];

	if (ctl_connect(ctl) == -1 || alerts_last(ctl, count, last) == -1)
		return ctl_fail(ctl);
	fflush(stdout);
	if (follow && alerts_follow(ctl, last) == -1)
		return ctl_fail(ctl);
	return CTL_OK;
}
