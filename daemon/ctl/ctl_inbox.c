/* ctl_inbox.c - leadctl inbox: a rep's open leads with their SLA, oldest due first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_inbox.h"
#include "keys.h"

/* The record fields read per lead, in HMGET order. */
static const char *const fields[] = {"status", "score", "segment",
	"assigned_at_ms", "follow_up_due_ms"};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
enum { F_STATUS, F_SCORE, F_SEGMENT, F_ASSIGNED, F_DUE };

/* One open lead. */
struct item {
	const char *id;		/* points into the SMEMBERS reply */
	char status[32], segment[CFG_REP_ID_MAX + 1];
	long long score, assigned, due;	/* -1: absent */
	bool running;		/* the SLA timer runs (not followed up) */
};

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->running != y->running)
		return x->running ? -1 : 1;
	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return strcmp(x->id, y->id);
}

static long long
field_ll(const redisReply *r)
{
	long long v;

	return r->type == REDIS_REPLY_STRING && ctl_parse_ll(r->str, &v) ?
	    v : -1;
}

static void
field_str(const redisReply *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
}

/*
 * Read the records of the ids of members into v (*n of them kept: a lead
 * whose record is gone is left out). 0, or -1 with ctl->err filled in.
 */
static int
read_items(struct ctl *ctl, const redisReply *members, struct item *v,
    size_t *n)
{
	redisReply *r;
	int rc = 0;

	for (size_t i = 0; i < members->elements; i++)
		rc |= redisAppendCommand(ctl->rc,
		    "HMGET %s" KEY_LEAD "%s %s %s %s %s %s", ctl->prefix,
		    members->element[i]->str, fields[0], fields[1], fields[2],
		    fields[3], fields[4]);
	if (rc != 0)
		return ctl_seterr(ctl, "cannot queue the record queries: %s",
		    ctl->rc->errstr);
	*n = 0;
	for (size_t i = 0; i < members->elements; i++) {
		struct item *it = &v[*n];

		if ((r = ctl_get_reply(ctl, "HMGET")) == NULL)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != NFIELDS) {
			freeReplyObject(r);
			return ctl_seterr(ctl, "redis command 'HMGET' failed: unexpected reply");
		}
		if (r->element[F_STATUS]->type == REDIS_REPLY_STRING) {
			it->id = members->element[i]->str;
			field_str(r->element[F_STATUS], it->status,
			    sizeof(it->status));
			field_str(r->element[F_SEGMENT], it->segment,
			    sizeof(it->segment));
			it->score = field_ll(r->element[F_SCORE]);
			it->assigned = field_ll(r->element[F_ASSIGNED]);
			it->due = field_ll(r->element[F_DUE]);
			it->running = strcmp(it->status, "assigned") == 0;
			(*n)++;
		}
		freeReplyObject(r);
	}
	return 0;
}

static json_t *
item_json(const struct item *it, long long now)
{
	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o}",
	    "lead_id", it->id, "status", it->status,
	    "score", ctl_json_ll_or_null(it->score), "segment", it->segment,
	    "assigned_at_ms", ctl_json_ll_or_null(it->assigned),
	    "follow_up_due_ms", ctl_json_ll_or_null(it->due),
	    "left_ms", it->running && it->due >= 0 ?
	    json_integer(it->due - now) : json_null());
}

/* "4m05s", "2h03m", "3d04h" for a duration in ms (>= 0). */
static const char *
fmt_span(long long ms, char *buf, size_t len)
{
	long long s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

static void
print_inbox(json_t *o, const char *rep)
{
	char at[CTL_TIME_MAX], span[32], sla[64];
	json_t *leads = json_object_get(o, "leads"), *l;
	long long left;
	size_t i;

	printf("inbox of %s: %zu open lead%s\n", rep, json_array_size(leads),
	    json_array_size(leads) == 1 ? "" : "s");
	if (json_array_size(leads) == 0)
		return;
	printf("  %-24s %6s  %-12s %-25s %s\n", "LEAD", "SCORE", "SEGMENT",
	    "ASSIGNED", "FOLLOW-UP");
	json_array_foreach(leads, i, l) {
		const json_t *lj = json_object_get(l, "left_ms");

		if (json_is_integer(lj)) {
			left = json_integer_value(lj);
			if (left >= 0)
				snprintf(sla, sizeof(sla), "due in %s",
				    fmt_span(left, span, sizeof(span)));
			else
				snprintf(sla, sizeof(sla), "overdue by %s",
				    fmt_span(-left, span, sizeof(span)));
		} else {
			snprintf(sla, sizeof(sla), "%s",
			    strcmp(ctl_jstr(l, "status", ""), "followed_up") ==
			    0 ? "followed up" : ctl_jstr(l, "status", "-"));
		}
		printf("  %-24s %6lld  %-12s %-25s %s\n",
		    ctl_jstr(l, "lead_id", "?"), ctl_jint(l, "score", 0),
		    ctl_jstr(l, "segment", "-"),
		    ctl_jint(l, "assigned_at_ms", -1) >= 0 ?
		    ctl_fmt_time(ctl_jint(l, "assigned_at_ms", -1), at,
		    sizeof(at)) : "-", sla);
	}
}

int
ctl_inbox(struct ctl *ctl, const char *rep)
{
	redisReply *members = NULL;
	struct item *v = NULL;
	json_t *leads = NULL, *o;
	long long now;
	size_t n = 0;
	int rc = CTL_ERR;

	if (cfg_rep_find(ctl->cfg, rep) == NULL) {
		ctl_warnx("unknown rep '%s' (not in the configuration '%s')",
		    rep, ctl->cfg->path);
		return CTL_ERR;
	}
	if (ctl_connect(ctl) == -1 || ctl_redis_now(ctl, &now) == -1 ||
	    (members = ctl_cmd(ctl, "SMEMBERS %s" KEY_REP "%s" KEY_TAIL_OPEN,
	    ctl->prefix, rep)) == NULL)
		return ctl_fail(ctl);
	if (members->type != REDIS_REPLY_ARRAY) {
		ctl_seterr(ctl, "redis command 'SMEMBERS' failed: unexpected reply");
		goto out_fail;
	}
	if ((v = calloc(members->elements + 1, sizeof(*v))) == NULL) {
		ctl_seterr(ctl, "out of memory");
		goto out_fail;
	}
	if (read_items(ctl, members, v, &n) == -1)
		goto out_fail;
	qsort(v, n, sizeof(*v), item_cmp);
	if ((leads = json_array()) == NULL)
		goto out_oom;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(leads, item_json(&v[i], now)) == -1)
			goto out_oom;
	if (ctl->json) {
		rc = ctl_output(ctl, leads, "inbox", NULL, rep);
		leads = NULL;
	} else if ((o = json_pack("{s:I, s:o}", "now_ms", (json_int_t)now,
	    "leads", leads)) != NULL) {
		leads = NULL;
		rc = ctl_output(ctl, o, "inbox", print_inbox, rep);
	} else
		goto out_oom;
	goto out_free;
out_oom:
	ctl_seterr(ctl, "cannot build the inbox: out of memory");
out_fail:
	rc = ctl_fail(ctl);
out_free:
	json_decref(leads);
	free(v);
	freeReplyObject(members);
	return rc;
}
