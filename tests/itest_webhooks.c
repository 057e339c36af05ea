/* itest_webhooks.c - webhooks against a real redis-server and a real HTTP receiver that checks every signature with the standardwebhooks package: delivery, retries, dead deliveries, redelivery, kill -9, two instances, a hanging endpoint. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* A Standard Webhooks secret: "whsec_" and the base64 of 24 bytes. */
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SECRET_B64 "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

#define BODY(threshold, reps, hooks) \
	"scoring = { mql_threshold = " threshold "; rules = (); };\n" \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n" \
	"reps = (" reps ");\n" \
	"webhooks = (" hooks ");\n"

#define REPS_AB \
	"{ id = \"a\"; segments = [\"all\"]; max_open = 100000; }," \
	"{ id = \"b\"; segments = [\"all\"]; max_open = 100000; }"

/* One endpoint of the receiver ("@PORT@" its port): "{ name; url; secret; EXTRA }". */
#define HOOK(name, path, extra) \
	"{ name = \"" name "\"; url = \"http://127.0.0.1:@PORT@" path "\"; " \
	"secret = \"" SECRET "\"; " extra " }"

/* The receiver of the running test. */
static pid_t node_pid;
static int node_port;
static char node_log[600];

/* Start the receiver; with tls, on https with a self-signed certificate
 * (made here with the openssl command) that no CA store trusts. */
