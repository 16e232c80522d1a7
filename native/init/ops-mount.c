/*
 * ops-mount.c: I's filesystem ops: the root (a bind, a tmpfs or an
 * overlay), mounts and binds onto targets made in root, nodes, files and
 * directories, masked and read-only paths, and the pivot (or move) into
 * the new root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctc-init.h"
#include "program.h"

int op_propagation(const char *path, uint64_t flags)
{
  return mount(NULL, path, NULL, flags, NULL) < 0 ? -errno : 0;
}

/* dir, just mounted, is the root for later "in root" paths and the pivot. */
static int set_root(const char *dir)
{
  return root_open(dir, dir); /* after the mount: its root */
}

static int bind_root_early(const char *dir);

int op_rootfs(const char *dir, uint64_t kind)
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
 * The image cache is root's alone (0700, executor/host/image-unpack.ts): once a
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

void open_lowers(const struct op *ops, size_t n)
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
  root_use(tree, dir);
  return 0;
}

/* The lower dir as the overlay mount names it: the fd opened at the clone, if any (closed after). */
int op_rootfs_overlay(const char *dir, const char *lower)
{
  static char root[PATH_MAX], data[3 * PATH_MAX + 64];
  char via_fd[64];
  if (strpbrk(dir, ",:") || strpbrk(lower, ",:"))
    return -EINVAL;
  if (snprintf(root, sizeof root, "%s/root", dir) >= (int)sizeof root)
    return -ENAMETOOLONG;
  autoclose int lower_fd = -1;
  snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work",
           lower_name(lower, via_fd, sizeof via_fd, &lower_fd), dir, dir);
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

int op_symlink(const char *target, const char *path)
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

int op_mirror(const char *host, const char *dst)
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
#define BIND_REMOUNT_FLAGS                                                                                                       \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

int op_mount(const char *src, const char *dst, const char *fstype, uint64_t flags, const char *data, uint64_t prop)
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

int op_mknod(const char *path, uint64_t mode, uint64_t dev, uint64_t uid, uint64_t gid)
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
  if (mknodat(dir, name, mode, dev) < 0 || fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
      fchmodat(dir, name, mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  return 0;
}

int op_write_file(const char *path, uint64_t mode, const char *data, size_t len)
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

int op_mkdir(const char *path, uint64_t mode)
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
int cwd_in_root(void)
{
  char buf[PATH_MAX];
  if (syscall(SYS_getcwd, buf, sizeof buf) < 0)
    return -errno;
  return buf[0] == '/' ? 0 : -EXDEV;
}

/* After the root changed: "in root" paths are the new "/" from now on. */
static int root_changed(void)
{
  return root_open("/", NULL);
}

/* chdir into the root that CTC_OP_ROOTFS mounted. */
static int enter_root_dir(void)
{
  if (!root_path())
    return -EINVAL;
  autoclose int fd = open(root_path(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == EACCES)
    return fchdir(root_fd()) < 0 ? -errno : 0; /* bound through an fd (bind_root_early): rootfd is its root */
  return fd < 0 || fchdir(fd) < 0 ? -errno : 0;
}

int op_pivot(void)
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

int op_move_root(void)
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

int op_mask(const char *path)
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

int op_readonly(const char *path)
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
  return mount_in_root(path, NULL, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(&vfs), NULL);
}
