/* itest_leadctl.c - leadctl as a user runs it, against a real redis-server and the real daemon. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "harness.h"

/* What one leadctl run left: exit status (128+signal when killed), output. */
struct run {
	int status;
	char *out, *err;
};

/* A running leadctl, for --follow. */
struct bg {
	pid_t pid;
	char out[600], err[600];
};

/* ---- running leadctl ---------------------------------------------------- */

static const char *
ctl_bin(void)
{
	const char *b = getenv("LEADCTL_BIN");

	return b != NULL ? b : "build/test/leadctl";
}

/*
 * Each run's files are numbered; the count goes on from test to test, each
 * test having a directory of its own.
 */
static int ctl_runs;

/* Start leadctl with argv (NULL-terminated, without argv[0]). */
static pid_t
ctl_spawn(struct h_fx *f, const char *input, const char *const *argv,
    char *out, char *err, size_t len)
{
	const char *args[40];
	char in[600];
	int id = ctl_runs++, n = 0;

	snprintf(in, sizeof(in), "%s/ctl%d.in", f->dir, id);
	snprintf(out, len, "%s/ctl%d.out", f->dir, id);
	snprintf(err, len, "%s/ctl%d.err", f->dir, id);
	h_write_file(in, input != NULL ? input : "");
	args[n++] = ctl_bin();
	for (; argv[n - 1] != NULL && n < 39; n++)
		args[n] = argv[n - 1];
	args[n] = NULL;
	return h_spawn(args, in, out, err);
}

/* Fail on a sanitizer report in a child's stderr. */
static void
assert_clean(const char *err)
{
	assert_null(strstr(err, "Sanitizer"));
	assert_null(strstr(err, "runtime error"));
}

static void run_ctl(struct h_fx *f, struct run *r, const char *input, ...)
    __attribute__((sentinel));

/* Run leadctl with the arguments (NULL-terminated), stdin from input. */
static void
run_ctl(struct h_fx *f, struct run *r, const char *input, ...)
{
	const char *argv[32];
	char out[600], err[600];
	va_list ap;
	int n = 0;

	va_start(ap, input);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	r->status = h_reap(ctl_spawn(f, input, argv, out, err, sizeof(out)),
	    "leadctl");
	r->out = h_slurp(out);
	r->err = h_slurp(err);
	assert_clean(r->err);
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static json_t *
parse(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);

	if (v == NULL)
		fail_msg("not JSON (%s): %s", e.text, s);
	return v;
}

/* Each line of s parsed, as an array. */
static json_t *
parse_lines(const char *s)
{
	json_t *a = json_array();
	const char *nl;
	char *line;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		assert_non_null(nl);
		line = strndup(s, (size_t)(nl - s));
		json_array_append_new(a, parse(line));
		free(line);
		s = nl + 1;
	}
	return a;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* ---- configurations ------------------------------------------------------ */

/* Leads are MQLs when "hot"; employees < 100 is small, the rest mid. */
static const char *two_seg_body =
    "scoring = { mql_threshold = 10; rules = (\n"
    "  { field = \"hot\"; op = \"is_true\"; points = 10; } ); };\n"
    "segments = ( { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
    "  { name = \"mid\"; } );\n"
    "default_segment = \"mid\";\n"
    "reps = (\n"
    "  { id = \"ann\"; segments = [\"small\"]; max_open = 5; max_per_period = 10; },\n"
    "  { id = \"john\"; segments = [\"mid\"]; max_open = 2; max_per_period = 3; }\n"
    ");\n"
    "capacity = { period = 3600; };\n";

/* One segment, one rep, a one-second SLA without warnings. */
static const char *sla_body =
    "scoring = { mql_threshold = 60; rules = (\n"
    "  { field = \"title\"; op = \"contains_any\"; values = [\"vp\"]; points = 20; },\n"
    "  { field = \"activity.demo_request\"; op = \"is_true\"; points = 50; },\n"
    "  { field = \"source\"; op = \"eq\"; value = \"partner\"; points = 10; } ); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = ( { id = \"a\"; segments = [\"all\"]; max_open = 100; } );\n"
    "sla = { follow_up = 1; warn_before = 0; };\n";

#define HOT(id, emp) "{\"id\":\"" id "\",\"email\":\"x@y.z\",\"hot\":true,\"employees\":" #emp "}"

/* ---- push ---------------------------------------------------------------- */

/* Bad lines are named by number and reason, not pushed; good ones route. */
static void
test_push_reports_bad_lines_and_routes_good_ones(void **state)
{
	struct h_fx *f = *state;
	char path[600];
	struct run r;

	h_fx_start(f, 1, two_seg_body);
	snprintf(path, sizeof(path), "%s/leads.jsonl", f->dir);
	h_write_file(path,
	    HOT("p1", 500) "\n"
	    "\n"
	    "{\"id\":\"p2\",\"email\":\"no-at-sign\"}\n"
	    HOT("p3", 10) "\n"
	    "   \n"
	    "not json\n"
	    "{\"email\":\"x@y.z\"}\n"
	    HOT("p4", 600) "\r\n");
	run_ctl(f, &r, NULL, "-c", f->conf, "push", path, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "pushed 3 leads, rejected 3 lines"));
	assert_non_null(strstr(r.err, "line 3: bad_email: "));
	assert_non_null(strstr(r.err, "line 6: bad_json: "));
	assert_non_null(strstr(r.err, "line 7: missing_id: "));
	assert_null(strstr(r.err, "line 2:"));
	assert_null(strstr(r.err, "line 5:"));
	run_free(&r);

	assert_true(h_wait_field(f->c, "lr:lead:p1", "rep", "john"));
	assert_true(h_wait_field(f->c, "lr:lead:p3", "rep", "ann"));
	assert_true(h_wait_field(f->c, "lr:lead:p4", "rep", "john"));
	assert_int_equal(h_int(f->c, "EXISTS lr:lead:p2"), 0);
	assert_int_equal(h_int(f->c, "LLEN lr:dead"), 0);

	/* All good: exit 0. */
	run_ctl(f, &r, HOT("p5", 1) "\n", "-c", f->conf, "push", "-", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "pushed 1 lead, rejected 0 lines"));
	assert_string_equal(r.err, "");
	run_free(&r);
	assert_true(h_wait_field(f->c, "lr:lead:p5", "rep", "ann"));
	h_fx_stop(f);
}

/* Pushed in file order (the daemon takes the right end first); --json. */
static void
test_push_order_and_json(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	json_t *o, *e;
	char *v;

	h_fx_conf(f, two_seg_body);
	run_ctl(f, &r, HOT("o1", 1) "\n" HOT("o2", 1) "\n" HOT("o3", 1) "\n",
	    "-c", f->conf, "push", "--json", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	assert_int_equal(h_jint(o, "pushed"), 3);
	assert_int_equal(h_jint(o, "rejected"), 0);
	assert_int_equal(json_array_size(json_object_get(o, "errors")), 0);
	json_decref(o);
	run_free(&r);
	assert_int_equal(h_int(f->c, "LLEN lr:incoming"), 3);
	for (int i = 1; i <= 3; i++) {
		char want[16];

		v = h_str(f->c, "RPOP lr:incoming");
		snprintf(want, sizeof(want), "\"o%d\"", i);
		assert_non_null(strstr(v, want));
		free(v);
	}

	run_ctl(f, &r, HOT("o4", 1) "\n{\"id\":\"bad id!\",\"email\":\"a@b\"}\n",
	    "--json", "-c", f->conf, "push", NULL);
	assert_int_equal(r.status, 1);
	o = parse(r.out);
	assert_int_equal(h_jint(o, "pushed"), 1);
	assert_int_equal(h_jint(o, "rejected"), 1);
	e = json_array_get(json_object_get(o, "errors"), 0);
	assert_int_equal(h_jint(e, "line"), 2);
	assert_string_equal(h_jstr(e, "reason"), "bad_id");
	assert_true(strlen(h_jstr(e, "detail")) > 0);
	json_decref(o);
	assert_non_null(strstr(r.err, "line 2: bad_id: "));
	run_free(&r);
	assert_int_equal(h_int(f->c, "LLEN lr:incoming"), 1);

	/* A missing file is an error, not a usage error. */
	run_ctl(f, &r, NULL, "-c", f->conf, "push", "/nonexistent/leads", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "cannot open '/nonexistent/leads'"));
	run_free(&r);
}

