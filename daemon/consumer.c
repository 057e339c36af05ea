/* consumer.c - claim leads or events into in-flight, decide them, commit each batch atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <hiredis/hiredis.h>

#include "consumer.h"
#include "daemon.h"
#include "decide.h"
#include "event.h"
#include "instance.h"
#include "keys.h"
#include "log.h"
#include "wire.h"

struct consumer {
	struct lrd *d;
	consumer_fenced_cb *fenced;	/* and its arg */
	void *arg;
	char src[16];			/* KEY_INCOMING or KEY_EVENTS */
	bool leads;
	char key[256];			/* the source list's key */
	struct rds_conn *blk;		/* tells us when the source changes */
	int claims;			/* claim calls in the air */
	int commits;			/* commit calls in the air */
	struct call *later_head;	/* of those, the ones waiting to go
					 * again, in the order they go */
	struct call **later_tail;
	struct event *later_ev;		/* when they go */
	char after[24];			/* the seq of the payload claimed last
					 * (WIRE_COMMIT_AFTER); "" when none */
	unsigned int after_gen;		/* the instance generation of after */
	size_t air_bytes;		/* bytes those hold (claims: a budget) */
	bool more;			/* the last claim came back full */
	bool waiting;			/* a claim is owed: woken (a wake, a
					 * poll, a retry) since the last claim
					 * was sent */
	bool tracking;			/* wakes come (tracking on, subscribed) */
	bool untracked;			/* Redis refused tracking: poll faster */
	bool subscribing;		/* SUBSCRIBE sent, not confirmed */
	int sub_lost;			/* connections lost while subscribing */
	bool stopped;
	struct event *retry_ev;
	struct event *poll_ev;		/* the fallback poll */
	struct score_hit *hits;		/* scratch for the scorer */
	size_t nhits;
};

/* One script call in the air; it owns its arguments. */
struct call {
	struct consumer *c;
	unsigned int generation;
	struct rds_argv args;
	int tries;
	size_t bytes;			/* in c->air_bytes while in the air */
	bool single;		/* one item of a failed batch, sent alone */
	unsigned long conn_no;	/* the command connection it was sent on
				 * (rds_reconnects) */
	struct call *next;	/* in the consumer's later list */
};

/* Wall-clock time in ms: what a decision and a dead letter are dated. */
static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct call *
call_new(struct consumer *c, const char *op)
{
	struct call *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->c = c;
	k->generation = instance_generation(c->d->inst);
	rds_argv_init(&k->args);
	if (rds_argv_call(&k->args, op, c->d->cfg->redis.prefix) == -1) {
		rds_argv_clear(&k->args);
		free(k);
		return NULL;
	}
	return k;
}

static void
call_free(struct call *k)
{
	rds_argv_clear(&k->args);
	free(k);
}

static void claim_more(struct consumer *c);

static void
retry_later(struct consumer *c)
{
	struct timeval tv = {0, CONSUMER_RETRY_MS * 1000};

	if (!c->stopped)
		evtimer_add(c->retry_ev, &tv);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct consumer *c = arg;

	(void)fd;
	(void)what;
	consumer_kick(c);
}

/* --- commit --------------------------------------------------------------- */

#define ASSIGNED_LEN (sizeof(WIRE_RES_ASSIGNED) - 1)

/* "assigned:REP"? */
static bool
is_assigned(const char *word)
{
	return strncmp(word, WIRE_RES_ASSIGNED, ASSIGNED_LEN) == 0;
}

static void
tally_lead(struct lrd *d, const char *word)
{
	if (is_assigned(word))
		d->stats.assigned++;
	else if (strcmp(word, WIRE_RES_BACKLOG) == 0)
		d->stats.backlogged++;
	else if (strcmp(word, WIRE_RES_NURTURE) == 0)
		d->stats.nurtured++;
	else if (strcmp(word, WIRE_RES_DUPLICATE) == 0)
		d->stats.duplicates++;
	else if (strcmp(word, WIRE_RES_DEAD) == 0 ||
	    strcmp(word, WIRE_RES_KEY_CONFLICT) == 0 ||
	    strcmp(word, WIRE_RES_BAD_ITEM) == 0)
		d->stats.dead++;
	else if (strcmp(word, WIRE_RES_FENCED) == 0)
		d->stats.fenced++;
	if (strcmp(word, WIRE_RES_FENCED) != 0)
		d->stats.leads_committed++;
}

static void
tally_event(struct lrd *d, const char *word)
{
	if (strcmp(word, WIRE_RES_FENCED) == 0) {
		d->stats.fenced++;
		return;
	}
	d->stats.events++;
	if (strcmp(word, WIRE_RES_OK) != 0)
		d->stats.events_rejected++;
}

static int send_commit(struct call *k);
static int send_again(struct call *k);
static bool built_now(const struct call *k);
static int commit_later(struct call *k);
static int wait_replicas(struct call *k);
static void commit_done(struct call *k);

/* A commit goes in the air, or comes back: count it and its bytes. */
static void
commit_flying(struct call *k)
{
	if (k->bytes == 0)
		for (int i = 0; i < k->args.argc; i++)
			k->bytes += k->args.lens[i];
	k->c->commits++;
	k->c->air_bytes += k->bytes;
}

static void
commit_landed(struct call *k)
{
	k->c->commits--;
	k->c->air_bytes -= k->bytes;
}

/* Where item i's fields start in a commit's arguments (wire.h), and
 * where AFTER is in either. */