static void
receiver_start_as(struct h_fx *f, bool tls)
{
	char port[16], out[700], cert[600], key[600];
	const char *argv[] = {"node", "tests/webhooks/receiver.js", port,
	    node_log, SECRET, tls ? cert : NULL, key, NULL};
	const char *req[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048",
	    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
	    "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert, NULL};
	char *text;
	int i;

	node_port = h_free_port();
	snprintf(port, sizeof(port), "%d", node_port);
	snprintf(node_log, sizeof(node_log), "%s/receiver.log", f->dir);
	snprintf(out, sizeof(out), "%s/receiver.out", f->dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", f->dir);
	snprintf(key, sizeof(key), "%s/key.pem", f->dir);
	if (tls)
		assert_int_equal(h_reap(h_spawn(req, NULL, out, NULL),
		    "openssl req"), 0);
	h_write_file(node_log, "");
	node_pid = h_spawn(argv, NULL, out, NULL);
	for (i = 0; i < 200; i++) {
		text = h_slurp(node_log);
		if (strstr(text, "\"ready\"") != NULL) {
			free(text);
			return;
		}
		free(text);
		h_sleep_ms(50);
	}
	fail_msg("the receiver did not start (see %s)", out);
}

static void
receiver_start(struct h_fx *f)
{
	receiver_start_as(f, false);
}

static void
receiver_stop(void)
{
	if (node_pid > 0) {
		kill(node_pid, SIGTERM);
		(void)h_reap(node_pid, "the receiver");
		node_pid = 0;
	}
}

/* Every request the receiver logged, oldest first (its "ready" left out). */
static json_t *
received(void)
{
	char *text = h_slurp(node_log), *line, *save = NULL;
	json_t *a = json_array(), *o;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		o = json_loads(line, 0, NULL);
		assert_non_null(o);
		if (json_object_get(o, "ready") != NULL)
			json_decref(o);
		else
			json_array_append_new(a, o);
	}
	free(text);
	return a;
}

/* The requests to paths starting with path (NULL: all), a new array. */
static json_t *
requests_to(const json_t *all, const char *path)
{
	json_t *a = json_array(), *o;
	size_t i;

	json_array_foreach(all, i, o)
		if (path == NULL || strncmp(h_jstr(o, "path"), path,
		    strlen(path)) == 0)
			json_array_append(a, o);
	return a;
}

/* Wait until at least n requests to path were logged (with status, 0:
 * any); fails after the bound. */
static void
wait_requests(const char *path, size_t n, long long status)
{
	long long end = h_now_ms() + H_WAIT_MS * 2;
	size_t got = 0, i;
	json_t *all, *o;

	while (h_now_ms() < end) {
		all = received();
		got = 0;
		json_array_foreach(all, i, o)
			if (strncmp(h_jstr(o, "path"), path, strlen(path)) == 0 &&
			    (status == 0 || h_jint(o, "status") == status))
				got++;
		json_decref(all);
		if (got >= n)
			return;
		h_sleep_ms(50);
	}
	fail_msg("%zu requests to %s, not %zu", got, path, n);
}

/* text with value for each token, malloc'd. */
static char *
replace(const char *text, const char *token, const char *value)
{
	char *s, *at;
	const char *p = text;
	size_t n = 0;

	assert_non_null(s = malloc(strlen(text) * (strlen(value) + 1) + 1));
	while ((at = strstr(p, token)) != NULL) {
		memcpy(s + n, p, (size_t)(at - p));
		n += (size_t)(at - p);
		memcpy(s + n, value, strlen(value));
		n += strlen(value);
		p = at + strlen(token);
	}
	strcpy(s + n, p);
	return s;
}

/* The README's example receiver (tests/webhooks/example.js), its port. */
static pid_t example_pid;
static int example_port;

/* The configuration body: text with the receiver's port for each
 * "@PORT@", the example's for "@EXAMPLE@". */
static char *
hooks_body(const char *text)
{
	char port[16], *a, *b;

	snprintf(port, sizeof(port), "%d", node_port);
	a = replace(text, "@PORT@", port);
	snprintf(port, sizeof(port), "%d", example_port);
	b = replace(a, "@EXAMPLE@", port);
	free(a);
	return b;
}

/* Start the README's example receiver; its stdout in dir/example.out. */
static void
example_start(struct h_fx *f)
{
	char port[16], out[700];
	const char *argv[] = {"node", "tests/webhooks/example.js", NULL};

	example_port = h_free_port();
	snprintf(port, sizeof(port), "%d", example_port);
	snprintf(out, sizeof(out), "%s/example.out", f->dir);
	setenv("PORT", port, 1);
	setenv("WEBHOOK_SECRET", SECRET, 1);
	example_pid = h_spawn(argv, NULL, out, NULL);
	unsetenv("PORT");
	unsetenv("WEBHOOK_SECRET");
}

static void
example_stop(void)
{
	if (example_pid > 0) {
		kill(example_pid, SIGTERM);
		(void)h_reap(example_pid, "the example receiver");
		example_pid = 0;
	}
}

static void
push_leads(redisContext *c, const char *prefix, int n)
{
	char lead[256];

	for (int i = 0; i < n; i++) {
		snprintf(lead, sizeof(lead),
		    "{\"id\":\"%s%d\",\"email\":\"x%d@example.com\"}", prefix, i, i);
		h_push_lead(c, lead);
	}
}

/* The body of a request, parsed. */
static json_t *
body_of(const json_t *req)
{
	json_t *b = json_loads(h_jstr(req, "body"), 0, NULL);

	assert_non_null(b);
	return b;
}

/* RFC 3339 of ms, as the contract's timestamp: "2026-12-04T09:30:00.250Z". */
static void
rfc3339(long long ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char day[32];

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lldZ", day, ms % 1000);
}

static int
teardown(void **state)
{
	receiver_stop();
	example_stop();
	return h_teardown(state);
}

#define W_TEST(fn) cmocka_unit_test_setup_teardown(fn, h_setup, teardown)

/*
 * Assignments, feedback and a slack endpoint: every request signed (the
 * standardwebhooks package verifies it), bodies as the contract says,
 * a rep filter, nothing pending at the end; the secret in no log and no
 * metric.
 */
static void
test_signed_delivery(void **state)
{
	struct h_fx *f = *state;
	json_t *all, *crm, *chat, *only, *b, *data, *o;
	char *conf, *metrics = NULL, ts[40], *log, path[700];
	size_t i;
	int types[5] = {0};
	static const char *const want[] = {"lead.assigned", "lead.followed_up",
	    "lead.closed"};

	receiver_start(f);
	example_start(f);
	f->http_port = h_free_port();
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("crm", "/ok/crm", "") ","
	    "{ name = \"example\"; url = \"http://127.0.0.1:@EXAMPLE@/\"; "
	    "secret = \"" SECRET "\"; events = [\"lead.assigned\"]; },"
	    HOOK("chat", "/ok/chat", "format = \"slack\"; events = [\"lead.assigned\"];") ","
	    HOOK("only_b", "/ok/b", "reps = [\"b\"]; events = [\"lead.assigned\"];")));
	h_fx_start(f, 1, conf);
	free(conf);
	push_leads(f->c, "L", 3);
	wait_requests("/ok/crm", 3, 200);
	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"L0\",\"rep\":\"a\"}");
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"L1\",\"rep\":\"b\",\"outcome\":\"won\"}");
	wait_requests("/ok/crm", 5, 200);
	wait_requests("/ok/chat", 3, 200);
	wait_requests("/ok/b", 1, 200);
	assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:crm:due", 0));
	assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:chat:due", 0));
	/* The README's example verified and took all three (204). */
	assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:example:due", 0));
	snprintf(path, sizeof(path), "%s/example.out", f->dir);
	log = h_slurp(path);
	assert_non_null(strstr(log, " lead.assigned L0\n"));
	assert_non_null(strstr(log, " lead.assigned L1\n"));
	assert_non_null(strstr(log, " lead.assigned L2\n"));
	free(log);
	assert_int_equal(h_int(f->c, "LLEN lr:webhooks:dead"), 0);

	all = received();
	json_array_foreach(all, i, o) {
		assert_true(json_is_true(json_object_get(o, "verified")));
		assert_string_equal(h_jstr(o, "method"), "POST");
		assert_string_equal(h_jstr(o, "ctype"), "application/json");
		assert_int_equal(strncmp(h_jstr(o, "id"), "msg_", 4), 0);
	}
	crm = requests_to(all, "/ok/crm");
	assert_int_equal(json_array_size(crm), 5);
	json_array_foreach(crm, i, o) {
		b = body_of(o);
		data = json_object_get(b, "data");
		for (size_t k = 0; k < 3; k++)
			if (strcmp(h_jstr(b, "type"), want[k]) == 0)
				types[k]++;
		if (strcmp(h_jstr(b, "type"), "lead.assigned") == 0) {
			/* The assignment JSON, timed by its assignment. */
			rfc3339(h_jint(data, "assigned_at_ms"), ts, sizeof(ts));
			assert_string_equal(h_jstr(b, "timestamp"), ts);
			assert_string_equal(h_jstr(data, "segment"), "all");
			assert_non_null(json_object_get(data, "lead"));
		} else {
			rfc3339(h_jint(data, "at_ms"), ts, sizeof(ts));
			assert_string_equal(h_jstr(b, "timestamp"), ts);
		}
		if (strcmp(h_jstr(b, "type"), "lead.closed") == 0) {
			assert_string_equal(h_jstr(data, "lead_id"), "L1");
			assert_string_equal(h_jstr(data, "rep"), "b");
			assert_string_equal(h_jstr(data, "outcome"), "won");
		}
		/* One id per event, never twice. */
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(h_jstr(o, "id"),
			    h_jstr(json_array_get(crm, k), "id"));
		json_decref(b);
	}
	assert_int_equal(types[0], 3);
	assert_int_equal(types[1], 1);
	assert_int_equal(types[2], 1);

	chat = requests_to(all, "/ok/chat");
	assert_int_equal(json_array_size(chat), 3);
	json_array_foreach(chat, i, o) {
		b = body_of(o);
		assert_int_equal(json_object_size(b), 1);
		assert_non_null(strstr(h_jstr(b, "text"), "lead.assigned"));
		assert_non_null(strstr(h_jstr(b, "text"), "lead L"));
		json_decref(b);
	}
	only = requests_to(all, "/ok/b");
	assert_int_equal(json_array_size(only), 1);
	b = body_of(json_array_get(only, 0));
	assert_string_equal(h_jstr(json_object_get(b, "data"), "rep"), "b");
	json_decref(b);

	assert_int_equal(h_http_get(f->http_port, "GET", "/metrics", &metrics),
	    200);
	assert_true(h_metric(metrics,
	    "leadrouted_webhook_deliveries_total{endpoint=\"crm\",result=\"ok\"}") == 5);
	assert_true(h_metric(metrics,
	    "leadrouted_webhook_pending{endpoint=\"crm\"}") >= 0);
	assert_true(h_metric(metrics,
	    "leadrouted_webhook_latency_seconds_count{endpoint=\"crm\"}") == 5);
	assert_null(strstr(metrics, SECRET_B64));
	free(metrics);
	h_fx_stop(f);
	log = h_slurp(f->d[0].log);
	assert_null(strstr(log, SECRET_B64));
	free(log);
	json_decref(crm);
	json_decref(chat);
	json_decref(only);
	json_decref(all);
}

