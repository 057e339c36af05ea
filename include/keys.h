/*
 * keys.h - every Redis key of leadrouted, named once: the C code reads them
 * here, and the build inlines them into the Lua script (daemon/lua/wire2lua.c).
 *
 * Every key starts with redis.prefix ("lr:" in the README), which is not
 * part of the names below. A key is a fixed name ("incoming"), or a head,
 * a variable part and a tail ("rep:" + "<rep>" + ":open"): KEY_X is the
 * fixed name or the head, KEY_TAIL_X a tail. Parts with two pieces
 * ("<instance>:<source>") join them with KEY_SEP.
 *
 * LR_KEYS is the README's "Redis keys" table, one row a key:
 *	X(NAME, head, part, tail, type, who writes, meaning)
 * NAME is the key's name in C (LR_KEY_NAME) and in Lua (K.NAME, KT.NAME).
 *
 * Pure: no hiredis. keys_build() writes a whole key into a buffer.
 */
#ifndef LR_KEYS_H
#define LR_KEYS_H

#include <stddef.h>
#include <string.h>

/* The names, and the heads of the keys with a part. */
#define KEY_INCOMING		"incoming"
#define KEY_EVENTS		"events"
#define KEY_LEAD		"lead:"
#define KEY_REP			"rep:"
#define KEY_ASSIGNMENTS		"assignments"
#define KEY_BACKLOG		"backlog:"
#define KEY_NURTURE		"nurture"
#define KEY_DEAD		"dead"
#define KEY_SLA_DUE		"sla:due"
#define KEY_SLA_WARN		"sla:warn"
#define KEY_ALERTS		"alerts"
#define KEY_ALERTS_LOG		"alerts:log"
#define KEY_STATS		"stats"
#define KEY_INSTANCES		"instances"
#define KEY_INSTANCES_REAPED	"instances:reaped"
#define KEY_INFLIGHT		"inflight:"
#define KEY_REDELIVERIES	"redeliveries"
#define KEY_INFLIGHT_SCAN	"scan:inflight"
#define KEY_SRC_ALL		"src:all"
#define KEY_SRC_DAY		"src:"
#define KEY_SRC_NAMES		"source_names"
#define KEY_OUTCOMES		"outcomes"
#define KEY_CALIB_ALL		"calib:all"
#define KEY_CALIB_DAY		"calib:"
#define KEY_CALIB_REASONS	"calib:reasons"
#define KEY_FORECAST		"forecast"
#define KEY_AUDIT		"audit"
#define KEY_WEBHOOK		"webhook:"
#define KEY_WEBHOOKS_DEAD	"webhooks:dead"
#define KEY_REPLICA_ACK		"replica:ack"

/* The tails, after the variable part. */
#define KEY_TAIL_INBOX		":inbox"
#define KEY_TAIL_OPEN		":open"
#define KEY_TAIL_WINDOW		":window"
#define KEY_TAIL_WAIT		":wait"
#define KEY_TAIL_DUE		":due"
#define KEY_TAIL_BODIES		":bodies"
#define KEY_TAIL_TRIES		":tries"
#define KEY_TAIL_REDELIVER	":redeliver"

/* Between the pieces of a part: "inflight:" <instance> ":" <source>. */
#define KEY_SEP			":"

