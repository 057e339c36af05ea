/* config.c - load leadrouted.conf with libconfig: the key table and the reps (the reading tools are config_read.c's); every error reported, none logged. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "config_int.h"
#include "fnv.h"
#include "log.h"

static void
fnv1a_hex(const char *buf, size_t len, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)fnv1a(buf, len));
}

/* Read a whole small file into a NUL-terminated buffer. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *f;
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, r;
	int err;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	errno = 0;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	if (ferror(f)) {
		err = errno != 0 ? errno : EIO;	/* EISDIR for a directory */
		free(buf);
		fclose(f);
		errno = err;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The redis keys together: a host or a socket, a prefix, one password. */
static void
check_redis(struct cfg_ctx *c, const config_setting_t *g, void *base, bool ok)
{
	struct lr_config *cfg = base;
	const char *env;
	char *secret;
	size_t len;

	(void)ok;	/* each check stands on the values that loaded */
	if (cfg->redis.host != NULL && cfg->redis.host[0] == '\0' &&
	    cfg->redis.unix_socket != NULL &&
	    cfg->redis.unix_socket[0] == '\0')
		cfg_err(c, cfg_member(g, "host"), "redis.host",
		    "must not be empty unless redis.unix_socket is set");
	if (cfg->redis.prefix != NULL && (cfg->redis.prefix[0] == '\0' ||
	    strpbrk(cfg->redis.prefix, " \t\r\n") != NULL))
		cfg_err(c, cfg_member(g, "prefix"),
		    "redis.prefix", "must be a non-empty string without spaces");
	if (cfg->redis.password != NULL && cfg->redis.password[0] != '\0' &&
	    cfg->redis.password_file != NULL &&
	    cfg->redis.password_file[0] != '\0')
		cfg_err(c, cfg_member(g, "password_file"),
		    "redis.password_file",
		    "cannot be used together with redis.password");
	else if (cfg->redis.password_file != NULL &&
	    cfg->redis.password_file[0] != '\0') {
		if ((secret = read_file(cfg->redis.password_file, &len)) ==
		    NULL) {
			cfg_err(c, cfg_member(g, "password_file"),
			    "redis.password_file", "cannot be read: '%s': %s",
			    cfg->redis.password_file, strerror(errno));
		} else {
			while (len > 0 && (secret[len - 1] == '\n' ||
			    secret[len - 1] == '\r'))
				secret[--len] = '\0';
			free(cfg->redis.password);
			cfg->redis.password = secret;
		}
	}
	if ((env = getenv("LEADROUTED_REDIS_PASSWORD")) != NULL &&
	    env[0] != '\0' && (secret = strdup(env)) != NULL) {
		free(cfg->redis.password);
		cfg->redis.password = secret;
	}
}

