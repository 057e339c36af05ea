/*
 * fuzz.h - what the libFuzzer targets share: a configuration loaded once,
 * and checks that abort (so libFuzzer keeps the input) when an invariant
 * of a module's promise breaks. Targets run from the repository root.
 */
#ifndef LR_FUZZ_H
#define LR_FUZZ_H

#include <jansson.h>

#include "config.h"

/* Abort with the failed condition when cond is false. */
#define FUZZ_CHECK(cond) \
	((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

/* Load a configuration that must be valid; abort with its errors if not. */
struct lr_config *fuzz_load_conf(const char *path);

/* Parse JSON that must be a valid object (the caller decrefs it). */
json_t *fuzz_parse(const char *js);

/* A string member that must be there. */
const char *fuzz_str(const json_t *o, const char *key);

#endif
