/*
 * harness.h - integration-test helpers: a private redis-server per test on a
 * free loopback port, the real leadrouted binary started on a generated
 * configuration, the fixture every itest shares, and bounded waits. Every
 * process is stopped by its PID.
 *
 * Waits are upper bounds against hangs, never timing assertions: a test
 * asserts what a user would see, and only fails on time when something
 * never happened at all.
 *
 * Include it after <cmocka.h>: the H_TEST macros name cmocka's.
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

/* The most daemons one test runs at once: the slots of struct h_fx. */
#define H_MAX_DAEMONS 3

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

/*
 * One test's world: a scratch directory, a private redis-server in it, a
 * client connection, one configuration file and the daemons started on
 * it, slot by slot. The cmocka state of h_setup; a test file with more
 * state embeds it and calls h_fx_open and h_fx_close itself.
 */
struct h_fx {
	char dir[256];
	char conf[600];		/* dir/lr.conf, written by h_fx_conf */
	struct h_redis redis;
	struct h_daemon d[H_MAX_DAEMONS];	/* pid 0: not running */
	redisContext *c;	/* to redis; a test may close it (NULL) */
	int http_port;		/* 0: the configuration serves no HTTP */
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
 * The daemon serves no HTTP.
 */
void h_write_conf(char *path, size_t len, const char *dir, const char *name,
    int port, const char *body);
/* A body with the contract's example scoring and segments plus reps. */
const char *h_default_body(void);

/* ---- the fixture ------------------------------------------------------- */

/*
 * Make f's scratch directory, start its redis-server there (AOF on when
 * aof; redis_args as h_redis_start_args, NULL for none) and connect f->c.
 * f must be zeroed.
 */
void h_fx_open(struct h_fx *f, bool aof, const char *const *redis_args);
/* SIGKILL the daemons still running, disconnect, SIGKILL redis-server and
 * remove the directory. */
void h_fx_close(struct h_fx *f);

/* cmocka fixtures: *state is a struct h_fx opened without AOF, or with. */
int h_setup(void **state);
int h_setup_aof(void **state);
int h_teardown(void **state);
#define H_TEST(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)
#define H_TEST_AOF(fn) \
	cmocka_unit_test_setup_teardown(fn, h_setup_aof, h_teardown)

/*
 * Write f->conf: the redis group for f->redis, the http group listening
 * on f->http_port (none when 0), then body (NULL: h_default_body()).
 */
void h_fx_conf(struct h_fx *f, const char *body);
/*
 * Give f->conf (h_fx_conf's) redis.replica_acks = 1 with a WAIT timeout
 * of ms: the tests' Redis has no replica, so every WAIT takes it whole.
 */
void h_fx_replica_acks(struct h_fx *f, int ms);
/*
 * Write f->conf from body, start daemons in slots 0 to n-1 on it (logs
 * d0.log, d1.log... in f->dir) and wait until all n have registered.
 */
void h_fx_start(struct h_fx *f, int n, const char *body);
/*
 * Stop gracefully: SIGTERM every running daemon; each must exit 0 and its
 * log show no sanitizer report. Fails when none was running.
 */
void h_fx_stop(struct h_fx *f);

/* ---- processes --------------------------------------------------------- */

/*
 * Fork and exec argv[0] (PATH searched; argv NULL-terminated) in a process
 * group of its own, stdin from the file in (NULL: /dev/null), stdout
 * appended to the file out and stderr to err (NULL: to out).
 */
pid_t h_spawn(const char *const argv[], const char *in, const char *out,
    const char *err);
/*
 * Wait for the child pid (bounded) and return its exit status, or
 * 128+signal. Fails when it runs on past the bound ("WHAT did not
 * finish"; it is killed) or cannot be waited for.
 */
int h_reap(pid_t pid, const char *what);

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
/* A kB field of its /proc status (VmHWM: its peak RSS); -1 when none. */
long h_daemon_status_kb(const struct h_daemon *d, const char *field);
/* How many lines of the daemon's log contain s? */
int h_log_count(const struct h_daemon *d, const char *s);
/* Does the daemon's log contain s? */
bool h_log_contains(const struct h_daemon *d, const char *s);
/* Poll (up to H_WAIT_MS) until a line of d's log contains s. */
bool h_wait_log(const struct h_daemon *d, const char *s);
/* Fail the test when the log shows a sanitizer report. */
void h_assert_log_clean(const struct h_daemon *d);

/* ---- files ------------------------------------------------------------- */

/* The whole file (malloc'd, NUL-terminated); fails when it cannot be read. */
char *h_slurp(const char *path);
/* Write text as the whole file; fails when it cannot be created. */
void h_write_file(const char *path, const char *text);

/* ---- Redis ------------------------------------------------------------- */

/* Run a command and return the reply (freed by the caller). */
redisReply *h_cmd(redisContext *c, const char *fmt, ...);
long long h_int(redisContext *c, const char *fmt, ...);
/* A string reply as a malloc'd C string, or NULL for nil. */
char *h_str(redisContext *c, const char *fmt, ...);
/* LPUSH key value (binary safe). */
void h_push(redisContext *c, const char *key, const char *buf, size_t len);
void h_push_lead(redisContext *c, const char *json);
void h_event(redisContext *c, const char *json);

/* Poll until LLEN/ZCARD/XLEN of key reaches n, or the bound. */
bool h_wait_llen(redisContext *c, const char *key, long long n);
bool h_wait_zcard(redisContext *c, const char *key, long long n);
bool h_wait_xlen(redisContext *c, const char *key, long long n);
/* Poll until LLEN/ZCARD of key is down to n or less. */
bool h_wait_llen_at_most(redisContext *c, const char *key, long long n);
bool h_wait_zcard_at_most(redisContext *c, const char *key, long long n);
/* Poll until HGET key field equals value. */
bool h_wait_field(redisContext *c, const char *key, const char *field,
    const char *value);
/* Wait until the daemon registered (a member in lr:instances). */
bool h_wait_ready(redisContext *c, long long instances);
/* Are the lead and event queues and every in-flight hash under prefix
 * empty, at one moment (one script reads them all)? */
bool h_queues_empty(redisContext *c, const char *prefix);

/* All elements of a list, oldest (right end) first, parsed as JSON. */
json_t *h_list_json(redisContext *c, const char *key);
/* HGETALL key as "field=value\n" lines in strcmp order (malloc'd). */
char *h_hash_dump(redisContext *c, const char *key);
/* Sort n C strings in place, in strcmp order. */
void h_sort_strings(char **v, size_t n);

void h_sleep_ms(long ms);
long long h_now_ms(void);
/* Redis's clock (TIME) in ms: the clock of SLA deadlines and the audit. */
long long h_redis_time_ms(redisContext *c);

/* ---- HTTP ---------------------------------------------------------------- */

/* Connect to 127.0.0.1:port and send "METHOD path" (HTTP/1.0): the socket,
 * whose reads time out after 10 s; -1 when the connection is refused. */
int h_http_send(int port, const char *method, const char *path);
/* Read fd's whole answer and close it: the status (-1 for none), the body
 * in *body (malloc'd) when body is not NULL. */
int h_http_read(int fd, char **body);
/* As h_http_read; *head (NULL: not wanted) gets the status line and headers. */
int h_http_answer(int fd, char **head, char **body);
/* h_http_send then h_http_read; -1 when the connection is refused. */
int h_http_get(int port, const char *method, const char *path, char **body);
/* The value of the sample whose line starts with prefix (name{labels});
 * fails when there is none. */
double h_metric(const char *text, const char *prefix);

/* ---- JSON and dead letters --------------------------------------------- */

/* The string, or integer, member k of o; fails when it is not one. */
const char *h_jstr(const json_t *o, const char *k);
long long h_jint(const json_t *o, const char *k);

/* All of lr:dead, oldest first; a raw holding a NUL byte parses as \u0000. */
json_t *h_dead_letters(redisContext *c);
/* Wait until lr:dead holds exactly n and return the n-th, the newest
 * (released by the caller). */
json_t *h_newest_dead(redisContext *c, long long n);
/*
 * Check one dead letter of README "Dead letters": reason, a non-empty
 * detail, source, an epoch-ms at_ms of now (within an hour), and the
 * pushed bytes buf (len) in raw, or when b64 in raw_base64 with no raw.
 * what names the case in the failure message.
 */
void h_check_dead(const char *what, const json_t *dl, const char *reason,
    const char *source, const char *buf, size_t len, bool b64);


/* ---- high availability: replicas, sentinels (itest_ha) ------------------- */

/*
 * Start redis-server in dir/name (created) from a redis.conf of its own:
 * a free port, a Unix socket dir/name/redis.sock, no persistence, a
 * full resync without delay; a
 * replica of 127.0.0.1:replica_of unless it is 0; more (NULL: none) is
 * appended to the file. h_redis_stop stops it; h_redis_restart cannot.
 */
void h_redis_start_node(struct h_redis *r, const char *dir, const char *name,
    int replica_of, const char *more);
/*
 * Start a Redis Sentinel in dir/name (created) on a free port, monitoring
 * master at 127.0.0.1:primary_port with quorum, down-after-milliseconds
 * down_ms and failover-timeout failover_ms; more (NULL: none) is appended
 * to its file. Stop it with h_redis_stop.
 */
void h_sentinel_start(struct h_redis *s, const char *dir, const char *name,
    const char *master, int primary_port, int quorum, long down_ms,
    long failover_ms, const char *more);
/* The port of the primary the sentinel names for master; 0 when none. */
int h_sentinel_master_port(int sentinel_port, const char *master);
/* Entries of SENTINEL what master (what: "replicas", "sentinels"); -1. */
long long h_sentinel_count(int sentinel_port, const char *what,
    const char *master);
/* Poll until the primary c is connected to shows n replicas online. */
bool h_wait_replicas_up(redisContext *c, long long n);

/*
 * Start n (3 to 8) cluster-enabled nodes with h_redis_start_node (c0,
 * c1... in dir), join them with redis-cli --cluster create (all masters,
 * slots spread) and wait until each says cluster_state:ok.
 */
void h_cluster_start(struct h_redis *nodes, int n, const char *dir);

/* The invariant checker's result r (tests/checker.h) is clean: settled,
 * every one of the pushed leads seen, nothing lost, doubled, over
 * capacity, missed, stale, stray, misreasoned or misaudited. */
struct chk_result;
void h_assert_clean(const struct chk_result *r, long pushed);

#endif
