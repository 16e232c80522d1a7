/*
 * ctc-init: the native half of the executor.
 *
 * Spawned by the executor with the container's stdio on fds 0-2 and the
 * control socket on fd 3. It reads one PROGRAM (see wire.h for the format
 * and the ladder of messages), validates all of it, then clones the
 * container's init ("I") into the new namespaces and stays behind as the
 * monitor ("M"), which reports I's pid and, at the end, its exit status.
 *
 * I waits for GO, runs the init ops in program order (one function per op
 * below, each returning 0 or -errno), acknowledges each one and finally
 * execs the container's process. Nothing here decides policy: the program
 * says exactly what to do. Paths "in root" are resolved beneath the current
 * root directory fd with openat2(RESOLVE_IN_ROOT), never joined as strings,
 * so a symlink in an image cannot point a mount at the host.
 *
 * M's own ops (detach, join, the terminal proxy) are in monitor.c and
 * pty.c; ctc-init.h lists what the files share.
 *
 * Before all that, main() makes sure this process runs from a sealed memfd
 * copy of the binary (sealed-self.c, CVE-2019-5736) and that no fd the
 * caller leaked survives the container's execve (CVE-2024-21626).
 *
 * Build (scripts/build.mjs): cc -O2 -g -Wall -Wextra -Werror -std=gnu11
 * -static -o dist/ctc-init native/init/[every .c file] native/[the shared .c files] -lnettle
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctc-init.h"
#include "../journal-check.h"
#include "netlink.h"
#include "../wire.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0 /* linux/magic.h */
#endif
#define PROC_ROOT_INO 1 /* the root directory of every procfs instance */

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format is little-endian");
_Static_assert(sizeof(struct ctc_wire_header) == 32, "header layout");
_Static_assert(sizeof(struct ctc_wire_op_header) == 12, "op header layout");
_Static_assert(sizeof(struct ctc_wire_msg) == 16, "message layout");
_Static_assert(sizeof(struct ctc_wire_cmd) == 8, "command layout");

#define CTL_FD 3
#define MAX_ARGS 6
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- the program ------------------------------------------------------- */

/*
 * Argument kinds per op, one letter per argument: S = STR, U = U64,
 * B = BLOB, L = LIST. This table is the whole of the per-op validation.
 */
static const char *const op_args[] = {
    [CTC_OP_UNSHARE] = "U",       [CTC_OP_PROPAGATION] = "SU", [CTC_OP_LINK_UP] = "S",
    [CTC_OP_ROOTFS] = "SU",       [CTC_OP_MIRROR] = "SS",      [CTC_OP_MOUNT] = "SSSUSU",
    [CTC_OP_MKNOD] = "SUUUU",     [CTC_OP_SYMLINK] = "SS",     [CTC_OP_WRITE_FILE] = "SUB",
    [CTC_OP_MKDIR] = "SU",        [CTC_OP_PIVOT] = "",         [CTC_OP_HOSTNAME] = "S",
    [CTC_OP_USER] = "UUBU",       [CTC_OP_CHDIR] = "S",        [CTC_OP_EXEC] = "LL",
    [CTC_OP_CAPS_BOUNDING] = "U", [CTC_OP_CAPS] = "UUUU",      [CTC_OP_RLIMIT] = "UUU",
    [CTC_OP_NO_NEW_PRIVS] = "",   [CTC_OP_UMASK] = "U",        [CTC_OP_MASK] = "S",
    [CTC_OP_READONLY] = "S",      [CTC_OP_DOMAINNAME] = "S",   [CTC_OP_FIFO_OPEN] = "S",
    [CTC_OP_WAIT_START] = "",     [CTC_OP_CONSOLE_CONNECT] = "S", [CTC_OP_PTY] = "UU",
    [CTC_OP_M_JOIN] = "UU",       [CTC_OP_M_DETACH] = "SU",    [CTC_OP_M_CONSOLE_PROXY] = "",
    [CTC_OP_MOVE_ROOT] = "",      [CTC_OP_PDEATHSIG] = "U",    [CTC_OP_M_CONSOLE_CONNECT] = "S",
    [CTC_OP_SYSCTL] = "SS",       [CTC_OP_USER_NAME] = "SU",   [CTC_OP_LSM_EXEC] = "SS",
    [CTC_OP_SECCOMP] = "UB",      [CTC_OP_NET_ADDR] = "SUBU",  [CTC_OP_NET_ROUTE] = "UBUBBS",
    [CTC_OP_SETNS] = "SU",        [CTC_OP_ROOTFS_OVERLAY] = "SS",
};

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
  const struct op *join, *detach, *proxy, *console;
  /* CTC_OP_SETNS of a user, of a pid namespace: M's, before the clone, in
   * that order (the clone's namespaces are then the joined user namespace's) */
  const struct op *user_join, *pid_join;
};

/* The program's CTC_OP_EXEC (at most one), whose command CTC_OP_WAIT_START looks up. */
static const struct op *exec_op;

/* A malformed program is a bug in the executor, not a user error. */
__attribute__((noreturn, format(printf, 1, 2))) static void bad(const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "ctc-init: bad program: %s\n", msg);
  exit(2);
}

/* 0 when all len bytes were read; -1 on EOF or error. */
static int read_full(int fd, void *buf, size_t len)
{
  for (size_t got = 0; got < len;) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    got += n;
  }
  return 0;
}

/*
 * A LIST (wire.h): its count, then exactly that many NUL-terminated strings.
 * Counting the NULs is what tells a string holding a NUL (two strings to
 * execve) from two strings. On success a's bytes are the strings alone.
 */
static int list_ok(struct arg *a)
{
  uint32_t count, nuls = 0;
  if (a->len < 4)
    return 0;
  memcpy(&count, a->p, 4);
  const char *p = a->p + 4;
  uint32_t len = a->len - 4;
  if (len && p[len - 1])
    return 0;
  for (uint32_t k = 0; k < len; k++)
    nuls += !p[k];
  if (nuls != count)
    return 0;
  a->p = p, a->len = len, a->u = count;
  return 1;
}

static size_t parse_op(const char *body, size_t size, size_t off, uint32_t i, struct op *o)
{
  struct ctc_wire_op_header oh;
  if (size - off < sizeof oh)
    bad("op %u: truncated header", i);
  memcpy(&oh, body + off, sizeof oh);
  if (oh.len < sizeof oh || oh.len > size - off)
    bad("op %u: record length %u", i, oh.len);
  const char *sig = oh.op < sizeof op_args / sizeof *op_args ? op_args[oh.op] : NULL;
  if (!sig)
    bad("op %u (step %u): unknown op %u", i, oh.step, oh.op);
  if (oh.nargs != strlen(sig))
    bad("op %u (step %u): op %u takes %zu args, not %u", i, oh.step, oh.op, strlen(sig), oh.nargs);

  o->code = oh.op;
  o->step = oh.step;
  const char *p = body + off + sizeof oh, *end = body + off + oh.len;
  for (size_t k = 0; sig[k]; k++) {
    struct arg *a = &o->a[k];
    if (end - p < 4)
      bad("op %u (step %u): arg %zu: truncated", i, oh.step, k);
    memcpy(&a->len, p, 4);
    p += 4;
    if (a->len > (size_t)(end - p))
      bad("op %u (step %u): arg %zu: length %u past the record", i, oh.step, k, a->len);
    a->p = p;
    p += a->len;
    switch (sig[k]) {
    case 'S': /* exactly one NUL, at the end */
      if (a->len == 0 || memchr(a->p, 0, a->len) != a->p + a->len - 1)
        bad("op %u (step %u): arg %zu: not a STR", i, oh.step, k);
      break;
    case 'U':
      if (a->len != 8)
        bad("op %u (step %u): arg %zu: U64 of %u bytes", i, oh.step, k, a->len);
      memcpy(&a->u, a->p, 8);
      break;
    case 'L':
      if (!list_ok(a))
        bad("op %u (step %u): arg %zu: not a LIST of its count (a NUL inside a string?)", i, oh.step, k);
      break;
    }
  }
  if (p != end)
    bad("op %u (step %u): %td bytes after the last arg", i, oh.step, end - p);
  return off + oh.len;
}

