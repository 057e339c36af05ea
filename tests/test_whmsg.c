/* test_whmsg.c - the pure decisions of webhook delivery: event types, secrets, the Standard Webhooks signature (the specification's example), the Slack line, verdicts, backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "whmsg.h"
#include "wire.h"

/* The example of the Standard Webhooks specification (and its libraries'
 * tests): this secret, id, time and payload sign as SIG. */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS 1614265330LL
#define SPEC_BODY "{\"test\": 2432232314}"
#define SPEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void
test_types(void **state)
{
	(void)state;
	assert_string_equal(wh_type_name(0), WIRE_WH_ASSIGNED);
	assert_int_equal(wh_type_index("lead.reassigned"), 1);
	assert_int_equal(wh_type_index("capacity.forecast"), 10);
	assert_null(wh_type_name(11));
	assert_int_equal(wh_type_index("lead.bogus"), -1);
	assert_int_equal(wh_type_index(""), -1);
	assert_int_equal(wh_types_all(), 0x7ff);
}

static void
test_secret(void **state)
{
	unsigned char key[WH_KEY_MAX];
	size_t len = 0;

	(void)state;
	assert_int_equal(wh_secret_decode(SPEC_SECRET, key, &len), 0);
	assert_int_equal(len, 24);
	/* No prefix, not base64, too short, too long, empty. */
	assert_int_equal(wh_secret_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    key, &len), -1);
	assert_int_equal(wh_secret_decode("whsec_MfKQ9r8GKYqr!wjUPD8ILPZIo2LaLaSw",
	    key, &len), -1);
	assert_int_equal(wh_secret_decode("whsec_c2hvcnQ=", key, &len), -1);
	assert_int_equal(wh_secret_decode("whsec_", key, &len), -1);
	assert_int_equal(wh_secret_decode("whsec_"
	    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
	    "QUFBQUFBQUFBQUFBQUFBQUFBQUFB", key, &len), -1);
	/* 64 bytes is the most. */
	assert_int_equal(wh_secret_decode("whsec_"
	    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
	    "QUFBQUFBQUFBQUFBQUFBQUFBQQ==", key, &len), 0);
	assert_int_equal(len, 64);
}

static void
test_sign_spec_example(void **state)
{
	unsigned char key[WH_KEY_MAX];
	char sig[WH_SIGNATURE_LEN];
	size_t len;

	(void)state;
	assert_int_equal(wh_secret_decode(SPEC_SECRET, key, &len), 0);
	assert_int_equal(wh_sign(key, len, SPEC_ID, SPEC_TS, SPEC_BODY,
	    strlen(SPEC_BODY), sig), 0);
	assert_string_equal(sig, SPEC_SIG);
	/* Another time, another signature. */
	assert_int_equal(wh_sign(key, len, SPEC_ID, SPEC_TS + 1, SPEC_BODY,
	    strlen(SPEC_BODY), sig), 0);
	assert_string_not_equal(sig, SPEC_SIG);
}

static void
test_slack(void **state)
{
	const char *b = "{\"type\":\"lead.assigned\",\"timestamp\":\"x\","
	    "\"data\":{\"lead_id\":\"L1\",\"rep\":\"ann\",\"segment\":\"mid\","
	    "\"score\":75,\"lead\":{\"id\":\"L1\"}}}";
	char *s;

	(void)state;
	s = wh_slack_body(b, strlen(b));
	assert_non_null(s);
	assert_string_equal(s, "{\"text\":\"leadrouted: lead.assigned, lead L1, "
	    "rep ann, segment mid, score 75\"}");
	free(s);
	assert_null(wh_slack_body("not json", 8));
	assert_null(wh_slack_body("{\"type\":1}", 10));
}

static void
test_verdict(void **state)
{
	(void)state;
	assert_int_equal(wh_verdict(200), WH_OK);
	assert_int_equal(wh_verdict(204), WH_OK);
	assert_int_equal(wh_verdict(299), WH_OK);
	assert_int_equal(wh_verdict(0), WH_RETRY);
	assert_int_equal(wh_verdict(408), WH_RETRY);
	assert_int_equal(wh_verdict(429), WH_RETRY);
	assert_int_equal(wh_verdict(500), WH_RETRY);
	assert_int_equal(wh_verdict(503), WH_RETRY);
	assert_int_equal(wh_verdict(599), WH_RETRY);
	assert_int_equal(wh_verdict(301), WH_END);
	assert_int_equal(wh_verdict(302), WH_END);
	assert_int_equal(wh_verdict(400), WH_END);
	assert_int_equal(wh_verdict(404), WH_END);
	assert_int_equal(wh_verdict(410), WH_END);
	assert_int_equal(wh_verdict(100), WH_END);
}

static void
test_backoff(void **state)
{
	(void)state;
	/* 1 s doubling, jitter up to a quarter more, capped. */
	assert_int_equal(wh_backoff_ms(1, -1, 3600, 0), 1000);
	assert_int_equal(wh_backoff_ms(2, -1, 3600, 0), 2000);
	assert_int_equal(wh_backoff_ms(3, -1, 3600, 0), 4000);
	assert_int_equal(wh_backoff_ms(1, -1, 3600, 0.999), 1249);
	assert_int_equal(wh_backoff_ms(30, -1, 3600, 0), 3600000);
	assert_int_equal(wh_backoff_ms(1000, -1, 60, 0.5), 60000);
	assert_int_equal(wh_backoff_ms(3, -1, 3, 0.9), 3000);
	/* Retry-After wins when longer, never past the cap. */
	assert_int_equal(wh_backoff_ms(1, 10, 3600, 0), 10000);
	assert_int_equal(wh_backoff_ms(3, 1, 3600, 0), 4000);
	assert_int_equal(wh_backoff_ms(1, 7200, 3600, 0), 3600000);
}

static void
test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(wh_retry_after(" 2\r\n", 4), 2);
	assert_int_equal(wh_retry_after("120", 3), 120);
	assert_int_equal(wh_retry_after("", 0), -1);
	assert_int_equal(wh_retry_after("soon", 4), -1);
	assert_int_equal(wh_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 29),
	    -1);
	assert_int_equal(wh_retry_after("99999999999999999999", 20),
	    1000000000LL);
	/* Capped, and what follows still checked (found by fuzz_whmsg). */
	assert_int_equal(wh_retry_after("99999999999999999999x", 21), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_sign_spec_example),
		cmocka_unit_test(test_slack),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