/* ---- events --------------------------------------------------------------- */

/* followup, reject and close change the record as Redis shows it. */
static void
test_followup_reject_close(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	json_t *o, *rec;
	char *v;

	h_fx_start(f, 1, two_seg_body);
	h_push_lead(f->c, HOT("e1", 500));
	h_push_lead(f->c, HOT("e2", 500));
	h_push_lead(f->c, HOT("e3", 5));
	assert_true(h_wait_field(f->c, "lr:lead:e1", "rep", "john"));
	assert_true(h_wait_field(f->c, "lr:lead:e2", "rep", "john"));
	assert_true(h_wait_field(f->c, "lr:lead:e3", "rep", "ann"));

	run_ctl(f, &r, NULL, "-c", f->conf, "followup", "e1", "--rep", "john",
	    "--wait", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "sent to lr:events: {\"type\":\"followed_up\",\"lead_id\":\"e1\",\"rep\":\"john\"}"));
	assert_non_null(strstr(r.out, "applied: lead 'e1' is followed_up"));
	run_free(&r);
	v = h_str(f->c, "HGET lr:lead:e1 status");
	assert_string_equal(v, "followed_up");
	free(v);
	assert_int_equal(h_int(f->c, "HEXISTS lr:lead:e1 followed_up_at_ms"), 1);
	assert_int_equal(h_int(f->c, "ZSCORE lr:sla:due e1"), 0);

	run_ctl(f, &r, NULL, "-c", f->conf, "reject", "e2", "--rep=john",
	    "--reason", "no budget this year", "--wait", "--json", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	assert_string_equal(h_jstr(o, "queue"), "lr:events");
	assert_string_equal(h_jstr(json_object_get(o, "event"), "type"), "rejected");
	assert_string_equal(h_jstr(json_object_get(o, "event"), "lead_id"), "e2");
	assert_string_equal(h_jstr(json_object_get(o, "event"), "rep"), "john");
	assert_string_equal(h_jstr(json_object_get(o, "event"), "reason"),
	    "no budget this year");
	assert_string_equal(h_jstr(o, "result"), "applied");
	rec = json_object_get(o, "record");
	assert_string_equal(h_jstr(rec, "status"), "rejected");
	assert_string_equal(h_jstr(rec, "reject_reason"), "no budget this year");
	json_decref(o);
	run_free(&r);
	v = h_str(f->c, "HGET lr:lead:e2 reject_reason");
	assert_string_equal(v, "no budget this year");
	free(v);
	assert_int_equal(h_int(f->c, "SISMEMBER lr:rep:john:open e2"), 0);

	/* Without --wait: sent, and the daemon applies it. */
	run_ctl(f, &r, NULL, "-c", f->conf, "close", "e3", "--rep", "ann",
	    "--outcome", "won", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "{\"type\":\"closed\",\"lead_id\":\"e3\",\"rep\":\"ann\",\"outcome\":\"won\"}"));
	run_free(&r);
	assert_true(h_wait_field(f->c, "lr:lead:e3", "status", "closed"));
	v = h_str(f->c, "HGET lr:lead:e3 outcome");
	assert_string_equal(v, "won");
	free(v);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:ann:open"), 0);
	h_fx_stop(f);
}

/* An event the daemon refuses: --wait shows the dead letter's reason. */
static void
test_event_refused_shows_dead_letter(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	json_t *o;
	char *v;

	h_fx_start(f, 1, two_seg_body);
	h_push_lead(f->c, HOT("d1", 500));
	assert_true(h_wait_field(f->c, "lr:lead:d1", "rep", "john"));

	run_ctl(f, &r, NULL, "-c", f->conf, "close", "d1", "--rep", "ann",
	    "--outcome", "lost", "--wait", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "dead-lettered): not_assignee: "));
	run_free(&r);
	v = h_str(f->c, "HGET lr:lead:d1 status");
	assert_string_equal(v, "assigned");
	free(v);

	run_ctl(f, &r, NULL, "--json", "-c", f->conf, "followup", "nope",
	    "--rep", "john", "--wait", NULL);
	assert_int_equal(r.status, 1);
	o = parse(r.out);
	assert_string_equal(h_jstr(o, "result"), "dead_letter");
	assert_string_equal(h_jstr(json_object_get(o, "dead_letter"), "reason"),
	    "unknown_lead");
	assert_string_equal(h_jstr(json_object_get(o, "dead_letter"), "source"),
	    "events");
	json_decref(o);
	assert_non_null(strstr(r.err, "unknown_lead"));
	run_free(&r);

	run_ctl(f, &r, NULL, "-c", f->conf, "rep", "zed", "away", "--wait", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "unknown_rep"));
	run_free(&r);
	h_fx_stop(f);
}

/* Without a daemon --wait gives up after its bound; the event is queued. */
static void
test_event_wait_without_daemon_times_out(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	long long t0 = h_now_ms();
	char *v;

	h_fx_conf(f, two_seg_body);
	run_ctl(f, &r, NULL, "-c", f->conf, "followup", "x1", "--rep", "ann",
	    "--wait", NULL);
	assert_int_equal(r.status, 1);
	assert_true(h_now_ms() - t0 >= 5000);
	assert_non_null(strstr(r.err, "not applied within 5 s"));
	run_free(&r);
	v = h_str(f->c, "LINDEX lr:events 0");
	assert_string_equal(v, "{\"type\":\"followed_up\",\"lead_id\":\"x1\",\"rep\":\"ann\"}");
	free(v);
}

/* rep away stops assignments; rep available drains the backlog. */
static void
test_rep_status(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	json_t *o;
	char *v;

	h_fx_start(f, 1, two_seg_body);
	run_ctl(f, &r, NULL, "-c", f->conf, "rep", "john", "away", "--wait",
	    "--json", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	assert_string_equal(h_jstr(json_object_get(o, "event"), "type"),
	    "rep_status");
	assert_string_equal(h_jstr(json_object_get(o, "event"), "rep"), "john");
	assert_string_equal(h_jstr(json_object_get(o, "event"), "status"), "away");
	assert_string_equal(h_jstr(o, "result"), "applied");
	assert_string_equal(h_jstr(json_object_get(o, "rep_record"), "status"),
	    "away");
	json_decref(o);
	run_free(&r);
	v = h_str(f->c, "HGET lr:rep:john status");
	assert_string_equal(v, "away");
	free(v);

	h_push_lead(f->c, HOT("w1", 500));
	assert_true(h_wait_field(f->c, "lr:lead:w1", "status", "backlog"));
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:mid"), 1);

	run_ctl(f, &r, NULL, "-c", f->conf, "rep", "john", "available", "--wait",
	    NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "applied: rep 'john' is available"));
	run_free(&r);
	assert_true(h_wait_field(f->c, "lr:lead:w1", "rep", "john"));
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:mid"), 0);
	h_fx_stop(f);
}

