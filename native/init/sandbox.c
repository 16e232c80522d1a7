/*
 * sandbox.c: `ctc-init sandbox [OPTION...] -- PROGRAM [ARG...]`, the
 * one-shot mode that runs code from a project (the evaluation of a .ct.ts
 * module, compiler/frontend/sandbox.ts) where it can do nothing but compute.
 *
 *   --mirror PATH   a host file shown read-only at PATH in the sandbox's
 *                   otherwise empty root; the symlinks on the way to it are
 *                   mirrored too (the dynamic loader opens /lib/…, which is
 *                   /usr/lib/… on a merged-/usr host). Repeatable.
 *   --filter HEX    the seccomp program (struct sock_filter[], in hex)
 *   --seconds N     wall clock: the sandbox is killed after N seconds
 *   --cpu N         RLIMIT_CPU, seconds
 *   --data-mib N    RLIMIT_DATA
 *   --no-namespaces the last fallback below, at once (for its tests)
 *
 * P (this process) opens PROGRAM, then clones G into new user, mount, pid,
 * network, ipc, uts and cgroup namespaces. P maps one id in G's user
 * namespace: nobody (65534) when P is root, the caller's own uid otherwise,
 * so what G does on the host it does as that unprivileged uid. G makes a
 * tmpfs root holding only the mirrored files, pivots into it, drops its
 * supplementary groups and capabilities, sets the rlimits, no_new_privs and
 * the filter, and execs PROGRAM from the fd opened before (EXEC_FD). The
 * filter allows execveat on that fd number alone; RLIMIT_NOFILE is set to
 * that number, so once the exec closed it (O_CLOEXEC) no fd can have it again.
 *
 * G has an empty environment, no /proc, /sys or /dev, no network interface
 * but a down loopback, and dies with P (PR_SET_PDEATHSIG). Its stdio is P's:
 * the caller gives pipes, never a terminal (TIOCSTI).
 *
 * Where the kernel refuses a user namespace (a sysctl, a container's
 * seccomp profile), P as root clones the other namespaces and G drops to
 * nobody once its root is built; as another user, G gets no namespaces.
 * Where the mounts are refused (no CAP_SYS_ADMIN, an LSM such as Ubuntu's
 * restriction of unprivileged user namespaces), Landlock stands in for the
 * new root: G may read and run only the mirrored files and PROGRAM, and
 * (Landlock ABI 6) signal nothing outside. With neither, it is refused.
 *
 * Exit status: G's; 128+N if signal N killed it; SANDBOX_TIMEOUT when the
 * wall clock ran out; SANDBOX_FAILED with a line on stderr ("ctc-init:
 * sandbox: <what>: <strerror>") when the sandbox could not be made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctc-init.h"

#define SANDBOX_FAILED 125
#define SANDBOX_TIMEOUT 124
/* compiler/frontend/sandbox-policy.ts allows execveat on this fd only */
#define EXEC_FD 63
#define NOBODY 65534
/* where the new root is built, in G's own mount namespace */
#define NEW_ROOT "/tmp"
#define MAX_OPS 512
#define MAX_LINKS 40

enum op_kind { OP_DIR, OP_LINK, OP_FILE };

struct op {
  enum op_kind kind;
  char path[PATH_MAX];
  char link[PATH_MAX]; /* OP_LINK: the symlink's text */
  int fd;              /* OP_FILE: O_PATH of the host file, opened in G's mount namespace */
};

struct sandbox {
  struct op *ops;
  int nops;
  const char *filter_hex;
  long seconds, cpu, data_mib;
  char **argv;
  int exec_fd;
  int no_namespaces;
};

static int fail(const char *what)
{
  dprintf(STDERR_FILENO, "ctc-init: sandbox: %s: %s\n", what, strerror(errno));
  return SANDBOX_FAILED;
}

/* ---- the mirror: host paths → the ops that rebuild them under NEW_ROOT ---- */

static int known(const struct sandbox *s, const char *path)
{
  for (int k = 0; k < s->nops; k++)
    if (!strcmp(s->ops[k].path, path))
      return 1;
  return 0;
}

