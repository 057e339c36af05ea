/* harness.c - private redis-server and leadrouted processes, and the fixture, for integration tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "checker.h"

void
h_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long long
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
h_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

void
h_tmpdir(char *out, size_t len)
{
	snprintf(out, len, "/tmp/lr-itest-XXXXXX");
	assert_non_null(mkdtemp(out));
}

void
h_cleanup_dir(const char *dir)
{
	char cmd[600];

	if (getenv("LR_KEEP_TEST_DIRS") != NULL || strncmp(dir, "/tmp/lr-", 8))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

int
h_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* In the child: open path onto fd, or exit 126. */
static void
redirect(const char *path, int fd, int flags)
{
	int t = open(path, flags, 0644);

	if (t < 0)
		_exit(126);
	dup2(t, fd);
	close(t);
}

pid_t
h_spawn(const char *const argv[], const char *in, const char *out,
    const char *err)
{
	pid_t pid = fork();
	char *args[40];
	int n;

	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		redirect(in != NULL ? in : "/dev/null", STDIN_FILENO, O_RDONLY);
		redirect(out, STDOUT_FILENO, O_WRONLY | O_CREAT | O_APPEND);
		if (err != NULL)
			redirect(err, STDERR_FILENO, O_WRONLY | O_CREAT | O_APPEND);
		else
			dup2(STDOUT_FILENO, STDERR_FILENO);
		/* exec wants mutable strings; the child may copy and leak. */
		for (n = 0; argv[n] != NULL && n < 39; n++)
			args[n] = strdup(argv[n]);
		args[n] = NULL;
		execvp(args[0], args);
		_exit(127);
	}
	return pid;
}

static int
exit_code(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
}

/* waitpid within the bound: its result, or 0 after a SIGKILL at the bound. */
static pid_t
wait_bounded(pid_t pid, int *status)
{
	long long until = h_now_ms() + H_WAIT_MS;
	pid_t p;

	while ((p = waitpid(pid, status, WNOHANG)) == 0) {
		if (h_now_ms() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return 0;
		}
		h_sleep_ms(5);
	}
	return p;
}

int
h_reap(pid_t pid, const char *what)
{
	int status = 0;
	pid_t p = wait_bounded(pid, &status);

	if (p == 0)
		fail_msg("%s did not finish within %d ms", what, H_WAIT_MS);
	if (p != pid)
		fail_msg("cannot wait for %s: %s", what, strerror(errno));
	return exit_code(status);
}

static bool
redis_pings(int port)
{
	struct timeval tv = {0, 200000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisReply *r;
	bool ok = false;

	if (c == NULL)
		return false;
	if (c->err == 0 && (r = redisCommand(c, "PING")) != NULL) {
		ok = r->type == REDIS_REPLY_STATUS;
		freeReplyObject(r);
	}
	redisFree(c);
	return ok;
}

static void
redis_spawn(struct h_redis *r)
{
	char port[16], log[300];
	const char *argv[32] = {"redis-server", "--port", port, "--bind", "127.0.0.1",
	    "--dir", r->dir, "--save", "", "--appendonly",
	    r->aof ? "yes" : "no", "--appendfsync", "everysec",
	    "--daemonize", "no", "--protected-mode", "no", NULL};
	long long until = h_now_ms() + H_WAIT_MS;
	size_t n = 17;

	for (size_t i = 0; i < 7 && r->extra[i] != NULL; i++)
		argv[n++] = r->extra[i];
	argv[n] = NULL;

	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(log, sizeof(log), "%s/redis.log", r->dir);
	r->pid = h_spawn(argv, NULL, log, NULL);
	while (!redis_pings(r->port)) {
		if (h_now_ms() > until)
			fail_msg("redis-server on port %d did not start", r->port);
		h_sleep_ms(10);
	}
}

void
h_redis_start(struct h_redis *r, const char *dir, bool aof)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	r->aof = aof;
	r->port = h_free_port();
	redis_spawn(r);
}

