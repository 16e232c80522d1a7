/*
 * seccomp-bpf.c: a proc.seccomp step's rules → classic BPF, the program
 * plan/seccomp/bpf.ts compiles, instruction for instruction (its comment
 * explains the program; this follows it step by step):
 *
 *   ld arch; jeq AUDIT_ARCH_X86_64 → x86_64; jeq AUDIT_ARCH_AARCH64 → aarch64
 *   ret KILL_PROCESS
 *   x86_64:  ld nr; <binary search over ranges of syscall numbers>
 *   aarch64: ld nr; <…>
 *
 * On each architecture the numbers 0..2^32-1 are cut into ranges that get
 * the same treatment (the rules naming that syscall, in order, then an
 * action); x86_64's x32 numbers (bit 30) are killed, and numbers above the
 * highest one the policy names get ENOSYS when the default refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-bpf.h"
#include "seccomp-parts.h"

/* AUDIT_ARCH_* (linux/audit.h), by enum seccomp_arch */
static const uint32_t audit_arch[] = {[ARCH_X86_64] = 0xc000003eu, [ARCH_AARCH64] = 0xc00000b7u};

#define RET_KILL_PROCESS 0x80000000u
#define RET_ERRNO 0x00050000u
#define RET_TRAP 0x00030000u
#define RET_KILL_THREAD 0x00000000u
#define X32_SYSCALL_BIT 0x40000000u

/* struct seccomp_data offsets: { int nr; u32 arch; u64 ip; u64 args[6] } */
#define OFF_NR 0
#define OFF_ARCH 4
#define ARG_LOW(i) (16 + 8 * (i))
#define ARG_HIGH(i) (16 + 8 * (i) + 4)

/* A range of syscall numbers: the rules to run (each's conditions, then its action), then otherwise. */
struct range {
  uint32_t from;
  const struct seccomp_rule *const *entries;
  size_t n;
  uint32_t otherwise;
};

/* The rules that name one syscall number, in order. */
struct slot {
  const struct seccomp_rule **v;
  size_t n;
};

struct policy {
  uint32_t def; /* the default action's value */
  struct seccomp_rule *rules;
  size_t nrules;
};

/* ---- the argument conditions ---- */

#define ON ((unsigned)-1) /* on_high: go on to the next test */

/* A test on the high word that, when it does not decide, goes on to what follows. */
static void on_high(struct bpf_asm *a, enum asm_kind kind, uint32_t k, unsigned t, unsigned f)
{
  unsigned on = asm_label(a);
  asm_jump(a, kind, k, t == ON ? on : t, f == ON ? on : f);
  asm_at(a, on);
}

static void masked_eq(struct bpf_asm *a, const struct seccomp_cond *c, unsigned pass, unsigned fail)
{
  uint32_t vh = (uint32_t)(c->value >> 32), vl = (uint32_t)c->value;
  uint32_t wh = (uint32_t)(c->two >> 32), wl = (uint32_t)c->two;
  /* With a zero high mask the high word always masks to 0: no test needed. */
  if (vh != 0 || wh != 0) {
    asm_op(a, INS_LD, ARG_HIGH(c->index));
    asm_op(a, INS_AND, vh);
    on_high(a, INS_JEQ, wh, ON, fail);
  }
  asm_op(a, INS_LD, ARG_LOW(c->index));
  asm_op(a, INS_AND, vl);
  asm_jump(a, INS_JEQ, wl, pass, fail);
}

