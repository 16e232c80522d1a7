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
 * read one line two ways. What the plan and state.json name is read by
 * journal-plan.c (journal-plan.h); the entries and the journal are here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal-check.h"
#include "journal-plan.h"
#include "strict-json.h"

void journal_header(const void *plan, size_t len, char out[JOURNAL_HEADER_SIZE])
{
  char *hex = sha256_hex(plan, len);
  snprintf(out, JOURNAL_HEADER_SIZE, "{\"plan\":\"sha256:%s\"}\n", hex);
  free(hex);
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
  return same ||
         (lstat(path, &a) == 0 && S_ISDIR(a.st_mode) && lstat(want, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino);
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
  if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &state, &st) != 2 ||
      state == 'Z' || state == 'X')
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
  return dir && same_dir(dir, c->dir)
             ? 0
             : refuse(c, "state.remove of %s, which is not the container's state dir %s", dir ? dir : "?", c->dir);
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
    return refuse(c, "hook.poststop: the hook %s%s", extra ? "has a field it does not take: " : "is not a hook",
                  extra ? extra : "");
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
  return netns_ok(e) && name && list_has(&c->bridges, name)
             ? 0
             : refuse(c, "net.bridge.release of %s, which is not a bridge of the container's plan", name ? name : "?");
}

/* the veth's host end, and the ifalias that marks it as this container's (network.ts vethAlias) */
static int check_link(struct ctx *c, const struct jval *e)
{
  const char *name = str_field(e, "name"), *alias = str_field(e, "alias");
  int ok = netns_ok(e) && name && list_has(&c->veths, name) && alias && !strncmp(alias, "ctc:", 4) && !strcmp(alias + 4, c->id);
  return ok ? 0
            : refuse(c, "net.link.remove of %s marked %s, which is not the container's veth marked as its own", name ? name : "?",
                     alias ? alias : "?");
}

static int check_unpublish(struct ctx *c, const struct jval *e)
{
  const char *table = str_field(e, "table"), *id = str_field(e, "id");
  int ok = netns_ok(e) && table && list_has(&c->tables, table) && id && !strcmp(id, c->id);
  return ok ? 0
            : refuse(c, "net.unpublish of %s for %s, which is not the container's nft table", table ? table : "?", id ? id : "?");
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
  return ok ? 0
            : refuse(c, "net.ipam.release of %s for %s, which is not an address of the container's bridges held for it",
                     file ? file : "?", id ? id : "?");
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
  int r = k == sizeof kinds / sizeof *kinds           ? refuse(c, "%s is not an undo ctc writes", undo)
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
    return refuse(c, "%s is owned by uid %u, not by uid %u: ctc acts only on what it wrote itself", what, (unsigned)st->st_uid,
                  (unsigned)geteuid());
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
