/*
 * ops-process.c: I's ops on the process itself: its death signal, user and
 * groups (by number, or by name from the container's own /etc/passwd and
 * /etc/group), cwd, rlimits, umask, and finally the exec, with the PATH of
 * the container's environment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctc-init.h"
#include "program.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static mode_t exec_umask; /* the container's process gets it (CTC_OP_UMASK) */

void hold_umask(void)
{
  exec_umask = umask(0);
}

int op_umask(uint64_t mask)
{
  exec_umask = mask & 0777; /* init ops keep umask 0: their modes are exact */
  return 0;
}

int op_pdeathsig(uint64_t sig)
{
  if (sig == 0 || sig > 64)
    return -EINVAL;
  return prctl(PR_SET_PDEATHSIG, (unsigned long)sig) < 0 ? -errno : 0;
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
  log_chown(uid, gid);
  if (setgid(gid) < 0 || setuid(uid) < 0)
    return -errno;
  /* Cleared as soon as it has done its job, as runc does (execve would too). */
  return keepcaps && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ? -errno : 0;
}

int op_user(uint64_t uid, uint64_t gid, const char *groups, size_t len, uint64_t keepcaps)
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
int op_user_name(const char *name, uint64_t keepcaps)
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

int op_rlimit(uint64_t resource, uint64_t soft, uint64_t hard)
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

int op_chdir(const char *dir)
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
  int n = end == dir ? snprintf(buf, PATH_MAX, "%s", file) : snprintf(buf, PATH_MAX, "%.*s/%s", (int)(end - dir), dir, file);
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
      else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != ESTALE && errno != ENODEV && errno != ETIMEDOUT)
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

int exec_findable(const struct op *o)
{
  char **argv = split_list(o->a[0].p, o->a[0].len), **env = split_list(o->a[1].p, o->a[1].len);
  int r = argv && env ? findable(argv[0] ? argv[0] : "", env) : -ENOMEM;
  free(argv);
  free(env);
  return r;
}

int op_exec(uint32_t step, const char *argp, size_t argl, const char *envp, size_t envl)
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
