/* itest_httpin.c - the HTTP intake (README "HTTP intake") against a real redis-server, driven by curl: answers, routing, Redis down, slow and surplus clients, token reload. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

#define TOKEN "form-token-0123456789abcdef"
#define TOKEN2 "rotated-token-fedcba9876543210"
#define BEARER "Bearer " TOKEN
#define JSON "application/json"
/* An MQL of segment mid (john): title, employees and a demo request. */
#define MQL(id) "{\"id\":\"" id "\",\"email\":\"cto@acme.example\"," \
	"\"title\":\"VP Sales\",\"employees\":500,\"activity\":{\"demo_request\":true}}"

/* The fixture, with the intake's port and settings. */
struct t {
	struct h_fx f;
	int port;
	char tokens[600];
	int n;			/* requests made, for file names */
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	h_fx_open(&t->f, false, NULL);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	h_fx_close(&t->f);
	free(t);
	return 0;
}

/*
 * Start one daemon taking leads on a free port with the tokens file
 * holding tokens, the given idle timeout and connection cap; metrics on
 * f->http_port.
 */
static void
start(struct t *t, const char *tokens, int timeout, int max_conns)
{
	char *body;
	size_t len;

	t->port = h_free_port();
	t->f.http_port = h_free_port();
	snprintf(t->tokens, sizeof(t->tokens), "%s/tokens", t->f.dir);
	h_write_file(t->tokens, tokens);
	len = strlen(h_default_body()) + 1024;
	assert_non_null(body = malloc(len));
	snprintf(body, len, "intake = { max_bytes = 1024;\n"
	    "  http = { listen = \"127.0.0.1:%d\"; tokens_file = \"%s\";\n"
	    "    timeout = %d; max_connections = %d; }; };\n%s", t->port,
	    t->tokens, timeout, max_conns, h_default_body());
	h_fx_start(&t->f, 1, body);
	free(body);
}

/* One request's answer. */
struct answer {
	int status;
	char *body;		/* malloc'd */
	char *headers;		/* malloc'd, as received */
};

static void
answer_clear(struct answer *a)
{
	free(a->body);
	free(a->headers);
	memset(a, 0, sizeof(*a));
}

/*
 * curl METHOD to path with the Authorization header auth and the
 * Content-Type ctype (NULL: none), body of len bytes (NULL: none).
 */
static struct answer
request(struct t *t, const char *method, const char *path, const char *auth,
    const char *ctype, const char *body, size_t len)
{
	char url[128], in[700], out[700], hdr[700], code[700], ah[700], ch[300];
	const char *argv[24];
	struct answer a = {0};
	char *s;
	int n = 0;
	FILE *f;

	t->n++;
	snprintf(in, sizeof(in), "%s/req%d.in", t->f.dir, t->n);
	snprintf(out, sizeof(out), "%s/req%d.body", t->f.dir, t->n);
	snprintf(hdr, sizeof(hdr), "%s/req%d.hdr", t->f.dir, t->n);
	snprintf(code, sizeof(code), "%s/req%d.code", t->f.dir, t->n);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", t->port, path);
	snprintf(ah, sizeof(ah), "Authorization: %s", auth ? auth : "");
	snprintf(ch, sizeof(ch), "Content-Type: %s", ctype ? ctype : "");
	argv[n++] = "curl";
	argv[n++] = "-s";
	argv[n++] = "--max-time";
	argv[n++] = "10";
	argv[n++] = "-X";
	argv[n++] = method;
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n++] = "-D";
	argv[n++] = hdr;
	argv[n++] = "-w";
	argv[n++] = "%{http_code}";
	argv[n++] = "-H";
	argv[n++] = ah;		/* "Authorization:" alone: none sent */
	argv[n++] = "-H";
	argv[n++] = ch;
	if (body != NULL) {
		assert_non_null(f = fopen(in, "wb"));
		assert_int_equal(fwrite(body, 1, len, f), len);
		fclose(f);
		snprintf(in, sizeof(in), "@%s/req%d.in", t->f.dir, t->n);
		argv[n++] = "--data-binary";
		argv[n++] = in;
	}
	argv[n++] = url;
	argv[n] = NULL;
	assert_int_equal(h_reap(h_spawn(argv, NULL, code, NULL), "curl"), 0);
	s = h_slurp(code);
	a.status = atoi(s);
	free(s);
	a.body = h_slurp(out);
	a.headers = h_slurp(hdr);
	return a;
}

