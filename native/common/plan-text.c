/*
 * plan-text.c: reading a plan file as plan/text.ts parsePlan does
 * (plan-text.h). Each function names the TypeScript it follows.
 */
#define _GNU_SOURCE
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../strict-json.h"
#include "plan-text.h"

#define MAX_SAFE 9007199254740991LL /* Number.isSafeInteger */

static int refuse(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct plan *p, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->why, sizeof p->why, fmt, ap);
  va_end(ap);
  return -1;
}

/* One line of the text, without its '\n'. */
struct line {
  const char *p;
  size_t len;
};

static int line_starts(struct line l, const char *s)
{
  return l.len >= strlen(s) && !memcmp(l.p, s, strlen(s));
}

/* text.split('\n') */
static struct line *split_lines(const char *text, size_t len, size_t *n)
{
  size_t count = 1;
  for (size_t k = 0; k < len; k++)
    count += text[k] == '\n';
  struct line *l = calloc(count, sizeof *l);
  if (!l)
    abort();
  const char *start = text;
  *n = 0;
  for (const char *q = text; q <= text + len; q++) {
    if (q == text + len || *q == '\n') {
      l[(*n)++] = (struct line){start, (size_t)(q - start)};
      start = q + 1;
    }
  }
  return l;
}

static int is_hex64(const char *s, size_t len)
{
  if (len != 64)
    return 0;
  for (size_t k = 0; k < len; k++)
    if (!strchr("0123456789abcdef", s[k]) || !s[k])
      return 0;
  return 1;
}

/* The digest covers every line but its own (text.ts: lines without digestLine, joined). */
static int digest_ok(const char *text, size_t len, struct line digest)
{
  struct sha256_ctx h;
  uint8_t d[SHA256_DIGEST_SIZE];
  sha256_init(&h);
  size_t before = (size_t)(digest.p - text), after = before + digest.len;
  /* the lines before, then (joined by '\n') the lines after: the '\n' that ended the digest line goes with it */
  if (after < len) {
    sha256_update(&h, before, (const uint8_t *)text);
    sha256_update(&h, len - after - 1, (const uint8_t *)text + after + 1);
  } else {
    sha256_update(&h, before ? before - 1 : 0, (const uint8_t *)text);
  }
  sha256_digest(&h, sizeof d, d);
  const char *hex = digest.p + strlen("digest sha256:");
  for (size_t k = 0; k < sizeof d; k++) {
    char two[3];
    snprintf(two, sizeof two, "%02x", d[k]);
    if (memcmp(two, hex + 2 * k, 2))
      return 0;
  }
  return 1;
}

/* ---- values (text.ts parseValue) ---- */

/* /^-?\d+$/ within 2^53 (text.ts exact) */
static int parse_int(const char *raw, int sign_ok, long long *out)
{
  const char *d = raw + (sign_ok && raw[0] == '-');
  if (!*d)
    return -1;
  long long v = 0;
  for (; *d; d++) {
    if (*d < '0' || *d > '9' || v > MAX_SAFE / 10)
      return -1;
    v = v * 10 + (*d - '0');
  }
  if (v > MAX_SAFE)
    return -1;
  *out = raw[0] == '-' ? -v : v;
  return 0;
}

/* raw.split(',') */
static char **split_commas(const char *raw, size_t *n)
{
  size_t count = 1;
  for (const char *q = raw; *q; q++)
    count += *q == ',';
  char **v = calloc(count, sizeof *v);
  if (!v)
    abort();
  *n = 0;
  for (const char *q = raw;; q++) {
    const char *c = strchr(q, ',');
    v[(*n)++] = c ? strndup(q, (size_t)(c - q)) : strdup(q);
    if (!c)
      break;
    q = c;
  }
  return v;
}

/* JSON.parse of a string or a list of strings; strict-json refuses what JSON.parse could read another way */
static int parse_json_value(const char *raw, int list, struct plan_arg *a)
{
  struct jval v;
  if (parse_json(raw, strlen(raw), &v) < 0)
    return -1;
  int ok = list ? v.t == J_ARR : v.t == J_STR;
  for (size_t k = 0; ok && list && k < v.n; k++)
    ok = v.v[k].t == J_STR;
  if (ok && !list)
    a->s = strdup(v.s);
  if (ok && list) {
    a->v = calloc(v.n + 1, sizeof *a->v);
    for (size_t k = 0; k < v.n; k++)
      a->v[k] = strdup(v.v[k].s);
    a->n = v.n;
  }
  jfree(&v);
  return ok ? 0 : -1;
}

