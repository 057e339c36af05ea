/*
 * scripts.h - the Redis script, compiled into the binary: the parts of
 * daemon/lua/ in the order the Makefile's LUA_PARTS lists, the names of
 * keys.h and wire.h inlined by daemon/lua/wire2lua.c (build/gen/lr.lua),
 * as one C string (build/gen/lr_lua.c): one script, one SHA. How to call
 * it: wire.h.
 */
#ifndef LR_SCRIPTS_H
#define LR_SCRIPTS_H

#include <stddef.h>

extern const char lr_lua[];
extern const size_t lr_lua_len;

#endif
