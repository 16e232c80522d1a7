/*
 * plan-checks.c: the executor's checks of a plan read by plan-text.c, as
 * plan/validate.ts validatePlanSteps and executor/run/host-limits.ts
 * checkAfterExec make them (plan-text.h). The kinds whose checks need an
 * address parser (net.*), a map line or a file name are not checked here:
 * such a plan is refused, and the CLI checks it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plan-text.h"

static int invalid(struct plan *p, const struct plan_step *s, const char *what)
{
  snprintf(p->why, sizeof p->why, "step %u %s: %s", s->n, s->kind->name, what);
  return -1;
}

/* validate.ts climbs: p.split('/').includes('..') */
static int climbs(const char *p)
{
  for (const char *q = p; (q = strstr(q, "..")); q += 2)
    if ((q == p || q[-1] == '/') && (q[2] == '\0' || q[2] == '/'))
      return 1;
  return 0;
}

/* validate.ts absolute: {state} or {root} at the start counts as an absolute path */
static int absolute(const char *p)
{
  int placeholder = (!strncmp(p, "{state}", 7) && (p[7] == '/' || !p[7])) || (!strncmp(p, "{root}", 6) && (p[6] == '/' || !p[6]));
  return (placeholder || p[0] == '/') && !climbs(p);
}

/* One rule: the argument's kind of check. */
enum rule { ABSOLUTE, CGROUP, STATE_DIR, STATE_ROOTFS, JOINABLE };
struct check {
  const char *kind, *arg;
  enum rule rule;
};

/* validate.ts rules, for the kinds a plan read here may hold */
static const struct check checks[] = {
    {"state.create", "dir", STATE_DIR},    {"cgroup.create", "path", CGROUP},       {"cgroup.limit", "path", CGROUP},
    {"cgroup.devices", "path", CGROUP},    {"cgroup.join", "path", CGROUP},         {"ns.join", "path", ABSOLUTE},
    {"ns.join", "ns", JOINABLE},           {"rootfs.tmpfs", "dir", STATE_ROOTFS},   {"rootfs.bind", "dir", ABSOLUTE},
    {"rootfs.overlay", "lower", ABSOLUTE}, {"rootfs.overlay", "dir", STATE_ROOTFS}, {"rootfs.mirror", "path", ABSOLUTE},
    {"fs.mkdir", "path", ABSOLUTE},        {"fs.write", "path", ABSOLUTE},          {"fs.symlink", "path", ABSOLUTE},
    {"dev.node", "path", ABSOLUTE},        {"mount.fs", "dst", ABSOLUTE},           {"mount.bind", "src", ABSOLUTE},
    {"mount.bind", "dst", ABSOLUTE},       {"mount.cgroup", "dst", ABSOLUTE},       {"mount.cgroup", "path", CGROUP},
    {"mount.idmap", "root", ABSOLUTE},     {"mount.idmap", "src", ABSOLUTE},        {"mount.idmap", "dst", ABSOLUTE},
    {"fs.mask", "path", ABSOLUTE},         {"fs.readonly", "path", ABSOLUTE},       {"proc.cwd", "dir", ABSOLUTE},
};

/* plan/namespaces.ts joinableNamespaces */
static const char *const joinable[] = {"user", "pid", "uts", "ipc", "time", "network", "cgroup"};

/* The kinds validate.ts checks with what is not here (addresses, map lines, file names). */
static const char *const unchecked[] = {"net.bridge", "net.ipam", "net.veth", "net.addr", "net.route", "state.file", "user.map"};

static int rule_holds(enum rule r, const char *v)
{
  switch (r) {
  case ABSOLUTE: return absolute(v);
  case CGROUP: return !climbs(v);
  case STATE_DIR: return !strcmp(v, "{state}");
  case STATE_ROOTFS: return !strcmp(v, "{state}/rootfs");
  case JOINABLE:
    for (size_t k = 0; k < sizeof joinable / sizeof *joinable; k++)
      if (!strcmp(v, joinable[k]))
        return 1;
    return 0;
  }
  return 0;
}

static int check_step(struct plan *p, const struct plan_step *s)
{
  for (size_t k = 0; k < sizeof unchecked / sizeof *unchecked; k++)
    if (plan_is(s, unchecked[k]))
      return invalid(p, s, "checked by the CLI");
  for (size_t k = 0; k < sizeof checks / sizeof *checks; k++)
    if (plan_is(s, checks[k].kind) && !rule_holds(checks[k].rule, plan_str(s, checks[k].arg)))
      return invalid(p, s, "an argument the executor refuses");
  return 0;
}

