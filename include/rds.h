/*
 * rds.h - the one module that owns hiredis connections.
 *
 * A connection (struct rds_conn) connects asynchronously on the daemon's
 * libevent base, authenticates, selects its database, and keeps itself up:
 * a connect timeout, a watchdog on the oldest outstanding reply, and
 * reconnection with capped, jittered exponential backoff, all driven by
 * evtimers (never from inside a hiredis callback). Blocking commands need
 * a connection of their own.
 *
 * With sentinels (struct rds_opts), every connect asks them for the
 * primary first (sentinel.h), so a lost connection, a READONLY reply or a
 * server whose ROLE is not master leads to the primary the sentinels name
 * now; the backoff is capped lower (RDS_SENTINEL_BACKOFF_MAX_MS) to follow
 * a failover quickly.
 *
 * In cluster mode (every key of the caller in one slot), a MOVED reply
 * makes the connection reconnect to the node it names; ASK, TRYAGAIN or
 * CLUSTERDOWN (the slot being migrated, or the cluster failing over) drop
 * the connection and reconnect after the backoff, to the same node, so
 * that no script runs while its slot is split between two nodes; a lost
 * connection goes back to the seed node. The command that drew the
 * redirect was not run; its callback gets NULL, as for a lost connection.
 *
 * Every command has a callback. It is called exactly once: with the reply,
 * or with NULL when the connection was lost or dropped before the reply
 * came. A reply is valid only inside its callback.
 */
#ifndef LR_RDS_H
#define LR_RDS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "sentinel.h"

/* Defaults of struct rds_opts: connect timeout, and the reply watchdog. */
#define RDS_CONNECT_TIMEOUT_MS 3000
#define RDS_REPLY_TIMEOUT_MS 10000
/* Reconnection backoff: doubles from min to max, with +-25% jitter. */
#define RDS_BACKOFF_MIN_MS 100
#define RDS_BACKOFF_MAX_MS 5000
#define RDS_SENTINEL_BACKOFF_MAX_MS 1000
/* How often the connect timeout and the reply watchdog are checked. */
#define RDS_WATCHDOG_TICK_MS 250

struct rds_conn;

/* Where Redis is and how to reach it; strings are copied. */
struct rds_opts {
	const char *host;
	int port;
	const char *unix_socket;	/* "" or NULL: use host and port */
	const char *username;		/* "" or NULL: AUTH password alone */
	const char *password;		/* "" or NULL: no AUTH */
	/* Sentinels to ask for the primary (copied); NULL or none: use
	 * host and port (or unix_socket). */
	const struct sentinel_set *sentinels;
	/* Redis Cluster: host and port are a seed node; see rds_new. */
	bool cluster;
	int db;
	long connect_timeout_ms;	/* 0: RDS_CONNECT_TIMEOUT_MS */
	long reply_timeout_ms;		/* per command; 0: RDS_REPLY_TIMEOUT_MS */
};

typedef void rds_reply_cb(struct rds_conn *c, redisReply *reply, void *arg);
/* up: the connection is ready (true) or was lost (false). */
typedef void rds_state_cb(struct rds_conn *c, bool up, void *arg);

/* A Lua script: the body, and its SHA1 once Redis has told it. */
struct rds_script {
	const char *body;
	size_t len;
	char sha[41];
};

/*
 * Where a caller's script calls go: the connection, the script and the
 * one key of every call. The caller keeps all three alive.
 */
struct rds_target {
	struct rds_conn *conn;
	struct rds_script *script;
	const char *key;
};

/*
 * An argument vector that owns copies of its arguments, so that a script
 * call can be sent again (EVAL after NOSCRIPT) after the caller's buffers
 * are gone. The copies are packed into a few blocks (a commit holds
 * thousands of arguments: one malloc each cost more than the rest of
 * building it); argv[i] stays where it is until rds_argv_clear.
 */
struct rds_argv_block;
struct rds_argv {
	int argc;
	char **argv;
	size_t *lens;
	int cap;
	struct rds_argv_block *blocks;	/* the first has the room left */
};

/* Create a connection named name (for logs); it connects on rds_start. */
struct rds_conn *rds_new(struct event_base *base, const struct rds_opts *o,
    const char *name, rds_state_cb *state_cb, void *arg);
/* Start connecting; reconnect on loss until rds_stop. */
void rds_start(struct rds_conn *c);
/* Disconnect for good; pending callbacks get NULL. */
void rds_stop(struct rds_conn *c);
/* Drop the connection now (callbacks get NULL) and reconnect after backoff. */
void rds_drop(struct rds_conn *c, const char *why);
/* rds_stop then free. NULL is fine. */
void rds_free(struct rds_conn *c);

bool rds_up(const struct rds_conn *c);
/* Connections established since start, minus the first. */
unsigned long rds_reconnects(const struct rds_conn *c);
/* The last connection error ("connection refused"), or "". */
const char *rds_last_error(const struct rds_conn *c);

/*
 * Send a command. timeout_ms > 0 overrides the watchdog for this command
 * (a blocking command's own timeout plus a margin). Returns 0, or -1 when
 * the connection is not up (cb is then not called).
 */
