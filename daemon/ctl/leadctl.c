/*
 * leadctl.c - the operator's and rep's command-line tool over leadrouted's
 * Redis contract: the command line, the command table and main().
 *
 * daemon/ctl/ holds leadctl and nothing else: this file, ctl_common.c (the
 * one synchronous hiredis connection and what every command shares) and one
 * file per command group (ctl_send.c: push and the events; ctl_status.c,
 * ctl_lead.c, ctl_alerts.c, ctl_plan.c, ctl_sources.c, ctl_calibrate.c,
 * ctl_calendar.c, ctl_inbox.c, ctl_webhooks.c),
 * each with its header in include/. Synchronous hiredis only: no event
 * loop, no event2/, no hiredis async, none of the daemon's modules in
 * daemon/. The pure modules of daemon/core/ (config, lead, event, plan,
 * sources, calib...) may be used, so that leadctl checks and computes
 * exactly as the daemon does.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_calendar.h"
#include "ctl_calibrate.h"
#include "ctl_alerts.h"
#include "ctl_common.h"
#include "ctl_inbox.h"
#include "ctl_lead.h"
#include "ctl_plan.h"
#include "ctl_send.h"
#include "ctl_sources.h"
#include "ctl_status.h"
#include "ctl_webhooks.h"
#include "event.h"

#ifndef LR_DEFAULT_CONF
#define LR_DEFAULT_CONF "/etc/leadrouted/leadrouted.conf"
#endif

#define ALERTS_DEFAULT_COUNT 20
#define ALERTS_MAX_COUNT 1000000000LL
/* --since DAYS: from 1 to this many days. */
#define SINCE_MAX_DAYS 400
/* Positional arguments a command line holds at most. */
#define MAX_ARGS 4
/* The long form of -c, with its value in the same word. */
#define CONFIG_EQ "--config="

/* Options a command may take besides -c, --json and --help. */
enum {
	OPT_REP = 1 << 0,
	OPT_REASON = 1 << 1,
	OPT_OUTCOME = 1 << 2,
	OPT_WAIT = 1 << 3,
	OPT_COUNT = 1 << 4,
	OPT_FOLLOW = 1 << 5,
	OPT_PLAN = 1 << 6,
	OPT_ACTUAL = 1 << 7,
	OPT_SINCE = 1 << 8,
	OPT_MAX_REJECT = 1 << 9,
	OPT_MIN_OUTCOMES = 1 << 10,
	OPT_AT = 1 << 11,
	OPT_ADD = 1 << 12,
};

static const struct option_spec {
	const char *name;
	unsigned bit;
	bool has_arg;
} options[] = {
	{"rep", OPT_REP, true},
	{"reason", OPT_REASON, true},
	{"outcome", OPT_OUTCOME, true},
	{"wait", OPT_WAIT, false},
	{"count", OPT_COUNT, true},
	{"follow", OPT_FOLLOW, false},
	{"plan", OPT_PLAN, true},
	{"actual", OPT_ACTUAL, false},
	{"since", OPT_SINCE, true},
	{"max-reject-rate", OPT_MAX_REJECT, true},
	{"min-outcomes", OPT_MIN_OUTCOMES, true},
	{"at", OPT_AT, true},
	{"add", OPT_ADD, true},
};

/* The command line, parsed. */
struct args {
	const char *conf;
	bool json, help;
	const struct command *cmd;
	const char *pos[MAX_ARGS];
	int npos;
	unsigned seen;			/* OPT_* given */
	const char *rep, *reason, *outcome, *count, *plan, *since;
	const char *max_reject, *min_outcomes;
	const char *at, *add;
};

struct command {
	const char *name;
	const char *synopsis;
	const char *help;
	int min_pos, max_pos;
	unsigned opts;			/* OPT_* allowed */
	bool redis;			/* needs the configuration's Redis */
	int (*run)(struct ctl *, const struct args *);
};

static int run_push(struct ctl *, const struct args *);
static int run_followup(struct ctl *, const struct args *);
static int run_reject(struct ctl *, const struct args *);
static int run_close(struct ctl *, const struct args *);
static int run_rep(struct ctl *, const struct args *);
static int run_status(struct ctl *, const struct args *);
static int run_lead(struct ctl *, const struct args *);
static int run_alerts(struct ctl *, const struct args *);
static int run_plan(struct ctl *, const struct args *);
static int run_sources(struct ctl *, const struct args *);
static int run_calibrate(struct ctl *, const struct args *);
static int run_calendar(struct ctl *, const struct args *);
static int run_inbox(struct ctl *, const struct args *);
static int run_webhooks(struct ctl *, const struct args *);

