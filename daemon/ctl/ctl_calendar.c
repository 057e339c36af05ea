/* ctl_calendar.c - leadctl calendar: open or closed at an instant, the next change, and the due time after N seconds of open time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "calendar.h"
#include "ctl_calendar.h"
#include "ctl_common.h"

/* Where "at" came from, as the text output says. */
enum at_source { AT_GIVEN, AT_REDIS, AT_LOCAL };

/* "Z", "z" or "+HH:MM" / "-HH:MM" into seconds east of UTC; -1 if not one. */
static int
parse_offset(const char *s, long long *off)
{
	int32_t secs;
	char hm[6];

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*off = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6)
		return -1;
	memcpy(hm, s + 1, 5);
	hm[5] = '\0';
	if (cal_parse_time(hm, false, &secs) == -1)
		return -1;
	*off = s[0] == '-' ? -(long long)secs : secs;
	return 0;
}

int
ctl_parse_instant(const char *s, long long *ms)
{
	char date[11], hms[9];
	int64_t day;
	int32_t secs;
	long long frac = 0, off, scale = 100;
	const char *p;

	if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") ==
	    strlen(s))
		return ctl_parse_ll(s, ms) && *ms >= 0 ? 0 : -1;
	if (strlen(s) < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	memcpy(hms, s + 11, 8);
	hms[8] = '\0';
	if (cal_parse_date(date, &day) == -1 ||
	    cal_parse_time(hms, false, &secs) == -1)
		return -1;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;	/* ms: digits past 3 dropped */
			scale /= 10;
		}
	}
	if (parse_offset(p, &off) == -1)
		return -1;
	*ms = ((long long)day * 86400 + secs - off) * 1000 + frac;
	return *ms >= 0 ? 0 : -1;
}

/* Now: Redis's clock (the daemon's) when Redis answers, else ours. */
static long long
now_ms(struct ctl *ctl, enum at_source *src)
{
	struct timespec ts;
	long long ms;

	if (ctl_connect(ctl) == 0 && ctl_redis_now(ctl, &ms) == 0) {
		*src = AT_REDIS;
		return ms;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	*src = AT_LOCAL;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
print_text(const struct ctl *ctl, const struct calendar *cal, long long at,
    enum at_source src, bool open, long long next, long long add,
    long long due)
{
	char t[CTL_TIME_MAX], rel[CTL_TIME_MAX], local[64];

	printf("calendar %s (%s)\n", cal->name, cal->zone);
	printf("at       %s = %s (%s)\n", ctl_fmt_time(at, t, sizeof(t)),
	    cal_fmt_local(cal, at, local, sizeof(local)), src == AT_GIVEN ? "given" : src == AT_REDIS ?
	    "now, from redis TIME" : "now, from the local clock: redis did not answer");
	if (src == AT_LOCAL)
		printf("         (%s)\n", ctl->err);
	printf("open     %s\n", open ? "yes" : "no");
	if (next < 0)
		printf("%s   never (within %d days)\n", open ? "closes" : "opens ",
		    CAL_HORIZON_DAYS);
	else
		printf("%s   %s = %s (%s)\n", open ? "closes" : "opens ",
		    ctl_fmt_time(next, t, sizeof(t)),
		    cal_fmt_local(cal, next, local, sizeof(local)),
		    ctl_fmt_rel(next - at, rel, sizeof(rel)));
	if (add < 0)
		return;
	if (due < 0)
		printf("due      never: %lld s of open time are not within %d days\n",
		    add, CAL_HORIZON_DAYS);
	else
		printf("due      %s = %s (%lld s of open time from at; %s)\n",
		    ctl_fmt_time(due, t, sizeof(t)),
		    cal_fmt_local(cal, due, local, sizeof(local)), add,
		    ctl_fmt_rel(due - at, rel, sizeof(rel)));
}

int
ctl_calendar(struct ctl *ctl, const char *name, const long long *at_given,
    long long add)
{
	const struct calendar *cal;
	enum at_source src = AT_GIVEN;
	long long at, next, due = -1;
	bool open;
	json_t *o;

	if ((cal = cfg_calendar_find(ctl->cfg, name)) == NULL) {
		ctl_warnx("no calendar '%s' in configuration '%s'", name,
		    ctl->cfg->path);
		return CTL_ERR;
	}
	if (at_given != NULL)
		at = *at_given;
	else
		at = now_ms(ctl, &src);
	open = cal_open_at(cal, at);
	next = cal_next_change(cal, at);
	if (add >= 0)
		due = cal_add_open(cal, at, add);
	if (!ctl->json) {
		print_text(ctl, cal, at, src, open, next, add, due);
		return CTL_OK;
	}
	o = json_pack("{s:s, s:I, s:b, s:o}", "calendar", cal->name,
	    "at_ms", (json_int_t)at, "open", open, "next_change_ms",
	    ctl_json_ll_or_null(next));
	if (o != NULL && add >= 0)
		json_object_set_new(o, "due_ms", ctl_json_ll_or_null(due));
	if (o == NULL || ctl_print_json(o) == -1) {
		ctl_warnx("cannot encode the calendar: out of memory");
		return CTL_ERR;
	}
	return CTL_OK;
}