/* eq, ne, gt, ge, lt, le after the high word is loaded: to pass or fail */
static void compare(struct bpf_asm *a, const struct seccomp_cond *c, unsigned pass, unsigned fail)
{
  uint32_t vh = (uint32_t)(c->value >> 32), vl = (uint32_t)c->value;
  int strict = c->op == OP_GT || c->op == OP_LT;
  switch (c->op) {
  case OP_EQ:
  case OP_NE: /* ne: eq with pass and fail swapped */
    on_high(a, INS_JEQ, vh, ON, c->op == OP_EQ ? fail : pass);
    asm_op(a, INS_LD, ARG_LOW(c->index));
    asm_jump(a, INS_JEQ, vl, c->op == OP_EQ ? pass : fail, c->op == OP_EQ ? fail : pass);
    break;
  case OP_GT:
  case OP_GE: /* high > vh: holds; high < vh: fails; equal: the low words decide */
    on_high(a, INS_JGT, vh, pass, ON);
    on_high(a, INS_JEQ, vh, ON, fail);
    asm_op(a, INS_LD, ARG_LOW(c->index));
    asm_jump(a, strict ? INS_JGT : INS_JGE, vl, pass, fail);
    break;
  default: /* lt, le */
    on_high(a, INS_JGT, vh, fail, ON);
    on_high(a, INS_JEQ, vh, ON, pass);
    asm_op(a, INS_LD, ARG_LOW(c->index));
    asm_jump(a, strict ? INS_JGE : INS_JGT, vl, fail, pass);
  }
}

/* Falls through when the condition holds; jumps to fail when it does not. */
static void condition(struct bpf_asm *a, const struct seccomp_cond *c, unsigned fail)
{
  unsigned pass = asm_label(a);
  if (c->op == OP_MASKED_EQ)
    masked_eq(a, c, pass, fail);
  else {
    asm_op(a, INS_LD, ARG_HIGH(c->index));
    compare(a, c, pass, fail);
  }
  asm_at(a, pass);
}

/* ---- ranges and the search ---- */

static int same_cond(const struct seccomp_cond *x, const struct seccomp_cond *y)
{
  return x->index == y->index && x->op == y->op && x->value == y->value && x->two == y->two;
}

static int same_entry(const struct seccomp_rule *x, const struct seccomp_rule *y)
{
  if (x->value != y->value || x->nconds != y->nconds)
    return 0;
  for (size_t i = 0; i < x->nconds; i++)
    if (!same_cond(&x->conds[i], &y->conds[i]))
      return 0;
  return 1;
}

static int same_range(const struct range *x, const struct range *y)
{
  if (x->otherwise != y->otherwise || x->n != y->n)
    return 0;
  for (size_t i = 0; i < x->n; i++)
    if (!same_entry(x->entries[i], y->entries[i]))
      return 0;
  return 1;
}

/* Entries that cannot change the outcome are dropped: those after an unconditional one, and trailing ones giving what follows anyway. */
static struct range simplify(struct range r)
{
  for (size_t i = 0; i < r.n; i++)
    if (r.entries[i]->nconds == 0) {
      r.otherwise = r.entries[i]->value;
      r.n = i;
      break;
    }
  while (r.n && r.entries[r.n - 1]->value == r.otherwise)
    r.n--;
  return r;
}

/* Appends a range, or leaves it to the one before when they are the same. */
static void add(struct range *ranges, size_t *n, uint32_t from, const struct seccomp_rule *const *entries, size_t count,
                uint32_t otherwise)
{
  struct range r = simplify((struct range){from, entries, count, otherwise});
  if (*n && same_range(&ranges[*n - 1], &r))
    return;
  ranges[(*n)++] = r;
}

static void leaf(struct bpf_asm *a, const struct range *r)
{
  for (size_t i = 0; i < r->n; i++) {
    unsigned fail = asm_label(a);
    for (size_t c = 0; c < r->entries[i]->nconds; c++)
      condition(a, &r->entries[i]->conds[c], fail);
    asm_op(a, INS_RET, r->entries[i]->value);
    asm_at(a, fail);
  }
  asm_op(a, INS_RET, r->otherwise);
}

/* Binary search over ranges[lo..hi], which together cover every nr that can reach here. */
static void search(struct bpf_asm *a, const struct range *ranges, size_t lo, size_t hi)
{
  if (lo == hi) {
    leaf(a, &ranges[lo]);
    return;
  }
  size_t mid = (lo + hi + 1) >> 1;
  unsigned left = asm_label(a), right = asm_label(a);
  asm_jump(a, INS_JGE, ranges[mid].from, right, left);
  asm_at(a, left);
  search(a, ranges, lo, mid - 1);
  asm_at(a, right);
  search(a, ranges, mid, hi);
}

/* ---- an architecture's section ---- */

