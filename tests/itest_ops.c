/* itest_ops.c - operating the daemon: /healthz, /metrics, SIGHUP reloads, sd_notify, the systemd unit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

/* The fixture, with an HTTP port for /healthz and /metrics. */
static int
setup(void **state)
{
	struct h_fx *f;

	h_setup_aof(state);
	f = *state;
	f->http_port = h_free_port();
	return 0;
}

/* A test between setup and h_teardown. */
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, h_teardown)

static const char *reps_two =
    "scoring = { mql_threshold = 0; rules = (); };\n"
    "segments = ( { name = \"all\"; } );\n"
    "default_segment = \"all\";\n"
    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 2; } );\n";

/* A plain HTTP/1.0 request; returns the status, the body in *body. */
static int
http_get(int port, const char *method, const char *path, char **body)
{
	return h_http_get(port, method, path, body);
}

static bool
wait_http(int port, int code)
{
	long long until = h_now_ms() + H_WAIT_MS;

	for (;;) {
		if (http_get(port, "GET", "/healthz", NULL) == code)
			return true;
		if (h_now_ms() > until)
			return false;
		h_sleep_ms(50);
	}
}

/*
 * A small validator of the Prometheus text format 0.0.4: every sample
 * belongs to a family announced by # HELP and # TYPE before it, families
 * are contiguous, names and labels are well formed, values are numbers;
 * histogram buckets are cumulative and end with +Inf equal to _count.
 * Returns the number of samples.
 */
static int
validate_prometheus(const char *text)
{
	char family[128] = "", type[32] = "", line[1024], name[128];
	char seen[256][128];
	int nseen = 0, samples = 0;
	double last_bucket = -1;
	const char *p = text, *nl;

	while (*p != '\0') {
		size_t len;

		nl = strchr(p, '\n');
		assert_non_null(nl);	/* every line ends with \n */
		len = (size_t)(nl - p);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", family), 1);
			for (int i = 0; i < nseen; i++)
				if (strcmp(seen[i], family) == 0)
					fail_msg("family %s appears twice", family);
			assert_true(nseen < 256);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", family);
			type[0] = '\0';
			last_bucket = -1;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s %31s", name, type), 2);
			assert_string_equal(name, family);
			assert_true(strcmp(type, "counter") == 0 ||
			    strcmp(type, "gauge") == 0 ||
			    strcmp(type, "histogram") == 0);
			continue;
		}
		assert_true(line[0] != '#' && line[0] != '\0');
		/* name{labels} value */
		{
			size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
			const char *v;
			char *end;
			double val;

			assert_true(n > 0 && !isdigit((unsigned char)line[0]));
			memcpy(name, line, n);
			name[n] = '\0';
			assert_true(type[0] != '\0');
			if (strcmp(type, "histogram") == 0) {
				size_t fl = strlen(family);

				assert_true(strncmp(name, family, fl) == 0);
				assert_true(strcmp(name + fl, "_bucket") == 0 ||
				    strcmp(name + fl, "_sum") == 0 ||
				    strcmp(name + fl, "_count") == 0);
			} else {
				assert_string_equal(name, family);
			}
			v = line + n;
			if (*v == '{') {
				const char *close = strrchr(v, '}');

				assert_non_null(close);
				/* label="value" pairs, comma-separated */
				for (const char *q = v + 1; q < close;) {
					size_t ln = strspn(q, "abcdefghijklmnopqrstuvwxyz_");

					assert_true(ln > 0 && q[ln] == '=' && q[ln + 1] == '"');
					q += ln + 2;
					while (*q != '"') {
						if (*q == '\\')
							q++;
						q++;
					}
					q++;
					if (*q == ',')
						q++;
				}
				v = close + 1;
			}
			assert_true(*v == ' ');
			if (strcmp(v + 1, "+Inf") == 0)
				val = INFINITY;
			else {
				val = strtod(v + 1, &end);
				assert_true(*end == '\0');
			}
			if (strstr(line, "_bucket{") != NULL) {
				assert_true(val >= last_bucket);	/* cumulative */
				last_bucket = val;
			}
			if (strcmp(type, "histogram") == 0 &&
			    strstr(name, "_count") != NULL) {
				assert_true(val == last_bucket);	/* +Inf == count */
			}
			samples++;
		}
	}
	return samples;
}

