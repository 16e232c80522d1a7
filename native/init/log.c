/*
 * log.c: a detached container's log (CTC_OP_M_LOG, wire.h).
 *
 * I's stdout and stderr are pipes; whoever holds their read ends (M when it
 * stays, else a writer process M forks before the clone) turns what arrives
 * into records of CRI's log format, one line each:
 *
 *     2026-12-07T16:00:55.123456789Z stdout F the line's text
 *
 * the time the line was read (RFC 3339, UTC, nanoseconds), the stream, F
 * for a whole line (its newline dropped) or P for a part (a line longer
 * than LOG_CHUNK, or text the stream ended without a newline; no newline
 * is added when reading it back). Before a record would take the file past
 * its cap, the file is renamed to <name>.1 (replacing the older one) and a
 * new one started, so the log never holds more than two caps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctc-init.h"

#define LOG_CHUNK 16384

struct stream {
  int fd;
  const char *name;
  size_t n;
  char buf[LOG_CHUNK];
};

/* RFC 3339 in UTC with nanoseconds, as CRI writes it. */
static void stamp(char *out, size_t len)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t k = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + k, len - k, ".%09ldZ", ts.tv_nsec);
}

/*
 * The file to <name>.1, a new one in its place: made under a temporary name
 * first, so a failure leaves the old one where it was. Where that cannot be
 * done (M joined a user namespace by path and the host's state dir is no
 * longer its to write, or the dir was removed under a late writer) the
 * file starts over instead: the cap holds either way.
 */
static void rotate(struct ctr_log *l)
{
  char older[NAME_MAX + 3], next[NAME_MAX + 6];
  snprintf(older, sizeof older, "%s.1", l->name);
  snprintf(next, sizeof next, "%s.new", l->name);
  int fd = openat(l->dir, next, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0 && renameat(l->dir, l->name, l->dir, older) == 0 && renameat(l->dir, next, l->dir, l->name) == 0) {
    close(l->fd);
    l->fd = fd;
    l->size = 0;
    return;
  }
  if (fd >= 0) {
    close(fd);
    unlinkat(l->dir, next, 0);
  }
  if (ftruncate(l->fd, 0) == 0) {
    l->size = 0;
  } else {
    close(l->fd);
    l->fd = -1;
  }
}

static void record(struct ctr_log *l, const struct stream *s, const char *text, size_t len, char tag)
{
  char head[96], t[48];
  stamp(t, sizeof t);
  int hlen = snprintf(head, sizeof head, "%s %s %c ", t, s->name, tag);
  uint64_t total = (uint64_t)hlen + len + 1;
  if (l->fd >= 0 && l->size && l->size + total > l->cap)
    rotate(l);
  if (l->fd < 0)
    return;
  struct iovec v[] = {{head, (size_t)hlen}, {(char *)text, len}, {"\n", 1}};
  ssize_t n = writev(l->fd, v, 3); /* a full disk loses lines, never blocks the container */
  if (n > 0)
    l->size += (uint64_t)n;
}

/* The whole lines in the stream's buffer become records; a buffer full of
 * one line is written as a part. */
static void split(struct ctr_log *l, struct stream *s)
{
  char *p = s->buf, *end = s->buf + s->n, *nl;
  while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
    record(l, s, p, (size_t)(nl - p), 'F');
    p = nl + 1;
  }
  size_t rest = (size_t)(end - p);
  if (rest == sizeof s->buf) {
    record(l, s, p, rest, 'P');
    rest = 0;
  }
  memmove(s->buf, p, rest);
  s->n = rest;
}

/* The stream is done: the rest of its last line, as a part. */
static void finish(struct ctr_log *l, struct stream *s)
{
  if (s->n)
    record(l, s, s->buf, s->n, 'P');
  s->n = 0;
  close(s->fd);
  s->fd = -1;
}

/* One read: 1 if bytes came, 0 at EOF or on an error (the stream is
 * finished), -1 if there was nothing to read now. */
static int pump(struct ctr_log *l, struct stream *s)
{
  ssize_t n = read(s->fd, s->buf + s->n, sizeof s->buf - s->n);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return -1;
  if (n <= 0) {
    finish(l, s);
    return 0;
  }
  s->n += (size_t)n;
  split(l, s);
  return 1;
}

/* What is left in the pipes once I is gone; a process I left behind that
 * still holds them (no pid namespace) is not waited for. */
static void drain(struct ctr_log *l, struct stream *s)
{
  if (s->fd < 0)
    return;
  fcntl(s->fd, F_SETFL, O_NONBLOCK);
  while (pump(l, s) > 0)
    ;
  if (s->fd >= 0)
    finish(l, s);
}

