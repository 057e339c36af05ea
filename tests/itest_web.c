/* itest_web.c - the ops page in headless Chromium, the read API and its alert stream, authentication, hostile requests and the Grafana dashboard's metric names, against a real redis-server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Two segments, two reps (ann serves both), a 3 s SLA with a warning. */
static const char *web_body =
    "scoring = { mql_threshold = 10; rules = ( { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; } ); };\n"
    "segments = ( { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
    "  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 100; } );\n"
    "default_segment = \"small\";\n"
    "reps = ( { id = \"ann\"; name = \"Ann Lee\"; segments = [\"small\", \"large\"]; max_open = 5; },\n"
    "  { id = \"kim\"; segments = [\"large\"]; max_open = 3; } );\n"
    "sla = { follow_up = 3; warn_before = 1; };\n";

/* The same with a 2 s SLA. */
static const char *fast_body =
    "scoring = { mql_threshold = 10; rules = ( { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; } ); };\n"
    "segments = ( { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
    "  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 100; } );\n"
    "default_segment = \"small\";\n"
    "reps = ( { id = \"ann\"; name = \"Ann Lee\"; segments = [\"small\", \"large\"]; max_open = 5; },\n"
    "  { id = \"kim\"; segments = [\"large\"]; max_open = 3; } );\n"
    "sla = { follow_up = 2; warn_before = 1; };\n";

static void
push_lead(redisContext *c, const char *id, int employees)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"email\":\"%s@example.com\","
	    "\"employees\":%d,\"activity\":{\"demo_request\":true}}", id, id,
	    employees);
	h_push_lead(c, buf);
}

/* Start one daemon serving HTTP on body (NULL: web_body); auth:
 * "user:password" lines or NULL. */
static void
start_web_body(struct h_fx *f, const char *auth, const char *body)
{
	char path[700], *conf, *at, *out;
	size_t n;

	f->http_port = h_free_port();
	h_fx_conf(f, body != NULL ? body : web_body);
	if (auth != NULL) {
		snprintf(path, sizeof(path), "%s/users", f->dir);
		h_write_file(path, auth);
		conf = h_slurp(f->conf);
		assert_non_null(at = strstr(conf, "\"; };"));
		n = strlen(conf) + strlen(path) + 64;
		assert_non_null(out = malloc(n));
		snprintf(out, n, "%.*s\"; auth_file = \"%s\"; };%s",
		    (int)(at - conf), conf, path, at + 5);
		h_write_file(f->conf, out);
		free(out);
		free(conf);
	}
	h_daemon_start(&f->d[0], f->conf, f->dir, "d0");
	assert_true(h_wait_ready(f->c, 1));
}

static void
start_web(struct h_fx *f, const char *auth)
{
	start_web_body(f, auth, NULL);
}

/* --- raw HTTP ------------------------------------------------------------- */

static int
http_connect(int port)
{
	struct sockaddr_in sin;
	struct timeval tv = {10, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void
send_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, s, len);
		if (n <= 0)
			return;		/* the server may close on us: fine */
		s += n;
		len -= (size_t)n;
	}
}

/*
 * Send a request (method, path, extra header lines ending in \r\n or "")
 * and read the whole answer (HTTP/1.0: the server closes). The status,
 * or -1; *head and *body (NULL: not wanted) get copies.
 */
static int
http_req(int port, const char *method, const char *path, const char *hdrs,
    char **head, char **body)
{
	size_t rlen = strlen(method) + strlen(path) + strlen(hdrs) + 64;
	char *req = malloc(rlen);
	int fd = http_connect(port);

	assert_non_null(req);
	snprintf(req, rlen, "%s %s HTTP/1.0\r\nHost: x\r\n%s\r\n",
	    method, path, hdrs);
	send_all(fd, req, strlen(req));
	free(req);
	return h_http_answer(fd, head, body);
}

static json_t *
get_json(int port, const char *path, const char *hdrs)
{
	char *body;
	json_t *j;

	assert_int_equal(http_req(port, "GET", path, hdrs, NULL, &body), 200);
	j = json_loads(body, JSON_DECODE_ANY, NULL);
	if (j == NULL)
		fail_msg("%s: not JSON: %s", path, body);
	free(body);
	return j;
}

