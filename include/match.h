/*
 * match.h - conditions over a lead's fields, compiled once from the config:
 * the operators that scoring rules and segments share.
 *
 * A condition names a dotted path into the lead ("activity.page_views"),
 * an operator and its operands. Evaluation allocates nothing and never
 * fails: a missing field, or one of the wrong JSON type for the operator,
 * simply does not match.
 */
#ifndef LR_MATCH_H
#define LR_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum match_op {
	MATCH_EQ,		/* string (case-insensitive), number or boolean */
	MATCH_NE,		/* the field exists and is not equal */
	MATCH_IN,		/* string equal to one of values */
	MATCH_CONTAINS_ANY,	/* string containing one of values */
	MATCH_ENDS_WITH_ANY,	/* string ending with one of values */
	MATCH_LT,
	MATCH_LTE,
	MATCH_GT,
	MATCH_GTE,
	MATCH_BETWEEN,		/* min <= number <= max */
	MATCH_EXISTS,		/* present and not null */
	MATCH_IS_TRUE,		/* the JSON literal true */
	MATCH_PER,		/* scoring only: points per unit of a number */
};

/* What the operand of eq/ne is. */
enum match_kind {
	MATCH_KIND_STRING,
	MATCH_KIND_NUMBER,
	MATCH_KIND_BOOL,
};

/* A string operand, ASCII-lowercased at compile time. */
struct match_str {
	char *s;
	size_t len;
};

struct match_cond {
	char *field;		/* the dotted path as written in the config */
	char **path;		/* its components */
	size_t npath;
	int top_type;		/* match.c's type of a known path[0], or -1 */
	bool in_activity;	/* path[0] is "activity" */
	enum match_op op;
	enum match_kind kind;	/* eq/ne only */
	struct match_str *strs;	/* eq/ne string: one; in/..._any: the list */
	size_t nstrs;
	double num;		/* eq/ne number; lt, lte, gt, gte */
	bool boolean;		/* eq/ne boolean */
	double min, max;	/* between */
};

/* Map an operator name to its value; 0 on success, -1 when unknown. */
int match_op_parse(const char *name, enum match_op *op);
/* The config name of an operator ("contains_any"). */
const char *match_op_name(enum match_op op);
/* Does the operator take a "values" list, a "value", "min"/"max"? */
bool match_op_takes_list(enum match_op op);
bool match_op_is_numeric(enum match_op op);

/*
 * Split a dotted path into c->field and c->path. Returns 0, or -1 when
 * the path is empty or has an empty component (errno EINVAL) or on
 * allocation failure (errno ENOMEM).
 */
int match_set_field(struct match_cond *c, const char *field);
/* Add a string operand, lowercased. 0 or -1 (ENOMEM). */
int match_add_str(struct match_cond *c, const char *s, size_t len);

/* The value the path points to in lead, or NULL. */
const json_t *match_lookup(const struct match_cond *c, const json_t *lead);
/* True when v is a JSON integer or real (not a boolean); its value in *out. */
bool match_number(const json_t *v, double *out);
/* Evaluate a predicate operator (every op but MATCH_PER) against lead. */
bool match_eval(const struct match_cond *c, const json_t *lead);

/* Free what the condition owns; the struct itself is the caller's. */
void match_cond_clear(struct match_cond *c);

#endif
