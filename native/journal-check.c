/*
 * journal-check.c: a journal read from disk is checked before anything in
 * it is undone. Its lines are orders root gives itself (remove this
 * directory, kill this pid, run this program), so whoever could add one
 * would have root do anything. Each entry may touch only what the
 * container's own plan named:
 *
 *   state.remove      the state dir, <root>/<id>
 *   cgroup.remove     a cgroup the plan's cgroup.create names (under the
 *                     cgroup parent, or where state.json says it went),
 *                     and parents above it
 *   cgroup.restore    files in such a cgroup
 *   init.kill         the init state.json records, pid and start time
 *   net.*             the plan's bridges, veth host ends and nft tables,
 *                     addresses of its bridges, marked with this id
 *   hook.poststop     exactly a poststop hook.run of the plan
 *
 * The plan is the one the journal was written for: the first line is
 * {"plan":"sha256:<hex of the plan file>"}. The journal must be a regular
 * file of the user running ctc, writable by no one else, in a state dir of
 * that user. Anything else refuses the whole journal, naming the line, and
 * nothing is undone: a journal with one forged line says nothing true.
 * A last line without its newline is the entry a crash interrupted (its
 * change was never made): it is left out, as before.
 *
 * One check for both executors: the launcher links this file (its native
 * delete), and the TypeScript CLI runs `ctc-init journal-check ROOT ID`,
 * whose output it acts on (not the file read a second time). The JSON
 * reader (strict-json.c) is strict where JSON.parse and a lax reader could
 * read one line two ways.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal-check.h"
#include "strict-json.h"

/* ---- small helpers ---- */

struct list {
  char **v;
  size_t n;
};

static void list_add(struct list *l, char *s)
{
  char **grown = realloc(l->v, sizeof *l->v * (l->n + 1));
  if (!grown)
    abort();
  l->v = grown;
  l->v[l->n++] = s;
}

static int list_has(const struct list *l, const char *s)
{
  for (size_t k = 0; k < l->n; k++)
    if (!strcmp(l->v[k], s))
      return 1;
  return 0;
}

static void list_free(struct list *l)
{
  for (size_t k = 0; k < l->n; k++)
    free(l->v[k]);
  free(l->v);
  *l = (struct list){0};
}

/* fd's whole content, NUL-terminated (*len without it); NULL with errno */
static char *read_fd(int fd, size_t *len)
{
  char *p = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&p, &size);
  if (!out)
    return NULL;
  char chunk[65536];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof chunk)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    fwrite(chunk, 1, (size_t)n, out);
  }
  int err = n < 0 ? errno : 0;
  fclose(out);
  if (err) {
    free(p);
    errno = err;
    return NULL;
  }
  *len = size;
  return p;
}

static char *sha256_hex(const void *data, size_t len)
{
  struct sha256_ctx h;
  uint8_t d[SHA256_DIGEST_SIZE];
  sha256_init(&h);
  sha256_update(&h, len, data);
  sha256_digest(&h, sizeof d, d);
  char *hex = malloc(2 * sizeof d + 1);
  if (!hex)
    abort();
  for (size_t k = 0; k < sizeof d; k++)
    sprintf(hex + 2 * k, "%02x", d[k]);
  return hex;
}

void journal_header(const void *plan, size_t len, char out[JOURNAL_HEADER_SIZE])
{
  char *hex = sha256_hex(plan, len);
  snprintf(out, JOURNAL_HEADER_SIZE, "{\"plan\":\"sha256:%s\"}\n", hex);
  free(hex);
}

/* a copy of s with every `from` replaced by `to` (String.replaceAll) */
static char *replace_all(const char *s, const char *from, const char *to)
{
  char *p = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&p, &size);
  if (!out)
    abort();
  for (const char *hit; (hit = strstr(s, from)); s = hit + strlen(from))
    fprintf(out, "%.*s%s", (int)(hit - s), s, to);
  fputs(s, out);
  fclose(out);
  return p;
}

