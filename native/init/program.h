/*
 * program.h: what the files that run a PROGRAM (wire.h) share: the
 * program as read_program decoded it, the messages back, the root that
 * "in root" paths resolve beneath, and each op as run_op calls it (one
 * function per op, 0 or -errno). ctc-init.h has what the rest of ctc-init
 * (the monitor, terminals, the one-shot modes) shares.
 *
 *   program.c      fd 3: the program read and checked whole; the messages
 *   paths.c        paths in root: the root fd, mkdir -p, mount targets
 *   ops-mount.c    the root and mounts, masked and read-only paths, the pivot
 *   ops-ns.c       namespaces, host and domain names, the network inside
 *   ops-process.c  death signal, user, cwd, rlimits, umask, the exec
 *   security.c     capabilities, no_new_privs, seccomp, LSM label; procfs writes
 *   lifecycle.c    create/start (the fifo) and the terminal
 *   init.c         I: GO by GO, each op in order
 *   main.c         main: the modes, the sealed copy, M's ops, the clone
 */
#ifndef CTC_INIT_PROGRAM_H
#define CTC_INIT_PROGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../wire.h"

#define CTL_FD 3
#define MAX_ARGS 6

/* Monitor ops are M's, done before the clone (wire.h); I skips them. */
#define IS_MONITOR_OP(code) ((code) >= CTC_OP_M_JOIN)

struct arg {
  const char *p; /* points into the program body */
  uint32_t len;
  uint64_t u; /* the value of a U64 */
};

struct op {
  uint16_t code;
  uint32_t step;
  struct arg a[MAX_ARGS];
};

struct program {
  struct ctc_wire_header h;
  char *body; /* kept for the life of the process: the args point into it */
  struct op *ops;
  /* the monitor ops, if present (at most one of each) */
  const struct op *join, *detach, *proxy, *console, *log;
  /* CTC_OP_SETNS of a user, of a pid namespace: M's, before the clone, in
   * that order (the clone's namespaces are then the joined user namespace's) */
  const struct op *user_join, *pid_join;
  const struct op *exec; /* the CTC_OP_EXEC, if any (at most one) */
};

/* ---- program.c ---- */

/* The program on fd 3, checked whole; a malformed one exits 2 (a bug in the executor). */
void read_program(struct program *prog);
/* 0 when all len bytes were read; -1 on EOF or error. */
int read_full(int fd, void *buf, size_t len);
/* For I: one message; if the executor cannot hear it, I exits (until executor_may_go). */
void report(uint32_t type, uint32_t step, int32_t value);
/* After MSG_WAITING: `ctc create` has returned and its executor may be gone;
 * the container must start (or fail) on its own from here. */
void executor_may_go(void);

/* ---- paths.c: the root "in root" paths resolve beneath (in_root, ctc-init.h) ---- */

int root_fd(void);
/* The host path the root was mounted at (CTC_OP_ROOTFS, for the pivot), or NULL. */
const char *root_path(void);
/* fd (an O_PATH directory, taken over) is the root from now on, mounted at dir (or NULL). */
void root_use(int fd, const char *dir);
/* root_use of path opened now (after a mount: the mount's root); 0 or -errno. */
int root_open(const char *path, const char *dir);
/* mkdir -p of the first len bytes of an in-root path; an O_PATH fd of the last dir, or -errno. */
int mkdir_p(const char *path, size_t len);
/* The parent directory of an in-root path (created as needed); *name is the last component. */
int open_parent(const char *path, const char **name);
/* An O_PATH fd on an in-root mount target, created if missing (a dir, or an empty file). */
int mount_target(const char *path, int is_dir);
/* mount(2) onto what fd refers to (its /proc/self/fd link); 0 or -errno. */
int mount_on(int fd, const char *src, const char *fstype, unsigned long flags, const char *data);
/* mount(2) onto dst opened now: the root of the mount on it (remounts, propagation). */
int mount_in_root(const char *dst, const char *src, const char *fstype, unsigned long flags, const char *data);

/* ---- ops-mount.c ---- */

/* Right after the clone, still host root's uid: the lower dirs the mounts will need. */
void open_lowers(const struct op *ops, size_t n);
/* 0 if the cwd is beneath the root, else -EXDEV (CVE-2024-21626). */
int cwd_in_root(void);
int op_propagation(const char *path, uint64_t flags);
int op_rootfs(const char *dir, uint64_t kind);
int op_rootfs_overlay(const char *dir, const char *lower);
int op_symlink(const char *target, const char *path);
int op_mirror(const char *host, const char *dst);
int op_mount(const char *src, const char *dst, const char *fstype, uint64_t flags, const char *data, uint64_t prop);
int op_mknod(const char *path, uint64_t mode, uint64_t dev, uint64_t uid, uint64_t gid);
int op_write_file(const char *path, uint64_t mode, const char *data, size_t len);
int op_mkdir(const char *path, uint64_t mode);
int op_pivot(void);
int op_move_root(void);
int op_mask(const char *path);
int op_readonly(const char *path);

/* ---- ops-ns.c ---- */

int op_unshare(uint64_t flags);
/* Also M's, before the clone: a user, then a pid namespace joined by path. */
int op_setns(const char *path, uint64_t nstype);
int op_hostname(const char *name);
int op_domainname(const char *name);
int op_link_up(const char *ifname);
int op_net_addr(const char *ifname, uint64_t family, const char *addr, size_t len, uint64_t prefix);
int op_net_route(uint64_t family, const struct arg *dst, uint64_t dst_len, const struct arg *gateway, const struct arg *prefsrc,
                 const char *ifname);

/* ---- ops-process.c ---- */

/* I, first: the ops' modes are exact (umask 0); the umask comes back just before execve. */
void hold_umask(void);
/* 0 if the program's CTC_OP_EXEC would find its command, else -errno (ENOENT, EACCES). */
int exec_findable(const struct op *o);
int op_umask(uint64_t mask);
int op_pdeathsig(uint64_t sig);
int op_user(uint64_t uid, uint64_t gid, const char *groups, size_t len, uint64_t keepcaps);
int op_user_name(const char *name, uint64_t keepcaps);
int op_rlimit(uint64_t resource, uint64_t soft, uint64_t hard);
int op_chdir(const char *dir);
int op_exec(uint32_t step, const char *argp, size_t argl, const char *envp, size_t envl);

/* ---- security.c ---- */

int op_caps_bounding(uint64_t keep);
int op_caps(uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb);
int op_no_new_privs(void);
int op_sysctl(const char *key, const char *value);
int op_lsm_exec(const char *attr, const char *value);
int op_seccomp(uint64_t flags, const char *program, size_t len);

/* ---- lifecycle.c ---- */

/* I, first: what its lifecycle ops need of the program, and its end of M's console channel (or -1). */
void lifecycle_begin(const struct program *prog, int chan);
/* M, after the clone: the console socket (CTC_OP_M_CONSOLE_CONNECT) is I's now. */
void console_drop(void);
int op_fifo_open(const char *path);
int op_wait_start(uint32_t step);
/* Also M's (CTC_OP_M_CONSOLE_CONNECT, before the clone: I inherits the socket). */
int op_console_connect(const char *path);
int op_pty(uint64_t rows, uint64_t cols);

/* ---- init.c ---- */

/* I, right after the clone: runs the program's init ops GO by GO, then execs. */
__attribute__((noreturn)) void init_main(const struct program *prog, int console_chan);

#endif
