/*
 * plan-wire.c: an init step → its wire.h ops, as executor/native-bridge/wire.ts's
 * encoders make them, from a step whose places are filled in. A name the
 * tables do not hold, a number wire.ts could not write, or a kind this file
 * does not encode (net.addr and net.route: their plans have network host
 * steps, which Node runs; proc.apparmor and proc.selinux: the LSM check is
 * the CLI's) gives -1, and the plan runs through Node.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/seccomp-bpf.h"
#include "../wire.h"
#include "plan-image.h"

void wire_ops_free(struct wire_ops *o)
{
  for (size_t k = 0; k < o->n; k++)
    for (size_t a = 0; a < o->v[k].nargs; a++)
      buf_free(&o->v[k].a[a]);
  free(o->v);
  *o = (struct wire_ops){0};
}

struct wire_op *wire_op_add(struct wire_ops *o, uint16_t op)
{
  o->v = realloc(o->v, sizeof *o->v * (o->n + 1));
  if (!o->v)
    abort();
  o->v[o->n] = (struct wire_op){.op = op};
  return &o->v[o->n++];
}

void arg_blob(struct wire_op *w, const void *p, size_t n)
{
  struct buf *b = &w->a[w->nargs++];
  *b = (struct buf){0};
  buf_add(b, "", 0);
  if (n)
    buf_add(b, p, n);
}

void arg_str(struct wire_op *w, const char *s)
{
  arg_blob(w, s, strlen(s) + 1);
}

void arg_u64(struct wire_op *w, uint64_t v)
{
  arg_blob(w, &v, 8); /* little-endian: the hosts ctc runs on */
}

/* LIST: the count, then each string and its NUL */
static void arg_list(struct wire_op *w, char **v, size_t n)
{
  uint32_t count = (uint32_t)n;
  arg_blob(w, &count, 4);
  for (size_t k = 0; k < n; k++)
    buf_add(&w->a[w->nargs - 1], v[k], strlen(v[k]) + 1);
}

static long long int_of(const struct plan_step *s, const char *name, long long absent)
{
  const struct plan_arg *a = plan_arg(s, name);
  return a && a->present ? a->i : absent;
}

static int present(const struct plan_step *s, const char *name)
{
  const struct plan_arg *a = plan_arg(s, name);
  return a && a->present;
}

/* nsFlags; -1 for a name cloneFlags lacks */
static int ns_flags(const struct plan_step *s, const char *name, uint64_t *flags)
{
  char **v;
  size_t n = plan_list(s, name, &v);
  *flags = 0;
  for (size_t k = 0; k < n; k++) {
    uint64_t f;
    if (CTC_LOOKUP(ctc_clone_flags, v[k], &f) < 0)
      return -1;
    *flags |= f;
  }
  return 0;
}

/* mount-options.ts flagBits: [flags, propagation]; -1 for an unknown name */
static int flag_bits(const struct plan_step *s, uint64_t *flags, uint64_t *prop)
{
  char **v;
  size_t n = plan_list(s, "flags", &v);
  *flags = *prop = 0;
  for (size_t k = 0; k < n; k++) {
    if (CTC_LOOKUP(ctc_propagation, v[k], prop) == 0)
      continue;
    size_t f = 0;
    while (f < CTC_TABLE_LEN(ctc_mount_flags) && strcmp(ctc_mount_flags[f].name, v[k]))
      f++;
    if (f == CTC_TABLE_LEN(ctc_mount_flags))
      return -1;
    *flags = (*flags & ~ctc_mount_flags[f].clear) | ctc_mount_flags[f].set;
  }
  return 0;
}

static void mount_op(struct wire_ops *o, const char *src, const char *dst, const char *type, uint64_t flags, const char *data,
                     uint64_t prop)
{
  struct wire_op *w = wire_op_add(o, CTC_OP_MOUNT);
  arg_str(w, src), arg_str(w, dst), arg_str(w, type), arg_u64(w, flags), arg_str(w, data), arg_u64(w, prop);
}

/* A capability list as the kernel's mask; -1 for an unknown name */
static int cap_mask(const struct plan_step *s, const char *name, uint64_t *mask)
{
  char **v;
  size_t n = plan_list(s, name, &v);
  *mask = 0;
  for (size_t k = 0; k < n; k++) {
    uint64_t bit;
    if (CTC_LOOKUP(ctc_capabilities, v[k], &bit) < 0 || bit > 63)
      return -1;
    *mask |= 1ull << bit;
  }
  return 0;
}

