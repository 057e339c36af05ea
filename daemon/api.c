/* api.c - the read API (/v1/...) and the ops page behind HTTP Basic authentication; the alert stream is sse.c's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api.h"
#include "config.h"
#include "daemon.h"
#include "keys.h"
#include "lead.h"
#include "log.h"
#include "rds.h"
#include "sse.h"
#include "web.h"
#include "wire.h"

#define KEY_MAX 512

/* A JSON answer to come; the client may leave meanwhile. */
struct pending {
	struct api *api;
	struct evhttp_request *req;	/* NULL once the client has gone */
	char id[LEAD_ID_MAX + 1];	/* /v1/leads/<id> */
	struct rds_argv argv;		/* script calls' arguments */
};

struct api {
	struct lrd *d;
	struct rds_target to;
	char *csp;			/* the page's Content-Security-Policy */
	char stream_key[KEY_MAX];	/* the alert log */
	struct sse *sse;		/* /v1/alerts/stream */
};

/* --- helpers -------------------------------------------------------------- */

static void
add_header(struct evhttp_request *req, const char *k, const char *v)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), k, v);
}

static void
reply_body(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	add_header(req, "Content-Type", type);
	add_header(req, "Cache-Control", "no-store");
	add_header(req, "X-Content-Type-Options", "nosniff");
	if (b != NULL && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add(b, body, len);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
reply_json(struct evhttp_request *req, int code, const char *reason,
    const char *json)
{
	reply_body(req, code, reason, "application/json", json, strlen(json));
}

static void
reply_error(struct evhttp_request *req, int code, const char *reason,
    const char *why)
{
	json_t *o = json_pack("{s:s}", "error", why);
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	reply_json(req, code, reason, s != NULL ? s : "{\"error\":\"\"}");
	free(s);
	json_decref(o);
}

static void
reply_jansson(struct evhttp_request *req, json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	if (s == NULL) {
		reply_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	reply_json(req, 200, "OK", s);
	free(s);
}

/* The value of query parameter name as an integer in [1, max]; def when
 * absent. -1 when present but not such a number. */
static long
query_int(struct evhttp_request *req, const char *name, long def, long max)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq kv;
	const char *v;
	char *end;
	long n = def;

	if (q == NULL)
		return def;
	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(q, &kv) != 0)
		return -1;
	if ((v = evhttp_find_header(&kv, name)) != NULL) {
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || n < 1 || n > max)
			n = -1;
	}
	evhttp_clear_headers(&kv);
	return n;
}

/* --- authentication --------------------------------------------------- */

/* SHA-256 of buf into out (32 bytes): OpenSSL, as the HTTP intake's tokens. */
static bool
sha256(const void *buf, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) == 1 &&
	    n == 32;
}

/*
 * Standard base64 (with padding) into out; false when it is not base64 or
 * does not fit. EVP_DecodeBlock counts the padding as bytes: take it off.
 */
static bool
b64_decode(const char *s, unsigned char *out, size_t size, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	int got;

	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > size)
		return false;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	if ((got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n)) < 0)
		return false;
	*len = (size_t)got - pad;
	return true;
}

/*
 * Does the request carry one of cfg's credentials? Every credential is
 * compared (their hashes, in constant time), whatever matched before.
 */
static bool
authorized(const struct lr_config *cfg, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	unsigned char given[512], gh[32], ch[32];
	size_t glen;
	int ok = 0;

	if (cfg->http.nauth == 0)
		return true;
	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
		return false;
	h += 6;
	while (*h == ' ')
		h++;
	if (!b64_decode(h, given, sizeof(given), &glen) ||
	    !sha256(given, glen, gh))
		return false;
	OPENSSL_cleanse(given, sizeof(given));
	for (size_t i = 0; i < cfg->http.nauth; i++) {
		if (!sha256(cfg->http.auth[i], strlen(cfg->http.auth[i]), ch))
			return false;
		ok |= CRYPTO_memcmp(gh, ch, sizeof(gh)) == 0;
	}
	return ok != 0;
}

/* --- pending answers ---------------------------------------------------- */

static void
pending_gone_cb(struct evhttp_connection *conn, void *arg)
{
	struct pending *p = arg;

	(void)conn;
	/* Gone before its answer: evhttp detached the request and leaves
	 * it to us (at a stop, the connection still holds and frees it). */
	if (evhttp_request_get_connection(p->req) == NULL)
		evhttp_request_free(p->req);
	p->req = NULL;
}

static struct pending *
pending_new(struct api *a, struct evhttp_request *req)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		reply_error(req, 500, "Internal Server Error", "out of memory");
		return NULL;
	}
	p->api = a;
	p->req = req;
	rds_argv_init(&p->argv);
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    pending_gone_cb, p);
	return p;
}

