/*
 * seccomp-rule.c: a proc.seccomp step's rule and action text, read as
 * plan/seccomp/text.ts reads it (the grammar is there), accepting exactly
 * what its regular expressions accept:
 *
 *   allow read write openat
 *   errno:38 clone3
 *   allow clone if arg0&0x7e020000==0
 *   errno:EPERM kill if arg0==1 && arg1>=0x100000000
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-parts.h"

/* SECCOMP_RET_* (linux/seccomp.h), by the names plans use */
static const struct {
  const char *name;
  uint32_t ret;
} actions[] = {
    {"allow", 0x7fff0000u}, {"errno", 0x00050000u}, {"kill_process", 0x80000000u}, {"kill_thread", 0x00000000u},
    {"trap", 0x00030000u},  {"trace", 0x7ff00000u}, {"log", 0x7ffc0000u},          {"notify", 0x7fc00000u},
};

#define EPERM_NR 1

static int is_word(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int all_of(const char *s, const char *set)
{
  return *s && strspn(s, set) == strlen(s);
}

/*
 * errno:N's N as JavaScript takes it: Number(digits) (the nearest double),
 * then the low 16 bits of its int32 (actionValue's `ret & 0xffff`), so that
 * even an errno the compiler's check would refuse gives the TypeScript
 * program's bytes. A double at or above 2^53 is m * 2^s with s >= 1: its low
 * 16 bits are m's shifted, and 0 from s >= 16 (and for Infinity).
 */
static uint32_t digits_data(const char *digits)
{
  double d = strtod(digits, NULL);
  if (d < 9007199254740992.0)
    return (uint32_t)((uint64_t)d & 0xffff);
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  int shift = (int)((bits >> 52) & 0x7ff) - 1075;
  uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
  return shift >= 16 ? 0 : (uint32_t)(((m & 0xffff) << shift) & 0xffff);
}

#define DIGITS "0123456789"

static int action_index(const char *text, size_t n)
{
  for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
    if (strlen(actions[i].name) == n && !strncmp(actions[i].name, text, n))
      return (int)i;
  return -1;
}

/* name[:arg]: text.ts's /^([a-z_]+)(?::(\d+|E[A-Z0-9]+))?$/ */
static int action_shape(const char *text, size_t n, const char *arg)
{
  if (!n)
    return 0;
  if (!arg)
    return text[n] == '\0';
  return all_of(arg, DIGITS) || (arg[0] == 'E' && all_of(arg + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS));
}

int64_t seccomp_action_value(const char *text, char *err, size_t errlen)
{
  size_t n = strspn(text, "abcdefghijklmnopqrstuvwxyz_");
  const char *arg = text[n] == ':' ? text + n + 1 : NULL;
  int i = action_shape(text, n, arg) ? action_index(text, n) : -1;
  if (i < 0) {
    snprintf(err, errlen,
             "seccomp rule '%s': '%s' is not a seccomp action (allow, errno, kill_process, kill_thread, trap, trace, log, "
             "notify, errno:N, trace:N)",
             text, text);
    return -1;
  }
  int errno_action = !strcmp(actions[i].name, "errno");
  long data = !arg ? (errno_action ? EPERM_NR : 0) : all_of(arg, DIGITS) ? (long)digits_data(arg) : seccomp_errno_of(arg);
  if (data < 0) {
    snprintf(err, errlen, "seccomp rule '%s': unknown errno name %s", text, arg);
    return -1;
  }
  /* only errno and trace carry data (actionValue) */
  return actions[i].ret | (errno_action || !strcmp(actions[i].name, "trace") ? (uint32_t)data & 0xffff : 0);
}

/* A value: decimal without leading zeros or 0x and lower-case hex, 0..2^64-1. */
static int u64_value(const char *v, size_t len, uint64_t *out)
{
  uint64_t n = 0;
  int hex = len > 2 && v[0] == '0' && v[1] == 'x';
  if (len == 0 || (!hex && v[0] == '0' && len > 1))
    return -1;
  for (size_t i = hex ? 2 : 0; i < len; i++) {
    char c = v[i];
    unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : hex && c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 99;
    if (d == 99 || (hex ? n >> 60 != 0 : n > (UINT64_MAX - d) / 10))
      return -1;
    n = hex ? n << 4 | d : n * 10 + d;
  }
  *out = n;
  return 0;
}

static size_t word_run(const char *s)
{
  size_t n = 0;
  while (is_word(s[n]))
    n++;
  return n;
}

static const struct {
  const char *text;
  enum seccomp_op op;
} ops[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"<", OP_LT}, {">", OP_GT}};