static int
status_of(int port, const char *method, const char *path)
{
	return http_req(port, method, path, "", NULL, NULL);
}

/* --- the page in Chromium and the stream through eventsource -------------- */

/* Run tests/browser/web.mjs MODE against f; 0 when it passed. With sync,
 * restart redis when the script asks (mode "sse"). */
static int
run_node(struct h_fx *f, const char *mode, bool sync, const char *auth)
{
	char url[64], port[16], out[700], flag[700], done[700];
	const char *argv[] = {"node", "tests/browser/web.mjs", mode, NULL};
	pid_t pid;
	int rc;
	char *log;

	/* Under valgrind (make test-valgrind) the daemon is 20-50 times
	 * slower than the page's 2 s promises: the browser and SSE client
	 * runs are for make test. */
	if (getenv("LR_VALGRIND_DIR") != NULL) {
		print_message("skipped under valgrind: node tests/browser/web.mjs %s\n",
		    mode);
		return 0;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->http_port);
	snprintf(port, sizeof(port), "%d", f->redis.port);
	snprintf(out, sizeof(out), "%s/node-%s.log", f->dir, mode);
	snprintf(flag, sizeof(flag), "%s/restart", f->dir);
	snprintf(done, sizeof(done), "%s/restarted", f->dir);
	setenv("LR_URL", url, 1);
	setenv("LR_REDIS_PORT", port, 1);
	setenv("LR_SHOT", "build/test/web-page.png", 1);
	setenv("LR_SYNC", f->dir, 1);
	setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1", 1);
	if (auth != NULL)
		setenv("LR_AUTH", auth, 1);
	else
		unsetenv("LR_AUTH");
	pid = h_spawn(argv, NULL, out, NULL);
	if (sync) {
		long long end = h_now_ms() + H_WAIT_MS;
		struct stat st;

		while (stat(flag, &st) != 0 && h_now_ms() < end &&
		    kill(pid, 0) == 0)
			h_sleep_ms(50);
		if (stat(flag, &st) == 0) {
			redisFree(f->c);
			h_redis_stop(&f->redis, SIGTERM);
			h_sleep_ms(300);	/* the daemon sees it gone */
			h_redis_restart(&f->redis);
			f->c = h_redis_connect(&f->redis);
			h_write_file(done, "");
		}
	}
	rc = h_reap(pid, "node tests/browser/web.mjs");
	log = h_slurp(out);
	printf("%s", log);
	free(log);
	return rc;
}

static void
test_page_in_chromium(void **state)
{
	struct h_fx *f = *state;

	/* Behind Basic authentication, as a real deployment would be. */
	start_web(f, "ops:s3cret\n");
	assert_int_equal(run_node(f, "page", false, "ops:s3cret"), 0);
	h_fx_stop(f);
}

/* 1,000 open assignments on one rep, a long SLA. */
static const char *load_body =
    "scoring = { mql_threshold = 10; rules = ( { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; } ); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = ( { id = \"bulk\"; segments = [\"all\"]; max_open = 2000; } );\n"
    "sla = { follow_up = 600; };\n";

static void
test_page_thousand_open(void **state)
{
	struct h_fx *f = *state;

	f->http_port = h_free_port();
	h_fx_start(f, 1, load_body);
	assert_int_equal(run_node(f, "load", false, NULL), 0);
	h_fx_stop(f);
}

static void
test_stream_eventsource(void **state)
{
	struct h_fx *f = *state;

	/* A 2 s SLA: each lead fires a warning and a breach within 2 s. */
	start_web_body(f, NULL, fast_body);
	assert_int_equal(run_node(f, "sse", true, NULL), 0);
	h_fx_stop(f);
}

/* --- the JSON endpoints against Redis state -------------------------------- */

static json_t *
find_by(json_t *arr, const char *k, const char *v)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		if (strcmp(h_jstr(o, k), v) == 0)
			return o;
	fail_msg("no %s=%s", k, v);
	return NULL;
}

/*
 * A segment whose only rep is off shift has no room, whatever the rep's
 * limits leave (contract section 12: what its eligible reps can take).
 */
