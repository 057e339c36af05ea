/* test_calendar.c - business-hours arithmetic edge by edge: boundaries, DST both ways, odd zones, holidays, tiny and empty calendars. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include <jansson.h>

#include "calendar.h"
#include "config.h"
#include "decide.h"

enum { SUN, MON, TUE, WED, THU, FRI, SAT };

/* A calendar of zone with span (e.g. "09:00-17:30") on each day of mask. */
static struct calendar *
mk(const char *zone)
{
	struct calendar *cal = cal_new("t", zone);

	assert_non_null(cal);
	return cal;
}

static void
add(struct calendar *cal, int wday, const char *span)
{
	struct cal_span sp;

	assert_int_equal(cal_parse_span(span, &sp), CAL_SPAN_OK);
	assert_int_equal(cal_add_span(cal, wday, sp, NULL), 0);
}

static void
add_weekdays(struct calendar *cal, const char *span)
{
	for (int d = MON; d <= FRI; d++)
		add(cal, d, span);
}

static void
holiday(struct calendar *cal, const char *date)
{
	int64_t day;

	assert_int_equal(cal_parse_date(date, &day), 0);
	assert_int_equal(cal_add_holiday(cal, day), 0);
}

/* Berlin, Monday to Friday 09:00-17:30. */
static struct calendar *
berlin_office(void)
{
	struct calendar *cal = mk("Europe/Berlin");

	add_weekdays(cal, "09:00-17:30");
	return cal;
}

/* Start included, end excluded, on the millisecond. */
static void
test_boundaries(void **state)
{
	struct calendar *cal = berlin_office();

	(void)state;
	/* Mon 2027-03-22 09:00 CET */
	assert_true(cal_open_at(cal, 1805702400000));
	/* Mon 08:59:59.999 CET */
	assert_false(cal_open_at(cal, 1805702400000 - 1));
	/* Mon 17:29:59.999 CET */
	assert_true(cal_open_at(cal, 1805733000000 - 1));
	/* Mon 17:30 CET */
	assert_false(cal_open_at(cal, 1805733000000));
	cal_free(cal);
}

static void
test_next_change(void **state)
{
	struct calendar *cal = berlin_office();

	(void)state;
	/* Mon 09:00 CET (open) -> closes Mon 17:30 CET */
	assert_int_equal(cal_next_change(cal, 1805702400000), 1805733000000);
	/* Mon 08:00 CET (closed) -> opens Mon 09:00 CET */
	assert_int_equal(cal_next_change(cal, 1805698800000), 1805702400000);
	/* Fri 2027-03-26 17:30 CET (just closed) -> Mon 2027-03-29 09:00
	 * CEST (07:00Z: the clocks went forward on Sunday) */
	assert_int_equal(cal_next_change(cal, 1806078600000), 1806303600000);
	/* Sat 2027-03-27 11:00 CET, the weekend -> the same Monday */
	assert_false(cal_open_at(cal, 1806141600000));
	assert_int_equal(cal_next_change(cal, 1806141600000), 1806303600000);
	cal_free(cal);
}

/* README's worked example: Friday 17:28 in Berlin + 5 minutes. */
static void
test_worked_example(void **state)
{
	struct calendar *cal = berlin_office();

	(void)state;
	/* Fri 2027-03-26 17:28 CET + 300 s: 2 min Friday, 3 min Monday ->
	 * Mon 2027-03-29 09:03 CEST */
	assert_int_equal(cal_add_open(cal, 1806078480000, 300), 1806303780000);
	/* exactly the 2 minutes left: Fri 17:30 CET itself */
	assert_int_equal(cal_add_open(cal, 1806078480000, 120), 1806078600000);
	/* assigned while closed (Sat 11:00 CET): counting starts at the
	 * opening, Mon 09:00 CEST + 5 min = 09:05 CEST */
	assert_int_equal(cal_add_open(cal, 1806141600000, 300),
	    1806303600000 + 300000);
	/* 0 s while closed: the opening */
	assert_int_equal(cal_add_open(cal, 1806141600000, 0), 1806303600000);
	cal_free(cal);
}