static struct answer
post(struct t *t, const char *body)
{
	return request(t, "POST", "/v1/leads", BEARER, JSON, body,
	    strlen(body));
}

/* The answer's JSON member k is want. */
static void
assert_member(const struct answer *a, const char *k, const char *want)
{
	json_t *o = json_loads(a->body, 0, NULL);

	if (o == NULL)
		fail_msg("answer %d is not JSON: %s", a->status, a->body);
	assert_string_equal(h_jstr(o, k), want);
	json_decref(o);
}

/* The answer carries the header line (case as sent). */
static void
assert_header(const struct answer *a, const char *line)
{
	if (strstr(a->headers, line) == NULL)
		fail_msg("no '%s' in:\n%s", line, a->headers);
}

/* The /metrics sample of the intake counter for code. */
static double
metric(struct t *t, int code)
{
	char *text, prefix[96];
	double v;

	assert_int_equal(h_http_get(t->f.http_port, "GET", "/metrics", &text),
	    200);
	snprintf(prefix, sizeof(prefix),
	    "leadrouted_intake_http_requests_total{code=\"%d\"}", code);
	v = h_metric(text, prefix);
	free(text);
	return v;
}

/* --- tests ------------------------------------------------------------ */

/* 202 with the id, once pushed; the lead is routed as any other. */
static void
test_accepted_and_routed(void **state)
{
	struct t *t = *state;
	struct answer a;
	char *lead;

	start(t, "# the forms\n" TOKEN "\n", 10, 16);
	a = post(t, MQL("web-1"));
	assert_int_equal(a.status, 202);
	assert_member(&a, "id", "web-1");
	assert_header(&a, "Content-Type: application/json");
	answer_clear(&a);
	assert_true(h_wait_field(t->f.c, "lr:lead:web-1", "status",
	    "assigned"));
	assert_true(h_wait_field(t->f.c, "lr:lead:web-1", "rep", "john"));
	/* The bytes as they were posted. */
	lead = h_str(t->f.c, "HGET lr:lead:web-1 lead");
	assert_string_equal(lead, MQL("web-1"));
	free(lead);
	/* Parameters of the media type; keep-alive, a second lead. */
	a = request(t, "POST", "/v1/leads", "bearer  " TOKEN,
	    "application/json; charset=utf-8", MQL("web-2"),
	    strlen(MQL("web-2")));
	assert_int_equal(a.status, 202);
	answer_clear(&a);
	assert_true(h_wait_field(t->f.c, "lr:lead:web-2", "status",
	    "assigned"));
	assert_true(metric(t, 202) == 2);
	h_fx_stop(&t->f);
}

/* A body far over intake.max_bytes (1024). */
#define HUGE (4 * 1024 * 1024)