static void
test_off_shift_room(void **state)
{
	static const char *const days[] = {"sun", "mon", "tue", "wed", "thu",
	    "fri", "sat"};
	struct h_fx *f = *state;
	char body[2048];
	json_t *st, *o;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);	/* open only on another weekday than today */
	snprintf(body, sizeof(body),
	    "scoring = { mql_threshold = 10; rules = ( { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; } ); };\n"
	    "segments = ( { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; } );\n"
	    "default_segment = \"small\";\n"
	    "reps = ( { id = \"kim\"; segments = [\"small\"]; max_open = 3; calendar = \"week\"; } );\n"
	    "sla = { follow_up = 3; warn_before = 1; };\n"
	    "calendars = ( { name = \"week\"; timezone = \"UTC\";\n"
	    "  hours = { %s = [\"00:00-24:00\"]; }; } );\n",
	    days[(tm.tm_wday + 3) % 7]);
	start_web_body(f, NULL, body);
	push_lead(f->c, "g1", 10);
	assert_true(h_wait_field(f->c, "lr:lead:g1", "status", "backlog"));
	st = get_json(f->http_port, "/v1/status", "");
	o = find_by(json_object_get(st, "reps"), "id", "kim");
	assert_non_null(o);
	assert_true(json_is_false(json_object_get(o, "on_shift")));
	o = find_by(json_object_get(st, "segments"), "name", "small");
	assert_non_null(o);
	assert_int_equal(h_jint(o, "backlog"), 1);
	assert_true(json_number_value(json_object_get(o, "room")) == 0);
	json_decref(st);
	h_fx_stop(f);
}

