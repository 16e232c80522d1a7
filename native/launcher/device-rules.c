/*
 * device-rules.c: a cgroup.devices rule list → the v2 device filter, the
 * eBPF program executor/host/cgroups/device-filter.ts compileDeviceFilter makes,
 * instruction for instruction (ctc-init's device-filter.c loads it): the
 * last rule for every device ('a') sets the default, the exceptions after
 * it are tried last first, and the first that matches decides.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "plan-image.h"

enum { LDX_W = 0x61, ALU32_AND_K = 0x54, ALU32_RSH_K = 0x74, ALU32_MOV_X = 0xbc, ALU64_MOV_K = 0xb7, JNE_K = 0x55, EXIT = 0x95 };
enum { DEV_BLOCK = 1, DEV_CHAR = 2 };
#define ANY (-1L)

struct rule {
  int allow;
  char type;         /* a, b, c */
  long major, minor; /* ANY for '*' */
  int access;        /* m 1, r 2, w 4 */
};

static void insn(struct buf *b, int code, int dst, int src, int off, long imm)
{
  unsigned char i[8] = {(unsigned char)code, (unsigned char)((src << 4) | dst), (unsigned char)(off & 0xff),
                        (unsigned char)((off >> 8) & 0xff)};
  uint32_t v = (uint32_t)(int32_t)imm;
  memcpy(i + 4, &v, 4);
  buf_add(b, i, 8);
}

/* '*' or a number an int32 immediate holds (writeInt32LE throws past it) */
static int device_number(const char *s, size_t n, long *out)
{
  if (n == 1 && *s == '*')
    return *out = ANY, 0;
  if (!n || n > 10 || strspn(s, "0123456789") < n)
    return -1;
  char tmp[12];
  memcpy(tmp, s, n), tmp[n] = '\0';
  *out = strtol(tmp, NULL, 10);
  return *out > 0x7fffffffL ? -1 : 0;
}

/* parseRule: /^(allow|deny) ([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/ */
static int parse_rule(const char *t, struct rule *r)
{
  size_t verb = !strncmp(t, "allow ", 6) ? 6 : !strncmp(t, "deny ", 5) ? 5 : 0;
  if (!verb || !strchr("abc", t[verb]) || !t[verb] || t[verb + 1] != ' ')
    return -1;
  r->allow = verb == 6, r->type = t[verb];
  const char *maj = t + verb + 2, *colon = strchr(maj, ':');
  const char *min = colon ? colon + 1 : NULL, *sp = min ? strchr(min, ' ') : NULL;
  if (!sp || device_number(maj, (size_t)(colon - maj), &r->major) < 0 || device_number(min, (size_t)(sp - min), &r->minor) < 0)
    return -1;
  const char *acc = sp + 1;
  if (!*acc || strspn(acc, "rwm") != strlen(acc))
    return -1;
  r->access = (strchr(acc, 'm') ? 1 : 0) | (strchr(acc, 'r') ? 2 : 0) | (strchr(acc, 'w') ? 4 : 0);
  return 0;
}

/* One exception: its tests jump past the block when the device does not match, else its verdict. */
static void rule_block(struct buf *b, const struct rule *r)
{
  int n = 0;
  struct {
    int code, dst, src;
    long imm;
  } t[6];
  t[n++] = (typeof(t[0])){JNE_K, 2, 0, r->type == 'c' ? DEV_CHAR : DEV_BLOCK};
  t[n++] = (typeof(t[0])){ALU32_MOV_X, 6, 3, 0};
  t[n++] = (typeof(t[0])){ALU32_AND_K, 6, 0, ~r->access & 7};
  t[n++] = (typeof(t[0])){JNE_K, 6, 0, 0};
  if (r->major != ANY)
    t[n++] = (typeof(t[0])){JNE_K, 4, 0, r->major};
  if (r->minor != ANY)
    t[n++] = (typeof(t[0])){JNE_K, 5, 0, r->minor};
  for (int i = 0; i < n; i++)
    insn(b, t[i].code, t[i].dst, t[i].src, t[i].code == JNE_K ? n - 1 - i + 2 : 0, t[i].imm);
  insn(b, ALU64_MOV_K, 0, 0, 0, r->allow ? 1 : 0);
  insn(b, EXIT, 0, 0, 0, 0);
}

int device_program(char **rules, size_t n, struct buf *out)
{
  struct rule *r = calloc(n ? n : 1, sizeof *r);
  size_t first = 0; /* the exceptions: the rules after the last 'a' */
  int allow_default = 1;
  for (size_t k = 0; k < n; k++) {
    if (parse_rule(rules[k], &r[k]) < 0)
      return free(r), -1;
    if (r[k].type == 'a')
      allow_default = r[k].allow, first = k + 1;
  }
  insn(out, LDX_W, 2, 1, 0, 0);
  insn(out, ALU32_AND_K, 2, 0, 0, 0xffff);
  insn(out, LDX_W, 3, 1, 0, 0);
  insn(out, ALU32_RSH_K, 3, 0, 0, 16);
  insn(out, LDX_W, 4, 1, 4, 0);
  insn(out, LDX_W, 5, 1, 8, 0);
  for (size_t k = n; k > first; k--)
    rule_block(out, &r[k - 1]);
  insn(out, ALU64_MOV_K, 0, 0, 0, allow_default ? 1 : 0);
  insn(out, EXIT, 0, 0, 0, 0);
  free(r);
  return 0;
}