#define LEAD_BASE (WIRE_SCRIPT_ARGS + WIRE_COMMIT_ITEMS)
#define EVENT_BASE (WIRE_SCRIPT_ARGS + WIRE_EVENTS_ITEMS)
#define AFTER_AT (WIRE_SCRIPT_ARGS + WIRE_COMMIT_AFTER)
_Static_assert(WIRE_COMMIT_AFTER == WIRE_EVENTS_AFTER &&
    WIRE_LEAD_SEQ == 0 && WIRE_EVENT_SEQ == 0 && WIRE_DEAD_SEQ == 0,
    "AFTER and the items' seqs sit in one place in commits and events");

/* One log line per committed item: key=value fields for grepping. */
static void
log_result(const struct call *k, size_t i, const char *word)
{
	const struct rds_argv *a = &k->args;
	const char *const *v;
	size_t at;

	if (strcmp(word, WIRE_RES_FENCED) == 0) {
		log_warnx("%s payload was taken back from this instance; not committed",
		    k->c->src);
		return;
	}
	if (k->c->leads) {
		at = LEAD_BASE + i * WIRE_LEAD_FIELDS;
		if (at + WIRE_LEAD_FIELDS > (size_t)a->argc ||
		    strcmp(a->argv[at + WIRE_LEAD_KIND], WIRE_KIND_LEAD) != 0)
			return;		/* dead letters were logged when decided */
		v = (const char *const *)&a->argv[at];
		if (strcmp(word, WIRE_RES_DUPLICATE) == 0 ||
		    strcmp(word, WIRE_RES_KEY_CONFLICT) == 0 ||
		    strcmp(word, WIRE_RES_BAD_ITEM) == 0)
			log_info("lead refused: lead=%s reason=%s",
			    v[WIRE_LEAD_ID], word);
		else if (is_assigned(word))
			log_debug("lead routed: lead=%s score=%s segment=%s result=assigned rep=%s",
			    v[WIRE_LEAD_ID], v[WIRE_LEAD_SCORE],
			    v[WIRE_LEAD_SEGMENT], word + ASSIGNED_LEN);
		else
			log_debug("lead routed: lead=%s score=%s segment=%s result=%s",
			    v[WIRE_LEAD_ID], v[WIRE_LEAD_SCORE],
			    v[WIRE_LEAD_SEGMENT], word);
		return;
	}
	at = EVENT_BASE + i * WIRE_EVENT_FIELDS;
	if (at + WIRE_EVENT_FIELDS > (size_t)a->argc ||
	    strcmp(a->argv[at + WIRE_EVENT_KIND], WIRE_KIND_EVENT) != 0)
		return;
	v = (const char *const *)&a->argv[at];
	if (strcmp(word, WIRE_RES_OK) == 0)
		log_debug("event applied: type=%s lead=%s rep=%s",
		    v[WIRE_EVENT_TYPE], v[WIRE_EVENT_LEAD_ID], v[WIRE_EVENT_REP]);
	else
		log_info("event refused: type=%s lead=%s rep=%s reason=%s",
		    v[WIRE_EVENT_TYPE], v[WIRE_EVENT_LEAD_ID], v[WIRE_EVENT_REP],
		    word);
}

/*
 * Send each item of the failed commit k as a call of its own, in order, so
 * that one item the script cannot apply does not take the batch with it
 * (the script finishes an item a failed call began: README "Reliability").
 * 0, or -1 when one could not be sent (those sent go on).
 */
static int
commit_one_by_one(struct call *k)
{
	struct consumer *c = k->c;
	const struct rds_argv *a = &k->args;
	size_t base = c->leads ? LEAD_BASE : EVENT_BASE;
	size_t width = c->leads ? WIRE_LEAD_FIELDS : WIRE_EVENT_FIELDS;
	size_t n = ((size_t)a->argc - base) / width;
	struct call *one;
	int rc;

	log_warnx("committing the %zu %s items of the failed call one at a time",
	    n, c->src);
	for (size_t i = 0; i < n; i++) {
		if ((one = call_new(c, a->argv[WIRE_SCRIPT_OP])) == NULL)
			return -1;
		one->single = true;
		rc = 0;
		for (size_t j = WIRE_SCRIPT_ARGS; j < base && rc == 0; j++) {
			/* Each after the one before it: after a failure the
			 * rest write nothing (WIRE_ERR_BEHIND). */
			size_t from = j;

			if (j == AFTER_AT && i > 0)
				from = base + (i - 1) * width + WIRE_LEAD_SEQ;
			rc = rds_argv_add(&one->args, a->argv[from],
			    a->lens[from]);
		}
		for (size_t j = base + i * width; j < base + (i + 1) * width &&
		    rc == 0; j++)
			rc = rds_argv_add(&one->args, a->argv[j], a->lens[j]);
		if (rc == -1 || send_commit(one) == -1) {
			call_free(one);
			return -1;
		}
	}
	return 0;
}

