/* itest_faults.c - fault injection against the real daemon and redis-server; every scenario ends with the invariant checker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checker.h"
#include "harness.h"

#define MAX_LOGS 512
#define MAX_LEAD_NO 1000000

#define RESULTS "build/test/reliability-results.txt"
#define SOAK_RESULTS "build/test/reliability-soak-results.txt"

/*
 * Every scenario is seeded from one base seed, printed at the start:
 * LR_SEED=N replays the same schedule of kills, pauses and follow-ups.
 * LR_SOAK=1 runs the longer variants (make soak).
 */
static unsigned long long base_seed;
static bool soak;
/* The hostile scenario's one huge payload. */
#define HUGE_PAYLOAD (soak ? 100u << 20 : 32u << 20)

struct fx {
	struct h_fx h;		/* dir, redis, daemon slots, f->h.c */
	int nd;			/* slots used so far */
	int starts;
	char *logs[MAX_LOGS];
	int nlogs;
	unsigned long long rng;
	unsigned long long seed;
	long long t0;
	/* what the scenario pushed, for the checker */
	struct chk_item *items;
	size_t nitems, capitems;
	/* the reps whose open leads the closer closes */
	const char *const *reps;
	size_t nreps;
	unsigned char *closed;	/* by lead number: close already sent */
};

/* --- randomness, results ------------------------------------------------------ */

static unsigned long long
rnd(struct fx *f)
{
	/* xorshift64*: small, seeded, the same everywhere */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ULL;
}

static long
rnd_between(struct fx *f, long lo, long hi)
{
	return lo + (long)(rnd(f) % (unsigned long long)(hi - lo + 1));
}

static const char *
results_path(void)
{
	const char *p = getenv("LR_RESULTS");

	if (p != NULL && *p != '\0')
		return p;
	return soak ? SOAK_RESULTS : RESULTS;
}

/* One tab-separated line per scenario, rendered into a table at the end. */
static void
record(const struct fx *f, const char *name, const char *injected,
    const struct chk_result *r)
{
	FILE *out = fopen(results_path(), "a");
	double secs = (double)(h_now_ms() - f->t0) / 1000.0;

	if (out == NULL)
		return;
	fprintf(out, "%s\t%s\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%.1f\t%llu\t%s\n",
	    name, injected, r->pushed, r->lost, r->duplicated,
	    r->capacity_violations, r->alerts_missed, r->alerts_doubled,
	    r->stale_inflight, secs, base_seed,
	    chk_clean(r) ? "pass" : "FAIL");
	fclose(out);
}

/* Replace the injected column of the last results line (known only after the check). */
static void
amend_injected(const char *injected)
{
	char *buf = NULL, *last, *tab;
	size_t len = 0, cap = 0, got;
	FILE *io = fopen(results_path(), "r");

	if (io == NULL)
		return;
	do {
		if (len + 4096 > cap && (buf = realloc(buf, cap += 65536)) == NULL)
			abort();
		got = fread(buf + len, 1, 4096, io);
		len += got;
	} while (got > 0);
	fclose(io);
	buf[len] = '\0';
	if (len == 0 || (io = fopen(results_path(), "w")) == NULL) {
		free(buf);
		return;
	}
	buf[len - 1] = '\0';
	last = strrchr(buf, '\n');
	last = last != NULL ? last + 1 : buf;
	tab = strchr(last, '\t');
	if (tab != NULL && (tab = strchr(tab + 1, '\t')) != NULL) {
		fwrite(buf, 1, (size_t)(strchr(last, '\t') - buf) + 1, io);
		fprintf(io, "%s%s\n", injected, tab);
	} else {
		fprintf(io, "%s\n", buf);
	}
	fclose(io);
	free(buf);
}

/* --- fixture ------------------------------------------------------------------- */

static unsigned long long
name_hash(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int
setup_with(void **state, const char *const *redis_args)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	h_fx_open(&f->h, true, redis_args);
	f->closed = calloc(MAX_LEAD_NO, 1);
	f->t0 = h_now_ms();
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	static const char *const args[] = {"--enable-debug-command", "local",
	    NULL};

	return setup_with(state, args);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	h_fx_close(&f->h);
	for (int i = 0; i < f->nlogs; i++)
		free(f->logs[i]);
	for (size_t i = 0; i < f->nitems; i++) {
		free((char *)(uintptr_t)f->items[i].id);
		free((char *)(uintptr_t)f->items[i].raw);
	}
	free(f->items);
	free(f->closed);
	free(f);
	return 0;
}

/* A scenario between setup and teardown. */
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Seed the scenario and say so: the line to rerun it is in the output. */
static void
begin(struct fx *f, const char *name)
{
	f->seed = base_seed ^ name_hash(name);
	f->rng = f->seed ? f->seed : 1;
	f->t0 = h_now_ms();
	fprintf(stderr, "--- %s: seed %llu (LR_SEED=%llu reproduces the run), in %s\n",
	    name, f->seed, base_seed, f->h.dir);
}

/* Start daemon slot i (again), with a log of its own. */
static void
start_one(struct fx *f, int i)
{
	char name[32];

	snprintf(name, sizeof(name), "d%d-%d", i, f->starts++);
	h_daemon_start(&f->h.d[i], f->h.conf, f->h.dir, name);
	assert_true(f->nlogs < MAX_LOGS);
	f->logs[f->nlogs++] = strdup(f->h.d[i].log);
	if (f->nd <= i)
		f->nd = i + 1;
}

/* Wait until daemon slot i has registered (routes leads). */
static void
wait_registered(struct fx *f, int i)
{
	assert_true(h_wait_log(&f->h.d[i], "registered;"));
}

static void
start_n(struct fx *f, int n, const char *body)
{
	h_fx_conf(&f->h, body);
	for (int i = 0; i < n; i++)
		start_one(f, i);
	assert_true(h_wait_ready(f->h.c, n));
}

static void
kill9(struct fx *f, int i)
{
	assert_int_equal(h_daemon_stop(&f->h.d[i], SIGKILL), 128 + SIGKILL);
}

/* The last lines of a log, to stderr (when a daemon did not exit 0). */
static void
show_log_tail(const char *path, int lines)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "tail -n %d '%s' >&2", lines, path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot show %s\n", path);
}

/* SIGTERM daemon i: a graceful stop exits 0. */
static void
stop_clean(struct fx *f, int i)
{
	char log[512];
	int rc;

	snprintf(log, sizeof(log), "%s", f->h.d[i].log);
	rc = h_daemon_stop(&f->h.d[i], SIGTERM);
	if (rc != 0) {
		fprintf(stderr, "%s exited %d on SIGTERM; its log ends:\n", log, rc);
		show_log_tail(log, 60);
	}
	assert_int_equal(rc, 0);
}

/* SIGTERM every live daemon: exit 0; then no log shows a sanitizer report. */
static void
stop_all(struct fx *f)
{
	struct h_daemon tmp;

	for (int i = 0; i < f->nd; i++)
		if (f->h.d[i].pid > 0)
			stop_clean(f, i);
	for (int i = 0; i < f->nlogs; i++) {
		memset(&tmp, 0, sizeof(tmp));
		snprintf(tmp.log, sizeof(tmp.log), "%s", f->logs[i]);
		h_assert_log_clean(&tmp);
	}
}

static int
logs_count(const struct fx *f, const char *s)
{
	struct h_daemon tmp;
	int n = 0;

	for (int i = 0; i < f->nlogs; i++) {
		memset(&tmp, 0, sizeof(tmp));
		snprintf(tmp.log, sizeof(tmp.log), "%s", f->logs[i]);
		n += h_log_count(&tmp, s);
	}
	return n;
}

/* --- what is pushed ------------------------------------------------------------ */

static void
add_item(struct fx *f, const char *id, const char *raw, size_t len,
    const char *expect, enum chk_followup fu)
{
	struct chk_item *it;
	char *copy = NULL;

	if (f->nitems == f->capitems) {
		f->capitems = f->capitems ? f->capitems * 2 : 4096;
		f->items = realloc(f->items, f->capitems * sizeof(*f->items));
		assert_non_null(f->items);
	}
	if (raw != NULL) {
		assert_non_null(copy = malloc(len ? len : 1));
		memcpy(copy, raw, len);
	}
	it = &f->items[f->nitems++];
	it->id = id != NULL ? strdup(id) : NULL;
	it->raw = copy;
	it->raw_len = len;
	it->expect = expect;
	it->followup = fu;
}

/* Lead i of a stream: 1% without email, a third below the threshold, the
 * rest MQLs of two segments. */
