/*
 * security.c: what the container's process may do: its capabilities
 * (bounding, then the sets and ambient), no_new_privs, the seccomp filter
 * and the LSM label it takes at execve; and the writes to the container's
 * procfs (the label, sysctls), which must reach the kernel and nothing else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctc-init.h"
#include "program.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0 /* linux/magic.h */
#endif
#define PROC_ROOT_INO 1 /* the root directory of every procfs instance */

int op_caps_bounding(uint64_t keep)
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

int op_caps(uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb)
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

int op_no_new_privs(void)
{
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
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
int op_sysctl(const char *key, const char *value)
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
int op_lsm_exec(const char *attr, const char *value)
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
int op_seccomp(uint64_t flags, const char *program, size_t len)
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