static void
commit_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct call *k = arg;
	struct consumer *c = k->c;
	struct lrd *d = c->d;

	(void)conn;
	commit_landed(k);
	if (reply == NULL || k->generation != instance_generation(d->inst)) {
		/* Lost with the connection: the batch is still in our old
		 * in-flight hash, or was committed. Either way Redis knows. */
		call_free(k);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR && (rds_is_error(reply, "OOM") ||
	    rds_is_error(reply, "BUSY") || rds_is_error(reply, "LOADING"))) {
		/* Refused before its first write (out of memory, a busy or
		 * loading server): nothing was written; send it again. */
		log_warnx("commit of %s refused: %s; retrying", c->src,
		    reply->str);
		if (++k->tries < CONSUMER_COMMIT_TRIES && commit_later(k) == 0)
			return;
		call_free(k);
		c->fenced(c, "a commit kept being refused", true, NULL,
		    c->arg);
		return;
	}
	if (rds_is_error(reply, WIRE_ERR_BEHIND)) {
		/* A call ahead of it failed or was refused and goes again
		 * (its payloads are still in flight): nothing was written;
		 * this one follows it, now (it is in the pipeline ahead) or
		 * after a pause when it waits to go again itself. */
		log_debug("commit of %s waits for an earlier one: %s", c->src,
		    reply->str);
		if (c->later_head != NULL) {
			/* Behind one waiting to go again: it goes after it
			 * (the pause counts that one's tries, not this). */
			if (commit_later(k) == 0)
				return;
		} else if (++k->tries < CONSUMER_COMMIT_TRIES) {
			/* The one ahead is in the pipeline (a redo). */
			(void)send_again(k);
			return;
		}
		call_free(k);
		c->fenced(c, "a commit kept waiting for an earlier one", true,
		    NULL, c->arg);
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		/* A script error may come after writes, which Redis does not
		 * undo; the script finishes an item a failed call began when
		 * the same claim sends it again. So the items go again one at a
		 * time, each its own call. An item that still fails is handed
		 * back (as a new instance); the requeue counts a redelivery,
		 * so a payload that keeps failing ends as poison. */
		log_warnx("commit of %s failed: %s", c->src, reply->str);
		if (!k->single && built_now(k) && commit_one_by_one(k) == 0) {
			call_free(k);
			return;
		}
		/* One that failed alone counts a redelivery. */
		c->fenced(c, "a commit failed", true, k->single ?
		    k->args.argv[(c->leads ? LEAD_BASE : EVENT_BASE) +
		    WIRE_LEAD_SEQ] : NULL, c->arg);
		call_free(k);
		return;
	}
	if (reply->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < reply->elements; i++) {
			const redisReply *w = reply->element[i];

			if (w->type == REDIS_REPLY_INTEGER) {
				log_warnx("dead letters dropped: count=%lld, "
				    "the oldest beyond intake.dead_max",
				    w->integer);
				continue;
			}
			if (w->type != REDIS_REPLY_STRING)
				continue;
			if (c->leads)
				tally_lead(d, w->str);
			else
				tally_event(d, w->str);
			log_result(k, i, w->str);
		}
	}
	if (d->cfg->redis.replica_acks > 0 && wait_replicas(k) == 0)
		return;		/* done when the replicas answer: wait_cb */
	commit_done(k);
}

/*
 * The batch of k is committed (and, with redis.replica_acks, its WAIT has
 * answered): it counts as done. Webhooks for it may go out from here on,
 * not before (README "High availability"): a sender of the deliveries this
 * commit recorded hooks in here.
 */
static void
commit_done(struct call *k)
{
	struct consumer *c = k->c;

	call_free(k);
	claim_more(c);	/* what the limits held back, if anything is owed */
}

/* WAIT's answer: how many replicas have the commit; logged on change. */
static void
replica_acks_seen(struct lrd *d, long long acks)
{
	long long want = d->cfg->redis.replica_acks;
	bool short_now = acks < want;

	d->stats.replica_acks_last = acks;
	if (short_now)
		d->stats.replica_ack_short++;
	if (short_now && !d->stats.replica_ack_is_short)
		log_warnx("replica acks: %lld of %lld replicas acknowledged a commit within %lld ms; routing goes on, a failover now could lose it (routed again)",
		    acks, want, d->cfg->redis.replica_ack_timeout);
	else if (!short_now && d->stats.replica_ack_is_short)
		log_info("replica acks: %lld replicas acknowledge commits again",
		    acks);
	d->stats.replica_ack_is_short = short_now;
}

static int wait_on(struct call *k, struct rds_conn *conn);

static void
wait_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct call *k = arg;
	struct lrd *d = k->c->d;

	commit_landed(k);
	if (reply == NULL && conn == d->acks &&
	    rds_reconnects(d->cmd) == k->conn_no && wait_on(k, d->cmd) == 0)
		return;		/* lost, or its INCR refused: on the command
				 * connection, which wrote the commit (the
				 * same one, not one made since) */
	if (reply == NULL) {
		/* Lost with the connection: the commit ran; whether a replica
		 * has it, a failover tells (README "High availability"). */
		commit_done(k);
		return;
	}
	if (reply->type == REDIS_REPLY_INTEGER)
		replica_acks_seen(d, reply->integer);
	else
		log_warnx("replica acks: WAIT failed: %s",
		    reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
	commit_done(k);
}

/* WAIT on conn for the commit of k, which stays in the air (the pipeline
 * waits for it) until wait_cb. 0, or -1 when it could not be sent. */
static int
wait_on(struct call *k, struct rds_conn *conn)
{
	const struct lr_config *cfg = k->c->d->cfg;

	if (rds_wait(conn, cfg->redis.replica_acks,
	    cfg->redis.replica_ack_timeout, wait_cb, k) == -1)
		return -1;
	commit_flying(k);
	return 0;
}

/*
 * redis.replica_acks: WAIT for that many replicas to have the commit of k
 * (its reply came). The WAIT goes on the connection of its own, after an
 * INCR that replication orders after the commit, so the command
 * connection (SLA timers, drains, the read API, /metrics) never waits
 * behind it; on the command connection, which wrote the commit, while
 * that one is not up on the same server (in a cluster it is moved there).
 * 0, or -1 when it could not be sent.
 */
static int
wait_replicas(struct call *k)
{
	struct lrd *d = k->c->d;

	if (rds_same_server(d->acks, d->cmd) && wait_on(k, d->acks) == 0)
		return 0;
	rds_join(d->acks, d->cmd);
	return wait_on(k, d->cmd);
}

