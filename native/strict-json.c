/*
 * strict-json.c: the journal check's JSON reader (strict-json.h says why strict).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strict-json.h"

#define MAX_SAFE 9007199254740991LL /* 2^53 - 1: JSON.parse reads every integer up to it exactly */
#define MAX_DEPTH 8

struct jp {
  const char *p, *end;
  int depth;
};

void jfree(struct jval *j)
{
  for (size_t k = 0; k < j->n; k++) {
    jfree(&j->v[k]);
    if (j->k)
      free(j->k[k]);
  }
  free(j->s), free(j->v), free(j->k);
  *j = (struct jval){0};
}

static void skip_ws(struct jp *j)
{
  while (j->p < j->end && strchr(" \t\n\r", *j->p) && *j->p)
    j->p++;
}

/* the length of the UTF-8 sequence at p, or 0 if it is not one (overlong, a surrogate, past U+10FFFF) */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
  unsigned c = p[0];
  int n = c < 0x80 ? 1 : c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
  if (n <= 1 || end - p < n)
    return n == 1 ? 1 : 0;
  for (int k = 1; k < n; k++)
    if ((p[k] & 0xc0) != 0x80)
      return 0;
  if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
    return 0;
  return n;
}

int utf8_valid(const char *text, size_t len)
{
  const unsigned char *p = (const unsigned char *)text, *end = p + len;
  for (int n; p < end; p += n)
    if (!(n = utf8_len(p, end)))
      return 0;
  return 1;
}

static void put_utf8(FILE *out, unsigned cp)
{
  if (cp < 0x80)
    fputc((int)cp, out);
  else if (cp < 0x800)
    fputc(0xc0 | (int)(cp >> 6), out), fputc(0x80 | (int)(cp & 0x3f), out);
  else if (cp < 0x10000)
    fputc(0xe0 | (int)(cp >> 12), out), fputc(0x80 | (int)((cp >> 6) & 0x3f), out), fputc(0x80 | (int)(cp & 0x3f), out);
  else
    fputc(0xf0 | (int)(cp >> 18), out), fputc(0x80 | (int)((cp >> 12) & 0x3f), out), fputc(0x80 | (int)((cp >> 6) & 0x3f), out),
        fputc(0x80 | (int)(cp & 0x3f), out);
}

static int hex4(struct jp *j, unsigned *out)
{
  if (j->end - j->p < 4)
    return -1;
  *out = 0;
  for (int k = 0; k < 4; k++) {
    char c = *j->p++;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0)
      return -1;
    *out = *out * 16 + (unsigned)d;
  }
  return 0;
}

/* \u escapes: a lone surrogate (JSON.parse keeps it, a path cannot) and NUL are refused */
static int unicode_escape(struct jp *j, FILE *out)
{
  unsigned cp, low;
  if (hex4(j, &cp) < 0 || cp == 0 || (cp >= 0xdc00 && cp < 0xe000))
    return -1;
  if (cp >= 0xd800 && cp < 0xdc00) {
    if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
      return -1;
    j->p += 2;
    if (hex4(j, &low) < 0 || low < 0xdc00 || low >= 0xe000)
      return -1;
    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
  }
  put_utf8(out, cp);
  return 0;
}

static int parse_string(struct jp *j, char **s)
{
  if (j->p >= j->end || *j->p != '"')
    return -1;
  j->p++;
  size_t size = 0;
  *s = NULL;
  FILE *out = open_memstream(s, &size);
  if (!out)
    abort();
  int r = -1;
  while (j->p < j->end) {
    unsigned char c = (unsigned char)*j->p;
    if (c == '"') {
      j->p++, r = 0;
      break;
    }
    if (c < 0x20)
      break;
    if (c != '\\') {
      int n = utf8_len((const unsigned char *)j->p, (const unsigned char *)j->end);
      if (!n)
        break;
      fwrite(j->p, 1, (size_t)n, out), j->p += n;
      continue;
    }
    if (++j->p >= j->end)
      break;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e = *j->p ? strchr(from, *j->p) : NULL;
    j->p++;
    if (e)
      fputc(to[e - from], out);
    else if (j->p[-1] != 'u' || unicode_escape(j, out) < 0)
      break;
  }
  fclose(out);
  if (r < 0)
    free(*s), *s = NULL;
  return r;
}