/* What the daemon would refuse as bad_event is a usage error: nothing sent. */
static void
test_event_usage_errors(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	static const char *const cases[][8] = {
		{"followup", "L1", NULL},
		{"reject", "L1", "--rep", "ann", NULL},
		{"close", "L1", "--rep", "ann", NULL},
		{"close", "L1", "--rep", "ann", "--outcome", "two words", NULL},
		{"close", "L1", "--rep", "ann", "--outcome", "", NULL},
		{"followup", "bad id!", "--rep", "ann", NULL},
		{"followup", "L1", "--rep", "bad rep", NULL},
		{"rep", "ann", "busy", NULL},
		{"rep", "ann", NULL},
		{"followup", "L1", "L2", "--rep", "ann", NULL},
		{"followup", "L1", "--rep", NULL},
		{"followup", "L1", "--rep", "ann", "--count", "3", NULL},
		{"followup", "L1", "--rep", "ann", "--wait=yes", NULL},
	};

	h_fx_conf(f, two_seg_body);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *c = cases[i];

		run_ctl(f, &r, NULL, "-c", f->conf, c[0], c[1], c[2], c[3], c[4],
		    c[5], c[6], NULL);
		if (r.status != 2)
			fail_msg("case %zu (%s %s): exit %d, stderr %s", i, c[0],
			    c[1], r.status, r.err);
		assert_non_null(strstr(r.err, "leadctl: "));
		assert_string_equal(r.out, "");
		run_free(&r);
	}
	assert_int_equal(h_int(f->c, "LLEN lr:events"), 0);
}

/* ---- status --------------------------------------------------------------- */

static const json_t *
find_by(const json_t *arr, const char *key, const char *value)
{
	const json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
		if (strcmp(h_jstr(e, key), value) == 0)
			return e;
	fail_msg("no element with %s '%s'", key, value);
	return NULL;
}

/* The figures of status --json are Redis's, after routing known leads. */
static void
test_status_matches_redis(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	const json_t *seg, *rep;
	json_t *o;
	long long next;

	h_fx_start(f, 1, two_seg_body);
	h_push_lead(f->c, HOT("s1", 500));
	h_push_lead(f->c, HOT("s2", 500));
	h_push_lead(f->c, HOT("s3", 500));	/* john is full: backlog */
	h_push_lead(f->c, HOT("s4", 5));
	h_push_lead(f->c, "{\"id\":\"s5\",\"email\":\"x@y.z\"}");	/* nurture */
	h_push_lead(f->c, "not json");	/* dead letter */
	assert_true(h_wait_field(f->c, "lr:lead:s3", "status", "backlog"));
	assert_true(h_wait_field(f->c, "lr:lead:s4", "rep", "ann"));
	assert_true(h_wait_llen(f->c, "lr:dead", 1));
	assert_true(h_wait_llen(f->c, "lr:nurture", 1));
	/* A closed lead frees a slot: s3 is assigned (3 in john's period). */
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"s1\",\"rep\":\"john\",\"outcome\":\"won\"}");
	assert_true(h_wait_field(f->c, "lr:lead:s3", "rep", "john"));
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"ann\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:rep:ann", "status", "away"));
	h_push_lead(f->c, HOT("s6", 700));	/* john full again: backlog */
	assert_true(h_wait_field(f->c, "lr:lead:s6", "status", "backlog"));
	assert_true(h_wait_llen_at_most(f->c, "lr:incoming", 0));
	assert_true(h_wait_llen_at_most(f->c, "lr:events", 0));
	/* A reload forecasts at once: john is full, ann away, no room. */
	h_daemon_signal(&f->d[0], SIGHUP);
	assert_true(h_wait_field(f->c, "lr:forecast", "mid|room", "0"));
	assert_true(h_wait_field(f->c, "lr:forecast", "small|room", "0"));

	run_ctl(f, &r, NULL, "-c", f->conf, "status", "--json", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	run_free(&r);
	seg = json_array_get(json_object_get(o, "segments"), 1);
	assert_int_equal(h_jint(json_object_get(seg, "forecast"), "room"), 0);
	assert_int_equal(h_jint(json_object_get(seg, "forecast"), "exhausted_in_s"), 0);
	assert_true(json_number_value(json_object_get(json_object_get(seg,
	    "forecast"), "mql_per_hour")) >= 0);
	assert_int_equal(h_jint(o, "capacity_period_s"), 3600);
	assert_int_equal(json_array_size(json_object_get(o, "segments")), 2);
	seg = json_array_get(json_object_get(o, "segments"), 0);
	assert_string_equal(h_jstr(seg, "name"), "small");
	assert_int_equal(h_jint(seg, "backlog"), 0);
	rep = find_by(json_object_get(seg, "reps"), "id", "ann");
	assert_string_equal(h_jstr(rep, "status"), "away");
	assert_int_equal(h_jint(rep, "open"), 1);
	assert_int_equal(h_jint(rep, "max_open"), 5);
	assert_int_equal(h_jint(rep, "period_assignments"), 1);
	assert_int_equal(h_jint(rep, "max_per_period"), 10);
	assert_int_equal(h_jint(rep, "last_assigned_ms"),
	    h_int(f->c, "HGET lr:rep:ann last_assigned_ms"));
	seg = json_array_get(json_object_get(o, "segments"), 1);
	assert_string_equal(h_jstr(seg, "name"), "mid");
	assert_int_equal(h_jint(seg, "backlog"), 1);
	assert_int_equal(json_array_size(json_object_get(seg, "reps")), 1);
	rep = find_by(json_object_get(seg, "reps"), "id", "john");
	assert_string_equal(h_jstr(rep, "status"), "available");
	assert_int_equal(h_jint(rep, "open"), 2);
	assert_int_equal(h_jint(rep, "open"), h_int(f->c, "SCARD lr:rep:john:open"));
	assert_int_equal(h_jint(rep, "max_open"), 2);
	assert_int_equal(h_jint(rep, "period_assignments"), 3);
	assert_int_equal(h_jint(rep, "max_per_period"), 3);
	assert_int_equal(h_jint(o, "incoming"), 0);
	assert_int_equal(h_jint(o, "events"), 0);
	assert_int_equal(h_jint(o, "dead_letters"), 1);
	assert_int_equal(h_jint(o, "nurture"), 1);
	assert_int_equal(h_jint(o, "sla_pending"), 3);	/* s2, s3, s4 */
	assert_int_equal(h_jint(o, "sla_pending"), h_int(f->c, "ZCARD lr:sla:due"));
	next = h_int(f->c, "HGET lr:lead:s2 follow_up_due_ms");
	assert_int_equal(h_jint(o, "sla_next_due_ms"), next);
	assert_true(h_jint(o, "sla_next_due_in_ms") > 250000);
	assert_true(h_jint(o, "sla_next_due_in_ms") <= 300000);
	assert_int_equal(strlen(h_jstr(o, "sla_next_due")), 24);
	assert_int_equal(h_jint(o, "instances"), 1);
	json_decref(o);

	run_ctl(f, &r, NULL, "-c", f->conf, "status", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "segment mid: backlog 1; room 0, "));
	assert_non_null(strstr(r.out, "full now"));
	assert_non_null(strstr(r.out, "segment small: backlog 0"));
	assert_non_null(strstr(r.out, "john"));
	assert_non_null(strstr(r.out, "2/2"));
	assert_non_null(strstr(r.out, "3/3"));
	assert_non_null(strstr(r.out, "away"));
	assert_non_null(strstr(r.out, "dead letters   1"));
	assert_non_null(strstr(r.out, "3 pending, next due "));
	assert_non_null(strstr(r.out, "(in 29"));
	assert_non_null(strstr(r.out, "instances      1 live"));
	run_free(&r);
	h_fx_stop(f);
}