/* wire.ts cgroupMounts: each mount the driver lists, or the container's own cgroup bound from the host */
static int cgroup_mounts(const struct plan_step *s, struct wire_ops *o)
{
  uint64_t flags, prop;
  if (flag_bits(s, &flags, &prop) < 0)
    return -1;
  const char *dst = plan_str(s, "dst"), *path = present(s, "path") ? plan_str(s, "path") : NULL;
  const uint64_t safe = CTC_MS_NOSUID | CTC_MS_NODEV | CTC_MS_NOEXEC;
  struct cg_mount *m;
  long n = cg_mounts(&m);
  for (long k = 0; k < n; k++) {
    char *at = NULL, *own = NULL;
    if (asprintf(&at, "%s%s%s", dst, *m[k].sub ? "/" : "", m[k].sub) < 0 ||
        asprintf(&own, "%s%s", m[k].host ? m[k].host : "", path ? path : "") < 0)
      abort();
    if (m[k].kind == CGM_TMPFS)
      mount_op(o, "tmpfs", at, "tmpfs", safe, "mode=755", 0);
    else if ((m[k].kind == CGM_CGROUP || m[k].kind == CGM_CGROUP2) && path)
      mount_op(o, own, at, "", flags | CTC_MS_BIND | CTC_MS_REC, "", 0);
    else if (m[k].kind == CGM_CGROUP)
      mount_op(o, "cgroup", at, "cgroup", flags, m[k].data, 0);
    else if (m[k].kind == CGM_CGROUP2)
      mount_op(o, "cgroup2", at, "cgroup2", flags, "", 0);
    else if (m[k].kind == CGM_SYMLINK) {
      struct wire_op *w = wire_op_add(o, CTC_OP_SYMLINK);
      arg_str(w, m[k].data), arg_str(w, at);
    } else if (flags & CTC_MS_RDONLY)
      mount_op(o, "", at, "", CTC_MS_REMOUNT | CTC_MS_RDONLY | safe, "", 0);
    free(at), free(own), free(m[k].sub), free(m[k].data), free(m[k].host);
  }
  free(m);
  return n < 0 ? -1 : 0;
}

/* glibc's makedev */
static uint64_t makedev_of(uint64_t major, uint64_t minor)
{
  return ((major & 0xfffff000ull) << 32) | ((major & 0xfffull) << 8) | ((minor & 0xffffff00ull) << 12) | (minor & 0xffull);
}

static int dev_node(const struct plan_step *s, struct wire_ops *o)
{
  const char *type = plan_str(s, "type");
  uint64_t fmt = !strcmp(type, "c") ? 0020000 : !strcmp(type, "b") ? 0060000 : !strcmp(type, "p") ? 0010000 : 0;
  long long major = int_of(s, "major", 0), minor = int_of(s, "minor", 0);
  if (!fmt || major < 0 || minor < 0)
    return -1; /* wire.ts would send another mode or number than the plan means: the CLI runs it */
  struct wire_op *w = wire_op_add(o, CTC_OP_MKNOD);
  arg_str(w, plan_str(s, "path")), arg_u64(w, fmt | (uint64_t)int_of(s, "mode", 0));
  arg_u64(w, makedev_of((uint64_t)major, (uint64_t)minor));
  arg_u64(w, (uint64_t)int_of(s, "uid", 0)), arg_u64(w, (uint64_t)int_of(s, "gid", 0));
  return 0;
}

/* rlimitValue: unlimited, or a whole number up to 2^64-1 (anything else: BigInt() reads it otherwise or throws) */
static int rlimit_value(const char *v, uint64_t *out)
{
  if (!strcmp(v, "unlimited"))
    return *out = UINT64_MAX, 0;
  if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 19)
    return -1;
  *out = strtoull(v, NULL, 10);
  return 0;
}

static int proc_user(const struct plan_step *s, struct wire_ops *o)
{
  uint64_t keep = (uint64_t)int_of(s, "keepcaps", 0);
  if (present(s, "name")) {
    struct wire_op *w = wire_op_add(o, CTC_OP_USER_NAME);
    arg_str(w, plan_str(s, "name")), arg_u64(w, keep);
    return 0;
  }
  const struct plan_arg *g = plan_arg(s, "groups");
  if (!present(s, "uid") || !present(s, "gid"))
    return -1; /* U(undefined) throws */
  struct buf groups = {0};
  buf_add(&groups, "", 0);
  for (size_t k = 0; g->present && k < g->n; k++) {
    if (g->iv[k] > 0xffffffffLL)
      return buf_free(&groups), -1;
    uint32_t v = (uint32_t)g->iv[k];
    buf_add(&groups, &v, 4);
  }
  struct wire_op *w = wire_op_add(o, CTC_OP_USER);
  arg_u64(w, (uint64_t)int_of(s, "uid", 0)), arg_u64(w, (uint64_t)int_of(s, "gid", 0));
  arg_blob(w, groups.p, groups.len), arg_u64(w, keep);
  buf_free(&groups);
  return 0;
}

