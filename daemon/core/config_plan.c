/* config_plan.c - load the plan section (leadctl plan), from the configuration or from a plan file of its own. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define PLAN_OFF(f) offsetof(struct plan, f)
#define PSEG_OFF(f) offsetof(struct plan_segment, f)

/* The members of plan = { ... }; load_plan reads the CFG_T_OWN ones. */
static const struct cfg_key plan_keys[] = {
	{ CFG_NUMBER("plan.period_days", PLAN_OFF(period_days), 91, 0, 3660,
	    "a number of days (above 0, at most 3660)"),
	    .flags = CFG_ABOVE_MIN },
	{ CFG_NUMBER("plan.mqls_per_rep_month", PLAN_OFF(mqls_per_rep_month),
	    0, 0, HUGE_VAL, "a number >= 0") },
	{ CFG_OWN("plan.conversion", NULL), .flags = CFG_REQUIRED },
	{ CFG_OWN("plan.segments", NULL), .flags = CFG_REQUIRED },
};

/* The members of one planned segment; load_plan_segment reads the CFG_T_OWN ones. */
static const struct cfg_key plan_segment_keys[] = {
	{ CFG_OWN("plan.segments.[i].name", NULL), .flags = CFG_REQUIRED },
	{ CFG_NUMBER("plan.segments.[i].target", PSEG_OFF(target), 0, 0,
	    HUGE_VAL, "a revenue >= 0"), .flags = CFG_REQUIRED },
	{ CFG_NUMBER("plan.segments.[i].avg_deal", PSEG_OFF(avg_deal), 0, 0,
	    HUGE_VAL, "a deal size above 0"),
	    .flags = CFG_REQUIRED | CFG_ABOVE_MIN },
	{ CFG_OWN("plan.segments.[i].conversion", NULL) },
};

static void
load_conversions(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    bool required, double conv[PLAN_NCONV])
{
	char key[CFG_KEY_MAX];
	double v;
	int r;

	for (int k = 0; k < PLAN_NCONV; k++) {
		r = cfg_get_number(c, g, pkey, plan_conv_names[k], &v);
		if (r == 0 && required)
			cfg_err(c, g, cfg_key_join(key, pkey, plan_conv_names[k]),
			    "is required (a fraction, e.g. 0.3 for 30%%)");
		else if (r == 1 && !(v > 0 && v <= 1))
			cfg_err(c, cfg_member(g, plan_conv_names[k]),
			    cfg_key_join(key, pkey, plan_conv_names[k]),
			    "must be a fraction above 0 and at most 1 (0.3 is 30%%)");
		else if (r == 1)
			conv[k] = v;
	}
	{
		const char *known[PLAN_NCONV + 1];

		for (int k = 0; k < PLAN_NCONV; k++)
			known[k] = plan_conv_names[k];
		known[PLAN_NCONV] = NULL;
		cfg_check_unknown(c, g, pkey, known);
	}
}

static void
load_plan_segment(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    const struct segments *segs, struct plan *plan, size_t idx)
{
	struct plan_segment *ps = &plan->segs[idx];
	const config_setting_t *conv;
	char key[CFG_KEY_MAX];

	ps->line = config_setting_source_line(g);
	memcpy(ps->conv, plan->conv, sizeof(ps->conv));
	if (!config_setting_is_group(g)) {
		cfg_err(c, g, pkey, "must be a group { name = ...; target = ...; avg_deal = ...; }");
		return;
	}
	cfg_check_unknown_keys(c, g, pkey, plan_segment_keys,
	    CFG_NKEYS(plan_segment_keys));
	if (cfg_get_string(c, g, pkey, "name", true, NULL, &ps->name) == 0) {
		if (segment_find(segs, ps->name) == -1)
			cfg_err(c, cfg_member(g, "name"), cfg_key_join(key, pkey, "name"),
			    "names unknown segment \"%s\"", ps->name);
		for (size_t j = 0; j < idx; j++)
			if (plan->segs[j].name != NULL &&
			    strcmp(plan->segs[j].name, ps->name) == 0)
				cfg_err(c, cfg_member(g, "name"),
				    cfg_key_join(key, pkey, "name"),
				    "plans segment \"%s\" twice", ps->name);
	}
	(void)cfg_read_keys(c, g, pkey, plan_segment_keys,
	    CFG_NKEYS(plan_segment_keys), ps);
	if ((conv = cfg_member(g, "conversion")) != NULL) {
		if (!config_setting_is_group(conv))
			cfg_err(c, conv, cfg_key_join(key, pkey, "conversion"),
			    "must be a group { mql_to_sql = ...; ... }");
		else
			load_conversions(c, conv, cfg_key_join(key, pkey,
			    "conversion"), false, ps->conv);
	}
}

/* The optional plan section (leadctl plan): targets, rates, capacity. */
static void
load_plan(struct cfg_ctx *c, const config_setting_t *root,
    const struct segments *segs, struct plan *plan)
{
	const config_setting_t *g, *conv, *list;
	char key[CFG_KEY_MAX];

	if ((g = cfg_get_group(c, root, "", "plan", false)) == NULL)
		return;
	plan->present = true;
	cfg_check_unknown_keys(c, g, "plan", plan_keys, CFG_NKEYS(plan_keys));
	(void)cfg_read_keys(c, g, "plan", plan_keys, CFG_NKEYS(plan_keys), plan);
	conv = cfg_get_group(c, g, "plan", "conversion", true);
	if (conv != NULL)
		load_conversions(c, conv, "plan.conversion", true, plan->conv);
	list = cfg_get_list(c, g, "plan.segments", "segments", false,
	    "a non-empty list ( { name = ...; target = ...; avg_deal = ...; }, ... )");
	if (list == NULL)
		return;
	plan->nsegs = (size_t)config_setting_length(list);
	if ((plan->segs = calloc(plan->nsegs, sizeof(*plan->segs))) == NULL) {
		plan->nsegs = 0;
		cfg_err(c, list, "plan.segments", "cannot be stored: %s",
		    strerror(errno));
		return;
	}
	for (size_t i = 0; i < plan->nsegs; i++)
		load_plan_segment(c, config_setting_get_elem(list,
		    (unsigned int)i), cfg_key_index(key, "plan.segments",
		    (unsigned int)i), segs, plan, i);
}

/* The plan section of a whole configuration, into cfg->plan. */
void
cfg_load_plan_section(struct cfg_ctx *c, const config_setting_t *root,
    void *base)
{
	struct lr_config *cfg = base;

	load_plan(c, root, &cfg->segments, &cfg->plan);
}

int
cfg_load_plan(const char *path, const struct lr_config *cfg,
    struct plan *plan, struct cfg_diag *diag)
{
	static const char *const known[] = {"plan", NULL};
	struct cfg_ctx c = {diag, path, 1, 0};
	config_t cf;
	char msg[1024];

	memset(plan, 0, sizeof(*plan));
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		snprintf(msg, sizeof(msg), "%s:%d: %s", config_error_file(&cf) ?
		    config_error_file(&cf) : path, config_error_line(&cf),
		    config_error_text(&cf));
		cfg_diag_error(diag, msg);
		config_destroy(&cf);
		return -1;
	}
	cfg_check_unknown(&c, config_root_setting(&cf), "", known);
	load_plan(&c, config_root_setting(&cf), &cfg->segments, plan);
	if (!plan->present)
		cfg_err(&c, NULL, "plan", "is required in a plan file");
	config_destroy(&cf);
	if (diag->nerrors > 0) {
		plan_clear(plan);
		return -1;
	}
	return 0;
}
