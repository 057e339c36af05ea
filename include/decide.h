/*
 * decide.h - what happens to one claimed lead, decided without I/O: a dead
 * letter (with its JSON), or a valid lead with its score, score receipt,
 * segment and MQL verdict. The commit script then applies the decision
 * against Redis's state (duplicates, capacity, backlog).
 */
#ifndef LR_DECIDE_H
#define LR_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lead.h"

/* A payload redelivered this many times after instance crashes is poison. */
#define DECIDE_POISON_REDELIVERIES 5

enum decision_kind {
	DECISION_LEAD,
	DECISION_DEAD,
};

struct lead_decision {
	enum decision_kind kind;
	/* DECISION_LEAD */
	char id[LEAD_ID_MAX + 1];
	long long score;
	size_t segment;		/* index into cfg->segments.v */
	bool mql;
	char *source;		/* the lead's "source" string, or "" */
	char *receipt;		/* JSON: why it scored what it scored */
	/* DECISION_DEAD */
	enum dl_reason reason;
	char *dead_json;	/* the dead-letter JSON of README "Dead letters" */
};

/*
 * Decide for raw (len bytes) as claimed from the intake list, now_ms being
 * the dead letter's at_ms. hits is scratch space for cfg->scoring.nrules
 * entries. Returns 0, or -1 on allocation failure (out is then empty).
 */
int decide_lead(const struct lr_config *cfg, const char *raw, size_t len,
    long long redeliveries, long long now_ms, struct score_hit *hits,
    struct lead_decision *out);

/*
 * The dead letter of a refused event (reason bad_event, or poison when it
 * was redelivered too often). Returns the JSON, or NULL on ENOMEM.
 */
char *decide_event_dead(const struct lead_error *err, const char *raw,
    size_t len, long long now_ms);

void lead_decision_clear(struct lead_decision *d);

/*
 * The routing table the scripts work from, as compact JSON: segments in
 * order with their reps in config order, each rep's limits (and its
 * calendar's name), the reps in config order, the period, SLA, histogram
 * bounds and version; and, only when a rep or sla.calendar uses a
 * calendar, the name of sla.calendar ("sla_cal") and, last, each used
 * calendar's UTC open intervals over its window around now_ms ("cal":
 * {"NAME":[from,to,start,end,...]}, cal_intervals' list, in ms), which
 * daemon/lua/calendar.lua reads. Built at each configuration and again
 * at least every DECIDE_ROUTING_REFRESH_MS while calendars are used (the
 * window moves). NULL on ENOMEM.
 */
char *decide_routing_json_at(const struct lr_config *cfg, int64_t now_ms);

/* The same around the system's clock now. */
char *decide_routing_json(const struct lr_config *cfg);

/* Does any clock use a calendar (a rep's shift, sla.calendar)? */
bool decide_uses_calendars(const struct lr_config *cfg);

/*
 * Were routing tables a and b built from the same configuration: are they
 * the same but for the calendar windows (the "cal" member, which a
 * refresh moves)?
 */
bool decide_routing_same_config(const char *a, const char *b);

/* A routing table's calendar member starts with this. */
#define DECIDE_CAL_MEMBER ",\"cal\":{"

/* The calendar windows are rebuilt at least this often (ms). */
#define DECIDE_ROUTING_REFRESH_MS 3600000LL

/*
 * A calendar's window: from a day before now (a Redis clock behind the
 * daemon's, an assignment dated by a failed call) to at least two days
 * after, long enough that sla.follow_up of open time from any instant
 * up to a day after now ends within it, and forecast.horizon from then
 * fits; at most DECIDE_CAL_MAX_MS long. Where an answer lies beyond the
 * window, the script counts the clock as open (README "Business hours").
 */
#define DECIDE_CAL_BACK_MS 86400000LL
#define DECIDE_CAL_AHEAD_MS 86400000LL
#define DECIDE_CAL_MIN_MS 86400000LL
#define DECIDE_CAL_MAX_MS (366 * 86400000LL)

/* cal's window around now_ms for cfg's SLA and forecast. 0, or -1. */
int decide_cal_window(const struct lr_config *cfg, const struct calendar *cal,
    int64_t now_ms, int64_t *from_ms, int64_t *to_ms);

/*
 * The histograms the scripts fill in lr:stats (h:NAME:INDEX, :sum, :count,
 * in ms): the router's intake-to-assignment latency and the reps'
 * follow-up time. Their bounds travel to the scripts in the routing table.
 */
struct decide_hist {
	const char *name;
	const long long *bounds_ms;
	size_t n;
};
#define DECIDE_NHISTS 2
extern const struct decide_hist decide_hists[DECIDE_NHISTS];

/* The SLA loop re-reads the deadlines at least this often (ms). */
#define DECIDE_SLA_MAX_SLEEP_MS 1000

/*
 * How long the SLA loop sleeps before its next look, in ms: until next
 * (Redis time, -1 when nothing is pending) from now (Redis time), at least
 * 0 and at most DECIDE_SLA_MAX_SLEEP_MS; 0 when a full batch was fired and
 * more may be due.
 */
long decide_sla_sleep_ms(long long next, long long now, bool more);

#endif