static const struct command commands[] = {
	{"push", "push [FILE|-]",
	    "Push leads, one JSON object per line, from FILE or stdin onto the\n"
	    "intake queue, in file order. Each line is checked as the daemon\n"
	    "checks it; a bad line is reported as \"line N: REASON: DETAIL\" on\n"
	    "stderr and not pushed; blank lines are skipped. Exits 1 when a line\n"
	    "was rejected. --json prints {\"pushed\",\"rejected\",\"errors\"}.\n",
	    0, 1, 0, true, run_push},
	{"followup", "followup LEAD --rep REP [--wait]",
	    "Send a followed_up event: REP followed LEAD up (stops its SLA timer).\n",
	    1, 1, OPT_REP | OPT_WAIT, true, run_followup},
	{"reject", "reject LEAD --rep REP --reason TEXT [--wait]",
	    "Send a rejected event: REP gives LEAD back (it goes to nurture).\n",
	    1, 1, OPT_REP | OPT_REASON | OPT_WAIT, true, run_reject},
	{"close", "close LEAD --rep REP --outcome WORD [--wait]",
	    "Send a closed event: REP closed LEAD with OUTCOME (won, lost,\n"
	    "disqualified or another word).\n",
	    1, 1, OPT_REP | OPT_OUTCOME | OPT_WAIT, true, run_close},
	{"rep", "rep REP available|away [--wait]",
	    "Send a rep_status event: an away rep gets no new leads.\n",
	    2, 2, OPT_WAIT, true, run_rep},
	{"status", "status",
	    "Per segment, its backlog, the last capacity forecast (room left,\n"
	    "MQLs an hour, time until full) and its reps (availability,\n"
	    "open/max_open, assignments in the capacity period/max_per_period);\n"
	    "then the incoming, events, dead-letter and nurture queues, the\n"
	    "pending SLA timers with the next due time, and the live daemon\n"
	    "instances.\n",
	    0, 0, 0, true, run_status},
	{"lead", "lead ID",
	    "A lead's record, its score receipt (the rules that gave points) and\n"
	    "its history: received, assigned, followed up, rejected, closed and\n"
	    "its SLA alerts (from the last " CTL_STR(CTL_LEAD_ALERT_SCAN)
	    " of the alert log). --json prints\n"
	    "{\"record\",\"receipt\",\"history\"}. Exits 1 when there is no such lead.\n",
	    1, 1, 0, true, run_lead},
	{"alerts", "alerts [--count N] [--follow]",
	    "The last N alerts (default " CTL_STR(ALERTS_DEFAULT_COUNT)
	    "), oldest first, one line each: for SLA\n"
	    "alerts time, type, lead, rep, segment, due time; for capacity_forecast\n"
	    "time, segment, room, backlog, MQLs an hour, time until full.\n"
	    "--follow then shows new\n"
	    "alerts as they come until interrupted (SIGINT or SIGTERM: exit 0).\n"
	    "--json prints one alert object per line.\n",
	    0, 0, OPT_COUNT | OPT_FOLLOW, true, run_alerts},
	{"plan", "plan [--plan FILE] [--actual]",
	    "The funnel planner: per segment of the plan section (or of FILE, a\n"
	    "file with only a plan section), the deals the revenue target needs\n"
	    "and, working back through the conversion rates, the contracts,\n"
	    "proposals, opportunities, SQLs and MQLs (each computed from the\n"
	    "deals and rounded up once); then MQLs a week against what the\n"
	    "segment's reps can take a week, and the reps the plan needs.\n"
	    "--actual adds the rates observed in Redis (SAL = followed up, win\n"
	    "rate = won / (won + lost)) and the MQLs needed at those rates.\n",
	    0, 0, OPT_PLAN | OPT_ACTUAL, true, run_plan},
	{"sources", "sources [--since DAYS]",
	    "Lead sources ranked by volume: leads, MQLs and MQL rate, acceptance\n"
	    "(assigned leads not rejected by reps), SLA met (followed up in time),\n"
	    "win rate (won / (won + lost)) and the median time to follow-up, all\n"
	    "time or over the last DAYS days. A source at or above the median\n"
	    "volume (and at least " CTL_STR(CTL_SUNSET_MIN_VOLUME)
	    " leads) that is below the median on every\n"
	    "measure is flagged \"consider sunsetting\".\n",
	    0, 0, OPT_SINCE, true, run_sources},
	{"calibrate",
	    "calibrate [--since DAYS] [--max-reject-rate R] [--min-outcomes N]",
	    "Threshold calibration from the outcomes of MQLs (followed up or\n"
	    "closed = accepted; rejected or closed as disqualified = rejected),\n"
	    "per segment and overall, all time or over the last DAYS days: the\n"
	    "precision of scoring.mql_threshold (accepted / decided) and the\n"
	    "lowest threshold that would have kept rejections at or under R (a\n"
	    "fraction, default calibrate.max_reject_rate) with at least N decided\n"
	    "MQLs (default calibrate.min_outcomes), i.e. the one keeping the most\n"
	    "accepted MQLs; then the most frequent rejection reasons (all time).\n"
	    "It only suggests: the configuration is never changed.\n",
	    0, 0, OPT_SINCE | OPT_MAX_REJECT | OPT_MIN_OUTCOMES, true,
	    run_calibrate},
	{"calendar", "calendar NAME [--at TIME] [--add SECONDS]",
	    "Business hours: whether calendar NAME (of the configuration) is open\n"
	    "at TIME, when it next opens or closes and, with --add, the instant\n"
	    "at which SECONDS of open time have passed from TIME (counting from\n"
	    "the next opening when closed): the arithmetic the daemon uses.\n"
	    "TIME is RFC 3339 (2027-03-26T16:58:00Z, offsets allowed) or epoch\n"
	    "ms; default now, from Redis TIME when Redis answers, else the local\n"
	    "clock (the output says which). Instants are printed in UTC with\n"
	    "milliseconds. --json prints\n"
	    "{\"calendar\",\"at_ms\",\"open\",\"next_change_ms\",\"due_ms\"} (due_ms\n"
	    "with --add only; null: not within " CTL_STR(CAL_HORIZON_DAYS) " days).\n",
	    1, 1, OPT_AT | OPT_ADD, true, run_calendar},
	{"inbox", "inbox REP",
	    "REP's open leads, from the rep's open set and the lead records:\n"
	    "score, segment, assignment time and the time left on the follow-up\n"
	    "SLA (\"due in 4m05s\", \"overdue by 12s\"), oldest due first, then\n"
	    "the leads already followed up. Times are on Redis's clock. --json\n"
	    "prints an array of {\"lead_id\",\"status\",\"score\",\"segment\",\n"
	    "\"assigned_at_ms\",\"follow_up_due_ms\",\"left_ms\"} (left_ms\n"
	    "negative when overdue, null once followed up). Exits 1 for a rep\n"
	    "the configuration does not name.\n",
	    1, 1, 0, true, run_inbox},
	{"webhooks", "webhooks [redeliver NAME]",
	    "The webhook endpoints of the configuration: format, deliveries\n"
	    "pending in Redis, dead ones in <prefix>webhooks:dead, the last\n"
	    "success and the last error. 'redeliver NAME' sends endpoint NAME's\n"
	    "dead deliveries again, under the same webhook-id: each leaves the\n"
	    "dead list once delivered. --json prints an array of\n"
	    "{\"endpoint\",\"format\",\"pending\",\"dead\",\"last_status\",\n"
	    "\"last_error\",\"last_error_at\",\"last_ok_at\"} (redeliver:\n"
	    "{\"endpoint\",\"requeued\"}).\n",
	    0, 2, 0, true, run_webhooks},
	{"check", "check",
	    "Check the configuration file, as leadrouted -n does: print\n"
	    "\"configuration OK\", or every error, and exit 0 or 1.\n",
	    0, 0, 0, false, NULL},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *event_opts_help =
    "\nThe event is pushed onto <prefix>events and printed; leadrouted applies\n"
    "it. --wait polls for up to " CTL_STR(CTL_WAIT_S)
    " s until the lead record (or rep) shows the\n"
    "change, or reports why the daemon refused the event (its dead letter);\n"
    "either of those, or no change in time, exits 1. --json prints\n"
    "{\"queue\",\"event\"} and, with --wait, \"result\" and the record.\n";

static void
usage(FILE *f)
{
	fprintf(f, "usage: leadctl [-c file] [--json] command [args]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].synopsis);
	fprintf(f,
	    "\noptions:\n"
	    "  -c file     configuration file (default %s)\n"
	    "  --json      machine-readable output; may also follow the command\n"
	    "  -h, --help  this help; 'leadctl COMMAND --help' describes a command\n"
	    "\nexit status:\n"
	    "  0  success\n"
	    "  1  error: configuration, Redis unreachable or failing, unknown lead,\n"
	    "     a rejected push line, an event refused or not applied (--wait)\n"
	    "  2  usage error: unknown command or option, missing or bad argument\n",
	    LR_DEFAULT_CONF);
}

static void
command_usage(FILE *f, const struct command *c)
{
	fprintf(f, "usage: leadctl [-c file] [--json] %s\n\n%s", c->synopsis,
	    c->help);
	if (c->opts & OPT_WAIT)
		fputs(event_opts_help, f);
	fprintf(f, "\nexit status: 0 success, 1 error, 2 usage error\n");
}

static int usage_error(const struct command *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report a usage error (and the usage) on stderr; returns -1. */
static int
usage_error(const struct command *c, const char *fmt, ...)
{
	va_list ap;

	fputs("leadctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c != NULL)
		fprintf(stderr, "usage: leadctl [-c file] [--json] %s\n",
		    c->synopsis);
	else
		usage(stderr);
	return -1;
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static const struct option_spec *
find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strlen(options[i].name) == len &&
		    strncmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
}

static void
set_option(struct args *a, unsigned bit, const char *value)
{
	a->seen |= bit;
	if (bit == OPT_REP)
		a->rep = value;
	else if (bit == OPT_REASON)
		a->reason = value;
	else if (bit == OPT_OUTCOME)
		a->outcome = value;
	else if (bit == OPT_COUNT)
		a->count = value;
	else if (bit == OPT_PLAN)
		a->plan = value;
	else if (bit == OPT_SINCE)
		a->since = value;
	else if (bit == OPT_MAX_REJECT)
		a->max_reject = value;
	else if (bit == OPT_MIN_OUTCOMES)
		a->min_outcomes = value;
	else if (bit == OPT_AT)
		a->at = value;
	else if (bit == OPT_ADD)
		a->add = value;
}

/* A long option of the command at argv[*i] ("--rep R" or "--rep=R"). */
static int
long_option(struct args *a, int argc, char *argv[], int *i)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
	size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	const struct option_spec *o = find_option(arg, len);
	const char *value = eq != NULL ? eq + 1 : NULL;

	if (o == NULL || a->cmd == NULL || !(a->cmd->opts & o->bit))
		return usage_error(a->cmd, "unknown option '%s'", argv[*i]);
	if (!o->has_arg && value != NULL)
		return usage_error(a->cmd, "option '--%s' takes no value", o->name);
	if (o->has_arg && value == NULL) {
		if (*i + 1 >= argc)
			return usage_error(a->cmd, "option '--%s' needs a value",
			    o->name);
		value = argv[++*i];
	}
	set_option(a, o->bit, value);
	return 0;
}

/* One word of the command line. Returns 0, or -1 on a usage error. */
static int
parse_word(struct args *a, int argc, char *argv[], int *i, bool *rest)
{
	const char *w = argv[*i];

	if (*rest || w[0] != '-' || strcmp(w, "-") == 0) {
		if (a->cmd == NULL) {
			if ((a->cmd = find_command(w)) == NULL)
				return usage_error(NULL, "unknown command '%s'", w);
			return 0;
		}
		if (a->npos >= MAX_ARGS)
			return usage_error(a->cmd, "too many arguments ('%s')", w);
		a->pos[a->npos++] = w;
		return 0;
	}
	if (strcmp(w, "--") == 0)
		*rest = true;
	else if (strcmp(w, "--json") == 0)
		a->json = true;
	else if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0)
		a->help = true;
	else if (strcmp(w, "-c") == 0) {
		if (*i + 1 >= argc)
			return usage_error(a->cmd, "option '%s' needs a value", w);
		a->conf = argv[++*i];
	} else if (strncmp(w, "-c", 2) == 0)
		a->conf = w + 2;
	else if (strncmp(w, CONFIG_EQ, strlen(CONFIG_EQ)) == 0)
		a->conf = w + strlen(CONFIG_EQ);
	else if (strncmp(w, "--", 2) == 0)
		return long_option(a, argc, argv, i);
	else
		return usage_error(a->cmd, "unknown option '%s'", w);
	return 0;
}

/* Checks that need the whole command line. */
static int
check_args(const struct args *a)
{
	const struct command *c = a->cmd;

	if (a->npos < c->min_pos)
		return usage_error(c, "'%s' needs more arguments", c->name);
	if (a->npos > c->max_pos)
		return usage_error(c, "unexpected argument '%s'",
		    a->pos[c->max_pos]);
	if ((c->opts & OPT_REP) && a->rep == NULL)
		return usage_error(c, "'%s' needs --rep REP", c->name);
	if ((c->opts & OPT_REASON) && a->reason == NULL)
		return usage_error(c, "'%s' needs --reason TEXT", c->name);
	if ((c->opts & OPT_OUTCOME) && a->outcome == NULL)
		return usage_error(c, "'%s' needs --outcome WORD", c->name);
	if (strcmp(c->name, "rep") == 0 && strcmp(a->pos[1], "available") != 0 &&
	    strcmp(a->pos[1], "away") != 0)
		return usage_error(c, "a rep's status is 'available' or 'away', not '%s'",
		    a->pos[1]);
	return 0;
}

static int
parse_args(struct args *a, int argc, char *argv[])
{
	bool rest = false;

	a->conf = LR_DEFAULT_CONF;
	for (int i = 1; i < argc; i++)
		if (parse_word(a, argc, argv, &i, &rest) == -1)
			return -1;
	if (a->help)
		return 0;
	if (a->cmd == NULL)
		return usage_error(NULL, "no command given");
	return check_args(a);
}

static int
run_check(const char *conf)
{
	struct cfg_diag diag = {0};
	struct lr_config *cfg = cfg_load(conf, &diag);

	for (size_t i = 0; i < diag.nwarnings; i++)
		fprintf(stderr, "%s (warning)\n", diag.warnings[i]);
	for (size_t i = 0; i < diag.nerrors; i++)
		fprintf(stderr, "%s\n", diag.errors[i]);
	cfg_diag_clear(&diag);
	if (cfg == NULL)
		return CTL_ERR;
	printf("configuration OK\n");
	cfg_free(cfg);
	return CTL_OK;
}

static int
run_push(struct ctl *ctl, const struct args *a)
{
	return ctl_push(ctl, a->npos > 0 ? a->pos[0] : NULL);
}

static int
send_event(struct ctl *ctl, const struct args *a, enum event_type type,
    const char *arg)
{
	struct ctl_event ev = {
		.type = type,
		.lead_id = type == EVENT_REP_STATUS ? NULL : a->pos[0],
		.rep = type == EVENT_REP_STATUS ? a->pos[0] : a->rep,
		.arg = arg,
		.wait = (a->seen & OPT_WAIT) != 0,
	};

	return ctl_send_event(ctl, &ev);
}

static int
run_followup(struct ctl *ctl, const struct args *a)
{
	return send_event(ctl, a, EVENT_FOLLOWED_UP, NULL);
}

static int
run_reject(struct ctl *ctl, const struct args *a)
{
	return send_event(ctl, a, EVENT_REJECTED, a->reason);
}

static int
run_close(struct ctl *ctl, const struct args *a)
{
	return send_event(ctl, a, EVENT_CLOSED, a->outcome);
}

static int
run_rep(struct ctl *ctl, const struct args *a)
{
	return send_event(ctl, a, EVENT_REP_STATUS, a->pos[1]);
}

static int
run_status(struct ctl *ctl, const struct args *a)
{
	(void)a;
	return ctl_status(ctl);
}

static int
run_lead(struct ctl *ctl, const struct args *a)
{
	return ctl_lead(ctl, a->pos[0]);
}

static int
run_alerts(struct ctl *ctl, const struct args *a)
{
	long long n = ALERTS_DEFAULT_COUNT;

	if (a->count != NULL && (!ctl_parse_ll(a->count, &n) || n < 0 ||
	    n > ALERTS_MAX_COUNT)) {
		usage_error(a->cmd, "--count wants a number of alerts, not '%s'",
		    a->count);
		return CTL_USAGE;
	}
	return ctl_alerts(ctl, n, (a->seen & OPT_FOLLOW) != 0);
}

static int
run_plan(struct ctl *ctl, const struct args *a)
{
	return ctl_plan(ctl, a->plan, (a->seen & OPT_ACTUAL) != 0);
}

/* --since DAYS into *days (0 when absent); -1 after a usage error. */
static int
parse_since(const struct args *a, long long *days)
{
	*days = 0;
	if (a->since != NULL && (!ctl_parse_ll(a->since, days) || *days < 1 ||
	    *days > SINCE_MAX_DAYS)) {
		usage_error(a->cmd, "--since wants a number of days (1-%d), not '%s'",
		    SINCE_MAX_DAYS, a->since);
		return -1;
	}
	return 0;
}

static int
run_sources(struct ctl *ctl, const struct args *a)
{
	long long days;

	if (parse_since(a, &days) == -1)
		return CTL_USAGE;
	return ctl_sources(ctl, days);
}

static int
run_calibrate(struct ctl *ctl, const struct args *a)
{
	double rate = ctl->cfg->calibrate.max_reject_rate;
	long long days, min = ctl->cfg->calibrate.min_outcomes;
	char *end;

	if (parse_since(a, &days) == -1)
		return CTL_USAGE;
	if (a->max_reject != NULL) {
		rate = strtod(a->max_reject, &end);
		if (end == a->max_reject || *end != '\0' || !(rate >= 0 &&
		    rate <= 1)) {
			usage_error(a->cmd, "--max-reject-rate wants a fraction between 0 and 1, not '%s'",
			    a->max_reject);
			return CTL_USAGE;
		}
	}
	if (a->min_outcomes != NULL && (!ctl_parse_ll(a->min_outcomes, &min) ||
	    min < 1)) {
		usage_error(a->cmd, "--min-outcomes wants a positive integer, not '%s'",
		    a->min_outcomes);
		return CTL_USAGE;
	}
	return ctl_calibrate(ctl, days, rate, min);
}

static int
run_webhooks(struct ctl *ctl, const struct args *a)
{
	if (a->npos == 0)
		return ctl_webhooks(ctl);
	if (a->npos == 2 && strcmp(a->pos[0], "redeliver") == 0)
		return ctl_webhooks_redeliver(ctl, a->pos[1]);
	usage_error(a->cmd, "wants no argument, or 'redeliver NAME'");
	return CTL_USAGE;
}

static int
run_calendar(struct ctl *ctl, const struct args *a)
{
	long long at, add = -1;

	if (a->at != NULL && ctl_parse_instant(a->at, &at) == -1) {
		usage_error(a->cmd, "--at wants an RFC 3339 time (2027-03-26T16:58:00Z) or epoch ms, not '%s'",
		    a->at);
		return CTL_USAGE;
	}
	if (a->add != NULL && (!ctl_parse_ll(a->add, &add) || add < 0 ||
	    add > CTL_CAL_ADD_MAX)) {
		usage_error(a->cmd, "--add wants a number of seconds (0-%lld), not '%s'",
		    CTL_CAL_ADD_MAX, a->add);
		return CTL_USAGE;
	}
	return ctl_calendar(ctl, a->pos[0], a->at != NULL ? &at : NULL, add);
}

static int
run_inbox(struct ctl *ctl, const struct args *a)
{
	return ctl_inbox(ctl, a->pos[0]);
}

/*
 * Load the configuration quietly (its errors are printed). The HTTP
 * intake's tokens are not read: no command needs them, and a rep may not
 * be allowed to read them ('check' does read them).
 */
static struct lr_config *
load_config(const char *conf)
{
	struct cfg_diag diag = {0};
	struct lr_config *cfg = cfg_load_flags(conf, &diag, CFG_LOAD_NO_TOKENS);

	for (size_t i = 0; i < diag.nerrors; i++)
		fprintf(stderr, "%s\n", diag.errors[i]);
	cfg_diag_clear(&diag);
	if (cfg == NULL)
		ctl_warnx("configuration '%s' has errors (see 'leadctl -c %s check')",
		    conf, conf);
	return cfg;
}

int
main(int argc, char *argv[])
{
	struct args a = {0};
	struct ctl ctl = {0};
	struct lr_config *cfg;
	int rc;

	if (parse_args(&a, argc, argv) == -1)
		return CTL_USAGE;
	if (a.help) {
		if (a.cmd != NULL)
			command_usage(stdout, a.cmd);
		else
			usage(stdout);
		return CTL_OK;
	}
	if (!a.cmd->redis)
		return run_check(a.conf);
	if ((cfg = load_config(a.conf)) == NULL)
		return CTL_ERR;
	ctl.cfg = cfg;
	ctl.prefix = cfg->redis.prefix;
	ctl.json = a.json;
	rc = a.cmd->run(&ctl, &a);
	ctl_disconnect(&ctl);
	cfg_free(cfg);
	fflush(stdout);
	return rc;
}
