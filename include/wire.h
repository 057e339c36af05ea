/*
 * wire.h - the script's calling convention, named once: its operations,
 * where each argument sits, how the items of a commit and the replies are
 * laid out, and the words it answers with. The C code reads them here, and
 * the build inlines them into the Lua script (daemon/lua/wire2lua.c).
 *
 * A call is EVALSHA sha 1 KEY argv..., KEY any key under the prefix (for
 * Redis Cluster routing). argv is laid out as WIRE_SCRIPT: the operation,
 * the key prefix, then the operation's arguments, laid out as the layout
 * of the operation's name. Indices count from 0, as in a C argv and in a
 * hiredis reply; the Lua reads argument i of the operation as
 * ARGV[1 + SCRIPT.ARGS + i].
 *
 * WIRE_LAYOUTS:	X(LAYOUT, number of fields, what it is)
 * WIRE_FIELDS:		X(LAYOUT, FIELD, index, what it holds)
 * give C the constants WIRE_<LAYOUT>_<FIELD> and WIRE_<LAYOUT>_FIELDS,
 * and Lua the names LAYOUT.FIELD and LAYOUT_FIELDS.
 *
 * WIRE_WORDS:		X(GROUP, NAME, what it means)
 * names the strings WIRE_<GROUP>_<NAME> (defined below) that travel in
 * arguments and replies; Lua writes them GROUP.NAME.
 */
#ifndef LR_WIRE_H
#define LR_WIRE_H

#include <stddef.h>

/* The operations (argv[WIRE_SCRIPT_OP]). */
#define WIRE_OP_HEARTBEAT	"heartbeat"
#define WIRE_OP_RELEASE		"release"
#define WIRE_OP_CLAIM		"claim"
#define WIRE_OP_COMMIT		"commit"
#define WIRE_OP_EVENTS		"events"
#define WIRE_OP_DRAIN		"drain"
#define WIRE_OP_SLA		"sla"
#define WIRE_OP_FORECAST	"forecast"
#define WIRE_OP_METRICS		"metrics"
#define WIRE_OP_STRAYS		"strays"
#define WIRE_OP_MOVE		"move"
#define WIRE_OP_STATUS		"status"
#define WIRE_OP_BOARD		"board"
#define WIRE_OP_WHCLAIM		"whclaim"
#define WIRE_OP_WHDONE		"whdone"
#define WIRE_OP_WHRETRY		"whretry"
#define WIRE_OP_WHDEAD		"whdead"

/* The webhook event types (contract section 10), WIRE_WH_*: the words of
 * an endpoint's events list and of a delivery's "type". */
#define WIRE_WH_ASSIGNED	"lead.assigned"
#define WIRE_WH_REASSIGNED	"lead.reassigned"
#define WIRE_WH_BACKLOGGED	"lead.backlogged"
#define WIRE_WH_NURTURED	"lead.nurtured"
#define WIRE_WH_FOLLOWED_UP	"lead.followed_up"
#define WIRE_WH_REJECTED	"lead.rejected"
#define WIRE_WH_CLOSED		"lead.closed"
#define WIRE_WH_SLA_WARNING	"sla.warning"
#define WIRE_WH_SLA_BREACH	"sla.breach"
#define WIRE_WH_SLA_ESCALATION	"sla.escalation"
#define WIRE_WH_FORECAST	"capacity.forecast"

/* The kind of an item of a commit or events call (WIRE_*_KIND). */
#define WIRE_KIND_LEAD		"lead"
#define WIRE_KIND_EVENT		"ev"
#define WIRE_KIND_DEAD		"dead"
#define WIRE_KIND_DEAD_RAW	"deadraw"

/* A heartbeat's mode (WIRE_HEARTBEAT_MODE). */
#define WIRE_MODE_REGISTER	"register"
#define WIRE_MODE_RENEW		"renew"

/* The result words: one per item of a commit or events call, or the
 * heartbeat's answer. Refused events are dead-lettered under their word. */