/* redis.sentinels: a list of "host:port" (README "High availability"). */
static void
load_sentinels(struct cfg_ctx *c, const config_setting_t *g, void *base)
{
	struct lr_config *cfg = base;
	const config_setting_t *list = cfg_member(g, "sentinels"), *e;
	const char *what = "must be a list of \"host:port\" strings";
	unsigned int n;

	if (list == NULL)
		return;
	if (!cfg_is_list(list)) {
		cfg_err(c, list, "redis.sentinels", "%s", what);
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (n == 0)
		return;
	cfg->redis.sentinel_hosts = calloc(n, sizeof(char *));
	cfg->redis.sentinel_ports = calloc(n, sizeof(int));
	if (cfg->redis.sentinel_hosts == NULL ||
	    cfg->redis.sentinel_ports == NULL) {
		cfg_err(c, list, "redis.sentinels", "cannot be stored: %s",
		    strerror(ENOMEM));
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		size_t k = cfg->redis.nsentinels;

		e = config_setting_get_elem(list, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cfg_err(c, e, "redis.sentinels", "%s", what);
			continue;
		}
		if (cfg_parse_listen(config_setting_get_string(e),
		    &cfg->redis.sentinel_hosts[k],
		    &cfg->redis.sentinel_ports[k]) == -1) {
			cfg_err(c, e, "redis.sentinels",
			    "must name sentinels as \"host:port\" or \"[ipv6]:port\", not \"%s\"",
			    config_setting_get_string(e));
			continue;
		}
		cfg->redis.nsentinels++;
	}
}

/* The high-availability keys together: sentinels with a master name. */
static void
check_ha(struct cfg_ctx *c, const config_setting_t *g, void *base, bool ok)
{
	struct lr_config *cfg = base;
	const config_setting_t *list = cfg_member(g, "sentinels");
	bool have_list = list != NULL && cfg_is_list(list) &&
	    config_setting_length(list) > 0;

	(void)ok;
	if (have_list && cfg->redis.master_name != NULL &&
	    cfg->redis.master_name[0] == '\0')
		cfg_err(c, list, "redis.master_name",
		    "is required with redis.sentinels");
	if (list == NULL && cfg->redis.master_name != NULL &&
	    cfg->redis.master_name[0] != '\0')
		cfg_err(c, cfg_member(g, "master_name"), "redis.master_name",
		    "needs redis.sentinels");
	if (have_list && cfg->redis.unix_socket != NULL &&
	    cfg->redis.unix_socket[0] != '\0')
		cfg_err(c, cfg_member(g, "unix_socket"), "redis.unix_socket",
		    "cannot be used together with redis.sentinels");
	if (cfg->redis.username != NULL && cfg->redis.username[0] != '\0' &&
	    cfg->redis.password != NULL && cfg->redis.password[0] == '\0')
		cfg_err(c, cfg_member(g, "username"), "redis.username",
		    "needs a password (redis.password or redis.password_file)");
	if (cfg->redis.sentinel_username != NULL &&
	    cfg->redis.sentinel_username[0] != '\0' &&
	    cfg->redis.sentinel_password != NULL &&
	    cfg->redis.sentinel_password[0] == '\0')
		cfg_err(c, cfg_member(g, "sentinel_username"),
		    "redis.sentinel_username", "needs redis.sentinel_password");
	if (cfg->redis.cluster && have_list)
		cfg_err(c, cfg_member(g, "cluster"), "redis.cluster",
		    "cannot be used together with redis.sentinels");
	else if (cfg->redis.cluster && cfg->redis.unix_socket != NULL &&
	    cfg->redis.unix_socket[0] != '\0')
		cfg_err(c, cfg_member(g, "cluster"), "redis.cluster",
		    "needs redis.host and redis.port (a seed node), not redis.unix_socket");
	if (cfg->redis.cluster && cfg->redis.db != 0)
		cfg_err(c, cfg_member(g, "db"), "redis.db",
		    "must be 0 with redis.cluster (a cluster has one database)");
	if (cfg->redis.cluster && cfg->redis.prefix != NULL &&
	    !cfg_has_hash_tag(cfg->redis.prefix))
		cfg_err(c, cfg_member(g, "prefix") != NULL ?
		    cfg_member(g, "prefix") : cfg_member(g, "cluster"),
		    "redis.prefix",
		    "must carry a non-empty hash tag with redis.cluster (\"{acme}:\"), so that every key is in one slot; not \"%s\"",
		    cfg->redis.prefix);
}

bool
cfg_has_hash_tag(const char *s)
{
	const char *open = strchr(s, '{'), *close;

	if (open == NULL || (close = strchr(open + 1, '}')) == NULL)
		return false;
	return close > open + 1;
}

/* http.listen: "host:port", "[v6]:port" or "" (no HTTP server). */
static void
check_listen(struct cfg_ctx *c, const config_setting_t *g, void *base, bool ok)
{
	struct lr_config *cfg = base;

	if (ok && cfg->http.listen[0] != '\0' &&
	    cfg_parse_listen(cfg->http.listen, &cfg->http.host,
	    &cfg->http.port) == -1)
		cfg_err(c, cfg_member(g, "listen"),
		    "http.listen",
		    "must be \"host:port\" or \"[ipv6]:port\" (or \"\" to disable), not \"%s\"",
		    cfg->http.listen);
}

/*
 * http.auth_file: when set, the file must be readable and each line that
 * is not empty "user:password" (user not empty, no ':' in it); they go to
 * cfg->http.auth. An error names the file and the line.
 */
static void
check_auth_file(struct cfg_ctx *c, const config_setting_t *g, void *base,
    bool ok)
{
	struct lr_config *cfg = base;
	char *text, *line, *next, **v;
	size_t len, lineno = 0, n = 0;
	bool bad = false;

	if (!ok || cfg->http.auth_file[0] == '\0')
		return;
	if ((text = read_file(cfg->http.auth_file, &len)) == NULL) {
		cfg_err(c, cfg_member(g, "auth_file"), "http.auth_file",
		    "cannot be read: '%s': %s", cfg->http.auth_file,
		    strerror(errno));
		return;
	}
	for (line = text; line != NULL && *line != '\0'; line = next) {
		size_t ll = strcspn(line, "\n");

		next = line[ll] == '\n' ? line + ll + 1 : NULL;
		line[ll] = '\0';
		lineno++;
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0';
		if (ll == 0)
			continue;
		if (line[0] == ':' || strchr(line, ':') == NULL ||
		    strlen(line) != ll) {
			cfg_err(c, cfg_member(g, "auth_file"), "http.auth_file",
			    "'%s' line %zu is not \"user:password\"",
			    cfg->http.auth_file, lineno);
			bad = true;
			break;
		}
		if ((v = realloc(cfg->http.auth, (n + 1) * sizeof(*v))) == NULL)
			break;
		cfg->http.auth = v;
		if ((v[n] = strdup(line)) == NULL)
			break;
		cfg->http.nauth = ++n;
	}
	if (!bad && n == 0)
		cfg_err(c, cfg_member(g, "auth_file"), "http.auth_file",
		    "'%s' holds no \"user:password\" line",
		    cfg->http.auth_file);
	explicit_bzero(text, len);
	free(text);
}

/* sla.warn_before, once it and sla.follow_up loaded: before the due time. */
static void
check_warn_before(struct cfg_ctx *c, const config_setting_t *g, void *base,
    bool ok)
{
	struct lr_config *cfg = base;

	if (ok && cfg->sla.warn_before > 0 &&
	    cfg->sla.warn_before >= cfg->sla.follow_up)
		cfg_err(c, cfg_member(g, "warn_before"),
		    "sla.warn_before", "must be smaller than sla.follow_up (%lld >= %lld)",
		    cfg->sla.warn_before, cfg->sla.follow_up);
}

/* sla.on_breach: "alert" or "reassign", as written; -1 otherwise. */
static int
parse_on_breach(const char *s)
{
	if (strcmp(s, "alert") == 0)
		return SLA_ON_BREACH_ALERT;
	if (strcmp(s, "reassign") == 0)
		return SLA_ON_BREACH_REASSIGN;
	return -1;
}

_Static_assert(sizeof(enum sla_on_breach) == sizeof(int),
    "a CFG_T_ENUM key stores an int");

#define REP(f) offsetof(struct rep_cfg, f)

/* The members of one rep; load_rep reads the CFG_T_OWN ones first. */
const struct cfg_key cfg_rep_keys[] = {
	{ CFG_OWN("reps.[i].id", NULL), .flags = CFG_REQUIRED },
	{ CFG_OWN("reps.[i].name", NULL) },
	{ CFG_OWN("reps.[i].segments", NULL), .flags = CFG_REQUIRED },
	{ CFG_LLONG("reps.[i].max_open", REP(max_open), 25, 1, 1000000,
	    "a positive integer") },
	{ CFG_LLONG("reps.[i].max_per_period", REP(max_per_period), 0, 0,
	    100000000, "an integer >= 0 (0 = unlimited)") },
	{ CFG_STRING("reps.[i].calendar", REP(calendar), NULL) },
};
const size_t cfg_rep_nkeys = CFG_NKEYS(cfg_rep_keys);

static void
load_rep_segments(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct lr_config *cfg, struct rep_cfg *rep)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *list, *e;
	const char *name;
	unsigned int n;
	int idx;

	list = cfg_get_list(c, g, cfg_key_join(key, pkey, "segments"),
	    "segments", false, "a non-empty list of segment names");
	if (list == NULL)
		return;
	n = (unsigned int)config_setting_length(list);
	if ((rep->segs = calloc(n, sizeof(*rep->segs))) == NULL)
		return;
	for (unsigned int i = 0; i < n; i++) {
		e = config_setting_get_elem(list, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cfg_err(c, e, key, "must be a non-empty list of segment names");
			continue;
		}
		name = config_setting_get_string(e);
		if (cfg->segments.n == 0)
			continue;	/* already reported */
		if ((idx = segment_find(&cfg->segments, name)) == -1) {
			cfg_err(c, e, key, "names unknown segment \"%s\"", name);
			continue;
		}
		for (size_t k = 0; k < rep->nsegs; k++)
			if (rep->segs[k] == (size_t)idx) {
				cfg_err(c, e, key, "names segment \"%s\" twice",
				    name);
				idx = -1;
				break;
			}
		if (idx != -1)
			rep->segs[rep->nsegs++] = (size_t)idx;
	}
}

