/*
 * cgroups.c: the cgroup work of a run that needs no key table (that was
 * resolved into the image): create, join, thaw, remove. The same rules as
 * executor/host/cgroups/v1.ts and v2.ts: pure v2 when /sys/fs/cgroup is a
 * cgroup2 mount; else every v1 hierarchy in mountinfo, plus the first
 * cgroup2 mount (a hybrid host's unified tree), which tracks processes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "launcher.h"

#define CGROUP2_SUPER_MAGIC 0x63677270
#define MAX_HIERARCHIES 32

static struct {
  char *mount;
  char *controllers; /* as in /proc/<pid>/cgroup: "cpu,cpuacct", "name=systemd" (any order) */
  int cpuset, freezer;
} v1[MAX_HIERARCHIES];
static size_t nv1;
static char *unified; /* the cgroup2 tree, or NULL */
static int pure_v2;
static int load_layout(void);

static const char *const known[] = {"cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
                                    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc"};

static int is_controller(const char *opt)
{
  if (!strncmp(opt, "name=", 5))
    return 1;
  for (size_t k = 0; k < sizeof known / sizeof *known; k++)
    if (!strcmp(opt, known[k]))
      return 1;
  return 0;
}

static void add_v1(const char *mount, char *opts)
{
  int cpuset = 0, freezer = 0;
  struct buf controllers = {0};
  for (char *o = strtok(opts, ","); o; o = strtok(NULL, ",")) {
    if (is_controller(o))
      buf_fmt(&controllers, "%s%s", controllers.len ? "," : "", o);
    cpuset |= !strcmp(o, "cpuset");
    freezer |= !strcmp(o, "freezer");
  }
  if (controllers.len && nv1 < MAX_HIERARCHIES)
    v1[nv1].mount = strdup(mount), v1[nv1].controllers = controllers.p, v1[nv1].cpuset = cpuset, v1[nv1++].freezer = freezer;
  else
    buf_free(&controllers);
}

int cg_load(void)
{
  /* once: the image built from a plan (plan-image.c) reads the layout before apply.c does */
  static int loaded, result;
  if (loaded)
    return result;
  loaded = 1;
  return result = load_layout();
}

void cg_assume_v2(const char *root)
{
  cg_load();
  if (!pure_v2)
    free(unified);
  nv1 = 0, pure_v2 = 1, unified = (char *)root;
}

const char *cg_hierarchy(size_t k, const char **controllers)
{
  if (k >= nv1)
    return NULL;
  *controllers = v1[k].controllers;
  return v1[k].mount;
}

const char *cg_unified(int *pure)
{
  *pure = pure_v2;
  return unified;
}

static int load_layout(void)
{
  struct statfs fs;
  if (statfs("/sys/fs/cgroup", &fs) < 0)
    return -errno;
  if (fs.f_type == CGROUP2_SUPER_MAGIC) {
    pure_v2 = 1;
    unified = "/sys/fs/cgroup";
    return 0;
  }
  char *text = read_file("/proc/self/mountinfo", NULL);
  if (!text)
    return -errno;
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    char *dash = strstr(line, " - ");
    char mount[4096], fstype[64], source[4096], opts[4096];
    if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mount) != 1 ||
        sscanf(dash + 3, "%63s %4095s %4095s", fstype, source, opts) != 3)
      continue;
    if (!strcmp(fstype, "cgroup2") && !unified)
      unified = strdup(mount);
    if (!strcmp(fstype, "cgroup"))
      add_v1(mount, opts);
  }
  free(text);
  return nv1 ? 0 : -ENOENT;
}

static char *join2(const char *a, const char *b)
{
  struct buf r = {0};
  buf_fmt(&r, "%s%s", a, b);
  return r.p;
}

static int exists(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0;
}

int cg_exists(const char *path)
{
  int found = 0;
  for (size_t k = 0; k < nv1 && !found; k++) {
    char *d = join2(v1[k].mount, path);
    found = exists(d);
    free(d);
  }
  if (!found && unified) {
    char *d = join2(unified, path);
    found = exists(d);
    free(d);
  }
  return found;
}

/* The trimmed content of a file, or "" (malloc'd). */
static char *value_of(const char *dir, const char *file)
{
  char p[4200];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  char *v = read_file(p, NULL);
  if (!v)
    return strdup("");
  size_t n = strlen(v);
  while (n && (v[n - 1] == '\n' || v[n - 1] == ' '))
    v[--n] = '\0';
  return v;
}

/* A new cpuset cgroup has no CPUs or memory nodes: each new level inherits its parent's. */
static int inherit_cpuset(const char *dir)
{
  static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
  for (size_t k = 0; k < 2; k++) {
    char *mine = value_of(dir, files[k]);
    int empty = !*mine;
    free(mine);
    if (!empty)
      continue;
    char parent[4200], target[4200];
    snprintf(parent, sizeof parent, "%s/..", dir);
    snprintf(target, sizeof target, "%s/%s", dir, files[k]);
    char *v = value_of(parent, files[k]);
    int r = write_value(target, v);
    free(v);
    if (r < 0)
      return r;
  }
  return 0;
}

