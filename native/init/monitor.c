/*
 * monitor.c: M, the monitor half of ctc-init (see wire.h).
 *
 * Before the clone M performs the monitor ops, in one fixed order: it
 * prepares to detach (CTC_OP_M_DETACH: the exit file's directory, and the
 * subreaper probe), joins another container's namespaces (CTC_OP_M_JOIN,
 * for `ctc exec`) and sets up the console channel (CTC_OP_M_CONSOLE_PROXY);
 * a detached container's log (CTC_OP_M_LOG) is log.c's. After it, m_run
 * reports I's pid and then either detaches, or waits for I (proxying the
 * terminal or writing the log meanwhile) and reports how it ended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../wire.h"
#include "ctc-init.h"

/* ---- before the clone ------------------------------------------------------ */

/*
 * Would the caller adopt I if M exited now? Ask the kernel rather than
 * guess: orphan a grandchild and see who adopts it (the nearest ancestor
 * that is a child subreaper, else the pid namespace's init). 1, 0 or -errno.
 * Runs before any setns: a child born in the container's pid namespace
 * would be adopted by the container's init instead.
 */
static int probe_subreaper(pid_t caller)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -errno;
  pid_t child = fork();
  if (child < 0) {
    int err = errno;
    close(p[0]);
    close(p[1]);
    return -err;
  }
  if (child == 0) {
    /* Hold nothing of E's (stdio, fd 3): E's caller may read them to EOF.
     * The name tells the orphan apart from a ctc-init, should its adopter
     * be slow to reap it. */
    int w = p[1];
    close_range(0, w - 1, 0);
    close_range(w + 1, ~0U, 0);
    prctl(PR_SET_NAME, "ctc-init-probe", 0, 0, 0);
    pid_t parent = getpid();
    pid_t orphan = fork();
    if (orphan == 0) {
      /* Re-parenting happens as the parent exits; give it up to ~1 s. */
      struct timespec ms = {0, 1000000};
      for (int k = 0; k < 1000 && getppid() == parent; k++)
        nanosleep(&ms, NULL);
      char answer = getppid() == caller ? '1' : '0';
      ssize_t n = write(w, &answer, 1);
      _exit(n != 1);
    }
    _exit(orphan < 0);
  }
  close(p[1]);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
    ;
  char answer;
  ssize_t n;
  do
    n = read(p[0], &answer, 1); /* EOF when the orphan could not be forked */
  while (n < 0 && errno == EINTR);
  close(p[0]);
  return n == 1 ? answer == '1' : -EAGAIN;
}

int m_detach(const char *path, uint64_t caller, struct monitor *m)
{
  const char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || caller > INT_MAX)
    return -EINVAL;
  char dir[PATH_MAX] = ".";
  if (slash) {
    size_t len = slash == path ? 1 : (size_t)(slash - path); /* "/x": the dir is "/" */
    if (len >= sizeof dir)
      return -ENAMETOOLONG;
    memcpy(dir, path, len);
    dir[len] = 0;
  }
  /* Both before M_JOIN: after setns(mnt) these names are the container's. */
  m->exit_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (m->exit_dir < 0)
    return -errno;
  m->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (m->devnull < 0)
    return -errno;
  m->exit_name = name;
  m->detach = 1;
  int r = caller ? probe_subreaper(caller) : 0; /* 0: no caller to hand I to */
  if (r < 0)
    return r;
  m->caller_reaps = r;
  return 0;
}

/* The join order is a table: user first, as it grants the capabilities the
 * other joins need (they are checked in the namespaces' owning user
 * namespace); mnt last, as it moves the root and cwd into the container. */
