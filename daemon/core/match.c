/* match.c - evaluate compiled field conditions against a lead. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

static const char *const op_names[] = {
	[MATCH_EQ] = "eq",
	[MATCH_NE] = "ne",
	[MATCH_IN] = "in",
	[MATCH_CONTAINS_ANY] = "contains_any",
	[MATCH_ENDS_WITH_ANY] = "ends_with_any",
	[MATCH_LT] = "lt",
	[MATCH_LTE] = "lte",
	[MATCH_GT] = "gt",
	[MATCH_GTE] = "gte",
	[MATCH_BETWEEN] = "between",
	[MATCH_EXISTS] = "exists",
	[MATCH_IS_TRUE] = "is_true",
	[MATCH_PER] = "per",
};

int
match_op_parse(const char *name, enum match_op *op)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
		if (strcmp(name, op_names[i]) == 0) {
			*op = (enum match_op)i;
			return 0;
		}
	}
	return -1;
}

const char *
match_op_name(enum match_op op)
{
	if ((size_t)op >= sizeof(op_names) / sizeof(op_names[0]))
		return "?";
	return op_names[op];
}

bool
match_op_takes_list(enum match_op op)
{
	return op == MATCH_IN || op == MATCH_CONTAINS_ANY ||
	    op == MATCH_ENDS_WITH_ANY;
}

bool
match_op_is_numeric(enum match_op op)
{
	return op == MATCH_LT || op == MATCH_LTE || op == MATCH_GT ||
	    op == MATCH_GTE;
}

static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int known_type_of(const char *name);

int
match_set_field(struct match_cond *c, const char *field)
{
	size_t n = 1;
	const char *p, *start;

	if (field[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	for (p = field; *p != '\0'; p++)
		if (*p == '.')
			n++;
	if ((c->field = strdup(field)) == NULL)
		goto out_nomem;
	if ((c->path = calloc(n, sizeof(*c->path))) == NULL)
		goto out_nomem;
	c->npath = 0;
	for (start = p = field;; p++) {
		if (*p != '.' && *p != '\0')
			continue;
		if (p == start) {
			errno = EINVAL;
			return -1;
		}
		if ((c->path[c->npath] = strndup(start, (size_t)(p - start))) ==
		    NULL)
			goto out_nomem;
		c->npath++;
		if (*p == '\0')
			break;
		start = p + 1;
	}
	c->top_type = known_type_of(c->path[0]);
	c->in_activity = strcmp(c->path[0], "activity") == 0;
	return 0;
out_nomem:
	errno = ENOMEM;
	return -1;
}

int
match_add_str(struct match_cond *c, const char *s, size_t len)
{
	struct match_str *v;
	char *copy;

	v = realloc(c->strs, (c->nstrs + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	c->strs = v;
	if ((copy = malloc(len + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		copy[i] = ascii_lower(s[i]);
	copy[len] = '\0';
	c->strs[c->nstrs].s = copy;
	c->strs[c->nstrs].len = len;
	c->nstrs++;
	return 0;
}

/*
 * The types the lead format gives its known fields (README "Input:
 * leads"). A known field of another type counts as missing for every
 * operator; fields it does not define may hold anything.
 */
enum known_type {
	KNOWN_STRING,
	KNOWN_NUMBER,
	KNOWN_OBJECT,
	KNOWN_SIGNAL,		/* a number or a boolean (activity.*) */
};

static const struct {
	const char *name;
	enum known_type type;
} known_fields[] = {
	{"id", KNOWN_STRING}, {"email", KNOWN_STRING},
	{"name", KNOWN_STRING}, {"company", KNOWN_STRING},
	{"title", KNOWN_STRING}, {"industry", KNOWN_STRING},
	{"country", KNOWN_STRING}, {"source", KNOWN_STRING},
	{"employees", KNOWN_NUMBER}, {"revenue", KNOWN_NUMBER},
	{"activity", KNOWN_OBJECT}, {"created_at_ms", KNOWN_NUMBER},
};

/* The JSON type only: a range the format names (employees >= 0) is the
 * rules' business, not a reason to hide the field. */
static bool
type_ok(enum known_type t, const json_t *v)
{
	switch (t) {
	case KNOWN_STRING:
		return json_is_string(v);
	case KNOWN_NUMBER:
		return json_is_number(v);
	case KNOWN_OBJECT:
		return json_is_object(v);
	case KNOWN_SIGNAL:
		return json_is_number(v) || json_is_boolean(v);
	}
	return true;
}

/* The type the lead format gives a top-level field, or -1. */
static int
known_type_of(const char *name)
{
	for (size_t i = 0; i < sizeof(known_fields) / sizeof(known_fields[0]);
	    i++)
		if (strcmp(name, known_fields[i].name) == 0)
			return (int)known_fields[i].type;
	return -1;
}

