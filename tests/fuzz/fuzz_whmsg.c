/* fuzz_whmsg.c - libFuzzer target: what webhook delivery parses of outside input: an endpoint's Retry-After header, a body turned into a Slack line, a secret. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "whmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is s (len) blanks, digits, then white space, with some digit? */
static bool
delta_seconds(const char *s, size_t len)
{
	size_t i = 0, d;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (d = i; i < len && isdigit((unsigned char)s[i]); i++)
		;
	if (i == d)
		return false;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i == len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	unsigned char key[WH_KEY_MAX];
	long long v = wh_retry_after(s, size);
	char *text, *copy;
	json_t *o;
	size_t len = 0;

	FUZZ_CHECK(v >= -1 && v <= 1000000000LL);
	FUZZ_CHECK((v >= 0) == delta_seconds(s, size));
	/* A Slack body is one object with one string member "text". */
	if ((text = wh_slack_body(s, size)) != NULL) {
		o = json_loads(text, 0, NULL);
		FUZZ_CHECK(o != NULL && json_object_size(o) == 1 &&
		    json_is_string(json_object_get(o, "text")));
		json_decref(o);
		free(text);
	}
	if ((copy = strndup(s, size)) != NULL) {
		if (wh_secret_decode(copy, key, &len) == 0)
			FUZZ_CHECK(len >= WH_KEY_MIN && len <= WH_KEY_MAX &&
			    strncmp(copy, WH_SECRET_PREFIX, 6) == 0);
		free(copy);
	}
	return 0;
}
