/*
 * ctc-init: the native half of the executor.
 *
 * Spawned by the executor with the container's stdio on fds 0-2 and the
 * control socket on fd 3. It reads one PROGRAM (see wire.h for the format
 * and the ladder of messages), validates all of it, then clones the
 * container's init ("I") into the new namespaces and stays behind as the
 * monitor ("M"), which reports I's pid and, at the end, its exit status.
 *
 * I (init.c) waits for GO, runs the init ops in program order (one
 * function per op, each returning 0 or -errno), acknowledges each one and
 * finally execs the container's process. Nothing here decides policy: the
 * program says exactly what to do. program.h lists the files of I's ops;
 * M's own ops (detach, join, the terminal proxy, the log) are in monitor.c,
 * pty.c and log.c; ctc-init.h lists what the rest of the files share.
 *
 * main() is here: the one-shot modes, and before the program, a sealed
 * memfd copy of the binary to run from (sealed-self.c, CVE-2019-5736) and
 * no fd the caller leaked surviving the container's execve (CVE-2024-21626).
 *
 * Build (scripts/build.mjs): cc -O2 -g -Wall -Wextra -Werror -std=gnu11
 * -static -o dist/ctc-init native/init/[every .c file] native/[the shared .c files] -lnettle
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../journal-check.h"
#include "ctc-init.h"
#include "program.h"

/* ---- M: the monitor ------------------------------------------------------ */

/* The monitor ops in their fixed order (wire.h), whatever the program's. */
static int prepare(const struct program *prog, struct monitor *m)
{
  const struct op *o;
  int r = 0;
  if ((o = prog->detach))
    r = m_detach(o->a[0].p, o->a[1].u, m);
  if (!r && (o = prog->log))
    r = m_log(o->a[0].p, o->a[1].u, m); /* needs the probe's answer */
  if (!r && (o = prog->console))
    r = op_console_connect(o->a[0].p); /* I inherits console_fd */
  if (!r && (o = prog->join))
    r = m_join(o->a[0].u, o->a[1].u, NULL, NULL);
  if (!r && prog->proxy)
    r = m_console_proxy(m);
  return r;
}

/*
 * CVE-2024-21626: an fd the caller leaked to us (anything but 0-3) must not
 * reach the container, and a detached monitor must not hold the caller's
 * fds for the container's whole life: they are closed at once. ctc has no
 * --preserve-fds. Kernels before 5.9 lack close_range: walk /proc/self/fd.
 */
static int close_from(int first)
{
  if (close_range(first, ~0U, 0) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -errno;
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -errno;
  for (struct dirent *e; (e = readdir(d));) {
    int fd = atoi(e->d_name);
    if (fd >= first && fd != dirfd(d))
      close(fd);
  }
  closedir(d);
  return 0;
}

int main(int argc, char **argv)
{
  /* One-shot modes: they run on the host, never inside a container. */
  if (argc == 3 && strcmp(argv[1], "device-filter") == 0)
    return device_filter_main(argv[2]);
  if (argc >= 2 && strcmp(argv[1], "net") == 0)
    return net_main(argc - 2, argv + 2);
  if (argc == 8 && strcmp(argv[1], "idmap-mount") == 0)
    return idmap_mount_main(argv + 1); /* runs on the host, never inside a container */
  if (argc >= 2 && strcmp(argv[1], "hook") == 0)
    return hook_main(argc - 2, argv + 2); /* joins a container's namespaces for one hook, then exits */
  if (argc >= 2 && strcmp(argv[1], "sandbox") == 0)
    return sandbox_main(argc - 2, argv + 2); /* runs a project's code where it can only compute */
  if (argc == 4 && strcmp(argv[1], "journal-check") == 0)
    return journal_check_main(argv[2], argv[3]); /* a journal read from disk, checked before delete acts on it */
  /* Before anything else, and while fd 3 still survives an exec: from here
   * on this process runs from a sealed memfd, not the host's binary. */
  int r = seal_self(argv);
  if (r < 0) {
    dprintf(STDERR_FILENO, "ctc-init: cannot run from a sealed copy of itself: %s\n", strerror(-r));
    return 2;
  }
  if ((r = close_from(CTL_FD + 1)) < 0) {
    dprintf(STDERR_FILENO, "ctc-init: closing inherited fds: %s\n", strerror(-r));
    return 2;
  }
  if (fcntl(CTL_FD, F_SETFD, FD_CLOEXEC) < 0) {
    dprintf(STDERR_FILENO, "ctc-init: fd 3: %m\n");
    return 2;
  }
  /* The executor forwards signals to the container itself; a Ctrl-C meant
   * for the container must not take the monitor (and the exit status) away.
   * SIGPIPE: a gone executor (or reader of M's stdout) is an EPIPE, not death. */
  const int ignored[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
  for (size_t k = 0; k < sizeof ignored / sizeof *ignored; k++)
    signal(ignored[k], SIG_IGN);

  struct program prog = {0}; /* the monitor op slots start empty */
  read_program(&prog);

  const struct ctc_wire_header *h = &prog.h;
  struct monitor m = MONITOR_INIT;
  /* A fail_step on the spawn step fails before the monitor ops, too. */
  r = h->fail_step && h->fail_step == h->spawn_step ? -EIO : prepare(&prog, &m);
  uint32_t at = h->spawn_step;
  /* The user namespace first: M's own, so the namespaces the clone makes
   * are owned by it (M keeps only what it holds open: fd 3, the exit dir).
   * Then the pid namespace of M's children: I is born in it. */
  if (!r && prog.user_join && (r = op_setns(prog.user_join->a[0].p, CLONE_NEWUSER)) < 0)
    at = prog.user_join->step;
  if (!r && prog.pid_join && (r = op_setns(prog.pid_join->a[0].p, CLONE_NEWPID)) < 0)
    at = prog.pid_join->step;
  long pid = -1;
  if (!r) {
    /* fork-like: no new stack, the child returns here; we are single-threaded. */
    pid = syscall(SYS_clone, (unsigned long)h->clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0)
      r = -errno;
  }
  if (r < 0) {
    send_msg(CTC_MSG_ERR, at, -r, 0);
    send_msg(CTC_MSG_EXIT, 0, 1, 0);
    return 1;
  }
  if (pid == 0)
    init_main(&prog, m_leave(&m));
  console_drop(); /* I's now (CTC_OP_M_CONSOLE_CONNECT) */
  return m_run(&m, pid, h->spawn_step);
}