/*
 * Is v, found at c->path[0..depth], of the type the lead format gives it?
 * (path[0]'s type was looked up once, by match_set_field.)
 */
static bool
known_type_ok(const struct match_cond *c, size_t depth, const json_t *v)
{
	if (json_is_null(v))
		return true;	/* null is absent already for every operator */
	if (depth == 1 && c->in_activity)
		return type_ok(KNOWN_SIGNAL, v);
	if (depth != 0 || c->top_type < 0)
		return true;
	return type_ok((enum known_type)c->top_type, v);
}

const json_t *
match_lookup(const struct match_cond *c, const json_t *lead)
{
	const json_t *v = lead;

	for (size_t i = 0; i < c->npath && v != NULL; i++) {
		if (!json_is_object(v))
			return NULL;
		v = json_object_get(v, c->path[i]);
		if (v != NULL && !known_type_ok(c, i, v))
			return NULL;
	}
	return v;
}

bool
match_number(const json_t *v, double *out)
{
	if (json_is_integer(v)) {
		*out = (double)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		*out = json_real_value(v);
		return true;
	}
	return false;
}

/* Does s[0..len) equal the lowercased needle, ignoring ASCII case? */
static bool
str_eq(const char *s, size_t len, const struct match_str *needle)
{
	if (len != needle->len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (ascii_lower(s[i]) != needle->s[i])
			return false;
	return true;
}

static bool
str_ends_with(const char *s, size_t len, const struct match_str *needle)
{
	if (needle->len > len)
		return false;
	return str_eq(s + len - needle->len, needle->len, needle);
}

static bool
str_contains(const char *s, size_t len, const struct match_str *needle)
{
	if (needle->len > len)
		return false;
	for (size_t i = 0; i + needle->len <= len; i++)
		if (str_eq(s + i, needle->len, needle))
			return true;
	return false;
}

static bool
match_string_list(const struct match_cond *c, const json_t *v)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	len = json_string_length(v);
	for (size_t i = 0; i < c->nstrs; i++) {
		switch (c->op) {
		case MATCH_IN:
			if (str_eq(s, len, &c->strs[i]))
				return true;
			break;
		case MATCH_CONTAINS_ANY:
			if (str_contains(s, len, &c->strs[i]))
				return true;
			break;
		case MATCH_ENDS_WITH_ANY:
			if (str_ends_with(s, len, &c->strs[i]))
				return true;
			break;
		default:
			return false;
		}
	}
	return false;
}

/*
 * Equality for eq/ne: 1 equal, 0 different, -1 when the field is of
 * another type than the operand (so neither eq nor ne matches).
 */
static int
match_equal(const struct match_cond *c, const json_t *v)
{
	double d;

	switch (c->kind) {
	case MATCH_KIND_STRING:
		if (!json_is_string(v))
			return -1;
		return str_eq(json_string_value(v), json_string_length(v),
		    &c->strs[0]);
	case MATCH_KIND_NUMBER:
		if (!match_number(v, &d))
			return -1;
		return d == c->num;
	case MATCH_KIND_BOOL:
		if (!json_is_boolean(v))
			return -1;
		return json_is_true(v) == c->boolean;
	}
	return -1;
}

bool
match_eval(const struct match_cond *c, const json_t *lead)
{
	const json_t *v;
	double d;

	if ((v = match_lookup(c, lead)) == NULL)
		return false;
	switch (c->op) {
	case MATCH_EQ:
		return match_equal(c, v) == 1;
	case MATCH_NE:
		return match_equal(c, v) == 0;
	case MATCH_IN:
	case MATCH_CONTAINS_ANY:
	case MATCH_ENDS_WITH_ANY:
		return match_string_list(c, v);
	case MATCH_EXISTS:
		return !json_is_null(v);
	case MATCH_IS_TRUE:
		return json_is_true(v);
	case MATCH_LT:
		return match_number(v, &d) && d < c->num;
	case MATCH_LTE:
		return match_number(v, &d) && d <= c->num;
	case MATCH_GT:
		return match_number(v, &d) && d > c->num;
	case MATCH_GTE:
		return match_number(v, &d) && d >= c->num;
	case MATCH_BETWEEN:
		return match_number(v, &d) && d >= c->min && d <= c->max;
	case MATCH_PER:
		return match_number(v, &d);
	}
	return false;
}

void
match_cond_clear(struct match_cond *c)
{
	free(c->field);
	c->field = NULL;
	for (size_t i = 0; i < c->npath; i++)
		free(c->path[i]);
	free(c->path);
	c->path = NULL;
	c->npath = 0;
	for (size_t i = 0; i < c->nstrs; i++)
		free(c->strs[i].s);
	free(c->strs);
	c->strs = NULL;
	c->nstrs = 0;
}
