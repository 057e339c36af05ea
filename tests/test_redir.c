/* test_redir.c - unit tests of redir.c: a cluster's redirects and Sentinel's +switch-master, good and malformed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "redir.h"

static enum redir_kind
parse(const char *s, char *host, int *port)
{
	host[0] = '\0';
	*port = 0;
	return redir_parse(s, strlen(s), host, port);
}

static void
test_moved_and_ask(void **state)
{
	char host[REDIR_HOST_MAX + 1];
	int port;

	(void)state;
	assert_int_equal(parse("MOVED 11304 127.0.0.1:46101", host, &port),
	    REDIR_MOVED);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 46101);
	assert_int_equal(parse("ASK 3999 redis-2.example:6380", host, &port),
	    REDIR_ASK);
	assert_string_equal(host, "redis-2.example");
	assert_int_equal(port, 6380);
	/* An IPv6 node: the last colon splits. */
	assert_int_equal(parse("MOVED 1 ::1:7000", host, &port), REDIR_MOVED);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 7000);
	assert_int_equal(parse("TRYAGAIN Multiple keys request during "
	    "rehashing of slot", host, &port), REDIR_TRYAGAIN);
	assert_int_equal(parse("CLUSTERDOWN The cluster is down", host,
	    &port), REDIR_CLUSTERDOWN);
}

static void
test_not_redirects(void **state)
{
	static const char *const bad[] = {
		"", "MOVED", "MOVED 1", "MOVED 1 nohost", "MOVED 1 :6379",
		"MOVED 1 h:", "MOVED 1 h:0", "MOVED 1 h:65536", "MOVED 1 h:12a",
		"MOVED 1 h:123456", "MOVEDX 1 h:1", "ASKING 1 h:1", "READONLY x",
		"ERR MOVED 1 h:1", "NOSCRIPT No matching script",
	};
	char host[REDIR_HOST_MAX + 1], long_host[400];
	int port;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], host, &port), REDIR_NONE);
	memset(long_host, 'h', sizeof(long_host));
	memcpy(long_host, "MOVED 1 ", 8);
	strcpy(long_host + 8 + REDIR_HOST_MAX + 1, ":1");
	assert_int_equal(parse(long_host, host, &port), REDIR_NONE);
	/* Exactly REDIR_HOST_MAX fits. */
	strcpy(long_host + 8 + REDIR_HOST_MAX, ":1");
	assert_int_equal(parse(long_host, host, &port), REDIR_MOVED);
	assert_int_equal(strlen(host), REDIR_HOST_MAX);
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(redir_parse("MOVED 1 h:12345", 12, host, &port),
	    REDIR_MOVED);
	assert_int_equal(port, 12);
}

static void
test_switch_master(void **state)
{
	char host[REDIR_HOST_MAX + 1];
	const char *m = "lr 127.0.0.1 58225 127.0.0.1 34863";
	int port;

	(void)state;
	assert_int_equal(redir_switch_master(m, strlen(m), "lr", host, &port),
	    0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 34863);
	assert_int_equal(redir_switch_master(m, strlen(m), "l", host, &port),
	    -1);
	assert_int_equal(redir_switch_master(m, strlen(m), "lrx", host,
	    &port), -1);
	m = "lr 127.0.0.1 58225 127.0.0.1";
	assert_int_equal(redir_switch_master(m, strlen(m), "lr", host, &port),
	    -1);
	m = "lr a 1 b 0";
	assert_int_equal(redir_switch_master(m, strlen(m), "lr", host, &port),
	    -1);
	m = "  lr  a 1  b   2 extra";
	assert_int_equal(redir_switch_master(m, strlen(m), "lr", host, &port),
	    0);
	assert_string_equal(host, "b");
	assert_int_equal(port, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moved_and_ask),
		cmocka_unit_test(test_not_redirects),
		cmocka_unit_test(test_switch_master),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