#define WIRE_RES_ASSIGNED	"assigned:"	/* followed by the rep id */
#define WIRE_RES_BACKLOG	"backlog"
#define WIRE_RES_NURTURE	"nurture"
#define WIRE_RES_DUPLICATE	"duplicate"
#define WIRE_RES_DEAD		"dead"
#define WIRE_RES_FENCED		"fenced"
#define WIRE_RES_OK		"ok"
#define WIRE_RES_UNKNOWN_LEAD	"unknown_lead"
#define WIRE_RES_UNKNOWN_REP	"unknown_rep"
#define WIRE_RES_NOT_ASSIGNEE	"not_assignee"
#define WIRE_RES_KEY_CONFLICT	"key_conflict"
#define WIRE_RES_BAD_ITEM	"bad_item"

/* The start of an error reply. */
#define WIRE_ERR_FENCED		"FENCED"
#define WIRE_ERR_BEHIND		"BEHIND"

#define WIRE_WORDS(X) \
	X(OP, HEARTBEAT, "INSTANCE TTL_MS MODE: renew the lease, requeue " \
	    "the work of instances whose lease ran out; replies ok or fenced") \
	X(OP, RELEASE, "INSTANCE BLAME: give back the instance's work and " \
	    "leave the fleet (a graceful stop; an instance whose own call " \
	    "failed or was refused for good); replies the number of " \
	    "payloads requeued") \
	X(OP, CLAIM, "INSTANCE SOURCE MAX SEQ BYTES MAX_BYTES: move payloads " \
	    "into in-flight (ASCII ones over MAX_BYTES stay in Redis); " \
	    "replies CLAIM_REPLY, or the error FENCED") \
	X(OP, COMMIT, "INSTANCE ROUTING AFTER CLAIMED_AT then LEAD items: " \
	    "route leads; replies one result word per item, then the " \
	    "integer of dead letters dropped (intake.dead_max) when some " \
	    "were; or the error BEHIND") \
	X(OP, EVENTS, "INSTANCE ROUTING AFTER then EVENT items: apply " \
	    "events; replies as COMMIT") \
	X(OP, DRAIN, "ROUTING: assign what backlogs hold and reps can take; " \
	    "replies DRAIN_REPLY") \
	X(OP, SLA, "ROUTING LIMIT: fire due warnings and breaches; " \
	    "replies SLA_REPLY") \
	X(OP, FORECAST, "ROUTING HORIZON_MS HALF_LIFE_MS: update the " \
	    "capacity forecast; replies the alerts fired, one line each") \
	X(OP, METRICS, "ROUTING: shared state for /metrics; " \
	    "replies METRICS_REPLY") \
	X(OP, STRAYS, "ROUTING CURSOR SCAN MAX BYTES: leads waiting in the " \
	    "backlogs of segments the routing has not; replies STRAYS_REPLY") \
	X(OP, MOVE, "ROUTING then MOVE_ITEM items: move backlogged leads " \
	    "to another segment's backlog; replies 1 (moved) or 0 per item") \
	X(OP, STATUS, "ROUTING: read only; the router at a glance for " \
	    "/v1/status; replies one JSON string (daemon/lua/read.lua)") \
	X(OP, BOARD, "ROUTING LIMIT SCAN: read only; the assignments not yet " \
	    "acted on for /v1/sla; replies BOARD_REPLY") \
	X(OP, WHCLAIM, "ENDPOINT MAX LEASE_MS: lease the endpoint's due " \
	    "webhook deliveries for LEASE_MS, counting an attempt each; " \
	    "replies WHCLAIM_REPLY") \
	X(OP, WHDONE, "ENDPOINT then WHDONE_ITEM items: deliveries that " \
	    "succeeded; replies how many of them were still pending (one " \
	    "no longer pending counts 0)") \
	X(OP, WHRETRY, "ENDPOINT ID ATTEMPT DELAY_MS STATUS ERROR: attempt " \
	    "ATTEMPT failed, try again in DELAY_MS; replies 1, or 0 when the " \
	    "delivery has moved on (another attempt, done)") \
	X(OP, WHDEAD, "ENDPOINT ID ATTEMPT STATUS ERROR MAX: attempt ATTEMPT " \
	    "ended the delivery; to KEY_WEBHOOKS_DEAD, which keeps MAX; " \
	    "replies 0 as WHRETRY, else 1 plus how many of the oldest " \
	    "entries MAX dropped") \
	X(WH, ASSIGNED, "an assignment (the assignment JSON)") \
	X(WH, REASSIGNED, "a reassignment after an SLA breach (the " \
	    "assignment JSON plus from_rep)") \
	X(WH, BACKLOGGED, "an MQL no rep can take now") \
	X(WH, NURTURED, "a lead to nurture (the nurture JSON)") \
	X(WH, FOLLOWED_UP, "a rep followed up") \
	X(WH, REJECTED, "a rep rejected a lead") \
	X(WH, CLOSED, "a rep closed a lead") \
	X(WH, SLA_WARNING, "an sla_warning alert") \
	X(WH, SLA_BREACH, "an sla_breach alert") \
	X(WH, SLA_ESCALATION, "an sla_escalation alert") \
	X(WH, FORECAST, "a capacity_forecast alert") \
	X(KIND, LEAD, "a scored lead, laid out as LEAD") \
	X(KIND, EVENT, "a parsed event, laid out as EVENT") \
	X(KIND, DEAD, "a dead letter decided by the daemon, laid out as DEAD") \
	X(KIND, DEAD_RAW, "a dead letter of an OVERSIZE payload, laid out as " \
	    "DEAD: JSON without its closing brace; the script appends the " \
	    "payload from in-flight as \"raw\"") \
	X(MODE, REGISTER, "a new instance: register it") \
	X(MODE, RENEW, "a registered instance: fenced when it was reaped") \
	X(RES, ASSIGNED, "commit: assigned to the rep named after the word") \
	X(RES, BACKLOG, "commit: an MQL no rep can take now, backlogged") \
	X(RES, NURTURE, "commit: below the MQL threshold, to nurture") \
	X(RES, DUPLICATE, "commit: the lead id was already accepted") \
	X(RES, DEAD, "commit, events: the item was a dead letter") \
	X(RES, FENCED, "commit, events: no longer this instance's; heartbeat: " \
	    "this instance was presumed dead") \
	X(RES, OK, "events: applied; heartbeat: the lease is renewed") \
	X(RES, UNKNOWN_LEAD, "events: no such lead was accepted") \
	X(RES, UNKNOWN_REP, "events: the rep is not in the configuration") \
	X(RES, NOT_ASSIGNEE, "events: the lead is not held by that rep") \
	X(RES, KEY_CONFLICT, "commit, events: a key the item needs holds " \
	    "another type (or a hash that is no lead record): dead-lettered") \
	X(RES, BAD_ITEM, "commit, events: the item's arguments do not parse: " \
	    "dead-lettered") \
	X(ERR, FENCED, "claim: the instance is not registered") \
	X(ERR, BEHIND, "commit, events: the payload AFTER names is still " \
	    "in flight (an earlier call failed or was refused and is sent " \
	    "again): nothing was written; send this call again after it")

