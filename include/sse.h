/*
 * sse.h - GET /v1/alerts/stream (README "Read API"): Server-Sent Events
 * from the durable alert stream (keys.h's ALERTS_LOG), each alert as
 * "id: <stream entry id>", "event: <type>", "data: <alert json>".
 *
 * One blocking XREAD, on a Redis connection of its own opened with the
 * first client, fans out to every client. A client that sends
 * Last-Event-ID (or ?after=ID) first reads what it missed (XRANGE on the
 * command connection, SSE_BATCH at a time), then follows live; each entry
 * reaches a client once. A Redis restart is resumed from the last entry
 * the shared read saw. At most SSE_CLIENTS clients (503 above); a comment
 * every SSE_HEARTBEAT_S; a client with more than SSE_BACKLOG bytes unsent
 * is ended (it reconnects and resumes at its own pace).
 */
#ifndef LR_SSE_H
#define LR_SSE_H

#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/hiredis.h>

#include "rds.h"

#define SSE_CLIENTS	200		/* clients at once */
#define SSE_HEARTBEAT_S	15
#define SSE_BLOCK_MS	5000		/* the shared XREAD's BLOCK */
#define SSE_BATCH	100		/* entries per XREAD or XRANGE */
#define SSE_BACKLOG	(1L << 20)

struct sse;

/*
 * The stream of the alert log key on base: its own connection from ropts
 * (kept by the caller, like cmd, for as long as the stream lives), its
 * catch-up reads on cmd. NULL on ENOMEM.
 */
struct sse *sse_new(struct event_base *base, const struct rds_opts *ropts,
    struct rds_conn *cmd, const char *key);
/* Answer a GET or HEAD of the stream: 200 and events, or 503 when full. */
void sse_serve(struct sse *s, struct evhttp_request *req);
/* The clients connected now. */
unsigned sse_clients(const struct sse *s);
/*
 * NULL is fine. Call after the HTTP server (its connections) and cmd are
 * gone: their callbacks may still reach the stream.
 */
void sse_free(struct sse *s);

/* A stream entry [id, [field, value...]]: its "alert" value and *id, or
 * NULL when the entry is not shaped so. */
const char *sse_entry_alert(const redisReply *e, const char **id);

#endif