/* The bodies of requests to path, parsed, by "type": how many of typ. */
static int
count_type(const json_t *all, const char *path, const char *typ)
{
	json_t *r = requests_to(all, path), *o, *b;
	size_t i;
	int n = 0;

	json_array_foreach(r, i, o) {
		b = body_of(o);
		n += strcmp(h_jstr(b, "type"), typ) == 0;
		json_decref(b);
	}
	json_decref(r);
	return n;
}

/* The data of the first request to path of type typ (a new reference). */
static json_t *
data_of(const json_t *all, const char *path, const char *typ)
{
	json_t *r = requests_to(all, path), *o, *b, *d = NULL;
	size_t i;

	json_array_foreach(r, i, o) {
		b = body_of(o);
		if (d == NULL && strcmp(h_jstr(b, "type"), typ) == 0)
			d = json_incref(json_object_get(b, "data"));
		json_decref(b);
	}
	json_decref(r);
	if (d == NULL)
		fail_msg("no %s to %s", typ, path);
	return d;
}

/*
 * Every event point: a backlogged lead, a rejection (and its nurture),
 * the drain that assigns the waiting lead, an SLA warning, breach and
 * reassignment (from_rep), an escalation; a rep filter that matches the
 * reassignment's from_rep.
 */
static void
test_event_points(void **state)
{
	struct h_fx *f = *state;
	json_t *all, *d;
	char *conf;

	receiver_start(f);
	conf = hooks_body(
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"a\"; segments = [\"all\"]; max_open = 1; },\n"
	    "         { id = \"b\"; segments = [\"all\"]; max_open = 1; } );\n"
	    "sla = { follow_up = 3; warn_before = 1; on_breach = \"reassign\"; "
	    "max_reassign = 1; };\n"
	    "webhooks = (" HOOK("all", "/ok/all", "") ","
	    HOOK("from_a", "/ok/a", "reps = [\"a\"]; events = [\"lead.reassigned\"];")
	    ");\n");
	h_fx_start(f, 1, conf);
	free(conf);
	/* E0 to a, E1 to b, E2 waits; a rejects E0, so E2 goes to a. */
	push_leads(f->c, "E", 3);
	assert_true(h_wait_zcard(f->c, "lr:backlog:all", 1));
	h_event(f->c, "{\"type\":\"rejected\",\"lead_id\":\"E0\",\"rep\":\"a\","
	    "\"reason\":\"no budget\"}");
	assert_true(h_wait_field(f->c, "lr:lead:E2", "status", "assigned"));
	/* b closes E1; E2, not followed up, is warned of, breached and
	 * moved to b, then warned of and breached again: escalated. */
	h_event(f->c, "{\"type\":\"closed\",\"lead_id\":\"E1\",\"rep\":\"b\","
	    "\"outcome\":\"lost\"}");
	wait_requests("/ok/a", 1, 200);
	wait_requests("/ok/all", 13, 200);
	all = received();
	assert_int_equal(count_type(all, "/ok/all", "sla.escalation"), 1);
	assert_int_equal(count_type(all, "/ok/all", "lead.assigned"), 3);
	assert_int_equal(count_type(all, "/ok/all", "lead.backlogged"), 1);
	assert_int_equal(count_type(all, "/ok/all", "lead.rejected"), 1);
	assert_int_equal(count_type(all, "/ok/all", "lead.nurtured"), 1);
	assert_int_equal(count_type(all, "/ok/all", "lead.closed"), 1);
	assert_int_equal(count_type(all, "/ok/all", "sla.warning"), 2);
	assert_int_equal(count_type(all, "/ok/all", "sla.breach"), 2);
	assert_int_equal(count_type(all, "/ok/all", "lead.reassigned"), 1);
	d = data_of(all, "/ok/all", "lead.backlogged");
	assert_string_equal(h_jstr(d, "lead_id"), "E2");
	assert_string_equal(h_jstr(d, "segment"), "all");
	json_decref(d);
	d = data_of(all, "/ok/all", "lead.rejected");
	assert_string_equal(h_jstr(d, "reason"), "no budget");
	assert_string_equal(h_jstr(d, "rep"), "a");
	json_decref(d);
	d = data_of(all, "/ok/all", "lead.nurtured");
	assert_string_equal(h_jstr(d, "reason"), "rejected_by_rep");
	json_decref(d);
	d = data_of(all, "/ok/all", "sla.breach");
	assert_string_equal(h_jstr(d, "type"), "sla_breach");
	assert_string_equal(h_jstr(d, "lead_id"), "E2");
	json_decref(d);
	d = data_of(all, "/ok/a", "lead.reassigned");
	assert_string_equal(h_jstr(d, "lead_id"), "E2");
	assert_string_equal(h_jstr(d, "from_rep"), "a");
	assert_string_equal(h_jstr(d, "rep"), "b");
	json_decref(d);
	h_fx_stop(f);
	json_decref(all);
}