static void read_program(struct program *prog)
{
  struct ctc_wire_header *h = &prog->h;
  if (read_full(CTL_FD, h, sizeof *h) < 0)
    bad("short header");
  if (h->magic != CTC_WIRE_MAGIC)
    bad("magic %#x", h->magic);
  if (h->version != CTC_WIRE_VERSION)
    bad("version %u", h->version);
  if (h->reserved)
    bad("reserved field %#x", h->reserved);
  if (h->body_len > CTC_WIRE_MAX_PROGRAM - sizeof *h)
    bad("body_len %u over the limit", h->body_len);
  if (h->nops > h->body_len / sizeof(struct ctc_wire_op_header))
    bad("nops %u does not fit in body_len %u", h->nops, h->body_len);
  /* The low byte of clone(2)'s flags is the exit signal (CLONE_NEWTIME lives
   * there too and can only be had through CTC_OP_UNSHARE). */
  if (h->clone_flags & CSIGNAL)
    bad("clone_flags %#x has bits in CSIGNAL", h->clone_flags);

  prog->body = malloc(h->body_len + 1);
  prog->ops = calloc(h->nops + 1, sizeof *prog->ops);
  if (!prog->body || !prog->ops)
    bad("out of memory");
  if (read_full(CTL_FD, prog->body, h->body_len) < 0)
    bad("short body");

  size_t off = 0;
  const struct op *first_init = NULL;
  uint32_t second_step = 0; /* the step of the first init op after the first init step */
  for (uint32_t i = 0; i < h->nops; i++) {
    struct op *o = &prog->ops[i];
    off = parse_op(prog->body, h->body_len, off, i, o);
    /* GO(until) runs a prefix of the program, so steps must not go back. */
    if (i && o->step < prog->ops[i - 1].step)
      bad("op %u: step %u after step %u", i, o->step, prog->ops[i - 1].step);
    first_init = first_init || IS_MONITOR_OP(o->code) ? first_init : o;
    if (o->code == CTC_OP_SETNS && o->a[1].u == CLONE_NEWUSER) {
      if (prog->user_join || o->step != first_init->step)
        bad("op %u: a user namespace joined twice, or after the first init op", i);
      prog->user_join = o;
    }
    if (first_init && !IS_MONITOR_OP(o->code) && o->step != first_init->step && !second_step)
      second_step = o->step;
    if (o->code == CTC_OP_SETNS && o->a[1].u == CLONE_NEWPID) {
      /* the first init step, or the one right after the user join's */
      int after_user = prog->user_join && o->step == second_step;
      if (prog->pid_join || (o->step != first_init->step && !after_user))
        bad("op %u: a pid namespace joined twice, or not first (after a user namespace's)", i);
      prog->pid_join = o;
    }
    if (o->code == CTC_OP_EXEC)
      exec_op = o;
    if (!IS_MONITOR_OP(o->code))
      continue;
    if (i && !IS_MONITOR_OP(prog->ops[i - 1].code))
      bad("op %u: monitor op %u after an init op", i, o->code);
    if (o->step != h->spawn_step)
      bad("op %u: monitor op %u at step %u, not the spawn step %u", i, o->code, o->step,
          h->spawn_step);
    const struct op **slot = o->code == CTC_OP_M_JOIN              ? &prog->join
                             : o->code == CTC_OP_M_DETACH          ? &prog->detach
                             : o->code == CTC_OP_M_CONSOLE_CONNECT ? &prog->console
                                                                   : &prog->proxy;
    if (*slot)
      bad("op %u: monitor op %u given twice", i, o->code);
    *slot = o;
  }
  if (off != h->body_len)
    bad("%zu bytes after the last op", h->body_len - off);
  if (prog->detach && prog->proxy)
    bad("CTC_OP_M_DETACH and CTC_OP_M_CONSOLE_PROXY together");
  if (prog->console && prog->proxy)
    bad("CTC_OP_M_CONSOLE_CONNECT and CTC_OP_M_CONSOLE_PROXY together");
}

/* ---- messages ------------------------------------------------------------ */

int send_msg(uint32_t type, uint32_t step, int32_t value, uint32_t pid)
{
  struct ctc_wire_msg m = {.type = type, .step = step, .value = value, .pid = pid};
  ssize_t n;
  do
    n = send(CTL_FD, &m, sizeof m, MSG_NOSIGNAL); /* a gone executor is EPIPE, not a signal */
  while (n < 0 && errno == EINTR);
  return n == sizeof m ? 0 : -1;
}

/* Set by I after MSG_WAITING: `ctc create` has returned, its executor may be gone. */
static int executor_may_be_gone;

/* For I: if the executor cannot hear us, nothing may go on unsupervised,
 * until the executor has handed the container over (CTC_OP_WAIT_START). */
static void report(uint32_t type, uint32_t step, int32_t value)
{
  if (send_msg(type, step, value, 0) < 0 && !executor_may_be_gone)
    _exit(1);
}

/* ---- paths in root ------------------------------------------------------- */

static int rootfd = -1;      /* the current root, for "in root" paths */
static const char *root_dir; /* host path of CTC_OP_ROOTFS, for CTC_OP_PIVOT */
static mode_t exec_umask;    /* the container's process gets it (CTC_OP_UMASK) */

int in_root(const char *path, int flags, mode_t mode)
{
  struct open_how how = {
      .flags = flags | O_CLOEXEC,
      .mode = mode,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  while (*path == '/')
    path++;
  if (!*path)
    path = ".";
  long fd;
  int tries = 0;
  /* RESOLVE_IN_ROOT answers EAGAIN if a rename or mount raced a ".." walk. */
  do
    fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN && ++tries < 16);
  return fd < 0 ? -errno : (int)fd;
}

/* Symlinks followed by hand beneath the root (dangling ones), at most: the kernel's own limit. */
#define MAX_LINKS 40

/*
 * The in-root path that a dangling symlink stands for: name (in dir, and
 * the component after the first prefix_len bytes of path) replaced by its
 * target, then rest. An absolute target starts again from the root (in_root
 * reads "/x" as beneath the root), a relative one from the link's own
 * directory (the prefix), as the kernel would resolve it. The length, or
 * -errno; EEXIST when name is not a symlink after all.
 */
static int relink(int dir, const char *name, const char *path, size_t prefix_len, const char *rest,
                  size_t rest_len, char *out, size_t size)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat(dir, name, target, sizeof target - 1);
  if (n < 0)
    return errno == EINVAL ? -EEXIST : -errno;
  target[n] = 0;
  int m = target[0] == '/'
              ? snprintf(out, size, "%s%.*s", target, (int)rest_len, rest)
              : snprintf(out, size, "%.*s%s%.*s", (int)prefix_len, path, target, (int)rest_len, rest);
  return m < 0 || (size_t)m >= size ? -ENAMETOOLONG : m;
}

/*
 * mkdir -p of the first len bytes of an in-root path; an O_PATH fd of the
 * last dir. Each prefix is resolved in root, and only a single name is ever
 * created, with mkdirat in the directory fd its prefix resolved to, so
 * nothing made here lands outside the root, whatever symlinks the image
 * holds (runc's CVE-2021-30465 was mount targets reached through them). A
 * dangling symlink on the way (an image's `data -> /srv/data`) is followed
 * as the kernel would beneath the root: its target is created there, as
 * `mkdir -p` in a chroot would.
 */
