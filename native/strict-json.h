/*
 * strict-json.h: the JSON reader of the journal check (journal-check.c).
 * Strict where JSON.parse and a lax reader could read one text two ways:
 * duplicate keys, NUL or lone surrogates in escapes, bytes that are not
 * UTF-8, numbers that are not integers JSON.parse reads exactly.
 */
#ifndef CTC_STRICT_JSON_H
#define CTC_STRICT_JSON_H

#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_INT, J_STR, J_ARR, J_OBJ };
struct jval {
  enum jtype t;
  long long i;    /* J_INT, J_BOOL */
  char *s;        /* J_STR: UTF-8, no NUL inside */
  struct jval *v; /* J_ARR, J_OBJ: the n items (an object's values) */
  char **k;       /* J_OBJ: the n keys */
  size_t n;
};

/* the whole text as one JSON value: 0, or -1 (nothing to free then) */
int parse_json(const char *text, size_t len, struct jval *v);
void jfree(struct jval *j);
/* an object's field by name, or NULL */
const struct jval *field(const struct jval *o, const char *name);
/* an object's string field, or NULL when absent or not a string */
const char *str_field(const struct jval *o, const char *name);

/* 1 if text is UTF-8 as the reader takes it (no overlong forms, no surrogates) */
int utf8_valid(const char *text, size_t len);

#endif
