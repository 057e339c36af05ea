/* itest_calendar.c - business hours against a real redis-server: the script's arithmetic agrees with the C, the SLA clock counts open time, shifts, the backlog at an opening, holidays, kill -9 across an opening. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "checker.h"
#include "harness.h"

#define DAY_MS 86400000LL

/* ---- calendars opening and closing a few seconds from now ------------- */

/*
 * Append to buf a calendar NAME in UTC open over the absolute intervals
 * iv (ms pairs, whole seconds, disjoint, in order), each cut at UTC
 * midnight into its days' spans; holidays is a libconfig list or NULL.
 */
static void
cal_conf(char *buf, size_t len, const char *name, const long long *iv,
    size_t n, const char *holidays)
{
	static const char *const wd[7] = {"sun", "mon", "tue", "wed", "thu",
	    "fri", "sat"};
	char days[7][512] = {{0}};
	size_t at;

	for (size_t i = 0; i < n; i++) {
		long long s = iv[2 * i], e = iv[2 * i + 1];

		assert_true(s % 1000 == 0 && e % 1000 == 0 && s < e);
		while (s < e) {
			long long day = s / DAY_MS, end = (day + 1) * DAY_MS;
			long long pe = e < end ? e : end;
			long long a = (s - day * DAY_MS) / 1000;
			long long b = (pe - day * DAY_MS) / 1000;
			int w = (int)((day + 4) % 7);	/* 1970-01-01: Thursday */
			char *d = days[w];

			at = strlen(d);
			snprintf(d + at, sizeof(days[w]) - at,
			    "%s\"%02lld:%02lld:%02lld-%02lld:%02lld:%02lld\"",
			    at ? ", " : "", a / 3600, a / 60 % 60, a % 60,
			    b / 3600, b / 60 % 60, b % 60);
			s = pe;
		}
	}
	at = strlen(buf);
	snprintf(buf + at, len - at, "%s{ name = \"%s\"; timezone = \"UTC\"; hours = {",
	    at > 0 && buf[at - 1] == '}' ? ", " : "", name);
	for (int w = 0; w < 7; w++) {
		if (days[w][0] == '\0')
			continue;
		at = strlen(buf);
		snprintf(buf + at, len - at, " %s = [%s];", wd[w], days[w]);
	}
	at = strlen(buf);
	snprintf(buf + at, len - at, " };%s%s%s }", holidays ? " holidays = " : "",
	    holidays ? holidays : "", holidays ? ";" : "");
}

#define BODY_HEAD \
	"scoring = { mql_threshold = 0; rules = (); };\n" \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n" \
	"audit = { enabled = true; };\n"

/* The whole configuration body: head, reps, sla, calendars, then extra
 * (more groups). */
static char *
body_extra(const char *reps, const char *sla, const char *cals,
    const char *extra)
{
	size_t len = strlen(BODY_HEAD) + strlen(reps) + strlen(sla) +
	    strlen(cals) + strlen(extra) + 128;
	char *b = malloc(len);

	assert_non_null(b);
	snprintf(b, len, "%sreps = (%s);\nsla = {%s};\ncalendars = (%s);\n%s",
	    BODY_HEAD, reps, sla, cals, extra);
	return b;
}

static char *
body_of(const char *reps, const char *sla, const char *cals)
{
	return body_extra(reps, sla, cals, "");
}

/*
 * Redis's clock rounded up to a whole second, plus s seconds, plus the
 * time a daemon under valgrind (make test-valgrind) may need to start.
 */
static long long
sec_from_now(redisContext *c, long long s)
{
	long long now = h_redis_time_ms(c);

	if (getenv("LR_VALGRIND_DIR") != NULL)
		s += 20;
	return (now / 1000 + 1 + s) * 1000;
}

/* The drain's promise, "within a second after a shift opens", with room
 * for a loaded machine (and for valgrind's 20-50 times slower daemon). */
static long long
drain_bound_ms(void)
{
	return getenv("LR_VALGRIND_DIR") != NULL ? 10000 : 1500;
}

/* Wait (bounded) until Redis's clock reaches t. */
static void
wait_until(redisContext *c, long long t)
{
	long long now;

	while ((now = h_redis_time_ms(c)) < t)
		h_sleep_ms(t - now > 200 ? 200 : t - now + 1);
}

/* Field field of hash key is value. */
static void
field_is(redisContext *c, const char *key, const char *field,
    const char *value)
{
	char *v = h_str(c, "HGET %s %s", key, field);

	assert_non_null(v);
	assert_string_equal(v, value);
	free(v);
}

