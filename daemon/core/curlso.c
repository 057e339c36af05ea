/* curlso.c - load libcurl with dlopen when first needed, and find the functions leadrouted calls. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "curlso.h"

static struct curlso lib;
static bool loaded;
static char why[256];

/* Where each function goes, by its libcurl name. The sizeof, never
 * evaluated, makes the compiler check the member's type against
 * <curl/curl.h>'s declaration of the function. */
static const struct {
	const char *name;
	size_t off;
} syms[] = {
#define SYM(f) { "curl_" #f, offsetof(struct curlso, f) + \
    0 * sizeof(lib.f = curl_##f) }
	SYM(global_init), SYM(global_cleanup), SYM(easy_init),
	SYM(easy_setopt), SYM(easy_getinfo), SYM(easy_strerror),
	SYM(easy_cleanup), SYM(slist_append), SYM(slist_free_all),
	SYM(multi_init), SYM(multi_setopt), SYM(multi_add_handle),
	SYM(multi_remove_handle), SYM(multi_socket_action), SYM(multi_assign),
	SYM(multi_info_read), SYM(multi_cleanup), SYM(url), SYM(url_set),
	SYM(url_get), SYM(url_cleanup), SYM(free),
#undef SYM
};

const struct curlso *
curlso(void)
{
	void *h, *f;
	const char *e;

	if (loaded)
		return &lib;
	/* Not loaded: try again (libcurl may have been installed since). */
	if ((h = dlopen(CURLSO_NAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(why, sizeof(why), "cannot load %s (Debian package %s): %s",
		    CURLSO_NAME, CURLSO_PACKAGE, e != NULL ? e : "dlopen failed");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if ((f = dlsym(h, syms[i].name)) == NULL) {
			snprintf(why, sizeof(why), "%s has no %s", CURLSO_NAME,
			    syms[i].name);
			dlclose(h);
			return NULL;
		}
		/* POSIX: a function's address fits a void *; copied, not
		 * cast, as ISO C has no conversion between them. */
		memcpy((char *)&lib + syms[i].off, &f, sizeof(f));
	}
	loaded = true;
	why[0] = '\0';
	return &lib;
}

const char *
curlso_error(void)
{
	return why[0] != '\0' ? why : "libcurl is loaded";
}
