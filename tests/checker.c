/* checker.c - check every routing invariant from Redis alone: each lead once, limits kept, one breach per miss, no stale in-flight work. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "checker.h"
#include "fnv.h"
#include "keys.h"

#define SHOW_MAX 5		/* problems printed per kind */
#define CHUNK 2000		/* list elements and stream entries per read */
#define DUE_GRACE_MS 1000	/* a deadline this recent may not have fired */

/* --- a string -> long map ------------------------------------------------ */

struct smap {
	char **keys;
	long *vals;
	size_t cap, n;
};

static size_t
smap_slot(const struct smap *m, const char *k)
{
	size_t i = (size_t)fnv1a(k, strlen(k)) & (m->cap - 1);

	while (m->keys[i] != NULL && strcmp(m->keys[i], k) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static long *
smap_get(const struct smap *m, const char *k)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = smap_slot(m, k);
	return m->keys[i] != NULL ? &m->vals[i] : NULL;
}

static int
smap_grow(struct smap *m)
{
	struct smap n = {0};

	n.cap = m->cap ? m->cap * 2 : 1024;
	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	if (n.keys == NULL || n.vals == NULL) {
		free(n.keys);
		free(n.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] != NULL) {
			size_t j = smap_slot(&n, m->keys[i]);

			n.keys[j] = m->keys[i];
			n.vals[j] = m->vals[i];
		}
	}
	n.n = m->n;
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

/* The value of k, inserted as v when absent; NULL when out of memory. */
static long *
smap_put(struct smap *m, const char *k, long v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap && smap_grow(m) == -1)
		return NULL;
	i = smap_slot(m, k);
	if (m->keys[i] == NULL) {
		if ((m->keys[i] = strdup(k)) == NULL)
			return NULL;
		m->vals[i] = v;
		m->n++;
	}
	return &m->vals[i];
}

static void
smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* --- state ------------------------------------------------------------------ */

/* What was found of one pushed payload. */
struct ist {
	int queued, dead, nurture_below, nurture_rejected, backlog;
	int open_own, open_other, inbox, audit_assigns, escalations;
	char dead_reason[32];
	bool rec;
	char status[16], rep[72], segment[72];
	long long assigned_at, due, fu_at, closed_at, rejected_at;
	int reassign;
};

/* One assignment, as its inbox entry shows it. */
struct asg {
	long item;
	long rep;
	long long at, due;
	int breaches, warnings;
	long long first_breach_at;
};

enum kind {
	K_LOST, K_DUP, K_CAP, K_MISSED, K_DOUBLED, K_STALE, K_STRAY,
	K_REASON, K_AUDIT, K_N
};

static const char *const kind_names[K_N] = {
	"lost", "duplicated", "over capacity", "alert missed",
	"alert doubled", "stale in-flight", "stray", "wrong reason",
	"audit mismatch",
};

struct ctx {
	redisContext *c;
	const struct chk_spec *s;
	struct chk_result *r;
	char P[128];			/* the prefix, glob-escaped in Pglob */
	char Pglob[256];
	long long now;			/* Redis time, ms */
	bool err;

	struct smap ids;		/* lead id -> item */
	struct smap refused_ids;	/* ids of items expected refused */
	struct ist *st;

	struct smap reps;		/* rep id -> index */
	char **rep_names;
	size_t nreps, capreps;
	long *replay_open;		/* per rep, replayed open count */
	long long **win;		/* per rep, assignment times */
	size_t *nwin, *capwin, *winlo;

	struct smap replay;		/* lead id -> rep index + 1 while open */
	struct smap asg_of;		/* "id\1rep\1at" -> assignment index */
	struct smap forecasts;		/* segment -> capacity_forecast alerts */
	struct asg *asgs;
	size_t nasgs, capasgs;

	int shown[K_N];
};