/* ---- lead ----------------------------------------------------------------- */

static const json_t *
history_entry(const json_t *h, size_t i, const char *event)
{
	const json_t *e = json_array_get(h, i);

	assert_non_null(e);
	assert_string_equal(h_jstr(e, "event"), event);
	return e;
}

/* The record, the receipt and a history with the assignment and a breach. */
static void
test_lead_record_receipt_history(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	json_t *o, *rec, *rc, *h;
	const json_t *e, *rule;
	long long assigned, due;

	h_fx_start(f, 1, sla_body);
	h_push_lead(f->c, "{\"id\":\"h1\",\"email\":\"x@y.z\",\"title\":\"VP Sales\","
	    "\"activity\":{\"demo_request\":true}}");
	h_push_lead(f->c, "{\"id\":\"h2\",\"email\":\"x@y.z\",\"title\":\"VP\","
	    "\"activity\":{\"demo_request\":true}}");
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 2));
	assigned = h_int(f->c, "HGET lr:lead:h1 assigned_at_ms");
	due = h_int(f->c, "HGET lr:lead:h1 follow_up_due_ms");
	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"h1\",\"rep\":\"a\"}");
	assert_true(h_wait_field(f->c, "lr:lead:h1", "status", "followed_up"));

	run_ctl(f, &r, NULL, "-c", f->conf, "lead", "h1", "--json", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	run_free(&r);
	rec = json_object_get(o, "record");
	assert_string_equal(h_jstr(rec, "status"), "followed_up");
	assert_string_equal(h_jstr(rec, "rep"), "a");
	assert_string_equal(h_jstr(rec, "score"), "70");
	assert_string_equal(h_jstr(rec, "segment"), "all");
	assert_string_equal(h_jstr(rec, "sla_breached"), "1");
	assert_non_null(strstr(h_jstr(rec, "lead"), "\"VP Sales\""));
	rc = json_object_get(o, "receipt");
	assert_int_equal(h_jint(rc, "score"), 70);
	assert_int_equal(h_jint(rc, "mql_threshold"), 60);
	assert_int_equal(json_array_size(json_object_get(rc, "rules")), 2);
	rule = json_array_get(json_object_get(rc, "rules"), 0);
	assert_string_equal(h_jstr(rule, "field"), "title");
	assert_string_equal(h_jstr(rule, "op"), "contains_any");
	assert_int_equal(h_jint(rule, "points"), 20);
	rule = json_array_get(json_object_get(rc, "rules"), 1);
	assert_string_equal(h_jstr(rule, "field"), "activity.demo_request");
	assert_string_equal(h_jstr(rule, "op"), "is_true");
	assert_int_equal(h_jint(rule, "points"), 50);

	h = json_object_get(o, "history");
	assert_int_equal(json_array_size(h), 4);
	e = history_entry(h, 0, "received");
	assert_int_equal(h_jint(e, "at_ms"), h_int(f->c, "HGET lr:lead:h1 received_at_ms"));
	assert_int_equal(h_jint(e, "score"), 70);
	e = history_entry(h, 1, "assigned");
	assert_string_equal(h_jstr(e, "rep"), "a");
	assert_int_equal(h_jint(e, "at_ms"), assigned);
	assert_int_equal(h_jint(e, "follow_up_due_ms"), due);
	e = history_entry(h, 2, "sla_breach");
	assert_string_equal(h_jstr(e, "rep"), "a");
	assert_string_equal(h_jstr(e, "segment"), "all");
	assert_true(h_jint(e, "at_ms") >= due);
	assert_int_equal(h_jint(e, "follow_up_due_ms"), due);
	e = history_entry(h, 3, "followed_up");
	assert_int_equal(h_jint(e, "at_ms"), h_int(f->c, "HGET lr:lead:h1 followed_up_at_ms"));
	json_decref(o);

	run_ctl(f, &r, NULL, "-c", f->conf, "lead", "h1", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "lead h1\n"));
	assert_non_null(strstr(r.out, "followed_up"));
	assert_non_null(strstr(r.out, "score receipt: 70 (mql_threshold 60"));
	assert_non_null(strstr(r.out, "+20  title"));
	assert_non_null(strstr(r.out, "+50  activity.demo_request"));
	assert_non_null(strstr(r.out, "assigned to a (follow-up due "));
	assert_non_null(strstr(r.out, "sla_breach: rep a, due "));
	assert_non_null(strstr(r.out, "followed up by a"));
	/* The other lead's breach is not in this lead's history. */
	assert_null(strstr(r.out, "h2"));
	run_free(&r);

	run_ctl(f, &r, NULL, "-c", f->conf, "lead", "nope", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "leadctl: no lead 'nope'"));
	assert_string_equal(r.out, "");
	run_free(&r);
	h_fx_stop(f);
}

/* ---- alerts --------------------------------------------------------------- */

/* The last N alerts, oldest first; --json one alert per line. */
static void
test_alerts_count_and_json(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	json_t *a;
	redisReply *x;

	h_fx_start(f, 1, sla_body);
	h_push_lead(f->c, "{\"id\":\"a1\",\"email\":\"x@y.z\",\"title\":\"VP\",\"activity\":{\"demo_request\":true}}");
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 1));
	h_push_lead(f->c, "{\"id\":\"a2\",\"email\":\"x@y.z\",\"title\":\"VP\",\"activity\":{\"demo_request\":true}}");
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 2));
	h_push_lead(f->c, "{\"id\":\"a3\",\"email\":\"x@y.z\",\"title\":\"VP\",\"activity\":{\"demo_request\":true}}");
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 3));

	run_ctl(f, &r, NULL, "-c", f->conf, "alerts", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(count_lines(r.out), 3);
	assert_true(strstr(r.out, "lead a1 ") < strstr(r.out, "lead a2 "));
	assert_true(strstr(r.out, "lead a2 ") < strstr(r.out, "lead a3 "));
	assert_non_null(strstr(r.out, "sla_breach"));
	assert_non_null(strstr(r.out, "rep a  segment all  due "));
	run_free(&r);

	run_ctl(f, &r, NULL, "-c", f->conf, "alerts", "--count", "2", "--json",
	    NULL);
	assert_int_equal(r.status, 0);
	a = parse_lines(r.out);
	run_free(&r);
	assert_int_equal(json_array_size(a), 2);
	x = h_cmd(f->c, "XRANGE lr:alerts:log - +");
	assert_int_equal(x->elements, 3);
	for (size_t i = 0; i < 2; i++) {
		const json_t *e = json_array_get(a, i);
		json_t *want = parse(x->element[i + 1]->element[1]->element[1]->str);

		assert_string_equal(h_jstr(e, "stream_id"), x->element[i + 1]->element[0]->str);
		assert_string_equal(h_jstr(e, "type"), "sla_breach");
		assert_string_equal(h_jstr(e, "lead_id"), i == 0 ? "a2" : "a3");
		assert_string_equal(h_jstr(e, "rep"), "a");
		assert_string_equal(h_jstr(e, "segment"), "all");
		assert_int_equal(h_jint(e, "at_ms"), h_jint(want, "at_ms"));
		assert_int_equal(h_jint(e, "assigned_at_ms"), h_jint(want, "assigned_at_ms"));
		assert_int_equal(h_jint(e, "follow_up_due_ms"), h_jint(want, "follow_up_due_ms"));
		json_decref(want);
	}
	freeReplyObject(x);
	json_decref(a);

	run_ctl(f, &r, NULL, "-c", f->conf, "alerts", "--count=0", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	run_free(&r);
	h_fx_stop(f);
}

/* Is a client of this redis blocked in XREAD? */
static bool
xread_waiting(redisContext *c)
{
	char *list = h_str(c, "CLIENT LIST");
	bool found = list != NULL && strstr(list, "cmd=xread") != NULL;

	free(list);
	return found;
}

/* --follow shows an alert that fires after it started; SIGTERM ends it: 0. */
static void
test_alerts_follow(void **state)
{
	struct h_fx *f = *state;
	const char *argv[] = {"-c", f->conf, "--json", "alerts", "--follow",
	    "--count", "0", NULL};
	struct bg b;
	long long until;
	char *out, *err;
	json_t *a;

	h_fx_start(f, 1, sla_body);
	b.pid = ctl_spawn(f, NULL, argv, b.out, b.err, sizeof(b.out));
	until = h_now_ms() + H_WAIT_MS;
	while (!xread_waiting(f->c)) {
		if (h_now_ms() > until)
			fail_msg("leadctl alerts --follow never blocked in XREAD");
		h_sleep_ms(20);
	}
	h_push_lead(f->c, "{\"id\":\"f1\",\"email\":\"x@y.z\",\"title\":\"VP\",\"activity\":{\"demo_request\":true}}");
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 1));
	until = h_now_ms() + H_WAIT_MS;
	for (;;) {
		out = h_slurp(b.out);
		if (strchr(out, '\n') != NULL)
			break;
		free(out);
		if (h_now_ms() > until)
			fail_msg("leadctl alerts --follow showed nothing");
		h_sleep_ms(20);
	}
	free(out);
	kill(b.pid, SIGTERM);
	assert_int_equal(h_reap(b.pid, "leadctl"), 0);
	out = h_slurp(b.out);
	err = h_slurp(b.err);
	assert_clean(err);
	assert_string_equal(err, "");
	a = parse_lines(out);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(h_jstr(json_array_get(a, 0), "type"), "sla_breach");
	assert_string_equal(h_jstr(json_array_get(a, 0), "lead_id"), "f1");
	json_decref(a);
	free(out);
	free(err);
	h_fx_stop(f);
}