/*
 * Was k built with the routing in force? A call decided and routed by the
 * configuration before a reload must not run once the reload has been
 * reported (its barrier passed): it is not sent again, its items go back
 * (as a new instance) and are decided again under the new one.
 */
static bool
built_now(const struct call *k)
{
	_Static_assert(WIRE_COMMIT_ROUTING == WIRE_EVENTS_ROUTING,
	    "commit and events carry the routing in one place");
	return decide_routing_same_config(k->args.argv[WIRE_SCRIPT_ARGS +
	    WIRE_COMMIT_ROUTING], k->c->d->routing);
}

/* Send k again now, if it was built with the routing in force; -1 when
 * it was not sent (freed; the consumer fenced when it was built before a
 * reload). */
static int
send_again(struct call *k)
{
	struct consumer *c = k->c;

	if (k->generation != instance_generation(c->d->inst)) {
		call_free(k);	/* requeued with the old instance */
		return -1;
	}
	if (!built_now(k)) {
		call_free(k);
		c->fenced(c, "a commit sent again was built before a reload",
		    true, NULL, c->arg);
		return -1;
	}
	if (send_commit(k) == -1) {
		/* Lost with the connection (a new instance; the old one's
		 * work comes back with its lease), or out of memory: then
		 * the calls behind it would wait for it in vain. */
		call_free(k);
		if (rds_up(c->d->cmd))
			c->fenced(c, "cannot send a commit again", true, NULL,
			    c->arg);
		return -1;
	}
	return 0;
}

/* The pause is over: the calls waiting go again, in the order they came
 * back (their order in the pipeline, that of their claims). */
static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct consumer *c = arg;
	struct call *k, *next;

	(void)fd;
	(void)what;
	k = c->later_head;
	c->later_head = NULL;
	c->later_tail = &c->later_head;
	for (; k != NULL; k = next) {
		next = k->next;
		k->next = NULL;
		commit_landed(k);	/* counted again by send_commit */
		(void)send_again(k);
	}
}

/*
 * Send a commit again after a pause (Redis out of memory, or a call ahead
 * of it is waiting so): the calls waiting share one timer and go again in
 * the order they came back, so none is sent before one it must follow.
 */
static int
commit_later(struct call *k)
{
	struct consumer *c = k->c;
	struct timeval tv = {0, CONSUMER_RETRY_MS * 1000};

	if (c->later_head == NULL && evtimer_add(c->later_ev, &tv) == -1)
		return -1;
	k->next = NULL;
	*c->later_tail = k;
	c->later_tail = &k->next;
	commit_flying(k);	/* still in the air: the pipeline waits for it */
	return 0;
}

static int
send_commit(struct call *k)
{
	struct consumer *c = k->c;

	if (rds_script(c->d->cmd, &c->d->script, c->d->key, &k->args,
	    commit_cb, k) == -1)
		return -1;
	k->conn_no = rds_reconnects(c->d->cmd);
	commit_flying(k);
	return 0;
}

/*
 * One item of a commit or events call: its fields by their wire.h index,
 * appended in index order. Unset fields go as "".
 */
struct item {
	const char *v[WIRE_LEAD_FIELDS > WIRE_EVENT_FIELDS ?
	    WIRE_LEAD_FIELDS : WIRE_EVENT_FIELDS];
	size_t len[WIRE_LEAD_FIELDS > WIRE_EVENT_FIELDS ?
	    WIRE_LEAD_FIELDS : WIRE_EVENT_FIELDS];
};

static void
item_set(struct item *it, int i, const char *v, size_t len)
{
	it->v[i] = v;
	it->len[i] = len;
}

static void
item_sets(struct item *it, int i, const char *v)
{
	item_set(it, i, v, strlen(v));
}

static int
item_append(struct rds_argv *a, const struct item *it, int n)
{
	for (int i = 0; i < n; i++)
		if (rds_argv_add(a, it->v[i] ? it->v[i] : "", it->len[i]) == -1)
			return -1;
	return 0;
}

/* A dead item: seq, kind, reason and JSON (WIRE_DEAD_*), the sha last. */
static void
item_dead(struct item *it, const char *reason, const char *json)
{
	item_sets(it, WIRE_DEAD_KIND, WIRE_KIND_DEAD);
	item_sets(it, WIRE_DEAD_REASON, reason);
	item_sets(it, WIRE_DEAD_JSON, json);
}

/* Append one lead's WIRE_LEAD_FIELDS fields. */
static int
add_lead(struct consumer *c, struct rds_argv *a, const char *seq,
    const redisReply *raw, const redisReply *sha, long long redeliveries)
{
	const struct lr_config *cfg = c->d->cfg;
	struct lead_decision dec;
	struct item it = {0};
	char score[24];
	int rc;

	if (decide_lead(cfg, raw->str, raw->len, redeliveries, wall_ms(),
	    c->hits, &dec) == -1)
		return -1;
	item_sets(&it, WIRE_LEAD_SEQ, seq);
	if (dec.kind == DECISION_DEAD) {
		log_info("lead dead-lettered: reason=%s",
		    dl_reason_name(dec.reason));
		item_dead(&it, dl_reason_name(dec.reason), dec.dead_json);
	} else {
		snprintf(score, sizeof(score), "%lld", dec.score);
		item_sets(&it, WIRE_LEAD_KIND, WIRE_KIND_LEAD);
		item_sets(&it, WIRE_LEAD_ID, dec.id);
		item_sets(&it, WIRE_LEAD_SCORE, score);
		item_sets(&it, WIRE_LEAD_SEGMENT,
		    cfg->segments.v[dec.segment].name);
		item_sets(&it, WIRE_LEAD_MQL, dec.mql ? "1" : "0");
		item_sets(&it, WIRE_LEAD_SOURCE, dec.source);
		/* WIRE_LEAD_RAW stays "": the script has the payload in flight. */
		item_sets(&it, WIRE_LEAD_RECEIPT, dec.receipt);
	}
	item_set(&it, WIRE_LEAD_SHA, sha->str, sha->len);
	rc = item_append(a, &it, WIRE_LEAD_FIELDS);
	lead_decision_clear(&dec);
	return rc;
}