/* ---- leadctl ------------------------------------------------------------ */

static int ctl_runs;

/* Run leadctl with the arguments (NULL-terminated): its stdout (malloc'd);
 * the exit status must be 0. */
static char *
ctl(struct h_fx *f, ...)
{
	const char *argv[16];
	char out[600], err[600];
	const char *bin = getenv("LEADCTL_BIN");
	va_list ap;
	int n = 1, id = ctl_runs++;
	char *text, *e;

	argv[0] = bin != NULL ? bin : "build/test/leadctl";
	va_start(ap, f);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/ctl%d.out", f->dir, id);
	snprintf(err, sizeof(err), "%s/ctl%d.err", f->dir, id);
	assert_int_equal(h_reap(h_spawn(argv, NULL, out, err), "leadctl"), 0);
	e = h_slurp(err);
	assert_null(strstr(e, "Sanitizer"));
	assert_null(strstr(e, "runtime error"));
	free(e);
	text = h_slurp(out);
	return text;
}

static json_t *
ctl_json(struct h_fx *f, const char *a1, const char *a2, const char *a3,
    const char *a4, const char *a5, const char *a6)
{
	char *out = ctl(f, "-c", f->conf, "--json", a1, a2, a3, a4, a5, a6,
	    NULL);
	json_t *o = json_loads(out, 0, NULL);

	if (o == NULL)
		fail_msg("leadctl gave no JSON: %s", out);
	free(out);
	return o;
}

/* All alerts of the durable log, parsed, oldest first. */
static json_t *
alerts(redisContext *c)
{
	redisReply *r = h_cmd(c, "XRANGE lr:alerts:log - +");
	json_t *a = json_array();

	for (size_t i = 0; i < r->elements; i++)
		json_array_append_new(a, json_loads(
		    r->element[i]->element[1]->element[1]->str, 0, NULL));
	freeReplyObject(r);
	return a;
}

/* The only alert of type for lead id; fails unless there is exactly one. */
static json_t *
one_alert(const json_t *all, const char *type, const char *id)
{
	json_t *a, *found = NULL;
	size_t i;
	int n = 0;

	json_array_foreach(all, i, a) {
		if (strcmp(h_jstr(a, "type"), type) == 0 &&
		    strcmp(h_jstr(a, "lead_id"), id) == 0) {
			found = a;
			n++;
		}
	}
	if (n != 1)
		fail_msg("%d %s alerts for lead %s", n, type, id);
	return found;
}

/* ---- the script's arithmetic is the C's --------------------------------- */

static char *
lua_source(void)
{
	const char *dir = getenv("LR_LUA_DIR");
	char path[512];

	snprintf(path, sizeof(path), "%s/calendar.lua",
	    dir != NULL ? dir : "daemon/lua");
	return h_slurp(path);
}

/* Evaluates the queries of ARGV[2] on the list of ARGV[1]. */
static const char *lua_driver =
    "\nlocal l = cjson.decode(ARGV[1])\n"
    "local q = cjson.decode(ARGV[2])\n"
    "local out = {}\n"
    "for i = 1, #q, 2 do\n"
    "  out[#out + 1] = cal_open_at(l, q[i]) and 1 or 0\n"
    "  out[#out + 1] = cal_next_change(l, q[i])\n"
    "  out[#out + 1] = cal_add_open(l, q[i], q[i + 1])\n"
    "end\n"
    "return out\n";

static void
add_query(json_t *q, long long t, long long secs)
{
	json_array_append_new(q, json_integer(t));
	json_array_append_new(q, json_integer(secs));
}

/* C and Lua on one list: every boundary +-1 ms, the window's edges,
 * instants spread over it; returns the number of queries. */