/* The value of the sample whose line starts with prefix (name{labels}). */
static double
metric(const char *text, const char *prefix)
{
	return h_metric(text, prefix);
}

static char *
scrape(struct h_fx *f)
{
	char *body = NULL;

	assert_int_equal(http_get(f->http_port, "GET", "/metrics", &body), 200);
	return body;
}

/* /healthz follows Redis: 200, 503 while it is down, 200 again. */
static void
test_healthz_follows_redis(void **state)
{
	struct h_fx *f = *state;
	char *body = NULL;

	h_fx_start(f, 1, reps_two);
	assert_true(wait_http(f->http_port, 200));
	assert_int_equal(http_get(f->http_port, "GET", "/healthz", &body), 200);
	assert_string_equal(body, "ok\n");
	free(body);
	redisFree(f->c);
	f->c = NULL;
	h_redis_stop(&f->redis, SIGTERM);
	assert_true(wait_http(f->http_port, 503));
	assert_int_equal(http_get(f->http_port, "GET", "/healthz", &body), 503);
	assert_non_null(strstr(body, "redis unreachable"));
	free(body);
	/* /metrics still answers, saying Redis is down. */
	body = scrape(f);
	assert_int_equal(metric(body, "leadrouted_redis_up"), 0);
	free(body);
	h_redis_restart(&f->redis);
	f->c = h_redis_connect(&f->redis);
	assert_true(wait_http(f->http_port, 200));
	h_fx_stop(f);
}

/*
 * Redis demoted to a read-only replica (REPLICAOF): every write fails with
 * READONLY, so the lease cannot be renewed. Within the lease and a margin
 * /healthz says 503 and the registered gauge 0, the log says so a bounded
 * number of times, and once Redis is a primary again the daemon routes.
 */
static void
test_demoted_redis_is_unhealthy(void **state)
{
	struct h_fx *f = *state;
	struct h_redis other;
	redisContext *oc;
	char dir[300], *body = NULL;
	long long until;
	int code;

	h_fx_start(f, 1, reps_two);
	assert_true(wait_http(f->http_port, 200));
	body = scrape(f);
	assert_int_equal(metric(body, "leadrouted_registered"), 1);
	free(body);
	snprintf(dir, sizeof(dir), "%s/primary2", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	h_redis_start(&other, dir, false);
	/* A failover: the other server takes a copy and becomes the primary,
	 * ours its replica, with the data (this instance's lease) intact. */
	oc = h_redis_connect(&other);
	freeReplyObject(h_cmd(oc, "REPLICAOF 127.0.0.1 %d", f->redis.port));
	assert_true(h_wait_zcard(oc, "lr:instances", 1));
	freeReplyObject(h_cmd(oc, "REPLICAOF NO ONE"));
	freeReplyObject(h_cmd(f->c, "REPLICAOF 127.0.0.1 %d", other.port));
	/* The lease is 5 s; a daemon that cannot renew it knows in time. */
	until = h_now_ms() + 5000 + 3000;
	while ((code = http_get(f->http_port, "GET", "/healthz", NULL)) != 503 &&
	    h_now_ms() < until)
		h_sleep_ms(50);
	assert_int_equal(code, 503);
	body = scrape(f);
	assert_int_equal(metric(body, "leadrouted_registered"), 0);
	free(body);
	/* Still unhealthy a while later, and logged once, not per retry. */
	h_sleep_ms(4000);
	assert_int_equal(http_get(f->http_port, "GET", "/healthz", &body), 503);
	free(body);
	assert_true(h_log_count(&f->d[0], "READONLY") >= 1);
	assert_true(h_log_count(&f->d[0], "READONLY") <= 3);
	/* A primary again: it registers and routes. */
	freeReplyObject(h_cmd(f->c, "REPLICAOF NO ONE"));
	assert_true(wait_http(f->http_port, 200));
	h_push_lead(f->c, "{\"id\":\"dm1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:dm1", "status", "assigned"));
	h_fx_stop(f);
	redisFree(oc);
	h_redis_stop(&other, SIGKILL);
}