/* Has process pid mapped libcurl? */
static bool
maps_libcurl(pid_t pid)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	assert_non_null(f = fopen(path, "r"));
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, "/libcurl") != NULL;
	fclose(f);
	return found;
}

/*
 * SIGHUP adds an endpoint: events from then on are delivered to it. The
 * daemon loads libcurl only then (README "Webhooks": a daemon without
 * webhooks never maps it).
 */
static void
test_reload_adds_endpoint(void **state)
{
	struct h_fx *f = *state;
	char *conf;
	json_t *all;

	receiver_start(f);
	h_fx_start(f, 1, BODY("0", REPS_AB, ""));
	push_leads(f->c, "B", 1);
	assert_true(h_wait_field(f->c, "lr:lead:B0", "status", "assigned"));
	assert_false(maps_libcurl(f->d[0].pid));
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("late", "/ok/late", "events = [\"lead.assigned\"];")));
	h_fx_conf(f, conf);
	free(conf);
	h_daemon_signal(&f->d[0], SIGHUP);
	(void)h_wait_log(&f->d[0], "loaded (version");
	push_leads(f->c, "A", 1);
	wait_requests("/ok/late", 1, 200);
	all = received();
	assert_int_equal(json_array_size(all), 1);
	json_decref(all);
	assert_true(maps_libcurl(f->d[0].pid));
	h_fx_stop(f);
}

/*
 * redis.replica_acks = 1 with no replica: a delivery goes out only after
 * WAIT (its timeout, 1.5 s here) answered for the claim, which follows
 * the commit that recorded it, so a webhook never announces what a
 * failover could take back before the replicas had their chance (README
 * "High availability"). The instance that committed is killed before it
 * sends; a fresh one, which committed nothing and so has no commit's
 * WAIT in its pipeline, must still wait before it sends.
 */
static void
test_replica_acks_before_send(void **state)
{
	struct h_fx *f = *state;
	char *body;
	json_t *all;
	long long started, sent;
	struct timespec ts;

	receiver_start(f);
	body = hooks_body(BODY("0", REPS_AB,
	    HOOK("acks", "/ok/acks", "events = [\"lead.assigned\"];")));
	h_fx_conf(f, body);
	free(body);
	h_fx_replica_acks(f, 1500);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0");
	assert_true(h_wait_ready(f->c, 1));
	push_leads(f->c, "W", 1);
	assert_true(h_wait_field(f->c, "lr:lead:W0", "status", "assigned"));
	h_daemon_stop(&f->d[0], SIGKILL);
	all = received();
	assert_int_equal(json_array_size(all), 0);	/* d0 sent nothing */
	json_decref(all);
	clock_gettime(CLOCK_REALTIME, &ts);	/* the receiver's clock */
	started = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	h_daemon_start(&f->d[1], f->conf, f->dir, "d1");
	wait_requests("/ok/acks", 1, 200);
	all = received();
	assert_int_equal(json_array_size(all), 1);
	sent = h_jint(json_array_get(all, 0), "at_ms");
	if (sent - started < 1400)
		fail_msg("delivered %lld ms after the second instance started: before WAIT's 1500 ms ran out",
		    sent - started);
	json_decref(all);
	h_fx_stop(f);
}

/*
 * replica_acks = 1 with no replica, a WAIT timeout of 11 s and two
 * endpoints that want the same assignment: both claim it at their next
 * poll, one after the other on the sender's connection, and each claim
 * needs a WAIT. Two WAITs queued there would each have a reply deadline
 * counted from when it was sent (its timeout and 10 s), and the second,
 * answering after the first's whole timeout and its own, would pass it:
 * the watchdog would drop the connection. One WAIT is in the air per
 * connection; the next answers the second claim's wait.
 */
static void
test_replica_acks_one_wait(void **state)
{
	struct h_fx *f = *state;
	char *conf;

	receiver_start(f);
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("w1", "/ok/w1", "events = [\"lead.assigned\"];") ","
	    HOOK("w2", "/ok/w2", "events = [\"lead.assigned\"];")));
	h_fx_conf(f, conf);
	free(conf);
	h_fx_replica_acks(f, 11000);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0");
	assert_true(h_wait_ready(f->c, 1));
	push_leads(f->c, "Q", 1);
	assert_true(h_wait_field(f->c, "lr:lead:Q0", "status", "assigned"));
	h_sleep_ms(11000 * 2 + 3000);
	assert_int_equal(h_log_count(&f->d[0], "(watchdog)"), 0);
	wait_requests("/ok/w1", 1, 200);
	wait_requests("/ok/w2", 1, 200);
	h_fx_stop(f);
}

/*
 * replica_acks = 1 with no replica and four endpoints that never answer
 * (a closed port): every claim is followed by a WAIT of the whole timeout.
 * Those WAITs go on the webhook sender's own connection, so the commits
 * and the heartbeat are not held up behind them: the instance keeps its
 * lease and routes every lead.
 */