#define LR_KEYS(X) \
	X(INCOMING, KEY_INCOMING, "", "", "list", \
	    "web forms, leadctl push (LPUSH); requeued work (RPUSH)", \
	    "leads waiting to be routed") \
	X(EVENTS, KEY_EVENTS, "", "", "list", \
	    "reps, CRM, leadctl (LPUSH); requeued work (RPUSH)", \
	    "feedback events") \
	X(LEAD, KEY_LEAD, "<id>", "", "hash", "daemon", "the lead record") \
	X(REP_INBOX, KEY_REP, "<rep>", KEY_TAIL_INBOX, "list", \
	    "daemon (LPUSH)", "assignments for the rep's tools") \
	X(ASSIGNMENTS, KEY_ASSIGNMENTS, "", "", "channel", "daemon", \
	    "every assignment, live") \
	X(BACKLOG, KEY_BACKLOG, "<segment>", "", "sorted set", "daemon", \
	    "MQLs waiting for capacity, best score then oldest first") \
	X(NURTURE, KEY_NURTURE, "", "", "list", "daemon (LPUSH)", \
	    "leads for marketing automation") \
	X(DEAD, KEY_DEAD, "", "", "list", "daemon (LPUSH)", "dead letters") \
	X(REP, KEY_REP, "<rep>", "", "hash", "daemon", \
	    "status (available/away), last_assigned_ms") \
	X(REP_OPEN, KEY_REP, "<rep>", KEY_TAIL_OPEN, "set", "daemon", \
	    "the rep's open lead ids (max_open)") \
	X(REP_WINDOW, KEY_REP, "<rep>", KEY_TAIL_WINDOW, "sorted set", \
	    "daemon", "assignment times of the last 366 days (max_per_period counts its period)") \
	X(SLA_DUE, KEY_SLA_DUE, "", "", "sorted set", "daemon", \
	    "follow-up due times by lead id") \
	X(SLA_WARN, KEY_SLA_WARN, "", "", "sorted set", "daemon", \
	    "follow-up warning times by lead id") \
	X(ALERTS, KEY_ALERTS, "", "", "channel", "daemon", \
	    "SLA and capacity alerts, live") \
	X(ALERTS_LOG, KEY_ALERTS_LOG, "", "", "stream", "daemon", \
	    "SLA and capacity alerts, durable (field alert)") \
	X(STATS, KEY_STATS, "", "", "hash", "daemon", \
	    "counters (received, valid, duplicates, dead letters by reason, " \
	    "MQLs and assignments by segment...)") \
	X(INSTANCES, KEY_INSTANCES, "", "", "sorted set", "daemon", \
	    "live instances and their lease expiry") \
	X(INSTANCES_REAPED, KEY_INSTANCES_REAPED, "", "", "sorted set", \
	    "daemon", "instances presumed dead in the last 10 minutes") \
	X(INFLIGHT, KEY_INFLIGHT, "<instance>:<source>", "", "hash", "daemon", \
	    "payloads an instance claimed and has not committed, by seq; " \
	    "tries: the seq ranges of commit calls begun and not finished") \
	X(INFLIGHT_WAIT, KEY_INFLIGHT, "<instance>:<source>", KEY_TAIL_WAIT, \
	    "list", "daemon (BLMOVE)", \
	    "a payload a blocking read took, before its claim (only daemons " \
	    "before client-side tracking write it; still claimed, requeued)") \
	X(INFLIGHT_SCAN, KEY_INFLIGHT_SCAN, "", "", "hash", "daemon", \
	    "the scan for orphaned in-flight keys: cursor, next_ms") \
	X(REDELIVERIES, KEY_REDELIVERIES, "", "", "hash", "daemon", \
	    "how often a payload (by SHA1) was requeued after a crash") \
	X(SRC_ALL, KEY_SRC_ALL, "", "", "hash", "daemon", \
	    "per-source counters, fields <source>|<stage>") \
	X(SRC_DAY, KEY_SRC_DAY, "<day>", "", "hash", "daemon", \
	    "per-source counters of one day (days since the epoch)") \
	X(SRC_NAMES, KEY_SRC_NAMES, "", "", "set", "daemon", \
	    "the sources counted by name, at most insight.max_sources") \
	X(OUTCOMES, KEY_OUTCOMES, "", "", "set", "daemon", \
	    "the outcome words counted by name besides won, lost and " \
	    "disqualified: 29 at most") \
	X(CALIB_ALL, KEY_CALIB_ALL, "", "", "hash", "daemon", \
	    "outcomes of MQLs, fields <segment>|<score>|<a, r, ra, w or l>") \
	X(CALIB_DAY, KEY_CALIB_DAY, "<day>", "", "hash", "daemon", \
	    "outcomes of MQLs of one day (days since the epoch)") \
	X(CALIB_REASONS, KEY_CALIB_REASONS, "", "", "hash", "daemon", \
	    "rejection reasons by segment, fields <segment>|<reason>") \
	X(FORECAST, KEY_FORECAST, "", "", "hash", "daemon", \
	    "the capacity forecast per segment, fields <segment>|rate...") \
	X(AUDIT, KEY_AUDIT, "", "", "stream", "daemon (audit.enabled)", \
	    "assignments and releases as the script saw them") \
	X(WEBHOOK, KEY_WEBHOOK, "<endpoint>", "", "hash", "daemon", \
	    "a webhook endpoint's last answer: last_status, last_error, " \
	    "last_error_ms, last_ok_ms") \
	X(WEBHOOK_DUE, KEY_WEBHOOK, "<endpoint>", KEY_TAIL_DUE, "sorted set", \
	    "daemon; leadctl webhooks redeliver", \
	    "the endpoint's pending deliveries (webhook-id) by next attempt, " \
	    "ms (a claimed one by the end of its lease)") \
	X(WEBHOOK_BODIES, KEY_WEBHOOK, "<endpoint>", KEY_TAIL_BODIES, "hash", \
	    "daemon; leadctl webhooks redeliver", \
	    "the body of each pending delivery, by webhook-id") \
	X(WEBHOOK_TRIES, KEY_WEBHOOK, "<endpoint>", KEY_TAIL_TRIES, "hash", \
	    "daemon", "attempts made of each pending delivery, by webhook-id") \
	X(WEBHOOK_REDELIVER, KEY_WEBHOOK, "<endpoint>", KEY_TAIL_REDELIVER, \
	    "hash", "leadctl webhooks redeliver", \
	    "the lr:webhooks:dead entry a pending redelivery came from, " \
	    "removed from that list once delivered") \
	X(WEBHOOKS_DEAD, KEY_WEBHOOKS_DEAD, "", "", "list", "daemon (LPUSH)", \
	    "webhook deliveries that ended without success") \
	X(REPLICA_ACK, KEY_REPLICA_ACK, "", "", "string", "daemon (INCR)", \
	    "with redis.replica_acks: counted up before each WAIT of a " \
	    "commit, so the WAIT covers the commit; its value means nothing")