static void
test_json_endpoints(void **state)
{
	struct h_fx *f = *state;
	json_t *st, *sla, *o, *items, *al, *lead;
	char *body;
	size_t i;

	start_web_body(f, NULL, fast_body);
	/* 9 MQLs: small -> ann (5 max), large -> kim first (fewest open). */
	for (int k = 0; k < 4; k++) {
		char id[16];

		snprintf(id, sizeof(id), "s%d", k);
		push_lead(f->c, id, 10);
		snprintf(id, sizeof(id), "l%d", k);
		push_lead(f->c, id, 500);
	}
	push_lead(f->c, "s4", 10);
	assert_true(h_wait_llen(f->c, "lr:incoming", 0));
	/* 9 MQLs, 8 slots: one waits in a backlog. */
	{
		long long end = h_now_ms() + H_WAIT_MS;

		while (h_int(f->c, "ZCARD lr:backlog:small") +
		    h_int(f->c, "ZCARD lr:backlog:large") < 1 &&
		    h_now_ms() < end)
			h_sleep_ms(20);
	}

	st = get_json(f->http_port, "/v1/status", "");
	o = find_by(json_object_get(st, "reps"), "id", "ann");
	assert_int_equal(h_jint(o, "open"), h_int(f->c, "SCARD lr:rep:ann:open"));
	assert_int_equal(h_jint(o, "max_open"), 5);
	assert_string_equal(h_jstr(o, "name"), "Ann Lee");
	assert_true(json_is_true(json_object_get(o, "on_shift")));
	assert_string_equal(h_jstr(o, "status"), "available");
	o = find_by(json_object_get(st, "reps"), "id", "kim");
	assert_int_equal(h_jint(o, "open"), h_int(f->c, "SCARD lr:rep:kim:open"));
	assert_int_equal(h_jint(o, "period"), h_int(f->c, "ZCARD lr:rep:kim:window"));
	o = find_by(json_object_get(st, "segments"), "name", "small");
	assert_int_equal(h_jint(o, "backlog"), h_int(f->c, "ZCARD lr:backlog:small"));
	assert_true(json_number_value(json_object_get(o, "room")) >= 0);
	o = find_by(json_object_get(st, "segments"), "name", "large");
	assert_int_equal(h_jint(o, "backlog"), h_int(f->c, "ZCARD lr:backlog:large"));
	/* ann and kim are full (5 + 3 of 9 MQLs): no room anywhere. */
	assert_true(json_number_value(json_object_get(o, "room")) == 0);
	assert_int_equal(h_jint(json_object_get(st, "sla"), "pending"),
	    h_int(f->c, "ZCARD lr:sla:due"));
	assert_int_equal(h_jint(st, "instances"), 1);
	assert_int_equal(h_jint(st, "incoming"), 0);
	assert_int_equal(h_jint(st, "dead"), h_int(f->c, "LLEN lr:dead"));

	/* /v1/sla: every open lead, earliest due first, then a limit. */
	sla = get_json(f->http_port, "/v1/sla", "");
	items = sla;
	assert_true(json_is_array(items));
	assert_int_equal(json_array_size(items),
	    h_int(f->c, "SCARD lr:rep:ann:open") +
	    h_int(f->c, "SCARD lr:rep:kim:open"));
	json_array_foreach(items, i, o) {
		char key[64];

		snprintf(key, sizeof(key), "lr:lead:%s", h_jstr(o, "lead_id"));
		assert_int_equal(h_jint(o, "follow_up_due_ms"),
		    h_int(f->c, "HGET %s follow_up_due_ms", key));
		if (i > 0)
			assert_true(h_jint(o, "follow_up_due_ms") >=
			    h_jint(json_array_get(items, i - 1), "follow_up_due_ms"));
	}
	json_decref(sla);
	sla = get_json(f->http_port, "/v1/sla?limit=2", "");
	assert_int_equal(json_array_size(sla), 2);
	json_decref(sla);
	{
		char *head;

		assert_int_equal(http_req(f->http_port, "GET", "/v1/sla?limit=2",
		    "", &head, NULL), 200);
		assert_non_null(strstr(head, "X-Truncated: true"));
		assert_non_null(strstr(head, "X-Total-Count: 8"));
		free(head);
	}
	assert_int_equal(status_of(f->http_port, "GET", "/v1/sla?limit=0"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/sla?limit=99999"), 400);

	/* /v1/leads/<id>: the record and its receipt; 404; bad ids 400. */
	lead = get_json(f->http_port, "/v1/leads/s0", "");
	assert_string_equal(h_jstr(lead, "status"), "assigned");
	assert_string_equal(h_jstr(lead, "rep"), "ann");
	assert_int_equal(h_jint(lead, "score"), 30);
	assert_int_equal(h_jint(json_object_get(lead, "score_receipt"), "score"), 30);
	assert_int_equal(h_jint(lead, "assigned_at_ms"),
	    h_int(f->c, "HGET lr:lead:s0 assigned_at_ms"));
	json_decref(lead);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/leads/nope", "",
	    NULL, &body), 404);
	assert_non_null(strstr(body, "no such lead"));
	free(body);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/leads/.."), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/leads/%2e%2e"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/leads/a%2fb"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/leads/a%00b"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/leads/a*"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/leads/"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/leads/a%20b"), 400);

	/* /v1/alerts: newest first, bounded. */
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 2));
	/* The warnings are still firing: compare with the log as it was
	 * before and after the request, once it did not change between. */
	for (int tries = 0;; tries++) {
		redisReply *r = h_cmd(f->c, "XREVRANGE lr:alerts:log + - COUNT 2");
		redisReply *r2;
		bool same;

		al = get_json(f->http_port, "/v1/alerts?count=2", "");
		r2 = h_cmd(f->c, "XREVRANGE lr:alerts:log + - COUNT 2");
		same = strcmp(r->element[0]->element[0]->str,
		    r2->element[0]->element[0]->str) == 0;
		if (same || tries == 20) {
			assert_int_equal(json_array_size(al), 2);
			assert_string_equal(h_jstr(json_array_get(al, 0), "id"),
			    r->element[0]->element[0]->str);
			assert_string_equal(h_jstr(json_array_get(al, 1), "id"),
			    r->element[1]->element[0]->str);
		}
		freeReplyObject(r);
		freeReplyObject(r2);
		json_decref(al);
		if (same || tries == 20)
			break;
		h_sleep_ms(50);
	}
	assert_int_equal(status_of(f->http_port, "GET", "/v1/alerts?count=0"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/alerts?count=x"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/alerts?count=1001"), 400);

	/* Read-only: the API changed nothing a second read would see. The
	 * warnings are still firing (each counts in lr:stats and adds to
	 * the alert log): compare over a window no alert fell into. */
	for (int tries = 0;; tries++) {
		long long alerts = h_int(f->c, "XLEN lr:alerts:log");
		char *before = h_hash_dump(f->c, "lr:stats"), *after;
		bool quiet;

		json_decref(get_json(f->http_port, "/v1/status", ""));
		json_decref(get_json(f->http_port, "/v1/sla", ""));
		after = h_hash_dump(f->c, "lr:stats");
		quiet = h_int(f->c, "XLEN lr:alerts:log") == alerts;
		if (quiet || tries == 20)
			assert_string_equal(before, after);
		free(before);
		free(after);
		if (quiet || tries == 20)
			break;
		h_sleep_ms(50);
	}
	json_decref(st);
	h_fx_stop(f);
}