static void
test_replica_acks_keep_lease(void **state)
{
	struct h_fx *f = *state;
	char body[4096], hooks[2048] = "", one[300], id[16];

	for (int i = 0; i < 4; i++) {
		snprintf(one, sizeof(one), "%s{ name = \"w%d\"; "
		    "url = \"http://127.0.0.1:9/\"; format = \"slack\"; "
		    "max_attempts = 1000; max_backoff = 1; }", i ? "," : "", i);
		strcat(hooks, one);
	}
	snprintf(body, sizeof(body), BODY("0", REPS_AB, "%s"), hooks);
	h_fx_conf(f, body);
	h_fx_replica_acks(f, 1000);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0");
	assert_true(h_wait_ready(f->c, 1));
	for (int k = 0; k < 40; k++) {
		snprintf(id, sizeof(id), "L%d", k);
		push_leads(f->c, id, 1);
		h_sleep_ms(250);
	}
	assert_true(h_wait_field(f->c, "lr:lead:L390", "status", "assigned"));
	h_sleep_ms(2000);
	assert_int_equal(h_log_count(&f->d[0], "lease ran out"), 0);
	assert_int_equal(h_int(f->c, "SCARD lr:rep:a:open") +
	    h_int(f->c, "SCARD lr:rep:b:open"), 40);
	h_fx_stop(f);
}

/*
 * Deliveries that succeed close together are reported in one whdone call
 * (a script call costs Redis ~50 us before its first command): 40
 * deliveries to an endpoint that answers after 50 ms, 8 in the air at
 * once, need fewer whdone calls than deliveries; every delivery is
 * reported exactly once, and nothing is left pending or sent twice.
 */
static void
test_done_batched(void **state)
{
	struct h_fx *f = *state;
	redisContext *mon;
	redisReply *r;
	json_t *seen = json_object(), *got, *all;
	const char *p, *e;
	char id[128], *conf;
	int calls = 0, items = 0;
	const int n = 40;

	receiver_start(f);
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("slow", "/slow/50", "events = [\"lead.assigned\"];")));
	h_fx_start(f, 1, conf);
	free(conf);
	mon = h_redis_connect(&f->redis);
	freeReplyObject(h_cmd(mon, "MONITOR"));
	push_leads(f->c, "B", n);
	wait_requests("/slow/50", (size_t)n, 200);
	assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:slow:due", 0));
	freeReplyObject(h_cmd(f->c, "ECHO end-of-deliveries"));
	for (;;) {
		assert_int_equal(redisGetReply(mon, (void **)&r), REDIS_OK);
		assert_int_equal(r->type, REDIS_REPLY_STATUS);
		if (strstr(r->str, "\"end-of-deliveries\"") != NULL) {
			freeReplyObject(r);
			break;
		}
		/* "whdone" "lr:" "slow" then "<id>" "<status>" pairs */
		if (strstr(r->str, "[0 lua]") == NULL &&
		    (p = strstr(r->str, "\"whdone\" \"lr:\" \"slow\"")) != NULL) {
			calls++;
			p += strlen("\"whdone\" \"lr:\" \"slow\"");
			while ((p = strchr(p, '"')) != NULL &&
			    (e = strchr(p + 1, '"')) != NULL) {
				snprintf(id, sizeof(id), "%.*s",
				    (int)(e - p - 1), p + 1);
				assert_int_equal(strncmp(id, "msg_", 4), 0);
				assert_null(json_object_get(seen, id));
				json_object_set_new(seen, id, json_true());
				items++;
				p = strchr(e + 1, '"');	/* the status */
				assert_non_null(p);
				assert_non_null(e = strchr(p + 1, '"'));
				assert_int_equal(atoi(p + 1), 200);
				p = e + 1;
			}
		}
		freeReplyObject(r);
	}
	redisFree(mon);
	assert_int_equal(items, n);
	if (calls >= n)
		fail_msg("%d whdone calls for %d deliveries: none batched",
		    calls, n);
	got = received();
	all = requests_to(got, "/slow/50");
	assert_int_equal(json_array_size(all), n);	/* none sent twice */
	json_decref(all);
	json_decref(got);
	json_decref(seen);
	assert_int_equal(h_int(f->c, "HLEN lr:webhook:slow:bodies"), 0);
	h_fx_stop(f);
}

/*
 * retention.webhooks_dead_max = 2 and an endpoint that answers 404 (each
 * delivery dead at once): of 5 dead deliveries lr:webhooks:dead keeps
 * the newest 2; the 3 dropped are counted in /metrics and logged.
 */
static void
test_dead_capped(void **state)
{
	struct h_fx *f = *state;
	char *conf, *metrics = NULL, *both;
	json_t *dl;
	size_t i, n;
	json_t *o;

	receiver_start(f);
	f->http_port = h_free_port();
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("gone", "/always/404", "events = [\"lead.assigned\"];")));
	assert_non_null(both = malloc(strlen(conf) + 64));
	sprintf(both, "%sretention = { webhooks_dead_max = 2; };\n", conf);
	h_fx_start(f, 1, both);
	free(both);
	free(conf);
	for (int k = 0; k < 5; k++) {
		char id[16];

		/* one at a time: each death sees the list as the last left it */
		snprintf(id, sizeof(id), "G%d", k);
		push_leads(f->c, id, 1);
		wait_requests("/always/404", (size_t)k + 1, 404);
		assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:gone:due",
		    0));
	}
	assert_int_equal(h_int(f->c, "LLEN lr:webhooks:dead"), 2);
	dl = h_list_json(f->c, "lr:webhooks:dead");
	n = 0;
	json_array_foreach(dl, i, o) {
		/* the newest two: the leads pushed last */
		const char *body = h_jstr(o, "body");

		assert_string_equal(h_jstr(o, "endpoint"), "gone");
		if (strstr(body, "\"G40\"") != NULL ||
		    strstr(body, "\"G30\"") != NULL)
			n++;
	}
	assert_int_equal(n, 2);
	json_decref(dl);
	assert_int_equal(h_http_get(f->http_port, "GET", "/metrics", &metrics),
	    200);
	assert_true(h_metric(metrics,
	    "leadrouted_webhook_dead_dropped_total") == 3);
	free(metrics);
	assert_true(h_log_count(&f->d[0],
	    "the oldest beyond retention.webhooks_dead_max") >= 1);
	h_fx_stop(f);
}

