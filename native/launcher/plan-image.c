/*
 * plan-image.c: a plan's run image built here, on the first run of a plan,
 * byte for byte what executor/native-bridge/run-image.ts encodeImage writes after a run
 * through Node (plan-image.h). The plan is read (plan-text.c), checked as
 * the executor checks it before its first step (validate.ts, preflight.ts),
 * its places filled with the id and state markers, and each step resolved
 * for this host. Anything else is no image: the run goes to Node.
 */
#define _GNU_SOURCE
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../wire.h"
#include "image.h"
#include "plan-image.h"

#define ID_MARK "\x01i"
#define STATE_MARK "\x01s"

/* ---- placeholders (plan/placeholders.ts fillStep) ---- */

static char *replace_all(const char *s, const char *from, const char *to)
{
  struct buf b = {0};
  buf_add(&b, "", 0);
  for (const char *hit; (hit = strstr(s, from)); s = hit + strlen(from))
    buf_add(&b, s, (size_t)(hit - s)), buf_str(&b, to);
  buf_str(&b, s);
  return b.p;
}

/* idHash: 8 hex digits of the id's sha256 */
static void id_hash(const char *id, char out[9])
{
  struct sha256_ctx h;
  uint8_t d[SHA256_DIGEST_SIZE];
  sha256_init(&h), sha256_update(&h, strlen(id), (const uint8_t *)id), sha256_digest(&h, sizeof d, d);
  snprintf(out, 9, "%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
}

static char *fill_value(const char *v, const char *kind, const char *name, const char *id, const char *state)
{
  char hash[9];
  id_hash(id, hash);
  char *a = replace_all(v, "{idhash}", hash), *b = replace_all(a, "{state}", state), *c = replace_all(b, "{id}", id);
  free(a), free(b);
  int cgroup = !strncmp(kind, "cgroup.", 7) || !strcmp(kind, "mount.cgroup");
  if (!cgroup || strcmp(name, "path") || c[0] == '/')
    return c;
  const char *env = getenv("CTC_CGROUP_PARENT");
  char *parent = strdup(env && *env ? env : "/ctc"), *full = NULL;
  size_t n = strlen(parent);
  if (n && parent[n - 1] == '/')
    parent[n - 1] = '\0';
  if (asprintf(&full, "%s/%s", parent, c) < 0)
    abort();
  free(parent), free(c);
  return full;
}

/* Fills every place; -1 if one names {root} (only image.unpack's plans do, and they get no image) or is a list. */
static int fill_plan(struct plan *p, const char *id, const char *state)
{
  for (size_t k = 0; k < p->n; k++) {
    struct plan_step *s = &p->steps[k];
    for (size_t a = 0; a < s->kind->nargs; a++) {
      if (!s->kind->args[a].placeholders || !s->a[a].present)
        continue;
      if (!s->a[a].s || strstr(s->a[a].s, "{root}"))
        return -1;
      char *filled = fill_value(s->a[a].s, s->kind->name, s->kind->args[a].name, id, state);
      free(s->a[a].s);
      s->a[a].s = filled;
    }
  }
  return 0;
}

/* ---- records (wire.ts record, image.ts rec) ---- */

static struct piece S(const char *s) {
  return (struct piece){s, (uint32_t)strlen(s) + 1};
}

struct image_out {
  struct buf body;
  uint32_t nrecs;
};

static void rec(struct image_out *o, uint16_t op, uint32_t step, const struct piece *args, uint16_t nargs)
{
  add_record(&o->body, op, step, args, nargs);
  o->nrecs++;
}

/* ---- what executor/run/preflight.ts refuses on this host ---- */

static long last_cap(void)
{
  char *text = read_file("/proc/sys/kernel/cap_last_cap", NULL);
  long last = text ? strtol(text, NULL, 10) : 40;
  free(text);
  return last;
}

/* CAP_SYS_RESOURCE in our effective set: rlimits above ours can be set */
static int can_raise_limits(void)
{
  char *status = read_file("/proc/self/status", NULL), *eff = status ? strstr(status, "\nCapEff:") : NULL;
  unsigned long long mask = eff ? strtoull(eff + 8, NULL, 16) : 0;
  free(status);
  return (mask >> 24) & 1;
}

/* host-limits.ts checkRlimits without CAP_SYS_RESOURCE: a hard limit above ours cannot be set */
static int rlimit_settable(const struct plan_step *s)
{
  uint64_t resource;
  struct rlimit now;
  if (CTC_LOOKUP(ctc_rlimits, plan_str(s, "type"), &resource) < 0 || getrlimit((int)resource, &now) < 0)
    return 0;
  if (now.rlim_max == RLIM_INFINITY)
    return 1;
  const char *asked = plan_str(s, "hard");
  return *asked && strlen(asked) < 19 && strspn(asked, "0123456789") == strlen(asked) &&
         strtoull(asked, NULL, 10) <= now.rlim_max;
}

static int caps_known(const struct plan_step *s, long last)
{
  static const char *const sets[] = {"caps", "effective", "permitted", "inheritable", "ambient"};
  for (size_t k = 0; k < 5; k++) {
    char **v;
    size_t n = plan_list(s, sets[k], &v);
    for (size_t j = 0; j < n; j++) {
      uint64_t num;
      if (CTC_LOOKUP(ctc_capabilities, v[j], &num) < 0 || (long)num > last)
        return 0;
    }
  }
  return 1;
}

/*
 * preflight(): capabilities the kernel knows, rlimits ctc can set, no LSM label
 * (the CLI checks the LSM), no terminal (the CLI holds runc's rules for it).
 */
static int host_allows(const struct plan *p)
{
  long last = last_cap();
  int raise = can_raise_limits();
  for (size_t k = 0; k < p->n; k++) {
    const struct plan_step *s = &p->steps[k];
    if ((plan_is(s, "proc.bounding") || plan_is(s, "proc.caps")) && !caps_known(s, last))
      return 0;
    if (plan_is(s, "ns.join") && !strcmp(plan_str(s, "ns"), "user"))
      return 0; /* its own user namespace: the CLI compares the rlimits, and runs it */
    if (plan_is(s, "proc.rlimit") && !raise && !rlimit_settable(s))
      return 0;
    if (plan_is(s, "proc.tty") || plan_is(s, "proc.apparmor") || plan_is(s, "proc.selinux"))
      return 0;
  }
  return 1;
}

/* ---- the records ---- */

static const struct plan_step *first_of(const struct plan *p, const char *a, const char *b)
{
  for (size_t k = 0; k < p->n; k++)
    if (plan_is(&p->steps[k], a) || (b && plan_is(&p->steps[k], b)))
      return &p->steps[k];
  return NULL;
}

/* IMG_META (image.ts meta) */
static int meta(struct image_out *o, const struct plan *p, const char *text, size_t len, const char *bundle)
{
  const struct plan_step *rootfs = first_of(p, "rootfs.bind", "rootfs.tmpfs"), *cgroup = first_of(p, "cgroup.create", NULL);
  const struct plan_step *clone = first_of(p, "ns.clone", NULL);
  struct buf ns = {0};
  buf_add(&ns, "", 0);
  for (size_t k = 0; k < p->n; k++) {
    char **v;
    size_t n = plan_is(&p->steps[k], "ns.clone") || plan_is(&p->steps[k], "ns.unshare") ? plan_list(&p->steps[k], "ns", &v) : 0;
    for (size_t j = 0; j < n; j++)
      buf_add(&ns, v[j], strlen(v[j]) + 1);
  }
  uint64_t flags = 0;
  for (size_t j = 0; clone && j < clone->a[0].n; j++) {
    uint64_t f;
    if (CTC_LOOKUP(ctc_clone_flags, clone->a[0].v[j], &f) < 0)
      return buf_free(&ns), -1;
    flags |= f;
  }
  struct piece args[6] = {S(rootfs ? plan_str(rootfs, "dir") : ""),
                          S(cgroup ? plan_str(cgroup, "path") : ""),
                          {ns.p, (uint32_t)ns.len},
                          {text, (uint32_t)len},
                          S(bundle),
                          {&flags, 8}};
  rec(o, IMG_META, 0, args, 6);
  buf_free(&ns);
  return 0;
}

/* An init step: each op as IMG_INIT, its mask's bit k set where argument k differs from the plain fill's. */
static int init_records(struct image_out *o, const struct plan_step *marked, const struct plan_step *plain)
{
  struct wire_ops a = {0}, b = {0};
  /* a step without places encodes the same either way: no marker, mask 0 (and proc.seccomp compiled once) */
  int places = 0;
  for (size_t k = 0; k < marked->kind->nargs; k++)
    places |= marked->kind->args[k].placeholders && marked->a[k].present;
  int r = plan_wire_step(marked, &a) < 0 || (places && plan_wire_step(plain, &b) < 0) ? -1 : 0;
  for (size_t j = 0; !r && j < a.n; j++) {
    uint64_t mask = 0;
    for (uint16_t k = 0; k < a.v[j].nargs; k++) {
      int same = !places || (j < b.n && k < b.v[j].nargs && a.v[j].a[k].len == b.v[j].a[k].len &&
                             !memcmp(a.v[j].a[k].p, b.v[j].a[k].p, a.v[j].a[k].len));
      mask |= same ? 0 : 1ull << k;
    }
    struct piece args[MAX_ARGS];
    for (uint16_t k = 0; k < a.v[j].nargs; k++)
      args[k] = (struct piece){a.v[j].a[k].p, (uint32_t)a.v[j].a[k].len};
    struct buf inner = {0};
    add_record(&inner, a.v[j].op, marked->n, args, a.v[j].nargs);
    struct piece outer[2] = {{&mask, 8}, {inner.p, (uint32_t)inner.len}};
    rec(o, IMG_INIT, marked->n, outer, 2);
    buf_free(&inner);
  }
  wire_ops_free(&a), wire_ops_free(&b);
  return r;
}

static void write_records(struct image_out *o, uint32_t step, const struct cg_writes *w)
{
  for (size_t k = 0; k < w->n; k++) {
    struct piece args[2] = {S(w->v[k].file), S(w->v[k].value)};
    rec(o, IMG_CG_WRITE, step, args, 2);
  }
}

static int cgroup_records(struct image_out *o, const struct plan_step *s)
{
  struct cg_writes w = {0};
  int r = -1;
  if (plan_is(s, "cgroup.limit")) {
    r = cg_limit_writes(plan_str(s, "path"), plan_str(s, "key"), plan_str(s, "value"), &w);
  } else {
    char **rules, *dir = NULL;
    struct buf program = {0};
    size_t n = plan_list(s, "rules", &rules);
    r = cg_device_writes(plan_str(s, "path"), rules, n, &w, &dir, &program);
    if (r == 1) {
      struct piece args[2] = {S(dir), {program.p, (uint32_t)program.len}};
      rec(o, IMG_CG_BPF, s->n, args, 2);
    }
    free(dir), buf_free(&program);
  }
  if (r == 0)
    write_records(o, s->n, &w);
  if (r == 0 && !w.n)
    rec(o, IMG_NOP, s->n, NULL, 0);
  cg_writes_free(&w);
  return r < 0 ? -1 : 0;
}

/* A canonical array index ("0", "42"): JS puts such a key first in an object, whatever its place */
static int index_like(const char *kv)
{
  size_t n = strcspn(kv, "=");
  return n && strspn(kv, "0123456789") >= n && (kv[0] != '0' || n == 1);
}

/* state.create: the state dir, and the annotations state.json will hold, "key=value\0" each */
static int state_record(struct image_out *o, const struct plan_step *s)
{
  char **kv;
  size_t n = plan_list(s, "annotations", &kv);
  struct buf b = {0};
  buf_add(&b, "", 0);
  for (size_t k = 0; k < n; k++) {
    /* a plan's digest is anyone's to compute: an annotation without '=' is not read (state.json's writer splits at it) */
    if (!strchr(kv[k], '=') || index_like(kv[k]))
      return buf_free(&b), -1;
    buf_add(&b, kv[k], strlen(kv[k]) + 1);
  }
  struct piece a[2] = {S(plan_str(s, "dir")), {b.p ? b.p : "", (uint32_t)b.len}};
  rec(o, IMG_STATE, s->n, a, 2);
  buf_free(&b);
  return 0;
}

/* image.ts hostRecords: the host steps the launcher applies; any other is no image */
static int host_records(struct image_out *o, const struct plan_step *s)
{
  struct piece a;
  char value[32];
  if (plan_is(s, "state.create"))
    return state_record(o, s);
  else if (plan_is(s, "cgroup.create"))
    a = S(plan_str(s, "path")), rec(o, IMG_CG_CREATE, s->n, &a, 1);
  else if (plan_is(s, "cgroup.limit") || plan_is(s, "cgroup.devices"))
    return cgroup_records(o, s);
  else if (plan_is(s, "ns.clone"))
    rec(o, IMG_CLONE, s->n, NULL, 0);
  else if (plan_is(s, "cgroup.join"))
    a = S(plan_str(s, "path")), rec(o, IMG_CG_JOIN, s->n, &a, 1);
  else if (plan_is(s, "proc.oom-score")) {
    snprintf(value, sizeof value, "%lld", plan_arg(s, "value")->i);
    a = S(value), rec(o, IMG_OOM, s->n, &a, 1);
  } else
    return -1;
  return 0;
}

/* /\x01|\\u0001/i: the markers must be the only \x01 in an image */
static int holds_marker(const char *text, size_t len)
{
  if (memchr(text, 1, len))
    return 1;
  for (const char *p = text; (p = memmem(p, len - (size_t)(p - text), "\\", 1)); p++)
    if ((size_t)(text + len - p) >= 6 && !strncasecmp(p, "\\u0001", 6))
      return 1;
  return 0;
}

char plan_image_why[256];

static int build(struct image_out *o, struct plan *marked, struct plan *plain, const char *text, size_t len, const char *bundle)
{
  if (plan_check(marked) < 0)
    return snprintf(plan_image_why, sizeof plan_image_why, "%.250s", marked->why), -1;
  if (!host_allows(marked) || fill_plan(marked, ID_MARK, STATE_MARK) < 0 || fill_plan(plain, "x", "/x") < 0 || cg_load() < 0 ||
      meta(o, marked, text, len, bundle) < 0)
    return snprintf(plan_image_why, sizeof plan_image_why, "this host's checks, a place, or the clone"), -1;
  for (size_t k = 0; k < marked->n; k++) {
    const struct plan_step *s = &marked->steps[k];
    if (s->kind->host ? host_records(o, s) < 0 : init_records(o, s, &plain->steps[k]) < 0)
      return snprintf(plan_image_why, sizeof plan_image_why, "step %u %s", s->n, s->kind->name), -1;
  }
  return 0;
}

int plan_image(const char *text, size_t len, const char *bundle, struct buf *out)
{
  struct plan marked = {0}, plain = {0};
  struct image_out o = {{0}, 0};
  int r = -1;
  if (holds_marker(text, len))
    snprintf(plan_image_why, sizeof plan_image_why, "the plan holds a \\x01, which marks the id in an image");
  else if (plan_read(text, len, &marked) < 0 || plan_read(text, len, &plain) < 0)
    snprintf(plan_image_why, sizeof plan_image_why, "the plan does not read: %.200s", marked.why);
  else
    r = build(&o, &marked, &plain, text, len, bundle);
  plan_free(&marked), plan_free(&plain);
  if (r == 0) {
    struct ctc_image_header h = {CTC_IMAGE_MAGIC, CTC_IMAGE_VERSION, o.nrecs, (uint32_t)o.body.len};
    buf_add(out, &h, sizeof h);
    buf_add(out, o.body.p, o.body.len);
  }
  buf_free(&o.body);
  return r;
}
