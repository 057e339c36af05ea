/* test_wire.c - the Redis contract's tables (keys.h, wire.h) are sane, and wire2lua gives the Lua script every name, inlined, and nothing it does not know. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "wire.h"

/* The names as Lua tables (wire2lua -t) and the generator itself;
 * LR_WIRE_LUA and LR_WIRE2LUA name others. */
#define WIRE_LUA "build/gen/wire.lua"
#define WIRE2LUA "build/gen/wire2lua"

static const struct wire_layout *layouts;
static const struct wire_field *fields;
static const struct wire_word *words;
static const char *const *groups;
static size_t nlayouts, nfields, nwords, ngroups;

static int
setup(void **state)
{
	(void)state;
	layouts = wire_layouts(&nlayouts);
	fields = wire_fields(&nfields);
	words = wire_words(&nwords);
	groups = wire_groups(&ngroups);
	return 0;
}

/* A name Lua can hold in single quotes, printed as is. */
static bool
plain(const char *s)
{
	return *s != '\0' && strpbrk(s, "'\"\\\n\r ") == NULL;
}

static void
test_keys_unique(void **state)
{
	static const char *const types[] = {"list", "hash", "set",
	    "sorted set", "stream", "channel", "string"};
	char a[256], b[256];

	(void)state;
	for (int i = 0; i < LR_KEY_COUNT; i++) {
		const struct lr_key_def *d = keys_def((enum lr_key)i);
		bool typed = false;

		assert_true(plain(d->name));
		assert_true(plain(d->head));
		assert_true(d->tail[0] == '\0' || plain(d->tail));
		/* A tail follows a part; a head before a part ends in ':'. */
		if (d->tail[0] != '\0') {
			assert_true(d->part[0] != '\0');
			assert_int_equal(d->tail[0], KEY_SEP[0]);
		}
		if (d->part[0] != '\0')
			assert_int_equal(d->head[strlen(d->head) - 1],
			    KEY_SEP[0]);
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			typed |= strcmp(d->type, types[t]) == 0;
		assert_true(typed);
		assert_true(d->who[0] != '\0' && d->what[0] != '\0');
		snprintf(a, sizeof(a), "%s%s%s", d->head, d->part, d->tail);
		for (int j = 0; j < i; j++) {
			const struct lr_key_def *e = keys_def((enum lr_key)j);

			snprintf(b, sizeof(b), "%s%s%s", e->head, e->part,
			    e->tail);
			assert_string_not_equal(a, b);
			assert_string_not_equal(d->name, e->name);
		}
	}
	/* The keys with a part are apart from the fixed names: no fixed
	 * name starts with the head of a key with a part, but src:all,
	 * calib:all and calib:reasons, which no day number can spell. */
	for (int i = 0; i < LR_KEY_COUNT; i++) {
		const struct lr_key_def *d = keys_def((enum lr_key)i);

		if (d->part[0] == '\0')
			continue;
		for (int j = 0; j < LR_KEY_COUNT; j++) {
			const struct lr_key_def *e = keys_def((enum lr_key)j);

			if (e->part[0] == '\0' &&
			    strncmp(e->head, d->head, strlen(d->head)) == 0)
				assert_true(strcmp(e->name, "SRC_ALL") == 0 ||
				    strcmp(e->name, "CALIB_ALL") == 0 ||
				    strcmp(e->name, "CALIB_REASONS") == 0);
		}
	}
}

static void
test_keys_build(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(keys_build(buf, sizeof(buf), "lr:", LR_KEY_INCOMING,
	    NULL, NULL), 0);
	assert_string_equal(buf, "lr:incoming");
	assert_int_equal(keys_build(buf, sizeof(buf), "{lr}:", LR_KEY_LEAD,
	    "L1", NULL), 0);
	assert_string_equal(buf, "{lr}:lead:L1");
	assert_int_equal(keys_build(buf, sizeof(buf), "lr:", LR_KEY_REP_OPEN,
	    "alice", NULL), 0);
	assert_string_equal(buf, "lr:rep:alice:open");
	assert_int_equal(keys_build(buf, sizeof(buf), "lr:", LR_KEY_REP,
	    "alice", NULL), 0);
	assert_string_equal(buf, "lr:rep:alice");
	assert_int_equal(keys_build(buf, sizeof(buf), "lr:",
	    LR_KEY_INFLIGHT_WAIT, "host-1", KEY_EVENTS), 0);
	assert_string_equal(buf, "lr:inflight:host-1:events:wait");
	assert_int_equal(keys_build(buf, sizeof(buf), "lr:", LR_KEY_SRC_DAY,
	    "20000", NULL), 0);
	assert_string_equal(buf, "lr:src:20000");
	/* A part where none belongs, none where one does, a second alone. */
	assert_int_equal(keys_build(buf, sizeof(buf), "lr:", LR_KEY_STATS,
	    "x", NULL), -1);
	assert_int_equal(keys_build(buf, sizeof(buf), "lr:", LR_KEY_LEAD,
	    NULL, NULL), -1);
	assert_int_equal(keys_build(buf, sizeof(buf), "lr:", LR_KEY_STATS,
	    NULL, "x"), -1);
	/* Too long: cut, terminated, and refused. */
	assert_int_equal(keys_build(buf, 12, "lr:", LR_KEY_REP_WINDOW,
	    "alice", NULL), -1);
	assert_int_equal(strlen(buf), 11);
	assert_int_equal(keys_build(buf, 14, "lr:", LR_KEY_ALERTS_LOG, NULL,
	    NULL), 0);
	assert_string_equal(buf, "lr:alerts:log");
}