/* The gaps between the attempts of requests (one webhook-id). */
static long long
gap(const json_t *reqs, size_t i)
{
	return h_jint(json_array_get(reqs, i), "at_ms") -
	    h_jint(json_array_get(reqs, i - 1), "at_ms");
}

/* The dead entry of endpoint name in lr:webhooks:dead, or fail. */
static json_t *
dead_of(redisContext *c, const char *name)
{
	json_t *all = h_list_json(c, "lr:webhooks:dead"), *o, *hit = NULL;
	size_t i;

	json_array_foreach(all, i, o)
		if (strcmp(h_jstr(o, "endpoint"), name) == 0) {
			assert_null(hit);
			hit = json_incref(o);
		}
	json_decref(all);
	if (hit == NULL)
		fail_msg("no dead delivery of '%s'", name);
	return hit;
}

/*
 * 503 twice, then 200: three attempts, one webhook-id, growing gaps from
 * 1 s. 429 with Retry-After: 2: the next attempt waits 2 s. An endpoint
 * that never answers: retried after its timeout, dead after
 * max_attempts. 404 and a redirect: dead at once, the redirect not
 * followed. One log line per dead delivery.
 */
static void
test_retries_and_dead(void **state)
{
	struct h_fx *f = *state;
	json_t *all, *r, *dl, *b;
	char *conf;
	const char *id;

	receiver_start(f);
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("flaky", "/fail/2/503", "events = [\"lead.assigned\"]; max_attempts = 5;") ","
	    HOOK("limited", "/retry-after/1/2", "events = [\"lead.assigned\"];") ","
	    HOOK("hangs", "/hang", "events = [\"lead.assigned\"]; timeout = 1; max_attempts = 2;") ","
	    HOOK("gone", "/always/404", "events = [\"lead.assigned\"];") ","
	    HOOK("moved", "/always/302", "events = [\"lead.assigned\"];")));
	h_fx_start(f, 1, conf);
	free(conf);
	push_leads(f->c, "R", 1);
	wait_requests("/fail/2/503", 3, 0);
	wait_requests("/retry-after/1/2", 2, 0);
	assert_true(h_wait_llen(f->c, "lr:webhooks:dead", 3));
	all = received();

	r = requests_to(all, "/fail/2/503");
	assert_int_equal(json_array_size(r), 3);
	id = h_jstr(json_array_get(r, 0), "id");
	assert_string_equal(h_jstr(json_array_get(r, 1), "id"), id);
	assert_string_equal(h_jstr(json_array_get(r, 2), "id"), id);
	assert_true(gap(r, 1) >= 900);
	assert_true(gap(r, 2) >= 1800);
	assert_true(gap(r, 2) > gap(r, 1));
	json_decref(r);

	r = requests_to(all, "/retry-after/1/2");
	assert_int_equal(json_array_size(r), 2);
	assert_true(gap(r, 1) >= 1900);
	json_decref(r);

	r = requests_to(all, "/hang");
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(h_jstr(json_array_get(r, 1), "id"),
	    h_jstr(json_array_get(r, 0), "id"));
	dl = dead_of(f->c, "hangs");
	assert_int_equal(h_jint(dl, "attempts"), 2);
	assert_int_equal(h_jint(dl, "last_status"), 0);
	assert_non_null(strstr(h_jstr(dl, "last_error"), "timed out"));
	json_decref(dl);
	json_decref(r);

	r = requests_to(all, "/always/404");
	assert_int_equal(json_array_size(r), 1);
	dl = dead_of(f->c, "gone");
	assert_int_equal(h_jint(dl, "attempts"), 1);
	assert_int_equal(h_jint(dl, "last_status"), 404);
	assert_string_equal(h_jstr(dl, "webhook_id"),
	    h_jstr(json_array_get(r, 0), "id"));
	assert_string_equal(h_jstr(dl, "type"), "lead.assigned");
	assert_string_equal(h_jstr(dl, "body"),
	    h_jstr(json_array_get(r, 0), "body"));
	assert_true(h_jint(dl, "at_ms") > 0);
	b = body_of(json_array_get(r, 0));
	assert_string_equal(h_jstr(json_object_get(b, "data"), "lead_id"), "R0");
	json_decref(b);
	json_decref(dl);
	json_decref(r);

	/* The redirect's target (/ok) was never asked. */
	r = requests_to(all, "/always/302");
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);
	r = requests_to(all, "/ok");
	assert_int_equal(json_array_size(r), 0);
	json_decref(r);
	dl = dead_of(f->c, "moved");
	assert_int_equal(h_jint(dl, "attempts"), 1);
	assert_int_equal(h_jint(dl, "last_status"), 302);
	json_decref(dl);

	assert_int_equal(h_log_count(&f->d[0], "dead after"), 3);
	assert_int_equal(h_int(f->c, "ZCARD lr:webhook:flaky:due"), 0);
	assert_int_equal(h_int(f->c, "ZCARD lr:webhook:gone:due"), 0);
	h_fx_stop(f);
	json_decref(all);
}

/* Run build/test/leadctl -c f->conf with args (NULL-terminated); its exit
 * status, its stdout in *out (malloc'd). */
static int
leadctl(struct h_fx *f, char **out, ...)
{
	const char *argv[16] = {"build/test/leadctl", "-c", f->conf};
	char path[700], err[700], *e;
	va_list ap;
	int n = 3, rc;

	va_start(ap, out);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	snprintf(path, sizeof(path), "%s/leadctl.out", f->dir);
	snprintf(err, sizeof(err), "%s/leadctl.err", f->dir);
	h_write_file(path, "");
	rc = h_reap(h_spawn(argv, NULL, path, err), "leadctl");
	e = h_slurp(err);
	assert_null(strstr(e, "Sanitizer"));
	free(e);
	*out = h_slurp(path);
	return rc;
}

