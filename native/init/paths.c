/*
 * paths.c: paths "in root". Every path an op names in the container is
 * resolved beneath the current root directory fd with openat2
 * (RESOLVE_IN_ROOT), never joined as a string, so a symlink in an image
 * cannot point a mount or a write at the host. The root itself changes
 * only through root_open and root_use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctc-init.h"
#include "program.h"

static int rootfd = -1;      /* the current root, for "in root" paths */
static const char *root_dir; /* host path of CTC_OP_ROOTFS, for CTC_OP_PIVOT */

int root_fd(void)
{
  return rootfd;
}

const char *root_path(void)
{
  return root_dir;
}

void root_use(int fd, const char *dir)
{
  if (rootfd >= 0)
    close(rootfd);
  rootfd = fd;
  root_dir = dir;
}

int root_open(const char *path, const char *dir)
{
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  root_use(fd, dir);
  return 0;
}

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
static int relink(int dir, const char *name, const char *path, size_t prefix_len, const char *rest, size_t rest_len, char *out,
                  size_t size)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat(dir, name, target, sizeof target - 1);
  if (n < 0)
    return errno == EINVAL ? -EEXIST : -errno;
  target[n] = 0;
  int m = target[0] == '/' ? snprintf(out, size, "%s%.*s", target, (int)rest_len, rest)
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
        int n = links >= MAX_LINKS ? -ELOOP : relink(dir, name, path, i, path + j, len - j, next, sizeof next);
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

int mkdir_p(const char *path, size_t len)
{
  return mkdir_p_links(path, len, 0);
}

/* The parent directory of an in-root path (created as needed); *name is the last component. */
int open_parent(const char *path, const char **name)
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
  int n = links >= MAX_LINKS ? -ELOOP : relink(dir, name, path, (size_t)(name - path), "", 0, next, sizeof next);
  return n < 0 ? n : mount_target_links(next, 0, links + 1);
}

/* An O_PATH fd on an in-root mount target, created if missing: a 0755
 * directory, or an empty 0644 file to bind a non-directory onto. */
int mount_target(const char *path, int is_dir)
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
int mount_on(int fd, const char *src, const char *fstype, unsigned long flags, const char *data)
{
  char target[32];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  return mount(src, target, fstype, flags, data) < 0 ? -errno : 0;
}

/* For remounts and propagation: open dst only now, so the fd is the root of
 * the mount on it (the kernel acts only on a mount's root). */
int mount_in_root(const char *dst, const char *src, const char *fstype, unsigned long flags, const char *data)
{
  autoclose int fd = in_root(dst, O_PATH, 0);
  return fd < 0 ? fd : mount_on(fd, src, fstype, flags, data);
}