/* --- authentication ------------------------------------------------------- */

static void
test_basic_auth(void **state)
{
	struct h_fx *f = *state;
	char *head, path[700], conf[700], out[700], *log;
	const char *argv[] = {"build/test/leadrouted", "-n", "-c", conf, NULL};
	pid_t pid;

	start_web(f, "ops:s3cret pass\n\nviewer:x\n");
	/* "ops:s3cret pass" in base64, and wrong ones. */
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status", "", &head,
	    NULL), 401);
	assert_non_null(strstr(head, "WWW-Authenticate: Basic realm=\"leadrouted\""));
	free(head);
	assert_int_equal(http_req(f->http_port, "GET", "/", "", NULL, NULL), 401);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/alerts/stream", "",
	    NULL, NULL), 401);
	assert_int_equal(http_req(f->http_port, "GET", "/nothing-here", "",
	    NULL, NULL), 401);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status",
	    "Authorization: Basic b3BzOnMzY3JldCBwYXNz\r\n", NULL, NULL), 200);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status",
	    "Authorization: Basic dmlld2VyOng=\r\n", NULL, NULL), 200);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status",
	    "Authorization: Basic b3BzOnMzY3JldCBwYXN=\r\n", NULL, NULL), 401);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status",
	    "Authorization: Basic dmlld2VyOnk=\r\n", NULL, NULL), 401);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status",
	    "Authorization: Basic !!!\r\n", NULL, NULL), 401);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status",
	    "Authorization: Bearer b3BzOnMzY3JldCBwYXNz\r\n", NULL, NULL), 401);
	/* /healthz and /metrics stay open. */
	assert_int_equal(status_of(f->http_port, "GET", "/healthz"), 200);
	assert_int_equal(status_of(f->http_port, "GET", "/metrics"), 200);

	/* A reload reads the file again: the old password is refused. */
	snprintf(path, sizeof(path), "%s/users", f->dir);
	h_write_file(path, "ops:new\n");
	h_daemon_signal(&f->d[0], SIGHUP);
	{
		long long end = h_now_ms() + H_WAIT_MS;

		while (http_req(f->http_port, "GET", "/v1/status",
		    "Authorization: Basic b3BzOm5ldw==\r\n", NULL, NULL) != 200 &&
		    h_now_ms() < end)
			h_sleep_ms(50);
	}
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status",
	    "Authorization: Basic b3BzOm5ldw==\r\n", NULL, NULL), 200);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/status",
	    "Authorization: Basic b3BzOnMzY3JldCBwYXNz\r\n", NULL, NULL), 401);
	h_fx_stop(f);

	/* A file that cannot be read, a line that is no user:password. */
	snprintf(conf, sizeof(conf), "%s", f->conf);
	snprintf(out, sizeof(out), "%s/check.log", f->dir);
	snprintf(path, sizeof(path), "%s/users", f->dir);
	h_write_file(path, "ops:x\nno-colon-here\n");
	pid = h_spawn(argv, NULL, out, NULL);
	assert_int_equal(h_reap(pid, "leadrouted -n"), 1);
	log = h_slurp(out);
	printf("%s", log);
	assert_non_null(strstr(log, "'http.auth_file'"));
	assert_non_null(strstr(log, "line 2 is not \"user:password\""));
	assert_non_null(strstr(log, path));
	free(log);
	unlink(path);
	unlink(out);
	pid = h_spawn(argv, NULL, out, NULL);
	assert_int_equal(h_reap(pid, "leadrouted -n"), 1);
	log = h_slurp(out);
	printf("%s", log);
	assert_non_null(strstr(log, "'http.auth_file' cannot be read"));
	assert_non_null(strstr(log, "No such file or directory"));
	free(log);
}