static int parse_value(const struct ctc_arg_spec *spec, const char *raw, struct plan_arg *a)
{
  a->present = 1;
  switch (spec->type) {
  case CTC_ARG_STR:
    if (raw[0] == '"')
      return parse_json_value(raw, 0, a);
    a->s = strdup(raw);
    return 0;
  case CTC_ARG_INT: return parse_int(raw, 1, &a->i);
  case CTC_ARG_MODE: {
    size_t n = strlen(raw);
    if (raw[0] != '0' || n < 4 || n > 7 || strspn(raw, "01234567") != n)
      return -1;
    a->i = strtoll(raw, NULL, 8);
    return 0;
  }
  case CTC_ARG_NAMES:
    if (strcmp(raw, "-"))
      a->v = split_commas(raw, &a->n);
    return 0;
  case CTC_ARG_INTS: {
    if (!strcmp(raw, "-"))
      return 0;
    char **parts = split_commas(raw, &a->n);
    int r = 0;
    a->iv = calloc(a->n, sizeof *a->iv);
    for (size_t k = 0; k < a->n; k++) {
      r |= parse_int(parts[k], 0, &a->iv[k]);
      free(parts[k]);
    }
    free(parts);
    return r;
  }
  case CTC_ARG_STRS: return parse_json_value(raw, 1, a);
  }
  return -1;
}

/* ---- a step line (text.ts parseStep, tokenize, valueEnd) ---- */

/* Where a value starting at i ends: a JSON string or array, or a bare word. */
static size_t value_end(const char *s, size_t len, size_t i)
{
  if (i >= len || (s[i] != '"' && s[i] != '[')) {
    const char *sp = i < len ? memchr(s + i, ' ', len - i) : NULL;
    return sp ? (size_t)(sp - s) : len;
  }
  int depth = 0, in_string = 0;
  for (; i < len; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = 0;
    } else if (c == '"')
      in_string = 1;
    else if (c == '[')
      depth++;
    else if (c == ']')
      depth--;
    if (!in_string && depth == 0 && (c == '"' || c == ']'))
      return i + 1;
  }
  return len;
}

static const struct ctc_kind_spec *kind_named(const char *name, size_t len)
{
  for (size_t k = 0; k < CTC_NKINDS; k++)
    if (strlen(ctc_step_kinds[k].name) == len && !memcmp(ctc_step_kinds[k].name, name, len))
      return &ctc_step_kinds[k];
  return NULL;
}

static int arg_index(const struct ctc_kind_spec *kind, const char *name, size_t len)
{
  for (size_t k = 0; k < kind->nargs; k++)
    if (strlen(kind->args[k].name) == len && !memcmp(kind->args[k].name, name, len))
      return (int)k;
  return -1;
}

/* tokenize(): each name=value into its argument; a name the kind lacks, or one given twice, refuses the line */
static int read_args(struct plan *p, struct plan_step *s, const char *t, size_t len)
{
  for (size_t i = 0; i < len;) {
    if (t[i] == ' ') {
      i++;
      continue;
    }
    if (t[i] == '#')
      return 0; /* the source position: nothing a run reads */
    const char *eq = memchr(t + i, '=', len - i);
    if (!eq)
      return refuse(p, "step %u: expected name=value", s->n);
    int k = arg_index(s->kind, t + i, (size_t)(eq - t - i));
    size_t end = value_end(t, len, (size_t)(eq - t) + 1);
    if (k < 0 || s->a[k].present)
      return refuse(p, "step %u: %.*s= is unknown or given twice", s->n, (int)(eq - t - i), t + i);
    char *raw = strndup(eq + 1, end - (size_t)(eq - t) - 1);
    int r = parse_value(&s->kind->args[k], raw, &s->a[k]);
    free(raw);
    if (r < 0)
      return refuse(p, "step %u: %s= does not read", s->n, s->kind->args[k].name);
    i = end;
  }
  return 0;
}

/* /^(\d+) (host|init) ([a-z]+\.[a-z-]+)(.*)$/, then the arguments */
static int read_step(struct plan *p, struct line l, unsigned expected, struct plan_step *s)
{
  size_t i = 0;
  while (i < l.len && l.p[i] >= '0' && l.p[i] <= '9')
    i++;
  long long n = -1;
  char digits[24] = "";
  if (i > 0 && i < sizeof digits)
    memcpy(digits, l.p, i), parse_int(digits, 0, &n);
  if (i == 0 || n != expected)
    return refuse(p, "line of step %u: no step number, or out of order", expected);
  const char *actor = l.p + i;
  if (l.len < i + 6 || (memcmp(actor, " host ", 6) && memcmp(actor, " init ", 6)))
    return refuse(p, "step %u: no actor", expected);
  size_t k0 = i + 6, k = k0;
  while (k < l.len && l.p[k] >= 'a' && l.p[k] <= 'z')
    k++;
  size_t dot = k;
  if (dot == k0 || dot >= l.len || l.p[dot] != '.')
    return refuse(p, "step %u: no kind", expected);
  for (k = dot + 1; k < l.len && ((l.p[k] >= 'a' && l.p[k] <= 'z') || l.p[k] == '-'); k++)
    ;
  if (k == dot + 1)
    return refuse(p, "step %u: no kind", expected);
  s->n = expected;
  s->kind = kind_named(l.p + k0, k - k0);
  if (!s->kind || s->kind->host != !memcmp(actor, " host ", 6))
    return refuse(p, "step %u: an unknown kind, or the wrong actor", expected);
  s->a = calloc(s->kind->nargs ? s->kind->nargs : 1, sizeof *s->a);
  if (read_args(p, s, l.p + k, l.len - k) < 0)
    return -1;
  for (size_t a = 0; a < s->kind->nargs; a++)
    if (!s->a[a].present && !s->kind->args[a].optional)
      return refuse(p, "step %u: %s needs %s=", expected, s->kind->name, s->kind->args[a].name);
  return 0;
}

