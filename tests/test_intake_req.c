/* test_intake_req.c - cmocka tests of the HTTP intake's decision (intake_req.c) and of the intake.http keys (config_intake.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "intake_req.h"

#define TOK1 "form-token-0123456789abcdef"
#define TOK2 "second.token_with~chars+/=="
#define LEAD "{\"id\":\"l-1\",\"email\":\"a@b.example\"}"

/* A configuration with the two tokens and max_bytes of 256. */
static struct lr_config *
tcfg(void)
{
	static struct lr_config cfg;
	static unsigned char sha[2][CFG_TOKEN_DIGEST];

	memset(&cfg, 0, sizeof(cfg));
	cfg.intake.max_bytes = 256;
	assert_int_equal(cfg_token_digest(TOK1, strlen(TOK1), sha[0]), 0);
	assert_int_equal(cfg_token_digest(TOK2, strlen(TOK2), sha[1]), 0);
	cfg.intake.http.token_sha = sha;
	cfg.intake.http.ntokens = 2;
	return &cfg;
}

/* A well-formed request for body; tests change one thing of it. */
static struct intake_request
req(const char *body)
{
	struct intake_request r = {
		.method = "POST", .path = "/v1/leads",
		.authorization = "Bearer " TOK1,
		.content_type = "application/json",
		.body = body, .len = strlen(body),
	};

	return r;
}

static void
decide(const struct intake_request *r, int status, const char *error,
    struct intake_verdict *v)
{
	intake_req_decide(r, tcfg(), v);
	assert_int_equal(v->status, status);
	if (error == NULL)
		assert_null(v->error);
	else
		assert_string_equal(v->error, error);
}

/* The answer body parsed: the member k as a string. */
static void
assert_body(const struct intake_verdict *v, const char *k, const char *want)
{
	char *s = intake_req_body(v);
	json_t *o;

	assert_non_null(s);
	assert_non_null(o = json_loads(s, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(o, k)), want);
	json_decref(o);
	free(s);
}

static void
test_accepted(void **state)
{
	struct intake_request r = req(LEAD);
	struct intake_verdict v;

	(void)state;
	decide(&r, 202, NULL, &v);
	assert_string_equal(v.id, "l-1");
	assert_null(v.header);
	assert_body(&v, "id", "l-1");
	/* The other token, a scheme in other case, spaces, parameters. */
	r.authorization = "  bearer   " TOK2 "  ";
	r.content_type = "Application/JSON ; charset=utf-8";
	decide(&r, 202, NULL, &v);
	r.content_type = "application/json;charset=UTF-8";
	decide(&r, 202, NULL, &v);
}

static void
test_path_and_method(void **state)
{
	struct intake_request r = req(LEAD);
	struct intake_verdict v;
	const char *paths[] = {"/", "/v1/leads/", "/v1/lead", "/V1/LEADS",
		"/v1/leads/x", ""};
	const char *meths[] = {"GET", "HEAD", "PUT", "DELETE", "PATCH",
		"OPTIONS", "post"};

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r.path = paths[i];
		decide(&r, 404, "not_found", &v);
	}
	r.path = NULL;
	decide(&r, 404, "not_found", &v);
	r.path = "/v1/leads";
	/* Before the token: a wrong method without one is a 405. */
	r.authorization = NULL;
	for (size_t i = 0; i < sizeof(meths) / sizeof(meths[0]); i++) {
		r.method = meths[i];
		decide(&r, 405, "method_not_allowed", &v);
		assert_string_equal(v.header, "Allow");
		assert_string_equal(v.header_value, "POST");
	}
}

static void
test_unauthorized(void **state)
{
	struct intake_request r = req(LEAD);
	struct intake_verdict v;
	const char *bad[] = {
		"", "Bearer", "Bearer ", "Bearer  ", TOK1, "Basic " TOK1,
		"Bearer" TOK1, "Bearer " TOK1 "x", "Bearer x" TOK1,
		/* a prefix of a real token, and a token with a byte changed */
		"Bearer form-token-0123456789abcde", "Bearer form-token-0123456789abcdeF",
		"Bearer " TOK1 " " TOK1, "Bearer " TOK2 "=",
	};
	char huge[CFG_TOKEN_MAX + 64];

	(void)state;
	r.authorization = NULL;
	decide(&r, 401, "unauthorized", &v);
	assert_string_equal(v.header, "WWW-Authenticate");
	assert_string_equal(v.header_value, "Bearer realm=\"leadrouted\"");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.authorization = bad[i];
		decide(&r, 401, "unauthorized", &v);
		assert_string_equal(v.header, "WWW-Authenticate");
	}
	snprintf(huge, sizeof(huge), "Bearer %0*d", CFG_TOKEN_MAX + 1, 7);
	r.authorization = huge;
	decide(&r, 401, "unauthorized", &v);
	/* Without tokens, nothing is let in. */
	r.authorization = "Bearer " TOK1;
	tcfg();
	{
		struct lr_config *c = tcfg();

		c->intake.http.ntokens = 0;
		intake_req_decide(&r, c, &v);
		assert_int_equal(v.status, 401);
	}
}

