/* test_sid.c - stream entry ids: what parses, what does not, their order and their text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sid.h"

static void
test_parse_good(void **state)
{
	struct sid s;

	(void)state;
	assert_true(sid_parse("1717000000123-0", &s));
	assert_true(s.ms == 1717000000123ULL && s.seq == 0);
	assert_true(sid_parse("5-7", &s));
	assert_true(s.ms == 5 && s.seq == 7);
	assert_true(sid_parse("42", &s));	/* XRANGE's own shorthand */
	assert_true(s.ms == 42 && s.seq == 0);
	assert_true(sid_parse("0-0", &s));
	assert_true(sid_parse("18446744073709551615-18446744073709551615", &s));
	assert_true(s.ms == UINT64_MAX && s.seq == UINT64_MAX);
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {"", "-", "-1", "1-", "1--2", "+1",
	    " 1-2", "1-2 ", "1-2\n", "1-2-3", "a-1", "1-b", "0x10-1",
	    "18446744073709551616-0", "1-18446744073709551616", "$", ">",
	    "(1-2", "1.5-2", "1-2\r\nevent: x"};
	struct sid s = {9, 9};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sid_parse(bad[i], &s))
			fail_msg("'%s' parsed", bad[i]);
		assert_true(s.ms == 9 && s.seq == 9);	/* untouched */
	}
	assert_false(sid_parse(NULL, &s));
}

static void
test_order_and_text(void **state)
{
	struct sid a, b;
	char buf[SID_LEN];

	(void)state;
	assert_true(sid_parse("10-5", &a) && sid_parse("10-6", &b));
	assert_int_equal(sid_cmp(&a, &b), -1);
	assert_int_equal(sid_cmp(&b, &a), 1);
	assert_int_equal(sid_cmp(&a, &a), 0);
	assert_true(sid_parse("9-99", &b));
	assert_int_equal(sid_cmp(&b, &a), -1);	/* ms first */
	assert_true(sid_parse("18446744073709551615-18446744073709551615", &a));
	sid_fmt(&a, buf, sizeof(buf));
	assert_string_equal(buf, "18446744073709551615-18446744073709551615");
	assert_true(sid_parse("0042", &a));
	sid_fmt(&a, buf, sizeof(buf));
	assert_string_equal(buf, "42-0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_order_and_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
