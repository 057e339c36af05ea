/* calendar.c - business-hours calendars: parse their parts, expand them into UTC open intervals, and count open time. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "calendar.h"

#define DAY_S 86400
/* Beyond any zone's offset from UTC (the largest ever is below 16 h). */
#define OFFSET_BOUND_S 57600

static const char *const weekday_names[7] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

/* --- dates ----------------------------------------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* tm_wday of a day number: 1970-01-01 was a Thursday. */
static int
weekday_of(int64_t day)
{
	return (int)(((day % 7) + 11) % 7);
}

static bool
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits of s into *v; false when one is not a digit. */
static bool
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

int
cal_parse_date(const char *s, int64_t *day)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};
	int y, m, d, max;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
	    !digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || m < 1 || m > 12)
		return -1;
	max = mdays[m - 1] + (m == 2 && leap_year(y));
	if (d < 1 || d > max)
		return -1;
	*day = days_from_civil(y, m, d);
	return 0;
}

int
cal_parse_time(const char *s, bool allow_24, int32_t *secs)
{
	size_t len = strlen(s);
	int h, m, sec = 0;

	if ((len != 5 && len != 8) || s[2] != ':' || !digits(s, 2, &h) ||
	    !digits(s + 3, 2, &m))
		return -1;
	if (len == 8 && (s[5] != ':' || !digits(s + 6, 2, &sec)))
		return -1;
	if (m > 59 || sec > 59)
		return -1;
	if (h > 24 || (h == 24 && (!allow_24 || m != 0 || sec != 0)))
		return -1;
	*secs = h * 3600 + m * 60 + sec;
	return 0;
}

enum cal_span_err
cal_parse_span(const char *s, struct cal_span *sp)
{
	char start[16];
	const char *dash = strchr(s, '-');
	size_t n;

	if (dash == NULL || (n = (size_t)(dash - s)) >= sizeof(start))
		return CAL_SPAN_SYNTAX;
	memcpy(start, s, n);
	start[n] = '\0';
	if (cal_parse_time(start, false, &sp->start_s) == -1 ||
	    cal_parse_time(dash + 1, true, &sp->end_s) == -1)
		return CAL_SPAN_SYNTAX;
	if (sp->start_s >= sp->end_s)
		return CAL_SPAN_EMPTY;
	return CAL_SPAN_OK;
}

int
cal_weekday(const char *name)
{
	for (int i = 0; i < 7; i++)
		if (strcmp(name, weekday_names[i]) == 0)
			return i;
	return -1;
}

const char *
cal_weekday_name(int wday)
{
	return wday >= 0 && wday < 7 ? weekday_names[wday] : "?";
}

/* --- building ---------------------------------------------------------- */

struct calendar *
cal_new(const char *name, const char *zone)
{
	struct calendar *cal = calloc(1, sizeof(*cal));

	if (cal == NULL)
		return NULL;
	if ((cal->name = strdup(name)) == NULL ||
	    (cal->zone = strdup(zone)) == NULL) {
		cal_free(cal);
		return NULL;
	}
	return cal;
}

void
cal_clear(struct calendar *cal)
{
	if (cal == NULL)
		return;
	free(cal->name);
	free(cal->zone);
	free(cal->holidays);
	memset(cal, 0, sizeof(*cal));
}

void
cal_free(struct calendar *cal)
{
	cal_clear(cal);
	free(cal);
}

