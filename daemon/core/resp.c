/* resp.c - a Redis command in RESP into a buffer kept for the next one. */
#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* v in decimal, written backwards to end on; returns where it starts. */
static char *
resp_digits(char *end, size_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* "<mark><n>\r\n" at p; returns the byte after it. */
static char *
resp_head(char *p, char mark, size_t n)
{
	char tmp[24], *d = resp_digits(tmp + sizeof(tmp), n);

	*p++ = mark;
	memcpy(p, d, (size_t)(tmp + sizeof(tmp) - d));
	p += tmp + sizeof(tmp) - d;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* "$<len>\r\n<bytes>\r\n" at p; returns the byte after it. */
static char *
resp_bulk(char *p, const char *s, size_t len)
{
	p = resp_head(p, '$', len);
	if (len > 0)
		memcpy(p, s, len);
	p += len;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* The most bytes resp_head writes, and resp_bulk for len bytes. */
#define RESP_HEAD_MAX (1 + 20 + 2)
#define RESP_BULK_MAX(len) (RESP_HEAD_MAX + (len) + 2)

size_t
resp_command(struct resp_buf *r, int nhead, const char *const *head,
    const size_t *hlen, int argc, char *const *argv, const size_t *lens)
{
	size_t need = RESP_HEAD_MAX + 1;
	char *p;

	for (int i = 0; i < nhead; i++)
		need += RESP_BULK_MAX(hlen[i]);
	for (int i = 0; i < argc; i++)
		need += RESP_BULK_MAX(lens[i]);
	if (need > r->cap) {
		resp_free(r);
		if ((r->buf = malloc(need)) == NULL)
			return 0;
		r->cap = need;
	}
	p = resp_head(r->buf, '*', (size_t)nhead + (size_t)argc);
	for (int i = 0; i < nhead; i++)
		p = resp_bulk(p, head[i], hlen[i]);
	for (int i = 0; i < argc; i++)
		p = resp_bulk(p, argv[i], lens[i]);
	*p = '\0';
	return (size_t)(p - r->buf);
}

void
resp_trim(struct resp_buf *r)
{
	if (r->cap > RESP_KEEP)
		resp_free(r);
}

void
resp_free(struct resp_buf *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}