void
h_redis_start_args(struct h_redis *r, const char *dir, bool aof,
    const char *const *extra)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	r->aof = aof;
	for (size_t i = 0; i < 7 && extra != NULL && extra[i] != NULL; i++)
		r->extra[i] = extra[i];
	r->port = h_free_port();
	redis_spawn(r);
}

void
h_redis_restart(struct h_redis *r)
{
	redis_spawn(r);
}

void
h_redis_stop(struct h_redis *r, int sig)
{
	int status;

	if (r->pid <= 0)
		return;
	kill(r->pid, sig);
	waitpid(r->pid, &status, 0);
	r->pid = 0;
}

redisContext *
h_redis_connect(const struct h_redis *r)
{
	redisContext *c = redisConnect("127.0.0.1", r->port);

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	return c;
}

const char *
h_default_body(void)
{
	return
	    "scoring = {\n"
	    "  mql_threshold = 60;\n"
	    "  rules = (\n"
	    "    { field = \"title\"; op = \"contains_any\"; values = [\"vp\", \"director\", \"head\"]; points = 20; },\n"
	    "    { field = \"employees\"; op = \"between\"; min = 100; max = 5000; points = 15; },\n"
	    "    { field = \"industry\"; op = \"in\"; values = [\"software\", \"fintech\"]; points = 10; },\n"
	    "    { field = \"activity.demo_request\"; op = \"is_true\"; points = 30; },\n"
	    "    { field = \"activity.page_views\"; op = \"per\"; points = 2; max = 20; },\n"
	    "    { field = \"email\"; op = \"ends_with_any\"; values = [\"@gmail.com\"]; points = -15; },\n"
	    "    { field = \"source\"; op = \"eq\"; value = \"partner\"; points = 10; }\n"
	    "  );\n"
	    "};\n"
	    "segments = (\n"
	    "  { name = \"small\"; field = \"employees\"; op = \"lt\"; value = 100; },\n"
	    "  { name = \"mid\"; field = \"employees\"; op = \"between\"; min = 100; max = 999; },\n"
	    "  { name = \"large\"; field = \"employees\"; op = \"gte\"; value = 1000; }\n"
	    ");\n"
	    "default_segment = \"small\";\n"
	    "reps = (\n"
	    "  { id = \"ann\"; segments = [\"small\"]; max_open = 100; },\n"
	    "  { id = \"john\"; segments = [\"mid\"]; max_open = 100; },\n"
	    "  { id = \"kim\"; segments = [\"large\"]; max_open = 100; }\n"
	    ");\n";
}

/* The configuration file at path: redis on port, HTTP on http_port (0: none). */
static void
write_conf(const char *path, int port, int http_port, const char *body)
{
	char listen[32] = "";
	FILE *f;

	if (http_port > 0)
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", http_port);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "redis = { host = \"127.0.0.1\"; port = %d; };\n"
	    "http = { listen = \"%s\"; };\n%s", port, listen,
	    body != NULL ? body : h_default_body());
	fclose(f);
}

void
h_write_conf(char *path, size_t len, const char *dir, const char *name,
    int port, const char *body)
{
	snprintf(path, len, "%s/%s", dir, name);
	write_conf(path, port, 0, body);
}

static const char *
daemon_bin(void)
{
	const char *b = getenv("LEADROUTED_BIN");

	return b != NULL ? b : "build/test/leadrouted";
}

void
h_daemon_start(struct h_daemon *d, const char *conf, const char *dir,
    const char *name)
{
	const char *argv[] = {daemon_bin(), "-d", "-c", NULL, NULL};

	memset(d, 0, sizeof(*d));
	snprintf(d->conf, sizeof(d->conf), "%s", conf);
	argv[3] = d->conf;
	snprintf(d->log, sizeof(d->log), "%s/%s.log", dir, name);
	d->pid = h_spawn(argv, NULL, d->log, NULL);
}

