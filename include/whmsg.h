/*
 * whmsg.h - the pure decisions of webhook delivery (README "Webhooks",
 * contract section 10): the event types, the secret, the signature of
 * Standard Webhooks 1.0, the Slack line, what an answer means and how long
 * to wait before the next attempt. No I/O, no logging: the daemon's
 * webhook.c sends, the configuration loader checks, tests call these
 * directly. Crypto and base64 are OpenSSL's.
 */
#ifndef LR_WHMSG_H
#define LR_WHMSG_H

#include <stdbool.h>
#include <stddef.h>

/* Event types: wire.h's WH words, in table order; at most this many. */
#define WH_TYPES_MAX 32
/* A secret's key, decoded: Standard Webhooks asks for 24 to 64 bytes. */
#define WH_KEY_MIN 24
#define WH_KEY_MAX 64
#define WH_SECRET_PREFIX "whsec_"
/* "v1," and the base64 of 32 bytes, and its terminator. */
#define WH_SIGNATURE_LEN (3 + 44 + 1)

/* The i-th event type ("lead.assigned"), or NULL after the last. */
const char *wh_type_name(size_t i);
/* The index of an event type, or -1 when it is none. */
int wh_type_index(const char *name);
/* A bit set of every event type. */
unsigned long wh_types_all(void);

/*
 * Decode a secret "whsec_<base64>" into key (WH_KEY_MAX bytes). 0 with
 * *len set, or -1 when it lacks the prefix, is not base64, or its key is
 * not WH_KEY_MIN to WH_KEY_MAX bytes.
 */
int wh_secret_decode(const char *secret, unsigned char *key, size_t *len);

/*
 * The webhook-signature value "v1,<base64 HMAC-SHA256 of id.ts.body>"
 * under key, into sig (WH_SIGNATURE_LEN bytes). 0, or -1.
 */
int wh_sign(const unsigned char *key, size_t key_len, const char *id,
    long long ts, const char *body, size_t body_len, char *sig);

/*
 * The body of format slack for a standard body (its "type" and "data"):
 * {"text":"<one line>"}, malloc'd; NULL when body is not such JSON or
 * on ENOMEM.
 */
char *wh_slack_body(const char *body, size_t len);

/* What an attempt's outcome means for the delivery. */
enum wh_verdict {
	WH_OK,		/* a 2xx answer: done */
	WH_RETRY,	/* no answer, 408, 429, 5xx: try again */
	WH_END,		/* any other answer (redirects too): dead at once */
};

/* status 0: no answer came (connection error, timeout). */
enum wh_verdict wh_verdict(long status);

/*
 * The pause before attempt attempt + 1 after attempt attempt (1 for the
 * first) failed: 1 s doubling per attempt, plus up to a quarter more of
 * jitter (rnd in [0, 1)), at least Retry-After (retry_after_s > 0), at
 * most max_backoff_s; in ms.
 */
long long wh_backoff_ms(long long attempt, long long retry_after_s,
    long long max_backoff_s, double rnd);

/* A Retry-After header's value in seconds (delta-seconds only), or -1. */
long long wh_retry_after(const char *value, size_t len);

#endif