bool
cal_zone_exists(const char *zone)
{
	char path[PATH_MAX];
	const char *dir = getenv("TZDIR");
	struct stat st;
	int n;

	if (zone[0] == '\0' || zone[0] == '/' || strstr(zone, "..") != NULL ||
	    strlen(zone) >= CAL_ZONE_MAX)
		return false;
	if (dir == NULL || dir[0] == '\0')
		dir = CAL_ZONEINFO;
	n = snprintf(path, sizeof(path), "%s/%s", dir, zone);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
cal_add_span(struct calendar *cal, int wday, struct cal_span sp,
    struct cal_span *clash)
{
	struct cal_span *v = cal->spans[wday];
	unsigned int n = cal->nspans[wday], i;

	for (i = 0; i < n; i++) {
		if (sp.start_s < v[i].end_s && v[i].start_s < sp.end_s) {
			if (clash != NULL)
				*clash = v[i];
			return -1;
		}
	}
	if (n >= CAL_DAY_SPANS_MAX)
		return -1;
	for (i = n; i > 0 && v[i - 1].start_s > sp.start_s; i--)
		v[i] = v[i - 1];
	v[i] = sp;
	cal->nspans[wday] = n + 1;
	return 0;
}

int
cal_add_holiday(struct calendar *cal, int64_t day)
{
	int64_t *nv;
	size_t i;

	for (i = 0; i < cal->nholidays; i++)
		if (cal->holidays[i] == day)
			return 0;
	if ((nv = realloc(cal->holidays,
	    (cal->nholidays + 1) * sizeof(*nv))) == NULL)
		return -1;
	cal->holidays = nv;
	for (i = cal->nholidays; i > 0 && nv[i - 1] > day; i--)
		nv[i] = nv[i - 1];
	nv[i] = day;
	cal->nholidays++;
	return 0;
}

bool
cal_has_open_time(const struct calendar *cal)
{
	for (int d = 0; d < 7; d++)
		if (cal->nspans[d] > 0)
			return true;
	return false;
}

static bool
is_holiday(const struct calendar *cal, int64_t day)
{
	size_t lo = 0, hi = cal->nholidays;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cal->holidays[mid] == day)
			return true;
		if (cal->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* --- the zone: wall clock <-> UTC ----------------------------------------- */

/* The TZ a conversion replaced, to put back. */
struct zone_save {
	char *old;
	bool had;
};

static int
zone_enter(const char *zone, struct zone_save *zs)
{
	char tz[CAL_ZONE_MAX + 2];
	const char *old = getenv("TZ");

	zs->had = old != NULL;
	zs->old = NULL;
	if (old != NULL && (zs->old = strdup(old)) == NULL)
		return -1;
	snprintf(tz, sizeof(tz), ":%s", zone);	/* ':' - a file of the database */
	if (setenv("TZ", tz, 1) == -1) {
		free(zs->old);
		return -1;
	}
	tzset();
	return 0;
}

static void
zone_leave(struct zone_save *zs)
{
	if (zs->had)
		(void)setenv("TZ", zs->old, 1);
	else
		(void)unsetenv("TZ");
	tzset();
	free(zs->old);
	zs->old = NULL;
}

/* The zone's offset from UTC at second t, in seconds (east positive). */
static int64_t
offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return tm.tm_gmtoff;
}

/* Local wall-clock seconds (as if the wall clock were UTC) of second t. */
static int64_t
wall_of(int64_t t)
{
	return t + offset_at(t);
}

/*
 * The UTC second at which the local wall clock reads wall (seconds since
 * 1970-01-01 00:00 of the wall clock): its first occurrence when it is
 * repeated, the end of the gap when it is skipped.
 */
static int64_t
utc_of_wall(int64_t wall)
{
	int64_t cand[3], best = INT64_MAX, lo, hi, omin, omax;

	cand[0] = offset_at(wall - OFFSET_BOUND_S);
	cand[1] = offset_at(wall);
	cand[2] = offset_at(wall + OFFSET_BOUND_S);
	for (int i = 0; i < 3; i++)
		if (offset_at(wall - cand[i]) == cand[i] &&
		    wall - cand[i] < best)
			best = wall - cand[i];
	if (best != INT64_MAX)
		return best;
	/* A gap: the first second whose wall time is past it. */
	omin = omax = cand[0];
	for (int i = 1; i < 3; i++) {
		if (cand[i] < omin)
			omin = cand[i];
		if (cand[i] > omax)
			omax = cand[i];
	}
	lo = wall - omax;	/* before the jump: its wall time < wall */
	hi = wall - omin;	/* after it: its wall time > wall */
	if (wall_of(lo) >= wall || wall_of(hi) < wall)
		return wall - cand[1];	/* not one jump; never seen in tzdata */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (wall_of(mid) >= wall)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* --- expanding --------------------------------------------------------- */

void
cal_ivals_clear(struct cal_ivals *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Append [s, e) to l, merged with the last one when they touch. 0 or -1. */
static int
ivals_push(struct cal_ivals *l, int64_t s, int64_t e)
{
	struct cal_ival *nv;
	size_t cap;

	if (s < l->from_ms)
		s = l->from_ms;
	if (e > l->to_ms)
		e = l->to_ms;
	if (s >= e)
		return 0;
	if (l->n > 0 && s <= l->v[l->n - 1].end_ms) {
		if (e > l->v[l->n - 1].end_ms)
			l->v[l->n - 1].end_ms = e;
		return 0;
	}
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 16;
		if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].start_ms = s;
	l->v[l->n].end_ms = e;
	l->n++;
	return 0;
}

/* The open intervals of local date day, in the zone already entered. */
static int
expand_day(const struct calendar *cal, int64_t day, struct cal_ivals *l)
{
	int wd = weekday_of(day);
	int64_t s, e;

	if (is_holiday(cal, day))
		return 0;
	for (unsigned int i = 0; i < cal->nspans[wd]; i++) {
		s = utc_of_wall(day * DAY_S + cal->spans[wd][i].start_s);
		e = utc_of_wall(day * DAY_S + cal->spans[wd][i].end_s);
		if (ivals_push(l, s * 1000, e * 1000) == -1)
			return -1;
	}
	return 0;
}

int
cal_intervals(const struct calendar *cal, int64_t from_ms, int64_t to_ms,
    struct cal_ivals *out)
{
	struct zone_save zs;
	int64_t day, last;
	int rc = 0;

	out->n = 0;
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	if (to_ms < from_ms || to_ms - from_ms > CAL_HORIZON_MS ||
	    from_ms < 0 || to_ms > INT64_MAX / 2)
		return -1;
	if (zone_enter(cal->zone, &zs) == -1)
		return -1;
	/* From the day before from's local date (its interval may reach into
	 * from) to the last date whose intervals may start before to. */
	day = floor_div(wall_of(floor_div(from_ms, 1000)), DAY_S) - 1;
	last = floor_div(to_ms, 1000) / DAY_S + 2;
	for (; day <= last && rc == 0; day++)
		rc = expand_day(cal, day, out);
	zone_leave(&zs);
	return rc;
}

/* --- the arithmetic on a list ------------------------------------------ */

static bool
in_window(const struct cal_ivals *l, int64_t t)
{
	return t >= l->from_ms && t < l->to_ms;
}

bool
cal_ivals_open_at(const struct cal_ivals *l, int64_t t_ms)
{
	if (!in_window(l, t_ms))
		return false;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].start_ms > t_ms)
			break;
		if (t_ms < l->v[i].end_ms)
			return true;
	}
	return false;
}