void
h_daemon_signal(const struct h_daemon *d, int sig)
{
	if (d->pid > 0)
		kill(d->pid, sig);
}

int
h_daemon_stop(struct h_daemon *d, int sig)
{
	int status = 0;
	pid_t p;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	p = wait_bounded(d->pid, &status);
	d->pid = 0;
	if (p == 0)
		fail_msg("leadrouted did not stop within %d ms", H_WAIT_MS);
	return exit_code(status);
}

bool
h_daemon_alive(const struct h_daemon *d)
{
	int status;

	return d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == 0;
}

long
h_daemon_status_kb(const struct h_daemon *d, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)d->pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

long
h_daemon_rss_kb(const struct h_daemon *d)
{
	return h_daemon_status_kb(d, "VmRSS");
}

int
h_log_count(const struct h_daemon *d, const char *s)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen(d->log, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, s) != NULL;
	fclose(f);
	return n;
}

bool
h_log_contains(const struct h_daemon *d, const char *s)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen(d->log, "r");

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

bool
h_wait_log(const struct h_daemon *d, const char *s)
{
	long long until = h_now_ms() + H_WAIT_MS;

	while (!h_log_contains(d, s)) {
		if (h_now_ms() >= until)
			return false;
		h_sleep_ms(10);
	}
	return true;
}

