/*
 * config_int.h - what the configuration loader's files share (config.c,
 * config_read.c, config_cond.c, config_plan.c, config_cal.c,
 * config_intake.c, config_webhooks.c): the diagnostics of one load and the
 * key tables that drive it; the reading tools are config_read.c's. Not for other modules: they use config.h.
 *
 * A key table lists the keys of one group, each with its type, default,
 * bounds and where its value goes (an offset into the struct the group
 * fills). cfg_read_keys() reads a table; cfg_check_unknown_keys() warns
 * about members no table entry names. Every diagnostic is pushed to the
 * load's cfg_diag as "FILE:LINE: 'KEY' ...", never logged.
 */
#ifndef LR_CONFIG_INT_H
#define LR_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "config.h"

/* The longest key a message names ("reps.[3].max_open"); longer is cut. */
#define CFG_KEY_MAX 256

/* What one load needs to report problems: the diagnostics and the file. */
struct cfg_ctx {
	struct cfg_diag *diag;
	const char *path;
	int last_line;		/* where a missing top-level key is reported */
	unsigned flags;		/* CFG_LOAD_* of cfg_load_flags */
};

enum cfg_type {
	CFG_T_STRING,	/* char *, a copy; NULL when it failed */
	CFG_T_INT,	/* int in [min, max] */
	CFG_T_LLONG,	/* long long in [min, max] */
	CFG_T_SIZE,	/* size_t in [min, max] */
	CFG_T_BOOL,	/* bool: true or false */
	CFG_T_ENUM,	/* int: a string that parse() maps to a value */
	CFG_T_NUMBER,	/* double (an integer or a float) in [fmin, fmax] */
	CFG_T_OWN,	/* read by load(), or by the caller when load is NULL */
};

/* Flags of a key. */
#define CFG_REQUIRED	0x1	/* absent is an error, and so is its group */
#define CFG_ABOVE_MIN	0x2	/* CFG_T_NUMBER: fmin itself is out of range */
#define CFG_SAY_VALUE	0x4	/* CFG_T_ENUM: the error quotes the bad value */

struct cfg_key {
	/* As README documents it: "redis.port", "reps.[i].max_open". */
	const char *name;
	enum cfg_type type;
	unsigned int flags;
	size_t off;		/* offsetof the value in the table's struct */
	long long def;		/* integers, CFG_T_BOOL and CFG_T_ENUM */
	long long min, max;	/* integers */
	double fdef, fmin, fmax;	/* CFG_T_NUMBER */
	const char *sdef;	/* CFG_T_STRING; NULL: none */
	const char *what;	/* completes "must be ..." for a bad value */
	int (*parse)(const char *s);	/* CFG_T_ENUM: the value, or -1 */
	/*
	 * CFG_T_OWN: reads the key from g (its group; the root for a
	 * top-level key) into base. Its absence is its own to report;
	 * CFG_REQUIRED on it still makes its group required.
	 */
	void (*load)(struct cfg_ctx *c, const config_setting_t *g, void *base);
	/*
	 * Runs after the key is read, ok when neither it nor a key before
	 * it in the group failed: checks between keys, values derived from
	 * them.
	 */
	void (*after)(struct cfg_ctx *c, const config_setting_t *g, void *base,
	    bool ok);
};

/*
 * The fields of one table line, by kind: { CFG_LLONG(...) } or, with more,
 * { CFG_STRING(...), .after = check_x } or { CFG_OWN(...), .flags = ... }.
 */
#define CFG_STRING(n, o, d) \
	.name = (n), .type = CFG_T_STRING, .off = (o), .sdef = (d)
#define CFG_INTEGER_(t, n, o, d, lo, hi, w) \
	.name = (n), .type = (t), .off = (o), .def = (d), .min = (lo), \
	.max = (hi), .what = (w)
#define CFG_INT(...)	CFG_INTEGER_(CFG_T_INT, __VA_ARGS__)
#define CFG_LLONG(...)	CFG_INTEGER_(CFG_T_LLONG, __VA_ARGS__)
#define CFG_SIZE(...)	CFG_INTEGER_(CFG_T_SIZE, __VA_ARGS__)
#define CFG_BOOL(n, o, d) \
	.name = (n), .type = CFG_T_BOOL, .off = (o), .def = (d)
#define CFG_ENUM(n, o, d, p, w) \
	.name = (n), .type = CFG_T_ENUM, .off = (o), .def = (d), .parse = (p), \
	.what = (w)
#define CFG_NUMBER(n, o, d, lo, hi, w) \
	.name = (n), .type = CFG_T_NUMBER, .off = (o), .fdef = (d), \
	.fmin = (lo), .fmax = (hi), .what = (w)
#define CFG_OWN(n, fn) \
	.name = (n), .type = CFG_T_OWN, .load = (fn)

#define CFG_NKEYS(t) (sizeof(t) / sizeof((t)[0]))

/* Add msg as it is to diag's errors (at most a few hundred are kept). */
void cfg_diag_error(struct cfg_diag *diag, const char *msg);

/*
 * Report "FILE:LINE: 'KEY' TEXT" (or "FILE:LINE: TEXT" when key is NULL)
 * as an error or a warning, at the line of at, or at the end of the file
 * when at is NULL or has no line.
 */