/* Append one event's WIRE_EVENT_FIELDS fields. */
static int
add_event(struct consumer *c, struct rds_argv *a, const char *seq,
    const redisReply *raw, const redisReply *sha, long long redeliveries)
{
	struct event_msg ev;
	struct lead_error err;
	struct item it = {0};
	char *dead;
	int rc;

	item_sets(&it, WIRE_EVENT_SEQ, seq);
	item_set(&it, WIRE_EVENT_SHA, sha->str, sha->len);
	if (redeliveries >= DECIDE_POISON_REDELIVERIES) {
		err.reason = DL_POISON;
		snprintf(err.detail, sizeof(err.detail),
		    "event was in flight in %lld daemon crashes; set aside unparsed",
		    redeliveries);
	} else if (event_parse(raw->str, raw->len, c->d->cfg->intake.max_bytes,
	    &ev, &err) == 0) {
		item_sets(&it, WIRE_EVENT_KIND, WIRE_KIND_EVENT);
		item_sets(&it, WIRE_EVENT_TYPE, event_type_name(ev.type));
		item_sets(&it, WIRE_EVENT_LEAD_ID, ev.lead_id);
		item_sets(&it, WIRE_EVENT_REP, ev.rep);
		item_sets(&it, WIRE_EVENT_ARG, ev.arg);
		item_set(&it, WIRE_EVENT_RAW, raw->str, raw->len);
		return item_append(a, &it, WIRE_EVENT_FIELDS);
	}
	if (err.reason == DL_NONE)
		return -1;	/* out of memory: no verdict on the event */
	log_info("event dead-lettered: reason=%s detail=\"%s\"",
	    dl_reason_name(err.reason), err.detail);
	if ((dead = decide_event_dead(&err, raw->str, raw->len,
	    wall_ms())) == NULL)
		return -1;
	item_dead(&it, dl_reason_name(err.reason), dead);
	rc = item_append(a, &it, WIRE_EVENT_FIELDS);
	free(dead);
	return rc;
}

/*
 * Append the dead item of a payload the claim left in Redis for being
 * too large (CLAIMED OVERSIZE, len bytes): its dead letter without "raw"
 * and the closing brace (WIRE_KIND_DEAD_RAW); the script appends them.
 */
static int
add_oversize(struct consumer *c, struct rds_argv *a, const char *seq,
    const redisReply *sha, size_t len)
{
	static const char tail[] = ",\"raw\":\"\"}";
	struct lead_error err;
	struct item it = {0};
	char *json;
	size_t n;
	int rc;

	if (lead_check_bytes(NULL, len, c->d->cfg->intake.max_bytes,
	    &err) == 0)
		return -1;	/* the script and the daemon disagree */
	if (c->leads)
		log_info("lead dead-lettered: reason=%s",
		    dl_reason_name(err.reason));
	else
		log_info("event dead-lettered: reason=%s detail=\"%s\"",
		    dl_reason_name(err.reason), err.detail);
	if ((json = dl_json(err.reason, err.detail, wall_ms(), c->src, "",
	    0)) == NULL)
		return -1;
	n = strlen(json);
	if (n < sizeof(tail) - 1 || strcmp(json + n - (sizeof(tail) - 1),
	    tail) != 0) {
		free(json);
		return -1;
	}
	json[n - (sizeof(tail) - 1)] = '\0';
	_Static_assert(WIRE_LEAD_SEQ == WIRE_DEAD_SEQ &&
	    WIRE_EVENT_SEQ == WIRE_DEAD_SEQ, "dead items moved");
	item_sets(&it, WIRE_DEAD_SEQ, seq);
	item_dead(&it, dl_reason_name(err.reason), json);
	item_sets(&it, WIRE_DEAD_KIND, WIRE_KIND_DEAD_RAW);
	if (c->leads) {
		item_set(&it, WIRE_LEAD_SHA, sha->str, sha->len);
		rc = item_append(a, &it, WIRE_LEAD_FIELDS);
	} else {
		item_set(&it, WIRE_EVENT_SHA, sha->str, sha->len);
		rc = item_append(a, &it, WIRE_EVENT_FIELDS);
	}
	free(json);
	return rc;
}

/*
 * Turn a claim's reply (the claim's time, then payload, sha, redeliveries
 * triples) into a commit. first_seq is the seq of the first payload.
 */