void
h_assert_log_clean(const struct h_daemon *d)
{
	static const char *const bad[] = {"AddressSanitizer",
	    "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (h_log_contains(d, bad[i]))
			fail_msg("%s shows '%s'", d->log, bad[i]);
}

redisReply *
h_cmd(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	return r;
}

long long
h_int(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	long long v = 0;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	else if (r->type == REDIS_REPLY_NIL)
		v = 0;
	else
		fail_msg("unexpected reply type %d to '%s'", r->type, fmt);
	freeReplyObject(r);
	return v;
}

char *
h_str(redisContext *c, const char *fmt, ...)
{
	redisReply *r;
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
		s = strndup(r->str, r->len);
	freeReplyObject(r);
	return s;
}

void
h_push(redisContext *c, const char *key, const char *buf, size_t len)
{
	redisReply *r = redisCommand(c, "LPUSH %s %b", key, buf, len);

	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	freeReplyObject(r);
}

void
h_push_lead(redisContext *c, const char *json)
{
	h_push(c, "lr:incoming", json, strlen(json));
}

void
h_event(redisContext *c, const char *json)
{
	h_push(c, "lr:events", json, strlen(json));
}

/* Poll "CMD key" until it is n or more (down: n or less), within the bound. */
static bool
wait_count(redisContext *c, const char *cmd, const char *key, long long n,
    bool down)
{
	long long until = h_now_ms() + H_WAIT_MS, v;

	for (;;) {
		v = h_int(c, "%s %s", cmd, key);
		if (down ? v <= n : v >= n)
			return true;
		if (h_now_ms() > until)
			return false;
		h_sleep_ms(5);
	}
}

bool
h_wait_xlen(redisContext *c, const char *key, long long n)
{
	return wait_count(c, "XLEN", key, n, false);
}

bool
h_wait_llen_at_most(redisContext *c, const char *key, long long n)
{
	return wait_count(c, "LLEN", key, n, true);
}

bool
h_wait_zcard_at_most(redisContext *c, const char *key, long long n)
{
	return wait_count(c, "ZCARD", key, n, true);
}

bool
h_wait_llen(redisContext *c, const char *key, long long n)
{
	return wait_count(c, "LLEN", key, n, false);
}

bool
h_wait_zcard(redisContext *c, const char *key, long long n)
{
	return wait_count(c, "ZCARD", key, n, false);
}

bool
h_wait_field(redisContext *c, const char *key, const char *field,
    const char *value)
{
	long long until = h_now_ms() + H_WAIT_MS;
	char *v;
	bool eq;

	for (;;) {
		v = h_str(c, "HGET %s %s", key, field);
		eq = v != NULL && strcmp(v, value) == 0;
		free(v);
		if (eq)
			return true;
		if (h_now_ms() > until)
			return false;
		h_sleep_ms(5);
	}
}

bool
h_wait_ready(redisContext *c, long long instances)
{
	return wait_count(c, "ZCARD", "lr:instances", instances, false);
}

bool
h_queues_empty(redisContext *c, const char *prefix)
{
	/* One script: read one after the other, a claim or a requeue
	 * between the reads would move payloads past them unseen. */
	redisReply *r = h_cmd(c, "EVAL %s 1 %sincoming %s",
	    "local p = ARGV[1] "
	    "return #redis.call('KEYS', p .. 'inflight:*') + "
	    "redis.call('LLEN', KEYS[1]) + "
	    "redis.call('LLEN', p .. 'events')", prefix, prefix);
	bool empty;

	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	empty = r->integer == 0;
	freeReplyObject(r);
	return empty;
}

/* A list parsed, oldest first, with json_loadb flags. */
static json_t *
list_json(redisContext *c, const char *key, size_t flags)
{
	redisReply *r = h_cmd(c, "LRANGE %s 0 -1", key);
	json_t *a = json_array(), *v;
	json_error_t err;

	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	for (size_t i = r->elements; i > 0; i--) {
		v = json_loadb(r->element[i - 1]->str, r->element[i - 1]->len,
		    flags, &err);
		if (v == NULL)
			fail_msg("%s holds invalid JSON: %s", key, err.text);
		json_array_append_new(a, v);
	}
	freeReplyObject(r);
	return a;
}

json_t *
h_list_json(redisContext *c, const char *key)
{
	return list_json(c, key, 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
h_sort_strings(char **v, size_t n)
{
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_str);
}

char *
h_hash_dump(redisContext *c, const char *key)
{
	redisReply *r = h_cmd(c, "HGETALL %s", key);
	size_t n = r->elements / 2, len = 1;
	char **lines = calloc(n + 1, sizeof(*lines)), *out;

	assert_non_null(lines);
	for (size_t i = 0; i < n; i++) {
		size_t l = r->element[2 * i]->len + r->element[2 * i + 1]->len + 3;

		assert_non_null(lines[i] = malloc(l));
		snprintf(lines[i], l, "%s=%s\n", r->element[2 * i]->str,
		    r->element[2 * i + 1]->str);
		len += l;
	}
	h_sort_strings(lines, n);
	assert_non_null(out = malloc(len));
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		free(lines[i]);
	}
	free(lines);
	freeReplyObject(r);
	return out;
}

long long
h_redis_time_ms(redisContext *c)
{
	redisReply *r = h_cmd(c, "TIME");
	long long ms;

	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	ms = strtoll(r->element[0]->str, NULL, 10) * 1000 +
	    strtoll(r->element[1]->str, NULL, 10) / 1000;
	freeReplyObject(r);
	return ms;
}

/* ---- the fixture ------------------------------------------------------- */

void
h_fx_open(struct h_fx *f, bool aof, const char *const *redis_args)
{
	h_tmpdir(f->dir, sizeof(f->dir));
	h_redis_start_args(&f->redis, f->dir, aof, redis_args);
	f->c = h_redis_connect(&f->redis);
}

void
h_fx_close(struct h_fx *f)
{
	for (int i = 0; i < H_MAX_DAEMONS; i++)
		if (f->d[i].pid > 0)
			(void)h_daemon_stop(&f->d[i], SIGKILL);
	redisFree(f->c);	/* NULL is fine */
	f->c = NULL;
	h_redis_stop(&f->redis, SIGKILL);
	h_cleanup_dir(f->dir);
}

static int
setup_fx(void **state, bool aof)
{
	struct h_fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	h_fx_open(f, aof, NULL);
	*state = f;
	return 0;
}

int
h_setup(void **state)
{
	return setup_fx(state, false);
}

int
h_setup_aof(void **state)
{
	return setup_fx(state, true);
}

int
h_teardown(void **state)
{
	struct h_fx *f = *state;

	h_fx_close(f);
	free(f);
	return 0;
}

void
h_fx_conf(struct h_fx *f, const char *body)
{
	snprintf(f->conf, sizeof(f->conf), "%s/lr.conf", f->dir);
	write_conf(f->conf, f->redis.port, f->http_port, body);
}

void
h_fx_replica_acks(struct h_fx *f, int ms)
{
	char *conf, *at, *out;
	size_t n;

	conf = h_slurp(f->conf);
	assert_non_null(at = strstr(conf, "; };"));
	n = strlen(conf) + 128;
	assert_non_null(out = malloc(n));
	snprintf(out, n, "%.*s; replica_acks = 1; replica_ack_timeout = %d;"
	    " };%s", (int)(at - conf), conf, ms, at + 4);
	h_write_file(f->conf, out);
	free(out);
	free(conf);
}

void
h_fx_start(struct h_fx *f, int n, const char *body)
{
	char name[16];

	assert_true(n >= 1 && n <= H_MAX_DAEMONS);
	h_fx_conf(f, body);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		h_daemon_start(&f->d[i], f->conf, f->dir, name);
	}
	assert_true(h_wait_ready(f->c, n));
}