/* errno, kill_process, kill_thread, trap: the actions that refuse (told apart by SECCOMP_RET_ACTION_FULL, the high 16 bits) */
static int refusing(uint32_t value)
{
  uint32_t action = value & 0xffff0000u;
  return action == RET_ERRNO || action == RET_KILL_PROCESS || action == RET_KILL_THREAD || action == RET_TRAP;
}

/* For each number arch gives a syscall the rules name: those rules, in order (each once). */
static struct slot *slots_of(const struct policy *p, enum seccomp_arch arch, size_t *nslots)
{
  long max = -1;
  for (size_t r = 0; r < p->nrules; r++)
    for (size_t i = 0; i < p->rules[r].nsyscalls; i++) {
      long nr = seccomp_syscall_nr(arch, p->rules[r].syscalls[i]);
      max = nr > max ? nr : max;
    }
  struct slot *slots = calloc((size_t)(max + 1) + 1, sizeof *slots);
  for (size_t r = 0; slots && r < p->nrules; r++)
    for (size_t i = 0; i < p->rules[r].nsyscalls; i++) {
      long nr = seccomp_syscall_nr(arch, p->rules[r].syscalls[i]);
      struct slot *s = nr < 0 ? NULL : &slots[nr];
      if (!s || (s->n && s->v[s->n - 1] == &p->rules[r]))
        continue; /* not on arch, or named twice in the rule */
      const struct seccomp_rule **grown = realloc(s->v, (s->n + 1) * sizeof *grown);
      if (!grown)
        abort();
      s->v = grown;
      s->v[s->n++] = &p->rules[r];
    }
  *nslots = (size_t)(max + 1);
  return slots;
}

/* The ranges of one architecture's numbers; their count. */
static size_t ranges_of(const struct policy *p, enum seccomp_arch arch, const struct slot *slots, size_t nslots,
                        struct range *ranges)
{
  size_t n = 0, named = 0;
  uint64_t from = 0;
  for (size_t nr = 0; nr < nslots; nr++) {
    if (!slots[nr].n)
      continue;
    named++;
    if (nr > from)
      add(ranges, &n, (uint32_t)from, NULL, 0, p->def);
    add(ranges, &n, (uint32_t)nr, slots[nr].v, slots[nr].n, p->def);
    from = nr + 1;
  }
  /* numbers above the highest one named: newer than the policy, so ENOSYS rather than a refusal */
  uint32_t beyond = refusing(p->def) && named ? RET_ERRNO | (uint32_t)seccomp_errno_of("ENOSYS") : p->def;
  uint64_t last = arch == ARCH_X86_64 ? X32_SYSCALL_BIT - 1 : 0xffffffffu;
  if (from <= last)
    add(ranges, &n, (uint32_t)from, NULL, 0, beyond);
  if (arch == ARCH_X86_64)
    add(ranges, &n, X32_SYSCALL_BIT, NULL, 0, RET_KILL_PROCESS);
  return n;
}

static int section(struct bpf_asm *a, const struct policy *p, enum seccomp_arch arch)
{
  size_t nslots;
  struct slot *slots = slots_of(p, arch, &nslots);
  struct range *ranges = slots ? calloc(2 * nslots + 2, sizeof *ranges) : NULL;
  int ok = ranges ? 0 : -1;
  if (ranges) {
    asm_op(a, INS_LD, OFF_NR);
    search(a, ranges, 0, ranges_of(p, arch, slots, nslots, ranges) - 1);
  }
  for (size_t i = 0; slots && i < nslots; i++)
    free(slots[i].v);
  free(slots);
  free(ranges);
  return ok;
}

/* ---- the policy ---- */

static void policy_free(struct policy *p)
{
  for (size_t i = 0; i < p->nrules; i++)
    seccomp_rule_free(&p->rules[i]);
  free(p->rules);
}