/* ---- check, usage, help, Redis down ---------------------------------------- */

static void
test_check(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	char bad[600];

	h_fx_conf(f, two_seg_body);
	run_ctl(f, &r, NULL, "-c", f->conf, "check", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "configuration OK\n");
	run_free(&r);

	h_write_conf(bad, sizeof(bad), f->dir, "bad.conf", f->redis.port,
	    "scoring = { mql_threshold = 10; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"a\"; segments = [\"nowhere\"]; max_open = 0; } );\n");
	run_ctl(f, &r, NULL, "check", "-c", bad, NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "bad.conf:"));
	assert_non_null(strstr(r.err, "'reps.[0].max_open'"));
	assert_non_null(strstr(r.err, "nowhere"));
	run_free(&r);

	/* Any other command refuses a bad configuration too. */
	run_ctl(f, &r, NULL, "-c", bad, "status", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "'reps.[0].max_open'"));
	run_free(&r);

	run_ctl(f, &r, NULL, "-c", "/nonexistent.conf", "check", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "/nonexistent.conf"));
	run_free(&r);
}

static void
test_usage_errors_and_help(void **state)
{
	struct h_fx *f = *state;
	static const char *const cmds[] = {"push", "followup", "reject",
		"close", "rep", "status", "lead", "alerts", "check"};
	static const char *const bad[][4] = {
		{NULL},
		{"bogus", NULL},
		{"--bogus", "status", NULL},
		{"-x", "status", NULL},
		{"status", "extra", NULL},
		{"status", "--rep", "a", NULL},
		{"lead", NULL},
		{"lead", "a", "b", NULL},
		{"alerts", "--count", "-1", NULL},
		{"alerts", "--count", "many", NULL},
		{"alerts", "--count", NULL},
		{"push", "a", "b", NULL},
		{"-c", NULL},
	};
	struct run r;
	char want[64];

	h_fx_conf(f, two_seg_body);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_ctl(f, &r, NULL, "-c", f->conf, bad[i][0], bad[i][1],
		    bad[i][2], NULL);
		if (r.status != 2)
			fail_msg("case %zu (%s): exit %d", i, bad[i][0] ?
			    bad[i][0] : "(none)", r.status);
		assert_non_null(strstr(r.err, "usage: leadctl"));
		assert_string_equal(r.out, "");
		run_free(&r);
	}

	run_ctl(f, &r, NULL, "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: leadctl [-c file] [--json] command"));
	assert_non_null(strstr(r.out, "exit status:"));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		assert_non_null(strstr(r.out, cmds[i]));
	assert_string_equal(r.err, "");
	run_free(&r);
	run_ctl(f, &r, NULL, "-h", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: leadctl"));
	run_free(&r);

	/* Help needs no configuration and wins over missing arguments. */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run_ctl(f, &r, NULL, "-c", "/nonexistent.conf", cmds[i], "--help",
		    NULL);
		assert_int_equal(r.status, 0);
		snprintf(want, sizeof(want), "usage: leadctl [-c file] [--json] %s",
		    cmds[i]);
		assert_non_null(strstr(r.out, want));
		assert_non_null(strstr(r.out, "exit status"));
		assert_string_equal(r.err, "");
		run_free(&r);
	}
}

/* Redis unreachable: a clear message and exit 1, for every command. */
static void
test_redis_unreachable(void **state)
{
	struct h_fx *f = *state;
	static const char *const cmds[][6] = {
		{"status", NULL},
		{"lead", "x", NULL},
		{"alerts", NULL},
		{"alerts", "--follow", NULL},
		{"push", NULL},
		{"followup", "x", "--rep", "ann", NULL},
		{"rep", "ann", "away", "--wait", NULL},
	};
	char conf[600], want[128];
	int port = h_free_port();
	struct run r;

	h_write_conf(conf, sizeof(conf), f->dir, "down.conf", port, two_seg_body);
	snprintf(want, sizeof(want),
	    "leadctl: cannot connect to redis '127.0.0.1:%d': Connection refused\n",
	    port);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		run_ctl(f, &r, HOT("u1", 1) "\n", "-c", conf, cmds[i][0],
		    cmds[i][1], cmds[i][2], cmds[i][3], cmds[i][4], NULL);
		assert_int_equal(r.status, 1);
		assert_string_equal(r.err, want);
		run_free(&r);
	}
}

/* Every key comes from redis.prefix; --json works before the command too. */
static void
test_prefix(void **state)
{
	struct h_fx *f = *state;
	char conf[600];
	struct run r;
	json_t *o;
	FILE *fp;

	snprintf(conf, sizeof(conf), "%s/prefix.conf", f->dir);
	assert_non_null(fp = fopen(conf, "w"));
	fprintf(fp, "redis = { host = \"127.0.0.1\"; port = %d; prefix = \"{t1}:\"; };\n"
	    "http = { listen = \"\"; };\n%s", f->redis.port, two_seg_body);
	fclose(fp);
	run_ctl(f, &r, HOT("x1", 1) "\n", "-c", conf, "push", NULL);
	assert_int_equal(r.status, 0);
	run_free(&r);
	assert_int_equal(h_int(f->c, "LLEN {t1}:incoming"), 1);
	assert_int_equal(h_int(f->c, "LLEN lr:incoming"), 0);
	run_ctl(f, &r, NULL, "-c", conf, "close", "x1", "--rep", "ann",
	    "--outcome", "won", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "sent to {t1}:events: "));
	run_free(&r);
	assert_int_equal(h_int(f->c, "LLEN {t1}:events"), 1);
	freeReplyObject(h_cmd(f->c, "ZADD {t1}:sla:due 5 x 7 y"));
	freeReplyObject(h_cmd(f->c, "SADD {t1}:rep:ann:open x"));
	run_ctl(f, &r, NULL, "--json", "-c", conf, "status", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	assert_int_equal(h_jint(o, "incoming"), 1);
	assert_int_equal(h_jint(o, "events"), 1);
	assert_int_equal(h_jint(o, "sla_pending"), 2);
	assert_int_equal(h_jint(o, "sla_next_due_ms"), 5);
	assert_string_equal(h_jstr(o, "sla_next_due"), "1970-01-01T00:00:00.005Z");
	assert_int_equal(h_jint(find_by(json_object_get(json_array_get(
	    json_object_get(o, "segments"), 0), "reps"), "id", "ann"), "open"), 1);
	assert_int_equal(h_jint(o, "instances"), 0);
	json_decref(o);
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", conf, "status", NULL);
	assert_non_null(strstr(r.out, "ago)"));
	run_free(&r);
}

