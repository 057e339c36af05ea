/* test_curlso.c - libcurl loaded on demand: every function found, working, and the process did not map it before. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "curlso.h"

/* Has this process mapped libcurl? */
static bool
mapped(void)
{
	char line[512];
	bool found = false;
	FILE *f;

	assert_non_null(f = fopen("/proc/self/maps", "r"));
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, "/libcurl") != NULL;
	fclose(f);
	return found;
}

/* The test binary does not link libcurl: the first curlso() maps it,
 * and every member is a function of it. */
static void
test_loads_on_demand(void **state)
{
	const struct curlso *lc;
	void *const *f;

	(void)state;
	assert_false(mapped());
	assert_non_null(lc = curlso());
	assert_true(mapped());
	assert_ptr_equal(curlso(), lc);		/* loaded once, kept */
	assert_string_equal(curlso_error(), "libcurl is loaded");
	for (f = (void *const *)lc; f < (void *const *)(lc + 1); f++)
		assert_non_null(*f);
}

/* The functions work: the URL parser the configuration uses, an easy
 * handle, a header list, a multi handle. */
static void
test_calls(void **state)
{
	const struct curlso *lc = curlso();
	struct curl_slist *l;
	char *host = NULL;
	CURLU *u;
	CURLM *m;
	CURL *e;

	(void)state;
	assert_non_null(lc);
	assert_non_null(u = lc->url());
	assert_int_equal(lc->url_set(u, CURLUPART_URL,
	    "https://crm.example.com:8443/hooks?x=1", 0), CURLUE_OK);
	assert_int_equal(lc->url_get(u, CURLUPART_HOST, &host, 0), CURLUE_OK);
	assert_string_equal(host, "crm.example.com");
	lc->free(host);
	assert_int_not_equal(lc->url_set(u, CURLUPART_URL, "https://", 0),
	    CURLUE_OK);
	lc->url_cleanup(u);
	assert_int_equal(lc->global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	assert_non_null(e = lc->easy_init());
	assert_int_equal(lc->easy_setopt(e, CURLOPT_TIMEOUT_MS, 1000L),
	    CURLE_OK);
	assert_non_null(l = lc->slist_append(NULL, "a: b"));
	lc->slist_free_all(l);
	assert_non_null(m = lc->multi_init());
	assert_int_equal(lc->multi_add_handle(m, e), CURLM_OK);
	assert_int_equal(lc->multi_remove_handle(m, e), CURLM_OK);
	assert_int_equal(lc->multi_cleanup(m), CURLM_OK);
	lc->easy_cleanup(e);
	assert_string_equal(lc->easy_strerror(CURLE_OK), "No error");
	lc->global_cleanup();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_on_demand),
		cmocka_unit_test(test_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