static int mkdir_p_links(const char *path, size_t len, int links)
{
  char buf[PATH_MAX];
  if (len >= sizeof buf)
    return -ENAMETOOLONG;
  memcpy(buf, path, len);
  buf[len] = 0;
  int dir = in_root(".", O_PATH | O_DIRECTORY, 0);
  for (size_t i = 0, j; dir >= 0 && i < len; i = j) {
    for (; i < len && buf[i] == '/'; i++)
      ;
    for (j = i; j < len && buf[j] != '/'; j++)
      ;
    if (i == j)
      break;
    buf[j] = 0;
    const char *name = buf + i;
    int fd = in_root(buf, O_PATH | O_DIRECTORY, 0);
    /* "." and ".." always resolve (".." stops at the root): never made. */
    if (fd == -ENOENT && strcmp(name, ".") && strcmp(name, "..")) {
      /* dir is the resolved prefix and name has no '/', so this cannot escape. */
      if (mkdirat(dir, name, 0755) == 0)
        fd = in_root(buf, O_PATH | O_DIRECTORY, 0);
      else if (errno != EEXIST)
        fd = -errno;
      else if ((fd = in_root(buf, O_PATH | O_DIRECTORY, 0)) == -ENOENT) {
        /* There, but leading nowhere: a dangling symlink. */
        char next[PATH_MAX];
        int n = links >= MAX_LINKS ? -ELOOP
                                   : relink(dir, name, path, i, path + j, len - j, next, sizeof next);
        close(dir);
        return n < 0 ? n : mkdir_p_links(next, (size_t)n, links + 1);
      }
    }
    close(dir);
    dir = fd;
    if (j < len)
      buf[j] = '/';
  }
  return dir;
}

static int mkdir_p(const char *path, size_t len)
{
  return mkdir_p_links(path, len, 0);
}

/* The parent directory of an in-root path (created as needed); *name is the last component. */
static int open_parent(const char *path, const char **name)
{
  const char *slash = strrchr(path, '/');
  *name = slash ? slash + 1 : path;
  if (!**name)
    return -EINVAL;
  return mkdir_p(path, *name - path);
}

static int mount_target_links(const char *path, int is_dir, int links)
{
  int fd = in_root(path, O_PATH, 0);
  if (fd != -ENOENT)
    return fd;
  if (is_dir)
    return mkdir_p(path, strlen(path));
  const char *name;
  autoclose int dir = open_parent(path, &name);
  if (dir < 0)
    return dir;
  /* O_EXCL: a symlink in the way is not followed (EEXIST). */
  autoclose int f = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (f < 0 && errno != EEXIST)
    return -errno;
  fd = in_root(path, O_PATH, 0);
  if (fd != -ENOENT || f >= 0)
    return fd;
  /* A dangling symlink to the file: make the file it names, in root. */
  char next[PATH_MAX];
  int n = links >= MAX_LINKS ? -ELOOP
                             : relink(dir, name, path, (size_t)(name - path), "", 0, next, sizeof next);
  return n < 0 ? n : mount_target_links(next, 0, links + 1);
}

/* An O_PATH fd on an in-root mount target, created if missing: a 0755
 * directory, or an empty 0644 file to bind a non-directory onto. */
static int mount_target(const char *path, int is_dir)
{
  return mount_target_links(path, is_dir, 0);
}

/*
 * mount(2) onto what fd refers to, through its /proc/self/fd magic link, so
 * the target is the object we resolved in root and not a path looked up
 * again. Before CTC_OP_PIVOT that is the host's /proc (still mounted in our
 * copy of the mount namespace; "self" resolves to our pid as the host sees
 * it); after it, the container's /proc, which must be mounted by then.
 */
static int mount_on(int fd, const char *src, const char *fstype, unsigned long flags,
                    const char *data)
{
  char target[32];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  return mount(src, target, fstype, flags, data) < 0 ? -errno : 0;
}

/* For remounts and propagation: open dst only now, so the fd is the root of
 * the mount on it (the kernel acts only on a mount's root). */
static int mount_in_root(const char *dst, const char *src, const char *fstype,
                         unsigned long flags, const char *data)
{
  autoclose int fd = in_root(dst, O_PATH, 0);
  return fd < 0 ? fd : mount_on(fd, src, fstype, flags, data);
}

/* ---- `ctc-init idmap-mount`: the host's part of an idmapped bind --------- */

/*
 * ctc-init idmap-mount PID ROOT SRC DST ATTRS RECURSIVE: bind SRC at DST
 * beneath ROOT (a host path, as the init's mount namespace has it) in the
 * mount namespace of PID, through the mapping of PID's user namespace
 * (MOUNT_ATTR_IDMAP) plus ATTRS (MOUNT_ATTR_RDONLY, NOSUID, NODEV, NOEXEC
 * bits). Only a process privileged over the source's filesystem (the host's
 * root) may idmap it, so the executor does this, not the init. DST is
 * resolved in root and created as for CTC_OP_MOUNT. Exit status: 0 or the
 * errno, with a line on stderr.
 */
static int idmap_fail(const char *what)
{
  int err = errno ? errno : EINVAL;
  dprintf(STDERR_FILENO, "ctc-init: idmap-mount: %s: %s\n", what, strerror(err));
  return err;
}