/* seccompProgram: compiled again from the rules; it must be the program the plan names (seccomp_step_program checks) */
static int proc_seccomp(const struct plan_step *s, struct wire_ops *o)
{
  struct seccomp_text t = {.default_action = plan_str(s, "default")};
  t.narches = plan_list(s, "arches", (char ***)&t.arches);
  t.nflags = plan_list(s, "flags", (char ***)&t.flags);
  t.nrules = plan_list(s, "rules", (char ***)&t.rules);
  char err[256];
  size_t len;
  int64_t flags = seccomp_flag_bits(&t, err, sizeof err);
  unsigned char *prog =
      flags < 0 ? NULL : seccomp_step_program(&t, int_of(s, "size", -1), plan_str(s, "sha256"), &len, err, sizeof err);
  if (!prog)
    return -1;
  struct wire_op *w = wire_op_add(o, CTC_OP_SECCOMP);
  arg_u64(w, (uint64_t)flags), arg_blob(w, prog, len);
  free(prog);
  return 0;
}

/* The kinds whose op is one string argument (or none). */
static const struct {
  const char *kind;
  uint16_t op;
  const char *arg;
} one_string[] = {
    {"net.up", CTC_OP_LINK_UP, "dev"},
    {"fs.mask", CTC_OP_MASK, "path"},
    {"fs.readonly", CTC_OP_READONLY, "path"},
    {"uts.hostname", CTC_OP_HOSTNAME, "name"},
    {"uts.domainname", CTC_OP_DOMAINNAME, "name"},
    {"proc.cwd", CTC_OP_CHDIR, "dir"},
    {"rootfs.pivot", CTC_OP_PIVOT, NULL},
    {"proc.no-new-privs", CTC_OP_NO_NEW_PRIVS, NULL},
};

static int simple(const struct plan_step *s, struct wire_ops *o)
{
  for (size_t k = 0; k < sizeof one_string / sizeof *one_string; k++) {
    if (!plan_is(s, one_string[k].kind))
      continue;
    struct wire_op *w = wire_op_add(o, one_string[k].op);
    if (one_string[k].arg)
      arg_str(w, plan_str(s, one_string[k].arg));
    return 0;
  }
  return 1; /* not one of them */
}

/* The kinds with two string arguments, or a string and a number. */
static int pairs(const struct plan_step *s, struct wire_ops *o)
{
  struct wire_op *w;
  if (plan_is(s, "rootfs.mirror"))
    w = wire_op_add(o, CTC_OP_MIRROR), arg_str(w, plan_str(s, "path")), arg_str(w, plan_str(s, "path"));
  else if (plan_is(s, "fs.symlink"))
    w = wire_op_add(o, CTC_OP_SYMLINK), arg_str(w, plan_str(s, "target")), arg_str(w, plan_str(s, "path"));
  else if (plan_is(s, "proc.sysctl"))
    w = wire_op_add(o, CTC_OP_SYSCTL), arg_str(w, plan_str(s, "key")), arg_str(w, plan_str(s, "value"));
  else if (plan_is(s, "rootfs.overlay"))
    w = wire_op_add(o, CTC_OP_ROOTFS_OVERLAY), arg_str(w, plan_str(s, "dir")), arg_str(w, plan_str(s, "lower"));
  else if (plan_is(s, "rootfs.tmpfs") || plan_is(s, "rootfs.bind"))
    w = wire_op_add(o, CTC_OP_ROOTFS), arg_str(w, plan_str(s, "dir")), arg_u64(w, plan_is(s, "rootfs.tmpfs"));
  else if (plan_is(s, "fs.mkdir"))
    w = wire_op_add(o, CTC_OP_MKDIR), arg_str(w, plan_str(s, "path")), arg_u64(w, (uint64_t)int_of(s, "mode", 0));
  else if (plan_is(s, "fs.write")) {
    w = wire_op_add(o, CTC_OP_WRITE_FILE), arg_str(w, plan_str(s, "path")), arg_u64(w, (uint64_t)int_of(s, "mode", 0));
    arg_blob(w, plan_str(s, "data"), strlen(plan_str(s, "data")));
  } else if (plan_is(s, "proc.umask"))
    w = wire_op_add(o, CTC_OP_UMASK), arg_u64(w, (uint64_t)int_of(s, "mask", 0));
  else if (plan_is(s, "proc.tty"))
    w = wire_op_add(o, CTC_OP_PTY), arg_u64(w, (uint64_t)int_of(s, "rows", 0)), arg_u64(w, (uint64_t)int_of(s, "cols", 0));
  else if (plan_is(s, "user.root")) {
    w = wire_op_add(o, CTC_OP_USER), arg_u64(w, 0), arg_u64(w, 0);
    arg_blob(w, "", 0), arg_u64(w, 0);
  } else if (plan_is(s, "proc.exec")) {
    char **v;
    w = wire_op_add(o, CTC_OP_EXEC);
    size_t n = plan_list(s, "args", &v);
    arg_list(w, v, n);
    n = plan_list(s, "env", &v);
    arg_list(w, v, n);
  } else
    return 1;
  return 0;
}