static const struct wire_layout *
layout_of(const char *name)
{
	for (size_t l = 0; l < nlayouts; l++)
		if (strcmp(layouts[l].name, name) == 0)
			return &layouts[l];
	return NULL;
}

static void
test_layouts(void **state)
{
	(void)state;
	for (size_t l = 0; l < nlayouts; l++) {
		int seen[64] = {0};

		assert_true(plain(layouts[l].name));
		assert_true(layouts[l].n > 0 && layouts[l].n < 64);
		for (size_t k = 0; k < l; k++)
			assert_string_not_equal(layouts[k].name,
			    layouts[l].name);
		/* Each index from 0 to n - 1 exactly once. */
		for (size_t f = 0; f < nfields; f++) {
			if (strcmp(fields[f].layout, layouts[l].name) != 0)
				continue;
			assert_in_range(fields[f].index, 0, layouts[l].n - 1);
			seen[fields[f].index]++;
			for (size_t g = 0; g < f; g++)
				if (strcmp(fields[g].layout,
				    fields[f].layout) == 0)
					assert_string_not_equal(fields[g].name,
					    fields[f].name);
		}
		for (int i = 0; i < layouts[l].n; i++)
			assert_int_equal(seen[i], 1);
	}
	for (size_t f = 0; f < nfields; f++) {
		assert_non_null(layout_of(fields[f].layout));
		assert_true(plain(fields[f].name));
	}
	/* Every operation's arguments have a layout. */
	for (size_t w = 0; w < nwords; w++)
		if (strcmp(words[w].group, "OP") == 0)
			assert_non_null(layout_of(words[w].name));
}

/* The items of a commit and an events call share what a dead one has. */
static void
test_items(void **state)
{
	(void)state;
	assert_int_equal(WIRE_LEAD_SEQ, WIRE_DEAD_SEQ);
	assert_int_equal(WIRE_EVENT_SEQ, WIRE_DEAD_SEQ);
	assert_int_equal(WIRE_LEAD_KIND, WIRE_DEAD_KIND);
	assert_int_equal(WIRE_EVENT_KIND, WIRE_DEAD_KIND);
	assert_int_equal(WIRE_LEAD_SHA, WIRE_LEAD_FIELDS - 1);
	assert_int_equal(WIRE_EVENT_SHA, WIRE_EVENT_FIELDS - 1);
	assert_true(WIRE_DEAD_FIELDS < WIRE_LEAD_FIELDS);
	assert_true(WIRE_DEAD_FIELDS < WIRE_EVENT_FIELDS);
	/* The items come last. */
	assert_int_equal(WIRE_COMMIT_ITEMS, WIRE_COMMIT_FIELDS - 1);
	assert_int_equal(WIRE_EVENTS_ITEMS, WIRE_EVENTS_FIELDS - 1);
	assert_int_equal(WIRE_CLAIM_REPLY_ITEMS, WIRE_CLAIM_REPLY_FIELDS - 1);
	assert_int_equal(WIRE_SCRIPT_ARGS, WIRE_SCRIPT_FIELDS - 1);
	/* Where the daemon's first item is (since AFTER came). */
	assert_int_equal(WIRE_SCRIPT_ARGS + WIRE_COMMIT_ITEMS, 6);
	assert_int_equal(WIRE_SCRIPT_ARGS + WIRE_EVENTS_ITEMS, 5);
}

static void
test_words(void **state)
{
	(void)state;
	for (size_t w = 0; w < nwords; w++) {
		bool grouped = false;

		assert_true(plain(words[w].word));
		for (size_t g = 0; g < ngroups; g++)
			grouped |= strcmp(words[w].group, groups[g]) == 0;
		assert_true(grouped);
		for (size_t v = 0; v < w; v++) {
			if (strcmp(words[v].group, words[w].group) != 0)
				continue;
			assert_string_not_equal(words[v].name, words[w].name);
			assert_string_not_equal(words[v].word, words[w].word);
			/* The daemon tells result words by their start. */
			if (strcmp(words[w].group, "RES") == 0) {
				size_t a = strlen(words[v].word);
				size_t b = strlen(words[w].word);

				assert_int_not_equal(strncmp(words[v].word,
				    words[w].word, a < b ? a : b), 0);
			}
		}
	}
}