static int idmap_mount_main(char **argv)
{
  char path[64];
  unsigned long attrs = strtoul(argv[5], NULL, 10), recursive = strtoul(argv[6], NULL, 10);
  snprintf(path, sizeof path, "/proc/%s/ns/user", argv[1]);
  autoclose int userns = open(path, O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof path, "/proc/%s/ns/mnt", argv[1]);
  autoclose int mntns = open(path, O_RDONLY | O_CLOEXEC);
  if (userns < 0 || mntns < 0)
    return idmap_fail("the init's namespaces");
  if (setns(mntns, CLONE_NEWNS) < 0)
    return idmap_fail("setns into the init's mount namespace");
  unsigned rec = recursive ? AT_RECURSIVE : 0;
  autoclose int tree = open_tree(AT_FDCWD, argv[3], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
  if (tree < 0)
    return idmap_fail(argv[3]);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | attrs, .userns_fd = (uint64_t)userns};
  if (mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0)
    return idmap_fail("mount_setattr");
  if ((rootfd = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return idmap_fail(argv[2]);
  struct stat st, root;
  if (fstat(tree, &st) < 0 || fstat(rootfd, &root) < 0)
    return idmap_fail(argv[3]);
  /* A missing target is made as the root's owner (root inside): host root is
   * no id in the container's user namespace, and its tmpfs refuses it (EOVERFLOW). */
  setfsgid(root.st_gid);
  setfsuid(root.st_uid);
  int target = mount_target(argv[4], S_ISDIR(st.st_mode));
  if (target < 0) {
    errno = -target;
    return idmap_fail(argv[4]);
  }
  int r = move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  close(target);
  return r < 0 ? idmap_fail("move_mount") : 0;
}

/* ---- the ops, in wire.h order -------------------------------------------- */

static int op_unshare(uint64_t flags)
{
  if (unshare(flags) < 0)
    return -errno;
  /* A new mount namespace has its own copy of the root mount; the old fd
   * would point back into the old namespace. */
  if (flags & CLONE_NEWNS) {
    int fd = open(root_dir ? root_dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return -errno;
    close(rootfd);
    rootfd = fd;
  }
  return 0;
}

static int op_propagation(const char *path, uint64_t flags)
{
  return mount(NULL, path, NULL, flags, NULL) < 0 ? -errno : 0;
}

static int op_link_up(const char *ifname)
{
  struct ifreq ifr = {0};
  if (strlen(ifname) >= sizeof ifr.ifr_name)
    return -EINVAL;
  strcpy(ifr.ifr_name, ifname);
  autoclose int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    return -errno;
  ifr.ifr_flags |= IFF_UP;
  return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

/* dir, just mounted, is the root for later "in root" paths and the pivot. */
static int set_root(const char *dir)
{
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC); /* after the mount: its root */
  if (fd < 0)
    return -errno;
  close(rootfd);
  rootfd = fd;
  root_dir = dir;
  return 0;
}

static int bind_root_early(const char *dir);

static int op_rootfs(const char *dir, uint64_t kind)
{
  int r;
  if (kind == 0) {
    r = mount(dir, dir, NULL, MS_BIND | MS_REC, NULL); /* pivot_root needs a mount point */
    if (r < 0 && errno == EACCES)
      return bind_root_early(dir); /* a read-only image root, in the cache: see open_lowers */
  } else if (kind == 1)
    r = mount("tmpfs", dir, "tmpfs", 0, "mode=0755");
  else
    return -EINVAL;
  return r < 0 ? -errno : set_root(dir);
}

/*
 * The image cache is root's alone (0700, executor/unpack.ts): once a
 * user-namespaced init is root of its namespace (user.root) it is an
 * unprivileged host uid that cannot pass through it. Right after the clone
 * it still has host root's uid (the owner of the cache), so it opens each
 * overlay's lower dir (and each bound root: a read-only image) then, and
 * mounts it through that fd later.
 */
static struct {
  const char *path;
  int fd;
} lowers[4];

static void open_lowers(const struct op *ops, size_t n)
{
  size_t k = 0;
  for (size_t i = 0; i < n && k < sizeof lowers / sizeof *lowers; i++)
    if (ops[i].code == CTC_OP_ROOTFS_OVERLAY || (ops[i].code == CTC_OP_ROOTFS && ops[i].a[1].u == 0)) {
      const char *dir = ops[i].code == CTC_OP_ROOTFS ? ops[i].a[0].p : ops[i].a[1].p;
      int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) /* else the mount says why */
        lowers[k].path = dir, lowers[k++].fd = fd;
    }
}

static const char *lower_name(const char *lower, char *buf, size_t size, int *fd)
{
  for (size_t k = 0; k < sizeof lowers / sizeof *lowers; k++)
    if (lowers[k].path && !strcmp(lowers[k].path, lower)) {
      *fd = lowers[k].fd, lowers[k].path = NULL;
      snprintf(buf, size, "/proc/self/fd/%d", *fd);
      return buf;
    }
  return lower;
}

/* The bind of a root the init can no longer reach by its path: a clone of
 * the tree opened at the clone, moved onto itself; the new mount's root is
 * then reached through that fd, not the path (enter_root_dir). */
static int bind_root_early(const char *dir)
{
  char unused[64];
  autoclose int at = -1;
  lower_name(dir, unused, sizeof unused, &at);
  if (at < 0)
    return -EACCES;
  int tree = open_tree(at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  if (tree < 0)
    return -errno;
  if (move_mount(tree, "", at, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    int e = -errno;
    close(tree);
    return e;
  }
  close(rootfd);
  rootfd = tree;
  root_dir = dir;
  return 0;
}

/* The lower dir as the overlay mount names it: the fd opened at the clone, if any (closed after). */
static int op_rootfs_overlay(const char *dir, const char *lower)
{
  static char root[PATH_MAX], data[3 * PATH_MAX + 64];
  char via_fd[64];
  if (strpbrk(dir, ",:") || strpbrk(lower, ",:"))
    return -EINVAL;
  if (snprintf(root, sizeof root, "%s/root", dir) >= (int)sizeof root)
    return -ENAMETOOLONG;
  autoclose int lower_fd = -1;
  snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower_name(lower, via_fd, sizeof via_fd, &lower_fd), dir, dir);
  if (mount("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0)
    return -errno;
  autoclose int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (d < 0)
    return -errno;
  static const char *const parts[] = {"upper", "work", "root"};
  for (size_t k = 0; k < 3; k++)
    if (mkdirat(d, parts[k], 0755) < 0)
      return -errno;
  if (mount("overlay", root, "overlay", 0, data) < 0)
    return -errno;
  return set_root(root);
}

static int op_symlink(const char *target, const char *path)
{
  const char *name;
  autoclose int dir = open_parent(path, &name);
  if (dir < 0)
    return dir;
  return symlinkat(target, dir, name) < 0 ? -errno : 0;
}

/* Keep what the source mount forbids when binding it read-only: dropping a
 * locked nosuid/nodev/noexec in a user namespace is EPERM, and outside one
 * it would widen the mount. */
static unsigned long locked_flags(const struct statvfs *vfs)
{
  return (vfs->f_flag & ST_NOSUID ? MS_NOSUID : 0) | (vfs->f_flag & ST_NODEV ? MS_NODEV : 0) |
         (vfs->f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
}

static int op_mirror(const char *host, const char *dst)
{
  struct stat st;
  if (lstat(host, &st) < 0)
    return errno == ENOENT ? 0 : -errno;
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(host, target, sizeof target - 1);
    if (n < 0)
      return -errno;
    target[n] = 0;
    return op_symlink(target, dst);
  }
  struct statvfs vfs;
  if (statvfs(host, &vfs) < 0)
    return -errno;
  unsigned long keep = locked_flags(&vfs);
  autoclose int fd = mount_target(dst, S_ISDIR(st.st_mode));
  if (fd < 0)
    return fd;
  int r = mount_on(fd, host, NULL, MS_BIND | MS_REC, NULL);
  if (r < 0)
    return r;
  return mount_in_root(dst, NULL, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL);
}

/* Per-mount flags that a bind mount ignores and only a bind remount applies. */
#define BIND_REMOUNT_FLAGS                                                                         \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |       \
   MS_STRICTATIME)

static int op_mount(const char *src, const char *dst, const char *fstype, uint64_t flags,
                    const char *data, uint64_t prop)
{
  /* An empty STR stands for NULL. */
  src = *src ? src : NULL;
  fstype = *fstype ? fstype : NULL;
  data = *data ? data : NULL;
  int r;
  if (flags & MS_REMOUNT) {
    r = mount_in_root(dst, src, fstype, flags, data);
  } else {
    int is_dir = 1;
    struct stat st;
    if (flags & MS_BIND) {
      if (!src)
        return -EINVAL;
      if (stat(src, &st) < 0)
        return -errno;
      is_dir = S_ISDIR(st.st_mode);
    }
    autoclose int fd = mount_target(dst, is_dir);
    if (fd < 0)
      return fd;
    r = mount_on(fd, src, fstype, flags & MS_BIND ? flags & ~MS_RDONLY : flags, data);
    if (!r && (flags & MS_BIND) && (flags & BIND_REMOUNT_FLAGS))
      r = mount_in_root(dst, NULL, NULL, MS_REMOUNT | MS_BIND | (flags & BIND_REMOUNT_FLAGS), NULL);
  }
  if (!r && prop)
    r = mount_in_root(dst, NULL, NULL, prop, NULL);
  return r;
}

static int op_mknod(const char *path, uint64_t mode, uint64_t dev, uint64_t uid, uint64_t gid)
{
  const char *name;
  autoclose int dir = open_parent(path, &name);
  if (dir < 0)
    return dir;
  if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
    return -errno;
  /* chown before chmod: chown clears set-id bits. Neither follows a symlink
   * (should the name be swapped for one meanwhile): a node cannot be opened
   * for fchmod without side effects. */
  if (mknodat(dir, name, mode, dev) < 0 ||
      fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
      fchmodat(dir, name, mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  return 0;
}

static int op_write_file(const char *path, uint64_t mode, const char *data, size_t len)
{
  const char *name;
  autoclose int dir = open_parent(path, &name);
  if (dir < 0)
    return dir;
  autoclose int fd = in_root(path, O_WRONLY | O_CREAT | O_TRUNC, mode & 07777);
  if (fd < 0)
    return fd;
  for (size_t off = 0; off < len;) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno != EINTR)
      return -errno;
    if (n > 0)
      off += n;
  }
  return fchmod(fd, mode & 07777) < 0 ? -errno : 0; /* the file may have existed */
}

static int op_mkdir(const char *path, uint64_t mode)
{
  autoclose int made = mkdir_p(path, strlen(path));
  if (made < 0)
    return made;
  autoclose int fd = in_root(path, O_RDONLY | O_DIRECTORY, 0); /* fchmod refuses O_PATH fds */
  if (fd < 0)
    return fd;
  return fchmod(fd, mode & 07777) < 0 ? -errno : 0;
}

/*
 * CVE-2024-21626: a cwd outside the root. chdir follows magic links such as
 * /proc/self/fd/N, so an fd to a host directory that is still open in I (a
 * leaked one is only close-on-exec) would leave the process standing on the
 * host after execve. getcwd(2) tells: a cwd the root cannot reach comes back
 * as "(unreachable)/...", not as a path. (The raw syscall: glibc's getcwd
 * turns that into ENOENT.) Such a cwd is EXDEV.
 */
static int cwd_in_root(void)
{
  char buf[PATH_MAX];
  if (syscall(SYS_getcwd, buf, sizeof buf) < 0)
    return -errno;
  return buf[0] == '/' ? 0 : -EXDEV;
}

/* After the root changed: "in root" paths are the new "/" from now on. */
static int root_changed(void)
{
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return -errno;
  close(rootfd);
  rootfd = root;
  root_dir = NULL;
  return 0;
}

/* chdir into the root that CTC_OP_ROOTFS mounted. */
static int enter_root_dir(void)
{
  if (!root_dir)
    return -EINVAL;
  autoclose int fd = open(root_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == EACCES)
    return fchdir(rootfd) < 0 ? -errno : 0; /* bound through an fd (bind_root_early): rootfd is its root */
  return fd < 0 || fchdir(fd) < 0 ? -errno : 0;
}

static int op_pivot(void)
{
  int r = enter_root_dir();
  if (r < 0)
    return r;
  /* pivot_root(".", ".") stacks the old root on top of the new one; detaching
   * it leaves only the new root, and no directory for the old root is needed. */
  if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    return -errno;
  if ((r = cwd_in_root()) < 0)
    return r;
  return root_changed();
}

static int op_move_root(void)
{
  int r = enter_root_dir();
  if (r < 0)
    return r;
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
    return -errno;
  if ((r = cwd_in_root()) < 0)
    return r;
  return root_changed();
}

static int op_pdeathsig(uint64_t sig)
{
  if (sig == 0 || sig > 64)
    return -EINVAL;
  return prctl(PR_SET_PDEATHSIG, (unsigned long)sig) < 0 ? -errno : 0;
}

static int op_hostname(const char *name)
{
  return sethostname(name, strlen(name)) < 0 ? -errno : 0;
}

/* setgroups, setgid, setuid, with keepcaps around them when asked. */
/* /proc/self/setgroups says "deny" (read before /proc is the container's, or after: both are ours). */
static int setgroups_denied(void)
{
  char buf[8] = {0};
  autoclose int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  return fd >= 0 && read(fd, buf, sizeof buf - 1) > 0 && strncmp(buf, "deny", 4) == 0;
}

static int switch_user(uid_t uid, gid_t gid, const gid_t *groups, size_t n, uint64_t keepcaps)
{
  if (keepcaps > 1)
    return -EINVAL;
  /* Without keepcaps, setuid from 0 to non-0 empties the permitted set, and
   * CTC_OP_CAPS could not give anything back. */
  if (keepcaps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return -errno;
  /* Groups and gid first: after setuid to non-root we may no longer change them.
   * In a user namespace whose gid map was written without newgidmap, the
   * kernel denies setgroups (EPERM) for good; an empty list then asks for
   * nothing that can be had, and is skipped (runc does the same). */
  if (setgroups(n, groups) < 0 && !(n == 0 && errno == EPERM && setgroups_denied()))
    return -errno;
  if (setgid(gid) < 0 || setuid(uid) < 0)
    return -errno;
  /* Cleared as soon as it has done its job, as runc does (execve would too). */
  return keepcaps && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? -errno : 0;
}

static int op_user(uint64_t uid, uint64_t gid, const char *groups, size_t len, uint64_t keepcaps)
{
  if (len % 4 || len / 4 > NGROUPS_MAX)
    return -EINVAL;
  gid_t list[NGROUPS_MAX];
  size_t n = len / 4;
  for (size_t i = 0; i < n; i++)
    memcpy(&list[i], groups + 4 * i, 4);
  return switch_user((uid_t)uid, (gid_t)gid, list, n, keepcaps);
}

/* A whole small file of the container's, NUL-terminated; NULL (errno set) if it cannot be read. */
static char *read_in_root(const char *path)
{
  autoclose int fd = in_root(path, O_RDONLY, 0);
  if (fd < 0) {
    errno = -fd;
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap + 1);
  for (ssize_t n; buf && len < cap && (n = read(fd, buf + len, cap - len)) != 0; len += n > 0 ? (size_t)n : 0)
    if (n < 0 && errno != EINTR) {
      free(buf);
      return NULL;
    }
  if (buf)
    buf[len] = '\0';
  return buf;
}

/* Field k (0-based) of a colon-separated line, copied into out. */
static int field(const char *line, int k, char *out, size_t size)
{
  for (; k > 0 && line; k--)
    line = strchr(line, ':') ? strchr(line, ':') + 1 : NULL;
  if (!line)
    return -1;
  size_t n = strcspn(line, ":\n");
  if (n >= size)
    return -1;
  memcpy(out, line, n);
  out[n] = '\0';
  return 0;
}

static int parse_id(const char *text, unsigned long *id)
{
  char *end;
  errno = 0;
  *id = strtoul(text, &end, 10);
  return errno || end == text || *end ? -1 : 0;
}

/* Whether name is in a comma-separated member list. */
static int is_member(const char *members, const char *name)
{
  size_t len = strlen(name);
  for (const char *p = members; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
    if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
      return 1;
  }
  return 0;
}

/* The user by name, from the container's own /etc/passwd and /etc/group,
 * read now: the plan does not depend on what the image holds. */
static int op_user_name(const char *name, uint64_t keepcaps)
{
  char *passwd = read_in_root("/etc/passwd");
  if (!passwd)
    return -errno;
  unsigned long uid = 0, gid = 0;
  int found = 0;
  char buf[256];
  for (char *line = passwd; line && *line && !found; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (field(line, 0, buf, sizeof buf) < 0 || strcmp(buf, name) != 0)
      continue;
    found = field(line, 2, buf, sizeof buf) == 0 && parse_id(buf, &uid) == 0 && field(line, 3, buf, sizeof buf) == 0 &&
            parse_id(buf, &gid) == 0;
    if (!found)
      break;
  }
  free(passwd);
  if (!found)
    return -ESRCH; /* no such user in the container */
  gid_t groups[NGROUPS_MAX];
  size_t n = 0;
  char *group = read_in_root("/etc/group"); /* an image without one: no extra groups */
  char members[4096];
  for (char *line = group; line && *line && n < NGROUPS_MAX; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    unsigned long g;
    if (field(line, 2, buf, sizeof buf) == 0 && parse_id(buf, &g) == 0 && g != gid &&
        field(line, 3, members, sizeof members) == 0 && is_member(members, name))
      groups[n++] = (gid_t)g;
  }
  free(group);
  return switch_user((uid_t)uid, (gid_t)gid, groups, n, keepcaps);
}

/*
 * A file of the container's procfs, opened for a write that must reach the
 * kernel (CVE-2025-52881: runc's writes to /proc could be redirected by
 * mounts the container made, to a file of its choosing or to another /proc
 * file such as /proc/sys/kernel/core_pattern). The root's /proc must be the
 * root of a procfs (f_type PROC_SUPER_MAGIC, inode 1), and rel is resolved
 * beneath it without crossing any mount (a bind over /proc/sys or over the
 * file itself), magic link or '..' out of it; the file must be on a procfs
 * too. Any of that otherwise: EXDEV.
 */
static int proc_open(const char *rel, int flags)
{
  autoclose int proc = in_root("/proc", O_PATH | O_DIRECTORY, 0);
  if (proc < 0)
    return proc;
  struct statfs sfs;
  struct stat st;
  if (fstatfs(proc, &sfs) < 0 || fstat(proc, &st) < 0)
    return -errno;
  if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO)
    return -EXDEV;
  struct open_how how = {
      .flags = (uint64_t)flags | O_CLOEXEC | O_NOCTTY,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
  };
  long fd;
  do
    fd = syscall(SYS_openat2, proc, rel, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  if (fd < 0)
    return -errno;
  int err = fstatfs((int)fd, &sfs) < 0 ? errno : sfs.f_type != PROC_SUPER_MAGIC ? EXDEV : 0;
  if (err) {
    close((int)fd);
    return -err;
  }
  return (int)fd;
}

/* A namespaced kernel parameter: net.ipv4.ip_forward is /proc/sys/net/ipv4/ip_forward (the container's /proc). */
static int op_sysctl(const char *key, const char *value)
{
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "sys/%s", key);
  if (n < 0 || (size_t)n >= sizeof path)
    return -ENAMETOOLONG;
  for (char *p = path + strlen("sys/"); *p; p++)
    if (*p == '.')
      *p = '/';
  autoclose int fd = proc_open(path, O_WRONLY);
  if (fd < 0)
    return fd;
  return write(fd, value, strlen(value)) < 0 ? -errno : 0;
}

/* The LSM label the process takes at execve: /proc/thread-self/attr/<attr>
 * ("thread-self" is a plain symlink within procfs, not a magic link). */
static int op_lsm_exec(const char *attr, const char *value)
{
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "thread-self/attr/%s", attr) >= (int)sizeof path)
    return -ENAMETOOLONG;
  autoclose int fd = proc_open(path, O_WRONLY);
  if (fd < 0)
    return fd;
  return write(fd, value, strlen(value)) < 0 ? -errno : 0;
}

/* The filter is the last thing before execve: every syscall after it must pass it. */
static int op_seccomp(uint64_t flags, const char *program, size_t len)
{
  if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return -EINVAL;
  struct sock_filter *insns = malloc(len); /* the blob is not aligned in the program body */
  if (!insns)
    return -ENOMEM;
  memcpy(insns, program, len);
  struct sock_fprog prog = {.len = (unsigned short)(len / sizeof *insns), .filter = insns};
  int r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned int)flags, &prog) < 0 ? -errno : 0;
  free(insns);
  return r;
}