static void
test_media_type(void **state)
{
	struct intake_request r = req(LEAD);
	struct intake_verdict v;
	const char *bad[] = {"", "text/plain", "application/json5",
		"application/jsonx; charset=utf-8", "application/x-www-form-urlencoded",
		"application/*", "json", "application/ld+json"};

	(void)state;
	r.content_type = NULL;
	decide(&r, 415, "unsupported_media_type", &v);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.content_type = bad[i];
		decide(&r, 415, "unsupported_media_type", &v);
	}
	/* The token is checked first: no media type news without one. */
	r.authorization = "Bearer nope-nope-nope-nope";
	decide(&r, 401, "unauthorized", &v);
}

/* One body per reason, as lead_parse names it. */
static void
test_bodies(void **state)
{
	static const struct {
		const char *body;
		size_t len;
		int status;
		const char *reason;
	} cases[] = {
#define C(b, s, r) {b, sizeof(b) - 1, s, r}
		C("{\"id\":\"x\",\"email\":\"\xff\"}", 400, "bad_utf8"),
		C("{\"id\":\"x\",\"email\":\"a@b\",\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
		    400, "too_deep"),
		C("{\"id\":\"x\",", 400, "bad_json"),
		C("", 400, "bad_json"),
		C("[1,2]", 400, "not_object"),
		C("{\"email\":\"a@b\"}", 400, "missing_id"),
		C("{\"id\":\"\",\"email\":\"a@b\"}", 400, "bad_id"),
		C("{\"id\":7,\"email\":\"a@b\"}", 400, "bad_id"),
		C("{\"id\":\"x\"}", 400, "missing_email"),
		C("{\"id\":\"x\",\"email\":\"nowhere\"}", 400, "bad_email"),
#undef C
	};
	struct intake_request r = req(LEAD);
	struct intake_verdict v;
	char big[300];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r.body = cases[i].body;
		r.len = cases[i].len;
		decide(&r, cases[i].status, cases[i].reason, &v);
		assert_true(strlen(v.detail) > 0);
		assert_body(&v, "error", cases[i].reason);
	}
	memset(big, ' ', sizeof(big));
	memcpy(big, LEAD, strlen(LEAD));
	r.body = big;
	r.len = 257;
	decide(&r, 413, "too_large", &v);
	assert_body(&v, "error", "too_large");
	r.len = 256;		/* the limit itself is fine */
	decide(&r, 202, NULL, &v);
	/* Bytes after a NUL count: the body is len bytes, not a C string. */
	r.body = LEAD "\0junk";
	r.len = sizeof(LEAD "\0junk") - 1;
	decide(&r, 400, "bad_json", &v);
}

static void
test_unavailable_and_texts(void **state)
{
	struct intake_verdict v;
	char *s;

	(void)state;
	intake_req_unavailable(&v, "redis is unreachable; try again");
	assert_int_equal(v.status, 503);
	assert_string_equal(v.header, "Retry-After");
	assert_string_equal(v.header_value, INTAKE_RETRY_AFTER);
	assert_body(&v, "error", "unavailable");
	assert_body(&v, "detail", "redis is unreachable; try again");
	for (int i = 0; i < INTAKE_NSTATUS; i++) {
		assert_int_equal(intake_status_index(intake_statuses[i]), i);
		assert_string_not_equal(intake_status_text(intake_statuses[i]),
		    "Error");
	}
	assert_int_equal(intake_status_index(200), -1);
	/* A detail cut inside a UTF-8 sequence still makes a JSON body. */
	memset(v.detail, 0, sizeof(v.detail));
	memcpy(v.detail, "caf\xc3", 4);
	assert_non_null(s = intake_req_body(&v));
	assert_string_equal(s, "{\"error\":\"unavailable\",\"detail\":\"caf\"}");
	free(s);
}

/* --- the intake.http keys ------------------------------------------------ */

static char dir[64];

