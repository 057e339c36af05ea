/*
 * sid.h - Redis stream entry ids ("<ms>-<seq>", two unsigned 64-bit
 * numbers), as the alert stream's clients send them back (Last-Event-ID,
 * ?after=): parsed strictly, compared, written. Pure.
 */
#ifndef LR_SID_H
#define LR_SID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest id written: two 20-digit numbers, '-', NUL. */
#define SID_LEN 42

struct sid {
	uint64_t ms, seq;
};

/*
 * Is s an entry id: decimal digits, optionally '-' and more digits (a
 * missing seq is 0), each part within 64 bits, nothing else (no sign, no
 * space)? Then *out holds it. NULL is false.
 */
bool sid_parse(const char *s, struct sid *out);
/* -1, 0 or 1 as a is before, equal to or after b in the stream. */
int sid_cmp(const struct sid *a, const struct sid *b);
/* "<ms>-<seq>" into buf (len bytes, SID_LEN is enough). */
void sid_fmt(const struct sid *s, char *buf, size_t len);

#endif