static void
test_holiday(void **state)
{
	struct calendar *cal = berlin_office();

	(void)state;
	holiday(cal, "2027-03-29");
	/* Mon 2027-03-29 10:00 CEST (08:00Z) is a holiday */
	assert_false(cal_open_at(cal, 1806303600000 + 3600000));
	/* Fri 17:28 CET + 5 min -> Tue 2027-03-30 09:03 CEST */
	assert_int_equal(cal_add_open(cal, 1806078480000, 300), 1806390180000);
	/* Fri 17:30 CET -> next opening Tue 09:00 CEST */
	assert_int_equal(cal_next_change(cal, 1806078600000),
	    1806390180000 - 180000);
	cal_free(cal);
}

/* Berlin 2027-10-31: 03:00 CEST -> 02:00 CET at 01:00Z (repeated hour). */
static void
test_berlin_fall_back(void **state)
{
	struct calendar *cal = mk("Europe/Berlin"), *rep = mk("Europe/Berlin");

	(void)state;
	add(cal, SUN, "00:00-06:00");
	/* Sun 00:00 CEST (Sat 22:00Z) to 06:00 CET (05:00Z): 7 h, not 6 */
	assert_int_equal(cal_next_change(cal, 1824933600000), 1824958800000);
	/* 6 h of open time end at 05:00 CET (04:00Z) */
	assert_int_equal(cal_add_open(cal, 1824933600000, 6 * 3600),
	    1824955200000);
	assert_int_equal(cal_add_open(cal, 1824933600000, 7 * 3600),
	    1824958800000);

	/* A start in the repeated hour: its first occurrence. 02:30 CEST
	 * is 00:30Z; the second 02:30 (CET) is 01:30Z. */
	add(rep, SUN, "02:30-05:00");
	assert_false(cal_open_at(rep, 1824942600000 - 1));
	assert_true(cal_open_at(rep, 1824942600000));
	assert_true(cal_open_at(rep, 1824946200000));
	/* ... to 05:00 CET (04:00Z): 3.5 h */
	assert_int_equal(cal_next_change(rep, 1824942600000), 1824955200000);
	cal_free(rep);

	/* An end in the repeated hour: its first occurrence too, 00:30Z. */
	rep = mk("Europe/Berlin");
	add(rep, SUN, "00:00-02:30");
	assert_int_equal(cal_next_change(rep, 1824933600000), 1824942600000);
	assert_false(cal_open_at(rep, 1824946200000));
	cal_free(rep);
	cal_free(cal);
}

/* Berlin 2027-03-28: 02:00 CET -> 03:00 CEST at 01:00Z (skipped hour). */
static void
test_berlin_spring_forward(void **state)
{
	struct calendar *cal = mk("Europe/Berlin");

	(void)state;
	add(cal, SUN, "00:00-06:00");
	/* Sun 00:00 CET (Sat 23:00Z) to 06:00 CEST (04:00Z): 5 h, not 6 */
	assert_int_equal(cal_next_change(cal, 1806188400000), 1806206400000);
	assert_int_equal(cal_add_open(cal, 1806188400000, 5 * 3600),
	    1806206400000);
	cal_free(cal);

	/* A start that does not exist (02:30): the end of the gap, 03:00
	 * CEST (01:00Z); to 04:00 CEST (02:00Z) is one hour */
	cal = mk("Europe/Berlin");
	add(cal, SUN, "02:30-04:00");
	assert_false(cal_open_at(cal, 1806195600000 - 1));
	assert_true(cal_open_at(cal, 1806195600000));
	assert_int_equal(cal_next_change(cal, 1806195600000), 1806199200000);
	cal_free(cal);

	/* An interval wholly in the gap never opens that day: from Sat noon
	 * the next opening is Sun 2027-04-04 02:00 CEST (00:00Z). */
	cal = mk("Europe/Berlin");
	add(cal, SUN, "02:00-02:30");
	assert_false(cal_open_at(cal, 1806195600000));
	assert_int_equal(cal_next_change(cal, 1806148800000), 1806796800000);
	cal_free(cal);
}

