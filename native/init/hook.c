/*
 * hook.c: `ctc-init hook PID PATH ARGV0 [ARG...]`, a one-shot mode of
 * ctc-init for the OCI hooks that run in the container's namespaces
 * (createContainer, startContainer). It joins every namespace of PID that
 * differs from its own (the user namespace first, so the others' owner
 * grants the right to join them; the mount namespace last, since it moves
 * the root and cwd to that namespace's "/"), becomes root of a joined user
 * namespace, then forks (a joined PID namespace holds only children) and
 * execs PATH with the argv given and ctc-init's own environment and stdio:
 * the executor sets both to the hook's.
 *
 * Exit status: the hook's, 128+N if signal N killed it, or 125 with a line
 * on stderr ("ctc-init: hook: <what>: <strerror>") if it could not be
 * started. The hook dies with ctc-init (PR_SET_PDEATHSIG): a timeout that
 * kills ctc-init kills it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../wire.h"
#include "ctc-init.h"

#define HOOK_FAILED 125

extern char **environ;

static int hook_fail(const char *what)
{
  dprintf(STDERR_FILENO, "ctc-init: hook: %s: %s\n", what, strerror(errno));
  return HOOK_FAILED;
}

/* The namespaces as `exec` joins them (monitor.c), then root of a joined user namespace. */
static int join_all(const char *pid)
{
  char *end;
  errno = 0;
  unsigned long long n = strtoull(pid, &end, 10);
  if (errno || end == pid || *end) {
    errno = EINVAL;
    return hook_fail(pid);
  }
  uint64_t joined;
  const char *failed = "namespaces";
  int r = m_join(n, CTC_NS_ALL, &joined, &failed);
  if (r < 0) {
    errno = -r;
    return hook_fail(failed);
  }
  if (!(joined & CLONE_NEWUSER))
    return 0;
  /* root of the joined user namespace: the mapped host root, not an unmapped id */
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
    return hook_fail("becoming root of the user namespace");
  setgroups(0, NULL); /* EPERM where setgroups is denied: then there are none to drop */
  return 0;
}

int hook_main(int argc, char **argv)
{
  if (argc < 3) {
    errno = EINVAL;
    return hook_fail("usage: hook PID PATH ARGV0 [ARG...]");
  }
  pid_t parent = getpid();
  int r = join_all(argv[0]);
  if (r)
    return r;
  pid_t child = fork();
  if (child < 0)
    return hook_fail("fork");
  if (child == 0) {
    /* the parent is 0 to a child in a joined PID namespace; anything else: it died already */
    int armed = prctl(PR_SET_PDEATHSIG, SIGKILL) == 0;
    pid_t ppid = getppid();
    if (!armed || (ppid != parent && ppid != 0)) {
      dprintf(STDERR_FILENO, "ctc-init: hook: ctc-init ended before the hook started\n");
      _exit(HOOK_FAILED);
    }
    execve(argv[1], argv + 2, environ);
    _exit(hook_fail(argv[1]));
  }
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      return hook_fail("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