static void
load_rep(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct lr_config *cfg, size_t idx)
{
	char key[CFG_KEY_MAX];
	struct rep_cfg *rep = &cfg->reps[idx];

	rep->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		cfg_err(c, g, pkey, "must be a group { id = ...; segments = [...]; }");
		return;
	}
	cfg_check_unknown_keys(c, g, pkey, cfg_rep_keys, CFG_NKEYS(cfg_rep_keys));
	if (cfg_get_string(c, g, pkey, "id", true, NULL, &rep->id) == 0) {
		if (!cfg_valid_name(rep->id))
			cfg_err(c, cfg_member(g, "id"),
			    cfg_key_join(key, pkey, "id"),
			    "must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
		for (size_t j = 0; j < idx; j++)
			if (cfg->reps[j].id != NULL &&
			    strcmp(cfg->reps[j].id, rep->id) == 0)
				cfg_err(c, cfg_member(g, "id"),
				    cfg_key_join(key, pkey, "id"),
				    "duplicates rep \"%s\" of line %d", rep->id,
				    cfg->reps[j].line);
	}
	(void)cfg_get_string(c, g, pkey, "name", false, rep->id ? rep->id : "",
	    &rep->name);
	load_rep_segments(c, g, pkey, cfg, rep);
	(void)cfg_read_keys(c, g, pkey, cfg_rep_keys, CFG_NKEYS(cfg_rep_keys), rep);
	cfg_check_calendar_ref(c, g, pkey, cfg, rep->calendar);
}