/* The request to answer now, or NULL when the client left; frees nothing. */
static struct evhttp_request *
pending_req(struct pending *p)
{
	if (p->req != NULL)
		evhttp_connection_set_closecb(
		    evhttp_request_get_connection(p->req), NULL, NULL);
	return p->req;
}

static void
pending_free(struct pending *p)
{
	rds_argv_clear(&p->argv);
	free(p);
}

/* A request could not be sent: answer 503 and drop p. */
static void
pending_fail(struct pending *p)
{
	struct evhttp_request *req = pending_req(p);

	if (req != NULL)
		reply_error(req, 503, "Service Unavailable",
		    "redis is not reachable");
	pending_free(p);
}

/* A reply that is an error or missing: answer 503 (or 500). true when so. */
static bool
reply_failed(struct evhttp_request *req, const redisReply *r)
{
	if (r == NULL) {
		reply_error(req, 503, "Service Unavailable",
		    "redis is not reachable");
		return true;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		log_warnx("read API: redis: %s", r->str);
		reply_error(req, 500, "Internal Server Error", "redis error");
		return true;
	}
	return false;
}

/* --- /v1/status and /v1/sla -------------------------------------------- */

/* The script's JSON with each rep's name and shift added. */
static json_t *
status_json(const struct lr_config *cfg, unsigned nclients, const char *text)
{
	json_t *o = json_loads(text, 0, NULL), *reps, *rep;
	const struct rep_cfg *rc;
	const char *id;
	size_t i;
	struct timespec ts;
	int64_t now;

	if (o == NULL || (reps = json_object_get(o, "reps")) == NULL)
		return o;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	json_array_foreach(reps, i, rep) {
		id = json_string_value(json_object_get(rep, "id"));
		if (id == NULL || (rc = cfg_rep_find(cfg, id)) == NULL)
			continue;
		json_object_set_new(rep, "name", json_string(rc->name != NULL ?
		    rc->name : rc->id));
		json_object_set_new(rep, "on_shift",
		    json_boolean(cfg_rep_on_shift(cfg, rc, now, NULL)));
	}
	json_object_set_new(o, "version", json_string(cfg->version));
	json_object_set_new(o, "stream_clients", json_integer(nclients));
	return o;
}

static void
status_cb(struct rds_conn *c, redisReply *r, void *arg)
{
	struct pending *p = arg;
	struct evhttp_request *req = pending_req(p);
	json_t *o;

	(void)c;
	if (req == NULL || reply_failed(req, r)) {
		pending_free(p);
		return;
	}
	if (r->type != REDIS_REPLY_STRING) {
		reply_error(req, 500, "Internal Server Error", "unexpected reply");
	} else {
		o = status_json(p->api->d->cfg, sse_clients(p->api->sse), r->str);
		reply_jansson(req, o);
		json_decref(o);
	}
	pending_free(p);
}

/* BOARD_REPLY: the items as the body; how many were looked at and
 * whether some were left out in headers. */
static void
board_cb(struct rds_conn *c, redisReply *r, void *arg)
{
	struct pending *p = arg;
	struct evhttp_request *req = pending_req(p);
	const redisReply *items;
	char n[32];

	(void)c;
	if (req == NULL || reply_failed(req, r)) {
		pending_free(p);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY ||
	    r->elements != WIRE_BOARD_REPLY_FIELDS ||
	    (items = r->element[WIRE_BOARD_REPLY_ITEMS])->type !=
	    REDIS_REPLY_STRING ||
	    r->element[WIRE_BOARD_REPLY_TOTAL]->type != REDIS_REPLY_INTEGER ||
	    r->element[WIRE_BOARD_REPLY_MORE]->type != REDIS_REPLY_INTEGER) {
		reply_error(req, 500, "Internal Server Error", "unexpected reply");
		pending_free(p);
		return;
	}
	snprintf(n, sizeof(n), "%lld", r->element[WIRE_BOARD_REPLY_TOTAL]->integer);
	add_header(req, "X-Total-Count", n);
	add_header(req, "X-Truncated",
	    r->element[WIRE_BOARD_REPLY_MORE]->integer ? "true" : "false");
	reply_body(req, 200, "OK", "application/json", items->str, items->len);
	pending_free(p);
}

static void
get_status(struct api *a, struct evhttp_request *req)
{
	struct pending *p = pending_new(a, req);
	const struct lrd *d = a->d;

	if (p == NULL)
		return;
	_Static_assert(WIRE_STATUS_ROUTING == 0, "status' arguments moved");
	if (rds_argv_call(&p->argv, WIRE_OP_STATUS, d->cfg->redis.prefix) ==
	    -1 || rds_argv_adds(&p->argv, d->routing) == -1 ||
	    rds_script(a->to.conn, a->to.script, a->to.key, &p->argv,
	    status_cb, p) == -1)
		pending_fail(p);
}