static struct op *add_op(struct sandbox *s, enum op_kind kind, const char *path)
{
  if (s->nops == MAX_OPS) {
    errno = E2BIG;
    return NULL;
  }
  struct op *o = &s->ops[s->nops++];
  *o = (struct op){.kind = kind, .fd = -1};
  snprintf(o->path, sizeof o->path, "%s", path);
  return o;
}

/* Appends component name (not "." or "..") or drops the last one, in place. */
static void step_to(char *path, const char *name, size_t len)
{
  if (len == 1 && name[0] == '.')
    return;
  if (len == 2 && name[0] == '.' && name[1] == '.') {
    char *slash = strrchr(path, '/');
    if (slash)
      *slash = '\0';
    return;
  }
  size_t n = strlen(path);
  if (n + 1 + len < PATH_MAX)
    snprintf(path + n, PATH_MAX - n, "/%.*s", (int)len, name);
}

/* Mirrors the absolute host path `path`: each directory, each symlink (and
 * then what it points at), and the regular file at its end. */
static int mirror(struct sandbox *s, const char *path, int links)
{
  if (links > MAX_LINKS) {
    errno = ELOOP;
    return -1;
  }
  char cur[PATH_MAX] = "";
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    size_t len = strcspn(p, "/");
    if (!len)
      break;
    const char *rest = p + len;
    step_to(cur, p, len);
    p = rest;
    if (!*cur || known(s, cur))
      continue;
    struct stat st;
    if (lstat(cur, &st) < 0)
      return -1;
    if (S_ISLNK(st.st_mode)) {
      struct op *o = add_op(s, OP_LINK, cur);
      if (!o)
        return -1;
      ssize_t n = readlink(cur, o->link, sizeof o->link - 1);
      if (n < 0)
        return -1;
      o->link[n] = '\0';
      /* follow it: its target, from the link's folder, then the rest */
      char next[PATH_MAX * 2];
      if (o->link[0] == '/')
        snprintf(next, sizeof next, "%s%s", o->link, rest);
      else
        snprintf(next, sizeof next, "%.*s/%s%s", (int)(strrchr(cur, '/') - cur), cur, o->link, rest);
      char norm[PATH_MAX] = "";
      for (const char *q = next; *q;) {
        while (*q == '/')
          q++;
        size_t l = strcspn(q, "/");
        if (l)
          step_to(norm, q, l);
        q += l;
      }
      return mirror(s, *norm ? norm : "/", links + 1);
    }
    if (S_ISDIR(st.st_mode) && *rest) {
      if (!add_op(s, OP_DIR, cur))
        return -1;
    } else if (S_ISREG(st.st_mode) && !*rest) {
      if (!add_op(s, OP_FILE, cur))
        return -1;
    } else {
      errno = EINVAL; /* a device, a socket, or a file in the middle of a path */
      return -1;
    }
  }
  return 0;
}

/* ---- in G: the root, the identity, the limits ---- */

/* Why the new root could not be made: said only if no Landlock stands in. */
static char root_error[PATH_MAX + 128];

static int note(const char *what)
{
  snprintf(root_error, sizeof root_error, "%s: %s", what, strerror(errno));
  return SANDBOX_FAILED;
}

/* MS_* flags a read-only remount of a bind must keep (the kernel locks them
 * on mounts a user namespace inherited). */