/* The kinds that look a name up in a table. */
static int named(const struct plan_step *s, struct wire_ops *o)
{
  uint64_t a, b, c, d;
  struct wire_op *w;
  if (plan_is(s, "ns.unshare"))
    return ns_flags(s, "ns", &a) < 0 ? -1 : (arg_u64(wire_op_add(o, CTC_OP_UNSHARE), a), 0);
  if (plan_is(s, "mount.propagation")) {
    if (CTC_LOOKUP(ctc_propagation, plan_str(s, "mode"), &a) < 0)
      return -1;
    w = wire_op_add(o, CTC_OP_PROPAGATION), arg_str(w, plan_str(s, "path")), arg_u64(w, a);
    return 0;
  }
  if (plan_is(s, "ns.join")) {
    if (CTC_LOOKUP(ctc_clone_flags, plan_str(s, "ns"), &a) < 0)
      return -1;
    w = wire_op_add(o, CTC_OP_SETNS), arg_str(w, plan_str(s, "path")), arg_u64(w, a);
    return 0;
  }
  if (plan_is(s, "proc.rlimit")) {
    if (CTC_LOOKUP(ctc_rlimits, plan_str(s, "type"), &a) < 0 || rlimit_value(plan_str(s, "soft"), &b) < 0 ||
        rlimit_value(plan_str(s, "hard"), &c) < 0)
      return -1;
    w = wire_op_add(o, CTC_OP_RLIMIT), arg_u64(w, a), arg_u64(w, b), arg_u64(w, c);
    return 0;
  }
  if (plan_is(s, "proc.bounding"))
    return cap_mask(s, "caps", &a) < 0 ? -1 : (arg_u64(wire_op_add(o, CTC_OP_CAPS_BOUNDING), a), 0);
  if (plan_is(s, "proc.caps")) {
    if (cap_mask(s, "effective", &a) | cap_mask(s, "permitted", &b) | cap_mask(s, "inheritable", &c) | cap_mask(s, "ambient", &d))
      return -1;
    w = wire_op_add(o, CTC_OP_CAPS), arg_u64(w, a), arg_u64(w, b), arg_u64(w, c), arg_u64(w, d);
    return 0;
  }
  if (plan_is(s, "proc.pdeathsig"))
    return CTC_LOOKUP(ctc_signals, plan_str(s, "signal"), &a) < 0 ? -1 : (arg_u64(wire_op_add(o, CTC_OP_PDEATHSIG), a), 0);
  return 1;
}

static int mounts(const struct plan_step *s, struct wire_ops *o)
{
  uint64_t flags, prop;
  if (plan_is(s, "mount.cgroup"))
    return cgroup_mounts(s, o);
  if (plan_is(s, "rootfs.readonly"))
    return mount_op(o, "", "/", "", CTC_MS_REMOUNT | CTC_MS_BIND | CTC_MS_RDONLY, "", 0), 0;
  if (!plan_is(s, "mount.fs") && !plan_is(s, "mount.bind"))
    return 1;
  if (flag_bits(s, &flags, &prop) < 0)
    return -1;
  if (plan_is(s, "mount.fs"))
    mount_op(o, plan_str(s, "src"), plan_str(s, "dst"), plan_str(s, "type"), flags, plan_str(s, "data"), prop);
  else
    mount_op(o, plan_str(s, "src"), plan_str(s, "dst"), "", flags | CTC_MS_BIND, "", prop);
  return 0;
}

int plan_wire_step(const struct plan_step *s, struct wire_ops *out)
{
  if (plan_is(s, "dev.node"))
    return dev_node(s, out);
  if (plan_is(s, "proc.user"))
    return proc_user(s, out);
  if (plan_is(s, "proc.seccomp"))
    return proc_seccomp(s, out);
  int r = simple(s, out);
  r = r == 1 ? pairs(s, out) : r;
  r = r == 1 ? named(s, out) : r;
  r = r == 1 ? mounts(s, out) : r;
  return r == 1 ? -1 : r; /* net.addr, net.route, proc.apparmor, proc.selinux: Node */
}
