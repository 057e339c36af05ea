/* harness.c - private redis-server and leadrouted processes for integration tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

void
h_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

long long
h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static pid_t
spawn(const char *const argv[], const char *out_path)
{
	pid_t pid = fork();
	char *args[32];
	int fd, n;

	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		/* exec wants mutable strings; the child may copy and leak. */
		for (n = 0; argv[n] != NULL && n < 31; n++)
			args[n] = strdup(argv[n]);
		args[n] = NULL;
		execvp(args[0], args);
		_exit(127);
	}
	return pid;
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
	r->pid = spawn(argv, log);
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

void
h_write_conf(char *path, size_t len, const char *dir, const char *name,
    int port, const char *body)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "redis = { host = \"127.0.0.1\"; port = %d; };\n"
	    "http = { listen = \"\"; };\n%s", port,
	    body != NULL ? body : h_default_body());
	fclose(f);
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
	d->pid = spawn(argv, d->log);
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
	long long until = h_now_ms() + H_WAIT_MS;
	pid_t p;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	while ((p = waitpid(d->pid, &status, WNOHANG)) == 0) {
		if (h_now_ms() > until) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			d->pid = 0;
			fail_msg("leadrouted did not stop within %d ms", H_WAIT_MS);
		}
		h_sleep_ms(10);
	}
	d->pid = 0;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

bool
h_daemon_alive(const struct h_daemon *d)
{
	int status;

	return d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == 0;
}

long
h_daemon_rss_kb(const struct h_daemon *d)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)d->pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
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

static bool
wait_count(redisContext *c, const char *cmd, const char *key, long long n)
{
	long long until = h_now_ms() + H_WAIT_MS;

	for (;;) {
		if (h_int(c, "%s %s", cmd, key) >= n)
			return true;
		if (h_now_ms() > until)
			return false;
		h_sleep_ms(5);
	}
}

static bool
wait_at_most(redisContext *c, const char *cmd, const char *key, long long n)
{
	long long until = h_now_ms() + H_WAIT_MS;

	for (;;) {
		if (h_int(c, "%s %s", cmd, key) <= n)
			return true;
		if (h_now_ms() > until)
			return false;
		h_sleep_ms(5);
	}
}

bool
h_wait_llen_at_most(redisContext *c, const char *key, long long n)
{
	return wait_at_most(c, "LLEN", key, n);
}

bool
h_wait_zcard_at_most(redisContext *c, const char *key, long long n)
{
	return wait_at_most(c, "ZCARD", key, n);
}

bool
h_wait_llen(redisContext *c, const char *key, long long n)
{
	return wait_count(c, "LLEN", key, n);
}

bool
h_wait_zcard(redisContext *c, const char *key, long long n)
{
	return wait_count(c, "ZCARD", key, n);
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
	return wait_count(c, "ZCARD", "lr:instances", instances);
}

json_t *
h_list_json(redisContext *c, const char *key)
{
	redisReply *r = h_cmd(c, "LRANGE %s 0 -1", key);
	json_t *a = json_array(), *v;
	json_error_t err;

	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	for (size_t i = r->elements; i > 0; i--) {
		v = json_loadb(r->element[i - 1]->str, r->element[i - 1]->len,
		    0, &err);
		if (v == NULL)
			fail_msg("%s holds invalid JSON: %s", key, err.text);
		json_array_append_new(a, v);
	}
	freeReplyObject(r);
	return a;
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