static void
get_sla(struct api *a, struct evhttp_request *req)
{
	long limit = query_int(req, "limit", API_SLA_LIMIT, API_SLA_LIMIT_MAX);
	const struct lrd *d = a->d;
	struct pending *p;

	if (limit < 0) {
		reply_error(req, 400, "Bad Request",
		    "limit must be an integer from 1 to 5000");
		return;
	}
	if ((p = pending_new(a, req)) == NULL)
		return;
	_Static_assert(WIRE_BOARD_ROUTING == 0 && WIRE_BOARD_LIMIT == 1 &&
	    WIRE_BOARD_SCAN == 2, "board's arguments moved");
	if (rds_argv_call(&p->argv, WIRE_OP_BOARD, d->cfg->redis.prefix) ==
	    -1 || rds_argv_adds(&p->argv, d->routing) == -1 ||
	    rds_argv_addll(&p->argv, limit) == -1 ||
	    rds_argv_addll(&p->argv, API_SLA_SCAN) == -1 ||
	    rds_script(a->to.conn, a->to.script, a->to.key, &p->argv,
	    board_cb, p) == -1)
		pending_fail(p);
}

/* --- /v1/alerts ---------------------------------------------------------- */

static void
alerts_cb(struct rds_conn *c, redisReply *r, void *arg)
{
	struct pending *p = arg;
	struct evhttp_request *req = pending_req(p);
	json_t *arr, *o = NULL;
	const char *id, *text;

	(void)c;
	if (req == NULL || reply_failed(req, r)) {
		pending_free(p);
		return;
	}
	arr = json_array();
	for (size_t i = 0; arr != NULL && r->type == REDIS_REPLY_ARRAY &&
	    i < r->elements; i++) {
		if ((text = sse_entry_alert(r->element[i], &id)) == NULL)
			continue;
		if ((o = json_loads(text, 0, NULL)) == NULL ||
		    !json_is_object(o)) {
			json_decref(o);
			continue;
		}
		json_object_set_new(o, "id", json_string(id));
		json_array_append_new(arr, o);
	}
	reply_jansson(req, arr);
	json_decref(arr);
	pending_free(p);
}

static void
get_alerts(struct api *a, struct evhttp_request *req)
{
	long n = query_int(req, "count", API_ALERTS_DEFAULT, API_ALERTS_MAX);
	struct pending *p;

	if (n < 0) {
		reply_error(req, 400, "Bad Request",
		    "count must be an integer from 1 to 1000");
		return;
	}
	if ((p = pending_new(a, req)) == NULL)
		return;
	if (rds_commandf(a->to.conn, alerts_cb, p, "XREVRANGE %s + - COUNT %ld",
	    a->stream_key, n) == -1)
		pending_fail(p);
}

/* --- /v1/leads/<id> ------------------------------------------------------ */

/* Record fields that hold numbers, and those that hold JSON. */
static bool
numeric_field(const char *f)
{
	static const char *const names[] = {"score", "mql", "sla_breached",
	    "reassign_count", "escalated"};
	size_t n = strlen(f);

	if (n > 3 && strcmp(f + n - 3, "_ms") == 0)
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(f, names[i]) == 0)
			return true;
	return false;
}

static json_t *
field_value(const char *f, const redisReply *v)
{
	char *end;
	long long n;
	json_t *j;

	if (numeric_field(f) && v->len > 0) {
		n = strtoll(v->str, &end, 10);
		if (*end == '\0')
			return json_integer(n);
	}
	if (strcmp(f, "score_receipt") == 0 || strcmp(f, "lead") == 0) {
		if ((j = json_loadb(v->str, v->len, JSON_DECODE_ANY, NULL)) != NULL)
			return j;
	}
	return json_stringn(v->str, v->len);
}

static void
lead_cb(struct rds_conn *c, redisReply *r, void *arg)
{
	struct pending *p = arg;
	struct evhttp_request *req = pending_req(p);
	json_t *o;

	(void)c;
	if (req == NULL || reply_failed(req, r)) {
		pending_free(p);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		reply_error(req, 404, "Not Found", "no such lead");
		pending_free(p);
		return;
	}
	o = json_object();
	json_object_set_new(o, "id", json_string(p->id));
	for (size_t i = 0; o != NULL && i + 1 < r->elements; i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		json_object_set_new(o, r->element[i]->str,
		    field_value(r->element[i]->str, r->element[i + 1]));
	}
	reply_jansson(req, o);
	json_decref(o);
	pending_free(p);
}

