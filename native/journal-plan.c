/*
 * journal-plan.c: what the journal check (journal-check.c) holds a journal
 * to: the steps of the container's plan whose undo a journal may hold
 * (cgroups, bridges, veths, nft tables, address dirs, hooks), read as
 * native/common/plan-text.c reads a plan, with plan/placeholders.ts's
 * placeholders filled in; the init state.json records; the cgroup mounts.
 * And the small helpers both files use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/plan-text.h"
#include "journal-plan.h"
#include "strict-json.h"

/* ---- small helpers ---- */

void list_add(struct list *l, char *s)
{
  char **grown = realloc(l->v, sizeof *l->v * (l->n + 1));
  if (!grown)
    abort();
  l->v = grown;
  l->v[l->n++] = s;
}

int list_has(const struct list *l, const char *s)
{
  for (size_t k = 0; k < l->n; k++)
    if (!strcmp(l->v[k], s))
      return 1;
  return 0;
}

void list_free(struct list *l)
{
  for (size_t k = 0; k < l->n; k++)
    free(l->v[k]);
  free(l->v);
  *l = (struct list){0};
}

char *read_fd(int fd, size_t *len)
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

char *sha256_hex(const void *data, size_t len)
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

char *normalize(const char *path)
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

int climbs(const char *path)
{
  for (const char *p = path; (p = strstr(p, "..")); p += 2)
    if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
      return 1;
  return 0;
}

/* ---- what the plan names ---- */

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
static int add_cgroup(struct ctx *c, const struct plan_step *s)
{
  char *filled = fill(c, plan_str(s, "path")), *full = NULL, *rel = NULL;
  if (filled[0] == '/')
    return list_add(&c->cgroups, filled), 0;
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

/* a list argument, copied */
static void copy_list(const struct plan_step *s, const char *name, struct list *out)
{
  char **v;
  size_t n = plan_list(s, name, &v);
  *out = (struct list){0};
  for (size_t k = 0; k < n; k++)
    list_add(out, strdup(v[k]));
}

static int add_hook(struct ctx *c, const struct plan_step *s)
{
  const struct plan_arg *timeout = plan_arg(s, "timeout");
  struct hook h = {
      .when = strdup(plan_str(s, "when")), .path = strdup(plan_str(s, "path")), .timeout = timeout->present ? timeout->i : 0};
  copy_list(s, "args", &h.args);
  copy_list(s, "env", &h.env);
  struct hook *grown = realloc(c->hooks, sizeof *c->hooks * (c->nhooks + 1));
  if (!grown)
    abort();
  c->hooks = grown;
  c->hooks[c->nhooks++] = h;
  return 0;
}

static int add_ipam_dir(struct ctx *c, const struct plan_step *s)
{
  const char *bridge = plan_str(s, "bridge");
  char *dir = NULL;
  if (strchr(bridge, '/') || asprintf(&dir, "%s/@ipam/%s", c->root, bridge) < 0)
    return -1;
  list_add(&c->ipam_dirs, normalize(dir));
  free(dir);
  return 0;
}

/* One step whose undo a journal may hold. */
static int add_step(struct ctx *c, const struct plan_step *s)
{
  if (plan_is(s, "cgroup.create"))
    return add_cgroup(c, s);
  if (plan_is(s, "net.bridge"))
    list_add(&c->bridges, strdup(plan_str(s, "name")));
  else if (plan_is(s, "net.ipam"))
    return add_ipam_dir(c, s);
  else if (plan_is(s, "net.veth"))
    list_add(&c->veths, fill(c, plan_str(s, "host")));
  else if (plan_is(s, "net.publish"))
    list_add(&c->tables, fill(c, plan_str(s, "table")));
  else if (plan_is(s, "hook.run"))
    return add_hook(c, s);
  return 0;
}

/* The plan as plan-text.c reads it (its digest aside: the journal's first line holds the plan's sha256). */
int read_plan(struct ctx *c)
{
  struct plan p;
  int r = plan_read_steps(c->plan, c->plan_len, &p);
  for (size_t k = 0; !r && k < p.n; k++)
    r = add_step(c, &p.steps[k]);
  plan_free(&p);
  return r;
}

void read_state(struct ctx *c)
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

void read_mounts(struct ctx *c)
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

void ctx_free(struct ctx *c)
{
  free(c->dir), free(c->plan);
  list_free(&c->cgroups), list_free(&c->cgroup_tails), list_free(&c->bridges), list_free(&c->ipam_dirs), list_free(&c->veths),
      list_free(&c->tables), list_free(&c->mounts);
  for (size_t k = 0; k < c->nhooks; k++)
    free(c->hooks[k].when), free(c->hooks[k].path), list_free(&c->hooks[k].args), list_free(&c->hooks[k].env);
  free(c->hooks);
}