/* Every refusal: its status, its error word, and nothing queued. */
static void
test_refusals(void **state)
{
	static const struct {
		const char *what, *body;
		int status;
		const char *error;
	} bodies[] = {
		{"bad_utf8", "{\"id\":\"r1\",\"email\":\"a@b\xff\"}", 400, "bad_utf8"},
		{"too_deep", "{\"id\":\"r2\",\"email\":\"a@b\",\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
		    400, "too_deep"},
		{"bad_json", "{\"id\":\"r3\",", 400, "bad_json"},
		{"not_object", "[\"r4\"]", 400, "not_object"},
		{"missing_id", "{\"email\":\"a@b\"}", 400, "missing_id"},
		{"bad_id", "{\"id\":\"r 6\",\"email\":\"a@b\"}", 400, "bad_id"},
		{"missing_email", "{\"id\":\"r7\"}", 400, "missing_email"},
		{"bad_email", "{\"id\":\"r8\",\"email\":\"nobody\"}", 400, "bad_email"},
	};
	struct t *t = *state;
	struct answer a;
	char big[1100], *huge;
	const char *lead = MQL("no-1");
	size_t len = strlen(lead);

	start(t, TOKEN "\n" TOKEN2 "\n", 10, 16);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		a = post(t, bodies[i].body);
		if (a.status != bodies[i].status)
			fail_msg("%s: %d %s", bodies[i].what, a.status, a.body);
		assert_member(&a, "error", bodies[i].error);
		answer_clear(&a);
	}
	/* One byte over intake.max_bytes: cut off by the HTTP layer as it
	 * arrives (413 without a JSON body, not counted). */
	memset(big, ' ', sizeof(big));
	memcpy(big, lead, len);
	a = request(t, "POST", "/v1/leads", BEARER, JSON, big, 1025);
	assert_int_equal(a.status, 413);
	answer_clear(&a);
	/* Far over: still a 413 the client reads, not a reset. */
	huge = malloc(HUGE);
	assert_non_null(huge);
	memset(huge, ' ', HUGE);
	memcpy(huge, lead, len);
	a = request(t, "POST", "/v1/leads", BEARER, JSON, huge, HUGE);
	assert_int_equal(a.status, 413);
	answer_clear(&a);
	free(huge);
	/* No token, a wrong one, a prefix of a real one, another scheme. */
	a = request(t, "POST", "/v1/leads", NULL, JSON, lead, len);
	assert_int_equal(a.status, 401);
	assert_member(&a, "error", "unauthorized");
	assert_header(&a, "WWW-Authenticate: Bearer");
	answer_clear(&a);
	a = request(t, "POST", "/v1/leads", "Bearer wrong-token-0123456789",
	    JSON, lead, len);
	assert_int_equal(a.status, 401);
	assert_header(&a, "WWW-Authenticate: Bearer");
	answer_clear(&a);
	a = request(t, "POST", "/v1/leads", "Bearer form-token-0123",
	    JSON, lead, len);
	assert_int_equal(a.status, 401);
	answer_clear(&a);
	a = request(t, "POST", "/v1/leads", "Basic " TOKEN, JSON, lead, len);
	assert_int_equal(a.status, 401);
	answer_clear(&a);
	/* Another method, another media type, another path. */
	a = request(t, "GET", "/v1/leads", BEARER, NULL, NULL, 0);
	assert_int_equal(a.status, 405);
	assert_header(&a, "Allow: POST");
	answer_clear(&a);
	a = request(t, "PUT", "/v1/leads", BEARER, JSON, lead, len);
	assert_int_equal(a.status, 405);
	answer_clear(&a);
	a = request(t, "POST", "/v1/leads", BEARER, "text/plain", lead, len);
	assert_int_equal(a.status, 415);
	assert_member(&a, "error", "unsupported_media_type");
	answer_clear(&a);
	a = request(t, "POST", "/v1/leads", BEARER, NULL, lead, len);
	assert_int_equal(a.status, 415);
	answer_clear(&a);
	a = request(t, "POST", "/v1/leads/", BEARER, JSON, lead, len);
	assert_int_equal(a.status, 404);
	answer_clear(&a);
	a = request(t, "POST", "/metrics", BEARER, JSON, lead, len);
	assert_int_equal(a.status, 404);
	answer_clear(&a);

	/* Nothing reached Redis: no payload, no dead letter, no record. */
	assert_int_equal(h_int(t->f.c, "LLEN lr:incoming"), 0);
	assert_int_equal(h_int(t->f.c, "LLEN lr:dead"), 0);
	assert_int_equal(h_int(t->f.c, "EXISTS lr:lead:no-1"), 0);
	assert_true(metric(t, 400) == 8);
	assert_true(metric(t, 401) == 4);
	assert_true(metric(t, 413) == 0);
	assert_true(metric(t, 405) == 2);
	assert_true(metric(t, 415) == 2);
	assert_true(metric(t, 404) == 2);
	assert_true(metric(t, 202) == 0);
	/* The second token works. */
	a = request(t, "POST", "/v1/leads", "Bearer " TOKEN2, JSON, lead, len);
	assert_int_equal(a.status, 202);
	answer_clear(&a);
	assert_true(h_wait_field(t->f.c, "lr:lead:no-1", "status", "assigned"));
	h_fx_stop(&t->f);
}

/* 503 with Retry-After while Redis is down; 202 once it is back. */
static void
test_redis_down(void **state)
{
	struct t *t = *state;
	struct answer a;
	long long until;

	start(t, TOKEN "\n", 10, 16);
	redisFree(t->f.c);
	t->f.c = NULL;
	h_redis_stop(&t->f.redis, SIGKILL);
	a = post(t, MQL("down-1"));
	assert_int_equal(a.status, 503);
	assert_member(&a, "error", "unavailable");
	assert_header(&a, "Retry-After: 1");
	answer_clear(&a);
	h_redis_restart(&t->f.redis);
	t->f.c = h_redis_connect(&t->f.redis);
	/* The intake reconnects on its backoff: the client retries. */
	until = h_now_ms() + H_WAIT_MS;
	do {
		a = post(t, MQL("down-1"));
		if (a.status == 202)
			break;
		assert_int_equal(a.status, 503);
		answer_clear(&a);
		h_sleep_ms(100);
	} while (h_now_ms() < until);
	assert_int_equal(a.status, 202);
	answer_clear(&a);
	assert_true(h_wait_field(t->f.c, "lr:lead:down-1", "status",
	    "assigned"));
	h_fx_stop(&t->f);
}

