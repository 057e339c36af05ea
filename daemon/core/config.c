/* config.c - load leadrouted.conf with libconfig: the key table, its reader, the reps; every error reported, none logged. */
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

#define CFG_MAX_DIAG 200

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

void
cfg_diag_error(struct cfg_diag *diag, const char *msg)
{
	(void)diag_push(&diag->errors, &diag->nerrors, msg);
}

static void vreport(struct cfg_ctx *c, bool error, const config_setting_t *at,
    const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
vreport(struct cfg_ctx *c, bool error, const config_setting_t *at,
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

void
cfg_err(struct cfg_ctx *c, const config_setting_t *at, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, true, at, key, fmt, ap);
	va_end(ap);
}

void
cfg_warn(struct cfg_ctx *c, const config_setting_t *at, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, false, at, key, fmt, ap);
	va_end(ap);
}

/* Join a parent key and a member name: "reps.[3]" + "max_open". */
const char *
cfg_key_join(char *buf, const char *parent, const char *name)
{
	int n;

	if (parent == NULL || parent[0] == '\0')
		n = snprintf(buf, CFG_KEY_MAX, "%s", name);
	else
		n = snprintf(buf, CFG_KEY_MAX, "%s.%s", parent, name);
	if (n < 0 || n >= CFG_KEY_MAX)
		buf[CFG_KEY_MAX - 1] = '\0';	/* a long key is cut, not lost */
	return buf;
}

const char *
cfg_key_index(char *buf, const char *parent, unsigned int i)
{
	int n = snprintf(buf, CFG_KEY_MAX, "%s.[%u]", parent, i);

	if (n < 0 || n >= CFG_KEY_MAX)
		buf[CFG_KEY_MAX - 1] = '\0';
	return buf;
}

config_setting_t *
cfg_member(const config_setting_t *group, const char *name)
{
	if (group == NULL || !config_setting_is_group(group))
		return NULL;
	return config_setting_get_member(group, name);
}

bool
cfg_is_list(const config_setting_t *s)
{
	return config_setting_is_list(s) || config_setting_is_array(s);
}

/* The member a key names in its group: "port" of "redis.port". */
static const char *
key_member(const struct cfg_key *k)
{
	const char *dot = strrchr(k->name, '.');

	return dot != NULL ? dot + 1 : k->name;
}

/* Warn about the members of group for which known() is false. */
static void
check_unknown_by(struct cfg_ctx *c, const config_setting_t *group,
    const char *parent, bool (*known)(const char *name, const void *arg),
    const void *arg)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *m;
	const char *name;

	if (group == NULL || !config_setting_is_group(group))
		return;
	for (unsigned int i = 0; (m = config_setting_get_elem(group, i)); i++) {
		name = config_setting_name(m);
		if (name != NULL && !known(name, arg))
			cfg_warn(c, m, cfg_key_join(key, parent, name),
			    "is not a known key; ignored");
	}
}

/* Is name in the NULL-terminated list arg? */
static bool
in_names(const char *name, const void *arg)
{
	for (const char *const *known = arg; *known != NULL; known++)
		if (strcmp(*known, name) == 0)
			return true;
	return false;
}

void
cfg_check_unknown(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const char *const *known)
{
	check_unknown_by(c, group, pkey, in_names, known);
}

/* Some keys of a table. */
struct key_span {
	const struct cfg_key *keys;
	size_t n;
};

/* Does a key of the span arg name member name? */
static bool
in_keys(const char *name, const void *arg)
{
	const struct key_span *span = arg;

	for (size_t i = 0; i < span->n; i++)
		if (strcmp(key_member(&span->keys[i]), name) == 0)
			return true;
	return false;
}

void
cfg_check_unknown_keys(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const struct cfg_key *keys, size_t n)
{
	struct key_span span = {keys, n};

	check_unknown_by(c, group, pkey, in_keys, &span);
}

/*
 * A group member that must be a group when present. Returns it, or NULL
 * when absent (an error if required) or of another type (always an error).
 */
config_setting_t *
cfg_get_group(struct cfg_ctx *c, const config_setting_t *parent, const char *pkey,
    const char *name, bool required)
{
	char key[CFG_KEY_MAX];
	config_setting_t *s = cfg_member(parent, name);

	if (s == NULL) {
		if (required)
			cfg_err(c, parent, cfg_key_join(key, pkey, name),
			    "is required");
		return NULL;
	}
	if (!config_setting_is_group(s)) {
		cfg_err(c, s, cfg_key_join(key, pkey, name),
		    "must be a group { ... }");
		return NULL;
	}
	return s;
}

config_setting_t *
cfg_get_list(struct cfg_ctx *c, const config_setting_t *group,
    const char *key, const char *name, bool may_be_empty, const char *what)
{
	config_setting_t *list = cfg_member(group, name);

	if (list == NULL) {
		cfg_err(c, group, key, may_be_empty ?
		    "is required (it may be empty: ())" : "is required");
		return NULL;
	}
	if (!cfg_is_list(list) ||
	    (!may_be_empty && config_setting_length(list) == 0)) {
		cfg_err(c, list, key, "must be %s", what);
		return NULL;
	}
	return list;
}

