/*
 * harness.h - integration-test helpers: a private redis-server per test on a
 * free loopback port, the real leadrouted binary started on a generated
 * configuration, and bounded waits. Every process is stopped by its PID.
 *
 * Waits are upper bounds against hangs, never timing assertions: a test
 * asserts what a user would see, and only fails on time when something
 * never happened at all.
 */
#ifndef LR_HARNESS_H
#define LR_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

/* The generous bound of every wait (ms). */
#define H_WAIT_MS 20000

struct h_redis {
	pid_t pid;
	int port;
	bool aof;
	char dir[256];
	const char *extra[8];	/* more redis-server arguments (static strings) */
};

struct h_daemon {
	pid_t pid;
	char conf[512];
	char log[512];
};

/* A scratch directory for one test, removed by h_cleanup_dir. */
void h_tmpdir(char *out, size_t len);
void h_cleanup_dir(const char *dir);

/* A loopback TCP port that was free a moment ago. */
int h_free_port(void);
/* Start redis-server on a free port in dir (AOF on when aof). */
void h_redis_start(struct h_redis *r, const char *dir, bool aof);
/* The same, with more redis-server arguments (NULL-terminated, at most 7,
 * static strings: they are used again by h_redis_restart). */
void h_redis_start_args(struct h_redis *r, const char *dir, bool aof,
    const char *const *extra);
/* Start it again on the same port and directory (after a stop or kill). */
void h_redis_restart(struct h_redis *r);
/* SIGTERM (graceful, writes AOF) or SIGKILL, then reap. */
void h_redis_stop(struct h_redis *r, int sig);
redisContext *h_redis_connect(const struct h_redis *r);

/*
 * Write a configuration for port into dir/name. body is libconfig text
 * for everything but the redis and http groups (scoring, segments,
 * default_segment, reps, capacity, sla...); NULL uses a default model.
 */
void h_write_conf(char *path, size_t len, const char *dir, const char *name,
    int port, const char *body);
/* A body with the contract's example scoring and segments plus reps. */
const char *h_default_body(void);

/* Start build/test/leadrouted -c conf; its stderr goes to a log file. */
void h_daemon_start(struct h_daemon *d, const char *conf, const char *dir,
    const char *name);
/* Send sig and wait for the exit; returns the exit status (or 128+signal). */
int h_daemon_stop(struct h_daemon *d, int sig);
void h_daemon_signal(const struct h_daemon *d, int sig);
/* Is the daemon's process still there (not exited, not reaped)? */
bool h_daemon_alive(const struct h_daemon *d);
/* Its resident set size in KiB (from /proc), or -1. */
long h_daemon_rss_kb(const struct h_daemon *d);
/* How many lines of the daemon's log contain s? */
int h_log_count(const struct h_daemon *d, const char *s);
/* Does the daemon's log contain s? */
bool h_log_contains(const struct h_daemon *d, const char *s);
/* Fail the test when the log shows a sanitizer report. */
void h_assert_log_clean(const struct h_daemon *d);

/* Run a command and return the reply (freed by the caller). */
redisReply *h_cmd(redisContext *c, const char *fmt, ...);
long long h_int(redisContext *c, const char *fmt, ...);
/* A string reply as a malloc'd C string, or NULL for nil. */
char *h_str(redisContext *c, const char *fmt, ...);
/* LPUSH key value (binary safe). */
void h_push(redisContext *c, const char *key, const char *buf, size_t len);
void h_push_lead(redisContext *c, const char *json);
void h_event(redisContext *c, const char *json);

/* Poll until LLEN/ZCARD/SCARD of key reaches n, or the bound. */
bool h_wait_llen(redisContext *c, const char *key, long long n);
bool h_wait_zcard(redisContext *c, const char *key, long long n);
/* Poll until LLEN/ZCARD of key is down to n or less. */
bool h_wait_llen_at_most(redisContext *c, const char *key, long long n);
bool h_wait_zcard_at_most(redisContext *c, const char *key, long long n);
/* Poll until HGET key field equals value. */
bool h_wait_field(redisContext *c, const char *key, const char *field,
    const char *value);
/* Wait until the daemon registered (a member in lr:instances). */
bool h_wait_ready(redisContext *c, long long instances);

/* All elements of a list, oldest (right end) first, parsed as JSON. */
json_t *h_list_json(redisContext *c, const char *key);
/* The elements of a list parsed, their count in *n (array, caller frees). */
void h_sleep_ms(long ms);
long long h_now_ms(void);
/* Redis's clock (TIME) in ms: the clock of SLA deadlines and the audit. */
long long h_redis_time_ms(redisContext *c);

#endif
