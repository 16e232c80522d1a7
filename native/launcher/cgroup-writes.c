/*
 * cgroup-writes.c: what executor/host/cgroups/ resolves for a run image, for the
 * layout cgroups.c read: the files a limit key writes (keys.ts v1Writes and
 * v2Writes, v1.ts limitsInV2), the device rules' files (v1) or filter (v2),
 * and the mounts the container sees (mounts()). Paths are joined as
 * path.join joins them.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../journal-plan.h"
#include "plan-image.h"

void cg_writes_free(struct cg_writes *w)
{
  for (size_t k = 0; k < w->n; k++)
    free(w->v[k].file), free(w->v[k].value);
  free(w->v);
  *w = (struct cg_writes){0};
}

static void add_write(struct cg_writes *w, char *file, const char *value)
{
  w->v = realloc(w->v, sizeof *w->v * (w->n + 1));
  if (!w->v)
    abort();
  w->v[w->n++] = (struct cg_write){file, strdup(value)};
}

/* path.join(a, b, c) */
static char *join3(const char *a, const char *b, const char *c)
{
  char *raw = NULL;
  if (asprintf(&raw, "%s/%s/%s", a, b, c) < 0)
    abort();
  char *n = normalize(raw);
  free(raw);
  return n;
}

/* a v1 hierarchy holding controller (its controllers split at ','), or NULL */
static const char *hierarchy_of(const char *controller)
{
  const char *ctl, *mount;
  for (size_t k = 0; (mount = cg_hierarchy(k, &ctl)); k++) {
    char *copy = strdup(ctl), *save = NULL;
    int found = 0;
    for (char *c = strtok_r(copy, ",", &save); c && !found; c = strtok_r(NULL, ",", &save))
      found = !strcmp(c, controller);
    free(copy);
    if (found)
      return mount;
  }
  return NULL;
}

/* v2.ts controllers(): cgroup.controllers of the tree, a space-separated list */
static int v2_offers(const char *root, const char *controller)
{
  char *file = NULL;
  if (asprintf(&file, "%s/cgroup.controllers", root) < 0)
    abort();
  char *text = read_file(file, NULL), *save = NULL;
  free(file);
  int found = 0;
  for (char *c = text ? strtok_r(text, " \n", &save) : NULL; c && !found; c = strtok_r(NULL, " \n", &save))
    found = !strcmp(c, controller);
  free(text);
  return found;
}

/* ---- the key table (keys.ts) ---- */

/* A whole number Number() reads exactly (else -1: the CLI runs it). */
static int number(const char *s, double *out)
{
  char *end;
  const char *digits = s + (*s == '-');
  if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(s) > 15)
    return -1;
  *out = strtod(s, &end);
  return 0;
}

/* keys.ts pair(): "8:0 500" → "8:0", "500" (no space: all but the last character, and the whole) */
static void pair(const char *value, char **a, char **b)
{
  const char *sp = strchr(value, ' ');
  size_t n = strlen(value);
  *a = sp ? strndup(value, (size_t)(sp - value)) : strndup(value, n ? n - 1 : 0);
  *b = strdup(sp ? sp + 1 : value);
}

struct simple {
  const char *key, *controller, *file;
  int max; /* -1 is written as max */
};
static const struct simple v1_simple[] = {
    {"memory.limit", "memory", "memory.limit_in_bytes", 0},
    {"memory.reservation", "memory", "memory.soft_limit_in_bytes", 0},
    {"memory.swap", "memory", "memory.memsw.limit_in_bytes", 0},
    {"memory.swappiness", "memory", "memory.swappiness", 0},
    {"memory.oom-kill-disable", "memory", "memory.oom_control", 0},
    {"pids.limit", "pids", "pids.max", 1},
    {"cpu.shares", "cpu", "cpu.shares", 0},
    {"cpu.burst", "cpu", "cpu.cfs_burst_us", 0},
    {"cpu.rt-period", "cpu", "cpu.rt_period_us", 0},
    {"cpu.rt-runtime", "cpu", "cpu.rt_runtime_us", 0},
    {"cpu.idle", "cpu", "cpu.idle", 0},
    {"cpuset.cpus", "cpuset", "cpuset.cpus", 0},
    {"cpuset.mems", "cpuset", "cpuset.mems", 0},
    {"blkio.weight", "blkio", "blkio.bfq.weight", 0},
    {"blkio.weight-device", "blkio", "blkio.bfq.weight_device", 0},
    {"blkio.read-bps", "blkio", "blkio.throttle.read_bps_device", 0},
    {"blkio.write-bps", "blkio", "blkio.throttle.write_bps_device", 0},
    {"blkio.read-iops", "blkio", "blkio.throttle.read_iops_device", 0},
    {"blkio.write-iops", "blkio", "blkio.throttle.write_iops_device", 0},
    {"net.classid", "net_cls", "net_cls.classid", 0},
    {"net.prio", "net_prio", "net_prio.ifpriomap", 0},
    {"rdma.max", "rdma", "rdma.max", 0},
};
static const struct simple v2_simple[] = {
    {"memory.limit", "memory", "memory.max", 1}, {"memory.reservation", "memory", "memory.low", 1},
    {"pids.limit", "pids", "pids.max", 1},       {"cpu.max", "cpu", "cpu.max", 1},
    {"cpu.burst", "cpu", "cpu.max.burst", 1},    {"cpu.idle", "cpu", "cpu.idle", 1},
    {"cpuset.cpus", "cpuset", "cpuset.cpus", 1}, {"cpuset.mems", "cpuset", "cpuset.mems", 1},
    {"rdma.max", "rdma", "rdma.max", 1},
};