static void
write_file(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

#define BASE "scoring = { mql_threshold = 60; rules = (); };\n" \
	"segments = ( { name = \"all\"; } );\n" \
	"default_segment = \"all\";\n" \
	"reps = ( { id = \"ann\"; segments = [\"all\"]; } );\n"

/* Load BASE plus an intake group on line 5 naming tokens_file tf. */
static struct lr_config *
load_intake(const char *listen, const char *tf, struct cfg_diag *diag)
{
	char conf[1024], path[128];

	snprintf(conf, sizeof(conf), BASE
	    "intake = { http = { listen = \"%s\";\n tokens_file = \"%s\"; }; };\n",
	    listen, tf);
	write_file("lr.conf", conf, path, sizeof(path));
	return cfg_load(path, diag);
}

static void
assert_one_error(struct cfg_diag *diag, const char *want)
{
	if (diag->nerrors != 1 || strstr(diag->errors[0], want) == NULL) {
		for (size_t i = 0; i < diag->nerrors; i++)
			print_message("error: %s\n", diag->errors[i]);
		fail_msg("expected one error with \"%s\"", want);
	}
}

static void
test_config_keys(void **state)
{
	struct cfg_diag diag = {0};
	struct lr_config *cfg;
	struct intake_request r = req(LEAD);
	struct intake_verdict v;
	char tf[128], msg[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_intake_req.XXXXXX");
	assert_non_null(mkdtemp(dir));

	/* Off by default: no tokens file is read. */
	assert_non_null(cfg = load_intake("", "/nonexistent", &diag));
	assert_null(cfg->intake.http.host);
	assert_int_equal(cfg->intake.http.ntokens, 0);
	assert_int_equal(cfg->intake.http.timeout, 10);
	assert_int_equal(cfg->intake.http.max_connections, 256);
	cfg_free(cfg);

	write_file("tokens", "# form tokens\n\n  " TOK1 "  \r\n#" TOK2 "\n"
	    TOK2 "\n", tf, sizeof(tf));
	assert_non_null(cfg = load_intake("127.0.0.1:8080", tf, &diag));
	assert_string_equal(cfg->intake.http.host, "127.0.0.1");
	assert_int_equal(cfg->intake.http.port, 8080);
	assert_int_equal(cfg->intake.http.ntokens, 2);
	r.authorization = "Bearer " TOK2;
	intake_req_decide(&r, cfg, &v);
	assert_int_equal(v.status, 202);
	r.authorization = "Bearer #" TOK2;	/* a comment is no token */
	intake_req_decide(&r, cfg, &v);
	assert_int_equal(v.status, 401);
	cfg_free(cfg);

	/* leadctl leaves the tokens unread. */
	{
		char conf[128];

		snprintf(conf, sizeof(conf), "%s/lr.conf", dir);
		assert_null(load_intake("127.0.0.1:8080", "/nonexistent/t",
		    &diag));
		cfg_diag_clear(&diag);
		assert_non_null(cfg = cfg_load_flags(conf, &diag,
		    CFG_LOAD_NO_TOKENS));
		assert_int_equal(diag.nerrors, 0);
		assert_int_equal(cfg->intake.http.ntokens, 0);
		cfg_free(cfg);
	}

	/* Unreadable, empty, a bad line: the file, line and key named. */
	assert_null(load_intake("127.0.0.1:8080", "/nonexistent/t", &diag));
	snprintf(msg, sizeof(msg),
	    "lr.conf:6: 'intake.http.tokens_file' cannot be read: '/nonexistent/t'");
	assert_one_error(&diag, msg);
	cfg_diag_clear(&diag);
	write_file("empty", "# nothing yet\n\n", tf, sizeof(tf));
	assert_null(load_intake("127.0.0.1:8080", tf, &diag));
	assert_one_error(&diag, "lr.conf:6: 'intake.http.tokens_file'");
	assert_one_error(&diag, "holds no token");
	cfg_diag_clear(&diag);
	write_file("bad", TOK1 "\nshort\n", tf, sizeof(tf));
	assert_null(load_intake("127.0.0.1:8080", tf, &diag));
	snprintf(msg, sizeof(msg), "'%s' line 2: a token must be", tf);
	assert_one_error(&diag, msg);
	cfg_diag_clear(&diag);
	assert_null(load_intake("127.0.0.1:8080", "", &diag));
	assert_one_error(&diag, "'intake.http.tokens_file' is required when intake.http.listen is set");
	cfg_diag_clear(&diag);
	write_file("tokens", TOK1 "\n", tf, sizeof(tf));
	assert_null(load_intake("8080", tf, &diag));
	assert_one_error(&diag, "lr.conf:5: 'intake.http.listen' must be \"host:port\"");
	cfg_diag_clear(&diag);

	unlink(tf);
	snprintf(tf, sizeof(tf), "%s/bad", dir);
	unlink(tf);
	snprintf(tf, sizeof(tf), "%s/empty", dir);
	unlink(tf);
	snprintf(tf, sizeof(tf), "%s/lr.conf", dir);
	unlink(tf);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_path_and_method),
		cmocka_unit_test(test_unauthorized),
		cmocka_unit_test(test_media_type),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_unavailable_and_texts),
		cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