/* plan: the worked figures of the example; --actual adds observed rates. */
static void
test_plan_and_actual(void **state)
{
	struct h_fx *f = *state;
	const char *body =
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"small\"; } );\n"
	    "default_segment = \"small\";\n"
	    "reps = ( { id = \"r1\"; segments = [\"small\"]; max_open = 100; max_per_period = 30; } );\n"
	    "plan = { conversion = { mql_to_sql = 0.3; sql_to_opportunity = 0.7;\n"
	    "  opportunity_to_proposal = 0.6; proposal_to_contract = 0.6; contract_to_deal = 0.9; };\n"
	    "  segments = ( { name = \"small\"; target = 150000; avg_deal = 10000; } ); };\n";
	struct run r;
	json_t *o, *seg, *act;
	char lead[96], ev[160];

	h_fx_start(f, 1, body);
	run_ctl(f, &r, NULL, "-c", f->conf, "plan", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "221 (220.5)"));
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "--json", "plan", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	seg = json_array_get(json_object_get(o, "segments"), 0);
	assert_string_equal(h_jstr(seg, "segment"), "small");
	assert_int_equal(h_jint(json_object_get(seg, "needed"), "deal"), 15);
	assert_int_equal(h_jint(json_object_get(seg, "needed"), "sql"), 67);
	assert_int_equal(h_jint(json_object_get(seg, "needed"), "mql"), 221);
	/* 221 MQLs over 13 weeks = 17 a week; one rep takes 30: enough. */
	assert_int_equal(h_jint(seg, "reps_needed"), 1);
	assert_true(json_is_true(json_object_get(seg, "enough_capacity")));
	json_decref(o);
	run_free(&r);

	/* 10 MQLs: 8 followed up, 2 won, 2 lost: SAL 80%, win 50%. */
	for (int i = 0; i < 10; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"p%d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_llen(f->c, "lr:rep:r1:inbox", 10));
	for (int i = 0; i < 8; i++) {
		snprintf(ev, sizeof(ev), "{\"type\":\"followed_up\",\"lead_id\":\"p%d\",\"rep\":\"r1\"}", i);
		h_event(f->c, ev);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(ev, sizeof(ev), "{\"type\":\"closed\",\"lead_id\":\"p%d\",\"rep\":\"r1\",\"outcome\":\"%s\"}",
		    i, i < 2 ? "won" : "lost");
		h_event(f->c, ev);
	}
	assert_true(h_wait_field(f->c, "lr:lead:p3", "status", "closed"));
	run_ctl(f, &r, NULL, "-c", f->conf, "--json", "plan",
	    "--actual", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	act = json_object_get(json_array_get(json_object_get(o, "segments"), 0),
	    "actual");
	assert_int_equal(h_jint(act, "mqls"), 10);
	assert_int_equal(h_jint(act, "followed_up"), 8);
	assert_int_equal(h_jint(act, "won"), 2);
	assert_int_equal(h_jint(act, "lost"), 2);
	assert_true(fabs(json_real_value(json_object_get(act, "mql_to_sal")) - 0.8) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(act, "sal_to_deal")) - 0.5) < 1e-9);
	/* 15 deals at 0.8 x 0.5 = 37.5 -> 38 MQLs. */
	assert_int_equal(h_jint(act, "mqls_needed"), 38);
	json_decref(o);
	run_free(&r);
	/* No plan section: a clear error. */
	h_fx_conf(f, two_seg_body);
	run_ctl(f, &r, NULL, "-c", f->conf, "plan", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "has no plan section"));
	run_free(&r);
	h_fx_stop(f);
}

/* sources: per-source counts and rates from what the daemon recorded. */
static void
test_sources(void **state)
{
	struct h_fx *f = *state;
	const char *body =
	    "scoring = { mql_threshold = 10; rules = (\n"
	    "  { field = \"hot\"; op = \"is_true\"; points = 10; } ); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 100; } );\n";
	struct run r;
	json_t *o, *list, *w;
	char lead[160], ev[160];

	h_fx_start(f, 1, body);
	/* Webinar: 4 leads, 3 MQLs; Ads: 2 leads, no MQL. */
	for (int i = 0; i < 6; i++) {
		snprintf(lead, sizeof(lead),
		    "{\"id\":\"q%d\",\"email\":\"a@b.c\",\"source\":\"%s\",\"hot\":%s}",
		    i, i < 4 ? "Webinar" : "ads", i < 3 ? "true" : "false");
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_llen(f->c, "lr:rep:r1:inbox", 3));
	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"q0\",\"rep\":\"r1\"}");
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"q0\",\"rep\":\"r1\",\"outcome\":\"won\"}");
	snprintf(ev, sizeof(ev), "{\"type\":\"rejected\",\"lead_id\":\"q1\",\"rep\":\"r1\",\"reason\":\"spam\"}");
	h_event(f->c, ev);
	assert_true(h_wait_field(f->c, "lr:lead:q1", "status", "rejected"));
	assert_true(h_wait_field(f->c, "lr:lead:q0", "status", "closed"));
	run_ctl(f, &r, NULL, "-c", f->conf, "--json", "sources", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	list = json_object_get(o, "sources");
	assert_int_equal(json_array_size(list), 2);
	w = json_array_get(list, 0);	/* by volume: webinar first */
	assert_string_equal(h_jstr(w, "source"), "webinar");	/* normalised */
	assert_int_equal(h_jint(w, "received"), 4);
	assert_int_equal(h_jint(w, "mqls"), 3);
	assert_int_equal(h_jint(w, "assigned"), 3);
	assert_int_equal(h_jint(w, "followed_up"), 1);
	assert_int_equal(h_jint(w, "followed_up_in_sla"), 1);
	assert_int_equal(h_jint(w, "rejected"), 1);
	assert_int_equal(h_jint(w, "won"), 1);
	assert_true(fabs(json_real_value(json_object_get(w, "mql_rate")) - 0.75) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(w, "win_rate")) - 1.0) < 1e-9);
	assert_string_equal(h_jstr(json_array_get(list, 1), "source"), "ads");
	assert_int_equal(h_jint(json_array_get(list, 1), "mqls"), 0);
	json_decref(o);
	run_free(&r);
	/* --since 1: today only, the same figures; a bad --since is usage. */
	run_ctl(f, &r, NULL, "-c", f->conf, "sources", "--since", "1", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "last 1 days"));
	assert_non_null(strstr(r.out, "webinar"));
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "sources", "--since", "0", NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	h_fx_stop(f);
}