static void problem(struct ctx *x, enum kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct ctx *x, enum kind k, const char *fmt, ...)
{
	long *const counters[K_N] = {
		&x->r->lost, &x->r->duplicated, &x->r->capacity_violations,
		&x->r->alerts_missed, &x->r->alerts_doubled,
		&x->r->stale_inflight, &x->r->strays, &x->r->wrong_reason,
		&x->r->audit_mismatch,
	};
	va_list ap;

	(*counters[k])++;
	if (x->shown[k]++ >= SHOW_MAX)
		return;
	fprintf(stderr, "checker: %s: ", kind_names[k]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static redisReply *cmd(struct ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A command's reply, or NULL (and x->err) on a connection error. */
static redisReply *
cmd(struct ctx *x, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(x->c, fmt, ap);
	va_end(ap);
	if (r == NULL) {
		fprintf(stderr, "checker: redis: %s\n", x->c->errstr);
		x->err = true;
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "checker: '%s': %s\n", fmt, r->str);
		x->err = true;
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static long long int_of(struct ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* An integer (or numeric string) reply; 0 for nil or an error. */
static long long
int_of(struct ctx *x, const char *fmt, ...)
{
	redisReply *r;
	long long v = 0;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(x->c, fmt, ap);
	va_end(ap);
	if (r == NULL) {
		fprintf(stderr, "checker: redis: %s\n", x->c->errstr);
		x->err = true;
		return 0;
	}
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return v;
}

static long long
redis_now(struct ctx *x)
{
	redisReply *r = cmd(x, "TIME");
	long long ms = 0;

	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		ms = strtoll(r->element[0]->str, NULL, 10) * 1000 +
		    strtoll(r->element[1]->str, NULL, 10) / 1000;
	freeReplyObject(r);
	return ms;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- reps -------------------------------------------------------------------- */

static long
rep_index(struct ctx *x, const char *rep)
{
	long *v = smap_get(&x->reps, rep);
	size_t n;

	if (v != NULL)
		return *v;
	if (x->nreps == x->capreps) {
		n = x->capreps ? x->capreps * 2 : 16;
		x->rep_names = realloc(x->rep_names, n * sizeof(*x->rep_names));
		x->replay_open = realloc(x->replay_open, n * sizeof(long));
		x->win = realloc(x->win, n * sizeof(*x->win));
		x->nwin = realloc(x->nwin, n * sizeof(size_t));
		x->capwin = realloc(x->capwin, n * sizeof(size_t));
		x->winlo = realloc(x->winlo, n * sizeof(size_t));
		if (x->rep_names == NULL || x->replay_open == NULL ||
		    x->win == NULL || x->nwin == NULL || x->capwin == NULL ||
		    x->winlo == NULL)
			abort();
		x->capreps = n;
	}
	n = x->nreps++;
	x->rep_names[n] = strdup(rep);
	x->replay_open[n] = 0;
	x->win[n] = NULL;
	x->nwin[n] = x->capwin[n] = x->winlo[n] = 0;
	if (x->rep_names[n] == NULL || smap_put(&x->reps, rep, (long)n) == NULL)
		abort();
	return (long)n;
}

static bool
rep_known(const struct ctx *x, const char *rep)
{
	for (size_t i = 0; i < x->s->nreps; i++)
		if (strcmp(x->s->reps[i].id, rep) == 0)
			return true;
	return x->s->nreps == 0;
}

/* The spec's limits for rep at Redis time ms; false when it has none. */
static bool
rep_limits(const struct ctx *x, const char *rep, long long ms,
    long long *max_open, long long *max_period)
{
	const struct chk_rep *best = NULL;

	for (size_t i = 0; i < x->s->nreps; i++) {
		const struct chk_rep *e = &x->s->reps[i];

		if (strcmp(e->id, rep) == 0 && e->since_ms <= ms &&
		    (best == NULL || e->since_ms >= best->since_ms))
			best = e;
	}
	if (best == NULL)
		return false;
	*max_open = best->max_open;
	*max_period = best->max_per_period;
	return true;
}

/* --- reading Redis ---------------------------------------------------------- */

typedef void elem_cb(struct ctx *x, const char *key, const char *buf,
    size_t len);

/* Every element of a list, in chunks. */
static void
each_list(struct ctx *x, const char *key, elem_cb *cb)
{
	redisReply *r;
	size_t n;

	for (long start = 0; !x->err; start += CHUNK) {
		if ((r = cmd(x, "LRANGE %s %ld %ld", key, start,
		    start + CHUNK - 1)) == NULL)
			return;
		n = r->elements;
		for (size_t i = 0; i < n; i++)
			cb(x, key, r->element[i]->str, r->element[i]->len);
		freeReplyObject(r);
		if (n < CHUNK)
			return;
	}
}

static void
each_member(struct ctx *x, const char *key, bool zset, elem_cb *cb)
{
	redisReply *r = zset ? cmd(x, "ZRANGE %s 0 -1", key) :
	    cmd(x, "SMEMBERS %s", key);

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->elements; i++)
		cb(x, key, r->element[i]->str, r->element[i]->len);
	freeReplyObject(r);
}

static void
each_hash_value(struct ctx *x, const char *key, elem_cb *cb)
{
	redisReply *r = cmd(x, "HVALS %s", key);

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->elements; i++)
		cb(x, key, r->element[i]->str, r->element[i]->len);
	freeReplyObject(r);
}

/* Keys matching prefix + pattern (a glob after the escaped prefix). */
static redisReply *
keys(struct ctx *x, const char *pattern)
{
	return cmd(x, "KEYS %s%s", x->Pglob, pattern);
}

typedef void entry_cb(struct ctx *x, const char *id, const redisReply *fields);

static void
each_stream(struct ctx *x, const char *key, entry_cb *cb)
{
	char start[64] = "-";
	redisReply *r;
	size_t n;

	while (!x->err) {
		if ((r = cmd(x, "XRANGE %s %s + COUNT %d", key, start,
		    CHUNK)) == NULL)
			return;
		n = r->elements;
		for (size_t i = 0; i < n; i++) {
			const redisReply *e = r->element[i];

			cb(x, e->element[0]->str, e->element[1]);
			if (i == n - 1)
				snprintf(start, sizeof(start), "(%s",
				    e->element[0]->str);
		}
		freeReplyObject(r);
		if (n < CHUNK)
			return;
	}
}

static const char *
field(const redisReply *f, const char *name)
{
	for (size_t i = 0; i + 1 < f->elements; i += 2)
		if (strcmp(f->element[i]->str, name) == 0)
			return f->element[i + 1]->str;
	return NULL;
}

/* --- who is this payload? --------------------------------------------------- */

static long
raw_item(const struct ctx *x, const char *buf, size_t len)
{
	for (size_t i = 0; i < x->s->nitems; i++) {
		const struct chk_item *it = &x->s->items[i];

		if (it->raw != NULL && it->raw_len == len &&
		    memcmp(it->raw, buf, len) == 0)
			return (long)i;
	}
	return -1;
}

/* The "id" string of a payload, into out; false when it has none. */
static bool
payload_id(const char *buf, size_t len, char *out, size_t outlen)
{
	json_t *o, *v;
	const char *p, *q;
	bool ok = false;

	if (len <= (1 << 20) && (o = json_loadb(buf, len,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)) != NULL) {
		v = json_object_get(o, "id");
		if (json_is_string(v) && json_string_length(v) < outlen) {
			snprintf(out, outlen, "%s", json_string_value(v));
			ok = true;
		}
		json_decref(o);
		return ok;
	}
	/* Not JSON: the first "id":"..." will do. */
	for (p = buf; p + 6 <= buf + (len > 4096 ? 4096 : len); p++)
		if (memcmp(p, "\"id\":\"", 6) == 0)
			break;
	if (p + 6 > buf + (len > 4096 ? 4096 : len))
		return false;
	p += 6;
	q = memchr(p, '"', (size_t)(buf + len - p));
	if (q == NULL || (size_t)(q - p) >= outlen)
		return false;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return true;
}

static long
item_of_id(const struct ctx *x, const char *id)
{
	long *v = smap_get(&x->ids, id);

	return v != NULL ? *v : -1;
}

/* The pushed item these bytes are; -1 when none. */
static long
item_of_payload(const struct ctx *x, const char *buf, size_t len)
{
	char id[256];
	long i = raw_item(x, buf, len);

	if (i >= 0)
		return i;
	if (!payload_id(buf, len, id, sizeof(id)))
		return -1;
	return item_of_id(x, id);
}

static void
show_payload(char *out, size_t outlen, const char *buf, size_t len)
{
	size_t n = len < 60 ? len : 60, j = 0;

	for (size_t i = 0; i < n && j + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)buf[i];

		j += (size_t)snprintf(out + j, outlen - j,
		    ch >= 0x20 && ch < 0x7f ? "%c" : "\\x%02x", ch);
	}
	if (len > n && j + 4 < outlen)
		snprintf(out + j, outlen - j, "...");
}

/* --- places ---------------------------------------------------------------- */

static void
queued_cb(struct ctx *x, const char *key, const char *buf, size_t len)
{
	long i = item_of_payload(x, buf, len);
	char show[300];

	(void)key;
	if (i < 0) {
		show_payload(show, sizeof(show), buf, len);
		problem(x, K_STRAY, "queued in '%s', pushed by no one: %s", key,
		    show);
		return;
	}
	x->st[i].queued++;
	x->r->queued++;
}

static int
b64val(int ch)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch ? strchr(tab, ch) : NULL;

	return p != NULL ? (int)(p - tab) : -1;
}

/* Decode base64 s into a malloc'd buffer; NULL when malformed. */
static char *
b64decode(const char *s, size_t n, size_t *outlen)
{
	char *out = malloc(n / 4 * 3 + 3);
	size_t o = 0;
	unsigned int acc = 0;
	int bits = 0, v;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		if ((v = b64val((unsigned char)s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	*outlen = o;
	return out;
}

static void
dead_cb(struct ctx *x, const char *key, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr);
	const json_t *raw, *b64;
	const char *reason, *source;
	char *bytes = NULL, show[300];
	size_t blen = 0;
	long i;

	(void)key;
	if (o == NULL) {
		problem(x, K_STRAY, "a dead letter is not JSON: %s", jerr.text);
		return;
	}
	reason = json_string_value(json_object_get(o, "reason"));
	source = json_string_value(json_object_get(o, "source"));
	if (reason == NULL || source == NULL) {
		problem(x, K_STRAY, "a dead letter without reason or source");
		goto out;
	}
	if (strcmp(source, KEY_INCOMING) != 0)
		goto out;		/* a refused event: not a lead */
	raw = json_object_get(o, "raw");
	b64 = json_object_get(o, "raw_base64");
	if (json_is_string(raw)) {
		i = item_of_payload(x, json_string_value(raw),
		    json_string_length(raw));
		show_payload(show, sizeof(show), json_string_value(raw),
		    json_string_length(raw));
	} else if (json_is_string(b64) && (bytes = b64decode(
	    json_string_value(b64), json_string_length(b64), &blen)) != NULL) {
		i = item_of_payload(x, bytes, blen);
		show_payload(show, sizeof(show), bytes, blen);
	} else {
		problem(x, K_STRAY, "a '%s' dead letter without raw bytes",
		    reason);
		goto out;
	}
	if (strcmp(reason, "poison") == 0)
		x->r->poison++;
	if (i < 0) {
		problem(x, K_STRAY, "a '%s' dead letter of a payload no one pushed: %s",
		    reason, show);
		goto out;
	}
	if (x->st[i].dead++ == 0)
		snprintf(x->st[i].dead_reason, sizeof(x->st[i].dead_reason),
		    "%s", reason);
	x->r->dead++;
out:
	free(bytes);
	json_decref(o);
}

static void
nurture_cb(struct ctx *x, const char *key, const char *buf, size_t len)
{
	json_t *o = json_loadb(buf, len, JSON_ALLOW_NUL, NULL);
	const char *id, *reason;
	long i;

	(void)key;
	id = json_string_value(json_object_get(o, "lead_id"));
	reason = json_string_value(json_object_get(o, "reason"));
	if (id == NULL || reason == NULL) {
		problem(x, K_STRAY, "a nurture entry without lead_id or reason");
	} else if ((i = item_of_id(x, id)) < 0) {
		problem(x, K_STRAY, "lead '%s' in nurture was never pushed", id);
	} else if (strcmp(reason, "rejected_by_rep") == 0) {
		x->st[i].nurture_rejected++;
	} else {
		x->st[i].nurture_below++;
	}
	json_decref(o);
}

static const char *
key_part(const struct ctx *x, const char *key, const char *kind)
{
	size_t pl = strlen(x->P), kl = strlen(kind);

	if (strncmp(key, x->P, pl) != 0 || strncmp(key + pl, kind, kl) != 0)
		return NULL;
	return key + pl + kl;
}

static void
backlog_cb(struct ctx *x, const char *key, const char *buf, size_t len)
{
	const char *seg = key_part(x, key, KEY_BACKLOG);
	long i = item_of_id(x, buf);

	(void)len;
	if (i < 0) {
		problem(x, K_STRAY, "lead '%s' in '%s' was never pushed", buf,
		    key);
		return;
	}
	x->st[i].backlog++;
	if (seg != NULL && x->st[i].rec && strcmp(seg, x->st[i].segment) != 0)
		problem(x, K_DUP, "lead '%s' of segment '%s' waits in '%s'",
		    buf, x->st[i].segment, key);
}

/* The rep of lr:rep:<rep>:<suffix> into out. */
static bool
rep_of_key(const struct ctx *x, const char *key, const char *suffix,
    char *out, size_t outlen)
{
	const char *p = key_part(x, key, KEY_REP);
	size_t n, sl = strlen(suffix);

	if (p == NULL || (n = strlen(p)) <= sl ||
	    strcmp(p + n - sl, suffix) != 0 || n - sl >= outlen)
		return false;
	memcpy(out, p, n - sl);
	out[n - sl] = '\0';
	return true;
}

static void
open_cb(struct ctx *x, const char *key, const char *buf, size_t len)
{
	char rep[128];
	long i = item_of_id(x, buf), ri;
	long *v;

	(void)len;
	if (!rep_of_key(x, key, KEY_TAIL_OPEN, rep, sizeof(rep)))
		return;
	if (i < 0) {
		problem(x, K_STRAY, "lead '%s' open at '%s' was never pushed",
		    buf, rep);
		return;
	}
	if (x->st[i].rec && strcmp(x->st[i].rep, rep) == 0)
		x->st[i].open_own++;
	else
		x->st[i].open_other++;
	/* The state must be what the audit trail's history leads to. */
	ri = rep_index(x, rep);
	v = smap_get(&x->replay, buf);
	if (v == NULL || *v != ri + 1)
		problem(x, K_AUDIT, "lead '%s' is open at '%s', but the audit trail says %s",
		    buf, rep, v == NULL || *v == 0 ? "it is not open" :
		    x->rep_names[*v - 1]);
}

static void
inbox_cb(struct ctx *x, const char *key, const char *buf, size_t len)
{
	json_t *o = json_loadb(buf, len, JSON_ALLOW_NUL, NULL);
	const char *id, *rep;
	char krep[128], k[512];
	struct asg *a;
	long i;

	id = json_string_value(json_object_get(o, "lead_id"));
	rep = json_string_value(json_object_get(o, "rep"));
	if (id == NULL || rep == NULL ||
	    !rep_of_key(x, key, KEY_TAIL_INBOX, krep, sizeof(krep)) ||
	    strcmp(rep, krep) != 0) {
		problem(x, K_STRAY, "'%s' holds a malformed assignment", key);
		goto out;
	}
	if ((i = item_of_id(x, id)) < 0) {
		problem(x, K_STRAY, "lead '%s' in '%s' was never pushed", id,
		    key);
		goto out;
	}
	x->st[i].inbox++;
	if (x->nasgs == x->capasgs) {
		x->capasgs = x->capasgs ? x->capasgs * 2 : 1024;
		x->asgs = realloc(x->asgs, x->capasgs * sizeof(*x->asgs));
		if (x->asgs == NULL)
			abort();
	}
	a = &x->asgs[x->nasgs];
	memset(a, 0, sizeof(*a));
	a->item = i;
	a->rep = rep_index(x, rep);
	a->at = json_integer_value(json_object_get(o, "assigned_at_ms"));
	a->due = json_integer_value(json_object_get(o, "follow_up_due_ms"));
	snprintf(k, sizeof(k), "%s\1%s\1%lld", id, rep, a->at);
	if (smap_get(&x->asg_of, k) != NULL) {
		problem(x, K_DUP, "lead '%s' is in '%s' twice for one assignment",
		    id, key);
		goto out;
	}
	if (smap_put(&x->asg_of, k, (long)x->nasgs) == NULL)
		abort();
	x->nasgs++;
	x->r->assignments++;
out:
	json_decref(o);
}

/* --- the lead records ------------------------------------------------------ */

static const char *const rec_fields[] = {"status", "rep", "segment",
	"assigned_at_ms", "follow_up_due_ms", "followed_up_at_ms",
	"closed_at_ms", "rejected_at_ms", "reassign_count"};
#define NREC (sizeof(rec_fields) / sizeof(rec_fields[0]))

static bool
expect_refused(const struct chk_item *it)
{
	return it->expect != NULL && strcmp(it->expect, "routed") != 0;
}

/* Is the record under the item's id its own? Not for a payload refused
 * by its bytes: its id may be another lead's (a duplicate). */
static bool
has_record_key(const struct chk_item *it)
{
	return it->id != NULL && !(it->raw != NULL && expect_refused(it));
}

static long long
ll_of(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
}

static void
read_records(struct ctx *x)
{
	const char *argv[2 + NREC];
	size_t lens[2 + NREC];
	char key[512];
	redisReply *r;
	size_t sent = 0;

	argv[0] = "HMGET";
	lens[0] = 5;
	for (size_t f = 0; f < NREC; f++) {
		argv[2 + f] = rec_fields[f];
		lens[2 + f] = strlen(rec_fields[f]);
	}
	for (size_t i = 0; i < x->s->nitems; i++) {
		if (!has_record_key(&x->s->items[i]))
			continue;
		snprintf(key, sizeof(key), "%s" KEY_LEAD "%s", x->P,
		    x->s->items[i].id);
		argv[1] = key;
		lens[1] = strlen(key);
		redisAppendCommandArgv(x->c, 2 + NREC, argv, lens);
		sent++;
	}
	for (size_t i = 0; i < x->s->nitems && !x->err; i++) {
		struct ist *t = &x->st[i];

		if (!has_record_key(&x->s->items[i]))
			continue;
		if (redisGetReply(x->c, (void **)&r) != REDIS_OK) {
			x->err = true;
			return;
		}
		sent--;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == NREC &&
		    r->element[0]->type == REDIS_REPLY_STRING) {
			t->rec = true;
			snprintf(t->status, sizeof(t->status), "%s",
			    r->element[0]->str);
			if (r->element[1]->type == REDIS_REPLY_STRING)
				snprintf(t->rep, sizeof(t->rep), "%s",
				    r->element[1]->str);
			if (r->element[2]->type == REDIS_REPLY_STRING)
				snprintf(t->segment, sizeof(t->segment), "%s",
				    r->element[2]->str);
			t->assigned_at = ll_of(r->element[3]);
			t->due = ll_of(r->element[4]);
			t->fu_at = ll_of(r->element[5]);
			t->closed_at = ll_of(r->element[6]);
			t->rejected_at = ll_of(r->element[7]);
			t->reassign = (int)ll_of(r->element[8]);
		}
		freeReplyObject(r);
	}
}

/* Records no pushed lead explains (every accepted lead has one). */
static void
stray_records(struct ctx *x)
{
	redisReply *r = keys(x, KEY_LEAD "*");
	const char *id;

	if (r == NULL)
		return;
	for (size_t k = 0; k < r->elements; k++) {
		id = key_part(x, r->element[k]->str, KEY_LEAD);
		if (id == NULL)
			continue;
		if (smap_get(&x->refused_ids, id) != NULL &&
		    item_of_id(x, id) < 0)
			problem(x, K_REASON, "lead '%s' was accepted; it should have been refused",
			    id);
		else if (item_of_id(x, id) < 0)
			problem(x, K_STRAY, "a record for lead '%s', which no one pushed",
			    id);
	}
	freeReplyObject(r);
}

/* --- the audit trail: replay every assignment and release ------------------ */

static void
audit_cb(struct ctx *x, const char *sid, const redisReply *f)
{
	const char *op = field(f, "op"), *lead = field(f, "lead");
	const char *rep = field(f, "rep"), *open = field(f, "open");
	long long ms = strtoll(sid, NULL, 10), lim_open, lim_period;
	long long a_max = 0, a_period = 0, a_maxp = 0, n, w;
	long ri, i, *v;
	size_t k;

	if (op == NULL || lead == NULL || rep == NULL || open == NULL) {
		problem(x, K_AUDIT, "audit entry %s is malformed", sid);
		return;
	}
	ri = rep_index(x, rep);
	i = item_of_id(x, lead);
	if ((v = smap_put(&x->replay, lead, 0)) == NULL)
		abort();
	if (strcmp(op, "release") == 0) {
		if (*v != ri + 1) {
			problem(x, K_AUDIT, "audit %s releases '%s' from '%s', which did not hold it",
			    sid, lead, rep);
		} else {
			*v = 0;
			x->replay_open[ri]--;
		}
		if (strtoll(open, NULL, 10) != x->replay_open[ri])
			problem(x, K_AUDIT, "audit %s: '%s' has %s open, the replay %ld",
			    sid, rep, open, x->replay_open[ri]);
		return;
	}
	if (strcmp(op, "assign") != 0) {
		problem(x, K_AUDIT, "audit %s has unknown op '%s'", sid, op);
		return;
	}
	if (i < 0)
		problem(x, K_STRAY, "audit %s assigns lead '%s', which no one pushed",
		    sid, lead);
	else
		x->st[i].audit_assigns++;
	if (*v != 0) {
		problem(x, K_DUP, "audit %s assigns '%s' to '%s' while '%s' holds it",
		    sid, lead, rep, x->rep_names[*v - 1]);
		x->replay_open[*v - 1]--;
	}
	*v = ri + 1;
	n = ++x->replay_open[ri];
	/* The rolling window: assignments within the period before ms. */
	if (x->nwin[ri] == x->capwin[ri]) {
		x->capwin[ri] = x->capwin[ri] ? x->capwin[ri] * 2 : 256;
		x->win[ri] = realloc(x->win[ri], x->capwin[ri] *
		    sizeof(long long));
		if (x->win[ri] == NULL)
			abort();
	}
	x->win[ri][x->nwin[ri]++] = ms;
	k = x->winlo[ri];
	while (k < x->nwin[ri] && x->win[ri][k] <= ms - x->s->period_ms)
		k++;
	x->winlo[ri] = k;
	w = (long long)(x->nwin[ri] - k);

	if (field(f, "max_open") != NULL)
		a_max = strtoll(field(f, "max_open"), NULL, 10);
	if (field(f, "period") != NULL)
		a_period = strtoll(field(f, "period"), NULL, 10);
	if (field(f, "max_per_period") != NULL)
		a_maxp = strtoll(field(f, "max_per_period"), NULL, 10);
	if (!rep_limits(x, rep, ms, &lim_open, &lim_period)) {
		lim_open = a_max;	/* not in the spec: its own view */
		lim_period = a_maxp;
	}
	if (n > lim_open)
		problem(x, K_CAP, "audit %s: '%s' got lead '%s' with %lld open, max_open %lld",
		    sid, rep, lead, n, lim_open);
	else if (a_max > 0 && n > a_max)
		problem(x, K_CAP, "audit %s: '%s' got lead '%s' with %lld open, its max_open %lld",
		    sid, rep, lead, n, a_max);
	if (lim_period > 0 && w > lim_period)
		problem(x, K_CAP, "audit %s: '%s' got lead '%s' as assignment %lld of the period, max_per_period %lld",
		    sid, rep, lead, w, lim_period);
	if (a_maxp > 0 && a_period > a_maxp)
		problem(x, K_CAP, "audit %s: '%s' got lead '%s' as assignment %lld of the period, its max_per_period %lld",
		    sid, rep, lead, a_period, a_maxp);
	if (strtoll(open, NULL, 10) != n)
		problem(x, K_AUDIT, "audit %s: '%s' had %s open, the replay %lld",
		    sid, rep, open, n);
}

/* --- alerts ---------------------------------------------------------------- */

/* A capacity_forecast alert: well formed, and counted per segment. */
static void
forecast_alert(struct ctx *x, const char *sid, const json_t *o)
{
	const char *seg = json_string_value(json_object_get(o, "segment"));
	const json_t *room = json_object_get(o, "room");
	const json_t *at = json_object_get(o, "at_ms");
	long *v;

	if (seg == NULL || !json_is_integer(room) ||
	    json_integer_value(room) < 0 || !json_is_integer(at) ||
	    json_integer_value(at) <= 0 ||
	    !json_is_number(json_object_get(o, "mql_per_hour"))) {
		problem(x, K_STRAY, "capacity_forecast alert %s is malformed", sid);
		return;
	}
	x->r->forecasts++;
	if ((v = smap_get(&x->forecasts, seg)) != NULL)
		(*v)++;
	else if (smap_put(&x->forecasts, seg, 1) == NULL)
		x->err = true;
}

/* Once per episode: never more alerts for a segment than episodes began,
 * i.e. those that ended (counted by the script that ends them) + 1. */
static void
check_forecasts(struct ctx *x)
{
	long long ended;

	for (size_t k = 0; k < x->forecasts.cap; k++) {
		if (x->forecasts.keys[k] == NULL)
			continue;
		ended = int_of(x, "HGET %s" KEY_FORECAST " %s|ended", x->P,
		    x->forecasts.keys[k]);
		if (x->forecasts.vals[k] > ended + 1)
			problem(x, K_DOUBLED, "segment '%s': %ld capacity_forecast alerts for %lld episodes",
			    x->forecasts.keys[k], x->forecasts.vals[k], ended + 1);
	}
}

static void
alert_cb(struct ctx *x, const char *sid, const redisReply *f)
{
	const char *a = field(f, "alert");
	json_t *o = a != NULL ? json_loads(a, 0, NULL) : NULL;
	const char *type, *id, *rep;
	long long at, fired;
	char k[512];
	long *v, i;
	struct asg *g;

	type = json_string_value(json_object_get(o, "type"));
	id = json_string_value(json_object_get(o, "lead_id"));
	rep = json_string_value(json_object_get(o, "rep"));
	if (type != NULL && strcmp(type, "capacity_forecast") == 0) {
		forecast_alert(x, sid, o);
		goto out;
	}
	if (type == NULL || id == NULL || rep == NULL) {
		problem(x, K_STRAY, "alert %s is malformed", sid);
		goto out;
	}
	at = json_integer_value(json_object_get(o, "assigned_at_ms"));
	fired = json_integer_value(json_object_get(o, "at_ms"));
	if (strcmp(type, "sla_escalation") == 0) {
		x->r->escalations++;
		if ((i = item_of_id(x, id)) >= 0 && ++x->st[i].escalations > 1)
			problem(x, K_DOUBLED, "lead '%s' escalated %d times",
			    id, x->st[i].escalations);
		goto out;
	}
	snprintf(k, sizeof(k), "%s\1%s\1%lld", id, rep, at);
	if ((v = smap_get(&x->asg_of, k)) == NULL) {
		problem(x, K_DOUBLED, "%s for lead '%s' rep '%s' assigned at %lld matches no assignment",
		    type, id, rep, at);
		goto out;
	}
	g = &x->asgs[*v];
	if (strcmp(type, "sla_breach") == 0) {
		x->r->breaches++;
		if (g->breaches++ == 0)
			g->first_breach_at = fired;
		if (fired < g->due)
			problem(x, K_DOUBLED, "breach of lead '%s' fired at %lld, before its due time %lld",
			    id, fired, g->due);
	} else if (strcmp(type, "sla_warning") == 0) {
		x->r->warnings++;
		g->warnings++;
		if (fired >= g->due)
			problem(x, K_DOUBLED, "warning of lead '%s' fired at %lld, after its due time %lld",
			    id, fired, g->due);
	} else {
		problem(x, K_STRAY, "alert %s has unknown type '%s'", sid, type);
	}
out:
	json_decref(o);
}

/* Did each assignment get exactly the breaches its history calls for? */
static void
check_alerts(struct ctx *x)
{
	for (size_t n = 0; n < x->nasgs; n++) {
		const struct asg *g = &x->asgs[n];
		const struct ist *t = &x->st[g->item];
		const char *id = x->s->items[g->item].id;
		bool current = t->rec && t->assigned_at == g->at &&
		    strcmp(t->rep, x->rep_names[g->rep]) == 0;
		long long acted = 0;

		if (g->breaches > 1)
			problem(x, K_DOUBLED, "lead '%s' (rep '%s') breached %d times",
			    id, x->rep_names[g->rep], g->breaches);
		if (g->warnings > 1)
			problem(x, K_DOUBLED, "lead '%s' (rep '%s') warned %d times",
			    id, x->rep_names[g->rep], g->warnings);
		if (current) {
			const long long times[3] = {t->fu_at, t->closed_at,
			    t->rejected_at};

			for (int k = 0; k < 3; k++)
				if (times[k] > 0 && (acted == 0 || times[k] < acted))
					acted = times[k];
		}
		if (g->due > x->now - DUE_GRACE_MS &&
		    (acted == 0 || acted >= g->due)) {
			x->r->pending_alerts++;
			continue;	/* not due yet, or only just */
		}
		/* A superseded assignment was taken away by its breach. */
		if (acted == 0) {
			if (g->breaches == 0)
				problem(x, K_MISSED, "lead '%s' (rep '%s', due %lld) was not followed up and has no breach",
				    id, x->rep_names[g->rep], g->due);
		} else if (acted < g->due) {
			if (g->breaches > 0)
				problem(x, K_DOUBLED, "lead '%s' was followed up at %lld, before its due time %lld, and still breached",
				    id, acted, g->due);
		} else if (g->breaches == 0 &&
		    acted >= g->due + x->s->race_slack_ms) {
			problem(x, K_MISSED, "lead '%s' was followed up %lld ms after its due time, with no breach in between",
			    id, acted - g->due);
		} else if (g->breaches > 0 && g->first_breach_at > acted) {
			problem(x, K_DOUBLED, "lead '%s' breached at %lld, after its follow-up at %lld",
			    id, g->first_breach_at, acted);
		}
	}
}

/* --- per lead ----------------------------------------------------------------- */


static void
check_record(struct ctx *x, const char *id, const struct ist *t)
{
	int want_inbox = 1 + t->reassign;

	if (strcmp(t->status, "nurture") == 0) {
		x->r->nurture++;
		if (t->nurture_below == 0)
			problem(x, K_LOST, "lead '%s' is nurture but not in the nurture list", id);
		want_inbox = 0;
	} else if (strcmp(t->status, "backlog") == 0) {
		x->r->backlog++;
		if (t->backlog == 0)
			problem(x, K_LOST, "lead '%s' is backlog but in no backlog", id);
		want_inbox = t->reassign;	/* never assigned yet */
	} else if (strcmp(t->status, "assigned") == 0 ||
	    strcmp(t->status, "followed_up") == 0) {
		x->r->assigned++;
		if (t->open_own == 0)
			problem(x, K_LOST, "lead '%s' is %s to '%s' but not in its open set",
			    id, t->status, t->rep);
	} else if (strcmp(t->status, "closed") == 0 ||
	    strcmp(t->status, "rejected") == 0) {
		x->r->closed++;
		if (t->open_own + t->open_other > 0)
			problem(x, K_DUP, "lead '%s' is %s but still open at a rep",
			    id, t->status);
		if (strcmp(t->status, "rejected") == 0 &&
		    t->nurture_rejected != 1)
			problem(x, t->nurture_rejected ? K_DUP : K_LOST,
			    "rejected lead '%s' is %d times in nurture", id,
			    t->nurture_rejected);
	} else {
		problem(x, K_LOST, "lead '%s' has status '%s' (half-written)",
		    id, t->status);
		return;
	}
	if (t->nurture_below > (strcmp(t->status, "nurture") == 0))
		problem(x, K_DUP, "lead '%s' (%s) is %d times in nurture", id,
		    t->status, t->nurture_below);
	if (strcmp(t->status, "rejected") != 0 && t->nurture_rejected > 0)
		problem(x, K_DUP, "lead '%s' (%s) is in nurture as rejected", id,
		    t->status);
	if (t->backlog > (strcmp(t->status, "backlog") == 0))
		problem(x, K_DUP, "lead '%s' (%s) is in %d backlogs", id,
		    t->status, t->backlog);
	if (t->open_other > 0 || t->open_own > 1 ||
	    (t->open_own > 0 && strcmp(t->status, "assigned") != 0 &&
	    strcmp(t->status, "followed_up") != 0))
		problem(x, K_DUP, "lead '%s' (%s, rep '%s') is open at %d reps",
		    id, t->status, t->rep, t->open_own + t->open_other);
	if (t->inbox != want_inbox)
		problem(x, t->inbox > want_inbox ? K_DUP : K_LOST,
		    "lead '%s' (%s, %d moves) is in %d inboxes, not %d", id,
		    t->status, t->reassign, t->inbox, want_inbox);
	if (t->inbox != t->audit_assigns)
		problem(x, K_AUDIT, "lead '%s' is in %d inboxes but the audit trail has %d assignments",
		    id, t->inbox, t->audit_assigns);
}

static void
check_items(struct ctx *x)
{
	for (size_t i = 0; i < x->s->nitems; i++) {
		const struct chk_item *it = &x->s->items[i];
		const struct ist *t = &x->st[i];
		const char *id = it->id != NULL ? it->id : "(no id)";
		int places = (t->rec ? 1 : 0) + t->dead + t->queued;
		char show[300];

		show_payload(show, sizeof(show), it->raw != NULL ? it->raw : id,
		    it->raw != NULL ? it->raw_len : strlen(id));
		if (places == 0) {
			problem(x, K_LOST, "payload %zu '%s' is nowhere", i, show);
			continue;
		}
		if (places > 1)
			problem(x, K_DUP, "payload %zu '%s' is in %d places (record %d, dead %d%s%s, queued %d)",
			    i, show, places, t->rec, t->dead,
			    t->dead ? " " : "", t->dead_reason, t->queued);
		if (expect_refused(it)) {
			if (t->rec)
				problem(x, K_REASON, "payload %zu '%s' was accepted, not refused as %s",
				    i, show, it->expect);
			else if (t->dead > 0 && strcmp(t->dead_reason,
			    it->expect) != 0)
				problem(x, K_REASON, "payload %zu '%s' was refused as %s, not %s",
				    i, show, t->dead_reason, it->expect);
			continue;
		}
		if (it->expect != NULL && strcmp(it->expect, "routed") == 0 &&
		    !t->rec && t->queued == 0)
			problem(x, K_REASON, "payload %zu '%s' was refused as %s, not accepted",
			    i, show, t->dead_reason);
		if (t->rec && it->id != NULL)
			check_record(x, it->id, t);
		if (it->followup != CHK_FU_NONE && t->rec && t->fu_at == 0 &&
		    t->closed_at == 0 && t->rejected_at == 0 &&
		    strcmp(t->status, "backlog") != 0)
			problem(x, K_LOST, "lead '%s' was followed up, but its record does not show it",
			    id);
	}
}

/* --- in flight -------------------------------------------------------------- */

/* Cut suffix off the end of s (length *n); false when s does not end so. */
static bool
cut_suffix(char *s, size_t *n, const char *suffix)
{
	size_t sl = strlen(suffix);

	if (*n <= sl || strcmp(s + *n - sl, suffix) != 0)
		return false;
	s[*n -= sl] = '\0';
	return true;
}

/* The instance of an in-flight key, into out. */
static bool
instance_of(const struct ctx *x, const char *key, char *out, size_t outlen,
    bool *leads)
{
	const char *p = key_part(x, key, KEY_INFLIGHT);
	size_t n;

	if (p == NULL || (n = strlen(p)) >= outlen)
		return false;
	memcpy(out, p, n + 1);
	(void)cut_suffix(out, &n, KEY_TAIL_WAIT);
	*leads = cut_suffix(out, &n, KEY_SEP KEY_INCOMING);
	return *leads || cut_suffix(out, &n, KEY_SEP KEY_EVENTS);
}

static void
check_inflight(struct ctx *x)
{
	redisReply *r = keys(x, KEY_INFLIGHT "*");
	char inst[256];
	const char *key;
	bool leads;
	long long lease;

	if (r == NULL)
		return;
	for (size_t k = 0; k < r->elements; k++) {
		key = r->element[k]->str;
		if (!instance_of(x, key, inst, sizeof(inst), &leads)) {
			problem(x, K_STRAY, "'%s' is not an in-flight key", key);
			continue;
		}
		lease = int_of(x, "ZSCORE %s" KEY_INSTANCES " %s", x->P, inst);
		if (lease < x->now)
			problem(x, K_STALE, "'%s' is left by instance '%s', %s",
			    key, inst, lease ? "whose lease ran out" :
			    "which is not registered");
		if (!leads)
			continue;
		if (strlen(key) > strlen(KEY_TAIL_WAIT) &&
		    strcmp(key + strlen(key) - strlen(KEY_TAIL_WAIT),
		    KEY_TAIL_WAIT) == 0)
			each_list(x, key, queued_cb);
		else
			each_hash_value(x, key, queued_cb);
	}
	freeReplyObject(r);
}

static bool
quiet(struct ctx *x)
{
	long long now = redis_now(x);
	redisReply *r;
	bool q;

	q = int_of(x, "LLEN %s" KEY_INCOMING, x->P) == 0 &&
	    int_of(x, "LLEN %s" KEY_EVENTS, x->P) == 0;
	if (q && (r = keys(x, KEY_INFLIGHT "*")) != NULL) {
		q = r->elements == 0;
		freeReplyObject(r);
	}
	if (q && (r = cmd(x, "ZCOUNT %s" KEY_SLA_DUE " -inf %lld", x->P,
	    now - 250)) != NULL) {
		q = r->integer == 0;
		freeReplyObject(r);
	}
	if (q && (r = cmd(x, "ZCOUNT %s" KEY_SLA_WARN " -inf %lld", x->P,
	    now - 250)) != NULL) {
		q = r->integer == 0;
		freeReplyObject(r);
	}
	return q && !x->err;
}

/* --- the run ------------------------------------------------------------------ */

static void
index_items(struct ctx *x)
{
	for (size_t i = 0; i < x->s->nitems; i++) {
		const struct chk_item *it = &x->s->items[i];
		/* A refused payload known by its bytes: its id is no lead's. */
		struct smap *m = it->raw != NULL && expect_refused(it) ?
		    &x->refused_ids : &x->ids;

		if (it->id != NULL && smap_put(m, it->id, (long)i) == NULL)
			abort();
	}
}

static void
read_all(struct ctx *x)
{
	char key[256];
	redisReply *r;

	snprintf(key, sizeof(key), "%s" KEY_INCOMING, x->P);
	each_list(x, key, queued_cb);
	check_inflight(x);
	snprintf(key, sizeof(key), "%s" KEY_DEAD, x->P);
	each_list(x, key, dead_cb);
	read_records(x);
	stray_records(x);
	snprintf(key, sizeof(key), "%s" KEY_NURTURE, x->P);
	each_list(x, key, nurture_cb);
	if ((r = keys(x, KEY_BACKLOG "*")) != NULL) {
		for (size_t k = 0; k < r->elements; k++)
			each_member(x, r->element[k]->str, true, backlog_cb);
		freeReplyObject(r);
	}
	/* History first: the open sets are compared with its replay. */
	snprintf(key, sizeof(key), "%s" KEY_AUDIT, x->P);
	each_stream(x, key, audit_cb);
	if ((r = keys(x, KEY_REP "*" KEY_TAIL_OPEN)) != NULL) {
		for (size_t k = 0; k < r->elements; k++) {
			char rep[128];

			if (rep_of_key(x, r->element[k]->str, KEY_TAIL_OPEN, rep,
			    sizeof(rep)) && !rep_known(x, rep))
				problem(x, K_STRAY, "'%s' is not a rep's key",
				    r->element[k]->str);
			each_member(x, r->element[k]->str, false, open_cb);
		}
		freeReplyObject(r);
	}
	/* What the replay holds open must be open in Redis too. */
	for (size_t k = 0; k < x->replay.cap; k++) {
		char okey[512];
		redisReply *m;

		if (x->replay.keys[k] == NULL || x->replay.vals[k] == 0)
			continue;
		snprintf(okey, sizeof(okey), "%s" KEY_REP "%s" KEY_TAIL_OPEN, x->P,
		    x->rep_names[x->replay.vals[k] - 1]);
		if ((m = cmd(x, "SISMEMBER %s %s", okey,
		    x->replay.keys[k])) == NULL)
			break;
		if (m->integer == 0)
			problem(x, K_AUDIT, "the audit trail leaves '%s' open at '%s', Redis does not",
			    x->replay.keys[k], x->rep_names[x->replay.vals[k] - 1]);
		freeReplyObject(m);
	}
	if ((r = keys(x, KEY_REP "*" KEY_TAIL_INBOX)) != NULL) {
		for (size_t k = 0; k < r->elements; k++) {
			char rep[128];

			if (rep_of_key(x, r->element[k]->str, KEY_TAIL_INBOX, rep,
			    sizeof(rep)) && !rep_known(x, rep))
				problem(x, K_STRAY, "'%s' is not a rep's key",
				    r->element[k]->str);
			each_list(x, r->element[k]->str, inbox_cb);
		}
		freeReplyObject(r);
	}
	snprintf(key, sizeof(key), "%s" KEY_ALERTS_LOG, x->P);
	each_stream(x, key, alert_cb);
	check_forecasts(x);
	x->r->fenced = int_of(x, "HGET %s" KEY_STATS " fenced", x->P);
}

static void
glob_escape(char *out, size_t len, const char *s)
{
	size_t j = 0;

	for (; *s != '\0' && j + 2 < len; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			out[j++] = '\\';
		out[j++] = *s;
	}
	out[j] = '\0';
}

int
chk_run(redisContext *c, const struct chk_spec *spec, struct chk_result *res)
{
	struct chk_spec s = *spec;
	struct ctx x;
	long long until;

	if (s.prefix == NULL)
		s.prefix = "lr:";
	if (s.period_ms <= 0)
		s.period_ms = 604800000LL;
	if (s.settle_ms <= 0)
		s.settle_ms = 30000;
	if (s.race_slack_ms <= 0)
		s.race_slack_ms = 1000;
	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.s = &s;
	x.r = res;
	snprintf(x.P, sizeof(x.P), "%s", s.prefix);
	glob_escape(x.Pglob, sizeof(x.Pglob), s.prefix);
	res->pushed = (long)s.nitems;
	if ((x.st = calloc(s.nitems ? s.nitems : 1, sizeof(*x.st))) == NULL)
		return -1;
	index_items(&x);

	until = mono_ms() + s.settle_ms;
	while (!(res->settled = quiet(&x)) && !x.err && mono_ms() < until)
		sleep_ms(50);
	if (!res->settled)
		fprintf(stderr, "checker: not quiet after %lld ms: checking anyway\n",
		    s.settle_ms);
	x.now = redis_now(&x);
	if (!x.err)
		read_all(&x);
	if (!x.err) {
		check_items(&x);
		check_alerts(&x);
	}

	smap_free(&x.ids);
	smap_free(&x.refused_ids);
	smap_free(&x.reps);
	smap_free(&x.replay);
	smap_free(&x.asg_of);
	smap_free(&x.forecasts);
	for (size_t i = 0; i < x.nreps; i++) {
		free(x.rep_names[i]);
		free(x.win[i]);
	}
	free(x.rep_names);
	free(x.replay_open);
	free(x.win);
	free(x.nwin);
	free(x.capwin);
	free(x.winlo);
	free(x.asgs);
	free(x.st);
	return x.err ? -1 : 0;
}

bool
chk_clean(const struct chk_result *r)
{
	return r->lost == 0 && r->duplicated == 0 &&
	    r->capacity_violations == 0 && r->alerts_missed == 0 &&
	    r->alerts_doubled == 0 && r->stale_inflight == 0 &&
	    r->strays == 0 && r->wrong_reason == 0 && r->audit_mismatch == 0;
}

void
chk_print(FILE *f, const char *name, const struct chk_result *r)
{
	fprintf(f, "checker %s: pushed=%ld lost=%ld duplicated=%ld "
	    "over_capacity=%ld alerts_missed=%ld alerts_doubled=%ld "
	    "stale_inflight=%ld strays=%ld wrong_reason=%ld audit_mismatch=%ld"
	    " | assigned=%ld backlog=%ld nurture=%ld closed=%ld dead=%ld "
	    "queued=%ld poison=%ld assignments=%ld breaches=%ld warnings=%ld "
	    "escalations=%ld forecasts=%ld pending_alerts=%ld fenced=%lld "
	    "settled=%d\n",
	    name, r->pushed, r->lost, r->duplicated, r->capacity_violations,
	    r->alerts_missed, r->alerts_doubled, r->stale_inflight, r->strays,
	    r->wrong_reason, r->audit_mismatch, r->assigned, r->backlog,
	    r->nurture, r->closed, r->dead, r->queued, r->poison,
	    r->assignments, r->breaches, r->warnings, r->escalations,
	    r->forecasts, r->pending_alerts, r->fenced, r->settled);
}
