/*
 * ctc-init.h: what the files of ctc-init share. Not a wire format (that is
 * wire.h); just the few functions one file calls in another.
 *
 *   main.c      main; the program and I's ops are the files program.h lists
 *   monitor.c   M: the monitor ops (detach, join, console channel), the wait
 *   pty.c       terminals: the console socket, CTC_OP_PTY, M's console proxy
 *   log.c       a detached container's log (CTC_OP_M_LOG): its pipes, the writer
 *   device-filter.c  cgroup v2 device rules as an eBPF program (a one-shot mode)
 *   net-host.c       bridges and veth pairs on the host (a one-shot mode)
 *   netlink.c        the rtnetlink encoder (netlink.h), for net-host.c and I's net ops
 *   sealed-self.c    running from a sealed memfd copy of the binary (CVE-2019-5736)
 *   sandbox.c        a project's code (a .ct.ts evaluation) confined (a one-shot mode)
 *   hook.c           an OCI hook in a container's namespaces (a one-shot mode)
 *   idmap-mount.c    the host's part of an idmapped bind (a one-shot mode)
 *   ../journal-check.c  a journal held to its plan before delete acts on it (a one-shot
 *                    mode, also linked into the launcher); strict-json.c its reader
 */
#ifndef CTC_INIT_H
#define CTC_INIT_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#define autoclose __attribute__((cleanup(closep)))

static inline void closep(int *fd)
{
  if (*fd >= 0)
    close(*fd);
}

/* paths.c: open a path beneath the current root (RESOLVE_IN_ROOT); fd or -errno. */
int in_root(const char *path, int flags, mode_t mode);
/* program.c: one message on fd 3; 0, or -1 if it could not be sent. */
int send_msg(uint32_t type, uint32_t step, int32_t value, uint32_t pid);

/* CTC_OP_M_LOG: where I's stdout and stderr are written (log.c). */
struct ctr_log {
  int dir;          /* O_PATH, opened before any setns */
  const char *name; /* the log's name in dir; rotated to <name>.1 */
  int fd;           /* the log, O_APPEND */
  uint64_t size, cap;
  int in[2]; /* the read ends: I's stdout, stderr */
};

/* What M set up before the clone; I closes its parts of it. */
struct monitor {
  /* CTC_OP_M_DETACH */
  int detach;
  int exit_dir;          /* O_PATH, opened before any setns */
  const char *exit_name; /* the exit file's name in exit_dir */
  int devnull;           /* the host's, for M's stdio when it stays */
  int caller_reaps;      /* the probe's answer: MSG_DETACHED's value */
  /* CTC_OP_M_CONSOLE_PROXY */
  int chan[2]; /* [0] M's end, [1] I's end */
  int sigfd;   /* SIGCHLD and SIGWINCH, blocked in M */
  sigset_t saved_mask;
  /* CTC_OP_M_LOG (the sigfd above is then for SIGCHLD alone) */
  struct ctr_log log;
  int log_w[2]; /* the write ends, I's fds 1 and 2 */
};

#define MONITOR_INIT                                                                                                             \
  {                                                                                                                              \
    .exit_dir = -1, .devnull = -1, .chan = {-1, -1}, .sigfd = -1, .log = {.dir = -1, .fd = -1, .in = {-1, -1}}, .log_w = {       \
      -1,                                                                                                                        \
      -1                                                                                                                         \
    }                                                                                                                            \
  }

/* monitor.c, in M before the clone: the monitor ops. 0 or -errno. */
int m_detach(const char *exit_file, uint64_t caller_pid, struct monitor *m);
/* Joins every namespace of pid, of the kinds in ns_flags, that is not ours
 * (st_dev/st_ino differ): what the process is in, whether ctc made it or it
 * was joined by path. User first, mnt last. *joined (if not NULL) gets the
 * kinds joined, *failed (if not NULL) the name of the one that failed.
 * Shared by `exec` (CTC_OP_M_JOIN) and `hook`. */
int m_join(uint64_t pid, uint64_t ns_flags, uint64_t *joined, const char **failed);
int m_console_proxy(struct monitor *m);
/* monitor.c, in I right after the clone: close M's fds, restore the signal
 * mask; returns I's end of the console channel, or -1. */
int m_leave(const struct monitor *m);
/* monitor.c, in M after the clone: MSG_PID to MSG_EXIT; M's exit code. */
int m_run(struct monitor *m, pid_t pid, uint32_t spawn_step);

/* log.c, in M before the clone (after m_detach, before any join): open the
 * log, make I's pipes, and if the caller reaps I fork the process that will
 * write the log. 0 or -errno. */
int m_log(const char *path, uint64_t cap, struct monitor *m);
/* log.c, in I right after the clone: stdin /dev/null, stdout and stderr the pipes. */
void log_leave(const struct monitor *m);
/* log.c, in I before it becomes the process's user: the log's pipes become
 * that user's, so it can reopen /dev/stdout and /dev/stderr as with a
 * terminal or a file (runc does the same for the stdio it is given). */
void log_chown(uid_t uid, gid_t gid);
/* log.c: writes the log until both pipes end; with pid > 0 (M staying), until
 * I (whose SIGCHLD sigfd reports) is gone and the pipes are drained. I's wait
 * status, or -1 (pid 0, or it could not be had). */
int log_run(struct ctr_log *l, pid_t pid, int sigfd);

/* pty.c, in I: connect to a console socket (a host path); the fd or -errno. */
int pty_connect(const char *path);
/* pty.c, in I: CTC_OP_PTY; the master goes to sock with SCM_RIGHTS. With
 * console set, the peer is also bound onto the root's /dev/console. 0 or -errno. */
int pty_open(uint64_t rows, uint64_t cols, int sock, int console);
/* pty.c, in M: CTC_OP_M_CONSOLE_PROXY after MSG_PID, until I (pid) is gone
 * and the master drained. chan is M's end of the console channel, sigfd a
 * signalfd for SIGCHLD and SIGWINCH. Returns I's wait status, or -1 if it
 * could not be had. */
int pty_proxy(int chan, int sigfd, pid_t pid);

/* device-filter.c: the `device-filter CGROUP_DIR` mode; the exit status. */
int device_filter_main(const char *cgroup_dir);
/* device-filter.c, also in the launcher: load and attach len bytes of
 * instructions to the cgroup dir. 0, or the errno (reported on stderr). */
int device_filter_attach(const char *cgroup_dir, const void *insns, size_t len);

/* net-host.c: the `net OP ARGS...` mode (argv[0] is OP); the exit status. */
int net_main(int argc, char **argv);

/* sandbox.c: `ctc-init sandbox [OPTION...] -- PROGRAM [ARG...]`, a project's code confined */
int sandbox_main(int argc, char **argv);

/* hook.c: `ctc-init hook PID PATH ARGV0 [ARG...]`, an OCI hook run in PID's namespaces */
int hook_main(int argc, char **argv);

/* idmap-mount.c: `ctc-init idmap-mount PID ROOT SRC DST ATTRS RECURSIVE` (argv[0] is
 * "idmap-mount"); the exit status: 0 or the errno. */
int idmap_mount_main(char **argv);

/* sealed-self.c, first thing in main: unless /proc/self/exe is a sealed
 * memfd already, copy the binary into one, seal it and execve it with argv
 * and the same environment and fds. Returns 0 when already sealed (and the
 * process is named "ctc-init"), else -errno (the exec failed). */
int seal_self(char **argv);

#endif