/* Unknown paths are 404, other methods 405, HEAD has no body. */
static void
test_http_paths_and_methods(void **state)
{
	struct h_fx *f = *state;
	char *body = NULL;

	h_fx_start(f, 1, reps_two);
	assert_true(wait_http(f->http_port, 200));
	assert_int_equal(http_get(f->http_port, "GET", "/nope", NULL), 404);
	assert_int_equal(http_get(f->http_port, "GET", "/", NULL), 200);	/* the ops page */
	assert_int_equal(http_get(f->http_port, "POST", "/metrics", NULL), 405);
	assert_int_equal(http_get(f->http_port, "DELETE", "/healthz", NULL), 405);
	assert_int_equal(http_get(f->http_port, "HEAD", "/metrics", &body), 200);
	assert_string_equal(body, "");
	free(body);
	h_fx_stop(f);
}

/* /metrics is valid Prometheus text and its counters move exactly. */
static void
test_metrics_count_exactly(void **state)
{
	struct h_fx *f = *state;
	char *before, *after, lead[128];
	int n;

	h_fx_start(f, 1, reps_two);
	assert_true(wait_http(f->http_port, 200));
	before = scrape(f);
	n = validate_prometheus(before);
	assert_true(n > 30);
	assert_int_equal(metric(before, "leadrouted_leads_received_total"), 0);
	assert_int_equal(metric(before, "leadrouted_assignments_total{segment=\"all\"}"), 0);
	assert_int_equal(metric(before, "leadrouted_redis_up"), 1);

	/* 5 valid leads (2 assigned, 3 wait), 2 dead letters, 1 duplicate. */
	for (int i = 0; i < 5; i++) {
		snprintf(lead, sizeof(lead), "{\"id\":\"m%d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	h_push_lead(f->c, "not json");
	h_push_lead(f->c, "{\"id\":\"m9\"}");
	h_push_lead(f->c, "{\"id\":\"m0\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_llen(f->c, "lr:dead", 3));
	h_event(f->c, "{\"type\":\"followed_up\",\"lead_id\":\"m0\",\"rep\":\"r1\"}");
	assert_true(h_wait_field(f->c, "lr:lead:m0", "status", "followed_up"));

	after = scrape(f);
	validate_prometheus(after);
	assert_int_equal(metric(after, "leadrouted_leads_received_total"), 8);
	assert_int_equal(metric(after, "leadrouted_leads_valid_total"), 5);
	assert_int_equal(metric(after, "leadrouted_leads_duplicate_total"), 1);
	assert_int_equal(metric(after, "leadrouted_dead_letters_total{reason=\"bad_json\"}"), 1);
	assert_int_equal(metric(after, "leadrouted_dead_letters_total{reason=\"missing_email\"}"), 1);
	assert_int_equal(metric(after, "leadrouted_dead_letters_total{reason=\"duplicate\"}"), 1);
	assert_int_equal(metric(after, "leadrouted_mqls_total{segment=\"all\"}"), 5);
	assert_int_equal(metric(after, "leadrouted_assignments_total{segment=\"all\"}"), 2);
	assert_int_equal(metric(after, "leadrouted_backlogged_total{segment=\"all\"}"), 3);
	assert_int_equal(metric(after, "leadrouted_backlog_leads{segment=\"all\"}"), 3);
	assert_int_equal(metric(after, "leadrouted_rep_open_leads{rep=\"r1\"}"), 2);
	assert_int_equal(metric(after, "leadrouted_rep_max_open{rep=\"r1\"}"), 2);
	assert_int_equal(metric(after, "leadrouted_rep_available{rep=\"r1\"}"), 1);
	assert_int_equal(metric(after, "leadrouted_events_total{type=\"followed_up\",result=\"ok\"}"), 1);
	assert_int_equal(metric(after, "leadrouted_intake_to_assignment_seconds_count"), 2);
	assert_int_equal(metric(after, "leadrouted_followup_seconds_count"), 1);
	assert_int_equal(metric(after, "leadrouted_queue_length{queue=\"dead\"}"), 3);
	assert_int_equal(metric(after, "leadrouted_sla_pending_timers"), 1);
	assert_int_equal(metric(after, "leadrouted_instances"), 1);
	/* By source: these leads have none, so "unknown". */
	assert_int_equal(metric(after, "leadrouted_source_leads_total{source=\"unknown\",stage=\"received\"}"), 5);
	assert_int_equal(metric(after, "leadrouted_source_leads_total{source=\"unknown\",stage=\"assigned\"}"), 2);
	assert_int_equal(metric(after, "leadrouted_source_leads_total{source=\"unknown\",stage=\"followed_up\"}"), 1);
	free(before);
	free(after);
	h_fx_stop(f);
}

/* SIGHUP adds a rep, who takes the waiting leads at once. */
static void
test_sighup_adds_rep(void **state)
{
	struct h_fx *f = *state;
	char *m;

	h_fx_start(f, 1, reps_two);
	for (int i = 0; i < 4; i++) {
		char lead[96];

		snprintf(lead, sizeof(lead), "{\"id\":\"h%d\",\"email\":\"a@b.c\"}", i);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_zcard(f->c, "lr:backlog:all", 2));
	h_fx_conf(f,
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 2; },\n"
	    "         { id = \"r2\"; segments = [\"all\"]; max_open = 5; } );\n");
	h_daemon_signal(&f->d[0], SIGHUP);
	assert_true(h_wait_llen(f->c, "lr:rep:r2:inbox", 2));
	assert_int_equal(h_int(f->c, "ZCARD lr:backlog:all"), 0);
	h_push_lead(f->c, "{\"id\":\"h9\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:h9", "rep", "r2"));
	assert_true(h_log_contains(&f->d[0], "loaded (version"));
	m = scrape(f);
	assert_int_equal(metric(m, "leadrouted_config_reloads_total{result=\"success\"}"), 1);
	free(m);
	h_fx_stop(f);
}

/* Segments small, mid and large; no rep serves mid, so its MQLs wait. */
static const char *segs_mid =
    "scoring = { mql_threshold = 0; rules = (); };\n"
    "segments = (\n"
    "  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
    "  { name = \"mid\"; field = \"employees\"; op = \"between\"; min = 100; max = 999; },\n"
    "  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 1000; }\n"
    ");\n"
    "default_segment = \"small\";\n"
    "reps = ( { id = \"ann\"; segments = [\"small\"]; max_open = 100; },\n"
    "         { id = \"kim\"; segments = [\"large\"]; max_open = 100; } );\n";

/* mid renamed medium (100 to 499), large from 500, a rep for medium. */
static const char *segs_medium =
    "scoring = { mql_threshold = 0; rules = (); };\n"
    "segments = (\n"
    "  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
    "  { name = \"medium\"; field = \"employees\"; op = \"between\"; min = 100; max = 499; },\n"
    "  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 500; }\n"
    ");\n"
    "default_segment = \"small\";\n"
    "reps = ( { id = \"ann\"; segments = [\"small\"]; max_open = 100; },\n"
    "         { id = \"mia\"; segments = [\"medium\"]; max_open = 100; },\n"
    "         { id = \"kim\"; segments = [\"large\"]; max_open = 100; } );\n";

/* Leads m0..m(n-1), employees 200 (medium later) or 700 (large later),
 * backlogged in mid. */
static void
backlog_mid(struct h_fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		char lead[128];

		snprintf(lead, sizeof(lead),
		    "{\"id\":\"m%d\",\"email\":\"a@b.c\",\"employees\":%d}", i,
		    i % 2 ? 700 : 200);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_zcard(f->c, "lr:backlog:mid", n));
}

