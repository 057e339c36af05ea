/*
 * checker.h - the invariant checker of integration tests: after any
 * scenario, from Redis alone, is every pushed lead in exactly one place,
 * did no rep ever go over a limit, did every missed follow-up get exactly
 * one breach, and is no dead instance's in-flight work left behind?
 *
 * The checker reads everything the daemon writes (lead records, inboxes,
 * backlogs, nurture, dead letters, the queue and in-flight hashes, the
 * audit trail lr:audit, the alert log lr:alerts:log) and counts what is
 * wrong. It needs the audit trail on (audit = { enabled = true; }): the
 * capacity invariant is checked by replaying every assignment and release
 * in order, not by looking at the end state. It does not use cmocka: the
 * caller asserts on the counts, and the first few problems of each kind
 * are printed to stderr with the lead and the place.
 */
#ifndef LR_CHECKER_H
#define LR_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <hiredis/hiredis.h>

/* What the test did about a lead's follow-up. */
enum chk_followup {
	CHK_FU_NONE,	/* nothing: what the record shows decides */
	CHK_FU_IN_TIME,	/* followed up (or closed) well before it was due:
			 * the record must show it and no breach may exist */
	CHK_FU_RACE,	/* followed up close to its due time: either in time
			 * (no breach), or a breach and then the follow-up */
};

/* One payload the test pushed onto lr:incoming. */
struct chk_item {
	const char *id;		/* its lead id; NULL when it has none */
	const char *raw;	/* the exact bytes, when they identify it
				 * (hostile input); NULL: found by id */
	size_t raw_len;
	const char *expect;	/* NULL: any fate; "routed": accepted (a
				 * record); else the dead-letter reason */
	enum chk_followup followup;
};

/*
 * A rep's limits from Redis time since_ms on (ms; 0 = from the start).
 * Several entries for one rep describe a reload: the latest one whose
 * since_ms is not after an assignment applies to it. max_open 0 means
 * the rep may get no new lead (removed from the configuration). A rep
 * not listed is held to the limits the script itself recorded.
 */
struct chk_rep {
	const char *id;
	long long max_open;
	long long max_per_period;	/* 0 = unlimited */
	long long since_ms;
};

struct chk_spec {
	const char *prefix;		/* NULL: "lr:" */
	const struct chk_item *items;
	size_t nitems;
	const struct chk_rep *reps;
	size_t nreps;
	long long period_ms;		/* capacity.period; 0: one week */
	long long settle_ms;		/* wait for quiet at most; 0: 30 s */
	long long race_slack_ms;	/* a follow-up this late may still beat
					 * its breach; 0: 1000 */
};

struct chk_result {
	/* The invariants: each must be 0 (pushed aside). */
	long pushed;			/* payloads the test pushed */
	long lost;			/* in no place, half-written, an event lost */
	long duplicated;		/* in two places, assigned twice */
	long capacity_violations;	/* an assignment over a limit */
	long alerts_missed;		/* a missed follow-up without its breach */
	long alerts_doubled;		/* a second (or early, or undue) alert */
	long stale_inflight;		/* in-flight work of a dead instance */
	long strays;			/* state no pushed payload explains */
	long wrong_reason;		/* dead-lettered for another reason */
	long audit_mismatch;		/* the audit trail and the state disagree */
	/* What was found, for the record. */
	long assigned, backlog, nurture, closed, dead, queued, poison;
	long assignments, breaches, warnings, escalations, pending_alerts;
	long forecasts;			/* capacity_forecast alerts */
	long long fenced;		/* commits refused (lr:stats fenced) */
	bool settled;			/* queue, in-flight and timers went quiet */
};

/*
 * Wait (at most spec->settle_ms) until the queues, every in-flight hash
 * and every overdue SLA timer are empty, then check every invariant and
 * fill res. Returns 0, or -1 when Redis could not be read (res partial).
 */
int chk_run(redisContext *c, const struct chk_spec *spec,
    struct chk_result *res);
/* Are all the invariants' counts zero? */
bool chk_clean(const struct chk_result *res);
/* One line: name and every count. */
void chk_print(FILE *f, const char *name, const struct chk_result *res);

#endif