int64_t
cal_ivals_next_change(const struct cal_ivals *l, int64_t t_ms)
{
	if (!in_window(l, t_ms))
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].end_ms <= t_ms)
			continue;
		if (l->v[i].start_ms > t_ms)
			return l->v[i].start_ms;
		/* Open: it closes at its end, unless that is the window's. */
		return l->v[i].end_ms < l->to_ms ? l->v[i].end_ms : -1;
	}
	return -1;
}

int64_t
cal_ivals_add_open(const struct cal_ivals *l, int64_t t_ms, int64_t seconds)
{
	int64_t left, s;

	if (!in_window(l, t_ms) || seconds < 0 || seconds > CAL_HORIZON_MS / 1000)
		return -1;
	left = seconds * 1000;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].end_ms <= t_ms)
			continue;
		s = l->v[i].start_ms > t_ms ? l->v[i].start_ms : t_ms;
		if (left <= l->v[i].end_ms - s)
			return s + left;
		left -= l->v[i].end_ms - s;
	}
	return -1;
}

const char *
cal_fmt_local(const struct calendar *cal, int64_t t_ms, char *buf, size_t len)
{
	struct zone_save zs;
	time_t t = (time_t)floor_div(t_ms, 1000);
	struct tm tm;

	snprintf(buf, len, "?");
	if (zone_enter(cal->zone, &zs) == -1)
		return buf;
	if (localtime_r(&t, &tm) != NULL &&
	    strftime(buf, len, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "?");
	zone_leave(&zs);
	return buf;
}

/* --- the same on a calendar ---------------------------------------------- */

/* Windows from t tried in turn: a week and a day, two months, a year, the horizon. */
static const int64_t windows_ms[] = {
	8 * 86400000LL, 64 * 86400000LL, 366 * 86400000LL, CAL_HORIZON_MS
};

#define NWINDOWS (sizeof(windows_ms) / sizeof(windows_ms[0]))

enum cal_op { OP_NEXT_CHANGE, OP_ADD_OPEN };

/* op on windows from t of growing length until one knows the answer. */
static int64_t
cal_eval(const struct calendar *cal, int64_t t_ms, enum cal_op op,
    int64_t seconds)
{
	struct cal_ivals l = {0};
	int64_t r = -1;

	for (size_t w = 0; w < NWINDOWS && r == -1; w++) {
		if (cal_intervals(cal, t_ms, t_ms + windows_ms[w], &l) == -1)
			break;
		if (op == OP_NEXT_CHANGE)
			r = cal_ivals_next_change(&l, t_ms);
		else
			r = cal_ivals_add_open(&l, t_ms, seconds);
	}
	cal_ivals_clear(&l);
	return r;
}

bool
cal_open_at(const struct calendar *cal, int64_t t_ms)
{
	struct cal_ivals l = {0};
	bool open = false;

	if (cal_intervals(cal, t_ms, t_ms + 1, &l) == 0)
		open = cal_ivals_open_at(&l, t_ms);
	cal_ivals_clear(&l);
	return open;
}

int64_t
cal_next_change(const struct calendar *cal, int64_t t_ms)
{
	return cal_eval(cal, t_ms, OP_NEXT_CHANGE, 0);
}

int64_t
cal_add_open(const struct calendar *cal, int64_t t_ms, int64_t seconds)
{
	if (seconds < 0)
		return -1;
	return cal_eval(cal, t_ms, OP_ADD_OPEN, seconds);
}
