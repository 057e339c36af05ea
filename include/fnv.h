/*
 * fnv.h - FNV-1a, the 64-bit hash of a byte string, for the configuration's
 * version and hash tables. Pure.
 */
#ifndef LR_FNV_H
#define LR_FNV_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a of the len bytes at p. */
static inline uint64_t
fnv1a(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

#endif