static const struct simple *simple_of(const struct simple *t, size_t n, const char *key)
{
  for (size_t k = 0; k < n; k++)
    if (!strcmp(t[k].key, key))
      return &t[k];
  return NULL;
}

/* One keys.ts Write: controller, file, value. */
struct kw {
  const char *controller;
  char *file, *value;
};

/* v1Writes: one or two writes (cpu.max: the period first); the count, or -1 */
static int v1_writes(const char *key, const char *value, struct kw w[2])
{
  const struct simple *s = simple_of(v1_simple, sizeof v1_simple / sizeof *v1_simple, key);
  if (s) {
    w[0] = (struct kw){s->controller, strdup(s->file), strdup(s->max && !strcmp(value, "-1") ? "max" : value)};
    return 1;
  }
  if (!strcmp(key, "cpu.max")) {
    const char *sp = strchr(value, ' ');
    if (!sp)
      return -1; /* the period undefined: encodeImage throws */
    char *quota = strndup(value, (size_t)(sp - value)), *period = strndup(sp + 1, strcspn(sp + 1, " "));
    w[0] = (struct kw){"cpu", strdup("cpu.cfs_period_us"), period};
    w[1] = (struct kw){"cpu", strdup("cpu.cfs_quota_us"), strcmp(quota, "max") ? strdup(quota) : strdup("-1")};
    free(quota);
    return 2;
  }
  if (!strcmp(key, "hugetlb.limit")) {
    char *size, *bytes;
    pair(value, &size, &bytes);
    w[0] = (struct kw){"hugetlb", NULL, bytes};
    if (asprintf(&w[0].file, "hugetlb.%s.limit_in_bytes", size) < 0)
      abort();
    free(size);
    return 1;
  }
  return -1; /* unified, or not a key */
}

/* keys.ts's shares → weight and blkio weight → io.weight: 1 + floor((v - lo) * 9999 / span) */
static int scaled(const char *v, double lo, double span, char **out)
{
  double n;
  if (number(v, &n) < 0)
    return -1;
  return asprintf(out, "%.0f", 1 + floor((n - lo) * 9999 / span)) < 0 ? -1 : 0;
}

/* v2Writes (memory.swap reads memory.max of the running cgroup: not here, the CLI runs it); the count, or -1 */
static int v2_writes(const char *key, const char *value, struct kw *w)
{
  const struct simple *s = simple_of(v2_simple, sizeof v2_simple / sizeof *v2_simple, key);
  char *a = NULL, *b = NULL, *v = NULL;
  if (s) {
    *w = (struct kw){s->controller, strdup(s->file), strdup(!strcmp(value, "-1") ? "max" : value)};
    return 1;
  }
  int r = 0;
  if (!strcmp(key, "cpu.shares") && !(r = scaled(value, 2, 262142, &v)))
    *w = (struct kw){"cpu", strdup("cpu.weight"), v};
  else if (!strcmp(key, "blkio.weight") && !(r = scaled(value, 10, 990, &a)))
    r = asprintf(&v, "default %s", a), *w = (struct kw){"io", strdup("io.weight"), v};
  else if (!strcmp(key, "blkio.weight-device") && (pair(value, &a, &b), !(r = scaled(b, 10, 990, &v)))) {
    free(b), b = v;
    r = asprintf(&v, "%s %s", a, b), *w = (struct kw){"io", strdup("io.weight"), v};
  } else if (!strncmp(key, "blkio.", 6) && strstr("blkio.read-bps blkio.write-bps blkio.read-iops blkio.write-iops", key)) {
    const char *name = !strcmp(key, "blkio.read-bps")    ? "rbps"
                       : !strcmp(key, "blkio.write-bps") ? "wbps"
                       : !strcmp(key, "blkio.read-iops") ? "riops"
                                                         : "wiops";
    pair(value, &a, &b);
    r = asprintf(&v, "%s %s=%s", a, name, b), *w = (struct kw){"io", strdup("io.max"), v};
  } else if (!strcmp(key, "hugetlb.limit")) {
    pair(value, &a, &b);
    r = asprintf(&v, "hugetlb.%s.max", a), *w = (struct kw){"hugetlb", v, strdup(!strcmp(b, "-1") ? "max" : b)};
  } else if (!strcmp(key, "unified")) {
    pair(value, &a, &b);
    *w = (struct kw){"", strdup(a), strdup(!strcmp(b, "-1") ? "max" : b)};
  } else
    r = -1; /* memory.swap, and what v2 has not (notOn) */
  free(a), free(b);
  if (r >= 0 && !strcmp(w->value, "-1")) /* keys.ts max(), on every v2 value */
    free(w->value), w->value = strdup("max");
  return r < 0 ? -1 : 1;
}