/* --- hostile requests -------------------------------------------------------- */

static void
test_hostile_requests(void **state)
{
	struct h_fx *f = *state;
	char *big, *body;
	int slow[50], code;
	long rss0, rss1;

	start_web(f, NULL);
	json_decref(get_json(f->http_port, "/v1/status", ""));
	rss0 = h_daemon_rss_kb(&f->d[0]);

	/* Bad methods, bad paths, dot-dot. */
	assert_int_equal(status_of(f->http_port, "POST", "/v1/status"), 405);
	assert_int_equal(status_of(f->http_port, "DELETE", "/v1/leads/x"), 405);
	assert_int_equal(status_of(f->http_port, "PUT", "/"), 405);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/../metrics"), 404);
	assert_int_equal(status_of(f->http_port, "GET", "/../../etc/passwd"), 404);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/leads/..%2f..%2fetc"), 400);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/nothing"), 404);
	assert_int_equal(status_of(f->http_port, "GET", "/v1/status%00"), 404);
	code = status_of(f->http_port, "BREW", "/");
	assert_true(code == 400 || code == 405 || code == 501 || code == -1);

	/* Huge headers: refused, the daemon goes on. */
	assert_non_null(big = malloc(100 * 1024));
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', 100 * 1024 - 10);
	memcpy(big + 100 * 1024 - 3, "\r\n", 3);
	code = http_req(f->http_port, "GET", "/v1/status", big, NULL, NULL);
	assert_true(code == 400 || code == 413 || code == 431 || code == -1);
	free(big);

	/* Slowloris: 50 clients that never finish their headers do not stop
	 * the others. */
	for (int i = 0; i < 50; i++) {
		slow[i] = http_connect(f->http_port);
		send_all(slow[i], "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-a: ", 38);
	}
	assert_int_equal(status_of(f->http_port, "GET", "/healthz"), 200);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/sla", "", NULL,
	    &body), 200);
	free(body);
	for (int i = 0; i < 50; i++)
		close(slow[i]);

	/* Clients that leave before their answer: nothing leaks (the stop
	 * checks the sanitizer's report). */
	for (int i = 0; i < 20; i++) {
		int fd = http_connect(f->http_port);
		const char *q = i % 2 ? "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n" :
		    "GET /v1/alerts/stream HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0-0\r\n\r\n";

		send_all(fd, q, strlen(q));
		close(fd);
	}
	h_sleep_ms(300);

	assert_true(h_daemon_alive(&f->d[0]));
	rss1 = h_daemon_rss_kb(&f->d[0]);
	/* Small: the hostile requests left no lasting growth worth a mention
	 * (loose: ASan's own allocator keeps some). */
	assert_true(rss1 - rss0 < 32 * 1024);
	h_fx_stop(f);
}

/* --- many SSE clients ------------------------------------------------------- */

static int
open_stream(int port)
{
	int fd = http_connect(port);
	const char *req = "GET /v1/alerts/stream HTTP/1.1\r\nHost: x\r\n\r\n";

	send_all(fd, req, strlen(req));
	return fd;
}

/* Read from fd into buf (appending) until it holds want or ms passed;
 * the length. */
static size_t
read_until(int fd, char *buf, size_t cap, size_t len, const char *want,
    long ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	long long end = h_now_ms() + ms;
	ssize_t n;

	buf[len] = '\0';
	while (len + 1 < cap && h_now_ms() < end &&
	    strstr(buf, want) == NULL) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return len;
}

#define NCLIENTS 100
#define CAP 200		/* API_STREAM_CLIENTS */