static int op_chdir(const char *dir)
{
  if (chdir(dir) < 0)
    return -errno;
  return cwd_in_root();
}

/* A LIST's strings (list_ok checked them) as a NULL-terminated vector of pointers into the program. */
static char **split_list(const char *p, size_t len)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += !p[i];
  char **v = calloc(n + 1, sizeof *v);
  for (size_t i = 0, k = 0; v && i < len; i += strlen(p + i) + 1)
    v[k++] = (char *)(p + i);
  return v;
}

/* The PATH of the container's environment, or execvp's default. */
static const char *path_of(char **envp)
{
  for (char **e = envp; *e; e++)
    if (!strncmp(*e, "PATH=", 5))
      return *e + 5;
  return DEFAULT_PATH;
}

/* buf = the PATH entry [dir, end) joined with file (an empty entry is the
 * cwd, as for execvp); 0 when it does not fit. */
static int path_join(char buf[PATH_MAX], const char *dir, const char *end, const char *file)
{
  int n = end == dir ? snprintf(buf, PATH_MAX, "%s", file)
                     : snprintf(buf, PATH_MAX, "%.*s/%s", (int)(end - dir), dir, file);
  return n > 0 && n < PATH_MAX;
}

/* execvpe(), but with the PATH from the container's environment. */
static int exec_search(char **argv, char **envp)
{
  const char *file = argv[0];
  if (!*file)
    return -ENOENT;
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return -errno;
  }
  int err = ENOENT;
  for (const char *dir = path_of(envp), *end;; dir = end + 1) {
    end = strchrnul(dir, ':');
    char buf[PATH_MAX];
    if (path_join(buf, dir, end, file)) {
      execve(buf, argv, envp);
      /* Like execvp: "not here" errors move on; a file that exists but
       * cannot run (EACCES) is the better answer than ENOENT. */
      if (errno == EACCES)
        err = EACCES;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ESTALE &&
               errno != ENODEV && errno != ETIMEDOUT)
        return -errno;
    }
    if (!*end)
      break;
  }
  return -err;
}

