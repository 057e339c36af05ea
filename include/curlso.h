/* curlso.h - libcurl, loaded when first needed: a daemon without webhooks never maps it or the libraries it pulls in. */
#ifndef LR_CURLSO_H
#define LR_CURLSO_H

#include <curl/curl.h>

/*
 * The libcurl functions leadrouted calls, from the shared library
 * CURLSO_NAME (libcurl built with OpenSSL, the Debian package
 * CURLSO_PACKAGE) loaded with dlopen at the first curlso(). Linked, libcurl
 * and its dependencies (TLS, Kerberos, LDAP, SSH, HTTP/2...) were half the
 * resident size of a daemon that sends no webhook (README "Performance"),
 * so only the webhook sender and the check of a webhook's URL load them.
 * The names are libcurl's without "curl_"; each behaves as libcurl
 * documents it.
 */
#define CURLSO_NAME	"libcurl.so.4"
#define CURLSO_PACKAGE	"libcurl4"

struct curlso {
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	void (*url_cleanup)(CURLU *);
	void (*free)(void *);
};

/*
 * libcurl's functions, loaded at the first call that succeeds (and kept:
 * the library is never unloaded); NULL when it cannot be loaded or lacks
 * one of them, with curlso_error() saying why. A call after a failure
 * tries again.
 */
const struct curlso *curlso(void);
const char *curlso_error(void);

#endif
