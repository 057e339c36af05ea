/* itest_ha.c - losing a Redis server: Sentinel failover after a kill -9 of the primary, and a replica promoted by hand, under a lead stream; each ends with the invariant checker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checker.h"
#include "harness.h"

/* LR_SOAK=1 (make soak) runs the full-size stream of issue #17. */
static bool soak;
/* The key prefix of the scenario (the cluster one has a hash tag), and
 * whether the producer confirms with WAIT 1 (not without replicas). */
static const char *P = "lr:";
static bool confirm = true;

#define MASTER "lr"
#define NSENTINELS 3
#define NREPLICAS 2
/* Sentinel timing: fast enough for make test (README "High availability"
 * gives the production figures). */
#define DOWN_AFTER_MS 1000
#define FAILOVER_TIMEOUT_MS 3000
#define ACK_TIMEOUT_MS 500
/* How long the sentinels must agree on a new primary before the test's
 * producer goes on (a second failover may follow the first). */
#define STABLE_MS 3000
/* What one push confirms with WAIT: usually; at most (a whole half,
 * pushed in one go right before a fault, so that the fault lands while
 * the daemons route it). */
#define PUSH_BATCH 250
#define PUSH_BATCH_MAX 5000
static int push_batch = PUSH_BATCH;
/* In flight at most: 2 instances x 2 consumers x 4 calls x 256 payloads. */
#define IN_FLIGHT_BOUND (2 * 2 * 4 * 256)
#define MAX_ITEMS 40000

#define RESULTS "build/test/reliability-ha-results.txt"

struct fx {
	struct h_fx h;			/* dir, daemon slots, h.c (the primary) */
	struct h_redis nodes[1 + NREPLICAS];	/* [0]: the first primary */
	struct h_redis sentinels[NSENTINELS];
	int nd;
	pid_t stunnel;			/* the TLS recipe's tunnel */
	pid_t tls_redis;
	struct chk_item items[MAX_ITEMS];
	char ids[MAX_ITEMS][16];
	size_t nitems;
	unsigned char closed[MAX_ITEMS];
	long long t0;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	h_tmpdir(f->h.dir, sizeof(f->h.dir));
	f->t0 = h_now_ms();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < H_MAX_DAEMONS; i++)
		if (f->h.d[i].pid > 0)
			(void)h_daemon_stop(&f->h.d[i], SIGKILL);
	redisFree(f->h.c);
	if (f->stunnel > 0) {
		kill(f->stunnel, SIGKILL);
		(void)h_reap(f->stunnel, "stunnel");
	}
	if (f->tls_redis > 0) {
		kill(f->tls_redis, SIGKILL);
		(void)h_reap(f->tls_redis, "redis-server (TLS)");
	}
	for (int i = 0; i < NSENTINELS; i++)
		h_redis_stop(&f->sentinels[i], SIGKILL);
	for (int i = 0; i < 1 + NREPLICAS; i++)
		h_redis_stop(&f->nodes[i], SIGKILL);
	h_cleanup_dir(f->h.dir);
	free(f);
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* --- the stream ------------------------------------------------------------ */

/* itest_faults' stream model: two segments, three reps, a 3 s follow-up. */
#define STREAM_BODY \
	"scoring = {\n" \
	"  mql_threshold = 50;\n" \
	"  rules = (\n" \
	"    { field = \"title\"; op = \"contains_any\"; values = [\"vp\"]; points = 20; },\n" \
	"    { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; }\n" \
	"  );\n" \
	"};\n" \
	"segments = (\n" \
	"  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n" \
	"  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 100; }\n" \
	");\n" \
	"default_segment = \"small\";\n" \
	"reps = (\n" \
	"  { id = \"a1\"; segments = [\"small\"]; max_open = 40; },\n" \
	"  { id = \"a2\"; segments = [\"small\"]; max_open = 60; max_per_period = 150; },\n" \
	"  { id = \"b1\"; segments = [\"large\"]; max_open = 50; }\n" \
	");\n" \
	"sla = { follow_up = 3; warn_before = 1; };\n" \
	"audit = { enabled = true; };\n"

static const char *const reps[] = {"a1", "a2", "b1"};
static const struct chk_rep limits[] = {
	{"a1", 40, 0, 0}, {"a2", 60, 150, 0}, {"b1", 50, 0, 0},
};

static int
make_lead(char *buf, size_t len, int i, const char **expect)
{
	*expect = NULL;
	if (i % 100 == 0) {
		*expect = "missing_email";
		return snprintf(buf, len, "{\"id\":\"h%06d\"}", i);
	}
	if (i % 3 == 0)
		return snprintf(buf, len,
		    "{\"id\":\"h%06d\",\"email\":\"x%d@corp.com\",\"employees\":%d}",
		    i, i, i % 200);
	return snprintf(buf, len,
	    "{\"id\":\"h%06d\",\"email\":\"x%d@corp.com\",\"title\":\"VP\","
	    "\"employees\":%d,\"activity\":{\"demo_request\":true}}", i, i,
	    i % 200);
}

/*
 * A producer that confirms: push leads from..from+n-1 in batches, each
 * followed by WAIT 1; only what a replica acknowledged counts as pushed
 * (the checker is told of those). Returns how many were confirmed.
 */