/* The leads of backlog_mid end assigned under the new segments. */
static void
check_resegmented(struct h_fx *f, int n)
{
	char key[32], line[96];

	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "lr:lead:m%d", i);
		assert_true(h_wait_field(f->c, key, "rep", i % 2 ? "kim" : "mia"));
		assert_true(h_wait_field(f->c, key, "segment",
		    i % 2 ? "large" : "medium"));
		assert_true(h_wait_field(f->c, key, "status", "assigned"));
	}
	assert_int_equal(h_int(f->c, "EXISTS lr:backlog:mid"), 0);
	snprintf(line, sizeof(line),
	    "backlog of removed segment 'mid': %d leads re-segmented", n);
	for (long long until = h_now_ms() + H_WAIT_MS; h_now_ms() < until &&
	    !h_log_contains(&f->d[0], line);)
		h_sleep_ms(20);
	assert_int_equal(h_log_count(&f->d[0], line), 1);
}

/* A reload that renames a segment re-segments its backlog: none strands. */
static void
test_sighup_renamed_segment_backlog(void **state)
{
	struct h_fx *f = *state;

	h_fx_start(f, 1, segs_mid);
	backlog_mid(f, 12);
	h_fx_conf(f, segs_medium);
	h_daemon_signal(&f->d[0], SIGHUP);
	check_resegmented(f, 12);
	h_fx_stop(f);
}