static void
get_lead(struct api *a, struct evhttp_request *req, const char *rest)
{
	char key[KEY_MAX], *id;
	size_t len;
	struct pending *p;

	if ((id = evhttp_uridecode(rest, 0, &len)) == NULL) {
		reply_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	if (strlen(id) != len || !lead_valid_id(id, len) ||
	    strstr(id, "..") != NULL || keys_build(key, sizeof(key),
	    a->d->cfg->redis.prefix, LR_KEY_LEAD, id, NULL) == -1) {
		free(id);
		reply_error(req, 400, "Bad Request",
		    "a lead id is 1-128 of [A-Za-z0-9._:@-], without \"..\"");
		return;
	}
	if ((p = pending_new(a, req)) == NULL) {
		free(id);
		return;
	}
	memcpy(p->id, id, len + 1);
	free(id);
	if (rds_commandf(a->to.conn, lead_cb, p, "HGETALL %s", key) == -1)
		pending_fail(p);
}

/* --- the page ------------------------------------------------------------ */

static void
get_page(struct api *a, struct evhttp_request *req)
{
	add_header(req, "Content-Security-Policy", a->csp);
	add_header(req, "X-Frame-Options", "DENY");
	add_header(req, "Referrer-Policy", "no-referrer");
	reply_body(req, 200, "OK", "text/html; charset=utf-8", web_index_html,
	    web_index_html_len);
}

/* 'sha256-<base64>' of what lies between open and close in the page. */
static int
csp_hash(const char *open, const char *close, char *out, size_t len)
{
	const char *s = strstr(web_index_html, open), *e;
	unsigned char h[32];
	char b64[64];

	if (s == NULL || (e = strstr(s + strlen(open), close)) == NULL)
		return -1;
	s += strlen(open);
	if (!sha256(s, (size_t)(e - s), h))
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, h, sizeof(h));
	snprintf(out, len, "'sha256-%s'", b64);
	return 0;
}

/* The page's policy: nothing from anywhere but this daemon, and of inline
 * code only the page's own script and style. */
static char *
build_csp(void)
{
	static const char fmt[] = "default-src 'none'; script-src %s; "
	    "style-src %s; connect-src 'self'; img-src 'self' data:; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
	char script[80], style[80], *csp;
	size_t len = sizeof(fmt) + sizeof(script) + sizeof(style);

	if (csp_hash("<script>", "</script>", script, sizeof(script)) == -1 ||
	    csp_hash("<style>", "</style>", style, sizeof(style)) == -1 ||
	    (csp = malloc(len)) == NULL)
		return NULL;
	snprintf(csp, len, fmt, script, style);
	return csp;
}

static void
get_stream(struct api *a, struct evhttp_request *req)
{
	sse_serve(a->sse, req);
}

/* --- routing ---------------------------------------------------------------- */

typedef void route_fn(struct api *a, struct evhttp_request *req);

static const struct route {
	const char *path;
	route_fn *fn;
} routes[] = {
	{"/", get_page},
	{"/index.html", get_page},
	{"/v1/status", get_status},
	{"/v1/sla", get_sla},
	{"/v1/alerts", get_alerts},
	{"/v1/alerts/stream", get_stream},
};

#define LEADS_PREFIX "/v1/leads/"

bool
api_route(struct evhttp_request *req, const char *path, void *arg)
{
	struct api *a = ((struct lrd *)arg)->api;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	if (a == NULL)
		return false;
	if (!authorized(a->d->cfg, req)) {
		add_header(req, "WWW-Authenticate",
		    "Basic realm=\"leadrouted\", charset=\"UTF-8\"");
		reply_error(req, 401, "Unauthorized", "authentication required");
		return true;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		add_header(req, "Allow", "GET, HEAD");
		reply_error(req, 405, "Method Not Allowed", "only GET and HEAD");
		return true;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(path, routes[i].path) == 0) {
			routes[i].fn(a, req);
			return true;
		}
	if (strncmp(path, LEADS_PREFIX, strlen(LEADS_PREFIX)) == 0) {
		get_lead(a, req, path + strlen(LEADS_PREFIX));
		return true;
	}
	reply_error(req, 404, "Not Found", "not found");
	return true;
}

/* --- life ------------------------------------------------------------------- */

struct api *
api_new(struct lrd *d, const struct rds_target *to)
{
	struct api *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->d = d;
	a->to = *to;
	if ((a->csp = build_csp()) == NULL ||
	    keys_build(a->stream_key, sizeof(a->stream_key),
	    d->cfg->redis.prefix, LR_KEY_ALERTS_LOG, NULL, NULL) == -1 ||
	    (a->sse = sse_new(d->base, &d->ropts, to->conn,
	    a->stream_key)) == NULL) {
		api_free(a);
		return NULL;
	}
	return a;
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	sse_free(a->sse);
	free(a->csp);
	free(a);
}