enum lr_key {
#define LR_KEY_ENUM(name, head, part, tail, type, who, what) LR_KEY_##name,
	LR_KEYS(LR_KEY_ENUM)
#undef LR_KEY_ENUM
	LR_KEY_COUNT
};

/* One row of LR_KEYS. */
struct lr_key_def {
	const char *name;	/* "REP_OPEN" */
	const char *head;	/* "rep:" */
	const char *part;	/* "<rep>"; "" for a fixed name */
	const char *tail;	/* ":open"; "" when none */
	const char *type;	/* "set" */
	const char *who;	/* who writes it */
	const char *what;	/* what it holds */
};

/* The row of key k, for k below LR_KEY_COUNT. */
static inline const struct lr_key_def *
keys_def(enum lr_key k)
{
	static const struct lr_key_def defs[] = {
#define LR_KEY_DEF(name, head, part, tail, type, who, what) \
		{#name, head, part, tail, type, who, what},
		LR_KEYS(LR_KEY_DEF)
#undef LR_KEY_DEF
	};

	return &defs[k];
}

/*
 * Write prefix + key k's head + part [+ KEY_SEP + part2] + tail into buf
 * (len bytes, always terminated when len > 0). part is NULL for a fixed
 * name; part2, the second piece of a two-piece part, NULL when none.
 * Returns 0, or -1 when the key did not fit or k takes no part but one
 * was given (or the other way round).
 */
static inline int
keys_build(char *buf, size_t len, const char *prefix, enum lr_key k,
    const char *part, const char *part2)
{
	const struct lr_key_def *d = keys_def(k);
	const char *pieces[] = {prefix, d->head, part, part2 ? KEY_SEP : NULL,
	    part2, d->tail};
	size_t at = 0, n;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if ((d->part[0] == '\0') != (part == NULL) ||
	    (part == NULL && part2 != NULL))
		return -1;
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		if (pieces[i] == NULL)
			continue;
		n = strlen(pieces[i]);
		if (n >= len - at) {
			memcpy(buf + at, pieces[i], len - at - 1);
			buf[len - 1] = '\0';
			return -1;
		}
		memcpy(buf + at, pieces[i], n);
		at += n;
	}
	buf[at] = '\0';
	return 0;
}

#endif