#define WIRE_LAYOUTS(X) \
	X(SCRIPT, 3, "argv of every call") \
	X(HEARTBEAT, 3, "heartbeat's arguments") \
	X(RELEASE, 2, "release's arguments") \
	X(CLAIM, 6, "claim's arguments") \
	X(COMMIT, 5, "commit's arguments") \
	X(EVENTS, 4, "events' arguments") \
	X(DRAIN, 1, "drain's arguments") \
	X(SLA, 2, "sla's arguments") \
	X(FORECAST, 3, "forecast's arguments") \
	X(METRICS, 1, "metrics' arguments") \
	X(STRAYS, 5, "strays' arguments") \
	X(MOVE, 2, "move's arguments") \
	X(MOVE_ITEM, 3, "one item of a move") \
	X(STRAYS_REPLY, 3, "strays' reply") \
	X(STRAY, 3, "one lead of STRAYS_REPLY") \
	X(LEAD, 10, "one item of a commit") \
	X(EVENT, 8, "one item of an events call") \
	X(DEAD, 4, "a dead item of either: these, blanks, the sha last") \
	X(CLAIM_REPLY, 2, "claim's reply") \
	X(CLAIMED, 4, "one payload of claim's reply") \
	X(SLA_REPLY, 5, "sla's reply") \
	X(METRICS_REPLY, 10, "metrics' reply") \
	X(METRICS_REP, 3, "one rep in METRICS_REPLY's REPS") \
	X(STATUS, 1, "status' arguments") \
	X(BOARD, 3, "board's arguments") \
	X(BOARD_REPLY, 3, "board's reply") \
	X(WHCLAIM, 3, "whclaim's arguments") \
	X(WHDONE, 2, "whdone's arguments") \
	X(WHDONE_ITEM, 2, "one delivery of a whdone") \
	X(WHRETRY, 6, "whretry's arguments") \
	X(WHDEAD, 6, "whdead's arguments") \
	X(WHCLAIM_REPLY, 4, "whclaim's reply") \
	X(WHCLAIMED, 3, "one delivery of WHCLAIM_REPLY") \
	X(DRAIN_REPLY, 2, "drain's reply")