static int
build_commit(struct consumer *c, const redisReply *reply,
    unsigned long long first_seq, struct call **out)
{
	struct call *k;
	char seq[32];
	size_t n = (reply->elements - WIRE_CLAIM_REPLY_ITEMS) /
	    WIRE_CLAIMED_FIELDS;
	int rc;

	/* The arguments before the items go in wire.h's order. */
	_Static_assert(WIRE_COMMIT_INSTANCE == 0 && WIRE_COMMIT_ROUTING == 1 &&
	    WIRE_COMMIT_AFTER == 2 && WIRE_COMMIT_CLAIMED_AT == 3 &&
	    WIRE_COMMIT_ITEMS == 4 && WIRE_EVENTS_INSTANCE == 0 &&
	    WIRE_EVENTS_ROUTING == 1 && WIRE_EVENTS_AFTER == 2 &&
	    WIRE_EVENTS_ITEMS == 3, "commit and events arguments moved");
	*out = NULL;
	/* Claims are committed in the order they were made: a commit comes
	 * after the one of the payload this consumer claimed last. */
	if (c->after_gen != instance_generation(c->d->inst))
		c->after[0] = '\0';
	if ((k = call_new(c, c->leads ? WIRE_OP_COMMIT : WIRE_OP_EVENTS)) ==
	    NULL ||
	    rds_argv_adds(&k->args, instance_id(c->d->inst)) == -1 ||
	    rds_argv_adds(&k->args, c->d->routing) == -1 ||
	    rds_argv_adds(&k->args, c->after) == -1 ||
	    (c->leads && rds_argv_addll(&k->args,
	    reply->element[WIRE_CLAIM_REPLY_TIME]->integer) == -1))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		redisReply *const *e = &reply->element[
		    WIRE_CLAIM_REPLY_ITEMS + WIRE_CLAIMED_FIELDS * i];
		const redisReply *raw = e[WIRE_CLAIMED_PAYLOAD];
		const redisReply *sha = e[WIRE_CLAIMED_SHA];
		const redisReply *cnt = e[WIRE_CLAIMED_REDELIVERIES];
		const redisReply *big = e[WIRE_CLAIMED_OVERSIZE];

		if (raw->type != REDIS_REPLY_STRING ||
		    sha->type != REDIS_REPLY_STRING ||
		    cnt->type != REDIS_REPLY_INTEGER ||
		    big->type != REDIS_REPLY_INTEGER)
			goto fail;
		snprintf(seq, sizeof(seq), "%llu", first_seq + i);
		if (big->integer > 0)
			rc = add_oversize(c, &k->args, seq, sha,
			    (size_t)big->integer);
		else if (c->leads)
			rc = add_lead(c, &k->args, seq, raw, sha, cnt->integer);
		else
			rc = add_event(c, &k->args, seq, raw, sha,
			    cnt->integer);
		if (rc == -1)
			goto fail;
	}
	snprintf(c->after, sizeof(c->after), "%llu", first_seq + n - 1);
	c->after_gen = k->generation;
	*out = k;
	return 0;
fail:
	if (k != NULL)
		call_free(k);
	return -1;
}

/* --- claim ---------------------------------------------------------------- */

struct claim {
	struct call *k;
	unsigned long long first_seq;
};

/* The bytes of a claim reply's n payloads (oversize ones: their length). */
static size_t
claimed_bytes(const redisReply *reply, size_t n)
{
	redisReply *const *e;
	size_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		e = &reply->element[WIRE_CLAIM_REPLY_ITEMS +
		    WIRE_CLAIMED_FIELDS * i];
		sum += e[WIRE_CLAIMED_PAYLOAD]->len;
		if (e[WIRE_CLAIMED_OVERSIZE]->type == REDIS_REPLY_INTEGER &&
		    e[WIRE_CLAIMED_OVERSIZE]->integer > 0)
			sum += (size_t)e[WIRE_CLAIMED_OVERSIZE]->integer;
	}
	return sum;
}

static void
claim_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct claim *cl = arg;
	struct call *k = cl->k, *commit;
	struct consumer *c = k->c;
	struct lrd *d = c->d;
	size_t n;

	(void)conn;
	c->claims--;
	c->air_bytes -= CONSUMER_BATCH_BYTES;
	if (reply == NULL)
		goto out;
	if (k->generation != instance_generation(d->inst))
		goto out_more;	/* the new instance's owed claim waited */
	if (rds_is_error(reply, WIRE_ERR_FENCED)) {
		c->fenced(c, "a claim was refused: this instance is no longer registered",
		    false, NULL, c->arg);
		goto out;
	}
	if (reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < WIRE_CLAIM_REPLY_ITEMS ||
	    reply->element[WIRE_CLAIM_REPLY_TIME]->type !=
	    REDIS_REPLY_INTEGER) {
		log_warnx("claim from %s failed: %s; retrying", c->src,
		    reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
		c->more = false;
		retry_later(c);
		goto out;
	}
	n = (reply->elements - WIRE_CLAIM_REPLY_ITEMS) / WIRE_CLAIMED_FIELDS;
	d->stats.leads_claimed += c->leads ? n : 0;
	/* Full by count or by bytes: more may wait. */
	c->more = n == CONSUMER_BATCH || (n > 0 &&
	    claimed_bytes(reply, n) >= CONSUMER_BATCH_BYTES);
	if (n > 0) {
		if (build_commit(c, reply, cl->first_seq, &commit) == -1 ||
		    send_commit(commit) == -1) {
			/* The payloads stay in our in-flight hash; become a
			 * new instance so they are requeued, not stranded. */
			if (commit != NULL)
				call_free(commit);
			c->fenced(c, "cannot build or send a commit", true, NULL,
			    c->arg);
			goto out;
		}
	}
out_more:
	claim_more(c);
out:
	call_free(k);
	free(cl);
}

/*
 * Send the claims owed, as many as the pipeline allows: after a full claim
 * (more may wait), pipelined up to CONSUMER_MAX_CLAIMS; after a wake, one,
 * once no call of ours is in the air. A wake that comes while a claim is
 * in the air is often that claim's own pop; either way a claim sent after
 * that claim's reply runs after whatever change caused the wake, so it
 * waits there (sent now, it would run before the commit of what the first
 * one took, and delay it). It waits for the commit's reply too: sent with
 * the commit, it would reach Redis in the same read, run before Redis
 * writes the commit's replies and messages (the assignments), and delay
 * those by a script call. Nothing owed: nothing sent.
 */
