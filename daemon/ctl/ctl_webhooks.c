/* ctl_webhooks.c - leadctl webhooks: endpoints with pending and dead deliveries and their last answer; redeliver an endpoint's dead deliveries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_webhooks.h"
#include "keys.h"

static const struct webhook_cfg *
find(const struct lr_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nwebhooks; i++)
		if (strcmp(cfg->webhooks[i].name, name) == 0)
			return &cfg->webhooks[i];
	return NULL;
}

/* The dead list, newest first (the caller frees it); NULL on error. */
static redisReply *
dead_list(struct ctl *ctl)
{
	return ctl_cmd(ctl, "LRANGE %s" KEY_WEBHOOKS_DEAD " 0 %d", ctl->prefix,
	    CTL_WH_DEAD_SCAN - 1);
}

/* The dead entry r (a string reply) parsed, when it is of endpoint name. */
static json_t *
dead_entry(const redisReply *r, const char *name)
{
	json_t *o;

	if (r->type != REDIS_REPLY_STRING ||
	    (o = json_loadb(r->str, r->len, 0, NULL)) == NULL)
		return NULL;
	if (strcmp(ctl_jstr(o, "endpoint", ""), name) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static long long
count_dead(const redisReply *dead, const char *name)
{
	long long n = 0;
	json_t *o;

	for (size_t i = 0; i < dead->elements; i++)
		if ((o = dead_entry(dead->element[i], name)) != NULL) {
			n++;
			json_decref(o);
		}
	return n;
}

int
ctl_webhooks(struct ctl *ctl)
{
	const struct lr_config *cfg = ctl->cfg;
	redisReply *dead, *st = NULL, *due = NULL;
	json_t *out = NULL, *e;
	char t1[CTL_TIME_MAX], t2[CTL_TIME_MAX];
	const char *p = ctl->prefix, *name, *err;
	long long pending, ndead, ok_ms, err_ms;

	if (ctl_connect(ctl) == -1)
		return ctl_fail(ctl);
	if ((dead = dead_list(ctl)) == NULL)
		return ctl_fail(ctl);
	if (ctl->json)
		out = json_array();
	else if (cfg->nwebhooks == 0)
		printf("no webhooks configured\n");
	else
		printf("%-20s %-8s %8s %6s  %-24s  %s\n", "endpoint", "format",
		    "pending", "dead", "last ok", "last error");
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		name = cfg->webhooks[i].name;
		if ((due = ctl_cmd(ctl, "ZCARD %s" KEY_WEBHOOK "%s" KEY_TAIL_DUE,
		    p, name)) == NULL ||
		    (st = ctl_cmd(ctl, "HGETALL %s" KEY_WEBHOOK "%s", p,
		    name)) == NULL)
			goto fail;
		pending = due->integer;
		ndead = count_dead(dead, name);
		ok_ms = ctl_hash_ll(st, "last_ok_ms", -1);
		err_ms = ctl_hash_ll(st, "last_error_ms", -1);
		err = ctl_hash_get(st, "last_error");
		if (out != NULL) {
			e = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o}",
			    "endpoint", name, "format",
			    cfg->webhooks[i].format == WH_FORMAT_SLACK ? "slack" :
			    "standard", "pending", (json_int_t)pending, "dead",
			    (json_int_t)ndead, "last_status",
			    ctl_json_ll_or_null(ctl_hash_ll(st, "last_status", -1)),
			    "last_error", err_ms >= 0 && err != NULL ?
			    json_string(err) : json_null(),
			    "last_error_at", ctl_json_time(err_ms),
			    "last_ok_at", ctl_json_time(ok_ms));
			if (e == NULL || json_array_append_new(out, e) == -1) {
				ctl_seterr(ctl, "out of memory");
				goto fail;
			}
		} else
			printf("%-20s %-8s %8lld %6lld  %-24s  %s%s%s\n", name,
			    cfg->webhooks[i].format == WH_FORMAT_SLACK ? "slack" :
			    "standard", pending, ndead,
			    ok_ms >= 0 ? ctl_fmt_time(ok_ms, t1, sizeof(t1)) : "-",
			    err_ms >= 0 ? ctl_fmt_time(err_ms, t2, sizeof(t2)) : "-",
			    err_ms >= 0 && err != NULL ? " " : "",
			    err_ms >= 0 && err != NULL ? err : "");
		freeReplyObject(due);
		freeReplyObject(st);
		due = st = NULL;
	}
	freeReplyObject(dead);
	if (out != NULL && ctl_print_json(out) == -1)
		return CTL_ERR;
	return CTL_OK;