void
h_fx_stop(struct h_fx *f)
{
	int stopped = 0;

	for (int i = 0; i < H_MAX_DAEMONS; i++) {
		if (f->d[i].pid <= 0)
			continue;
		assert_int_equal(h_daemon_stop(&f->d[i], SIGTERM), 0);
		h_assert_log_clean(&f->d[i]);
		stopped++;
	}
	if (stopped == 0)
		fail_msg("no leadrouted was running to stop");
}

/* ---- files ------------------------------------------------------------- */

char *
h_slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (fp == NULL)
		fail_msg("cannot read '%s': %s", path, strerror(errno));
	do {
		if (cap - len < 4096) {
			cap = cap * 2 + 4096;
			assert_non_null(buf = realloc(buf, cap + 1));
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	fclose(fp);
	buf[len] = '\0';
	return buf;
}

void
h_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		fail_msg("cannot create '%s': %s", path, strerror(errno));
	fputs(text, fp);
	fclose(fp);
}

/* ---- JSON and dead letters --------------------------------------------- */

const char *
h_jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", k);
	return json_string_value(v);
}

long long
h_jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", k);
	return json_integer_value(v);
}

json_t *
h_dead_letters(redisContext *c)
{
	return list_json(c, "lr:dead", JSON_ALLOW_NUL);
}

json_t *
h_newest_dead(redisContext *c, long long n)
{
	json_t *l, *d;

	assert_true(h_wait_llen(c, "lr:dead", n));
	assert_int_equal(h_int(c, "LLEN lr:dead"), n);
	l = h_dead_letters(c);
	d = json_incref(json_array_get(l, (size_t)n - 1));
	json_decref(l);
	return d;
}

static int
b64_value(int ch)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch != '\0' ? strchr(tab, ch) : NULL;

	return p != NULL ? (int)(p - tab) : -1;
}

