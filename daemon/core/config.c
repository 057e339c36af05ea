/* config.c - load leadrouted.conf with libconfig, check every key, report all errors. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <libconfig.h>

#include "config.h"
#include "log.h"

#define CFG_MAX_DIAG 200
#define KEY_MAX 256

/* What one load needs to report problems: the diagnostics and the file. */
struct ctx {
	struct cfg_diag *diag;
	const char *path;
	int last_line;		/* where a missing top-level key is reported */
};

static int
diag_push(char ***v, size_t *n, const char *msg)
{
	char **nv;

	if (*n >= CFG_MAX_DIAG)
		return 0;
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return -1;
	*v = nv;
	if ((nv[*n] = strdup(msg)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static void
vreport(struct ctx *c, bool error, const config_setting_t *at,
    const char *key, const char *fmt, va_list ap)
{
	char msg[1024], text[768];
	const char *file = c->path;
	int line = c->last_line;

	if (at != NULL && config_setting_source_line(at) > 0) {
		line = config_setting_source_line(at);
		if (config_setting_source_file(at) != NULL)
			file = config_setting_source_file(at);
	}
	vsnprintf(text, sizeof(text), fmt, ap);
	if (key != NULL)
		snprintf(msg, sizeof(msg), "%s:%d: '%s' %s", file, line, key,
		    text);
	else
		snprintf(msg, sizeof(msg), "%s:%d: %s", file, line, text);
	if (error)
		(void)diag_push(&c->diag->errors, &c->diag->nerrors, msg);
	else
		(void)diag_push(&c->diag->warnings, &c->diag->nwarnings, msg);
}

static void err_at(struct ctx *c, const config_setting_t *at, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void warn_at(struct ctx *c, const config_setting_t *at, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
err_at(struct ctx *c, const config_setting_t *at, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, true, at, key, fmt, ap);
	va_end(ap);
}

static void
warn_at(struct ctx *c, const config_setting_t *at, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, false, at, key, fmt, ap);
	va_end(ap);
}

/* Join a parent key and a member name: "reps.[3]" + "max_open". */
static const char *
key_join(char *buf, const char *parent, const char *name)
{
	int n;

	if (parent == NULL || parent[0] == '\0')
		n = snprintf(buf, KEY_MAX, "%s", name);
	else
		n = snprintf(buf, KEY_MAX, "%s.%s", parent, name);
	if (n < 0 || n >= KEY_MAX)
		buf[KEY_MAX - 1] = '\0';	/* a long key is cut, not lost */
	return buf;
}

static const char *
key_index(char *buf, const char *parent, unsigned int i)
{
	int n = snprintf(buf, KEY_MAX, "%s.[%u]", parent, i);

	if (n < 0 || n >= KEY_MAX)
		buf[KEY_MAX - 1] = '\0';
	return buf;
}

/* A group's member, or NULL; a NULL group has no members. */
static config_setting_t *
member(const config_setting_t *group, const char *name)
{
	if (group == NULL || !config_setting_is_group(group))
		return NULL;
	return config_setting_get_member(group, name);
}

static bool
is_collection(const config_setting_t *s)
{
	return config_setting_is_list(s) || config_setting_is_array(s);
}

/* Warn about members of group that are not in the NULL-terminated known list. */
static void
check_unknown(struct ctx *c, const config_setting_t *group, const char *parent,
    const char *const *known)
{
	char key[KEY_MAX];
	const config_setting_t *m;
	const char *name;
	size_t k;

	if (group == NULL || !config_setting_is_group(group))
		return;
	for (unsigned int i = 0; (m = config_setting_get_elem(group, i)); i++) {
		name = config_setting_name(m);
		if (name == NULL)
			continue;
		for (k = 0; known[k] != NULL; k++)
			if (strcmp(known[k], name) == 0)
				break;
		if (known[k] == NULL)
			warn_at(c, m, key_join(key, parent, name),
			    "is not a known key; ignored");
	}
}

/*
 * A group member that must be a group when present. Returns it, or NULL
 * when absent (an error if required) or of another type (always an error).
 */
static config_setting_t *
get_group(struct ctx *c, const config_setting_t *parent, const char *pkey,
    const char *name, bool required)
{
	char key[KEY_MAX];
	config_setting_t *s = member(parent, name);

	if (s == NULL) {
		if (required)
			err_at(c, parent, key_join(key, pkey, name),
			    "is required");
		return NULL;
	}
	if (!config_setting_is_group(s)) {
		err_at(c, s, key_join(key, pkey, name),
		    "must be a group { ... }");
		return NULL;
	}
	return s;
}

/* A string member: 0 with *out set (a copy, or of def), -1 on error. */
static int
get_string(struct ctx *c, const config_setting_t *group, const char *pkey,
    const char *name, bool required, const char *def, char **out)
{
	char key[KEY_MAX];
	const config_setting_t *s = NULL;
	const char *v = def;

	if (group != NULL)
		s = member(group, name);
	if (s == NULL && required) {
		err_at(c, group, key_join(key, pkey, name), "is required");
		return -1;
	}
	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			err_at(c, s, key_join(key, pkey, name),
			    "must be a string");
			return -1;
		}
		v = config_setting_get_string(s);
	}
	if (v == NULL) {
		*out = NULL;
		return 0;
	}
	if ((*out = strdup(v)) == NULL) {
		err_at(c, s, key_join(key, pkey, name), "cannot be stored: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* An integer member within [min, max]; 0 with *out set, -1 on error. */
static int
get_int(struct ctx *c, const config_setting_t *group, const char *pkey,
    const char *name, bool required, long long def, long long min,
    long long max, const char *what, long long *out)
{
	char key[KEY_MAX];
	const config_setting_t *s = NULL;
	long long v;

	*out = def;
	if (group != NULL)
		s = member(group, name);
	if (s == NULL) {
		if (!required)
			return 0;
		err_at(c, group, key_join(key, pkey, name), "is required");
		return -1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		err_at(c, s, key_join(key, pkey, name), "must be %s", what);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		err_at(c, s, key_join(key, pkey, name), "must be %s", what);
		return -1;
	}
	*out = v;
	return 0;
}

/* A boolean member; 0 with *out set (def when absent), -1 on error. */
static int
get_bool(struct ctx *c, const config_setting_t *group, const char *pkey,
    const char *name, bool def, bool *out)
{
	char key[KEY_MAX];
	const config_setting_t *s = member(group, name);

	*out = def;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		err_at(c, s, key_join(key, pkey, name),
		    "must be true or false");
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* Any number (int or float) member; 1 found, 0 absent, -1 wrong type. */
static int
get_number(struct ctx *c, const config_setting_t *group, const char *pkey,
    const char *name, double *out)
{
	char key[KEY_MAX];
	const config_setting_t *s = member(group, name);

	if (s == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		*out = (double)config_setting_get_int64(s);
		return 1;
	case CONFIG_TYPE_FLOAT:
		*out = config_setting_get_float(s);
		return 1;
	default:
		err_at(c, s, key_join(key, pkey, name), "must be a number");
		return -1;
	}
}

bool
cfg_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_REP_ID_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._@-") == n;
}

int
cfg_parse_listen(const char *s, char **host, int *port)
{
	const char *colon, *h, *hend;
	char *end;
	long p;

	*host = NULL;
	if (s[0] == '[') {
		h = s + 1;
		if ((hend = strchr(h, ']')) == NULL || hend[1] != ':')
			return -1;
		colon = hend + 1;
	} else {
		h = s;
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hend = colon;
		if (memchr(h, ':', (size_t)(hend - h)) != NULL)
			return -1;	/* a bare IPv6 address needs brackets */
	}
	if (hend == h)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end != '\0' || errno != 0 ||
	    p < 1 || p > 65535)
		return -1;
	if ((*host = strndup(h, (size_t)(hend - h))) == NULL)
		return -1;
	*port = (int)p;
	return 0;
}

static void
fnv1a_hex(const char *buf, size_t len, char out[17])
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 1099511628211ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
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

static void
load_redis(struct ctx *c, const config_setting_t *root, struct lr_config *cfg)
{
	static const char *const known[] = {"host", "port", "unix_socket",
	    "password", "password_file", "db", "prefix", NULL};
	const config_setting_t *g = get_group(c, root, "", "redis", false);
	const char *env;
	char *secret;
	size_t len;
	long long v;

	check_unknown(c, g, "redis", known);
	(void)get_string(c, g, "redis", "host", false, "127.0.0.1",
	    &cfg->redis.host);
	if (get_int(c, g, "redis", "port", false, 6379, 1, 65535,
	    "a port number (1-65535)", &v) == 0)
		cfg->redis.port = (int)v;
	(void)get_string(c, g, "redis", "unix_socket", false, "",
	    &cfg->redis.unix_socket);
	(void)get_string(c, g, "redis", "password", false, "",
	    &cfg->redis.password);
	(void)get_string(c, g, "redis", "password_file", false, "",
	    &cfg->redis.password_file);
	if (get_int(c, g, "redis", "db", false, 0, 0, INT_MAX,
	    "a database number >= 0", &v) == 0)
		cfg->redis.db = (int)v;
	(void)get_string(c, g, "redis", "prefix", false, "lr:",
	    &cfg->redis.prefix);

	if (cfg->redis.host != NULL && cfg->redis.host[0] == '\0' &&
	    cfg->redis.unix_socket != NULL &&
	    cfg->redis.unix_socket[0] == '\0')
		err_at(c, member(g, "host"), "redis.host",
		    "must not be empty unless redis.unix_socket is set");
	if (cfg->redis.prefix != NULL && (cfg->redis.prefix[0] == '\0' ||
	    strpbrk(cfg->redis.prefix, " \t\r\n") != NULL))
		err_at(c, member(g, "prefix"),
		    "redis.prefix", "must be a non-empty string without spaces");
	if (cfg->redis.password != NULL && cfg->redis.password[0] != '\0' &&
	    cfg->redis.password_file != NULL &&
	    cfg->redis.password_file[0] != '\0')
		err_at(c, member(g, "password_file"),
		    "redis.password_file",
		    "cannot be used together with redis.password");
	else if (cfg->redis.password_file != NULL &&
	    cfg->redis.password_file[0] != '\0') {
		if ((secret = read_file(cfg->redis.password_file, &len)) ==
		    NULL) {
			err_at(c, member(g, "password_file"),
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

static void
load_http_intake_log(struct ctx *c, const config_setting_t *root,
    struct lr_config *cfg)
{
	static const char *const http_known[] = {"listen", NULL};
	static const char *const intake_known[] = {"max_bytes", NULL};
	static const char *const log_known[] = {"level", NULL};
	const config_setting_t *g;
	char *level = NULL;
	long long v;
	int lv;

	g = get_group(c, root, "", "http", false);
	check_unknown(c, g, "http", http_known);
	if (get_string(c, g, "http", "listen", false, "127.0.0.1:9464",
	    &cfg->http.listen) == 0 && cfg->http.listen[0] != '\0' &&
	    cfg_parse_listen(cfg->http.listen, &cfg->http.host,
	    &cfg->http.port) == -1)
		err_at(c, member(g, "listen"),
		    "http.listen",
		    "must be \"host:port\" or \"[ipv6]:port\" (or \"\" to disable), not \"%s\"",
		    cfg->http.listen);

	g = get_group(c, root, "", "intake", false);
	check_unknown(c, g, "intake", intake_known);
	if (get_int(c, g, "intake", "max_bytes", false, 65536, 64,
	    512LL * 1024 * 1024, "a size in bytes (64 to 536870912)",
	    &v) == 0)
		cfg->intake.max_bytes = (size_t)v;

	g = get_group(c, root, "", "log", false);
	check_unknown(c, g, "log", log_known);
	cfg->log.level = LOG_LEVEL_INFO;
	if (get_string(c, g, "log", "level", false, "info", &level) == 0) {
		if ((lv = log_level_parse(level)) == -1)
			err_at(c, member(g, "level"),
			    "log.level",
			    "must be one of \"error\", \"warning\", \"info\", \"debug\"");
		else
			cfg->log.level = lv;
	}
	free(level);
}

/* Compile the operands of one condition (rule or segment); -1 on error. */
static int
load_cond(struct ctx *c, const config_setting_t *g, const char *pkey,
    struct match_cond *cond, bool scoring)
{
	char key[KEY_MAX];
	const config_setting_t *s, *vals, *e;
	char *field = NULL, *op = NULL;
	int rc = -1, r1, r2;

	r1 = get_string(c, g, pkey, "field", true, NULL, &field);
	r2 = get_string(c, g, pkey, "op", true, NULL, &op);
	if (r1 == -1 || r2 == -1)
		goto out;
	if (match_set_field(cond, field) == -1) {
		err_at(c, member(g, "field"),
		    key_join(key, pkey, "field"),
		    "must be a dotted path like \"activity.page_views\"");
		goto out;
	}
	if (match_op_parse(op, &cond->op) == -1 ||
	    (!scoring && cond->op == MATCH_PER)) {
		err_at(c, member(g, "op"),
		    key_join(key, pkey, "op"),
		    "has unknown operator \"%s\" (expected eq, ne, in, contains_any, ends_with_any, lt, lte, gt, gte, between, exists, is_true%s)",
		    op, scoring ? ", per" : "");
		goto out;
	}
	rc = 0;
	if (match_op_takes_list(cond->op)) {
		vals = member(g, "values");
		if (vals == NULL) {
			err_at(c, g, key_join(key, pkey, "values"),
			    "is required for op \"%s\"", op);
			rc = -1;
		} else if (!is_collection(vals) ||
		    config_setting_length(vals) == 0) {
			err_at(c, vals, key_join(key, pkey, "values"),
			    "must be a non-empty list of strings");
			rc = -1;
		} else {
			for (int i = 0; (e = config_setting_get_elem(vals,
			    (unsigned int)i)) != NULL; i++) {
				if (config_setting_type(e) !=
				    CONFIG_TYPE_STRING) {
					err_at(c, e, key_join(key, pkey,
					    "values"),
					    "must be a non-empty list of strings");
					rc = -1;
					break;
				}
				/* "" would make contains_any match everything. */
				if (config_setting_get_string(e)[0] == '\0') {
					char ekey[KEY_MAX];

					err_at(c, e, key_index(ekey, key_join(key,
					    pkey, "values"), (unsigned int)i),
					    "must not be empty");
					rc = -1;
					break;
				}
				if (match_add_str(cond,
				    config_setting_get_string(e),
				    strlen(config_setting_get_string(e))) ==
				    -1) {
					rc = -1;
					break;
				}
			}
		}
	} else if (cond->op == MATCH_EQ || cond->op == MATCH_NE) {
		s = member(g, "value");
		if (s == NULL) {
			err_at(c, g, key_join(key, pkey, "value"),
			    "is required for op \"%s\"", op);
			rc = -1;
		} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
			cond->kind = MATCH_KIND_STRING;
			rc = match_add_str(cond, config_setting_get_string(s),
			    strlen(config_setting_get_string(s)));
		} else if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
			cond->kind = MATCH_KIND_BOOL;
			cond->boolean = config_setting_get_bool(s) != 0;
		} else if (get_number(c, g, pkey, "value", &cond->num) == 1) {
			cond->kind = MATCH_KIND_NUMBER;
		} else {
			rc = -1;
		}
	} else if (match_op_is_numeric(cond->op)) {
		r1 = get_number(c, g, pkey, "value", &cond->num);
		if (r1 == 0)
			err_at(c, g, key_join(key, pkey, "value"),
			    "is required for op \"%s\"", op);
		if (r1 != 1)
			rc = -1;
	} else if (cond->op == MATCH_BETWEEN) {
		r1 = get_number(c, g, pkey, "min", &cond->min);
		r2 = get_number(c, g, pkey, "max", &cond->max);
		if (r1 == 0)
			err_at(c, g, key_join(key, pkey, "min"),
			    "is required for op \"between\"");
		if (r2 == 0)
			err_at(c, g, key_join(key, pkey, "max"),
			    "is required for op \"between\"");
		if (r1 != 1 || r2 != 1)
			rc = -1;
		else if (cond->min > cond->max) {
			err_at(c, member(g, "max"),
			    key_join(key, pkey, "max"),
			    "must not be smaller than min (%g > %g)",
			    cond->min, cond->max);
			rc = -1;
		}
	}
out:
	free(field);
	free(op);
	return rc;
}

/* The member names a condition of this op may have, for check_unknown. */
static void
cond_known(enum match_op op, bool scoring, const char **known)
{
	size_t n = 0;

	known[n++] = "field";
	known[n++] = "op";
	known[n++] = scoring ? "points" : "name";
	if (match_op_takes_list(op))
		known[n++] = "values";
	else if (op == MATCH_EQ || op == MATCH_NE || match_op_is_numeric(op))
		known[n++] = "value";
	else if (op == MATCH_BETWEEN) {
		known[n++] = "min";
		known[n++] = "max";
	} else if (op == MATCH_PER)
		known[n++] = "max";
	known[n] = NULL;
}

static void
load_rule(struct ctx *c, const config_setting_t *g, const char *pkey,
    struct score_rule *r)
{
	const char *known[8];
	double cap;
	int rc;

	r->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		err_at(c, g, pkey,
		    "must be a group { field = ...; op = ...; points = ...; }");
		return;
	}
	rc = load_cond(c, g, pkey, &r->cond, true);
	if (rc == 0) {
		cond_known(r->cond.op, true, known);
		check_unknown(c, g, pkey, known);
	}
	(void)get_int(c, g, pkey, "points", true, 0, -1000000000LL,
	    1000000000LL, "an integer between -1000000000 and 1000000000",
	    &r->points);
	if (rc == 0 && r->cond.op == MATCH_PER) {
		char key[KEY_MAX];

		rc = get_number(c, g, pkey, "max", &cap);
		if (rc == 1 && (cap < 0 || cap > (double)SCORE_LIMIT))
			err_at(c, member(g, "max"),
			    key_join(key, pkey, "max"),
			    "must be a number of points >= 0");
		else if (rc == 1) {
			r->has_cap = true;
			r->cap = (long long)cap;
		}
	}
}

static void
load_scoring(struct ctx *c, const config_setting_t *root,
    struct lr_config *cfg)
{
	static const char *const known[] = {"mql_threshold", "rules", NULL};
	char key[KEY_MAX];
	const config_setting_t *g, *rules;
	unsigned int n;

	if ((g = get_group(c, root, "", "scoring", true)) == NULL)
		return;
	check_unknown(c, g, "scoring", known);
	(void)get_int(c, g, "scoring", "mql_threshold", true, 0,
	    -SCORE_LIMIT, SCORE_LIMIT, "an integer", &cfg->scoring.mql_threshold);
	rules = member(g, "rules");
	if (rules == NULL) {
		err_at(c, g, "scoring.rules", "is required (it may be empty: ())");
		return;
	}
	if (!is_collection(rules)) {
		err_at(c, rules, "scoring.rules", "must be a list ( ... )");
		return;
	}
	n = (unsigned int)config_setting_length(rules);
	if (n == 0)
		return;
	if ((cfg->scoring.rules = calloc(n, sizeof(struct score_rule))) ==
	    NULL) {
		err_at(c, rules, "scoring.rules", "cannot be stored: %s",
		    strerror(errno));
		return;
	}
	cfg->scoring.nrules = n;
	for (unsigned int i = 0; i < n; i++)
		load_rule(c, config_setting_get_elem(rules, i),
		    key_index(key, "scoring.rules", i), &cfg->scoring.rules[i]);
}

static void
load_segment(struct ctx *c, const config_setting_t *g, const char *pkey,
    struct segment *seg, struct segments *segs, size_t idx)
{
	static const char *const name_only[] = {"name", NULL};
	const char *known[8];
	char key[KEY_MAX];

	seg->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		err_at(c, g, pkey,
		    "must be a group { name = ...; field = ...; op = ...; }");
		return;
	}
	if (get_string(c, g, pkey, "name", true, NULL, &seg->name) == 0) {
		if (!cfg_valid_name(seg->name))
			err_at(c, member(g, "name"),
			    key_join(key, pkey, "name"),
			    "must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
		for (size_t j = 0; j < idx; j++)
			if (segs->v[j].name != NULL &&
			    strcmp(segs->v[j].name, seg->name) == 0)
				err_at(c, member(g, "name"),
				    key_join(key, pkey, "name"),
				    "duplicates segment \"%s\" of line %d",
				    seg->name, segs->v[j].line);
	}
	if (member(g, "field") == NULL &&
	    member(g, "op") == NULL) {
		check_unknown(c, g, pkey, name_only);
		return;		/* matches only as the default segment */
	}
	seg->has_cond = true;
	if (load_cond(c, g, pkey, &seg->cond, false) == 0) {
		cond_known(seg->cond.op, false, known);
		check_unknown(c, g, pkey, known);
	}
}

static void
load_segments(struct ctx *c, const config_setting_t *root,
    struct lr_config *cfg)
{
	char key[KEY_MAX];
	const config_setting_t *list, *def;
	struct segments *segs = &cfg->segments;
	unsigned int n;
	int idx;

	list = member(root, "segments");
	if (list == NULL) {
		err_at(c, root, "segments", "is required");
	} else if (!is_collection(list) || config_setting_length(list) == 0) {
		err_at(c, list, "segments", "must be a non-empty list ( ... )");
	} else {
		n = (unsigned int)config_setting_length(list);
		if ((segs->v = calloc(n, sizeof(*segs->v))) == NULL) {
			err_at(c, list, "segments", "cannot be stored: %s",
			    strerror(errno));
			return;
		}
		segs->n = n;
		for (unsigned int i = 0; i < n; i++)
			load_segment(c, config_setting_get_elem(list, i),
			    key_index(key, "segments", i), &segs->v[i], segs,
			    i);
	}

	def = member(root, "default_segment");
	if (def == NULL) {
		err_at(c, root, "default_segment", "is required");
	} else if (config_setting_type(def) != CONFIG_TYPE_STRING) {
		err_at(c, def, "default_segment", "must be a string");
	} else if (segs->n > 0) {
		idx = segment_find(segs, config_setting_get_string(def));
		if (idx == -1)
			err_at(c, def, "default_segment",
			    "names \"%s\", which is not one of the segments",
			    config_setting_get_string(def));
		else
			segs->default_idx = (size_t)idx;
	}
}

static void
load_rep_segments(struct ctx *c, const config_setting_t *g, const char *pkey,
    struct lr_config *cfg, struct rep_cfg *rep)
{
	char key[KEY_MAX];
	const config_setting_t *list, *e;
	const char *name;
	unsigned int n;
	int idx;

	key_join(key, pkey, "segments");
	list = member(g, "segments");
	if (list == NULL) {
		err_at(c, g, key, "is required");
		return;
	}
	if (!is_collection(list) || config_setting_length(list) == 0) {
		err_at(c, list, key, "must be a non-empty list of segment names");
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if ((rep->segs = calloc(n, sizeof(*rep->segs))) == NULL)
		return;
	for (unsigned int i = 0; i < n; i++) {
		e = config_setting_get_elem(list, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			err_at(c, e, key, "must be a non-empty list of segment names");
			continue;
		}
		name = config_setting_get_string(e);
		if (cfg->segments.n == 0)
			continue;	/* already reported */
		if ((idx = segment_find(&cfg->segments, name)) == -1) {
			err_at(c, e, key, "names unknown segment \"%s\"", name);
			continue;
		}
		for (size_t k = 0; k < rep->nsegs; k++)
			if (rep->segs[k] == (size_t)idx) {
				err_at(c, e, key, "names segment \"%s\" twice",
				    name);
				idx = -1;
				break;
			}
		if (idx != -1)
			rep->segs[rep->nsegs++] = (size_t)idx;
	}
}

static void
load_rep(struct ctx *c, const config_setting_t *g, const char *pkey,
    struct lr_config *cfg, size_t idx)
{
	static const char *const known[] = {"id", "name", "segments",
	    "max_open", "max_per_period", NULL};
	char key[KEY_MAX];
	struct rep_cfg *rep = &cfg->reps[idx];

	rep->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		err_at(c, g, pkey, "must be a group { id = ...; segments = [...]; }");
		return;
	}
	check_unknown(c, g, pkey, known);
	if (get_string(c, g, pkey, "id", true, NULL, &rep->id) == 0) {
		if (!cfg_valid_name(rep->id))
			err_at(c, member(g, "id"),
			    key_join(key, pkey, "id"),
			    "must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
		for (size_t j = 0; j < idx; j++)
			if (cfg->reps[j].id != NULL &&
			    strcmp(cfg->reps[j].id, rep->id) == 0)
				err_at(c, member(g, "id"),
				    key_join(key, pkey, "id"),
				    "duplicates rep \"%s\" of line %d", rep->id,
				    cfg->reps[j].line);
	}
	(void)get_string(c, g, pkey, "name", false, rep->id ? rep->id : "",
	    &rep->name);
	load_rep_segments(c, g, pkey, cfg, rep);
	(void)get_int(c, g, pkey, "max_open", false, 25, 1, 1000000,
	    "a positive integer", &rep->max_open);
	(void)get_int(c, g, pkey, "max_per_period", false, 0, 0, 100000000,
	    "an integer >= 0 (0 = unlimited)", &rep->max_per_period);
}

static void
load_reps(struct ctx *c, const config_setting_t *root, struct lr_config *cfg)
{
	char key[KEY_MAX];
	const config_setting_t *list;
	unsigned int n;

	list = member(root, "reps");
	if (list == NULL) {
		err_at(c, root, "reps", "is required");
		return;
	}
	if (!is_collection(list) || config_setting_length(list) == 0) {
		err_at(c, list, "reps", "must be a non-empty list of reps ( { id = ...; }, ... )");
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if ((cfg->reps = calloc(n, sizeof(*cfg->reps))) == NULL)
		return;
	cfg->nreps = n;
	for (unsigned int i = 0; i < n; i++)
		load_rep(c, config_setting_get_elem(list, i),
		    key_index(key, "reps", i), cfg, i);
}

/* Warn about segments no rep serves: their MQLs can only wait. */
static void
check_coverage(struct ctx *c, const config_setting_t *root,
    const struct lr_config *cfg)
{
	const config_setting_t *list = member(root,
	    "segments");
	bool served;

	for (size_t s = 0; s < cfg->segments.n; s++) {
		served = false;
		for (size_t r = 0; r < cfg->nreps && !served; r++)
			for (size_t k = 0; k < cfg->reps[r].nsegs; k++)
				if (cfg->reps[r].segs[k] == s)
					served = true;
		if (!served && cfg->segments.v[s].name != NULL)
			warn_at(c, config_setting_get_elem(list,
			    (unsigned int)s), NULL,
			    "segment \"%s\" has no reps: its MQLs will wait in its backlog",
			    cfg->segments.v[s].name);
	}
}

static void
load_capacity_sla(struct ctx *c, const config_setting_t *root,
    struct lr_config *cfg)
{
	static const char *const cap_known[] = {"period", NULL};
	static const char *const sla_known[] = {"follow_up", "warn_before",
	    "on_breach", "max_reassign", "alert_log_max", NULL};
	const config_setting_t *g;
	char *on_breach = NULL;
	int r1, r2;

	g = get_group(c, root, "", "capacity", false);
	check_unknown(c, g, "capacity", cap_known);
	(void)get_int(c, g, "capacity", "period", false, 604800, 1,
	    366LL * 86400, "a number of seconds (1 to 31622400)",
	    &cfg->capacity.period);

	g = get_group(c, root, "", "sla", false);
	check_unknown(c, g, "sla", sla_known);
	r1 = get_int(c, g, "sla", "follow_up", false, 300, 1, 30LL * 86400,
	    "a number of seconds (1 to 2592000)", &cfg->sla.follow_up);
	r2 = get_int(c, g, "sla", "warn_before", false, 60, 0, 30LL * 86400,
	    "a number of seconds >= 0 (0 = no warning)", &cfg->sla.warn_before);
	if (r1 == 0 && r2 == 0 && cfg->sla.warn_before > 0 &&
	    cfg->sla.warn_before >= cfg->sla.follow_up)
		err_at(c, member(g, "warn_before"),
		    "sla.warn_before", "must be smaller than sla.follow_up (%lld >= %lld)",
		    cfg->sla.warn_before, cfg->sla.follow_up);
	if (get_string(c, g, "sla", "on_breach", false, "alert",
	    &on_breach) == 0) {
		if (strcmp(on_breach, "alert") == 0)
			cfg->sla.on_breach = SLA_ON_BREACH_ALERT;
		else if (strcmp(on_breach, "reassign") == 0)
			cfg->sla.on_breach = SLA_ON_BREACH_REASSIGN;
		else
			err_at(c, member(g, "on_breach"),
			    "sla.on_breach",
			    "must be \"alert\" or \"reassign\", not \"%s\"",
			    on_breach);
	}
	free(on_breach);
	(void)get_int(c, g, "sla", "max_reassign", false, 2, 0, 1000,
	    "an integer between 0 and 1000", &cfg->sla.max_reassign);
	(void)get_int(c, g, "sla", "alert_log_max", false, 100000, 1,
	    1000000000LL, "a positive integer", &cfg->sla.alert_log_max);
}

static void
load_insight(struct ctx *c, const config_setting_t *root,
    struct lr_config *cfg)
{
	static const char *const known[] = {"top_sources", NULL};
	const config_setting_t *g = get_group(c, root, "", "insight", false);

	check_unknown(c, g, "insight", known);
	(void)get_int(c, g, "insight", "top_sources", false, 10, 0, 1000,
	    "a number of sources between 0 and 1000", &cfg->insight.top_sources);
}

static void
load_forecast(struct ctx *c, const config_setting_t *root,
    struct lr_config *cfg)
{
	static const char *const known[] = {"horizon", "half_life", "interval",
	    NULL};
	const config_setting_t *g = get_group(c, root, "", "forecast", false);

	check_unknown(c, g, "forecast", known);
	(void)get_int(c, g, "forecast", "horizon", false, 3600, 0, 86400 * 30,
	    "a number of seconds between 0 and 2592000 (0 = no alert)",
	    &cfg->forecast.horizon);
	(void)get_int(c, g, "forecast", "half_life", false, 900, 1, 86400 * 7,
	    "a number of seconds between 1 and 604800",
	    &cfg->forecast.half_life);
	(void)get_int(c, g, "forecast", "interval", false, 15, 1, 3600,
	    "a number of seconds between 1 and 3600", &cfg->forecast.interval);
}

static void
load_calibrate(struct ctx *c, const config_setting_t *root,
    struct lr_config *cfg)
{
	static const char *const known[] = {"max_reject_rate", "min_outcomes",
	    NULL};
	const config_setting_t *g = get_group(c, root, "", "calibrate", false);
	double rate = 0.2;
	char key[KEY_MAX];

	check_unknown(c, g, "calibrate", known);
	if (g != NULL && get_number(c, g, "calibrate", "max_reject_rate",
	    &rate) == 1 && !(rate >= 0 && rate <= 1)) {
		err_at(c, member(g, "max_reject_rate"),
		    key_join(key, "calibrate", "max_reject_rate"),
		    "must be a fraction between 0 and 1");
		rate = 0.2;
	}
	cfg->calibrate.max_reject_rate = rate;
	(void)get_int(c, g, "calibrate", "min_outcomes", false, 20, 1,
	    1000000000LL, "a positive integer", &cfg->calibrate.min_outcomes);
}

static void
load_audit(struct ctx *c, const config_setting_t *root, struct lr_config *cfg)
{
	static const char *const known[] = {"enabled", "max_len", NULL};
	const config_setting_t *g = get_group(c, root, "", "audit", false);

	check_unknown(c, g, "audit", known);
	(void)get_bool(c, g, "audit", "enabled", false, &cfg->audit.enabled);
	(void)get_int(c, g, "audit", "max_len", false, 1000000, 1,
	    1000000000LL, "a positive integer", &cfg->audit.max_len);
}

/* The five conversion rates of a group; required ones must all be there. */
static void
load_conversions(struct ctx *c, const config_setting_t *g, const char *pkey,
    bool required, double conv[PLAN_NCONV])
{
	char key[KEY_MAX];
	double v;
	int r;

	for (int k = 0; k < PLAN_NCONV; k++) {
		r = get_number(c, g, pkey, plan_conv_names[k], &v);
		if (r == 0 && required)
			err_at(c, g, key_join(key, pkey, plan_conv_names[k]),
			    "is required (a fraction, e.g. 0.3 for 30%%)");
		else if (r == 1 && !(v > 0 && v <= 1))
			err_at(c, member(g, plan_conv_names[k]),
			    key_join(key, pkey, plan_conv_names[k]),
			    "must be a fraction above 0 and at most 1 (0.3 is 30%%)");
		else if (r == 1)
			conv[k] = v;
	}
	{
		const char *known[PLAN_NCONV + 1];

		for (int k = 0; k < PLAN_NCONV; k++)
			known[k] = plan_conv_names[k];
		known[PLAN_NCONV] = NULL;
		check_unknown(c, g, pkey, known);
	}
}

static void
load_plan_segment(struct ctx *c, const config_setting_t *g, const char *pkey,
    const struct segments *segs, struct plan *plan, size_t idx)
{
	static const char *const known[] = {"name", "target", "avg_deal",
	    "conversion", NULL};
	struct plan_segment *ps = &plan->segs[idx];
	const config_setting_t *conv;
	char key[KEY_MAX];
	int r;

	ps->line = config_setting_source_line(g);
	memcpy(ps->conv, plan->conv, sizeof(ps->conv));
	if (!config_setting_is_group(g)) {
		err_at(c, g, pkey, "must be a group { name = ...; target = ...; avg_deal = ...; }");
		return;
	}
	check_unknown(c, g, pkey, known);
	if (get_string(c, g, pkey, "name", true, NULL, &ps->name) == 0) {
		if (segment_find(segs, ps->name) == -1)
			err_at(c, member(g, "name"), key_join(key, pkey, "name"),
			    "names unknown segment \"%s\"", ps->name);
		for (size_t j = 0; j < idx; j++)
			if (plan->segs[j].name != NULL &&
			    strcmp(plan->segs[j].name, ps->name) == 0)
				err_at(c, member(g, "name"),
				    key_join(key, pkey, "name"),
				    "plans segment \"%s\" twice", ps->name);
	}
	r = get_number(c, g, pkey, "target", &ps->target);
	if (r == 0)
		err_at(c, g, key_join(key, pkey, "target"), "is required");
	else if (r == 1 && !(ps->target >= 0))
		err_at(c, member(g, "target"), key_join(key, pkey, "target"),
		    "must be a revenue >= 0");
	r = get_number(c, g, pkey, "avg_deal", &ps->avg_deal);
	if (r == 0)
		err_at(c, g, key_join(key, pkey, "avg_deal"), "is required");
	else if (r == 1 && !(ps->avg_deal > 0))
		err_at(c, member(g, "avg_deal"), key_join(key, pkey, "avg_deal"),
		    "must be a deal size above 0");
	if ((conv = member(g, "conversion")) != NULL) {
		if (!config_setting_is_group(conv))
			err_at(c, conv, key_join(key, pkey, "conversion"),
			    "must be a group { mql_to_sql = ...; ... }");
		else
			load_conversions(c, conv, key_join(key, pkey,
			    "conversion"), false, ps->conv);
	}
}

/* The optional plan section (leadctl plan): targets, rates, capacity. */
static void
load_plan(struct ctx *c, const config_setting_t *root,
    const struct segments *segs, struct plan *plan)
{
	static const char *const known[] = {"period_days",
	    "mqls_per_rep_month", "conversion", "segments", NULL};
	const config_setting_t *g, *conv, *list;
	char key[KEY_MAX];
	double v;
	int r;

	if ((g = get_group(c, root, "", "plan", false)) == NULL)
		return;
	plan->present = true;
	check_unknown(c, g, "plan", known);
	plan->period_days = 91;
	if ((r = get_number(c, g, "plan", "period_days", &v)) == 1 &&
	    !(v > 0 && v <= 3660))
		err_at(c, member(g, "period_days"), "plan.period_days",
		    "must be a number of days (above 0, at most 3660)");
	else if (r == 1)
		plan->period_days = v;
	if ((r = get_number(c, g, "plan", "mqls_per_rep_month", &v)) == 1 &&
	    !(v >= 0))
		err_at(c, member(g, "mqls_per_rep_month"),
		    "plan.mqls_per_rep_month", "must be a number >= 0");
	else if (r == 1)
		plan->mqls_per_rep_month = v;
	conv = get_group(c, g, "plan", "conversion", true);
	if (conv != NULL)
		load_conversions(c, conv, "plan.conversion", true, plan->conv);
	list = member(g, "segments");
	if (list == NULL) {
		err_at(c, g, "plan.segments", "is required");
		return;
	}
	if (!is_collection(list) || config_setting_length(list) == 0) {
		err_at(c, list, "plan.segments",
		    "must be a non-empty list ( { name = ...; target = ...; avg_deal = ...; }, ... )");
		return;
	}
	plan->nsegs = (size_t)config_setting_length(list);
	if ((plan->segs = calloc(plan->nsegs, sizeof(*plan->segs))) == NULL) {
		plan->nsegs = 0;
		err_at(c, list, "plan.segments", "cannot be stored: %s",
		    strerror(errno));
		return;
	}
	for (size_t i = 0; i < plan->nsegs; i++)
		load_plan_segment(c, config_setting_get_elem(list,
		    (unsigned int)i), key_index(key, "plan.segments",
		    (unsigned int)i), segs, plan, i);
}

int
cfg_load_plan(const char *path, const struct lr_config *cfg,
    struct plan *plan, struct cfg_diag *diag)
{
	static const char *const known[] = {"plan", NULL};
	struct ctx c = {diag, path, 1};
	config_t cf;
	char msg[1024];

	memset(plan, 0, sizeof(*plan));
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		snprintf(msg, sizeof(msg), "%s:%d: %s", config_error_file(&cf) ?
		    config_error_file(&cf) : path, config_error_line(&cf),
		    config_error_text(&cf));
		(void)diag_push(&diag->errors, &diag->nerrors, msg);
		config_destroy(&cf);
		return -1;
	}
	check_unknown(&c, config_root_setting(&cf), "", known);
	load_plan(&c, config_root_setting(&cf), &cfg->segments, plan);
	if (!plan->present)
		err_at(&c, NULL, "plan", "is required in a plan file");
	config_destroy(&cf);
	if (diag->nerrors > 0) {
		plan_clear(plan);
		return -1;
	}
	return 0;
}

/*
 * libconfig 1.5 exits the process when an @include names a directory (its
 * scanner fails). Check every @include (and theirs, a few levels deep)
 * names a regular file before libconfig reads anything: for the daemon a
 * bad file on SIGHUP must be an error, never an exit.
 */
static int
check_includes(struct ctx *c, const char *file, const char *dir, int depth)
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
			(void)diag_push(&c->diag->errors, &c->diag->nerrors, msg);
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
	static const char *const known[] = {"redis", "http", "intake",
	    "scoring", "segments", "default_segment", "reps", "capacity",
	    "sla", "log", "audit", "plan", "insight", "forecast", "calibrate",
	    NULL};
	struct ctx c = {diag, path, 1};
	char msg[1024], *dir, *slash;
	struct lr_config *cfg;
	config_t cf;
	const config_setting_t *root;
	char *bytes;
	size_t len;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		err_at(&c, NULL, NULL, "cannot load configuration: %s",
		    strerror(errno));
		cfg_free(cfg);
		return NULL;
	}
	if ((bytes = read_file(path, &len)) == NULL) {
		snprintf(msg, sizeof(msg), "cannot read configuration '%s': %s",
		    path, strerror(errno));
		(void)diag_push(&diag->errors, &diag->nerrors, msg);
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
		(void)diag_push(&diag->errors, &diag->nerrors, msg);
		config_destroy(&cf);
		cfg_free(cfg);
		return NULL;
	}
	root = config_root_setting(&cf);
	check_unknown(&c, root, "", known);
	load_redis(&c, root, cfg);
	load_http_intake_log(&c, root, cfg);
	load_scoring(&c, root, cfg);
	load_segments(&c, root, cfg);
	load_reps(&c, root, cfg);
	if (diag->nerrors == 0)
		check_coverage(&c, root, cfg);
	load_capacity_sla(&c, root, cfg);
	load_audit(&c, root, cfg);
	load_insight(&c, root, cfg);
	load_forecast(&c, root, cfg);
	load_calibrate(&c, root, cfg);
	load_plan(&c, root, &cfg->segments, &cfg->plan);
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
	free(cfg->http.listen);
	free(cfg->http.host);
	score_clear(&cfg->scoring);
	segments_clear(&cfg->segments);
	for (size_t i = 0; i < cfg->nreps; i++) {
		free(cfg->reps[i].id);
		free(cfg->reps[i].name);
		free(cfg->reps[i].segs);
	}
	free(cfg->reps);
	plan_clear(&cfg->plan);
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

const struct rep_cfg *
cfg_rep_find(const struct lr_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nreps; i++)
		if (strcmp(cfg->reps[i].id, id) == 0)
			return &cfg->reps[i];
	return NULL;
}
