/* redir.c - parse a cluster's MOVED/ASK errors and Sentinel's +switch-master messages into an address. */
#include <stdbool.h>
#include <string.h>

#include "redir.h"

/* The next space-separated word of s[*at..len): its start and length. */
static bool
next_word(const char *s, size_t len, size_t *at, const char **w, size_t *wlen)
{
	while (*at < len && s[*at] == ' ')
		(*at)++;
	if (*at >= len)
		return false;
	*w = s + *at;
	while (*at < len && s[*at] != ' ')
		(*at)++;
	*wlen = (size_t)(s + *at - *w);
	return true;
}

/* A port: 1 to 65535 in decimal digits, nothing else. */
static bool
parse_port(const char *s, size_t len, int *port)
{
	long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

/* A host: 1 to REDIR_HOST_MAX bytes, no NUL, no space, copied. */
static bool
copy_host(const char *s, size_t len, char *host)
{
	if (len == 0 || len > REDIR_HOST_MAX || memchr(s, '\0', len) != NULL)
		return false;
	memcpy(host, s, len);
	host[len] = '\0';
	return true;
}

/* "host:port", the last colon splitting (an IPv6 host keeps its own). */
static bool
parse_addr(const char *s, size_t len, char *host, int *port)
{
	size_t colon = len;

	while (colon > 0 && s[colon - 1] != ':')
		colon--;
	if (colon == 0)
		return false;
	return parse_port(s + colon, len - colon, port) &&
	    copy_host(s, colon - 1, host);
}

static bool
starts(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(s, word, n) == 0 &&
	    (len == n || s[n] == ' ');
}

enum redir_kind
redir_parse(const char *err, size_t len, char *host, int *port)
{
	enum redir_kind kind;
	const char *w;
	size_t at = 0, wlen;

	if (starts(err, len, "TRYAGAIN"))
		return REDIR_TRYAGAIN;
	if (starts(err, len, "CLUSTERDOWN"))
		return REDIR_CLUSTERDOWN;
	if (starts(err, len, "MOVED"))
		kind = REDIR_MOVED;
	else if (starts(err, len, "ASK"))
		kind = REDIR_ASK;
	else
		return REDIR_NONE;
	(void)next_word(err, len, &at, &w, &wlen);	/* the kind */
	if (!next_word(err, len, &at, &w, &wlen) ||	/* the slot */
	    !next_word(err, len, &at, &w, &wlen) ||
	    !parse_addr(w, wlen, host, port))
		return REDIR_NONE;
	return kind;
}

int
redir_switch_master(const char *msg, size_t len, const char *name,
    char *host, int *port)
{
	const char *w[5];
	size_t wlen[5], at = 0;

	for (int i = 0; i < 5; i++)
		if (!next_word(msg, len, &at, &w[i], &wlen[i]))
			return -1;
	if (wlen[0] != strlen(name) || memcmp(w[0], name, wlen[0]) != 0 ||
	    !parse_port(w[4], wlen[4], port) || !copy_host(w[3], wlen[3], host))
		return -1;
	return 0;
}
