/* config_read.c - the configuration loader's reading tools: diagnostics with file, line and key, key names, typed getters, reading a table of keys. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

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

void
cfg_check_unknown_by(struct cfg_ctx *c, const config_setting_t *group,
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
	cfg_check_unknown_by(c, group, pkey, in_names, known);
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

	cfg_check_unknown_by(c, group, pkey, in_keys, &span);
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