static void
claim_more(struct consumer *c)
{
	struct lrd *d = c->d;
	struct claim *cl;

	/* Events apply in push order: one call of theirs in the air, so
	 * that a commit sent again (out of memory, NOSCRIPT) is never
	 * overtaken by a later one. Leads pipeline. */
	while (!c->stopped && instance_registered(d->inst) && rds_up(d->cmd) &&
	    c->claims < CONSUMER_MAX_CLAIMS &&
	    c->claims + c->commits < (c->leads ? CONSUMER_MAX_IN_FLIGHT : 1) &&
	    (c->claims + c->commits == 0 ||
	    c->air_bytes < CONSUMER_IN_FLIGHT_BYTES) &&
	    (c->more || (c->waiting && c->claims + c->commits == 0))) {
		if ((cl = calloc(1, sizeof(*cl))) == NULL)
			return;
		if ((cl->k = call_new(c, WIRE_OP_CLAIM)) == NULL) {
			free(cl);
			return;
		}
		cl->first_seq = d->next_seq;
		_Static_assert(WIRE_CLAIM_INSTANCE == 0 &&
		    WIRE_CLAIM_SOURCE == 1 && WIRE_CLAIM_MAX == 2 &&
		    WIRE_CLAIM_SEQ == 3 && WIRE_CLAIM_BYTES == 4 &&
		    WIRE_CLAIM_MAX_BYTES == 5, "claim's arguments moved");
		if (rds_argv_adds(&cl->k->args, instance_id(d->inst)) == -1 ||
		    rds_argv_adds(&cl->k->args, c->src) == -1 ||
		    rds_argv_addll(&cl->k->args, CONSUMER_BATCH) == -1 ||
		    rds_argv_addll(&cl->k->args,
		    (long long)cl->first_seq) == -1 ||
		    rds_argv_addll(&cl->k->args, CONSUMER_BATCH_BYTES) == -1 ||
		    rds_argv_addll(&cl->k->args,
		    (long long)d->cfg->intake.max_bytes) == -1 ||
		    rds_script(d->cmd, &d->script, d->key, &cl->k->args,
		    claim_cb, cl) == -1) {
			call_free(cl->k);
			free(cl);
			return;
		}
		d->next_seq += CONSUMER_BATCH;
		c->claims++;
		c->air_bytes += CONSUMER_BATCH_BYTES;
		c->waiting = false;	/* this claim runs after the wake */
		if (!c->more)
			break;
	}
}

void
consumer_kick(struct consumer *c)
{
	c->waiting = true;
	claim_more(c);
}

/* --- waking ----------------------------------------------------------------- */

/*
 * An idle consumer must wake when a payload is pushed, without receiving
 * it (a blocking pop would hand it over whatever its size). Its own
 * connection turns on client-side tracking in broadcast mode for the
 * source's key, redirected to itself, and subscribes to the invalidation
 * channel (RESP2): every change of the list (a push, a claim) sends the
 * key's name, and each wake owes an ordinary claim, bounded by count and
 * bytes, sent at once or after the reply of the claim in the air
 * (claim_more). A claim sent after the wake runs after the change that
 * caused it.
 * A poll every CONSUMER_POLL_MS (CONSUMER_RETRY_MS while Redis refuses
 * tracking) and a claim at each (re)connection cover what tracking cannot
 * see: changes while the connection was down, a wake lost with it.
 */
#define INVALIDATE_CHANNEL "__redis__:invalidate"

static bool
is_str(const redisReply *r, const char *s)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING ||
	    r->type == REDIS_REPLY_STATUS) && r->len == strlen(s) &&
	    memcmp(r->str, s, r->len) == 0;
}

/* A message of the invalidation channel, or the subscription's reply. */
static void
invalidate_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct consumer *c = arg;
	const redisReply *keys;

	(void)conn;
	if (c->stopped || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 3)
		return;
	if (is_str(reply->element[0], "subscribe")) {
		/* Changes from now on wake us; the claim catches up on
		 * those before. */
		c->tracking = true;
		c->subscribing = false;
		c->sub_lost = 0;
		log_debug("consumer of %s: woken by changes of %s", c->src,
		    c->key);
		consumer_kick(c);
		return;
	}
	if (!is_str(reply->element[0], "message"))
		return;
	keys = reply->element[2];
	if (keys->type != REDIS_REPLY_ARRAY) {
		consumer_kick(c);	/* a flush: every key changed */
		return;
	}
	/* The prefix matches longer keys too: wake for ours only. */
	for (size_t i = 0; i < keys->elements; i++)
		if (is_str(keys->element[i], c->key)) {
			consumer_kick(c);
			return;
		}
}

/* Tracking refused (an ACL, a Redis without it): poll instead. */
static void
untracked(struct consumer *c, const char *what, const redisReply *reply)
{
	if (!c->untracked)
		log_warnx("consumer of %s: %s refused (%s); polling every %d ms instead",
		    c->src, what, reply->type == REDIS_REPLY_ERROR ?
		    reply->str : reply->type == REDIS_REPLY_NIL ?
		    "connection dropped" : "unexpected reply",
		    CONSUMER_RETRY_MS);
	c->untracked = true;
}

static void
track_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct consumer *c = arg;

	if (reply == NULL || c->stopped)
		return;		/* lost: the connection coming back redoes it */
	if (reply->type != REDIS_REPLY_STATUS) {
		untracked(c, "CLIENT TRACKING", reply);
		return;
	}
	if (rds_subscribe(conn, INVALIDATE_CHANNEL, invalidate_cb, c) == 0)
		c->subscribing = true;
}

