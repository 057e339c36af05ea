/*
 * calendar.h - business-hours calendars (README "Business hours", contract
 * section 9): an IANA time zone, weekly open intervals in local wall time,
 * holidays as local dates; and the arithmetic on them. Pure: no event
 * loop, no Redis, no logging.
 *
 * Two layers. A compiled calendar (struct calendar) is expanded over a
 * window into absolute UTC open intervals [start_ms, end_ms) (struct
 * cal_ivals: sorted, disjoint, touching ones merged); the arithmetic
 * (open at, next change, add open time) works on such a list. The cal_*
 * shortcuts on a calendar expand a window around the instant and apply
 * the same list arithmetic, so the daemon (which hands the lists to the
 * Redis script) and leadctl calendar agree.
 *
 * The wall-clock rules: an interval of date D is open from its start
 * (included) to its end (excluded), both read on the local clock of D;
 * a wall time in a skipped hour is taken at the end of the gap, one in a
 * repeated hour at its first occurrence. Open time is real elapsed time.
 *
 * Zones come from the system's tz database through the C library: each
 * call that converts sets TZ to the calendar's zone for its duration and
 * restores it before returning. Not thread-safe (nothing here is used
 * from more than one thread).
 */
#ifndef LR_CALENDAR_H
#define LR_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open intervals one day may have. */
#define CAL_DAY_SPANS_MAX 48
/* The arithmetic looks this many days ahead at most; beyond is "never". */
#define CAL_HORIZON_DAYS 1461
#define CAL_HORIZON_MS ((int64_t)CAL_HORIZON_DAYS * 86400000)
/* The longest zone name we accept (the tz database's are below 40). */
#define CAL_ZONE_MAX 128
/* Where the tz database lives (TZDIR overrides it, as for the C library). */
#define CAL_ZONEINFO "/usr/share/zoneinfo"

/* One open interval of a day: seconds of the local day, start < end <= 86400. */
struct cal_span {
	int32_t start_s, end_s;
};

struct calendar {
	char *name;
	char *zone;			/* an IANA zone name, e.g. "Europe/Berlin" */
	/* Per weekday, 0 = Sunday (as tm_wday), sorted and disjoint. */
	struct cal_span spans[7][CAL_DAY_SPANS_MAX];
	unsigned int nspans[7];
	int64_t *holidays;		/* local dates as days since 1970-01-01, sorted */
	size_t nholidays;
};

/* An absolute UTC interval [start_ms, end_ms). */
struct cal_ival {
	int64_t start_ms, end_ms;
};

/*
 * A calendar's open intervals within the window [from_ms, to_ms): sorted,
 * disjoint and non-touching, clipped to the window. An interval that ends
 * at to_ms may go on beyond it: what lies past the window is unknown.
 */
struct cal_ivals {
	int64_t from_ms, to_ms;
	struct cal_ival *v;
	size_t n, cap;
};

/* --- building and checking a calendar (the configuration loader) --- */

/* An empty calendar (closed always); name and zone are copied. NULL: ENOMEM. */
struct calendar *cal_new(const char *name, const char *zone);

/* Free a calendar's members (not cal itself); NULL is fine. */
void cal_clear(struct calendar *cal);

/* Free cal and its members; NULL is fine. */
void cal_free(struct calendar *cal);

/*
 * Is zone the name of a zone of the tz database: a relative name without
 * "..", of a regular file under TZDIR or CAL_ZONEINFO?
 */
bool cal_zone_exists(const char *zone);

/* "sun" .. "sat" (also "mon", ...) into 0..6 as tm_wday; -1 if unknown. */
int cal_weekday(const char *name);

/* The three-letter name of weekday 0..6 ("sun"). */
const char *cal_weekday_name(int wday);

/*
 * "HH:MM" or "HH:MM:SS" (00:00 to 23:59:59, and 24:00 / 24:00:00 when
 * allow_24) into seconds of the day. 0, or -1 when it is not one.
 */
int cal_parse_time(const char *s, bool allow_24, int32_t *secs);

/* The results of cal_parse_span. */
enum cal_span_err {
	CAL_SPAN_OK,
	CAL_SPAN_SYNTAX,	/* not "HH:MM[:SS]-HH:MM[:SS]" */
	CAL_SPAN_EMPTY,		/* start >= end */
};

/* "09:00-17:30" into sp (end may be 24:00). */
enum cal_span_err cal_parse_span(const char *s, struct cal_span *sp);

/* "YYYY-MM-DD" (a real date, years 1970-9999) into days since 1970-01-01. */
int cal_parse_date(const char *s, int64_t *day);

/*
 * Add an open interval to weekday wday. 0; -1 when it overlaps one
 * already there (*clash, when not NULL, is that one) or the day is full.
 */
int cal_add_span(struct calendar *cal, int wday, struct cal_span sp,
    struct cal_span *clash);

/* Add a holiday (a local date, days since 1970-01-01); 0, or -1 (ENOMEM). */
int cal_add_holiday(struct calendar *cal, int64_t day);

/* Does the week have any open time at all? */
bool cal_has_open_time(const struct calendar *cal);

/* --- (a) expanding a calendar into absolute intervals --- */

/*
 * Fill out with cal's open intervals within [from_ms, to_ms) (out's old
 * contents are dropped). The window may be at most CAL_HORIZON_MS long.
 * 0, or -1 (a bad window, or out of memory).
 */
int cal_intervals(const struct calendar *cal, int64_t from_ms, int64_t to_ms,
    struct cal_ivals *out);

/* Free the intervals of l and empty it. */
void cal_ivals_clear(struct cal_ivals *l);

/* --- (b) the arithmetic on an interval list --- */

/* Is l open at t? (t in [l->from_ms, l->to_ms); false outside.) */
bool cal_ivals_open_at(const struct cal_ivals *l, int64_t t_ms);

/*
 * The first instant after t at which l opens or closes; -1 when there is
 * none within the window (or t is outside it).
 */
int64_t cal_ivals_next_change(const struct cal_ivals *l, int64_t t_ms);

/*
 * The first instant at which seconds of open time have passed since t
 * (t closed: counting starts at the next opening; 0 seconds: t itself
 * when open, else the next opening). -1 when that lies beyond the window
 * (or t is outside it, or seconds < 0).
 */
int64_t cal_ivals_add_open(const struct cal_ivals *l, int64_t t_ms,
    int64_t seconds);

/*
 * t on cal's local wall clock, "Fri 2027-03-26 17:28:00 CET", into buf;
 * buf ("?" when it cannot be converted).
 */
const char *cal_fmt_local(const struct calendar *cal, int64_t t_ms, char *buf,
    size_t len);

/* --- the same on a calendar: windows from t, up to CAL_HORIZON_DAYS --- */

/* Is cal open at t? */
bool cal_open_at(const struct calendar *cal, int64_t t_ms);

/* The next instant after t at which cal opens or closes; -1: never (within the horizon). */
int64_t cal_next_change(const struct calendar *cal, int64_t t_ms);

/* As cal_ivals_add_open; -1: not within the horizon (or seconds < 0). */
int64_t cal_add_open(const struct calendar *cal, int64_t t_ms,
    int64_t seconds);

#endif
