/* test_resp.c - a command in RESP: the bytes hiredis's own formatter makes of the same arguments, in a buffer reused from one command to the next. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "resp.h"

#define MAXARGS 64

/* resp_command's bytes must be redisFormatCommandArgv's, NUL after. */
static void
same_as_hiredis(struct resp_buf *r, int nhead, int argc, char **argv,
    size_t *lens)
{
	char *want = NULL;
	int wlen;
	size_t len;

	wlen = redisFormatCommandArgv(&want, nhead + argc,
	    (const char **)(uintptr_t)argv, lens);
	assert_true(wlen > 0);
	len = resp_command(r, nhead, (const char *const *)(uintptr_t)argv,
	    lens, argc, argv + nhead, lens + nhead);
	assert_int_equal(len, (size_t)wlen);
	assert_memory_equal(r->buf, want, len);
	assert_int_equal(r->buf[len], '\0');
	redisFreeCommand(want);
}

/* A script call as rds.c sends it: empty strings, binary bytes. */
static void
test_script_call(void **state)
{
	struct resp_buf r = {NULL, 0};
	static const char *const lit[] = {"EVALSHA",
	    "0123456789abcdef0123456789abcdef01234567", "1", "lr:incoming",
	    "commit", "", "a\0b\r\n$3\r\n", "x"};
	size_t lens[] = {7, 40, 1, 11, 6, 0, 9, 1};
	char store[128], *argv[8], *p = store;

	(void)state;
	for (int i = 0; i < 8; i++) {
		memcpy(p, lit[i], lens[i]);
		argv[i] = p;
		p += lens[i];
	}
	same_as_hiredis(&r, 4, 4, argv, lens);
	same_as_hiredis(&r, 1, 0, argv, lens);		/* one argument */
	resp_free(&r);
	assert_null(r.buf);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random commands through one buffer, growing and not: lengths 0 to 10
 * digits' worth of bytes, every byte value, one large argument. */
static void
test_random_commands(void **state)
{
	struct resp_buf r = {NULL, 0};
	static char pool[200000];
	char *argv[MAXARGS];
	size_t lens[MAXARGS];
	uint64_t s = 0x9E3779B97F4A7C15ULL;

	(void)state;
	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (char)rnd(&s);
	for (int c = 0; c < 500; c++) {
		int n = 1 + (int)(rnd(&s) % MAXARGS);
		int nhead = (int)(rnd(&s) % 5);

		if (nhead > n)
			nhead = n;
		for (int i = 0; i < n; i++) {
			size_t len = rnd(&s) % (c % 50 == 0 ? 150000 : 300);

			argv[i] = pool + rnd(&s) % (sizeof(pool) - len);
			lens[i] = len;
		}
		same_as_hiredis(&r, nhead, n - nhead, argv, lens);
	}
	resp_free(&r);
}

/* A buffer grown past RESP_KEEP is let go after its command; a smaller
 * one is kept for the next. */
static void
test_trim(void **state)
{
	struct resp_buf r = {NULL, 0};
	char *big = calloc(1, RESP_KEEP), *argv[1] = {big};
	size_t lens[1] = {RESP_KEEP};
	char ping[] = "PING", *small[1] = {ping};
	size_t slen[1] = {4};

	(void)state;
	assert_non_null(big);
	assert_true(resp_command(&r, 1, (const char *const *)(uintptr_t)argv,
	    lens, 0, NULL, NULL) > RESP_KEEP);
	resp_trim(&r);
	assert_null(r.buf);
	assert_int_equal(r.cap, 0);
	assert_int_equal(resp_command(&r, 1,
	    (const char *const *)(uintptr_t)small, slen, 0, NULL, NULL), 14);
	resp_trim(&r);
	assert_non_null(r.buf);
	assert_string_equal(r.buf, "*1\r\n$4\r\nPING\r\n");
	resp_free(&r);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_call),
		cmocka_unit_test(test_random_commands),
		cmocka_unit_test(test_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