/* New York: 2027-03-14 02:00 EST -> 03:00 EDT; 2027-11-07 02:00 EDT -> 01:00 EST. */
static void
test_new_york(void **state)
{
	struct calendar *cal = mk("America/New_York");

	(void)state;
	add(cal, SUN, "00:00-04:00");
	add(cal, MON, "09:00-17:00");
	/* Fall: Sun 00:00 EDT (04:00Z) to 04:00 EST (09:00Z): 5 h */
	assert_int_equal(cal_next_change(cal, 1825560000000), 1825578000000);
	/* 4 h of open time: 03:00 EST (08:00Z) */
	assert_int_equal(cal_add_open(cal, 1825560000000, 4 * 3600),
	    1825574400000);
	/* Spring: Sun 00:00 EST (05:00Z) to 04:00 EDT (08:00Z): 3 h */
	assert_int_equal(cal_next_change(cal, 1805000400000), 1805011200000);
	assert_int_equal(cal_add_open(cal, 1805000400000, 3 * 3600),
	    1805011200000);
	/* one second more: Mon 2027-03-15 09:00:01 EDT (13:00:01Z) */
	assert_int_equal(cal_add_open(cal, 1805000400000, 3 * 3600 + 1),
	    1805115601000);
	cal_free(cal);
}

/* A zone without DST: Tokyo (UTC+9). */
static void
test_tokyo(void **state)
{
	struct calendar *cal = mk("Asia/Tokyo");

	(void)state;
	add_weekdays(cal, "09:00-18:00");
	/* Fri 2027-03-26 17:00 JST (08:00Z) + 2 h: 1 h Friday, 1 h Monday
	 * -> Mon 2027-03-29 10:00 JST (01:00Z) */
	assert_int_equal(cal_add_open(cal, 1806048000000, 7200), 1806282000000);
	cal_free(cal);
}

/* A half-hour zone: Kolkata (UTC+5:30). */
static void
test_kolkata(void **state)
{
	struct calendar *cal = mk("Asia/Kolkata");

	(void)state;
	add(cal, MON, "09:30-18:00");
	/* Mon 2027-03-22 09:30 IST is 04:00Z */
	assert_false(cal_open_at(cal, 1805688000000 - 1));
	assert_true(cal_open_at(cal, 1805688000000));
	/* closes 18:00 IST (12:30Z) */
	assert_int_equal(cal_next_change(cal, 1805688000000), 1805718600000);
	cal_free(cal);
}

/* 17:00-18:00 and 18:00-19:00 are one stretch; so are 22:00-24:00 and 00:00-02:00. */
static void
test_back_to_back(void **state)
{
	struct calendar *cal = mk("UTC");
	struct cal_ivals l = {0};

	(void)state;
	add(cal, MON, "18:00-19:00");
	add(cal, MON, "17:00-18:00");
	add(cal, MON, "22:00-24:00");
	add(cal, TUE, "00:00-02:00");
	/* Mon 2027-03-22 17:30Z -> closes 19:00Z, not 18:00Z */
	assert_int_equal(cal_next_change(cal, 1805736600000), 1805742000000);
	assert_int_equal(cal_add_open(cal, 1805736600000, 3600), 1805740200000);
	/* Mon 23:00Z -> closes Tue 02:00Z */
	assert_int_equal(cal_next_change(cal, 1805756400000), 1805767200000);
	/* the list over Monday: two stretches */
	assert_int_equal(cal_intervals(cal, 1805673600000,
	    1805673600000 + 2 * 86400000LL, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].start_ms, 1805673600000 + 17 * 3600000LL);
	assert_int_equal(l.v[0].end_ms, 1805742000000);
	assert_int_equal(l.v[1].start_ms, 1805673600000 + 22 * 3600000LL);
	assert_int_equal(l.v[1].end_ms, 1805767200000);
	cal_ivals_clear(&l);
	cal_free(cal);
}

/* Three seconds a week: Wednesdays 12:00:00-12:00:03 UTC. */
static void
test_few_seconds(void **state)
{
	struct calendar *cal = mk("UTC");

	(void)state;
	add(cal, WED, "12:00:00-12:00:03");
	/* Mon 2027-03-22 00:00Z + 10 s: 3 + 3 + 3 on the next three
	 * Wednesdays, 1 on the fourth -> Wed 2027-04-14 12:00:01Z */
	assert_int_equal(cal_add_open(cal, 1805673600000, 10), 1807704001000);
	/* Wed 2027-03-24 12:00:03Z (closed) -> Wed 2027-03-31 12:00:00Z */
	assert_false(cal_open_at(cal, 1805889603000));
	assert_int_equal(cal_next_change(cal, 1805889603000), 1806494400000);
	/* A day's worth needs 28800 weeks: beyond the horizon, -1, quickly */
	assert_int_equal(cal_add_open(cal, 1805673600000, 86400), -1);
	cal_free(cal);
}

