/*
 * files.c: growing buffers, whole-file reads and writes, the few JSON
 * fields the launcher reads (state.json, the journal), /proc facts, and
 * the journal (executor/run/journal.ts and undo.ts, line for line the same).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../journal-check.h"
#include "launcher.h"

void buf_add(struct buf *b, const void *p, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
      dprintf(STDERR_FILENO, "ctc: out of memory\n");
      exit(1);
    }
    b->p = q, b->cap = cap;
  }
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void buf_str(struct buf *b, const char *s)
{
  buf_add(b, s, strlen(s));
}

void buf_fmt(struct buf *b, const char *fmt, ...)
{
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < (int)sizeof small) {
    buf_add(b, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big)
    exit(1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  buf_add(b, big, (size_t)n);
  free(big);
}

/* As JSON.stringify writes a string. */
void buf_json(struct buf *b, const char *s)
{
  buf_str(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      buf_fmt(b, "\\%c", *p);
    else if (*p == '\n')
      buf_str(b, "\\n");
    else if (*p == '\t')
      buf_str(b, "\\t");
    else if (*p == '\r')
      buf_str(b, "\\r");
    else if (*p == '\b')
      buf_str(b, "\\b");
    else if (*p == '\f')
      buf_str(b, "\\f");
    else if (*p < 0x20)
      buf_fmt(b, "\\u%04x", *p);
    else
      buf_add(b, p, 1);
  }
  buf_str(b, "\"");
}

void buf_free(struct buf *b)
{
  free(b->p);
  *b = (struct buf){0};
}

char *read_file(const char *path, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct buf b = {0};
  char chunk[65536];
  for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) != 0;) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      close(fd), buf_free(&b), errno = err;
      return NULL;
    }
    buf_add(&b, chunk, (size_t)n);
  }
  close(fd);
  if (!b.p)
    buf_add(&b, "", 0);
  if (len)
    *len = b.len;
  return b.p;
}

int write_value(const char *path, const char *value)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = write(fd, value, strlen(value));
  int r = n < 0 ? -errno : 0;
  close(fd);
  return r;
}

/* As executor/container/caller-files.ts: <path>.tmp made with O_EXCL|O_NOFOLLOW (a
 * name another user planted, a symlink above all, is an error, never
 * written through nor removed), then renamed over path. */
int write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return -ENAMETOOLONG;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  int r = write(fd, data, len) == (ssize_t)len ? 0 : -EIO;
  close(fd);
  if (!r && rename(tmp, path) < 0)
    r = -errno;
  if (r)
    unlink(tmp);
  return r;
}

/* The start of a field's value in a flat JSON object, or NULL. */
static const char *json_value(const char *json, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = json; (p = strchr(p, '"')); p++) {
    if (strncmp(p + 1, name, n) || p[n + 1] != '"')
      continue;
    const char *q = p + n + 2;
    while (*q == ' ')
      q++;
    if (*q != ':')
      continue;
    for (q++; *q == ' ' || *q == '\n'; q++)
      ;
    return q;
  }
  return NULL;
}

/* A JSON string at p into out; the end, or NULL if not simple. */
static const char *json_string(const char *p, char *out, size_t size)
{
  if (*p != '"' || size == 0)
    return NULL;
  size_t n = 0;
  for (p++; *p && *p != '"'; p++) {
    char c = *p;
    if (c == '\\') {
      c = *++p;
      c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
      if (c != '"' && c != '\\' && c != '/' && c != '\n' && c != '\t')
        return NULL; /* \u and friends: not in ctc's own files */
    }
    if (n + 1 >= size)
      return NULL;
    out[n++] = c;
  }
  out[n] = '\0';
  return *p == '"' ? p + 1 : NULL;
}

int json_field(const char *json, const char *name, char *out, size_t size)
{
  const char *p = json_value(json, name);
  return p && json_string(p, out, size) ? 0 : -1;
}

int json_long(const char *json, const char *name, long long *out)
{
  const char *p = json_value(json, name);
  char *end;
  if (!p)
    return -1;
  errno = 0;
  *out = strtoll(p, &end, 10);
  return end == p || errno ? -1 : 0;
}