static void
test_many_stream_clients(void **state)
{
	struct h_fx *f = *state;
	static int fds[CAP + 1];
	static char buf[NCLIENTS][8192];
	size_t len[NCLIENTS] = {0};
	int got = 0;
	char *head;

	start_web_body(f, NULL, fast_body);
	for (int i = 0; i < NCLIENTS; i++)
		fds[i] = open_stream(f->http_port);
	for (int i = 0; i < NCLIENTS; i++)
		len[i] = read_until(fds[i], buf[i], sizeof(buf[i]), 0,
		    "retry:", H_WAIT_MS);
	for (int i = 0; i < NCLIENTS; i++)
		assert_non_null(strstr(buf[i], "200 OK"));

	/* Routing goes on: 20 MQLs, all routed (assigned or backlogged). */
	for (int i = 0; i < 20; i++) {
		char id[16];

		snprintf(id, sizeof(id), "m%d", i);
		push_lead(f->c, id, i % 2 ? 10 : 500);
	}
	assert_true(h_wait_llen(f->c, "lr:incoming", 0));
	assert_true(h_wait_field(f->c, "lr:lead:m19", "mql", "1"));
	/* Every client gets the first breach. */
	assert_true(h_wait_xlen(f->c, "lr:alerts:log", 8));
	for (int i = 0; i < NCLIENTS; i++) {
		len[i] = read_until(fds[i], buf[i], sizeof(buf[i]), len[i],
		    "event: sla_breach", H_WAIT_MS);
		got += strstr(buf[i], "event: sla_breach") != NULL;
	}
	assert_int_equal(got, NCLIENTS);

	/* One shared read for all of them: the daemon holds its usual
	 * connections plus one, whatever the number of clients. */
	{
		char *list = h_str(f->c, "CLIENT LIST");
		int conns = 0, xreads = 0;

		for (char *p = list; (p = strchr(p, '\n')) != NULL; p++)
			conns++;
		for (char *p = list; (p = strstr(p, "cmd=xread")) != NULL; p += 9)
			xreads++;
		free(list);
		assert_true(xreads <= 1);
		/* ours, commands, lease, 2 wakes, stream */
		assert_true(conns <= 6);
	}

	/* Small: a hundred streams cost little (loose: ASan's allocator). */
	assert_true(h_daemon_rss_kb(&f->d[0]) < 256 * 1024);

	/* Up to the cap, then 503. */
	for (int i = NCLIENTS; i < CAP; i++)
		fds[i] = open_stream(f->http_port);
	h_sleep_ms(500);
	assert_int_equal(http_req(f->http_port, "GET", "/v1/alerts/stream", "",
	    &head, NULL), 503);
	free(head);
	for (int i = 0; i < CAP; i++)
		close(fds[i]);
	/* Their slots come back. */
	{
		long long end = h_now_ms() + H_WAIT_MS;
		int fd, code = 503;
		char b[512];

		while (code == 503 && h_now_ms() < end) {
			h_sleep_ms(100);
			fd = open_stream(f->http_port);
			b[0] = '\0';
			read_until(fd, b, sizeof(b), 0, "\r\n", 2000);
			close(fd);
			if (sscanf(b, "HTTP/1.%*d %d", &code) != 1)
				code = 503;
		}
		assert_int_equal(code, 200);
	}
	assert_true(h_daemon_alive(&f->d[0]));
	h_fx_stop(f);
}

/* --- the Grafana dashboard's metric names ------------------------------------- */

/* Collect every leadrouted_* name in the strings "expr" under j. */
static void
collect_exprs(json_t *j, json_t *names)
{
	const char *k, *s;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (strcmp(k, "expr") == 0 && (s = json_string_value(v))) {
				for (const char *p = s; (p = strstr(p, "leadrouted_")) != NULL;) {
					size_t n = 0;

					while (islower((unsigned char)p[n]) ||
					    isdigit((unsigned char)p[n]) || p[n] == '_')
						n++;
					char *name = strndup(p, n);

					assert_non_null(name);
					json_object_set_new(names, name,
					    json_true());
					free(name);
					p += n;
				}
			} else
				collect_exprs(v, names);
		}
	} else if (json_is_array(j))
		json_array_foreach(j, i, v)
			collect_exprs(v, names);
}