/* Always open: never changes; never open: nothing ever comes. */
static void
test_always_and_never(void **state)
{
	struct calendar *cal = mk("Europe/Berlin");

	(void)state;
	for (int d = SUN; d <= SAT; d++)
		add(cal, d, "00:00-24:00");
	assert_true(cal_open_at(cal, 1805673600000));
	assert_int_equal(cal_next_change(cal, 1805673600000), -1);
	assert_int_equal(cal_add_open(cal, 1805673600000, 300),
	    1805673600000 + 300000);
	cal_free(cal);

	cal = mk("Europe/Berlin");
	assert_false(cal_has_open_time(cal));
	assert_false(cal_open_at(cal, 1805673600000));
	assert_int_equal(cal_next_change(cal, 1805673600000), -1);
	assert_int_equal(cal_add_open(cal, 1805673600000, 1), -1);
	assert_int_equal(cal_add_open(cal, 1805673600000, -1), -1);
	cal_free(cal);
}

/* The expanded list, clipped to its window, and the list arithmetic on it. */
static void
test_intervals(void **state)
{
	struct calendar *cal = berlin_office();
	struct cal_ivals l = {0};

	(void)state;
	/* Fri 2027-03-26 12:00Z to Tue 2027-03-30 00:00Z */
	assert_int_equal(cal_intervals(cal, 1806062400000, 1806364800000, &l),
	    0);
	assert_int_equal(l.n, 2);
	/* Friday clipped at the window's start, to 17:30 CET */
	assert_int_equal(l.v[0].start_ms, 1806062400000);
	assert_int_equal(l.v[0].end_ms, 1806078600000);
	/* Monday 09:00-17:30 CEST: 07:00Z-15:30Z */
	assert_int_equal(l.v[1].start_ms, 1806303600000);
	assert_int_equal(l.v[1].end_ms, 1806334200000);
	assert_int_equal(cal_ivals_add_open(&l, 1806078480000, 300),
	    1806303780000);
	/* Beyond the window: unknown (-1), and so outside it */
	assert_int_equal(cal_ivals_add_open(&l, 1806078480000, 10 * 3600), -1);
	assert_int_equal(cal_ivals_next_change(&l, 1806334200000 - 1), 1806334200000);
	assert_int_equal(cal_ivals_next_change(&l, 1806334200000), -1);
	assert_false(cal_ivals_open_at(&l, 1806364800000));
	/* A window too long is refused */
	assert_int_equal(cal_intervals(cal, 0, CAL_HORIZON_MS + 1, &l), -1);
	cal_ivals_clear(&l);
	cal_free(cal);
}

/* The caller's TZ is put back. */
static void
test_tz_restored(void **state)
{
	struct calendar *cal = berlin_office();

	(void)state;
	setenv("TZ", "America/New_York", 1);
	tzset();
	(void)cal_open_at(cal, 1805673600000);
	assert_string_equal(getenv("TZ"), "America/New_York");
	unsetenv("TZ");
	(void)cal_open_at(cal, 1805673600000);
	assert_null(getenv("TZ"));
	cal_free(cal);
}