static int parse_value(struct jp *j, struct jval *v);

static int parse_int(struct jp *j, struct jval *v)
{
  int neg = j->p < j->end && *j->p == '-';
  j->p += neg;
  const char *digits = j->p;
  long long n = 0;
  for (; j->p < j->end && *j->p >= '0' && *j->p <= '9'; j->p++) {
    if (n > (MAX_SAFE - (*j->p - '0')) / 10)
      return -1;
    n = n * 10 + (*j->p - '0');
  }
  /* one integer, written as JSON.stringify writes it: no leading zeros, fractions or exponents */
  if (j->p == digits || (*digits == '0' && j->p - digits > 1) || (j->p < j->end && strchr(".eE", *j->p) && *j->p))
    return -1;
  v->t = J_INT, v->i = neg ? -n : n;
  return 0;
}

static int parse_items(struct jp *j, struct jval *v, int object)
{
  char close = object ? '}' : ']';
  j->p++;
  skip_ws(j);
  if (j->p < j->end && *j->p == close)
    return j->p++, 0;
  for (;;) {
    char *key = NULL;
    if (object) {
      skip_ws(j);
      if (parse_string(j, &key) < 0)
        return -1;
      for (size_t k = 0; k < v->n; k++)
        if (!strcmp(v->k[k], key)) /* JSON.parse takes the last, a lax reader the first */
          return free(key), -1;
      skip_ws(j);
      if (j->p >= j->end || *j->p != ':')
        return free(key), -1;
      j->p++;
    }
    struct jval *items = realloc(v->v, sizeof *v->v * (v->n + 1));
    char **keys = object ? realloc(v->k, sizeof *v->k * (v->n + 1)) : NULL;
    if (!items || (object && !keys))
      abort();
    v->v = items, v->k = keys;
    v->v[v->n] = (struct jval){0};
    if (object)
      v->k[v->n] = key;
    v->n++;
    if (parse_value(j, &v->v[v->n - 1]) < 0)
      return -1;
    skip_ws(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    if (j->p < j->end && *j->p == close)
      return j->p++, 0;
    return -1;
  }
}

static int literal(struct jp *j, const char *word)
{
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
    return -1;
  j->p += n;
  return 0;
}

static int parse_value(struct jp *j, struct jval *v)
{
  skip_ws(j);
  if (j->p >= j->end || ++j->depth > MAX_DEPTH)
    return -1;
  int r;
  char c = *j->p;
  if (c == '"')
    v->t = J_STR, r = parse_string(j, &v->s);
  else if (c == '{' || c == '[')
    v->t = c == '{' ? J_OBJ : J_ARR, r = parse_items(j, v, c == '{');
  else if (c == 't' || c == 'f')
    v->t = J_BOOL, v->i = c == 't', r = literal(j, c == 't' ? "true" : "false");
  else if (c == 'n')
    v->t = J_NULL, r = literal(j, "null");
  else
    r = parse_int(j, v);
  j->depth--;
  return r;
}

/* the whole text as one JSON value, or -1 */
int parse_json(const char *text, size_t len, struct jval *v)
{
  struct jp j = {text, text + len, 0};
  *v = (struct jval){0};
  if (parse_value(&j, v) < 0)
    return jfree(v), -1;
  skip_ws(&j);
  return j.p == j.end ? 0 : (jfree(v), -1);
}

const struct jval *field(const struct jval *o, const char *name)
{
  for (size_t k = 0; o->t == J_OBJ && k < o->n; k++)
    if (!strcmp(o->k[k], name))
      return &o->v[k];
  return NULL;
}

const char *str_field(const struct jval *o, const char *name)
{
  const struct jval *f = field(o, name);
  return f && f->t == J_STR ? f->s : NULL;
}
