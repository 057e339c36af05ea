/* config_cal.c - load the calendars list (business hours) and check the calendar names sla and reps give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

/* The members of one calendar; load_calendar reads them all. */
const struct cfg_key cfg_cal_keys[] = {
	{ CFG_OWN("calendars.[i].name", NULL), .flags = CFG_REQUIRED },
	{ CFG_OWN("calendars.[i].timezone", NULL), .flags = CFG_REQUIRED },
	{ CFG_OWN("calendars.[i].hours", NULL), .flags = CFG_REQUIRED },
	{ CFG_OWN("calendars.[i].holidays", NULL) },
};
const size_t cfg_cal_nkeys = CFG_NKEYS(cfg_cal_keys);

#define SPAN_WHAT "a list of intervals \"HH:MM-HH:MM\" or \"HH:MM:SS-HH:MM:SS\" (24:00 allowed as an end)"

/* "09:00" or "09:00:30" for seconds of the day, into buf (>= 16 bytes). */
static const char *
fmt_secs(int32_t s, char *buf, size_t len)
{
	if (s % 60 != 0)
		snprintf(buf, len, "%02d:%02d:%02d", (int)(s / 3600),
		    (int)(s / 60 % 60), (int)(s % 60));
	else
		snprintf(buf, len, "%02d:%02d", (int)(s / 3600),
		    (int)(s / 60 % 60));
	return buf;
}

/* One day's list of intervals ("mon" = [...]) into cal's weekday wday. */
static void
load_day(struct cfg_ctx *c, const config_setting_t *list, const char *key,
    struct calendar *cal, int wday)
{
	const config_setting_t *e;
	struct cal_span sp, clash;
	char a[16], b[16];
	const char *s;

	if (!cfg_is_list(list)) {
		cfg_err(c, list, key, "must be %s", SPAN_WHAT);
		return;
	}
	for (unsigned int i = 0; (e = config_setting_get_elem(list, i)); i++) {
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cfg_err(c, e, key, "must be %s", SPAN_WHAT);
			continue;
		}
		s = config_setting_get_string(e);
		switch (cal_parse_span(s, &sp)) {
		case CAL_SPAN_SYNTAX:
			cfg_err(c, e, key, "must be %s, not \"%s\"", SPAN_WHAT,
			    s);
			continue;
		case CAL_SPAN_EMPTY:
			cfg_err(c, e, key,
			    "has interval \"%s\" whose start is not before its end",
			    s);
			continue;
		case CAL_SPAN_OK:
			break;
		}
		clash.start_s = -1;
		if (cal_add_span(cal, wday, sp, &clash) == -1) {
			if (clash.start_s == -1)
				cfg_err(c, e, key, "has more than %d intervals",
				    CAL_DAY_SPANS_MAX);
			else
				cfg_err(c, e, key,
				    "has interval \"%s\" overlapping \"%s-%s\"",
				    s, fmt_secs(clash.start_s, a, sizeof(a)),
				    fmt_secs(clash.end_s, b, sizeof(b)));
		}
	}
}

/* hours = { mon = [...]; ... }: the week; a day left out is closed. */
static void
load_hours(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct calendar *cal)
{
	char key[CFG_KEY_MAX], dkey[CFG_KEY_MAX];
	const config_setting_t *hours, *day;
	const char *name;
	size_t nerrors = c->diag->nerrors;
	int wday;

	if ((hours = cfg_get_group(c, g, pkey, "hours", true)) == NULL)
		return;
	cfg_key_join(key, pkey, "hours");
	for (unsigned int i = 0; (day = config_setting_get_elem(hours, i));
	    i++) {
		name = config_setting_name(day);
		cfg_key_join(dkey, key, name != NULL ? name : "?");
		if (name == NULL || (wday = cal_weekday(name)) == -1) {
			cfg_err(c, day, dkey,
			    "is not a day: mon, tue, wed, thu, fri, sat or sun");
			continue;
		}
		load_day(c, day, dkey, cal, wday);
	}
	if (c->diag->nerrors == nerrors && !cal_has_open_time(cal))
		cfg_err(c, hours, key,
		    "has no open time at all: a clock that can never run");
}