static int
make_lead(char *buf, size_t len, char tag, int i, const char **expect)
{
	*expect = NULL;
	if (i % 100 == 0) {
		*expect = "missing_email";
		return snprintf(buf, len, "{\"id\":\"%c%06d\"}", tag, i);
	}
	if (i % 3 == 0)
		return snprintf(buf, len,
		    "{\"id\":\"%c%06d\",\"email\":\"x%d@corp.com\",\"employees\":%d}",
		    tag, i, i, i % 200);
	return snprintf(buf, len,
	    "{\"id\":\"%c%06d\",\"email\":\"x%d@corp.com\",\"title\":\"VP\","
	    "\"employees\":%d,\"activity\":{\"demo_request\":true}}", tag, i,
	    i, i % 200);
}

/* Push leads from..from+n-1 in one pipeline. */
static void
push_leads(struct fx *f, char tag, int from, int n)
{
	char buf[256], id[16];
	const char *expect;
	redisReply *r;
	int len;

	for (int i = from; i < from + n; i++) {
		len = make_lead(buf, sizeof(buf), tag, i, &expect);
		redisAppendCommand(f->h.c, "LPUSH lr:incoming %b", buf,
		    (size_t)len);
		snprintf(id, sizeof(id), "%c%06d", tag, i);
		add_item(f, id, NULL, 0, expect, CHK_FU_NONE);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(redisGetReply(f->h.c, (void **)&r), REDIS_OK);
		assert_int_equal(r->type, REDIS_REPLY_INTEGER);
		freeReplyObject(r);
	}
}

/*
 * The reps act: close about `percent` of the open leads they hold (each
 * once), so that capacity frees and the backlog moves during the faults.
 */
static void
close_some(struct fx *f, int percent)
{
	char key[96], ev[256];
	redisReply *r;
	long no;

	for (size_t k = 0; k < f->nreps; k++) {
		snprintf(key, sizeof(key), "lr:rep:%s:open", f->reps[k]);
		r = h_cmd(f->h.c, "SMEMBERS %s", key);
		for (size_t i = 0; i < r->elements; i++) {
			no = strtol(r->element[i]->str + 1, NULL, 10);
			if (no < 0 || no >= MAX_LEAD_NO || f->closed[no] ||
			    rnd_between(f, 1, 100) > percent)
				continue;
			f->closed[no] = 1;
			snprintf(ev, sizeof(ev),
			    "{\"type\":\"closed\",\"lead_id\":\"%s\",\"rep\":\"%s\",\"outcome\":\"won\"}",
			    r->element[i]->str, f->reps[k]);
			h_event(f->h.c, ev);
		}
		freeReplyObject(r);
	}
}

static bool
timers_idle(struct fx *f)
{
	return h_int(f->h.c, "ZCARD lr:sla:due") == 0 &&
	    h_queues_empty(f->h.c, "lr:");
}

/*
 * Wait until every SLA timer fired and nothing is in flight, twice in a
 * row a little more than the checker's grace apart (a commit in the air
 * may still free capacity and assign a waiting lead, with a new timer).
 */
static void
wait_timers(struct fx *f)
{
	long long until = h_now_ms() + 60000;

	while (h_now_ms() < until) {
		while (!timers_idle(f) && h_now_ms() < until)
			h_sleep_ms(50);
		h_sleep_ms(1100);
		if (timers_idle(f))
			return;
	}
}

/* Run the checker, print it, record the line, and assert all zero. */
static struct chk_result
check_with(struct fx *f, const char *name, const char *injected,
    const struct chk_rep *reps, size_t nreps, long long race_slack_ms)
{
	struct chk_spec spec = {0};
	struct chk_result res;

	spec.items = f->items;
	spec.nitems = f->nitems;
	spec.reps = reps;
	spec.nreps = nreps;
	spec.settle_ms = 45000;
	spec.race_slack_ms = race_slack_ms;
	assert_int_equal(chk_run(f->h.c, &spec, &res), 0);
	chk_print(stderr, name, &res);
	record(f, name, injected, &res);
	h_assert_clean(&res, (long)f->nitems);
	assert_int_equal(res.pending_alerts, 0);
	return res;
}

/* --- the stream model ------------------------------------------------------------ */

/* The stream model; its second segment named big. */
#define STREAM_BODY_NAMED(big, sla) \
	"scoring = {\n" \
	"  mql_threshold = 50;\n" \
	"  rules = (\n" \
	"    { field = \"title\"; op = \"contains_any\"; values = [\"vp\"]; points = 20; },\n" \
	"    { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; }\n" \
	"  );\n" \
	"};\n" \
	"segments = (\n" \
	"  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n" \
	"  { name = \"" big "\"; field = \"employees\"; op = \"gte\"; value = 100; }\n" \
	");\n" \
	"default_segment = \"small\";\n" \
	"reps = (\n" \
	"  { id = \"a1\"; segments = [\"small\"]; max_open = 40; },\n" \
	"  { id = \"a2\"; segments = [\"small\"]; max_open = 60; max_per_period = 150; },\n" \
	"  { id = \"b1\"; segments = [\"" big "\"]; max_open = 50; }\n" \
	");\n" \
	"sla = { " sla " };\n" \
	"audit = { enabled = true; };\n"
#define STREAM_BODY(sla) STREAM_BODY_NAMED("large", sla)

static const char *const stream_body = STREAM_BODY("follow_up = 3; warn_before = 1;");
static const char *const stream_reps[] = {"a1", "a2", "b1"};
static const struct chk_rep stream_limits[] = {
	{"a1", 40, 0, 0}, {"a2", 60, 150, 0}, {"b1", 50, 0, 0},
};
#define NSTREAM_LIMITS (sizeof(stream_limits) / sizeof(stream_limits[0]))

static void
stream_model(struct fx *f)
{
	f->reps = stream_reps;
	f->nreps = 3;
}

/*
 * Wait until lr:instances holds only the live daemons: every dead or
 * replaced instance was reaped by a live one once its lease ran out.
 */
static void
wait_reaped(struct fx *f)
{
	long long until = h_now_ms() + H_WAIT_MS, live = 0;

	for (int i = 0; i < f->nd; i++)
		live += f->h.d[i].pid > 0;
	while (h_int(f->h.c, "ZCARD lr:instances") > live && h_now_ms() < until)
		h_sleep_ms(100);
	assert_int_equal(h_int(f->h.c, "ZCARD lr:instances"), live);
}

/* The end of a stream scenario: reps close some more, timers fire, check. */
static void
finish_stream(struct fx *f, const char *name, const char *injected)
{
	/* Crashes delay timers: a close this late may still beat a breach. */
	close_some(f, 50);
	wait_timers(f);
	wait_reaped(f);
	(void)check_with(f, name, injected, stream_limits, NSTREAM_LIMITS,
	    5000);
	stop_all(f);
}

#define SLA_BODY(reps, sla) \
	"scoring = { mql_threshold = 0; rules = (); };\n" \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n" \
	"reps = (" reps ");\n" \
	"sla = {" sla "};\n" \
	"audit = { enabled = true; };\n"

/* --- the checker itself ---------------------------------------------------------- */

/*
 * The checker is not vacuous: corrupt a routed state in every way it must
 * notice, and see each count go up.
 */