/* Decode standard, padded base64; NULL when it is not. *outlen gets the size. */
static unsigned char *
b64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s), o = 0;
	unsigned char *out;
	int v[4];

	if (n % 4 != 0 || (out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;

		for (int k = 0; k < 4; k++) {
			v[k] = b64_value(s[i + k]);
			if (v[k] == -1 && !(last && k >= 2 && s[i + k] == '='))
				goto bad;
		}
		if (v[2] == -1 && v[3] != -1)
			goto bad;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (v[2] != -1)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] != -1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

/* The pushed bytes in raw_base64, and no raw. */
static void
check_raw_base64(const char *what, const json_t *raw, const json_t *raw64,
    const char *buf, size_t len)
{
	unsigned char *bytes;
	size_t n;

	if (raw != NULL)
		fail_msg("%s: not UTF-8, yet the dead letter has raw", what);
	if (!json_is_string(raw64))
		fail_msg("%s: raw_base64 missing", what);
	if ((bytes = b64_decode(json_string_value(raw64), &n)) == NULL)
		fail_msg("%s: raw_base64 is not base64", what);
	if (n != len || memcmp(bytes, buf, len) != 0)
		fail_msg("%s: raw_base64 does not decode to the pushed bytes",
		    what);
	free(bytes);
}

/* The pushed bytes in raw, and no raw_base64. */
static void
check_raw(const char *what, const json_t *raw, const json_t *raw64,
    const char *buf, size_t len)
{
	if (raw64 != NULL)
		fail_msg("%s: UTF-8 payload, yet raw_base64 is present", what);
	if (!json_is_string(raw))
		fail_msg("%s: raw missing", what);
	if (json_string_length(raw) != len ||
	    memcmp(json_string_value(raw), buf, len) != 0)
		fail_msg("%s: raw (%zu bytes) differs from the pushed bytes (%zu)",
		    what, json_string_length(raw), len);
}

void
h_check_dead(const char *what, const json_t *dl, const char *reason,
    const char *source, const char *buf, size_t len, bool b64)
{
	const json_t *reason_v = json_object_get(dl, "reason");
	const json_t *detail = json_object_get(dl, "detail");
	const json_t *src = json_object_get(dl, "source");
	const json_t *at = json_object_get(dl, "at_ms");
	const json_t *raw = json_object_get(dl, "raw");
	const json_t *raw64 = json_object_get(dl, "raw_base64");
	long long now = clock_ms(CLOCK_REALTIME);

	if (!json_is_object(dl))
		fail_msg("%s: the dead letter is not an object", what);
	if (!json_is_string(reason_v) ||
	    strcmp(json_string_value(reason_v), reason) != 0)
		fail_msg("%s: reason '%s', expected '%s'", what,
		    json_is_string(reason_v) ? json_string_value(reason_v) :
		    "(none)", reason);
	if (!json_is_string(detail) || json_string_length(detail) == 0)
		fail_msg("%s: detail missing or empty", what);
	if (!json_is_string(src) || strcmp(json_string_value(src), source) != 0)
		fail_msg("%s: source is not '%s'", what, source);
	if (!json_is_integer(at) ||
	    json_integer_value(at) < now - 3600 * 1000LL ||
	    json_integer_value(at) > now + 3600 * 1000LL)
		fail_msg("%s: at_ms is not an integer epoch-ms time of now", what);
	if (b64)
		check_raw_base64(what, raw, raw64, buf, len);
	else
		check_raw(what, raw, raw64, buf, len);
}

/* ---- HTTP ---------------------------------------------------------------- */

int
h_http_send(int port, const char *method, const char *path)
{
	struct sockaddr_in sin;
	struct timeval tv = {10, 0};
	char req[256];
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method,
	    path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	return fd;
}

int
h_http_read(int fd, char **body)
{
	return h_http_answer(fd, NULL, body);
}

int
h_http_answer(int fd, char **head, char **body)
{
	char *buf = NULL, *p;
	size_t len = 0, cap = 0;
	ssize_t n;
	int code = -1;

	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			assert_non_null(buf = realloc(buf, cap));
		}
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL)
		return -1;
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		code = -1;
	p = strstr(buf, "\r\n\r\n");
	if (head != NULL)
		*head = strndup(buf, p != NULL ? (size_t)(p - buf) : len);
	if (body != NULL)
		*body = strdup(p ? p + 4 : "");
	free(buf);
	return code;
}