/* holidays = ["2026-12-24", ...]: local dates, closed all day. */
static void
load_holidays(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct calendar *cal)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *list = cfg_member(g, "holidays"), *e;
	int64_t day;

	if (list == NULL)
		return;
	cfg_key_join(key, pkey, "holidays");
	if (!cfg_is_list(list)) {
		cfg_err(c, list, key, "must be a list of dates \"YYYY-MM-DD\"");
		return;
	}
	for (unsigned int i = 0; (e = config_setting_get_elem(list, i)); i++) {
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    cal_parse_date(config_setting_get_string(e), &day) == -1) {
			if (config_setting_type(e) == CONFIG_TYPE_STRING)
				cfg_err(c, e, key,
				    "must be a list of dates \"YYYY-MM-DD\", not \"%s\"",
				    config_setting_get_string(e));
			else
				cfg_err(c, e, key,
				    "must be a list of dates \"YYYY-MM-DD\"");
			continue;
		}
		if (cal_add_holiday(cal, day) == -1)
			cfg_err(c, e, key, "cannot be stored: out of memory");
	}
}

/* The name: valid and not taken by an earlier calendar of list. */
static void
check_name(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    const struct lr_config *cfg, const char *name)
{
	char key[CFG_KEY_MAX];

	cfg_key_join(key, pkey, "name");
	if (!cfg_valid_name(name))
		cfg_err(c, cfg_member(g, "name"), key,
		    "must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
	for (size_t j = 0; j < cfg->ncalendars; j++)
		if (cfg->calendars[j] != NULL &&
		    strcmp(cfg->calendars[j]->name, name) == 0)
			cfg_err(c, cfg_member(g, "name"), key,
			    "duplicates calendar \"%s\"", name);
}

static void
load_calendar(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct lr_config *cfg)
{
	char key[CFG_KEY_MAX];
	char *name = NULL, *zone = NULL;
	struct calendar *cal;

	if (!config_setting_is_group(g)) {
		cfg_err(c, g, pkey,
		    "must be a group { name = ...; timezone = ...; hours = { ... }; }");
		return;
	}
	cfg_check_unknown_keys(c, g, pkey, cfg_cal_keys, cfg_cal_nkeys);
	if (cfg_get_string(c, g, pkey, "name", true, NULL, &name) == 0)
		check_name(c, g, pkey, cfg, name);
	if (cfg_get_string(c, g, pkey, "timezone", true, NULL, &zone) == 0 &&
	    !cal_zone_exists(zone))
		cfg_err(c, cfg_member(g, "timezone"),
		    cfg_key_join(key, pkey, "timezone"),
		    "names unknown time zone \"%s\" (not in the tz database)",
		    zone);
	cal = cal_new(name != NULL ? name : "", zone != NULL ? zone : "UTC");
	free(name);
	free(zone);
	if (cal == NULL) {
		cfg_err(c, g, pkey, "cannot be stored: out of memory");
		return;
	}
	cfg->calendars[cfg->ncalendars++] = cal;
	load_hours(c, g, pkey, cal);
	load_holidays(c, g, pkey, cal);
}

void
cfg_load_calendars(struct cfg_ctx *c, const config_setting_t *root, void *base)
{
	struct lr_config *cfg = base;
	char key[CFG_KEY_MAX];
	const config_setting_t *list = cfg_member(root, "calendars");
	unsigned int n;

	if (list == NULL)
		return;
	if (!cfg_is_list(list)) {
		cfg_err(c, list, "calendars",
		    "must be a list of calendars ( { name = ...; timezone = ...; hours = { ... }; }, ... )");
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (n == 0 || (cfg->calendars = calloc(n, sizeof(*cfg->calendars))) ==
	    NULL)
		return;
	for (unsigned int i = 0; i < n; i++)
		load_calendar(c, config_setting_get_elem(list, i),
		    cfg_key_index(key, "calendars", i), cfg);
}

void
cfg_check_sla_calendar(struct cfg_ctx *c, const config_setting_t *sla,
    void *base, bool ok)
{
	struct lr_config *cfg = base;

	(void)ok;	/* stands on its own value */
	cfg_check_calendar_ref(c, sla, "sla", cfg, cfg->sla.calendar);
}

