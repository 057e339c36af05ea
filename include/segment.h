/*
 * segment.h - which segment (small, mid, large...) a lead belongs to: the
 * first segment whose condition matches, else the default segment.
 */
#ifndef LR_SEGMENT_H
#define LR_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "match.h"

/* Segment names are used in Redis keys and metric labels. */
#define SEGMENT_NAME_MAX 64

struct segment {
	char *name;
	bool has_cond;		/* a segment without a rule only matches as default */
	struct match_cond cond;
	int line;
};

struct segments {
	struct segment *v;
	size_t n;
	size_t default_idx;	/* index into v */
};

/* The index of lead's segment in s->v. */
size_t segment_of(const struct segments *s, const json_t *lead);

/* The index of the segment named name, or -1. */
int segment_find(const struct segments *s, const char *name);

/* Free the segments; the struct itself is the caller's. */
void segments_clear(struct segments *s);

#endif
