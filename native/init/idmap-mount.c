/*
 * idmap-mount.c: the host's part of an idmapped bind, a one-shot mode.
 *
 * ctc-init idmap-mount PID ROOT SRC DST ATTRS RECURSIVE: bind SRC at DST
 * beneath ROOT (a host path, as the init's mount namespace has it) in the
 * mount namespace of PID, through the mapping of PID's user namespace
 * (MOUNT_ATTR_IDMAP) plus ATTRS (MOUNT_ATTR_RDONLY, NOSUID, NODEV, NOEXEC
 * bits). Only a process privileged over the source's filesystem (the host's
 * root) may idmap it, so the executor does this, not the init. DST is
 * resolved in root and created as for CTC_OP_MOUNT. Exit status: 0 or the
 * errno, with a line on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctc-init.h"
#include "program.h"

static int idmap_fail(const char *what)
{
  int err = errno ? errno : EINVAL;
  dprintf(STDERR_FILENO, "ctc-init: idmap-mount: %s: %s\n", what, strerror(err));
  return err;
}

int idmap_mount_main(char **argv)
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
  if (root_open(argv[2], NULL) < 0)
    return idmap_fail(argv[2]);
  struct stat st, root;
  if (fstat(tree, &st) < 0 || fstat(root_fd(), &root) < 0)
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