int
h_http_get(int port, const char *method, const char *path, char **body)
{
	int fd = h_http_send(port, method, path);

	return fd == -1 ? -1 : h_http_read(fd, body);
}

double
h_metric(const char *text, const char *prefix)
{
	const char *p = text;
	size_t len = strlen(prefix);

	while ((p = strstr(p, prefix)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[len] == ' ')
			return strtod(p + len + 1, NULL);
		p += len;
	}
	fail_msg("no sample %s", prefix);
	return -1;
}

/* ---- high availability: replicas, sentinels (itest_ha) ----------------- */

/* Does a server answer PING on port at all (NOAUTH counts)? */
static bool
redis_answers(int port)
{
	struct timeval tv = {0, 200000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisReply *r;
	bool ok = false;

	if (c == NULL)
		return false;
	if (c->err == 0 && (r = redisCommand(c, "PING")) != NULL) {
		ok = true;
		freeReplyObject(r);
	}
	redisFree(c);
	return ok;
}

/* Spawn redis-server on conf (and mode, NULL for none) and wait until it
 * answers PING on r->port. */
static void
spawn_conf(struct h_redis *r, const char *conf, const char *mode)
{
	const char *argv[] = {"redis-server", conf, mode, NULL};
	char log[300];
	long long until = h_now_ms() + H_WAIT_MS;

	snprintf(log, sizeof(log), "%s/redis.log", r->dir);
	r->pid = h_spawn(argv, NULL, log, NULL);
	while (!redis_answers(r->port)) {
		if (h_now_ms() > until)
			fail_msg("redis-server %s on port %d did not start",
			    mode != NULL ? mode : "", r->port);
		h_sleep_ms(10);
	}
}

/* A server of its own in dir/name on a free port: its configuration file
 * dir/name/file (path into conf), opened for writing. */
static FILE *
server_conf(struct h_redis *r, const char *dir, const char *name,
    const char *file, char *conf, size_t len)
{
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s/%s", dir, name);
	if (mkdir(r->dir, 0700) == -1)
		fail_msg("cannot create %s: %s", r->dir, strerror(errno));
	r->port = h_free_port();
	snprintf(conf, len, "%s/%s", r->dir, file);
	assert_non_null(f = fopen(conf, "w"));
	return f;
}

void
h_redis_start_node(struct h_redis *r, const char *dir, const char *name,
    int replica_of, const char *more)
{
	char conf[400];
	FILE *f = server_conf(r, dir, name, "redis.conf", conf, sizeof(conf));

	fprintf(f, "port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"
	    "save \"\"\nappendonly no\ndaemonize no\n"
	    "repl-diskless-sync-delay 0\n"
	    "unixsocket %s/redis.sock\nunixsocketperm 700\n",
	    r->port, r->dir, r->dir);
	if (replica_of > 0)
		fprintf(f, "replicaof 127.0.0.1 %d\n", replica_of);
	if (more != NULL)
		fputs(more, f);
	fclose(f);
	spawn_conf(r, conf, NULL);
}

void
h_sentinel_start(struct h_redis *s, const char *dir, const char *name,
    const char *master, int primary_port, int quorum, long down_ms,
    long failover_ms, const char *more)
{
	char conf[400];
	FILE *f = server_conf(s, dir, name, "sentinel.conf", conf, sizeof(conf));

	fprintf(f, "port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"
	    "daemonize no\n"
	    "sentinel monitor %s 127.0.0.1 %d %d\n"
	    "sentinel down-after-milliseconds %s %ld\n"
	    "sentinel failover-timeout %s %ld\n"
	    "sentinel parallel-syncs %s 2\n",
	    s->port, s->dir, master, primary_port, quorum, master, down_ms,
	    master, failover_ms, master);
	if (more != NULL)
		fputs(more, f);
	fclose(f);
	spawn_conf(s, conf, "--sentinel");
}

int
h_sentinel_master_port(int sentinel_port, const char *master)
{
	struct timeval tv = {0, 300000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", sentinel_port,
	    tv);
	redisReply *r;
	int port = 0;

	if (c == NULL)
		return 0;
	if (c->err == 0 && (r = redisCommand(c,
	    "SENTINEL get-master-addr-by-name %s", master)) != NULL) {
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		    r->element[1]->type == REDIS_REPLY_STRING)
			port = atoi(r->element[1]->str);
		freeReplyObject(r);
	}
	redisFree(c);
	return port;
}