/* Warn about segments no rep serves: their MQLs can only wait. */
static void
check_coverage(struct cfg_ctx *c, const config_setting_t *root,
    const struct lr_config *cfg)
{
	const config_setting_t *list = cfg_member(root,
	    "segments");
	bool served;

	for (size_t s = 0; s < cfg->segments.n; s++) {
		served = false;
		for (size_t r = 0; r < cfg->nreps && !served; r++)
			for (size_t k = 0; k < cfg->reps[r].nsegs; k++)
				if (cfg->reps[r].segs[k] == s)
					served = true;
		if (!served && cfg->segments.v[s].name != NULL)
			cfg_warn(c, config_setting_get_elem(list,
			    (unsigned int)s), NULL,
			    "segment \"%s\" has no reps: its MQLs will wait in its backlog",
			    cfg->segments.v[s].name);
	}
}

/* The non-empty list of reps, from the root; then the segments they leave unserved. */
static void
load_reps(struct cfg_ctx *c, const config_setting_t *root, void *base)
{
	struct lr_config *cfg = base;
	char key[CFG_KEY_MAX];
	const config_setting_t *list;
	unsigned int n;

	list = cfg_get_list(c, root, "reps", "reps", false,
	    "a non-empty list of reps ( { id = ...; }, ... )");
	if (list == NULL)
		return;
	n = (unsigned int)config_setting_length(list);
	if ((cfg->reps = calloc(n, sizeof(*cfg->reps))) == NULL)
		return;
	cfg->nreps = n;
	for (unsigned int i = 0; i < n; i++)
		load_rep(c, config_setting_get_elem(list, i),
		    cfg_key_index(key, "reps", i), cfg, i);
	if (c->diag->nerrors == 0)
		check_coverage(c, root, cfg);
}

#define LR(f) offsetof(struct lr_config, f)

