/* fuzz_common.c - the helpers every fuzz target links: checks and a configuration. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

struct lr_config *
fuzz_load_conf(const char *path)
{
	struct cfg_diag diag = {0};
	struct lr_config *cfg = cfg_load(path, &diag);

	for (size_t i = 0; i < diag.nerrors; i++)
		fprintf(stderr, "%s\n", diag.errors[i]);
	if (cfg == NULL) {
		fprintf(stderr, "fuzz: cannot load '%s' (run from the repository root)\n",
		    path);
		exit(1);
	}
	cfg_diag_clear(&diag);
	return cfg;
}

json_t *
fuzz_parse(const char *js)
{
	json_error_t err;
	json_t *o;

	FUZZ_CHECK(js != NULL);
	o = json_loads(js, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (o == NULL)
		fprintf(stderr, "invalid JSON: %s: %s\n", err.text, js);
	FUZZ_CHECK(json_is_object(o));
	return o;
}

const char *
fuzz_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	FUZZ_CHECK(json_is_string(v));
	return json_string_value(v);
}
