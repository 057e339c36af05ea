/*
 * ctl_common.h - what every leadctl command shares: the loaded
 * configuration, one synchronous hiredis connection, command helpers that
 * turn a failed reply into an error message, and time formatting.
 *
 * Commands return the process exit status (CTL_OK, CTL_ERR, CTL_USAGE).
 * The Redis helpers never print: they return NULL or -1 and leave the
 * message in ctl->err, which the command prints once with ctl_fail().
 */
#ifndef LR_CTL_COMMON_H
#define LR_CTL_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "config.h"
#include "keys.h"

/* Exit statuses, as the usage text documents them. */
#define CTL_OK 0
#define CTL_ERR 1
#define CTL_USAGE 2

/* Bounds: connecting, and any one reply (a blocking read adds its block). */
#define CTL_CONNECT_TIMEOUT_MS 3000
#define CTL_REPLY_TIMEOUT_MS 10000

/* Buffer sizes: a Redis key, and a time ctl_fmt_time or ctl_fmt_rel writes. */
#define CTL_KEY_MAX 256
#define CTL_TIME_MAX 40

/* A macro's value as a string literal, for help texts: CTL_STR(20) is "20". */
#define CTL_STR(x) CTL_STR_(x)
#define CTL_STR_(x) #x

struct ctl {
	const struct lr_config *cfg;
	const char *prefix;	/* cfg->redis.prefix */
	redisContext *rc;	/* NULL until ctl_connect */
	bool json;		/* --json: machine-readable output */
	char err[512];		/* the last helper's error */
};

/*
 * Connect to the configured Redis (unix socket or host:port, with the
 * connect and reply timeouts above), AUTH when a password is set, SELECT
 * the db. Returns 0, or -1 with "cannot connect to redis 'ADDR': REASON"
 * (or the AUTH/SELECT failure) in ctl->err; the password is never shown.
 */
int ctl_connect(struct ctl *ctl);

/* Close the connection; safe when not connected. */
void ctl_disconnect(struct ctl *ctl);

/*
 * Run one command (hiredis format: "%s%s" inside one word joins both into
 * one argument, "%b" takes a pointer and a length). Returns the reply
 * (the caller frees it), or NULL with ctl->err filled in when the
 * connection failed or Redis answered with an error.
 */
redisReply *ctl_cmd(struct ctl *ctl, const char *fmt, ...);

/*
 * Read the reply of a command queued with redisAppendCommand; what
 * ctl_cmd returns for it. name is the command, for the message.
 */
redisReply *ctl_get_reply(struct ctl *ctl, const char *name);

/* Redis's clock (TIME) in ms: the clock the daemon's scripts use. */
int ctl_redis_now(struct ctl *ctl, long long *now_ms);

/* Print "leadctl: <ctl->err>" to stderr and return CTL_ERR. */
int ctl_fail(const struct ctl *ctl);

/* Print "leadctl: <message>" to stderr. */
void ctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fill ctl->err and return -1. */
int ctl_seterr(struct ctl *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An integer reply, or a string reply holding one, as a long long. */
bool ctl_reply_ll(const redisReply *r, long long *v);

/*
 * The value of field in an HGETALL reply (field, value, ... pairs), or
 * NULL when absent. Points into the reply.
 */
const char *ctl_hash_get(const redisReply *r, const char *field);

/*
 * An HGETALL reply as a JSON object of strings, in reply order; a value
 * that is not UTF-8 becomes null, a field name that is not is left out.
 * NULL when out of memory.
 */
json_t *ctl_hash_json(const redisReply *r);

/* Parse a whole decimal integer string; false when it is not one. */
bool ctl_parse_ll(const char *s, long long *v);

/* Called with each field of a counters hash and its value. 0, or -1 (ENOMEM). */
typedef int (*ctl_counter_fn)(void *arg, const char *field, long long n);

/*
 * Feed every field of the hash key whose value is an integer to add.
 * 0, or -1 with ctl->err filled in (Redis, or add failing: out of memory).
 */
int ctl_read_hash(struct ctl *ctl, const char *key, ctl_counter_fn add,
    void *arg);

/*
 * The counters the scripts keep all time in key all and per day in key
 * day (its part: days since 1970), keys.h's SRC_ALL/SRC_DAY or
 * CALIB_ALL/CALIB_DAY: since_days 0 reads the first, else the last
 * since_days days (UTC, Redis's clock). As ctl_read_hash.
 */
int ctl_read_counters(struct ctl *ctl, enum lr_key all, enum lr_key day,
    long long since_days, ctl_counter_fn add, void *arg);

/* The integer value of field in an HGETALL reply, or dflt when absent or not one. */
long long ctl_hash_ll(const redisReply *r, const char *field, long long dflt);

/* Does rep serve the segment of index seg (of cfg->segments)? */
bool ctl_rep_serves(const struct rep_cfg *rep, size_t seg);

/* The integer or string member key of o, or dflt when absent or of another type. */
long long ctl_jint(const json_t *o, const char *key, long long dflt);
const char *ctl_jstr(const json_t *o, const char *key, const char *dflt);

/* JSON for a time (ISO string) or a count; both null when below 0 (absent). */
json_t *ctl_json_time(long long ms);
json_t *ctl_json_ll_or_null(long long v);

/*
 * The alert of one <prefix>alerts:log entry ([id, [field, value...]]): its
 * "alert" field parsed, with "stream_id" added; NULL when the entry holds
 * no alert object (or out of memory). The caller releases it.
 */
json_t *ctl_entry_alert(const redisReply *e);

/* A fraction as JSON: null when below 0 (nothing to divide). */
json_t *ctl_json_rate(double x);

/* A fraction as "12.5%", or "-" when below 0, into buf (>= 16 bytes). */
const char *ctl_fmt_rate(double x, char *buf, size_t len);

/* "2025-01-31T12:00:00.250Z" (UTC) for epoch ms, into buf (CTL_TIME_MAX bytes). */
const char *ctl_fmt_time(long long ms, char *buf, size_t len);

/* "in 42s" for delta_ms >= 0, "42s ago" below, into buf (CTL_TIME_MAX bytes). */
const char *ctl_fmt_rel(long long delta_ms, char *buf, size_t len);

/*
 * Print v as one compact JSON line on stdout and flush; v is released.
 * Returns 0, or -1 when it cannot be encoded.
 */
int ctl_print_json(json_t *v);

/* Print a command's result o as text; arg is the command's argument. */
typedef void (*ctl_print_fn)(json_t *o, const char *arg);

/*
 * A command's result o, released here: with ctl->json one JSON line, else
 * print(o, arg). CTL_OK, or CTL_ERR after "cannot encode the WHAT: out of
 * memory" on stderr.
 */
int ctl_output(struct ctl *ctl, json_t *o, const char *what,
    ctl_print_fn print, const char *arg);

#endif
