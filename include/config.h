/*
 * config.h - load and validate leadrouted's configuration (libconfig).
 *
 * cfg_load() reads one file, checks every key of README "Configuration" and
 * fills in the defaults. It reports every problem it finds, not just the
 * first, each as "FILE:LINE: 'KEY' ..." in a diagnostics list owned by
 * the caller; it never logs and never exits. A configuration that loaded
 * is immutable: a reload builds a new one beside it and swaps.
 */
#ifndef LR_CONFIG_H
#define LR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "calendar.h"
#include "plan.h"
#include "score.h"
#include "segment.h"

/* The digest of an intake.http token (SHA-256), and a token's length. */
#define CFG_TOKEN_DIGEST 32
#define CFG_TOKEN_MIN 16
#define CFG_TOKEN_MAX 512

/* Rep ids are used in Redis keys and metric labels. */
#define CFG_REP_ID_MAX 64

/* Bounds several keys share; each key's own are in config.c's key table. */
#define CFG_DAY_S	86400LL		/* a day, in seconds */
#define CFG_MONTH_S	(30 * CFG_DAY_S)	/* sla.*, forecast.horizon */
#define CFG_COUNT_MAX	1000000000LL	/* kept entries, outcomes, points */

enum sla_on_breach {
	SLA_ON_BREACH_ALERT,
	SLA_ON_BREACH_REASSIGN,
};

struct rep_cfg {
	char *id;
	char *name;		/* defaults to id */
	size_t *segs;		/* indices into segments.v */
	size_t nsegs;
	long long max_open;
	long long max_per_period;	/* 0 = unlimited */
	char *calendar;		/* the rep's shift; NULL: none (always on) */
	int line;
};

/* A webhook endpoint's body format (README "Webhooks"). */
enum wh_format {
	WH_FORMAT_STANDARD,
	WH_FORMAT_SLACK,
};

/* One webhook endpoint (README "Webhooks"). */
struct webhook_cfg {
	char *name;
	char *url;		/* http:// or https:// */
	unsigned long events;	/* bit i: event type i (whmsg.h) */
	char **reps;		/* only events naming one of these... */
	size_t nreps;		/* ...when nreps > 0 */
	unsigned char key[64];	/* the secret, decoded; never log it */
	size_t key_len;		/* 0: no secret (format slack only) */
	int format;		/* enum wh_format */
	long long timeout;	/* seconds per attempt */
	long long max_attempts;	/* the first included */
	long long max_backoff;	/* seconds */
	int line;
};

struct lr_config {
	char *path;
	char version[17];	/* FNV-1a of the file's bytes, 16 hex digits */
	struct {
		char *host;
		int port;
		char *unix_socket;	/* "" = use host and port */
		char *password;		/* "" = none; never log it */
		char *password_file;
		int db;
		char *prefix;
		/* README "High availability" (CONTRACT.md section 13) */
		char *username;		/* "" = the default user */
		char **sentinel_hosts;	/* redis.sentinels, parsed */
		int *sentinel_ports;
		size_t nsentinels;	/* 0: host/port name the primary */
		char *master_name;
		char *sentinel_username;
		char *sentinel_password;	/* never log it */
		int replica_acks;	/* 0: no WAIT after a commit */
		long long replica_ack_timeout;	/* ms */
		bool cluster;		/* host/port: a seed node */
	} redis;
	struct {
		char *listen;		/* as written; "" disables */
		char *host;		/* parsed from listen; NULL if disabled */
		int port;
		char *auth_file;	/* "" = no authentication */
		char **auth;		/* its "user:password" lines */
		size_t nauth;
	} http;
	struct {
		size_t max_bytes;
		long long dead_max;	/* dead letters kept, the oldest dropped */
		struct {
			char *listen;	/* as written; "" disables */
			char *host;	/* parsed from listen; NULL if disabled */
			int port;
			char *tokens_file;
			/* SHA-256 of each token of tokens_file: the tokens
			 * themselves are not kept (README "HTTP intake") */
			unsigned char (*token_sha)[CFG_TOKEN_DIGEST];
			size_t ntokens;
			long long timeout;	/* seconds a client may idle */
			long long max_connections;	/* open at once */
		} http;
	} intake;
	struct scoring scoring;
	struct segments segments;
	struct rep_cfg *reps;
	size_t nreps;
	struct calendar **calendars;	/* README "Business hours" */
	size_t ncalendars;
	struct {
		long long period;	/* seconds */
	} capacity;
	struct {
		long long follow_up;	/* seconds */
		long long warn_before;	/* seconds; 0 = no warning */
		enum sla_on_breach on_breach;
		long long max_reassign;
		long long alert_log_max;
		char *calendar;		/* the default clock; NULL: always open */
	} sla;
	struct {
		int level;		/* enum log_level */
	} log;
	struct {
		bool enabled;		/* every assignment and release to lr:audit */
		long long max_len;	/* entries kept (MAXLEN ~) */
	} audit;
	struct plan plan;		/* optional: leadctl plan */
	struct {
		long long top_sources;	/* lead sources with their own label */
		long long max_sources;	/* sources counted by name; the rest other */
	} insight;
	struct {
		long long days;		/* final lead records kept; 0 = for ever */
		long long inbox_max;	/* entries a rep's inbox keeps */
		long long webhooks_dead_max;	/* lr:webhooks:dead; 0 = all */
	} retention;
	struct {
		long long horizon;	/* seconds; alert below it; 0 = no alert */
		long long half_life;	/* seconds; of the MQL arrival rate */
		long long interval;	/* seconds between forecasts */
	} forecast;
	struct {
		double max_reject_rate;	/* leadctl calibrate's limit, in [0, 1] */
		long long min_outcomes;	/* decided MQLs a threshold needs */
	} calibrate;
	struct webhook_cfg *webhooks;	/* README "Webhooks" */
	size_t nwebhooks;
};