/*
 * calibrate: outcomes by score, and the threshold they argue for.
 * Scores (the lead's "pts") and what the rep did:
 *   10: 3 rejected (no budget x2, student), 1 followed up
 *   20: 1 rejected ("No  Budget "), 3 followed up (1 won, 1 lost later)
 *   30: 4 closed won without a follow-up
 *   40: 1 followed up, then rejected (timing)
 *   50: 1 closed as disqualified
 * At threshold 10: 8 accepted, 6 rejected (42.9%). From 20 up: 7 and 3,
 * exactly 30%, the lowest threshold at or under a 30% limit.
 */
static void
test_calibrate(void **state)
{
	struct h_fx *f = *state;
	const char *body =
	    "scoring = { mql_threshold = 10; rules = (\n"
	    "  { field = \"pts\"; op = \"per\"; points = 1; max = 100; } ); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 100; } );\n"
	    "calibrate = { max_reject_rate = 0.1; min_outcomes = 4; };\n";
	static const struct {
		int pts;
		const char *events[2];	/* in order; %s is the lead id */
	} leads[] = {
		{10, {"rejected\",\"reason\":\"no budget", NULL}},
		{10, {"rejected\",\"reason\":\"No budget", NULL}},
		{10, {"rejected\",\"reason\":\"student", NULL}},
		{10, {"followed_up", NULL}},
		{20, {"rejected\",\"reason\":\"No  Budget ", NULL}},
		{20, {"followed_up", "closed\",\"outcome\":\"won"}},
		{20, {"followed_up", "closed\",\"outcome\":\"lost"}},
		{20, {"followed_up", NULL}},
		{30, {"closed\",\"outcome\":\"won", NULL}},
		{30, {"closed\",\"outcome\":\"won", NULL}},
		{30, {"closed\",\"outcome\":\"won", NULL}},
		{30, {"closed\",\"outcome\":\"won", NULL}},
		{40, {"followed_up", "rejected\",\"reason\":\"timing"}},
		{50, {"closed\",\"outcome\":\"disqualified", NULL}},
	};
	const size_t n = sizeof(leads) / sizeof(leads[0]);
	struct run r;
	json_t *o, *all, *at, *reasons;
	char buf[256];

	h_fx_start(f, 1, body);
	/* Nothing decided yet: no data, and it says so. */
	run_ctl(f, &r, NULL, "-c", f->conf, "calibrate", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "not enough outcomes yet"));
	run_free(&r);

	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf),
		    "{\"id\":\"k%zu\",\"email\":\"a@b.c\",\"pts\":%d}", i,
		    leads[i].pts);
		h_push_lead(f->c, buf);
	}
	assert_true(h_wait_llen(f->c, "lr:rep:r1:inbox", (long long)n));
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2 && leads[i].events[k] != NULL; k++) {
			snprintf(buf, sizeof(buf),
			    "{\"type\":\"%s\",\"lead_id\":\"k%zu\",\"rep\":\"r1\"}",
			    leads[i].events[k], i);
			h_event(f->c, buf);
		}
	/* Events apply in push order: the last one's effect means all. */
	assert_true(h_wait_field(f->c, "lr:lead:k13", "status", "closed"));

	run_ctl(f, &r, NULL, "-c", f->conf, "--json", "calibrate",
	    "--max-reject-rate", "0.3", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	assert_int_equal(h_jint(o, "threshold"), 10);
	assert_int_equal(h_jint(o, "min_outcomes"), 4);	/* from the config */
	all = json_object_get(o, "all");
	assert_int_equal(h_jint(all, "accepted"), 8);
	assert_int_equal(h_jint(all, "rejected"), 6);
	assert_true(fabs(json_real_value(json_object_get(all, "precision")) -
	    8.0 / 14) < 1e-9);
	assert_int_equal(h_jint(all, "won"), 5);
	assert_int_equal(h_jint(all, "lost"), 1);
	assert_string_equal(h_jstr(all, "verdict"), "raise");
	assert_int_equal(h_jint(all, "suggested_threshold"), 20);
	at = json_object_get(all, "at_suggested");
	assert_int_equal(h_jint(at, "accepted"), 7);
	assert_int_equal(h_jint(at, "rejected"), 3);
	/* Reasons folded to one spelling, most frequent first. */
	reasons = json_object_get(json_array_get(json_object_get(o,
	    "segments"), 0), "top_reasons");
	assert_string_equal(h_jstr(json_array_get(reasons, 0), "reason"),
	    "no budget");
	assert_int_equal(h_jint(json_array_get(reasons, 0), "count"), 3);
	assert_string_equal(h_jstr(json_array_get(reasons, 1), "reason"),
	    "student");
	assert_string_equal(h_jstr(json_array_get(reasons, 2), "reason"),
	    "timing");
	json_decref(o);
	run_free(&r);

	/* The table says the same and changes nothing. */
	run_ctl(f, &r, NULL, "-c", f->conf, "calibrate", "--max-reject-rate",
	    "0.3", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out,
	    "raise scoring.mql_threshold from 10 to 20"));
	assert_non_null(strstr(r.out, "\"no budget\" 3"));
	run_free(&r);
	/* The config's 10% limit: no threshold gets there. */
	run_ctl(f, &r, NULL, "-c", f->conf, "calibrate", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "no threshold with at least 4"));
	run_free(&r);
	/* More decided MQLs than there are: no data. */
	run_ctl(f, &r, NULL, "-c", f->conf, "--json", "calibrate",
	    "--min-outcomes", "15", "--since", "1", NULL);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	assert_string_equal(h_jstr(json_object_get(o, "all"), "verdict"),
	    "no_data");
	assert_int_equal(h_jint(json_object_get(o, "all"), "accepted"), 8);
	json_decref(o);
	run_free(&r);
	/* Usage errors exit 2. */
	run_ctl(f, &r, NULL, "-c", f->conf, "calibrate", "--max-reject-rate",
	    "1.5", NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "calibrate", "--min-outcomes",
	    "0", NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	h_fx_stop(f);
}

/* ---- calendar ------------------------------------------------------------ */

/* Berlin office hours, Monday to Friday, for rep and SLA. */
static const char *cal_body =
    "scoring = { mql_threshold = 10; rules = (); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = ( { id = \"ann\"; segments = [\"all\"]; calendar = \"emea\"; } );\n"
    "sla = { calendar = \"emea\"; };\n"
    "calendars = ( { name = \"emea\"; timezone = \"Europe/Berlin\";\n"
    "  hours = { mon = [\"09:00-17:30\"]; tue = [\"09:00-17:30\"];\n"
    "    wed = [\"09:00-17:30\"]; thu = [\"09:00-17:30\"]; fri = [\"09:00-17:30\"]; };\n"
    "  holidays = [\"2027-12-24\"]; } );\n";

/*
 * The worked example, in text and JSON; now from Redis TIME, or the local
 * clock when Redis is down; a bad TIME and an unknown calendar. The daemon
 * runs on the same configuration: it loads calendars.
 */
