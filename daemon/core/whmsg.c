/* whmsg.c - webhook delivery's pure decisions: event types, secrets, the Standard Webhooks signature, the Slack line, verdicts and backoff. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "whmsg.h"
#include "wire.h"

const char *
wh_type_name(size_t i)
{
	size_t n, k = 0;
	const struct wire_word *w = wire_words(&n);

	for (size_t j = 0; j < n; j++)
		if (strcmp(w[j].group, "WH") == 0 && k++ == i)
			return w[j].word;
	return NULL;
}

int
wh_type_index(const char *name)
{
	const char *t;

	for (size_t i = 0; (t = wh_type_name(i)) != NULL; i++)
		if (strcmp(t, name) == 0)
			return (int)i;
	return -1;
}

unsigned long
wh_types_all(void)
{
	unsigned long all = 0;

	for (size_t i = 0; wh_type_name(i) != NULL; i++)
		all |= 1UL << i;
	return all;
}

int
wh_secret_decode(const char *secret, unsigned char *key, size_t *len)
{
	size_t plen = strlen(WH_SECRET_PREFIX), n;
	unsigned char buf[3 * 1024];
	const char *b64;
	EVP_ENCODE_CTX *ctx;
	int outl = 0, fin = 0, rc;

	if (strncmp(secret, WH_SECRET_PREFIX, plen) != 0)
		return -1;
	b64 = secret + plen;
	n = strlen(b64);
	if (n == 0 || n > 1024 || n % 4 != 0 ||
	    strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/=") != n)
		return -1;
	if ((ctx = EVP_ENCODE_CTX_new()) == NULL)
		return -1;
	EVP_DecodeInit(ctx);
	rc = EVP_DecodeUpdate(ctx, buf, &outl, (const unsigned char *)b64,
	    (int)n);
	if (rc != -1)
		rc = EVP_DecodeFinal(ctx, buf + outl, &fin);
	EVP_ENCODE_CTX_free(ctx);
	if (rc == -1 || outl + fin < WH_KEY_MIN || outl + fin > WH_KEY_MAX)
		return -1;
	memcpy(key, buf, (size_t)(outl + fin));
	*len = (size_t)(outl + fin);
	return 0;
}

int
wh_sign(const unsigned char *key, size_t key_len, const char *id,
    long long ts, const char *body, size_t body_len, char *sig)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;
	char head[256], *msg;
	int hl;

	hl = snprintf(head, sizeof(head), "%s.%lld.", id, ts);
	if (hl < 0 || (size_t)hl >= sizeof(head) ||
	    (msg = malloc((size_t)hl + body_len + 1)) == NULL)
		return -1;
	memcpy(msg, head, (size_t)hl);
	memcpy(msg + hl, body, body_len);
	if (HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)msg,
	    (size_t)hl + body_len, mac, &mlen) == NULL || mlen != 32) {
		free(msg);
		return -1;
	}
	free(msg);
	memcpy(sig, "v1,", 3);
	if (EVP_EncodeBlock((unsigned char *)sig + 3, mac, (int)mlen) != 44)
		return -1;
	return 0;
}

/* Append ", NAME VALUE" for member k of data when it is a string or integer. */
static void
slack_part(char *line, size_t size, const json_t *data, const char *k,
    const char *label)
{
	const json_t *v = json_object_get(data, k);
	size_t at = strlen(line);

	if (json_is_string(v))
		snprintf(line + at, size - at, ", %s %s", label,
		    json_string_value(v));
	else if (json_is_integer(v))
		snprintf(line + at, size - at, ", %s %lld", label,
		    (long long)json_integer_value(v));
}

char *
wh_slack_body(const char *body, size_t len)
{
	static const char *const parts[][2] = {
		{"lead_id", "lead"}, {"rep", "rep"}, {"from_rep", "from"},
		{"segment", "segment"}, {"score", "score"},
		{"reason", "reason"}, {"outcome", "outcome"},
		{"room", "room"}, {"exhausted_in_s", "exhausted in s"},
	};
	char line[1024];
	json_t *o, *data, *type, *t;
	char *s = NULL;

	if ((o = json_loadb(body, len, 0, NULL)) == NULL)
		return NULL;
	type = json_object_get(o, "type");
	data = json_object_get(o, "data");
	if (json_is_string(type) && json_is_object(data)) {
		snprintf(line, sizeof(line), "leadrouted: %s",
		    json_string_value(type));
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			slack_part(line, sizeof(line), data, parts[i][0],
			    parts[i][1]);
		if ((t = json_pack("{s:s}", "text", line)) != NULL) {
			s = json_dumps(t, JSON_COMPACT);
			json_decref(t);
		}
	}
	json_decref(o);
	return s;
}

enum wh_verdict
wh_verdict(long status)
{
	if (status >= 200 && status < 300)
		return WH_OK;
	if (status == 0 || status == 408 || status == 429 ||
	    (status >= 500 && status < 600))
		return WH_RETRY;
	return WH_END;
}

long long
wh_backoff_ms(long long attempt, long long retry_after_s,
    long long max_backoff_s, double rnd)
{
	long long ms = 1000, max = max_backoff_s * 1000;

	for (long long i = 1; i < attempt && ms < max; i++)
		ms *= 2;
	ms += (long long)((double)ms * 0.25 * rnd);
	if (retry_after_s > 0 && retry_after_s * 1000 > ms)
		ms = retry_after_s > max_backoff_s ? max : retry_after_s * 1000;
	return ms > max ? max : ms;
}

long long
wh_retry_after(const char *value, size_t len)
{
	long long v = 0;
	size_t i = 0;

	while (i < len && (value[i] == ' ' || value[i] == '\t'))
		i++;
	if (i == len || !isdigit((unsigned char)value[i]))
		return -1;
	for (; i < len && isdigit((unsigned char)value[i]); i++)
		if ((v = v * 10 + (value[i] - '0')) > 1000000000LL)
			v = 1000000000LL;	/* the cap; the rest still checked */
	while (i < len && isspace((unsigned char)value[i]))
		i++;
	return i == len ? v : -1;
}