static const struct {
  int flag;
  const char *name;
} join_order[] = {
    {CLONE_NEWUSER, "user"}, {CLONE_NEWUTS, "uts"},       {CLONE_NEWIPC, "ipc"},   {CLONE_NEWNET, "net"},
    {CLONE_NEWPID, "pid"},   {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"}, {CLONE_NEWNS, "mnt"},
};
#define NJOIN (sizeof join_order / sizeof *join_order)

/* Opens pid's namespace of kind k if it is not ours: 1 (its fd in *fd), else
 * *fd = -1 and 0 (shared, or a kernel without time namespaces) or -errno. */
static int open_if_other(int pid, size_t k, int *fd)
{
  char theirs[64], ours[64];
  snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", pid, join_order[k].name);
  snprintf(ours, sizeof ours, "/proc/self/ns/%s", join_order[k].name);
  struct stat a, b;
  *fd = open(theirs, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return errno == ENOENT && join_order[k].flag == CLONE_NEWTIME ? 0 : -errno;
  int r = fstat(*fd, &a) < 0 || stat(ours, &b) < 0 ? -errno : a.st_dev != b.st_dev || a.st_ino != b.st_ino;
  if (r <= 0) { /* shared already (setns into one's own user ns is EINVAL), or failed */
    close(*fd);
    *fd = -1;
  }
  return r;
}

int m_join(uint64_t pid, uint64_t flags, uint64_t *joined, const char **failed)
{
  uint64_t known = 0;
  for (size_t k = 0; k < NJOIN; k++)
    known |= join_order[k].flag;
  if (joined)
    *joined = 0;
  if (flags & ~known || !pid || pid > INT_MAX)
    return -EINVAL;
  int fds[NJOIN], r = 0;
  /* All opened first: inside the target's pid or mount namespace,
   * /proc/<pid> names another process, or none. */
  for (size_t k = 0; k < NJOIN; k++) {
    fds[k] = -1;
    if (r || !(flags & join_order[k].flag))
      continue;
    int other = open_if_other((int)pid, k, &fds[k]);
    if (other < 0 && failed)
      *failed = join_order[k].name;
    r = other < 0 ? other : 0;
  }
  for (size_t k = 0; k < NJOIN && !r; k++) {
    if (fds[k] < 0)
      continue;
    if (setns(fds[k], join_order[k].flag) < 0) {
      r = -errno;
      if (failed)
        *failed = join_order[k].name;
    } else if (joined) {
      *joined |= join_order[k].flag;
    }
  }
  for (size_t k = 0; k < NJOIN; k++)
    if (fds[k] >= 0)
      close(fds[k]);
  return r;
}

int m_console_proxy(struct monitor *m)
{
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, m->chan) < 0)
    return -errno;
  /* Blocked before the clone, so a quick I's SIGCHLD waits in the signalfd
   * instead of being discarded; I restores the mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGWINCH);
  if (sigprocmask(SIG_BLOCK, &set, &m->saved_mask) < 0)
    return -errno;
  m->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
  return m->sigfd < 0 ? -errno : 0;
}

/* M's fds are host objects the container has no business holding. */
int m_leave(const struct monitor *m)
{
  log_leave(m); /* before devnull goes */
  const int fds[] = {m->exit_dir, m->devnull, m->chan[0], m->sigfd};
  for (size_t k = 0; k < sizeof fds / sizeof *fds; k++)
    if (fds[k] >= 0)
      close(fds[k]);
  if (m->sigfd >= 0)
    sigprocmask(SIG_SETMASK, &m->saved_mask, NULL);
  return m->chan[1];
}

/* Best effort: nobody is left to tell if it fails (M's stderr is /dev/null). */
static void write_exit_file(const struct monitor *m, int code)
{
  char tmp[32], text[16];
  snprintf(tmp, sizeof tmp, ".ctc-exit.%d", (int)getpid());
  int len = snprintf(text, sizeof text, "%d\n", code);
  int fd = openat(m->exit_dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  0600); /* a state file: 0600, as state.ts's */
  if (fd < 0)
    return;
  int ok = write(fd, text, len) == len;
  close(fd);
  /* rename: a reader sees no file or the whole status, never a part */
  if (!ok || renameat(m->exit_dir, tmp, m->exit_dir, m->exit_name) < 0)
    unlinkat(m->exit_dir, tmp, 0);
}

/* ---- after the clone ------------------------------------------------------ */

static int wait_for(pid_t pid)
{
  int status;
  pid_t r;
  do
    r = waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : status;
}

int m_run(struct monitor *m, pid_t pid, uint32_t spawn_step)
{
  if (m->chan[1] >= 0)
    close(m->chan[1]);
  for (int k = 0; k < 2; k++) /* I's ends: held here, the pipes would never end */
    if (m->log_w[k] >= 0)
      close(m->log_w[k]);
  /* If the executor is gone this fails, and I sees EOF on fd 3 and exits.
   * From here on M's writes are best effort. */
  send_msg(CTC_MSG_PID, spawn_step, 0, pid);
  if (m->detach) {
    send_msg(CTC_MSG_DETACHED, spawn_step, m->caller_reaps, 0);
    if (m->caller_reaps)
      return 0; /* I is re-parented to the caller, which reaps it */
    /* Staying: hold none of E's stdio, which E's caller may read to EOF. */
    for (int fd = 0; fd < 3; fd++)
      dup2(m->devnull, fd);
  }
  int status = m->log.in[0] >= 0 ? log_run(&m->log, pid, m->sigfd)
               : m->sigfd >= 0   ? pty_proxy(m->chan[0], m->sigfd, pid)
                                 : wait_for(pid);
  int code = status < 0 ? 1 : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  if (m->detach)
    write_exit_file(m, code);
  send_msg(CTC_MSG_EXIT, 0, code, pid);
  return code;
}
