/*
 * sentinel.h - ask Redis Sentinels which server is the primary of a
 * master name (README "High availability").
 *
 * The one place that speaks to sentinels: `SENTINEL
 * get-master-addr-by-name`, each sentinel in turn, with a short connect
 * and reply timeout each (blocking hiredis; the daemon's connections call
 * it only when they connect, leadctl once). It does not check the role of
 * the server it names: the caller's connection does that (ROLE) and asks
 * again when it is not a primary. It never logs.
 */
#ifndef LR_SENTINEL_H
#define LR_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>

/* Connect and reply timeout for each sentinel asked. */
#define SENTINEL_TIMEOUT_MS 300

/* Which sentinels, for which master, with which credentials. */
struct sentinel_set {
	char **hosts;
	int *ports;
	size_t n;		/* 0: no sentinels */
	char *master_name;
	char *username;		/* "": AUTH password alone */
	char *password;		/* "": no AUTH */
	size_t next;		/* the sentinel asked first next time */
};

/*
 * A deep copy of n sentinels and the rest into s (s->next = 0). 0, or -1
 * on ENOMEM (s is then empty).
 */
int sentinel_set_init(struct sentinel_set *s, char *const *hosts,
    const int *ports, size_t n, const char *master_name,
    const char *username, const char *password);
void sentinel_set_clear(struct sentinel_set *s);

/*
 * Ask the sentinels in turn, from s->next on, for the primary's address:
 * 0 with host (hostlen bytes) and *port set, and s->next at the sentinel
 * that answered; -1 with err (errlen bytes) saying what each said when
 * none knows a primary.
 */
int sentinel_ask(struct sentinel_set *s, char *host, size_t hostlen,
    int *port, char *err, size_t errlen);

#endif