/*
 * The key table: every key of a configuration, in the order they are
 * read (and their errors reported). Keys of a group ("sla.follow_up") are
 * consecutive; a group is required when one of its keys is. Top-level keys
 * without a dot have their own loaders.
 */
const struct cfg_key cfg_keys[] = {
	{ CFG_STRING("redis.host", LR(redis.host), "127.0.0.1") },
	{ CFG_INT("redis.port", LR(redis.port), 6379, 1, 65535,
	    "a port number (1-65535)") },
	{ CFG_STRING("redis.unix_socket", LR(redis.unix_socket), "") },
	{ CFG_STRING("redis.password", LR(redis.password), "") },
	{ CFG_STRING("redis.password_file", LR(redis.password_file), "") },
	{ CFG_INT("redis.db", LR(redis.db), 0, 0, INT_MAX,
	    "a database number >= 0") },
	{ CFG_STRING("redis.prefix", LR(redis.prefix), "lr:"),
	    .after = check_redis },
	{ CFG_STRING("redis.username", LR(redis.username), "") },
	{ CFG_OWN("redis.sentinels", load_sentinels) },
	{ CFG_STRING("redis.master_name", LR(redis.master_name), "") },
	{ CFG_STRING("redis.sentinel_username", LR(redis.sentinel_username),
	    "") },
	{ CFG_STRING("redis.sentinel_password", LR(redis.sentinel_password),
	    "") },
	{ CFG_INT("redis.replica_acks", LR(redis.replica_acks), 0, 0, 64,
	    "a number of replicas between 0 and 64 (0 = no WAIT)") },
	{ CFG_LLONG("redis.replica_ack_timeout", LR(redis.replica_ack_timeout),
	    1000, 1, 60000, "a number of milliseconds between 1 and 60000") },
	{ CFG_BOOL("redis.cluster", LR(redis.cluster), false),
	    .after = check_ha },
	{ CFG_STRING("http.listen", LR(http.listen), "127.0.0.1:9464"),
	    .after = check_listen },
	{ CFG_STRING("http.auth_file", LR(http.auth_file), ""),
	    .after = check_auth_file },
	{ CFG_SIZE("intake.max_bytes", LR(intake.max_bytes), 65536, 64,
	    512LL * 1024 * 1024, "a size in bytes (64 to 536870912)") },
	{ CFG_LLONG("intake.dead_max", LR(intake.dead_max), 100000, 1,
	    CFG_COUNT_MAX, "a positive integer") },
	{ CFG_OWN("intake.http", cfg_load_intake_http) },
	{ CFG_ENUM("log.level", LR(log.level), LOG_LEVEL_INFO, log_level_parse,
	    "one of \"error\", \"warning\", \"info\", \"debug\"") },
	{ CFG_LLONG("scoring.mql_threshold", LR(scoring.mql_threshold), 0,
	    -SCORE_LIMIT, SCORE_LIMIT, "an integer"), .flags = CFG_REQUIRED },
	{ CFG_OWN("scoring.rules", cfg_load_rules), .flags = CFG_REQUIRED },
	{ CFG_OWN("segments", cfg_load_segments), .flags = CFG_REQUIRED },
	{ CFG_OWN("default_segment", cfg_load_default_segment),
	    .flags = CFG_REQUIRED },
	{ CFG_OWN("calendars", cfg_load_calendars) },
	{ CFG_OWN("reps", load_reps), .flags = CFG_REQUIRED },
	{ CFG_LLONG("capacity.period", LR(capacity.period), 7 * CFG_DAY_S, 1,
	    366 * CFG_DAY_S, "a number of seconds (1 to 31622400)") },
	{ CFG_LLONG("sla.follow_up", LR(sla.follow_up), 300, 1, CFG_MONTH_S,
	    "a number of seconds (1 to 2592000)") },
	{ CFG_LLONG("sla.warn_before", LR(sla.warn_before), 60, 0, CFG_MONTH_S,
	    "a number of seconds >= 0 (0 = no warning)"),
	    .after = check_warn_before },
	{ CFG_ENUM("sla.on_breach", LR(sla.on_breach), SLA_ON_BREACH_ALERT,
	    parse_on_breach, "\"alert\" or \"reassign\""),
	    .flags = CFG_SAY_VALUE },
	{ CFG_LLONG("sla.max_reassign", LR(sla.max_reassign), 2, 0, 1000,
	    "an integer between 0 and 1000") },
	{ CFG_LLONG("sla.alert_log_max", LR(sla.alert_log_max), 100000, 1,
	    CFG_COUNT_MAX, "a positive integer") },
	{ CFG_STRING("sla.calendar", LR(sla.calendar), NULL),
	    .after = cfg_check_sla_calendar },
	{ CFG_BOOL("audit.enabled", LR(audit.enabled), false) },
	{ CFG_LLONG("audit.max_len", LR(audit.max_len), 1000000, 1,
	    CFG_COUNT_MAX, "a positive integer") },
	{ CFG_LLONG("insight.top_sources", LR(insight.top_sources), 10, 0, 1000,
	    "a number of sources between 0 and 1000") },
	{ CFG_LLONG("insight.max_sources", LR(insight.max_sources), 1000, 1,
	    100000, "a number of sources between 1 and 100000") },
	{ CFG_LLONG("retention.days", LR(retention.days), 90, 0, 3660,
	    "a number of days between 0 and 3660 (0 = never expire)") },
	{ CFG_LLONG("retention.inbox_max", LR(retention.inbox_max), 10000, 1,
	    CFG_COUNT_MAX, "a positive integer") },
	{ CFG_LLONG("retention.webhooks_dead_max",
	    LR(retention.webhooks_dead_max), 0, 0, CFG_COUNT_MAX,
	    "a number of entries >= 0 (0 = keep them all)") },
	{ CFG_LLONG("forecast.horizon", LR(forecast.horizon), 3600, 0,
	    CFG_MONTH_S,
	    "a number of seconds between 0 and 2592000 (0 = no alert)") },
	{ CFG_LLONG("forecast.half_life", LR(forecast.half_life), 900, 1,
	    7 * CFG_DAY_S, "a number of seconds between 1 and 604800") },
	{ CFG_LLONG("forecast.interval", LR(forecast.interval), 15, 1, 3600,
	    "a number of seconds between 1 and 3600") },
	{ CFG_NUMBER("calibrate.max_reject_rate", LR(calibrate.max_reject_rate),
	    0.2, 0, 1, "a fraction between 0 and 1") },
	{ CFG_LLONG("calibrate.min_outcomes", LR(calibrate.min_outcomes), 20, 1,
	    CFG_COUNT_MAX, "a positive integer") },
	{ CFG_OWN("plan", cfg_load_plan_section) },
	{ CFG_OWN("webhooks", cfg_load_webhooks) },
};
const size_t cfg_nkeys = CFG_NKEYS(cfg_keys);