/* -errno if the file at path cannot be the program: missing (ENOENT and its
 * like), a directory or without x for this uid (EACCES); 0 if it can, or if
 * the check itself was refused (a seccomp filter's errno): execve decides. */
static int runnable(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0 || faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
    return errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == ENAMETOOLONG || errno == EACCES ? -errno : 0;
  return S_ISDIR(st.st_mode) ? -EACCES : 0;
}

/*
 * Whether CTC_OP_EXEC would find its program, looked up as exec_search will
 * (file, with the PATH of env when it has no slash):
 * `ctc create` fails on a missing or non-executable command, as runc's does
 * (it looks the command up before it waits for start), so that orchestrators
 * see the error (podman: exit 127 or 126) instead of a process exiting 127
 * after a start that succeeded. A name that no PATH entry holds runnable is
 * ENOENT, as for runc ("executable file not found in $PATH").
 */
static int findable(const char *file, char **env)
{
  if (!*file)
    return -ENOENT;
  if (strchr(file, '/'))
    return runnable(file);
  for (const char *dir = path_of(env), *end;; dir = end + 1) {
    end = strchrnul(dir, ':');
    char buf[PATH_MAX];
    if (path_join(buf, dir, end, file) && runnable(buf) == 0)
      return 0;
    if (!*end)
      return -ENOENT;
  }
}

static int exec_findable(const struct op *o)
{
  char **argv = split_list(o->a[0].p, o->a[0].len), **env = split_list(o->a[1].p, o->a[1].len);
  int r = argv && env ? findable(argv[0] ? argv[0] : "", env) : -ENOMEM;
  free(argv);
  free(env);
  return r;
}

