/* fuzz_lead.c - libFuzzer target: any bytes through decide_lead and dl_json. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "decide.h"
#include "fuzz.h"

#define NOW_MS 1717000000123LL

static struct lr_config *cfg;
static struct score_hit *hits;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("LR_FUZZ_LEAD_CONF");

	(void)argc;
	(void)argv;
	cfg = fuzz_load_conf(path != NULL ? path : "tests/fuzz/lead.conf");
	if ((hits = calloc(cfg->scoring.nrules + 1, sizeof(*hits))) == NULL)
		abort();
	return 0;
}

/* A dead letter: valid JSON with its reason, and the raw bytes intact. */
static void
check_dead_json(const char *js, const char *reason, const char *source,
    const char *raw, size_t len)
{
	json_t *o = fuzz_parse(js);
	const json_t *v;

	FUZZ_CHECK(strcmp(fuzz_str(o, "reason"), reason) == 0);
	FUZZ_CHECK(strcmp(fuzz_str(o, "source"), source) == 0);
	FUZZ_CHECK(json_is_string(json_object_get(o, "detail")));
	FUZZ_CHECK(json_integer_value(json_object_get(o, "at_ms")) == NOW_MS);
	if ((v = json_object_get(o, "raw")) != NULL) {
		FUZZ_CHECK(utf8_valid(raw, len, NULL));
		FUZZ_CHECK(json_string_length(v) == len);
		FUZZ_CHECK(memcmp(json_string_value(v), raw, len) == 0);
	} else {
		v = json_object_get(o, "raw_base64");
		FUZZ_CHECK(!utf8_valid(raw, len, NULL));
		FUZZ_CHECK(json_string_length(v) == (len + 2) / 3 * 4);
	}
	json_decref(o);
}

/* How deep v nests: a scalar is 0, {} is 1 (the contract's levels). */
static int
depth(json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;
	int d = 0, m;

	if (json_is_object(v)) {
		json_object_foreach(v, key, e)
			if ((m = depth(e)) > d)
				d = m;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if ((m = depth(e)) > d)
				d = m;
	} else {
		return 0;
	}
	return d + 1;
}

/* The receipt's points add up to the score, saturated, rules in order. */
static void
check_receipt(const struct lead_decision *d)
{
	json_t *r = fuzz_parse(d->receipt), *rules, *hit;
	long long sum = 0, prev = -1, rule;
	size_t i;

	FUZZ_CHECK(json_integer_value(json_object_get(r, "score")) ==
	    d->score);
	rules = json_object_get(r, "rules");
	FUZZ_CHECK(json_array_size(rules) <= cfg->scoring.nrules);
	json_array_foreach(rules, i, hit) {
		rule = json_integer_value(json_object_get(hit, "rule"));
		FUZZ_CHECK(rule > prev && rule < (long long)cfg->scoring.nrules);
		prev = rule;
		sum += json_integer_value(json_object_get(hit, "points"));
	}
	if (sum > SCORE_LIMIT)
		sum = SCORE_LIMIT;
	if (sum < -SCORE_LIMIT)
		sum = -SCORE_LIMIT;
	FUZZ_CHECK(sum == d->score);
	json_decref(r);
}

/* An accepted lead, checked against an independent parse of its bytes. */
static void
check_lead(const struct lead_decision *d, const char *raw, size_t len)
{
	json_t *o, *email;

	FUZZ_CHECK(len <= cfg->intake.max_bytes);
	FUZZ_CHECK(utf8_valid(raw, len, NULL));
	o = json_loadb(raw, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    NULL);
	FUZZ_CHECK(json_is_object(o));
	FUZZ_CHECK(depth(o) <= LEAD_MAX_DEPTH);
	FUZZ_CHECK(strcmp(fuzz_str(o, "id"), d->id) == 0);
	FUZZ_CHECK(json_string_length(json_object_get(o, "id")) ==
	    strlen(d->id));
	email = json_object_get(o, "email");
	FUZZ_CHECK(json_is_string(email) &&
	    json_string_length(email) <= LEAD_EMAIL_MAX);
	json_decref(o);
	FUZZ_CHECK(lead_valid_id(d->id, strlen(d->id)));
	FUZZ_CHECK(d->score >= -SCORE_LIMIT && d->score <= SCORE_LIMIT);
	FUZZ_CHECK(d->mql == (d->score >= cfg->scoring.mql_threshold));
	FUZZ_CHECK(d->segment < cfg->segments.n);
	FUZZ_CHECK(d->source != NULL && d->dead_json == NULL);
	check_receipt(d);
}

/* A refusal's reason agrees with what the bytes are. */
static void
check_reason(enum dl_reason r, const char *raw, size_t len)
{
	json_t *o;

	FUZZ_CHECK(r != DL_NONE && r < DL_NREASONS);
	FUZZ_CHECK((len > cfg->intake.max_bytes) == (r == DL_TOO_LARGE));
	if (r == DL_TOO_LARGE)
		return;
	FUZZ_CHECK(utf8_valid(raw, len, NULL) == (r != DL_BAD_UTF8));
	if (r == DL_BAD_UTF8)
		return;
	FUZZ_CHECK((json_depth_exceeds(raw, len, LEAD_MAX_DEPTH) != -1) ==
	    (r == DL_TOO_DEEP));
	o = json_loadb(raw, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
	    JSON_DECODE_ANY, NULL);
	if (r == DL_TOO_DEEP) {
		/* Valid JSON refused as too deep really is. */
		FUZZ_CHECK(o == NULL || depth(o) > LEAD_MAX_DEPTH);
		json_decref(o);
		return;
	}
	FUZZ_CHECK((o == NULL) == (r == DL_BAD_JSON));
	if (o != NULL)
		FUZZ_CHECK(depth(o) <= LEAD_MAX_DEPTH);
	FUZZ_CHECK(o == NULL || json_is_object(o) == (r != DL_NOT_OBJECT));
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	struct lead_decision d;
	char *detail, *js;

	if (decide_lead(cfg, raw, size, 0, NOW_MS, hits, &d) == -1)
		abort();	/* only ENOMEM, which ASan does not return */
	if (d.kind == DECISION_DEAD) {
		check_reason(d.reason, raw, size);
		check_dead_json(d.dead_json, dl_reason_name(d.reason),
		    "incoming", raw, size);
	} else {
		check_lead(&d, raw, size);
	}
	lead_decision_clear(&d);

	/* The input as a detail too: cut at a NUL, maybe not UTF-8. */
	if ((detail = strndup(raw, size)) == NULL)
		abort();
	js = dl_json(DL_POISON, detail, NOW_MS, "incoming", raw, size);
	FUZZ_CHECK(js != NULL);
	check_dead_json(js, "poison", "incoming", raw, size);
	free(js);
	free(detail);
	return 0;
}