static size_t
agree(redisContext *c, const char *src, const struct calendar *cal,
    long long from, long long to)
{
	static const long long secs[] = {0, 1, 299, 300, 3600, 86400,
	    7 * 86400};
	struct cal_ivals l = {0};
	json_t *list = json_array(), *q = json_array();
	char *ls, *qs;
	redisReply *r;
	size_t nq, k = 0;
	unsigned int seed = 12345;

	assert_int_equal(cal_intervals(cal, from, to, &l), 0);
	json_array_append_new(list, json_integer(from));
	json_array_append_new(list, json_integer(to));
	for (size_t i = 0; i < l.n; i++) {
		json_array_append_new(list, json_integer(l.v[i].start_ms));
		json_array_append_new(list, json_integer(l.v[i].end_ms));
		for (long long d = -1; d <= 1; d++) {
			add_query(q, l.v[i].start_ms + d, secs[k++ % 7]);
			add_query(q, l.v[i].end_ms + d, secs[k++ % 7]);
		}
	}
	for (long long d = -1; d <= 1; d++) {
		add_query(q, from + d, secs[k++ % 7]);
		add_query(q, to + d, secs[k++ % 7]);
	}
	for (int i = 0; i < 400; i++) {
		seed = seed * 1103515245 + 12345;
		add_query(q, from + (long long)((double)(seed >> 8) /
		    (double)(1u << 24) * (double)(to - from)), secs[i % 7]);
	}
	ls = json_dumps(list, JSON_COMPACT);
	qs = json_dumps(q, JSON_COMPACT);
	nq = json_array_size(q) / 2;
	r = h_cmd(c, "EVAL %s 0 %s %s", src, ls, qs);
	if (r->type == REDIS_REPLY_ERROR)
		fail_msg("the Lua failed: %s", r->str);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 3 * nq);
	for (size_t i = 0; i < nq; i++) {
		long long t = json_integer_value(json_array_get(q, 2 * i));
		long long s = json_integer_value(json_array_get(q, 2 * i + 1));
		long long lo = r->element[3 * i]->integer;
		long long ln = r->element[3 * i + 1]->integer;
		long long la = r->element[3 * i + 2]->integer;

		if (lo != cal_ivals_open_at(&l, t) ||
		    ln != cal_ivals_next_change(&l, t) ||
		    la != cal_ivals_add_open(&l, t, s))
			fail_msg("%s at %lld + %llds: Lua %lld %lld %lld, C %d %lld %lld",
			    cal->zone, t, s, lo, ln, la,
			    cal_ivals_open_at(&l, t), cal_ivals_next_change(&l, t),
			    cal_ivals_add_open(&l, t, s));
	}
	freeReplyObject(r);
	free(ls);
	free(qs);
	json_decref(list);
	json_decref(q);
	cal_ivals_clear(&l);
	return nq;
}

static struct calendar *
mkcal(const char *zone, const char *const *spans, const char *const *hol)
{
	struct calendar *cal = cal_new("t", zone);
	struct cal_span sp;
	int64_t day;

	assert_non_null(cal);
	for (; *spans != NULL; spans += 2) {
		assert_int_equal(cal_parse_span(spans[1], &sp), CAL_SPAN_OK);
		assert_int_equal(cal_add_span(cal, cal_weekday(spans[0]), sp,
		    NULL), 0);
	}
	for (; hol != NULL && *hol != NULL; hol++) {
		assert_int_equal(cal_parse_date(*hol, &day), 0);
		assert_int_equal(cal_add_holiday(cal, day), 0);
	}
	return cal;
}

/*
 * daemon/lua/calendar.lua, run by Redis's Lua, answers as calendar.c on
 * the same lists: office hours across both DST changes of Berlin and New
 * York, a half-hour zone, back-to-back spans, holidays, a calendar open
 * one second a week; boundaries to the millisecond.
 */
static void
test_lua_agrees_with_c(void **state)
{
	struct h_fx *f = *state;
	static const char *const office[] = {"mon", "09:00-12:30", "mon",
	    "13:30-17:30", "tue", "09:00-17:30", "wed", "09:00-17:30", "thu",
	    "09:00-17:30", "fri", "09:00-16:00", NULL};
	static const char *const hol[] = {"2027-03-26", "2026-12-24", NULL};
	static const char *const night[] = {"sat", "22:00-24:00", "sun",
	    "00:00-03:00", "sun", "03:00-04:30", "mon", "00:00:01-00:00:02",
	    NULL};
	static const char *const tiny[] = {"wed", "10:00:00-10:00:01", NULL};
	struct {
		const char *zone;
		const char *const *spans;
		const char *const *hol;
		long long from;	/* a window of 40 days from here */
	} cases[] = {
		{"Europe/Berlin", office, hol, 1804000000000},	/* 2027-03 */
		{"Europe/Berlin", night, NULL, 1792000000000},	/* 2026-10 */
		{"America/New_York", office, NULL, 1792000000000},
		{"America/New_York", night, hol, 1803000000000},
		{"Asia/Kolkata", office, hol, 1803000000000},
		{"UTC", tiny, NULL, 1800000000000},
	};
	char *src = lua_source(), *script;
	size_t n = 0;

	script = malloc(strlen(src) + strlen(lua_driver) + 1);
	assert_non_null(script);
	strcpy(script, src);
	strcat(script, lua_driver);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct calendar *cal = mkcal(cases[i].zone, cases[i].spans,
		    cases[i].hol);

		n += agree(f->c, script, cal, cases[i].from,
		    cases[i].from + 40 * DAY_MS);
		/* A short window: answers beyond it are "unknown" (-1). */
		n += agree(f->c, script, cal, cases[i].from,
		    cases[i].from + DAY_MS / 2);
		cal_free(cal);
	}
	print_message("C and Lua agree on %zu instants\n", n);
	assert_true(n > 3000);
	free(script);
	free(src);
}

