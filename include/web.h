/*
 * web.h - the ops page (daemon/web/index.html), built into the binary: the
 * Makefile turns the file into build/gen/web_index.c, one C string with
 * its length. Served by api.h at GET /.
 */
#ifndef LR_WEB_H
#define LR_WEB_H

#include <stddef.h>

extern const char web_index_html[];
extern const size_t web_index_html_len;

#endif