int rds_command(struct rds_conn *c, rds_reply_cb *cb, void *arg,
    long timeout_ms, int argc, const char **argv, const size_t *lens);
int rds_commandf(struct rds_conn *c, rds_reply_cb *cb, void *arg,
    const char *fmt, ...);

/*
 * WAIT replicas timeout_ms on c (redis.replica_acks, CONTRACT section 13):
 * until that many replicas have everything c wrote, for timeout_ms at
 * most. A WAIT blocks its connection meanwhile: what must not wait (the
 * lease's heartbeat) has a connection of its own. One WAIT is in the air
 * per connection: callers that ask meanwhile are answered by the next,
 * sent when it answers (it covers everything written before it), so
 * WAITs never queue behind each other past their reply deadline. cb gets
 * the reply (an integer: the replicas that acknowledged), NULL when the
 * connection was lost. 0, or -1 when it could not be sent (cb is then not
 * called).
 */
int rds_wait(struct rds_conn *c, int replicas, long long timeout_ms,
    rds_reply_cb *cb, void *arg);
/*
 * Send INCR key before each WAIT of c: a connection that writes nothing
 * else then waits for what every connection wrote before the INCR (one
 * replication stream orders it after them), so the one that wrote need
 * not block itself. The caller asks once the write's reply came, and
 * key must be in the writes' cluster slot. The WAIT goes once the INCR
 * has run; one Redis refuses (out of memory, ACLs) did not, and no WAIT
 * is sent: its callers hear NULL, as when the connection is lost. 0, or
 * -1 out of memory.
 */
int rds_wait_mark(struct rds_conn *c, const char *key);
/* Are a and b both up, on one server (host and port, or socket)? */
bool rds_same_server(const struct rds_conn *a, const struct rds_conn *b);
/* Redis Cluster: reconnect c (up elsewhere) to the node to is up on. */
void rds_join(struct rds_conn *c, const struct rds_conn *to);

/*
 * Run script with one key and args (which must stay alive until cb runs):
 * EVALSHA when the SHA is known, EVAL otherwise, and EVAL again when Redis
 * answers NOSCRIPT (after SCRIPT FLUSH or a restart), so the caller only
 * ever sees the script's own reply.
 */
int rds_script(struct rds_conn *c, struct rds_script *s, const char *key,
    const struct rds_argv *args, rds_reply_cb *cb, void *arg);
/* SCRIPT LOAD s; its SHA is stored when the reply comes. */
int rds_script_load(struct rds_conn *c, struct rds_script *s);

void rds_argv_init(struct rds_argv *a);
/* Append a copy of len bytes; -1 on ENOMEM. */
int rds_argv_add(struct rds_argv *a, const char *buf, size_t len);
int rds_argv_adds(struct rds_argv *a, const char *s);
int rds_argv_addll(struct rds_argv *a, long long v);
/*
 * Start a script call's arguments (wire.h's WIRE_SCRIPT): the operation
 * (WIRE_OP_*), then the key prefix. 0, or -1 on ENOMEM.
 */
int rds_argv_call(struct rds_argv *a, const char *op, const char *prefix);
void rds_argv_clear(struct rds_argv *a);

/*
 * SUBSCRIBE to channel: cb gets the confirmation and then every message
 * (a RESP2 array "message", channel, payload) for as long as this
 * connection lasts; never NULL (rds_state_cb tells the loss). The
 * connection takes no other command after it, and the reply watchdog no
 * longer applies (TCP keepalive is on instead). Subscribe again after
 * each reconnection. 0, or -1 when the connection is not up.
 */
int rds_subscribe(struct rds_conn *c, const char *channel, rds_reply_cb *cb,
    void *arg);

/* The monotonic clock of the connections' deadlines, in ms. */
long long rds_mono_ms(void);

/* An error reply's text starts with prefix ("NOSCRIPT", "FENCED")? */
bool rds_is_error(const redisReply *r, const char *prefix);


/*
 * A watch on the sentinels' +switch-master (README "High availability"):
 * one subscriber connection, to each sentinel in turn (the next one when
 * it is lost or does not connect within RDS_CONNECT_TIMEOUT_MS), that
 * calls cb with the new primary's address whenever the sentinels switch
 * the primary of their master name. A watch with no sentinels does
 * nothing. strings and sentinels are copied.
 */
struct rds_watch;
typedef void rds_switch_cb(const char *host, int port, void *arg);

struct rds_watch *rds_watch_new(struct event_base *base,
    const struct sentinel_set *sentinels, rds_switch_cb *cb, void *arg);
void rds_watch_start(struct rds_watch *w);
/* Stop and free; NULL is fine. */
void rds_watch_free(struct rds_watch *w);

/*
 * The sentinels switched the primary to host:port: a connection that uses
 * sentinels and is (or is getting) connected elsewhere drops now and asks
 * them again at once, without backoff. Others are left alone.
 */
void rds_follow(struct rds_conn *c, const char *host, int port);

#endif
