/* sid.c - Redis stream entry ids: parse one a client sent back, compare two, write one. */
#include <stdio.h>

#include "sid.h"

/* Digits at *s into *v (64 bits at most); the end, or NULL. */
static const char *
parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;
	const char *start = s;

	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (n > (UINT64_MAX - d) / 10)
			return NULL;
		n = n * 10 + d;
	}
	if (s == start)
		return NULL;
	*v = n;
	return s;
}

bool
sid_parse(const char *s, struct sid *out)
{
	struct sid id = {0, 0};

	if (s == NULL || (s = parse_u64(s, &id.ms)) == NULL)
		return false;
	if (*s == '-' && (s = parse_u64(s + 1, &id.seq)) == NULL)
		return false;
	if (*s != '\0')
		return false;
	*out = id;
	return true;
}

int
sid_cmp(const struct sid *a, const struct sid *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

void
sid_fmt(const struct sid *s, char *buf, size_t len)
{
	snprintf(buf, len, "%llu-%llu", (unsigned long long)s->ms,
	    (unsigned long long)s->seq);
}