/* v1.ts createIn: parents as needed (shared, they stay), the cgroup itself strictly. */
static int create_v1(size_t h, const char *path)
{
  struct buf dir = {0};
  buf_str(&dir, v1[h].mount);
  int r = 0;
  for (const char *p = path; *p && !r;) {
    while (*p == '/')
      p++;
    const char *end = strchrnul(p, '/');
    buf_str(&dir, "/");
    buf_add(&dir, p, (size_t)(end - p));
    const char *rest = end;
    while (*rest == '/')
      rest++;
    int leaf = !*rest;
    p = end;
    if (!leaf && exists(dir.p))
      continue;
    if (mkdir(dir.p, 0777) < 0 && (leaf || errno != EEXIST))
      r = -errno;
    else if (v1[h].cpuset)
      r = inherit_cpuset(dir.p);
  }
  buf_free(&dir);
  return r;
}

/* v2.ts create: every controller the tree offers enabled down to it, parents first. */
static int create_v2(const char *path)
{
  char *offered = value_of(unified, "cgroup.controllers");
  struct buf dir = {0};
  buf_str(&dir, unified);
  int r = 0;
  for (const char *p = path;;) {
    if (mkdir(dir.p, 0777) < 0 && errno != EEXIST) {
      r = -errno;
      break;
    }
    char *on = value_of(dir.p, "cgroup.subtree_control");
    struct buf missing = {0};
    char *copy = strdup(offered);
    for (char *c = strtok(copy, " "); c; c = strtok(NULL, " ")) {
      size_t n = strlen(c);
      const char *hit = strstr(on, c);
      if (!(hit && (hit == on || hit[-1] == ' ') && (hit[n] == ' ' || hit[n] == '\0')))
        buf_fmt(&missing, "%s+%s", missing.len ? " " : "", c);
    }
    if (missing.len) {
      char file[4200];
      snprintf(file, sizeof file, "%s/cgroup.subtree_control", dir.p);
      r = write_value(file, missing.p);
    }
    free(copy), free(on), buf_free(&missing);
    while (*p == '/')
      p++;
    const char *end = strchrnul(p, '/');
    const char *rest = end;
    while (*rest == '/')
      rest++;
    if (r || !*rest) {
      if (!r) {
        buf_str(&dir, "/");
        buf_add(&dir, p, (size_t)(end - p));
        if (mkdir(dir.p, 0777) < 0)
          r = -errno;
      }
      break;
    }
    buf_str(&dir, "/");
    buf_add(&dir, p, (size_t)(end - p));
    p = end;
  }
  free(offered);
  buf_free(&dir);
  return r;
}

int cg_create(const char *path)
{
  int r = 0;
  for (size_t k = 0; k < nv1 && !r; k++)
    r = create_v1(k, path);
  return r || !unified ? r : create_v2(path);
}

static int write_pid(const char *root, const char *path, pid_t pid)
{
  char file[4200], v[32];
  snprintf(file, sizeof file, "%s%s/cgroup.procs", root, path);
  snprintf(v, sizeof v, "%d", (int)pid);
  return write_value(file, v);
}

int cg_join(const char *path, pid_t pid)
{
  int r = 0;
  for (size_t k = 0; k < nv1 && !r; k++)
    r = write_pid(v1[k].mount, path, pid);
  return r || !unified ? r : write_pid(unified, path, pid);
}

/* The next name of a comma list: its length, *at moved past it; 0 at the end. */
static size_t next_name(const char **at, const char **name)
{
  *name = *at;
  size_t n = strcspn(*at, ",:\n");
  *at += n + ((*at)[n] == ',');
  return n;
}

/* Do the comma lists a and b (each ending at ':', '\n' or NUL) hold the same names? */
static int same_names(const char *a, const char *b)
{
  size_t na = 0, nb = 0, n, m;
  const char *p = a, *q, *name, *other;
  while ((n = next_name(&p, &name)) != 0) {
    int found = 0;
    for (q = b; !found && (m = next_name(&q, &other)) != 0;)
      found = m == n && !strncmp(name, other, n);
    if (!found)
      return 0;
    na++;
  }
  for (q = b; next_name(&q, &other) != 0;)
    nb++;
  return na == nb;
}

/* In a /proc/<pid>/cgroup text, the path of the hierarchy with these controllers
 * ("" for the v2 tree): its length in *len, or NULL if the text has none. */