/*
 * A 404 ends a delivery at once; leadctl webhooks shows it dead, and
 * leadctl webhooks redeliver sends it again under the same webhook-id,
 * after which it leaves the dead list.
 */
static void
test_redeliver(void **state)
{
	struct h_fx *f = *state;
	json_t *all, *r, *list, *e;
	char *conf, *out;

	receiver_start(f);
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("crm", "/fail/1/404", "events = [\"lead.assigned\"];")));
	h_fx_start(f, 1, conf);
	free(conf);
	push_leads(f->c, "D", 1);
	assert_true(h_wait_llen(f->c, "lr:webhooks:dead", 1));
	assert_int_equal(leadctl(f, &out, "--json", "webhooks", NULL), 0);
	list = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 1);
	e = json_array_get(list, 0);
	assert_string_equal(h_jstr(e, "endpoint"), "crm");
	assert_int_equal(h_jint(e, "dead"), 1);
	assert_int_equal(h_jint(e, "pending"), 0);
	assert_int_equal(h_jint(e, "last_status"), 404);
	assert_string_equal(h_jstr(e, "last_error"), "HTTP 404");
	json_decref(list);
	assert_int_equal(leadctl(f, &out, "webhooks", NULL), 0);
	assert_non_null(strstr(out, "crm"));
	assert_null(strstr(out, SECRET_B64));
	free(out);
	assert_int_equal(leadctl(f, &out, "webhooks", "redeliver", "nosuch",
	    NULL), 1);
	free(out);

	assert_int_equal(leadctl(f, &out, "webhooks", "redeliver", "crm", NULL),
	    0);
	assert_non_null(strstr(out, "1 dead deliveries of 'crm' requeued"));
	free(out);
	wait_requests("/fail/1/404", 2, 0);
	assert_true(h_wait_llen_at_most(f->c, "lr:webhooks:dead", 0));
	all = received();
	r = requests_to(all, "/fail/1/404");
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(h_jstr(json_array_get(r, 1), "id"),
	    h_jstr(json_array_get(r, 0), "id"));
	assert_string_equal(h_jstr(json_array_get(r, 1), "body"),
	    h_jstr(json_array_get(r, 0), "body"));
	assert_int_equal(h_jint(json_array_get(r, 1), "status"), 200);
	assert_true(json_is_true(json_object_get(json_array_get(r, 1),
	    "verified")));
	assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:crm:due", 0));
	h_fx_stop(f);
	json_decref(r);
	json_decref(all);
}

/*
 * https verifies the certificate: an endpoint whose certificate no CA of
 * the system's store signed gets no request, and the delivery fails with
 * the reason.
 */
static void
test_https_verifies_certificate(void **state)
{
	struct h_fx *f = *state;
	json_t *all, *dl;
	char *conf;

	receiver_start_as(f, true);
	conf = hooks_body(BODY("0", REPS_AB,
	    "{ name = \"tls\"; url = \"https://127.0.0.1:@PORT@/ok\"; "
	    "secret = \"" SECRET "\"; max_attempts = 1; }"));
	h_fx_start(f, 1, conf);
	free(conf);
	push_leads(f->c, "C", 1);
	assert_true(h_wait_llen(f->c, "lr:webhooks:dead", 1));
	dl = dead_of(f->c, "tls");
	assert_int_equal(h_jint(dl, "last_status"), 0);
	assert_non_null(strstr(h_jstr(dl, "last_error"), "certificate"));
	json_decref(dl);
	all = received();
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);
	h_fx_stop(f);
}

/* The ids of the requests with status 200, how many distinct. */
static size_t
distinct_ok(const json_t *reqs, size_t *dups)
{
	size_t i, k, n = 0;
	json_t *o;
	bool seen;

	*dups = 0;
	json_array_foreach(reqs, i, o) {
		if (h_jint(o, "status") != 200)
			continue;
		seen = false;
		for (k = 0; k < i && !seen; k++)
			seen = h_jint(json_array_get(reqs, k), "status") == 200 &&
			    strcmp(h_jstr(json_array_get(reqs, k), "id"),
			    h_jstr(o, "id")) == 0;
		if (seen)
			(*dups)++;
		else
			n++;
	}
	return n;
}

/*
 * kill -9 while 200 deliveries are pending: a new instance delivers
 * every one (those the dead one had leased after their lease).
 */
static void
test_kill9_loses_none(void **state)
{
	struct h_fx *f = *state;
	json_t *all;
	char *conf;
	size_t dups;

	receiver_start(f);
	conf = hooks_body(BODY("1", REPS_AB,
	    HOOK("mkt", "/slow/40", "events = [\"lead.nurtured\"]; timeout = 1;")));
	h_fx_start(f, 1, conf);
	free(conf);
	push_leads(f->c, "K", 200);
	wait_requests("/slow/40", 10, 0);
	h_daemon_stop(&f->d[0], SIGKILL);
	assert_true(h_int(f->c, "ZCARD lr:webhook:mkt:due") > 100);
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0-again");
	assert_true(h_wait_ready(f->c, 1));
	assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:mkt:due", 0));
	all = received();
	assert_int_equal(distinct_ok(all, &dups), 200);
	assert_true(dups <= 8);	/* at most the leased ones, sent again */
	h_fx_stop(f);
	json_decref(all);
}

/*
 * A graceful stop gives back the deliveries in the air: due at once, not
 * leased for the endpoint's timeout, and the next instance sends them.
 */