long long
h_sentinel_count(int sentinel_port, const char *what, const char *master)
{
	struct timeval tv = {0, 300000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", sentinel_port,
	    tv);
	redisReply *r;
	long long n = -1;

	if (c == NULL)
		return -1;
	if (c->err == 0 && (r = redisCommand(c, "SENTINEL %s %s", what,
	    master)) != NULL) {
		if (r->type == REDIS_REPLY_ARRAY)
			n = (long long)r->elements;
		freeReplyObject(r);
	}
	redisFree(c);
	return n;
}

bool
h_wait_replicas_up(redisContext *c, long long n)
{
	long long until = h_now_ms() + H_WAIT_MS;
	redisReply *r;
	const char *p;
	long long up;

	while (h_now_ms() < until) {
		r = h_cmd(c, "INFO replication");
		up = 0;
		for (p = r->str; (p = strstr(p, "state=online")) != NULL; p++)
			up++;
		freeReplyObject(r);
		if (up >= n)
			return true;
		h_sleep_ms(20);
	}
	return false;
}

void
h_cluster_start(struct h_redis *nodes, int n, const char *dir)
{
	char name[16], log[300];
	const char *argv[16] = {"redis-cli", "--cluster", "create"};
	char addrs[8][32];
	long long until;
	int k = 3;

	assert_true(n >= 3 && n <= 8);
	for (int i = 0; i < n; i++) {
		char more[200];

		/* The bus port is port + 10000 unless set: set it free. */
		snprintf(more, sizeof(more), "cluster-enabled yes\n"
		    "cluster-config-file nodes.conf\ncluster-node-timeout 2000\n"
		    "cluster-port %d\n", h_free_port());
		snprintf(name, sizeof(name), "c%d", i);
		h_redis_start_node(&nodes[i], dir, name, 0, more);
		snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.1:%d",
		    nodes[i].port);
		argv[k++] = addrs[i];
	}
	argv[k++] = "--cluster-yes";
	argv[k] = NULL;
	snprintf(log, sizeof(log), "%s/cluster-create.log", dir);
	assert_int_equal(h_reap(h_spawn(argv, NULL, log, NULL),
	    "redis-cli --cluster create"), 0);
	until = h_now_ms() + H_WAIT_MS;
	for (int i = 0; i < n; i++) {
		redisContext *c = h_redis_connect(&nodes[i]);
		bool ok = false;

		while (!ok && h_now_ms() < until) {
			redisReply *r = h_cmd(c, "CLUSTER INFO");

			ok = strstr(r->str, "cluster_state:ok") != NULL;
			freeReplyObject(r);
			if (!ok)
				h_sleep_ms(50);
		}
		redisFree(c);
		assert_true(ok);
	}
}

void
h_assert_clean(const struct chk_result *r, long pushed)
{
	assert_true(r->settled);
	assert_int_equal(r->pushed, pushed);
	assert_int_equal(r->lost, 0);
	assert_int_equal(r->duplicated, 0);
	assert_int_equal(r->capacity_violations, 0);
	assert_int_equal(r->alerts_missed, 0);
	assert_int_equal(r->alerts_doubled, 0);
	assert_int_equal(r->stale_inflight, 0);
	assert_int_equal(r->strays, 0);
	assert_int_equal(r->wrong_reason, 0);
	assert_int_equal(r->audit_mismatch, 0);
}