/* The length of the group a key of cfg_keys is in; of its name at top level. */
static size_t
group_len(const struct cfg_key *k)
{
	return strcspn(k->name, ".");
}

/* Is name a top-level key of cfg_keys: a group or a key of its own? */
static bool
in_top_level(const char *name, const void *arg)
{
	size_t len;

	(void)arg;
	for (size_t i = 0; i < CFG_NKEYS(cfg_keys); i++) {
		len = group_len(&cfg_keys[i]);
		if (strlen(name) == len &&
		    strncmp(cfg_keys[i].name, name, len) == 0)
			return true;
	}
	return false;
}

/* One group of cfg_keys: keys[0..n), all in the same group. */
static void
load_group(struct cfg_ctx *c, const config_setting_t *root,
    const struct cfg_key *keys, size_t n, struct lr_config *cfg)
{
	char name[CFG_KEY_MAX];
	const config_setting_t *g;
	bool required = false;

	snprintf(name, sizeof(name), "%.*s", (int)group_len(keys), keys->name);
	for (size_t i = 0; i < n; i++)
		if (keys[i].flags & CFG_REQUIRED)
			required = true;
	g = cfg_get_group(c, root, "", name, required);
	if (g == NULL && required)
		return;
	cfg_check_unknown_keys(c, g, name, keys, n);
	(void)cfg_read_keys(c, g, name, keys, n, cfg);
}

