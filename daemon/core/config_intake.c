/* config_intake.c - the intake.http group: the HTTP intake's listen address and its tokens file, read into SHA-256 digests. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config_int.h"

#define LR(f) offsetof(struct lr_config, f)

/* A tokens file this long is not a tokens file. */
#define TOKENS_FILE_MAX (1024 * 1024)

static void check_intake_http(struct cfg_ctx *c, const config_setting_t *g,
    void *base, bool ok);

/* The members of intake.http, README order. */
const struct cfg_key cfg_intake_http_keys[] = {
	{ CFG_STRING("intake.http.listen", LR(intake.http.listen), "") },
	{ CFG_STRING("intake.http.tokens_file", LR(intake.http.tokens_file),
	    ""), .after = check_intake_http },
	{ CFG_LLONG("intake.http.timeout", LR(intake.http.timeout), 10, 1,
	    3600, "a number of seconds between 1 and 3600") },
	{ CFG_LLONG("intake.http.max_connections",
	    LR(intake.http.max_connections), 256, 1, 100000,
	    "a number of connections between 1 and 100000") },
};
const size_t cfg_intake_http_nkeys = CFG_NKEYS(cfg_intake_http_keys);

/* Is s (len bytes) a bearer token of RFC 6750 (b64token), long enough? */
static bool
valid_token(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && (isalnum((unsigned char)s[n]) ||
	    strchr("-._~+/", s[n]) != NULL))
		n++;
	while (n < len && s[n] == '=')
		n++;
	return n == len && len >= CFG_TOKEN_MIN && len <= CFG_TOKEN_MAX;
}

int
cfg_token_digest(const char *tok, size_t len,
    unsigned char out[CFG_TOKEN_DIGEST])
{
	unsigned int n = 0;

	if (EVP_Digest(tok, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != CFG_TOKEN_DIGEST)
		return -1;
	return 0;
}

/* Add the digest of one token to cfg; -1 on ENOMEM. */
static int
add_token(struct lr_config *cfg, const char *tok, size_t len)
{
	unsigned char (*v)[CFG_TOKEN_DIGEST];

	v = realloc(cfg->intake.http.token_sha,
	    (cfg->intake.http.ntokens + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	cfg->intake.http.token_sha = v;
	if (cfg_token_digest(tok, len, v[cfg->intake.http.ntokens]) == -1)
		return -1;
	cfg->intake.http.ntokens++;
	return 0;
}

/*
 * Read the tokens file: one token a line, blank lines and lines starting
 * with # skipped, spaces around a token ignored. Every bad line is
 * reported. The bytes are wiped before they are freed.
 */
static void
read_tokens(struct cfg_ctx *c, const config_setting_t *at, const char *key,
    struct lr_config *cfg)
{
	const char *path = cfg->intake.http.tokens_file;
	char *buf, *line, *next, *end;
	size_t len = 0, cap = 4096, r;
	int lineno = 0;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		cfg_err(c, at, key, "cannot be read: '%s': %s", path,
		    strerror(errno));
		return;
	}
	if ((buf = malloc(cap)) == NULL) {
		fclose(f);
		cfg_err(c, at, key, "cannot be read: '%s': %s", path,
		    strerror(ENOMEM));
		return;
	}
	while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 == cap && cap < TOKENS_FILE_MAX) {
			char *nb = realloc(buf, cap * 2);

			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		} else if (len + 1 == cap)
			break;
	}
	if (ferror(f) || len + 1 == cap) {
		cfg_err(c, at, key, "cannot be read: '%s': %s", path,
		    ferror(f) ? strerror(errno ? errno : EIO) :
		    "larger than 1 MiB or out of memory");
		goto out_free;
	}
	buf[len] = '\0';
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t\r");
		end = line + strlen(line);
		while (end > line && strchr(" \t\r", end[-1]) != NULL)
			end--;
		if (end == line || line[0] == '#')
			continue;
		if (!valid_token(line, (size_t)(end - line))) {
			cfg_err(c, at, key,
			    "'%s' line %d: a token must be %d to %d characters of A-Z a-z 0-9 - . _ ~ + / (then = padding)",
			    path, lineno, CFG_TOKEN_MIN, CFG_TOKEN_MAX);
			continue;
		}
		if (add_token(cfg, line, (size_t)(end - line)) == -1) {
			cfg_err(c, at, key, "cannot be stored: %s",
			    strerror(ENOMEM));
			goto out_free;
		}
	}
	if (cfg->intake.http.ntokens == 0)
		cfg_err(c, at, key, "'%s' holds no token (one a line)", path);
out_free:
	memset(buf, 0, cap);
	free(buf);
	fclose(f);
}

/* After both keys: the listen address, and with one, the tokens. */
static void
check_intake_http(struct cfg_ctx *c, const config_setting_t *g, void *base,
    bool ok)
{
	struct lr_config *cfg = base;
	const char *tkey = "intake.http.tokens_file";
	const config_setting_t *at = cfg_member(g, "tokens_file");

	if (!ok || cfg->intake.http.listen[0] == '\0')
		return;
	if (cfg_parse_listen(cfg->intake.http.listen, &cfg->intake.http.host,
	    &cfg->intake.http.port) == -1)
		cfg_err(c, cfg_member(g, "listen"), "intake.http.listen",
		    "must be \"host:port\" or \"[ipv6]:port\" (or \"\" to disable), not \"%s\"",
		    cfg->intake.http.listen);
	if (cfg->intake.http.tokens_file[0] == '\0')
		cfg_err(c, at != NULL ? at : cfg_member(g, "listen"), tkey,
		    "is required when intake.http.listen is set");
	else if ((c->flags & CFG_LOAD_NO_TOKENS) == 0)
		read_tokens(c, at, tkey, cfg);
}

void
cfg_load_intake_http(struct cfg_ctx *c, const config_setting_t *intake,
    void *cfg)
{
	const config_setting_t *g;

	g = cfg_get_group(c, intake, "intake", "http", false);
	cfg_check_unknown_keys(c, g, "intake.http", cfg_intake_http_keys,
	    cfg_intake_http_nkeys);
	(void)cfg_read_keys(c, g, "intake.http", cfg_intake_http_keys,
	    cfg_intake_http_nkeys, cfg);
}

void
cfg_intake_http_clear(struct lr_config *cfg)
{
	free(cfg->intake.http.listen);
	free(cfg->intake.http.host);
	free(cfg->intake.http.tokens_file);
	if (cfg->intake.http.token_sha != NULL)
		memset(cfg->intake.http.token_sha, 0,
		    cfg->intake.http.ntokens * CFG_TOKEN_DIGEST);
	free(cfg->intake.http.token_sha);
}