static unsigned long kept_flags(const char *path)
{
  struct statvfs v;
  if (statvfs(path, &v) < 0)
    return 0;
  unsigned long f = 0;
  if (v.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (v.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (v.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (v.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

static int build_root(struct sandbox *s)
{
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return note("making the mounts private");
  /* before NEW_ROOT hides anything under it; a bind's source must be a mount of this namespace */
  for (int k = 0; k < s->nops; k++)
    if (s->ops[k].kind == OP_FILE && (s->ops[k].fd = open(s->ops[k].path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
      return note(s->ops[k].path);
  if (mount("tmpfs", NEW_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755") < 0)
    return note("mounting the new root");
  for (int k = 0; k < s->nops; k++) {
    struct op *o = &s->ops[k];
    char at[PATH_MAX + sizeof NEW_ROOT];
    snprintf(at, sizeof at, NEW_ROOT "%s", o->path);
    if (o->kind == OP_DIR && mkdir(at, 0755) < 0 && errno != EEXIST)
      return note(o->path);
    if (o->kind == OP_LINK && symlink(o->link, at) < 0 && errno != EEXIST)
      return note(o->path);
    if (o->kind != OP_FILE)
      continue;
    int fd = open(at, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);
    if (fd < 0)
      return note(o->path);
    close(fd);
    char from[64];
    snprintf(from, sizeof from, "/proc/self/fd/%d", o->fd);
    if (mount(from, at, NULL, MS_BIND, NULL) < 0)
      return note(o->path);
    unsigned long ro = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | kept_flags(at);
    if (mount(NULL, at, NULL, ro, NULL) < 0)
      return note(o->path);
    close(o->fd);
  }
  if (chdir(NEW_ROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
    return note("pivot_root");
  if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    return note("detaching the host's root");
  if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
    return note("making the new root read-only");
  return 0;
}

/* Takes the one mapped uid and gid, with no supplementary groups. G keeps its
 * capabilities in its user namespace (its old uid was not that namespace's
 * root), which building the root needs; drop_caps() ends them. */
static int become(uid_t uid, gid_t gid, int root)
{
  if (root && setgroups(0, NULL) < 0)
    return fail("setgroups");
  if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
    return fail("taking the sandbox's uid");
  return 0;
}

/* While G may still: nothing it execs can get a capability back. */
static int drop_bounding(void)
{
  for (int cap = 0; cap <= 63; cap++)
    /* EPERM: no CAP_SETPCAP, so nothing to drop with, and no_new_privs
     * keeps such a process from gaining any at exec */
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
      return fail("dropping the bounding set");
  return 0;
}

static int drop_caps(void)
{
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct {
    uint32_t version;
    int pid;
  } head = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
  uint32_t none[6] = {0};
  if (syscall(SYS_capset, &head, none) < 0)
    return fail("dropping capabilities");
  return 0;
}

static int limit(int resource, rlim_t soft, rlim_t hard, const char *what)
{
  struct rlimit r = {soft, hard};
  return setrlimit(resource, &r) < 0 ? fail(what) : 0;
}

static int set_limits(const struct sandbox *s)
{
  int r = 0;
  if (s->cpu > 0)
    r = r ? r : limit(RLIMIT_CPU, (rlim_t)s->cpu, (rlim_t)s->cpu + 1, "RLIMIT_CPU");
  if (s->data_mib > 0)
    r = r ? r : limit(RLIMIT_DATA, (rlim_t)s->data_mib << 20, (rlim_t)s->data_mib << 20, "RLIMIT_DATA");
  r = r ? r : limit(RLIMIT_FSIZE, 0, 0, "RLIMIT_FSIZE");
  r = r ? r : limit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
  /* last: fds from EXEC_FD up can never be opened again */
  return r ? r : limit(RLIMIT_NOFILE, EXEC_FD, EXEC_FD, "RLIMIT_NOFILE");
}

static int hexval(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int load_filter(const char *hex)
{
  size_t n = strlen(hex);
  if (n == 0 || n % (2 * sizeof(struct sock_filter))) {
    errno = EINVAL;
    return fail("the seccomp program");
  }
  unsigned char *bytes = malloc(n / 2);
  for (size_t k = 0; k < n / 2; k++) {
    int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);
    if (!bytes || hi < 0 || lo < 0) {
      free(bytes);
      errno = EINVAL;
      return fail("the seccomp program");
    }
    bytes[k] = (unsigned char)(hi << 4 | lo);
  }
  struct sock_fprog prog = {.len = (unsigned short)(n / 2 / sizeof(struct sock_filter)), .filter = (struct sock_filter *)bytes};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return fail("no_new_privs");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
    return fail("loading the seccomp filter");
  return 0;
}

/* ---- Landlock: the filesystem layer where no new root could be made ---- */

/* linux/landlock.h, as of ABI 6 (the build host's headers may be older) */
struct ll_ruleset_attr {
  uint64_t handled_access_fs, handled_access_net, scoped;
};
struct ll_path_beneath {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));
#define LL_RULE_PATH_BENEATH 1
#define LL_CREATE_RULESET_VERSION 1
#define LL_FS_EXECUTE 1ULL
#define LL_FS_READ_FILE 4ULL
#define LL_SCOPE_ALL 3ULL /* abstract unix sockets, signals */

/* The access rights ABI abi knows: all of them are handled (denied unless allowed). */
static uint64_t ll_fs_rights(long abi)
{
  uint64_t all = (1ULL << 13) - 1; /* ABI 1: EXECUTE … MAKE_SYM */
  if (abi >= 2)
    all |= 1ULL << 13; /* REFER */
  if (abi >= 3)
    all |= 1ULL << 14; /* TRUNCATE */
  if (abi >= 5)
    all |= 1ULL << 15; /* IOCTL_DEV */
  return all;
}

static int ll_allow(int ruleset, const char *path, uint64_t access)
{
  struct ll_path_beneath rule = {.allowed_access = access, .parent_fd = open(path, O_PATH | O_CLOEXEC)};
  if (rule.parent_fd < 0)
    return -1;
  int r = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0);
  close(rule.parent_fd);
  return r;
}

/* Only the mirrored files may be read, and only PROGRAM run; with ABI 6, no
 * signal or abstract socket leaves the sandbox. -1 with errno if the kernel
 * has no Landlock. */
static int landlock(const struct sandbox *s)
{
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  if (abi < 1)
    return -1;
  struct ll_ruleset_attr attr = {.handled_access_fs = ll_fs_rights(abi), .handled_access_net = 3 /* bind, connect TCP */};
  size_t size = sizeof attr.handled_access_fs;
  if (abi >= 4)
    size += sizeof attr.handled_access_net;
  if (abi >= 6) {
    attr.scoped = LL_SCOPE_ALL;
    size += sizeof attr.scoped;
  }
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0)
    return -1;
  int r = ll_allow(ruleset, s->argv[0], LL_FS_EXECUTE | LL_FS_READ_FILE);
  for (int k = 0; !r && k < s->nops; k++)
    if (s->ops[k].kind == OP_FILE)
      r = ll_allow(ruleset, s->ops[k].path, LL_FS_READ_FILE | LL_FS_EXECUTE);
  if (!r)
    r = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (!r)
    r = (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
  close(ruleset);
  return r;
}

/* How G is isolated: P falls back to the next when the kernel refuses one. */
enum mode {
  NS_USER, /* every namespace, a user namespace mapping one unprivileged id */
  NS_ROOT, /* no user namespace (refused), P is root: the others, then nobody */
  NS_NONE, /* no namespaces: Landlock for the filesystem */
};

static int child(struct sandbox *s, int sync, enum mode mode, uid_t uid, gid_t gid, int root)
{
  char c;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || read(sync, &c, 1) != 1)
    _exit(SANDBOX_FAILED); /* P is gone, or could not map our ids (it said why) */
  close(sync);
  int r = mode == NS_USER ? become(uid, gid, root) : 0;
  /* where the mounts are refused (no CAP_SYS_ADMIN, an LSM), Landlock stands in */
  int isolated = !r && mode != NS_NONE && build_root(s) == 0;
  r = r ? r : drop_bounding();
  if (!r && mode != NS_USER && root)
    r = become(NOBODY, NOBODY, 1);
  r = r ? r : drop_caps();
  if (!r && !isolated && landlock(s) < 0) {
    dprintf(STDERR_FILENO, "ctc-init: sandbox: no filesystem isolation: %s; and no Landlock (%s)\n",
            *root_error ? root_error : "no mount namespace", strerror(errno));
    r = SANDBOX_FAILED;
  }
  if (!r && dup3(s->exec_fd, EXEC_FD, O_CLOEXEC) < 0)
    r = fail("the program's fd");
  if (!r && (syscall(SYS_close_range, 3, EXEC_FD - 1, 0) < 0 || syscall(SYS_close_range, EXEC_FD + 1, ~0U, 0) < 0))
    r = fail("closing inherited fds");
  r = r ? r : set_limits(s);
  r = r ? r : load_filter(s->filter_hex);
  if (r)
    _exit(r);
  char *envp[] = {NULL};
  syscall(SYS_execveat, EXEC_FD, "", s->argv, envp, AT_EMPTY_PATH);
  _exit(fail("exec"));
}

/* ---- in P: the maps, the clock, the status ---- */

static int write_file(pid_t pid, const char *name, const char *text)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int map_ids(pid_t pid, uid_t uid, gid_t gid, int root)
{
  char line[64];
  /* an unprivileged writer must deny setgroups before it may map a gid */
  if (!root && write_file(pid, "setgroups", "deny") < 0)
    return -1;
  snprintf(line, sizeof line, "%u %u 1\n", uid, root ? uid : getuid());
  if (write_file(pid, "uid_map", line) < 0)
    return -1;
  snprintf(line, sizeof line, "%u %u 1\n", gid, root ? gid : getgid());
  return write_file(pid, "gid_map", line);
}

static volatile sig_atomic_t expired;
static void on_alarm(int sig)
{
  (void)sig;
  expired = 1;
}

static int wait_for(pid_t pid, long seconds)
{
  struct sigaction sa = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL); /* the caller's own timeout: take G along */
  if (seconds > 0)
    alarm((unsigned)seconds);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return fail("waiting for the sandbox");
    if (expired)
      kill(pid, SIGKILL); /* G is pid 1 of its namespace: everything in it goes */
  }
  if (expired)
    return SANDBOX_TIMEOUT;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int parse(struct sandbox *s, int argc, char **argv)
{
  for (int k = 0; k < argc; k++) {
    const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
    if (!strcmp(a, "--no-namespaces")) {
      s->no_namespaces = 1;
      continue;
    }
    if (!strcmp(a, "--")) {
      s->argv = argv + k + 1;
      return s->argv[0] ? 0 : -1;
    }
    if (!v)
      return -1;
    k++;
    if (!strcmp(a, "--mirror")) {
      if (v[0] != '/' || mirror(s, v, 0) < 0)
        return fail(v);
    } else if (!strcmp(a, "--filter"))
      s->filter_hex = v;
    else if (!strcmp(a, "--seconds"))
      s->seconds = atol(v);
    else if (!strcmp(a, "--cpu"))
      s->cpu = atol(v);
    else if (!strcmp(a, "--data-mib"))
      s->data_mib = atol(v);
    else
      return -1;
  }
  return -1;
}

int sandbox_main(int argc, char **argv)
{
  static struct op ops[MAX_OPS];
  struct sandbox s = {.ops = ops, .exec_fd = -1};
  int r = parse(&s, argc, argv);
  if (r || !s.filter_hex) {
    if (r != SANDBOX_FAILED)
      dprintf(STDERR_FILENO, "usage: ctc-init sandbox [--mirror PATH]... --filter HEX [--seconds N] [--cpu N] [--data-mib N] "
                             "[--no-namespaces] -- PROGRAM [ARG...]\n");
    return SANDBOX_FAILED;
  }
  if ((s.exec_fd = open(s.argv[0], O_RDONLY | O_CLOEXEC)) < 0)
    return fail(s.argv[0]);
  int root = geteuid() == 0;
  uid_t uid = root ? NOBODY : geteuid();
  gid_t gid = root ? NOBODY : getegid();
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0)
    return fail("pipe");
  const unsigned long others = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  enum mode mode = s.no_namespaces ? NS_NONE : NS_USER;
  pid_t pid = -1;
  for (;; mode++) {
    unsigned long flags = mode == NS_USER ? CLONE_NEWUSER | others : mode == NS_ROOT ? others : 0;
    if (mode == NS_ROOT && !root)
      continue;
    /* fork-like: no new stack, the child returns here; we are single-threaded */
    pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    /* EPERM, ENOSPC, EUSERS, EINVAL: namespaces disabled here (sysctl, seccomp of a container) */
    if (pid >= 0 || mode == NS_NONE)
      break;
  }
  if (pid < 0)
    return fail("clone");
  if (pid == 0) {
    close(sync[1]);
    child(&s, sync[0], mode, uid, gid, root);
  }
  close(sync[0]);
  if (mode == NS_USER && map_ids(pid, uid, gid, root) < 0) {
    r = fail("mapping the sandbox's ids");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return r;
  }
  if (write(sync[1], "g", 1) != 1)
    return fail("starting the sandbox");
  close(sync[1]);
  return wait_for(pid, s.seconds);
}
