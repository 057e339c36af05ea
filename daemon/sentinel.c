/* sentinel.c - ask Redis Sentinels, in turn, for the address of the primary of a master name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "sentinel.h"

int
sentinel_set_init(struct sentinel_set *s, char *const *hosts, const int *ports,
    size_t n, const char *master_name, const char *username,
    const char *password)
{
	memset(s, 0, sizeof(*s));
	s->master_name = strdup(master_name != NULL ? master_name : "");
	s->username = strdup(username != NULL ? username : "");
	s->password = strdup(password != NULL ? password : "");
	if (n > 0) {
		s->hosts = calloc(n, sizeof(*s->hosts));
		s->ports = calloc(n, sizeof(*s->ports));
	}
	if (s->master_name == NULL || s->username == NULL ||
	    s->password == NULL || (n > 0 && (s->hosts == NULL ||
	    s->ports == NULL)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if ((s->hosts[i] = strdup(hosts[i])) == NULL)
			goto fail;
		s->ports[i] = ports[i];
		s->n++;
	}
	return 0;
fail:
	s->n = n;	/* hosts[] is zeroed past those copied */
	sentinel_set_clear(s);
	return -1;
}

void
sentinel_set_clear(struct sentinel_set *s)
{
	for (size_t i = 0; i < s->n && s->hosts != NULL; i++)
		free(s->hosts[i]);
	free(s->hosts);
	free(s->ports);
	free(s->master_name);
	free(s->username);
	free(s->password);
	memset(s, 0, sizeof(*s));
}

/* One sentinel: 0 with the address, or -1 with why in err. */
static int
ask_one(const struct sentinel_set *s, size_t i, char *host, size_t hostlen,
    int *port, char *err, size_t errlen)
{
	struct timeval tv = {SENTINEL_TIMEOUT_MS / 1000,
	    (SENTINEL_TIMEOUT_MS % 1000) * 1000};
	redisContext *rc;
	redisReply *r = NULL;
	int rc_ok = -1;

	rc = redisConnectWithTimeout(s->hosts[i], s->ports[i], tv);
	if (rc == NULL || rc->err != 0) {
		snprintf(err, errlen, "%s", rc != NULL ? rc->errstr :
		    "out of memory");
		goto out;
	}
	if (redisSetTimeout(rc, tv) != REDIS_OK) {
		snprintf(err, errlen, "%s", rc->errstr);
		goto out;
	}
	if (s->password[0] != '\0') {
		if (s->username[0] != '\0')
			r = redisCommand(rc, "AUTH %s %s", s->username,
			    s->password);
		else
			r = redisCommand(rc, "AUTH %s", s->password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "AUTH: %s", r != NULL ? r->str :
			    rc->errstr);
			goto out;
		}
		freeReplyObject(r);
	}
	r = redisCommand(rc, "SENTINEL get-master-addr-by-name %s",
	    s->master_name);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "%s", r != NULL ? r->str : rc->errstr);
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		snprintf(err, errlen, "knows no master named '%s'",
		    s->master_name);
		goto out;
	}
	*port = atoi(r->element[1]->str);
	if (*port < 1 || *port > 65535 || r->element[0]->len == 0 ||
	    r->element[0]->len >= hostlen) {
		snprintf(err, errlen, "named a bad address");
		goto out;
	}
	memcpy(host, r->element[0]->str, r->element[0]->len + 1);
	rc_ok = 0;
out:
	freeReplyObject(r);
	redisFree(rc);
	return rc_ok;
}

int
sentinel_ask(struct sentinel_set *s, char *host, size_t hostlen, int *port,
    char *err, size_t errlen)
{
	char one[160];
	size_t used = 0, i;
	int n;

	if (errlen > 0)
		err[0] = '\0';
	for (size_t k = 0; k < s->n; k++) {
		i = (s->next + k) % s->n;
		if (ask_one(s, i, host, hostlen, port, one, sizeof(one)) == 0) {
			s->next = i;
			return 0;
		}
		n = snprintf(err + used, errlen - used, "%ssentinel %s:%d: %s",
		    k > 0 ? "; " : "no primary known: ", s->hosts[i],
		    s->ports[i], one);
		if (n < 0 || (size_t)n >= errlen - used)
			break;
		used += (size_t)n;
	}
	/* The next attempt starts at the next sentinel. */
	if (s->n > 0)
		s->next = (s->next + 1) % s->n;
	return -1;
}