/* path.posix.normalize, as path.join leaves what it joins */
static char *normalize(const char *path)
{
  int absolute = path[0] == '/';
  char *copy = strdup(path), *save = NULL;
  struct list parts = {0};
  for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
    if (!strcmp(part, "."))
      continue;
    if (!strcmp(part, "..") && parts.n && strcmp(parts.v[parts.n - 1], "..")) {
      free(parts.v[--parts.n]);
      continue;
    }
    if (!strcmp(part, "..") && absolute)
      continue;
    list_add(&parts, strdup(part));
  }
  char *p = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&p, &size);
  if (!out)
    abort();
  for (size_t k = 0; k < parts.n; k++)
    fprintf(out, "%s%s", k || absolute ? "/" : "", parts.v[k]);
  if (!parts.n)
    fputs(absolute ? "/" : ".", out);
  fclose(out);
  list_free(&parts);
  free(copy);
  return p;
}

/* a `..` component: a path that may climb out through a symlink, whatever its text says */
static int climbs(const char *path)
{
  for (const char *p = path; (p = strstr(p, "..")); p += 2)
    if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
      return 1;
  return 0;
}

/* path names the directory want: the same text (path.join's), or the same directory */
static int same_dir(const char *path, const char *want)
{
  if (climbs(path))
    return 0;
  char *n = normalize(path), *w = normalize(want);
  int same = !strcmp(n, w);
  free(n), free(w);
  struct stat a, b;
  return same || (lstat(path, &a) == 0 && S_ISDIR(a.st_mode) && lstat(want, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

/* /proc/<pid>/stat's start time, or 0 if there is no such process (or a zombie) */
static unsigned long long start_time(long long pid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%lld/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  size_t len;
  char *text = read_fd(fd, &len);
  close(fd);
  char *p = text ? strrchr(text, ')') : NULL;
  char state = 0;
  unsigned long long st = 0;
  if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &state, &st) != 2 || state == 'Z' || state == 'X')
    st = 0;
  free(text);
  return st;
}

static int strings_equal(const struct jval *a, const struct list *b)
{
  if (!a || a->t != J_ARR || a->n != b->n)
    return 0;
  for (size_t k = 0; k < a->n; k++)
    if (a->v[k].t != J_STR || strcmp(a->v[k].s, b->v[k]))
      return 0;
  return 1;
}

/* ---- what the plan names ---- */

struct hook {
  char *when, *path;
  struct list args, env;
  long long timeout;
};

struct ctx {
  const char *root, *id;
  char *dir;   /* <root>/<id>, as path.join writes it */
  char *plan;  /* the plan file's text */
  size_t plan_len;
  struct list cgroups, cgroup_tails, bridges, ipam_dirs, veths, tables, mounts;
  int mounts_read;
  struct hook *hooks;
  size_t nhooks;
  int has_state;
  long long pid, start;
  char reason[4096]; /* why the journal is refused */
};

/* one argument of a step line, as text.ts tokenize() and valueEnd() cut it: NULL if absent */
static char *raw_arg(const char *tail, const char *name)
{
  const char *s = tail, *end = tail + strlen(tail);
  while (s < end) {
    if (*s == ' ') {
      s++;
      continue;
    }
    if (*s == '#')
      return NULL;
    const char *eq = strchr(s, '=');
    if (!eq)
      return NULL;
    const char *v = eq + 1, *e = v;
    if (*v != '"' && *v != '[') {
      e = strchr(v, ' ');
      e = e ? e : end;
    } else {
      int depth = 0, in = 0;
      for (e = v; e < end; e++) {
        char c = *e;
        if (in && c == '\\')
          e++;
        else if (in && c == '"')
          in = 0;
        else if (!in && c == '"')
          in = 1;
        else if (!in && c == '[')
          depth++;
        else if (!in && c == ']')
          depth--;
        if (e < end && !in && depth == 0 && (c == '"' || c == ']')) {
          e++;
          break;
        }
      }
      e = e > end ? end : e;
    }
    if ((size_t)(eq - s) == strlen(name) && !memcmp(s, name, (size_t)(eq - s)))
      return strndup(v, (size_t)(e - v));
    s = e;
  }
  return NULL;
}

/* a str argument: JSON-quoted or bare; "" if absent, NULL if it does not read */
static char *str_arg(const char *tail, const char *name)
{
  char *raw = raw_arg(tail, name);
  if (!raw || raw[0] != '"')
    return raw ? raw : strdup("");
  struct jval v;
  char *s = NULL;
  if (parse_json(raw, strlen(raw), &v) == 0) {
    if (v.t == J_STR)
      s = strdup(v.s);
    jfree(&v);
  }
  free(raw);
  return s;
}

/* a strs argument (a JSON list of strings); empty if absent, -1 if it does not read */
static int strs_arg(const char *tail, const char *name, struct list *out)
{
  char *raw = raw_arg(tail, name);
  struct jval v;
  *out = (struct list){0};
  if (!raw)
    return 0;
  int r = parse_json(raw, strlen(raw), &v);
  free(raw);
  if (r < 0)
    return -1;
  for (size_t k = 0; k < v.n && v.t == J_ARR; k++)
    if (v.v[k].t == J_STR)
      list_add(out, strdup(v.v[k].s));
  r = v.t == J_ARR && out->n == v.n ? 0 : -1;
  jfree(&v);
  return r;
}

/* placeholders.ts fillStep() for an argument the step table marks as a place */
static char *fill(const struct ctx *c, const char *v)
{
  char *hash = sha256_hex(c->id, strlen(c->id));
  hash[8] = '\0';
  char *a = replace_all(v, "{idhash}", hash), *b = replace_all(a, "{state}", c->dir);
  char *d = replace_all(b, "{root}", c->root), *filled = replace_all(d, "{id}", c->id);
  free(hash), free(a), free(b), free(d);
  return filled;
}

/* cgroup.create's path: a relative one under the cgroup parent (placeholders.ts), or where state.json says it went */
static int add_cgroup(struct ctx *c, const char *tail)
{
  char *v = str_arg(tail, "path"), *filled = v ? fill(c, v) : NULL, *full = NULL, *rel = NULL;
  free(v);
  if (!filled || filled[0] == '/')
    return filled ? (list_add(&c->cgroups, filled), 0) : -1;
  const char *env = getenv("CTC_CGROUP_PARENT");
  char *parent = strdup(env && *env ? env : "/ctc");
  size_t n = strlen(parent);
  if (n && parent[n - 1] == '/')
    parent[n - 1] = '\0';
  if (asprintf(&full, "%s/%s", parent, filled) < 0 || asprintf(&rel, "/%s", filled) < 0)
    abort();
  list_add(&c->cgroups, full), list_add(&c->cgroup_tails, rel);
  free(parent), free(filled);
  return 0;
}

static int add_hook(struct ctx *c, const char *tail)
{
  struct hook h = {.when = str_arg(tail, "when"), .path = str_arg(tail, "path")};
  char *timeout = raw_arg(tail, "timeout");
  h.timeout = timeout ? atoll(timeout) : 0;
  free(timeout);
  if (!h.when || !h.path || strs_arg(tail, "args", &h.args) < 0 || strs_arg(tail, "env", &h.env) < 0)
    return free(h.when), free(h.path), list_free(&h.args), list_free(&h.env), -1;
  struct hook *grown = realloc(c->hooks, sizeof *c->hooks * (c->nhooks + 1));
  if (!grown)
    abort();
  c->hooks = grown;
  c->hooks[c->nhooks++] = h;
  return 0;
}

/* a place argument filled in, added to l; -1 if it does not read */
static int add_place(struct ctx *c, struct list *l, const char *tail, const char *name)
{
  char *v = str_arg(tail, name);
  if (!v)
    return -1;
  list_add(l, fill(c, v));
  free(v);
  return 0;
}

static int add_plain(struct list *l, const char *tail, const char *name)
{
  char *v = str_arg(tail, name);
  return v ? (list_add(l, v), 0) : -1;
}

static int add_ipam_dir(struct ctx *c, const char *tail)
{
  char *bridge = str_arg(tail, "bridge"), *dir = NULL;
  if (!bridge || strchr(bridge, '/') || asprintf(&dir, "%s/@ipam/%s", c->root, bridge) < 0)
    return free(bridge), -1;
  list_add(&c->ipam_dirs, normalize(dir));
  free(bridge), free(dir);
  return 0;
}

/* The steps whose undo a journal may hold; -1 if one does not read. */
static int read_plan(struct ctx *c)
{
  char *copy = strndup(c->plan, c->plan_len), *save = NULL;
  int r = 0;
  /* the header ends at the first empty line, which strtok would skip: find it first */
  char *steps = strstr(copy, "\n\n");
  for (char *line = steps ? strtok_r(steps, "\n", &save) : NULL; line && !r; line = strtok_r(NULL, "\n", &save)) {
    char kind[32];
    int at = 0;
    if (sscanf(line, "%*u %*s %31s %n", kind, &at) != 1 || !at)
      continue;
    const char *tail = line + at - 1;
    if (!strcmp(kind, "cgroup.create"))
      r = add_cgroup(c, tail);
    else if (!strcmp(kind, "net.bridge"))
      r = add_plain(&c->bridges, tail, "name");
    else if (!strcmp(kind, "net.ipam"))
      r = add_ipam_dir(c, tail);
    else if (!strcmp(kind, "net.veth"))
      r = add_place(c, &c->veths, tail, "host");
    else if (!strcmp(kind, "net.publish"))
      r = add_place(c, &c->tables, tail, "table");
    else if (!strcmp(kind, "hook.run"))
      r = add_hook(c, tail);
  }
  free(copy);
  return r;
}

/* state.json: the init's pid and start time, and where a relative cgroup went */
static void read_state(struct ctx *c)
{
  char *file = NULL;
  if (asprintf(&file, "%s/state.json", c->dir) < 0)
    abort();
  int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  free(file);
  size_t len;
  char *text = fd >= 0 ? read_fd(fd, &len) : NULL;
  if (fd >= 0)
    close(fd);
  struct jval s;
  if (!text || parse_json(text, len, &s) < 0)
    return free(text);
  const struct jval *pid = field(&s, "pid"), *start = field(&s, "initStartTime");
  const char *cgroup = str_field(&s, "cgroupPath");
  if (pid && pid->t == J_INT && start && start->t == J_INT)
    c->has_state = 1, c->pid = pid->i, c->start = start->i;
  /* a relative cgroup, made under another CTC_CGROUP_PARENT than this delete's */
  for (size_t k = 0; cgroup && k < c->cgroup_tails.n; k++) {
    const char *tail = c->cgroup_tails.v[k];
    size_t cl = strlen(cgroup), tl = strlen(tail);
    if (cgroup[0] == '/' && cl > tl && !strcmp(cgroup + cl - tl, tail) && !climbs(cgroup) && !list_has(&c->cgroups, cgroup))
      list_add(&c->cgroups, strdup(cgroup));
  }
  jfree(&s);
  free(text);
}

/* the cgroup file systems' mount points (cgroup.restore names files in them) */
static void read_mounts(struct ctx *c)
{
  if (c->mounts_read++)
    return;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  char *line = NULL;
  size_t size = 0;
  while (f && getline(&line, &size, f) > 0) {
    char point[4096], type[64];
    const char *dash = strstr(line, " - ");
    if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && sscanf(dash + 3, "%63s", type) == 1 &&
        (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2")))
      list_add(&c->mounts, strdup(point));
  }
  free(line);
  if (f)
    fclose(f);
}

/* ---- the entries ---- */

static int refuse(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct ctx *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->reason, sizeof c->reason, fmt, ap);
  va_end(ap);
  return -1;
}

static int check_state_remove(struct ctx *c, const struct jval *e)
{
  const char *dir = str_field(e, "dir");
  return dir && same_dir(dir, c->dir) ? 0 : refuse(c, "state.remove of %s, which is not the container's state dir %s", dir ? dir : "?", c->dir);
}

static int check_cgroup_remove(struct ctx *c, const struct jval *e)
{
  const char *path = str_field(e, "path");
  const struct jval *parents = field(e, "parents");
  if (!path || !list_has(&c->cgroups, path) || climbs(path))
    return refuse(c, "cgroup.remove of %s, which is not the cgroup the container's plan names", path ? path : "?");
  if (parents && parents->t != J_ARR)
    return refuse(c, "cgroup.remove's parents are not a list");
  for (size_t k = 0; parents && k < parents->n; k++) {
    const char *p = parents->v[k].s; /* NULL unless a string */
    size_t n = p ? strlen(p) : 0;
    if (!n || strncmp(path, p, n) || path[n] != '/')
      return refuse(c, "cgroup.remove of the parent %s, which is not above %s", p ? p : "?", path);
  }
  return 0;
}

/* a file directly in one of the container's cgroups, in a cgroup file system */
static int cgroup_file(struct ctx *c, const char *file)
{
  const char *name = strrchr(file, '/');
  if (climbs(file) || !name || !name[1])
    return 0;
  char *dir = strndup(file, (size_t)(name - file)), *have = normalize(dir);
  int found = 0;
  read_mounts(c);
  for (size_t m = 0; m < c->mounts.n && !found; m++)
    for (size_t k = 0; k < c->cgroups.n && !found; k++) {
      char *joined = NULL;
      if (asprintf(&joined, "%s/%s", c->mounts.v[m], c->cgroups.v[k]) < 0)
        abort();
      char *want = normalize(joined);
      found = !strcmp(want, have);
      free(joined), free(want);
    }
  free(dir), free(have);
  return found;
}

static int check_cgroup_restore(struct ctx *c, const struct jval *e)
{
  const struct jval *files = field(e, "files");
  if (!files || files->t != J_ARR)
    return refuse(c, "cgroup.restore without its files");
  for (size_t k = 0; k < files->n; k++) {
    const struct jval *f = &files->v[k];
    if (f->t != J_ARR || f->n != 2 || f->v[0].t != J_STR || (f->v[1].t != J_STR && f->v[1].t != J_NULL))
      return refuse(c, "cgroup.restore: a file is not [path, content]");
    if (!cgroup_file(c, f->v[0].s))
      return refuse(c, "cgroup.restore of %s, which is not a file of the container's cgroup", f->v[0].s);
  }
  return 0;
}

static int check_init_kill(struct ctx *c, const struct jval *e)
{
  const struct jval *pid = field(e, "pid"), *start = field(e, "startTime");
  if (!pid || pid->t != J_INT || pid->i <= 0 || !start || start->t != J_INT || start->i < 0)
    return refuse(c, "init.kill without a pid and start time");
  if (c->has_state && pid->i == c->pid && start->i == c->start)
    return 0;
  /* no state.json yet (a crash right after the clone): only an init that is gone, so nothing is killed */
  unsigned long long now = c->has_state ? 0 : start_time(pid->i);
  if (!c->has_state && (now == 0 || now != (unsigned long long)start->i))
    return 0;
  return refuse(c, "init.kill of pid %lld (start time %lld), which is not the container's init (%s)", pid->i, start->i,
                c->has_state ? "state.json names another" : "there is no state.json, and that process is alive");
}

static const char *const hook_fields[] = {"when", "path", "args", "env", "timeout", NULL};

/* every key of o is one of names; else the first that is not, in *extra */
static int only_fields(const struct jval *o, const char *const *names, const char **extra)
{
  for (size_t k = 0; k < o->n; k++) {
    const char *const *n = names;
    while (*n && strcmp(*n, o->k[k]))
      n++;
    if (!*n)
      return *extra = o->k[k], 0;
  }
  return 1;
}

static int hook_matches(const struct hook *h, const struct jval *hook)
{
  const struct jval *timeout = field(hook, "timeout");
  const char *when = str_field(hook, "when"), *path = str_field(hook, "path");
  return when && path && timeout && timeout->t == J_INT && !strcmp(h->when, when) && !strcmp(h->path, path) &&
         h->timeout == timeout->i && strings_equal(field(hook, "args"), &h->args) && strings_equal(field(hook, "env"), &h->env);
}

static int check_hook(struct ctx *c, const struct jval *e)
{
  const char *dir = str_field(e, "dir"), *extra = NULL;
  const struct jval *hook = field(e, "hook");
  if (!dir || !same_dir(dir, c->dir))
    return refuse(c, "hook.poststop with the state of %s, which is not the container's state dir %s", dir ? dir : "?", c->dir);
  if (!hook || hook->t != J_OBJ || !only_fields(hook, hook_fields, &extra))
    return refuse(c, "hook.poststop: the hook %s%s", extra ? "has a field it does not take: " : "is not a hook", extra ? extra : "");
  const char *when = str_field(hook, "when"), *path = str_field(hook, "path");
  for (size_t k = 0; when && !strcmp(when, "poststop") && k < c->nhooks; k++)
    if (hook_matches(&c->hooks[k], hook))
      return 0;
  return refuse(c, "hook.poststop of %s, which is not a poststop hook of the container's plan", path ? path : "?");
}

static int netns_ok(const struct jval *e)
{
  const char *ns = str_field(e, "netns");
  return ns && *ns && strspn(ns, "0123456789") == strlen(ns);
}

static int check_bridge(struct ctx *c, const struct jval *e)
{
  const char *name = str_field(e, "name");
  return netns_ok(e) && name && list_has(&c->bridges, name) ? 0 : refuse(c, "net.bridge.release of %s, which is not a bridge of the container's plan", name ? name : "?");
}

/* the veth's host end, and the ifalias that marks it as this container's (network.ts vethAlias) */
static int check_link(struct ctx *c, const struct jval *e)
{
  const char *name = str_field(e, "name"), *alias = str_field(e, "alias");
  int ok = netns_ok(e) && name && list_has(&c->veths, name) && alias && !strncmp(alias, "ctc:", 4) && !strcmp(alias + 4, c->id);
  return ok ? 0 : refuse(c, "net.link.remove of %s marked %s, which is not the container's veth marked as its own", name ? name : "?", alias ? alias : "?");
}

static int check_unpublish(struct ctx *c, const struct jval *e)
{
  const char *table = str_field(e, "table"), *id = str_field(e, "id");
  int ok = netns_ok(e) && table && list_has(&c->tables, table) && id && !strcmp(id, c->id);
  return ok ? 0 : refuse(c, "net.unpublish of %s for %s, which is not the container's nft table", table ? table : "?", id ? id : "?");
}

static int check_ipam(struct ctx *c, const struct jval *e)
{
  const char *file = str_field(e, "file"), *id = str_field(e, "id");
  const char *name = file ? strrchr(file, '/') : NULL;
  int ok = name && name[1] && !climbs(file) && id && !strcmp(id, c->id);
  if (ok) {
    char *dir = strndup(file, (size_t)(name - file)), *n = normalize(dir);
    ok = list_has(&c->ipam_dirs, n);
    free(dir), free(n);
  }
  return ok ? 0 : refuse(c, "net.ipam.release of %s for %s, which is not an address of the container's bridges held for it", file ? file : "?", id ? id : "?");
}

/* each undo ctc writes (journal.ts Undo): its fields, and what they may name */
static const struct {
  const char *undo;
  const char *const fields[6];
  int (*check)(struct ctx *, const struct jval *);
} kinds[] = {
    {"state.remove", {"undo", "step", "dir"}, check_state_remove},
    {"cgroup.remove", {"undo", "step", "path", "parents"}, check_cgroup_remove},
    {"cgroup.restore", {"undo", "step", "files"}, check_cgroup_restore},
    {"init.kill", {"undo", "step", "pid", "startTime"}, check_init_kill},
    {"net.bridge.release", {"undo", "step", "name", "netns"}, check_bridge},
    {"net.link.remove", {"undo", "step", "name", "alias", "netns"}, check_link},
    {"net.unpublish", {"undo", "step", "table", "id", "netns"}, check_unpublish},
    {"net.ipam.release", {"undo", "step", "file", "id"}, check_ipam},
    {"hook.poststop", {"undo", "step", "dir", "hook"}, check_hook},
};

static int check_entry(struct ctx *c, const char *line)
{
  struct jval e;
  const char *undo = NULL, *extra = NULL;
  const struct jval *step = NULL;
  if (parse_json(line, strlen(line), &e) < 0)
    return refuse(c, "not a journal entry");
  if (!(undo = str_field(&e, "undo")) || !(step = field(&e, "step")) || step->t != J_INT || step->i < 0)
    return jfree(&e), refuse(c, "not a journal entry");
  size_t k = 0;
  while (k < sizeof kinds / sizeof *kinds && strcmp(kinds[k].undo, undo))
    k++;
  int r = k == sizeof kinds / sizeof *kinds       ? refuse(c, "%s is not an undo ctc writes", undo)
          : !only_fields(&e, kinds[k].fields, &extra) ? refuse(c, "%s has a field it does not take: %s", undo, extra)
                                                     : kinds[k].check(c, &e);
  jfree(&e);
  return r;
}

/* ---- the journal ---- */

/* ctc's own: a regular file (a state dir) of this user, writable by no one else */
static int own(struct ctx *c, const char *what, const struct stat *st, int dir)
{
  if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
    return refuse(c, "%s is not a %s", what, dir ? "directory" : "regular file");
  if (st->st_uid != geteuid())
    return refuse(c, "%s is owned by uid %u, not by uid %u: ctc acts only on what it wrote itself", what, (unsigned)st->st_uid, (unsigned)geteuid());
  if (!dir && (st->st_mode & 022))
    return refuse(c, "%s may be written by others (mode %04o)", what, (unsigned)(st->st_mode & 07777));
  return 0;
}

/*
 * A regular file of the state dir, opened without following a symlink; with
 * mine, ctc's own too. -1 with why, or -2 if it does not exist.
 */
static int open_own(struct ctx *c, const char *name, int mine, char **text, size_t *len)
{
  char *file = NULL;
  if (asprintf(&file, "%s/%s", c->dir, name) < 0)
    abort();
  int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  int r = fd < 0 && errno == ENOENT ? -2
          : fd < 0                  ? refuse(c, "%s cannot be opened: %s", file, strerror(errno))
          : fstat(fd, &st) < 0      ? refuse(c, "%s: %s", file, strerror(errno))
          : mine                    ? own(c, file, &st, 0)
          : S_ISREG(st.st_mode)     ? 0
                                    : refuse(c, "%s is not a regular file", file);
  if (!r && !(*text = read_fd(fd, len)))
    r = refuse(c, "%s cannot be read: %s", file, strerror(errno));
  if (fd >= 0)
    close(fd);
  free(file);
  return r;
}

/* line 1: the digest of the plan this journal was written for, which must be the state dir's plan */
static int check_header(struct ctx *c, const char *line)
{
  char want[JOURNAL_HEADER_SIZE];
  if (strlen(line) != sizeof want - 2 || strncmp(line, "{\"plan\":\"sha256:", 16))
    return refuse(c, "the journal does not begin with the digest of its plan ({\"plan\":\"sha256:…\"})");
  /* whoever could change the plan: its digest, in the journal, says so */
  int r = open_own(c, "plan", 0, &c->plan, &c->plan_len);
  if (r == -2)
    return refuse(c, "%s/plan is missing, so the journal cannot be checked against it", c->dir);
  if (r < 0)
    return -1;
  journal_header(c->plan, c->plan_len, want);
  if (memcmp(line, want, sizeof want - 2))
    return refuse(c, "%s/plan is not the plan the journal was written for", c->dir);
  if (read_plan(c) < 0)
    return refuse(c, "%s/plan does not read as a plan", c->dir);
  read_state(c);
  return 0;
}

/* line, quoted for a message: at most 80 bytes, control characters escaped */
static void excerpt(char *out, size_t size, const char *line)
{
  size_t n = 0;
  for (const char *p = line; *p && p - line < 80 && n + 5 < size; p++) {
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      n += (size_t)snprintf(out + n, size - n, "\\x%02x", (unsigned char)*p);
    else
      out[n++] = *p;
  }
  out[n] = '\0';
  if (strlen(line) > 80 && n + 4 < size)
    strcat(out, "…");
}

/* Every complete line: the header, then allowed entries, which go to out. */
static int check_lines(struct ctx *c, char *text, FILE *out)
{
  /* the part after the last newline: empty, or the entry a crash interrupted (never made) */
  char *end = strrchr(text, '\n');
  *(end ? end + 1 : text) = '\0';
  unsigned number = 0;
  for (char *line = text, *next; *line; line = next + 1) {
    next = strchr(line, '\n');
    *next = '\0';
    number++;
    if (number > 1 && !*line)
      continue;
    if ((number == 1 ? check_header(c, line) : check_entry(c, line)) < 0) {
      char quoted[400], *reason = strdup(c->reason);
      excerpt(quoted, sizeof quoted, line);
      snprintf(c->reason, sizeof c->reason, "line %u: %s: %s", number, reason, quoted);
      free(reason);
      return -1;
    }
    if (number > 1)
      fprintf(out, "%s\n", line);
  }
  return 0;
}

static size_t count_newlines(const char *s)
{
  size_t n = 0;
  for (; (s = strchr(s, '\n')); s++)
    n++;
  return n;
}

static int check(struct ctx *c, FILE *out)
{
  struct stat st;
  if (lstat(c->dir, &st) < 0)
    return refuse(c, "%s: %s", c->dir, strerror(errno));
  if (own(c, c->dir, &st, 1) < 0)
    return -1;
  char *text = NULL;
  size_t len = 0;
  int r = open_own(c, "journal", 1, &text, &len);
  if (r == -2)
    return 0; /* a crash before the journal was made: nothing to undo */
  if (r < 0)
    return -1;
  if (strlen(text) != len) /* C strings end there, JSON.parse goes on */
    r = refuse(c, "line %zu: a NUL byte", 1 + count_newlines(text));
  else
    r = check_lines(c, text, out);
  free(text);
  return r;
}

static void ctx_free(struct ctx *c)
{
  free(c->dir), free(c->plan);
  list_free(&c->cgroups), list_free(&c->cgroup_tails), list_free(&c->bridges), list_free(&c->ipam_dirs), list_free(&c->veths), list_free(&c->tables), list_free(&c->mounts);
  for (size_t k = 0; k < c->nhooks; k++)
    free(c->hooks[k].when), free(c->hooks[k].path), list_free(&c->hooks[k].args), list_free(&c->hooks[k].env);
  free(c->hooks);
}

int journal_check(const char *root, const char *id, char **entries, char **why)
{
  struct ctx c = {.root = root, .id = id};
  char *dir = NULL;
  if (asprintf(&dir, "%s/%s", root, id) < 0)
    abort();
  c.dir = normalize(dir);
  free(dir);
  size_t size = 0;
  *entries = NULL, *why = NULL;
  FILE *out = open_memstream(entries, &size);
  if (!out)
    abort();
  int r = strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, "..") ? refuse(&c, "%s is not a container id", id) : check(&c, out);
  fclose(out);
  if (r < 0) {
    free(*entries), *entries = NULL;
    *why = strdup(c.reason);
  }
  ctx_free(&c);
  return r;
}

int journal_check_main(const char *root, const char *id)
{
  char *entries, *why;
  if (journal_check(root, id, &entries, &why) < 0) {
    dprintf(STDERR_FILENO, "%s\n", why);
    free(why);
    return 1;
  }
  size_t len = strlen(entries);
  for (size_t done = 0; done < len;) {
    ssize_t n = write(STDOUT_FILENO, entries + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return free(entries), 2;
    done += (size_t)n;
  }
  free(entries);
  return 0;
}