static void
test_checker_sees_faults(void **state)
{
	struct fx *f = *state;
	const char *body = SLA_BODY(
	    "{ id = \"r1\"; segments = [\"all\"]; max_open = 5; },"
	    "{ id = \"r2\"; segments = [\"all\"]; max_open = 5; }",
	    "follow_up = 3; warn_before = 0;");
	/* The config lets r2 hold 5; the checker is told 3. */
	const struct chk_rep limits[] = {{"r1", 5, 0, 0}, {"r2", 3, 0, 0}};
	struct chk_spec spec = {0};
	struct chk_result res;
	char lead[96], id[16], *v, *unfired, *r1lead;
	redisReply *r;

	begin(f, "checker self-test");
	start_n(f, 1, body);
	for (int i = 0; i < 20; i++) {
		snprintf(lead, sizeof(lead),
		    "{\"id\":\"z%06d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->h.c, lead);
		snprintf(id, sizeof(id), "z%06d", i);
		add_item(f, id, NULL, 0, NULL, CHK_FU_NONE);
	}
	assert_true(h_wait_zcard(f->h.c, "lr:backlog:all", 10));
	/* An alert that will never fire: its timer is gone. */
	unfired = h_str(f->h.c, "SRANDMEMBER lr:rep:r2:open");
	assert_non_null(unfired);
	freeReplyObject(h_cmd(f->h.c, "ZREM lr:sla:due %s", unfired));
	/* A payload never pushed, and one refused for another reason. */
	add_item(f, "z999999", NULL, 0, NULL, CHK_FU_NONE);
	h_push_lead(f->h.c, "{\"id\":\"z000100\"}");
	add_item(f, "z000100", NULL, 0, "bad_json", CHK_FU_NONE);
	/* An assignment delivered twice; a key of no rep. */
	v = h_str(f->h.c, "LINDEX lr:rep:r1:inbox 0");
	h_push(f->h.c, "lr:rep:r1:inbox", v, strlen(v));
	free(v);
	v = strdup("{\"lead_id\":\"nobody\",\"rep\":\"zz\"}");
	h_push(f->h.c, "lr:rep:zz:inbox", v, strlen(v));
	free(v);
	/* Redis no longer agrees with the audit trail. */
	r1lead = h_str(f->h.c, "SRANDMEMBER lr:rep:r1:open");
	freeReplyObject(h_cmd(f->h.c, "SREM lr:rep:r1:open %s", r1lead));
	free(r1lead);
	/* In-flight work of an instance that does not exist. */
	freeReplyObject(h_cmd(f->h.c, "HSET lr:inflight:ghost-1-0-0:incoming 1 %s",
	    "{\"id\":\"z000019\",\"email\":\"a@b.c\"}"));
	/* Breaches fire; then one of them twice. */
	h_sleep_ms(4200);
	r = h_cmd(f->h.c, "XRANGE lr:alerts:log - + COUNT 1");
	assert_int_equal(r->elements, 1);
	freeReplyObject(h_cmd(f->h.c, "XADD lr:alerts:log * alert %s",
	    r->element[0]->element[1]->element[1]->str));
	freeReplyObject(r);
	/* Two capacity alerts for one episode, and a malformed one. */
	for (int k = 0; k < 2; k++)
		freeReplyObject(h_cmd(f->h.c, "XADD lr:alerts:log * alert %s",
		    "{\"type\":\"capacity_forecast\",\"segment\":\"ghost\",\"room\":0,\"backlog\":0,\"mql_per_hour\":1,\"exhausted_in_s\":0,\"horizon_s\":3600,\"at_ms\":1}"));
	freeReplyObject(h_cmd(f->h.c, "XADD lr:alerts:log * alert %s",
	    "{\"type\":\"capacity_forecast\",\"segment\":\"ghost\"}"));

	spec.items = f->items;
	spec.nitems = f->nitems;
	spec.reps = limits;
	spec.nreps = 2;
	spec.settle_ms = 1000;
	assert_int_equal(chk_run(f->h.c, &spec, &res), 0);
	chk_print(stderr, "self-test", &res);
	assert_false(res.settled);
	assert_true(res.lost >= 1);
	assert_true(res.duplicated >= 1);
	assert_true(res.capacity_violations >= 2);
	assert_true(res.alerts_missed >= 1);
	assert_true(res.alerts_doubled >= 2);	/* a breach, a forecast */
	assert_true(res.forecasts >= 2);
	assert_int_equal(res.stale_inflight, 1);
	assert_true(res.strays >= 1);
	assert_int_equal(res.wrong_reason, 1);
	assert_true(res.audit_mismatch >= 1);
	assert_false(chk_clean(&res));
	free(unfired);
	freeReplyObject(h_cmd(f->h.c, "DEL lr:inflight:ghost-1-0-0:incoming"));
	stop_all(f);
}

/* --- kill -9 ----------------------------------------------------------------------- */

/*
 * Push leads from..from+n-1 as a stream: half in slices spread over about
 * ms, the other half in one burst at the end, so that what comes next (a
 * kill) finds the daemons busy.
 */
static void
push_over(struct fx *f, char tag, int from, int n, long ms)
{
	const int slices = 5;
	int half = n / 2;

	for (int s = 0; s < slices; s++) {
		int a = from + half * s / slices;
		int b = from + half * (s + 1) / slices;

		push_leads(f, tag, a, b - a);
		h_sleep_ms(ms / slices);
	}
	push_leads(f, tag, from + half, n - half);
}

/*
 * Of the first instances slots, from slot pick on, the first whose
 * instance holds payloads in flight now; pick when none does. A kill that
 * finds work in the air is the one the requeue is tested by (with three
 * instances sharing the stream, a random one is often idle: a run once
 * killed 20 idle instances).
 */
static int
busy_slot(struct fx *f, int instances, int pick)
{
	redisReply *r = h_cmd(f->h.c, "KEYS lr:inflight:*");
	char mark[32];
	int found = -1;

	for (int k = 0; k < instances && found == -1; k++) {
		int i = (pick + k) % instances;

		snprintf(mark, sizeof(mark), "-%ld-", (long)f->h.d[i].pid);
		for (size_t j = 0; j < r->elements && found == -1; j++)
			if (strstr(r->element[j]->str, mark) != NULL)
				found = i;
	}
	freeReplyObject(r);
	return found == -1 ? pick : found;
}

static void
kill_stream(struct fx *f, const char *name, int instances, int kills, int n)
{
	char injected[300];
	long long requeued, reaped;
	int per = n / kills;

	begin(f, name);
	stream_model(f);
	start_n(f, instances, stream_body);
	for (int k = 0; k < kills; k++) {
		int i = (int)rnd_between(f, 0, instances - 1);

		/* The stream keeps flowing; the kill lands wherever it is,
		 * on an instance with work in flight when there is one. */
		push_over(f, 'k', k * per, k == kills - 1 ? n - k * per : per,
		    rnd_between(f, 50, 300));
		h_sleep_ms(rnd_between(f, 0, 25));
		i = busy_slot(f, instances, i);
		kill9(f, i);
		start_one(f, i);
		/* The next kill finds it routing, not starting. */
		wait_registered(f, i);
		close_some(f, 30);
	}
	finish_stream(f, name, "");
	requeued = h_int(f->h.c, "HGET lr:stats requeued");
	reaped = h_int(f->h.c, "HGET lr:stats instances_reaped");
	fprintf(stderr, "%s: %lld payloads requeued from %lld dead instances\n",
	    name, requeued, reaped);
	snprintf(injected, sizeof(injected),
	    "kill -9 of an instance of %d (one with work in flight when there is one, else a random one), %d times at random 50-325 ms intervals while leads flow, restarted at once (%lld instances reaped, %lld payloads requeued)",
	    instances, kills, reaped, requeued);
	amend_injected(injected);
	/* Every kill left a dead instance to reap; work was in flight. */
	assert_true(reaped >= kills);
	assert_true(requeued > 0);
}

static void
test_kill9_one_instance(void **state)
{
	kill_stream(*state, "kill -9, 1 instance", 1, soak ? 100 : 20,
	    soak ? 100000 : 20000);
}

static void
test_kill9_three_instances(void **state)
{
	kill_stream(*state, "kill -9, 3 instances", 3, soak ? 100 : 20,
	    soak ? 100000 : 20000);
}

/* --- SIGTERM under load ------------------------------------------------------------- */

static void
test_sigterm_under_load(void **state)
{
	struct fx *f = *state;
	const char *name = "SIGTERM under load, restarted";
	int stops = soak ? 100 : 20, per = 10000 / stops;
	char injected[200];
	int busy = 0;

	begin(f, name);
	stream_model(f);
	start_n(f, 2, stream_body);
	for (int k = 0; k < stops; k++) {
		int i = (int)rnd_between(f, 0, 1);

		push_over(f, 'g', k * per, per, rnd_between(f, 50, 300));
		h_sleep_ms(rnd_between(f, 0, 5));
		busy += !timers_idle(f);
		/* A graceful stop: exit 0, nothing in flight left behind. */
		stop_clean(f, i);
		start_one(f, i);
		wait_registered(f, i);
		close_some(f, 30);
	}
	snprintf(injected, sizeof(injected),
	    "SIGTERM of a random instance of 2, %d times at random 50-305 ms intervals while leads flow (%d with leads queued or in flight), restarted at once; each exits 0",
	    stops, busy);
	finish_stream(f, name, injected);
}

/* --- SIGSTOP past the lease ------------------------------------------------------ */

static void
test_sigstop_past_lease(void **state)
{
	struct fx *f = *state;
	const char *name = "SIGSTOP past the lease, SIGCONT";
	char injected[256];
	long long fenced;

	begin(f, name);
	stream_model(f);
	start_n(f, 1, stream_body);
	push_leads(f, 's', 0, 10000);
	assert_true(h_wait_llen_at_most(f->h.c, "lr:incoming", 9000));
	h_daemon_signal(&f->h.d[0], SIGSTOP);
	/* A second instance takes over; past the lease it requeues. */
	start_one(f, 1);
	h_sleep_ms(rnd_between(f, 6500, 8000));
	assert_true(h_int(f->h.c, "HGET lr:stats instances_reaped") >= 1);
	h_daemon_signal(&f->h.d[0], SIGCONT);
	close_some(f, 50);
	push_leads(f, 's', 10000, 2000);
	finish_stream(f, name,
	    "SIGSTOP of the instance routing a 10,000-lead stream for 6.5-8 s (lease 5 s), a second instance takes over, then SIGCONT");
	/* Its late commits were refused, and it came back as a new instance. */
	fenced = h_int(f->h.c, "HGET lr:stats fenced");
	fprintf(stderr, "%s: %lld commits fenced\n", name, fenced);
	snprintf(injected, sizeof(injected),
	    "SIGSTOP of the instance routing a 10,000-lead stream for 6.5-8 s (lease 5 s), a second instance takes over, then SIGCONT (%lld late commits refused as fenced)",
	    fenced);
	amend_injected(injected);
	assert_true(fenced > 0);
	assert_true(h_log_contains(&f->h.d[0], "stops:") ||
	    logs_count(f, "stops:") > 0);
}

/* --- Redis killed and restarted ------------------------------------------------- */

static void
test_redis_kill9_aof(void **state)
{
	struct fx *f = *state;
	const char *name = "Redis kill -9 and restart (AOF)";

	begin(f, name);
	stream_model(f);
	freeReplyObject(h_cmd(f->h.c, "CONFIG SET appendfsync always"));
	start_n(f, 2, stream_body);
	push_leads(f, 'r', 0, 10000);
	assert_true(h_wait_llen_at_most(f->h.c, "lr:incoming",
	    rnd_between(f, 3000, 8000)));
	close_some(f, 30);
	redisFree(f->h.c);
	f->h.c = NULL;
	h_redis_stop(&f->h.redis, SIGKILL);
	h_sleep_ms(rnd_between(f, 100, 1500));
	h_redis_restart(&f->h.redis);
	f->h.c = h_redis_connect(&f->h.redis);
	assert_true(h_wait_ready(f->h.c, 2));
	freeReplyObject(h_cmd(f->h.c, "CONFIG SET appendfsync always"));
	push_leads(f, 'r', 10000, 10000);
	close_some(f, 30);
	finish_stream(f, name,
	    "SIGKILL of redis-server (appendonly yes, appendfsync always) mid-stream, restarted 0.1-1.5 s later; 2 instances");
	/* Three connections per instance, each connected twice. */
	assert_true(logs_count(f, "connected") >= 12);
}

/* --- Redis down for 30 s at start ------------------------------------------------- */

static void
test_redis_down_30s_at_start(void **state)
{
	struct fx *f = *state;
	const char *name = soak ? "Redis down for 60 s at daemon start" :
	    "Redis down for 30 s at daemon start";
	const int outage = soak ? 60000 : 30000;
	char injected[160];

	begin(f, name);
	stream_model(f);
	/* Leads wait in Redis; Redis goes away; the daemons start. */
	push_leads(f, 'w', 0, 5000);
	redisFree(f->h.c);
	f->h.c = NULL;
	h_redis_stop(&f->h.redis, SIGTERM);
	h_fx_conf(&f->h, stream_body);
	start_one(f, 0);
	start_one(f, 1);
	h_sleep_ms(outage);
	assert_true(h_daemon_alive(&f->h.d[0]));
	assert_true(h_daemon_alive(&f->h.d[1]));
	h_redis_restart(&f->h.redis);
	f->h.c = h_redis_connect(&f->h.redis);
	assert_true(h_wait_ready(f->h.c, 2));
	push_leads(f, 'w', 5000, 5000);
	close_some(f, 50);
	/* Each connection (commands, lease, the two wakes) logged the outage
	 * once, not once per retry. */
	for (int i = 0; i < 2; i++) {
		int n = h_log_count(&f->h.d[i], "retrying");

		fprintf(stderr, "%s: d%d logged %d outage lines\n", name, i, n);
		assert_true(n >= 1 && n <= 4);
	}
	snprintf(injected, sizeof(injected),
	    "redis-server stopped before 2 instances start, back %d s later; 5,000 leads waiting, 5,000 more after",
	    outage / 1000);
	finish_stream(f, name, injected);
}

/* --- Redis paused past the watchdog ------------------------------------------------ */

static void
test_redis_debug_sleep(void **state)
{
	struct fx *f = *state;
	const char *name = "Redis paused (DEBUG SLEEP) past the watchdog";
	char injected[256];
	redisContext *pause;
	long long t;

	begin(f, name);
	stream_model(f);
	start_n(f, 2, stream_body);
	push_leads(f, 'p', 0, 10000);
	assert_true(h_wait_llen_at_most(f->h.c, "lr:incoming",
	    rnd_between(f, 4000, 9000)));
	pause = h_redis_connect(&f->h.redis);
	t = h_now_ms();
	freeReplyObject(h_cmd(pause, "DEBUG SLEEP 12"));
	redisFree(pause);
	assert_true(h_now_ms() - t >= 11000);
	push_leads(f, 'p', 10000, 2000);
	close_some(f, 50);
	finish_stream(f, name,
	    "DEBUG SLEEP 12 (reply watchdog 10 s, lease 5 s) in the middle of a 10,000-lead stream; 2 instances");
	assert_true(logs_count(f, "watchdog") >= 1);
	snprintf(injected, sizeof(injected),
	    "DEBUG SLEEP 12 (reply watchdog 10 s, lease 5 s) in the middle of a 10,000-lead stream; 2 instances (%d watchdog drops, %lld late commits refused as fenced)",
	    logs_count(f, "watchdog"), h_int(f->h.c, "HGET lr:stats fenced"));
	amend_injected(injected);
}

/* --- connections killed -------------------------------------------------------------- */

static void
test_client_kill(void **state)
{
	struct fx *f = *state;
	const char *name = "connections killed repeatedly";
	char injected[160];
	int kills = soak ? 100 : 20, per = 10000 / kills;
	long long killed = 0;

	begin(f, name);
	stream_model(f);
	start_n(f, 2, stream_body);
	for (int k = 0; k < kills; k++) {
		push_leads(f, 'c', k * per, per);
		h_sleep_ms(rnd_between(f, 100, 400));
		close_some(f, 30);
		killed += h_int(f->h.c, "CLIENT KILL TYPE normal");
	}
	fprintf(stderr, "%s: %lld connections killed\n", name, killed);
	assert_true(killed >= kills);
	snprintf(injected, sizeof(injected),
	    "CLIENT KILL TYPE normal %d times at random 100-400 ms intervals (%lld connections); 2 instances",
	    kills, killed);
	finish_stream(f, name, injected);
}

/* --- SCRIPT FLUSH ----------------------------------------------------------------------- */

static void
test_script_flush(void **state)
{
	struct fx *f = *state;
	const char *name = "SCRIPT FLUSH while routing";
	char injected[160];
	int flushes = soak ? 50 : 10, per = 10000 / flushes;

	begin(f, name);
	stream_model(f);
	start_n(f, 2, stream_body);
	for (int k = 0; k < flushes; k++) {
		push_leads(f, 'f', k * per, per);
		h_sleep_ms(rnd_between(f, 0, 200));
		freeReplyObject(h_cmd(f->h.c, "SCRIPT FLUSH"));
		close_some(f, 30);
	}
	snprintf(injected, sizeof(injected),
	    "SCRIPT FLUSH %d times at random 0-200 ms intervals during a 10,000-lead stream; 2 instances",
	    flushes);
	finish_stream(f, name, injected);
}

/* --- out of memory ------------------------------------------------------------------ */

static long long
used_memory(redisContext *c)
{
	char *info = h_str(c, "INFO memory");
	const char *p = strstr(info, "used_memory:");
	long long v;

	assert_non_null(p);
	v = strtoll(p + 12, NULL, 10);
	free(info);
	return v;
}

static void
test_oom_noeviction(void **state)
{
	struct fx *f = *state;
	const char *name = "Redis at maxmemory (noeviction)";
	char injected[300];
	long long used;

	begin(f, name);
	stream_model(f);
	start_n(f, 2, stream_body);
	push_leads(f, 'm', 0, 10000);
	assert_true(h_wait_llen_at_most(f->h.c, "lr:incoming",
	    rnd_between(f, 5000, 9000)));
	used = used_memory(f->h.c);
	freeReplyObject(h_cmd(f->h.c, "CONFIG SET maxmemory-policy noeviction"));
	freeReplyObject(h_cmd(f->h.c, "CONFIG SET maxmemory %lld", used * 9 / 10));
	/* Past the lease: heartbeats fail too, someone is reaped after. */
	h_sleep_ms(rnd_between(f, 6000, 7500));
	assert_true(logs_count(f, "OOM") > 0);
	freeReplyObject(h_cmd(f->h.c, "CONFIG SET maxmemory 0"));
	push_leads(f, 'm', 10000, 2000);
	close_some(f, 50);
	finish_stream(f, name,
	    "maxmemory set 10% below use with noeviction for 6-7.5 s in the middle of a 10,000-lead stream; 2 instances");
	fprintf(stderr, "%s: %d OOM log lines\n", name, logs_count(f, "OOM"));
	snprintf(injected, sizeof(injected),
	    "maxmemory set 10%% below use with noeviction for 6-7.5 s in the middle of a 10,000-lead stream; 2 instances (%d OOM replies logged and retried, %lld commits fenced after)",
	    logs_count(f, "OOM"), h_int(f->h.c, "HGET lr:stats fenced"));
	amend_injected(injected);
}

/* --- a follow-up racing its deadline ---------------------------------------------- */

struct race {
	char id[16];
	long long at;		/* Redis ms to send the follow-up */
};

static int
race_cmp(const void *a, const void *b)
{
	const struct race *x = a, *y = b;

	return (x->at > y->at) - (x->at < y->at);
}

static void
test_followup_race(void **state)
{
	struct fx *f = *state;
	const char *name = "follow-up racing its deadline";
	char injected[256];
	const char *body = SLA_BODY(
	    "{ id = \"r1\"; segments = [\"all\"]; max_open = 1000; },"
	    "{ id = \"r2\"; segments = [\"all\"]; max_open = 1000; }",
	    "follow_up = 2; warn_before = 1;");
	const struct chk_rep limits[] = {{"r1", 1000, 0, 0},
	    {"r2", 1000, 0, 0}};
	const int n = 300;
	struct race races[300];
	int nraces = 0, won = 0, lost = 0;
	char lead[96], ev[160], *rep;
	long long due, skew;

	begin(f, name);
	start_n(f, 2, body);
	for (int i = 0; i < n; i++) {
		snprintf(lead, sizeof(lead),
		    "{\"id\":\"q%06d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->h.c, lead);
	}
	/* All assigned (a slow machine may already fire the first timers). */
	skew = h_now_ms() + H_WAIT_MS;
	while (h_int(f->h.c, "SCARD lr:rep:r1:open") +
	    h_int(f->h.c, "SCARD lr:rep:r2:open") < n && h_now_ms() < skew)
		h_sleep_ms(10);
	assert_int_equal(h_int(f->h.c, "SCARD lr:rep:r1:open") +
	    h_int(f->h.c, "SCARD lr:rep:r2:open"), n);
	/* The test's clock against Redis's, which decides deadlines. */
	skew = h_redis_time_ms(f->h.c) - h_now_ms();
	for (int i = 0; i < n; i++) {
		enum chk_followup fu = (enum chk_followup)(i % 3);
		char id[16];

		snprintf(id, sizeof(id), "q%06d", i);
		add_item(f, id, NULL, 0, NULL, fu);
		if (fu == CHK_FU_NONE)
			continue;
		rep = h_str(f->h.c, "HGET lr:lead:%s rep", id);
		assert_non_null(rep);
		if (fu == CHK_FU_IN_TIME) {
			snprintf(ev, sizeof(ev),
			    "{\"type\":\"followed_up\",\"lead_id\":\"%s\",\"rep\":\"%s\"}",
			    id, rep);
			h_event(f->h.c, ev);
		} else {
			due = h_int(f->h.c, "HGET lr:lead:%s follow_up_due_ms", id);
			snprintf(races[nraces].id, sizeof(races[nraces].id),
			    "%s", id);
			races[nraces++].at = due + rnd_between(f, -150, 150);
		}
		free(rep);
	}
	qsort(races, (size_t)nraces, sizeof(races[0]), race_cmp);
	for (int k = 0; k < nraces; k++) {
		long long wait = races[k].at - (h_now_ms() + skew);

		if (wait > 0)
			h_sleep_ms((long)wait);
		rep = h_str(f->h.c, "HGET lr:lead:%s rep", races[k].id);
		snprintf(ev, sizeof(ev),
		    "{\"type\":\"followed_up\",\"lead_id\":\"%s\",\"rep\":\"%s\"}",
		    races[k].id, rep);
		free(rep);
		h_event(f->h.c, ev);
	}
	wait_timers(f);
	for (int k = 0; k < nraces; k++) {
		char *b = h_str(f->h.c, "HGET lr:lead:%s sla_breached",
		    races[k].id);

		won += b != NULL && strcmp(b, "0") == 0;
		lost += b != NULL && strcmp(b, "1") == 0;
		free(b);
	}
	fprintf(stderr, "%s: %d races won by the follow-up, %d by the breach\n",
	    name, won, lost);
	assert_int_equal(won + lost, nraces);
	(void)check_with(f, name, "", limits, 2, 0);
	snprintf(injected, sizeof(injected),
	    "300 leads, follow_up 2 s: 100 never followed up, 100 at once, 100 at due time +-150 ms (%d won by the follow-up, %d by the breach); 2 instances",
	    won, lost);
	amend_injected(injected);
	stop_all(f);
}

/* --- 10,000 deadlines at once ---------------------------------------------------- */

static void
test_ten_thousand_due_at_once(void **state)
{
	struct fx *f = *state;
	const char *name = "10,000 deadlines due at once, 3 instances";
	const char *body = SLA_BODY(
	    "{ id = \"a\"; segments = [\"all\"]; max_open = 100000; },"
	    "{ id = \"b\"; segments = [\"all\"]; max_open = 100000; },"
	    "{ id = \"c\"; segments = [\"all\"]; max_open = 100000; }",
	    "follow_up = 10; warn_before = 2;");
	const struct chk_rep limits[] = {{"a", 100000, 0, 0},
	    {"b", 100000, 0, 0}, {"c", 100000, 0, 0}};
	const int n = 10000;
	char buf[96], id[16];
	struct chk_result res;
	redisReply *r;
	long long last, at_once;
	char injected[256];

	begin(f, name);
	start_n(f, 3, body);
	for (int i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof(buf),
		    "{\"id\":\"t%06d\",\"email\":\"a@b.c\"}", i);

		redisAppendCommand(f->h.c, "LPUSH lr:incoming %b", buf,
		    (size_t)len);
		snprintf(id, sizeof(id), "t%06d", i);
		add_item(f, id, NULL, 0, NULL, CHK_FU_NONE);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(redisGetReply(f->h.c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	/* Every lead assigned (and open: nothing closes them). */
	last = h_now_ms() + 120000;
	while (h_int(f->h.c, "SCARD lr:rep:a:open") +
	    h_int(f->h.c, "SCARD lr:rep:b:open") +
	    h_int(f->h.c, "SCARD lr:rep:c:open") < n && h_now_ms() < last)
		h_sleep_ms(50);
	/* All three stop; every deadline passes; all three start at once. */
	for (int i = 0; i < 3; i++)
		stop_clean(f, i);
	r = h_cmd(f->h.c, "ZRANGE lr:sla:due -1 -1 WITHSCORES");
	assert_int_equal(r->elements, 2);
	last = strtoll(r->element[1]->str, NULL, 10);
	freeReplyObject(r);
	while (h_redis_time_ms(f->h.c) <= last + 200)
		h_sleep_ms(50);
	at_once = h_int(f->h.c, "ZCARD lr:sla:due");
	for (int i = 0; i < 3; i++)
		start_one(f, i);
	wait_timers(f);
	snprintf(injected, sizeof(injected),
	    "10,000 assignments (follow_up 10 s); all 3 instances stopped until every deadline passed, then started together: %lld deadlines due at once",
	    at_once);
	res = check_with(f, name, injected, limits, 3, 0);
	assert_int_equal(res.breaches, n);
	/* Under a slow machine a few may fire before the stop; most wait. */
	assert_true(at_once >= n / 2);
	stop_all(f);
}

/* --- reload under load ------------------------------------------------------------ */

#define RELOAD_BODY(reps) \
	"scoring = { mql_threshold = 0; rules = (); };\n" \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n" \
	"reps = (" reps ");\n" \
	"sla = { follow_up = 2; warn_before = 0; };\n" \
	"audit = { enabled = true; };\n"

static void
test_reload_under_load(void **state)
{
	struct fx *f = *state;
	const char *name = "config reload under load";
	const char *before = RELOAD_BODY(
	    "{ id = \"r1\"; segments = [\"all\"]; max_open = 8; },"
	    "{ id = \"r2\"; segments = [\"all\"]; max_open = 8; max_per_period = 60; },"
	    "{ id = \"r3\"; segments = [\"all\"]; max_open = 8; },"
	    "{ id = \"r4\"; segments = [\"all\"]; max_open = 8; }");
	const char *after = RELOAD_BODY(
	    "{ id = \"r1\"; segments = [\"all\"]; max_open = 3; },"
	    "{ id = \"r2\"; segments = [\"all\"]; max_open = 8; max_per_period = 60; },"
	    "{ id = \"r3\"; segments = [\"all\"]; max_open = 8; }");
	static const char *const reps[] = {"r1", "r2", "r3", "r4"};
	struct chk_rep limits[] = {
		{"r1", 8, 0, 0}, {"r1", 3, 0, 0}, {"r2", 8, 60, 0},
		{"r3", 8, 0, 0}, {"r4", 8, 0, 0}, {"r4", 0, 0, 0},
	};
	long long t, r1_open;

	begin(f, name);
	f->reps = reps;
	f->nreps = 4;
	start_n(f, 2, before);
	for (int k = 0; k < 15; k++) {
		push_leads(f, 'h', k * 200, 200);
		h_sleep_ms(rnd_between(f, 50, 200));
		close_some(f, 40);
	}
	r1_open = h_int(f->h.c, "SCARD lr:rep:r1:open");
	fprintf(stderr, "%s: r1 holds %lld leads when its max_open goes to 3\n",
	    name, r1_open);
	assert_true(r1_open > 3);
	h_fx_conf(&f->h, after);
	h_daemon_signal(&f->h.d[0], SIGHUP);
	h_daemon_signal(&f->h.d[1], SIGHUP);
	t = h_now_ms() + H_WAIT_MS;
	while ((!h_log_contains(&f->h.d[0], "loaded (version") ||
	    !h_log_contains(&f->h.d[1], "loaded (version")) && h_now_ms() < t)
		h_sleep_ms(5);
	assert_true(h_log_contains(&f->h.d[0], "loaded (version"));
	assert_true(h_log_contains(&f->h.d[1], "loaded (version"));
	/*
	 * Both run the new limits now. A call built before the reload and
	 * still in the air (pipelined, up to 4 per consumer) carries the old
	 * routing and may run just after this; give those a second.
	 */
	t = h_redis_time_ms(f->h.c);
	limits[1].since_ms = limits[5].since_ms = t + 1000;
	fprintf(stderr, "%s: both reloaded by Redis time %lld; new limits checked from %lld\n",
	    name, t, t + 1000);
	for (int k = 15; k < 30; k++) {
		push_leads(f, 'h', k * 200, 200);
		h_sleep_ms(rnd_between(f, 50, 200));
		close_some(f, 40);
	}
	/* Assignments to the removed rep after both logged the reload. */
	{
		redisReply *a = h_cmd(f->h.c, "XRANGE lr:audit %lld +", t);
		int late = 0;
		long long last = 0;

		for (size_t k = 0; k < a->elements; k++) {
			const redisReply *fl = a->element[k]->element[1];

			if (fl->elements >= 6 && strcmp(fl->element[1]->str,
			    "assign") == 0 && strcmp(fl->element[5]->str,
			    "r4") == 0) {
				late++;
				last = strtoll(a->element[k]->element[0]->str,
				    NULL, 10) - t;
			}
		}
		freeReplyObject(a);
		fprintf(stderr, "%s: %d assignments to the removed rep after the reload (the last %lld ms after)\n",
		    name, late, last);
	}
	/* The removed rep may still close what it holds. */
	close_some(f, 100);
	wait_timers(f);
	(void)check_with(f, name,
	    "SIGHUP of 2 instances mid-stream: rep r4 removed, r1's max_open 8 -> 3 while it holds more; reps close leads throughout",
	    limits, sizeof(limits) / sizeof(limits[0]), 5000);
	assert_int_equal(h_int(f->h.c, "SCARD lr:rep:r4:open"), 0);
	stop_all(f);
}

/* --- segment renamed with a backlog ----------------------------------------------- */

/* The stream model with segment "large" renamed "big". */
static const char *const renamed_body =
    STREAM_BODY_NAMED("big", "follow_up = 3; warn_before = 1;");

static void
test_segment_renamed_backlog(void **state)
{
	struct fx *f = *state;
	const char *name = "segment renamed with a backlog";
	long long waiting, t;
	char injected[256];

	begin(f, name);
	stream_model(f);
	start_n(f, 2, stream_body);
	for (int k = 0; k < 10; k++) {
		push_leads(f, 's', k * 300, 300);
		h_sleep_ms(rnd_between(f, 50, 200));
		close_some(f, 30);
	}
	waiting = h_int(f->h.c, "ZCARD lr:backlog:large");
	fprintf(stderr, "%s: %lld leads wait in 'large' when it is renamed\n",
	    name, waiting);
	assert_true(waiting > 0);
	h_fx_conf(&f->h, renamed_body);
	h_daemon_signal(&f->h.d[0], SIGHUP);
	h_daemon_signal(&f->h.d[1], SIGHUP);
	for (int k = 10; k < 20; k++) {
		push_leads(f, 's', k * 300, 300);
		h_sleep_ms(rnd_between(f, 50, 200));
		close_some(f, 30);
	}
	t = h_now_ms() + H_WAIT_MS;
	while ((h_log_count(&f->h.d[0], "backlog of removed segment 'large'") +
	    h_log_count(&f->h.d[1], "backlog of removed segment 'large'") == 0 ||
	    h_int(f->h.c, "EXISTS lr:backlog:large") != 0) && h_now_ms() < t)
		h_sleep_ms(20);
	assert_int_equal(h_int(f->h.c, "EXISTS lr:backlog:large"), 0);
	assert_true(h_log_count(&f->h.d[0], "backlog of removed segment 'large'") +
	    h_log_count(&f->h.d[1], "backlog of removed segment 'large'") > 0);
	/* The reps work through the rest. */
	for (int k = 0; k < 40 && h_int(f->h.c, "ZCARD lr:backlog:big") +
	    h_int(f->h.c, "ZCARD lr:backlog:small") > 0; k++) {
		close_some(f, 100);
		h_sleep_ms(250);
	}
	close_some(f, 100);
	wait_timers(f);
	snprintf(injected, sizeof(injected),
	    "SIGHUP of 2 instances mid-stream renaming segment 'large' to 'big' while %lld leads wait in it; reps close leads throughout",
	    waiting);
	(void)check_with(f, name, injected, stream_limits, NSTREAM_LIMITS, 5000);
	assert_int_equal(h_int(f->h.c, "ZCARD lr:backlog:big"), 0);
	stop_all(f);
}

/* --- hostile input --------------------------------------------------------------------- */

struct hostile {
	char *raw;
	size_t len;
	char id[208];
	const char *expect;
};

static void
hadd(struct hostile *h, size_t *n, const char *id, const char *expect,
    const char *raw, size_t len)
{
	h[*n].raw = malloc(len ? len : 1);
	assert_non_null(h[*n].raw);
	memcpy(h[*n].raw, raw, len);
	h[*n].len = len;
	snprintf(h[*n].id, sizeof(h[*n].id), "%s", id ? id : "");
	h[*n].expect = expect;
	(*n)++;
}

static void hfmt(struct hostile *h, size_t *n, const char *id,
    const char *expect, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
hfmt(struct hostile *h, size_t *n, const char *id, const char *expect,
    const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	hadd(h, n, id, expect, buf, (size_t)len);
}

/* n copies of c followed by tail, as one payload. */
static void
hrep(struct hostile *h, size_t *n, const char *expect, const char *head,
    char c, size_t count, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail), len = hl + count + tl;
	char *buf = malloc(len);

	assert_non_null(buf);
	memcpy(buf, head, hl);
	memset(buf + hl, c, count);
	memcpy(buf + hl + count, tail, tl);
	h[*n].raw = buf;
	h[*n].len = len;
	h[*n].id[0] = '\0';
	h[*n].expect = expect;
	(*n)++;
}

/* A lead nested depth levels deep (the top-level object is level 1). */
static void
hdeep(struct hostile *h, size_t *n, const char *id, const char *expect,
    int depth)
{
	char buf[512];
	int len = snprintf(buf, sizeof(buf),
	    "{\"id\":\"%s\",\"email\":\"a@b.c\",\"x\":", id);

	for (int i = 1; i < depth; i++)
		buf[len++] = '[';
	buf[len++] = '1';
	for (int i = 1; i < depth; i++)
		buf[len++] = ']';
	buf[len++] = '}';
	hadd(h, n, id, expect, buf, (size_t)len);
}

/* The corpus of round r (ids and bytes unique per round). */
static size_t
corpus(struct hostile *h, int r, bool huge)
{
	char id[200], big[300];
	size_t n = 0;

#define ID(s) (snprintf(id, sizeof(id), "h%d-%s", r, s), id)
	if (huge) {
		/* First, to be pushed alone to an idle daemon. 100 MiB in the
		 * soak; 16 MiB in make test, where a script that JSON-encodes
		 * 100 MiB for the dead letter (seconds of Redis time) brushes
		 * against the 10 s reply watchdog. */
		snprintf(big, sizeof(big), "{\"id\":\"%s\",\"email\":\"a@b.c\",\"pad\":\"", ID("100mib"));
		hrep(h, &n, "too_large", big, 'a', HUGE_PAYLOAD, "\"}");
		snprintf(h[n - 1].id, sizeof(h[n - 1].id), "%s", id);
	}
	hfmt(h, &n, ID("trunc"), "bad_json", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"title\":\"VP", id);
	hfmt(h, &n, ID("trail"), "bad_json", "{\"id\":\"%s\",\"email\":\"a@b.c\"} garbage", id);
	hfmt(h, &n, ID("two"), "bad_json", "{\"id\":\"%s\",\"email\":\"a@b.c\"}{}", id);
	hfmt(h, &n, ID("arr"), "not_object", "[{\"id\":\"%s\",\"email\":\"a@b.c\"}]", id);
	hfmt(h, &n, NULL, "not_object", "\"h%d-string\"", r);
	hfmt(h, &n, NULL, "not_object", "%d", 424200 + r);
	hrep(h, &n, "too_deep", "", '[', 100000 + (size_t)r, "");
	hrep(h, &n, "too_deep", "{\"a\":", '{', 50000 + (size_t)r, "");
	hdeep(h, &n, ID("deep17"), "too_deep", 17);
	hdeep(h, &n, ID("deep16"), "routed", 16);
	hfmt(h, &n, ID("utf8"), "bad_utf8", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"\xff\xfe\"}", id);
	hfmt(h, &n, ID("overlong"), "bad_utf8", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"\xc0\xaf\"}", id);
	hfmt(h, &n, ID("surrbytes"), "bad_utf8", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"\xed\xa0\x80\"}", id);
	hfmt(h, &n, ID("cut"), "bad_utf8", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"\xe2\x82\"}", id);
	hfmt(h, &n, ID("hisurr"), "bad_json", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"\\ud800\"}", id);
	hfmt(h, &n, ID("losurr"), "bad_json", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"\\udc00x\"}", id);
	hfmt(h, &n, ID("pair"), "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"\\ud83d\\ude00\"}", id);
	hfmt(h, &n, ID("nulid"), "bad_id", "{\"id\":\"%s\\u0000\",\"email\":\"a@b.c\"}", id);
	hfmt(h, &n, ID("nulname"), "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"a\\u0000b\"}", id);
	{
		int len = snprintf(big, sizeof(big), "{\"id\":\"%s\",\"email\":\"a@b.c\"}", ID("nulafter"));

		hadd(h, &n, id, "bad_json", big, (size_t)len + 1);
		len = snprintf(big, sizeof(big), "{\"id\":\"%s\",\"email\":\"a@b.c\",\"name\":\"aXb\"}", ID("rawnul"));
		*strchr(big, 'X') = '\0';
		hadd(h, &n, id, "bad_json", big, (size_t)len);
	}
	hfmt(h, &n, ID("dupkey"), "bad_json", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"email\":\"x@y.z\"}", id);
	hfmt(h, &n, ID("dupid"), "bad_json", "{\"id\":\"%s\",\"id\":\"%s-2\",\"email\":\"a@b.c\"}", id, id);
	hfmt(h, &n, ID("e400"), "bad_json", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"revenue\":1e400}", id);
	hfmt(h, &n, ID("me400"), "bad_json", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"employees\":-1e400}", id);
	hfmt(h, &n, ID("mzero"), "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"employees\":-0}", id);
	hfmt(h, &n, ID("mzerof"), "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"revenue\":-0.0}", id);
	snprintf(big, sizeof(big), "{\"id\":\"%s\",\"email\":\"a@b.c\",\"employees\":", ID("digits"));
	hrep(h, &n, "bad_json", big, '7', 10000, "}");
	snprintf(h[n - 1].id, sizeof(h[n - 1].id), "%s", id);
	snprintf(big, sizeof(big), "{\"id\":\"%s\",\"email\":\"a@b.c\",\"pad\":\"", ID("mib"));
	hrep(h, &n, "too_large", big, 'a', (1u << 20), "\"}");
	snprintf(h[n - 1].id, sizeof(h[n - 1].id), "%s", id);
	/* Ids that look like keys are plain ids under lr:lead:, nothing more. */
	if (r == 0)
		snprintf(id, sizeof(id), "x:rep:y:inbox");
	else
		snprintf(id, sizeof(id), "x%d:rep:y:inbox", r);
	hfmt(h, &n, id, "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
	snprintf(id, sizeof(id), "lr:rep:a1:inbox:%d", r);
	hfmt(h, &n, id, "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
	snprintf(id, sizeof(id), "lr:backlog:small:%d", r);
	hfmt(h, &n, id, "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":\"{lr}:rep:a1:inbox:%d\",\"email\":\"a@b.c\"}", r);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":\"../rep/a1/%d\",\"email\":\"a@b.c\"}", r);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":\"h%d-*\",\"email\":\"a@b.c\"}", r);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":\"h%d-'..redis.call('FLUSHALL')..'\",\"email\":\"a@b.c\"}", r);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":\"h%d with spaces\",\"email\":\"a@b.c\"}", r);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":\"h%d\\nnewline\",\"email\":\"a@b.c\"}", r);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":\"h%d\\r\\nDEL lr:incoming\",\"email\":\"a@b.c\"}", r);
	hfmt(h, &n, NULL, "bad_json", "{\"id\":\"h%d\nraw newline\",\"email\":\"a@b.c\"}", r);
	snprintf(big, sizeof(big), "{\"id\":\"h%d-", r);
	hrep(h, &n, "bad_id", big, 'i', 129 - strlen(big) + 7, "\",\"email\":\"a@b.c\"}");
	snprintf(id, sizeof(id), "h%d-", r);
	memset(id + strlen(id), 'j', 128 - strlen(id));
	id[128] = '\0';
	hfmt(h, &n, id, "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":\"\",\"email\":\"a@b.c\",\"r\":%d}", r);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":%d,\"email\":\"a@b.c\"}", 5000 + r);
	hfmt(h, &n, NULL, "bad_id", "{\"id\":null,\"email\":\"a@b.c\",\"r\":%d}", r);
	hfmt(h, &n, NULL, "missing_id", "{\"email\":\"a@b.c\",\"r\":%d}", r);
	hfmt(h, &n, ID("noemail"), "missing_email", "{\"id\":\"%s\"}", id);
	hfmt(h, &n, ID("noat"), "bad_email", "{\"id\":\"%s\",\"email\":\"nobody\"}", id);
	hfmt(h, &n, ID("numemail"), "bad_email", "{\"id\":\"%s\",\"email\":42}", id);
	snprintf(big, sizeof(big), "{\"id\":\"%s\",\"email\":\"", ID("longemail"));
	hrep(h, &n, "bad_email", big, 'e', 260, "@b.c\"}");
	snprintf(h[n - 1].id, sizeof(h[n - 1].id), "%s", id);
	hfmt(h, &n, ID("bom"), "bad_json", "\xef\xbb\xbf{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
	hfmt(h, &n, ID("wrongtype"), "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\",\"employees\":\"many\"}", id);
	hrep(h, &n, "bad_json", "", ' ', 1 + (size_t)r, "");
	if (r == 0)
		hadd(h, &n, NULL, "bad_json", "", 0);
	/* A valid lead, then another payload with its id: a duplicate. */
	hfmt(h, &n, ID("dupe"), "routed", "{\"id\":\"%s\",\"email\":\"a@b.c\"}", id);
	hfmt(h, &n, id, "duplicate", "{\"id\":\"%s\",\"email\":\"other@b.c\"}", id);
#undef ID
	return n;
}