static void
test_sigterm_gives_back(void **state)
{
	struct h_fx *f = *state;
	redisReply *r;
	long long now;
	char *conf;

	receiver_start(f);
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("crm", "/hang-once", "events = [\"lead.assigned\"]; timeout = 60;")));
	h_fx_start(f, 1, conf);
	free(conf);
	push_leads(f->c, "G", 3);
	wait_requests("/hang-once", 3, 0);
	assert_int_equal(h_daemon_stop(&f->d[0], SIGTERM), 0);
	h_assert_log_clean(&f->d[0]);
	/* Leased, they would be due a minute from now. */
	now = h_redis_time_ms(f->c);
	r = h_cmd(f->c, "ZRANGEBYSCORE lr:webhook:crm:due -inf %lld", now);
	assert_int_equal(r->elements, 3);
	freeReplyObject(r);
	h_daemon_start(&f->d[1], f->conf, f->dir, "d1");
	wait_requests("/hang-once", 3, 200);
	assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:crm:due", 0));
	h_fx_stop(f);
}

/* The successful deliveries daemon d made (its /metrics on port). */
static double
delivered_by(int port)
{
	char *m = NULL;
	double v;

	assert_int_equal(h_http_get(port, "GET", "/metrics", &m), 200);
	v = h_metric(m, "leadrouted_webhook_deliveries_total{endpoint=\"mkt\","
	    "result=\"ok\"}");
	free(m);
	return v;
}

/*
 * Two instances share the work: every event delivered, each once, and
 * each instance made some of the deliveries (its own /metrics say).
 */
static void
test_two_instances(void **state)
{
	struct h_fx *f = *state;
	json_t *all;
	char *conf, *text, *second, from[64], to[64], path[700];
	size_t dups;
	int port2 = h_free_port();
	double a, b;

	receiver_start(f);
	f->http_port = h_free_port();
	conf = hooks_body(BODY("1", REPS_AB,
	    HOOK("mkt", "/slow/100", "events = [\"lead.nurtured\"];")));
	h_fx_start(f, 1, conf);
	free(conf);
	/* The second instance: the same configuration, its own HTTP port. */
	text = h_slurp(f->conf);
	snprintf(from, sizeof(from), "127.0.0.1:%d", f->http_port);
	snprintf(to, sizeof(to), "127.0.0.1:%d", port2);
	second = replace(text, from, to);
	snprintf(path, sizeof(path), "%s/second.conf", f->dir);
	h_write_file(path, second);
	free(text);
	free(second);
	h_daemon_start(&f->d[1], path, f->dir, "d1");
	assert_true(h_wait_ready(f->c, 2));
	push_leads(f->c, "T", 200);
	wait_requests("/slow/100", 200, 200);
	assert_true(h_wait_zcard_at_most(f->c, "lr:webhook:mkt:due", 0));
	all = received();
	assert_int_equal(distinct_ok(all, &dups), 200);
	assert_int_equal(dups, 0);
	a = delivered_by(f->http_port);
	b = delivered_by(port2);
	print_message("two instances: %.0f and %.0f deliveries\n", a, b);
	assert_true(a > 0 && b > 0);
	assert_true(a + b == 200);
	h_fx_stop(f);
	json_decref(all);
}

/* Push n MQLs and wait until all are assigned; the time it took (ms). */
static long long
route_all(struct h_fx *f, int n)
{
	char want[16];
	long long t0 = h_now_ms();

	push_leads(f->c, "S", n);
	snprintf(want, sizeof(want), "%d", n);
	if (!h_wait_field(f->c, "lr:stats", "valid", want)) {
		/* h_wait_field's bound is short for a slow machine: wait more */
		long long end = h_now_ms() + 60000;
		char *v = NULL;

		while (h_now_ms() < end) {
			free(v);
			v = h_str(f->c, "HGET lr:stats valid");
			if (v != NULL && strcmp(v, want) == 0)
				break;
			h_sleep_ms(50);
		}
		assert_non_null(v);
		assert_string_equal(v, want);
		free(v);
	}
	return h_now_ms() - t0;
}

/*
 * An endpoint that never answers does not slow routing: 2,000 leads are
 * routed in about the time they take without webhooks, their deliveries
 * wait in Redis, and the daemon's memory stays bounded.
 */
static void
test_hanging_endpoint(void **state)
{
	struct h_fx *f = *state;
	long long plain, hooked;
	long rss_plain, rss_hooked;
	char *conf;

	receiver_start(f);
	h_fx_start(f, 1, BODY("0", REPS_AB, ""));
	plain = route_all(f, 2000);
	rss_plain = h_daemon_rss_kb(&f->d[0]);
	h_fx_stop(f);
	freeReplyObject(h_cmd(f->c, "FLUSHALL"));
	conf = hooks_body(BODY("0", REPS_AB,
	    HOOK("stuck", "/hang", "timeout = 10;")));
	h_fx_start(f, 1, conf);
	free(conf);
	hooked = route_all(f, 2000);
	rss_hooked = h_daemon_rss_kb(&f->d[0]);
	print_message("2000 leads: %lld ms without webhooks, %lld ms with a hanging endpoint; RSS %ld KiB, %ld KiB\n",
	    plain, hooked, rss_plain, rss_hooked);
	assert_true(hooked < 3 * plain + 5000);
	assert_true(h_int(f->c, "ZCARD lr:webhook:stuck:due") >= 2000);
	assert_true(h_int(f->c, "HLEN lr:webhook:stuck:bodies") >= 2000);
	assert_true(rss_hooked < rss_plain + 64 * 1024);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		W_TEST(test_signed_delivery),
		W_TEST(test_done_batched),
		W_TEST(test_dead_capped),
		W_TEST(test_retries_and_dead),
		W_TEST(test_redeliver),
		W_TEST(test_https_verifies_certificate),
		W_TEST(test_event_points),
		W_TEST(test_reload_adds_endpoint),
		W_TEST(test_replica_acks_before_send),
		W_TEST(test_replica_acks_keep_lease),
		W_TEST(test_replica_acks_one_wait),
		W_TEST(test_kill9_loses_none),
		W_TEST(test_two_instances),
		W_TEST(test_sigterm_gives_back),
		W_TEST(test_hanging_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