/* CLIENT ID's reply: redirect the invalidations to this connection. */
static void
id_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct consumer *c = arg;
	char id[32];
	const char *argv[] = {"CLIENT", "TRACKING", "on", "REDIRECT", id,
	    "BCAST", "PREFIX", c->key};
	size_t lens[sizeof(argv) / sizeof(argv[0])];

	if (reply == NULL || c->stopped)
		return;
	if (reply->type != REDIS_REPLY_INTEGER) {
		untracked(c, "CLIENT ID", reply);
		return;
	}
	snprintf(id, sizeof(id), "%lld", reply->integer);
	for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
		lens[i] = strlen(argv[i]);
	(void)rds_command(conn, track_cb, c, 0,
	    (int)(sizeof(argv) / sizeof(argv[0])), argv, lens);
}

/*
 * Redis Cluster: tracking is per node, and this connection's other
 * commands name no key, so it would stay on the seed node. EXISTS on the
 * key first: a MOVED answer takes the connection to the slot's node (the
 * callback then gets NULL, and the new connection starts over); any other
 * answer means this is the node: track here.
 */
static void
locate_cb(struct rds_conn *conn, redisReply *reply, void *arg)
{
	struct consumer *c = arg;

	if (reply == NULL || c->stopped)
		return;
	(void)rds_commandf(conn, id_cb, c, "CLIENT ID");
}

static void
blk_state_cb(struct rds_conn *conn, bool up, void *arg)
{
	struct consumer *c = arg;

	c->tracking = false;
	if (!up && c->subscribing && ++c->sub_lost == CONSUMER_SUBSCRIBE_TRIES) {
		/* hiredis drops a connection whose SUBSCRIBE is refused. */
		static const redisReply why = {.type = REDIS_REPLY_NIL};

		untracked(c, "SUBSCRIBE " INVALIDATE_CHANNEL, &why);
	}
	c->subscribing = false;
	if (!up || c->stopped)
		return;
	/* A new connection, a new client id: track again. Claim at once
	 * too (what was pushed while no wake could come). */
	if (!c->untracked && c->d->cfg->redis.cluster)
		(void)rds_commandf(conn, locate_cb, c, "EXISTS %s", c->key);
	else if (!c->untracked)
		(void)rds_commandf(conn, id_cb, c, "CLIENT ID");
	consumer_kick(c);
}

static void
poll_later(struct consumer *c)
{
	struct timeval tv;
	long ms = c->tracking || !c->untracked ? CONSUMER_POLL_MS :
	    CONSUMER_RETRY_MS;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (!c->stopped)
		evtimer_add(c->poll_ev, &tv);
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct consumer *c = arg;

	(void)fd;
	(void)what;
	if (c->claims == 0)
		consumer_kick(c);
	/* Redis Cluster: after a slot migration the key is served by
	 * another node, which this connection learns only from a command
	 * naming it (MOVED moves it there; it tracks again on arrival). */
	if (c->d->cfg->redis.cluster && rds_up(c->blk))
		(void)rds_commandf(c->blk, NULL, NULL, "EXISTS %s", c->key);
	poll_later(c);
}

/* --- life cycle ------------------------------------------------------------- */

struct consumer *
consumer_new(struct lrd *d, const char *src, consumer_fenced_cb *fenced,
    void *arg)
{
	struct consumer *c;
	char name[32];

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->d = d;
	c->fenced = fenced;
	c->arg = arg;
	snprintf(c->src, sizeof(c->src), "%s", src);
	c->leads = strcmp(src, KEY_INCOMING) == 0;
	snprintf(name, sizeof(name), "wakes %s", src);
	c->blk = rds_new(d->base, &d->ropts, name, blk_state_cb, c);
	c->retry_ev = evtimer_new(d->base, retry_cb, c);
	c->poll_ev = evtimer_new(d->base, poll_cb, c);
	c->later_ev = evtimer_new(d->base, later_cb, c);
	c->later_tail = &c->later_head;
	if (c->blk == NULL || c->retry_ev == NULL || c->poll_ev == NULL ||
	    c->later_ev == NULL ||
	    keys_build(c->key, sizeof(c->key), d->cfg->redis.prefix,
	    c->leads ? LR_KEY_INCOMING : LR_KEY_EVENTS, NULL, NULL) == -1) {
		consumer_free(c);
		return NULL;
	}
	rds_start(c->blk);
	poll_later(c);
	return c;
}

int
consumer_fit(struct consumer *c)
{
	size_t n = c->d->cfg->scoring.nrules;
	struct score_hit *h;

	if (n <= c->nhits && c->hits != NULL)
		return 0;
	if ((h = realloc(c->hits, (n ? n : 1) * sizeof(*h))) == NULL)
		return -1;
	c->hits = h;
	c->nhits = n;
	return 0;
}

void
consumer_reset(struct consumer *c)
{
	c->more = false;
	c->waiting = false;	/* the new instance claims once registered */
}

bool
consumer_idle(const struct consumer *c)
{
	return c->claims == 0 && c->commits == 0;
}

unsigned long
consumer_reconnects(const struct consumer *c)
{
	return rds_reconnects(c->blk);
}

void
consumer_stop(struct consumer *c)
{
	c->stopped = true;
	evtimer_del(c->retry_ev);
	evtimer_del(c->poll_ev);
	rds_stop(c->blk);
}

void
consumer_free(struct consumer *c)
{
	struct call *k, *next;

	if (c == NULL)
		return;
	/* Calls still waiting to go again at exit: in flight in Redis,
	 * requeued with this instance. */
	for (k = c->later_head; k != NULL; k = next) {
		next = k->next;
		call_free(k);
	}
	if (c->later_ev != NULL)
		event_free(c->later_ev);
	rds_free(c->blk);
	if (c->retry_ev != NULL)
		event_free(c->retry_ev);
	if (c->poll_ev != NULL)
		event_free(c->poll_ev);
	free(c->hits);
	free(c);
}