/* validate.ts: a user, then a pid namespace joined before the clone must be the first init steps, in that order */
static int monitor_joins_first(struct plan *p)
{
  const char *order[] = {"user", "pid"};
  size_t init = 0;
  for (size_t o = 0; o < 2; o++) {
    for (size_t k = 0; k < p->n; k++) {
      const struct plan_step *s = &p->steps[k];
      if (!plan_is(s, "ns.join") || strcmp(plan_str(s, "ns"), order[o]))
        continue;
      /* the init-th init step must be this one */
      size_t seen = 0, at = 0;
      for (; at < p->n; at++)
        if (!p->steps[at].kind->host && seen++ == init)
          break;
      if (at != k)
        return invalid(p, s, "a namespace the monitor joins is not the first init step");
      init++;
    }
  }
  return 0;
}

/* ---- after-exec (plan/after-exec.ts) ---- */

static const struct plan_step *first_of(const struct plan *p, const char *kind)
{
  for (size_t k = 0; k < p->n; k++)
    if (plan_is(&p->steps[k], kind))
      return &p->steps[k];
  return NULL;
}

/* A capability list as a mask; -1 for a name this ctc does not know (preflight refuses it). */
static int cap_mask(const struct plan_step *s, const char *set, uint64_t *mask)
{
  char **v;
  size_t n = plan_list(s, set, &v);
  *mask = 0;
  for (size_t k = 0; k < n; k++) {
    uint64_t bit;
    if (CTC_LOOKUP(ctc_capabilities, v[k], &bit) < 0 || bit > 63)
      return -1;
    *mask |= 1ull << bit;
  }
  return 0;
}

/* formatAfterExec's one set: names in number order, or '-' */
static void put_set(FILE *out, const char *field, uint64_t mask)
{
  fprintf(out, "%s%s:", strcmp(field, "CapInh") ? "/" : "", field);
  int any = 0;
  for (size_t b = 0; b < 64; b++) {
    for (size_t k = 0; (mask >> b & 1) && k < CTC_TABLE_LEN(ctc_capabilities); k++)
      if (ctc_capabilities[k].value == b)
        fprintf(out, "%s%s", any++ ? "," : "", ctc_capabilities[k].name);
  }
  if (!any)
    fputc('-', out);
}

/* isRootUser: a uid decides when given (and not negative), else the name root */
static int root_user(const struct plan *p)
{
  const struct plan_step *user = first_of(p, "proc.user");
  const struct plan_arg *uid = user ? plan_arg(user, "uid") : NULL;
  if (uid && uid->present && uid->i >= 0)
    return uid->i == 0;
  return user && !strcmp(plan_str(user, "name"), "root");
}

int plan_after_exec(const struct plan *p, char *out, size_t size)
{
  const struct plan_step *caps = first_of(p, "proc.caps"), *bounding = first_of(p, "proc.bounding");
  if (!caps || !bounding)
    return 0;
  uint64_t b, e, pm, i, a;
  if (cap_mask(bounding, "caps", &b) | cap_mask(caps, "effective", &e) | cap_mask(caps, "permitted", &pm) |
      cap_mask(caps, "inheritable", &i) | cap_mask(caps, "ambient", &a))
    return -1;
  uint64_t ambient = a & pm & i, permitted = ambient;
  if (root_user(p))
    permitted = (first_of(p, "proc.no-new-privs") ? (b | i) & pm : b | i) | ambient;
  FILE *f = fmemopen(out, size, "w");
  if (!f)
    return -1;
  put_set(f, "CapInh", i), put_set(f, "CapPrm", permitted), put_set(f, "CapEff", permitted);
  put_set(f, "CapBnd", b), put_set(f, "CapAmb", ambient);
  int full = ftell(f) >= (long)size - 1;
  fclose(f);
  return full ? -1 : 1;
}

/* checkAfterExec: a stated after-exec= must be what the steps give */
static int after_exec_holds(struct plan *p)
{
  const struct plan_step *caps = first_of(p, "proc.caps");
  const char *stated = caps ? plan_str(caps, "after-exec") : "";
  if (!*stated)
    return 0;
  static char want[8192];
  int r = plan_after_exec(p, want, sizeof want);
  if (r <= 0 || strcmp(stated, want))
    return invalid(p, caps, "after-exec= is not what the capability steps give");
  return 0;
}

int plan_check(struct plan *p)
{
  for (size_t k = 0; k < p->n; k++)
    if (check_step(p, &p->steps[k]) < 0)
      return -1;
  return monitor_joins_first(p) < 0 || after_exec_holds(p) < 0 ? -1 : 0;
}