/* The default and the rules read; every syscall a name of some architecture's. */
static int policy_read(const struct seccomp_text *t, struct policy *p, char *err, size_t errlen)
{
  *p = (struct policy){0};
  if (!t->default_action) {
    snprintf(err, errlen, "seccomp: the step names no default action");
    return -1;
  }
  int64_t def = seccomp_action_value(t->default_action, err, errlen);
  if (def < 0)
    return -1;
  p->def = (uint32_t)def;
  p->rules = calloc(t->nrules + 1, sizeof *p->rules);
  if (!p->rules) {
    snprintf(err, errlen, "seccomp: out of memory");
    return -1;
  }
  for (; p->nrules < t->nrules; p->nrules++) {
    struct seccomp_rule *r = &p->rules[p->nrules];
    if (seccomp_rule_parse(t->rules[p->nrules], r, err, errlen))
      return -1;
    for (size_t i = 0; i < r->nsyscalls; i++)
      if (!seccomp_is_syscall(r->syscalls[i])) {
        snprintf(err, errlen, "seccomp rule '%s': '%s' is not a syscall on x86_64 or aarch64", t->rules[p->nrules],
                 r->syscalls[i]);
        p->nrules++;
        return -1;
      }
  }
  return 0;
}

/* t's architectures, each once, in order; their count, or -1 with err for one ctc cannot filter. */
static int arches_of(const struct seccomp_text *t, enum seccomp_arch *out, char *err, size_t errlen)
{
  int n = 0;
  for (size_t i = 0; i < t->narches; i++) {
    int arch = seccomp_arch_of(t->arches[i]);
    if (arch < 0) {
      snprintf(err, errlen, "seccomp: ctc cannot filter the %s architecture", t->arches[i]);
      return -1;
    }
    int seen = 0;
    for (int j = 0; j < n; j++)
      seen |= out[j] == (enum seccomp_arch)arch;
    if (!seen)
      out[n++] = (enum seccomp_arch)arch;
  }
  return n;
}

static int program(struct bpf_asm *a, const struct policy *p, const enum seccomp_arch *arches, int n)
{
  unsigned sections[2];
  asm_op(a, INS_LD, OFF_ARCH);
  for (int i = 0; i < n; i++)
    sections[i] = asm_label(a);
  for (int i = 0; i < n; i++) {
    unsigned next = asm_label(a);
    asm_jump(a, INS_JEQ, audit_arch[arches[i]], sections[i], next);
    asm_at(a, next);
  }
  asm_op(a, INS_RET, RET_KILL_PROCESS); /* an architecture the policy does not list */
  for (int i = 0; i < n; i++) {
    asm_at(a, sections[i]);
    if (section(a, p, arches[i]))
      return -1;
  }
  return 0;
}

unsigned char *seccomp_compile(const struct seccomp_text *t, size_t *len, char *err, size_t errlen)
{
  enum seccomp_arch arches[2];
  struct policy p = {0};
  struct bpf_asm a = {0};
  unsigned char *out = NULL;
  int n = arches_of(t, arches, err, errlen);
  if (n >= 0 && !policy_read(t, &p, err, errlen)) {
    if (program(&a, &p, arches, n))
      snprintf(err, errlen, "seccomp: out of memory");
    else
      out = asm_assemble(&a, len, err, errlen);
  }
  if (n >= 0)
    policy_free(&p);
  asm_free(&a);
  if (out && *len / 8 > BPF_MAXINSNS) {
    snprintf(err, errlen, "the seccomp policy compiles to %zu BPF instructions; the kernel takes at most %d", *len / 8,
             BPF_MAXINSNS);
    free(out);
    out = NULL;
  }
  return out;
}

/* SECCOMP_FILTER_FLAG_* (linux/seccomp.h) */
static const struct {
  const char *name;
  int64_t bit;
} flag_bits[] = {{"tsync", 1},        {"log", 2},          {"spec_allow", 4},
                 {"new_listener", 8}, {"tsync_esrch", 16}, {"wait_killable_recv", 32}};

int64_t seccomp_flag_bits(const struct seccomp_text *t, char *err, size_t errlen)
{
  int64_t bits = 0;
  for (size_t i = 0; i < t->nflags; i++) {
    size_t f = 0;
    while (f < sizeof flag_bits / sizeof *flag_bits && strcmp(flag_bits[f].name, t->flags[i]))
      f++;
    if (f == sizeof flag_bits / sizeof *flag_bits) {
      snprintf(err, errlen, "seccomp: unknown seccomp flag '%s'", t->flags[i]);
      return -1;
    }
    bits |= flag_bits[f].bit;
  }
  return bits;
}