static bool
exported(const char *metrics, const char *pending, const char *name)
{
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	char line[256], base[200];
	size_t n = strlen(name);

	snprintf(line, sizeof(line), "\n%s\n", name);
	if (strstr(pending, line) != NULL)
		return true;
	snprintf(line, sizeof(line), "# TYPE %s ", name);
	if (strstr(metrics, line) != NULL)
		return true;
	for (size_t i = 0; i < 3; i++) {
		size_t sl = strlen(suffixes[i]);

		if (n > sl && strcmp(name + n - sl, suffixes[i]) == 0) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - sl), name);
			snprintf(line, sizeof(line), "# TYPE %s histogram", base);
			if (strstr(metrics, line) != NULL)
				return true;
		}
	}
	return false;
}

static void
test_grafana_names(void **state)
{
	struct h_fx *f = *state;
	json_t *dash, *names, *v;
	char *metrics, *pending, *p, body[4096], tokens[600];
	const char *name;
	int bad = 0;

	/* Every feature the dashboard draws from: a rep's shift, the HTTP
	 * intake, a webhook endpoint (a closed port: attempts fail). */
	snprintf(tokens, sizeof(tokens), "%s/tokens", f->dir);
	h_write_file(tokens, "grafana-dashboard-token\n");
	snprintf(body, sizeof(body),
	    "scoring = { mql_threshold = 10; rules = ( { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; } ); };\n"
	    "segments = ( { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; } );\n"
	    "default_segment = \"small\";\n"
	    "reps = ( { id = \"ann\"; segments = [\"small\"]; max_open = 5; },\n"
	    "  { id = \"kim\"; segments = [\"small\"]; max_open = 3; calendar = \"week\"; } );\n"
	    "sla = { follow_up = 3; warn_before = 1; };\n"
	    "calendars = ( { name = \"week\"; timezone = \"UTC\";\n"
	    "  hours = { mon = [\"00:00-24:00\"]; }; } );\n"
	    "intake = { http = { listen = \"127.0.0.1:%d\"; tokens_file = \"%s\"; }; };\n"
	    "webhooks = ( { name = \"g\"; url = \"http://127.0.0.1:%d/\";\n"
	    "  format = \"slack\"; max_attempts = 1; } );\n",
	    h_free_port(), tokens, h_free_port());
	start_web_body(f, NULL, body);
	push_lead(f->c, "g1", 10);
	assert_true(h_wait_field(f->c, "lr:lead:g1", "status", "assigned"));
	assert_int_equal(h_http_get(f->http_port, "GET", "/metrics", &metrics),
	    200);
	assert_non_null(dash = json_load_file("conf/grafana/leadrouted.json", 0,
	    NULL));
	/* The allow-list, as "\nname\n" lines (comments dropped). */
	p = h_slurp("conf/grafana/pending-metrics.txt");
	assert_non_null(pending = malloc(strlen(p) + 3));
	snprintf(pending, strlen(p) + 3, "\n%s\n", p);
	free(p);
	names = json_object();
	collect_exprs(dash, names);
	assert_true(json_object_size(names) >= 15);
	json_object_foreach(names, name, v) {
		if (!exported(metrics, pending, name)) {
			print_message("dashboard uses '%s', which /metrics does not export\n",
			    name);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	json_decref(names);
	json_decref(dash);
	free(pending);
	free(metrics);
	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		H_TEST(test_json_endpoints),
		H_TEST(test_off_shift_room),
		H_TEST(test_basic_auth),
		H_TEST(test_hostile_requests),
		H_TEST(test_many_stream_clients),
		H_TEST(test_grafana_names),
		H_TEST(test_page_in_chromium),
		H_TEST(test_page_thousand_open),
		H_TEST_AOF(test_stream_eventsource),
	};

	signal(SIGPIPE, SIG_IGN);	/* a server may close on a big request */
	/* LR_TEST_ONLY=test_x runs one test (while working on it). */
	if (getenv("LR_TEST_ONLY") != NULL)
		cmocka_set_test_filter(getenv("LR_TEST_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
