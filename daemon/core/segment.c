/* segment.c - ordered segment rules: first match wins, else the default. */
#include <stdlib.h>
#include <string.h>

#include "segment.h"

size_t
segment_of(const struct segments *s, const json_t *lead)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].has_cond && match_eval(&s->v[i].cond, lead))
			return i;
	return s->default_idx;
}

int
segment_find(const struct segments *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].name != NULL && strcmp(s->v[i].name, name) == 0)
			return (int)i;
	return -1;
}

void
segments_clear(struct segments *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		match_cond_clear(&s->v[i].cond);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