static int
push_confirmed(struct fx *f, int from, int n)
{
	char buf[256];
	static const char *expect[PUSH_BATCH_MAX];
	redisReply *r;
	int confirmed = 0;

	assert_true(push_batch <= PUSH_BATCH_MAX);
	for (int b = from; b < from + n; b += push_batch) {
		int m = from + n - b < push_batch ? from + n - b : push_batch;
		bool ok = true;

		for (int i = 0; i < m; i++) {
			int len = make_lead(buf, sizeof(buf), b + i, &expect[i]);

			redisAppendCommand(f->h.c, "LPUSH %sincoming %b", P,
			    buf, (size_t)len);
		}
		if (confirm)
			redisAppendCommand(f->h.c, "WAIT 1 %d",
			    ACK_TIMEOUT_MS * 4);
		for (int i = 0; i < m + confirm; i++) {
			if (redisGetReply(f->h.c, (void **)&r) != REDIS_OK) {
				ok = false;
				break;
			}
			if (r->type != REDIS_REPLY_INTEGER ||
			    (i == m && r->integer < 1))
				ok = false;
			freeReplyObject(r);
		}
		assert_true(ok);	/* the primary and a replica are up */
		for (int i = 0; i < m; i++) {
			size_t k = f->nitems++;

			assert_true(k < MAX_ITEMS);
			snprintf(f->ids[k], sizeof(f->ids[k]), "h%06d", b + i);
			f->items[k].id = f->ids[k];
			f->items[k].expect = expect[i];
		}
		confirmed += m;
	}
	return confirmed;
}

/*
 * leadctl push (from lr1.conf: through the sentinels, when set, and
 * confirming with WAIT) of leads from..from+n-1, none a multiple of 100
 * (leadctl would refuse those: no email). The checker is told of them.
 */
static void
ctl_push(struct fx *f, int from, int n)
{
	char in[600], out[600], conf[600], line[256], want[64], *text;
	const char *argv[] = {NULL, "-c", conf, "push", in, NULL};
	const char *expect;
	FILE *fp;
	int status;

	argv[0] = getenv("LEADCTL_BIN") != NULL ? getenv("LEADCTL_BIN") :
	    "build/test/leadctl";
	snprintf(in, sizeof(in), "%s/push.jsonl", f->h.dir);
	snprintf(out, sizeof(out), "%s/push.out", f->h.dir);
	snprintf(conf, sizeof(conf), "%s/lr1.conf", f->h.dir);
	assert_non_null(fp = fopen(in, "w"));
	for (int i = from; i < from + n; i++) {
		assert_true(i % 100 != 0);
		make_lead(line, sizeof(line), i, &expect);
		fprintf(fp, "%s\n", line);
		snprintf(f->ids[f->nitems], sizeof(f->ids[0]), "h%06d", i);
		f->items[f->nitems].id = f->ids[f->nitems];
		f->items[f->nitems].expect = expect;
		f->nitems++;
	}
	fclose(fp);
	status = h_reap(h_spawn(argv, NULL, out, NULL), "leadctl push");
	text = h_slurp(out);
	snprintf(want, sizeof(want), "pushed %d leads, rejected 0 lines", n);
	if (status != 0 || strstr(text, want) == NULL)
		fail_msg("leadctl push exited %d: %s", status, text);
	free(text);
}

/* The reps close about percent of their open leads, each once. */
static void
close_some(struct fx *f, int percent)
{
	char key[64], ev[200];
	redisReply *r;
	long no;

	for (size_t k = 0; k < 3; k++) {
		snprintf(key, sizeof(key), "%srep:%s:open", P, reps[k]);
		r = h_cmd(f->h.c, "SMEMBERS %s", key);
		for (size_t i = 0; i < r->elements; i++) {
			no = strtol(r->element[i]->str + 1, NULL, 10);
			if (no < 0 || no >= MAX_ITEMS || f->closed[no] ||
			    random() % 100 >= percent)
				continue;
			f->closed[no] = 1;
			snprintf(ev, sizeof(ev),
			    "{\"type\":\"closed\",\"lead_id\":\"%s\",\"rep\":\"%s\",\"outcome\":\"won\"}",
			    r->element[i]->str, reps[k]);
			freeReplyObject(h_cmd(f->h.c, "LPUSH %sevents %s", P,
			    ev));
		}
		freeReplyObject(r);
	}
}

static bool
idle(struct fx *f)
{
	return h_int(f->h.c, "ZCARD %ssla:due", P) == 0 &&
	    h_queues_empty(f->h.c, P);
}

/* Timers fired, nothing in flight, the dead instances reaped. */
static void
settle(struct fx *f, long long live)
{
	long long until = h_now_ms() + 60000;

	while (h_now_ms() < until) {
		while (!idle(f) && h_now_ms() < until)
			h_sleep_ms(50);
		h_sleep_ms(1100);
		if (idle(f) && h_int(f->h.c, "ZCARD %sinstances", P) == live)
			return;
	}
}

/* --- the deployment ------------------------------------------------------- */

static void
start_replicated(struct fx *f, int replicas)
{
	char name[16];

	h_redis_start_node(&f->nodes[0], f->h.dir, "p", 0, NULL);
	for (int i = 1; i <= replicas; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		h_redis_start_node(&f->nodes[i], f->h.dir, name,
		    f->nodes[0].port, NULL);
	}
	f->h.c = h_redis_connect(&f->nodes[0]);
	assert_true(h_wait_replicas_up(f->h.c, replicas));
}