/* Every key of the table, group by group, in table order. */
static void
load_keys(struct cfg_ctx *c, const config_setting_t *root,
    struct lr_config *cfg)
{
	const struct cfg_key *k;
	size_t len, n;

	cfg_check_unknown_by(c, root, "", in_top_level, NULL);
	for (size_t i = 0; i < CFG_NKEYS(cfg_keys); i += n) {
		k = &cfg_keys[i];
		len = group_len(k);
		if (k->name[len] == '\0') {
			(void)cfg_read_keys(c, root, "", k, 1, cfg);
			n = 1;
			continue;
		}
		for (n = 1; i + n < CFG_NKEYS(cfg_keys) &&
		    strncmp(cfg_keys[i + n].name, k->name, len + 1) == 0; n++)
			;
		load_group(c, root, k, n, cfg);
	}
}

/*
 * libconfig 1.5 exits the process when an @include names a directory (its
 * scanner fails). Check every @include (and theirs, a few levels deep)
 * names a regular file before libconfig reads anything: for the daemon a
 * bad file on SIGHUP must be an error, never an exit.
 */
static int
check_includes(struct cfg_ctx *c, const char *file, const char *dir, int depth)
{
	char *bytes, *p, *line, *end, target[PATH_MAX], msg[1024];
	struct stat st;
	size_t len;
	int lineno = 0, rc = 0;

	if (depth > 10 || (bytes = read_file(file, &len)) == NULL)
		return 0;	/* libconfig reports what it cannot read */
	for (line = bytes; line != NULL && *line != '\0'; line = p) {
		p = strchr(line, '\n');
		if (p != NULL)
			*p++ = '\0';
		lineno++;
		line += strspn(line, " \t");
		if (strncmp(line, "@include", 8) != 0)
			continue;
		line = strchr(line, '"');
		if (line == NULL || (end = strchr(line + 1, '"')) == NULL)
			continue;	/* a syntax error libconfig names */
		*end = '\0';
		if (line[1] == '/' || dir == NULL)
			snprintf(target, sizeof(target), "%s", line + 1);
		else
			snprintf(target, sizeof(target), "%s/%s", dir, line + 1);
		if (stat(target, &st) == -1 || !S_ISREG(st.st_mode)) {
			snprintf(msg, sizeof(msg),
			    "%s:%d: '@include' names \"%s\", which is not a readable file",
			    file, lineno, line + 1);
			cfg_diag_error(c->diag, msg);
			rc = -1;
		} else if (check_includes(c, target, dir, depth + 1) == -1)
			rc = -1;
	}
	free(bytes);
	return rc;
}

struct lr_config *
cfg_load(const char *path, struct cfg_diag *diag)
{
	return cfg_load_flags(path, diag, 0);
}

struct lr_config *
cfg_load_flags(const char *path, struct cfg_diag *diag, unsigned flags)
{
	struct cfg_ctx c = {diag, path, 1, flags};
	char msg[1024], *dir, *slash;
	struct lr_config *cfg;
	config_t cf;
	const config_setting_t *root;
	char *bytes;
	size_t len;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		cfg_err(&c, NULL, NULL, "cannot load configuration: %s",
		    strerror(errno));
		cfg_free(cfg);
		return NULL;
	}
	if ((bytes = read_file(path, &len)) == NULL) {
		snprintf(msg, sizeof(msg), "cannot read configuration '%s': %s",
		    path, strerror(errno));
		cfg_diag_error(diag, msg);
		cfg_free(cfg);
		return NULL;
	}
	fnv1a_hex(bytes, len, cfg->version);
	for (size_t i = 0; i + 1 < len; i++)
		if (bytes[i] == '\n')
			c.last_line++;
	free(bytes);

	config_init(&cf);
	/* @include "x.conf" is relative to the including file's directory. */
	if ((dir = strdup(path)) != NULL) {
		if ((slash = strrchr(dir, '/')) != NULL) {
			*slash = '\0';
			config_set_include_dir(&cf, dir[0] ? dir : "/");
		}
	}
	if (check_includes(&c, path, dir != NULL && strrchr(path, '/') ?
	    (dir[0] ? dir : "/") : NULL, 0) == -1) {
		free(dir);
		config_destroy(&cf);
		cfg_free(cfg);
		return NULL;
	}
	free(dir);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		const char *text = config_error_text(&cf);

		snprintf(msg, sizeof(msg), "%s:%d: %s%s",
		    config_error_file(&cf) ? config_error_file(&cf) : path,
		    config_error_line(&cf),
		    strstr(text, "syntax") ? "" : "syntax error: ", text);
		cfg_diag_error(diag, msg);
		config_destroy(&cf);
		cfg_free(cfg);
		return NULL;
	}
	root = config_root_setting(&cf);
	load_keys(&c, root, cfg);
	config_destroy(&cf);
	if (diag->nerrors > 0) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

