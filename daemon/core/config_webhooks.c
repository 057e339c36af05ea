/* config_webhooks.c - load the webhooks list (README "Webhooks"): endpoints, their event and rep filters, secrets and retry limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "curlso.h"
#include "whmsg.h"

#define WH(f) offsetof(struct webhook_cfg, f)

/* The longest secret_file read. */
#define WH_SECRET_FILE_MAX 4096

static int
parse_format(const char *s)
{
	if (strcmp(s, "standard") == 0)
		return WH_FORMAT_STANDARD;
	if (strcmp(s, "slack") == 0)
		return WH_FORMAT_SLACK;
	return -1;
}

_Static_assert(sizeof(enum wh_format) == sizeof(int),
    "a CFG_T_ENUM key stores an int");

/* The members of one endpoint; load_webhook reads the CFG_T_OWN ones. */
const struct cfg_key cfg_wh_keys[] = {
	{ CFG_OWN("webhooks.[i].name", NULL), .flags = CFG_REQUIRED },
	{ CFG_OWN("webhooks.[i].url", NULL), .flags = CFG_REQUIRED },
	{ CFG_OWN("webhooks.[i].events", NULL) },
	{ CFG_OWN("webhooks.[i].reps", NULL) },
	{ CFG_OWN("webhooks.[i].secret", NULL) },
	{ CFG_OWN("webhooks.[i].secret_file", NULL) },
	{ CFG_ENUM("webhooks.[i].format", WH(format), WH_FORMAT_STANDARD,
	    parse_format, "\"standard\" or \"slack\""),
	    .flags = CFG_SAY_VALUE },
	{ CFG_LLONG("webhooks.[i].timeout", WH(timeout), 10, 1, 600,
	    "a number of seconds between 1 and 600") },
	{ CFG_LLONG("webhooks.[i].max_attempts", WH(max_attempts), 10, 1, 1000,
	    "an integer between 1 and 1000") },
	{ CFG_LLONG("webhooks.[i].max_backoff", WH(max_backoff), 3600, 1,
	    7 * CFG_DAY_S, "a number of seconds between 1 and 604800") },
};
const size_t cfg_wh_nkeys = CFG_NKEYS(cfg_wh_keys);

/* The name: valid and not taken by an earlier endpoint. */
static void
load_name(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct lr_config *cfg, struct webhook_cfg *w)
{
	char key[CFG_KEY_MAX];

	if (cfg_get_string(c, g, pkey, "name", true, NULL, &w->name) == -1 ||
	    w->name == NULL)
		return;
	cfg_key_join(key, pkey, "name");
	if (!cfg_valid_name(w->name))
		cfg_err(c, cfg_member(g, "name"), key,
		    "must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
	for (size_t j = 0; j < cfg->nwebhooks; j++)
		if (cfg->webhooks[j].name != NULL &&
		    strcmp(cfg->webhooks[j].name, w->name) == 0)
			cfg_err(c, cfg_member(g, "name"), key,
			    "duplicates webhook \"%s\" of line %d", w->name,
			    cfg->webhooks[j].line);
}

/* Is url an absolute http:// or https:// URL with a host, as libcurl lc
 * parses it (the parser that will send to it)? */
static bool
valid_url(const struct curlso *lc, const char *url)
{
	CURLU *h = lc->url();
	char *scheme = NULL, *host = NULL;
	bool ok;

	if (h == NULL)
		return false;
	ok = strpbrk(url, " \t\r\n") == NULL &&
	    lc->url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    lc->url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    lc->url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
	    host[0] != '\0';
	lc->free(scheme);
	lc->free(host);
	lc->url_cleanup(h);
	return ok;
}

/* http:// or https://, then a host. */
static void
load_url(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct webhook_cfg *w)
{
	const struct curlso *lc;
	char key[CFG_KEY_MAX];

	if (cfg_get_string(c, g, pkey, "url", true, NULL, &w->url) == -1 ||
	    w->url == NULL)
		return;
	if ((lc = curlso()) == NULL)
		cfg_err(c, cfg_member(g, "url"), cfg_key_join(key, pkey, "url"),
		    "cannot be checked or sent to: %s", curlso_error());
	else if (!valid_url(lc, w->url))
		cfg_err(c, cfg_member(g, "url"), cfg_key_join(key, pkey, "url"),
		    "must be an http:// or https:// URL with a host (not quoted: "
		    "a URL may hold a token)");
}

/* A list of strings under member name; each handed to take(). */
static void
load_strings(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    const char *name, const char *what,
    void (*take)(struct cfg_ctx *, const config_setting_t *, const char *,
    const char *, struct lr_config *, struct webhook_cfg *),
    struct lr_config *cfg, struct webhook_cfg *w)
{
	char key[CFG_KEY_MAX];
	const config_setting_t *list = cfg_member(g, name), *e;

	cfg_key_join(key, pkey, name);
	if (list == NULL)
		return;
	if (!cfg_is_list(list)) {
		cfg_err(c, list, key, "must be %s", what);
		return;
	}
	for (unsigned int i = 0; (e = config_setting_get_elem(list, i)); i++) {
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cfg_err(c, e, key, "must be %s", what);
			continue;
		}
		take(c, e, key, config_setting_get_string(e), cfg, w);
	}
}

static void
take_event(struct cfg_ctx *c, const config_setting_t *e, const char *key,
    const char *s, struct lr_config *cfg, struct webhook_cfg *w)
{
	int i = wh_type_index(s);

	(void)cfg;
	if (i == -1)
		cfg_err(c, e, key, "names unknown event type \"%s\"", s);
	else
		w->events |= 1UL << i;
}

