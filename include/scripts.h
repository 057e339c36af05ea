/*
 * scripts.h - the Lua source of daemon/lua/, compiled into the binary
 * (the Makefile generates build/.../lr_lua.c from it).
 */
#ifndef LR_SCRIPTS_H
#define LR_SCRIPTS_H

#include <stddef.h>

extern const char lr_lua[];
extern const size_t lr_lua_len;

#endif
