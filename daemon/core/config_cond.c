/* config_cond.c - load the conditions of the configuration: scoring.rules, segments and default_segment. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* Compile the operands of one condition (rule or segment); -1 on error. */
static int
load_cond(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct match_cond *cond, bool scoring)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *s, *vals, *e;
	char *field = NULL, *op = NULL;
	int rc = -1, r1, r2;

	r1 = cfg_get_string(c, g, pkey, "field", true, NULL, &field);
	r2 = cfg_get_string(c, g, pkey, "op", true, NULL, &op);
	if (r1 == -1 || r2 == -1)
		goto out;
	if (match_set_field(cond, field) == -1) {
		cfg_err(c, cfg_member(g, "field"),
		    cfg_key_join(key, pkey, "field"),
		    "must be a dotted path like \"activity.page_views\"");
		goto out;
	}
	if (match_op_parse(op, &cond->op) == -1 ||
	    (!scoring && cond->op == MATCH_PER)) {
		cfg_err(c, cfg_member(g, "op"),
		    cfg_key_join(key, pkey, "op"),
		    "has unknown operator \"%s\" (expected eq, ne, in, contains_any, ends_with_any, lt, lte, gt, gte, between, exists, is_true%s)",
		    op, scoring ? ", per" : "");
		goto out;
	}
	rc = 0;
	if (match_op_takes_list(cond->op)) {
		vals = cfg_member(g, "values");
		if (vals == NULL) {
			cfg_err(c, g, cfg_key_join(key, pkey, "values"),
			    "is required for op \"%s\"", op);
			rc = -1;
		} else if (!cfg_is_list(vals) ||
		    config_setting_length(vals) == 0) {
			cfg_err(c, vals, cfg_key_join(key, pkey, "values"),
			    "must be a non-empty list of strings");
			rc = -1;
		} else {
			for (int i = 0; (e = config_setting_get_elem(vals,
			    (unsigned int)i)) != NULL; i++) {
				if (config_setting_type(e) !=
				    CONFIG_TYPE_STRING) {
					cfg_err(c, e, cfg_key_join(key, pkey,
					    "values"),
					    "must be a non-empty list of strings");
					rc = -1;
					break;
				}
				/* "" would make contains_any match everything. */
				if (config_setting_get_string(e)[0] == '\0') {
					char ekey[CFG_KEY_MAX];

					cfg_err(c, e, cfg_key_index(ekey, cfg_key_join(key,
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
		s = cfg_member(g, "value");
		if (s == NULL) {
			cfg_err(c, g, cfg_key_join(key, pkey, "value"),
			    "is required for op \"%s\"", op);
			rc = -1;
		} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
			cond->kind = MATCH_KIND_STRING;
			rc = match_add_str(cond, config_setting_get_string(s),
			    strlen(config_setting_get_string(s)));
		} else if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
			cond->kind = MATCH_KIND_BOOL;
			cond->boolean = config_setting_get_bool(s) != 0;
		} else if (cfg_get_number(c, g, pkey, "value", &cond->num) == 1) {
			cond->kind = MATCH_KIND_NUMBER;
		} else {
			rc = -1;
		}
	} else if (match_op_is_numeric(cond->op)) {
		r1 = cfg_get_number(c, g, pkey, "value", &cond->num);
		if (r1 == 0)
			cfg_err(c, g, cfg_key_join(key, pkey, "value"),
			    "is required for op \"%s\"", op);
		if (r1 != 1)
			rc = -1;
	} else if (cond->op == MATCH_BETWEEN) {
		r1 = cfg_get_number(c, g, pkey, "min", &cond->min);
		r2 = cfg_get_number(c, g, pkey, "max", &cond->max);
		if (r1 == 0)
			cfg_err(c, g, cfg_key_join(key, pkey, "min"),
			    "is required for op \"between\"");
		if (r2 == 0)
			cfg_err(c, g, cfg_key_join(key, pkey, "max"),
			    "is required for op \"between\"");
		if (r1 != 1 || r2 != 1)
			rc = -1;
		else if (cond->min > cond->max) {
			cfg_err(c, cfg_member(g, "max"),
			    cfg_key_join(key, pkey, "max"),
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
load_rule(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct score_rule *r)
{
	const char *known[8];
	double cap;
	int rc;

	r->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		cfg_err(c, g, pkey,
		    "must be a group { field = ...; op = ...; points = ...; }");
		return;
	}
	rc = load_cond(c, g, pkey, &r->cond, true);
	if (rc == 0) {
		cond_known(r->cond.op, true, known);
		cfg_check_unknown(c, g, pkey, known);
	}
	(void)cfg_get_int(c, g, pkey, "points", true, 0, -CFG_COUNT_MAX,
	    CFG_COUNT_MAX, "an integer between -1000000000 and 1000000000",
	    &r->points);
	if (rc == 0 && r->cond.op == MATCH_PER) {
		char key[CFG_KEY_MAX];

		rc = cfg_get_number(c, g, pkey, "max", &cap);
		if (rc == 1 && (cap < 0 || cap > (double)SCORE_LIMIT))
			cfg_err(c, cfg_member(g, "max"),
			    cfg_key_join(key, pkey, "max"),
			    "must be a number of points >= 0");
		else if (rc == 1) {
			r->has_cap = true;
			r->cap = (long long)cap;
		}
	}
}

/* scoring.rules, from the scoring group: a list of rules, maybe empty. */
void
cfg_load_rules(struct cfg_ctx *c, const config_setting_t *g, void *base)
{
	struct lr_config *cfg = base;
	char key[CFG_KEY_MAX];
	const config_setting_t *rules;
	unsigned int n;

	rules = cfg_get_list(c, g, "scoring.rules", "rules", true,
	    "a list ( ... )");
	if (rules == NULL || (n = (unsigned int)config_setting_length(rules)) ==
	    0)
		return;
	if ((cfg->scoring.rules = calloc(n, sizeof(struct score_rule))) ==
	    NULL) {
		cfg_err(c, rules, "scoring.rules", "cannot be stored: %s",
		    strerror(errno));
		return;
	}
	cfg->scoring.nrules = n;
	for (unsigned int i = 0; i < n; i++)
		load_rule(c, config_setting_get_elem(rules, i),
		    cfg_key_index(key, "scoring.rules", i), &cfg->scoring.rules[i]);
}

static void
load_segment(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct segment *seg, struct segments *segs, size_t idx)
{
	static const char *const name_only[] = {"name", NULL};
	const char *known[8];
	char key[CFG_KEY_MAX];

	seg->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		cfg_err(c, g, pkey,
		    "must be a group { name = ...; field = ...; op = ...; }");
		return;
	}
	if (cfg_get_string(c, g, pkey, "name", true, NULL, &seg->name) == 0) {
		if (!cfg_valid_name(seg->name))
			cfg_err(c, cfg_member(g, "name"),
			    cfg_key_join(key, pkey, "name"),
			    "must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
		for (size_t j = 0; j < idx; j++)
			if (segs->v[j].name != NULL &&
			    strcmp(segs->v[j].name, seg->name) == 0)
				cfg_err(c, cfg_member(g, "name"),
				    cfg_key_join(key, pkey, "name"),
				    "duplicates segment \"%s\" of line %d",
				    seg->name, segs->v[j].line);
	}
	if (cfg_member(g, "field") == NULL &&
	    cfg_member(g, "op") == NULL) {
		cfg_check_unknown(c, g, pkey, name_only);
		return;		/* matches only as the default segment */
	}
	seg->has_cond = true;
	if (load_cond(c, g, pkey, &seg->cond, false) == 0) {
		cond_known(seg->cond.op, false, known);
		cfg_check_unknown(c, g, pkey, known);
	}
}

/* The ordered, non-empty list of segments, from the root. */
void
cfg_load_segments(struct cfg_ctx *c, const config_setting_t *root, void *base)
{
	struct lr_config *cfg = base;
	char key[CFG_KEY_MAX];
	const config_setting_t *list;
	struct segments *segs = &cfg->segments;
	unsigned int n;

	list = cfg_get_list(c, root, "segments", "segments", false,
	    "a non-empty list ( ... )");
	if (list == NULL)
		return;
	n = (unsigned int)config_setting_length(list);
	if ((segs->v = calloc(n, sizeof(*segs->v))) == NULL) {
		cfg_err(c, list, "segments", "cannot be stored: %s",
		    strerror(errno));
		return;
	}
	segs->n = n;
	for (unsigned int i = 0; i < n; i++)
		load_segment(c, config_setting_get_elem(list, i),
		    cfg_key_index(key, "segments", i), &segs->v[i], segs, i);
}

/* default_segment, from the root: one of the segments loaded before it. */
void
cfg_load_default_segment(struct cfg_ctx *c, const config_setting_t *root,
    void *base)
{
	struct lr_config *cfg = base;
	struct segments *segs = &cfg->segments;
	const config_setting_t *def;
	int idx;

	def = cfg_member(root, "default_segment");
	if (def == NULL) {
		cfg_err(c, root, "default_segment", "is required");
	} else if (config_setting_type(def) != CONFIG_TYPE_STRING) {
		cfg_err(c, def, "default_segment", "must be a string");
	} else if (segs->n > 0) {
		idx = segment_find(segs, config_setting_get_string(def));
		if (idx == -1)
			cfg_err(c, def, "default_segment",
			    "names \"%s\", which is not one of the segments",
			    config_setting_get_string(def));
		else
			segs->default_idx = (size_t)idx;
	}
}