int log_run(struct ctr_log *l, pid_t pid, int sigfd)
{
  static struct stream s[2];
  s[0] = (struct stream){.fd = l->in[0], .name = "stdout"};
  s[1] = (struct stream){.fd = l->in[1], .name = "stderr"};
  l->in[0] = l->in[1] = -1;
  int status = -1, reaped = pid <= 0;
  while (s[0].fd >= 0 || s[1].fd >= 0) {
    if (reaped && pid > 0) { /* I is gone: what is in the pipes, then stop */
      drain(l, &s[0]);
      drain(l, &s[1]);
      break;
    }
    struct pollfd p[3];
    int n = 0, at[2] = {-1, -1}, sig = -1;
    for (int k = 0; k < 2; k++)
      if (s[k].fd >= 0)
        at[k] = n, p[n++] = (struct pollfd){.fd = s[k].fd, .events = POLLIN};
    if (!reaped && sigfd >= 0)
      sig = n, p[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int k = 0; k < 2; k++)
      if (at[k] >= 0 && p[at[k]].revents)
        pump(l, &s[k]);
    if (sig >= 0 && p[sig].revents) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof si) < 0 && errno != EAGAIN && errno != EINTR)
        sigfd = -1; /* then the wait below */
      if (waitpid(pid, &status, WNOHANG) == pid)
        reaped = 1;
    }
  }
  for (int k = 0; k < 2; k++)
    if (s[k].fd >= 0)
      close(s[k].fd);
  if (pid > 0 && !reaped) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
  }
  return status;
}

/* Closes every fd but the (up to 4) given, which need not be sorted. */
static void close_all_but(int *keep, int n)
{
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (keep[j] < keep[i]) {
        int t = keep[i];
        keep[i] = keep[j], keep[j] = t;
      }
  int from = 3;
  for (int i = 0; i < n; i++) {
    if (keep[i] > from)
      close_range((unsigned)from, (unsigned)keep[i] - 1, 0);
    from = keep[i] + 1 > from ? keep[i] + 1 : from;
  }
  close_range((unsigned)from, ~0U, 0);
}

/* The caller reaps I and M goes at once: a process of its own keeps the log. */
static int fork_writer(struct monitor *m)
{
  pid_t child = fork();
  if (child < 0)
    return -errno;
  if (child == 0) {
    for (int fd = 0; fd < 3; fd++) /* nothing of the caller's: it may read its stdio to EOF */
      dup2(m->devnull, fd);
    close(m->log_w[0]), close(m->log_w[1]); /* else the pipes never end */
    int keep[] = {m->log.dir, m->log.fd, m->log.in[0], m->log.in[1]};
    close_all_but(keep, 4);
    prctl(PR_SET_NAME, "ctc-log", 0, 0, 0);
    if (chdir("/") < 0) /* pin no mount */
      _exit(1);
    log_run(&m->log, 0, -1);
    _exit(0);
  }
  const int mine[] = {m->log.in[0], m->log.in[1], m->log.fd, m->log.dir};
  for (size_t k = 0; k < 4; k++)
    close(mine[k]);
  m->log.in[0] = m->log.in[1] = m->log.fd = m->log.dir = -1;
  return 0;
}

int m_log(const char *path, uint64_t cap, struct monitor *m)
{
  const char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  char dir[PATH_MAX] = ".";
  if (!m->detach || !cap || !*name || strlen(name) > NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
    return -EINVAL;
  if (slash) {
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= sizeof dir)
      return -ENAMETOOLONG;
    memcpy(dir, path, len);
    dir[len] = 0;
  }
  m->log.name = name;
  m->log.cap = cap;
  /* Before M_JOIN: after setns(mnt) this path is the container's. */
  if ((m->log.dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return -errno;
  m->log.fd = openat(m->log.dir, name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  struct stat st;
  if (m->log.fd < 0 || fstat(m->log.fd, &st) < 0)
    return -errno;
  m->log.size = (uint64_t)st.st_size;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0)
    return -errno;
  m->log.in[0] = out[0], m->log_w[0] = out[1];
  if (pipe2(err, O_CLOEXEC) < 0)
    return -errno;
  m->log.in[1] = err[0], m->log_w[1] = err[1];
  if (m->caller_reaps)
    return fork_writer(m);
  /* M stays and writes: it learns of I's end from a signalfd, as the
   * console proxy does (blocked now, so an early SIGCHLD is kept). */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, &m->saved_mask) < 0)
    return -errno;
  m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  return m->sigfd < 0 ? -errno : 0;
}

/* I's fds 1 and 2 are the log's pipes (set by log_leave). */
static int stdio_logged;

void log_chown(uid_t uid, gid_t gid)
{
  /* Best effort, as runc's: in a user namespace that does not map the pipes'
   * owner (the host's root) the kernel refuses, and the process keeps
   * writing through the fds it has; only reopening them is denied. */
  for (int fd = 1; stdio_logged && fd <= 2; fd++)
    if (fchown(fd, uid, gid) < 0)
      continue;
}

void log_leave(const struct monitor *m)
{
  if (m->log_w[0] < 0)
    return;
  stdio_logged = 1;
  /* I: stdin from /dev/null, stdout and stderr into the pipes (dup2 clears CLOEXEC) */
  dup2(m->devnull, 0);
  dup2(m->log_w[0], 1);
  dup2(m->log_w[1], 2);
  const int fds[] = {m->log_w[0], m->log_w[1], m->log.in[0], m->log.in[1], m->log.fd, m->log.dir};
  for (size_t k = 0; k < sizeof fds / sizeof *fds; k++)
    if (fds[k] > 2)
      close(fds[k]);
}
