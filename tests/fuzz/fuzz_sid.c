/* fuzz_sid.c - libFuzzer target: any bytes through sid_parse (a Last-Event-ID), checked against its own text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[SID_LEN];
	struct sid a, b;
	size_t i;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sid_parse(s, &a)) {
		/* Only digits and at most one '-' between digits got through. */
		for (i = 0; s[i] != '\0'; i++)
			FUZZ_CHECK((s[i] >= '0' && s[i] <= '9') ||
			    (s[i] == '-' && i > 0 && s[i + 1] != '\0'));
		FUZZ_CHECK(strchr(s, '-') == strrchr(s, '-'));
		/* Its text parses back to it. */
		sid_fmt(&a, buf, sizeof(buf));
		FUZZ_CHECK(sid_parse(buf, &b));
		FUZZ_CHECK(sid_cmp(&a, &b) == 0);
		FUZZ_CHECK(strlen(buf) < SID_LEN);
	}
	free(s);
	return 0;
}