/* A string member: 0 with *out set (a copy, or of def), -1 on error. */
int
cfg_get_string(struct cfg_ctx *c, const config_setting_t *group, const char *pkey,
    const char *name, bool required, const char *def, char **out)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *s = NULL;
	const char *v = def;

	if (group != NULL)
		s = cfg_member(group, name);
	if (s == NULL && required) {
		cfg_err(c, group, cfg_key_join(key, pkey, name), "is required");
		return -1;
	}
	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			cfg_err(c, s, cfg_key_join(key, pkey, name),
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
		cfg_err(c, s, cfg_key_join(key, pkey, name), "cannot be stored: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* An integer member within [min, max]; 0 with *out set, -1 on error. */
int
cfg_get_int(struct cfg_ctx *c, const config_setting_t *group, const char *pkey,
    const char *name, bool required, long long def, long long min,
    long long max, const char *what, long long *out)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *s = NULL;
	long long v;

	*out = def;
	if (group != NULL)
		s = cfg_member(group, name);
	if (s == NULL) {
		if (!required)
			return 0;
		cfg_err(c, group, cfg_key_join(key, pkey, name), "is required");
		return -1;
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		cfg_err(c, s, cfg_key_join(key, pkey, name), "must be %s", what);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		cfg_err(c, s, cfg_key_join(key, pkey, name), "must be %s", what);
		return -1;
	}
	*out = v;
	return 0;
}

/* A boolean member; 0 with *out set (def when absent), -1 on error. */
static int
get_bool(struct cfg_ctx *c, const config_setting_t *group, const char *pkey,
    const char *name, bool def, bool *out)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *s = cfg_member(group, name);

	*out = def;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cfg_err(c, s, cfg_key_join(key, pkey, name),
		    "must be true or false");
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* Any number (int or float) member; 1 found, 0 absent, -1 wrong type. */
int
cfg_get_number(struct cfg_ctx *c, const config_setting_t *group, const char *pkey,
    const char *name, double *out)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *s = cfg_member(group, name);

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
		cfg_err(c, s, cfg_key_join(key, pkey, name), "must be a number");
		return -1;
	}
}

/* Store an integer key's value v, in range, as the key's type wants it. */
static void
store_int(const struct cfg_key *k, void *p, long long v)
{
	switch (k->type) {
	case CFG_T_INT:
		*(int *)p = (int)v;
		break;
	case CFG_T_SIZE:
		*(size_t *)p = (size_t)v;
		break;
	default:
		*(long long *)p = v;
		break;
	}
}

/* A key's absence: an error when it is required, else its default. */
static int
absent(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    const struct cfg_key *k)
{
	char key[CFG_KEY_MAX];

	if ((k->flags & CFG_REQUIRED) == 0)
		return 0;
	cfg_err(c, g, cfg_key_join(key, pkey, key_member(k)), "is required");
	return -1;
}

/* A CFG_T_ENUM key: a string its parse() knows; 0 with *out set, or -1. */
static int
read_enum(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    const struct cfg_key *k, int *out)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *s = cfg_member(g, key_member(k));
	const char *v;
	int e;

	if (s == NULL)
		return absent(c, g, pkey, k);
	cfg_key_join(key, pkey, key_member(k));
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_err(c, s, key, "must be a string");
		return -1;
	}
	v = config_setting_get_string(s);
	if ((e = k->parse(v)) == -1) {
		if (k->flags & CFG_SAY_VALUE)
			cfg_err(c, s, key, "must be %s, not \"%s\"", k->what, v);
		else
			cfg_err(c, s, key, "must be %s", k->what);
		return -1;
	}
	*out = e;
	return 0;
}

/* A CFG_T_NUMBER key in its bounds; 0 with *out set, or -1. */
static int
read_number(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    const struct cfg_key *k, double *out)
{
	char key[CFG_KEY_MAX];
	double v;
	bool above;
	int r;

	if ((r = cfg_get_number(c, g, pkey, key_member(k), &v)) == -1)
		return -1;
	if (r == 0)
		return absent(c, g, pkey, k);
	above = (k->flags & CFG_ABOVE_MIN) ? v > k->fmin : v >= k->fmin;
	if (!(above && v <= k->fmax)) {
		cfg_err(c, cfg_member(g, key_member(k)),
		    cfg_key_join(key, pkey, key_member(k)), "must be %s",
		    k->what);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * One key of a table from group g into base; 0, or -1 when it failed. A
 * key that failed keeps its default, a string NULL.
 */
static int
read_key(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    const struct cfg_key *k, void *base)
{
	bool required = (k->flags & CFG_REQUIRED) != 0;
	void *p = (char *)base + k->off;
	long long v;

	switch (k->type) {
	case CFG_T_STRING:
		return cfg_get_string(c, g, pkey, key_member(k), required,
		    k->sdef, p);
	case CFG_T_INT:
	case CFG_T_LLONG:
	case CFG_T_SIZE:
		store_int(k, p, k->def);
		if (cfg_get_int(c, g, pkey, key_member(k), required, k->def,
		    k->min, k->max, k->what, &v) == -1)
			return -1;
		store_int(k, p, v);
		return 0;
	case CFG_T_BOOL:
		return get_bool(c, g, pkey, key_member(k), k->def != 0, p);
	case CFG_T_ENUM:
		*(int *)p = (int)k->def;
		return read_enum(c, g, pkey, k, p);
	case CFG_T_NUMBER:
		*(double *)p = k->fdef;
		return read_number(c, g, pkey, k, p);
	case CFG_T_OWN:
		if (k->load != NULL)
			k->load(c, g, base);
		return 0;
	}
	return 0;
}

int
cfg_read_keys(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const struct cfg_key *keys, size_t n, void *base)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		if (read_key(c, group, pkey, &keys[i], base) == -1)
			ok = false;
		if (keys[i].after != NULL)
			keys[i].after(c, group, base, ok);
	}
	return ok ? 0 : -1;
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

	check_unknown_by(c, root, "", in_top_level, NULL);
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