/* The same when the new configuration comes with a restart. */
static void
test_restart_renamed_segment_backlog(void **state)
{
	struct h_fx *f = *state;

	h_fx_start(f, 1, segs_mid);
	backlog_mid(f, 12);
	h_fx_stop(f);
	h_fx_start(f, 1, segs_medium);
	check_resegmented(f, 12);
	h_fx_stop(f);
}

/*
 * A reload that removes a rep: once the daemon says the new configuration
 * is loaded, that rep gets no lead, not even from commits it had already
 * sent with the old routing table. Redis pauses writes while the daemon
 * routes a stream, so commits wait in the pipe when SIGHUP comes.
 */
static void
test_sighup_removed_rep_gets_nothing_after(void **state)
{
	static const char *two_reps =
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 100000; },\n"
	    "         { id = \"r2\"; segments = [\"all\"]; max_open = 100000; } );\n";
	struct h_fx *f = *state;
	redisReply *r;
	long long at_reload, later;
	const int n = 20000;

	h_fx_start(f, 1, two_reps);
	for (int i = 0; i < n; i++) {
		char lead[96];
		int len = snprintf(lead, sizeof(lead),
		    "{\"id\":\"rr%d\",\"email\":\"a@b.c\"}", i);

		redisAppendCommand(f->c, "LPUSH lr:incoming %b", lead,
		    (size_t)len);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(redisGetReply(f->c, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
	/* Routing is under way: r1 holds leads. */
	for (int i = 0; i < 1000 && h_int(f->c, "SCARD lr:rep:r1:open") < 50;
	    i++)
		usleep(10000);
	assert_true(h_int(f->c, "SCARD lr:rep:r1:open") >= 50);
	r = h_cmd(f->c, "CLIENT PAUSE 1500 WRITE");
	freeReplyObject(r);
	h_fx_conf(f,
	    "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"all\";\n"
	    "reps = ( { id = \"r2\"; segments = [\"all\"]; max_open = 100000; } );\n");
	h_daemon_signal(&f->d[0], SIGHUP);
	for (int i = 0; i < 1000 && !h_log_contains(&f->d[0], "loaded (version");
	    i++)
		usleep(10000);
	assert_true(h_log_contains(&f->d[0], "loaded (version"));
	at_reload = h_int(f->c, "SCARD lr:rep:r1:open");
	/* Let the stream finish: every lead is assigned, none to r1. */
	assert_true(h_wait_llen(f->c, "lr:incoming", 0));
	for (int i = 0; i < 3000 && h_int(f->c, "HGET lr:stats received") < n;
	    i++)
		usleep(10000);
	assert_int_equal(h_int(f->c, "HGET lr:stats received"), n);
	later = h_int(f->c, "SCARD lr:rep:r1:open");
	if (later != at_reload)
		fail_msg("r1 got %lld leads after the reload was logged",
		    later - at_reload);
	h_fx_stop(f);
}

/* A broken config on SIGHUP is refused; the old one keeps routing. */
static void
test_sighup_broken_config_keeps_old(void **state)
{
	struct h_fx *f = *state;
	char *m;

	h_fx_start(f, 1, reps_two);
	h_fx_conf(f, "scoring = { mql_threshold = 0; rules = (); };\n"
	    "segments = ( { name = \"all\"; } );\n"
	    "default_segment = \"nowhere\";\n"
	    "reps = ( { id = \"r1\"; segments = [\"all\"]; max_open = 0; } );\n");
	h_daemon_signal(&f->d[0], SIGHUP);
	m = NULL;
	for (long long until = h_now_ms() + H_WAIT_MS; h_now_ms() < until;) {
		if (h_log_contains(&f->d[0], "keeping version"))
			break;
		h_sleep_ms(20);
	}
	assert_true(h_log_contains(&f->d[0], "keeping version"));
	assert_true(h_log_contains(&f->d[0], "'default_segment' names \"nowhere\""));
	assert_true(h_log_contains(&f->d[0], "'reps.[0].max_open' must be a positive integer"));
	h_push_lead(f->c, "{\"id\":\"b1\",\"email\":\"a@b.c\"}");
	assert_true(h_wait_field(f->c, "lr:lead:b1", "rep", "r1"));
	m = scrape(f);
	assert_int_equal(metric(m, "leadrouted_config_reloads_total{result=\"failure\"}"), 1);
	free(m);
	h_fx_stop(f);
}

/* Read one datagram from the notify socket, or "" after the bound. */
static void
notify_read(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

static bool
notify_wait(int fd, const char *want)
{
	char buf[512];
	long long until = h_now_ms() + H_WAIT_MS;

	while (h_now_ms() < until) {
		notify_read(fd, buf, sizeof(buf));
		if (strstr(buf, want) != NULL)
			return true;
	}
	return false;
}

/* READY, RELOADING, STOPPING and STATUS reach a NOTIFY_SOCKET. */
static void
test_sd_notify(void **state)
{
	struct h_fx *f = *state;
	struct sockaddr_un sun;
	struct timeval tv = {0, 200000};
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/notify.sock", f->dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setenv("NOTIFY_SOCKET", path, 1);
	h_fx_start(f, 1, reps_two);
	unsetenv("NOTIFY_SOCKET");
	assert_true(notify_wait(fd, "READY=1"));
	assert_true(notify_wait(fd, "STATUS=routing leads"));
	h_daemon_signal(&f->d[0], SIGHUP);
	assert_true(notify_wait(fd, "RELOADING=1"));
	assert_true(notify_wait(fd, "READY=1"));
	h_daemon_signal(&f->d[0], SIGTERM);
	assert_true(notify_wait(fd, "STOPPING=1"));
	h_fx_stop(f);
	close(fd);
}

/* The unit passes systemd-analyze verify (where systemd is installed). */
static void
test_systemd_unit_verifies(void **state)
{
	struct h_fx *f = *state;
	char cwd[512], cmd[2048];
	int rc;

	if (system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
		printf("skipped: systemd-analyze is not installed\n");
		skip();
	}
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(cmd, sizeof(cmd),
	    "sed -e 's|@SBINDIR@|%s/build|g' "
	    "-e 's|@SYSCONFDIR@/leadrouted/leadrouted.conf|%s/conf/leadrouted.conf|g' "
	    "systemd/leadrouted.service > %s/leadrouted.service && "
	    "systemd-analyze verify --man=no %s/leadrouted.service",
	    cwd, cwd, f->dir, f->dir);
	rc = system(cmd);
	assert_int_equal(rc, 0);
}

/* The shipped alerting rules and a live scrape pass promtool, if present. */
static void
test_promtool(void **state)
{
	struct h_fx *f = *state;
	char path[600], cmd[1400];
	char *body;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		printf("skipped: promtool is not installed (Debian package prometheus)\n");
		skip();
	}
	assert_int_equal(system("promtool check rules conf/leadrouted.rules.yml"), 0);
	h_fx_start(f, 1, reps_two);
	assert_true(wait_http(f->http_port, 200));
	body = scrape(f);
	snprintf(path, sizeof(path), "%s/metrics.txt", f->dir);
	h_write_file(path, body);
	free(body);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(h_daemon_stop(&f->d[0], SIGTERM), 0);
}

/* The capacity_forecast alerts in lr:alerts:log (their JSON, oldest first). */
static json_t *
forecast_alerts(redisContext *c)
{
	redisReply *r = h_cmd(c, "XRANGE lr:alerts:log - +");
	json_t *out = json_array(), *a;

	for (size_t i = 0; i < r->elements; i++) {
		redisReply *fv = r->element[i]->element[1];

		assert_int_equal(fv->elements, 2);
		a = json_loads(fv->element[1]->str, 0, NULL);
		assert_non_null(a);
		if (strcmp(json_string_value(json_object_get(a, "type")),
		    "capacity_forecast") == 0)
			json_array_append(out, a);
		json_decref(a);
	}
	freeReplyObject(r);
	return out;
}

/* Wait until n more forecasts ran (the segment's "at" moved n times). */
static void
wait_forecasts(redisContext *c, const char *seg, int n)
{
	char *last = h_str(c, "HGET lr:forecast %s|at", seg), *now;
	long long until = h_now_ms() + H_WAIT_MS;

	while (n > 0) {
		assert_true(h_now_ms() < until);
		h_sleep_ms(50);
		now = h_str(c, "HGET lr:forecast %s|at", seg);
		if (now != NULL && (last == NULL || strcmp(now, last) != 0)) {
			n--;
			free(last);
			last = now;
		} else {
			free(now);
		}
	}
	free(last);
}

static const char *forecast_body =
    "scoring = { mql_threshold = 0; rules = (); };\n"
    "segments = ( { name = \"mid\"; field = \"employees\"; op = \"gte\"; value = 100; },\n"
    "             { name = \"small\"; } );\n"
    "default_segment = \"small\";\n"
    "forecast = { horizon = 600; half_life = 60; interval = 1; };\n";

/* f->conf, and conf2 for a second instance without HTTP. */
static void
write_forecast_conf(struct h_fx *f, char *conf2, size_t len, int mid_max_open)
{
	char body[1024];

	snprintf(body, sizeof(body), "%s"
	    "reps = ( { id = \"r1\"; segments = [\"mid\"]; max_open = %d; },\n"
	    "         { id = \"r2\"; segments = [\"small\"]; max_open = 100; } );\n",
	    forecast_body, mid_max_open);
	h_fx_conf(f, body);
	h_write_conf(conf2, len, f->dir, "lr2.conf", f->redis.port, body);
}

/*
 * 4 MQLs for a rep with room for 5: at that arrival rate the last slot
 * goes within the horizon, so one capacity_forecast alert fires, and only
 * one while the episode lasts, with two instances forecasting. More room
 * (a reload) ends the episode; less room again starts a new one. A
 * segment without room but without arrivals does not alert.
 */
static void
test_capacity_forecast_once_per_episode(void **state)
{
	struct h_fx *f = *state;
		json_t *alerts, *a;
	char lead[128], conf2[600], *m;

	write_forecast_conf(f, conf2, sizeof(conf2), 5);
	h_daemon_start(&f->d[0], f->conf, f->dir, "leadrouted");
	h_daemon_start(&f->d[1], conf2, f->dir, "leadrouted2");
	assert_true(h_wait_ready(f->c, 2));
	wait_forecasts(f->c, "mid", 1);		/* the rate counts from here */
	for (int i = 0; i < 4; i++) {
		snprintf(lead, sizeof(lead),
		    "{\"id\":\"c%d\",\"email\":\"a@b.c\",\"employees\":500}", i);
		h_push_lead(f->c, lead);
	}
	assert_true(h_wait_llen(f->c, "lr:rep:r1:inbox", 4));
	assert_true(h_wait_field(f->c, "lr:forecast", "mid|room", "1"));
	wait_forecasts(f->c, "mid", 5);
	alerts = forecast_alerts(f->c);
	assert_int_equal(json_array_size(alerts), 1);
	a = json_array_get(alerts, 0);
	assert_string_equal(json_string_value(json_object_get(a, "segment")),
	    "mid");
	assert_int_equal(json_integer_value(json_object_get(a, "room")), 1);
	assert_int_equal(json_integer_value(json_object_get(a, "backlog")), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "horizon_s")),
	    600);
	assert_true(json_number_value(json_object_get(a, "mql_per_hour")) > 0);
	assert_true(json_integer_value(json_object_get(a, "exhausted_in_s")) <
	    600);
	assert_true(json_integer_value(json_object_get(a, "at_ms")) > 0);
	json_decref(alerts);
	/* The quiet segment has room and no arrivals: never exhausted. */
	assert_null(h_str(f->c, "HGET lr:forecast small|episode"));

	m = scrape(f);
	validate_prometheus(m);
	assert_int_equal(metric(m, "leadrouted_capacity_forecast_episode{segment=\"mid\"}"), 1);
	assert_int_equal(metric(m, "leadrouted_capacity_forecast_episode{segment=\"small\"}"), 0);
	assert_int_equal(metric(m, "leadrouted_capacity_room_leads{segment=\"mid\"}"), 1);
	assert_int_equal(metric(m, "leadrouted_capacity_room_leads{segment=\"small\"}"), 100);
	assert_int_equal(metric(m, "leadrouted_capacity_forecast_alerts_total{segment=\"mid\"}"), 1);
	assert_int_equal(metric(m, "leadrouted_capacity_forecast_alerts_total{segment=\"small\"}"), 0);
	assert_true(metric(m, "leadrouted_mql_arrival_rate{segment=\"mid\"}") > 0);
	assert_true(metric(m, "leadrouted_capacity_exhaustion_seconds{segment=\"mid\"}") < 600);
	assert_true(isinf(metric(m, "leadrouted_capacity_exhaustion_seconds{segment=\"small\"}")));
	free(m);

	/* Room for 1000: the episode ends, without another alert. */
	write_forecast_conf(f, conf2, sizeof(conf2), 1000);
	h_daemon_signal(&f->d[0], SIGHUP);
	h_daemon_signal(&f->d[1], SIGHUP);
	assert_true(h_wait_field(f->c, "lr:forecast", "mid|room", "996"));
	wait_forecasts(f->c, "mid", 2);
	assert_null(h_str(f->c, "HGET lr:forecast mid|episode"));
	alerts = forecast_alerts(f->c);
	assert_int_equal(json_array_size(alerts), 1);
	json_decref(alerts);

	/* Back to 5: a new episode, a second alert. */
	write_forecast_conf(f, conf2, sizeof(conf2), 5);
	h_daemon_signal(&f->d[0], SIGHUP);
	h_daemon_signal(&f->d[1], SIGHUP);
	assert_true(h_wait_field(f->c, "lr:forecast", "mid|room", "1"));
	wait_forecasts(f->c, "mid", 3);
	alerts = forecast_alerts(f->c);
	assert_int_equal(json_array_size(alerts), 2);
	json_decref(alerts);
	assert_true(h_log_contains(&f->d[0], "capacity_forecast segment=mid") ||
	    h_log_contains(&f->d[1], "capacity_forecast segment=mid"));
	/* No room but nothing arriving: no lead will wait, no alert. */
	h_event(f->c, "{\"type\":\"rep_status\",\"rep\":\"r2\",\"status\":\"away\"}");
	assert_true(h_wait_field(f->c, "lr:forecast", "small|room", "0"));
	wait_forecasts(f->c, "small", 2);
	assert_null(h_str(f->c, "HGET lr:forecast small|episode"));
	assert_int_equal(h_int(f->c, "HGET lr:forecast small|eta"), 0);
	alerts = forecast_alerts(f->c);
	assert_int_equal(json_array_size(alerts), 2);
	json_decref(alerts);

	h_fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_healthz_follows_redis),
		TEST(test_http_paths_and_methods),
		TEST(test_demoted_redis_is_unhealthy),
		TEST(test_metrics_count_exactly),
		TEST(test_capacity_forecast_once_per_episode),
		TEST(test_sighup_adds_rep),
		TEST(test_sighup_broken_config_keeps_old),
		TEST(test_sighup_renamed_segment_backlog),
		TEST(test_restart_renamed_segment_backlog),
		TEST(test_sighup_removed_rep_gets_nothing_after),
		TEST(test_sd_notify),
		TEST(test_systemd_unit_verifies),
		TEST(test_promtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