fail:
	freeReplyObject(due);
	freeReplyObject(st);
	freeReplyObject(dead);
	json_decref(out);
	return ctl_fail(ctl);
}

/* Requeue one dead delivery (entry as listed, o parsed): 1, 0 when it is
 * pending already, -1 on error. */
static int
requeue(struct ctl *ctl, const char *name, const redisReply *entry,
    const json_t *o, long long now)
{
	const char *p = ctl->prefix, *id = ctl_jstr(o, "webhook_id", NULL);
	const char *body = ctl_jstr(o, "body", NULL);
	redisReply *r;
	long long have;

	if (id == NULL || body == NULL || body[0] == '\0')
		return 0;
	if ((r = ctl_cmd(ctl, "HEXISTS %s" KEY_WEBHOOK "%s" KEY_TAIL_BODIES
	    " %s", p, name, id)) == NULL)
		return -1;
	have = r->integer;
	freeReplyObject(r);
	if (have)
		return 0;
	if ((r = ctl_cmd(ctl, "MULTI")) == NULL)
		return -1;
	freeReplyObject(r);
	redisAppendCommand(ctl->rc, "HSET %s" KEY_WEBHOOK "%s" KEY_TAIL_BODIES
	    " %s %s", p, name, id, body);
	redisAppendCommand(ctl->rc, "HDEL %s" KEY_WEBHOOK "%s" KEY_TAIL_TRIES
	    " %s", p, name, id);
	redisAppendCommand(ctl->rc, "HSET %s" KEY_WEBHOOK "%s"
	    KEY_TAIL_REDELIVER " %s %b", p, name, id, entry->str, entry->len);
	redisAppendCommand(ctl->rc, "ZADD %s" KEY_WEBHOOK "%s" KEY_TAIL_DUE
	    " %lld %s", p, name, now, id);
	redisAppendCommand(ctl->rc, "EXEC");
	for (int i = 0; i < 4; i++) {
		if ((r = ctl_get_reply(ctl, "MULTI")) == NULL)
			return -1;
		freeReplyObject(r);
	}
	if ((r = ctl_get_reply(ctl, "EXEC")) == NULL)
		return -1;
	freeReplyObject(r);
	return 1;
}

int
ctl_webhooks_redeliver(struct ctl *ctl, const char *name)
{
	redisReply *dead;
	json_t *o;
	long long now, n = 0;
	int rc;

	if (find(ctl->cfg, name) == NULL) {
		ctl_seterr(ctl, "no webhook endpoint '%s' in the configuration",
		    name);
		return ctl_fail(ctl);
	}
	if (ctl_connect(ctl) == -1 || ctl_redis_now(ctl, &now) == -1 ||
	    (dead = dead_list(ctl)) == NULL)
		return ctl_fail(ctl);
	for (size_t i = 0; i < dead->elements; i++) {
		if ((o = dead_entry(dead->element[i], name)) == NULL)
			continue;
		rc = requeue(ctl, name, dead->element[i], o, now);
		json_decref(o);
		if (rc == -1) {
			freeReplyObject(dead);
			return ctl_fail(ctl);
		}
		n += rc;
	}
	freeReplyObject(dead);
	if (ctl->json)
		return ctl_print_json(json_pack("{s:s, s:I}", "endpoint", name,
		    "requeued", (json_int_t)n)) == -1 ? CTL_ERR : CTL_OK;
	printf("%lld dead deliveries of '%s' requeued; each leaves %s"
	    KEY_WEBHOOKS_DEAD " once delivered\n", n, name, ctl->prefix);
	return CTL_OK;
}