static void
take_rep(struct cfg_ctx *c, const config_setting_t *e, const char *key,
    const char *s, struct lr_config *cfg, struct webhook_cfg *w)
{
	char **nv;
	bool known = cfg->nreps == 0;	/* no reps: reported already */

	for (size_t r = 0; r < cfg->nreps && !known; r++)
		known = cfg->reps[r].id != NULL && strcmp(cfg->reps[r].id, s) == 0;
	if (!known) {
		cfg_err(c, e, key, "names unknown rep \"%s\"", s);
		return;
	}
	if ((nv = realloc(w->reps, (w->nreps + 1) * sizeof(*nv))) == NULL ||
	    (nv[w->nreps] = strdup(s)) == NULL) {
		if (nv != NULL)
			w->reps = nv;
		cfg_err(c, e, key, "cannot be stored: out of memory");
		return;
	}
	w->reps = nv;
	w->nreps++;
}

/* A secret_file's first line, into buf (len bytes); 0 or -1 (errno). */
static int
read_secret_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, len - 1, f);
	if (ferror(f)) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* secret or secret_file (not both): "whsec_" + base64 of 24-64 bytes. */
static void
load_secret(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct webhook_cfg *w)
{
	char key[CFG_KEY_MAX], buf[WH_SECRET_FILE_MAX];
	char *secret = NULL, *file = NULL;
	const char *name = "secret", *s = NULL;

	(void)cfg_get_string(c, g, pkey, "secret", false, NULL, &secret);
	(void)cfg_get_string(c, g, pkey, "secret_file", false, NULL, &file);
	if (secret != NULL && file != NULL) {
		cfg_err(c, cfg_member(g, "secret_file"),
		    cfg_key_join(key, pkey, "secret_file"),
		    "cannot be given together with secret");
		goto out;
	}
	if (file != NULL) {
		name = "secret_file";
		if (read_secret_file(file, buf, sizeof(buf)) == -1) {
			cfg_err(c, cfg_member(g, "secret_file"),
			    cfg_key_join(key, pkey, "secret_file"),
			    "cannot be read: '%s': %s", file, strerror(errno));
			goto out;
		}
		s = buf;
	} else
		s = secret;
	if (s == NULL)
		goto out;
	/* Never quote the secret: it would reach logs. */
	if (wh_secret_decode(s, w->key, &w->key_len) == -1)
		cfg_err(c, cfg_member(g, name), cfg_key_join(key, pkey, name),
		    "must be \"whsec_\" and the base64 of a key of %d to %d bytes%s",
		    WH_KEY_MIN, WH_KEY_MAX, file != NULL ? " (in the file)" : "");
out:
	memset(buf, 0, sizeof(buf));
	if (secret != NULL)
		memset(secret, 0, strlen(secret));
	free(secret);
	free(file);
}

static void
load_webhook(struct cfg_ctx *c, const config_setting_t *g, const char *pkey,
    struct lr_config *cfg)
{
	struct webhook_cfg *w = &cfg->webhooks[cfg->nwebhooks];
	const config_setting_t *ev;
	char key[CFG_KEY_MAX];

	w->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		cfg_err(c, g, pkey,
		    "must be a group { name = ...; url = ...; secret = ...; }");
		return;
	}
	cfg_check_unknown_keys(c, g, pkey, cfg_wh_keys, cfg_wh_nkeys);
	load_name(c, g, pkey, cfg, w);
	load_url(c, g, pkey, w);
	ev = cfg_member(g, "events");
	if (ev == NULL)
		w->events = wh_types_all();
	else if (cfg_is_list(ev) && config_setting_length(ev) == 0)
		cfg_err(c, ev, cfg_key_join(key, pkey, "events"),
		    "must not be empty (leave it out for every type)");
	load_strings(c, g, pkey, "events", "a list of event types",
	    take_event, cfg, w);
	load_strings(c, g, pkey, "reps", "a list of rep ids", take_rep, cfg, w);
	load_secret(c, g, pkey, w);
	(void)cfg_read_keys(c, g, pkey, cfg_wh_keys, cfg_wh_nkeys, w);
	if (w->key_len == 0 && w->format == WH_FORMAT_STANDARD &&
	    cfg_member(g, "secret") == NULL &&
	    cfg_member(g, "secret_file") == NULL)
		cfg_err(c, g, cfg_key_join(key, pkey, "secret"),
		    "is required for format \"standard\" (or secret_file)");
	cfg->nwebhooks++;
}

void
cfg_load_webhooks(struct cfg_ctx *c, const config_setting_t *root, void *base)
{
	struct lr_config *cfg = base;
	char key[CFG_KEY_MAX];
	const config_setting_t *list = cfg_member(root, "webhooks");
	unsigned int n;

	if (list == NULL)
		return;
	if (!cfg_is_list(list)) {
		cfg_err(c, list, "webhooks",
		    "must be a list of endpoints ( { name = ...; url = ...; secret = ...; }, ... )");
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (n == 0 || (cfg->webhooks = calloc(n, sizeof(*cfg->webhooks))) ==
	    NULL)
		return;
	for (unsigned int i = 0; i < n; i++)
		load_webhook(c, config_setting_get_elem(list, i),
		    cfg_key_index(key, "webhooks", i), cfg);
}

void
cfg_free_webhooks(struct lr_config *cfg)
{
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		struct webhook_cfg *w = &cfg->webhooks[i];

		free(w->name);
		free(w->url);
		for (size_t r = 0; r < w->nreps; r++)
			free(w->reps[r]);
		free(w->reps);
		memset(w->key, 0, sizeof(w->key));
	}
	free(cfg->webhooks);
	cfg->webhooks = NULL;
	cfg->nwebhooks = 0;
}