/* Three sentinels on the primary, each knowing the replicas and the others. */
static void
start_sentinels(struct fx *f)
{
	char name[16];
	long long until;
	bool know;

	for (int i = 0; i < NSENTINELS; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		h_sentinel_start(&f->sentinels[i], f->h.dir, name, MASTER,
		    f->nodes[0].port, 2, DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS,
		    NULL);
	}
	until = h_now_ms() + H_WAIT_MS;
	do {
		know = true;
		for (int i = 0; i < NSENTINELS; i++)
			know = know && h_sentinel_count(f->sentinels[i].port,
			    "replicas", MASTER) == NREPLICAS &&
			    h_sentinel_count(f->sentinels[i].port, "sentinels",
			    MASTER) == NSENTINELS - 1;
		if (!know)
			h_sleep_ms(100);
	} while (!know && h_now_ms() < until);
	assert_true(know);
}

/*
 * The daemons' configurations: redis is the body of the redis group.
 * Daemon 0 serves HTTP (f->h.http_port) from f->h.conf, the others none,
 * from lr1.conf.
 */
static void
write_conf(struct fx *f, const char *redis)
{
	char text[4096], path[600];

	f->h.http_port = h_free_port();
	for (int i = 0; i < 2; i++) {
		char listen[32] = "";

		if (i == 0)
			snprintf(listen, sizeof(listen), "127.0.0.1:%d",
			    f->h.http_port);
		assert_true(snprintf(text, sizeof(text), "redis = { %s };\n"
		    "http = { listen = \"%s\"; };\n%s", redis, listen,
		    STREAM_BODY) < (int)sizeof(text));
		snprintf(path, sizeof(path), "%s/lr%s.conf", f->h.dir,
		    i == 0 ? "" : "1");
		h_write_file(path, text);
	}
	snprintf(f->h.conf, sizeof(f->h.conf), "%s/lr.conf", f->h.dir);
}

/* Poll until n instances are registered (on the node f->h.c reaches). */
static bool
wait_instances(struct fx *f, long long n)
{
	long long until = h_now_ms() + H_WAIT_MS;

	while (h_int(f->h.c, "ZCARD %sinstances", P) < n) {
		if (h_now_ms() > until)
			return false;
		h_sleep_ms(20);
	}
	return true;
}

static void
start_daemons(struct fx *f, int n)
{
	char name[16], conf[600];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		snprintf(conf, sizeof(conf), "%s/lr%s.conf", f->h.dir,
		    i == 0 ? "" : "1");
		h_daemon_start(&f->h.d[i], conf, f->h.dir, name);
	}
	f->nd = n;
	assert_true(wait_instances(f, n));
}