static int op_exec(uint32_t step, const char *argp, size_t argl, const char *envp, size_t envl)
{
  char **argv = split_list(argp, argl), **env = split_list(envp, envl);
  if (!argv || !env)
    return -ENOMEM;
  if (!argv[0])
    return -EINVAL;
  report(CTC_MSG_EXEC, step, 0);
  /* M ignored the terminal signals and I inherited that; SIG_IGN and the mask
   * survive execve, the container's process must not start with them. */
  for (int sig = 1; sig < NSIG; sig++)
    signal(sig, SIG_DFL); /* SIGKILL, SIGSTOP and glibc's own fail harmlessly */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  umask(exec_umask);
  return exec_search(argv, env);
}

/* ---- process security ----------------------------------------------------- */

static int op_caps_bounding(uint64_t keep)
{
  /* PR_CAPBSET_READ is EINVAL past the kernel's last capability: that finds
   * cap_last_cap without /proc, which may be unmounted (or the container's)
   * by now. Capabilities already gone are left alone: dropping needs
   * CAP_SETPCAP even when it changes nothing. */
  for (int cap = 0; cap < 64; cap++) {
    int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in < 0)
      return errno == EINVAL ? 0 : -errno;
    if (in && !(keep >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return -errno;
  }
  return 0;
}

static int op_caps(uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb)
{
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {
      {.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
      {.effective = eff >> 32, .permitted = perm >> 32, .inheritable = inh >> 32},
  };
  if (syscall(SYS_capset, &hdr, data) < 0)
    return -errno;
  /* Only ambient capabilities survive execve for a non-root uid (no file
   * capabilities are involved); each must be permitted and inheritable,
   * which the capset above has just made so. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return -errno;
  for (int cap = 0; cap < 64; cap++)
    if (amb >> cap & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return -errno;
  return 0;
}

static int op_rlimit(uint64_t resource, uint64_t soft, uint64_t hard)
{
  if (resource >= RLIM_NLIMITS)
    return -EINVAL;
  /* The wire's UINT64_MAX is RLIM_INFINITY, which is the same value for a
   * 64-bit rlim_t; spelled out so that stays true on purpose. */
  struct rlimit rl = {
      .rlim_cur = soft == UINT64_MAX ? RLIM_INFINITY : soft,
      .rlim_max = hard == UINT64_MAX ? RLIM_INFINITY : hard,
  };
  return setrlimit((__rlimit_resource_t)resource, &rl) < 0 ? -errno : 0;
}

static int op_no_new_privs(void)
{
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

static int op_umask(uint64_t mask)
{
  exec_umask = mask & 0777; /* init ops keep umask 0: their modes are exact */
  return 0;
}

static int op_mask(const char *path)
{
  autoclose int fd = in_root(path, O_PATH, 0);
  if (fd == -ENOENT)
    return 0;
  if (fd < 0)
    return fd;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  if (S_ISDIR(st.st_mode))
    return mount_on(fd, "tmpfs", "tmpfs", MS_RDONLY, "size=0,mode=555");
  /* The root's /dev/null must be the real one: an image (or a racing
   * process) that makes it a symlink to, say, a /proc/sys file would get
   * that file bound over the masked path (CVE-2025-31133 in runc). */
  autoclose int null = in_root("/dev/null", O_PATH, 0);
  if (null < 0)
    return null;
  if (fstat(null, &st) < 0)
    return -errno;
  if (!S_ISCHR(st.st_mode) || st.st_rdev != (dev_t)makedev(1, 3))
    return -ENODEV;
  char src[32];
  snprintf(src, sizeof src, "/proc/self/fd/%d", null);
  return mount_on(fd, src, NULL, MS_BIND, NULL);
}

static int op_readonly(const char *path)
{
  autoclose int fd = in_root(path, O_PATH, 0);
  if (fd == -ENOENT)
    return 0;
  if (fd < 0)
    return fd;
  struct statvfs vfs;
  if (fstatvfs(fd, &vfs) < 0)
    return -errno;
  char self[32];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  int r = mount_on(fd, self, NULL, MS_BIND | MS_REC, NULL);
  if (r < 0)
    return r;
  /* A bind ignores MS_RDONLY; only a remount of the new mount applies it. */
  return mount_in_root(path, NULL, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(&vfs),
                       NULL);
}

static int op_domainname(const char *name)
{
  return setdomainname(name, strlen(name)) < 0 ? -errno : 0;
}

/* ---- lifecycle: create/start, terminals ------------------------------------ */

static int fifo_fd = -1;      /* CTC_OP_FIFO_OPEN, for CTC_OP_WAIT_START */
static int console_fd = -1;   /* CTC_OP_CONSOLE_CONNECT, for CTC_OP_PTY */
static int console_chan = -1; /* I's end of M's console channel (CTC_OP_M_CONSOLE_PROXY) */

static int op_fifo_open(const char *path)
{
  /* Node cannot make fifos, so the fifo is made here (owner-only: only root
   * may start the container); an existing one is used as it is. */
  if (mkfifo(path, 0600) < 0 && errno != EEXIST)
    return -errno;
  /* O_RDWR: a read-only open of a fifo blocks until there is a writer, and
   * being a writer ourselves means the read in CTC_OP_WAIT_START sees no EOF. */
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  int err = fstat(fd, &st) < 0 ? errno : S_ISFIFO(st.st_mode) ? 0 : EINVAL;
  if (err) {
    close(fd);
    return -err;
  }
  if (fifo_fd >= 0)
    close(fifo_fd);
  fifo_fd = fd;
  return 0;
}

static int op_wait_start(uint32_t step)
{
  if (fifo_fd < 0)
    return -EBADF;
  int missing = exec_op ? exec_findable(exec_op) : 0;
  if (missing < 0)
    return missing;
  report(CTC_MSG_WAITING, step, 0);
  /* `ctc create` returns now: from here on the executor may be gone, and
   * the container must still start (or fail) on its own. */
  executor_may_be_gone = 1;
  char byte;
  ssize_t n;
  do
    n = read(fifo_fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  int r = n == 1 ? 0 : n == 0 ? -ECANCELED : -errno;
  close(fifo_fd);
  fifo_fd = -1;
  return r;
}

static int op_console_connect(const char *path)
{
  int fd = pty_connect(path);
  if (fd < 0)
    return fd;
  if (console_fd >= 0)
    close(console_fd);
  console_fd = fd;
  return 0;
}

/* Set when the program joins a running container (CTC_OP_M_JOIN, `ctc exec`). */
static int joined;

static int op_pty(uint64_t rows, uint64_t cols)
{
  /* An exec'd process shares the container's mounts: /dev/console stays the init's. */
  int r = pty_open(rows, cols, console_fd >= 0 ? console_fd : console_chan, !joined);
  if (r < 0)
    return r;
  /* The master has gone out; nothing more is sent on either. */
  if (console_fd >= 0)
    close(console_fd);
  if (console_chan >= 0)
    close(console_chan);
  console_fd = console_chan = -1;
  return 0;
}

/* ---- network ------------------------------------------------------------- */

static int op_net_addr(const char *ifname, uint64_t family, const char *addr, size_t len,
                       uint64_t prefix)
{
  if ((family != AF_INET && family != AF_INET6) || len != nl_addr_size((int)family) || prefix > len * 8)
    return -EINVAL;
  return nl_addr_add(ifname, (int)family, addr, (unsigned)prefix);
}

/* An address BLOB of a route: empty (*out = NULL) or one address of size bytes. */
static int route_addr(const struct arg *a, size_t size, const void **out)
{
  *out = a->len ? a->p : NULL;
  return a->len == 0 || a->len == size ? 0 : -EINVAL;
}

static int op_net_route(uint64_t family, const struct arg *dst, uint64_t dst_len,
                        const struct arg *gateway, const struct arg *prefsrc, const char *ifname)
{
  if (family != AF_INET && family != AF_INET6)
    return -EINVAL;
  size_t size = nl_addr_size((int)family);
  struct nl_route rt = {.family = (int)family, .ifname = ifname};
  if (dst_len > size * 8 || route_addr(dst, size, &rt.dst) < 0 ||
      route_addr(gateway, size, &rt.gateway) < 0 || route_addr(prefsrc, size, &rt.prefsrc) < 0)
    return -EINVAL;
  rt.dst_len = (unsigned)dst_len;
  return nl_route_add(&rt);
}

static int op_setns(const char *path, uint64_t nstype)
{
  const uint64_t kinds = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID |
                         CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME;
  /* One kind, named: with 0 setns joins whatever the path turns out to be. */
  if (!nstype || (nstype & (nstype - 1)) || !(nstype & kinds))
    return -EINVAL;
  autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat theirs, ours;
  /* Joining the user namespace one is in is EINVAL to the kernel; it is
   * nothing to do (a config may name the host's). */
  if (nstype == CLONE_NEWUSER && fstat(fd, &theirs) == 0 && stat("/proc/self/ns/user", &ours) == 0 &&
      theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
    return 0;
  if (setns(fd, (int)nstype) < 0)
    return -errno;
  if (nstype != CLONE_NEWNS)
    return 0;
  /* The kernel has moved our root and cwd to the joined namespace's "/";
   * "in root" paths follow it. */
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return -errno;
  close(rootfd);
  rootfd = root;
  return 0;
}

#define S(k) (o->a[k].p)
#define U(k) (o->a[k].u)
#define LEN(k) (o->a[k].len)

static int run_op(const struct op *o)
{
  switch (o->code) {
  case CTC_OP_UNSHARE: return op_unshare(U(0));
  case CTC_OP_PROPAGATION: return op_propagation(S(0), U(1));
  case CTC_OP_LINK_UP: return op_link_up(S(0));
  case CTC_OP_ROOTFS: return op_rootfs(S(0), U(1));
  case CTC_OP_MIRROR: return op_mirror(S(0), S(1));
  case CTC_OP_MOUNT: return op_mount(S(0), S(1), S(2), U(3), S(4), U(5));
  case CTC_OP_MKNOD: return op_mknod(S(0), U(1), U(2), U(3), U(4));
  case CTC_OP_SYMLINK: return op_symlink(S(0), S(1));
  case CTC_OP_WRITE_FILE: return op_write_file(S(0), U(1), S(2), LEN(2));
  case CTC_OP_MKDIR: return op_mkdir(S(0), U(1));
  case CTC_OP_PIVOT: return op_pivot();
  case CTC_OP_HOSTNAME: return op_hostname(S(0));
  case CTC_OP_USER: return op_user(U(0), U(1), S(2), LEN(2), U(3));
  case CTC_OP_CHDIR: return op_chdir(S(0));
  case CTC_OP_EXEC: return op_exec(o->step, S(0), LEN(0), S(1), LEN(1));
  case CTC_OP_CAPS_BOUNDING: return op_caps_bounding(U(0));
  case CTC_OP_CAPS: return op_caps(U(0), U(1), U(2), U(3));
  case CTC_OP_RLIMIT: return op_rlimit(U(0), U(1), U(2));
  case CTC_OP_NO_NEW_PRIVS: return op_no_new_privs();
  case CTC_OP_UMASK: return op_umask(U(0));
  case CTC_OP_MASK: return op_mask(S(0));
  case CTC_OP_READONLY: return op_readonly(S(0));
  case CTC_OP_DOMAINNAME: return op_domainname(S(0));
  case CTC_OP_FIFO_OPEN: return op_fifo_open(S(0));
  case CTC_OP_WAIT_START: return op_wait_start(o->step);
  case CTC_OP_CONSOLE_CONNECT: return op_console_connect(S(0));
  case CTC_OP_PTY: return op_pty(U(0), U(1));
  case CTC_OP_MOVE_ROOT: return op_move_root();
  case CTC_OP_PDEATHSIG: return op_pdeathsig(U(0));
  case CTC_OP_SYSCTL: return op_sysctl(S(0), S(1));
  case CTC_OP_USER_NAME: return op_user_name(S(0), U(1));
  case CTC_OP_LSM_EXEC: return op_lsm_exec(S(0), S(1));
  case CTC_OP_SECCOMP: return op_seccomp(U(0), S(1), LEN(1));
  case CTC_OP_NET_ADDR: return op_net_addr(S(0), U(1), S(2), LEN(2), U(3));
  case CTC_OP_NET_ROUTE: return op_net_route(U(0), &o->a[1], U(2), &o->a[3], &o->a[4], S(5));
  case CTC_OP_SETNS: return op_setns(S(0), U(1));
  case CTC_OP_ROOTFS_OVERLAY: return op_rootfs_overlay(S(0), S(1));
  }
  return -EINVAL; /* unreachable: read_program knows every op */
}

/* ---- I: the container's init --------------------------------------------- */

__attribute__((noreturn)) static void init_main(const struct program *prog)
{
  /* Its own session, as runc's init and exec'd processes: criu dumps only a
   * tree whose session leader is inside its pid namespace, and a terminal
   * (CTC_OP_PTY) needs a session leader. I is never a group leader (M is). */
  if (setsid() < 0)
    _exit(1);
  /* Modes in the program are exact; the umask comes back just before execve. */
  exec_umask = umask(0);
  joined = prog->join != NULL;
  /* Opened here, after the clone: with CLONE_NEWNS this is our copy of "/". */
  rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    _exit(1);
  open_lowers(prog->ops, prog->h.nops); /* still host root's uid: see open_lowers */

  uint32_t i = 0, fail = prog->h.fail_step;
  for (;;) {
    struct ctc_wire_cmd cmd;
    if (read_full(CTL_FD, &cmd, sizeof cmd) < 0)
      _exit(1); /* the executor is gone */
    if (cmd.type != CTC_CMD_GO) {
      dprintf(STDERR_FILENO, "ctc-init: bad command %u\n", cmd.type);
      _exit(2);
    }
    for (; i < prog->h.nops && (!cmd.until || prog->ops[i].step < cmd.until); i++) {
      const struct op *o = &prog->ops[i];
      if (IS_MONITOR_OP(o->code))
        continue; /* M's, done before the clone */
      int joined_by_m = o == prog->user_join || o == prog->pid_join;
      int r = fail && o->step == fail ? -EIO : joined_by_m ? 0 : run_op(o);
      if (r < 0) {
        report(CTC_MSG_ERR, o->step, -r);
        _exit(o->code == CTC_OP_EXEC ? 127 : 1);
      }
      report(CTC_MSG_ACK, o->step, 0);
    }
    if (!cmd.until)
      _exit(0); /* the program had no CTC_OP_EXEC: done */
    report(CTC_MSG_PAUSED, cmd.until, 0);
  }
}

/* ---- M: the monitor ------------------------------------------------------ */

/* The monitor ops in their fixed order (wire.h), whatever the program's. */
static int prepare(const struct program *prog, struct monitor *m)
{
  const struct op *o;
  int r = 0;
  if ((o = prog->detach))
    r = m_detach(S(0), U(1), m);
  if (!r && (o = prog->console))
    r = op_console_connect(S(0)); /* I inherits console_fd */
  if (!r && (o = prog->join))
    r = m_join(U(0), U(1), NULL, NULL);
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
  if (pid == 0) {
    console_chan = m_leave(&m);
    init_main(&prog);
  }
  if (console_fd >= 0)
    close(console_fd); /* I's now (CTC_OP_M_CONSOLE_CONNECT) */
  return m_run(&m, pid, h->spawn_step);
}