/* ---- the SLA clock ------------------------------------------------------ */

/*
 * sla.calendar open 2 s, closed 2 s, then open: a lead assigned while it
 * is closed starts counting at the opening; its 3 s are due 1 s into the
 * second opening, as leadctl calendar --add says; the warning (2 s of
 * open time) comes at the first closing; neither alert comes early.
 */
static void
test_sla_clock(void **state)
{
	struct h_fx *f = *state;
	char cals[2048] = "";
	long long t0 = sec_from_now(f->c, 2), iv[4], at, due;
	char ats[32], *body;
	json_t *o, *all, *a;

	iv[0] = t0 + 2000;
	iv[1] = t0 + 4000;
	iv[2] = t0 + 6000;
	iv[3] = t0 + 60000;
	cal_conf(cals, sizeof(cals), "biz", iv, 2, NULL);
	body = body_of("{ id = \"a\"; segments = [\"all\"]; max_open = 100; }",
	    "follow_up = 3; warn_before = 1; calendar = \"biz\";", cals);
	h_fx_start(f, 1, body);
	free(body);
	h_push_lead(f->c, "{\"id\":\"l1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:l1", "status", "assigned"));
	at = h_int(f->c, "HGET lr:lead:l1 assigned_at_ms");
	due = h_int(f->c, "HGET lr:lead:l1 follow_up_due_ms");
	if (at >= iv[0])
		skip();	/* the machine was too slow to assign while closed */
	assert_int_equal(due, t0 + 7000);
	field_is(f->c, "lr:lead:l1", "sla_calendar", "biz");
	assert_int_equal(h_int(f->c, "ZSCORE lr:sla:warn l1"), t0 + 4000);
	snprintf(ats, sizeof(ats), "%lld", at);
	o = ctl_json(f, "calendar", "biz", "--at", ats, "--add", "3");
	assert_int_equal(h_jint(o, "due_ms"), due);
	assert_false(json_is_true(json_object_get(o, "open")));
	assert_int_equal(h_jint(o, "next_change_ms"), iv[0]);
	json_decref(o);

	wait_until(f->c, due);
	assert_true(h_wait_field(f->c, "lr:lead:l1", "sla_breached", "1"));
	all = alerts(f->c);
	a = one_alert(all, "sla_warning", "l1");
	assert_true(h_jint(a, "at_ms") >= t0 + 4000);
	assert_true(h_jint(a, "at_ms") < due);
	assert_int_equal(h_jint(a, "follow_up_due_ms"), due);
	a = one_alert(all, "sla_breach", "l1");
	assert_true(h_jint(a, "at_ms") >= due);
	assert_int_equal(h_jint(a, "assigned_at_ms"), at);
	json_decref(all);
	h_fx_stop(f);
}

/*
 * A breached lead moves from a rep with a calendar to one without (and no
 * sla.calendar): its new clock runs around the clock, and the record says
 * so by having no sla_calendar (README "Lead record").
 */
static void
test_reassign_to_no_calendar(void **state)
{
	struct h_fx *f = *state;
	char cals[2048] = "", *body, *sc;
	long long biv[2];

	biv[0] = (h_redis_time_ms(f->c) / 1000 - 10) * 1000;
	biv[1] = biv[0] + 3600000;
	cal_conf(cals, sizeof(cals), "bcal", biv, 1, NULL);
	body = body_of(
	    "{ id = \"b\"; segments = [\"all\"]; max_open = 10; calendar = \"bcal\"; },"
	    "{ id = \"a\"; segments = [\"all\"]; max_open = 10; }",
	    "follow_up = 2; warn_before = 0; on_breach = \"reassign\";", cals);
	h_fx_start(f, 1, body);
	free(body);
	h_push_lead(f->c, "{\"id\":\"r1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:r1", "rep", "b"));
	field_is(f->c, "lr:lead:r1", "sla_calendar", "bcal");
	assert_true(h_wait_field(f->c, "lr:lead:r1", "rep", "a"));
	sc = h_str(f->c, "HGET lr:lead:r1 sla_calendar");
	if (sc != NULL)
		fail_msg("sla_calendar is '%s' after the move to a rep without a calendar", sc);
	h_fx_stop(f);
}