#define WIRE_FIELDS(X) \
	X(SCRIPT, OP, 0, "the operation, WIRE_OP_*") \
	X(SCRIPT, PREFIX, 1, "redis.prefix, the head of every key") \
	X(SCRIPT, ARGS, 2, "the operation's first argument") \
	X(HEARTBEAT, INSTANCE, 0, "the instance id") \
	X(HEARTBEAT, TTL_MS, 1, "the lease, ms from now") \
	X(HEARTBEAT, MODE, 2, "WIRE_MODE_*") \
	X(RELEASE, INSTANCE, 0, "the instance id") \
	X(RELEASE, BLAME, 1, "the seq of the payload whose call failed " \
	    "alone: it counts a redelivery, as after a crash (one that keeps " \
	    "failing ends as poison); \"\" for none (a graceful stop)") \
	X(CLAIM, INSTANCE, 0, "the instance id") \
	X(CLAIM, SOURCE, 1, "the queue: KEY_INCOMING or KEY_EVENTS") \
	X(CLAIM, MAX, 2, "at most this many payloads") \
	X(CLAIM, SEQ, 3, "the seq of the first payload, then +1 each") \
	X(CLAIM, BYTES, 4, "stop once this many payload bytes are taken; " \
	    "always at least one payload") \
	X(CLAIM, MAX_BYTES, 5, "intake.max_bytes: a longer payload of ASCII " \
	    "bytes is not sent (CLAIMED OVERSIZE)") \
	X(COMMIT, INSTANCE, 0, "the instance id") \
	X(COMMIT, ROUTING, 1, "the routing table, JSON (decide.h)") \
	X(COMMIT, AFTER, 2, "the seq of the payload this consumer claimed " \
	    "last before the items; \"\" when none: the call is refused " \
	    "(ERR BEHIND) while that payload is in flight, so that a call " \
	    "sent again is never overtaken by a later one") \
	X(COMMIT, CLAIMED_AT, 3, "the claim's time, ms (CLAIM_REPLY TIME)") \
	X(COMMIT, ITEMS, 4, "the first item, LEAD_FIELDS each") \
	X(EVENTS, INSTANCE, 0, "the instance id") \
	X(EVENTS, ROUTING, 1, "the routing table, JSON (decide.h)") \
	X(EVENTS, AFTER, 2, "as COMMIT AFTER") \
	X(EVENTS, ITEMS, 3, "the first item, EVENT_FIELDS each") \
	X(DRAIN, ROUTING, 0, "the routing table, JSON (decide.h)") \
	X(SLA, ROUTING, 0, "the routing table, JSON (decide.h)") \
	X(SLA, LIMIT, 1, "at most this many warnings and breaches each") \
	X(FORECAST, ROUTING, 0, "the routing table, JSON (decide.h)") \
	X(FORECAST, HORIZON_MS, 1, "alert when room runs out within it; 0: no") \
	X(FORECAST, HALF_LIFE_MS, 2, "the arrival rate's half-life") \
	X(METRICS, ROUTING, 0, "the routing table, JSON (decide.h)") \
	X(STRAYS, ROUTING, 0, "the routing table, JSON (decide.h)") \
	X(STRAYS, CURSOR, 1, "the SCAN cursor: 0 at first, then the reply's") \
	X(STRAYS, SCAN, 2, "SCAN's COUNT: keys looked at per call, about") \
	X(STRAYS, MAX, 3, "at most this many leads in the reply") \
	X(STRAYS, BYTES, 4, "stop once their leads hold this many bytes; " \
	    "always at least one lead") \
	X(MOVE, ROUTING, 0, "the routing table, JSON (decide.h)") \
	X(MOVE, ITEMS, 1, "the first item, MOVE_ITEM_FIELDS each") \
	X(MOVE_ITEM, FROM, 0, "the segment whose backlog holds the lead") \
	X(MOVE_ITEM, ID, 1, "the lead id") \
	X(MOVE_ITEM, TO, 2, "its segment under the routing") \
	X(STRAYS_REPLY, CURSOR, 0, "the cursor of the next call") \
	X(STRAYS_REPLY, DONE, 1, "1 when the scan is over and no backlog " \
	    "was cut short: no call needed once these are moved") \
	X(STRAYS_REPLY, ITEMS, 2, "the first lead, STRAY_FIELDS each") \
	X(STRAY, SEGMENT, 0, "the segment of its backlog, not in the routing") \
	X(STRAY, ID, 1, "the lead id") \
	X(STRAY, LEAD, 2, "the lead as pushed (the record's lead); \"\" " \
	    "when the record is gone") \
	X(LEAD, SEQ, 0, "the payload's seq in the in-flight hash") \
	X(LEAD, KIND, 1, "WIRE_KIND_LEAD") \
	X(LEAD, ID, 2, "the lead id") \
	X(LEAD, SCORE, 3, "the score") \
	X(LEAD, SEGMENT, 4, "the segment's name") \
	X(LEAD, MQL, 5, "1 for an MQL, else 0") \
	X(LEAD, SOURCE, 6, "the lead's source; \"\" when none") \
	X(LEAD, RAW, 7, "the payload as pushed; \"\" (what the daemon " \
	    "sends): the script takes its in-flight copy") \
	X(LEAD, RECEIPT, 8, "the score receipt, JSON") \
	X(LEAD, SHA, 9, "the payload's SHA1 when it was redelivered, else \"\"") \
	X(EVENT, SEQ, 0, "the payload's seq in the in-flight hash") \
	X(EVENT, KIND, 1, "WIRE_KIND_EVENT") \
	X(EVENT, TYPE, 2, "the event type (event.h)") \
	X(EVENT, LEAD_ID, 3, "the lead id; \"\" for rep_status") \
	X(EVENT, REP, 4, "the rep id") \
	X(EVENT, ARG, 5, "the reason, outcome or status") \
	X(EVENT, RAW, 6, "the payload as pushed") \
	X(EVENT, SHA, 7, "the payload's SHA1 when it was redelivered, else \"\"") \
	X(DEAD, SEQ, 0, "the payload's seq in the in-flight hash") \
	X(DEAD, KIND, 1, "WIRE_KIND_DEAD") \
	X(DEAD, REASON, 2, "the dead letter's reason") \
	X(DEAD, JSON, 3, "the dead letter, JSON") \
	X(CLAIM_REPLY, TIME, 0, "the claim's time, ms (Redis TIME)") \
	X(CLAIM_REPLY, ITEMS, 1, "the first payload, CLAIMED_FIELDS each, " \
	    "oldest first") \
	X(CLAIMED, PAYLOAD, 0, "the payload") \
	X(CLAIMED, SHA, 1, "its SHA1 when it was redelivered, else \"\"") \
	X(CLAIMED, REDELIVERIES, 2, "how often it was requeued after a crash") \
	X(CLAIMED, OVERSIZE, 3, "its length when it is ASCII and over " \
	    "MAX_BYTES (PAYLOAD is then \"\": it stays in Redis); else 0") \
	X(DRAIN_REPLY, MOVED, 0, "leads assigned") \
	X(DRAIN_REPLY, SKIPPED, 1, "what was skipped for a key of another " \
	    "type, one log line each") \
	X(SLA_REPLY, FIRED, 0, "alerts fired") \
	X(SLA_REPLY, NEXT, 1, "the next due time, ms; -1 when none") \
	X(SLA_REPLY, NOW, 2, "Redis's time, ms") \
	X(SLA_REPLY, MORE, 3, "1 when LIMIT was reached: call again now") \
	X(SLA_REPLY, SHOWN, 4, "the first alerts, one log line each") \
	X(METRICS_REPLY, STATS, 0, "KEY_STATS as field/value pairs") \
	X(METRICS_REPLY, BACKLOG, 1, "backlog size per segment, seg_order") \
	X(METRICS_REPLY, REPS, 2, "METRICS_REP_FIELDS per rep, rep_order") \
	X(METRICS_REPLY, INCOMING, 3, "the length of KEY_INCOMING") \
	X(METRICS_REPLY, EVENTS, 4, "the length of KEY_EVENTS") \
	X(METRICS_REPLY, DEAD, 5, "the length of KEY_DEAD") \
	X(METRICS_REPLY, SLA_DUE, 6, "pending SLA timers") \
	X(METRICS_REPLY, INSTANCES, 7, "live instances") \
	X(METRICS_REPLY, SOURCES, 8, "KEY_SRC_ALL as field/value pairs") \
	X(METRICS_REPLY, FORECAST, 9, "KEY_FORECAST as field/value pairs") \
	X(METRICS_REP, OPEN, 0, "open leads") \
	X(METRICS_REP, PERIOD, 1, "assignments within the period") \
	X(METRICS_REP, AVAILABLE, 2, "1 when available, 0 when away") \
	X(STATUS, ROUTING, 0, "the routing table, JSON (decide.h)") \
	X(BOARD, ROUTING, 0, "the routing table, JSON (decide.h)") \
	X(BOARD, LIMIT, 1, "at most this many assignments in the reply") \
	X(BOARD, SCAN, 2, "look at this many open leads at most") \
	X(BOARD_REPLY, ITEMS, 0, "the assignments, a JSON array, earliest " \
	    "due first, LIMIT at most") \
	X(BOARD_REPLY, TOTAL, 1, "the assignments looked at") \
	X(BOARD_REPLY, MORE, 2, "1 when some were not looked at or not in ITEMS") \
	X(WHCLAIM, ENDPOINT, 0, "the endpoint's name") \
	X(WHCLAIM, MAX, 1, "at most this many deliveries") \
	X(WHCLAIM, LEASE_MS, 2, "each is this instance's this long: due " \
	    "again after it, for any instance, unless it is done") \
	X(WHDONE, ENDPOINT, 0, "the endpoint's name") \
	X(WHDONE, ITEMS, 1, "the first item, WHDONE_ITEM_FIELDS each") \
	X(WHDONE_ITEM, ID, 0, "the webhook-id") \
	X(WHDONE_ITEM, STATUS, 1, "the HTTP status of the answer") \
	X(WHRETRY, ENDPOINT, 0, "the endpoint's name") \
	X(WHRETRY, ID, 1, "the webhook-id") \
	X(WHRETRY, ATTEMPT, 2, "the attempt that failed (WHCLAIMED ATTEMPT)") \
	X(WHRETRY, DELAY_MS, 3, "due again this long from now") \
	X(WHRETRY, STATUS, 4, "the HTTP status; 0 when none came") \
	X(WHRETRY, ERROR, 5, "what went wrong, one line") \
	X(WHDEAD, ENDPOINT, 0, "the endpoint's name") \
	X(WHDEAD, ID, 1, "the webhook-id") \
	X(WHDEAD, ATTEMPT, 2, "the last attempt (WHCLAIMED ATTEMPT)") \
	X(WHDEAD, STATUS, 3, "the HTTP status; 0 when none came") \
	X(WHDEAD, ERROR, 4, "what went wrong, one line") \
	X(WHDEAD, MAX, 5, "entries KEY_WEBHOOKS_DEAD keeps, the newest " \
	    "(retention.webhooks_dead_max); 0: all") \
	X(WHCLAIM_REPLY, NOW, 0, "Redis's time, ms") \
	X(WHCLAIM_REPLY, NEXT, 1, "the next due time after the claim, ms; " \
	    "-1 when nothing is pending") \
	X(WHCLAIM_REPLY, PENDING, 2, "the endpoint's pending deliveries") \
	X(WHCLAIM_REPLY, ITEMS, 3, "the first delivery, WHCLAIMED_FIELDS each") \
	X(WHCLAIMED, ID, 0, "the webhook-id") \
	X(WHCLAIMED, BODY, 1, "the body, as signed and sent in format standard") \
	X(WHCLAIMED, ATTEMPT, 2, "this attempt's number, 1 for the first")