void cfg_err(struct cfg_ctx *c, const config_setting_t *at, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cfg_warn(struct cfg_ctx *c, const config_setting_t *at, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "reps.[3]" + "max_open" into buf (CFG_KEY_MAX bytes); buf. */
const char *cfg_key_join(char *buf, const char *parent, const char *name);
/* "reps" + 3 is "reps.[3]" in buf (CFG_KEY_MAX bytes); buf. */
const char *cfg_key_index(char *buf, const char *parent, unsigned int i);

/* A group's member, or NULL; a NULL group has no members. */
config_setting_t *cfg_member(const config_setting_t *group, const char *name);
/* Is s a list ( ... ) or an array [ ... ]? */
bool cfg_is_list(const config_setting_t *s);

/* Warn about the members of group for which known(name, arg) is false. */
void cfg_check_unknown_by(struct cfg_ctx *c, const config_setting_t *group,
    const char *parent, bool (*known)(const char *name, const void *arg),
    const void *arg);
/* Warn about members of group not in the NULL-terminated known list. */
void cfg_check_unknown(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const char *const *known);
/* Warn about members of group that no key of keys[0..n) names. */
void cfg_check_unknown_keys(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const struct cfg_key *keys, size_t n);

/*
 * Read keys[0..n) from group (its key pkey; NULL: all absent) into base,
 * in table order, defaults for absent keys. 0, or -1 when one failed.
 */
int cfg_read_keys(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const struct cfg_key *keys, size_t n, void *base);

/*
 * The getters below read member name of group (key pkey.name). Each
 * reports its own error and returns -1; see each for what 0 means.
 */
/* A group { ... }, or NULL when absent (an error if required) or not a group. */
config_setting_t *cfg_get_group(struct cfg_ctx *c,
    const config_setting_t *parent, const char *pkey, const char *name,
    bool required);
/* A string: 0 with *out a copy of it, or of def when absent (NULL: none). */
int cfg_get_string(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const char *name, bool required, const char *def,
    char **out);
/*
 * A list ( ... ) or array [ ... ], key naming it: NULL when absent ("is
 * required"), not a list, or empty unless may_be_empty ("must be WHAT").
 */
config_setting_t *cfg_get_list(struct cfg_ctx *c, const config_setting_t *group,
    const char *key, const char *name, bool may_be_empty, const char *what);
/* An integer in [min, max], else "must be WHAT": 0 with *out (def if absent). */
int cfg_get_int(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const char *name, bool required, long long def,
    long long min, long long max, const char *what, long long *out);
/* Any number: 1 with *out set, 0 when absent (*out untouched), -1. */
int cfg_get_number(struct cfg_ctx *c, const config_setting_t *group,
    const char *pkey, const char *name, double *out);

/*
 * config_cond.c: the CFG_T_OWN loaders of scoring.rules, segments and
 * default_segment; cfg is the struct lr_config being loaded.
 */
void cfg_load_rules(struct cfg_ctx *c, const config_setting_t *scoring,
    void *cfg);
void cfg_load_segments(struct cfg_ctx *c, const config_setting_t *root,
    void *cfg);
void cfg_load_default_segment(struct cfg_ctx *c, const config_setting_t *root,
    void *cfg);

/* config_plan.c: the CFG_T_OWN loader of the optional plan section. */
void cfg_load_plan_section(struct cfg_ctx *c, const config_setting_t *root,
    void *cfg);

/*
 * config_cal.c: the CFG_T_OWN loader of the optional calendars list; the
 * check that sla.calendar (an .after of its key) and a rep's calendar
 * name a calendar; the keys of one calendar, for cfg_key_name().
 */
void cfg_load_calendars(struct cfg_ctx *c, const config_setting_t *root,
    void *cfg);
void cfg_check_sla_calendar(struct cfg_ctx *c, const config_setting_t *sla,
    void *cfg, bool ok);
void cfg_check_calendar_ref(struct cfg_ctx *c, const config_setting_t *g,
    const char *pkey, const struct lr_config *cfg, const char *name);

/*
 * config_intake.c: the CFG_T_OWN loader of intake.http (listen, and the
 * tokens file read into digests when listen is set), its key table, and
 * what cfg_free calls to release it.
 */
void cfg_load_intake_http(struct cfg_ctx *c, const config_setting_t *intake,
    void *cfg);
void cfg_intake_http_clear(struct lr_config *cfg);
extern const struct cfg_key cfg_intake_http_keys[];
extern const size_t cfg_intake_http_nkeys;

/*
 * config_webhooks.c: the CFG_T_OWN loader of the optional webhooks list
 * (after reps: its rep filters name them); freeing its endpoints.
 */
void cfg_load_webhooks(struct cfg_ctx *c, const config_setting_t *root,
    void *cfg);
void cfg_free_webhooks(struct lr_config *cfg);
extern const struct cfg_key cfg_wh_keys[];
extern const size_t cfg_wh_nkeys;

/* The key tables: config.c's main one and a rep's; config_cal.c's. */
extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;
extern const struct cfg_key cfg_rep_keys[];
extern const size_t cfg_rep_nkeys;
extern const struct cfg_key cfg_cal_keys[];
extern const size_t cfg_cal_nkeys;

#endif