static void
test_parse(void **state)
{
	struct cal_span sp;
	struct calendar *cal = mk("UTC");
	int32_t s;
	int64_t d;

	(void)state;
	assert_int_equal(cal_parse_time("09:00", false, &s), 0);
	assert_int_equal(s, 9 * 3600);
	assert_int_equal(cal_parse_time("23:59:59", false, &s), 0);
	assert_int_equal(s, 86399);
	assert_int_equal(cal_parse_time("24:00", true, &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(cal_parse_time("24:00:00", true, &s), 0);
	assert_int_equal(cal_parse_time("24:00", false, &s), -1);
	assert_int_equal(cal_parse_time("24:01", true, &s), -1);
	assert_int_equal(cal_parse_time("9:00", false, &s), -1);
	assert_int_equal(cal_parse_time("12:60", false, &s), -1);
	assert_int_equal(cal_parse_time("12:00:60", false, &s), -1);
	assert_int_equal(cal_parse_time("12:00:", false, &s), -1);
	assert_int_equal(cal_parse_span("09:00-17:30", &sp), CAL_SPAN_OK);
	assert_int_equal(cal_parse_span("17:00-09:00", &sp), CAL_SPAN_EMPTY);
	assert_int_equal(cal_parse_span("09:00-09:00", &sp), CAL_SPAN_EMPTY);
	assert_int_equal(cal_parse_span("24:00-24:00", &sp), CAL_SPAN_SYNTAX);
	assert_int_equal(cal_parse_span("09:00", &sp), CAL_SPAN_SYNTAX);
	assert_int_equal(cal_parse_span("09:00 - 10:00", &sp), CAL_SPAN_SYNTAX);
	assert_int_equal(cal_parse_date("1970-01-01", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(cal_parse_date("2028-02-29", &d), 0);
	assert_int_equal(d, 21243);
	assert_int_equal(cal_parse_date("2027-02-29", &d), -1);
	assert_int_equal(cal_parse_date("2027-13-01", &d), -1);
	assert_int_equal(cal_parse_date("2027-1-01", &d), -1);
	assert_int_equal(cal_parse_date("2027-01-01x", &d), -1);
	assert_int_equal(cal_weekday("mon"), MON);
	assert_int_equal(cal_weekday("sun"), SUN);
	assert_int_equal(cal_weekday("monday"), -1);
	assert_string_equal(cal_weekday_name(SAT), "sat");
	/* overlaps within a day */
	add(cal, MON, "09:00-12:00");
	assert_int_equal(cal_parse_span("11:00-13:00", &sp), CAL_SPAN_OK);
	assert_int_equal(cal_add_span(cal, MON, sp, &sp), -1);
	assert_int_equal(sp.start_s, 9 * 3600);
	add(cal, MON, "12:00-13:00");	/* touching is fine */
	assert_true(cal_has_open_time(cal));
	cal_free(cal);
}

static void
test_zone_exists(void **state)
{
	(void)state;
	assert_true(cal_zone_exists("Europe/Berlin"));
	assert_true(cal_zone_exists("UTC"));
	assert_false(cal_zone_exists("Mars/Olympus_Mons"));
	assert_false(cal_zone_exists("Europe"));	/* a directory */
	assert_false(cal_zone_exists("../../etc/passwd"));
	assert_false(cal_zone_exists("/etc/localtime"));
	assert_false(cal_zone_exists(""));
}

/* --- the configuration's view: shifts and the routing table's windows --- */

/* Berlin office hours for rep "ann" and the SLA; "bob" has no calendar. */
#define SHIFT_CONF(sla) \
	"scoring = { mql_threshold = 60; rules = (); };\n" \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n" \
	"reps = ( { id = \"ann\"; segments = [\"all\"]; calendar = \"emea\"; },\n" \
	"  { id = \"bob\"; segments = [\"all\"]; } );\n" \
	"sla = { follow_up = 300; " sla " };\n" \
	"calendars = ( { name = \"emea\"; timezone = \"Europe/Berlin\";\n" \
	"  hours = { mon = [\"09:00-17:30\"]; tue = [\"09:00-17:30\"];\n" \
	"    wed = [\"09:00-17:30\"]; thu = [\"09:00-17:30\"]; fri = [\"09:00-17:30\"]; };\n" \
	"  holidays = [\"2027-03-24\"]; },\n" \
	"  { name = \"unused\"; timezone = \"UTC\"; hours = { sun = [\"10:00-11:00\"]; }; } );\n"

/* Load text from a temporary file; it must load. */
static struct lr_config *
load_conf(const char *text)
{
	char path[] = "/tmp/test_calendar.XXXXXX";
	struct cfg_diag diag = {0};
	struct lr_config *cfg;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	cfg = cfg_load(path, &diag);
	unlink(path);
	for (size_t i = 0; i < diag.nerrors; i++)
		print_message("error: %s\n", diag.errors[i]);
	cfg_diag_clear(&diag);
	assert_non_null(cfg);
	return cfg;
}

/* cfg_rep_on_shift: the calendar's open time and next change; no
 * calendar: always on, nothing changes; a holiday is off all day. */
static void
test_rep_on_shift(void **state)
{
	struct lr_config *cfg = load_conf(SHIFT_CONF(""));
	const struct rep_cfg *ann = cfg_rep_find(cfg, "ann");
	const struct rep_cfg *bob = cfg_rep_find(cfg, "bob");
	int64_t until = 0;

	(void)state;
	/* Mon 2027-03-22 09:00 CET: the shift starts, ends 17:30 */
	assert_true(cfg_rep_on_shift(cfg, ann, 1805702400000, &until));
	assert_int_equal(until, 1805733000000);
	/* 08:59:59.999: off, until 09:00 */
	assert_false(cfg_rep_on_shift(cfg, ann, 1805702400000 - 1, &until));
	assert_int_equal(until, 1805702400000);
	/* 17:30: off, until Tuesday 09:00 */
	assert_false(cfg_rep_on_shift(cfg, ann, 1805733000000, &until));
	assert_int_equal(until, 1805702400000 + 86400000);
	/* Wed 2027-03-24 12:00 CET is a holiday: off until Thursday 09:00 */
	assert_false(cfg_rep_on_shift(cfg, ann, 1805886000000, &until));
	assert_int_equal(until, 1805702400000 + 3 * 86400000LL);
	/* Sat 2027-03-27 12:00 CET: off until Monday 09:00 CEST (DST) */
	assert_false(cfg_rep_on_shift(cfg, ann, 1806145200000, &until));
	assert_int_equal(until, 1806303600000);
	assert_true(cfg_rep_on_shift(cfg, bob, 1806145200000, &until));
	assert_int_equal(until, -1);
	assert_true(cfg_rep_on_shift(cfg, bob, 1806145200000, NULL));
	cfg_free(cfg);
}

/*
 * decide_routing_json_at: without a calendar in use, no calendar member
 * at all; with one, the used calendars' lists (and only those) over a
 * window from a day before now that holds follow_up of open time from a
 * day after now; reps carry their calendar's name; the table built at
 * another instant is of the same configuration.
 */
static void
test_routing_windows(void **state)
{
	struct lr_config *cfg = load_conf(SHIFT_CONF("calendar = \"emea\";"));
	struct lr_config *plain = load_conf(
	    "scoring = { mql_threshold = 60; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"bob\"; segments = [\"all\"]; } );\n");
	const struct calendar *emea = cfg_calendar_find(cfg, "emea");
	int64_t now = 1806145200000;	/* Sat 2027-03-27 12:00 CET */
	struct cal_ivals l = {0};
	char *s, *s2, *p;
	json_t *o, *a;
	int64_t from, to;

	(void)state;
	p = decide_routing_json_at(plain, now);
	assert_non_null(p);
	assert_null(strstr(p, "cal"));
	s = decide_routing_json_at(cfg, now);
	assert_non_null(s);
	assert_non_null(o = json_loads(s, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(o, "sla_cal")),
	    "emea");
	a = json_object_get(json_object_get(o, "reps"), "ann");
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_array_get(a, 2)), "emea");
	assert_int_equal(json_array_size(json_object_get(json_object_get(o,
	    "reps"), "bob")), 2);
	assert_null(json_object_get(json_object_get(o, "cal"), "unused"));
	a = json_object_get(json_object_get(o, "cal"), "emea");
	assert_true(json_is_array(a));
	from = json_integer_value(json_array_get(a, 0));
	to = json_integer_value(json_array_get(a, 1));
	assert_int_equal(from, now - 86400000);
	assert_true(to >= now + 2 * 86400000LL);
	assert_true(cal_add_open(emea, now + 86400000, 300) < to);
	assert_int_equal(cal_intervals(emea, from, to, &l), 0);
	assert_int_equal(json_array_size(a), 2 + 2 * l.n);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(json_integer_value(json_array_get(a, 2 + 2 * i)),
		    l.v[i].start_ms);
		assert_int_equal(json_integer_value(json_array_get(a, 3 + 2 * i)),
		    l.v[i].end_ms);
	}
	/* The windows move; the configuration is the same. */
	s2 = decide_routing_json_at(cfg, now + 3600000);
	assert_non_null(s2);
	assert_string_not_equal(s, s2);
	assert_true(decide_routing_same_config(s, s2));
	assert_false(decide_routing_same_config(s, p));
	assert_true(decide_routing_same_config(p, p));
	cal_ivals_clear(&l);
	json_decref(o);
	free(s);
	free(s2);
	free(p);
	cfg_free(cfg);
	cfg_free(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_next_change),
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_holiday),
		cmocka_unit_test(test_berlin_fall_back),
		cmocka_unit_test(test_berlin_spring_forward),
		cmocka_unit_test(test_new_york),
		cmocka_unit_test(test_tokyo),
		cmocka_unit_test(test_kolkata),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_few_seconds),
		cmocka_unit_test(test_always_and_never),
		cmocka_unit_test(test_intervals),
		cmocka_unit_test(test_tz_restored),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_zone_exists),
		cmocka_unit_test(test_rep_on_shift),
		cmocka_unit_test(test_routing_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