/* v1.ts limitsInV2: a key for the unified tree, or whose controller only the unified tree offers */
static int limits_in_v2(const char *unified, const char *key, const char *value)
{
  if (!unified)
    return 0;
  if (!strcmp(key, "unified"))
    return 1;
  struct kw w[2] = {{0}};
  int n = v1_writes(key, value, w), in_v2 = 0;
  for (int k = 0; k < n; k++) {
    in_v2 |= v2_offers(unified, w[k].controller) && !hierarchy_of(w[k].controller);
    free(w[k].file), free(w[k].value);
  }
  return in_v2;
}

int cg_limit_writes(const char *path, const char *key, const char *value, struct cg_writes *out)
{
  int pure;
  const char *unified = cg_unified(&pure);
  struct kw w[2] = {{0}};
  int v2 = pure || limits_in_v2(unified, key, value);
  int n = v2 ? v2_writes(key, value, w) : v1_writes(key, value, w);
  for (int k = 0; k < n; k++) {
    const char *base = v2 ? unified : hierarchy_of(w[k].controller);
    if (base)
      add_write(out, join3(base, path, w[k].file), w[k].value);
    else
      n = -1; /* hierarchyOf throws: the controller is not mounted */
  }
  for (int k = 0; k < 2; k++)
    free(w[k].file), free(w[k].value);
  return n < 0 ? -1 : 0;
}

int cg_device_writes(const char *path, char **rules, size_t n, struct cg_writes *files, char **dir, struct buf *program)
{
  int pure;
  const char *unified = cg_unified(&pure);
  if (pure) {
    if (!n)
      return 0;
    char *raw = NULL;
    if (asprintf(&raw, "%s/%s", unified, path) < 0)
      abort();
    *dir = normalize(raw);
    free(raw);
    return device_program(rules, n, program) < 0 ? -1 : 1;
  }
  const char *devices = hierarchy_of("devices");
  if (!devices)
    return -1;
  for (size_t k = 0; k < n; k++) {
    /* [verb, ...rest] = rule.split(' ') */
    const char *sp = strchr(rules[k], ' ');
    int allow = sp ? (size_t)(sp - rules[k]) == 5 && !strncmp(rules[k], "allow", 5) : !strcmp(rules[k], "allow");
    add_write(files, join3(devices, path, allow ? "devices.allow" : "devices.deny"), sp ? sp + 1 : "");
  }
  return 0;
}

static void add_mount(struct cg_mount **m, long *n, enum cg_mount_kind kind, const char *sub, const char *data, const char *host)
{
  *m = realloc(*m, sizeof **m * (size_t)(*n + 1));
  if (!*m)
    abort();
  (*m)[(*n)++] = (struct cg_mount){kind, strdup(sub), data ? strdup(data) : NULL, host ? strdup(host) : NULL};
}

/* path.basename */
static char *base_name(const char *p)
{
  char *copy = strdup(p);
  size_t n = strlen(copy);
  while (n > 1 && copy[n - 1] == '/')
    copy[--n] = '\0';
  char *slash = strrchr(copy, '/'), *b = strdup(slash ? slash + 1 : copy);
  free(copy);
  return b;
}

long cg_mounts(struct cg_mount **out)
{
  int pure;
  const char *unified = cg_unified(&pure), *ctl, *mount;
  long n = 0;
  *out = NULL;
  if (pure)
    return add_mount(out, &n, CGM_CGROUP2, "", NULL, unified), n;
  add_mount(out, &n, CGM_TMPFS, "", NULL, NULL);
  for (size_t k = 0; (mount = cg_hierarchy(k, &ctl)); k++) {
    char *sub = base_name(mount), *copy = strdup(ctl), *save = NULL;
    add_mount(out, &n, CGM_CGROUP, sub, ctl, mount);
    /* co-mounted controllers (cpu,cpuacct) are reachable by each name too */
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
      if (strcmp(c, sub) && strncmp(c, "name=", 5))
        add_mount(out, &n, CGM_SYMLINK, c, sub, NULL);
    free(sub), free(copy);
  }
  if (unified) {
    char *sub = base_name(unified);
    add_mount(out, &n, CGM_CGROUP2, sub, NULL, unified);
    free(sub);
  }
  add_mount(out, &n, CGM_REMOUNT_RO, "", NULL, NULL);
  return n;
}