static void
push_hostile(struct fx *f, struct hostile *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool routed = strcmp(h[i].expect, "routed") == 0;

		h_push(f->h.c, "lr:incoming", h[i].raw, h[i].len);
		/* Accepted ones are found by id; refused ones by their bytes. */
		add_item(f, h[i].id[0] ? h[i].id : NULL, routed ? NULL :
		    h[i].raw, routed ? 0 : h[i].len, h[i].expect, CHK_FU_NONE);
		free(h[i].raw);
		h[i].raw = NULL;
	}
}

static void
wait_drained(struct fx *f)
{
	long long until = h_now_ms() + 60000;
	bool empty;

	while (!(empty = h_queues_empty(f->h.c, "lr:")) && h_now_ms() <= until)
		h_sleep_ms(20);
	assert_true(empty);
}

/* The live instances, space-separated. */
static char *
instances(struct fx *f)
{
	redisReply *r = h_cmd(f->h.c, "ZRANGE lr:instances 0 -1");
	char *s = calloc(1, 4096);

	assert_non_null(s);
	for (size_t i = 0; i < r->elements; i++)
		snprintf(s + strlen(s), 4096 - strlen(s), "%s%s", i ? " " : "",
		    r->element[i]->str);
	freeReplyObject(r);
	return s;
}

