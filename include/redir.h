/*
 * redir.h - read where a Redis server or Sentinel sends us: a cluster's
 * MOVED / ASK / TRYAGAIN / CLUSTERDOWN error, and a Sentinel's
 * +switch-master message (README "High availability"). Pure: no I/O, no
 * logs; the text may be anything a peer sent.
 */
#ifndef LR_REDIR_H
#define LR_REDIR_H

#include <stddef.h>

/* The longest host name either names (longer is refused). */
#define REDIR_HOST_MAX 255

enum redir_kind {
	REDIR_NONE,		/* not a redirect */
	REDIR_MOVED,		/* "MOVED slot host:port": the slot lives there */
	REDIR_ASK,		/* "ASK slot host:port": being migrated there */
	REDIR_TRYAGAIN,		/* "TRYAGAIN ...": a multi-key call mid-migration */
	REDIR_CLUSTERDOWN,	/* "CLUSTERDOWN ...": the cluster cannot serve */
};

/*
 * The kind of error text err (len bytes, no NUL needed). For MOVED and
 * ASK, host (REDIR_HOST_MAX + 1 bytes) and *port get the node; one whose
 * address is malformed ("MOVED 1 nohost", a port outside 1-65535, a host
 * too long or empty) is REDIR_NONE.
 */
enum redir_kind redir_parse(const char *err, size_t len, char *host,
    int *port);

/*
 * A +switch-master message, "NAME OLDHOST OLDPORT NEWHOST NEWPORT": 0 with
 * the new primary in host (REDIR_HOST_MAX + 1 bytes) and *port when it is
 * about master name, -1 for another master or a malformed message.
 */
int redir_switch_master(const char *msg, size_t len, const char *name,
    char *host, int *port);

#endif