static const char *path_in(const char *text, const char *controllers, size_t *len)
{
  for (const char *line = text; *line;) {
    size_t n = strcspn(line, "\n");
    const char *ids = memchr(line, ':', n);
    const char *path = ids ? memchr(ids + 1, ':', n - (size_t)(ids + 1 - line)) : NULL;
    if (path && same_names(ids + 1, controllers)) {
      *len = n - (size_t)(path + 1 - line);
      return path + 1;
    }
    line += n + (line[n] == '\n');
  }
  return NULL;
}

/* pid into the cgroup of this hierarchy that peer is in, unless pid is in it already. */
static int join_as(const char *mount, const char *controllers, const char *peer, const char *own, pid_t pid)
{
  size_t tl, ol;
  const char *theirs = path_in(peer, controllers, &tl), *ours = path_in(own, controllers, &ol);
  if (!theirs || (ours && ol == tl && !strncmp(theirs, ours, tl)))
    return 0;
  char path[4096];
  if (tl >= sizeof path)
    return -ENAMETOOLONG;
  memcpy(path, theirs, tl);
  path[tl] = '\0';
  return write_pid(mount, path, pid);
}

int cg_join_peer(pid_t peer, pid_t pid)
{
  char file[64];
  snprintf(file, sizeof file, "/proc/%d/cgroup", (int)peer);
  char *theirs = read_file(file, NULL), *ours = NULL;
  int r = theirs ? 0 : -errno;
  snprintf(file, sizeof file, "/proc/%d/cgroup", (int)pid);
  if (!r && !(ours = read_file(file, NULL)))
    r = -errno;
  for (size_t k = 0; k < nv1 && !r; k++)
    r = join_as(v1[k].mount, v1[k].controllers, theirs, ours, pid);
  if (!r && unified)
    r = join_as(unified, "", theirs, ours, pid);
  free(theirs);
  free(ours);
  return r;
}

/* Polls until the file reads want, up to 5 s; 0 or -ETIMEDOUT. */
static int poll_value(const char *dir, const char *file, const char *want)
{
  for (int waited = 0; waited <= 5000; waited += 5) {
    char *v = value_of(dir, file);
    int done = strstr(v, want) != NULL;
    free(v);
    if (done)
      return 0;
    sleep_ms(5);
  }
  return -ETIMEDOUT;
}

/* Writes value to root/path/file (if it exists), then polls root/path/check until it holds want. */
static int thaw_in(const char *root, const char *path, const char *file, const char *value, const char *check, const char *want)
{
  char *dir = join2(root, path), target[4200];
  snprintf(target, sizeof target, "%s/%s", dir, file);
  int r = exists(target) ? write_value(target, value) : 0;
  if (!r && exists(target))
    r = poll_value(dir, check, want);
  free(dir);
  return r;
}

int cg_thaw(const char *path)
{
  if (pure_v2)
    return thaw_in(unified, path, "cgroup.freeze", "0", "cgroup.events", "frozen 0");
  for (size_t k = 0; k < nv1; k++)
    if (v1[k].freezer)
      return thaw_in(v1[k].mount, path, "freezer.state", "THAWED", "freezer.state", "THAWED");
  return 0;
}

/* files.ts removeCgroupDir: kills what is left, removes the dir; EBUSY is retried briefly. */
static int remove_dir(const char *dir)
{
  for (int attempt = 0;; attempt++) {
    char *procs = value_of(dir, "cgroup.procs");
    for (char *p = strtok(procs, "\n"); p; p = strtok(NULL, "\n"))
      kill((pid_t)atoi(p), SIGKILL);
    free(procs);
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY || attempt >= 200)
      return -errno;
    sleep_ms(10);
  }
}

int cg_remove(const char *path)
{
  int r = 0;
  for (size_t k = 0; k < nv1; k++) {
    char *d = join2(v1[k].mount, path);
    int e = remove_dir(d);
    r = r ? r : e;
    free(d);
  }
  if (unified) {
    char *d = join2(unified, path);
    char kill_file[4200];
    snprintf(kill_file, sizeof kill_file, "%s/cgroup.kill", d);
    if (exists(kill_file))
      write_value(kill_file, "1");
    int e = remove_dir(d);
    r = r ? r : e;
    free(d);
  }
  return r;
}

void cg_remove_if_empty(const char *path)
{
  for (size_t k = 0; k <= nv1; k++) {
    const char *root = k < nv1 ? v1[k].mount : unified;
    if (!root)
      continue;
    char *d = join2(root, path);
    rmdir(d); /* in use or gone: left alone */
    free(d);
  }
}

int cg_frozen(const char *path)
{
  for (size_t k = 0; k <= nv1; k++) {
    int v2 = k == nv1;
    if (v2 ? !pure_v2 : !v1[k].freezer)
      continue;
    char *dir = join2(v2 ? unified : v1[k].mount, path);
    char *v = value_of(dir, v2 ? "cgroup.events" : "freezer.state");
    int frozen = v2 ? strstr(v, "frozen 1") != NULL : !strcmp(v, "FROZEN");
    free(v), free(dir);
    return frozen;
  }
  return 0;
}