static void
test_hostile_input(void **state)
{
	struct fx *f = *state;
	const char *name = "hostile input through the daemon";
	const char *body =
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = (\n"
	    "  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
	    "  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 100; }\n"
	    ");\n"
	    "default_segment = \"small\";\n"
	    "reps = (\n"
	    "  { id = \"a1\"; segments = [\"small\"]; max_open = 100000; },\n"
	    "  { id = \"b1\"; segments = [\"large\"]; max_open = 100000; }\n"
	    ");\n"
	    "intake = { max_bytes = 200000; };\n"
	    "sla = { follow_up = 1; warn_before = 0; };\n"
	    "audit = { enabled = true; };\n";
	const struct chk_rep limits[] = {{"a1", 100000, 0, 0},
	    {"b1", 100000, 0, 0}};
	const int rounds = soak ? 12 : 6;
	static struct hostile h[128];
	long rss[16], base, peak = 0, hwm;
	char injected[400];
	size_t n = 0, total = 0;
	char *inst, asan_opts[1024];
	char *saved_asan = getenv("ASAN_OPTIONS") != NULL ?
	    strdup(getenv("ASAN_OPTIONS")) : NULL;

	snprintf(asan_opts, sizeof(asan_opts), "%s%squarantine_size_mb=2",
	    saved_asan != NULL ? saved_asan : "", saved_asan != NULL ? ":" : "");
	begin(f, name);
	/* A small quarantine, so that RSS shows what the daemon keeps, not
	 * what AddressSanitizer holds back to catch use after free. */
	setenv("ASAN_OPTIONS", asan_opts, 1);
	start_n(f, 1, body);
	if (saved_asan != NULL)
		setenv("ASAN_OPTIONS", saved_asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(saved_asan);
	inst = instances(f);
	push_leads(f, 'n', 0, 500);
	wait_drained(f);
	base = h_daemon_rss_kb(&f->h.d[0]);
	for (int r = 0; r < rounds; r++) {
		size_t alone = r == 0;

		n = corpus(h, r, r == 0);
		assert_true(n <= sizeof(h) / sizeof(h[0]));
		total += n;
		/* The huge payload wakes an idle daemon: the wake must not
		 * bring it along (a blocking BLMOVE did). */
		push_hostile(f, h, alone);
		wait_drained(f);
		push_leads(f, 'n', 500 + r * 400, 200);
		push_hostile(f, h + alone, n - alone);
		push_leads(f, 'n', 500 + r * 400 + 200, 200);
		wait_drained(f);
		rss[r] = h_daemon_rss_kb(&f->h.d[0]);
		fprintf(stderr, "%s: round %d: %zu hostile payloads, daemon RSS %ld KiB\n",
		    name, r, n, rss[r]);
		assert_true(h_daemon_alive(&f->h.d[0]));
	}
	for (int r = 0; r < rounds; r++)
		peak = rss[r] > peak ? rss[r] : peak;
	/* Nothing else disturbed: the same instance ran throughout. */
	{
		char *now = instances(f);

		assert_string_equal(now, inst);
		free(now);
	}
	free(inst);
	assert_int_equal(logs_count(f, "stops:"), 0);
	assert_int_equal(h_int(f->h.c, "EXISTS lr:rep:y:inbox"), 0);
	assert_int_equal(h_int(f->h.c, "EXISTS lr:lead:x:rep:y:inbox"), 1);
	wait_timers(f);
	hwm = h_daemon_status_kb(&f->h.d[0], "VmHWM");
	snprintf(injected, sizeof(injected),
	    "%zu hostile payloads over %d rounds (1 MiB each round; first, alone to the idle daemon, %u MiB) among 2,500 valid leads; daemon RSS %ld KiB before, at most %ld after a round, %ld at the end (%+ld KiB over the last %d rounds); peak (VmHWM) %ld KiB, asserted at most 64 MB",
	    total, rounds, HUGE_PAYLOAD >> 20, base, peak, rss[rounds - 1],
	    rss[rounds - 1] - rss[rounds / 2], rounds - 1 - rounds / 2, hwm);
	(void)check_with(f, name, injected, limits, 2, 0);
	/* RSS flat: once the allocator has its working set, more rounds add
	 * (almost) nothing, and it is back within 10 MB of where it began
	 * after the round with the huge payload. */
	fprintf(stderr, "%s: RSS %ld KiB before, at most %ld, %ld at the end\n",
	    name, base, peak, rss[rounds - 1]);
	assert_true(rss[rounds - 1] - rss[rounds / 2] < 4 * 1024);
	assert_true(rss[rounds - 1] - base <= 10 * 1000);
	/* Neither a claim nor a wake brings the huge payload to the daemon:
	 * peak RSS (sanitized build, start-up included) at most 64 MB. 324
	 * MB with 100 MiB before claims were bounded by bytes; 90 MB with 32
	 * MiB while an idle daemon waited with BLMOVE, which answers with
	 * the payload it moved. */
	fprintf(stderr, "%s: peak RSS %ld KiB\n", name, hwm);
	assert_true(hwm > 0 && hwm <= 64 * 1000);
	stop_all(f);
}

/* --- the table ---------------------------------------------------------------------------- */

/* Render the results file as the Markdown table of tests/RELIABILITY.md. */
static void
render_table(void)
{
	char line[4096], table[300];
	FILE *in = fopen(results_path(), "r"), *out;
	char *fld[12], *p;
	int nf;

	size_t n = strlen(results_path()), suffix = strlen("-results.txt");

	if (n > suffix && strcmp(results_path() + n - suffix,
	    "-results.txt") == 0)
		snprintf(table, sizeof(table), "%.*s-table.md",
		    (int)(n - suffix), results_path());
	else
		snprintf(table, sizeof(table), "%s.md", results_path());
	if (in == NULL || (out = fopen(table, "w")) == NULL) {
		if (in != NULL)
			fclose(in);
		return;
	}
	fprintf(out, "| Scenario | What was injected | Leads pushed | Lost | Duplicated | Over capacity | Alerts missed / doubled | Stale in-flight | Time (s) | LR_SEED | Result |\n");
	fprintf(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
	while (fgets(line, sizeof(line), in) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		nf = 0;
		for (p = strtok(line, "\t"); p != NULL && nf < 12;
		    p = strtok(NULL, "\t"))
			fld[nf++] = p;
		if (nf < 12)
			continue;
		fprintf(out, "| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s |\n",
		    fld[0], fld[1], fld[2], fld[3], fld[4], fld[5], fld[6],
		    fld[7], fld[8], fld[9], fld[10], fld[11]);
	}
	fclose(in);
	fclose(out);
	fprintf(stderr, "results: %s, table: %s\n", results_path(), table);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_checker_sees_faults),
		TEST(test_kill9_one_instance),
		TEST(test_kill9_three_instances),
		TEST(test_sigterm_under_load),
		TEST(test_sigstop_past_lease),
		TEST(test_redis_kill9_aof),
		TEST(test_redis_down_30s_at_start),
		TEST(test_redis_debug_sleep),
		TEST(test_client_kill),
		TEST(test_script_flush),
		TEST(test_oom_noeviction),
		TEST(test_followup_race),
		TEST(test_ten_thousand_due_at_once),
		TEST(test_reload_under_load),
		TEST(test_segment_renamed_backlog),
		TEST(test_hostile_input),
	};
	const char *s = getenv("LR_SEED");
	FILE *out;
	int rc;

	soak = getenv("LR_SOAK") != NULL && strcmp(getenv("LR_SOAK"), "0") != 0;
	base_seed = s != NULL ? strtoull(s, NULL, 10) :
	    (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 20);
	fprintf(stderr, "itest_faults: seed %llu%s (LR_SEED=%llu reproduces the schedule)\n",
	    base_seed, soak ? ", soak" : "", base_seed);
	mkdir("build", 0755);
	mkdir("build/test", 0755);
	/* LR_FAULTS=pattern runs only the matching scenarios (cmocka's glob);
	 * empty, all of them (cmocka's filter would match none). */
	if (getenv("LR_FAULTS") != NULL && *getenv("LR_FAULTS") != '\0')
		cmocka_set_test_filter(getenv("LR_FAULTS"));
	if ((out = fopen(results_path(), "w")) != NULL)
		fclose(out);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	render_table();
	return rc;
}