/* Diagnostics of one load: errors make it fail, warnings do not. */
struct cfg_diag {
	char **errors;
	size_t nerrors;
	char **warnings;
	size_t nwarnings;
};

/*
 * Load and check the configuration at path. Returns the configuration, or
 * NULL when it has errors (all of them are in diag->errors). Warnings
 * (unknown keys, a segment without reps) go to diag->warnings either way.
 * The environment variable LEADROUTED_REDIS_PASSWORD, when set, overrides
 * redis.password and redis.password_file.
 */
struct lr_config *cfg_load(const char *path, struct cfg_diag *diag);

/* cfg_load_flags: leave intake.http.tokens_file unread (leadctl, which
 * never takes leads over HTTP, and may not be allowed to read it). */
#define CFG_LOAD_NO_TOKENS 0x1

/* cfg_load, with CFG_LOAD_* flags. */
struct lr_config *cfg_load_flags(const char *path, struct cfg_diag *diag,
    unsigned flags);

/*
 * Load only a plan section (`plan = { ... }`) from path, checking its
 * segment names against cfg's segments. 0, or -1 with the errors in diag.
 */
int cfg_load_plan(const char *path, const struct lr_config *cfg,
    struct plan *plan, struct cfg_diag *diag);

/* Free a configuration; NULL is fine. */
void cfg_free(struct lr_config *cfg);

/* Free the messages of diag and empty it. */
void cfg_diag_clear(struct cfg_diag *diag);

/*
 * Parse "host:port" or "[v6addr]:port" into a malloc'd host and a port.
 * Returns 0, or -1 when s is not of that form or the port is not 1-65535.
 */
int cfg_parse_listen(const char *s, char **host, int *port);

/*
 * The name of the i-th key of the key table, as README "Configuration"
 * documents it ("redis.port", "reps.[i].max_open"), or NULL after the
 * last. The plan section's own keys ("Planning and insight") are not in it.
 */
const char *cfg_key_name(size_t i);

/* The rep with this id, or NULL. */
const struct rep_cfg *cfg_rep_find(const struct lr_config *cfg,
    const char *id);

/* The calendar with this name, or NULL. */
const struct calendar *cfg_calendar_find(const struct lr_config *cfg,
    const char *name);

/*
 * Is the rep on shift at now_ms (README "Business hours"): true without a
 * calendar. *until_ms (when not NULL) gets the calendar's next change, the
 * end of the shift or the next opening; -1 without a calendar or when
 * nothing changes within the look-ahead. Shift only: rep_status is apart.
 */
bool cfg_rep_on_shift(const struct lr_config *cfg, const struct rep_cfg *rep,
    int64_t now_ms, int64_t *until_ms);

/*
 * The SHA-256 of a bearer token (len bytes) into out, as intake.http keeps
 * its tokens: 0, or -1 when the digest cannot be had.
 */
int cfg_token_digest(const char *tok, size_t len,
    unsigned char out[CFG_TOKEN_DIGEST]);

/*
 * Does s carry a Redis Cluster hash tag: a '{', then a '}' after it with
 * at least one character between (the part Redis hashes)?
 */
bool cfg_has_hash_tag(const char *s);

/* Is s a valid rep id or segment name: 1-64 of [A-Za-z0-9._@-]? */
bool cfg_valid_name(const char *s);

#endif