/* A JSON array of strings: each element, malloc'd; the count, or -1. */
long json_strings(const char *json, const char *name, char ***out)
{
  const char *p = json_value(json, name);
  *out = NULL;
  if (!p)
    return 0;
  if (*p++ != '[')
    return -1;
  long n = 0;
  for (;;) {
    while (*p == ' ' || *p == ',' || *p == '\n')
      p++;
    if (*p == ']')
      return n;
    char item[4096];
    if (!(p = json_string(p, item, sizeof item)))
      return -1;
    char **grown = realloc(*out, sizeof **out * (size_t)(n + 1));
    if (!grown)
      return -1;
    *out = grown;
    (*out)[n++] = strdup(item);
  }
}

int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  char *text = read_file(path, NULL);
  if (!text)
    return -1;
  /* the command name may hold spaces and parentheses: after the last ')' */
  char *p = strrchr(text, ')');
  int ok =
      p && sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", state, start) == 2;
  free(text);
  return ok ? 0 : -1;
}

int is_alive(pid_t pid, unsigned long long start)
{
  char state;
  unsigned long long st;
  if (pid <= 0 || proc_stat(pid, &state, &st) < 0)
    return 0;
  return state != 'Z' && state != 'X' && (start == 0 || st == start);
}

void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

int wait_gone(pid_t pid, unsigned long long start, int ms)
{
  for (int waited = 0; is_alive(pid, start); waited += 5) {
    if (waited > ms)
      return -1;
    sleep_ms(5);
  }
  return 0;
}

/* Unlinks the files of a state dir (ctc's own and the monitor's); 1 if the dir is gone. */
static int empty_state_dir(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? 1 : -errno;
  char path[4200];
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_type == DT_DIR)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (unlink(path) < 0 && errno != ENOENT) {
      int err = errno;
      closedir(d);
      return -err;
    }
  }
  closedir(d);
  return 0;
}

/*
 * state.ts removeStateDir: never recursive. A monitor whose init just died
 * may still write `exit` (a temp file, then a rename) through the dir fd it
 * holds, after the dir was emptied: rmdir then finds it, so the dir is
 * emptied again. A monitor adds at most its temp file, then `exit` (the
 * rename): the passes outlast it. Once the dir is gone, a late write fails
 * (a removed dir takes no new names).
 */
#define STATE_DIR_PASSES 4
int remove_state_dir(const char *dir)
{
  char path[4200];
  for (int pass = 0;; pass++) {
    int r = empty_state_dir(dir);
    if (r)
      return r < 0 ? r : 0;
    snprintf(path, sizeof path, "%s/rootfs", dir);
    if (rmdir(path) < 0 && errno != ENOENT)
      return -errno;
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != ENOTEMPTY || pass == STATE_DIR_PASSES - 1)
      return -errno;
  }
}

/* ---- the journal ---- */

static void undo_line(struct buf *b, const struct undo *u)
{
  switch (u->kind) {
  case UNDO_STATE:
    buf_fmt(b, "{\"undo\":\"state.remove\",\"step\":%u,\"dir\":", u->step);
    buf_json(b, u->path);
    break;
  case UNDO_CGROUP:
    buf_fmt(b, "{\"undo\":\"cgroup.remove\",\"step\":%u,\"path\":", u->step);
    buf_json(b, u->path);
    if (u->nparents) {
      buf_str(b, ",\"parents\":[");
      for (size_t k = 0; k < u->nparents; k++) {
        if (k)
          buf_str(b, ",");
        buf_json(b, u->parents[k]);
      }
      buf_str(b, "]");
    }
    break;
  case UNDO_KILL:
    buf_fmt(b, "{\"undo\":\"init.kill\",\"step\":%u,\"pid\":%d,\"startTime\":%llu", u->step, (int)u->pid, u->start);
    break;
  }
  buf_str(b, "}\n");
}

static int journal_write(struct journal *j, const struct undo *u)
{
  struct buf b = {0};
  undo_line(&b, u);
  /* no fsync, as journal.ts: what it undoes does not outlive the machine either */
  int r = write(j->fd, b.p, b.len) == (ssize_t)b.len ? 0 : -EIO;
  buf_free(&b);
  return r;
}

