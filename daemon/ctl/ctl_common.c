/* ctl_common.c - leadctl's Redis connection, command helpers, messages and time formatting. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "ctl_common.h"
#include "keys.h"
#include "redir.h"
#include "sentinel.h"

#define MS_PER_DAY 86400000LL
/* Significant digits of a fraction in --json output. */
#define JSON_DIGITS 12

void
ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("leadctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ctl_seterr(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctl->err, sizeof(ctl->err), fmt, ap);
	va_end(ap);
	return -1;
}

int
ctl_fail(const struct ctl *ctl)
{
	ctl_warnx("%s", ctl->err[0] != '\0' ? ctl->err : "unknown error");
	return CTL_ERR;
}

static struct timeval
ms_to_tv(long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	return tv;
}

/* The address as the user would write it, for messages. */
static void
redis_addr(const struct lr_config *cfg, char *buf, size_t len)
{
	if (cfg->redis.unix_socket[0] != '\0')
		snprintf(buf, len, "%s", cfg->redis.unix_socket);
	else if (strchr(cfg->redis.host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d", cfg->redis.host, cfg->redis.port);
	else
		snprintf(buf, len, "%s:%d", cfg->redis.host, cfg->redis.port);
}

/* AUTH and SELECT on a fresh connection. */
static int
handshake(struct ctl *ctl, const char *addr)
{
	const struct lr_config *cfg = ctl->cfg;
	redisReply *r;

	if (cfg->redis.password[0] != '\0') {
		if (cfg->redis.username[0] != '\0')
			r = redisCommand(ctl->rc, "AUTH %s %s",
			    cfg->redis.username, cfg->redis.password);
		else
			r = redisCommand(ctl->rc, "AUTH %s",
			    cfg->redis.password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			ctl_seterr(ctl, "cannot authenticate to redis '%s': %s",
			    addr, r != NULL ? r->str : ctl->rc->errstr);
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	if (cfg->redis.db != 0) {
		r = redisCommand(ctl->rc, "SELECT %d", cfg->redis.db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			ctl_seterr(ctl, "cannot select redis db %d on '%s': %s",
			    cfg->redis.db, addr,
			    r != NULL ? r->str : ctl->rc->errstr);
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

/*
 * With redis.sentinels: the primary they name, into host and *port, and
 * addr for messages. 0, or -1 with ctl->err set.
 */
static int
discover(struct ctl *ctl, char *host, size_t hostlen, int *port, char *addr,
    size_t addrlen)
{
	const struct lr_config *cfg = ctl->cfg;
	struct sentinel_set s;
	char err[sizeof(ctl->err)];
	int rc;

	if (sentinel_set_init(&s, cfg->redis.sentinel_hosts,
	    cfg->redis.sentinel_ports, cfg->redis.nsentinels,
	    cfg->redis.master_name, cfg->redis.sentinel_username,
	    cfg->redis.sentinel_password) == -1)
		return ctl_seterr(ctl, "cannot ask the sentinels: %s",
		    strerror(ENOMEM));
	rc = sentinel_ask(&s, host, hostlen, port, err, sizeof(err));
	sentinel_set_clear(&s);
	if (rc == -1)
		return ctl_seterr(ctl, "cannot find the redis primary of '%s': %s",
		    cfg->redis.master_name, err);
	snprintf(addr, addrlen, strchr(host, ':') != NULL ? "[%s]:%d" :
	    "%s:%d", host, *port);
	return 0;
}

/* A server the sentinels named must still be a primary (ROLE). */
static int
check_primary(struct ctl *ctl, const char *addr)
{
	redisReply *r = redisCommand(ctl->rc, "ROLE");
	int rc = 0;

	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "master") != 0)
		rc = ctl_seterr(ctl, "redis '%s' is not a primary (role %s); a failover may be under way, try again",
		    addr, r->element[0]->str);
	freeReplyObject(r);
	return rc;
}

/*
 * redis.cluster: every key is in the prefix's slot; connect to the node
 * that serves it (the seed answers a key of it with MOVED). A slot being
 * migrated is an error to try again. 0, or -1 with ctl->err set.
 */
static int
follow_slot(struct ctl *ctl, char *addr, size_t addrlen)
{
	struct timeval tv = ms_to_tv(CTL_CONNECT_TIMEOUT_MS);
	char host[REDIR_HOST_MAX + 1];
	enum redir_kind kind;
	redisReply *r;
	int port, hops;

	for (hops = 0; hops < 5; hops++) {
		r = redisCommand(ctl->rc, "EXISTS %s" KEY_INCOMING, ctl->prefix);
		if (r == NULL)
			return ctl_seterr(ctl, "redis '%s': %s", addr,
			    ctl->rc->errstr);
		if (r->type != REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			return 0;
		}
		kind = redir_parse(r->str, r->len, host, &port);
		if (kind != REDIR_MOVED) {
			ctl_seterr(ctl, "redis '%s': %s%s", addr, r->str,
			    kind == REDIR_ASK || kind == REDIR_TRYAGAIN ?
			    " (the slot is being migrated; try again)" : "");
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
		redisFree(ctl->rc);
		snprintf(addr, addrlen, strchr(host, ':') != NULL ?
		    "[%s]:%d" : "%s:%d", host, port);
		ctl->rc = redisConnectWithTimeout(host, port, tv);
		if (ctl->rc == NULL || ctl->rc->err != 0)
			return ctl_seterr(ctl, "cannot connect to redis '%s': %s",
			    addr, ctl->rc != NULL ? ctl->rc->errstr :
			    strerror(ENOMEM));
		if (redisSetTimeout(ctl->rc, ms_to_tv(CTL_REPLY_TIMEOUT_MS)) !=
		    REDIS_OK || handshake(ctl, addr) == -1)
			return -1;
	}
	return ctl_seterr(ctl, "redis '%s': too many MOVED redirects", addr);
}

int
ctl_connect(struct ctl *ctl)
{
	const struct lr_config *cfg = ctl->cfg;
	struct timeval tv = ms_to_tv(CTL_CONNECT_TIMEOUT_MS);
	char addr[300], host[256];
	int port;

	redis_addr(cfg, addr, sizeof(addr));
	if (cfg->redis.nsentinels > 0) {
		if (discover(ctl, host, sizeof(host), &port, addr,
		    sizeof(addr)) == -1)
			return -1;
		ctl->rc = redisConnectWithTimeout(host, port, tv);
	} else if (cfg->redis.unix_socket[0] != '\0')
		ctl->rc = redisConnectUnixWithTimeout(cfg->redis.unix_socket, tv);
	else
		ctl->rc = redisConnectWithTimeout(cfg->redis.host,
		    cfg->redis.port, tv);
	if (ctl->rc == NULL)
		return ctl_seterr(ctl, "cannot connect to redis '%s': %s",
		    addr, strerror(ENOMEM));
	if (ctl->rc->err != 0) {
		ctl_seterr(ctl, "cannot connect to redis '%s': %s", addr,
		    ctl->rc->errstr);
		goto out_free;
	}
	if (redisSetTimeout(ctl->rc, ms_to_tv(CTL_REPLY_TIMEOUT_MS)) != REDIS_OK) {
		ctl_seterr(ctl, "cannot set a timeout on redis '%s': %s", addr,
		    ctl->rc->errstr);
		goto out_free;
	}
	if (handshake(ctl, addr) == -1)
		goto out_free;
	if (cfg->redis.nsentinels > 0 && check_primary(ctl, addr) == -1)
		goto out_free;
	if (cfg->redis.cluster && follow_slot(ctl, addr, sizeof(addr)) == -1)
		goto out_free;
	return 0;

out_free:
	redisFree(ctl->rc);
	ctl->rc = NULL;
	return -1;
}

void
ctl_disconnect(struct ctl *ctl)
{
	redisFree(ctl->rc);	/* NULL is fine */
	ctl->rc = NULL;
}

/* Check a reply; on failure fill ctl->err, free it and return NULL. */
static redisReply *
checked(struct ctl *ctl, redisReply *r, const char *name, int namelen)
{
	if (r == NULL) {
		ctl_seterr(ctl, "redis command '%.*s' failed: %s", namelen,
		    name, ctl->rc->errstr[0] != '\0' ? ctl->rc->errstr :
		    "no reply");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		ctl_seterr(ctl, "redis command '%.*s' failed: %s", namelen,
		    name, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

redisReply *
ctl_cmd(struct ctl *ctl, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(ctl->rc, fmt, ap);
	va_end(ap);
	return checked(ctl, r, fmt, (int)strcspn(fmt, " "));
}

redisReply *
ctl_get_reply(struct ctl *ctl, const char *name)
{
	void *p = NULL;

	if (redisGetReply(ctl->rc, &p) != REDIS_OK)
		p = NULL;
	return checked(ctl, p, name, (int)strlen(name));
}

const char *
ctl_hash_get(const redisReply *r, const char *field)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[i]->str, field) == 0 &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			return r->element[i + 1]->str;
	return NULL;
}

json_t *
ctl_hash_json(const redisReply *r)
{
	json_t *o = json_object(), *v;
	const redisReply *k, *e;

	if (o == NULL || r == NULL || r->type != REDIS_REPLY_ARRAY)
		return o;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		k = r->element[i];
		e = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || e->type != REDIS_REPLY_STRING)
			continue;
		if ((v = json_stringn(e->str, e->len)) == NULL)
			v = json_null();
		/* A field name that is not UTF-8 is left out. */
		(void)json_object_set_new(o, k->str, v);
	}
	return o;
}

bool
ctl_parse_ll(const char *s, long long *v)
{
	char *end;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

bool
ctl_reply_ll(const redisReply *r, long long *v)
{
	if (r == NULL)
		return false;
	if (r->type == REDIS_REPLY_INTEGER) {
		*v = r->integer;
		return true;
	}
	if (r->type == REDIS_REPLY_STRING)
		return ctl_parse_ll(r->str, v);
	return false;
}

int
ctl_redis_now(struct ctl *ctl, long long *now_ms)
{
	redisReply *r;
	long long s, us;

	if ((r = ctl_cmd(ctl, "TIME")) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    !ctl_reply_ll(r->element[0], &s) ||
	    !ctl_reply_ll(r->element[1], &us)) {
		freeReplyObject(r);
		return ctl_seterr(ctl, "redis command 'TIME' failed: unexpected reply");
	}
	freeReplyObject(r);
	*now_ms = s * 1000 + us / 1000;
	return 0;
}

const char *
ctl_fmt_time(long long ms, char *buf, size_t len)
{
	time_t t;
	struct tm tm;
	long long sec = ms / 1000, frac = ms % 1000;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "@%lld", ms);
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac);
	return buf;
}

const char *
ctl_fmt_rel(long long delta_ms, char *buf, size_t len)
{
	if (delta_ms >= 0)
		snprintf(buf, len, "in %llds", delta_ms / 1000);
	else if (delta_ms == LLONG_MIN)
		snprintf(buf, len, "long ago");
	else
		snprintf(buf, len, "%llds ago", -delta_ms / 1000);
	return buf;
}

int
ctl_print_json(json_t *v)
{
	char *s;

	if (v == NULL)
		return -1;
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(JSON_DIGITS));
	json_decref(v);
	if (s == NULL)
		return -1;
	puts(s);
	fflush(stdout);
	free(s);
	return 0;
}

int
ctl_read_hash(struct ctl *ctl, const char *key, ctl_counter_fn add, void *arg)
{
	redisReply *r = ctl_cmd(ctl, "HGETALL %s", key);
	long long n;

	if (r == NULL)
		return -1;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (ctl_reply_ll(r->element[i + 1], &n) &&
		    add(arg, r->element[i]->str, n) == -1) {
			freeReplyObject(r);
			return ctl_seterr(ctl, "out of memory");
		}
	freeReplyObject(r);
	return 0;
}

int
ctl_read_counters(struct ctl *ctl, enum lr_key all, enum lr_key day,
    long long since_days, ctl_counter_fn add, void *arg)
{
	char key[CTL_KEY_MAX], part[24];
	long long now, today;

	if (since_days <= 0) {
		if (keys_build(key, sizeof(key), ctl->prefix, all, NULL,
		    NULL) == -1)
			return ctl_seterr(ctl, "key prefix too long");
		return ctl_read_hash(ctl, key, add, arg);
	}
	if (ctl_redis_now(ctl, &now) == -1)
		return -1;
	today = now / MS_PER_DAY;
	for (long long d = today - since_days + 1; d <= today; d++) {
		snprintf(part, sizeof(part), "%lld", d);
		if (keys_build(key, sizeof(key), ctl->prefix, day, part,
		    NULL) == -1)
			return ctl_seterr(ctl, "key prefix too long");
		if (ctl_read_hash(ctl, key, add, arg) == -1)
			return -1;
	}
	return 0;
}

long long
ctl_hash_ll(const redisReply *r, const char *field, long long dflt)
{
	long long v;

	return ctl_parse_ll(ctl_hash_get(r, field), &v) ? v : dflt;
}

bool
ctl_rep_serves(const struct rep_cfg *rep, size_t seg)
{
	for (size_t k = 0; k < rep->nsegs; k++)
		if (rep->segs[k] == seg)
			return true;
	return false;
}

long long
ctl_jint(const json_t *o, const char *key, long long dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

const char *
ctl_jstr(const json_t *o, const char *key, const char *dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

json_t *
ctl_json_time(long long ms)
{
	char buf[CTL_TIME_MAX];

	return ms < 0 ? json_null() : json_string(ctl_fmt_time(ms, buf,
	    sizeof(buf)));
}

json_t *
ctl_json_ll_or_null(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

json_t *
ctl_entry_alert(const redisReply *e)
{
	const redisReply *f;
	json_t *a = NULL;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[1]->type != REDIS_REPLY_ARRAY)
		return NULL;
	f = e->element[1];
	for (size_t i = 0; a == NULL && i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(f->element[i]->str, "alert") == 0 &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			a = json_loadb(f->element[i + 1]->str,
			    f->element[i + 1]->len, 0, NULL);
	if (a != NULL && (!json_is_object(a) || json_object_set_new(a,
	    "stream_id", json_string(e->element[0]->str)) == -1)) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

int
ctl_output(struct ctl *ctl, json_t *o, const char *what, ctl_print_fn print,
    const char *arg)
{
	if (ctl->json) {
		if (ctl_print_json(o) == -1) {
			ctl_warnx("cannot encode the %s: out of memory", what);
			return CTL_ERR;
		}
		return CTL_OK;
	}
	print(o, arg);
	json_decref(o);
	return CTL_OK;
}

json_t *
ctl_json_rate(double x)
{
	return x < 0 ? json_null() : json_real(x);
}

const char *
ctl_fmt_rate(double x, char *buf, size_t len)
{
	if (x < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", x * 100);
	return buf;
}