/*
 * Reassignment on breach: the new timer runs in the new rep's calendar
 * (closed for a while after the move: the gap does not count), and a rep
 * off shift is never picked: with none left on shift, an escalation.
 */
static void
test_reassign_in_new_clock(void **state)
{
	struct h_fx *f = *state;
	char cals[2048] = "", *body, ats[32];
	long long t0 = sec_from_now(f->c, 1), biv[4], civ[2], at, due;
	json_t *o, *all, *a;

	biv[0] = (h_redis_time_ms(f->c) / 1000 - 10) * 1000;
	biv[1] = t0 + 3000;
	biv[2] = t0 + 5000;
	biv[3] = t0 + 120000;
	civ[0] = t0 + 100000;
	civ[1] = t0 + 120000;
	cal_conf(cals, sizeof(cals), "bcal", biv, 2, NULL);
	cal_conf(cals, sizeof(cals), "ccal", civ, 1, NULL);
	body = body_of(
	    "{ id = \"a\"; segments = [\"all\"]; max_open = 10; },"
	    "{ id = \"c\"; segments = [\"all\"]; max_open = 10; calendar = \"ccal\"; },"
	    "{ id = \"b\"; segments = [\"all\"]; max_open = 10; calendar = \"bcal\"; }",
	    "follow_up = 2; warn_before = 0; on_breach = \"reassign\";", cals);
	h_fx_start(f, 1, body);
	free(body);
	h_push_lead(f->c, "{\"id\":\"r1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:r1", "rep", "a"));
	assert_null(h_str(f->c, "HGET lr:lead:r1 sla_calendar"));
	assert_true(h_wait_field(f->c, "lr:lead:r1", "rep", "b"));
	field_is(f->c, "lr:lead:r1", "sla_calendar", "bcal");
	at = h_int(f->c, "HGET lr:lead:r1 assigned_at_ms");
	due = h_int(f->c, "HGET lr:lead:r1 follow_up_due_ms");
	snprintf(ats, sizeof(ats), "%lld", at);
	o = ctl_json(f, "calendar", "bcal", "--at", ats, "--add", "2");
	assert_int_equal(h_jint(o, "due_ms"), due);
	json_decref(o);
	if (at < biv[1] && at + 2000 > biv[1])
		assert_int_equal(due, at + 2000 + 2000);	/* the gap is skipped */
	assert_true(h_wait_field(f->c, "lr:lead:r1", "escalated", "1"));
	field_is(f->c, "lr:lead:r1", "rep", "b");
	field_is(f->c, "lr:lead:r1", "breached_by", "a,b");
	all = alerts(f->c);
	a = one_alert(all, "sla_escalation", "r1");
	assert_string_equal(h_jstr(a, "rep"), "b");
	assert_true(h_jint(a, "at_ms") >= due);
	json_decref(all);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:c:open"), 0);
	h_fx_stop(f);
}

/* ---- shifts ------------------------------------------------------------- */