/* A socket to the intake, reads timing out after ms. */
static int
connect_to(int port, long ms)
{
	struct sockaddr_in sin;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* What fd reads until EOF or its timeout (malloc'd); *eof when EOF. */
static char *
read_all(int fd, bool *eof)
{
	char *buf = calloc(1, 8192);
	size_t len = 0;
	ssize_t n;

	assert_non_null(buf);
	*eof = false;
	while (len < 8191 && (n = read(fd, buf + len, 8191 - len)) >= 0) {
		if (n == 0) {
			*eof = true;
			break;
		}
		len += (size_t)n;
	}
	return buf;
}

/*
 * A client that sends half a request is closed after intake.http.timeout;
 * connections over intake.http.max_connections are answered 503 and
 * closed at once, and the ones within it still served.
 */
static void
test_slow_and_surplus_clients(void **state)
{
	struct t *t = *state;
	struct answer a;
	const char *half = "POST /v1/leads HTTP/1.1\r\nHost: x\r\nAuthorization: ";
	int slow, fds[5];
	long long t0, until;
	bool eof;
	char *got;

	start(t, TOKEN "\n", 1, 3);
	slow = connect_to(t->port, 8000);
	assert_int_equal(write(slow, half, strlen(half)), (ssize_t)strlen(half));
	t0 = h_now_ms();
	got = read_all(slow, &eof);
	assert_true(eof);		/* closed by the daemon, not our timeout */
	assert_true(h_now_ms() - t0 < 5000);
	free(got);
	close(slow);
	assert_true(h_daemon_alive(&t->f.d[0]));

	/* Three within the cap, two over it. */
	for (int i = 0; i < 5; i++)
		fds[i] = connect_to(t->port, i < 3 ? 300 : 5000);
	for (int i = 3; i < 5; i++) {
		got = read_all(fds[i], &eof);
		assert_true(eof);
		if (strstr(got, "HTTP/1.1 503") != got ||
		    strstr(got, "Retry-After: 1") == NULL)
			fail_msg("connection %d over the cap read: %s", i, got);
		free(got);
	}
	for (int i = 0; i < 3; i++) {
		got = read_all(fds[i], &eof);
		assert_false(eof);	/* still open, waiting for a request */
		assert_string_equal(got, "");
		free(got);
	}
	close(fds[0]);
	close(fds[3]);
	close(fds[4]);
	/* One place is free once the daemon has seen the close: a lead gets
	 * in (until then, it is refused as the others were). */
	until = h_now_ms() + H_WAIT_MS;
	do {
		a = post(t, MQL("cap-1"));
		if (a.status == 202)
			break;
		assert_int_equal(a.status, 503);
		answer_clear(&a);
		h_sleep_ms(50);
	} while (h_now_ms() < until);
	assert_int_equal(a.status, 202);
	answer_clear(&a);
	close(fds[1]);
	close(fds[2]);
	assert_true(metric(t, 503) >= 2);
	assert_true(h_wait_field(t->f.c, "lr:lead:cap-1", "status",
	    "assigned"));
	h_fx_stop(&t->f);
}

/* Ask for a lead with TOKEN2 until the answer is want (the reload is async). */
static bool
wait_token2(struct t *t, const char *id, int want)
{
	long long until = h_now_ms() + H_WAIT_MS;
	struct answer a;
	int status;

	do {
		a = request(t, "POST", "/v1/leads", "Bearer " TOKEN2, JSON, id,
		    strlen(id));
		status = a.status;
		answer_clear(&a);
		if (status == want)
			return true;
		h_sleep_ms(50);
	} while (h_now_ms() < until);
	return false;
}

/* SIGHUP reads the tokens file again; a broken one keeps the old tokens. */
static void
test_tokens_reload(void **state)
{
	struct t *t = *state;
	struct answer a;

	start(t, TOKEN "\n", 10, 16);
	a = request(t, "POST", "/v1/leads", "Bearer " TOKEN2, JSON,
	    MQL("rot-1"), strlen(MQL("rot-1")));
	assert_int_equal(a.status, 401);
	answer_clear(&a);
	/* Rotate: the new token in, the old one out. */
	h_write_file(t->tokens, "# rotated\n" TOKEN2 "\n");
	h_daemon_signal(&t->f.d[0], SIGHUP);
	assert_true(wait_token2(t, MQL("rot-1"), 202));
	a = post(t, MQL("rot-2"));
	assert_int_equal(a.status, 401);
	answer_clear(&a);
	/* An empty file is a configuration error: the reload is refused. */
	h_write_file(t->tokens, "# nothing\n");
	h_daemon_signal(&t->f.d[0], SIGHUP);
	for (long long until = h_now_ms() + H_WAIT_MS; h_now_ms() < until &&
	    !h_log_contains(&t->f.d[0], "holds no token");)
		h_sleep_ms(50);
	assert_true(h_log_contains(&t->f.d[0], "'intake.http.tokens_file'"));
	assert_true(wait_token2(t, MQL("rot-3"), 202));
	assert_true(h_wait_field(t->f.c, "lr:lead:rot-3", "status",
	    "assigned"));
	h_fx_stop(&t->f);
}

/*
 * redis.replica_acks = 1 with no replica: the answer waits for WAIT (its
 * timeout, 1.5 s here) so a form's 202 means the replicas had their
 * chance; a WAIT that falls short is logged and the lead still accepted
 * and routed (README "High availability").
 */
static void
test_replica_acks(void **state)
{
	struct t *t = *state;
	struct answer a;
	char *out;
	long long t0, took;
	size_t n;

	t->port = h_free_port();
	t->f.http_port = h_free_port();
	snprintf(t->tokens, sizeof(t->tokens), "%s/tokens", t->f.dir);
	h_write_file(t->tokens, TOKEN "\n");
	n = strlen(h_default_body()) + 1024;
	assert_non_null(out = malloc(n));
	snprintf(out, n, "intake = { http = { listen = \"127.0.0.1:%d\";"
	    " tokens_file = \"%s\"; }; };\n%s", t->port, t->tokens,
	    h_default_body());
	h_fx_conf(&t->f, out);
	free(out);
	h_fx_replica_acks(&t->f, 1500);
	h_daemon_start(&t->f.d[0], t->f.conf, t->f.dir, "d0");
	assert_true(h_wait_ready(t->f.c, 1));

	t0 = h_now_ms();
	a = post(t, MQL("acks-1"));
	took = h_now_ms() - t0;
	assert_int_equal(a.status, 202);
	assert_member(&a, "id", "acks-1");
	answer_clear(&a);
	if (took < 1400)
		fail_msg("202 after %lld ms: before WAIT's 1500 ms ran out", took);
	assert_true(h_wait_field(t->f.c, "lr:lead:acks-1", "status",
	    "assigned"));
	assert_true(h_log_contains(&t->f.d[0],
	    "fewer than 1 replicas acknowledged a push"));

	/* Eight forms at once: one WAIT answers every push before it, so
	 * they wait for two WAITs at most (3 s), not one each (12 s). */
	{
		char url[128], data[8][700], codes[8][700], id[32];
		const char *argv[16];
		pid_t pids[8];

		snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/leads",
		    t->port);
		t0 = h_now_ms();
		for (int i = 0; i < 8; i++) {
			snprintf(id, sizeof(id), "acks-many-%d", i);
			snprintf(data[i], sizeof(data[i]),
			    "{\"id\":\"%s\",\"email\":\"x%d@acme.example\"}", id,
			    i);
			snprintf(codes[i], sizeof(codes[i]), "%s/many%d.code",
			    t->f.dir, i);
			argv[0] = "curl";
			argv[1] = "-s";
			argv[2] = "-o";
			argv[3] = "/dev/null";
			argv[4] = "-w";
			argv[5] = "%{http_code}";
			argv[6] = "-H";
			argv[7] = "Authorization: " BEARER;
			argv[8] = "-H";
			argv[9] = "Content-Type: " JSON;
			argv[10] = "--data-binary";
			argv[11] = data[i];
			argv[12] = url;
			argv[13] = NULL;
			pids[i] = h_spawn(argv, NULL, codes[i], NULL);
		}
		for (int i = 0; i < 8; i++) {
			char *code;

			assert_int_equal(h_reap(pids[i], "curl"), 0);
			code = h_slurp(codes[i]);
			assert_string_equal(code, "202");
			free(code);
		}
		took = h_now_ms() - t0;
		if (took > 6000)
			fail_msg("8 posts took %lld ms: one WAIT each", took);
	}
	h_fx_stop(&t->f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_accepted_and_routed),
		T(test_refusals),
		T(test_redis_down),
		T(test_slow_and_surplus_clients),
		T(test_tokens_reload),
		T(test_replica_acks),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