void
cfg_free(struct lr_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->redis.host);
	free(cfg->redis.unix_socket);
	free(cfg->redis.password);
	free(cfg->redis.password_file);
	free(cfg->redis.prefix);
	free(cfg->redis.username);
	for (size_t i = 0; i < cfg->redis.nsentinels; i++)
		free(cfg->redis.sentinel_hosts[i]);
	free(cfg->redis.sentinel_hosts);
	free(cfg->redis.sentinel_ports);
	free(cfg->redis.master_name);
	free(cfg->redis.sentinel_username);
	free(cfg->redis.sentinel_password);
	free(cfg->http.listen);
	free(cfg->http.host);
	cfg_intake_http_clear(cfg);
	free(cfg->http.auth_file);
	for (size_t i = 0; i < cfg->http.nauth; i++) {
		explicit_bzero(cfg->http.auth[i], strlen(cfg->http.auth[i]));
		free(cfg->http.auth[i]);
	}
	free(cfg->http.auth);
	score_clear(&cfg->scoring);
	segments_clear(&cfg->segments);
	for (size_t i = 0; i < cfg->nreps; i++) {
		free(cfg->reps[i].id);
		free(cfg->reps[i].name);
		free(cfg->reps[i].segs);
		free(cfg->reps[i].calendar);
	}
	free(cfg->reps);
	for (size_t i = 0; i < cfg->ncalendars; i++)
		cal_free(cfg->calendars[i]);
	free(cfg->calendars);
	free(cfg->sla.calendar);
	plan_clear(&cfg->plan);
	cfg_free_webhooks(cfg);
	free(cfg);
}

void
cfg_diag_clear(struct cfg_diag *diag)
{
	for (size_t i = 0; i < diag->nerrors; i++)
		free(diag->errors[i]);
	free(diag->errors);
	for (size_t i = 0; i < diag->nwarnings; i++)
		free(diag->warnings[i]);
	free(diag->warnings);
	memset(diag, 0, sizeof(*diag));
}

const struct calendar *
cfg_calendar_find(const struct lr_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ncalendars; i++)
		if (cfg->calendars[i] != NULL &&
		    strcmp(cfg->calendars[i]->name, name) == 0)
			return cfg->calendars[i];
	return NULL;
}

bool
cfg_rep_on_shift(const struct lr_config *cfg, const struct rep_cfg *rep,
    int64_t now_ms, int64_t *until_ms)
{
	const struct calendar *cal;

	if (until_ms != NULL)
		*until_ms = -1;
	if (rep->calendar == NULL ||
	    (cal = cfg_calendar_find(cfg, rep->calendar)) == NULL)
		return true;
	if (until_ms != NULL)
		*until_ms = cal_next_change(cal, now_ms);
	return cal_open_at(cal, now_ms);
}

void
cfg_check_calendar_ref(struct cfg_ctx *c, const config_setting_t *g,
    const char *pkey, const struct lr_config *cfg, const char *name)
{
	char key[CFG_KEY_MAX];

	if (name != NULL && cfg_calendar_find(cfg, name) == NULL)
		cfg_err(c, cfg_member(g, "calendar"),
		    cfg_key_join(key, pkey, "calendar"),
		    "names unknown calendar \"%s\"", name);
}

const struct rep_cfg *
cfg_rep_find(const struct lr_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nreps; i++)
		if (strcmp(cfg->reps[i].id, id) == 0)
			return &cfg->reps[i];
	return NULL;
}