static bool
ids_equal(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* The rep row of id in leadctl status --json. */
static const json_t *
status_rep(const json_t *st, const char *id)
{
	const json_t *segs = json_object_get(st, "segments"), *s, *r;
	size_t i, k;

	json_array_foreach(segs, i, s)
		json_array_foreach(json_object_get(s, "reps"), k, r)
			if (ids_equal(h_jstr(r, "id"), id))
				return r;
	fail_msg("no rep %s in the status", id);
	return NULL;
}

/*
 * An off-shift rep gets nothing while an on-shift colleague does; away
 * wins over an open shift; status shows off_shift and until when, and
 * /metrics leadrouted_rep_on_shift; the forecast counts no room of a rep
 * off shift all through its horizon; an assignment without a calendar
 * counts around the clock and its record has no sla_calendar.
 */
static void
test_shifts(void **state)
{
	struct h_fx *f = *state;
	char cals[2048] = "", *body, *text, *out, line[128];
	long long now = h_redis_time_ms(f->c), t1 = sec_from_now(f->c, 60);
	long long later[2], open[2];
	const json_t *r;
	json_t *st;
	char id[16];

	later[0] = t1;
	later[1] = t1 + 60000;
	open[0] = (now / 1000 - 5) * 1000;
	open[1] = t1 + 60000;
	cal_conf(cals, sizeof(cals), "later", later, 1, NULL);
	cal_conf(cals, sizeof(cals), "open", open, 1, NULL);
	body = body_extra(
	    "{ id = \"off\"; segments = [\"all\"]; max_open = 100; calendar = \"later\"; },"
	    "{ id = \"on\"; segments = [\"all\"]; max_open = 100; },"
	    "{ id = \"gone\"; segments = [\"all\"]; max_open = 100; calendar = \"open\"; }",
	    "follow_up = 600; warn_before = 0;", cals,
	    "forecast = { interval = 1; horizon = 30; };\n");
	f->http_port = h_free_port();
	h_fx_start(f, 1, body);
	free(body);
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"gone\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:rep:gone", "status", "away"));
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		snprintf(line, sizeof(line), "{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
		h_push_lead(f->c, line);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "lr:lead:s%d", i);
		assert_true(h_wait_field(f->c, line, "rep", "on"));
	}
	assert_int_equal(h_int(f->c, "SCARD lr:rep:off:open"), 0);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:gone:open"), 0);
	/* The forecast's room: "on" alone; "gone" is away, and the shift of
	 * "off" opens after the 30 s horizon. */
	assert_true(h_wait_field(f->c, "lr:forecast", "all|room", "96"));
	assert_null(h_str(f->c, "HGET lr:lead:s0 sla_calendar"));
	assert_int_equal(h_int(f->c, "HGET lr:lead:s0 follow_up_due_ms") -
	    h_int(f->c, "HGET lr:lead:s0 assigned_at_ms"), 600000);

	st = ctl_json(f, "status", NULL, NULL, NULL, NULL, NULL);
	r = status_rep(st, "off");
	assert_string_equal(h_jstr(r, "status"), "off_shift");
	assert_false(json_is_true(json_object_get(r, "on_shift")));
	assert_int_equal(h_jint(r, "shift_change_ms"), t1);
	r = status_rep(st, "gone");
	assert_string_equal(h_jstr(r, "status"), "away");
	assert_true(json_is_true(json_object_get(r, "on_shift")));
	assert_int_equal(h_jint(r, "shift_change_ms"), t1 + 60000);
	r = status_rep(st, "on");
	assert_string_equal(h_jstr(r, "status"), "available");
	assert_true(json_is_true(json_object_get(r, "on_shift")));
	assert_true(json_is_null(json_object_get(r, "shift_change_ms")));
	json_decref(st);
	text = ctl(f, "-c", f->conf, "status", NULL);
	assert_non_null(strstr(text, "off_shift"));
	assert_non_null(strstr(text, "(shift starts "));
	free(text);

	assert_int_equal(h_http_get(f->http_port, "GET", "/metrics", &out), 200);
	assert_true(h_metric(out, "leadrouted_rep_on_shift{rep=\"off\"}") == 0);
	assert_true(h_metric(out, "leadrouted_rep_on_shift{rep=\"on\"}") == 1);
	assert_true(h_metric(out, "leadrouted_rep_on_shift{rep=\"gone\"}") == 1);
	free(out);
	h_fx_stop(f);
}

/* ---- the backlog at an opening ------------------------------------------ */

/*
 * Nobody of the segment is on shift: MQLs wait in the backlog; with two
 * instances they are assigned within a second after the shift opens,
 * never before, each once, their clock the rep's calendar.
 */
static void
test_backlog_drains_at_opening(void **state)
{
	struct h_fx *f = *state;
	char cals[2048] = "", *body, key[64];
	long long t0 = sec_from_now(f->c, 4), iv[2] = {t0, t0 + 120000};

	cal_conf(cals, sizeof(cals), "shift", iv, 1, NULL);
	body = body_of("{ id = \"x\"; segments = [\"all\"]; max_open = 100; calendar = \"shift\"; }",
	    "follow_up = 60; warn_before = 0;", cals);
	h_fx_start(f, 2, body);
	free(body);
	if (h_redis_time_ms(f->c) >= t0 - 1000)
		skip();	/* too slow to start before the opening */
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "{\"id\":\"b%d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, key);
	}
	assert_true(h_wait_zcard(f->c, "lr:backlog:all", 3));
	if (h_redis_time_ms(f->c) >= t0)
		skip();	/* too slow to see the backlog before the opening */
	wait_until(f->c, t0);
	assert_true(h_wait_zcard_at_most(f->c, "lr:backlog:all", 0));
	for (int i = 0; i < 3; i++) {
		long long at;

		snprintf(key, sizeof(key), "lr:lead:b%d", i);
		assert_true(h_wait_field(f->c, key, "status", "assigned"));
		at = h_int(f->c, "HGET %s assigned_at_ms", key);
		assert_true(at >= t0);
		assert_true(at < t0 + drain_bound_ms());	/* drains every second */
		assert_int_equal(h_int(f->c, "HGET %s follow_up_due_ms", key),
		    at + 60000);
		field_is(f->c, key, "sla_calendar", "shift");
	}
	assert_int_equal(h_int(f->c, "SCARD lr:rep:x:open"), 3);
	assert_int_equal(h_int(f->c, "XLEN lr:audit"), 3);
	h_fx_stop(f);
}