/*
 * What JavaScript reads otherwise than bytes: a line that is not UTF-8
 * (readFileSync's 'utf8' would replace it), and U+2028/U+2029, which end a
 * regex's `.` in parseStep. Refused: the CLI decides such a plan.
 */
static int javascript_reads_same(const char *text, size_t len)
{
  if (!utf8_valid(text, len))
    return 0;
  for (size_t k = 0; k + 2 < len; k++)
    if ((unsigned char)text[k] == 0xe2 && (unsigned char)text[k + 1] == 0x80 && ((unsigned char)text[k + 2] & 0xfe) == 0xa8)
      return 0;
  return 1;
}

/* The header (text.ts parsePlan): magic, version, sources, digest, blank line. *first = the first step's line. */
static int read_header(struct plan *p, const char *text, size_t len, struct line *l, size_t n, size_t *first, int digest)
{
  if (!line_starts(l[0], "ctc-plan 1") || (l[0].len > 10 && l[0].p[10] != ' '))
    return refuse(p, "not a ctc plan of format 1");
  size_t i = 1;
  for (; i < n && line_starts(l[i], "source "); i++) {
    /* lines[i].split(' '): [, path, hash] */
    const char *path = l[i].p + 7, *end = l[i].p + l[i].len;
    const char *sp = memchr(path, ' ', (size_t)(end - path));
    const char *hash = sp ? sp + 1 : end, *hend = memchr(hash, ' ', (size_t)(end - hash));
    if (!sp || sp == path || !is_hex64(hash, (size_t)((hend ? hend : end) - hash)))
      return refuse(p, "a source line is `source <path> <sha256>`");
  }
  if (i >= n || l[i].len != 14 + 64 || !line_starts(l[i], "digest sha256:") || !is_hex64(l[i].p + 14, 64))
    return refuse(p, "missing the digest line");
  if (digest && !digest_ok(text, len, l[i]))
    return refuse(p, "the plan does not match its digest");
  if (i + 1 >= n || l[i + 1].len || l[n - 1].len)
    return refuse(p, "no blank line after the header");
  *first = i + 2;
  return 0;
}

static int read_text(const char *text, size_t len, struct plan *p, int digest)
{
  *p = (struct plan){0};
  if (memchr(text, '\0', len) || memchr(text, '\r', len) || !javascript_reads_same(text, len))
    return refuse(p, "a NUL, a CR, or text JavaScript would read otherwise");
  size_t n, first = 0;
  struct line *l = split_lines(text, len, &n);
  int r = read_header(p, text, len, l, n, &first, digest);
  size_t steps = !r && n - 1 > first ? n - 1 - first : 0;
  p->steps = calloc(steps ? steps : 1, sizeof *p->steps);
  for (size_t k = 0; !r && k < steps; k++, p->n++)
    r = read_step(p, l[first + k], (unsigned)k + 1, &p->steps[k]);
  free(l);
  return r;
}

int plan_read(const char *text, size_t len, struct plan *p)
{
  return read_text(text, len, p, 1);
}

int plan_read_steps(const char *text, size_t len, struct plan *p)
{
  return read_text(text, len, p, 0);
}

void plan_free(struct plan *p)
{
  /* p->n counts a step that failed half-read too */
  for (size_t k = 0; k < p->n; k++) {
    struct plan_step *s = &p->steps[k];
    for (size_t a = 0; s->a && a < s->kind->nargs; a++) {
      for (size_t j = 0; s->a[a].v && j < s->a[a].n; j++)
        free(s->a[a].v[j]);
      free(s->a[a].s), free(s->a[a].v), free(s->a[a].iv);
    }
    free(s->a);
  }
  free(p->steps);
  p->steps = NULL, p->n = 0;
}

/* ---- access ---- */

const struct plan_arg *plan_arg(const struct plan_step *s, const char *name)
{
  int k = arg_index(s->kind, name, strlen(name));
  return k < 0 ? NULL : &s->a[k];
}

const char *plan_str(const struct plan_step *s, const char *name)
{
  const struct plan_arg *a = plan_arg(s, name);
  return a && a->present && a->s ? a->s : "";
}

size_t plan_list(const struct plan_step *s, const char *name, char ***v)
{
  const struct plan_arg *a = plan_arg(s, name);
  *v = a && a->present ? a->v : NULL;
  return *v ? a->n : 0;
}

int plan_is(const struct plan_step *s, const char *kind)
{
  return !strcmp(s->kind->name, kind);
}

int ctc_number_of(const struct ctc_number *t, size_t n, const char *name, uint64_t *out)
{
  for (size_t k = 0; k < n; k++)
    if (!strcmp(t[k].name, name))
      return *out = t[k].value, 0;
  return -1;
}