/* "argI&MASK==V": after the '&'; 0, -1 (no condition) or -2 (a bad value) */
static int masked(const char *s, struct seccomp_cond *c)
{
  size_t m = word_run(s);
  if (!m || strncmp(s + m, "==", 2) || !word_run(s + m + 2) || s[m + 2 + word_run(s + m + 2)])
    return -1;
  c->op = OP_MASKED_EQ;
  return u64_value(s, m, &c->value) || u64_value(s + m + 2, strlen(s + m + 2), &c->two) ? -2 : 0;
}

/* "argI<op>V": after the index; 0, -1 (no condition) or -2 (a bad value) */
static int compare(const char *s, struct seccomp_cond *c)
{
  size_t n = 0;
  while (s[n] && !is_word(s[n]))
    n++;
  if (!s[n] || s[n + word_run(s + n)])
    return -1;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (strlen(ops[i].text) == n && !strncmp(ops[i].text, s, n)) {
      c->op = ops[i].op;
      c->two = 0;
      return u64_value(s + n, strlen(s + n), &c->value) ? -2 : 0;
    }
  return -1;
}

static int parse_cond(const char *s, struct seccomp_cond *c, const char *text, char *err, size_t errlen)
{
  int r = -1;
  if (!strncmp(s, "arg", 3) && s[3] >= '0' && s[3] <= '5') {
    c->index = (unsigned)(s[3] - '0');
    r = s[4] == '&' ? masked(s + 5, c) : compare(s + 4, c);
  }
  if (r == -1)
    snprintf(err, errlen, "seccomp rule '%s': '%s' is not a condition like arg0==1 or arg0&0xff==0", text, s);
  else if (r == -2)
    snprintf(err, errlen, "seccomp rule '%s': '%s' has a value that is not 64-bit (decimal, or 0x and lower-case hex)", text, s);
  return r ? -1 : 0;
}

/* s cut at each sep (as String.split, empty pieces kept): the pieces, in place */
static char **split(char *s, const char *sep, size_t *n)
{
  size_t cap = 1;
  for (const char *p = s; (p = strstr(p, sep)); p += strlen(sep))
    cap++;
  char **v = calloc(cap, sizeof *v);
  if (!v)
    return NULL;
  *n = 0;
  for (char *p = s;; p += strlen(sep)) {
    v[(*n)++] = p;
    if (!(p = strstr(p, sep)))
      break;
    *p = '\0';
  }
  return v;
}

static int parse_head(char *head, struct seccomp_rule *r, const char *text, char *err, size_t errlen)
{
  size_t n;
  char **words = split(head, " ", &n);
  if (!words) {
    snprintf(err, errlen, "seccomp rule '%s': out of memory", text);
    return -1;
  }
  r->words = words;
  r->syscalls = words + 1; /* the action is words[0] */
  r->nsyscalls = n - 1;
  for (size_t i = 0; i < r->nsyscalls; i++)
    if (!all_of(r->syscalls[i], "abcdefghijklmnopqrstuvwxyz0123456789_")) {
      snprintf(err, errlen, "seccomp rule '%s': '%s' is not a syscall name", text, r->syscalls[i]);
      return -1;
    }
  int64_t value = seccomp_action_value(words[0], err, errlen);
  if (value < 0)
    return -1;
  r->value = (uint32_t)value;
  return 0;
}

static int parse_conds(char *conds, struct seccomp_rule *r, const char *text, char *err, size_t errlen)
{
  size_t n;
  char **pieces = split(conds, " && ", &n);
  r->conds = pieces ? calloc(n, sizeof *r->conds) : NULL;
  if (!r->conds) {
    free(pieces);
    snprintf(err, errlen, "seccomp rule '%s': out of memory", text);
    return -1;
  }
  int ok = 0;
  for (size_t i = 0; i < n && !ok; i++)
    if (!(ok = parse_cond(pieces[i], &r->conds[i], text, err, errlen)))
      r->nconds++;
  free(pieces);
  return ok;
}

int seccomp_rule_parse(const char *text, struct seccomp_rule *r, char *err, size_t errlen)
{
  *r = (struct seccomp_rule){0};
  r->copy = strdup(text);
  size_t n;
  char **parts = r->copy ? split(r->copy, " if ", &n) : NULL;
  if (!parts) {
    snprintf(err, errlen, "seccomp rule '%s': out of memory", text);
    seccomp_rule_free(r);
    return -1;
  }
  int ok = -1;
  if (n > 2)
    snprintf(err, errlen, "seccomp rule '%s': a seccomp rule has at most one ' if '", text);
  else if (!parse_head(parts[0], r, text, err, errlen))
    ok = n == 2 ? parse_conds(parts[1], r, text, err, errlen) : 0;
  free(parts);
  if (ok)
    seccomp_rule_free(r);
  return ok;
}

void seccomp_rule_free(struct seccomp_rule *r)
{
  free(r->words);
  free(r->conds);
  free(r->copy);
  *r = (struct seccomp_rule){0};
}