/*
 * A reload that puts an off-shift rep on an open calendar: the waiting
 * leads are assigned at once, in the new clock; one that takes it off
 * again: new leads wait.
 */
static void
test_reload_opens_shift(void **state)
{
	struct h_fx *f = *state;
	char cals[2048] = "", *body, *body2, *body3;
	long long now = h_redis_time_ms(f->c);
	long long later[2], open[2];

	later[0] = (now / 1000 + 3600) * 1000;
	later[1] = later[0] + 60000;
	open[0] = (now / 1000 - 60) * 1000;
	open[1] = (now / 1000 + 3600) * 1000;
	cal_conf(cals, sizeof(cals), "later", later, 1, NULL);
	cal_conf(cals, sizeof(cals), "open", open, 1, NULL);
	body = body_of("{ id = \"x\"; segments = [\"all\"]; max_open = 100; calendar = \"later\"; }",
	    "follow_up = 600; warn_before = 0;", cals);
	body2 = body_of("{ id = \"x\"; segments = [\"all\"]; max_open = 100; calendar = \"open\"; }",
	    "follow_up = 600; warn_before = 0;", cals);
	body3 = body_of("{ id = \"x\"; segments = [\"all\"]; max_open = 100; calendar = \"later\"; }",
	    "follow_up = 601; warn_before = 0;", cals);
	h_fx_start(f, 1, body);
	free(body);
	h_push_lead(f->c, "{\"id\":\"w1\",\"email\":\"a@b.c\"}");
	h_push_lead(f->c, "{\"id\":\"w2\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_zcard(f->c, "lr:backlog:all", 2));
	h_fx_conf(f, body2);
	free(body2);
	h_daemon_signal(&f->d[0], SIGHUP);
	assert_true(h_wait_zcard_at_most(f->c, "lr:backlog:all", 0));
	assert_true(h_wait_field(f->c, "lr:lead:w2", "status", "assigned"));
	field_is(f->c, "lr:lead:w1", "rep", "x");
	field_is(f->c, "lr:lead:w1", "sla_calendar", "open");
	h_fx_conf(f, body3);
	free(body3);
	h_daemon_signal(&f->d[0], SIGHUP);
	for (int i = 0; i < 100 && h_log_count(&f->d[0], "loaded (version") < 2; i++)
		h_sleep_ms(100);
	assert_int_equal(h_log_count(&f->d[0], "loaded (version"), 2);
	h_push_lead(f->c, "{\"id\":\"w3\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:w3", "status", "backlog"));
	h_fx_stop(f);
}

/* ---- holidays ----------------------------------------------------------- */