enum {
#define WIRE_FIELD_ENUM(layout, field, index, what) \
	WIRE_##layout##_##field = index,
	WIRE_FIELDS(WIRE_FIELD_ENUM)
#undef WIRE_FIELD_ENUM
};

enum {
#define WIRE_LAYOUT_ENUM(layout, n, what) WIRE_##layout##_FIELDS = n,
	WIRE_LAYOUTS(WIRE_LAYOUT_ENUM)
#undef WIRE_LAYOUT_ENUM
};

/* The rows of the tables as data, for code that walks them (wire2lua,
 * tests): each returns its array, *n its length. */
struct wire_layout {
	const char *name;	/* "LEAD" */
	int n;			/* its number of fields */
	const char *what;
};

struct wire_field {
	const char *layout;	/* "LEAD" */
	const char *name;	/* "SEQ" */
	int index;
	const char *what;
};

struct wire_word {
	const char *group;	/* "RES" */
	const char *name;	/* "OK" */
	const char *word;	/* "ok" */
	const char *what;
};

static inline const struct wire_layout *
wire_layouts(size_t *n)
{
	static const struct wire_layout rows[] = {
#define WIRE_LAYOUT_ROW(layout, count, what) {#layout, count, what},
		WIRE_LAYOUTS(WIRE_LAYOUT_ROW)
#undef WIRE_LAYOUT_ROW
	};

	*n = sizeof(rows) / sizeof(rows[0]);
	return rows;
}

static inline const struct wire_field *
wire_fields(size_t *n)
{
	static const struct wire_field rows[] = {
#define WIRE_FIELD_ROW(layout, field, index, what) \
		{#layout, #field, index, what},
		WIRE_FIELDS(WIRE_FIELD_ROW)
#undef WIRE_FIELD_ROW
	};

	*n = sizeof(rows) / sizeof(rows[0]);
	return rows;
}

static inline const struct wire_word *
wire_words(size_t *n)
{
	static const struct wire_word rows[] = {
#define WIRE_WORD_ROW(group, name, what) \
		{#group, #name, WIRE_##group##_##name, what},
		WIRE_WORDS(WIRE_WORD_ROW)
#undef WIRE_WORD_ROW
	};

	*n = sizeof(rows) / sizeof(rows[0]);
	return rows;
}

/* The groups of WIRE_WORDS, in the order of the table. */
static inline const char *const *
wire_groups(size_t *n)
{
	static const char *const groups[] = {"OP", "KIND", "MODE", "RES",
	    "ERR", "WH"};

	*n = sizeof(groups) / sizeof(groups[0]);
	return groups;
}

#endif
