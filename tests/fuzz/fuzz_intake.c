/* fuzz_intake.c - libFuzzer target: any request (method, path, headers, body) through the HTTP intake's decision and its answer body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fuzz.h"
#include "intake_req.h"

/* The tokens of tests/fuzz/intake.tokens, in clear. */
static const char *const tokens[] = {"form-token-0123456789abcdef",
	"second.token_with~chars+/=="};

static struct lr_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg = fuzz_load_conf("tests/fuzz/intake.conf");
	FUZZ_CHECK(cfg->intake.http.ntokens == 2);
	return 0;
}

/*
 * The next line of the input as a C string (malloc'd; NULL when empty,
 * as for an absent header); *p and *n move past it.
 */
static char *
field(const char **p, size_t *n)
{
	const char *nl = memchr(*p, '\n', *n);
	size_t len = nl != NULL ? (size_t)(nl - *p) : *n;
	char *s = NULL;

	if (len > 0 && (s = strndup(*p, len)) == NULL)
		abort();
	*p += len + (nl != NULL);
	*n -= len + (nl != NULL);
	return s;
}

/* Does the header hold one of the tokens, whole, after "Bearer"? */
static bool
has_token(const char *auth)
{
	const char *t;
	size_t len;

	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		len = strlen(tokens[i]);
		if ((t = strstr(auth, tokens[i])) != NULL &&
		    (t[len] == '\0' || t[len] == ' ' || t[len] == '\t') &&
		    t > auth && (t[-1] == ' ' || t[-1] == '\t'))
			return true;
	}
	return false;
}

/* The answer body: JSON with the id, or the error word and a detail. */
static void
check_body(const struct intake_verdict *v)
{
	char *s = intake_req_body(v);
	json_t *o;

	FUZZ_CHECK(s != NULL);
	o = fuzz_parse(s);
	if (v->status == 202) {
		FUZZ_CHECK(strcmp(fuzz_str(o, "id"), v->id) == 0);
	} else {
		FUZZ_CHECK(strcmp(fuzz_str(o, "error"), v->error) == 0);
		FUZZ_CHECK(json_is_string(json_object_get(o, "detail")));
	}
	json_decref(o);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t n = size;
	struct intake_request r;
	struct intake_verdict v;
	struct lead lead;
	struct lead_error err;
	char *method, *path, *auth, *ctype;
	int parsed;

	method = field(&p, &n);
	path = field(&p, &n);
	auth = field(&p, &n);
	ctype = field(&p, &n);
	r.method = method;
	r.path = path;
	r.authorization = auth;
	r.content_type = ctype;
	r.body = p;
	r.len = n;
	intake_req_decide(&r, cfg, &v);

	FUZZ_CHECK(intake_status_index(v.status) != -1);
	FUZZ_CHECK((v.status == 404) ==
	    (path == NULL || strcmp(path, "/v1/leads") != 0));
	if (v.status != 404)
		FUZZ_CHECK((v.status == 405) ==
		    (method == NULL || strcmp(method, "POST") != 0));
	if (v.status != 404 && v.status != 405 && v.status != 401)
		FUZZ_CHECK(auth != NULL && has_token(auth));
	if (v.status == 401 || v.status == 405)
		FUZZ_CHECK(v.header != NULL && v.header_value != NULL);
	parsed = lead_parse(p, n, cfg->intake.max_bytes, &lead, &err);
	if (v.status == 202) {
		FUZZ_CHECK(ctype != NULL && strncasecmp(ctype +
		    strspn(ctype, " \t"), "application/json", 16) == 0);
		FUZZ_CHECK(parsed == 0 && strcmp(lead.id, v.id) == 0);
	}
	if (v.status == 400 || v.status == 413) {
		FUZZ_CHECK(parsed == -1);
		FUZZ_CHECK(strcmp(v.error, dl_reason_name(err.reason)) == 0);
		FUZZ_CHECK((v.status == 413) == (err.reason == DL_TOO_LARGE));
	}
	if (parsed == 0)
		lead_clear(&lead);
	check_body(&v);
	free(method);
	free(path);
	free(auth);
	free(ctype);
	return 0;
}