static void
test_calendar(void **state)
{
	struct h_fx *f = *state;
	char conf[600];
	long long before, after, at;
	struct run r;
	json_t *o;

	h_fx_start(f, 1, cal_body);
	/* Fri 2027-03-26 17:28 CET + 5 min: 2 min Friday, 3 Monday (CEST) */
	run_ctl(f, &r, NULL, "-c", f->conf, "calendar", "emea", "--at",
	    "2027-03-26T17:28:00+01:00", "--add", "300", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out,
	    "calendar emea (Europe/Berlin)\n"
	    "at       2027-03-26T16:28:00.000Z = Fri 2027-03-26 17:28:00 CET (given)\n"
	    "open     yes\n"
	    "closes   2027-03-26T16:30:00.000Z = Fri 2027-03-26 17:30:00 CET (in 120s)\n"
	    "due      2027-03-29T07:03:00.000Z = Mon 2027-03-29 09:03:00 CEST "
	    "(300 s of open time from at; in 225300s)\n");
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "--json", "calendar", "emea",
	    "--at", "1806078480000", "--add", "300", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out,
	    "{\"calendar\":\"emea\",\"at_ms\":1806078480000,\"open\":true,"
	    "\"next_change_ms\":1806078600000,\"due_ms\":1806303780000}\n");
	run_free(&r);
	/* Closed on Saturday: opens Monday; no --add, no due_ms */
	run_ctl(f, &r, NULL, "-c", f->conf, "--json", "calendar", "emea",
	    "--at", "2027-03-27T10:00:00Z", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out,
	    "{\"calendar\":\"emea\",\"at_ms\":1806141600000,\"open\":false,"
	    "\"next_change_ms\":1806303600000}\n");
	run_free(&r);
	/* Now: Redis's clock */
	before = h_redis_time_ms(f->c);
	run_ctl(f, &r, NULL, "-c", f->conf, "--json", "calendar", "emea", NULL);
	after = h_redis_time_ms(f->c);
	assert_int_equal(r.status, 0);
	o = parse(r.out);
	at = h_jint(o, "at_ms");
	assert_true(at >= before && at <= after);
	json_decref(o);
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "calendar", "emea", NULL);
	assert_non_null(strstr(r.out, "(now, from redis TIME)"));
	run_free(&r);
	/* Redis down: the local clock, and the output says so */
	h_write_conf(conf, sizeof(conf), f->dir, "down.conf", h_free_port(),
	    cal_body);
	run_ctl(f, &r, NULL, "-c", conf, "calendar", "emea", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out,
	    "(now, from the local clock: redis did not answer)"));
	run_free(&r);
	/* A bad TIME or SECONDS is a usage error; an unknown calendar an error */
	run_ctl(f, &r, NULL, "-c", f->conf, "calendar", "emea", "--at",
	    "2027-03-26 17:28", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "leadctl: --at wants an RFC 3339 time "
	    "(2027-03-26T16:58:00Z) or epoch ms, not '2027-03-26 17:28'\n"));
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "calendar", "emea", "--add", "-5",
	    NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "calendar", "apac", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "leadctl: no calendar 'apac' in configuration"));
	run_free(&r);
	h_fx_stop(f);
}

/* ---- inbox --------------------------------------------------------------- */

/* One rep "a", SLA follow_up seconds (no warnings). */
static char *
inbox_body(int follow_up)
{
	char *b = malloc(1024);

	assert_non_null(b);
	snprintf(b, 1024,
	    "scoring = { mql_threshold = 60; rules = (\n"
	    "  { field = \"activity.demo_request\"; op = \"is_true\"; points = 70; } ); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"a\"; segments = [\"all\"]; max_open = 100; },\n"
	    "  { id = \"b\"; segments = [\"all\"]; max_open = 100; } );\n"
	    "sla = { follow_up = %d; warn_before = 0; };\n", follow_up);
	return b;
}

#define DEMO(id) "{\"id\":\"" id "\",\"email\":\"x@y.z\",\"activity\":{\"demo_request\":true}}"

/* Push a demo request and wait until it is assigned to rep. */
static void
inbox_push(struct h_fx *f, const char *json, const char *id, const char *rep)
{
	char key[64];

	h_push_lead(f->c, json);
	snprintf(key, sizeof(key), "lr:lead:%s", id);
	assert_true(h_wait_field(f->c, key, "status", "assigned"));
	assert_true(h_wait_field(f->c, key, "rep", rep));
}

/* A rep's open leads: overdue first, then due later, then followed up. */
static void
test_inbox(void **state)
{
	struct h_fx *f = *state;
	struct run r;
	json_t *a, *l;
	char *body = inbox_body(1);
	long long left;

	h_fx_start(f, 1, body);
	free(body);
	/* b is away: a takes every lead. */
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"b\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:rep:b", "status", "away"));
	inbox_push(f, DEMO("in-old"), "in-old", "a");
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 1));	/* breached */
	body = inbox_body(600);
	h_fx_conf(f, body);
	free(body);
	h_daemon_signal(&f->d[0], SIGHUP);
	for (long long until = h_now_ms() + H_WAIT_MS; h_now_ms() < until &&
	    !h_log_contains(&f->d[0], "loaded (version");)
		h_sleep_ms(20);
	inbox_push(f, DEMO("in-new"), "in-new", "a");
	inbox_push(f, DEMO("in-done"), "in-done", "a");
	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"in-done\",\"rep\":\"a\"}");
	assert_true(h_wait_field(f->c, "lr:lead:in-done", "status",
	    "followed_up"));

	run_ctl(f, &r, NULL, "-c", f->conf, "inbox", "a", "--json", NULL);
	assert_int_equal(r.status, 0);
	a = parse(r.out);
	assert_int_equal(json_array_size(a), 3);
	l = json_array_get(a, 0);
	assert_string_equal(h_jstr(l, "lead_id"), "in-old");
	assert_string_equal(h_jstr(l, "status"), "assigned");
	assert_int_equal(h_jint(l, "score"), 70);
	assert_string_equal(h_jstr(l, "segment"), "all");
	assert_int_equal(h_jint(l, "follow_up_due_ms") -
	    h_jint(l, "assigned_at_ms"), 1000);
	assert_true(h_jint(l, "left_ms") < 0);
	l = json_array_get(a, 1);
	assert_string_equal(h_jstr(l, "lead_id"), "in-new");
	left = h_jint(l, "left_ms");
	assert_true(left > 500 * 1000 && left <= 600 * 1000);
	l = json_array_get(a, 2);
	assert_string_equal(h_jstr(l, "lead_id"), "in-done");
	assert_string_equal(h_jstr(l, "status"), "followed_up");
	assert_true(json_is_null(json_object_get(l, "left_ms")));
	json_decref(a);
	run_free(&r);

	run_ctl(f, &r, NULL, "-c", f->conf, "inbox", "a", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "inbox of a: 3 open leads"));
	assert_true(strstr(r.out, "in-old") < strstr(r.out, "in-new"));
	assert_true(strstr(r.out, "in-new") < strstr(r.out, "in-done"));
	assert_non_null(strstr(r.out, "overdue by "));
	assert_non_null(strstr(r.out, "due in 9m"));
	assert_non_null(strstr(r.out, "followed up"));
	run_free(&r);

	run_ctl(f, &r, NULL, "-c", f->conf, "inbox", "b", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "inbox of b: 0 open leads"));
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "inbox", "b", "--json", NULL);
	assert_string_equal(r.out, "[]\n");
	run_free(&r);

	run_ctl(f, &r, NULL, "-c", f->conf, "inbox", "zed", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "unknown rep 'zed'"));
	assert_string_equal(r.out, "");
	run_free(&r);
	run_ctl(f, &r, NULL, "-c", f->conf, "inbox", NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_push_reports_bad_lines_and_routes_good_ones),
		H_TEST(test_push_order_and_json),
		H_TEST(test_followup_reject_close),
		H_TEST(test_event_refused_shows_dead_letter),
		H_TEST(test_event_wait_without_daemon_times_out),
		H_TEST(test_rep_status),
		H_TEST(test_event_usage_errors),
		H_TEST(test_status_matches_redis),
		H_TEST(test_lead_record_receipt_history),
		H_TEST(test_alerts_count_and_json),
		H_TEST(test_alerts_follow),
		H_TEST(test_check),
		H_TEST(test_usage_errors_and_help),
		H_TEST(test_redis_unreachable),
		H_TEST(test_prefix),
		H_TEST(test_plan_and_actual),
		H_TEST(test_sources),
		H_TEST(test_calibrate),
		H_TEST(test_calendar),
		H_TEST(test_inbox),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