/* --- what wire2lua gives the Lua ---------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The text between "\nlocal NAME = {" and its "}", into out. */
static void
table(const char *lua, const char *name, char *out, size_t len)
{
	char head[64];
	const char *p, *end;

	snprintf(head, sizeof(head), "\nlocal %s = {", name);
	p = strstr(lua, head);
	assert_non_null(p);
	p += strlen(head);
	end = strchr(p, '}');
	assert_non_null(end);
	assert_true((size_t)(end - p) < len);
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
}

/* Does table text t hold exactly the entry "NAME = value"? */
static bool
has_entry(const char *t, const char *entry)
{
	size_t n = strlen(entry);

	for (const char *p = strstr(t, entry); p != NULL;
	    p = strstr(p + 1, entry))
		if ((p == t || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static size_t
entries(const char *t)
{
	size_t n = 0;

	for (; (t = strstr(t, " = ")) != NULL; t++)
		n++;
	return n;
}

static void
test_lua_tables(void **state)
{
	const char *path = getenv("LR_WIRE_LUA");
	char t[4096], e[256], *lua;

	(void)state;
	lua = slurp(path ? path : WIRE_LUA);
	assert_non_null(lua);

	for (int kt = 0; kt < 2; kt++) {
		table(lua, kt ? "KT" : "K", t, sizeof(t));
		assert_int_equal(entries(t), LR_KEY_COUNT);
		for (int i = 0; i < LR_KEY_COUNT; i++) {
			const struct lr_key_def *d = keys_def((enum lr_key)i);

			snprintf(e, sizeof(e), "%s = '%s'", d->name,
			    kt ? d->tail : d->head);
			assert_true(has_entry(t, e));
		}
	}
	assert_non_null(strstr(lua, "\nlocal KEY_SEP = '" KEY_SEP "'\n"));

	for (size_t g = 0; g < ngroups; g++) {
		size_t n = 0;

		table(lua, groups[g], t, sizeof(t));
		for (size_t w = 0; w < nwords; w++) {
			if (strcmp(words[w].group, groups[g]) != 0)
				continue;
			snprintf(e, sizeof(e), "%s = '%s'", words[w].name,
			    words[w].word);
			assert_true(has_entry(t, e));
			n++;
		}
		assert_int_equal(entries(t), n);
	}

	for (size_t l = 0; l < nlayouts; l++) {
		table(lua, layouts[l].name, t, sizeof(t));
		assert_int_equal(entries(t), layouts[l].n);
		for (size_t f = 0; f < nfields; f++) {
			if (strcmp(fields[f].layout, layouts[l].name) != 0)
				continue;
			snprintf(e, sizeof(e), "%s = %d", fields[f].name,
			    fields[f].index);
			assert_true(has_entry(t, e));
		}
		snprintf(e, sizeof(e), "\nlocal %s_FIELDS = %d\n",
		    layouts[l].name, layouts[l].n);
		assert_non_null(strstr(lua, e));
	}
	free(lua);
}

/* Run wire2lua on a file holding lua; its output into out. Returns its
 * exit status. */
static int
run_wire2lua(const char *lua, char *out, size_t len)
{
	const char *gen = getenv("LR_WIRE2LUA");
	char path[] = "/tmp/test_wire-XXXXXX", cmd[512];
	FILE *f, *p;
	size_t n;
	int fd, st;

	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	assert_true(fputs(lua, f) >= 0);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", gen ? gen : WIRE2LUA,
	    path);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	unlink(path);
	return st;
}

static void
test_inline(void **state)
{
	char out[1024];

	(void)state;
	/* Names become values; comments, strings and fields stay. */
	assert_int_equal(run_wire2lua(
	    "local a = P .. K.REP .. r .. KT.REP_OPEN -- K.NOPE\n"
	    "local b = ARGV[a + LEAD.SHA], LEAD_FIELDS, 'K.NOPE', x.K\n"
	    "ops[OP.CLAIM] = RES.ASSIGNED..KEY_SEP..x.LEAD.SEQ\n",
	    out, sizeof(out)), 0);
	assert_string_equal(out,
	    "local a = P .. 'rep:' .. r .. ':open' -- K.NOPE\n"
	    "local b = ARGV[a + 9], 10, 'K.NOPE', x.K\n"
	    "ops['claim'] = 'assigned:'..':'..x.LEAD.SEQ\n");
	/* A name it does not know, or a table alone, fails the build. */
	assert_int_not_equal(run_wire2lua("local a = K.NOPE\n", out,
	    sizeof(out)), 0);
	assert_int_not_equal(run_wire2lua("local a = RES\n", out,
	    sizeof(out)), 0);
	assert_int_not_equal(run_wire2lua("local a = LEAD.seq\n", out,
	    sizeof(out)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_unique),
		cmocka_unit_test(test_keys_build),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_items),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_lua_tables),
		cmocka_unit_test(test_inline),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