/* Leads the daemons' logs show routed more than once: replayed work. */
static long
routed_twice(struct fx *f)
{
	char cmd[800];
	FILE *p;
	long n = -1;

	snprintf(cmd, sizeof(cmd),
	    "cat %s/d*.log | grep -o 'lead routed: lead=[^ ]*' | sort | uniq -d | wc -l",
	    f->h.dir);
	if ((p = popen(cmd, "r")) != NULL) {
		if (fscanf(p, "%ld", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void
record(struct fx *f, const char *name, const char *injected,
    const struct chk_result *r)
{
	FILE *out = fopen(RESULTS, "a");

	if (out == NULL)
		return;
	fprintf(out, "%s\t%s\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%.1f\t%s\n",
	    name, injected, r->pushed, r->lost, r->duplicated,
	    r->capacity_violations, r->alerts_missed, r->alerts_doubled,
	    r->stale_inflight, (double)(h_now_ms() - f->t0) / 1000.0,
	    chk_clean(r) ? "pass" : "FAIL");
	fclose(out);
}

static void
check(struct fx *f, const char *name, const char *injected)
{
	struct chk_spec spec = {0};
	struct chk_result res;

	spec.prefix = P;
	spec.items = f->items;
	spec.nitems = f->nitems;
	spec.reps = limits;
	spec.nreps = 3;
	spec.settle_ms = 45000;
	spec.race_slack_ms = 5000;
	assert_int_equal(chk_run(f->h.c, &spec, &res), 0);
	chk_print(stderr, name, &res);
	record(f, name, injected, &res);
	h_assert_clean(&res, (long)f->nitems);
}

/* Stop every daemon with SIGTERM: exit 0, no sanitizer report. */
static void
stop_all(struct fx *f)
{
	for (int i = 0; i < f->nd; i++) {
		assert_int_equal(h_daemon_stop(&f->h.d[i], SIGTERM), 0);
		h_assert_log_clean(&f->h.d[i]);
	}
}

/* The primary every sentinel names, when they all name the same; else 0. */
static int
agreed_primary(struct fx *f)
{
	int port = h_sentinel_master_port(f->sentinels[0].port, MASTER);

	for (int i = 1; i < NSENTINELS && port != 0; i++)
		if (h_sentinel_master_port(f->sentinels[i].port, MASTER) !=
		    port)
			port = 0;
	return port;
}

/* lr:stats received on the primary c is connected to. */
static long long
received(struct fx *f)
{
	char *v = h_str(f->h.c, "HGET %sstats received", P);
	long long n = v != NULL ? strtoll(v, NULL, 10) : 0;

	free(v);
	return n;
}

/* --- (a) Sentinel failover after kill -9 of the primary --------------------- */

static void
test_sentinel_failover_kill9(void **state)
{
	struct fx *f = *state;
	const char *name = "HA: primary kill -9, Sentinel failover";
	int n = soak ? 10000 : 3000, old_port, new_port = 0, code;
	long long t_kill, t_promoted = 0, t_routed = 0, stable_since = 0;
	long long base, until, shorts = 0, queued;
	int acks = 1;
	bool saw_503 = false;
	char redis[600], injected[600], *body = NULL;
	long twice;

	start_replicated(f, NREPLICAS);
	start_sentinels(f);
	old_port = f->nodes[0].port;
	/* LR_HA_ACKS=0 measures the same without replica acks (README). */
	if (getenv("LR_HA_ACKS") != NULL)
		acks = atoi(getenv("LR_HA_ACKS"));
	snprintf(redis, sizeof(redis), "sentinels = [\"127.0.0.1:%d\", "
	    "\"127.0.0.1:%d\", \"127.0.0.1:%d\"]; master_name = \"" MASTER "\"; "
	    "replica_acks = %d; replica_ack_timeout = %d;",
	    f->sentinels[0].port, f->sentinels[1].port, f->sentinels[2].port,
	    acks, ACK_TIMEOUT_MS);
	write_conf(f, redis);
	start_daemons(f, 2);

	/* The stream: the first half pushed and confirmed, the kill lands
	 * while it is being routed. */
	push_batch = PUSH_BATCH_MAX;
	assert_int_equal(push_confirmed(f, 0, n / 2), n / 2);
	push_batch = PUSH_BATCH;
	queued = h_int(f->h.c, "LLEN lr:incoming");
	t_kill = h_now_ms();
	h_redis_stop(&f->nodes[0], SIGKILL);
	redisFree(f->h.c);
	f->h.c = NULL;

	/*
	 * No primary until the sentinels agree (/healthz says so); the
	 * instances register on the new one by themselves. The producer
	 * waits until every sentinel has named the same primary for
	 * STABLE_MS: under these short timeouts a sentinel that missed the
	 * first election may run a second failover right after it.
	 */
	until = h_now_ms() + 2 * H_WAIT_MS;
	while (h_now_ms() < until) {
		long long now = h_now_ms();
		int port = agreed_primary(f);

		if (!saw_503 && h_http_get(f->h.http_port, "GET", "/healthz",
		    NULL) == 503)
			saw_503 = true;
		if (t_routed == 0 && (h_log_count(&f->h.d[0],
		    "registered;") >= 2 || h_log_count(&f->h.d[1],
		    "registered;") >= 2))
			t_routed = now;
		if (port == 0 || port == old_port) {
			new_port = 0;
		} else {
			if (t_promoted == 0)
				t_promoted = now;
			if (port != new_port) {
				new_port = port;
				stable_since = now;
			}
			if (t_routed != 0 && now - stable_since >= STABLE_MS)
				break;
		}
		h_sleep_ms(20);
	}
	assert_true(new_port != 0 && t_routed != 0);
	assert_true(saw_503);
	for (int i = 1; i <= NREPLICAS; i++)
		if (f->nodes[i].port == new_port)
			f->h.c = h_redis_connect(&f->nodes[i]);
	assert_non_null(f->h.c);
	/* The other replica follows the new primary: WAIT 1 can answer. */
	assert_true(h_wait_replicas_up(f->h.c, 1));

	/* The producer goes on against the new primary. */
	base = received(f);
	assert_int_equal(push_confirmed(f, n / 2, n - n / 2), n - n / 2);
	until = h_now_ms() + H_WAIT_MS;
	while (received(f) == base && h_now_ms() < until)
		h_sleep_ms(10);
	assert_true(received(f) > base);
	/* leadctl finds the new primary through the sentinels too. */
	ctl_push(f, n + 1, 99);
	code = h_http_get(f->h.http_port, "GET", "/healthz", NULL);
	until = h_now_ms() + H_WAIT_MS;
	while (code != 200 && h_now_ms() < until) {
		h_sleep_ms(50);
		code = h_http_get(f->h.http_port, "GET", "/healthz", NULL);
	}
	assert_int_equal(code, 200);
	assert_int_equal(h_http_get(f->h.http_port, "GET", "/metrics", &body),
	    200);
	if (acks > 0) {
		shorts = (long long)h_metric(body,
		    "leadrouted_replica_ack_short_total");
		assert_true(h_metric(body, "leadrouted_replica_acks") >= 1);
	}
	free(body);

	close_some(f, 50);
	settle(f, 2);
	twice = routed_twice(f);
	fprintf(stderr, "%s: %lld leads queued at the kill; kill -9 to new primary named %.1f s, to routing again %.1f s; %ld leads routed twice (bound %d); %lld short WAITs on daemon 0\n",
	    name, queued, (double)(t_promoted - t_kill) / 1000.0,
	    (double)(t_routed - t_kill) / 1000.0, twice, IN_FLIGHT_BOUND,
	    shorts);
	snprintf(injected, sizeof(injected),
	    "SIGKILL of the primary mid-stream; 2 replicas, 3 sentinels (down-after %d ms), replica_acks = %d, producers confirm with WAIT 1; 2 instances. Kill to promotion %.1f s, to routing again %.1f s; %ld leads routed twice (bound %d)",
	    DOWN_AFTER_MS, acks, (double)(t_promoted - t_kill) / 1000.0,
	    (double)(t_routed - t_kill) / 1000.0, twice, IN_FLIGHT_BOUND);
	check(f, name, injected);
	assert_true(twice >= 0 && twice <= IN_FLIGHT_BOUND);
	stop_all(f);
}

/* --- (b) a replica promoted by hand -------------------------------------- */

/* Point the "VIP" (a symlink: what a DNS name or a managed endpoint does)
 * at node i's socket. */
static void
point_vip(struct fx *f, int i)
{
	char vip[400], tmp[420], target[400];

	snprintf(vip, sizeof(vip), "%s/vip.sock", f->h.dir);
	snprintf(tmp, sizeof(tmp), "%s.new", vip);
	snprintf(target, sizeof(target), "%s/redis.sock", f->nodes[i].dir);
	(void)unlink(tmp);
	assert_int_equal(symlink(target, tmp), 0);
	assert_int_equal(rename(tmp, vip), 0);
}

static void
test_promoted_by_hand(void **state)
{
	struct fx *f = *state;
	const char *name = "HA: replica promoted by hand";
	int n = soak ? 10000 : 3000;
	long long t_switch, t_routed, base, until, queued;
	char redis[600], injected[600];
	redisContext *old;
	redisReply *r;
	long twice;

	start_replicated(f, 1);
	point_vip(f, 0);
	snprintf(redis, sizeof(redis), "unix_socket = \"%s/vip.sock\"; "
	    "replica_acks = 1; replica_ack_timeout = %d;", f->h.dir,
	    ACK_TIMEOUT_MS);
	write_conf(f, redis);
	start_daemons(f, 2);

	push_batch = PUSH_BATCH_MAX;
	assert_int_equal(push_confirmed(f, 0, n / 2), n / 2);
	push_batch = PUSH_BATCH;
	queued = h_int(f->h.c, "LLEN lr:incoming");

	/* By hand, as ops would: promote the replica, move the endpoint,
	 * demote the old primary. Commits between the first and the last
	 * step land on the old primary and are lost with its data. */
	t_switch = h_now_ms();
	old = f->h.c;
	f->h.c = h_redis_connect(&f->nodes[1]);
	freeReplyObject(h_cmd(f->h.c, "REPLICAOF NO ONE"));
	point_vip(f, 1);
	h_sleep_ms(100);
	r = redisCommand(old, "REPLICAOF 127.0.0.1 %d", f->nodes[1].port);
	assert_non_null(r);
	freeReplyObject(r);
	redisFree(old);
	/* Routing again: an instance registered on the new primary. */
	until = h_now_ms() + H_WAIT_MS;
	while (h_log_count(&f->h.d[0], "registered;") < 2 &&
	    h_log_count(&f->h.d[1], "registered;") < 2 && h_now_ms() < until)
		h_sleep_ms(10);
	t_routed = h_now_ms();
	assert_true(t_routed < until);
	assert_true(h_wait_replicas_up(f->h.c, 1));

	base = received(f);
	assert_int_equal(push_confirmed(f, n / 2, n - n / 2), n - n / 2);
	until = h_now_ms() + H_WAIT_MS;
	while (received(f) == base && h_now_ms() < until)
		h_sleep_ms(10);
	assert_true(received(f) > base);

	close_some(f, 50);
	settle(f, 2);
	twice = routed_twice(f);
	fprintf(stderr, "%s: %lld leads queued at the promotion; promotion to routing again %.1f s; %ld leads routed twice (bound %d)\n",
	    name, queued, (double)(t_routed - t_switch) / 1000.0, twice,
	    IN_FLIGHT_BOUND);
	snprintf(injected, sizeof(injected),
	    "REPLICAOF NO ONE on the replica, the endpoint (a symlinked Unix socket) moved to it, the old primary demoted 100 ms later (REPLICAOF), mid-stream; replica_acks = 1; 2 instances. Promotion to routing again %.1f s; %ld leads routed twice (bound %d)",
	    (double)(t_routed - t_switch) / 1000.0, twice, IN_FLIGHT_BOUND);
	check(f, name, injected);
	assert_true(twice >= 0 && twice <= IN_FLIGHT_BOUND);
	stop_all(f);
}

/* --- the TLS recipe: a TLS-only Redis with an ACL user, through stunnel ---- */

/* Connect to the Unix socket path and AUTH user pass: NULL until it works. */
static redisContext *
connect_auth(const char *path, const char *user, const char *pass)
{
	redisContext *c = redisConnectUnix(path);
	redisReply *r;

	if (c == NULL || c->err != 0) {
		redisFree(c);
		return NULL;
	}
	r = redisCommand(c, "AUTH %s %s", user, pass);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(r);
	return c;
}

static void
test_tls_recipe_acl_user(void **state)
{
	struct fx *f = *state;
	const char *name = "HA: TLS-only Redis through stunnel, ACL user";
	char path[600], sock[600], text[4096], log[600], redis[800];
	const char *openssl[] = {"openssl", "req", "-x509", "-newkey",
	    "rsa:2048", "-nodes", "-keyout", NULL, "-out", NULL, "-days", "1",
	    "-subj", "/CN=localhost", NULL};
	char key[600], cert[600];
	const char *argv[3] = {NULL, NULL, NULL};
	long long until;
	int port = h_free_port();

	snprintf(key, sizeof(key), "%s/key.pem", f->h.dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", f->h.dir);
	openssl[7] = key;
	openssl[9] = cert;
	snprintf(log, sizeof(log), "%s/openssl.log", f->h.dir);
	assert_int_equal(h_reap(h_spawn(openssl, NULL, log, NULL), "openssl"),
	    0);

	/* Redis speaks TLS only, and only to the ACL user lr. */
	snprintf(path, sizeof(path), "%s/redis-tls.conf", f->h.dir);
	snprintf(text, sizeof(text), "port 0\ntls-port %d\nbind 127.0.0.1\n"
	    "tls-cert-file %s\ntls-key-file %s\ntls-ca-cert-file %s\n"
	    "tls-auth-clients no\ndir %s\nsave \"\"\nappendonly no\n"
	    "user default off\nuser lr on >s3cret ~* &* +@all\n", port, cert,
	    key, cert, f->h.dir);
	h_write_file(path, text);
	argv[0] = "redis-server";
	argv[1] = path;
	snprintf(log, sizeof(log), "%s/redis.log", f->h.dir);
	f->tls_redis = h_spawn(argv, NULL, log, NULL);

	/* The recipe: stunnel in client mode, on a Unix socket. */
	snprintf(sock, sizeof(sock), "%s/redis-tls.sock", f->h.dir);
	snprintf(path, sizeof(path), "%s/stunnel.conf", f->h.dir);
	snprintf(text, sizeof(text), "foreground = yes\npid =\n[redis]\n"
	    "client = yes\naccept = %s\nconnect = 127.0.0.1:%d\n"
	    "CAfile = %s\nverifyChain = yes\ncheckHost = localhost\n", sock,
	    port, cert);
	h_write_file(path, text);
	argv[0] = "stunnel";
	snprintf(log, sizeof(log), "%s/stunnel.log", f->h.dir);
	f->stunnel = h_spawn(argv, NULL, log, NULL);
	until = h_now_ms() + H_WAIT_MS;
	while ((f->h.c = connect_auth(sock, "lr", "s3cret")) == NULL &&
	    h_now_ms() < until)
		h_sleep_ms(20);
	assert_non_null(f->h.c);

	snprintf(redis, sizeof(redis), "unix_socket = \"%s\"; "
	    "username = \"lr\"; password = \"s3cret\";", sock);
	write_conf(f, redis);
	start_daemons(f, 1);
	ctl_push(f, 1, 99);
	close_some(f, 50);
	settle(f, 1);
	check(f, name, "leadctl push of 99 leads and routing over stunnel (TLS, certificate checked) to a Redis with no plain port and the default user off; the daemon and leadctl log in as ACL user lr");
	stop_all(f);
}

/* --- a sentinel that wants AUTH, a forced failover --------------------------- */

/* SENTINEL what MASTER to the sentinel on port, as user default. */
static redisReply *
sentinel_cmd(int port, const char *pass, const char *what)
{
	redisContext *c = redisConnect("127.0.0.1", port);
	redisReply *r;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	r = redisCommand(c, "AUTH default %s", pass);
	assert_non_null(r);
	assert_int_not_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);
	r = redisCommand(c, "SENTINEL %s " MASTER, what);
	assert_non_null(r);
	redisFree(c);
	return r;
}

static void
test_sentinel_auth_switch_master(void **state)
{
	struct fx *f = *state;
	const char *name = "HA: SENTINEL FAILOVER, sentinel with AUTH";
	char redis[600];
	long long until;
	redisReply *r;
	int n = 600;

	start_replicated(f, 1);
	h_sentinel_start(&f->sentinels[0], f->h.dir, "s0", MASTER,
	    f->nodes[0].port, 1, 5000, 10000, "requirepass s3ntinel\n");
	until = h_now_ms() + H_WAIT_MS;
	for (;;) {
		r = sentinel_cmd(f->sentinels[0].port, "s3ntinel",
		    "replicas");
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
			freeReplyObject(r);
			break;
		}
		freeReplyObject(r);
		assert_true(h_now_ms() < until);
		h_sleep_ms(50);
	}
	snprintf(redis, sizeof(redis), "sentinels = [\"127.0.0.1:%d\"]; "
	    "master_name = \"" MASTER "\"; sentinel_username = \"default\"; "
	    "sentinel_password = \"s3ntinel\";", f->sentinels[0].port);
	write_conf(f, redis);
	start_daemons(f, 1);
	assert_int_equal(push_confirmed(f, 0, n / 2), n / 2);

	/* The old primary stays up: the daemon learns of the switch from
	 * +switch-master (or from a READONLY once it is demoted). */
	/* The sentinel may not rate the replica yet (NOGOODSLAVE): again. */
	until = h_now_ms() + H_WAIT_MS;
	for (;;) {
		bool ok;

		r = sentinel_cmd(f->sentinels[0].port, "s3ntinel", "FAILOVER");
		ok = r->type != REDIS_REPLY_ERROR;
		if (!ok && h_now_ms() > until)
			fail_msg("SENTINEL FAILOVER: %s", r->str);
		freeReplyObject(r);
		if (ok)
			break;
		h_sleep_ms(100);
	}
	until = h_now_ms() + H_WAIT_MS;
	while (h_log_count(&f->h.d[0], "registered;") < 2 &&
	    h_now_ms() < until)
		h_sleep_ms(20);
	assert_true(h_log_contains(&f->h.d[0],
	    "sentinels switched the primary of 'lr' to 127.0.0.1:"));
	assert_true(h_log_count(&f->h.d[0], "registered;") >= 2);
	redisFree(f->h.c);
	f->h.c = h_redis_connect(&f->nodes[1]);
	assert_true(h_wait_replicas_up(f->h.c, 1));
	assert_int_equal(push_confirmed(f, n / 2, n / 2), n / 2);
	close_some(f, 50);
	settle(f, 1);
	check(f, name, "SENTINEL FAILOVER (forced; the old primary stays up and is demoted) mid-stream, one sentinel with requirepass, the daemon logs in to it as user default");
	stop_all(f);
}

/* --- (c) Redis Cluster: the prefix's slot migrated mid-stream ---------------- */

#define CLUSTER_PREFIX "{acme}:"

/* The node (index into f->nodes) that serves the prefix's slot now. */
static int
slot_owner(struct fx *f)
{
	for (int i = 0; i < 3; i++) {
		redisContext *c = h_redis_connect(&f->nodes[i]);
		redisReply *r = h_cmd(c, "EXISTS " CLUSTER_PREFIX "incoming");
		bool here = r->type == REDIS_REPLY_INTEGER;

		freeReplyObject(r);
		redisFree(c);
		if (here)
			return i;
	}
	fail_msg("no node serves the slot of " CLUSTER_PREFIX);
	return -1;
}

static char *
node_id(redisContext *c)
{
	return h_str(c, "CLUSTER MYID");
}

/*
 * Move slot from node src to node dst as redis-cli --cluster reshard
 * does: IMPORTING / MIGRATING, MIGRATE the keys in small batches (slowly,
 * so that the daemons work while the slot is split), then the new owner
 * told to every node.
 */
static void
migrate_slot(struct fx *f, long long slot, int src, int dst)
{
	redisContext *s = h_redis_connect(&f->nodes[src]);
	redisContext *d = h_redis_connect(&f->nodes[dst]);
	char *sid = node_id(s), *did = node_id(d), port[16];
	redisReply *keys, *r;

	freeReplyObject(h_cmd(d, "CLUSTER SETSLOT %lld IMPORTING %s", slot,
	    sid));
	freeReplyObject(h_cmd(s, "CLUSTER SETSLOT %lld MIGRATING %s", slot,
	    did));
	snprintf(port, sizeof(port), "%d", f->nodes[dst].port);
	for (;;) {
		const char *argv[8 + 20];
		size_t lens[8 + 20], n = 0;

		keys = h_cmd(s, "CLUSTER GETKEYSINSLOT %lld 20", slot);
		if (keys->elements == 0) {
			freeReplyObject(keys);
			break;
		}
		argv[n++] = "MIGRATE";
		argv[n++] = "127.0.0.1";
		argv[n++] = port;
		argv[n++] = "";
		argv[n++] = "0";
		argv[n++] = "5000";
		argv[n++] = "KEYS";
		for (size_t i = 0; i < keys->elements; i++)
			argv[n++] = keys->element[i]->str;
		for (size_t i = 0; i < n; i++)
			lens[i] = strlen(argv[i]);
		r = redisCommandArgv(s, (int)n, argv, lens);
		assert_non_null(r);
		if (r->type == REDIS_REPLY_ERROR)
			fail_msg("MIGRATE: %s", r->str);
		freeReplyObject(r);
		freeReplyObject(keys);
		h_sleep_ms(2);	/* the daemons see the slot split a while */
	}
	for (int i = 0; i < 3; i++) {
		redisContext *c = h_redis_connect(&f->nodes[i]);

		freeReplyObject(h_cmd(c, "CLUSTER SETSLOT %lld NODE %s", slot,
		    did));
		redisFree(c);
	}
	free(sid);
	free(did);
	redisFree(s);
	redisFree(d);
}

static void
test_cluster_slot_migrated(void **state)
{
	struct fx *f = *state;
	const char *name = "HA: Redis Cluster, the prefix's slot migrated";
	int n = soak ? 10000 : 3000, src, dst, seed;
	long long slot, t_moved, t_end, t_routed, until, queued, base;
	char redis[300], injected[600];
	long twice;

	P = CLUSTER_PREFIX;
	confirm = false;
	h_cluster_start(f->nodes, 3, f->h.dir);
	src = slot_owner(f);
	dst = (src + 1) % 3;
	seed = (src + 2) % 3;	/* not the owner: the daemon follows MOVED */
	f->h.c = h_redis_connect(&f->nodes[src]);
	slot = h_int(f->h.c, "CLUSTER KEYSLOT " CLUSTER_PREFIX "incoming");
	snprintf(redis, sizeof(redis), "host = \"127.0.0.1\"; port = %d; "
	    "cluster = true; prefix = \"" CLUSTER_PREFIX "\";",
	    f->nodes[seed].port);
	write_conf(f, redis);
	start_daemons(f, 2);

	/* The migration starts while the first half is being routed. */
	assert_int_equal(push_confirmed(f, 0, n / 2), n / 2);
	queued = h_int(f->h.c, "LLEN " CLUSTER_PREFIX "incoming");
	t_moved = h_now_ms();
	migrate_slot(f, slot, src, dst);
	t_end = h_now_ms();
	redisFree(f->h.c);
	f->h.c = h_redis_connect(&f->nodes[dst]);
	/* Routing again: commits counted on the new owner. */
	base = received(f);
	assert_int_equal(push_confirmed(f, n / 2, n - n / 2), n - n / 2);
	until = h_now_ms() + H_WAIT_MS;
	while (received(f) == base && h_now_ms() < until)
		h_sleep_ms(10);
	t_routed = h_now_ms();
	assert_true(received(f) > base);
	assert_true(h_log_count(&f->h.d[0], "MOVED") > 0);
	ctl_push(f, n + 1, 99);
	close_some(f, 50);
	settle(f, 2);
	twice = routed_twice(f);
	fprintf(stderr, "%s: %lld leads queued when the migration began; slot %lld moved in %.1f s, routing on the new owner %.1f s after; %ld leads routed twice\n",
	    name, queued, slot, (double)(t_end - t_moved) / 1000.0,
	    (double)(t_routed - t_end) / 1000.0, twice);
	snprintf(injected, sizeof(injected),
	    "3 masters; the slot of prefix " CLUSTER_PREFIX " (%lld) migrated to another node mid-stream (IMPORTING/MIGRATING, MIGRATE in batches of 20 keys 2 ms apart, SETSLOT NODE) in %.1f s; the daemons start on a third node and follow MOVED; leadctl push after; 2 instances. Routing on the new owner %.1f s after the migration; %ld leads routed twice",
	    slot, (double)(t_end - t_moved) / 1000.0,
	    (double)(t_routed - t_end) / 1000.0, twice);
	check(f, name, injected);
	/* Idle daemons wake on a push to the slot's new node at once (their
	 * tracking moved with the slot), not at the 2 s fallback poll. */
	for (int i = 0; i < 3; i++) {
		char id[32], key[96], lead[160];
		long long t0, took;

		h_sleep_ms(300);
		snprintf(id, sizeof(id), "wake-%d", i);
		snprintf(key, sizeof(key), CLUSTER_PREFIX "lead:%s", id);
		snprintf(lead, sizeof(lead),
		    "{\"id\":\"%s\",\"email\":\"w%d@acme.example\"}", id, i);
		t0 = h_now_ms();
		freeReplyObject(h_cmd(f->h.c, "LPUSH " CLUSTER_PREFIX "incoming %s",
		    lead));
		while (h_int(f->h.c, "EXISTS %s", key) == 0 &&
		    h_now_ms() - t0 < H_WAIT_MS)
			h_sleep_ms(5);
		took = h_now_ms() - t0;
		if (took > 1000)
			fail_msg("lead %s routed %lld ms after its push: no wake, the fallback poll",
			    id, took);
	}
	stop_all(f);
}

/* --- no sentinel answers ------------------------------------------------- */

static void
test_no_sentinel_answers(void **state)
{
	struct fx *f = *state;
	char redis[400], conf[600], out[600], *text = NULL;
	const char *argv[] = {NULL, "-c", conf, "push", "-", NULL};
	int p1 = h_free_port(), p2 = h_free_port(), code = -1;
	long long until;

	snprintf(redis, sizeof(redis), "sentinels = [\"127.0.0.1:%d\", "
	    "\"127.0.0.1:%d\"]; master_name = \"" MASTER "\";", p1, p2);
	write_conf(f, redis);
	h_daemon_start(&f->h.d[0], f->h.conf, f->h.dir, "d0");
	f->nd = 1;
	/* The daemon waits, and says why on /healthz. */
	until = h_now_ms() + H_WAIT_MS;
	while (h_now_ms() < until) {
		free(text);
		text = NULL;
		code = h_http_get(f->h.http_port, "GET", "/healthz", &text);
		if (code == 503 && strstr(text, "no primary known") != NULL)
			break;
		h_sleep_ms(50);
	}
	assert_int_equal(code, 503);
	assert_non_null(strstr(text, "no primary known: sentinel 127.0.0.1:"));
	free(text);
	assert_true(h_log_contains(&f->h.d[0], "no primary known"));

	/* leadctl says the same and fails. */
	argv[0] = getenv("LEADCTL_BIN") != NULL ? getenv("LEADCTL_BIN") :
	    "build/test/leadctl";
	snprintf(conf, sizeof(conf), "%s/lr1.conf", f->h.dir);
	snprintf(out, sizeof(out), "%s/ctl.out", f->h.dir);
	assert_int_equal(h_reap(h_spawn(argv, NULL, out, NULL), "leadctl"), 1);
	text = h_slurp(out);
	assert_non_null(strstr(text, "leadctl: cannot find the redis primary of 'lr': no primary known: sentinel 127.0.0.1:"));
	free(text);
	stop_all(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_sentinel_failover_kill9),
		TEST(test_promoted_by_hand),
		TEST(test_tls_recipe_acl_user),
		TEST(test_no_sentinel_answers),
		TEST(test_sentinel_auth_switch_master),
		TEST(test_cluster_slot_migrated),
	};

	soak = getenv("LR_SOAK") != NULL && strcmp(getenv("LR_SOAK"), "0") != 0;
	srandom((unsigned)getpid());
	/* LR_HA=pattern runs only the matching scenarios; empty, all. */
	if (getenv("LR_HA") != NULL && *getenv("LR_HA") != '\0')
		cmocka_set_test_filter(getenv("LR_HA"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