/* Open all week, but today (UTC) is a holiday: closed, nothing assigned. */
static void
test_holiday_closes(void **state)
{
	struct h_fx *f = *state;
	char cals[2048] = "", hol[64], *body, next[32];
	long long now = h_redis_time_ms(f->c), today, iv[2];
	int64_t y, m, d, z, era, doe, yoe, doy, mp;
	json_t *o;

	if (now % DAY_MS > DAY_MS - 30000) {	/* no midnight in the test */
		wait_until(f->c, (now / DAY_MS + 1) * DAY_MS + 1000);
		now = h_redis_time_ms(f->c);
	}
	today = now / DAY_MS;
	/* civil date of today (H. Hinnant) */
	z = today + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	snprintf(hol, sizeof(hol), "[\"%04lld-%02lld-%02lld\"]", (long long)y,
	    (long long)m, (long long)d);
	iv[0] = (today - 1) * DAY_MS;
	iv[1] = (today + 6) * DAY_MS;	/* every day of the week, all day */
	cal_conf(cals, sizeof(cals), "allday", iv, 1, hol);
	body = body_of("{ id = \"h\"; segments = [\"all\"]; max_open = 100; calendar = \"allday\"; }",
	    "follow_up = 60; warn_before = 0;", cals);
	h_fx_start(f, 1, body);
	free(body);
	h_push_lead(f->c, "{\"id\":\"hol\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:hol", "status", "backlog"));
	o = ctl_json(f, "calendar", "allday", NULL, NULL, NULL, NULL);
	assert_false(json_is_true(json_object_get(o, "open")));
	assert_int_equal(h_jint(o, "next_change_ms"), (today + 1) * DAY_MS);
	json_decref(o);
	snprintf(next, sizeof(next), "%lld", (today + 1) * DAY_MS - 1);
	o = ctl_json(f, "calendar", "allday", "--at", next, NULL, NULL);
	assert_false(json_is_true(json_object_get(o, "open")));
	json_decref(o);
	h_sleep_ms(1200);	/* a drain or two: still waiting */
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:all"), 1);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:h:open"), 0);
	h_fx_stop(f);
}

/* ---- kill -9 across an opening ------------------------------------------ */

/*
 * Two instances, a backlog waiting for a shift; one is killed with
 * SIGKILL just before the shift opens while leads keep coming, and
 * restarted after: every lead is in exactly one place, assigned at or
 * after the opening, capacity and alerts as the checker demands.
 */
static void
test_kill9_across_opening(void **state)
{
	struct h_fx *f = *state;
	static const struct chk_rep limits[] = {{"x", 12, 0, 0},
	    {"y", 12, 0, 0}};
	enum { N = 24 };
	static char ids[N][16];
	struct chk_item items[N];
	struct chk_spec spec = {0};
	struct chk_result res;
	char cals[2048] = "", *body, lead[96];
	long long t0 = sec_from_now(f->c, 4), iv[2] = {t0, t0 + 600000};

	cal_conf(cals, sizeof(cals), "shift", iv, 1, NULL);
	body = body_of(
	    "{ id = \"x\"; segments = [\"all\"]; max_open = 12; calendar = \"shift\"; },"
	    "{ id = \"y\"; segments = [\"all\"]; max_open = 12; calendar = \"shift\"; }",
	    "follow_up = 600; warn_before = 0;", cals);
	h_fx_start(f, 2, body);
	free(body);
	if (h_redis_time_ms(f->c) >= t0 - 1500)
		skip();	/* too slow to start before the opening */
	memset(items, 0, sizeof(items));
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "k%02d", i);
		items[i].id = ids[i];
		items[i].expect = "routed";
	}
	for (int i = 0; i < N / 2; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"%s\",\"email\":\"a@b.c\"}", ids[i]);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_zcard(f->c, "lr:backlog:all", N / 2));
	wait_until(f->c, t0 - 300);
	assert_int_equal(h_daemon_stop(&f->d[0], SIGKILL), 128 + SIGKILL);
	for (int i = N / 2; i < N; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"%s\",\"email\":\"a@b.c\"}", ids[i]);
		h_push_lead(f->c, lead);
		h_sleep_ms(40);
	}
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0b");
	for (int i = 0; i < 100 && !h_log_contains(&f->d[0], "registered"); i++)
		h_sleep_ms(100);
	assert_true(h_log_contains(&f->d[0], "registered"));
	assert_true(h_wait_zcard_at_most(f->c, "lr:backlog:all", 0));
	spec.items = items;
	spec.nitems = N;
	spec.reps = limits;
	spec.nreps = 2;
	assert_int_equal(chk_run(f->c, &spec, &res), 0);
	chk_print(stderr, "kill9_across_opening", &res);
	assert_true(chk_clean(&res));
	assert_int_equal(res.assigned, N);
	for (int i = 0; i < N; i++) {
		snprintf(lead, sizeof(lead), "lr:lead:%s", ids[i]);
		assert_true(h_int(f->c, "HGET %s assigned_at_ms", lead) >= t0);
	}
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_lua_agrees_with_c),
		H_TEST(test_sla_clock),
		H_TEST(test_reassign_in_new_clock),
		H_TEST(test_reassign_to_no_calendar),
		H_TEST(test_shifts),
		H_TEST(test_backlog_drains_at_opening),
		H_TEST(test_reload_opens_shift),
		H_TEST(test_holiday_closes),
		H_TEST_AOF(test_kill9_across_opening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