int journal_record(struct journal *j, struct undo u)
{
  struct undo *grown = realloc(j->e, sizeof *j->e * (j->n + 1));
  if (!grown)
    return -ENOMEM;
  j->e = grown;
  j->e[j->n++] = u;
  return j->fd >= 0 ? journal_write(j, &u) : 0;
}

int journal_attach(struct journal *j, const char *state_dir, const char *plan, size_t plan_len)
{
  char path[4200], header[JOURNAL_HEADER_SIZE];
  snprintf(path, sizeof path, "%s/journal", state_dir);
  /* root's alone: the check refuses a journal others may write */
  j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (j->fd < 0)
    return -errno;
  /* the first line names the plan, which the check holds every entry to */
  journal_header(plan, plan_len, header);
  if (write(j->fd, header, strlen(header)) != (ssize_t)strlen(header))
    return -EIO;
  for (size_t k = 0; k < j->n; k++)
    if (journal_write(j, &j->e[k]) < 0)
      return -EIO;
  return 0;
}

int journal_read(const char *root, const char *id, struct journal *j)
{
  *j = (struct journal){.fd = -1};
  char *text, *why;
  /* the lines the check allows (journal-check.c), never the file read again */
  if (journal_check(root, id, &text, &why) < 0) {
    free(why);
    return -1; /* the CLI runs the same check, and says what is wrong */
  }
  int r = 0;
  for (char *line = strtok(text, "\n"); line && !r; line = strtok(NULL, "\n")) {
    char kind[64], value[4096];
    long long step = 0, n = 0;
    struct undo u = {0};
    if (json_field(line, "undo", kind, sizeof kind) < 0 || json_long(line, "step", &step) < 0) {
      r = -1;
      break;
    }
    u.step = (unsigned)step;
    if (!strcmp(kind, "state.remove") && !json_field(line, "dir", value, sizeof value)) {
      u.kind = UNDO_STATE, u.path = strdup(value);
    } else if (!strcmp(kind, "cgroup.remove") && !json_field(line, "path", value, sizeof value)) {
      u.kind = UNDO_CGROUP, u.path = strdup(value);
      long np = json_strings(line, "parents", &u.parents);
      if (np < 0)
        r = -1;
      u.nparents = np < 0 ? 0 : (size_t)np;
    } else if (!strcmp(kind, "init.kill") && !json_long(line, "pid", &n) && !json_long(line, "startTime", &step)) {
      u.kind = UNDO_KILL, u.pid = (pid_t)n, u.start = (unsigned long long)step;
    } else if (!strcmp(kind, "cgroup.restore")) {
      continue; /* a container being removed takes its limits with it */
    } else {
      r = -1;
      break;
    }
    if (!r)
      r = journal_record(j, u);
  }
  free(text);
  return r;
}

/* undo.ts's killInit: SIGKILL if that pid is still the init; a frozen init is thawed so it can die. */
static int kill_init(const struct journal *j, const struct undo *u)
{
  if (!is_alive(u->pid, u->start))
    return 0;
  if (kill(u->pid, SIGKILL) < 0 && errno != ESRCH)
    return -errno;
  if (wait_gone(u->pid, u->start, 200) == 0)
    return 0;
  for (size_t k = 0; k < j->n; k++)
    if (j->e[k].kind == UNDO_CGROUP)
      cg_thaw(j->e[k].path);
  return wait_gone(u->pid, u->start, 5000);
}

int undo_all(struct journal *j)
{
  int failed = 0;
  for (size_t k = j->n; k-- > 0;) {
    const struct undo *u = &j->e[k];
    int r = 0;
    switch (u->kind) {
    case UNDO_KILL: r = kill_init(j, u); break;
    case UNDO_CGROUP:
      cg_thaw(u->path);
      r = cg_remove(u->path);
      for (size_t p = u->nparents; p-- > 0;)
        cg_remove_if_empty(u->parents[p]);
      break;
    case UNDO_STATE: r = remove_state_dir(u->path); break;
    }
    if (r < 0) {
      dprintf(STDERR_FILENO, "ctc: undo of step %u: %s\n", u->step, strerror(-r));
      failed = 1;
    }
  }
  j->n = 0;
  return failed ? -1 : 0;
}
